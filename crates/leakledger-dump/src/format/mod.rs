//! Log formats: sniffing, and the parsers that turn bytes into [`Record`]s.
//!
//! Each source is read in one of two layouts: *lines* (one record, or one JSON
//! document, per line) or *whole* (a stream of concatenated JSON documents, as
//! Firehose writes them, or pretty-printed ones). Both are cut into chunks and
//! parsed in parallel: at newlines, and before documents or the elements of a
//! top-level array of records ([`walk`]).

mod cloudwatch;
mod document;
mod jsonl;
mod otlp;
mod sniff;
mod text;

pub(crate) use document::{At, LOOKAHEAD, MAX_RESYNCS, Open, Walked, next_boundary, walk};
pub use otlp::attribute as otlp_attribute;

use std::fmt;
use std::str::FromStr;

use memchr::memchr_iter;

use crate::record::{Location, Record};
use crate::source::SourceId;

pub use sniff::Layout;
pub(crate) use sniff::{BOM, SNIFF, bom_len, sniff};

/// A log format (design.md §3, docs/formats.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Format {
    /// One JSON object per line.
    Jsonl,
    /// CloudWatch Logs: export lines (`TIMESTAMP MESSAGE`) or subscription/Firehose
    /// records (`{"logEvents": [...]}`, possibly concatenated).
    Cloudwatch,
    /// OpenTelemetry OTLP/JSON traces or logs (`resourceSpans`, `resourceLogs`).
    Otlp,
    /// One JSON document per file (or per line): a record, or `{"Records": [...]}`.
    Json,
    /// Google Cloud Logging `LogEntry` JSONL.
    Gcp,
    /// Anything else: one record per line, with a leading timestamp if present.
    Text,
}

impl Format {
    /// Every format, for help texts and tests.
    pub const ALL: [Format; 6] =
        [Format::Jsonl, Format::Cloudwatch, Format::Otlp, Format::Json, Format::Gcp, Format::Text];

    /// The name used on the command line and in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Format::Jsonl => "jsonl",
            Format::Cloudwatch => "cloudwatch",
            Format::Otlp => "otlp",
            Format::Json => "json",
            Format::Gcp => "gcp",
            Format::Text => "text",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown format {s:?} (expected one of jsonl, cloudwatch, otlp, json, gcp, text)"))
    }
}

/// Where parsed records go: the scan's per-worker state.
pub(crate) trait Emit {
    fn record(&mut self, record: &Record<'_>);
    fn malformed(&mut self, location: Location, reason: &'static str);
    /// A reusable buffer for decoding JSON held inside strings; give it back.
    fn take_scratch(&mut self) -> Vec<u8>;
    fn put_scratch(&mut self, scratch: Vec<u8>);
}

/// Turns offsets within one buffer (a chunk, or a whole source) into
/// [`Location`]s, counting newlines incrementally (offsets mostly ascend).
#[derive(Debug)]
pub(crate) struct Locator<'b> {
    bytes: &'b [u8],
    source: SourceId,
    base: u64,
    pos: usize,
    line: u32,
}

impl<'b> Locator<'b> {
    pub(crate) fn new(bytes: &'b [u8], source: SourceId, base: u64) -> Self {
        Self { bytes, source, base, pos: 0, line: 0 }
    }

    /// The location of byte `off` of the buffer.
    pub(crate) fn at(&mut self, off: usize) -> Location {
        let off = off.min(self.bytes.len());
        if off < self.pos {
            // Backwards (OTLP spans after logs, say): take back only what lies between.
            let n = memchr_iter(b'\n', &self.bytes[off..self.pos]).count();
            self.line = self.line.saturating_sub(n as u32);
        } else {
            let n = memchr_iter(b'\n', &self.bytes[self.pos..off]).count();
            self.line = self.line.saturating_add(n as u32);
        }
        self.pos = off;
        Location::new(self.source, self.base + off as u64, self.line)
    }

    /// The location of a sub-slice of the buffer.
    pub(crate) fn of(&mut self, sub: &[u8]) -> Location {
        let off = offset_in(self.bytes, sub);
        self.at(off)
    }

    /// The location of a line starting at `off` whose line number within the
    /// chunk is already known (the line loop counts as it goes).
    pub(crate) fn line(&mut self, off: usize, line: u32) -> Location {
        self.pos = off;
        self.line = line;
        Location::new(self.source, self.base + off as u64, line)
    }
}

/// Offset of `sub` inside `buf`, when `sub` is a slice of `buf` (else 0).
pub(crate) fn offset_in(buf: &[u8], sub: &[u8]) -> usize {
    let b = buf.as_ptr() as usize;
    let s = sub.as_ptr() as usize;
    if s >= b && s <= b + buf.len() { s - b } else { 0 }
}

/// Parses one line (no newline; a trailing CR already removed) that starts at
/// `off` in the locator's buffer; `open` when the reader cut it inside an
/// array of records.
pub(crate) fn parse_line<E: Emit>(
    format: Format,
    line: &[u8],
    (off, line_no): (usize, u32),
    open: Open,
    loc: &mut Locator<'_>,
    out: &mut E,
) {
    let here = loc.line(off, line_no);
    match format {
        Format::Jsonl | Format::Gcp => jsonl::parse(format, line, here, out),
        Format::Text => text::parse(line, here, out),
        Format::Cloudwatch => {
            if open.in_line || line.first() == Some(&b'{') {
                document::parse_documents(format, line, open, loc, out);
            } else {
                cloudwatch::parse_export_line(line, here, out);
            }
        }
        Format::Otlp | Format::Json => document::parse_documents(format, line, open, loc, out),
    }
}

/// Parses a whole buffer of concatenated JSON documents (`open`: see [`Open`]).
pub(crate) fn parse_whole<E: Emit>(format: Format, buf: &[u8], open: Open, loc: &mut Locator<'_>, out: &mut E) {
    document::parse_documents(format, buf, open, loc, out);
}
