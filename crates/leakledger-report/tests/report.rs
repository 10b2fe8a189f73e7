//! The report folder end to end, on a synthetic dump with exact ground truth
//! and on a dump whose names are attacks.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use leakledger::detect::secrets::Scanner;
use leakledger::{Dump, Options, Record, Sink};
use polars::prelude::*;

fn synthetic(dir: &Path) -> (leakledger_synth::Truth, leakledger::Analysis) {
    let truth = leakledger_synth::generate(
        dir,
        &leakledger_synth::Options::new().size(2 << 20).orgs(8).seed(77).shard_bytes(512 << 10),
    )
    .unwrap();
    let dump = Dump::open(&[dir.join("dump")], &Options::new().hash(true)).unwrap();
    (truth, leakledger::analyse(&dump))
}

fn report(a: &leakledger::Analysis, dir: &Path) -> leakledger_report::Written {
    let mut settings = leakledger_report::Settings::new();
    settings.model.iterations = 2000;
    settings.command = vec!["leakledger".into(), "report".into()];
    leakledger_report::write(a, dir, &settings).unwrap()
}

fn read_parquet(p: &Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(p).unwrap()).finish().unwrap()
}

#[test]
fn the_report_folder_holds_every_output_owner_only() {
    let tmp = tempfile::tempdir().unwrap();
    let (truth, a) = synthetic(tmp.path());
    let out = tmp.path().join("report");
    let w = report(&a, &out);
    let names: BTreeSet<String> = w.files.iter().map(|p| p.display().to_string()).collect();
    for f in ["summary.json", "manifest.json", "findings.sarif", "timeline.jsonl", "cost.json", "report.html"] {
        assert!(names.contains(f), "{f}");
    }
    for t in leakledger_report::tables::ALL {
        assert!(names.contains(&format!("tables/{}.parquet", t.name())));
        assert!(names.contains(&format!("tables/{}.csv", t.name())));
    }
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&out), 0o700);
    assert_eq!(mode(&out.join("tables")), 0o700);
    for f in &w.files {
        assert_eq!(mode(&out.join(f)), 0o600, "{}", f.display());
    }
    // summary.json: the analysis's summary with the cost model's parts, and the
    // counts the generator knows to be true.
    let s: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(s["schema"], 1);
    assert_eq!(s["records"]["total"], truth.records.total);
    assert_eq!(s["chains"]["total"], truth.chains.total);
    assert_eq!(s["secrets"]["distinct"], truth.secrets.distinct);
    assert!(s["cost"]["mean"].as_f64().unwrap() > 0.0 && s["cost"]["currency"] == "USD");
    assert!(s["budget"]["ceiling"].as_f64().unwrap() > 0.0 && s["budget"]["p_exceed"].is_number());
    // Not silently overwritten; --force writes into it.
    let again = leakledger_report::write(&a, &out, &leakledger_report::Settings::new());
    assert!(matches!(again, Err(leakledger_report::Error::Exists(_))), "{again:?}");
    let mut force = leakledger_report::Settings::new();
    force.force = true;
    force.model.iterations = 500;
    leakledger_report::write(&a, &out, &force).unwrap();
}

#[test]
fn tables_read_back_typed_with_the_inventory_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, a) = synthetic(tmp.path());
    let out = tmp.path().join("report");
    report(&a, &out);
    let t = |name: &str| read_parquet(&out.join(format!("tables/{name}.parquet")));
    let s = &a.summary;
    assert_eq!(t("organizations").height() as u64, s.exposure.organizations);
    assert_eq!(t("repositories").height() as u64, s.exposure.repositories);
    assert_eq!(t("files").height() as u64, s.exposure.files);
    assert_eq!(t("secrets").height() as u64, s.secrets.distinct);
    assert_eq!(t("chains").height() as u64, s.chains.total);
    assert_eq!(t("requests").height(), a.requests.len());
    // Parquet timestamps in microseconds adjusted to UTC: pandas, DuckDB and polars
    // read them as zone-aware UTC times.
    let utc = DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC));
    let is_time = |c: &Column| c.dtype() == &utc;
    let secrets = t("secrets");
    assert_eq!(secrets.column("occurrences").unwrap().dtype(), &DataType::UInt64);
    assert!(is_time(secrets.column("first_seen").unwrap()));
    assert_eq!(secrets.column("kind").unwrap().dtype(), &DataType::String);
    let chains = t("chains");
    assert!(is_time(chains.column("first").unwrap()));
    let files: u64 = chains.column("files").unwrap().u64().unwrap().sum().unwrap();
    assert_eq!(files, s.exposure.files);
    let requests = t("requests");
    assert!(is_time(requests.column("time").unwrap()));
    assert_eq!(requests.column("chain").unwrap().dtype(), &DataType::UInt64);
    // The CSV twin has the same rows (a header and one line per row: no field of
    // these tables holds a line break).
    let csv = std::fs::read_to_string(out.join("tables/chains.csv")).unwrap();
    assert_eq!(csv.lines().count(), chains.height() + 1);
    assert!(csv.lines().nth(1).unwrap().contains('Z'), "times in CSV carry their zone");
}

