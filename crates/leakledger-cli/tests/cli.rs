//! The `leakledger` binary end to end: output, JSON, exit codes, hostile names.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_leakledger"))
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../notebooks-data/sample-dump/dump")
}

/// The sample's ground truth (written by the generator).
fn truth() -> serde_json::Value {
    let text = std::fs::read_to_string(sample().join("../truth.json")).expect("truth.json");
    serde_json::from_str(&text).expect("truth JSON")
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let Output { status, stdout, stderr } = cmd.output().expect("run leakledger");
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

#[test]
fn scan_prints_per_source_rows_and_totals() {
    let (code, out, err) = run(bin().args(["scan", "--quiet"]).arg(sample()));
    assert_eq!(code, 0, "{err}");
    let t = truth();
    let r = &t["records"];
    let line = format!("records:   {} total, {} malformed, {} duplicates", r["total"], r["malformed"], r["duplicates"]);
    assert!(out.contains(&line), "no {line:?} in {out}");
    let window =
        format!("window:    {} .. {}", t["window"]["first"].as_str().unwrap(), t["window"]["last"].as_str().unwrap());
    assert!(out.contains(&window), "{out}");
    for format in ["jsonl", "cloudwatch", "otlp"] {
        assert!(out.contains(&format!("  {format} ")), "no {format} row in {out}");
    }
    assert!(out.contains("malformed records (first"), "{out}");
    let e = &t["exposure"];
    let line = format!(
        "exposure:  {} organisations, {} repositories, {} files ({} paths)",
        e["organizations"], e["repositories"], e["files"], e["paths"]
    );
    assert!(out.contains(&line), "no {line:?} in {out}");
    let c = &t["chains"];
    assert!(
        out.contains(&format!("chains:    {} ({} orphans, longest {})", c["total"], c["orphans"], c["max_length"])),
        "{out}"
    );
    assert!(out.contains("top organisations by files exposed"), "{out}");
    assert!(out.contains("top repositories by files exposed"), "{out}");
}

#[test]
fn identifiers_are_listed_per_organisation() {
    let (code, out, err) = run(bin().args(["scan", "--quiet", "--identifier", "com.silversoft."]).arg(sample()));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("proprietary identifiers (1):\n  silversoft: com.silversoft.adminconsole ("), "{out}");
}

#[test]
fn scan_json_gives_the_summary_contract_and_the_sources() {
    let (code, out, err) = run(bin().args(["scan", "--json", "--hash"]).arg(sample()));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let t = truth();
    assert_eq!(v["schema"], 1);
    assert_eq!(v["records"], t["records"]);
    assert_eq!(v["window"], t["window"]);
    assert_eq!(v["chains"], t["chains"]);
    let mut exposure = v["exposure"].clone();
    exposure.as_object_mut().unwrap().remove("identifiers");
    assert_eq!(exposure, t["exposure"]);
    let sources = v["sources"].as_array().unwrap();
    assert_eq!(sources.len(), t["shards"].as_array().unwrap().len());
    for s in sources {
        assert_eq!(s["sha256"].as_str().map(str::len), Some(64), "{s}");
    }
    // The manifest hashes are those of the files the generator wrote.
    let mut from_scan: Vec<&str> = sources.iter().map(|s| s["sha256"].as_str().unwrap()).collect();
    let mut from_truth: Vec<&str> =
        t["shards"].as_array().unwrap().iter().map(|s| s["sha256"].as_str().unwrap()).collect();
    from_scan.sort_unstable();
    from_truth.sort_unstable();
    assert_eq!(from_scan, from_truth);
    let compressions: Vec<&str> = sources.iter().map(|s| s["compression"].as_str().unwrap()).collect();
    assert!(compressions.contains(&"gzip") && compressions.contains(&"zstd") && compressions.contains(&"none"));
}

