//! The parallel pass: each source mapped or streamed, cut into record-aligned
//! chunks, parsed by rayon workers into a caller's [`Sink`]s, which are merged.

use std::cell::{Cell, RefCell};
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::sync_channel;

use memchr::{memchr, memrchr};
use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::format::{
    At, BOM, Emit, Format, LOOKAHEAD, Layout, Locator, MAX_RESYNCS, Open, Walked, bom_len, next_boundary, parse_line,
    parse_whole, walk,
};
use crate::json;
use crate::options::Options;
use crate::record::{Location, Record};
use crate::source::{Compression, Source, SourceId, open_regular};
use crate::time::Micros;

/// Receives the records of a scan. One sink is made per worker and per source;
/// the scan merges them, so `merge` must be associative and commutative for the
/// result not to depend on scheduling.
pub trait Sink: Send {
    /// Called once per parsed record.
    fn record(&mut self, record: &Record<'_>);
    /// Folds another sink's results into this one.
    fn merge(&mut self, other: Self)
    where
        Self: Sized;
}

/// A sink that keeps nothing, for counting only.
impl Sink for () {
    fn record(&mut self, _: &Record<'_>) {}
    fn merge(&mut self, _: Self) {}
}

/// Something that went wrong while reading one source. The records read before
/// it still count.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Problem {
    /// The file could not be opened or read.
    Unreadable {
        /// The cause.
        detail: String,
    },
    /// The file is not the one that was opened, or its size changed, between
    /// opening the dump and reading it.
    Changed {
        /// What changed.
        detail: String,
    },
    /// The stream ended early or was corrupt (a truncated gzip, say) at this
    /// offset of the decompressed bytes.
    Truncated {
        /// Decompressed bytes read before the fault.
        at: u64,
        /// The decoder's message.
        detail: String,
    },
    /// Decompression stopped at a size or ratio limit (a decompression bomb's
    /// mark); see [`Options::max_decompressed_bytes`] and [`Options::max_ratio`].
    DecompressionLimit {
        /// Decompressed bytes read before stopping.
        at: u64,
        /// Which limit.
        detail: String,
    },
    /// A bug met in this source; the source's records are dropped, the scan goes on.
    Internal {
        /// The panic message.
        detail: String,
    },
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Unreadable { detail } => write!(f, "unreadable: {detail}"),
            Problem::Changed { detail } => write!(f, "changed while open: {detail}"),
            Problem::Truncated { at, detail } => write!(f, "stream broken at byte {at}: {detail}"),
            Problem::DecompressionLimit { at, detail } => write!(f, "decompression stopped at byte {at}: {detail}"),
            Problem::Internal { detail } => write!(f, "internal error (records of this source dropped): {detail}"),
        }
    }
}

/// A malformed record kept as a sample: where, and why. The bytes themselves are
/// never kept, so a sample cannot leak what the record held.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Malformed {
    /// Byte offset in the source's (decompressed) bytes.
    pub offset: u64,
    /// Line number (1-based).
    pub line: u64,
    /// What is wrong.
    pub reason: &'static str,
}

/// What was read from one source.
#[derive(Clone, Debug, Serialize)]
pub struct SourceReport {
    /// The source's index.
    pub id: SourceId,
    /// Its path.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// Its layout.
    pub layout: Layout,
    /// Its compression.
    pub compression: Compression,
    /// Size on disk.
    pub size: u64,
    /// Bytes parsed (after decompression).
    pub bytes: u64,
    /// SHA-256 of the file as it is on disk, lower-case hex (absent when hashing
    /// was off, or the file could not be read).
    pub sha256: Option<String>,
    /// Records parsed.
    pub records: u64,
    /// Records that could not be parsed in the source's format.
    pub malformed: u64,
    /// Earliest record time.
    pub first: Option<Micros>,
    /// Latest record time.
    pub last: Option<Micros>,
    /// The first malformed records, by offset.
    pub malformed_samples: Vec<Malformed>,
    /// What went wrong while reading.
    pub problems: Vec<Problem>,
}

/// The result of [`crate::Dump::scan`]: the merged sink and a report per source.
#[derive(Debug)]
pub struct Scan<S> {
    /// The merged sink.
    pub sink: S,
    /// One report per source, in source order.
    pub sources: Vec<SourceReport>,
    /// Per source, each chunk's (first byte's offset, first line), in order.
    line_tables: Vec<Vec<(u64, u64)>>,
}

impl<S> Scan<S> {
    /// The 1-based line number of a location seen during this scan.
    pub fn line(&self, location: &Location) -> Option<u64> {
        let table = self.line_tables.get(location.source.0 as usize)?;
        line_of(table, location)
    }

    /// Records parsed, over all sources.
    pub fn records(&self) -> u64 {
        self.sources.iter().map(|s| s.records).sum()
    }

    /// Malformed records, over all sources.
    pub fn malformed(&self) -> u64 {
        self.sources.iter().map(|s| s.malformed).sum()
    }

    /// Bytes parsed, over all sources.
    pub fn bytes(&self) -> u64 {
        self.sources.iter().map(|s| s.bytes).sum()
    }

    /// Earliest and latest record times, over all sources.
    pub fn window(&self) -> (Option<Micros>, Option<Micros>) {
        let first = self.sources.iter().filter_map(|s| s.first).min();
        let last = self.sources.iter().filter_map(|s| s.last).max();
        (first, last)
    }
}

/// The 1-based line of `location` from its source's line table: the chunk that
/// holds its offset (the last to start at or before it), then the line within.
fn line_of(table: &[(u64, u64)], location: &Location) -> Option<u64> {
    let chunk = table.partition_point(|&(base, _)| base <= location.offset).checked_sub(1)?;
    Some(table[chunk].1 + u64::from(location.line_in_chunk) + 1)
}

/// Per-worker state: the sink, counters, samples and a scratch buffer.
struct Worker<S> {
    sink: S,
    records: u64,
    malformed: u64,
    bytes: u64,
    first: Option<Micros>,
    last: Option<Micros>,
    samples: Vec<Location>,
    reasons: Vec<&'static str>,
    cap: usize,
    scratch: Vec<u8>,
    /// (chunk index, its first byte's offset, newlines in it).
    chunk_lines: Vec<(u32, u64, u64)>,
}

impl<S: Sink> Worker<S> {
    fn new(sink: S, cap: usize) -> Self {
        Self {
            sink,
            records: 0,
            malformed: 0,
            bytes: 0,
            first: None,
            last: None,
            samples: Vec::new(),
            reasons: Vec::new(),
            cap,
            scratch: Vec::new(),
            chunk_lines: Vec::new(),
        }
    }

    fn merge(mut self, other: Self) -> Self {
        self.sink.merge(other.sink);
        self.records += other.records;
        self.malformed += other.malformed;
        self.bytes += other.bytes;
        self.first = min_opt(self.first, other.first);
        self.last = max_opt(self.last, other.last);
        for (loc, reason) in other.samples.into_iter().zip(other.reasons) {
            self.keep_sample(loc, reason);
        }
        self.chunk_lines.extend(other.chunk_lines);
        self
    }

    /// Keeps the `cap` malformed records with the smallest offsets (two at
    /// one offset by reason, so that which are kept does not depend on the
    /// order in which workers met them).
    fn keep_sample(&mut self, loc: Location, reason: &'static str) {
        if self.samples.len() < self.cap {
            self.samples.push(loc);
            self.reasons.push(reason);
            return;
        }
        let rank = |i: usize| (self.samples[i].offset, self.reasons[i]);
        if let Some(i) = (0..self.samples.len()).max_by_key(|&i| rank(i))
            && (loc.offset, reason) < rank(i)
        {
            self.samples[i] = loc;
            self.reasons[i] = reason;
        }
    }

