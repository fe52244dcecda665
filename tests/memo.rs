//! The memo a product manager reads: every number by significant digits and
//! in its unit, the risks under the verdict, every rolled-back arm, next
//! actions that follow from the rule and the health, and a guardrail table
//! that shows significance beside the threshold status. Each test runs a
//! spec and its data end to end and reads the Markdown and HTML memos.

use std::path::PathBuf;

use xos::output::report::Report;
use xos::output::{Format, render};
use xos::plan::Verdict;
use xos::{RunOptions, run_once};

struct Memo {
    report: Report,
    md: String,
    html: String,
}

/// Runs `spec` (an experiment body, `data "data.csv"` added) on `rows`.
fn memo(spec: &str, rows: &str) -> Memo {
    let dir = tempfile::tempdir().unwrap();
    let spec = format!(
        "experiment memo_case {{\n    title \"Memo case\"\n    data \"data.csv\"\n{spec}\n}}\n"
    );
    let path: PathBuf = dir.path().join("spec.xos");
    std::fs::write(&path, spec).unwrap();
    std::fs::write(dir.path().join("data.csv"), rows).unwrap();
    let report = run_once(&path, &RunOptions::default())
        .unwrap_or_else(|e| panic!("{e:?}"))
        .report;
    let md = render(&report, Format::Md, None).unwrap();
    let html = render(&report, Format::Html, None).unwrap();
    Memo { report, md, html }
}

/// The report of a spec in the repository.
fn report_of(spec: &str) -> Report {
    run_once(std::path::Path::new(spec), &RunOptions::default())
        .unwrap_or_else(|e| panic!("{e:?}"))
        .report
}

/// The HTML memo of a shipped example.
fn example_html(spec: &str) -> String {
    render(&report_of(spec), Format::Html, None).unwrap()
}

/// The line of the Markdown memo that contains `needle`.
fn line<'a>(text: &'a str, needle: &str) -> &'a str {
    text.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in\n{text}"))
}

/// No ASCII hyphen-minus before a digit, no scientific notation.
fn assert_readable_numbers(text: &str) {
    let bytes = text.as_bytes();
    for (i, w) in bytes.windows(2).enumerate() {
        if w[0] == b'-'
            && w[1].is_ascii_digit()
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric())
        {
            let start = i.saturating_sub(30);
            panic!(
                "ASCII minus in {:?}",
                &text[start..(i + 10).min(text.len())]
            );
        }
    }
    for word in text.split(|c: char| c.is_whitespace() || c == '|' || c == '`') {
        let digits = word.trim_start_matches(['+', '−', '[', '(']);
        let is_scientific = digits.starts_with(|c: char| c.is_ascii_digit())
            && digits.contains("e-")
            && digits
                .split("e-")
                .nth(1)
                .is_some_and(|e| e.starts_with(|c: char| c.is_ascii_digit()));
        assert!(!is_scientific, "scientific notation {word:?}");
    }
}

const TWO_ARMS: &str =
    "    variants { control 50% treatment 50% }\n    primary conversion = rate(conversions)";

#[test]
fn a_small_rate_and_its_change_keep_their_significant_digits() {
    // A guardrail rising from 0.0012% to 0.0030% (2.5×) once printed 0.00% → 0.00%.
    let m = memo(
        &format!(
            "{TWO_ARMS}\n    guardrail fraud = rate(fraud) {{ worsened 0.01pp severe 0.1pp }}"
        ),
        "variant,users,conversions,fraud\ncontrol,10000000,1200000,120\ntreatment,10000000,1210000,300\n",
    );
    for text in [&m.md, &m.html] {
        // Three significant digits: the precision of the interval's half-width.
        assert!(text.contains("0.00120%"), "control rate");
        assert!(text.contains("0.00300%"), "treatment rate");
        assert!(text.contains("+0.00180 pp"), "the change in pp");
        assert!(text.contains("[+0.00140 pp, +0.00221 pp]"), "its interval");
        assert!(
            !text.contains(" 0.00%") && !text.contains(">0.00%"),
            "a rate rounded away"
        );
        assert!(!text.contains("+0.00 pp"), "a change rounded away");
    }
    let row = line(&m.md, "| `fraud` |");
    assert!(row.contains("significantly worse"), "{row}");
    assert_readable_numbers(&m.md);
}

