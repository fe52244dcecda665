//! The checker: the plans of the shipped examples, and one fixture per
//! diagnostic in `tests/fixtures/check/` with its rendered form snapshotted.
//!
//! A fixture is named after the code it demonstrates: `shares_sum.xos` must
//! produce `xos::check::shares_sum`; `unit_mismatch--alpha_pp.xos` is a
//! second case of `unit_mismatch`.

mod common;

use std::path::{Path, PathBuf};

use common::{manifest, relative, render_all, xos_files};
use xos::check::{self, CheckedFile, LoadOptions};
use xos::diagnostic::Diagnostics;
use xos::plan::{
    CompareOp, Correction, Direction, Effect, Expr, Fact, Field, GivenValue, MetricKind,
    PolicyOrigin, Quantifier, ReasonPart, Role, RuleSource, SettingKey, Verdict,
};

fn plan_of(path: &str) -> xos::plan::Plan {
    let path = manifest().join(path);
    match check::load_plan(&relative(&path), &LoadOptions::default()) {
        Ok(checked) => {
            assert!(
                checked.warnings.is_empty(),
                "{}",
                render_all(&checked.warnings)
            );
            checked.plan
        }
        Err(errors) => panic!("{}", render_all(&errors)),
    }
}

#[test]
fn checkout_plan() {
    let plan = plan_of("examples/checkout/checkout.xos");
    assert_eq!(plan.name(), "checkout_redesign");
    assert_eq!(plan.title(), Some("One-page checkout"));
    assert_eq!(
        plan.hypothesis(),
        Some(
            "Collapsing checkout into one page raises purchase conversion without raising cancellations."
        )
    );
    assert_eq!(
        plan.data().path,
        Path::new("examples/checkout/checkout.csv")
    );
    assert_eq!(plan.data().written, "checkout.csv");
    assert_eq!(plan.data().variant_column, "variant");
    assert_eq!(plan.data().units_column, "users");
    let names: Vec<&str> = plan.variants().iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["control", "treatment"]);
    assert!((plan.variants()[0].share - 0.5).abs() < 1e-12);

    let metrics: Vec<(&str, Role)> = plan
        .metrics()
        .iter()
        .map(|m| (m.name.as_str(), m.role))
        .collect();
    assert_eq!(
        metrics,
        [
            ("conversion", Role::Primary),
            ("revenue", Role::Secondary),
            ("cancel_rate", Role::Guardrail),
            ("error_rate", Role::Guardrail),
        ]
    );
    assert_eq!(plan.primary_id(), 0);
    let primary = plan.primary();
    assert_eq!(
        primary.kind,
        MetricKind::Rate {
            column: "conversions".into()
        }
    );
    assert_eq!(primary.prefer, Direction::Higher);
    assert!((primary.baseline.unwrap_or_default() - 0.12).abs() < 1e-12);
    assert_eq!(primary.mde, Some(Effect::Relative(0.05)));
    let cancel = &plan.metrics()[2];
    assert_eq!(cancel.prefer, Direction::Lower);
    assert!(matches!(cancel.worsened, Some(Effect::Absolute(v)) if (v - 0.001).abs() < 1e-12));
    assert!(matches!(cancel.severe, Some(Effect::Absolute(v)) if (v - 0.003).abs() < 1e-12));
    assert_eq!(
        plan.metrics()[1].kind,
        MetricKind::Mean {
            column: "revenue".into()
        }
    );

    let sample = plan
        .sample_plan()
        .as_ref()
        .map(|s| (s.daily_units, s.power));
    assert_eq!(sample, Some((Some(20_000.0), 0.8)));
    assert!((plan.settings().alpha - 0.05).abs() < 1e-12);
    assert_eq!(plan.settings().correction, Correction::Holm);

    let policy = &plan.policy();
    assert_eq!(policy.name, "default");
    assert_eq!(policy.origin, PolicyOrigin::BuiltIn);
    let rules: Vec<&str> = policy.rules.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        rules,
        [
            "srm_blocked",
            "invalid_data",
            "sample_ratio_mismatch",
            "severe_guardrail",
            "primary_harm",
            "early_look",
            "guardrail_worsened",
            "health_warning",
            "clear_win"
        ]
    );
    assert_eq!(
        policy.rules[1].when,
        Expr::Compare(
            CompareOp::Eq,
            Box::new(Expr::Fact(Fact::Health)),
            Box::new(Expr::Health(xos::plan::Health::Blocked))
        )
    );
    assert_eq!(
        policy.rules[2].when,
        Expr::Compare(
            CompareOp::Lt,
            Box::new(Expr::Fact(Fact::SrmP)),
            Box::new(Expr::Fact(Fact::Setting(SettingKey::SrmWarning)))
        )
    );
    assert_eq!(
        policy.rules[3].when,
        Expr::Quantified(
            Quantifier::Any,
            Box::new(Expr::And(
                Box::new(Expr::Fact(Fact::Guardrail(Field::Severe))),
                Box::new(Expr::Fact(Fact::Guardrail(Field::Worse)))
            ))
        )
    );
    assert_eq!(
        policy.rules[3].condition_text,
        "any guardrail (severe and worse)"
    );
    assert_eq!(
        policy.rules[4].when,
        Expr::Fact(Fact::Metric(0, Field::Worse))
    );
    assert!(policy.rules.iter().all(|r| r.source == RuleSource::Policy));
    assert_eq!(policy.otherwise.then, Verdict::Hold);
    assert!(!policy.tests.is_empty());
    assert_eq!(
        policy.tests[0].given[0].fact,
        Fact::Metric(0, Field::Better)
    );
    assert_eq!(policy.tests[0].given[0].value, GivenValue::Bool(true));
    assert_eq!(policy.tests[0].given[1].value, GivenValue::Number(0.01));
}

