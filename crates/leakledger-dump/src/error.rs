//! The crate's error type: the tool failing, not the dump being broken (broken
//! input is counted and reported, see [`crate::Problem`] and [`crate::Skipped`]).

use std::path::PathBuf;

/// Why a [`crate::Dump`] could not be opened or scanned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No path was given.
    #[error("no input paths were given")]
    NoInput,
    /// An option has a value that cannot work.
    #[error("invalid option {name}: {reason}")]
    InvalidOption {
        /// The option's name.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The worker threads could not be started.
    #[error("cannot start {threads} worker threads: {source}")]
    ThreadPool {
        /// Threads asked for.
        threads: usize,
        /// Why it failed.
        source: rayon::ThreadPoolBuildError,
    },
    /// An input path could not be read at all (kept for callers that want a hard
    /// failure; [`crate::Dump::open`] reports such paths as skipped instead).
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}
