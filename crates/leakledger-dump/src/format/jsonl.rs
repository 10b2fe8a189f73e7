//! JSONL (and GCP LogEntry JSONL): one object per line, fields by alias.

use super::{Emit, Format};
use crate::json;
use crate::record::{Location, Record, object_fields};

/// Parses one line holding a JSON object.
pub(super) fn parse<E: Emit>(format: Format, line: &[u8], here: Location, out: &mut E) {
    let i = json::skip_ws(line, 0);
    if line.get(i) != Some(&b'{') {
        out.malformed(here, "not a JSON object");
        return;
    }
    match object_fields(line, i) {
        Ok((fields, end)) => {
            if json::skip_ws(line, end) != line.len() {
                out.malformed(here, "bytes after the JSON object");
                return;
            }
            let mut r = Record::empty(here, format, line);
            fields.apply(&mut r);
            out.record(&r);
        }
        Err(e) => out.malformed(here, e.reason),
    }
}

/// Parses a JSON object held in `text` (already unescaped, e.g. a CloudWatch
/// message) into a record, filling absent fields from `fallback`.
pub(super) fn parse_embedded<'a, E: Emit>(
    format: Format,
    text: &'a [u8],
    here: Location,
    fallback: &Record<'a>,
    out: &mut E,
) {
    let i = json::skip_ws(text, 0);
    match object_fields(text, i) {
        Ok((fields, end)) if json::skip_ws(text, end) == text.len() => {
            let mut r = fallback.clone();
            r.location = here;
            r.format = format;
            r.raw = text;
            let ts = r.ts;
            fields.apply(&mut r);
            r.ts = r.ts.or(ts);
            out.record(&r);
        }
        Ok(_) => out.malformed(here, "bytes after the embedded JSON object"),
        Err(e) => out.malformed(here, e.reason),
    }
}
