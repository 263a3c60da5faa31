//! The verdict APIs as ext-proc serves them: `POST /v1/guardrails/{hook}`
//! (`verdict_api::hook_of_path` → `evaluate_hook` → `settle` → `reply` / `record`) and
//! `POST /v1/filter` (`filter_messages` → per message `message_request` → `evaluate_hook` →
//! `filtered_entry`, `message_text`). Properties: never panics; a caller's error is a 4xx with
//! a JSON body; the reply's `verdict` is false exactly for a block, and a mask's reply carries
//! the rewritten body (JSON); every message `/v1/filter` accepts is evaluable as `llm_input`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parapet_core::engine::Decision;
use parapet_core::verdict_api::{self, ApiError};
use serde_json::Value;

#[path = "common/mod.rs"]
mod common;

const HOOKS: [&str; 6] = [
    "llm_input",
    "llm_output",
    "mcp_pre_tool",
    "mcp_post_tool",
    "filter",
    "llm-input",
];

fn caller_error(e: &ApiError) {
    assert!((400..500).contains(&e.status), "not a caller error: {e:?}");
    let _ = e.body().to_string();
}

// Input: hook selector, policy selector, then the body.
fuzz_target!(|data: &[u8]| {
    let ([hook, policy], body) = common::split::<2>(data);
    let p = common::policy(policy);
    let name = HOOKS[usize::from(hook) % HOOKS.len()];
    if name == "filter" {
        match verdict_api::filter_messages(p, body) {
            Ok(messages) => {
                for m in &messages {
                    let request = verdict_api::message_request(m);
                    let hook = verdict_api::hook_of_path("llm_input").expect("llm_input is a hook");
                    let mut call = verdict_api::evaluate_hook(p, hook, &request)
                        .expect("an accepted message is an llm_input request");
                    call.settle(p, &[], Vec::new());
                    let _ = verdict_api::message_text(m);
                    let entry = verdict_api::filtered_entry(p, m, &call, Vec::new());
                    let action = entry.get("action").and_then(Value::as_str);
                    assert!(matches!(action, Some("allow" | "mask" | "block")), "{entry}");
                }
            }
            Err(e) => caller_error(&e),
        }
        return;
    }
    let hook = match verdict_api::hook_of_path(name) {
        Ok(h) => h,
        Err(e) => {
            assert_eq!(e.status, 404);
            return;
        }
    };
    match verdict_api::evaluate_hook(p, hook, body) {
        Ok(mut call) => {
            call.settle(p, &[], Vec::new());
            let reply = call.reply(p);
            let _ = call.record(p).to_string();
            let d = call.verdict.decision;
            assert_eq!(reply["verdict"], Value::Bool(d != Decision::Block), "{reply}");
            if d == Decision::Mask {
                if let Some(b) = &call.verdict.body {
                    serde_json::from_slice::<Value>(b).expect("a masked body is JSON");
                    assert!(!reply["body"].is_null(), "a mask's reply lost its body");
                }
            }
        }
        Err(e) => caller_error(&e),
    }
});
