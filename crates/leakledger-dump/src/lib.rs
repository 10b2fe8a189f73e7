//! Evidence in: the reader through which every part of leakledger sees a dump.
//!
//! [`Dump::open`] walks files and directories into [`Source`]s (format and
//! compression told from the bytes; FIFOs, devices, symlink loops and duplicates
//! skipped and listed), and [`Dump::scan`] reads them all in one parallel pass:
//! plain files are memory-mapped, gzip and zstd streamed through a size and ratio
//! guard, each cut into record-aligned chunks that rayon workers parse into
//! borrowed [`Record`]s. Broken records are counted with their location and
//! reason, never fatal.
//!
//! ```
//! use leakledger_dump::{Dump, Options, Record, Sink};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! std::fs::write(dir.path().join("a.jsonl"),
//!     "{\"ts\":1714564800,\"org\":\"acme\",\"body\":{\"messages\":[]}}\n{broken\n")?;
//!
//! #[derive(Default)]
//! struct Orgs(std::collections::BTreeSet<String>);
//! impl Sink for Orgs {
//!     fn record(&mut self, r: &Record<'_>) {
//!         if let Some(org) = r.org.and_then(|v| v.as_str()) {
//!             self.0.insert(org.into_owned());
//!         }
//!     }
//!     fn merge(&mut self, other: Self) { self.0.extend(other.0) }
//! }
//!
//! let dump = Dump::open(&[dir.path()], &Options::new())?;
//! let scan = dump.scan(Orgs::default);
//! assert_eq!((scan.records(), scan.malformed()), (1, 1));
//! assert_eq!(scan.sources[0].malformed_samples[0].line, 2);
//! assert!(scan.sink.0.contains("acme"));
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod error;
pub mod format;
mod guard;
pub mod json;
mod options;
mod record;
mod scan;
mod source;
#[cfg(target_arch = "x86_64")]
mod stripes;
pub mod time;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

pub use error::Error;
pub use format::{Format, Layout, otlp_attribute};
pub use guard::{Mapped, install_sigbus_guard};
pub use json::{Cursor, Element, Elements, Kind, Members, Value, lossy};
pub use options::Options;
pub use record::{Location, Record};
pub use scan::{Malformed, Problem, Scan, Sink, SourceReport};
pub use source::{Compression, Skipped, Source, SourceId};

/// An opened dump: its sources, what was skipped, and the options to read it with.
#[derive(Debug)]
pub struct Dump {
    sources: Vec<Source>,
    skipped: Vec<Skipped>,
    options: Options,
    progress: AtomicU64,
}

impl Dump {
    /// Walks `paths` (files or directories) into sources. Paths that cannot be
    /// used (missing, unreadable, not regular files, loops, duplicates, unsupported
    /// compression) are listed in [`Dump::skipped`]; only an empty path list is an
    /// error.
    pub fn open<P: AsRef<Path>>(paths: &[P], options: &Options) -> Result<Dump, Error> {
        if paths.is_empty() {
            return Err(Error::NoInput);
        }
        let (sources, skipped) = source::discover(paths, options);
        Ok(Dump { sources, skipped, options: options.clone(), progress: AtomicU64::new(0) })
    }

    /// The sources, in walk order (name order within a directory).
    pub fn sources(&self) -> &[Source] {
        &self.sources
    }

    /// The inputs that were passed over, and why.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// Bytes on disk over all sources.
    pub fn total_bytes(&self) -> u64 {
        self.sources.iter().map(|s| s.size).sum()
    }

    /// Bytes on disk consumed so far by a running scan (for progress bars; read
    /// it from another thread).
    pub fn bytes_done(&self) -> u64 {
        self.progress.load(Ordering::Relaxed)
    }

    /// Reads every source in parallel, handing each record to a sink made by
    /// `make` (one per worker and source), and merges the sinks. Runs on the
    /// thread count of [`Options::threads`], else on rayon's global pool.
    pub fn scan<S, F>(&self, make: F) -> Scan<S>
    where
        S: Sink,
        F: Fn() -> S + Sync,
    {
        match self.run(&make) {
            Ok(scan) => scan,
            Err(_) => {
                let ctx = scan::Ctx::new(&self.options, &self.progress);
                scan::scan_all(&ctx, &self.sources, &make)
            }
        }
    }

    /// As [`Dump::scan`], but reports a failure to start the worker threads
    /// instead of falling back to the global pool.
    pub fn try_scan<S, F>(&self, make: F) -> Result<Scan<S>, Error>
    where
        S: Sink,
        F: Fn() -> S + Sync,
    {
        self.run(&make)
    }

    fn run<S, F>(&self, make: &F) -> Result<Scan<S>, Error>
    where
        S: Sink,
        F: Fn() -> S + Sync,
    {
        self.progress.store(0, Ordering::Relaxed);
        let ctx = scan::Ctx::new(&self.options, &self.progress);
        match self.options.threads {
            None => Ok(scan::scan_all(&ctx, &self.sources, make)),
            Some(threads) => {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .thread_name(|i| format!("leakledger-{i}"))
                    .build()
                    .map_err(|source| Error::ThreadPool { threads, source })?;
                Ok(pool.install(|| scan::scan_all(&ctx, &self.sources, make)))
            }
        }
    }
}
