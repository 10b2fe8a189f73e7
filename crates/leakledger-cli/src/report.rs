//! `leakledger report` and `leakledger demo`: analyse a dump and write the
//! report folder (crates/leakledger-report), then print where it is and the
//! headline figures.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use leakledger::Dump;

use crate::cli::{DemoArgs, InputArgs, ModelArgs, ReportArgs};
use crate::cost::{awareness, load_model};
use crate::output::{bytes, count, path, term_safe};

fn settings(model: &ModelArgs, force: bool) -> Result<leakledger_report::Settings> {
    let mut m = load_model(model.model.as_deref())?;
    if let Some(b) = model.budget {
        m.budget = b;
    }
    Ok(leakledger_report::Settings {
        force,
        model: m,
        awareness: awareness(model.awareness.as_deref())?,
        // Arguments are the user's own, not dump content; terminal-safe all the same.
        command: std::env::args_os().map(|a| a.to_string_lossy().into_owned()).collect(),
        started: chrono::Utc::now(),
    })
}

/// Analyses `input` and writes the report into `dir`; prints the overview (or
/// the summary as JSON).
fn analyse_and_write(
    input: &InputArgs,
    dir: &Path,
    settings: &leakledger_report::Settings,
    json: bool,
) -> Result<ExitCode> {
    let (dump, analysis, elapsed) = crate::scan::open_and_analyse(input, true)?;
    let started = std::time::Instant::now();
    let written = leakledger_report::write(&analysis, dir, settings)
        .with_context(|| format!("cannot write the report into {}", path(dir)))?;
    let report_time = started.elapsed();
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    if json {
        serde_json::to_writer_pretty(&mut out, &written.summary)?;
        writeln!(out)?;
    } else {
        crate::scan::human(&mut out, &dump, &analysis, elapsed, 10)?;
        overview(&mut out, &dump, &written, report_time)?;
    }
    out.flush()?;
    let code = if dump.sources().is_empty() { ExitCode::from(2) } else { ExitCode::SUCCESS };
    // The process ends here: the analysis is not freed entry by entry (see `scan`).
    std::mem::forget(analysis);
    Ok(code)
}

fn overview(
    out: &mut impl Write,
    dump: &Dump,
    w: &leakledger_report::Written,
    took: std::time::Duration,
) -> io::Result<()> {
    let o = &w.cost.outcome;
    writeln!(
        out,
        "\ncost:      mean {:.2}M {cur} (P10 {:.2}M, P90 {:.2}M); P(burst budget of {:.2}M exceeded) {:.1}%",
        o.total.mean / 1e6,
        o.total.p10 / 1e6,
        o.total.p90 / 1e6,
        o.budget / 1e6,
        100.0 * o.p_exceed,
        cur = term_safe(&o.currency),
    )?;
    let size: u64 = w.files.iter().filter_map(|f| std::fs::metadata(w.dir.join(f)).ok()).map(|m| m.len()).sum();
    writeln!(
        out,
        "\nreport:    {} ({} files, {}, written in {:.2} s; {} timeline events, {} requests without a time)",
        path(&w.dir),
        count(w.files.len() as u64),
        bytes(size),
        took.as_secs_f64(),
        count(w.timeline.events),
        count(w.timeline.untimed),
    )?;
    writeln!(out, "open:      {}", path(&w.dir.join("report.html")))?;
    if dump.sources().is_empty() {
        writeln!(out, "nothing readable was found in the given paths")?;
    }
    Ok(())
}

pub(crate) fn run(args: &ReportArgs) -> Result<ExitCode> {
    let settings = settings(&args.model, args.force)?;
    analyse_and_write(&args.input, &args.output, &settings, args.json)
}

/// A folder for the demo: the given one (absent or empty), else a new one in the
/// system's temporary folder.
fn demo_dir(given: Option<&Path>) -> Result<PathBuf> {
    match given {
        Some(d) => {
            if d.exists() && std::fs::read_dir(d).with_context(|| format!("cannot read {}", path(d)))?.next().is_some()
            {
                bail!("{} is not empty; choose a new folder", path(d));
            }
            std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", path(d)))?;
            Ok(d.to_path_buf())
        }
        None => Ok(tempfile::Builder::new().prefix("leakledger-demo-").tempdir()?.keep()),
    }
}

pub(crate) fn demo(args: &DemoArgs) -> Result<ExitCode> {
    let dir = demo_dir(args.output.as_deref())?;
    // The bundled sample's options (notebooks-data/README.md) unless told otherwise.
    let options = leakledger_synth::Options::new().size(args.size).orgs(12).seed(args.seed).shard_bytes(512 << 10);
    let truth = leakledger_synth::generate(&dir, &options)?;
    if !args.json {
        #[allow(clippy::print_stdout)]
        {
            println!(
                "generated a synthetic dump of {} records from {} organisations in {} (ground truth: {})\n",
                count(truth.records.total),
                count(truth.exposure.organizations),
                path(&dir.join("dump")),
                path(&dir.join("truth.json")),
            );
        }
    }
    let input = InputArgs {
        paths: vec![dir.join("dump")],
        format: None,
        threads: None,
        no_mmap: false,
        max_decompressed: 64 << 30,
        max_ratio: 1000,
        identifiers: Vec::new(),
        fingerprint_key: None,
        reveal_secrets: false,
        rules: None,
        quiet: args.quiet,
    };
    let model = ModelArgs { model: None, budget: None, awareness: None };
    analyse_and_write(&input, &dir.join("report"), &settings(&model, false)?, args.json)
}
