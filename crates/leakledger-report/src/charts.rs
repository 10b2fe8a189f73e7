//! The report's charts, drawn with plotters as SVG strings to inline in the page.
//! Labels that came from the dump are cut short and stripped of control
//! characters here, and plotters escapes the text it writes.

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::escape::label;

type Drawn = Result<(), Box<dyn std::error::Error>>;

const W: u32 = 760;
const INK: RGBColor = RGBColor(40, 44, 52);
const GRID: RGBColor = RGBColor(225, 228, 232);
/// Severity colours, critical first.
pub(crate) const SEVERITY: [(&str, RGBColor); 4] = [
    ("critical", RGBColor(176, 0, 32)),
    ("high", RGBColor(230, 97, 1)),
    ("medium", RGBColor(220, 170, 0)),
    ("low", RGBColor(120, 144, 156)),
];
const BLUE: RGBColor = RGBColor(33, 102, 172);
const BAND: RGBColor = RGBColor(146, 197, 222);
const RED: RGBColor = RGBColor(178, 24, 43);

/// Draws into an SVG string of `w` x `h`.
fn svg(
    name: &'static str,
    h: u32,
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Drawn,
) -> Result<String, crate::Error> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (W, h)).into_drawing_area();
        let r = root
            .fill(&WHITE)
            .map_err(|e| e.into())
            .and_then(|()| draw(&root))
            .and_then(|()| root.present().map_err(|e| e.into()));
        r.map_err(|e| crate::Error::Chart { name, reason: e.to_string() })?;
    }
    Ok(out)
}

/// Money for an axis or a label: `$1.2M`.
pub(crate) fn money(currency: &str, v: f64) -> String {
    let sym = if currency == "USD" { "$" } else { "" };
    let (x, unit) = match v.abs() {
        a if a >= 1e9 => (v / 1e9, "B"),
        a if a >= 1e6 => (v / 1e6, "M"),
        a if a >= 1e3 => (v / 1e3, "k"),
        _ => (v, ""),
    };
    let tail = if sym.is_empty() { format!(" {currency}") } else { String::new() };
    let sign = if x < 0.0 { "-" } else { "" };
    format!("{sign}{sym}{:.1}{unit}{tail}", x.abs())
}

fn day_label(day: f64) -> String {
    chrono::DateTime::from_timestamp((day * 86_400.0) as i64, 0)
        .map(|d| d.format("%m-%d").to_string())
        .unwrap_or_default()
}

/// Counts per UTC day: requests, and secrets by the day they were first seen.
pub(crate) fn over_time(requests: &[(i64, u64)], secrets: &[(i64, u64)]) -> Result<String, crate::Error> {
    svg("exposure over time", 300, |root| {
        let days = requests.iter().chain(secrets).map(|&(d, _)| d);
        let (lo, hi) = days.fold((i64::MAX, i64::MIN), |(lo, hi), d| (lo.min(d), hi.max(d)));
        let (lo, hi) = if lo > hi { (0, 1) } else { (lo, hi + 1) };
        let top = requests.iter().chain(secrets).map(|&(_, n)| n).max().unwrap_or(1).max(1) as f64 * 1.1;
        let mut chart = ChartBuilder::on(root)
            .caption(
                "Requests logged and secrets first seen, per day (UTC)",
                ("sans-serif", 16).into_font().color(&INK),
            )
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(48)
            .build_cartesian_2d(lo as f64..hi as f64, 0f64..top)?;
        chart
            .configure_mesh()
            .light_line_style(GRID)
            .x_labels(10)
            .x_label_formatter(&|d| day_label(*d))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .draw()?;
        chart
            .draw_series(
                requests
                    .iter()
                    .map(|&(d, n)| Rectangle::new([(d as f64 + 0.1, 0.0), (d as f64 + 0.55, n as f64)], BLUE.filled())),
            )?
            .label("requests")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], BLUE.filled()));
        chart
            .draw_series(secrets.iter().map(|&(d, n)| {
                Rectangle::new([(d as f64 + 0.55, 0.0), (d as f64 + 0.9, n as f64)], SEVERITY[0].1.filled())
            }))?
            .label("secrets first seen")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], SEVERITY[0].1.filled()));
        chart.configure_series_labels().background_style(WHITE.mix(0.9)).border_style(GRID).draw()?;
        Ok(())
    })
}

/// One horizontal bar: its label, where it starts and ends, and its colour.
pub(crate) struct Bar {
    pub(crate) label: String,
    pub(crate) from: f64,
    pub(crate) to: f64,
    pub(crate) color: RGBColor,
}

