//! One full two-arm comparison of a rate metric: unpooled z-test, relative CI
//! (delta method), exact Beta-Binomial evidence and the SRM test. Targets:
//! under 5 µs at ~10⁴ units per arm, under 50 µs at ~10⁶. Also the pieces
//! that are not in the per-metric hot path (fractional priors, Welch,
//! sequential boundaries, Monte Carlo intervals), for the record.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use xos::stats::bayes::{BayesResult, beta_binomial, relative_lift_interval};
use xos::stats::dist::{student_t_quantile, student_t_sf};
use xos::stats::mean::{MeanStats, compare_means};
use xos::stats::proportion::{
    RateComparison, RateMethod, RelativeCiMethod, compare_rates, compare_rates_with,
    non_inferiority, relative_ci,
};
use xos::stats::sequential::{Spending, boundaries};
use xos::stats::srm::{SrmResult, srm_test};

type Full = (
    Option<RateComparison>,
    Option<(f64, f64)>,
    Option<BayesResult>,
    Option<SrmResult>,
);

fn full_comparison(n_c: u64, x_c: u64, n_t: u64, x_t: u64) -> Full {
    let rate = compare_rates(n_c, x_c, n_t, x_t, 0.05);
    let rel = relative_ci(n_c, x_c, n_t, x_t, 0.05, RelativeCiMethod::Delta);
    let bayes = beta_binomial(x_c, n_c, x_t, n_t, (1.0, 1.0));
    let srm = srm_test(&[n_c, n_t], &[1.0, 1.0]);
    (rate, rel, bayes, srm)
}

