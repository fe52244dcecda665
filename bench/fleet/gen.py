#!/usr/bin/env python3
"""Writes N experiment specs and their aggregated CSVs into a folder.

    python3 bench/fleet/gen.py OUT_DIR [N=1000] [SEED=18]

Each spec is the shape of examples/checkout (a rate primary, a mean metric,
two rate guardrails, the built-in policy) with its own name and its own data,
drawn from a seeded generator (true rates, lifts and traffic vary), so the
fleet holds Launch, Hold and Rollback decisions and no two files are alike.
"""

import random
import sys
from pathlib import Path

SPEC = """experiment {name} {{
    title      "Fleet experiment {i}"
    owner      "bench"
    hypothesis "A change that may or may not help."

    data "{name}.csv"

    variants {{
        control   50%
        treatment 50%
    }}

    primary conversion = rate(conversions) {{
        baseline {baseline}%
        mde      5% relative
    }}

    metric revenue = mean(revenue)

    guardrail cancel_rate = rate(guardrail_cancel) {{
        worsened 0.1pp
        severe   0.3pp
    }}

    guardrail error_rate = rate(guardrail_error) {{
        worsened 0.1pp
        severe   0.3pp
    }}

    plan {{
        daily_users 20_000
        power       80%
    }}

    settings {{
        alpha 5%
    }}
}}
"""


def arm(rng, users, rate, cancel, error, mean_rev):
    conversions = round(users * rate + rng.gauss(0, (users * rate) ** 0.5))
    revenue_sum = mean_rev * users
    revenue_sum_sq = revenue_sum * mean_rev * (1 + rng.uniform(0.5, 2.0))
    return [users, max(0, conversions), round(users * cancel), round(users * error),
            round(revenue_sum), round(revenue_sum_sq)]


def main():
    out = Path(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 18)
    out.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        name = f"exp_{i:04d}"
        users = rng.randint(2_000, 200_000)
        base = rng.uniform(0.05, 0.2)
        lift = rng.choice([0.0, 0.0, 0.03, 0.08, -0.05])
        cancel = rng.uniform(0.005, 0.02)
        error = rng.uniform(0.002, 0.01)
        worse = rng.choice([0.0, 0.0, 0.0, 0.004])
        rows = [
            ["control"] + arm(rng, users, base, cancel, error, 25.0),
            ["treatment"] + arm(rng, users + rng.randint(-50, 50), base * (1 + lift),
                                cancel + worse, error, 25.0 * (1 + lift / 2)),
        ]
        (out / f"{name}.xos").write_text(
            SPEC.format(name=name, i=i, baseline=round(base * 100, 1)))
        with open(out / f"{name}.csv", "w") as f:
            f.write("variant,users,conversions,guardrail_cancel,guardrail_error,"
                    "revenue_sum,revenue_sum_sq\n")
            for row in rows:
                f.write(",".join(str(v) for v in row) + "\n")


if __name__ == "__main__":
    main()
