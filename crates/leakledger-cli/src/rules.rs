//! `leakledger rules`: what the detector looks for, listed or exported; and the
//! loading of rule files that `scan`, `report` and `gate` share.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use leakledger::detect::secrets::{BUILTIN, Rule};

use crate::cli::RulesArgs;
use crate::output::{path, term_safe};

/// Reads a secret rule file, telling on stderr which rules were left out.
pub(crate) fn load_rules(
    file: Option<&std::path::Path>,
) -> anyhow::Result<Option<std::sync::Arc<leakledger::detect::secrets::config::RuleFile>>> {
    let Some(file) = file else { return Ok(None) };
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", path(file)))?;
    let rules = leakledger::detect::secrets::config::parse(&text).with_context(|| path(file))?;
    // Warnings go to stderr, whatever --json or --quiet say of stdout.
    let mut err = std::io::stderr().lock();
    for e in &rules.skipped {
        let _ = writeln!(err, "{}: {}", path(file), term_safe(&e.to_string()));
    }
    let _ = writeln!(err, "{}: {} rule(s) loaded, {} left out", path(file), rules.rules.len(), rules.skipped.len());
    Ok(Some(std::sync::Arc::new(rules)))
}

pub(crate) fn run(args: &RulesArgs) -> Result<ExitCode> {
    let file = load_rules(args.rules.as_deref())?;
    let rules: Vec<&Rule> = BUILTIN.iter().chain(file.iter().flat_map(|f| f.rules.iter().map(|l| l.rule))).collect();
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    if args.export_regex {
        // One pattern per line, each in its own group so that a leading `(?i)`
        // stays its own when a tool joins the lines with `|`.
        for r in &rules {
            writeln!(out, "(?:{})", portable(r.pattern))?;
        }
    } else if args.json {
        let list: Vec<serde_json::Value> = rules
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id,
                    "kind": r.kind,
                    "severity": r.severity.name(),
                    "keywords": r.keywords,
                    "pattern": r.pattern,
                    "group": r.group,
                    "min_entropy": r.min_entropy,
                })
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &list)?;
        writeln!(out)?;
    } else {
        for r in &rules {
            writeln!(out, "{:<40} {:<28} {:<8} {}", r.id, r.kind, r.severity.name(), term_safe(&r.keywords.join(" ")))?;
        }
        writeln!(out, "{} rules", rules.len())?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// A pattern as older regex parsers (ripgrep's, grep's) read it: on one line,
/// and without the escaped quotes that newer Rust regex accepts and they do not.
fn portable(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 4);
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('"') => out.push('"'),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            },
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn portable_patterns_drop_only_escaped_quotes() {
        assert_eq!(super::portable(r#"[\"']x\\"y"#), r#"["']x\\"y"#);
        assert_eq!(super::portable("a\nb"), r"a\nb");
    }
}