    /// Parses the lines of one chunk; returns the number of newlines in it.
    /// `open` applies to its first line (when it starts inside an array the
    /// reader cut) and its last (when it ends inside one).
    fn lines(&mut self, format: Format, buf: &[u8], source: SourceId, (chunk, base): (u32, u64), open: Open) -> u64 {
        if buf.is_empty() && open.start.array().is_some() {
            // An array left open at the end of the source: reported.
            let mut loc = Locator::new(buf, source, base);
            parse_line(format, buf, (0, 0), open, &mut loc, self);
        }
        let mut loc = Locator::new(buf, source, base);
        let mut start = bom_len(buf, base == 0);
        let mut line_no: u32 = 0;
        let mut newlines = 0u64;
        while start < buf.len() {
            let (end, next) = match memchr(b'\n', &buf[start..]) {
                Some(k) => {
                    newlines += 1;
                    (start + k, start + k + 1)
                }
                None => (buf.len(), buf.len()),
            };
            let line = &buf[start..end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let first = line_no == 0;
            let open = Open {
                start: if first { open.start } else { At::Top },
                end: if end == buf.len() { open.end } else { At::Top },
                in_line: first && open.in_line,
            };
            // A blank line still ends an array the reader cut (it is unterminated).
            if !is_blank(line) || open.start.array().is_some() {
                parse_line(format, line, (start, line_no), open, &mut loc, self);
            }
            line_no = line_no.saturating_add(1);
            start = next;
        }
        self.bytes += buf.len() as u64;
        self.chunk_lines.push((chunk, base, newlines));
        newlines
    }

    /// Parses a buffer of whole documents: the source's chunk `chunk`, which
    /// starts at `base` (the whole source as chunk 0 when it is mapped).
    fn documents(&mut self, format: Format, buf: &[u8], source: SourceId, (chunk, base): (u32, u64), open: Open) {
        let body = if base == 0 { buf.strip_prefix(BOM).unwrap_or(buf) } else { buf };
        let mut loc = Locator::new(buf, source, base);
        parse_whole(format, body, open, &mut loc, self);
        self.bytes += buf.len() as u64;
        self.chunk_lines.push((chunk, base, memchr::memchr_iter(b'\n', buf).count() as u64));
    }
}

impl<S: Sink> Emit for Worker<S> {
    #[inline]
    fn record(&mut self, record: &Record<'_>) {
        self.records += 1;
        if let Some(t) = record.ts {
            self.first = min_opt(self.first, Some(t));
            self.last = max_opt(self.last, Some(t));
        }
        self.sink.record(record);
    }

    fn malformed(&mut self, location: Location, reason: &'static str) {
        self.malformed += 1;
        self.keep_sample(location, reason);
    }

    fn take_scratch(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.scratch)
    }

    fn put_scratch(&mut self, scratch: Vec<u8>) {
        self.scratch = scratch;
    }
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

fn max_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, None) => x,
        (None, y) => y,
    }
}

#[inline]
fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|c| matches!(c, b' ' | b'\t' | b'\r'))
}

/// Cuts `buf` into chunks of about `size` bytes that end just after a newline.
pub(crate) fn chunk_bounds(buf: &[u8], size: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::with_capacity(buf.len() / size + 1);
    let mut start = 0;
    while start < buf.len() {
        let target = start.saturating_add(size);
        let end = if target >= buf.len() {
            buf.len()
        } else {
            match memchr(b'\n', &buf[target..]) {
                Some(k) => target + k + 1,
                None => buf.len(),
            }
        };
        out.push((start, end));
        start = end;
    }
    out
}

/// One piece of a mapped source: its byte range, and where the document parser
/// stands at its ends.
type Piece = (usize, usize, Open);

/// Chunks of a mapped source: after newlines ([`chunk_bounds`]), and inside a
/// line longer than two chunks or a file of whole documents, before a document
/// or an element of a top-level array of records where the format parses them
/// as a stream ([`document_cuts`]), so that one long line or document file is
/// parsed by every thread, not one.
fn mapped_bounds(buf: &[u8], format: Format, layout: Layout, size: usize) -> Vec<Piece> {
    let mut out = Vec::new();
    // Every piece after the first of a line starts inside it.
    let push_cut = |out: &mut Vec<Piece>, start: usize, end: usize, cuts: Vec<(usize, At)>| {
        let (mut s, mut open_start, mut in_line) = (start, At::Top, false);
        for (c, state) in cuts {
            out.push((s, c, Open { start: open_start, end: state, in_line }));
            (s, open_start, in_line) = (c, state, true);
        }
        out.push((s, end, Open { start: open_start, end: At::Top, in_line }));
    };
    if layout == Layout::Whole {
        if !buf.is_empty() {
            push_cut(&mut out, 0, buf.len(), document_cuts(buf, format, 0, buf.len(), size));
        }
        return out;
    }
    for (start, end) in chunk_bounds(buf, size) {
        if end - start <= 2 * size || !matches!(format, Format::Otlp | Format::Json | Format::Cloudwatch) {
            out.push((start, end, Open::default()));
            continue;
        }
        // The line that runs past the chunk's target, without its line break.
        let ls = memrchr(b'\n', &buf[start..start + size]).map_or(start, |k| start + k + 1);
        let le = end - usize::from(buf[end - 1] == b'\n');
        let first = ls + bom_len(buf, ls == 0);
        if format == Format::Cloudwatch && buf.get(first) != Some(&b'{') {
            out.push((start, end, Open::default()));
            continue;
        }
        push_cut(&mut out, start, end, document_cuts(buf, format, ls, le, size));
    }
    out
}

/// Where the documents of `buf[from..to]` (a line or a whole file) may be cut
/// into pieces of at least `size` bytes, and where the parser stands at each
/// cut: the places [`walk`] gives.
fn document_cuts(buf: &[u8], format: Format, from: usize, to: usize, size: usize) -> Vec<(usize, At)> {
    let region = &buf[..to];
    let mut cuts = Vec::new();
    let mut last = from;
    let i = from + bom_len(region, from == 0);
    walk(format, region, i, At::Top, |at, state| {
        if at - last >= size && at < to {
            cuts.push((at, state));
            last = at;
        }
    });
    cuts
}

/// One piece of a streamed source handed to a worker.
struct Chunk {
    index: u32,
    base: u64,
    bytes: Vec<u8>,
    /// A record longer than the record limit was skipped here.
    oversized: Option<Skipped>,
    /// Whether it starts or ends inside a top-level array that was cut.
    open: Open,
}

/// An error raised by the decompression guard.
#[derive(Debug)]
struct LimitExceeded(String);

impl std::fmt::Display for LimitExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LimitExceeded {}

/// Hashes and counts the bytes read from the file (compressed, as on disk), and
/// reports them to the dump's progress counter.
struct Tap<'p, R> {
    inner: R,
    hasher: Rc<RefCell<Option<Sha256>>>,
    count: Rc<Cell<u64>>,
    progress: &'p AtomicU64,
}

impl<R: Read> Read for Tap<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(h) = self.hasher.borrow_mut().as_mut() {
            h.update(&buf[..n]);
        }
        self.count.set(self.count.get() + n as u64);
        self.progress.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Stops a decompressor at a size or ratio limit.
struct Guard<R> {
    inner: R,
    out: u64,
    input: Rc<Cell<u64>>,
    max_out: u64,
    max_ratio: u64,
}

/// Output below which the ratio is not judged (small files compress extremely).
const RATIO_FLOOR: u64 = 16 << 20;

impl<R: Read> Read for Guard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.out >= self.max_out {
            return Err(io::Error::other(LimitExceeded(format!("size limit of {} bytes", self.max_out))));
        }
        let room = (self.max_out - self.out).min(buf.len() as u64) as usize;
        let n = self.inner.read(&mut buf[..room])?;
        self.out += n as u64;
        let input = self.input.get().max(1);
        if self.out > RATIO_FLOOR && self.out / input > self.max_ratio {
            return Err(io::Error::other(LimitExceeded(format!(
                "ratio limit of {}:1 ({} bytes out of {} in)",
                self.max_ratio, self.out, input
            ))));
        }
        Ok(n)
    }
}

/// Counts the bytes read through it (a decompressor's input, for the ratio).
struct Counted<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

