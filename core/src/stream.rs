//! Guarding a streamed (SSE) LLM response without releasing what must be blocked or masked,
//! in every API dialect ([`crate::dialect`]).
//!
//! [`StreamGuard::push`] takes upstream bytes as they arrive and returns the bytes the client
//! may have now. Events are decoded incrementally ([`crate::sse`]). Each *channel* of text is
//! accumulated on its own — per dialect:
//!
//! - OpenAI Chat Completions: a choice's `delta.content`, and each of its
//!   `delta.tool_calls[k].function.arguments`; legacy completions: `choices[].text`;
//! - OpenAI Responses: `response.output_text.delta` / `response.refusal.delta` per output item
//!   and content part, `response.function_call_arguments.delta` per item, reasoning summary
//!   deltas; the `*.done`, `response.output_item.done` and `response.completed` events repeat
//!   the whole text (*snapshots*), which are rewritten with every mask of their channel;
//! - Anthropic Messages: `content_block_delta` per block index (`text_delta`,
//!   `input_json_delta`, `thinking_delta`);
//! - Gemini `streamGenerateContent?alt=sse`: each candidate's `parts[].text`; a `functionCall`
//!   (which arrives whole) is read as the JSON text of its `args`.
//!
//! Once per upstream chunk, after all its events are taken in, the `llm_output` guards re-read
//! a bounded window of each channel that grew (the unreleased text plus [`CONTEXT_BYTES`]
//! already released, for context words), as scope `assistant` or `tool_call_arguments`: a
//! chunk of a hundred small deltas costs one scan per channel. No text is released before it
//! is read; events ahead of a chunk's first text leave at once. An event is released only when
//! all its text lies before its channel's *safe point*:
//!
//! - the last `stream.hold_back_bytes` (default [`HOLD_BACK_BYTES`]) of the text are always
//!   held (multi-token values such as phone numbers or `key = value` pairs complete within it);
//! - the last whitespace-free token is held while it grows, up to `stream.max_token_hold_bytes`
//!   (default [`MAX_TOKEN_HOLD_BYTES`]; a secret is one token: no prefix of it leaves before
//!   the detector has seen all of it);
//! - text from the start of any finding that reaches into the held tail is held (a PEM block
//!   matched up to the end of the text so far keeps growing).
//!
//! Events without guarded text (roles, block starts, finish reasons, usage, comments, `[DONE]`)
//! keep their order behind held events. Released events that need no change are forwarded byte
//! for byte; events under a mask are re-serialised (keeping their `event:` and `id:` lines) with
//! the placeholder in the event where the span starts and the rest of the span removed from
//! later events. Placeholders of reversible request masks (`[EMAIL_1]`) that the model repeats
//! are rewritten the same way, with the original value. On a block, held events are dropped,
//! the stream is ended in the dialect's own way (chat and completions: a chunk with
//! `finish_reason: "content_filter"` and `data: [DONE]`; Responses: a `response.incomplete`
//! event with `incomplete_details.reason: "content_filter"`; Anthropic: `content_block_stop`
//! for open blocks, `message_delta` with `stop_reason: "refusal"`, `message_stop`; Gemini: a
//! chunk with `finishReason: "SAFETY"`), and the rest of the upstream stream is discarded. The
//! hold-back is what time-to-first-token pays.
//!
//! MCP responses streamed as SSE ([`McpStream`]) carry one whole JSON-RPC message per event, so
//! nothing is held: each event with a guarded result is evaluated as a buffered response would
//! be and released (rewritten if masked or refused) at once.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, VecDeque};

use serde::de::IgnoredAny;
use serde_json::{json, Value};
use smallvec::SmallVec;

use crate::coding::{Coding, StreamDecoder};
use crate::config::{Action, Hook, Scope, UnscannablePolicy};
use crate::dialect::Dialect;
use crate::engine::{placeholder, restored_value, Decision, Exchange, Finding};
use crate::event_template::EventTemplate;
use crate::payload::{Slot, SlotPath};
use crate::policy::Policy;
use crate::sse::{SseDecoder, SseEvent};
use crate::tree_free::{self, object_reader, Checked, Text};

pub use crate::config::{HOLD_BACK_BYTES, MAX_TOKEN_HOLD_BYTES};
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
    /// Cut the stream off now (the guard cannot go on reading it): the bytes that end it in
    /// its API's way; everything further is discarded.
    fn abort(&mut self, why: &str) -> Vec<u8>;
    /// Why an event was passed unread (`on_oversize` / `on_invalid_body: pass`), if one was:
    /// the stream is then `skipped` unless a guard acted on what was read.
    fn unread(&self) -> Option<&str>;
}

/// An event the stream guard cannot read — longer than [`crate::sse::MAX_EVENT_BYTES`] (the
/// decoder releases it whole rather than hold it without bound), or not UTF-8 — and what the
/// policy does with it: `on_oversize` or `on_invalid_body`, and the reason.
fn unreadable_event(policy: &Policy, event: &SseEvent) -> Option<(UnscannablePolicy, String)> {
    if !event.is_unread() {
        return None;
    }
    Some(if event.is_too_long() {
        (
            policy.limits.on_oversize,
            format!(
                "a stream event longer than the guard reads ({} bytes)",
                crate::sse::MAX_EVENT_BYTES
            ),
        )
    } else {
        (
            policy.limits.on_invalid_body,
            "a stream event that is not UTF-8".to_string(),
        )
    })
}

/// A JSON event (`{`…, for MCP also `[`…) the tree parser refuses (a lone surrogate escape, a
/// number beyond f64, cut short): the guard cannot read it, though a lenient client may, so it
/// follows `on_invalid_body` as an event that is not UTF-8 does.
fn invalid_json_event(policy: &Policy) -> (UnscannablePolicy, String) {
    (
        policy.limits.on_invalid_body,
        "a stream event that is not valid JSON".to_string(),
    )
}

/// The stream guard for a request's response: MCP, or an LLM API stream in the request's
/// dialect.
pub fn for_exchange(exchange: &Exchange) -> Box<dyn ResponseStream> {
    if exchange.is_mcp() {
        Box::new(McpStream::new(exchange.clone()))
    } else {
        Box::new(StreamGuard::for_dialect(
            exchange.dialect,
            exchange.restore.clone(),
        ))
    }
}

/// The stream guard for a response that arrives in `coding`: decoded chunk by chunk (bounded
/// by `limit` decoded bytes) before the guard reads it; the client gets the decoded stream.
/// Bytes that cannot be decoded end the stream as a block would.
pub fn for_response(exchange: &Exchange, coding: Coding, limit: usize) -> Box<dyn ResponseStream> {
    let inner = for_exchange(exchange);
    if coding == Coding::Identity {
        return inner;
    }
    Box::new(Decoding {
        decoder: StreamDecoder::new(coding, limit),
        inner,
        failed: false,
    })
}

/// A coded stream: decoded, then guarded.
struct Decoding {
    decoder: StreamDecoder,
    inner: Box<dyn ResponseStream>,
    failed: bool,
}

impl ResponseStream for Decoding {
    fn push(&mut self, policy: &Policy, bytes: &[u8]) -> Vec<u8> {
        if self.failed {
            return Vec::new();
        }
        match self.decoder.push(bytes) {
            Ok(plain) => self.inner.push(policy, &plain),
            Err(e) => {
                self.failed = true;
                self.inner
                    .abort(&format!("the response stream could not be decoded: {e}"))
            }
        }
    }
    fn finish(&mut self, policy: &Policy) -> Vec<u8> {
        if self.failed {
            return Vec::new();
        }
        match self.decoder.finish() {
            Ok(plain) => {
                let mut out = self.inner.push(policy, &plain);
                out.extend(self.inner.finish(policy));
                out
            }
            Err(e) => {
                self.failed = true;
                self.inner
                    .abort(&format!("the response stream could not be decoded: {e}"))
            }
        }
    }
    fn decision(&self) -> Decision {
        if self.failed {
            Decision::Block
        } else {
            self.inner.decision()
        }
    }
    fn findings(&self) -> &[Finding] {
        self.inner.findings()
    }
    fn is_terminated(&self) -> bool {
        self.failed || self.inner.is_terminated()
    }
    fn abort(&mut self, why: &str) -> Vec<u8> {
        self.failed = true;
        self.inner.abort(why)
    }
    fn unread(&self) -> Option<&str> {
        self.inner.unread()
    }
}

/// One accumulated text of a streamed answer: a choice's (candidate's, output item's, content
/// block's) text, or one tool call's arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Channel {
    /// Choice, candidate, output item or content block index.
    index: u64,
    /// Tool call (chat), content part (Responses) or function call (Gemini) within it.
    sub: u64,
    /// JSON text (tool-call arguments) rather than prose.
    args: bool,
}

impl Channel {
    fn text(index: u64, sub: u64) -> Self {
        Channel {
            index,
            sub,
            args: false,
        }
    }

    fn args(index: u64, sub: u64) -> Self {
        Channel {
            index,
            sub,
            args: true,
        }
    }

    fn path(self) -> SlotPath {
        SlotPath::at(if self.args {
            format!("/stream/{}/{}/arguments", self.index, self.sub)
        } else {
            format!("/stream/{}/{}/text", self.index, self.sub)
        })
    }

    fn scope(self) -> Scope {
        if self.args {
            Scope::ToolCallArguments
        } else {
            Scope::Assistant
        }
    }
}

#[derive(Debug)]
struct ChannelText {
    /// The channel's slot path, made once (findings and hold-back compare it per event).
    path: SlotPath,
    text: String,
    /// Bytes of `text` released to the client.
    released: usize,
    /// Rewrites (absolute, merged) not yet entirely released, with their replacement.
    masks: Vec<(usize, usize, String)>,
    /// Every rewrite so far, for events that repeat the whole text.
    all_masks: Vec<(usize, usize, String)>,
}

/// How an event carries a channel's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Carry {
    /// A new piece (a string at the pointer).
    Delta,
    /// The whole text so far (a string at the pointer).
    Snapshot,
    /// A whole Gemini function call: the JSON text of the object at the pointer.
    Object,
}

