#!/usr/bin/env python3
"""High-precision expected values for tests/reference/bayes_deep.json.

The Beta-Binomial cases of issue 20 that the first reference file
(bayes_extra.json) did not reach, each computed by a method independent of
the engine's floating-point formulation and, where two exist, by both:

* deep tails with whole shapes: Evan Miller's finite sum, every term at 60
  digits (an identity of positive terms, exact up to rounding), the losses
  from E[(X - Y)+] = E[X] P(X+ > Y) - E[Y] P(X > Y+) (X+ ~ Beta(a_X + 1, b_X));
* deep tails with fractional priors: the same sum over the whole part of a_X
  plus the fractional remainder P(X_f > Y), X_f ~ Beta(f, b_X), by
  gen_bayes_extra.prob_greater (an exact sum where a shape is whole, else
  the quadrature; deep in a tail the remainder is a vanishing part of the
  sum, e.g. 1e-24 of it in bd-012);
* an empty arm with a fractional prior against ~4e10 units: the closed form
  P(Y < X) = B(a_X+a_Y, b_X+b_Y) / (a_Y B(a_Y, b_Y) B(a_X, b_X))
             * 3F2(a_Y+b_Y, 1, a_X+a_Y; a_Y+1, a_X+a_Y+b_X+b_Y; 1)
  (mpmath's hyp3f2) and, independently, quadrature over the narrow arm's
  logit with the other's tail from a 40-digit continued fraction; the two
  must agree to 1e-15;
* random arms (counts log-uniform from 0 to 1e15, whole priors) whose
  exact sum has at most 20 000 terms: the exact sum at 60 digits;
* both arms near-normal at 1e8-1e10 units (and one near-normal with a long
  sum): Evan Miller's sum from its largest term outward with the exact term
  ratio at 45 digits (the engine uses quadrature there);
* an arm of 6e14 units against an empty arm with shapes 0.048 and 0.0198:
  the nested logit quadrature of gen_bayes_extra.py, once with the outer
  integral over each arm; a case is kept only if the two agree to 1e-13;
* with --quad, the same quadrature for both arms near-normal at 1e12 to
  1e15 units and for random shapes from 0.01 to 1e15 (hours per case on a
  loaded machine; not in the committed file).

Usage: python3 gen_bayes_deep.py bayes_deep.json [--quad] [ID...]   (mpmath 1.3;
with IDs only those cases are recomputed and merged into the file; the file
is rewritten as cases finish: the exact sums and closed forms take minutes,
each quadrature case with huge shapes up to an hour on a loaded machine)
"""
import json
import os
import random
import sys

import mpmath as mp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_bayes_extra as extra  # noqa: E402
from gen_bayes_extra import quantities  # noqa: E402

mp.mp.dps = 60


CONVENTION = ("Beta-binomial: posteriors p ~ Beta(prior_a + x, prior_b + n - x) per arm, independent; "
              "prob_t_beats_c = P(p_T > p_C), prob_c_beats_t = P(p_C > p_T) (each computed directly), "
              "expected_loss_t = E[max(p_C - p_T, 0)], expected_loss_c = E[max(p_T - p_C, 0)]. "
              "Each case names its method (see the generator's docstring).")


def arms(x_c, n_c, x_t, n_t, pa, pb):
    pa, pb = mp.mpf(pa), mp.mpf(pb)
    return extra.Arm(pa + x_c, pb + n_c - x_c), extra.Arm(pa + x_t, pb + n_t - x_t)


def lbeta(a, b):
    return mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(a + b)


def miller_terms(x, y, start, count):
    """sum_{j<count} t(start + j), t(i) = B(a_Y+i, b_X+b_Y)/((b_X+i) B(1+i, b_X) B(a_Y, b_Y))."""
    base = lbeta(y.a, y.b)
    return mp.fsum(mp.exp(lbeta(y.a + i, x.b + y.b) - mp.log(x.b + i) - lbeta(1 + i, x.b) - base)
                   for i in (start + j for j in range(int(count))))


