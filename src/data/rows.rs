//! Row-level CSV (one row per unit) → the sufficient statistics per variant.
//!
//! `data "events.csv" { shape rows }` points a spec at a raw export with one
//! row per unit. [`load_rows`] streams the file once and produces exactly what
//! the aggregated loader produces from one row per variant: per variant the
//! units (its row count) and, per metric, the count of 1s (`rate(X)` reads a
//! 0/1 or `true`/`false` column `X`) or Σx and Σx² (`mean(X)` reads a numeric
//! column `X`). Everything downstream is unchanged.
//!
//! How it stays fast and small:
//!
//! - The body of the file is split into byte ranges; a range owns the lines
//!   that *start* in it, so every line is read by exactly one range. Ranges
//!   are aggregated on their own threads and merged in file order.
//! - Each range is read through one fixed buffer ([`Split::buffer_bytes`]), so
//!   memory does not depend on the number of rows — unless `unit_id` is
//!   declared: finding units in more than one variant then keeps 24 bytes a
//!   row (see `units.rs`).
//! - A byte-level scanner reads only the columns the plan needs; sums are
//!   compensated (Neumaier), so 10⁸ rows lose no precision.
//! - A gzip file (recognised by its magic bytes, whatever its name) is
//!   decompressed as a stream on one thread.
//!
//! Quoted fields may hold commas and doubled quotes, but not line breaks: a
//! quoted value that spans lines is reported as a bad row. Bad rows are
//! reported with their line numbers, the first [`LISTED_BAD_ROWS`] one by one
//! and the rest as a count.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use flate2::read::MultiGzDecoder;

use super::looks::{LOOK_FORMATS, LookKey, parse_look};
use super::units::{Counted, Units};
use super::{
    Assignment, Data, Look, MetricData, RowLevel, VariantData, ZeroedCells, list, missing_column,
    unreadable,
};
use crate::diagnostic::{Diagnostic, Diagnostics, SourceFile, Span, did_you_mean};
use crate::plan::{Metric, MetricKind, Missing, Plan, row_columns};

/// Bad rows listed one by one; the rest are counted in one more diagnostic.
pub const LISTED_BAD_ROWS: usize = 20;

/// Longest excerpt of a bad line shown in a diagnostic, in bytes.
const SHOWN_LINE_BYTES: usize = 400;

/// How a file is cut into ranges and read. The defaults suit every real file;
/// tests force tiny ranges and buffers to put lines across every boundary.
#[derive(Clone, Copy, Debug)]
pub struct Split {
    /// Threads aggregating ranges; the machine's parallelism by default.
    pub threads: usize,
    /// Bytes per range; 0 splits the body evenly across the threads (ranges
    /// are never below 1 MiB then, so small files use one thread).
    pub range_bytes: u64,
    /// Initial read buffer of each thread; it grows only for a line longer
    /// than itself.
    pub buffer_bytes: usize,
}

impl Default for Split {
    fn default() -> Split {
        Split {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            range_bytes: 0,
            buffer_bytes: 256 * 1024,
        }
    }
}

/// Smallest automatic range: below it a second thread costs more than it saves.
const MIN_AUTO_RANGE: u64 = 1 << 20;

/// Reads a row-level CSV into the plan's sufficient statistics.
///
/// The variants come out in the plan's order, the metrics indexed by metric
/// id, and `assignment` is filled when the plan declares a `unit_id`.
pub fn load_rows(plan: &Plan, path: &Path) -> Result<Data, Diagnostics> {
    load_rows_with(plan, path, Split::default())
}

/// [`load_rows`] with an explicit [`Split`].
pub fn load_rows_with(plan: &Plan, path: &Path, split: Split) -> Result<Data, Diagnostics> {
    let unreadable = |err: io::Error| match err
        .get_ref()
        .and_then(|e| e.downcast_ref::<crate::limits::LineTooLong>())
    {
        Some(long) => line_too_long(plan, path, long),
        None => unreadable(plan, path, err),
    };
    let mut file = crate::limits::open_regular(path).map_err(unreadable)?;
    let len = file.metadata().map_err(unreadable)?.len();
    let mut magic = [0u8; 2];
    let gzip = len >= 2 && file.read_exact(&mut magic).is_ok() && magic == GZIP_MAGIC;
    file.seek(SeekFrom::Start(0)).map_err(unreadable)?;

    if gzip {
        let inflated = crate::limits::Bounded::new(
            MultiGzDecoder::new(file),
            crate::limits::max_inflated_bytes(len),
        );
        let mut input = Buffered::new(inflated, split.buffer_bytes, 0);
        let header = read_header(&mut input, plan.data.delimiter).map_err(unreadable)?;
        let layout = Layout::new(plan, path, &header, true)?;
        let mut partial = Partial::new(&layout);
        scan(&layout, &mut input, u64::MAX, &mut partial).map_err(unreadable)?;
        return finish(plan, &layout, vec![partial]);
    }

    let header = read_header(
        &mut Buffered::new(&file, split.buffer_bytes, 0),
        plan.data.delimiter,
    )
    .map_err(unreadable)?;
    let layout = Layout::new(plan, path, &header, false)?;
    let ranges = ranges(header.body_start, len, split);
    let next = AtomicUsize::new(0);
    let threads = split.threads.clamp(1, ranges.len().max(1));
    let results: Vec<io::Result<Vec<(usize, Partial)>>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| scope.spawn(|| worker(path, &layout, &ranges, &next, split.buffer_bytes)))
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err(io::Error::other("a reader thread failed")))
            })
            .collect()
    });
    let mut partials: Vec<(usize, Partial)> = Vec::with_capacity(ranges.len());
    for result in results {
        partials.extend(result.map_err(unreadable)?);
    }
    partials.sort_by_key(|(index, _)| *index);
    finish(
        plan,
        &layout,
        partials.into_iter().map(|(_, p)| p).collect(),
    )
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The UTF-8 byte-order mark.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The located error of a line over the line-length limit: the file's line
/// number (counted up to the line), and the line's first characters.
fn line_too_long(plan: &Plan, path: &Path, long: &crate::limits::LineTooLong) -> Diagnostics {
    let mut head = Vec::new();
    let line = (|| -> io::Result<u64> {
        let mut file = crate::limits::open_regular(path)?;
        let mut magic = [0u8; 2];
        let gzip = file.read_exact(&mut magic).is_ok() && magic == GZIP_MAGIC;
        file.seek(SeekFrom::Start(0))?;
        let mut input: Box<dyn Read> = if gzip {
            Box::new(MultiGzDecoder::new(file))
        } else {
            Box::new(file)
        };
        let line = crate::limits::line_at(&mut input, long.offset)?;
        input.take(4096).read_to_end(&mut head)?;
        Ok(line)
    })();
    let Ok(line) = line else {
        return unreadable(plan, path, io::Error::other(long.to_string()));
    };
    // A CR-only file is one long line: name its line endings instead.
    if line == 1 {
        let body = head.strip_prefix(UTF8_BOM).unwrap_or(&head);
        if let Some(at) = bare_cr(body) {
            return cr_line_endings(path, &String::from_utf8_lossy(&body[..at])).into();
        }
    }
    head.truncate(60);
    let text: String = String::from_utf8_lossy(&head)
        .chars()
        .take_while(|c| *c != '\n')
        .collect();
    let source = SourceFile::data(path, text, line as usize);
    Diagnostic::error("xos::data::line_too_long", long.to_string())
        .in_file(&source)
        .label(Span::new(0, 0), "this line")
        .help("a row is one unit's values; set XOS_MAX_LINE_BYTES for longer lines")
        .into()
}

/// The header line holds a carriage return before more text: the file's
/// lines end in CR alone (classic Mac OS), and the reader, which splits
/// lines at LF, would read the whole file as the header. `before` is the
/// header's text up to that CR.
fn cr_line_endings(path: &Path, before: &str) -> Diagnostic {
    let source = SourceFile::data(path, before.to_string(), 1);
    Diagnostic::error(
        "xos::data::line_endings",
        "the file's lines end with a carriage return alone (CR line endings)",
    )
    .in_file(&source)
    .label(
        Span::new(before.len(), before.len()),
        "the header line ends here with a CR and no line feed",
    )
    .help(
        "row-level data needs LF or CRLF line endings (classic Mac OS writes CR alone): \
         save the file again as CSV with LF or CRLF line endings, or replace each CR by \
         a line feed (`tr '\\r' '\\n' < in.csv > out.csv`)",
    )
}

/// Where the first line of `head` ends at a CR followed by more text on the
/// same line: CR line endings.
fn bare_cr(head: &[u8]) -> Option<usize> {
    let line = &head[..line_end(head)];
    let at = line.iter().position(|&b| b == b'\r')?;
    line[at..]
        .iter()
        .any(|b| !b.is_ascii_whitespace())
        .then_some(at)
}

/// Whether `bytes` start like a gzip stream.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&GZIP_MAGIC)
}

/// Byte ranges of the body, in file order.
fn ranges(body_start: u64, len: u64, split: Split) -> Vec<(u64, u64)> {
    let body = len.saturating_sub(body_start);
    if body == 0 {
        return Vec::new();
    }
    let size = if split.range_bytes > 0 {
        split.range_bytes
    } else {
        body.div_ceil(split.threads.max(1) as u64)
            .max(MIN_AUTO_RANGE)
    };
    let mut ranges = Vec::new();
    let mut start = body_start;
    while start < len {
        let end = start.saturating_add(size).min(len);
        ranges.push((start, end));
        start = end;
    }
    ranges
}

