//! The aggregated export: one row per variant with the units and, per
//! metric, a count (`rate(X)` reads `X`) or the sums of a value and of its
//! square (`mean(X)` reads `X_sum`, `X_sum_sq`).

use std::collections::HashMap;
use std::sync::Arc;

use super::looks::{LOOK_FORMATS, LookKey, parse_look};
use super::{Assignment, Data, Look, MetricData, VariantData, list, missing_column};
use crate::diagnostic::{Diagnostic, Diagnostics, SourceFile, Span, did_you_mean};
use crate::plan::{Metric, MetricKind, Plan, aggregated_columns};
use crate::sql::{UNITS_DISTINCT, UNITS_DUPLICATED, UNITS_MIXED};

/// One column the spec needs: which header, and which metric needs it.
struct Need {
    header: String,
    metric: Option<String>,
}

/// Validates an aggregated CSV against the plan.
pub fn parse_aggregated(plan: &Plan, source: &Arc<SourceFile>) -> Result<Data, Diagnostics> {
    let mut diags = Diagnostics::new();
    let text = source.text.as_str();
    // A byte-order mark alone is no header.
    if text.trim_start_matches('\u{feff}').trim().is_empty() {
        return Err(
            Diagnostic::error("xos::data::empty", "the data file is empty")
                .in_file(source)
                .label(Span::new(0, 0), "no header and no rows")
                .help(format!(
                    "expected a header such as `{},{},...` and one row per variant",
                    plan.data.variant_column, plan.data.units_column
                ))
                .into(),
        );
    }

    let mut records = Vec::new();
    // The header and at most this many rows: the file has one per variant.
    let max_rows = crate::limits::max_aggregated_rows();
    for record in super::records::records(text, plan.data.delimiter) {
        if records.len() as u64 > max_rows {
            let offset = record_start(&record);
            return Err(Diagnostic::error(
                "xos::data::too_many_rows",
                format!("more than {max_rows} rows in an aggregated file"),
            )
            .in_file(source)
            .label(Span::new(offset, line_end(text, offset)), "this row is over the limit")
            .help("an aggregated file has one row per variant; for one row per unit declare `shape rows` in the data block (XOS_MAX_AGGREGATED_ROWS changes the limit)")
            .into());
        }
        records.push(record);
    }
    let Some(header) = records.first() else {
        // Text the CSV reader finds no record in (only line breaks and
        // blanks it skips): the whole file is the problem.
        return Err(
            Diagnostic::error("xos::data::empty", "the data file is empty")
                .in_file(source)
                .label(Span::new(0, text.len()), "no header and no rows")
                .into(),
        );
    };
    let header_start = record_start(header);
    let delimiter = plan.data.delimiter;
    let header_spans = field_spans(text, header_start, delimiter);
    // A byte-order mark (spreadsheet exports add one) is not part of the name.
    let names: Vec<String> = header
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
        .collect();

    // Duplicate column names make "which one?" ambiguous.
    let mut columns: HashMap<&str, usize> = HashMap::new();
    for (i, name) in names.iter().enumerate() {
        if let Some(&first) = columns.get(name.as_str()) {
            diags.push(
                Diagnostic::error(
                    "xos::data::duplicate_column",
                    format!("column `{}` appears twice", crate::text::token(name)),
                )
                .in_file(source)
                .label(
                    span_at(&header_spans, i, header_start),
                    "second column with this name",
                )
                .secondary(
                    span_at(&header_spans, first, header_start),
                    "first defined here",
                ),
            );
        } else {
            columns.insert(name.as_str(), i);
        }
    }

    // Every column the spec needs, and the metric that needs it.
    let mut needs = vec![
        Need {
            header: plan.data.variant_column.clone(),
            metric: None,
        },
        Need {
            header: plan.data.units_column.clone(),
            metric: None,
        },
    ];
    if let Some(look) = &plan.data.look {
        needs.push(Need {
            header: look.clone(),
            metric: None,
        });
    }
    for metric in &plan.metrics {
        needs.extend(aggregated_columns(metric).into_iter().map(|header| Need {
            header,
            metric: Some(metric.name.clone()),
        }));
    }
    let header_line = Span::new(header_start, line_end(text, header_start));
    if let Some(diag) = super::wrong_delimiter(source, header_line, &names, plan.data.delimiter) {
        return Err(diag.into());
    }
    let mut missing = false;
    for need in &needs {
        if columns.contains_key(need.header.as_str()) {
            continue;
        }
        missing = true;
        let why = match &need.metric {
            Some(metric) => format!("metric `{metric}` reads it"),
            None if need.header == plan.data.variant_column => {
                "it names each row's variant".to_string()
            }
            None if need.header == plan.data.units_column => {
                "it holds each variant's units".to_string()
            }
            None => "the spec's `look` says it names each row's look".to_string(),
        };
        // The variant and units columns can be renamed in the spec.
        let renamed_by = match &need.metric {
            Some(_) => None,
            None if need.header == plan.data.variant_column => Some("variant_column"),
            None if plan.data.look.as_deref() == Some(need.header.as_str()) => None,
            None => Some("units"),
        };
        diags.push(missing_column(
            source,
            header_line,
            &need.header,
            &why,
            &names,
            renamed_by,
        ));
    }
    let label_rows = columns
        .get(plan.data.variant_column.as_str())
        .map(|&col| label_rows(&records[1..], col))
        .unwrap_or_default();
    if missing {
        // A per-unit export read as aggregated lacks the units and sum
        // columns; its repeated labels say what it really is.
        if let Some(&variant_col) = columns.get(plan.data.variant_column.as_str())
            && let Some(hint) =
                looks_like_rows(source, &records[1..], &label_rows, variant_col, delimiter)
        {
            diags.push(hint);
        }
        return Err(diags);
    }
    let col = |name: &str| columns[name];
    let variant_col = col(&plan.data.variant_column);
    let units_col = col(&plan.data.units_column);
    let look_col = plan.data.look.as_deref().map(col);

    // Optional assignment counts (`xos sql` writes them for a `unit_id`):
    // distinct, mixed and duplicated units, summed over the rows.
    let unit_columns = [UNITS_DISTINCT, UNITS_MIXED, UNITS_DUPLICATED]
        .map(|name| columns.get(name).map(|&col| (col, name)));
    let declared: Vec<&str> = plan.variants.iter().map(|v| v.name.as_str()).collect();
    // One group of rows per look (one group without a look column).
    let mut groups: Vec<Group> = Vec::new();
    if look_col.is_none() {
        groups.push(Group::new(
            None,
            String::new(),
            Span::default(),
            declared.len(),
        ));
    }
    let mut in_bad_row = vec![false; plan.variants.len()];
    let mut case_only: Vec<(Span, String)> = Vec::new();
    if records.len() == 1 {
        diags.push(no_rows(source, header_line, "variant", &declared));
        return Err(diags);
    }

    for record in &records[1..] {
        let start = record_start(record);
        let spans = field_spans(text, start, delimiter);
        let row_span = Span::new(start, line_end(text, start));
        if record.len() == 1 && record.get(0).is_some_and(|f| f.trim().is_empty()) {
            continue; // a blank line
        }
        if record.len() != names.len() {
            // The row's variant is there, even if its row is bad: it is
            // not also reported absent.
            let label = record.get(variant_col).unwrap_or("").trim();
            if let Some(index) = declared.iter().position(|d| *d == label) {
                in_bad_row[index] = true;
            }
            let trailing = record.len() == names.len() + 1
                && record.get(names.len()).is_some_and(|f| f.trim().is_empty());
            diags.push(
                Diagnostic::error(
                    "xos::data::ragged_row",
                    format!("this row has {} but the header has {}", crate::text::counted(record.len(), "field"), names.len()),
                )
                .in_file(source)
                .label(row_span, crate::text::counted(record.len(), "field"))
                .help(if trailing {
                    "the row ends with a separator the header does not have: remove the trailing one"
                } else {
                    "every row needs one value per header column; check for a missing or extra separator"
                }),
            );
            continue;
        }
        let field = |i: usize| {
            (
                record.get(i).unwrap_or("").trim(),
                span_at(&spans, i, start),
            )
        };

        let (label, label_span) = field(variant_col);
        if !declared.contains(&label)
            && let Some(index) = declared.iter().position(|d| d.eq_ignore_ascii_case(label))
        {
            // Reported once for the whole file, after the rows.
            in_bad_row[index] = true;
            case_only.push((
                label_span,
                format!("`{}` for `{}`", crate::text::token(label), declared[index]),
            ));
            continue;
        }
        let group = match look_col {
            None => 0,
            Some(col) => {
                let (text, span) = field(col);
                match look_group(source, &mut groups, text, span, declared.len()) {
                    Ok(g) => g,
                    Err(diag) => {
                        diags.push(diag);
                        continue;
                    }
                }
            }
        };
        let Group {
            rows,
            repeated,
            unit_counts,
            total_units,
            ..
        } = &mut groups[group];
        let Some(index) = declared.iter().position(|d| *d == label) else {
            let mut diag = Diagnostic::error(
                "xos::data::unknown_variant",
                format!(
                    "variant `{}` is not declared in the spec",
                    crate::text::token(label)
                ),
            )
            .in_file(source)
            .label(label_span, "unknown variant");
            diag = match did_you_mean(label, declared.iter().copied()) {
                Some(close) => diag.help(format!("did you mean `{close}`?")),
                None => diag.help(format!("the spec declares {}", list(&declared))),
            };
            diags.push(diag);
            continue;
        };
        if let Some(first) = &rows[index] {
            // One diagnostic per repeated label, not one per extra row.
            if std::mem::replace(&mut repeated[index], true) {
                continue;
            }
            let count = label_rows.get(label).copied().unwrap_or(2);
            let count = if look_col.is_some() {
                "more than one".to_string()
            } else if count == 2 {
                "two".to_string()
            } else {
                count.to_string()
            };
            let at = match look_col {
                Some(col) => format!(" at look `{}`", field(col).0),
                None => String::new(),
            };
            diags.push(
                Diagnostic::error(
                    "xos::data::duplicate_variant",
                    format!("variant `{label}` has {count} rows{at}"),
                )
                .in_file(source)
                .label(label_span, "second row")
                .secondary(first.label, "first row")
                .help(
                    "aggregated data has one row per variant; for one row per unit, \
                         declare `data \"…\" { shape rows }`",
                ),
            );
            continue;
        }

        let mut ok = true;
        let (units_text, units_span) = field(units_col);
        let units = match parse_count(units_text) {
            Some(0) => {
                diags.push(
                    Diagnostic::error("xos::data::zero_units", format!("variant `{label}` has zero units"))
                        .in_file(source)
                        .label(units_span, "0 units")
                        .help("a variant with no units cannot be compared; remove it from the spec or fix the export"),
                );
                ok = false;
                0
            }
            Some(n) => n,
            None => {
                diags.push(not_a_count(
                    source,
                    units_span,
                    units_text,
                    &plan.data.units_column,
                ));
                ok = false;
                0
            }
        };

        let cells = Cells {
            source,
            field: &field,
            columns: &columns,
            label,
            units,
        };
        let mut metrics = Vec::with_capacity(plan.metrics.len());
        for metric in &plan.metrics {
            match cells.metric(plan, metric, &mut diags) {
                Some(data) => metrics.push(data),
                None => ok = false,
            }
        }
        for (column, count) in unit_columns.iter().zip(unit_counts.iter_mut()) {
            let Some((col, name)) = column else { continue };
            let (text, span) = field(*col);
            match parse_count(text) {
                Some(n) => *count += n,
                None => {
                    diags.push(super::input::not_a_unit_count(source, span, text, name));
                    ok = false;
                }
            }
        }
        *total_units += units;
        // Each rate's count and its cell, for the cumulative check (only
        // when every metric was read, so `metrics` lines up with the plan's).
        let counts = plan
            .metrics
            .iter()
            .zip(&metrics)
            .filter(|_| ok)
            .filter_map(|(metric, data)| {
                let count = match *data {
                    MetricData::Rate { count } => count,
                    MetricData::Adjusted {
                        rate: true, sum_y, ..
                    } => sum_y as u64,
                    _ => return None,
                };
                let column = metric.kind.column();
                Some((column.to_string(), count, cells.cell(column).1))
            })
            .collect();
        // An invalid row still marks the variant as present, so it is not
        // also reported absent.
        rows[index] = Some(Row {
            data: VariantData {
                name: label.to_string(),
                units: if ok { units } else { 0 },
                metrics: if ok { metrics } else { Vec::new() },
            },
            valid: ok,
            label: label_span,
            units: units_span,
            counts,
        });
    }

    if let Some((span, _)) = case_only.first() {
        let pairs: Vec<String> = case_only.iter().map(|(_, pair)| pair.clone()).collect();
        diags.push(super::case_only_labels(
            source,
            *span,
            case_only.len() as u64,
            &pairs,
        ));
    }
    let variant_header = span_at(&header_spans, variant_col, header_start);
    for group in &groups {
        for (index, (variant, row)) in plan.variants.iter().zip(&group.rows).enumerate() {
            if row.is_some() || in_bad_row[index] {
                continue;
            }
            diags.push(match &group.key {
                None => Diagnostic::error(
                    "xos::data::absent_variant",
                    format!(
                        "variant `{}` is declared in the spec but has no row",
                        variant.name
                    ),
                )
                .in_file(source)
                .label(
                    variant_header,
                    format!("no row has `{}` here", variant.name),
                )
                .help("add its row to the export, or remove the variant from the spec"),
                Some(_) => Diagnostic::error(
                    "xos::data::absent_variant",
                    format!(
                        "variant `{}` has no row at look `{}`",
                        variant.name, group.label
                    ),
                )
                .in_file(source)
                .label(group.first, format!("look `{}` starts here", group.label))
                .help(
                    "with `look`, every look needs one row per variant with its cumulative \
                     units and sums; add the missing row or drop the look",
                ),
            });
        }
    }
    if groups.is_empty() && !diags.has_errors() {
        // Only blank lines after the header.
        diags.push(no_rows(source, header_line, "look and variant", &declared));
    }
    groups.sort_by_key(|g| g.key);
    for diag in decreasing_units(source, &groups) {
        diags.push(diag);
    }

    if diags.has_errors() {
        return Err(diags);
    }
    let (unit_counts, total_units) = groups
        .last()
        .map_or(([0; 3], 0), |g| (g.unit_counts, g.total_units));
    let mut looks: Vec<Look> = groups
        .into_iter()
        .map(|g| Look {
            label: g.label,
            variants: g.rows.into_iter().flatten().map(|r| r.data).collect(),
        })
        .collect();
    let variants = looks.last().map(|l| l.variants.clone()).unwrap_or_default();
    if look_col.is_none() {
        looks.clear();
    }
    // Without `units_distinct`, shares are of the units column's total.
    let assignment = (unit_columns[1].is_some() || unit_columns[2].is_some()).then(|| Assignment {
        units: if unit_columns[0].is_some() {
            unit_counts[0]
        } else {
            total_units
        },
        mixed: unit_counts[1],
        duplicated: unit_counts[2],
        mixed_examples: Vec::new(),
        duplicated_examples: Vec::new(),
    });
    Ok(Data {
        variants,
        assignment,
        looks,
        row_level: None,
    })
}

