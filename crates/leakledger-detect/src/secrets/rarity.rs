//! How rare a few bytes are in the text a scan reads: which four bytes of a
//! keyword the keyword search should look for.
//!
//! The keyword search ([`super::literals`]) tests four bytes at every position
//! of the text and confirms the positions that pass. A keyword's first four
//! bytes are often a common word: `post` (of `postgres://`), `sign` (of
//! `signing`), `priv` (of `PRIVATE KEY`) start 0.6% of the positions of
//! source code, and each such position costs a confirmation that fails. Any
//! four bytes of a keyword find it as well, so the search takes the rarest.
//!
//! Rarity is estimated by a model of bigrams over byte classes (letters without
//! case, digits, white space, eleven punctuation marks, the rest), counted in
//! code, documentation and configuration (`examples/anchor_model.rs` makes the
//! table; [`COST`] says from what).

/// Number of byte classes.
pub const CLASSES: usize = 40;

/// The class of a byte in the model: letters of either case are one class
/// each (the search matches them folded), then digits, white space, the marks
/// `_ - . : / " ' = , ( )`, and every other byte.
pub fn class(b: u8) -> usize {
    match b {
        b'a'..=b'z' => usize::from(b - b'a'),
        b'A'..=b'Z' => usize::from(b - b'A'),
        b'0'..=b'9' => 26,
        b' ' | b'\t' | b'\n' | b'\r' => 27,
        b'_' => 28,
        b'-' => 29,
        b'.' => 30,
        b':' => 31,
        b'/' => 32,
        b'"' => 33,
        b'\'' => 34,
        b'=' => 35,
        b',' => 36,
        b'(' => 37,
        b')' => 38,
        _ => 39,
    }
}

/// The cost, in half bits, of four bytes: how unlikely they are to occur at a
/// given position of text (higher is rarer).
fn cost(w: &[u8]) -> u32 {
    let mut c = u32::from(FIRST[class(w[0])]);
    for pair in w.windows(2) {
        c += u32::from(COST[class(pair[0])][class(pair[1])]);
    }
    c
}

/// Where in `keyword` (four bytes or more) the rarest four bytes start; the
/// first such place where several are as rare.
pub fn rarest_four(keyword: &[u8]) -> usize {
    let mut best = (0, 0);
    for (at, w) in keyword.windows(4).enumerate() {
        let c = cost(w);
        if c > best.1 {
            best = (at, c);
        }
    }
    best.0
}

include!("rarity_table.rs");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_words_are_not_chosen_where_a_keyword_has_rarer_bytes() {
        fn four(k: &str) -> &str {
            &k[rarest_four(k.as_bytes())..][..4]
        }
        for (keyword, common) in [("postgres://", "post"), ("PRIVATE KEY-----", "PRIV"), ("signing", "sign")] {
            assert_ne!(four(keyword), common, "{keyword}");
        }
        assert_eq!(rarest_four(b"ghp_"), 0);
        assert_eq!(rarest_four(b"abc"), 0, "shorter than four: the start");
    }
}
