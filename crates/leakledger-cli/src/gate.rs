//! `leakledger gate`: the detection engine in front of a commit or a log store.
//! Text is read in overlapping windows, so a file of any size is checked in
//! bounded memory and a secret that straddles two windows is still found whole.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use leakledger::{Compression, Dump, Format, Options};
use leakledger_detect::identifiers::Identifiers;
use leakledger_detect::secrets::{Scanner, Severity};
use serde::Serialize;

use crate::cli::GateArgs;
use crate::output::{path, term_safe};

/// Bytes scanned at a time, and how much of the previous window is scanned again
/// (more than the longest secret a rule reaches: a PEM block).
const WINDOW: usize = 16 << 20;
const OVERLAP: usize = 64 << 10;

#[derive(Debug, Serialize, PartialEq, Eq, PartialOrd, Ord)]
struct Finding {
    path: String,
    line: u64,
    kind: String,
    rule: String,
    #[serde(serialize_with = "severity_name")]
    severity: Severity,
    fingerprint: String,
    redacted: String,
}

fn severity_name<S: serde::Serializer>(s: &Severity, out: S) -> Result<S::Ok, S::Error> {
    out.serialize_str(s.name())
}

/// A window of the input: its bytes (the previous window's last `OVERLAP`
/// bytes first), the offset of its first byte, and the newlines before it.
struct Window {
    bytes: Vec<u8>,
    base: u64,
    lines_before: u64,
}

/// Mapped files scanned together, at most this many at once: the SIGBUS guard
/// names as many mappings, and open files and mappings stay bounded.
const MAPPED_AT_ONCE: usize = 64;

/// The windows of a mapped file of `len` bytes: every byte in one, each after the
/// first starting `OVERLAP` bytes before the last one's end, as [`scan_reader`]
/// reads them (which may add a last window holding only an overlap).
fn windows_of(len: usize) -> usize {
    if len <= WINDOW { 1 } else { (len - OVERLAP).div_ceil(WINDOW - OVERLAP) }
}

/// Scans mapped files (each with its name): windows as in [`scan_reader`], but
/// slices of the maps, the windows of all the files scanned by the pool at once
/// (no copy, no reading thread, and many small files keep both cores busy).
/// Line numbers are added up after, from the newlines of the windows before
/// each file's last finding.
fn scan_mapped(files: &[(String, leakledger::Mapped)], scanner: &Scanner, ids: &Identifiers, out: &mut Vec<Finding>) {
    use rayon::prelude::*;
    let step = WINDOW - OVERLAP;
    let jobs: Vec<(usize, usize)> =
        files.iter().enumerate().flat_map(|(f, (_, map))| (0..windows_of(map.len())).map(move |k| (f, k))).collect();
    let window = |f: usize, k: usize| {
        let (start, bytes) = (k * step, &files[f].1);
        (start, &bytes[start..(start + WINDOW).min(bytes.len())])
    };
    // With each window's findings, the newlines of its own part (before the
    // next window's overlap) when the scan found them for line numbers.
    let scanned: Vec<(Located, Option<u64>)> = jobs
        .par_iter()
        .map(|&(f, k)| {
            let (start, bytes) = window(f, k);
            let mut own = None;
            let found = scan_window(bytes, start as u64, 0, &files[f].0, scanner, ids, |at| {
                own = Some(at.partition_point(|&n| n < step) as u64);
            });
            (found, own)
        })
        .collect();
    // Newlines are counted only in the windows before a file's last finding
    // (none at all in a clean file, the gate's usual case), each window's own
    // part, all at once.
    let mut last = vec![0; files.len()];
    for (&(f, k), (found, _)) in jobs.iter().zip(&scanned) {
        if !found.is_empty() {
            last[f] = last[f].max(k);
        }
    }
    let newlines: Vec<u64> = jobs
        .par_iter()
        .zip(&scanned)
        .map(|(&(f, k), (_, own))| match own {
            _ if k >= last[f] => 0,
            Some(n) => *n,
            None => {
                let (_, bytes) = window(f, k);
                memchr::memchr_iter(b'\n', &bytes[..step.min(bytes.len())]).count() as u64
            }
        })
        .collect();
    let mut scanned = scanned.into_iter().map(|(found, _)| found).zip(newlines);
    for (_, map) in files {
        let mut lines_before = 0;
        let mut found = Vec::new();
        for (mut f, newlines) in scanned.by_ref().take(windows_of(map.len())) {
            for (_, finding) in &mut f {
                finding.line += lines_before;
            }
            found.append(&mut f);
            lines_before += newlines;
        }
        keep_once(found, out);
    }
}

