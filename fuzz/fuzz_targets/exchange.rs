//! Whole exchanges through `GuardedExchange`, the sans-IO state machine both hosts (the
//! proxy-wasm filter and ext_proc) drive: request headers (path of every dialect and MCP,
//! content-encoding, content-length), the request body in chunks (Envoy's buffering: each
//! call sees all so far; parallel mode: each chunk), then response headers (JSON, SSE or
//! other; any coding) and the response body (buffered, or streamed chunk by chunk).
//! Properties:
//! - never panics; every pause ends in a decision (no `Buffer` at the end of a body, no
//!   escalation without a heavy-tier guard);
//! - the request: `Continue` at the end only for allow / audit / skipped (the host forwards
//!   the bytes it has, unchanged), `Replace` only for a mask (a JSON body, in the request's
//!   coding), `Reply` only for a block (a JSON body); one request record, matching;
//! - the response: a buffered answer that ends allowed / audited / skipped is not replaced; a
//!   streamed one that ends allowed / audited comes out byte for byte (decoded, if it was
//!   coded) — unless the request was reversibly masked and placeholders may be put back; at
//!   most one response record; the client's bytes stay bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parapet_core::coding::Coding;
use parapet_core::config::InputMode;
use parapet_core::engine::Decision;
use parapet_core::exchange::{BodyMode, Direction, GuardedExchange, Step};
use serde_json::Value;

#[path = "common/mod.rs"]
mod common;

const CODINGS: [&str; 7] = ["", "gzip", "deflate", "br", "zstd", "identity", "compress"];
const CONTENT_TYPES: [&str; 5] = [
    "application/json",
    "text/event-stream",
    "text/plain",
    "application/problem+json; charset=utf-8",
    " Text/Event-Stream;charset=utf-8",
];

fn coding_of(name: &str) -> Option<Coding> {
    Coding::parse(name).ok()
}

/// `body` as sent with `content-encoding: name`: encoded when `encode` (so it decodes), else
/// the fuzzer's bytes as they are.
fn sent(name: &str, encode: bool, body: &[u8]) -> Vec<u8> {
    match coding_of(name) {
        Some(c) if encode => c.encode(body),
        _ => body.to_vec(),
    }
}

fn is_json(b: &[u8]) -> bool {
    serde_json::from_slice::<Value>(b).is_ok()
}

