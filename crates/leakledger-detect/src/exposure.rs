//! What one request exposes, from the segments of its conversation.

use xxhash_rust::xxh3::xxh3_128;

use crate::identifiers::Identifiers;
use crate::path::{Normalizer, ranks_lower, strip_diff_prefix};
use crate::repo;
use crate::secrets;
use crate::text;

/// One piece of a conversation, as the caller walked it out of the payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Segment<'a> {
    /// A system prompt.
    System(&'a str),
    /// A user or assistant text.
    Text(&'a str),
    /// A tool call: its id, tool name, the path it names (`file_path`, `path`,
    /// `filename`) and the shell command it runs, if any.
    ToolCall {
        /// Tool call id.
        id: &'a str,
        /// Tool name.
        name: &'a str,
        /// Path input.
        path: Option<&'a str>,
        /// Shell command input.
        command: Option<&'a str>,
    },
    /// A tool result: the id it answers, its text, and whether it is an error.
    ToolResult {
        /// The tool call id it answers.
        id: &'a str,
        /// Its text.
        content: &'a str,
        /// Reported as an error.
        error: bool,
    },
}

/// A file whose content is exposed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileHit {
    /// Normalised path (relative to the working directory when under it).
    pub path: String,
    /// 128-bit hash of the content, for deduplication.
    pub hash: u128,
    /// Content length in bytes.
    pub len: u64,
}

/// What one request's conversation exposes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Found {
    /// The working directory, as stated.
    pub cwd: Option<String>,
    /// The origin remote, normalised (`host/owner/name`).
    pub remote: Option<String>,
    /// The go.mod module of a go.mod shown, normalised.
    pub go_module: Option<String>,
    /// Files with content.
    pub files: Vec<FileHit>,
    /// Paths mentioned without content (failed reads, non-reading tools).
    pub paths: Vec<String>,
    /// Proprietary identifiers, repeats included.
    pub identifiers: Vec<String>,
    /// Secrets, repeats included (each appearance is an occurrence).
    pub secrets: Vec<secrets::Found>,
}

/// What names a repository, weakest first (design.md §3): a session's files
/// belong to the repository its strongest evidence names.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Evidence {
    /// `local/ORG/NAME` from the working directory's last element.
    #[default]
    Local,
    /// The `module` line of a go.mod shown in the conversation.
    GoMod,
    /// The origin remote (`git remote -v` output, a git config).
    Remote,
    /// The record's own repository field.
    RecordField,
}

impl Found {
    /// The repository key by the strongest evidence: the record's own repository
    /// field (`field`, a URL as logged), the origin remote, the go.mod module, then
    /// `local/ORG/NAME` from the working directory.
    pub fn repository(&self, org: &str, field: Option<&str>) -> Option<(String, Evidence)> {
        if let Some(k) = field.and_then(repo::normalize_url) {
            return Some((k, Evidence::RecordField));
        }
        if let Some(k) = &self.remote {
            return Some((k.clone(), Evidence::Remote));
        }
        if let Some(k) = &self.go_module {
            return Some((k.clone(), Evidence::GoMod));
        }
        let k = self.cwd.as_deref().and_then(|c| repo::local_key(org, c))?;
        Some((k, Evidence::Local))
    }
}

/// Does a tool with this name return a file's content?
pub fn is_read_tool(name: &str) -> bool {
    // Asked for every read of a request's history: no lowercase copy.
    let n = name.as_bytes();
    ["read", "view", "cat", "open", "get_file", "file_content"]
        .iter()
        .any(|k| n.windows(k.len()).any(|w| w.eq_ignore_ascii_case(k.as_bytes())))
}

/// A file shown in a text, digested: path as written, content hash and length,
/// and the module it names when it is a go.mod.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShownDigest {
    /// Path as written (diff prefixes stripped), not yet normalised.
    pub path: String,
    /// Content hash.
    pub hash: u128,
    /// Content length.
    pub len: u64,
    /// The normalised module of a go.mod.
    pub module: Option<String>,
}

