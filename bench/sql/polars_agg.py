"""The spec's aggregated CSV computed by Polars from the per-unit file, on
stdout: `python polars_agg.py FILE` (CSV or Parquet). The aggregation is the
row-level benchmark's (bench/rows/polars_agg.py), with the units column
named as the spec reads it."""

import importlib.util
import sys
from pathlib import Path

import polars as pl

spec = importlib.util.spec_from_file_location(
    "rows_polars_agg", Path(__file__).resolve().parents[1] / "rows" / "polars_agg.py"
)
rows = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rows)

path = sys.argv[1]
scan = pl.scan_parquet(path) if path.endswith(".parquet") else pl.scan_csv(path)
rows.aggregate(scan, units="users").collect().write_csv(sys.stdout, float_precision=None)
