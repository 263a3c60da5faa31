//! Streamed (SSE) answers in every API dialect through the stream guard for that dialect
//! (`stream::for_exchange`: `StreamGuard::for_dialect`, or `McpStream` for MCP), as the hosts
//! feed it, over arbitrary upstream bytes cut at arbitrary points, with or without reversible
//! request masks to put back. Properties:
//! - never panics;
//! - output stays bounded by the input;
//! - a stream that ends allowed (or audited) with nothing to put back comes out byte for byte
//!   as it went in, whatever the cuts;
//! - a guard that decided `block` has ended the stream (is terminated).
#![no_main]

use libfuzzer_sys::fuzz_target;
use parapet_core::dialect::Dialect;
use parapet_core::engine::{Decision, Exchange};
use parapet_core::stream;
use serde_json::json;

#[path = "common/mod.rs"]
mod common;

// Input: policy, dialect, restore flag (bit 0), cut seed, cut count, then the stream.
fuzz_target!(|data: &[u8]| {
    let ([policy, dialect, restore, seed, count], body) = common::split::<5>(data);
    let p = common::policy(policy);
    let dialect = common::dialect(dialect);
    let restore = restore & 1 == 1;
    let exchange = Exchange {
        mcp: (dialect == Dialect::Mcp).then(|| vec![json!(1), json!("a")]),
        restore: if restore {
            vec![("[EMAIL_1]".to_string(), "jane.doe@example.com".to_string())]
        } else {
            Vec::new()
        },
        dialect,
    };
    let mut g = stream::for_exchange(&exchange);
    let mut out = Vec::new();
    for chunk in common::chunks(body, &common::cuts(seed, count, body.len())) {
        out.extend(g.push(p, chunk));
    }
    out.extend(g.finish(p));
    assert!(
        out.len() <= body.len() * 8 + 16384,
        "output of {} bytes for {} in",
        out.len(),
        body.len()
    );
    match g.decision() {
        Decision::Allow | Decision::Audit if !restore => {
            assert!(out == body, "an allowed stream was changed");
        }
        Decision::Block if dialect != Dialect::Mcp => {
            assert!(g.is_terminated(), "a blocked stream was not ended");
        }
        _ => {}
    }
});
