//! `leakledger scan`: read a dump, print what it holds per source and in total.

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Result;
use leakledger::{Analysis, Dump, Options};
use serde::Serialize;

use crate::cli::{InputArgs, ScanArgs};
use crate::output::{bytes, count, path, term_safe};

/// Opens and analyses the dump described by `args` (hashing each source when
/// `hash`), with a progress bar on a terminal for long scans.
pub(crate) fn open_and_analyse(args: &InputArgs, hash: bool) -> Result<(Dump, Analysis, Duration)> {
    let options = Options::new()
        .format(args.format)
        .mmap(!args.no_mmap)
        .hash(hash)
        .threads(args.threads)
        .max_decompressed_bytes(args.max_decompressed)
        .max_ratio(args.max_ratio);
    let rules = crate::rules::load_rules(args.rules.as_deref())?;
    let dump = Dump::open(&args.paths, &options)?;
    let started = Instant::now();
    let show = !args.quiet && dump.total_bytes() > 64 << 20;
    // The bar's thread ticks every 100 ms until the analysis hangs up; it is
    // woken at once then (a sleep made every scan wait up to 100 ms for it).
    let (done, ticks) = std::sync::mpsc::channel::<()>();
    let shared = &dump;
    let analysis = std::thread::scope(|s| {
        let bar = s.spawn(move || {
            let dump = shared;
            if !show {
                return;
            }
            let bar = indicatif::ProgressBar::new(dump.total_bytes());
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {binary_bytes_per_sec} {eta}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = ticks.recv_timeout(Duration::from_millis(100)) {
                bar.set_position(dump.bytes_done());
            }
            bar.finish_and_clear();
        });
        let config = leakledger::Config {
            identifiers: args.identifiers.clone(),
            fingerprint_key: args.fingerprint_key,
            reveal_secrets: args.reveal_secrets,
            rules,
        };
        let analysis = leakledger::analyse_with(&dump, &config);
        drop(done);
        let _ = bar.join();
        analysis
    });
    Ok((dump, analysis, started.elapsed()))
}

#[derive(Serialize)]
struct JsonOut<'a> {
    #[serde(flatten)]
    summary: &'a leakledger::Summary,
    sources: &'a [leakledger::SourceReport],
    skipped: &'a [leakledger::Skipped],
}

pub(crate) fn run(args: &ScanArgs) -> Result<ExitCode> {
    let (dump, analysis, elapsed) = open_and_analyse(&args.input, args.hash)?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    if args.json {
        let json = JsonOut { summary: &analysis.summary, sources: &analysis.scan.sources, skipped: dump.skipped() };
        serde_json::to_writer_pretty(&mut out, &json)?;
        writeln!(out)?;
    } else {
        human(&mut out, &dump, &analysis, elapsed, args.top)?;
    }
    out.flush()?;
    // Nothing readable at all is an input error.
    let code = if dump.sources().is_empty() { ExitCode::from(2) } else { ExitCode::SUCCESS };
    // The process ends here: freeing a million files' entries one by one would
    // only delay the exit (a tenth of a second on 248k files).
    std::mem::forget(analysis);
    Ok(code)
}

pub(crate) fn human(out: &mut impl Write, dump: &Dump, a: &Analysis, elapsed: Duration, top: usize) -> io::Result<()> {
    let scan = &a.scan;
    let secs = elapsed.as_secs_f64().max(1e-9);
    writeln!(
        out,
        "{} sources, {} on disk, {} parsed in {:.2} s ({}/s)",
        count(dump.sources().len() as u64),
        bytes(dump.total_bytes()),
        bytes(scan.bytes()),
        secs,
        bytes((scan.bytes() as f64 / secs) as u64),
    )?;
    if !scan.sources.is_empty() {
        writeln!(out)?;
        writeln!(out, "  {:<10} {:<5} {:>10} {:>12} {:>10}  PATH", "FORMAT", "COMP", "SIZE", "RECORDS", "MALFORMED")?;
        for s in &scan.sources {
            writeln!(
                out,
                "  {:<10} {:<5} {:>10} {:>12} {:>10}  {}",
                s.format.name(),
                s.compression.name(),
                bytes(s.size),
                count(s.records),
                count(s.malformed),
                path(&s.path),
            )?;
        }
    }
    let r = &a.summary.records;
    writeln!(out)?;
    writeln!(
        out,
        "records:   {} total, {} malformed, {} duplicates",
        count(r.total),
        count(r.malformed),
        count(r.duplicates)
    )?;
    let w = &a.summary.window;
    match (&w.first, &w.last) {
        (Some(f), Some(l)) => writeln!(out, "window:    {f} .. {l}")?,
        _ => writeln!(out, "window:    no timestamps")?,
    }
    let c = &a.summary.chains;
    writeln!(out, "chains:    {} ({} orphans, longest {})", count(c.total), count(c.orphans), count(c.max_length))?;
    exposure(out, a, top)?;
    if !dump.skipped().is_empty() {
        writeln!(out, "\nskipped ({}):", dump.skipped().len())?;
        for s in dump.skipped() {
            writeln!(out, "  {}: {}", path(&s.path), term_safe(&s.reason))?;
        }
    }
    let problems: Vec<_> = scan.sources.iter().flat_map(|s| s.problems.iter().map(move |p| (s, p))).collect();
    if !problems.is_empty() {
        writeln!(out, "\nproblems ({}):", problems.len())?;
        for (s, p) in problems {
            writeln!(out, "  {}: {}", path(&s.path), term_safe(&p.to_string()))?;
        }
    }
    let samples: Vec<_> =
        scan.sources.iter().flat_map(|s| s.malformed_samples.iter().map(move |m| (s, m))).take(10).collect();
    if !samples.is_empty() {
        writeln!(out, "\nmalformed records (first {}):", samples.len())?;
        for (s, m) in samples {
            writeln!(out, "  {}:{} (byte {}): {}", path(&s.path), m.line, m.offset, m.reason)?;
        }
    }
    Ok(())
}

