//! Walking a record's payload into the conversation items the detector reads:
//! Messages-style bodies (`system` and `messages` with string or block content,
//! `tool_use`/`tool_result`), OpenAI-style `tool_calls` whose `arguments` is a JSON
//! string, OpenTelemetry GenAI parts and attributes, bodies logged as JSON inside a
//! string. Every string is digested once per worker and cached by its bytes:
//! agent loops resend the whole conversation in every request, so most strings of
//! a request were seen in an earlier one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, TryLockError};

use leakledger_detect::exposure::{self, Item, Lookouts, ResultDigest, TextDigest};
use leakledger_dump::{Cursor, Element, Kind, Value};
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed, xxh3_128};

use crate::partial::Seeded;
use crate::seen::SeenIndex;

/// How deep unknown JSON is searched for text.
const MAX_DEPTH: usize = 24;
/// Cached digests per walker (one per thread) before the cache is emptied.
/// Larger made 5M small distinct requests slower (tables of several MiB miss
/// the CPU cache on every insert); smaller walked re-sent histories again
/// (docs/benchmarks.md).
const CACHE_LIMIT: usize = 1 << 17;
/// The bytes of tool calls' strings a walker keeps before it empties its
/// caches ([`Calls`]): tens of thousands of calls' ids, names and paths.
const CALL_TEXT_LIMIT: usize = 16 << 20;

/// Empties a scratch buffer that one large string grew (a record may hold
/// hundreds of MiB), so that it is not kept for the rest of the pass on top of
/// what comes later; buffers of ordinary texts are kept and reused.
fn let_go_if_large(buf: &mut Vec<u8>) {
    if buf.capacity() > 16 << 20 {
        *buf = Vec::new();
    }
}

/// A walked item: indexes into the walker's arenas, so cached messages replay
/// their pieces without allocating.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Piece {
    System(usize),
    Text(usize),
    Call(usize),
    Result { id: usize, digest: usize, error: bool },
}

/// How many members of an unknown object are kept to walk after its other
/// members are read ([`Walker::object`]).
const MAX_OTHERS: usize = 1024;

/// Whether a member of an unknown object is walked for text: strings and
/// containers (numbers, booleans and null hold none).
fn walks_as_unknown(v: Value<'_>) -> bool {
    matches!(v.kind(), Kind::String | Kind::Object | Kind::Array)
}

/// A conversation as requests are linked by it: its messages' hashes chained
/// (each prefix's hash made from the one before) and the last
/// [`leakledger_chain::PREFIXES`] + 1 of those prefix hashes, newest first.
/// Fixed in size: a payload of millions of messages needs no more.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct History {
    /// `last[k]`: the chained hash of all messages but the last `k`.
    pub(crate) last: [u64; leakledger_chain::PREFIXES + 1],
    /// How many messages.
    pub(crate) len: u64,
}

impl History {
    fn push(&mut self, message: u64) {
        let running = xxh3_64_with_seed(&message.to_le_bytes(), self.last[0]);
        self.last.rotate_right(1);
        self.last[0] = running;
        self.len += 1;
    }
}

/// A message's members as the walker reads them, and its key.
#[derive(Debug, Default)]
struct Message<'a> {
    /// Equal for messages with equal members (keys and values, in order):
    /// what the message cache and the conversation history know it by.
    key: u128,
    role: Option<Value<'a>>,
    /// `content` (or OTel `parts`), with its [`Value::key`].
    content: Option<(Value<'a>, u128)>,
    call_id: Option<Value<'a>>,
    name: Option<Value<'a>>,
    calls: Option<Value<'a>>,
}

/// Reads the message object at `c` in one pass: each member is skipped
/// once, keyed as it is skipped ([`Cursor::value_keyed`]), and the message's
/// key is made of its members' (in `buf`). A message that was seen before is
/// known by its key without a second pass; one that was not is walked from
/// the members read here, its content's key ready for the text cache. `None`
/// when there is no object at `c`. A message that breaks gives the members
/// before the break, the cursor left broken.
fn read_message<'a>(c: &mut Cursor<'a>, buf: &mut Vec<u8>) -> Option<Message<'a>> {
    let mut m = Message::default();
    if !c.enter_object() {
        return None;
    }
    buf.clear();
    while let Some(k) = c.next_key() {
        let Some((v, key)) = c.value_keyed() else { break };
        // Length-prefixed, so that no two member lists give the same bytes.
        buf.extend_from_slice(&(k.len() as u64).to_le_bytes());
        buf.extend_from_slice(k);
        buf.push(v.kind() as u8);
        buf.extend_from_slice(&key.to_le_bytes());
        if buf.len() > 4096 {
            // Chained: a message of a million members costs no more memory
            // than one of a hundred.
            let chained = xxh3_128(buf);
            buf.clear();
            buf.extend_from_slice(&chained.to_le_bytes());
        }
        match k {
            b"role" => m.role = Some(v),
            b"content" | b"parts" if m.content.is_none() => m.content = Some((v, key)),
            b"tool_call_id" => m.call_id = Some(v),
            b"name" => m.name = Some(v),
            b"tool_calls" => m.calls = Some(v),
            _ => {}
        }
    }
    m.key = xxh3_128(buf);
    Some(m)
}

