//! Conditions and `because` templates: name resolution, the type checker
//! over facts, units of literals.

use crate::diagnostic::{Diagnostic, Span, did_you_mean};
use crate::plan::{
    ArithOp, CompareOp, Expr, Fact, Field, GivenValue, Health, Quantifier, Reason, ReasonPart,
    Role, SettingKey, Status,
};
use crate::syntax::ast::{self, BinaryOp, ExprKind, Unit};
use crate::syntax::parse;

use super::metric::MetricInfo;
use super::settings::SETTING_KEYS;
use super::values::join_lines;
use super::values::{list, unit_words};
use crate::numbers;

// ---------------------------------------------------------------- expressions

/// What names mean where a rule is written.
pub(super) struct Scope<'a> {
    /// The experiment's metrics, primary first (empty for a policy file on
    /// its own).
    pub(super) metrics: &'a [MetricInfo],
    /// Rules in policy files may only read generic facts.
    pub(super) policy_file: bool,
    /// The text of the file the rules are written in.
    pub(super) text: &'a str,
}

/// The type of a condition's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ty {
    Bool,
    /// A number, with the kind of quantity when it comes from a fact.
    Number(Option<Dim>),
    Health,
    Status,
}

impl Ty {
    pub(super) fn describe(self) -> &'static str {
        match self {
            Ty::Bool => "a boolean",
            Ty::Number(_) => "a number",
            Ty::Health => "a health (`healthy`, `warning` or `blocked`)",
            Ty::Status => "a guardrail status (`ok`, `worsened` or `severe`)",
        }
    }

    pub(super) fn example(self) -> &'static str {
        match self {
            Ty::Bool => "`true` or `false`",
            Ty::Number(_) => "a number such as `0.01`",
            Ty::Health => "`healthy`, `warning` or `blocked`",
            Ty::Status => "`ok`, `worsened` or `severe`",
        }
    }
}

/// What a number measures, so literals compared with it can be unit-checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Dim {
    /// p-values, probabilities, α: plain or `%`.
    Probability,
    /// `rel_lift`: plain or `%`.
    RelLift,
    /// The lift of a rate: plain or `pp`.
    RateLift,
    /// The lift of a mean: plain only.
    MeanLift,
    /// A lift whose metric kind is not known here (policy files): plain or `pp`.
    AnyLift,
    /// Counts and statistics: plain only.
    Plain,
}

impl Dim {
    /// Whether two facts of these kinds can be compared, added or
    /// subtracted: the same kind, or two lifts of which one is a policy
    /// file's (whose metric kind is not known).
    fn agrees_with(self, other: Dim) -> bool {
        let lift = |d: Dim| matches!(d, Dim::RateLift | Dim::MeanLift | Dim::AnyLift);
        self == other
            || (lift(self) && lift(other) && (self == Dim::AnyLift || other == Dim::AnyLift))
    }

    /// The kind in words, for a message.
    fn describe(self) -> &'static str {
        match self {
            Dim::Probability => "a probability",
            Dim::RelLift => "a relative lift",
            Dim::RateLift => "the lift of a rate",
            Dim::MeanLift => "the lift of a mean",
            Dim::AnyLift => "a lift",
            Dim::Plain => "a count or statistic",
        }
    }
}

fn field_ty(field: Field, lift: Dim) -> Ty {
    match field {
        Field::P | Field::PAdjusted | Field::ProbBetter => Ty::Number(Some(Dim::Probability)),
        Field::RelLift => Ty::Number(Some(Dim::RelLift)),
        Field::Lift | Field::CiLow | Field::CiHigh | Field::ExpectedLoss => Ty::Number(Some(lift)),
        Field::Units | Field::Boundary => Ty::Number(Some(Dim::Plain)),
        Field::Significant
        | Field::Better
        | Field::Worse
        | Field::Worsened
        | Field::Severe
        | Field::NonInferior => Ty::Bool,
        Field::Status => Ty::Status,
    }
}

fn field_by_name(name: &str) -> Option<Field> {
    Field::ALL.into_iter().find(|f| f.name() == name)
}

fn field_names() -> Vec<&'static str> {
    Field::ALL.iter().map(|f| f.name()).collect()
}

const SETTING_FACTS: [SettingKey; 6] = [
    SettingKey::Alpha,
    SettingKey::SrmWarning,
    SettingKey::SrmBlocked,
    SettingKey::MinUnits,
    SettingKey::Seed,
    SettingKey::Draws,
];