#[test]
fn latency_guard_plan() {
    let plan = plan_of("examples/latency_guard/search.xos");
    let latency = &plan.metrics()[1];
    assert_eq!(latency.role, Role::Guardrail);
    assert_eq!(
        latency.kind,
        MetricKind::Mean {
            column: "latency_ms".into()
        }
    );
    assert_eq!(latency.worsened, Some(Effect::Relative(0.05)));
    assert_eq!(latency.severe, Some(Effect::Relative(0.15)));
    let first = &plan.policy().rules[0];
    assert_eq!(first.name, "too_small_to_matter");
    assert_eq!(first.source, RuleSource::Inline);
    assert_eq!(
        first.condition_text,
        "primary.better and primary.rel_lift < 2% and no guardrail severe"
    );
    assert_eq!(
        first.when,
        Expr::And(
            Box::new(Expr::And(
                Box::new(Expr::Fact(Fact::Metric(0, Field::Better))),
                Box::new(Expr::Compare(
                    CompareOp::Lt,
                    Box::new(Expr::Fact(Fact::Metric(0, Field::RelLift))),
                    Box::new(Expr::Number(0.02))
                ))
            )),
            Box::new(Expr::Quantified(
                xos::plan::Quantifier::No,
                Box::new(Expr::Fact(Fact::Guardrail(Field::Severe)))
            ))
        )
    );
    assert_eq!(plan.policy().rules.len(), 10);
    assert_eq!(plan.policy().rules[1].source, RuleSource::Policy);
}

#[test]
fn multiarm_plan() {
    let plan = plan_of("examples/multiarm/pricing.xos");
    assert_eq!(plan.variants().len(), 3);
    let sum: f64 = plan.variants().iter().map(|v| v.share).sum();
    assert!((sum - 1.0).abs() < 1e-12);
    assert!((plan.variants()[2].share - 1.0 / 3.0).abs() < 1e-12);
    assert_eq!(plan.treatments().len(), 2);
    // A plan, so the default policy waits for the planned sample.
    assert!(plan.sample_plan().is_some());
}

#[test]
fn data_override_replaces_the_path() {
    let options = LoadOptions {
        data_override: Some(PathBuf::from("elsewhere.csv")),
        allow_outside: false,
        folders: None,
    };
    let checked = check::load_plan(Path::new("examples/checkout/checkout.xos"), &options)
        .unwrap_or_else(|e| panic!("{}", render_all(&e)));
    assert_eq!(checked.plan.data().path, Path::new("elsewhere.csv"));
}

