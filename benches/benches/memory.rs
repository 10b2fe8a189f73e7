//! Peak anonymous memory of a scan (design.md §9: memory must not grow with the
//! dump's size). Samples `RssAnon` from /proc/self/status every 5 ms while
//! `leakledger::analyse` runs over page-cached dumps of 256 MiB and of
//! `LEAKLEDGER_BENCH_MIB` (e.g. 2048), and prints the peaks above the baseline.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use leakledger_dump::{Dump, Options};

fn rss_anon_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn measure(mib: u64, mmap: bool) {
    let path = leakledger_benches::dump_of(mib).expect("generate");
    measure_path(&path, &format!("{mib:>5} MiB"), mmap);
}

fn measure_path(path: &std::path::Path, label: &str, mmap: bool) {
    for entry in walk(path) {
        leakledger_benches::warm(&entry).expect("warm");
    }
    let dump = Dump::open(&[path], &Options::new().threads(Some(2)).mmap(mmap)).expect("open");
    let base = rss_anon_kib();
    let peak = AtomicU64::new(base);
    let done = AtomicBool::new(false);
    let started = Instant::now();
    let (total, exposure) = std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss_anon_kib(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        let a = leakledger::analyse(&dump);
        done.store(true, Ordering::Relaxed);
        (a.summary.records.total, a.summary.exposure)
    });
    let secs = started.elapsed().as_secs_f64();
    let size: u64 = dump.sources().iter().map(|s| s.size).sum();
    #[allow(clippy::print_stdout)]
    {
        println!(
            "{label} {}: {total} records in {secs:.2} s ({:.2} GB/s on disk, SHA-256 included), peak anonymous memory above baseline {:.1} MiB; {} files, {} paths, {} repositories",
            if mmap { "mmap   " } else { "no-mmap" },
            size as f64 / secs / 1e9,
            (peak.load(Ordering::Relaxed).saturating_sub(base)) as f64 / 1024.0,
            exposure.files,
            exposure.paths,
            exposure.repositories,
        );
    }
}

/// Files under `path` (or `path` itself).
fn walk(path: &std::path::Path) -> Vec<std::path::PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    let mut out = Vec::new();
    for e in std::fs::read_dir(path).into_iter().flatten().flatten() {
        out.extend(walk(&e.path()));
    }
    out
}

fn main() {
    // `cargo bench` passes `--bench`; other arguments are ignored. A dump of
    // your own (a `leakledger synth` output, say): LEAKLEDGER_BENCH_DUMP=DIR.
    if let Ok(dir) = std::env::var("LEAKLEDGER_BENCH_DUMP") {
        let path = std::path::PathBuf::from(dir);
        measure_path(&path, &path.display().to_string(), true);
        return;
    }
    let big = leakledger_benches::bench_mib();
    for mib in if big == 256 { vec![256] } else { vec![256, big] } {
        measure(mib, true);
        measure(mib, false);
    }
}
