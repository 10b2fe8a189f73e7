//! Languages of files by name (docs/formats.md "What is counted").

/// The language of a file, by its well-known name or its extension.
pub fn language_of(path: &str) -> &'static str {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    match name {
        "go.mod" => return "Go Module",
        "go.sum" => return "Go Checksums",
        "pom.xml" => return "Maven POM",
        ".npmrc" => return "NPM Config",
        "credentials" => return "INI",
        "Dockerfile" => return "Dockerfile",
        "Makefile" => return "Makefile",
        _ => {}
    }
    if name == ".env" || name.starts_with(".env.") {
        return "Dotenv";
    }
    // Lower-cased on the stack: asked once per file, a million times.
    let mut buf = [0u8; 10];
    let ext = name.rsplit_once('.').map(|(_, e)| e.as_bytes()).filter(|e| e.len() <= buf.len()).map(|e| {
        let lower = &mut buf[..e.len()];
        lower.copy_from_slice(e);
        lower.make_ascii_lowercase();
        &*lower
    });
    match ext.and_then(|e| std::str::from_utf8(e).ok()) {
        Some("java") => "Java",
        Some("py") => "Python",
        Some("go") => "Go",
        Some("rs") => "Rust",
        Some("js" | "mjs" | "cjs") => "JavaScript",
        Some("ts" | "tsx") => "TypeScript",
        Some("kt" | "kts") => "Kotlin",
        Some("rb") => "Ruby",
        Some("c" | "h") => "C",
        Some("cc" | "cpp" | "hpp") => "C++",
        Some("cs") => "C#",
        Some("sh" | "bash") => "Shell",
        Some("sql") => "SQL",
        Some("toml") => "TOML",
        Some("properties") => "Java Properties",
        Some("json") => "JSON",
        Some("xml") => "XML",
        Some("yaml" | "yml") => "YAML",
        Some("md") => "Markdown",
        _ => "Text",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_name_then_extension() {
        assert_eq!(language_of("a/B.java"), "Java");
        assert_eq!(language_of("go.mod"), "Go Module");
        assert_eq!(language_of(".env.production"), "Dotenv");
        assert_eq!(language_of("/home/u/.aws/credentials"), "INI");
        assert_eq!(language_of("deploy/keys/deploy_key"), "Text");
        assert_eq!(language_of("C:\\x\\y.PY"), "Python");
    }
}