/// A header without rows; `per` says what needs a row (`variant`).
fn no_rows(
    source: &Arc<SourceFile>,
    header_line: Span,
    per: &str,
    declared: &[&str],
) -> Diagnostic {
    Diagnostic::error(
        "xos::data::no_rows",
        "the data file has a header but no rows",
    )
    .in_file(source)
    .label(header_line, "header only")
    .help(format!("add one row per {per}: {}", list(declared)))
}

/// One variant's row at one look.
#[derive(Clone)]
struct Row {
    data: VariantData,
    /// Its cells are valid.
    valid: bool,
    label: Span,
    units: Span,
    /// Each rate metric's column, count and cell.
    counts: Vec<(String, u64, Span)>,
}

/// The rows of one look (all rows without a look column).
struct Group {
    key: Option<LookKey>,
    /// The look as written.
    label: String,
    /// The look cell of its first row.
    first: Span,
    /// Indexed by the plan's variants.
    rows: Vec<Option<Row>>,
    repeated: Vec<bool>,
    /// `units_distinct`, `units_mixed`, `units_duplicated` summed over its rows.
    unit_counts: [u64; 3],
    total_units: u64,
}

impl Group {
    fn new(key: Option<LookKey>, label: String, first: Span, variants: usize) -> Group {
        Group {
            key,
            label,
            first,
            rows: vec![None; variants],
            repeated: vec![false; variants],
            unit_counts: [0; 3],
            total_units: 0,
        }
    }
}

