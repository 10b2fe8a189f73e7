//! Walking a record's payload into the conversation items the detector reads:
//! Messages-style bodies (`system` and `messages` with string or block content,
//! `tool_use`/`tool_result`), OpenAI-style `tool_calls` whose `arguments` is a JSON
//! string, OpenTelemetry GenAI parts and attributes, bodies logged as JSON inside a
//! string. Every string is digested once per worker and cached by its bytes:
//! agent loops resend the whole conversation in every request, so most strings of
//! a request were seen in an earlier one.

use std::collections::HashMap;

use leakledger_detect::exposure::{self, Item, ResultDigest, TextDigest};
use leakledger_dump::{Kind, Value};
use xxhash_rust::xxh3::xxh3_128;

/// How deep unknown JSON is searched for text.
const MAX_DEPTH: usize = 24;
/// Cached digests per worker before the cache is emptied.
const CACHE_LIMIT: usize = 1 << 18;

/// A walked item, owning what is small and pointing into the cache for what is big.
#[derive(Debug, Clone)]
pub(crate) enum Piece {
    System(usize),
    Text(usize),
    Call { id: String, name: String, path: Option<String>, command: Option<String> },
    Result { id: String, digest: usize, error: bool },
}

/// Per-worker walker: digest caches and scratch buffers.
#[derive(Debug, Default)]
pub(crate) struct Walker {
    texts: Vec<TextDigest>,
    results: Vec<ResultDigest>,
    text_index: HashMap<u128, usize>,
    result_index: HashMap<u128, usize>,
    pieces: Vec<Piece>,
    unescaped: Vec<u8>,
}

impl Walker {
    /// Walks a payload (and a response, if any) and returns what it exposes.
    pub(crate) fn found(&mut self, payload: Option<Value<'_>>, response: Option<Value<'_>>) -> exposure::Found {
        if self.texts.len() + self.results.len() > CACHE_LIMIT {
            self.texts.clear();
            self.results.clear();
            self.text_index.clear();
            self.result_index.clear();
        }
        self.pieces.clear();
        for v in [payload, response].into_iter().flatten() {
            self.body(v, 0);
        }
        let items: Vec<Item<'_>> = self
            .pieces
            .iter()
            .map(|p| match p {
                Piece::System(i) => Item::System(&self.texts[*i]),
                Piece::Text(i) => Item::Text(&self.texts[*i]),
                Piece::Call { id, name, path, command } => {
                    Item::ToolCall { id, name, path: path.as_deref(), command: command.as_deref() }
                }
                Piece::Result { id, digest, error } => {
                    Item::ToolResult { id, digest: &self.results[*digest], error: *error }
                }
            })
            .collect();
        exposure::assemble(&items)
    }

    fn text_digest(&mut self, v: Value<'_>) -> usize {
        let key = xxh3_128(v.raw()) ^ u128::from(v.kind() == Kind::String);
        if let Some(&i) = self.text_index.get(&key) {
            return i;
        }
        let d = match v.as_str() {
            Some(s) => exposure::digest_text(&s),
            None => TextDigest::default(),
        };
        self.texts.push(d);
        self.text_index.insert(key, self.texts.len() - 1);
        self.texts.len() - 1
    }

    fn result_digest(&mut self, v: Value<'_>) -> usize {
        let key = xxh3_128(v.raw()) ^ (u128::from(v.kind() == Kind::String) << 1);
        if let Some(&i) = self.result_index.get(&key) {
            return i;
        }
        let d = match v.kind() {
            Kind::String | Kind::Text => exposure::digest_result(&v.as_str().unwrap_or_default()),
            // Block content: the texts of its `text` blocks, one after another.
            Kind::Array => {
                let mut joined = String::new();
                for block in v.elements() {
                    if let Some(t) = block.get("text").and_then(|t| t.as_str()) {
                        if !joined.is_empty() {
                            joined.push('\n');
                        }
                        joined.push_str(&t);
                    } else if block.kind() == Kind::String {
                        joined.push_str(&block.as_str().unwrap_or_default());
                    }
                }
                exposure::digest_result(&joined)
            }
            _ => exposure::digest_result(&String::from_utf8_lossy(v.raw())),
        };
        self.results.push(d);
        self.result_index.insert(key, self.results.len() - 1);
        self.results.len() - 1
    }

