//! `report.html`: one self-contained page (no script, no external font, style
//! or image) with the headline figures, the top tables and inline SVG charts.
//! Every string that came from the dump goes through [`escape::html`].

use std::collections::BTreeMap;
use std::fmt::Write;

use leakledger::Analysis;
use leakledger::detect::secrets::Severity;
use serde_json::Value;

use crate::charts::{self, Bar, SEVERITY, money};
use crate::cost::CostRun;
use crate::escape::html as esc;

const STYLE: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#282c34;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.4}
h1{font-size:1.7em;margin-bottom:.2em}h2{border-bottom:2px solid #e1e4e8;padding-bottom:.2em;margin-top:2em}
.sub{color:#586069}.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:.6em}
.card{border:1px solid #e1e4e8;border-radius:6px;padding:.6em .8em}.card b{display:block;font-size:1.5em}
.card.alert b{color:#b00020}table{border-collapse:collapse;width:100%;font-size:.9em;margin:.6em 0}
th,td{text-align:left;padding:.25em .5em;border-bottom:1px solid #e1e4e8;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}code{font-size:.9em;word-break:break-all}
.sev-critical{color:#b00020;font-weight:600}.sev-high{color:#e66101;font-weight:600}.sev-medium{color:#a07800}.sev-low{color:#607d8b}
figure{margin:1em 0;page-break-inside:avoid}svg{max-width:100%;height:auto}
@media print{body{margin:0;max-width:none}h2{page-break-after:avoid}table{page-break-inside:auto}tr{page-break-inside:avoid}}
";

fn num(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.2} GiB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

fn time(t: Option<i64>) -> String {
    t.and_then(chrono::DateTime::from_timestamp_micros)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "-".into())
}

fn card(out: &mut String, title: &str, value: &str, alert: bool) {
    let _ = write!(
        out,
        "<div class=\"card{}\"><b>{}</b>{}</div>",
        if alert { " alert" } else { "" },
        esc(value),
        esc(title)
    );
}

/// A table: header cells (a leading `#` marks a numeric column) and rows of
/// already escaped cells.
fn table(out: &mut String, head: &[&str], rows: &[Vec<String>]) {
    out.push_str("<table><thead><tr>");
    for h in head {
        let (cls, h) = h.strip_prefix('#').map_or(("", *h), |h| (" class=\"n\"", h));
        let _ = write!(out, "<th{cls}>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    for r in rows {
        out.push_str("<tr>");
        for (h, c) in head.iter().zip(r) {
            let cls = if h.starts_with('#') { " class=\"n\"" } else { "" };
            let _ = write!(out, "<td{cls}>{c}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}

fn sev_color(name: &str) -> plotters::style::RGBColor {
    SEVERITY.iter().find(|(n, _)| *n == name).map_or(SEVERITY[3].1, |(_, c)| *c)
}

fn figure(out: &mut String, svg: &str) {
    out.push_str("<figure>");
    out.push_str(svg);
    out.push_str("</figure>");
}

/// The page.
pub(crate) fn page(a: &Analysis, summary: &Value, run: &CostRun) -> Result<String, crate::Error> {
    let s = &a.summary;
    let o = &run.outcome;
    let cur = o.currency.as_str();
    let mut h = String::with_capacity(256 << 10);
    h.push_str("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">");
    h.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>leakledger report</title><style>");
    h.push_str(STYLE);
    h.push_str("</style></head><body>");
    let _ = write!(
        h,
        "<h1>Leak report</h1><p class=\"sub\">{} records from {} source(s), {} to {}. Made by leakledger {}; {}.</p>",
        num(s.records.total),
        a.scan.sources.len(),
        esc(s.window.first.as_deref().unwrap_or("-")),
        esc(s.window.last.as_deref().unwrap_or("-")),
        env!("CARGO_PKG_VERSION"),
        if a.secret_values.is_some() {
            "<strong class=\"sev-critical\">this report shows secret values (made with --reveal-secrets): handle it as the secrets themselves</strong>"
        } else {
            "secrets are shown redacted (kind, fixed prefix, fingerprint)"
        },
    );
    // Headline.
    h.push_str("<h2>What leaked</h2><div class=\"cards\">");
    let sev = |k: &str| s.secrets.by_severity.get(k).copied().unwrap_or(0);
    card(&mut h, "organisations", &num(s.exposure.organizations), false);
    card(&mut h, "repositories", &num(s.exposure.repositories), false);
    card(&mut h, "files with content", &num(s.exposure.files), false);
    card(&mut h, "paths mentioned", &num(s.exposure.paths), false);
    card(&mut h, "distinct code", &bytes(s.exposure.code_bytes), false);
    card(&mut h, "distinct secrets", &num(s.secrets.distinct), false);
    card(&mut h, "critical secrets (rotate in 24 h)", &num(sev("critical")), sev("critical") > 0);
    card(&mut h, "high secrets (rotate in 72 h)", &num(sev("high")), sev("high") > 0);
    card(&mut h, "request chains", &num(s.chains.total), false);
    card(&mut h, "proprietary identifiers", &num(s.exposure.identifiers), false);
    card(&mut h, "expected cost (mean)", &money(cur, o.total.mean), false);
    card(&mut h, "P(burst budget exceeded)", &format!("{:.1}%", 100.0 * o.p_exceed), o.p_exceed >= 0.5);
    h.push_str("</div>");
    let _ = write!(
        h,
        "<p>Records: {} read, {} malformed, {} duplicates. Chains: {} orphan request(s), longest {} requests, {} logged before their parent (clock skew), {} parent cycle(s).</p>",
        num(s.records.total),
        num(s.records.malformed),
        num(s.records.duplicates),
        num(s.chains.orphans),
        num(s.chains.max_length),
        num(s.chains.skewed),
        num(s.chains.cycles)
    );
    // Over time.
    let day = |t: i64| t.div_euclid(86_400_000_000);
    let mut per_day: BTreeMap<i64, u64> = BTreeMap::new();
    for r in a.requests.iter() {
        if let Some(t) = r.time {
            *per_day.entry(day(t)).or_default() += 1;
        }
    }
    let mut secret_days: BTreeMap<i64, u64> = BTreeMap::new();
    for e in a.inventory.secrets() {
        if let Some(t) = e.first_seen {
            *secret_days.entry(day(t)).or_default() += 1;
        }
    }
    figure(
        &mut h,
        &charts::over_time(&per_day.into_iter().collect::<Vec<_>>(), &secret_days.into_iter().collect::<Vec<_>>())?,
    );
    // Organisations.
    h.push_str("<h2>Organisations</h2>");
    let mut orgs: Vec<(&String, &leakledger::OrgSummary)> = s.by_organization.iter().collect();
    orgs.sort_by(|x, y| y.1.files.cmp(&x.1.files).then(y.1.records.cmp(&x.1.records)).then(x.0.cmp(y.0)));
    let org_bars: Vec<Bar> = orgs
        .iter()
        .take(15)
        .map(|(n, o)| Bar { label: (*n).clone(), from: 0.0, to: o.files as f64, color: charts_blue() })
        .collect();
    figure(
        &mut h,
        &charts::bars("by organisation", "Files exposed, by organisation (top 15)", &org_bars, &|v| format!("{v:.0}"))?,
    );
    let rows: Vec<Vec<String>> = orgs
        .iter()
        .take(25)
        .map(|(n, o)| {
            let g = |k: &str| num(o.secrets.get(k).copied().unwrap_or(0));
            vec![
                esc(n),
                num(o.records),
                num(o.repositories),
                num(o.files),
                g("critical"),
                g("high"),
                g("medium"),
                g("low"),
            ]
        })
        .collect();
    table(
        &mut h,
        &["organisation", "#records", "#repositories", "#files", "#critical", "#high", "#medium", "#low"],
        &rows,
    );
    if orgs.len() > 25 {
        let _ = write!(h, "<p class=\"sub\">… and {} more in tables/organizations.csv.</p>", orgs.len() - 25);
    }
    // Repositories.
    h.push_str("<h2>Repositories</h2>");
    let mut files_of: BTreeMap<&str, u64> = BTreeMap::new();
    let mut langs_of: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
    for f in a.inventory.files_unordered() {
        *files_of.entry(f.repository.as_str()).or_default() += 1;
        *langs_of.entry(f.repository.as_str()).or_default().entry(f.language).or_default() += 1;
    }
    let mut repos = a.inventory.repositories();
    repos.sort_by(|x, y| files_of.get(y.key.as_str()).cmp(&files_of.get(x.key.as_str())).then(x.key.cmp(&y.key)));
    let rows: Vec<Vec<String>> = repos
        .iter()
        .take(25)
        .map(|r| {
            let langs = langs_of.get(r.key.as_str()).map(|m| {
                let mut v: Vec<(&&str, &u64)> = m.iter().collect();
                v.sort_by(|a, b| b.1.cmp(a.1));
                v.iter().take(3).map(|(l, n)| format!("{l} ({n})")).collect::<Vec<_>>().join(", ")
            });
            vec![
                format!("<code>{}</code>", esc(&r.key)),
                esc(&r.org),
                num(files_of.get(r.key.as_str()).copied().unwrap_or(0)),
                esc(&langs.unwrap_or_default()),
            ]
        })
        .collect();
    table(&mut h, &["repository", "organisation", "#files", "languages"], &rows);
    let mut langs: Vec<(&String, &u64)> = s.exposure.languages.iter().collect();
    langs.sort_by(|x, y| y.1.cmp(x.1).then(x.0.cmp(y.0)));
    let _ = write!(
        h,
        "<p>Files by language: {}.</p>",
        langs.iter().map(|(l, n)| format!("{} {}", esc(l), num(**n))).collect::<Vec<_>>().join(", ")
    );
    // Secrets.
    h.push_str("<h2>Secrets, in the order to rotate them</h2>");
    let mut kind_sev: BTreeMap<&str, Severity> = BTreeMap::new();
    for e in a.inventory.secrets() {
        let k = kind_sev.entry(e.found.kind).or_insert(e.found.severity);
        *k = (*k).max(e.found.severity);
    }
    let mut kinds: Vec<(&String, &u64)> = s.secrets.by_kind.iter().collect();
    kinds.sort_by(|x, y| y.1.cmp(x.1).then(x.0.cmp(y.0)));
    let kind_bars: Vec<Bar> = kinds
        .iter()
        .map(|(k, n)| Bar {
            label: format!("{k} ({})", kind_sev.get(k.as_str()).map_or("low", |s| s.name())),
            from: 0.0,
            to: **n as f64,
            color: sev_color(kind_sev.get(k.as_str()).map_or("low", |s| s.name())),
        })
        .collect();
    if !kind_bars.is_empty() {
        figure(
            &mut h,
            &charts::bars("secrets by kind", "Distinct secrets by kind, coloured by severity", &kind_bars, &|v| {
                format!("{v:.0}")
            })?,
        );
    }
    let rows: Vec<Vec<String>> = a
        .inventory
        .secrets()
        .iter()
        .take(40)
        .map(|e| {
            let sev = e.found.severity.name();
            vec![
                format!("<span class=\"sev-{sev}\">{sev}</span>"),
                esc(e.found.kind),
                match a.secret_value(&e.found.fingerprint) {
                    Some(v) => format!("<code>{}</code><br><code>{}</code>", esc(&e.found.redacted()), esc(v)),
                    None => format!("<code>{}</code>", esc(&e.found.redacted())),
                },
                num(e.occurrences),
                esc(&e.holders.iter().map(String::as_str).collect::<Vec<_>>().join(", ")),
                esc(&time(e.first_seen)),
            ]
        })
        .collect();
    table(&mut h, &["severity", "kind", "redacted", "#records", "organisations", "first seen"], &rows);
    if s.secrets.distinct > 40 {
        let _ = write!(h, "<p class=\"sub\">… and {} more in tables/secrets.csv.</p>", s.secrets.distinct - 40);
    }
    // Chains.
    h.push_str("<h2>How it flowed: request chains</h2>");
    let mut chains: Vec<&leakledger::ChainEntry> = a.chain_entries.iter().collect();
    chains.sort_by(|x, y| y.files.cmp(&x.files).then(y.requests.cmp(&x.requests)).then(x.id.cmp(&y.id)));
    let rows: Vec<Vec<String>> = chains
        .iter()
        .take(20)
        .map(|c| {
            vec![
                num(u64::from(c.id)),
                esc(&c.org),
                esc(&c.user),
                format!("<code>{}</code>", esc(&c.repository)),
                esc(&time(c.first)),
                esc(&time(c.last)),
                num(c.requests),
                num(c.files),
                bytes(c.code_bytes),
                num(c.secrets.len() as u64),
            ]
        })
        .collect();
    table(
        &mut h,
        &["#chain", "organisation", "user", "repository", "first", "last", "#requests", "#files", "#code", "#secrets"],
        &rows,
    );
    // Cost.
    let t = &o.total;
    let _ = write!(
        h,
        "<h2>What it will cost</h2><p>{} runs of the cost model: total cost mean <b>{}</b> (P10 {}, P50 {}, P90 {}, P99 {}); cash from the burst-budget pool mean {} against a ceiling of {}: P(exceeded within {} days) = <b>{:.1}%</b>; the median spend crosses it {}.</p>",
        num(o.iterations),
        money(cur, t.mean),
        money(cur, t.p10),
        money(cur, t.p50),
        money(cur, t.p90),
        money(cur, t.p99),
        money(cur, o.pool.mean),
        money(cur, o.budget),
        o.horizon_days,
        100.0 * o.p_exceed,
        o.day_p50_crosses.map_or("not within the horizon".to_string(), |d| format!("on day {d}")),
    );
    figure(&mut h, &charts::loss_exceedance(&o.loss_exceedance, o.budget, cur)?);
    let days: Vec<(f64, f64, f64, f64)> = o.daily.iter().map(|d| (f64::from(d.day), d.p10, d.p50, d.p90)).collect();
    let due: Vec<(u32, &str)> = run.deadlines.iter().map(|d| (d.day, d.name)).collect();
    figure(&mut h, &charts::burn_down(&days, o.budget, &due, cur)?);
    let base = o.total.mean;
    let swing: Vec<Bar> = o
        .tornado
        .iter()
        .take(10)
        .map(|w| Bar {
            label: w.name.clone(),
            from: w.mean_at_p10 - base,
            to: w.mean_at_p90 - base,
            color: charts_blue(),
        })
        .collect();
    if !swing.is_empty() {
        figure(
            &mut h,
            &charts::bars(
                "sensitivity",
                "Sensitivity: change of the mean total with each input at its P10 .. P90",
                &swing,
                &|v| money(cur, v),
            )?,
        );
    }
    let rows: Vec<Vec<String>> = o
        .components
        .iter()
        .map(|c| {
            vec![
                esc(&c.name),
                money(cur, c.stats.mean),
                money(cur, c.stats.p10),
                money(cur, c.stats.p90),
                if c.pool { "pool".into() } else { "economic".into() },
                esc(&c.source),
            ]
        })
        .collect();
    table(&mut h, &["component", "#mean", "#P10", "#P90", "paid from", "source"], &rows);
    let _ = write!(
        h,
        "<p>Deadlines from awareness ({}): {}.</p>",
        esc(&run.awareness.map(|a| a.to_rfc3339()).unwrap_or_else(|| "unknown".into())),
        run.deadlines.iter().map(|d| format!("day {} {}", d.day, esc(d.name))).collect::<Vec<_>>().join("; ")
    );
    for w in &run.warnings {
        let _ = write!(h, "<p class=\"sub\">Model warning: {}</p>", esc(w));
    }
    // Evidence.
    h.push_str("<h2>Evidence</h2>");
    let rows: Vec<Vec<String>> = a
        .scan
        .sources
        .iter()
        .map(|src| {
            vec![
                format!("<code>{}</code>", esc(&src.path.display().to_string())),
                esc(&summary_name(&src.format)),
                esc(&summary_name(&src.compression)),
                num(src.records + src.malformed),
                num(src.malformed),
                format!("<code>{}</code>", esc(src.sha256.as_deref().unwrap_or("-"))),
            ]
        })
        .collect();
    table(&mut h, &["source", "format", "compression", "#records", "#malformed", "SHA-256"], &rows);
    let _ = write!(
        h,
        "<p class=\"sub\">Full tables: tables/*.parquet and *.csv; SARIF: findings.sarif; Timesketch timeline: timeline.jsonl; chain of custody: manifest.json. Summary schema {}.</p>",
        esc(&summary["schema"].to_string())
    );
    h.push_str("</body></html>\n");
    Ok(h)
}

fn charts_blue() -> plotters::style::RGBColor {
    plotters::style::RGBColor(33, 102, 172)
}

fn summary_name<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}