/// The group of the look written `text` (created at its first row), or the
/// diagnostic of a look value that does not parse or is of another kind than
/// the file's first look.
fn look_group(
    source: &Arc<SourceFile>,
    groups: &mut Vec<Group>,
    text: &str,
    span: Span,
    variants: usize,
) -> Result<usize, Diagnostic> {
    let Some(key) = parse_look(text) else {
        let shown = if text.is_empty() {
            "an empty cell".to_string()
        } else {
            format!("`{}`", crate::text::token(text))
        };
        return Err(
            Diagnostic::error("xos::data::bad_look", format!("{shown} is not a look"))
                .in_file(source)
                .label(span, "not an integer, a date or a date and time")
                .help(LOOK_FORMATS),
        );
    };
    if let Some(first) = groups.first()
        && let Some(first_key) = first.key
        && !first_key.same_kind(key)
    {
        return Err(Diagnostic::error(
            "xos::data::bad_look",
            format!(
                "look `{text}` is {}, but the first look is {}",
                key.kind(),
                first_key.kind()
            ),
        )
        .in_file(source)
        .label(span, key.kind())
        .secondary(first.first, format!("the first look, {}", first_key.kind()))
        .help("looks are ordered by value, so every look must be of the same kind"));
    }
    if let Some(i) = groups.iter().position(|g| g.key == Some(key)) {
        return Ok(i);
    }
    groups.push(Group::new(Some(key), text.to_string(), span, variants));
    Ok(groups.len() - 1)
}

