#!/usr/bin/env python3
"""High-precision expected values for tests/reference/bayes_extra.json.

Independent of the engine: every Beta-Beta quantity is a nested mpmath
tanh-sinh quadrature in the logit variable z = ln(p/(1-p)) with the log
densities formed at 60 digits, so no shape is too small (0.01) or too large
(1e15) for it:

  P(T > C)      = int pdf_C(z) S_T(z) dz,     S_T(z) = int_{z}^{inf} pdf_T
  E[(C - T)+]   = int pdf_C(z) int_{-inf}^{z} (y(z) - y(w)) pdf_T(w) dw dz

(each integrand positive, so tiny values keep their relative precision; the
outer variable is whichever arm is narrower, with panels cut at the
integrand's own peak), except where a shape allows Evan Miller's exact finite
sum (a whole a_X or b_Y up to 20 000), which is then used instead.  Mean metrics use the normal
approximation with the lift formed exactly from the sums (rationals).  Plans
are the closed form of power.json with p2 = p1 - mde for `prefer lower`.

Usage: python3 gen_bayes_extra.py > bayes_extra.json   (mpmath 1.3), or
       python3 gen_bayes_extra.py --update ID... < bayes_extra.json > new.json
       to recompute only the named cases (bx-031 was recomputed so, by the
       exact sum, when the peak cuts and the sum were added).
"""
import json
import sys
from fractions import Fraction

import mpmath as mp

mp.mp.dps = 40


def lbeta(a, b):
    return mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(a + b)


class Arm:
    def __init__(self, a, b):
        self.a, self.b = mp.mpf(a), mp.mpf(b)
        self.lb = lbeta(self.a, self.b)
        self.mode = mp.log(self.a / self.b)  # mode of the logit density
        self.sd = mp.sqrt(mp.psi(1, self.a) + mp.psi(1, self.b))

    def reflect(self):
        """The distribution of 1 - p (logit -z)."""
        return Arm(self.b, self.a)

    def logpdf(self, z):
        # density of z = logit(p): p^a (1-p)^b / B(a, b)
        return -self.a * mp.log1p(mp.exp(-z)) - self.b * mp.log1p(mp.exp(z)) - self.lb

    def pdf(self, z):
        return mp.exp(self.logpdf(z))

    def cuts(self):
        return [self.mode + k * self.sd for k in (-40, -12, -4, 0, 4, 12, 40)]


def sigmoid(z):
    return 1 / (1 + mp.exp(-z))


def quad(f, lo, hi, cuts):
    pts = [lo] + sorted(c for c in cuts if lo < c < hi) + [hi]
    return mp.quad(f, pts)


def betainc_reg(a, b, y, w):
    """(I_y(a, b), 1 - I_y(a, b)), y + w = 1, by the continued fraction
    (modified Lentz) of whichever side converges fast, at the working
    precision; the prefactor is formed in logarithms."""
    if y == 0:
        return mp.mpf(0), mp.mpf(1)
    if w == 0:
        return mp.mpf(1), mp.mpf(0)
    if y > (a + 1) / (a + b + 2):
        lo, up = betainc_reg(b, a, w, y)
        return up, lo
    front = mp.exp(a * mp.log(y) + b * mp.log(w) - lbeta(a, b)) / a
    tiny = mp.mpf(10) ** (-mp.mp.dps * 3)
    f, c, d = mp.mpf(1), mp.mpf(1), mp.mpf(0)
    eps = mp.mpf(10) ** (-mp.mp.dps + 5)
    for i in range(0, 10 ** 7):
        m = i // 2
        if i == 0:
            num = mp.mpf(1)
        elif i % 2 == 0:
            num = (m * (b - m) * y) / ((a + 2 * m - 1) * (a + 2 * m))
        else:
            num = -((a + m) * (a + b + m) * y) / ((a + 2 * m) * (a + 2 * m + 1))
        d = 1 + num * d
        if abs(d) < tiny:
            d = tiny
        d = 1 / d
        c = 1 + num / c
        if abs(c) < tiny:
            c = tiny
        cd = c * d
        f *= cd
        if abs(1 - cd) < eps:
            break
    else:
        raise RuntimeError("no convergence")
    lo = front * (f - 1)
    return lo, 1 - lo


def surv(arm, z):
    """P(p > sigmoid(z)) directly: the complement is never taken for the
    small side (the continued fraction returns the small side first)."""
    y, w = sigmoid(z), sigmoid(-z)
    if min(arm.a, arm.b) > 1e6:
        cuts = arm.cuts()
        return quad(arm.pdf, z, mp.inf, cuts) if z > arm.mode else 1 - quad(arm.pdf, -mp.inf, z, cuts)
    return betainc_reg(arm.a, arm.b, y, w)[1]


