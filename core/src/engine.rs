//! The decision: run every guard over every slot it reads, then allow, audit, mask or block.
//!
//! Precedence is `block` > `mask` > `audit` > `allow`: every enabled guard runs (so audit
//! findings are recorded even when another guard blocks), and the strongest action among the
//! guards that fired decides. Masking merges overlapping spans from all masking guards in a
//! slot and replaces each merged span with one `[KIND]` placeholder.

use std::borrow::Cow;
use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;

use crate::config::{Action, Hook, Scope, UnscannablePolicy};
use crate::detectors::{Category, Match, ScanText};
use crate::payload::{self, Slot, SlotPath};
use crate::policy::{Guard, Policy};
use crate::reply::{self, Reply};

/// The outcome for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Nothing fired: forward the original bytes.
    Allow,
    /// Only audit guards fired: forward the original bytes, record the findings.
    Audit,
    /// A mask guard fired: forward the rewritten body.
    Mask,
    /// A block guard fired (or the body was refused): answer locally, forward nothing.
    Block,
    /// The body could not be scanned and policy said to pass it (`on_oversize` /
    /// `on_invalid_body: pass`). Counted apart from `allow`.
    Skipped,
}

impl Decision {
    pub const ALL: [Decision; 5] = [
        Decision::Allow,
        Decision::Audit,
        Decision::Mask,
        Decision::Block,
        Decision::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Audit => "audit",
            Decision::Mask => "mask",
            Decision::Block => "block",
            Decision::Skipped => "skipped",
        }
    }
}

/// One thing a guard found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The guard's id.
    pub guard: Arc<str>,
    /// Index of the guard in the policy (for adapters' per-guard stats).
    #[serde(skip)]
    pub guard_index: usize,
    pub detector: &'static str,
    pub category: Category,
    pub kind: Cow<'static, str>,
    pub action: Action,
    #[serde(serialize_with = "serialize_display")]
    pub slot: SlotPath,
    pub scope: Scope,
    /// Byte span in the slot's (JSON-unescaped) text.
    pub start: usize,
    pub end: usize,
    pub score: f32,
}

fn serialize_display<S: serde::Serializer, T: std::fmt::Display>(
    v: &T,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// What the adapter must do with a request.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub decision: Decision,
    pub findings: Vec<Finding>,
    /// For [`Decision::Mask`]: the rewritten body to forward.
    pub body: Option<Vec<u8>>,
    /// For [`Decision::Block`]: the local reply.
    pub reply: Option<Reply>,
    /// Why a body was skipped or refused without scanning.
    pub reason: Option<String>,
}

impl Verdict {
    fn new(decision: Decision) -> Self {
        Verdict {
            decision,
            findings: Vec::new(),
            body: None,
            reply: None,
            reason: None,
        }
    }
}

impl Policy {
    /// The verdict for a request body over `limits.max_body_bytes`, which is never buffered.
    pub fn oversize_verdict(&self, size: usize) -> Verdict {
        let reason = format!(
            "body of at least {size} bytes exceeds limits.max_body_bytes ({})",
            self.limits.max_body_bytes
        );
        self.unscannable(
            self.limits.on_oversize,
            reply::oversize_reply(self.limits.max_body_bytes),
            reason,
        )
    }

    fn unscannable(&self, policy: UnscannablePolicy, refusal: Reply, reason: String) -> Verdict {
        match policy {
            UnscannablePolicy::Pass => Verdict {
                reason: Some(reason),
                ..Verdict::new(Decision::Skipped)
            },
            UnscannablePolicy::Block => Verdict {
                reply: Some(refusal),
                reason: Some(reason),
                ..Verdict::new(Decision::Block)
            },
        }
    }

