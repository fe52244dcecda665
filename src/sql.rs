//! Spec → the warehouse query that yields the spec's aggregated CSV.
//!
//! At warehouse scale the per-unit table never leaves the warehouse: `xos sql`
//! prints one `SELECT` that turns it into exactly the sufficient statistics the
//! spec reads — one row per variant, the columns named as the aggregated CSV
//! names them (`variant`, `users`, `X` per `rate(X)`, `X_sum` and `X_sum_sq`
//! per `mean(X)`) — and `xos run SPEC --data -` decides on its result.
//!
//! The query has the row-level path's semantics (`docs/rows.md`): every row
//! is a unit of its variant; a `rate` column holds 0/1 (or booleans); empty
//! values (SQL `NULL`) are an error unless the spec says `missing zero`. SQL
//! cannot raise an error portably, so a column that the row-level path would
//! reject comes out empty (`NULL`) for that variant, and `xos run` reports
//! the empty cell, located, with the likely cause.
//!
//! With `unit_id`, three more columns count the assignment problems the
//! row-level path reports as health: `units_distinct`, `units_mixed` (ids
//! under two or more variants) and `units_duplicated` (ids on two or more
//! rows of one variant). Each id is counted once, on the row of the smallest
//! variant label it appears under, so each column sums to the experiment's
//! total — the numbers the row-level path computes.
//!
//! Injection: nothing from the spec or the command line reaches the query
//! unquoted. Column names and the table's parts are quoted as identifiers of
//! the dialect ([`Dialect::quote`]); a name that cannot be quoted safely (a
//! control character, an empty name, longer than the engine keeps) is a
//! diagnostic located at the name in the spec. Variant labels never enter
//! the query: every group comes out and `xos run` checks the labels.

use crate::diagnostic::{Diagnostic, Diagnostics, SourceFile, Span};
use crate::plan::{MetricKind, Missing, Plan};

/// The SQL dialects `xos sql` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// DuckDB.
    DuckDb,
    /// PostgreSQL.
    Postgres,
    /// Google BigQuery (GoogleSQL): backtick-quoted names.
    BigQuery,
    /// Snowflake.
    Snowflake,
    /// Trino.
    Trino,
    /// Apache Spark SQL: backtick-quoted names.
    Spark,
}

impl Dialect {
    /// Every dialect, in the order `--dialect` lists them.
    pub const ALL: [Dialect; 6] = [
        Dialect::DuckDb,
        Dialect::Postgres,
        Dialect::BigQuery,
        Dialect::Snowflake,
        Dialect::Trino,
        Dialect::Spark,
    ];

