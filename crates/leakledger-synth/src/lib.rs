//! Synthetic leaked dumps with exact ground truth.
//!
//! [`generate`] builds a world (organisations, users, repositories with plausible
//! code and config, secrets made by this crate's own code), the sessions coding
//! agents send from it (each request carrying the conversation so far: file reads
//! as tool calls, pasted files, fenced blocks, diffs), logs them through several
//! channels (three JSONL alias sets, CloudWatch export lines, Firehose
//! subscription records, OTLP traces) with the noise real logs have (shards out of
//! time order, at-least-once duplicates, truncated and binary lines, CRLF, blank
//! lines, orphans, decoys), and writes `dump/` and `truth.json`, whose counters
//! are kept from the generator's own bookkeeping, never by reading the dump back.
//!
//! This crate never depends on the detector: ground truth made with the
//! detector's own patterns would prove nothing.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let truth = leakledger_synth::generate(dir.path(), &leakledger_synth::Options::new().size(256 << 10).orgs(4).seed(7))?;
//! assert!(truth.records.total > 0);
//! assert!(dir.path().join("truth.json").exists());
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod plan;
pub mod render;
pub mod rng;
pub mod secrets;
pub mod session;
pub mod truth;
pub mod world;

use std::path::{Path, PathBuf};

pub use plan::ShardInfo;
pub use truth::Truth;

/// The formats a dump can be made of.
pub const FORMATS: [&str; 3] = ["jsonl", "cloudwatch", "otlp"];

/// What to generate.
#[derive(Clone, Debug)]
pub struct Options {
    pub(crate) size: u64,
    pub(crate) seed: u64,
    pub(crate) orgs: usize,
    pub(crate) gzip: bool,
    pub(crate) formats: Vec<String>,
    pub(crate) shard_bytes: u64,
    pub(crate) history: bool,
    pub(crate) ids: bool,
    pub(crate) turns: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            size: 1 << 30,
            seed: 1,
            orgs: 87,
            gzip: false,
            formats: FORMATS.iter().map(|s| s.to_string()).collect(),
            shard_bytes: 64 << 20,
            history: true,
            ids: true,
            turns: 12,
        }
    }
}

impl Options {
    /// The defaults: 1 GiB, seed 1, 87 organisations (the incident's count), every format.
    pub fn new() -> Self {
        Self::default()
    }
    /// Approximate size of the dump before compression.
    pub fn size(mut self, bytes: u64) -> Self {
        self.size = bytes;
        self
    }
    /// The seed: the same seed and options give byte-identical output.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Number of organisations in the world (not all may appear in a small dump).
    pub fn orgs(mut self, n: usize) -> Self {
        self.orgs = n.max(1);
        self
    }
    /// gzip every shard (Firehose shards are always gzip'd).
    pub fn gzip(mut self, on: bool) -> Self {
        self.gzip = on;
        self
    }
    /// Which formats to write (`jsonl`, `cloudwatch`, `otlp`).
    pub fn formats<S: AsRef<str>>(mut self, formats: &[S]) -> Self {
        self.formats = formats.iter().map(|s| s.as_ref().to_string()).collect();
        self
    }
    /// Whether each request carries the conversation so far (default, as agent
    /// loops send it) or only its own turn after the system prompt.
    pub fn history(mut self, on: bool) -> Self {
        self.history = on;
        self
    }
    /// Whether records carry session (trace) and parent ids (default), or only
    /// their own request id, as many gateways log: chains must then be found from
    /// the conversations themselves. The plan, and so the records and their
    /// order, are the same either way; only the ids are left out.
    pub fn ids(mut self, on: bool) -> Self {
        self.ids = on;
        self
    }
    /// The most turns a session has (default 12; each session draws 1 up to
    /// this). Agent loops re-send the conversation in every request, so the
    /// longer the sessions, the more of a dump is history sent again.
    pub fn turns(mut self, max: usize) -> Self {
        self.turns = max.max(1);
        self
    }
    /// Target size of one shard before compression (default 64 MiB).
    pub fn shard_bytes(mut self, bytes: u64) -> Self {
        self.shard_bytes = bytes.max(1 << 10);
        self
    }
}

/// Why a dump could not be generated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An unknown format was asked for.
    #[error("unknown format {0:?} (expected jsonl, cloudwatch or otlp)")]
    UnknownFormat(String),
    /// No format was asked for.
    #[error("no format to generate")]
    NoFormat,
    /// Writing failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// The secret values a generation with `options` plants, as (kind, value): for
/// tests that check no output ever shows them. The plan is drawn again from the
/// seed; nothing is written.
pub fn secret_values(options: &Options) -> Result<Vec<(String, String)>, Error> {
    let plan = plan::Plan::new(options)?;
    Ok(plan.world.secrets.iter().map(|s| (s.kind.name().to_string(), s.value.clone())).collect())
}

/// Generates a dump under `dir/dump/` and writes `dir/truth.json`; returns the truth.
pub fn generate(dir: &Path, options: &Options) -> Result<Truth, Error> {
    let plan = plan::Plan::new(options)?;
    let shards = plan.write(dir)?;
    let truth = truth::compute(&plan, options, shards);
    let path = dir.join("truth.json");
    let json = serde_json::to_vec_pretty(&truth).map_err(|e| Error::Io { path: path.clone(), source: e.into() })?;
    std::fs::write(&path, [json.as_slice(), b"\n"].concat()).map_err(|source| Error::Io { path, source })?;
    Ok(truth)
}
