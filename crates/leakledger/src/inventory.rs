//! The exposure inventory: organisations, repositories, files, paths, code volume
//! and languages, with evidence (where each was first seen). Mergeable.

use std::collections::{BTreeMap, HashMap, HashSet};

use leakledger_detect::exposure::Found;
use leakledger_detect::lang::language_of;
use leakledger_detect::repo::normalize_url;
use leakledger_dump::{Location, Record};
use xxhash_rust::xxh3::Xxh3;

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

/// What leaked, accumulated over records; merge is a union.
#[derive(Clone, Debug, Default)]
pub struct Inventory {
    pub(crate) orgs: HashMap<String, OrgEntry>,
    pub(crate) repos: HashMap<String, RepoEntry>,
    /// Keyed by a hash of (repository, path).
    pub(crate) files: HashMap<u128, FileEntry>,
    pub(crate) paths: HashSet<u128>,
    /// Content hash to length.
    pub(crate) blobs: HashMap<u128, u64>,
}

fn key(repo: &str, path: &str) -> u128 {
    let mut h = Xxh3::new();
    h.update(repo.as_bytes());
    h.update(&[0xff]);
    h.update(path.as_bytes());
    h.digest128()
}

fn earlier(a: Location, b: Location) -> Location {
    if (b.source, b.offset) < (a.source, a.offset) { b } else { a }
}

impl Inventory {
    /// Adds what one record exposes.
    pub(crate) fn add(&mut self, r: &Record<'_>, found: &Found) {
        let org = r.org.and_then(|v| v.as_str());
        let org = org.as_deref().unwrap_or("");
        let loc = r.location;
        if !org.is_empty() {
            match self.orgs.get_mut(org) {
                Some(e) => {
                    e.records += 1;
                    e.first = Some(e.first.map_or(loc, |f| earlier(f, loc)));
                }
                None => {
                    self.orgs.insert(org.to_string(), OrgEntry { records: 1, first: Some(loc) });
                }
            }
        }
        let field = r.repository.and_then(|v| v.as_str()).and_then(|u| normalize_url(&u));
        let repo = field.or_else(|| found.repository(if org.is_empty() { "unknown" } else { org }));
        let repo = repo.unwrap_or_default();
        if !repo.is_empty() {
            match self.repos.get_mut(&repo) {
                Some(e) => e.first = earlier(e.first, loc),
                None => {
                    self.repos.insert(repo.clone(), RepoEntry { key: repo.clone(), org: org.to_string(), first: loc });
                }
            }
        }
        for f in &found.files {
            let k = key(&repo, &f.path);
            self.paths.insert(k);
            self.blobs.insert(f.hash, f.len);
            match self.files.get_mut(&k) {
                Some(e) => e.first = earlier(e.first, loc),
                None => {
                    self.files.insert(
                        k,
                        FileEntry {
                            repository: repo.clone(),
                            path: f.path.clone(),
                            org: org.to_string(),
                            language: language_of(&f.path),
                            first: loc,
                        },
                    );
                }
            }
        }
        for p in &found.paths {
            self.paths.insert(key(&repo, p));
        }
    }

    /// Folds another inventory in.
    pub(crate) fn merge(&mut self, other: Inventory) {
        for (k, v) in other.orgs {
            let e = self.orgs.entry(k).or_default();
            e.records += v.records;
            e.first = match (e.first, v.first) {
                (Some(a), Some(b)) => Some(earlier(a, b)),
                (a, b) => a.or(b),
            };
        }
        for (k, v) in other.repos {
            match self.repos.get_mut(&k) {
                Some(e) => {
                    if earlier(e.first, v.first) == v.first && v.first != e.first {
                        *e = v;
                    }
                }
                None => {
                    self.repos.insert(k, v);
                }
            }
        }
        for (k, v) in other.files {
            match self.files.get_mut(&k) {
                Some(e) => {
                    if earlier(e.first, v.first) == v.first && v.first != e.first {
                        *e = v;
                    }
                }
                None => {
                    self.files.insert(k, v);
                }
            }
        }
        self.paths.extend(other.paths);
        self.blobs.extend(other.blobs);
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
        let mut v: Vec<&RepoEntry> = self.repos.values().collect();
        v.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        v
    }

    /// Exposed files, sorted by (repository, path).
    pub fn files(&self) -> Vec<&FileEntry> {
        let mut v: Vec<&FileEntry> = self.files.values().collect();
        v.sort_unstable_by(|a, b| (&a.repository, &a.path).cmp(&(&b.repository, &b.path)));
        v
    }

    /// Files of one organisation's records.
    pub fn files_of<'a>(&'a self, org: &'a str) -> impl Iterator<Item = &'a FileEntry> + 'a {
        self.files().into_iter().filter(move |f| f.org == org)
    }

    /// Distinct paths mentioned at all.
    pub fn path_count(&self) -> u64 {
        self.paths.len() as u64
    }

    /// Bytes of distinct exposed content.
    pub fn code_bytes(&self) -> u64 {
        self.blobs.values().sum()
    }

    /// Exposed files by language.
    pub fn languages(&self) -> BTreeMap<String, u64> {
        let mut m = BTreeMap::new();
        for f in self.files.values() {
            *m.entry(f.language.to_string()).or_insert(0) += 1;
        }
        m
    }
}