    /// The name used on the command line (`--dialect duckdb`).
    pub fn name(self) -> &'static str {
        match self {
            Dialect::DuckDb => "duckdb",
            Dialect::Postgres => "postgres",
            Dialect::BigQuery => "bigquery",
            Dialect::Snowflake => "snowflake",
            Dialect::Trino => "trino",
            Dialect::Spark => "spark",
        }
    }

    /// Longest identifier the engine keeps, in bytes; longer names would be
    /// truncated (PostgreSQL's `NAMEDATALEN - 1`) or rejected.
    fn max_identifier_bytes(self) -> Option<usize> {
        match self {
            Dialect::Postgres => Some(63),
            Dialect::Snowflake => Some(255),
            // Column names: at most 300 characters.
            Dialect::BigQuery => Some(300),
            Dialect::DuckDb | Dialect::Trino | Dialect::Spark => None,
        }
    }

    /// `name` as a quoted identifier of this dialect, or why it cannot be
    /// quoted safely.
    ///
    /// - DuckDB, PostgreSQL, Snowflake, Trino: `"…"`, a `"` doubled (SQL
    ///   standard delimited identifiers).
    /// - Spark SQL: `` `…` ``, a backtick doubled.
    /// - BigQuery: `` `…` ``, with string-literal escapes: `` \` `` and `\\`.
    ///
    /// Control characters (a line break, NUL, …) are refused everywhere:
    /// engines and tools disagree on them, and no real column needs them.
    pub fn quote(self, name: &str) -> Result<String, Unquotable> {
        if name.is_empty() {
            return Err(Unquotable::Empty);
        }
        if let Some(c) = name.chars().find(|c| c.is_control()) {
            return Err(Unquotable::Control(c));
        }
        // BigQuery reads `a.b` in backticks as the path `a`.`b`, and allows
        // no dot in a dataset, table or column name.
        if self == Dialect::BigQuery && name.contains('.') {
            return Err(Unquotable::Dot);
        }
        if let Some(max) = self.max_identifier_bytes()
            && name.len() > max
        {
            return Err(Unquotable::TooLong {
                bytes: name.len(),
                max,
            });
        }
        Ok(match self {
            Dialect::DuckDb | Dialect::Postgres | Dialect::Snowflake | Dialect::Trino => {
                format!("\"{}\"", name.replace('"', "\"\""))
            }
            Dialect::Spark => format!("`{}`", name.replace('`', "``")),
            Dialect::BigQuery => {
                format!("`{}`", name.replace('\\', "\\\\").replace('`', "\\`"))
            }
        })
    }

    /// The type Σx and Σx² are computed in, and why (see [`Dialect::sum`]).
    pub fn sum_type(self) -> &'static str {
        match self {
            Dialect::DuckDb => "DOUBLE",
            Dialect::Postgres => "NUMERIC",
            Dialect::BigQuery => "BIGNUMERIC",
            Dialect::Snowflake => "DOUBLE",
            Dialect::Trino => "DOUBLE",
            Dialect::Spark => "DOUBLE",
        }
    }

    /// The type counts are computed in: 64-bit integers everywhere (a count
    /// of rows never reaches 2⁶³).
    pub fn count_type(self) -> &'static str {
        match self {
            Dialect::BigQuery => "INT64",
            _ => "BIGINT",
        }
    }

    /// A `rate` column's value (`column`, already quoted) as a double that
    /// keeps a fraction, whatever the column's type: a boolean is 1 or 0, a
    /// number itself, so the query can refuse 0.4 instead of counting it.
    /// (Cast to an integer first, 0.4 became 0 or 0.6 became 1: wrong
    /// counts, silently.)
    ///
    /// DuckDB, Trino and Spark cast a boolean to `DOUBLE` directly.
    /// PostgreSQL casts a boolean to an integer only, BigQuery to `INT64`
    /// only, and Snowflake to `NUMBER`: there the value goes through its
    /// text, which every one of them writes `true`/`false` for a boolean and
    /// as a number they read back for a number.
    fn rate_value(self, column: &str) -> String {
        let through_text = |text: &str, double: &str| {
            format!(
                "CASE CAST({column} AS {text}) WHEN 'true' THEN 1 WHEN 'false' THEN 0 \
                 ELSE CAST(CAST({column} AS {text}) AS {double}) END"
            )
        };
        match self {
            Dialect::DuckDb | Dialect::Trino | Dialect::Spark => {
                format!("CAST({column} AS DOUBLE)")
            }
            Dialect::Postgres => through_text("TEXT", "DOUBLE PRECISION"),
            Dialect::BigQuery => through_text("STRING", "FLOAT64"),
            Dialect::Snowflake => through_text("VARCHAR", "DOUBLE"),
        }
    }

    /// The aggregate that sums `expr` (already cast to [`Dialect::sum_type`]).
    ///
    /// - PostgreSQL `NUMERIC` and BigQuery `BIGNUMERIC` are decimal: the sums
    ///   of the values and of their squares are exact (PostgreSQL's numeric
    ///   has no practical bound; BIGNUMERIC keeps 38 decimal places and 38
    ///   integer digits, enough for Σx² of 10¹² rows of |x| ≤ 10¹³).
    /// - DuckDB: `fsum` is compensated (Kahan–Babuška) summation over
    ///   `DOUBLE`, as xos's own row-level reader (Neumaier): no overflow below
    ///   10³⁰⁸ and no precision lost to the number of rows.
    /// - Snowflake, Trino, Spark have no compensated sum, and their decimals
    ///   stop at 38 digits with a fixed scale (Σx² of large values overflows,
    ///   of small values loses its digits): `DOUBLE`, whose worst-case
    ///   relative error is n·2⁻⁵³ (10⁹ rows: 1.1·10⁻⁷; typically √n·2⁻⁵³).
    pub fn sum(self, expr: &str) -> String {
        match self {
            Dialect::DuckDb => format!("fsum({expr})"),
            _ => format!("SUM({expr})"),
        }
    }
}

impl std::str::FromStr for Dialect {
    type Err = String;

