//! The requests of a dump, chained and ordered, and each chain's details: who,
//! when, which repository, and what was first exposed in it (design.md §4).

use std::collections::HashMap;

use leakledger_chain::{Chains, Order};
use leakledger_detect::secrets::Fingerprint;
use leakledger_dump::{Location, SourceId};

use crate::Inventory;
use crate::partial::{Context, Request, Seeded};

/// One distinct request (duplicates folded), as the timeline and tables show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestView<'a> {
    /// Its index in [`Requests`] (requests are numbered in dump order).
    pub index: u32,
    /// Record time, microseconds since the epoch (UTC).
    pub time: Option<i64>,
    /// Organisation (empty when the record names none).
    pub org: &'a str,
    /// User (empty when the record names none).
    pub user: &'a str,
    /// Where the record is.
    pub location: Location,
    /// Its chain.
    pub chain: u32,
    /// Files with content in the record (at most 65,535 are counted per request).
    pub files: u32,
    /// Secret occurrences in the record (at most 65,535 are counted per request).
    pub secrets: u32,
}

/// Every distinct request, in dump order (source, then offset), with its chain
/// and the order of each chain.
#[derive(Debug, Default)]
pub struct Requests {
    list: Vec<Request>,
    contexts: Vec<Context>,
    chain: Vec<u32>,
    names: HashMap<u64, Box<str>, Seeded>,
    order: Option<Order>,
    history_links: u64,
}

impl Requests {
    pub(crate) fn new(
        list: Vec<Request>,
        contexts: Vec<Context>,
        chains: &Chains,
        order: Order,
        names: HashMap<u64, Box<str>, Seeded>,
        history_links: u64,
    ) -> Self {
        Requests { list, contexts, chain: chains.component.clone(), names, order: Some(order), history_links }
    }

    /// Requests that named no parent and were linked by their conversation's
    /// history to the request they continue.
    pub fn history_links(&self) -> u64 {
        self.history_links
    }

    /// Distinct requests.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    fn name(&self, h: u64) -> &str {
        self.names.get(&h).map_or("", |n| n)
    }

    /// Request `i` (`None` past the end).
    pub fn get(&self, i: u32) -> Option<RequestView<'_>> {
        let r = self.list.get(i as usize)?;
        let who = self.contexts.get(r.context as usize).copied().unwrap_or_default();
        Some(RequestView {
            index: i,
            time: r.time(),
            org: self.name(who.org),
            user: self.name(who.user),
            location: r.location,
            chain: self.chain[i as usize],
            files: u32::from(r.files),
            secrets: u32::from(r.secrets),
        })
    }

    /// All requests in dump order.
    pub fn iter(&self) -> impl Iterator<Item = RequestView<'_>> + '_ {
        (0..self.list.len() as u32).filter_map(|i| self.get(i))
    }

    /// The requests of chain `c` in order: a parent before its children, then by
    /// time (a child logged before its parent by a skewed clock still follows it).
    pub fn chain(&self, c: u32) -> impl Iterator<Item = RequestView<'_>> + '_ {
        self.order.as_ref().map_or(&[][..], |o| o.chain(c)).iter().filter_map(|&i| self.get(i))
    }

    /// The chain ordering, and what it revealed (clock skew, parent cycles).
    pub fn order(&self) -> Option<&Order> {
        self.order.as_ref()
    }

    /// The index of the request logged at `loc` (its source and offset).
    fn at(&self, loc: &Location) -> Option<usize> {
        self.list.binary_search_by_key(&(loc.source, loc.offset), |r| (r.location.source, r.location.offset)).ok()
    }
}

