"""Runs a query in DuckDB and prints its result as CSV, as `duckdb -csv -c`
does: `python duckdb_query.py DB SQL`. DB is a DuckDB database file, or a
CSV / Parquet file that is exposed as the table `rows`."""

import csv
import os
import sys

import duckdb

db, sql = sys.argv[1], sys.argv[2]
if db.endswith(".duckdb"):
    con = duckdb.connect(db, read_only=True)
else:
    con = duckdb.connect()
    reader = "read_parquet" if db.endswith(".parquet") else "read_csv"
    con.execute(f"CREATE VIEW rows AS SELECT * FROM {reader}('{db}')")
con.execute(f"SET threads = {os.cpu_count() or 1}")
result = con.execute(sql)
out = csv.writer(sys.stdout, lineterminator="\n")
out.writerow([d[0] for d in result.description])
for row in result.fetchall():
    out.writerow(["" if v is None else repr(v) if isinstance(v, float) else v for v in row])
