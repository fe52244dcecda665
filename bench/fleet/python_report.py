#!/usr/bin/env python3
"""The Python stack computing the report `xos run --format json` writes, for
each experiment of the fleet: the same work as xos, with the library routines
a Python analyst reaches for, and the cheapest of them wherever two give the
same numbers (SciPy's `special` functions rather than its distribution
objects, whose argument checks cost about 150 µs a call).

Per experiment it reads the spec (the fields the fleet's specs set, by regular
expressions: a lighter reader than xos's parser and checker), reads the CSV
with pandas, and computes what the JSON report holds:

- health: the SRM chi-square test against the declared split (SciPy), the
  minimum-units check;
- each rate metric (the primary and both guardrails): the Miettinen-Nurminen
  score test and interval (statsmodels `test_proportions_2indep` and
  `confint_proportions_2indep`, `method="score"`), the relative interval by
  the delta method, Holm's adjustment (statsmodels `multipletests`),
  P(better) and the expected loss exactly (Evan Miller's sums, vectorised
  with NumPy over SciPy's `betaln`), the credible interval of the relative
  lift (the Cornish-Fisher expansion in the exact cumulants from SciPy's
  `polygamma` when every posterior shape is at least 100, as xos; else
  100,000 seeded NumPy Beta draws per arm, as xos), and for guardrails the
  worsened/severe flags and the one-sided bound of the degradation (the score
  interval at 1 - 2 alpha);
- the mean metric: Welch's t-test and interval from the sums (SciPy's t
  distribution), the relative interval with the t quantile, and the normal
  posterior's P(better) and expected loss;
- the planned sample (normal approximation, unpooled variance), its days and
  what remains;
- the decision by xos's built-in policy, in order;

and writes the JSON memo atomically (a temporary file, then a rename), with
one `sync` at the end, as `xos run --out` does.

    bench/.venv/bin/python bench/fleet/python_report.py SPEC_DIR OUT_DIR
    bench/.venv/bin/python bench/fleet/python_report.py SPEC_DIR OUT_DIR --check XOS_OUT_DIR

Prints the seconds spent in the loop, imports excluded. With `--check`, it
then compares every number it computed with xos's JSON memo of the same
experiment and exits 1 if any differs by more than the tolerances below
(statsmodels' score interval carries a known coefficient error at tiny n,
statsmodels issue #10269, which is why the interval's tolerance is not
tighter): the two loops did the same work.
"""

import json
import math
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, special, stats
from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

PERCENT = r"([0-9_.]+)(%|pp)?"


def number(text, unit=None):
    value = float(text.replace("_", ""))
    return value / 100 if unit in ("%", "pp") else value


def read_spec(path):
    text = path.read_text()
    spec = {"name": re.search(r"experiment\s+(\w+)", text).group(1),
            "data": re.search(r'data\s+"([^"]+)"', text).group(1)}
    split = re.search(r"variants\s*\{([^}]*)\}", text).group(1)
    spec["split"] = {m.group(1): number(m.group(2), m.group(3))
                     for m in re.finditer(r"(\w+)\s+" + PERCENT, split)}
    primary = re.search(r"primary\s+(\w+)\s*=\s*rate\((\w+)\)\s*\{([^}]*)\}", text)
    baseline = re.search(r"baseline\s+" + PERCENT, primary.group(3))
    mde = re.search(r"mde\s+" + PERCENT + r"\s*(relative)?", primary.group(3))
    spec["primary"] = {"name": primary.group(1), "column": primary.group(2),
                       "baseline": number(baseline.group(1), baseline.group(2)),
                       "mde": number(mde.group(1), mde.group(2)),
                       "relative": mde.group(3) == "relative"}
    spec["means"] = [(m.group(1), m.group(2))
                     for m in re.finditer(r"metric\s+(\w+)\s*=\s*mean\((\w+)\)", text)]
    spec["guardrails"] = []
    for m in re.finditer(r"guardrail\s+(\w+)\s*=\s*rate\((\w+)\)\s*\{([^}]*)\}", text):
        worsened = re.search(r"worsened\s+" + PERCENT, m.group(3))
        severe = re.search(r"severe\s+" + PERCENT, m.group(3))
        spec["guardrails"].append({"name": m.group(1), "column": m.group(2),
                                   "worsened": number(worsened.group(1), worsened.group(2)),
                                   "severe": number(severe.group(1), severe.group(2))})
    spec["daily_users"] = number(re.search(r"daily_users\s+([0-9_.]+)", text).group(1))
    power = re.search(r"power\s+" + PERCENT, text)
    spec["power"] = number(power.group(1), power.group(2))
    alpha = re.search(r"alpha\s+" + PERCENT, text)
    spec["alpha"] = number(alpha.group(1), alpha.group(2)) if alpha else 0.05
    return spec


