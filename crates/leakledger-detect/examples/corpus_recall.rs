//! Recall and false positives of the built-in rules on public scanners' rule
//! examples (`shared/corpora/secrets/examples.jsonl`), per kind we claim.
//!
//! ```sh
//! cargo run --release -p leakledger-detect --example corpus_recall -- ../shared/corpora/secrets/examples.jsonl
//! ```
//!
//! An example counts for one of our kinds when its source rule names that kind
//! (by the rule's id and name). Recall: positives where we find a secret of that
//! kind. False positives: negatives where we find one of that kind. Values are
//! never printed: `--misses KIND` (after the path) lists the missed examples of one
//! kind in a masked form (each run of 12 or more token characters shown as its first
//! four and its length), to see which shapes a rule does not take; `--misses all`
//! lists every kind's, and the negatives flagged.
//!
//! Some positives hold no secret: `AP6xxxxxxxxxx`, AWS's documented example
//! key, a shop's domain. Those read and judged by hand are listed, with why, in
//! `corpus_not_secrets.tsv` (by a hash of the example); the raw recall counts
//! them, the second figure leaves them out. A missed example is printed with
//! what the scanner did with it (`Scanner::rejected`: a match dropped as a
//! placeholder, below an entropy floor...) as a hint, never as a verdict.

#![allow(clippy::print_stdout, clippy::print_stderr)] // a measuring tool: it prints its table

use std::collections::BTreeMap;
use std::process::ExitCode;

use leakledger_detect::secrets::{BUILTIN, Scanner};

/// Our kind for a source rule, from its id and name.
fn kind_of(id: &str, name: &str) -> Option<&'static str> {
    let s = format!("{} {}", id, name).to_ascii_lowercase();
    let has = |w: &str| s.contains(w);
    Some(if id == "hashicorp-tf-password" {
        // A password in a Terraform file: what the generic rule is for.
        "generic-secret-assignment"
    } else if has("aws") && (has("secret") && !has("session")) {
        "aws-secret-access-key"
    } else if has("aws")
        && (has("access key id")
            || has("aws-access-token")
            || has("aws_key")
            || id == "ripsecrets.aws"
            || id == "np.aws.1")
    {
        "aws-access-key-id"
    } else if has("github")
        && (has("personal access token")
            || has("github-pat")
            || has("github_token")
            || id == "ripsecrets.github"
            || has("fine-grained"))
    {
        "github-pat"
    } else if has("slack") && has("webhook") {
        "slack-webhook"
    } else if has("slack")
        && (has("bot") || has("user") || has("legacy") || id == "detect-secrets.slack")
        && has("token")
        || id == "detect-secrets.slack"
    {
        "slack-token"
    } else if has("stripe") && !has("publishable") {
        "stripe-secret-key"
    } else if has("private key") || has("private-key") || has("private_key") && !has("id") {
        "private-key"
    } else if has("gcp-service-account") || has("service account") && (has("gcp") || has("google")) {
        "gcp-service-account"
    } else if has("web token secret") {
        "jwt-signing-secret"
    } else if has("jwt") || has("json web token") {
        "jwt"
    } else if has("openai") {
        "openai-api-key"
    } else if has("anthropic") && !has("admin") {
        "anthropic-api-key"
    } else if has("npm") && has("token") || id == "detect-secrets.npm" {
        "npm-token"
    } else if has("postgres") || has("database") && has("uri") {
        "database-url-password"
    } else if has("nuget") && has("password") {
        "nuget-config-password"
    } else if has("discord") && !has("webhook") {
        "discord-token"
    } else {
        return vendor_kind(&s);
    })
}

/// One source rule that covers two of our kinds, told apart by its example:
/// detect-secrets' AWS detector takes key ids (`AKIA...`) and secret keys alike.
fn refine(kind: &'static str, id: &str, example: &str) -> &'static str {
    let key_id = ["AKIA", "ASIA", "ABIA", "ACCA", "A3T"].iter().any(|p| example.contains(p));
    if id == "detect-secrets.aws_key" && key_id { "aws-access-key-id" } else { kind }
}

/// Whether our rule `rule` is of the vendor of `kind` (a GitHub OAuth token for
/// a source rule about GitHub tokens, an Azure AD secret for one about Azure).
/// AWS is kept apart: its key id and secret are two credentials, and examples
/// often show both.
fn same_vendor(rule: &str, kind: &str) -> bool {
    let vendor = |id: &str| id.split('-').next().unwrap_or("").to_string();
    let v = vendor(rule);
    v.len() >= 4
        && !NOT_VENDORS.contains(&v.as_str())
        && v != "aws"
        && BUILTIN.iter().any(|r| r.kind == kind && vendor(r.id) == v)
}

/// Vendor words that name no vendor (a rule id's first part that says what,
/// not whose).
const NOT_VENDORS: &[&str] =
    &["generic", "private", "database", "connection", "basic", "bearer", "jdbc", "url", "netrc"];

/// Our kind for a source rule that names one of our rules' vendors (the first
/// part of our rule id: `gitlab`, `sendgrid`, `shopify`...).
fn vendor_kind(s: &str) -> Option<&'static str> {
    BUILTIN.iter().find_map(|r| {
        let vendor = r.id.split('-').next().unwrap_or("");
        (vendor.len() >= 4 && !NOT_VENDORS.contains(&vendor) && s.contains(vendor)).then_some(r.kind)
    })
}

