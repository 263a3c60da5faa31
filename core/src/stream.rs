//! Guarding a streamed (SSE) chat-completion response without releasing what must be blocked
//! or masked.
//!
//! [`StreamGuard::push`] takes upstream bytes as they arrive and returns the bytes the client
//! may have now. Events are decoded incrementally ([`crate::sse`]). Each *channel* of text — a
//! choice's `delta.content`, and each of its `delta.tool_calls[k].function.arguments` — is
//! accumulated on its own, and after every event the `llm_output` guards re-read a bounded
//! window of each channel that grew (the new text plus [`CONTEXT_BYTES`] already released, for
//! context words), as scope `assistant` or `tool_call_arguments`. An event is released only
//! when all its text lies before its channel's *safe point*:
//!
//! - the last `stream.hold_back_bytes` (default [`HOLD_BACK_BYTES`]) of the text are always
//!   held (multi-token values such as phone numbers or `key = value` pairs complete within it);
//! - the last whitespace-free token is held while it grows, up to `stream.max_token_hold_bytes`
//!   (default [`MAX_TOKEN_HOLD_BYTES`]; a secret is one token: no prefix of it leaves before
//!   the detector has seen all of it);
//! - text from the start of any finding that reaches into the held tail is held (a PEM block
//!   matched up to the end of the text so far keeps growing).
//!
//! Events without guarded text (role, finish reason, usage, comments, `[DONE]`) keep their
//! order behind held events. Released events that need no change are forwarded byte for byte;
//! events under a mask are re-serialised with the placeholder in the event where the span
//! starts and the rest of the span removed from later events. Placeholders of reversible
//! request masks (`[EMAIL_1]`) that the model repeats are rewritten the same way, with the
//! original value. On a block, held events are dropped, the client gets a final chunk with
//! `finish_reason: "content_filter"` and `data: [DONE]`, and the rest of the upstream stream is
//! discarded. The hold-back is what time-to-first-token pays.
//!
//! MCP responses streamed as SSE ([`McpStream`]) carry one whole JSON-RPC message per event, so
//! nothing is held: each event with a guarded result is evaluated as a buffered response would
//! be and released (rewritten if masked or refused) at once.

use std::collections::{BTreeMap, VecDeque};

use serde_json::Value;

use crate::config::{Action, Hook, Scope};
use crate::engine::{placeholder, restored_value, Decision, Exchange, Finding};
use crate::payload::{Slot, SlotPath};
use crate::policy::Policy;
use crate::sse::{SseDecoder, SseEvent};

/// Default `stream.hold_back_bytes`: text at the end of each channel that is never released
/// before the stream ends.
pub const HOLD_BACK_BYTES: usize = 64;
/// Default `stream.max_token_hold_bytes`: a whitespace-free token at the end of the text is
/// held while it grows, up to this length.
pub const MAX_TOKEN_HOLD_BYTES: usize = 4096;
/// Already-released text re-read with new text, so context words ("password", "SSN") that
/// arrived earlier still count.
pub const CONTEXT_BYTES: usize = 256;

/// A streamed response under guard: what the adapter feeds chunks to.
pub trait ResponseStream: Send {
    /// Feed upstream bytes; get the bytes to send to the client now.
    fn push(&mut self, policy: &Policy, bytes: &[u8]) -> Vec<u8>;
    /// The upstream stream ended: get whatever is still to be sent.
    fn finish(&mut self, policy: &Policy) -> Vec<u8>;
    /// The decision so far: the strongest action among the guards that fired.
    fn decision(&self) -> Decision;
    /// Everything the guards found, each once.
    fn findings(&self) -> &[Finding];
    /// Has the stream been cut off (everything further is discarded)?
    fn is_terminated(&self) -> bool;
}

/// The stream guard for a request's response: MCP or chat completion.
pub fn for_exchange(exchange: &Exchange) -> Box<dyn ResponseStream> {
    if exchange.is_mcp() {
        Box::new(McpStream::new(exchange.clone()))
    } else {
        Box::new(StreamGuard::with_restore(exchange.restore.clone()))
    }
}

/// One accumulated text of a streamed choice: its content, or one tool call's arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Channel {
    choice: u64,
    /// `delta.tool_calls[].index`, or `None` for `delta.content`.
    call: Option<u64>,
}