/// Aggregates ranges until none is left; each thread reads through its own
/// file handle and one buffer.
fn worker(
    path: &Path,
    layout: &Layout,
    ranges: &[(u64, u64)],
    next: &AtomicUsize,
    buffer_bytes: usize,
) -> io::Result<Vec<(usize, Partial)>> {
    let mut file = File::open(path)?;
    let mut buf = Vec::new();
    let mut done = Vec::new();
    loop {
        let index = next.fetch_add(1, Ordering::Relaxed);
        let Some(&(start, end)) = ranges.get(index) else {
            return Ok(done);
        };
        let mut partial = Partial::new(layout);
        // A range owns the lines that start in it: unless it starts right
        // after the header, skip to the first line start at or after `start`
        // by reading from the byte before it through the next newline.
        let owns_first = start == layout.body_start;
        let from = if owns_first { start } else { start - 1 };
        file.seek(SeekFrom::Start(from))?;
        let mut input = Buffered::with_buffer(&file, std::mem::take(&mut buf), buffer_bytes, from);
        if owns_first || input.skip_line()? {
            scan(layout, &mut input, end, &mut partial)?;
        }
        if let Some(units) = partial.units.as_mut() {
            units.sort();
        }
        buf = input.buf;
        done.push((index, partial));
    }
}

/// A reader with a buffer that always holds whole lines from `pos` on, once
/// [`Buffered::refill`] has been asked for more.
struct Buffered<R> {
    src: R,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    eof: bool,
    /// Offset in the stream of `buf[0]`.
    base: u64,
}

impl<R: Read> Buffered<R> {
    fn new(src: R, capacity: usize, base: u64) -> Buffered<R> {
        Buffered::with_buffer(src, Vec::new(), capacity, base)
    }

    fn with_buffer(src: R, mut buf: Vec<u8>, capacity: usize, base: u64) -> Buffered<R> {
        buf.resize(capacity.max(64), 0);
        Buffered {
            src,
            buf,
            pos: 0,
            len: 0,
            eof: false,
            base,
        }
    }

    fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Keeps the unread bytes, moved to the front, and reads more after
    /// them; the buffer doubles when the unread bytes fill it.
    fn refill(&mut self) -> io::Result<()> {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.len, 0);
            self.base += self.pos as u64;
            self.len -= self.pos;
            self.pos = 0;
        }
        if self.len == self.buf.len() {
            // The unread bytes are one unfinished line.
            let max = crate::limits::max_line_bytes();
            if self.len as u64 > max {
                return Err(io::Error::other(crate::limits::LineTooLong {
                    offset: self.base,
                    max,
                }));
            }
            let grown = self.buf.len() * 2;
            self.buf.resize(grown, 0);
        }
        loop {
            match self.src.read(&mut self.buf[self.len..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.len += n;
                    return Ok(());
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
    }

    /// Moves past the next newline; false when the input ends first.
    fn skip_line(&mut self) -> io::Result<bool> {
        loop {
            if let Some(i) = self.buf[self.pos..self.len]
                .iter()
                .position(|&b| b == b'\n')
            {
                self.pos += i + 1;
                return Ok(true);
            }
            self.pos = self.len;
            if self.eof {
                return Ok(false);
            }
            self.refill()?;
        }
    }

    /// Whether nothing but whitespace is left; reads only up to the first
    /// other byte, and leaves the position alone.
    fn rest_is_blank(&mut self) -> io::Result<bool> {
        let mut checked = 0;
        loop {
            let unread = &self.buf[self.pos + checked..self.len];
            if !unread.iter().all(u8::is_ascii_whitespace) {
                return Ok(false);
            }
            checked += unread.len();
            if self.eof {
                return Ok(true);
            }
            self.refill()?;
        }
    }

    /// The bytes up to the next newline (excluded) and moves past it.
    fn read_line(&mut self) -> io::Result<Vec<u8>> {
        loop {
            let unread = &self.buf[self.pos..self.len];
            if let Some(i) = unread.iter().position(|&b| b == b'\n') {
                let line = unread[..i].to_vec();
                self.pos += i + 1;
                return Ok(line);
            }
            if self.eof {
                let line = unread.to_vec();
                self.pos = self.len;
                return Ok(line);
            }
            self.refill()?;
        }
    }
}

/// The header line and where the body starts.
struct Header {
    /// The header line as text (lossy), without the line break or a BOM.
    text: String,
    /// Column names, trimmed and unquoted, with their spans in `text`.
    names: Vec<(String, Span)>,
    body_start: u64,
    /// The file holds nothing but whitespace.
    empty: bool,
    /// The file is UTF-16 text, told by the header line's first bytes.
    utf16: Option<super::Utf16>,
}

fn read_header<R: Read>(input: &mut Buffered<R>, delimiter: u8) -> io::Result<Header> {
    let mut line = input.read_line()?;
    let utf16 = super::utf16(&line);
    // A byte-order mark (spreadsheet exports add one) is not part of the
    // name, and a file holding only one is empty.
    if line.starts_with(UTF8_BOM) {
        line.drain(..UTF8_BOM.len());
    }
    let empty = line.iter().all(u8::is_ascii_whitespace) && input.rest_is_blank()?;
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    let text = String::from_utf8_lossy(&line).into_owned();
    let names = split_header(&text, delimiter);
    Ok(Header {
        text,
        names,
        body_start: input.offset(),
        empty,
        utf16,
    })
}

/// Header fields, honouring quotes, trimmed.
fn split_header(text: &str, delimiter: u8) -> Vec<(String, Span)> {
    let bytes = text.as_bytes();
    let mut names = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    for i in 0..=bytes.len() {
        let at_end = i == bytes.len();
        if !at_end && bytes[i] == b'"' {
            in_quotes = !in_quotes;
        }
        if at_end || (bytes[i] == delimiter && !in_quotes) {
            let raw = &text[start..i];
            let name = raw.trim();
            let name = name
                .strip_prefix('"')
                .and_then(|n| n.strip_suffix('"'))
                .map_or_else(|| name.to_string(), |n| n.replace("\"\"", "\""));
            names.push((name.trim().to_string(), Span::new(start, i)));
            start = i + 1;
        }
    }
    names
}

/// What a column of the file is read for.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Role {
    Skip,
    Variant,
    Unit,
    /// The `look` column: each row's look.
    Look,
    /// Index into [`Layout::values`].
    Value(usize),
}

/// A column read by one or more metrics.
#[derive(Debug)]
struct ValueColumn {
    name: String,
    /// Read by a `rate` metric: every value must be 0/1 or `true`/`false`,
    /// and the column's statistic is the count of 1s.
    binary: bool,
}

/// The value columns one metric reads: its own, a ratio's denominator and a
/// covariate, each of the last two with its index in [`Layout::products`].
#[derive(Clone, Copy, Debug)]
struct MetricValues {
    x: usize,
    y: Option<(usize, usize)>,
    c: Option<(usize, usize)>,
}

impl MetricValues {
    fn reads(&self, value: usize) -> bool {
        self.x == value
            || self.y.is_some_and(|y| y.0 == value)
            || self.c.is_some_and(|c| c.0 == value)
    }
}

/// The plan's needs resolved against the header.
struct Layout {
    path: std::path::PathBuf,
    header: Arc<SourceFile>,
    header_names: Vec<(String, Span)>,
    body_start: u64,
    roles: Vec<Role>,
    labels: Vec<Vec<u8>>,
    values: Vec<ValueColumn>,
    /// For each metric, its value columns.
    metric_values: Vec<MetricValues>,
    /// Pairs of value columns whose per-row product is summed (a ratio's
    /// Σxy, a covariate's Σyc), each pair once.
    products: Vec<(usize, usize)>,
    variant_column: usize,
    /// The `look` column, if declared: rows are aggregated per look.
    look_column: Option<usize>,
    unit_id: Option<String>,
    /// The most rows the `unit_id` check records.
    unit_budget: super::units::Budget,
    missing_zero: bool,
    /// The field separator (`b','` unless the spec declares another).
    delimiter: u8,
    /// The file is gzip: it can only be read as a stream.
    gzip: bool,
}

