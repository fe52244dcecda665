#!/usr/bin/env python3
"""Reference vectors for the Student-t quantile: writes student_t_quantile.json.

Every expected value is the binary64 number nearest to the exact quantile of
the binary64 inputs (p, df), found with mpmath at 40 significant digits by a
bracketing root finder on ln P, and checked at 60 digits: the residual of
ln P at the root, divided by d ln P / d ln t there, bounds the relative error
of t; the script stops if that exceeds 1e-25.

Usage: python3 tests/reference/student_t_quantile.py  (needs mpmath; a few
minutes). The grid is fixed and the random cases are seeded, so a re-run
writes the same file.
"""

import json
import multiprocessing
import random
from pathlib import Path

import mpmath as mp

HALF = mp.mpf(1) / 2


def ln_upper_tail(t, df):
    """ln P(T_df > t) for t > 0, P = I_x(a, 1/2) / 2 with x = df/(df+t^2),
    a = df/2. For x < 1/2, from I_x(a, b) = x^a 2F1(a, 1-b; a+1; x) / (a B(a, b))
    in logarithms, so that x^a (1e-10^14 at df = 1e12) cannot underflow (where
    mpmath's betainc gives up); for x >= 0.9, mpmath's betainc."""
    a = df / 2
    x = df / (df + t * t)
    if x >= mp.mpf(0.9):
        try:
            return mp.log(mp.betainc(a, HALF, 0, x, regularized=True) / 2)
        except ValueError:
            # mpmath cannot resolve a value below ~2^-4000 (x^a at huge a while
            # bracketing): far beyond any target, so "t is too large".
            return mp.ninf
    return (a * mp.log(x) + mp.log(mp.hyp2f1(a, HALF, a + 1, x))
            - mp.log(a) - mp.log(mp.beta(a, HALF)) - mp.log(2))


def central(t, df):
    """P(0 < T_df < t) for t > 0: I_{t^2/(df+t^2)}(1/2, df/2) / 2."""
    y = t * t / (df + t * t)
    return mp.betainc(HALF, df / 2, 0, y, regularized=True) / 2


def solve(p, df, dps=40):
    """The t with P(T_df <= t) = p, p and df taken as exact binary64 values,
    and a bound on its relative error from a 60-digit residual."""
    mp.mp.dps = dps
    p = mp.mpf(p)
    df = mp.mpf(df)
    if p == HALF:
        return mp.mpf(0), mp.mpf(0)
    q = p if p < HALF else 1 - p
    # Solve in u = ln t, on the log of whichever probability is small:
    # the tail for q < 1/4, the central mass 1/2 - q otherwise.
    if q < mp.mpf(1) / 4:
        # Tail: solve ln P(T > e^u) = ln q upward from the normal quantile z_q,
        # a strict lower bound (the t tail is heavier), in steps that double,
        # so the bracket never reaches t where P is beyond mpmath's reach.
        target = mp.log(q)
        f = lambda u: ln_upper_tail(mp.exp(u), df) - target  # noqa: E731
        z = mp.findroot(lambda z: mp.log(mp.erfc(z / mp.sqrt(2)) / 2) - target,
                        mp.sqrt(-2 * target))
        lo, step = mp.log(z), mp.mpf(0.01)
        hi = lo + step
        while f(hi) > 0:
            lo, step = hi, 2 * step
            hi = lo + step
    else:
        # Centre: solve ln P(0 < T < e^u) = ln(1/2 - q); q >= 1/4 means
        # t <= t_{1, 3/4} = 1, and t > e^-60 for p - 1/2 >= 2^-54.
        target = mp.log(HALF - q)
        f = lambda u: mp.log(central(mp.exp(u), df)) - target  # noqa: E731
        lo, hi = mp.mpf(-60), mp.mpf(1)
        for _ in range(14):
            mid = (lo + hi) / 2
            if f(mid) > 0:
                hi = mid
            else:
                lo = mid
    u = mp.findroot(f, (lo, hi), solver="anderson", tol=mp.mpf(10) ** (-2 * dps + 20),
                     verify=False)
    t = mp.exp(u)
    mp.mp.dps = 60
    h = mp.mpf(10) ** -6
    residual = f(u)
    slope = (f(u + h) - f(u - h)) / (2 * h)
    err = abs(residual / slope)
    return (-t if p < HALF else t), err


def case(args):
    i, p, df, tag = args
    t, err = solve(p, df)
    if err > mp.mpf(10) ** -25:
        raise SystemExit(f"inaccurate at p={p!r} df={df!r}: {t} (error {err})")
    return {
        "id": f"t-quantile-{i + 1:03d}-{tag}",
        "input": {"p": p, "df": df},
        "expected": {"quantile": float(t)},
    }


def main():
    dfs = [1, 1.5, 2, 2.5, 3, 4.36, 5, 7.3, 10, 17.5, 30, 100, 1234.5, 2e4, 1e5,
           2e6, 4.3e8, 1e10, 1e12]
    ps = [1e-300, 1e-200, 1e-100, 1e-50, 1e-20, 1e-10, 1e-6, 1e-3, 0.005, 0.025,
          0.05, 0.1, 0.25, 0.4, 0.49, 0.5 - 1e-9, 0.5 - 2.0**-54, 0.5,
          0.5 + 1e-12, 0.6, 0.75, 0.9, 0.975, 0.995, 0.999, 1 - 1e-6, 1 - 1e-10,
          1 - 1e-16]
    grid = [(p, float(df)) for df in dfs for p in ps]
    rng = random.Random(20261130)
    for _ in range(120):
        df = 10 ** rng.uniform(0, 12)
        q = 10 ** rng.uniform(-300, mp.log10(0.5))
        p = float(q) if rng.random() < 0.5 else 1 - float(q)
        if p in (0.0, 1.0):
            continue
        grid.append((p, df))
    n_grid = len(dfs) * len(ps)
    jobs = [(i, p, df, "grid" if i < n_grid else "random") for i, (p, df) in enumerate(grid)]
    with multiprocessing.Pool(2) as pool:
        cases = pool.map(case, jobs, chunksize=1)
    out = {
        "family": "student_t_quantile",
        "convention": (
            "Student-t quantile: the t with P(T_df <= t) = p for real df > 0. "
            "Inputs p and df are binary64 values written with full round-trip "
            "precision and must be parsed with correct rounding (a one-ulp error in "
            "p = 0.9999999999999999 doubles 1 - p); both are taken as exact; for p > 1/2 the tail mass is 1 - p, "
            "exact in binary64. expected.quantile is the binary64 number nearest the "
            "exact quantile, computed with mpmath at 40 digits (error below 1e-25 "
            "relative, checked by its 60-digit residual) "
            "from P(T > t) = I_{df/(df+t^2)}(df/2, 1/2)/2 in the tails and "
            "P(0 < T < t) = I_{t^2/(df+t^2)}(1/2, df/2)/2 near the centre. "
            "p = 1/2 gives exactly 0. Generated by student_t_quantile.py."
        ),
        "tolerance": {"rel": 1e-12, "abs": 0.0},
        "cases": cases,
    }
    path = Path(__file__).with_name("student_t_quantile.json")
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"{len(cases)} cases written to {path}")


if __name__ == "__main__":
    main()
