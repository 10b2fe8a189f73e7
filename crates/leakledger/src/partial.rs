//! The per-worker accumulator of the pass.

use std::collections::{HashMap, HashSet};

use leakledger_dump::{Record, Sink};

use crate::inventory::Inventory;
use crate::payload::Walker;
use leakledger_chain::Key;
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

/// What one worker has seen: mergeable, associatively and commutatively, so
/// shards can be scanned apart (even on different machines) and merged.
#[derive(Debug, Default)]
pub struct Partial {
    /// Records that carry a request id.
    pub(crate) with_id: u64,
    /// Distinct (request id, content) keys, as 64-bit hashes.
    pub(crate) keys: HashSet<u64, Seeded>,
    /// What leaked.
    pub(crate) inventory: Inventory,
    /// One compact key per distinct request, for chains.
    pub(crate) requests: Vec<Request>,
    /// What each record with an id added to occurrence counts (secrets and
    /// identifiers), by its duplicate key: a record that two workers each saw
    /// once was counted twice, and the merge takes one count back.
    counted: HashMap<u64, Counted, Seeded>,
    /// The history prefixes of requests that name no parent (`Request::prefixes`).
    pub(crate) prefixes: Vec<[u64; leakledger_chain::PREFIXES]>,
    /// Organisation and user names by their hash (`Request::org`, `Request::user`).
    pub(crate) names: HashMap<u64, Box<str>, Seeded>,
    /// The worker's payload walker and its digest cache (not merged).
    walker: Walker,
}

impl Partial {
    /// An empty partial whose walker looks out for identifiers and secrets.
    pub fn new(look: std::sync::Arc<leakledger_detect::exposure::Lookouts>) -> Self {
        Partial { walker: Walker::new(look), ..Partial::default() }
    }

    /// Records seen again with the same request id and content (at-least-once
    /// logging): those with an id, less the distinct (id, content) pairs.
    pub fn duplicates(&self) -> u64 {
        self.with_id - self.keys.len() as u64
    }

    /// What the pass looked out for (identifiers, the secret rules, the vault).
    pub fn lookouts(&self) -> &leakledger_detect::exposure::Lookouts {
        self.walker.lookouts()
    }

    /// The exposure inventory.
    pub fn inventory(&self) -> &Inventory {
        &self.inventory
    }

    /// The hash of an organisation or user name, remembering the name.
    fn intern(&mut self, v: Option<leakledger_dump::Value<'_>>) -> u64 {
        let Some(name) = v.and_then(|v| v.as_str()).filter(|n| !n.is_empty()) else { return 0 };
        let h = xxh3_64(name.as_bytes()) | 1;
        self.names.entry(h).or_insert_with(|| name.into());
        h
    }
}

impl Partial {
    /// The walked payload's conversation hashes, seeded by organisation, user and
    /// system prompt: the whole history's, and where its longest strict
    /// prefixes' are kept (only for a request that names no parent: the others
    /// are linked already).
    fn history(&mut self, org: u64, user: u64, keep_prefixes: bool) -> (u64, u32) {
        let (messages, system) = self.walker.history();
        if messages.is_empty() {
            return (0, u32::MAX);
        }
        let seed = [org, user, system].iter().fold(0u64, |h, &x| xxh3_64_with_seed(&x.to_le_bytes(), h));
        let mut running = seed;
        let mut last = [0u64; leakledger_chain::PREFIXES + 1];
        for &m in messages {
            running = xxh3_64_with_seed(&m.to_le_bytes(), running) | 1;
            last.rotate_right(1);
            last[0] = running;
        }
        let mut prefixes = [0u64; leakledger_chain::PREFIXES];
        prefixes.copy_from_slice(&last[1..]);
        let index = if keep_prefixes && prefixes[0] != 0 {
            self.prefixes.push(prefixes);
            u32::try_from(self.prefixes.len() - 1).unwrap_or(u32::MAX)
        } else {
            u32::MAX
        };
        (last[0], index)
    }
}

/// Occurrences one record added.
#[derive(Clone, Debug, Default)]
struct Counted {
    secrets: Vec<leakledger_detect::secrets::Fingerprint>,
    identifiers: Vec<(String, String)>,
}

