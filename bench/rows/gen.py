#!/usr/bin/env python3
"""Deterministic row-level experiment exports for the row-level benchmark.

    python3 bench/rows/gen.py ROWS OUT.csv [metrics]

Columns: user_id, variant (control / treatment, 50/50), converted (0/1: 12%
in control, 13% in treatment), revenue (0 unless converted, then a price
with cents), guardrail_refund (0/1, 2%). About 29 bytes a row. With
`metrics`, two more columns for a ratio and a CUPED covariate: sessions (1
to 5) and revenue_pre (last month's revenue, 0 for most users); about 36
bytes a row. The same arguments always give the same bytes (seeded
generator).
"""

import random
import sys


def main():
    rows, out = int(sys.argv[1]), sys.argv[2]
    metrics = len(sys.argv) > 3 and sys.argv[3] == "metrics"
    rng = random.Random(20261128)
    rand = rng.random
    block = 100_000
    with open(out, "w", encoding="ascii", newline="\n") as f:
        extra = ",sessions,revenue_pre" if metrics else ""
        f.write(f"user_id,variant,converted,revenue,guardrail_refund{extra}\n")
        for start in range(0, rows, block):
            lines = []
            append = lines.append
            for user in range(start, min(rows, start + block)):
                treatment = rand() < 0.5
                converted = rand() < (0.13 if treatment else 0.12)
                revenue = f"{5 + 95 * rand() * rand():.2f}" if converted else "0"
                refund = "1" if rand() < 0.02 else "0"
                more = ""
                if metrics:
                    sessions = 1 + int(5 * rand())
                    pre = f"{60 * rand():.2f}" if rand() < 0.15 else "0"
                    more = f",{sessions},{pre}"
                append(
                    f"{100_000_000_000 + user},{'treatment' if treatment else 'control'},"
                    f"{1 if converted else 0},{revenue},{refund}{more}\n"
                )
            f.write("".join(lines))


if __name__ == "__main__":
    main()
