//! Property: however the bytes are cut into chunks and read, every record is
//! seen once, at the line a simple reference reader finds it on.

use leakledger::Options;
use leakledger_tests::{Way, scan, write_as};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

#[derive(Clone, Debug)]
enum Line {
    Valid(String),
    Truncated(String, usize),
    Junk(Vec<u8>),
    Blank(String),
}

fn valid(i: usize, body: &str) -> String {
    serde_json::json!({ "request_id": format!("r{i}"), "body": body }).to_string()
}

fn line() -> impl Strategy<Value = Line> {
    prop_oneof![
        6 => any::<String>().prop_map(Line::Valid),
        1 => (any::<String>(), any::<usize>()).prop_map(|(s, cut)| Line::Truncated(s, cut)),
        1 => (any::<u8>(), proptest::collection::vec(any::<u8>(), 0..40)).prop_map(|(first, rest)| {
            // Junk that no JSON reader accepts as an object: the first byte is not
            // `{` nor white space; no newline inside.
            let first = if first == b'{' || first.is_ascii_whitespace() { b'#' } else { first };
            let mut v = vec![first];
            v.extend(rest.into_iter().filter(|&b| b != b'\n'));
            Line::Junk(v)
        }),
        1 => "[ \t\r]{0,3}".prop_map(Line::Blank),
    ]
}

/// Builds the file and the reference answer: (line number, request id) of each
/// record, and the malformed count.
fn build(lines: &[Line], crlf: bool, final_newline: bool) -> (Vec<u8>, Vec<(u64, String)>, u64) {
    let mut bytes = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let content: Vec<u8> = match l {
            Line::Valid(s) => valid(i, s).into_bytes(),
            Line::Truncated(s, cut) => {
                let v = valid(i, s);
                v.as_bytes()[..cut % v.len()].to_vec()
            }
            Line::Junk(b) => b.clone(),
            Line::Blank(s) => s.as_bytes().to_vec(),
        };
        bytes.extend_from_slice(&content);
        if crlf {
            bytes.push(b'\r');
        }
        if i + 1 < lines.len() || final_newline {
            bytes.push(b'\n');
        }
    }
    // The reference reader: split on newlines, drop one trailing CR, skip blank
    // lines, ask serde_json whether the rest is an object.
    let mut records = Vec::new();
    let mut malformed = 0;
    let body = if bytes.ends_with(b"\n") { &bytes[..bytes.len() - 1] } else { &bytes[..] };
    if !bytes.is_empty() {
        for (n, raw) in body.split(|&b| b == b'\n').enumerate() {
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            if raw.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r')) {
                continue;
            }
            match serde_json::from_slice::<serde_json::Value>(raw) {
                Ok(serde_json::Value::Object(m)) => {
                    records.push((n as u64 + 1, m["request_id"].as_str().unwrap_or("").to_string()))
                }
                _ => malformed += 1,
            }
        }
    }
    (bytes, records, malformed)
}

proptest! {
    #![proptest_config(Config { cases: 64, rng_seed: RngSeed::Fixed(20_261_125), failure_persistence: None, ..Config::default() })]

    #[test]
    fn chunk_boundaries_never_lose_or_double_a_record(
        lines in proptest::collection::vec(line(), 0..40),
        crlf in any::<bool>(),
        final_newline in any::<bool>(),
        chunk in 1usize..200,
        way in prop_oneof![Just(Way::Mapped), Just(Way::Read), Just(Way::Gzip), Just(Way::Zstd)],
    ) {
        let (bytes, expected, malformed) = build(&lines, crlf, final_newline);
        let dir = tempfile::tempdir().unwrap();
        let path = write_as(dir.path(), "p.jsonl", &bytes, way);
        let options = Options::new().format(Some(leakledger::Format::Jsonl)).chunk_size(chunk).mmap(!matches!(way, Way::Read));
        let (o, scan) = scan(&[path.as_path()], &options);
        let got: Vec<(u64, String)> = o.records.iter().map(|r| (r.line, r.request_id.clone().unwrap_or_default())).collect();
        prop_assert_eq!(got, expected);
        prop_assert_eq!(o.malformed, malformed);
        prop_assert_eq!(scan.bytes(), bytes.len() as u64);
    }
}
