#!/usr/bin/env python3
"""Runs the queries of `xos sql` in real engines and compares the decisions.

For every case (a spec and a seeded per-unit table with edge cases), the
reference is xos's own row-level aggregation:

    xos run spec.xos --data - --format json < rows.csv

and the engine's path is the pipe docs/sql.md documents:

    <engine runs "$(xos sql spec.xos --dialect D --table T)"> | xos run spec.xos --data - --format json

The two JSON reports must be identical field by field, numbers within 1e-9
relative. One field differs by design: an assignment health message of the
row-level path ends with example ids (", for example `u1`, ..."), taken in
file order; a warehouse table has no order, so the aggregated path states
the same counts and shares without examples. The comparison strips that
clause from the row-level message and compares the rest exactly.

Cases whose table the row-level path rejects (a NULL without `missing zero`,
a value other than 0/1 in a rate column) must be rejected by both paths
(exit 1), the engine's path naming the empty cell.

Usage: engines.py --xos PATH --engine duckdb|postgres|spark|sqlglot [--work DIR]
                  [--timing-rows N]

  duckdb    the duckdb Python package, over CSV and over Parquet
  postgres  psql against the server named by PGHOST/PGPORT/PGUSER/PGDATABASE
  spark     pyspark in local mode, one session for every case
  sqlglot   the golden queries of every dialect parse and transpile back

Prints one line per case and engine, and a timing line for --timing-rows
rows; exits 1 on the first difference, with the path of the field.
"""

import argparse
import csv
import io
import json
import math
import os
import random
import re
import subprocess
import sys
import tempfile
import time

REL_TOL = 1e-9


# ---------------------------------------------------------------- the cases


class Case:
    """A spec, its per-unit table (columns with SQL types), and its rows."""

    def __init__(self, name, spec, columns, rows, table, fails=False):
        self.name = name
        self.spec = spec
        # [(name, kind)] with kind in text, int, bool, float
        self.columns = columns
        self.rows = rows
        # --table, as given on the command line (may be dotted and quoted)
        self.table = table
        # The row-level path rejects this table: both paths must exit 1.
        self.fails = fails


def csv_text(columns, rows):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([name for name, _ in columns])
    for row in rows:
        writer.writerow(["" if v is None else fmt_value(v) for v in row])
    return out.getvalue()