/// Cumulative units that go down from one look to the next: each look's row
/// holds the units up to that look, so they never decrease.
fn decreasing_units(source: &Arc<SourceFile>, groups: &[Group]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for pair in groups.windows(2) {
        let (before, after) = (&pair[0], &pair[1]);
        for (a, b) in before.rows.iter().zip(&after.rows) {
            let (Some(a), Some(b)) = (a, b) else { continue };
            if !a.valid || !b.valid {
                continue;
            }
            for ((column, before_count, before_span), (_, count, span)) in
                a.counts.iter().zip(&b.counts)
            {
                if count >= before_count {
                    continue;
                }
                out.push(
                    Diagnostic::error(
                        "xos::data::decreasing_units",
                        format!(
                            "`{column}` of `{}` is {} at look `{}`, less than the {} at look `{}`",
                            b.data.name,
                            crate::numbers::thousands(*count),
                            after.label,
                            crate::numbers::thousands(*before_count),
                            before.label
                        ),
                    )
                    .in_file(source)
                    .label(*span, format!("less than at look `{}`", before.label))
                    .secondary(*before_span, format!("look `{}`", before.label))
                    .help(
                        "with `look`, each row holds the cumulative counts up to its look, \
                         which never go down; sum a daily export over the days up to each look",
                    ),
                );
            }
            if b.data.units >= a.data.units {
                continue;
            }
            out.push(
                Diagnostic::error(
                    "xos::data::decreasing_units",
                    format!(
                        "variant `{}` has {} at look `{}`, fewer than the {} at look `{}`",
                        b.data.name,
                        crate::numbers::units(b.data.units),
                        after.label,
                        crate::numbers::thousands(a.data.units),
                        before.label
                    ),
                )
                .in_file(source)
                .label(b.units, format!("fewer than at look `{}`", before.label))
                .secondary(a.units, format!("look `{}`", before.label))
                .help(
                    "with `look`, each row holds the cumulative units and sums up to its look; \
                     sum a daily export over the days up to each look",
                ),
            );
        }
    }
    out
}