#[test]
fn facts_and_reasons_carry_their_units_and_the_tables_minus_sign() {
    let m = memo(
        &format!(
            "{TWO_ARMS}\n    guardrail latency = mean(latency_ms) {{ unit \"ms\" worsened 5% relative severe 20% relative }}\n    \
             rule read_all {{\n        when primary.worse and primary.rel_lift < 0 and primary.p < 5% and primary.prob_better < 50% and primary.lift < 0\n        \
             then rollback\n        because \"Down {{{{ primary.rel_lift }}}} ({{{{ primary.lift }}}}), p = {{{{ primary.p }}}}, P(better) = {{{{ primary.prob_better }}}}, loss {{{{ primary.expected_loss }}}}, latency {{{{ latency.lift }}}}.\"\n    }}"
        ),
        "variant,users,conversions,latency_ms_sum,latency_ms_sum_sq\n\
         control,100000,12000,24000000,6000000000\ntreatment,100000,10000,24100000,6050000000\n",
    );
    assert_eq!(m.report.decision.rule, "read_all");
    let reason = &m.report.decision.reason;
    assert!(
        reason.starts_with("Down −16.67% (−2.00 pp), p < 0.0001, P(better) < 0.1%, loss 2.00 pp"),
        "{reason}"
    );
    assert!(reason.contains("latency +1.00 ms"), "{reason}");
    let facts = line(&m.md, "Facts the rule read");
    assert!(facts.contains("`primary.rel_lift = −16.67%`"), "{facts}");
    assert!(facts.contains("`primary.p < 0.0001`"), "{facts}");
    assert!(facts.contains("`primary.prob_better < 0.1%`"), "{facts}");
    assert!(facts.contains("`primary.lift = −2.00 pp`"), "{facts}");
    // The unit of the mean metric is printed with its values and changes.
    let row = line(&m.md, "| `latency` |");
    assert!(
        row.contains("240.00 ms") && row.contains("241.00 ms"),
        "{row}"
    );
    assert!(m.html.contains("240.00 ms"));
    assert_readable_numbers(&m.md);
}

#[test]
fn unit_is_for_mean_metrics_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spec.xos");
    std::fs::write(
        &path,
        "experiment e {\n  data \"d.csv\"\n  variants { control 50% treatment 50% }\n  primary c = rate(c) { unit \"ms\" }\n}\n",
    )
    .unwrap();
    let err = xos::check::load_plan(&path, &Default::default()).unwrap_err();
    let text = format!("{err:?}");
    assert!(
        text.contains("`unit` only applies to mean metrics"),
        "{text}"
    );
}

#[test]
fn the_verdict_area_lists_health_guardrails_sample_and_inference() {
    let m = memo(
        "    variants { control 50% treatment 50% }\n    \
         primary conversion = rate(conversions) { baseline 12% mde 5% relative }\n    \
         guardrail cancel_rate = rate(cancels) { worsened 0.1pp severe 1pp }\n    \
         plan { daily_users 1000 }",
        "variant,users,conversions,cancels\ncontrol,90,10,1\ntreatment,90,12,9\n",
    );
    let head: String = m.md.split("## Charter").next().unwrap().to_string();
    assert!(head.contains("- **Health:** ⚠️ warning: variant `control` has 90 units, fewer than min_units = 100; variant `treatment`"), "{head}");
    assert!(
        head.contains("- **Guardrails:** `cancel_rate` severe, significantly worse: +8.89 pp"),
        "{head}"
    );
    assert!(
        head.contains("- **Sample:** 0.2% of the planned 94,068 units reached"),
        "{head}"
    );
    assert!(
        head.contains("- **Inference:** fixed horizon, 95% confidence"),
        "{head}"
    );
    let html_head = m.html.split("<h2>Charter").next().unwrap();
    assert!(
        html_head.contains("<strong>Health:</strong> <span class=\"badge worsened\">warning</span> variant <code>control</code> has 90 units"),
        "{html_head}"
    );
    assert!(
        html_head.contains("<strong>Inference:</strong> fixed horizon"),
        "{html_head}"
    );
}