    fn from_str(text: &str) -> Result<Dialect, String> {
        Dialect::ALL
            .into_iter()
            .find(|d| d.name() == text)
            .ok_or_else(|| {
                let names: Vec<&str> = Dialect::ALL.iter().map(|d| d.name()).collect();
                format!(
                    "unknown dialect `{text}`; expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// Why a name cannot be written as an identifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unquotable {
    /// The name is empty.
    Empty,
    /// The name holds this control character, which no dialect quotes safely.
    Control(char),
    /// BigQuery: a dot inside backticks separates the parts of a path.
    Dot,
    /// The name is longer than the engine keeps: PostgreSQL truncates past
    /// 63 bytes, Snowflake and BigQuery reject past 255 and 300.
    TooLong {
        /// The name's length in bytes (UTF-8).
        bytes: usize,
        /// The longest identifier the engine keeps, in bytes.
        max: usize,
    },
}

impl std::fmt::Display for Unquotable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unquotable::Empty => write!(f, "it is empty"),
            Unquotable::Dot => write!(
                f,
                "BigQuery reads a dot inside backticks as a path separator"
            ),
            Unquotable::Control(c) => {
                write!(f, "it holds the control character U+{:04X}", *c as u32)
            }
            Unquotable::TooLong { bytes, max } => {
                write!(f, "it is {bytes} bytes long and the engine keeps {max}")
            }
        }
    }
}

/// A table name from `--table`: one to three parts separated by `.`
/// (`events`, `analytics.events`, `my-project.analytics.events`). A part
/// written in double quotes may hold dots and doubled quotes
/// (`"daily.v2".events`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableName {
    /// The parts, outermost first (project, schema, table), quotes removed
    /// and doubled quotes undone.
    pub parts: Vec<String>,
}

impl TableName {
    /// Splits `text` into its parts; a diagnostic (about the `--table`
    /// argument) when it is not a table name.
    pub fn parse(text: &str) -> Result<TableName, Diagnostic> {
        let bad = |why: String| {
            Diagnostic::error(
                "xos::sql::bad_table",
                format!("`--table {text}` is not a table name: {why}"),
            )
            .help(
                "write `table`, `schema.table` or `catalog.schema.table`; put a part that \
                 holds a dot in double quotes: `\"daily.v2\".events`",
            )
        };
        let mut parts = Vec::new();
        let mut chars = text.chars().peekable();
        loop {
            let mut part = String::new();
            if chars.peek() == Some(&'"') {
                chars.next();
                loop {
                    match chars.next() {
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            part.push('"');
                        }
                        Some('"') => break,
                        Some(c) => part.push(c),
                        None => return Err(bad("a quote is not closed".into())),
                    }
                }
                if !matches!(chars.peek(), None | Some('.')) {
                    return Err(bad("text follows a closing quote".into()));
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c == '.' {
                        break;
                    }
                    if c == '"' {
                        return Err(bad("a quote inside an unquoted part".into()));
                    }
                    if c == '`' {
                        return Err(bad("a backtick: write the path without them (`--table \
                             my-project.analytics.events`), xos quotes every part itself"
                            .into()));
                    }
                    part.push(c);
                    chars.next();
                }
                if part.trim() != part {
                    return Err(bad(format!(
                        "the part `{part}` begins or ends with a space; put it in double \
                         quotes if the name really holds one"
                    )));
                }
            }
            if part.is_empty() {
                return Err(bad("a part is empty".into()));
            }
            parts.push(part);
            match chars.next() {
                None => break,
                Some(_dot) => {}
            }
        }
        if parts.len() > 3 {
            return Err(bad(format!("{} parts, at most 3", parts.len())));
        }
        Ok(TableName { parts })
    }

    /// The name quoted part by part in `dialect`.
    pub fn quoted(&self, dialect: Dialect) -> Result<String, Diagnostic> {
        let mut quoted = Vec::with_capacity(self.parts.len());
        for part in &self.parts {
            quoted.push(dialect.quote(part).map_err(|why| {
                Diagnostic::error(
                    "xos::sql::unquotable",
                    format!(
                        "the table name part `{}` cannot be quoted for {}: {why}",
                        part.escape_debug(),
                        dialect.name()
                    ),
                )
                .help(
                    "name the table without control characters, or create a view with a plain name",
                )
            })?);
        }
        Ok(quoted.join("."))
    }
}

