//! The aggregated CSV loader and everything after it never panic and never
//! produce a non-finite number: arbitrary text, and the good fixture with
//! random edits, either evaluate to a report with finite numbers or fail
//! with diagnostics that carry a line and column. The Markdown memo and the
//! JSON report agree on the verdict.

use std::path::Path;

mod common;

use proptest::prelude::*;
use xos::diagnostic::{SourceFile, render};
use xos::output::{Format, render as render_memo};

const GOOD: &str = include_str!("fixtures/data/good.csv");

fn plan() -> xos::plan::Plan {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/data/spec.xos");
    xos::load_plan(&spec, &xos::LoadOptions::default())
        .expect("fixture spec")
        .plan
}

fn exercise(plan: &xos::plan::Plan, text: &str) {
    let source = SourceFile::new("data.csv", text);
    match xos::data::aggregated::parse_aggregated(plan, &source) {
        Ok(data) => {
            let report = xos::evaluate_decide_report(plan, &data, None);
            // On the report itself, before serialisation: serde_json writes
            // NaN and ±∞ as `null`, which the JSON text cannot tell from an
            // undefined value.
            let non_finite = common::finite::non_finite(&report);
            assert!(non_finite.is_empty(), "non-finite numbers: {non_finite:?}");
            let json = render_memo(&report, Format::Json, None).expect("json");
            let value: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
            let md = render_memo(&report, Format::Md, None).expect("markdown");
            let word = match report.decision.verdict {
                xos::plan::Verdict::Launch => "LAUNCH",
                xos::plan::Verdict::Hold => "HOLD",
                xos::plan::Verdict::Rollback => "ROLL BACK",
            };
            assert!(
                md.lines().next().is_some_and(|l| l.ends_with(word)),
                "memo and report disagree"
            );
            assert_eq!(
                value["decision"]["verdict"],
                report.decision.verdict.as_str()
            );
        }
        Err(errors) => {
            assert!(errors.has_errors());
            for d in errors.iter() {
                assert!(
                    d.location().is_some(),
                    "`{}` has no line and column",
                    d.message
                );
                let _ = render(d, false, 80);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,300}") {
        exercise(&plan(), &text);
    }

    #[test]
    fn edited_good_file_never_panics(
        cut in 0..GOOD.len(),
        len in 0usize..8,
        insert in "[0-9,\\-.e\" \n]{0,6}",
    ) {
        let end = (cut + len).min(GOOD.len());
        let text = format!("{}{}{}", &GOOD[..cut], insert, &GOOD[end..]);
        exercise(&plan(), &text);
    }

    #[test]
    fn any_valid_counts_evaluate_to_finite_numbers(
        n_c in 1u64..2_000_000,
        n_t in 1u64..2_000_000,
        conv_c in 0.0f64..=1.0,
        conv_t in 0.0f64..=1.0,
        cancel_c in 0.0f64..=1.0,
        cancel_t in 0.0f64..=1.0,
        mean_c in 0.0f64..1e6,
        mean_t in 0.0f64..1e6,
        spread in 0.0f64..10.0,
    ) {
        let count = |n: u64, share: f64| ((n as f64) * share).floor() as u64;
        let sums = |n: u64, mean: f64| {
            let sum = mean * n as f64;
            (sum, sum * mean * (1.0 + spread))
        };
        let (s_c, q_c) = sums(n_c, mean_c);
        let (s_t, q_t) = sums(n_t, mean_t);
        let text = format!(
            "variant,users,conversions,cancels,revenue_sum,revenue_sum_sq\n\
             control,{n_c},{},{},{s_c:?},{q_c:?}\ntreatment,{n_t},{},{},{s_t:?},{q_t:?}\n",
            count(n_c, conv_c), count(n_c, cancel_c), count(n_t, conv_t), count(n_t, cancel_t)
        );
        exercise(&plan(), &text);
    }
}

/// Found by `arbitrary_text_never_panics`: a file that is only a byte-order
/// mark holds no CSV record, and its diagnostic still has a location.
#[test]
fn a_byte_order_mark_alone_is_an_empty_file_with_a_location() {
    for text in ["\u{feff}", "\u{feff}\n", "\u{feff}\r\n\r\n"] {
        exercise(&plan(), text);
    }
}
