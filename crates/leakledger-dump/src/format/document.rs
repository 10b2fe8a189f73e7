//! Streams of JSON documents: one per line, concatenated (`}{`), or one
//! pretty-printed document per file.

use super::{Emit, Format, Locator, cloudwatch, otlp};
use crate::json::{self, Kind, Value};
use crate::record::{Record, object_fields};

/// Where the document parser stands at a place the reader cut a stream of
/// documents: so that one huge array of records (a whole export as one JSON
/// array, or CloudTrail's `{"Records": [...]}`) is parsed by every thread and
/// never held whole, and junk after a broken document is not held either.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum At {
    /// Between documents.
    #[default]
    Top,
    /// Before an element (or the closing `]`) of an array of records: a
    /// top-level array, or the `Records` array of a document that opens with
    /// it (`wrapped`: the rest of that document follows the `]`).
    Array { wrapped: bool },
    /// In such an array, after an element the reader skipped as longer than
    /// the record limit: its comma may come first.
    Skipped { wrapped: bool },
    /// After a broken document, looking for the next `{`.
    Junk,
}

impl At {
    /// Inside an array of records: whether it is wrapped in a document.
    pub(crate) fn array(self) -> Option<bool> {
        match self {
            At::Array { wrapped } | At::Skipped { wrapped } => Some(wrapped),
            At::Top | At::Junk => None,
        }
    }
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
/// A top-level array of records, and the array of a document that opens with
/// `{"Records": [` (CloudTrail's), is read element by element: a broken
/// element costs that element, not the array. `open` says whether the region
/// starts or ends inside such an array (see [`Open`]).
pub(crate) fn parse_documents<E: Emit>(format: Format, region: &[u8], open: Open, loc: &mut Locator<'_>, out: &mut E) {
    parse_region(format, region, open, false, loc, out);
}

/// [`parse_documents`]; `sliced` when `region` is one of the slices that the
/// rest of a region is read in after too many documents that never end.
fn parse_region<E: Emit>(format: Format, region: &[u8], open: Open, sliced: bool, loc: &mut Locator<'_>, out: &mut E) {
    let b = region;
    let arrays = records_in_arrays(format);
    let mut i = 0;
    // Inside an array of records: whether it is wrapped.
    let mut in_array = open.start.array().filter(|_| arrays);
    if let At::Skipped { .. } = open.start {
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
        let broken = if let Some(wrapped) = in_array.take() {
            let open_end = matches!(open.end, At::Array { .. });
            match elements(format, b, i, wrapped, open_end, loc, out) {
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
                    in_array = Some(false);
                    i += 1;
                    None
                }
                b'{' if arrays && let Some(first) = records_array(b, i) => {
                    in_array = Some(true);
                    i = first;
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
                // document boundary instead. Each such scan reads to the end,
                // so past a bound the rest is read in slices, each on its own
                // (see `parse_slices`), and the work stays linear.
                resyncs += 1;
                let next = next_boundary(b, f.at + 1);
                if resyncs > MAX_RESYNCS
                    && let Some(n) = next
                {
                    if sliced {
                        // Never silently: what is left unread is one more malformed record.
                        out.malformed(loc.of(&b[f.at..]), "too many documents that never end: the rest is not read");
                    } else {
                        parse_slices(format, &b[n..], open.end, loc, out);
                    }
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

/// Reads the rest of a region after more than [`MAX_RESYNCS`] documents that
/// never end (a writer that crashed again and again, each time leaving one
/// cut short): in slices that start where documents written one per line,
/// pretty-printed or back to back start, never inside a string
/// ([`slice_start`]), each parsed on its own.
/// A document that does not end within its slice is one malformed record,
/// found by a scan of that slice only, so the work stays linear in the rest
/// and the records after the broken ones are read. The price: a document
/// with a `{` at the start of one of its own lines (pretty-printed without
/// indentation) is read in pieces there. Within a slice the old bound holds:
/// past it, the rest of the slice is one malformed record.
fn parse_slices<E: Emit>(format: Format, rest: &[u8], end: At, loc: &mut Locator<'_>, out: &mut E) {
    let mut s = 0;
    while s < rest.len() {
        let e = slice_start(rest, s + 1).unwrap_or(rest.len());
        let last = e == rest.len();
        let open = Open { start: At::Top, end: if last { end } else { At::Top }, in_line: false };
        parse_region(format, &rest[s..e], open, true, loc, out);
        s = e;
    }
}

/// The next `{` at or after `from` that starts a line, or that follows a `}`
/// and opens an object with a key (`}{"name":`, documents back to back as
/// Firehose writes them). Neither stands inside a JSON string, which holds no
/// raw line break and no unescaped quote: the one after `}{` would end the
/// string, and a name and a colon cannot follow a string's end.
fn slice_start(b: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(k) = memchr::memchr(b'{', b.get(i..)?) {
        let at = i + k;
        if at > 0 && (b[at - 1] == b'\n' || (b[at - 1] == b'}' && opens_with_key(b, at))) {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

/// Whether the `{` at `b[at]` opens with a key: `"`, a name of up to 128
/// bytes with no quote, backslash, brace, comma, colon or line break, `"`,
/// and a colon after white space.
fn opens_with_key(b: &[u8], at: usize) -> bool {
    if b.get(at + 1) != Some(&b'"') {
        return false;
    }
    let name = &b[at + 2..b.len().min(at + 2 + 129)];
    match name.iter().position(|c| matches!(c, b'"' | b'\\' | b'{' | b'}' | b',' | b':' | b'\n')) {
        Some(n) if n > 0 && name[n] == b'"' => b.get(json::skip_ws(b, at + 2 + n + 1)) == Some(&b':'),
        _ => false,
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

/// Where the elements of the `Records` array start (past its `[`) when the
/// document at `b[i]` opens with it: CloudTrail's `{"Records": [...]}`, read
/// as an array of records so that one such export of gigabytes is cut before
/// its elements like a top-level array.
pub(crate) fn records_array(b: &[u8], i: usize) -> Option<usize> {
    let mut j = json::skip_ws(b, i + 1);
    j += b.get(j..)?.starts_with(b"\"Records\"").then_some(9)?;
    j = json::skip_ws(b, j);
    j += (b.get(j) == Some(&b':')).then_some(1)?;
    j = json::skip_ws(b, j);
    (b.get(j) == Some(&b'[')).then_some(j + 1)
}

/// Reads the rest of a document after its `Records` array (`i` just past the
/// array's `]`): any other members, and the `}`. Returns the index past it.
fn wrapper_end(b: &[u8], mut i: usize) -> json::Result<usize> {
    let fault = |offset, reason| Err(json::SyntaxError { offset, reason });
    loop {
        i = json::skip_ws(b, i);
        match b.get(i) {
            Some(b'}') => return Ok(i + 1),
            Some(b',') => {}
            None => return fault(i, "unterminated object"),
            Some(_) => return fault(i, "expected , or } after the Records array"),
        }
        i = json::skip_ws(b, i + 1);
        match b.get(i) {
            Some(b'"') => i = json::skip_string(b, i)?,
            None => return fault(i, "unterminated object"),
            Some(_) => return fault(i, "expected a member name"),
        }
        i = json::skip_ws(b, i);
        match b.get(i) {
            Some(b':') => {}
            None => return fault(i, "unterminated object"),
            Some(_) => return fault(i, "expected : after a member name"),
        }
        let (_, end) = json::scan_value(b, json::skip_ws(b, i + 1))?;
        i = end;
    }
}

/// Past the end of an array of records at `b[i]` (its `]`): past the `]`, or
/// past the rest of the document that wraps it.
fn past_array(b: &[u8], i: usize, wrapped: bool) -> json::Result<usize> {
    if wrapped { wrapper_end(b, i + 1) } else { Ok(i + 1) }
}

/// [`past_array`], a fault where the parser reports it.
fn array_end(b: &[u8], i: usize, wrapped: bool) -> Result<usize, Fault> {
    past_array(b, i, wrapped).map_err(|e| Fault { at: i, from: e.offset.max(i + 1), reason: e.reason })
}

/// Parses the elements of an array of records from `i` (just past its `[` or
/// an element's start) as records. `Ok(Some(end))` past its `]` (past the
/// document when `wrapped`); `Ok(None)` at the end of a region that
/// `open_end` says ends inside it.
fn elements<E: Emit>(
    format: Format,
    b: &[u8],
    mut i: usize,
    wrapped: bool,
    open_end: bool,
    loc: &mut Locator<'_>,
    out: &mut E,
) -> Result<Option<usize>, Fault> {
    loop {
        i = json::skip_ws(b, i);
        match b.get(i) {
            None if open_end => return Ok(None),
            None => return Err(Fault { at: i, from: i, reason: "unterminated array" }),
            Some(b']') => return array_end(b, i, wrapped).map(Some),
            Some(_) => {}
        }
        let (v, end) =
            json::scan_value(b, i).map_err(|e| Fault { at: i, from: e.offset.max(i + 1), reason: e.reason })?;
        element_record(format, v, loc, out);
        i = json::skip_ws(b, end);
        match b.get(i) {
            Some(b',') => i += 1,
            Some(b']') => return array_end(b, i, wrapped).map(Some),
            // Cut before the `]` of a wrapped array.
            None if open_end => return Ok(None),
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
/// [`parse_documents`] reads it, calling `at(pos, state)` at each place a
/// piece may start so that its parse is the same as the whole stream's: before
/// each document (or the junk where one should be), where the format's
/// arrays hold records before each element of a top-level array, and at the
/// end of junk that holds no `{`. After something broken it resumes where the
/// parser does, at the next `{` past the fault; a document that does not end
/// in `b` ends the walk (the parser's resynchronisation after one depends on
/// all that follows).
pub(crate) fn walk(format: Format, b: &[u8], mut i: usize, state: At, mut at: impl FnMut(usize, At)) -> Walked {
    let arrays = records_in_arrays(format);
    // Inside an array of records: whether it is wrapped.
    let mut in_array = state.array().filter(|_| arrays);
    if let At::Skipped { .. } = state {
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
        let (seen, from) = if let Some(wrapped) = in_array {
            let here = At::Array { wrapped };
            // Past the array's end (at `b[i]`), or where it broke.
            let mut close = |i: usize| {
                in_array = None;
                past_array(b, i, wrapped)
            };
            // Where this step started, and its end or fault.
            let start = i;
            let closed = match b.get(i) {
                // Where the next element will start: a piece may start here
                // (one left open to the end of the stream is still reported).
                None => {
                    at(i, here);
                    return Walked::More;
                }
                Some(b']') => {
                    // Before the rest of a wrapping document too, so that a
                    // long one costs no element.
                    if wrapped {
                        at(i, here);
                    }
                    close(i)
                }
                Some(_) => {
                    at(i, here);
                    match json::scan_value(b, i) {
                        Ok((_, end)) => {
                            i = json::skip_ws(b, end);
                            match b.get(i) {
                                Some(b',') => {
                                    i += 1;
                                    continue;
                                }
                                // Closed at the top of the loop.
                                Some(b']') => continue,
                                None => return Walked::More,
                                Some(_) => Err(json::SyntaxError { offset: i, reason: "expected , or ]" }),
                            }
                        }
                        Err(e) => Err(e),
                    }
                }
            };
            match closed {
                Ok(end) => {
                    i = end;
                    continue;
                }
                Err(e) if e.reason.starts_with("unterminated") => return Walked::More,
                Err(e) => (e.offset, e.offset.max(start + 1)),
            }
        } else {
            match b.get(i) {
                None => return Walked::End,
                Some(b'[') if arrays => {
                    at(i, At::Top);
                    in_array = Some(false);
                    i += 1;
                    continue;
                }
                Some(b'{') if arrays && let Some(first) = records_array(b, i) => {
                    if fault_at != Some(i) {
                        at(i, At::Top);
                    }
                    in_array = Some(true);
                    i = first;
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
        in_array = None;
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
pub(crate) const MAX_RESYNCS: usize = 16;

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
        _ => match records_of(doc) {
            Some(records) => each_record(format, records, loc, out),
            None => one_record(format, doc, loc, out),
        },
    }
}

/// The array of records a document wraps: CloudTrail's `Records`, or the
/// `hits.hits` of an Elasticsearch or OpenSearch search response (one with
/// `_shards` too, so that a record that merely has a `hits` member stays a
/// record; each hit is read from its `_source`, see `record::object_fields`).
fn records_of(doc: Value<'_>) -> Option<Value<'_>> {
    let [records, hits, shards] = doc.get_each(["Records", "hits", "_shards"])?;
    let records = records.filter(|v| v.kind() == Kind::Array);
    records.or_else(|| {
        shards?;
        hits.filter(|h| h.kind() == Kind::Object)?.get("hits").filter(|v| v.kind() == Kind::Array)
    })
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