/// One column of the query's result, in the aggregated CSV's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// The header of the column in the aggregated CSV (`conversions`,
    /// `revenue_sum`).
    pub name: String,
    /// What the column holds.
    pub stat: Stat,
}

/// What a result column holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stat {
    /// The variant label (the spec's variant column).
    Variant,
    /// Rows of the variant (the spec's units column).
    Units,
    /// Rows whose 0/1 column `column` is 1.
    Count {
        /// The 0/1 column.
        column: String,
    },
    /// Σx of the numeric column.
    Sum {
        /// The numeric column.
        column: String,
    },
    /// Σx² of the numeric column.
    SumSq {
        /// The numeric column.
        column: String,
    },
    /// Σxy of two numeric columns (a ratio's numerator and denominator, a
    /// metric and its covariate).
    SumProd {
        /// The first column (the numerator, or the metric).
        x: String,
        /// The second column (the denominator, or the covariate).
        y: String,
    },
    /// Distinct unit ids (counted under their smallest variant label).
    UnitsDistinct,
    /// Ids seen under two or more variants.
    UnitsMixed,
    /// Ids seen on two or more rows of one variant.
    UnitsDuplicated,
}

/// Header of the optional column of distinct unit ids.
pub const UNITS_DISTINCT: &str = "units_distinct";
/// Header of the optional column of ids under two or more variants.
pub const UNITS_MIXED: &str = "units_mixed";
/// Header of the optional column of ids on two or more rows of one variant.
pub const UNITS_DUPLICATED: &str = "units_duplicated";

/// The columns of the query's result for `plan`, in order: the variant, the
/// units, each metric's statistics in spec order (a statistic two metrics
/// share comes once), then the assignment counts when the spec declares
/// `unit_id`. An error when two different statistics would share a header
/// (`rate(a_sum)` beside `mean(a)`): the aggregated CSV could not tell them
/// apart.
pub fn columns(plan: &Plan) -> Result<Vec<Column>, Diagnostics> {
    located_columns(plan, None)
}

/// [`columns`], with each clash located at the name in the spec's text
/// when `source` is given (the spec file alone otherwise).
fn located_columns(
    plan: &Plan,
    source: Option<&std::sync::Arc<SourceFile>>,
) -> Result<Vec<Column>, Diagnostics> {
    let place = |diag: Diagnostic, names: &[&str]| at_name(diag, plan, source, names);
    let mut out = vec![
        Column {
            name: plan.data.variant_column.clone(),
            stat: Stat::Variant,
        },
        Column {
            name: plan.data.units_column.clone(),
            stat: Stat::Units,
        },
    ];
    let mut diags = Diagnostics::new();
    let mut add = |out: &mut Vec<Column>, name: String, stat: Stat, metric: &str| {
        let who = match stat {
            Stat::UnitsDistinct | Stat::UnitsMixed | Stat::UnitsDuplicated => {
                "`unit_id` (its assignment counts)".to_string()
            }
            _ => format!("metric `{metric}`"),
        };
        match out.iter().find(|c| c.name == name) {
            Some(existing) if existing.stat == stat => {}
            Some(_) => diags.push(place(
                Diagnostic::error(
                    "xos::sql::column_clash",
                    format!(
                        "{who} needs a result column `{name}`, which already holds another statistic"
                    ),
                )
                .help("the aggregated CSV names its columns after the metrics' columns; rename one of the columns"),
                &[&name, metric],
            )),
            None => out.push(Column { name, stat }),
        }
    };
    for metric in &plan.metrics {
        match &metric.kind {
            MetricKind::Rate { column } => add(
                &mut out,
                column.clone(),
                Stat::Count {
                    column: column.clone(),
                },
                &metric.name,
            ),
            MetricKind::Mean { column } => moments(&mut add, &mut out, column, &metric.name),
            MetricKind::Ratio {
                numerator,
                denominator,
            } => {
                moments(&mut add, &mut out, numerator, &metric.name);
                moments(&mut add, &mut out, denominator, &metric.name);
                product(&mut add, &mut out, numerator, denominator, &metric.name);
            }
        }
        if let Some(covariate) = &metric.covariate {
            moments(&mut add, &mut out, covariate, &metric.name);
            product(
                &mut add,
                &mut out,
                metric.kind.column(),
                covariate,
                &metric.name,
            );
        }
    }
    if plan.data.unit_id.is_some() {
        for (name, stat) in [
            (UNITS_DISTINCT, Stat::UnitsDistinct),
            (UNITS_MIXED, Stat::UnitsMixed),
            (UNITS_DUPLICATED, Stat::UnitsDuplicated),
        ] {
            add(&mut out, name.to_string(), stat, "unit_id");
        }
    }
    let clash = |message: String, name: &str| {
        place(
            Diagnostic::error("xos::sql::column_clash", message).help(
                "rename the column in a view over the table, and name the view with `--table`",
            ),
            &[name],
        )
    };
    if plan.data.variant_column == plan.data.units_column {
        diags.push(clash(
            format!(
                "the variant column and the units column are both `{}`: the result would have two \
                 columns of that name",
                plan.data.units_column
            ),
            &plan.data.units_column,
        ));
    }
    if let Some(unit) = &plan.data.unit_id
        && out.iter().any(|c| c.name == *unit)
    {
        diags.push(clash(
            format!(
                "`unit_id \"{unit}\"` is also the name of a result column: `xos run` would take the \
                 result for per-unit data"
            ),
            unit,
        ));
    }
    if diags.has_errors() {
        return Err(diags);
    }
    Ok(out)
}

