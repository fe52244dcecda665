//! The syntax tree of a `.xos` file, as written.
//!
//! Every node carries a [`Span`]; spans never take part in equality, so two
//! trees compare equal when they say the same thing, whatever the layout
//! (`xos fmt` relies on this). Nothing here is resolved or checked: names are
//! strings and numbers keep the unit they were written with.

use crate::diagnostic::Span;

/// A parsed file: one experiment or one policy.
#[derive(Clone, Debug, PartialEq)]
pub enum File {
    /// `experiment NAME { ... }`: a spec.
    Experiment(Experiment),
    /// `policy NAME { ... }`: a policy file.
    Policy(PolicyDecl),
}

/// A name with its place in the source.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The name as written (quoted names without their quotes).
    pub name: String,
    /// Where the name is written, from its first to its last character.
    pub span: Span,
}

/// A string literal: `value` has escapes resolved; the raw text (for `fmt`
/// and `{{ fact }}` placeholders) is the source under `span`.
#[derive(Clone, Debug, PartialEq)]
pub struct StringLit {
    /// The string's value, escapes resolved, quotes removed.
    pub value: String,
    /// Where the literal, quotes included, is written, from its first to its last character.
    pub span: Span,
}

/// The unit written right after a numeral.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A plain number.
    None,
    /// `%`: hundredths.
    Percent,
    /// `pp`: percentage points, an absolute difference of rates.
    Pp,
    /// `d`: days.
    Days,
}

impl Unit {
    /// The unit as written after the numeral (`%`, `pp`, `d`; empty for a plain number).
    pub fn suffix(self) -> &'static str {
        match self {
            Unit::None => "",
            Unit::Percent => "%",
            Unit::Pp => "pp",
            Unit::Days => "d",
        }
    }
}

/// A number with its unit: `5% relative` is `{ value: 0.05, unit: Percent,
/// relative: true }`. `value` has the unit applied (`%` and `pp` are ×0.01)
/// and the sign.
#[derive(Clone, Debug, PartialEq)]
pub struct Number {
    /// The value with the unit applied (`%` and `pp` are ×0.01) and the sign.
    pub value: f64,
    /// The unit written after the numeral.
    pub unit: Unit,
    /// Whether the `relative` keyword follows (`5% relative`): a fraction of the control's value
    /// rather than a difference in the metric's units.
    pub relative: bool,
    /// Where the number, its unit and `relative` included, is written, from its first to its last character.
    pub span: Span,
}

/// A value in an option block or a test's `given` list.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A number with its unit (`5%`, `0.1pp`, `14d`).
    Number(Number),
    /// A string literal (`"ms"`).
    String(StringLit),
    /// A bare word: `holm`, `lower`, `true`.
    Word(Ident),
    /// `beta(1, 1)`.
    Call(Call),
}

impl Value {
    /// Where the value is written.
    pub fn span(&self) -> Span {
        match self {
            Value::Number(n) => n.span,
            Value::String(s) => s.span,
            Value::Word(w) => w.span,
            Value::Call(c) => c.span,
        }
    }

    /// Maps every span of the value, its arguments' included, through `to`:
    /// a value read out of a string in another file (`xos.toml`) is moved
    /// to where that string is.
    pub fn relocate(&mut self, to: &impl Fn(Span) -> Span) {
        match self {
            Value::Number(n) => n.span = to(n.span),
            Value::String(s) => s.span = to(s.span),
            Value::Word(w) => w.span = to(w.span),
            Value::Call(c) => {
                c.span = to(c.span);
                c.name.span = to(c.name.span);
                for arg in &mut c.args {
                    arg.relocate(to);
                }
            }
        }
    }
}

/// A function-like value: `beta(1, 1)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// The function's name (`beta`).
    pub name: Ident,
    /// The arguments, in order.
    pub args: Vec<Value>,
    /// Where the call is written, from its first to its last character.
    pub span: Span,
}

