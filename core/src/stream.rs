//! Guarding a streamed (SSE) chat-completion response without releasing what must be blocked
//! or masked.
//!
//! [`StreamGuard::push`] takes upstream bytes as they arrive and returns the bytes the client
//! may have now. Events are decoded incrementally ([`crate::sse`]); each choice's
//! `delta.content` is appended to that choice's text, and after every event the `llm_output`
//! guards re-read a bounded window of it (the new text plus [`CONTEXT_BYTES`] already
//! released, for context words). An event is released only when all its text lies before the
//! choice's *safe point*:
//!
//! - the last [`HOLD_BACK_BYTES`] of the text are always held (multi-token values such as phone
//!   numbers or `key = value` pairs complete within it);
//! - the last whitespace-free token is held while it grows, up to [`MAX_TOKEN_HOLD_BYTES`]
//!   (a secret is one token: no prefix of it leaves before the detector has seen all of it);
//! - text from the start of any finding that reaches into the held tail is held (a PEM block
//!   matched up to the end of the text so far keeps growing).
//!
//! Events without content (role, finish reason, usage, comments, `[DONE]`) keep their order
//! behind held events. Released events that need no change are forwarded byte for byte; events
//! under a mask are re-serialised with the placeholder in the event where the span starts and
//! the rest of the span removed from later events. On a block, held events are dropped, the
//! client gets a final chunk with `finish_reason: "content_filter"` and `data: [DONE]`, and the
//! rest of the upstream stream is discarded. The hold-back is what time-to-first-token pays.

use std::collections::{BTreeMap, VecDeque};

use serde_json::Value;

use crate::config::{Action, Hook, Scope};
use crate::engine::{placeholder, Decision, Finding};
use crate::payload::{Slot, SlotPath};
use crate::policy::Policy;
use crate::sse::{SseDecoder, SseEvent};

/// Text at the end of each choice that is never released before the stream ends.
pub const HOLD_BACK_BYTES: usize = 64;
/// A whitespace-free token at the end of the text is held while it grows, up to this length.
pub const MAX_TOKEN_HOLD_BYTES: usize = 4096;
/// Already-released text re-read with new text, so context words ("password", "SSN") that
/// arrived earlier still count.
pub const CONTEXT_BYTES: usize = 256;

#[derive(Debug, Default)]
struct ChoiceText {
    text: String,
    /// Bytes of `text` released to the client.
    released: usize,
    /// Mask spans (absolute, merged) not yet entirely released, with their placeholder.
    masks: Vec<(usize, usize, String)>,
}

#[derive(Debug)]
struct Held {
    event: SseEvent,
    /// Parsed data, when the event carries chat-completion content.
    json: Option<Value>,
    /// (choice index, start, end) of the text this event added.
    content: Vec<(u64, usize, usize)>,
}

/// Streaming state for one response.
#[derive(Debug, Default)]
pub struct StreamGuard {
    decoder: SseDecoder,
    held: VecDeque<Held>,
    choices: BTreeMap<u64, ChoiceText>,
    /// `id`, `created` and `model` of the stream, for the terminal chunk.
    header: Option<(Value, Value, Value)>,
    blocked: bool,
    decision: Option<Action>,
    findings: Vec<Finding>,
    block_message: Option<String>,
}

impl StreamGuard {
    pub fn new() -> Self {
        StreamGuard {
            decoder: SseDecoder::new(),
            ..Default::default()
        }
    }

    /// Feed upstream bytes; get the bytes to send to the client now.
    pub fn push(&mut self, policy: &Policy, bytes: &[u8]) -> Vec<u8> {
        if self.blocked {
            return Vec::new();
        }
        let mut out = Vec::new();
        for event in self.decoder.push(bytes) {
            self.accept(policy, event, false, &mut out);
            if self.blocked {
                break;
            }
        }
        out
    }

    /// The upstream stream ended: scan everything held and release it (or block).
    pub fn finish(&mut self, policy: &Policy) -> Vec<u8> {
        if self.blocked {
            return Vec::new();
        }
        let mut out = Vec::new();
        match self.decoder.finish() {
            Some(event) => self.accept(policy, event, true, &mut out),
            None => self.release(true, &mut out),
        }
        out
    }

