//! The exposure inventory and the chains against the generator's ground truth:
//! every counter, and the sets of files and repositories themselves.

use std::collections::BTreeSet;
use std::path::Path;

use leakledger_synth::{Options, Truth};

fn analyse(dir: &Path) -> leakledger::Analysis {
    let dump = leakledger::Dump::open(&[dir.join("dump")], &leakledger::Options::new()).unwrap();
    leakledger::analyse(&dump)
}

fn check(options: &Options) -> (Truth, leakledger::Analysis) {
    let dir = tempfile::tempdir().unwrap();
    let truth = leakledger_synth::generate(dir.path(), options).unwrap();
    let a = analyse(dir.path());
    let s = &a.summary;
    let e = &s.exposure;
    let t = &truth.exposure;
    let label = format!("{:?}", truth.generator);
    assert_eq!(
        (s.records.total, s.records.malformed, s.records.duplicates),
        (truth.records.total, truth.records.malformed, truth.records.duplicates),
        "{label}"
    );
    assert_eq!(
        (s.chains.total, s.chains.orphans, s.chains.max_length, s.chains.skewed, s.chains.cycles),
        (truth.chains.total, truth.chains.orphans, truth.chains.max_length, truth.chains.skewed, truth.chains.cycles),
        "{label}"
    );
    let repos: BTreeSet<String> = a.inventory.repositories().iter().map(|r| r.key.clone()).collect();
    let want_repos: BTreeSet<String> = truth.inventory.repositories.iter().cloned().collect();
    assert_eq!(repos, want_repos, "{label}");
    let files: BTreeSet<(String, String)> =
        a.inventory.files().iter().map(|f| (f.repository.clone(), f.path.clone())).collect();
    let want_files: BTreeSet<(String, String)> = truth.inventory.files.iter().cloned().collect();
    let missing: Vec<_> = want_files.difference(&files).take(5).collect();
    let extra: Vec<_> = files.difference(&want_files).take(5).collect();
    assert!(missing.is_empty() && extra.is_empty(), "{label}: missing {missing:?}, extra {extra:?}");
    assert_eq!(
        (e.organizations, e.repositories, e.files, e.paths, e.code_bytes),
        (t.organizations, t.repositories, t.files, t.paths, t.code_bytes),
        "{label}"
    );
    assert_eq!(e.languages, t.languages, "{label}");
    let (got, want) = (&s.secrets, &truth.secrets);
    assert_eq!(
        (got.distinct, got.occurrences, &got.by_severity, &got.by_kind),
        (want.distinct, want.occurrences, &want.by_severity, &want.by_kind),
        "{label}"
    );
    // Secret by secret (without values): the multiset of (kind, occurrences).
    let mut mine: Vec<(String, u64)> =
        a.inventory.secrets().iter().map(|e| (e.found.kind.to_string(), e.occurrences)).collect();
    let mut theirs: Vec<(String, u64)> = want.list.iter().map(|e| (e.kind.clone(), e.occurrences)).collect();
    mine.sort();
    theirs.sort();
    assert_eq!(mine, theirs, "{label}");
    (truth, a)
}

fn small(seed: u64) -> Options {
    Options::new().size(2 << 20).orgs(10).seed(seed).shard_bytes(256 << 10)
}

#[test]
fn every_format_alone_and_mixed() {
    for (seed, formats) in [
        (21, &["jsonl"][..]),
        (22, &["cloudwatch"][..]),
        (23, &["otlp"][..]),
        (24, &["jsonl", "cloudwatch", "otlp"][..]),
    ] {
        check(&small(seed).formats(formats));
    }
}

#[test]
fn gzip_everything() {
    check(&small(25).gzip(true));
}

#[test]
fn resending_the_history_changes_nothing_of_what_leaked() {
    let (with, _) = check(&small(26));
    let (without, _) = check(&small(26).history(false));
    assert_eq!(with.exposure, without.exposure);
    assert_eq!(with.inventory, without.inventory);
    assert_eq!(with.chains, without.chains);
    // The records differ: the history is what makes requests grow.
    let size = |t: &Truth| t.shards.iter().map(|s| s.bytes).sum::<u64>();
    assert!(size(&with) > 2 * size(&without));
}

