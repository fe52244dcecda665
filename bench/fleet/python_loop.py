#!/usr/bin/env python3
"""The Python stack's loop over the same fleet: per experiment, pandas reads
the CSV, statsmodels and SciPy run the tests xos runs (two-proportion z-test
and Newcombe-free Wald CI for the primary and guardrails, Welch's t-test from
sufficient statistics for the mean metric, the chi-square SRM test), a small
rule picks Launch/Hold/Rollback, and a JSON memo is written. The .xos spec is
not parsed (its name gives the CSV), so this loop does less than `xos run`.

    bench/.venv/bin/python bench/fleet/python_loop.py SPEC_DIR OUT_DIR

Prints the seconds spent in the loop, imports excluded.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep


def rate(c, t, column):
    res = test_proportions_2indep(t[column], t["users"], c[column], c["users"],
                                  method="wald", compare="diff")
    low, high = confint_proportions_2indep(t[column], t["users"], c[column], c["users"],
                                           method="wald", compare="diff")
    return {"lift": t[column] / t["users"] - c[column] / c["users"],
            "p_value": float(res.pvalue), "ci": [float(low), float(high)]}


def mean(c, t):
    mc, mt = c["revenue_sum"] / c["users"], t["revenue_sum"] / t["users"]
    vc = (c["revenue_sum_sq"] - c["revenue_sum"] ** 2 / c["users"]) / (c["users"] - 1)
    vt = (t["revenue_sum_sq"] - t["revenue_sum"] ** 2 / t["users"]) / (t["users"] - 1)
    res = stats.ttest_ind_from_stats(mt, np.sqrt(vt), t["users"], mc, np.sqrt(vc), c["users"],
                                     equal_var=False)
    return {"lift": mt - mc, "p_value": float(res.pvalue)}


def main():
    specs = sorted(Path(sys.argv[1]).glob("*.xos"))
    out = Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for spec in specs:
        df = pd.read_csv(spec.with_suffix(".csv")).set_index("variant")
        c, t = df.loc["control"], df.loc["treatment"]
        srm = stats.chisquare([c["users"], t["users"]])
        primary = rate(c, t, "conversions")
        guards = {g: rate(c, t, g) for g in ("guardrail_cancel", "guardrail_error")}
        revenue = mean(c, t)
        if srm.pvalue < 0.001 or any(g["ci"][0] > 0.003 for g in guards.values()):
            verdict = "Rollback"
        elif primary["p_value"] < 0.05 and primary["lift"] > 0:
            verdict = "Launch"
        else:
            verdict = "Hold"
        memo = {"experiment": spec.stem, "verdict": verdict, "srm_p": float(srm.pvalue),
                "primary": primary, "guardrails": guards, "revenue": revenue}
        (out / f"{spec.stem}.json").write_text(json.dumps(memo, indent=2, default=float))
    print(f"{time.perf_counter() - start:.4f}")


if __name__ == "__main__":
    main()
