//! CSV → validated sufficient statistics per variant.
//!
//! The aggregated export has one row per variant: the variant label, the
//! units (`users`), and per metric either a count (`rate(X)` reads `X`) or the
//! sums of a value and of its square (`mean(X)` reads `X_sum`, `X_sum_sq`).
//! Every problem is reported at once, each pointing at its file, line and
//! column; a file with any problem yields no [`Data`], so nothing downstream
//! ever sees a negative count or a variance below zero.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use crate::diagnostic::{Diagnostic, Diagnostics, Quote, SourceFile, Span, did_you_mean};
use crate::plan::{Plan, Shape};
pub use looks::Look;

pub mod aggregated;
pub mod input;
pub mod looks;
pub mod records;
pub mod rows;
mod units;

/// Validated sufficient statistics, in the plan's variant and metric order.
#[derive(Clone, Debug, PartialEq)]
pub struct Data {
    /// One entry per variant of the plan, control first.
    pub variants: Vec<VariantData>,
    /// Row-level data with a declared `unit_id`: how units were assigned.
    pub assignment: Option<Assignment>,
    /// With a `look` column: every look's cumulative data, oldest first (the
    /// last one is `variants`); empty without a look column.
    pub looks: Vec<Look>,
    /// What the row-level reader saw; `None` when the file was read as
    /// aggregated data (even under `shape rows`, when its header is an
    /// aggregated export's).
    pub row_level: Option<RowLevel>,
}

/// What reading a file one row per unit found beyond the statistics.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RowLevel {
    /// With `missing zero`: every value column read, in the order the
    /// metrics read them, with its empty, `NULL` and `NA` cells counted as 0
    /// (over the rows that were counted); empty without `missing zero`.
    pub zeroed: Vec<ZeroedCells>,
}

/// The cells of one column that `missing zero` counted as 0 (also the
/// report's `settings.missing_zeroed` entries).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ZeroedCells {
    /// The column, as the spec names it.
    pub column: String,
    /// Its empty, `NULL` and `NA` cells, each counted as 0.
    pub cells: u64,
}

impl Data {
    /// The data at each look, oldest first: the looks' variants, or the
    /// current data as the only look when the file has no look column.
    pub fn history(&self) -> Vec<&[VariantData]> {
        if self.looks.is_empty() {
            vec![&self.variants]
        } else {
            self.looks.iter().map(|l| l.variants.as_slice()).collect()
        }
    }
}

/// Units seen in more than one variant (mixed assignment) or on more than
/// one row of the same variant (duplicates), in row-level data.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Assignment {
    /// Distinct unit ids.
    pub units: u64,
    /// Units that appear in two or more variants.
    pub mixed: u64,
    /// Units that appear on two or more rows of one variant.
    pub duplicated: u64,
    /// Up to a few example ids of mixed units, in order of first appearance.
    pub mixed_examples: Vec<String>,
    /// Up to a few example ids of duplicated units, in order of first
    /// appearance.
    pub duplicated_examples: Vec<String>,
}

/// One variant's validated data: its units and each metric's sufficient
/// statistics.
#[derive(Clone, Debug, PartialEq)]
pub struct VariantData {
    /// The variant's name, as in the plan.
    pub name: String,
    /// Units (users) in the variant: the units column of aggregated data,
    /// the variant's rows in row-level data.
    pub units: u64,
    /// Indexed by `MetricId`.
    pub metrics: Vec<MetricData>,
}

/// The sufficient statistics of one metric in one variant, by metric kind.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MetricData {
    /// Units with the event; never above the variant's units.
    Rate {
        /// Units with the event.
        count: u64,
    },
    /// Σx and Σx² over the variant's units; Σx² ≥ (Σx)²/n.
    Mean {
        /// Σx, in the metric's unit.
        sum: f64,
        /// Σx², in the metric's unit squared.
        sum_sq: f64,
    },
    /// `ratio(X, Y)`: Σx, Σx², Σy, Σy² and Σxy over the variant's units;
    /// each Σa² ≥ (Σa)²/n and the cross-product within Cauchy–Schwarz.
    Ratio {
        /// Σx of the numerator column (`X_sum`).
        sum_x: f64,
        /// Σx² (`X_sum_sq`).
        sum_x_sq: f64,
        /// Σy of the denominator column (`Y_sum`).
        sum_y: f64,
        /// Σy² (`Y_sum_sq`).
        sum_y_sq: f64,
        /// Σxy (`X_Y_sum_prod`).
        sum_xy: f64,
    },
    /// A rate or mean metric `Y` with a CUPED covariate `C`: Σy and Σy² (for
    /// a rate both are the count), Σc, Σc² and Σyc, validated as for ratios.
    Adjusted {
        /// `Y` is a rate: its own (unadjusted) test is the rate test.
        rate: bool,
        /// Σy of the metric (`Y_sum`; a rate's count).
        sum_y: f64,
        /// Σy² (`Y_sum_sq`; a rate's count).
        sum_y_sq: f64,
        /// Σc of the pre-experiment covariate (`C_sum`).
        sum_c: f64,
        /// Σc² (`C_sum_sq`).
        sum_c_sq: f64,
        /// Σyc (`Y_C_sum_prod`).
        sum_yc: f64,
    },
}

