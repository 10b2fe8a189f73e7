//! Secret detection: literal keywords found in one pass (see [`literals`])
//! decide which rules run, and each rule's regex runs only in a window around its
//! keyword. Matches are validated (checksums, entropy, placeholders), resolved
//! (a generic rule yields to a specific one on the same bytes), fingerprinted
//! with a keyed hash and shown only in redacted form.

pub mod config;
mod literals;
mod made_up;
pub mod rarity;
mod rules;

use std::fmt;
use std::sync::OnceLock;

use hmac::{Hmac, Mac};
use regex::Regex;
use sha2::Sha256;

pub use made_up::looks_made_up;
pub use rules::BUILTIN;

/// How urgently a secret must be rotated (design.md §5, §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// An example, a test value, or a token whose checksum fails.
    Low,
    /// Rotate in the next sprint.
    Medium,
    /// Rotate within 72 hours.
    High,
    /// Rotate within 24 hours.
    Critical,
}

impl Severity {
    /// One step down (`Low` stays `Low`): a secret seen only in a test fixture.
    pub fn lowered(self) -> Severity {
        match self {
            Severity::Critical => Severity::High,
            Severity::High => Severity::Medium,
            Severity::Medium | Severity::Low => Severity::Low,
        }
    }

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A check a match must pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Validator {
    /// GitHub and npm tokens end in the base62 CRC32 of their 30-character body;
    /// a failing checksum marks a made-up token (severity lowered to low).
    GithubCrc32,
    /// A PEM block must hold a real body (at least 32 base64 characters), else it
    /// is a placeholder and dropped.
    PemBody,
    /// A token drawn from upper and lower case letters and digits, known only
    /// by the name it is assigned to, holds a digit and a letter past `f`: an
    /// all-letter value there is a word or an identifier
    /// (`PAYMENTSPLATFORMTEAMKEYS`), an all-hex one an id (an Atlassian account
    /// id, a MongoDB ObjectId), and either is dropped. (Random 24 characters of
    /// that alphabet lack a digit 1.5% of the time, a letter past `f` almost
    /// never.)
    LettersAndDigits,
    /// A JSON Web Token's header (its first part) decodes from base64url to
    /// `{"…}`: `eyJ` followed by any base64 is not a token (a header cut short,
    /// letters typed into its middle that break the base64 grid).
    JwtHeader,
    /// The part after the value's last `-` holds a letter: the numbers of a
    /// Slack token whose secret part is masked (`xoxp-1-2-3-####`) are not a
    /// token, and 24 random letters and digits are all digits once in 10^19.
    TailHasLetter,
}

/// A detection rule: data, with examples the test suite runs.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    /// Stable id.
    pub id: &'static str,
    /// Secret kind (several rules may share one).
    pub kind: &'static str,
    /// Severity of a valid match.
    pub severity: Severity,
    /// Literals that must occur for the rule to run (matched case-insensitively).
    pub keywords: &'static [&'static str],
    /// The regex.
    pub pattern: &'static str,
    /// The capture group holding the secret value (0: the whole match). When it
    /// did not take part in a match, the first later group that did holds it
    /// (alternatives that capture the value each their own way).
    pub group: usize,
    /// Minimum Shannon entropy of the value, in bits per character.
    pub min_entropy: Option<f64>,
    /// A check the value must pass.
    pub validator: Option<Validator>,
    /// What a redacted form may show of the value (the format's fixed prefix).
    pub display: &'static str,
    /// A generic rule yields to any specific rule that matches the same bytes.
    pub generic: bool,
    /// The value is chosen by a person (a password, a signing secret), not
    /// drawn at random by the issuer: [`looks_made_up`] does not judge it,
    /// since `Testing2024` may well be a live database password.
    pub chosen: bool,
    /// For rules that find a value assigned to a name holding the keyword
    /// (`access_token = ...`): the most name characters that may follow the
    /// keyword before the assignment (`:`, `=` or `=>`, after an optional quote
    /// and white space), one for every keyword or one per keyword. A keyword
    /// that no assignment follows so opens no window: `max_tokens` in every
    /// logged request and `tokenizer` in code cost the generic rules' regexes
    /// most of their time. Empty: no such gate.
    pub assignment_within: &'static [u8],
    /// With `assignment_within`: the most characters the regex takes as the value,
    /// after the assignment, the white space and the quote that follow it. The
    /// window then ends one character past the longest value instead of the
    /// rule's reach, and starts where the name holding the keyword starts
    /// instead of at the line's start (a gated rule's match begins in that
    /// name). 0: the window as for any rule.
    pub value_within: u16,
    /// Texts the rule must find a secret in.
    pub positives: &'static [&'static str],
    /// Texts the rule must not find a secret in.
    pub negatives: &'static [&'static str],
}

impl Rule {
    /// The fields most rules leave as they are, for struct update syntax
    /// (`..Rule::DEFAULT`): the value in group 1, no entropy floor, no
    /// validator, nothing shown of the value, a specific (not generic) rule.
    pub const DEFAULT: Rule = Rule {
        id: "",
        kind: "",
        severity: Severity::Medium,
        keywords: &[],
        pattern: "",
        group: 1,
        min_entropy: None,
        validator: None,
        display: "",
        generic: false,
        chosen: false,
        assignment_within: &[],
        value_within: 0,
        positives: &[],
        negatives: &[],
    };
}

/// Why a match of a rule's regex is not reported as a secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rejection {
    /// An allowlist of the rule or of the rule file takes the value (AWS's
    /// documented example key, a rule file's stopwords).
    Allowlisted,
    /// A placeholder: `${VAR}`, `$NAME`, `<your-key>`, `changeme`, `xxxxxxxx`,
    /// `EXAMPLE` or `password` in the value (in a password a person chose, only
    /// with nothing but marks and filler words beside it) ([`is_placeholder`]).
    Placeholder,
    /// Below the rule's entropy floor: a run of one character, a word.
    LowEntropy,
    /// A PEM block without a key's body (`...`, a sentence in its place).
    NoPemBody,
    /// A value of letters and digits known only by its name that is all
    /// letters or all hex ([`Validator::LettersAndDigits`]).
    NotLettersAndDigits,
    /// Not what its format encodes (a JWT whose header is not a JSON object,
    /// a Slack token whose secret part is masked).
    Malformed,
}

/// A match of a rule's regex that is not reported, and why ([`Scanner::rejected`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    /// The rule's id.
    pub rule: &'static str,
    /// The rule's kind.
    pub kind: &'static str,
    /// Byte offsets of the value in the text scanned.
    pub start: usize,
    /// End of the value.
    pub end: usize,
    /// Why it is not reported.
    pub reason: Rejection,
}

/// One secret found in a text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// The rule's id.
    pub rule: &'static str,
    /// The kind.
    pub kind: &'static str,
    /// The severity, after validation.
    pub severity: Severity,
    /// Byte range of the value in the text.
    pub start: usize,
    /// End of the value.
    pub end: usize,
    /// Keyed hash of kind and value.
    pub fingerprint: Fingerprint,
    /// What outputs may show: kind, the format's prefix and the fingerprint.
    pub redacted: String,
    /// For a secret found inside base64 (its bytes in the text are the encoded
    /// form, `start..end` the part of the run that holds it): the decoded value.
    pub decoded: Option<Box<str>>,
}

impl Hit {
    /// The secret's value: the decoded one for a secret inside base64, else
    /// its bytes in `text` (the text it was found in).
    pub fn value<'t>(&'t self, text: &'t str) -> &'t str {
        self.decoded.as_deref().unwrap_or_else(|| text.get(self.start..self.end).unwrap_or(""))
    }
}

/// A secret as it travels through an analysis: everything but its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Found {
    /// Kind.
    pub kind: &'static str,
    /// Severity after validation.
    pub severity: Severity,
    /// Keyed fingerprint.
    pub fingerprint: Fingerprint,
    /// The format's fixed prefix that a redacted form may show.
    pub display: &'static str,
}

impl Found {
    /// The redacted form: kind, the format's prefix, the fingerprint's start.
    pub fn redacted(&self) -> String {
        let shown = if self.display.is_empty() { String::new() } else { format!("{}…", self.display) };
        format!("{}:{}[{}]", self.kind, shown, &self.fingerprint.to_string()[..12])
    }
}

impl Hit {
    /// The hit without its position.
    pub fn found(&self, display: &'static str) -> Found {
        Found { kind: self.kind, severity: self.severity, fingerprint: self.fingerprint, display }
    }
}

/// Secret values by fingerprint, kept only when a user asks for them to be
/// revealed (`--reveal-secrets`); shared by the workers of one pass. One entry
/// per distinct secret.
#[derive(Debug, Default)]
pub struct Vault(std::sync::Mutex<std::collections::HashMap<Fingerprint, Box<str>>>);

impl Vault {
    /// Keeps `value` under `fingerprint` (the first value kept wins).
    pub fn keep(&self, fingerprint: Fingerprint, value: &str) {
        let mut map = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.entry(fingerprint).or_insert_with(|| value.into());
    }

