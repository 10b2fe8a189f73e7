//! The exposure inventory: organisations, repositories, files, paths, code volume
//! and languages, with evidence (where each was first seen). Mergeable.

use std::collections::{BTreeMap, HashMap, HashSet};

use leakledger_detect::exposure::{Evidence, Found};
use leakledger_detect::lang::language_of;
use leakledger_detect::secrets::{Fingerprint, Found as SecretFound};
use leakledger_dump::{Location, Record};
use xxhash_rust::xxh3::xxh3_64;

use crate::partial::Seeded;

/// A file whose content leaked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileEntry {
    /// Repository key (`host/owner/name`, or `local/ORG/NAME`; empty when unknown).
    pub repository: String,
    /// Normalised path.
    pub path: String,
    /// Organisation of the first record that exposed it.
    pub org: String,
    /// Language by name.
    pub language: &'static str,
    /// Size of the content first exposed, in bytes.
    pub bytes: u64,
    /// Where it was first exposed (smallest source and offset).
    pub first: Location,
}

/// A repository whose code leaked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoEntry {
    /// Its key.
    pub key: String,
    /// Organisation of the first record that named it.
    pub org: String,
    /// Where it was first seen.
    pub first: Location,
}

/// Per-organisation counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrgEntry {
    /// Records (duplicates included) that name the organisation.
    pub records: u64,
    /// Where it was first seen.
    pub first: Option<Location>,
}

/// What leaked, accumulated over records; merge is a union. Keys are hashes of
/// the repository key and the path, so that a session's weaker repository key
/// (`local/ORG/NAME`) can be re-keyed to its strongest once chains are known.
#[derive(Clone, Debug, Default)]
pub struct Inventory {
    pub(crate) orgs: HashMap<String, OrgEntry, Seeded>,
    /// Repository key hash to entry (with its evidence strength).
    pub(crate) repos: HashMap<u64, (RepoEntry, Evidence), Seeded>,
    /// (repository hash, path hash) to entry.
    pub(crate) files: HashMap<(u64, u64), FileEntry, Seeded>,
    pub(crate) paths: HashSet<(u64, u64), Seeded>,
    /// Content hash to length and first exposure.
    pub(crate) blobs: HashMap<u128, (u64, Location), Seeded>,
    /// (organisation, proprietary identifier) to its findings.
    pub(crate) identifiers: HashMap<(String, String), IdentifierEntry, Seeded>,
    /// Secrets by fingerprint.
    pub(crate) secrets: HashMap<Fingerprint, SecretEntry, Seeded>,
}

/// A distinct secret: where and how often it leaked, never its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretEntry {
    /// Kind, severity, fingerprint and what a redacted form may show.
    pub found: SecretFound,
    /// Appearances in distinct records.
    pub occurrences: u64,
    /// First appearance (smallest source and offset).
    pub first: Location,
    /// Earliest and latest record time it appears in.
    pub first_seen: Option<i64>,
    /// Latest.
    pub last_seen: Option<i64>,
    /// Organisations whose records hold it.
    pub holders: std::collections::BTreeSet<String>,
}

/// A proprietary identifier found in one organisation's records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentifierEntry {
    /// Appearances in distinct records.
    pub occurrences: u64,
    /// Where it first appeared.
    pub first: Location,
}

/// The hash a repository key is known by (0 for none).
pub(crate) fn repo_hash(key: &str) -> u64 {
    if key.is_empty() { 0 } else { xxh3_64(key.as_bytes()) | 1 }
}

fn min_ts(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

fn max_ts(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    }
}

fn earlier(a: Location, b: Location) -> Location {
    if (b.source, b.offset) < (a.source, a.offset) { b } else { a }
}

/// Keeps the entry first seen (smallest location), whichever order merges come in.
fn keep_first<K: std::hash::Hash + Eq, V>(map: &mut HashMap<K, V, Seeded>, k: K, v: V, first: impl Fn(&V) -> Location) {
    match map.get_mut(&k) {
        Some(e) => keep_earlier(e, v, first),
        None => {
            map.insert(k, v);
        }
    }
}

