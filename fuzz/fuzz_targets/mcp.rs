//! MCP (JSON-RPC 2.0) exchanges: a request body through `Policy::evaluate_request_at` at an MCP
//! endpoint, then its answer with that request's exchange — buffered (`evaluate_response`) or
//! streamed as SSE (`McpStream`) — and the `mcp` module's readers on both bodies.
//! Properties:
//! - never panics;
//! - a JSON-RPC request is read as MCP, and the ids kept for its answer are ids of its
//!   messages; a blocked one is answered with JSON-RPC (a JSON body);
//! - an answer that stays allowed / audited / skipped is not rewritten (buffered) or comes out
//!   byte for byte (streamed); a rewritten one is JSON-RPC; a refused one, read again, is not
//!   blocked again (nothing blocked is left in a result);
//! - `mcp::error_reply` is JSON, and every slot points at its text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parapet_core::dialect::Dialect;
use parapet_core::engine::{Decision, Exchange};
use parapet_core::{mcp, stream};
use serde_json::Value;

#[path = "common/mod.rs"]
mod common;

fn ids_of(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(items) => items.iter().filter_map(|m| m.get("id").cloned()).collect(),
        m => m.get("id").cloned().into_iter().collect(),
    }
}

fn slots_point_at_their_text(value: &Value, methods: &[String]) {
    let ids = mcp::result_ids(value);
    for slot in mcp::request_slots(value, methods)
        .into_iter()
        .chain(mcp::response_slots(value, &ids))
    {
        assert_eq!(
            value.pointer(slot.path.pointer()).and_then(Value::as_str),
            Some(slot.text),
            "slot {} does not point at its text",
            slot.path
        );
    }
}

// Input: policy, flags (bit 0: the answer is buffered JSON, else SSE), cut seed, cut count;
// then the request body, SEPARATOR, the response body.
fuzz_target!(|data: &[u8]| {
    let ([policy, flags, seed, count], rest) = common::split::<4>(data);
    let p = common::policy(policy);
    let (request, response) = common::two_bodies(rest);
    let parsed = serde_json::from_slice::<Value>(request).ok();
    if let Some(v) = &parsed {
        slots_point_at_their_text(v, &p.mcp_methods);
        let e = mcp::error_reply(v, &p.mcp_methods, "blocked \"x\"", "g");
        serde_json::from_slice::<Value>(&e).expect("error_reply is JSON");
    }
    let v = p.evaluate_request_at(Some("/mcp"), request);
    let exchange = match &parsed {
        Some(value) if mcp::is_jsonrpc(value) => {
            assert!(v.exchange.is_mcp() || v.decision == Decision::Block && v.exchange.mcp.is_none() && v.reason.is_some(),
                "a JSON-RPC body was not read as MCP: {v:?}");
            if let Some(ids) = &v.exchange.mcp {
                let all = ids_of(value);
                assert!(ids.iter().all(|i| all.contains(i)), "kept ids not in the request");
            }
            if v.decision == Decision::Block {
                if let Some(r) = &v.reply {
                    let reply: Value = serde_json::from_slice(&r.body).expect("reply is JSON");
                    assert!(mcp::is_jsonrpc(&reply) || reply == Value::Array(Vec::new()),
                        "a blocked MCP request answered without JSON-RPC: {reply}");
                }
                return;
            }
            v.exchange
        }
        _ => Exchange {
            mcp: Some(parsed.as_ref().map(ids_of).unwrap_or_default()),
            dialect: Dialect::Mcp,
            ..Exchange::default()
        },
    };
    if let Ok(value) = serde_json::from_slice::<Value>(response) {
        slots_point_at_their_text(&value, &p.mcp_methods);
    }
    if flags & 1 == 1 {
        let r = p.evaluate_response(response, &exchange);
        match r.decision {
            Decision::Allow | Decision::Audit | Decision::Skipped if exchange.restore.is_empty() => {
                assert!(r.body.is_none(), "an unchanged result was rewritten");
            }
            Decision::Block => {
                let b = r.body.as_deref().expect("a blocked result is replaced");
                let again = p.evaluate_response(b, &Exchange { restore: Vec::new(), ..exchange.clone() });
                assert_ne!(again.decision, Decision::Block, "refusal still blocked: {}", String::from_utf8_lossy(b));
            }
            _ => {}
        }
        if let Some(b) = &r.body {
            let out: Value = serde_json::from_slice(b).expect("a rewritten result is JSON");
            assert!(mcp::is_jsonrpc(&out), "a rewritten result is JSON-RPC");
        }
    } else {
        let mut g = stream::for_exchange(&exchange);
        let mut out = Vec::new();
        for chunk in common::chunks(response, &common::cuts(seed, count, response.len())) {
            out.extend(g.push(p, chunk));
        }
        out.extend(g.finish(p));
        assert!(out.len() <= response.len() * 8 + 16384, "output bounded");
        if matches!(g.decision(), Decision::Allow | Decision::Audit) && exchange.restore.is_empty() {
            assert!(out == response, "an allowed MCP stream was changed");
        }
    }
});
