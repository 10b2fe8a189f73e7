//! The walk: what becomes a source, what is skipped and why; nothing hangs.

use std::os::unix::fs::symlink;

use leakledger::{Dump, Options};

#[test]
fn special_files_loops_and_duplicates_are_skipped_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("a/b")).unwrap();
    std::fs::write(root.join("a/one.jsonl"), "{\"request_id\":\"1\"}\n").unwrap();
    std::fs::write(root.join("a/b/two.log"), "plain line\n").unwrap();
    std::fs::write(root.join("a/empty.jsonl"), "").unwrap();
    std::fs::write(root.join("a/newlines.log"), "\n\n\n\n").unwrap();
    std::fs::write(root.join("a/archive.xz"), b"\xfd7zXZ\x00rest").unwrap();
    symlink(root.join("a"), root.join("a/b/loop")).unwrap();
    symlink(root.join("a/one.jsonl"), root.join("a/b/same.jsonl")).unwrap();
    symlink(root.join("nowhere"), root.join("a/dangling")).unwrap();
    let fifo = root.join("a/pipe");
    let status = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());

    let dump = Dump::open(&[root.to_path_buf(), root.join("missing")], &Options::new()).unwrap();
    let names: Vec<String> =
        dump.sources().iter().map(|s| s.path.strip_prefix(root).unwrap().display().to_string()).collect();
    assert_eq!(names, ["a/b/two.log", "a/empty.jsonl", "a/newlines.log", "a/one.jsonl"]);
    let skipped: Vec<(String, String)> = dump
        .skipped()
        .iter()
        .map(|s| (s.path.strip_prefix(root).map(|p| p.display().to_string()).unwrap_or_default(), s.reason.clone()))
        .collect();
    let reason = |name: &str| skipped.iter().find(|(p, _)| p == name).map(|(_, r)| r.as_str()).unwrap_or("");
    assert!(reason("a/archive.xz").contains("xz"), "{skipped:?}");
    assert!(reason("a/b/loop").contains("loop"), "{skipped:?}");
    assert!(reason("a/b/same.jsonl").contains("same file"), "{skipped:?}");
    assert!(reason("a/pipe").contains("FIFO"), "{skipped:?}");
    assert!(!reason("a/dangling").is_empty(), "{skipped:?}");
    assert!(!reason("missing").is_empty(), "{skipped:?}");

    let scan = dump.scan(|| ());
    assert_eq!((scan.records(), scan.malformed()), (2, 0));
}

#[test]
fn thousands_of_tiny_files() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..5_000 {
        std::fs::write(dir.path().join(format!("f{i:05}.jsonl")), format!("{{\"request_id\":\"{i}\"}}\n")).unwrap();
    }
    let dump = Dump::open(&[dir.path()], &Options::new()).unwrap();
    assert_eq!(dump.sources().len(), 5_000);
    let analysis = leakledger::analyse(&dump);
    assert_eq!(analysis.summary.records.total, 5_000);
    assert_eq!(analysis.summary.records.duplicates, 0);
}

#[test]
fn no_paths_is_an_error() {
    let none: [&std::path::Path; 0] = [];
    assert!(matches!(Dump::open(&none, &Options::new()), Err(leakledger::Error::NoInput)));
}

#[test]
fn duplicates_are_counted_across_sources_and_formats_once() {
    let dir = tempfile::tempdir().unwrap();
    let rec = |id: &str, body: &str| format!("{{\"request_id\":\"{id}\",\"body\":\"{body}\"}}\n");
    // r1 logged three times (twice in one shard, once in another), r2 twice with
    // different bodies (not a duplicate), r3 once, one record without an id.
    std::fs::write(dir.path().join("a.jsonl"), rec("r1", "x") + &rec("r1", "x") + &rec("r2", "x")).unwrap();
    std::fs::write(
        dir.path().join("b.jsonl"),
        rec("r1", "x") + &rec("r2", "changed") + &rec("r3", "x") + "{\"body\":\"x\"}\n",
    )
    .unwrap();
    let dump = Dump::open(&[dir.path()], &Options::new()).unwrap();
    let s = leakledger::analyse(&dump).summary;
    assert_eq!((s.records.total, s.records.malformed, s.records.duplicates), (7, 0, 2));
}
