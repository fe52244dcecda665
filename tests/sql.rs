//! `xos sql`: the golden query of every dialect, quoting and refusal of
//! unsafe names, through the binary. The queries are run for real in
//! DuckDB, PostgreSQL and Spark by `tests/sql_engines.rs`; the golden
//! queries below are parsed by sqlglot there too.

mod common;

use common::{stderr, stdout, xos};

const GOLDEN: &str = "tests/fixtures/sql/golden.xos";

const DIALECTS: [&str; 6] = [
    "duckdb",
    "postgres",
    "bigquery",
    "snowflake",
    "trino",
    "spark",
];

#[test]
fn golden_query_of_every_dialect() {
    for dialect in DIALECTS {
        let table = match dialect {
            "bigquery" => "my-project.analytics.events",
            _ => "analytics.\"events.v2\"",
        };
        let out = xos(&["sql", GOLDEN, "--dialect", dialect, "--table", table]);
        assert!(out.status.success(), "{dialect}: {}", stderr(&out));
        insta::assert_snapshot!(format!("golden_{dialect}"), stdout(&out));
    }
}

#[test]
fn aggregated_spec_without_missing_zero_guards_every_statistic() {
    let out = xos(&[
        "sql",
        "tests/fixtures/sql/strict.xos",
        "--dialect",
        "postgres",
        "--table",
        "events",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    insta::assert_snapshot!("golden_strict_postgres", stdout(&out));
}

#[test]
fn spec_names_are_never_spliced_unquoted() {
    let out = xos(&["sql", GOLDEN, "--dialect", "postgres", "--table", "t"]);
    let sql = stdout(&out);
    // The unit id column tries to close the identifier and start a statement.
    assert!(sql.contains(r#"t."user""; DROP TABLE events; --" AS unit"#));
    assert!(!sql.contains(r#""user";"#));
    let out = xos(&["sql", GOLDEN, "--dialect", "spark", "--table", "t"]);
    assert!(stdout(&out).contains("t.`user\"; DROP TABLE events; --` AS unit"));
}

#[test]
fn table_names_are_quoted_part_by_part() {
    let out = xos(&[
        "sql",
        GOLDEN,
        "--dialect",
        "trino",
        "--table",
        "hive.\"my\"\"schema\".events",
    ]);
    assert!(stdout(&out).contains(r#"FROM "hive"."my""schema"."events" AS t"#));
    // BigQuery's own backticked path, and padded parts, are refused, not
    // quoted into a table that does not exist.
    for bad in [
        "a..b",
        "\"open",
        "a.b.c.d",
        "",
        "x\"y",
        "`my-project.analytics.events`",
        " a . b ",
    ] {
        let out = xos(&["sql", GOLDEN, "--dialect", "duckdb", "--table", bad]);
        assert_eq!(out.status.code(), Some(1), "{bad:?}");
        assert!(stderr(&out).contains("xos::sql::bad_table"), "{bad:?}");
        assert!(stdout(&out).is_empty(), "{bad:?}: no query on an error");
    }
    let out = xos(&["sql", GOLDEN, "--dialect", "duckdb", "--table", "a\u{1}b"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("U+0001"), "{}", stderr(&out));
}

/// Writes `spec` as `NAME.xos` in a temporary folder and runs `xos sql` on
/// it for `dialect`.
fn sql_of(name: &str, spec: &str, dialect: &str) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{name}.xos"));
    std::fs::write(&path, spec).unwrap();
    let path = path.to_str().unwrap();
    xos(&["sql", path, "--dialect", dialect, "--table", "t"])
}

/// A spec whose unit id column is `unit_id`, as written between quotes.
fn with_unit_id(unit_id: &str) -> String {
    format!(
        "experiment names {{\n    data \"e.csv\" {{ shape rows unit_id \"{unit_id}\" }}\n    \
         variants {{ control 50% treatment 50% }}\n    primary conversion = rate(converted)\n}}\n"
    )
}

#[test]
fn a_name_that_cannot_be_quoted_is_a_located_error() {
    let out = sql_of("tab", &with_unit_id("user\\tid"), "snowflake");
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("xos::sql::unquotable"), "{err}");
    assert!(err.contains("tab.xos:2:"), "located at the name: {err}");
    assert!(err.contains("U+0009"), "{err}");
    assert!(stdout(&out).is_empty());

    // PostgreSQL keeps 63 bytes of a name; a longer one would be truncated.
    let long = with_unit_id(&"x".repeat(64));
    let out = sql_of("long", &long, "postgres");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("64 bytes long"), "{}", stderr(&out));
    assert!(
        sql_of("long", &long, "duckdb").status.success(),
        "DuckDB keeps long names"
    );

    // BigQuery reads a dot inside backticks as a path.
    let out = sql_of("dotted", &with_unit_id("user.id"), "bigquery");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("path separator"), "{}", stderr(&out));
    assert!(
        sql_of("dotted", &with_unit_id("user.id"), "spark")
            .status
            .success()
    );
}

#[test]
fn an_unknown_dialect_is_a_usage_error() {
    let out = xos(&["sql", GOLDEN, "--dialect", "mysql", "--table", "t"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("possible values"), "{}", stderr(&out));
}

#[test]
fn an_invalid_spec_prints_its_diagnostics_and_no_query() {
    let out = sql_of(
        "bad",
        "experiment bad {\n    variants { control 50% }\n}\n",
        "duckdb",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).is_empty());
    assert!(stderr(&out).contains("bad.xos"), "{}", stderr(&out));
}

/// Runs `xos` with `input` on its standard input.
fn xos_stdin(args: &[&str], input: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_xos"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run xos");
    // xos may refuse before it reads its input: a closed pipe is no error.
    let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
    child.wait_with_output().unwrap()
}

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", stderr(out));
    serde_json::from_slice(&out.stdout).expect("a JSON report")
}

#[test]
fn data_dash_reads_standard_input() {
    let spec = "examples/checkout/checkout.xos";
    let csv = std::fs::read_to_string("examples/checkout/checkout.csv").unwrap();
    let piped = json(&xos_stdin(
        &["run", spec, "--data", "-", "--format", "json"],
        &csv,
    ));
    let mut from_file = json(&xos(&["run", spec, "--format", "json"]));
    assert_eq!(piped["settings"]["data"], "-");
    from_file["settings"]["data"] = "-".into();
    assert_eq!(piped, from_file);
}

#[test]
fn data_dash_diagnostics_name_stdin_with_line_and_column() {
    let out = xos_stdin(
        &[
            "run",
            "examples/checkout/checkout.xos",
            "--data",
            "-",
            "--format",
            "json",
        ],
        "variant,users,conversions,guardrail_cancel,guardrail_error,revenue_sum,revenue_sum_sq\n\
         control,10000,,120,35,250000,15000000\n\
         treatment,10050,1320,118,33,280000,17000000\n",
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("<stdin>:2:15"), "{err}");
    assert!(err.contains("found an empty cell"), "{err}");
    assert!(
        err.contains("missing zero"),
        "the help names the likely cause: {err}"
    );
    assert!(
        !err.contains("/tmp"),
        "the spooled file is never shown: {err}"
    );
    assert!(stdout(&out).is_empty());
}

/// A per-unit file and, by hand, the aggregated CSV `xos sql` yields for it.
const ROWS_SPEC: &str = "experiment both_shapes {
    data \"rows.csv\" { shape rows unit_id \"user_id\" missing zero }
    variants { control 50% treatment 50% }
    primary conversion = rate(converted)
    metric revenue = mean(revenue)
}
";

fn rows_csv() -> String {
    // 300 units per arm; u0 is in both arms (mixed), u1 on two rows of
    // control (duplicated); one empty revenue counts as 0.
    let mut csv = String::from("user_id,variant,converted,revenue\n");
    for i in 0..600 {
        let variant = if i % 2 == 0 { "control" } else { "treatment" };
        let converted = u32::from(i % 7 == 0);
        let revenue = if i == 10 {
            String::new()
        } else {
            format!("{}.5", i % 13)
        };
        csv.push_str(&format!("u{i},{variant},{converted},{revenue}\n"));
    }
    csv.push_str("u0,treatment,0,0\nu1,treatment,1,2\nu2,control,0,1\n");
    csv
}

fn aggregated_csv(rows: &str, with_distinct: bool) -> String {
    let mut units = [0u64; 2];
    let mut converted = [0u64; 2];
    let mut sums = [(0f64, 0f64); 2];
    let mut seen: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    for line in rows.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let v = usize::from(f[1] == "treatment");
        units[v] += 1;
        converted[v] += f[2].parse::<u64>().unwrap();
        let x: f64 = if f[3].is_empty() {
            0.0
        } else {
            f[3].parse().unwrap()
        };
        sums[v].0 += x;
        sums[v].1 += x * x;
        seen.entry(f[0]).or_default().push(v);
    }
    let distinct = seen.len();
    let mixed = seen
        .values()
        .filter(|v| v.contains(&0) && v.contains(&1))
        .count();
    let duplicated = seen
        .values()
        .filter(|v| {
            v.iter().filter(|&&x| x == 0).count() > 1 || v.iter().filter(|&&x| x == 1).count() > 1
        })
        .count();
    // Every count on the control row, as the query puts each unit on its
    // smallest variant's row (here all in control), zero on treatment's.
    let mut csv = String::from("variant,users,converted,revenue_sum,revenue_sum_sq,");
    csv.push_str(if with_distinct {
        "units_distinct,units_mixed,units_duplicated\n"
    } else {
        "units_mixed,units_duplicated\n"
    });
    for (v, name) in ["control", "treatment"].iter().enumerate() {
        let counts = if v == 0 {
            (distinct, mixed, duplicated)
        } else {
            (0, 0, 0)
        };
        csv.push_str(&format!(
            "{name},{},{},{:?},{:?},",
            units[v], converted[v], sums[v].0, sums[v].1
        ));
        if with_distinct {
            csv.push_str(&format!("{},", counts.0));
        }
        csv.push_str(&format!("{},{}\n", counts.1, counts.2));
    }
    csv
}

#[test]
fn a_rows_spec_reads_an_aggregated_file_by_its_header() {
    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("spec.xos");
    std::fs::write(&spec, ROWS_SPEC).unwrap();
    let rows = rows_csv();
    std::fs::write(dir.path().join("rows.csv"), &rows).unwrap();
    let agg = dir.path().join("agg.csv");
    std::fs::write(&agg, aggregated_csv(&rows, true)).unwrap();
    let spec = spec.to_str().unwrap();
    let row_report = json(&xos(&["run", spec, "--format", "json"]));
    let agg_path = agg.to_str().unwrap();
    let agg_report_now = || json(&xos(&["run", spec, "--data", agg_path, "--format", "json"]));
    let mut agg_report = agg_report_now();
    agg_report["settings"]["data"] = row_report["settings"]["data"].clone();
    // The same health issues, the row-level ones with example ids.
    let issues = row_report["health"]["issues"].as_array().unwrap();
    assert_eq!(issues.len(), 2, "{issues:?}");
    for (row, agg) in issues
        .iter()
        .zip(agg_report["health"]["issues"].as_array().unwrap())
    {
        let row = row["message"].as_str().unwrap();
        let agg = agg["message"].as_str().unwrap();
        assert!(
            row.starts_with(agg) && row[agg.len()..].starts_with(", for example `u"),
            "{row} / {agg}"
        );
    }
    agg_report["health"]["issues"] = row_report["health"]["issues"].clone();
    // Only the settings of the file read one row per unit say so.
    assert_eq!(row_report["settings"]["shape"], "rows");
    assert!(agg_report["settings"].get("shape").is_none());
    let mut row_report = row_report;
    if let Some(settings) = row_report["settings"].as_object_mut() {
        for key in ["shape", "unit_id", "missing", "missing_zeroed"] {
            settings.remove(key);
        }
    }
    assert_eq!(row_report, agg_report);

    // Without `units_distinct`, shares are of the units column's total.
    std::fs::write(&agg, aggregated_csv(&rows, false)).unwrap();
    let report = agg_report_now();
    let message = report["health"]["issues"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("1 of 603 units"), "{message}");
}

#[test]
fn assignment_counts_must_be_counts() {
    let out = xos_stdin(
        &["run", "examples/checkout/checkout.xos", "--data", "-"],
        "variant,users,conversions,guardrail_cancel,guardrail_error,revenue_sum,revenue_sum_sq,units_mixed\n\
         control,10000,1200,120,35,250000,15000000,-1\n\
         treatment,10050,1320,118,33,280000,17000000,0\n",
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("<stdin>:2:"), "{err}");
    assert!(
        err.contains("`units_mixed` must be a non-negative integer"),
        "{err}"
    );
}

#[test]
fn data_dash_with_a_folder_of_specs_is_refused() {
    let out = xos_stdin(&["run", "examples", "--data", "-"], "variant,users\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("xos::run::one_stdin"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
}

/// With `look`, the query of every dialect gives one row per look and
/// variant over every row up to the look, and a row with an empty look for
/// rows without one (which `xos run` then reports).
#[test]
fn per_look_query_of_every_dialect() {
    for dialect in DIALECTS {
        let out = xos(&[
            "sql",
            "tests/fixtures/sql/looks.xos",
            "--dialect",
            dialect,
            "--table",
            "events",
        ]);
        assert!(out.status.success(), "{dialect}: {}", stderr(&out));
        let sql = stdout(&out);
        let quote = if matches!(dialect, "bigquery" | "spark") {
            '`'
        } else {
            '"'
        };
        for needle in [
            format!("t.{quote}exposure date{quote} AS look"),
            "SELECT DISTINCT r.look FROM unit_rows AS r WHERE r.look IS NOT NULL".to_string(),
            format!("l.look AS {quote}exposure date{quote}"),
            "JOIN unit_rows AS r ON r.look <= l.look".to_string(),
            "GROUP BY l.look, r.variant".to_string(),
            format!("NULL AS {quote}exposure date{quote}"),
            "WHERE r.look IS NULL".to_string(),
            "ORDER BY 1, 2".to_string(),
        ] {
            assert!(sql.contains(&needle), "{dialect}: no {needle:?} in\n{sql}");
        }
        insta::assert_snapshot!(format!("looks_{dialect}"), sql);
    }
}

/// Result columns that would share a name are refused before any query is
/// printed: a unit id or a variant column named like the units column, two
/// statistics under one header.
#[test]
fn result_columns_never_share_a_name() {
    let dir = tempfile::tempdir().unwrap();
    for (data, metrics, wanted, line) in [
        (
            "shape rows unit_id \"users\"",
            "primary conversion = rate(conv)",
            "`unit_id \"users\"` is also the name of a result column",
            2,
        ),
        (
            "shape rows variant_column \"users\"",
            "primary conversion = rate(conv)",
            "the variant column and the units column are both `users`",
            2,
        ),
        (
            "shape rows unit_id \"uid\"",
            "primary conversion = rate(conv)\n    metric m = rate(units_mixed)",
            "`unit_id` (its assignment counts) needs a result column",
            5,
        ),
    ] {
        let spec = format!(
            "experiment clash {{\n    data \"rows.csv\" {{ {data} }}\n    \
             variants {{ control 50% treatment 50% }}\n    {metrics}\n}}\n"
        );
        let path = dir.path().join("s.xos");
        std::fs::write(&path, spec).unwrap();
        let out = xos(&[
            "sql",
            path.to_str().unwrap(),
            "--dialect",
            "duckdb",
            "--table",
            "t",
        ]);
        assert_eq!(out.status.code(), Some(1), "{data}");
        assert!(
            stderr(&out).contains("xos::sql::column_clash"),
            "{}",
            stderr(&out)
        );
        assert!(stderr(&out).contains(wanted), "{}", stderr(&out));
        // located at the name in the spec
        assert!(
            stderr(&out).contains(&format!("s.xos:{line}:")),
            "{}",
            stderr(&out)
        );
        assert!(stdout(&out).is_empty());
    }
}