#[test]
fn the_same_counts_without_mmap_and_on_one_thread() {
    let (_, a, _) = run(bin().args(["scan", "--json", "--hash"]).arg(sample()));
    let (_, b, _) = run(bin().args(["scan", "--json", "--hash", "--no-mmap", "--threads", "1"]).arg(sample()));
    let (a, b): (serde_json::Value, serde_json::Value) =
        (serde_json::from_str(&a).unwrap(), serde_json::from_str(&b).unwrap());
    assert_eq!(a["records"], b["records"]);
    assert_eq!(a["window"], b["window"]);
    assert_eq!(a["sources"], b["sources"]);
}

#[test]
fn nothing_readable_is_exit_2() {
    let (code, out, _) = run(bin().args(["scan", "/nonexistent/leakledger-test-path"]));
    assert_eq!(code, 2);
    assert!(out.contains("skipped (1)"), "{out}");
}

#[test]
fn usage_errors_are_exit_2_and_help_is_0() {
    assert_eq!(run(bin().arg("scan")).0, 2);
    assert_eq!(run(bin().args(["scan", "--format", "yaml", "x"])).0, 2);
    assert_eq!(run(bin().arg("--help")).0, 0);
    let (code, out, _) = run(bin().args(["scan", "--help"]));
    assert_eq!(code, 0);
    assert!(out.contains("--no-mmap"));
}

#[test]
fn forced_format_applies_to_every_source() {
    let (code, out, _) =
        run(bin().args(["scan", "--json", "--format", "text"]).arg(sample().join("otel/traces-0000.jsonl")));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["sources"][0]["format"], "text");
    assert_eq!(v["records"]["malformed"], 0);
}

#[test]
fn synth_writes_a_dump_and_its_truth_and_refuses_a_full_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("gen");
    let (code, out, err) =
        run(bin().args(["synth", "--size", "300KiB", "--orgs", "3", "--seed", "9", "-o"]).arg(&out_dir));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("truth: "), "{out}");
    let t: serde_json::Value = serde_json::from_slice(&std::fs::read(out_dir.join("truth.json")).unwrap()).unwrap();
    let (code, scanned, _) = run(bin().args(["scan", "--json"]).arg(out_dir.join("dump")));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&scanned).unwrap();
    assert_eq!(v["records"], t["records"]);
    let (code, _, err) = run(bin().args(["synth", "--size", "1KiB", "-o"]).arg(&out_dir));
    assert_eq!(code, 2);
    assert!(err.contains("not empty"), "{err}");
}

#[test]
fn names_from_the_dump_cannot_drive_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = dir.path().join("evil\u{1b}]0;owned\u{7}\u{1b}[2J.jsonl");
    std::fs::write(&hostile, "{\"request_id\":\"x\"}\n{broken\n").unwrap();
    let (code, out, _) = run(bin().args(["scan", "--quiet"]).arg(dir.path()));
    assert_eq!(code, 0);
    assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "raw control characters in {out:?}");
    assert!(out.contains("evil\\u{1b}]0;owned\\u{7}\\u{1b}[2J.jsonl"), "{out}");
}

#[test]
fn no_output_ever_shows_a_secret_value() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("gen");
    let (code, _, err) =
        run(bin().args(["synth", "--size", "1MiB", "--orgs", "6", "--seed", "31", "-o"]).arg(&out_dir));
    assert_eq!(code, 0, "{err}");
    let options = leakledger_synth::Options::new().size(1 << 20).orgs(6).seed(31);
    let values = leakledger_synth::secret_values(&options).unwrap();
    assert!(values.len() > 10);
    let (code, human, err1) = run(bin().args(["scan", "--top", "1000"]).arg(out_dir.join("dump")));
    assert_eq!(code, 0);
    let (_, json, err2) = run(bin().args(["scan", "--json"]).arg(out_dir.join("dump")));
    assert!(human.contains("secrets:"), "{human}");
    for (kind, value) in &values {
        // The value whole, and its second half (a redacted form may show a prefix).
        let tail = &value[value.len() / 2..];
        for (name, text) in [("human output", &human), ("JSON", &json), ("stderr", &err1), ("stderr", &err2)] {
            assert!(!text.contains(tail), "{name} shows part of a {kind} value");
        }
    }
    // Asked for explicitly, the values are shown.
    let (code, revealed, err) =
        run(bin().args(["scan", "--top", "1000", "--reveal-secrets"]).arg(out_dir.join("dump")));
    assert_eq!(code, 0, "{err}");
    let shown = values.iter().filter(|(_, v)| revealed.contains(&format!(" = {v}"))).count() as u64;
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(shown, v["secrets"]["distinct"].as_u64().unwrap(), "every distinct secret shown:\n{revealed}");
}

