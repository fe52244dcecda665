//! Row-level data: one row per unit aggregated into the same sufficient
//! statistics as the aggregated export.

use std::io::Write;
use std::path::{Path, PathBuf};

mod common;

use common::Rng;
use proptest::prelude::*;
use xos::LoadOptions;
use xos::data::rows::{LISTED_BAD_ROWS, Split, load_rows, load_rows_with};
use xos::data::{self, Data, MetricData, VariantData};
use xos::diagnostic::{Diagnostics, SourceFile};
use xos::plan::{Plan, Shape};

/// A plan over `path` with the given variants and metrics (`rate(X)` or
/// `mean(X)`; the first is the primary), checked from a spec as `xos run`
/// would check it.
fn plan(path: &Path, shape: Shape, variants: &[&str], metrics: &[&str]) -> Plan {
    plan_with(path, shape, variants, metrics, "")
}

/// [`plan`] with more options in the `data` block (`unit_id user_id`,
/// `missing zero`).
fn plan_with(
    path: &Path,
    shape: Shape,
    variants: &[&str],
    metrics: &[&str],
    data_options: &str,
) -> Plan {
    let shape = match shape {
        Shape::Rows => "rows",
        Shape::Aggregated => "aggregated",
    };
    let mut spec = format!(
        "experiment rows_test {{\n    data \"data.csv\" {{ shape {shape} {data_options} }}\n"
    );
    let share = 100.0 / variants.len() as f64;
    let arms: Vec<String> = variants
        .iter()
        .map(|v| format!("{v} {share:.1}%"))
        .collect();
    spec += &format!("    variants {{ {} }}\n", arms.join(" "));
    for (i, form) in metrics.iter().enumerate() {
        let (_, column) = form
            .trim_end_matches(')')
            .split_once('(')
            .expect("metric form");
        let role = if i == 0 { "primary" } else { "metric" };
        spec += &format!("    {role} m{i}_{column} = {form}\n");
    }
    spec += "}\n";
    let source = SourceFile::new(path.with_extension("xos"), spec.clone());
    let options = LoadOptions {
        data_override: Some(path.to_path_buf()),
        allow_outside: false,
        folders: None,
    };
    match xos::check_source(&source, &options) {
        Ok(checked) => checked.plan,
        Err(diags) => panic!("{spec}{:?}", messages(&diags)),
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write test file");
    path
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).expect("gzip");
    encoder.finish().expect("gzip")
}

/// Every diagnostic as `line: message`.
fn messages(diags: &Diagnostics) -> Vec<String> {
    diags
        .iter()
        .map(|d| {
            let json = d.to_json();
            assert!(json.file.is_some(), "no file: {}", d.message);
            assert!(json.column.is_some(), "no column: {}", d.message);
            format!("{}: {}", json.line.unwrap_or(0), d.message)
        })
        .collect()
}

fn rows_error(text: &str, variants: &[&str], metrics: &[&str]) -> Vec<String> {
    rows_error_with(text, variants, metrics, "")
}

fn rows_error_with(
    text: &str,
    variants: &[&str],
    metrics: &[&str],
    data_options: &str,
) -> Vec<String> {
    match load_text(text.as_bytes(), variants, metrics, data_options) {
        Ok(data) => panic!("expected diagnostics, got {data:?}"),
        Err(diags) => messages(&diags),
    }
}

/// `bytes` written to a file and read as row-level data of a spec with
/// these variants, metrics and `data` options.
fn load_text(
    bytes: &[u8],
    variants: &[&str],
    metrics: &[&str],
    data_options: &str,
) -> Result<Data, Diagnostics> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "rows.csv", bytes);
    let plan = plan_with(&path, Shape::Rows, variants, metrics, data_options);
    load_rows(&plan, &path)
}

/// [`load_text`] of a `control` and `treatment` experiment with one
/// metric, `rate(conv)`.
fn load_conv(bytes: &[u8]) -> Result<Data, Diagnostics> {
    load_text(bytes, &["control", "treatment"], &["rate(conv)"], "")
}

const ARMS: [&str; 3] = ["control", "b", "c"];
const METRICS: [&str; 3] = ["rate(converted)", "mean(revenue)", "rate(refund)"];

/// Per arm: units, conversions, Σrevenue, Σrevenue², refunds.
type ArmSums = (u64, u64, f64, f64, u64);

/// A synthetic experiment as rows, and the sums it must aggregate to.
/// Revenues are multiples of 0.25, so every sum is exact in any order.
fn experiment(rows: usize, seed: u64) -> (String, Vec<ArmSums>) {
    let mut rng = Rng(seed);
    let mut text = String::from("user_id,variant,converted,revenue,refund\n");
    let mut sums: Vec<ArmSums> = vec![(0, 0, 0.0, 0.0, 0); ARMS.len()];
    for user in 0..rows {
        let arm = rng.below(3) as usize;
        let converted = (rng.below(100) < 12 + 2 * arm as u64) as u64;
        let revenue = if converted == 1 {
            rng.below(40_000) as f64 * 0.25
        } else {
            0.0
        };
        let refund = (rng.below(100) < 3) as u64;
        let shown = if rng.below(4) == 0 {
            "true".to_string()
        } else {
            converted.to_string()
        };
        let shown = if shown == "true" && converted == 0 {
            "false".to_string()
        } else {
            shown
        };
        text.push_str(&format!(
            "u{user},{},{shown},{revenue},{refund}\n",
            ARMS[arm]
        ));
        let s = &mut sums[arm];
        s.0 += 1;
        s.1 += converted;
        s.2 += revenue;
        s.3 += revenue * revenue;
        s.4 += refund;
    }
    (text, sums)
}

fn aggregated_csv(sums: &[ArmSums]) -> String {
    let mut text = String::from("variant,users,converted,revenue_sum,revenue_sum_sq,refund\n");
    for (arm, s) in ARMS.iter().zip(sums) {
        text.push_str(&format!("{arm},{},{},{},{},{}\n", s.0, s.1, s.2, s.3, s.4));
    }
    text
}