impl Layout {
    fn new(plan: &Plan, path: &Path, header: &Header, gzip: bool) -> Result<Layout, Diagnostics> {
        if let Some(encoding) = header.utf16 {
            return Err(super::utf16_error(path, encoding).into());
        }
        let source = SourceFile::data(path, header.text.clone(), 1);
        if let Some(at) = header.text.find('\0') {
            return Err(super::binary(&source, Span::new(at, at + 1)).into());
        }
        if header.empty {
            return Err(
                Diagnostic::error("xos::data::empty", "the data file is empty")
                    .in_file(&source)
                    .label(Span::new(0, 0), "no header and no rows")
                    .help(format!(
                        "expected a header such as `{},...` and one row per unit",
                        plan.data.variant_column
                    ))
                    .into(),
            );
        }
        // Whitespace after the line's own CR is harmless; a CR before text
        // means the lines end in CR alone, and the "header" is the file.
        if let Some(at) = bare_cr(header.text.as_bytes()) {
            return Err(cr_line_endings(path, &header.text[..at]).into());
        }
        let names: Vec<&str> = header.names.iter().map(|(n, _)| n.as_str()).collect();
        let header_line = Span::new(0, header.text.len());
        if let Some(diag) =
            super::wrong_delimiter(&source, header_line, &names, plan.data.delimiter)
        {
            return Err(diag.into());
        }
        let mut diags = Diagnostics::new();
        let mut roles = vec![Role::Skip; names.len()];

        // Every column the plan reads: (name, the metric reading it).
        let mut needs: Vec<(&str, Option<&str>)> = vec![(&plan.data.variant_column, None)];
        if let Some(unit) = &plan.data.unit_id {
            needs.push((unit, None));
        }
        if let Some(look) = &plan.data.look {
            needs.push((look, None));
        }
        for metric in &plan.metrics {
            for column in row_columns(metric) {
                needs.push((column, Some(&metric.name)));
            }
        }
        let mut found = HashMap::new();
        for (column, metric) in needs {
            if found.contains_key(column) {
                continue;
            }
            let mut at = names.iter().enumerate().filter(|(_, n)| **n == column);
            match (at.next(), at.next()) {
                (Some((first, _)), Some((second, _))) => diags.push(
                    Diagnostic::error(
                        "xos::data::duplicate_column",
                        format!("column `{column}` appears twice"),
                    )
                    .in_file(&source)
                    .label(header.names[second].1, "second column with this name")
                    .secondary(header.names[first].1, "first defined here"),
                ),
                (Some((index, _)), None) => {
                    found.insert(column, index);
                }
                (None, _) => {
                    let (why, renamed_by) = match metric {
                        Some(metric) => (format!("metric `{metric}` reads it"), None),
                        None if column == plan.data.variant_column => (
                            "it names each row's variant".to_string(),
                            Some("variant_column"),
                        ),
                        None if plan.data.look.as_deref() == Some(column) => (
                            "the spec's `look` says it holds each row's look".to_string(),
                            None,
                        ),
                        None => (
                            "it identifies each row's unit (`unit_id`)".to_string(),
                            Some("unit_id"),
                        ),
                    };
                    diags.push(missing_column(
                        &source,
                        header_line,
                        column,
                        &why,
                        &names,
                        renamed_by,
                    ));
                }
            }
        }
        if diags.has_errors() {
            return Err(diags);
        }
        if plan.data.unit_id.is_some() && plan.variants.len() > 64 {
            return Err(Diagnostic::error(
                "xos::data::too_many_variants",
                format!(
                    "`unit_id` checks support up to 64 variants, the spec declares {}",
                    plan.variants.len()
                ),
            )
            .in_file(&source)
            .label(header_line, "this file's units")
            .help("remove `unit_id` from the data block, or split the experiment")
            .into());
        }

        // INVARIANT: every needed column was found above.
        let variant_column = found[plan.data.variant_column.as_str()];
        roles[variant_column] = Role::Variant;
        if let Some(unit) = &plan.data.unit_id {
            roles[found[unit.as_str()]] = Role::Unit;
        }
        let look_column = plan.data.look.as_ref().map(|look| found[look.as_str()]);
        if let Some(column) = look_column {
            roles[column] = Role::Look;
        }
        let mut values: Vec<ValueColumn> = Vec::new();
        let mut value_of = |column: &str| match roles[found[column]] {
            Role::Value(value) => value,
            _ => {
                values.push(ValueColumn {
                    name: column.to_string(),
                    binary: false,
                });
                roles[found[column]] = Role::Value(values.len() - 1);
                values.len() - 1
            }
        };
        let mut metric_values = Vec::with_capacity(plan.metrics.len());
        let mut products: Vec<(usize, usize)> = Vec::new();
        for metric in &plan.metrics {
            let x = value_of(metric.kind.column());
            let y = metric.kind.denominator().map(&mut value_of);
            let c = metric.covariate.as_deref().map(&mut value_of);
            // One Σxy per distinct pair of columns, however many metrics read it.
            let mut product = |other: usize| {
                let pair = (x, other);
                products.iter().position(|p| *p == pair).unwrap_or_else(|| {
                    products.push(pair);
                    products.len() - 1
                })
            };
            metric_values.push(MetricValues {
                x,
                y: y.map(|y| (y, product(y))),
                c: c.map(|c| (c, product(c))),
            });
        }
        for (metric, columns) in plan.metrics.iter().zip(&metric_values) {
            values[columns.x].binary |= metric.kind.is_rate();
        }
        // Columns past the last one read are never looked at.
        Ok(Layout {
            path: path.to_path_buf(),
            header: source,
            header_names: header.names.clone(),
            body_start: header.body_start,
            roles,
            labels: plan
                .variants
                .iter()
                .map(|v| v.name.as_bytes().to_vec())
                .collect(),
            values,
            metric_values,
            products,
            variant_column,
            look_column,
            unit_id: plan.data.unit_id.clone(),
            unit_budget: super::units::Budget::new(crate::limits::max_unit_id_rows()),
            missing_zero: plan.data.missing == Missing::Zero,
            delimiter: plan.data.delimiter,
            gzip,
        })
    }
}

impl Layout {
    /// The declared variant with this label.
    #[inline(always)]
    fn variant_of(&self, label: &[u8]) -> Option<usize> {
        self.labels.iter().position(|l| same_bytes(l, label))
    }

    /// The declared variant `label` names in another case, if any (only
    /// asked of a label that is no variant's).
    fn variant_ignoring_case(&self, label: &[u8]) -> Option<usize> {
        self.labels
            .iter()
            .position(|l| l.eq_ignore_ascii_case(label))
    }
}

/// Slice equality, eight bytes at a time and inlined: labels are short, and a
/// call to `memcmp` per row shows in profiles.
#[inline(always)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while let (Some(x), Some(y)) = (a.get(i..i + 8), b.get(i..i + 8)) {
        let (mut wx, mut wy) = ([0u8; 8], [0u8; 8]);
        wx.copy_from_slice(x);
        wy.copy_from_slice(y);
        if wx != wy {
            return false;
        }
        i += 8;
    }
    a[i..].iter().zip(&b[i..]).all(|(x, y)| x == y)
}

/// A compensated (Neumaier) sum: the rounding error of every addition is
/// carried, so the result is as if summed in twice the precision.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Sum {
    sum: f64,
    compensation: f64,
}

impl Sum {
    /// Adds `x`, carrying the rounding error (Neumaier 1974).
    #[inline]
    pub fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.compensation += (self.sum - t) + x;
        } else {
            self.compensation += (x - t) + self.sum;
        }
        self.sum = t;
    }

    /// Adds another compensated sum (of another chunk of rows).
    pub fn merge(&mut self, other: Sum) {
        self.add(other.sum);
        self.add(other.compensation);
    }

    /// The sum, its compensation applied.
    pub fn value(self) -> f64 {
        self.sum + self.compensation
    }
}

/// One variant's running statistics within one range.
#[derive(Clone, Debug)]
struct Acc {
    rows: u64,
    /// Per value column: the count of 1s (binary columns).
    ones: Vec<u64>,
    /// Per value column: Σx and Σx² (other columns).
    sums: Vec<(Sum, Sum)>,
    /// Per pair of [`Layout::products`]: Σxy.
    products: Vec<Sum>,
}

impl Acc {
    fn new(layout: &Layout) -> Acc {
        let values = layout.values.len();
        Acc {
            rows: 0,
            ones: vec![0; values],
            sums: vec![(Sum::default(), Sum::default()); values],
            products: vec![Sum::default(); layout.products.len()],
        }
    }

    /// Adds another range's (or look's) statistics of the same variant.
    fn merge(&mut self, other: &Acc) {
        self.rows += other.rows;
        for (a, b) in self.ones.iter_mut().zip(&other.ones) {
            *a += b;
        }
        for ((sum, sum_sq), (s, sq)) in self.sums.iter_mut().zip(&other.sums) {
            sum.merge(*s);
            sum_sq.merge(*sq);
        }
        for (sum, s) in self.products.iter_mut().zip(&other.products) {
            sum.merge(*s);
        }
    }

    /// Σx and Σx² of a value column (a binary column's are both its count of 1s).
    fn moments(&self, layout: &Layout, value: usize) -> (f64, f64) {
        if layout.values[value].binary {
            let ones = self.ones[value] as f64;
            (ones, ones)
        } else {
            (self.sums[value].0.value(), self.sums[value].1.value())
        }
    }
}

/// What is wrong with a bad row.
#[derive(Clone, Debug, PartialEq)]
enum Problem {
    Ragged {
        fields: usize,
    },
    UnknownVariant {
        label: String,
    },
    /// A label that is a declared variant's in another case (`Control`).
    CaseOnly {
        label: String,
        variant: usize,
    },
    /// Value column index.
    NotANumber {
        value: usize,
        text: String,
    },
    NotBinary {
        value: usize,
        text: String,
    },
    /// A look value that is neither an integer, a date nor a date-time.
    BadLook {
        text: String,
    },
    /// An empty cell, or a null marker (`NULL`, `NA`) as `written`.
    MissingValue {
        value: usize,
        written: Option<String>,
    },
    MissingVariant,
    MissingUnit,
    Quote {
        text: &'static str,
    },
}