#[test]
fn strict_policy_reads_non_inferiority() {
    let source = xos::diagnostic::SourceFile::new(
        manifest().join("tests/fixtures/check/strict_ok.xos.txt"),
        r#"experiment strict_ok {
    data "demo.csv"
    variants { control 50% treatment 50% }
    primary conversion = rate(conversions)
    guardrail cancel_rate = rate(cancellations) { margin 0.5pp }
    policy "../../../rules/strict.xos"
}"#,
    );
    // The policy is the crate's `rules/`, outside the fixture's folder.
    let options = LoadOptions {
        allow_outside: true,
        ..LoadOptions::default()
    };
    let checked =
        check::check_source(&source, &options).unwrap_or_else(|e| panic!("{}", render_all(&e)));
    let policy = &checked.plan.policy();
    assert_eq!(policy.name, "strict");
    assert!(matches!(policy.origin, PolicyOrigin::File(_)));
    let win = policy.rules.iter().find(|r| r.name == "proven_win");
    assert!(win.is_some_and(|r| r.then == Verdict::Launch));
    assert!(policy.tests.len() >= 4);
    let srm = &policy.rules[1];
    assert!(
        srm.because
            .parts
            .iter()
            .any(|p| matches!(p, ReasonPart::Fact(Fact::SrmP, path) if path == "srm.p"))
    );
}

#[test]
fn missing_spec_is_a_diagnostic_with_the_path() {
    let errors = check::load_plan(Path::new("no/such/spec.xos"), &LoadOptions::default())
        .err()
        .unwrap_or_default();
    let first = errors.iter().next().map(|d| (d.code, d.message.clone()));
    assert_eq!(
        first,
        Some((
            "xos::io::read",
            "cannot read `no/such/spec.xos`: no such file".to_string()
        ))
    );
}

#[test]
fn every_example_and_rule_file_checks_clean() {
    let mut files = Vec::new();
    for dir in ["examples", "rules"] {
        xos_files(&manifest().join(dir), &mut files);
    }
    assert!(files.len() >= 5);
    for file in files {
        match xos::check_path(&relative(&file), &LoadOptions::default()) {
            Ok(checked) => assert!(
                checked.warnings().is_empty(),
                "{}",
                render_all(checked.warnings())
            ),
            Err(errors) => panic!("{}: {}", file.display(), render_all(&errors)),
        }
    }
}

#[test]
fn fixtures() {
    insta::glob!("fixtures/check/*.xos", |path| {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let code = name.split("--").next().unwrap_or_default();
        let diagnostics = match xos::check_path(&relative(path), &LoadOptions::default()) {
            Ok(CheckedFile::Experiment(checked)) => checked.warnings,
            Ok(CheckedFile::Policy(checked)) => checked.warnings,
            Err(errors) => errors,
        };
        assert!(
            diagnostics
                .iter()
                .any(|d| d.code.rsplit("::").next() == Some(code)),
            "{name}: expected a diagnostic `{code}`, got:\n{}",
            render_all(&diagnostics)
        );
        insta::assert_snapshot!(render_all(&diagnostics));
    });
}

#[test]
fn config_fixtures() {
    insta::glob!("fixtures/config/*/spec.xos", |path| {
        let diagnostics = match check::load_plan(&relative(path), &LoadOptions::default()) {
            Ok(checked) => checked.warnings,
            Err(errors) => errors,
        };
        insta::assert_snapshot!(render_all(&diagnostics));
    });
}

fn check_text(path: &str, text: &str) -> Result<check::Checked, Diagnostics> {
    let source = xos::diagnostic::SourceFile::new(path, text);
    check::check_source(&source, &LoadOptions::default())
}

fn fact(f: Fact) -> Box<Expr> {
    Box::new(Expr::Fact(f))
}