    /// Every value kept, emptying the vault.
    pub fn take(&self) -> std::collections::HashMap<Fingerprint, Box<str>> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

/// A keyed hash of a secret's kind and value: deduplicates and cross-references
/// without holding the value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub [u8; 16]);

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// A rule a keyword triggers, with the keyword's [`Rule::assignment_within`].
type Trigger = (usize, Option<u8>);

struct Compiled {
    rule: &'static Rule,
    /// Compiled when a window first needs it (built-in rules; see
    /// [`Compiled::regex`]), or at build (a rule file's, whose errors are
    /// reported then).
    regex: OnceLock<Option<Matcher>>,
    /// Values this rule lets pass (its allowlists).
    allow: Allow,
    /// Bytes the regex may need after the keyword.
    reach: usize,
}

impl Compiled {
    /// The rule's regex. A built-in one is compiled on first use: most dumps
    /// touch a fraction of the rules, and compiling all of them was most of a
    /// small scan's start-up (the test suite compiles every one).
    fn regex(&self) -> Option<&Matcher> {
        self.regex.get_or_init(|| compile(self.rule).ok()).as_ref()
    }
}

/// A rule's compiled regex.
struct Matcher {
    regex: Regex,
    /// The rule's group is the whole match (group 0, or a group around the
    /// whole pattern, as the PEM rule's): its matches need no capture groups.
    /// Resolving groups runs a slower engine over the match, which for a
    /// private key of a few kilobytes was a seventh of the scan of a gateway
    /// log.
    whole: bool,
}

/// A rule's regex, with the size limit every rule gets.
fn compile(rule: &Rule) -> Result<Matcher, RuleError> {
    let regex = regex::RegexBuilder::new(rule.pattern)
        .size_limit(1 << 24)
        .build()
        .map_err(|e| RuleError { rule: rule.id.into(), reason: e.to_string() })?;
    let whole = rule.group == 0
        || regex_syntax::parse(rule.pattern).is_ok_and(
            |hir| matches!(hir.kind(), regex_syntax::hir::HirKind::Capture(c) if c.index as usize == rule.group),
        );
    Ok(Matcher { regex, whole })
}

/// Where the keyword pass puts what is not a keyword: base64 forms (position,
/// lead) and marks (position, index), each when wanted.
type Extras<'a> = (Option<&'a mut Vec<(usize, u8)>>, Option<&'a mut Vec<(usize, u16)>>);

/// Adds a rule's window `(rule, start, end)`, joined to one of the last few
/// of that rule when they overlap or touch: the hits of a keyword come nearly
/// in order, so a run of them (a text of one keyword repeated, hostile or not)
/// makes one window rather than one per hit. Windows are joined the same way
/// again after sorting, so this changes how many there are, never what they
/// cover.
fn push_window(windows: &mut Vec<(usize, usize, usize)>, w: (usize, usize, usize)) {
    for last in windows.iter_mut().rev().take(16) {
        if last.0 == w.0 && w.1 <= last.2 && last.1 <= w.2 {
            last.1 = last.1.min(w.1);
            last.2 = last.2.max(w.2);
            return;
        }
    }
    windows.push(w);
}

/// How many marks a scanner takes ([`Scanner::with_marks`]).
pub const MAX_MARKS: usize = 16;

/// A compiled rule set with a fingerprint key. Build once, share across threads.
pub struct Scanner {
    rules: Vec<Compiled>,
    /// Every keyword (three bytes or more), found in one pass, and after them
    /// (ids from `triggers.len()` on) the base64 forms of the critical
    /// formats' prefixes (see [`base64_forms`]): where one lies in a base64
    /// run, on the run's 4-character grid, the run is decoded and scanned.
    literals: literals::Literals,
    /// For each base64 form, how many characters of its 4-character group
    /// come before it.
    leads: Vec<u8>,
    /// For each keyword, its length and the rules it triggers.
    triggers: Vec<(usize, Vec<Trigger>)>,
    /// Values no rule reports (a rule file's global allowlist).
    allow: Allow,
    key: [u8; 32],
    /// What `literals` was built from: the keywords and base64 forms (for
    /// [`Scanner::with_marks`] to build it again).
    searched: Vec<(Box<[u8]>, bool)>,
    /// Byte strings the keyword pass also finds, for a caller's own use (ids
    /// after the base64 forms'): see [`Scanner::scan_marked`].
    marks: Vec<Box<[u8]>>,
}

/// A rule as a scanner is built from: the rule, its allowlist, and whether its
/// keywords match in any case (gitleaks' rules: their keywords are written in
/// lower case and matched without regard to case).
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The rule.
    pub rule: &'static Rule,
    /// Its allowlist.
    pub allow: Allow,
    /// Keywords match in any case (and the regex may reach further: a rule
    /// from a file says nothing of how long its matches are).
    pub any_case: bool,
}

impl Loaded {
    /// A built-in rule.
    pub fn builtin(rule: &'static Rule) -> Self {
        Loaded { rule, allow: Allow::default(), any_case: false }
    }
}

/// Values that are known not to be secrets: a gitleaks allowlist's `regexes`
/// (matched against the value) and `stopwords` (contained in it, any case).
#[derive(Clone, Debug, Default)]
pub struct Allow {
    /// Regexes a value may match.
    pub regexes: Vec<Regex>,
    /// Words a value may contain (lower case).
    pub stopwords: Vec<String>,
}

impl Allow {
    /// Whether `value` is allowed (not to be reported).
    pub fn allows(&self, value: &str) -> bool {
        if self.regexes.iter().any(|r| r.is_match(value)) {
            return true;
        }
        if self.stopwords.is_empty() {
            return false;
        }
        let lower = value.to_ascii_lowercase();
        self.stopwords.iter().any(|w| lower.contains(w.as_str()))
    }
}

impl fmt::Debug for Scanner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scanner").field("rules", &self.rules.len()).finish_non_exhaustive()
    }
}

/// Why a rule set could not be built.
#[derive(Clone, Debug)]
pub struct RuleError {
    /// The rule.
    pub rule: String,
    /// What is wrong.
    pub reason: String,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rule {}: {}", self.rule, self.reason)
    }
}

impl std::error::Error for RuleError {}

/// Rules' regexes, compiled on every core: some take tens of milliseconds
/// (bounded repetitions of Unicode classes unroll), and a rule file may hold
/// hundreds (gitleaks' has 222).
fn compile_all(rules: &[&Rule]) -> Result<Vec<Matcher>, RuleError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(rules.len());
    let next = std::sync::atomic::AtomicUsize::new(0);
    // Each thread takes the next rule until none is left.
    let work = || {
        let mut out = Vec::new();
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(rule) = rules.get(i) else { return out };
            out.push((i, compile(rule)));
        }
    };
    let mut done: Vec<(usize, Result<Matcher, RuleError>)> = std::thread::scope(|s| {
        let workers: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
        let mut out = work();
        for w in workers {
            out.extend(w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)));
        }
        out
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// Shannon entropy in bits per character.
pub fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for b in s.bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts.iter().filter(|&&c| c > 0).map(|&c| -(c as f64 / n) * (c as f64 / n).log2()).sum()
}

/// Values that are documentation examples or placeholders, not secrets.
pub fn is_placeholder(value: &str) -> bool {
    placeholder(value, false)
}

/// [`is_placeholder`], for a value a person `chose` (a password): then the
/// word `password` inside it does not make it one by itself. `Password2024`
/// in a connection string is a working credential, and exactly the kind a
/// responder must rotate; `{password}`, `$DB_PASSWORD`, `yourStrong(!)Password`
/// and `mysecretpassword` are templates and documentation, and stay
/// placeholders: what is left without the word is only marks and filler words.
fn placeholder(value: &str, chosen: bool) -> bool {
    let lower = value.to_ascii_lowercase();
    if chosen && let Some(at) = lower.find("password") {
        // The word taken out in the value's own case (the checks below look
        // at case: `EXAMPLE`).
        let rest = format!("{}{}", &value[..at], &value[at + "password".len()..]);
        return only_filler(&rest) || placeholder(&rest, true);
    }
    // `%NAME%`: a Windows environment variable, read when the file is used.
    let variable =
        value.len() > 2 && value.starts_with('%') && value.ends_with('%') && !value[1..value.len() - 1].contains('%');
    variable
        || reference(value)
        || value.contains("EXAMPLE")
        || value.starts_with("${")
        || value.starts_with('<')
        || value.starts_with("{{")
        || ["changeme", "password", "your_", "your-", "xxxxxxxx", "placeholder", "redacted", "dummy"]
            .iter()
            .any(|p| lower.contains(p))
}

/// Whether `text` is nothing but marks (`_ - . { } [ ] ( ) $ % : !`, white
/// space) and the words documentation puts around a password (`my`, `your`,
/// `the`, `db`, `some`, `secret`, `strong`, `super`, `user`, `new`).
fn only_filler(text: &str) -> bool {
    let mut rest: String = text
        .chars()
        .filter(|c| !(c.is_whitespace() || "_-.{}[]()$%:!".contains(*c)))
        .collect::<String>()
        .to_ascii_lowercase();
    'strip: while !rest.is_empty() {
        for word in ["your", "my", "the", "db", "some", "secret", "strong", "super", "user", "new"] {
            if let Some(after) = rest.strip_prefix(word) {
                rest = after.to_string();
                continue 'strip;
            }
        }
        return false;
    }
    true
}

