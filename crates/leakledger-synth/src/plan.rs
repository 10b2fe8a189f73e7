//! The plan of a dump: the world, the sessions, and which shard each logged
//! record (and each duplicate, truncated copy, junk or blank line) goes to.
//! Everything here is drawn sequentially from the seed; rendering then runs in
//! parallel, one independent random stream per shard, so output never depends on
//! the thread count.

use std::io::Write;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::render::{Ctx, js, rfc3339_ms};
use crate::rng::Rng;
use crate::session::{self, Channel, Session, Turn};
use crate::world::{self, Evidence, World};
use crate::{Error, Options};

/// The leak window: 2024-04-01T00:00:00Z and 30 days.
const WINDOW_START_US: i64 = 1_711_929_600_000_000;
const WINDOW_US: i64 = 30 * 86_400 * 1_000_000;

/// One line or event in a shard.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Entry {
    /// Request `k` of session `s`.
    Record { s: usize, k: usize },
    /// The same record logged again (at-least-once delivery).
    Duplicate { s: usize, k: usize },
    /// A copy of the record cut short (a crashed writer).
    Truncated { s: usize, k: usize },
    /// Binary junk.
    Junk,
    /// An empty or white-space line.
    Blank,
}

/// A shard file to write.
#[derive(Clone, Debug)]
pub(crate) struct Shard {
    pub(crate) channel: Channel,
    pub(crate) path: PathBuf,
    pub(crate) compression: &'static str,
    pub(crate) crlf: bool,
    pub(crate) entries: Vec<Entry>,
}

impl Shard {
    /// The (session, request) of every record and duplicate, in shard order (the
    /// document formats have no truncated or junk lines).
    fn logged(&self) -> Vec<(usize, usize)> {
        self.entries
            .iter()
            .filter_map(|e| match *e {
                Entry::Record { s, k } | Entry::Duplicate { s, k } => Some((s, k)),
                _ => None,
            })
            .collect()
    }
}

/// What was written for a shard.
#[derive(Clone, Debug, Serialize)]
pub struct ShardInfo {
    /// Path relative to the output folder.
    pub path: String,
    /// Format (`jsonl`, `cloudwatch`, `otlp`).
    pub format: &'static str,
    /// `none`, `gzip` or `zstd`.
    pub compression: &'static str,
    /// Records in it, as a reader counts them (malformed and duplicates included).
    pub records: u64,
    /// Bytes before compression.
    pub bytes: u64,
    /// SHA-256 of the file as written.
    pub sha256: String,
}

/// The whole plan.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) seed: u64,
    pub(crate) history: bool,
    pub(crate) ids: bool,
    pub(crate) world: World,
    pub(crate) sessions: Vec<Session>,
    pub(crate) shards: Vec<Shard>,
    /// For each session, the shard of each request's first (non-duplicate) copy.
    pub(crate) home: Vec<Vec<usize>>,
}

