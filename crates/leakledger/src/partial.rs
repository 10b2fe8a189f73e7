//! The per-worker accumulator of the pass.

use std::collections::{HashMap, HashSet};

use leakledger_dump::json::content_key;
use leakledger_dump::{Record, Sink};

use crate::inventory::Inventory;
use crate::payload::{History, Walker, Walkers};
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

/// What one worker has seen: mergeable, associatively and commutatively, so
/// shards can be scanned apart (even on different machines) and merged.
#[derive(Debug, Default)]
pub struct Partial {
    /// Records that carry a request id.
    pub(crate) with_id: u64,
    /// Distinct (request id, content) keys, as 64-bit hashes; emptied by
    /// [`crate::finish`] once counted (`distinct`).
    pub(crate) keys: HashSet<u64, Seeded>,
    /// `keys.len()` when the set was dropped.
    pub(crate) distinct: Option<u64>,
    /// The low 32 bits (as `Request::body` holds them) of keys that two merged
    /// sides both held: the only requests that can be duplicates of one another
    /// in the merged list. Rare, so the fold after the merge looks only at them.
    pub(crate) both: HashSet<u32, Seeded>,
    /// What leaked.
    pub(crate) inventory: Inventory,
    /// One compact key per distinct request, for chains, in parts: this
    /// partial's own first, then those merged in (see [`Part`]).
    pub(crate) parts: Vec<Part>,
    /// What each record with an id added to occurrence counts (secrets and
    /// identifiers), by its duplicate key: a record that two workers each saw
    /// once was counted twice, and the merge takes one count back. The
    /// entries are ranges of `occurrences` (one buffer per partial), not two
    /// vectors of their own: 90,000 records had some on the 4.5 GiB dump.
    counted: HashMap<u64, Counted, Seeded>,
    /// The secrets and identifiers `counted` ranges over, in record order.
    occurrences: Occurrences,
    /// Organisation and user names by their hash ([`Context`]).
    pub(crate) names: HashMap<u64, Box<str>, Seeded>,
    /// Interned trace id hashes (`Request::trace` is an index + 1), and the index
    /// of this worker's own entries. A merge appends the other side's table, so
    /// a trace may appear once per worker; chains are built on the hashes.
    pub(crate) traces: Vec<u64>,
    trace_index: HashMap<u64, u32, Seeded>,
    /// Interned (organisation, user, repository, evidence) of requests
    /// (`Request::context`), likewise appended on merge.
    pub(crate) contexts: Vec<Context>,
    context_index: HashMap<Context, u32, Seeded>,
    /// The payload walkers of the analysis, one per thread ([`Walkers`]).
    walkers: std::sync::Arc<Walkers>,
    /// A walker of this partial's own, for a thread outside the pool.
    own: Option<Walker>,
}

impl Partial {
    /// An empty partial whose walker looks out for identifiers and secrets.
    pub fn new(look: std::sync::Arc<leakledger_detect::exposure::Lookouts>) -> Self {
        Self::sharing(std::sync::Arc::new(Walkers::new(look)))
    }

    /// An empty partial that walks payloads with `walkers`, shared with the
    /// other partials of the pass.
    pub(crate) fn sharing(walkers: std::sync::Arc<Walkers>) -> Self {
        Partial { walkers, ..Partial::default() }
    }

    /// This partial's own part of the requests (the first; made when missing,
    /// so that records never land in a part merged in).
    fn own(&mut self) -> &mut Part {
        if self.parts.is_empty() {
            self.parts.push(Part::default());
        }
        &mut self.parts[0]
    }

    /// Records seen again with the same request id and content (at-least-once
    /// logging): those with an id, less the distinct (id, content) pairs.
    pub fn duplicates(&self) -> u64 {
        self.with_id - self.distinct.unwrap_or(self.keys.len() as u64)
    }

    /// What the pass looked out for (identifiers, the secret rules, the vault).
    pub fn lookouts(&self) -> &leakledger_detect::exposure::Lookouts {
        self.walkers.lookouts()
    }

