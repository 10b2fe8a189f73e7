//! The command line (design.md §8), declared with clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use leakledger::Format;

/// Analyse leaked AI-assistant request logs: what leaked, how it flowed, what it costs.
#[derive(Debug, Parser)]
#[command(name = "leakledger", version, about, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Analyse a dump (files or directories): records, chains, exposure and secrets, per source and in total.
    Scan(ScanArgs),
    /// Generate a synthetic leaked dump with its exact ground truth (DIR/dump/, DIR/truth.json).
    Synth(SynthArgs),
    /// Project what the leak will cost, day by day, against the burst budget.
    Cost(CostArgs),
    /// Analyse a dump and write the report folder: summary.json, manifest.json,
    /// findings.sarif, timeline.jsonl, cost.json, tables/ (Parquet, CSV), report.html.
    Report(ReportArgs),
    /// Generate a sample dump and write its full report, printing where they are.
    Demo(DemoArgs),
    /// Check files or standard input for secrets and proprietary identifiers before
    /// they are stored; exit 1 when any is found (or, with --redact, print the text
    /// with every secret replaced by its redacted form).
    Gate(GateArgs),
    /// List the secret rules (built-in, and a rule file's): id, kind, severity,
    /// keywords and pattern; or export their regexes for other tools.
    Rules(RulesArgs),
}

/// Options for listing the rules.
#[derive(Debug, Args)]
pub(crate) struct RulesArgs {
    /// A rule file to load besides the built-in rules (as `scan --rules`).
    #[arg(long, value_name = "FILE")]
    pub(crate) rules: Option<PathBuf>,
    /// Print the rules as JSON: [{id, kind, severity, keywords, pattern, group, min_entropy}].
    #[arg(long, conflicts_with = "export_regex")]
    pub(crate) json: bool,
    /// Print one regex per line (each rule's pattern), as `rg -f` or `grep -E -f`
    /// read them: for comparing with other tools like for like.
    #[arg(long)]
    pub(crate) export_regex: bool,
}

/// Options for the gate.
#[derive(Debug, Args)]
pub(crate) struct GateArgs {
    /// Files or directories to check (walked as `scan` walks them; gzip and zstd
    /// files decompressed within `scan`'s default limits); `-` or nothing for
    /// standard input.
    #[arg(value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
    /// Print the findings as JSON: {"findings": [{path, line, kind, rule, severity, fingerprint, redacted}]}.
    #[arg(long, conflicts_with = "sarif")]
    pub(crate) json: bool,
    /// Print the findings as SARIF 2.1.0 (for code-scanning dashboards): one result
    /// per finding, located by file and line, redacted, fingerprinted.
    #[arg(long)]
    pub(crate) sarif: bool,
    /// A proprietary identifier prefix or name to flag (e.g. `com.mycorp.`); repeatable.
    #[arg(long = "identifier", value_name = "PREFIX")]
    pub(crate) identifiers: Vec<String>,
    /// Act as a filter: print the input with every secret replaced by its redacted
    /// form (standard input or one file), and exit 0.
    #[arg(long)]
    pub(crate) redact: bool,
    /// Secret rules to run besides the built-in ones: a TOML file in gitleaks'
    /// format (its default config imports as it is) or ours (the same, plus
    /// `kind`, `severity`, `positives`, `negatives`); rules that cannot run are
    /// listed on stderr and left out.
    #[arg(long, value_name = "FILE")]
    pub(crate) rules: Option<PathBuf>,
    /// Read files instead of memory-mapping them (for files that may still be
    /// written: a log being appended to or rotated, a file an editor saves).
    #[arg(long)]
    pub(crate) no_mmap: bool,
}

