//! Request chains on synthetic dumps: each chain's requests in order, each
//! chain's details adding up to the inventory, and the Timesketch timeline.

use std::collections::HashMap;

use leakledger_synth::Options;

fn analysed(options: &Options) -> (leakledger_synth::Truth, leakledger::Analysis) {
    let dir = tempfile::tempdir().unwrap();
    let truth = leakledger_synth::generate(dir.path(), options).unwrap();
    let dump = leakledger::Dump::open(&[dir.path().join("dump")], &leakledger::Options::new()).unwrap();
    (truth, leakledger::analyse(&dump))
}

fn small(seed: u64) -> Options {
    Options::new().size(3 << 20).orgs(10).seed(seed).shard_bytes(256 << 10)
}

#[test]
fn chains_walk_parents_first_and_add_up_to_the_inventory() {
    let mut skewed = 0;
    for seed in [3, 11, 19, 27] {
        let (truth, a) = analysed(&small(seed));
        let s = &a.summary;
        assert_eq!((s.chains.total, s.chains.skewed), (truth.chains.total, truth.chains.skewed), "seed {seed}");
        skewed += truth.chains.skewed;
        assert_eq!(a.chain_entries.len() as u64, s.chains.total);
        let mut seen = 0u64;
        for c in &a.chain_entries {
            let reqs: Vec<_> = a.requests.chain(c.id).collect();
            assert_eq!(reqs.len() as u64, c.requests);
            seen += c.requests;
            // One session: one organisation and one user, as the generator made it.
            assert!(reqs.iter().all(|r| r.org == c.org && r.user == c.user), "chain {}", c.id);
            assert!(!c.org.is_empty() && !c.sources.is_empty());
            // Times grow along the chain except where a clock was skewed.
            let backwards = reqs.windows(2).filter(|w| w[1].time < w[0].time).count() as u64;
            assert_eq!(backwards, c.skewed, "chain {}", c.id);
            assert_eq!(
                (c.first, c.last),
                (reqs.iter().filter_map(|r| r.time).min(), reqs.iter().filter_map(|r| r.time).max())
            );
        }
        assert_eq!(seen, a.requests.len() as u64);
        // Everything exposed was first exposed in exactly one chain.
        let sum = |f: fn(&leakledger::ChainEntry) -> u64| a.chain_entries.iter().map(f).sum::<u64>();
        assert_eq!(sum(|c| c.files), s.exposure.files);
        assert_eq!(sum(|c| c.code_bytes), s.exposure.code_bytes);
        assert_eq!(sum(|c| c.secrets.len() as u64), s.secrets.distinct);
    }
    assert!(skewed > 0, "the generator skews some clocks");
}

#[test]
fn the_timeline_is_what_timesketch_imports() {
    let (_, a) = analysed(&small(5));
    let mut out = Vec::new();
    let w = leakledger::timeline::write(&a, &mut out).unwrap();
    assert_eq!(w.events + w.untimed, a.requests.len() as u64);
    assert_eq!(w.untimed, 0, "every synthetic record has a time");
    let text = String::from_utf8(out).unwrap();
    let mut last = i64::MIN;
    let mut per_chain: HashMap<u64, u64> = HashMap::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        // Timesketch's mandatory fields (docs: import-from-json-csv), and the
        // optional `timestamp` in microseconds since the epoch.
        let message = v["message"].as_str().unwrap();
        assert!(!message.is_empty());
        assert_eq!(v["timestamp_desc"], "Request logged");
        let dt = v["datetime"].as_str().unwrap();
        let parsed = chrono::DateTime::parse_from_rfc3339(dt).unwrap();
        assert!(dt.ends_with("+00:00") && dt.len() == "2024-05-01T12:00:00.000000+00:00".len(), "{dt}");
        let ts = v["timestamp"].as_i64().unwrap();
        assert_eq!(parsed.timestamp_micros(), ts);
        assert!(ts >= last, "events in time order");
        last = ts;
        for field in ["org", "user", "repository", "source"] {
            assert!(v[field].is_string(), "{field}");
        }
        *per_chain.entry(v["chain"].as_u64().unwrap()).or_default() += 1;
        assert!(v["line"].as_u64().unwrap() >= 1);
    }
    assert_eq!(per_chain.len() as u64, a.summary.chains.total);
}

/// Splits `a`'s requests by chain in dump order: `chain[i]` for request `i`.
fn chain_of(a: &leakledger::Analysis) -> Vec<u32> {
    a.requests.iter().map(|r| r.chain).collect()
}

