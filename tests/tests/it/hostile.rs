//! Hostile dumps built at test time: thousands of tiny and empty files, random
//! binary with broken UTF-8, NUL bytes, BOMs and lone surrogate escapes, and one
//! record holding two million messages. Each scan finishes, counts every
//! well-formed record, and names the rest with source and line.

use std::path::Path;

use leakledger::{Dump, Options};

fn analyse(dir: &Path) -> leakledger::Analysis {
    let dump = Dump::open(&[dir], &Options::new()).unwrap();
    leakledger::analyse(&dump)
}

fn record(i: usize) -> String {
    format!(
        r#"{{"request_id":"r{i}","org_id":"acme","body":{{"messages":[{{"role":"user","content":"hello {i}"}}]}}}}"#
    )
}

#[test]
fn thousands_of_tiny_empty_and_blank_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut expected = 0;
    for i in 0..5_000 {
        let content = match i % 4 {
            0 => String::new(),
            1 => "\n\n\n".to_string(),
            _ => {
                expected += 1;
                format!("{}\n", record(i))
            }
        };
        std::fs::write(dir.path().join(format!("f{i:05}.jsonl")), content).unwrap();
    }
    let a = analyse(dir.path());
    assert_eq!(a.summary.records.total, expected);
    assert_eq!(a.summary.records.malformed, 0);
    assert_eq!(a.summary.chains.total, expected, "each request its own chain");
}

/// A fixed-seed byte generator (xorshift): the same "random" binary every run.
fn noise(n: usize, mut state: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 32) as u8
        })
        .collect()
}

#[test]
fn binary_broken_utf8_nul_bom_and_lone_surrogates() {
    let dir = tempfile::tempdir().unwrap();
    let mut good = Vec::new();
    // Well-formed records between hostile lines, in one file.
    let hostile: Vec<Vec<u8>> = vec![
        noise(4 << 20, 7).into_iter().map(|b| if b == b'\n' { b' ' } else { b }).collect(),
        b"{\"request_id\":\"bad\xff\xfe\",\"org_id\":\"acme\"}".to_vec(),
        b"\0\0\0{\"request_id\":\"nul\"}\0".to_vec(),
        b"\xef\xbb\xbf\xef\xbb\xbf{\"request_id\":\"double-bom\"}".to_vec(),
        br#"{"request_id":"sur","org_id":"acme","body":{"messages":[{"role":"user","content":"\ud800 \udfff \ud83d"}]}}"#.to_vec(),
        b"{\"request_id\":\"unterminated".to_vec(),
    ];
    let mut bytes = Vec::new();
    for (i, h) in hostile.iter().enumerate() {
        let r = record(i);
        bytes.extend_from_slice(r.as_bytes());
        bytes.push(b'\n');
        good.push(r);
        bytes.extend_from_slice(h);
        bytes.push(b'\n');
    }
    std::fs::write(dir.path().join("mixed.jsonl"), &bytes).unwrap();
    // And a file of nothing but noise.
    std::fs::write(dir.path().join("noise.bin"), noise(1 << 20, 11)).unwrap();
    let a = analyse(dir.path());
    // One noise line does not make the JSONL file text: its records stay records.
    let mixed = a.scan.sources.iter().find(|s| s.path.ends_with("mixed.jsonl")).unwrap();
    assert_eq!(mixed.format, leakledger::Format::Jsonl);
    // The six good records, the invalid-UTF-8, double-BOM and surrogate ones;
    // the noise, the NUL-framed and the unterminated lines are malformed, each
    // with its line.
    assert_eq!(mixed.records + mixed.malformed, 12, "{} + {}", mixed.records, mixed.malformed);
    assert!(mixed.records >= good.len() as u64);
    let lines: Vec<u64> = mixed.malformed_samples.iter().map(|m| m.line).collect();
    assert!(
        lines.contains(&2) && lines.contains(&12),
        "the noise (line 2) and the unterminated record (line 12): {lines:?}"
    );
    // The lone surrogates reached the walker and did not stop the analysis.
    assert!(a.summary.exposure.organizations >= 1);
}

