//! `truth.json`: the counters of the `summary.json` contract (design.md §4) that a
//! generator can know, from its own bookkeeping, and the list of secrets for
//! recall checks. Counting rules are those of docs/formats.md ("What is
//! counted"); a test reads the written dump back and recomputes what a plain
//! reader can.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::Options;
use crate::plan::{Entry, Plan, ShardInfo};
use crate::render::{language_of, rfc3339_ms};
use crate::session::Turn;

/// Version of truth.json's shape.
pub const SCHEMA_VERSION: u32 = 1;

/// The ground truth of a generated dump.
#[derive(Clone, Debug, Serialize)]
pub struct Truth {
    /// [`SCHEMA_VERSION`].
    pub schema: u32,
    /// How it was generated.
    pub generator: Generator,
    /// `records`.
    pub records: Records,
    /// `chains`.
    pub chains: Chains,
    /// `exposure`.
    pub exposure: Exposure,
    /// `secrets`.
    pub secrets: Secrets,
    /// `window`.
    pub window: Window,
    /// The exposed repositories and files themselves, for set comparisons.
    pub inventory: Inventory,
    /// The files written.
    pub shards: Vec<ShardInfo>,
}

/// What leaked, item by item.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Inventory {
    /// Repository keys, sorted.
    pub repositories: Vec<String>,
    /// (repository key, normalised path) of every file with content exposed, sorted.
    pub files: Vec<(String, String)>,
}

/// The options of the run.
#[derive(Clone, Debug, Serialize)]
pub struct Generator {
    /// Seed.
    pub seed: u64,
    /// Organisations in the world.
    pub orgs: usize,
    /// Size asked for.
    pub size: u64,
    /// Formats.
    pub formats: Vec<String>,
    /// Whether every shard was gzip'd.
    pub gzip: bool,
    /// Whether requests carry the conversation so far.
    pub history: bool,
    /// Whether records carry session and parent ids. Without them `chains` is
    /// still the sessions: what a reconstruction from the conversations should find.
    pub ids: bool,
}

/// Record counts.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Records {
    /// Every record a reader meets, malformed and duplicates included.
    pub total: u64,
    /// Truncated copies and binary junk lines.
    pub malformed: u64,
    /// Records logged again with the same id and body.
    pub duplicates: u64,
}

/// Request chains.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Chains {
    /// Sessions plus standalone requests.
    pub total: u64,
    /// Requests whose parent is named but never logged.
    pub orphans: u64,
    /// Requests in the longest chain.
    pub max_length: u64,
    /// Requests logged with a time before their parent's (a skewed clock).
    pub skewed: u64,
    /// Parent cycles (the generator makes none).
    pub cycles: u64,
    /// Requests naming themselves as parent (the generator makes none).
    pub self_parents: u64,
    /// Links a reconstruction must find from the conversations: every request
    /// after a session's first when records carry no ids, else none.
    pub history_links: u64,
}

/// What leaked.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Exposure {
    /// Organisations with at least one record.
    pub organizations: u64,
    /// Distinct repository keys of the sessions.
    pub repositories: u64,
    /// Distinct (repository, path) whose content was exposed.
    pub files: u64,
    /// Distinct (repository, path) mentioned at all.
    pub paths: u64,
    /// Bytes of distinct exposed content (deduplicated by hash).
    pub code_bytes: u64,
    /// Exposed files by language.
    pub languages: BTreeMap<String, u64>,
}

/// Secrets.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Secrets {
    /// Distinct (kind, value).
    pub distinct: u64,
    /// Appearances in distinct records (a duplicate record counts once).
    pub occurrences: u64,
    /// Distinct secrets by severity.
    pub by_severity: BTreeMap<String, u64>,
    /// Distinct secrets by kind.
    pub by_kind: BTreeMap<String, u64>,
    /// Every secret, without its value.
    pub list: Vec<SecretTruth>,
}

/// One secret, for recall checks: never its value.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct SecretTruth {
    /// Kind name.
    pub kind: String,
    /// Severity.
    pub severity: String,
    /// SHA-256 of the value (not a keyed fingerprint).
    pub sha256: String,
    /// Appearances in distinct records.
    pub occurrences: u64,
    /// Organisations in whose records it appears.
    pub holders: Vec<String>,
    /// The request where it first appears (by time).
    pub first_request: String,
    /// The shard that holds that request.
    pub first_shard: String,
}

