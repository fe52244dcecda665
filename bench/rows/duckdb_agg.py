"""The benchmark's aggregation in DuckDB: SQL over the CSV."""

import sys
import time

import duckdb

start = time.perf_counter()
con = duckdb.connect()
con.execute(f"SET threads = {sys.argv[2] if len(sys.argv) > 2 else 2}")
out = con.execute(
    """
    SELECT variant, count(*) AS units, sum(converted), sum(revenue) AS revenue_sum,
           sum(revenue * revenue) AS revenue_sum_sq, sum(guardrail_refund)
    FROM read_csv(?)
    GROUP BY variant ORDER BY variant
    """,
    [sys.argv[1]],
).fetchall()
print(out)
print(f"query {time.perf_counter() - start:.4f} s", file=sys.stderr)