/// Options for the cost projection.
#[derive(Debug, Args)]
pub(crate) struct CostArgs {
    /// A summary.json (as `scan --json` prints it); not needed with --print-model.
    #[arg(value_name = "SUMMARY.json", required_unless_present = "print_model")]
    pub(crate) summary: Option<PathBuf>,
    /// A cost model in TOML (default: the built-in one; see --print-model).
    #[arg(long, value_name = "FILE")]
    pub(crate) model: Option<PathBuf>,
    /// The burst-budget ceiling, overriding the model's.
    #[arg(long, value_name = "USD")]
    pub(crate) budget: Option<f64>,
    /// Monte Carlo iterations, overriding the model's.
    #[arg(long, value_name = "N")]
    pub(crate) iterations: Option<u64>,
    /// Seed, overriding the model's.
    #[arg(long, value_name = "N")]
    pub(crate) seed: Option<u64>,
    /// What-if: set one parameter, `component.param=value` (repeatable).
    #[arg(long = "set", value_name = "C.P=V")]
    pub(crate) set: Vec<String>,
    /// Compare with a second run that also sets `component.param=value` (repeatable),
    /// on the same random numbers, and print both side by side.
    #[arg(long = "compare", value_name = "C.P=V")]
    pub(crate) compare: Vec<String>,
    /// Day 0 of the projection (default: the end of the leak window), as
    /// YYYY-MM-DD or RFC 3339.
    #[arg(long, value_name = "DATE")]
    pub(crate) awareness: Option<String>,
    /// Print the result as JSON.
    #[arg(long)]
    pub(crate) json: bool,
    /// Print the built-in model (TOML) and exit.
    #[arg(long)]
    pub(crate) print_model: bool,
}

/// Options for generating a synthetic dump.
#[derive(Debug, Args)]
pub(crate) struct SynthArgs {
    /// Output folder (created; must be empty or absent).
    #[arg(short, long, value_name = "DIR")]
    pub(crate) output: PathBuf,
    /// Approximate size before compression (e.g. 64MiB, 4.5GiB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "1GiB")]
    pub(crate) size: u64,
    /// Seed: the same seed and options give byte-identical output.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub(crate) seed: u64,
    /// Organisations in the generated world.
    #[arg(long, value_name = "N", default_value_t = 87)]
    pub(crate) orgs: usize,
    /// gzip every shard.
    #[arg(long)]
    pub(crate) gzip: bool,
    /// Formats to write, comma-separated: jsonl, cloudwatch, otlp.
    #[arg(long, value_name = "LIST", value_delimiter = ',', default_value = "jsonl,cloudwatch,otlp")]
    pub(crate) formats: Vec<String>,
    /// Target shard size before compression.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "64MiB")]
    pub(crate) shard_size: u64,
    /// Log no session or parent ids, only each request's own (as many gateways
    /// do): the same records otherwise, for measuring chains found from the
    /// conversations alone.
    #[arg(long)]
    pub(crate) no_ids: bool,
    /// The most turns a session has (each draws 1 up to this): longer sessions
    /// re-send more history in every request, as long agent loops do.
    #[arg(long, value_name = "N", default_value_t = 12)]
    pub(crate) max_turns: usize,
}

/// What to read and how: the options `scan` and `report` share.
#[derive(Debug, Args)]
pub(crate) struct InputArgs {
    /// Files or directories of the dump (directories are walked).
    #[arg(required = true, value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
    /// Parse every source as this format instead of sniffing each one.
    #[arg(long, value_name = "F", value_parser = parse_format)]
    pub(crate) format: Option<Format>,
    /// Worker threads (default: one per core).
    #[arg(long, value_name = "N")]
    pub(crate) threads: Option<usize>,
    /// Read files instead of memory-mapping them (for files that may still be written).
    #[arg(long)]
    pub(crate) no_mmap: bool,
    /// Stop decompressing a source past this size (e.g. 64GiB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "64GiB")]
    pub(crate) max_decompressed: u64,
    /// Stop decompressing a source whose output exceeds this many times its input.
    #[arg(long, value_name = "RATIO", default_value_t = 1000)]
    pub(crate) max_ratio: u64,
    /// A proprietary identifier prefix or name to report per organisation (e.g.
    /// `com.mycorp.`); repeatable.
    #[arg(long = "identifier", value_name = "PREFIX")]
    pub(crate) identifiers: Vec<String>,
    /// The key of secrets' fingerprints, 64 hex digits (default: a random key per
    /// run). Give the same key to correlate fingerprints across reports.
    #[arg(long, value_name = "HEX", value_parser = parse_key)]
    pub(crate) fingerprint_key: Option<[u8; 32]>,
    /// Show secrets' values in the output (terminal, tables, SARIF, HTML). Off by
    /// default: without it no output holds a value, only its kind, the format's
    /// prefix and a fingerprint.
    #[arg(long)]
    pub(crate) reveal_secrets: bool,
    /// Secret rules to run besides the built-in ones: a TOML file in gitleaks'
    /// format (its default config imports as it is) or ours (the same, plus
    /// `kind`, `severity`, `positives`, `negatives`); rules that cannot run are
    /// listed on stderr and left out.
    #[arg(long, value_name = "FILE")]
    pub(crate) rules: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, short)]
    pub(crate) quiet: bool,
}