    /// The decision so far: the strongest action among the guards that fired.
    pub fn decision(&self) -> Decision {
        match self.decision {
            None => Decision::Allow,
            Some(Action::Audit) => Decision::Audit,
            Some(Action::Mask) => Decision::Mask,
            Some(Action::Block) => Decision::Block,
        }
    }

    /// Everything the guards found, each once.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    fn accept(&mut self, policy: &Policy, event: SseEvent, at_end: bool, out: &mut Vec<u8>) {
        let mut held = Held {
            event,
            json: None,
            content: Vec::new(),
        };
        if let Some(json) = held
            .event
            .data
            .as_deref()
            .filter(|d| d.starts_with('{'))
            .and_then(|d| serde_json::from_str::<Value>(d).ok())
        {
            if self.header.is_none() {
                self.header = Some((
                    json["id"].clone(),
                    json["created"].clone(),
                    json["model"].clone(),
                ));
            }
            if let Some(choices) = json.get("choices").and_then(Value::as_array) {
                for c in choices {
                    let (Some(index), Some(piece)) = (
                        c.get("index").and_then(Value::as_u64),
                        c.pointer("/delta/content").and_then(Value::as_str),
                    ) else {
                        continue;
                    };
                    let choice = self.choices.entry(index).or_default();
                    let start = choice.text.len();
                    choice.text.push_str(piece);
                    held.content.push((index, start, choice.text.len()));
                }
            }
            held.json = Some(json);
        }
        let touched: Vec<u64> = held.content.iter().map(|(c, _, _)| *c).collect();
        self.held.push_back(held);
        for choice in touched {
            self.scan_choice(policy, choice);
            if self.blocked {
                self.terminate(out);
                return;
            }
        }
        if at_end {
            // Final pass over every choice with everything in view.
            let all: Vec<u64> = self.choices.keys().copied().collect();
            for choice in all {
                self.scan_choice(policy, choice);
            }
            if self.blocked {
                self.terminate(out);
                return;
            }
        }
        self.release(at_end, out);
    }

    /// Re-read the window of one choice's text; record findings, masks, and blocks.
    fn scan_choice(&mut self, policy: &Policy, index: u64) {
        let Some(choice) = self.choices.get_mut(&index) else {
            return;
        };
        let mut from = choice.released.saturating_sub(CONTEXT_BYTES);
        while !choice.text.is_char_boundary(from) {
            from -= 1;
        }
        let Some(window) = choice.text.get(from..) else {
            return;
        };
        let slot = Slot {
            scope: Scope::Assistant,
            path: SlotPath::ChoiceContent {
                choice: index as usize,
            },
            text: window,
        };
        for mut f in policy.scan_slots(Hook::LlmOutput, &[slot]) {
            f.start += from;
            f.end += from;
            if f.end <= choice.released {
                continue; // entirely in text already released (and scanned then)
            }
            let seen = self
                .findings
                .iter()
                .any(|g| g.guard_index == f.guard_index && g.start == f.start && g.slot == f.slot);
            if !seen {
                self.findings.push(f.clone());
            }
            self.decision = self.decision.max(Some(f.action));
            match f.action {
                Action::Block => {
                    self.blocked = true;
                    if self.block_message.is_none() {
                        self.block_message = policy
                            .block_message(std::slice::from_ref(&f))
                            .map(|(_, m)| m);
                    }
                }
                Action::Mask => add_mask(
                    &mut choice.masks,
                    f.start.max(choice.released),
                    f.end,
                    placeholder(&f.kind),
                ),
                Action::Audit => {}
            }
        }
    }

    /// Where a choice's text may be released up to now.
    fn safe_point(&self, index: u64, at_end: bool) -> usize {
        let Some(choice) = self.choices.get(&index) else {
            return 0;
        };
        let len = choice.text.len();
        if at_end {
            return len;
        }
        let mut safe = len.saturating_sub(HOLD_BACK_BYTES);
        let token_start = choice.text.rfind(char::is_whitespace).map_or(0, |i| i + 1);
        if len - token_start <= MAX_TOKEN_HOLD_BYTES {
            safe = safe.min(token_start);
        }
        for (s, e, _) in &choice.masks {
            if e + HOLD_BACK_BYTES > len {
                safe = safe.min(*s);
            }
        }
        for f in &self.findings {
            if f.slot
                == (SlotPath::ChoiceContent {
                    choice: index as usize,
                })
                && f.end + HOLD_BACK_BYTES > len
            {
                safe = safe.min(f.start);
            }
        }
        safe.max(choice.released)
    }

    /// Release held events from the front while their text is safe.
    fn release(&mut self, at_end: bool, out: &mut Vec<u8>) {
        while let Some(front) = self.held.front() {
            let ready = front
                .content
                .iter()
                .all(|(c, _, end)| *end <= self.safe_point(*c, at_end));
            if !ready {
                break;
            }
            let Some(held) = self.held.pop_front() else {
                break;
            };
            self.render(held, out);
        }
    }

    /// Append an event to `out`, rewritten if a mask covers any of its text.
    fn render(&mut self, held: Held, out: &mut Vec<u8>) {
        let Held {
            event,
            json,
            content,
        } = held;
        let mut json = match json {
            Some(j) if content.iter().any(|(c, s, e)| self.masked(*c, *s, *e)) => j,
            _ => {
                for (c, _, e) in &content {
                    if let Some(choice) = self.choices.get_mut(c) {
                        choice.released = choice.released.max(*e);
                    }
                }
                out.extend_from_slice(&event.raw);
                return;
            }
        };
        if let Some(choices) = json.get_mut("choices").and_then(Value::as_array_mut) {
            for c in choices {
                let Some(index) = c.get("index").and_then(Value::as_u64) else {
                    continue;
                };
                let Some(&(_, start, end)) = content.iter().find(|(i, _, _)| *i == index) else {
                    continue;
                };
                let Some(choice) = self.choices.get_mut(&index) else {
                    continue;
                };
                let text = masked_piece(&choice.text, start, end, &choice.masks);
                choice.released = choice.released.max(end);
                choice.masks.retain(|(_, e, _)| *e > choice.released);
                if let Some(delta) = c.get_mut("delta").and_then(Value::as_object_mut) {
                    delta.insert("content".into(), Value::String(text));
                }
            }
        }
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(json.to_string().as_bytes());
        out.extend_from_slice(b"\n\n");
    }

    fn masked(&self, index: u64, start: usize, end: usize) -> bool {
        self.choices
            .get(&index)
            .is_some_and(|c| c.masks.iter().any(|(s, e, _)| *s < end && start < *e))
    }

    /// Drop everything held and end the stream cleanly.
    fn terminate(&mut self, out: &mut Vec<u8>) {
        self.held.clear();
        let (id, created, model) =
            self.header
                .clone()
                .unwrap_or((Value::Null, Value::Null, Value::Null));
        let indices: Vec<u64> = if self.choices.is_empty() {
            vec![0]
        } else {
            self.choices.keys().copied().collect()
        };
        let chunk = serde_json::json!({
            "id": id, "object": "chat.completion.chunk", "created": created, "model": model,
            "choices": indices.iter().map(|i| serde_json::json!({"index": i, "delta": {}, "finish_reason": "content_filter"})).collect::<Vec<_>>(),
            "parapet": {"decision": "block", "message": self.block_message},
        });
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(chunk.to_string().as_bytes());
        out.extend_from_slice(b"\n\ndata: [DONE]\n\n");
    }
}

