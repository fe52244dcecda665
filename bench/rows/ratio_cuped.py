#!/usr/bin/env python3
"""What a ratio metric and a CUPED covariate cost per row: CPU time of the
row-level aggregation alone (the `rows` bench binary's one-shot mode, one
thread) in three configurations, run interleaved so a busy machine slows
each alike:

  base      bench/rows/rows.xos          over rows_N.csv          (3 value columns, 29 bytes a row)
  same      bench/rows/rows.xos          over rows_metrics_N.csv  (the same spec over the wider file)
  wide      bench/rows/rows_wide.xos     over rows_metrics_N.csv  (+ mean(sessions), mean(revenue_pre):
                                                                    the same 5 value columns read)
  metrics   bench/rows/rows_metrics.xos  over rows_metrics_N.csv  (+ ratio(revenue, sessions),
                                                                    + covariate revenue_pre: 5 value
                                                                    columns, 2 cross-products)

CPU time (user + system, from getrusage of the child) rather than wall
time: on a shared machine wall time measures the queue for a core.

    python3 bench/rows/ratio_cuped.py --bin PATH [--rows 5000000] [--repeat 15]

The files come from bench/rows/gen.py (made when missing, in bench/data/).
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data")


def cpu_seconds(binary, spec, path):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = dict(os.environ, XOS_ROWS_ONCE=path, XOS_ROWS_THREADS="1", XOS_ROWS_SPEC=spec)
    subprocess.run([binary], env=env, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True, help="the rows bench binary")
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    os.makedirs(DATA, exist_ok=True)
    files = {}
    for kind, extra in [("rows", []), ("rows_metrics", ["metrics"])]:
        path = os.path.join(DATA, f"{kind}_{args.rows // 1_000_000}m.csv")
        if not os.path.exists(path):
            subprocess.run([sys.executable, os.path.join(HERE, "gen.py"), str(args.rows), path, *extra], check=True)
        files[kind] = path
    configs = [
        ("base", "rows.xos", files["rows"]),
        ("same", "rows.xos", files["rows_metrics"]),
        ("wide", "rows_wide.xos", files["rows_metrics"]),
        ("metrics", "rows_metrics.xos", files["rows_metrics"]),
    ]
    times = {name: [] for name, _, _ in configs}
    for _ in range(args.repeat):
        for name, spec, path in configs:
            times[name].append(cpu_seconds(args.bin, spec, path))
    medians = {name: statistics.median(t) for name, t in times.items()}
    print(f"{args.rows:,} rows, {args.repeat} interleaved runs each, one thread, median CPU time")
    for name, spec, path in configs:
        m = medians[name]
        print(f"  {name:<8} {spec:<17} {os.path.basename(path):<24} {m * 1000:8.1f} ms  {m * 1e9 / args.rows:6.1f} ns/row")
    print(f"  metrics / same: {medians['metrics'] / medians['same']:.3f}  (the ratio and the covariate, same file)")
    print(f"  metrics / wide: {medians['metrics'] / medians['wide']:.3f}  (the cross-products alone: same columns read)")
    print(f"  wide / same:    {medians['wide'] / medians['same']:.3f}  (reading two more value columns)")
    print(f"  metrics / base: {medians['metrics'] / medians['base']:.3f}  (the spec and its wider file)")
    print(f"  same / base:    {medians['same'] / medians['base']:.3f}  (the wider file alone)")


if __name__ == "__main__":
    main()
