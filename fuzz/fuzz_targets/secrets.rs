//! Any text through the secret scanner and the redactor: no panic, hits inside
//! the text, and a redacted text that holds none of the values found.
#![no_main]

use std::sync::OnceLock;

use leakledger_detect::secrets::{BUILTIN, Scanner};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    static SCANNER: OnceLock<Scanner> = OnceLock::new();
    let s = SCANNER.get_or_init(|| Scanner::new(BUILTIN, [9; 32]).expect("rules"));
    let text = String::from_utf8_lossy(data);
    let hits = s.scan(&text);
    for h in &hits {
        assert!(h.start <= h.end && h.end <= text.len());
    }
    let red = s.redact(&text);
    assert!(s.scan(&red).iter().all(|h| !h.redacted.is_empty()));
});
