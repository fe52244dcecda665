//! Where a spec's data comes from, and which shape its header says it has.
//!
//! - `--data -` reads the CSV from standard input, so a warehouse query's
//!   result can be piped in without a temporary file of the user's
//!   (`duckdb -csv -c "$(xos sql …)" | xos run spec.xos --data -`). The
//!   stream is copied to an anonymous temporary file first — the row-level
//!   reader splits a file across threads and reads example ids back from it
//!   — so memory stays constant; diagnostics name it `<stdin>`.
//! - A spec that declares `shape rows` reads an aggregated file all the
//!   same when the file's header says it is one: the query of `xos sql`
//!   for such a spec yields the aggregated CSV, and the same spec decides
//!   on both ([`reads_as_aggregated`]).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::data::{Data, unreadable};
use crate::diagnostic::{Diagnostic, Diagnostics, SourceFile};
use crate::plan::{Plan, Shape, aggregated_columns};

/// The data path that means standard input.
pub const STDIN: &str = "-";

/// The name diagnostics give standard input.
pub const STDIN_NAME: &str = "<stdin>";

/// Whether `path` names standard input (`-`).
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == STDIN
}

/// Reads the plan's data from standard input: copies it to a temporary file
/// (removed on return) and reads that as [`crate::data::load`] reads a file.
pub fn load_stdin(plan: &Plan) -> Result<Data, Diagnostics> {
    let name = Path::new(STDIN_NAME);
    let mut spool = tempfile::NamedTempFile::new().map_err(|err| unreadable(plan, name, err))?;
    std::io::copy(&mut std::io::stdin().lock(), spool.as_file_mut())
        .map_err(|err| unreadable(plan, name, err))?;
    let mut from_file = plan.clone();
    from_file.data.path = spool.path().to_path_buf();
    crate::data::load(&from_file).map_err(|diags| rename(diags, spool.path(), name))
}

/// Diagnostics about the spooled file, as about `<stdin>`.
fn rename(diags: Diagnostics, spool: &Path, name: &Path) -> Diagnostics {
    let spool_text = spool.display().to_string();
    let mut renamed = Diagnostics::new();
    for mut diag in diags.iter().cloned() {
        if let Some(source) = &diag.source
            && source.path == spool
        {
            diag.source = Some(source.renamed(name));
        }
        if diag.path.as_deref() == Some(spool) {
            diag.path = Some(PathBuf::from(name));
        }
        diag.message = diag.message.replace(&spool_text, STDIN_NAME);
        diag.help = diag.help.map(|h| h.replace(&spool_text, STDIN_NAME));
        renamed.push(diag);
    }
    renamed
}

/// Whether a spec that declares `shape rows` should read `path` as
/// aggregated data: its header has the units column and every column the
/// aggregated reader needs (`plan::aggregated_columns`: `X` per rate, `X_sum`
/// and `X_sum_sq` per mean, a ratio's and a covariate's sums and products),
/// and not the `unit_id` column a per-unit export has. A per-unit export
/// never has the units column (its units are its rows), so the header
/// alone tells the two apart. Any read error leaves the decision to the
/// row-level reader, which reports it.
pub fn reads_as_aggregated(plan: &Plan, path: &Path) -> bool {
    aggregated_delimiter(plan, path).is_some()
}

/// The delimiter `path` reads as aggregated data with, when
/// [`reads_as_aggregated`]: the spec's, or `,` — the result of `xos sql`
/// piped from a warehouse client is comma-separated even when the spec
/// declares another `delimiter` for its own row-level export.
pub fn aggregated_delimiter(plan: &Plan, path: &Path) -> Option<u8> {
    if plan.data.shape != Shape::Rows {
        return None;
    }
    let declared = plan.data.delimiter;
    [declared, b',']
        .into_iter()
        .find(|&delimiter| header_is_aggregated(plan, path, delimiter))
}

fn header_is_aggregated(plan: &Plan, path: &Path, delimiter: u8) -> bool {
    let Some(names) = header_names(path, delimiter) else {
        return false;
    };
    let has = |name: &str| names.iter().any(|n| n == name);
    if !has(&plan.data.units_column) || !has(&plan.data.variant_column) {
        return false;
    }
    if plan.data.unit_id.as_deref().is_some_and(has) {
        return false;
    }
    plan.metrics
        .iter()
        .all(|metric| aggregated_columns(metric).iter().all(|c| has(c)))
}

/// The trimmed column names of the file's first line (a gzip file is
/// decompressed; a byte-order mark is dropped).
fn header_names(path: &Path, delimiter: u8) -> Option<Vec<String>> {
    let mut file = crate::limits::open_regular(path).ok()?;
    let mut magic = [0u8; 2];
    let gzip = file.read_exact(&mut magic).is_ok() && super::rows::is_gzip(&magic);
    let file = crate::limits::open_regular(path).ok()?;
    let mut line = Vec::new();
    // A header longer than a line may be is left for the reader to report.
    let max = crate::limits::max_line_bytes();
    if gzip {
        BufReader::new(flate2::read::MultiGzDecoder::new(file).take(max))
            .read_until(b'\n', &mut line)
    } else {
        BufReader::new(file.take(max)).read_until(b'\n', &mut line)
    }
    .ok()?;
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&line);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(delimiter)
        .from_reader(line);
    let record = reader.records().next()?.ok()?;
    Some(record.iter().map(|n| n.trim().to_string()).collect())
}

/// An empty cell, or `NULL` as some SQL clients print one (the DuckDB CLI).
pub fn is_null_cell(value: &str) -> bool {
    value.is_empty() || value.eq_ignore_ascii_case("null")
}

/// Help for an empty (or `NULL`) cell of an aggregated file: what it means
/// when the file is the result of `xos sql`.
pub fn empty_cell_help(column: &str) -> String {
    format!(
        "in the result of `xos sql`, an empty or NULL `{column}` means the table holds a NULL in the \
         column it sums (declare `missing zero` in the spec's data block to count NULLs as 0), \
         a value the engine could not read as a number (`yes`, `9,49 EUR`: Spark without ANSI \
         mode reads it as NULL), or, for a rate, a value other than 0 and 1"
    )
}

/// `xos::data::not_a_count` for a whole number past `u64::MAX` in a count
/// column (saying so, not "not an integer"); `None` for any other text.
pub(crate) fn count_too_large(
    source: &Arc<SourceFile>,
    span: crate::diagnostic::Span,
    value: &str,
    column: &str,
) -> Option<Diagnostic> {
    let digits = value.trim();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(
        Diagnostic::error(
            "xos::data::not_a_count",
            format!(
                "`{column}` is {}, beyond the largest count xos reads ({})",
                crate::text::token(digits),
                crate::numbers::thousands(u64::MAX)
            ),
        )
        .in_file(source)
        .label(span, "too large for a count")
        .help(
            "no experiment has this many units or events: check the export's column and its units",
        ),
    )
}

/// A located diagnostic for a count column of the assignment checks that
/// holds something other than a non-negative integer.
pub(crate) fn not_a_unit_count(
    source: &Arc<SourceFile>,
    span: crate::diagnostic::Span,
    value: &str,
    column: &str,
) -> Diagnostic {
    if let Some(d) = count_too_large(source, span, value, column) {
        return d;
    }
    Diagnostic::error(
        "xos::data::not_a_count",
        format!("`{column}` must be a non-negative integer, found `{}`", crate::text::token(value)),
    )
    .in_file(source)
    .label(span, "not a count of units")
    .help(format!(
        "`{column}` counts unit ids (see docs/sql.md); an empty cell means the table holds NULL unit ids"
    ))
}