#[test]
fn without_ids_chains_are_found_from_the_conversations() {
    // The same plan logged with and without session and parent ids: the same
    // records in the same order, so request `i` is the same request in both.
    let (mut links, mut found, mut false_merges) = (0u64, 0u64, 0u64);
    for seed in [3, 8, 13, 21] {
        let (truth, with) = analysed(&small(seed));
        let (stripped_truth, without) = analysed(&small(seed).ids(false));
        assert_eq!(with.summary.chains.total, truth.chains.total, "seed {seed}");
        assert_eq!(stripped_truth.chains.total, truth.chains.total);
        assert_eq!(without.summary.chains.orphans, 0, "no parent is named");
        assert_eq!(with.requests.len(), without.requests.len());
        let (p, q) = (chain_of(&with), chain_of(&without));
        // With ids the chains are the sessions (checked against truth above).
        // A true link joins two requests of one session; it is recovered when
        // the id-less analysis keeps them together too.
        let mut by_session: HashMap<u32, Vec<usize>> = HashMap::new();
        for (i, &c) in p.iter().enumerate() {
            by_session.entry(c).or_default().push(i);
        }
        for members in by_session.values() {
            let pieces: std::collections::HashSet<u32> = members.iter().map(|&i| q[i]).collect();
            links += members.len() as u64 - 1;
            found += members.len() as u64 - pieces.len() as u64;
        }
        // A false merge joins two sessions in one id-less chain.
        let mut by_found: HashMap<u32, std::collections::HashSet<u32>> = HashMap::new();
        for (i, &c) in q.iter().enumerate() {
            by_found.entry(c).or_default().insert(p[i]);
        }
        false_merges += by_found.values().map(|s| s.len() as u64 - 1).sum::<u64>();
        // No link crosses organisations or users.
        for c in &without.chain_entries {
            assert!(without.requests.chain(c.id).all(|r| r.org == c.org && r.user == c.user), "chain {}", c.id);
        }
        assert!(without.summary.chains.history_links > 0);
    }
    assert!(links > 300, "enough links to measure: {links}");
    // The issue's bar: at least 99% of the true links, and no false merge.
    assert!(found * 100 >= links * 99, "recovered {found} of {links} links");
    assert_eq!(false_merges, 0);
}

#[test]
fn a_request_logged_in_several_files_is_one_request_and_a_changed_body_is_another() {
    let dir = tempfile::tempdir().unwrap();
    let rec = |id: &str, text: &str| {
        format!(
            r#"{{"ts":1714564800,"request_id":"{id}","org_id":"acme","body":{{"messages":[{{"role":"user","content":"{text}"}}]}}}}"#
        )
    };
    // r1 three times over three files (each its own worker), r1 again with
    // another body (a distinct request that shares the id), and r2 once.
    std::fs::write(dir.path().join("a.jsonl"), rec("r1", "hello") + "\n" + &rec("r2", "x") + "\n").unwrap();
    std::fs::write(dir.path().join("b.jsonl"), rec("r1", "hello") + "\n").unwrap();
    std::fs::write(dir.path().join("c.jsonl"), rec("r1", "hello") + "\n" + &rec("r1", "changed") + "\n").unwrap();
    let dump = leakledger::Dump::open(&[dir.path()], &leakledger::Options::new()).unwrap();
    let a = leakledger::analyse(&dump);
    assert_eq!(a.summary.records.total, 5);
    assert_eq!(a.summary.records.duplicates, 2);
    assert_eq!(a.requests.len(), 3, "r1, r1 changed, r2");
    // The copy that stays is the first in dump order.
    let first = a.requests.get(0).unwrap();
    assert_eq!((first.location.source.0, first.location.offset), (0, 0));
}

#[test]
fn every_one_of_150_000_requests_is_kept_and_linked_whatever_the_threads() {
    // 150,000 requests in pairs that name no parent: the second resends the
    // first's conversation and adds a turn, so it is linked by the history
    // prefixes its partial kept beside it. One thread holds them all in one
    // partial; chunks of 64 KiB on two threads spread them over many partials
    // merged in a tree. Every request is kept and every pair linked.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("requests.jsonl");
    let mut text = String::with_capacity(150_000 * 220);
    for i in 0..150_000u32 {
        let k = i / 2;
        let messages = if i % 2 == 0 {
            format!("{{\"role\":\"user\",\"content\":\"question {k}\"}}")
        } else {
            format!(
                "{{\"role\":\"user\",\"content\":\"question {k}\"}},{{\"role\":\"assistant\",\"content\":\"answer {k}\"}},{{\"role\":\"user\",\"content\":\"more {k}\"}}"
            )
        };
        text.push_str(&format!(
            "{{\"timestamp\":\"2024-05-01T08:00:{:02}.000Z\",\"request_id\":\"r{i}\",\"org_id\":\"org-{}\",\"body\":{{\"messages\":[{messages}]}}}}\n",
            i % 2,
            k % 7
        ));
    }
    std::fs::write(&path, text).unwrap();
    let analyse = |threads: usize, chunk: usize| {
        let options = leakledger::Options::new().threads(Some(threads)).chunk_size(chunk);
        leakledger::analyse(&leakledger::Dump::open(std::slice::from_ref(&path), &options).unwrap())
    };
    let one = analyse(1, 4 << 20);
    assert_eq!(one.requests.len(), 150_000);
    let c = &one.summary.chains;
    assert_eq!((c.total, c.max_length, c.history_links, c.orphans), (75_000, 2, 75_000, 0));
    let two = analyse(2, 64 << 10);
    assert_eq!(two.summary, one.summary);
    assert_eq!(two.chain_entries, one.chain_entries);
}