/// What a text (system prompt, message) holds, independent of its context, so a
/// caller can cache it by the text's bytes: conversations repeat every earlier
/// message in every later request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TextDigest {
    /// A `Working directory:` line.
    pub cwd: Option<String>,
    /// Files shown.
    pub shown: Vec<ShownDigest>,
    /// An origin remote in a git config shown in the text, normalised.
    pub remote: Option<String>,
    /// Proprietary identifiers found (see [`crate::identifiers`]).
    pub identifiers: Vec<String>,
    /// Secrets found.
    pub secrets: Vec<secrets::Found>,
}

impl TextDigest {
    /// Whether the text holds nothing an assembly reads (no working
    /// directory, file, remote, identifier or secret).
    pub fn is_empty(&self) -> bool {
        let TextDigest { cwd, shown, remote, identifiers, secrets } = self;
        cwd.is_none() && shown.is_empty() && remote.is_none() && identifiers.is_empty() && secrets.is_empty()
    }
}

/// What a tool result holds, independent of its call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResultDigest {
    /// Content hash.
    pub hash: u128,
    /// Content length.
    pub len: u64,
    /// An origin remote (`git remote -v` output or git config), normalised.
    pub remote: Option<String>,
    /// A go.mod `module` line, normalised.
    pub module: Option<String>,
    /// Proprietary identifiers found.
    pub identifiers: Vec<String>,
    /// Secrets found.
    pub secrets: Vec<secrets::Found>,
    /// Reads like a tool's error message (`Error: ENOENT...`): a failed read
    /// exposes a path, not a file. OpenAI-style tool messages carry no error flag.
    pub error_like: bool,
}

/// Short texts that are a tool's error rather than a file's content.
pub fn looks_like_error(content: &str) -> bool {
    let t = content.trim_start();
    t.len() < 300
        && (t.starts_with("Error")
            || t.starts_with("error:")
            || t.contains("ENOENT")
            || t.contains("No such file or directory")
            || t.contains("does not exist"))
}

fn is_go_mod(path: &str) -> bool {
    path == "go.mod" || path.ends_with("/go.mod") || path.ends_with("\\go.mod")
}

/// What digests look for beyond exposure: proprietary identifiers and secrets.
#[derive(Debug)]
pub struct Lookouts {
    /// Identifier prefixes.
    pub identifiers: Identifiers,
    /// The secret scanner, when secrets are wanted.
    pub secrets: Option<secrets::Scanner>,
    /// Where secrets' values are kept, only when they are to be revealed.
    pub vault: Option<secrets::Vault>,
    /// How shown files' and tool results' contents are hashed (code is
    /// counted once per distinct hash): xxh3 unless a caller has a faster
    /// 128-bit hash of its own ([`Lookouts::with_content_hash`]).
    pub content_hash: fn(&[u8]) -> u128,
}

impl Default for Lookouts {
    fn default() -> Self {
        Lookouts { identifiers: Identifiers::default(), secrets: None, vault: None, content_hash: xxh3_128 }
    }
}

impl Lookouts {
    /// Lookouts for `identifiers` and, with a scanner, secrets (values kept
    /// in `vault` when given one). The scanner is built to find the text
    /// conventions' [`text::MARKS`] in its keyword pass too, so that a text is
    /// searched once for both.
    pub fn new(
        identifiers: Identifiers,
        secrets: Option<secrets::Scanner>,
        vault: Option<secrets::Vault>,
    ) -> Result<Self, secrets::RuleError> {
        let secrets = secrets.map(|s| s.with_marks(&text::MARKS)).transpose()?;
        Ok(Lookouts { identifiers, secrets, vault, content_hash: xxh3_128 })
    }

    /// These lookouts with contents hashed by `hash` (see
    /// [`Lookouts::content_hash`]); it must give equal bytes equal hashes
    /// for as long as the digests are compared.
    pub fn with_content_hash(self, hash: fn(&[u8]) -> u128) -> Self {
        Lookouts { content_hash: hash, ..self }
    }

