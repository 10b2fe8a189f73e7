//! Rules from TOML: gitleaks' configuration format (`[[rules]]` with `id`,
//! `regex`, `secretGroup`, `entropy`, `keywords`, `[[rules.allowlists]]`, and a
//! global `[allowlist]`), so a team's existing gitleaks rules run unchanged,
//! plus optional fields of ours per rule: `kind`, `severity`, `display`,
//! `generic`, `positives` and `negatives` (checked when the file is loaded).
//!
//! Rules loaded from a file live as long as the process (their strings are
//! leaked once), like the built-in ones: a [`Found`](super::Found) keeps
//! `&'static str` kinds and stays `Copy`.

use serde::Deserialize;

use super::{Allow, Loaded, Rule, RuleError, Severity};

/// A rule file, read and checked.
#[derive(Clone, Debug, Default)]
pub struct RuleFile {
    /// The rules that compiled, with their allowlists.
    pub rules: Vec<Loaded>,
    /// The file's global allowlist.
    pub allow: Allow,
    /// Rules left out, and why (no regex, no keyword, a regex Rust cannot
    /// compile, an example that fails).
    pub skipped: Vec<RuleError>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct File {
    #[serde(default)]
    rules: Vec<FileRule>,
    #[serde(default)]
    allowlist: Option<FileAllow>,
    #[serde(default)]
    allowlists: Vec<FileAllow>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileRule {
    id: String,
    #[serde(default)]
    regex: Option<String>,
    #[serde(default)]
    secret_group: Option<usize>,
    #[serde(default)]
    entropy: Option<f64>,
    #[serde(default)]
    keywords: Vec<String>,
    #[serde(default)]
    allowlist: Option<FileAllow>,
    #[serde(default)]
    allowlists: Vec<FileAllow>,
    // Ours.
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    display: Option<String>,
    #[serde(default)]
    generic: Option<bool>,
    /// Ours: the value is one a person chooses (a password), so a typed-looking
    /// value is not ranked low (see `looks_made_up`).
    #[serde(default)]
    chosen: bool,
    #[serde(default)]
    positives: Vec<String>,
    #[serde(default)]
    negatives: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct FileAllow {
    #[serde(default)]
    regexes: Vec<String>,
    #[serde(default)]
    stopwords: Vec<String>,
}

fn leak(s: String) -> &'static str {
    String::leak(s)
}

fn leak_all(v: Vec<String>) -> &'static [&'static str] {
    Vec::leak(v.into_iter().map(leak).collect())
}

/// An allowlist; a regex that does not compile is left out and reported.
fn allow(lists: impl IntoIterator<Item = FileAllow>, rule: &str, skipped: &mut Vec<RuleError>) -> Allow {
    let mut a = Allow::default();
    for l in lists {
        for r in l.regexes {
            match compile(&r, 1 << 22) {
                Ok(re) => a.regexes.push(re),
                Err(e) => {
                    skipped.push(RuleError { rule: rule.into(), reason: format!("allowlist regex left out: {e}") })
                }
            }
        }
        a.stopwords.extend(l.stopwords.into_iter().map(|s| s.to_ascii_lowercase()));
    }
    a
}

/// Compiles a gitleaks (Go RE2) regex: a `{` that starts no repetition is a
/// literal in Go and must be escaped for Rust's parser.
fn compile(pattern: &str, limit: usize) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(&go_braces(pattern)).size_limit(limit).build()
}

/// A Go (RE2) regex in Rust's syntax and meaning: literal braces escaped,
/// Perl classes and word boundaries made ASCII as Go has them.
fn go_braces(p: &str) -> String {
    let b = p.as_bytes();
    let mut out = String::with_capacity(p.len() + 8);
    let (mut i, mut class) = (0, false);
    while i < b.len() {
        let c = b[i];
        if c == b'\\' {
            // Go's Perl classes and word boundary are ASCII; Rust's are Unicode,
            // and Unicode ones keep the fast DFA from running (measured: one
            // gitleaks rule at 7 MiB/s). A nested class is valid in a class too.
            let next = p[i + 1..].chars().next();
            let ascii = match next {
                Some('w') => Some("[0-9A-Za-z_]"),
                Some('W') => Some("[^0-9A-Za-z_]"),
                Some('d') => Some("[0-9]"),
                Some('D') => Some("[^0-9]"),
                Some('s') => Some("[\\t\\n\\x0B\\f\\r ]"),
                Some('S') => Some("[^\\t\\n\\x0B\\f\\r ]"),
                Some('b') if !class => Some("(?-u:\\b)"),
                Some('B') if !class => Some("(?-u:\\B)"),
                _ => None,
            };
            let end = i + 1 + next.map_or(0, char::len_utf8);
            match ascii {
                Some(a) => out.push_str(a),
                None => out.push_str(&p[i..end]),
            }
            i = end;
            continue;
        }
        match c {
            b'[' if !class => class = true,
            b']' if class => class = false,
            b'{' if !class => {
                let rest = &p[i + 1..];
                let close = rest.find('}');
                let counted = close.is_some_and(|e| {
                    let inner = &rest[..e];
                    let mut parts = inner.splitn(2, ',');
                    let lo = parts.next().unwrap_or("");
                    !lo.is_empty()
                        && lo.bytes().all(|d| d.is_ascii_digit())
                        && parts.next().is_none_or(|hi| hi.bytes().all(|d| d.is_ascii_digit()))
                });
                let after_atom = i > 0 && !matches!(b[i - 1], b'(' | b'|');
                if !(counted && after_atom) {
                    out.push_str("\\{");
                    i += 1;
                    continue;
                }
            }
            _ => {}
        }
        // Copy one whole character.
        let len = p[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&p[i..i + len]);
        i += len;
    }
    out
}