#[derive(Clone, Debug)]
struct BadRow {
    /// 0-based line within its range.
    line: u64,
    problem: Problem,
    /// The line (lossy, possibly cut) and the offending field's span in it.
    text: String,
    span: Span,
}

/// One range's aggregate.
struct Partial {
    accs: Vec<Acc>,
    /// With a `look` column: each look seen in the range, as written, with
    /// its rows' statistics per variant (`accs` then stays empty).
    looks: Vec<(LookKey, String, Vec<Acc>)>,
    /// Lines owned by the range, blank ones included.
    lines: u64,
    /// The first bad rows (one more than listed, for the summary's location).
    bad: Vec<BadRow>,
    bad_count: u64,
    /// Variants named by a bad row, so they are not also reported absent.
    named: Vec<bool>,
    /// Rows whose label is a variant's in another case: how many, and each
    /// distinct label as written with its variant. They are reported in one
    /// diagnostic, and only the first is kept in `bad`.
    case_only: u64,
    case_labels: Vec<(String, usize)>,
    units: Option<Units>,
    /// Parsed values of the current row, committed when the row is good.
    row: Vec<f64>,
    /// With `missing zero`: per value column, the cells of good rows counted
    /// as 0.
    zeroed: Vec<u64>,
    /// The value columns of the current row whose cell was counted as 0,
    /// added to `zeroed` when the row is good.
    row_zeroed: Vec<usize>,
}

impl Partial {
    /// The index in `looks` of look `key` (written `text`), added when new.
    fn look_index(&mut self, layout: &Layout, key: LookKey, text: &[u8]) -> usize {
        if let Some(i) = self.looks.iter().position(|(k, _, _)| *k == key) {
            return i;
        }
        let label = String::from_utf8_lossy(text).into_owned();
        self.looks
            .push((key, label, vec![Acc::new(layout); layout.labels.len()]));
        self.looks.len() - 1
    }

    fn new(layout: &Layout) -> Partial {
        let values = layout.values.len();
        Partial {
            accs: vec![Acc::new(layout); layout.labels.len()],
            looks: Vec::new(),
            lines: 0,
            bad: Vec::new(),
            bad_count: 0,
            named: vec![false; layout.labels.len()],
            case_only: 0,
            case_labels: Vec::new(),
            units: layout.unit_id.as_ref().map(|_| Units::default()),
            row: vec![0.0; values],
            zeroed: vec![0; values],
            row_zeroed: Vec::new(),
        }
    }
}

/// Lines read before the unit table is sized for the rest of the range.
const SAMPLE_LINES: u64 = 4096;

/// Aggregates the lines that start before `end`, from the input's position
/// (a line start) on.
fn scan<R: Read>(
    layout: &Layout,
    input: &mut Buffered<R>,
    end: u64,
    partial: &mut Partial,
) -> io::Result<()> {
    let start = input.offset();
    loop {
        if input.offset() >= end {
            return Ok(());
        }
        if partial.lines == SAMPLE_LINES && end != u64::MAX {
            // Size the sightings once, from the lines read so far, rather
            // than growing them by copies. (A gzip stream's size is unknown.)
            if let Some(units) = partial.units.as_mut() {
                let per_line = (input.offset() - start) as f64 / SAMPLE_LINES as f64;
                let left = end.saturating_sub(input.offset()) as f64;
                // At least 8 bytes a line: a sample of blank lines must not
                // reserve many times the file's size.
                // Never more than the rows the check may hold.
                let rows = (left / per_line.max(8.0)) as u64;
                units.reserve(rows.min(layout.unit_budget.max()) as usize);
            }
        }
        if input.pos == input.len {
            if input.eof {
                return Ok(());
            }
            input.refill()?;
            continue;
        }
        let offset = input.offset();
        match scan_row(
            layout,
            &input.buf[input.pos..input.len],
            input.eof,
            offset,
            partial,
        ) {
            Some(consumed) => {
                input.pos += consumed;
                partial.lines += 1;
            }
            // INVARIANT: `scan_row` asks for more only before the end of
            // the input, so this refill reads or reaches the end.
            None if !input.eof => input.refill()?,
            None => return Ok(()),
        }
    }
}

/// Where a field is within the line, and what follows it.
struct Field {
    start: usize,
    end: usize,
    /// Index of the delimiter after the field (`,`, `\n`, or the data's end).
    next: usize,
    /// Doubled quotes inside a quoted field must be undone before use.
    escaped: bool,
}

