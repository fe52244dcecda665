"""The benchmark's aggregation in Polars: lazy scan_csv + group_by."""

import sys
import time

import polars as pl

start = time.perf_counter()
out = (
    pl.scan_csv(sys.argv[1])
    .group_by("variant")
    .agg(
        pl.len().alias("units"),
        pl.col("converted").sum(),
        pl.col("revenue").sum().alias("revenue_sum"),
        (pl.col("revenue") * pl.col("revenue")).sum().alias("revenue_sum_sq"),
        pl.col("guardrail_refund").sum(),
    )
    .sort("variant")
    .collect()
)
print(out, file=sys.stderr if len(sys.argv) > 2 else sys.stdout)
print(f"query {time.perf_counter() - start:.4f} s", file=sys.stderr)
