//! The stages of the pass one by one, and the ceiling they run under:
//! - `secrets/*`: the secret scanner on code as messages carry it (16 KiB texts
//!   with a fake credential every ~8 KiB), finding and redacting;
//! - `exposure/*`: a text's digest (file markers, fences, diffs, working
//!   directory, remotes), without and with the secret scanner;
//! - `memory/*`: summing a 512 MiB buffer of `u64`s on 1 and 2 threads, the
//!   memory-read bandwidth no stage can beat;
//! - `report/write`: every report file for the analysis of a 64 MiB synthetic
//!   dump (throughput in dump bytes).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use leakledger_detect::exposure::{Lookouts, digest_text};
use leakledger_detect::secrets::{BUILTIN, Scanner};
use rayon::prelude::*;

fn texts() -> (Vec<String>, u64) {
    let mut rng = leakledger_benches::Rng::new(7);
    let texts: Vec<String> = (0..1024).map(|_| leakledger_benches::code_text(&mut rng, 16 << 10)).collect();
    let bytes = texts.iter().map(|t| t.len() as u64).sum();
    (texts, bytes)
}

fn detection(c: &mut Criterion) {
    let (texts, bytes) = texts();
    let scanner = Scanner::new(BUILTIN, [3; 32]).expect("rules");
    let mut g = c.benchmark_group("stages");
    g.throughput(Throughput::Bytes(bytes));
    g.sample_size(10);
    g.bench_function("secrets/scan", |b| b.iter(|| texts.iter().map(|t| scanner.scan(t).len()).sum::<usize>()));
    g.bench_function("secrets/redact", |b| b.iter(|| texts.iter().map(|t| scanner.redact(t).len()).sum::<usize>()));
    let plain = Lookouts::default();
    g.bench_function("exposure/digest", |b| {
        b.iter(|| texts.iter().map(|t| digest_text(t, &plain).shown.len()).sum::<usize>())
    });
    let look = Lookouts::new(Default::default(), Some(Scanner::new(BUILTIN, [3; 32]).expect("rules")), None)
        .expect("rules and marks");
    g.bench_function("exposure/digest+secrets", |b| {
        b.iter(|| texts.iter().map(|t| digest_text(t, &look).secrets.len()).sum::<usize>())
    });
    g.finish();
}

fn memory(c: &mut Criterion) {
    let words: Vec<u64> = (0..(512u64 << 20) / 8).collect();
    let mut g = c.benchmark_group("memory");
    g.throughput(Throughput::Bytes(512 << 20));
    g.sample_size(10);
    g.bench_function("sum-512MiB/1thread", |b| b.iter(|| words.iter().fold(0u64, |a, &w| a.wrapping_add(w))));
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("pool");
    g.bench_function("sum-512MiB/2threads", |b| {
        b.iter(|| {
            pool.install(|| {
                words
                    .par_chunks(1 << 20)
                    .map(|c| c.iter().fold(0u64, |a, &w| a.wrapping_add(w)))
                    .reduce(|| 0, u64::wrapping_add)
            })
        })
    });
    g.finish();
}

fn report(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    leakledger_synth::generate(dir.path(), &leakledger_synth::Options::new().size(64 << 20).seed(9)).expect("synth");
    let dump = leakledger::Dump::open(&[dir.path().join("dump")], &leakledger::Options::new()).expect("open");
    let analysis = leakledger::analyse(&dump);
    let out = dir.path().join("report");
    let settings = leakledger_report::Settings { force: true, ..leakledger_report::Settings::new() };
    let mut g = c.benchmark_group("report");
    g.throughput(Throughput::Bytes(dump.total_bytes()));
    g.sample_size(10);
    g.bench_function("write-64MiB", |b| {
        b.iter(|| leakledger_report::write(&analysis, &out, &settings).expect("write").files.len())
    });
    g.finish();
}

criterion_group!(benches, detection, memory, report);
criterion_main!(benches);
