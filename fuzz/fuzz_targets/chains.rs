//! Arbitrary keys (ids from a small domain, so that duplicates, self-parents,
//! cycles and shared histories are common): linking, building and ordering
//! never panic, and the order holds every key once.
#![no_main]

use leakledger_chain::{History, Key, build, link_histories, order};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let n = data.len() / 6;
    let some = |b: u8| (b % 4 != 0).then_some(u64::from(b % 16));
    let mut keys: Vec<Key> = Vec::with_capacity(n);
    let mut hist = Vec::with_capacity(n);
    let mut time = Vec::with_capacity(n);
    for c in data.chunks_exact(6) {
        keys.push(Key { id: u64::from(c[0] % 32), trace: some(c[1]), parent: some(c[2]) });
        hist.push(History { full: u64::from(c[3] % 8), prefixes: [u64::from(c[4] % 8), 0, 0, 0] });
        time.push((c[5] != 0).then_some(i64::from(c[5])));
    }
    link_histories(&mut keys, &hist, &time);
    let chains = build(&keys);
    let o = order(&chains, &time);
    let mut seen = o.order.clone();
    seen.sort_unstable();
    assert_eq!(seen, (0..keys.len() as u32).collect::<Vec<_>>());
});
