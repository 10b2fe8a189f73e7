//! Property: however the bytes are cut into chunks and read, every record is
//! seen once, at the line a simple reference reader finds it on.

use leakledger::Options;
use leakledger_tests::{Outcome, Way, scan, write_as};
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

/// The JSONL reference reader over any bytes: lines that serde_json reads as an
/// object are records; other non-blank lines are malformed.
fn reference_jsonl(bytes: &[u8]) -> (u64, u64) {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let (mut records, mut malformed) = (0, 0);
    if bytes.is_empty() {
        return (0, 0);
    }
    for raw in body.split(|&b| b == b'\n') {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.iter().all(|b| matches!(b, b' ' | b'\t' | b'\r')) {
            continue;
        }
        match serde_json::from_slice::<serde_json::Value>(raw) {
            Ok(serde_json::Value::Object(_)) => records += 1,
            _ => malformed += 1,
        }
    }
    (records, malformed)
}

fn bytes_with_lines() -> impl Strategy<Value = Vec<u8>> {
    // Arbitrary bytes, with newlines, braces and quotes more likely than chance
    // so that lines and near-JSON appear.
    proptest::collection::vec(
        prop_oneof![4 => any::<u8>(), 1 => Just(b'\n'), 1 => Just(b'{'), 1 => Just(b'}'), 1 => Just(b'"'), 1 => Just(b':')],
        0..600,
    )
}

