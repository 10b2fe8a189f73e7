//! Test support: write one content in every shape a dump file takes (plain,
//! gzip, zstd) and scan it every way leakledger can (mapped, read, tiny chunks),
//! so one expected answer checks every path (style.md habit 9).

use std::io::Write;
use std::path::{Path, PathBuf};

use leakledger_dump::{Dump, Format, Location, Options, Record, Scan, Sink};

/// One record as the tests see it: where it is and its main fields, decoded.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Seen {
    /// Byte offset in the decompressed source.
    pub offset: u64,
    /// 1-based line.
    pub line: u64,
    /// Format parsed as.
    pub format: Format,
    /// Time, µs.
    pub ts: Option<i64>,
    /// Request id.
    pub request_id: Option<String>,
    /// Trace id.
    pub trace_id: Option<String>,
    /// Parent id.
    pub parent_id: Option<String>,
    /// Org.
    pub org: Option<String>,
    /// User.
    pub user: Option<String>,
    /// Payload, decoded as text (strings unescaped; objects as written).
    pub payload: Option<String>,
}

/// A sink that keeps every record's [`Seen`] form (with the line left to resolve).
#[derive(Debug, Default)]
pub struct Collect(pub Vec<(Location, Seen)>);

fn text(v: Option<leakledger_dump::Value<'_>>) -> Option<String> {
    v.and_then(|v| v.as_str().map(|s| s.into_owned()))
}

impl Sink for Collect {
    fn record(&mut self, r: &Record<'_>) {
        let payload = r.payload.map(|p| match p.as_str() {
            Some(s) => s.into_owned(),
            None => String::from_utf8_lossy(p.raw()).into_owned(),
        });
        self.0.push((
            r.location,
            Seen {
                offset: r.location.offset,
                line: 0,
                format: r.format,
                ts: r.ts,
                request_id: text(r.request_id),
                trace_id: text(r.trace_id),
                parent_id: text(r.parent_id),
                org: text(r.org),
                user: text(r.user),
                payload,
            },
        ));
    }
    fn merge(&mut self, other: Self) {
        self.0.extend(other.0);
    }
}

/// The outcome of one scan: records in offset order, and counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Records, sorted by (source, offset).
    pub records: Vec<Seen>,
    /// Malformed count.
    pub malformed: u64,
    /// Malformed samples as (line, reason).
    pub malformed_lines: Vec<(u64, &'static str)>,
}

/// Scans `paths` with `options` and collects every record.
pub fn scan(paths: &[&Path], options: &Options) -> (Outcome, Scan<Collect>) {
    let dump = Dump::open(paths, options).expect("open");
    let mut scan = dump.scan(Collect::default);
    let mut records: Vec<(Location, Seen)> = std::mem::take(&mut scan.sink.0);
    for (loc, seen) in &mut records {
        seen.line = scan.line(loc).expect("line of a record");
    }
    records.sort_by_key(|(loc, _)| (loc.source, loc.offset));
    let outcome = Outcome {
        records: records.into_iter().map(|(_, s)| s).collect(),
        malformed: scan.malformed(),
        malformed_lines: scan
            .sources
            .iter()
            .flat_map(|s| s.malformed_samples.iter().map(|m| (m.line, m.reason)))
            .collect(),
    };
    (outcome, scan)
}

/// How a content is stored and read.
#[derive(Clone, Copy, Debug)]
pub enum Way {
    /// Plain file, memory-mapped.
    Mapped,
    /// Plain file, read in chunks.
    Read,
    /// gzip file.
    Gzip,
    /// Two concatenated gzip members.
    GzipMembers,
    /// zstd file.
    Zstd,
}

/// Every way.
pub const WAYS: [Way; 5] = [Way::Mapped, Way::Read, Way::Gzip, Way::GzipMembers, Way::Zstd];

/// Writes `content` into `dir` as `way` requires; returns the path.
pub fn write_as(dir: &Path, name: &str, content: &[u8], way: Way) -> PathBuf {
    let (path, bytes) = match way {
        Way::Mapped | Way::Read => (dir.join(name), content.to_vec()),
        Way::Gzip => (dir.join(format!("{name}.gz")), gzip(content)),
        Way::GzipMembers => {
            let mid = content.len() / 2;
            let mut b = gzip(&content[..mid]);
            b.extend(gzip(&content[mid..]));
            (dir.join(format!("{name}.gz")), b)
        }
        Way::Zstd => (dir.join(format!("{name}.zst")), zstd::encode_all(content, 3).expect("zstd")),
    };
    std::fs::write(&path, bytes).expect("write");
    path
}

/// gzip-compresses `content`.
pub fn gzip(content: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(content).expect("gzip");
    e.finish().expect("gzip")
}

/// Scans `content` every way, with chunk sizes from tiny to default, and
/// asserts every outcome is the same; returns it.
pub fn scan_every_way(name: &str, content: &[u8], base: &Options) -> Outcome {
    let mut first: Option<(String, Outcome)> = None;
    for way in WAYS {
        for chunk in [7usize, 64, 4096, 4 << 20] {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = write_as(dir.path(), name, content, way);
            let options = base.clone().mmap(!matches!(way, Way::Read)).chunk_size(chunk);
            let (outcome, _) = scan(&[path.as_path()], &options);
            let label = format!("{way:?} chunk {chunk}");
            match &first {
                None => first = Some((label, outcome)),
                Some((l0, o0)) => assert_eq!(&outcome, o0, "{label} differs from {l0}"),
            }
        }
    }
    first.expect("at least one way").1
}
