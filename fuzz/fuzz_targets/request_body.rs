//! A request body in every API dialect through `Policy::evaluate_request_at` (what both hosts
//! call once the body is whole), under the default, rich and parallel policies, sent to every
//! dialect's path (or none). Properties:
//! - never panics;
//! - allow / audit / skipped carry no body (the host forwards the original bytes unchanged);
//!   a mask carries a body that is JSON; a reply, when there is one, is JSON;
//! - every slot every dialect reads from the parsed body points (JSON pointer) at exactly the
//!   string it read, so a mask is written back where the text was;
//! - `evaluate_request_at` (which reads common chat requests without a JSON tree) and
//!   `evaluate_request_tree` give the same verdict, body, reply and exchange.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parapet_core::engine::Decision;
use serde_json::Value;

#[path = "common/mod.rs"]
mod common;

// Input: policy selector, path selector (255: no path, as the verdict API and `parapet scan`
// call it), then the body.
fuzz_target!(|data: &[u8]| {
    let ([policy, path], body) = common::split::<2>(data);
    let p = common::policy(policy);
    let path = (path != 255).then(|| common::path(path));
    let v = p.evaluate_request_at(path, body);
    match v.decision {
        Decision::Allow | Decision::Audit | Decision::Skipped => {
            assert!(v.body.is_none(), "an unchanged decision rewrote the body");
        }
        Decision::Mask => {
            let b = v.body.as_deref().expect("a mask carries the rewritten body");
            serde_json::from_slice::<Value>(b).expect("a masked body is JSON");
        }
        Decision::Block => {}
    }
    if let Some(r) = &v.reply {
        serde_json::from_slice::<Value>(&r.body).expect("a reply is JSON");
    }
    // The typed read of chat requests and the tree path give the same verdict.
    let tree = p.evaluate_request_tree(path, body);
    assert_eq!(v.decision, tree.decision, "typed and tree paths disagree");
    assert_eq!(v.body, tree.body, "typed and tree paths rewrite differently");
    assert_eq!(
        v.reply.as_ref().map(|r| &r.body),
        tree.reply.as_ref().map(|r| &r.body),
        "typed and tree paths reply differently"
    );
    assert_eq!(v.exchange.restore, tree.exchange.restore);
    assert_eq!(v.exchange.dialect, tree.exchange.dialect);
    assert_eq!(v.findings.len(), tree.findings.len());
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    for d in common::DIALECTS {
        for slot in d.request_slots(&value) {
            assert_eq!(
                value.pointer(slot.path.pointer()).and_then(Value::as_str),
                Some(slot.text),
                "{d:?} slot {} does not point at its text",
                slot.path
            );
        }
    }
    for slot in parapet_core::mcp::request_slots(&value, &p.mcp_methods) {
        assert_eq!(
            value.pointer(slot.path.pointer()).and_then(Value::as_str),
            Some(slot.text),
            "MCP slot {} does not point at its text",
            slot.path
        );
    }
});