/// Findings, each with its absolute offset.
type Located = Vec<(u64, Finding)>;

/// Appends `found` to `out`, each finding once: the windows' overlaps see
/// some twice, at the same absolute offset. A window that ends inside an
/// identifier sees only its start, and the next window sees it whole: of the
/// identifiers at one offset, the longest stands.
fn keep_once(found: Located, out: &mut Vec<Finding>) {
    use std::collections::btree_map::Entry;
    let mut seen: BTreeMap<(u64, String), usize> = BTreeMap::new();
    for (abs, f) in found {
        let key = if f.rule == "identifier" { f.rule.clone() } else { f.rule.clone() + &f.redacted };
        match seen.entry((abs, key)) {
            Entry::Vacant(e) => {
                e.insert(out.len());
                out.push(f);
            }
            Entry::Occupied(e) => {
                let kept = &mut out[*e.get()];
                if f.redacted.len() > kept.redacted.len() {
                    *kept = f;
                }
            }
        }
    }
}

/// Scans `r` window by window: this thread reads, the pool's threads scan
/// (at most two windows a thread in flight, 16 MiB each); findings are keyed
/// by absolute offset so the overlap never reports one twice.
fn scan_reader(
    r: &mut impl Read,
    name: &str,
    scanner: &Scanner,
    ids: &Identifiers,
    out: &mut Vec<Finding>,
) -> io::Result<()> {
    use rayon::prelude::*;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Window>(rayon::current_num_threads().max(1));
    // Scanned windows' buffers come back to be filled again (a fresh 16 MiB
    // buffer costs its page faults and zeroing each time).
    let (back, spare) = std::sync::mpsc::channel::<Vec<u8>>();
    let (found, read) = std::thread::scope(|s| {
        let scanning = s.spawn(move || {
            rx.into_iter()
                .par_bridge()
                .flat_map_iter(|w| {
                    let found = scan_window(&w.bytes, w.base, w.lines_before, name, scanner, ids, |_| {});
                    let _ = back.send(w.bytes);
                    found
                })
                .collect::<Vec<_>>()
        });
        let read = read_windows(r, || spare.try_recv().unwrap_or_default(), |w| tx.send(w).is_ok());
        drop(tx);
        let found = scanning.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (found, read)
    });
    // What was read before a fault (a stream cut short, a decompression
    // limit) keeps its findings.
    keep_once(found, out);
    read
}

/// Reads `r` as windows of `WINDOW` bytes, each after the first starting with
/// the previous one's last `OVERLAP` bytes, and hands them to `take` (which
/// returns false to stop); buffers come from `buffer` (empty, or spare).
fn read_windows(
    r: &mut impl Read,
    mut buffer: impl FnMut() -> Vec<u8>,
    mut take: impl FnMut(Window) -> bool,
) -> io::Result<()> {
    let (mut carry, mut base, mut lines_before) = (Vec::new(), 0u64, 0u64);
    loop {
        let mut bytes = buffer();
        bytes.clear();
        bytes.reserve(WINDOW);
        bytes.append(&mut carry);
        let carried = bytes.len();
        if let Err(e) = (&mut *r).take((WINDOW - carried) as u64).read_to_end(&mut bytes) {
            // What was read before the fault (a stream cut short, a
            // decompression limit) is scanned too; the carried overlap alone
            // already was.
            if bytes.len() > carried {
                take(Window { bytes, base, lines_before });
            }
            return Err(e);
        }
        if bytes.len() < WINDOW {
            take(Window { bytes, base, lines_before });
            return Ok(());
        }
        let keep_from = bytes.len() - OVERLAP;
        carry.extend_from_slice(&bytes[keep_from..]);
        let window = Window { base, lines_before, bytes };
        base += keep_from as u64;
        lines_before += memchr::memchr_iter(b'\n', &window.bytes[..keep_from]).count() as u64;
        if !take(window) {
            return Ok(());
        }
    }
}

