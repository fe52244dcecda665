//! Every case of the independent reference vectors in `tests/reference/`,
//! every expected field, within the file's tolerance (loading and comparison
//! rules in `tests/common/reference.rs`).

mod common;

use common::reference::{Checker, Tolerance, f, floats, int, load, u};
use serde_json::Value;
use xos::stats::always_valid;
use xos::stats::bayes::beta_binomial;
use xos::stats::dist::student_t_quantile;
use xos::stats::mean::{MeanStats, compare_means};
use xos::stats::multiple::{Adjustment, adjust};
use xos::stats::power::{MdeKind, mean_sample_size, rate_effect, rate_sample_size};
use xos::stats::proportion::{RelativeCiMethod, compare_rates, pooled_p_value, relative_ci};
use xos::stats::sequential::{Spending, boundaries};
use xos::stats::srm::srm_test;

#[test]
fn rate_family() {
    let file = load("rate");
    let mut ck = Checker::new(file.tolerance);
    for case in &file.cases {
        let (i, e, id) = (&case.input, &case.expected, case.id.as_str());
        let (n_c, x_c, n_t, x_t, alpha) = (
            u(i, "n_c"),
            u(i, "x_c"),
            u(i, "n_t"),
            u(i, "x_t"),
            f(i, "alpha"),
        );
        let Some(r) = compare_rates(n_c, x_c, n_t, x_t, alpha) else {
            ck.fail(id, "compare_rates returned None");
            continue;
        };
        ck.float(id, "p_c", Some(r.p_c), &e["p_c"]);
        ck.float(id, "p_t", Some(r.p_t), &e["p_t"]);
        ck.float(id, "abs_lift", Some(r.abs_lift), &e["abs_lift"]);
        ck.float(id, "rel_lift", r.rel_lift, &e["rel_lift"]);
        ck.float(id, "se", Some(r.se), &e["se"]);
        ck.float(id, "z", r.z, &e["z"]);
        ck.float(id, "p_value", Some(r.p_value), &e["p_value"]);
        ck.float(id, "ci_low", Some(r.ci_low), &e["ci_low"]);
        ck.float(id, "ci_high", Some(r.ci_high), &e["ci_high"]);
        ck.float(
            id,
            "p_value_pooled",
            Some(pooled_p_value(n_c, x_c, n_t, x_t)),
            &e["p_value_pooled"],
        );
        for (method, name) in [
            (RelativeCiMethod::Delta, "delta"),
            (RelativeCiMethod::Log, "log"),
            (RelativeCiMethod::Fieller, "fieller"),
        ] {
            let ci = relative_ci(n_c, x_c, n_t, x_t, alpha, method);
            ck.float(
                id,
                &format!("rel_ci_{name}_low"),
                ci.map(|c| c.0),
                &e[format!("rel_ci_{name}_low")],
            );
            ck.float(
                id,
                &format!("rel_ci_{name}_high"),
                ci.map(|c| c.1),
                &e[format!("rel_ci_{name}_high")],
            );
        }
    }
    ck.finish("rate");
}

fn mean_stats(v: &Value) -> MeanStats {
    MeanStats {
        n: u(v, "n"),
        sum: f(v, "sum"),
        sum_sq: f(v, "sum_sq"),
    }
}