pub(super) fn check_condition(
    expr: &ast::Expr,
    scope: &Scope<'_>,
    out: &mut Vec<Diagnostic>,
) -> Option<Expr> {
    let mut checker = ExprChecker { scope, out };
    let (checked, ty) = checker.check(expr, false, None)?;
    if ty != Ty::Bool {
        checker.out.push(
            Diagnostic::error(
                "xos::check::not_a_condition",
                format!(
                    "a condition must be true or false, but this is {}",
                    ty.describe()
                ),
            )
            .label(expr.span, ty.describe())
            .help("compare it with something, e.g. `primary.p < 0.01`"),
        );
        return None;
    }
    Some(checked)
}

pub(super) struct ExprChecker<'a, 'o> {
    pub(super) scope: &'a Scope<'a>,
    pub(super) out: &'o mut Vec<Diagnostic>,
}

impl ExprChecker<'_, '_> {
    fn check(
        &mut self,
        expr: &ast::Expr,
        in_quantifier: bool,
        hint: Option<Ty>,
    ) -> Option<(Expr, Ty)> {
        match &expr.kind {
            ExprKind::Number(n) => {
                if n.relative || n.unit == Unit::Days {
                    literal_alone(n, self.out)?;
                }
                Some((Expr::Number(n.value), Ty::Number(None)))
            }
            ExprKind::Path(path) => self.resolve(path, in_quantifier, hint),
            ExprKind::Not(inner) => {
                let (e, ty) = self.check(inner, in_quantifier, Some(Ty::Bool))?;
                self.expect_bool(inner, ty, "`not`")?;
                Some((Expr::Not(Box::new(e)), Ty::Bool))
            }
            ExprKind::Neg(inner) => {
                let (e, ty) = self.check(inner, in_quantifier, None)?;
                let Ty::Number(dim) = ty else {
                    self.out
                        .push(type_error(inner.span, "`-` needs a number", ty));
                    return None;
                };
                let negated = match e {
                    Expr::Number(v) => Expr::Number(-v),
                    e => Expr::Arith(ArithOp::Sub, Box::new(Expr::Number(0.0)), Box::new(e)),
                };
                Some((negated, Ty::Number(dim)))
            }
            ExprKind::Quantified(q, body) => {
                if in_quantifier {
                    self.out.push(
                        Diagnostic::error("xos::check::nested_quantifier", "quantifiers cannot be nested")
                            .label(expr.span, "inside another `any`/`all`/`no guardrail`")
                            .help("a quantifier already ranges over every guardrail; write the condition over one guardrail's fields"),
                    );
                    return None;
                }
                let (e, ty) = self.check(body, true, Some(Ty::Bool))?;
                self.expect_bool(body, ty, "a quantifier")?;
                let q = match q {
                    ast::Quantifier::Any => Quantifier::Any,
                    ast::Quantifier::All => Quantifier::All,
                    ast::Quantifier::No => Quantifier::No,
                };
                Some((Expr::Quantified(q, Box::new(e)), Ty::Bool))
            }
            ExprKind::Binary(op, lhs, rhs) => self.binary(*op, lhs, rhs, in_quantifier),
        }
    }

    fn expect_bool(&mut self, expr: &ast::Expr, ty: Ty, what: &str) -> Option<()> {
        if ty == Ty::Bool {
            return Some(());
        }
        self.out.push(type_error(
            expr.span,
            &format!("{what} needs a condition"),
            ty,
        ));
        None
    }

    fn binary(
        &mut self,
        op: BinaryOp,
        lhs: &ast::Expr,
        rhs: &ast::Expr,
        q: bool,
    ) -> Option<(Expr, Ty)> {
        match op {
            BinaryOp::And | BinaryOp::Or => {
                let l = self.check(lhs, q, Some(Ty::Bool));
                let r = self.check(rhs, q, Some(Ty::Bool));
                let (l, lt) = l?;
                let (r, rt) = r?;
                let word = if op == BinaryOp::And { "`and`" } else { "`or`" };
                let lok = self.expect_bool(lhs, lt, word);
                let rok = self.expect_bool(rhs, rt, word);
                lok?;
                rok?;
                let e = if op == BinaryOp::And {
                    Expr::And(Box::new(l), Box::new(r))
                } else {
                    Expr::Or(Box::new(l), Box::new(r))
                };
                Some((e, Ty::Bool))
            }
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div => {
                let l = self.check(lhs, q, None);
                let r = self.check(rhs, q, None);
                let (l, lt) = l?;
                let (r, rt) = r?;
                let (Ty::Number(ld), Ty::Number(rd)) = (lt, rt) else {
                    let (span, ty) = if matches!(lt, Ty::Number(_)) {
                        (rhs.span, rt)
                    } else {
                        (lhs.span, lt)
                    };
                    self.out.push(type_error(
                        span,
                        &format!("`{}` needs numbers", op.symbol()),
                        ty,
                    ));
                    return None;
                };
                let arith = match op {
                    BinaryOp::Add => ArithOp::Add,
                    BinaryOp::Sub => ArithOp::Sub,
                    BinaryOp::Mul => ArithOp::Mul,
                    _ => ArithOp::Div,
                };
                let dim = if matches!(arith, ArithOp::Add | ArithOp::Sub) {
                    self.units_agree(lhs, ld, rhs, rd)?;
                    ld.or(rd)
                } else {
                    None
                };
                Some((
                    Expr::Arith(arith, Box::new(l), Box::new(r)),
                    Ty::Number(dim),
                ))
            }
            _ => self.compare(op, lhs, rhs, q),
        }
    }

