//! The `summary.json` contract (design.md §4): the parts this version computes.

use leakledger_dump::Scan;
use leakledger_dump::time::format_rfc3339;
use serde::Serialize;

use leakledger_chain::Chains;

use crate::{Inventory, Partial};

/// Version of the summary's shape; raised when a field changes meaning.
pub const SCHEMA_VERSION: u32 = 1;

/// The summary of a dump, serialised as `summary.json`.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Summary {
    /// [`SCHEMA_VERSION`].
    pub schema: u32,
    /// Record counts.
    pub records: Records,
    /// Request chains.
    pub chains: ChainCounts,
    /// The time window of the records.
    pub window: Window,
    /// What leaked.
    pub exposure: Exposure,
    /// Secrets.
    pub secrets: Secrets,
    /// Per organisation: what it leaked (a secret counts for each organisation
    /// holding it). The cost model splits cost by these figures.
    pub by_organization: std::collections::BTreeMap<String, OrgSummary>,
}

/// One organisation's part of the summary.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, Default)]
pub struct OrgSummary {
    /// Records naming it (duplicates included).
    pub records: u64,
    /// Repositories with exposed files.
    pub repositories: u64,
    /// Exposed files.
    pub files: u64,
    /// Distinct secrets it holds, by severity.
    pub secrets: std::collections::BTreeMap<String, u64>,
}

/// `secrets` (design.md §4; docs/formats.md "What is counted").
#[derive(Clone, Debug, Serialize, PartialEq, Eq, Default)]
pub struct Secrets {
    /// Distinct (kind, value), by fingerprint.
    pub distinct: u64,
    /// Appearances in distinct records.
    pub occurrences: u64,
    /// Distinct secrets by severity (`critical`, `high`, `medium`, `low`).
    pub by_severity: std::collections::BTreeMap<String, u64>,
    /// Distinct secrets by kind.
    pub by_kind: std::collections::BTreeMap<String, u64>,
}

/// `exposure` (docs/formats.md "What is counted").
#[derive(Clone, Debug, Serialize, PartialEq, Eq, Default)]
pub struct Exposure {
    /// Distinct organisations.
    pub organizations: u64,
    /// Distinct repository keys.
    pub repositories: u64,
    /// Distinct (repository, path) with content exposed.
    pub files: u64,
    /// Distinct (repository, path) mentioned at all.
    pub paths: u64,
    /// Bytes of distinct exposed content.
    pub code_bytes: u64,
    /// Exposed files by language.
    pub languages: std::collections::BTreeMap<String, u64>,
    /// Distinct (organisation, proprietary identifier) found (0 unless identifiers
    /// were configured).
    pub identifiers: u64,
}

/// `records`: counted over every source.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, Default)]
pub struct Records {
    /// Records read, malformed included.
    pub total: u64,
    /// Records that could not be parsed in their format.
    pub malformed: u64,
    /// Records whose request id and content were already seen.
    pub duplicates: u64,
}

/// `chains`: connected groups of requests (design.md §4).
#[derive(Clone, Debug, Serialize, PartialEq, Eq, Default)]
pub struct ChainCounts {
    /// Chains.
    pub total: u64,
    /// Requests whose parent is named but absent.
    pub orphans: u64,
    /// Requests in the longest chain.
    pub max_length: u64,
    /// Requests logged before their parent (clock skew between streams); their
    /// chain still puts the parent first.
    pub skewed: u64,
    /// Parent cycles found and broken.
    pub cycles: u64,
    /// Requests naming themselves as parent (the link is ignored).
    pub self_parents: u64,
    /// Requests that named no parent and were linked to the request whose whole
    /// conversation theirs continues (message-prefix hashes).
    pub history_links: u64,
}

/// `window`: the first and last record times, RFC 3339 UTC (null when no record
/// has a time).
#[derive(Clone, Debug, Serialize, PartialEq, Eq, Default)]
pub struct Window {
    /// Earliest.
    pub first: Option<String>,
    /// Latest.
    pub last: Option<String>,
}

impl Summary {
    /// Summarises a finished scan with its resolved inventory and chains.
    pub fn new(scan: &Scan<Partial>, inv: &Inventory, chains: &Chains, requests: &crate::Requests) -> Self {
        let order = requests.order();
        let (first, last) = scan.window();
        Summary {
            schema: SCHEMA_VERSION,
            records: Records {
                total: scan.records() + scan.malformed(),
                malformed: scan.malformed(),
                duplicates: scan.sink.duplicates(),
            },
            chains: ChainCounts {
                total: chains.total,
                orphans: chains.orphans,
                max_length: chains.max_length,
                skewed: order.map_or(0, |o| o.skewed.len() as u64),
                cycles: order.map_or(0, |o| o.cycles),
                self_parents: chains.self_parents,
                history_links: requests.history_links(),
            },
            window: Window { first: first.map(format_rfc3339), last: last.map(format_rfc3339) },
            exposure: Exposure {
                organizations: inv.orgs.len() as u64,
                repositories: inv.repos.len() as u64,
                files: inv.files.len() as u64,
                paths: inv.path_count(),
                code_bytes: inv.code_bytes(),
                languages: inv.languages(),
                identifiers: inv.identifiers.len() as u64,
            },
            secrets: {
                let mut by_severity: std::collections::BTreeMap<String, u64> =
                    ["critical", "high", "medium", "low"].iter().map(|s| (s.to_string(), 0)).collect();
                let mut by_kind = std::collections::BTreeMap::new();
                for e in inv.secrets.values() {
                    *by_severity.entry(e.found.severity.name().to_string()).or_insert(0) += 1;
                    *by_kind.entry(e.found.kind.to_string()).or_insert(0) += 1;
                }
                Secrets {
                    distinct: inv.secrets.len() as u64,
                    occurrences: inv.secrets.values().map(|e| e.occurrences).sum(),
                    by_severity,
                    by_kind,
                }
            },
            by_organization: by_organization(inv),
        }
    }
}

fn by_organization(inv: &Inventory) -> std::collections::BTreeMap<String, OrgSummary> {
    use std::collections::{BTreeMap, HashMap, HashSet};
    // Counted by borrowed names (a file is one of a million), named once per
    // organisation at the end.
    let mut counts: HashMap<&str, OrgSummary, crate::partial::Seeded> = HashMap::default();
    let mut repos: HashSet<(&str, &str), crate::partial::Seeded> = HashSet::default();
    for (name, e) in inv.orgs.iter() {
        counts.entry(name.as_str()).or_default().records = e.records;
    }
    for f in inv.files_unordered() {
        if f.org.is_empty() {
            continue;
        }
        counts.entry(f.org.as_str()).or_default().files += 1;
        repos.insert((f.org.as_str(), f.repository.as_str()));
    }
    for (org, _) in repos {
        counts.entry(org).or_default().repositories += 1;
    }
    for s in inv.secrets.values() {
        for holder in &s.holders {
            let o = counts.entry(holder.as_str()).or_default();
            *o.secrets.entry(s.found.severity.name().to_string()).or_insert(0) += 1;
        }
    }
    counts.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<BTreeMap<String, OrgSummary>>()
}