def peak(f, lo, hi, steps=80):
    """The maximum of a log-concave f on [lo, hi] (golden section on ln f)."""
    lnf = lambda z: mp.log(f(z)) if f(z) > 0 else mp.ninf
    g = (mp.sqrt(5) - 1) / 2
    for _ in range(steps):
        m1, m2 = hi - g * (hi - lo), lo + g * (hi - lo)
        if lnf(m1) < lnf(m2):
            lo = m1
        else:
            hi = m2
    return (lo + hi) / 2


def peak_quad(f, x, y):
    """int f over the line, f = pdf * tail; panels cut at both arms' modes
    +- 4, 12, 40 sd and at the integrand's own peak +- 1/2 .. 64 of the
    narrower sd (deep in a tail the integrand peaks far from both modes:
    without these cuts a 5.8e-89 tail came out 7e-5 off)."""
    cuts = x.cuts() + y.cuts()
    w = min(x.sd, y.sd)
    top = peak(f, min(cuts), max(cuts))
    cuts += [top + s * k * w for s in (-1, 1) for k in (0.5, 1, 2, 4, 8, 16, 32, 64)] + [top]
    return quad(f, -mp.inf, mp.inf, cuts)


def miller_exact(x, y):
    """P(X > Y) for a whole a_X <= 20 000 by Evan Miller's finite sum
    sum_{i<a_X} B(a_Y+i, b_X+b_Y) / ((b_X+i) B(1+i, b_X) B(a_Y, b_Y)),
    every term at the working precision (exact up to rounding)."""
    base = lbeta(y.a, y.b)
    return mp.fsum(mp.exp(lbeta(y.a + i, x.b + y.b) - mp.log(x.b + i) - lbeta(1 + i, x.b) - base)
                   for i in range(int(x.a)))


def whole(v):
    return v == mp.floor(v) and v <= 20_000


def prob_greater(x, y):
    """P(X > Y): Evan Miller's exact sum when a_X (or b_Y, reflecting) is a
    whole number up to 20 000, else int pdf_Y(z) S_X(z) dz over the logit of
    the narrower arm."""
    if whole(x.a):
        return miller_exact(x, y)
    if whole(y.b):
        return miller_exact(y.reflect(), x.reflect())
    if y.sd <= x.sd:
        return peak_quad(lambda z: y.pdf(z) * surv(x, z), x, y)
    return peak_quad(lambda z: x.pdf(z) * surv(y.reflect(), -z), x, y)


def plus(arm):
    return Arm(arm.a + 1, arm.b)


def mean(arm):
    return arm.a / (arm.a + arm.b)


def quantities(c, t, greater=None):
    """(P(T>C), P(C>T), loss_t, loss_c) with P(X > Y) = greater(X, Y): the
    smaller tail and the smaller loss directly, the others exactly (at the
    working precision) from P(T>C) + P(C>T) = 1 and
    loss_t - loss_c = E[C] - E[T]; E[(X - Y)+] = E[X] P(X+ > Y) - E[Y] P(X > Y+)."""
    greater = greater or prob_greater
    m_c, m_t = mean(c), mean(t)
    loss = lambda x, y: mean(x) * greater(plus(x), y) - mean(y) * greater(x, plus(y))
    if m_t >= m_c:
        p_ct = greater(c, t)
        l_t = loss(c, t)
        return 1 - p_ct, p_ct, l_t, l_t - (m_c - m_t)
    p_tc = greater(t, c)
    l_c = loss(t, c)
    return p_tc, 1 - p_tc, l_c + (m_c - m_t), l_c


def rate_record(cid, note, inputs, values, method=None):
    """A rate case of the reference files (and its values on stderr)."""
    p_tc, p_ct, l_t, l_c = values
    print(f"{cid}: P(T>C)={mp.nstr(p_tc, 20)} P(C>T)={mp.nstr(p_ct, 20)}"
          f" loss_t={mp.nstr(l_t, 20)} loss_c={mp.nstr(l_c, 20)}", file=sys.stderr, flush=True)
    record = {"id": cid, "kind": "rate"}
    if method:
        record["method"] = method
    record.update({
        "note": note,
        "input": inputs,
        "expected": {
            "prob_t_beats_c": f64(p_tc),
            "prob_c_beats_t": f64(p_ct),
            "expected_loss_t": f64(l_t),
            "expected_loss_c": f64(l_c),
        },
    })
    return record


def f64(v):
    return float(mp.mpf(v))


def beta_case(cid, x_c, n_c, x_t, n_t, pa, pb, note):
    c = Arm(mp.mpf(pa) + x_c, mp.mpf(pb) + n_c - x_c)
    t = Arm(mp.mpf(pa) + x_t, mp.mpf(pb) + n_t - x_t)
    inputs = {"x_c": x_c, "n_c": n_c, "x_t": x_t, "n_t": n_t, "prior_a": pa, "prior_b": pb}
    return rate_record(cid, note, inputs, quantities(c, t))


