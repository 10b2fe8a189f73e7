//! Path normalisation: how one file written many ways becomes one key.

/// Normalises a leaked path: `\` becomes `/`, repeated slashes and `.` segments
/// go, `..` is resolved without ever climbing above the root, and a path under
/// `cwd` becomes relative to it. Paths outside `cwd` stay absolute. `None` for an
/// empty result.
///
/// ```
/// use leakledger_detect::path::normalize;
/// assert_eq!(normalize("/home/u/repo/./src//a.py", Some("/home/u/repo")).as_deref(), Some("src/a.py"));
/// assert_eq!(normalize("C:\\Users\\u\\repo\\src\\A.java", Some("C:\\Users\\u\\repo")).as_deref(), Some("src/A.java"));
/// assert_eq!(normalize("../../etc/passwd", None).as_deref(), Some("etc/passwd"));
/// ```
pub fn normalize(path: &str, cwd: Option<&str>) -> Option<String> {
    Normalizer::new(cwd).normalize(path)
}

/// [`normalize`] for the many paths of one working directory, which is
/// looked at once (checking it for every path of every request's history
/// was 40% of the check).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Normalizer<'a> {
    cwd: Option<&'a str>,
    cwd_clean: bool,
}

impl<'a> Normalizer<'a> {
    pub(crate) fn new(cwd: Option<&'a str>) -> Self {
        Normalizer { cwd, cwd_clean: cwd.is_none_or(clean) }
    }

    pub(crate) fn normalize(&self, path: &str) -> Option<String> {
        // Most paths are written clean already: then the answer is the path or
        // its part under `cwd`, one copy (the general way took five allocations,
        // 3% of a pass that normalises every path of every request's history).
        if self.cwd_clean && clean(path) {
            let under = self
                .cwd
                .filter(|c| c.starts_with('/') && path.starts_with('/'))
                .and_then(|c| path.strip_prefix(c)?.strip_prefix('/'));
            return Some(under.unwrap_or(path).to_string());
        }
        normalize_slowly(path, self.cwd)
    }
}

/// Whether a path is already normal: no surrounding white space, no `\`, no
/// drive, and no empty, `.` or `..` segment (a leading `/` aside).
fn clean(path: &str) -> bool {
    let b = path.as_bytes();
    let spaced = path.starts_with(char::is_whitespace) || path.ends_with(char::is_whitespace);
    if spaced || (b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic()) {
        return false;
    }
    // Each segment's length, and how many of its bytes are dots: a segment
    // that is all dots, one or two of them, is `.` or `..`.
    let odd = |len: usize, dots: usize| len == 0 || (len == dots && dots <= 2);
    let (mut len, mut dots) = (0usize, 0usize);
    for &c in b.strip_prefix(b"/").unwrap_or(b) {
        match c {
            b'/' => {
                if odd(len, dots) {
                    return false;
                }
                (len, dots) = (0, 0);
            }
            b'\\' => return false,
            b'.' => (len, dots) = (len + 1, dots + 1),
            _ => len += 1,
        }
    }
    !odd(len, dots)
}

/// [`normalize`] for any path.
fn normalize_slowly(path: &str, cwd: Option<&str>) -> Option<String> {
    let (abs, segs) = split(path);
    if abs.is_none() {
        // Relative paths are relative to the working directory already.
        return (!segs.is_empty()).then(|| segs.join("/"));
    }
    if let Some(cwd) = cwd {
        let (cabs, csegs) = split(cwd);
        if cabs.is_some()
            && eq_root(abs.as_deref(), cabs.as_deref())
            && segs.len() > csegs.len()
            && segs[..csegs.len()] == csegs[..]
        {
            return Some(segs[csegs.len()..].join("/"));
        }
    }
    if segs.is_empty() {
        return None;
    }
    Some(format!("{}{}", abs.unwrap_or_default(), segs.join("/")))
}

fn eq_root(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    }
}

