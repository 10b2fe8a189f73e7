//! The mmap hazard, for real: a file truncated by another process while the scan
//! has it mapped. The child process (this same test binary, re-run with an
//! environment variable) installs the guard, maps a 24 MiB JSONL file and
//! truncates it from inside the sink on the first record, so the next pages it
//! reads are gone. It must end with exit status 2 and a message naming the file,
//! not die of the signal.

use std::fs::{self, OpenOptions};
use std::path::PathBuf;
use std::process::Command;

use leakledger_dump::{Dump, Options, Record, Sink};

const CHILD: &str = "LEAKLEDGER_SIGBUS_CHILD";

struct Truncating {
    path: PathBuf,
    done: bool,
}

impl Sink for Truncating {
    fn record(&mut self, _: &Record<'_>) {
        if !self.done {
            self.done = true;
            let f = OpenOptions::new().write(true).open(&self.path).expect("open for truncation");
            f.set_len(0).expect("truncate");
        }
    }
    fn merge(&mut self, _: Self) {}
}

fn child(path: PathBuf) -> ! {
    leakledger_dump::install_sigbus_guard().expect("install the guard");
    let dump = Dump::open(&[&path], &Options::new().threads(Some(1))).expect("open");
    let scan = dump.scan(|| Truncating { path: path.clone(), done: false });
    // Only reached if the truncation did not bite: the child fails (status 101)
    // and the parent shows this.
    panic!("CHILD FINISHED records={}", scan.records());
}

#[test]
fn a_file_truncated_while_mapped_ends_in_a_clear_error_naming_it() {
    if let Some(path) = std::env::var_os(CHILD) {
        child(PathBuf::from(path));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shrinking\u{1b}[31m.jsonl");
    let line = format!("{{\"ts\":1714564800,\"org\":\"acme\",\"body\":\"{}\"}}\n", "x".repeat(200));
    let mut data = String::with_capacity(24 << 20);
    while data.len() < 24 << 20 {
        data.push_str(&line);
    }
    fs::write(&path, &data).unwrap();

    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "a_file_truncated_while_mapped_ends_in_a_clear_error_naming_it", "--nocapture"])
        .env(CHILD, &path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "status {:?}\nstdout: {stdout}\nstderr: {stderr}", out.status);
    assert!(stderr.contains("changed size while it was being read (SIGBUS at byte "), "{stderr}");
    assert!(stderr.contains("--no-mmap"), "{stderr}");
    // Named, with the escape sequence in the name made inert.
    assert!(stderr.contains("shrinking\\u{1b}[31m.jsonl"), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr}");
}