fn severity(s: Option<&str>, rule: &str) -> Result<Severity, RuleError> {
    Ok(match s.unwrap_or("medium").to_ascii_lowercase().as_str() {
        "critical" => Severity::Critical,
        "high" => Severity::High,
        "medium" => Severity::Medium,
        "low" => Severity::Low,
        other => return Err(RuleError { rule: rule.into(), reason: format!("unknown severity {other:?}") }),
    })
}

/// Why a rule file could not be read at all (a rule that cannot be used is
/// skipped instead, with its reason in [`RuleFile::skipped`]).
#[derive(Debug, thiserror::Error)]
#[error("not a rule file: {0}")]
pub struct RuleFileError(String);

/// Reads a rule file's text. Each rule is compiled and its examples run; a rule
/// that fails is skipped with its reason, so one bad rule does not lose the rest.
pub fn parse(text: &str) -> Result<RuleFile, RuleFileError> {
    let file: File = toml::from_str(text).map_err(|e| RuleFileError(e.to_string()))?;
    let mut out = RuleFile::default();
    out.allow = allow(file.allowlist.into_iter().chain(file.allowlists), "(global allowlist)", &mut out.skipped);
    for r in file.rules {
        match one(r, &mut out.skipped) {
            Ok(loaded) => out.rules.push(loaded),
            Err(e) => out.skipped.push(e),
        }
    }
    Ok(out)
}

fn one(r: FileRule, skipped: &mut Vec<RuleError>) -> Result<Loaded, RuleError> {
    let id = r.id.clone();
    let err = |reason: String| RuleError { rule: id.clone(), reason };
    let Some(pattern) = r.regex else { return Err(err("no regex (path-only rules do not apply to log text)".into())) };
    if r.keywords.is_empty() {
        return Err(err("no keyword (every rule needs a literal to prefilter on)".into()));
    }
    if r.keywords.iter().any(|k| k.len() < 3) {
        return Err(err("a keyword shorter than 3 bytes defeats the prefilter".into()));
    }
    let pattern = go_braces(&pattern);
    let regex = compile(&pattern, 1 << 24).map_err(|e| err(e.to_string()))?;
    // gitleaks takes the first group when the regex has one and no group is named.
    let group = r.secret_group.unwrap_or(usize::from(regex.captures_len() > 1));
    if group >= regex.captures_len() {
        return Err(err(format!("secretGroup {group} but the regex has {} group(s)", regex.captures_len() - 1)));
    }
    let allow = allow(r.allowlist.into_iter().chain(r.allowlists), &id, skipped);
    let rule = Rule {
        id: leak(r.id.clone()),
        kind: leak(r.kind.unwrap_or_else(|| r.id.clone())),
        severity: severity(r.severity.as_deref(), &id)?,
        keywords: leak_all(r.keywords),
        pattern: leak(pattern),
        group,
        min_entropy: r.entropy.filter(|e| *e > 0.0),
        validator: None,
        display: leak(r.display.unwrap_or_default()),
        // gitleaks' catch-all rules are named so; a specific rule beats them.
        generic: r.generic.unwrap_or(r.id.starts_with("generic")),
        chosen: r.chosen,
        assignment_within: &[],
        value_within: 0,
        positives: leak_all(r.positives),
        negatives: leak_all(r.negatives),
    };
    let loaded = Loaded { rule: Box::leak(Box::new(rule)), allow, any_case: true };
    check_examples(&loaded)?;
    Ok(loaded)
}

