//! Proprietary identifiers: internal namespaces (`com.mycorp.`) and names an
//! organisation lists as its own, found in leaked text.

use memchr::memmem;

/// A compiled list of identifier prefixes.
#[derive(Debug, Clone, Default)]
pub struct Identifiers {
    prefixes: Vec<String>,
    finders: Vec<memmem::Finder<'static>>,
}

fn ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'$' | b'-')
}

impl Identifiers {
    /// Compiles `prefixes` (empty ones are dropped).
    pub fn new<S: AsRef<str>>(prefixes: &[S]) -> Self {
        let prefixes: Vec<String> =
            prefixes.iter().map(|p| p.as_ref().trim().to_string()).filter(|p| !p.is_empty()).collect();
        let finders = prefixes.iter().map(|p| memmem::Finder::new(p.as_bytes()).into_owned()).collect();
        Identifiers { prefixes, finders }
    }

    /// True when there is nothing to look for.
    pub fn is_empty(&self) -> bool {
        self.prefixes.is_empty()
    }

    /// The prefixes.
    pub fn prefixes(&self) -> &[String] {
        &self.prefixes
    }

    /// Every identifier in `text` that starts with a prefix at a word boundary,
    /// extended over identifier characters (`com.mycorp.payments.Ledger`), with
    /// trailing dots dropped. Grouped by prefix, each group in order of
    /// appearance, repeats included.
    pub fn find(&self, text: &str) -> Vec<String> {
        self.find_at(text.as_bytes()).into_iter().map(|(_, id)| id).collect()
    }

    /// [`Identifiers::find`] over bytes that may not all be UTF-8, each
    /// identifier with its offset. Grouped by prefix, each group in order.
    pub fn find_at(&self, b: &[u8]) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        for f in &self.finders {
            let mut done = 0;
            for at in f.find_iter(b) {
                // A match inside the identifier just taken is part of it.
                if at < done || (at > 0 && ident_byte(b[at - 1]) && b[at - 1] != b'.') {
                    continue;
                }
                let mut end = at + f.needle().len();
                while end < b.len() && ident_byte(b[end]) {
                    end += 1;
                }
                done = end;
                // The prefix is text and what extends it is ASCII.
                let token = String::from_utf8_lossy(&b[at..end]);
                out.push((at, token.trim_end_matches(['.', '-']).to_string()));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_namespaced_names_at_word_boundaries() {
        let ids = Identifiers::new(&["com.mycorp.", "MYCORP_"]);
        let t = "import com.mycorp.payments.Ledger;\nnot xcom.mycorp.x\nenv MYCORP_TOKEN and com.mycorp.";
        assert_eq!(ids.find(t), ["com.mycorp.payments.Ledger", "com.mycorp", "MYCORP_TOKEN"]);
        let at = ids.find_at(t.as_bytes());
        assert_eq!(at[0], (7, "com.mycorp.payments.Ledger".to_string()));
        assert_eq!(&t[at[2].0..][..12], "MYCORP_TOKEN");
        // Broken bytes around a name do not hide it.
        assert_eq!(ids.find_at(b"\xff com.mycorp.x\xfe"), [(2, "com.mycorp.x".to_string())]);
        assert!(Identifiers::new(&[""]).is_empty());
    }
}