/// A reference to a value kept elsewhere: `$NAME` (upper case, as variables
/// of the environment are written: `$ecret1` may be a password), `$(Name)`,
/// `$env:Name`, `{name}` (a Make or PowerShell variable, a format string's
/// field).
fn reference(value: &str) -> bool {
    let name = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    let upper = |s: &str| {
        s.bytes().any(|b| b.is_ascii_uppercase())
            && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    };
    let wrapped = value
        .strip_prefix("$(")
        .and_then(|v| v.strip_suffix(')'))
        .or_else(|| value.strip_prefix('{').and_then(|v| v.strip_suffix('}')))
        .or_else(|| value.strip_prefix("$env:"));
    wrapped.is_some_and(name) || value.strip_prefix('$').is_some_and(upper)
}

const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// GitHub/npm checksum: the last 6 characters are the base62 CRC32 of the 30
/// characters after the `xxx_` prefix.
fn crc32_ok(token: &str) -> bool {
    let Some((_, rest)) = token.split_once('_') else { return false };
    if rest.len() != 36 {
        return false;
    }
    let (body, sum) = rest.split_at(30);
    let mut n = crc32fast::hash(body.as_bytes());
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = B62[(n % 62) as usize];
        n /= 62;
    }
    n == 0 && sum.as_bytes() == out
}

/// The value as a detector fingerprints it. A PEM block keeps its two markers
/// and, between them, only the characters of its base64 and headers: the same
/// key as a file, inside JSON (`\n` escapes, `\/`), indented in YAML or as
/// string literals joined in code is one secret.
fn canonical(rule: &Rule, value: &str) -> String {
    if rule.kind != "private-key" {
        return value.to_string();
    }
    let text = value.replace("\\r", "").replace("\\n", "\n");
    // The first marker ends at the second run of dashes; the last starts at
    // the last `-----END`.
    let head = text.find("-----BEGIN").and_then(|b| text[b + 10..].find("-----").map(|e| b + 10 + e + 5));
    let tail = text.rfind("-----END");
    match (head, tail) {
        (Some(h), Some(t)) if h <= t => {
            // A joint of string literals (`" + "`: a quote, white space and at
            // most one `+`, a quote) is left out whole: its `+` is no base64.
            let b = &text.as_bytes()[h..t];
            let mut body = String::with_capacity(b.len());
            let mut i = 0;
            while i < b.len() {
                if matches!(b[i], b'"' | b'\'') {
                    let gap = b[i + 1..].iter().position(|&c| !(c.is_ascii_whitespace() || c == b'+'));
                    if let Some(g) = gap
                        && matches!(b[i + 1 + g], b'"' | b'\'')
                        && b[i + 1..i + 1 + g].iter().filter(|&&c| c == b'+').count() <= 1
                    {
                        i += g + 2;
                        continue;
                    }
                }
                if b[i].is_ascii_alphanumeric() || matches!(b[i], b'+' | b'/' | b'=' | b':' | b',') {
                    body.push(char::from(b[i]));
                }
                i += 1;
            }
            format!("{}\n{body}\n{}", &text[..h], &text[t..])
        }
        _ => text,
    }
}

impl Scanner {
    /// The built-in rules with a random fingerprint key (fingerprints then match
    /// within one report only).
    pub fn builtin() -> Self {
        Self::new(BUILTIN, random_key()).unwrap_or_else(|e| panic!("built-in rule broken: {e}"))
    }

    /// Compiles `rules` with a fingerprint `key` (give the same key to correlate
    /// fingerprints across reports).
    pub fn new(rules: &'static [Rule], key: [u8; 32]) -> Result<Self, RuleError> {
        Self::build(rules.iter().map(Loaded::builtin).collect(), Allow::default(), key)
    }

    /// The built-in rules and a rule file's (see [`config`]), with its allowlists.
    pub fn with_file(file: &config::RuleFile, key: [u8; 32]) -> Result<Self, RuleError> {
        let rules = BUILTIN.iter().map(Loaded::builtin).chain(file.rules.iter().cloned()).collect();
        Self::build(rules, file.allow.clone(), key)
    }

    /// Compiles rules, each with its allowlist, and a global allowlist.
    pub fn build(rules: Vec<Loaded>, allow: Allow, key: [u8; 32]) -> Result<Self, RuleError> {
        // Built-in rules compile on first use; others now, so that a broken
        // one is an error here.
        let builtin = |r: &Rule| BUILTIN.iter().any(|b| std::ptr::eq(b, r));
        let eager: Vec<&Rule> = rules.iter().map(|l| l.rule).filter(|r| !builtin(r)).collect();
        let mut regexes = compile_all(&eager)?.into_iter();
        let mut compiled = Vec::with_capacity(rules.len());
        // Keywords, each with whether it matches in any case.
        let mut words: Vec<(String, bool)> = Vec::new();
        let mut triggers: Vec<Vec<Trigger>> = Vec::new();
        // The literal prefixes of critical fixed formats (case-sensitive rules),
        // whose base64 forms mark a secret wrapped in base64 (found in the
        // keywords' pass).
        let mut prefixes: Vec<&'static str> = Vec::new();
        for (i, Loaded { rule, allow: rule_allow, any_case }) in rules.into_iter().enumerate() {
            if !any_case && !rule.pattern.starts_with("(?i)") && rule.severity == Severity::Critical {
                for k in rule.keywords {
                    if !prefixes.contains(k) {
                        prefixes.push(k);
                    }
                }
            }
            let regex = if builtin(rule) { OnceLock::new() } else { OnceLock::from(regexes.next()) };
            if rule.keywords.is_empty() {
                return Err(RuleError { rule: rule.id.into(), reason: "no keyword".into() });
            }
            if let Some(k) = rule.keywords.iter().find(|k| k.len() < 3) {
                // The keyword pass takes three bytes or more: a shorter keyword
                // would never fire (and would make every byte a candidate).
                let reason = format!("keyword {k:?} is shorter than 3 bytes");
                return Err(RuleError { rule: rule.id.into(), reason });
            }
            // How far past its keyword a rule's match may end: PEM blocks and
            // JWTs (claims of a kilobyte or more are common) run long.
            let reach = match rule.kind {
                "private-key" => 16 << 10,
                "jwt" => 8 << 10,
                _ if any_case => 1 << 10,
                _ => 512,
            };
            compiled.push(Compiled { rule, regex, allow: rule_allow, reach });
            // A rule file's keywords match in any case, and so do those of a
            // built-in rule that ignores case.
            let insensitive = rule.pattern.starts_with("(?i)");
            let within_of = |k: usize| match rule.assignment_within {
                [] => None,
                [one] => Some(*one),
                each => each.get(k).copied(),
            };
            for (k, word) in rule.keywords.iter().enumerate() {
                let within = within_of(k);
                let word =
                    if any_case || insensitive { (word.to_ascii_lowercase(), true) } else { (word.to_string(), false) };
                match words.iter().position(|w| *w == word) {
                    Some(j) => match triggers[j].iter_mut().find(|t| t.0 == i) {
                        // One word twice for one rule: the looser gate holds.
                        Some(t) => t.1 = t.1.zip(within).map(|(a, b)| a.max(b)),
                        None => triggers[j].push((i, within)),
                    },
                    None => {
                        words.push(word);
                        triggers.push(vec![(i, within)]);
                    }
                }
            }
        }
        let forms: Vec<(String, u8)> = {
            let mut f: Vec<(String, u8)> = prefixes.iter().flat_map(|k| base64_forms(k)).collect();
            f.sort_unstable();
            f.dedup_by(|b, a| a.0 == b.0);
            f
        };
        // Every keyword, then the base64 forms (five bytes or more), in one pass.
        let searched: Vec<(Box<[u8]>, bool)> = words
            .iter()
            .map(|(w, any)| (w.as_bytes().into(), *any))
            .chain(forms.iter().map(|f| (f.0.as_bytes().into(), false)))
            .collect();
        let literals = literals::Literals::new(searched.iter().map(|(w, any)| (&**w, *any)));
        let triggers = words.iter().map(|w| w.0.len()).zip(triggers).collect();
        let leads = forms.iter().map(|f| f.1).collect();
        Ok(Scanner { rules: compiled, literals, leads, triggers, allow, key, searched, marks: Vec::new() })
    }

    /// The scanner with its keyword pass also finding `marks` (exact bytes,
    /// three or more each, at most [`MAX_MARKS`]), which
    /// [`Scanner::scan_marked`] reports: a caller that looks for a few markers
    /// of its own in the texts it scans (the exposure digest's `File:`, fences,
    /// diffs) finds them in the same pass instead of one more pass per marker.
    pub fn with_marks(mut self, marks: &[&str]) -> Result<Self, RuleError> {
        if let Some(m) = marks.iter().find(|m| m.len() < 3) {
            return Err(RuleError { rule: "marks".into(), reason: format!("mark {m:?} is shorter than 3 bytes") });
        }
        if marks.len() > MAX_MARKS {
            let reason = format!("{} marks, more than {MAX_MARKS}", marks.len());
            return Err(RuleError { rule: "marks".into(), reason });
        }
        self.marks = marks.iter().map(|m| m.as_bytes().into()).collect();
        self.literals = literals::Literals::new(
            self.searched.iter().map(|(w, any)| (&**w, *any)).chain(self.marks.iter().map(|m| (&**m, false))),
        );
        Ok(self)
    }