/// Runs a rule's own examples against it alone.
fn check_examples(loaded: &Loaded) -> Result<(), RuleError> {
    let rule = loaded.rule;
    if rule.positives.is_empty() && rule.negatives.is_empty() {
        return Ok(());
    }
    let scanner = super::Scanner::build(vec![loaded.clone()], Allow::default(), [0; 32])?;
    for p in rule.positives {
        if scanner.scan(p).is_empty() {
            return Err(RuleError {
                rule: rule.id.into(),
                reason: format!("finds nothing in its positive example {p:?}"),
            });
        }
    }
    for n in rule.negatives {
        if !scanner.scan(n).is_empty() {
            return Err(RuleError {
                rule: rule.id.into(),
                reason: format!("finds a secret in its negative example {n:?}"),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::Scanner;

    const FILE: &str = r#"
title = "a team's gitleaks config"

[allowlist]
regexes = ['''^FAKEGLOBAL''']
stopwords = ["notasecret"]

[[rules]]
id = "acme-token"
description = "ACME internal token"
regex = '''(?i)\b(acme_[a-z0-9]{24})\b'''
entropy = 3
keywords = ["acme_"]

[[rules.allowlists]]
regexes = ['''^acme_0{24}$''']

[[rules]]
id = "acme-legacy"
regex = '''legacy=\{([a-f0-9]{16})\}'''
secretGroup = 1
keywords = ["legacy="]
kind = "acme-token"
severity = "critical"
positives = ["legacy={fa4e7c21b9d03e5a}"]
negatives = ["legacy={short}"]

[[rules]]
id = "no-keyword"
regex = '''zzz[0-9]+'''

[[rules]]
id = "broken"
regex = '''(unclosed'''
keywords = ["broken"]

[[rules]]
id = "wrong-example"
regex = '''wx_[0-9]{4}'''
keywords = ["wx_"]
positives = ["wx_12"]

[[rules]]
id = "path-only"
path = '''\.p12$'''
"#;

    #[test]
    fn gitleaks_rules_import_with_their_allowlists_and_our_fields() {
        let f = parse(FILE).unwrap();
        let ids: Vec<&str> = f.rules.iter().map(|l| l.rule.id).collect();
        assert_eq!(ids, ["acme-token", "acme-legacy"]);
        let skipped: Vec<&str> = f.skipped.iter().map(|e| e.rule.as_str()).collect();
        assert_eq!(skipped, ["no-keyword", "broken", "wrong-example", "path-only"]);
        let s = Scanner::with_file(&f, [3; 32]).unwrap();
        // Keywords match in any case, as gitleaks matches them.
        let hits = s.scan("TOKEN=ACME_Fa4e7c21b9d03e5aQkPz9mWx");
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!((hits[0].kind, hits[0].severity), ("acme-token", Severity::Medium));
        // The secret group, our kind and severity; a Go-style literal brace.
        let hits = s.scan("x legacy={fa4e7c21b9d03e5a} y");
        assert_eq!((hits[0].kind, hits[0].severity), ("acme-token", Severity::Critical));
        assert_eq!(&"x legacy={fa4e7c21b9d03e5a} y"[hits[0].start..hits[0].end], "fa4e7c21b9d03e5a");
        // The rule's allowlist, the global regex and stopword, the entropy floor.
        assert!(s.scan(&format!("acme_{}", "0".repeat(24))).is_empty());
        assert!(!s.scan("acme_n0tasecret0123456789abcd").is_empty());
        assert!(s.scan("acme_notasecret0123456789abcd").is_empty(), "a global stopword");
        assert!(s.scan("acme_aaaaaaaaaaaaaaaaaaaaaaab").is_empty(), "below the entropy floor");
        // The built-in rules still run beside them.
        assert!(s.scan("AWS_ACCESS_KEY_ID=AKIAFAKEFAKEFAKE2345").iter().any(|h| h.kind == "aws-access-key-id"));
    }

    #[test]
    fn go_braces_become_literals_only_where_they_repeat_nothing() {
        assert_eq!(go_braces(r"^\$(?:x+|{\$+})$"), r"^\$(?:x+|\{\$+})$");
        assert_eq!(go_braces(r"\bk\w[\d\s]"), r"(?-u:\b)k[0-9A-Za-z_][[0-9][\t\n\x0B\f\r ]]");
        assert_eq!(go_braces("\\é"), "\\é", "an escaped multi-byte character stays whole");
        assert_eq!(go_braces(r"a{2,5}b{3}"), r"a{2,5}b{3}");
        assert_eq!(go_braces(r"[{]x{"), r"[{]x\{");
        assert_eq!(go_braces(r"\{a}"), r"\{a}");
    }

    #[test]
    fn not_a_rule_file_is_an_error() {
        assert!(parse("this is not toml [").is_err());
        assert!(parse("[[rules]]\nid = 3").is_err());
    }
}