fn main() -> ExitCode {
    let path = std::env::args().nth(1).unwrap_or_else(|| "../shared/corpora/secrets/examples.jsonl".into());
    let show = (std::env::args().nth(2).as_deref() == Some("--misses")).then(|| std::env::args().nth(3)).flatten();
    if let Some(rules) = std::env::args().nth(2).filter(|_| show.is_none()) {
        return imported(&path, &rules);
    }
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let scanner = Scanner::new(BUILTIN, [0; 32]).expect("rules");
    // kind -> (positives, found, negatives, false positives, not secrets, found of those)
    let mut stats: BTreeMap<&str, [u32; 6]> = BTreeMap::new();
    // Examples judged by hand to hold no secret: (rule id, hash) -> (why, met).
    let mut reviewed: std::collections::HashMap<(String, String), (String, bool)> = NOT_SECRETS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let mut f = l.splitn(3, '\t');
            Some(((f.next()?.to_string(), f.next()?.to_string()), (f.next()?.to_string(), false)))
        })
        .collect();
    let mut missed: BTreeMap<&str, BTreeMap<String, u32>> = BTreeMap::new();
    // A negative of one source rule is often a positive of a sibling rule (a user
    // token is a negative for the bot-token rule): those are not false positives
    // of the kind.
    let mut positives: std::collections::HashSet<(&str, String)> = std::collections::HashSet::new();
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        if v["positive"].as_bool() == Some(true)
            && let Some(kind) = kind_of(v["rule_id"].as_str().unwrap_or(""), v["rule_name"].as_str().unwrap_or(""))
                .map(|k| refine(k, v["rule_id"].as_str().unwrap_or(""), v["example"].as_str().unwrap_or("")))
        {
            positives.insert((kind, v["example"].as_str().unwrap_or("").to_string()));
        }
    }
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        let (id, name) = (v["rule_id"].as_str().unwrap_or(""), v["rule_name"].as_str().unwrap_or(""));
        let example = v["example"].as_str().unwrap_or("");
        let Some(kind) = kind_of(id, name).map(|k| refine(k, id, example)) else { continue };
        let found = scanner.scan(example).iter().any(|h| h.kind == kind || same_vendor(h.rule, kind));
        let e = stats.entry(kind).or_default();
        let listing = show.as_deref().is_some_and(|s| s == kind || s == "all");
        if v["positive"].as_bool().unwrap_or(false) {
            e[0] += 1;
            e[1] += u32::from(found);
            if let Some((why, met)) = reviewed.get_mut(&(id.to_string(), hash16(example))) {
                *met = true;
                e[4] += 1;
                e[5] += u32::from(found);
                if listing {
                    println!("{kind}: {id}: not a secret ({why}): {}", masked(example));
                }
                continue;
            }
            if found {
                continue;
            }
            *missed.entry(kind).or_default().entry(id.to_string()).or_default() += 1;
            if listing {
                // What the scanner made of it: a hint for the reader.
                let hint = scanner
                    .rejected(example)
                    .into_iter()
                    .find(|r| r.kind == kind || same_vendor(r.rule, kind))
                    .map_or_else(|| "no match".to_string(), |r| format!("matched, then {:?}", r.reason));
                println!("{kind}: {id}: missed ({hint}): {}", masked(example));
            }
        } else if !positives.contains(&(kind, example.to_string())) {
            e[2] += 1;
            e[3] += u32::from(found);
            if found && listing {
                println!("{kind}: {id}: flagged negative: {}", masked(example));
            }
        }
    }
    println!(
        "| kind | positives | found | recall | not secrets (reviewed) | recall of the secrets | negatives | false positives |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let percent =
        |a: u32, b: u32| if b > 0 { format!("{:.1}%", 100.0 * f64::from(a) / f64::from(b)) } else { "-".into() };
    let (mut p, mut f, mut n, mut fp, mut ns, mut nf) = (0, 0, 0, 0, 0, 0);
    for (kind, [pos, found, neg, falsep, not, not_found]) in &stats {
        println!(
            "| {kind} | {pos} | {found} | {} | {not} | {} | {neg} | {falsep} |",
            percent(*found, *pos),
            percent(found - not_found, pos - not)
        );
        (p, f, n, fp, ns, nf) = (p + pos, f + found, n + neg, fp + falsep, ns + not, nf + not_found);
    }
    println!("| all | {p} | {f} | {} | {ns} | {} | {n} | {fp} |", percent(f, p), percent(f - nf, p - ns));
    println!();
    for ((id, hash), _) in reviewed.iter().filter(|(_, (_, met))| !met) {
        println!("listed as not a secret, but no positive of a kind of ours has that hash: {id} {hash}");
    }
    for (kind, rules) in &missed {
        let list: Vec<String> = rules.iter().map(|(r, n)| format!("{r} ({n})")).collect();
        println!("missed {kind}: {}", list.join(", "));
    }
    ExitCode::SUCCESS
}

