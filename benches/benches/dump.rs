//! open + split + parse throughput (design.md §9): the dump reader alone (canonical
//! fields found, payload left raw), with and without SHA-256, on 1 and 2 threads,
//! and the facade's full record pass (dedup keys), on a page-cached JSONL dump.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use leakledger_dump::{Dump, Options};

fn bench(c: &mut Criterion) {
    let mib = leakledger_benches::bench_mib();
    let path = leakledger_benches::dump_of(mib).expect("generate the bench dump");
    leakledger_benches::warm(&path).expect("warm the page cache");
    let bytes = std::fs::metadata(&path).expect("stat").len();

    let mut g = c.benchmark_group(format!("dump-{mib}MiB"));
    g.throughput(Throughput::Bytes(bytes));
    g.sample_size(10);
    for threads in [1usize, 2] {
        for hash in [false, true] {
            let options = Options::new().threads(Some(threads)).hash(hash);
            let dump = Dump::open(&[&path], &options).expect("open");
            let name = format!("parse/{}thread{}", threads, if hash { "/sha256" } else { "" });
            g.bench_function(name, |b| {
                b.iter(|| {
                    let scan = dump.scan(|| ());
                    assert!(scan.records() > 0);
                })
            });
        }
        let options = Options::new().threads(Some(threads)).hash(false);
        let dump = Dump::open(&[&path], &options).expect("open");
        g.bench_function(format!("analyse/{threads}thread"), |b| {
            b.iter(|| {
                let a = leakledger::analyse(&dump);
                assert!(a.summary.records.total > 0);
            })
        });
    }
    let options = Options::new().threads(Some(2)).hash(false).mmap(false);
    let dump = Dump::open(&[&path], &options).expect("open");
    g.bench_function("parse/2thread/no-mmap", |b| b.iter(|| assert!(dump.scan(|| ()).records() > 0)));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