/// Tool calls' strings (id, name, path, and the gist of the command), one call
/// after another in one buffer. A call is where its strings start and their
/// lengths: with four `String`s a call, whole commands among them, the calls a
/// walker keeps were its largest cache (25 MB of the peak of a scan of the
/// 4.5 GiB dump, docs/benchmarks.md).
#[derive(Debug, Default)]
pub(crate) struct Calls {
    text: String,
    calls: Vec<Call>,
}

/// One call of [`Calls`]: its strings' start and lengths, `NONE` for a path
/// or command it lacks.
#[derive(Debug, Clone, Copy)]
struct Call {
    start: usize,
    lens: [u32; 4],
}

/// The length of a missing path or command.
const NONE: u32 = u32::MAX;

/// A tool call's strings, as [`Calls::push`] takes them.
#[derive(Debug, Default)]
struct CallText<'a> {
    id: Option<Value<'a>>,
    name: Option<Value<'a>>,
    path: Option<String>,
    command: Option<String>,
}

impl Calls {
    /// The bytes its strings take.
    fn text_len(&self) -> usize {
        self.text.len()
    }

    /// Forgets every call; a buffer one long command grew is let go.
    fn clear(&mut self) {
        if self.text.capacity() > 2 * CALL_TEXT_LIMIT {
            self.text = String::new();
        }
        self.text.clear();
        self.calls.clear();
    }

    /// Appends a call, returning its index. A string of 4 GiB or more keeps its
    /// first 4 GiB less a few bytes (a path or a command never is that long).
    fn push(&mut self, c: CallText<'_>) -> usize {
        let start = self.text.len();
        let mut lens = [0u32; 4];
        let (id, name) = (c.id.and_then(|v| v.as_str()), c.name.and_then(|v| v.as_str()));
        let command = c.command.as_deref().map(exposure::command_gist);
        let strings = [id.as_deref(), name.as_deref(), c.path.as_deref(), command];
        for (n, s) in strings.into_iter().enumerate() {
            let Some(s) = s else {
                lens[n] = if n < 2 { 0 } else { NONE };
                continue;
            };
            let mut end = s.len().min(NONE as usize - 1);
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            self.text.push_str(&s[..end]);
            lens[n] = end as u32;
        }
        self.calls.push(Call { start, lens });
        self.calls.len() - 1
    }

    /// Call `i`'s id, name, path and command (its gist, [`exposure::command_gist`]).
    fn get(&self, i: usize) -> (&str, &str, Option<&str>, Option<&str>) {
        let Call { mut start, lens } = self.calls[i];
        let mut part = |n: usize| {
            let len = if lens[n] == NONE { return None } else { lens[n] as usize };
            let s = self.text.get(start..start + len);
            start += len;
            s
        };
        let (id, name) = (part(0).unwrap_or_default(), part(1).unwrap_or_default());
        (id, name, part(2), part(3))
    }
}

/// Per-worker walker: digest caches and scratch buffers.
#[derive(Debug, Default)]
pub(crate) struct Walker {
    /// What to look out for besides exposure (identifiers, secrets).
    look: std::sync::Arc<Lookouts>,
    texts: Vec<TextDigest>,
    results: Vec<ResultDigest>,
    text_index: HashMap<u128, usize, Seeded>,
    result_index: HashMap<u128, usize, Seeded>,
    /// Whole messages seen before, by their bytes: the pieces they gave, as a
    /// range of `message_pieces`. A resent conversation is mostly such messages.
    message_index: SeenIndex,
    message_pieces: Vec<Piece>,
    /// Tool calls, and the ids tool results answer (as calls with only an id).
    calls: Calls,
    pieces: Vec<Piece>,
    unescaped: Vec<u8>,
    /// Where a message's key is made from its members' ([`read_message`]).
    message_key: Vec<u8>,
    /// Where the texts being digested are decoded, one after another.
    decoded: Vec<u8>,
    /// The payload's conversation, and the hash of its system prompt (0 for
    /// none): what links requests that carry no ids.
    history: History,
    system: u64,
    /// Walking the payload (not the response); `messages` is its first
    /// messages array still to come.
    in_payload: bool,
    messages_pending: bool,
}

