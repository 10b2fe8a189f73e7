//! Streams of JSON documents: one per line, concatenated (`}{`), or one
//! pretty-printed document per file.

use super::{Emit, Format, Locator, cloudwatch, otlp};
use crate::json::{self, Kind, Value};
use crate::record::{Record, object_fields};

/// Where the document parser stands at a place the reader cut a stream of
/// documents: so that one huge array of records (a whole export as one JSON
/// array) is parsed by every thread and never held whole, and junk after a
/// broken document is not held either.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum At {
    /// Between documents.
    #[default]
    Top,
    /// Before an element (or the closing `]`) of a top-level array of records.
    Array,
    /// In such an array, after an element the reader skipped as longer than
    /// the record limit: its comma may come first.
    Skipped,
    /// After a broken document, looking for the next `{`.
    Junk,
}

/// Where the parser stands at the start and the end of a piece the reader cut.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Open {
    /// At the piece's first byte.
    pub(crate) start: At,
    /// At the byte after its last.
    pub(crate) end: At,
    /// The piece starts inside a line of documents (a CloudWatch line is read
    /// as documents, not as an export line, whatever its first byte there).
    pub(crate) in_line: bool,
}

/// Whether a top-level array of `format` is a list of records, parsed (and
/// cut) element by element. CloudWatch and OTLP documents are objects.
pub(crate) fn records_in_arrays(format: Format) -> bool {
    !matches!(format, Format::Cloudwatch | Format::Otlp)
}

/// Parses every JSON document in `region` (a slice of the locator's buffer).
/// A broken document is one malformed record; parsing resumes at the next `{`
/// after the point where it broke (never before it, so the work stays linear).
/// A top-level array of records is read element by element: a broken element
/// costs that element, not the array. `open` says whether the region starts or
/// ends inside such an array (see [`Open`]).
pub(crate) fn parse_documents<E: Emit>(format: Format, region: &[u8], open: Open, loc: &mut Locator<'_>, out: &mut E) {
    let b = region;
    let arrays = records_in_arrays(format);
    let mut i = 0;
    let mut in_array = matches!(open.start, At::Array | At::Skipped) && arrays;
    if open.start == At::Skipped {
        i = after_skipped_element(b);
    }
    if open.start == At::Junk {
        match memchr::memchr(b'{', b) {
            Some(k) => i = k,
            None => return,
        }
    }
    let mut resyncs = 0;
    loop {
        let broken = if in_array {
            in_array = false;
            match elements(format, b, i, open.end == At::Array, loc, out) {
                Ok(Some(end)) => {
                    i = end;
                    None
                }
                Ok(None) => break,
                Err(fault) => Some(fault),
            }
        } else {
            i = json::skip_ws(b, i);
            if i >= b.len() {
                break;
            }
            match b[i] {
                b'[' if arrays => {
                    in_array = true;
                    i += 1;
                    None
                }
                b'{' if format == Format::Cloudwatch
                    && let Some(end) = cloudwatch::subscription_at(b, i, loc, out) =>
                {
                    // Read in the pass that found its end; anything else is
                    // scanned first, as below.
                    i = end;
                    None
                }
                b'{' | b'[' => match json::scan_value(b, i) {
                    Ok((doc, end)) => {
                        parse_document(format, doc, loc, out);
                        i = end;
                        None
                    }
                    Err(e) => Some(Fault { at: i, from: e.offset.max(i + 1), reason: e.reason }),
                },
                _ => {
                    out.malformed(loc.of(&b[i..]), "not a JSON document");
                    match memchr::memchr(b'{', &b[i..]) {
                        Some(k) => {
                            i += k;
                            None
                        }
                        None => break,
                    }
                }
            }
        };
        if let Some(f) = broken {
            out.malformed(loc.of(&b[f.at..]), f.reason);
            let next = if f.reason.starts_with("unterminated") {
                // The scan ran to the end of the region: look for the next
                // document boundary instead, a bounded number of times so
                // that hostile input cannot make this quadratic.
                resyncs += 1;
                let next = next_boundary(b, f.at + 1);
                if resyncs > MAX_RESYNCS && next.is_some() {
                    // Never silently: what is left unread is one more malformed record.
                    out.malformed(loc.of(&b[f.at..]), "too many documents that never end: the rest is not read");
                    break;
                }
                next
            } else {
                let from = f.from.min(b.len());
                memchr::memchr(b'{', &b[from..]).map(|k| from + k)
            };
            match next {
                Some(n) => i = n,
                None => break,
            }
        }
    }
}

/// Where a piece that starts after an element the reader skipped as too long
/// to hold has its next element: past the comma after the skipped one.
fn after_skipped_element(b: &[u8]) -> usize {
    let i = json::skip_ws(b, 0);
    if b.get(i) == Some(&b',') { i + 1 } else { 0 }
}

/// Where a document or element broke: the malformed record's place, where to
/// look for the next `{`, and why.
struct Fault {
    at: usize,
    from: usize,
    reason: &'static str,
}

/// Parses the elements of a top-level array from `i` (just past its `[` or
/// an element's start) as records. `Ok(Some(end))` past its `]`;
/// `Ok(None)` at the end of a region that `open_end` says ends inside it.
fn elements<E: Emit>(
    format: Format,
    b: &[u8],
    mut i: usize,
    open_end: bool,
    loc: &mut Locator<'_>,
    out: &mut E,
) -> Result<Option<usize>, Fault> {
    loop {
        i = json::skip_ws(b, i);
        match b.get(i) {
            None if open_end => return Ok(None),
            None => return Err(Fault { at: i, from: i, reason: "unterminated array" }),
            Some(b']') => return Ok(Some(i + 1)),
            Some(_) => {}
        }
        let (v, end) =
            json::scan_value(b, i).map_err(|e| Fault { at: i, from: e.offset.max(i + 1), reason: e.reason })?;
        element_record(format, v, loc, out);
        i = json::skip_ws(b, end);
        match b.get(i) {
            Some(b',') => i += 1,
            Some(b']') => return Ok(Some(i + 1)),
            // Broken after a whole element: look for the next document from
            // here (a missing comma loses nothing).
            Some(_) => return Err(Fault { at: i, from: i, reason: "expected , or ] after an array element" }),
            None => return Err(Fault { at: i, from: i, reason: "unterminated array" }),
        }
    }
}