    /// A body: an object with `messages` (and `system`), a messages array, an OTLP
    /// span or log record, a string (text, or JSON inside a string), or unknown
    /// JSON whose strings are read as text.
    fn body(&mut self, v: Value<'_>, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        match v.kind() {
            Kind::String => {
                let mut scratch = std::mem::take(&mut self.unescaped);
                if let Some(inner) = v.decode_json(&mut scratch).filter(|i| i.kind() != Kind::String) {
                    self.body(inner, depth + 1);
                } else {
                    let i = self.text_digest(v);
                    self.pieces.push(Piece::Text(i));
                }
                self.unescaped = scratch;
            }
            Kind::Text => {
                let i = self.text_digest(v);
                self.pieces.push(Piece::Text(i));
            }
            Kind::Array => self.messages(v, depth),
            Kind::Object => {
                let messages = v.get("messages").or_else(|| v.get("input")).filter(|m| m.kind() == Kind::Array);
                if let Some(system) = v.get("system").or_else(|| v.get("instructions")) {
                    self.system(system);
                }
                if let Some(m) = messages {
                    self.messages(m, depth);
                } else if let Some(attrs) = v.get("attributes").filter(|a| a.kind() == Kind::Array) {
                    self.otel(v, attrs, depth);
                } else if v.get("role").is_some() {
                    self.message(v, depth);
                } else {
                    for (_, member) in v.members() {
                        if matches!(member.kind(), Kind::String | Kind::Object | Kind::Array) {
                            self.body(member, depth + 1);
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn system(&mut self, v: Value<'_>) {
        match v.kind() {
            Kind::String | Kind::Text => {
                let i = self.text_digest(v);
                self.pieces.push(Piece::System(i));
            }
            Kind::Array => {
                for block in v.elements() {
                    if let Some(t) = block.get("text").or_else(|| block.get("content")) {
                        let i = self.text_digest(t);
                        self.pieces.push(Piece::System(i));
                    } else if block.kind() == Kind::String {
                        let i = self.text_digest(block);
                        self.pieces.push(Piece::System(i));
                    }
                }
            }
            _ => {}
        }
    }

    fn messages(&mut self, arr: Value<'_>, depth: usize) {
        for m in arr.elements() {
            match m.kind() {
                Kind::Object => self.message(m, depth + 1),
                Kind::String => self.body(m, depth + 1),
                _ => {}
            }
        }
    }

    /// One message: role and content (string, blocks, or OTel parts), OpenAI
    /// `tool_calls`, a `role: tool` result.
    fn message(&mut self, m: Value<'_>, depth: usize) {
        let role = m.get("role").and_then(|r| r.as_str()).unwrap_or_default();
        let content = m.get("content").or_else(|| m.get("parts"));
        if role == "tool" || role == "function" {
            let id = text_of(m.get("tool_call_id").or_else(|| m.get("name")));
            if let Some(c) = content {
                let d = self.result_digest(c);
                self.pieces.push(Piece::Result { id, digest: d, error: false });
            }
            return;
        }
        if let Some(c) = content {
            match c.kind() {
                Kind::String => {
                    let i = self.text_digest(c);
                    self.pieces.push(if role == "system" { Piece::System(i) } else { Piece::Text(i) });
                }
                Kind::Array => {
                    for block in c.elements() {
                        self.block(block, role == "system", depth + 1);
                    }
                }
                _ => {}
            }
        }
        if let Some(calls) = m.get("tool_calls") {
            for call in calls.elements() {
                let id = text_of(call.get("id"));
                let f = call.get("function").unwrap_or(call);
                let name = text_of(f.get("name"));
                let args = f.get("arguments");
                let mut scratch = Vec::new();
                let decoded =
                    args.and_then(|a| if a.kind() == Kind::String { a.decode_json(&mut scratch) } else { Some(a) });
                let (path, command) = inputs(decoded);
                self.pieces.push(Piece::Call { id, name, path, command });
            }
        }
    }

    /// A content block: `text`, `tool_use`, `tool_result`, or the OTel GenAI parts
    /// `tool_call` and `tool_call_response`.
    fn block(&mut self, b: Value<'_>, system: bool, depth: usize) {
        if b.kind() == Kind::String {
            let i = self.text_digest(b);
            self.pieces.push(if system { Piece::System(i) } else { Piece::Text(i) });
            return;
        }
        let kind = b.get("type").and_then(|t| t.as_str()).unwrap_or_default();
        match kind.as_ref() {
            "tool_use" | "tool_call" | "function_call" => {
                let id = text_of(b.get("id").or_else(|| b.get("call_id")));
                let name = text_of(b.get("name"));
                let input = b.get("input").or_else(|| b.get("arguments"));
                let mut scratch = Vec::new();
                let decoded =
                    input.and_then(|a| if a.kind() == Kind::String { a.decode_json(&mut scratch) } else { Some(a) });
                let (path, command) = inputs(decoded);
                self.pieces.push(Piece::Call { id, name, path, command });
            }
            "tool_result" | "tool_call_response" | "function_call_output" => {
                let id = text_of(b.get("tool_use_id").or_else(|| b.get("id")).or_else(|| b.get("call_id")));
                let error = b.get("is_error").is_some_and(|e| e.raw() == b"true");
                if let Some(c) = b.get("content").or_else(|| b.get("response")).or_else(|| b.get("output")) {
                    let d = self.result_digest(c);
                    self.pieces.push(Piece::Result { id, digest: d, error });
                }
            }
            _ => {
                if let Some(t) = b.get("text").or_else(|| b.get("content")) {
                    if t.kind() == Kind::String {
                        let i = self.text_digest(t);
                        self.pieces.push(if system { Piece::System(i) } else { Piece::Text(i) });
                    } else {
                        self.body(t, depth + 1);
                    }
                }
            }
        }
    }

    /// An OTLP span or log record: GenAI message attributes hold JSON strings.
    fn otel(&mut self, item: Value<'_>, attrs: Value<'_>, depth: usize) {
        for kv in attrs.elements() {
            let key = kv.get("key").and_then(|k| k.as_str()).unwrap_or_default();
            let Some(value) = kv.get("value").and_then(|v| v.members().next().map(|(_, v)| v)) else { continue };
            match key.as_ref() {
                "gen_ai.system_instructions" => self.system(value),
                k if k.starts_with("gen_ai.input.messages")
                    || k.starts_with("gen_ai.output.messages")
                    || k.starts_with("gen_ai.prompt")
                    || k.starts_with("gen_ai.completion") =>
                {
                    self.body(value, depth + 1)
                }
                _ => {}
            }
        }
        if let Some(body) = item.get("body") {
            self.body(body, depth + 1);
        }
    }
}

fn text_of(v: Option<Value<'_>>) -> String {
    v.and_then(|v| v.as_str()).map(|s| s.into_owned()).unwrap_or_default()
}

/// The path (`file_path`, `path`, `filename`) and shell command of a tool input.
fn inputs(input: Option<Value<'_>>) -> (Option<String>, Option<String>) {
    let Some(input) = input.filter(|i| i.kind() == Kind::Object) else { return (None, None) };
    let path = input
        .get("file_path")
        .or_else(|| input.get("path"))
        .or_else(|| input.get("filename"))
        .and_then(|p| p.as_str())
        .map(|s| s.into_owned());
    let command = input.get("command").or_else(|| input.get("cmd")).and_then(|c| c.as_str()).map(|s| s.into_owned());
    (path, command)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(json: &str) -> exposure::Found {
        let v = Value::new(
            if json.starts_with('"') { Kind::String } else { Kind::Object },
            json.trim_matches('"').as_bytes(),
        );
        Walker::default().found(Some(v), None)
    }

    #[test]
    fn messages_style_reads() {
        let f = found(
            r#"{"system":"Working directory: /w/r","messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"Read","input":{"file_path":"/w/r/a.py"}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","content":"x = 1\n"}]}]}"#,
        );
        assert_eq!(f.cwd.as_deref(), Some("/w/r"));
        assert_eq!(f.files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), ["a.py"]);
    }

    #[test]
    fn openai_style_tool_calls_with_json_string_arguments() {
        let f = found(
            r#"{"messages":[{"role":"system","content":"Working directory: /w/r"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"read_file","arguments":"{\"path\":\"/w/r/src/b.go\"}"}}]},{"role":"tool","tool_call_id":"c1","content":"package b\n"}]}"#,
        );
        assert_eq!(f.files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), ["src/b.go"]);
    }

    #[test]
    fn a_body_logged_as_a_json_string() {
        let inner = r#"{"system":"Working directory: /w/r","messages":[{"role":"user","content":"// File: x/y.java\nclass Y {}\n"}]}"#;
        let escaped = serde_json::to_string(inner).unwrap();
        let f = found(&escaped);
        assert_eq!(f.files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), ["x/y.java"]);
    }
}
