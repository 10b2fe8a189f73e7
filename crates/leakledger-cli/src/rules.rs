//! `leakledger rules`: what the detector looks for, listed or exported.

use std::io::{self, Write};
use std::process::ExitCode;

use anyhow::Result;
use leakledger::detect::secrets::{BUILTIN, Rule};

use crate::cli::RulesArgs;
use crate::output::term_safe;

pub(crate) fn run(args: &RulesArgs) -> Result<ExitCode> {
    let file = crate::output::load_rules(args.rules.as_deref())?;
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
