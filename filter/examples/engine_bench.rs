//! The filter's engine alone, timed inside the process: the default policy's request scan (the
//! `cargo bench -p parapet-core --bench scan` inputs: 2 KB, 4 KB and 64 KB chat requests; warm,
//! sent to the chat completions path, and with the caches cooled between calls), everything the filter runs for one request of
//! `benches/load.py` (host calls aside), each default request guard alone and the normaliser
//! on 64 KB, the two tier-2 models on 2 KB and 64 KB requests, and the stream guard on the
//! same words as a chat, Anthropic Messages, OpenAI Responses and Gemini stream in 16 KB
//! chunks. Natively (`cargo build --profile bench -p
//! parapet-filter --example engine_bench`), or built for `wasm32-wasip1` and run by
//! `benches/engine_v8.mjs` in Node's V8 (the engine Envoy embeds), so the engine's cost in V8
//! can be set beside the native figures and profiled (`node --cpu-prof`) without Envoy around
//! it. An argument keeps only the cases whose name starts with it.
//!
//! Prints one JSON object: per case the median µs per call over `ROUNDS` batches, and MiB/s.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use parapet_core::decision_log::DecisionLog;
use parapet_core::dialect::Dialect;
use parapet_core::exchange::GuardedExchange;
use parapet_core::policies::RequestFacts;
use parapet_core::stream::StreamGuard;
use parapet_core::Policy;

#[path = "../../core/benches/common/inputs.rs"]
mod inputs;
use inputs::{chat_body, chat_stream, text_of_size, SAMPLE};

const ROUNDS: usize = 15;

/// Median µs per call of `f`, in batches sized to ~20 ms (or, with `ENGINE_BENCH_ITERS=n`,
/// exactly `n` calls in one batch: a fixed workload for `perf stat -e instructions`).
fn time<R>(mut f: impl FnMut() -> R) -> f64 {
    if let Some(n) = std::env::var("ENGINE_BENCH_ITERS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(f());
        }
        return t.elapsed().as_secs_f64() * 1e6 / n.max(1) as f64;
    }
    let t = Instant::now();
    std::hint::black_box(f());
    let once = t.elapsed().as_secs_f64().max(1e-7);
    let batch = ((0.02 / once) as usize).clamp(1, 100_000);
    let mut per = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let t = Instant::now();
        for _ in 0..batch {
            std::hint::black_box(f());
        }
        per.push(t.elapsed().as_secs_f64() * 1e6 / batch as f64);
    }
    per.sort_by(f64::total_cmp);
    per[ROUNDS / 2]
}

fn case(out: &mut serde_json::Map<String, serde_json::Value>, name: &str, bytes: usize, us: f64) {
    let mib_s = bytes as f64 / (us / 1e6) / (1024.0 * 1024.0);
    eprintln!("{name:<40} {us:>10.1} µs  {mib_s:>8.1} MiB/s");
    out.insert(
        name.to_string(),
        serde_json::json!({"us": us, "bytes": bytes, "mib_per_s": mib_s}),
    );
}

/// A request with no route metadata or tenant: the set's default policy.
struct NoFacts;

impl RequestFacts for NoFacts {
    fn header(&self, _name: &str) -> Option<String> {
        None
    }
    fn route_metadata(&self, _namespace: &str, _key: &str) -> Option<String> {
        None
    }
    fn dynamic_metadata(&self, _namespace: &str, _path: &[String]) -> Option<String> {
        None
    }
}

/// The same words as an Anthropic Messages stream: `message_start`, one text block of `n`
/// `content_block_delta` events, its stop, `message_delta`, `message_stop`.
fn anthropic_stream(n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut ev = |name: &str, v: serde_json::Value| {
        out.extend_from_slice(format!("event: {name}\ndata: {v}\n\n").as_bytes());
    };
    ev(
        "message_start",
        serde_json::json!({"type": "message_start", "message": {"id": "msg_1", "type": "message",
            "role": "assistant", "content": [], "model": "m", "stop_reason": null,
            "usage": {"input_tokens": 10, "output_tokens": 1}}}),
    );
    ev(
        "content_block_start",
        serde_json::json!({"type": "content_block_start", "index": 0,
            "content_block": {"type": "text", "text": ""}}),
    );
    for word in SAMPLE.split_inclusive(' ').cycle().take(n) {
        ev(
            "content_block_delta",
            serde_json::json!({"type": "content_block_delta", "index": 0,
                "delta": {"type": "text_delta", "text": word}}),
        );
    }
    ev(
        "content_block_stop",
        serde_json::json!({"type": "content_block_stop", "index": 0}),
    );
    ev(
        "message_delta",
        serde_json::json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": n}}),
    );
    ev("message_stop", serde_json::json!({"type": "message_stop"}));
    out
}

