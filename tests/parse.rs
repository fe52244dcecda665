//! The parser: one positive test per construct, and negative tests that
//! assert what the user sees — message, help and the underlined text.

use xos::diagnostic::SourceFile;
use xos::syntax::ast::{self, *};
use xos::syntax::parse::{parse, parse_condition};

fn parse_ok(text: &str) -> File {
    let source = SourceFile::new("test.xos", text);
    match parse(&source) {
        Ok(file) => file,
        Err(errors) => panic!(
            "{:?}",
            errors.iter().map(|d| d.message.clone()).collect::<Vec<_>>()
        ),
    }
}

fn experiment(items: &str) -> Experiment {
    match parse_ok(&format!("experiment demo {{\n{items}\n}}")) {
        File::Experiment(e) => e,
        File::Policy(_) => panic!("expected an experiment"),
    }
}

fn one_item(items: &str) -> Item {
    let e = experiment(items);
    assert_eq!(e.items.len(), 1, "{:?}", e.items);
    e.items.into_iter().next().unwrap_or_else(|| unreachable!())
}

/// (message, help, underlined text of the primary label)
fn parse_err(text: &str) -> (String, Option<String>, String) {
    let source = SourceFile::new("test.xos", text);
    let errors = match parse(&source) {
        Ok(file) => panic!("expected an error, parsed {file:?}"),
        Err(errors) => errors,
    };
    let d = errors
        .iter()
        .next()
        .cloned()
        .unwrap_or_else(|| unreachable!());
    let label = d
        .labels
        .iter()
        .find(|l| l.primary)
        .map(|l| source.snippet(l.span).to_string())
        .unwrap_or_default();
    (d.message, d.help, label)
}

fn expr(text: &str) -> Expr {
    parse_condition(text).unwrap_or_else(|d| panic!("{}", d.message))
}

fn path(p: &str) -> Expr {
    let segments = p
        .split('.')
        .map(|s| Ident {
            name: s.to_string(),
            span: Default::default(),
        })
        .collect();
    Expr {
        kind: ExprKind::Path(Path {
            segments,
            span: Default::default(),
        }),
        span: Default::default(),
    }
}

fn bin(op: BinaryOp, a: Expr, b: Expr) -> Expr {
    Expr {
        kind: ExprKind::Binary(op, Box::new(a), Box::new(b)),
        span: Default::default(),
    }
}

fn num(value: f64, unit: Unit) -> Expr {
    Expr {
        kind: ExprKind::Number(Number {
            value,
            unit,
            relative: false,
            span: Default::default(),
        }),
        span: Default::default(),
    }
}

// ---------------------------------------------------------------- positive

