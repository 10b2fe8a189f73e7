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
//! A positive that a rule of the kind matched and then rejected by design (a
//! placeholder, a documented example, a value below the rule's entropy floor:
//! `Scanner::rejected` says which) is counted apart from those no rule matched:
//! the second recall figure leaves the former out. Each is listed with its
//! reason under `--misses`, so that the judgement can be checked.

#![allow(clippy::print_stdout, clippy::print_stderr)] // a measuring tool: it prints its table

use std::collections::BTreeMap;
use std::process::ExitCode;

use leakledger_detect::secrets::{BUILTIN, Scanner};

/// Our kind for a source rule, from its id and name.
fn kind_of(id: &str, name: &str) -> Option<&'static str> {
    let s = format!("{} {}", id, name).to_ascii_lowercase();
    let has = |w: &str| s.contains(w);
    // Not secrets, so no kind of ours: a shop's domain, a public key, a
    // token made to be published (Mapbox `pk.`).
    if has("domain") || has("public key") || has("public access token") {
        return None;
    }
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
    // kind -> (positives, found, negatives, false positives, rejected by design)
    let mut stats: BTreeMap<&str, [u32; 5]> = BTreeMap::new();
    let mut reasons: BTreeMap<String, u32> = BTreeMap::new();
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
        if v["positive"].as_bool().unwrap_or(false) {
            e[0] += 1;
            if found {
                e[1] += 1;
                continue;
            }
            let judged = scanner
                .rejected(example)
                .into_iter()
                .find(|r| r.kind == kind || same_vendor(r.rule, kind))
                .map(|r| format!("{:?}", r.reason));
            let judged = judged.or_else(|| test_string(example).then(|| "TestString".to_string()));
            if let Some(reason) = &judged {
                e[4] += 1;
                *reasons.entry(reason.clone()).or_default() += 1;
            } else {
                *missed.entry(kind).or_default().entry(id.to_string()).or_default() += 1;
            }
            if show.as_deref().is_some_and(|s| s == kind || s == "all") {
                println!("{kind}: {id}: {}: {}", judged.as_deref().unwrap_or("missed"), masked(example));
            }
        } else if !positives.contains(&(kind, example.to_string())) {
            e[2] += 1;
            e[3] += u32::from(found);
            if found && show.as_deref().is_some_and(|s| s == kind || s == "all") {
                println!("{kind}: {id}: flagged negative: {}", masked(example));
            }
        }
    }
    println!(
        "| kind | positives | found | recall | rejected by design | recall of the rest | negatives | false positives |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let percent =
        |a: u32, b: u32| if b > 0 { format!("{:.1}%", 100.0 * f64::from(a) / f64::from(b)) } else { "-".into() };
    let (mut p, mut f, mut n, mut fp, mut j) = (0, 0, 0, 0, 0);
    for (kind, [pos, found, neg, falsep, judged]) in &stats {
        println!(
            "| {kind} | {pos} | {found} | {} | {judged} | {} | {neg} | {falsep} |",
            percent(*found, *pos),
            percent(*found, pos - judged)
        );
        (p, f, n, fp, j) = (p + pos, f + found, n + neg, fp + falsep, j + judged);
    }
    println!("| all | {p} | {f} | {} | {j} | {} | {n} | {fp} |", percent(f, p), percent(f, p - j));
    println!();
    let list: Vec<String> = reasons.iter().map(|(r, n)| format!("{r} ({n})")).collect();
    println!("rejected by design: {}", list.join(", "));
    for (kind, rules) in &missed {
        let list: Vec<String> = rules.iter().map(|(r, n)| format!("{r} ({n})")).collect();
        println!("missed {kind}: {}", list.join(", "));
    }
    ExitCode::SUCCESS
}

/// Whether an example is a test string rather than a value of its format: it
/// holds a token of 12 or more characters whose characters after its first
/// four are at most three distinct ones (`AP6xxxxxxxxxx`,
/// `xoxb-0000000000-0000000000000-xxxx…`, `SKxxxx…`), which no issuer draws,
/// or that says `EXAMPLE` (AWS's documented example key). (Random characters
/// of the formats' alphabets are three distinct ones in 8 draws about once in
/// a million.)
fn test_string(example: &str) -> bool {
    let token = |c: char| c.is_ascii_alphanumeric() || "_-+/.~".contains(c);
    example.split(|c: char| !token(c)).any(|t| {
        let mut tail: Vec<char> = t.chars().skip(4).collect();
        tail.sort_unstable();
        tail.dedup();
        t.len() >= 12 && (tail.len() <= 3 || t.contains("EXAMPLE"))
    })
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