def greater_sum(x, y):
    """P(X > Y) = sum over the whole part of a_X + P(X_f > Y), X_f ~ Beta(f, b_X),
    or the same for P(1 - Y > 1 - X) when b_Y is the smaller."""
    if y.b < x.a:
        return greater_sum(y.reflect(), x.reflect())
    whole = mp.floor(x.a)
    f = x.a - whole
    total = miller_terms(x, y, f, whole)
    if f == 0:
        return total
    return total + extra.prob_greater(extra.Arm(f, x.b), y)


def greater_walk(x, y):
    """P(X > Y) for a whole a_X by Evan Miller's sum, summed from its largest
    term outward with the exact term ratio
    t(i+1)/t(i) = (a_Y+i)(b_X+i) / ((a_Y+b_Y+b_X+i)(i+1)) at the working
    precision until a term is below 1e-45 of the sum (for sums of up to
    10^8 terms whose mass is a few thousand terms wide: arms of 1e8-1e10
    units, where every posterior shape is near-normal)."""
    if y.b < x.a:
        return greater_walk(y.reflect(), x.reflect())
    assert x.a == mp.floor(x.a)
    last = int(x.a) - 1
    s = y.a + y.b + x.b
    top = int(min(max(mp.ceil((y.a * x.b - s) / (y.b + 1)), 0), last))
    ln_top = lbeta(y.a + top, x.b + y.b) - mp.log(x.b + top) - lbeta(1 + top, x.b) - lbeta(y.a, y.b)
    eps = mp.mpf(10) ** -45
    total, term, i = mp.mpf(1), mp.mpf(1), top
    while i < last:
        term *= (y.a + i) * (x.b + i) / ((s + i) * (i + 1))
        total += term
        i += 1
        if term < eps * total:
            break
    term, i = mp.mpf(1), top
    while i > 0:
        term *= (s + i - 1) * i / ((y.a + i - 1) * (x.b + i - 1))
        total += term
        i -= 1
        if term < eps * total:
            break
    return mp.exp(ln_top) * total


def hyp_less(x, y):
    """P(Y < X) by the 3F2 closed form (mpmath hyp3f2 at z = 1)."""
    pre = mp.exp(lbeta(x.a + y.a, x.b + y.b) - mp.log(y.a) - lbeta(y.a, y.b) - lbeta(x.a, x.b))
    return pre * mp.hyp3f2(y.a + y.b, 1, x.a + y.a, y.a + 1, x.a + y.a + x.b + y.b, 1)


def greater_quad_outer(x, y, over_y):
    """P(X > Y) by the nested logit quadrature, the outer integral over Y
    (over_y) or over X."""
    if over_y:
        return extra.peak_quad(lambda z: y.pdf(z) * extra.surv(x, z), x, y)
    return extra.peak_quad(lambda z: x.pdf(z) * extra.surv(y.reflect(), -z), x, y)


def agree(a, b, rel):
    return abs(a - b) <= rel * max(abs(a), abs(b))


def case(cid, inp, values, method, note):
    return extra.rate_record(cid, note, inp, values, method)


def inputs(x_c, n_c, x_t, n_t, pa, pb):
    return {"x_c": x_c, "n_c": n_c, "x_t": x_t, "n_t": n_t, "prior_a": pa, "prior_b": pb}


def by_sum(greater, dps, method):
    """A case computed by a sum formulation at `dps` digits."""
    def compute(job):
        cid, x_c, n_c, x_t, n_t, pa, pb, note = job
        mp.mp.dps = dps
        c, t = arms(x_c, n_c, x_t, n_t, pa, pb)
        return case(cid, inputs(x_c, n_c, x_t, n_t, pa, pb), quantities(c, t, greater), method, note)
    return compute


deep = by_sum(greater_sum, 60, "Evan Miller's sum at 60 digits (+ fractional remainder by quadrature)")
walk = by_sum(greater_walk, 45, "Evan Miller's sum from its largest term outward at 45 digits")


