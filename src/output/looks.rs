//! The memo's sequential section: the primary metric look by look.
//!
//! With a `look` column every comparison carries its cumulative lift per
//! look (`metrics[].comparisons[].looks`); the memo shows the primary's:
//! for group-sequential inference each look's z against its boundary, for
//! always-valid inference the confidence sequence over the looks, and for a
//! fixed-horizon spec the fixed intervals with a warning that they are valid
//! at the planned sample only. The HTML memo draws it as an SVG chart: the
//! cumulative lift with its interval per look, the group-sequential
//! boundary in lift units (`±b_k·SE_k`, so the lift crosses it exactly when
//! the repeated confidence interval excludes 0) and the zero line.
//!
//! Group-sequential data without a look column is one look; the section then
//! says so instead of showing a table.

use serde::Serialize;

use super::Format;
use super::html::escape;
use crate::inference::LookPoint;
use crate::numbers;
use crate::output::report::{MetricReport, Report};
use crate::plan::{Role, SequentialMethod};

/// What the `looks.md` / `looks.html` partials show.
#[derive(Clone, Debug, Serialize)]
pub struct LooksView {
    /// The primary metric's name.
    pub metric: String,
    /// The treatment arm shown.
    pub variant: String,
    /// What the table shows and how to read it.
    pub intro: String,
    /// One row per look, the first look first.
    pub rows: Vec<LookRow>,
    /// Group-sequential data without a look column: the sentence that says
    /// the data is taken as the first look. Empty otherwise.
    pub note: String,
    /// Inline SVG (HTML only; empty in other formats or without rows).
    pub svg: String,
}

/// One look of the primary's comparison, formatted.
#[derive(Clone, Debug, Serialize)]
pub struct LookRow {
    /// The look's number, from 1.
    pub look: u64,
    /// The look's value in the data (`2026-11-03`).
    pub label: String,
    /// The treatment arm's cumulative units, with thousands separators.
    pub units: String,
    /// The cumulative lift, in the metric's format (pp for rates).
    pub lift: String,
    /// The look's interval on the lift, `[low, high]`.
    pub ci: String,
    /// The look's z statistic, two decimals.
    pub z: String,
    /// The group-sequential z boundary at this look; empty for other methods.
    pub boundary: String,
    /// `crossed: decides` at the first look where `|z| ≥ b`
    /// (group-sequential), `excludes 0` where another method's interval
    /// excludes 0; empty otherwise.
    pub result: String,
}

/// The sequential section of a report, or `None` when there is nothing to
/// show (no looks, and not a group-sequential spec).
pub fn looks_view(report: &Report, format: Format) -> Option<LooksView> {
    let method = report.inference.method;
    let primary = report.metrics.iter().find(|m| m.role == Role::Primary)?;
    // The arm the decision is about, else the first treatment.
    let comparison = report
        .decision
        .arm
        .as_ref()
        .and_then(|arm| primary.comparisons.iter().find(|c| &c.variant == arm))
        .or_else(|| primary.comparisons.first())?;
    let mut view = LooksView {
        metric: primary.name.clone(),
        variant: comparison.variant.clone(),
        intro: String::new(),
        rows: Vec::new(),
        note: String::new(),
        svg: String::new(),
    };
    if comparison.looks.is_empty() {
        if method != SequentialMethod::GroupSequential {
            return None;
        }
        view.note = format!(
            "The data has no look column, so it is taken as the first look{}: the boundary is \
             that of a first look, and earlier reads of the data are not accounted for. Export \
             one cumulative row per look and variant and declare `look \"date\"` in the data \
             block so every look counts.",
            report
                .inference
                .information
                .map_or(String::new(), |t| format!(
                    " (information {})",
                    numbers::percent1(t)
                ))
        );
        return Some(view);
    }
    let rate = primary.kind == "rate";
    view.intro = match method {
        SequentialMethod::GroupSequential => format!(
            "Cumulative lift of `{}` at each look with its repeated {} confidence interval; the \
             test crosses at the first look where |z| reaches the boundary, and a crossing stands \
             whatever later looks show.",
            comparison.variant,
            level(report)
        ),
        SequentialMethod::AlwaysValid => format!(
            "Cumulative lift of `{}` at each look with its always-valid {} confidence sequence: \
             each interval is valid however often the data was read.",
            comparison.variant,
            level(report)
        ),
        SequentialMethod::Fixed => format!(
            "Cumulative lift of `{}` at each look with its fixed-horizon {} confidence interval. \
             These intervals are valid only at the planned sample: acting on the first look \
             that excludes 0 launches a null effect several times more often than α. Declare \
             `sequential` to decide at any look.",
            comparison.variant,
            level(report)
        ),
    };
    let mut crossed = false;
    for point in &comparison.looks {
        let hit = match (point.z, point.boundary) {
            (Some(z), Some(b)) => z.abs() >= b,
            _ => point
                .ci_low
                .zip(point.ci_high)
                .is_some_and(|(low, high)| low > 0.0 || high < 0.0),
        };
        // A group-sequential crossing decides once and stands; other
        // methods' intervals are read at every look.
        let result = match method {
            SequentialMethod::GroupSequential if hit && !crossed => {
                crossed = true;
                "crossed: decides"
            }
            SequentialMethod::GroupSequential => "",
            _ if hit => "excludes 0",
            _ => "",
        };
        view.rows.push(LookRow {
            look: point.look,
            label: point.label.clone(),
            units: numbers::thousands(point.units),
            lift: point.abs_lift.map_or("n/a".into(), |x| change(x, rate)),
            ci: match (point.ci_low, point.ci_high) {
                (Some(low), Some(high)) => {
                    format!("[{}, {}]", change(low, rate), change(high, rate))
                }
                _ => "n/a".into(),
            },
            z: point.z.map_or("n/a".into(), |z| format!("{z:.2}")),
            boundary: point.boundary.map_or("–".into(), |b| format!("±{b:.2}")),
            result: result.to_string(),
        });
    }
    if format == Format::Html {
        view.svg = svg(primary, &comparison.looks, rate);
    }
    Some(view)
}