impl Channel {
    fn path(self) -> SlotPath {
        let choice = self.choice as usize;
        match self.call {
            None => SlotPath::ChoiceContent { choice },
            Some(call) => SlotPath::ChoiceToolCallArguments {
                choice,
                call: call as usize,
            },
        }
    }

    fn scope(self) -> Scope {
        match self.call {
            None => Scope::Assistant,
            Some(_) => Scope::ToolCallArguments,
        }
    }
}

#[derive(Debug, Default)]
struct ChannelText {
    text: String,
    /// Bytes of `text` released to the client.
    released: usize,
    /// Rewrites (absolute, merged) not yet entirely released, with their replacement.
    masks: Vec<(usize, usize, String)>,
}

#[derive(Debug)]
struct Held {
    event: SseEvent,
    /// Parsed data, when the event carries chat-completion text.
    json: Option<Value>,
    /// (channel, start, end) of the text this event added.
    content: Vec<(Channel, usize, usize)>,
}

/// Streaming state for one chat-completion response.
#[derive(Debug, Default)]
pub struct StreamGuard {
    decoder: SseDecoder,
    held: VecDeque<Held>,
    channels: BTreeMap<Channel, ChannelText>,
    /// `id`, `created` and `model` of the stream, for the terminal chunk.
    header: Option<(Value, Value, Value)>,
    blocked: bool,
    decision: Option<Action>,
    findings: Vec<Finding>,
    block_message: Option<String>,
    /// Reversible request masks: (placeholder, original).
    restore: Vec<(String, String)>,
    /// The policy's `stream.hold_back_bytes` and `stream.max_token_hold_bytes`.
    hold: (usize, usize),
}

impl StreamGuard {
    pub fn new() -> Self {
        StreamGuard::default()
    }

    /// A guard that also puts back the values of the request's reversible masks.
    pub fn with_restore(restore: Vec<(String, String)>) -> Self {
        StreamGuard {
            restore,
            ..StreamGuard::default()
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
            None => {
                self.final_scan(policy);
                if self.blocked {
                    self.terminate(&mut out);
                } else {
                    self.release(true, &mut out);
                }
            }
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
        self.hold = (
            policy.stream.hold_back_bytes,
            policy.stream.max_token_hold_bytes,
        );
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
            for (channel, piece) in deltas(&json) {
                let text = self.channels.entry(channel).or_default();
                let start = text.text.len();
                text.text.push_str(piece);
                held.content.push((channel, start, text.text.len()));
            }
            held.json = Some(json);
        }
        let mut touched: Vec<Channel> = held.content.iter().map(|(c, _, _)| *c).collect();
        touched.dedup();
        self.held.push_back(held);
        for channel in touched {
            self.scan_channel(policy, channel);
            if self.blocked {
                self.terminate(out);
                return;
            }
        }
        if at_end {
            self.final_scan(policy);
            if self.blocked {
                self.terminate(out);
                return;
            }
        }
        self.release(at_end, out);
    }

    /// A last pass over every channel with everything in view.
    fn final_scan(&mut self, policy: &Policy) {
        let all: Vec<Channel> = self.channels.keys().copied().collect();
        for channel in all {
            self.scan_channel(policy, channel);
        }
    }

