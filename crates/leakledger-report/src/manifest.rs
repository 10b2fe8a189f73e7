//! `manifest.json`: the chain of custody of a report.

use std::path::PathBuf;

use chrono::{SecondsFormat, Utc};
use leakledger::Analysis;
use leakledger::detect::secrets::Rule;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::files::Folder;
use crate::{Error, Settings, io_err};

/// Version of the manifest's shape.
pub const MANIFEST_SCHEMA: u32 = 1;

/// What went in, what came out, with which tool and rules, when, and how.
#[derive(Clone, Debug, Serialize)]
pub struct Manifest {
    /// [`MANIFEST_SCHEMA`].
    pub schema: u32,
    /// `leakledger` and its version.
    pub tool: String,
    /// The tool's version.
    pub version: &'static str,
    /// Number of secret rules run (built-in and from a rule file), and the
    /// SHA-256 of their definitions.
    pub rules: u64,
    /// See [`ruleset_hash`].
    pub rules_sha256: String,
    /// SHA-256 of the cost model as run (overrides applied), in its JSON form.
    pub model_sha256: String,
    /// The command line.
    pub command: Vec<String>,
    /// When the analysis started and the report was finished (RFC 3339, UTC).
    pub started: String,
    /// Finished.
    pub finished: String,
    /// Whether the report shows secrets' values (`--reveal-secrets`).
    pub secrets_revealed: bool,
    /// Every input read.
    pub inputs: Vec<Input>,
    /// Every other file of the report, with its SHA-256.
    pub outputs: Vec<Output>,
}

/// One input of the dump.
#[derive(Clone, Debug, Serialize)]
pub struct Input {
    /// Its path as given or walked.
    pub path: String,
    /// Size on disk in bytes.
    pub size: u64,
    /// SHA-256 of its bytes on disk (compressed ones as they are).
    pub sha256: Option<String>,
    /// Format read as.
    pub format: String,
    /// Compression.
    pub compression: String,
    /// Records read (malformed included) and malformed.
    pub records: u64,
    /// Malformed.
    pub malformed: u64,
}

/// One output file.
#[derive(Clone, Debug, Serialize)]
pub struct Output {
    /// Path relative to the report folder.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of its bytes.
    pub sha256: String,
}

/// SHA-256 over the rules' ids, kinds, severities, patterns, entropy floors and
/// keywords: two reports with the same hash detected with the same rules.
pub fn ruleset_hash(rules: &[&Rule]) -> String {
    let mut h = Sha256::new();
    for r in rules {
        for part in [r.id, r.kind, r.severity.name(), r.pattern] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        h.update(r.min_entropy.unwrap_or(0.0).to_le_bytes());
        h.update(r.keywords.join("\u{1f}").as_bytes());
        h.update([0xff]);
    }
    hex(&h.finalize())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn name<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

impl Manifest {
    /// The manifest of a report whose other files are `written` into `out`.
    pub(crate) fn new(
        analysis: &Analysis,
        settings: &Settings,
        out: &Folder,
        written: &[PathBuf],
    ) -> Result<Manifest, Error> {
        let inputs = analysis
            .scan
            .sources
            .iter()
            .map(|s| Input {
                path: s.path.display().to_string(),
                size: s.size,
                sha256: s.sha256.clone(),
                format: name(&s.format),
                compression: name(&s.compression),
                records: s.records + s.malformed,
                malformed: s.malformed,
            })
            .collect();
        let mut outputs = Vec::with_capacity(written.len());
        for rel in written {
            let p = out.dir().join(rel);
            let bytes = std::fs::read(&p).map_err(io_err(&p))?;
            outputs.push(Output {
                path: rel.display().to_string(),
                size: bytes.len() as u64,
                sha256: hex(&Sha256::digest(&bytes)),
            });
        }
        let model = serde_json::to_vec(&settings.model).unwrap_or_default();
        Ok(Manifest {
            schema: MANIFEST_SCHEMA,
            tool: "leakledger".into(),
            version: env!("CARGO_PKG_VERSION"),
            rules: analysis.rules.len() as u64,
            rules_sha256: ruleset_hash(&analysis.rules),
            model_sha256: hex(&Sha256::digest(&model)),
            command: settings.command.clone(),
            started: settings.started.to_rfc3339_opts(SecondsFormat::Micros, true),
            finished: Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true),
            secrets_revealed: analysis.secret_values.is_some(),
            inputs,
            outputs,
        })
    }
}