#[test]
fn mean_family() {
    let file = load("mean");
    let mut ck = Checker::new(file.tolerance);
    for case in &file.cases {
        let (i, e, id) = (&case.input, &case.expected, case.id.as_str());
        let Some(m) = compare_means(
            mean_stats(&i["control"]),
            mean_stats(&i["treatment"]),
            f(i, "alpha"),
        ) else {
            ck.fail(id, "compare_means returned None");
            continue;
        };
        ck.float(id, "mean_c", Some(m.mean_c), &e["mean_c"]);
        ck.float(id, "mean_t", Some(m.mean_t), &e["mean_t"]);
        ck.float(id, "var_c", Some(m.var_c), &e["var_c"]);
        ck.float(id, "var_t", Some(m.var_t), &e["var_t"]);
        ck.float(id, "abs_lift", Some(m.abs_lift), &e["abs_lift"]);
        ck.float(id, "rel_lift", m.rel_lift, &e["rel_lift"]);
        ck.float(id, "se", Some(m.se), &e["se"]);
        ck.float(id, "df", m.df, &e["df"]);
        ck.float(id, "t", m.t, &e["t"]);
        ck.float(id, "p_value", Some(m.p_value), &e["p_value"]);
        ck.float(id, "ci_low", Some(m.ci_low), &e["ci_low"]);
        ck.float(id, "ci_high", Some(m.ci_high), &e["ci_high"]);
        ck.float(
            id,
            "rel_ci_delta_low",
            m.rel_ci_delta.map(|c| c.0),
            &e["rel_ci_delta_low"],
        );
        ck.float(
            id,
            "rel_ci_delta_high",
            m.rel_ci_delta.map(|c| c.1),
            &e["rel_ci_delta_high"],
        );
    }
    ck.finish("mean");
}

#[test]
fn srm_family() {
    let file = load("srm");
    let mut ck = Checker::new(file.tolerance);
    for case in &file.cases {
        let (i, e, id) = (&case.input, &case.expected, case.id.as_str());
        let counts: Vec<u64> = i["counts"]
            .as_array()
            .map(|a| a.iter().filter_map(int).collect())
            .unwrap_or_default();
        let weights = floats(&i["weights"]);
        let Some(s) = srm_test(&counts, &weights) else {
            ck.fail(id, "srm_test returned None");
            continue;
        };
        ck.float(id, "chi2", Some(s.chi2), &e["chi2"]);
        ck.int(id, "df", Some(s.df), &e["df"]);
        ck.float(id, "p_value", Some(s.p_value), &e["p_value"]);
    }
    ck.finish("srm");
}

#[test]
fn bayes_family() {
    let file = load("bayes");
    let mut ck = Checker::new(file.tolerance);
    for case in &file.cases {
        let (i, e, id) = (&case.input, &case.expected, case.id.as_str());
        let prior = (f(i, "prior_a"), f(i, "prior_b"));
        let Some(b) = beta_binomial(u(i, "x_c"), u(i, "n_c"), u(i, "x_t"), u(i, "n_t"), prior)
        else {
            ck.fail(id, "beta_binomial returned None");
            continue;
        };
        ck.float(
            id,
            "prob_t_beats_c",
            Some(b.prob_t_beats_c),
            &e["prob_t_beats_c"],
        );
        ck.float(
            id,
            "expected_loss_t",
            Some(b.expected_loss_t),
            &e["expected_loss_t"],
        );
        ck.float(
            id,
            "expected_loss_c",
            Some(b.expected_loss_c),
            &e["expected_loss_c"],
        );
    }
    ck.finish("bayes");
}

#[test]
fn power_family() {
    let file = load("power");
    let mut ck = Checker::new(file.tolerance);
    for case in &file.cases {
        let (i, e, id) = (&case.input, &case.expected, case.id.as_str());
        let size = match case.kind.as_deref() {
            Some("rate") => {
                let kind = match i["mde_kind"].as_str() {
                    Some("relative") => MdeKind::Relative,
                    Some("absolute") => MdeKind::Absolute,
                    other => panic!("{id}: unknown mde_kind {other:?}"),
                };
                let effect = rate_effect(f(i, "baseline"), f(i, "mde"), kind);
                ck.float(id, "p1", effect.map(|x| x.0), &e["p1"]);
                ck.float(id, "p2", effect.map(|x| x.1), &e["p2"]);
                rate_sample_size(
                    f(i, "baseline"),
                    f(i, "mde"),
                    kind,
                    f(i, "alpha"),
                    f(i, "power"),
                    f(i, "ratio"),
                )
            }
            Some("mean") => mean_sample_size(
                f(i, "sd"),
                f(i, "mde_abs"),
                f(i, "alpha"),
                f(i, "power"),
                f(i, "ratio"),
            ),
            other => panic!("{id}: unknown kind {other:?}"),
        };
        ck.int(id, "n_control", size.map(|s| s.n_control), &e["n_control"]);
        ck.int(
            id,
            "n_treatment",
            size.map(|s| s.n_treatment),
            &e["n_treatment"],
        );
        ck.float(
            id,
            "n_control_exact",
            size.map(|s| s.n_control_exact),
            &e["n_control_exact"],
        );
    }
    ck.finish("power");
}

