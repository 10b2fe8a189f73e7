//! Guessing a source's format and layout from its first bytes.

use memchr::memmem;

use super::{Format, document};
use crate::json;
use crate::time;

/// How a source is cut for parsing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// Records (or documents) one per line: chunked and parsed in parallel.
    Lines,
    /// Concatenated or pretty-printed JSON documents: cut before documents (and
    /// the elements of a top-level array of records) and parsed in parallel.
    Whole,
}

/// How many bytes sniffing looks at.
pub(crate) const SNIFF: usize = 64 * 1024;

/// The byte-order mark some Windows tools write at the start of UTF-8 files.
pub(crate) const BOM: &[u8] = b"\xEF\xBB\xBF";

/// How many bytes of `buf` a byte-order mark takes, when `buf` starts the
/// source (`first`).
pub(crate) fn bom_len(buf: &[u8], first: bool) -> usize {
    if first && buf.starts_with(BOM) { BOM.len() } else { 0 }
}

/// Sniffs `sample` (the first bytes of a source, decompressed). A `forced`
/// format is kept; only its layout is decided from the bytes.
pub(crate) fn sniff(sample: &[u8], forced: Option<Format>) -> (Format, Layout) {
    let b = sample.strip_prefix(BOM).unwrap_or(sample);
    let i = json::skip_ws(b, 0);
    let first_nl = memchr::memchr(b'\n', &b[i..]).map(|k| i + k);
    let parse = |b: &[u8]| match b.get(i) {
        Some(b'{') => Some(json::for_each_member(b, i, |_, _| {})),
        Some(b'[') => Some(json::for_each_element(b, i, |_, _| {})),
        _ => None,
    };
    let first_doc = parse(b);
    // A JSON string never holds a raw line break: a first line that ends inside a
    // string is a broken record of a line format (say a truncated JSONL line),
    // whatever the next lines make of it, not the start of a multi-line document.
    let first_line_cut_in_string =
        first_nl.is_some_and(|nl| matches!(parse(&b[..nl]), Some(Err(e)) if e.reason == "unterminated string"));
    // JSON-looking: the first document's top level parses and is followed by the
    // end of a line or another document, or it is cut off only by the end of the
    // sample (a long document). `[2024-05-01 ...] text` is not JSON.
    let (starts_json, first_doc_on_one_line) = match first_doc {
        Some(Ok(end)) if !(first_line_cut_in_string && first_nl.is_some_and(|nl| end > nl)) => {
            let mut j = end;
            while matches!(b.get(j), Some(b' ' | b'\t')) {
                j += 1;
            }
            let followed_well = matches!(b.get(j), None | Some(b'\r' | b'\n' | b'{' | b'['));
            (followed_well, followed_well && first_nl.is_none_or(|nl| end <= nl))
        }
        Some(Err(e)) if e.reason.starts_with("unterminated") && b.len() >= SNIFF => (true, first_nl.is_none()),
        _ => (false, false),
    };
    let doc_layout = if first_doc_on_one_line { Layout::Lines } else { Layout::Whole };

    if let Some(f) = forced {
        let layout = match f {
            Format::Otlp | Format::Json => doc_layout,
            Format::Cloudwatch if starts_json => doc_layout,
            _ => Layout::Lines,
        };
        return (f, layout);
    }
    if i >= b.len() {
        return (Format::Text, Layout::Lines);
    }
    let head = &b[i..];
    if starts_json {
        if memmem::find(head, b"\"resourceSpans\"").is_some() || memmem::find(head, b"\"resourceLogs\"").is_some() {
            return (Format::Otlp, doc_layout);
        }
        if memmem::find(head, b"\"logEvents\"").is_some() && memmem::find(head, b"\"logGroup\"").is_some() {
            return (Format::Cloudwatch, doc_layout);
        }
        // A search response of Elasticsearch or OpenSearch (`took` or
        // `_scroll_id` first): its hits are records.
        let search_response = (head.starts_with(b"{\"took\"") || head.starts_with(b"{\"_scroll_id\""))
            && memmem::find(head, b"\"_shards\"").is_some();
        if !first_doc_on_one_line
            || search_response
            || head.starts_with(b"{\"Records\"")
            || document::records_array(head, 0).is_some()
            || head.starts_with(b"[")
        {
            return (Format::Json, doc_layout);
        }
    }
    // Line formats: vote over the first lines (a broken first line must not decide).
    let mut lines = 0usize;
    let (mut json_lines, mut cw_lines, mut gcp_lines) = (0usize, 0usize, 0usize);
    for line in b.split(|&c| c == b'\n').take(64) {
        let l = line.strip_suffix(b"\r").unwrap_or(line);
        let s = json::skip_ws(l, 0);
        if s == l.len() {
            continue;
        }
        let l = &l[s..];
        // Binary junk (control bytes, invalid UTF-8) says nothing of the format:
        // one noise line must not turn a JSONL file into text.
        if is_junk(l) {
            continue;
        }
        lines += 1;
        if l.first() == Some(&b'{') {
            json_lines += 1;
            if memmem::find(l, b"\"insertId\"").is_some() && memmem::find(l, b"\"logName\"").is_some() {
                gcp_lines += 1;
            }
        } else if let Some((_, used)) = time::parse_text_prefix(l)
            && l.get(10) == Some(&b'T')
            && l.get(used - 1) == Some(&b'Z')
            && l.get(used) == Some(&b' ')
            && l.get(used + 1) == Some(&b'{')
        {
            // An export line whose message is a JSON record. (Export lines of
            // plain text read the same as text lines with a leading timestamp.)
            cw_lines += 1;
        }
    }
    let majority = |n: usize| n * 2 > lines;
    if majority(gcp_lines) {
        (Format::Gcp, Layout::Lines)
    } else if majority(json_lines) {
        (Format::Jsonl, Layout::Lines)
    } else if majority(cw_lines) {
        (Format::Cloudwatch, Layout::Lines)
    } else {
        (Format::Text, Layout::Lines)
    }
}