/// Payload walkers, one per thread, shared by every [`crate::Partial`] of an
/// analysis made on that thread.
///
/// A parallel fold makes a partial for each piece of work it splits off (sixty
/// for a 1 GiB dump on two threads), and a walker's caches (the messages and
/// texts it has digested) pay off only if they outlive one piece: a session
/// re-sends its history in every request. With a walker per partial, two
/// threads walked 60% more message bytes than one (docs/benchmarks.md).
/// Caches change how fast a payload is walked, never what it yields.
#[derive(Debug)]
pub(crate) struct Walkers {
    look: Arc<Lookouts>,
    slots: Box<[Mutex<Option<Walker>>]>,
}

impl Default for Walkers {
    fn default() -> Self {
        Walkers::new(Arc::default())
    }
}

impl Walkers {
    /// Walkers looking out for `look`, made on first use.
    pub(crate) fn new(look: Arc<Lookouts>) -> Self {
        // Slots by pool thread index (threads past the last share it by
        // modulo and, if busy, fall back to the caller's own walker).
        Walkers { look, slots: (0..64).map(|_| Mutex::new(None)).collect() }
    }

    /// What the walkers look out for.
    pub(crate) fn lookouts(&self) -> &Lookouts {
        &self.look
    }

    /// Drops every thread's walker, caches and all (tens of MiB on a large
    /// dump): the pass is over, and the chains are built without them.
    pub(crate) fn release(&self) {
        for slot in &self.slots {
            *slot.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
        }
    }

    /// Runs `f` with this thread's walker; `own` (made on first use) when the
    /// thread is outside a pool or its slot is taken.
    pub(crate) fn with<R>(&self, own: &mut Option<Walker>, f: impl FnOnce(&mut Walker) -> R) -> R {
        let Some(i) = rayon::current_thread_index() else {
            return f(own.get_or_insert_with(|| Walker::new(self.look.clone())));
        };
        let slot = &self.slots[i % self.slots.len()];
        let mut held = match slot.try_lock() {
            Ok(held) => held,
            // A panic while walking (contained per source) may have left the
            // caches half-written: start that thread's walker afresh.
            Err(TryLockError::Poisoned(p)) => {
                let mut held = p.into_inner();
                *held = None;
                slot.clear_poison();
                held
            }
            Err(TryLockError::WouldBlock) => return f(own.get_or_insert_with(|| Walker::new(self.look.clone()))),
        };
        f(held.get_or_insert_with(|| Walker::new(self.look.clone())))
    }
}

impl Walker {
    /// A walker looking out for `look`.
    pub(crate) fn new(look: std::sync::Arc<Lookouts>) -> Self {
        Walker { look, ..Walker::default() }
    }

    /// Walks a payload (and a response, if any) and returns what it exposes.
    pub(crate) fn found(&mut self, payload: Option<Value<'_>>, response: Option<Value<'_>>) -> exposure::Found {
        // Counted in entries, and the calls' strings in bytes (a command may be
        // as long as a record).
        if self.texts.len() + self.results.len() + self.message_pieces.len() > CACHE_LIMIT
            || self.calls.text_len() > CALL_TEXT_LIMIT
        {
            self.texts.clear();
            self.results.clear();
            self.text_index.clear();
            self.result_index.clear();
            self.message_index.clear();
            self.message_pieces.clear();
            self.calls.clear();
        }
        self.pieces.clear();
        self.history = History::default();
        self.system = 0;
        if let Some(v) = payload {
            (self.in_payload, self.messages_pending) = (true, true);
            self.body(v, 0);
            (self.in_payload, self.messages_pending) = (false, false);
        }
        if let Some(v) = response {
            self.body(v, 0);
        }
        let items: Vec<Item<'_>> = self
            .pieces
            .iter()
            .map(|p| match p {
                Piece::System(i) => Item::System(&self.texts[*i]),
                Piece::Text(i) => Item::Text(&self.texts[*i]),
                Piece::Call(i) => {
                    let (id, name, path, command) = self.calls.get(*i);
                    Item::ToolCall { id, name, path, command }
                }
                Piece::Result { id, digest, error } => {
                    Item::ToolResult { id: self.calls.get(*id).0, digest: &self.results[*digest], error: *error }
                }
            })
            .collect();
        exposure::assemble(&items)
    }

    /// The last payload's conversation, and its system prompt's hash (0 for
    /// none).
    pub(crate) fn history(&self) -> (History, u64) {
        (self.history, self.system)
    }

    fn call(&mut self, c: CallText<'_>) -> usize {
        self.calls.push(c)
    }