#[test]
fn cost_runs_on_a_summary_and_prints_the_budget_outlook() {
    let dir = tempfile::tempdir().unwrap();
    let (code, summary, _) = run(bin().args(["scan", "--json"]).arg(sample()));
    assert_eq!(code, 0);
    let path = dir.path().join("summary.json");
    std::fs::write(&path, summary).unwrap();
    let (code, out, err) = run(bin().args(["cost", "--iterations", "20000"]).arg(&path));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("total cost: mean "), "{out}");
    assert!(out.contains("burst budget 5.00M USD: P(exceeded within 365 days) = "), "{out}");
    assert!(out.contains("GDPR notification"), "{out}");
    let (code, json, _) = run(bin().args(["cost", "--json", "--iterations", "20000", "--budget", "1e12"]).arg(&path));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["budget"]["p_exceed"], 0.0);
    assert!(v["budget"]["day_p50_crosses"].is_null());
    assert!(v["cost"]["p10"].as_f64().unwrap() <= v["cost"]["p90"].as_f64().unwrap());
    // Per organisation, the means add up to the total.
    let orgs = v["by_organization"].as_array().unwrap();
    assert_eq!(orgs.len() as u64, truth()["exposure"]["organizations"].as_u64().unwrap());
    let sum: f64 = orgs.iter().map(|o| o["total"]["mean"].as_f64().unwrap()).sum();
    let mean = v["cost"]["mean"].as_f64().unwrap();
    assert!((sum - mean).abs() < 1e-6 * mean, "{sum} vs {mean}");
    // The same seed gives the same answer; what-if runs change what they say.
    let (_, again, _) = run(bin().args(["cost", "--json", "--iterations", "20000", "--budget", "1e12"]).arg(&path));
    assert_eq!(json, again);
    let (code, _, err) = run(bin().args(["cost", "--set", "forensics.mode=1e12"]).arg(&path));
    assert_eq!(code, 2);
    assert!(err.contains("forensics"), "{err}");
    let (code, out, err) = run(bin()
        .args(["cost", "--iterations", "5000", "--awareness", "2024-05-02", "--compare", "rotation-critical.spread=3"])
        .arg(&path));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("deadlines from awareness (2024-05-02)"), "{out}");
    assert!(out.contains("compared with rotation-critical.spread=3 (same random numbers)"), "{out}");
    let (code, model, _) = run(bin().args(["cost", "--print-model"]));
    assert_eq!(code, 0);
    assert!(model.contains("[[component]]"));
}

