//! leakledger: what leaked, how it flowed, what it will cost.
//!
//! The library analysts call. It opens a dump with [`Dump::open`], reads it in one
//! parallel pass with [`analyse`], and returns an [`Analysis`]: per-source reports
//! and the [`Summary`] whose JSON form is the `summary.json` contract
//! (docs/ARCHITECTURE.md, design.md §4). Partial results merge associatively, so
//! shards scanned apart give the same answer as one scan.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! std::fs::write(dir.path().join("a.jsonl"), concat!(
//!     "{\"ts\":\"2024-05-01T12:00:00Z\",\"request_id\":\"r1\",\"body\":\"hello\"}\n",
//!     "{\"ts\":\"2024-05-01T12:00:00Z\",\"request_id\":\"r1\",\"body\":\"hello\"}\n",
//!     "{\"ts\":\"2024-05-01T13:00:00Z\",\"request_id\":\"r2\",\"body\":\"world\"}\n",
//!     "not json\n",
//! ))?;
//! let dump = leakledger::Dump::open(&[dir.path()], &leakledger::Options::new())?;
//! let analysis = leakledger::analyse(&dump);
//! let s = &analysis.summary;
//! assert_eq!((s.records.total, s.records.malformed, s.records.duplicates), (4, 1, 1));
//! assert_eq!(s.window.first.as_deref(), Some("2024-05-01T12:00:00.000000Z"));
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

use std::collections::HashMap;

mod chains;
mod inventory;
mod partial;
mod payload;
mod seen;
mod summary;
pub mod timeline;

/// The detectors (secret rules, fingerprints, redaction), for tools that show
/// or extend what the analysis found.
pub use leakledger_detect as detect;

pub use chains::{ChainEntry, RequestView, Requests};
pub use inventory::{FileEntry, IdentifierEntry, Inventory, OrgEntry, RepoEntry, SecretEntry};
pub use leakledger_dump::{
    Compression, Dump, Error, Format, Kind, Layout, Location, Malformed, Mapped, Options, Problem, Record, Scan, Sink,
    Skipped, Source, SourceId, SourceReport, Value, install_sigbus_guard, lossy, time,
};
pub use partial::Partial;
pub use summary::{ChainCounts, Exposure, OrgSummary, Records, SCHEMA_VERSION, Secrets, Summary, Window};

/// The result of [`analyse`]: the per-source reports, the exposure inventory,
/// the chains and the summary.
#[derive(Debug)]
pub struct Analysis {
    /// The scan: per-source reports, line resolution and the merged [`Partial`].
    pub scan: Scan<Partial>,
    /// What leaked, each repository named by its session's strongest evidence.
    pub inventory: Inventory,
    /// The request chains: each request's chain and the counts.
    pub chains: leakledger_chain::Chains,
    /// Every distinct request in dump order, and each chain's requests in order.
    pub requests: Requests,
    /// Each chain's details, by chain number.
    pub chain_entries: Vec<ChainEntry>,
    /// The `summary.json` contract's values.
    pub summary: Summary,
    /// Each distinct secret's value by fingerprint, only when
    /// [`Config::reveal_secrets`] asked for them; `None` otherwise, so that no
    /// output can show a value by accident.
    pub secret_values: Option<std::collections::HashMap<leakledger_detect::secrets::Fingerprint, Box<str>>>,
    /// The secret rules the pass ran (the built-in ones and any from a rule file).
    pub rules: Vec<&'static leakledger_detect::secrets::Rule>,
}

impl Analysis {
    /// A secret's value, only when the analysis was made with
    /// [`Config::reveal_secrets`].
    pub fn secret_value(&self, fingerprint: &leakledger_detect::secrets::Fingerprint) -> Option<&str> {
        self.secret_values.as_ref()?.get(fingerprint).map(|v| &**v)
    }
}

/// What an analysis looks for beyond the built-in detectors.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// Proprietary identifier prefixes and names (e.g. `com.mycorp.`), reported per
    /// organisation.
    pub identifiers: Vec<String>,
    /// The key of secrets' fingerprints (random per analysis when absent; give
    /// one to correlate fingerprints across reports).
    pub fingerprint_key: Option<[u8; 32]>,
    /// Keep each distinct secret's value, for a report that shows them
    /// (`--reveal-secrets`). Off by default: reports never re-leak.
    pub reveal_secrets: bool,
    /// Secret rules to run besides the built-in ones (gitleaks' TOML format or
    /// ours; see [`detect::secrets::config`]).
    pub rules: Option<std::sync::Arc<leakledger_detect::secrets::config::RuleFile>>,
}