/// `X_sum`, `X_sum_sq` of a numeric column.
fn moments(
    add: &mut impl FnMut(&mut Vec<Column>, String, Stat, &str),
    out: &mut Vec<Column>,
    column: &str,
    metric: &str,
) {
    let column = column.to_string();
    add(
        out,
        format!("{column}_sum"),
        Stat::Sum {
            column: column.clone(),
        },
        metric,
    );
    add(
        out,
        format!("{column}_sum_sq"),
        Stat::SumSq { column },
        metric,
    );
}

/// `X_Y_sum_prod` of two columns.
fn product(
    add: &mut impl FnMut(&mut Vec<Column>, String, Stat, &str),
    out: &mut Vec<Column>,
    x: &str,
    y: &str,
    metric: &str,
) {
    let stat = Stat::SumProd {
        x: x.to_string(),
        y: y.to_string(),
    };
    add(out, format!("{x}_{y}_sum_prod"), stat, metric);
}

/// `diag` located at the first of `names` written in the spec's text
/// (`source`), else at the spec as a whole; at the spec's path when its
/// text is not at hand.
fn at_name(
    diag: Diagnostic,
    plan: &Plan,
    source: Option<&std::sync::Arc<SourceFile>>,
    names: &[&str],
) -> Diagnostic {
    match source {
        Some(source) => match names.iter().find_map(|name| locate(source, name)) {
            Some(span) => diag.in_file(source).label(span, "this name"),
            None => diag.in_file(source),
        },
        None => diag.at_path(&plan.spec_path),
    }
}

/// Where a name is written in the spec, for a located diagnostic: the first
/// string literal or word equal to it, else the spec as a whole.
fn locate(source: &SourceFile, name: &str) -> Option<Span> {
    let text = source.text.as_str();
    let mut escaped = String::new();
    for c in name.chars() {
        match c {
            '"' => escaped.push_str("\\\""),
            '\\' => escaped.push_str("\\\\"),
            '\n' => escaped.push_str("\\n"),
            '\t' => escaped.push_str("\\t"),
            '\r' => escaped.push_str("\\r"),
            c => escaped.push(c),
        }
    }
    let literal = format!("\"{escaped}\"");
    if let Some(at) = text.find(&literal) {
        return Some(Span::new(at, at + literal.len()));
    }
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut from = 0;
    while let Some(i) = text[from..].find(name) {
        let at = from + i;
        let end = at + name.len();
        let before = text[..at].chars().next_back();
        let after = text[end..].chars().next();
        if !name.is_empty() && !before.is_some_and(is_word) && !after.is_some_and(is_word) {
            return Some(Span::new(at, end));
        }
        from = at + name.len().max(1);
    }
    None
}