#[test]
fn rows_and_aggregates_give_identical_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (rows, sums) = experiment(20_000, 7);
    let aggregated = aggregated_csv(&sums);
    let rows_path = write(dir.path(), "rows.csv", rows.as_bytes());
    let agg_path = write(dir.path(), "agg.csv", aggregated.as_bytes());
    let from_rows = data::load(&plan(&rows_path, Shape::Rows, &ARMS, &METRICS)).expect("rows");
    let from_agg =
        data::load(&plan(&agg_path, Shape::Aggregated, &ARMS, &METRICS)).expect("aggregated");
    // The same statistics; only the row-level reader says what it saw.
    assert_eq!(from_rows.row_level, Some(data::RowLevel::default()));
    assert_eq!(from_agg.row_level, None);
    let statistics = |data: Data| Data {
        row_level: None,
        ..data
    };
    let from_rows = statistics(from_rows);
    assert_eq!(from_rows, from_agg);
    assert_eq!(from_rows.variants[0].name, "control");
    assert_eq!(from_rows.assignment, None);

    // The same through gzip, for both shapes.
    let rows_gz = write(dir.path(), "rows.csv.gz", &gzip(rows.as_bytes()));
    let agg_gz = write(dir.path(), "agg.csv.gz", &gzip(aggregated.as_bytes()));
    assert_eq!(
        statistics(data::load(&plan(&rows_gz, Shape::Rows, &ARMS, &METRICS)).expect("rows gz")),
        from_agg
    );
    assert_eq!(
        data::load(&plan(&agg_gz, Shape::Aggregated, &ARMS, &METRICS)).expect("agg gz"),
        from_agg
    );
}

#[test]
fn variants_come_out_in_the_plan_order_and_metrics_by_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        dir.path(),
        "rows.csv",
        b"variant,x,y\ntreatment,1,2.5\ncontrol,0,-1\ntreatment,1,0.5\n",
    );
    let plan = plan(
        &path,
        Shape::Rows,
        &["control", "treatment"],
        &["mean(y)", "rate(x)", "mean(x)"],
    );
    let data = load_rows(&plan, &path).expect("data");
    assert_eq!(
        data.variants,
        vec![
            VariantData {
                name: "control".into(),
                units: 1,
                metrics: vec![
                    MetricData::Mean {
                        sum: -1.0,
                        sum_sq: 1.0
                    },
                    MetricData::Rate { count: 0 },
                    MetricData::Mean {
                        sum: 0.0,
                        sum_sq: 0.0
                    },
                ],
            },
            VariantData {
                name: "treatment".into(),
                units: 2,
                metrics: vec![
                    MetricData::Mean {
                        sum: 3.0,
                        sum_sq: 6.5
                    },
                    MetricData::Rate { count: 2 },
                    MetricData::Mean {
                        sum: 2.0,
                        sum_sq: 2.0
                    },
                ],
            },
        ]
    );
}

/// An independent reference: the `csv` crate, one thread, plain sums (the
/// test values are exact in binary, so plain sums are exact too).
fn reference(text: &[u8], variants: &[&str], metrics: &[&str]) -> Data {
    // Flexible: a blank line is a record of one field.
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text);
    let headers = reader.headers().expect("headers").clone();
    let index = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .expect("column")
    };
    let mut out: Vec<VariantData> = variants
        .iter()
        .map(|v| VariantData {
            name: v.to_string(),
            units: 0,
            metrics: metrics
                .iter()
                .map(|m| {
                    if m.starts_with("rate") {
                        MetricData::Rate { count: 0 }
                    } else {
                        MetricData::Mean {
                            sum: 0.0,
                            sum_sq: 0.0,
                        }
                    }
                })
                .collect(),
        })
        .collect();
    for record in reader.records() {
        let record = record.expect("record");
        if record.len() == 1 && record[0].trim().is_empty() {
            continue;
        }
        let label = record[index("variant")].trim();
        let v = variants.iter().position(|n| *n == label).expect("label");
        out[v].units += 1;
        for (m, form) in metrics.iter().enumerate() {
            let column = form.trim_end_matches(')').split_once('(').expect("form").1;
            let text = record[index(column)].trim();
            match &mut out[v].metrics[m] {
                MetricData::Rate { count } => {
                    *count += u64::from(text == "1" || text.eq_ignore_ascii_case("true"))
                }
                MetricData::Mean { sum, sum_sq } => {
                    let x: f64 = text.parse().expect("number");
                    *sum += x;
                    *sum_sq += x * x;
                }
                // The reference reads `rate(X)` and `mean(X)` only; ratios
                // and covariates are checked in `tests/ratio_cuped.rs`.
                MetricData::Ratio { .. } | MetricData::Adjusted { .. } => {
                    unreachable!("not a form this reference reads")
                }
            }
        }
    }
    Data {
        variants: out,
        assignment: None,
        looks: Vec::new(),
        row_level: Some(data::RowLevel::default()),
    }
}

/// Loads `text` split into ranges of every size from 1 byte to the whole
/// file, with 1 to 3 threads and the smallest buffer, and checks each
/// against the reference.
fn check_every_split(text: &[u8], variants: &[&str], metrics: &[&str]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "rows.csv", text);
    let plan = plan(&path, Shape::Rows, variants, metrics);
    let expected = reference(text, variants, metrics);
    for range_bytes in 1..=text.len() as u64 + 1 {
        for threads in 1..=3 {
            let split = Split {
                threads,
                range_bytes,
                buffer_bytes: 1,
            };
            let data = load_rows_with(&plan, &path, split)
                .unwrap_or_else(|d| panic!("{range_bytes} bytes: {:?}", messages(&d)));
            assert_eq!(
                data, expected,
                "ranges of {range_bytes} bytes, {threads} threads"
            );
        }
    }
}