#[test]
fn rule_conditions_compile_to_typed_expressions() {
    let checked = check_text(
        "tests/fixtures/in_memory.xos",
        r#"experiment rules {
    data "d.csv"
    variants { control 50% treatment 50% }
    primary conversion = rate(conversions)
    metric revenue = mean(revenue)
    guardrail cancel_rate = rate(cancellations) { worsened 0.1pp }
    rule a { when any guardrail (status == severe) then rollback because "A." }
    rule b { when no guardrail worsened and all guardrails (p < 5%) then launch because "B." }
    rule c { when cancel_rate.status != ok then hold because "C {{ cancel_rate.lift }}." }
    rule d { when revenue.lift > 2.5 and primary.lift >= 1pp then launch because "D." }
    rule e { when not plan.sample_reached then hold because "E." }
    rule f { when health != healthy or srm.chi2 > 10 then hold because "F." }
    rule g { when -primary.lift > 0.5pp then rollback because "G." }
    test g_fires { given primary.lift = -1pp, cancel_rate.severe = true, health = warning expect rollback by g }
}"#,
    )
    .unwrap_or_else(|e| panic!("{}", render_all(&e)));
    let rules = &checked.plan.policy().rules;
    assert_eq!(
        rules[0].when,
        Expr::Quantified(
            Quantifier::Any,
            Box::new(Expr::Compare(
                CompareOp::Eq,
                fact(Fact::Guardrail(Field::Status)),
                Box::new(Expr::Status(xos::plan::Status::Severe))
            ))
        )
    );
    assert_eq!(
        rules[1].when,
        Expr::And(
            Box::new(Expr::Quantified(
                Quantifier::No,
                fact(Fact::Guardrail(Field::Worsened))
            )),
            Box::new(Expr::Quantified(
                Quantifier::All,
                Box::new(Expr::Compare(
                    CompareOp::Lt,
                    fact(Fact::Guardrail(Field::P)),
                    Box::new(Expr::Number(0.05))
                ))
            ))
        )
    );
    assert_eq!(
        rules[2].when,
        Expr::Compare(
            CompareOp::Ne,
            fact(Fact::Metric(2, Field::Status)),
            Box::new(Expr::Status(xos::plan::Status::Ok))
        )
    );
    assert_eq!(
        rules[2].because.parts,
        [
            ReasonPart::Text("C ".into()),
            ReasonPart::Fact(Fact::Metric(2, Field::Lift), "cancel_rate.lift".into()),
            ReasonPart::Text(".".into())
        ]
    );
    assert_eq!(
        rules[3].when,
        Expr::And(
            Box::new(Expr::Compare(
                CompareOp::Gt,
                fact(Fact::Metric(1, Field::Lift)),
                Box::new(Expr::Number(2.5))
            )),
            Box::new(Expr::Compare(
                CompareOp::Ge,
                fact(Fact::Metric(0, Field::Lift)),
                Box::new(Expr::Number(0.01))
            ))
        )
    );
    assert_eq!(rules[4].when, Expr::Not(fact(Fact::SampleReached)));
    assert_eq!(
        rules[5].when,
        Expr::Or(
            Box::new(Expr::Compare(
                CompareOp::Ne,
                fact(Fact::Health),
                Box::new(Expr::Health(xos::plan::Health::Healthy))
            )),
            Box::new(Expr::Compare(
                CompareOp::Gt,
                fact(Fact::SrmChi2),
                Box::new(Expr::Number(10.0))
            ))
        )
    );
    assert_eq!(
        rules[6].when,
        Expr::Compare(
            CompareOp::Gt,
            Box::new(Expr::Arith(
                xos::plan::ArithOp::Sub,
                Box::new(Expr::Number(0.0)),
                fact(Fact::Metric(0, Field::Lift))
            )),
            Box::new(Expr::Number(0.005))
        )
    );
    assert_eq!(rules.len(), 7 + 9);
    let test = &checked.plan.policy().tests[0];
    assert_eq!(test.source, RuleSource::Inline);
    assert_eq!(test.by.as_deref(), Some("g"));
    let given: Vec<(Fact, GivenValue)> = test.given.iter().map(|g| (g.fact, g.value)).collect();
    assert_eq!(
        given,
        [
            (Fact::Metric(0, Field::Lift), GivenValue::Number(-0.01)),
            (Fact::Metric(2, Field::Severe), GivenValue::Bool(true)),
            (Fact::Health, GivenValue::Health(xos::plan::Health::Warning)),
        ]
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let errors = check_text(
        "tests/fixtures/in_memory.xos",
        r#"experiment many {
    data "d.csv"
    variants { control 45% treatment 45% }
    primary conversion = rate(conversions) { mde 5% }
    settings { alpha 0.1pp correction holmes }
    rule a { when conversoin.better then launch because "A." }
    rule b { when health == 0.05 then hold because "B." }
    rule c { when primary.lift > 1% then hold because "C." }
}"#,
    )
    .err()
    .unwrap_or_default();
    let codes: Vec<&str> = errors.iter().map(|d| d.code).collect();
    for expected in [
        "xos::check::shares_sum",
        "xos::check::ambiguous_percent",
        "xos::check::unit_mismatch",
        "xos::check::unknown_choice",
        "xos::check::unknown_metric",
        "xos::check::type_mismatch",
    ] {
        assert!(
            codes.contains(&expected),
            "{expected} missing from {codes:?}"
        );
    }
    assert_eq!(
        codes
            .iter()
            .filter(|c| **c == "xos::check::unit_mismatch")
            .count(),
        2
    );
}