/// The SARIF 2.1.0 schema (OASIS) as the serde-sarif package, a dev-dependency,
/// ships it: read from cargo's registry sources, so the test runs offline.
fn sarif_schema() -> serde_json::Value {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"));
    let want = format!("serde-sarif-{}", "0.8.");
    for index in std::fs::read_dir(home.join("registry/src")).unwrap().flatten() {
        for pkg in std::fs::read_dir(index.path()).unwrap().flatten() {
            let name = pkg.file_name().to_string_lossy().into_owned();
            if name.starts_with(&want) {
                let text = std::fs::read(pkg.path().join("src/schema.json")).unwrap();
                return serde_json::from_slice(&text).unwrap();
            }
        }
    }
    panic!("the serde-sarif sources are not in {}", home.display());
}

#[test]
fn sarif_validates_against_the_2_1_0_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, a) = synthetic(tmp.path());
    let sarif = leakledger_report::sarif(&a);
    let mut schema = sarif_schema();
    // The published schema's `language` patterns have a stray `]` that ECMAScript
    // reads as a literal and Rust's regex rejects; use the pattern they mean.
    fn fix(v: &mut serde_json::Value) -> usize {
        match v {
            serde_json::Value::Object(m) => {
                let mut n = 0;
                if m.get("pattern").and_then(|p| p.as_str()) == Some("^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$") {
                    m.insert("pattern".into(), "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$".into());
                    n += 1;
                }
                n + m.values_mut().map(fix).sum::<usize>()
            }
            serde_json::Value::Array(a) => a.iter_mut().map(fix).sum(),
            _ => 0,
        }
    }
    assert!(fix(&mut schema) >= 1);
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> =
        validator.iter_errors(&sarif).map(|e| format!("{} at {}", e, e.instance_path())).take(5).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The validator is live: a log with a result missing its message fails.
    let mut broken = sarif.clone();
    if let Some(r) = broken["runs"][0]["results"][0].as_object_mut() {
        r.remove("message");
        assert!(!validator.is_valid(&broken));
    }
    // And it reads into the schema's types.
    let log: serde_sarif::sarif::Sarif = serde_json::from_value(sarif.clone()).unwrap();
    let results = log.runs[0].results.as_ref().unwrap();
    assert_eq!(results.len() as u64, a.summary.secrets.distinct + a.summary.exposure.identifiers);
    for r in &sarif["runs"][0]["results"].as_array().unwrap()[..] {
        assert!(r["partialFingerprints"]["leakledgerSecret/v1"].is_string());
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().unwrap() >= 1 && region["byteOffset"].is_u64());
    }
}

/// Collects the secret values the detector finds in each record's raw bytes.
#[derive(Default)]
struct Values {
    scanner: Option<std::sync::Arc<Scanner>>,
    found: BTreeSet<String>,
}

impl Sink for Values {
    fn record(&mut self, r: &Record<'_>) {
        let text = String::from_utf8_lossy(r.raw);
        if let Some(s) = &self.scanner {
            for h in s.scan(&text) {
                self.found.insert(text[h.start..h.end].to_string());
                self.found.insert(h.value(&text).to_string());
            }
        }
    }
    fn merge(&mut self, other: Self) {
        self.found.extend(other.found);
    }
}

#[test]
fn no_secret_value_reaches_any_output() {
    let tmp = tempfile::tempdir().unwrap();
    let (truth, a) = synthetic(tmp.path());
    let out = tmp.path().join("report");
    let w = report(&a, &out);
    let dump = Dump::open(&[tmp.path().join("dump")], &Options::new()).unwrap();
    let scanner = std::sync::Arc::new(Scanner::builtin());
    let values = dump.scan(|| Values { scanner: Some(scanner.clone()), found: BTreeSet::new() }).sink.found;
    assert!(values.len() as u64 >= truth.secrets.distinct / 2, "{} values", values.len());
    // The longest stretch of each value without an escape, as any writer would copy it.
    let needles: BTreeSet<&str> =
        values.iter().filter_map(|v| v.split('\\').max_by_key(|p| p.len())).filter(|p| p.len() >= 12).collect();
    for f in &w.files {
        let text = String::from_utf8_lossy(&std::fs::read(out.join(f)).unwrap()).into_owned();
        for n in &needles {
            assert!(!text.contains(n), "{} holds a secret value", f.display());
        }
    }
}

