//! `leakledger cost`: the cost model run against a summary's figures.

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use leakledger_cost::{Drivers, GroupResult, Model, Outcome, run as simulate};
use serde_json::Value;

use crate::cli::CostArgs;
use crate::output::{count, path, term_safe};

fn money(currency: &str, v: f64) -> String {
    let (v, unit) = if v.abs() >= 1e9 {
        (v / 1e9, "B")
    } else if v.abs() >= 1e6 {
        (v / 1e6, "M")
    } else if v.abs() >= 1e3 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    format!("{v:.2}{unit} {currency}")
}

pub(crate) fn run(args: &CostArgs) -> Result<ExitCode> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    if args.print_model {
        out.write_all(leakledger_cost::DEFAULT_MODEL.as_bytes())?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut model = load_model(args.model.as_deref())?;
    if let Some(b) = args.budget {
        model.budget = b;
    }
    if let Some(i) = args.iterations {
        model.iterations = i.max(1);
    }
    if let Some(s) = args.seed {
        model.seed = s;
    }
    for s in &args.set {
        model.set(s)?;
    }
    let summary_path = args.summary.as_deref().context("a summary.json is needed")?;
    let text = std::fs::read_to_string(summary_path).with_context(|| format!("cannot read {}", path(summary_path)))?;
    let summary: Value = serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path(summary_path)))?;
    // Day 0 is awareness: as given, else the end of the leak window.
    let awareness = awareness(args.awareness.as_deref())?;
    let started = Instant::now();
    let run = leakledger_report::cost::run(&model, &summary, awareness);
    let elapsed = started.elapsed();
    let (d, outcome, by_org, due, awareness) = (&run.drivers, &run.outcome, &run.by_org, &run.deadlines, run.awareness);
    let compared = if args.compare.is_empty() {
        None
    } else {
        let mut other = model.clone();
        for s in &args.compare {
            other.set(s)?;
        }
        Some(simulate(&other, d))
    };
    if args.json {
        let mut json = run.to_json();
        json["compared"] = serde_json::json!(compared.as_ref().map(|c| serde_json::json!({
                "settings": args.compare,
                "cost": {"mean": c.total.mean, "p10": c.total.p10, "p50": c.total.p50, "p90": c.total.p90, "p99": c.total.p99},
                "budget": {"p_exceed": c.p_exceed, "day_p50_crosses": c.day_p50_crosses},
            })));
        serde_json::to_writer_pretty(&mut out, &json)?;
        writeln!(out)?;
    } else {
        human(&mut out, &model, d, outcome, due, awareness, elapsed)?;
        organisations(&mut out, &outcome.currency, by_org)?;
        if let Some(c) = &compared {
            compare(&mut out, &args.compare, outcome, c)?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// A cost model from a TOML file, or the built-in one.
pub(crate) fn load_model(file: Option<&std::path::Path>) -> Result<Model> {
    match file {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("cannot read {}", path(p)))?;
            Model::from_toml(&text).with_context(|| format!("in {}", path(p)))
        }
        None => Ok(Model::default_model()),
    }
}

/// `--awareness` parsed (none when not given).
pub(crate) fn awareness(arg: Option<&str>) -> Result<Option<chrono::DateTime<chrono::FixedOffset>>> {
    arg.map(|a| parse_date(a).with_context(|| format!("--awareness {a:?} is not YYYY-MM-DD or RFC 3339"))).transpose()
}

fn parse_date(s: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(s).ok().or_else(|| {
        let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
        Some(d.and_hms_opt(0, 0, 0)?.and_utc().fixed_offset())
    })
}

/// The organisations with the highest expected cost.
fn organisations(out: &mut impl Write, currency: &str, by_org: &[GroupResult]) -> io::Result<()> {
    if by_org.is_empty() {
        return Ok(());
    }
    let mut v: Vec<&GroupResult> = by_org.iter().collect();
    v.sort_by(|a, b| b.total.mean.total_cmp(&a.total.mean).then(a.name.cmp(&b.name)));
    writeln!(
        out,
        "\nby organisation (top {} of {}; cost split by each one's share of every driver):",
        v.len().min(10),
        v.len()
    )?;
    writeln!(out, "  {:<28} {:>14} {:>14} {:>14}", "ORGANISATION", "MEAN", "P90", "POOL MEAN")?;
    for g in v.iter().take(10) {
        writeln!(
            out,
            "  {:<28} {:>14} {:>14} {:>14}",
            term_safe(&g.name),
            money(currency, g.total.mean),
            money(currency, g.total.p90),
            money(currency, g.pool.mean)
        )?;
    }
    Ok(())
}

