//! Chain building and ordering on 1M and 10M request keys shaped like agent
//! loops: sessions of 1-40 requests joined by a trace id and parent links, some
//! orphans and skewed clocks, keys shuffled as a parallel scan hands them over.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use leakledger_chain::{Key, build, order};

/// `n` keys in sessions, with times, in a scrambled order (fixed seed).
fn keys(n: usize) -> (Vec<Key>, Vec<Option<i64>>) {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut keys = Vec::with_capacity(n);
    let mut times = Vec::with_capacity(n);
    let mut id = 1u64;
    while keys.len() < n {
        let len = 1 + (next() % 40) as usize;
        let trace = (next() % 10 < 8).then(|| next() | 1);
        let mut t = (next() % 1_000_000_000) as i64;
        let mut parent = (next() % 20 == 0).then(|| next() | 1); // an orphan
        for _ in 0..len.min(n - keys.len()) {
            keys.push(Key { id, trace, parent });
            // One in fifty logged a few seconds early.
            times.push(Some(if next() % 50 == 0 { t - 5_000_000 } else { t }));
            parent = Some(id);
            id += 1;
            t += 30_000_000;
        }
    }
    // Scramble as workers would (a fixed permutation).
    for i in (1..keys.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        keys.swap(i, j);
        times.swap(i, j);
    }
    (keys, times)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("chain");
    g.sample_size(10);
    for n in [1_000_000usize, 10_000_000] {
        let (k, t) = keys(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("build-{}M", n / 1_000_000), |b| b.iter(|| build(&k).total));
        let chains = build(&k);
        g.bench_function(format!("order-{}M", n / 1_000_000), |b| b.iter(|| order(&chains, &t).skewed.len()));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
