//! leakledger-report: everything a responder hands on, from one analysis.
//!
//! [`write`] makes a report folder (owner-only, never silently overwritten):
//! `summary.json` (the design.md §4 contract with its cost and budget parts),
//! `cost.json`, `timeline.jsonl` (Timesketch), `findings.sarif` (SARIF 2.1.0),
//! `tables/` (Parquet and CSV, written with polars), `report.html` (one
//! self-contained page with inline SVG charts) and, last, `manifest.json`: the
//! chain of custody (inputs with their SHA-256, tool and rule versions, the
//! model's hash, the command, the times, and every output's SHA-256).
//!
//! Nothing here holds a secret's value: the analysis keeps only kinds,
//! fingerprints and the fixed prefixes a redacted form may show. Every string
//! that came from the dump is escaped for the format it is written in.

#![warn(missing_docs)]

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, Utc};
use leakledger::Analysis;
use leakledger_cost::Model;
use serde_json::Value;

mod charts;
pub mod cost;
mod escape;
mod files;
mod html;
mod manifest;
pub mod sarif;
pub mod tables;

pub use escape::{csv_cell, html as escape_html, label};
pub use manifest::{Input, MANIFEST_SCHEMA, Manifest, Output, ruleset_hash};
pub use sarif::{IDENTIFIER_RULE, sarif};

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The folder exists and holds files; `force` was not given.
    #[error("{0} exists and is not empty (give --force to write into it)")]
    Exists(PathBuf),
    /// A file could not be created or written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A table could not be built or written.
    #[error("cannot write table {name}: {reason}")]
    Table {
        /// The table.
        name: String,
        /// The cause, as polars gives it.
        reason: String,
    },
    /// A chart could not be drawn.
    #[error("cannot draw chart {name}: {reason}")]
    Chart {
        /// The chart.
        name: &'static str,
        /// The cause, as plotters gives it.
        reason: String,
    },
}

/// How to write a report.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Write into an existing folder that holds files (ours are replaced).
    pub force: bool,
    /// The cost model (with the budget and any overrides applied).
    pub model: Model,
    /// Day 0 of the cost schedule (default: the end of the leak window).
    pub awareness: Option<DateTime<FixedOffset>>,
    /// The command line, for the manifest.
    pub command: Vec<String>,
    /// When the analysis started, for the manifest.
    pub started: DateTime<Utc>,
}

impl Settings {
    /// Defaults: the built-in model, no force, now as the start.
    pub fn new() -> Self {
        Settings {
            force: false,
            model: Model::default_model(),
            awareness: None,
            command: Vec::new(),
            started: Utc::now(),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self::new()
    }
}

/// What [`write`] wrote.
#[derive(Debug)]
pub struct Written {
    /// The report folder.
    pub dir: PathBuf,
    /// The summary with its cost and budget parts (as in `summary.json`).
    pub summary: Value,
    /// The cost run.
    pub cost: cost::CostRun,
    /// The timeline's counts.
    pub timeline: leakledger::timeline::Written,
    /// Every file written (manifest last), relative to `dir`.
    pub files: Vec<PathBuf>,
}

/// The summary with the cost model's `cost` and `budget` parts (design.md §4).
pub fn full_summary(analysis: &Analysis, run: &cost::CostRun) -> Value {
    let mut v = serde_json::to_value(&analysis.summary).unwrap_or(Value::Null);
    if let Some(m) = v.as_object_mut() {
        m.insert("cost".into(), run.cost());
        m.insert("budget".into(), run.budget());
    }
    v
}

/// Writes the report of `analysis` into `dir` (created owner-only).
pub fn write(analysis: &Analysis, dir: &Path, settings: &Settings) -> Result<Written, Error> {
    let out = files::Folder::create(dir, settings.force)?;
    let base = serde_json::to_value(&analysis.summary).unwrap_or(Value::Null);
    let json = |v: &Value| {
        let mut b = serde_json::to_vec_pretty(v).unwrap_or_default();
        b.push(b'\n');
        b
    };
    // The outputs are independent: encode them side by side, then write them in
    // a fixed order (the manifest lists them so).
    let (run, (timeline, (findings, tables))) = rayon::join(
        || cost::run(&settings.model, &base, settings.awareness),
        || {
            rayon::join(
                || {
                    let mut timeline = Vec::new();
                    leakledger::timeline::write(analysis, &mut timeline).map(|counts| (timeline, counts))
                },
                || {
                    rayon::join(
                        || json(&sarif(analysis)),
                        || {
                            use rayon::prelude::*;
                            tables::ALL
                                .par_iter()
                                .map(|t| tables::encode(analysis, *t).map(|e| (*t, e)))
                                .collect::<Result<Vec<_>, Error>>()
                        },
                    )
                },
            )
        },
    );
    let summary = full_summary(analysis, &run);
    let mut written = Vec::new();
    written.push(out.write("summary.json", &json(&summary))?);
    written.push(out.write("cost.json", &json(&run.to_json()))?);
    let (timeline, counts) = timeline.map_err(|source| Error::Io { path: out.path("timeline.jsonl"), source })?;
    written.push(out.write("timeline.jsonl", &timeline)?);
    drop(timeline);
    written.push(out.write("findings.sarif", &findings)?);
    drop(findings);
    out.mkdir("tables")?;
    for (t, (parquet, csv)) in tables? {
        written.push(out.write(&format!("tables/{}.parquet", t.name()), &parquet)?);
        written.push(out.write(&format!("tables/{}.csv", t.name()), &csv)?);
    }
    let page = html::page(analysis, &summary, &run)?;
    written.push(out.write("report.html", page.as_bytes())?);
    let manifest = Manifest::new(analysis, settings, &out, &written)?;
    written.push(out.write("manifest.json", &json(&serde_json::to_value(&manifest).unwrap_or(Value::Null)))?);
    Ok(Written { dir: dir.to_path_buf(), summary, cost: run, timeline: counts, files: written })
}

/// Writes `bytes` followed by nothing else, mapping the error to the path.
pub(crate) fn io_err(path: &Path) -> impl FnOnce(io::Error) -> Error + '_ {
    move |source| Error::Io { path: path.to_path_buf(), source }
}

/// Writes all of `bytes` to `w`.
pub(crate) fn write_all(mut w: impl Write, bytes: &[u8]) -> io::Result<()> {
    w.write_all(bytes)?;
    w.flush()
}