/// Where in an event's JSON a piece of text is: the chat shapes directly (every event of the
/// most common stream), anything else by JSON pointer.
#[derive(Debug, Clone)]
enum Loc {
    /// `choices[k].text` (`key: "text"`), or `choices[k].delta.<key>`.
    Choice {
        k: usize,
        key: &'static str,
    },
    /// `choices[k].delta.tool_calls[j].function.arguments`.
    ToolCall {
        k: usize,
        j: usize,
    },
    Pointer(String),
    /// A fixed JSON pointer (the fast readers' delta fields).
    Static(&'static str),
    /// Gemini: `candidates[k].content.parts[p].text`.
    Part {
        k: usize,
        p: usize,
    },
}

impl Loc {
    fn get<'a>(&self, v: &'a Value) -> Option<&'a Value> {
        match self {
            Loc::Choice { k, key: "text" } => v.get("choices")?.get(k)?.get("text"),
            Loc::Choice { k, key } => v.get("choices")?.get(k)?.get("delta")?.get(key),
            Loc::ToolCall { k, j } => v
                .get("choices")?
                .get(k)?
                .get("delta")?
                .get("tool_calls")?
                .get(j)?
                .get("function")?
                .get("arguments"),
            Loc::Pointer(p) => v.pointer(p),
            Loc::Static(p) => v.pointer(p),
            Loc::Part { k, p } => v
                .get("candidates")?
                .get(k)?
                .get("content")?
                .get("parts")?
                .get(p)?
                .get("text"),
        }
    }

    fn get_mut<'a>(&self, v: &'a mut Value) -> Option<&'a mut Value> {
        match self {
            Loc::Choice { k, key: "text" } => v.get_mut("choices")?.get_mut(k)?.get_mut("text"),
            Loc::Choice { k, key } => v
                .get_mut("choices")?
                .get_mut(k)?
                .get_mut("delta")?
                .get_mut(key),
            Loc::ToolCall { k, j } => v
                .get_mut("choices")?
                .get_mut(k)?
                .get_mut("delta")?
                .get_mut("tool_calls")?
                .get_mut(j)?
                .get_mut("function")?
                .get_mut("arguments"),
            Loc::Pointer(p) => v.pointer_mut(p),
            Loc::Static(p) => v.pointer_mut(p),
            Loc::Part { k, p } => v
                .get_mut("candidates")?
                .get_mut(k)?
                .get_mut("content")?
                .get_mut("parts")?
                .get_mut(p)?
                .get_mut("text"),
        }
    }
}

/// Where one event carries text: channel, location in the event, how.
type Piece = (Channel, Loc, Carry);

/// The text an event carries: (channel, start, end, location, carry) of each piece.
type Content = SmallVec<[(Channel, usize, usize, Loc, Carry); 1]>;

#[derive(Debug)]
struct Held {
    event: SseEvent,
    /// Parsed data, when the event carries JSON.
    json: Option<Value>,
    /// (channel, start, end, location, carry) of the text this event carries (nearly always
    /// one piece: kept inline, no allocation per event).
    content: Content,
}

/// A channel met in one [`StreamGuard::release`]: its safe point and whether it has masks
/// (neither moves while events pass whole), and how far the events passed whole have released
/// its text (written back once, or before an event is rendered).
#[derive(Debug, Clone, Copy)]
struct Releasing {
    channel: Channel,
    safe: usize,
    masked: bool,
    released: usize,
}

/// Streaming state for one LLM API response.
#[derive(Debug, Default)]
pub struct StreamGuard {
    dialect: Dialect,
    decoder: SseDecoder,
    held: VecDeque<Held>,
    channels: BTreeMap<Channel, ChannelText>,
    /// Chat and completions: `id`, `created`, `model` and `object` of the stream; Responses:
    /// the `response` of `response.created`; for the terminal event.
    header: Option<Value>,
    /// Responses: the last `sequence_number` seen.
    sequence: u64,
    /// Anthropic: content blocks started and not yet stopped, among released events.
    open_blocks: BTreeSet<u64>,
    /// Gemini: function calls seen, per candidate (each whole call is its own channel).
    calls: BTreeMap<u64, u64>,
    blocked: bool,
    decision: Option<Action>,
    findings: Vec<Finding>,
    block_message: Option<String>,
    /// Reversible request masks: (placeholder, original).
    restore: Vec<(String, String)>,
    /// The policy's `stream.hold_back_bytes` and `stream.max_token_hold_bytes`.
    hold: (usize, usize),
    /// The last delta event read in full, as a template for the next ones.
    template: Option<EventTemplate<Piece>>,
    /// Events in a row that did not match their template; at [`TEMPLATE_TRIES`] the stream
    /// stops making templates (its events differ in what the readers read).
    template_misses: u32,
    /// Why an event was passed unread, if one was ([`unreadable_event`] under `pass`).
    unread: Option<String>,
}

/// Misses in a row after which a stream's events are no longer matched to templates.
const TEMPLATE_TRIES: u32 = 16;

impl StreamGuard {
    /// A guard for an OpenAI chat-completion stream.
    pub fn new() -> Self {
        StreamGuard::default()
    }

    /// A chat-completion guard that also puts back the values of the request's reversible
    /// masks.
    pub fn with_restore(restore: Vec<(String, String)>) -> Self {
        StreamGuard::for_dialect(Dialect::OpenAiChat, restore)
    }

    /// A guard for a stream in `dialect` that puts back the request's reversible masks.
    pub fn for_dialect(dialect: Dialect, restore: Vec<(String, String)>) -> Self {
        StreamGuard {
            dialect,
            restore,
            ..StreamGuard::default()
        }
    }

    /// Feed upstream bytes; get the bytes to send to the client now.
    pub fn push(&mut self, policy: &Policy, bytes: &[u8]) -> Vec<u8> {
        if self.blocked {
            return Vec::new();
        }
        // What leaves is about what arrived (events pass whole unless a mask rewrites one).
        let mut out = Vec::with_capacity(bytes.len());
        // Every event of this chunk is taken in first, then each channel that grew is read
        // once: a chunk carrying a hundred small deltas costs one window scan per channel, not
        // a hundred overlapping ones. No text of the chunk is released before that scan; events
        // ahead of its first text (`message_start`, `content_block_start`, a role chunk) leave
        // at once, as they would alone.
        let mut touched = Vec::new();
        for event in self.decoder.push(bytes) {
            if self.refuses_unread(policy, &event, &mut out) {
                return out;
            }
            self.accept(policy, event, &mut touched, &mut out);
            if self.blocked {
                return out;
            }
            if touched.is_empty() {
                self.release(false, &mut out);
            }
        }
        self.settle(policy, &touched, false, &mut out);
        out
    }

    /// An event the guard cannot read: under `block` the stream ends here, as a block would
    /// end it (true); under `pass` it goes on, and the stream is no longer `allow`.
    fn refuses_unread(&mut self, policy: &Policy, event: &SseEvent, out: &mut Vec<u8>) -> bool {
        self.refuses(unreadable_event(policy, event), out)
    }

    /// What [`StreamGuard::refuses_unread`] does with an event the guard cannot read, given the
    /// rule and the reason.
    fn refuses(
        &mut self,
        unreadable: Option<(UnscannablePolicy, String)>,
        out: &mut Vec<u8>,
    ) -> bool {
        let Some((rule, why)) = unreadable else {
            return false;
        };
        match rule {
            UnscannablePolicy::Block => {
                out.extend(ResponseStream::abort(
                    self,
                    &format!("{why}; the stream was ended"),
                ));
                true
            }
            UnscannablePolicy::Pass => {
                self.unread.get_or_insert(why);
                false
            }
        }
    }