#[test]
fn multiple_family() {
    let file = load("multiple");
    let mut ck = Checker::new(file.tolerance);
    for case in &file.cases {
        let (i, e, id) = (&case.input, &case.expected, case.id.as_str());
        let method = match i["method"].as_str() {
            Some("bonferroni") => Adjustment::Bonferroni,
            Some("holm") => Adjustment::Holm,
            Some("bh") => Adjustment::Bh,
            other => panic!("{id}: unknown method {other:?}"),
        };
        let adjusted = adjust(&floats(&i["p_values"]), method);
        let expected = e["p_adjusted"].as_array().cloned().unwrap_or_default();
        if adjusted.len() != expected.len() {
            ck.fail(
                id,
                &format!(
                    "p_adjusted has {} values, expected {}",
                    adjusted.len(),
                    expected.len()
                ),
            );
            continue;
        }
        for (k, (a, x)) in adjusted.iter().zip(&expected).enumerate() {
            ck.float(id, &format!("p_adjusted[{k}]"), Some(*a), x);
        }
    }
    ck.finish("multiple");
}

#[test]
fn sequential_family() {
    let file = load("sequential");
    let mut ck = Checker::new(file.tolerance);
    // The cumulative α is a closed form; hold it to 1e-12 relative (README).
    let closed_form = Tolerance {
        rel: 1e-12,
        abs: 0.0,
    };
    for case in &file.cases {
        let (i, e, id) = (&case.input, &case.expected, case.id.as_str());
        let spending = match i["spending"].as_str() {
            Some("obrien_fleming") => Spending::OBrienFleming,
            Some("pocock") => Spending::Pocock,
            other => panic!("{id}: unknown spending {other:?}"),
        };
        let Some(b) = boundaries(f(i, "alpha"), spending, &floats(&i["fractions"])) else {
            ck.fail(id, "boundaries returned None");
            continue;
        };
        let z = e["z_bounds"].as_array().cloned().unwrap_or_default();
        let cum = e["cumulative_alpha"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if b.z_bounds.len() != z.len() || b.cumulative_alpha.len() != cum.len() {
            ck.fail(id, "wrong number of looks");
            continue;
        }
        for (k, (a, x)) in b.z_bounds.iter().zip(&z).enumerate() {
            ck.float(id, &format!("z_bounds[{k}]"), Some(*a), x);
        }
        for (k, (a, x)) in b.cumulative_alpha.iter().zip(&cum).enumerate() {
            ck.float_tol(
                id,
                &format!("cumulative_alpha[{k}]"),
                Some(*a),
                x,
                closed_form,
            );
        }
    }
    ck.finish("sequential");
}

/// `student_t_quantile.json`: the quantile over df ∈ [1, 1e12] and
/// p ∈ [1e-300, 1 − 1e-16], made by `tests/reference/student_t_quantile.py`.
#[test]
fn student_t_quantile_family() {
    let file = load("student_t_quantile");
    let mut ck = Checker::new(file.tolerance);
    for case in &file.cases {
        let (i, e, id) = (&case.input, &case.expected, case.id.as_str());
        let q = student_t_quantile(f(i, "p"), f(i, "df"));
        ck.float(id, "quantile", Some(q), &e["quantile"]);
    }
    ck.finish("student_t_quantile");
}

#[test]
fn always_valid_family() {
    let file = load("always_valid");
    let mut ck = Checker::new(file.tolerance);
    for case in &file.cases {
        let (i, e, id) = (&case.input, &case.expected, case.id.as_str());
        let (alpha, tuning) = (f(i, "alpha"), f(i, "tuning"));
        let (c, t) = (&i["control"], &i["treatment"]);
        let result = match i["kind"].as_str() {
            Some("rate") => always_valid::compare_rates(
                u(c, "n"),
                u(c, "x"),
                u(t, "n"),
                u(t, "x"),
                alpha,
                tuning,
            ),
            Some("mean") => {
                always_valid::compare_means(mean_stats(c), mean_stats(t), alpha, tuning)
            }
            other => panic!("{id}: unknown kind {other:?}"),
        };
        let Some(r) = result else {
            ck.fail(id, "compare returned None");
            continue;
        };
        ck.float(id, "abs_lift", Some(r.abs_lift), &e["abs_lift"]);
        ck.float(id, "se", Some(r.se), &e["se"]);
        ck.float(id, "half_width", r.half_width, &e["half_width"]);
        ck.float(id, "ci_low", r.ci_low, &e["ci_low"]);
        ck.float(id, "ci_high", r.ci_high, &e["ci_high"]);
        ck.float(id, "p_value", Some(r.p_value), &e["p_value"]);
        ck.float(id, "rel_lift", r.rel_lift, &e["rel_lift"]);
        ck.float(id, "rel_ci_low", r.rel_ci_low, &e["rel_ci_low"]);
        ck.float(id, "rel_ci_high", r.rel_ci_high, &e["rel_ci_high"]);
        // The convention's invariant: significant <=> p < alpha <=> the
        // interval exists and excludes 0.
        let excludes = matches!((r.ci_low, r.ci_high), (Some(l), Some(h)) if l > 0.0 || h < 0.0);
        if (r.p_value < alpha) != excludes {
            ck.fail(id, "p < alpha disagrees with the interval");
        }
    }
    ck.finish("always_valid");
}

/// The credible interval of the relative lift against SciPy's quadrature of
/// the ratio's CDF (`tests/reference/credible.json`, made by
/// `credible_gen.py` beside it): each bound within 1e-4 of the interval's
/// width when every shape is at least 100, and 3e-4 when the smallest is
/// from 20 to 100. Every case takes the Cornish–Fisher path (shapes below
/// 20 go to the sampler, which keeps its own tests).
#[test]
fn credible_interval_matches_scipy() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/credible.json"),
    )
    .expect("tests/reference/credible.json");
    let doc: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let tolerance_100 = doc["tolerance"]["of_width"].as_f64().expect("tolerance");
    let tolerance_20 = doc["tolerance"]["of_width_min_shape_below_100"]
        .as_f64()
        .expect("tolerance");
    let cases = doc["cases"].as_array().expect("cases");
    assert!(cases.len() >= 10);
    let mut failures = Vec::new();
    for case in cases {
        let int = |k: &str| case[k].as_u64().expect(k);
        let prior = (
            case["prior"][0].as_f64().expect("prior"),
            case["prior"][1].as_f64().expect("prior"),
        );
        let (low, high) = xos::stats::credible::relative_lift_credible(
            int("x_c"),
            int("n_c"),
            int("x_t"),
            int("n_t"),
            prior,
            case["level"].as_f64().expect("level"),
            100_000,
            1,
        )
        .expect("an interval");
        let (want_low, want_high) = (
            case["low"].as_f64().expect("low"),
            case["high"].as_f64().expect("high"),
        );
        let width = want_high - want_low;
        let (x_c, n_c, x_t, n_t) = (int("x_c"), int("n_c"), int("x_t"), int("n_t"));
        let smallest = [x_c, n_c - x_c, x_t, n_t - x_t]
            .into_iter()
            .min()
            .expect("four") as f64
            + prior.0.min(prior.1);
        assert!(smallest >= xos::stats::credible::MIN_SHAPE, "{case}");
        let tolerance = if smallest >= 100.0 {
            tolerance_100
        } else {
            tolerance_20
        };
        for (got, want, name) in [(low, want_low, "low"), (high, want_high, "high")] {
            let error = (got - want).abs() / width;
            if error > tolerance {
                failures.push(format!(
                    "{case}: {name} {got} vs {want} ({error:.2e} of the width)"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