impl Source {
    /// The source's bytes as a stream, decompressed and held to `options`'
    /// size and ratio limits as the pass holds them (a bomb ends in an error,
    /// not in hours of output): for a reader of its text that is not the pass
    /// (`leakledger gate`). Opened as the pass opens it (a regular file only,
    /// never blocking on a FIFO).
    pub fn decompressed(&self, options: &Options) -> io::Result<Box<dyn Read>> {
        let (file, _) = crate::source::open_regular(&self.path)?;
        let count = Rc::new(Cell::new(0u64));
        let counted = Counted { inner: file, count: count.clone() };
        let inner: Box<dyn Read> = match self.compression {
            Compression::None => Box::new(counted),
            Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(counted)),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(counted)?),
        };
        Ok(Box::new(Guard {
            inner,
            out: 0,
            input: count,
            max_out: options.max_decompressed_bytes,
            max_ratio: if self.compression == Compression::None { u64::MAX } else { options.max_ratio },
        }))
    }
}

fn is_limit(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<LimitExceeded>())
}

/// Everything a scan needs to know from the dump.
pub(crate) struct Ctx<'d> {
    pub(crate) options: &'d Options,
    pub(crate) progress: &'d AtomicU64,
    /// The streamed sources' chunk buffers, shared by them all.
    buffers: Buffers,
}

impl<'d> Ctx<'d> {
    /// The context of one scan of a dump with `options`.
    pub(crate) fn new(options: &'d Options, progress: &'d AtomicU64) -> Self {
        Ctx { options, progress, buffers: Buffers::new(options.chunk_size) }
    }
}

/// Chunk buffers of streamed sources, kept for the whole scan: a parsed
/// chunk's buffer is filled again by whichever source reads next. A fresh
/// buffer of a few MiB costs its page faults and the kernel's zeroing every
/// time. Kept per source, as they were, the first buffers of every source were
/// fresh ones: most of the page faults of a scan of many compressed shards,
/// and 7% of its time on one thread.
struct Buffers {
    free: std::sync::Mutex<Vec<Vec<u8>>>,
    /// The chunk size: a buffer that grew past twice it (for one long record)
    /// is let go, not kept.
    chunk: usize,
}

impl Buffers {
    fn new(chunk: usize) -> Self {
        Buffers { free: std::sync::Mutex::new(Vec::new()), chunk }
    }

    /// A kept buffer (empty), or a new one.
    fn take(&self) -> Vec<u8> {
        let mut b = self.free.lock().ok().and_then(|mut free| free.pop()).unwrap_or_default();
        b.clear();
        b
    }

    /// Keeps `b` for another chunk: as many as two per thread and two more (the
    /// chunks one source's reader may have queued or in hand), the rest let go,
    /// as are pieces smaller than a chunk (they would be grown anew).
    fn give(&self, b: Vec<u8>) {
        if !(self.chunk..=2 * self.chunk).contains(&b.capacity()) {
            return;
        }
        if let Ok(mut free) = self.free.lock()
            && free.len() < rayon::current_num_threads().max(1) * 2 + 2
        {
            free.push(b);
        }
    }
}

/// Scans every source in parallel and merges the results.
pub(crate) fn scan_all<S, F>(ctx: &Ctx<'_>, sources: &[Source], make: &F) -> Scan<S>
where
    S: Sink,
    F: Fn() -> S + Sync,
{
    let (sink, mut parts) = sources
        .par_iter()
        .fold(
            || (make(), Vec::new()),
            |(mut sink, mut parts), src| {
                let (s, report, table) = scan_source(ctx, src, make);
                sink.merge(s);
                parts.push((report, table));
                (sink, parts)
            },
        )
        .reduce(
            || (make(), Vec::new()),
            |(mut a, mut pa), (b, pb)| {
                a.merge(b);
                pa.extend(pb);
                (a, pa)
            },
        );
    parts.sort_by_key(|(r, _)| r.id);
    let (sources, line_tables) = parts.into_iter().unzip();
    Scan { sink, sources, line_tables }
}

/// Runs `each` over `items` on the pool's threads with one accumulator per
/// thread (made by `make` when first needed), then merges those. A parallel
/// fold makes one for every piece of work it splits off (thirty for a 2 GiB
/// file on two threads), and merging them walked each worker's tables again
/// at every level: 7% of a scan of code, the last levels on one thread.
/// An item that finds its thread's accumulator taken (only if `each` ever
/// waited on the pool and this thread took on another item meanwhile) gets
/// one of its own, merged in at the end.
fn per_thread<I, S>(
    items: I,
    make: impl Fn() -> Worker<S> + Sync,
    each: impl Fn(&mut Worker<S>, I::Item) + Sync,
) -> Worker<S>
where
    I: ParallelIterator,
    S: Sink,
{
    use std::sync::{Mutex, TryLockError};
    let slots: Vec<Mutex<Option<Worker<S>>>> =
        (0..rayon::current_num_threads().max(1)).map(|_| Mutex::new(None)).collect();
    let extra: Mutex<Vec<Worker<S>>> = Mutex::new(Vec::new());
    items.for_each(|item| {
        let slot = &slots[rayon::current_thread_index().unwrap_or(0) % slots.len()];
        match slot.try_lock() {
            Ok(mut held) => each(held.get_or_insert_with(&make), item),
            Err(TryLockError::WouldBlock | TryLockError::Poisoned(_)) => {
                let mut w = make();
                each(&mut w, item);
                extra.lock().unwrap_or_else(|p| p.into_inner()).push(w);
            }
        }
    });
    let workers: Vec<Worker<S>> = slots
        .into_iter()
        .filter_map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner()))
        .chain(extra.into_inner().unwrap_or_else(|p| p.into_inner()))
        .collect();
    workers.into_par_iter().reduce(&make, Worker::merge)
}

/// Scans one source; a panic inside is contained and reported for this source.
fn scan_source<S, F>(ctx: &Ctx<'_>, src: &Source, make: &F) -> (S, SourceReport, Vec<(u64, u64)>)
where
    S: Sink,
    F: Fn() -> S + Sync,
{
    let mut report = SourceReport {
        id: src.id,
        path: src.path.clone(),
        format: src.format,
        layout: src.layout,
        compression: src.compression,
        size: src.size,
        bytes: 0,
        sha256: None,
        records: 0,
        malformed: 0,
        first: None,
        last: None,
        malformed_samples: Vec::new(),
        problems: Vec::new(),
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| read_source(ctx, src, make, &mut report)));
    let worker = match outcome {
        Ok(Some(w)) => w,
        Ok(None) => return (make(), report, Vec::new()),
        Err(panic) => {
            // The panic's message is not kept: Rust's messages can quote the data
            // being handled (a string slice, say), and that data is the dump.
            drop(panic);
            report.problems.push(Problem::Internal {
                detail: "a bug was met while reading this source (message withheld: it may quote dump bytes)".into(),
            });
            return (make(), report, Vec::new());
        }
    };
    // Line table: where each chunk starts, and its first line.
    let mut counts = worker.chunk_lines;
    counts.sort_unstable();
    let mut table = Vec::with_capacity(counts.len());
    let mut acc = 0u64;
    for (i, &(idx, base, n)) in counts.iter().enumerate() {
        debug_assert_eq!(idx as usize, i);
        table.push((base, acc));
        acc += n;
    }
    report.records = worker.records;
    report.malformed = worker.malformed;
    report.bytes = worker.bytes;
    report.first = worker.first;
    report.last = worker.last;
    let mut samples: Vec<Malformed> = worker
        .samples
        .iter()
        .zip(&worker.reasons)
        .map(|(loc, reason)| Malformed { offset: loc.offset, line: line_of(&table, loc).unwrap_or(0), reason })
        .collect();
    samples.sort_by_key(|m| (m.offset, m.reason));
    report.malformed_samples = samples;
    (worker.sink, report, table)
}

