//! The repository's own rules (docs/ARCHITECTURE.md "Invariants"), read from
//! `cargo metadata`: dependency directions, heavy crates confined, no wildcard or
//! git dependencies.

use std::collections::BTreeMap;
use std::process::Command;

fn metadata() -> serde_json::Value {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo metadata");
    assert!(out.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("metadata JSON")
}

/// A declared dependency of a workspace package.
struct Dep {
    name: String,
    req: String,
    /// `None` for normal dependencies, `Some("dev")`, `Some("build")`.
    kind: Option<String>,
    source: Option<String>,
}

/// The declared dependencies of each workspace package.
fn deps() -> BTreeMap<String, Vec<Dep>> {
    let meta = metadata();
    let mut map = BTreeMap::new();
    for p in meta["packages"].as_array().unwrap() {
        let list = p["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| Dep {
                name: d["name"].as_str().unwrap().to_string(),
                req: d["req"].as_str().unwrap_or("").to_string(),
                kind: d["kind"].as_str().map(str::to_string),
                source: d["source"].as_str().map(str::to_string),
            })
            .collect();
        map.insert(p["name"].as_str().unwrap().to_string(), list);
    }
    map
}

const LEAVES: [&str; 5] =
    ["leakledger-dump", "leakledger-detect", "leakledger-chain", "leakledger-cost", "leakledger-synth"];

#[test]
fn layering_is_one_way() {
    let deps = deps();
    let workspace: Vec<&String> = deps.keys().collect();
    let allowed = |from: &str, to: &str| -> bool {
        match from {
            f if LEAVES.contains(&f) => false,
            "leakledger" => LEAVES.contains(&to) && to != "leakledger-synth",
            "leakledger-report" => to == "leakledger" || LEAVES.contains(&to),
            "leakledger-cli" => true,
            "leakledger-tests" | "leakledger-benches" => true,
            _ => false,
        }
    };
    for (pkg, list) in &deps {
        for d in list {
            if d.kind.as_deref() == Some("dev") || !workspace.iter().any(|w| **w == d.name) {
                continue;
            }
            assert!(allowed(pkg, &d.name), "{pkg} must not depend on {} (docs/ARCHITECTURE.md)", d.name);
        }
    }
}

#[test]
fn heavy_crates_stay_in_report_and_synth_stays_independent_of_detect() {
    for (pkg, list) in deps() {
        for d in &list {
            let dep = &d.name;
            if dep == "polars" || dep == "plotters" || dep.starts_with("polars-") {
                assert!(
                    pkg == "leakledger-report" || pkg == "leakledger-tests" || pkg == "leakledger-benches",
                    "{pkg} links {dep}: only leakledger-report may"
                );
            }
            if pkg == "leakledger-synth" {
                assert_ne!(dep, "leakledger-detect", "synth must not use the detector it is the measure of");
            }
        }
    }
}

#[test]
fn no_wildcard_or_git_dependencies() {
    for (pkg, list) in deps() {
        for d in list {
            assert!(d.req != "*" && !d.req.is_empty(), "{pkg} depends on {} with a wildcard version", d.name);
            assert!(!d.source.as_deref().unwrap_or("").starts_with("git+"), "{pkg} depends on {} from git", d.name);
        }
    }
}

#[test]
fn every_workspace_crate_is_documented_in_the_architecture() {
    let arch = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/ARCHITECTURE.md"))
        .expect("docs/ARCHITECTURE.md");
    for pkg in deps().keys() {
        assert!(arch.contains(pkg.as_str()), "docs/ARCHITECTURE.md does not mention {pkg}");
    }
}