#[test]
fn every_split_point_gives_the_reference_result() {
    // Quoted fields (one holding a comma, in a column nobody reads), spaces,
    // `true`/`FALSE`, an exponent, a blank line.
    let text = "id,variant,conv,rev\n\
                1,control,1,12.5\n\
                22,treatment,0,0\n\
                \"3,33\",\"treatment\",true,\"15\"\n\
                4444, control ,FALSE,-3.25\n\
                \n\
                5,control,0,7\n\
                6,treatment,1,1e3\n";
    check_every_split(
        text.as_bytes(),
        &["control", "treatment"],
        &["rate(conv)", "mean(rev)"],
    );
}

#[test]
fn crlf_and_a_last_line_without_newline() {
    let text =
        "variant,conv,rev\r\ncontrol,1,2.5\r\ntreatment,0,0.25\r\n\r\ncontrol,0,4\r\ntreatment,1,8";
    check_every_split(
        text.as_bytes(),
        &["control", "treatment"],
        &["rate(conv)", "mean(rev)"],
    );
    check_every_split(
        b"variant,conv\ncontrol,1\ntreatment,0",
        &["control", "treatment"],
        &["rate(conv)"],
    );
}

/// docs/rows.md: blank lines are skipped, and a line of spaces and tabs is
/// blank, as in the aggregated reader.
#[test]
fn lines_of_spaces_and_tabs_are_blank() {
    let text =
        "variant,conv,rev\ncontrol,1,2.5\n   \ntreatment,0,0.25\n\t \r\n \ncontrol,0,4\n  \t";
    check_every_split(
        text.as_bytes(),
        &["control", "treatment"],
        &["rate(conv)", "mean(rev)"],
    );
    // Line numbers still count the blank lines.
    assert_eq!(
        rows_error(
            "variant,x\n  \ncontrol,1\n\t\ntreatment,2\n",
            &["control", "treatment"],
            &["rate(x)"]
        ),
        ["5: `x` on line 5 must be 0 or 1, found `2`"]
    );
    assert_eq!(
        rows_error(
            "variant,x\n \n\t\n",
            &["control", "treatment"],
            &["rate(x)"]
        ),
        ["1: the data file has a header but no rows"]
    );
}

/// Labels are trimmed inside quotes too: `" control"` in the file is the
/// spec's `control` (a spec cannot declare a padded name: check refuses it).
#[test]
fn quoted_labels_are_trimmed_inside_the_quotes() {
    let text = "variant,conv\n\" control\",1\n\"treatment \",0\n\"\tcontrol\",0\n";
    let data = load_conv(text.as_bytes()).expect("data");
    let units: Vec<u64> = data.variants.iter().map(|v| v.units).collect();
    assert_eq!(units, [2, 1]);
}

/// A file with CR-only (classic Mac OS) line endings is one error that
/// names them, at the end of the header's first line, whatever its size.
#[test]
fn cr_line_endings_are_named() {
    let small = "variant,conv\rcontrol,1\rtreatment,0\r".to_string();
    // Longer than the line-length limit: read as one line too long.
    let row = "control,1\r";
    let large = format!(
        "\u{feff}variant,conv\r{}",
        row.repeat((2 << 20) / row.len())
    );
    for text in [small, large] {
        let diags = load_conv(text.as_bytes()).expect_err("CR line endings");
        assert_eq!(
            messages(&diags),
            ["1: the file's lines end with a carriage return alone (CR line endings)"]
        );
        let json = diags.iter().next().expect("one").to_json();
        assert_eq!(json.column, Some(13), "after `variant,conv`");
        assert!(
            diags.iter().all(|d| d.code == "xos::data::line_endings"
                && d.help.as_deref().is_some_and(|h| h.contains("LF or CRLF"))),
            "{diags:?}"
        );
    }
    // A CR before the line feed, or trailing whitespace, is no CR ending.
    check_every_split(
        b"variant,conv \r\ncontrol,1\r\ntreatment,0\n",
        &["control", "treatment"],
        &["rate(conv)"],
    );
}

/// UTF-16 text (with or without a byte-order mark) is named as such, with
/// how to convert it, not reported as a binary file with a NUL byte.
#[test]
fn utf16_files_are_named() {
    let text = "variant,conv\ncontrol,1\ntreatment,0\n";
    let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let cases = [
        ([&[0xFF, 0xFE][..], &le].concat(), "UTF-16LE"),
        ([&[0xFE, 0xFF][..], &be].concat(), "UTF-16BE"),
        (le.clone(), "UTF-16LE"),
        (be.clone(), "UTF-16BE"),
        (gzip(&[&[0xFF, 0xFE][..], &le].concat()), "UTF-16LE"),
    ];
    for (bytes, encoding) in cases {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(dir.path(), "rows.csv", &bytes);
        for shape in [Shape::Rows, Shape::Aggregated] {
            let plan = plan(&path, shape, &["control", "treatment"], &["rate(conv)"]);
            let diags = data::load(&plan).expect_err("UTF-16");
            assert_eq!(
                messages(&diags),
                [format!("1: the file is {encoding} text, not UTF-8")]
            );
            let help = diags.iter().next().and_then(|d| d.help.clone());
            assert!(help.is_some_and(|h| h.contains("-t UTF-8")), "{diags:?}");
        }
    }
}

