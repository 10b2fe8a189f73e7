//! Hostile inputs that aim at memory: a 256 MiB single line and gzip bombs of
//! many members. Each runs the real binary as a child process and reads its peak
//! resident set size from `wait4`, so the bounds stated in docs/security.md are
//! checked, not assumed. The big cases run one at a time (a lock), so two of
//! them never share the machine's memory at once.

#![allow(unsafe_code)]

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Mutex;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const MIB: u64 = 1 << 20;

struct Measured {
    code: i32,
    stdout: String,
    stderr: String,
    /// Peak resident set, bytes (file pages of the mapped input included).
    peak: u64,
}

/// Runs `leakledger ARGS` and measures its peak RSS. The child is reaped by
/// `wait4` (which reports its rusage), not by `Child::wait`.
#[allow(clippy::zombie_processes)]
fn measured(dir: &Path, args: &[&str]) -> Measured {
    let out = dir.join("stdout");
    let err = dir.join("stderr");
    let child = Command::new(env!("CARGO_BIN_EXE_leakledger"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(File::create(&out).unwrap())
        .stderr(File::create(&err).unwrap())
        .spawn()
        .expect("run leakledger");
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    let mut status = 0;
    // SAFETY: a zeroed rusage is valid; wait4 fills it and reaps our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &raw mut status, 0, &raw mut usage) };
    assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
    let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -libc::WTERMSIG(status) };
    Measured {
        code,
        stdout: std::fs::read_to_string(out).unwrap(),
        stderr: std::fs::read_to_string(err).unwrap(),
        peak: u64::try_from(usage.ru_maxrss).unwrap() * 1024,
    }
}

fn json(m: &Measured) -> serde_json::Value {
    serde_json::from_str(&m.stdout).unwrap_or_else(|e| panic!("{e}: {}\n{}", m.stdout, m.stderr))
}

/// Writes one line: `head`, then `piece` repeated `pieces` times, then `tail`
/// and a newline; returns the file's size.
fn one_line(path: &Path, head: &str, piece: &str, pieces: usize, tail: &str) -> u64 {
    let mut w = BufWriter::new(File::create(path).unwrap());
    w.write_all(head.as_bytes()).unwrap();
    for _ in 0..pieces {
        w.write_all(piece.as_bytes()).unwrap();
    }
    writeln!(w, "{tail}").unwrap();
    w.into_inner().unwrap().sync_all().unwrap();
    std::fs::metadata(path).unwrap().len()
}

/// A record's start, up to its body: a test line goes on with the body's JSON.
const RECORD: &str = r#"{"ts":1714564800,"org":"acme","request_id":"r1","body":"#;

/// Writes one request whose one message is `head` then `piece` repeated
/// `pieces` times (both already JSON-escaped), on one line; returns the file's
/// size.
fn one_message(path: &Path, head: &str, piece: &str, pieces: usize) -> u64 {
    let head = format!(r#"{RECORD}{{"messages":[{{"role":"user","content":"{head}"#);
    one_line(path, &head, piece, pieces, "\"}]}}")
}

#[test]
fn a_256_mib_line_is_read_whole_within_a_gib_beyond_the_file() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("one-line.jsonl");
    // One request whose message carries 256 MiB of code, JSON-escaped as a
    // log would hold it (newlines, quotes, tabs).
    let piece = r#"    if x == \"y\" {\n\treturn 1;\n    }\n"#;
    let pieces = (256 * MIB) as usize / piece.len();
    let size = one_message(&path, r#"// File: src/big.rs\n"#, piece, pieces);

    let m = measured(dir.path(), &["scan", "--json", "--quiet", path.to_str().unwrap()]);
    assert_eq!(m.code, 0, "{}", m.stderr);
    let s = json(&m);
    assert_eq!(s["records"]["total"], 1, "{s}");
    assert_eq!(s["records"]["malformed"], 0, "{s}");
    assert_eq!(s["exposure"]["files"], 1, "{s}");
    // The file's content, unescaped: each piece has six two-byte escapes.
    let unescaped = (piece.len() - 6) as u64 * pieces as u64;
    let code_bytes = s["exposure"]["code_bytes"].as_u64().unwrap();
    assert!(code_bytes >= unescaped && code_bytes < unescaped + 64, "{code_bytes} vs {unescaped}");
    assert!(m.peak < size + 1024 * MIB, "peak RSS {} MiB for a {} MiB line", m.peak / MIB, size / MIB);
}

#[test]
fn a_line_of_one_keyword_or_marker_repeated_costs_linear_time_and_little_memory() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    // A message of 32 MiB of one secret keyword (`password=`: a hit every 9
    // bytes, each opening rule windows) or of backticks (a fence marker at every
    // byte). One window or mark per hit once took 6 and 17 times the line's
    // size; a mark per hit checked against the last one reported, quadratic time.
    for unit in ["password=", "`"] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("one-line.jsonl");
        let size = one_message(&path, "", unit, (32 * MIB) as usize / unit.len());
        let m = measured(dir.path(), &["scan", "--json", "--quiet", path.to_str().unwrap()]);
        assert_eq!(m.code, 0, "{}", m.stderr);
        let s = json(&m);
        assert_eq!((s["records"]["total"].as_u64(), s["secrets"]["distinct"].as_u64()), (Some(1), Some(0)), "{s}");
        assert!(m.peak < size + 128 * MIB, "{unit:?}: peak RSS {} MiB for a {} MiB line", m.peak / MIB, size / MIB);
    }
}