/// Of two entries for one key, keeps the one first seen.
fn keep_earlier<V>(e: &mut V, v: V, first: impl Fn(&V) -> Location) {
    if earlier(first(e), first(&v)) != first(e) {
        *e = v;
    }
}

/// Folds `other` into `mine` with `fold` (which must be commutative), walking
/// the smaller of the two.
fn union<K: std::hash::Hash + Eq, V>(
    mine: &mut HashMap<K, V, Seeded>,
    mut other: HashMap<K, V, Seeded>,
    fold: impl Fn(&mut V, V),
) {
    if other.len() > mine.len() {
        std::mem::swap(mine, &mut other);
    }
    for (k, v) in other {
        match mine.entry(k) {
            std::collections::hash_map::Entry::Occupied(mut e) => fold(e.get_mut(), v),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(v);
            }
        }
    }
}

impl Inventory {
    /// Entries held, over every table: what a merge walks.
    pub(crate) fn len(&self) -> usize {
        self.orgs.len()
            + self.repos.len()
            + self.files.len()
            + self.paths.len()
            + self.blobs.len()
            + self.identifiers.len()
            + self.secrets.len()
    }

    /// Counts a record for its organisation, duplicates included (so the count does
    /// not depend on which worker met which copy).
    pub(crate) fn count_org(&mut self, r: &Record<'_>) {
        let Some(org) = r.org.and_then(|v| v.as_str()).filter(|o| !o.is_empty()) else { return };
        let loc = r.location;
        match self.orgs.get_mut(org.as_ref()) {
            Some(e) => {
                e.records += 1;
                e.first = Some(e.first.map_or(loc, |f| earlier(f, loc)));
            }
            None => {
                self.orgs.insert(org.into_owned(), OrgEntry { records: 1, first: Some(loc) });
            }
        }
    }

    /// Adds what one record exposes; returns the repository (hash, strength) the
    /// record names.
    pub(crate) fn add(&mut self, r: &Record<'_>, found: &Found) -> (u64, Evidence) {
        let org = r.org.and_then(|v| v.as_str());
        let org = org.as_deref().unwrap_or("");
        let loc = r.location;
        let field = r.repository.and_then(|v| v.as_str());
        let local_org = if org.is_empty() { "unknown" } else { org };
        let (repo, strength) = found.repository(local_org, field.as_deref()).unwrap_or_default();
        let rh = repo_hash(&repo);
        if rh != 0 && !self.repos.contains_key(&rh) {
            self.repos.insert(rh, (RepoEntry { key: repo.clone(), org: org.to_string(), first: loc }, strength));
        } else if let Some((e, _)) = self.repos.get_mut(&rh) {
            e.first = earlier(e.first, loc);
        }
        for f in &found.files {
            let k = (rh, xxh3_64(f.path.as_bytes()));
            self.paths.insert(k);
            keep_first(&mut self.blobs, f.hash, (f.len, loc), |b| b.1);
            match self.files.get_mut(&k) {
                Some(e) => {
                    if earlier(e.first, loc) != e.first {
                        e.first = loc;
                        e.bytes = f.len;
                    }
                }
                None => {
                    self.files.insert(
                        k,
                        FileEntry {
                            repository: repo.clone(),
                            path: f.path.clone(),
                            org: org.to_string(),
                            language: language_of(&f.path),
                            bytes: f.len,
                            first: loc,
                        },
                    );
                }
            }
        }
        for p in &found.paths {
            self.paths.insert((rh, xxh3_64(p.as_bytes())));
        }
        for f in &found.secrets {
            let e = self.secrets.entry(f.fingerprint).or_insert_with(|| SecretEntry {
                found: *f,
                occurrences: 0,
                first: loc,
                first_seen: r.ts,
                last_seen: r.ts,
                holders: Default::default(),
            });
            e.occurrences += 1;
            e.first = earlier(e.first, loc);
            e.found.severity = e.found.severity.max(f.severity);
            e.first_seen = min_ts(e.first_seen, r.ts);
            e.last_seen = max_ts(e.last_seen, r.ts);
            if !org.is_empty() && !e.holders.contains(org) {
                e.holders.insert(org.to_string());
            }
        }
        for id in &found.identifiers {
            match self.identifiers.get_mut(&(org.to_string(), id.clone())) {
                Some(e) => {
                    e.occurrences += 1;
                    e.first = earlier(e.first, loc);
                }
                None => {
                    self.identifiers
                        .insert((org.to_string(), id.clone()), IdentifierEntry { occurrences: 1, first: loc });
                }
            }
        }
        (rh, strength)
    }

