//! Shared by the fuzz targets: the policies, paths and dialects they choose among, and cutting
//! a body into chunks.
#![allow(dead_code)]

use parapet_core::dialect::Dialect;
use parapet_core::Policy;
use std::sync::OnceLock;

/// Every dialect `Dialect` lists.
pub const DIALECTS: [Dialect; 7] = [
    Dialect::OpenAiChat,
    Dialect::OpenAiResponses,
    Dialect::AnthropicMessages,
    Dialect::Gemini,
    Dialect::Completions,
    Dialect::Embeddings,
    Dialect::Mcp,
];

pub fn dialect(sel: u8) -> Dialect {
    DIALECTS[usize::from(sel) % DIALECTS.len()]
}

/// Request paths: one per dialect, MCP's endpoint, paths that name nothing, query strings.
pub const PATHS: [&str; 12] = [
    "/v1/chat/completions",
    "/v1/responses",
    "/v1/messages",
    "/v1beta/models/gemini-2.0-flash:generateContent",
    "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse",
    "/v1/completions",
    "/v1/embeddings",
    "/mcp",
    "/v1/messages/count_tokens",
    "/",
    "/v1/chat/completions/?x=1#y",
    "",
];

pub fn path(sel: u8) -> &'static str {
    PATHS[usize::from(sel) % PATHS.len()]
}

/// A policy that exercises every action on every hook: reversible request masks (restored in
/// answers), audits, output masks and blocks, MCP guards on a second method, a short stream
/// hold-back, lenient limits (so unreadable bodies go on and their answers are read).
const RICH: &str = r#"{"version": 1, "decision_header": "x-parapet-decision",
  "limits": {"max_body_bytes": 65536, "max_decoded_bytes": 131072, "on_oversize": "pass",
             "on_invalid_body": "pass", "on_unrecognized": "pass"},
  "stream": {"hold_back_bytes": 8, "max_token_hold_bytes": 48},
  "mcp": {"methods": ["tools/call", "prompts/get"]},
  "guards": [
    {"id": "secrets", "detector": {"type": "secrets"}, "action": "block"},
    {"id": "pii", "detector": {"type": "pii"}, "action": "mask", "reversible": true},
    {"id": "codename", "detector": {"type": "wordlist", "kind": "codename", "terms": ["project nightingale"]}, "action": "audit"},
    {"id": "injection", "scope": ["user", "tool_results"], "detector": {"type": "injection_heuristics"}, "action": "block", "threshold": 0.5},
    {"id": "out-secrets", "hook": "llm_output", "detector": {"type": "secrets"}, "action": "block",
     "block_response": {"message": "withheld ({kinds})"}},
    {"id": "out-pii", "hook": "llm_output", "detector": {"type": "pii"}, "action": "mask"},
    {"id": "out-words", "hook": "llm_output", "detector": {"type": "wordlist", "kind": "codename", "terms": ["nightingale"]}, "action": "mask"},
    {"id": "out-regex", "hook": "llm_output", "detector": {"type": "regex", "patterns": [{"kind": "ticket", "pattern": "TCK-[0-9]{4}"}]}, "action": "audit"},
    {"id": "tool-secrets", "hook": "mcp_pre_tool", "detector": {"type": "secrets"}, "action": "block"},
    {"id": "tool-pii", "hook": "mcp_pre_tool", "detector": {"type": "pii"}, "action": "mask"},
    {"id": "result-injection", "hook": "mcp_post_tool", "detector": {"type": "injection_heuristics"}, "action": "block"},
    {"id": "result-secrets", "hook": "mcp_post_tool", "detector": {"type": "secrets"}, "action": "mask"}
  ]}"#;

/// The same guards in parallel input mode (request masks are not allowed there).
const PARALLEL: &str = r#"{"version": 1, "input_mode": "parallel",
  "limits": {"max_body_bytes": 65536},
  "guards": [
    {"id": "secrets", "detector": {"type": "secrets"}, "action": "block"},
    {"id": "pii", "detector": {"type": "pii"}, "action": "audit"},
    {"id": "out-secrets", "hook": "llm_output", "detector": {"type": "secrets"}, "action": "block"},
    {"id": "out-pii", "hook": "llm_output", "detector": {"type": "pii"}, "action": "mask"},
    {"id": "result-secrets", "hook": "mcp_post_tool", "detector": {"type": "secrets"}, "action": "mask"}
  ]}"#;

pub fn default_policy() -> &'static Policy {
    static P: OnceLock<Policy> = OnceLock::new();
    P.get_or_init(|| Policy::default_policy().expect("default policy compiles"))
}

pub fn rich_policy() -> &'static Policy {
    static P: OnceLock<Policy> = OnceLock::new();
    P.get_or_init(|| Policy::from_json(RICH.as_bytes()).expect("rich policy compiles"))
}

pub fn parallel_policy() -> &'static Policy {
    static P: OnceLock<Policy> = OnceLock::new();
    P.get_or_init(|| Policy::from_json(PARALLEL.as_bytes()).expect("parallel policy compiles"))
}

/// The shipped default policy, the rich one, or the parallel one.
pub fn policy(sel: u8) -> &'static Policy {
    match sel % 3 {
        0 => default_policy(),
        1 => rich_policy(),
        _ => parallel_policy(),
    }
}

/// `body` cut at the (sorted, reduced) points `raw`.
pub fn chunks<'a>(body: &'a [u8], raw: &[u16]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = raw
        .iter()
        .take(16)
        .map(|c| usize::from(*c) % (body.len() + 1))
        .collect();
    cuts.sort_unstable();
    let mut out = Vec::with_capacity(cuts.len() + 1);
    let mut at = 0;
    for c in cuts {
        out.push(&body[at..c]);
        at = c;
    }
    out.push(&body[at..]);
    out
}

/// A fuzz input as `H` selector bytes followed by the body (missing bytes read as 0), so the
/// body is the input's own bytes and mutations and dictionary words land in it directly.
pub fn split<const H: usize>(data: &[u8]) -> ([u8; H], &[u8]) {
    let mut head = [0u8; H];
    let n = data.len().min(H);
    head[..n].copy_from_slice(&data[..n]);
    (head, &data[n..])
}

/// Up to `count % 8` cut points of a body of `len` bytes, from a seed byte.
pub fn cuts(seed: u8, count: u8, len: usize) -> Vec<u16> {
    let mut x = u32::from(seed) * 2_654_435_761 + 1;
    (0..count % 8)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x % (len as u32 + 1)) as u16
        })
        .collect()
}

/// The request / response separator of the two-body targets.
pub const SEPARATOR: &[u8] = b"\n\x00--response--\x00\n";

/// `data` split at the first [`SEPARATOR`] (all of it the first part if there is none).
pub fn two_bodies(data: &[u8]) -> (&[u8], &[u8]) {
    match data.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
        Some(i) => (&data[..i], &data[i + SEPARATOR.len()..]),
        None => (data, &[]),
    }
}
