//! Makes the bigram table of `secrets/rarity.rs` from sample files: for each
//! pair of byte classes, how unlikely the second is after the first, in half
//! bits, and the same for a class on its own.
//!
//! ```sh
//! find ~/.cargo/registry/src -type f \( -name '*.rs' -o -name '*.c' -o -name '*.h' \
//!     -o -name '*.md' -o -name '*.json' -o -name '*.toml' -o -name '*.yml' \) -size -1000k |
//!   cargo run --release -p leakledger-detect --example anchor_model > crates/leakledger-detect/src/secrets/rarity_table.rs
//! ```
//!
//! Reads file names from standard input; each kind of file (by extension) adds
//! at most 8 MiB, so that one language does not make the whole model.

#![allow(clippy::print_stdout, clippy::print_stderr)] // a generator: it prints the table

use std::collections::HashMap;
use std::io::BufRead;

use leakledger_detect::secrets::rarity::{CLASSES, class};

fn main() {
    let mut pairs = vec![[0u64; CLASSES]; CLASSES];
    let mut single = [0u64; CLASSES];
    let mut per_kind: HashMap<String, usize> = HashMap::new();
    for name in std::io::stdin().lock().lines().map_while(Result::ok) {
        let kind = name.rsplit('.').next().unwrap_or_default().to_string();
        let taken = per_kind.entry(kind).or_default();
        if *taken >= 8 << 20 {
            continue;
        }
        let Ok(bytes) = std::fs::read(&name) else { continue };
        *taken += bytes.len();
        for w in bytes.windows(2) {
            pairs[class(w[0])][class(w[1])] += 1;
        }
        for &b in &bytes {
            single[class(b)] += 1;
        }
    }
    eprintln!("{per_kind:?}");
    // Half bits of -log2(p), with one added to every count (no pair is
    // impossible), at most 255.
    let half_bits = |n: u64, total: u64| -> u8 {
        let p = (n + 1) as f64 / (total + CLASSES as u64) as f64;
        (-2.0 * p.log2()).round().clamp(0.0, 255.0) as u8
    };
    let total: u64 = single.iter().sum();
    println!("// Made by `examples/anchor_model.rs` (see there) from {total} bytes of");
    println!("// Rust, C, Markdown, JSON, TOML and YAML: crates' sources.");
    println!();
    println!("/// How unlikely each class is, in half bits of -log2(p).");
    println!("#[rustfmt::skip]");
    println!("const FIRST: [u8; CLASSES] = {:?};", single.map(|n| half_bits(n, total)));
    println!();
    println!("/// How unlikely class `b` is after class `a`: `COST[a][b]`, in half bits.");
    println!("#[rustfmt::skip]");
    println!("const COST: [[u8; CLASSES]; CLASSES] = [");
    for row in &pairs {
        let sum: u64 = row.iter().sum();
        println!("    {:?},", row.map(|n| half_bits(n, sum)));
    }
    println!("];");
}
