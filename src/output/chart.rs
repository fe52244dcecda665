//! The memo's SVG chart, built here rather than by a template.

use super::html::escape;
use crate::numbers;
use crate::output::report::Report;
use crate::plan::Status;

/// A horizontal forest plot of every comparison's relative lift with its CI.
pub(super) fn chart_svg(report: &Report) -> String {
    struct Row {
        label: String,
        point: f64,
        low: f64,
        high: f64,
        class: &'static str,
    }
    let mut rows = Vec::new();
    for m in &report.metrics {
        for c in &m.comparisons {
            let (Some(point), Some(low), Some(high)) = (c.rel_lift, c.rel_ci_low, c.rel_ci_high)
            else {
                continue;
            };
            let class = match c.status {
                Some(Status::Severe) => "severe",
                Some(Status::Worsened) => "worsened",
                _ if c.better => "better",
                _ if c.worse => "worse",
                _ => "neutral",
            };
            let label = if m.comparisons.len() > 1 {
                format!("{} · {}", m.name, c.variant)
            } else {
                m.name.clone()
            };
            rows.push(Row {
                label,
                point,
                low,
                high,
                class,
            });
        }
    }
    if rows.is_empty() {
        return String::new();
    }
    let extent = rows
        .iter()
        .map(|r| r.low.abs().max(r.high.abs()))
        .fold(0.0_f64, f64::max)
        .max(1e-6)
        * 1.15;
    let (left, width, row_h, top) = (190.0, 420.0, 30.0, 24.0);
    let height = top + row_h * rows.len() as f64 + 10.0;
    let x = |v: f64| left + (v + extent) / (2.0 * extent) * width;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" \
         height=\"{h}\" role=\"img\" aria-label=\"Relative lift of each comparison with its confidence interval\">",
        w = left + width + 20.0,
        h = height
    );
    svg.push_str(&format!(
        "<line x1=\"{z}\" y1=\"{t}\" x2=\"{z}\" y2=\"{b}\" class=\"zero\"/>\
         <text x=\"{z}\" y=\"14\" class=\"axis\" text-anchor=\"middle\">0%</text>\
         <text x=\"{l}\" y=\"14\" class=\"axis\" text-anchor=\"start\">{lo}</text>\
         <text x=\"{r}\" y=\"14\" class=\"axis\" text-anchor=\"end\">{hi}</text>",
        z = x(0.0),
        t = top - 4.0,
        b = height - 6.0,
        l = left,
        r = left + width,
        lo = escape(&numbers::signed_percent(-extent)),
        hi = escape(&numbers::signed_percent(extent)),
    ));
    for (i, row) in rows.iter().enumerate() {
        let y = top + row_h * i as f64 + row_h / 2.0;
        svg.push_str(&format!(
            "<g class=\"{class}\"><text x=\"{lx}\" y=\"{ty}\" class=\"label\" text-anchor=\"end\">{label}</text>\
             <line x1=\"{x1:.1}\" y1=\"{y}\" x2=\"{x2:.1}\" y2=\"{y}\" class=\"ci\"/>\
             <circle cx=\"{cx:.1}\" cy=\"{y}\" r=\"4.5\" class=\"point\"/>\
             <title>{label}: {point} [{low}, {high}]</title></g>",
            class = row.class,
            lx = left - 10.0,
            ty = y + 4.0,
            label = escape(&row.label),
            x1 = x(row.low),
            x2 = x(row.high),
            cx = x(row.point),
            point = escape(&numbers::signed_percent(row.point)),
            low = escape(&numbers::signed_percent(row.low)),
            high = escape(&numbers::signed_percent(row.high)),
        ));
    }
    svg.push_str("</svg>");
    svg
}