/// The findings of a window that starts at offset `base` after `lines_before`
/// newlines, each with its absolute offset. When it finds the window's
/// newlines (for a finding's line), it hands their offsets to `newlines_found`.
fn scan_window(
    bytes: &[u8],
    base: u64,
    lines_before: u64,
    name: &str,
    scanner: &Scanner,
    ids: &Identifiers,
    newlines_found: impl FnOnce(&[usize]),
) -> Located {
    // Line numbers from the window's newline offsets, found once (counting
    // from the window's start for each finding was quadratic: a dump line
    // with many secrets took seconds).
    let newlines = std::cell::OnceCell::new();
    let line_of = |off: usize| {
        let at: &Vec<usize> = newlines.get_or_init(|| memchr::memchr_iter(b'\n', bytes).collect());
        lines_before + at.partition_point(|&n| n < off) as u64 + 1
    };
    let mut out = Vec::new();
    // The bytes are scanned where they lie: secrets and identifiers are found
    // in the runs of valid UTF-8 (no secret holds a broken byte), at their raw
    // offsets, which the overlap's deduplication relies on.
    let finding = |at: usize, kind: &str, rule: &str, severity, fingerprint: String, redacted: String| {
        (
            base + at as u64,
            Finding {
                path: name.to_string(),
                line: line_of(at),
                kind: kind.to_string(),
                rule: rule.to_string(),
                severity,
                fingerprint,
                redacted,
            },
        )
    };
    for h in scanner.scan_bytes(bytes) {
        out.push(finding(h.start, h.kind, h.rule, h.severity, h.fingerprint.to_string(), h.redacted));
    }
    for (at, id) in ids.find_at(bytes) {
        out.push(finding(at, "proprietary-identifier", "identifier", Severity::Medium, String::new(), id));
    }
    if let Some(at) = newlines.get() {
        newlines_found(at);
    }
    out
}

/// The findings as a SARIF 2.1.0 log: a rule per rule id that found something,
/// a result per finding (its value never appears: the message and properties
/// hold the redacted form and the fingerprint).
fn sarif(findings: &[Finding]) -> serde_json::Value {
    use leakledger_report::sarif::{envelope, level, security_severity};
    use serde_json::json;
    let mut rules: Vec<(&str, &str, Severity)> =
        findings.iter().map(|f| (f.rule.as_str(), f.kind.as_str(), f.severity)).collect();
    rules.sort_unstable_by_key(|r| r.0);
    rules.dedup_by_key(|r| r.0);
    let index = |id: &str| rules.iter().position(|r| r.0 == id).unwrap_or(0);
    let results = findings
        .iter()
        .map(|f| {
            let uri = if f.path == "-" { "stdin".to_string() } else { f.path.clone() };
            let mut fingerprints = serde_json::Map::new();
            if !f.fingerprint.is_empty() {
                fingerprints.insert("leakledgerSecret/v1".into(), json!(f.fingerprint));
            }
            json!({
                "ruleId": f.rule,
                "ruleIndex": index(&f.rule),
                "level": level(f.severity),
                "message": {"text": format!("{} {}: {}", f.severity, f.kind, f.redacted)},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": uri},
                    "region": {"startLine": f.line},
                }}],
                "partialFingerprints": fingerprints,
                "properties": {"kind": f.kind, "severity": f.severity.name(), "redacted": f.redacted},
            })
        })
        .collect();
    let rules = rules
        .iter()
        .map(|(id, kind, sev)| {
            json!({
                "id": id,
                "name": kind,
                "shortDescription": {"text": format!("{kind} found by rule {id}")},
                "defaultConfiguration": {"level": level(*sev)},
                "properties": {"tags": ["security", "secret"], "security-severity": security_severity(*sev)},
            })
        })
        .collect();
    envelope(rules, results)
}