fn run_with_stdin(args: &[&str], input: &[u8]) -> (i32, String, String) {
    use std::io::Write;
    use std::process::Stdio;
    let mut child =
        bin().args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    // A command that exits before reading (a usage error) closes the pipe early.
    let _ = child.stdin.take().unwrap().write_all(input);
    let Output { status, stdout, stderr } = child.wait_with_output().unwrap();
    (
        status.code().unwrap_or(-1),
        String::from_utf8_lossy(&stdout).into_owned(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

// Obviously fake values in the formats' shapes.
const FAKE_AWS: &str = "AKIAFAKEFAKEFAKE2345";
const FAKE_STRIPE: &str = "sk_live_51FAKEfakeFAKEfakeFAKEfake00";

#[test]
fn gate_exits_1_on_a_secret_and_never_prints_it() {
    let input = format!("fine\nAWS_ACCESS_KEY_ID={FAKE_AWS}\nkey={FAKE_STRIPE}\n");
    let (code, out, _) = run_with_stdin(&["gate", "--json"], input.as_bytes());
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let f = v["findings"].as_array().unwrap();
    assert_eq!(f.len(), 2);
    assert_eq!(
        (f[0]["path"].as_str(), f[0]["line"].as_u64(), f[0]["kind"].as_str()),
        (Some("-"), Some(2), Some("aws-access-key-id"))
    );
    for key in ["path", "line", "kind", "rule", "severity", "fingerprint", "redacted"] {
        assert!(f[1].get(key).is_some(), "{key}");
    }
    assert!(!out.contains(&FAKE_AWS[4..]) && !out.contains(&FAKE_STRIPE[10..]), "{out}");
    let (code, out, _) = run_with_stdin(&["gate"], b"nothing to see\n");
    assert_eq!((code, out.trim()), (0, "0 findings"));
}

#[test]
fn gate_reports_each_identifier_once_where_it_stands() {
    // A name, a longer name sharing its start, one inside a word (not a
    // name of ours), and broken bytes around them; repeated, so that a
    // search per name found per occurrence would multiply the findings.
    let line = b"use com.mycorp.pay;\xff com.mycorp.payments.Ledger xcom.mycorp.pay \xc3com.mycorp.pay\n";
    let input = line.repeat(50);
    let (code, out, _) = run_with_stdin(&["gate", "--json", "--identifier", "com.mycorp."], &input);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut found: Vec<(u64, &str)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["line"].as_u64().unwrap(), f["redacted"].as_str().unwrap()))
        .collect();
    found.sort_unstable();
    let want: Vec<(u64, &str)> = (1..=50)
        .flat_map(|l| [(l, "com.mycorp.pay"), (l, "com.mycorp.pay"), (l, "com.mycorp.payments.Ledger")])
        .collect();
    assert_eq!(found, want);
}

#[test]
fn gate_redact_is_a_filter() {
    let input = format!("before {FAKE_STRIPE} after\n");
    let (code, out, _) = run_with_stdin(&["gate", "--redact"], input.as_bytes());
    assert_eq!(code, 0);
    assert!(out.starts_with("before stripe-secret-key:?k_…[") && out.ends_with("] after\n"), "{out}");
}

#[test]
fn gate_finds_multi_line_keys_and_secrets_across_its_windows() {
    let dir = tempfile::tempdir().unwrap();
    let body = "MIIEFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKE";
    let pem = format!("-----BEGIN RSA PRIVATE KEY-----\n{body}\n{body}\n-----END RSA PRIVATE KEY-----\n"); // a fake key
    std::fs::write(dir.path().join("id_rsa"), format!("\n\n{pem}")).unwrap();
    // A secret straddling the 16 MiB window boundary, in a 17 MiB file; one
    // before it in the part both windows scan, after broken UTF-8 (which
    // must shift no offset: the overlap's deduplication goes by them).
    let mut big = vec![b'x'; (16 << 20) - 10];
    big[100..200].fill(0xff);
    let early = (16 << 20) - 30_000;
    big[early..early + FAKE_STRIPE.len() + 2].copy_from_slice(format!(" {FAKE_STRIPE} ").as_bytes());
    big.extend_from_slice(format!(" {FAKE_STRIPE} \n").as_bytes());
    big.extend(vec![b'y'; 1 << 20]);
    std::fs::write(dir.path().join("big.log"), &big).unwrap();
    // Line numbers in later windows (scanned in parallel): 100-byte lines,
    // a secret on line 250,001 (window 2) and on line 400,000 (window 3), and
    // an identifier across the 16 MiB boundary on line 167,773 (at byte
    // 16,777,202: the first window sees only its start).
    let mut lines = String::with_capacity(41 << 20);
    for n in 1..=410_000u32 {
        if n == 167_773 {
            lines.push_str(&format!("{:<99}\n", "  com.mycorp.payments.Ledger"));
        } else if n == 250_001 || n == 400_000 {
            lines.push_str(&format!("{:<64} {FAKE_STRIPE}\n", n));
        } else {
            lines.push_str(&format!("{:<99}\n", n));
        }
    }
    std::fs::write(dir.path().join("lines.log"), &lines).unwrap();
    let (code, out, err) = run(bin().args(["gate", "--json", "--identifier", "com.mycorp."]).arg(dir.path()));
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let names: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "identifier")
        .map(|f| f["redacted"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["com.mycorp.payments.Ledger"]);
    let f: Vec<(String, u64, String)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().rsplit('/').next().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        f,
        [
            ("big.log".into(), 1, "stripe-secret-key".into()),
            ("big.log".into(), 1, "stripe-secret-key".into()),
            ("id_rsa".into(), 3, "private-key".into()),
            ("lines.log".into(), 167_773, "proprietary-identifier".into()),
            ("lines.log".into(), 250_001, "stripe-secret-key".into()),
            ("lines.log".into(), 400_000, "stripe-secret-key".into()),
        ]
    );
    // Files are mapped, read with --no-mmap, and standard input is read window
    // by window: the same secrets on the same lines every way.
    let (code, read, err) =
        run(bin().args(["gate", "--json", "--no-mmap", "--identifier", "com.mycorp."]).arg(dir.path()));
    assert_eq!(code, 1, "{err}");
    let located = |s: &str| -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(s).unwrap();
        v["findings"].as_array().unwrap().iter().map(|f| format!("{}:{}:{}", f["path"], f["line"], f["rule"])).collect()
    };
    assert_eq!(located(&read), located(&out));
    let (code, out, err) = run_with_stdin(&["gate", "--json", "--identifier", "com.mycorp."], lines.as_bytes());
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let lines: Vec<u64> = v["findings"].as_array().unwrap().iter().map(|f| f["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [167_773, 250_001, 400_000]);
}

#[test]
fn gate_reads_compressed_files_and_stops_a_bomb() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(format!("one\ntwo\nkey = {FAKE_STRIPE}\n").as_bytes()).unwrap();
    std::fs::write(dir.path().join("app.log.gz"), gz.finish().unwrap()).unwrap();
    let (code, out, err) = run(bin().args(["gate"]).arg(dir.path().join("app.log.gz")));
    assert_eq!(code, 1, "{err}");
    assert!(out.contains("app.log.gz:3: critical stripe-secret-key"), "{out}");
    // 256 MiB of zeros in a few kilobytes of zstd, a secret before them: the
    // decompression limit ends the file with a message, the secret is kept.
    let mut bomb = format!("key = {FAKE_STRIPE}\n").into_bytes();
    bomb.resize(256 << 20, 0);
    std::fs::write(dir.path().join("bomb.log.zst"), zstd::encode_all(&bomb[..], 19).unwrap()).unwrap();
    let (code, out, err) = run(bin().args(["gate"]).arg(dir.path().join("bomb.log.zst")));
    assert_eq!(code, 1, "{err}");
    assert!(out.contains("bomb.log.zst:1: critical stripe-secret-key"), "{out}");
    assert!(err.contains("bomb.log.zst: checked up to a fault: ratio limit"), "{err}");
    // A gzip file cut short (as leaked archives often are), smaller than one
    // window: what it held before the cut is checked; with nothing found, the
    // gate cannot vouch for the file and exits 2.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for n in 0..20_000 {
        gz.write_all(format!("line {n} of a log that goes on\n").as_bytes()).unwrap();
    }
    gz.write_all(format!("key = {FAKE_STRIPE}\n").as_bytes()).unwrap();
    let whole = gz.finish().unwrap();
    let cut = &whole[..whole.len() - 40];
    std::fs::write(dir.path().join("cut.log.gz"), cut).unwrap();
    let (code, _, err) = run(bin().args(["gate"]).arg(dir.path().join("cut.log.gz")));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("cut.log.gz: checked up to a fault"), "{err}");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(format!("key = {FAKE_STRIPE}\n").as_bytes()).unwrap();
    for n in 0..20_000 {
        gz.write_all(format!("line {n} of a log that goes on\n").as_bytes()).unwrap();
    }
    let whole = gz.finish().unwrap();
    std::fs::write(dir.path().join("cut.log.gz"), &whole[..whole.len() / 2]).unwrap();
    let (code, out, err) = run(bin().args(["gate"]).arg(dir.path().join("cut.log.gz")));
    assert_eq!(code, 1, "{err}");
    assert!(out.contains("cut.log.gz:1: critical stripe-secret-key"), "{out}");
    // Inputs passed over: a duplicate is a choice (exit 0 on a clean file), an
    // unsupported compression a file the gate could not read (exit 2).
    let clean = dir.path().join("clean.log");
    std::fs::write(&clean, "nothing here\n").unwrap();
    let (code, _, err) = run(bin().args(["gate"]).arg(&clean).arg(&clean));
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("the same file as another source"), "{err}");
    std::fs::write(dir.path().join("old.log.bz2"), b"BZh91AY&SY fake bzip2 stream").unwrap();
    let (code, _, err) = run(bin().args(["gate"]).arg(&clean).arg(dir.path().join("old.log.bz2")));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("old.log.bz2: skipped: bzip2"), "{err}");
    let (code, _, err) = run(bin().args(["gate", "-"]).arg(&clean));
    assert_eq!(code, 2, "{err}");
}

