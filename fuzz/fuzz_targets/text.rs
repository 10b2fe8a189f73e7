//! Any text through the exposure text readers: file markers, fences, diffs, the
//! working directory, remotes, go.mod modules, URL and path normalisation.
#![no_main]

use leakledger_detect::{path, repo, text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let t = String::from_utf8_lossy(data);
    let cwd = text::working_directory(&t);
    for s in text::shown(&t) {
        let _ = path::normalize(s.path, cwd);
    }
    if let Some(r) = repo::origin_remote(&t) {
        let _ = repo::normalize_url(r);
    }
    if let Some(m) = repo::go_module(&t) {
        let _ = repo::normalize_url(m);
    }
    let _ = repo::normalize_url(&t);
    let _ = path::normalize(&t, Some("/w/r"));
});