    fn compare(
        &mut self,
        op: BinaryOp,
        lhs: &ast::Expr,
        rhs: &ast::Expr,
        q: bool,
    ) -> Option<(Expr, Ty)> {
        // A bare `worsened`/`severe` is a status literal when compared with a
        // status, so type the other side first.
        let lhs_ambiguous = is_status_word(lhs);
        let (l, r) = if lhs_ambiguous && !is_status_word(rhs) {
            let r = self.check(rhs, q, None);
            let hint = r.as_ref().map(|(_, t)| *t);
            (self.check(lhs, q, hint), r)
        } else {
            let l = self.check(lhs, q, None);
            let hint = l.as_ref().map(|(_, t)| *t);
            (l, self.check(rhs, q, hint))
        };
        let (l, lt) = l?;
        let (r, rt) = r?;
        let cmp = match op {
            BinaryOp::Lt => CompareOp::Lt,
            BinaryOp::Le => CompareOp::Le,
            BinaryOp::Gt => CompareOp::Gt,
            BinaryOp::Ge => CompareOp::Ge,
            BinaryOp::Eq => CompareOp::Eq,
            _ => CompareOp::Ne,
        };
        match (lt, rt) {
            (Ty::Number(ld), Ty::Number(rd)) => {
                self.units_agree(lhs, ld, rhs, rd)?;
            }
            (a, b) if same_kind(a, b) => {
                if !matches!(cmp, CompareOp::Eq | CompareOp::Ne) {
                    self.out.push(
                        Diagnostic::error(
                            "xos::check::type_mismatch",
                            format!("`{}` only compares numbers", op.symbol()),
                        )
                        .label(
                            lhs.span.join(rhs.span),
                            format!("compares {}", a.describe()),
                        )
                        .help("use `==` or `!=` for booleans, health and statuses"),
                    );
                    return None;
                }
            }
            (a, b) => {
                self.out.push(
                    Diagnostic::error(
                        "xos::check::type_mismatch",
                        format!("cannot compare {} with {}", a.describe(), b.describe()),
                    )
                    .label(rhs.span, b.describe())
                    .secondary(lhs.span, a.describe())
                    .help(format!(
                        "compare {} with {}",
                        a.describe(),
                        a.example()
                    )),
                );
                return None;
            }
        }
        Some((Expr::Compare(cmp, Box::new(l), Box::new(r)), Ty::Bool))
    }

    /// Literals added to or compared with a fact must be in the fact's units.
    fn units_agree(
        &mut self,
        lhs: &ast::Expr,
        ld: Option<Dim>,
        rhs: &ast::Expr,
        rd: Option<Dim>,
    ) -> Option<()> {
        let mut ok = true;
        if let (Some(a), Some(b)) = (ld, rd)
            && !a.agrees_with(b)
        {
            self.out.push(
                Diagnostic::error(
                    "xos::check::unit_mismatch",
                    format!("{} and {} are measured in different units", a.describe(), b.describe()),
                )
                .label(rhs.span, b.describe())
                .secondary(lhs.span, a.describe())
                .help("compare facts of one kind (a p-value with a p-value, a lift with a lift), or a fact with a number in its units"),
            );
            ok = false;
        }
        if let Some(dim) = ld {
            ok &= check_literals(rhs, dim, &fact_label(lhs), self.out);
        }
        if let Some(dim) = rd {
            ok &= check_literals(lhs, dim, &fact_label(rhs), self.out);
        }
        ok.then_some(())
    }