#[test]
fn revealed_secrets_are_shown_only_when_asked_for() {
    let tmp = tempfile::tempdir().unwrap();
    let (truth, _) = synthetic(tmp.path());
    let dump = Dump::open(&[tmp.path().join("dump")], &Options::new()).unwrap();
    let config = leakledger::Config { reveal_secrets: true, ..Default::default() };
    let a = leakledger::analyse_with(&dump, &config);
    let values = a.secret_values.as_ref().expect("values kept when asked for");
    assert_eq!(values.len() as u64, a.summary.secrets.distinct, "one value per distinct secret");
    // Each value is one the generator planted (the detector found it whole).
    let planted: BTreeSet<String> = leakledger_synth::secret_values(
        &leakledger_synth::Options::new().size(2 << 20).orgs(8).seed(77).shard_bytes(512 << 10),
    )
    .unwrap()
    .into_iter()
    .map(|(_, v)| v)
    .collect();
    let whole = values.values().filter(|v| planted.contains(&***v)).count();
    assert!(whole * 10 >= values.len() * 9, "{whole} of {} values are planted ones", values.len());
    assert!(truth.secrets.distinct > 0);
    let out = tmp.path().join("report");
    report(&a, &out);
    let secrets = read_parquet(&out.join("tables/secrets.parquet"));
    let column = secrets.column("value").unwrap().str().unwrap().clone();
    assert!(column.iter().flatten().all(|v| values.values().any(|x| &**x == v)));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["secrets_revealed"], true);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("this report shows secret values"));
    // Without the option there is no value column at all.
    let plain = leakledger::analyse(&dump);
    assert!(plain.secret_values.is_none());
    let out = tmp.path().join("plain");
    report(&plain, &out);
    assert!(read_parquet(&out.join("tables/secrets.parquet")).column("value").is_err());
}

#[test]
fn names_from_the_dump_are_inert_in_html_and_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dump");
    std::fs::create_dir(&dir).unwrap();
    let org = "<script>alert(1)</script>";
    let user = "=HYPERLINK(\"http://evil.example/\",\"x\")";
    let body = r#"{\"messages\":[{\"role\":\"user\",\"content\":\"// File: src/<img src=x onerror=alert(2)>.js\\nlet a = 1;\\n\"}]}"#;
    let mut lines = String::new();
    for i in 0..3 {
        lines.push_str(&format!(
            "{{\"ts\":\"2024-05-01T12:0{i}:00Z\",\"request_id\":\"r{i}\",\"trace_id\":\"t\",\"org\":\"{}\",\"user\":\"{}\",\"repo\":\"https://github.com/\\\"><svg onload=alert(3)>/x\",\"body\":\"{body}\"}}\n",
            org.replace('"', "\\\""),
            user.replace('"', "\\\""),
        ));
    }
    std::fs::write(dir.join("a.jsonl"), lines).unwrap();
    let dump = Dump::open(&[&dir], &Options::new()).unwrap();
    let a = leakledger::analyse(&dump);
    assert_eq!(a.summary.records.total, 3);
    assert!(a.inventory.organizations().contains(&org));
    let out = tmp.path().join("report");
    report(&a, &out);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let lower = html.to_lowercase();
    for bad in ["<script", "<img", "onerror=", "onload=", "<svg onload"] {
        assert!(!lower.contains(bad), "report.html holds {bad:?}");
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the name is shown, escaped");
    // No live formula in any CSV cell.
    for t in leakledger_report::tables::ALL {
        let csv = std::fs::read_to_string(out.join(format!("tables/{}.csv", t.name()))).unwrap();
        for line in csv.lines() {
            for cell in line.split(',') {
                let cell = cell.trim_start_matches('"');
                assert!(!cell.starts_with(['=', '+', '@']), "{}: {cell}", t.name());
            }
        }
    }
    let csv = std::fs::read_to_string(out.join("tables/chains.csv")).unwrap();
    assert!(csv.contains("'=HYPERLINK"), "{csv}");
}

#[test]
fn the_manifest_is_a_chain_of_custody() {
    let tmp = tempfile::tempdir().unwrap();
    let (truth, a) = synthetic(tmp.path());
    let out = tmp.path().join("report");
    let w = report(&a, &out);
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["inputs"].as_array().unwrap().len(), truth.shards.len());
    // Each input's hash is that of its bytes on disk, as the generator wrote them.
    let by_path: std::collections::HashMap<String, String> =
        truth.shards.iter().map(|s| (s.path.clone(), s.sha256.clone())).collect();
    for i in m["inputs"].as_array().unwrap() {
        let p = i["path"].as_str().unwrap();
        let rel = &p[p.find("dump/").unwrap()..];
        assert_eq!(i["sha256"].as_str(), by_path.get(rel).map(String::as_str), "{rel}");
    }
    let outputs = m["outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), w.files.len() - 1, "every file but the manifest itself");
    for o in outputs {
        let bytes = std::fs::read(out.join(o["path"].as_str().unwrap())).unwrap();
        let h: String = <sha2::Sha256 as sha2::Digest>::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(o["sha256"].as_str().unwrap(), h);
    }
    assert_eq!(m["rules_sha256"].as_str().unwrap(), leakledger_report::ruleset_hash(&a.rules));
    assert_eq!(m["command"][1], "report");
    assert!(m["started"].as_str().unwrap() <= m["finished"].as_str().unwrap());
}
