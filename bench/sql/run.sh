#!/usr/bin/env bash
# Where should the aggregation run? 10^7 per-unit rows to a decision, whole
# processes on the same cores with a warm page cache:
#
#   1. xos run on the CSV (xos's own streaming row-level reader)
#   2. DuckDB runs `xos sql`'s query | xos run --data -   (over the CSV, over
#      Parquet, and over a table already stored in a DuckDB database)
#   3. Polars computes the aggregated CSV | xos run --data -
#
#   bash bench/sql/run.sh              # 10M rows
#   ROWS=1000000 bash bench/sql/run.sh
#
# Installs what it needs: hyperfine (apt, when root), Polars + DuckDB into
# bench/.venv. Data goes to bench/data/ (gitignored). Not run by CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
rows=${ROWS:-10000000}
label=$([ $((rows % 1000000)) = 0 ] && echo "$((rows / 1000000))m" || echo "$rows")

if ! command -v hyperfine >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get install -y hyperfine >/dev/null 2>&1 || true
fi
[ -x bench/.venv/bin/python ] || python3 -m venv bench/.venv
bench/.venv/bin/pip install -q --disable-pip-version-check polars duckdb duckdb-cli
py=bench/.venv/bin/python
duckdb=bench/.venv/bin/duckdb
cargo build --release --quiet
xos=target/release/xos
spec=bench/sql/sql.xos

mkdir -p bench/data
csv=bench/data/rows_$label.csv
parquet=bench/data/rows_$label.parquet
db=bench/data/rows_$label.duckdb
[ -f "$csv" ] || python3 bench/rows/gen.py "$rows" "$csv"
[ -f "$parquet" ] || $py -c "import duckdb,sys; duckdb.sql(f\"COPY (SELECT * FROM read_csv('$csv')) TO '$parquet' (FORMAT parquet)\")"
[ -f "$db" ] || $py -c "import duckdb; c = duckdb.connect('$db'); c.execute(\"CREATE TABLE rows AS SELECT * FROM read_csv('$csv')\")"

query=$($xos sql "$spec" --dialect duckdb --table rows)
run="$xos run $spec --format json"
# Every path must reach the same decision before it is timed.
expected=$($run --data "$csv" | $py -c 'import json,sys; r=json.load(sys.stdin); print(r["decision"]["verdict"], r["metrics"][0]["variants"][0]["units"])')
for source in "$csv" "$parquet" "$db"; do
    got=$($py bench/sql/duckdb_query.py "$source" "$query" | $run --data - | $py -c 'import json,sys; r=json.load(sys.stdin); print(r["decision"]["verdict"], r["metrics"][0]["variants"][0]["units"])')
    [ "$got" = "$expected" ] || { echo "DuckDB over $source: $got, expected $expected" >&2; exit 1; }
done
got=$($py bench/sql/polars_agg.py "$csv" | $run --data - | $py -c 'import json,sys; r=json.load(sys.stdin); print(r["decision"]["verdict"], r["metrics"][0]["variants"][0]["units"])')
[ "$got" = "$expected" ] || { echo "Polars: $got, expected $expected" >&2; exit 1; }

echo "rows: $rows ($(du -h "$csv" | cut -f1) CSV, $(du -h "$parquet" | cut -f1) Parquet); $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
# The timed pipes include `xos sql` itself, as a user types them.
q="\"\$($xos sql $spec --dialect duckdb --table rows)\""
hyperfine --shell bash --warmup 1 --runs "${RUNS:-5}" --export-markdown bench/data/sql_$label.md \
    -n "xos run on the CSV" "$run --data $csv" \
    -n "duckdb CLI over the CSV | xos run --data -" "$duckdb -csv -c \"CREATE VIEW rows AS FROM '$csv'; \"$q | $run --data -" \
    -n "duckdb CLI over Parquet | xos run --data -" "$duckdb -csv -c \"CREATE VIEW rows AS FROM '$parquet'; \"$q | $run --data -" \
    -n "DuckDB (Python) over the CSV | xos run --data -" "$py bench/sql/duckdb_query.py $csv $q | $run --data -" \
    -n "DuckDB (Python) over Parquet | xos run --data -" "$py bench/sql/duckdb_query.py $parquet $q | $run --data -" \
    -n "DuckDB (Python) table | xos run --data -" "$py bench/sql/duckdb_query.py $db $q | $run --data -" \
    -n "Polars over the CSV | xos run --data -" "$py bench/sql/polars_agg.py $csv | $run --data -" \
    -n "Polars over Parquet | xos run --data -" "$py bench/sql/polars_agg.py $parquet | $run --data -"
cat bench/data/sql_$label.md