/// The query for `plan` in `dialect` over `table`: one row per variant,
/// the columns of [`columns`].
///
/// `source` is the spec's text, to locate a name that cannot be quoted; the
/// diagnostics name the spec's file otherwise.
pub fn query(
    plan: &Plan,
    source: Option<&std::sync::Arc<SourceFile>>,
    dialect: Dialect,
    table: &TableName,
) -> Result<String, Diagnostics> {
    let columns = located_columns(plan, source)?;
    let mut diags = Diagnostics::new();
    let mut refused: Vec<String> = Vec::new();
    let mut quote = |name: &str, what: &str| -> String {
        dialect.quote(name).unwrap_or_else(|why| {
            // One diagnostic per name, whatever reads it.
            if refused.iter().any(|r| r == name) {
                return String::new();
            }
            refused.push(name.to_string());
            let diag = Diagnostic::error(
                "xos::sql::unquotable",
                format!(
                    "the {what} `{}` cannot be quoted as a {} identifier: {why}",
                    name.escape_debug(),
                    dialect.name()
                ),
            )
            .help("rename the column in the table (or a view over it) and in the spec");
            diags.push(at_name(diag, plan, source, &[name]));
            String::new()
        })
    };
    let variant = quote(&plan.data.variant_column, "variant column");
    let look = plan
        .data
        .look
        .as_deref()
        .map(|name| quote(name, "look column"));
    let unit = plan
        .data
        .unit_id
        .as_deref()
        .map(|name| quote(name, "unit id column"));
    // Every column read from the table, once, and every result alias.
    let mut inputs: Vec<(String, String)> = Vec::new();
    let mut aliases = Vec::new();
    for column in &columns {
        let read: Vec<&String> = match &column.stat {
            Stat::Count { column: c } | Stat::Sum { column: c } | Stat::SumSq { column: c } => {
                vec![c]
            }
            Stat::SumProd { x, y } => vec![x, y],
            _ => Vec::new(),
        };
        for c in read {
            if !inputs.iter().any(|(name, _)| name == c) {
                let quoted = quote(c, "metric column");
                inputs.push((c.clone(), quoted));
            }
        }
        aliases.push(quote(&column.name, "result column"));
    }
    let table = match table.quoted(dialect) {
        Ok(table) => table,
        Err(diag) => {
            diags.push(diag);
            String::new()
        }
    };
    if diags.has_errors() {
        return Err(diags);
    }

    let zero = plan.data.missing == Missing::Zero;
    let count_type = dialect.count_type();
    let sum_type = dialect.sum_type();
    // First the table's rows with each column the statistics read, cast once
    // (`v1`, `v2`, … in the order of `inputs`); `missing zero` turns a NULL
    // into 0 here.
    let mut row_columns = vec![format!("t.{variant} AS variant")];
    if let Some(look) = &look {
        row_columns.push(format!("t.{look} AS look"));
    }
    if let Some(unit) = &unit {
        row_columns.push(format!("t.{unit} AS unit"));
    }
    let value = |name: &str| {
        let at = inputs.iter().position(|(n, _)| n == name).unwrap_or(0);
        format!("r.v{}", at + 1)
    };
    for (i, (name, quoted)) in inputs.iter().enumerate() {
        let rate = columns
            .iter()
            .any(|c| matches!(&c.stat, Stat::Count { column } if column == name));
        // A column both a `rate` and a `mean` read holds 0/1: read as a rate.
        let cast = if rate {
            dialect.rate_value(&format!("t.{quoted}"))
        } else {
            format!("CAST(t.{quoted} AS {sum_type})")
        };
        // Only a NULL in the table is a missing value: a value the cast
        // cannot read (`yes` on Spark without ANSI mode, where the cast
        // gives NULL) stays NULL and makes the statistic NULL, below.
        let cast = if zero {
            format!("CASE WHEN t.{quoted} IS NULL THEN 0 ELSE {cast} END")
        } else {
            cast
        };
        row_columns.push(format!("{cast} AS v{}", i + 1));
    }
    // A statistic of a column with a NULL (without `missing zero`, or a
    // value the cast could not read) is NULL: `xos run` reports the empty
    // cell, as the row-level reader reports the empty or unreadable value.
    let complete =
        |v: &str, stat: String| format!("CASE WHEN COUNT({v}) = COUNT(*) THEN {stat} END");
    let mut select = Vec::new();
    for (column, alias) in columns.iter().zip(&aliases) {
        let expr = match &column.stat {
            Stat::Variant => "r.variant".to_string(),
            Stat::Units => "COUNT(*)".to_string(),
            Stat::Count { column } => {
                let v = value(column);
                // A NULL or a value other than 0 and 1 (2, 0.4) makes the
                // count NULL: the row-level reader rejects it.
                format!(
                    "CAST(CASE WHEN COUNT(CASE WHEN {v} = 0 OR {v} = 1 THEN 1 END) = COUNT(*) \
                     THEN SUM({v}) END AS {count_type})"
                )
            }
            Stat::Sum { column } => {
                let v = value(column);
                let v = as_sum_type(dialect, &v, &columns, column);
                complete(&v, dialect.sum(&v))
            }
            Stat::SumSq { column } => {
                let v = value(column);
                let v = as_sum_type(dialect, &v, &columns, column);
                complete(&v, dialect.sum(&format!("{v} * {v}")))
            }
            Stat::SumProd { x, y } => {
                let vx = as_sum_type(dialect, &value(x), &columns, x);
                let vy = as_sum_type(dialect, &value(y), &columns, y);
                // The product is NULL when either value is.
                let product = format!("{vx} * {vy}");
                complete(&product, dialect.sum(&product))
            }
            // NULL when an id is NULL: the row-level reader rejects an empty id.
            Stat::UnitsDistinct => {
                "CASE WHEN COUNT(r.unit) = COUNT(*) THEN COALESCE(MAX(a.units), 0) END".to_string()
            }
            Stat::UnitsMixed => "COALESCE(MAX(a.mixed), 0)".to_string(),
            Stat::UnitsDuplicated => "COALESCE(MAX(a.duplicated), 0)".to_string(),
        };
        select.push(format!("{expr} AS {alias}"));
    }

    let mut sql = String::new();
    let mut line = |text: &str| {
        sql.push_str(text);
        sql.push('\n');
    };
    line(&format!(
        "-- xos sql ({}): the aggregated CSV the spec reads, one row per {}.",
        dialect.name(),
        if look.is_some() {
            "look and variant, cumulative up to the look"
        } else {
            "variant"
        }
    ));
    line(&format!(
        "-- Counts in {count_type}, sums in {sum_type}: see docs/sql.md."
    ));
    line("WITH unit_rows AS (");
    line(&format!("    SELECT {}", row_columns.join(",\n        ")));
    line(&format!("    FROM {table} AS t"));
    if unit.is_some() {
        // Per unit id: how many variants it is under, the most rows it has
        // in one, and its home (smallest) variant, where it is counted.
        line("), unit_variant AS (");
        line("    SELECT r.unit, r.variant, COUNT(*) AS n");
        line("    FROM unit_rows AS r");
        line("    WHERE r.unit IS NOT NULL AND r.variant IS NOT NULL");
        line("    GROUP BY r.unit, r.variant");
        line("), unit_home AS (");
        line("    SELECT MIN(u.variant) AS variant, COUNT(*) AS variants, MAX(u.n) AS most");
        line("    FROM unit_variant AS u");
        line("    GROUP BY u.unit");
        line("), assignment AS (");
        line("    SELECT h.variant,");
        line(&format!("        CAST(COUNT(*) AS {count_type}) AS units,"));
        line(&format!(
            "        CAST(SUM(CASE WHEN h.variants > 1 THEN 1 ELSE 0 END) AS {count_type}) AS mixed,"
        ));
        line(&format!(
            "        CAST(SUM(CASE WHEN h.most > 1 THEN 1 ELSE 0 END) AS {count_type}) AS duplicated"
        ));
        line("    FROM unit_home AS h");
        line("    GROUP BY h.variant");
    }
    let Some(look) = look else {
        line(")");
        line(&format!("SELECT\n    {}", select.join(",\n    ")));
        line("FROM unit_rows AS r");
        if unit.is_some() {
            line("LEFT JOIN assignment AS a ON a.variant = r.variant");
        }
        line("GROUP BY r.variant");
        line("ORDER BY r.variant");
        return Ok(sql);
    };
    // Per look: every row up to it (cumulative, as the aggregated reader
    // wants), ordered by the look column's own type. Rows without a look
    // come out as a row with an empty look, which `xos run` reports; the
    // assignment columns count every unit (the reader takes them from the
    // latest look, which holds every row).
    line("), looks AS (");
    line("    SELECT DISTINCT r.look FROM unit_rows AS r WHERE r.look IS NOT NULL");
    line(")");
    line(&format!(
        "SELECT\n    l.look AS {look},\n    {}",
        select.join(",\n    ")
    ));
    line("FROM looks AS l");
    line("JOIN unit_rows AS r ON r.look <= l.look");
    if unit.is_some() {
        line("LEFT JOIN assignment AS a ON a.variant = r.variant");
    }
    line("GROUP BY l.look, r.variant");
    line("UNION ALL");
    line(&format!(
        "SELECT\n    NULL AS {look},\n    {}",
        select.join(",\n    ")
    ));
    line("FROM unit_rows AS r");
    if unit.is_some() {
        line("LEFT JOIN assignment AS a ON a.variant = r.variant");
    }
    line("WHERE r.look IS NULL");
    line("GROUP BY r.variant");
    line("ORDER BY 1, 2");
    Ok(sql)
}