/// Splits into an absolute root (`/` or `C:/`) and clean segments.
fn split(path: &str) -> (Option<String>, Vec<&str>) {
    let p = path.trim();
    let bytes = p.as_bytes();
    let (root, rest) = if bytes.len() >= 2 && bytes[1] == b':' && bytes[0].is_ascii_alphabetic() {
        (Some(format!("{}:/", (bytes[0] as char).to_ascii_uppercase())), &p[2..])
    } else if p.starts_with('/') || p.starts_with('\\') {
        (Some("/".to_string()), p)
    } else {
        (None, p)
    };
    let mut segs: Vec<&str> = Vec::new();
    for seg in rest.split(['/', '\\']) {
        match seg {
            "" | "." => {}
            ".." => {
                segs.pop();
            }
            s => segs.push(s),
        }
    }
    (root, segs)
}

/// Whether a path looks like test code or a test fixture (`tests/`, `testdata/`,
/// `fixtures/`, `__mocks__/`, `spec/`, `foo_test.go`, `test_foo.py`,
/// `Foo.test.ts`, `FooTest.java`...): secrets there are more often fake, so they
/// are ranked one step lower unless they are also seen elsewhere.
pub fn is_test_path(path: &str) -> bool {
    const DIRS: &[&str] = &[
        "test",
        "tests",
        "__tests__",
        "testdata",
        "test-data",
        "test_data",
        "fixtures",
        "fixture",
        "__fixtures__",
        "spec",
        "specs",
        "mocks",
        "__mocks__",
        "testing",
    ];
    let path = path.replace('\\', "/");
    let mut parts = path.split('/').filter(|p| !p.is_empty());
    let name = parts.next_back().unwrap_or("");
    if parts.any(|d| DIRS.contains(&d.to_ascii_lowercase().as_str())) {
        return true;
    }
    let stem = name.split('.').next().unwrap_or(name);
    let lower = name.to_ascii_lowercase();
    stem.ends_with("_test")
        || stem.starts_with("test_")
        || stem.ends_with("Test")
        || stem.ends_with("Tests")
        || stem.ends_with("_spec")
        || lower.contains(".test.")
        || lower.contains(".spec.")
}

/// Whether a path looks like an example, a template or documentation: a file
/// checked in to show a setting, not to hold it (`.env.example`,
/// `config.sample.yml`, `settings.py.dist`, `app.env.template`, `examples/`,
/// `docs/`, `README.md`). A value there is more often a sample than a live key,
/// so it ranks one step lower, as in test code (it is still reported).
pub fn is_example_path(path: &str) -> bool {
    const DIRS: &[&str] = &["example", "examples", "sample", "samples", "demo", "demos", "doc", "docs"];
    const MARKS: &[&str] = &["example", "sample", "template", "tmpl", "dist"];
    const DOCS: &[&str] = &["md", "markdown", "rst", "adoc"];
    let path = path.replace('\\', "/").to_ascii_lowercase();
    let mut parts = path.split('/').filter(|p| !p.is_empty());
    let name = parts.next_back().unwrap_or("");
    if parts.any(|d| DIRS.contains(&d)) {
        return true;
    }
    // Name parts after the first (`.env.example`: `env`, `example`), or the
    // first when it is a mark on its own (`example.env`).
    let mut pieces = name.split('.').filter(|p| !p.is_empty());
    let first = pieces.next().unwrap_or("");
    let rest: Vec<&str> = pieces.collect();
    if rest.last().is_some_and(|ext| DOCS.contains(ext)) {
        return true;
    }
    (!rest.is_empty() && MARKS.contains(&first)) || rest.iter().any(|p| MARKS.contains(p))
}

/// Whether a secret seen in a file at `path` ranks one step lower: test code
/// and fixtures ([`is_test_path`]), examples and documentation
/// ([`is_example_path`]).
pub fn ranks_lower(path: &str) -> bool {
    is_test_path(path) || is_example_path(path)
}