#[test]
fn long_agent_loops_count_what_the_truth_says() {
    // Sessions of up to 60 turns: each request re-sends a longer history.
    let (truth, _) = check(&small(27).turns(60));
    assert!((13..=60).contains(&truth.chains.max_length), "{}", truth.chains.max_length);
}

#[test]
fn decoys_are_not_exposure() {
    let dir = tempfile::tempdir().unwrap();
    let body = serde_json::json!({
        "system": "Working directory: /home/u/src/billing",
        "messages": [
            {"role": "user", "content": "This looks like https://github.com/kubernetes/kubernetes/issues/123 and my dependency https://gitlab.com/x/y; the File: header is fine."},
            {"role": "user", "content": "```python\nprint('no path here')\n```"},
        ]
    });
    let line = serde_json::json!({"request_id": "r1", "org": "acme", "body": body}).to_string();
    std::fs::write(dir.path().join("a.jsonl"), line + "\n").unwrap();
    let dump = leakledger::Dump::open(&[dir.path()], &leakledger::Options::new()).unwrap();
    let a = leakledger::analyse(&dump);
    let repos: Vec<&str> = a.inventory.repositories().iter().map(|r| r.key.as_str()).collect();
    assert_eq!(repos, ["local/acme/billing"]);
    assert_eq!((a.summary.exposure.files, a.summary.exposure.paths, a.summary.exposure.code_bytes), (0, 0, 0));
}

#[test]
fn evidence_points_at_the_first_record() {
    let dir = tempfile::tempdir().unwrap();
    let truth = leakledger_synth::generate(dir.path(), &small(27).formats(&["jsonl"])).unwrap();
    let a = analyse(dir.path());
    assert_eq!(a.inventory.files().len() as u64, truth.exposure.files);
    for f in a.inventory.files() {
        let src = &a.scan.sources[f.first.source.0 as usize];
        assert!(f.first.offset < src.bytes, "{}: offset {} beyond {}", f.path, f.first.offset, src.bytes);
        assert!(a.scan.line(&f.first).is_some());
    }
    // Per organisation, files add up.
    let by_org: u64 = a.inventory.organizations().iter().map(|o| a.inventory.files_of(o).count() as u64).sum();
    assert_eq!(by_org, truth.exposure.files);
}

#[test]
fn the_answer_does_not_depend_on_threads_chunks_or_merge_order() {
    let dir = tempfile::tempdir().unwrap();
    leakledger_synth::generate(dir.path(), &small(28)).unwrap();
    let summary = |threads: usize, chunk: usize| {
        let options = leakledger::Options::new().threads(Some(threads)).chunk_size(chunk);
        let dump = leakledger::Dump::open(&[dir.path().join("dump")], &options).unwrap();
        leakledger::analyse(&dump).summary
    };
    let reference = summary(1, 4 << 20);
    for (threads, chunk) in [(2, 4 << 20), (2, 4096), (1, 1000), (3, 65_536)] {
        assert_eq!(summary(threads, chunk), reference, "{threads} threads, {chunk}-byte chunks");
    }
}

