"""Writes search.csv, the row-level data of the search_ratio example.

One row per user: the queries and clicks of the experiment period, the same
user's clicks before the experiment (`clicks_pre`, the CUPED covariate of
`clicks_per_user`), and whether the user abandoned a search session during
and before the experiment. Deterministic (seeded); re-run with
`python3 generate.py` from this folder.
"""

import random

rng = random.Random(16)
USERS = 6000


def poisson(mean):
    # Knuth's method: the means here are small.
    limit, k, p = pow(2.718281828459045, -mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def binomial(n, p):
    return sum(rng.random() < p for _ in range(n))


with open("search.csv", "w") as out:
    out.write("user_id,variant,queries,clicks,clicks_pre,abandoned,abandoned_pre\n")
    for user in range(USERS):
        variant = "treatment" if rng.random() < 0.5 else "control"
        activity = rng.gammavariate(2.0, 2.0)
        taste = min(0.95, max(0.02, rng.betavariate(3.0, 7.0)))
        lift = 1.12 if variant == "treatment" else 1.0
        queries = poisson(activity)
        clicks = binomial(queries, min(1.0, taste * lift))
        clicks_pre = binomial(poisson(activity), taste)
        churny = rng.betavariate(0.4, 4.0)
        abandoned = int(rng.random() < churny)
        abandoned_pre = int(rng.random() < churny)
        out.write(f"u{user:05d},{variant},{queries},{clicks},{clicks_pre},{abandoned},{abandoned_pre}\n")