impl MetricData {
    /// A covariate-adjusted metric's own statistics, without the covariate
    /// (`Rate` or `Mean`); any other data as it is.
    pub fn unadjusted(self) -> MetricData {
        match self {
            // INVARIANT: a rate's Σy is its count, an integer below 2^53.
            MetricData::Adjusted {
                rate: true, sum_y, ..
            } => MetricData::Rate {
                count: sum_y as u64,
            },
            MetricData::Adjusted {
                sum_y, sum_y_sq, ..
            } => MetricData::Mean {
                sum: sum_y,
                sum_sq: sum_y_sq,
            },
            other => other,
        }
    }
}

/// Reads and validates the plan's data file; a gzip file (`.csv.gz`) is
/// decompressed transparently, whatever the shape.
pub fn load(plan: &Plan) -> Result<Data, Diagnostics> {
    let path = &plan.data.path;
    if input::is_stdin(path) {
        return input::load_stdin(plan);
    }
    let mut plan = std::borrow::Cow::Borrowed(plan);
    if plan.data.shape == Shape::Rows {
        match input::aggregated_delimiter(&plan, path) {
            None => return rows::load_rows(&plan, path),
            Some(delimiter) if delimiter != plan.data.delimiter => {
                plan.to_mut().data.delimiter = delimiter
            }
            Some(_) => {}
        }
    }
    let plan = plan.as_ref();
    let max = crate::limits::max_aggregated_bytes();
    let (file, compressed) =
        crate::limits::open_regular_sized(path).map_err(|err| unreadable(plan, path, err))?;
    let bytes = if compressed <= max {
        // The common case, in one read: the file's bytes, then gzip or not
        // from their first two.
        crate::limits::read_bounded_sized(file, max, compressed).and_then(|bytes| {
            if rows::is_gzip(&bytes) {
                let max = max.min(crate::limits::max_inflated_bytes(bytes.len() as u64));
                crate::limits::read_bounded(flate2::read::MultiGzDecoder::new(&bytes[..]), max)
            } else {
                Ok(bytes)
            }
        })
    } else {
        read_large(file, compressed, max)
    }
    .map_err(|err| unreadable(plan, path, err))?;
    let source = decode(path, bytes)?;
    aggregated::parse_aggregated(plan, &source)
}

/// An aggregated file larger than the limit: an error, unless it is gzip
/// whose decompressed text fits.
fn read_large(mut file: std::fs::File, compressed: u64, max: u64) -> std::io::Result<Vec<u8>> {
    let mut head = [0u8; 2];
    let gzip = (&file).read_exact(&mut head).is_ok() && rows::is_gzip(&head);
    std::io::Seek::rewind(&mut file)?;
    if gzip {
        // The decompressed size is bounded, not the file's: a small gzip
        // file can hold a gigabyte line.
        let max = max.min(crate::limits::max_inflated_bytes(compressed));
        crate::limits::read_bounded(flate2::read::MultiGzDecoder::new(file), max)
    } else {
        Err(crate::limits::too_large(max))
    }
}

/// The data file cannot be opened, read or decompressed.
/// Located at the spec's `data "…"` when the spec names the file (not with
/// `--data`), and naming the file in every case.
pub(super) fn unreadable(plan: &Plan, path: &Path, err: std::io::Error) -> Diagnostics {
    let diag = Diagnostic::error(
        "xos::data::unreadable",
        format!("cannot read `{}`", path.display()),
    )
    .at_path(path)
    .help(if plan.data.from_command_line {
        format!("{err}; `--data` names it as `{}`", plan.data.written)
    } else {
        format!("{err}; the spec names it as `{}`", plan.data.written)
    });
    match &plan.data.named_at {
        Some((spec, span)) if plan.data.path == path => {
            diag.in_file(spec).label(*span, "the data file named here")
        }
        _ => diag,
    }
    .into()
}