    fn resolve(
        &mut self,
        path: &ast::Path,
        in_quantifier: bool,
        hint: Option<Ty>,
    ) -> Option<(Expr, Ty)> {
        let segments: Vec<&str> = path.segments.iter().map(|s| s.name.as_str()).collect();
        match segments.as_slice() {
            [word] => self.resolve_word(path, word, in_quantifier, hint),
            [root, field] => self
                .resolve_pair(path, root, field, in_quantifier)
                .map(|(f, t)| (Expr::Fact(f), t)),
            _ => {
                self.out.push(
                    Diagnostic::error(
                        "xos::check::unknown_fact",
                        format!("unknown fact `{}`", path.text()),
                    )
                    .label(path.span, "not a fact")
                    .help("facts have at most two parts, such as `primary.better` or `srm.p`"),
                );
                None
            }
        }
    }

    fn resolve_word(
        &mut self,
        path: &ast::Path,
        word: &str,
        q: bool,
        hint: Option<Ty>,
    ) -> Option<(Expr, Ty)> {
        if word == "health" {
            return Some((Expr::Fact(Fact::Health), Ty::Health));
        }
        // `worsened` and `severe` are also fields of a guardrail: inside a
        // quantifier they are statuses only where a status is expected.
        let contextual = matches!(word, "worsened" | "severe");
        if let Some((value, ty)) = literal_word(word)
            && (!contextual || !q || hint == Some(Ty::Status))
        {
            let literal = match value {
                GivenValue::Bool(b) => Expr::Bool(b),
                GivenValue::Number(x) => Expr::Number(x),
                GivenValue::Health(h) => Expr::Health(h),
                GivenValue::Status(s) => Expr::Status(s),
            };
            return Some((literal, ty));
        }
        if q && let Some(field) = field_by_name(word) {
            return Some((
                Expr::Fact(Fact::Guardrail(field)),
                field_ty(field, Dim::AnyLift),
            ));
        }
        let span = path.span;
        if self.scope.metrics.iter().any(|m| m.name == word) {
            self.out.push(
                Diagnostic::error(
                    "xos::check::metric_not_value",
                    format!("`{word}` is a metric, not a value"),
                )
                .label(span, "a metric has fields")
                .help(format!(
                    "read one of its fields, e.g. `{word}.better` or `{word}.p`"
                )),
            );
            return None;
        }
        if !q && field_by_name(word).is_some() {
            self.out.push(
                Diagnostic::error("xos::check::unknown_fact", format!("`{word}` needs a metric"))
                    .label(span, "a field of which metric?")
                    .help(format!(
                        "write `primary.{word}`, or test every guardrail with `any guardrail {word}`; several fields of one guardrail go in parentheses: `any guardrail (severe and {word})`"
                    )),
            );
            return None;
        }
        let mut candidates: Vec<&str> = vec![
            "health", "true", "false", "healthy", "warning", "blocked", "ok", "worsened", "severe",
            "primary", "srm", "settings", "plan",
        ];
        if q {
            candidates.extend(field_names());
        }
        let mut d = Diagnostic::error("xos::check::unknown_fact", format!("unknown fact `{word}`"))
            .label(span, "not a fact or value");
        d = match did_you_mean(word, candidates) {
            Some(s) => d.help(format!("did you mean `{s}`?")),
            None => d.help("facts are `health`, `srm.p`, `primary.better`, `settings.alpha`, ...; see docs/language.md"),
        };
        self.out.push(d);
        None
    }