def closed_form(job):
    cid, x_c, n_c, x_t, n_t, pa, pb, note = job
    mp.mp.dps = 40
    c, t = arms(x_c, n_c, x_t, n_t, pa, pb)
    hyp = quantities(c, t, lambda x, y: hyp_less(x, y))
    quad = quantities(c, t, lambda x, y: greater_quad_outer(x, y, y.sd <= x.sd))
    for h, q in zip(hyp, quad):
        assert agree(h, q, mp.mpf("1e-15")), (cid, h, q)
    return case(cid, inputs(x_c, n_c, x_t, n_t, pa, pb), hyp,
                "3F2 closed form, checked against the logit quadrature to 1e-15", note)


def quadrature(job):
    cid, x_c, n_c, x_t, n_t, pa, pb, note = job
    mp.mp.dps = 40
    c, t = arms(x_c, n_c, x_t, n_t, pa, pb)
    one = quantities(c, t, lambda x, y: greater_quad_outer(x, y, True))
    two = quantities(c, t, lambda x, y: greater_quad_outer(x, y, False))
    if not all(agree(a, b, mp.mpf("1e-13")) for a, b in zip(one, two)):
        print(f"{cid}: dropped, the two orientations differ: {one} {two}", file=sys.stderr, flush=True)
        return None
    return case(cid, inputs(x_c, n_c, x_t, n_t, pa, pb), one,
                "nested logit quadrature, both orientations agreeing to 1e-13", note)


def random_jobs(count, seed):
    """Shapes log-uniform: counts 0..1e15, prior shapes 0.01..10."""
    rng = random.Random(seed)
    draw = lambda: 0 if rng.random() < 0.1 else int(10 ** rng.uniform(0, 15))
    jobs = []
    for k in range(count):
        x_c, f_c, x_t, f_t = draw(), draw(), draw(), draw()
        pa, pb = (round(10 ** rng.uniform(-2, 1), 3) for _ in range(2))
        jobs.append((f"bd-2{k:02d}-random", x_c, x_c + f_c, x_t, x_t + f_t, pa, pb,
                     "random shapes from 0.01 to 1e15 (seed %d)" % seed))
    return jobs


def random_sum_jobs(count, seed):
    """Random arms with counts log-uniform from 0 to 1e15 and whole priors,
    kept when Evan Miller's sum for the smaller tail has at most 20 000
    terms (min(a_X, b_Y) for X the arm with the lower mean)."""
    rng = random.Random(seed)
    draw = lambda: 0 if rng.random() < 0.1 else int(10 ** rng.uniform(0, 15))
    jobs = []
    while len(jobs) < count:
        x_c, f_c, x_t, f_t = draw(), draw(), draw(), draw()
        pa, pb = rng.choice([(1, 1), (1, 2), (2, 3), (3, 1)])
        c, t = (x_c + pa, f_c + pb), (x_t + pa, f_t + pb)
        low, high = (c, t) if t[0] * c[1] >= c[0] * t[1] else (t, c)
        if min(low[0], high[1]) > 20_000:
            continue
        jobs.append((f"bd-4{len(jobs):02d}-random-sum", x_c, x_c + f_c, x_t, x_t + f_t, pa, pb,
                     "random counts from 0 to 1e15, whole prior (seed %d)" % seed))
    return jobs


def run(job):
    kind, args = job
    return {"deep": deep, "walk": walk, "closed": closed_form, "quad": quadrature}[kind](args)


