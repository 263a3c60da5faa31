//! Config loading: the single-policy form (`Config::from_json` → `Policy::compile`) and the
//! named form (`Document::from_json` → `PolicySet::compile`, as the hosts load it), then a
//! compiled policy used: policy selection from request facts, a request, an answer and a
//! stream through it. (Core reads JSON only; YAML is the CLI's, turned into the same JSON
//! value.) Properties: never panics; a failed load has at least one error, each naming a
//! path; the selected policy is one of the set's; a compiled policy evaluates without
//! panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parapet_core::config::Document;
use parapet_core::policies::RequestFacts;
use parapet_core::stream::StreamGuard;
use parapet_core::{Config, Policy, PolicySet};

struct Facts;

impl RequestFacts for Facts {
    fn header(&self, name: &str) -> Option<String> {
        match name {
            "x-parapet-policy" => Some("strict".into()),
            "x-tenant" => Some(" acme ".into()),
            _ => None,
        }
    }
    fn route_metadata(&self, _namespace: &str, key: &str) -> Option<String> {
        (key == "policy").then(|| "base".into())
    }
    fn dynamic_metadata(&self, _namespace: &str, path: &[String]) -> Option<String> {
        path.first().cloned()
    }
}

const REQUEST: &[u8] = br#"{"messages":[{"role":"user","content":"mail jane.doe@example.com key AKIAQX7MZT3KWJ5RLN2P"}]}"#;
const ANSWER: &[u8] = br#"{"choices":[{"index":0,"message":{"role":"assistant","content":"call +1 415 555 0100"}}]}"#;
const STREAM: &[u8] = b"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi jane.doe@example.com\"}}]}\n\ndata: [DONE]\n\n";

fn exercise(p: &Policy) {
    let v = p.evaluate_request_at(Some("/v1/chat/completions"), REQUEST);
    let _ = p.evaluate_response(ANSWER, &v.exchange);
    let mut g = StreamGuard::for_dialect(v.exchange.dialect, v.exchange.restore.clone());
    let _ = g.push(p, STREAM);
    let _ = g.finish(p);
}

// Input: form selector (bit 0: named form), then the config JSON.
fuzz_target!(|data: &[u8]| {
    let Some((&form, json)) = data.split_first() else {
        return;
    };
    if form & 1 == 0 {
        match Config::from_json(json) {
            Ok(config) => match Policy::compile(&config) {
                Ok(p) => exercise(&p),
                Err(errors) => assert!(!errors.0.is_empty(), "a failed compile names no error"),
            },
            // (An empty key is a field named "": its path is empty.)
            Err(e) => assert!(
                !e.path.is_empty() || json.windows(2).any(|w| w == b"\"\""),
                "a config error names no path: {e}"
            ),
        }
    } else {
        match Document::from_json(json) {
            Ok(doc) => match PolicySet::compile(&doc) {
                Ok(set) => {
                    if let Ok(chosen) = set.select(&Facts) {
                        assert!(set.names().any(|n| n == &*chosen.policy.name));
                        exercise(&chosen.policy);
                    }
                }
                Err(errors) => assert!(!errors.0.is_empty(), "a failed compile names no error"),
            },
            // (An empty key is a field named "": its path is empty.)
            Err(e) => assert!(
                !e.path.is_empty() || json.windows(2).any(|w| w == b"\"\""),
                "a config error names no path: {e}"
            ),
        }
    }
});