    fn resolve_pair(
        &mut self,
        path: &ast::Path,
        root: &str,
        name: &str,
        q: bool,
    ) -> Option<(Fact, Ty)> {
        let root_span = path.segments[0].span;
        let field_span = path.segments[1].span;
        match root {
            "srm" => match name {
                "p" => Some((Fact::SrmP, Ty::Number(Some(Dim::Probability)))),
                "chi2" => Some((Fact::SrmChi2, Ty::Number(Some(Dim::Plain)))),
                _ => {
                    self.out
                        .push(unknown_field(root, name, field_span, &["p", "chi2"]));
                    None
                }
            },
            "plan" => match name {
                "sample_reached" => Some((Fact::SampleReached, Ty::Bool)),
                "progress" => Some((Fact::PlanProgress, Ty::Number(Some(Dim::Probability)))),
                "units_remaining" => Some((Fact::PlanUnitsRemaining, Ty::Number(Some(Dim::Plain)))),
                "days_remaining" => Some((Fact::PlanDaysRemaining, Ty::Number(Some(Dim::Plain)))),
                _ => {
                    self.out.push(unknown_field(
                        root,
                        name,
                        field_span,
                        &[
                            "sample_reached",
                            "progress",
                            "units_remaining",
                            "days_remaining",
                        ],
                    ));
                    None
                }
            },
            "sequential" => match name {
                "look" => Some((Fact::SequentialLook, Ty::Number(Some(Dim::Plain)))),
                "fixed" => Some((Fact::SequentialFixed, Ty::Bool)),
                "information" => Some((
                    Fact::SequentialInformation,
                    Ty::Number(Some(Dim::Probability)),
                )),
                _ => {
                    self.out.push(unknown_field(
                        root,
                        name,
                        field_span,
                        &["look", "information", "fixed"],
                    ));
                    None
                }
            },
            "settings" => {
                if let Some(key) = SETTING_FACTS.iter().find(|k| k.name() == name) {
                    let dim = match key {
                        SettingKey::Alpha | SettingKey::SrmWarning | SettingKey::SrmBlocked => {
                            Dim::Probability
                        }
                        _ => Dim::Plain,
                    };
                    return Some((Fact::Setting(*key), Ty::Number(Some(dim))));
                }
                if SETTING_KEYS.contains(&name) {
                    self.out.push(
                        Diagnostic::error(
                            "xos::check::unreadable_setting",
                            format!("`settings.{name}` is not a number a rule can read"),
                        )
                        .label(field_span, "not readable in rules")
                        .help("rules can read `settings.alpha`, `srm_warning`, `srm_blocked`, `min_units`, `seed` and `draws`"),
                    );
                    return None;
                }
                let names: Vec<&str> = SETTING_FACTS.iter().map(|k| k.name()).collect();
                let mut d = Diagnostic::error(
                    "xos::check::unknown_setting",
                    format!("unknown setting `{name}`"),
                )
                .label(field_span, "not a setting");
                d = match did_you_mean(name, names.iter().copied()) {
                    Some(s) => d.help(format!("did you mean `settings.{s}`?")),
                    None => d.help(format!("rules can read {}", list(&names))),
                };
                self.out.push(d);
                None
            }
            "primary" => {
                let field = self.field(root, name, field_span, false)?;
                if field.guardrail_only() {
                    self.out.push(guardrail_field_error(
                        root,
                        field,
                        field_span,
                        "the primary metric is never a guardrail",
                    ));
                    return None;
                }
                let lift = match self.scope.metrics.first() {
                    Some(m) if !self.scope.policy_file => {
                        if m.is_rate {
                            Dim::RateLift
                        } else {
                            Dim::MeanLift
                        }
                    }
                    _ => Dim::AnyLift,
                };
                Some((Fact::Metric(0, field), field_ty(field, lift)))
            }
            "guardrail" if q => {
                let field = self.field(root, name, field_span, true)?;
                Some((Fact::Guardrail(field), field_ty(field, Dim::AnyLift)))
            }
            "guardrail" => {
                self.out.push(
                    Diagnostic::error(
                        "xos::check::unknown_fact",
                        format!("`guardrail.{name}` needs a quantifier"),
                    )
                    .label(root_span, "which guardrail?")
                    .help(format!(
                        "test the guardrails with `any guardrail {name}`, `all guardrails {name}` or `no guardrail {name}`"
                    )),
                );
                None
            }
            _ => {
                let id = self.scope.metrics.iter().position(|m| m.name == root);
                if self.scope.policy_file
                    && (id.is_some() || field_by_name(name).is_some())
                    && did_you_mean(root, ["primary", "srm", "settings", "plan"])
                        .is_none_or(|_| id.is_some())
                {
                    self.out.push(
                            Diagnostic::error(
                                "xos::check::metric_in_policy",
                                format!("a policy rule cannot name the metric `{root}`"),
                            )
                            .label(root_span, "a specific metric")
                            .help("policy files are shared by many experiments: read `primary.*` or quantify over guardrails (`any guardrail worsened`), or move this rule into the experiment"),
                        );
                    return None;
                }
                let Some(id) = id else {
                    let mut names: Vec<&str> =
                        self.scope.metrics.iter().map(|m| m.name.as_str()).collect();
                    names.extend(["primary", "srm", "settings", "plan"]);
                    let mut d = Diagnostic::error(
                        "xos::check::unknown_metric",
                        format!("unknown metric `{root}`"),
                    )
                    .label(root_span, "not declared in this experiment");
                    d = match did_you_mean(root, names.iter().copied()) {
                        Some(s) => d.help(format!("did you mean `{s}`?")),
                        None => d.help(format!(
                            "the experiment's metrics are {}",
                            list(&names[..names.len() - 4])
                        )),
                    };
                    self.out.push(d);
                    return None;
                };
                let guardrail = self.scope.metrics[id].role == Role::Guardrail;
                let field = self.field(root, name, field_span, guardrail)?;
                let metric = &self.scope.metrics[id];
                if field.guardrail_only() && metric.role != Role::Guardrail {
                    self.out.push(guardrail_field_error(
                        root,
                        field,
                        field_span,
                        &format!("`{root}` is not a guardrail"),
                    ));
                    return None;
                }
                let lift = if metric.is_rate {
                    Dim::RateLift
                } else {
                    Dim::MeanLift
                };
                Some((Fact::Metric(id, field), field_ty(field, lift)))
            }
        }
    }

