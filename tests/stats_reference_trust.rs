//! The second-wave reference families of statistical trust (conventions
//! R1–R4 of DESIGN §2): score / pooled / Wald rate tests with their intervals
//! and non-inferiority (`rate_score.json`), relative intervals of means with
//! the Welch t quantile (`mean_relative.json`), and intervals at the
//! per-comparison level of a correction (`adjusted_ci.json`). Every case,
//! every expected field, within the file's tolerance.

mod common;

use common::reference::{Checker, f, load, u};
use serde_json::Value;
use xos::stats::mean::{MeanStats, compare_means};
use xos::stats::multiple::{Adjustment, adjust, adjusted_alpha};
use xos::stats::proportion::{
    RateMethod, RelativeCiMethod, compare_rates_with, non_inferiority, rate_interval, upper_bound,
};

fn rate_method(name: &str) -> RateMethod {
    match name {
        "score" => RateMethod::Score,
        "pooled" => RateMethod::Pooled,
        "wald" => RateMethod::Wald,
        other => panic!("unknown rate method {other}"),
    }
}

fn mean_stats(v: &Value) -> MeanStats {
    MeanStats {
        n: u(v, "n"),
        sum: f(v, "sum"),
        sum_sq: f(v, "sum_sq"),
    }
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("missing string {key}"))
}

#[test]
fn rate_score_family() {
    let file = load("rate_score");
    let mut ck = Checker::new(file.tolerance);
    for case in &file.cases {
        let (i, e, id) = (&case.input, &case.expected, case.id.as_str());
        let (n_c, x_c, n_t, x_t) = (u(i, "n_c"), u(i, "x_c"), u(i, "n_t"), u(i, "x_t"));
        let (alpha, method) = (f(i, "alpha"), rate_method(text(i, "method")));
        let Some(r) = compare_rates_with(n_c, x_c, n_t, x_t, alpha, method) else {
            ck.fail(id, "compare_rates_with returned None");
            continue;
        };
        ck.float(id, "abs_lift", Some(r.abs_lift), &e["abs_lift"]);
        ck.float(id, "z", r.z, &e["z"]);
        ck.float(id, "p_value", Some(r.p_value), &e["p_value"]);
        ck.float(id, "ci_low", Some(r.ci_low), &e["ci_low"]);
        ck.float(id, "ci_high", Some(r.ci_high), &e["ci_high"]);
        let upper = upper_bound(n_c, x_c, n_t, x_t, alpha, method);
        ck.float(id, "ni_upper", upper, &e["ni_upper"]);
        if i["margin"].is_null() {
            continue;
        }
        let Some(ni) = non_inferiority(n_c, x_c, n_t, x_t, alpha, f(i, "margin"), method) else {
            ck.fail(id, "non_inferiority returned None");
            continue;
        };
        ck.float(id, "ni_upper (margin)", ni.upper, &e["ni_upper"]);
        ck.float(id, "ni_z", ni.z, &e["ni_z"]);
        ck.float(id, "ni_p_value", Some(ni.p_value), &e["ni_p_value"]);
        ck.boolean(
            id,
            "non_inferior",
            Some(ni.non_inferior),
            &e["non_inferior"],
        );
        // The convention's equivalence, by construction.
        if ni.non_inferior != (ni.p_value < alpha) {
            ck.fail(id, "non_inferior disagrees with ni_p_value < alpha");
        }
    }
    ck.finish("rate_score");
}

