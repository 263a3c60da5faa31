//! Whole exchanges in every API dialect through the public engine API: request verdicts and
//! their replies, buffered answers, streams cut at every byte, content codings and
//! look-alike characters. No host: what the filter and ext-proc both carry out.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use parapet_core::coding::Coding;
use parapet_core::dialect::Dialect;
use parapet_core::engine::{Decision, ResponsePlan};
use parapet_core::sse::SseDecoder;
use parapet_core::stream;
use parapet_core::Policy;
use serde_json::{json, Value};

const SECRET: &str = "AKIAQX7MZT3KWJ5RLN2P";

fn policy() -> &'static Policy {
    static P: std::sync::OnceLock<Policy> = std::sync::OnceLock::new();
    P.get_or_init(|| {
        Policy::from_json(
            br#"{"version": 1, "guards": [
            {"id": "secrets", "detector": {"type": "secrets"}, "action": "block"},
            {"id": "pii", "detector": {"type": "pii"}, "action": "mask"},
            {"id": "out-secrets", "hook": "llm_output", "detector": {"type": "secrets"}, "action": "block",
             "block_response": {"message": "withheld ({kinds})"}},
            {"id": "out-pii", "hook": "llm_output", "detector": {"type": "pii"}, "action": "mask"}
        ]}"#,
        )
        .expect("policy compiles")
    })
}