/// The confidence level, `95%`.
fn level(report: &Report) -> String {
    numbers::percent(1.0 - report.settings.alpha)
}

/// A lift: percentage points for a rate, the metric's own units otherwise.
fn change(x: f64, rate: bool) -> String {
    let sign = numbers::sign(x);
    if rate {
        format!("{sign}{:.2} pp", (x * 100.0).abs())
    } else {
        format!("{sign}{}", numbers::number(x.abs()))
    }
}

/// The chart: one column per look with the cumulative lift and its
/// interval, the group-sequential boundary `±b_k·SE_k` as dashed steps, and
/// the zero line.
fn svg(metric: &MetricReport, looks: &[LookPoint], rate: bool) -> String {
    // The boundary in lift units: the repeated interval is `lift ∓ b·SE`,
    // so `b·SE` is its half-width.
    let bound = |p: &LookPoint| match (p.boundary, p.ci_low, p.ci_high) {
        (Some(_), Some(low), Some(high)) => Some((high - low) / 2.0),
        _ => None,
    };
    let largest = |points: &[LookPoint]| {
        points
            .iter()
            .flat_map(|p| [p.ci_low, p.ci_high, p.abs_lift, bound(p)])
            .flatten()
            .map(f64::abs)
            .fold(0.0_f64, f64::max)
    };
    // The first looks' intervals are many times wider than the last's: the
    // scale shows the last look's three times over, and wider ones are cut
    // at the edge.
    let last = largest(&looks[looks.len() - 1..]);
    let extent = largest(looks).min(3.0 * last).max(1e-9) * 1.1;
    let (left, top, width, height) = (70.0, 16.0, 560.0, 220.0);
    let step = width / looks.len() as f64;
    let x = |k: usize| left + step * (k as f64 + 0.5);
    let y = |v: f64| top + (extent - v.clamp(-extent, extent)) / (2.0 * extent) * height;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart looks\" viewBox=\"0 0 {w} {h}\" \
         width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"Cumulative lift of {name} at each \
         look with its interval and boundary\">",
        w = left + width + 10.0,
        h = top + height + 34.0,
        name = escape(&metric.name),
    );
    svg.push_str(&format!(
        "<line x1=\"{left}\" y1=\"{z:.1}\" x2=\"{r}\" y2=\"{z:.1}\" class=\"zero\"/>\
         <text x=\"{lx}\" y=\"{ty:.1}\" class=\"axis\" text-anchor=\"end\">{hi}</text>\
         <text x=\"{lx}\" y=\"{z4:.1}\" class=\"axis\" text-anchor=\"end\">0</text>\
         <text x=\"{lx}\" y=\"{by:.1}\" class=\"axis\" text-anchor=\"end\">{lo}</text>",
        z = y(0.0),
        z4 = y(0.0) + 4.0,
        r = left + width,
        lx = left - 6.0,
        ty = top + 4.0,
        by = top + height,
        hi = escape(&change(extent, rate)),
        lo = escape(&change(-extent, rate)),
    ));
    // The boundary, a step per look, above and below zero.
    for sign in [1.0, -1.0] {
        let mut path = String::new();
        for (k, p) in looks.iter().enumerate() {
            let Some(b) = bound(p) else { continue };
            let (x0, x1) = (x(k) - step / 2.0, x(k) + step / 2.0);
            let cmd = if path.is_empty() { 'M' } else { 'L' };
            path.push_str(&format!(
                "{cmd}{x0:.1},{v:.1} L{x1:.1},{v:.1} ",
                v = y(sign * b)
            ));
        }
        if !path.is_empty() {
            svg.push_str(&format!(
                "<path d=\"{}\" class=\"boundary\"/>",
                path.trim_end()
            ));
        }
    }
    for (k, p) in looks.iter().enumerate() {
        let class = match (p.ci_low, p.ci_high) {
            (Some(low), _) if low > 0.0 => "better",
            (_, Some(high)) if high < 0.0 => "worse",
            _ => "neutral",
        };
        let mut g = format!("<g class=\"{class}\">");
        if let (Some(low), Some(high)) = (p.ci_low, p.ci_high) {
            g.push_str(&format!(
                "<line x1=\"{cx:.1}\" y1=\"{y1:.1}\" x2=\"{cx:.1}\" y2=\"{y2:.1}\" class=\"ci\"/>",
                cx = x(k),
                y1 = y(high),
                y2 = y(low)
            ));
        }
        if let Some(lift) = p.abs_lift {
            g.push_str(&format!(
                "<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"4\" class=\"point\"/>",
                cx = x(k),
                cy = y(lift)
            ));
        }
        g.push_str(&format!(
            "<title>look {} ({}): {}</title></g>",
            p.look,
            escape(&p.label),
            escape(&p.abs_lift.map_or("n/a".into(), |l| change(l, rate)))
        ));
        svg.push_str(&g);
        // Label every look when few, else about eight of them.
        let every = looks.len().div_ceil(8).max(1);
        if k % every == 0 {
            svg.push_str(&format!(
                "<text x=\"{cx:.1}\" y=\"{ty:.1}\" class=\"axis\" text-anchor=\"middle\">{label}</text>",
                cx = x(k),
                ty = top + height + 22.0,
                label = escape(&p.label)
            ));
        }
    }
    svg.push_str("</svg>");
    svg
}
