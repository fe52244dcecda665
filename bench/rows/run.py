#!/usr/bin/env python3
"""Times the row-level aggregation of xos, Polars and DuckDB; see run.sh.

For each file: the median wall time of the whole process (hyperfine, or
repeated runs when it is missing) after warm-up runs, peak RSS from
`/usr/bin/time -v`, and for Polars and DuckDB also their in-process query
time (without interpreter start-up and imports). Prints a Markdown table.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "bench" / "data"
PY = sys.executable
THREADS = os.cpu_count() or 1

SPEC = ROOT / "bench" / "rows" / "rows.xos"


def label(rows):
    return f"{rows // 1_000_000}m" if rows % 1_000_000 == 0 else str(rows)


def ensure_file(rows):
    DATA.mkdir(parents=True, exist_ok=True)
    csv = DATA / f"rows_{label(rows)}.csv"
    if not csv.exists():
        print(f"generating {csv.name} ...", file=sys.stderr)
        subprocess.run([PY, ROOT / "bench/rows/gen.py", str(rows), csv], check=True)
    return csv


def works(cmd, env):
    """Whether `cmd` runs and prints a JSON report (`xos run` reads the spec)."""
    done = subprocess.run(cmd, env=env, capture_output=True)
    return done.returncode == 0 and b'"schema"' in done.stdout


def wall_and_cpu(cmd, env, runs):
    """Median wall time and CPU time (user + system, mean with hyperfine), in seconds."""
    if shutil.which("hyperfine"):
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            subprocess.run(
                ["hyperfine", "--warmup", "2", "--runs", str(runs), "-N", "--export-json", out.name,
                 " ".join(map(str, cmd))],
                env=env, check=True, capture_output=True,
            )
            result = json.load(open(out.name))["results"][0]
        # hyperfine reports the mean user and system times of its runs.
        cpu = [result["user"] + result["system"]]
        return statistics.median(result["times"]), statistics.median(cpu)
    for _ in range(2):
        subprocess.run(cmd, env=env, capture_output=True, check=True)
    times, cpu = [], []
    for _ in range(runs):
        before = os.times()
        start = time.perf_counter()
        subprocess.run(cmd, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
        after = os.times()
        cpu.append(after.children_user - before.children_user + after.children_system - before.children_system)
    return statistics.median(times), statistics.median(cpu)


def peak_and_query(cmd, env, runs=3):
    """Peak RSS (MiB, the largest of `runs`) and the median in-process query time."""
    peaks, queries = [], []
    for _ in range(runs):
        done = subprocess.run(["/usr/bin/time", "-v", *map(str, cmd)], env=env,
                              capture_output=True, text=True, check=True)
        peaks.append(int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)[1]) / 1024)
        q = re.search(r"query ([0-9.]+) s", done.stderr)
        if q:
            queries.append(float(q[1]))
    return max(peaks), (statistics.median(queries) if queries else None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib-bin", required=True)
    ap.add_argument("--xos", required=True)
    ap.add_argument("--rows", nargs="+", type=int, default=[1_000_000, 10_000_000])
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()

    base = dict(os.environ, POLARS_MAX_THREADS=str(THREADS))
    lines = [
        f"{THREADS} cores, warm page cache; median wall time and mean CPU time of the whole process over "
        f"{args.runs} runs (load average before: {os.getloadavg()[0]:.1f}).",
        "",
        "| rows | file | tool | wall (median) | vs xos | CPU (user+sys) | in-process query | peak RSS |",
        "| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for rows in args.rows:
        csv = ensure_file(rows)
        size = csv.stat().st_size / 1e6
        subprocess.run(["cat", csv], stdout=subprocess.DEVNULL, check=True)  # warm the cache
        tools = []
        xos_run = [args.xos, "run", SPEC, "--data", csv, "--format", "json"]
        if works(xos_run, base):
            tools.append(("xos run", xos_run, base))
        tools.append(("xos library (one-shot)", [args.lib_bin], dict(base, XOS_ROWS_ONCE=str(csv))))
        tools.append(("Polars (scan_csv + group_by)", [PY, ROOT / "bench/rows/polars_agg.py", csv], base))
        tools.append(("DuckDB (SQL over the CSV)", [PY, ROOT / "bench/rows/duckdb_agg.py", csv, str(THREADS)], base))
        results = []
        for name, cmd, env in tools:
            wall, cpu = wall_and_cpu(cmd, env, args.runs)
            peak, query = peak_and_query(cmd, env)
            results.append((name, wall, cpu, peak, query))
            print(f"{label(rows)} {name}: {wall:.3f} s wall, {cpu:.3f} s CPU, {peak:.1f} MiB", file=sys.stderr)
        ours = results[0][1]
        for name, wall, cpu, peak, query in results:
            q = f"{query * 1000:.0f} ms" if query is not None else "—"
            lines.append(
                f"| {label(rows).upper()} | {size:.0f} MB | {name} | {wall * 1000:.0f} ms | "
                f"{wall / ours:.1f}× | {cpu * 1000:.0f} ms | {q} | {peak:.1f} MiB |"
            )
    print("\n".join(lines))


if __name__ == "__main__":
    main()
