//! OpenTelemetry OTLP/JSON: each span of `resourceSpans` and each log record of
//! `resourceLogs` is a record. Attribute keys go through the same alias table as
//! JSON keys (`gen_ai.conversation.id`, `gen_ai.request.model`, `user.id`...); the
//! span or log record object is the payload, so detectors see its attributes and
//! events whole.

use super::{Emit, Format, Locator};
use crate::json::{Cursor, Element, Kind, Value};
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
/// read after the rest of the resource. A broken element (resource, scope,
/// span) is one malformed record and the walk goes on after it; a broken
/// attribute costs only itself.
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
        // Elements that are not objects are passed over by `each_element`.
        c.each_element(|e| match e {
            Element::At(c) => {
                if c.peek() == Some(b'{') {
                    resource(c, level, loc, out);
                }
            }
            Element::Broken(bytes) => out.malformed(loc.of(bytes), "broken OTLP resource"),
        });
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
                if k == b"attributes" {
                    attributes(c, &mut base);
                } else if c.value().is_none() {
                    break;
                }
            }
            resource_seen = true;
        } else if k == scopes && !resource_seen {
            // Read once the resource's attributes are known.
            later.extend(c.value());
        } else if k == scopes {
            scopes_at(c, items, &base, loc, out);
        } else if c.value().is_none() {
            break;
        }
    }
    for v in later {
        scopes_at(&mut Cursor::over(v), items, &base, loc, out);
    }
}

/// A `scopeSpans` or `scopeLogs` array at the cursor.
fn scopes_at<'a, E: Emit>(c: &mut Cursor<'a>, items: &[u8], base: &Fields<'a>, loc: &mut Locator<'_>, out: &mut E) {
    c.each_element(|e| match e {
        Element::At(c) => {
            if c.peek() != Some(b'{') {
                return;
            }
            c.enter_object();
            while let Some(k) = c.next_key() {
                if k == items {
                    c.each_element(|e| match e {
                        Element::At(c) => one(c, base, loc, out),
                        Element::Broken(bytes) => out.malformed(loc.of(bytes), "broken span or log record"),
                    });
                } else if c.value().is_none() {
                    break;
                }
            }
        }
        Element::Broken(bytes) => out.malformed(loc.of(bytes), "broken OTLP scope"),
    });
}

/// Offers each `{"key", "value": {"stringValue"...}}` attribute of the array at
/// the cursor to the alias table. A broken attribute is passed over.
fn attributes<'a>(c: &mut Cursor<'a>, fields: &mut Fields<'a>) {
    c.each_element(|e| {
        let Element::At(c) = e else { return };
        let Some((key, Some(value))) = attribute(c) else { return };
        if let Some((field, prio)) = alias(key.raw()) {
            fields.offer(field, prio, value);
        }
    });
}

/// One attribute at the cursor: its key and the inside of its `AnyValue` (the
/// value object's first member's value), as `json::get` would find them (the
/// first `key` and `value` members count). `None` for an element that is not
/// an object or has no key.
pub fn attribute<'a>(c: &mut Cursor<'a>) -> Option<(Value<'a>, Option<Value<'a>>)> {
    if c.peek() != Some(b'{') {
        c.value();
        return None;
    }
    c.enter_object();
    let (mut key, mut value, mut value_seen) = (None, None, false);
    while let Some(k) = c.next_key() {
        match k {
            b"key" if key.is_none() => key = c.value(),
            b"value" if !value_seen && c.peek() == Some(b'{') => {
                value_seen = true;
                c.enter_object();
                if c.next_key().is_some() {
                    value = c.value();
                    while c.next_key().is_some() && c.value().is_some() {}
                }
            }
            b"value" if !value_seen => {
                value_seen = true;
                c.value();
            }
            _ => {
                c.value();
            }
        }
    }
    Some((key?, value))
}

/// One span or log record at the cursor. A broken one leaves the cursor
/// broken, for [`Cursor::each_element`] to pass over and report.
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
        if k == b"attributes" {
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
        return;
    }
    let raw = c.since(from);
    let mut r = Record::empty(loc.of(raw), Format::Otlp, raw);
    fields.apply(&mut r);
    (r.payload, r.payload_key) = (Some(Value::new(Kind::Object, raw)), None);
    out.record(&r);
}