    /// The marks the keyword pass finds (see [`Scanner::with_marks`]).
    pub fn marks(&self) -> impl ExactSizeIterator<Item = &[u8]> {
        self.marks.iter().map(|m| &**m)
    }

    /// [`Scanner::find_at`], also pushing onto `marked` where each mark (by its
    /// index in [`Scanner::with_marks`]' list) occurs in `text`, nearly in
    /// order: its first occurrence on each line (a line is where a marker
    /// convention is read, and a line of repeats, hostile or not, must not
    /// make one entry per byte).
    pub fn find_marked(
        &self,
        text: &str,
        vault: Option<&Vault>,
        marked: &mut Vec<(usize, u16)>,
    ) -> Vec<(usize, Found)> {
        self.found_at(self.scan_marked(text, marked), text, vault)
    }

    /// [`Scanner::scan`], also pushing the marks found (see
    /// [`Scanner::find_marked`]).
    pub fn scan_marked(&self, text: &str, marked: &mut Vec<(usize, u16)>) -> Vec<Hit> {
        self.scan_in(text.as_bytes(), Some(text), Some(marked))
    }

    /// The rules.
    pub fn rules(&self) -> impl Iterator<Item = &'static Rule> + '_ {
        self.rules.iter().map(|c| c.rule)
    }

    /// `text` with every secret replaced by its redacted form (kind, the format's
    /// prefix, the fingerprint's start): a filter to put in front of a log store.
    /// Borrowed when nothing was found.
    pub fn redact<'t>(&self, text: &'t str) -> std::borrow::Cow<'t, str> {
        let hits = self.scan(text);
        if hits.is_empty() {
            return std::borrow::Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for h in hits {
            out.push_str(&text[at..h.start]);
            out.push_str(&h.redacted);
            at = h.end;
        }
        out.push_str(&text[at..]);
        std::borrow::Cow::Owned(out)
    }

    /// The secrets in `text`, without positions.
    pub fn find(&self, text: &str) -> Vec<Found> {
        self.scan(text).iter().map(|h| self.found(h)).collect()
    }

    /// As [`Scanner::find`], keeping each secret's value in `vault`: for a report
    /// made with the values revealed on purpose.
    pub fn find_keeping(&self, text: &str, vault: &Vault) -> Vec<Found> {
        self.find_at(text, Some(vault)).into_iter().map(|(_, f)| f).collect()
    }

    /// As [`Scanner::find`], with each secret's byte offset in `text`; keeps
    /// values in `vault` when given one.
    pub fn find_at(&self, text: &str, vault: Option<&Vault>) -> Vec<(usize, Found)> {
        self.found_at(self.scan(text), text, vault)
    }

    /// Hits as they travel on, values kept in `vault` when given one.
    fn found_at(&self, hits: Vec<Hit>, text: &str, vault: Option<&Vault>) -> Vec<(usize, Found)> {
        hits.into_iter()
            .map(|h| {
                if let Some(v) = vault {
                    v.keep(h.fingerprint, h.value(text));
                }
                (h.start, self.found(&h))
            })
            .collect()
    }

    /// A hit as it travels on, with its rule's display prefix.
    fn found(&self, h: &Hit) -> Found {
        h.found(self.rules.iter().find(|c| c.rule.id == h.rule).map_or("", |c| c.rule.display))
    }

    /// The keyed fingerprint of a secret.
    pub fn fingerprint(&self, kind: &str, value: &str) -> Fingerprint {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).unwrap_or_else(|_| unreachable_key());
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        let out = mac.finalize().into_bytes();
        let mut fp = [0u8; 16];
        fp.copy_from_slice(&out[..16]);
        Fingerprint(fp)
    }

    /// Every secret in `text`, in order, without overlaps: as written, and
    /// inside base64 runs that hold the base64 form of a distinctive keyword
    /// (a Kubernetes secret's `data`, a Docker `auth`, a config file attached in
    /// base64), decoded and scanned once more.
    pub fn scan(&self, text: &str) -> Vec<Hit> {
        self.scan_in(text.as_bytes(), Some(text), None)
    }

    /// [`Scanner::scan`] over bytes that may not all be UTF-8 (a file as it
    /// lies on disk): secrets are found in the runs of valid UTF-8 (no secret
    /// holds a broken byte), at their offsets in `bytes`. Only the bytes around
    /// a keyword are checked, so the text is not validated first in a pass of
    /// its own (a seventh of `gate`'s time on code).
    pub fn scan_bytes(&self, bytes: &[u8]) -> Vec<Hit> {
        self.scan_in(bytes, None, None)
    }

    /// [`Scanner::scan`] of `bytes`, which are `text` when that is given.
    fn scan_in(&self, bytes: &[u8], text: Option<&str>, marks: Option<&mut Vec<(usize, u16)>>) -> Vec<Hit> {
        let mut forms = Vec::new();
        let mut hits = self.scan_plain(bytes, text, (Some(&mut forms), marks), None);
        // Found by their rarest bytes, keywords come nearly but not quite in order.
        forms.sort_unstable();
        let mut done = 0;
        for (at, lead) in forms {
            if at < done {
                continue;
            }
            // A form off the run's grid is a chance match, not the keyword.
            let Some((start, end)) = base64_run(bytes, at, usize::from(lead)) else { continue };
            done = end;
            let Some(decoded) = decode_base64(&bytes[start..end]) else { continue };
            // Binary beside the secret (a config file's bytes) is replaced, which
            // moves offsets: then the whole run stands for the secret.
            let inner = String::from_utf8_lossy(&decoded);
            let exact = matches!(inner, std::borrow::Cow::Borrowed(_));
            for (generic, h) in self.scan_plain(inner.as_bytes(), Some(&inner), (None, None), None) {
                // Where in the run the secret's bytes are: 4 characters for 3 bytes.
                let (a, b) = if exact {
                    (start + h.start / 3 * 4, (start + h.end.div_ceil(3) * 4).min(end))
                } else {
                    (start, end)
                };
                let decoded = Some(Box::from(&inner[h.start..h.end]));
                hits.push((generic, Hit { start: a, end: b, decoded, ..h }));
            }
        }
        resolve(hits)
    }

    /// The matches of the rules' regexes in `text` (as written, not inside
    /// base64) that are not reported, and why: placeholders, documentation
    /// examples, values too regular for their rule. For tuning rules and for
    /// measuring recall: a value dropped here was seen and judged, not missed.
    pub fn rejected(&self, text: &str) -> Vec<Rejected> {
        let mut rejected = Vec::new();
        self.scan_plain(text.as_bytes(), Some(text), (None, None), Some(&mut rejected));
        rejected
    }

    /// The secrets of `bytes` as written (`text` when that is given: then
    /// they are known to be UTF-8), overlaps not yet resolved; with `forms`,
    /// where a base64 form of a critical prefix starts (nearly by position),
    /// with its lead (see `leads`); with `marks`, where each mark occurs.
    fn scan_plain(
        &self,
        bytes: &[u8],
        text: Option<&str>,
        (mut forms, mut marks): Extras<'_>,
        mut rejected: Option<&mut Vec<Rejected>>,
    ) -> Vec<(bool, Hit)> {
        // Which rules to run, and from where: one window per keyword hit, merged
        // per rule when they overlap. Every keyword found counts, overlapping
        // ones too (`A3T` and `T3BlbkFJ` in `...A3T3BlbkFJ...`; `secret` and
        // `secret_access_key`: the specific rule wins in `resolve`).
        let mut windows: Vec<(usize, usize, usize)> = Vec::new();
        let mut window = |at: usize, word: usize| {
            // The window starts at the line start, at most 256 bytes back
            // (found only for a rule that needs it: the gated rules' windows
            // start at the name, and `token` opens most windows of all).
            let back = at.saturating_sub(256);
            let line = || memchr::memrchr(b'\n', &bytes[back..at]).map_or(back, |p| back + p + 1);
            let (len, rules) = &self.triggers[word];
            for &(r, within) in rules {
                let end = (at + len + self.rules[r].reach).min(bytes.len());
                let Some(within) = within else {
                    push_window(&mut windows, (r, line(), end));
                    continue;
                };
                let Some(assigned) = assignment_follows(bytes, at + len, end, within) else { continue };
                match self.rules[r].rule.value_within {
                    0 => push_window(&mut windows, (r, line(), end)),
                    value => {
                        // A name holds no newline: this stops at the line's start.
                        let name = at - bytes[back..at].iter().rev().take_while(|&&b| is_name_byte(b)).count();
                        push_window(&mut windows, (r, name, value_end(bytes, assigned, usize::from(value), end)));
                    }
                }
            }
        };
        let words = self.triggers.len();
        let marked = words + self.leads.len();
        // How far each mark's text has been looked through for a line break
        // since it was last reported: one per line is enough.
        let mut seen = [usize::MAX; MAX_MARKS];
        self.literals.find(bytes, |at, id, _| match id as usize {
            w if w < words => window(at, w),
            w if w < marked => {
                if let Some(f) = forms.as_deref_mut() {
                    f.push((at, self.leads.get(w - words).copied().unwrap_or(0)))
                }
            }
            w => {
                let k = w - marked;
                if let (Some(m), Some(seen)) = (marks.as_deref_mut(), seen.get_mut(k)) {
                    // Hits of one mark come in order (by where its searched
                    // bytes lie), and each gap is looked through once, so a
                    // line of repeats costs linear time.
                    if *seen == usize::MAX || at < *seen || memchr::memchr(b'\n', &bytes[*seen..at]).is_some() {
                        m.push((at, k as u16));
                    }
                    *seen = at;
                }
            }
        });
        if windows.is_empty() {
            return Vec::new();
        }
        windows.sort_unstable();
        let mut merged: Vec<(usize, usize, usize)> = Vec::with_capacity(windows.len());
        for w in windows {
            match merged.last_mut() {
                Some(last) if last.0 == w.0 && w.1 <= last.2 => last.2 = last.2.max(w.2),
                _ => merged.push(w),
            }
        }
        let mut hits: Vec<(bool, Hit)> = Vec::new();
        for (r, start, end) in merged {
            let c = &self.rules[r];
            let Some(matcher) = c.regex() else { continue };
            // Windows start and end on char boundaries only by luck: widen to them.
            let (start, end) = (floor_char(bytes, start), ceil_char(bytes, end));
            let mut take = |at: usize, m: regex::Match<'_>| {
                let (from, to) = (at + m.start(), at + m.end());
                let judged = if c.allow.allows(m.as_str()) || self.allow.allows(m.as_str()) {
                    Err(Rejection::Allowlisted)
                } else {
                    self.hit(c.rule, m.as_str(), from, to)
                };
                match judged {
                    Ok(hit) => hits.push((c.rule.generic, hit)),
                    Err(reason) => {
                        if let Some(r) = rejected.as_deref_mut() {
                            r.push(Rejected { rule: c.rule.id, kind: c.rule.kind, start: from, end: to, reason });
                        }
                    }
                }
            };
            let mut matches = |at: usize, window: &str| {
                if matcher.whole {
                    matcher.regex.find_iter(window).for_each(|m| take(at, m));
                    return;
                }
                for caps in matcher.regex.captures_iter(window) {
                    // The rule's group, or for a pattern of alternatives that
                    // each capture the value (quoted one way or another), the
                    // first later group that took part.
                    let g = c.rule.group;
                    if let Some(m) = caps.get(g).or_else(|| (g.max(1)..caps.len()).find_map(|i| caps.get(i))) {
                        take(at, m);
                    }
                }
            };
            match text.map(|t| &t[start..end]) {
                Some(window) => matches(start, window),
                None => match std::str::from_utf8(&bytes[start..end]) {
                    Ok(window) => matches(start, window),
                    // Each run of valid UTF-8 in the window on its own.
                    Err(_) => {
                        let mut at = start;
                        for chunk in bytes[start..end].utf8_chunks() {
                            if !chunk.valid().is_empty() {
                                matches(at, chunk.valid());
                            }
                            at += chunk.valid().len() + chunk.invalid().len();
                        }
                    }
                },
            }
        }
        hits
    }

    fn hit(&self, rule: &'static Rule, raw: &str, start: usize, end: usize) -> Result<Hit, Rejection> {
        if placeholder(raw, rule.chosen) {
            return Err(Rejection::Placeholder);
        }
        if let Some(min) = rule.min_entropy
            && entropy(raw) < min
        {
            return Err(Rejection::LowEntropy);
        }
        let value = canonical(rule, raw);
        let mut severity = rule.severity;
        match rule.validator {
            Some(Validator::GithubCrc32) if !crc32_ok(&value) => severity = Severity::Low,
            Some(Validator::PemBody) => {
                let body = value.bytes().filter(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/').count();
                if body < 64 {
                    return Err(Rejection::NoPemBody);
                }
            }
            Some(Validator::JwtHeader) if !jwt_header_ok(&value) => return Err(Rejection::Malformed),
            Some(Validator::TailHasLetter)
                if !value.rsplit('-').next().is_some_and(|t| t.bytes().any(|b| b.is_ascii_alphabetic())) =>
            {
                return Err(Rejection::Malformed);
            }
            Some(Validator::LettersAndDigits)
                if !(value.bytes().any(|b| b.is_ascii_digit())
                    && value.bytes().any(|b| b.is_ascii_alphabetic() && !b.is_ascii_hexdigit())) =>
            {
                return Err(Rejection::NotLettersAndDigits);
            }
            _ => {}
        }
        // A random token of a format that a person typed instead; values a
        // person chooses anyway (passwords, generic assignments) are not judged.
        if !rule.chosen && !rule.generic && looks_made_up(value.strip_prefix(rule.display).unwrap_or(&value)) {
            severity = Severity::Low;
        }
        let fingerprint = self.fingerprint(rule.kind, &value);
        let shown = if rule.display.is_empty() { String::new() } else { format!("{}…", rule.display) };
        let redacted = format!("{}:{}[{}]", rule.kind, shown, &fingerprint.to_string()[..12]);
        Ok(Hit { rule: rule.id, kind: rule.kind, severity, start, end, fingerprint, redacted, decoded: None })
    }
}

