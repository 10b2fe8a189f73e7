//! OpenTelemetry OTLP/JSON: each span of `resourceSpans` and each log record of
//! `resourceLogs` is a record. Attribute keys go through the same alias table as
//! JSON keys (`gen_ai.conversation.id`, `gen_ai.request.model`, `user.id`...); the
//! span or log record object is the payload, so detectors see its attributes and
//! events whole.

use super::{Emit, Format, Locator};
use crate::json::{self, Kind, Value};
use crate::record::{Field, Fields, Record, alias};

/// Priority for the OTLP structural ids: below any alias found in attributes, so
/// a conversation id beats the trace id.
const STRUCTURAL: u8 = 200;

pub(super) fn parse<E: Emit>(doc: Value<'_>, loc: &mut Locator<'_>, out: &mut E) {
    for (resources, scopes, items) in
        [(&b"resourceSpans"[..], &b"scopeSpans"[..], &b"spans"[..]), (b"resourceLogs", b"scopeLogs", b"logRecords")]
    {
        let Some(resources) = json::get(doc, resources) else { continue };
        let _ = json::for_each_element(resources.raw(), 0, |res, _| {
            let mut base = Fields::default();
            if let Some(attrs) = json::get(res, b"resource").and_then(|r| json::get(r, b"attributes")) {
                attributes(attrs, &mut base);
            }
            let Some(scopes) = json::get(res, scopes) else { return };
            let _ = json::for_each_element(scopes.raw(), 0, |scope, _| {
                let Some(items) = json::get(scope, items) else { return };
                let _ = json::for_each_element(items.raw(), 0, |item, _| {
                    one(item, &base, loc, out);
                });
            });
        });
    }
}

/// Offers each `{"key", "value": {"stringValue"...}}` attribute to the alias table.
fn attributes<'a>(attrs: Value<'a>, fields: &mut Fields<'a>) {
    let _ = json::for_each_element(attrs.raw(), 0, |kv, _| {
        let (Some(key), Some(value)) = (json::get(kv, b"key"), json::get(kv, b"value")) else { return };
        let Some((field, prio)) = alias(key.raw()) else { return };
        if let Some(v) = any_value(value) {
            fields.offer(field, prio, v);
        }
    });
}

/// The inside of an OTLP `AnyValue`: its one member's value.
fn any_value(v: Value<'_>) -> Option<Value<'_>> {
    if v.kind() != Kind::Object {
        return None;
    }
    let mut inner = None;
    json::for_each_member(v.raw(), 0, |_, val| inner = inner.or(Some(val))).ok()?;
    inner
}

fn one<E: Emit>(item: Value<'_>, base: &Fields<'_>, loc: &mut Locator<'_>, out: &mut E) {
    let here = loc.of(item.raw());
    if item.kind() != Kind::Object {
        out.malformed(here, "span or log record is not an object");
        return;
    }
    let mut fields = *base;
    let result = json::for_each_member(item.raw(), 0, |k, v| match k {
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
    });
    if let Err(e) = result {
        out.malformed(here, e.reason);
        return;
    }
    if let Some(attrs) = json::get(item, b"attributes") {
        attributes(attrs, &mut fields);
    }
    let mut r = Record::empty(here, Format::Otlp, item.raw());
    fields.apply(&mut r);
    r.payload = Some(item);
    out.record(&r);
}
