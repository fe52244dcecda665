#!/usr/bin/env python3
"""Reference quantiles of the relative lift p_T/p_C - 1 of two independent
Beta posteriors, by SciPy: the CDF of W = p_T/p_C is
F(w) = E_C[I_{wC}(a_T, b_T)] (scipy.special.betainc, the regularized
incomplete beta, inside scipy.integrate.quad over the control posterior's
bulk, +-14 sd cut into 16 pieces, absolute and relative tolerance 1e-13),
and each bound is the root of F(w) = q (brentq, xtol 1e-15). Writes
credible.json beside this file.

    python3 tests/reference/credible_gen.py      (needs scipy)
"""

import json
import math
import os

from scipy import integrate, optimize, special, stats

CASES = [
    # x_c, n_c, x_t, n_t, prior, level
    (1440, 48000, 1560, 48100, (1, 1), 0.95),
    (99, 5000, 120, 5000, (1, 1), 0.95),
    (100, 1000, 120, 1000, (1, 1), 0.95),
    (200, 2000, 230, 2000, (1, 1), 0.90),
    (5000, 10000, 5100, 10000, (1, 1), 0.95),
    (9500, 10000, 9550, 10000, (1, 1), 0.95),
    (100000, 1000000, 101000, 1000000, (1, 1), 0.95),
    (300, 10000, 250, 10000, (0.5, 0.5), 0.99),
    (2_000_000, 100_000_000, 2_010_000, 100_000_000, (1, 1), 0.95),
    (400, 400 + 99, 450, 450 + 120, (1, 1), 0.95),
    # Shapes from 20 to 100 (rare guardrail events): the looser tier.
    (19, 10000, 25, 10000, (1, 1), 0.95),
    (20, 10000, 30, 10000, (1, 1), 0.95),
    (30, 5000, 19, 5000, (1, 1), 0.95),
    (50, 20000, 70, 20000, (1, 1), 0.90),
    (60, 10000, 80, 10000, (1, 1), 0.95),
    (99, 10000, 90, 10000, (1, 1), 0.99),
]


def quantiles(x_c, n_c, x_t, n_t, prior, level):
    a_c, b_c = x_c + prior[0], n_c - x_c + prior[1]
    a_t, b_t = x_t + prior[0], n_t - x_t + prior[1]
    control = stats.beta(a_c, b_c)
    mean_c, sd_c = control.mean(), control.std()
    lo, hi = max(0.0, mean_c - 14 * sd_c), min(1.0, mean_c + 14 * sd_c)
    edges = [lo + (hi - lo) * k / 16 for k in range(17)]

    def cdf(w):
        def f(c):
            return control.pdf(c) * special.betainc(a_t, b_t, min(1.0, w * c))
        total = 0.0
        for left, right in zip(edges, edges[1:]):
            total += integrate.quad(f, left, right, epsabs=1e-14, epsrel=1e-13, limit=200)[0]
        return total

    mean_w = (a_t / (a_t + b_t)) / mean_c
    sd_w = mean_w * math.sqrt(control.var() / mean_c**2 + stats.beta(a_t, b_t).var() / (a_t / (a_t + b_t)) ** 2)
    out = []
    for q in [(1 - level) / 2, (1 + level) / 2]:
        left, right = mean_w - 12 * sd_w, mean_w + 12 * sd_w
        w = optimize.brentq(lambda w: cdf(w) - q, max(left, 1e-12), right, xtol=1e-15, rtol=1e-15)
        out.append(w - 1)
    return out


def main():
    rows = []
    for case in CASES:
        low, high = quantiles(*case)
        x_c, n_c, x_t, n_t, prior, level = case
        rows.append({"x_c": x_c, "n_c": n_c, "x_t": x_t, "n_t": n_t, "prior": list(prior),
                     "level": level, "low": low, "high": high})
        print(rows[-1], flush=True)
    doc = {
        "convention": "Equal-tailed credible interval of p_T/p_C - 1, p ~ Beta(x + prior_a, n - x + prior_b) "
                      "independently per arm; bounds are the (1-level)/2 and (1+level)/2 quantiles.",
        "source": "SciPy: quad of E_C[I_{wC}(a_T, b_T)] with betainc, brentq; tests/reference/credible_gen.py",
        "tolerance": {"of_width": 1e-4, "of_width_min_shape_below_100": 3e-4},
        "cases": rows,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "credible.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