#[test]
fn quoted_fields_with_commas_and_doubled_quotes() {
    let text = "name,variant,conv\n\
                \"Smith, J\",control,1\n\
                \"say \"\"hi\"\"\",\"treatment\",\"0\"\n\
                plain,\"conx\",1\n\
                x,treatment,1\r\n";
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "rows.csv", text.as_bytes());
    let plan = plan(
        &path,
        Shape::Rows,
        &["control", "treatment", "conx"],
        &["rate(conv)"],
    );
    for range_bytes in 1..=text.len() as u64 {
        let split = Split {
            threads: 2,
            range_bytes,
            buffer_bytes: 1,
        };
        let data = load_rows_with(&plan, &path, split).expect("data");
        let units: Vec<u64> = data.variants.iter().map(|v| v.units).collect();
        assert_eq!(units, [1, 2, 1], "ranges of {range_bytes}");
        assert_eq!(data.variants[1].metrics[0], MetricData::Rate { count: 1 });
    }
}

#[test]
fn a_larger_file_in_many_ranges_equals_one_range() {
    let (rows, _) = experiment(3_000, 11);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "rows.csv", rows.as_bytes());
    let plan = plan(&path, Shape::Rows, &ARMS, &METRICS);
    let one = load_rows_with(
        &plan,
        &path,
        Split {
            threads: 1,
            range_bytes: u64::MAX,
            buffer_bytes: 1 << 20,
        },
    )
    .expect("one range");
    assert_eq!(one, reference(rows.as_bytes(), &ARMS, &METRICS));
    for range_bytes in [1, 2, 3, 5, 17, 29, 64, 1000, 4099] {
        let split = Split {
            threads: 2,
            range_bytes,
            buffer_bytes: 100,
        };
        assert_eq!(load_rows_with(&plan, &path, split).expect("split"), one);
    }
}

#[test]
fn empty_file_and_header_only() {
    assert_eq!(
        rows_error("", &["control", "treatment"], &["rate(x)"]),
        ["1: the data file is empty"]
    );
    assert_eq!(
        rows_error("  \n", &["control", "treatment"], &["rate(x)"]),
        ["1: the data file is empty"]
    );
    // A byte-order mark alone is no header, for either shape.
    for text in ["\u{feff}", "\u{feff}\n", "\u{feff}\r\n  \n\t\n"] {
        assert_eq!(
            rows_error(text, &["control", "treatment"], &["rate(x)"]),
            ["1: the data file is empty"],
            "{text:?}"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(dir.path(), "agg.csv", text.as_bytes());
        let plan = plan(
            &path,
            Shape::Aggregated,
            &["control", "treatment"],
            &["rate(x)"],
        );
        let diags = data::load(&plan).expect_err("an empty aggregated file");
        assert_eq!(messages(&diags), ["1: the data file is empty"], "{text:?}");
    }
    for header in ["variant,x", "variant,x\n", "variant,x\r\n", "variant,x\n\n"] {
        assert_eq!(
            rows_error(header, &["control", "treatment"], &["rate(x)"]),
            ["1: the data file has a header but no rows"],
            "{header:?}"
        );
    }
}

#[test]
fn a_declared_variant_without_rows() {
    assert_eq!(
        rows_error(
            "variant,x\ncontrol,1\ncontrol,0\n",
            &["control", "treatment"],
            &["rate(x)"]
        ),
        ["1: variant `treatment` is declared in the spec but has no rows"]
    );
}

#[test]
fn a_missing_column_names_the_metric() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "rows.csv", b"variant,convertd\ncontrol,1\n");
    let plan = plan(
        &path,
        Shape::Rows,
        &["control", "treatment"],
        &["rate(converted)"],
    );
    let diags = load_rows(&plan, &path).expect_err("missing column");
    assert_eq!(messages(&diags), ["1: column `converted` is missing"]);
    let diag = &diags.0[0];
    assert_eq!(
        diag.labels[0].text,
        "the header has no `converted`; metric `m0_converted` reads it"
    );
    assert_eq!(
        diag.help.as_deref(),
        Some(
            "did you mean `convertd`? rename the column in the file, or in the metric's definition"
        )
    );

    let missing = rows_error_with(
        "variant,x\ncontrol,1\n",
        &["control", "treatment"],
        &["rate(x)"],
        "unit_id user_id",
    );
    assert_eq!(missing, ["1: column `user_id` is missing"]);
}

#[test]
fn bad_rows_are_located() {
    let text = "id,variant,conv,rev\n\
                1,control,1,2\n\
                2,contrl,1,2\n\
                3,control,2,2\n\
                4,control,1,abc\n\
                5,control,1\n\
                6,control,1,2,9\n\
                7,control,,2\n\
                8,control,1,\n\
                9,,1,2\n\
                10,treatment,yes,2\n\
                11,\"control,1,2\n\
                12,control,1,NaN\n\
                \"13,x\",control,1\n";
    let found = rows_error(
        text,
        &["control", "treatment"],
        &["rate(conv)", "mean(rev)"],
    );
    assert_eq!(
        found,
        [
            "3: variant `contrl` on line 3 is not declared in the spec",
            "4: `conv` on line 4 must be 0 or 1, found `2`",
            "5: `rev` on line 5 must be a finite number, found `abc`",
            "6: line 6 has 3 fields but the header has 4",
            "7: line 7 has 5 fields but the header has 4",
            "8: `conv` on line 8 is empty",
            "9: `rev` on line 9 is empty",
            "10: line 10 has no variant",
            "11: `conv` on line 11 must be 0 or 1, found `yes`",
            "12: line 12 cannot be read: a quoted value is not closed on its line",
            "13: `rev` on line 13 must be a finite number, found `NaN`",
            "14: line 14 has 3 fields but the header has 4",
        ]
    );
}

#[test]
fn bad_row_diagnostics_point_at_the_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        dir.path(),
        "rows.csv",
        b"variant,conv\ncontrol,1\ntreatmnt,0\n",
    );
    let plan = plan(
        &path,
        Shape::Rows,
        &["control", "treatment"],
        &["rate(conv)"],
    );
    let diags = load_rows(&plan, &path).expect_err("bad row");
    let json = diags.0[0].to_json();
    assert_eq!((json.line, json.column), (Some(3), Some(1)));
    assert_eq!(json.labels[0].snippet, "treatmnt");
    assert_eq!(json.help.as_deref(), Some("did you mean `treatment`?"));
    assert_eq!(
        json.file.as_deref(),
        Some(path.display().to_string().as_str())
    );

    // The rendered report shows the file's real line number.
    let mut rendered = String::new();
    miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .render_report(&mut rendered, &diags.0[0])
        .expect("render");
    assert!(rendered.contains("rows.csv:3:1"), "{rendered}");
    assert!(rendered.contains("3 │ treatmnt,0"), "{rendered}");
}

