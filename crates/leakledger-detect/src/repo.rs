//! Repository evidence: URL normalisation, origin remotes, go.mod modules.

/// Normalises a repository URL to `host/owner/name` (lower case; no scheme, user,
/// port, `.git` or trailing slash; `git@host:owner/name` too). `None` when it
/// does not name a host and at least an owner and a name.
///
/// ```
/// use leakledger_detect::repo::normalize_url;
/// for u in ["https://github.com/Acme/Payments.git", "git@github.com:acme/payments.git",
///           "ssh://git@github.com:22/acme/payments", "github.com/acme/payments/"] {
///     assert_eq!(normalize_url(u).as_deref(), Some("github.com/acme/payments"));
/// }
/// ```
pub fn normalize_url(url: &str) -> Option<String> {
    let mut u = url.trim();
    // A query or fragment can carry a token (`?access_token=...`): never part of a key.
    if let Some(i) = u.find(['?', '#']) {
        u = &u[..i];
    }
    if let Some(i) = u.find("://") {
        u = &u[i + 3..];
    }
    // user[:password]@ : the userinfo ends at the last `@` before the path, and a
    // password may itself hold `/`, so look for the `@` first.
    let path_start = u.find('/').unwrap_or(u.len());
    if let Some(at) = u.rfind('@') {
        // `git@host:owner/name` has its `@` before the first `/`; a password with `/`
        // puts the `@` after it, but still before the host's `.`-dotted name.
        if at < path_start || u[..at].contains(':') {
            u = &u[at + 1..];
        }
    }
    let (host_port, path) = match (u.find('/'), u.find(':')) {
        // scp-like `host:owner/name` (a colon before the first slash, not a port).
        (Some(slash), Some(colon)) if colon < slash => {
            let after = &u[colon + 1..];
            if after[..slash - colon - 1].chars().all(|c| c.is_ascii_digit()) && slash > colon + 1 {
                (&u[..colon], &u[slash..])
            } else {
                (&u[..colon], after)
            }
        }
        (None, Some(colon)) => (&u[..colon], &u[colon + 1..]),
        (Some(slash), _) => (&u[..slash], &u[slash..]),
        (None, None) => return None,
    };
    let host = host_port.split(':').next().unwrap_or("").to_ascii_lowercase();
    if host.is_empty() || !host.contains('.') && host != "localhost" || host.contains(['@', '/']) {
        return None;
    }
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path).trim_end_matches('/');
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let clean = |s: &&str| !s.chars().any(|c| c.is_whitespace() || matches!(c, '@' | ':' | '?' | '#' | '='));
    if segs.len() < 2 || !segs.iter().all(clean) {
        return None;
    }
    Some(format!("{host}/{}", segs.join("/")).to_ascii_lowercase())
}

/// The origin URL in `git remote -v` output (`origin<TAB>URL (fetch)`) or in a git
/// config (`[remote "origin"]` then `url = URL`).
pub fn origin_remote(text: &str) -> Option<&str> {
    let mut in_origin_section = false;
    for line in text.lines() {
        let l = line.trim();
        if let Some(rest) = l.strip_prefix("origin")
            && rest.starts_with([' ', '\t'])
        {
            let rest = rest.trim_start();
            if let Some(url) = rest.strip_suffix("(fetch)") {
                return Some(url.trim());
            }
        }
        if l.starts_with('[') {
            in_origin_section = l == "[remote \"origin\"]";
            continue;
        }
        if in_origin_section
            && let Some(v) = l.strip_prefix("url")
            && let Some(v) = v.trim_start().strip_prefix('=')
        {
            return Some(v.trim());
        }
    }
    None
}

/// The module path of a go.mod (`module HOST/OWNER/NAME`).
pub fn go_module(text: &str) -> Option<&str> {
    text.lines().find_map(|l| l.trim().strip_prefix("module ")).map(|m| m.trim().trim_matches('"'))
}

/// The repository key of a working directory when nothing names the repository:
/// `local/ORG/NAME`, NAME being the directory's last element.
pub fn local_key(org: &str, cwd: &str) -> Option<String> {
    let name = cwd.trim_end_matches(['/', '\\']).rsplit(['/', '\\']).next()?;
    if name.is_empty() || name.ends_with(':') {
        return None;
    }
    Some(format!("local/{org}/{name}").to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            normalize_url("https://user:pw@gitlab.com:8443/group/sub/proj.git").as_deref(),
            Some("gitlab.com/group/sub/proj")
        );
        assert_eq!(normalize_url("git@bitbucket.org:team/repo").as_deref(), Some("bitbucket.org/team/repo"));
        assert_eq!(normalize_url("https://github.com/acme"), None);
        assert_eq!(normalize_url("not a url"), None);
        assert_eq!(
            normalize_url("git.acme.internal:acme/ledger.git").as_deref(),
            Some("git.acme.internal/acme/ledger")
        );
    }

    #[test]
    fn credentials_and_queries_never_reach_a_key() {
        // Fake credentials in the places URLs carry them.
        assert_eq!(
            normalize_url("https://github.com/acme/pay.git?access_token=fakefakefake").as_deref(),
            Some("github.com/acme/pay")
        );
        assert_eq!(
            normalize_url("https://jane.doe:Fa/ke+pw@git-codecommit.us-east-1.amazonaws.com/v1/repos/r").as_deref(),
            Some("git-codecommit.us-east-1.amazonaws.com/v1/repos/r")
        );
        assert_eq!(normalize_url("https://x:fakepw@github.com/acme/pay#frag").as_deref(), Some("github.com/acme/pay"));
        for bad in ["https://github.com/a@b/c", "https://github.com/a/b=c"] {
            assert_eq!(normalize_url(bad), None, "{bad}");
        }
    }

    #[test]
    fn remotes() {
        let v = "origin\tgit@github.com:acme/pay.git (fetch)\norigin\tgit@github.com:acme/pay.git (push)\n";
        assert_eq!(origin_remote(v), Some("git@github.com:acme/pay.git"));
        let cfg = "[core]\n\tbare = false\n[remote \"origin\"]\n\turl = https://github.com/acme/pay.git\n";
        assert_eq!(origin_remote(cfg), Some("https://github.com/acme/pay.git"));
        assert_eq!(origin_remote("upstream\thttps://x/y/z (fetch)"), None);
    }

    #[test]
    fn modules_and_local_keys() {
        assert_eq!(go_module("module github.com/acme/ledger\n\ngo 1.22\n"), Some("github.com/acme/ledger"));
        assert_eq!(local_key("Acme", "/home/u/src/Ledger/").as_deref(), Some("local/acme/ledger"));
        assert_eq!(local_key("acme", "C:\\Users\\u\\source\\pay").as_deref(), Some("local/acme/pay"));
    }
}