fn read_source<S, F>(ctx: &Ctx<'_>, src: &Source, make: &F, report: &mut SourceReport) -> Option<Worker<S>>
where
    S: Sink,
    F: Fn() -> S + Sync,
{
    let (file, md) = match open_regular(&src.path) {
        Ok(x) => x,
        Err(e) => {
            report.problems.push(Problem::Unreadable { detail: e.to_string() });
            return None;
        }
    };
    if (md.dev(), md.ino()) != src.identity {
        report.problems.push(Problem::Changed { detail: "a different file now stands at this path".into() });
    } else if md.len() != src.size {
        report.problems.push(Problem::Changed { detail: format!("size was {}, now {}", src.size, md.len()) });
        report.size = md.len();
    }
    if src.compression == Compression::None && ctx.options.mmap {
        read_mapped(ctx, src, file, make, report)
    } else {
        Some(read_streamed(ctx, src, file, make, report))
    }
}

fn read_mapped<S, F>(ctx: &Ctx<'_>, src: &Source, file: File, make: &F, report: &mut SourceReport) -> Option<Worker<S>>
where
    S: Sink,
    F: Fn() -> S + Sync,
{
    let opts = ctx.options;
    let len = report.size;
    if len == 0 {
        if opts.hash {
            report.sha256 = Some(hex(&Sha256::digest(b"")));
        }
        return Some(Worker::new(make(), opts.malformed_samples));
    }
    let map = match crate::Mapped::new(&file, &src.path.to_string_lossy()) {
        Ok(m) => m,
        Err(e) => {
            report.problems.push(Problem::Unreadable { detail: format!("cannot map: {e}") });
            return None;
        }
    };
    map.advise_sequential();
    let bytes: &[u8] = &map;
    let id = src.id;
    let parse = || {
        per_thread(
            mapped_bounds(bytes, src.format, src.layout, opts.chunk_size).into_par_iter().enumerate(),
            || Worker::new(make(), opts.malformed_samples),
            |w, (i, (start, end, open))| {
                let (at, piece) = ((i as u32, start as u64), &bytes[start..end]);
                match src.layout {
                    Layout::Lines => {
                        w.lines(src.format, piece, id, at, open);
                    }
                    Layout::Whole => w.documents(src.format, piece, id, at, open),
                }
                ctx.progress.fetch_add((end - start) as u64, Ordering::Relaxed);
            },
        )
    };
    // The hash reads the same mapping while the parse does, so a cold file is
    // read from disk once: whichever touches a page first brings it into the
    // page cache for the other.
    let (digest, worker) = if opts.hash { rayon::join(|| Some(Sha256::digest(bytes)), parse) } else { (None, parse()) };
    report.sha256 = digest.map(|d| hex(&d));
    Some(worker)
}

fn read_streamed<S, F>(ctx: &Ctx<'_>, src: &Source, file: File, make: &F, report: &mut SourceReport) -> Worker<S>
where
    S: Sink,
    F: Fn() -> S + Sync,
{
    let opts = ctx.options;
    let id = src.id;
    // One queued chunk per worker: the reader or the workers are the slower
    // side, and deeper queues only held more 4 MiB buffers (9 of them, 38 MB,
    // at the peak of a scan of the 4.5 GiB dump with twice this bound).
    let (tx, rx) = sync_channel::<Chunk>(rayon::current_num_threads().max(1));
    let mut outcome: (Option<String>, Vec<Problem>) = (None, Vec::new());
    let worker = std::thread::scope(|scope| {
        let producer = scope.spawn(|| produce(ctx, src, file, tx));
        // Lines and documents alike come in chunks that end where one ends, so
        // both are parsed in parallel.
        let worker = per_thread(
            rx.into_iter().par_bridge(),
            || Worker::new(make(), opts.malformed_samples),
            |w, chunk: Chunk| {
                if let Some(skipped) = chunk.oversized {
                    let loc = Location::new(id, chunk.base, 0);
                    w.malformed(loc, "record longer than the record size limit");
                    w.bytes += skipped.bytes;
                    w.chunk_lines.push((chunk.index, chunk.base, skipped.newlines));
                } else if src.layout == Layout::Whole {
                    w.documents(src.format, &chunk.bytes, id, (chunk.index, chunk.base), chunk.open);
                } else {
                    w.lines(src.format, &chunk.bytes, id, (chunk.index, chunk.base), chunk.open);
                }
                // Parsed chunks' buffers are filled again (see `Buffers`).
                ctx.buffers.give(chunk.bytes);
            },
        );
        match producer.join() {
            Ok(o) => outcome = o,
            Err(_) => outcome.1.push(Problem::Internal { detail: "the reader thread panicked".into() }),
        }
        worker
    });
    report.sha256 = outcome.0;
    report.problems.extend(outcome.1);
    worker
}

/// Reads a stream (plain, gzip or zstd) and sends record-aligned chunks (or, for
/// the whole layout, one chunk holding everything). Returns the file's SHA-256 and
/// the problems met.
fn produce(
    ctx: &Ctx<'_>,
    src: &Source,
    file: File,
    tx: std::sync::mpsc::SyncSender<Chunk>,
) -> (Option<String>, Vec<Problem>) {
    let opts = ctx.options;
    let mut problems = Vec::new();
    let hasher = Rc::new(RefCell::new(opts.hash.then(Sha256::new)));
    let count = Rc::new(Cell::new(0u64));
    // A second descriptor shares the file offset: after the decoder stops, the
    // rest of the file is read through it so the hash covers every byte.
    let rest = file.try_clone().ok();
    let tap = Tap { inner: file, hasher: hasher.clone(), count: count.clone(), progress: ctx.progress };
    let decoder: Box<dyn Read + '_> = match src.compression {
        Compression::None => Box::new(tap),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(tap)),
        Compression::Zstd => match zstd::stream::read::Decoder::new(tap) {
            Ok(d) => Box::new(d),
            Err(e) => {
                problems.push(Problem::Unreadable { detail: format!("zstd: {e}") });
                Box::new(io::empty())
            }
        },
    };
    let mut reader = Guard {
        inner: decoder,
        out: 0,
        input: count.clone(),
        max_out: opts.max_decompressed_bytes,
        max_ratio: if src.compression == Compression::None { u64::MAX } else { opts.max_ratio },
    };
    let result = match src.layout {
        Layout::Lines => send_chunks(&mut reader, opts, &tx, &ctx.buffers, Cut::Lines(src.format)),
        Layout::Whole => send_chunks(&mut reader, opts, &tx, &ctx.buffers, Cut::Documents(src.format)),
    };
    drop(tx);
    if let Err((at, e)) = result {
        if is_limit(&e) {
            problems.push(Problem::DecompressionLimit { at, detail: e.to_string() });
        } else {
            problems.push(Problem::Truncated { at, detail: e.to_string() });
        }
    }
    drop(reader);
    if let Some(mut rest) = rest {
        let mut tail = Tap { inner: &mut rest, hasher: hasher.clone(), count, progress: ctx.progress };
        if let Err(e) = io::copy(&mut tail, &mut io::sink()) {
            problems.push(Problem::Unreadable { detail: format!("while hashing: {e}") });
            *hasher.borrow_mut() = None;
        }
    }
    let digest = hasher.borrow_mut().take().map(|h| hex(&h.finalize()));
    (digest, problems)
}

/// Where a streamed source's chunks may end.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Cut {
    /// After a newline; inside a line longer than the buffer, after a whole
    /// document where the format's lines may hold several (Kinesis Firehose
    /// writes CloudWatch documents back to back with no newline: a 60 MB
    /// line, held whole and parsed by one thread).
    Lines(Format),
    /// After a whole JSON document (concatenated or pretty-printed documents),
    /// or before an element of a top-level array of records.
    Documents(Format),
}

/// How far a buffer of concatenated JSON documents holds whole ones.
#[derive(Debug, PartialEq, Eq)]
enum Documents {
    /// Whole documents (and array elements, and junk) end here, and the next
    /// piece starts where the parser then stands.
    End(usize, At),
    /// The first document goes on past the buffer.
    More,
}

/// The last place in `b` (a piece that starts where the parser stands at
/// `state`) where a piece may be cut so that both parse as the stream would
/// whole: the places [`walk`] gives, or the end of the buffer when all of it
/// is whole.
fn documents_end(format: Format, b: &[u8], first: bool, state: At) -> Documents {
    let start = bom_len(b, first);
    let mut cut = None;
    let walked = walk(format, b, start, state, |at, state| {
        if at > start {
            cut = Some((at, state));
        }
    });
    match (walked, cut) {
        (Walked::End, _) => Documents::End(b.len(), At::Top),
        (_, None) => Documents::More,
        (_, Some((at, state))) => Documents::End(at, state),
    }
}