    /// The upstream stream ended: scan everything held and release it (or block).
    pub fn finish(&mut self, policy: &Policy) -> Vec<u8> {
        if self.blocked {
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut touched = Vec::new();
        if let Some(event) = self.decoder.finish() {
            if self.refuses_unread(policy, &event, &mut out) {
                return out;
            }
            self.accept(policy, event, &mut touched, &mut out);
            if self.blocked {
                return out;
            }
        }
        self.settle(policy, &touched, true, &mut out);
        out
    }

    /// The decision so far: the strongest action among the guards that fired.
    pub fn decision(&self) -> Decision {
        match self.decision {
            None if self.unread.is_some() => Decision::Skipped,
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

    /// Take in one event: hold it, add its text to its channels (listed in `touched` for
    /// [`StreamGuard::settle`]). A snapshot that differs from its channel is read at once; if
    /// that blocks, the stream is terminated here.
    fn accept(
        &mut self,
        policy: &Policy,
        event: SseEvent,
        touched: &mut Vec<Channel>,
        out: &mut Vec<u8>,
    ) {
        self.hold = (
            policy.stream.hold_back_bytes,
            policy.stream.max_token_hold_bytes,
        );
        let mut held = Held {
            event,
            json: None,
            content: Content::new(),
        };
        // The events nearly every stream is made of (chat and completions chunks after the
        // first, Anthropic `content_block_delta`, Responses `*.delta`, Gemini text parts): their
        // text is read straight from the event without building a JSON tree ([`fast_pieces`];
        // the tree is built later only if a mask rewrites the event).
        let chat_like = matches!(self.dialect, Dialect::OpenAiChat | Dialect::Completions);
        let data = held.event.data().filter(|d| d.starts_with('{'));
        if let Some(d) = data.filter(|_| !chat_like || self.header.is_some()) {
            // An event like the one before but for its text (and skipped values): the bytes
            // compared, not parsed again ([`EventTemplate`]).
            let trying = self.template_misses < TEMPLATE_TRIES;
            if let Some(t) = self.template.as_ref().filter(|_| trying) {
                if let Some((piece, text, counter)) = t.read(d) {
                    self.template_misses = 0;
                    if let Some(n) = counter {
                        self.sequence = self.sequence.max(n);
                    }
                    let piece = piece.clone();
                    add_piece(&mut self.channels, &mut held.content, touched, piece, &text);
                    self.held.push_back(held);
                    return;
                }
                self.template_misses += 1;
            }
            let channels = &mut self.channels;
            let content = &mut held.content;
            // The first piece, while it is the only one: a template if its text is borrowed.
            let mut only: Option<(Piece, &str)> = None;
            let mut pieces = 0;
            let read = fast_pieces(self.dialect, d, &mut self.sequence, &mut |piece, text| {
                pieces += 1;
                if let (1, Cow::Borrowed(t)) = (pieces, &text) {
                    only = Some((piece.clone(), t));
                }
                add_piece(channels, content, touched, piece, &text);
            });
            if read {
                if let Some((piece, text)) = only.filter(|_| pieces == 1 && trying) {
                    let (keys, counter) = template_keys(self.dialect);
                    self.template = EventTemplate::new(d, text, keys, counter, piece);
                }
                self.held.push_back(held);
                return;
            }
        }
        let parsed = held
            .event
            .data()
            .filter(|d| d.starts_with('{'))
            .map(serde_json::from_str::<Value>);
        if matches!(parsed, Some(Err(_))) && self.refuses(Some(invalid_json_event(policy)), out) {
            return;
        }
        if let Some(Ok(json)) = parsed {
            self.note_header(&json);
            for (channel, pointer, carry) in self.pieces(&json) {
                let object;
                let piece: &str = match (carry, pointer.get(&json)) {
                    (Carry::Object, Some(v)) => {
                        object = v.to_string();
                        &object
                    }
                    (_, Some(Value::String(s))) => s,
                    _ => continue,
                };
                if carry == Carry::Snapshot {
                    let len = self.channels.get(&channel).map_or(0, |t| t.text.len());
                    let same = self.channels.get(&channel).is_some_and(|t| t.text == piece);
                    if !same && !piece.is_empty() {
                        // A snapshot that is not the text the deltas built: read it alone.
                        self.scan_snapshot(policy, channel, piece);
                        if self.blocked {
                            self.held.push_back(held);
                            self.terminate(out);
                            return;
                        }
                    }
                    held.content.push((channel, 0, len, pointer, carry));
                    continue;
                }
                let text = self
                    .channels
                    .entry(channel)
                    .or_insert_with(|| ChannelText::new(channel));
                let start = text.text.len();
                text.text.push_str(piece);
                held.content
                    .push((channel, start, text.text.len(), pointer, carry));
                if !touched.contains(&channel) {
                    touched.push(channel);
                }
            }
            held.json = Some(json);
        }
        self.held.push_back(held);
    }

    /// Read each channel in `touched` once, then (at the end: everything once more) release
    /// what is safe, or terminate on a block.
    fn settle(&mut self, policy: &Policy, touched: &[Channel], at_end: bool, out: &mut Vec<u8>) {
        for &channel in touched {
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

    /// Remember what the terminal event needs: the stream's ids and model.
    fn note_header(&mut self, json: &Value) {
        match self.dialect {
            Dialect::OpenAiResponses => {
                if let Some(n) = json.get("sequence_number").and_then(Value::as_u64) {
                    self.sequence = self.sequence.max(n);
                }
                if let Some(r) = json.get("response").filter(|r| r.is_object()) {
                    if self.header.is_none() {
                        self.header = Some(r.clone());
                    }
                }
            }
            Dialect::AnthropicMessages | Dialect::Gemini => {}
            _ => {
                if self.header.is_none() && json.get("choices").is_some() {
                    self.header = Some(json!({
                        "id": json["id"], "object": json["object"],
                        "created": json["created"], "model": json["model"],
                    }));
                }
            }
        }
    }

    /// Where `json` (one event's data) carries text, by dialect.
    fn pieces(&mut self, json: &Value) -> Vec<Piece> {
        let mut out = Vec::new();
        match self.dialect {
            Dialect::OpenAiResponses => responses_pieces(json, &mut out),
            Dialect::AnthropicMessages => anthropic_pieces(json, &mut out),
            Dialect::Gemini => {
                let Some(candidates) = json.get("candidates").and_then(Value::as_array) else {
                    return out;
                };
                for (k, c) in candidates.iter().enumerate() {
                    let index = c.get("index").and_then(Value::as_u64).unwrap_or(k as u64);
                    let Some(parts) = c.pointer("/content/parts").and_then(Value::as_array) else {
                        continue;
                    };
                    for (p, part) in parts.iter().enumerate() {
                        let at = format!("/candidates/{k}/content/parts/{p}");
                        if part.get("text").is_some_and(Value::is_string) {
                            out.push((
                                Channel::text(index, 0),
                                Loc::Pointer(format!("{at}/text")),
                                Carry::Delta,
                            ));
                        }
                        for key in ["functionCall", "function_call"] {
                            if part.pointer(&format!("/{key}/args")).is_some() {
                                let n = self.calls.entry(index).or_insert(0);
                                *n += 1;
                                out.push((
                                    Channel::args(index, *n),
                                    Loc::Pointer(format!("{at}/{key}/args")),
                                    Carry::Object,
                                ));
                            }
                        }
                    }
                }
            }
            _ => chat_pieces(json, &mut out),
        }
        out
    }

    /// A last pass over every channel with everything in view.
    fn final_scan(&mut self, policy: &Policy) {
        let all: Vec<Channel> = self.channels.keys().copied().collect();
        for channel in all {
            self.scan_channel(policy, channel);
        }
    }

    /// Record a finding; a block ends the stream.
    fn found(&mut self, policy: &Policy, f: &Finding) {
        let seen = self
            .findings
            .iter()
            .any(|g| g.guard_index == f.guard_index && g.start == f.start && g.slot == f.slot);
        if !seen {
            self.findings.push(f.clone());
        }
        self.decision = self.decision.max(Some(f.action));
        if f.action == Action::Block {
            self.blocked = true;
            if self.block_message.is_none() {
                self.block_message = policy
                    .block_message(std::slice::from_ref(f))
                    .map(|(_, m)| m);
            }
        }
    }

    /// A snapshot whose text differs from what the deltas built: anything a guard would
    /// block or mask in it blocks (its spans cannot be mapped onto released deltas).
    fn scan_snapshot(&mut self, policy: &Policy, channel: Channel, text: &str) {
        let slot = Slot {
            scope: channel.scope(),
            path: channel.path(),
            text,
        };
        for mut f in policy.scan_slots(Hook::LlmOutput, &[slot]) {
            if f.action == Action::Mask {
                f.action = Action::Block;
            }
            self.found(policy, &f);
        }
    }

    /// Re-read the window of one channel's text; record findings, masks, restorations and
    /// blocks.
    fn scan_channel(&mut self, policy: &Policy, channel: Channel) {
        let Some(text) = self.channels.get(&channel) else {
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
            path: text.path.clone(),
            text: window,
        };
        let released = text.released;
        let findings = policy.scan_slots(Hook::LlmOutput, &[slot]);
        for mut f in findings {
            f.start += from;
            f.end += from;
            if f.end <= released {
                continue; // entirely in text already released (and scanned then)
            }
            self.found(policy, &f);
            if f.action == Action::Mask {
                if let Some(text) = self.channels.get_mut(&channel) {
                    text.add_mask(f.start.max(released), f.end, placeholder(&f.kind));
                }
            }
        }
        let Some(text) = self.channels.get_mut(&channel) else {
            return;
        };
        // Placeholders of reversible request masks, whole and not yet released.
        for (ph, original) in &self.restore {
            let mut at = text.released;
            while let Some(i) = text.text.get(at..).and_then(|t| t.find(ph.as_str())) {
                let start = at + i;
                let value = restored_value(original, channel.args);
                text.add_mask(start, start + ph.len(), value);
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
        for f in &self.findings {
            if f.slot == text.path && f.end + hold_back > len {
                safe = safe.min(f.start);
            }
        }
        safe.max(text.released)
    }

    /// Release held events from the front while their text is safe.
    fn release(&mut self, at_end: bool, out: &mut Vec<u8>) {
        let mut seen: SmallVec<[Releasing; 2]> = SmallVec::new();
        while let Some(front) = self.held.front() {
            let (mut ready, mut whole) = (true, front.json.is_none());
            for (c, _, end, _, carry) in &front.content {
                let r = match seen.iter().position(|r| r.channel == *c) {
                    Some(at) => seen[at],
                    None => {
                        let r = Releasing {
                            channel: *c,
                            safe: self.safe_point(*c, at_end),
                            masked: self
                                .channels
                                .get(c)
                                .is_some_and(|t| !t.masks.is_empty() || !t.all_masks.is_empty()),
                            released: 0,
                        };
                        seen.push(r);
                        r
                    }
                };
                ready &= *end <= r.safe;
                whole &= *carry == Carry::Delta && !r.masked;
            }
            if !ready {
                break;
            }
            let Some(held) = self.held.pop_front() else {
                break;
            };
            if whole {
                // Deltas of channels without masks, read without a tree: the event leaves as
                // it came (what `render` does with it, without a lookup per event).
                for (c, _, end, _, _) in &held.content {
                    if let Some(r) = seen.iter_mut().find(|r| r.channel == *c) {
                        r.released = r.released.max(*end);
                    }
                }
                out.extend_from_slice(held.event.raw());
                self.decoder.recycle(held.event);
                continue;
            }
            self.write_released(&seen);
            seen.clear();
            self.render(held, out);
        }
        self.write_released(&seen);
    }

    /// The text released by events passed whole in [`StreamGuard::release`].
    fn write_released(&mut self, seen: &[Releasing]) {
        for r in seen {
            if let Some(text) = self.channels.get_mut(&r.channel) {
                text.released = text.released.max(r.released);
            }
        }
    }

    /// Append an event to `out`, rewritten if a mask covers any of its text.
    fn render(&mut self, held: Held, out: &mut Vec<u8>) {
        let Held {
            event,
            mut json,
            content,
        } = held;
        if let Some(j) = &json {
            self.note_released(j);
        }
        let rewrite = content.iter().any(|(c, s, e, _, carry)| match carry {
            Carry::Snapshot => self
                .channels
                .get(c)
                .is_some_and(|t| !t.all_masks.is_empty()),
            _ => self.masked(*c, *s, *e),
        });
        if rewrite && json.is_none() {
            // Read without a tree ([`fast_pieces`]): build it now to rewrite the event.
            json = event
                .data()
                .and_then(|d| serde_json::from_str::<Value>(d).ok());
            if json.is_none() {
                // The fast readers skip the fields they do not read unchecked, so an event the
                // tree parser refuses there (a lone surrogate escape, a number beyond f64) was
                // read: it is withheld rather than sent with its text unmasked.
                for (c, _, e, _, _) in &content {
                    if let Some(text) = self.channels.get_mut(c) {
                        text.released = text.released.max(*e);
                    }
                }
                return;
            }
        }
        let mut json = match json {
            Some(j) if rewrite => j,
            _ => {
                for (c, _, e, _, carry) in &content {
                    if *carry == Carry::Snapshot {
                        continue;
                    }
                    if let Some(text) = self.channels.get_mut(c) {
                        text.released = text.released.max(*e);
                    }
                }
                out.extend_from_slice(event.raw());
                return;
            }
        };
        for (channel, start, end, pointer, carry) in content {
            let Some(text) = self.channels.get_mut(&channel) else {
                continue;
            };
            let piece = if carry == Carry::Snapshot {
                masked_piece(&text.text, 0, end, &text.all_masks)
            } else {
                let piece = masked_piece(&text.text, start, end, &text.masks);
                text.released = text.released.max(end);
                let released = text.released;
                text.masks.retain(|(_, e, _)| *e > released);
                piece
            };
            let Some(slot) = pointer.get_mut(&mut json) else {
                continue;
            };
            *slot = match carry {
                // The arguments object, masked as JSON text; if a mask broke its JSON, the
                // masked text itself (never the original).
                Carry::Object => serde_json::from_str(&piece).unwrap_or(Value::String(piece)),
                _ => Value::String(piece),
            };
        }
        out.extend_from_slice(&crate::sse::with_data(
            event.raw(),
            json.to_string().as_bytes(),
        ));
    }

    /// State the terminal event depends on, as events leave: Anthropic's open blocks.
    fn note_released(&mut self, json: &Value) {
        if self.dialect != Dialect::AnthropicMessages {
            return;
        }
        let index = json.get("index").and_then(Value::as_u64);
        match (json.get("type").and_then(Value::as_str), index) {
            (Some("content_block_start"), Some(i)) => {
                self.open_blocks.insert(i);
            }
            (Some("content_block_stop"), Some(i)) => {
                self.open_blocks.remove(&i);
            }
            _ => {}
        }
    }

    fn masked(&self, channel: Channel, start: usize, end: usize) -> bool {
        self.channels
            .get(&channel)
            .is_some_and(|c| c.masks.iter().any(|(s, e, _)| *s < end && start < *e))
    }

    /// Drop everything held and end the stream cleanly, in the dialect's own way.
    fn terminate(&mut self, out: &mut Vec<u8>) {
        self.held.clear();
        let mut indices: Vec<u64> = self.channels.keys().map(|c| c.index).collect();
        indices.dedup();
        if indices.is_empty() {
            indices.push(0);
        }
        let mut data = |event: Option<&str>, v: Value| {
            if let Some(name) = event {
                out.extend_from_slice(format!("event: {name}\n").as_bytes());
            }
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(v.to_string().as_bytes());
            out.extend_from_slice(b"\n\n");
        };
        let parapet = json!({"decision": "block", "message": self.block_message});
        match self.dialect {
            Dialect::OpenAiResponses => {
                let mut response = self.header.clone().unwrap_or_else(|| json!({}));
                if let Some(r) = response.as_object_mut() {
                    r.insert("status".into(), json!("incomplete"));
                    r.insert(
                        "incomplete_details".into(),
                        json!({"reason": "content_filter"}),
                    );
                    r.insert("output".into(), json!([]));
                }
                data(
                    Some("response.incomplete"),
                    json!({"type": "response.incomplete", "sequence_number": self.sequence + 1,
                           "response": response, "parapet": parapet}),
                );
            }
            Dialect::AnthropicMessages => {
                for i in std::mem::take(&mut self.open_blocks) {
                    data(
                        Some("content_block_stop"),
                        json!({"type": "content_block_stop", "index": i}),
                    );
                }
                data(
                    Some("message_delta"),
                    json!({"type": "message_delta",
                           "delta": {"stop_reason": "refusal", "stop_sequence": null},
                           "usage": {"output_tokens": 0}}),
                );
                data(Some("message_stop"), json!({"type": "message_stop"}));
            }
            Dialect::Gemini => {
                let candidates: Vec<Value> = indices
                    .iter()
                    .map(|i| {
                        json!({"content": {"parts": [{"text": ""}], "role": "model"},
                               "finishReason": "SAFETY", "index": i})
                    })
                    .collect();
                data(None, json!({"candidates": candidates}));
            }
            _ => {
                let h = self.header.clone().unwrap_or_else(|| json!({}));
                let legacy = h["object"] == "text_completion";
                let choices: Vec<Value> = indices
                    .iter()
                    .map(|i| {
                        if legacy {
                            json!({"index": i, "text": "", "logprobs": null, "finish_reason": "content_filter"})
                        } else {
                            json!({"index": i, "delta": {}, "finish_reason": "content_filter"})
                        }
                    })
                    .collect();
                let object = if legacy {
                    "text_completion"
                } else {
                    "chat.completion.chunk"
                };
                data(
                    None,
                    json!({"id": h["id"], "object": object, "created": h["created"],
                           "model": h["model"], "choices": choices, "parapet": parapet}),
                );
                out.extend_from_slice(b"data: [DONE]\n\n");
            }
        }
    }
}

impl ChannelText {
    fn new(channel: Channel) -> Self {
        ChannelText {
            path: channel.path(),
            text: String::new(),
            released: 0,
            masks: Vec::new(),
            all_masks: Vec::new(),
        }
    }

    fn add_mask(&mut self, start: usize, end: usize, replacement: String) {
        add_mask(&mut self.all_masks, start, end, replacement.clone());
        add_mask(&mut self.masks, start, end, replacement);
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
    fn abort(&mut self, why: &str) -> Vec<u8> {
        if self.blocked {
            return Vec::new();
        }
        self.blocked = true;
        self.decision = Some(Action::Block);
        self.block_message = Some(why.to_string());
        let mut out = Vec::new();
        self.terminate(&mut out);
        out
    }
    fn unread(&self) -> Option<&str> {
        self.unread.as_deref()
    }
}

object_reader! {
    skip IgnoredAny;
    /// A chat or completions chunk, as far as [`chat_pieces`] reads it (chat completions: each
    /// choice's `delta.content` and `delta.tool_calls[].function.arguments`; legacy completions:
    /// `choices[].text`).
    struct FastChunk<'a> {
        "choices" => choices: Vec<FastChoice<'a>>,
    }
}

object_reader! {
    skip IgnoredAny;
    struct FastChoice<'a> {
        "index" => index: u64,
        "text" => text: Text<'a>,
        "delta" => delta: FastDelta<'a>,
    }
}

object_reader! {
    skip IgnoredAny;
    struct FastDelta<'a> {
        "content" => content: Text<'a>,
        "refusal" => refusal: Text<'a>,
        "tool_calls" => tool_calls: Vec<FastCall<'a>>,
    }
}

object_reader! {
    skip IgnoredAny;
    struct FastCall<'a> {
        "index" => index: u64,
        "function" => function: FastFunction<'a>,
    }
}

object_reader! {
    skip IgnoredAny;
    struct FastFunction<'a> {
        "arguments" => arguments: Text<'a>,
    }
}

/// [`chat_pieces`] with each piece's text, read without a JSON tree and handed to `each` in
/// order; `false` (and nothing handed) when the event does not have the plain shape (a field of
/// another type, a duplicate key, an array for an object), and then the tree reader decides.
fn chat_pieces_fast<'a>(data: &'a str, each: Sink<'_, 'a>) -> bool {
    let Some(chunk) = tree_free::read_fast::<FastChunk<'a>>(data) else {
        return false;
    };
    for (k, c) in chunk.choices.into_iter().flatten().enumerate() {
        let Some(choice) = c.index else {
            continue;
        };
        if let Some(text) = c.text {
            let loc = Loc::Choice { k, key: "text" };
            each((Channel::text(choice, 0), loc, Carry::Delta), text.0);
        }
        let Some(delta) = c.delta else {
            continue;
        };
        for (key, value) in [("content", delta.content), ("refusal", delta.refusal)] {
            if let Some(text) = value {
                let sub = u64::from(key == "refusal") << 32;
                let loc = Loc::Choice { k, key };
                each((Channel::text(choice, sub), loc, Carry::Delta), text.0);
            }
        }
        for (j, call) in delta.tool_calls.into_iter().flatten().enumerate() {
            if let (Some(n), Some(args)) = (call.index, call.function.and_then(|f| f.arguments)) {
                let loc = Loc::ToolCall { k, j };
                each((Channel::args(choice, n), loc, Carry::Delta), args.0);
            }
        }
    }
    true
}

/// Where a tree-free reader hands each piece it finds, with its text (borrowed from the event
/// unless unescaped).
type Sink<'s, 'a> = &'s mut dyn FnMut(Piece, Cow<'a, str>);