    /// Evaluate the `llm_input` guards on a complete request body.
    pub fn evaluate_request(&self, body: &[u8]) -> Verdict {
        if body.len() > self.limits.max_body_bytes {
            return self.oversize_verdict(body.len());
        }
        let value: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                let reason = format!("invalid JSON at line {} column {}", e.line(), e.column());
                return self.unscannable(
                    self.limits.on_invalid_body,
                    reply::invalid_body_reply(&reason),
                    reason,
                );
            }
        };
        let (mut verdict, masks) =
            self.verdict_for(Hook::LlmInput, &payload::request_slots(&value));
        if verdict.decision == Decision::Mask {
            match Policy::rewrite(value, masks) {
                Ok(b) => verdict.body = Some(b),
                // Serialising a Value we just parsed cannot fail; refuse rather than leak.
                Err(e) => {
                    verdict.decision = Decision::Block;
                    verdict.reply = Some(reply::openai_error(
                        500,
                        "guardrail could not rewrite the request",
                        "server_error",
                        "guardrail_error",
                    ));
                    verdict.reason = Some(e.to_string());
                }
            }
        }
        verdict
    }

    /// Evaluate the `llm_output` guards on a complete (buffered) response body.
    ///
    /// The response status and headers are already on their way to the client when the body is
    /// complete, so a block cannot become an error status: instead every choice is turned into a
    /// content-filter refusal (`finish_reason: "content_filter"`, content = the guard's block
    /// message), returned in `body` like a mask. Bodies that are not JSON or exceed
    /// `limits.max_body_bytes` are `skipped`: an upstream error page is passed on, not hidden.
    pub fn evaluate_response(&self, body: &[u8]) -> Verdict {
        if body.len() > self.limits.max_body_bytes {
            let reason = format!(
                "response of {} bytes exceeds limits.max_body_bytes",
                body.len()
            );
            return Verdict {
                reason: Some(reason),
                ..Verdict::new(Decision::Skipped)
            };
        }
        let mut value: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                let reason = format!(
                    "response is not JSON (line {} column {})",
                    e.line(),
                    e.column()
                );
                return Verdict {
                    reason: Some(reason),
                    ..Verdict::new(Decision::Skipped)
                };
            }
        };
        let (mut verdict, masks) =
            self.verdict_for(Hook::LlmOutput, &payload::response_slots(&value));
        let rewritten = match verdict.decision {
            Decision::Mask => Policy::rewrite(value, masks),
            Decision::Block => {
                // The status is already downstream: no error reply, a refusal in the body.
                verdict.reply = None;
                let message = self
                    .block_message(&verdict.findings)
                    .map(|(_, m)| m)
                    .unwrap_or_default();
                payload::refuse_choices(&mut value, &message);
                serde_json::to_vec(&value)
            }
            _ => return verdict,
        };
        match rewritten {
            Ok(b) => verdict.body = Some(b),
            Err(e) => verdict.reason = Some(e.to_string()),
        }
        verdict
    }

    /// Evaluate one piece of text as a single user message (the CLI's `{"text": ...}` rows).
    /// Spans index into `text`; a mask verdict's `body` is the masked text.
    pub fn evaluate_text(&self, text: &str) -> Verdict {
        let slot = Slot {
            scope: Scope::User,
            path: SlotPath::Content { msg: 0 },
            text,
        };
        let (mut verdict, masks) = self.verdict_for(Hook::LlmInput, &[slot]);
        if verdict.decision == Decision::Mask {
            verdict.body = masks.into_iter().next().map(|(_, t)| t.into_bytes());
        }
        verdict
    }

    /// Run every enabled guard on `hook` over the slots it reads. Findings are in slot order,
    /// then guard order, then span order.
    pub fn scan_slots(&self, hook: Hook, slots: &[Slot<'_>]) -> Vec<Finding> {
        let mut findings = Vec::new();
        let mut matches: Vec<Match> = Vec::new();
        for slot in slots {
            let text = ScanText::new(slot.text);
            for (guard_index, guard) in self.guards.iter().enumerate() {
                if !guard.enabled || guard.hook != hook || !guard.reads(slot.scope) {
                    continue;
                }
                matches.clear();
                guard.detector.scan(&text, &mut matches);
                matches.sort_by_key(|m| (m.start, m.end));
                for m in matches.drain(..) {
                    if m.score < guard.threshold || m.start >= m.end || m.end > slot.text.len() {
                        continue;
                    }
                    findings.push(Finding {
                        guard: guard.id.clone(),
                        guard_index,
                        detector: guard.detector.name(),
                        category: guard.detector.category(),
                        kind: m.kind,
                        action: guard.action,
                        slot: slot.path,
                        scope: slot.scope,
                        start: m.start,
                        end: m.end,
                        score: m.score,
                    });
                }
            }
        }
        findings
    }

    /// The guard that blocks (the first blocking finding's) and its message, filled from that
    /// guard's findings; `None` if nothing blocks.
    pub fn block_message(&self, findings: &[Finding]) -> Option<(&Guard, String)> {
        let first = findings.iter().find(|f| f.action == Action::Block)?;
        let guard = self.guards.get(first.guard_index)?;
        let of_guard = || {
            findings
                .iter()
                .filter(|f| f.guard_index == first.guard_index)
        };
        let categories = distinct(of_guard().map(|f| f.category.as_str()));
        let kinds = distinct(of_guard().map(|f| &*f.kind));
        Some((
            guard,
            reply::fill_block_message(
                &guard.block_response.message,
                &guard.id,
                &categories,
                &kinds,
            ),
        ))
    }

    /// Scan `slots` with the `hook` guards and decide; also return the masked text of each slot
    /// a mask applies to.
    fn verdict_for(&self, hook: Hook, slots: &[Slot<'_>]) -> (Verdict, Vec<(SlotPath, String)>) {
        let findings = self.scan_slots(hook, slots);
        let masks = masked_texts(slots, &findings);
        (self.decide(findings), masks)
    }

    /// Write masked slot texts back into a parsed body and serialise it.
    fn rewrite(
        mut value: Value,
        masks: Vec<(SlotPath, String)>,
    ) -> Result<Vec<u8>, serde_json::Error> {
        for (path, text) in masks {
            payload::replace_slot(&mut value, path, text);
        }
        serde_json::to_vec(&value)
    }

    /// Turn findings into a decision (and the block reply, if any).
    pub fn decide(&self, findings: Vec<Finding>) -> Verdict {
        let strongest = findings.iter().map(|f| f.action).max();
        let mut verdict = Verdict::new(match strongest {
            None => Decision::Allow,
            Some(Action::Audit) => Decision::Audit,
            Some(Action::Mask) => Decision::Mask,
            Some(Action::Block) => Decision::Block,
        });
        if let Some((guard, message)) = self.block_message(&findings) {
            let b = &guard.block_response;
            verdict.reply = Some(reply::openai_error(
                b.status,
                &message,
                &b.error_type,
                &b.code,
            ));
        }
        verdict.findings = findings;
        verdict
    }
}

/// Distinct values in first-seen order, comma-separated.
fn distinct<'a>(values: impl Iterator<Item = &'a str>) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for v in values {
        if !seen.contains(&v) {
            seen.push(v);
        }
    }
    seen.join(", ")
}