    /// Re-read the window of one channel's text; record findings, masks, restorations and
    /// blocks.
    fn scan_channel(&mut self, policy: &Policy, channel: Channel) {
        let Some(text) = self.channels.get_mut(&channel) else {
            return;
        };
        let mut from = text.released.saturating_sub(CONTEXT_BYTES);
        while !text.text.is_char_boundary(from) {
            from -= 1;
        }
        let Some(window) = text.text.get(from..) else {
            return;
        };
        let slot = Slot {
            scope: channel.scope(),
            path: channel.path(),
            text: window,
        };
        for mut f in policy.scan_slots(Hook::LlmOutput, &[slot]) {
            f.start += from;
            f.end += from;
            if f.end <= text.released {
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
                    &mut text.masks,
                    f.start.max(text.released),
                    f.end,
                    placeholder(&f.kind),
                ),
                Action::Audit => {}
            }
        }
        // Placeholders of reversible request masks, whole and not yet released.
        let json_text = channel.call.is_some();
        for (ph, original) in &self.restore {
            let mut at = text.released;
            while let Some(i) = text.text.get(at..).and_then(|t| t.find(ph.as_str())) {
                let start = at + i;
                add_mask(
                    &mut text.masks,
                    start,
                    start + ph.len(),
                    restored_value(original, json_text),
                );
                at = start + ph.len();
            }
        }
    }

    /// Where a channel's text may be released up to now.
    fn safe_point(&self, channel: Channel, at_end: bool) -> usize {
        let Some(text) = self.channels.get(&channel) else {
            return 0;
        };
        let len = text.text.len();
        if at_end {
            return len;
        }
        let (hold_back, max_token) = self.hold;
        let mut safe = len.saturating_sub(hold_back);
        let token_start = text.text.rfind(char::is_whitespace).map_or(0, |i| i + 1);
        if len - token_start <= max_token {
            safe = safe.min(token_start);
        }
        for (s, e, _) in &text.masks {
            if e + hold_back > len {
                safe = safe.min(*s);
            }
        }
        let path = channel.path();
        for f in &self.findings {
            if f.slot == path && f.end + hold_back > len {
                safe = safe.min(f.start);
            }
        }
        safe.max(text.released)
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
                    if let Some(text) = self.channels.get_mut(c) {
                        text.released = text.released.max(*e);
                    }
                }
                out.extend_from_slice(&event.raw);
                return;
            }
        };
        for (channel, start, end) in content {
            let Some(text) = self.channels.get_mut(&channel) else {
                continue;
            };
            let piece = masked_piece(&text.text, start, end, &text.masks);
            text.released = text.released.max(end);
            let released = text.released;
            text.masks.retain(|(_, e, _)| *e > released);
            if let Some(slot) = delta_text_mut(&mut json, channel) {
                *slot = Value::String(piece);
            }
        }
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(json.to_string().as_bytes());
        out.extend_from_slice(b"\n\n");
    }

    fn masked(&self, channel: Channel, start: usize, end: usize) -> bool {
        self.channels
            .get(&channel)
            .is_some_and(|c| c.masks.iter().any(|(s, e, _)| *s < end && start < *e))
    }

    /// Drop everything held and end the stream cleanly.
    fn terminate(&mut self, out: &mut Vec<u8>) {
        self.held.clear();
        let (id, created, model) =
            self.header
                .clone()
                .unwrap_or((Value::Null, Value::Null, Value::Null));
        let mut indices: Vec<u64> = self.channels.keys().map(|c| c.choice).collect();
        indices.dedup();
        if indices.is_empty() {
            indices.push(0);
        }
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

impl ResponseStream for StreamGuard {
    fn push(&mut self, policy: &Policy, bytes: &[u8]) -> Vec<u8> {
        StreamGuard::push(self, policy, bytes)
    }
    fn finish(&mut self, policy: &Policy) -> Vec<u8> {
        StreamGuard::finish(self, policy)
    }
    fn decision(&self) -> Decision {
        StreamGuard::decision(self)
    }
    fn findings(&self) -> &[Finding] {
        StreamGuard::findings(self)
    }
    fn is_terminated(&self) -> bool {
        self.blocked
    }
}

/// The text pieces a chunk adds: each choice's `delta.content` and each
/// `delta.tool_calls[].function.arguments`, by channel.
fn deltas(json: &Value) -> Vec<(Channel, &str)> {
    let mut out = Vec::new();
    let Some(choices) = json.get("choices").and_then(Value::as_array) else {
        return out;
    };
    for c in choices {
        let (Some(choice), Some(delta)) = (c.get("index").and_then(Value::as_u64), c.get("delta"))
        else {
            continue;
        };
        if let Some(piece) = delta.get("content").and_then(Value::as_str) {
            out.push((Channel { choice, call: None }, piece));
        }
        for call in delta
            .get("tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let (Some(k), Some(piece)) = (
                call.get("index").and_then(Value::as_u64),
                call.pointer("/function/arguments").and_then(Value::as_str),
            ) {
                out.push((
                    Channel {
                        choice,
                        call: Some(k),
                    },
                    piece,
                ));
            }
        }
    }
    out
}

