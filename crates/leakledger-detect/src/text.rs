//! Conventions in free text that reveal code: the working directory line, `File:`
//! markers, fenced blocks whose info string holds a path, unified diffs.

use std::sync::LazyLock;

use memchr::memmem::Finder;

/// The markers where the text conventions start, each at the index of its
/// [`Mark`]. The secret scanner finds them in its keyword pass
/// ([`crate::secrets::Scanner::with_marks`]), so a text is searched once for
/// them and every secret keyword; without it, [`Marks::search`] looks for each.
pub const MARKS: [&str; 9] = [
    "File:",
    "```",
    "diff --git ",
    "orking directory:",
    "cwd:",
    "[remote \"origin\"]",
    "[remote",
    "(fetch)",
    "\nmodule ",
];

/// What a marker of [`MARKS`] starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum Mark {
    /// A `File:` marker line.
    File,
    /// A fence.
    Fence,
    /// A `diff --git ` line.
    Diff,
    /// A `Working directory:` line.
    WorkingDir,
    /// A `cwd:` line.
    Cwd,
    /// A git config's origin section.
    RemoteOrigin,
    /// A git config's remote section.
    Remote,
    /// A `git remote -v` line.
    Fetch,
    /// A go.mod `module` line (after a line break).
    GoModule,
}

/// Where the markers of [`MARKS`] occur in one text, by position.
#[derive(Clone, Debug, Default)]
pub struct Marks {
    at: Vec<(usize, u16)>,
}

impl Marks {
    /// The marks a scanner found (see [`crate::secrets::Scanner::find_marked`]),
    /// in any order: at least the first of each mark on each line it is on.
    pub fn new(mut at: Vec<(usize, u16)>) -> Self {
        at.sort_unstable();
        Marks { at }
    }

    /// Searches `text` for each marker in turn (for a caller without a scanner
    /// built with [`MARKS`]).
    pub fn search(text: &str) -> Self {
        /// A finder per marker, built once: building one costs more than
        /// searching a short message with it.
        static FINDERS: LazyLock<Vec<Finder<'static>>> =
            LazyLock::new(|| MARKS.iter().map(|m| Finder::new(m.as_bytes()).into_owned()).collect());
        let b = text.as_bytes();
        let mut at = Vec::new();
        for (k, f) in FINDERS.iter().enumerate() {
            // The first on each line, as the scanner reports them; each gap
            // looked through once.
            let mut seen = None;
            for p in f.find_iter(b) {
                if seen.is_none_or(|s| memchr::memchr(b'\n', &b[s..p]).is_some()) {
                    at.push((p, k as u16));
                }
                seen = Some(p);
            }
        }
        Marks::new(at)
    }

    /// Whether any of `kinds` occurs.
    pub fn any(&self, kinds: &[Mark]) -> bool {
        self.at.iter().any(|&(_, k)| kinds.iter().any(|&m| m as u16 == k))
    }

    /// Positions of `kinds`, in order.
    fn of<'a>(&'a self, kinds: &'a [Mark]) -> impl Iterator<Item = usize> + 'a {
        self.at.iter().filter(|&&(_, k)| kinds.iter().any(|&m| m as u16 == k)).map(|&(p, _)| p)
    }
}

/// A file shown in a text: its path as written and its content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shown<'a> {
    /// The path as written (not normalised).
    pub path: &'a str,
    /// The content as shown.
    pub content: &'a str,
    /// Whether the path is a diff's (`a/`, `b/` prefixes already stripped).
    pub diff: bool,
}

/// Lines with the byte offset where each starts.
fn lines_at(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut at = 0;
    text.split_inclusive('\n').map(move |l| {
        let start = at;
        at += l.len();
        (start, l.trim_end_matches(['\n', '\r']))
    })
}

/// The path of a `Working directory: PATH` line (also `cwd: PATH`).
pub fn working_directory(text: &str) -> Option<&str> {
    working_directory_marked(text, &Marks::search(text))
}

/// [`working_directory`] with the text's marks already found.
pub fn working_directory_marked<'t>(text: &'t str, marks: &Marks) -> Option<&'t str> {
    if !marks.any(&[Mark::WorkingDir, Mark::Cwd]) {
        return None;
    }
    lines_at(text).find_map(|(_, l)| {
        let l = l.trim_start();
        let rest = l
            .strip_prefix("Working directory:")
            .or_else(|| l.strip_prefix("working directory:"))
            .or_else(|| l.strip_prefix("cwd:"))?;
        let p = rest.trim().trim_matches(['`', '"', '\'']);
        (!p.is_empty()).then_some(p)
    })
}

/// The path of a `// File: PATH`, `# File: PATH` or `File: PATH` line.
fn marker_path(line: &str) -> Option<&str> {
    let l = line.trim_start();
    let rest = l.strip_prefix("// File:").or_else(|| l.strip_prefix("# File:")).or_else(|| l.strip_prefix("File:"))?;
    let p = rest.trim();
    (!p.is_empty() && !p.contains(char::is_whitespace)).then_some(p)
}

/// Does a fence info string name a path? Its last word does when it has a `/` or
/// an extension (`java src/Main.java`, `src/Main.java`, `tps/util.py`).
fn fence_path(info: &str) -> Option<&str> {
    let word = info.split_whitespace().last()?;
    let word = word.trim_start_matches([':', '=']);
    let word = word.rsplit_once(':').filter(|(lang, _)| !lang.contains('/')).map_or(word, |(_, p)| p);
    // A `/`, an extension (`Main.java`), or a dotfile (`.env`, `.npmrc`).
    let looks = word.contains('/')
        || word.rsplit_once('.').is_some_and(|(stem, ext)| !ext.is_empty() && (!stem.is_empty() || word.len() > 2));
    (looks && !word.starts_with("http")).then_some(word)
}