/// Options for reading a dump.
#[derive(Debug, Args)]
pub(crate) struct ScanArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
    /// Print the summary as JSON (the summary.json contract without the cost parts, and the sources).
    #[arg(long)]
    pub(crate) json: bool,
    /// Compute each source's SHA-256 (shown with --json). Off by default: on one
    /// large file it costs more than the parse itself; `report` always hashes.
    #[arg(long)]
    pub(crate) hash: bool,
    /// How many organisations and repositories the summary lists.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub(crate) top: usize,
}

/// Options for the cost model, as `report` and `demo` take them.
#[derive(Debug, Args)]
pub(crate) struct ModelArgs {
    /// A cost model in TOML (default: the built-in one; see `cost --print-model`).
    #[arg(long, value_name = "FILE")]
    pub(crate) model: Option<PathBuf>,
    /// The burst-budget ceiling, overriding the model's.
    #[arg(long, value_name = "USD")]
    pub(crate) budget: Option<f64>,
    /// Day 0 of the cost schedule (default: the end of the leak window), as
    /// YYYY-MM-DD or RFC 3339.
    #[arg(long, value_name = "DATE")]
    pub(crate) awareness: Option<String>,
}

/// Options for writing a report.
#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    #[command(flatten)]
    pub(crate) input: InputArgs,
    /// The report folder (created owner-only; must be absent or empty unless --force).
    #[arg(short, long, value_name = "DIR")]
    pub(crate) output: PathBuf,
    /// Write into a folder that already holds files (the report's own files are replaced).
    #[arg(long)]
    pub(crate) force: bool,
    #[command(flatten)]
    pub(crate) model: ModelArgs,
    /// Print the summary (summary.json) on standard output instead of the overview.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Options for the demonstration.
#[derive(Debug, Args)]
pub(crate) struct DemoArgs {
    /// Where to put the generated dump (DIR/dump) and its report (DIR/report);
    /// must be absent or empty (default: a new folder in the system's temporary folder).
    #[arg(short, long, value_name = "DIR")]
    pub(crate) output: Option<PathBuf>,
    /// Size of the generated dump before compression.
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "3MiB")]
    pub(crate) size: u64,
    /// Seed of the generated dump (the default makes the bundled sample).
    #[arg(long, value_name = "N", default_value_t = 20_240_501)]
    pub(crate) seed: u64,
    /// Print the summary (summary.json) on standard output instead of the overview.
    #[arg(long)]
    pub(crate) json: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub(crate) quiet: bool,
}

/// A 32-byte key written as 64 hex digits.
fn parse_key(s: &str) -> Result<[u8; 32], String> {
    let b = s.trim().as_bytes();
    if b.len() != 64 || !b.iter().all(u8::is_ascii_hexdigit) {
        return Err("a fingerprint key is 64 hex digits (32 bytes)".into());
    }
    let mut key = [0u8; 32];
    for (i, pair) in b.chunks(2).enumerate() {
        let hex = std::str::from_utf8(pair).map_err(|e| e.to_string())?;
        key[i] = u8::from_str_radix(hex, 16).map_err(|e| e.to_string())?;
    }
    Ok(key)
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

/// Parses a size such as `4096`, `64MiB`, `1GiB`, `2GB` or `512k`.
pub(crate) fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("not a size: {s:?}"))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "kb" => 1e3,
        "m" | "mib" => 1024.0 * 1024.0,
        "mb" => 1e6,
        "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "gb" => 1e9,
        "t" | "tib" => 1024.0f64.powi(4),
        "tb" => 1e12,
        _ => return Err(format!("unknown size unit in {s:?} (use B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)")),
    };
    let v = n * mult;
    if !v.is_finite() || v < 0.0 || v > u64::MAX as f64 {
        return Err(format!("size out of range: {s:?}"));
    }
    Ok(v as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("2GB"), Ok(2_000_000_000));
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("").is_err());
    }

    #[test]
    fn keys() {
        let k = parse_key(&"0f".repeat(32)).unwrap();
        assert_eq!(k, [0x0f; 32]);
        assert!(parse_key("0f").is_err());
        assert!(parse_key(&"zz".repeat(32)).is_err());
    }

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