/// A distinct request as chains and the timeline need it: ids as hashes, names
/// interned, where and when it was logged and what it exposed (112 bytes).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Request {
    /// Hashes of its own, trace and parent ids (0 for none).
    pub(crate) id: u64,
    pub(crate) trace: u64,
    pub(crate) parent: u64,
    /// The record's duplicate key (id and body), or 0 when it has no id: workers
    /// decide duplicates only among the records they saw, so the same request
    /// may arrive twice from two workers and is folded after the merge.
    pub(crate) dedup: u64,
    /// Repository key hash (0 for none).
    pub(crate) repo: u64,
    /// Record time (`i64::MIN` for none).
    pub(crate) ts: i64,
    /// Name hashes of its organisation and user (0 for none; see `Partial::names`).
    pub(crate) org: u64,
    pub(crate) user: u64,
    pub(crate) location: leakledger_dump::Location,
    /// The hash of its whole conversation (0 for none), and where its prefixes'
    /// hashes are in `Partial::prefixes` (`u32::MAX` for none): see
    /// [`leakledger_chain::History`].
    pub(crate) history: u64,
    pub(crate) prefixes: u32,
    /// Files with content, and secrets, in the record.
    pub(crate) files: u32,
    pub(crate) secrets: u16,
    /// Strength of the repository evidence.
    pub(crate) strength: leakledger_detect::exposure::Evidence,
}

impl Request {
    pub(crate) fn key(&self) -> Key {
        let some = |h: u64| (h != 0).then_some(h);
        Key { id: self.id, trace: some(self.trace), parent: some(self.parent) }
    }

    pub(crate) fn time(&self) -> Option<i64> {
        (self.ts != i64::MIN).then_some(self.ts)
    }
}

/// The hash an id or name is known by (0 for none).
fn id_hash(v: Option<leakledger_dump::Value<'_>>) -> u64 {
    v.filter(|v| !v.raw().is_empty()).map_or(0, |v| xxh3_64(v.raw()) | 1)
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
        self.inventory.count_org(r);
        let mut dedup = 0;
        if let Some(id) = r.request_id {
            self.with_id += 1;
            dedup = dedup_key(r, id.raw()) | 1;
            // A duplicate counts once everywhere else: its exposure is already in.
            if !self.keys.insert(dedup) {
                return;
            }
        }
        let found = self.walker.found(r.payload, r.response);
        let (repo, strength) = self.inventory.add(r, &found);
        if dedup != 0 && (!found.secrets.is_empty() || !found.identifiers.is_empty()) {
            let org = r.org.and_then(|v| v.as_str()).map(|o| o.into_owned()).unwrap_or_default();
            self.counted.insert(
                dedup,
                Counted {
                    secrets: found.secrets.iter().map(|f| f.fingerprint).collect(),
                    identifiers: found.identifiers.iter().map(|i| (org.clone(), i.clone())).collect(),
                },
            );
        }
        // A record without an id still is a request: it gets one from where it is.
        let mut id = id_hash(r.request_id);
        if id == 0 {
            id = xxh3_64(&[r.location.source.0.to_le_bytes(), (r.location.offset as u32).to_le_bytes()].concat())
                ^ r.location.offset.rotate_left(32)
                | 1;
        }
        let org = self.intern(r.org);
        let user = self.intern(r.user);
        let parent = id_hash(r.parent_id);
        let (history, prefixes) = self.history(org, user, parent == 0);
        self.requests.push(Request {
            id,
            trace: id_hash(r.trace_id),
            parent,
            dedup,
            repo,
            ts: r.ts.unwrap_or(i64::MIN),
            org,
            user,
            location: r.location,
            history,
            prefixes,
            files: u32::try_from(found.files.len()).unwrap_or(u32::MAX),
            secrets: u16::try_from(found.secrets.len()).unwrap_or(u16::MAX),
            strength,
        });
    }

    fn merge(&mut self, mut other: Self) {
        self.with_id += other.with_id;
        // Records both sides counted: take the other side's count back.
        for (k, c) in std::mem::take(&mut other.counted) {
            if self.keys.contains(&k) {
                other.inventory.uncount(&c.secrets, &c.identifiers);
            } else {
                self.counted.insert(k, c);
            }
        }
        self.inventory.merge(other.inventory);
        let shift = u32::try_from(self.prefixes.len()).unwrap_or(u32::MAX);
        self.prefixes.extend(other.prefixes);
        self.requests.extend(other.requests.into_iter().map(|mut r| {
            if r.prefixes != u32::MAX {
                r.prefixes = r.prefixes.saturating_add(shift);
            }
            r
        }));
        for (k, v) in other.names {
            self.names.entry(k).or_insert(v);
        }
        if other.keys.len() > self.keys.len() {
            let mine = std::mem::replace(&mut self.keys, other.keys);
            self.keys.extend(mine);
        } else {
            self.keys.extend(other.keys);
        }
    }
}

/// The hasher of maps keyed by hashes of dump content (request ids, bodies,
/// names): seeded per process (foldhash), so crafted ids cannot pile into one
/// bucket as they could with the hashes used as they are.
pub(crate) type Seeded = foldhash::fast::RandomState;

// The per-request cost the chains pay; see the note on `Request`.
const _: () = assert!(std::mem::size_of::<Request>() <= 112);