/// `key value` in an option block.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyValue {
    /// The option's name (`units`, `prefer`).
    pub key: Ident,
    /// The option's value, unchecked.
    pub value: Value,
    /// Where the option is written, from its first to its last character.
    pub span: Span,
}

/// `{ key value ... }`.
#[derive(Clone, Debug, PartialEq)]
pub struct OptionBlock {
    /// The options in the order written; duplicates are kept for the checker to report.
    pub options: Vec<KeyValue>,
    /// Where the block, braces included, is written, from its first to its last character.
    pub span: Span,
}

/// `experiment NAME { ... }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Experiment {
    /// The experiment's name (`checkout_redesign`).
    pub name: Ident,
    /// The experiment's items in the order written.
    pub items: Vec<Item>,
    /// Where the experiment is written, from its first to its last character.
    pub span: Span,
}

/// One item of an experiment, in the order written.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// `title`, `owner` or `hypothesis` with its string.
    Header(HeaderField),
    /// `data "f.csv" { ... }`.
    Data(DataDecl),
    /// `variants { ... }`.
    Variants(VariantsDecl),
    /// A `primary`, `metric` or `guardrail` declaration.
    Metric(MetricDecl),
    /// `plan { ... }`: the sample-size planning inputs.
    Plan(OptionsDecl),
    /// `settings { ... }`.
    Settings(OptionsDecl),
    /// `sequential { ... }`.
    Sequential(OptionsDecl),
    /// `policy "path"`: the policy file whose rules follow the spec's own.
    Policy(PolicyRef),
    /// An inline rule, tried before the policy's rules.
    Rule(RuleDecl),
    /// An inline policy test.
    Test(TestDecl),
}

impl Item {
    /// Where the item is written.
    pub fn span(&self) -> Span {
        match self {
            Item::Header(h) => h.span,
            Item::Data(d) => d.span,
            Item::Variants(v) => v.span,
            Item::Metric(m) => m.span,
            Item::Plan(p) | Item::Settings(p) | Item::Sequential(p) => p.span,
            Item::Policy(p) => p.span,
            Item::Rule(r) => r.span,
            Item::Test(t) => t.span,
        }
    }
}

/// The key of a header field: free text describing the experiment, shown in the memo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderKey {
    /// `title`: the experiment's human-readable name.
    Title,
    /// `owner`: who is responsible for the experiment.
    Owner,
    /// `hypothesis`: what the experiment is expected to show.
    Hypothesis,
}

impl HeaderKey {
    /// The key as written (`title`).
    pub fn name(self) -> &'static str {
        match self {
            HeaderKey::Title => "title",
            HeaderKey::Owner => "owner",
            HeaderKey::Hypothesis => "hypothesis",
        }
    }
}

/// `title "..."`.
#[derive(Clone, Debug, PartialEq)]
pub struct HeaderField {
    /// Which header field.
    pub key: HeaderKey,
    /// Where the key (`title`) is written.
    pub key_span: Span,
    /// The field's text.
    pub value: StringLit,
    /// Where the header field is written, from its first to its last character.
    pub span: Span,
}

/// `data "f.csv" { ... }`.
#[derive(Clone, Debug, PartialEq)]
pub struct DataDecl {
    /// The data file's path as written, relative to the spec's folder.
    pub path: StringLit,
    /// The options (`variant_column`, `units`, `unit_id`, `delimiter`, `look`, `missing`), if a block follows.
    pub options: Option<OptionBlock>,
    /// Where the `data` item is written, from its first to its last character.
    pub span: Span,
}

/// `variants { control 50% treatment 50% }`.
#[derive(Clone, Debug, PartialEq)]
pub struct VariantsDecl {
    /// The variants in the order written; the first is the control.
    pub variants: Vec<VariantDecl>,
    /// Where the `variants` block is written, from its first to its last character.
    pub span: Span,
}

/// `control 50%`.
#[derive(Clone, Debug, PartialEq)]
pub struct VariantDecl {
    /// The variant's label, as in the data's variant column.
    pub name: Ident,
    /// The designed share of traffic (`50%`); the checker normalises the shares to sum to 1.
    pub share: Number,
    /// Where the variant is written, from its first to its last character.
    pub span: Span,
}

