//! The synthetic generator: deterministic to the byte, and its truth.json agrees
//! with an independent reader built on serde_json (not on leakledger's parser),
//! and with `leakledger::analyse`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::path::Path;

use leakledger_synth::{Options, Truth};
use serde_json::Value;

fn read_shard(path: &Path) -> Vec<u8> {
    let raw = std::fs::read(path).unwrap();
    let mut out = Vec::new();
    match path.extension().and_then(|e| e.to_str()) {
        Some("gz") => {
            flate2::read::MultiGzDecoder::new(&raw[..]).read_to_end(&mut out).unwrap();
        }
        Some("zst") => out = zstd::decode_all(&raw[..]).unwrap(),
        _ => out = raw,
    }
    out
}

/// What the reference reader finds.
#[derive(Debug, Default)]
struct Reference {
    total: u64,
    malformed: u64,
    duplicates: u64,
    first: Option<i64>,
    last: Option<i64>,
    /// request id -> (trace id, parent id)
    requests: BTreeMap<String, (Option<String>, Option<String>)>,
    per_shard: Vec<u64>,
}

fn s(v: &Value) -> Option<String> {
    v.as_str().filter(|s| !s.is_empty()).map(str::to_string)
}

fn rfc3339_ms(t: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(t).unwrap().timestamp_micros()
}

impl Reference {
    fn time(&mut self, us: i64) {
        self.first = Some(self.first.map_or(us, |f| f.min(us)));
        self.last = Some(self.last.map_or(us, |l| l.max(us)));
    }

    /// Counts one record: (request id, trace, parent, body as text, time).
    fn record(
        &mut self,
        seen: &mut BTreeSet<(String, String)>,
        id: String,
        trace: Option<String>,
        parent: Option<String>,
        body: String,
        us: i64,
    ) {
        self.total += 1;
        self.time(us);
        if !seen.insert((id.clone(), body)) {
            self.duplicates += 1;
            return;
        }
        self.requests.insert(id, (trace, parent));
    }