/// The cells of one valid-looking row of an aggregated file, for reading a
/// metric's columns with located diagnostics.
struct Cells<'a, F: Fn(usize) -> (&'a str, Span)> {
    source: &'a Arc<SourceFile>,
    field: &'a F,
    columns: &'a HashMap<&'a str, usize>,
    label: &'a str,
    /// 0 when the units cell is invalid (then bounds are not checked).
    units: u64,
}

impl<'a, F: Fn(usize) -> (&'a str, Span)> Cells<'a, F> {
    fn cell(&self, column: &str) -> (&'a str, Span) {
        // INVARIANT: every column the plan needs is in the header (checked
        // before any row is read).
        (self.field)(self.columns[column])
    }

    /// The metric's statistics on this row; `None` after reporting what is
    /// wrong with them.
    fn metric(&self, plan: &Plan, metric: &Metric, diags: &mut Diagnostics) -> Option<MetricData> {
        let x = metric.kind.column();
        let (sum_y, sum_y_sq) = match &metric.kind {
            MetricKind::Rate { column } => {
                let count = self.count(plan, column, diags)? as f64;
                (count, count)
            }
            MetricKind::Mean { column } => self.moments(column, diags)?,
            MetricKind::Ratio {
                numerator,
                denominator,
            } => {
                let x = self.moments(numerator, diags);
                let y = self.moments(denominator, diags);
                let xy = self.cross(numerator, x, denominator, y, diags)?;
                let ((sum_x, sum_x_sq), (sum_y, sum_y_sq)) = (x?, y?);
                return Some(MetricData::Ratio {
                    sum_x,
                    sum_x_sq,
                    sum_y,
                    sum_y_sq,
                    sum_xy: xy,
                });
            }
        };
        let Some(c) = &metric.covariate else {
            return Some(match metric.kind {
                MetricKind::Rate { .. } => MetricData::Rate {
                    count: sum_y as u64,
                },
                _ => MetricData::Mean {
                    sum: sum_y,
                    sum_sq: sum_y_sq,
                },
            });
        };
        let moments_c = self.moments(c, diags);
        let sum_yc = self.cross(x, Some((sum_y, sum_y_sq)), c, moments_c, diags)?;
        let (sum_c, sum_c_sq) = moments_c?;
        Some(MetricData::Adjusted {
            rate: metric.kind.is_rate(),
            sum_y,
            sum_y_sq,
            sum_c,
            sum_c_sq,
            sum_yc,
        })
    }

    /// `rate(X)`: a count of units, at most the units.
    fn count(&self, plan: &Plan, column: &str, diags: &mut Diagnostics) -> Option<u64> {
        let (value, span) = self.cell(column);
        let units = self.units;
        match parse_count(value) {
            Some(count) if units > 0 && count > units => {
                diags.push(
                    Diagnostic::error(
                        "xos::data::count_above_units",
                        format!(
                            "`{column}` is {count}, more than the {units} units of `{}`",
                            self.label
                        ),
                    )
                    .in_file(self.source)
                    .label(span, format!("above {units}"))
                    .help(format!(
                        "`rate({column})` counts units with the event, so it cannot exceed `{}`",
                        plan.data.units_column
                    )),
                );
                None
            }
            Some(count) => Some(count),
            None => {
                diags.push(not_a_count(self.source, span, value, column));
                None
            }
        }
    }

    /// `X_sum`, `X_sum_sq`: finite, Σx² ≥ 0 and Σx² ≥ (Σx)²/n.
    fn moments(&self, column: &str, diags: &mut Diagnostics) -> Option<(f64, f64)> {
        let sum_name = format!("{column}_sum");
        let sq_name = format!("{column}_sum_sq");
        let (sum_text, sum_span) = self.cell(&sum_name);
        let (sq_text, sq_span) = self.cell(&sq_name);
        let sum = parse_number(sum_text);
        let sum_sq = parse_number(sq_text);
        if sum.is_none() {
            diags.push(not_a_number(self.source, sum_span, sum_text, &sum_name));
        }
        match sum_sq {
            None => diags.push(not_a_number(self.source, sq_span, sq_text, &sq_name)),
            Some(sq) if sq < 0.0 => diags.push(
                Diagnostic::error(
                    "xos::data::negative_sum_sq",
                    format!("`{sq_name}` is negative"),
                )
                .in_file(self.source)
                .label(sq_span, "a sum of squares is never negative"),
            ),
            _ => {}
        }
        let (sum, sum_sq) = (sum?, sum_sq.filter(|sq| *sq >= 0.0)?);
        if self.units > 0 && below_square_bound(self.units, sum, sum_sq) {
            diags.push(
                Diagnostic::error(
                    "xos::data::impossible_sums",
                    format!(
                        "`{sq_name}` is smaller than (`{sum_name}`)²/units for `{}`",
                        self.label
                    ),
                )
                .in_file(self.source)
                .label(sq_span, {
                    let bound = sum * sum / self.units as f64;
                    if bound.is_finite() {
                        format!("below {}", crate::numbers::data_value(bound))
                    } else {
                        // (Σx)²/n beyond a double: it said "below inf".
                        "below (Σx)²/n, which is beyond the largest double".to_string()
                    }
                })
                .secondary(sum_span, "the sum")
                .help(
                    "Σx² ≥ (Σx)²/n for any data, so these sums would give a negative variance; \
                     check that the column holds the sum of squared values",
                ),
            );
            return None;
        }
        Some((sum, sum_sq))
    }

    /// `X_Y_sum_prod`: finite, and within Cauchy–Schwarz of the two columns'
    /// moments (when both are valid): `(nΣxy − ΣxΣy)² ≤ (nΣx² − (Σx)²)(nΣy² − (Σy)²)`.
    fn cross(
        &self,
        x: &str,
        moments_x: Option<(f64, f64)>,
        y: &str,
        moments_y: Option<(f64, f64)>,
        diags: &mut Diagnostics,
    ) -> Option<f64> {
        let name = format!("{x}_{y}_sum_prod");
        let (text, span) = self.cell(&name);
        let Some(sum_xy) = parse_number(text) else {
            diags.push(not_a_number(self.source, span, text, &name));
            return None;
        };
        let ((sum_x, sum_x_sq), (sum_y, sum_y_sq)) = (moments_x?, moments_y?);
        if self.units > 0
            && beyond_cauchy_schwarz(self.units, [sum_x, sum_x_sq, sum_y, sum_y_sq, sum_xy])
        {
            diags.push(
                Diagnostic::error(
                    "xos::data::impossible_cross_product",
                    format!(
                        "`{name}` is inconsistent with the sums of `{x}` and `{y}` for `{}`",
                        self.label
                    ),
                )
                .in_file(self.source)
                .label(
                    span,
                    "|covariance| above the product of the standard deviations",
                )
                .help(format!(
                    "Cauchy–Schwarz: |nΣxy − ΣxΣy| ≤ √((nΣx² − (Σx)²)(nΣy² − (Σy)²)) for any data; \
                     check that `{name}` holds the sum over units of `{x}` × `{y}`"
                )),
            );
            return None;
        }
        Some(sum_xy)
    }
}