/// A piece of an event taken in: its text added to its channel, noted in the event's `content`
/// and the channel in `touched`.
fn add_piece(
    channels: &mut BTreeMap<Channel, ChannelText>,
    content: &mut Content,
    touched: &mut Vec<Channel>,
    (channel, pointer, carry): Piece,
    piece: &str,
) {
    let text = channels
        .entry(channel)
        .or_insert_with(|| ChannelText::new(channel));
    let start = text.text.len();
    text.text.push_str(piece);
    content.push((channel, start, text.text.len(), pointer, carry));
    if !touched.contains(&channel) {
        touched.push(channel);
    }
}

/// The top-level keys [`fast_pieces`] reads in `dialect`'s events, and the one of them it only
/// notes as a counter: what an [`EventTemplate`] of the dialect's events holds fixed.
fn template_keys(dialect: Dialect) -> (&'static [&'static str], Option<&'static str>) {
    match dialect {
        Dialect::AnthropicMessages => (FastBlockEvent::KEYS, None),
        Dialect::OpenAiResponses => (FastResponsesEvent::KEYS, Some("sequence_number")),
        Dialect::Gemini => (FastGeminiChunk::KEYS, None),
        _ => (FastChunk::KEYS, None),
    }
}

/// The pieces of an event read without a JSON tree, for the shapes nearly every event of a
/// stream has in `dialect` (handed to `each` in order, with their text); `false` (and nothing
/// handed) for any other event, and then the tree reader decides. Responses: the event's
/// `sequence_number` is noted in `sequence`, as the tree reader's header would.
fn fast_pieces<'a>(
    dialect: Dialect,
    data: &'a str,
    sequence: &mut u64,
    each: Sink<'_, 'a>,
) -> bool {
    match dialect {
        Dialect::OpenAiChat | Dialect::Completions => chat_pieces_fast(data, each),
        Dialect::AnthropicMessages => anthropic_pieces_fast(data, each),
        Dialect::OpenAiResponses => responses_pieces_fast(data, sequence, each),
        Dialect::Gemini => gemini_pieces_fast(data, each),
        _ => false,
    }
}

object_reader! {
    skip IgnoredAny;
    /// A Gemini stream chunk, as far as its text parts go.
    struct FastGeminiChunk<'a> {
        "candidates" => candidates: Vec<FastCandidate<'a>>,
    }
}

object_reader! {
    skip IgnoredAny;
    struct FastCandidate<'a> {
        "index" => index: u64,
        "content" => content: FastContent<'a>,
    }
}

object_reader! {
    skip IgnoredAny;
    struct FastContent<'a> {
        "parts" => parts: Vec<FastPart<'a>>,
    }
}

object_reader! {
    skip IgnoredAny;
    struct FastPart<'a> {
        "text" => text: Text<'a>,
        "functionCall" => function_call: Checked,
        "function_call" => function_call_snake: Checked,
    }
}

/// The text parts of a Gemini chunk without a tree, as [`StreamGuard::pieces`] reads them;
/// `false` for a chunk with a function call (each call is counted as its own channel there) or
/// any shape it does not take.
fn gemini_pieces_fast<'a>(data: &'a str, each: Sink<'_, 'a>) -> bool {
    let Some(chunk) = tree_free::read_fast::<FastGeminiChunk<'a>>(data) else {
        return false;
    };
    let candidates = chunk.candidates.unwrap_or_default();
    let calls = |c: &FastCandidate<'_>| {
        c.content
            .iter()
            .flat_map(|t| t.parts.iter().flatten())
            .any(|p| p.function_call.is_some() || p.function_call_snake.is_some())
    };
    if candidates.iter().any(calls) {
        return false;
    }
    for (k, c) in candidates.into_iter().enumerate() {
        let index = c.index.unwrap_or(k as u64);
        let parts = c.content.and_then(|t| t.parts).unwrap_or_default();
        for (p, part) in parts.into_iter().enumerate() {
            if let Some(text) = part.text {
                each(
                    (Channel::text(index, 0), Loc::Part { k, p }, Carry::Delta),
                    text.0,
                );
            }
        }
    }
    true
}

object_reader! {
    skip IgnoredAny;
    /// An Anthropic event, as far as [`anthropic_pieces`] reads a `content_block_delta`.
    struct FastBlockEvent<'a> {
        "type" => kind: Text<'a>,
        "index" => index: u64,
        "delta" => delta: FastBlockDelta<'a>,
    }
}

object_reader! {
    skip IgnoredAny;
    struct FastBlockDelta<'a> {
        "type" => kind: Text<'a>,
        "text" => text: Text<'a>,
        "partial_json" => partial_json: Text<'a>,
        "thinking" => thinking: Text<'a>,
    }
}

/// [`anthropic_pieces`] of a `content_block_delta` without a tree; `false` for any other
/// event or shape.
fn anthropic_pieces_fast<'a>(data: &'a str, each: Sink<'_, 'a>) -> bool {
    let Some(e) = tree_free::read_fast::<FastBlockEvent<'a>>(data) else {
        return false;
    };
    if e.kind.as_deref() != Some("content_block_delta") {
        return false;
    }
    let index = e.index.unwrap_or(0);
    let Some(delta) = e.delta else {
        return true;
    };
    let (piece, pointer, args) = match delta.kind.as_deref() {
        Some("input_json_delta") => (delta.partial_json, "/delta/partial_json", true),
        Some("thinking_delta") => (delta.thinking, "/delta/thinking", false),
        _ => (delta.text, "/delta/text", false),
    };
    if let Some(text) = piece {
        let channel = Channel {
            index,
            sub: 0,
            args,
        };
        each((channel, Loc::Static(pointer), Carry::Delta), text.0);
    }
    true
}