    fn read(dir: &Path, truth: &Truth) -> Reference {
        let mut r = Reference::default();
        let mut seen = BTreeSet::new();
        for shard in &truth.shards {
            let before = r.total;
            let bytes = read_shard(&dir.join(&shard.path));
            let name = &shard.path;
            if name.contains("firehose") {
                for doc in serde_json::Deserializer::from_slice(&bytes).into_iter::<Value>() {
                    let doc = doc.unwrap();
                    for ev in doc["logEvents"].as_array().unwrap() {
                        let m: Value = serde_json::from_str(ev["message"].as_str().unwrap()).unwrap();
                        let body = m["body"].to_string();
                        r.record(
                            &mut seen,
                            s(&m["request_id"]).unwrap(),
                            s(&m["conversation_id"]),
                            s(&m["parent_id"]),
                            body,
                            ev["timestamp"].as_i64().unwrap() * 1000,
                        );
                    }
                }
            } else if name.contains("otel") {
                for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                    let doc: Value = serde_json::from_slice(line).unwrap();
                    for rs in doc["resourceSpans"].as_array().unwrap() {
                        for ss in rs["scopeSpans"].as_array().unwrap() {
                            for span in ss["spans"].as_array().unwrap() {
                                let ns: i64 = span["startTimeUnixNano"].as_str().unwrap().parse().unwrap();
                                r.record(
                                    &mut seen,
                                    s(&span["spanId"]).unwrap(),
                                    s(&span["traceId"]),
                                    s(&span["parentSpanId"]),
                                    span.to_string(),
                                    ns / 1000,
                                );
                            }
                        }
                    }
                }
            } else {
                for line in bytes.split(|&b| b == b'\n') {
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    if line.iter().all(|b| b.is_ascii_whitespace()) {
                        continue;
                    }
                    let (ts_prefix, json) = if name.contains("cloudwatch") {
                        let sp = line.iter().position(|&b| b == b' ').unwrap_or(0);
                        (Some(std::str::from_utf8(&line[..sp]).unwrap_or("")), &line[sp + 1..])
                    } else {
                        (None, line)
                    };
                    let Ok(v) = serde_json::from_slice::<Value>(json) else {
                        r.total += 1;
                        r.malformed += 1;
                        continue;
                    };
                    let (id, trace, parent, body, us) = if let Some(ts) = ts_prefix {
                        (
                            s(&v["requestId"]),
                            s(&v["sessionId"]),
                            s(&v["parent_request_id"]),
                            v["request_body"].to_string(),
                            rfc3339_ms(ts),
                        )
                    } else if v.get("timestamp").is_some() {
                        (
                            s(&v["request_id"]),
                            s(&v["session_id"]),
                            s(&v["parent_request_id"]),
                            v["body"].to_string(),
                            rfc3339_ms(v["timestamp"].as_str().unwrap()),
                        )
                    } else if v.get("ts").is_some() {
                        (
                            s(&v["requestId"]),
                            s(&v["traceId"]),
                            s(&v["parent_id"]),
                            v["payload"].to_string(),
                            v["ts"].as_i64().unwrap() * 1000,
                        )
                    } else {
                        (
                            s(&v["http"]["request"]["id"]),
                            s(&v["trace"]["id"]),
                            s(&v["parent"]["id"]),
                            v["request"].to_string(),
                            rfc3339_ms(v["@timestamp"].as_str().unwrap()),
                        )
                    };
                    r.record(&mut seen, id.unwrap(), trace, parent, body, us);
                }
            }
            r.per_shard.push(r.total - before);
        }
        r
    }

    /// Chains by union of trace groups and parent links: (total, orphans, max length).
    fn chains(&self) -> (u64, u64, u64) {
        let ids: Vec<&String> = self.requests.keys().collect();
        let index: HashMap<&String, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        let mut parent: Vec<usize> = (0..ids.len()).collect();
        fn find(p: &mut [usize], mut x: usize) -> usize {
            while p[x] != x {
                p[x] = p[p[x]];
                x = p[x];
            }
            x
        }
        let mut by_trace: HashMap<&String, usize> = HashMap::new();
        let mut orphans = 0;
        for (i, id) in ids.iter().enumerate() {
            let (trace, par) = &self.requests[*id];
            if let Some(t) = trace {
                let j = *by_trace.entry(t).or_insert(i);
                let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                parent[a] = b;
            }
            if let Some(p) = par {
                match index.get(p) {
                    Some(&j) => {
                        let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                        parent[a] = b;
                    }
                    None => orphans += 1,
                }
            }
        }
        let mut sizes: HashMap<usize, u64> = HashMap::new();
        for i in 0..ids.len() {
            *sizes.entry(find(&mut parent, i)).or_default() += 1;
        }
        (sizes.len() as u64, orphans, sizes.values().copied().max().unwrap_or(0))
    }
}

fn generate(dir: &Path, options: &Options) -> Truth {
    leakledger_synth::generate(dir, options).expect("generate")
}

fn small() -> Options {
    Options::new().size(3 << 20).orgs(12).seed(11).shard_bytes(256 << 10)
}

#[test]
fn truth_agrees_with_an_independent_reader() {
    let dir = tempfile::tempdir().unwrap();
    let truth = generate(dir.path(), &small());
    let r = Reference::read(dir.path(), &truth);
    assert_eq!(
        (r.total, r.malformed, r.duplicates),
        (truth.records.total, truth.records.malformed, truth.records.duplicates)
    );
    let per_shard: Vec<u64> = truth.shards.iter().map(|s| s.records).collect();
    assert_eq!(r.per_shard, per_shard);
    let (chains, orphans, max_length) = r.chains();
    assert_eq!((chains, orphans, max_length), (truth.chains.total, truth.chains.orphans, truth.chains.max_length));
    let fmt = |t: Option<i64>| t.map(leakledger::time::format_rfc3339);
    assert_eq!((fmt(r.first), fmt(r.last)), (truth.window.first.clone(), truth.window.last.clone()));
    // Every kind of noise is there.
    assert!(truth.records.malformed > 0 && truth.records.duplicates > 0 && truth.chains.orphans > 0);
    let formats: BTreeSet<&str> = truth.shards.iter().map(|s| s.format).collect();
    assert_eq!(formats, BTreeSet::from(["cloudwatch", "jsonl", "otlp"]));
    let compressions: BTreeSet<&str> = truth.shards.iter().map(|s| s.compression).collect();
    assert_eq!(compressions, BTreeSet::from(["gzip", "none", "zstd"]));
    // The secrets' first sightings name a request in the named shard.
    for secret in truth.secrets.list.iter().take(50) {
        let bytes = read_shard(&dir.path().join(&secret.first_shard));
        assert!(memchr::memmem::find(&bytes, secret.first_request.as_bytes()).is_some(), "{}", secret.first_request);
    }
    assert_eq!(truth.secrets.list.len() as u64, truth.secrets.distinct);
    assert_eq!(truth.secrets.list.iter().map(|s| s.occurrences).sum::<u64>(), truth.secrets.occurrences);
}

