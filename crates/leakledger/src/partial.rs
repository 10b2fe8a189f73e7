//! The per-worker accumulator of the pass.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

use leakledger_dump::{Record, Sink};

use crate::inventory::Inventory;
use crate::payload::Walker;
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

/// What one worker has seen: mergeable, associatively and commutatively, so
/// shards can be scanned apart (even on different machines) and merged.
#[derive(Debug, Default)]
pub struct Partial {
    /// Records that carry a request id.
    pub(crate) with_id: u64,
    /// Distinct (request id, content) keys, as 64-bit hashes.
    pub(crate) keys: HashSet<u64, BuildHasherDefault<Identity>>,
    /// What leaked.
    pub(crate) inventory: Inventory,
    /// The worker's payload walker and its digest cache (not merged).
    walker: Walker,
}

impl Partial {
    /// Records seen again with the same request id and content (at-least-once
    /// logging): those with an id, less the distinct (id, content) pairs.
    pub fn duplicates(&self) -> u64 {
        self.with_id - self.keys.len() as u64
    }

    /// The exposure inventory.
    pub fn inventory(&self) -> &Inventory {
        &self.inventory
    }
}

/// The content that makes two records with one request id the same record: the
/// logged bodies (payload and response), or the whole record when it has none.
fn dedup_key(r: &Record<'_>, id: &[u8]) -> u64 {
    let seed = xxh3_64(id);
    let mut key = seed;
    if r.payload.is_none() && r.response.is_none() {
        return key ^ xxh3_64_with_seed(r.raw, seed.rotate_left(7));
    }
    if let Some(p) = r.payload {
        key ^= xxh3_64_with_seed(p.raw(), seed.rotate_left(13));
    }
    if let Some(p) = r.response {
        key ^= xxh3_64_with_seed(p.raw(), seed.rotate_left(29));
    }
    key
}

impl Sink for Partial {
    fn record(&mut self, r: &Record<'_>) {
        if let Some(id) = r.request_id {
            self.with_id += 1;
            // A duplicate counts once everywhere else: its exposure is already in.
            if !self.keys.insert(dedup_key(r, id.raw())) {
                return;
            }
        }
        let found = self.walker.found(r.payload, r.response);
        self.inventory.add(r, &found);
    }

    fn merge(&mut self, other: Self) {
        self.with_id += other.with_id;
        self.inventory.merge(other.inventory);
        if other.keys.len() > self.keys.len() {
            let mine = std::mem::replace(&mut self.keys, other.keys);
            self.keys.extend(mine);
        } else {
            self.keys.extend(other.keys);
        }
    }
}

/// A hasher for keys that are already hashes.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}
