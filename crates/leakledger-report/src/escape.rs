//! Escaping of strings that came from the dump, for each place they are written.

/// `s` escaped for HTML text and attribute values; control characters (other
/// than tab and newline) are dropped, so nothing from the dump can open a tag,
/// close an attribute or smuggle a terminal sequence into a saved page.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A short single-line label for a chart: control characters dropped, at most
/// `max` characters (an ellipsis marks a cut).
pub fn label(s: &str, max: usize) -> String {
    let clean: String = s.chars().filter(|c| !c.is_control()).collect();
    if clean.chars().count() <= max {
        return clean;
    }
    let mut out: String = clean.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A CSV cell that a spreadsheet will not run as a formula: a cell that starts
/// with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`
/// (OWASP's advice for CSV injection). Parquet tables keep the value as it is.
pub fn csv_cell(s: &str) -> std::borrow::Cow<'_, str> {
    match s.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{s}").into(),
        _ => s.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_strings_are_inert() {
        assert_eq!(
            html("<script>alert('x')</script>&\"\u{1b}[31m"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;[31m"
        );
        assert_eq!(csv_cell("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
        assert_eq!(csv_cell("-1+2"), "'-1+2");
        assert_eq!(csv_cell("acme"), "acme");
        assert_eq!(label("a\u{7}b", 10), "ab");
        assert_eq!(label("abcdefghij", 5), "abcd…");
    }
}