    /// Lets go of the payload walkers' caches, this partial's and the shared
    /// ones: for when no record is to come.
    pub(crate) fn release_walkers(&mut self) {
        self.own = None;
        self.walkers.release();
    }

    /// The exposure inventory gathered so far, before repository keys are
    /// resolved; [`crate::finish`] moves it, resolved, to [`crate::Analysis`]'s
    /// `inventory` (this one is then empty).
    pub fn inventory(&self) -> &Inventory {
        &self.inventory
    }

    /// How much a merge walks of this partial: its keys and what it exposed.
    fn weight(&self) -> usize {
        self.keys.len() + self.counted.len() + self.inventory.len()
    }

    /// The hash of an organisation or user name, remembering the name.
    fn intern(&mut self, v: Option<leakledger_dump::Value<'_>>) -> u64 {
        let Some(name) = v.and_then(|v| v.as_str()).filter(|n| !n.is_empty()) else { return 0 };
        let h = xxh3_64(name.as_bytes()) | 1;
        self.names.entry(h).or_insert_with(|| name.into());
        h
    }

    /// A trace id hash as an index + 1 into `traces` (0 for none).
    fn trace(&mut self, h: u64) -> u32 {
        if h == 0 {
            return 0;
        }
        let next = u32::try_from(self.traces.len() + 1).unwrap_or(u32::MAX);
        let i = *self.trace_index.entry(h).or_insert(next);
        if i == next {
            self.traces.push(h);
        }
        i
    }

    /// A context as an index into `contexts`.
    fn context(&mut self, c: Context) -> u32 {
        let next = u32::try_from(self.contexts.len()).unwrap_or(u32::MAX);
        let i = *self.context_index.entry(c).or_insert(next);
        if i == next {
            self.contexts.push(c);
        }
        i
    }
}

impl Partial {
    /// The walked payload's conversation hashes, seeded by organisation, user and
    /// system prompt: the whole history's, and where its longest strict
    /// prefixes' are kept (only for a request that names no parent: the others
    /// are linked already). Returned as [`Request::history`] holds it: bit 0
    /// set when the prefixes were kept.
    fn history(&mut self, h: &History, org: u64, user: u64, system: u64, keep_prefixes: bool) -> u64 {
        if h.len == 0 {
            return 0;
        }
        let seed = [org, user, system].iter().fold(0u64, |h, &x| xxh3_64_with_seed(&x.to_le_bytes(), h));
        // The hash of the first `len - k` messages; 0 for none.
        let prefix = |k: usize| {
            if (k as u64) < h.len { xxh3_64_with_seed(&h.last[k].to_le_bytes(), seed) & !1 | 2 } else { 0 }
        };
        let prefixes: [u64; leakledger_chain::PREFIXES] = std::array::from_fn(|k| prefix(k + 1));
        let kept = keep_prefixes && prefixes[0] != 0;
        if kept {
            self.own().prefixes.push(prefixes);
        }
        prefix(0) | u64::from(kept)
    }
}

/// The requests one worker recorded, and where its interned indexes start in
/// the merged tables. A merge moves parts, not requests: appending requests
/// at every level of the fold's merge tree wrote each one again per level,
/// and on 5M small requests growing those vectors was a quarter of the time
/// (copies and fresh pages).
#[derive(Debug, Default)]
pub(crate) struct Part {
    pub(crate) requests: Vec<Request>,
    /// The history prefixes of the requests flagged as having kept them
    /// ([`Request::kept_prefixes`]), in the order of those requests.
    pub(crate) prefixes: Vec<[u64; leakledger_chain::PREFIXES]>,
    /// Added to the requests' `trace` (when not 0) and `context`.
    traces: u32,
    contexts: u32,
}

impl Part {
    /// The requests with their indexes into the merged tables, and the prefixes.
    pub(crate) fn into_merged(self) -> (impl Iterator<Item = Request>, Vec<[u64; leakledger_chain::PREFIXES]>) {
        let (traces, contexts) = (self.traces, self.contexts);
        let requests = self.requests.into_iter().map(move |mut r| {
            if r.trace != 0 {
                r.trace = r.trace.saturating_add(traces);
            }
            r.context = r.context.saturating_add(contexts);
            r
        });
        (requests, self.prefixes)
    }
}

