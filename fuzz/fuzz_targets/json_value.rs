//! Any bytes as a JSON value of each kind: unescaping, member and element
//! walks, JSON inside a string, all without a panic.
#![no_main]

use leakledger_dump::{Kind, Value};
use libfuzzer_sys::fuzz_target;

fn walk(v: Value<'_>, depth: usize) {
    if depth > 32 {
        return;
    }
    let _ = v.as_str();
    let mut out = Vec::new();
    let _ = v.unescape_into(&mut out);
    for (_, m) in v.members() {
        walk(m, depth + 1);
    }
    for e in v.elements() {
        walk(e, depth + 1);
    }
    let mut scratch = Vec::new();
    if let Some(inner) = v.decode_json(&mut scratch) {
        let _ = inner.raw().len();
    }
}

fuzz_target!(|data: &[u8]| {
    for kind in [Kind::String, Kind::Object, Kind::Array] {
        walk(Value::new(kind, data), 0);
    }
});