/// `|n·Σxy − Σx·Σy| > √((n·Σx² − (Σx)²)(n·Σy² − (Σy)²))` beyond what
/// rounding in the export can explain; the sums are `[Σx, Σx², Σy, Σy², Σxy]`.
fn beyond_cauchy_schwarz(n: u64, [sum_x, sum_x_sq, sum_y, sum_y_sq, sum_xy]: [f64; 5]) -> bool {
    use crate::stats::moments::diff_of_products;
    let n = n as f64;
    let s_xx = diff_of_products(n, sum_x_sq, sum_x, sum_x).max(0.0);
    let s_yy = diff_of_products(n, sum_y_sq, sum_y, sum_y).max(0.0);
    let s_xy = diff_of_products(n, sum_xy, sum_x, sum_y).abs();
    let bound = (s_xx * s_yy).sqrt();
    // Relative slack on the scale of the products that were differenced.
    let scale = (n * sum_xy.abs()).max((sum_x * sum_y).abs());
    s_xy > bound && s_xy - bound > 1e-9 * scale.max(f64::MIN_POSITIVE)
}

/// Rows per (trimmed) label of the variant column.
fn label_rows(records: &[csv::StringRecord], col: usize) -> HashMap<&str, usize> {
    let mut counts = HashMap::new();
    for label in records.iter().filter_map(|r| r.get(col)).map(str::trim) {
        if !label.is_empty() {
            *counts.entry(label).or_insert(0) += 1;
        }
    }
    counts
}