/// Where a buffer that holds part of one line (from its start, or from inside
/// it when `in_line`) may be cut so that each part parses as the line would
/// ([`documents_end`]), where the format parses a line as a stream of
/// documents (for CloudWatch, a line that starts with `{`). `None` to keep
/// reading the line.
fn documents_in_line(format: Format, b: &[u8], first: bool, state: At, in_line: bool) -> Option<(usize, At)> {
    if !reads_documents(format, b, first, in_line) {
        return None;
    }
    match documents_end(format, b, first, state) {
        Documents::End(p, state) => Some((p, state)),
        Documents::More => None,
    }
}

/// Whether the line that `b` holds (from its start, or from inside it when
/// `in_line`) is read as a stream of documents: every line of OTLP and JSON,
/// a CloudWatch line that starts with `{` (its first byte, as the line parser
/// looks).
fn reads_documents(format: Format, b: &[u8], first: bool, in_line: bool) -> bool {
    let start = bom_len(b, first);
    match format {
        Format::Otlp | Format::Json => true,
        Format::Cloudwatch => in_line || b.get(start) == Some(&b'{'),
        _ => false,
    }
}

/// Reads `r` into chunks of about `opts.chunk_size` that end where a line or a
/// document does (`cut`) and sends them, so that workers parse them in
/// parallel and no more than a few chunks are held at once. A line, document
/// or array element longer than `opts.max_record_bytes` is skipped (not held)
/// and sent as an `oversized` marker. Returns the decompressed offset of a
/// fault.
fn send_chunks<R: Read>(
    r: &mut Guard<R>,
    opts: &Options,
    tx: &std::sync::mpsc::SyncSender<Chunk>,
    buffers: &Buffers,
    cut: Cut,
) -> Result<(), (u64, io::Error)> {
    let mut index: u32 = 0;
    let mut base: u64 = 0;
    let mut buf: Vec<u8> = buffers.take();
    buf.reserve(opts.chunk_size);
    let mut target = opts.chunk_size;
    // Where the document parser stands at the buffer's first byte.
    let mut state = At::Top;
    // Whether the buffer starts inside a line, at a document the line holds.
    let mut mid_line = false;
    // How many bytes the walks made at the record limit (each over a buffer
    // of about the limit; see below) may still cover: as many as the parser's
    // resumptions in one piece at first, and then a few times the bytes sent
    // (so the work stays linear, with a small factor, whatever the input).
    let mut walk_budget = MAX_RESYNCS as u64 * opts.max_record_bytes as u64;
    let mut send = |bytes: Vec<u8>, base: u64, oversized: Option<Skipped>, open: Open| -> bool {
        let ok = tx.send(Chunk { index, base, bytes, oversized, open }).is_ok();
        index = index.saturating_add(1);
        ok
    };
    loop {
        // Fill the buffer to the target, or to the end.
        let mut eof = false;
        let mut fault = None;
        // Zero the buffer once up to the target and fill it in place: resizing
        // before every read would zero the tail again each time (quadratic on a
        // long line that a decoder hands over 32 KiB at a time).
        let mut filled = buf.len();
        if filled < target {
            buf.resize(target, 0);
        }
        while filled < target {
            match r.read(&mut buf[filled..target]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    fault = Some(e);
                    break;
                }
            }
        }
        buf.truncate(filled);
        if eof || fault.is_some() {
            let at = base + buf.len() as u64;
            // An array left open at the end is parsed, to be reported.
            if !buf.is_empty() || state.array().is_some() {
                send(std::mem::take(&mut buf), base, None, Open { start: state, end: At::Top, in_line: mid_line });
            }
            return match fault {
                Some(e) => Err((at, e)),
                None => Ok(()),
            };
        }
        let end = match cut {
            Cut::Lines(format) => match memrchr(b'\n', &buf) {
                Some(p) => Some((p + 1, At::Top, false)),
                None => documents_in_line(format, &buf, base == 0, state, mid_line).map(|(p, s)| (p, s, true)),
            },
            Cut::Documents(format) => match documents_end(format, &buf, base == 0, state) {
                Documents::End(p, s) => Some((p, s, false)),
                Documents::More => None,
            },
        };
        match end {
            Some((end, end_state, in_line)) => {
                let open = Open { start: state, end: end_state, in_line: mid_line };
                (state, mid_line) = (end_state, in_line);
                let p = end - 1;
                let rest = buf[p + 1..].to_vec();
                let mut next = buffers.take();
                next.reserve(opts.chunk_size.max(rest.len() * 2));
                let mut full = std::mem::replace(&mut buf, next);
                full.truncate(p + 1);
                let len = full.len() as u64;
                if !send(full, base, None, open) {
                    return Ok(());
                }
                base += len;
                walk_budget = walk_budget.saturating_add(WALK_PER_BYTE * len);
                buf.extend_from_slice(&rest);
                target = opts.chunk_size.max(buf.len() + opts.chunk_size / 2);
            }
            None if buf.len() >= hold(opts, cut, &buf, base == 0, mid_line) => {
                // A line, document or array element longer than a record may
                // be. A line of records is skipped to its end. In a stream of
                // JSON documents (a file of them, or a line, CloudWatch's
                // included), an array element is skipped to where its brackets
                // close (at most to the end of its line); a document is taken
                // for one that never ends, as the parser would take it at the
                // end of the stream: it goes on to the next `{` after a `}` or a
                // line break, where the parser resumes (Firehose's documents
                // back to back, one cut short). Cut there if the buffer holds
                // it; else skip to it without holding what lies between.
                let lines = matches!(cut, Cut::Lines(_));
                let documents = holds_documents(cut, &buf, base == 0, mid_line);
                let mut item = json::skip_ws(&buf, bom_len(&buf, base == 0));
                if let At::Skipped { .. } = state
                    && buf.get(item) == Some(&b',')
                {
                    item = json::skip_ws(&buf, item + 1);
                }
                // The `]` of a wrapped array whose document's rest (its other
                // members) is longer than a record may be: skipped as the end
                // of that document, not as an element.
                let closing = documents && state.array() == Some(true) && buf.get(item) == Some(&b']');
                let element = documents && state.array().is_some() && !closing;
                let boundary = if element {
                    // An element that ends in the buffer was not the long one:
                    // what follows it without a comma is, a document where the
                    // parser resumes after the broken array (the walk makes no
                    // cut there, at the byte that shows the fault). Cut there,
                    // so that the element is read, not skipped with what follows.
                    json::scan_value(&buf, item)
                        .ok()
                        .map(|(_, end)| json::skip_ws(&buf, end))
                        .filter(|&j| buf.get(j) == Some(&b'{'))
                } else if documents {
                    // Documents that never end, one after another, would each
                    // cost a walk of the whole buffer for a few bytes of
                    // progress: past the walk budget, the buffer is cut where it
                    // ends instead (the piece's parser resumes within it, and
                    // the next piece starts in junk).
                    let walked = buf.len() as u64;
                    if walk_budget < walked {
                        Some(buf.len())
                    } else {
                        walk_budget -= walked;
                        next_boundary(&buf, item + 1)
                    }
                } else {
                    None
                };
                if let Some(q) = boundary {
                    let end_state = if q == buf.len() { At::Junk } else { At::Top };
                    let open = Open { start: state, end: end_state, in_line: mid_line };
                    (state, mid_line) = (end_state, lines);
                    // The piece is copied out and the buffer kept: sending the
                    // buffer itself would hand on its capacity of about the limit.
                    let piece = buf[..q].to_vec();
                    buf.drain(..q);
                    if !send(piece, base, None, open) {
                        return Ok(());
                    }
                    base += q as u64;
                    walk_budget = walk_budget.saturating_add(WALK_PER_BYTE * q as u64);
                    // Walk what is held again before reading more: the buffer
                    // stays within the limit.
                    target = opts.chunk_size.max(buf.len());
                    continue;
                }
                // What is fed first: the buffer, from past the item's first byte.
                let mut from = (item + 1).min(buf.len());
                let skip = if element {
                    let mut end = ValueEnd::default();
                    // The element's first byte is fed too: it opens it.
                    from -= 1;
                    skip_record(r, &mut buf, opts.max_record_bytes, move |b: &[u8]| {
                        let from = std::mem::take(&mut from).min(b.len());
                        let line_end = if lines { memchr(b'\n', &b[from..]).map(|k| from + k) } else { None };
                        end.feed(&b[..line_end.unwrap_or(b.len())], from).or(line_end)
                    })
                } else if documents {
                    // Whichever comes first: the document's close (it was only
                    // long), or the next document's start (it was cut short).
                    let mut boundary = Boundary::after(&buf[..from]);
                    // The wrapping document's rest ends where its object closes.
                    let (mut end, opened) =
                        if closing { (ValueEnd::inside_container(), from) } else { (ValueEnd::default(), from - 1) };
                    let mut first = true;
                    skip_record(r, &mut buf, opts.max_record_bytes, move |b: &[u8]| {
                        let (from_end, from) = if std::mem::take(&mut first) { (opened, from) } else { (0, 0) };
                        let from = from.min(b.len());
                        let next = boundary.feed(&b[from..], lines).map(|k| from + k);
                        let closed = end.feed(&b[..next.unwrap_or(b.len())], from_end.min(b.len()));
                        closed.or(next)
                    })
                } else {
                    skip_record(r, &mut buf, opts.max_record_bytes, |b: &[u8]| memchr(b'\n', b).map(|p| p + 1))
                };
                // The next piece starts where the skipped element's array goes
                // on, at a document (inside the line, for a line of them), or
                // on a new line.
                let at_line_end = lines && (buf.first() == Some(&b'\n') || !documents);
                state = match state.array() {
                    Some(wrapped) if element && !at_line_end => At::Skipped { wrapped },
                    _ => At::Top,
                };
                mid_line = lines && documents && !at_line_end;
                let skipped = skip.skipped;
                if !send(Vec::new(), base, Some(skipped), Open::default()) {
                    return Ok(());
                }
                base += skipped.bytes;
                walk_budget = walk_budget.saturating_add(WALK_PER_BYTE * skipped.bytes);
                if let Some(e) = skip.fault {
                    return Err((base, e));
                }
                if buf.is_empty() && skip.eof {
                    return Ok(());
                }
                target = opts.chunk_size.max(buf.len() + opts.chunk_size / 2);
            }
            None => {
                // A line, document or element longer than the buffer: grow the
                // buffer, up to the record limit.
                let hold = hold(opts, cut, &buf, base == 0, mid_line);
                target = buf.len().saturating_mul(2).max(opts.chunk_size).min(hold.max(buf.len() + 1));
            }
        }
    }
}