/// Where an assignment may follow a name keyword that ends at `from`: at most
/// `within` more name characters (of any script), an optional quote, white
/// space, then `:` or `=` (its position), all before `end`. A superset of what
/// the gated rules' regexes take after their keyword: bytes past ASCII count
/// as name characters and as white space both (the regexes' `\w` and `\s` take
/// letters and spaces of any script).
fn assignment_follows(bytes: &[u8], from: usize, end: usize, within: u8) -> Option<usize> {
    let end = end.min(bytes.len());
    let mut i = from;
    // Characters, not bytes: under `(?i)` the regexes take `K` (U+212A, three
    // bytes) for `k` and `ſ` (U+017F, two) for `s`. A UTF-8 continuation byte
    // (0b10xx_xxxx) is part of the character before it.
    let mut chars = 0;
    while i < end && is_name_byte(bytes[i]) {
        if bytes[i] & 0xC0 != 0x80 {
            if chars == within {
                break;
            }
            chars += 1;
        }
        i += 1;
    }
    if i < end && matches!(bytes[i], b'"' | b'\'') {
        i += 1;
    }
    i = skip_space(bytes, i, end);
    (i < end && matches!(bytes[i], b':' | b'=')).then_some(i)
}

/// A byte of a name as the gated rules' regexes take one: ASCII letters,
/// digits, `_`, `-`, `.`, and any byte past ASCII (letters of any script).
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.') || b >= 0x80
}

/// Past the white space from `i` (ASCII, and any byte past ASCII: the
/// regexes' `\s` takes spaces of any script), before `end`.
fn skip_space(bytes: &[u8], mut i: usize, end: usize) -> usize {
    while i < end && (bytes[i] == b' ' || (b'\t'..=b'\r').contains(&bytes[i]) || bytes[i] >= 0x80) {
        i += 1;
    }
    i
}

/// Where a gated rule's window may end: past the assignment at `assigned`
/// (`:`, `=` or `=>`), the white space and an optional quote after it, a value
/// of at most `value` characters and one more character (the regex looks at
/// it to end the value), and before `end`. A window cut shorter would let a value
/// too long for the rule end where the window does.
fn value_end(bytes: &[u8], assigned: usize, value: usize, end: usize) -> usize {
    let mut i = assigned + 1;
    if bytes.get(i) == Some(&b'>') {
        i += 1;
    }
    i = skip_space(bytes, i, end);
    // The quote, the value and the character after it, counted as characters:
    // under `(?i)` a value's `k` may be `K` (U+212A, three bytes).
    for _ in 0..value + 2 {
        if i >= end {
            break;
        }
        i += 1;
        while i < end && bytes[i] & 0xC0 == 0x80 {
            i += 1;
        }
    }
    i.min(end)
}

fn unreachable_key() -> Hmac<Sha256> {
    // HMAC takes keys of any length; this cannot happen.
    <Hmac<Sha256> as Mac>::new_from_slice(&[0u8; 32]).unwrap_or_else(|_| panic!("HMAC rejected a 32-byte key"))
}

/// `i`, or the start of the character it falls in: at most three bytes back
/// over continuation bytes (in UTF-8, the char boundary; in broken bytes, as
/// far as a character could reach).
fn floor_char(b: &[u8], mut i: usize) -> usize {
    let stop = i.saturating_sub(3);
    while i > stop && i < b.len() && b[i] & 0xC0 == 0x80 {
        i -= 1;
    }
    i
}

/// `i`, or the end of the character it falls in (see [`floor_char`]).
fn ceil_char(b: &[u8], mut i: usize) -> usize {
    let stop = i.saturating_add(3);
    while i < stop && i < b.len() && b[i] & 0xC0 == 0x80 {
        i += 1;
    }
    i
}