/// Points at the first label seen on a second row, if any: the file is then
/// most likely one row per unit.
fn looks_like_rows(
    source: &Arc<SourceFile>,
    records: &[csv::StringRecord],
    label_rows: &HashMap<&str, usize>,
    col: usize,
    delimiter: u8,
) -> Option<Diagnostic> {
    let mut seen = HashMap::new();
    let (label, record) = records.iter().find_map(|record| {
        let label = record.get(col)?.trim();
        let count = seen.entry(label).or_insert(0);
        *count += 1;
        (*count == 2 && !label.is_empty()).then_some((label, record))
    })?;
    let start = record_start(record);
    let span = span_at(&field_spans(&source.text, start, delimiter), col, start);
    let rows = label_rows.get(label).copied().unwrap_or(2);
    Some(
        Diagnostic::error(
            "xos::data::looks_like_rows",
            format!("variant `{label}` appears on {rows} rows: this looks like one row per unit"),
        )
        .in_file(source)
        .label(span, "repeated here")
        .help(
            "aggregated data has one row per variant with counts and sums; for an export \
             with one row per unit, declare `data \"…\" { shape rows }`",
        ),
    )
}

fn not_a_count(source: &Arc<SourceFile>, span: Span, value: &str, column: &str) -> Diagnostic {
    if let Some(d) = super::input::count_too_large(source, span, value, column) {
        return d;
    }
    let shown = if value.is_empty() {
        "an empty cell".to_string()
    } else {
        format!("`{}`", crate::text::token(value))
    };
    Diagnostic::error(
        "xos::data::not_a_count",
        format!("`{column}` must be a non-negative integer, found {shown}"),
    )
    .in_file(source)
    .label(span, "not a count")
    .help(if super::input::is_null_cell(value) {
        super::input::empty_cell_help(column)
    } else {
        "counts are whole numbers of units, such as `1200`".to_string()
    })
}