#[test]
fn report_writes_the_folder_and_refuses_a_full_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let (code, stdout, err) = run(bin().args(["report", "--quiet", "-o"]).arg(&out).arg(sample()));
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("report:") && stdout.contains("report.html"), "{stdout}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let t = truth();
    assert_eq!(summary["records"], t["records"]);
    assert_eq!(summary["chains"], t["chains"]);
    assert!(summary["cost"]["p90"].as_f64().unwrap() >= summary["cost"]["p50"].as_f64().unwrap());
    // Again into the same folder: refused, unless forced.
    let (code, _, err) = run(bin().args(["report", "--quiet", "-o"]).arg(&out).arg(sample()));
    assert_eq!(code, 2);
    assert!(err.contains("--force"), "{err}");
    let (code, stdout, err) =
        run(bin().args(["report", "--quiet", "--force", "--json", "--budget", "1e12", "-o"]).arg(&out).arg(sample()));
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["budget"]["ceiling"], 1e12);
    assert_eq!(v["budget"]["p_exceed"], 0.0);
}

#[test]
fn demo_generates_a_dump_and_reports_on_it() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, err) = run(bin().args(["demo", "--quiet", "--size", "1MiB", "-o"]).arg(dir.path()));
    assert_eq!(code, 0, "{err}");
    assert!(dir.path().join("report/report.html").is_file() && dir.path().join("truth.json").is_file());
    assert!(stdout.contains("generated a synthetic dump"), "{stdout}");
    let (code, _, err) = run(bin().args(["demo", "--quiet", "-o"]).arg(dir.path()));
    assert_eq!(code, 2, "a full folder is refused: {err}");
}