def prob_greater(ax, bx, ay, by):
    """P(X > Y), X ~ Beta(ax, bx), Y ~ Beta(ay, by), whole ax: Evan Miller's sum."""
    i = np.arange(int(ax), dtype=float)
    terms = (special.betaln(ay + i, bx + by) - np.log(bx + i)
             - special.betaln(1 + i, bx) - special.betaln(ay, by))
    return min(1.0, float(np.exp(terms).sum()))


def beta_posteriors(x_c, n_c, x_t, n_t, higher):
    """P(better) and the expected loss of shipping the treatment, exactly."""
    a_c, b_c, a_t, b_t = 1 + x_c, 1 + n_c - x_c, 1 + x_t, 1 + n_t - x_t
    mean_c, mean_t = a_c / (a_c + b_c), a_t / (a_t + b_t)
    if higher:  # loss = E[max(p_C - p_T, 0)]
        better = prob_greater(a_t, b_t, a_c, b_c)
        loss = mean_c * prob_greater(a_c + 1, b_c, a_t, b_t) - mean_t * prob_greater(a_c, b_c, a_t + 1, b_t)
    else:  # loss = E[max(p_T - p_C, 0)]
        better = prob_greater(a_c, b_c, a_t, b_t)
        loss = mean_t * prob_greater(a_t + 1, b_t, a_c, b_c) - mean_c * prob_greater(a_t, b_t, a_c + 1, b_c)
    return better, max(loss, 0.0)


def credible(x_c, n_c, x_t, n_t, level, seed=42, draws=100_000):
    """Credible interval of p_T/p_C - 1 under Beta(1, 1) priors."""
    shapes = np.array([1 + x_c, 1 + n_c - x_c, 1 + x_t, 1 + n_t - x_t], dtype=float)
    lo_p, hi_p = (1 - level) / 2, (1 + level) / 2
    if shapes.min() >= 100:
        # Y = ln p_T - ln p_C; kappa_n(ln p) = psi^(n-1)(a) - psi^(n-1)(a + b).
        k = np.arange(4)
        cum_t = special.polygamma(k, shapes[2]) - special.polygamma(k, shapes[2] + shapes[3])
        cum_c = special.polygamma(k, shapes[0]) - special.polygamma(k, shapes[0] + shapes[1])
        kappa = cum_t + cum_c * np.array([-1, 1, -1, 1])
        g1, g2 = kappa[2] / kappa[1] ** 1.5, kappa[3] / kappa[1] ** 2
        z = special.ndtri(np.array([lo_p, hi_p]))
        w = (z + (z ** 2 - 1) * g1 / 6 + (z ** 3 - 3 * z) * g2 / 24
             - (2 * z ** 3 - 5 * z) * g1 ** 2 / 36)
        return [float(v) for v in np.expm1(kappa[0] + w * math.sqrt(kappa[1]))]
    rng = np.random.default_rng(seed)
    p_c = rng.beta(shapes[0], shapes[1], draws)
    p_t = rng.beta(shapes[2], shapes[3], draws)
    return [float(v) for v in np.quantile(p_t / p_c - 1, [lo_p, hi_p])]