object_reader! {
    skip IgnoredAny;
    /// A Responses event, as far as [`responses_pieces`] reads its `*.delta` kinds.
    struct FastResponsesEvent<'a> {
        "type" => kind: Text<'a>,
        "output_index" => output_index: u64,
        "content_index" => content_index: u64,
        "summary_index" => summary_index: u64,
        "sequence_number" => sequence_number: u64,
        "delta" => delta: Text<'a>,
    }
}

/// [`responses_pieces`] of the text and argument deltas without a tree; `false` for every
/// other event (snapshots, item and response events) or shape.
fn responses_pieces_fast<'a>(data: &'a str, sequence: &mut u64, each: Sink<'_, 'a>) -> bool {
    let Some(e) = tree_free::read_fast::<FastResponsesEvent<'a>>(data) else {
        return false;
    };
    let (item, part) = (e.output_index.unwrap_or(0), e.content_index.unwrap_or(0));
    let channel = match e.kind.as_deref() {
        Some("response.output_text.delta" | "response.refusal.delta") => Channel::text(item, part),
        Some(
            "response.function_call_arguments.delta" | "response.custom_tool_call_input.delta",
        ) => Channel::args(item, 0),
        Some("response.reasoning_summary_text.delta") => {
            Channel::text(item, (1u64 << 32) + e.summary_index.unwrap_or(0))
        }
        _ => return false,
    };
    if let Some(n) = e.sequence_number {
        *sequence = (*sequence).max(n);
    }
    if let Some(text) = e.delta {
        each((channel, Loc::Static("/delta"), Carry::Delta), text.0);
    }
    true
}

fn chat_pieces(json: &Value, out: &mut Vec<Piece>) {
    let Some(choices) = json.get("choices").and_then(Value::as_array) else {
        return;
    };
    for (k, c) in choices.iter().enumerate() {
        let Some(choice) = c.get("index").and_then(Value::as_u64) else {
            continue;
        };
        if c.get("text").is_some_and(Value::is_string) {
            out.push((
                Channel::text(choice, 0),
                Loc::Choice { k, key: "text" },
                Carry::Delta,
            ));
        }
        let Some(delta) = c.get("delta") else {
            continue;
        };
        for key in ["content", "refusal"] {
            if delta.get(key).is_some_and(Value::is_string) {
                let sub = u64::from(key == "refusal") << 32;
                out.push((
                    Channel::text(choice, sub),
                    Loc::Choice { k, key },
                    Carry::Delta,
                ));
            }
        }
        for (j, call) in delta
            .get("tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if let (Some(n), Some(Value::String(_))) = (
                call.get("index").and_then(Value::as_u64),
                call.pointer("/function/arguments"),
            ) {
                out.push((
                    Channel::args(choice, n),
                    Loc::ToolCall { k, j },
                    Carry::Delta,
                ));
            }
        }
    }
}

/// OpenAI Responses: typed events; deltas, and the events that repeat the whole text.
fn responses_pieces(json: &Value, out: &mut Vec<Piece>) {
    let num = |key: &str| json.get(key).and_then(Value::as_u64).unwrap_or(0);
    let Some(kind) = json.get("type").and_then(Value::as_str) else {
        return;
    };
    let (item, part) = (num("output_index"), num("content_index"));
    // Reasoning summaries are their own channels, apart from the content parts.
    let summary = (1u64 << 32) + num("summary_index");
    let mut push =
        |c: Channel, p: &str, carry: Carry| out.push((c, Loc::Pointer(p.to_string()), carry));
    match kind {
        "response.output_text.delta" | "response.refusal.delta" => {
            push(Channel::text(item, part), "/delta", Carry::Delta)
        }
        "response.function_call_arguments.delta" | "response.custom_tool_call_input.delta" => {
            push(Channel::args(item, 0), "/delta", Carry::Delta)
        }
        "response.reasoning_summary_text.delta" => {
            push(Channel::text(item, summary), "/delta", Carry::Delta)
        }
        "response.output_text.done" => push(Channel::text(item, part), "/text", Carry::Snapshot),
        "response.refusal.done" => push(Channel::text(item, part), "/refusal", Carry::Snapshot),
        "response.function_call_arguments.done" => {
            push(Channel::args(item, 0), "/arguments", Carry::Snapshot)
        }
        "response.reasoning_summary_text.done" => {
            push(Channel::text(item, summary), "/text", Carry::Snapshot)
        }
        "response.content_part.added" | "response.content_part.done" => {
            for key in ["text", "refusal"] {
                if json.pointer(&format!("/part/{key}")).is_some() {
                    push(
                        Channel::text(item, part),
                        &format!("/part/{key}"),
                        Carry::Snapshot,
                    );
                }
            }
        }
        "response.output_item.added" | "response.output_item.done" => {
            if let Some(it) = json.get("item") {
                item_snapshots(it, item, "/item", out);
            }
        }
        _ => {
            // response.completed / incomplete / failed carry the whole answer.
            if let Some(items) = json.pointer("/response/output").and_then(Value::as_array) {
                for (i, it) in items.iter().enumerate() {
                    item_snapshots(it, i as u64, &format!("/response/output/{i}"), out);
                }
            }
        }
    }
}

/// The texts a whole Responses output item repeats.
fn item_snapshots(item: &Value, index: u64, at: &str, out: &mut Vec<Piece>) {
    if item.get("arguments").is_some_and(Value::is_string) {
        out.push((
            Channel::args(index, 0),
            Loc::Pointer(format!("{at}/arguments")),
            Carry::Snapshot,
        ));
    }
    if let Some(parts) = item.get("content").and_then(Value::as_array) {
        for (p, part) in parts.iter().enumerate() {
            for key in ["text", "refusal"] {
                if part.get(key).is_some_and(Value::is_string) {
                    out.push((
                        Channel::text(index, p as u64),
                        Loc::Pointer(format!("{at}/content/{p}/{key}")),
                        Carry::Snapshot,
                    ));
                }
            }
        }
    }
    if let Some(parts) = item.get("summary").and_then(Value::as_array) {
        for (p, part) in parts.iter().enumerate() {
            if part.get("text").is_some_and(Value::is_string) {
                out.push((
                    Channel::text(index, (1u64 << 32) + p as u64),
                    Loc::Pointer(format!("{at}/summary/{p}/text")),
                    Carry::Snapshot,
                ));
            }
        }
    }
}

