//! Each format, through every read path (plain mapped, read, gzip, gzip members,
//! zstd, tiny chunks), against one expected answer.

use leakledger::{Format, Options};
use leakledger_tests::{Seen, scan, scan_every_way};

const T: i64 = 1_714_564_800_000_000; // 2024-05-01T12:00:00Z

fn opts() -> Options {
    Options::new()
}

fn fixture(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/corpora").join(rel)
}

#[test]
fn jsonl_with_crlf_blank_lines_bom_and_no_final_newline() {
    let content = "\u{feff}{\"ts\":1714564800,\"request_id\":\"r1\",\"org\":\"acme\",\"body\":\"a\"}\r\n\
                   \r\n   \t\n\
                   {\"ts\":1714564801000,\"request_id\":\"r2\",\"body\":{\"messages\":[]}}\n\
                   {\"ts\":\"1714564802000000\",\"request_id\":\"r3\"}";
    let o = scan_every_way("a.jsonl", content.as_bytes(), &opts());
    assert_eq!(o.malformed, 0);
    let ids: Vec<_> = o.records.iter().map(|r| (r.line, r.request_id.clone().unwrap(), r.ts)).collect();
    assert_eq!(
        ids,
        vec![(1, "r1".into(), Some(T)), (4, "r2".into(), Some(T + 1_000_000)), (5, "r3".into(), Some(T + 2_000_000))]
    );
    assert_eq!(o.records[0].offset, 3, "the offset counts the BOM");
    assert_eq!(o.records[0].org.as_deref(), Some("acme"));
    assert_eq!(o.records[1].payload.as_deref(), Some("{\"messages\":[]}"));
}

#[test]
fn epoch_timestamps_in_every_unit() {
    let content = [
        r#"{"ts":1714564800}"#,
        r#"{"ts":1714564800.5}"#,
        r#"{"timestamp":1714564800000}"#,
        r#"{"time":1714564800000000}"#,
        r#"{"@timestamp":1714564800000000000}"#,
        r#"{"created_at":"1714564800000"}"#,
        r#"{"datetime":"2024-05-01T14:00:00+02:00"}"#,
        r#"{"startTime":"2024-05-01 12:00:00.000001"}"#,
        r#"{"ts":"not a time"}"#,
    ]
    .join("\n");
    let o = scan_every_way("t.jsonl", content.as_bytes(), &opts());
    let ts: Vec<_> = o.records.iter().map(|r| r.ts).collect();
    assert_eq!(ts, vec![Some(T), Some(T + 500_000), Some(T), Some(T), Some(T), Some(T), Some(T), Some(T + 1), None]);
}

