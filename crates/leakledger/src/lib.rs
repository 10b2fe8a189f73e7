//! leakledger: what leaked, how it flowed, what it will cost.
//!
//! The library analysts call. It opens a dump with [`Dump::open`], reads it in one
//! parallel pass with [`analyse`], and returns an [`Analysis`]: per-source reports
//! and the [`Summary`] whose JSON form is the `summary.json` contract
//! (docs/ARCHITECTURE.md, design.md §4). Partial results merge associatively, so
//! shards scanned apart give the same answer as one scan.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! std::fs::write(dir.path().join("a.jsonl"), concat!(
//!     "{\"ts\":\"2024-05-01T12:00:00Z\",\"request_id\":\"r1\",\"body\":\"hello\"}\n",
//!     "{\"ts\":\"2024-05-01T12:00:00Z\",\"request_id\":\"r1\",\"body\":\"hello\"}\n",
//!     "{\"ts\":\"2024-05-01T13:00:00Z\",\"request_id\":\"r2\",\"body\":\"world\"}\n",
//!     "not json\n",
//! ))?;
//! let dump = leakledger::Dump::open(&[dir.path()], &leakledger::Options::new())?;
//! let analysis = leakledger::analyse(&dump);
//! let s = &analysis.summary;
//! assert_eq!((s.records.total, s.records.malformed, s.records.duplicates), (4, 1, 1));
//! assert_eq!(s.window.first.as_deref(), Some("2024-05-01T12:00:00.000000Z"));
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod inventory;
mod partial;
mod payload;
mod summary;

pub use inventory::{FileEntry, Inventory, OrgEntry, RepoEntry};
pub use leakledger_dump::{
    Compression, Dump, Error, Format, Kind, Layout, Location, Malformed, Options, Problem, Record, Scan, Sink, Skipped,
    Source, SourceId, SourceReport, Value, time,
};
pub use partial::Partial;
pub use summary::{Exposure, Records, SCHEMA_VERSION, Summary, Window};

/// The result of [`analyse`]: the merged partial, the per-source reports and the
/// summary.
#[derive(Debug)]
pub struct Analysis {
    /// The scan: per-source reports, line resolution and the merged [`Partial`].
    pub scan: Scan<Partial>,
    /// The `summary.json` contract's values.
    pub summary: Summary,
}

/// Reads the whole dump in one parallel pass and summarises it.
pub fn analyse(dump: &Dump) -> Analysis {
    let scan = dump.scan(Partial::default);
    let summary = Summary::from_scan(&scan);
    Analysis { scan, summary }
}
