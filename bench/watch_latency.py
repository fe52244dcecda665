#!/usr/bin/env python3
"""Save-to-memo latency of `xos watch` over 50 saves.

Starts `xos watch` (release build) on a temporary folder holding one spec and
its CSV, then 50 times: rewrites the CSV (alternating between a winning and a
flat result, so every save changes the memo), and measures the time from the
write to the memo on disk showing the new verdict. Prints median, p90 and max.
The debounce is the default (50 ms), so it is included in every figure.

    cargo build --release && python3 bench/watch_latency.py [--saves 50] [--debounce 50]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

SPEC = """experiment checkout_redesign {
    data "checkout.csv"
    variants { control 50% treatment 50% }
    primary conversion = rate(conversions)
}
"""
WIN = "variant,users,conversions\ncontrol,10000,1200\ntreatment,10050,1320\n"
FLAT = "variant,users,conversions\ncontrol,10000,1200\ntreatment,10050,1205\n"


def wait_for(path, needle, timeout=10.0):
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        try:
            with open(path, encoding="utf-8") as f:
                if needle in f.read():
                    return time.perf_counter()
        except FileNotFoundError:
            pass
        time.sleep(0.0005)
    raise SystemExit(f"timed out waiting for {needle!r} in {path}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--saves", type=int, default=50)
    parser.add_argument("--debounce", type=int, default=50)
    parser.add_argument("--xos", default=os.path.join(os.path.dirname(__file__), "..", "target", "release", "xos"))
    args = parser.parse_args()
    if not os.path.exists(args.xos):
        raise SystemExit("build first: cargo build --release")

    with tempfile.TemporaryDirectory() as tmp:
        specs = os.path.join(tmp, "specs")
        out = os.path.join(tmp, "out")
        os.makedirs(specs)
        with open(os.path.join(specs, "checkout.xos"), "w") as f:
            f.write(SPEC)
        csv = os.path.join(specs, "checkout.csv")
        with open(csv, "w") as f:
            f.write(FLAT)
        memo = os.path.join(out, "checkout_redesign.md")
        proc = subprocess.Popen(
            [args.xos, "watch", "--debounce", str(args.debounce), "--out", out, specs],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(memo, "HOLD")
            latencies = []
            for i in range(args.saves):
                data, needle = (WIN, "LAUNCH") if i % 2 == 0 else (FLAT, "HOLD")
                start = time.perf_counter()
                with open(csv, "w") as f:
                    f.write(data)
                done = wait_for(memo, needle)
                latencies.append((done - start) * 1000.0)
                time.sleep(0.15)  # let the watcher settle between saves
        finally:
            proc.terminate()
            proc.wait()

    latencies.sort()
    p90 = latencies[int(0.9 * (len(latencies) - 1))]
    print(f"saves: {len(latencies)}, debounce: {args.debounce} ms")
    print(f"median: {statistics.median(latencies):.1f} ms, p90: {p90:.1f} ms, max: {latencies[-1]:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
