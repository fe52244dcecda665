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
    Experiment(Experiment),
    Policy(PolicyDecl),
}

/// A name with its place in the source.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A string literal: `value` has escapes resolved; the raw text (for `fmt`
/// and `{{ fact }}` placeholders) is the source under `span`.
#[derive(Clone, Debug, PartialEq)]
pub struct StringLit {
    pub value: String,
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
    pub value: f64,
    pub unit: Unit,
    pub relative: bool,
    pub span: Span,
}

/// A value in an option block or a test's `given` list.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Number(Number),
    String(StringLit),
    /// A bare word: `holm`, `lower`, `true`.
    Word(Ident),
    /// `beta(1, 1)`.
    Call(Call),
}

impl Value {
    pub fn span(&self) -> Span {
        match self {
            Value::Number(n) => n.span,
            Value::String(s) => s.span,
            Value::Word(w) => w.span,
            Value::Call(c) => c.span,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    pub name: Ident,
    pub args: Vec<Value>,
    pub span: Span,
}

/// `key value` in an option block.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyValue {
    pub key: Ident,
    pub value: Value,
    pub span: Span,
}

/// `{ key value ... }`.
#[derive(Clone, Debug, PartialEq)]
pub struct OptionBlock {
    pub options: Vec<KeyValue>,
    pub span: Span,
}

/// `experiment NAME { ... }`.
#[derive(Clone, Debug, PartialEq)]
pub struct Experiment {
    pub name: Ident,
    pub items: Vec<Item>,
    pub span: Span,
}

/// One item of an experiment, in the order written.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Header(HeaderField),
    Data(DataDecl),
    Variants(VariantsDecl),
    Metric(MetricDecl),
    Plan(OptionsDecl),
    Settings(OptionsDecl),
    /// `sequential { ... }`.
    Sequential(OptionsDecl),
    Policy(PolicyRef),
    Rule(RuleDecl),
    Test(TestDecl),
}

impl Item {
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderKey {
    Title,
    Owner,
    Hypothesis,
}

impl HeaderKey {
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
    pub key: HeaderKey,
    pub key_span: Span,
    pub value: StringLit,
    pub span: Span,
}

/// `data "f.csv" { ... }`.
#[derive(Clone, Debug, PartialEq)]
pub struct DataDecl {
    pub path: StringLit,
    pub options: Option<OptionBlock>,
    pub span: Span,
}

/// `variants { control 50% treatment 50% }`.
#[derive(Clone, Debug, PartialEq)]
pub struct VariantsDecl {
    pub variants: Vec<VariantDecl>,
    pub span: Span,
}

/// `control 50%`.
#[derive(Clone, Debug, PartialEq)]
pub struct VariantDecl {
    pub name: Ident,
    pub share: Number,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Primary,
    Metric,
    Guardrail,
}

impl Role {
    pub fn keyword(self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Metric => "metric",
            Role::Guardrail => "guardrail",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KindName {
    Rate,
    Mean,
    Ratio,
}

impl KindName {
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
    pub name: KindName,
    /// The first column (a ratio's numerator).
    pub column: Ident,
    /// The columns after the first, as written (a ratio's denominator; the
    /// checker rejects any count a kind does not take).
    pub more: Vec<Ident>,
    pub span: Span,
}

/// `primary conversion = rate(conversions) { ... }`.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricDecl {
    pub role: Role,
    pub role_span: Span,
    pub name: Ident,
    pub kind: MetricKind,
    pub options: Option<OptionBlock>,
    pub span: Span,
}

/// `plan { ... }` or `settings { ... }`: a keyword and its option block.
#[derive(Clone, Debug, PartialEq)]
pub struct OptionsDecl {
    pub keyword_span: Span,
    pub block: OptionBlock,
    pub span: Span,
}

/// `policy "path"` inside an experiment.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyRef {
    pub path: StringLit,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Launch,
    Hold,
    Rollback,
}

/// A verdict keyword with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct VerdictLit {
    pub verdict: Verdict,
    pub span: Span,
}

/// `rule NAME { when EXPR then VERDICT because "..." }`.
#[derive(Clone, Debug, PartialEq)]
pub struct RuleDecl {
    pub name: Ident,
    pub when: Expr,
    pub then: VerdictLit,
    pub because: StringLit,
    pub span: Span,
}

/// `otherwise VERDICT because "..."`.
#[derive(Clone, Debug, PartialEq)]
pub struct OtherwiseDecl {
    pub then: VerdictLit,
    pub because: StringLit,
    pub span: Span,
}

/// `path = value` in a test's `given` list.
#[derive(Clone, Debug, PartialEq)]
pub struct GivenFact {
    pub path: Path,
    pub value: Value,
    pub span: Span,
}

/// `test NAME { given ... expect VERDICT by RULE }`.
#[derive(Clone, Debug, PartialEq)]
pub struct TestDecl {
    pub name: Ident,
    pub given: Vec<GivenFact>,
    pub expect: VerdictLit,
    pub by: Option<Ident>,
    pub span: Span,
}

/// `policy NAME { ... }`: a policy file.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyDecl {
    pub name: Ident,
    pub items: Vec<PolicyItem>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum PolicyItem {
    Rule(RuleDecl),
    Otherwise(OtherwiseDecl),
    Test(TestDecl),
}

impl PolicyItem {
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
    pub segments: Vec<Ident>,
    pub span: Span,
}

impl Path {
    /// The path as written, `srm.p`.
    pub fn text(&self) -> String {
        let names: Vec<&str> = self.segments.iter().map(|s| s.name.as_str()).collect();
        names.join(".")
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantifier {
    Any,
    All,
    No,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    And,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    Add,
    Sub,
    Mul,
    Div,
}

impl BinaryOp {
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
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Number(Number),
    /// A fact path or a bare word (`true`, `blocked`, `worsened`): which one
    /// is decided by the checker.
    Path(Path),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    Quantified(Quantifier, Box<Expr>),
}