def score_interval(x_t, n_t, x_c, n_c, alpha):
    """The Miettinen-Nurminen interval of p_t - p_c at 1 - alpha: the score
    statistic with Farrington-Manning's constrained rates in closed form,
    inverted by SciPy's brentq. (statsmodels' `confint_proportions_2indep`
    with `method="score"` is off by up to 1e-5 in the fleet, issue #10269,
    and its bracket fails on one of its experiments.)"""
    lift = x_t / n_t - x_c / n_c
    crit = special.ndtri(1 - alpha / 2)
    n = n_t + n_c

    def z(delta):
        # Farrington-Manning's constrained rates in closed form.
        pt_hat, pc_hat, th = x_t / n_t, x_c / n_c, n_c / n_t
        a = 1 + th
        b = -(1 + th + pt_hat + th * pc_hat + delta * (th + 2))
        c = delta ** 2 + delta * (2 * pt_hat + th + 1) + pt_hat + th * pc_hat
        d = -pt_hat * delta * (1 + delta)
        v = b ** 3 / (27 * a ** 3) - b * c / (6 * a ** 2) + d / (2 * a)
        u = math.copysign(math.sqrt(max(b ** 2 / (9 * a ** 2) - c / (3 * a), 0.0)), v)
        w = math.pi / 2 if v == 0 else (math.pi + math.acos(max(-1.0, min(1.0, v / u ** 3)))) / 3
        pt = min(1.0, max(0.0, 2 * u * math.cos(w) - b / (3 * a)))
        pc = min(1.0, max(0.0, pt - delta))
        var = (pt * (1 - pt) / n_t + pc * (1 - pc) / n_c) * n / (n - 1)
        return (lift - delta) / math.sqrt(var)

    eps = 1e-9
    return (optimize.brentq(lambda d: z(d) - crit, -1 + eps, lift),
            optimize.brentq(lambda d: z(d) + crit, lift, 1 - eps))


def holm(p_values):
    """Holm's step-down adjustment across treatment arms. (statsmodels'
    `multipletests` gives the same numbers, but calls `gc.collect()` each
    time: 55 ms here, which would be charged to Python unfairly.)"""
    p = np.asarray(p_values, dtype=float)
    order = np.argsort(p)
    steps = np.maximum.accumulate((len(p) - np.arange(len(p))) * p[order])
    adjusted = np.empty_like(p)
    adjusted[order] = np.minimum(steps, 1.0)
    return adjusted


def relative(m_c, v_c, m_t, v_t, q):
    rel = (m_t - m_c) / abs(m_c)
    se = math.sqrt(v_t / m_c ** 2 + m_t ** 2 * v_c / m_c ** 4)
    return rel, rel - q * se, rel + q * se


def rate_metric(c, t, column, alpha, higher, guard=None):
    x_c, n_c, x_t, n_t = int(c[column]), int(c["users"]), int(t[column]), int(t["users"])
    m_c, m_t = x_c / n_c, x_t / n_t
    lift = m_t - m_c
    p = test_proportions_2indep(x_t, n_t, x_c, n_c, method="score", compare="diff",
                                correction=True).pvalue
    low, high = score_interval(x_t, n_t, x_c, n_c, alpha)
    p_adj = holm([p])[0]
    rel, rel_low, rel_high = relative(m_c, m_c * (1 - m_c) / n_c, m_t, m_t * (1 - m_t) / n_t,
                                      special.ndtri(1 - alpha / 2))
    better, loss = beta_posteriors(x_c, n_c, x_t, n_t, higher)
    cred = credible(x_c, n_c, x_t, n_t, 1 - alpha)
    significant = p_adj < alpha
    out = {"abs_lift": lift, "rel_lift": rel, "ci_low": low, "ci_high": high,
           "rel_ci_low": rel_low, "rel_ci_high": rel_high, "p_value": float(p),
           "p_adjusted": float(p_adj), "significant": bool(significant),
           "better": bool(significant and (lift > 0) == higher),
           "worse": bool(significant and (lift < 0) == higher),
           "prob_better": better, "expected_loss": loss,
           "rel_credible_low": cred[0], "rel_credible_high": cred[1]}
    if guard:
        degradation = lift if not higher else -lift
        out["severe"] = degradation >= guard["severe"]
        out["worsened"] = out["severe"] or degradation >= guard["worsened"]
        out["status"] = "severe" if out["severe"] else "worsened" if out["worsened"] else "ok"
        _, upper = score_interval(x_t, n_t, x_c, n_c, 2 * alpha)
        out["degradation_bound"] = float(upper)
    return x_c / n_c, x_t / n_t, out


