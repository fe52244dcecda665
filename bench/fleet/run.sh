#!/usr/bin/env bash
# A fleet of 1,000 experiments, whole process: `xos run DIR --out OUT` (JSON
# memos; default durability = one filesystem sync at the end, and `--sync` =
# an fsync per memo) against the Python stack's loop over the same files
# (pandas + SciPy + statsmodels, imports excluded), in the same run.
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

python_runs=()
for _ in $(seq "${PY_RUNS:-3}"); do
    rm -rf bench/data/fleet/py
    python_runs+=("$(bench/.venv/bin/python bench/fleet/python_loop.py "$specs" bench/data/fleet/py)")
done

python3 - "$N" "${python_runs[@]}" <<'PY'
import json, statistics, sys
n = int(sys.argv[1])
py = statistics.median(float(x) for x in sys.argv[2:]) / n
results = json.load(open("bench/data/fleet/hyperfine.json"))["results"]
print(f"\nper experiment, N = {n}")
print(f"{'':28} {'median':>10} {'vs Python loop':>15}")
print(f"{'Python loop (no imports)':28} {py * 1e6:8.0f} µs {'1×':>15}")
for r in results:
    per = r["median"] / n
    print(f"{r['command']:28} {per * 1e6:8.1f} µs {py / per:14.0f}×")
PY