/// How many bytes the reader holds before it takes what it holds for a record
/// longer than the record limit. A stream of documents may hold a few more
/// than the limit: the walk trusts a fault only [`LOOKAHEAD`] bytes before the
/// end of what it holds, so a broken document just within the limit is
/// still read as the parser reads it, not cut as one that never ends.
fn hold(opts: &Options, cut: Cut, buf: &[u8], first: bool, mid_line: bool) -> usize {
    if holds_documents(cut, buf, first, mid_line) {
        opts.max_record_bytes.saturating_add(LOOKAHEAD)
    } else {
        opts.max_record_bytes
    }
}

/// Whether the reader's buffer holds a stream of JSON documents (a file of
/// them, or a line read as them), not a line of records.
fn holds_documents(cut: Cut, buf: &[u8], first: bool, mid_line: bool) -> bool {
    match cut {
        Cut::Documents(_) => true,
        Cut::Lines(format) => reads_documents(format, buf, first, mid_line),
    }
}

/// How many bytes of walking a byte sent pays for, on the record limit's path
/// before documents that never end (see `send_chunks`).
const WALK_PER_BYTE: u64 = 8;

/// A record longer than the record limit, skipped while reading a stream.
#[derive(Clone, Copy, Debug)]
struct Skipped {
    /// Its length in bytes.
    bytes: u64,
    /// The line breaks in it.
    newlines: u64,
}

/// What [`skip_record`] did.
struct Skip {
    skipped: Skipped,
    eof: bool,
    fault: Option<io::Error>,
}

/// Skips one record that starts at the front of `buf` and runs past it,
/// reading on from `r` in blocks of at most `block` bytes (and 64 KiB), never
/// holding it: `end` is fed
/// `buf`, then each block, and says where the record ends in what it was fed.
/// Leaves in `buf` what follows the record.
fn skip_record<R: Read>(
    r: &mut Guard<R>,
    buf: &mut Vec<u8>,
    block: usize,
    mut end: impl FnMut(&[u8]) -> Option<usize>,
) -> Skip {
    let mut skip = Skip { skipped: Skipped { bytes: 0, newlines: 0 }, eof: false, fault: None };
    let count = |b: &[u8], skip: &mut Skip| {
        skip.skipped.bytes += b.len() as u64;
        skip.skipped.newlines += memchr::memchr_iter(b'\n', b).count() as u64;
    };
    if let Some(k) = end(buf) {
        count(&buf[..k], &mut skip);
        buf.drain(..k);
        return skip;
    }
    count(buf, &mut skip);
    buf.clear();
    let mut tmp = vec![0u8; block.clamp(1, 64 << 10)];
    loop {
        match r.read(&mut tmp) {
            Ok(0) => {
                skip.eof = true;
                return skip;
            }
            Ok(n) => match end(&tmp[..n]) {
                Some(k) => {
                    count(&tmp[..k], &mut skip);
                    buf.extend_from_slice(&tmp[k..n]);
                    return skip;
                }
                None => count(&tmp[..n], &mut skip),
            },
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                skip.fault = Some(e);
                return skip;
            }
        }
    }
}

/// Finds, in bytes fed in pieces, the next `{` that follows a `}` or a line
/// break (white space aside), as the document parser resumes after a
/// document that never ends ([`next_boundary`]), without holding them.
struct Boundary {
    /// The last byte fed that is not a space, a tab or a carriage return.
    last: u8,
}

impl Boundary {
    /// After the bytes `seen`.
    fn after(seen: &[u8]) -> Self {
        let last = seen.iter().rev().find(|c| !matches!(c, b' ' | b'\t' | b'\r')).copied().unwrap_or(0);
        Self { last }
    }

    /// Feeds `b`; returns where the next document starts in it. With `line`,
    /// the end of a line ends the search too (the parser reads one line at a
    /// time), before its line break.
    fn feed(&mut self, b: &[u8], line: bool) -> Option<usize> {
        for (k, &c) in b.iter().enumerate() {
            match c {
                b'{' if matches!(self.last, b'}' | b'\n') => return Some(k),
                b'\n' if line => return Some(k),
                b' ' | b'\t' | b'\r' => {}
                _ => self.last = c,
            }
        }
        None
    }
}

/// Finds the end of one JSON value fed in pieces, without holding it: white
/// space before it, then a string, a container (brackets counted outside
/// strings) or a scalar. Only for a value too long to hold, which is skipped,
/// not parsed, so a broken one ends where its brackets say.
#[derive(Default)]
struct ValueEnd {
    started: bool,
    scalar: bool,
    in_string: bool,
    escaped: bool,
    depth: u64,
}

impl ValueEnd {
    /// A value's end when feeding starts inside a container it is one level
    /// into: the container's close.
    fn inside_container() -> Self {
        ValueEnd { started: true, depth: 1, ..ValueEnd::default() }
    }

