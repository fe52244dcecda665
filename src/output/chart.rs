//! The memo's SVG chart, built here rather than by a template.

use super::html::escape;
use super::view::metric_format;
use crate::output::report::{MetricReport, Report};
use crate::plan::{Direction, Status};

/// The smallest "round" number (1, 2, 2.5 or 5 times a power of ten) at or
/// above `x > 0`: the axis runs from −that to +that.
fn round_up(x: f64) -> f64 {
    let power = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|step| step * power)
        .find(|end| *end >= x * (1.0 - 1e-12))
        .unwrap_or(10.0 * power)
}

/// A guardrail's thresholds as relative lifts (a relative threshold as it
/// is; an absolute one over the control's value), signed in the unpreferred
/// direction: where the status changes.
fn thresholds(m: &MetricReport) -> Vec<(&'static str, f64)> {
    let control = m.variants.first().and_then(|v| v.value).map(f64::abs);
    let sign = match m.prefer {
        Direction::Higher => -1.0,
        Direction::Lower => 1.0,
    };
    [("worsened", m.worsened), ("severe", m.severe)]
        .into_iter()
        .filter_map(|(class, e)| {
            let e = e?;
            let relative = if e.scale == "relative" {
                e.value
            } else {
                e.value / control.filter(|c| *c > 0.0)?
            };
            relative.is_finite().then_some((class, sign * relative))
        })
        .collect()
}