/// The exposure part of the human summary: totals, languages, the organisations
/// and repositories with the most files, proprietary identifiers.
fn exposure(out: &mut impl Write, a: &Analysis, top: usize) -> io::Result<()> {
    let e = &a.summary.exposure;
    writeln!(
        out,
        "exposure:  {} organisations, {} repositories, {} files ({} paths), {} of code",
        count(e.organizations),
        count(e.repositories),
        count(e.files),
        count(e.paths),
        bytes(e.code_bytes)
    )?;
    if !e.languages.is_empty() {
        let mut langs: Vec<(&String, &u64)> = e.languages.iter().collect();
        langs.sort_by(|x, y| y.1.cmp(x.1).then(x.0.cmp(y.0)));
        let list: Vec<String> = langs.iter().map(|(l, n)| format!("{} {}", term_safe(l), count(**n))).collect();
        writeln!(out, "languages: {}", list.join(", "))?;
    }
    let inv = &a.inventory;
    // Per organisation: repositories and files (as the summary counted them).
    let by_org = &a.summary.by_organization;
    let mut rows: Vec<(&str, u64, u64, u64)> = inv
        .organization_entries()
        .into_iter()
        .map(|(o, e)| (o, by_org.get(o).map_or(0, |x| x.repositories), by_org.get(o).map_or(0, |x| x.files), e.records))
        .collect();
    rows.sort_by(|x, y| y.2.cmp(&x.2).then(y.3.cmp(&x.3)).then(x.0.cmp(y.0)));
    if !rows.is_empty() {
        writeln!(out, "\ntop organisations by files exposed ({} of {}):", rows.len().min(top), rows.len())?;
        writeln!(out, "  {:<28} {:>6} {:>8} {:>10}", "ORGANISATION", "REPOS", "FILES", "RECORDS")?;
        for (o, repos, files, recs) in rows.iter().take(top) {
            writeln!(out, "  {:<28} {:>6} {:>8} {:>10}", term_safe(o), repos, count(*files), count(*recs))?;
        }
    }
    // Per repository: files, and the organisation of its first file by path.
    // foldhash, not the standard SipHash: a million files' repository names
    // hashed one by one are tens of milliseconds of the scan's serial end.
    let mut repo_files: foldhash::HashMap<&str, (u64, &str, &str)> = foldhash::HashMap::default();
    for f in inv.files_unordered() {
        let e = repo_files.entry(f.repository.as_str()).or_insert((0, f.path.as_str(), f.org.as_str()));
        e.0 += 1;
        if f.path.as_str() < e.1 {
            (e.1, e.2) = (f.path.as_str(), f.org.as_str());
        }
    }
    let mut repos: Vec<(&str, u64, &str)> =
        repo_files.into_iter().filter(|(k, _)| !k.is_empty()).map(|(k, (n, _, o))| (k, n, o)).collect();
    repos.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(y.0)));
    if !repos.is_empty() {
        writeln!(out, "\ntop repositories by files exposed ({} of {}):", repos.len().min(top), count(e.repositories))?;
        for (k, n, o) in repos.iter().take(top) {
            writeln!(out, "  {:>6}  {}  ({})", count(*n), term_safe(k), term_safe(o))?;
        }
    }
    let s = &a.summary.secrets;
    let sev = |k: &str| s.by_severity.get(k).copied().unwrap_or(0);
    writeln!(
        out,
        "\nsecrets:   {} distinct ({} critical, {} high, {} medium, {} low), {} occurrences",
        count(s.distinct),
        count(sev("critical")),
        count(sev("high")),
        count(sev("medium")),
        count(sev("low")),
        count(s.occurrences)
    )?;
    let secrets = inv.secrets();
    if !secrets.is_empty() {
        writeln!(out, "  rotate first ({} of {}):", secrets.len().min(top), count(s.distinct))?;
        for e in secrets.iter().take(top) {
            let holders: Vec<&str> = e.holders.iter().map(String::as_str).take(3).collect();
            writeln!(
                out,
                "  {:<8} {:<44} {:>6}x  {}{}",
                e.found.severity.name(),
                term_safe(&match a.secret_value(&e.found.fingerprint) {
                    Some(v) => format!("{} = {v}", e.found.redacted()),
                    None => e.found.redacted(),
                }),
                count(e.occurrences),
                term_safe(&holders.join(", ")),
                if e.holders.len() > 3 { format!(" +{}", e.holders.len() - 3) } else { String::new() }
            )?;
        }
    }
    let ids = inv.identifiers();
    if !ids.is_empty() {
        writeln!(out, "\nproprietary identifiers ({}):", count(ids.len() as u64))?;
        for (o, id, e) in ids.iter().take(top * 3) {
            writeln!(out, "  {}: {} ({} occurrences)", term_safe(o), term_safe(id), count(e.occurrences))?;
        }
    }
    Ok(())
}