/// Checks the bytes are UTF-8; the error points at the first bad byte.
/// The text is a data file's: its diagnostics quote only the offending token.
pub fn decode(path: &Path, bytes: Vec<u8>) -> Result<Arc<SourceFile>, Diagnostics> {
    if let Some(encoding) = utf16(&bytes) {
        return Err(utf16_error(path, encoding).into());
    }
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        let before = String::from_utf8_lossy(&bytes[..at]).into_owned();
        let span = Span::new(before.len(), before.len() + 1);
        return Err(binary(&SourceFile::data(path, before + "\0", 1), span).into());
    }
    crate::diagnostic::decode_utf8(path, bytes, Quote::Token).map_err(|(source, span)| {
        Diagnostic::error("xos::data::invalid_utf8", "the file is not valid UTF-8")
            .in_file(&source)
            .label(span, "invalid byte here")
            .help("export the CSV as UTF-8")
            .into()
    })
}

/// How a UTF-16 text was recognised at its start.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Utf16 {
    /// By its byte-order mark (`FF FE` little-endian, `FE FF` big-endian).
    Mark(&'static str),
    /// Without a mark: a NUL byte beside every character of ASCII text.
    Nuls(&'static str),
}

/// Bytes of the start of a file looked at for UTF-16 without a mark.
const UTF16_SNIFF: usize = 16;

/// Whether `head`, the first bytes of a file, start a UTF-16 text: a
/// byte-order mark (not UTF-32's `FF FE 00 00`), or ASCII characters each
/// with a NUL byte before (big-endian) or after (little-endian) it.
pub(super) fn utf16(head: &[u8]) -> Option<Utf16> {
    match head {
        [0xFF, 0xFE, 0, 0, ..] => return None,
        [0xFF, 0xFE, ..] => return Some(Utf16::Mark("UTF-16LE")),
        [0xFE, 0xFF, ..] => return Some(Utf16::Mark("UTF-16BE")),
        _ => {}
    }
    let units = head[..head.len().min(UTF16_SNIFF)].chunks_exact(2);
    if units.len() < 2 {
        return None;
    }
    let every = |pattern: fn(&[u8]) -> bool| units.clone().all(pattern);
    if every(|u| u[0] != 0 && u[1] == 0) {
        Some(Utf16::Nuls("UTF-16LE"))
    } else if every(|u| u[0] == 0 && u[1] != 0) {
        Some(Utf16::Nuls("UTF-16BE"))
    } else {
        None
    }
}

/// The data is UTF-16 text (Excel's "Unicode text", PowerShell's default):
/// refused at its first byte, quoting nothing, with how to convert it.
pub(super) fn utf16_error(path: &Path, encoding: Utf16) -> Diagnostic {
    let (name, seen) = match encoding {
        Utf16::Mark(name) => (name, "a UTF-16 byte-order mark"),
        Utf16::Nuls(name) => (name, "a NUL byte beside every character: UTF-16"),
    };
    Diagnostic::error(
        "xos::data::utf16",
        format!("the file is {name} text, not UTF-8"),
    )
    // One blank stands for the file's first character: nothing is quoted.
    .in_file(&SourceFile::data(path, " ", 1))
    .label(Span::new(0, 1), seen)
    .help("export the CSV as UTF-8, or convert it: `iconv -f UTF-16 -t UTF-8 in.csv > out.csv`")
}

/// The data holds a NUL byte, which no CSV text does (`/proc/self/environ`,
/// a binary file): refused at the byte, quoting nothing of the file.
pub(super) fn binary(source: &Arc<SourceFile>, span: Span) -> Diagnostic {
    Diagnostic::error(
        "xos::data::binary",
        "the file holds a NUL byte: it is not CSV text",
    )
    .in_file(source)
    .label(span, "NUL byte")
    .help("name a CSV file exported as text (UTF-8)")
}

/// A column the plan reads is not in the header; `why` says what reads it,
/// `renamed_by` the data-block option that names the column in the spec
/// (`variant_column`, `units`, `unit_id`), `None` for a metric's column.
pub(super) fn missing_column(
    source: &Arc<SourceFile>,
    header_line: Span,
    column: &str,
    why: &str,
    names: &[impl AsRef<str>],
    renamed_by: Option<&str>,
) -> Diagnostic {
    let diag = Diagnostic::error(
        "xos::data::missing_column",
        format!("column `{column}` is missing"),
    )
    .in_file(source)
    .label(header_line, format!("the header has no `{column}`; {why}"));
    let close = did_you_mean(column, names.iter().map(AsRef::as_ref)).or_else(|| {
        names
            .iter()
            .map(AsRef::as_ref)
            .find(|n| n.eq_ignore_ascii_case(column))
    });
    match (close, renamed_by) {
        (Some(close), Some(key)) => diag.help(format!(
            "did you mean `{close}`? rename the column in the file, or name it in the spec: \
             `data \"…\" {{ {key} \"{close}\" }}`"
        )),
        (Some(close), None) => diag.help(format!(
            "did you mean `{close}`? rename the column in the file, or in the metric's definition"
        )),
        (None, Some(key)) => diag.help(format!(
            "the file has the columns {}; if the file calls it something else, say so in the \
             spec: `data \"…\" {{ {key} \"NAME\" }}`",
            list(names)
        )),
        (None, None) => diag.help(format!("the file has the columns {}", list(names))),
    }
}

/// The separators a header may be split by when the spec's is not the
/// file's (Excel writes `;` in many locales).
const OTHER_DELIMITERS: [(u8, &str, &str); 4] = [
    (b';', "semicolon", ";"),
    (b'\t', "tab", "\\t"),
    (b'|', "pipe", "|"),
    (b',', "comma", ","),
];

/// A header read as a single column that holds another separator: the file
/// is separated by it, not by the spec's `delimiter`. One located error
/// instead of a `missing_column` per column.
pub(super) fn wrong_delimiter(
    source: &Arc<SourceFile>,
    header_line: Span,
    names: &[impl AsRef<str>],
    delimiter: u8,
) -> Option<Diagnostic> {
    let [only] = names else { return None };
    let only = only.as_ref();
    let (byte, name, written) = OTHER_DELIMITERS
        .iter()
        .copied()
        .filter(|(byte, ..)| *byte != delimiter)
        .max_by_key(|(byte, ..)| only.bytes().filter(|b| b == byte).count())
        .filter(|(byte, ..)| only.as_bytes().contains(byte))?;
    let columns = only.split(byte as char).count();
    Some(
        Diagnostic::error(
            "xos::data::delimiter",
            format!("the header is one column holding {columns} {name}-separated names"),
        )
        .in_file(source)
        .label(header_line, format!("separated by `{}`", written))
        .help(if byte == b',' {
            "the file is comma-separated: remove `delimiter` from the spec's data block".to_string()
        } else {
            format!(
                "the file is {name}-separated (a spreadsheet export in many locales): declare it \
                 in the spec, `data \"…\" {{ delimiter \"{written}\" }}`"
            )
        }),
    )
}

/// Variant labels in the data that are the spec's in another case
/// (`pairs`: `` `Control` for `control` ``), over `rows` rows: one error,
/// at the first, instead of one per row.
pub(super) fn case_only_labels(
    source: &Arc<SourceFile>,
    span: Span,
    rows: u64,
    pairs: &[String],
) -> Diagnostic {
    Diagnostic::error(
        "xos::data::label_case",
        format!(
            "variant labels differ from the spec's only in case: {} ({rows} {})",
            pairs.join(", "),
            if rows == 1 { "row" } else { "rows" }
        ),
    )
    .in_file(source)
    .label(span, "the first of them")
    .help(
        "labels are compared exactly: write them in the spec as the data has them (quote a label \
         that is not a bare name: `variants { \"Control\" 50% … }`), or fix the export",
    )
}

/// Most names a message lists from a data file's header.
const MAX_LISTED: usize = 20;

/// Names as a list for messages: `` `a`, `b` ``, each quoted as a short
/// token ([`crate::text::token`]), the first [`MAX_LISTED`] then a count.
pub(super) fn list(names: &[impl AsRef<str>]) -> String {
    names
        .iter()
        .take(MAX_LISTED)
        .map(|n| format!("`{}`", crate::text::token(n.as_ref())))
        .chain((names.len() > MAX_LISTED).then(|| format!("and {} more", names.len() - MAX_LISTED)))
        .collect::<Vec<_>>()
        .join(", ")
}