/// How many bytes past a fault [`walk`] wants in the region before it trusts
/// the fault (the longest literal, `false`, and then some).
pub(crate) const LOOKAHEAD: usize = 8;

/// How a [`walk`] over a stream of documents ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Walked {
    /// Every document ended, and only white space follows.
    End,
    /// The last document (or array) goes on past the region, or the region
    /// ends before the parser would resume after a broken one.
    More,
}

/// Walks `b` from `i` (inside a top-level array when `in_array`) as
/// [`parse_documents`] reads it, calling `at(pos, in_array)` at each place a
/// piece may start so that its parse is the same as the whole stream's: before
/// each document (or the junk where one should be), where the format's
/// arrays hold records before each element of a top-level array, and at the
/// end of junk that holds no `{`. After something broken it resumes where the
/// parser does, at the next `{` past the fault; a document that does not end
/// in `b` ends the walk (the parser's resynchronisation after one depends on
/// all that follows).
pub(crate) fn walk(format: Format, b: &[u8], mut i: usize, state: At, mut at: impl FnMut(usize, At)) -> Walked {
    let arrays = records_in_arrays(format);
    let mut in_array = matches!(state, At::Array | At::Skipped) && arrays;
    if state == At::Skipped {
        i = i.max(after_skipped_element(b));
    }
    if state == At::Junk {
        match memchr::memchr(b'{', &b[i.min(b.len())..]) {
            Some(k) => i += k,
            None => {
                at(b.len(), At::Junk);
                return Walked::More;
            }
        }
    }
    // No piece may start where a fault was seen: the piece before would end
    // without the byte that shows it.
    let mut fault_at = None;
    loop {
        i = json::skip_ws(b, i);
        // Where the parser saw a fault, and where it looks for the next `{`.
        let (seen, from) = if in_array {
            match b.get(i) {
                // Where the next element will start: a piece may start here
                // (one left open to the end of the stream is still reported).
                None => {
                    at(i, At::Array);
                    return Walked::More;
                }
                Some(b']') => {
                    in_array = false;
                    i += 1;
                    continue;
                }
                Some(_) => at(i, At::Array),
            }
            match json::scan_value(b, i) {
                Ok((_, end)) => {
                    i = json::skip_ws(b, end);
                    match b.get(i) {
                        Some(b',') => {
                            i += 1;
                            continue;
                        }
                        Some(b']') => {
                            in_array = false;
                            i += 1;
                            continue;
                        }
                        None => return Walked::More,
                        Some(_) => (i, i),
                    }
                }
                Err(e) if e.reason.starts_with("unterminated") => return Walked::More,
                Err(e) => (e.offset, e.offset.max(i + 1)),
            }
        } else {
            match b.get(i) {
                None => return Walked::End,
                Some(b'[') if arrays => {
                    at(i, At::Top);
                    in_array = true;
                    i += 1;
                    continue;
                }
                Some(b'{' | b'[') => {
                    if fault_at != Some(i) {
                        at(i, At::Top);
                    }
                    match json::scan_value(b, i) {
                        Ok((_, end)) => {
                            i = end;
                            continue;
                        }
                        Err(e) if e.reason.starts_with("unterminated") => return Walked::More,
                        Err(e) => (e.offset, e.offset.max(i + 1)),
                    }
                }
                // Junk where a document should be: a piece may start here too,
                // the parser reports it and looks for a `{` either way.
                Some(_) => {
                    at(i, At::Top);
                    (i, i + 1)
                }
            }
        };
        // A fault at the end of the region may be the region's end (a value
        // cut short, `tru` of `true`): more bytes decide.
        if seen.saturating_add(LOOKAHEAD) > b.len() {
            return Walked::More;
        }
        fault_at = Some(seen);
        in_array = false;
        match memchr::memchr(b'{', &b[from.min(b.len())..]) {
            Some(k) => i = from + k,
            None => {
                // The rest is junk to the parser: a piece may end here.
                at(b.len(), At::Junk);
                return Walked::More;
            }
        }
    }
}

/// How many times one region may resynchronise after a document that never ends.
pub(crate) const MAX_RESYNCS: usize = 64;

/// The next `{` that follows a `}` or a newline (possibly after white space).
pub(crate) fn next_boundary(b: &[u8], from: usize) -> Option<usize> {
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
        // An object: top-level arrays of these formats are read element by
        // element in parse_documents.
        _ => match json::get(doc, b"Records") {
            Some(records) if records.kind() == Kind::Array => each_record(format, records, loc, out),
            _ => one_record(format, doc, loc, out),
        },
    }
}

fn each_record<E: Emit>(format: Format, array: Value<'_>, loc: &mut Locator<'_>, out: &mut E) {
    let _ = json::for_each_element(array.raw(), 0, |v, _| element_record(format, v, loc, out));
}

/// One element of an array of records: a record if it is an object.
fn element_record<E: Emit>(format: Format, v: Value<'_>, loc: &mut Locator<'_>, out: &mut E) {
    if v.kind() == Kind::Object {
        one_record(format, v, loc, out);
    } else {
        out.malformed(loc.of(v.raw()), "array element is not an object");
    }
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