def fmt_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def assignment_case(n, seed, name="assignment", table="exp.\"events.v2\""):
    """Two arms, unit ids with duplicates (0.5% of units) and mixed
    assignment (0.3%), NULLs counted as zero, a quoted unit id column."""
    rng = random.Random(seed)
    columns = [
        ('user "id"', "text"),
        ("variant", "text"),
        ("converted", "int"),
        ("revenue", "float"),
        ("refund", "int"),
    ]
    rows = []
    for i in range(n):
        variant = "control" if rng.random() < 0.5 else "treatment"
        p = 0.10 if variant == "control" else 0.115
        converted = 1 if rng.random() < p else 0
        revenue = round(rng.lognormvariate(3.0, 1.0), 2) if converted else 0.0
        refund = 1 if rng.random() < 0.02 else 0
        if rng.random() < 0.02:
            converted = None
        if rng.random() < 0.02:
            revenue = None
        rows.append([f"u{i:08d}", variant, converted, revenue, refund])
    extra = []
    for row in rng.sample(rows, max(1, n // 200)):
        extra.append(list(row))  # the same unit twice in its variant
    for row in rng.sample(rows, max(1, n * 3 // 1000)):
        moved = list(row)
        moved[1] = "treatment" if row[1] == "control" else "control"
        extra.append(moved)  # the same unit in the other variant
    rows.extend(extra)
    rng.shuffle(rows)
    spec = f"""experiment assignment_check {{
    data "rows.csv" {{
        shape   rows
        unit_id "user \\"id\\""
        missing zero
    }}
    variants {{ control 50% treatment 50% }}
    primary conversion = rate(converted)
    metric revenue = mean(revenue)
    guardrail refund_rate = rate(refund) {{ worsened 0.5pp severe 1pp }}
}}
"""
    return Case(name, spec, columns, rows, table)


def multiarm_case(seed):
    """Three arms in a renamed variant column with a space, a units column
    named `visitors`, boolean rates, and one arm that never recorded the
    `latency` metric (all NULL, counted as zero)."""
    rng = random.Random(seed)
    columns = [
        ("arm group", "text"),
        ("clicked", "bool"),
        ("latency", "float"),
        ("errors", "bool"),
    ]
    arms = ["control", "b", "c"]
    rows = []
    for _ in range(9000):
        arm = rng.choice(arms)
        clicked = rng.random() < {"control": 0.2, "b": 0.22, "c": 0.19}[arm]
        latency = None if arm == "c" else round(rng.gauss(250.0, 40.0), 3)
        if arm != "c" and rng.random() < 0.01:
            latency = None
        errors = rng.random() < 0.01
        rows.append([arm, clicked, latency, errors])
    spec = """experiment multiarm_check {
    data "rows.csv" {
        shape          rows
        variant_column "arm group"
        units          "visitors"
        missing        zero
    }
    variants { control 34% b 33% c 33% }
    primary ctr = rate(clicked)
    metric latency = mean(latency) { prefer lower }
    guardrail error_rate = rate(errors) { worsened 0.5pp severe 1pp }
}
"""
    return Case("multiarm", spec, columns, rows, "multiarm")


def strict_case(seed, bad):
    """No `missing zero`: a NULL (or, with bad='binary', a 2 in a rate
    column; with bad='fraction', 0.4 in a rate column of doubles, which an
    integer cast would have counted as 0) must be rejected by both paths."""
    rng = random.Random(seed)
    # 0.4 needs a column of doubles in the engines' tables.
    columns = [
        ("variant", "text"),
        ("converted", "float" if bad == "fraction" else "int"),
        ("revenue", "float"),
    ]
    rows = []
    for _ in range(400):
        variant = rng.choice(["control", "treatment"])
        rows.append([variant, 1 if rng.random() < 0.3 else 0, round(rng.uniform(0, 50), 2)])
    if bad == "null":
        rows[7][2] = None
    elif bad == "binary":
        rows[11][1] = 2
    elif bad == "fraction":
        rows[11][1] = 0.4
    spec = """experiment strict_check {
    data "rows.csv" { shape rows }
    variants { control 50% treatment 50% }
    primary conversion = rate(converted)
    metric revenue = mean(revenue)
}
"""
    return Case(f"strict_{bad or 'clean'}", spec, columns, rows, "strict", fails=bad is not None)


def metrics_case(seed):
    """A ratio primary (clicks per query, the delta method) and CUPED
    covariates on a mean metric and a rate guardrail: the engine computes
    the cross-product columns (`X_Y_sum_prod`), with NULLs counted as zero
    and a unit id."""
    rng = random.Random(seed)
    columns = [
        ("user_id", "text"),
        ("variant", "text"),
        ("queries", "int"),
        ("clicks", "int"),
        ("clicks_pre", "float"),
        ("abandoned", "int"),
        ("abandoned_pre", "float"),
    ]
    rows = []
    for i in range(12_000):
        variant = "control" if rng.random() < 0.5 else "treatment"
        queries = 1 + int(rng.expovariate(0.3))
        ctr = 0.30 if variant == "control" else 0.32
        clicks_pre = sum(1 for _ in range(queries) if rng.random() < 0.3)
        clicks = sum(1 for _ in range(queries) if rng.random() < ctr)
        abandoned_pre = 1.0 if rng.random() < 0.1 else 0.0
        abandoned = 1 if rng.random() < (0.25 if abandoned_pre else 0.08) else 0
        row = [f"u{i:06d}", variant, queries, clicks, float(clicks_pre), abandoned, abandoned_pre]
        if rng.random() < 0.01:
            row[4] = None
        if rng.random() < 0.01:
            row[3] = None
        rows.append(row)
    spec = """experiment metrics_check {
    data "rows.csv" {
        shape   rows
        unit_id "user_id"
        missing zero
    }
    variants { control 50% treatment 50% }
    primary ctr = ratio(clicks, queries)
    metric clicks_per_user = mean(clicks) { covariate clicks_pre }
    guardrail abandonment = rate(abandoned) {
        covariate abandoned_pre
        worsened  1pp
        severe    2pp
    }
}
"""
    return Case("ratio_cuped", spec, columns, rows, "search")


def looks_case(seed):
    """`look "day"`: each unit's exposure day, an integer, in no particular
    order; the engine's per-look query gives one row per day and variant
    over every row up to that day, which a group-sequential spec reads as
    its looks (the report's `looks` must match the row-level path's)."""
    rng = random.Random(seed)
    columns = [
        ("user_id", "text"),
        ("day", "int"),
        ("variant", "text"),
        ("converted", "int"),
        ("revenue", "float"),
    ]
    rows = []
    for i in range(6000):
        variant = "control" if rng.random() < 0.5 else "treatment"
        converted = rng.random() < (0.10 if variant == "control" else 0.12)
        revenue = round(rng.uniform(5.0, 40.0), 2) if converted else 0.0
        rows.append([f"u{i:05d}", 1 + rng.randrange(10), variant, int(converted), revenue])
    spec = """experiment looks_check {
    data "rows.csv" {
        shape   rows
        unit_id "user_id"
        look    "day"
    }
    variants { control 50% treatment 50% }
    primary conversion = rate(converted)
    metric revenue = mean(revenue)
    sequential { method group_sequential max_units 10_000 }
}
"""
    return Case("looks", spec, columns, rows, "daily")


def cases(timing_rows):
    out = [
        assignment_case(20_000, seed=1),
        multiarm_case(seed=2),
        metrics_case(seed=7),
        looks_case(seed=8),
        strict_case(3, None),
        strict_case(4, "null"),
        strict_case(5, "binary"),
        strict_case(9, "fraction"),
    ]
    if timing_rows:
        out.append(assignment_case(timing_rows, seed=6, name="timing", table="timing"))
    return out


# ------------------------------------------------------------- running xos


def run(cmd, stdin=None, env=None):
    return subprocess.run(
        cmd, input=stdin, capture_output=True, text=True, env=env, check=False
    )


def xos_sql(args, case, dialect, spec_path):
    proc = run([args.xos, "sql", spec_path, "--dialect", dialect, "--table", case.table])
    if proc.returncode != 0:
        fail(f"{case.name}: xos sql --dialect {dialect} failed:\n{proc.stderr}")
    return proc.stdout


def xos_report(args, spec_path, csv_input):
    """(exit code, report or None, stderr) of `xos run --data -`."""
    proc = run([args.xos, "run", spec_path, "--data", "-", "--format", "json"], stdin=csv_input)
    report = json.loads(proc.stdout) if proc.returncode == 0 else None
    return proc.returncode, report, proc.stderr


def fail(message):
    print(f"FAIL {message}", file=sys.stderr)
    sys.exit(1)


EXAMPLES = re.compile(r", for example .*$")


def compare(a, b, path="$"):
    """The first difference between the row-level report `a` and the
    engine's `b`, or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        if sorted(a) != sorted(b):
            return f"{path}: keys {sorted(a)} != {sorted(b)}"
        for key in a:
            diff = compare(a[key], b[key], f"{path}.{key}")
            if diff:
                return diff
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            diff = compare(x, y, f"{path}[{i}]")
            if diff:
                return diff
        return None
    if isinstance(a, bool) or isinstance(b, bool):
        return None if a is b else f"{path}: {a!r} != {b!r}"
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if a == b or abs(a - b) <= REL_TOL * max(abs(a), abs(b)):
            return None
        return f"{path}: {a!r} != {b!r} (relative {abs(a - b) / max(abs(a), abs(b)):.3g})"
    if isinstance(a, str) and isinstance(b, str) and re.search(r"\.issues\[\d+\]\.message$", path):
        if EXAMPLES.sub("", a) == b:
            return None
    return None if a == b else f"{path}: {a!r} != {b!r}"


ROW_LEVEL_SETTINGS = ("shape", "unit_id", "missing", "missing_zeroed")


def check_case(args, case, label, spec_path, reference, engine_csv):
    code, report, stderr = xos_report(args, spec_path, engine_csv)
    ref_code, ref_report, ref_stderr = reference
    if case.fails:
        if ref_code != 1:
            fail(f"{case.name}: the row-level path should reject the table (exit {ref_code})")
        if code != 1:
            fail(f"{case.name} [{label}]: the engine's path should be rejected (exit {code})\n{engine_csv}")
        if "holds a NULL" not in stderr:
            fail(f"{case.name} [{label}]: the rejection does not explain the NULL:\n{stderr}")
        print(f"ok {case.name} [{label}]: both paths reject the table")
        return
    if ref_code != 0:
        fail(f"{case.name}: the row-level path failed:\n{ref_stderr}")
    if code != 0:
        fail(f"{case.name} [{label}]: xos run on the engine's result failed:\n{stderr}\n{engine_csv}")
    # The keys that describe a file read one row per unit (its shape, unit
    # id column, and the cells `missing zero` turned into 0): the engine's
    # result is aggregated, and its report rightly has none of them.
    if ref_report["settings"].get("shape") != "rows":
        fail(f"{case.name}: the row-level report does not say `shape rows`")
    ref_report = dict(ref_report)
    ref_report["settings"] = {k: v for k, v in ref_report["settings"].items()
                              if k not in ROW_LEVEL_SETTINGS}
    diff = compare(ref_report, report)
    if diff:
        fail(f"{case.name} [{label}]: reports differ at {diff}\n{engine_csv}")
    verdict = report["decision"]["verdict"]
    health = report["health"]["status"]
    print(f"ok {case.name} [{label}]: identical reports ({verdict}, health {health})")


# ----------------------------------------------------------------- engines


def quote_pg(name):
    return '"' + name.replace('"', '""') + '"'


def split_table(table):
    """The parts of a --table argument (dots outside double quotes)."""
    parts, part, quoted, i = [], "", False, 0
    while i < len(table):
        c = table[i]
        if c == '"':
            if quoted and table[i + 1 : i + 2] == '"':
                part += '"'
                i += 1
            else:
                quoted = not quoted
        elif c == "." and not quoted:
            parts.append(part)
            part = ""
        else:
            part += c
        i += 1
    parts.append(part)
    return parts


def rows_to_csv(header, rows):
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else fmt_engine(v) for v in row])
    return out.getvalue()


def fmt_engine(v):
    # Decimal prints exactly; floats shortest round-trip.
    if isinstance(v, float):
        return repr(v)
    return str(v)


def duckdb_read_csv(case, csv_path):
    """DuckDB's reader of the case's CSV, with the table's types."""
    types = {"text": "VARCHAR", "int": "BIGINT", "bool": "BOOLEAN", "float": "DOUBLE"}
    cols = "{" + ", ".join(
        f"'{n.replace(chr(39), chr(39) * 2)}': '{types[k]}'" for n, k in case.columns
    ) + "}"
    return f"read_csv('{csv_path}', header = true, columns = {cols}, nullstr = '')"


def duckdb_with_table(case, csv_path, parquet=None, table=None):
    """A DuckDB connection holding the case's table, read from the CSV
    (or, given a path, written to and read back from Parquet)."""
    import duckdb

    con = duckdb.connect()
    read = duckdb_read_csv(case, csv_path)
    if parquet:
        con.execute(f"COPY (SELECT * FROM {read}) TO '{parquet}' (FORMAT parquet)")
        read = f"read_parquet('{parquet}')"
    parts = split_table(table or case.table)
    if len(parts) == 2:
        con.execute(f"CREATE SCHEMA {quote_pg(parts[0])}")
    name = ".".join(quote_pg(p) for p in parts)
    con.execute(f"CREATE TABLE {name} AS SELECT * FROM {read}")
    return con


def duckdb_csv(con, sql):
    result = con.execute(sql)
    header = [d[0] for d in result.description]
    return rows_to_csv(header, result.fetchall())


def run_duckdb(args, work, all_cases):
    for case in all_cases:
        spec_path, csv_path, reference = prepare(args, work, case)
        sql = xos_sql(args, case, "duckdb", spec_path)
        for source in ["csv", "parquet"]:
            parquet = os.path.join(work, case.name, "rows.parquet") if source == "parquet" else None
            con = duckdb_with_table(case, csv_path, parquet)
            start = time.perf_counter()
            engine_csv = duckdb_csv(con, sql)
            elapsed = time.perf_counter() - start
            con.close()
            check_case(args, case, f"duckdb {source}", spec_path, reference, engine_csv)
            if case.name == "timing":
                timing(args, case, f"duckdb over {source}", elapsed, spec_path, csv_path)
        # The documented pipe, with the DuckDB CLI (PyPI `duckdb-cli`):
        # duckdb -csv -c "$(xos sql ...)" | xos run spec.xos --data -
        cli = os.path.join(os.path.dirname(sys.executable), "duckdb")
        parts = split_table(case.table)
        setup = f"CREATE SCHEMA {quote_pg(parts[0])}; " if len(parts) == 2 else ""
        name = ".".join(quote_pg(p) for p in parts)
        setup += f"CREATE VIEW {name} AS SELECT * FROM {duckdb_read_csv(case, csv_path)};\n"
        proc = run([cli, "-csv", "-c", setup + sql])
        if proc.returncode != 0:
            fail(f"{case.name}: the DuckDB CLI rejected the query:\n{proc.stderr}")
        check_case(args, case, "duckdb CLI | xos run --data -", spec_path, reference, proc.stdout)


def run_postgres(args, work, all_cases):
    for name in ["PGHOST", "PGPORT", "PGUSER", "PGDATABASE"]:
        if name not in os.environ:
            fail(f"postgres: {name} is not set (.ci/run starts a throw-away cluster)")
    psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1"]
    types = {"text": "text", "int": "bigint", "bool": "boolean", "float": "double precision"}
    for case in all_cases:
        spec_path, csv_path, reference = prepare(args, work, case)
        sql = xos_sql(args, case, "postgres", spec_path)
        parts = split_table(case.table)
        name = ".".join(quote_pg(p) for p in parts)
        cols = ", ".join(f"{quote_pg(n)} {types[k]}" for n, k in case.columns)
        setup = []
        if len(parts) == 2:
            setup.append(f"DROP SCHEMA IF EXISTS {quote_pg(parts[0])} CASCADE;")
            setup.append(f"CREATE SCHEMA {quote_pg(parts[0])};")
        setup.append(f"DROP TABLE IF EXISTS {name};")
        setup.append(f"CREATE TABLE {name} ({cols});")
        setup.append(f"\\copy {name} FROM '{csv_path}' WITH (FORMAT csv, HEADER true, NULL '')")
        proc = run(psql, stdin="\n".join(setup) + "\n")
        if proc.returncode != 0:
            fail(f"{case.name}: loading into PostgreSQL failed:\n{proc.stderr}")
        # The documented pipe: psql --csv -c "$(xos sql ...)" | xos run ... --data -
        start = time.perf_counter()
        proc = run(psql + ["--csv", "-c", sql])
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            fail(f"{case.name}: PostgreSQL rejected the query:\n{proc.stderr}\n{sql}")
        check_case(args, case, "postgres", spec_path, reference, proc.stdout)
        if case.name == "timing":
            timing(args, case, "postgres", elapsed, spec_path, csv_path)


def run_spark(args, work, all_cases):
    from pyspark.sql import SparkSession
    from pyspark.sql import types as T

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("xos-sql-engines")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "1g")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    kinds = {
        "text": T.StringType(),
        "int": T.LongType(),
        "bool": T.BooleanType(),
        "float": T.DoubleType(),
    }
    try:
        for case in all_cases:
            spec_path, csv_path, reference = prepare(args, work, case)
            schema = T.StructType([T.StructField(n, kinds[k], True) for n, k in case.columns])
            frame = spark.read.csv(csv_path, header=True, schema=schema, nullValue="", escape='"')
            # A global temporary view is addressed as `global_temp.NAME`: a
            # dotted table name, as in a real metastore.
            view = "rows_" + case.name
            frame.createOrReplaceGlobalTempView(view)
            table = f"global_temp.{view}"
            proc = run([args.xos, "sql", spec_path, "--dialect", "spark", "--table", table])
            if proc.returncode != 0:
                fail(f"{case.name}: xos sql --dialect spark failed:\n{proc.stderr}")
            start = time.perf_counter()
            result = spark.sql(proc.stdout)
            header = result.columns
            engine_csv = rows_to_csv(header, [tuple(r) for r in result.collect()])
            elapsed = time.perf_counter() - start
            check_case(args, case, "spark", spec_path, reference, engine_csv)
            if case.name == "timing":
                timing(args, case, "spark local[2]", elapsed, spec_path, csv_path)
        unreadable_values_without_ansi(args, work, spark, T)
    finally:
        spark.stop()


def unreadable_values_without_ansi(args, work, spark, T):
    """Spark without ANSI mode casts `yes` to NULL; with `missing zero` that
    NULL must not count as 0 (the row-level reader refuses `yes`): the
    statistic comes out NULL and `xos run` rejects the result."""
    spec = """experiment unreadable {
    data "rows.csv" { shape rows missing zero }
    variants { control 50% treatment 50% }
    primary conversion = rate(conv)
    metric revenue = mean(rev)
}
"""
    folder = os.path.join(work, "unreadable")
    os.makedirs(folder, exist_ok=True)
    spec_path = os.path.join(folder, "spec.xos")
    with open(spec_path, "w", encoding="utf-8") as f:
        f.write(spec)
    rows = [("control", "1", "2.5"), ("control", None, "3"), ("treatment", "yes", "4"),
            ("treatment", "0", "9,49 EUR"), ("treatment", "1", None)]
    schema = T.StructType([T.StructField(n, T.StringType(), True) for n in ("variant", "conv", "rev")])
    spark.createDataFrame(rows, schema).createOrReplaceGlobalTempView("unreadable")
    proc = run([args.xos, "sql", spec_path, "--dialect", "spark", "--table", "global_temp.unreadable"])
    if proc.returncode != 0:
        fail(f"unreadable: xos sql --dialect spark failed:\n{proc.stderr}")
    spark.conf.set("spark.sql.ansi.enabled", "false")
    result = spark.sql(proc.stdout)
    engine_csv = rows_to_csv(result.columns, [tuple(r) for r in result.collect()])
    code, _, stderr = xos_report(args, spec_path, engine_csv)
    if code != 1 or "could not read as a number" not in stderr:
        fail(f"unreadable: a value Spark cannot cast must be rejected (exit {code}):\n{stderr}\n{engine_csv}")
    control = [line for line in engine_csv.splitlines() if line.startswith("control")]
    if control != ["control,2,1,5.5,15.25"]:
        fail(f"unreadable: the control's NULL counts as 0 with missing zero:\n{engine_csv}")
    print("ok unreadable [spark, ANSI off]: values the cast cannot read are rejected, NULLs count as 0")


def run_sqlglot(args, golden_dir):
    """Every golden query parses in its own dialect and transpiles back."""
    import sqlglot

    names = {
        "duckdb": "duckdb",
        "postgres": "postgres",
        "bigquery": "bigquery",
        "snowflake": "snowflake",
        "trino": "trino",
        "spark": "spark",
    }
    pattern = re.compile(r"^sql__golden_(?:\w+_)?(" + "|".join(names) + r")\.snap$")
    files = sorted(f for f in os.listdir(golden_dir) if pattern.match(f))
    checked = 0
    for file in files:
        dialect = pattern.match(file).group(1)
        text = open(os.path.join(golden_dir, file), encoding="utf-8").read()
        # insta: a front matter between --- lines, then the snapshot.
        body = text.split("\n---\n", 1)[1] if text.startswith("---") else text
        try:
            statements = sqlglot.parse(body, read=names[dialect])
            back = sqlglot.transpile(body, read=names[dialect], write=names[dialect])
        except sqlglot.errors.SqlglotError as err:
            fail(f"{file}: sqlglot cannot parse the {dialect} query: {err}")
        if len([s for s in statements if s is not None]) != 1 or len(back) != 1:
            fail(f"{file}: expected one statement, found {len(statements)}")
        checked += 1
        print(f"ok {file}: parses as {dialect} and transpiles back")
    if checked < 6:
        fail(f"only {checked} golden queries found; expected one per dialect at least")
    # The dialects with no engine here: sqlglot translates their queries to
    # DuckDB's, which must then give the row-level report too. This checks
    # the queries' logic in those dialects as far as sqlglot's translation
    # is faithful; their types and functions are checked by the goldens.
    with tempfile.TemporaryDirectory(prefix="xos-sqlglot-") as work:
        for case in cases(0):
            spec_path, csv_path, reference = prepare(args, work, case)
            # BigQuery reads a dot inside backticks as a path: a plain name.
            table = "exp.events_v2"
            for dialect in ["bigquery", "snowflake", "trino"]:
                proc = run([args.xos, "sql", spec_path, "--dialect", dialect, "--table", table])
                if proc.returncode != 0:
                    fail(f"{case.name}: xos sql --dialect {dialect} failed:\n{proc.stderr}")
                duck = sqlglot.transpile(proc.stdout, read=dialect, write="duckdb")
                con = duckdb_with_table(case, csv_path, table=table)
                engine_csv = duckdb_csv(con, duck[0])
                con.close()
                check_case(args, case, f"{dialect} via sqlglot in duckdb", spec_path, reference, engine_csv)


# ------------------------------------------------------------------ helpers


def prepare(args, work, case):
    """Writes the case's spec and rows; returns their paths and the
    row-level reference (exit code, report, stderr)."""
    folder = os.path.join(work, case.name)
    spec_path = os.path.join(folder, "spec.xos")
    csv_path = os.path.join(folder, "rows.csv")
    if not os.path.exists(spec_path):
        os.makedirs(folder, exist_ok=True)
        with open(spec_path, "w", encoding="utf-8") as f:
            f.write(case.spec)
        with open(csv_path, "w", encoding="utf-8") as f:
            f.write(csv_text(case.columns, case.rows))
    key = (case.name,)
    if key not in REFERENCES:
        with open(csv_path, encoding="utf-8") as f:
            REFERENCES[key] = xos_report(args, spec_path, f.read())
    return spec_path, csv_path, REFERENCES[key]


REFERENCES = {}


def timing(args, case, engine, elapsed, spec_path, csv_path):
    start = time.perf_counter()
    proc = run([args.xos, "run", spec_path, "--data", csv_path, "--format", "json"])
    xos_elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        fail(f"timing: xos run failed:\n{proc.stderr}")
    build = "an unoptimised test build" if f"{os.sep}debug{os.sep}" in args.xos else "a release build"
    print(
        f"timing {len(case.rows)} rows: {engine} query {elapsed:.2f} s; "
        f"xos run on the CSV {xos_elapsed:.2f} s ({build}; one run, not a benchmark: see bench/sql)"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--xos", required=True)
    parser.add_argument(
        "--engine", required=True, choices=["duckdb", "postgres", "spark", "sqlglot"]
    )
    parser.add_argument("--golden", help="folder of the golden queries (sqlglot)")
    parser.add_argument("--work", help="folder for the generated data (default: a temp dir)")
    parser.add_argument("--timing-rows", type=int, default=0)
    args = parser.parse_args()
    if args.engine == "sqlglot":
        run_sqlglot(args, args.golden)
        return
    with tempfile.TemporaryDirectory(prefix="xos-engines-") as tmp:
        work = args.work or tmp
        all_cases = cases(args.timing_rows)
        {"duckdb": run_duckdb, "postgres": run_postgres, "spark": run_spark}[args.engine](
            args, work, all_cases
        )


if __name__ == "__main__":
    main()
