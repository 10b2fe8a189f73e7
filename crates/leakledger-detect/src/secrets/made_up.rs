//! Values that match a format but were typed by a person, not drawn at random:
//! `ghp_1234567890abcdef...`, `sk_live_aaaaaaaa...`, `key-test-...`. They appear in
//! documentation, tests and tutorials pasted into prompts; a responder who
//! rotates secrets by severity should reach them last.
//!
//! Each sign is one that a random token of the formats we know shows with a
//! probability below about one in ten million, so a live key is not lowered by
//! chance (the test draws a million random tokens):
//! - a run of 8 or more of one character (`aaaaaaaa`, `00000000`);
//! - a run of 8 or more consecutive characters, up or down (`12345678`,
//!   `abcdefgh`, `HGFEDCBA`);
//! - few distinct characters for the length (at most one per eight, and at
//!   most five) in a value of 16 or more;
//! - a part between non-alphanumeric characters that is a word people write in
//!   examples (`test`, `example`, `fake`, `dummy`...), or that starts with one of
//!   six letters or more (`example123`).
//!
//! Values with white space or longer than 256 bytes (PEM blocks, whose DER bodies
//! hold long runs of `A`) are never called made up.

/// Words that mark a part of a value as written for an example.
const WORDS: &[&str] = &[
    "test",
    "testing",
    "example",
    "examples",
    "sample",
    "fake",
    "dummy",
    "demo",
    "mock",
    "placeholder",
    "notreal",
    "invalid",
    "redacted",
    "changeme",
    "replaceme",
];

/// Whether `body`, a secret's value without its format's fixed prefix, looks
/// written by a person rather than drawn at random.
pub fn looks_made_up(body: &str) -> bool {
    let b = body.as_bytes();
    if b.len() > 256 || b.iter().any(u8::is_ascii_whitespace) {
        return false;
    }
    long_run(b) || few_distinct(b) || example_word(body)
}

/// A run of 8 or more bytes that repeat one byte or step by one (up or down)
/// through digits or letters.
fn long_run(b: &[u8]) -> bool {
    const RUN: usize = 8;
    let (mut same, mut up, mut down) = (1, 1, 1);
    for w in b.windows(2) {
        let (x, y) = (w[0], w[1]);
        let step = x.is_ascii_alphanumeric() && y.is_ascii_alphanumeric() && same_class(x, y);
        same = if x == y { same + 1 } else { 1 };
        up = if step && y == x.wrapping_add(1) { up + 1 } else { 1 };
        down = if step && x == y.wrapping_add(1) { down + 1 } else { 1 };
        if same >= RUN || up >= RUN || down >= RUN {
            return true;
        }
    }
    false
}

/// Both digits, both lower-case letters or both upper-case letters.
fn same_class(x: u8, y: u8) -> bool {
    (x.is_ascii_digit() && y.is_ascii_digit())
        || (x.is_ascii_lowercase() && y.is_ascii_lowercase())
        || (x.is_ascii_uppercase() && y.is_ascii_uppercase())
}

/// At most one distinct byte per eight, and at most five, in 16 bytes or more.
fn few_distinct(b: &[u8]) -> bool {
    if b.len() < 16 {
        return false;
    }
    let mut seen = [false; 256];
    let mut distinct = 0;
    for &c in b {
        if !seen[usize::from(c)] {
            seen[usize::from(c)] = true;
            distinct += 1;
            if distinct > 5 || distinct * 8 > b.len() {
                return false;
            }
        }
    }
    true
}

/// A part between non-alphanumeric characters that is an example word, or
/// that starts with one of six letters or more.
fn example_word(s: &str) -> bool {
    s.split(|c: char| !c.is_ascii_alphanumeric()).any(|part| {
        WORDS.iter().any(|w| {
            part.eq_ignore_ascii_case(w)
                || (w.len() >= 6
                    && part.len() > w.len()
                    && part.as_bytes()[..w.len()].eq_ignore_ascii_case(w.as_bytes()))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_values_look_made_up() {
        for v in [
            "1234567890abcdefghijklmnopqrstuvwxyz",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "AbCdEf0000000000000000000000000000XY",
            "zyxwvutsrqponmlkj9f3kQ0pLm2nB7vC1xZ8",
            "abababababababababababab",
            "my-test-key-9f3kQ0pLm2nB7vC1",
            "Example_9f3kQ0pLm2nB7vC1xZ8",
            "EXAMPLE1234/K7MDENG/bPxRfiCY",
            "9f3kQ0pLm2nB.fake.vC1xZ8",
            "sample9f3kQ0pLm2nB7vC1xZ8",
        ] {
            assert!(looks_made_up(v), "{v}");
        }
    }

    #[test]
    fn drawn_values_and_key_blocks_do_not() {
        for v in [
            "9f3kQ0pLm2nB7vC1xZ8wR4tY6uI5oP3a",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzKqLoP",
            // A 4-letter word inside a random part is chance, not intent.
            "Qk8testZ1pLm2nB7vC1xZ8wR4",
            "xK2demo9",
            // An OpenSSH body holds long runs of `A`; a block has line breaks.
            "-----BEGIN OPENSSH PRIVATE KEY-----\nFAKEb3BlbnNzaC1rZXktdjEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAFAKE\n",
        ] {
            assert!(!looks_made_up(v), "{v}");
        }
    }

    /// A million tokens drawn as live keys are (base62, hex, base64url, and
    /// base32 upper case; 16 to 64 characters) are never called made up.
    #[test]
    fn random_tokens_are_never_made_up() {
        const ALPHABETS: [&[u8]; 4] = [
            b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            b"0123456789abcdef",
            b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_",
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
        ];
        // xorshift64*, fixed seed.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state >> 12;
            state ^= state << 25;
            state ^= state >> 27;
            state.wrapping_mul(0x2545_F491_4F6C_DD1D)
        };
        let mut flagged = Vec::new();
        for i in 0..1_000_000u64 {
            let alphabet = ALPHABETS[(i % 4) as usize];
            let len = 16 + (next() % 49) as usize;
            let token: String =
                (0..len).map(|_| char::from(alphabet[(next() >> 33) as usize % alphabet.len()])).collect();
            if looks_made_up(&token) {
                flagged.push(token);
            }
        }
        assert!(flagged.is_empty(), "{} random tokens flagged, e.g. {:?}", flagged.len(), flagged.first());
    }
}