/// Strips the `a/` or `b/` prefix a unified diff puts on paths.
pub fn strip_diff_prefix(path: &str) -> &str {
    path.strip_prefix("a/").or_else(|| path.strip_prefix("b/")).unwrap_or(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_paths_take_the_short_way_to_the_same_answer() {
        // Every path and working directory put together from these pieces:
        // the short way and the general one agree.
        let pieces = ["/", "a", "src", ".", "..", "", "\\", "C:", " ", "b.py", "//", "é", "...", "\u{a0}"];
        let mut paths = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> =
                paths.iter().flat_map(|p| pieces.iter().map(move |x| format!("{p}{x}"))).collect();
            paths.extend(longer);
            paths.sort();
            paths.dedup();
        }
        let cwds = ["/a", "/a/src", "/", "a", "/a/", "C:\\a", " /a", "/a/./src"];
        for p in &paths {
            assert_eq!(normalize(p, None), normalize_slowly(p, None), "{p:?}");
            for c in cwds {
                assert_eq!(normalize(p, Some(c)), normalize_slowly(p, Some(c)), "{p:?} under {c:?}");
            }
        }
    }

    #[test]
    fn test_and_fixture_paths() {
        for p in [
            "tests/a.py",
            "src/test/java/FooTest.java",
            "internal/auth/replay_test.go",
            "test_login.py",
            "web/src/__mocks__/api.ts",
            "pkg/testdata/key.pem",
            "spec/models/user_spec.rb",
            "ui/Button.test.tsx",
            "C:\\repo\\Tests\\Config.cs",
            "fixtures/aws.json",
        ] {
            assert!(is_test_path(p), "{p}");
        }
        for p in
            ["src/main.rs", "config/prod.env", "attestation/key.go", "contest.py", "latest/app.py", "TestFlight.md"]
        {
            assert!(!is_test_path(p), "{p}");
        }
    }

    #[test]
    fn example_template_and_documentation_paths() {
        for p in [
            ".env.example",
            "config/app.sample.yml",
            "settings.py.dist",
            "deploy/app.env.template",
            "example.env",
            "examples/quickstart.py",
            "docs/setup.md",
            "README.md",
            "guide.rst",
            "C:\\repo\\Samples\\Program.cs",
        ] {
            assert!(is_example_path(p), "{p}");
            assert!(ranks_lower(p), "{p}");
        }
        for p in [".env", "config/prod.yml", "src/example_client.rs", "templates_loader.py", "distance.go", "md5.c"] {
            assert!(!is_example_path(p), "{p}");
        }
    }

    #[test]
    fn the_many_spellings_of_one_path() {
        let cwd = Some("/work/repo");
        for p in
            ["/work/repo/src/a.go", "src/a.go", "./src/a.go", "src//a.go", "/work/repo/lib/../src/a.go", "src\\a.go"]
        {
            assert_eq!(normalize(p, cwd).as_deref(), Some("src/a.go"), "{p}");
        }
    }

    #[test]
    fn outside_the_working_directory_stays_absolute() {
        assert_eq!(
            normalize("/home/u/.aws/credentials", Some("/home/u/src/r")).as_deref(),
            Some("/home/u/.aws/credentials")
        );
        assert_eq!(normalize("/work/repository/x", Some("/work/repo")).as_deref(), Some("/work/repository/x"));
        assert_eq!(normalize("/../../etc/passwd", None).as_deref(), Some("/etc/passwd"));
        assert_eq!(normalize("c:\\Users\\a\\x.txt", None).as_deref(), Some("C:/Users/a/x.txt"));
    }

    #[test]
    fn nothing_left_is_none() {
        assert_eq!(normalize("", None), None);
        assert_eq!(normalize("./..", None), None);
        assert_eq!(normalize("/work/repo", Some("/work/repo")), Some("/work/repo".into()));
    }

    #[test]
    fn diff_prefixes() {
        assert_eq!(strip_diff_prefix("a/src/x"), "src/x");
        assert_eq!(strip_diff_prefix("b/src/x"), "src/x");
        assert_eq!(strip_diff_prefix("src/x"), "src/x");
    }
}
