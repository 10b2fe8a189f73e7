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
    let stream = json::get(doc, b"logStream");
    let Some(events) = json::get(doc, b"logEvents") else {
        // A CONTROL_MESSAGE or an object that is not a subscription record: the
        // records of a cloudwatch source are its events, so there are none here.
        return;
    };
    if events.kind() != Kind::Array {
        out.malformed(loc.of(doc.raw()), "logEvents is not an array");
        return;
    }
    let mut scratch = out.take_scratch();
    let _ = json::for_each_element(events.raw(), 0, |ev, _| {
        let here = loc.of(ev.raw());
        if ev.kind() != Kind::Object {
            out.malformed(here, "log event is not an object");
            return;
        }
        let mut r = Record::empty(here, Format::Cloudwatch, ev.raw());
        r.stream = stream;
        r.ts = json::get(ev, b"timestamp").and_then(|v| time::parse_value(&v));
        r.request_id = json::get(ev, b"id").filter(|v| !v.is_empty());
        let Some(msg) = json::get(ev, b"message") else {
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