def normal_case(cid, control, treatment, note):
    """Normal approximation for means from exact {n, sum, sum_sq}."""
    def moments(arm):
        n, s, q = arm["n"], Fraction(arm["sum"]), Fraction(arm["sum_sq"])
        mean = s / n
        var = (n * q - s * s) / (n * (n - 1))
        return mean, var / n

    m_c, v_c = moments(control)
    m_t, v_t = moments(treatment)
    delta = m_t - m_c
    sigma = mp.sqrt(mp.mpf(v_c.numerator) / v_c.denominator + mp.mpf(v_t.numerator) / v_t.denominator)
    u = (mp.mpf(delta.numerator) / delta.denominator) / sigma
    g = lambda v: mp.npdf(v) - v * mp.ncdf(-v)
    return {
        "id": cid,
        "kind": "mean",
        "note": note,
        "input": {"control": control, "treatment": treatment},
        "expected": {
            "prob_t_beats_c": f64(mp.ncdf(u)),
            "prob_c_beats_t": f64(mp.ncdf(-u)),
            "expected_loss_t": f64(sigma * g(u)),
            "expected_loss_c": f64(sigma * g(-u)),
        },
    }


def plan_case(cid, baseline, mde, mde_kind, prefer, alpha, power, ratio, note):
    """Rate sample size; `prefer lower` plans the decrease p2 = p1 - mde."""
    p1 = mp.mpf(baseline)
    m = mp.mpf(mde)
    step = p1 * m if mde_kind == "relative" else m
    p2 = p1 + step if prefer == "higher" else p1 - step
    a, pw, r = mp.mpf(alpha), mp.mpf(power), mp.mpf(ratio)
    zz = -mp.sqrt(2) * mp.erfinv(2 * (a / 2) - 1) - mp.sqrt(2) * mp.erfinv(2 * (1 - pw) - 1)
    n = zz ** 2 * (p1 * (1 - p1) + p2 * (1 - p2) / r) / (p2 - p1) ** 2
    n_c = int(mp.ceil(n))
    n_t = int(mp.ceil(r * n))
    for v in (n, r * n):
        assert abs(v - mp.nint(v)) > mp.mpf("1e-10") * v, cid
    return {
        "id": cid,
        "kind": "plan",
        "note": note,
        "input": {"baseline": baseline, "mde": mde, "mde_kind": mde_kind, "prefer": prefer,
                  "alpha": alpha, "power": power, "ratio": ratio},
        "expected": {"p1": f64(p1), "p2": f64(p2), "n_control_exact": f64(n),
                     "n_control": n_c, "n_treatment": n_t},
    }


CONVENTION = ("Beta-binomial cases (kind rate): posteriors p ~ Beta(prior_a + x, prior_b + n - x) per arm, "
                      "independent; prob_t_beats_c = P(p_T > p_C), prob_c_beats_t = P(p_C > p_T) (each computed "
                      "directly), expected_loss_t = E[max(p_C - p_T, 0)], expected_loss_c = E[max(p_T - p_C, 0)]; "
                      "nested 40-digit tanh-sinh quadrature in the logit variable, or Evan Miller's exact sum where a shape is whole. Mean cases (kind mean): normal "
                      "approximation of the posteriors, lift = sum_t/n_t - sum_c/n_c formed exactly, "
                      "se^2 = (n sum_sq - sum^2)/(n^2 (n-1)) per arm; P(T>C) = Phi(u), u = lift/sigma, "
                      "losses sigma (phi(u) -+ u Q(+-u)). Plan cases (kind plan): power.json's rate formula with "
                      "p2 = p1 + step for prefer higher and p1 - step for prefer lower (step = mde or p1*mde).")


def run_job(job):
    kind, args = job
    return {"b": beta_case, "n": normal_case, "p": plan_case}[kind](*args)