fn channels(options: &Options) -> Result<Vec<(Channel, u64)>, Error> {
    if options.formats.is_empty() {
        return Err(Error::NoFormat);
    }
    let mut out = Vec::new();
    for f in &options.formats {
        match f.as_str() {
            "jsonl" => out.extend([(Channel::Gateway, 35), (Channel::Proxy, 15), (Channel::Elastic, 10)]),
            "cloudwatch" => out.extend([(Channel::CloudwatchExport, 15), (Channel::Firehose, 15)]),
            "otlp" => out.push((Channel::Otlp, 10)),
            other => return Err(Error::UnknownFormat(other.to_string())),
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Approximate bytes a session's requests take when logged.
fn estimate(world: &World, s: &Session) -> u64 {
    let repo = s.repo.map(|r| &world.orgs[s.org].repos[r]);
    let mut running = 700u64;
    let mut total = 0u64;
    for t in &s.turns {
        running += match t {
            Turn::Read { file, .. } | Turn::Paste { file, .. } | Turn::Fence { file } => {
                repo.map_or(0, |r| r.files[*file].content.len() as u64 * 11 / 10 + 350)
            }
            Turn::Diff { text, .. } => text.len() as u64 + 80,
            Turn::ReadOutside { content, .. } => content.len() as u64 + 350,
            Turn::Ask { text, .. } => text.len() as u64 + 60,
            Turn::Remote { .. } | Turn::Missing { .. } => 350,
        };
        total += running;
    }
    let escaped_twice = matches!(s.channel, Channel::Proxy | Channel::Firehose | Channel::Otlp);
    if escaped_twice { total * 115 / 100 } else { total }
}

impl Plan {
    pub(crate) fn new(options: &Options) -> Result<Plan, Error> {
        let channels = channels(options)?;
        let weights: u64 = channels.iter().map(|(_, w)| w).sum();
        let mut rng = Rng::new(options.seed);
        let mut world = world::build(&mut rng, options.orgs);
        let mut sessions = Vec::new();
        let mut bytes_by_channel = vec![0u64; channels.len()];
        let mut total = 0u64;
        while total < options.size || sessions.is_empty() {
            let mut roll = rng.below(weights);
            let ci = channels
                .iter()
                .position(|(_, w)| {
                    if roll < *w {
                        true
                    } else {
                        roll -= w;
                        false
                    }
                })
                .unwrap_or(0);
            // The first sessions visit every channel once, so even a tiny dump
            // has every format.
            let ci = if sessions.len() < channels.len() { sessions.len() } else { ci };
            let channel = channels[ci].0;
            let org = rng.below(world.orgs.len() as u64) as usize;
            let start = WINDOW_START_US + (rng.below((WINDOW_US / 1000) as u64) as i64) * 1000;
            let s = if sessions.len() >= channels.len() && rng.chance(0.04) {
                session::standalone(&mut rng, &world, org, channel, start)
            } else {
                session::session(&mut rng, &mut world, org, channel, start, options.turns)
            };
            let est = estimate(&world, &s);
            bytes_by_channel[ci] += est;
            total += est;
            sessions.push(s);
        }

        // At least one orphan (a parent that was never logged), however small the dump.
        if !sessions.iter().any(|s| s.orphan_parent.is_some())
            && let Some(s) = sessions.iter_mut().find(|s| s.repo.is_some())
        {
            s.orphan_parent = Some(session::orphan_id(&mut rng, s.channel));
        }

        // Entries per channel, then shards per channel.
        let mut by_channel: Vec<Vec<Entry>> = vec![Vec::new(); channels.len()];
        let mut home_channel: Vec<usize> = Vec::with_capacity(sessions.len());
        for (si, s) in sessions.iter().enumerate() {
            let ci = channels.iter().position(|(c, _)| *c == s.channel).unwrap_or(0);
            home_channel.push(ci);
            for k in 0..s.requests.len() {
                let list = &mut by_channel[ci];
                list.push(Entry::Record { s: si, k });
                if rng.chance(0.02) {
                    list.push(Entry::Duplicate { s: si, k });
                }
                if s.channel.line_based() && rng.chance(0.004) {
                    list.push(Entry::Truncated { s: si, k });
                }
                if matches!(s.channel, Channel::Gateway | Channel::Proxy | Channel::Elastic) {
                    if rng.chance(0.002) {
                        list.push(Entry::Junk);
                    }
                    if rng.chance(0.003) {
                        list.push(Entry::Blank);
                    }
                }
            }
        }
        // Every kind of noise at least once, however small the dump.
        if let Some(ci) = channels.iter().position(|(c, _)| *c == Channel::Gateway)
            && let Some(Entry::Record { s, k }) = by_channel[ci].first().copied()
        {
            let list = &mut by_channel[ci];
            if !list.iter().any(|e| matches!(e, Entry::Duplicate { .. })) {
                list.push(Entry::Duplicate { s, k });
            }
            if !list.iter().any(|e| matches!(e, Entry::Truncated { .. })) {
                list.push(Entry::Truncated { s, k });
            }
            if !list.iter().any(|e| matches!(e, Entry::Junk)) {
                list.push(Entry::Junk);
            }
            if !list.iter().any(|e| matches!(e, Entry::Blank)) {
                list.push(Entry::Blank);
            }
        }

        let mut shards = Vec::new();
        let mut home: Vec<Vec<usize>> = sessions.iter().map(|s| vec![usize::MAX; s.requests.len()]).collect();
        for (ci, (channel, _)) in channels.iter().enumerate() {
            let entries = std::mem::take(&mut by_channel[ci]);
            if entries.is_empty() {
                continue;
            }
            let n = bytes_by_channel[ci].div_ceil(options.shard_bytes).max(1) as usize;
            let first = shards.len();
            for i in 0..n {
                let (path, compression) = shard_name(*channel, i, n, options.gzip);
                let crlf = channel.line_based() && *channel != Channel::CloudwatchExport && i % 3 == 1;
                shards.push(Shard { channel: *channel, path, compression, crlf, entries: Vec::new() });
            }
            for e in entries {
                let shard = first + rng.below(n as u64) as usize;
                if let Entry::Record { s, k } = e {
                    home[s][k] = shard;
                }
                shards[shard].entries.push(e);
            }
        }
        for (i, shard) in shards.iter_mut().enumerate() {
            Rng::stream(options.seed, i as u64 + 1).shuffle(&mut shard.entries);
        }
        Ok(Plan { seed: options.seed, history: options.history, ids: options.ids, world, sessions, shards, home })
    }

    /// Renders and writes every shard (in parallel); returns what was written.
    pub(crate) fn write(&self, dir: &Path) -> Result<Vec<ShardInfo>, Error> {
        let ctx = Ctx { world: &self.world, history: self.history, ids: self.ids };
        self.shards
            .par_iter()
            .enumerate()
            .map(|(i, shard)| {
                let mut rng = Rng::stream(self.seed ^ 0x5EED, i as u64 + 1);
                let (bytes, records) = render_shard(&ctx, &self.sessions, shard, &mut rng);
                let raw_len = bytes.len() as u64;
                let data = compress(&bytes, shard.compression);
                let path = dir.join(&shard.path);
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).map_err(|source| Error::Io { path: parent.into(), source })?;
                }
                std::fs::write(&path, &data).map_err(|source| Error::Io { path: path.clone(), source })?;
                use sha2::Digest;
                let sha256 = sha2::Sha256::digest(&data).iter().map(|b| format!("{b:02x}")).collect();
                Ok(ShardInfo {
                    path: shard.path.to_string_lossy().into_owned(),
                    format: shard.channel.format(),
                    compression: shard.compression,
                    records,
                    bytes: raw_len,
                    sha256,
                })
            })
            .collect()
    }

    /// The repository key of a session, as the evidence in its records gives it.
    pub(crate) fn repo_key(&self, s: &Session) -> Option<String> {
        let org = &self.world.orgs[s.org];
        let repo = &org.repos[s.repo?];
        Some(match repo.evidence {
            Evidence::RecordField | Evidence::Remote | Evidence::GoMod => repo.url_key(),
            Evidence::Local => format!("local/{}/{}", org.name, repo.name).to_lowercase(),
        })
    }
}

fn shard_name(channel: Channel, i: usize, n: usize, gzip: bool) -> (PathBuf, &'static str) {
    let (base, ext) = match channel {
        Channel::Gateway => (format!("dump/gateway/requests-{i:04}"), "jsonl"),
        Channel::Proxy => (format!("dump/proxy/access-json-{i:04}"), "log"),
        Channel::Elastic => (format!("dump/elastic/assist-logs-{i:04}"), "ndjson"),
        Channel::CloudwatchExport => (format!("dump/cloudwatch/aws-assist-gateway/export-{i:06}"), "log"),
        Channel::Firehose => {
            (format!("dump/firehose/2024/04/assist-gateway-firehose-1-2024-04-{:02}-{i:04}", 1 + i % 30), "")
        }
        Channel::Otlp => (format!("dump/otel/traces-{i:04}"), "jsonl"),
    };
    let compression = if channel == Channel::Firehose || gzip || (n > 1 && i == 0 && channel.line_based()) {
        "gzip"
    } else if n > 1 && i == n - 1 && channel.line_based() {
        "zstd"
    } else {
        "none"
    };
    let mut name = if ext.is_empty() { base } else { format!("{base}.{ext}") };
    match compression {
        "gzip" => name.push_str(".gz"),
        "zstd" => name.push_str(".zst"),
        _ => {}
    }
    (PathBuf::from(name), compression)
}

fn compress(bytes: &[u8], compression: &str) -> Vec<u8> {
    match compression {
        "gzip" => {
            let mut e = flate2::GzBuilder::new().mtime(0).write(Vec::new(), flate2::Compression::new(6));
            let _ = e.write_all(bytes);
            e.finish().unwrap_or_default()
        }
        "zstd" => zstd::encode_all(bytes, 3).unwrap_or_default(),
        _ => bytes.to_vec(),
    }
}

/// A stable 64-bit hash (FNV-1a), for ids derived from other ids.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// Renders one shard; returns its bytes and the records a reader will count.
fn render_shard(ctx: &Ctx<'_>, sessions: &[Session], shard: &Shard, rng: &mut Rng) -> (Vec<u8>, u64) {
    let mut out = Vec::new();
    let mut records = 0u64;
    let eol: &[u8] = if shard.crlf { b"\r\n" } else { b"\n" };
    match shard.channel {
        Channel::Firehose => {
            // Subscription records of up to 25 events, concatenated without newlines.
            for group in shard.logged().chunks(25) {
                out.extend_from_slice(br#"{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/aws/lambda/assist-gateway","logStream":"#);
                js(&mut out, &format!("2024/04/01/[$LATEST]{:016x}{:016x}", rng.next_u64(), rng.next_u64()));
                out.extend_from_slice(br#","subscriptionFilters":["to-firehose"],"logEvents":["#);
                for (j, &(s, k)) in group.iter().enumerate() {
                    let sess = &sessions[s];
                    let r = &sess.requests[k];
                    if j > 0 {
                        out.push(b',');
                    }
                    let _ = write!(
                        out,
                        "{{\"id\":\"3{:019}{:036}\",\"timestamp\":{},\"message\":",
                        fnv(&r.id) % 10u64.pow(19),
                        k,
                        r.ts / 1000
                    );
                    let mut msg = Vec::new();
                    ctx.record(&mut msg, sess, k);
                    js(&mut out, std::str::from_utf8(&msg).unwrap_or_default());
                    out.push(b'}');
                    records += 1;
                }
                out.extend_from_slice(b"]}");
            }
        }
        Channel::Otlp => {
            for group in shard.logged().chunks(20) {
                out.extend_from_slice(br#"{"resourceSpans":["#);
                for (j, &(s, k)) in group.iter().enumerate() {
                    let sess = &sessions[s];
                    if j > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(br#"{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"assist-gateway"}},{"key":"tenant.id","value":{"stringValue":"#);
                    js(&mut out, &ctx.world.orgs[sess.org].name);
                    out.extend_from_slice(
                        br#"}}]},"scopeSpans":[{"scope":{"name":"assist.gateway","version":"1.4.2"},"spans":["#,
                    );
                    ctx.span(&mut out, sess, k);
                    out.extend_from_slice(b"]}]}");
                    records += 1;
                }
                out.extend_from_slice(b"]}\n");
            }
        }
        _ => {
            let mut line = Vec::new();
            for e in &shard.entries {
                match *e {
                    Entry::Record { s, k } | Entry::Duplicate { s, k } => {
                        ctx.record(&mut out, &sessions[s], k);
                        records += 1;
                    }
                    Entry::Truncated { s, k } => {
                        line.clear();
                        ctx.record(&mut line, &sessions[s], k);
                        // Cut inside the JSON, past a CloudWatch line's timestamp.
                        let cut = 30 + rng.below(line.len().saturating_sub(32).max(1) as u64) as usize;
                        out.extend_from_slice(&line[..cut.min(line.len().saturating_sub(2))]);
                        records += 1;
                    }
                    Entry::Junk => {
                        let n = rng.range(12, 160) as usize;
                        out.extend_from_slice(b"\x00\x17\x03\x03");
                        out.extend(rng.bytes(n).into_iter().map(|b| if b == b'\n' || b == b'\r' { 0xff } else { b }));
                        records += 1;
                    }
                    Entry::Blank => {
                        if rng.chance(0.5) {
                            out.extend_from_slice(b"   \t");
                        }
                    }
                }
                out.extend_from_slice(eol);
            }
        }
    }
    let _ = rfc3339_ms;
    (out, records)
}