/// Reads the whole dump in one parallel pass, builds the chains, and summarises.
pub fn analyse(dump: &Dump) -> Analysis {
    analyse_with(dump, &Config::default())
}

/// As [`analyse`], with a [`Config`].
pub fn analyse_with(dump: &Dump, config: &Config) -> Analysis {
    let key = config.fingerprint_key.unwrap_or_else(leakledger_detect::secrets::random_key);
    let look = match &config.rules {
        Some(file) => leakledger_detect::secrets::Scanner::with_file(file, key),
        None => leakledger_detect::secrets::Scanner::new(leakledger_detect::secrets::BUILTIN, key),
    }
    .and_then(|scanner| {
        leakledger_detect::exposure::Lookouts::new(
            leakledger_detect::identifiers::Identifiers::new(&config.identifiers),
            Some(scanner),
            config.reveal_secrets.then(Default::default),
        )
        // Contents are compared within this process only.
        .map(|look| look.with_content_hash(leakledger_dump::json::bytes_key))
    })
    .unwrap_or_else(|e| panic!("secret rules that compiled alone do not compile together: {e}"));
    let look = std::sync::Arc::new(look);
    let walkers = std::sync::Arc::new(payload::Walkers::new(look));
    let scan = dump.scan(|| Partial::sharing(walkers.clone()));
    finish(scan)
}

/// Turns a finished scan into an analysis: chains from the requests' keys, then
/// each chain's files re-keyed to its strongest repository evidence (a session
/// names its repository once, say in `git remote -v`, and its later requests may
/// only show the working directory).
pub fn finish(mut scan: Scan<Partial>) -> Analysis {
    scan.sink.release_walkers();
    // Requests in dump order, so that numbering does not depend on scheduling; a
    // request that two workers each saw once is folded (see `Request::body`).
    // Each request's history (with its kept prefixes, owned by position) rides
    // along through the sort.
    let parts = std::mem::take(&mut scan.sink.parts);
    let mut unsorted = Vec::with_capacity(parts.iter().map(|p| p.requests.len()).sum());
    let mut prefixes = Vec::with_capacity(parts.iter().map(|p| p.prefixes.len()).sum());
    for part in parts {
        let (requests, kept) = part.into_merged();
        unsorted.extend(requests);
        prefixes.extend(kept);
    }
    // The k-th request that kept prefixes owns `prefixes[k]`: note each one's k.
    let mut k = 0u32;
    let rank: Vec<u32> = unsorted
        .iter()
        .map(|r| {
            let at = k;
            k += u32::from(r.kept_prefixes());
            at
        })
        .collect();
    // The set of duplicate keys has done its work: keep its size only.
    scan.sink.distinct = Some(scan.sink.keys.len() as u64);
    scan.sink.keys = Default::default();
    let both = std::mem::take(&mut scan.sink.both);
    let mut perm: Vec<u32> = (0..unsorted.len() as u32).collect();
    {
        use rayon::slice::ParallelSliceMut;
        perm.par_sort_unstable_by_key(|&i| {
            (unsorted[i as usize].location.source, unsorted[i as usize].location.offset)
        });
    }
    // Fold the requests two workers each saw once: the first in dump order stays.
    let mut seen = std::collections::HashSet::new();
    let kept = perm
        .iter()
        .map(|&i| {
            let r = &unsorted[i as usize];
            r.body == 0 || !both.contains(&r.body) || seen.insert((r.id, r.body))
        })
        .collect::<Vec<bool>>();
    drop((seen, both));
    let histories: Vec<leakledger_chain::History> = perm
        .iter()
        .zip(&kept)
        .filter(|&(_, &k)| k)
        .map(|(&i, _)| {
            let r = &unsorted[i as usize];
            let kept = r.kept_prefixes().then(|| prefixes.get(rank[i as usize] as usize)).flatten();
            leakledger_chain::History { full: r.history(), prefixes: kept.copied().unwrap_or_default() }
        })
        .collect();
    drop((rank, prefixes));
    // Dropped ones move to the end, so `perm` stays a permutation to apply in place.
    let mut order: Vec<u32> = perm.iter().zip(&kept).filter(|&(_, &k)| k).map(|(&i, _)| i).collect();
    let distinct = order.len();
    order.extend(perm.iter().zip(&kept).filter(|&(_, &k)| !k).map(|(&i, _)| i));
    drop((perm, kept));
    let mut list = unsorted;
    permute(&mut list, order);
    list.truncate(distinct);
    list.shrink_to_fit();
    let traces = std::mem::take(&mut scan.sink.traces);
    let mut keys: Vec<leakledger_chain::Key> = list
        .iter()
        .map(|r| {
            let some = |h: u64| (h != 0).then_some(h);
            let trace = r.trace.checked_sub(1).and_then(|t| traces.get(t as usize)).copied();
            leakledger_chain::Key { id: r.id, trace, parent: some(r.parent) }
        })
        .collect();
    drop(traces);
    // Requests that name no parent continue the one whose whole conversation
    // their own starts with (agent loops resend the history).
    let times: Vec<Option<i64>> = list.iter().map(|r| r.time()).collect();
    let history_links = leakledger_chain::link_histories(&mut keys, &histories, &times);
    drop(histories);
    let chains = leakledger_chain::build(&keys);
    let order = leakledger_chain::order(&chains, &times);
    drop((keys, times));
    // The strongest repository of each chain (ties: the smallest hash).
    let mut best: HashMap<u32, (leakledger_detect::exposure::Evidence, std::cmp::Reverse<u64>)> = HashMap::new();
    let contexts = std::mem::take(&mut scan.sink.contexts);
    let context = |r: &partial::Request| contexts.get(r.context as usize).copied().unwrap_or_default();
    for (r, &c) in list.iter().zip(&chains.component) {
        let r = context(r);
        if r.repo != 0 {
            let cand = (r.strength, std::cmp::Reverse(r.repo));
            let e = best.entry(c).or_insert(cand);
            if cand > *e {
                *e = cand;
            }
        }
    }
    let mut alias: HashMap<u64, u64> = HashMap::new();
    for (r, c) in list.iter().zip(&chains.component) {
        let r = context(r);
        if let Some(&(strength, std::cmp::Reverse(target))) = best.get(c)
            && r.repo != 0
            && r.repo != target
            && r.strength < strength
        {
            let e = alias.entry(r.repo).or_insert(target);
            *e = (*e).min(target);
        }
    }
    let inventory = std::mem::take(&mut scan.sink.inventory).resolve(&alias);
    let names = std::mem::take(&mut scan.sink.names);
    let requests = Requests::new(list, contexts, &chains, order, names, history_links);
    let repos: HashMap<u32, u64> = best.into_iter().map(|(c, (_, std::cmp::Reverse(h)))| (c, h)).collect();
    // Each walks every chain or every file: side by side.
    let (chain_entries, summary) = rayon::join(
        || chains::entries(&requests, &inventory, &repos, chains.total),
        || Summary::new(&scan, &inventory, &chains, &requests),
    );
    // What the pass ran with: its rules, and the values it kept if asked to.
    let look = scan.sink.lookouts();
    let rules = look.secrets.as_ref().map(|s| s.rules().collect()).unwrap_or_default();
    let secret_values = look.vault.as_ref().map(|v| v.take());
    Analysis { scan, inventory, chains, requests, chain_entries, summary, secret_values, rules }
}

