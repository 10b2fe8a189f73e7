//! `leakledger synth`: generate a synthetic dump and its ground truth.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::cli::SynthArgs;
use crate::output::{bytes, count, path};

pub(crate) fn run(args: &SynthArgs) -> Result<ExitCode> {
    if args.output.exists()
        && std::fs::read_dir(&args.output)
            .with_context(|| format!("cannot read {}", path(&args.output)))?
            .next()
            .is_some()
    {
        bail!("{} is not empty; choose a new folder", path(&args.output));
    }
    std::fs::create_dir_all(&args.output).with_context(|| format!("cannot create {}", path(&args.output)))?;
    let options = leakledger_synth::Options::new()
        .size(args.size)
        .seed(args.seed)
        .orgs(args.orgs)
        .gzip(args.gzip)
        .formats(&args.formats)
        .shard_bytes(args.shard_size)
        .ids(!args.no_ids)
        .turns(args.max_turns);
    let started = Instant::now();
    let truth = leakledger_synth::generate(&args.output, &options)?;
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    let raw: u64 = truth.shards.iter().map(|s| s.bytes).sum();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    writeln!(
        out,
        "wrote {} shards, {} before compression, in {:.2} s ({}/s)",
        truth.shards.len(),
        bytes(raw),
        secs,
        bytes((raw as f64 / secs) as u64)
    )?;
    writeln!(
        out,
        "records: {} ({} malformed, {} duplicates); chains: {}; organisations: {}; repositories: {}; files: {}; secrets: {}",
        count(truth.records.total),
        count(truth.records.malformed),
        count(truth.records.duplicates),
        count(truth.chains.total),
        count(truth.exposure.organizations),
        count(truth.exposure.repositories),
        count(truth.exposure.files),
        count(truth.secrets.distinct),
    )?;
    writeln!(out, "dump:  {}", path(&args.output.join("dump")))?;
    writeln!(out, "truth: {}", path(&args.output.join("truth.json")))?;
    Ok(ExitCode::SUCCESS)
}
