//! The ratio (`ratio.json`, convention R7) and CUPED (`cuped.json`,
//! convention R8) reference families, every case and every expected field,
//! within each file's tolerance; `null` ⇔ `None`.

mod common;

use common::reference::{Checker, f, load, u};
use serde_json::Value;
use xos::stats::cuped::{CupedStats, compare_cuped};
use xos::stats::proportion::RelativeCiMethod;
use xos::stats::ratio::{RatioStats, compare_ratios};

const METHODS: [RelativeCiMethod; 3] = [
    RelativeCiMethod::Delta,
    RelativeCiMethod::Fieller,
    RelativeCiMethod::Log,
];

fn ratio_stats(v: &Value) -> RatioStats {
    RatioStats {
        n: u(v, "n"),
        sum_x: f(v, "sum_x"),
        sum_x_sq: f(v, "sum_x_sq"),
        sum_y: f(v, "sum_y"),
        sum_y_sq: f(v, "sum_y_sq"),
        sum_xy: f(v, "sum_xy"),
    }
}

fn cuped_stats(v: &Value) -> CupedStats {
    CupedStats {
        n: u(v, "n"),
        sum_y: f(v, "sum_y"),
        sum_y_sq: f(v, "sum_y_sq"),
        sum_c: f(v, "sum_c"),
        sum_c_sq: f(v, "sum_c_sq"),
        sum_yc: f(v, "sum_yc"),
    }
}

/// Fieller and log intervals are not in the reference: they must bracket
/// the relative lift whenever they are defined, and collapse with it.
fn check_other_methods(
    ck: &mut Checker,
    id: &str,
    rel: Option<f64>,
    intervals: impl Fn(RelativeCiMethod) -> Option<(f64, f64)>,
) {
    for method in METHODS {
        let Some((low, high)) = intervals(method) else {
            continue;
        };
        let Some(rel) = rel else {
            ck.fail(id, &format!("{method:?} interval without a relative lift"));
            continue;
        };
        let slack = 1e-12 * rel.abs().max(1.0);
        if !(low <= rel + slack && rel - slack <= high) {
            ck.fail(id, &format!("{method:?} ({low}, {high}) misses {rel}"));
        }
    }
}

#[test]
fn ratio_family() {
    let file = load("ratio");
    let mut ck = Checker::new(file.tolerance);
    for case in &file.cases {
        let (i, e, id) = (&case.input, &case.expected, case.id.as_str());
        let (c, t, alpha) = (
            ratio_stats(&i["control"]),
            ratio_stats(&i["treatment"]),
            f(i, "alpha"),
        );
        ck.float(id, "r_c", c.ratio(), &e["r_c"]);
        ck.float(id, "r_t", t.ratio(), &e["r_t"]);
        ck.float(id, "var_r_c", c.variance(), &e["var_r_c"]);
        ck.float(id, "var_r_t", t.variance(), &e["var_r_t"]);
        let r = compare_ratios(c, t, alpha, RelativeCiMethod::Delta);
        ck.float(id, "abs_lift", r.map(|r| r.abs_lift), &e["abs_lift"]);
        ck.float(id, "rel_lift", r.and_then(|r| r.rel_lift), &e["rel_lift"]);
        ck.float(id, "se", r.map(|r| r.se), &e["se"]);
        ck.float(id, "z", r.and_then(|r| r.z), &e["z"]);
        ck.float(id, "p_value", r.map(|r| r.p_value), &e["p_value"]);
        ck.float(id, "ci_low", r.map(|r| r.ci_low), &e["ci_low"]);
        ck.float(id, "ci_high", r.map(|r| r.ci_high), &e["ci_high"]);
        let rel_ci = r.and_then(|r| r.rel_ci);
        ck.float(id, "rel_ci_low", rel_ci.map(|c| c.0), &e["rel_ci_low"]);
        ck.float(id, "rel_ci_high", rel_ci.map(|c| c.1), &e["rel_ci_high"]);
        check_other_methods(&mut ck, id, r.and_then(|r| r.rel_lift), |m| {
            compare_ratios(c, t, alpha, m).and_then(|r| r.rel_ci)
        });
    }
    ck.finish("ratio");
}

#[test]
fn cuped_family() {
    let file = load("cuped");
    let mut ck = Checker::new(file.tolerance);
    for case in &file.cases {
        let (i, e, id) = (&case.input, &case.expected, case.id.as_str());
        let (c, t, alpha) = (
            cuped_stats(&i["control"]),
            cuped_stats(&i["treatment"]),
            f(i, "alpha"),
        );
        let Some(r) = compare_cuped(c, t, alpha, RelativeCiMethod::Delta) else {
            ck.fail(id, "compare_cuped returned None");
            continue;
        };
        ck.float(id, "theta", r.theta, &e["theta"]);
        ck.float(id, "m_c", Some(r.m_c), &e["m_c"]);
        ck.float(id, "m_t", Some(r.m_t), &e["m_t"]);
        ck.float(id, "abs_lift", Some(r.abs_lift), &e["abs_lift"]);
        ck.float(id, "se", Some(r.se), &e["se"]);
        ck.float(id, "df", r.df, &e["df"]);
        ck.float(id, "t", r.t, &e["t"]);
        ck.float(id, "p_value", Some(r.p_value), &e["p_value"]);
        ck.float(id, "ci_low", Some(r.ci_low), &e["ci_low"]);
        ck.float(id, "ci_high", Some(r.ci_high), &e["ci_high"]);
        ck.float(id, "rel_lift", r.rel_lift, &e["rel_lift"]);
        ck.float(id, "rel_ci_low", r.rel_ci.map(|c| c.0), &e["rel_ci_low"]);
        ck.float(id, "rel_ci_high", r.rel_ci.map(|c| c.1), &e["rel_ci_high"]);
        ck.float(
            id,
            "variance_reduction",
            r.variance_reduction,
            &e["variance_reduction"],
        );
        check_other_methods(&mut ck, id, r.rel_lift, |m| {
            compare_cuped(c, t, alpha, m).and_then(|r| r.rel_ci)
        });
    }
    ck.finish("cuped");
}