/// Occurrences one record added: ranges of [`Occurrences`].
#[derive(Clone, Debug)]
struct Counted {
    secrets: std::ops::Range<usize>,
    identifiers: std::ops::Range<usize>,
}

/// The occurrences records added to counts, one run per record ([`Counted`]).
#[derive(Debug, Default)]
struct Occurrences {
    secrets: Vec<leakledger_detect::secrets::Fingerprint>,
    /// (organisation, identifier), as the inventory keys them.
    identifiers: Vec<(String, String)>,
}

impl Occurrences {
    /// Appends one record's occurrences, returning where they are.
    fn push(
        &mut self,
        secrets: impl Iterator<Item = leakledger_detect::secrets::Fingerprint>,
        identifiers: impl Iterator<Item = (String, String)>,
    ) -> Counted {
        let (s, i) = (self.secrets.len(), self.identifiers.len());
        self.secrets.extend(secrets);
        self.identifiers.extend(identifiers);
        Counted { secrets: s..self.secrets.len(), identifiers: i..self.identifiers.len() }
    }

    /// The occurrences of one record (empty for a range that is not ours).
    fn get(&self, c: &Counted) -> (&[leakledger_detect::secrets::Fingerprint], &[(String, String)]) {
        (
            self.secrets.get(c.secrets.clone()).unwrap_or_default(),
            self.identifiers.get(c.identifiers.clone()).unwrap_or_default(),
        )
    }
}

/// A distinct request as chains and the timeline need it, in 64 bytes: ids as
/// hashes, the trace and the (organisation, user, repository) interned, where
/// and when it was logged and what it exposed. Millions of these are held at
/// once, so each field earns its place (issue 6: at most 64 bytes a request).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Request {
    /// Hashes of its own and its parent's ids (0 for none). A record without an
    /// id gets one from where it is.
    pub(crate) id: u64,
    pub(crate) parent: u64,
    /// Record time (`i64::MIN` for none).
    pub(crate) ts: i64,
    /// The hash of its whole conversation with bit 0 cleared (0 for none); bit
    /// 0 set when its prefixes' hashes were kept ([`Partial::prefixes`]).
    history: u64,
    pub(crate) location: leakledger_dump::Location,
    /// Index + 1 into [`Partial::traces`] (0 for none).
    pub(crate) trace: u32,
    /// Index into [`Partial::contexts`].
    pub(crate) context: u32,
    /// With `id`, the record's duplicate key: 32 bits of the hash of its bodies
    /// (never 0), or 0 when it has no request id. Workers decide duplicates only
    /// among the records they saw (on the full 64-bit key), so the same request
    /// may arrive twice from two workers; the pair (`id`, `body`) folds it after
    /// the merge.
    pub(crate) body: u32,
    /// Files with content, and secret occurrences, in the record (saturating:
    /// the inventory's counts are exact, these are per-request figures).
    pub(crate) files: u16,
    pub(crate) secrets: u16,
}

// The per-request cost the chains pay: the target of issue 6.
const _: () = assert!(std::mem::size_of::<Request>() == 64);

/// Who sent a request and the repository it shows, interned per worker.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Context {
    /// Name hashes of its organisation and user (0 for none; see `Partial::names`).
    pub(crate) org: u64,
    pub(crate) user: u64,
    /// Repository key hash (0 for none) and the strength of that evidence.
    pub(crate) repo: u64,
    pub(crate) strength: leakledger_detect::exposure::Evidence,
}

impl Request {
    pub(crate) fn time(&self) -> Option<i64> {
        (self.ts != i64::MIN).then_some(self.ts)
    }

    /// Its conversation's hash (0 for none).
    pub(crate) fn history(&self) -> u64 {
        self.history & !1
    }

    /// Whether its history prefixes were kept: the k-th request (in push and
    /// merge order) that kept them owns `Partial::prefixes[k]`.
    pub(crate) fn kept_prefixes(&self) -> bool {
        self.history & 1 == 1
    }
}

