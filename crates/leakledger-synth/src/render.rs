//! Writing requests as each channel logs them. JSON is written directly (strings
//! escaped by serde_json) rather than through a value tree: requests repeat the
//! whole conversation, so rendering is most of the generator's work.

use std::io::Write;

use crate::session::{Channel, Session, Turn};
use crate::world::{Evidence, Lang, World};

const MODEL: &str = "assist-large-2024-04";

/// Appends `s` as a JSON string.
pub(crate) fn js(out: &mut Vec<u8>, s: &str) {
    let _ = serde_json::to_writer(&mut *out, s);
}

/// RFC 3339 with milliseconds, from µs.
pub fn rfc3339_ms(us: i64) -> String {
    let secs = us.div_euclid(1_000_000);
    let ms = us.rem_euclid(1_000_000) / 1000;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z", rem / 3600, rem / 60 % 60, rem % 60)
}

/// The language word of a fenced block for a path.
fn fence_lang(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "java" => "java",
        "py" => "python",
        "go" => "go",
        "xml" => "xml",
        "json" => "json",
        "toml" => "toml",
        "properties" => "properties",
        _ => "text",
    }
}

/// The comment marker of a `File:` line for a path.
fn marker(path: &str) -> &'static str {
    let name = path.rsplit('/').next().unwrap_or(path);
    if name.ends_with(".py")
        || name.ends_with(".toml")
        || name.ends_with(".properties")
        || name.starts_with(".env")
        || name == ".npmrc"
    {
        "# File:"
    } else {
        "// File:"
    }
}

/// Everything rendering needs to look up.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub(crate) world: &'a World,
    /// Requests carry the conversation so far (else only their own turn).
    pub(crate) history: bool,
    /// Records carry session and parent ids (else only their own id).
    pub(crate) ids: bool,
}