def main():
    jobs = []
    b = lambda *args: jobs.append(('b', args))
    nc = lambda *args: jobs.append(('n', args))
    pc = lambda *args: jobs.append(('p', args))
    # 1. small posterior shapes (fractional priors with 0 or n events)
    (b("bx-001-frac-0.05-zero-zero", 0, 5, 0, 5, 0.05, 0.05, "symmetric: P = 1/2 exactly"))
    (b("bx-002-frac-0.01-zero-zero", 0, 5, 0, 5, 0.01, 0.01, "symmetric: P = 1/2 exactly"))
    (b("bx-003-frac-0.01-zero-all", 0, 5, 5, 5, 0.01, 0.01, "tiny expected loss of shipping"))
    (b("bx-004-frac-0.01-all-zero", 5, 5, 0, 5, 0.01, 0.01, "mirror of bx-003"))
    (b("bx-005-frac-0.05-zero-one", 0, 20, 1, 20, 0.05, 0.05, "a single event"))
    (b("bx-006-frac-0.1-all-all", 30, 30, 29, 30, 0.1, 0.1, "mass at 1"))
    (b("bx-007-frac-0.01-empty", 0, 0, 0, 0, 0.01, 0.01, "empty arms: the prior"))
    (b("bx-008-frac-0.3-0.7", 2, 40, 7, 45, 0.3, 0.7, "fractional, moderate"))
    # 2. one arm huge, the other small
    for exp_n in (9, 12, 15):
        n = 10 ** exp_n
        (b(f"bx-01{exp_n % 10}-huge-control-1e{exp_n}", 3 * n // 10, n, 3100, 10_000, 1.0, 1.0,
                       f"control 1e{exp_n} units at 30% vs treatment 10,000"))
    (b("bx-020-huge-treatment-1e12", 2950, 10_000, 3 * 10 ** 11, 10 ** 12, 1.0, 1.0,
                   "treatment 1e12 units at 30% vs control 10,000"))
    (b("bx-021-huge-jeffreys-1e15", 2950, 10_000, 3 * 10 ** 14, 10 ** 15, 0.5, 0.5,
                   "Jeffreys prior, treatment 1e15 units"))
    (b("bx-022-both-huge-1e12", 3 * 10 ** 11, 10 ** 12, 3 * 10 ** 11 + 600_000, 10 ** 12, 1.0, 1.0,
                   "both arms 1e12 units"))
    (b("bx-023-both-huge-1e15-tail", 3 * 10 ** 14, 10 ** 15, 3 * 10 ** 14 + 300_000_000, 10 ** 15,
                   1.0, 1.0, "both arms 1e15 units, P(C > T) tiny"))
    (b("bx-024-rare-1e9", 3, 10 ** 9, 9, 9 * 10 ** 8, 1.0, 1.0, "rare events at 1e9 units"))
    (b("bx-025-mid-1e7", 1_200_000, 10_000_000, 1_203_000, 10_000_000, 1.0, 1.0, "1e7 units"))
    # 3. small probabilities: both tails direct
    (b("bx-030-tiny-tail", 1000, 10_000, 1400, 10_000, 1.0, 1.0, "P(C > T) ~ 1e-20"))
    (b("bx-031-tinier-tail", 1000, 10_000, 2000, 10_000, 1.0, 1.0, "P(C > T) ~ 1e-80"))
    (b("bx-032-tiny-tail-jeffreys", 100, 2000, 300, 2000, 0.5, 0.5, "fractional, tiny tail"))
    (nc("bx-040-means-near-1e6",
                             {"n": 1000, "sum": 1_000_000_012, "sum_sq": 1_000_000_024_001_000},
                             {"n": 1000, "sum": 1_000_000_045, "sum_sq": 1_000_000_090_001_002},
                             "means near 1e6, sd near 1: the lift formed exactly"))
    (nc("bx-041-means-tail",
                             {"n": 5_000, "sum": 50_000, "sum_sq": 550_000},
                             {"n": 5_000, "sum": 60_000, "sum_sq": 770_000},
                             "P(C > T) tiny"))
    # 4. plans for `prefer lower`
    (pc("bx-050-plan-lower-relative", 0.2, 0.05, "relative", "lower", 0.05, 0.8, 1.0,
                           "decrease of 5% relative"))
    (pc("bx-051-plan-lower-near-one", 0.97, 0.05, "absolute", "lower", 0.05, 0.8, 1.0,
                           "baseline + mde > 1 but the decrease is valid"))
    (pc("bx-052-plan-higher-relative", 0.2, 0.05, "relative", "higher", 0.05, 0.8, 1.0,
                           "increase of 5% relative"))
    (pc("bx-053-plan-lower-three-arms", 0.1, 0.1, "relative", "lower", 0.025, 0.8, 0.5,
                           "two treatments under a correction: alpha 5% / 2"))
    if len(sys.argv) > 2 and sys.argv[1] == "--update":
        # Recompute only the named cases of an existing file (stdin).
        wanted = set(sys.argv[2:])
        old = json.load(sys.stdin)
        redone = {c["id"]: c for c in map(run_job, (j for j in jobs if j[1][0] in wanted))}
        assert set(redone) == wanted, f"unknown ids: {wanted - set(redone)}"
        old["cases"] = [redone.get(c["id"], c) for c in old["cases"]]
        old["convention"] = CONVENTION
        old.pop("[]", None)
        json.dump(old, sys.stdout, indent=1)
        print()
        return
    from multiprocessing import Pool
    with Pool(2) as pool:
        cases = pool.map(run_job, jobs)
    out = {
        "family": "bayes_extra",
        "convention": CONVENTION,
        "tolerance": {"rel": 1e-9, "abs": 0.0},
        "cases": cases,
    }
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