    /// The secrets and identifiers in a tool input's strings, when it has any
    /// (cached like texts, under a key of its own).
    fn input_digest(&mut self, input: Option<Value<'_>>) -> Option<usize> {
        let input = input?;
        let key = xxh3_128(input.raw()) ^ 2;
        let i = match self.text_index.get(&key) {
            Some(&i) => i,
            None => {
                let d = exposure::digest_input(&input_strings(input), &self.look);
                self.texts.push(d);
                self.text_index.insert(key, self.texts.len() - 1);
                self.texts.len() - 1
            }
        };
        let d = &self.texts[i];
        (!d.secrets.is_empty() || !d.identifiers.is_empty()).then_some(i)
    }

    /// Adds text `i` to the payload's pieces, unless it holds nothing the
    /// assembly reads: a body of a million small strings then costs no
    /// memory per string.
    fn push_text(&mut self, i: usize, system: bool) {
        if !self.texts[i].is_empty() {
            self.pieces.push(if system { Piece::System(i) } else { Piece::Text(i) });
        }
    }

    /// The digest of a text, `key` its [`Value::key`] when the caller has it
    /// (else it is taken here).
    fn text_digest(&mut self, v: Value<'_>, key: Option<u128>) -> usize {
        let key = key.unwrap_or_else(|| v.key()) ^ u128::from(v.kind() == Kind::String);
        if let Some(&i) = self.text_index.get(&key) {
            return i;
        }
        let d = match v.as_str_in(&mut self.decoded) {
            Some(s) => exposure::digest_text(&s, &self.look),
            None => TextDigest::default(),
        };
        let_go_if_large(&mut self.decoded);
        self.texts.push(d);
        self.text_index.insert(key, self.texts.len() - 1);
        self.texts.len() - 1
    }