impl Ctx<'_> {
    fn system_prompt(&self, s: &Session) -> String {
        if s.repo.is_none() {
            return "You are a helpful coding assistant.".into();
        }
        format!(
            "You are an expert coding agent working in the user's repository.\nWorking directory: {}\nPlatform: {}\nUse the tools to read files before changing them.",
            s.cwd,
            if s.windows { "win32" } else { "linux" }
        )
    }

    fn abs(&self, s: &Session, rel: &str) -> String {
        if s.windows { format!("{}\\{}", s.cwd, rel.replace('/', "\\")) } else { format!("{}/{rel}", s.cwd) }
    }

    /// The repository URL as a record field writes it.
    pub(crate) fn repo_field(&self, s: &Session) -> Option<String> {
        let repo = &self.world.orgs[s.org].repos[s.repo?];
        (repo.evidence == Evidence::RecordField)
            .then(|| format!("https://{}/{}/{}.git", repo.host, repo.owner, repo.name))
    }

    fn tool_call(&self, out: &mut Vec<u8>, s: &Session, id: &str, name: &str, input_key: &str, input: &str) {
        if s.openai {
            let mut args = Vec::new();
            args.extend_from_slice(b"{");
            js(&mut args, input_key);
            args.push(b':');
            js(&mut args, input);
            args.push(b'}');
            out.extend_from_slice(br#"{"role":"assistant","content":null,"tool_calls":[{"id":"#);
            js(out, id);
            out.extend_from_slice(br#","type":"function","function":{"name":"#);
            js(out, name);
            out.extend_from_slice(br#","arguments":"#);
            js(out, std::str::from_utf8(&args).unwrap_or_default());
            out.extend_from_slice(b"}}]}");
        } else {
            out.extend_from_slice(br#"{"role":"assistant","content":[{"type":"tool_use","id":"#);
            js(out, id);
            out.extend_from_slice(br#","name":"#);
            js(out, name);
            out.extend_from_slice(br#","input":{"#);
            js(out, input_key);
            out.push(b':');
            js(out, input);
            out.extend_from_slice(b"}}]}");
        }
    }

    fn tool_result(&self, out: &mut Vec<u8>, s: &Session, id: &str, content: &str, error: bool) {
        if s.openai {
            out.extend_from_slice(br#"{"role":"tool","tool_call_id":"#);
            js(out, id);
            out.extend_from_slice(br#","content":"#);
            js(out, content);
            out.push(b'}');
        } else {
            out.extend_from_slice(br#"{"role":"user","content":[{"type":"tool_result","tool_use_id":"#);
            js(out, id);
            out.extend_from_slice(br#","content":"#);
            js(out, content);
            if error {
                out.extend_from_slice(br#","is_error":true"#);
            }
            out.extend_from_slice(b"}]}");
        }
    }

    fn text_message(&self, out: &mut Vec<u8>, role: &str, text: &str) {
        out.extend_from_slice(br#"{"role":"#);
        js(out, role);
        out.extend_from_slice(br#","content":"#);
        js(out, text);
        out.push(b'}');
    }

    /// Appends the messages of one turn, each preceded by a comma.
    fn turn(&self, out: &mut Vec<u8>, s: &Session, t: &Turn) {
        let repo = s.repo.map(|r| &self.world.orgs[s.org].repos[r]);
        let file = |i: usize| repo.map(|r| &r.files[i]);
        let name = if s.openai { "read_file" } else { "Read" };
        let key = if s.openai { "path" } else { "file_path" };
        match t {
            Turn::Remote { tool, url } => {
                out.push(b',');
                self.tool_call(out, s, tool, "bash", "command", "git remote -v");
                out.push(b',');
                self.tool_result(out, s, tool, &format!("origin\t{url} (fetch)\norigin\t{url} (push)\n"), false);
            }
            Turn::Read { tool, file: i } => {
                let Some(f) = file(*i) else { return };
                out.push(b',');
                self.text_message(out, "user", "Read the file and check how errors are handled.");
                out.push(b',');
                self.tool_call(out, s, tool, name, key, &self.abs(s, &f.path));
                out.push(b',');
                self.tool_result(out, s, tool, &f.content, false);
            }
            Turn::ReadOutside { tool, path, content, .. } => {
                out.push(b',');
                self.tool_call(out, s, tool, name, key, path);
                out.push(b',');
                self.tool_result(out, s, tool, content, false);
            }
            Turn::Missing { tool, path } => {
                out.push(b',');
                self.tool_call(out, s, tool, name, key, &self.abs(s, path));
                out.push(b',');
                self.tool_result(out, s, tool, "Error: ENOENT: no such file or directory", true);
            }
            Turn::Paste { file: i, dot } => {
                let Some(f) = file(*i) else { return };
                let path = if *dot { format!("./{}", f.path) } else { f.path.clone() };
                out.push(b',');
                self.text_message(
                    out,
                    "user",
                    &format!("Here is the file I'm editing:\n{} {path}\n{}", marker(&f.path), f.content),
                );
            }
            Turn::Fence { file: i } => {
                let Some(f) = file(*i) else { return };
                out.push(b',');
                self.text_message(
                    out,
                    "user",
                    &format!("Can you review this?\n```{} {}\n{}```\nThanks.", fence_lang(&f.path), f.path, f.content),
                );
            }
            Turn::Diff { text, .. } => {
                out.push(b',');
                self.text_message(out, "assistant", text);
            }
            Turn::Ask { text, .. } => {
                out.push(b',');
                self.text_message(out, "user", text);
            }
        }
    }

    /// The messages array of request `k` (system prompt included as a message
    /// when `system_in_messages`).
    fn messages(&self, out: &mut Vec<u8>, s: &Session, k: usize, system_in_messages: bool) {
        out.push(b'[');
        let start = out.len();
        if system_in_messages || s.openai {
            self.text_message(out, "system", &self.system_prompt(s));
        }
        let first = if self.history { 0 } else { k };
        for t in &s.turns[first..=k] {
            self.turn(out, s, t);
        }
        // Drop a leading comma when there was no system message.
        if out.get(start) == Some(&b',') {
            out.remove(start);
        }
        out.push(b']');
    }

    /// The request body: Messages style (`system` beside `messages`) or OpenAI
    /// style (system as the first message).
    pub(crate) fn body(&self, out: &mut Vec<u8>, s: &Session, k: usize) {
        out.extend_from_slice(br#"{"model":"#);
        js(out, MODEL);
        if s.openai {
            out.extend_from_slice(br#","temperature":0.2,"messages":"#);
            self.messages(out, s, k, true);
        } else {
            out.extend_from_slice(br#","max_tokens":8192,"system":"#);
            js(out, &self.system_prompt(s));
            out.extend_from_slice(br#","messages":"#);
            self.messages(out, s, k, false);
        }
        out.push(b'}');
    }

    fn parent<'s>(&self, s: &'s Session, k: usize) -> Option<&'s str> {
        if !self.ids {
            None
        } else if k == 0 {
            s.orphan_parent.as_deref()
        } else {
            Some(&s.requests[k - 1].id)
        }
    }

    /// The session's trace id as logged (none when ids are left out).
    fn trace<'s>(&self, s: &'s Session) -> Option<&'s str> {
        s.trace.as_deref().filter(|_| self.ids)
    }

    fn org_user(&self, s: &Session) -> (&str, &str) {
        let o = &self.world.orgs[s.org];
        (&o.name, &o.users[s.user])
    }

    /// One record of a line-based or Firehose channel (no trailing newline). For
    /// Firehose this is the record inside the event's `message`.
    pub(crate) fn record(&self, out: &mut Vec<u8>, s: &Session, k: usize) {
        let r = &s.requests[k];
        let (org, user) = self.org_user(s);
        let repo = self.repo_field(s);
        let parent = self.parent(s, k);
        let field = |out: &mut Vec<u8>, name: &str, v: Option<&str>| {
            if let Some(v) = v {
                out.push(b',');
                js(out, name);
                out.push(b':');
                js(out, v);
            }
        };
        match s.channel {
            Channel::Gateway => {
                out.extend_from_slice(br#"{"timestamp":"#);
                js(out, &rfc3339_ms(r.ts));
                field(out, "request_id", Some(&r.id));
                field(out, "session_id", self.trace(s));
                field(out, "parent_request_id", parent);
                field(out, "org_id", Some(org));
                field(out, "user_id", Some(user));
                field(out, "repository", repo.as_deref());
                out.extend_from_slice(br#","endpoint":"/v1/messages","model":"#);
                js(out, MODEL);
                out.extend_from_slice(br#","status":200,"body":"#);
                self.body(out, s, k);
                out.push(b'}');
            }
            Channel::Proxy => {
                let _ = write!(out, "{{\"ts\":{}", r.ts / 1000);
                field(out, "requestId", Some(&r.id));
                field(out, "traceId", self.trace(s));
                field(out, "parent_id", parent);
                field(out, "tenant", Some(org));
                field(out, "user", Some(user));
                field(out, "repo", repo.as_deref());
                out.extend_from_slice(br#","route":"/v1/chat/completions","payload":"#);
                let mut body = Vec::new();
                self.body(&mut body, s, k);
                js(out, std::str::from_utf8(&body).unwrap_or_default());
                out.push(b'}');
            }
            Channel::Elastic => {
                out.extend_from_slice(br#"{"@timestamp":"#);
                js(out, &rfc3339_ms(r.ts));
                out.extend_from_slice(br#","http":{"request":{"id":"#);
                js(out, &r.id);
                out.extend_from_slice(b"}}");
                if let Some(t) = self.trace(s) {
                    out.extend_from_slice(br#","trace":{"id":"#);
                    js(out, t);
                    out.push(b'}');
                }
                if let Some(p) = parent {
                    out.extend_from_slice(br#","parent":{"id":"#);
                    js(out, p);
                    out.push(b'}');
                }
                out.extend_from_slice(br#","labels":{"org":"#);
                js(out, org);
                out.extend_from_slice(br#"},"user":{"id":"#);
                js(out, user);
                out.push(b'}');
                if let Some(url) = &repo {
                    out.extend_from_slice(br#","workspace":{"repository":"#);
                    js(out, url);
                    out.push(b'}');
                }
                out.extend_from_slice(br#","request":"#);
                self.body(out, s, k);
                out.push(b'}');
            }
            Channel::CloudwatchExport => {
                out.extend_from_slice(rfc3339_ms(r.ts).as_bytes());
                out.extend_from_slice(br#" {"requestId":"#);
                js(out, &r.id);
                field(out, "sessionId", self.trace(s));
                field(out, "parent_request_id", parent);
                field(out, "organization", Some(org));
                field(out, "user_id", Some(user));
                field(out, "repository", repo.as_deref());
                out.extend_from_slice(br#","request_body":"#);
                self.body(out, s, k);
                out.push(b'}');
            }
            Channel::Firehose => {
                out.extend_from_slice(br#"{"request_id":"#);
                js(out, &r.id);
                field(out, "conversation_id", self.trace(s));
                field(out, "parent_id", parent);
                field(out, "org", Some(org));
                field(out, "actor", Some(user));
                field(out, "repo", repo.as_deref());
                out.extend_from_slice(br#","body":"#);
                self.body(out, s, k);
                out.push(b'}');
            }
            Channel::Otlp => self.span(out, s, k),
        }
    }

    /// One OTLP span for request `k`.
    pub(crate) fn span(&self, out: &mut Vec<u8>, s: &Session, k: usize) {
        let r = &s.requests[k];
        let (_, user) = self.org_user(s);
        // Without a session id every span is its own trace, as per-request tracing gives.
        let trace = self.trace(s).map_or_else(|| format!("{:0>32}", r.id), str::to_string);
        out.extend_from_slice(br#"{"traceId":"#);
        js(out, &trace);
        out.extend_from_slice(br#","spanId":"#);
        js(out, &r.id);
        out.extend_from_slice(br#","parentSpanId":"#);
        js(out, self.parent(s, k).unwrap_or(""));
        let ns = r.ts * 1000;
        let _ = write!(
            out,
            ",\"name\":\"chat {MODEL}\",\"kind\":3,\"startTimeUnixNano\":\"{ns}\",\"endTimeUnixNano\":\"{}\",\"attributes\":[",
            ns + 1_500_000_000
        );
        let attr = |out: &mut Vec<u8>, key: &str, value: &str, first: bool| {
            if !first {
                out.push(b',');
            }
            out.extend_from_slice(br#"{"key":"#);
            js(out, key);
            out.extend_from_slice(br#","value":{"stringValue":"#);
            js(out, value);
            out.extend_from_slice(b"}}");
        };
        attr(out, "gen_ai.request.model", MODEL, true);
        if let Some(t) = self.trace(s) {
            attr(out, "gen_ai.conversation.id", t, false);
        }
        attr(out, "user.id", user, false);
        if let Some(url) = self.repo_field(s) {
            attr(out, "repository", &url, false);
        }
        let mut messages = Vec::new();
        self.messages(&mut messages, s, k, true);
        attr(out, "gen_ai.input.messages", std::str::from_utf8(&messages).unwrap_or_default(), false);
        out.extend_from_slice(b"]}");
    }
}

/// The language of a file by its name (the table the exposure inventory uses;
/// docs/formats.md).
pub fn language_of(path: &str) -> &'static str {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    match name {
        "go.mod" => return "Go Module",
        "go.sum" => return "Go Checksums",
        "pom.xml" => return "Maven POM",
        ".npmrc" => return "NPM Config",
        "credentials" => return "INI",
        _ => {}
    }
    if name == ".env" || name.starts_with(".env.") {
        return "Dotenv";
    }
    match name.rsplit_once('.').map(|(_, e)| e) {
        Some("java") => "Java",
        Some("py") => "Python",
        Some("go") => "Go",
        Some("toml") => "TOML",
        Some("properties") => "Java Properties",
        Some("json") => "JSON",
        Some("xml") => "XML",
        _ => "Text",
    }
}

/// The language a repository's code is in, for summaries.
pub fn lang_name(lang: Lang) -> &'static str {
    match lang {
        Lang::Java => "Java",
        Lang::Python => "Python",
        Lang::Go => "Go",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339_ms(1_714_564_800_123_000), "2024-05-01T12:00:00.123Z");
        assert_eq!(rfc3339_ms(951_782_400_000_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn languages() {
        assert_eq!(language_of("src/main/java/A.java"), "Java");
        assert_eq!(language_of(".env"), "Dotenv");
        assert_eq!(language_of("go.mod"), "Go Module");
        assert_eq!(language_of("deploy/keys/deploy_key"), "Text");
        assert_eq!(language_of("/home/u/.aws/credentials"), "INI");
    }
}
