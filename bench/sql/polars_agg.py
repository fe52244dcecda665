"""The spec's aggregated CSV computed by Polars from the per-unit file, on
stdout: `python polars_agg.py FILE` (CSV or Parquet)."""

import sys

import polars as pl

path = sys.argv[1]
scan = pl.scan_parquet(path) if path.endswith(".parquet") else pl.scan_csv(path)
out = (
    scan.group_by("variant")
    .agg(
        pl.len().alias("users"),
        pl.col("converted").sum(),
        pl.col("revenue").sum().alias("revenue_sum"),
        (pl.col("revenue") * pl.col("revenue")).sum().alias("revenue_sum_sq"),
        pl.col("guardrail_refund").sum(),
    )
    .sort("variant")
    .collect()
)
out.write_csv(sys.stdout, float_precision=None)