/// The same words as an OpenAI Responses stream: `response.created`, `n`
/// `response.output_text.delta` events, `response.output_text.done` with the whole text.
fn responses_stream(n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut seq = 0;
    let mut ev = |name: &str, mut v: serde_json::Value| {
        v["sequence_number"] = serde_json::json!(seq);
        seq += 1;
        out.extend_from_slice(format!("event: {name}\ndata: {v}\n\n").as_bytes());
    };
    ev(
        "response.created",
        serde_json::json!({"type": "response.created", "response": {"id": "resp_1",
            "object": "response", "status": "in_progress", "model": "m", "output": []}}),
    );
    let mut text = String::new();
    for word in SAMPLE.split_inclusive(' ').cycle().take(n) {
        text.push_str(word);
        ev(
            "response.output_text.delta",
            serde_json::json!({"type": "response.output_text.delta", "item_id": "msg_1",
                "output_index": 0, "content_index": 0, "delta": word}),
        );
    }
    ev(
        "response.output_text.done",
        serde_json::json!({"type": "response.output_text.done", "item_id": "msg_1",
            "output_index": 0, "content_index": 0, "text": text}),
    );
    out
}

/// The same words as a Gemini `streamGenerateContent?alt=sse` stream: one text part per chunk.
fn gemini_stream(n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, word) in SAMPLE.split_inclusive(' ').cycle().take(n).enumerate() {
        let v = serde_json::json!({"candidates": [{"content": {"parts": [{"text": word}],
            "role": "model"}, "index": 0}], "usageMetadata": {"promptTokenCount": 10,
            "candidatesTokenCount": i + 1, "totalTokenCount": i + 11}, "modelVersion": "m"});
        out.extend_from_slice(format!("data: {v}\r\n\r\n").as_bytes());
    }
    out
}