fn not_a_number(source: &Arc<SourceFile>, span: Span, value: &str, column: &str) -> Diagnostic {
    let shown = if value.is_empty() {
        "an empty cell".to_string()
    } else {
        format!("`{}`", crate::text::token(value))
    };
    let diag = Diagnostic::error(
        "xos::data::not_a_number",
        format!("`{column}` must be a finite number, found {shown}"),
    )
    .in_file(source)
    .label(span, "not a number");
    if super::input::is_null_cell(value) {
        diag.help(super::input::empty_cell_help(column))
    } else {
        diag
    }
}

/// A non-negative integer; `1200.0` (as some exports write counts) is accepted.
fn parse_count(text: &str) -> Option<u64> {
    if let Ok(n) = text.replace('_', "").parse::<u64>() {
        return Some(n);
    }
    let x: f64 = text.parse().ok()?;
    // INVARIANT: 2^53 is where f64 stops representing every integer.
    (x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x <= 9_007_199_254_740_992.0)
        .then_some(x as u64)
}

fn parse_number(text: &str) -> Option<f64> {
    let x: f64 = text.parse().ok()?;
    x.is_finite().then_some(x)
}

/// Σx² < (Σx)²/n beyond what rounding in the export can explain.
fn below_square_bound(n: u64, sum: f64, sum_sq: f64) -> bool {
    let bound = sum * sum / n as f64;
    if bound.is_infinite() {
        // (Σx)² overflows: compare with x scaled by 2^-512 (exact).
        let scale = crate::stats::moments::OVERFLOW_SCALE;
        return below_square_bound(n, sum / scale, sum_sq / scale / scale);
    }
    sum_sq < bound && (bound - sum_sq) > 1e-9 * bound.max(f64::MIN_POSITIVE)
}

fn record_start(record: &csv::StringRecord) -> usize {
    record.position().map_or(0, |p| p.byte() as usize)
}

fn line_end(text: &str, start: usize) -> usize {
    let start = start.min(text.len());
    text[start..]
        .find(['\n', '\r'])
        .map_or(text.len(), |i| start + i)
}

/// Byte spans of the fields of the record starting at `start`, honouring quotes.
fn field_spans(text: &str, start: usize, delimiter: u8) -> Vec<Span> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut field_start = start;
    let mut in_quotes = false;
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => in_quotes = !in_quotes,
            b if b == delimiter && !in_quotes => {
                spans.push(Span::new(field_start, i));
                field_start = i + 1;
            }
            b'\n' | b'\r' if !in_quotes => break,
            _ => {}
        }
        i += 1;
    }
    spans.push(Span::new(field_start, i));
    spans
}

fn span_at(spans: &[Span], i: usize, fallback: usize) -> Span {
    spans
        .get(i)
        .copied()
        .unwrap_or(Span::new(fallback, fallback))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_accept_integral_floats_only() {
        assert_eq!(parse_count("1200"), Some(1200));
        assert_eq!(parse_count("1200.0"), Some(1200));
        assert_eq!(parse_count("1_200"), Some(1200));
        assert_eq!(parse_count("-1"), None);
        assert_eq!(parse_count("12.5"), None);
        assert_eq!(parse_count("NaN"), None);
        assert_eq!(parse_count(""), None);
    }

    #[test]
    fn field_spans_respect_quotes() {
        let text = "a,\"b,c\",d\nx";
        let spans = field_spans(text, 0, b',');
        let fields: Vec<&str> = spans.iter().map(|s| &text[s.start..s.end]).collect();
        assert_eq!(fields, ["a", "\"b,c\"", "d"]);
    }

    #[test]
    fn square_bound_tolerates_rounding_only() {
        assert!(!below_square_bound(4, 4.0, 4.0));
        assert!(!below_square_bound(3, 1e6, 1e12 / 3.0 * (1.0 - 1e-13)));
        assert!(below_square_bound(2, 10.0, 40.0));
    }
}
