//! `findings.sarif`: SARIF 2.1.0, one result per distinct secret (by
//! fingerprint) and per proprietary identifier of an organisation, located in
//! the dump by artifact, line and byte offset, never with a secret's value.

use std::collections::BTreeMap;
use std::path::Path;

use leakledger::detect::secrets::Severity;
use leakledger::{Analysis, Location};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The rule id of proprietary identifiers.
pub const IDENTIFIER_RULE: &str = "proprietary-identifier";

/// SARIF's level for a severity.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// GitHub code scanning's 0-10 scale.
pub fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
    }
}

/// A path as a URI reference: bytes outside RFC 3986's unreserved set and `/`
/// percent-encoded; absolute paths as `file://` URIs.
pub(crate) fn uri(p: &Path) -> String {
    let s = p.to_string_lossy();
    let mut out = String::with_capacity(s.len() + 8);
    if s.starts_with('/') {
        out.push_str("file://");
    }
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn location(analysis: &Analysis, loc: &Location) -> Value {
    let mut region = json!({"byteOffset": loc.offset});
    if let Some(line) = analysis.scan.line(loc) {
        region["startLine"] = json!(line);
    }
    let uri = analysis.scan.sources.get(loc.source.0 as usize).map(|s| uri(&s.path)).unwrap_or_default();
    json!({"physicalLocation": {
        "artifactLocation": {"uri": uri, "index": loc.source.0},
        "region": region,
    }})
}

/// The SARIF log of an analysis.
pub fn sarif(analysis: &Analysis) -> Value {
    // One rule per kind (several built-in rules may find one kind), at the kind's
    // highest severity.
    let mut kinds: BTreeMap<&str, Severity> = BTreeMap::new();
    for r in &analysis.rules {
        let e = kinds.entry(r.kind).or_insert(r.severity);
        *e = (*e).max(r.severity);
    }
    for s in analysis.inventory.secrets() {
        kinds.entry(s.found.kind).or_insert(s.found.severity);
    }
    let mut rules: Vec<Value> = kinds
        .iter()
        .map(|(kind, sev)| {
            json!({
                "id": kind,
                "name": kind,
                "shortDescription": {"text": format!("Exposed secret: {kind}")},
                "fullDescription": {"text": format!(
                    "A {kind} appeared in the leaked request logs. Rotate it ({} severity) and check its use since the first appearance.",
                    sev.name()
                )},
                "defaultConfiguration": {"level": level(*sev)},
                "properties": {"tags": ["security", "secret"], "security-severity": security_severity(*sev)},
            })
        })
        .collect();
    rules.push(json!({
        "id": IDENTIFIER_RULE,
        "name": IDENTIFIER_RULE,
        "shortDescription": {"text": "Proprietary identifier in the leaked logs"},
        "fullDescription": {"text": "An internal namespace or name configured as proprietary appeared in an organisation's leaked requests."},
        "defaultConfiguration": {"level": "warning"},
        "properties": {"tags": ["security", "intellectual-property"], "security-severity": "5.0"},
    }));
    let rule_index: BTreeMap<&str, usize> = kinds.keys().enumerate().map(|(i, k)| (*k, i)).collect();
    let mut results = Vec::new();
    for s in analysis.inventory.secrets() {
        let f = &s.found;
        let holders: Vec<&str> = s.holders.iter().map(String::as_str).collect();
        results.push(json!({
            "ruleId": f.kind,
            "ruleIndex": rule_index.get(f.kind).copied().unwrap_or(0),
            "level": level(f.severity),
            "message": {"text": format!(
                "{} secret {} appears in {} record(s){}.",
                f.severity.name(),
                f.redacted(),
                s.occurrences,
                if holders.is_empty() { String::new() } else { format!(" of {}", holders.join(", ")) },
            )},
            "locations": [location(analysis, &s.first)],
            "partialFingerprints": {"leakledgerSecret/v1": f.fingerprint.to_string()},
            "properties": {
                "severity": f.severity.name(),
                "redacted": f.redacted(),
                "value": analysis.secret_value(&f.fingerprint),
                "occurrences": s.occurrences,
                "organizations": holders,
                "firstSeen": s.first_seen.map(leakledger::time::format_rfc3339),
                "lastSeen": s.last_seen.map(leakledger::time::format_rfc3339),
            },
        }));
    }
    for (org, id, e) in analysis.inventory.identifiers() {
        let fp = Sha256::digest(format!("{org}\u{0}{id}").as_bytes());
        let fp: String = fp[..16].iter().map(|b| format!("{b:02x}")).collect();
        results.push(json!({
            "ruleId": IDENTIFIER_RULE,
            "ruleIndex": kinds.len(),
            "level": "warning",
            "message": {"text": format!("Proprietary identifier {id} of {} appears in {} record(s).", if org.is_empty() { "an unknown organisation" } else { org }, e.occurrences)},
            "locations": [location(analysis, &e.first)],
            "partialFingerprints": {"leakledgerIdentifier/v1": fp},
            "properties": {"organization": org, "identifier": id, "occurrences": e.occurrences},
        }));
    }
    let artifacts: Vec<Value> = analysis
        .scan
        .sources
        .iter()
        .map(|s| {
            let mut a = json!({"location": {"uri": uri(&s.path)}, "length": s.size});
            if let Some(h) = &s.sha256 {
                a["hashes"] = json!({"sha-256": h});
            }
            a
        })
        .collect();
    let mut log = envelope(rules, results);
    log["runs"][0]["artifacts"] = json!(artifacts);
    log
}

/// A SARIF 2.1.0 log of one leakledger run with these rules and results (the
/// report's `findings.sarif` and `leakledger gate --sarif`).
pub fn envelope(rules: Vec<Value>, results: Vec<Value>) -> Value {
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "leakledger",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_become_uri_references() {
        assert_eq!(super::uri(std::path::Path::new("dump/a b#1.jsonl")), "dump/a%20b%231.jsonl");
        assert_eq!(super::uri(std::path::Path::new("/x/é")), "file:///x/%C3%A9");
    }
}