/// Anthropic Messages: `content_block_delta` per block.
fn anthropic_pieces(json: &Value, out: &mut Vec<Piece>) {
    let index = json.get("index").and_then(Value::as_u64).unwrap_or(0);
    match json.get("type").and_then(Value::as_str) {
        Some("content_block_delta") => {
            let Some(delta) = json.get("delta") else {
                return;
            };
            let (key, args) = match delta.get("type").and_then(Value::as_str) {
                Some("input_json_delta") => ("partial_json", true),
                Some("thinking_delta") => ("thinking", false),
                _ => ("text", false),
            };
            if delta.get(key).is_some_and(Value::is_string) {
                let channel = Channel {
                    index,
                    sub: 0,
                    args,
                };
                out.push((channel, Loc::Pointer(format!("/delta/{key}")), Carry::Delta));
            }
        }
        Some("content_block_start") => {
            // A block may open with text already in it.
            for key in ["text", "thinking"] {
                if json
                    .pointer(&format!("/content_block/{key}"))
                    .is_some_and(|t| t.as_str().is_some_and(|t| !t.is_empty()))
                {
                    out.push((
                        Channel::text(index, 0),
                        Loc::Pointer(format!("/content_block/{key}")),
                        Carry::Delta,
                    ));
                }
            }
        }
        _ => {}
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
    aborted: bool,
    /// Why an event was passed unread, if one was.
    unread: Option<String>,
}

impl McpStream {
    pub fn new(exchange: Exchange) -> Self {
        McpStream {
            decoder: SseDecoder::new(),
            exchange,
            decision: None,
            findings: Vec::new(),
            aborted: false,
            unread: None,
        }
    }

    fn render(&mut self, policy: &Policy, event: SseEvent, out: &mut Vec<u8>) {
        let parsed = event
            .data()
            .filter(|d| d.starts_with('{') || d.starts_with('['))
            .map(serde_json::from_str::<Value>);
        // An event the guard cannot read (`unreadable_event`, `invalid_json_event`), in a
        // stream that answers guarded calls: under `block`, a JSON-RPC error for each of them
        // takes its place and the stream ends.
        let guarded = self.exchange.mcp.as_ref().filter(|ids| !ids.is_empty());
        let unreadable = unreadable_event(policy, &event)
            .or_else(|| matches!(parsed, Some(Err(_))).then(|| invalid_json_event(policy)));
        if let (Some(ids), Some((rule, why))) = (guarded, unreadable) {
            match rule {
                UnscannablePolicy::Block => {
                    let message = format!(
                        "The guardrail could not read the upstream response ({why}); it was withheld."
                    );
                    let reply = crate::mcp::withheld_reply(ids, &message);
                    out.extend_from_slice(b"event: message\ndata: ");
                    out.extend_from_slice(&reply);
                    out.extend_from_slice(b"\n\n");
                    self.aborted = true;
                    self.decision = Some(Decision::Block);
                    return;
                }
                UnscannablePolicy::Pass => {
                    self.unread.get_or_insert(why);
                }
            }
        }
        let Some(mut json) = parsed.and_then(Result::ok).filter(crate::mcp::is_jsonrpc) else {
            out.extend_from_slice(event.raw());
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
            Some(body) => out.extend_from_slice(&crate::sse::with_data(event.raw(), &body)),
            None => out.extend_from_slice(event.raw()),
        }
    }
}

impl ResponseStream for McpStream {
    fn push(&mut self, policy: &Policy, bytes: &[u8]) -> Vec<u8> {
        if self.aborted {
            return Vec::new();
        }
        let mut out = Vec::new();
        for event in self.decoder.push(bytes) {
            self.render(policy, event, &mut out);
            if self.aborted {
                break;
            }
        }
        out
    }
    fn finish(&mut self, policy: &Policy) -> Vec<u8> {
        let mut out = Vec::new();
        if self.aborted {
            return out;
        }
        if let Some(event) = self.decoder.finish() {
            self.render(policy, event, &mut out);
        }
        out
    }
    fn decision(&self) -> Decision {
        match (self.decision, &self.unread) {
            (Some(d), _) => d,
            (None, Some(_)) => Decision::Skipped,
            (None, None) => Decision::Allow,
        }
    }
    fn findings(&self) -> &[Finding] {
        &self.findings
    }
    fn is_terminated(&self) -> bool {
        self.aborted
    }
    fn abort(&mut self, _why: &str) -> Vec<u8> {
        // One whole message per event: nothing is half-sent; stop passing events.
        self.aborted = true;
        self.decision = Some(Decision::Block);
        Vec::new()
    }
    fn unread(&self) -> Option<&str> {
        self.unread.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Events built from bytes: the chat chunk's keys and a few others, values of the right
    /// type and of every wrong one, escapes inside and outside the pull reader's subset,
    /// duplicate and escaped keys, whitespace anywhere.
    /// In `clean` mode (half the events) strings and scalars are of the pull reader's subset and
    /// keys are not escaped, so that many events are taken by both readers.
    struct EventGen<'c>(std::slice::Iter<'c, u8>, bool);

    impl EventGen<'_> {
        fn new(bytes: &[u8]) -> EventGen<'_> {
            let clean = bytes.first().is_some_and(|b| b % 2 == 0);
            EventGen(bytes.iter(), clean)
        }

        fn pick<'s>(&mut self, from: &[&'s str]) -> &'s str {
            let k = self.0.next().map_or(0, |b| usize::from(*b));
            from[k % from.len()]
        }

        /// From `from`, only its first `valid` entries in clean mode.
        fn pick_valid<'s>(&mut self, from: &[&'s str], valid: usize) -> &'s str {
            let n = if self.1 { valid } else { from.len() };
            self.pick(&from[..n])
        }

        fn ws(&mut self) -> &'static str {
            self.pick(&["", "", "", " ", "\n  ", "\t"])
        }

        fn string(&mut self) -> String {
            self.pick(&[
                r#""""#,
                r#""hi ""#,
                r#""a\nb""#,
                r#""q\"\\""#,
                r#""caf\u00e9""#,
                r#""\ud83d\ude00 \u00C9""#,
                r#""\ud800""#,
                r#""\udc00 \ud83d\u0041""#,
                "\"naïve ☃\"",
                r#""\/\b\f\r\t""#,
                r#""bad\x""#,
                "\"ctl\u{1}\"",
                r#""open"#,
            ])
            .to_string()
        }

        fn scalar(&mut self) -> String {
            self.pick(&[
                "0",
                "1",
                "2",
                "-1",
                "-0",
                "1.5",
                "1e3",
                "01",
                "null",
                "true",
                "false",
                "nul",
                "18446744073709551615",
                "123456789012345678901",
            ])
            .to_string()
        }

        fn index(&mut self) -> String {
            self.pick_valid(
                &["0", "1", "2", "null", "-1", "1.0", "true", "\"0\"", "01"],
                4,
            )
            .to_string()
        }

        fn any(&mut self, depth: usize) -> String {
            match self.pick(&["s", "n", "o", "a"]) {
                "s" => self.string(),
                "o" if depth < 3 => self.object(&["x", "y"], depth + 1, &mut |g, _, d| g.any(d)),
                "a" if depth < 3 => self.array(depth + 1, &mut |g, d| g.any(d)),
                _ => self.scalar(),
            }
        }

        fn array(
            &mut self,
            depth: usize,
            element: &mut dyn FnMut(&mut Self, usize) -> String,
        ) -> String {
            let n = self.0.next().map_or(0, |b| usize::from(*b % 4));
            let items: Vec<String> = (0..n)
                .map(|_| format!("{}{}{}", self.ws(), element(self, depth), self.ws()))
                .collect();
            format!("[{}]", items.join(","))
        }

        fn object(
            &mut self,
            keys: &[&str],
            depth: usize,
            value: &mut dyn FnMut(&mut Self, &str, usize) -> String,
        ) -> String {
            let n = self.0.next().map_or(0, |b| usize::from(*b % 5));
            let mut members = Vec::new();
            let mut used = Vec::new();
            for _ in 0..n {
                let key = self.pick(keys);
                if self.1 && used.contains(&key) {
                    continue;
                }
                used.push(key);
                let written = match self.pick_valid(&["plain", "plain", "plain", "escaped"], 3) {
                    "escaped" => format!("\"\\u00{:02x}{}\"", key.as_bytes()[0], &key[1..]),
                    _ => format!("\"{key}\""),
                };
                let v = value(self, key, depth);
                members.push(format!(
                    "{}{written}{}:{}{v}{}",
                    self.ws(),
                    self.ws(),
                    self.ws(),
                    self.ws()
                ));
            }
            format!("{{{}}}", members.join(","))
        }

        /// An object of `keys` whose `list` key holds (mostly) an array of `item`s, then a
        /// trailer.
        fn list_event(
            &mut self,
            keys: &[&str],
            list: &str,
            item: fn(&mut Self, usize) -> String,
        ) -> String {
            let body = self.object(keys, 0, &mut |g, key, d| {
                if key == list && g.pick_valid(&["y", "y", "y", "n"], 3) == "y" {
                    g.array(d + 1, &mut |g, d| item(g, d))
                } else {
                    g.any(d + 1)
                }
            });
            format!("{}{body}{}{}", self.ws(), self.ws(), self.trailer())
        }

        fn event(&mut self) -> String {
            self.list_event(
                &["choices", "choices", "id", "usage"],
                "choices",
                Self::choice,
            )
        }

        /// Nothing after the event's object (or, unclean, something that makes it two values).
        fn trailer(&mut self) -> &'static str {
            self.pick_valid(&["", "", "", " x", "}", "{}", ","], 3)
        }

        /// A quoted string from `kinds` (the names a reader compares), or in unclean mode any
        /// value.
        fn kind(&mut self, kinds: &[&str]) -> String {
            if self.pick_valid(&["k", "k", "k", "x"], 3) == "k" {
                format!("\"{}\"", self.pick(kinds))
            } else {
                self.any(2)
            }
        }

        fn text_or_any(&mut self, depth: usize) -> String {
            if self.pick_valid(&["s", "s", "s", "x"], 3) == "s" {
                self.string()
            } else {
                self.any(depth)
            }
        }

        fn anthropic_event(&mut self) -> String {
            let body = self.object(
                &["type", "type", "index", "delta", "delta", "x"],
                0,
                &mut |g, key, d| match key {
                    "type" => g.kind(&[
                        "content_block_delta",
                        "content_block_delta",
                        "message_delta",
                        "ping",
                    ]),
                    "index" => g.index(),
                    "delta" if g.pick_valid(&["y", "y", "y", "n"], 3) == "y" => g.object(
                        &["type", "text", "partial_json", "thinking", "signature"],
                        d + 1,
                        &mut |g, key, d| match key {
                            "type" => g.kind(&["text_delta", "input_json_delta", "thinking_delta"]),
                            _ => g.text_or_any(d + 1),
                        },
                    ),
                    _ => g.any(d + 1),
                },
            );
            format!("{body}{}", self.trailer())
        }

        fn responses_event(&mut self) -> String {
            let keys = [
                "type",
                "output_index",
                "content_index",
                "summary_index",
                "sequence_number",
                "delta",
                "item_id",
            ];
            let body = self.object(&keys, 0, &mut |g, key, d| match key {
                "type" => g.kind(&[
                    "response.output_text.delta",
                    "response.refusal.delta",
                    "response.function_call_arguments.delta",
                    "response.reasoning_summary_text.delta",
                    "response.completed",
                ]),
                "delta" | "item_id" => g.text_or_any(d + 1),
                _ => g.index(),
            });
            format!("{body}{}", self.trailer())
        }

        fn gemini_event(&mut self) -> String {
            let keys = ["candidates", "candidates", "usageMetadata", "modelVersion"];
            self.list_event(&keys, "candidates", Self::candidate)
        }

        fn candidate(&mut self, depth: usize) -> String {
            if self.pick_valid(&["y", "y", "y", "n"], 3) == "n" {
                return self.any(depth);
            }
            self.object(
                &["index", "content", "content", "finishReason"],
                depth,
                &mut |g, key, d| match key {
                    "index" => g.index(),
                    "content" if g.pick_valid(&["y", "y", "n"], 2) == "y" => g.object(
                        &["parts", "parts", "role"],
                        d + 1,
                        &mut |g, key, d| match key {
                            "parts" if g.pick_valid(&["y", "y", "n"], 2) == "y" => {
                                g.array(d + 1, &mut |g, d| {
                                    g.object(
                                        &[
                                            "text",
                                            "text",
                                            "functionCall",
                                            "function_call",
                                            "thought",
                                        ],
                                        d + 1,
                                        &mut |g, key, d| match key {
                                            "text" => g.text_or_any(d + 1),
                                            _ => g.any(d + 1),
                                        },
                                    )
                                })
                            }
                            _ => g.text_or_any(d + 1),
                        },
                    ),
                    _ => g.text_or_any(d + 1),
                },
            )
        }

        fn choice(&mut self, depth: usize) -> String {
            if self.pick_valid(&["y", "y", "y", "n"], 3) == "n" {
                return self.any(depth);
            }
            self.object(
                &["index", "text", "delta", "delta", "finish_reason"],
                depth,
                &mut |g, key, d| match key {
                    "index" => g.index(),
                    "delta" if g.pick_valid(&["y", "y", "n"], 2) == "y" => g.object(
                        &["content", "content", "refusal", "tool_calls", "role"],
                        d + 1,
                        &mut |g, key, d| match key {
                            "tool_calls" if g.pick(&["y", "y", "n"]) == "y" => {
                                g.array(d + 1, &mut |g, d| {
                                    g.object(
                                        &["index", "function", "id"],
                                        d + 1,
                                        &mut |g, key, d| match key {
                                            "index" => g.index(),
                                            "function" => g.object(
                                                &["arguments", "name"],
                                                d + 1,
                                                &mut |g, _, _| {
                                                    if g.pick_valid(&["s", "s", "x"], 2) == "s" {
                                                        g.string()
                                                    } else {
                                                        g.scalar()
                                                    }
                                                },
                                            ),
                                            _ => g.any(d + 1),
                                        },
                                    )
                                })
                            }
                            _ if g.pick_valid(&["s", "s", "s", "x"], 3) == "s" => g.string(),
                            _ => g.any(d + 1),
                        },
                    ),
                    _ if g.pick_valid(&["s", "s", "x"], 2) == "s" => g.string(),
                    _ => g.any(d + 1),
                },
            )
        }
    }

    /// A chunk as comparable text: what each reader read.
    fn described(chunk: Option<FastChunk<'_>>) -> Option<String> {
        let chunk = chunk?;
        let mut out = String::new();
        for c in chunk.choices.into_iter().flatten() {
            let d = c.delta.as_ref();
            out += &format!("choice {:?} text {:?} ", c.index, c.text.as_deref());
            out += &format!(
                "content {:?} refusal {:?} ",
                d.and_then(|d| d.content.as_deref()),
                d.and_then(|d| d.refusal.as_deref())
            );
            for call in c.delta.into_iter().flat_map(|d| d.tool_calls).flatten() {
                out += &format!(
                    "call {:?} {:?} ",
                    call.index,
                    call.function.and_then(|f| f.arguments).as_deref()
                );
            }
            out += "| ";
        }
        Some(out)
    }

    fn described_block(e: Option<FastBlockEvent<'_>>) -> Option<String> {
        let e = e?;
        let d = e.delta.map(|d| {
            format!(
                "{:?} {:?} {:?} {:?}",
                d.kind.as_deref(),
                d.text.as_deref(),
                d.partial_json.as_deref(),
                d.thinking.as_deref()
            )
        });
        Some(format!("{:?} {:?} {d:?}", e.kind.as_deref(), e.index))
    }

    fn described_responses(e: Option<FastResponsesEvent<'_>>) -> Option<String> {
        let e = e?;
        Some(format!(
            "{:?} {:?} {:?} {:?} {:?} {:?}",
            e.kind.as_deref(),
            e.output_index,
            e.content_index,
            e.summary_index,
            e.sequence_number,
            e.delta.as_deref()
        ))
    }

    fn described_gemini(c: Option<FastGeminiChunk<'_>>) -> Option<String> {
        let mut out = String::new();
        for c in c?.candidates.into_iter().flatten() {
            out += &format!("candidate {:?} ", c.index);
            for p in c.content.into_iter().flat_map(|t| t.parts).flatten() {
                out += &format!(
                    "part {:?} {} {} ",
                    p.text.as_deref(),
                    p.function_call.is_some(),
                    p.function_call_snake.is_some()
                );
            }
            out += "| ";
        }
        Some(out)
    }

    /// `None` when the pull reader refuses `event`, else whether serde reads it to the same
    /// values.
    fn pull_agrees<'a, T: serde::Deserialize<'a> + crate::json_pull::PullRead<'a>>(
        event: &'a str,
        described: fn(Option<T>) -> Option<String>,
    ) -> Option<bool> {
        let pulled = described(crate::json_pull::read_all::<T>(event))?;
        Some(described(tree_free::read_str::<T>(event)) == Some(pulled))
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20_000))]
        /// What a pull reader takes, serde takes and reads to the same values (a pull reader may
        /// refuse more: then the tree reader reads the event).
        #[test]
        fn pull_readers_read_what_serde_reads(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let chat = EventGen::new(&bytes).event();
            proptest::prop_assert_ne!(pull_agrees(&chat, described), Some(false), "{}", chat);
            let anthropic = EventGen::new(&bytes).anthropic_event();
            proptest::prop_assert_ne!(pull_agrees(&anthropic, described_block), Some(false), "{}", anthropic);
            let responses = EventGen::new(&bytes).responses_event();
            proptest::prop_assert_ne!(pull_agrees(&responses, described_responses), Some(false), "{}", responses);
            let gemini = EventGen::new(&bytes).gemini_event();
            proptest::prop_assert_ne!(pull_agrees(&gemini, described_gemini), Some(false), "{}", gemini);
        }
    }

    #[test]
    fn pull_readers_take_the_common_events() {
        for event in [
            r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"obfuscation":"x1"}"#,
            r#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hello\nworld \"q\""},"finish_reason":null}]}"#,
            r#"{"id":"c","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]}}]}"#,
            r#"{"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":0}}}"#,
            r#"{"id":"c","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7}}"#,
            r#"{"id":"cmpl-1","object":"text_completion","created":1,"choices":[{"text":" word","index":0,"logprobs":null,"finish_reason":null}],"model":"m"}"#,
        ] {
            assert_eq!(pull_agrees(event, described), Some(true), "{event}");
        }
        for event in [
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello \"x\"\n"}}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\": 1"}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hm"}}"#,
        ] {
            assert_eq!(pull_agrees(event, described_block), Some(true), "{event}");
        }
        for event in [
            r#"{"type":"response.output_text.delta","sequence_number":5,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hi","logprobs":[],"obfuscation":"ab"}"#,
            r#"{"type":"response.function_call_arguments.delta","sequence_number":9,"item_id":"fc_1","output_index":1,"delta":"{\"q\":"}"#,
        ] {
            assert_eq!(
                pull_agrees(event, described_responses),
                Some(true),
                "{event}"
            );
        }
        for event in [
            r#"{"candidates": [{"content": {"parts": [{"text": "Hello \"x\"\n"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 5,"candidatesTokenCount": 2,"totalTokenCount": 7},"modelVersion": "gemini-2.5-flash","responseId": "r1"}"#,
            r#"{"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{"q":[1,2.5,true,null]}}}],"role":"model"},"finishReason":"STOP","index":0}]}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":"t","thought":true},{"text":"a"}],"role":"model"},"index":0}]}"#,
        ] {
            assert_eq!(pull_agrees(event, described_gemini), Some(true), "{event}");
        }
        // A read key twice, at each level: refused (serde's readers refuse it too).
        for event in [
            r#"{"candidates":[],"candidates":[]}"#,
            r#"{"candidates":[{"index":0,"index":1}]}"#,
            r#"{"candidates":[{"content":{"parts":[],"parts":[]}}]}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":"a","text":"b"}]}}]}"#,
            r#"{"candidates":[{"content":{"parts":[{"functionCall":{},"functionCall":{}}]}}]}"#,
        ] {
            assert!(
                crate::json_pull::read_all::<FastGeminiChunk<'_>>(event).is_none(),
                "{event}"
            );
            assert!(
                tree_free::read_str::<FastGeminiChunk<'_>>(event).is_none(),
                "{event}"
            );
        }
    }

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

    /// A chat stream through the guard, cut at `cuts` (taken modulo its length, in order).
    fn run(body: &[u8], cuts: &[usize]) -> Vec<u8> {
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (body.len() + 1)).collect();
        cuts.sort_unstable();
        guarded(Dialect::OpenAiChat, body, &cuts, true).0
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
            match e.data() {
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

    /// `fast_pieces` in `dialect` takes `data` and finds the same pieces, at the same places,
    /// with the same text, as the dialect's tree reader.
    fn assert_fast_agrees(dialect: Dialect, data: &str) {
        assert!(fast_agrees(dialect, data), "not taken: {data}");
    }

    /// Whether `fast_pieces` takes `data`; when it does, its pieces must be the tree reader's
    /// (panics otherwise).
    fn fast_agrees(dialect: Dialect, data: &str) -> bool {
        let json: Value = serde_json::from_str(data).unwrap();
        let mut tree = Vec::new();
        match dialect {
            Dialect::AnthropicMessages => anthropic_pieces(&json, &mut tree),
            Dialect::OpenAiResponses => responses_pieces(&json, &mut tree),
            Dialect::Gemini => tree = StreamGuard::for_dialect(dialect, Vec::new()).pieces(&json),
            _ => chat_pieces(&json, &mut tree),
        }
        // The tree reader lists a piece whatever its type; the event's text is its strings.
        tree.retain(|(_, loc, _)| loc.get(&json).is_some_and(Value::is_string));
        let mut fast = Vec::new();
        let mut sequence = 0;
        if !fast_pieces(dialect, data, &mut sequence, &mut |p, t| fast.push((p, t))) {
            assert!(fast.is_empty() && sequence == 0, "{data}");
            return false;
        }
        assert_eq!(tree.len(), fast.len(), "{data}");
        for ((channel, loc, carry), ((f_channel, f_loc, f_carry), text)) in tree.iter().zip(&fast) {
            assert_eq!((channel, carry), (f_channel, f_carry), "{data}");
            assert_eq!(loc.get(&json), f_loc.get(&json), "{data}");
            assert_eq!(
                loc.get(&json).and_then(Value::as_str),
                Some(&**text),
                "{data}"
            );
        }
        let tree_sequence = json.get("sequence_number").and_then(Value::as_u64);
        let expected = match dialect {
            Dialect::OpenAiResponses => tree_sequence.unwrap_or(0),
            _ => 0,
        };
        assert_eq!(sequence, expected, "{data}");
        true
    }

    /// Event data for the readers' property test: each dialect's delta shape, every field
    /// present with its type, present with another type (string, number, null, bool, object,
    /// array) or absent.
    mod events {
        use crate::json_shapes::{array, field, index, kind, object, text};
        use proptest::prelude::*;
        use serde_json::{json, Value};

        pub fn chat() -> BoxedStrategy<Value> {
            let call = object(vec![
                ("index", field(index())),
                (
                    "function",
                    field(object(vec![("arguments", field(text()))])),
                ),
            ]);
            let delta = object(vec![
                ("content", field(text())),
                ("refusal", field(text())),
                ("tool_calls", field(array(call))),
            ]);
            let choice = object(vec![
                ("index", field(index())),
                ("text", field(text())),
                ("delta", field(delta)),
            ]);
            object(vec![
                ("id", field(text())),
                ("choices", field(array(choice))),
            ])
        }

        pub fn anthropic() -> BoxedStrategy<Value> {
            let delta = object(vec![
                (
                    "type",
                    field(kind(&[
                        "text_delta",
                        "input_json_delta",
                        "thinking_delta",
                        "x",
                    ])),
                ),
                ("text", field(text())),
                ("partial_json", field(text())),
                ("thinking", field(text())),
            ]);
            object(vec![
                (
                    "type",
                    field(kind(&["content_block_delta", "content_block_start"])),
                ),
                ("index", field(index())),
                ("delta", field(delta)),
            ])
        }

        pub fn responses() -> BoxedStrategy<Value> {
            let kinds = &[
                "response.output_text.delta",
                "response.refusal.delta",
                "response.function_call_arguments.delta",
                "response.custom_tool_call_input.delta",
                "response.reasoning_summary_text.delta",
                "response.output_text.done",
            ];
            object(vec![
                ("type", field(kind(kinds))),
                ("output_index", field(index())),
                ("content_index", field(index())),
                ("summary_index", field(index())),
                ("sequence_number", field(index())),
                ("delta", field(text())),
            ])
        }

        pub fn gemini() -> BoxedStrategy<Value> {
            let call = object(vec![
                ("name", field(text())),
                ("args", field(Just(json!({})).boxed())),
            ]);
            let part = object(vec![
                ("text", field(text())),
                (
                    "functionCall",
                    prop_oneof![5 => Just(None), 1 => call.prop_map(Some)].boxed(),
                ),
            ]);
            let content = object(vec![("parts", field(array(part)))]);
            let candidate = object(vec![("index", field(index())), ("content", field(content))]);
            object(vec![("candidates", field(array(candidate)))])
        }
    }

    /// The tree-free readers find the same pieces, at the same places, with the same text as
    /// the tree readers; shapes and events they do not take are left to the tree readers.
    #[test]
    fn fast_readers_agree_with_the_tree_readers() {
        let chat = [
            r#"{"id":"c","choices":[{"index":0,"delta":{"content":"Hi \"there\"\n\u00e9"}}]}"#,
            r#"{"choices":[{"index":1,"delta":{"refusal":"no","content":null}},{"index":0,"delta":{}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":3,"function":{"arguments":"{\"a\":"}},{"index":4,"function":{"name":"f"}}]}}]}"#,
            r#"{"choices":[{"index":0,"text":"legacy","logprobs":null,"finish_reason":null}]}"#,
            r#"{"choices":[{"delta":{"content":"no index"}},{"index":2,"delta":null}]}"#,
            r#"{"usage":{"total_tokens":3},"choices":[]}"#,
            r#"{"object":"chat.completion.chunk"}"#,
        ];
        let anthropic = [
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi \"x\"\n\u00e9"}}"#,
            r#"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"q\": \"a"}}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"thinking_delta","thinking":"hmm"}}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"signature_delta","signature":"abc"}}"#,
            r#"{"type":"content_block_delta","delta":{"text":"no index, no type"}}"#,
            r#"{"type":"content_block_delta","index":0,"delta":null}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":null}}"#,
        ];
        let responses = [
            r#"{"type":"response.output_text.delta","item_id":"m","output_index":1,"content_index":2,"delta":"Hi \"x\"","sequence_number":7}"#,
            r#"{"type":"response.refusal.delta","output_index":0,"content_index":0,"delta":"no"}"#,
            r#"{"type":"response.function_call_arguments.delta","output_index":3,"delta":"{\"a\":","sequence_number":9}"#,
            r#"{"type":"response.custom_tool_call_input.delta","output_index":3,"delta":"x"}"#,
            r#"{"type":"response.reasoning_summary_text.delta","output_index":0,"summary_index":1,"delta":"so"}"#,
            r#"{"type":"response.output_text.delta","output_index":0,"content_index":0}"#,
        ];
        let gemini = [
            r#"{"candidates":[{"content":{"parts":[{"text":"Hi \"x\""},{"text":"more"}],"role":"model"},"index":0}],"usageMetadata":{"totalTokenCount":3},"modelVersion":"g"}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":"a"}]}},{"content":{"parts":[{"text":"b"}]},"index":4}]}"#,
            r#"{"candidates":[{"content":null,"finishReason":"STOP"},{"content":{"parts":null}}]}"#,
            r#"{"candidates":[{"content":{"parts":[{"text":null},{"thought":true,"text":"t"}]}}]}"#,
            r#"{"usageMetadata":{"totalTokenCount":3}}"#,
        ];
        for (dialect, events) in [
            (Dialect::OpenAiChat, &chat[..]),
            (Dialect::AnthropicMessages, &anthropic[..]),
            (Dialect::OpenAiResponses, &responses[..]),
            (Dialect::Gemini, &gemini[..]),
        ] {
            for data in events {
                assert_fast_agrees(dialect, data);
            }
        }
        let mut sequence = 0;
        for (dialect, data) in [
            (
                Dialect::OpenAiChat,
                r#"{"choices":[{"index":0,"delta":{"content":5}}]}"#,
            ),
            (
                Dialect::OpenAiChat,
                r#"{"choices":[{"index":"0","delta":{"content":"x"}}]}"#,
            ),
            (
                Dialect::OpenAiChat,
                r#"{"choices":[{"index":0,"delta":{"content":"a","content":"b"}}]}"#,
            ),
            (Dialect::OpenAiChat, r#"{"choices":{"index":0}}"#),
            (
                Dialect::AnthropicMessages,
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":"x"}}"#,
            ),
            (
                Dialect::AnthropicMessages,
                r#"{"type":"content_block_delta","index":-1,"delta":{"text":"x"}}"#,
            ),
            (
                Dialect::AnthropicMessages,
                r#"{"type":"content_block_delta","index":0,"delta":{"text":5}}"#,
            ),
            (
                Dialect::AnthropicMessages,
                r#"{"type":"content_block_delta","index":0,"delta":{"text":"a","text":"b"}}"#,
            ),
            (Dialect::AnthropicMessages, r#"{"type":"message_stop"}"#),
            (
                Dialect::OpenAiResponses,
                r#"{"type":"response.output_text.done","output_index":0,"content_index":0,"text":"x","sequence_number":3}"#,
            ),
            (
                Dialect::OpenAiResponses,
                r#"{"type":"response.completed","response":{"output":[]},"sequence_number":4}"#,
            ),
            (
                Dialect::OpenAiResponses,
                r#"{"type":"response.output_text.delta","output_index":"0","delta":"x"}"#,
            ),
            (
                Dialect::OpenAiResponses,
                r#"{"type":"response.output_text.delta","delta":{"x":1}}"#,
            ),
            (
                Dialect::Gemini,
                r#"{"candidates":[{"content":{"parts":[{"text":"x"},{"functionCall":{"name":"f","args":{}}}]}}]}"#,
            ),
            (
                Dialect::Gemini,
                r#"{"candidates":[{"content":{"parts":[{"function_call":{"name":"f","args":{}}}]}}]}"#,
            ),
            (
                Dialect::Gemini,
                r#"{"candidates":[{"content":{"parts":[{"text":5}]}}]}"#,
            ),
            (
                Dialect::Gemini,
                r#"{"candidates":[{"index":"0","content":{"parts":[{"text":"x"}]}}]}"#,
            ),
            (Dialect::Gemini, r#"{"candidates":{"content":{}}}"#),
            (
                Dialect::Completions,
                r#"{"choices":[{"index":0,"text":5}]}"#,
            ),
            (
                Dialect::Embeddings,
                r#"{"choices":[{"index":0,"text":"x"}]}"#,
            ),
        ] {
            assert!(
                !fast_pieces(dialect, data, &mut sequence, &mut |_, _| {}),
                "{data}"
            );
        }
        // A refused event leaves the sequence to the tree reader.
        assert_eq!(sequence, 0);
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
            let Some(data) = e.data().filter(|d| d.starts_with('{')) else {
                continue;
            };
            let v: Value = serde_json::from_str(data).unwrap();
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
            dialect: Dialect::Mcp,
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
        /// Whatever types an event's fields have, a tree-free reader either leaves the event
        /// to the tree reader or finds exactly the tree reader's pieces.
        #[test]
        fn fast_readers_take_only_what_the_tree_reads_alike(
            chat in events::chat(),
            anthropic in events::anthropic(),
            responses in events::responses(),
            gemini in events::gemini(),
        ) {
            fast_agrees(Dialect::OpenAiChat, &chat.to_string());
            fast_agrees(Dialect::Completions, &chat.to_string());
            fast_agrees(Dialect::AnthropicMessages, &anthropic.to_string());
            fast_agrees(Dialect::OpenAiResponses, &responses.to_string());
            fast_agrees(Dialect::Gemini, &gemini.to_string());
        }
    }

    /// A stream's output, decision and findings through a guard in `dialect`, its events
    /// matched to templates or (`templates` false) each read in full.
    fn guarded(
        dialect: Dialect,
        body: &[u8],
        cuts: &[usize],
        templates: bool,
    ) -> (Vec<u8>, Decision, Vec<Finding>) {
        let mut g = StreamGuard::for_dialect(dialect, Vec::new());
        if !templates {
            g.template_misses = TEMPLATE_TRIES;
        }
        let mut out = Vec::new();
        let mut at = 0;
        for &c in cuts {
            let c = c.min(body.len()).max(at);
            out.extend(g.push(policy(), &body[at..c]));
            at = c;
        }
        out.extend(g.push(policy(), &body[at..]));
        out.extend(g.finish(policy()));
        let findings = g.findings().to_vec();
        (out, g.decision(), findings)
    }

    /// The streams each API sends: after its first delta event, every delta event of the
    /// stream matches its template (ids, padding and counters change), and the client gets the
    /// same bytes as with every event read in full, a masked e-mail address included.
    #[test]
    fn every_delta_event_of_a_real_stream_matches_its_template() {
        let words = [
            "Write ",
            "to jane",
            ".doe@exa",
            "mple.com",
            " or \"me\"",
            " \u{e9}t\u{e9}\n",
        ];
        type EventOf<'f> = &'f dyn Fn(usize, &str) -> String;
        let streams: [(Dialect, EventOf<'_>); 4] = [
            (Dialect::OpenAiChat, &|i, w| {
                let padding = "x".repeat(i % 7);
                json!({"id": "chatcmpl-9", "object": "chat.completion.chunk", "created": 1733,
                    "model": "gpt-x", "system_fingerprint": "fp_1", "choices": [{"index": 0,
                    "delta": {"content": w}, "logprobs": null, "finish_reason": null}],
                    "obfuscation": padding})
                .to_string()
            }),
            (Dialect::AnthropicMessages, &|_, w| {
                json!({"type": "content_block_delta", "index": 0,
                    "delta": {"type": "text_delta", "text": w}})
                .to_string()
            }),
            (Dialect::OpenAiResponses, &|i, w| {
                json!({"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0,
                    "content_index": 0, "delta": w, "sequence_number": i + 4,
                    "obfuscation": "y".repeat(i % 3)})
                .to_string()
            }),
            (Dialect::Gemini, &|i, w| {
                json!({"candidates": [{"content": {"parts": [{"text": w}], "role": "model"},
                    "index": 0}], "usageMetadata": {"promptTokenCount": 3,
                    "candidatesTokenCount": i + 1}, "modelVersion": "g", "responseId": "r"})
                .to_string()
            }),
        ];
        for (dialect, event) in streams {
            let mut body = Vec::new();
            if dialect == Dialect::OpenAiChat {
                body.extend_from_slice(b"data: {\"id\":\"chatcmpl-9\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n");
            }
            for (i, w) in words.iter().cycle().take(60).enumerate() {
                body.extend_from_slice(format!("data: {}\n\n", event(i, w)).as_bytes());
            }
            let mut g = StreamGuard::for_dialect(dialect, Vec::new());
            let mut out = g.push(policy(), &body);
            assert!(
                g.template.is_some() && g.template_misses == 0,
                "{dialect:?}"
            );
            out.extend(g.finish(policy()));
            let text = String::from_utf8_lossy(&out);
            assert!(
                text.contains("[EMAIL]") && !text.contains("jane"),
                "{dialect:?}: {text}"
            );
            assert_eq!(guarded(dialect, &body, &[], false).0, out, "{dialect:?}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// A stream of one event shape repeated with other text, other padding, a counter and
        /// now and then another value the readers read, whitespace or key: matched to templates,
        /// it gives the client the same bytes, and the guard the same decision and findings, as
        /// when each event is read in full.
        #[test]
        fn templates_change_nothing(
            chat in events::chat(),
            anthropic in events::anthropic(),
            responses in events::responses(),
            gemini in events::gemini(),
            which in 0usize..VALUES.len(),
            seed in proptest::prelude::any::<u64>(),
            edits in proptest::collection::vec(0u8..12, 1..40),
            cuts in proptest::collection::vec(0usize..6000, 0..6),
        ) {
            let text = format!("some text \"q\" \u{e9} {} and more\n", VALUES[which].0);
            let p = pieces(&text, seed);
            for (dialect, base, at) in [
                (Dialect::OpenAiChat, &chat, "/choices/0/delta/content"),
                (Dialect::AnthropicMessages, &anthropic, "/delta/text"),
                (Dialect::OpenAiResponses, &responses, "/delta"),
                (Dialect::Gemini, &gemini, "/candidates/0/content/parts/0/text"),
            ] {
                let mut body = Vec::new();
                if dialect == Dialect::OpenAiChat {
                    // The role chunk the chat guard reads its header from.
                    body.extend_from_slice(b"data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\n\n");
                }
                for (i, piece) in p.iter().enumerate() {
                    let mut v = base.clone();
                    if let Some(slot) = v.pointer_mut(at) {
                        *slot = Value::String(piece.clone());
                    }
                    if let Some(o) = v.as_object_mut() {
                        o.insert("obfuscation".into(), Value::String("x".repeat(i % 5)));
                        o.insert("sequence_number".into(), json!(i + 1));
                    }
                    let mut data = v.to_string();
                    match edits[i % edits.len()] {
                        0 => data = serde_json::to_string_pretty(&v).unwrap().replace('\n', " "),
                        1 => data = data.replacen("\"index\":0", "\"index\":1", 1),
                        2 => data = data.replacen('{', "{\"extra\":[1,{\"a\":null}],", 1),
                        3 => data = data.replacen("\"obfuscation\":", "\"obfuscation\": ", 1),
                        4 => data = data.replacen(":\"", ":\"\\u0041", 1),
                        5 => data = data.replacen("\"type\"", "\"type\":1,\"type\"", 1),
                        _ => {}
                    }
                    body.extend_from_slice(format!("data: {data}\n\n").as_bytes());
                }
                let with = guarded(dialect, &body, &cuts, true);
                let without = guarded(dialect, &body, &cuts, false);
                proptest::prop_assert_eq!(with, without, "{}", String::from_utf8_lossy(&body));
            }
        }
    }

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