    /// The field `name` of `root`; the help lists the fields `root` has
    /// (a guardrail's own, `worsened` to `status`, only for a `guardrail`).
    fn field(&mut self, root: &str, name: &str, span: Span, guardrail: bool) -> Option<Field> {
        let field = field_by_name(name);
        if field.is_none() {
            let names: Vec<&str> = Field::ALL
                .iter()
                .filter(|f| guardrail || !f.guardrail_only())
                .map(|f| f.name())
                .collect();
            self.out.push(unknown_field(root, name, span, &names));
        }
        field
    }

    /// A fact path in a test's `given` list: like a rule's, and `guardrail.X`
    /// gives a field of one guardrail.
    pub(super) fn resolve_given(mut self, path: &ast::Path) -> Option<(Fact, Ty)> {
        let segments: Vec<&str> = path.segments.iter().map(|s| s.name.as_str()).collect();
        match segments.as_slice() {
            ["health"] => Some((Fact::Health, Ty::Health)),
            [root, field] => self.resolve_pair(path, root, field, true),
            _ => {
                let mut d = Diagnostic::error(
                    "xos::check::unknown_fact",
                    format!("unknown fact `{}`", path.text()),
                )
                .label(path.span, "not a fact a test can give");
                d = match segments.as_slice() {
                    [w] if field_by_name(w).is_some() => {
                        d.help(format!("write `primary.{w}` or `guardrail.{w}`"))
                    }
                    _ => d.help("give facts such as `health`, `srm.p`, `primary.better` or `guardrail.severe`"),
                };
                self.out.push(d);
                None
            }
        }
    }
}

fn is_status_word(expr: &ast::Expr) -> bool {
    matches!(&expr.kind, ExprKind::Path(p) if p.segments.len() == 1 && matches!(p.segments[0].name.as_str(), "worsened" | "severe"))
}

fn same_kind(a: Ty, b: Ty) -> bool {
    matches!(
        (a, b),
        (Ty::Bool, Ty::Bool) | (Ty::Health, Ty::Health) | (Ty::Status, Ty::Status)
    )
}

fn type_error(span: Span, message: &str, found: Ty) -> Diagnostic {
    Diagnostic::error(
        "xos::check::type_mismatch",
        format!("{message}, found {}", found.describe()),
    )
    .label(span, found.describe())
    .help(
        "conditions combine booleans with `and`, `or`, `not`; compare numbers with `<`, `>`, `==`",
    )
}

fn unknown_field(root: &str, name: &str, span: Span, known: &[&str]) -> Diagnostic {
    let mut d = Diagnostic::error(
        "xos::check::unknown_field",
        format!("`{root}` has no field `{name}`"),
    )
    .label(span, "unknown field");
    d = match did_you_mean(name, known.iter().copied()) {
        Some(s) => d.help(format!("did you mean `{root}.{s}`?")),
        None => d.help(format!("`{root}` has {}", list(known))),
    };
    d
}

fn guardrail_field_error(root: &str, field: Field, span: Span, why: &str) -> Diagnostic {
    Diagnostic::error(
        "xos::check::guardrail_field",
        format!("`{}` is only defined for guardrails", field.name()),
    )
    .label(span, why.to_string())
    .help(format!(
        "`{root}.{}` needs `{root}` to be declared with `guardrail`; or test all guardrails with `any guardrail {}`",
        field.name(),
        field.name()
    ))
}

/// The fact a numeric expression reads, for messages.
fn fact_label(expr: &ast::Expr) -> String {
    match &expr.kind {
        ExprKind::Path(p) => p.text(),
        ExprKind::Neg(e) => fact_label(e),
        ExprKind::Binary(_, a, b) => {
            let a = fact_label(a);
            if a.is_empty() { fact_label(b) } else { a }
        }
        _ => String::new(),
    }
}

/// Checks the literals added to or compared with a quantity of kind `dim`.
fn check_literals(expr: &ast::Expr, dim: Dim, fact: &str, out: &mut Vec<Diagnostic>) -> bool {
    match &expr.kind {
        ExprKind::Number(n) => literal_fits(n, dim, fact, out).is_some(),
        ExprKind::Neg(e) => check_literals(e, dim, fact, out),
        ExprKind::Binary(BinaryOp::Add | BinaryOp::Sub, a, b) => {
            let a = check_literals(a, dim, fact, out);
            check_literals(b, dim, fact, out) && a
        }
        _ => true,
    }
}