#[test]
fn a_multi_arm_rollback_names_every_rolled_back_arm_worst_first() {
    let m = memo(
        "    variants { control 34% a 33% b 33% }\n    primary conversion = rate(conversions)",
        "variant,users,conversions\ncontrol,20000,2400\na,20000,2100\nb,20000,1800\n",
    );
    let d = &m.report.decision;
    assert_eq!(d.verdict, Verdict::Rollback);
    assert_eq!(d.arm.as_deref(), Some("b"), "the worst arm");
    assert_eq!(d.rolled_back, ["b", "a"]);
    let json = render(&m.report, Format::Json, None).unwrap();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        value["decision"]["rolled_back"],
        serde_json::json!(["b", "a"])
    );
    assert!(m.md.contains("**Roll back `b` and `a`**"), "{}", m.md);
    assert!(
        m.html
            .contains("Roll back <code>b</code> and <code>a</code>")
    );
    assert!(m.md.contains("1. Turn `b` and `a` off now and return their traffic to the control."));
    // Both arms roll back for the same rule and reason: one line names both.
    assert!(
        m.md.contains(
            "1. Find the cause of `b` and `a` before any relaunch (rule `primary_harm`): \
             The primary metric moved significantly in the wrong direction."
        ),
        "{}",
        m.md
    );
}

#[test]
fn a_blocked_sample_ratio_mismatch_says_what_it_is_and_only_what_follows() {
    let m = memo(
        &format!("{TWO_ARMS} {{ baseline 12% mde 5% relative }}\n    plan {{ daily_users 1000 }}"),
        "variant,users,conversions\ncontrol,10000,1200\ntreatment,12000,1700\n",
    );
    assert_eq!(m.report.decision.rule, "srm_blocked");
    for text in [&m.md, &m.html] {
        assert!(
            text.contains("Sample ratio mismatch: the units per arm deviate"),
            "{text}"
        );
        assert!(!text.contains("failed validation"), "the file is valid");
        assert!(!text.contains("1e-300") && !text.contains("p = <") && !text.contains("p = &lt;"));
        assert!(
            !text.contains("Keep the experiment running"),
            "running longer cannot repair it"
        );
        assert!(!text.contains("would change this to a launch"));
        assert!(!text.contains("health issues below"));
        assert!(text.contains("p &lt; 0.0001") || text.contains("p < 0.0001"));
    }
    assert!(m.md.contains("restart the experiment"));
    // The health issue gives χ² and the threshold, never "p < 0.0001 is
    // below srm_blocked = 0.00001" (a bound that does not show it).
    assert!(
        m.md.contains("sample ratio mismatch: χ² = 181.82 (df 1), p below srm_blocked = 0.00001"),
        "{}",
        m.md
    );
}

#[test]
fn a_significantly_worse_guardrail_is_never_a_plain_ok_and_the_deciding_row_is_marked() {
    let m = memo(
        &format!(
            "{TWO_ARMS}\n    guardrail latency = mean(latency_ms) {{ unit \"ms\" worsened 5% relative severe 20% relative }}\n    \
             guardrail errors = rate(errors) {{ worsened 1pp severe 2pp }}\n    \
             rule any_harm {{ when any guardrail worse then rollback because \"A guardrail is significantly worse.\" }}"
        ),
        "variant,users,conversions,latency_ms_sum,latency_ms_sum_sq,errors\n\
         control,100000,12000,24000000,6000000000,500\ntreatment,100000,12000,24300000,6100000000,510\n",
    );
    assert_eq!(m.report.decision.rule, "any_harm");
    assert_eq!(m.report.decision.arms[0].guardrails, ["latency"]);
    let row = line(&m.md, "| `latency` |");
    assert!(
        row.contains("⚠️ ok · significantly worse · **◀ decided the verdict**"),
        "{row}"
    );
    // Relative thresholds: the relative change beside the absolute one.
    assert!(row.contains("+3.00 ms (+1.25%)"), "{row}");
    let row = line(&m.md, "| `errors` |");
    assert!(row.contains("✅ ok · not significant |"), "{row}");
    assert!(!row.contains("decided"), "{row}");
    assert!(
        m.html
            .contains("<tr class=\"decided\"><td class=\"guardrail\"><code>latency</code>")
    );
    assert!(m.html.contains("ok · significantly worse"));
}