#[test]
fn twenty_bad_rows_are_listed_then_counted() {
    let mut text = String::from("variant,conv\n");
    for i in 0..50 {
        text.push_str(if i % 2 == 0 {
            "control,1\n"
        } else {
            "control,7\n"
        });
    }
    text.push_str("treatment,0\n");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "rows.csv", text.as_bytes());
    let plan = plan(
        &path,
        Shape::Rows,
        &["control", "treatment"],
        &["rate(conv)"],
    );
    for range_bytes in [0, 7, 100] {
        let split = Split {
            threads: 2,
            range_bytes,
            buffer_bytes: 16,
        };
        let found = messages(&load_rows_with(&plan, &path, split).expect_err("bad rows"));
        assert_eq!(found.len(), LISTED_BAD_ROWS + 1);
        assert_eq!(found[0], "3: `conv` on line 3 must be 0 or 1, found `7`");
        assert_eq!(found[19], "41: `conv` on line 41 must be 0 or 1, found `7`");
        assert_eq!(found[20], "43: 5 more bad rows from line 43 on");
    }
}

fn zeroed(column: &str, cells: u64) -> data::ZeroedCells {
    data::ZeroedCells {
        column: column.to_string(),
        cells,
    }
}

#[test]
fn missing_zero_counts_empty_values_as_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        dir.path(),
        "rows.csv",
        b"variant,conv,rev\ncontrol,,\ncontrol,1, 2 \ncontrol, ,4\ntreatment,0,0\n",
    );
    let strict = plan(
        &path,
        Shape::Rows,
        &["control", "treatment"],
        &["rate(conv)", "mean(rev)"],
    );
    assert!(load_rows(&strict, &path).is_err());
    let plan = plan_with(
        &path,
        Shape::Rows,
        &["control", "treatment"],
        &["rate(conv)", "mean(rev)"],
        "missing zero",
    );
    let data = load_rows(&plan, &path).expect("data");
    assert_eq!(data.variants[0].units, 3);
    assert_eq!(
        data.variants[0].metrics,
        [
            MetricData::Rate { count: 1 },
            MetricData::Mean {
                sum: 6.0,
                sum_sq: 20.0
            }
        ]
    );
}

/// `missing zero` counts the cells it replaced, per column, exactly
/// wherever the file is split.
#[test]
fn missing_zero_counts_the_cells_it_replaced() {
    let text = "user_id,variant,conv,rev,pre\n\
                u1,control,,NULL,1\n\
                u2,treatment,1,2,NA\n\
                u3,control, ,n/a,\n\
                u4,treatment,0,,3\n\
                u5,control,1,4,5\n";
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "rows.csv", text.as_bytes());
    let plan = plan_with(
        &path,
        Shape::Rows,
        &["control", "treatment"],
        &["rate(conv)", "mean(rev)", "mean(pre)"],
        "unit_id \"user_id\" missing zero",
    );
    let expected = [zeroed("conv", 2), zeroed("rev", 3), zeroed("pre", 2)];
    for range_bytes in 1..=text.len() as u64 {
        let split = Split {
            threads: 2,
            range_bytes,
            buffer_bytes: 1,
        };
        let data = load_rows_with(&plan, &path, split).expect("data");
        let row_level = data.row_level.expect("read as rows");
        assert_eq!(row_level.zeroed, expected, "ranges of {range_bytes}");
    }
}

/// The memo's data line and the report's settings describe row-level data
/// as it was read: one row per unit, the unit id column, the missing-value
/// rule and the cells `missing zero` replaced; aggregated data keeps its
/// units column and its settings' keys.
#[test]
fn the_memo_and_the_settings_describe_row_level_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rows = String::from("user_id,variant,conv,rev\n");
    for i in 0..400 {
        let arm = ["control", "treatment"][i % 2];
        let conv = if i % 3 == 0 {
            ""
        } else {
            ["0", "1"][i % 5 % 2]
        };
        let rev = if i % 4 == 0 { "NULL" } else { "2.5" };
        rows += &format!("u{i},{arm},{conv},{rev}\n");
    }
    write(dir.path(), "data.csv", rows.as_bytes());
    let spec = |options: &str| {
        format!(
            "experiment rows_memo {{\n    data \"data.csv\" {{ shape rows {options} }}\n    \
             variants {{ control 50% treatment 50% }}\n    primary conversion = rate(conv)\n    \
             metric revenue = mean(rev)\n}}\n"
        )
    };
    let run = |options: &str| {
        let spec_path = write(dir.path(), "exp.xos", spec(options).as_bytes());
        let outcome = xos::run_once(&spec_path, &xos::RunOptions::default())
            .unwrap_or_else(|d| panic!("{options}: {:?}", messages(&d)));
        let md = xos::output::render(&outcome.report, xos::output::Format::Md, None).expect("memo");
        let line = md
            .lines()
            .find(|l| l.starts_with("- Data:"))
            .expect("a data line")
            .to_string();
        let json: serde_json::Value =
            serde_json::from_str(&xos::output::report::to_json(&outcome.report)).expect("json");
        (line, json["settings"].clone())
    };
    let (line, settings) = run("unit_id \"user_id\" missing zero");
    assert_eq!(
        line,
        "- Data: `data.csv`, one row per unit (`shape rows`: a variant's units are its rows), \
         variant column `variant`, unit id column `user_id` (each unit checked to be in one \
         variant, once); empty, `NULL` and `NA` values count as 0 (`missing zero`): 134 cells \
         of `conv`, 100 of `rev`."
    );
    assert!(!line.contains("users"), "{line}");
    assert_eq!(settings["shape"], "rows");
    assert_eq!(settings["unit_id"], "user_id");
    assert_eq!(settings["missing"], "zero");
    assert_eq!(
        settings["missing_zeroed"],
        serde_json::json!([{"column": "conv", "cells": 134}, {"column": "rev", "cells": 100}])
    );
    // The keys old consumers read are unchanged.
    assert_eq!(settings["variant_column"], "variant");
    assert_eq!(settings["units_column"], "users");

    let no_missing = "user_id,variant,conv,rev\nu1,control,1,2\nu2,treatment,0,3\n";
    write(dir.path(), "data.csv", no_missing.as_bytes());
    let (line, settings) = run("");
    assert!(
        line.ends_with(
            "no unit id column (assignment not checked); an empty, `NULL` or `NA` value is an \
             error (the file had none)."
        ),
        "{line}"
    );
    assert_eq!(settings["unit_id"], serde_json::Value::Null);
    assert_eq!(settings["missing"], "error");
    assert_eq!(settings["missing_zeroed"], serde_json::json!([]));

    // A `shape rows` spec over an aggregated export reads it as aggregated.
    let aggregated = "variant,users,conv,rev_sum,rev_sum_sq\ncontrol,2,1,2,4\ntreatment,2,0,3,9\n";
    write(dir.path(), "data.csv", aggregated.as_bytes());
    let (line, settings) = run("");
    assert_eq!(
        line,
        "- Data: `data.csv`, variant column `variant`, units column `users`."
    );
    assert!(settings.get("shape").is_none(), "{settings}");
    assert!(settings.get("missing").is_none(), "{settings}");
}

