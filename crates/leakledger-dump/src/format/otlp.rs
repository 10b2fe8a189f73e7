//! OpenTelemetry OTLP/JSON: each span of `resourceSpans` and each log record of
//! `resourceLogs` is a record. Attribute keys go through the same alias table as
//! JSON keys (`gen_ai.conversation.id`, `gen_ai.request.model`, `user.id`...); the
//! span or log record object is the payload, so detectors see its attributes and
//! events whole.

use super::{Emit, Format, Locator};
use crate::json::{Cursor, Kind, Value};
use crate::record::{Field, Fields, Record, alias};

/// Priority for the OTLP structural ids: below any alias found in attributes, so
/// a conversation id beats the trace id.
const STRUCTURAL: u8 = 200;

/// One pass down the document with a [`Cursor`]: each level is entered where
/// it stands, never skipped first and entered after. (Finding `spans` with
/// `get` at every level skipped the bytes of a span about fourteen times, and
/// OTLP lines cost 2.4 times as much per byte as the other formats.) Records
/// come out in document order; a resource's attributes apply to its spans when
/// `resource` comes first, as exporters write it, and otherwise its scopes are
/// read after the rest of the resource.
pub(super) fn parse<E: Emit>(doc: Value<'_>, loc: &mut Locator<'_>, out: &mut E) {
    let mut c = Cursor::over(doc);
    if !c.enter_object() {
        return;
    }
    while let Some(k) = c.next_key() {
        let level = match k {
            b"resourceSpans" => (&b"scopeSpans"[..], &b"spans"[..]),
            b"resourceLogs" => (&b"scopeLogs"[..], &b"logRecords"[..]),
            _ => {
                c.value();
                continue;
            }
        };
        if !enter_array(&mut c) {
            continue;
        }
        while c.next_element() {
            if c.peek() == Some(b'{') {
                resource(&mut c, level, loc, out);
            } else if c.value().is_none() {
                break;
            }
        }
    }
}

/// Enters the array at the cursor, or consumes a value of another kind: false.
fn enter_array(c: &mut Cursor<'_>) -> bool {
    if c.peek() == Some(b'[') {
        c.enter_array()
    } else {
        c.value();
        false
    }
}

/// One element of `resourceSpans` or `resourceLogs`, the cursor at its `{`.
fn resource<'a, E: Emit>(c: &mut Cursor<'a>, (scopes, items): (&[u8], &[u8]), loc: &mut Locator<'_>, out: &mut E) {
    c.enter_object();
    let mut base = Fields::default();
    let mut resource_seen = false;
    let mut later = Vec::new();
    while let Some(k) = c.next_key() {
        if k == b"resource" && c.peek() == Some(b'{') {
            c.enter_object();
            while let Some(k) = c.next_key() {
                if k == b"attributes" && c.peek() == Some(b'[') {
                    attributes(c, &mut base);
                } else if c.value().is_none() {
                    break;
                }
            }
            resource_seen = true;
        } else if k == scopes && !resource_seen {
            // Read once the resource's attributes are known.
            later.extend(c.value());
        } else if k == scopes && enter_array(c) {
            scopes_at(c, items, &base, loc, out);
        } else if c.value().is_none() {
            break;
        }
    }
    for v in later {
        let mut c = Cursor::over(v);
        if enter_array(&mut c) {
            scopes_at(&mut c, items, &base, loc, out);
        }
    }
}

/// The elements of a `scopeSpans` or `scopeLogs` array, the cursor inside it.
fn scopes_at<'a, E: Emit>(c: &mut Cursor<'a>, items: &[u8], base: &Fields<'a>, loc: &mut Locator<'_>, out: &mut E) {
    while c.next_element() {
        if c.peek() != Some(b'{') {
            if c.value().is_none() {
                break;
            }
            continue;
        }
        c.enter_object();
        while let Some(k) = c.next_key() {
            if k == items && enter_array(c) {
                while c.next_element() {
                    one(c, base, loc, out);
                }
            } else if k != items && c.value().is_none() {
                break;
            }
        }
    }
}

/// Offers each `{"key", "value": {"stringValue"...}}` attribute to the alias
/// table; the cursor at the array's `[`.
fn attributes<'a>(c: &mut Cursor<'a>, fields: &mut Fields<'a>) {
    c.enter_array();
    while c.next_element() {
        let Some((key, value)) = attribute(c) else { continue };
        let Some((field, prio)) = alias(key.raw()) else { continue };
        if let Some(v) = value {
            fields.offer(field, prio, v);
        }
    }
}

/// One attribute at the cursor: its key and the inside of its `AnyValue` (the
/// value object's one member's value). `None` for an element that is not an
/// object or has no key.
pub fn attribute<'a>(c: &mut Cursor<'a>) -> Option<(Value<'a>, Option<Value<'a>>)> {
    if c.peek() != Some(b'{') {
        c.value();
        return None;
    }
    c.enter_object();
    let (mut key, mut value) = (None, None);
    while let Some(k) = c.next_key() {
        match k {
            b"key" => key = c.value(),
            b"value" if c.peek() == Some(b'{') => {
                c.enter_object();
                if c.next_key().is_some() {
                    value = c.value();
                    while c.next_key().is_some() && c.value().is_some() {}
                }
            }
            _ => {
                c.value();
            }
        }
    }
    Some((key?, value))
}

/// One span or log record at the cursor.
fn one<'a, E: Emit>(c: &mut Cursor<'a>, base: &Fields<'a>, loc: &mut Locator<'_>, out: &mut E) {
    let from = c.offset();
    if c.peek() != Some(b'{') {
        if let Some(v) = c.value() {
            out.malformed(loc.of(v.raw()), "span or log record is not an object");
        }
        return;
    }
    let mut fields = *base;
    c.enter_object();
    while let Some(k) = c.next_key() {
        if k == b"attributes" && c.peek() == Some(b'[') {
            attributes(c, &mut fields);
            continue;
        }
        let Some(v) = c.value() else { break };
        match k {
            b"traceId" => fields.offer(Field::TraceId, STRUCTURAL, v),
            b"spanId" => {
                fields.offer(Field::SpanId, 0, v);
                fields.offer(Field::RequestId, STRUCTURAL, v);
            }
            b"parentSpanId" => fields.offer(Field::ParentId, 0, v),
            b"startTimeUnixNano" => fields.offer(Field::Ts, 0, v),
            b"timeUnixNano" => fields.offer(Field::Ts, 1, v),
            b"observedTimeUnixNano" => fields.offer(Field::Ts, 2, v),
            _ => {}
        }
    }
    if c.broken() {
        // The document's brackets balance (it was skipped whole before), so
        // the span can be passed over and the walk go on with the next one.
        out.malformed(loc.of(c.since(from)), "broken span or log record");
        c.resume_after(from);
        return;
    }
    let raw = c.since(from);
    let here = loc.of(raw);
    let mut r = Record::empty(here, Format::Otlp, raw);
    fields.apply(&mut r);
    r.payload = Some(Value::new(Kind::Object, raw));
    out.record(&r);
}
