//! Single-thread rate of the secret scanner over a file's text, and how often
//! each rule keyword occurs in it (the keywords that open the most windows are
//! the ones that cost).
//!
//! ```sh
//! cargo run --release -p leakledger-detect --example scan_rate -- FILE [RULES.toml]
//! ```
//!
//! With a rule file, also times each of its rules alone over the first 16 MiB
//! and lists the slowest.

#![allow(clippy::print_stdout, clippy::print_stderr)] // a measuring tool: it prints its table

use std::process::ExitCode;
use std::time::Instant;

use leakledger_detect::secrets::{BUILTIN, Scanner};

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: scan_rate FILE");
        return ExitCode::from(2);
    };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let text = String::from_utf8_lossy(&bytes);
    let scanner = Scanner::new(BUILTIN, [0; 32]).expect("rules");
    // 256 KiB pieces, cut at line ends, as the pass hands texts over.
    let mut pieces = Vec::new();
    let mut rest: &str = &text;
    while !rest.is_empty() {
        let mut cut = rest.len().min(256 << 10);
        while !rest.is_char_boundary(cut) {
            cut += 1;
        }
        let cut = rest[cut..].find('\n').map_or(rest.len(), |p| cut + p + 1);
        pieces.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    let started = Instant::now();
    let hits: usize = pieces.iter().map(|p| scanner.scan(p).len()).sum();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{} rules, {:.1} MiB in {secs:.2} s: {:.0} MiB/s, {hits} hits",
        BUILTIN.len(),
        text.len() as f64 / 1048576.0,
        text.len() as f64 / 1048576.0 / secs
    );
    let mut counts: Vec<(usize, &str, &str)> = Vec::new();
    for rule in BUILTIN {
        for k in rule.keywords {
            let n = memchr::memmem::find_iter(text.as_bytes(), k.as_bytes()).count();
            counts.push((n, k, rule.id));
        }
    }
    counts.sort_unstable_by(|a, b| b.cmp(a));
    println!("most frequent keywords (per MiB):");
    for (n, k, id) in counts.iter().take(25) {
        println!("  {:>10.1}  {k:?}  {id}", *n as f64 / (text.len() as f64 / 1048576.0));
    }
    if let Some(rules) = std::env::args().nth(2) {
        let Ok(toml) = std::fs::read_to_string(&rules) else {
            eprintln!("cannot read {rules}");
            return ExitCode::from(2);
        };
        let Ok(file) = leakledger_detect::secrets::config::parse(&toml) else {
            eprintln!("{rules}: not a rule file");
            return ExitCode::from(2);
        };
        let all = Scanner::with_file(&file, [0; 32]).expect("rules");
        let started = Instant::now();
        let hits: usize = pieces.iter().map(|p| all.scan(p).len()).sum();
        let secs = started.elapsed().as_secs_f64();
        println!(
            "with {}: {} rules, {:.0} MiB/s, {hits} hits",
            rules,
            all.rules().count(),
            text.len() as f64 / 1048576.0 / secs
        );
        let sample: Vec<&str> = pieces.iter().take(64).copied().collect();
        let mb = sample.iter().map(|p| p.len()).sum::<usize>() as f64 / 1048576.0;
        let mut times: Vec<(f64, &str)> = file
            .rules
            .iter()
            .map(|l| {
                let one = Scanner::build(vec![l.clone()], Default::default(), [0; 32]).expect("rule");
                let t = Instant::now();
                let n: usize = sample.iter().map(|p| one.scan(p).len()).sum();
                std::hint::black_box(n);
                (t.elapsed().as_secs_f64(), l.rule.id)
            })
            .collect();
        times.sort_by(|a, b| b.0.total_cmp(&a.0));
        println!("slowest rules alone ({mb:.0} MiB):");
        for (t, id) in times.iter().take(12) {
            println!("  {:>8.0} MiB/s  {id}", mb / t);
        }
    }
    ExitCode::SUCCESS
}
