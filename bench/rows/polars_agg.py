"""The benchmark's aggregation in Polars: lazy scan_csv + group_by."""

import sys
import time

import polars as pl


def aggregate(scan, units="units"):
    """Per variant: the units (rows), Σconverted, Σrevenue, Σrevenue² and
    Σguardrail_refund, sorted by variant (also used by bench/sql)."""
    return (
        scan.group_by("variant")
        .agg(
            pl.len().alias(units),
            pl.col("converted").sum(),
            pl.col("revenue").sum().alias("revenue_sum"),
            (pl.col("revenue") * pl.col("revenue")).sum().alias("revenue_sum_sq"),
            pl.col("guardrail_refund").sum(),
        )
        .sort("variant")
    )


if __name__ == "__main__":
    start = time.perf_counter()
    out = aggregate(pl.scan_csv(sys.argv[1])).collect()
    print(out, file=sys.stderr if len(sys.argv) > 2 else sys.stdout)
    print(f"query {time.perf_counter() - start:.4f} s", file=sys.stderr)