/// One chain: a session, trace or agent loop, with what it carried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainEntry {
    /// Its number (as in [`RequestView::chain`]).
    pub id: u32,
    /// Organisation of its first request that names one.
    pub org: String,
    /// User of its first request that names one.
    pub user: String,
    /// Repository by the chain's strongest evidence (empty when none).
    pub repository: String,
    /// Earliest and latest request time.
    pub first: Option<i64>,
    /// Latest.
    pub last: Option<i64>,
    /// Distinct requests.
    pub requests: u64,
    /// Files first exposed in this chain.
    pub files: u64,
    /// Bytes of distinct content first exposed in this chain.
    pub code_bytes: u64,
    /// Secrets first exposed in this chain, by fingerprint.
    pub secrets: Vec<Fingerprint>,
    /// Sources (files of the dump) its requests came from.
    pub sources: Vec<SourceId>,
    /// Requests logged before their parent.
    pub skewed: u64,
}

/// Each chain's details. `repos[c]` is chain `c`'s strongest repository hash.
pub(crate) fn entries(requests: &Requests, inv: &Inventory, repos: &HashMap<u32, u64>, total: u64) -> Vec<ChainEntry> {
    use rayon::prelude::*;
    // Chain by chain, on every core (a million chains of a few requests each):
    // the requests' raw entries, names looked up only until one is found.
    let mut out: Vec<ChainEntry> = (0..total as u32)
        .into_par_iter()
        .map(|id| {
            let mut e = ChainEntry {
                id,
                org: String::new(),
                user: String::new(),
                repository: repos
                    .get(&id)
                    .and_then(|h| inv.repos.get(h))
                    .map(|(e, _)| e.key.clone())
                    .unwrap_or_default(),
                first: None,
                last: None,
                requests: 0,
                files: 0,
                code_bytes: 0,
                secrets: Vec::new(),
                sources: Vec::new(),
                skewed: 0,
            };
            for &i in requests.order().map_or(&[][..], |o| o.chain(id)) {
                let Some(r) = requests.list.get(i as usize) else { continue };
                e.requests += 1;
                if e.org.is_empty() || e.user.is_empty() {
                    let who = requests.contexts.get(r.context as usize).copied().unwrap_or_default();
                    if e.org.is_empty() {
                        e.org = requests.name(who.org).to_string();
                    }
                    if e.user.is_empty() {
                        e.user = requests.name(who.user).to_string();
                    }
                }
                if let Some(t) = r.time() {
                    e.first = Some(e.first.map_or(t, |f| f.min(t)));
                    e.last = Some(e.last.map_or(t, |l| l.max(t)));
                }
                e.sources.push(r.location.source);
            }
            e.sources.sort_unstable();
            e.sources.dedup();
            e
        })
        .collect();
    if let Some(o) = requests.order() {
        for &i in &o.skewed {
            out[requests.chain[i as usize] as usize].skewed += 1;
        }
    }
    // Files and contents to the chain of the request that first exposed them:
    // their locations sorted, then one walk beside the requests (sorted by
    // location too), where a binary search for each of a million in hash order
    // missed the cache at every step.
    let mut firsts: Vec<((SourceId, u64), u64, bool)> = Vec::with_capacity(inv.files.len() + inv.blobs.len());
    firsts.extend(inv.files.values().map(|f| ((f.first.source, f.first.offset), 0, true)));
    firsts.extend(inv.blobs.values().map(|(len, loc)| ((loc.source, loc.offset), *len, false)));
    firsts.sort_unstable_by_key(|f| f.0);
    let mut i = 0;
    for (at, len, file) in firsts {
        while i < requests.list.len() && (requests.list[i].location.source, requests.list[i].location.offset) < at {
            i += 1;
        }
        if i < requests.list.len() && (requests.list[i].location.source, requests.list[i].location.offset) == at {
            let e = &mut out[requests.chain[i] as usize];
            e.files += u64::from(file);
            e.code_bytes += len;
        }
    }
    let chain_at = |loc: &Location| requests.at(loc).map(|i| requests.chain[i] as usize);
    for s in inv.secrets() {
        if let Some(c) = chain_at(&s.first) {
            out[c].secrets.push(s.found.fingerprint);
        }
    }
    out
}
