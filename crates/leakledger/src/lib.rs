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
mod summary;
pub mod timeline;

/// The detectors (secret rules, fingerprints, redaction), for tools that show
/// or extend what the analysis found.
pub use leakledger_detect as detect;

pub use chains::{ChainEntry, RequestView, Requests};
pub use inventory::{FileEntry, IdentifierEntry, Inventory, OrgEntry, RepoEntry, SecretEntry};
pub use leakledger_dump::{
    Compression, Dump, Error, Format, Kind, Layout, Location, Malformed, Options, Problem, Record, Scan, Sink, Skipped,
    Source, SourceId, SourceReport, Value, install_sigbus_guard, time,
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
    let scanner = match &config.rules {
        Some(file) => leakledger_detect::secrets::Scanner::with_file(file, key),
        None => leakledger_detect::secrets::Scanner::new(leakledger_detect::secrets::BUILTIN, key),
    }
    .unwrap_or_else(|e| panic!("secret rules that compiled alone do not compile together: {e}"));
    let look = std::sync::Arc::new(leakledger_detect::exposure::Lookouts {
        identifiers: leakledger_detect::identifiers::Identifiers::new(&config.identifiers),
        secrets: Some(scanner),
        vault: config.reveal_secrets.then(Default::default),
    });
    let scan = dump.scan(|| Partial::new(look.clone()));
    finish(scan)
}

/// Turns a finished scan into an analysis: chains from the requests' keys, then
/// each chain's files re-keyed to its strongest repository evidence (a session
/// names its repository once, say in `git remote -v`, and its later requests may
/// only show the working directory).
pub fn finish(mut scan: Scan<Partial>) -> Analysis {
    // Requests in dump order, so that numbering does not depend on scheduling; a
    // request that two workers each saw once is folded (see `Request::dedup`).
    let mut list = std::mem::take(&mut scan.sink.requests);
    list.sort_unstable_by_key(|r| (r.location.source, r.location.offset));
    let mut seen = std::collections::HashSet::new();
    list.retain(|r| r.dedup == 0 || seen.insert(r.dedup));
    drop(seen);
    let mut keys: Vec<leakledger_chain::Key> = list.iter().map(|r| r.key()).collect();
    // Requests that name no parent continue the one whose whole conversation
    // their own starts with (agent loops resend the history).
    let prefixes = std::mem::take(&mut scan.sink.prefixes);
    let histories: Vec<leakledger_chain::History> = list
        .iter()
        .map(|r| leakledger_chain::History {
            full: r.history,
            prefixes: prefixes.get(r.prefixes as usize).copied().unwrap_or_default(),
        })
        .collect();
    drop(prefixes);
    let times: Vec<Option<i64>> = list.iter().map(|r| r.time()).collect();
    let history_links = leakledger_chain::link_histories(&mut keys, &histories, &times);
    drop(histories);
    let chains = leakledger_chain::build(&keys);
    let order = leakledger_chain::order(&chains, &times);
    drop((keys, times));
    // The strongest repository of each chain (ties: the smallest hash).
    let mut best: HashMap<u32, (leakledger_detect::exposure::Evidence, std::cmp::Reverse<u64>)> = HashMap::new();
    for (r, &c) in list.iter().zip(&chains.component) {
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
        if let Some(&(strength, std::cmp::Reverse(target))) = best.get(c)
            && r.repo != 0
            && r.repo != target
            && r.strength < strength
        {
            let e = alias.entry(r.repo).or_insert(target);
            *e = (*e).min(target);
        }
    }
    let inventory = scan.sink.inventory.resolve(&alias);
    let names = std::mem::take(&mut scan.sink.names);
    let requests = Requests::new(list, &chains, order, names, history_links);
    let repos: HashMap<u32, u64> = best.into_iter().map(|(c, (_, std::cmp::Reverse(h)))| (c, h)).collect();
    let chain_entries = chains::entries(&requests, &inventory, &repos, chains.total);
    let summary = Summary::new(&scan, &inventory, &chains, &requests);
    // What the pass ran with: its rules, and the values it kept if asked to.
    let look = scan.sink.lookouts();
    let rules = look.secrets.as_ref().map(|s| s.rules().collect()).unwrap_or_default();
    let secret_values = look.vault.as_ref().map(|v| v.take());
    Analysis { scan, inventory, chains, requests, chain_entries, summary, secret_values, rules }
}
