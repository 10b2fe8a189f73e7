//! `leakledger scan`: read a dump, print what it holds per source and in total.

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Result;
use leakledger::{Analysis, Dump, Options};
use serde::Serialize;

use crate::cli::ScanArgs;
use crate::output::{bytes, count, path, term_safe};

/// Opens and analyses the dump described by `args`, with a progress bar on a
/// terminal for long scans.
pub(crate) fn open_and_analyse(args: &ScanArgs) -> Result<(Dump, Analysis, Duration)> {
    let options = Options::new()
        .format(args.format)
        .mmap(!args.no_mmap)
        .hash(args.hash)
        .threads(args.threads)
        .max_decompressed_bytes(args.max_decompressed)
        .max_ratio(args.max_ratio);
    let dump = Dump::open(&args.paths, &options)?;
    let started = Instant::now();
    let show = !args.quiet && dump.total_bytes() > 64 << 20;
    let done = std::sync::atomic::AtomicBool::new(false);
    let analysis = std::thread::scope(|s| {
        let bar = s.spawn(|| {
            if !show {
                return;
            }
            let bar = indicatif::ProgressBar::new(dump.total_bytes());
            bar.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {binary_bytes_per_sec} {eta}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                bar.set_position(dump.bytes_done());
                std::thread::sleep(Duration::from_millis(100));
            }
            bar.finish_and_clear();
        });
        let analysis = leakledger::analyse(&dump);
        done.store(true, std::sync::atomic::Ordering::Relaxed);
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
    let (dump, analysis, elapsed) = open_and_analyse(args)?;
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    if args.json {
        let json = JsonOut { summary: &analysis.summary, sources: &analysis.scan.sources, skipped: dump.skipped() };
        serde_json::to_writer_pretty(&mut out, &json)?;
        writeln!(out)?;
    } else {
        human(&mut out, &dump, &analysis, elapsed)?;
    }
    out.flush()?;
    // Nothing readable at all is an input error.
    Ok(if dump.sources().is_empty() { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

fn human(out: &mut impl Write, dump: &Dump, a: &Analysis, elapsed: Duration) -> io::Result<()> {
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
