//! Conventions in free text that reveal code: the working directory line, `File:`
//! markers, fenced blocks whose info string holds a path, unified diffs.

use std::sync::LazyLock;

use memchr::memmem::Finder;

/// A substring finder built once: building one costs more than searching a
/// short message with it, and the walk searches millions of them.
macro_rules! finder {
    ($name:ident, $needle:expr) => {
        pub(crate) static $name: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new($needle));
    };
}
finder!(FILE_MARK, b"File:");
finder!(FENCE, b"```");
finder!(DIFF_GIT, b"diff --git ");
finder!(WORKING_DIR, b"orking directory:");
finder!(CWD, b"cwd:");
finder!(REMOTE_ORIGIN, b"[remote \"origin\"]");
finder!(REMOTE, b"[remote");
finder!(FETCH, b"(fetch)");
finder!(GO_MODULE, b"\nmodule ");

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
    if WORKING_DIR.find(text.as_bytes()).is_none() && CWD.find(text.as_bytes()).is_none() {
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
/// examined, found with SIMD substring search; the content lines in between are
/// never walked one by one.
pub fn shown(text: &str) -> Vec<Shown<'_>> {
    let bytes = text.as_bytes();
    // Start offsets of candidate lines, in order, without repeats.
    let mut starts: Vec<usize> = Vec::new();
    for needle in [&*FILE_MARK, &*FENCE, &*DIFF_GIT] {
        // Matches come in order: look back for the line start only as far as the
        // previous match (whose line start is known), so a line of repeated
        // needles costs linear time.
        let (mut prev_at, mut prev_line) = (0usize, 0usize);
        for at in needle.find_iter(bytes) {
            let line = match memchr::memrchr(b'\n', &bytes[prev_at..at]) {
                Some(p) => prev_at + p + 1,
                None => prev_line,
            };
            if starts.last() != Some(&line) {
                starts.push(line);
            }
            (prev_at, prev_line) = (at, line);
        }
    }
    if starts.is_empty() {
        return Vec::new();
    }
    starts.sort_unstable();
    starts.dedup();
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