/// Horizontal bars, labelled inside the plot, largest first as given.
pub(crate) fn bars(
    name: &'static str,
    caption: &str,
    bars: &[Bar],
    fmt: &dyn Fn(f64) -> String,
) -> Result<String, crate::Error> {
    let n = bars.len().max(1);
    svg(name, 70 + 24 * n as u32, |root| {
        let lo = bars.iter().map(|b| b.from.min(b.to)).fold(0f64, f64::min);
        let hi = bars.iter().map(|b| b.from.max(b.to)).fold(0f64, f64::max).max(1e-9);
        let pad = (hi - lo) * 0.05;
        let mut chart = ChartBuilder::on(root)
            .caption(caption, ("sans-serif", 16).into_font().color(&INK))
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(8)
            .build_cartesian_2d((lo - pad)..(hi + pad), 0f64..n as f64)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .light_line_style(GRID)
            .x_labels(6)
            .x_label_formatter(&|v| fmt(*v))
            .draw()?;
        for (i, b) in bars.iter().enumerate() {
            let y = (n - 1 - i) as f64;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(b.from.min(b.to), y + 0.15), (b.from.max(b.to), y + 0.85)],
                b.color.mix(0.4).filled(),
            )))?;
            let text = format!("{}  {}", label(&b.label, 48), fmt(b.to - b.from));
            chart.draw_series(std::iter::once(Text::new(
                text,
                (lo - pad * 0.6, y + 0.5),
                ("sans-serif", 12).into_font().color(&INK).pos(plotters::style::text_anchor::Pos::new(
                    plotters::style::text_anchor::HPos::Left,
                    plotters::style::text_anchor::VPos::Center,
                )),
            )))?;
        }
        Ok(())
    })
}

/// The loss-exceedance curve: P(total cost > x), with the budget ceiling.
pub(crate) fn loss_exceedance(curve: &[(f64, f64)], ceiling: f64, currency: &str) -> Result<String, crate::Error> {
    svg("loss exceedance", 320, |root| {
        // A log scale: the tail runs orders of magnitude past the median.
        let hi = curve.iter().map(|p| p.0).fold(ceiling, f64::max).max(10.0) * 1.2;
        let lo = curve.iter().map(|p| p.0).filter(|&x| x > 0.0).fold(ceiling.max(1.0), f64::min).max(1.0) / 1.5;
        let mut chart = ChartBuilder::on(root)
            .caption(
                "Loss exceedance: probability that the total cost exceeds x (log scale)",
                ("sans-serif", 16).into_font().color(&INK),
            )
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(48)
            .build_cartesian_2d((lo..hi).log_scale(), 0f64..1.0)?;
        chart
            .configure_mesh()
            .light_line_style(GRID)
            .x_label_formatter(&|v| money(currency, *v))
            .y_label_formatter(&|v| format!("{:.0}%", v * 100.0))
            .draw()?;
        chart
            .draw_series(LineSeries::new(curve.iter().copied().filter(|p| p.0 >= lo), BLUE.stroke_width(2)))?
            .label("P(total > x)")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 14, y)], BLUE.stroke_width(2)));
        chart
            .draw_series(LineSeries::new([(ceiling, 0.0), (ceiling, 1.0)], RED.stroke_width(1)))?
            .label("burst-budget ceiling")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 14, y)], RED));
        chart.configure_series_labels().background_style(WHITE.mix(0.9)).border_style(GRID).draw()?;
        Ok(())
    })
}

/// The burst-budget burn-down: cumulative pool spend day by day (P50 line and
/// P10-P90 band), the ceiling and the deadlines.
pub(crate) fn burn_down(
    days: &[(f64, f64, f64, f64)],
    ceiling: f64,
    deadlines: &[(u32, &str)],
    currency: &str,
) -> Result<String, crate::Error> {
    svg("burn-down", 360, |root| {
        // Show the days until the P90 spend is nearly final (at least 30 days): the
        // first weeks are where the deadlines and the crossing are.
        let fin = days.last().map_or(0.0, |d| d.3);
        let settled = days.iter().find(|d| d.3 >= 0.99 * fin).map_or(1.0, |d| d.0);
        let last = (settled * 1.2).max(30.0).min(days.last().map_or(1.0, |d| d.0)).max(1.0);
        let days: Vec<_> = days.iter().copied().filter(|d| d.0 <= last).collect();
        let top = days.iter().map(|d| d.3).fold(ceiling, f64::max) * 1.08;
        let mut chart = ChartBuilder::on(root)
            .caption(
                "Burst budget: cumulative spend from the pool (P50, P10-P90 band)",
                ("sans-serif", 16).into_font().color(&INK),
            )
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(56)
            .build_cartesian_2d(0f64..last, 0f64..top.max(1.0))?;
        chart
            .configure_mesh()
            .light_line_style(GRID)
            .x_desc("days from awareness")
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| money(currency, *v))
            .draw()?;
        let band: Vec<(f64, f64)> =
            days.iter().map(|d| (d.0, d.3)).chain(days.iter().rev().map(|d| (d.0, d.1))).collect();
        chart
            .draw_series(std::iter::once(Polygon::new(band, BAND.mix(0.6).filled())))?
            .label("P10-P90")
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], BAND.filled()));
        chart
            .draw_series(LineSeries::new(days.iter().map(|d| (d.0, d.2)), BLUE.stroke_width(2)))?
            .label("P50")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 14, y)], BLUE.stroke_width(2)));
        chart
            .draw_series(LineSeries::new([(0.0, ceiling), (last, ceiling)], RED.stroke_width(2)))?
            .label("ceiling")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 14, y)], RED.stroke_width(2)));
        let mut row = 0.0;
        for &(day, name) in deadlines {
            let x = f64::from(day);
            if x <= last {
                chart.draw_series(LineSeries::new([(x, 0.0), (x, top)], INK.mix(0.35)))?;
                chart.draw_series(std::iter::once(Text::new(
                    format!("day {day}: {}", label(name, 48)),
                    (x + last * 0.005, top * (0.96 - row)),
                    ("sans-serif", 11).into_font().color(&INK),
                )))?;
                row += 0.055;
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.9))
            .border_style(GRID)
            .draw()?;
        Ok(())
    })
}