/// The keyword that declares a metric, and so its role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// `primary`: the metric the experiment is meant to move.
    Primary,
    /// `metric`: a secondary metric.
    Metric,
    /// `guardrail`: a metric that must not degrade.
    Guardrail,
}

impl Role {
    /// The keyword as written (`guardrail`).
    pub fn keyword(self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Metric => "metric",
            Role::Guardrail => "guardrail",
        }
    }
}

/// The function of a metric's form: what it computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KindName {
    /// `rate(X)`: the share of units with an event.
    Rate,
    /// `mean(X)`: the mean of a per-unit value.
    Mean,
    /// `ratio(X, Y)`: ΣX/ΣY over the arm's units.
    Ratio,
}

impl KindName {
    /// The keyword as written (`ratio`).
    pub fn keyword(self) -> &'static str {
        match self {
            KindName::Rate => "rate",
            KindName::Mean => "mean",
            KindName::Ratio => "ratio",
        }
    }
}

/// `rate(conversions)`, `ratio(clicks, queries)`.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricKind {
    /// `rate`, `mean` or `ratio`.
    pub name: KindName,
    /// The first column (a ratio's numerator).
    pub column: Ident,
    /// The columns after the first, as written (a ratio's denominator; the
    /// checker rejects any count a kind does not take).
    pub more: Vec<Ident>,
    /// Where the metric's form (`rate(conversions)`) is written, from its first to its last character.
    pub span: Span,
}

/// `primary conversion = rate(conversions) { ... }`.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricDecl {
    /// `primary`, `metric` or `guardrail`.
    pub role: Role,
    /// Where the role keyword (`primary`) is written.
    pub role_span: Span,
    /// The metric's name (`conversion`), how rules refer to it.
    pub name: Ident,
    /// What the metric computes, from which columns.
    pub kind: MetricKind,
    /// The metric's options (`prefer`, `baseline`, `mde`, thresholds, `covariate`, ...), if a block follows.
    pub options: Option<OptionBlock>,
    /// Where the metric declaration is written, from its first to its last character.
    pub span: Span,
}

/// `plan { ... }` or `settings { ... }`: a keyword and its option block.
#[derive(Clone, Debug, PartialEq)]
pub struct OptionsDecl {
    /// Where the keyword (`plan`, `settings`, `sequential`) is written.
    pub keyword_span: Span,
    /// The options in braces.
    pub block: OptionBlock,
    /// Where the item is written, from its first to its last character.
    pub span: Span,
}

/// `policy "path"` inside an experiment.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyRef {
    /// The policy file's path as written, relative to the spec's folder.
    pub path: StringLit,
    /// Where the `policy` reference is written, from its first to its last character.
    pub span: Span,
}

/// A verdict keyword in a rule, `otherwise` or test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// `launch`
    Launch,
    /// `hold`
    Hold,
    /// `rollback`
    Rollback,
}

/// A verdict keyword with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct VerdictLit {
    /// Which verdict.
    pub verdict: Verdict,
    /// Where the verdict keyword is written, from its first to its last character.
    pub span: Span,
}

/// `rule NAME { when EXPR then VERDICT because "..." }`.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleDecl {
    /// The rule's name (`clear_win`).
    pub name: Ident,
    /// The condition after `when`, unchecked.
    pub when: Expr,
    /// The verdict after `then`.
    pub then: VerdictLit,
    /// The reason after `because`; may hold `{{ fact.path }}` placeholders.
    pub because: StringLit,
    /// Where the rule is written, from its first to its last character.
    pub span: Span,
}

/// `otherwise VERDICT because "..."`.
#[derive(Clone, Debug, PartialEq)]
pub struct OtherwiseDecl {
    /// The verdict when no rule fires.
    pub then: VerdictLit,
    /// The reason after `because`; may hold `{{ fact.path }}` placeholders.
    pub because: StringLit,
    /// Where the `otherwise` clause is written, from its first to its last character.
    pub span: Span,
}