/// Units `k·7` appear in both variants, units `k·11` twice in their variant.
#[test]
fn mixed_assignment_and_duplicates_are_counted_exactly() {
    let mut text = String::from("user_id,variant,conv\n");
    let mut rng = Rng(3);
    let (mut mixed, mut duplicated) = (Vec::new(), Vec::new());
    let units = 5_000u64;
    for user in 0..units {
        let arm = rng.below(2) as usize;
        text.push_str(&format!("user-{user},{},1\n", ARMS[arm]));
        if user % 7 == 0 {
            text.push_str(&format!("user-{user},{},0\n", ARMS[1 - arm]));
            mixed.push(format!("user-{user}"));
        }
        if user % 11 == 0 {
            text.push_str(&format!("user-{user},{},0\n", ARMS[arm]));
            duplicated.push(format!("user-{user}"));
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "rows.csv", text.as_bytes());
    let plan = plan_with(
        &path,
        Shape::Rows,
        &ARMS[..2],
        &["rate(conv)"],
        "unit_id user_id",
    );
    for range_bytes in [0, 1, 13, 4096] {
        let split = Split {
            threads: 2,
            range_bytes,
            buffer_bytes: 64,
        };
        let data = load_rows_with(&plan, &path, split).expect("data");
        let assignment = data.assignment.expect("assignment");
        assert_eq!(assignment.units, units);
        assert_eq!(assignment.mixed, mixed.len() as u64);
        assert_eq!(assignment.duplicated, duplicated.len() as u64);
        assert_eq!(assignment.mixed_examples, mixed[..5]);
        assert_eq!(assignment.duplicated_examples, duplicated[..5]);
        let rows: u64 = data.variants.iter().map(|v| v.units).sum();
        assert_eq!(rows, units + mixed.len() as u64 + duplicated.len() as u64);
    }

    // The examples are read back from the file: through gzip too.
    let gz = write(dir.path(), "rows.csv.gz", &gzip(text.as_bytes()));
    let plain = load_rows(&plan, &path).expect("plain");
    let plan = plan_with(
        &gz,
        Shape::Rows,
        &ARMS[..2],
        &["rate(conv)"],
        "unit_id user_id",
    );
    assert_eq!(load_rows(&plan, &gz).expect("gz"), plain);
}

#[test]
fn a_renamed_variant_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        dir.path(),
        "rows.csv",
        b"variant,arm,x\nb,control,1\nb,treatment,0\n",
    );
    let plan = plan_with(
        &path,
        Shape::Rows,
        &["control", "treatment"],
        &["rate(x)"],
        "variant_column arm",
    );
    let data = load_rows(&plan, &path).expect("data");
    let units: Vec<u64> = data.variants.iter().map(|v| v.units).collect();
    assert_eq!(units, [1, 1]);
}

#[test]
fn unit_ids_are_trimmed_and_unquoted() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        dir.path(),
        "rows.csv",
        b"variant,user,conv\ncontrol,u1,1\ntreatment, u1 ,0\ncontrol,\"u2\",1\ncontrol,u2,\r\n",
    );
    let plan = plan_with(
        &path,
        Shape::Rows,
        &["control", "treatment"],
        &["rate(conv)"],
        "unit_id user missing zero",
    );
    let assignment = load_rows(&plan, &path)
        .expect("data")
        .assignment
        .expect("assignment");
    assert_eq!(
        (assignment.units, assignment.mixed, assignment.duplicated),
        (2, 1, 1)
    );
    assert_eq!(assignment.mixed_examples, ["u1"]);
    assert_eq!(assignment.duplicated_examples, ["u2"]);
}