#[test]
fn a_payload_of_one_small_structure_repeated_costs_no_memory_per_repeat() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    // 32 MiB bodies of one small thing repeated: members of an unknown object,
    // strings of an array, members of one message, text blocks, messages.
    // Each repeat once cost memory: 4 to 26 times the line (the array of
    // strings 834 MB, as one hash per element of its conversation).
    let shapes: [(&str, &str, &str); 5] = [
        (r#"{"x":0"#, r#","a":"x""#, "}"),
        (r#"["x""#, r#","x""#, "]"),
        (r#"{"messages":[{"role":"user""#, r#","a":1"#, "}]}"),
        (
            r#"{"messages":[{"role":"user","content":[{"type":"text","text":"x"}"#,
            r#",{"type":"text","text":"x"}"#,
            "]}]}",
        ),
        (r#"{"messages":[{"role":"user","content":"x"}"#, r#",{"role":"user","content":"x"}"#, "]}"),
    ];
    for (open, unit, close) in shapes {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("one-line.jsonl");
        let size =
            one_line(&path, &format!("{RECORD}{open}"), unit, (32 * MIB) as usize / unit.len(), &format!("{close}}}"));
        let m = measured(dir.path(), &["scan", "--json", "--quiet", path.to_str().unwrap()]);
        assert_eq!(m.code, 0, "{}", m.stderr);
        let s = json(&m);
        assert_eq!((s["records"]["total"].as_u64(), s["records"]["malformed"].as_u64()), (Some(1), Some(0)), "{s}");
        assert!(m.peak < size + 64 * MIB, "{unit:?}: peak RSS {} MiB for a {} MiB line", m.peak / MIB, size / MIB);
    }
}

/// Writes `members` gzip members, each the compression of `block` repeated to
/// about 64 MiB; returns the decompressed size.
fn multi_member_gzip(path: &Path, block: &[u8], members: usize) -> u64 {
    let repeats = 64 * MIB as usize / block.len();
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    for _ in 0..repeats {
        e.write_all(block).unwrap();
    }
    let member = e.finish().unwrap();
    let mut w = BufWriter::new(File::create(path).unwrap());
    for _ in 0..members {
        w.write_all(&member).unwrap();
    }
    w.flush().unwrap();
    (members * repeats * block.len()) as u64
}

#[test]
fn a_gzip_bomb_of_many_members_stops_at_the_ratio_limit_in_little_memory() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.jsonl.gz");
    // 64 members of 64 MiB of zeros: 4 GiB from 4 MiB.
    multi_member_gzip(&path, &[0u8; 4096], 64);
    let m = measured(dir.path(), &["scan", "--json", "--quiet", path.to_str().unwrap()]);
    assert_eq!(m.code, 0, "{}", m.stderr);
    let s = json(&m);
    let problems = s["sources"][0]["problems"].to_string();
    assert!(problems.contains("ratio limit"), "{s}");
    assert!(m.peak < 256 * MIB, "peak RSS {} MiB", m.peak / MIB);
}

#[test]
fn a_bomb_under_the_ratio_limit_is_read_through_with_its_one_line_dropped_not_held() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.jsonl.gz");
    // Zeros with a little noise and no newline compress ~700:1, under the
    // 1000:1 guard: 32 members make one 2 GiB line, longer than the 512 MiB
    // record limit. The stream is read to its end; the line is counted as one
    // malformed record, and memory stays at the record limit, not the line.
    let mut block = vec![0u8; 65536 + 24];
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    for b in &mut block[65536..] {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = 14 + (x % 242) as u8;
    }
    let size = multi_member_gzip(&path, &block, 32);
    let m = measured(dir.path(), &["scan", "--json", "--quiet", path.to_str().unwrap()]);
    assert_eq!(m.code, 0, "{}", m.stderr);
    let s = json(&m);
    assert_eq!(s["records"]["malformed"], 1, "{s}");
    assert_eq!(s["sources"][0]["problems"], serde_json::json!([]), "{s}");
    assert_eq!(s["sources"][0]["bytes"], size, "{s}");
    assert!(m.peak < 512 * MIB + 128 * MIB, "peak RSS {} MiB", m.peak / MIB);
}