/// A column read by both a `rate` and a `mean` metric is cast as a count
/// (its values are 0/1); its sums are taken in the sum type all the same.
fn as_sum_type(dialect: Dialect, v: &str, columns: &[Column], column: &str) -> String {
    let rate = columns
        .iter()
        .any(|c| matches!(&c.stat, Stat::Count { column: c } if c == column));
    if rate {
        format!("CAST({v} AS {})", dialect.sum_type())
    } else {
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_per_dialect() {
        let name = r#"a "b" `c` \d"#;
        assert_eq!(
            Dialect::Postgres.quote(name).unwrap(),
            r#""a ""b"" `c` \d""#
        );
        assert_eq!(Dialect::Spark.quote(name).unwrap(), r#"`a "b" ``c`` \d`"#);
        assert_eq!(
            Dialect::BigQuery.quote(name).unwrap(),
            r#"`a "b" \`c\` \\d`"#
        );
    }

    #[test]
    fn unsafe_names_are_refused() {
        for dialect in Dialect::ALL {
            assert_eq!(dialect.quote(""), Err(Unquotable::Empty));
            assert_eq!(dialect.quote("a\nb"), Err(Unquotable::Control('\n')));
            assert_eq!(dialect.quote("a\0"), Err(Unquotable::Control('\0')));
        }
        assert_eq!(Dialect::BigQuery.quote("a.b"), Err(Unquotable::Dot));
        assert!(Dialect::Spark.quote("a.b").is_ok());
        let long = "x".repeat(64);
        assert!(Dialect::Postgres.quote(&long).is_err());
        assert!(Dialect::DuckDb.quote(&long).is_ok());
    }

    #[test]
    fn table_names_split_on_dots_outside_quotes() {
        let parse = |t: &str| TableName::parse(t).map(|n| n.parts);
        assert_eq!(parse("events").unwrap(), ["events"]);
        assert_eq!(
            parse("my-project.analytics.events").unwrap(),
            ["my-project", "analytics", "events"]
        );
        assert_eq!(parse(r#""daily.v2"."a""b""#).unwrap(), ["daily.v2", "a\"b"]);
        for bad in ["", "a..b", "a.", ".a", "\"a", "\"a\"b", "a\"b", "a.b.c.d"] {
            assert!(parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn table_names_quote_part_by_part() {
        let table = TableName::parse("p.s.t").unwrap();
        assert_eq!(table.quoted(Dialect::Postgres).unwrap(), r#""p"."s"."t""#);
        assert_eq!(table.quoted(Dialect::Spark).unwrap(), "`p`.`s`.`t`");
        let bad = TableName {
            parts: vec!["a\u{7}".into()],
        };
        assert!(bad.quoted(Dialect::Trino).is_err());
    }

    #[test]
    fn dialects_parse_from_their_names() {
        for dialect in Dialect::ALL {
            assert_eq!(dialect.name().parse::<Dialect>(), Ok(dialect));
        }
        assert!("mysql".parse::<Dialect>().is_err());
    }

    #[test]
    fn names_are_located_as_literals_or_words() {
        let source = SourceFile::new(
            "s.xos",
            "data \"x.csv\" { unit_id \"a\\\"b\" }\nmetric m = mean(rev)\n",
        );
        let span = locate(&source, "a\"b").unwrap();
        assert_eq!(&source.text[span.start..span.end], "\"a\\\"b\"");
        let span = locate(&source, "rev").unwrap();
        assert_eq!(&source.text[span.start..span.end], "rev");
        assert_eq!(locate(&source, "re"), None);
    }
}