    /// The secrets in `t` with their byte offsets, and where the text
    /// conventions' marks lie.
    fn secrets_marked(&self, t: &str) -> (Vec<(usize, secrets::Found)>, text::Marks) {
        match &self.secrets {
            Some(s) if s.marks().eq(text::MARKS.iter().map(|m| m.as_bytes())) => {
                let mut at = Vec::new();
                let found = s.find_marked(t, self.vault.as_ref(), &mut at);
                (found, text::Marks::new(at))
            }
            _ => (self.secrets_at(t), text::Marks::search(t)),
        }
    }

    /// The secrets in `t` with their byte offsets.
    fn secrets_at(&self, t: &str) -> Vec<(usize, secrets::Found)> {
        self.secrets.as_ref().map(|s| s.find_at(t, self.vault.as_ref())).unwrap_or_default()
    }

    fn secrets(&self, t: &str) -> Vec<secrets::Found> {
        self.secrets_at(t).into_iter().map(|(_, f)| f).collect()
    }
}

/// Digests the strings of a tool call's input (a shell command, the content a
/// `Write` puts in a file, an edit's new text): secrets and identifiers only. What
/// the assistant sends is not a file read, so it shows no files.
pub fn digest_input(t: &str, look: &Lookouts) -> TextDigest {
    TextDigest { identifiers: look.identifiers.find(t), secrets: look.secrets(t), ..TextDigest::default() }
}

/// Digests a text, looking out for identifiers and secrets too.
pub fn digest_text(t: &str, look: &Lookouts) -> TextDigest {
    let (secrets, marks) = look.secrets_marked(t);
    let shown_in = text::shown_marked(t, &marks);
    // Byte ranges of the shown files that look like tests, fixtures, examples
    // or documentation (only needed to rank the secrets found).
    let tests: Vec<(usize, usize)> = shown_in
        .iter()
        .filter(|_| !secrets.is_empty())
        .filter(|s| ranks_lower(if s.diff { strip_diff_prefix(s.path) } else { s.path }))
        .map(|s| {
            // `content` is a slice of `t`.
            let start = (s.content.as_ptr() as usize).saturating_sub(t.as_ptr() as usize).min(t.len());
            (start, start + s.content.len())
        })
        .collect();
    let secrets = secrets
        .into_iter()
        .map(|(at, mut f)| {
            if tests.iter().any(|&(a, b)| (a..b).contains(&at)) {
                f.severity = f.severity.lowered();
            }
            f
        })
        .collect();
    let shown = shown_in
        .into_iter()
        .map(|s| {
            let path = if s.diff { strip_diff_prefix(s.path) } else { s.path };
            ShownDigest {
                path: path.to_string(),
                hash: (look.content_hash)(s.content.as_bytes()),
                len: s.content.len() as u64,
                module: if is_go_mod(path) && !s.diff {
                    repo::go_module(s.content).and_then(repo::normalize_url)
                } else {
                    None
                },
            }
        })
        .collect();
    let remote = if marks.any(&[text::Mark::RemoteOrigin]) {
        repo::origin_remote(t).and_then(repo::normalize_url)
    } else {
        None
    };
    TextDigest {
        cwd: text::working_directory_marked(t, &marks).map(str::to_string),
        shown,
        remote,
        identifiers: look.identifiers.find(t),
        secrets,
    }
}

/// Digests a tool result, looking out for identifiers and secrets too.
pub fn digest_result(content: &str, look: &Lookouts) -> ResultDigest {
    let (secrets, marks) = look.secrets_marked(content);
    let b = content.as_bytes();
    let remote = if marks.any(&[text::Mark::Fetch, text::Mark::Remote]) {
        repo::origin_remote(content).and_then(repo::normalize_url)
    } else {
        None
    };
    let module = if content.starts_with("module ") || marks.any(&[text::Mark::GoModule]) {
        repo::go_module(content).and_then(repo::normalize_url)
    } else {
        None
    };
    ResultDigest {
        hash: (look.content_hash)(b),
        len: b.len() as u64,
        remote,
        module,
        identifiers: look.identifiers.find(content),
        secrets: secrets.into_iter().map(|(_, f)| f).collect(),
        error_like: looks_like_error(content),
    }
}