enum Scanned {
    Field(Field),
    /// The data ends inside the line and more may come.
    Incomplete,
    /// A quoted field that is not closed on its line, or text after its
    /// closing quote.
    Bad(usize, &'static str),
}

#[inline]
fn scan_field(data: &[u8], start: usize, eof: bool, delimiter: u8) -> Scanned {
    if data.get(start) != Some(&b'"') {
        let i = find_delimiter(data, start, delimiter);
        if i == data.len() && !eof {
            return Scanned::Incomplete;
        }
        return Scanned::Field(Field {
            start,
            end: i,
            next: i,
            escaped: false,
        });
    }
    let mut i = start + 1;
    let mut escaped = false;
    loop {
        match data.get(i) {
            None if !eof => return Scanned::Incomplete,
            None | Some(b'\n') => {
                return Scanned::Bad(start, "a quoted value is not closed on its line");
            }
            Some(b'"') if data.get(i + 1) == Some(&b'"') => {
                escaped = true;
                i += 2;
            }
            Some(b'"') => break,
            Some(_) => i += 1,
        }
    }
    let close = i;
    let mut next = close + 1;
    if data.get(next) == Some(&b'\r') {
        next += 1;
    }
    match data.get(next) {
        None if !eof => Scanned::Incomplete,
        None | Some(b'\n') => Scanned::Field(Field {
            start: start + 1,
            end: close,
            next,
            escaped,
        }),
        Some(&b) if b == delimiter => Scanned::Field(Field {
            start: start + 1,
            end: close,
            next,
            escaped,
        }),
        Some(_) => Scanned::Bad(close, "text follows a closing quote"),
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Index of the first `,` or `\n` at or after `i`, or the data's length.
///
/// Eight bytes at a time (SWAR): a byte of `w ^ (c * ONES)` is zero where `w`
/// holds `c`, and `(x - ONES) & !x & HIGHS` flags zero bytes; flags above the
/// first true one may be false, but the lowest flag is always exact.
#[inline]
fn find_delimiter(data: &[u8], mut i: usize, delimiter: u8) -> usize {
    while let Some(chunk) = data.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let comma = w ^ (ONES * delimiter as u64);
        let newline = w ^ (ONES * b'\n' as u64);
        let found =
            ((comma.wrapping_sub(ONES) & !comma) | (newline.wrapping_sub(ONES) & !newline)) & HIGHS;
        if found != 0 {
            return i + (found.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&b) = data.get(i) {
        if b == delimiter || b == b'\n' {
            return i;
        }
        i += 1;
    }
    data.len()
}

/// Strips spaces, tabs and a carriage return from both ends.
#[inline]
fn trim(mut field: &[u8]) -> &[u8] {
    while let [b' ' | b'\t' | b'\r', rest @ ..] = field {
        field = rest;
    }
    while let [rest @ .., b' ' | b'\t' | b'\r'] = field {
        field = rest;
    }
    field
}

/// Reads one line from `data` (which starts at a line start) into `partial`.
/// Returns the bytes consumed, line break included, or `None` when `data`
/// ends inside the line and more input may follow.
#[inline]
fn scan_row(
    layout: &Layout,
    data: &[u8],
    eof: bool,
    offset: u64,
    partial: &mut Partial,
) -> Option<usize> {
    // Empty lines (a trailing one is common) are skipped.
    match data {
        [b'\n', ..] => return Some(1),
        [b'\r', b'\n', ..] => return Some(2),
        [b'\r'] if eof => return Some(1),
        _ => {}
    }
    if let Some(consumed) = fast_row(layout, data, offset, partial) {
        return Some(consumed);
    }
    // A line of spaces and tabs is blank too; asked only of a line that
    // left the fast path and starts with one, so no good row pays for it.
    if let [b' ' | b'\t' | b'\r', ..] = data {
        match blank_line(data, eof) {
            Blank::Yes(consumed) => return Some(consumed),
            Blank::Incomplete => return None,
            Blank::No => {}
        }
    }
    let columns = layout.roles.len();
    let mut start = 0;
    let mut variant = usize::MAX;
    let mut unit: Option<(usize, usize, bool)> = None;
    let mut look: Option<(LookKey, usize, usize)> = None;
    partial.row_zeroed.clear();
    // The first problem of the row: where it is, and what.
    let bad: Option<(usize, usize, Problem)> = 'row: {
        for (column, role) in layout.roles.iter().enumerate() {
            let field = match scan_field(data, start, eof, layout.delimiter) {
                Scanned::Field(field) => field,
                Scanned::Incomplete => return None,
                Scanned::Bad(at, text) => break 'row Some((at, at + 1, Problem::Quote { text })),
            };
            let last = column + 1 == columns;
            let at_line_end = field.next >= data.len() || data[field.next] == b'\n';
            if at_line_end != last {
                let fields = count_fields(data, eof, layout.delimiter)?;
                break 'row Some((0, line_end(data), Problem::Ragged { fields }));
            }
            let (from, to) = (field.start, field.end);
            let raw = &data[from..to];
            match *role {
                Role::Skip => {}
                Role::Variant => {
                    let label = trim(raw);
                    let unescaped;
                    let label = if field.escaped {
                        unescaped = unescape(label);
                        &unescaped[..]
                    } else {
                        label
                    };
                    match layout.variant_of(label) {
                        Some(index) => variant = index,
                        None if label.is_empty() => {
                            break 'row Some((from, to, Problem::MissingVariant));
                        }
                        None => {
                            let written = String::from_utf8_lossy(label).into_owned();
                            let problem = match layout.variant_ignoring_case(label) {
                                Some(index) => {
                                    variant = index;
                                    Problem::CaseOnly {
                                        label: written,
                                        variant: index,
                                    }
                                }
                                None => Problem::UnknownVariant { label: written },
                            };
                            break 'row Some((from, to, problem));
                        }
                    }
                }
                Role::Unit if trim(raw).is_empty() => {
                    break 'row Some((from, to, Problem::MissingUnit));
                }
                Role::Unit => unit = Some((from, to, field.escaped)),
                Role::Look => {
                    let text = lossy(trim(raw), field.escaped);
                    match parse_look(&text) {
                        Some(key) => look = Some((key, from, to)),
                        None => break 'row Some((from, to, Problem::BadLook { text })),
                    }
                }
                Role::Value(value) => {
                    let text = trim(raw);
                    let mut zeroed = false;
                    let parsed = if text.is_empty() {
                        if layout.missing_zero {
                            zeroed = true;
                            Ok(0.0)
                        } else {
                            Err(Problem::MissingValue {
                                value,
                                written: None,
                            })
                        }
                    } else if layout.values[value].binary {
                        parse_binary(text).ok_or_else(|| Problem::NotBinary {
                            value,
                            text: lossy(text, field.escaped),
                        })
                    } else {
                        let x = if field.escaped {
                            parse_f64(&unescape(text))
                        } else {
                            parse_f64(text)
                        };
                        x.ok_or_else(|| Problem::NotANumber {
                            value,
                            text: lossy(text, field.escaped),
                        })
                    };
                    // Null markers are asked about only once a cell fails
                    // to parse, so the common row pays nothing for them.
                    let parsed = match parsed {
                        Err(Problem::NotANumber { text, .. } | Problem::NotBinary { text, .. })
                            if is_null_marker(&text) =>
                        {
                            if layout.missing_zero {
                                zeroed = true;
                                Ok(0.0)
                            } else {
                                Err(Problem::MissingValue {
                                    value,
                                    written: Some(text),
                                })
                            }
                        }
                        other => other,
                    };
                    match parsed {
                        Ok(x) => partial.row[value] = x,
                        Err(problem) => break 'row Some((from, to, problem)),
                    }
                    if zeroed {
                        partial.row_zeroed.push(value);
                    }
                }
            }
            start = field.next + 1;
        }
        None
    };
    if let Some((from, to, problem)) = bad {
        return bad_row(data, eof, partial, from, to, problem, variant);
    }
    for &value in &partial.row_zeroed {
        partial.zeroed[value] += 1;
    }
    let id = unit.map(|(from, to, escaped)| {
        let id = trim(&data[from..to]);
        if escaped {
            Cow::Owned(unescape(id))
        } else {
            Cow::Borrowed(id)
        }
    });
    let accs = match look {
        Some((key, from, to)) => {
            let i = partial.look_index(layout, key, trim(&data[from..to]));
            &mut partial.looks[i].2
        }
        None => &mut partial.accs,
    };
    commit(
        layout,
        accs,
        partial.units.as_mut(),
        variant,
        &partial.row,
        id.as_deref(),
        offset,
    );
    // `start` is past the line break after the last field (or the data).
    Some(start.min(data.len()))
}

/// Whether the first line of `data` holds only spaces, tabs and carriage
/// returns.
enum Blank {
    /// It does: the bytes to skip, line break included.
    Yes(usize),
    /// It does so far, but `data` ends before the line does.
    Incomplete,
    No,
}

fn blank_line(data: &[u8], eof: bool) -> Blank {
    for (i, &b) in data.iter().enumerate() {
        match b {
            b'\n' => return Blank::Yes(i + 1),
            b' ' | b'\t' | b'\r' => {}
            _ => return Blank::No,
        }
    }
    if eof {
        Blank::Yes(data.len())
    } else {
        Blank::Incomplete
    }
}

/// Values a row can hold on the fast path; plans reading more columns take
/// the general path for every row.
const FAST_VALUES: usize = 8;

/// The common row — no quotes, no spaces, no empty or bad values, complete in
/// `data` — read in one pass with no per-field bookkeeping. `None` leaves the
/// line untouched for [`scan_row`]'s general path, which also reports
/// whatever is wrong with it.
#[inline]
fn fast_row(layout: &Layout, data: &[u8], offset: u64, partial: &mut Partial) -> Option<usize> {
    let mut values = [0.0f64; FAST_VALUES];
    if layout.values.len() > FAST_VALUES || layout.look_column.is_some() {
        return None;
    }
    let last = layout.roles.len().checked_sub(1)?;
    let mut start = 0;
    let mut variant = usize::MAX;
    let mut unit = None;
    for (column, role) in layout.roles.iter().enumerate() {
        let end = find_delimiter(data, start, layout.delimiter);
        // No delimiter: the line runs past the data (or the file ends
        // without a line break).
        let delimiter = *data.get(end)?;
        if (delimiter == b'\n') != (column == last) {
            return None;
        }
        let mut field = &data[start..end];
        if column == last {
            field = field.strip_suffix(b"\r").unwrap_or(field);
        }
        // A quoted field may hold commas: only the general path splits it.
        if field.first() == Some(&b'"') {
            return None;
        }
        match *role {
            Role::Skip => {}
            Role::Variant => variant = layout.variant_of(field)?,
            // Rows with a look take the general path (see above).
            Role::Look => return None,
            Role::Unit => {
                // Ids are trimmed on the general path.
                if trim(field).len() != field.len() || field.is_empty() {
                    return None;
                }
                unit = Some(field);
            }
            Role::Value(value) => {
                values[value] = if layout.values[value].binary {
                    parse_binary(field)?
                } else {
                    parse_f64(field)?
                };
            }
        }
        start = end + 1;
    }
    commit(
        layout,
        &mut partial.accs,
        partial.units.as_mut(),
        variant,
        &values,
        unit,
        offset,
    );
    Some(start)
}

/// Adds a good row to its variant's statistics (and its unit, if any).
#[inline(always)]
fn commit(
    layout: &Layout,
    accs: &mut [Acc],
    units: Option<&mut Units>,
    variant: usize,
    values: &[f64],
    unit: Option<&[u8]>,
    offset: u64,
) {
    // INVARIANT: the variant column is one of the columns, and a row that is
    // committed has read it, so `variant` is a declared variant.
    let Some(acc) = accs.get_mut(variant) else {
        return;
    };
    acc.rows += 1;
    for (value, (column, &x)) in layout.values.iter().zip(values).enumerate() {
        if column.binary {
            acc.ones[value] += (x == 1.0) as u64;
        } else if x != 0.0 {
            let (sum, sum_sq) = &mut acc.sums[value];
            sum.add(x);
            sum_sq.add(x * x);
        }
    }
    for (sum, &(a, b)) in acc.products.iter_mut().zip(&layout.products) {
        let product = values[a] * values[b];
        if product != 0.0 {
            sum.add(product);
        }
    }
    if let (Some(units), Some(id)) = (units, unit) {
        units.see(id, variant, offset, &layout.unit_budget);
    }
}

/// Distinct case-only labels named in the diagnostic.
const MAX_CASE_LABELS: usize = 16;

/// A cell that spells a missing value as SQL clients and R/pandas exports
/// do: `NULL`, `NA`, `N/A` (any case).
fn is_null_marker(text: &str) -> bool {
    ["null", "na", "n/a"]
        .iter()
        .any(|marker| text.eq_ignore_ascii_case(marker))
}

/// Records a bad row and consumes its line.
fn bad_row(
    data: &[u8],
    eof: bool,
    partial: &mut Partial,
    from: usize,
    to: usize,
    problem: Problem,
    variant: usize,
) -> Option<usize> {
    let end = line_end(data);
    if end == data.len() && !eof {
        return None;
    }
    if let Some(named) = partial.named.get_mut(variant) {
        *named = true;
    }
    partial.bad_count += 1;
    let mut listed = partial.bad.len() <= LISTED_BAD_ROWS;
    if let Problem::CaseOnly { label, variant } = &problem {
        partial.case_only += 1;
        if partial.case_labels.len() < MAX_CASE_LABELS
            && !partial.case_labels.iter().any(|(l, _)| l == label)
        {
            partial.case_labels.push((label.clone(), *variant));
        }
        listed &= !partial
            .bad
            .iter()
            .any(|row| matches!(row.problem, Problem::CaseOnly { .. }));
    }
    if listed {
        let line = &data[..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let cut = line.len().min(SHOWN_LINE_BYTES);
        let to = to.min(cut).max(from.min(cut));
        let from = from.min(to);
        let before = String::from_utf8_lossy(&data[..from]).into_owned();
        let field = String::from_utf8_lossy(&data[from..to]).into_owned();
        let after = String::from_utf8_lossy(&line[to..cut]);
        let span = Span::new(before.len(), before.len() + field.len());
        partial.bad.push(BadRow {
            line: partial.lines,
            problem,
            text: before + &field + &after,
            span,
        });
    }
    Some((end + 1).min(data.len()))
}

/// Index of the line break ending the first line of `data`, or its length.
fn line_end(data: &[u8]) -> usize {
    data.iter().position(|&b| b == b'\n').unwrap_or(data.len())
}

/// Fields on the first line of `data` (quotes honoured); `None` when the line
/// is not complete yet.
fn count_fields(data: &[u8], eof: bool, delimiter: u8) -> Option<usize> {
    let end = line_end(data);
    if end == data.len() && !eof {
        return None;
    }
    let mut fields = 1;
    let mut in_quotes = false;
    for &b in &data[..end] {
        match b {
            b'"' => in_quotes = !in_quotes,
            b if b == delimiter && !in_quotes => fields += 1,
            _ => {}
        }
    }
    Some(fields)
}

fn unescape(field: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(field.len());
    let mut i = 0;
    while i < field.len() {
        out.push(field[i]);
        i += if field[i] == b'"' && field.get(i + 1) == Some(&b'"') {
            2
        } else {
            1
        };
    }
    out
}

fn lossy(text: &[u8], escaped: bool) -> String {
    if escaped {
        String::from_utf8_lossy(&unescape(text)).into_owned()
    } else {
        String::from_utf8_lossy(text).into_owned()
    }
}

/// `0`, `1`, `true` or `false` (any case).
#[inline(always)]
fn parse_binary(text: &[u8]) -> Option<f64> {
    match text {
        b"0" => Some(0.0),
        b"1" => Some(1.0),
        t if t.eq_ignore_ascii_case(b"true") => Some(1.0),
        t if t.eq_ignore_ascii_case(b"false") => Some(0.0),
        _ => None,
    }
}

/// Exact powers of ten up to the largest one an `f64` holds exactly.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// A finite number, parsed exactly as `str::parse::<f64>` does.
///
/// Plain decimals with at most 19 digits and a mantissa below 2⁵³ (nearly
/// every value in an export) take Clinger's fast path: the mantissa and the
/// power of ten are both exact in an `f64`, so one correctly rounded
/// division gives the correctly rounded result. Everything else (exponents,
/// long digit strings, `inf`) goes to the standard library.
#[inline]
pub fn parse_f64(text: &[u8]) -> Option<f64> {
    // Most values of a per-unit metric are 0 (no revenue, no event).
    if text == b"0" {
        return Some(0.0);
    }
    let (negative, digits) = match text {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, text),
    };
    let mut mantissa: u64 = 0;
    let mut i = read_digits(digits, 0, &mut mantissa);
    let mut count = i;
    let mut fraction = 0;
    if digits.get(i) == Some(&b'.') {
        let end = read_digits(digits, i + 1, &mut mantissa);
        fraction = end - (i + 1);
        count += fraction;
        i = end;
    }
    if i == digits.len() && count > 0 && count <= 19 && mantissa <= 1 << 53 && fraction < 23 {
        let x = mantissa as f64 / POW10[fraction];
        return Some(if negative { -x } else { x });
    }
    let x: f64 = std::str::from_utf8(text).ok()?.parse().ok()?;
    x.is_finite().then_some(x)
}

/// Appends the decimal digits of `text` from `i` on to `mantissa` (wrapping:
/// the caller rejects more than 19 digits) and returns where they stop.
#[inline]
fn read_digits(text: &[u8], mut i: usize, mantissa: &mut u64) -> usize {
    while let Some(d) = text
        .get(i)
        .and_then(|b| b.checked_sub(b'0'))
        .filter(|d| *d < 10)
    {
        *mantissa = mantissa.wrapping_mul(10).wrapping_add(d as u64);
        i += 1;
    }
    i
}

/// Merges the ranges in file order into [`Data`], or every problem found.
fn finish(plan: &Plan, layout: &Layout, partials: Vec<Partial>) -> Result<Data, Diagnostics> {
    let mut diags = Diagnostics::new();
    let variants = layout.labels.len();
    let mut accs: Vec<Acc> = Vec::new();
    let mut named = vec![false; variants];
    let mut bad: Vec<(u64, BadRow)> = Vec::new();
    let mut bad_count = 0u64;
    let mut case_only = 0u64;
    let mut case_labels: Vec<(String, usize)> = Vec::new();
    let mut units: Option<Units> = None;
    let mut looks: Vec<(LookKey, String, Vec<Acc>)> = Vec::new();
    let mut zeroed = vec![0u64; layout.values.len()];
    // Line 1 is the header.
    let mut first_line = 2u64;
    for partial in partials {
        for row in partial.bad {
            if bad.len() <= LISTED_BAD_ROWS {
                bad.push((first_line + row.line, row));
            }
        }
        bad_count += partial.bad_count;
        case_only += partial.case_only;
        for (all, this) in zeroed.iter_mut().zip(&partial.zeroed) {
            *all += this;
        }
        for label in partial.case_labels {
            if case_labels.len() < MAX_CASE_LABELS && !case_labels.contains(&label) {
                case_labels.push(label);
            }
        }
        first_line += partial.lines;
        for (all, this) in named.iter_mut().zip(&partial.named) {
            *all |= this;
        }
        if accs.is_empty() {
            accs = partial.accs;
        } else {
            for (acc, other) in accs.iter_mut().zip(&partial.accs) {
                acc.merge(other);
            }
        }
        for (key, label, theirs) in partial.looks {
            match looks.iter_mut().find(|(k, _, _)| *k == key) {
                Some((_, _, ours)) => {
                    for (acc, other) in ours.iter_mut().zip(&theirs) {
                        acc.merge(other);
                    }
                }
                None => looks.push((key, label, theirs)),
            }
        }
        if let Some(theirs) = partial.units {
            match units.as_mut() {
                None => units = Some(theirs),
                Some(ours) => ours.merge(theirs),
            }
        }
    }

    let source_of =
        |line: u64, text: &str| SourceFile::data(&layout.path, format!("{text}\n"), line as usize);
    // Labels in another case: one diagnostic at the first such row, however
    // many rows there are.
    let (case_rows, bad): (Vec<_>, Vec<_>) = bad
        .into_iter()
        .partition(|(_, row)| matches!(row.problem, Problem::CaseOnly { .. }));
    if let Some((line, row)) = case_rows.iter().min_by_key(|(line, _)| *line) {
        let source = source_of(*line, &row.text);
        diags.push(case_only_diagnostic(
            plan,
            &source,
            row.span,
            case_only,
            &case_labels,
        ));
    }
    let bad_count = bad_count - case_only;
    for (line, row) in bad.iter().take(LISTED_BAD_ROWS) {
        let source = source_of(*line, &row.text);
        diags.push(bad_row_diagnostic(plan, layout, &source, *line, row));
    }
    if bad_count > LISTED_BAD_ROWS as u64 {
        let rest = bad_count - LISTED_BAD_ROWS as u64;
        if let Some((line, row)) = bad.get(LISTED_BAD_ROWS) {
            let source = source_of(*line, &row.text);
            diags.push(
                Diagnostic::error(
                    "xos::data::more_bad_rows",
                    format!(
                        "{rest} more bad {} from line {line} on",
                        if rest == 1 { "row" } else { "rows" }
                    ),
                )
                .in_file(&source)
                .label(row.span, "the first of them")
                .help(format!(
                    "only the first {LISTED_BAD_ROWS} bad rows are listed; fix the export and run again"
                )),
            );
        }
    }

    // With looks, each look's statistics become cumulative in look order,
    // and the last look's are the totals.
    let mut cumulative: Vec<(String, Vec<Acc>)> = Vec::new();
    if layout.look_column.is_some() {
        looks.sort_by_key(|(key, _, _)| *key);
        diags.extend(look_problems(plan, layout, &looks));
        let mut running = vec![Acc::new(layout); variants];
        for (_, label, look_accs) in &looks {
            for (acc, other) in running.iter_mut().zip(look_accs) {
                acc.merge(other);
            }
            cumulative.push((label.clone(), running.clone()));
        }
        accs = running;
    }
    let total: u64 = accs.iter().map(|a| a.rows).sum();
    if total == 0 && bad_count == 0 && case_only == 0 {
        diags.push(
            Diagnostic::error(
                "xos::data::no_rows",
                "the data file has a header but no rows",
            )
            .in_file(&layout.header)
            .label(Span::new(0, layout.header.text.len()), "header only")
            .help("add one row per unit"),
        );
        return Err(diags);
    }
    let variant_header = layout.header_names[layout.variant_column].1;
    for (index, variant) in plan.variants.iter().enumerate() {
        let rows = accs.get(index).map_or(0, |a| a.rows);
        if rows == 0 && !named[index] {
            diags.push(
                Diagnostic::error(
                    "xos::data::absent_variant",
                    format!(
                        "variant `{}` is declared in the spec but has no rows",
                        variant.name
                    ),
                )
                .in_file(&layout.header)
                .label(
                    variant_header,
                    format!("no row has `{}` here", variant.name),
                )
                .help("check the export's filter, or remove the variant from the spec"),
            );
        }
    }
    // Values each finite can still sum past a double (two rows of DBL_MAX,
    // a sentinel): the metric would have no mean and no interval.
    for (variant, acc) in plan.variants.iter().zip(&accs) {
        for (value, column) in layout.values.iter().enumerate() {
            let (sum, sum_sq) = acc.moments(layout, value);
            if column.binary || (sum.is_finite() && sum_sq.is_finite()) {
                continue;
            }
            let span = layout
                .header_names
                .iter()
                .find(|(name, _)| *name == column.name)
                .map_or(Span::new(0, 0), |(_, span)| *span);
            diags.push(
                Diagnostic::error(
                    "xos::data::not_a_number",
                    format!(
                        "the sum of `{}` (or of its squares) over the rows of `{}` is beyond \
                         a double",
                        column.name, variant.name
                    ),
                )
                .in_file(&layout.header)
                .label(span, "values too large to sum")
                .help(
                    "values near 1e154 and above cannot be squared and summed (a sentinel \
                     such as DBL_MAX?); remove them from the export, or rescale the column",
                ),
            );
        }
    }
    if diags.has_errors() {
        return Err(diags);
    }

    let data_variants = |accs: &[Acc]| -> Vec<VariantData> {
        plan.variants
            .iter()
            .zip(accs)
            .map(|(variant, acc)| VariantData {
                name: variant.name.clone(),
                units: acc.rows,
                metrics: layout
                    .metric_values
                    .iter()
                    .zip(&plan.metrics)
                    .map(|(columns, metric)| metric_data(layout, acc, metric, columns))
                    .collect(),
            })
            .collect()
    };
    Ok(Data {
        variants: data_variants(&accs),
        looks: cumulative
            .iter()
            .map(|(label, accs)| Look {
                label: label.clone(),
                variants: data_variants(accs),
            })
            .collect(),
        assignment: match units {
            Some(units) if units.over(&layout.unit_budget) => {
                return Err(too_many_unit_rows(layout).into());
            }
            Some(units) => Some(
                assignment(layout, units.count())
                    .map_err(|err| unreadable(plan, &layout.path, err))?,
            ),
            None => None,
        },
        row_level: Some(RowLevel {
            zeroed: if layout.missing_zero {
                layout
                    .values
                    .iter()
                    .zip(zeroed)
                    .map(|(column, cells)| ZeroedCells {
                        column: column.name.clone(),
                        cells,
                    })
                    .collect()
            } else {
                Vec::new()
            },
        }),
    })
}

/// Problems of the looks of row-level data, sorted by look: looks of
/// different kinds (an integer and a date), and a variant without rows up to
/// a look (its cumulative statistics there would be empty).
fn look_problems(
    plan: &Plan,
    layout: &Layout,
    looks: &[(LookKey, String, Vec<Acc>)],
) -> Diagnostics {
    let mut diags = Diagnostics::new();
    // INVARIANT: `look_column` is set when looks are read.
    let column = layout.look_column.unwrap_or(layout.variant_column);
    let header = layout.header_names[column].1;
    if let Some(((a, a_label, _), (b, b_label, _))) = looks
        .iter()
        .zip(looks.iter().skip(1))
        .find(|((a, _, _), (b, _, _))| !a.same_kind(*b))
    {
        diags.push(
            Diagnostic::error(
                "xos::data::bad_look",
                format!(
                    "look `{a_label}` is {} but look `{b_label}` is {}",
                    a.kind(),
                    b.kind()
                ),
            )
            .in_file(&layout.header)
            .label(header, "looks of two kinds in this column")
            .help("looks are ordered by value, so every look must be of the same kind"),
        );
        return diags;
    }
    // Cumulative rows only grow: a variant with rows at the first look has
    // rows at every look.
    if let Some((_, label, accs)) = looks.first() {
        for (variant, acc) in plan.variants.iter().zip(accs) {
            if acc.rows > 0 {
                continue;
            }
            diags.push(
                Diagnostic::error(
                    "xos::data::absent_variant",
                    format!("variant `{}` has no rows at look `{label}`", variant.name),
                )
                .in_file(&layout.header)
                .label(header, format!("the first look, `{label}`, has no row of `{}`", variant.name))
                .help("every variant needs units from the first look on; drop the looks before its first unit, or check the export"),
            );
        }
    }
    diags
}

/// One metric's statistics from a variant's accumulators: the same
/// [`MetricData`] the aggregated loader reads from that variant's row.
fn metric_data(layout: &Layout, acc: &Acc, metric: &Metric, columns: &MetricValues) -> MetricData {
    let (sum_x, sum_x_sq) = acc.moments(layout, columns.x);
    if let Some((y, product)) = columns.y {
        let (sum_y, sum_y_sq) = acc.moments(layout, y);
        return MetricData::Ratio {
            sum_x,
            sum_x_sq,
            sum_y,
            sum_y_sq,
            sum_xy: acc.products[product].value(),
        };
    }
    if let Some((c, product)) = columns.c {
        let (sum_c, sum_c_sq) = acc.moments(layout, c);
        return MetricData::Adjusted {
            rate: metric.kind.is_rate(),
            sum_y: sum_x,
            sum_y_sq: sum_x_sq,
            sum_c,
            sum_c_sq,
            sum_yc: acc.products[product].value(),
        };
    }
    match metric.kind {
        MetricKind::Rate { .. } => MetricData::Rate {
            count: acc.ones[columns.x],
        },
        _ => MetricData::Mean {
            sum: sum_x,
            sum_sq: sum_x_sq,
        },
    }
}

/// The counts, with the example ids read back from the lines they start.
/// More rows than the `unit_id` check may hold: located at the unit column
/// of the header.
fn too_many_unit_rows(layout: &Layout) -> Diagnostic {
    let max = layout.unit_budget.max();
    let span = layout
        .roles
        .iter()
        .position(|role| matches!(role, Role::Unit))
        .map_or(Span::new(0, 0), |column| layout.header_names[column].1);
    Diagnostic::error(
        "xos::data::too_many_unit_rows",
        format!(
            "the `unit_id` check holds at most {} rows ({} MB), and the file has more",
            crate::numbers::thousands(max),
            max.saturating_mul(24) / 1_000_000
        ),
    )
    .in_file(&layout.header)
    .label(
        span,
        "the unit id of every row is kept to find mixed and duplicated units",
    )
    .help(format!(
        "raise the bound with `XOS_MAX_UNIT_ID_ROWS` (24 bytes a row, and half as much again \
         while the check sorts them; now {max}), split the file, or remove `unit_id` from the \
         data block for a run that does not need the check"
    ))
}

fn assignment(layout: &Layout, counted: Counted) -> io::Result<Assignment> {
    Ok(Assignment {
        units: counted.units,
        mixed: counted.mixed,
        duplicated: counted.duplicated,
        mixed_examples: ids_at(layout, &counted.mixed_at)?,
        duplicated_examples: ids_at(layout, &counted.duplicated_at)?,
    })
}

/// The unit ids of the lines starting at `offsets` (ascending): a seek per
/// line in a plain file, one more pass through a gzip stream.
fn ids_at(layout: &Layout, offsets: &[u64]) -> io::Result<Vec<String>> {
    let column = layout.roles.iter().position(|r| *r == Role::Unit);
    let id = |line: Vec<u8>| -> String {
        let line = String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(&line)).into_owned();
        column
            .and_then(|c| split_header(&line, layout.delimiter).into_iter().nth(c))
            .map_or_else(String::new, |(id, _)| id)
    };
    let mut ids = Vec::with_capacity(offsets.len());
    if offsets.is_empty() {
        return Ok(ids);
    }
    let mut file = File::open(&layout.path)?;
    if layout.gzip {
        let mut input = Buffered::new(MultiGzDecoder::new(file), 64 * 1024, 0);
        for &offset in offsets {
            while input.offset() < offset && input.skip_line()? {}
            ids.push(id(input.read_line()?));
        }
    } else {
        for &offset in offsets {
            file.seek(SeekFrom::Start(offset))?;
            ids.push(id(Buffered::new(&file, 4096, offset).read_line()?));
        }
    }
    Ok(ids)
}

/// Variant labels that differ from the spec's only in case, over `rows`
/// rows: one error, at the first of them.
fn case_only_diagnostic(
    plan: &Plan,
    source: &Arc<SourceFile>,
    span: Span,
    rows: u64,
    labels: &[(String, usize)],
) -> Diagnostic {
    let pairs: Vec<String> = labels
        .iter()
        .map(|(label, variant)| {
            format!(
                "`{}` for `{}`",
                crate::text::token(label),
                plan.variants[*variant].name
            )
        })
        .collect();
    super::case_only_labels(source, span, rows, &pairs)
}

fn bad_row_diagnostic(
    plan: &Plan,
    layout: &Layout,
    source: &Arc<SourceFile>,
    line: u64,
    row: &BadRow,
) -> Diagnostic {
    let value_name = |value: usize| layout.values[value].name.as_str();
    let readers = |value: usize| -> String {
        let names: Vec<&str> = plan
            .metrics
            .iter()
            .zip(&layout.metric_values)
            .filter(|(_, v)| v.reads(value))
            .map(|(m, _)| m.name.as_str())
            .collect();
        match names.as_slice() {
            [one] => format!("metric `{one}` reads it"),
            _ => format!("metrics {} read it", list(&names)),
        }
    };
    let declared: Vec<&str> = plan.variants.iter().map(|v| v.name.as_str()).collect();
    let diag = match &row.problem {
        Problem::Ragged { fields } => Diagnostic::error(
            "xos::data::ragged_row",
            format!(
                "line {line} has {} but the header has {}",
                crate::text::counted(*fields, "field"),
                layout.roles.len()
            ),
        )
        .label(row.span, crate::text::counted(*fields, "field"))
        .help(
            if *fields == layout.roles.len() + 1
                && row.text.trim_end().ends_with(layout.delimiter as char)
            {
                "the row ends with a separator the header does not have: remove the trailing one"
            } else if bare_cr(row.text.as_bytes()).is_some() {
                // Mixed line endings: a lone CR joins two rows into one.
                "the line holds a carriage return with no line feed after it (shown as `?`), \
                 which ends a line only in classic Mac OS files: two rows were read as one; \
                 save the file again with LF or CRLF line endings throughout"
            } else {
                "every row needs one value per header column; check for a missing or extra separator"
            },
        ),
        // Reported together by `case_only_diagnostic`.
        Problem::CaseOnly { label, .. } | Problem::UnknownVariant { label } => {
            let diag = Diagnostic::error(
                "xos::data::unknown_variant",
                format!("variant `{}` on line {line} is not declared in the spec", crate::text::token(label)),
            )
            .label(row.span, "unknown variant");
            match did_you_mean(label, declared.iter().copied()) {
                Some(close) => diag.help(format!("did you mean `{close}`?")),
                None => diag.help(format!("the spec declares {}", list(&declared))),
            }
        }
        Problem::MissingVariant => Diagnostic::error(
            "xos::data::missing_value",
            format!("line {line} has no variant"),
        )
        .label(row.span, "empty")
        .help(format!(
            "every row needs its variant in `{}`",
            plan.data.variant_column
        )),
        Problem::MissingUnit => Diagnostic::error(
            "xos::data::missing_value",
            format!("line {line} has no unit id"),
        )
        .label(row.span, "empty")
        .help(format!(
            "every row needs its unit in `{}`",
            layout.unit_id.as_deref().unwrap_or_default()
        )),
        Problem::MissingValue { value, written } => Diagnostic::error(
            "xos::data::missing_value",
            match written {
                None => format!("`{}` on line {line} is empty", value_name(*value)),
                Some(marker) => format!(
                    "`{}` on line {line} is `{marker}`, a missing value",
                    value_name(*value)
                ),
            },
        )
        .label(row.span, if written.is_some() { "missing value" } else { "empty value" })
        .help(format!(
            "{}; declare `missing zero` in the data block to count empty, `NULL` and `NA` values as 0",
            readers(*value)
        )),
        Problem::NotANumber { value, text } => Diagnostic::error(
            "xos::data::not_a_number",
            format!(
                "`{}` on line {line} must be a finite number, found `{}`",
                value_name(*value),
                crate::text::token(text)
            ),
        )
        .label(row.span, "not a number")
        .help(readers(*value)),
        Problem::NotBinary { value, text } => Diagnostic::error(
            "xos::data::not_binary",
            format!(
                "`{}` on line {line} must be 0 or 1, found `{}`",
                value_name(*value),
                crate::text::token(text)
            ),
        )
        .label(row.span, "not 0 or 1")
        .help(format!(
            "{}; a rate reads one 0/1 (or `true`/`false`) value per unit",
            readers(*value)
        )),
        Problem::BadLook { text } => Diagnostic::error(
            "xos::data::bad_look",
            format!("`{}` on line {line} is not a look", crate::text::token(text)),
        )
        .label(row.span, "not an integer, a date or a date and time")
        .help(LOOK_FORMATS),
        Problem::Quote { text } => Diagnostic::error(
            "xos::data::malformed",
            format!("line {line} cannot be read: {text}"),
        )
        .label(row.span, "here")
        .help("quoted values may hold commas and doubled quotes (`\"\"`), but not line breaks"),
    };
    diag.in_file(source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_float_path_matches_the_standard_library() {
        for text in [
            "0",
            "1",
            "-0",
            "12.5",
            "0.1",
            "3.14159",
            "-2.75",
            "123456789.123456789",
            ".5",
            "5.",
            "9007199254740993",
            "1e3",
            "1.5E-7",
            "inf",
            "NaN",
            "",
            ".",
            "-",
            "+1.25",
            "0.00000000000000000000001",
        ] {
            let ours = parse_f64(text.as_bytes());
            let std = text.parse::<f64>().ok().filter(|x| x.is_finite());
            assert_eq!(ours.map(f64::to_bits), std.map(f64::to_bits), "{text}");
        }
    }

    proptest::proptest! {
        #[test]
        fn fast_float_path_agrees_on_any_decimal(
            text in "[+-]?[0-9]{0,22}(\\.[0-9]{0,22})?([eE][+-]?[0-9]{1,3})?"
        ) {
            let ours = parse_f64(text.as_bytes());
            let std = text.parse::<f64>().ok().filter(|x| x.is_finite());
            proptest::prop_assert_eq!(ours.map(f64::to_bits), std.map(f64::to_bits));
        }
    }

    #[test]
    fn compensated_sums_keep_every_digit() {
        let mut sum = Sum::default();
        let mut naive = 0.0;
        for _ in 0..10_000_000 {
            sum.add(0.1);
            naive += 0.1;
        }
        assert_eq!(sum.value(), 1_000_000.0);
        assert!((naive - 1_000_000.0f64).abs() > 1e-6);

        let mut big = Sum::default();
        big.add(1e16);
        for _ in 0..1000 {
            big.add(1.0);
        }
        assert_eq!(big.value(), 1e16 + 1000.0);
    }

    #[test]
    fn merged_sums_equal_one_sum() {
        let values: Vec<f64> = (0..1000).map(|i| (i as f64 * 0.37).sin() * 1e3).collect();
        let mut whole = Sum::default();
        values.iter().for_each(|x| whole.add(*x));
        let (left, right) = values.split_at(377);
        let mut a = Sum::default();
        let mut b = Sum::default();
        left.iter().for_each(|x| a.add(*x));
        right.iter().for_each(|x| b.add(*x));
        a.merge(b);
        assert!((a.value() - whole.value()).abs() <= f64::EPSILON * whole.value().abs());
    }

    #[test]
    fn fields_honour_quotes_and_line_ends() {
        let field = |data: &str, eof| match scan_field(data.as_bytes(), 0, eof, b',') {
            Scanned::Field(f) => Some((data[f.start..f.end].to_string(), f.next, f.escaped)),
            _ => None,
        };
        assert_eq!(field("ab,c", false), Some(("ab".into(), 2, false)));
        assert_eq!(field("ab", false), None);
        assert_eq!(field("ab", true), Some(("ab".into(), 2, false)));
        assert_eq!(field("\"a,b\",c", false), Some(("a,b".into(), 5, false)));
        assert_eq!(
            field("\"a\"\"b\"\r\nx", false),
            Some(("a\"\"b".into(), 7, true))
        );
        assert!(matches!(
            scan_field(b"\"ab\ncd\"\n", 0, false, b','),
            Scanned::Bad(..)
        ));
        assert!(matches!(
            scan_field(b"\"ab\"x,", 0, false, b','),
            Scanned::Bad(..)
        ));
        assert_eq!(unescape(b"a\"\"b"), b"a\"b");
    }

    #[test]
    fn delimiters_are_found_eight_bytes_at_a_time() {
        let naive = |data: &[u8], i: usize| {
            data[i..]
                .iter()
                .position(|&b| b == b',' || b == b'\n')
                .map_or(data.len(), |p| i + p)
        };
        let mut state = 1u64;
        for len in 0..40 {
            for _ in 0..200 {
                let data: Vec<u8> = (0..len)
                    .map(|_| {
                        state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                        [b',', b'\n', b'\x01', b'+', b'\x0b', b'-', 0, 255][(state >> 61) as usize]
                    })
                    .collect();
                for i in 0..=len {
                    assert_eq!(
                        find_delimiter(&data, i, b','),
                        naive(&data, i),
                        "{data:?} from {i}"
                    );
                }
            }
        }
    }

    #[test]
    fn binary_values() {
        assert_eq!(parse_binary(b"1"), Some(1.0));
        assert_eq!(parse_binary(b"TRUE"), Some(1.0));
        assert_eq!(parse_binary(b"false"), Some(0.0));
        assert_eq!(parse_binary(b"2"), None);
        assert_eq!(parse_binary(b"1.0"), None);
    }

    #[test]
    fn ranges_cover_the_body_once() {
        let split = Split {
            threads: 2,
            range_bytes: 7,
            buffer_bytes: 64,
        };
        let r = ranges(10, 30, split);
        assert_eq!(r, vec![(10, 17), (17, 24), (24, 30)]);
        assert!(ranges(10, 10, split).is_empty());
    }
}