pub(crate) fn run(args: &GateArgs) -> Result<ExitCode> {
    let scanner = match crate::rules::load_rules(args.rules.as_deref())? {
        Some(file) => Scanner::with_file(&file, leakledger::detect::secrets::random_key())?,
        None => Scanner::builtin(),
    };
    let ids = Identifiers::new(&args.identifiers);
    let stdin_only = args.paths.is_empty() || args.paths.iter().all(|p| p == Path::new("-"));
    if !stdin_only && args.paths.iter().any(|p| p == Path::new("-")) {
        bail!("`-` (standard input) cannot be checked together with paths: run gate once for each");
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());

    if args.redact {
        // A filter: one input, written back redacted.
        let mut text = Vec::new();
        if stdin_only {
            io::stdin().lock().read_to_end(&mut text)?;
        } else if let [one] = args.paths.as_slice() {
            text = std::fs::read(one).with_context(|| format!("cannot read {}", path(one)))?;
        } else {
            bail!("--redact takes standard input or one file");
        }
        let text = leakledger::lossy(&text);
        out.write_all(scanner.redact(&text).as_bytes())?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }

    let mut findings = Vec::new();
    // Inputs passed over or checked only in part, and whether that is a fault
    // (a file that could not be read to its end: the gate cannot vouch for it)
    // rather than a choice (a duplicate, a FIFO).
    let mut problems: Vec<(PathBuf, String, bool)> = Vec::new();
    if stdin_only {
        if let Err(e) = scan_reader(&mut io::stdin().lock(), "-", &scanner, &ids, &mut findings) {
            problems.push((PathBuf::from("-"), format!("checked up to a fault: {e}"), true));
        }
    } else {
        let paths: Vec<&PathBuf> = args.paths.iter().filter(|p| *p != Path::new("-")).collect();
        let options = Options::new().format(Some(Format::Text)).hash(false);
        let dump = Dump::open(&paths, &options)?;
        let mut mapped: Vec<(String, leakledger::Mapped)> = Vec::new();
        for s in dump.skipped() {
            problems.push((s.path.clone(), format!("skipped: {}", s.reason), s.unread));
        }
        for src in dump.sources() {
            let name = src.path.to_string_lossy().into_owned();
            if src.compression != Compression::None {
                // Decompressed as it is read, window by window (line numbers
                // are of the decompressed text).
                if let Err(e) = src
                    .decompressed(&options)
                    .and_then(|mut r| scan_reader(&mut r, &name, &scanner, &ids, &mut findings))
                {
                    problems.push((src.path.clone(), format!("checked up to a fault: {e}"), true));
                }
                continue;
            }
            let file = match std::fs::File::open(&src.path) {
                Ok(f) => f,
                Err(e) => {
                    problems.push((src.path.clone(), format!("skipped: {e}"), true));
                    continue;
                }
            };
            // Mapped where the file can be (page-cached logs are then read in
            // place), a batch of files at a time; read in windows where it cannot.
            if src.size > 0
                && !args.no_mmap
                && let Ok(map) = leakledger::Mapped::new(&file, &name)
            {
                map.advise_sequential();
                mapped.push((name, map));
                if mapped.len() == MAPPED_AT_ONCE {
                    scan_mapped(&mapped, &scanner, &ids, &mut findings);
                    mapped.clear();
                }
            } else if let Err(e) = scan_reader(&mut &file, &name, &scanner, &ids, &mut findings) {
                problems.push((src.path.clone(), format!("checked up to a fault: {e}"), true));
            }
        }
        scan_mapped(&mapped, &scanner, &ids, &mut findings);
        drop(mapped);
        if dump.sources().is_empty() {
            for (p, why, _) in &problems {
                #[allow(clippy::print_stderr)]
                {
                    eprintln!("leakledger gate: {}: {}", path(p), term_safe(why));
                }
            }
            return Ok(ExitCode::from(2));
        }
    }
    findings.sort();
    if args.sarif {
        serde_json::to_writer_pretty(&mut out, &sarif(&findings))?;
        writeln!(out)?;
    } else if args.json {
        serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "findings": findings }))?;
        writeln!(out)?;
    } else {
        for f in &findings {
            writeln!(out, "{}:{}: {} {} ({})", term_safe(&f.path), f.line, f.severity, term_safe(&f.redacted), f.rule)?;
        }
        writeln!(out, "{} finding{}", findings.len(), if findings.len() == 1 { "" } else { "s" })?;
    }
    out.flush()?;
    for (p, why, _) in &problems {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("leakledger gate: {}: {}", path(p), term_safe(why));
        }
    }
    // Found something: 1. Nothing found, but an input could not be checked to
    // its end: 2 (a gate that cannot vouch for its input must not pass it).
    Ok(if !findings.is_empty() {
        ExitCode::from(1)
    } else if problems.iter().any(|p| p.2) {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}
