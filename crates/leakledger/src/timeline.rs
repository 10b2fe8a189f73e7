//! The forensic timeline as Timesketch imports it: JSON lines, one event per
//! request, with the mandatory `message`, `datetime` (ISO 8601 with offset) and
//! `timestamp_desc`, the optional `timestamp` (microseconds), and fields for
//! filtering (organisation, user, chain, repository, exposures, evidence).

use std::io::{self, Write};

use serde::Serialize;

use crate::Analysis;

/// What [`write`] wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// Events written.
    pub events: u64,
    /// Requests left out because their record has no time (Timesketch needs one).
    pub untimed: u64,
}

#[derive(Serialize)]
struct Event<'a> {
    message: String,
    datetime: String,
    timestamp: i64,
    timestamp_desc: &'static str,
    org: &'a str,
    user: &'a str,
    chain: u32,
    repository: &'a str,
    files: u32,
    secrets: u32,
    source: String,
    offset: u64,
    line: Option<u64>,
}

/// `t` (microseconds since the epoch) as Timesketch's `datetime`:
/// `2024-05-01T12:00:00.000000+00:00`.
pub fn datetime(t: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_micros(t).map(|d| d.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string())
}

/// Writes one event per timed request, in time order (ties in dump order).
/// Strings from the dump are JSON-escaped; no secret value is written (only counts).
pub fn write(analysis: &Analysis, mut out: impl Write) -> io::Result<Written> {
    let mut timed: Vec<_> = analysis.requests.iter().filter(|r| r.time.is_some()).collect();
    let untimed = (analysis.requests.len() - timed.len()) as u64;
    timed.sort_by_key(|r| (r.time, r.index));
    let sources = &analysis.scan.sources;
    // Each request's place in its chain (1-based).
    let mut place = vec![0u32; analysis.requests.len()];
    if let Some(o) = analysis.requests.order() {
        for c in 0..o.starts.len().saturating_sub(1) {
            for (k, &i) in o.chain(c as u32).iter().enumerate() {
                place[i as usize] = k as u32 + 1;
            }
        }
    }
    for r in &timed {
        let t = r.time.unwrap_or_default();
        let chain = analysis.chain_entries.get(r.chain as usize);
        let repository = chain.map_or("", |c| c.repository.as_str());
        let who = match (r.org, r.user) {
            ("", "") => "unknown".to_string(),
            (o, "") => o.to_string(),
            ("", u) => u.to_string(),
            (o, u) => format!("{o}/{u}"),
        };
        let message = format!(
            "{who}: request {} of chain {} exposed {} file(s) and {} secret(s){}",
            place[r.index as usize],
            r.chain,
            r.files,
            r.secrets,
            if repository.is_empty() { String::new() } else { format!(" from {repository}") },
        );
        let event = Event {
            message,
            datetime: datetime(t).unwrap_or_default(),
            timestamp: t,
            timestamp_desc: "Request logged",
            org: r.org,
            user: r.user,
            chain: r.chain,
            repository,
            files: r.files,
            secrets: r.secrets,
            source: sources.get(r.location.source.0 as usize).map(|s| s.path.display().to_string()).unwrap_or_default(),
            offset: r.location.offset,
            line: analysis.scan.line(&r.location),
        };
        serde_json::to_writer(&mut out, &event)?;
        out.write_all(b"\n")?;
    }
    Ok(Written { events: timed.len() as u64, untimed })
}
