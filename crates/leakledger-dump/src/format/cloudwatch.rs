//! CloudWatch Logs: export lines and subscription (Firehose) records.

use super::{Emit, Format, Locator, jsonl};
use crate::json::{self, Kind, Value};
use crate::record::{Location, Record};
use crate::time;

/// An export line: `TIMESTAMP SP MESSAGE`. A JSON message is parsed as a record
/// with the line's time as fallback; anything else (including a continuation line
/// of a multi-line message) is a text record.
pub(super) fn parse_export_line<E: Emit>(line: &[u8], here: Location, out: &mut E) {
    let mut r = Record::empty(here, Format::Cloudwatch, line);
    let mut message = line;
    if let Some((t, used)) = time::parse_text_prefix(line)
        && matches!(line.get(used), Some(b' ' | b'\t'))
    {
        r.ts = Some(t);
        message = &line[used + 1..];
    }
    let m = json::skip_ws(message, 0);
    if message.get(m) == Some(&b'{') {
        jsonl::parse_embedded(Format::Cloudwatch, message, here, &r, out);
        return;
    }
    r.payload = Some(Value::text(message));
    out.record(&r);
}

/// A subscription record: `{"messageType", "logGroup", "logStream", "logEvents":
/// [{"id", "timestamp", "message"}]}`. Each event is a record; its message, a
/// string, is decoded and parsed when it holds a JSON object.
pub(super) fn parse_subscription<E: Emit>(doc: Value<'_>, loc: &mut Locator<'_>, out: &mut E) {
    // Both members in one pass: each lookup reads the whole document.
    match json::get_each(doc, [b"logStream", b"logEvents"]) {
        Some([stream, events]) => subscription(doc, stream, events, loc, out),
        // Its brackets balance but its members do not parse: its events
        // cannot be told apart, and it is not silently dropped.
        None => out.malformed(loc.of(doc.raw()), "subscription record is not a well-formed object"),
    }
}

/// The subscription record at `b[i]`, read in the pass that finds its end,
/// which it returns; `None`, having read nothing, when it is not a well-formed
/// object (the caller scans it as a document and hands it to
/// [`parse_subscription`], which finds it broken or not an object).
pub(super) fn subscription_at<E: Emit>(b: &[u8], i: usize, loc: &mut Locator<'_>, out: &mut E) -> Option<usize> {
    let ([stream, events], end) = json::members_named(b, i, [b"logStream", b"logEvents"]).ok()?;
    subscription(Value::new(Kind::Object, &b[i..end]), stream, events, loc, out);
    Some(end)
}

/// The events of a subscription record `doc` with its members `logStream`
/// and `logEvents`.
fn subscription<E: Emit>(
    doc: Value<'_>,
    stream: Option<Value<'_>>,
    events: Option<Value<'_>>,
    loc: &mut Locator<'_>,
    out: &mut E,
) {
    let Some(events) = events else {
        // A CONTROL_MESSAGE or an object that is not a subscription record: the
        // records of a cloudwatch source are its events, so there are none here.
        return;
    };
    if events.kind() != Kind::Array {
        out.malformed(loc.of(doc.raw()), "logEvents is not an array");
        return;
    }
    let mut scratch = out.take_scratch();
    let _ = json::for_each_element_with(events.raw(), 0, event, |ev, members| {
        let here = loc.of(ev.raw());
        let Some([ts, id, msg]) = members else {
            out.malformed(here, "log event is not a well-formed object");
            return;
        };
        let mut r = Record::empty(here, Format::Cloudwatch, ev.raw());
        r.stream = stream;
        r.ts = ts.and_then(|v| time::parse_value(&v));
        r.request_id = id.filter(|v| !v.is_empty());
        let Some(msg) = msg else {
            out.record(&r);
            return;
        };
        if msg.kind() != Kind::String {
            r.payload = Some(msg);
            out.record(&r);
            return;
        }
        scratch.clear();
        msg.unescape_into(&mut scratch);
        let start = json::skip_ws(&scratch, 0);
        if scratch.get(start) == Some(&b'{') {
            jsonl::parse_embedded(Format::Cloudwatch, &scratch, here, &r, out);
        } else {
            r.payload = Some(Value::text(&scratch));
            out.record(&r);
        }
    });
    out.put_scratch(scratch);
}

/// A log event, the index past it, and its `timestamp`, `id` and `message`
/// (`None` when it is not a well-formed object).
type Event<'a> = (Value<'a>, usize, Option<[Option<Value<'a>>; 3]>);

/// The log event at `b[i]`, its members read in the pass that finds its end
/// (asking for each member read the event again). One that is not a
/// well-formed object is scanned as an element, and has no members.
fn event(b: &[u8], i: usize) -> json::Result<Event<'_>> {
    match json::members_named(b, i, [b"timestamp", b"id", b"message"]) {
        Ok((members, end)) => Ok((Value::new(Kind::Object, &b[i..end]), end, Some(members))),
        Err(_) => json::scan_value(b, i).map(|(v, end)| (v, end, None)),
    }
}