/// One piece of a conversation, digested (see [`Segment`]).
#[derive(Clone, Copy, Debug)]
pub enum Item<'a> {
    /// A system prompt.
    System(&'a TextDigest),
    /// A user or assistant text.
    Text(&'a TextDigest),
    /// A tool call.
    ToolCall {
        /// Tool call id.
        id: &'a str,
        /// Tool name.
        name: &'a str,
        /// Path input.
        path: Option<&'a str>,
        /// Shell command input.
        command: Option<&'a str>,
    },
    /// A tool result.
    ToolResult {
        /// The id it answers.
        id: &'a str,
        /// Its digest.
        digest: &'a ResultDigest,
        /// Reported as an error.
        error: bool,
    },
}

/// Finds what `segments` expose. Tool results are matched to calls by id; a call
/// that reads a file makes its (non-error) result that file's content.
pub fn extract(segments: &[Segment<'_>]) -> Found {
    let texts: Vec<Option<TextDigest>> = segments
        .iter()
        .map(|s| match s {
            Segment::System(t) | Segment::Text(t) => Some(digest_text(t, &Lookouts::default())),
            _ => None,
        })
        .collect();
    let results: Vec<Option<ResultDigest>> = segments
        .iter()
        .map(|s| match s {
            Segment::ToolResult { content, .. } => Some(digest_result(content, &Lookouts::default())),
            _ => None,
        })
        .collect();
    let items: Vec<Item<'_>> = segments
        .iter()
        .enumerate()
        .map(|(i, s)| match *s {
            Segment::System(_) => Item::System(texts[i].as_ref().unwrap_or(&EMPTY_TEXT)),
            Segment::Text(_) => Item::Text(texts[i].as_ref().unwrap_or(&EMPTY_TEXT)),
            Segment::ToolCall { id, name, path, command } => Item::ToolCall { id, name, path, command },
            Segment::ToolResult { id, error, .. } => {
                Item::ToolResult { id, digest: results[i].as_ref().unwrap_or(&EMPTY_RESULT), error }
            }
        })
        .collect();
    assemble(&items)
}

static EMPTY_TEXT: TextDigest =
    TextDigest { cwd: None, shown: Vec::new(), remote: None, identifiers: Vec::new(), secrets: Vec::new() };
static EMPTY_RESULT: ResultDigest = ResultDigest {
    hash: 0,
    len: 0,
    remote: None,
    module: None,
    identifiers: Vec::new(),
    secrets: Vec::new(),
    error_like: false,
};

/// All [`assemble`] reads of a tool call's shell command: whether it lists the
/// repository's remotes (the result then holds `git remote -v` output). A
/// caller that keeps calls for later requests may keep this in place of the
/// command, which can carry whole files in heredocs.
pub fn command_gist(command: &str) -> &'static str {
    if runs_git_remote(command) { "git remote" } else { "" }
}

fn runs_git_remote(command: &str) -> bool {
    command.contains("git remote")
}

/// Puts digested items together: the working directory normalises paths, tool
/// results are matched to their calls, the strongest repository evidence is kept.
pub fn assemble(items: &[Item<'_>]) -> Found {
    let cwd = items.iter().find_map(|i| match i {
        Item::System(d) | Item::Text(d) => d.cwd.clone(),
        _ => None,
    });
    let mut found = Found { cwd, ..Found::default() };
    let cwd = found.cwd.clone();
    let cwd = cwd.as_deref();
    let normalizer = Normalizer::new(cwd);
    let norm = |p: &str| normalizer.normalize(p);
    // The latest call of each id seen so far, and the ids answered: maps, so a
    // request of a million tool messages stays linear.
    // Seeded per process (foldhash): the ids are the dump's, and SipHash cost
    // 2% of a pass that rebuilds these maps for every request.
    let mut calls: foldhash::HashMap<&str, (&str, Option<&str>, Option<&str>)> = Default::default();
    let mut answered: foldhash::HashSet<&str> = Default::default();
    for item in items {
        match *item {
            Item::ToolCall { id, name, path, command } => {
                calls.insert(id, (name, path, command));
            }
            Item::ToolResult { id, digest, error } => {
                answered.insert(id);
                found.identifiers.extend(digest.identifiers.iter().cloned());
                let call = calls.get(id).copied();
                // A file read from a test, fixture, example or documentation
                // path: its secrets rank lower. (Asked only when it has some:
                // each request repeats its history's reads.)
                let in_test = !digest.secrets.is_empty() && call.and_then(|(_, path, _)| path).is_some_and(ranks_lower);
                found.secrets.extend(digest.secrets.iter().map(|f| {
                    let mut f = *f;
                    if in_test {
                        f.severity = f.severity.lowered();
                    }
                    f
                }));
                let Some((name, path, command)) = call else { continue };
                if command.is_some_and(runs_git_remote) && found.remote.is_none() {
                    found.remote.clone_from(&digest.remote);
                }
                let Some(p) = path.and_then(norm) else { continue };
                if !error && !digest.error_like && is_read_tool(name) {
                    if found.go_module.is_none() && is_go_mod(&p) {
                        found.go_module.clone_from(&digest.module);
                    }
                    found.files.push(FileHit { path: p, hash: digest.hash, len: digest.len });
                } else {
                    found.paths.push(p);
                }
            }
            Item::System(d) | Item::Text(d) => {
                found.identifiers.extend(d.identifiers.iter().cloned());
                found.secrets.extend_from_slice(&d.secrets);
                for s in &d.shown {
                    if let Some(p) = norm(&s.path) {
                        if found.go_module.is_none() && s.module.is_some() {
                            found.go_module.clone_from(&s.module);
                        }
                        found.files.push(FileHit { path: p, hash: s.hash, len: s.len });
                    }
                }
                if found.remote.is_none() {
                    found.remote.clone_from(&d.remote);
                }
            }
        }
    }
    // Calls never answered still name their paths.
    for item in items {
        if let Item::ToolCall { id, path: Some(path), .. } = *item
            && !answered.contains(id)
            && let Some(p) = norm(path)
        {
            found.paths.push(p);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_in_test_files_rank_one_step_lower() {
        use crate::secrets::{BUILTIN, Scanner, Severity};
        let look = Lookouts { secrets: Some(Scanner::new(BUILTIN, [1; 32]).unwrap()), ..Lookouts::default() };
        // One text shows a fixture and a real file, an AWS key id in each.
        let t = "// File: tests/fixtures/aws.py\nKEY = 'AKIAFAKEFAKEFAKE2345'\n// File: src/app.py\nKEY = 'ASIAFAKEFAKEFAKE7777'\n";
        let d = digest_text(t, &look);
        let sev: Vec<Severity> = d.secrets.iter().map(|f| f.severity).collect();
        assert_eq!(sev, [Severity::High, Severity::Critical]);
        // A file read from a test path.
        let r = digest_result("KEY = 'AKIAFAKEFAKEFAKE2345'\n", &look);
        let read = |path| {
            let call = Item::ToolCall { id: "1", name: "Read", path: Some(path), command: None };
            assemble(&[call, Item::ToolResult { id: "1", digest: &r, error: false }]).secrets[0].severity
        };
        assert_eq!(read("/w/internal/auth/replay_test.go"), Severity::High);
        assert_eq!(read("/w/internal/auth/replay.go"), Severity::Critical);
        // An example file checked in beside the real one.
        assert_eq!(read("/w/.env.example"), Severity::High);
        assert_eq!(read("/w/.env"), Severity::Critical);
    }

    #[test]
    fn marks_found_with_the_secrets_give_the_digests_searching_gives() {
        use crate::secrets::{BUILTIN, Scanner};
        // One keyword pass (marks with the secret keywords) against a search per
        // marker: the same files, working directory, remote, module and secrets
        // on texts put together from the conventions' pieces, in every order,
        // repeated, run together and cut short.
        let marked =
            Lookouts::new(Identifiers::default(), Some(Scanner::new(BUILTIN, [4; 32]).unwrap()), None).unwrap();
        let searched = Lookouts { secrets: Some(Scanner::new(BUILTIN, [4; 32]).unwrap()), ..Lookouts::default() };
        assert!(marked.secrets.as_ref().unwrap().marks().len() == text::MARKS.len());
        let pieces = [
            "// File: src/a.go\n",
            "# File: ./lib/x.py\r\n",
            "File: b.rs\n",
            "```java src/Main.java\n",
            "```\n",
            "``````\n",
            "````python\n",
            "diff --git a/p/x.go b/p/x.go\n--- a/p/x.go\n+++ b/p/x.go\n@@ -1 +1 @@\n+y\n",
            "Working directory: /home/u/pay\n",
            "cwd: /w/ledger\n",
            "[remote \"origin\"]\n\turl = git@github.com:Acme/Pay.git\n",
            "[remote \"upstream\"]\n\turl = https://github.com/x/y\n",
            "origin\thttps://gitlab.com/globex/ledger.git (fetch)\n",
            "module gitlab.com/globex/ledger\n",
            "\nmodule github.com/acme/tool\n",
            "key = 'AKIAFAKEFAKEFAKE2345'\n",
            "plain code line with File and diff and cwd words\n",
            "\u{e9}t\u{e9} `` cwd:File:diff --git ",
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for _ in 0..3000 {
            let mut t = String::new();
            for _ in 0..1 + next(8) {
                t.push_str(pieces[next(pieces.len())]);
            }
            // Cut short at a char boundary now and then.
            if next(3) == 0 {
                let mut cut = next(t.len() + 1);
                while !t.is_char_boundary(cut) {
                    cut -= 1;
                }
                t.truncate(cut);
            }
            assert_eq!(digest_text(&t, &marked), digest_text(&t, &searched), "{t:?}");
            assert_eq!(digest_result(&t, &marked), digest_result(&t, &searched), "{t:?}");
        }
    }

    #[test]
    fn read_tools_by_name_in_any_case() {
        for name in ["Read", "read_file", "READ_FILE", "view", "str_replace_editor_View", "cat", "get_file_contents"] {
            assert!(is_read_tool(name), "{name}");
        }
        for name in ["Write", "bash", "Edit", "", "rea"] {
            assert!(!is_read_tool(name), "{name}");
        }
    }

    #[test]
    fn reads_failed_reads_and_remotes() {
        let segs = [
            Segment::System("Working directory: /w/pay"),
            Segment::ToolCall { id: "1", name: "bash", path: None, command: Some("git remote -v") },
            Segment::ToolResult { id: "1", content: "origin\thttps://github.com/Acme/Pay.git (fetch)\n", error: false },
            Segment::ToolCall { id: "2", name: "read_file", path: Some("/w/pay/src/a.py"), command: None },
            Segment::ToolResult { id: "2", content: "x = 1\n", error: false },
            Segment::ToolCall { id: "3", name: "Read", path: Some("/w/pay/gone.py"), command: None },
            Segment::ToolResult { id: "3", content: "ENOENT", error: true },
            Segment::ToolCall { id: "4", name: "Write", path: Some("/w/pay/new.py"), command: None },
            Segment::ToolResult { id: "4", content: "ok", error: false },
        ];
        let f = extract(&segs);
        assert_eq!(f.remote.as_deref(), Some("github.com/acme/pay"));
        assert_eq!(f.files.len(), 1);
        assert_eq!(f.files[0].path, "src/a.py");
        assert_eq!(f.paths, ["gone.py", "new.py"]);
        assert_eq!(f.repository("acme", None).map(|r| r.0).as_deref(), Some("github.com/acme/pay"));
        assert_eq!(
            f.repository("acme", Some("git@gitlab.com:Acme/Other.git")),
            Some(("gitlab.com/acme/other".into(), Evidence::RecordField))
        );
    }

    #[test]
    fn go_mod_names_the_repository_and_cwd_is_the_fallback() {
        let segs = [
            Segment::System("Working directory: /home/u/src/ledger"),
            Segment::Text("# File: go.mod\nmodule gitlab.com/globex/ledger\n\ngo 1.22\n"),
        ];
        let f = extract(&segs);
        assert_eq!(f.repository("globex", None), Some(("gitlab.com/globex/ledger".into(), Evidence::GoMod)));
        let f = extract(&segs[..1]);
        assert_eq!(f.repository("Globex", None), Some(("local/globex/ledger".into(), Evidence::Local)));
    }
}