def mean_metric(c, t, column, alpha):
    arms = []
    for arm in (c, t):
        n, s, q = float(arm["users"]), float(arm[f"{column}_sum"]), float(arm[f"{column}_sum_sq"])
        mean = s / n
        var = (q - s * mean) / (n - 1)
        arms.append((n, mean, var / n, math.sqrt(var)))
    (n_c, m_c, v_c, sd_c), (n_t, m_t, v_t, sd_t) = arms
    lift = m_t - m_c
    se = math.sqrt(v_c + v_t)
    df = (v_c + v_t) ** 2 / (v_c ** 2 / (n_c - 1) + v_t ** 2 / (n_t - 1))
    p = 2 * special.stdtr(df, -abs(lift / se))
    q = special.stdtrit(df, 1 - alpha / 2)
    p_adj = holm([p])[0]
    rel, rel_low, rel_high = relative(m_c, v_c, m_t, v_t, q)
    u = lift / se
    significant = p_adj < alpha
    return (m_c, sd_c), (m_t, sd_t), {
        "abs_lift": lift, "rel_lift": rel, "ci_low": lift - q * se, "ci_high": lift + q * se,
        "rel_ci_low": rel_low, "rel_ci_high": rel_high, "p_value": float(p),
        "p_adjusted": float(p_adj), "significant": bool(significant),
        "better": bool(significant and lift > 0), "worse": bool(significant and lift < 0),
        "prob_better": float(special.ndtr(u)),
        "expected_loss": se * float(math.exp(-u * u / 2) / math.sqrt(2 * math.pi) - u * special.ndtr(-u))}


def plan(spec, units):
    primary, alpha = spec["primary"], spec["alpha"]
    p1 = primary["baseline"]
    delta = p1 * primary["mde"] if primary["relative"] else primary["mde"]
    p2 = p1 + delta
    zz = special.ndtri(1 - alpha / 2) + special.ndtri(spec["power"])
    per_arm = math.ceil(zz ** 2 * (p1 * (1 - p1) + p2 * (1 - p2)) / delta ** 2)
    total = 2 * per_arm
    remaining = [max(0, per_arm - u) for u in units]
    return {"per_variant": [{"variant": v, "units": per_arm} for v in ("control", "treatment")],
            "total": total, "days": math.ceil(total / spec["daily_users"]),
            "power": spec["power"], "sample_reached": not any(remaining),
            "remaining": [{"variant": v, "units": r} for v, r in zip(("control", "treatment"), remaining)],
            "days_remaining": math.ceil(sum(remaining) / spec["daily_users"]),
            "daily_users": spec["daily_users"], "alpha": alpha}


def decide(health, srm_p, primary, guards, plan_):
    rules = [("srm_blocked", srm_p < 1e-5, "hold"),
             ("invalid_data", health == "blocked", "hold"),
             ("sample_ratio_mismatch", srm_p < 1e-3, "hold"),
             ("severe_guardrail", any(g["severe"] and g["worse"] for g in guards), "rollback"),
             ("primary_harm", primary["worse"], "rollback"),
             ("early_look", not plan_["sample_reached"], "hold"),
             ("guardrail_worsened", primary["better"] and any(g["worsened"] for g in guards), "hold"),
             ("health_warning", health == "warning", "hold"),
             ("clear_win", primary["better"], "launch")]
    return next(((name, then) for name, fired, then in rules if fired), ("otherwise", "hold"))


def write_atomically(path, text):
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", delete=False) as f:
        f.write(text)
    os.replace(f.name, path)


def report(spec_path):
    spec = read_spec(spec_path)
    df = pd.read_csv(spec_path.parent / spec["data"]).set_index("variant")
    c, t = df.loc["control"], df.loc["treatment"]
    alpha = spec["alpha"]
    units = [int(c["users"]), int(t["users"])]
    total = sum(units)
    srm = stats.chisquare(units, f_exp=[total * spec["split"]["control"], total * spec["split"]["treatment"]])
    srm_p = float(srm.pvalue)
    health = "blocked" if srm_p < 1e-5 else "warning" if srm_p < 1e-3 or min(units) < 100 else "healthy"
    metrics = []
    p = spec["primary"]
    m_c, m_t, primary = rate_metric(c, t, p["column"], alpha, True)
    metrics.append({"name": p["name"], "variants": [m_c, m_t], "comparison": primary})
    for name, column in spec["means"]:
        arm_c, arm_t, comparison = mean_metric(c, t, column, alpha)
        metrics.append({"name": name, "variants": [arm_c, arm_t], "comparison": comparison})
    guards = []
    for g in spec["guardrails"]:
        m_c, m_t, comparison = rate_metric(c, t, g["column"], alpha, False, g)
        guards.append(comparison)
        metrics.append({"name": g["name"], "variants": [m_c, m_t], "comparison": comparison})
    plan_ = plan(spec, units)
    rule, verdict = decide(health, srm_p, primary, guards, plan_)
    return spec, {"experiment": spec["name"], "decision": {"verdict": verdict, "rule": rule},
                  "health": {"status": health, "srm": {"chi2": float(srm.statistic), "p_value": srm_p}},
                  "metrics": metrics, "plan": plan_}


