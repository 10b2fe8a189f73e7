//! Streams of JSON documents: one per line, concatenated (`}{`), or one
//! pretty-printed document per file.

use super::{Emit, Format, Locator, cloudwatch, otlp};
use crate::json::{self, Kind, Value};
use crate::record::{Record, object_fields};

/// Parses every JSON document in `region` (a slice of the locator's buffer).
/// A broken document is one malformed record; parsing resumes at the next `{`
/// after the point where it broke (never before it, so the work stays linear).
pub(crate) fn parse_documents<E: Emit>(format: Format, region: &[u8], loc: &mut Locator<'_>, out: &mut E) {
    let b = region;
    let mut i = json::skip_ws(b, 0);
    let mut resyncs = 0;
    while i < b.len() {
        match b[i] {
            b'{' | b'[' => match json::scan_value(b, i) {
                Ok((doc, end)) => {
                    parse_document(format, doc, loc, out);
                    i = json::skip_ws(b, end);
                }
                Err(e) => {
                    out.malformed(loc.of(&b[i..]), e.reason);
                    let next = if e.reason.starts_with("unterminated") {
                        // The scan ran to the end of the region: look for the next
                        // document boundary instead, a bounded number of times so
                        // that hostile input cannot make this quadratic.
                        resyncs += 1;
                        if resyncs > MAX_RESYNCS { None } else { next_boundary(b, i + 1) }
                    } else {
                        let from = e.offset.max(i + 1).min(b.len());
                        memchr::memchr(b'{', &b[from..]).map(|k| from + k)
                    };
                    match next {
                        Some(n) => i = n,
                        None => break,
                    }
                }
            },
            _ => {
                out.malformed(loc.of(&b[i..]), "not a JSON document");
                match memchr::memchr(b'{', &b[i..]) {
                    Some(k) => i += k,
                    None => break,
                }
            }
        }
    }
}

/// How many times one region may resynchronise after a document that never ends.
const MAX_RESYNCS: usize = 64;

/// The next `{` that follows a `}` or a newline (possibly after white space).
fn next_boundary(b: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(k) = memchr::memchr(b'{', &b[i.min(b.len())..]) {
        let at = i + k;
        let mut p = at;
        while p > 0 && matches!(b[p - 1], b' ' | b'\t' | b'\r') {
            p -= 1;
        }
        if p > 0 && matches!(b[p - 1], b'}' | b'\n') {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

fn parse_document<E: Emit>(format: Format, doc: Value<'_>, loc: &mut Locator<'_>, out: &mut E) {
    match format {
        Format::Cloudwatch => cloudwatch::parse_subscription(doc, loc, out),
        Format::Otlp => otlp::parse(doc, loc, out),
        _ => match doc.kind() {
            Kind::Object => match json::get(doc, b"Records") {
                Some(records) if records.kind() == Kind::Array => each_record(format, records, loc, out),
                _ => one_record(format, doc, loc, out),
            },
            _ => each_record(format, doc, loc, out),
        },
    }
}

fn each_record<E: Emit>(format: Format, array: Value<'_>, loc: &mut Locator<'_>, out: &mut E) {
    let _ = json::for_each_element(array.raw(), 0, |v, _| {
        if v.kind() == Kind::Object {
            one_record(format, v, loc, out);
        } else {
            out.malformed(loc.of(v.raw()), "array element is not an object");
        }
    });
}

fn one_record<E: Emit>(format: Format, obj: Value<'_>, loc: &mut Locator<'_>, out: &mut E) {
    let here = loc.of(obj.raw());
    match object_fields(obj.raw(), 0) {
        Ok((fields, _)) => {
            let mut r = Record::empty(here, format, obj.raw());
            fields.apply(&mut r);
            out.record(&r);
        }
        Err(e) => out.malformed(here, e.reason),
    }
}