/// The string in a chunk that carries `channel`'s text.
fn delta_text_mut(json: &mut Value, channel: Channel) -> Option<&mut Value> {
    let c = json
        .get_mut("choices")?
        .as_array_mut()?
        .iter_mut()
        .find(|c| c.get("index").and_then(Value::as_u64) == Some(channel.choice))?;
    let delta = c.get_mut("delta")?;
    match channel.call {
        None => delta.get_mut("content"),
        Some(k) => delta
            .get_mut("tool_calls")?
            .as_array_mut()?
            .iter_mut()
            .find(|t| t.get("index").and_then(Value::as_u64) == Some(k))?
            .pointer_mut("/function/arguments"),
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

/// An MCP response streamed as SSE: one whole JSON-RPC message per event, each evaluated on
/// arrival like a buffered response; nothing is held.
#[derive(Debug)]
pub struct McpStream {
    decoder: SseDecoder,
    exchange: Exchange,
    decision: Option<Decision>,
    findings: Vec<Finding>,
}

impl McpStream {
    pub fn new(exchange: Exchange) -> Self {
        McpStream {
            decoder: SseDecoder::new(),
            exchange,
            decision: None,
            findings: Vec::new(),
        }
    }

    fn render(&mut self, policy: &Policy, event: SseEvent, out: &mut Vec<u8>) {
        let Some(mut json) = event
            .data
            .as_deref()
            .filter(|d| d.starts_with('{') || d.starts_with('['))
            .and_then(|d| serde_json::from_str::<Value>(d).ok())
            .filter(crate::mcp::is_jsonrpc)
        else {
            out.extend_from_slice(&event.raw);
            return;
        };
        let verdict = policy.evaluate_response_value(&mut json, &self.exchange);
        let strength = |d: Option<Decision>| match d {
            Some(Decision::Block) => 3,
            Some(Decision::Mask) => 2,
            Some(Decision::Audit) => 1,
            _ => 0,
        };
        if strength(Some(verdict.decision)) > strength(self.decision) {
            self.decision = Some(verdict.decision);
        }
        self.findings.extend(verdict.findings);
        match verdict.body {
            Some(body) => out.extend_from_slice(&crate::sse::with_data(&event.raw, &body)),
            None => out.extend_from_slice(&event.raw),
        }
    }
}

impl ResponseStream for McpStream {
    fn push(&mut self, policy: &Policy, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for event in self.decoder.push(bytes) {
            self.render(policy, event, &mut out);
        }
        out
    }
    fn finish(&mut self, policy: &Policy) -> Vec<u8> {
        let mut out = Vec::new();
        if let Some(event) = self.decoder.finish() {
            self.render(policy, event, &mut out);
        }
        out
    }
    fn decision(&self) -> Decision {
        self.decision.unwrap_or(Decision::Allow)
    }
    fn findings(&self) -> &[Finding] {
        &self.findings
    }
    fn is_terminated(&self) -> bool {
        false
    }
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

    /// A stream of one tool call whose arguments arrive in `pieces`.
    fn tool_transcript(pieces: &[&str]) -> Vec<u8> {
        let head = r#""id":"c2","object":"chat.completion.chunk","created":1,"model":"m""#;
        let mut out = format!("data: {{{head},\"choices\":[{{\"index\":0,\"delta\":{{\"role\":\"assistant\",\"tool_calls\":[{{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{{\"name\":\"send\",\"arguments\":\"\"}}}}]}},\"finish_reason\":null}}]}}\n\n").into_bytes();
        for p in pieces {
            let delta =
                serde_json::json!({"tool_calls": [{"index": 0, "function": {"arguments": p}}]});
            out.extend(format!("data: {{{head},\"choices\":[{{\"index\":0,\"delta\":{delta},\"finish_reason\":null}}]}}\n\n").bytes());
        }
        out.extend(format!("data: {{{head},\"choices\":[{{\"index\":0,\"delta\":{{}},\"finish_reason\":\"tool_calls\"}}]}}\n\ndata: [DONE]\n\n").bytes());
        out
    }

    /// The tool-call arguments a client reassembles.
    fn client_arguments(out: &[u8]) -> String {
        let mut d = SseDecoder::new();
        let mut events = d.push(out);
        events.extend(d.finish());
        let mut args = String::new();
        for e in events {
            let Some(data) = e.data.filter(|d| d.starts_with('{')) else {
                continue;
            };
            let v: Value = serde_json::from_str(&data).unwrap();
            for call in v["choices"][0]["delta"]["tool_calls"]
                .as_array()
                .into_iter()
                .flatten()
            {
                args.push_str(call["function"]["arguments"].as_str().unwrap_or(""));
            }
        }
        args
    }

    #[test]
    fn tool_call_argument_deltas_are_guarded() {
        let args = r#"{"to": "jane.doe@example.com", "body": "hi"}"#;
        let p = pieces(args, 5);
        let body = tool_transcript(&p.iter().map(String::as_str).collect::<Vec<_>>());
        let out = run(&body, &[17, 230]);
        assert_eq!(client_arguments(&out), r#"{"to": "[EMAIL]", "body": "hi"}"#);

        let args = r#"{"key": "AKIAQX7MZT3KWJ5RLN2P", "region": "eu-west-1"}"#;
        let p = pieces(args, 8);
        let out = run(
            &tool_transcript(&p.iter().map(String::as_str).collect::<Vec<_>>()),
            &[40],
        );
        let shown = String::from_utf8_lossy(&out);
        assert!(!shown.contains("AKIAQX7MZT3K"), "{shown}");
        let (_, finish, done) = client_view(&out);
        assert_eq!(finish.as_deref(), Some("content_filter"));
        assert!(done);
    }

    #[test]
    fn reversible_placeholders_are_restored_across_events() {
        let restore = vec![("[EMAIL_1]".to_string(), "a.b@example.com".to_string())];
        for seed in 0..20 {
            let text = "I wrote to [EMAIL_1] as asked; jane.doe@example.com was copied.";
            let p = pieces(text, seed);
            let body = transcript(&p.iter().map(String::as_str).collect::<Vec<_>>());
            let mut g = StreamGuard::with_restore(restore.clone());
            let mut out = g.push(policy(), &body[..body.len() / 2]);
            out.extend(g.push(policy(), &body[body.len() / 2..]));
            out.extend(g.finish(policy()));
            let (seen, finish, done) = client_view(&out);
            assert_eq!(
                seen,
                "I wrote to a.b@example.com as asked; [EMAIL] was copied."
            );
            assert_eq!(finish.as_deref(), Some("stop"));
            assert!(done);
        }
    }

    #[test]
    fn mcp_stream_events_are_evaluated_whole() {
        let p = Policy::from_json(
            br#"{"version": 1, "guards": [{"id": "t", "hook": "mcp_post_tool", "detector": {"type": "pii"}, "action": "mask"}]}"#,
        )
        .unwrap();
        let exchange = Exchange {
            mcp: Some(vec![serde_json::json!(3)]),
            restore: Vec::new(),
        };
        let note = "event: message\nid: 1\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/progress\",\"params\":{\"x\":\"jane.doe@example.com\"}}\n\n";
        let result = "event: message\r\nid: 2\r\ndata: {\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"mail jane.doe@example.com\"}]}}\r\n\r\n";
        let body = format!("{note}{result}");
        for cut in [0, 5, 60, note.len(), note.len() + 3, body.len() - 1] {
            let mut g = for_exchange(&exchange);
            let mut out = g.push(&p, &body.as_bytes()[..cut]);
            out.extend(g.push(&p, &body.as_bytes()[cut..]));
            out.extend(g.finish(&p));
            let out = String::from_utf8(out).unwrap();
            assert!(out.starts_with(note), "notifications pass byte for byte");
            assert!(out.ends_with("event: message\nid: 2\ndata: {\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"content\":[{\"type\":\"text\",\"text\":\"mail [EMAIL]\"}]}}\n\n"), "{out}");
            assert_eq!(g.decision(), Decision::Mask);
        }
    }

    #[test]
    fn hold_back_is_configurable() {
        let released_after_two_words = |hold: usize| {
            let p = Policy::from_json(format!(r#"{{"version": 1, "stream": {{"hold_back_bytes": {hold}}}, "guards": [
                {{"id": "s", "hook": "llm_output", "detector": {{"type": "secrets"}}, "action": "block"}}]}}"#).as_bytes()).unwrap();
            let body = transcript(&["hello", " world", " again"]);
            let mut g = StreamGuard::new();
            let cut = body.windows(6).position(|w| w == b" again").unwrap();
            let (seen, _, _) = client_view(&g.push(&p, &body[..cut]));
            seen
        };
        assert_eq!(released_after_two_words(0), "hello");
        assert_eq!(released_after_two_words(64), "");
        let e = Policy::from_json(
            br#"{"version": 1, "stream": {"hold_back_bytes": 9000}, "guards": []}"#,
        )
        .unwrap_err();
        assert_eq!(e.0[0].path, "stream.hold_back_bytes");
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