/// The part of a duplicate key a request keeps (never 0 for a key, 0 for none).
fn body32(dedup: u64) -> u32 {
    (dedup as u32) | u32::from(dedup != 0)
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
    // By content keys: the parser took the payload's as it skipped it.
    if let Some(p) = r.payload {
        let content = r.payload_key.unwrap_or_else(|| content_key(p));
        key ^= xxh3_64_with_seed(&content.to_le_bytes(), seed.rotate_left(13));
    }
    if let Some(p) = r.response {
        let content = r.response_key.unwrap_or_else(|| content_key(p));
        key ^= xxh3_64_with_seed(&content.to_le_bytes(), seed.rotate_left(29));
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
        let (found, conversation, system) = self.walkers.with(&mut self.own, |w| {
            let found = w.found(r.payload, r.response);
            let (conversation, system) = w.history();
            (found, conversation, system)
        });
        let (repo, strength) = self.inventory.add(r, &found);
        if dedup != 0 && (!found.secrets.is_empty() || !found.identifiers.is_empty()) {
            let org = r.org.and_then(|v| v.as_str()).map(|o| o.into_owned()).unwrap_or_default();
            let c = self.occurrences.push(
                found.secrets.iter().map(|f| f.fingerprint),
                found.identifiers.iter().map(|i| (org.clone(), i.clone())),
            );
            self.counted.insert(dedup, c);
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
        let history = self.history(&conversation, org, user, system, parent == 0);
        let trace = self.trace(id_hash(r.trace_id));
        let context = self.context(Context { org, user, repo, strength });
        self.own().requests.push(Request {
            id,
            parent,
            ts: r.ts.unwrap_or(i64::MIN),
            history,
            location: r.location,
            trace,
            context,
            body: body32(dedup),
            files: u16::try_from(found.files.len()).unwrap_or(u16::MAX),
            secrets: u16::try_from(found.secrets.len()).unwrap_or(u16::MAX),
        });
    }

    fn merge(&mut self, mut other: Self) {
        // Every part of the merge is commutative: walk the lighter side into
        // the heavier (the fold's first merge is of a whole source's partial
        // into an empty one).
        if other.weight() > self.weight() {
            std::mem::swap(self, &mut other);
        }
        self.with_id += other.with_id;
        // Records both sides counted: take the other side's count back.
        for (k, c) in std::mem::take(&mut other.counted) {
            let (secrets, identifiers) = other.occurrences.get(&c);
            if self.keys.contains(&k) {
                other.inventory.uncount(secrets, identifiers);
            } else {
                let c = self.occurrences.push(secrets.iter().copied(), identifiers.iter().cloned());
                self.counted.insert(k, c);
            }
        }
        let (inventory, keys) = (&mut self.inventory, &mut self.keys);
        let mut both = Vec::new();
        rayon::join(
            || inventory.merge(other.inventory),
            || {
                let (mut big, small) = if other.keys.len() > keys.len() {
                    (other.keys, std::mem::take(keys))
                } else {
                    (std::mem::take(keys), other.keys)
                };
                for k in small {
                    if !big.insert(k) {
                        both.push(body32(k));
                    }
                }
                *keys = big;
            },
        );
        self.both.extend(both);
        // The other side's parts follow this side's, in order; their interned
        // indexes move past this side's tables.
        self.own();
        let traces = u32::try_from(self.traces.len()).unwrap_or(u32::MAX);
        let contexts = u32::try_from(self.contexts.len()).unwrap_or(u32::MAX);
        self.traces.extend(other.traces);
        self.contexts.extend(other.contexts);
        self.parts.extend(other.parts.into_iter().map(|mut p| {
            p.traces = p.traces.saturating_add(traces);
            p.contexts = p.contexts.saturating_add(contexts);
            p
        }));
        for (k, v) in other.names {
            self.names.entry(k).or_insert(v);
        }
        self.both.extend(other.both);
    }
}

/// The hasher of maps keyed by hashes of dump content (request ids, bodies,
/// names): seeded per process (foldhash), so crafted ids cannot pile into one
/// bucket as they could with the hashes used as they are.
pub(crate) type Seeded = foldhash::fast::RandomState;