/// Add a mask span, merging with any it overlaps.
fn add_mask(masks: &mut Vec<(usize, usize, String)>, start: usize, end: usize, kind: String) {
    if start >= end {
        return;
    }
    let (mut s, mut e, mut k) = (start, end, kind);
    masks.retain(|(ms, me, mk)| {
        if *ms < e && s < *me {
            if *ms < s {
                k = mk.clone();
            }
            s = s.min(*ms);
            e = e.max(*me);
            false
        } else {
            true
        }
    });
    masks.push((s, e, k));
    masks.sort_by_key(|(s, _, _)| *s);
}

/// The text of `text[start..end]` with masks applied: a placeholder where a mask starts inside
/// the range, nothing for masked text whose span started before it.
fn masked_piece(text: &str, start: usize, end: usize, masks: &[(usize, usize, String)]) -> String {
    let mut out = String::new();
    let mut at = start;
    for (ms, me, ph) in masks {
        if *me <= start || *ms >= end {
            continue;
        }
        if *ms > at {
            out.push_str(text.get(at..*ms).unwrap_or(""));
        }
        if *ms >= start {
            out.push_str(ph);
        }
        at = (*me).min(end).max(at);
    }
    if at < end {
        out.push_str(text.get(at..end).unwrap_or(""));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = r#"{"version": 1, "guards": [
        {"id": "out-secrets", "hook": "llm_output", "detector": {"type": "secrets"}, "action": "block",
         "block_response": {"message": "withheld ({kinds})"}},
        {"id": "out-pii", "hook": "llm_output", "detector": {"type": "pii"}, "action": "mask"},
        {"id": "out-words", "hook": "llm_output", "detector": {"type": "wordlist", "kind": "codename", "terms": ["project nightingale"]}, "action": "mask"}
    ]}"#;

    fn policy() -> &'static Policy {
        static P: std::sync::OnceLock<Policy> = std::sync::OnceLock::new();
        P.get_or_init(|| Policy::from_json(POLICY.as_bytes()).unwrap())
    }

    /// An OpenAI-style stream of `text`, one event per piece.
    fn transcript(pieces: &[&str]) -> Vec<u8> {
        let mut out = Vec::new();
        let head = r#""id":"c1","object":"chat.completion.chunk","created":1,"model":"m""#;
        out.extend(format!("data: {{{head},\"choices\":[{{\"index\":0,\"delta\":{{\"role\":\"assistant\",\"content\":\"\"}},\"finish_reason\":null}}]}}\n\n").bytes());
        for p in pieces {
            let delta = serde_json::json!({"content": p});
            out.extend(format!("data: {{{head},\"choices\":[{{\"index\":0,\"delta\":{delta},\"finish_reason\":null}}]}}\n\n").bytes());
        }
        out.extend(format!(": keep-alive\n\ndata: {{{head},\"choices\":[{{\"index\":0,\"delta\":{{}},\"finish_reason\":\"stop\"}}]}}\n\ndata: [DONE]\n\n").bytes());
        out
    }

    fn run(body: &[u8], cuts: &[usize]) -> Vec<u8> {
        let mut g = StreamGuard::new();
        let mut out = Vec::new();
        let mut at = 0;
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (body.len() + 1)).collect();
        cuts.sort_unstable();
        for c in cuts {
            out.extend(g.push(policy(), &body[at..c]));
            at = c;
        }
        out.extend(g.push(policy(), &body[at..]));
        out.extend(g.finish(policy()));
        out
    }

    /// The assistant text a client reassembles from the stream, and whether it ended filtered.
    fn client_view(out: &[u8]) -> (String, Option<String>, bool) {
        let mut d = SseDecoder::new();
        let mut events = d.push(out);
        events.extend(d.finish());
        let mut text = String::new();
        let mut finish = None;
        let mut done = false;
        for e in events {
            match e.data.as_deref() {
                Some("[DONE]") => done = true,
                Some(data) => {
                    let v: Value = serde_json::from_str(data).expect("every data line is JSON");
                    for c in v["choices"].as_array().unwrap() {
                        text.push_str(c["delta"]["content"].as_str().unwrap_or(""));
                        if let Some(f) = c["finish_reason"].as_str() {
                            finish = Some(f.to_string());
                        }
                    }
                }
                None => {}
            }
        }
        (text, finish, done)
    }

    /// `text` cut into pieces of 1..=7 characters, driven by `seed`.
    fn pieces(text: &str, seed: u64) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        let mut out = Vec::new();
        let mut i = 0;
        let mut s = seed | 1;
        while i < chars.len() {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let n = 1 + (s >> 33) as usize % 7;
            out.push(chars[i..(i + n).min(chars.len())].iter().collect());
            i += n;
        }
        out
    }

    #[test]
    fn clean_stream_passes_byte_identical() {
        let body = transcript(&["Hello", " there,", " how", " are", " you?"]);
        assert_eq!(run(&body, &[]), body);
        assert_eq!(run(&body, &[1, 7, 50, 51, 52, 200]), body);
    }

    #[test]
    fn secret_mid_stream_blocks_cleanly() {
        let text = "Here you go: AKIAQX7MZT3KWJ5RLN2P and more text after it.";
        let p: Vec<String> = pieces(text, 3);
        let body = transcript(&p.iter().map(String::as_str).collect::<Vec<_>>());
        let out = run(&body, &[10, 99, 150]);
        let (seen, finish, done) = client_view(&out);
        assert!(
            !String::from_utf8_lossy(&out).contains("AKIAQX7MZT"),
            "{}",
            String::from_utf8_lossy(&out)
        );
        assert!(!seen.contains("AKIA"));
        assert_eq!(finish.as_deref(), Some("content_filter"));
        assert!(done);
        assert!(String::from_utf8_lossy(&out).contains("withheld (aws_access_key)"));
    }

    #[test]
    fn pii_is_masked_across_events() {
        let text = "Write to jane.doe@example.com or call +1 415 555 0132 about project nightingale today.";
        let p: Vec<String> = pieces(text, 11);
        let body = transcript(&p.iter().map(String::as_str).collect::<Vec<_>>());
        let (seen, finish, done) = client_view(&run(&body, &[5, 333]));
        assert_eq!(
            seen,
            "Write to [EMAIL] or call [PHONE] about [CODENAME] today."
        );
        assert_eq!(finish.as_deref(), Some("stop"));
        assert!(done);
    }

    const VALUES: [(&str, Option<&str>); 4] = [
        ("AKIAQX7MZT3KWJ5RLN2P", None),
        ("ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8", None),
        ("jane.doe@example.com", Some("[EMAIL]")),
        ("4111 1111 1111 1111", Some("[CREDIT_CARD]")),
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

        /// A secret or PII value at any offset, in events of any size, cut at any bytes: no
        /// byte of it reaches the client; the stream ends well-formed; masked output does not
        /// depend on how the upstream bytes were cut.
        #[test]
        fn nothing_leaks_under_any_split(
            which in 0usize..VALUES.len(),
            prefix in "[a-z ]{0,80}",
            suffix in "[a-z ]{0,80}",
            seed in proptest::prelude::any::<u64>(),
            cuts in proptest::collection::vec(0usize..4000, 0..10),
        ) {
            let (value, placeholder) = VALUES[which];
            let text = format!("{prefix} {value} {suffix}");
            let p = pieces(&text, seed);
            let body = transcript(&p.iter().map(String::as_str).collect::<Vec<_>>());
            let out = run(&body, &cuts);
            let shown = String::from_utf8_lossy(&out).to_string();
            let (seen, finish, done) = client_view(&out);
            proptest::prop_assert!(done, "stream not terminated: {}", shown);
            // Not the value, nor any 8-character piece of it.
            let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
            for w in compact.as_bytes().windows(8) {
                let piece = std::str::from_utf8(w).unwrap();
                proptest::prop_assert!(!seen.replace(' ', "").contains(piece), "leaked {piece} in {seen:?}");
            }
            match placeholder {
                None => proptest::prop_assert_eq!(finish.as_deref(), Some("content_filter")),
                Some(ph) => {
                    proptest::prop_assert_eq!(seen.clone(), format!("{prefix} {ph} {suffix}"));
                    proptest::prop_assert_eq!(out, run(&body, &[]));
                }
            }
        }
    }
}
