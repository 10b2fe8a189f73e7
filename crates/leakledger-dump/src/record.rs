//! The canonical record (design.md §3) and the alias table that fills it.

use crate::format::Format;
use crate::json::{self, Kind, Value};
use crate::source::SourceId;
use crate::time::{self, Micros};

/// Where a record or a problem stands in the dump. Compact (24 bytes) so that
/// callers can keep many; [`crate::Scan::line`] turns it into a line number
/// after the pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    /// The source (file) it came from.
    pub source: SourceId,
    /// Zero-based line within the chunk of the source that held it (the chunk is
    /// found again from the offset; see [`crate::Scan::line`]). Kept here rather
    /// than an absolute line because chunks are parsed in parallel.
    pub(crate) line_in_chunk: u32,
    /// Byte offset of the record's first byte in the source's (decompressed) bytes.
    pub offset: u64,
}

// 16 bytes: every request, file and secret carries one.
const _: () = assert!(std::mem::size_of::<Location>() == 16);

impl Location {
    pub(crate) fn new(source: SourceId, offset: u64, line_in_chunk: u32) -> Self {
        Self { source, line_in_chunk, offset }
    }
}

/// One log record, borrowing the dump's bytes (or, for a record that was itself
/// logged inside a JSON string, a scratch buffer that lives for the visit).
///
/// Fields are found by alias (design.md §3, docs/formats.md); each is the value as
/// logged, decoded only when asked.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Record<'a> {
    /// Where the record starts.
    pub location: Location,
    /// The format it was parsed as.
    pub format: Format,
    /// Event time, UTC microseconds.
    pub ts: Option<Micros>,
    /// The request's own id.
    pub request_id: Option<Value<'a>>,
    /// Trace, session or conversation id.
    pub trace_id: Option<Value<'a>>,
    /// Span id.
    pub span_id: Option<Value<'a>>,
    /// Parent request or span id.
    pub parent_id: Option<Value<'a>>,
    /// Organisation, tenant or team.
    pub org: Option<Value<'a>>,
    /// User or actor.
    pub user: Option<Value<'a>>,
    /// Repository named by the record itself.
    pub repository: Option<Value<'a>>,
    /// API endpoint or route.
    pub endpoint: Option<Value<'a>>,
    /// Model name.
    pub model: Option<Value<'a>>,
    /// Status (HTTP code or text).
    pub status: Option<Value<'a>>,
    /// The request body: a JSON value, a string that may hold JSON, or text.
    pub payload: Option<Value<'a>>,
    /// A logged response body, scanned like the payload.
    pub response: Option<Value<'a>>,
    /// [`content_key`](crate::json::content_key) of `payload`, when the parser
    /// took it in the pass that skipped the payload (an object or array member
    /// of the record's own object): a consumer keying records by their payload
    /// need not read it again.
    pub payload_key: Option<u128>,
    /// The same for `response`.
    pub response_key: Option<u128>,
    /// The log stream inside the source, where the container names one (CloudWatch
    /// log stream, GCP log name).
    pub stream: Option<Value<'a>>,
    /// The whole record as it stands in the source (or in the scratch buffer).
    pub raw: &'a [u8],
}

impl<'a> Record<'a> {
    pub(crate) fn empty(location: Location, format: Format, raw: &'a [u8]) -> Self {
        Self {
            location,
            format,
            ts: None,
            request_id: None,
            trace_id: None,
            span_id: None,
            parent_id: None,
            org: None,
            user: None,
            repository: None,
            endpoint: None,
            model: None,
            status: None,
            payload: None,
            response: None,
            payload_key: None,
            response_key: None,
            stream: None,
            raw,
        }
    }
}

/// The canonical fields that aliases map to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Field {
    Ts,
    RequestId,
    TraceId,
    SpanId,
    ParentId,
    Org,
    User,
    Repository,
    Endpoint,
    Model,
    Status,
    Payload,
    Response,
    Stream,
}

const FIELDS: usize = 14;

impl Field {
    /// Payload-like fields take any value; identifiers take scalars only.
    fn accepts(self, kind: Kind) -> bool {
        match self {
            Field::Payload | Field::Response => kind != Kind::Null,
            _ => matches!(kind, Kind::String | Kind::Number | Kind::Text),
        }
    }
}