/// `relative` and `d` never fit a fact.
pub(super) fn literal_alone(n: &ast::Number, out: &mut Vec<Diagnostic>) -> Option<()> {
    if n.relative {
        out.push(
            Diagnostic::error(
                "xos::check::unit_mismatch",
                "a relative effect cannot be compared with a fact",
            )
            .label(n.span, "`relative` is not accepted here")
            .help("compare a relative lift as a percentage: `primary.rel_lift > 5%`"),
        );
        return None;
    }
    if n.unit == Unit::Days {
        out.push(
            Diagnostic::error("xos::check::unit_mismatch", "no fact is measured in days")
                .label(n.span, "days are not accepted here")
                .help("`d` is for `plan { duration 14d }`; write a plain number"),
        );
        return None;
    }
    Some(())
}

pub(super) fn literal_fits(
    n: &ast::Number,
    dim: Dim,
    fact: &str,
    out: &mut Vec<Diagnostic>,
) -> Option<()> {
    literal_alone(n, out)?;
    let fact = if fact.is_empty() {
        "this fact".to_string()
    } else {
        format!("`{fact}`")
    };
    let (ok, help) = match (dim, n.unit) {
        (_, Unit::None) => (true, String::new()),
        (Dim::Probability | Dim::RelLift, Unit::Percent) => (true, String::new()),
        (Dim::RateLift | Dim::AnyLift, Unit::Pp) => (true, String::new()),
        (Dim::Probability, _) => (
            false,
            format!(
                "{fact} is a probability; percentage points are differences of rates: write `{}%` or `{}`",
                numbers::written(n.value * 100.0),
                numbers::written(n.value)
            ),
        ),
        (Dim::RelLift, _) => (
            false,
            format!(
                "{fact} is already relative: write `{}%`",
                numbers::written(n.value * 100.0)
            ),
        ),
        (Dim::RateLift | Dim::AnyLift, _) => (
            false,
            format!(
                "{fact} is an absolute difference of rates: write `{}pp`, or compare `rel_lift` with `{}%`",
                numbers::written(n.value * 100.0),
                numbers::written(n.value * 100.0)
            ),
        ),
        (Dim::MeanLift, _) => (
            false,
            format!(
                "{fact} is in the metric's own units: write a plain number, or compare `rel_lift` with a percentage"
            ),
        ),
        (Dim::Plain, _) => (
            false,
            format!("{fact} is a plain number: write it without a unit"),
        ),
    };
    if ok {
        return Some(());
    }
    out.push(
        Diagnostic::error(
            "xos::check::unit_mismatch",
            format!("{} cannot be compared with {fact}", unit_words(n.unit)),
        )
        .label(n.span, format!("{} not accepted here", unit_words(n.unit)))
        .help(help),
    );
    None
}

// ---------------------------------------------------------------- reasons

