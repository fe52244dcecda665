//! The recursive-descent fast path: source text → syntax tree without pest.
//!
//! [`parse_file`] reads the whole grammar of `grammar/xos.pest` (experiments
//! with every item, policies, rules with their Pratt-folded conditions and
//! quantifiers, tests) byte by byte and builds the same [`File`], spans
//! included, that pest and the Pairs walk in [`super::parse`] build. It
//! answers `None` for anything it does not accept — a syntax error, a string
//! with an unknown escape, a number out of range, an empty quoted name, a
//! condition too long, nesting too deep — and [`super::parse::parse`] then
//! runs pest as before. Pest stays the grammar of record and the only source
//! of syntax errors; this module only makes the valid case fast.
//!
//! Why it exists: parsing was a third of `run_once` (about 41 µs of 131 µs
//! for the 900-byte checkout spec), and a profile put most of pest's time in
//! its per-combinator overheads (the stack-depth guard on every rule call, a
//! `memcmp` per keyword tried, saving and restoring its token stack, then the
//! walk over `Pairs`), which grammar tweaks did not reduce. Measured with
//! `cargo bench --bench pipeline -- parse` and `-- run_once` on the 1,000
//! checkout specs (2-core machine, load average 2.5 from other work), pest →
//! this path: `parse x1000` 42.4 → 3.6 ms (11.7×), `parse + check x1000`
//! 60.5 → 24.6 ms, `run_once x1000` 129.9 → 85.6 ms.
//!
//! How it stays identical: each function mirrors one grammar rule and leaves
//! the position where pest's pair for that rule ends, trivia swallowed before
//! a missing optional part included, so that spans go through the same
//! `trim_trivia` as `span_of` in `parse.rs`; the flat sequence of operands
//! and operators of a condition is folded with pest's Pratt algorithm and
//! binding powers.
//! `tests/fast_parse.rs` holds the two paths equal (spans compared too) on
//! every `.xos` in the repository and on randomly mutated specs.

use crate::diagnostic::Span;
use crate::syntax::ast::*;
use crate::syntax::parse::{MAX_CONDITION_TOKENS, MAX_DEPTH, trim_trivia, unescape};

/// Parses a whole `.xos` file, or answers `None` when the text is not a
/// valid file or holds anything the Pairs walk would turn into a diagnostic
/// (the caller then parses it with pest, which reports the error).
pub fn parse_file(text: &str) -> Option<File> {
    let mut parser = Parser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        depth: 0,
        aborted: false,
    };
    parser.skip();
    let start = parser.pos;
    let file = match parser.word() {
        b"experiment" => File::Experiment(parser.experiment(start)?),
        b"policy" => File::Policy(parser.policy(start)?),
        _ => return None,
    };
    parser.skip();
    (parser.pos == parser.bytes.len() && !parser.aborted).then_some(file)
}

/// `ident_char`: a character that may continue a name.
fn is_ident_char(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// A character that may start a name.
fn is_ident_start(byte: u8) -> bool {
    byte.is_ascii_alphabetic() || byte == b'_'
}

/// One operand or operator of a condition, in the order written.
enum Token {
    /// `not`, with the span of the keyword.
    Not(Span),
    /// Unary `-`, with its span.
    Neg(Span),
    /// A binary operator.
    Infix(BinaryOp),
    /// A quantified condition, a parenthesised one, a number or a fact path.
    Operand(Expr),
}

/// The binding powers pest's `PrattParser` gives the operators in
/// `parse.rs` (10 per level, the first level at 20).
const NOT_POWER: u32 = 40;
const NEG_POWER: u32 = 80;

fn binding_power(op: BinaryOp) -> u32 {
    match op {
        BinaryOp::Or => 20,
        BinaryOp::And => 30,
        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge | BinaryOp::Eq | BinaryOp::Ne => {
            50
        }
        BinaryOp::Add | BinaryOp::Sub => 60,
        BinaryOp::Mul | BinaryOp::Div => 70,
    }
}

struct Parser<'t> {
    text: &'t str,
    bytes: &'t [u8],
    /// The byte offset of the next unread byte.
    pos: usize,
    /// How many `{` and `(` are open.
    depth: usize,
    /// Set when pest would accept the text but the Pairs walk would answer
    /// a diagnostic: the result is thrown away.
    aborted: bool,
}