/// The alias table: a key path (dotted for nested objects, or a flat key that has
/// a dot in its name) to its field and priority (lower wins). Kept in one place so
/// docs/formats.md can list it; a test checks every alias resolves.
pub(crate) fn alias(path: &[u8]) -> Option<(Field, u8)> {
    use Field::*;
    Some(match path {
        b"timestamp" => (Ts, 0),
        b"ts" => (Ts, 1),
        b"time" => (Ts, 2),
        b"@timestamp" => (Ts, 3),
        b"datetime" => (Ts, 4),
        b"created_at" => (Ts, 5),
        b"startTime" => (Ts, 6),
        b"start_time" => (Ts, 7),
        b"eventTime" => (Ts, 8),
        b"timeUnixNano" => (Ts, 9),
        b"startTimeUnixNano" => (Ts, 10),
        b"receiveTimestamp" => (Ts, 11),

        b"request_id" => (RequestId, 0),
        b"requestId" => (RequestId, 1),
        b"req_id" => (RequestId, 2),
        b"x_request_id" => (RequestId, 3),
        b"http.request.id" => (RequestId, 4),
        b"litellm_call_id" => (RequestId, 5),
        b"call_id" => (RequestId, 6),
        b"insertId" => (RequestId, 7),
        b"eventID" => (RequestId, 8),
        b"id" => (RequestId, 9),

        b"trace_id" => (TraceId, 0),
        b"traceId" => (TraceId, 1),
        b"trace.id" => (TraceId, 2),
        b"session_id" => (TraceId, 3),
        b"sessionId" => (TraceId, 4),
        b"session.id" => (TraceId, 5),
        b"conversation_id" => (TraceId, 6),
        b"gen_ai.conversation.id" => (TraceId, 7),
        b"Helicone-Session-Id" => (TraceId, 8),

        b"span_id" => (SpanId, 0),
        b"spanId" => (SpanId, 1),
        b"span.id" => (SpanId, 2),

        b"parent_id" => (ParentId, 0),
        b"parent_request_id" => (ParentId, 1),
        b"parent_span_id" => (ParentId, 2),
        b"parentSpanId" => (ParentId, 3),
        b"parent.id" => (ParentId, 4),
        b"previous_response_id" => (ParentId, 5),
        b"parent_observation_id" => (ParentId, 6),

        b"org" => (Org, 0),
        b"org_id" => (Org, 1),
        b"organization" => (Org, 2),
        b"organization_id" => (Org, 3),
        b"tenant" => (Org, 4),
        b"tenant_id" => (Org, 5),
        b"customer_id" => (Org, 6),
        b"labels.org" => (Org, 7),
        b"team_id" => (Org, 8),
        b"metadata.user_api_key_team_alias" => (Org, 9),
        b"project_id" => (Org, 10),
        b"org.id" => (Org, 12),
        b"organization.id" => (Org, 13),
        b"tenant.id" => (Org, 14),
        b"resource.labels.project_id" => (Org, 11),

        b"user" => (User, 0),
        b"user_id" => (User, 1),
        b"user.id" => (User, 2),
        b"actor" => (User, 3),
        b"metadata.user_api_key_user_id" => (User, 4),

        b"repo" => (Repository, 0),
        b"repository" => (Repository, 1),
        b"git.remote" => (Repository, 2),
        b"workspace.repository" => (Repository, 3),

        b"endpoint" => (Endpoint, 0),
        b"route" => (Endpoint, 1),
        b"http.route" => (Endpoint, 2),
        b"http.target" => (Endpoint, 3),
        b"url.path" => (Endpoint, 4),
        b"api_base" => (Endpoint, 5),

        b"model" => (Model, 0),
        b"model_name" => (Model, 1),
        b"gen_ai.request.model" => (Model, 2),
        b"model_id" => (Model, 3),

        b"status" => (Status, 0),
        b"status_code" => (Status, 1),
        b"statusCode" => (Status, 2),
        b"http.status_code" => (Status, 3),
        b"http.response.status_code" => (Status, 4),

        b"body" => (Payload, 0),
        b"payload" => (Payload, 1),
        b"request" => (Payload, 2),
        b"request_body" => (Payload, 3),
        b"message" => (Payload, 4),
        b"jsonPayload" => (Payload, 5),
        b"textPayload" => (Payload, 6),
        b"protoPayload" => (Payload, 7),
        b"messages" => (Payload, 8),

        b"response" => (Response, 0),
        b"response_body" => (Response, 1),

        b"logStream" => (Stream, 0),
        b"logName" => (Stream, 1),
        _ => return None,
    })
}