/// Sorts hits and removes overlaps: a specific rule beats a generic one, and of
/// two hits on the same bytes the first found stays.
fn resolve(mut hits: Vec<(bool, Hit)>) -> Vec<Hit> {
    hits.sort_by_key(|h| (h.1.start, h.0, h.1.end));
    let mut out: Vec<(bool, Hit)> = Vec::with_capacity(hits.len());
    // Hits come sorted by start and the kept ones do not overlap each other, so
    // only the last kept hit can overlap the next one.
    for (generic, h) in hits {
        if let Some(last) = out.last_mut()
            && last.1.start < h.end
            && h.start < last.1.end
        {
            if last.0 && !generic {
                *last = (generic, h);
            }
            continue;
        }
        out.push((generic, h));
    }
    out.into_iter().map(|(_, h)| h).collect()
}

/// The base64 forms of a keyword, one for each of the three places it can
/// start in a 3-byte group (at the start of an encoded value, the usual case
/// of a token encoded on its own, or anywhere inside an encoded file): the
/// characters that depend on its bytes alone, five or more, each with how
/// many characters of its 4-character group come before it.
fn base64_forms(keyword: &str) -> Vec<(String, u8)> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut forms = Vec::new();
    for place in 0..3usize {
        // The keyword after `place` bytes of its group; character i takes
        // bits 6i..6i+6, and only those wholly inside the keyword count.
        let k: Vec<u8> = std::iter::repeat_n(0, place).chain(keyword.bytes()).collect();
        let (first, end) = ((8 * place).div_ceil(6), k.len() * 8 / 6);
        let chars: String = (first..end)
            .map(|i| {
                let (byte, shift) = (6 * i / 8, 6 * i % 8);
                let pair = (u16::from(k[byte]) << 8) | u16::from(k.get(byte + 1).copied().unwrap_or(0));
                ALPHABET[usize::from((pair >> (10 - shift)) & 63)] as char
            })
            .collect();
        if chars.len() >= 5 {
            forms.push((chars, (first % 4) as u8));
        }
    }
    forms
}

fn is_b64(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'+' || c == b'/'
}

/// The base64 run around a form at `at` that has `lead` characters of its
/// 4-character group before it: from the run's first character (or, past
/// 16 KiB back, a group boundary) to past its padding, at most 64 KiB. `None`
/// when the form is off the grid of a run whose start is in reach.
fn base64_run(bytes: &[u8], at: usize, lead: usize) -> Option<(usize, usize)> {
    let group = at.checked_sub(lead)?;
    let floor = group.saturating_sub(16 << 10);
    let mut start = group;
    while start > floor && is_b64(bytes[start - 1]) {
        start -= 1;
    }
    if start > floor || floor == 0 || !is_b64(bytes[floor - 1]) {
        // The run's true start: the form must be on its grid.
        if (group - start) % 4 != 0 || bytes[start..group].iter().any(|&c| !is_b64(c)) {
            return None;
        }
    } else {
        start = group - (group - start) / 4 * 4;
    }
    let mut end = at;
    while end < bytes.len() && end - start < 64 << 10 && is_b64(bytes[end]) {
        end += 1;
    }
    while end < bytes.len() && bytes[end] == b'=' && end - start < 64 << 10 {
        end += 1;
    }
    Some((start, end))
}

/// Standard base64 (padding optional); `None` for anything else.
fn decode_base64(run: &[u8]) -> Option<Vec<u8>> {
    let run = run.strip_suffix(b"==").or_else(|| run.strip_suffix(b"=")).unwrap_or(run);
    let value = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(run.len() / 4 * 3 + 2);
    let (mut acc, mut n) = (0u32, 0u32);
    for &c in run {
        acc = (acc << 6) | u32::from(value(c)?);
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((acc >> n) as u8);
        }
    }
    Some(out)
}

/// Whether a JWT's header, up to its first dot, is base64url of what a JSON
/// object looks like: `{"` to `}`, and no control character (base64 typed
/// into decodes to some). Neither the fields nor the encoding of their text
/// are checked.
fn jwt_header_ok(token: &str) -> bool {
    let header = token.split('.').next().unwrap_or_default();
    let standard: Vec<u8> = header
        .bytes()
        .map(|b| match b {
            b'-' => b'+',
            b'_' => b'/',
            b => b,
        })
        .collect();
    decode_base64(&standard).is_some_and(|json| {
        let control = |b: &u8| (*b < 0x20 && !b"\t\n\r".contains(b)) || *b == 0x7f;
        json.trim_ascii().starts_with(b"{\"") && json.trim_ascii().ends_with(b"}") && !json.iter().any(control)
    })
}