/// Splits a `because` string into text and checked `{{ fact }}` references.
pub(super) fn check_reason(
    string: &ast::StringLit,
    scope: &Scope<'_>,
    out: &mut Vec<Diagnostic>,
) -> Option<Reason> {
    let raw = scope
        .text
        .get(string.span.start..string.span.end)
        .unwrap_or("\"\"");
    let body = raw.get(1..raw.len().saturating_sub(1)).unwrap_or("");
    let base = string.span.start + 1;
    let mut parts = Vec::new();
    let mut ok = true;
    let mut rest = body;
    let mut offset = 0;
    while let Some(open) = rest.find("{{") {
        push_text(&mut parts, &rest[..open]);
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            let at = base + offset + open;
            out.push(
                Diagnostic::error("xos::check::unclosed_placeholder", "`{{` is never closed")
                    .label(Span::new(at, at + 2), "placeholder opened here")
                    .help("write `{{ fact.path }}`, e.g. `{{ srm.p }}`"),
            );
            return None;
        };
        let inner = &after[..close];
        let trimmed = inner.trim();
        let lead = inner.len() - inner.trim_start().len();
        let start = base + offset + open + 2 + lead;
        let mut segments = Vec::new();
        let mut pos = start;
        for seg in trimmed.split('.') {
            segments.push(ast::Ident {
                name: seg.to_string(),
                span: Span::new(pos, pos + seg.len()),
            });
            pos += seg.len() + 1;
        }
        let valid = !trimmed.is_empty()
            && segments.iter().all(|s| {
                s.name
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                    && s.name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
        let path = ast::Path {
            segments,
            span: Span::new(start, start + trimmed.len()),
        };
        if !valid {
            out.push(
                Diagnostic::error(
                    "xos::check::bad_placeholder",
                    format!("`{trimmed}` is not a fact path"),
                )
                .label(path.span, "expected a fact such as `srm.p`")
                .help("placeholders hold one fact: `{{ primary.rel_lift }}`"),
            );
            ok = false;
        } else {
            let mut checker = ExprChecker {
                scope,
                out: &mut *out,
            };
            match checker.resolve(&path, false, None) {
                Some((Expr::Fact(fact), _)) => {
                    parts.push(ReasonPart::Fact(fact, trimmed.to_string()))
                }
                Some(_) => {
                    out.push(
                        Diagnostic::error(
                            "xos::check::bad_placeholder",
                            format!("`{trimmed}` is not a fact"),
                        )
                        .label(path.span, "a literal, not a fact")
                        .help("placeholders show facts, e.g. `{{ srm.p }}`"),
                    );
                    ok = false;
                }
                None => ok = false,
            }
        }
        let consumed = open + 2 + close + 2;
        offset += consumed;
        rest = &rest[consumed..];
    }
    push_text(&mut parts, rest);
    ok.then_some(Reason { parts })
}

fn push_text(parts: &mut Vec<ReasonPart>, raw: &str) {
    if raw.is_empty() {
        return;
    }
    let text = join_lines(&parse::unescape(raw).unwrap_or_else(|_| raw.to_string()));
    parts.push(ReasonPart::Text(text));
}

/// The literal a bare word names, with its type: `true` / `false`, a
/// health (`healthy`, `warning`, `blocked`) or a guardrail status (`ok`,
/// `worsened`, `severe`). Conditions and policy tests' `given` lines read
/// the same words.
pub(super) fn literal_word(word: &str) -> Option<(GivenValue, Ty)> {
    Some(match word {
        "true" => (GivenValue::Bool(true), Ty::Bool),
        "false" => (GivenValue::Bool(false), Ty::Bool),
        "healthy" => (GivenValue::Health(Health::Healthy), Ty::Health),
        "warning" => (GivenValue::Health(Health::Warning), Ty::Health),
        "blocked" => (GivenValue::Health(Health::Blocked), Ty::Health),
        "ok" => (GivenValue::Status(Status::Ok), Ty::Status),
        "worsened" => (GivenValue::Status(Status::Worsened), Ty::Status),
        "severe" => (GivenValue::Status(Status::Severe), Ty::Status),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::codes;
    use super::*;
    use crate::syntax::parse::parse_condition;

    fn check(text: &str) -> (Option<Expr>, Vec<Diagnostic>) {
        let metrics = [
            MetricInfo {
                name: "conversion".into(),
                role: Role::Primary,
                is_rate: true,
                prefer: crate::plan::Direction::Higher,
            },
            MetricInfo {
                name: "errors".into(),
                role: Role::Guardrail,
                is_rate: true,
                prefer: crate::plan::Direction::Lower,
            },
        ];
        let scope = Scope {
            metrics: &metrics,
            policy_file: false,
            text,
        };
        let expr = parse_condition(text).expect("a condition that parses");
        let mut out = Vec::new();
        let checked = check_condition(&expr, &scope, &mut out);
        (checked, out)
    }

    #[test]
    fn conditions_over_facts_type_check() {
        for text in [
            "primary.better",
            "conversion.better and not any guardrail severe",
            "primary.p < 1%",
            "srm.p < settings.srm_warning",
            "errors.lift < 0.1pp",
        ] {
            let (checked, out) = check(text);
            assert!(
                checked.is_some() && out.is_empty(),
                "{text}: {:?}",
                codes(&out)
            );
        }
    }

    #[test]
    fn a_number_is_not_a_condition() {
        let (checked, out) = check("primary.p");
        assert!(checked.is_none());
        assert_eq!(codes(&out), ["xos::check::not_a_condition"]);
    }

    #[test]
    fn unknown_metrics_get_a_suggestion() {
        let (_, out) = check("conversoin.better");
        assert_eq!(codes(&out), ["xos::check::unknown_metric"]);
        assert_eq!(out[0].help.as_deref(), Some("did you mean `conversion`?"));
    }

    #[test]
    fn literals_carry_the_fact_s_unit() {
        let (_, out) = check("primary.p < 1pp");
        assert_eq!(codes(&out), ["xos::check::unit_mismatch"]);
    }
}