/// True when some alias continues below `path` (so an object there is worth
/// entering).
fn alias_prefix(path: &[u8]) -> bool {
    matches!(
        path,
        b"http"
            | b"http.request"
            | b"http.response"
            | b"trace"
            | b"span"
            | b"parent"
            | b"labels"
            | b"user"
            | b"git"
            | b"workspace"
            | b"gen_ai"
            | b"gen_ai.conversation"
            | b"gen_ai.request"
            | b"metadata"
            | b"session"
            | b"url"
            | b"resource"
            | b"resource.labels"
            | b"org"
            | b"organization"
            | b"tenant"
    )
}

/// How deep object descent goes looking for dotted aliases.
const MAX_DESCENT: usize = 3;

/// The best value found so far for each field, by alias priority.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Fields<'a> {
    /// Per field: the priority of the alias it came by, the value, and the
    /// value's content key when its scan took one.
    slots: [Option<(u8, Value<'a>, Option<u128>)>; FIELDS],
}

impl<'a> Fields<'a> {
    /// Offers `value` for `field` at `priority`; kept if better than what is there.
    pub(crate) fn offer(&mut self, field: Field, priority: u8, value: Value<'a>) {
        self.offer_keyed(field, priority, value, None);
    }

    /// [`Fields::offer`] with the value's content key, when its scan took one.
    fn offer_keyed(&mut self, field: Field, priority: u8, value: Value<'a>, key: Option<u128>) {
        if !field.accepts(value.kind()) || (value.kind() == Kind::String && value.raw().is_empty()) {
            return;
        }
        let slot = &mut self.slots[field as usize];
        if slot.is_none_or(|(p, _, _)| priority < p) {
            *slot = Some((priority, value, key));
        }
    }

    /// Offers a member found at `path`, entering objects where aliases continue.
    /// `buf` holds the path being built.
    fn member(
        &mut self,
        path: &mut Vec<u8>,
        depth: usize,
        key: &'a [u8],
        value: Value<'a>,
        content: Option<u128>,
    ) -> json::Result<()> {
        let len = path.len();
        if depth == 0 && key == b"_source" && value.kind() == Kind::Object {
            // An Elasticsearch or OpenSearch hit (`elasticdump`, a scroll
            // export): the logged record is its `_source`, read as if it stood
            // alone (one level only: a `_source` inside is an ordinary member).
            return json::for_each_member_keyed(value.raw(), 0, |k, v, content| {
                let _ = self.member(path, 1, k, v, content);
            })
            .map(|_| ());
        }
        if len > 0 {
            path.push(b'.');
        }
        path.extend_from_slice(key);
        if let Some((field, prio)) = alias(path) {
            self.offer_keyed(field, prio, value, content);
        }
        let mut result = Ok(());
        if value.kind() == Kind::Object && depth < MAX_DESCENT && alias_prefix(path) {
            result = json::for_each_member(value.raw(), 0, |k, v| {
                // Errors inside are impossible: the value was already scanned whole.
                let _ = self.member(path, depth + 1, k, v, None);
            })
            .map(|_| ());
        }
        path.truncate(len);
        result
    }

    pub(crate) fn get(&self, field: Field) -> Option<Value<'a>> {
        self.slots[field as usize].map(|(_, v, _)| v)
    }

    /// Fills the record's canonical fields.
    pub(crate) fn apply(&self, r: &mut Record<'a>) {
        use Field::*;
        if let Some(v) = self.get(Ts) {
            r.ts = time::parse_value(&v);
        }
        r.request_id = self.get(RequestId).or(r.request_id);
        r.trace_id = self.get(TraceId).or(r.trace_id);
        r.span_id = self.get(SpanId).or(r.span_id);
        r.parent_id = self.get(ParentId).or(r.parent_id);
        r.org = self.get(Org).or(r.org);
        r.user = self.get(User).or(r.user);
        r.repository = self.get(Repository).or(r.repository);
        r.endpoint = self.get(Endpoint).or(r.endpoint);
        r.model = self.get(Model).or(r.model);
        r.status = self.get(Status).or(r.status);
        if let Some((_, v, key)) = self.slots[Payload as usize] {
            (r.payload, r.payload_key) = (Some(v), key);
        }
        if let Some((_, v, key)) = self.slots[Response as usize] {
            (r.response, r.response_key) = (Some(v), key);
        }
        r.stream = self.get(Stream).or(r.stream);
    }
}