/// Reorders `v` in place so that `v[j]` becomes the old `v[order[j]]`, following
/// each cycle once (no second copy of millions of requests). `order` must be a
/// permutation of `0..v.len()`; it is used up as the visited marks.
fn permute<T: Copy>(v: &mut [T], mut order: Vec<u32>) {
    debug_assert_eq!(v.len(), order.len());
    for start in 0..v.len() {
        if order[start] == u32::MAX {
            continue;
        }
        let first = v[start];
        let mut j = start;
        loop {
            let from = order[j] as usize;
            order[j] = u32::MAX;
            if from == start {
                v[j] = first;
                break;
            }
            v[j] = v[from];
            j = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::permute;

    #[test]
    fn permute_applies_any_order_in_place() {
        // Every permutation of 0..6 (720) against the copying answer.
        fn all(prefix: &mut Vec<u32>, rest: &mut Vec<u32>, out: &mut Vec<Vec<u32>>) {
            if rest.is_empty() {
                out.push(prefix.clone());
            }
            for i in 0..rest.len() {
                let x = rest.remove(i);
                prefix.push(x);
                all(prefix, rest, out);
                prefix.pop();
                rest.insert(i, x);
            }
        }
        let mut perms = Vec::new();
        all(&mut Vec::new(), &mut (0..6).collect(), &mut perms);
        assert_eq!(perms.len(), 720);
        let v: Vec<char> = "abcdef".chars().collect();
        for order in perms {
            let expected: Vec<char> = order.iter().map(|&i| v[i as usize]).collect();
            let mut got = v.clone();
            permute(&mut got, order);
            assert_eq!(got, expected);
        }
    }
}
