//! One HTTP exchange through the guard, sans-IO: the single state machine both hosts drive.
//!
//! The proxy-wasm filter and parapet-ext-proc call one method per phase — request headers,
//! request body, escalation answer, response headers, response body — and carry out the
//! [`Step`] it returns in their own vocabulary (proxy-wasm actions and host calls; ext_proc
//! `ProcessingResponse`s). Every decision, reply, rewrite and record is made here, once.
//!
//! ```text
//! request:  Start ──headers, no body──────────────────────────────▶ Passed
//!             │ headers (edits: accept-encoding, content-length)
//!             ▼
//!           Buffering ──chunk, not end: Step::Buffer──▶ Buffering
//!             │ end / trailers / over the size limit
//!             ├──verdict has pending texts──▶ Escalating ──all answers──▶ Decided
//!             ▼
//!           Decided: Continue | Replace(body) | Reply
//!           (input_mode parallel: Shadowing — every chunk Continue, the copy checked at the
//!            end, or at the response headers if the upstream answered first)
//! response: headers → ResponsePlan: Pass | NotRead (skipped) | Buffering(coding) | Streaming
//!           | Refusing | Skipped
//!           Buffering ──chunk: Step::Buffer──▶ … end: Continue | Replace(body)
//!             │ past limits.max_body_bytes: on_oversize pass → Continue (skipped);
//!             │ block → Replace(error) ──▶ Discarding: every later chunk Replace(empty)
//!           Streaming ──each chunk: Replace(what the stream guard releases)──▶ …
//! ```
//!
//! Every `Buffer` is followed by more body (the host's buffering) and ends in a decision; every
//! `Escalate` is followed by [`GuardedExchange::escalation_answer`] for each call (the host
//! turns a transport failure or deadline into an `Err` answer), and the last answer decides.
//! A host failure to read a body is a refusal (`Reply` with the guardrail error), never a pass.
//! Each decision leaves a [`Record`] for the host's counters and logs
//! ([`GuardedExchange::take_records`]).

use crate::coding::{Coding, DecodeError};
use crate::config::{InputMode, UnscannablePolicy};
use crate::dialect::Dialect;
use crate::engine::{Decision, Exchange, Finding, ResponsePlan, Verdict};
use crate::escalation::{self, proto, Outcome, OutcomeCounts};
use crate::policies::{PolicySet, RequestFacts, SelectedBy};
use crate::policy::Policy;
use crate::reply::{self, Reply};
use crate::stream::{self, ResponseStream};

/// What the host does after a phase.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Let the headers or this body chunk go on.
    Continue,
    /// Hold the body: more of it follows (Envoy buffers; the next body call sees all of it).
    Buffer,
    /// Replace the body with these bytes and go on: the whole buffered request or response
    /// body, or (streams) this chunk.
    Replace(Vec<u8>),
    /// Answer locally; nothing more is forwarded. The host sends the reply and stops.
    Reply(LocalReply),
    /// Call the heavy tier and stay paused: first write `write` as the request body (a mask
    /// decided already), then send each Classify call; answer each with
    /// [`GuardedExchange::escalation_answer`] (by its index here).
    Escalate {
        write: Option<Vec<u8>>,
        calls: Vec<proto::ClassifyRequest>,
    },
}

/// A local reply: status, headers (content type, the decision header) and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalReply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The decision it answers (ext_proc names it in the reply's details).
    pub decision: Decision,
}

/// Header changes for the host to make before it lets the headers go on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderEdits {
    pub remove: Vec<&'static str>,
    pub set: Vec<(String, String)>,
}

/// Which way a decision went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Request,
    Response,
}

/// One decision, for the host's counters and log lines.
#[derive(Debug, Clone)]
pub struct Record {
    pub direction: Direction,
    pub decision: Decision,
    pub findings: Vec<Finding>,
    pub reason: Option<String>,
    /// How the heavy tier's escalations ended, when there were any.
    pub escalation: Option<OutcomeCounts>,
    /// The guards ran (a scan to time), as opposed to a decision made without reading.
    pub scanned: bool,
    /// The policy that decided, and which selection step chose it.
    pub policy: std::sync::Arc<str>,
    pub selected_by: SelectedBy,
    /// A policy the request asked for by header and may not have (ignored).
    pub policy_refused: Option<String>,
    /// The similarity guard's best known attacks: (database id, cosine).
    pub matches: Vec<(u32, f32)>,
    /// A masked excerpt around the first finding (never a matched secret or PII value).
    pub excerpt: Option<String>,
}