/// A line of binary: control bytes other than tab, or bytes that are not UTF-8
/// (a sequence cut at the end of the sample is not held against it).
fn is_junk(l: &[u8]) -> bool {
    l.iter().any(|&c| c < 0x09 || (0x0e..0x20).contains(&c) || c == 0x7f)
        || std::str::from_utf8(l).is_err_and(|e| e.error_len().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> (Format, Layout) {
        sniff(s.as_bytes(), None)
    }

    #[test]
    fn sniffs_each_format() {
        assert_eq!(f("{\"a\":1}\n{\"a\":2}\n"), (Format::Jsonl, Layout::Lines));
        assert_eq!(f("\u{feff}{\"a\":1}\r\n"), (Format::Jsonl, Layout::Lines));
        assert_eq!(f("garbage\n{\"a\":1}\n{\"a\":2}\n"), (Format::Jsonl, Layout::Lines));
        assert_eq!(f("{\"a\":1}\n\u{1}\u{2}binary\u{7f}\n"), (Format::Jsonl, Layout::Lines), "junk does not vote");
        // A truncated first line whose open string a later line's quote "closes".
        let cut = "{\"a\":{\"type\n{\"c\":\"d\\\"e\"}}\n{\"c\":1}\n";
        assert_eq!(f(cut), (Format::Jsonl, Layout::Lines));
        assert_eq!(f("{\"insertId\":\"x\",\"logName\":\"projects/p/logs/l\"}\n"), (Format::Gcp, Layout::Lines));
        assert_eq!(f("2024-05-01T12:00:00.000Z {\"a\":1}\n"), (Format::Cloudwatch, Layout::Lines));
        assert_eq!(
            f(
                "{\"messageType\":\"DATA_MESSAGE\",\"logGroup\":\"g\",\"logEvents\":[]}{\"logGroup\":\"g\",\"logEvents\":[]}"
            ),
            (Format::Cloudwatch, Layout::Lines)
        );
        assert_eq!(f("{\n  \"resourceSpans\": []\n}\n"), (Format::Otlp, Layout::Whole));
        assert_eq!(f("{\"resourceLogs\": []}\n{\"resourceLogs\": []}\n"), (Format::Otlp, Layout::Lines));
        assert_eq!(f("{\n \"id\": \"x\"\n}"), (Format::Json, Layout::Whole));
        assert_eq!(f("{\"Records\":[{\"eventID\":\"e\"}]}"), (Format::Json, Layout::Lines));
        assert_eq!(f("{ \"Records\" : [{\"eventID\":\"e\"}]}"), (Format::Json, Layout::Lines));
        assert_eq!(
            f("{\"took\":3,\"_shards\":{\"total\":1},\"hits\":{\"hits\":[{\"_source\":{}}]}}\n"),
            (Format::Json, Layout::Lines)
        );
        assert_eq!(f("{\"_index\":\"i\",\"_id\":\"1\",\"_source\":{}}\n"), (Format::Jsonl, Layout::Lines));
        assert_eq!(f("2024-05-01 12:00:00 INFO started\nplain\n"), (Format::Text, Layout::Lines));
        assert_eq!(f("[2024-05-01T12:00:00Z] GET /\n[2024-05-01T12:00:01Z] GET /\n"), (Format::Text, Layout::Lines));
        assert_eq!(f(""), (Format::Text, Layout::Lines));
        assert_eq!(f("\x00\x01\x02binary"), (Format::Text, Layout::Lines));
    }

    #[test]
    fn forced_format_keeps_the_layout_of_the_bytes() {
        assert_eq!(sniff(b"{\n\"resourceSpans\":[]}", Some(Format::Otlp)), (Format::Otlp, Layout::Whole));
        assert_eq!(sniff(b"anything", Some(Format::Jsonl)), (Format::Jsonl, Layout::Lines));
    }
}
