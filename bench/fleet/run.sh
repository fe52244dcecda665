#!/usr/bin/env bash
# A fleet of 1,000 experiments, whole process: `xos run DIR --out OUT` (JSON
# memos; default durability = one filesystem sync at the end, and `--sync` =
# an fsync per memo) against the Python stack's loop over the same files
# (pandas + SciPy + statsmodels, imports excluded), in the same run: a lean
# loop that does less than xos (python_loop.py) and one that computes the
# same report (python_report.py, checked against xos's memos first).
#
#   bash bench/fleet/run.sh            # N=1000 RUNS=10
#   N=200 RUNS=3 PY_RUNS=1 bash bench/fleet/run.sh
#
# Installs what it needs: hyperfine (apt, when root) and pandas, SciPy and
# statsmodels into bench/.venv (pip). Files go to bench/data/ (gitignored).
# Not run by CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-1000}
RUNS=${RUNS:-10}

if ! command -v hyperfine >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get install -y hyperfine >/dev/null 2>&1 || true
fi
[ -x bench/.venv/bin/python ] || python3 -m venv bench/.venv
bench/.venv/bin/pip install -q --disable-pip-version-check pandas scipy statsmodels

cargo build --release --quiet
specs=bench/data/fleet/specs
out=bench/data/fleet/out
rm -rf bench/data/fleet
python3 bench/fleet/gen.py "$specs" "$N" 18
# The new specs' writeback would otherwise run during the first timings.
sync

# The memos also go to a memory filesystem when there is one: the same run
# without the disk's inode allocation and journal, which on this machine's
# ext4 cost more CPU than xos itself and grow from run to run.
shm_out=/dev/shm/xos-fleet-out
shm=()
if [ -d /dev/shm ]; then
    shm=(--prepare "rm -rf $shm_out" -n "xos run, memos on tmpfs"
        "target/release/xos run $specs --out $shm_out --format json --date 2026-01-01")
fi
# tmpfs first: the ext4 runs leave the kernel writing back their files for
# a while after they exit, which took a core from the runs after them.
hyperfine --warmup 1 --runs "$RUNS" --export-json bench/data/fleet/hyperfine.json \
    "${shm[@]}" \
    --prepare "rm -rf $out" \
    -n "xos run (sync at end)" "target/release/xos run $specs --out $out --format json --date 2026-01-01" \
    --prepare "rm -rf $out" \
    -n "xos run --sync" "target/release/xos run $specs --out $out --format json --date 2026-01-01 --sync"
rm -rf "$shm_out"

# Both Python loops write to the memory filesystem when there is one, as the
# first xos row does: python_loop.py (less work than xos: see its docstring)
# and python_report.py (the same report, checked number by number against
# xos's memos before it is timed).
py_out=bench/data/fleet/py
[ -d /dev/shm ] && py_out=/dev/shm/xos-fleet-py
rm -rf "$shm_out"
target/release/xos run "$specs" --out "$shm_out" --format json --date 2026-01-01 2> /dev/null
rm -rf "$py_out"
bench/.venv/bin/python bench/fleet/python_report.py "$specs" "$py_out" --check "$shm_out" > /dev/null
rm -rf "$shm_out"

lean_runs=()
report_runs=()
for _ in $(seq "${PY_RUNS:-3}"); do
    rm -rf "$py_out"
    lean_runs+=("$(bench/.venv/bin/python bench/fleet/python_loop.py "$specs" "$py_out")")
    rm -rf "$py_out"
    report_runs+=("$(bench/.venv/bin/python bench/fleet/python_report.py "$specs" "$py_out")")
done
rm -rf "$py_out"

python3 - "$N" "${lean_runs[*]}" "${report_runs[*]}" <<'PY'
import json, statistics, sys
n = int(sys.argv[1])
lean = statistics.median(float(x) for x in sys.argv[2].split()) / n
same = statistics.median(float(x) for x in sys.argv[3].split()) / n
results = json.load(open("bench/data/fleet/hyperfine.json"))["results"]
print(f"\nper experiment, N = {n}")
print(f"{'':32} {'median':>10} {'vs lean loop':>13} {'vs same report':>15}")
print(f"{'Python lean loop (no imports)':32} {lean * 1e6:8.0f} µs {'1×':>13} {'':>15}")
print(f"{'Python same report (no imports)':32} {same * 1e6:8.0f} µs {'':>13} {'1×':>15}")
for r in results:
    per = r["median"] / n
    print(f"{r['command']:32} {per * 1e6:8.1f} µs {lean / per:12.0f}× {same / per:14.0f}×")
PY