impl Record {
    /// The log line for a decision other than `allow` (guard and kind of each finding, never
    /// the matched text; models with tier and score), with the engine time when the host has
    /// it: `decision=block findings=[secrets:aws_access_key] scan_us=12 reason="…"`.
    pub fn log_line(&self, scan_us: Option<u64>) -> Option<String> {
        if self.decision == Decision::Allow {
            return None;
        }
        let mut kinds: Vec<String> = self.findings.iter().map(Finding::summary).collect();
        kinds.dedup();
        Some(
            format!(
                "{}={} findings=[{}]{}{}",
                match self.direction {
                    Direction::Request => "decision",
                    Direction::Response => "output_decision",
                },
                self.decision.as_str(),
                kinds.join(","),
                scan_us
                    .map(|us| format!(" scan_us={us}"))
                    .unwrap_or_default(),
                self.reason
                    .as_deref()
                    .map(|r| format!(" reason=\"{r}\""))
                    .unwrap_or_default(),
            ) + &format!(" policy={}", self.policy)
                + &self
                    .policy_refused
                    .as_deref()
                    .map(|r| format!(" policy_refused=\"{r}\""))
                    .unwrap_or_default(),
        )
    }
}

/// How the host sends the response body, decided at the response headers (ext_proc's
/// `mode_override`; the filter needs nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyMode {
    /// Not read.
    Pass,
    /// Whole, at once.
    Buffered,
    /// Chunk by chunk.
    Streamed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RequestPhase {
    Start,
    /// No body, and its answer is no stored LLM answer: the response is not read either.
    Passed,
    /// No body; the path names a stored answer fetched again ([`Dialect::of_retrieval`]),
    /// read in that API's shape.
    Retrieving,
    Buffering,
    Shadowing,
    Escalating,
    Decided(Decision),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResponsePhase {
    Unguarded,
    Buffering(Coding),
    Refusing,
    /// A buffered answer was replaced by an error before its end: the rest is dropped.
    Discarding,
    Streaming,
    Decided(Decision),
}

/// A verdict waiting for the heavy tier.
struct Waiting {
    verdict: Verdict,
    /// The (decoded) request body: an MCP block needs it for the JSON-RPC error.
    body: Vec<u8>,
    /// Per call: first task and number of tasks; `None` once answered.
    calls: Vec<Option<(usize, usize)>>,
    outcomes: Vec<Outcome>,
}

/// One HTTP exchange's guard state. Kept by the host for the life of one request.
pub struct GuardedExchange {
    phase: RequestPhase,
    response: ResponsePhase,
    exchange: Exchange,
    /// `:path`: names the request's API dialect.
    path: String,
    /// `x-request-id`, for the heavy tier's logs.
    request_id: String,
    request_coding: Result<Coding, DecodeError>,
    /// Parallel mode: the copy of what was forwarded.
    shadow: Vec<u8>,
    waiting: Option<Waiting>,
    stream: Option<Box<dyn ResponseStream>>,
    stream_recorded: bool,
    records: Vec<Record>,
    /// The policy in force and how it was chosen ([`GuardedExchange::select`]).
    policy: Option<std::sync::Arc<str>>,
    selected_by: SelectedBy,
    policy_refused: Option<String>,
    /// Best similarity matches from the heavy tier's answers, for the next record.
    matches: Vec<(u32, f32)>,
}

impl Default for GuardedExchange {
    fn default() -> Self {
        Self::new()
    }
}

impl GuardedExchange {
    pub fn new() -> Self {
        GuardedExchange {
            phase: RequestPhase::Start,
            response: ResponsePhase::Unguarded,
            exchange: Exchange::default(),
            path: String::new(),
            request_id: String::new(),
            request_coding: Ok(Coding::Identity),
            shadow: Vec::new(),
            waiting: None,
            stream: None,
            stream_recorded: false,
            records: Vec::new(),
            policy: None,
            selected_by: SelectedBy::Default,
            policy_refused: None,
            matches: Vec::new(),
        }
    }

    /// Choose this exchange's policy from what the host reads of the request (first, before
    /// [`GuardedExchange::request_headers`]); the host passes the returned policy to every
    /// later phase. `Err` is the refusal to carry out when the request's route names a policy
    /// the config lacks.
    pub fn select(
        &mut self,
        set: &PolicySet,
        facts: &dyn RequestFacts,
    ) -> Result<std::sync::Arc<Policy>, Step> {
        match set.select(facts) {
            Ok(chosen) => {
                self.policy = Some(chosen.policy.name.clone());
                self.selected_by = chosen.by;
                self.policy_refused = chosen.refused;
                Ok(chosen.policy)
            }
            Err(e) => {
                let policy = set.default_policy_ref().clone();
                self.policy = Some(policy.name.clone());
                Err(self.fail_closed(&policy, &e.reason))
            }
        }
    }

    /// The request's decision, once made.
    pub fn decision(&self) -> Option<Decision> {
        match self.phase {
            RequestPhase::Decided(d) => Some(d),
            _ => None,
        }
    }

    /// The decisions made since the last call, for counters and logs.
    pub fn take_records(&mut self) -> Vec<Record> {
        std::mem::take(&mut self.records)
    }

    /// How the response body is to be sent (after [`GuardedExchange::response_headers`]).
    pub fn body_mode(&self) -> BodyMode {
        match self.response {
            ResponsePhase::Buffering(_) | ResponsePhase::Refusing => BodyMode::Buffered,
            ResponsePhase::Streaming => BodyMode::Streamed,
            _ => BodyMode::Pass,
        }
    }

    /// Request headers. `header` reads one (lowercase name; pseudo-headers such as `:path`).
    pub fn request_headers(
        &mut self,
        policy: &Policy,
        header: &dyn Fn(&str) -> Option<String>,
        end_of_stream: bool,
    ) -> (HeaderEdits, Step) {
        if self.policy.is_none() {
            self.policy = Some(policy.name.clone());
        }
        let mut edits = HeaderEdits::default();
        if let Some(protocol) = upgrade_protocol(header) {
            // An upgraded connection (a WebSocket: OpenAI's Realtime API, Gemini Live) carries
            // frames with no end: buffered, the client's frames would be held for good. The
            // guard does not read frames, so the upgrade follows `on_unrecognized`: refused in
            // the API's shape before it happens, or let through as `skipped`.
            self.path = header(":path").unwrap_or_default();
            let verdict = policy.upgrade_verdict_at(Some(&self.path), &protocol);
            return (edits, self.act(policy, verdict, None));
        }
        if policy.reads_responses() {
            // The upstream then answers in identity coding (coded answers are read anyway).
            edits.remove.push("accept-encoding");
        }
        if end_of_stream {
            self.phase = RequestPhase::Passed;
            // A stored answer fetched again is read in its own API's shape. Any other answer
            // to a bodiless request (a model list, a file, an MCP server's own stream) is no
            // LLM answer the guards know: not read, and so not reported as read.
            if policy.reads_responses() {
                if let Some(d) = Dialect::of_retrieval(&header(":path").unwrap_or_default()) {
                    self.exchange.dialect = d;
                    self.phase = RequestPhase::Retrieving;
                }
            }
            return (edits, Step::Continue);
        }
        self.path = header(":path").unwrap_or_default();
        if policy.escalates() {
            self.request_id = header("x-request-id").unwrap_or_default();
        }
        self.request_coding = Coding::parse(&header("content-encoding").unwrap_or_default());
        let declared = header("content-length").and_then(|v| v.trim().parse::<usize>().ok());
        if let Some(len) = declared {
            if len > policy.limits.max_body_bytes {
                return (edits, self.oversize(policy, len));
            }
        }
        if policy.input_mode == InputMode::Parallel {
            self.phase = RequestPhase::Shadowing;
            return (edits, Step::Continue);
        }
        if policy.may_rewrite_request() {
            edits.remove.push("content-length");
        }
        self.phase = RequestPhase::Buffering;
        (edits, Step::Continue)
    }

    /// A request body callback: `size` bytes so far (buffered) or in this chunk (parallel
    /// mode); `read` gets those bytes when the machine needs them.
    pub fn request_body(
        &mut self,
        policy: &Policy,
        size: usize,
        end_of_stream: bool,
        read: &mut dyn FnMut() -> Result<Vec<u8>, String>,
    ) -> Step {
        match self.phase {
            RequestPhase::Shadowing => {
                match read() {
                    Ok(chunk) => self.shadow.extend_from_slice(&chunk),
                    Err(e) => {
                        return self.fail_closed(policy, &format!("cannot read request body: {e}"))
                    }
                }
                if self.shadow.len() > policy.limits.max_body_bytes {
                    let len = self.shadow.len();
                    self.shadow = Vec::new();
                    return self.oversize(policy, len);
                }
                if end_of_stream {
                    self.decide_forwarded(policy, true)
                } else {
                    Step::Continue
                }
            }
            RequestPhase::Buffering => {
                if size > policy.limits.max_body_bytes {
                    return self.oversize(policy, size);
                }
                if !end_of_stream {
                    return Step::Buffer;
                }
                self.decide(policy, read)
            }
            // Escalating: Envoy delivers no more body while paused; anything else is decided.
            _ => Step::Continue,
        }
    }

    /// Request trailers: the body (if any) is complete.
    pub fn request_trailers(
        &mut self,
        policy: &Policy,
        read: &mut dyn FnMut() -> Result<Vec<u8>, String>,
    ) -> Step {
        match self.phase {
            RequestPhase::Buffering => self.decide(policy, read),
            RequestPhase::Shadowing => self.decide_forwarded(policy, true),
            _ => Step::Continue,
        }
    }

    /// The answer to Classify call `call` of the last [`Step::Escalate`] (`Err`: transport
    /// failure, deadline, gRPC error, undecodable answer). `None` while other calls are
    /// outstanding; then the decision.
    pub fn escalation_answer(
        &mut self,
        policy: &Policy,
        call: usize,
        answer: Result<proto::ClassifyResponse, String>,
    ) -> Option<Step> {
        let w = self.waiting.as_mut()?;
        let (first, n) = w.calls.get_mut(call)?.take()?;
        let outcomes = match answer {
            Ok(resp) => {
                for (r, task) in resp.results.iter().zip(first..first + n) {
                    let similarity = w
                        .verdict
                        .pending
                        .get(task)
                        .is_some_and(|e| e.model == crate::escalation::HeavyModel::Similarity);
                    if similarity {
                        self.matches
                            .extend(r.matches.iter().map(|m| (m.id, m.score)));
                    }
                }
                Outcome::from_response(&resp, n)
            }
            Err(_) => vec![Outcome::Failed; n],
        };
        for (slot, o) in w.outcomes.iter_mut().skip(first).take(n).zip(outcomes) {
            *slot = o;
        }
        if w.calls.iter().any(Option::is_some) {
            return None;
        }
        let w = self.waiting.take()?;
        let counts = OutcomeCounts::of(&w.verdict.pending, &w.outcomes);
        let verdict = policy.resolve(w.verdict, &w.body, &w.outcomes);
        // A mask was written before the calls; only a block can change the outcome now.
        let step = match verdict.decision {
            Decision::Block => self.act(policy, verdict, Some(counts)),
            d => {
                self.record(Direction::Request, &verdict, true, Some(counts));
                self.phase = RequestPhase::Decided(d);
                self.exchange = verdict.exchange;
                Step::Continue
            }
        };
        Some(step)
    }

    /// Response headers. In parallel mode an upstream that answered before the request ended
    /// has its forwarded bytes checked first (a block answers instead).
    pub fn response_headers(
        &mut self,
        policy: &Policy,
        header: &dyn Fn(&str) -> Option<String>,
        end_of_stream: bool,
    ) -> (HeaderEdits, Step) {
        let mut edits = HeaderEdits::default();
        if self.phase == RequestPhase::Shadowing {
            let step = self.decide_forwarded(policy, false);
            if matches!(step, Step::Reply(_)) {
                return (edits, step);
            }
        }
        if let (RequestPhase::Decided(d), Some(h)) = (self.phase, &policy.decision_header) {
            edits.set.push((h.clone(), d.as_str().to_string()));
        }
        // A locally answered request has no upstream response to guard; the answer to a
        // bodiless request that fetches no stored answer is not read.
        if matches!(
            self.phase,
            RequestPhase::Decided(Decision::Block) | RequestPhase::Passed
        ) {
            return (edits, Step::Continue);
        }
        let plan = policy.response_plan(
            &self.exchange,
            &header("content-type").unwrap_or_default(),
            &header("content-encoding").unwrap_or_default(),
            end_of_stream,
        );
        match plan {
            ResponsePlan::Pass => {}
            // An error page, or an API answering in a type the guards do not parse (NDJSON):
            // untouched, but not reported as read.
            ResponsePlan::NotRead { content_type } if self.reads_answer() => {
                let reason = if content_type.is_empty() {
                    "response without a content-type: not read".to_string()
                } else {
                    format!("response in content-type `{content_type}`: not read")
                };
                let verdict = Verdict {
                    reason: Some(reason),
                    ..Verdict::new(Decision::Skipped)
                };
                self.record(Direction::Response, &verdict, false, None);
                self.response = ResponsePhase::Decided(Decision::Skipped);
            }
            ResponsePlan::NotRead { .. } => {}
            ResponsePlan::Skip { reason } => {
                let verdict = Verdict {
                    reason: Some(reason),
                    ..Verdict::new(Decision::Skipped)
                };
                self.record(Direction::Response, &verdict, false, None);
                self.response = ResponsePhase::Decided(Decision::Skipped);
            }
            ResponsePlan::Refuse { .. } => {
                edits.remove.extend(["content-length", "content-encoding"]);
                self.response = ResponsePhase::Refusing;
            }
            ResponsePlan::Buffer { coding } => {
                edits.remove.push("content-length");
                self.response = ResponsePhase::Buffering(coding);
            }
            ResponsePlan::Stream { coding } => {
                edits.remove.push("content-length");
                if coding != Coding::Identity {
                    // The client gets the decoded stream.
                    edits.remove.push("content-encoding");
                }
                self.stream = Some(stream::for_response(
                    &self.exchange,
                    coding,
                    policy.max_decoded_bytes(),
                ));
                self.response = ResponsePhase::Streaming;
            }
        }
        (edits, Step::Continue)
    }

    /// A response body callback: `size` bytes so far (buffered) or in this chunk (streams).
    pub fn response_body(
        &mut self,
        policy: &Policy,
        size: usize,
        end_of_stream: bool,
        read: &mut dyn FnMut() -> Result<Vec<u8>, String>,
    ) -> Step {
        match self.response {
            ResponsePhase::Streaming => self.stream_chunk(policy, end_of_stream, read),
            ResponsePhase::Buffering(coding) => {
                if size > policy.limits.max_body_bytes {
                    return self.oversize_response(policy, size, end_of_stream);
                }
                if !end_of_stream {
                    return Step::Buffer;
                }
                let body = match read() {
                    Ok(b) => b,
                    Err(e) => {
                        let verdict = Verdict {
                            reason: Some(format!("cannot read response body: {e}")),
                            ..Verdict::new(Decision::Skipped)
                        };
                        self.record(Direction::Response, &verdict, false, None);
                        self.response = ResponsePhase::Decided(Decision::Skipped);
                        return Step::Continue;
                    }
                };
                let verdict = policy.evaluate_response_coded(&body, coding, &self.exchange);
                self.record(Direction::Response, &verdict, true, None);
                self.response = ResponsePhase::Decided(verdict.decision);
                match verdict.body {
                    Some(b) => Step::Replace(b),
                    None => Step::Continue,
                }
            }
            ResponsePhase::Refusing => {
                if !end_of_stream && size <= policy.limits.max_body_bytes {
                    return Step::Buffer;
                }
                let verdict = Verdict {
                    reason: Some("response in a content-encoding the guard cannot read".into()),
                    ..Verdict::new(Decision::Block)
                };
                self.record(Direction::Response, &verdict, false, None);
                self.withhold(
                    end_of_stream,
                    policy.unreadable_response(&self.exchange, "unreadable content-encoding"),
                )
            }
            // Bytes after the error that replaced the answer: dropped, never forwarded.
            ResponsePhase::Discarding => Step::Replace(Vec::new()),
            _ => Step::Continue,
        }
    }

    /// Would the guards read this exchange's answer? Only one to a request they read (not
    /// skipped, not bodiless, or a stored answer fetched again) in an API whose answers carry
    /// text: not embeddings, nor an MCP exchange without a guarded call.
    fn reads_answer(&self) -> bool {
        let request_read = match self.phase {
            RequestPhase::Decided(d) => d != Decision::Skipped,
            RequestPhase::Retrieving => true,
            _ => false,
        };
        request_read
            && match self.exchange.dialect {
                Dialect::Embeddings => false,
                Dialect::Mcp => self
                    .exchange
                    .mcp
                    .as_ref()
                    .is_some_and(|ids| !ids.is_empty()),
                _ => true,
            }
    }

    /// Is this exchange's answer surely an LLM answer or a guarded tool result, so that one too
    /// large to read is withheld under `on_oversize: block`? [`Self::reads_answer`], and the
    /// request's path names its API, or a stored answer, or it is a guarded MCP call. A dialect
    /// guessed from the
    /// body's shape at a path of another API is not: `{"prompt": …}` to
    /// `/v1/images/generations` reads as completions, and its answer is megabytes of images.
    fn withholds_oversize(&self) -> bool {
        self.reads_answer()
            && (self.exchange.dialect == Dialect::Mcp
                || self.phase == RequestPhase::Retrieving
                || Dialect::from_path(&self.path) == Some(self.exchange.dialect))
    }

    /// A buffered answer past `limits.max_body_bytes`: under `on_oversize: pass`, or when it is
    /// not surely an answer the guards read ([`Self::withholds_oversize`]: an embeddings vector,
    /// the answer to a skipped request, an image), it goes on unread (`skipped`); under `block`
    /// (the default) it is withheld, as a request would be, and an error in the API's shape
    /// takes its place.
    fn oversize_response(&mut self, policy: &Policy, size: usize, end_of_stream: bool) -> Step {
        let reason = format!(
            "response of {size}+ bytes exceeds limits.max_body_bytes ({})",
            policy.limits.max_body_bytes
        );
        let on_oversize = if self.withholds_oversize() {
            policy.limits.on_oversize
        } else {
            UnscannablePolicy::Pass
        };
        match on_oversize {
            UnscannablePolicy::Pass => {
                let verdict = Verdict {
                    reason: Some(reason),
                    ..Verdict::new(Decision::Skipped)
                };
                self.record(Direction::Response, &verdict, false, None);
                self.response = ResponsePhase::Decided(Decision::Skipped);
                Step::Continue
            }
            UnscannablePolicy::Block => {
                let body = policy.unreadable_response(&self.exchange, &reason);
                let verdict = Verdict {
                    reason: Some(reason),
                    ..Verdict::new(Decision::Block)
                };
                self.record(Direction::Response, &verdict, false, None);
                self.withhold(end_of_stream, body)
            }
        }
    }

    /// Replace the answer held so far by `error`; the rest of the body, if any is to come, is
    /// dropped.
    fn withhold(&mut self, end_of_stream: bool, error: Vec<u8>) -> Step {
        self.response = if end_of_stream {
            ResponsePhase::Decided(Decision::Block)
        } else {
            ResponsePhase::Discarding
        };
        Step::Replace(error)
    }

    fn stream_chunk(
        &mut self,
        policy: &Policy,
        end_of_stream: bool,
        read: &mut dyn FnMut() -> Result<Vec<u8>, String>,
    ) -> Step {
        let Some(guard) = self.stream.as_mut() else {
            return Step::Continue;
        };
        let chunk = match read() {
            Ok(c) => c,
            // Nothing can be checked: end the stream rather than pass unchecked bytes.
            Err(e) => return Step::Replace(guard.abort(&format!("cannot read stream: {e}"))),
        };
        let mut out = guard.push(policy, &chunk);
        if end_of_stream {
            out.extend(guard.finish(policy));
        }
        // Record once: when the stream ends, or when it is cut off (the guard discards the
        // rest, and keeps being fed).
        if (end_of_stream || guard.is_terminated()) && !self.stream_recorded {
            let verdict = Verdict {
                findings: guard.findings().to_vec(),
                reason: guard.unread().map(str::to_string),
                ..Verdict::new(guard.decision())
            };
            self.stream_recorded = true;
            self.record(Direction::Response, &verdict, true, None);
        }
        if out == chunk {
            Step::Continue
        } else {
            Step::Replace(out)
        }
    }

    /// The request body is complete: evaluate and act.
    fn decide(
        &mut self,
        policy: &Policy,
        read: &mut dyn FnMut() -> Result<Vec<u8>, String>,
    ) -> Step {
        let raw = match read() {
            Ok(b) => b,
            Err(e) => return self.fail_closed(policy, &format!("cannot read request body: {e}")),
        };
        let path = Some(self.path.as_str());
        let verdict = match &self.request_coding {
            Ok(coding) => policy.evaluate_request_coded(path, &raw, *coding),
            Err(e) => policy.undecodable_verdict(path, e),
        };
        if verdict.pending.is_empty() {
            return self.act(policy, verdict, None);
        }
        self.escalate(policy, verdict, raw)
    }

    fn escalate(&mut self, policy: &Policy, mut verdict: Verdict, raw: Vec<u8>) -> Step {
        let write = if verdict.decision == Decision::Mask {
            match verdict.body.take() {
                Some(b) => Some(b),
                None => return self.fail_closed(policy, "mask verdict without a body"),
            }
        } else {
            None
        };
        // Resolving an MCP block needs the request's ids: keep the decoded body.
        let body = match &self.request_coding {
            Ok(c) if *c != Coding::Identity => c.decode(&raw, usize::MAX).unwrap_or(raw),
            _ => raw,
        };
        let calls = escalation::classify_requests(&verdict.pending, &self.request_id);
        let mut first = 0;
        let spans = calls
            .iter()
            .map(|c| {
                let span = (first, c.tasks.len());
                first += c.tasks.len();
                Some(span)
            })
            .collect();
        self.waiting = Some(Waiting {
            outcomes: vec![Outcome::Failed; verdict.pending.len()],
            verdict,
            body,
            calls: spans,
        });
        self.phase = RequestPhase::Escalating;
        Step::Escalate { write, calls }
    }

    /// Parallel mode: check the copy of what was forwarded — at the end of the body
    /// (`whole`), or when the upstream answered before it ended.
    fn decide_forwarded(&mut self, policy: &Policy, whole: bool) -> Step {
        let body = std::mem::take(&mut self.shadow);
        let path = Some(self.path.as_str());
        let mut verdict = match (&self.request_coding, whole) {
            (Err(e), _) => policy.undecodable_verdict(path, e),
            (Ok(coding), true) => policy.evaluate_request_coded(path, &body, *coding),
            (Ok(Coding::Identity), false) => policy.evaluate_forwarded_prefix_at(path, &body),
            (Ok(coding), false) => match coding.decode(&body, policy.max_decoded_bytes()) {
                Ok(plain) => policy.evaluate_forwarded_prefix_at(path, &plain),
                Err(e) => policy.undecodable_verdict(path, &e),
            },
        };
        if verdict.decision == Decision::Mask {
            // Compilation refuses request-side masks in parallel mode; never forward a
            // half-applied verdict.
            verdict.decision = Decision::Block;
            verdict.body = None;
        }
        match verdict.decision {
            Decision::Block => self.act(policy, verdict, None),
            d => {
                self.record(Direction::Request, &verdict, true, None);
                self.exchange = verdict.exchange;
                self.phase = RequestPhase::Decided(d);
                Step::Continue
            }
        }
    }

    /// Carry out a request verdict.
    fn act(&mut self, policy: &Policy, verdict: Verdict, esc: Option<OutcomeCounts>) -> Step {
        let decision = verdict.decision;
        let scanned = verdict.reason.is_none() || !verdict.findings.is_empty();
        self.record(Direction::Request, &verdict, scanned, esc);
        self.phase = RequestPhase::Decided(decision);
        self.exchange = verdict.exchange;
        match decision {
            Decision::Allow | Decision::Audit | Decision::Skipped => Step::Continue,
            Decision::Mask => match verdict.body {
                Some(b) => Step::Replace(b),
                None => self.fail_closed(policy, "mask verdict without a body"),
            },
            Decision::Block => {
                let reply = verdict.reply.unwrap_or_else(reply::default_block);
                Step::Reply(local_reply(policy, reply, decision))
            }
        }
    }

    fn oversize(&mut self, policy: &Policy, size: usize) -> Step {
        let verdict = policy.oversize_verdict_at(Some(&self.path), size);
        self.act(policy, verdict, None)
    }

    /// The guard cannot do its work (a host call failed): refuse rather than forward.
    pub fn fail_closed(&mut self, policy: &Policy, why: &str) -> Step {
        let verdict = Verdict {
            reason: Some(format!("{why}; refusing the request")),
            ..Verdict::new(Decision::Block)
        };
        self.record(Direction::Request, &verdict, false, None);
        self.phase = RequestPhase::Decided(Decision::Block);
        Step::Reply(local_reply(
            policy,
            reply::guardrail_error(),
            Decision::Block,
        ))
    }

    fn record(
        &mut self,
        direction: Direction,
        verdict: &Verdict,
        scanned: bool,
        escalation: Option<OutcomeCounts>,
    ) {
        self.records.push(Record {
            direction,
            decision: verdict.decision,
            findings: verdict.findings.clone(),
            reason: verdict.reason.clone(),
            escalation,
            scanned,
            policy: self
                .policy
                .clone()
                .unwrap_or_else(|| std::sync::Arc::from(crate::config::DEFAULT_POLICY_NAME)),
            selected_by: self.selected_by,
            policy_refused: self.policy_refused.clone(),
            matches: best_matches(std::mem::take(&mut self.matches)),
            excerpt: verdict.excerpt.clone(),
        });
    }
}

/// The best three similarity matches over all of an exchange's texts, each attack once.
fn best_matches(mut m: Vec<(u32, f32)>) -> Vec<(u32, f32)> {
    m.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut seen = Vec::new();
    m.retain(|(id, _)| {
        let new = !seen.contains(id);
        seen.push(*id);
        new
    });
    m.truncate(3);
    m
}

/// The protocol a request asks to switch to, if it does: a GET's `upgrade: websocket`, or a
/// CONNECT (an HTTP/2 or /3 extended CONNECT's `:protocol`; a plain one opens a tunnel).
/// `h2c` is not one: a proxy answers that request itself, in HTTP/1.1. A POST, which nearly
/// every guarded request is, costs one header read.
fn upgrade_protocol(header: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let method = header(":method")?;
    let lower = |v: String| Some(v.trim().to_ascii_lowercase()).filter(|v| !v.is_empty());
    if method.eq_ignore_ascii_case("CONNECT") {
        return Some(
            header(":protocol")
                .and_then(lower)
                .unwrap_or_else(|| "connect".to_string()),
        );
    }
    if !method.eq_ignore_ascii_case("GET") {
        return None;
    }
    header("upgrade").and_then(lower).filter(|v| v != "h2c")
}

/// A local reply with its content type and the decision header.
fn local_reply(policy: &Policy, reply: Reply, decision: Decision) -> LocalReply {
    let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
    if let Some(h) = &policy.decision_header {
        headers.push((h.clone(), decision.as_str().to_string()));
    }
    LocalReply {
        status: reply.status,
        headers,
        body: reply.body,
        decision,
    }
}