/// Two runs on the same random numbers, side by side.
fn compare(out: &mut impl Write, settings: &[String], a: &Outcome, b: &Outcome) -> io::Result<()> {
    let c = &a.currency;
    let crossing = |o: &Outcome| o.day_p50_crosses.map_or("never".to_string(), |d| format!("day {d}"));
    writeln!(out, "\ncompared with {} (same random numbers):", term_safe(&settings.join(", ")))?;
    writeln!(out, "  {:<28} {:>16} {:>16}", "", "AS MODELLED", "WITH CHANGES")?;
    for (name, x, y) in [
        ("mean total", a.total.mean, b.total.mean),
        ("P90 total", a.total.p90, b.total.p90),
        ("mean pool cash", a.pool.mean, b.pool.mean),
        ("pool cash by day 3 (P50)", a.daily.get(3).map_or(0.0, |d| d.p50), b.daily.get(3).map_or(0.0, |d| d.p50)),
        ("pool cash by day 30 (P50)", a.daily.get(30).map_or(0.0, |d| d.p50), b.daily.get(30).map_or(0.0, |d| d.p50)),
    ] {
        writeln!(out, "  {:<28} {:>16} {:>16}", name, money(c, x), money(c, y))?;
    }
    writeln!(out, "  {:<28} {:>15.1}% {:>15.1}%", "P(budget exceeded)", 100.0 * a.p_exceed, 100.0 * b.p_exceed)?;
    writeln!(out, "  {:<28} {:>16} {:>16}", "median crosses the budget", crossing(a), crossing(b))?;
    Ok(())
}

fn human(
    out: &mut impl Write,
    model: &Model,
    d: &Drivers,
    o: &Outcome,
    due: &[leakledger_cost::Deadline],
    awareness: Option<chrono::DateTime<chrono::FixedOffset>>,
    elapsed: std::time::Duration,
) -> io::Result<()> {
    let c = &o.currency;
    writeln!(
        out,
        "{} runs x {} days in {:.2} s; drivers: {} organisations, {} repositories, {} files, {} secrets ({} critical)",
        count(o.iterations),
        o.horizon_days,
        elapsed.as_secs_f64(),
        d.organizations,
        d.repositories,
        d.files,
        d.secrets_critical + d.secrets_high + d.secrets_medium + d.secrets_low,
        d.secrets_critical
    )?;
    let t = &o.total;
    writeln!(
        out,
        "total cost: mean {}; P10 {}, P50 {}, P90 {}, P99 {}",
        money(c, t.mean),
        money(c, t.p10),
        money(c, t.p50),
        money(c, t.p90),
        money(c, t.p99)
    )?;
    writeln!(out, "  of which cash from the pool: mean {}, P90 {}", money(c, o.pool.mean), money(c, o.pool.p90))?;
    writeln!(
        out,
        "  economic loss beside it:     mean {}, P90 {}",
        money(c, o.economic.mean),
        money(c, o.economic.p90)
    )?;
    writeln!(
        out,
        "burst budget {}: P(exceeded within {} days) = {:.1}%; median spend crosses it {}",
        money(c, o.budget),
        o.horizon_days,
        100.0 * o.p_exceed,
        match o.day_p50_crosses {
            Some(day) => format!("on day {day}"),
            None => "not within the horizon".into(),
        }
    )?;
    writeln!(out, "\n  {:<20} {:>14} {:>14} {:>14} {:>7}  SOURCE", "COMPONENT", "MEAN", "P10", "P90", "VAR%")?;
    for r in &o.components {
        writeln!(
            out,
            "  {:<20} {:>14} {:>14} {:>14} {:>6.1}%  {}{}",
            term_safe(&r.name),
            money(c, r.stats.mean),
            money(c, r.stats.p10),
            money(c, r.stats.p90),
            100.0 * r.variance_share,
            if r.pool { "" } else { "(economic) " },
            term_safe(&r.source)
        )?;
    }
    writeln!(out, "\nmost sensitive inputs (mean total with the input at its P10 .. P90):")?;
    for s in o.tornado.iter().take(5) {
        writeln!(out, "  {:<20} {} .. {}", term_safe(&s.name), money(c, s.mean_at_p10), money(c, s.mean_at_p90))?;
    }
    let date =
        |day: u32| awareness.map(|a| (a + chrono::Duration::days(i64::from(day))).format(" (%Y-%m-%d)").to_string());
    writeln!(out, "\ndeadlines from awareness{}:", date(0).unwrap_or_default())?;
    for dl in due {
        writeln!(out, "  day {:>3}{}  {}", dl.day, date(dl.day).unwrap_or_default(), dl.name)?;
    }
    for w in model.warnings() {
        writeln!(out, "warning: {}", term_safe(&w))?;
    }
    Ok(())
}