fn main() {
    let only = std::env::args().nth(1).unwrap_or_default();
    let want = |name: &str| only.is_empty() || name.starts_with(&only);
    let policy = Policy::default_policy().unwrap();
    let mut out = serde_json::Map::new();
    for size in [2 * 1024, 4 * 1024, 64 * 1024] {
        let body = chat_body(&text_of_size(size));
        assert_eq!(
            policy.evaluate_request(&body).decision,
            parapet_core::Decision::Allow
        );
        let name = format!("default_policy/request/{size}");
        if want(&name) {
            case(
                &mut out,
                &name,
                body.len(),
                time(|| policy.evaluate_request(&body)),
            );
        }
        // The same body sent to the chat completions path, as the filter reads it (path-less,
        // as above, is how the verdict API and `parapet scan` call it).
        let name = format!("default_policy/chat_path/{size}");
        if want(&name) {
            let path = Some("/v1/chat/completions");
            case(
                &mut out,
                &name,
                body.len(),
                time(|| policy.evaluate_request_at(path, &body)),
            );
        }
        // The same with the caches cooled between calls, as a proxy's own work between two
        // requests does (a 2 MiB buffer walked before each call; that walk alone subtracted).
        let name = format!("default_policy/request_cold/{size}");
        if want(&name) {
            let mut junk = vec![0u8; 2 << 20];
            let cool = |j: &mut Vec<u8>| {
                for (i, b) in j.iter_mut().enumerate().step_by(64) {
                    *b = b.wrapping_add(i as u8);
                }
            };
            let walk = time(|| cool(&mut junk));
            let both = time(|| {
                cool(&mut junk);
                policy.evaluate_request(&body)
            });
            case(&mut out, &name, body.len(), both - walk);
        }
    }
    // Everything the filter runs in the VM for one request of `benches/load.py` (envoy/bench.yaml's
    // default policy, its upstream's fixed chat completion), host calls aside: policy
    // selection, request headers and body, the response headers and body, the decision records
    // and their filter-state JSON.
    let set = parapet_core::PolicySet::default_policy().unwrap();
    const REPLY: &[u8] = br#"{"id":"chatcmpl-bench","object":"chat.completion","created":0,"model":"bench","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}"#;
    for size in [2 * 1024, 64 * 1024] {
        let name = format!("filter_path/{size}");
        if !want(&name) {
            continue;
        }
        let body = chat_body(&text_of_size(size));
        let len = body.len().to_string();
        let request_header = |name: &str| match name {
            ":path" => Some("/v1/chat/completions".to_string()),
            "content-type" => Some("application/json".to_string()),
            "content-length" => Some(len.clone()),
            _ => None,
        };
        let response_header = |name: &str| match name {
            "content-type" => Some("application/json".to_string()),
            _ => None,
        };
        let us = time(|| {
            let mut machine = GuardedExchange::new();
            let mut log = DecisionLog::new();
            let publish = |machine: &mut GuardedExchange, log: &mut DecisionLog| {
                let records = machine.take_records();
                for r in &records {
                    std::hint::black_box(r.log_line(Some(1)));
                    log.add(r, Some(1), None);
                }
                if !records.is_empty() {
                    std::hint::black_box(log.to_json_string());
                }
            };
            let policy = machine.select(&set, &NoFacts).unwrap();
            let (edits, _) = machine.request_headers(&policy, &request_header, false);
            std::hint::black_box(edits);
            publish(&mut machine, &mut log);
            let step = machine.request_body(&policy, body.len(), true, &mut || Ok(body.clone()));
            std::hint::black_box(step);
            publish(&mut machine, &mut log);
            let (edits, _) = machine.response_headers(&policy, &response_header, false);
            std::hint::black_box(edits);
            publish(&mut machine, &mut log);
            let step =
                machine.response_body(&policy, REPLY.len(), true, &mut || Ok(REPLY.to_vec()));
            std::hint::black_box(step);
            publish(&mut machine, &mut log);
        });
        case(&mut out, &name, body.len(), us);
    }

    let config = parapet_core::Config::default_policy().unwrap();
    let text = text_of_size(64 * 1024);
    for guard in config
        .guards
        .iter()
        .filter(|g| g.hook == parapet_core::config::Hook::LlmInput)
    {
        let name = format!("guard_alone/{}/65536", guard.id);
        if !want(&name) {
            continue;
        }
        let single = parapet_core::Config {
            guards: vec![guard.clone()],
            ..config.clone()
        };
        let p = Policy::compile(&single).unwrap();
        case(&mut out, &name, text.len(), time(|| p.evaluate_text(&text)));
    }
    // Tier 2 alone: the two shipped models on every window of the request's text (an
    // uncertain score passes here; the cascade policy would escalate it), as in
    // `benches/tier2_latency.py` without Envoy around it.
    let tier2 = Policy::from_json(
        br#"{"version":1,"guards":[
            {"id":"injection-model","detector":{"type":"model","model":"injection","on_uncertain":"pass"},"action":"block"},
            {"id":"toxicity-model","detector":{"type":"model","model":"toxicity","on_uncertain":"pass"},"action":"block"}]}"#,
    );
    for size in [2 * 1024, 64 * 1024] {
        let name = format!("tier2_models/request/{size}");
        if !want(&name) {
            continue;
        }
        let Ok(p) = &tier2 else {
            continue; // built without the models
        };
        let body = chat_body(&text_of_size(size));
        assert_eq!(
            p.evaluate_request(&body).decision,
            parapet_core::Decision::Allow
        );
        case(
            &mut out,
            &name,
            body.len(),
            time(|| p.evaluate_request(&body)),
        );
    }
    if want("guard_alone/normalize_only") {
        case(
            &mut out,
            "guard_alone/normalize_only/65536",
            text.len(),
            time(|| parapet_core::normalize::Normalized::new(&text)),
        );
    }
    for (name, dialect, body) in [
        (
            "stream/chunks_16k/2000",
            Dialect::OpenAiChat,
            chat_stream(2000),
        ),
        (
            "stream_anthropic/chunks_16k/2000",
            Dialect::AnthropicMessages,
            anthropic_stream(2000),
        ),
        (
            "stream_responses/chunks_16k/2000",
            Dialect::OpenAiResponses,
            responses_stream(2000),
        ),
        (
            "stream_gemini/chunks_16k/2000",
            Dialect::Gemini,
            gemini_stream(2000),
        ),
    ] {
        if !want(name) {
            continue;
        }
        let chunks: Vec<&[u8]> = body.chunks(16 * 1024).collect();
        case(
            &mut out,
            name,
            body.len(),
            time(|| {
                let mut guard = StreamGuard::for_dialect(dialect, Vec::new());
                let mut n = 0;
                for chunk in &chunks {
                    n += guard.push(&policy, chunk).len();
                }
                n + guard.finish(&policy).len()
            }),
        );
    }
    println!("{}", serde_json::Value::Object(out));
}