/// The time window of the records.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Window {
    /// Earliest, RFC 3339 UTC with microseconds (as the scanner prints it).
    pub first: Option<String>,
    /// Latest.
    pub last: Option<String>,
}

fn rfc3339_us(us: i64) -> String {
    // The scanner prints microseconds; requests are whole milliseconds.
    let ms = rfc3339_ms(us);
    format!("{}000Z", &ms[..ms.len() - 1])
}

pub(crate) fn compute(plan: &Plan, options: &Options, shards: Vec<ShardInfo>) -> Truth {
    let world = &plan.world;
    // Records.
    let (mut total, mut malformed, mut duplicates) = (0u64, 0u64, 0u64);
    for shard in &plan.shards {
        for e in &shard.entries {
            match e {
                Entry::Record { .. } => total += 1,
                Entry::Duplicate { .. } => {
                    total += 1;
                    duplicates += 1;
                }
                Entry::Truncated { .. } | Entry::Junk => {
                    total += 1;
                    malformed += 1;
                }
                Entry::Blank => {}
            }
        }
    }
    // Chains and window.
    let mut chains =
        Chains { total: 0, orphans: 0, max_length: 0, skewed: 0, cycles: 0, self_parents: 0, history_links: 0 };
    let (mut first, mut last) = (i64::MAX, i64::MIN);
    for s in &plan.sessions {
        chains.total += 1;
        chains.orphans += u64::from(s.orphan_parent.is_some() && options.ids);
        if !options.ids && plan.history {
            chains.history_links += s.requests.len() as u64 - 1;
        }
        chains.max_length = chains.max_length.max(s.requests.len() as u64);
        chains.skewed += s.requests.windows(2).filter(|w| w[1].ts < w[0].ts).count() as u64;
        for r in &s.requests {
            first = first.min(r.ts);
            last = last.max(r.ts);
        }
    }
    // Exposure and secrets.
    let mut orgs = BTreeSet::new();
    let mut repos = BTreeSet::new();
    let mut files: BTreeSet<(String, String)> = BTreeSet::new();
    let mut paths: BTreeSet<(String, String)> = BTreeSet::new();
    let mut blobs: BTreeMap<[u8; 32], u64> = BTreeMap::new();
    // Per secret: occurrences, holders, first (ts, request id, shard).
    type Seen = (u64, BTreeSet<String>, (i64, String, String));
    let mut occ: BTreeMap<usize, Seen> = BTreeMap::new();
    // Secrets seen somewhere else than a test file: the others rank one step
    // lower (docs/rules.md, severity by context).
    let mut outside_tests: BTreeSet<usize> = BTreeSet::new();
    for (si, s) in plan.sessions.iter().enumerate() {
        let org = &world.orgs[s.org];
        orgs.insert(org.name.clone());
        let key = plan.repo_key(s);
        let repo = s.repo.map(|r| &org.repos[r]);
        if let Some(k) = &key {
            repos.insert(k.clone());
        }
        let mut blob = |content: &str| {
            blobs.insert(Sha256::digest(content.as_bytes()).into(), content.len() as u64);
        };
        // Secrets each turn adds to every request from it on.
        let mut per_turn: Vec<Vec<(usize, u32)>> = Vec::with_capacity(s.turns.len());
        for t in &s.turns {
            let key = key.clone().unwrap_or_default();
            let file = |i: usize| repo.map(|r| &r.files[i]);
            let mut found: Vec<(usize, u32)> = Vec::new();
            match t {
                Turn::Read { file: i, .. } | Turn::Paste { file: i, .. } | Turn::Fence { file: i } => {
                    if let Some(f) = file(*i) {
                        files.insert((key.clone(), f.path.clone()));
                        paths.insert((key, f.path.clone()));
                        blob(&f.content);
                        found.extend(&f.secrets);
                        if !is_test_file(&f.path) {
                            outside_tests.extend(f.secrets.iter().map(|&(i, _)| i));
                        }
                    }
                }
                Turn::Diff { file: i, text } => {
                    if let Some(f) = file(*i) {
                        files.insert((key.clone(), f.path.clone()));
                        paths.insert((key, f.path.clone()));
                        blob(text);
                    }
                }
                Turn::ReadOutside { path, content, secrets, .. } => {
                    files.insert((key.clone(), path.clone()));
                    paths.insert((key, path.clone()));
                    blob(content);
                    found.extend(secrets);
                    if !is_test_file(path) {
                        outside_tests.extend(secrets.iter().map(|&(i, _)| i));
                    }
                }
                Turn::Missing { path, .. } => {
                    paths.insert((key, path.clone()));
                }
                Turn::Ask { secrets, .. } => {
                    found.extend(secrets);
                    outside_tests.extend(secrets.iter().map(|&(i, _)| i));
                }
                Turn::Remote { .. } => {}
            }
            per_turn.push(found);
        }
        // Request k carries turns 0..=k (or only turn k without history).
        let mut carried: BTreeMap<usize, u64> = BTreeMap::new();
        for (k, r) in s.requests.iter().enumerate() {
            if !plan.history {
                carried.clear();
            }
            for &(secret, n) in &per_turn[k] {
                *carried.entry(secret).or_default() += u64::from(n);
            }
            for (&secret, &n) in &carried {
                let shard = plan.shards.get(plan.home[si][k]).map(|s| s.path.to_string_lossy().into_owned());
                let e =
                    occ.entry(secret).or_insert_with(|| (0, BTreeSet::new(), (i64::MAX, String::new(), String::new())));
                e.0 += n;
                e.1.insert(org.name.clone());
                if r.ts < e.2.0 {
                    e.2 = (r.ts, r.id.clone(), shard.unwrap_or_default());
                }
            }
        }
    }
    let mut languages = BTreeMap::new();
    for (_, path) in &files {
        *languages.entry(language_of(path).to_string()).or_insert(0) += 1;
    }
    let mut by_severity: BTreeMap<String, u64> =
        ["critical", "high", "medium", "low"].iter().map(|s| (s.to_string(), 0)).collect();
    let mut by_kind = BTreeMap::new();
    let mut list = Vec::new();
    let mut occurrences = 0;
    for (&i, (n, holders, (_, request, shard))) in &occ {
        let secret = &world.secrets[i];
        let severity =
            if outside_tests.contains(&i) { secret.kind.severity() } else { lowered(secret.kind.severity()) };
        *by_severity.entry(severity.to_string()).or_insert(0) += 1;
        *by_kind.entry(secret.kind.name().to_string()).or_insert(0) += 1;
        occurrences += n;
        list.push(SecretTruth {
            kind: secret.kind.name().to_string(),
            severity: severity.to_string(),
            sha256: Sha256::digest(secret.value.as_bytes()).iter().map(|b| format!("{b:02x}")).collect(),
            occurrences: *n,
            holders: holders.iter().cloned().collect(),
            first_request: request.clone(),
            first_shard: shard.clone(),
        });
    }
    list.sort_by(|a, b| (&a.kind, &a.sha256).cmp(&(&b.kind, &b.sha256)));
    Truth {
        schema: SCHEMA_VERSION,
        generator: Generator {
            seed: options.seed,
            orgs: options.orgs,
            size: options.size,
            formats: options.formats.clone(),
            gzip: options.gzip,
            history: options.history,
            ids: options.ids,
        },
        records: Records { total, malformed, duplicates },
        chains,
        exposure: Exposure {
            organizations: orgs.len() as u64,
            repositories: repos.len() as u64,
            files: files.len() as u64,
            paths: paths.len() as u64,
            code_bytes: blobs.values().sum(),
            languages,
        },
        secrets: Secrets { distinct: occ.len() as u64, occurrences, by_severity, by_kind, list },
        window: Window {
            first: (first != i64::MAX).then(|| rfc3339_us(first)),
            last: (last != i64::MIN).then(|| rfc3339_us(last)),
        },
        inventory: Inventory { repositories: repos.iter().cloned().collect(), files: files.iter().cloned().collect() },
        shards,
    }
}

/// Whether the generator made `path` as a test file (`replay_test.go`,
/// `src/test/java/...`, `tests/...`).
fn is_test_file(path: &str) -> bool {
    path.ends_with("_test.go") || path.starts_with("tests/") || path.contains("/test/")
}

/// One severity step down (`low` stays `low`).
fn lowered(severity: &'static str) -> &'static str {
    match severity {
        "critical" => "high",
        "high" => "medium",
        _ => "low",
    }
}