/// A horizontal forest plot of every comparison's relative lift with its
/// CI, on an axis with round ends, each guardrail's worsened and severe
/// thresholds drawn on its row, the preferred direction at the row's end, and
/// a legend of the colours.
pub(super) fn chart_svg(report: &Report) -> String {
    struct Row {
        label: String,
        point: f64,
        low: f64,
        high: f64,
        class: &'static str,
        text: String,
        prefer: Direction,
        thresholds: Vec<(&'static str, f64)>,
    }
    let mut rows = Vec::new();
    for m in &report.metrics {
        let format = metric_format(m);
        for c in &m.comparisons {
            let (Some(point), Some(low), Some(high)) = (c.rel_lift, c.rel_ci_low, c.rel_ci_high)
            else {
                continue;
            };
            let class = match c.status {
                Some(Status::Severe) => "severe",
                Some(Status::Worsened) => "worsened",
                // p = 0 without variance is no finding (DESIGN §2).
                _ if c.without_variance() => "neutral",
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
                text: format!(
                    "{label}: {} {}",
                    format.relative(point),
                    format.relative_interval(low, high)
                ),
                label,
                point,
                low,
                high,
                class,
                prefer: m.prefer,
                thresholds: thresholds(m),
            });
        }
    }
    if rows.is_empty() {
        return String::new();
    }
    let widest = |values: &mut dyn Iterator<Item = f64>| {
        values
            .filter(|x| x.is_finite())
            .fold(0.0_f64, f64::max)
            .max(1e-4)
    };
    let intervals = widest(&mut rows.iter().flat_map(|r| [r.low.abs(), r.high.abs()]));
    let marks = widest(
        &mut rows
            .iter()
            .flat_map(|r| r.thresholds.iter().map(|(_, t)| t.abs())),
    );
    // Thresholds widen the axis up to 1.5 times the widest interval; one
    // beyond the axis is drawn dashed at its end, so the intervals stay
    // readable (the checkout's error_rate severe threshold is +86% against
    // intervals within ±27%).
    let extent = round_up(intervals.max(marks.min(1.5 * intervals)) * 100.0) / 100.0;
    let (left, width, row_h, top, right) = (190.0, 400.0, 30.0, 26.0, 90.0);
    let plot_bottom = top + row_h * rows.len() as f64;
    let height = plot_bottom + 44.0;
    let x = |v: f64| left + (v.clamp(-extent, extent) + extent) / (2.0 * extent) * width;
    let axis_label = |v: f64| {
        let text = crate::numbers::general(v * 100.0);
        match v.partial_cmp(&0.0) {
            Some(std::cmp::Ordering::Greater) => format!("+{text}%"),
            _ => format!("{text}%"),
        }
    };
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" \
         height=\"{h}\" role=\"img\" aria-label=\"Relative lift of each comparison with its confidence interval\">",
        w = left + width + right,
        h = height
    );
    // Ticks at the round ends, their halves and zero.
    for tick in [-1.0, -0.5, 0.0, 0.5, 1.0] {
        let v = tick * extent;
        let class = if tick == 0.0 { "zero" } else { "grid" };
        svg.push_str(&format!(
            "<line x1=\"{z:.1}\" y1=\"{t}\" x2=\"{z:.1}\" y2=\"{b}\" class=\"{class}\"/>\
             <text x=\"{z:.1}\" y=\"14\" class=\"axis\" text-anchor=\"middle\">{label}</text>",
            z = x(v),
            t = top - 4.0,
            b = plot_bottom,
            label = escape(&axis_label(v)),
        ));
    }
    for (i, row) in rows.iter().enumerate() {
        let y = top + row_h * i as f64 + row_h / 2.0;
        svg.push_str(&format!(
            "<g class=\"{class}\"><text x=\"{lx}\" y=\"{ty}\" class=\"label\" text-anchor=\"end\">{label}</text>",
            class = row.class,
            lx = left - 10.0,
            ty = y + 4.0,
            label = escape(&row.label),
        ));
        for (class, t) in &row.thresholds {
            svg.push_str(&format!(
                "<line x1=\"{tx:.1}\" y1=\"{y1}\" x2=\"{tx:.1}\" y2=\"{y2}\" class=\"threshold {class}{beyond}\"><title>{class} threshold: {value}</title></line>",
                tx = x(*t),
                beyond = if t.abs() > extent { " beyond" } else { "" },
                y1 = y - 10.0,
                y2 = y + 10.0,
                value = escape(&axis_label(*t)),
            ));
        }
        svg.push_str(&format!(
            "<line x1=\"{x1:.1}\" y1=\"{y}\" x2=\"{x2:.1}\" y2=\"{y}\" class=\"ci\"/>\
             <circle cx=\"{cx:.1}\" cy=\"{y}\" r=\"4.5\" class=\"point\"/>\
             <text x=\"{dx}\" y=\"{ty}\" class=\"direction\">{direction}</text>\
             <title>{text}</title></g>",
            x1 = x(row.low),
            x2 = x(row.high),
            cx = x(row.point),
            dx = left + width + 10.0,
            ty = y + 4.0,
            direction = match row.prefer {
                Direction::Higher => "good →",
                Direction::Lower => "← good",
            },
            text = escape(&row.text),
        ));
    }
    // The legend: the colours, the threshold marks, the direction.
    let legend_y = plot_bottom + 22.0;
    let mut lx = 10.0;
    for (class, text) in [
        ("better", "significantly better"),
        ("neutral", "not significant"),
        ("worsened", "worsened"),
        ("worse", "worse / severe"),
    ] {
        svg.push_str(&format!(
            "<g class=\"{class} legend\"><circle cx=\"{cx:.1}\" cy=\"{cy}\" r=\"4.5\" class=\"point\"/>\
             <text x=\"{tx:.1}\" y=\"{ty}\" class=\"label\">{text}</text></g>",
            cx = lx + 5.0,
            cy = legend_y - 4.0,
            tx = lx + 14.0,
            ty = legend_y,
        ));
        lx += 14.0 + text.chars().count() as f64 * 6.2 + 16.0;
    }
    svg.push_str(&format!(
        "<g class=\"legend\"><line x1=\"{lx:.1}\" y1=\"{y1}\" x2=\"{lx:.1}\" y2=\"{y2}\" class=\"threshold worsened\"/>\
         <line x1=\"{lx2:.1}\" y1=\"{y1}\" x2=\"{lx2:.1}\" y2=\"{y2}\" class=\"threshold severe\"/>\
         <text x=\"{tx:.1}\" y=\"{ty}\" class=\"label\">guardrail thresholds</text></g>\
         <text x=\"10\" y=\"{ty2}\" class=\"label\">“good →” / “← good”: the side of zero \
         each metric prefers.</text>",
        lx2 = lx + 6.0,
        y1 = legend_y - 10.0,
        y2 = legend_y + 2.0,
        tx = lx + 14.0,
        ty = legend_y,
        ty2 = legend_y + 16.0,
    ));
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::round_up;

    #[test]
    fn axis_ends_are_round() {
        assert_eq!(round_up(9.8), 10.0);
        assert_eq!(round_up(10.0), 10.0);
        assert_eq!(round_up(11.5), 20.0);
        assert_eq!(round_up(2.2), 2.5);
        assert_eq!(round_up(0.37), 0.5);
        assert_eq!(round_up(137.0), 200.0);
    }
}