// Input: policy, path, request coding, response content type, response coding, flags (bit 0:
// encode the request, bit 1: encode the response, bit 2: send content-length, bit 3: the host
// fails to read the request body), request cut seed and count, response cut seed and count;
// then the request body, SEPARATOR, the response body.
fuzz_target!(|data: &[u8]| {
    let (h, rest) = common::split::<10>(data);
    let [policy, path, req_coding, ctype, resp_coding, flags, rq_seed, rq_count, rs_seed, rs_count] = h;
    let p = common::policy(policy);
    let path = common::path(path);
    let req_coding = CODINGS[usize::from(req_coding) % CODINGS.len()];
    let resp_coding = CODINGS[usize::from(resp_coding) % CODINGS.len()];
    let ctype = CONTENT_TYPES[usize::from(ctype) % CONTENT_TYPES.len()];
    let (request, response) = common::two_bodies(rest);
    let request = sent(req_coding, flags & 1 != 0, request);
    let response = sent(resp_coding, flags & 2 != 0, response);
    let parallel = p.input_mode == InputMode::Parallel;

    let mut m = GuardedExchange::new();
    let content_length = request.len().to_string();
    let req_headers = |name: &str| match name {
        ":path" => Some(path.to_string()),
        "content-encoding" if !req_coding.is_empty() => Some(req_coding.to_string()),
        "content-length" if flags & 4 != 0 => Some(content_length.clone()),
        "x-request-id" => Some("fuzz".to_string()),
        _ => None,
    };
    let (_, mut step) = m.request_headers(p, &req_headers, request.is_empty());
    let mut answered = false;
    let mut request_masked = false;
    if let Step::Reply(r) = &step {
        assert!(is_json(&r.body), "a reply is JSON");
        assert_eq!(m.decision(), Some(Decision::Block));
        answered = true;
    }
    if !answered && !request.is_empty() {
        let chunks = common::chunks(&request, &common::cuts(rq_seed, rq_count, request.len()));
        let mut buffered: Vec<u8> = Vec::new();
        for (i, chunk) in chunks.iter().enumerate() {
            let end = i + 1 == chunks.len();
            if parallel {
                buffered = chunk.to_vec();
            } else {
                buffered.extend_from_slice(chunk);
            }
            let snapshot = buffered.clone();
            let fail = flags & 8 != 0 && end;
            step = m.request_body(p, snapshot.len(), end, &mut || {
                if fail {
                    Err("host read failed".to_string())
                } else {
                    Ok(snapshot.clone())
                }
            });
            match &step {
                Step::Buffer => assert!(!end && !parallel, "a pause at the end would hang"),
                Step::Continue if !end && !parallel => {
                    // Decided before the end: only over the size limit.
                    assert!(m.decision().is_some());
                }
                Step::Continue => {}
                Step::Replace(b) => {
                    assert_eq!(m.decision(), Some(Decision::Mask), "only a mask rewrites");
                    let plain = match coding_of(req_coding) {
                        Some(c) => c.decode(b, usize::MAX).expect("re-encoded in its coding"),
                        None => b.clone(),
                    };
                    assert!(is_json(&plain), "a masked request is JSON: {:?} from {:?}", String::from_utf8_lossy(&plain), &b[..b.len().min(40)]);
                    request_masked = true;
                }
                Step::Reply(r) => {
                    assert!(is_json(&r.body), "a reply is JSON");
                    assert_eq!(m.decision(), Some(Decision::Block), "only a block answers");
                    answered = true;
                }
                Step::Escalate { .. } => panic!("escalation without a heavy-tier guard"),
            }
            if answered {
                break;
            }
        }
        let d = m.decision().expect("the request body ended in a decision");
        if matches!(step, Step::Continue) {
            assert!(
                matches!(d, Decision::Allow | Decision::Audit | Decision::Skipped),
                "{d:?} went on unchanged"
            );
        }
    }
    let records = m.take_records();
    assert!(records.len() <= 1, "one request record");
    for r in &records {
        assert_eq!(r.direction, Direction::Request);
        assert_eq!(Some(r.decision), m.decision());
    }
    if answered {
        return;
    }

    // The response.
    let resp_headers = |name: &str| match name {
        "content-type" => Some(ctype.to_string()),
        "content-encoding" if !resp_coding.is_empty() => Some(resp_coding.to_string()),
        _ => None,
    };
    let (_, step) = m.response_headers(p, &resp_headers, response.is_empty());
    assert!(matches!(step, Step::Continue), "response headers go on");
    let mode = m.body_mode();
    let chunks = common::chunks(&response, &common::cuts(rs_seed, rs_count, response.len()));
    let mut client = Vec::new();
    let mut held: Vec<u8> = Vec::new();
    let mut last = Step::Continue;
    if !response.is_empty() {
        for (i, chunk) in chunks.iter().enumerate() {
            let end = i + 1 == chunks.len();
            if mode == BodyMode::Streamed {
                held = chunk.to_vec();
            } else {
                held.extend_from_slice(chunk);
            }
            let snapshot = held.clone();
            last = m.response_body(p, held.len(), end, &mut || Ok(snapshot.clone()));
            match &last {
                Step::Buffer => assert!(!end, "a response pause at the end would hang"),
                Step::Replace(b) => {
                    client.extend_from_slice(b);
                    held.clear();
                }
                Step::Continue => {
                    client.extend_from_slice(&held);
                    held.clear();
                }
                other => panic!("unexpected response step {other:?}"),
            }
        }
    }
    let records = m.take_records();
    assert!(records.len() <= 1, "one response record: {records:?}");
    let decoded = || match coding_of(resp_coding) {
        Some(c) => c.decode(&response, usize::MAX).ok(),
        None => None,
    };
    let bound = decoded().map_or(response.len(), |d| d.len().max(response.len()));
    assert!(
        client.len() <= bound * 8 + 16384,
        "client got {} bytes for {}",
        client.len(),
        response.len()
    );
    let Some(r) = records.first() else {
        if mode != BodyMode::Pass && !response.is_empty() {
            panic!("a guarded response body ended without a record");
        }
        assert_eq!(client, response, "an unguarded response was changed");
        return;
    };
    assert_eq!(r.direction, Direction::Response);
    let unchanged = matches!(r.decision, Decision::Allow | Decision::Audit | Decision::Skipped);
    if !unchanged || request_masked {
        return;
    }
    match mode {
        BodyMode::Buffered => {
            assert!(matches!(last, Step::Continue), "an allowed answer was replaced");
            assert_eq!(client, response);
        }
        BodyMode::Streamed if r.decision != Decision::Skipped => {
            let expect = match coding_of(resp_coding) {
                Some(Coding::Identity) => Some(response.clone()),
                _ => decoded(),
            };
            if let Some(expect) = expect {
                assert!(client == expect, "an allowed stream was changed");
            }
        }
        _ => {}
    }
});