#[test]
fn header_fields() {
    let e = experiment(
        r#"title "T" owner "o" hypothesis "a
        b""#,
    );
    let fields: Vec<(HeaderKey, String)> = e
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Header(h) => Some((h.key, h.value.value.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        fields,
        [
            (HeaderKey::Title, "T".to_string()),
            (HeaderKey::Owner, "o".to_string()),
            (HeaderKey::Hypothesis, "a\n        b".to_string())
        ]
    );
}

#[test]
fn string_escapes() {
    let Item::Header(h) = one_item(r#"title "say \"hi\" \\ now""#) else {
        panic!("expected a header field");
    };
    assert_eq!(h.value.value, r#"say "hi" \ now"#);
}

#[test]
fn data_with_and_without_options() {
    let Item::Data(d) = one_item(r#"data "f.csv""#) else {
        panic!("expected data");
    };
    assert_eq!(d.path.value, "f.csv");
    assert!(d.options.is_none());
    let Item::Data(d) = one_item(
        r#"data "f.csv" { variant_column "arm" units "visitors" shape rows unit_id "user_id" missing zero }"#,
    ) else {
        panic!("expected data");
    };
    let keys: Vec<String> = d
        .options
        .map(|b| b.options.into_iter().map(|o| o.key.name).collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        ["variant_column", "units", "shape", "unit_id", "missing"]
    );
}

#[test]
fn variants_on_one_line() {
    let Item::Variants(v) = one_item("variants { control 33.3% b 33.3% c 33.4% }") else {
        panic!("expected variants");
    };
    let names: Vec<&str> = v.variants.iter().map(|x| x.name.name.as_str()).collect();
    assert_eq!(names, ["control", "b", "c"]);
    assert_eq!(v.variants[0].share.unit, Unit::Percent);
    assert!((v.variants[0].share.value - 0.333).abs() < 1e-12);
}

#[test]
fn metrics_of_every_role_and_kind() {
    let e = experiment(
        "primary conversion = rate(conversions) { baseline 12% mde 5% relative }
         metric revenue = mean(revenue) { sd 2.5 prefer higher }
         guardrail cancel_rate = rate(guardrail_cancel) { worsened 0.1pp severe 0.3pp margin 0.5pp }",
    );
    let roles: Vec<(Role, KindName, &str)> = e
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Metric(m) => Some((m.role, m.kind.name, m.kind.column.name.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        roles,
        [
            (Role::Primary, KindName::Rate, "conversions"),
            (Role::Metric, KindName::Mean, "revenue"),
            (Role::Guardrail, KindName::Rate, "guardrail_cancel")
        ]
    );
    let Item::Metric(primary) = &e.items[0] else {
        panic!("expected a metric");
    };
    let options = primary
        .options
        .as_ref()
        .map(|b| b.options.clone())
        .unwrap_or_default();
    let ast::Value::Number(mde) = &options[1].value else {
        panic!("expected a number");
    };
    assert!(mde.relative);
    assert_eq!(mde.unit, Unit::Percent);
    assert!((mde.value - 0.05).abs() < 1e-12);
}

#[test]
fn plan_settings_and_policy_reference() {
    let e = experiment(
        r#"plan { daily_users 20_000 power 80% duration 14d }
           settings { alpha 5% srm_blocked 1e-5 correction holm prior beta(1, 2) }
           policy "../../rules/default.xos""#,
    );
    let Item::Plan(plan) = &e.items[0] else {
        panic!("expected plan");
    };
    let ast::Value::Number(daily) = &plan.block.options[0].value else {
        panic!("expected a number");
    };
    assert_eq!(daily.value, 20_000.0);
    let ast::Value::Number(duration) = &plan.block.options[2].value else {
        panic!("expected a number");
    };
    assert_eq!((duration.value, duration.unit), (14.0, Unit::Days));
    let Item::Settings(settings) = &e.items[1] else {
        panic!("expected settings");
    };
    let ast::Value::Number(blocked) = &settings.block.options[1].value else {
        panic!("expected a number");
    };
    assert!((blocked.value - 0.00001).abs() < 1e-15);
    let ast::Value::Word(correction) = &settings.block.options[2].value else {
        panic!("expected a word");
    };
    assert_eq!(correction.name, "holm");
    let ast::Value::Call(prior) = &settings.block.options[3].value else {
        panic!("expected a call");
    };
    assert_eq!((prior.name.name.as_str(), prior.args.len()), ("beta", 2));
    let Item::Policy(policy) = &e.items[2] else {
        panic!("expected a policy reference");
    };
    assert_eq!(policy.path.value, "../../rules/default.xos");
}

#[test]
fn inline_rule_and_test() {
    let e = experiment(
        r#"rule small { when primary.rel_lift < 2% then hold because "Small." }
           test small_holds { given primary.better = true, primary.rel_lift = 1% expect hold by small }"#,
    );
    let Item::Rule(rule) = &e.items[0] else {
        panic!("expected a rule");
    };
    assert_eq!(rule.name.name, "small");
    assert_eq!(rule.then.verdict, Verdict::Hold);
    assert_eq!(rule.because.value, "Small.");
    let Item::Test(test) = &e.items[1] else {
        panic!("expected a test");
    };
    assert_eq!(test.given.len(), 2);
    assert_eq!(test.given[1].path.text(), "primary.rel_lift");
    assert_eq!(test.expect.verdict, Verdict::Hold);
    assert_eq!(test.by.as_ref().map(|b| b.name.as_str()), Some("small"));
}

#[test]
fn policy_file() {
    let File::Policy(p) = parse_ok(
        r#"// a comment
        policy p {
            rule win { when primary.better then launch because "Win." }
            otherwise hold because "Nothing."
            test t { expect hold }
        }"#,
    ) else {
        panic!("expected a policy");
    };
    assert_eq!(p.name.name, "p");
    assert!(matches!(p.items[0], PolicyItem::Rule(_)));
    assert!(matches!(&p.items[1], PolicyItem::Otherwise(o) if o.then.verdict == Verdict::Hold));
    assert!(matches!(&p.items[2], PolicyItem::Test(t) if t.given.is_empty()));
}

#[test]
fn boolean_precedence() {
    // not > and > or
    assert_eq!(
        expr("a or not b and c"),
        bin(
            BinaryOp::Or,
            path("a"),
            bin(
                BinaryOp::And,
                Expr {
                    kind: ExprKind::Not(Box::new(path("b"))),
                    span: Default::default()
                },
                path("c")
            )
        )
    );
}

#[test]
fn comparisons_and_arithmetic() {
    for (text, op) in [
        ("a < b", BinaryOp::Lt),
        ("a <= b", BinaryOp::Le),
        ("a > b", BinaryOp::Gt),
        ("a >= b", BinaryOp::Ge),
        ("a == b", BinaryOp::Eq),
        ("a != b", BinaryOp::Ne),
    ] {
        assert_eq!(expr(text), bin(op, path("a"), path("b")), "{text}");
    }
    // * binds tighter than +, which binds tighter than <
    assert_eq!(
        expr("a + b * 2 < c"),
        bin(
            BinaryOp::Lt,
            bin(
                BinaryOp::Add,
                path("a"),
                bin(BinaryOp::Mul, path("b"), num(2.0, Unit::None))
            ),
            path("c")
        )
    );
    assert_eq!(
        expr("(a - b) / c"),
        bin(
            BinaryOp::Div,
            bin(BinaryOp::Sub, path("a"), path("b")),
            path("c")
        )
    );
    assert!(
        matches!(expr("-a.lift > 1pp").kind, ExprKind::Binary(BinaryOp::Gt, ref l, _) if matches!(l.kind, ExprKind::Neg(_)))
    );
}

#[test]
fn quantifiers() {
    let q = |text: &str| match expr(text).kind {
        ExprKind::Quantified(q, body) => (q, *body),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        q("any guardrail worsened"),
        (Quantifier::Any, path("worsened"))
    );
    assert_eq!(
        q("all guardrails non_inferior"),
        (Quantifier::All, path("non_inferior"))
    );
    assert_eq!(
        q("no guardrail (severe and worse)"),
        (
            Quantifier::No,
            bin(BinaryOp::And, path("severe"), path("worse"))
        )
    );
    // A quantifier binds one field: the `and` is outside.
    assert!(matches!(
        expr("any guardrail severe and worse").kind,
        ExprKind::Binary(BinaryOp::And, _, _)
    ));
}

#[test]
fn number_literals() {
    let n = |text: &str| match expr(text).kind {
        ExprKind::Number(n) => (n.value, n.unit, n.relative),
        other => panic!("{other:?}"),
    };
    assert_eq!(n("20_000"), (20_000.0, Unit::None, false));
    assert_eq!(n("5%"), (0.05, Unit::Percent, false));
    assert_eq!(n("0.5pp"), (0.005, Unit::Pp, false));
    assert_eq!(n("5% relative"), (0.05, Unit::Percent, true));
    assert_eq!(n("14d"), (14.0, Unit::Days, false));
    assert_eq!(n("1e-3"), (0.001, Unit::None, false));
}

#[test]
fn comments_and_layout_do_not_change_the_tree() {
    let compact = parse_ok(
        r#"experiment x { data "d.csv" variants { a 50% b 50% } primary m = rate(c) { baseline 10% } rule r { when primary.better and srm.p > 0.01 then launch because "Yes." } }"#,
    );
    let spread = parse_ok(
        r#"// leading comment
experiment x {
    data "d.csv"          // trailing comment
    variants {
        a 50%
        b 50%
    }
    primary m = rate(c) {
        baseline 10%
    }
    rule r {
        when primary.better   // inside a condition
            and srm.p > 0.01
        then launch
        because "Yes."
    }
}
"#,
    );
    assert_eq!(compact, spread);
}

// ---------------------------------------------------------------- negative

#[test]
fn misspelled_keyword_suggests_the_keyword() {
    let (message, help, underlined) =
        parse_err("experiment x {\n    primay conversion = rate(conversions)\n}");
    assert!(
        message.starts_with("expected an experiment item"),
        "{message}"
    );
    assert!(message.ends_with("found `primay`"), "{message}");
    assert_eq!(help.as_deref(), Some("did you mean `primary`?"));
    assert_eq!(underlined, "primay");
}

#[test]
fn unknown_metric_kind_names_the_kinds() {
    let (message, help, underlined) = parse_err("experiment x { primary c = rat(x) }");
    assert_eq!(
        message,
        "expected a metric kind such as `rate(...)`, `mean(...)` or `ratio(...)`, found `rat`"
    );
    assert_eq!(help.as_deref(), Some("did you mean `rate`?"));
    assert_eq!(underlined, "rat");
}

#[test]
fn a_ratio_keeps_its_columns_in_order() {
    let Item::Metric(metric) = one_item("primary ctr = ratio(clicks, queries)") else {
        panic!("a metric");
    };
    assert_eq!(metric.kind.name, KindName::Ratio);
    assert_eq!(metric.kind.column.name, "clicks");
    let more: Vec<&str> = metric.kind.more.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(more, ["queries"]);
}