    /// Feeds `b[from..]`; returns the index in `b` just past the value when it
    /// ends there.
    fn feed(&mut self, b: &[u8], from: usize) -> Option<usize> {
        for (k, &c) in b.iter().enumerate().skip(from) {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if c == b'\\' {
                    self.escaped = true;
                } else if c == b'"' {
                    self.in_string = false;
                    if self.depth == 0 {
                        return Some(k + 1);
                    }
                }
                continue;
            }
            if !self.started {
                if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                    self.started = true;
                    match c {
                        b'{' | b'[' => self.depth = 1,
                        b'"' => self.in_string = true,
                        _ => self.scalar = true,
                    }
                }
                continue;
            }
            if self.scalar {
                if matches!(c, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r') {
                    return Some(k);
                }
                continue;
            }
            match c {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return Some(k + 1);
                    }
                }
                _ => {}
            }
        }
        None
    }
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_end_after_newlines_and_cover_everything() {
        let buf = b"aaaa\nbb\ncccccccc\nd";
        let c = chunk_bounds(buf, 3);
        assert_eq!(c, vec![(0, 5), (5, 17), (17, 18)]);
        assert_eq!(chunk_bounds(b"", 3), vec![]);
        assert_eq!(chunk_bounds(b"abc", 100), vec![(0, 3)]);
    }

    /// The byte ranges of a mapped source's pieces.
    fn ranges(buf: &[u8], format: Format, layout: Layout, size: usize) -> Vec<(usize, usize)> {
        mapped_bounds(buf, format, layout, size).into_iter().map(|(s, e, _)| (s, e)).collect()
    }

    #[test]
    fn long_lines_of_documents_are_cut_before_a_document() {
        // `}{` inside a string is no boundary.
        let doc: &[u8] = br#"{"a":"}{"}"#;
        let mut line = doc.repeat(10);
        line.push(b'\n');
        let cut = vec![(0, 20), (20, 40), (40, 60), (60, 80), (80, 101)];
        assert_eq!(ranges(&line, Format::Cloudwatch, Layout::Lines, 20), cut);
        assert_eq!(ranges(&line[..100], Format::Json, Layout::Whole, 20).last(), Some(&(80, 100)));
        // Lines whose records are one object each are never cut.
        assert_eq!(ranges(&line, Format::Jsonl, Layout::Lines, 20), vec![(0, 101)]);
        // A CloudWatch line that does not start with `{` is an export line, read
        // whole; one that does is cut like any line of documents, its pieces
        // after the first read as documents whatever they start with.
        let mut export = b"[1]".to_vec();
        export.extend_from_slice(&line);
        assert_eq!(ranges(&export, Format::Cloudwatch, Layout::Lines, 20), vec![(0, 104)]);
        let mut mixed = doc.repeat(3);
        mixed.extend_from_slice(b"[1]");
        mixed.extend_from_slice(&line);
        let pieces = mapped_bounds(&mixed, Format::Cloudwatch, Layout::Lines, 20);
        assert!(pieces.len() > 2, "{pieces:?}");
        assert!(pieces.iter().skip(1).all(|&(_, _, open)| open.in_line) && !pieces[0].2.in_line);
        // After a broken document, cut again from the next `{`, where the
        // parser resumes.
        let mut broken = doc.repeat(3);
        broken.extend_from_slice(b"{\"a\":1]x");
        broken.extend_from_slice(&line);
        assert_eq!(
            ranges(&broken, Format::Cloudwatch, Layout::Lines, 20),
            vec![(0, 20), (20, 48), (48, 68), (68, 88), (88, 108), (108, 128), (128, broken.len())]
        );
    }

    #[test]
    fn malformed_samples_do_not_depend_on_the_order_workers_meet_them() {
        // Two malformed records at one offset (a missing comma, then the
        // broken document right there), and more than the cap: whichever
        // worker met which first, the same samples are kept.
        let at = |offset| Location { source: SourceId(0), line_in_chunk: 0, offset };
        let met = [
            (at(9), "b"),
            (at(5), "mismatched bracket"),
            (at(5), "expected , or ]"),
            (at(5), "unterminated array"),
            (at(7), "a"),
        ];
        let kept = |order: &[usize]| {
            let mut w = Worker::new((), 2);
            for &k in order {
                w.keep_sample(met[k].0, met[k].1);
            }
            let mut kept: Vec<_> = w.samples.iter().map(|l| l.offset).zip(w.reasons).collect();
            kept.sort();
            kept
        };
        let expected = vec![(5, "expected , or ]"), (5, "mismatched bracket")];
        for order in [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [3, 1, 2, 0, 4], [2, 3, 4, 0, 1]] {
            assert_eq!(kept(&order), expected, "{order:?}");
        }
    }

    #[test]
    fn an_array_of_records_is_cut_before_its_elements() {
        // One line (or file) holding an array of 10 records: cut before
        // elements, each piece saying whether it starts or ends in the array.
        let mut line = b"[".to_vec();
        line.extend_from_slice(&[&br#"{"a":"],["}"#[..]; 10].join(&b","[..]));
        line.extend_from_slice(b"] {}\n");
        let pieces = mapped_bounds(&line, Format::Json, Layout::Lines, 20);
        const ARRAY: At = At::Array { wrapped: false };
        let open = |start, end| Open { start, end, in_line: start != At::Top || end == At::Top };
        let expected = vec![
            (0, 25, Open { start: At::Top, end: ARRAY, in_line: false }),
            (25, 49, open(ARRAY, ARRAY)),
            (49, 73, open(ARRAY, ARRAY)),
            (73, 97, open(ARRAY, ARRAY)),
            (97, 122, open(ARRAY, At::Top)),
            (122, 125, open(At::Top, At::Top)),
        ];
        assert_eq!(pieces, expected);
        let whole = mapped_bounds(&line, Format::Json, Layout::Whole, 20);
        assert_eq!(whole.len(), pieces.len());
        // OTLP and CloudWatch documents are objects: their arrays are never cut.
        assert_eq!(ranges(&line, Format::Otlp, Layout::Whole, 20), vec![(0, 122), (122, 125)]);
        // CloudTrail's `{"Records": [...]}` is cut the same way, and before
        // the rest of the document after its array.
        let mut doc = b"{ \"Records\" :[".to_vec();
        doc.extend_from_slice(&[&br#"{"a":"],["}"#[..]; 10].join(&b","[..]));
        doc.extend_from_slice(br#"], "n": {"x": [1]}} {}"#);
        let wrapped = At::Array { wrapped: true };
        let expected = vec![
            (0, 26, Open { start: At::Top, end: wrapped, in_line: false }),
            (26, 50, open(wrapped, wrapped)),
            (50, 74, open(wrapped, wrapped)),
            (74, 98, open(wrapped, wrapped)),
            (98, 122, open(wrapped, wrapped)),
            (122, 153, open(wrapped, At::Top)),
            (153, 155, open(At::Top, At::Top)),
        ];
        assert_eq!(mapped_bounds(&doc, Format::Json, Layout::Whole, 20), expected);
        let close = mapped_bounds(&doc, Format::Json, Layout::Whole, 11);
        assert!(close.contains(&(133, 153, open(wrapped, At::Top))), "{close:?}");
    }

    #[test]
    fn a_buffer_of_documents_ends_before_its_last_unfinished_one() {
        use At::{Junk, Top};
        const ARRAY: At = At::Array { wrapped: false };
        let end = |b: &[u8], state: At| match documents_end(Format::Json, b, true, state) {
            Documents::End(p, open) => Some((p, open)),
            Documents::More => None,
        };
        assert_eq!(end(b"{\"a\":1} {\"b\":", Top), Some((8, Top)));
        assert_eq!(end(b"\xEF\xBB\xBF{} \n", Top), Some((7, Top)));
        assert_eq!(end(b"{\"a\":\"}{", Top), None);
        // Junk: a piece may start at it, or end after it where no `{` follows;
        // a fault in the last bytes waits for more (`tru` may be `true`).
        let pad = |b: &[u8]| [b, &b" ".repeat(LOOKAHEAD)[..]].concat();
        assert_eq!(end(b"{} x", Top), Some((3, Top)));
        assert_eq!(end(&pad(b"{} x"), Top), Some((4 + LOOKAHEAD, Junk)));
        assert_eq!(end(&pad(b"{} x {"), Top), Some((5, Top)));
        assert_eq!(end(&pad(b"x y"), Top), Some((3 + LOOKAHEAD, Junk)));
        assert_eq!(end(b"x y", Junk), Some((3, Junk)));
        assert_eq!(end(b"x {} {", Junk), Some((5, Top)));
        // Inside an array: before the element that is not finished (a comma
        // where one should be, too: a piece that starts there reads it as the
        // whole read does), or at the end where the next one will start; after
        // it closes, before the next document.
        assert_eq!(end(b"[{}, {\"a\"", Top), Some((5, ARRAY)));
        assert_eq!(end(b"[{}, ", Top), Some((5, ARRAY)));
        assert_eq!(end(b"[{},, {}", Top), Some((4, ARRAY)));
        assert_eq!(end(&pad(b"[{},, {}"), Top), Some((8 + LOOKAHEAD, Top)));
        assert_eq!(end(b"{}, {}]", ARRAY), Some((7, Top)));
        assert_eq!(end(b"{}, {}] {", ARRAY), Some((8, Top)));
        assert_eq!(end(b"[tru", Top), Some((1, ARRAY)));
        // A broken element: the parser looks for the next `{` from the byte
        // that broke it, and no piece starts at that byte.
        assert_eq!(end(&pad(b"{} {} {"), ARRAY), Some((6, Top)));
        assert_eq!(end(b"{} {}", ARRAY), None);
        // A CloudWatch line of documents is read as documents from inside it
        // too: cut like any other.
        assert!(reads_documents(Format::Cloudwatch, b"{} [1]", false, false));
        assert!(reads_documents(Format::Cloudwatch, b"[1] {}", false, true));
        assert!(!reads_documents(Format::Cloudwatch, b" {}", false, false), "an export line");
        let cw = |b: &[u8]| match documents_end(Format::Cloudwatch, b, false, Top) {
            Documents::End(p, _) => Some(p),
            Documents::More => None,
        };
        assert_eq!(cw(b"{} [1]"), Some(6));
    }

    /// The chunks `send_chunks` makes of `input`: (bytes, skipped record length).
    fn chunks_of(input: &[u8], cut: Cut, chunk: usize, limit: usize) -> Vec<(Vec<u8>, Option<u64>)> {
        let opts = Options::new().chunk_size(chunk).max_record_bytes(limit);
        let mut r =
            Guard { inner: input, out: 0, input: Rc::new(Cell::new(0)), max_out: u64::MAX, max_ratio: u64::MAX };
        let (tx, rx) = std::sync::mpsc::sync_channel(1 << 16);
        assert!(send_chunks(&mut r, &opts, &tx, &Buffers::new(chunk), cut).is_ok());
        drop(tx);
        rx.into_iter().map(|c| (c.bytes, c.oversized.map(|s| s.bytes))).collect()
    }

    #[test]
    fn chunk_buffers_are_kept_to_a_bound_and_only_at_about_a_chunk() {
        let buffers = Buffers::new(1024);
        // A piece cut out of a buffer, and a buffer grown for one long record:
        // neither is kept.
        buffers.give(Vec::with_capacity(10));
        buffers.give(Vec::with_capacity(4096));
        assert_eq!(buffers.take().capacity(), 0);
        // Chunk buffers are kept, up to the bound, and come back empty.
        let bound = rayon::current_num_threads().max(1) * 2 + 2;
        for _ in 0..bound + 5 {
            buffers.give(vec![7u8; 1024]);
        }
        assert_eq!(buffers.free.lock().map(|f| f.len()).ok(), Some(bound));
        let b = buffers.take();
        assert!(b.is_empty() && b.capacity() >= 1024);
    }

    #[test]
    fn a_stream_is_never_held_in_pieces_longer_than_the_record_limit() {
        let doc = |i: usize| format!("{{\"request_id\":\"r{i}\",\"body\":\"{}\"}}\n", "x".repeat(i % 50));
        let docs: String = (0..3_000).map(doc).collect();
        let big = format!("{{\"body\":\"{}\"}}\n", "y".repeat(20_000));
        let cases = [
            // After a broken document; one huge document; one huge element.
            format!("x}}\n{docs}"),
            format!("{docs}{big}{docs}"),
            format!("[{}]", [docs.replace('\n', ","), big, docs.replace('\n', ",")].join("")),
        ];
        for (n, input) in cases.iter().enumerate() {
            let chunks = chunks_of(input.as_bytes(), Cut::Documents(Format::Json), 1 << 10, 8 << 10);
            let held = chunks.iter().map(|(b, _)| b.len()).max().unwrap_or(0);
            assert!(held <= (8 << 10) + (1 << 10), "case {n}: a piece of {held} bytes");
            let total: u64 = chunks.iter().map(|(b, skipped)| skipped.unwrap_or(b.len() as u64)).sum();
            assert_eq!(total, input.len() as u64, "case {n}: every byte is in a piece or skipped");
            let skipped = chunks.iter().filter(|(_, s)| s.is_some()).count();
            assert_eq!(skipped, usize::from(n > 0), "case {n}");
        }
    }

    #[test]
    fn documents_that_never_end_one_after_another_are_not_cut_one_by_one() {
        // Each opens a document that never closes: at the record limit the
        // reader cuts before the next one, which costs a walk of the buffer,
        // within a budget that grows with the bytes sent; past it, where the
        // buffer ends. Cut one by one, this would be about 20,000 walks of the
        // buffer.
        let cases = [
            ("{\"a\":[\n".repeat(20_000), Cut::Documents(Format::Json)),
            ("{\n".repeat(50_000), Cut::Documents(Format::Json)),
            ("{{}".repeat(40_000), Cut::Lines(Format::Json)),
            ("{{}".repeat(40_000), Cut::Lines(Format::Cloudwatch)),
        ];
        for (input, cut) in cases {
            let chunks = chunks_of(input.as_bytes(), cut, 1 << 10, 4 << 10);
            // Each walk of a 4 KiB buffer is paid for by 4 KiB / WALK_PER_BYTE sent.
            let bound = MAX_RESYNCS + (WALK_PER_BYTE as usize + 2) * input.len() / (4 << 10);
            assert!(chunks.len() < bound, "{} pieces, more than {bound}", chunks.len());
            let held = chunks.iter().map(|(b, _)| b.len()).max().unwrap_or(0);
            assert!(held <= (4 << 10) + (1 << 10), "a piece of {held} bytes");
            let total: u64 = chunks.iter().map(|(b, skipped)| skipped.unwrap_or(b.len() as u64)).sum();
            assert_eq!(total, input.len() as u64);
        }
    }

    #[test]
    fn a_boundary_fed_in_pieces_is_where_the_parser_resumes() {
        let inputs: [&[u8]; 5] = [
            b"{\"a\": \"cut short }  \r\n {\"b\":1}",
            b"{\"a\": [ {}, {} ] }{}",
            b"{\"a\" \n\t {",
            b"{ no boundary at all, { {",
            b"{}",
        ];
        for v in inputs {
            let expected = next_boundary(v, 1);
            for cut in 1..=v.len() {
                let mut boundary = Boundary::after(&v[..1]);
                let got = boundary
                    .feed(&v[1..cut], false)
                    .map(|k| k + 1)
                    .or_else(|| boundary.feed(&v[cut..], false).map(|k| k + cut));
                assert_eq!(got, expected, "{} cut at {cut}", String::from_utf8_lossy(v));
            }
        }
        // Within a line, its end ends the search.
        assert_eq!(Boundary::after(b"{").feed(b"\"a\n{}", true), Some(2));
    }

    #[test]
    fn a_value_fed_in_pieces_ends_where_the_json_scanner_ends_it() {
        let values: [&[u8]; 6] = [
            br#" {"a":"}]\"{[","b":[1,{"c":"\\"}]} ,"#,
            br#"[[],{},"]"] ]"#,
            br#""a \" ] } string","#,
            b"12345.5e3,",
            b"\n\t true]",
            br#"{"cut": "short"#,
        ];
        for v in values {
            let start = json::skip_ws(v, 0);
            let expected = json::scan_value(v, start).ok().map(|(_, end)| end);
            for cut in 0..=v.len() {
                let mut end = ValueEnd::default();
                let got = end.feed(&v[..cut], 0).or_else(|| end.feed(&v[cut..], 0).map(|k| k + cut));
                assert_eq!(got, expected, "{} cut at {cut}", String::from_utf8_lossy(v));
            }
        }
    }

    #[test]
    fn hex_is_lower_case() {
        assert_eq!(hex(&[0, 0xab, 0xff]), "00abff");
    }
}