fn bench(c: &mut Criterion) {
    let cases = [
        ("full_comparison/1e4", (10_000, 1_200, 10_050, 1_320)),
        (
            "full_comparison/1e6",
            (1_000_000, 50_000, 1_000_500, 51_000),
        ),
        (
            "full_comparison/1e7",
            (10_000_000, 500_000, 10_001_000, 502_000),
        ),
        (
            "full_comparison/1e7_half",
            (10_000_000, 5_000_000, 10_001_000, 5_002_000),
        ),
    ];
    for (name, (n_c, x_c, n_t, x_t)) in cases {
        c.bench_function(name, |b| {
            b.iter(|| {
                full_comparison(
                    black_box(n_c),
                    black_box(x_c),
                    black_box(n_t),
                    black_box(x_t),
                )
            })
        });
    }
    // The score and pooled tests with their inverted intervals (two
    // bisections of the ordered doubles, each step solving the restricted
    // maximum likelihood by another bisection) and a non-inferiority bound.
    for (name, (n_c, x_c, n_t, x_t)) in [
        ("score_interval/1e4", (10_000, 1_200, 10_050, 1_320)),
        (
            "score_interval/1e9_rare",
            (1_000_000_000, 3, 1_000_000_000, 40),
        ),
    ] {
        c.bench_function(name, |b| {
            b.iter(|| {
                compare_rates_with(
                    black_box(n_c),
                    black_box(x_c),
                    black_box(n_t),
                    black_box(x_t),
                    0.05,
                    RateMethod::Score,
                )
            })
        });
    }
    c.bench_function("score_non_inferiority/1e4", |b| {
        b.iter(|| {
            non_inferiority(
                black_box(10_000),
                black_box(1_200),
                black_box(10_050),
                black_box(1_320),
                0.05,
                0.005,
                RateMethod::Score,
            )
        })
    });
    // Every formulation of the Beta comparison: Jeffreys (the sum plus a
    // skipped remainder), small fractional shapes (logit quadrature of the
    // remainder), one near-normal arm (1e12 units against 1e4: a short sum)
    // and two, a deep tail (5.8e-89), an empty arm with a fractional prior
    // against 4e10 units (a short sum plus the remainder's quadrature), and
    // a rate of 7e-9 against a uniform posterior (the smaller loss from
    // two more tails).
    let formulations = [
        (
            "beta_binomial/jeffreys_1e3",
            (120, 1_000, 140, 1_000),
            (0.5, 0.5),
        ),
        (
            "beta_binomial/jeffreys_1e6",
            (50_000, 1_000_000, 50_500, 1_000_000),
            (0.5, 0.5),
        ),
        (
            "beta_binomial/prior_0.01_zero_vs_all",
            (0, 5, 5, 5),
            (0.01, 0.01),
        ),
        (
            "beta_binomial/huge_vs_small_1e12",
            (300_000_000_000, 1_000_000_000_000, 3_100, 10_000),
            (1.0, 1.0),
        ),
        (
            "beta_binomial/both_huge_1e12",
            (
                300_000_000_000,
                1_000_000_000_000,
                300_000_600_000,
                1_000_000_000_000,
            ),
            (1.0, 1.0),
        ),
        (
            "beta_binomial/deep_tail_1e-89",
            (1_000, 10_000, 2_000, 10_000),
            (1.0, 1.0),
        ),
        (
            "beta_binomial/empty_vs_4e10_prior_0.016",
            (0, 0, 41_206_857_455, 41_214_215_857),
            (1.14, 0.016),
        ),
        (
            "beta_binomial/rare_7e-9_vs_uniform",
            (1_707, 249_708_830_989, 0, 0),
            (1.0, 1.0),
        ),
    ];
    for (name, (x_c, n_c, x_t, n_t), prior) in formulations {
        c.bench_function(name, |b| {
            b.iter(|| {
                beta_binomial(
                    black_box(x_c),
                    black_box(n_c),
                    black_box(x_t),
                    black_box(n_t),
                    prior,
                )
            })
        });
    }
    let c_arm = MeanStats {
        n: 1_000_000,
        sum: 2.5e7,
        sum_sq: 1.5e9,
    };
    let t_arm = MeanStats {
        n: 1_000_500,
        sum: 2.51e7,
        sum_sq: 1.51e9,
    };
    c.bench_function("compare_means/1e6", |b| {
        b.iter(|| compare_means(black_box(c_arm), black_box(t_arm), 0.05))
    });
    // The Student-t quantile of a two-sided 95% CI across the range of Welch
    // df (target: under 1 µs each), and the survival function it inverts.
    for (name, df) in [
        ("student_t_quantile/df_4.5", 4.5),
        ("student_t_quantile/df_30", 30.0),
        ("student_t_quantile/df_2e4", 2e4),
        ("student_t_quantile/df_2e6", 2e6),
        ("student_t_quantile/df_1e12", 1e12),
    ] {
        c.bench_function(name, |b| {
            b.iter(|| student_t_quantile(black_box(0.025), black_box(df)))
        });
    }
    c.bench_function("student_t_quantile/df_7_p_1e-300", |b| {
        b.iter(|| student_t_quantile(black_box(1e-300), black_box(7.0)))
    });
    c.bench_function("student_t_sf/df_2e4", |b| {
        b.iter(|| student_t_sf(black_box(2.5), black_box(2e4)))
    });
    c.bench_function("boundaries/obf_k5", |b| {
        b.iter(|| {
            boundaries(
                black_box(0.05),
                Spending::OBrienFleming,
                black_box(&[0.2, 0.4, 0.6, 0.8, 1.0]),
            )
        })
    });
    // The credible interval: cost per draw, at 10⁴ units (Cheng's BB for
    // both arms), at 10¹² units, and with a shape below 1 (Cheng's BC).
    for (name, (x_c, n_c, x_t, n_t), prior, draws) in [
        (
            "relative_lift_interval/10k_draws",
            (1_200, 10_000, 1_320, 10_050),
            (1.0, 1.0),
            10_000,
        ),
        (
            "relative_lift_interval/100k_draws",
            (1_200, 10_000, 1_320, 10_050),
            (1.0, 1.0),
            100_000,
        ),
        (
            "relative_lift_interval/1m_draws",
            (1_200, 10_000, 1_320, 10_050),
            (1.0, 1.0),
            1_000_000,
        ),
        (
            "relative_lift_interval/100k_draws_1e12_units",
            (
                300_000_000_000,
                1_000_000_000_000,
                300_000_600_000,
                1_000_000_000_000,
            ),
            (1.0, 1.0),
            100_000,
        ),
        (
            "relative_lift_interval/100k_draws_prior_0.5_rare",
            (3, 10_000, 9, 10_000),
            (0.5, 0.5),
            100_000,
        ),
    ] {
        c.bench_function(name, |b| {
            b.iter(|| relative_lift_interval(black_box(x_c), n_c, x_t, n_t, prior, 0.95, draws, 42))
        });
    }
    c.bench_function("relative_lift_credible/cornish_fisher", |b| {
        b.iter(|| {
            xos::stats::credible::relative_lift_credible(
                black_box(1_200),
                10_000,
                1_320,
                10_050,
                (1.0, 1.0),
                0.95,
                100_000,
                42,
            )
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