#[test]
fn aggregated_data_with_repeated_labels_suggests_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rows = "user_id,variant,converted,revenue,refund\n\
                1,control,1,2.5,0\n\
                2,b,0,0,0\n\
                3,c,0,0,1\n\
                4,b,1,4,0\n\
                5,control,0,0,0\n\
                6,b,0,0,0\n";
    let path = write(dir.path(), "rows.csv", rows.as_bytes());
    let plan = plan(&path, Shape::Aggregated, &ARMS, &METRICS);
    let diags = data::load(&plan).expect_err("row-level data read as aggregated");
    let hint = diags
        .iter()
        .find(|d| d.code == "xos::data::looks_like_rows")
        .expect("a hint at shape rows");
    assert!(
        hint.help
            .as_deref()
            .is_some_and(|h| h.contains("shape rows")),
        "{:?}",
        hint.help
    );
    assert_eq!(
        hint.message,
        "variant `b` appears on 3 rows: this looks like one row per unit"
    );
    assert_eq!(hint.to_json().line, Some(5));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// No input makes the loader panic, however it is split.
    #[test]
    fn arbitrary_bytes_never_panic(
        body in proptest::collection::vec(
            prop_oneof![
                Just(b','), Just(b'\n'), Just(b'\r'), Just(b'"'), Just(b'0'), Just(b'1'),
                Just(b' '), Just(b'.'), Just(b'e'), Just(b'c'), any::<u8>(),
            ],
            0..200,
        ),
        header in prop_oneof![Just(&b"variant,x,y\n"[..]), Just(&b"id,variant,x,y\r\n"[..]), Just(&b""[..])],
        range_bytes in 0u64..40,
        gz in any::<bool>(),
        zero in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut bytes = header.to_vec();
        bytes.extend(&body);
        let bytes = if gz { gzip(&bytes) } else { bytes };
        let path = write(dir.path(), "rows.csv", &bytes);
        let options = if zero { "missing zero unit_id id" } else { "" };
        let plan = plan_with(&path, Shape::Rows, &["c", "e"], &["rate(x)", "mean(y)"], options);
        let split = Split { threads: 2, range_bytes, buffer_bytes: 1 };
        if let Err(diags) = load_rows_with(&plan, &path, split) {
            for diag in diags.iter() {
                let json = diag.to_json();
                prop_assert!(json.file.is_some() && json.line.is_some() && json.column.is_some());
            }
        }
    }

    /// Well-formed files of random shape give the reference result however
    /// they are split.
    #[test]
    fn random_files_match_the_reference(
        rows in proptest::collection::vec((0usize..2, any::<bool>(), -1000i32..1000, any::<bool>()), 1..40),
        crlf in any::<bool>(),
        last_newline in any::<bool>(),
        range_bytes in 1u64..64,
    ) {
        let eol = if crlf { "\r\n" } else { "\n" };
        let mut text = format!("variant,conv,rev{eol}");
        for (arm, conv, rev, quoted) in &rows {
            let label = ["control", "treatment"][*arm];
            let label = if *quoted { format!("\"{label}\"") } else { label.to_string() };
            text.push_str(&format!("{label},{},{}{eol}", u8::from(*conv), *rev as f64 / 8.0));
        }
        if !last_newline {
            text.truncate(text.len() - eol.len());
        }
        let variants = ["control", "treatment"];
        let metrics = ["rate(conv)", "mean(rev)"];
        let mut expected = reference(text.as_bytes(), &variants, &metrics);
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(dir.path(), "rows.csv", text.as_bytes());
        let plan = plan(&path, Shape::Rows, &variants, &metrics);
        let split = Split { threads: 2, range_bytes, buffer_bytes: 1 };
        match load_rows_with(&plan, &path, split) {
            Ok(data) => prop_assert_eq!(data, expected),
            Err(diags) => {
                // Only a variant with no rows is an error here.
                expected.variants.retain(|v| v.units == 0);
                prop_assert!(!expected.variants.is_empty(), "{:?}", messages(&diags));
            }
        }
    }
}

/// The issue's end-to-end promise: the same experiment exported as rows and
/// as aggregates gives the same JSON report, byte for byte.
#[test]
fn rows_and_aggregates_give_byte_identical_json_reports() {
    let (rows, sums) = experiment(30_000, 13);
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = |shape: &str| {
        format!(
            "experiment same_experiment {{\n\
             \x20   data \"data.csv\" {{ {shape} }}\n\
             \x20   variants {{ control 34% b 33% c 33% }}\n\
             \x20   primary conversion = rate(converted)\n\
             \x20   metric revenue = mean(revenue)\n\
             \x20   guardrail refunds = rate(refund) {{ worsened 0.1pp severe 0.3pp }}\n\
             }}\n"
        )
    };
    let mut reports = Vec::new();
    for (folder, shape, data) in [
        ("rows", "shape rows", rows.clone()),
        ("aggregated", "shape aggregated", aggregated_csv(&sums)),
    ] {
        let folder = dir.path().join(folder);
        std::fs::create_dir(&folder).expect("folder");
        write(&folder, "data.csv", data.as_bytes());
        let spec_path = write(&folder, "exp.xos", spec(shape).as_bytes());
        let mut outcome = xos::run_once(&spec_path, &xos::RunOptions::default())
            .unwrap_or_else(|d| panic!("{shape}: {:?}", messages(&d)));
        // Only the settings say how the file was read.
        let rows = outcome.report.settings.rows.take();
        assert_eq!(rows.is_some(), shape == "shape rows", "{shape}");
        reports.push(xos::output::report::to_json(&outcome.report));
    }
    assert!(reports[0].contains("\"schema\""));
    assert_eq!(reports[0], reports[1]);
}

/// Rows separated by `;` or a tab, declared with `delimiter`, read as the
/// same rows separated by commas.
#[test]
fn a_declared_delimiter_reads_as_commas_do() {
    let comma =
        "variant,conv,rev\ncontrol,1,2.5\ntreatment,0,0.25\ncontrol,\"0\",4\ntreatment,1,8\n";
    let variants = ["control", "treatment"];
    let metrics = ["rate(conv)", "mean(rev)"];
    let expected = reference(comma.as_bytes(), &variants, &metrics);
    for (written, byte) in [(";", ';'), ("\\t", '\t'), ("|", '|')] {
        let text = comma.replace(',', &byte.to_string());
        let dir = tempfile::tempdir().expect("tempdir");
        let path = write(dir.path(), "rows.csv", text.as_bytes());
        let plan = plan_with(
            &path,
            Shape::Rows,
            &variants,
            &metrics,
            &format!("delimiter \"{written}\""),
        );
        assert_eq!(
            load_rows(&plan, &path).expect("rows"),
            expected,
            "{written}"
        );
    }
}