#[test]
fn proprietary_identifiers_are_counted_per_organisation() {
    let dir = tempfile::tempdir().unwrap();
    let rec = |id: &str, org: &str, code: &str| {
        let body = serde_json::json!({"system": "Working directory: /w/app", "messages": [{"role": "user", "content": format!("// File: src/A.java\n{code}")}]});
        serde_json::json!({"request_id": id, "org": org, "body": body}).to_string() + "\n"
    };
    let content = rec("r1", "mycorp", "package com.mycorp.payments;\nimport com.mycorp.ledger.Entry;\n")
        + &rec("r2", "mycorp", "package com.mycorp.payments;\n")
        + &rec("r3", "other", "import com.mycorp.payments.Client;\n")
        + &rec("r4", "other", "package org.example;\n");
    std::fs::write(dir.path().join("a.jsonl"), content).unwrap();
    let dump = leakledger::Dump::open(&[dir.path()], &leakledger::Options::new()).unwrap();
    let config = leakledger::Config { identifiers: vec!["com.mycorp.".into()], ..Default::default() };
    let a = leakledger::analyse_with(&dump, &config);
    let found: Vec<(String, String, u64)> =
        a.inventory.identifiers().into_iter().map(|(o, i, e)| (o.to_string(), i.to_string(), e.occurrences)).collect();
    assert_eq!(
        found,
        [
            ("mycorp".to_string(), "com.mycorp.ledger.Entry".to_string(), 1),
            ("mycorp".to_string(), "com.mycorp.payments".to_string(), 2),
            ("other".to_string(), "com.mycorp.payments.Client".to_string(), 1),
        ]
    );
    assert_eq!(a.summary.exposure.identifiers, 3);
    assert_eq!(leakledger::analyse(&dump).summary.exposure.identifiers, 0);
}

mod hostile {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, RngSeed};

    /// Fragments that steer the payload walker and the detectors.
    fn fragment() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("```".to_string()),
            Just("```java src/A.java\n".to_string()),
            Just("// File: ".to_string()),
            Just("diff --git a/x b/x\n".to_string()),
            Just("Working directory: ".to_string()),
            Just("-----BEGIN PRIVATE KEY-----\\n".to_string()), // a fake header
            Just("-----END PRIVATE KEY-----".to_string()),
            Just("eyJhbGciOi.eyJzdWIiOi.".to_string()),
            Just("AKIA".to_string()),
            Just("ghp_".to_string()),
            Just("secret=".to_string()),
            Just("postgres://u:".to_string()),
            Just("origin\t".to_string()),
            Just(" (fetch)\n".to_string()),
            Just("module ".to_string()),
            Just("C:\\\\".to_string()),
            Just("../".to_string()),
            Just("\n".to_string()),
            "[a-zA-Z0-9/+=_.:@-]{0,40}",
            any::<String>(),
        ]
    }

    fn text() -> impl Strategy<Value = String> {
        proptest::collection::vec(fragment(), 0..12).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(Config { cases: 96, rng_seed: RngSeed::Fixed(77), failure_persistence: None, ..Config::default() })]

        /// Whatever the texts hold, the analysis finishes and its counts hold together.
        #[test]
        fn any_conversation_is_analysed_without_panic(
            system in text(), user in text(), result in text(), path in text(), args in text(), nested in any::<bool>(),
        ) {
            let body = serde_json::json!({
                "system": system,
                "messages": [
                    {"role": "user", "content": user},
                    {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "Read", "input": {"file_path": path}}]},
                    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": result}]},
                    {"role": "assistant", "content": null, "tool_calls": [{"id": "c", "function": {"name": "read_file", "arguments": args}}]},
                ]
            });
            let body = if nested { serde_json::Value::String(body.to_string()) } else { body };
            let line = serde_json::json!({"request_id": "r", "org": "o", "body": body}).to_string();
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("h.jsonl"), line + "\n").unwrap();
            let dump = leakledger::Dump::open(&[dir.path()], &leakledger::Options::new()).unwrap();
            let a = leakledger::analyse(&dump);
            prop_assert_eq!(a.summary.records.total, 1);
            prop_assert!(a.summary.exposure.files <= a.summary.exposure.paths);
            prop_assert_eq!(a.summary.secrets.distinct, a.inventory.secrets().len() as u64);
        }
    }
}

#[test]
fn a_larger_world_every_counter_exact() {
    // 87 organisations and more secrets: rare collisions between rules' keywords
    // (an `A3T` AWS prefix right before an OpenAI key's `T3BlbkFJ`) show up here.
    check(&Options::new().size(12 << 20).seed(1).shard_bytes(4 << 20));
}