/// A block being read: its path and where its content starts.
enum Open<'a> {
    Marker(&'a str, usize),
    Fence(&'a str, usize),
    Diff(&'a str, usize),
}

fn close<'t>(text: &'t str, open: Option<Open<'t>>, end: usize, out: &mut Vec<Shown<'t>>) {
    match open {
        Some(Open::Marker(path, start) | Open::Fence(path, start)) => {
            out.push(Shown { path, content: &text[start..end.max(start)], diff: false })
        }
        Some(Open::Diff(path, start)) => out.push(Shown { path, content: &text[start..end.max(start)], diff: true }),
        None => {}
    }
}

/// Every file a text shows: after `File:` markers (to the next marker or the end),
/// in fenced blocks with a path (to the closing fence), in unified diffs (from
/// `diff --git` to the next one or the end).
///
/// Only the lines that hold a candidate (`File:`, a fence, `diff --git `) are
/// examined, found by their [`Marks`]; the content lines in between are never
/// walked one by one.
pub fn shown(text: &str) -> Vec<Shown<'_>> {
    shown_marked(text, &Marks::search(text))
}

/// [`shown`] with the text's marks already found.
pub fn shown_marked<'t>(text: &'t str, marks: &Marks) -> Vec<Shown<'t>> {
    let bytes = text.as_bytes();
    // Start offsets of candidate lines, in order, without repeats. Marks come
    // in order: look back for the line start only as far as the previous mark
    // (whose line start is known), so a line of repeated marks costs linear
    // time.
    let mut starts: Vec<usize> = Vec::new();
    let (mut prev_at, mut prev_line) = (0usize, 0usize);
    for at in marks.of(&[Mark::File, Mark::Fence, Mark::Diff]) {
        let line = match memchr::memrchr(b'\n', &bytes[prev_at..at]) {
            Some(p) => prev_at + p + 1,
            None => prev_line,
        };
        if starts.last() != Some(&line) {
            starts.push(line);
        }
        (prev_at, prev_line) = (at, line);
    }
    if starts.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut open: Option<Open<'_>> = None;
    for at in starts {
        let end = memchr::memchr(b'\n', &bytes[at..]).map_or(text.len(), |k| at + k);
        let line = text[at..end].trim_end_matches('\r');
        let next = (end + 1).min(text.len());
        if let Some(Open::Fence(..)) = open {
            if line.trim_start().starts_with("```") {
                close(text, open.take(), at, &mut out);
            }
            continue;
        }
        if let Some(path) = marker_path(line) {
            close(text, open.take(), at, &mut out);
            open = Some(Open::Marker(path, next));
        } else if let Some(info) = line.trim_start().strip_prefix("```") {
            if let Some(path) = fence_path(info) {
                close(text, open.take(), at, &mut out);
                open = Some(Open::Fence(path, next));
            }
        } else if let Some(rest) = line.strip_prefix("diff --git ") {
            close(text, open.take(), at, &mut out);
            // `a/P b/P`: take the `b/` side.
            let path = rest.rsplit_once(" b/").map(|(_, p)| p).unwrap_or(rest).trim();
            open = Some(Open::Diff(path, at));
        }
    }
    // An unclosed block runs to the end.
    close(text, open.take(), text.len(), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn working_directories() {
        assert_eq!(
            working_directory("You are...\nWorking directory: /home/u/repo\nPlatform: linux"),
            Some("/home/u/repo")
        );
        assert_eq!(working_directory("cwd: C:\\src\\app"), Some("C:\\src\\app"));
        assert_eq!(working_directory("no directory here"), None);
    }

    #[test]
    fn markers_fences_and_diffs() {
        let t = "Here:\n// File: ./src/a.go\npackage a\n\nfunc A() {}\n";
        assert_eq!(shown(t), [Shown { path: "./src/a.go", content: "package a\n\nfunc A() {}\n", diff: false }]);
        let t = "Review:\n```java src/Main.java\nclass Main {}\n```\nThanks.";
        assert_eq!(shown(t), [Shown { path: "src/Main.java", content: "class Main {}\n", diff: false }]);
        let t = "```src/x.py\nprint(1)\n```\n```python\nnot a file\n```\n";
        assert_eq!(shown(t).len(), 1);
        let t = "```text .env\nA=1\n```";
        assert_eq!(shown(t), [Shown { path: ".env", content: "A=1\n", diff: false }]);
        let d = "diff --git a/p/x.go b/p/x.go\nindex 1..2 100644\n--- a/p/x.go\n+++ b/p/x.go\n@@ -1 +1,2 @@\n x\n+y\n";
        assert_eq!(shown(d), [Shown { path: "p/x.go", content: d, diff: true }]);
        let two = format!("{d}{}", d.replace("p/x.go", "q/y.go"));
        let s = shown(&two);
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].path, s[1].path), ("p/x.go", "q/y.go"));
        assert_eq!(s[0].content.len() + s[1].content.len(), two.len());
    }

    #[test]
    fn prose_is_not_a_file() {
        assert!(shown("See https://github.com/acme/x for the File: format").is_empty());
        assert!(shown("```\nplain block\n```").is_empty());
    }
}