/// A `;`-separated export read with the default `,`: one error that names
/// the separator and the option, not one `missing_column` per column.
#[test]
fn an_undeclared_delimiter_is_one_error() {
    let messages = rows_error(
        "variant;conv\ncontrol;1\ntreatment;0\n",
        &["control", "treatment"],
        &["rate(conv)"],
    );
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].contains("semicolon-separated"), "{messages:?}");
    let messages = rows_error(
        "variant\tconv\ncontrol\t1\n",
        &["control", "treatment"],
        &["rate(conv)"],
    );
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].contains("tab-separated"), "{messages:?}");
}

/// Labels that are the spec's in another case: one error for all of their
/// rows, no per-row `unknown_variant` and no `absent_variant`.
#[test]
fn labels_in_another_case_are_one_error() {
    let mut text = String::from("variant,conv\n");
    for i in 0..50 {
        text += if i % 2 == 0 {
            "Control,1\n"
        } else {
            "TREATMENT,0\n"
        };
    }
    let messages = rows_error(&text, &["control", "treatment"], &["rate(conv)"]);
    assert_eq!(
        messages,
        [
            "2: variant labels differ from the spec's only in case: `Control` for `control`, \
             `TREATMENT` for `treatment` (50 rows)"
        ]
    );
    // Other bad rows are still listed, and counted without the case-only ones.
    let messages = rows_error(
        "variant,conv\nControl,1\ncontrol,x\ntreatment,0\n",
        &["control", "treatment"],
        &["rate(conv)"],
    );
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[1].starts_with("3: `conv` on line 3"),
        "{messages:?}"
    );
}

/// `NULL` and `NA` cells are missing values: the error says so and offers
/// `missing zero`, which counts them as 0.
#[test]
fn null_and_na_cells_are_missing_values() {
    let text = "variant,conv,rev\ncontrol,1,NULL\ntreatment,NA,2\ncontrol,0,n/a\ntreatment,1,4\n";
    let variants = ["control", "treatment"];
    let metrics = ["rate(conv)", "mean(rev)"];
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "rows.csv", text.as_bytes());
    let plan = plan(&path, Shape::Rows, &variants, &metrics);
    let diags = load_rows(&plan, &path).expect_err("NULL cells");
    assert_eq!(
        messages(&diags),
        [
            "2: `rev` on line 2 is `NULL`, a missing value",
            "3: `conv` on line 3 is `NA`, a missing value",
            "4: `rev` on line 4 is `n/a`, a missing value",
        ]
    );
    assert!(
        diags.iter().all(|d| d
            .help
            .as_deref()
            .is_some_and(|h| h.contains("missing zero"))),
        "{diags:?}"
    );
    let zero = plan_with(&path, Shape::Rows, &variants, &metrics, "missing zero");
    let mut expected = reference(
        b"variant,conv,rev\ncontrol,1,0\ntreatment,0,2\ncontrol,0,0\ntreatment,1,4\n",
        &variants,
        &metrics,
    );
    expected.row_level = Some(data::RowLevel {
        zeroed: vec![zeroed("conv", 1), zeroed("rev", 2)],
    });
    assert_eq!(load_rows(&zero, &path).expect("missing zero"), expected);
}

/// A trailing comma on every data row: `ragged_row` errors that name the
/// trailing separator, and no false `absent_variant`.
#[test]
fn a_trailing_comma_is_named_and_no_variant_is_absent() {
    let diags = load_conv(b"variant,conv\ncontrol,1,\ntreatment,0,\n").expect_err("ragged rows");
    assert_eq!(
        messages(&diags),
        [
            "2: line 2 has 3 fields but the header has 2",
            "3: line 3 has 3 fields but the header has 2"
        ]
    );
    assert!(diags.iter().all(|d| {
        d.help
            .as_deref()
            .is_some_and(|h| h.contains("remove the trailing one"))
    }));
}

/// A lone CR inside the body (LF elsewhere: mixed line endings) joins two
/// rows into one ragged row, whose help names the carriage return.
#[test]
fn a_lone_cr_in_the_body_is_named_in_the_ragged_row() {
    let diags =
        load_conv(b"variant,conv\ncontrol,1\rtreatment,0\ntreatment,0\n").expect_err("ragged row");
    assert_eq!(
        messages(&diags),
        ["2: line 2 has 3 fields but the header has 2"]
    );
    let help = diags.iter().next().and_then(|d| d.help.clone());
    assert!(
        help.as_deref()
            .is_some_and(|h| h.contains("carriage return with no line feed after it")),
        "{help:?}"
    );
}

/// A row-level spec that declares `delimiter ";"` for its own export still
/// reads the comma-separated aggregated result of `xos sql` (`--data -`).
#[test]
fn the_aggregated_result_of_xos_sql_reads_whatever_the_declared_delimiter() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        dir.path(),
        "result.csv",
        b"variant,users,conv\ncontrol,10,3\ntreatment,12,4\n",
    );
    let plan = plan_with(
        &path,
        Shape::Rows,
        &["control", "treatment"],
        &["rate(conv)"],
        "delimiter \";\"",
    );
    let data = data::load(&plan).unwrap_or_else(|e| panic!("{:?}", messages(&e)));
    assert_eq!(data.variants[1].units, 12);
    assert_eq!(data.variants[1].metrics[0], MetricData::Rate { count: 4 });
}