/// The key the committed sample report was made with (notebooks-data/README.md).
const SAMPLE_KEY: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";

#[test]
fn the_committed_sample_report_is_what_report_writes_today() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let committed = root.join("notebooks-data/report");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let (code, _, err) = run(bin()
        .current_dir(&root)
        .args(["report", "--quiet", "--fingerprint-key", SAMPLE_KEY, "-o"])
        .arg(&out)
        .arg("notebooks-data/sample-dump/dump"));
    assert_eq!(code, 0, "{err}");
    let mut names: Vec<String> = vec![
        "summary.json".into(),
        "findings.sarif".into(),
        "timeline.jsonl".into(),
        "cost.json".into(),
        "report.html".into(),
    ];
    for t in ["organizations", "repositories", "files", "secrets", "chains", "requests"] {
        names.push(format!("tables/{t}.parquet"));
        names.push(format!("tables/{t}.csv"));
    }
    for name in names {
        let fresh = std::fs::read(out.join(&name)).unwrap();
        let old = std::fs::read(committed.join(&name)).unwrap_or_default();
        assert!(
            fresh == old,
            "notebooks-data/report/{name} differs from what `leakledger report` writes today; from the repository root run: \
             rm -rf notebooks-data/report && leakledger report --fingerprint-key {SAMPLE_KEY} -o notebooks-data/report notebooks-data/sample-dump/dump"
        );
    }
}