    /// Takes back the occurrences one record added (it was counted twice).
    pub(crate) fn uncount(&mut self, secrets: &[Fingerprint], identifiers: &[(String, String)]) {
        for fp in secrets {
            if let Some(e) = self.secrets.get_mut(fp) {
                e.occurrences = e.occurrences.saturating_sub(1);
            }
        }
        for k in identifiers {
            if let Some(e) = self.identifiers.get_mut(k) {
                e.occurrences = e.occurrences.saturating_sub(1);
            }
        }
    }

    /// Folds another inventory in. Each table walks the smaller side into the
    /// larger (every fold is commutative), and the tables merge in parallel: the
    /// last merge of a pass joins two halves of a million files, and it runs
    /// while the other core has nothing left to do.
    pub(crate) fn merge(&mut self, other: Inventory) {
        let Inventory { orgs, repos, files, paths, blobs, identifiers, secrets } = other;
        rayon::join(
            || union(&mut self.files, files, |e, v| keep_earlier(e, v, |e| e.first)),
            || {
                if paths.len() > self.paths.len() {
                    let small = std::mem::replace(&mut self.paths, paths);
                    self.paths.extend(small);
                } else {
                    self.paths.extend(paths);
                }
                union(&mut self.blobs, blobs, |e, v| keep_earlier(e, v, |b| b.1));
                union(&mut self.orgs, orgs, |e, v| {
                    e.records += v.records;
                    e.first = match (e.first, v.first) {
                        (Some(a), Some(b)) => Some(earlier(a, b)),
                        (a, b) => a.or(b),
                    };
                });
                union(&mut self.repos, repos, |e, v| keep_earlier(e, v, |(e, _)| e.first));
                union(&mut self.secrets, secrets, |e, v| {
                    e.occurrences += v.occurrences;
                    e.first = earlier(e.first, v.first);
                    e.found.severity = e.found.severity.max(v.found.severity);
                    e.first_seen = min_ts(e.first_seen, v.first_seen);
                    e.last_seen = max_ts(e.last_seen, v.last_seen);
                    e.holders.extend(v.holders);
                });
                union(&mut self.identifiers, identifiers, |e, v| {
                    e.occurrences += v.occurrences;
                    e.first = earlier(e.first, v.first);
                });
            },
        );
    }

    /// The inventory with repository keys re-keyed by `alias` (a session's weaker
    /// keys to its strongest): files and paths of one repository named two ways
    /// count once. Consumes the inventory: only the entries of aliased
    /// repositories move, the rest stay where they are (no copy of a million
    /// files).
    pub(crate) fn resolve(mut self, alias: &HashMap<u64, u64>) -> Inventory {
        if alias.is_empty() {
            return self;
        }
        let to = |h: u64| -> u64 {
            let mut h = h;
            for _ in 0..4 {
                match alias.get(&h) {
                    Some(&t) if t != h => h = t,
                    _ => break,
                }
            }
            h
        };
        // Files and paths of the aliased repositories move to the target's key;
        // then the aliased repositories' entries go.
        let moved: Vec<((u64, u64), FileEntry)> = self.files.extract_if(|&(rh, _), _| to(rh) != rh).collect();
        for ((rh, ph), mut f) in moved {
            let t = to(rh);
            if let Some((e, _)) = self.repos.get(&t) {
                f.repository.clone_from(&e.key);
            }
            keep_first(&mut self.files, (t, ph), f, |e| e.first);
        }
        let paths: Vec<(u64, u64)> = self.paths.extract_if(|&(rh, _)| to(rh) != rh).collect();
        self.paths.extend(paths.into_iter().map(|(rh, ph)| (to(rh), ph)));
        self.repos.retain(|&h, _| to(h) == h);
        self
    }