# Tolerances of --check: absolute, on the numbers xos reports.
# Evan Miller's sum adds up to 40,000 terms, each exp(betaln(...)) of
# arguments near 1e5, whose rounding reaches 1e-9 of P(better).
TOLERANCE = {"credible_sampled": 0.02, "credible": 1e-4, "ci": 1e-9, "prob_better": 1e-8,
             "default": 1e-9}


def check(memo, xos):
    """The differences between this loop's memo and xos's, as strings."""
    problems = []

    def near(what, mine, theirs, tol):
        if theirs is None or not math.isclose(mine, theirs, rel_tol=tol, abs_tol=tol):
            problems.append(f"{memo['experiment']}: {what} {mine!r} vs xos {theirs!r}")

    if (memo["decision"]["verdict"], memo["decision"]["rule"]) != (xos["decision"]["verdict"], xos["decision"]["rule"]):
        problems.append(f"{memo['experiment']}: decision {memo['decision']} vs xos {xos['decision']}")
    if memo["health"]["status"] != xos["health"]["status"]:
        problems.append(f"{memo['experiment']}: health {memo['health']['status']} vs {xos['health']['status']}")
    near("srm p", memo["health"]["srm"]["p_value"], xos["health"]["srm"]["p_value"], 1e-9)
    for mine, theirs in zip(memo["metrics"], xos["metrics"]):
        comparison, other = mine["comparison"], theirs["comparisons"][0]
        for key, value in comparison.items():
            what = f"{mine['name']}.{key}"
            if isinstance(value, (bool, str)):
                if value != other[key]:
                    problems.append(f"{memo['experiment']}: {what} {value} vs xos {other[key]}")
            elif key.startswith("rel_credible"):
                width = other["rel_credible_high"] - other["rel_credible_low"]
                sampled = any(s < 100 for v in theirs["variants"]
                              for x in [round(v["value"] * v["units"])]
                              for s in (1 + x, 1 + v["units"] - x))
                tol = TOLERANCE["credible_sampled" if sampled else "credible"]
                near(what, value / width, other[key] / width, tol)
            elif key in ("ci_low", "ci_high", "degradation_bound"):
                near(what, value, other[key], TOLERANCE["ci"])
            elif key == "prob_better":
                near(what, value, other[key], TOLERANCE["prob_better"])
            else:
                near(what, value, other[key], TOLERANCE["default"])
    for key in ("total", "days", "sample_reached", "days_remaining"):
        if memo["plan"][key] != xos["plan"][key]:
            problems.append(f"{memo['experiment']}: plan.{key} {memo['plan'][key]} vs xos {xos['plan'][key]}")
    return problems


def main():
    specs = sorted(Path(sys.argv[1]).glob("*.xos"))
    out = Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for spec_path in specs:
        spec, memo = report(spec_path)
        write_atomically(out / f"{spec['name']}.json", json.dumps(memo, indent=2))
    os.sync()
    print(f"{time.perf_counter() - start:.4f}")
    if len(sys.argv) > 4 and sys.argv[3] == "--check":
        problems = []
        for spec_path in specs:
            mine = json.loads((out / f"{spec_path.stem}.json").read_text())
            xos = json.loads((Path(sys.argv[4]) / f"{spec_path.stem}.json").read_text())
            problems += check(mine, xos)
        for problem in problems:
            print(problem, file=sys.stderr)
        print(f"checked {len(specs)} memos against xos: {len(problems)} differences", file=sys.stderr)
        sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