/// `path = value` in a test's `given` list.
#[derive(Clone, Debug, PartialEq)]
pub struct GivenFact {
    /// The fact set (`primary.better`).
    pub path: Path,
    /// The value it is given (`true`, `1pp`, `blocked`).
    pub value: Value,
    /// Where the `path = value` pair is written, from its first to its last character.
    pub span: Span,
}

/// `test NAME { given ... expect VERDICT by RULE }`.
#[derive(Clone, Debug, PartialEq)]
pub struct TestDecl {
    /// The test's name (`clean_win`).
    pub name: Ident,
    /// The facts after `given`, in the order written.
    pub given: Vec<GivenFact>,
    /// The verdict after `expect`.
    pub expect: VerdictLit,
    /// The rule after `by` (`otherwise` for the fallback), if given.
    pub by: Option<Ident>,
    /// Where the test is written, from its first to its last character.
    pub span: Span,
}

/// `policy NAME { ... }`: a policy file.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyDecl {
    /// The policy's name (`default`).
    pub name: Ident,
    /// Rules, `otherwise` and tests, in the order written.
    pub items: Vec<PolicyItem>,
    /// Where the policy is written, from its first to its last character.
    pub span: Span,
}

/// One item of a policy file.
#[derive(Clone, Debug, PartialEq)]
pub enum PolicyItem {
    /// A rule.
    Rule(RuleDecl),
    /// The `otherwise` fallback (the checker requires exactly one).
    Otherwise(OtherwiseDecl),
    /// A policy test.
    Test(TestDecl),
}

impl PolicyItem {
    /// Where the item is written.
    pub fn span(&self) -> Span {
        match self {
            PolicyItem::Rule(r) => r.span,
            PolicyItem::Otherwise(o) => o.span,
            PolicyItem::Test(t) => t.span,
        }
    }
}

/// A dotted name: `primary.better`, `health`, `worsened`.
#[derive(Clone, Debug, PartialEq)]
pub struct Path {
    /// The names between the dots, at least one.
    pub segments: Vec<Ident>,
    /// Where the dotted path is written, from its first to its last character.
    pub span: Span,
}

impl Path {
    /// The path of one name (`worsened`), spanning it.
    pub fn single(name: Ident) -> Path {
        Path {
            span: name.span,
            segments: vec![name],
        }
    }

    /// The path as written, `srm.p`.
    pub fn text(&self) -> String {
        let names: Vec<&str> = self.segments.iter().map(|s| s.name.as_str()).collect();
        names.join(".")
    }
}

/// The quantifier of `any guardrail P`, `all guardrails P`, `no guardrail P`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantifier {
    /// `any guardrail`
    Any,
    /// `all guardrails`
    All,
    /// `no guardrail`
    No,
}

/// A binary operator, loosest-binding first: `or`, `and`, comparisons, `+ -`, `* /`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    /// `or`
    Or,
    /// `and`
    And,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

impl BinaryOp {
    /// The operator as written (`<=`, `and`).
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
        }
    }
}

/// A rule condition as written (parentheses only group; they leave no node).
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What the expression is.
    pub kind: ExprKind,
    /// Where the expression is written, from its first to its last character.
    pub span: Span,
}

impl Expr {
    /// A fact path or bare word as an operand, spanning it.
    pub fn path(path: Path) -> Expr {
        Expr {
            span: path.span,
            kind: ExprKind::Path(path),
        }
    }
}

/// The kinds of expression node.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A number literal with its unit (`1pp`).
    Number(Number),
    /// A fact path or a bare word (`true`, `blocked`, `worsened`): which one
    /// is decided by the checker.
    Path(Path),
    /// `not E`.
    Not(Box<Expr>),
    /// `-E`: unary minus.
    Neg(Box<Expr>),
    /// `A op B`.
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `any guardrail P` and the other quantifiers: P is a guardrail field or a parenthesised
    /// condition over one.
    Quantified(Quantifier, Box<Expr>),
}