#[test]
fn the_chart_has_round_axis_ends_a_legend_and_the_guardrail_thresholds() {
    let html = example_html("examples/latency_guard/search.xos");
    let svg = &html[html.find("<svg").unwrap()..html.find("</svg>").unwrap()];
    // The widest interval reaches latency's +4.34%; thresholds widen the
    // axis up to 1.5 times that, 6.5%: it ends at the round ±10%, with ticks
    // at ±5% and 0.
    for tick in [">−10%<", ">−5%<", ">0%<", ">+5%<", ">+10%<"] {
        assert!(svg.contains(tick), "tick {tick} in {svg}");
    }
    // latency is lower-is-better: its worsened (+5%) and severe (+15%)
    // thresholds are drawn right of zero, and its good side is the left.
    assert!(
        svg.contains("class=\"threshold worsened\"><title>worsened threshold: +5%</title>"),
        "{svg}"
    );
    // Severe at +15% is beyond the axis: drawn dashed at its end.
    assert!(
        svg.contains("class=\"threshold severe beyond\"><title>severe threshold: +15%</title>"),
        "{svg}"
    );
    assert!(svg.contains("← good") && svg.contains("good →"), "{svg}");
    for legend in [
        "significantly better",
        "not significant",
        "worsened",
        "worse / severe",
        "guardrail thresholds",
    ] {
        assert!(svg.contains(legend), "legend {legend}");
    }
    // The same numbers as the tables.
    assert!(
        svg.contains("<title>latency: +4.17% [+3.99%, +4.34%]</title>"),
        "{svg}"
    );
}

#[test]
fn html_numbers_and_badges_are_styled_never_to_wrap_and_print_on_one_page() {
    let html = example_html("examples/checkout/checkout.xos");
    assert!(html.contains("td.num, .badge, .verdict, .decided-mark { white-space: nowrap; }"));
    assert!(html.contains("@media print"));
    // Every interval cell is a number cell (the browser test measures them).
    assert!(
        !html.contains("<td>[") && html.contains("<td class=\"num\">[+0.18 pp, +1.01 pp]</td>")
    );
}

#[test]
fn the_verdict_area_names_sequential_inference_and_its_look() {
    let report = report_of("tests/fixtures/sequential/group_sequential.xos");
    let md = render(&report, Format::Md, None).unwrap();
    let head = md.split("## Charter").next().unwrap();
    assert!(
        head.contains("- **Inference:** sequential (group-sequential), look 1"),
        "{head}"
    );
    assert!(
        head.contains("- **Sample:** 21.3% of the planned 94,068 units reached"),
        "{head}"
    );
}

/// Every table cell with a number in an example's Markdown memo appears,
/// as written, in its HTML memo: the two memos tell the same facts.
#[test]
fn markdown_and_html_memos_show_the_same_numbers() {
    let mut examples: Vec<PathBuf> = std::fs::read_dir("examples")
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .collect();
    examples.sort();
    let mut checked = 0;
    for dir in examples {
        let Some(spec) = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .find(|path| path.extension().is_some_and(|e| e == "xos"))
        else {
            continue;
        };
        let report = report_of(spec.to_str().unwrap());
        let md = render(&report, Format::Md, None).unwrap();
        let html = render(&report, Format::Html, None).unwrap();
        for row in md
            .lines()
            .filter(|l| l.starts_with('|') && !l.starts_with("| ---"))
        {
            for cell in row.split('|').map(str::trim) {
                // A badge's emoji is Markdown's; HTML draws a coloured badge.
                let cell = cell
                    .trim_start_matches(|c: char| !c.is_ascii() && c != '−' && c != '[')
                    .trim();
                if !cell.chars().any(|c| c.is_ascii_digit()) {
                    continue;
                }
                let escaped = cell
                    .replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;");
                assert!(
                    html.contains(&escaped),
                    "{}: {cell:?} is in the Markdown memo but not in the HTML one",
                    spec.display()
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "only {checked} cells compared");
}

#[test]
fn the_sample_risk_is_measured_against_a_declared_duration() {
    let m = memo(
        &format!(
            "{TWO_ARMS} {{ baseline 12% mde 5% relative }}\n    plan {{ daily_users 20000 duration 14d }}"
        ),
        "variant,users,conversions\ncontrol,10000,1200\ntreatment,10000,1300\n",
    );
    assert!(
        m.md.contains("- **Sample:** 7.1% of the 280,000 units of the planned 14 days reached"),
        "{}",
        m.md
    );
    assert!(m.html.contains(
        "<strong>Sample:</strong> 7.1% of the 280,000 units of the planned 14 days reached"
    ));
}

/// `min_units 0` turns the check off; the assumptions say so instead of
/// "fewer than 0 units".
#[test]
fn min_units_zero_is_said_as_no_minimum() {
    let m = memo(
        "    variants { control 50% treatment 50% }\n    primary conversion = rate(conversions)\n    settings { min_units 0 }",
        "variant,users,conversions\ncontrol,1000,100\ntreatment,1000,120\n",
    );
    for text in [&m.md, &m.html] {
        assert!(!text.contains("fewer than 0 units"), "{text}");
        assert!(
            text.contains("No arm is too small for the health"),
            "{text}"
        );
    }
}