impl<'t> Parser<'t> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Consumes `byte` if it is next.
    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        self.pos += usize::from(found);
        found
    }

    /// Stops the parse: the text is valid grammar that pest's walk rejects.
    fn abort<T>(&mut self) -> Option<T> {
        self.aborted = true;
        None
    }

    /// The length of the `WHITESPACE` at `pos`: a space, tab, carriage
    /// return or newline (1 byte), a byte-order mark (3 bytes), or 0.
    fn whitespace_len(&self) -> usize {
        match self.peek() {
            Some(b' ' | b'\t' | b'\r' | b'\n') => 1,
            Some(0xEF) if self.bytes.get(self.pos + 1..self.pos + 3) == Some(&[0xBB, 0xBF][..]) => {
                3
            }
            _ => 0,
        }
    }

    /// Pest's implicit `(WHITESPACE | COMMENT)*` between tokens.
    fn skip(&mut self) {
        loop {
            let whitespace = self.whitespace_len();
            if whitespace > 0 {
                self.pos += whitespace;
            } else if self.bytes.get(self.pos..self.pos + 2) == Some(&b"//"[..]) {
                self.pos = match self.bytes[self.pos..].iter().position(|&b| b == b'\n') {
                    Some(newline) => self.pos + newline,
                    None => self.bytes.len(),
                };
            } else {
                return;
            }
        }
    }

    /// The run of name characters at `pos`, unread: a keyword matches
    /// (`"kw" ~ !ident_char`) exactly when the run is the keyword.
    fn word(&self) -> &'t [u8] {
        let rest = &self.bytes[self.pos.min(self.bytes.len())..];
        let len = rest
            .iter()
            .position(|&b| !is_ident_char(b))
            .unwrap_or(rest.len());
        &rest[..len]
    }

    /// Consumes the keyword `word` when the run of name characters is it.
    fn keyword(&mut self, word: &[u8]) -> bool {
        let found = self.word() == word;
        if found {
            self.pos += word.len();
        }
        found
    }

    /// The span from `start` to `pos`, without the trailing trivia pest
    /// lets a pair swallow before an optional part it does not find
    /// (what `span_of` does to a pair).
    fn span_from(&mut self, start: usize) -> Option<Span> {
        match self.text.get(start..self.pos) {
            Some(text) => Some(Span::new(start, start + trim_trivia(text))),
            None => self.abort(),
        }
    }

    /// Consumes an opening `{` or `(`, counting how deep blocks and
    /// parentheses nest (as `scan_unterminated` does).
    fn open(&mut self, byte: u8) -> Option<()> {
        if !self.eat(byte) {
            return None;
        }
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.abort();
        }
        Some(())
    }

    /// The keyword of `len` bytes at `pos` (already matched): its span,
    /// with the trivia after it skipped.
    fn keyword_span(&mut self, len: usize) -> Span {
        let span = Span::new(self.pos, self.pos + len);
        self.pos += len;
        self.skip();
        span
    }

    /// `KEYWORD NAME`, at the keyword (already matched): the name, with the
    /// trivia after it skipped.
    fn declared_name(&mut self, keyword: &[u8]) -> Option<Ident> {
        self.pos += keyword.len();
        self.skip();
        let name = self.ident()?;
        self.skip();
        Some(name)
    }

    /// `{ item* }`: the items up to the closing `}`, each read by `item`
    /// after the trivia before it. An item that fails fails the block: pest
    /// would then find neither an item nor the `}`.
    fn braced<T>(&mut self, mut item: impl FnMut(&mut Self) -> Option<T>) -> Option<Vec<T>> {
        self.open(b'{')?;
        let mut items = Vec::new();
        loop {
            self.skip();
            if self.close(b'}').is_some() {
                return Some(items);
            }
            items.push(item(self)?);
        }
    }

    /// Consumes the closing `}` or `)` of [`Parser::open`].
    fn close(&mut self, byte: u8) -> Option<()> {
        if !self.eat(byte) {
            return None;
        }
        self.depth -= 1;
        Some(())
    }

    // ------------------------------------------------------------ file

    /// `experiment NAME { experiment_item* }`, at the keyword.
    fn experiment(&mut self, start: usize) -> Option<Experiment> {
        let name = self.declared_name(b"experiment")?;
        let items = self.braced(Self::experiment_item)?;
        Some(Experiment {
            name,
            items,
            span: Span::new(start, self.pos),
        })
    }

    /// One item of an experiment, chosen by its keyword.
    fn experiment_item(&mut self) -> Option<Item> {
        let start = self.pos;
        let word = self.word();
        Some(match word {
            b"title" => Item::Header(self.header_field(HeaderKey::Title, word.len())?),
            b"owner" => Item::Header(self.header_field(HeaderKey::Owner, word.len())?),
            b"hypothesis" => Item::Header(self.header_field(HeaderKey::Hypothesis, word.len())?),
            b"data" => Item::Data(self.data_decl()?),
            b"variants" => Item::Variants(self.variants_decl()?),
            b"primary" => Item::Metric(self.metric_decl(Role::Primary, word.len())?),
            b"metric" => Item::Metric(self.metric_decl(Role::Metric, word.len())?),
            b"guardrail" => Item::Metric(self.metric_decl(Role::Guardrail, word.len())?),
            b"plan" => Item::Plan(self.options_decl(word.len())?),
            b"settings" => Item::Settings(self.options_decl(word.len())?),
            b"sequential" => Item::Sequential(self.options_decl(word.len())?),
            b"policy" => {
                self.pos += word.len();
                self.skip();
                let path = self.string()?;
                Item::Policy(PolicyRef {
                    path,
                    span: Span::new(start, self.pos),
                })
            }
            b"rule" => Item::Rule(self.rule_decl()?),
            b"test" => Item::Test(self.test_decl()?),
            _ => return None,
        })
    }

    /// `policy NAME { policy_item* }`, at the keyword.
    fn policy(&mut self, start: usize) -> Option<PolicyDecl> {
        let name = self.declared_name(b"policy")?;
        let items = self.braced(|parser| {
            Some(match parser.word() {
                b"rule" => PolicyItem::Rule(parser.rule_decl()?),
                b"otherwise" => PolicyItem::Otherwise(parser.otherwise_decl()?),
                b"test" => PolicyItem::Test(parser.test_decl()?),
                _ => return None,
            })
        })?;
        Some(PolicyDecl {
            name,
            items,
            span: Span::new(start, self.pos),
        })
    }

    // ------------------------------------------------------------ declarations

    /// `header_key string`, at the key of `key_len` bytes.
    fn header_field(&mut self, key: HeaderKey, key_len: usize) -> Option<HeaderField> {
        let key_span = self.keyword_span(key_len);
        let start = key_span.start;
        let value = self.string()?;
        Some(HeaderField {
            key,
            key_span,
            value,
            span: Span::new(start, self.pos),
        })
    }

    /// `data string option_block?`, at the keyword.
    fn data_decl(&mut self) -> Option<DataDecl> {
        let start = self.keyword_span(b"data".len()).start;
        let path = self.string()?;
        self.skip();
        let options = self.optional_block()?;
        Some(DataDecl {
            path,
            options,
            span: self.span_from(start)?,
        })
    }

    /// `option_block?` after the skipped trivia: `Some(None)` when no `{`
    /// follows, `None` when a block starts and fails (no item or `}` could
    /// then follow, so pest fails too).
    fn optional_block(&mut self) -> Option<Option<OptionBlock>> {
        if self.peek() == Some(b'{') {
            self.option_block().map(Some)
        } else {
            Some(None)
        }
    }

    /// `variants { variant* }`, at the keyword, with `variant = label number`.
    fn variants_decl(&mut self) -> Option<VariantsDecl> {
        let start = self.keyword_span(b"variants".len()).start;
        let variants = self.braced(|parser| {
            let start = parser.pos;
            let name = parser.label()?;
            parser.skip();
            let share = parser.number()?;
            Some(VariantDecl {
                name,
                share,
                span: parser.span_from(start)?,
            })
        })?;
        Some(VariantsDecl {
            variants,
            span: Span::new(start, self.pos),
        })
    }

    /// `role ident = metric_kind option_block?`, at the role of `role_len` bytes.
    fn metric_decl(&mut self, role: Role, role_len: usize) -> Option<MetricDecl> {
        let role_span = self.keyword_span(role_len);
        let start = role_span.start;
        let name = self.ident()?;
        self.skip();
        if !self.eat(b'=') {
            return None;
        }
        self.skip();
        let kind = self.metric_kind()?;
        self.skip();
        let options = self.optional_block()?;
        Some(MetricDecl {
            role,
            role_span,
            name,
            kind,
            options,
            span: self.span_from(start)?,
        })
    }

    /// `kind_name ( label ("," label)* )`.
    fn metric_kind(&mut self) -> Option<MetricKind> {
        let start = self.pos;
        let name = match self.word() {
            b"rate" => KindName::Rate,
            b"mean" => KindName::Mean,
            b"ratio" => KindName::Ratio,
            _ => return None,
        };
        self.pos += name.keyword().len();
        self.skip();
        self.open(b'(')?;
        self.skip();
        let column = self.label()?;
        let mut more = Vec::new();
        loop {
            self.skip();
            if !self.eat(b',') {
                break;
            }
            self.skip();
            more.push(self.label()?);
        }
        self.close(b')')?;
        Some(MetricKind {
            name,
            column,
            more,
            span: Span::new(start, self.pos),
        })
    }

    /// `label`: a name, or a string whose value is the name (`parse_label`).
    fn label(&mut self) -> Option<Ident> {
        if self.peek() != Some(b'"') {
            return self.ident();
        }
        let string = self.string()?;
        if string.value.trim().is_empty() {
            return self.abort();
        }
        Some(Ident {
            name: string.value,
            span: string.span,
        })
    }

    /// `plan`, `settings` or `sequential` and its option block, at the
    /// keyword of `keyword_len` bytes.
    fn options_decl(&mut self, keyword_len: usize) -> Option<OptionsDecl> {
        let keyword_span = self.keyword_span(keyword_len);
        let start = keyword_span.start;
        let block = self.option_block()?;
        Some(OptionsDecl {
            keyword_span,
            block,
            span: Span::new(start, self.pos),
        })
    }

    /// `{ option* }` with `option = ident value`.
    fn option_block(&mut self) -> Option<OptionBlock> {
        let start = self.pos;
        let options = self.braced(|parser| {
            let start = parser.pos;
            let key = parser.ident()?;
            parser.skip();
            let value = parser.value()?;
            Some(KeyValue {
                key,
                value,
                span: parser.span_from(start)?,
            })
        })?;
        Some(OptionBlock {
            options,
            span: Span::new(start, self.pos),
        })
    }

    /// `rule NAME { when expr then verdict because string }`, at the keyword.
    fn rule_decl(&mut self) -> Option<RuleDecl> {
        let start = self.pos;
        let name = self.declared_name(b"rule")?;
        self.open(b'{')?;
        self.skip();
        if !self.keyword(b"when") {
            return None;
        }
        self.skip();
        let when = self.expr()?;
        self.skip();
        if !self.keyword(b"then") {
            return None;
        }
        self.skip();
        let then = self.verdict()?;
        self.skip();
        let because = self.because()?;
        self.skip();
        self.close(b'}')?;
        Some(RuleDecl {
            name,
            when,
            then,
            because,
            span: Span::new(start, self.pos),
        })
    }

    /// `because string`.
    fn because(&mut self) -> Option<StringLit> {
        if !self.keyword(b"because") {
            return None;
        }
        self.skip();
        self.string()
    }

    /// `otherwise verdict because string`, at the keyword.
    fn otherwise_decl(&mut self) -> Option<OtherwiseDecl> {
        let start = self.keyword_span(b"otherwise".len()).start;
        let then = self.verdict()?;
        self.skip();
        let because = self.because()?;
        Some(OtherwiseDecl {
            then,
            because,
            span: Span::new(start, self.pos),
        })
    }

    /// `launch`, `hold` or `rollback`.
    fn verdict(&mut self) -> Option<VerdictLit> {
        let start = self.pos;
        let verdict = match self.word() {
            b"launch" => Verdict::Launch,
            b"hold" => Verdict::Hold,
            b"rollback" => Verdict::Rollback,
            _ => return None,
        };
        self.pos += self.word().len();
        Some(VerdictLit {
            verdict,
            span: Span::new(start, self.pos),
        })
    }

    /// `test NAME { given? expect }`, at the keyword, with
    /// `given = given given_fact ("," given_fact)*` and
    /// `expect = expect verdict (by ident)?`.
    fn test_decl(&mut self) -> Option<TestDecl> {
        let start = self.pos;
        let name = self.declared_name(b"test")?;
        self.open(b'{')?;
        self.skip();
        let mut given = Vec::new();
        if self.keyword(b"given") {
            loop {
                self.skip();
                given.push(self.given_fact()?);
                self.skip();
                if !self.eat(b',') {
                    break;
                }
            }
        }
        if !self.keyword(b"expect") {
            return None;
        }
        self.skip();
        let expect = self.verdict()?;
        self.skip();
        let by = if self.keyword(b"by") {
            self.skip();
            let rule = self.ident()?;
            self.skip();
            Some(rule)
        } else {
            None
        };
        self.close(b'}')?;
        Some(TestDecl {
            name,
            given,
            expect,
            by,
            span: Span::new(start, self.pos),
        })
    }

    /// `fact_path = value`.
    fn given_fact(&mut self) -> Option<GivenFact> {
        let start = self.pos;
        let path = self.fact_path()?;
        self.skip();
        if !self.eat(b'=') {
            return None;
        }
        self.skip();
        let value = self.value()?;
        Some(GivenFact {
            path,
            value,
            span: self.span_from(start)?,
        })
    }

    /// `call | number | string | ident`. A name followed by `(` must be a
    /// call: were the call to fail, pest would take the bare name and then
    /// fail at the `(`, which no rule accepts after a value.
    fn value(&mut self) -> Option<Value> {
        match self.peek()? {
            b'"' => self.string().map(Value::String),
            b'-' | b'0'..=b'9' => self.number().map(Value::Number),
            byte if is_ident_start(byte) => {
                let start = self.pos;
                let name = self.ident()?;
                let end = self.pos;
                self.skip();
                if self.peek() != Some(b'(') {
                    self.pos = end;
                    return Some(Value::Word(name));
                }
                self.open(b'(')?;
                self.skip();
                let mut args = Vec::new();
                if self.peek() != Some(b')') {
                    loop {
                        args.push(self.value()?);
                        self.skip();
                        if !self.eat(b',') {
                            break;
                        }
                        self.skip();
                    }
                }
                self.close(b')')?;
                Some(Value::Call(Call {
                    name,
                    args,
                    span: Span::new(start, self.pos),
                }))
            }
            _ => None,
        }
    }

    // ------------------------------------------------------------ expressions

    /// `expr = prefix_op* term (infix_op prefix_op* term)*`, folded by
    /// precedence as `parse_expr` folds it.
    fn expr(&mut self) -> Option<Expr> {
        let mut tokens = Vec::new();
        loop {
            loop {
                let start = self.pos;
                if self.keyword(b"not") {
                    tokens.push(Token::Not(Span::new(start, self.pos)));
                } else if self.eat(b'-') {
                    tokens.push(Token::Neg(Span::new(start, self.pos)));
                } else {
                    break;
                }
                if tokens.len() > MAX_CONDITION_TOKENS {
                    return self.abort();
                }
                self.skip();
            }
            tokens.push(Token::Operand(self.term()?));
            let end = self.pos;
            self.skip();
            match self.infix_op() {
                Some(op) => tokens.push(Token::Infix(op)),
                None => {
                    self.pos = end;
                    break;
                }
            }
            if tokens.len() > MAX_CONDITION_TOKENS {
                return self.abort();
            }
            self.skip();
        }
        if tokens.len() > MAX_CONDITION_TOKENS {
            return self.abort();
        }
        fold(&mut tokens.into_iter().peekable(), 0)
    }

    /// One of the infix operators, tried in the grammar's order.
    fn infix_op(&mut self) -> Option<BinaryOp> {
        if self.keyword(b"and") {
            return Some(BinaryOp::And);
        }
        if self.keyword(b"or") {
            return Some(BinaryOp::Or);
        }
        let two = self.bytes.get(self.pos..self.pos + 2);
        let (op, len) = match two {
            Some(b"<=") => (BinaryOp::Le, 2),
            Some(b">=") => (BinaryOp::Ge, 2),
            Some(b"==") => (BinaryOp::Eq, 2),
            Some(b"!=") => (BinaryOp::Ne, 2),
            _ => match self.peek()? {
                b'<' => (BinaryOp::Lt, 1),
                b'>' => (BinaryOp::Gt, 1),
                b'+' => (BinaryOp::Add, 1),
                b'-' => (BinaryOp::Sub, 1),
                b'*' => (BinaryOp::Mul, 1),
                b'/' => (BinaryOp::Div, 1),
                _ => return None,
            },
        };
        self.pos += len;
        Some(op)
    }

    /// `quantified | paren | literal | fact_path`.
    fn term(&mut self) -> Option<Expr> {
        match self.peek()? {
            b'(' => self.paren(),
            b'0'..=b'9' => {
                let number = self.literal()?;
                Some(Expr {
                    span: number.span,
                    kind: ExprKind::Number(number),
                })
            }
            byte if is_ident_start(byte) => {
                if matches!(byte, b'a' | b'n') {
                    let start = self.pos;
                    let depth = self.depth;
                    if let Some(quantified) = self.quantified() {
                        return Some(quantified);
                    }
                    if self.aborted {
                        return None;
                    }
                    self.pos = start;
                    self.depth = depth;
                }
                self.fact_path().map(Expr::path)
            }
            _ => None,
        }
    }

    /// `( expr )`: the expression, with the span of the parentheses.
    fn paren(&mut self) -> Option<Expr> {
        let start = self.pos;
        self.open(b'(')?;
        self.skip();
        let mut expr = self.expr()?;
        self.skip();
        self.close(b')')?;
        expr.span = Span::new(start, self.pos);
        Some(expr)
    }

    /// `quantifier (paren | ident)` with `quantifier = ${ (any | all | no)
    /// ~ WHITESPACE+ ~ ("guardrails" | "guardrail") ~ !ident_char }`.
    fn quantified(&mut self) -> Option<Expr> {
        let start = self.pos;
        let rest = &self.bytes[start..];
        let (quantifier, len) = if rest.starts_with(b"any") {
            (Quantifier::Any, 3)
        } else if rest.starts_with(b"all") {
            (Quantifier::All, 3)
        } else if rest.starts_with(b"no") {
            (Quantifier::No, 2)
        } else {
            return None;
        };
        self.pos += len;
        let mut whitespace = self.whitespace_len();
        if whitespace == 0 {
            return None;
        }
        while whitespace > 0 {
            self.pos += whitespace;
            whitespace = self.whitespace_len();
        }
        if !(self.keyword(b"guardrails") || self.keyword(b"guardrail")) {
            return None;
        }
        self.skip();
        let body = if self.peek() == Some(b'(') {
            self.paren()?
        } else {
            Expr::path(Path::single(self.ident()?))
        };
        Some(Expr {
            kind: ExprKind::Quantified(quantifier, Box::new(body)),
            span: Span::new(start, self.pos),
        })
    }

    /// `${ !reserved ~ ident ~ ("." ~ ident)* }`.
    fn fact_path(&mut self) -> Option<Path> {
        let start = self.pos;
        if matches!(
            self.word(),
            b"then" | b"because" | b"when" | b"and" | b"or" | b"not"
        ) {
            return None;
        }
        let mut segments = vec![self.ident()?];
        while self.peek() == Some(b'.')
            && self
                .bytes
                .get(self.pos + 1)
                .is_some_and(|&b| is_ident_start(b))
        {
            self.pos += 1;
            segments.push(self.ident()?);
        }
        Some(Path {
            segments,
            span: Span::new(start, self.pos),
        })
    }

    // ------------------------------------------------------------ literals and names

    /// `ident`: a letter or `_`, then letters, digits and `_`.
    fn ident(&mut self) -> Option<Ident> {
        let start = self.pos;
        if !self.peek().is_some_and(is_ident_start) {
            return None;
        }
        self.pos += self.word().len();
        Some(Ident {
            name: self.text.get(start..self.pos)?.to_string(),
            span: Span::new(start, self.pos),
        })
    }

    /// `"text"`, escapes resolved as `parse_string` resolves them.
    fn string(&mut self) -> Option<StringLit> {
        let start = self.pos;
        if self.peek() != Some(b'"') {
            return None;
        }
        let mut at = start + 1;
        let mut escaped = false;
        loop {
            match *self.bytes.get(at)? {
                b'"' => break,
                // `"\\" ~ ANY`: the bytes of a character after the backslash
                // other than the first are never `"` or `\`.
                b'\\' => {
                    escaped = true;
                    at += 2;
                }
                _ => at += 1,
            }
        }
        let body = self.text.get(start + 1..at)?;
        self.pos = at + 1;
        let value = if escaped {
            match unescape(body) {
                Ok(value) => value,
                Err(_) => return self.abort(),
            }
        } else {
            body.to_string()
        };
        Some(StringLit {
            value,
            span: Span::new(start, self.pos),
        })
    }

    /// `number = { minus? ~ quantity ~ relative? }`.
    fn number(&mut self) -> Option<Number> {
        let start = self.pos;
        let negative = self.eat(b'-');
        if negative {
            self.skip();
        }
        let (value, unit) = self.quantity()?;
        self.relative(start, if negative { -value } else { value }, unit)
    }

    /// `literal = { quantity ~ relative? }`.
    fn literal(&mut self) -> Option<Number> {
        let start = self.pos;
        let (value, unit) = self.quantity()?;
        self.relative(start, value, unit)
    }

    /// `~ relative?` after a quantity: the number that started at `start`.
    fn relative(&mut self, start: usize, value: f64, unit: Unit) -> Option<Number> {
        self.skip();
        let relative = self.keyword(b"relative");
        Some(Number {
            value,
            unit,
            relative,
            span: self.span_from(start)?,
        })
    }

    /// `quantity = ${ numeral ~ unit? ~ !ident_char }`: the value with the
    /// unit applied, as `parse_quantity` computes it.
    fn quantity(&mut self) -> Option<(f64, Unit)> {
        let bytes = self.bytes;
        let digit = |at: usize| bytes.get(at).is_some_and(u8::is_ascii_digit);
        let digit_or_underscore = |at: usize| {
            bytes
                .get(at)
                .is_some_and(|&b| b.is_ascii_digit() || b == b'_')
        };
        let start = self.pos;
        if !digit(start) {
            return None;
        }
        let mut at = start + 1;
        while digit_or_underscore(at) {
            at += 1;
        }
        if bytes.get(at) == Some(&b'.') && digit(at + 1) {
            at += 2;
            while digit_or_underscore(at) {
                at += 1;
            }
        }
        if matches!(bytes.get(at), Some(b'e' | b'E')) {
            let mut exponent = at + 1;
            if matches!(bytes.get(exponent), Some(b'+' | b'-')) {
                exponent += 1;
            }
            if digit(exponent) {
                while digit(exponent) {
                    exponent += 1;
                }
                at = exponent;
            }
        }
        let numeral = self.text.get(start..at)?;
        let unit = match bytes.get(at) {
            Some(b'%') => Unit::Percent,
            Some(b'p') if bytes.get(at + 1) == Some(&b'p') => Unit::Pp,
            Some(b'd') => Unit::Days,
            _ => Unit::None,
        };
        at += unit.suffix().len();
        if bytes.get(at).is_some_and(|&b| is_ident_char(b)) {
            return None;
        }
        self.pos = at;
        let owned;
        let digits = if numeral.contains('_') {
            owned = numeral.replace('_', "");
            owned.as_str()
        } else {
            numeral
        };
        let numeral = match digits.parse::<f64>() {
            // A number that rounds to 0 is an error: the grammar's parser says so.
            Ok(value) if value.is_finite() && !super::parse::rounds_to_zero(digits, value) => value,
            _ => return self.abort(),
        };
        let value = match unit {
            Unit::Percent | Unit::Pp => numeral / 100.0,
            Unit::None | Unit::Days => numeral,
        };
        Some((value, unit))
    }
}

/// Pest's Pratt fold (`PrattParserMap::expr`, `nud`, `led`): prefix
/// operators take their operand at their own power less one, left-associative
/// infix operators their right operand at their own power.
fn fold(tokens: &mut std::iter::Peekable<std::vec::IntoIter<Token>>, floor: u32) -> Option<Expr> {
    let mut lhs = match tokens.next()? {
        Token::Not(span) => {
            let operand = fold(tokens, NOT_POWER - 1)?;
            Expr {
                span: span.join(operand.span),
                kind: ExprKind::Not(Box::new(operand)),
            }
        }
        Token::Neg(span) => {
            let operand = fold(tokens, NEG_POWER - 1)?;
            Expr {
                span: span.join(operand.span),
                kind: ExprKind::Neg(Box::new(operand)),
            }
        }
        Token::Operand(expr) => expr,
        Token::Infix(_) => return None,
    };
    while let Some(&Token::Infix(op)) = tokens.peek() {
        let power = binding_power(op);
        if floor >= power {
            break;
        }
        tokens.next();
        let rhs = fold(tokens, power)?;
        lhs = Expr {
            span: lhs.span.join(rhs.span),
            kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
        };
    }
    Some(lhs)
}
