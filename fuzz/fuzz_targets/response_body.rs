//! A buffered answer in every API dialect (and MCP results) through `Policy::evaluate_response`
//! (what both hosts call on a whole JSON response body), with or without reversible request
//! masks to put back. Properties:
//! - never panics;
//! - allow / audit / skipped with nothing to put back carry no body (the answer goes on byte
//!   for byte); a changed body is JSON;
//! - a blocked answer is replaced by a refusal, and the refusal, read again by the same
//!   guards, is not blocked again (the refusal left none of the blocked text in a field the
//!   guards read — nothing blocked leaks in it);
//! - every slot every dialect reads points at exactly the string it read;
//! - when the body parses as a JSON tree, `evaluate_response` (which reads common chat answers
//!   without a tree) gives the verdict and body `evaluate_response_value` gives on the tree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parapet_core::engine::{Decision, Exchange};
use serde_json::{json, Value};

#[path = "common/mod.rs"]
mod common;

// Input: policy selector, dialect selector, restore flag (bit 0), then the body.
fuzz_target!(|data: &[u8]| {
    let ([policy, dialect, restore], body) = common::split::<3>(data);
    let restore = restore & 1 == 1;
    let p = common::policy(policy);
    let dialect = common::dialect(dialect);
    let exchange = Exchange {
        mcp: (dialect == parapet_core::dialect::Dialect::Mcp)
            .then(|| vec![json!(1), json!("a"), json!(null)]),
        restore: if restore {
            vec![
                ("[EMAIL_1]".to_string(), "jane.doe@example.com".to_string()),
                ("[PHONE_1]".to_string(), "+1 \"555\" 0100".to_string()),
            ]
        } else {
            Vec::new()
        },
        dialect,
    };
    let v = p.evaluate_response(body, &exchange);
    match v.decision {
        Decision::Allow | Decision::Audit | Decision::Skipped if !restore => {
            assert!(v.body.is_none(), "an unchanged decision rewrote the answer");
        }
        Decision::Block => {
            let b = v.body.as_deref().expect("a blocked answer is replaced");
            let again = p.evaluate_response(
                b,
                &Exchange {
                    restore: Vec::new(),
                    ..exchange.clone()
                },
            );
            assert_ne!(
                again.decision,
                Decision::Block,
                "the refusal still holds blocked text: {}",
                String::from_utf8_lossy(b)
            );
        }
        _ => {}
    }
    if let Some(b) = &v.body {
        serde_json::from_slice::<Value>(b).expect("a changed answer is JSON");
    }
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    // The typed read of chat answers and the tree path give the same verdict and body.
    let slow = p.evaluate_response_value(&mut value.clone(), &exchange);
    assert_eq!(v.decision, slow.decision, "typed and tree paths disagree");
    assert_eq!(v.body, slow.body, "typed and tree paths rewrite differently");
    for d in common::DIALECTS {
        for slot in d.response_slots(&value) {
            assert_eq!(
                value.pointer(slot.path.pointer()).and_then(Value::as_str),
                Some(slot.text),
                "{d:?} slot {} does not point at its text",
                slot.path
            );
        }
    }
    let ids = parapet_core::mcp::result_ids(&value);
    for slot in parapet_core::mcp::response_slots(&value, &ids) {
        assert_eq!(
            value.pointer(slot.path.pointer()).and_then(Value::as_str),
            Some(slot.text),
            "MCP slot {} does not point at its text",
            slot.path
        );
    }
});