#[test]
fn the_scanner_counts_what_the_truth_says() {
    let dir = tempfile::tempdir().unwrap();
    let truth = generate(dir.path(), &small().seed(12).gzip(true));
    let dump = leakledger::Dump::open(&[dir.path().join("dump")], &leakledger::Options::new()).unwrap();
    let s = leakledger::analyse(&dump).summary;
    assert_eq!(
        (s.records.total, s.records.malformed, s.records.duplicates),
        (truth.records.total, truth.records.malformed, truth.records.duplicates)
    );
    assert_eq!((s.window.first, s.window.last), (truth.window.first, truth.window.last));
}

#[test]
fn the_same_seed_gives_the_same_bytes_on_any_thread_count() {
    let hashes = |threads: usize| {
        let dir = tempfile::tempdir().unwrap();
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let truth = pool.install(|| generate(dir.path(), &small().seed(5)));
        let truth_json = std::fs::read(dir.path().join("truth.json")).unwrap();
        (truth.shards.iter().map(|s| (s.path.clone(), s.sha256.clone())).collect::<Vec<_>>(), truth_json)
    };
    let a = hashes(1);
    assert_eq!(a, hashes(2));
    let dir = tempfile::tempdir().unwrap();
    let other = generate(dir.path(), &small().seed(6));
    assert_ne!(a.0, other.shards.iter().map(|s| (s.path.clone(), s.sha256.clone())).collect::<Vec<_>>());
}

/// The options the committed sample was made with (see notebooks-data/README.md).
fn sample_options() -> Options {
    Options::new().size(3 << 20).orgs(12).seed(20_240_501).shard_bytes(512 << 10)
}

#[test]
fn the_committed_sample_is_what_the_generator_makes_today() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../notebooks-data/sample-dump");
    let dir = tempfile::tempdir().unwrap();
    generate(dir.path(), &sample_options());
    let fresh = std::fs::read(dir.path().join("truth.json")).unwrap();
    let old = std::fs::read(committed.join("truth.json")).expect("committed truth.json");
    let first_diff = String::from_utf8_lossy(&fresh)
        .lines()
        .zip(String::from_utf8_lossy(&old).lines())
        .enumerate()
        .find(|(_, (a, b))| a != b)
        .map(|(i, (a, b))| format!("line {}: now {a:?}, committed {b:?}", i + 1));
    assert!(
        fresh == old,
        "truth.json differs ({first_diff:?}): regenerate with `leakledger synth -o notebooks-data/sample-dump --size 3MiB --orgs 12 --seed 20240501 --shard-size 512KiB`"
    );
    let truth: serde_json::Value = serde_json::from_slice(&old).unwrap();
    let mut total = 0;
    for shard in truth["shards"].as_array().unwrap() {
        let rel = shard["path"].as_str().unwrap();
        let a = std::fs::read(dir.path().join(rel)).unwrap();
        let b = std::fs::read(committed.join(rel)).unwrap();
        assert!(a == b, "{rel} differs from the generator's output");
        total += b.len();
    }
    assert!(total <= 5 << 20, "the sample must stay small: {total} bytes");
}

#[test]
fn formats_can_be_chosen() {
    let dir = tempfile::tempdir().unwrap();
    let truth = generate(dir.path(), &Options::new().size(256 << 10).orgs(3).formats(&["otlp"]));
    assert!(truth.shards.iter().all(|s| s.format == "otlp"));
    assert!(leakledger_synth::generate(dir.path(), &Options::new().formats(&["yaml"])).is_err());
}
