//! Any bytes as a dump file, sniffed or forced to each format, mapped or read:
//! the whole analysis (records, payload walk, exposure, secrets, chains) must
//! finish without a panic, and every record is either counted or malformed.
//! The detectors are built once (compiling the rules takes longer than a run).
#![no_main]

use std::sync::{Arc, OnceLock};

use leakledger::{Dump, Format, Options, Partial};
use leakledger_detect::exposure::Lookouts;
use leakledger_detect::identifiers::Identifiers;
use leakledger_detect::secrets::{BUILTIN, Scanner};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    static LOOK: OnceLock<Arc<Lookouts>> = OnceLock::new();
    let look = LOOK.get_or_init(|| {
        Arc::new(Lookouts {
            identifiers: Identifiers::new(&["com.acme.".to_string()]),
            secrets: Some(Scanner::new(BUILTIN, [9; 32]).expect("rules")),
            vault: None,
        })
    });
    let Some((&mode, body)) = data.split_first() else { return };
    let dir = std::env::temp_dir().join(format!("leakledger-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("input.log");
    if std::fs::write(&path, body).is_err() {
        return;
    }
    let format = match mode % 8 {
        0 => Some(Format::Jsonl),
        1 => Some(Format::Cloudwatch),
        2 => Some(Format::Otlp),
        3 => Some(Format::Json),
        4 => Some(Format::Gcp),
        5 => Some(Format::Text),
        _ => None,
    };
    let options = Options::new().format(format).mmap(mode & 8 == 0).chunk_size(1 << 12);
    let Ok(dump) = Dump::open(&[&path], &options) else { return };
    let a = leakledger::finish(dump.scan(|| Partial::new(look.clone())));
    assert!(a.summary.records.malformed <= a.summary.records.total);
    assert_eq!(a.chain_entries.len() as u64, a.summary.chains.total);
});