/// The mask placeholder for a finding kind: `aws_access_key` → `[AWS_ACCESS_KEY]`.
pub fn placeholder(kind: &str) -> String {
    format!("[{}]", kind.to_ascii_uppercase())
}

/// For each slot with mask findings: its text with merged spans replaced by placeholders.
fn masked_texts(slots: &[Slot<'_>], findings: &[Finding]) -> Vec<(SlotPath, String)> {
    let mut out = Vec::new();
    for slot in slots {
        let mut spans: Vec<(usize, usize, &str)> = findings
            .iter()
            .filter(|f| f.action == Action::Mask && f.slot == slot.path)
            .map(|f| (f.start, f.end, &*f.kind))
            .collect();
        if spans.is_empty() {
            continue;
        }
        spans.sort_by_key(|(s, e, _)| (*s, std::cmp::Reverse(*e)));
        let mut merged: Vec<(usize, usize, &str)> = Vec::with_capacity(spans.len());
        for (s, e, k) in spans {
            match merged.last_mut() {
                Some(last) if s < last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e, k)),
            }
        }
        out.push((slot.path, mask_spans(slot.text, &merged)));
    }
    out
}

/// Replace each (start, end, kind) span of `text` — sorted, disjoint, on char boundaries —
/// with its placeholder.
pub fn mask_spans(text: &str, spans: &[(usize, usize, &str)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for &(s, e, kind) in spans {
        let (Some(keep), true) = (text.get(at..s), text.is_char_boundary(e)) else {
            continue;
        };
        out.push_str(keep);
        out.push_str(&placeholder(kind));
        at = e;
    }
    out.push_str(text.get(at..).unwrap_or(""));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(guards: &str) -> Policy {
        Policy::from_json(format!(r#"{{"version": 1, "guards": {guards}}}"#).as_bytes()).unwrap()
    }

    const WORDS: &str = r#"[
        {"id": "comp", "detector": {"type": "wordlist", "kind": "competitor", "terms": ["globex"]}, "action": "mask"},
        {"id": "code", "detector": {"type": "regex", "patterns": [{"kind": "code_name", "pattern": "falcon\\w*"}]}, "action": "mask"},
        {"id": "swear", "scope": ["user"], "detector": {"type": "profanity"}, "action": "block"},
        {"id": "shadow", "detector": {"type": "regex", "patterns": [{"kind": "ticket", "pattern": "T-\\d+"}]}, "action": "audit"}
    ]"#;

    #[test]
    fn allow_keeps_no_body() {
        let v = policy(WORDS)
            .evaluate_request(br#"{"messages": [{"role": "user", "content": "hello"}]}"#);
        assert_eq!(v.decision, Decision::Allow);
        assert!(v.body.is_none() && v.reply.is_none() && v.findings.is_empty());
    }

    #[test]
    fn mask_rewrites_only_the_spans() {
        let body = br#"{"model":"m","messages":[{"role":"user","content":"is globex better than falconX? T-12"}],"x":{"y":[1,2.5]}}"#;
        let v = policy(WORDS).evaluate_request(body);
        assert_eq!(v.decision, Decision::Mask);
        let out: Value = serde_json::from_slice(v.body.as_ref().unwrap()).unwrap();
        assert_eq!(
            out["messages"][0]["content"],
            "is [COMPETITOR] better than [CODE_NAME]? T-12"
        );
        assert_eq!(out["x"], serde_json::json!({"y": [1, 2.5]}));
        assert_eq!(
            v.findings.iter().map(|f| &*f.guard).collect::<Vec<_>>(),
            ["comp", "code", "shadow"]
        );
    }

    #[test]
    fn block_wins_and_audit_is_recorded() {
        let v = policy(WORDS)
            .evaluate_request(br#"{"messages":[{"role":"user","content":"fuck globex T-1"}]}"#);
        assert_eq!(v.decision, Decision::Block);
        let r = v.reply.unwrap();
        assert_eq!(r.status, 400);
        assert!(String::from_utf8(r.body)
            .unwrap()
            .contains("guard 'swear' found profanity"));
        assert!(v.findings.iter().any(|f| &*f.guard == "shadow"));
    }

    #[test]
    fn scope_limits_guards() {
        // Profanity guard reads user only: a system message with profanity passes.
        let v =
            policy(WORDS).evaluate_request(br#"{"messages":[{"role":"system","content":"fuck"}]}"#);
        assert_eq!(v.decision, Decision::Allow);
    }

    #[test]
    fn audit_only() {
        let v = policy(WORDS)
            .evaluate_request(br#"{"messages":[{"role":"user","content":"see T-99"}]}"#);
        assert_eq!(v.decision, Decision::Audit);
        assert!(v.body.is_none());
    }

    #[test]
    fn unscannable_bodies_follow_policy() {
        let strict = policy("[]");
        let v = strict.evaluate_request(b"not json");
        assert_eq!(v.decision, Decision::Block);
        assert_eq!(v.reply.unwrap().status, 400);
        let lenient = Policy::from_json(br#"{"version": 1, "limits": {"max_body_bytes": 10, "on_oversize": "pass", "on_invalid_body": "pass"}, "guards": []}"#).unwrap();
        assert_eq!(
            lenient.evaluate_request(b"{bad").decision,
            Decision::Skipped
        );
        assert_eq!(
            lenient.evaluate_request(&[b' '; 11]).decision,
            Decision::Skipped
        );
        assert_eq!(strict.oversize_verdict(5).reply.unwrap().status, 413);
    }

    const OUTPUT: &str = r#"[
        {"id": "out-mask", "hook": "llm_output", "detector": {"type": "wordlist", "kind": "competitor", "terms": ["globex"]}, "action": "mask"},
        {"id": "out-block", "hook": "llm_output", "detector": {"type": "regex", "patterns": [{"kind": "launch_code", "pattern": "LC-\\d{4}"}]}, "action": "block",
         "block_response": {"message": "Withheld ({kinds})."}},
        {"id": "in-only", "detector": {"type": "profanity"}, "action": "block"}
    ]"#;

    fn response(content: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "id": "chatcmpl-1", "object": "chat.completion", "model": "m", "usage": {"total_tokens": 3},
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content,
                "tool_calls": [{"id": "t", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
                "finish_reason": "tool_calls"}]
        }))
        .unwrap()
    }

    #[test]
    fn output_guards_mask_block_and_ignore_input_guards() {
        let p = policy(OUTPUT);
        // Input guards do not read responses; output guards do not read requests.
        assert_eq!(
            p.evaluate_response(&response("fuck")).decision,
            Decision::Allow
        );
        assert_eq!(
            p.evaluate_request(br#"{"messages":[{"role":"user","content":"globex LC-1234"}]}"#)
                .decision,
            Decision::Allow
        );

        let v = p.evaluate_response(&response("try Globex"));
        assert_eq!(v.decision, Decision::Mask);
        let out: Value = serde_json::from_slice(&v.body.unwrap()).unwrap();
        assert_eq!(out["choices"][0]["message"]["content"], "try [COMPETITOR]");
        assert_eq!(out["usage"]["total_tokens"], 3);

        let v = p.evaluate_response(&response("the code is LC-0042"));
        assert_eq!(v.decision, Decision::Block);
        assert!(v.reply.is_none());
        let out: Value = serde_json::from_slice(&v.body.unwrap()).unwrap();
        assert_eq!(
            out["choices"][0]["message"]["content"],
            "Withheld (launch_code)."
        );
        assert_eq!(out["choices"][0]["finish_reason"], "content_filter");
        assert!(out["choices"][0]["message"].get("tool_calls").is_none());
        assert_eq!(out["id"], "chatcmpl-1");

        assert_eq!(
            p.evaluate_response(b"<html>502</html>").decision,
            Decision::Skipped
        );
    }

    #[test]
    fn overlapping_masks_merge() {
        let text = "abcdef";
        assert_eq!(mask_spans(text, &[(1, 3, "x"), (4, 6, "y")]), "a[X]d[Y]");
        let p = policy(
            r#"[
            {"id": "a", "detector": {"type": "regex", "patterns": [{"kind": "aa", "pattern": "abc"}]}, "action": "mask"},
            {"id": "b", "detector": {"type": "regex", "patterns": [{"kind": "bb", "pattern": "bcde"}]}, "action": "mask"}]"#,
        );
        let v = p.evaluate_text("xabcdefx");
        assert_eq!(String::from_utf8(v.body.unwrap()).unwrap(), "x[AA]fx");
    }

    /// The default policy, compiled once for all property cases.
    fn default_policy() -> &'static Policy {
        static POLICY: std::sync::OnceLock<Policy> = std::sync::OnceLock::new();
        POLICY.get_or_init(|| Policy::default_policy().unwrap())
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Any bytes: a verdict, never a panic; a mask verdict always carries valid JSON.
        #[test]
        fn arbitrary_bodies_get_a_verdict(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let v = default_policy().evaluate_request(&body);
            if v.decision == Decision::Mask {
                proptest::prop_assert!(serde_json::from_slice::<Value>(v.body.as_ref().unwrap()).is_ok());
            }
        }

        /// Chat requests with arbitrary text: masked bodies stay valid JSON with the same shape,
        /// and allowed ones carry no body (the original bytes are forwarded).
        #[test]
        fn arbitrary_chat_text(text in "\\PC{0,200}", role in "(user|system|assistant|tool|x)") {
            let p = default_policy();
            let body = serde_json::to_vec(&serde_json::json!({"messages": [{"role": role, "content": text}], "n": 1})).unwrap();
            let v = p.evaluate_request(&body);
            match v.decision {
                Decision::Mask => {
                    let out: Value = serde_json::from_slice(v.body.as_ref().unwrap()).unwrap();
                    proptest::prop_assert_eq!(&out["n"], &serde_json::json!(1));
                    proptest::prop_assert!(out["messages"][0]["content"].is_string());
                }
                Decision::Allow | Decision::Audit => proptest::prop_assert!(v.body.is_none()),
                Decision::Block => proptest::prop_assert!(v.reply.is_some()),
                Decision::Skipped => proptest::prop_assert!(false, "well-formed small body skipped"),
            }
        }
    }
}