proptest! {
    #![proptest_config(Config { cases: 48, rng_seed: RngSeed::Fixed(20_261_126), failure_persistence: None, ..Config::default() })]
    /// Any bytes, read as each format, mapped or streamed: the scan finishes
    /// without a panic and every byte is accounted for; as JSONL, the records and
    /// malformed lines are what the reference reader finds.
    #[test]
    fn arbitrary_bytes_in_any_format_never_panic_and_jsonl_counts_match(
        bytes in bytes_with_lines(),
        with_object in any::<bool>(),
        chunk in 1usize..64,
        way in prop_oneof![Just(Way::Mapped), Just(Way::Read), Just(Way::Gzip)],
    ) {
        let mut bytes = bytes;
        if with_object {
            bytes.extend_from_slice(b"\n{\"request_id\":\"r\",\"body\":{\"messages\":[]}}\n");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = write_as(dir.path(), "any.log", &bytes, way);
        for format in [
            leakledger::Format::Jsonl,
            leakledger::Format::Gcp,
            leakledger::Format::Cloudwatch,
            leakledger::Format::Otlp,
            leakledger::Format::Json,
            leakledger::Format::Text,
        ] {
            let options = Options::new().format(Some(format)).chunk_size(chunk).mmap(!matches!(way, Way::Read));
            let (o, scan) = scan(&[path.as_path()], &options);
            prop_assert_eq!(scan.bytes(), bytes.len() as u64, "{:?}", format);
            if format == leakledger::Format::Jsonl {
                prop_assert_eq!((o.records.len() as u64, o.malformed), reference_jsonl(&bytes));
            }
        }
    }
}

/// `content` read `way` in chunks of `chunk` bytes, and read whole (mapped, one
/// chunk); with the bytes the first read counted.
fn cut_and_whole(content: &[u8], options: &Options, chunk: usize, way: Way) -> (Outcome, Outcome, u64) {
    let dir = tempfile::tempdir().unwrap();
    let whole = write_as(dir.path(), "whole.log", content, Way::Mapped);
    let (expected, _) = scan(&[whole.as_path()], &options.clone().chunk_size(1 << 30));
    let path = write_as(dir.path(), "cut.log", content, way);
    let (got, scan) = scan(&[path.as_path()], &options.clone().chunk_size(chunk).mmap(!matches!(way, Way::Read)));
    (got, expected, scan.bytes())
}

/// A CloudWatch subscription document as Kinesis Firehose writes them back to
/// back: valid (its message any text, so `}{` and newlines turn up inside
/// strings), cut short, or junk.
fn subscription(kind: u8, message: &str, cut: usize, pretty: bool) -> String {
    let doc = serde_json::json!({
        "messageType": "DATA_MESSAGE",
        "logGroup": "/aws/gw",
        "logStream": "s",
        "logEvents": [{ "id": "e", "timestamp": 1_714_564_800_000u64, "message": message }],
    });
    let text = if pretty { serde_json::to_string_pretty(&doc) } else { serde_json::to_string(&doc) }.expect("json");
    match kind {
        0 => text[..text.floor_char_boundary(cut % text.len())].to_string(),
        1 => "x}{".to_string(),
        2 => "[1]".to_string(),
        _ => text,
    }
}

proptest! {
    #![proptest_config(Config { cases: 256, rng_seed: RngSeed::Fixed(20_261_127), failure_persistence: None, ..Config::default() })]
    /// Documents written back to back (one long line, or pretty-printed) are
    /// cut into chunks after whole documents when they are streamed; however
    /// they are cut, and whatever breaks between them, the records, lines and
    /// malformed ones are those of the stream parsed whole.
    #[test]
    fn concatenated_documents_cut_into_chunks_parse_as_the_whole_stream(
        docs in proptest::collection::vec((0u8..7, "[a-z{}\\[\\]\"\\\\ \n]{0,24}", any::<usize>()), 1..12),
        separator in prop_oneof![2 => Just(""), 1 => Just("\n"), 1 => Just(" \n ")],
        pretty in any::<bool>(),
        cloudwatch in any::<bool>(),
        chunk in 1usize..400,
        way in prop_oneof![Just(Way::Read), Just(Way::Gzip), Just(Way::Zstd), Just(Way::Mapped)],
    ) {
        let content: Vec<String> = docs.iter().map(|(kind, m, cut)| subscription(*kind, m, *cut, pretty)).collect();
        let content = content.join(separator);
        // Sniffed, or read as CloudWatch whatever the first bytes look like.
        let options = Options::new().format(cloudwatch.then_some(leakledger::Format::Cloudwatch));
        let (got, expected, bytes) = cut_and_whole(content.as_bytes(), &options, chunk, way);
        prop_assert_eq!(got, expected);
        prop_assert_eq!(bytes, content.len() as u64);
    }
}

/// A CloudWatch line of documents may be cut before anything, not only a `{`:
/// a piece that starts inside the line is read as documents, never as an
/// export line. Here a buffer ends exactly after a document and its white
/// space, and an array follows.
#[test]
fn a_cloudwatch_line_of_documents_cut_anywhere_reads_as_documents() {
    let first = subscription(3, "m", 0, false);
    let content = format!("{first}  [1]{}", subscription(3, "n", 0, false));
    let options = Options::new().format(Some(leakledger::Format::Cloudwatch));
    let dir = tempfile::tempdir().unwrap();
    let whole = write_as(dir.path(), "whole.log", content.as_bytes(), Way::Mapped);
    let (expected, _) = scan(&[whole.as_path()], &options.clone().chunk_size(1 << 30));
    for way in [Way::Read, Way::Gzip, Way::Mapped] {
        let path = write_as(dir.path(), "cut.log", content.as_bytes(), way);
        for chunk in [first.len() + 1, first.len() + 2, first.len() + 3] {
            let options = options.clone().chunk_size(chunk).mmap(!matches!(way, Way::Read));
            let (got, _) = scan(&[path.as_path()], &options);
            assert_eq!(got, expected, "{way:?}, chunk {chunk}");
        }
    }
}

/// One element of a top-level array of records: a record (its body any text,
/// so brackets, quotes and commas turn up inside strings), a record cut short,
/// a number, or a nested array.
fn element(kind: u8, i: usize, body: &str, cut: usize) -> String {
    let record = valid(i, body);
    match kind {
        0 => record[..record.floor_char_boundary(cut % record.len())].to_string(),
        1 => "7".to_string(),
        2 => "[{\"request_id\":\"nested\"}]".to_string(),
        // Nothing: a double comma.
        3 => String::new(),
        _ => record,
    }
}

proptest! {
    #![proptest_config(Config { cases: 256, rng_seed: RngSeed::Fixed(20_261_128), failure_persistence: None, ..Config::default() })]
    /// Arrays of records (one export written as one JSON array, on one line or
    /// pretty-printed) are cut before their elements so that every thread
    /// parses them; however they are cut, and whatever breaks inside them, the
    /// records, lines and malformed ones are those of the stream parsed whole.
    #[test]
    fn arrays_of_records_cut_into_chunks_parse_as_the_whole_stream(
        docs in proptest::collection::vec(
            (proptest::collection::vec((0u8..10, "[a-z{}\\[\\],\"\\\\ ]{0,16}", any::<usize>()), 0..8), 0u8..8),
            1..6,
        ),
        pretty in prop_oneof![Just(""), Just("\n  "), Just("  \r\n"), Just("\n")],
        forced in any::<bool>(),
        chunk in 1usize..300,
        way in prop_oneof![Just(Way::Read), Just(Way::Gzip), Just(Way::Zstd), Just(Way::Mapped)],
    ) {
        let (comma, open, close) = (format!(",{pretty}"), format!("[{pretty}"), format!("{pretty}]{pretty}"));
        let mut content = String::new();
        let mut n = 0;
        for (elements, shape) in &docs {
            let items: Vec<String> = elements.iter().map(|(kind, body, cut)| {
                n += 1;
                element(*kind, n, body, *cut)
            }).collect();
            // CloudTrail's wrapper: its array is read as a top-level one is.
            let wrap = |array: String, rest: &str| format!("{{{pretty}\"Records\" :{array}{rest}}}{pretty}");
            match shape {
                // A missing comma, an array never closed, junk, one record.
                0 => content.push_str(&format!("{open}{}{close}", items.join(" "))),
                1 => content.push_str(&format!("{open}{}{comma}", items.join(&comma))),
                2 => content.push_str("x}"),
                3 => content.push_str(&valid(0, "one")),
                // Wrapped: alone, with members after it, broken after it.
                4 => content.push_str(&wrap(format!("{open}{}{close}", items.join(&comma)), "")),
                5 => content.push_str(&wrap(format!("{open}{}{close}", items.join(&comma)), r#","n": {"a": [1, "]}"]}"#)),
                6 => content.push_str(&wrap(format!("{open}{}{close}", items.join(&comma)), r#" "n""#)),
                _ => content.push_str(&format!("{open}{}{close}", items.join(&comma))),
            }
        }
        let options = Options::new().format(forced.then_some(leakledger::Format::Json));
        let (got, expected, bytes) = cut_and_whole(content.as_bytes(), &options, chunk, way);
        prop_assert_eq!(got, expected);
        prop_assert_eq!(bytes, content.len() as u64);
    }
}

/// A whole export as one JSON array on one line, longer than the longest
/// record a stream may hold: its records are read element by element, every
/// one found at its place, none lost as one oversized line; a broken element
/// costs that element only.
#[test]
fn a_json_array_longer_than_the_record_limit_loses_no_record() {
    let mut items: Vec<String> = (0..2_000).map(|i| valid(i, "fn main() { let v = [1, 2]; }")).collect();
    // Broken, but closed: its end is found (one cut short would run on to the
    // end of the stream, as it would in a file read whole).
    items[1_000] = "{\"request_id\":\"r1000\",\"body\":}".to_string();
    let array = format!("[{}]", items.join(","));
    // Bare, and as CloudTrail wraps it (on one line, and pretty-printed).
    for content in [
        format!("{array}\n"),
        format!("{{\"Records\":{array}}}\n"),
        format!("{{\n  \"Records\": {},\n  \"nextToken\": \"t\"\n}}\n", array.replace(",{", ",\n    {")),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let options = Options::new().format(Some(leakledger::Format::Json)).max_record_bytes(64 << 10);
        let mut outcomes = Vec::new();
        for way in [Way::Mapped, Way::Read, Way::Gzip, Way::Zstd] {
            let path = write_as(dir.path(), "export.json", content.as_bytes(), way);
            let (got, scan) =
                scan(&[path.as_path()], &options.clone().chunk_size(16 << 10).mmap(!matches!(way, Way::Read)));
            let label = format!("{way:?}, {}", &content[..12]);
            assert_eq!(got.records.len(), 1_999, "{label}");
            assert_eq!((got.malformed, got.malformed_lines.len()), (1, 1), "{label}");
            assert_eq!(scan.bytes(), content.len() as u64);
            outcomes.push(got);
        }
        assert!(outcomes.windows(2).all(|w| w[0] == w[1]));
    }
}

/// A writer that crashed again and again, each time leaving a pretty-printed
/// document cut short: more of them in a row than the parser looks past one
/// by one (each look scans to the end of what it holds). Every whole document
/// after them is read, each cut-short one is reported, and every way of
/// reading the file, cut anywhere, reads it as the whole file does (at the
/// default record limit; streamed with a limit smaller than what follows the
/// first cut-short document, the reader cuts where the parser resumes, and
/// may read more than the whole file does).
#[test]
fn a_long_run_of_documents_cut_short_loses_no_record_after_it() {
    let doc = |i: usize| {
        let record = serde_json::json!({
            "request_id": format!("r{i}"),
            "body": {"messages": [{"role": "user", "content": "fn main() {}"}]},
        });
        serde_json::to_string_pretty(&record).expect("json")
    };
    let parts: Vec<String> = (0..300)
        .map(|i| {
            let d = doc(i);
            if (50..120).contains(&i) { d[..d.len() / 2].to_string() } else { d }
        })
        .collect();
    let content = parts.join("\n") + "\n";
    let options = Options::new().format(Some(leakledger::Format::Json));
    let (_, whole, _) = cut_and_whole(content.as_bytes(), &options, 1 << 30, Way::Mapped);
    let ids: std::collections::HashSet<_> = whole.records.iter().filter_map(|r| r.request_id.clone()).collect();
    for i in (0..50).chain(120..300) {
        assert!(ids.contains(&format!("r{i}")), "r{i} is lost");
    }
    assert!(whole.malformed >= 70, "{}", whole.malformed);
    for way in [Way::Mapped, Way::Read, Way::Gzip, Way::Zstd] {
        for chunk in [64, 1 << 10, 16 << 10] {
            let (got, expected, bytes) = cut_and_whole(content.as_bytes(), &options, chunk, way);
            assert_eq!(got, expected, "{way:?}, chunk {chunk}");
            assert_eq!(bytes, content.len() as u64);
        }
    }
}

/// CloudTrail's wrapper whose members after the array (a `nextToken` here)
/// are longer than the record limit, streamed: the records in the array and
/// after the document are read, and only the long rest is lost (one malformed
/// record), not read as elements or as documents of its own.
#[test]
fn a_wrapped_array_whose_document_goes_on_past_the_record_limit_keeps_its_records() {
    let options = Options::new().format(Some(leakledger::Format::Json)).max_record_bytes(256);
    let tail = "x".repeat(2_000);
    let one_line = format!(
        "{{\"Records\":[{},{}],\"nextToken\":\"{tail}{{}}\"}}\n{}\n",
        valid(1, "a"),
        valid(2, "b"),
        valid(3, "c")
    );
    let pretty = format!(
        "{{\n  \"Records\": [\n    {},\n    {}\n  ],\n  \"nextToken\": \"{tail}{{}}\"\n}}\n{}\n",
        valid(1, "a"),
        valid(2, "b"),
        valid(3, "c")
    );
    for content in [one_line, pretty] {
        let (_, whole, _) = cut_and_whole(content.as_bytes(), &options, 1 << 30, Way::Mapped);
        let ids = |o: &Outcome| o.records.iter().map(|r| r.request_id.clone()).collect::<Vec<_>>();
        let expected = vec![Some("r1".to_string()), Some("r2".to_string()), Some("r3".to_string())];
        assert_eq!((ids(&whole), whole.malformed), (expected.clone(), 0), "mapped files have no record limit");
        for way in [Way::Read, Way::Gzip] {
            for chunk in [16, 64, 200] {
                let (got, _, bytes) = cut_and_whole(content.as_bytes(), &options, chunk, way);
                assert_eq!(ids(&got), expected, "{way:?}, chunk {chunk}");
                assert!(got.malformed <= 1, "{way:?}, chunk {chunk}: {:?}", got.malformed_lines);
                assert_eq!(bytes, content.len() as u64);
            }
        }
    }
}

/// A streamed document or array element longer than the longest record a
/// stream may hold is skipped as one malformed record, read past without being
/// held; what follows it is read as usual, at its own lines.
#[test]
fn a_streamed_document_longer_than_the_record_limit_is_skipped_not_held() {
    let big = "x".repeat(100 << 10);
    let records: Vec<String> = (0..50).map(|i| valid(i, "fn main() {}")).collect();
    // A pretty-printed array with one element too long, then a document too long.
    let mut items: Vec<String> = records[..20].to_vec();
    items.insert(10, valid(999, &format!("{big}\n]}}{{\"")));
    let content = format!(
        "[\n  {}\n]\n{{\n  \"body\": {:?},\n  \"x\": [1, {{}}]\n}}\n{}\n",
        items.join(",\n  "),
        big,
        records[20..].join("\n")
    );
    let dir = tempfile::tempdir().unwrap();
    let options = Options::new().format(Some(leakledger::Format::Json)).max_record_bytes(16 << 10);
    let (whole, _) = scan(&[write_as(dir.path(), "whole.json", content.as_bytes(), Way::Mapped).as_path()], &options);
    assert_eq!((whole.records.len(), whole.malformed), (52, 0), "mapped files have no record limit");
    for way in [Way::Read, Way::Gzip, Way::Zstd] {
        for chunk in [1 << 10, 4 << 10, 16 << 10] {
            let path = write_as(dir.path(), "cut.json", content.as_bytes(), way);
            let (got, scan) = scan(&[path.as_path()], &options.clone().chunk_size(chunk).mmap(false));
            let label = format!("{way:?}, chunk {chunk}");
            assert_eq!(scan.bytes(), content.len() as u64, "{label}");
            assert_eq!(got.malformed, 2, "{label}: {:?}", got.malformed_lines);
            let expected: Vec<_> = whole.records.iter().filter(|r| r.request_id.as_deref() != Some("r999")).collect();
            let expected: Vec<_> = expected.into_iter().filter(|r| r.request_id.is_some()).cloned().collect();
            assert_eq!(got.records, expected, "{label}");
        }
    }
}

/// After a broken document the rest of a stream is read in pieces no longer
/// than the record limit, never held whole, cut where a document starts; every
/// byte is counted and every record found.
#[test]
fn the_rest_of_a_stream_after_a_broken_document_is_not_held_whole() {
    let records: Vec<String> = (0..2_000).map(|i| valid(i, "fn main() {}")).collect();
    let content = format!("x}}\n{}\n", records.join("\n"));
    let dir = tempfile::tempdir().unwrap();
    let options = Options::new().format(Some(leakledger::Format::Json)).max_record_bytes(16 << 10);
    let (whole, _) = scan(&[write_as(dir.path(), "whole.json", content.as_bytes(), Way::Mapped).as_path()], &options);
    assert_eq!((whole.records.len(), whole.malformed), (2_000, 1));
    for way in [Way::Read, Way::Gzip] {
        let path = write_as(dir.path(), "cut.json", content.as_bytes(), way);
        let (got, scan) = scan(&[path.as_path()], &options.clone().chunk_size(4 << 10).mmap(false));
        assert_eq!(scan.bytes(), content.len() as u64, "{way:?}");
        // Cut before a `{` that starts a line, as the parser resynchronises.
        assert_eq!(got, whole, "{way:?}");
    }
}

/// Shapes a review found where a cut read once differed from a whole one: a
/// double comma in an array, an array left open after a comma (at the end, or
/// before a line of blanks), junk before pretty-printed documents whose inner
/// objects start lines, broken elements inside an array. Read every way in
/// chunks from 1 byte up, with a small record limit no record reaches.
#[test]
fn shapes_that_once_cut_differently_read_as_the_whole_stream() {
    let one_line: Vec<String> = (0..399).map(|i| valid(i, "line")).collect();
    let pretty: String = (0..400)
        .map(|i| format!("{{\n  \"request_id\": \"r{i}\",\n  \"body\": [\n    {{\"k\": 1}}\n  ]\n}}\n"))
        .collect();
    let cases = [
        r#"[{"request_id":"a"},,{"request_id":"b"}]"#.to_string(),
        "[,{}]".to_string(),
        r#"[{"request_id":"a"},"#.to_string(),
        "[".to_string(),
        "{}[".to_string(),
        "{}[{},".to_string(),
        "{}\r\n[{},\r\n{}\r\n".to_string(),
        format!("{{}}\n[{},   \n{}\n", valid(1, "a"), valid(2, "b")),
        format!("x}}\n{pretty}"),
        format!("[{}, 7 x \n{}\n]\n", valid(0, "first"), one_line.join("\n")),
    ];
    for content in &cases {
        let options = Options::new().format(Some(leakledger::Format::Json)).max_record_bytes(4 << 10);
        let (_, expected, _) = cut_and_whole(content.as_bytes(), &options, 1 << 30, Way::Mapped);
        for way in [Way::Read, Way::Gzip, Way::Zstd, Way::Mapped] {
            for chunk in [1, 4, 16, 20, 1 << 10] {
                let (got, _, bytes) = cut_and_whole(content.as_bytes(), &options, chunk, way);
                let head = &content[..content.floor_char_boundary(24)];
                assert_eq!(got, expected, "{head:?}, {way:?}, chunk {chunk}");
                assert_eq!(bytes, content.len() as u64);
            }
        }
    }
}

/// Streamed with a small record limit, records next to ones of about the
/// limit are read as the whole stream reads them: after a broken document just
/// within the limit (a fault in its last bytes, which the reader must see
/// before it trusts it, and a `}{` inside a string that a cut there would take
/// for a boundary), and an element followed, with no comma, by a document
/// longer than the limit (the element is read, not skipped with it).
#[test]
fn records_next_to_ones_about_the_record_limit_are_read() {
    let limit = 256;
    let options = Options::new().format(Some(leakledger::Format::Json)).max_record_bytes(limit);
    let tail = r#"}{{"a":"xxxxxxxxx":"y","request_id":"r1"}"]{"":"","request_id":"r2"}"#;
    // The broken document runs to the `]`: 4 + n + 44 bytes.
    for n in limit - 60..=limit - 48 {
        let content = format!(r#"{{"""{}{tail}"#, "x".repeat(n));
        let (_, expected, _) = cut_and_whole(content.as_bytes(), &options, 1 << 30, Way::Mapped);
        assert!(expected.records.iter().any(|r| r.request_id.as_deref() == Some("r2")));
        for way in [Way::Read, Way::Gzip] {
            for chunk in [1, 3, 16] {
                let (got, _, _) = cut_and_whole(content.as_bytes(), &options, chunk, way);
                assert_eq!(got, expected, "document of {} bytes, {way:?}, chunk {chunk}", n + 48);
            }
        }
    }
    let long = format!(r#"{{"a":"{}"#, "x".repeat(2 * limit));
    let content = format!(r#"[{},7,{}{long}"#, valid(1, "a"), valid(2, "b"));
    for way in [Way::Read, Way::Gzip] {
        for chunk in [1, 3, 16] {
            let (got, _, bytes) = cut_and_whole(content.as_bytes(), &options, chunk, way);
            let ids: Vec<_> = got.records.iter().filter_map(|r| r.request_id.as_deref()).collect();
            assert_eq!(ids, ["r1", "r2"], "{way:?}, chunk {chunk}");
            assert_eq!(bytes, content.len() as u64);
        }
    }
}

/// A one-line array with an element longer than the record limit, streamed:
/// that element is skipped as one malformed record, and the array's other
/// records are read; junk at the start of a one-line stream of documents does
/// not make the rest of the line one record.
#[test]
fn a_one_line_array_skips_only_the_element_past_the_record_limit() {
    let mut items: Vec<String> = (0..200).map(|i| valid(i, "fn main() {}")).collect();
    items[10] = valid(10, &"x".repeat(20 << 10));
    let content = format!("[{}]\n{}\n", items.join(","), valid(999, "after"));
    let dir = tempfile::tempdir().unwrap();
    let options = Options::new().format(Some(leakledger::Format::Json)).max_record_bytes(8 << 10);
    for way in [Way::Read, Way::Gzip, Way::Zstd] {
        let path = write_as(dir.path(), "export.json", content.as_bytes(), way);
        let (got, scan) = scan(&[path.as_path()], &options.clone().chunk_size(1 << 10).mmap(false));
        assert_eq!(scan.bytes(), content.len() as u64, "{way:?}");
        assert_eq!(got.records.len(), 200, "{way:?}");
        assert_eq!(got.malformed_lines, vec![(1, "record longer than the record size limit")], "{way:?}");
        assert!(got.records.iter().any(|r| r.request_id.as_deref() == Some("r999") && r.line == 2));
    }
    let junk = format!("{}\nx{}\n{}", valid(9_000, "a"), one_line_of(500), valid(9_001, "b"));
    let options = Options::new().format(Some(leakledger::Format::Json)).max_record_bytes(8 << 10);
    let (_, expected, _) = cut_and_whole(junk.as_bytes(), &options, 1 << 30, Way::Mapped);
    assert_eq!(expected.records.len(), 502);
    for way in [Way::Read, Way::Gzip] {
        let (got, _, _) = cut_and_whole(junk.as_bytes(), &options, 1 << 10, way);
        assert_eq!(got, expected, "{way:?}");
    }
}

/// `n` records written back to back on one line.
fn one_line_of(n: usize) -> String {
    (0..n).map(|i| valid(i, "one line")).collect()
}

/// A soup of the bytes that make and break JSON documents.
fn soup() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("{".to_string()),
        Just("}".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just(",".to_string()),
        Just("\"".to_string()),
        Just("\\".to_string()),
        Just("x".to_string()),
        Just(" ".to_string()),
        Just("\n".to_string()),
        Just("\r\n".to_string()),
        Just("tru".to_string()),
        Just("true".to_string()),
        Just("7".to_string()),
        Just(":".to_string()),
        Just(r#"{"Records":["#.to_string()),
        Just(r#"],"n":1}"#.to_string()),
        (0usize..50).prop_map(|i| valid(i, "}{][,")),
        Just(r#"{"logGroup":"g","logEvents":[{"id":"e","timestamp":1714564800000,"message":"m"}]}"#.to_string()),
        Just(r#"{"resourceLogs":[]}"#.to_string()),
    ];
    (any::<bool>(), proptest::collection::vec(token, 0..100))
        .prop_map(|(bom, tokens)| format!("{}{}", if bom { "\u{feff}" } else { "" }, tokens.concat()))
}

proptest! {
    #![proptest_config(Config { cases: 512, rng_seed: RngSeed::Fixed(20_261_129), failure_persistence: None, ..Config::default() })]
    /// Whatever mix of documents, arrays, junk and broken pieces a source
    /// holds, read as any of the formats whose lines hold documents, in any
    /// chunks and any way, it parses as it does whole.
    #[test]
    fn any_soup_of_documents_cut_into_chunks_parses_as_the_whole_stream(
        content in soup(),
        format in prop_oneof![
            Just(leakledger::Format::Json),
            Just(leakledger::Format::Cloudwatch),
            Just(leakledger::Format::Otlp),
        ],
        chunk in 1usize..40,
        way in prop_oneof![Just(Way::Read), Just(Way::Gzip), Just(Way::Mapped)],
    ) {
        let options = Options::new().format(Some(format));
        let (got, expected, bytes) = cut_and_whole(content.as_bytes(), &options, chunk, way);
        prop_assert_eq!(got, expected);
        prop_assert_eq!(bytes, content.len() as u64);
    }
}

/// Kinesis Firehose documents back to back on one line, more of them cut
/// short than the parser looks past one by one: past that bound the rest of
/// the line is read in slices at each `}{"`, so the records after the broken
/// ones are still read, as they are every way the line is cut.
#[test]
fn a_line_of_documents_with_many_cut_short_is_read_past_them() {
    let mut content = String::new();
    for i in 0..40 {
        // Cut short, then one that follows it without a boundary (lost with it,
        // as the whole read loses it), then one that follows a `}`.
        content.push_str(&subscription(0, &format!("cut {i}"), 150, false));
        content.push_str(&subscription(3, &format!("lost {i}"), 0, false));
        content.push_str(&subscription(3, &format!("kept {i}"), 0, false));
    }
    content.push('\n');
    let options = Options::new().format(Some(leakledger::Format::Cloudwatch));
    let (_, whole, _) = cut_and_whole(content.as_bytes(), &options, 1 << 30, Way::Mapped);
    let kept =
        |o: &Outcome| o.records.iter().filter(|r| r.payload.as_deref().is_some_and(|p| p.starts_with("kept"))).count();
    assert_eq!(kept(&whole), 40, "{:?}", whole.malformed_lines);
    for way in [Way::Read, Way::Gzip, Way::Mapped] {
        for chunk in [1 << 10, 16 << 10] {
            let (got, expected, _) = cut_and_whole(content.as_bytes(), &options, chunk, way);
            assert_eq!(got, expected, "{way:?}, chunk {chunk}");
        }
    }
}

/// A document cut short at the start of a stream longer than the record
/// limit (a Firehose shard whose first record was truncated; documents back to
/// back on one line, or pretty-printed): the stream resumes where the parser
/// does on the whole file, at the next document, and no record after it is
/// lost.
#[test]
fn a_document_cut_short_before_more_than_the_record_limit_loses_no_record_after_it() {
    let docs: Vec<String> = (0..300).map(|i| subscription(3, &format!("event {i}"), 0, false)).collect();
    let truncated = &docs[0][..docs[0].len() / 2];
    let pretty: Vec<String> = (0..300).map(|i| subscription(3, &format!("event {i}"), 0, true)).collect();
    let cases = [
        (format!("{truncated}{}", docs.concat()), leakledger::Format::Cloudwatch),
        (format!("{}{}\n", &pretty[0][..pretty[0].len() / 2], pretty.join("\n")), leakledger::Format::Cloudwatch),
        (format!("{}\n", [truncated.to_string(), docs.concat()].concat()), leakledger::Format::Json),
    ];
    for (content, format) in &cases {
        let options = Options::new().format(Some(*format)).max_record_bytes(8 << 10);
        let (_, expected, _) = cut_and_whole(content.as_bytes(), &options, 1 << 30, Way::Mapped);
        // The document after the cut one may be lost to the whole read too
        // (no `}` or line break before it); the others are read.
        assert!(expected.records.len() >= 299, "{format:?}: {}", expected.records.len());
        for way in [Way::Read, Way::Gzip] {
            let (got, _, bytes) = cut_and_whole(content.as_bytes(), &options, 1 << 10, way);
            assert_eq!(got.records, expected.records, "{format:?}, {way:?}");
            assert_eq!(bytes, content.len() as u64);
        }
    }
}

/// Shapes a second review found on the record limit's paths, streamed with a
/// limit of 4 KiB: only what is longer than the limit is lost, a CloudWatch
/// export line is never read as documents, and white space past the limit is
/// not a record.
#[test]
fn the_record_limit_costs_only_what_is_longer_than_it() {
    let doc = |i: usize| subscription(3, &format!("event {i}"), 0, false);
    let cloudwatch = Options::new().format(Some(leakledger::Format::Cloudwatch)).max_record_bytes(4 << 10);
    let json = Options::new().format(Some(leakledger::Format::Json)).max_record_bytes(4 << 10);
    let ids = |o: &Outcome| o.records.iter().map(|r| (r.line, r.request_id.clone())).collect::<Vec<_>>();
    // Complete documents before and after junk longer than the limit, on one
    // CloudWatch line: the whole read's records.
    let junk = format!("{} {} x{}{}\n{}\n", doc(1), "x".repeat(5_000), doc(2), doc(3), doc(4));
    let (_, expected, _) = cut_and_whole(junk.as_bytes(), &cloudwatch, 1 << 30, Way::Mapped);
    assert_eq!(expected.records.len(), 4);
    for way in [Way::Read, Way::Gzip] {
        let (got, _, bytes) = cut_and_whole(junk.as_bytes(), &cloudwatch, 256, way);
        assert_eq!(ids(&got), ids(&expected), "{way:?}");
        assert_eq!(bytes, junk.len() as u64);
    }
    // An export line that starts with white space, longer than the limit:
    // skipped to its end, its documents never read.
    let export = format!(
        "{}\n {{\"a\":\"{}\"}}{{\"b\":\"{}\"}}{}\n{}\n",
        doc(1),
        "y".repeat(3_000),
        "z".repeat(3_000),
        doc(2),
        doc(3)
    );
    for way in [Way::Read, Way::Gzip] {
        let (got, _, _) = cut_and_whole(export.as_bytes(), &cloudwatch, 256, way);
        assert_eq!(got.records.len(), 2, "{way:?}: {:?}", ids(&got));
        assert_eq!(got.malformed_lines, vec![(2, "record longer than the record size limit")], "{way:?}");
    }
    // A pretty-printed array whose last element is past the limit: that
    // element is the one malformed record, the array still closes.
    let big = valid(1, &"x".repeat(5_000));
    let array = format!("[\n  {},\n  {big}\n]\n{}\n", valid(0, "a"), valid(2, "c"));
    for way in [Way::Read, Way::Gzip] {
        let (got, _, _) = cut_and_whole(array.as_bytes(), &json, 256, way);
        let found: Vec<_> = got.records.iter().filter_map(|r| r.request_id.clone()).collect();
        assert_eq!(found, vec!["r0", "r2"], "{way:?}");
        assert_eq!(got.malformed, 1, "{way:?}: {:?}", got.malformed_lines);
    }
    // White space longer than the limit after an element's comma.
    let spaced = format!("[{},{}{},{}]\n", valid(0, "a"), " ".repeat(5_000), valid(1, "b"), valid(2, "c"));
    let (_, expected, _) = cut_and_whole(spaced.as_bytes(), &json, 1 << 30, Way::Mapped);
    assert_eq!(expected.records.len(), 3);
    for way in [Way::Read, Way::Gzip] {
        let (got, _, _) = cut_and_whole(spaced.as_bytes(), &json, 256, way);
        assert_eq!(got, expected, "{way:?}");
    }
}

/// Shapes a third review found: a document that is only long (not cut short)
/// followed by something other than a document keeps what follows it; and the
/// bound on cuts before documents that never end counts only cuts made in a
/// row, not every record past the limit in the source.
#[test]
fn past_the_record_limit_a_long_document_and_many_long_records_cost_only_themselves() {
    let json = Options::new().format(Some(leakledger::Format::Json)).max_record_bytes(256);
    let long = format!("{{\"a\":\"{}\"}}", "x".repeat(300));
    for content in [format!("{long}[{}]\n", valid(1, "s")), format!("{long} x {}\n", valid(1, "s"))] {
        for way in [Way::Read, Way::Gzip] {
            let (got, _, _) = cut_and_whole(content.as_bytes(), &json, 16, way);
            let found: Vec<_> = got.records.iter().filter_map(|r| r.request_id.clone()).collect();
            assert_eq!(found, vec!["r1"], "{way:?}: {:?}", got.malformed_lines);
        }
    }
    // 70 records past the limit, then a line of small documents after one that
    // never ends: the line reads as it does whole.
    let mut content = format!("{}\n", valid(0, "first"));
    for i in 0..70 {
        // Longer than the limit and a chunk: never held whole, however aligned.
        content.push_str(&format!("{}\n", valid(100 + i, &"y".repeat(10_000))));
    }
    content.push_str("{\"a\":\"}");
    content.push_str(&one_line_of(199));
    content.push('\n');
    let options = Options::new().format(Some(leakledger::Format::Json)).max_record_bytes(4 << 10);
    let (_, whole, _) = cut_and_whole(content.as_bytes(), &options, 1 << 30, Way::Mapped);
    let last_line = |o: &Outcome| o.records.iter().filter(|r| r.line == 72).cloned().collect::<Vec<_>>();
    assert!(!last_line(&whole).is_empty());
    for way in [Way::Read, Way::Gzip] {
        for chunk in [256, 1000] {
            let (got, _, _) = cut_and_whole(content.as_bytes(), &options, chunk, way);
            assert_eq!(last_line(&got), last_line(&whole), "{way:?}, chunk {chunk}");
            assert_eq!(got.records.len() + 70, whole.records.len(), "{way:?}, chunk {chunk}");
        }
    }
}