#[test]
fn gate_runs_a_teams_gitleaks_rules_beside_the_built_in_ones() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("gitleaks.toml");
    std::fs::write(
        &rules,
        "[[rules]]\nid = \"acme-token\"\nregex = '''\\b(acme_[a-z0-9]{24})\\b'''\nkeywords = [\"acme_\"]\n\n\
         [[rules]]\nid = \"no-keyword\"\nregex = '''x+'''\n",
    )
    .unwrap();
    let input = format!("a=acme_fa4e0123456789abcdfa4e01\nb={FAKE_AWS}\n");
    let (code, out, err) = run_with_stdin(&["gate", "--json", "--rules", rules.to_str().unwrap()], input.as_bytes());
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let kinds: Vec<&str> = v["findings"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["acme-token", "aws-access-key-id"]);
    assert!(!out.contains("fa4e0123456789abcdfa4e01"), "the value is redacted");
    assert!(err.contains("no-keyword") && err.contains("1 rule(s) loaded, 1 left out"), "{err}");
    // A file that is not TOML is an error, exit 2.
    std::fs::write(&rules, "not toml [").unwrap();
    let (code, _, _) = run_with_stdin(&["gate", "--rules", rules.to_str().unwrap()], b"x");
    assert_eq!(code, 2);
}

#[test]
fn gate_writes_sarif_for_code_scanning() {
    let input = format!("ok\nAWS_ACCESS_KEY_ID={FAKE_AWS}\nkey={FAKE_STRIPE}\n");
    let (code, out, err) = run_with_stdin(&["gate", "--sarif"], input.as_bytes());
    assert_eq!(code, 1, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for r in results {
        let rule = &rules[r["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(rule["id"], r["ruleId"]);
        assert!(r["partialFingerprints"]["leakledgerSecret/v1"].as_str().unwrap().len() == 32);
        assert_eq!(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "stdin");
    }
    assert_eq!(results[0]["locations"][0]["physicalLocation"]["region"]["startLine"], 2);
    assert_eq!(results[0]["level"], "error");
    assert!(!out.contains(FAKE_AWS) && !out.contains(&FAKE_STRIPE[8..]), "values never appear");
    // --json and --sarif are one or the other.
    let (code, _, _) = run_with_stdin(&["gate", "--sarif", "--json"], b"x");
    assert_eq!(code, 2);
}

#[test]
fn rules_are_listed_and_exported_for_other_tools() {
    let (code, json, err) = run(bin().args(["rules", "--json"]));
    assert_eq!(code, 0, "{err}");
    let list: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    assert!(list.len() >= 80, "{} rules", list.len());
    assert!(list.iter().all(|r| !r["keywords"].as_array().unwrap().is_empty()));
    let (code, regexes, _) = run(bin().args(["rules", "--export-regex"]));
    assert_eq!(code, 0);
    let lines: Vec<&str> = regexes.lines().collect();
    assert_eq!(lines.len(), list.len(), "one pattern per line");
    assert!(lines.iter().all(|l| l.starts_with("(?:") && l.ends_with(')')));
    assert!(!regexes.contains("\\\""), "no escaped quotes for older parsers");
}
