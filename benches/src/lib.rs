//! Bench inputs, generated at bench time (never committed): JSONL dumps shaped
//! like a coding assistant's request log, with header fields first and a large
//! Messages-style body whose code is full of JSON escapes.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// A small, fast, deterministic generator (xorshift64*).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (0 is replaced).
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

const CODE: &[&str] = &[
    "package com.example.payments;",
    "import java.util.Map;",
    "public final class LedgerService {",
    "    private static final String TABLE = \"ledger_entries\";",
    "    if (amount.signum() < 0) { throw new IllegalArgumentException(\"negative\"); }",
    "\treturn repo.findAll().stream().map(Entry::amount).reduce(BigDecimal.ZERO, BigDecimal::add);",
    "def render(self, rows: list[dict]) -> str:",
    "    return \"\\n\".join(f\"{r['id']}: {r['total']}\" for r in rows)",
    "func (l *Ledger) Post(e Entry) error {",
    "\tif e.Amount == 0 { return errors.New(\"empty entry\") }",
    "// note: the retry path for idempotent posts is handled upstream",
    "const query = `SELECT id, total FROM orders WHERE status = 'open'`;",
    "}",
    "",
];

/// Fake credentials of several formats (obviously fake: FAKE in each), one of
/// which a [`code_text`] carries every few kilobytes.
const FAKE_SECRETS: &[&str] = &[
    "AWS_ACCESS_KEY_ID=AKIAFAKEFAKEFAKE2345",
    "token = \"ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfa000000\"",
    "STRIPE_KEY=sk_live_51FAKEfakeFAKEfakeFAKEfake00",
    "slack: xoxb-123456789012-123456789012-FAKEfakeFAKEfakeFAKEfake",
    "DATABASE_URL=postgres://app:FAKEpassw0rd@db.internal:5432/ledger",
];

/// About `size` bytes of source code as an assistant's message carries it: a
/// `// File:` marker, code lines, and a fake credential every ~8 KiB.
pub fn code_text(rng: &mut Rng, size: usize) -> String {
    let mut code = String::with_capacity(size + 256);
    code.push_str("// File: src/main/java/com/example/Service");
    code.push_str(&rng.below(10_000).to_string());
    code.push_str(".java\n");
    let mut next_secret = 8 << 10;
    while code.len() < size {
        if code.len() >= next_secret {
            code.push_str(FAKE_SECRETS[rng.below(FAKE_SECRETS.len() as u64) as usize]);
            code.push('\n');
            next_secret += 8 << 10;
        }
        code.push_str(CODE[rng.below(CODE.len() as u64) as usize]);
        code.push('\n');
    }
    code
}

/// Appends one record of roughly `size` bytes to `out`.
pub fn record(rng: &mut Rng, n: u64, size: usize, out: &mut Vec<u8>) {
    let org = rng.below(87);
    let session = n / 8;
    let mut code = String::with_capacity(size);
    code.push_str("// File: src/main/java/com/example/Service");
    code.push_str(&rng.below(10_000).to_string());
    code.push_str(".java\n");
    while code.len() < size {
        code.push_str(CODE[rng.below(CODE.len() as u64) as usize]);
        code.push('\n');
    }
    let content = serde_json::to_string(&code).unwrap_or_default();
    let secs = 1_714_550_400 + n / 4;
    let _ = writeln!(
        out,
        "{{\"timestamp\":\"{}\",\"request_id\":\"req-{n:010}\",\"session_id\":\"sess-{session:08}\",\"org_id\":\"org-{org:03}\",\"user_id\":\"user-{}\",\"endpoint\":\"/v1/messages\",\"model\":\"assist-large\",\"status\":200,\"body\":{{\"model\":\"assist-large\",\"max_tokens\":4096,\"messages\":[{{\"role\":\"system\",\"content\":\"You are a coding agent.\\nWorking directory: /home/dev/repo-{org}\"}},{{\"role\":\"user\",\"content\":{content}}}]}}}}",
        leakledger_synth::render::rfc3339_ms(secs as i64 * 1_000_000),
        rng.below(500),
    );
}

/// Writes a JSONL dump of at least `bytes` to `path` (records of 1–12 KiB),
/// unless a file of that size is already there. Returns the record count.
pub fn jsonl(path: &Path, bytes: u64, seed: u64) -> std::io::Result<u64> {
    let mut rng = Rng::new(seed);
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut written = 0u64;
    let mut n = 0u64;
    let mut buf = Vec::with_capacity(16 << 10);
    while written < bytes {
        buf.clear();
        let size = 1024 + rng.below(11 * 1024) as usize;
        record(&mut rng, n, size, &mut buf);
        w.write_all(&buf)?;
        written += buf.len() as u64;
        n += 1;
    }
    w.flush()?;
    Ok(n)
}

/// The bench data folder (`target/bench-data`), created if needed.
pub fn data_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-data");
    let _ = std::fs::create_dir_all(&dir);
    dir
}

/// The size of the bench dump in MiB: `LEAKLEDGER_BENCH_MIB`, default 256.
pub fn bench_mib() -> u64 {
    std::env::var("LEAKLEDGER_BENCH_MIB").ok().and_then(|v| v.parse().ok()).unwrap_or(256)
}

/// A JSONL dump of `mib` MiB in the data folder, generated once and reused.
pub fn dump_of(mib: u64) -> std::io::Result<PathBuf> {
    let path = data_dir().join(format!("dump-{mib}MiB.jsonl"));
    let want = mib << 20;
    if std::fs::metadata(&path).map(|m| m.len() < want).unwrap_or(true) {
        jsonl(&path, want, 42)?;
    }
    Ok(path)
}

/// Reads the file once so it is in the page cache.
pub fn warm(path: &Path) -> std::io::Result<()> {
    let mut f = File::open(path)?;
    std::io::copy(&mut f, &mut std::io::sink())?;
    Ok(())
}
