#!/usr/bin/env bash
# Row-level aggregation, whole process: xos against Polars and DuckDB on the
# same deterministic files and the same cores, with a warm page cache.
#
#   bash bench/rows/run.sh            # 1M and 10M rows
#   ROWS="1000000" bash bench/rows/run.sh
#
# Installs what it needs: hyperfine (apt, when root) and Polars + DuckDB into
# bench/.venv (pip). Files go to bench/data/ (gitignored). Not run by CI.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v hyperfine >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get install -y hyperfine >/dev/null 2>&1 || true
fi
[ -x bench/.venv/bin/python ] || python3 -m venv bench/.venv
bench/.venv/bin/pip install -q --disable-pip-version-check polars duckdb

cargo build --release --quiet
# The criterion bench binary doubles as a one-shot loader (XOS_ROWS_ONCE):
# the aggregation alone as a whole process, beside `xos run` (the pipeline).
lib_bin=$(cargo bench --bench rows --no-run --message-format=json 2>/dev/null \
    | bench/.venv/bin/python -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "rows" and m.get("executable"):
        print(m["executable"])')

exec bench/.venv/bin/python bench/rows/run.py --lib-bin "$lib_bin" --xos target/release/xos \
    --rows ${ROWS:-1000000 10000000}