#[test]
fn xos_toml_supplies_defaults_policy_and_folders() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = dir.path();
    let write = |name: &str, text: &str| {
        let path = root.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
        }
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
    };
    write(
        "xos.toml",
        r#"policy = "policies/team.xos"
output = "memos"
templates = "templates"
[settings]
alpha = "1%"
min_units = 500
correction = "bonferroni"
prior = "beta(2, 3)"
[require]
max_alpha = "5%"
min_guardrails = 0
"#,
    );
    write("templates/memo.md", "{{ report.experiment }}\n");
    write(
        "policies/team.xos",
        r#"policy team {
    rule ship { when primary.better then launch because "Ship." }
    otherwise hold because "Wait."
}"#,
    );
    write(
        "exp/a/spec.xos",
        r#"experiment a {
    data "a.csv"
    variants { control 50% treatment 50% }
    primary conversion = rate(conversions)
    settings { min_units 1_000 }
}"#,
    );
    let checked = check::load_plan(&root.join("exp/a/spec.xos"), &LoadOptions::default())
        .unwrap_or_else(|e| panic!("{}", render_all(&e)));
    let plan = checked.plan;
    assert!((plan.settings().alpha - 0.01).abs() < 1e-12);
    assert_eq!(plan.settings().min_units, 1_000);
    assert_eq!(plan.settings().correction, Correction::Bonferroni);
    assert_eq!(plan.settings().prior, (2.0, 3.0));
    assert_eq!(plan.policy().name, "team");
    assert_eq!(
        plan.policy().origin,
        PolicyOrigin::File(root.join("policies/team.xos"))
    );
    assert_eq!(plan.config(), Some(root.join("xos.toml").as_path()));
    assert_eq!(plan.output(), Some(root.join("memos").as_path()));
    assert_eq!(plan.templates(), Some(root.join("templates").as_path()));
    assert_eq!(plan.data().path, root.join("exp/a/a.csv"));
}

#[test]
fn a_policy_is_not_an_experiment() {
    let source = xos::diagnostic::SourceFile::new("rules/default.xos", check::DEFAULT_POLICY);
    let errors = check::check_source(&source, &LoadOptions::default())
        .err()
        .unwrap_or_default();
    let codes: Vec<&str> = errors.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["xos::check::not_an_experiment"]);
}

#[test]
fn a_file_that_is_not_utf8_is_a_diagnostic() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("binary.xos");
    std::fs::write(&path, [0x65, 0x78, 0xff, 0xfe]).unwrap_or_else(|e| panic!("{e}"));
    let errors = check::load_plan(&path, &LoadOptions::default())
        .err()
        .unwrap_or_default();
    let codes: Vec<&str> = errors.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["xos::io::not_utf8"]);
}

#[test]
fn an_edited_policy_file_is_checked_again() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let spec = dir.path().join("spec.xos");
    let policy = dir.path().join("policy.xos");
    std::fs::write(
        &spec,
        r#"experiment e {
    data "d.csv"
    variants { control 50% treatment 50% }
    primary conversion = rate(conversions)
    policy "policy.xos"
}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let rules = |name: &str| {
        std::fs::write(
            &policy,
            format!("policy p {{ rule {name} {{ when primary.better then launch because \"x\" }} otherwise hold because \"y\" }}"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let checked = check::load_plan(&spec, &LoadOptions::default())
            .unwrap_or_else(|e| panic!("{}", render_all(&e)));
        checked.plan.policy().rules[0].name.clone()
    };
    assert_eq!(rules("first"), "first");
    assert_eq!(rules("first"), "first");
    assert_eq!(rules("second"), "second");
    std::fs::write(
        &policy,
        "policy p { rule r { when primary.better then launch because \"x\" } }",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let errors = check::load_plan(&spec, &LoadOptions::default())
        .err()
        .unwrap_or_default();
    assert!(
        errors
            .iter()
            .any(|d| d.code == "xos::check::missing_otherwise")
    );
}