#[test]
fn one_record_with_two_million_messages() {
    let dir = tempfile::tempdir().unwrap();
    let n = 2_000_000;
    let mut line = String::with_capacity(n * 40);
    line.push_str(r#"{"request_id":"big","org_id":"acme","body":{"messages":["#);
    for i in 0..n {
        if i > 0 {
            line.push(',');
        }
        line.push_str(r#"{"role":"user","content":"x"}"#);
    }
    line.push_str("]}}\n");
    line.push_str(&record(1));
    line.push('\n');
    std::fs::write(dir.path().join("big.jsonl"), line).unwrap();
    let a = analyse(dir.path());
    assert_eq!(a.summary.records.total, 2);
    assert_eq!(a.summary.records.malformed, 0);
    assert_eq!(a.requests.len(), 2);
}

#[test]
fn json_nested_200k_deep_neither_overflows_the_stack_nor_loses_the_records_around_it() {
    let n = 200_000;
    let (open, close) = ("[".repeat(n), "]".repeat(n));
    let deep_object = format!("{}1{}", r#"{"a":"#.repeat(n), "}".repeat(n));
    let lines = [
        // Well-formed, deep where the walker looks: the body, a message's content,
        // and tool-call arguments (JSON inside a JSON string).
        format!(r#"{{"request_id":"d1","org_id":"acme","body":{open}{close}}}"#),
        format!(r#"{{"request_id":"d2","org_id":"acme","body":{{"messages":[{{"role":"user","content":{deep_object}}}]}}}}"#),
        format!(
            r#"{{"request_id":"d3","org_id":"acme","body":{{"messages":[{{"role":"assistant","tool_calls":[{{"id":"c","type":"function","function":{{"name":"read","arguments":"{{\"path\":{open}{close}}}"}}}}]}}]}}}}"#
        ),
        // Broken: a bare deep array, and a deep array never closed.
        open.clone(),
        format!(r#"{{"request_id":"d4","org_id":"acme","body":{{"messages":[{open}"#),
        // And a plain record after them all, carrying a file.
        r#"{"request_id":"d5","org_id":"acme","body":{"messages":[{"role":"user","content":"// File: src/ok.rs\nfn ok() {}\n"}]}}"#.to_string(),
    ];
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("deep.jsonl"), lines.join("\n") + "\n").unwrap();
    // A whole-document dump (CloudTrail-style `Records`) nested as deep.
    std::fs::write(dir.path().join("deep.json"), format!(r#"{{"Records":{open}{close}}}"#)).unwrap();
    let a = analyse(dir.path());
    assert_eq!(a.summary.records.total, 7);
    assert_eq!(a.summary.records.malformed, 3, "the bare array, the open one, the document");
    assert_eq!(a.summary.exposure.files, 1, "the file after the deep lines is found");
    assert_eq!(a.requests.len(), 4);
}

/// Documents that never end make the parser look for the next one from each,
/// every scan to the end of what is held: past a bound, the rest is read in
/// slices at each `{` that starts a line, so that hostile input cannot make a
/// source's parse quadratic and the records after the broken ones are read.
#[test]
fn many_documents_that_never_end_are_each_reported_and_what_follows_is_read() {
    let mut content = "{\"a\":[\n".repeat(70);
    for i in 0..10 {
        // `}{` inside a string starts no slice.
        content.push_str(&format!("{{\"request_id\":\"r{i}\",\"body\":\"}}{{\"}}\n"));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = leakledger_tests::write_as(dir.path(), "broken.json", content.as_bytes(), leakledger_tests::Way::Mapped);
    let options = leakledger::Options::new().format(Some(leakledger::Format::Json)).malformed_samples(100);
    let (got, _) = leakledger_tests::scan(&[path.as_path()], &options);
    assert_eq!(got.malformed, 70, "{:?}", got.malformed_lines);
    let lines: Vec<u64> = got.malformed_lines.iter().map(|(line, _)| *line).collect();
    assert_eq!(lines, (1..=70).collect::<Vec<_>>());
    let ids: Vec<_> = got.records.iter().filter_map(|r| r.request_id.clone()).collect();
    assert_eq!(ids, (0..10).map(|i| format!("r{i}")).collect::<Vec<_>>());
}