/// A fresh key from the operating system's randomness (via the standard
/// library's hasher seeds), so fingerprints cannot be precomputed.
pub fn random_key() -> [u8; 32] {
    use std::hash::{BuildHasher, Hasher};
    let mut key = [0u8; 32];
    for (i, chunk) in key.chunks_mut(8).enumerate() {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(i);
        chunk.copy_from_slice(&h.finish().to_le_bytes());
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scanner() -> Scanner {
        Scanner::new(BUILTIN, [7; 32]).unwrap()
    }

    #[test]
    fn marks_are_found_in_the_keyword_pass_and_change_no_secret() {
        let plain = scanner();
        let marked = scanner().with_marks(&["File:", "```", "cwd:"]).unwrap();
        let t = "x ````` File: a.go\nkey = 'AKIAFAKEFAKEFAKE2345' cwd:File:";
        let mut at = Vec::new();
        let found = marked.find_marked(t, None, &mut at);
        assert_eq!(found, plain.find_at(t, None));
        at.sort_unstable();
        // The first of each mark on a line (of the fence's three, one).
        assert_eq!(at, [(2, 1), (8, 0), (48, 2), (52, 0)]);
        // Each line holds its own.
        // No secret keyword is taken for a mark, and no mark for a keyword.
        let mut none = Vec::new();
        assert!(plain.find_marked(t, None, &mut none).len() == 1 && none.is_empty());
        let t = "```\n```` cwd:\n\ncwd: ```\n";
        at.clear();
        marked.find_marked(t, None, &mut at);
        at.sort_unstable();
        assert_eq!(at, [(0, 1), (4, 1), (9, 2), (15, 2), (20, 1)]);
        assert!(scanner().with_marks(&["ab"]).is_err());
    }

    #[test]
    fn every_rule_finds_its_positives_and_not_its_negatives() {
        let s = scanner();
        for rule in BUILTIN {
            for p in rule.positives {
                let hits = s.scan(p);
                assert!(hits.iter().any(|h| h.rule == rule.id), "{}: no hit in positive {p:?}: {hits:?}", rule.id);
            }
            for n in rule.negatives {
                let hits = s.scan(n);
                assert!(!hits.iter().any(|h| h.rule == rule.id), "{}: hit in negative {n:?}: {hits:?}", rule.id);
            }
            let gates = rule.assignment_within.len();
            assert!(gates <= 1 || gates == rule.keywords.len(), "{}: one gate, or one per keyword", rule.id);
        }
    }

    #[test]
    fn one_private_key_however_it_is_written_is_one_secret() {
        let s = scanner();
        let lines = ["MIIEFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFA+/", "FAKEfake=="];
        let (begin, end) = ("-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----"); // a fake key
        let forms = [
            format!("{begin}\n{}\n{}\n{end}\n", lines[0], lines[1]),
            format!("{begin}\r\n{}\r\n{}\r\n{end}", lines[0], lines[1]),
            format!("{{\"key\": \"{begin}\\n{}\\n{}\\n{end}\\n\"}}", lines[0], lines[1]),
            format!("{{\"key\": \"{begin}\\n{}\\n{}\\n{end}\"}}", lines[0].replace('/', "\\/"), lines[1]),
            format!("key: |\n  {begin}\n  {}\n  {}\n  {end}\n", lines[0], lines[1]),
            format!("String k = \"{begin}\\n\" +\n  \"{}\\n\" +\n  \"{}\\n\" +\n  \"{end}\";", lines[0], lines[1]),
            format!("k = ('{begin}\\n'\n     '{}\\n'\n     '{}\\n'\n     '{end}')", lines[0], lines[1]),
        ];
        let prints: Vec<_> = forms
            .iter()
            .map(|f| {
                let hits: Vec<_> = s.scan(f).into_iter().filter(|h| h.kind == "private-key").collect();
                assert_eq!(hits.len(), 1, "{f:?}: {hits:?}");
                hits[0].fingerprint
            })
            .collect();
        assert!(prints.iter().all(|p| *p == prints[0]), "{prints:?}");
    }

    #[test]
    fn the_assignment_gate_loses_no_match() {
        // Texts strung from names, name parts, quotes, white space of several
        // scripts, assignments and values, scanned with the gate and without:
        // the same hits, and enough of them to mean something.
        let gated = scanner();
        let mut open = scanner();
        for (_, rules) in &mut open.triggers {
            for (_, within) in rules {
                *within = None;
            }
        }
        let parts = [
            "token",
            "access_token",
            "AUTH-TOKEN",
            "max_tokens",
            "tokenizer",
            "password",
            "PASSWD",
            "secret",
            "client_secret",
            "secret_key",
            "app.jwt.signing-secret",
            "secret_\u{212a}ey",
            "app.jwt.signing-secret\u{212a}ey",
            "signing",
            "github",
            "GITHUB_OAUTH_CLIENT_SECRET",
            "github_é_secret",
            "api_key",
            "x-api-key",
            "apikey",
            "aws_secret_access_key",
            "SecretAccessKey",
            "_",
            "-",
            ".",
            "s",
            "_id",
            "é",
            "\"",
            "'",
            "\\\"",
            " ",
            "\t",
            "\n",
            "\u{a0}",
            "\u{2003}",
            ":",
            "=",
            "=>",
            ": ",
            " = \"",
            "FAKEfake9kQ2mZx7Lw4Rt8Yp3Vn6Bc1Hs5Jd0G",
            "fa4e0123456789bcdfa4e0123456789bcdfa4e01",
            "FAKEfake0123456789/+FAKEfake0123456789ab",
            "4096",
            ",",
            ";",
        ];
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as usize
        };
        // Half the texts take the shape of an assignment, each slot from its own
        // list (empty included), so that near misses are many.
        let names = &parts[..22];
        // Letters the regexes fold (`\u{212a}`, Kelvin, for `k`; `ſ` for `s`) in
        // the part of a name after its keyword. (A name with a folded letter in
        // the keyword itself, `ſecret`, holds no keyword the search can find:
        // its match was only ever found inside another keyword's window, by
        // luck, and is not part of this check.)
        let tails = [
            "",
            "",
            "_",
            "s",
            "_id",
            "é",
            "-secret",
            "_key",
            "\u{a0}",
            "\u{2003}\u{2003}\u{2003}",
            "_\u{212a}ey",
            "\u{212a}ey",
            "_keyſ",
        ];
        let quotes = ["", "", "\"", "'", "\\\""];
        let spaces = ["", "", " ", "\t", "\n ", "\u{a0}", "\u{2003}"];
        let assigns = [":", "=", "=>", "", "-"];
        // Values of every rule's longest length and one more (a window cut
        // right after the longest would let a longer value end there).
        let long = "FAKEfake9kQ2mZx7Lw4Rt8Yp3Vn6Bc1Hs5Jd0G".repeat(4);
        let hex = "fa4e0123456789bcd".repeat(3);
        // The longest with a letter the regexes fold (`K`, three bytes, for `k`).
        let folded = [120, 121].map(|n| format!("{}{}", &long[..n], "\u{212a}".repeat(8)));
        let values: Vec<&str> = parts[parts.len() - 6..parts.len() - 2]
            .iter()
            .copied()
            .chain([40, 41, 64, 65, 128, 129].map(|n| &long[..n]))
            .chain([40, 41].map(|n| &hex[..n]))
            .chain(folded.iter().map(String::as_str))
            .collect();
        let values = &values[..];
        let mut found = 0;
        for _ in 0..30_000 {
            let mut text = String::new();
            for _ in 0..next() % 10 + 1 {
                text.push_str(parts[next() % parts.len()]);
            }
            if next() % 2 == 0 {
                for slot in
                    [names, &tails[..], &quotes[..], &spaces[..], &assigns[..], &spaces[..], &quotes[..], values]
                {
                    text.push_str(slot[next() % slot.len()]);
                }
            }
            let hits = gated.scan(&text);
            assert_eq!(hits, open.scan(&text), "{text:?}");
            found += hits.len();
        }
        assert!(found > 500, "too few hits to show anything: {found}");
    }

    #[test]
    fn tokens_one_character_apart_are_each_found() {
        // A regex that took the character after a match as its boundary would
        // leave the next token without one (lists, consecutive lines).
        let s = scanner();
        let a = "xoxb-1234567890-1234567890123-FAKEfakeFAKEfakeFAKEfake";
        let b = "xoxb-1234567890-1234567890123-FAKEfakeFAKEfakeFAKEfak2";
        for sep in [",", "\n", " ", ";"] {
            let hits = s.scan(&format!("{a}{sep}{b}"));
            assert_eq!(hits.iter().filter(|h| h.kind == "slack-token").count(), 2, "{sep:?}");
        }
        // Beside CJK text, which Unicode word boundaries take for letters.
        assert_eq!(s.scan(&format!("令牌{a}是")).len(), 1);
        // A configuration token's inner `xoxp-` is not a token of its own, at
        // the start of a text or after a letter or a line.
        for before in ["", "abc", "\n", "令牌"] {
            assert!(s.scan(&format!("{before}xoxe.xoxp-1-FAKEfakeFAKEfakeFAKEfake")).is_empty(), "{before:?}");
        }
    }

    #[test]
    fn rejected_matches_say_why_and_reported_ones_are_not_among_them() {
        let s = scanner();
        let why = |text: &str| -> Vec<(&str, Rejection)> {
            s.rejected(text).into_iter().map(|r| (r.kind, r.reason)).collect()
        };
        assert_eq!(why("password = \"<your-password-here>\""), []); // the regex takes no `<`
        assert_eq!(
            why("DATABASE_URL=postgres://app:changeme@db:5432/app"),
            [("database-url-password", Rejection::Placeholder)]
        );
        assert_eq!(why("glc_1111111111111111111111111111111111111111"), [("grafana-token", Rejection::LowEntropy)]);
        assert_eq!(
            why("-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----"),
            [("private-key", Rejection::NoPemBody)]
        );
        // A JWT whose header is cut short (no closing brace).
        assert_eq!(
            why("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ.eyJzdWIiOiJmYWtlIn0.FAKEfakeFAKEfakeFAKEfake"),
            [("jwt", Rejection::Malformed)]
        );
        let live = "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJmYWtlIn0.FAKEfakeFAKEfakeFAKEfake";
        assert_eq!(s.scan(live).len(), 1);
        assert_eq!(why(live), []);
    }

    #[test]
    fn typed_tokens_rank_low_and_chosen_passwords_keep_their_severity() {
        let s = scanner();
        let typed = s.scan("STRIPE_KEY=sk_live_1234567890abcdefghijklmn");
        assert_eq!(
            typed.iter().map(|h| (h.kind, h.severity)).collect::<Vec<_>>(),
            [("stripe-secret-key", Severity::Low)]
        );
        let drawn = s.scan("STRIPE_KEY=sk_live_9f3kQ0pLm2nB7vC1xZ8wR4tY");
        assert_eq!(
            drawn.iter().map(|h| (h.kind, h.severity)).collect::<Vec<_>>(),
            [("stripe-secret-key", Severity::Critical)]
        );
        // A chosen password holding the word is still a password; the word
        // alone is a placeholder.
        let weak = s.scan("DATABASE_URL=postgres://app:Password2024@db.internal:5432/app");
        assert!(weak.iter().any(|h| h.kind == "database-url-password"), "{weak:?}");
        assert!(s.scan("DATABASE_URL=postgres://app:password@db.internal:5432/app").is_empty());
        // A chosen password that merely starts with `$` is one.
        let dollar = s.scan("jdbc:postgresql://db:5432/app?user=app&password=$ecret2024xyz");
        assert!(dollar.iter().any(|h| h.kind == "database-url-password"), "{dollar:?}");
        // Templates and documentation values holding the word stay placeholders.
        for template in [
            "f\"postgresql://{user}:{password}@localhost/db\"",
            "postgres://app:$DB_PASSWORD@db.internal:5432/app",
            "postgres://app:$(PASSWORD)@db.internal:5432/app",
            "postgres://app:mysecretpassword@db.internal:5432/app",
            "Server=db;User Id=sa;Password=yourStrong(!)Password;",
            "postgres://app:EXAMPLE-password@db.internal:5432/app",
            "jdbc:postgresql://db:5432/app?user=app&password={password}",
        ] {
            let found = s.scan(template);
            assert!(found.is_empty(), "{template}: {found:?}");
        }
        // A password a person picked may read like a test value and still be live.
        let chosen = s.scan("DATABASE_URL=postgres://app:Testing2024-12345678@db.internal:5432/app");
        assert!(
            chosen.iter().any(|h| h.kind == "database-url-password" && h.severity == Severity::Critical),
            "{chosen:?}"
        );
    }

    /// Built-in regexes compile when first needed, where an error would
    /// only silence the rule: every one compiles here.
    #[test]
    fn every_builtin_regex_compiles_within_the_size_limit() {
        let rules: Vec<&Rule> = BUILTIN.iter().collect();
        assert_eq!(compile_all(&rules).map(|r| r.len()).ok(), Some(BUILTIN.len()));
    }

    #[test]
    fn broken_bytes_hide_no_secret_and_shift_no_offset() {
        // Every rule's positives, each after a broken or multi-byte sequence.
        let s = scanner();
        let breaks: [&[u8]; 6] =
            [b"\xff", b"\xc3", b"\xe2\x82", "\u{e9}".as_bytes(), "\u{20ac} ".as_bytes(), b"\x80\x80"];
        let mut bytes = Vec::new();
        for (i, p) in BUILTIN.iter().flat_map(|r| r.positives).enumerate() {
            bytes.extend_from_slice(breaks[i % breaks.len()]);
            bytes.extend_from_slice(b" filler\n");
            bytes.extend_from_slice(p.as_bytes());
            bytes.push(b'\n');
        }
        let got: Vec<_> = s.scan_bytes(&bytes).into_iter().map(|h| (h.start, h.end, h.rule, h.fingerprint)).collect();
        // The same as each run of valid UTF-8 scanned as text, at its offset.
        let mut want = Vec::new();
        let mut at = 0;
        for chunk in bytes.utf8_chunks() {
            want.extend(s.scan(chunk.valid()).into_iter().map(|h| (at + h.start, at + h.end, h.rule, h.fingerprint)));
            at += chunk.valid().len() + chunk.invalid().len();
        }
        assert_eq!(got, want);
        assert!(got.len() >= BUILTIN.len(), "{} found", got.len());
    }

    #[test]
    fn a_keyword_under_three_bytes_is_refused_not_ignored() {
        static SHORT: [Rule; 1] = [Rule {
            id: "short",
            kind: "short",
            keywords: &["ab"],
            pattern: r"(ab[0-9]{20})",
            positives: &["ab73920481635270918364"],
            negatives: &["ab"],
            ..Rule::DEFAULT
        }];
        let Err(e) = Scanner::new(&SHORT, [0; 32]) else { panic!("a two-byte keyword was taken") };
        assert_eq!(e.rule, "short");
        assert!(e.reason.contains("shorter than 3 bytes"), "{e}");
    }

    #[test]
    fn every_rule_has_keywords_of_three_bytes_or_more_and_examples() {
        for rule in BUILTIN {
            assert!(rule.keywords.iter().all(|k| k.len() >= 3), "{}: a short keyword defeats the prefilter", rule.id);
            assert!(!rule.positives.is_empty() && !rule.negatives.is_empty(), "{}: needs examples", rule.id);
        }
    }

    #[test]
    fn redact_replaces_every_secret_and_nothing_else() {
        let s = scanner();
        let text =
            "a STRIPE_SECRET_KEY=sk_live_51FAKEfakeFAKEfakeFAKEfake00 b\nAWS_ACCESS_KEY_ID=AKIAFAKEFAKEFAKE2345 c";
        let red = s.redact(text);
        assert!(!red.contains("FAKEfakeFAKEfake") && !red.contains("AKIAFAKEFAKE"), "{red}");
        assert!(red.starts_with("a STRIPE_SECRET_KEY=stripe-secret-key:?k_…[") && red.ends_with("] c"), "{red}");
        assert!(matches!(s.redact("nothing here"), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn overlapping_keywords_are_all_found() {
        // `A3T` (an AWS id prefix) right before `T3BlbkFJ` (the OpenAI marker).
        let fake = "sk-FAKEfakeFAKEfakeFAA3T3BlbkFJFAKEfakeFAKEfakeFAKE";
        let hits = scanner().scan(fake);
        assert!(hits.iter().any(|h| h.kind == "openai-api-key"), "{hits:?}");
    }

    #[test]
    fn a_specific_rule_beats_the_generic_one() {
        let hits = scanner().scan(r"client_secret=sk_live_51FAKEfakeFAKEfakeFAKEfake00");
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].kind, "stripe-secret-key");
    }

    #[test]
    fn escaped_and_plain_pem_keys_are_one_secret() {
        let body = "MIIEFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKE";
        let plain = format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----"); // a fake key
        let escaped = plain.replace('\n', "\\n");
        let s = scanner();
        let (a, b) = (s.scan(&plain), s.scan(&escaped));
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].fingerprint, b[0].fingerprint);
    }

    #[test]
    fn checksums_separate_real_looking_tokens_from_made_up_ones() {
        let body = "FAKEfakeFAKEfakeFAKEfakeFAKEfa";
        let mut n = crc32fast::hash(body.as_bytes());
        let mut sum = [b'0'; 6];
        for slot in sum.iter_mut().rev() {
            *slot = B62[(n % 62) as usize];
            n /= 62;
        }
        let good = format!("ghp_{body}{}", std::str::from_utf8(&sum).unwrap());
        let hits = scanner().scan(&good);
        assert_eq!(hits[0].severity, Severity::High);
        let bad = format!("ghp_{body}000000");
        assert_eq!(scanner().scan(&bad)[0].severity, Severity::Low);
    }

    /// Standard base64 with padding, for the tests.
    fn b64(data: &[u8]) -> String {
        const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for c in data.chunks(3) {
            let n = (u32::from(c[0]) << 16)
                | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
                | u32::from(*c.get(2).unwrap_or(&0));
            for i in 0..4 {
                out.push(if i <= c.len() { A[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
            }
        }
        out
    }

    #[test]
    fn base64_forms_and_decoding() {
        let k = "github_pat_";
        let forms = base64_forms(k);
        assert_eq!(forms.len(), 3);
        for (place, lead) in ["", "a", "ab"].iter().zip([0usize, 2, 3]) {
            let enc = b64(format!("{place}{k}FAKEfake").as_bytes());
            let (form, l) = &forms[place.len()];
            assert_eq!((enc.find(form.as_str()), usize::from(*l)), (Some(lead), lead), "{enc} {form}");
        }
        for lead in ["", "a", "ab", "abc", "abcd"] {
            let enc = b64(format!("{lead}{k}FAKEfake").as_bytes());
            assert_eq!(decode_base64(enc.as_bytes()).unwrap(), format!("{lead}{k}FAKEfake").as_bytes());
        }
        // After one byte, "AKIA" leaves four whole characters: too few.
        assert_eq!(base64_forms("AKIA"), [("QUtJQ".to_string(), 0), ("BS0lB".to_string(), 3)]);
        assert!(base64_forms("A3T").is_empty(), "too short to tell from other base64");
        assert_eq!(decode_base64(b"not base64!"), None);
    }

    #[test]
    fn secrets_inside_base64_are_found_as_the_same_secrets() {
        let s = scanner();
        let key = "AKIAFAKEFAKEFAKE2345";
        let stripe = "sk_live_51FAKEfakeFAKEfakeFAKEfake00";
        // A Kubernetes secret: each value encoded on its own; the second is a
        // whole file that starts with its secret.
        let text = format!(
            "apiVersion: v1\nkind: Secret\ndata:\n  aws: {}\n  stripe: {}\n",
            b64(key.as_bytes()),
            b64(format!("{stripe}\n# rotated 2024-04\n").as_bytes())
        );
        let hits = s.scan(&text);
        let kinds: Vec<&str> = hits.iter().map(|h| h.kind).collect();
        assert_eq!(kinds, ["aws-access-key-id", "stripe-secret-key"], "{hits:?}");
        assert_eq!(hits[0].fingerprint, s.scan(key)[0].fingerprint, "one secret, plain or wrapped");
        assert_eq!((hits[0].value(&text), hits[1].value(&text)), (key, stripe));
        // The redactor takes the encoded values out too.
        let red = s.redact(&text);
        assert!(!red.contains(&b64(key.as_bytes())), "{red}");
        assert!(red.contains("kind: Secret"));
        // Binary after the secret (not UTF-8): still found, the whole run redacted.
        let blob = b64(&[key.as_bytes(), b"\n\xff\xfe\x00binary"].concat());
        let text = format!("data: {blob}\n");
        assert_eq!(s.scan(&text).iter().map(|h| h.kind).collect::<Vec<_>>(), ["aws-access-key-id"]);
        assert!(!s.redact(&text).contains(&blob[..8]), "{}", s.redact(&text));
        // A key inside an encoded file, at each place in a 3-byte group, in a
        // run longer than the 16 KiB looked back.
        for pad in [0, 1, 2] {
            let file = format!("{}\nstripe_key: {stripe}\n", "# settings\n".repeat(1700 + pad));
            let text = format!("config: {}\n", b64(file.as_bytes()));
            let hits = s.scan(&text);
            assert_eq!(hits.iter().map(|h| h.kind).collect::<Vec<_>>(), ["stripe-secret-key"], "place {pad}");
            assert_eq!(hits[0].fingerprint, s.scan(stripe)[0].fingerprint);
        }
        // A form off the run's grid is not the keyword.
        let form = &base64_forms("sk_live_")[0].0;
        assert!(s.scan(&format!("x {}{form}AAAAAAAAAAAAAAAAAAAA\n", "QUFB".repeat(3) + "Q")).is_empty());
        // Base64 without a keyword's form is left alone (no decoding of every run).
        assert!(s.scan(&b64(b"just some words, no secret here at all")).is_empty());
    }

    #[test]
    fn redaction_never_shows_the_value() {
        let text = r"STRIPE_SECRET_KEY=sk_live_51FAKEfakeFAKEfakeFAKEfake00 and AWS_SECRET_ACCESS_KEY=FAKEfake0123456789/FAKEfake+abcdEFGHijkl";
        for h in scanner().scan(text) {
            let value = &text[h.start..h.end];
            assert!(!h.redacted.contains(&value[value.len() / 2..]), "{} shows {value}", h.redacted);
        }
    }

    #[test]
    fn fingerprints_depend_on_the_key() {
        let a = Scanner::new(BUILTIN, [1; 32]).unwrap().fingerprint("jwt", "x");
        let b = Scanner::new(BUILTIN, [2; 32]).unwrap().fingerprint("jwt", "x");
        assert_ne!(a, b);
        assert_ne!(random_key(), random_key());
    }
}