/// (path, body with `{}` where the text goes) for every text field of every dialect.
fn fields() -> Vec<(&'static str, &'static str, String)> {
    let t = "{}";
    vec![
        (
            "chat content",
            "/v1/chat/completions",
            format!(r#"{{"messages":[{{"role":"user","content":"{t}"}}]}}"#),
        ),
        (
            "chat part",
            "/v1/chat/completions",
            format!(
                r#"{{"messages":[{{"role":"user","content":[{{"type":"text","text":"{t}"}}]}}]}}"#
            ),
        ),
        (
            "chat tool args",
            "/v1/chat/completions",
            format!(
                r#"{{"messages":[{{"role":"assistant","tool_calls":[{{"id":"c","type":"function","function":{{"name":"f","arguments":"{t}"}}}}]}}]}}"#
            ),
        ),
        (
            "responses string",
            "/v1/responses",
            format!(r#"{{"model":"m","input":"{t}"}}"#),
        ),
        (
            "responses instructions",
            "/v1/responses",
            format!(r#"{{"model":"m","instructions":"{t}","input":"hi"}}"#),
        ),
        (
            "responses message",
            "/v1/responses",
            format!(
                r#"{{"input":[{{"role":"user","content":[{{"type":"input_text","text":"{t}"}}]}}]}}"#
            ),
        ),
        (
            "responses call output",
            "/v1/responses",
            format!(
                r#"{{"input":[{{"type":"function_call_output","call_id":"c","output":"{t}"}}]}}"#
            ),
        ),
        (
            "responses call args",
            "/v1/responses",
            format!(
                r#"{{"input":[{{"type":"function_call","call_id":"c","name":"f","arguments":"{t}"}}]}}"#
            ),
        ),
        (
            "anthropic system",
            "/v1/messages",
            format!(
                r#"{{"max_tokens":5,"system":"{t}","messages":[{{"role":"user","content":"hi"}}]}}"#
            ),
        ),
        (
            "anthropic system blocks",
            "/v1/messages",
            format!(
                r#"{{"max_tokens":5,"system":[{{"type":"text","text":"{t}"}}],"messages":[]}}"#
            ),
        ),
        (
            "anthropic text block",
            "/v1/messages",
            format!(
                r#"{{"max_tokens":5,"messages":[{{"role":"user","content":[{{"type":"text","text":"{t}"}}]}}]}}"#
            ),
        ),
        (
            "anthropic tool_use input",
            "/v1/messages",
            format!(
                r#"{{"max_tokens":5,"messages":[{{"role":"assistant","content":[{{"type":"tool_use","id":"t","name":"f","input":{{"q":"{t}"}}}}]}}]}}"#
            ),
        ),
        (
            "anthropic tool_result",
            "/v1/messages",
            format!(
                r#"{{"max_tokens":5,"messages":[{{"role":"user","content":[{{"type":"tool_result","tool_use_id":"t","content":"{t}"}}]}}]}}"#
            ),
        ),
        (
            "gemini text",
            "/v1beta/models/g:generateContent",
            format!(r#"{{"contents":[{{"role":"user","parts":[{{"text":"{t}"}}]}}]}}"#),
        ),
        (
            "gemini system",
            "/v1beta/models/g:streamGenerateContent?alt=sse",
            format!(r#"{{"systemInstruction":{{"parts":[{{"text":"{t}"}}]}},"contents":[]}}"#),
        ),
        (
            "gemini function response",
            "/v1beta/models/g:generateContent",
            format!(
                r#"{{"contents":[{{"role":"user","parts":[{{"functionResponse":{{"name":"f","response":{{"out":"{t}"}}}}}}]}}]}}"#
            ),
        ),
        (
            "completions",
            "/v1/completions",
            format!(r#"{{"model":"m","prompt":["{t}"]}}"#),
        ),
        (
            "embeddings",
            "/v1/embeddings",
            format!(r#"{{"model":"m","input":"{t}"}}"#),
        ),
    ]
}

#[test]
fn every_text_field_of_every_dialect_is_read() {
    // Plain, fullwidth, zero-width-split and JSON-escaped forms of the same key.
    let fullwidth: String = SECRET
        .chars()
        .map(|c| char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap())
        .collect();
    let zw: String = SECRET.chars().flat_map(|c| [c, '\u{200B}']).collect();
    let escaped: String = SECRET
        .chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect();
    for (name, path, template) in fields() {
        for variant in [
            SECRET.to_string(),
            fullwidth.clone(),
            zw.clone(),
            escaped.clone(),
        ] {
            let body = template.replace("{}", &variant);
            let v = policy().evaluate_request_at(Some(path), body.as_bytes());
            assert_eq!(v.decision, Decision::Block, "{name}: {variant:?} in {body}");
            let reply: Value = serde_json::from_slice(&v.reply.expect("a reply").body).unwrap();
            match Dialect::from_path(path).unwrap() {
                Dialect::AnthropicMessages => {
                    assert_eq!(reply["type"], "error", "{name}");
                    assert_eq!(reply["error"]["type"], "invalid_request_error");
                }
                Dialect::Gemini => assert_eq!(reply["error"]["status"], "INVALID_ARGUMENT"),
                _ => assert_eq!(reply["error"]["code"], "content_policy_violation"),
            }
        }
        // PII is masked in place, in the original field.
        let body = template.replace("{}", "mail jane.doe@example.com now");
        let v = policy().evaluate_request_at(Some(path), body.as_bytes());
        assert_eq!(v.decision, Decision::Mask, "{name}");
        let out = String::from_utf8(v.body.unwrap()).unwrap();
        assert!(
            out.contains("mail [EMAIL] now") && !out.contains("jane"),
            "{name}: {out}"
        );
        // A clean body is forwarded untouched.
        let clean = template.replace("{}", "plan a trip to Rome");
        let v = policy().evaluate_request_at(Some(path), clean.as_bytes());
        assert_eq!(v.decision, Decision::Allow, "{name}");
        assert!(v.body.is_none());
    }
}

#[test]
fn fullwidth_pii_is_masked_at_its_original_bytes() {
    let body = r#"{"messages":[{"role":"user","content":"write to ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ today"}]}"#;
    let v = policy().evaluate_request_at(Some("/v1/chat/completions"), body.as_bytes());
    assert_eq!(v.decision, Decision::Mask);
    let out: Value = serde_json::from_slice(&v.body.unwrap()).unwrap();
    assert_eq!(out["messages"][0]["content"], "write to [EMAIL] today");
}

#[test]
fn unrecognised_bodies_are_never_allowed() {
    let v = policy().evaluate_request_at(Some("/v1/unknown"), br#"{"foo": "bar"}"#);
    assert_eq!(v.decision, Decision::Block);
    assert!(v.reason.unwrap().contains("no API shape"));
    let lenient = Policy::from_json(
        br#"{"version": 1, "limits": {"on_unrecognized": "pass"}, "guards": []}"#,
    )
    .unwrap();
    let v = lenient.evaluate_request_at(Some("/v1/unknown"), br#"{"foo": "bar"}"#);
    assert_eq!(v.decision, Decision::Skipped);
    // An Anthropic path answers in Anthropic's shape even when the body is not JSON.
    let v = policy().evaluate_request_at(Some("/v1/messages"), b"not json");
    let reply: Value = serde_json::from_slice(&v.reply.unwrap().body).unwrap();
    assert_eq!(reply["type"], "error");
}

#[test]
fn coded_requests_are_decoded_and_reencoded() {
    let body = br#"{"messages":[{"role":"user","content":"mail jane.doe@example.com"}]}"#;
    for coding in [Coding::Gzip, Coding::Deflate, Coding::Br, Coding::Zstd] {
        let v = policy().evaluate_request_coded(
            Some("/v1/chat/completions"),
            &coding.encode(body),
            coding,
        );
        assert_eq!(v.decision, Decision::Mask, "{coding:?}");
        let plain = coding.decode(&v.body.unwrap(), 1 << 20).unwrap();
        assert!(String::from_utf8(plain).unwrap().contains("[EMAIL]"));
        let secret = format!(r#"{{"messages":[{{"role":"user","content":"{SECRET}"}}]}}"#);
        let v = policy().evaluate_request_coded(None, &coding.encode(secret.as_bytes()), coding);
        assert_eq!(v.decision, Decision::Block, "{coding:?}");
    }
    let v = policy().evaluate_request_coded(None, b"garbage", Coding::Gzip);
    assert_eq!(v.decision, Decision::Block);
    let bomb = Coding::Gzip.encode(&vec![b' '; 20 << 20]);
    let v = policy().evaluate_request_coded(None, &bomb, Coding::Gzip);
    assert_eq!(v.decision, Decision::Block);
    assert_eq!(v.reply.unwrap().status, 413);
}

/// The request verdict's exchange for `path`.
fn exchange(path: &str, body: &str) -> parapet_core::engine::Exchange {
    policy()
        .evaluate_request_at(Some(path), body.as_bytes())
        .exchange
}

#[test]
fn buffered_answers_are_read_and_refused_in_their_shape() {
    let cases = [
        (
            "/v1/responses",
            r#"{"input":"hi"}"#,
            json!({"id": "resp", "status": "completed", "output": [{"type": "message", "id": "m", "role": "assistant", "content": [{"type": "output_text", "text": "TEXT"}]}]}),
        ),
        (
            "/v1/messages",
            r#"{"max_tokens":1,"messages":[]}"#,
            json!({"id": "msg", "type": "message", "content": [{"type": "text", "text": "TEXT"}], "stop_reason": "end_turn"}),
        ),
        (
            "/v1beta/models/g:generateContent",
            r#"{"contents":[]}"#,
            json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "TEXT"}]}, "finishReason": "STOP", "index": 0}]}),
        ),
        (
            "/v1/completions",
            r#"{"prompt":"x"}"#,
            json!({"choices": [{"index": 0, "text": "TEXT"}]}),
        ),
    ];
    for (path, req, answer) in cases {
        let ex = exchange(path, req);
        let with = |text: &str| answer.to_string().replace("TEXT", text);
        let v = policy().evaluate_response(with(&format!("key {SECRET}")).as_bytes(), &ex);
        assert_eq!(v.decision, Decision::Block, "{path}");
        let out = String::from_utf8(v.body.unwrap()).unwrap();
        assert!(
            !out.contains(SECRET) && out.contains("withheld"),
            "{path}: {out}"
        );
        match ex.dialect {
            Dialect::OpenAiResponses => assert!(out.contains(r#""reason":"content_filter""#)),
            Dialect::AnthropicMessages => assert!(out.contains(r#""stop_reason":"refusal""#)),
            Dialect::Gemini => assert!(out.contains(r#""finishReason":"SAFETY""#)),
            _ => assert!(out.contains("content_filter")),
        }
        let v = policy().evaluate_response(with("mail jane.doe@example.com").as_bytes(), &ex);
        assert_eq!(v.decision, Decision::Mask, "{path}");
        assert!(String::from_utf8(v.body.unwrap())
            .unwrap()
            .contains("mail [EMAIL]"));
        // Coded: the rewrite goes back in the same coding.
        let coded = Coding::Br.encode(with(&format!("key {SECRET}")).as_bytes());
        let v = policy().evaluate_response_coded(&coded, Coding::Br, &ex);
        let plain = Coding::Br.decode(&v.body.unwrap(), 1 << 20).unwrap();
        assert!(!String::from_utf8(plain).unwrap().contains(SECRET));
    }
}

#[test]
fn response_plans() {
    let ex = exchange("/v1/messages", r#"{"max_tokens":1,"messages":[]}"#);
    let p = policy();
    assert_eq!(
        p.response_plan(&ex, "application/json", "gzip", false),
        ResponsePlan::Buffer {
            coding: Coding::Gzip
        }
    );
    assert_eq!(
        p.response_plan(&ex, "text/event-stream; charset=utf-8", "br", false),
        ResponsePlan::Stream { coding: Coding::Br }
    );
    assert!(matches!(
        p.response_plan(&ex, "application/json", "compress", false),
        ResponsePlan::Refuse { .. }
    ));
    assert_eq!(
        p.response_plan(&ex, "Image/PNG", "", false),
        ResponsePlan::NotRead {
            content_type: "image/png".into()
        }
    );
    assert_eq!(
        p.response_plan(&ex, "application/json", "", true),
        ResponsePlan::Pass
    );
}

/// Run a stream through the guard, cut at `cuts`; the bytes the client gets.
fn run_stream(
    ex: &parapet_core::engine::Exchange,
    body: &[u8],
    coding: Coding,
    cuts: &[usize],
) -> Vec<u8> {
    let wire = coding.encode(body);
    let mut g = stream::for_response(ex, coding, 1 << 20);
    let mut out = Vec::new();
    let mut at = 0;
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (wire.len() + 1)).collect();
    cuts.sort_unstable();
    for c in cuts {
        out.extend(g.push(policy(), &wire[at..c]));
        at = c;
    }
    out.extend(g.push(policy(), &wire[at..]));
    out.extend(g.finish(policy()));
    out
}

fn events(out: &[u8]) -> Vec<(Option<String>, Value)> {
    let mut d = SseDecoder::new();
    let mut evs = d.push(out);
    evs.extend(d.finish());
    evs.into_iter()
        .filter_map(|e| {
            let v = serde_json::from_str(e.data()?).ok()?;
            Some((e.event().map(str::to_string), v))
        })
        .collect()
}

fn pieces(text: &str) -> Vec<String> {
    text.chars()
        .collect::<Vec<_>>()
        .chunks(5)
        .map(|c| c.iter().collect())
        .collect()
}

/// A stream in `dialect` carrying `text`, built as each API sends it.
fn transcript(dialect: Dialect, text: &str) -> Vec<u8> {
    let mut out = String::new();
    let mut ev = |name: Option<&str>, v: Value| {
        if let Some(n) = name {
            out.push_str(&format!("event: {n}\n"));
        }
        out.push_str(&format!("data: {v}\n\n"));
    };
    match dialect {
        Dialect::OpenAiResponses => {
            let resp = json!({"id": "resp_1", "object": "response", "status": "in_progress", "output": []});
            ev(
                Some("response.created"),
                json!({"type": "response.created", "sequence_number": 0, "response": resp}),
            );
            ev(
                Some("response.output_item.added"),
                json!({"type": "response.output_item.added", "sequence_number": 1, "output_index": 0, "item": {"type": "message", "id": "m", "role": "assistant", "content": []}}),
            );
            for (i, p) in pieces(text).iter().enumerate() {
                ev(
                    Some("response.output_text.delta"),
                    json!({"type": "response.output_text.delta", "sequence_number": 2 + i, "item_id": "m", "output_index": 0, "content_index": 0, "delta": p}),
                );
            }
            ev(
                Some("response.output_text.done"),
                json!({"type": "response.output_text.done", "sequence_number": 90, "item_id": "m", "output_index": 0, "content_index": 0, "text": text}),
            );
            ev(
                Some("response.completed"),
                json!({"type": "response.completed", "sequence_number": 91, "response": {"id": "resp_1", "status": "completed", "output": [{"type": "message", "id": "m", "role": "assistant", "content": [{"type": "output_text", "text": text}]}]}}),
            );
        }
        Dialect::AnthropicMessages => {
            ev(
                Some("message_start"),
                json!({"type": "message_start", "message": {"id": "msg", "type": "message", "role": "assistant", "content": []}}),
            );
            ev(
                Some("content_block_start"),
                json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
            );
            for p in pieces(text) {
                ev(
                    Some("content_block_delta"),
                    json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}}),
                );
            }
            ev(
                Some("content_block_stop"),
                json!({"type": "content_block_stop", "index": 0}),
            );
            ev(
                Some("message_delta"),
                json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}}),
            );
            ev(Some("message_stop"), json!({"type": "message_stop"}));
        }
        Dialect::Gemini => {
            for p in pieces(text) {
                ev(
                    None,
                    json!({"candidates": [{"content": {"role": "model", "parts": [{"text": p}]}, "index": 0}]}),
                );
            }
            ev(
                None,
                json!({"candidates": [{"content": {"role": "model", "parts": [{"text": ""}]}, "finishReason": "STOP", "index": 0}]}),
            );
        }
        _ => {
            for p in pieces(text) {
                ev(
                    None,
                    json!({"id": "c", "object": "text_completion", "choices": [{"index": 0, "text": p}]}),
                );
            }
            out.push_str("data: [DONE]\n\n");
        }
    }
    out.into_bytes()
}

/// The text a client reassembles from the deltas.
fn delta_text(dialect: Dialect, evs: &[(Option<String>, Value)]) -> String {
    let mut s = String::new();
    for (_, v) in evs {
        let piece = match dialect {
            Dialect::OpenAiResponses if v["type"] == "response.output_text.delta" => {
                v["delta"].as_str()
            }
            Dialect::AnthropicMessages => v.pointer("/delta/text").and_then(Value::as_str),
            Dialect::Gemini => v
                .pointer("/candidates/0/content/parts/0/text")
                .and_then(Value::as_str),
            Dialect::Completions => v.pointer("/choices/0/text").and_then(Value::as_str),
            _ => None,
        };
        s.push_str(piece.unwrap_or(""));
    }
    s
}

#[test]
fn streams_in_every_dialect_block_mask_and_pass() {
    let dialects = [
        ("/v1/responses", r#"{"input":"hi","stream":true}"#),
        (
            "/v1/messages",
            r#"{"max_tokens":1,"messages":[],"stream":true}"#,
        ),
        (
            "/v1beta/models/g:streamGenerateContent?alt=sse",
            r#"{"contents":[]}"#,
        ),
        ("/v1/completions", r#"{"prompt":"x","stream":true}"#),
    ];
    for (path, req) in dialects {
        let ex = exchange(path, req);
        let d = ex.dialect;
        for coding in [Coding::Identity, Coding::Gzip, Coding::Zstd] {
            for cuts in [
                vec![],
                vec![1, 17, 200, 333],
                (0..2000).step_by(7).collect(),
            ] {
                // Clean: byte for byte.
                let clean = transcript(d, "Hello there, how are you doing today my friend?");
                assert_eq!(
                    run_stream(&ex, &clean, coding, &cuts),
                    clean,
                    "{d:?} {coding:?}"
                );
                // A secret: never out, the stream ends in the dialect's way.
                let text =
                    format!("Here you go: {SECRET} and more text after it, quite a lot more.");
                let out = run_stream(&ex, &transcript(d, &text), coding, &cuts);
                let raw = String::from_utf8_lossy(&out);
                assert!(!raw.contains("AKIAQX7MZT"), "{d:?}: {raw}");
                let evs = events(&out);
                assert!(!delta_text(d, &evs).contains("AKIA"));
                let last = &evs.last().expect("a terminal event").1;
                match d {
                    Dialect::OpenAiResponses => {
                        assert_eq!(last["type"], "response.incomplete");
                        assert_eq!(
                            last["response"]["incomplete_details"]["reason"],
                            "content_filter"
                        );
                    }
                    Dialect::AnthropicMessages => {
                        assert_eq!(last["type"], "message_stop");
                        let stop = &evs[evs.len() - 2].1;
                        assert_eq!(stop["delta"]["stop_reason"], "refusal");
                    }
                    Dialect::Gemini => assert_eq!(last["candidates"][0]["finishReason"], "SAFETY"),
                    _ => assert!(raw.ends_with("data: [DONE]\n\n")),
                }
                // PII: masked in the deltas and in every event that repeats the whole text.
                let text =
                    "Write to jane.doe@example.com about the plan, then wait for an answer please.";
                let out = run_stream(&ex, &transcript(d, text), coding, &cuts);
                let raw = String::from_utf8_lossy(&out);
                assert!(!raw.contains("jane.doe"), "{d:?}: {raw}");
                assert_eq!(
                    delta_text(d, &events(&out)),
                    "Write to [EMAIL] about the plan, then wait for an answer please.",
                    "{d:?}"
                );
            }
        }
    }
}

#[test]
fn anthropic_tool_input_and_gemini_calls_in_streams() {
    let ex = exchange("/v1/messages", r#"{"max_tokens":1,"messages":[]}"#);
    let json_text = format!(r#"{{"key": "{SECRET}", "note": "x"}}"#);
    let mut body = String::new();
    body.push_str("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"f\",\"input\":{}}}\n\n");
    for p in pieces(&json_text) {
        let v = json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": p}});
        body.push_str(&format!("event: content_block_delta\ndata: {v}\n\n"));
    }
    body.push_str(
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
    );
    let out = run_stream(&ex, body.as_bytes(), Coding::Identity, &[3, 50]);
    let raw = String::from_utf8_lossy(&out);
    assert!(!raw.contains("AKIAQX7MZT"), "{raw}");
    assert!(raw.contains("content_block_stop") && raw.contains("refusal"));

    let ex = exchange(
        "/v1beta/models/g:streamGenerateContent?alt=sse",
        r#"{"contents":[]}"#,
    );
    let call = json!({"candidates": [{"content": {"role": "model", "parts": [{"functionCall": {"name": "send", "args": {"to": "jane.doe@example.com"}}}]}, "index": 0}]});
    let out = run_stream(
        &ex,
        format!("data: {call}\r\n\r\n").as_bytes(),
        Coding::Identity,
        &[],
    );
    let evs = events(&out);
    assert_eq!(
        evs[0].1["candidates"][0]["content"]["parts"][0]["functionCall"]["args"]["to"],
        "[EMAIL]"
    );
}

/// serde's derived readers take a struct from a JSON array too (its fields by position), where
/// the tree readers see an array and read nothing: a reader without a tree must take objects
/// only, or text it found could not be put back masked in the tree (and went out unmasked).
#[test]
fn positional_arrays_are_not_read_as_objects() {
    let mail = "mail jane.doe@example.com";
    // Stream chunks of each dialect whose objects are arrays in the fast readers' field order:
    // the tree reader reads nothing in them, so neither may the guard.
    let chunks = [
        (
            Dialect::OpenAiChat,
            json!({"choices": [[0, null, {"content": mail}]]}),
        ),
        (
            Dialect::OpenAiChat,
            json!({"choices": [{"index": 0, "delta": [mail]}]}),
        ),
        (
            Dialect::Gemini,
            json!({"candidates": [[0, {"parts": [{"text": mail}]}]]}),
        ),
        (
            Dialect::Gemini,
            json!({"candidates": [{"index": 0, "content": {"parts": [[mail]]}}]}),
        ),
        (
            Dialect::AnthropicMessages,
            json!({"type": "content_block_delta", "index": 0, "delta": ["text_delta", mail]}),
        ),
        (
            Dialect::AnthropicMessages,
            json!(["content_block_delta", 0, {"type": "text_delta", "text": mail}]),
        ),
    ];
    // (a chat stream's first chunk is read with a tree, as its header; the fast reader takes the
    // ones after it)
    let first = json!({"id": "c", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"role": "assistant"}}]});
    for (dialect, chunk) in chunks {
        let mut g = stream::StreamGuard::for_dialect(dialect, Vec::new());
        let body = if dialect == Dialect::OpenAiChat {
            format!("data: {first}\n\ndata: {chunk}\n\n")
        } else {
            format!("data: {chunk}\n\n")
        };
        let mut out = g.push(policy(), body.as_bytes());
        out.extend(g.finish(policy()));
        assert!(
            g.findings().is_empty(),
            "{dialect:?} {chunk}: {:?}",
            g.findings()
        );
        assert_eq!(String::from_utf8_lossy(&out), body);
    }
    // A buffered answer whose choice is an array in ChatReply's field order.
    let ex = exchange(
        "/v1/chat/completions",
        r#"{"messages":[{"role":"user","content":"hi"}]}"#,
    );
    let answer = json!({"choices": [[null, {"content": mail}]]}).to_string();
    let v = policy().evaluate_response(answer.as_bytes(), &ex);
    let sent = v
        .body
        .map(|b| String::from_utf8(b).unwrap())
        .unwrap_or(answer.clone());
    assert!(
        v.decision != parapet_core::Decision::Mask || !sent.contains("jane.doe"),
        "{:?} {sent}",
        v.decision
    );
}

/// A JSON event the tree parser refuses (here a lone surrogate escape in a field the guard does
/// not read; Python's and JavaScript's JSON readers take it) is not read by the fast readers
/// either, which check every string as the tree parser does. The guard cannot read it, so it
/// follows `on_invalid_body`: under `block` (the default) the stream ends before it and nothing
/// of it is sent; under `pass` it goes out unread and the stream is `skipped`, never `allow`.
#[test]
fn a_json_event_the_tree_parser_refuses_follows_on_invalid_body() {
    let first = json!({"id": "c", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"role": "assistant"}}]});
    let bad = [
        r#"{"id":"\ud800","choices":[{"index":0,"delta":{"content":"mail jane.doe@example.com now"}}]}"#,
        r#"{"id":"c","created":1e400,"choices":[{"index":0,"delta":{"content":"mail jane.doe@example.com now"}}]}"#,
        r#"{"id":"c","choices":[{"index":0,"delta":{"content":"mail jane.doe@example.com now"}}"#,
    ];
    for chunk in bad {
        assert!(serde_json::from_str::<Value>(chunk).is_err());
        let body = format!("data: {first}\n\ndata: {chunk}\n\ndata: [DONE]\n\n");
        let mut g = stream::StreamGuard::for_dialect(Dialect::OpenAiChat, Vec::new());
        let mut out = g.push(policy(), body.as_bytes());
        out.extend(g.finish(policy()));
        let out = String::from_utf8_lossy(&out);
        assert!(!out.contains("jane.doe"), "{out}");
        assert_eq!(g.decision(), parapet_core::Decision::Block, "{chunk}");
        assert!(out.contains("not valid JSON"), "{out}");

        let pass = Policy::from_json(
            br#"{"version":1,"limits":{"on_invalid_body":"pass"},"guards":[{"id":"pii","hook":"llm_output","detector":{"type":"pii"},"action":"mask"}]}"#,
        )
        .unwrap();
        let mut g = stream::StreamGuard::for_dialect(Dialect::OpenAiChat, Vec::new());
        let mut out = g.push(&pass, body.as_bytes());
        out.extend(g.finish(&pass));
        assert_eq!(String::from_utf8_lossy(&out), body, "passed byte for byte");
        assert_eq!(g.decision(), parapet_core::Decision::Skipped, "{chunk}");
    }
}

/// A stream event the guard cannot read — longer than the decoder holds, or not UTF-8 — under
/// the default limits (`block`) ends the stream in its API's way with nothing of the event; under
/// `pass` it goes out byte for byte and the stream is `skipped`, never `allow`. An MCP stream
/// answering a guarded call gets a JSON-RPC error for it instead.
#[test]
fn stream_events_the_guard_cannot_read_follow_the_limits() {
    let chunk = |text: &str| {
        format!(
            "data: {}\n\n",
            json!({"id": "c", "object": "chat.completion.chunk",
                   "choices": [{"index": 0, "delta": {"content": text}}]})
        )
    };
    let huge = chunk(&format!("{} {SECRET}", "lorem ipsum ".repeat(100_000)));
    assert!(huge.len() > parapet_core::sse::MAX_EVENT_BYTES);
    let mut not_utf8 = chunk("hello").into_bytes();
    not_utf8[20] = 0xff;
    let ex = exchange(
        "/v1/chat/completions",
        r#"{"messages":[{"role":"user","content":"hi"}]}"#,
    );
    let lenient = Policy::from_json(
        br#"{"version": 1, "limits": {"on_oversize": "pass", "on_invalid_body": "pass"}, "guards": [
        {"id": "out-secrets", "hook": "llm_output", "detector": {"type": "secrets"}, "action": "block"}
    ]}"#,
    )
    .unwrap();
    for bad in [huge.as_bytes().to_vec(), not_utf8] {
        let mut body = chunk("Hello").into_bytes();
        body.extend_from_slice(&bad);
        body.extend_from_slice(b"data: [DONE]\n\n");
        // block: the first event goes out, the stream ends cleanly without the bad one
        let mut g = stream::for_response(&ex, Coding::Identity, 1 << 20);
        let mut out = Vec::new();
        for piece in body.chunks(65536) {
            out.extend(g.push(policy(), piece));
        }
        out.extend(g.finish(policy()));
        assert_eq!(g.decision(), Decision::Block);
        assert!(out.len() < 4096 && !out.windows(4).any(|w| w == b"AKIA"));
        let evs = events(&out);
        assert!(evs
            .iter()
            .any(|(_, v)| v["choices"][0]["finish_reason"] == "content_filter"));
        // pass: byte for byte, skipped with the reason
        let mut g = stream::for_response(&ex, Coding::Identity, 1 << 20);
        let mut out = Vec::new();
        for piece in body.chunks(65536) {
            out.extend(g.push(&lenient, piece));
        }
        out.extend(g.finish(&lenient));
        assert!(out == body, "passed unchanged");
        assert_eq!(g.decision(), Decision::Skipped);
        assert!(g.unread().is_some());
    }
    // An event past the limit is cut wherever the bytes fall, inside a UTF-8 character too: its
    // rest is part of the same long event (on_oversize), not an event that is not UTF-8.
    let oversize_only = Policy::from_json(
        br#"{"version": 1, "limits": {"on_oversize": "pass"}, "guards": [
        {"id": "out-secrets", "hook": "llm_output", "detector": {"type": "secrets"}, "action": "block"}
    ]}"#,
    )
    .unwrap();
    let body = format!(
        "{}{}data: [DONE]\n\n",
        chunk("Hello"),
        chunk(&"é".repeat(600_000))
    );
    for size in [65536, 65537, 99_999] {
        let mut g = stream::for_response(&ex, Coding::Identity, 1 << 20);
        let mut out = Vec::new();
        for piece in body.as_bytes().chunks(size) {
            out.extend(g.push(&oversize_only, piece));
        }
        out.extend(g.finish(&oversize_only));
        assert!(out == body.as_bytes(), "passed unchanged");
        assert_eq!(g.decision(), Decision::Skipped);
    }
    // MCP over SSE: the guarded call gets its error, and no byte of the result.
    let mcp_ex = exchange(
        "/mcp",
        r#"{"jsonrpc":"2.0","id":"t-1","method":"tools/call","params":{"name":"read","arguments":{}}}"#,
    );
    let result = json!({"jsonrpc": "2.0", "id": "t-1", "result": {"content": [
        {"type": "text", "text": "lorem ipsum ".repeat(100_000)}]}});
    let body = format!("event: message\ndata: {result}\n\n");
    let mut g = stream::for_response(&mcp_ex, Coding::Identity, 1 << 20);
    let mut out = Vec::new();
    for piece in body.as_bytes().chunks(65536) {
        out.extend(g.push(policy(), piece));
    }
    out.extend(g.finish(policy()));
    assert_eq!(g.decision(), Decision::Block);
    let evs = events(&out);
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0].1["id"], "t-1");
    assert_eq!(evs[0].1["error"]["code"], -32001);
    // A JSON-RPC message the tree parser refuses (cut short) answering the guarded call: the
    // same error under `block`; under `pass` it goes out byte for byte and the stream is skipped.
    let body = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":\"t-1\",\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"AKIAQX7MZT3KWJ5RLN2P\"}]}\n\n";
    let mut g = stream::for_response(&mcp_ex, Coding::Identity, 1 << 20);
    let mut out = g.push(policy(), body.as_bytes());
    out.extend(g.finish(policy()));
    assert_eq!(g.decision(), Decision::Block);
    let evs = events(&out);
    assert_eq!(evs.len(), 1);
    assert_eq!(evs[0].1["error"]["code"], -32001);
    assert!(evs[0].1["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not valid JSON"));
    assert!(!String::from_utf8_lossy(&out).contains(SECRET));
    let pass = Policy::from_json(
        br#"{"version":1,"limits":{"on_invalid_body":"pass"},"guards":[{"id":"s","hook":"mcp_post_tool","detector":{"type":"secrets"},"action":"block"}]}"#,
    )
    .unwrap();
    let mut g = stream::for_response(&mcp_ex, Coding::Identity, 1 << 20);
    let mut out = g.push(&pass, body.as_bytes());
    out.extend(g.finish(&pass));
    assert_eq!(out, body.as_bytes());
    assert_eq!(g.decision(), Decision::Skipped);
}