    /// Every exposed file, in no particular order: for counts and sums, where
    /// [`Inventory::files`]' sort of a million paths would be wasted.
    pub fn files_unordered(&self) -> impl Iterator<Item = &FileEntry> {
        self.files.values()
    }

    /// Organisation names, sorted.
    pub fn organizations(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.orgs.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    }

    /// Per-organisation record counts and first sightings, sorted by name.
    pub fn organization_entries(&self) -> Vec<(&str, &OrgEntry)> {
        let mut v: Vec<(&str, &OrgEntry)> = self.orgs.iter().map(|(k, v)| (k.as_str(), v)).collect();
        v.sort_unstable_by_key(|(k, _)| *k);
        v
    }

    /// Repositories, sorted by key.
    pub fn repositories(&self) -> Vec<&RepoEntry> {
        let mut v: Vec<&RepoEntry> = self.repos.values().map(|(e, _)| e).collect();
        v.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        v
    }

    /// Exposed files, sorted by (repository, path).
    pub fn files(&self) -> Vec<&FileEntry> {
        let mut v: Vec<&FileEntry> = self.files.values().collect();
        v.sort_unstable_by(|a, b| (&a.repository, &a.path).cmp(&(&b.repository, &b.path)));
        v
    }

    /// Exposed files per repository key, sorted by key (the empty key holds the
    /// files of no known repository).
    pub fn files_per_repository(&self) -> BTreeMap<&str, u64> {
        let mut m: HashMap<&str, u64, Seeded> = HashMap::default();
        for f in self.files.values() {
            *m.entry(f.repository.as_str()).or_insert(0) += 1;
        }
        m.into_iter().collect()
    }

    /// Files of one organisation's records, sorted by (repository, path).
    pub fn files_of<'a>(&'a self, org: &'a str) -> impl Iterator<Item = &'a FileEntry> + 'a {
        let mut v: Vec<&FileEntry> = self.files.values().filter(|f| f.org == org).collect();
        v.sort_unstable_by(|a, b| (&a.repository, &a.path).cmp(&(&b.repository, &b.path)));
        v.into_iter()
    }

    /// Proprietary identifiers found, by organisation then identifier.
    pub fn identifiers(&self) -> Vec<(&str, &str, &IdentifierEntry)> {
        let mut v: Vec<(&str, &str, &IdentifierEntry)> =
            self.identifiers.iter().map(|((o, i), e)| (o.as_str(), i.as_str(), e)).collect();
        v.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        v
    }

    /// Distinct secrets, most severe first, then most occurrences, then by
    /// fingerprint: the order to rotate them in.
    pub fn secrets(&self) -> Vec<&SecretEntry> {
        let mut v: Vec<&SecretEntry> = self.secrets.values().collect();
        v.sort_unstable_by(|a, b| {
            b.found
                .severity
                .cmp(&a.found.severity)
                .then(b.occurrences.cmp(&a.occurrences))
                .then(a.found.fingerprint.cmp(&b.found.fingerprint))
        });
        v
    }

    /// Distinct paths mentioned at all.
    pub fn path_count(&self) -> u64 {
        self.paths.len() as u64
    }

    /// Bytes of distinct exposed content.
    pub fn code_bytes(&self) -> u64 {
        self.blobs.values().map(|b| b.0).sum()
    }

    /// Exposed files by language.
    pub fn languages(&self) -> BTreeMap<String, u64> {
        // Languages are static names: count by the name, allocate once per language.
        let mut m: HashMap<&'static str, u64, Seeded> = HashMap::default();
        for f in self.files.values() {
            *m.entry(f.language).or_insert(0) += 1;
        }
        m.into_iter().map(|(l, n)| (l.to_string(), n)).collect()
    }
}