/// Scans the JSON object at the start of `b` (after white space) and collects its
/// aliased fields. Returns the fields and the index just past the object.
pub(crate) fn object_fields(b: &[u8], start: usize) -> json::Result<(Fields<'_>, usize)> {
    let mut fields = Fields::default();
    let mut path = Vec::with_capacity(64);
    // The record's own members are keyed as they are skipped: the payload's
    // key is then free (see `Record::payload_key`).
    let end = json::for_each_member_keyed(b, start, |k, v, content| {
        let _ = fields.member(&mut path, 0, k, v, content);
    })?;
    Ok((fields, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_alias_in_priority_order_wins_wherever_it_stands() {
        let (f, _) = object_fields(br#"{"id":"low","request_id":"high","ts":1,"timestamp":2}"#, 0).unwrap();
        assert_eq!(f.get(Field::RequestId).unwrap().raw(), b"high");
        assert_eq!(f.get(Field::Ts).unwrap().raw(), b"2");
    }

    #[test]
    fn payloads_keep_the_key_their_skip_took() {
        let line = br#"{"request_id":"r1","body":{"messages":[{"role":"user","content":"hi"}]},"response":"ok"}"#;
        let (f, _) = object_fields(line, 0).unwrap();
        let mut r =
            Record::empty(Location { source: crate::SourceId(0), line_in_chunk: 0, offset: 0 }, Format::Jsonl, line);
        f.apply(&mut r);
        let payload = r.payload.unwrap();
        // Taken where the skip takes keys in its own pass; elsewhere left to
        // whoever needs one.
        let expected = json::keys_are_free().then(|| json::content_key(payload));
        assert_eq!(r.payload_key, expected);
        // A string is not skipped as a container: no key taken.
        assert_eq!((r.response.map(|v| v.raw()), r.response_key), (Some(&b"ok"[..]), None));
    }

    #[test]
    fn an_elasticsearch_hit_is_read_from_its_source() {
        let hit = br#"{"_index":"assist-logs","_id":"x1","_score":1.0,"_source":{"@timestamp":"2024-05-01T12:00:00Z","http":{"request":{"id":"r1"}},"labels":{"org":"acme"},"request":{"messages":[]},"_source":{"user":"u"}}}"#;
        let (f, end) = object_fields(hit, 0).unwrap();
        assert_eq!(end, hit.len());
        assert_eq!(f.get(Field::RequestId).unwrap().raw(), b"r1");
        assert_eq!(f.get(Field::Org).unwrap().raw(), b"acme");
        assert_eq!(f.get(Field::Ts).unwrap().raw(), b"2024-05-01T12:00:00Z");
        assert_eq!(f.get(Field::Payload).unwrap().kind(), Kind::Object);
        // Only the hit's own `_source` is unwrapped.
        assert!(f.get(Field::User).is_none());
    }

    #[test]
    fn dotted_aliases_match_nested_and_flat_keys() {
        let (f, _) = object_fields(br#"{"trace":{"id":"t1"},"http":{"request":{"id":"r1"}}}"#, 0).unwrap();
        assert_eq!(f.get(Field::TraceId).unwrap().raw(), b"t1");
        assert_eq!(f.get(Field::RequestId).unwrap().raw(), b"r1");
        let (f, _) = object_fields(br#"{"trace.id":"t2","labels.org":"acme"}"#, 0).unwrap();
        assert_eq!(f.get(Field::TraceId).unwrap().raw(), b"t2");
        assert_eq!(f.get(Field::Org).unwrap().raw(), b"acme");
    }

    #[test]
    fn identifiers_take_scalars_and_payloads_take_anything() {
        let (f, _) = object_fields(br#"{"user":{"id":"u1","name":"x"},"body":{"messages":[]},"org":null}"#, 0).unwrap();
        assert_eq!(f.get(Field::User).unwrap().raw(), b"u1");
        assert_eq!(f.get(Field::Payload).unwrap().kind(), Kind::Object);
        assert!(f.get(Field::Org).is_none());
    }

    #[test]
    fn every_alias_prefix_leads_somewhere() {
        for p in [
            "http",
            "http.request",
            "http.response",
            "trace",
            "span",
            "parent",
            "labels",
            "user",
            "git",
            "workspace",
            "gen_ai",
            "gen_ai.conversation",
            "gen_ai.request",
            "metadata",
            "session",
            "url",
            "resource",
            "resource.labels",
            "org",
            "organization",
            "tenant",
        ] {
            assert!(alias_prefix(p.as_bytes()));
        }
    }
}