#[test]
fn mean_relative_family() {
    let file = load("mean_relative");
    let mut ck = Checker::new(file.tolerance);
    for case in &file.cases {
        let (i, e, id) = (&case.input, &case.expected, case.id.as_str());
        let method = match text(i, "method") {
            "delta" => RelativeCiMethod::Delta,
            "fieller" => RelativeCiMethod::Fieller,
            "log" => RelativeCiMethod::Log,
            other => panic!("{id}: unknown method {other}"),
        };
        let Some(m) = compare_means(
            mean_stats(&i["control"]),
            mean_stats(&i["treatment"]),
            f(i, "alpha"),
        ) else {
            ck.fail(id, "compare_means returned None");
            continue;
        };
        let ci = m.relative_ci(method);
        ck.float(id, "rel_lift", m.rel_lift, &e["rel_lift"]);
        ck.float(id, "df", m.df, &e["df"]);
        ck.float(id, "rel_ci_low", ci.map(|c| c.0), &e["rel_ci_low"]);
        ck.float(id, "rel_ci_high", ci.map(|c| c.1), &e["rel_ci_high"]);
    }
    ck.finish("mean_relative");
}

/// One comparison's p-value and interval at a level, for either kind.
fn compare_at(i: &Value, treatment: &Value, level: f64) -> Option<(f64, f64, f64, f64)> {
    match text(i, "kind") {
        "rate" => {
            let (c, t) = (&i["control"], treatment);
            let method = rate_method(text(i, "method"));
            let (n_c, x_c, n_t, x_t) = (u(c, "n"), u(c, "x"), u(t, "n"), u(t, "x"));
            let r = compare_rates_with(n_c, x_c, n_t, x_t, level, method)?;
            let (low, high) = rate_interval(n_c, x_c, n_t, x_t, level, method)?;
            Some((r.abs_lift, r.p_value, low, high))
        }
        "mean" => {
            let m = compare_means(mean_stats(&i["control"]), mean_stats(treatment), level)?;
            Some((m.abs_lift, m.p_value, m.ci_low, m.ci_high))
        }
        other => panic!("unknown kind {other}"),
    }
}

#[test]
fn adjusted_ci_family() {
    let file = load("adjusted_ci");
    let mut ck = Checker::new(file.tolerance);
    for case in &file.cases {
        let (i, e, id) = (&case.input, &case.expected, case.id.as_str());
        let alpha = f(i, "alpha");
        let correction = match text(i, "correction") {
            "bonferroni" => Adjustment::Bonferroni,
            "holm" => Adjustment::Holm,
            "bh" => Adjustment::Bh,
            other => panic!("{id}: unknown correction {other}"),
        };
        let treatments = i["treatments"].as_array().expect("treatments");
        let Some(plain): Option<Vec<_>> =
            treatments.iter().map(|t| compare_at(i, t, alpha)).collect()
        else {
            ck.fail(id, "a comparison returned None");
            continue;
        };
        let p: Vec<f64> = plain.iter().map(|c| c.1).collect();
        let p_adj = adjust(&p, correction);
        for (k, t) in treatments.iter().enumerate() {
            let at = |key: &str| &e[key][k];
            let alpha_i = adjusted_alpha(alpha, p[k], p_adj[k], treatments.len());
            ck.float(id, "abs_lift", Some(plain[k].0), at("abs_lift"));
            ck.float(id, "p_value", Some(p[k]), at("p_value"));
            ck.float(id, "p_adjusted", Some(p_adj[k]), at("p_adjusted"));
            ck.float(id, "alpha_i", Some(alpha_i), at("alpha_i"));
            ck.float(id, "ci_low", Some(plain[k].2), at("ci_low"));
            ck.float(id, "ci_high", Some(plain[k].3), at("ci_high"));
            let Some(adjusted) = compare_at(i, t, alpha_i) else {
                ck.fail(id, "the adjusted comparison returned None");
                continue;
            };
            ck.float(id, "ci_adj_low", Some(adjusted.2), at("ci_adj_low"));
            ck.float(id, "ci_adj_high", Some(adjusted.3), at("ci_adj_high"));
            let excludes_zero = adjusted.2 > 0.0 || adjusted.3 < 0.0;
            if excludes_zero != (p_adj[k] < alpha) {
                ck.fail(
                    id,
                    "the adjusted interval disagrees with p_adjusted < alpha",
                );
            }
        }
    }
    ck.finish("adjusted_ci");
}