def main():
    # The quadrature cases with huge shapes and the random ones take hours on
    # a loaded machine: only with --quad (they are not in the committed file).
    quad = "--quad" in sys.argv
    if quad:
        sys.argv.remove("--quad")
    jobs = []
    # 1. deep tails of the exact sum (P(C > T) from 1e-89 to 1e-165 and beyond)
    for cid, x_c, n_c, x_t, n_t, pa, pb, note in [
        ("bd-001-tail-1e-89", 1000, 10_000, 2000, 10_000, 1, 1, "the 5.8e-89 tail (bx-031), u ~ 20"),
        ("bd-002-tail-mirror", 2000, 10_000, 1000, 10_000, 1, 1, "bd-001 with the arms swapped"),
        ("bd-003-tail-failures", 8000, 10_000, 9000, 10_000, 1, 1, "bd-001 counting failures"),
        ("bd-004-deeper-tail", 1000, 10_000, 2400, 10_000, 1, 1, "u ~ 28"),
        ("bd-005-deeper-tail-unequal", 500, 5000, 1500, 5000, 1, 1, "u ~ 27, unequal shapes"),
        ("bd-006-tail-1e-165", 3000, 20_000, 5200, 20_000, 1, 1, "u ~ 27"),
        ("bd-007-tail-integer-prior", 1000, 10_000, 2000, 10_000, 2, 3, "integer prior"),
        ("bd-008-tail-jeffreys", 1000, 10_000, 2000, 10_000, 0.5, 0.5, "Jeffreys prior, fractional remainder"),
        ("bd-009-tail-unequal-arms", 100, 1000, 4000, 20_000, 1, 1, "one arm twenty times the other"),
        ("bd-010-tail-1e-188-huge", 2491, 739_111_868, 90_499_486, 15_737_739_912_737, 1, 1,
         "a 1.9e-188 tail against 1.6e13 units (the sum's terms from 60-digit log-gammas)"),
        ("bd-011-rare-vs-uniform", 1707, 249_708_830_989, 0, 0, 1, 1,
         "a rate of 7e-9 against the uniform prior: P = E[C], loss_t = E[C^2]/2 exactly"),
        ("bd-012-rare-vs-prior", 1707, 249_708_830_989, 0, 0, 7.404094485196721, 1.0,
         "bd-011 with a fractional prior"),
        # both arms huge, with a short sum (rare events, or rates near 1)
        ("bd-311-both-1e12-rare", 1000, 10 ** 12, 1100, 10 ** 12, 1, 1, "rare events, both 1e12 units"),
        ("bd-312-1e15-vs-1e13-rare", 500_000, 10 ** 15, 5400, 10 ** 13, 1, 1,
         "rare events, 1e15 against 1e13 units"),
        ("bd-313-both-1e15-near-one", 10 ** 15 - 3000, 10 ** 15, 10 ** 15 - 2500, 10 ** 15, 2, 3,
         "rates near 1 at 1e15 units, integer prior (the sum over the failures)"),
        ("bd-314-both-1e14-rare-tail", 1000, 10 ** 14, 1400, 10 ** 14, 1, 1,
         "rare events at 1e14 units, P(C > T) ~ 1e-15"),
        ("bd-315-both-1e12-rare-deep", 1000, 10 ** 12, 3000, 10 ** 12, 1, 1,
         "rare events at 1e12 units, a deep tail"),
    ]:
        jobs.append(("deep", (cid, x_c, n_c, x_t, n_t, pa, pb, note)))
    # both arms near-normal (every shape >= 1e7) or one, with long sums
    jobs += [("walk", args) for args in [
        ("bd-321-both-1e9", 300_000_000, 10 ** 9, 300_030_000, 10 ** 9, 1, 1,
         "both 1e9 units at 30%: both posteriors near-normal"),
        ("bd-322-1e8-vs-1e9", 30_000_000, 10 ** 8, 300_100_000, 10 ** 9, 1, 1,
         "1e8 against 1e9 units: both near-normal"),
        ("bd-323-both-1e8-deep", 30_000_000, 10 ** 8, 30_130_000, 10 ** 8, 1, 1,
         "both 1e8 units, a lift of ~20 sd: a deep tail of the near-normal formulation"),
        ("bd-324-1e9-vs-1e10", 2_000_000, 10 ** 9, 20_004_000, 10 ** 10, 1, 1,
         "0.2% at 1e9 against 1e10 units: one posterior near-normal, a long sum"),
    ]]
    # random shapes from 1 to 1e15 where the exact sum is short
    jobs += [("deep", args) for args in random_sum_jobs(12, 4)]
    # 2. an empty arm with a fractional prior against ~4e10 units
    for cid, x_c, n_c, x_t, n_t, pa, pb, note in [
        ("bd-101-empty-vs-4e10", 0, 0, 41_206_857_455, 41_214_215_857, 1.14, 0.016,
         "the property test's case: P was good to only 1e-7"),
        ("bd-102-empty-vs-4e10-mirror", 41_206_857_455, 41_214_215_857, 0, 0, 1.14, 0.016,
         "bd-101 with the arms swapped"),
    ]:
        jobs.append(("closed", (cid, x_c, n_c, x_t, n_t, pa, pb, note)))
    jobs.append(("quad", ("bd-104-empty-vs-6e14-tiny-prior", 0, 0, 0, 605_364_815_587_001,
                          0.048187483334441554, 0.01978916567672485,
                          "both posteriors hug 0 (shapes 0.048 and 0.0198 against 6e14)")))
    if quad:
        jobs.append(("quad", ("bd-103-empty-vs-1e10", 0, 0, 3_000_000, 10_000_000_000, 0.02, 0.5,
                              "a rare event rate against an empty arm with a small prior")))
    # 3. both arms huge, by quadrature (only with --quad)
    for cid, x_c, n_c, x_t, n_t, pa, pb, note in [
        ("bd-301-both-1e12", 300_000_000_000, 10 ** 12, 300_000_700_000, 10 ** 12, 1, 1, "both 1e12 at 30%"),
        ("bd-302-both-1e13-1e14", 2 * 10 ** 12, 10 ** 13, 20_000_100_000_000, 10 ** 14, 1, 1,
         "1e13 against 1e14 units at 20%"),
        ("bd-303-both-1e15", 10 ** 14, 10 ** 15, 10 ** 14 + 20_000_000, 10 ** 15, 0.5, 0.5,
         "both 1e15 at 10%, Jeffreys"),
        ("bd-304-both-1e15-rare", 1_000_000, 10 ** 15, 1_010_000, 10 ** 15, 1, 1, "rare events at 1e15 units"),
        ("bd-305-1e12-vs-1e15", 5 * 10 ** 11, 10 ** 12, 500_000_200_000_000, 10 ** 15, 0.1, 0.1,
         "1e12 against 1e15 units at 50%, small prior"),
        ("bd-306-both-1e14-tail", 3 * 10 ** 13, 10 ** 14, 3 * 10 ** 13 + 40_000_000, 10 ** 14, 1, 1,
         "P(C > T) tiny at 1e14"),
    ]:
        if quad:
            jobs.append(("quad", (cid, x_c, n_c, x_t, n_t, pa, pb, note)))
    # 4. random shapes
    for args in random_jobs(6, 20) if quad else []:
        jobs.append(("quad", args))
    # Cases are written as they finish (the file is complete JSON after
    # each), in the order above; a case whose check fails is left out.
    path = sys.argv[1] if len(sys.argv) > 1 else None
    only = set(sys.argv[2:])
    done = {}
    if only:
        # Run only the named cases and keep the others of the existing file.
        with open(path) as f:
            kept = {c["id"]: c for c in json.load(f)["cases"]}
        for k, job in enumerate(jobs):
            if job[1][0] not in only and job[1][0] in kept:
                done[k] = kept[job[1][0]]
        jobs = [j if j[1][0] in only else None for j in jobs]
    from multiprocessing import Pool
    with Pool(2) as pool:
        todo = [(k, j) for k, j in enumerate(jobs) if j is not None]
        for k, result in pool.imap_unordered(run_indexed, todo):
            done[k] = result
            out = {
                "family": "bayes_deep",
                "convention": CONVENTION,
                "tolerance": {"rel": 1e-9, "abs": 0.0},
                "cases": [done[i] for i in sorted(done) if done[i] is not None],
            }
            text = json.dumps(out, indent=1) + "\n"
            if path:
                with open(path + ".tmp", "w") as f:
                    f.write(text)
                os.replace(path + ".tmp", path)
    if not path:
        sys.stdout.write(text)


def run_indexed(item):
    k, job = item
    return k, run(job)


if __name__ == "__main__":
    main()