#[test]
fn every_alias_fills_its_field() {
    // (alias as JSON, the field it must fill)
    type Getter = fn(&Seen) -> Option<String>;
    let cases: &[(&str, Getter)] = &[
        (r#""request_id":"X""#, |s| s.request_id.clone()),
        (r#""requestId":"X""#, |s| s.request_id.clone()),
        (r#""req_id":"X""#, |s| s.request_id.clone()),
        (r#""x_request_id":"X""#, |s| s.request_id.clone()),
        (r#""http":{"request":{"id":"X"}}"#, |s| s.request_id.clone()),
        (r#""http.request.id":"X""#, |s| s.request_id.clone()),
        (r#""id":"X""#, |s| s.request_id.clone()),
        (r#""litellm_call_id":"X""#, |s| s.request_id.clone()),
        (r#""call_id":"X""#, |s| s.request_id.clone()),
        (r#""insertId":"X""#, |s| s.request_id.clone()),
        (r#""eventID":"X""#, |s| s.request_id.clone()),
        (r#""trace_id":"X""#, |s| s.trace_id.clone()),
        (r#""traceId":"X""#, |s| s.trace_id.clone()),
        (r#""trace":{"id":"X"}"#, |s| s.trace_id.clone()),
        (r#""trace.id":"X""#, |s| s.trace_id.clone()),
        (r#""session_id":"X""#, |s| s.trace_id.clone()),
        (r#""sessionId":"X""#, |s| s.trace_id.clone()),
        (r#""conversation_id":"X""#, |s| s.trace_id.clone()),
        (r#""gen_ai":{"conversation":{"id":"X"}}"#, |s| s.trace_id.clone()),
        (r#""gen_ai.conversation.id":"X""#, |s| s.trace_id.clone()),
        (r#""Helicone-Session-Id":"X""#, |s| s.trace_id.clone()),
        (r#""parent_id":"X""#, |s| s.parent_id.clone()),
        (r#""parent_request_id":"X""#, |s| s.parent_id.clone()),
        (r#""parent_span_id":"X""#, |s| s.parent_id.clone()),
        (r#""parentSpanId":"X""#, |s| s.parent_id.clone()),
        (r#""parent":{"id":"X"}"#, |s| s.parent_id.clone()),
        (r#""previous_response_id":"X""#, |s| s.parent_id.clone()),
        (r#""parent_observation_id":"X""#, |s| s.parent_id.clone()),
        (r#""org":"X""#, |s| s.org.clone()),
        (r#""org_id":"X""#, |s| s.org.clone()),
        (r#""organization":"X""#, |s| s.org.clone()),
        (r#""organization_id":"X""#, |s| s.org.clone()),
        (r#""tenant":"X""#, |s| s.org.clone()),
        (r#""tenant_id":"X""#, |s| s.org.clone()),
        (r#""customer_id":"X""#, |s| s.org.clone()),
        (r#""labels":{"org":"X"}"#, |s| s.org.clone()),
        (r#""labels.org":"X""#, |s| s.org.clone()),
        (r#""team_id":"X""#, |s| s.org.clone()),
        (r#""project_id":"X""#, |s| s.org.clone()),
        (r#""metadata":{"user_api_key_team_alias":"X"}"#, |s| s.org.clone()),
        (r#""user":"X""#, |s| s.user.clone()),
        (r#""user_id":"X""#, |s| s.user.clone()),
        (r#""user":{"id":"X"}"#, |s| s.user.clone()),
        (r#""user.id":"X""#, |s| s.user.clone()),
        (r#""actor":"X""#, |s| s.user.clone()),
        (r#""body":"X""#, |s| s.payload.clone()),
        (r#""payload":"X""#, |s| s.payload.clone()),
        (r#""request":"X""#, |s| s.payload.clone()),
        (r#""request_body":"X""#, |s| s.payload.clone()),
        (r#""message":"X""#, |s| s.payload.clone()),
    ];
    let content: String = cases.iter().map(|(json, _)| format!("{{{json}}}\n")).collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("aliases.jsonl");
    std::fs::write(&path, content).unwrap();
    let (o, _) = scan(&[path.as_path()], &opts());
    assert_eq!(o.records.len(), cases.len());
    for ((json, get), seen) in cases.iter().zip(&o.records) {
        assert_eq!(get(seen).as_deref(), Some("X"), "alias {json}");
    }
}

#[test]
fn other_fields_by_alias() {
    let line = r#"{"repo":"github.com/acme/api","endpoint":"/v1/messages","model":"m-1","status":200,"span_id":"s1","response":{"content":[]}}"#;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.jsonl");
    std::fs::write(&path, line).unwrap();
    let dump = leakledger::Dump::open(&[&path], &opts()).unwrap();
    #[derive(Default)]
    struct Fields(Vec<String>);
    impl leakledger::Sink for Fields {
        fn record(&mut self, r: &leakledger::Record<'_>) {
            for v in [r.repository, r.endpoint, r.model, r.status, r.span_id, r.response] {
                self.0.push(v.map(|v| String::from_utf8_lossy(v.raw()).into_owned()).unwrap_or_default());
            }
        }
        fn merge(&mut self, o: Self) {
            self.0.extend(o.0)
        }
    }
    let scan = dump.scan(Fields::default);
    assert_eq!(scan.sink.0, ["github.com/acme/api", "/v1/messages", "m-1", "200", "s1", r#"{"content":[]}"#]);
}

#[test]
fn broken_lines_are_counted_with_their_line_and_the_rest_survives() {
    let content = b"{\"request_id\":\"a\"}\n{\"request_id\":\"trunc\n\x00\x01\xfe\xff binary\n{\"request_id\":\"b\"} trailing\n[1,2]\n{\"request_id\":\"c\",\"body\":\"caf\xe9 invalid utf-8\"}\n";
    let o = scan_every_way("b.jsonl", content, &opts());
    let ids: Vec<_> = o.records.iter().map(|r| r.request_id.clone().unwrap()).collect();
    assert_eq!(ids, ["a", "c"]);
    assert_eq!(o.malformed, 4);
    let lines: Vec<u64> = o.malformed_lines.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, [2, 3, 4, 5]);
    assert_eq!(o.records[1].payload.as_deref(), Some("caf\u{fffd} invalid utf-8"));
}

#[test]
fn deep_nesting_in_a_payload_is_one_record() {
    let depth = 200_000;
    let content = format!(
        "{{\"request_id\":\"deep\",\"body\":{}{}}}\n{{\"request_id\":\"unclosed\",\"body\":{}}}\n",
        "[".repeat(depth),
        "]".repeat(depth),
        "{\"a\":".repeat(depth)
    );
    let o = scan_every_way("d.jsonl", content.as_bytes(), &opts());
    assert_eq!(o.records.len(), 1);
    assert_eq!(o.records[0].request_id.as_deref(), Some("deep"));
    assert_eq!(o.malformed, 1);
}

#[test]
fn a_64_mib_line_is_one_record_mapped_and_streamed() {
    // Pseudo-random letters, so the compressed forms stay under the ratio guard.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let big: String = (0..64 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (b'a' + (state % 26) as u8) as char
        })
        .collect();
    let content = format!(
        "{{\"request_id\":\"small\"}}\n{{\"request_id\":\"big\",\"body\":\"{big}\"}}\n{{\"request_id\":\"after\"}}\n"
    );
    for way in [leakledger_tests::Way::Mapped, leakledger_tests::Way::Read, leakledger_tests::Way::Zstd] {
        let dir = tempfile::tempdir().unwrap();
        let path = leakledger_tests::write_as(dir.path(), "big.jsonl", content.as_bytes(), way);
        let options = opts().mmap(!matches!(way, leakledger_tests::Way::Read));
        let (o, _) = scan(&[path.as_path()], &options);
        let ids: Vec<_> = o.records.iter().map(|r| (r.line, r.request_id.clone().unwrap())).collect();
        assert_eq!(ids, [(1, "small".into()), (2, "big".into()), (3, "after".into())], "{way:?}");
        assert_eq!(o.records[1].payload.as_ref().map(String::len), Some(64 << 20));
    }
}

#[test]
fn cloudwatch_export_lines() {
    let content = "2024-05-01T12:00:00.000Z {\"request_id\":\"r1\",\"org\":\"acme\"}\n\
                   2024-05-01T12:00:01.000Z START RequestId: 42 Version: $LATEST\n\
                   2024-05-01T12:00:02.000Z {\"request_id\":\"r2\",\"ts\":1714564900}\n\
                   continuation of a multi-line message\n\
                   2024-05-01T12:00:03.000Z {\"request_id\":\"broken\"\n";
    let o = scan_every_way("cw.log", content.as_bytes(), &opts());
    assert!(o.records.iter().all(|r| r.format == Format::Cloudwatch));
    let got: Vec<_> = o.records.iter().map(|r| (r.request_id.clone(), r.ts)).collect();
    assert_eq!(
        got,
        vec![
            (Some("r1".into()), Some(T)),
            (None, Some(T + 1_000_000)),
            (Some("r2".into()), Some(T + 100_000_000)),
            (None, None),
        ]
    );
    assert_eq!(o.records[1].payload.as_deref(), Some("START RequestId: 42 Version: $LATEST"));
    assert_eq!(o.malformed, 1);
}

#[test]
fn cloudwatch_subscription_records_concatenated() {
    let one = |stream: &str, events: &str| {
        format!(
            "{{\"messageType\":\"DATA_MESSAGE\",\"owner\":\"123456789012\",\"logGroup\":\"/aws/gw\",\"logStream\":\"{stream}\",\"subscriptionFilters\":[\"f\"],\"logEvents\":[{events}]}}"
        )
    };
    let ev1 = r#"{"id":"e1","timestamp":1714564800000,"message":"{\"request_id\":\"r1\",\"org\":\"acme\",\"body\":{\"text\":\"line\\nnext\"}}"}"#;
    let ev2 = r#"{"id":"e2","timestamp":1714564801000,"message":"plain text message"}"#;
    let ev3 = r#"{"id":"e3","timestamp":1714564802000,"message":"{\"request_id\":\"r3\""}"#;
    let content = format!(
        "{}{}{{\"messageType\":\"CONTROL_MESSAGE\",\"logGroup\":\"\",\"logEvents\":[]}}",
        one("s1", &format!("{ev1},{ev2}")),
        one("s2", ev3)
    );
    let o = scan_every_way("firehose", content.as_bytes(), &opts());
    let got: Vec<_> = o.records.iter().map(|r| (r.request_id.clone(), r.org.clone(), r.ts)).collect();
    assert_eq!(
        got,
        vec![(Some("r1".into()), Some("acme".into()), Some(T)), (Some("e2".into()), None, Some(T + 1_000_000))]
    );
    assert_eq!(o.records[0].payload.as_deref(), Some(r#"{"text":"line\nnext"}"#));
    assert_eq!(o.records[1].payload.as_deref(), Some("plain text message"));
    assert_eq!(o.malformed, 1, "the event whose JSON message is cut off");
}

#[test]
fn a_subscription_record_or_event_that_does_not_parse_is_malformed() {
    // Brackets that balance around members that do not parse: an event
    // costs itself, a record its events; neither is dropped unseen.
    let doc = |events: &str| format!("{{\"logGroup\":\"/aws/gw\",\"logStream\":\"s\",\"logEvents\":[{events}]}}");
    let good = |id: &str| format!(r#"{{"id":"{id}","timestamp":1714564800000,"message":"text {id}"}}"#);
    let events = [good("e1"), r#"{"id" "e2","message":"no colon"}"#.into(), r#""not an object""#.into(), good("e4")];
    let broken_record = r#"{"logGroup":"/aws/gw" "logEvents":[{"id":"e5","message":"lost"}]}"#;
    let content = format!("{}\n{broken_record}\n{}", doc(&events.join(",")), doc(&good("e6")));
    let o = scan_every_way("firehose", content.as_bytes(), &opts());
    let ids: Vec<_> = o.records.iter().map(|r| (r.request_id.clone().unwrap(), r.payload.clone().unwrap())).collect();
    assert_eq!(
        ids,
        [("e1", "text e1"), ("e4", "text e4"), ("e6", "text e6")].map(|(i, p)| (i.to_string(), p.to_string()))
    );
    assert_eq!(o.malformed, 3, "the event without a colon, the string event, the record without a comma");
}

#[test]
fn the_real_subscription_sample() {
    let (o, scan) = scan(&[fixture("cloudwatch/subscription-record.decoded.json").as_path()], &opts());
    assert_eq!(scan.sources[0].format, Format::Cloudwatch);
    assert_eq!(o.records.len(), 2);
    assert_eq!(o.malformed, 0);
    assert!(o.records.iter().all(|r| r.ts.is_some()));
}

#[test]
fn otlp_traces_and_logs() {
    let (o, scan) = scan(&[fixture("otlp/trace.json").as_path(), fixture("otlp/logs.json").as_path()], &opts());
    assert!(scan.sources.iter().all(|s| s.format == Format::Otlp));
    assert_eq!(o.records.len(), 2);
    let span = &o.records[0];
    assert_eq!(span.trace_id.as_deref(), Some("5B8EFFF798038103D269B633813FC60C"));
    assert_eq!(span.request_id.as_deref(), Some("EEE19B7EC3C1B174"));
    assert_eq!(span.parent_id.as_deref(), Some("EEE19B7EC3C1B173"));
    assert_eq!(span.ts, Some(1_544_712_660_000_000));
    assert!(o.records[1].ts.is_some());
}

#[test]
fn otlp_genai_attributes_beat_structural_ids() {
    let doc = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"tenant.id","value":{"stringValue":"acme"}}]},
      "scopeSpans":[{"spans":[{"traceId":"t","spanId":"s","parentSpanId":"","startTimeUnixNano":"1714564800000000000",
      "attributes":[{"key":"gen_ai.conversation.id","value":{"stringValue":"conv-1"}},
                    {"key":"gen_ai.request.model","value":{"stringValue":"m"}}]}]}]}]}
{"resourceSpans":[]}"#;
    let o = scan_every_way("genai.jsonl", doc.as_bytes(), &opts());
    assert_eq!(o.records.len(), 1);
    let r = &o.records[0];
    assert_eq!((r.trace_id.as_deref(), r.org.as_deref(), r.parent_id.as_deref()), (Some("conv-1"), Some("acme"), None));
}

#[test]
fn gcp_log_entries() {
    let (o, scan) = scan(&[fixture("gcp/plaso_gcp_logging.jsonl").as_path()], &opts());
    assert_eq!(scan.sources[0].format, Format::Gcp);
    assert_eq!((o.records.len(), o.malformed), (11, 0));
    assert_eq!(o.records[0].request_id.as_deref(), Some("iv9wx9d16l2"));
    assert!(o.records.iter().all(|r| r.ts.is_some() && r.payload.is_some()));
}

#[test]
fn json_documents_litellm_and_cloudtrail() {
    let (o, scan) = scan(
        &[
            fixture("litellm/standard_logging_payload.json").as_path(),
            fixture("litellm/spend_logs_payload.json").as_path(),
            fixture("cloudtrail/awsdocs_s3_management_events.json").as_path(),
        ],
        &opts(),
    );
    assert!(scan.sources.iter().all(|s| s.format == Format::Json));
    assert_eq!(o.malformed, 0);
    let per_source: Vec<u64> = scan.sources.iter().map(|s| s.records).collect();
    assert_eq!(per_source, [1, 1, 3]);
    let litellm = &o.records[0];
    assert_eq!(litellm.request_id.as_deref(), Some("chatcmpl-2299b6a2-82a3-465a-b47c-04e685a2227f"));
    assert_eq!(litellm.ts, leakledger::time::parse_text(b"2025-01-24T09:20:46.847371Z"));
    let spend = &o.records[1];
    assert_eq!(spend.trace_id.as_deref(), Some("1234567890"));
}

#[test]
fn text_lines_keep_a_leading_timestamp() {
    let content = "[2024-05-01T12:00:00Z] GET /v1/messages 200\nno time here\n2024-05-01 12:00:00,5 INFO x\n";
    let o = scan_every_way("proxy.log", content.as_bytes(), &opts());
    let got: Vec<_> = o.records.iter().map(|r| (r.format, r.ts)).collect();
    assert_eq!(got, vec![(Format::Text, Some(T)), (Format::Text, None), (Format::Text, Some(T + 500_000))]);
}

#[test]
fn forced_format_overrides_sniffing() {
    let content = "{\"request_id\":\"r1\"}\n";
    let o = scan_every_way("f.jsonl", content.as_bytes(), &opts().format(Some(Format::Text)));
    assert_eq!(o.records.len(), 1);
    assert_eq!(o.records[0].format, Format::Text);
    assert_eq!(o.records[0].request_id, None);
}

#[test]
fn otlp_attribute_values_that_are_not_objects_are_ignored_not_fatal() {
    let doc = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"tenant.id","value":"x"}]},"scopeSpans":[{"spans":[{"spanId":"s1","attributes":[{"key":"id","value":"x"},{"key":"user.id","value":{"stringValue":"u"}}]}]}]}]}"#;
    let o = scan_every_way("bad-attrs.json", doc.as_bytes(), &opts());
    assert_eq!(o.records.len(), 1);
    assert_eq!(o.records[0].user.as_deref(), Some("u"));
    assert_eq!(o.records[0].request_id.as_deref(), Some("s1"));
}

#[test]
fn otlp_logs_before_spans_keep_their_line_numbers() {
    let line = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"spanId":"l"}]}]}],"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"s"}]}]}]}"#;
    let content = format!("{line}\n{line}\n{line}\n");
    let o = scan_every_way("order.jsonl", content.as_bytes(), &opts().format(Some(Format::Otlp)));
    let lines: Vec<u64> = o.records.iter().map(|r| r.line).collect();
    assert_eq!(lines, [1, 1, 2, 2, 3, 3]);
}

#[test]
fn otlp_a_broken_span_is_one_malformed_record_and_the_next_spans_still_count() {
    // The second span misses a colon; its brackets balance, so the walk passes
    // over it and reads the third.
    let line = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"tenant.id","value":{"stringValue":"acme"}}]},"scopeSpans":[{"spans":[{"spanId":"a"},{"spanId" "b","attributes":[]},{"spanId":"c","attributes":[{"key":"user.id","value":{"stringValue":"u"}}]}]}]}]}"#;
    let o = scan_every_way("broken-span.jsonl", format!("{line}\n").as_bytes(), &opts().format(Some(Format::Otlp)));
    let ids: Vec<_> = o.records.iter().map(|r| (r.request_id.as_deref(), r.org.as_deref())).collect();
    assert_eq!(ids, [(Some("a"), Some("acme")), (Some("c"), Some("acme"))]);
    assert_eq!(o.records[1].user.as_deref(), Some("u"));
    assert_eq!(o.malformed, 1);
}

#[test]
fn otlp_resource_attributes_apply_when_the_scopes_come_first() {
    let doc = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"spanId":"l1"}]}],"resource":{"attributes":[{"key":"tenant.id","value":{"stringValue":"acme"}}]}}]}"#;
    let o = scan_every_way("late-resource.json", doc.as_bytes(), &opts());
    assert_eq!(o.records.len(), 1);
    assert_eq!((o.records[0].request_id.as_deref(), o.records[0].org.as_deref()), (Some("l1"), Some("acme")));
}

#[test]
fn otlp_a_broken_attribute_resource_or_scope_costs_only_itself() {
    // A resource attribute that is not JSON (`x`): the span still counts, with
    // the resource's other attributes.
    let line1 = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"a","value":{"intValue":x}},{"key":"tenant.id","value":{"stringValue":"acme"}}]},"scopeSpans":[{"spans":[{"spanId":"01"}]}]}]}"#;
    // Junk in one scope's spans, a trailing comma in another's: the spans
    // before them and every later scope and resource still count.
    let line2 = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"spanId":"02"},x,{"spanId":"03"}]},{"spans":[{"spanId":"04"},]},{"spans":[{"spanId":"05"}]}]},{"scopeSpans":[{"spans":[{"spanId":"06"}]}]}]}"#;
    let o = scan_every_way(
        "broken-parts.jsonl",
        format!("{line1}\n{line2}\n").as_bytes(),
        &opts().format(Some(Format::Otlp)),
    );
    let ids: Vec<_> = o.records.iter().map(|r| r.request_id.as_deref().unwrap_or("")).collect();
    assert_eq!(ids, ["01", "02", "04", "05", "06"]);
    assert_eq!(o.records[0].org.as_deref(), Some("acme"));
    // The two broken scopes, each once.
    assert_eq!(o.malformed, 2);
}

/// What leaves an exposed Elasticsearch or OpenSearch cluster: hits one per
/// line (`elasticdump`, a scroll export) and whole search responses, on one
/// line or pretty-printed. Each hit is the record in its `_source`, read as
/// the same record logged on its own.
#[test]
fn elasticsearch_hits_and_search_responses_read_as_their_sources() {
    let sources: Vec<serde_json::Value> = (0..3)
        .map(|i| {
            serde_json::json!({
                "@timestamp": "2024-05-01T12:00:00Z",
                "http": {"request": {"id": format!("r{i}")}},
                "trace": {"id": "t1"},
                "labels": {"org": "acme"},
                "user": {"id": "ines"},
                "request": {"messages": [{"role": "user", "content": format!("// File: src/m{i}.rs\nfn m() {{}}\n")}]},
            })
        })
        .collect();
    let hits: Vec<serde_json::Value> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| serde_json::json!({"_index": "assist-logs", "_id": format!("x{i}"), "_score": 1.0, "_source": s}))
        .collect();
    // As Elasticsearch writes it, `took` first (serde_json would sort the keys).
    let hits_text: Vec<String> = hits.iter().map(|h| h.to_string()).collect();
    let response = format!(
        r#"{{"took":3,"timed_out":false,"_shards":{{"total":1,"successful":1,"skipped":0,"failed":0}},"hits":{{"total":{{"value":3,"relation":"eq"}},"max_score":1.0,"hits":[{}]}}}}"#,
        hits_text.join(",")
    );
    let pretty: serde_json::Value = serde_json::from_str(&response).expect("json");
    let lines = |values: &[serde_json::Value]| values.iter().map(|v| v.to_string() + "\n").collect::<String>();
    // The fields each record gives, wherever it stands.
    let fields = |o: &leakledger_tests::Outcome| -> Vec<_> {
        let json =
            |p: &Option<String>| p.as_deref().map(|p| serde_json::from_str::<serde_json::Value>(p).expect("json"));
        o.records
            .iter()
            .map(|r| (r.ts, r.request_id.clone(), r.trace_id.clone(), r.org.clone(), r.user.clone(), json(&r.payload)))
            .collect()
    };
    // A record that merely has a `hits` member is not a search response.
    let not_a_response = r#"{"request_id":"r9","body":"q","hits":{"hits":[]}}"#;
    for content in [not_a_response.to_string(), not_a_response.replace(',', ",\n ")] {
        let got = scan_every_way("hits.json", content.as_bytes(), &opts());
        let ids: Vec<_> = got.records.iter().map(|r| r.request_id.as_deref()).collect();
        assert_eq!((ids, got.malformed), (vec![Some("r9")], 0), "{content}");
    }
    let alone = scan_every_way("plain.ndjson", lines(&sources).as_bytes(), &opts());
    assert_eq!(alone.records.len(), 3);
    assert!(alone.records.iter().all(|r| r.org.as_deref() == Some("acme") && r.payload.is_some()));
    for (name, content) in [
        ("hits.ndjson", lines(&hits)),
        ("search.json", response.clone() + "\n"),
        ("search-pretty.json", serde_json::to_string_pretty(&pretty).expect("json")),
    ] {
        let got = scan_every_way(name, content.as_bytes(), &opts());
        assert_eq!(got.malformed, 0, "{name}");
        assert_eq!(fields(&got), fields(&alone), "{name}");
    }
}