/// The examples judged by hand to hold no secret (see the module's note).
const NOT_SECRETS: &str = include_str!("corpus_not_secrets.tsv");

/// The first 16 hex digits of an example's SHA-256: how the list names it
/// without repeating its value.
fn hash16(example: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(example.as_bytes()).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// `text` with each run of 12 or more token characters cut to its first four and
/// its length: the shape of an example without its value.
fn masked(text: &str) -> String {
    let token = |c: char| c.is_ascii_alphanumeric() || "_-+/=.~".contains(c);
    let mut out = String::new();
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once('\u{0}')) {
        if token(c) {
            run.push(c);
            continue;
        }
        if run.len() >= 12 {
            out.extend(run.chars().take(4));
            out.push_str(&format!("…{{{}}}", run.len()));
        } else {
            out.push_str(&run);
        }
        run.clear();
        match c {
            '\u{0}' => {}
            '\n' => out.push('⏎'),
            c if c.is_control() => out.push('·'),
            c => out.push(c),
        }
    }
    out
}

/// Recall and false positives of an imported gitleaks-style rule file on the
/// examples of the rules it holds (matched by rule id).
fn imported(examples: &str, rules: &str) -> ExitCode {
    let (Ok(text), Ok(toml)) = (std::fs::read_to_string(examples), std::fs::read_to_string(rules)) else {
        eprintln!("cannot read {examples} or {rules}");
        return ExitCode::from(2);
    };
    let file = match leakledger_detect::secrets::config::parse(&toml) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{rules}: {e}");
            return ExitCode::from(2);
        }
    };
    println!("{} rules imported, {} skipped", file.rules.len(), file.skipped.len());
    for e in &file.skipped {
        println!("  skipped {e}");
    }
    // One scanner per rule: whether a rule fires on its examples, before the
    // overlap resolution that gives shared bytes to one rule.
    let scanners: std::collections::HashMap<&str, Scanner> = file
        .rules
        .iter()
        .map(|l| (l.rule.id, Scanner::build(vec![l.clone()], file.allow.clone(), [0; 32]).expect("rule")))
        .collect();
    let (mut p, mut f, mut n, mut fp) = (0u32, 0u32, 0u32, 0u32);
    let mut missed: BTreeMap<String, u32> = BTreeMap::new();
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        let id = v["rule_id"].as_str().unwrap_or("");
        let Some(scanner) = scanners.get(id) else { continue };
        if v["source_repo"].as_str().is_none_or(|r| !r.contains("gitleaks")) {
            continue;
        }
        let found = !scanner.scan(v["example"].as_str().unwrap_or("")).is_empty();
        if v["positive"].as_bool().unwrap_or(false) {
            p += 1;
            f += u32::from(found);
            if !found {
                *missed.entry(id.to_string()).or_default() += 1;
            }
        } else {
            n += 1;
            fp += u32::from(found);
        }
    }
    println!(
        "gitleaks examples of imported rules: {f} of {p} positives found ({:.0}%), {fp} of {n} negatives flagged",
        100.0 * f as f64 / p.max(1) as f64
    );
    let list: Vec<String> = missed.iter().map(|(r, n)| format!("{r} ({n})")).collect();
    println!("missed: {}", list.join(", "));
    ExitCode::SUCCESS
}