    /// The digest of a tool result, `key` its [`Value::key`] when the caller
    /// has it (else it is taken here).
    fn result_digest(&mut self, v: Value<'_>, key: Option<u128>) -> usize {
        let key = key.unwrap_or_else(|| v.key()) ^ (u128::from(v.kind() == Kind::String) << 1);
        if let Some(&i) = self.result_index.get(&key) {
            return i;
        }
        let d = match v.kind() {
            Kind::String | Kind::Text => {
                exposure::digest_result(&v.as_str_in(&mut self.decoded).unwrap_or_default(), &self.look)
            }
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
                exposure::digest_result(&joined, &self.look)
            }
            _ => exposure::digest_result(&leakledger_dump::lossy(v.raw()), &self.look),
        };
        let_go_if_large(&mut self.decoded);
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
                    let i = self.text_digest(v, None);
                    self.push_text(i, false);
                }
                let_go_if_large(&mut scratch);
                self.unescaped = scratch;
            }
            Kind::Text => {
                let i = self.text_digest(v, None);
                self.push_text(i, false);
            }
            Kind::Array => self.messages(v, depth),
            Kind::Object => self.object(v, depth),
            _ => {}
        }
    }

    /// An object: a body (`messages`, `system`), a message (`role`), an OTLP span
    /// or log record (`attributes`), or unknown JSON. One pass over its members:
    /// the messages array is walked where it stands, never skipped first.
    fn object(&mut self, v: Value<'_>, depth: usize) {
        let mut c = Cursor::over(v);
        if !c.enter_object() {
            return;
        }
        let (mut structured, mut role, mut attributes, mut otel_body) = (false, false, false, None);
        // Members to walk as unknown JSON, kept up to a bound: past it (a
        // hostile object of millions), they are found again by a second pass.
        let (mut others, mut more) = (Vec::new(), false);
        while let Some(k) = c.next_key() {
            match k {
                b"messages" | b"input" if !structured && c.peek() == Some(b'[') => {
                    structured = true;
                    self.messages_at(&mut c, depth);
                }
                b"system" | b"instructions" => {
                    if let Some(sys) = c.value() {
                        if self.in_payload && self.system == 0 {
                            self.system = xxh3_64(sys.raw()) | 1;
                        }
                        self.system(sys);
                    }
                }
                b"attributes" if !structured && c.peek() == Some(b'[') => {
                    // Walked where it stands, like `messages`: an OTLP span's
                    // attributes hold nearly all of its bytes.
                    attributes = true;
                    self.otel(&mut c, depth);
                }
                b"role" => {
                    role = true;
                    c.value();
                }
                b"body" => otel_body = c.value(),
                _ => match c.value() {
                    Some(m) if !walks_as_unknown(m) => {}
                    Some(_) if others.len() == MAX_OTHERS => more = true,
                    Some(m) => others.push(m),
                    None => break,
                },
            }
        }
        if structured {
            return;
        }
        if attributes {
            if let Some(body) = otel_body {
                self.body(body, depth + 1);
            }
        } else if role {
            if let Some(m) = read_message(&mut Cursor::over(v), &mut self.message_key) {
                self.message(m, depth);
            }
        } else {
            if more {
                // The same members in the same order, read from the object:
                // all but those the loop above walks apart (`system`,
                // `instructions`, and `body`, walked last).
                for (k, m) in v.members() {
                    if !matches!(k, b"system" | b"instructions" | b"body") && walks_as_unknown(m) {
                        self.body(m, depth + 1);
                    }
                }
            } else {
                for member in others {
                    self.body(member, depth + 1);
                }
            }
            if let Some(body) = otel_body.filter(|b| walks_as_unknown(*b)) {
                self.body(body, depth + 1);
            }
        }
    }

    fn system(&mut self, v: Value<'_>) {
        match v.kind() {
            Kind::String | Kind::Text => {
                let i = self.text_digest(v, None);
                self.push_text(i, true);
            }
            Kind::Array => {
                for block in v.elements() {
                    if let Some(t) = block.get_each(["text", "content"]).and_then(|[t, c]| t.or(c)) {
                        let i = self.text_digest(t, None);
                        self.push_text(i, true);
                    } else if block.kind() == Kind::String {
                        let i = self.text_digest(block, None);
                        self.push_text(i, true);
                    }
                }
            }
            _ => {}
        }
    }

    fn messages(&mut self, arr: Value<'_>, depth: usize) {
        let mut c = Cursor::over(arr);
        self.messages_at(&mut c, depth);
    }

    /// The messages of an array at the cursor. A message seen before (by its
    /// bytes) gives its cached pieces without being walked again.
    ///
    /// Each message is looked up once the next one is read: its line of the
    /// index is fetched meanwhile ([`SeenIndex::prefetch`]).
    fn messages_at<'a>(&mut self, c: &mut Cursor<'a>, depth: usize) {
        let record = std::mem::take(&mut self.messages_pending);
        let mut held: Option<Message<'a>> = None;
        // A message that breaks but whose brackets balance costs what follows
        // its break, not the messages after it (`each_element`).
        c.each_element(|e| {
            let m = match e {
                Element::At(c) => {
                    if c.peek() != Some(b'{') {
                        self.seen_held(&mut held, record, depth);
                        let Some(m) = c.value() else { return };
                        if record {
                            self.history.push(xxh3_64(m.raw()));
                        }
                        if m.kind() == Kind::String {
                            self.body(m, depth + 1);
                        }
                        return;
                    }
                    // Read once: its key and, for a message not seen before,
                    // what the walk needs. A broken one comes back below.
                    match read_message(c, &mut self.message_key) {
                        Some(m) if !c.broken() => m,
                        _ => return,
                    }
                }
                // A message's members up to the break, known by all its bytes.
                Element::Broken(raw) => {
                    let v = Value::new(Kind::Object, raw);
                    match read_message(&mut Cursor::over(v), &mut self.message_key) {
                        Some(m) => Message { key: v.key(), ..m },
                        None => {
                            self.seen_held(&mut held, record, depth);
                            if record {
                                self.history.push(xxh3_64(raw));
                            }
                            return;
                        }
                    }
                }
            };
            self.message_index.prefetch(m.key);
            if let Some(h) = held.replace(m) {
                self.message_seen(h, record, depth);
            }
        });
        self.seen_held(&mut held, record, depth);
    }

    /// The message held back for its lookup, if any ([`Walker::messages_at`]),
    /// before what follows it.
    fn seen_held(&mut self, held: &mut Option<Message<'_>>, record: bool, depth: usize) {
        if let Some(h) = held.take() {
            self.message_seen(h, record, depth);
        }
    }

    /// A message of the payload's conversation (`record`) or not: its pieces
    /// from the cache when its key was seen, else walked and cached.
    fn message_seen(&mut self, m: Message<'_>, record: bool, depth: usize) {
        let key = m.key;
        if record {
            self.history.push(key as u64);
        }
        if let Some((start, len)) = self.message_index.get(key) {
            self.pieces.extend_from_slice(&self.message_pieces[start..start + len]);
            return;
        }
        let before = self.pieces.len();
        self.message(m, depth + 1);
        let start = self.message_pieces.len();
        self.message_pieces.extend_from_slice(&self.pieces[before..]);
        self.message_index.insert(key, start, self.pieces.len() - before);
    }

    /// One message: role and content (string, blocks, or OTel parts), OpenAI
    /// `tool_calls`, a `role: tool` result.
    fn message(&mut self, m: Message<'_>, depth: usize) {
        let Message { role, content, call_id, name, calls, .. } = m;
        let role = role.map(|r| r.raw()).unwrap_or_default();
        if role == b"tool" || role == b"function" {
            if let Some((c, key)) = content {
                let d = self.result_digest(c, Some(key));
                let id = self.call(CallText { id: call_id.or(name), ..CallText::default() });
                self.pieces.push(Piece::Result { id, digest: d, error: false });
            }
            return;
        }
        let system = role == b"system";
        if let Some((c, key)) = content {
            match c.kind() {
                Kind::String => {
                    let i = self.text_digest(c, Some(key));
                    self.push_text(i, system);
                }
                Kind::Array => {
                    for block in c.elements() {
                        self.block(block, system, depth + 1);
                    }
                }
                _ => {}
            }
        }
        if let Some(calls) = calls {
            for call in calls.elements() {
                let (mut id, mut f) = (None, call);
                for (k, v) in call.members() {
                    match k {
                        b"id" => id = Some(v),
                        b"function" => f = v,
                        _ => {}
                    }
                }
                let (mut name, mut args) = (None, None);
                for (k, v) in f.members() {
                    match k {
                        b"name" => name = Some(v),
                        b"arguments" => args = Some(v),
                        _ => {}
                    }
                }
                let (path, command) = tool_inputs(args);
                let call = self.call(CallText { id, name, path, command });
                self.pieces.push(Piece::Call(call));
                if let Some(d) = self.input_digest(args) {
                    self.pieces.push(Piece::Text(d));
                }
            }
        }
    }

    /// A content block: `text`, `tool_use`, `tool_result`, or the OTel GenAI parts
    /// `tool_call` and `tool_call_response`.
    fn block(&mut self, b: Value<'_>, system: bool, depth: usize) {
        if b.kind() == Kind::String {
            let i = self.text_digest(b, None);
            self.push_text(i, system);
            return;
        }
        let (mut kind, mut id, mut name, mut input, mut result_of, mut error, mut text, mut content) =
            (&b""[..], None, None, None, None, false, None, None);
        // Texts and results keyed by the pass that skips them.
        let mut c = Cursor::over(b);
        if b.kind() == Kind::Object && c.enter_object() {
            while let Some(k) = c.next_key() {
                let Some((v, key)) = c.value_keyed() else { break };
                match k {
                    b"type" => kind = v.raw(),
                    b"id" | b"call_id" if id.is_none() => id = Some(v),
                    b"name" => name = Some(v),
                    b"input" | b"arguments" => input = Some(v),
                    b"tool_use_id" => result_of = Some(v),
                    b"is_error" => error = v.raw() == b"true",
                    b"text" => text = Some((v, key)),
                    b"content" | b"response" | b"output" if content.is_none() => content = Some((v, key)),
                    _ => {}
                }
            }
        }
        match kind {
            b"tool_use" | b"tool_call" | b"function_call" => {
                let (path, command) = tool_inputs(input);
                let call = self.call(CallText { id, name, path, command });
                self.pieces.push(Piece::Call(call));
                if let Some(d) = self.input_digest(input) {
                    self.pieces.push(Piece::Text(d));
                }
            }
            b"tool_result" | b"tool_call_response" | b"function_call_output" => {
                if let Some((c, key)) = content {
                    let d = self.result_digest(c, Some(key));
                    let id = self.call(CallText { id: result_of.or(id), ..CallText::default() });
                    self.pieces.push(Piece::Result { id, digest: d, error });
                }
            }
            _ => {
                if let Some((t, key)) = text.or(content) {
                    if t.kind() == Kind::String {
                        let i = self.text_digest(t, Some(key));
                        self.push_text(i, system);
                    } else {
                        self.body(t, depth + 1);
                    }
                }
            }
        }
    }

    /// An OTLP span's or log record's attributes, the cursor at their array:
    /// GenAI message attributes hold JSON strings.
    fn otel(&mut self, c: &mut Cursor<'_>, depth: usize) {
        // A broken attribute is passed over, not the rest of the object.
        c.each_element(|e| {
            let Element::At(c) = e else { return };
            let Some((key, Some(value))) = leakledger_dump::otlp_attribute(c) else { return };
            let key = key.as_str().unwrap_or_default();
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
        });
    }
}

