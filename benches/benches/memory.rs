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
    leakledger_benches::warm(&path).expect("warm");
    let dump = Dump::open(&[&path], &Options::new().threads(Some(2)).mmap(mmap)).expect("open");
    let base = rss_anon_kib();
    let peak = AtomicU64::new(base);
    let done = AtomicBool::new(false);
    let started = Instant::now();
    let total = std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss_anon_kib(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        let a = leakledger::analyse(&dump);
        done.store(true, Ordering::Relaxed);
        a.summary.records.total
    });
    let secs = started.elapsed().as_secs_f64();
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    #[allow(clippy::print_stdout)]
    {
        println!(
            "{mib:>5} MiB {}: {total} records in {secs:.2} s ({:.2} GB/s incl. SHA-256), peak anonymous memory above baseline {:.1} MiB",
            if mmap { "mmap   " } else { "no-mmap" },
            size as f64 / secs / 1e9,
            (peak.load(Ordering::Relaxed).saturating_sub(base)) as f64 / 1024.0
        );
    }
}

fn main() {
    // `cargo bench` passes `--bench`; other arguments are ignored.
    let big = leakledger_benches::bench_mib();
    for mib in if big == 256 { vec![256] } else { vec![256, big] } {
        measure(mib, true);
        measure(mib, false);
    }
}