/// Every string in a tool input (an object, or a JSON string holding one as
/// OpenAI's `arguments` are), unescaped, one per line; to a depth of 16.
fn input_strings(input: Value<'_>) -> String {
    let mut scratch = Vec::new();
    let input = if input.kind() == Kind::String { input.decode_json(&mut scratch).unwrap_or(input) } else { input };
    let mut out = String::new();
    let mut stack = vec![(input, 0u8)];
    while let Some((v, depth)) = stack.pop() {
        match v.kind() {
            Kind::String => {
                if let Some(s) = v.as_str() {
                    out.push_str(&s);
                    out.push('\n');
                }
            }
            Kind::Object if depth < 16 => stack.extend(v.members().map(|(_, m)| (m, depth + 1))),
            Kind::Array if depth < 16 => stack.extend(v.elements().map(|e| (e, depth + 1))),
            _ => {}
        }
    }
    out
}

/// The path (`file_path`, `path`, `filename`) and shell command of a tool input,
/// an object or a JSON string holding one (OpenAI `arguments`).
fn tool_inputs(input: Option<Value<'_>>) -> (Option<String>, Option<String>) {
    let mut scratch = Vec::new();
    let input = input.and_then(|a| if a.kind() == Kind::String { a.decode_json(&mut scratch) } else { Some(a) });
    let Some(input) = input.filter(|i| i.kind() == Kind::Object) else { return (None, None) };
    let (mut path, mut command) = (None, None);
    for (k, v) in input.members() {
        match k {
            b"file_path" | b"path" | b"filename" if path.is_none() => path = v.as_str().map(|s| s.into_owned()),
            b"command" | b"cmd" if command.is_none() => command = v.as_str().map(|s| s.into_owned()),
            _ => {}
        }
    }
    (path, command)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A walker that has digested one text (a non-empty cache).
    fn digest_one(w: &mut Walker) -> usize {
        w.found(Some(Value::new(Kind::String, b"some text")), None);
        w.texts.len()
    }

    #[test]
    fn a_thread_keeps_its_walker_across_partials_and_recovers_from_a_panic() {
        let walkers = Walkers::default();
        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        pool.install(|| {
            let (mut a, mut b) = (None, None);
            walkers.with(&mut a, digest_one);
            // Another partial on the same thread finds the cache filled.
            assert_eq!(walkers.with(&mut b, |w| w.texts.len()), 1);
            assert!(a.is_none() && b.is_none(), "the thread's walker, not their own");
            // Busy (re-entered): the caller's own walker.
            walkers.with(&mut a, |_| walkers.with(&mut b, digest_one));
            assert_eq!(b.as_ref().map(|w| w.texts.len()), Some(1));
            // A panic while walking: the next walk starts from empty caches.
            let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                walkers.with(&mut a, |_| panic!("a bug while walking"))
            }));
            assert!(panicked.is_err());
            assert_eq!(walkers.with(&mut a, |w| w.texts.len()), 0);
        });
        // Outside any pool: the caller's own walker.
        let mut own = None;
        walkers.with(&mut own, digest_one);
        assert!(own.is_some());
    }

    #[test]
    fn released_walkers_start_again_from_empty_caches() {
        let walkers = Walkers::default();
        let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        pool.install(|| {
            let mut own = None;
            walkers.with(&mut own, digest_one);
            walkers.release();
            assert_eq!(walkers.with(&mut own, |w| w.texts.len()), 0);
        });
    }

    #[test]
    fn calls_give_back_their_strings_and_which_are_missing() {
        let mut calls = Calls::default();
        let s = |t: &'static str| Some(Value::new(Kind::String, t.as_bytes()));
        let a = calls.push(CallText { id: s("t1"), name: s("Read"), path: Some("src/é.rs".into()), command: None });
        let b = calls.push(CallText { id: s(r"té2"), ..CallText::default() });
        let c = calls.push(CallText {
            name: s("Bash"),
            path: Some(String::new()),
            command: Some("ls".into()),
            ..CallText::default()
        });
        assert_eq!(calls.get(a), ("t1", "Read", Some("src/é.rs"), None));
        assert_eq!(calls.get(b), ("té2", "", None, None), "unescaped, and no path is not an empty one");
        assert_eq!(calls.get(c), ("", "Bash", Some(""), Some("")), "a command is kept as what is read of it");
        let r = calls.push(CallText { command: Some("cd /w && git remote -v | head".into()), ..CallText::default() });
        assert_eq!(calls.get(r).3, Some("git remote"));
        calls.clear();
        let d = calls.push(CallText::default());
        assert_eq!((d, calls.get(d)), (0, ("", "", None, None)));
    }

    fn found(json: &str) -> exposure::Found {
        let v = Value::new(
            if json.starts_with('"') { Kind::String } else { Kind::Object },
            json.trim_matches('"').as_bytes(),
        );
        Walker::default().found(Some(v), None)
    }

    #[test]
    fn a_broken_otel_attribute_costs_only_itself() {
        // The first attribute's value is not JSON; the GenAI messages after it,
        // and the span's body, are still read.
        let f = found(
            r#"{"attributes":[{"key":"a","value":{"x":bad}},{"key":"gen_ai.input.messages","value":{"stringValue":"[{\"role\":\"user\",\"content\":\"// File: src/a.py\\nx = 1\\n\"}]"}}],"body":{"stringValue":"// File: src/b.py\nprint(1)\n"}}"#,
        );
        assert_eq!(f.files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), ["src/a.py", "src/b.py"]);
    }

    #[test]
    fn unknown_objects_of_many_members_are_read_whole_in_order() {
        // Past the members kept for the walk, a second pass finds them all:
        // the files shown in the first and the last of 3,000, in order, and
        // the `body` member's after them.
        let mut json = String::from(r#"{"k0":"// File: a.py\nx = 1\n""#);
        for i in 1..2999 {
            json.push_str(&format!(r#","k{i}":"text {i}","n{i}":{i}"#));
        }
        json.push_str(r#","body":"// File: c.py\nz = 3\n","k2999":"// File: b.py\ny = 2\n"}"#);
        let f = found(&json);
        assert_eq!(f.files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), ["a.py", "b.py", "c.py"]);
    }

    #[test]
    fn a_broken_message_costs_only_what_follows_its_break() {
        // The second message breaks after its content (a backslash outside a
        // string) but its brackets balance: what it held before the break is
        // read, and so are the messages after it, whether walked or cached.
        let json = r#"{"messages":[{"role":"user","content":"// File: a.py\nx = 1\n"},{"role":"user","content":"// File: b.py\ny = 2\n",\"k":1},{"role":"user","content":"// File: c.py\nz = 3\n"}]}"#;
        let mut w = Walker::default();
        for _ in 0..2 {
            let f = w.found(Some(Value::new(Kind::Object, json.as_bytes())), None);
            assert_eq!(f.files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), ["a.py", "b.py", "c.py"]);
            assert_eq!(w.history().0.len, 3);
        }
    }

    #[test]
    fn messages_keep_their_order_around_elements_that_are_not_objects() {
        // Each object message is looked up once the next element is read: a
        // string between two of them still comes out in its place, walked or
        // cached.
        let json = r#"{"messages":[{"role":"user","content":"// File: a.py\nx = 1\n"},"// File: b.py\ny = 2\n",{"role":"user","content":"// File: c.py\nz = 3\n"},7,{"role":"user","content":"// File: d.py\nw = 4\n"}]}"#;
        let mut w = Walker::default();
        let mut histories = Vec::new();
        for _ in 0..2 {
            let f = w.found(Some(Value::new(Kind::Object, json.as_bytes())), None);
            assert_eq!(f.files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), ["a.py", "b.py", "c.py", "d.py"]);
            histories.push(w.history().0.last);
            assert_eq!(w.history().0.len, 5);
        }
        assert_eq!(histories[0], histories[1]);
    }

    #[test]
    fn a_system_prompt_of_blocks_is_read_by_text_or_content() {
        // Claude Code sends its system prompt as blocks: `text` (or `content`)
        // in each; the working directory stated there normalises the paths.
        let f = found(
            r#"{"system":[{"type":"text","text":"You are a coding agent."},{"type":"text","content":"Working directory: /w/r"},{"broken" 1}],"messages":[{"role":"user","content":"// File: /w/r/src/a.py\nx = 1\n"}]}"#,
        );
        assert_eq!(f.cwd.as_deref(), Some("/w/r"));
        assert_eq!(f.files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), ["src/a.py"]);
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

    #[test]
    fn secrets_and_identifiers_in_tool_inputs_are_found_but_show_no_file() {
        let look = Lookouts {
            identifiers: leakledger_detect::identifiers::Identifiers::new(&["com.mycorp."]),
            secrets: Some(
                leakledger_detect::secrets::Scanner::new(leakledger_detect::secrets::BUILTIN, [7; 32]).unwrap(),
            ),
            ..Lookouts::default()
        };
        let mut w = Walker::new(std::sync::Arc::new(look));
        // A shell command with a token, and a Write whose content holds an AWS key
        // id and an internal package (OpenAI-style arguments: JSON in a string).
        let body = r#"{"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"Bash","input":{"command":"curl -H 'Authorization: token ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfa000000' https://api.github.com/user"}}]},{"role":"assistant","content":null,"tool_calls":[{"id":"c2","type":"function","function":{"name":"write_file","arguments":"{\"path\":\"/w/r/cfg.py\",\"content\":\"import com.mycorp.billing\\nKEY = 'AKIAFAKEFAKEFAKE2345'\\n\"}"}}]}]}"#;
        let f = w.found(Some(Value::new(Kind::Object, body.as_bytes())), None);
        let mut kinds: Vec<&str> = f.secrets.iter().map(|s| s.kind).collect();
        kinds.sort_unstable();
        assert_eq!(kinds, ["aws-access-key-id", "github-pat"]);
        assert_eq!(f.identifiers, ["com.mycorp.billing"]);
        assert!(f.files.is_empty(), "what the assistant writes is not a file read: {:?}", f.files);
        // The same inputs again (an agent loop resends them): found again, from the cache.
        let again = w.found(Some(Value::new(Kind::Object, body.as_bytes())), None);
        assert_eq!(again.secrets.len(), 2);
    }
}
