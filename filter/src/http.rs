//! One HTTP request through the guard, as an explicit phase machine.
//!
//! Requests, `input_mode: sequential` (the default):
//!
//! ```text
//! Start ──headers, no body──────────────────────────────▶ Passed
//!   │ headers, body follows (Continue; content-length dropped if the body may be rewritten)
//!   ▼
//! Buffering ──chunk, not end (Pause: Envoy buffers)──▶ Buffering
//!   │ end of stream / trailers / over the size limit
//!   ▼
//! Decided(decision): forwarded (Continue) or answered locally (Pause + local reply)
//! ```
//!
//! Escalation (tier 3): when the verdict has texts only the heavy tier can settle (a tier-2
//! score in its uncertainty band with `on_uncertain: escalate`, or a `similarity` guard), the
//! filter applies any mask to the buffered body at once, sends one Classify call to the
//! `escalation.cluster` (gRPC, deadline `escalation.timeout_ms`) and stays paused
//! (`Escalating`). The answer — or the deadline, a transport error, an overloaded service —
//! resolves the verdict (failures by each guard's `on_failure`); a block answers locally,
//! anything else resumes the request.
//!
//! Requests, `input_mode: parallel`: every body chunk is copied and forwarded at once
//! (`Shadowing`); at the end of the body the copy is checked. A block answers locally, which
//! resets the upstream call. The checks in the filter are synchronous, so the verdict is in
//! before the upstream can answer a complete request; an upstream that answers before the body
//! ended (Envoy then delivers no more of it) has seen only bytes the filter copied, and those
//! are checked at the response headers, before any of the answer leaves.
//!
//! A request body that is JSON-RPC 2.0 is MCP traffic: the engine reads it with the
//! `mcp_pre_tool` guards (and answers a block with a JSON-RPC error) and returns the exchange
//! state (the guarded call ids, reversible-mask values) the response side needs.
//!
//! Responses, when the policy reads them (a second, independent phase):
//!
//! ```text
//! response headers: JSON, identity encoding ─▶ Buffering (content-length dropped)
//!                   SSE, identity encoding  ─▶ Streaming (content-length dropped)
//!                   anything else (compressed) ─▶ Decided(skipped)
//! Buffering ──chunk (Pause)──▶ … ──end of stream──▶ Decided: body kept or rewritten
//! Streaming ──each chunk: the stream guard releases what is safe──▶ StreamDecided
//! ```
//!
//! The request's `accept-encoding` is removed when responses are read, so the upstream answers
//! in identity encoding and the filter never scans compressed bytes; a response that is
//! compressed anyway is passed on and counted `skipped`.
//!
//! Request headers are released at once: in Envoy, pausing in the headers callback stops body
//! callbacks too, so the body is held instead (the router may open the upstream request, but
//! no body byte leaves Envoy before the verdict; a block resets it). Every `Pause` is followed
//! by either a local reply or more body callbacks from Envoy: the body pause is Envoy's
//! buffering, and it ends with `end_of_stream`, trailers or the size limit — each of which
//! decides.

use std::rc::Rc;

use parapet_core::config::InputMode;
use parapet_core::engine::{Decision, Exchange, Verdict};
use parapet_core::escalation::{self, proto::ClassifyResponse, Outcome, OutcomeCounts};
use parapet_core::reply::{self, Reply};
use parapet_core::stream::{self, ResponseStream};
use prost::Message as _;
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, LogLevel};

use crate::{host, Active};

/// Where a request is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Before request headers.
    Start,
    /// No body to scan (or no policy): passed through untouched.
    Passed,
    /// Holding the request body until it is complete.
    Buffering { body_size: usize },
    /// `input_mode: parallel`: forwarding the body as it comes, keeping a copy to check.
    Shadowing,
    /// Paused for the heavy tier's answer (a Classify call in flight).
    Escalating,
    /// The verdict is in and has been acted on.
    Decided(Decision),
}

/// Where the response is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponsePhase {
    /// Not guarded: no output guards, or not a JSON response.
    Unguarded,
    /// Holding the JSON response body until it is complete.
    Buffering,
    /// An SSE stream, passed through the stream guard chunk by chunk.
    Streaming,
    /// A guarded stream whose verdict is recorded (blocked: the rest is discarded by the
    /// guard; or ended).
    StreamDecided(Decision),
    /// The output verdict is in and has been acted on.
    Decided(Decision),
}

/// The HTTP context.
pub struct GuardedRequest {
    active: Option<Rc<Active>>,
    phase: Phase,
    response: ResponsePhase,
    /// What the response side needs from the request's verdict (MCP ids, reversible masks).
    exchange: Exchange,
    /// For [`Phase::Shadowing`]: the copy of the body forwarded so far.
    shadow: Vec<u8>,
    /// For [`ResponsePhase::Streaming`].
    stream: Option<Box<dyn ResponseStream>>,
    /// For [`Phase::Escalating`].
    escalation: Option<InFlight>,
    /// `x-request-id`, read with the headers (the header map is not readable from body
    /// callbacks) when the policy escalates, for the heavy tier's logs.
    request_id: String,
}

/// A verdict waiting for the heavy tier.
struct InFlight {
    token: u32,
    verdict: Verdict,
    /// The original request body (an MCP block needs it for the JSON-RPC error).
    body: Vec<u8>,
    size: usize,
    scan_us: u64,
    started_us: u64,
}

impl GuardedRequest {
    pub fn new(active: Option<Rc<Active>>) -> Self {
        GuardedRequest {
            active,
            phase: Phase::Start,
            response: ResponsePhase::Unguarded,
            exchange: Exchange::default(),
            shadow: Vec::new(),
            stream: None,
            escalation: None,
            request_id: String::new(),
        }
    }

    /// The request body is complete (`size` bytes buffered): evaluate and act.
    fn decide(&mut self, active: &Active, size: usize) -> Action {
        let body = match host::request_body(size) {
            Ok(b) => b,
            Err(e) => return self.fail_closed(active, &format!("cannot read request body: {e}")),
        };
        let (verdict, elapsed) = self.evaluate(active, &body, true);
        if !verdict.pending.is_empty() {
            return self.escalate(active, verdict, body, size, elapsed);
        }
        self.act(active, verdict, size, elapsed)
    }

    /// Send the verdict's pending texts to the heavy tier and pause until it answers.
    fn escalate(
        &mut self,
        active: &Active,
        mut verdict: Verdict,
        body: Vec<u8>,
        size: usize,
        scan_us: u64,
    ) -> Action {
        // A mask is written now, while the body callback may still change the buffer; the
        // heavy tier's answer can only turn it into a block (a local reply) or let it go.
        if verdict.decision == Decision::Mask {
            match verdict.body.take() {
                Some(masked) => {
                    if let Err(e) = host::replace_request_body(size, &masked) {
                        return self
                            .fail_closed(active, &format!("cannot rewrite request body: {e}"));
                    }
                }
                None => return self.fail_closed(active, "mask verdict without a body"),
            }
        }
        let message =
            escalation::classify_request(&verdict.pending, &self.request_id).encode_to_vec();
        let e = &active.policy.escalation;
        let started_us = host::now_micros();
        match host::dispatch_grpc(
            &e.cluster,
            escalation::SERVICE,
            escalation::METHOD,
            &message,
            std::time::Duration::from_millis(u64::from(e.timeout_ms)),
        ) {
            Ok(token) => {
                self.phase = Phase::Escalating;
                self.escalation = Some(InFlight {
                    token,
                    verdict,
                    body,
                    size,
                    scan_us,
                    started_us,
                });
                Action::Pause
            }
            Err(err) => {
                host::log(
                    LogLevel::Warn,
                    &format!("escalation to cluster `{}` failed: {err}", e.cluster),
                );
                let pending = verdict.pending.len();
                let flight = InFlight {
                    token: 0,
                    verdict,
                    body,
                    size,
                    scan_us,
                    started_us,
                };
                self.settle(active, flight, &vec![Outcome::Failed; pending])
            }
        }
    }

    /// Resolve an escalated verdict with the heavy tier's outcomes and act on it.
    fn settle(&mut self, active: &Active, flight: InFlight, outcomes: &[Outcome]) -> Action {
        let counts = OutcomeCounts::of(&flight.verdict.pending, outcomes);
        active.metrics.count_escalation(counts);
        let waited = host::now_micros().saturating_sub(flight.started_us);
        if let Some(id) = active.metrics.escalation_us {
            host::record(id, waited);
        }
        let mut verdict = active
            .policy
            .resolve(flight.verdict, &flight.body, outcomes);
        if verdict.decision == Decision::Mask {
            // The masked body was written before the call; only a block could undo it.
            record(active, &verdict, flight.scan_us, Direction::Request);
            self.phase = Phase::Decided(Decision::Mask);
            self.exchange = std::mem::take(&mut verdict.exchange);
            return Action::Continue;
        }
        self.act(active, verdict, flight.size, flight.scan_us)
    }

    /// Run the request-side guards on a whole body, or (`whole: false`) on the part of it that
    /// was forwarded before the upstream answered; the verdict and the engine time in µs.
    fn evaluate(&self, active: &Active, body: &[u8], whole: bool) -> (Verdict, u64) {
        let started = host::now_micros();
        let verdict = if whole {
            active.policy.evaluate_request(body)
        } else {
            active.policy.evaluate_forwarded_prefix(body)
        };
        let elapsed = host::now_micros().saturating_sub(started);
        if let Some(id) = active.metrics.scan_us {
            host::record(id, elapsed);
        }
        (verdict, elapsed)
    }

    /// Parallel mode: check the copy of what was forwarded and act on the verdict — at the end
    /// of the body (`whole`), or when the upstream answered before the body ended (Envoy then
    /// delivers no more of it; every forwarded byte is in the copy), before any of the answer
    /// leaves.
    fn decide_forwarded(&mut self, active: &Active, whole: bool) -> Action {
        let body = std::mem::take(&mut self.shadow);
        let (mut verdict, elapsed) = self.evaluate(active, &body, whole);
        if verdict.decision == Decision::Mask {
            // Compilation refuses request-side masks in parallel mode; never forward a
            // half-applied verdict.
            verdict.decision = Decision::Block;
        }
        let decision = verdict.decision;
        record(active, &verdict, elapsed, Direction::Request);
        self.exchange = std::mem::take(&mut verdict.exchange);
        self.phase = Phase::Decided(decision);
        if decision == Decision::Block {
            let reply = verdict.reply.unwrap_or_else(reply::default_block);
            return self.reply(active, &reply, decision);
        }
        Action::Continue
    }

    fn act(&mut self, active: &Active, verdict: Verdict, size: usize, elapsed_us: u64) -> Action {
        let decision = verdict.decision;
        record(active, &verdict, elapsed_us, Direction::Request);
        self.phase = Phase::Decided(decision);
        self.exchange = verdict.exchange;
        match decision {
            Decision::Allow | Decision::Audit | Decision::Skipped => Action::Continue,
            Decision::Mask => match verdict.body {
                Some(body) => match host::replace_request_body(size, &body) {
                    Ok(()) => Action::Continue,
                    Err(e) => {
                        self.fail_closed(active, &format!("cannot rewrite request body: {e}"))
                    }
                },
                None => self.fail_closed(active, "mask verdict without a body"),
            },
            Decision::Block => {
                let reply = verdict.reply.unwrap_or_else(reply::default_block);
                self.reply(active, &reply, decision)
            }
        }
    }

    fn reply(&mut self, active: &Active, reply: &Reply, decision: Decision) -> Action {
        let mut headers = vec![("content-type", "application/json")];
        if let Some(h) = &active.policy.decision_header {
            headers.push((h.as_str(), decision.as_str()));
        }
        if let Err(e) = host::send_local_reply(reply.status, headers, &reply.body) {
            host::log(LogLevel::Error, &format!("{e}"));
        }
        Action::Pause
    }

    /// A host failure mid-request: refuse rather than forward something unscanned.
    fn fail_closed(&mut self, active: &Active, why: &str) -> Action {
        host::log(LogLevel::Error, &format!("{why}; refusing the request"));
        self.phase = Phase::Decided(Decision::Block);
        active.metrics.count_decision(Decision::Block);
        let r = reply::guardrail_error();
        self.reply(active, &r, Decision::Block)
    }

    /// One piece of a guarded SSE stream: hand it to the stream guard and send on what it
    /// releases (possibly nothing now, possibly held events from earlier chunks).
    fn stream_chunk(&mut self, size: usize, end_of_stream: bool) -> Action {
        let (Some(active), Some(guard)) = (self.active.clone(), self.stream.as_mut()) else {
            return Action::Continue;
        };
        let chunk = match host::response_body(size) {
            Ok(c) => c,
            Err(e) => {
                // Nothing can be checked: end the stream rather than pass unchecked bytes.
                host::log(LogLevel::Error, &format!("cannot read stream chunk: {e}"));
                let _ = host::replace_response_body(size, b"");
                return Action::Continue;
            }
        };
        let started = host::now_micros();
        let mut out = guard.push(&active.policy, &chunk);
        if end_of_stream {
            out.extend(guard.finish(&active.policy));
        }
        let elapsed = host::now_micros().saturating_sub(started);
        if let Some(id) = active.metrics.output_scan_us {
            host::record(id, elapsed);
        }
        if out != chunk {
            if let Err(e) = host::replace_response_body(size, &out) {
                host::log(
                    LogLevel::Error,
                    &format!("cannot rewrite stream chunk: {e}"),
                );
                let _ = host::replace_response_body(size, b"");
            }
        }
        // Record once: when the stream ends, or when it is cut off (what follows is discarded).
        let decision = guard.decision();
        if (end_of_stream || guard.is_terminated()) && self.response == ResponsePhase::Streaming {
            let verdict = Verdict {
                findings: guard.findings().to_vec(),
                ..Verdict::new(decision)
            };
            record(&active, &verdict, elapsed, Direction::Response);
            self.response = ResponsePhase::StreamDecided(decision);
        }
        Action::Continue
    }

    /// The response headers are in (and the request decided): mark the decision, and choose
    /// how the body will be guarded.
    fn prepare_response(&mut self, active: &Active, end_of_stream: bool) {
        if let (Phase::Decided(d), Some(h)) = (self.phase, &active.policy.decision_header) {
            if let Err(e) = host::set_response_header(h, d.as_str()) {
                host::log(LogLevel::Warn, &format!("{e}"));
            }
        }
        // A locally answered request has no upstream response to guard.
        let policy = &active.policy;
        let reads = if self.exchange.is_mcp() {
            policy.guards_tool_results()
        } else {
            policy.guards_output()
        } || !self.exchange.restore.is_empty();
        if end_of_stream || !reads || self.phase == Phase::Decided(Decision::Block) {
            return;
        }
        let header = |name| {
            host::response_header(name)
                .ok()
                .flatten()
                .unwrap_or_default()
                .to_ascii_lowercase()
        };
        let content_type = header("content-type");
        let streaming = content_type.starts_with("text/event-stream");
        if !streaming && !content_type.starts_with("application/json") {
            return;
        }
        let encoding = header("content-encoding");
        if !(encoding.is_empty() || encoding == "identity") {
            let verdict = Verdict {
                reason: Some(format!("response is {encoding}-encoded")),
                ..Verdict::new(Decision::Skipped)
            };
            record(active, &verdict, 0, Direction::Response);
            self.response = ResponsePhase::Decided(Decision::Skipped);
            return;
        }
        if let Err(e) = host::remove_response_header("content-length") {
            host::log(
                LogLevel::Warn,
                &format!("response left unguarded: cannot drop content-length: {e}"),
            );
            return;
        }
        if streaming {
            self.response = ResponsePhase::Streaming;
            self.stream = Some(stream::for_exchange(&self.exchange));
        } else {
            self.response = ResponsePhase::Buffering;
        }
    }

    fn oversize(&mut self, active: &Active, size: usize) -> Action {
        let verdict = active.policy.oversize_verdict(size);
        self.act(active, verdict, size, 0)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Request,
    Response,
}

/// Stats and a log line for a decision.
fn record(active: &Active, verdict: &Verdict, elapsed_us: u64, direction: Direction) {
    let decision = verdict.decision;
    match direction {
        Direction::Request => active.metrics.count_decision(decision),
        Direction::Response => active.metrics.count_output_decision(decision),
    }
    let mut fired: Vec<usize> = verdict.findings.iter().map(|f| f.guard_index).collect();
    fired.sort_unstable();
    fired.dedup();
    for g in &fired {
        active.metrics.count_guard(*g, decision);
    }
    if decision != Decision::Allow {
        let mut kinds: Vec<String> = verdict.findings.iter().map(|f| f.summary()).collect();
        kinds.dedup();
        host::log(
            LogLevel::Info,
            &format!(
                "{}={} findings=[{}] scan_us={elapsed_us}{}",
                if direction == Direction::Request {
                    "decision"
                } else {
                    "output_decision"
                },
                decision.as_str(),
                kinds.join(","),
                verdict
                    .reason
                    .as_deref()
                    .map(|r| format!(" reason=\"{r}\""))
                    .unwrap_or_default()
            ),
        );
    }
}

impl Context for GuardedRequest {
    fn on_grpc_call_response(&mut self, token_id: u32, status_code: u32, response_size: usize) {
        let Some(active) = self.active.clone() else {
            return;
        };
        let Some(flight) = self.escalation.take_if(|f| f.token == token_id) else {
            return;
        };
        let pending = flight.verdict.pending.len();
        let outcomes = if status_code == 0 {
            match host::grpc_response_body(response_size)
                .map_err(|e| e.to_string())
                .and_then(|b| ClassifyResponse::decode(b.as_slice()).map_err(|e| e.to_string()))
            {
                Ok(resp) => Outcome::from_response(&resp, pending),
                Err(e) => {
                    host::log(LogLevel::Warn, &format!("bad Classify answer: {e}"));
                    vec![Outcome::Failed; pending]
                }
            }
        } else {
            host::log(
                LogLevel::Warn,
                &format!(
                    "escalation failed: gRPC status {status_code} ({})",
                    grpc_status_name(status_code)
                ),
            );
            vec![Outcome::Failed; pending]
        };
        if self.settle(&active, flight, &outcomes) == Action::Continue {
            if let Err(e) = host::resume_request() {
                host::log(LogLevel::Error, &format!("{e}"));
            }
        }
    }
}

fn grpc_status_name(code: u32) -> &'static str {
    match code {
        1 => "cancelled",
        2 => "unknown",
        4 => "deadline exceeded",
        8 => "resource exhausted",
        9 => "failed precondition",
        12 => "unimplemented",
        13 => "internal",
        14 => "unavailable",
        _ => "error",
    }
}

impl HttpContext for GuardedRequest {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let Some(active) = self.active.clone() else {
            self.phase = Phase::Passed;
            return Action::Continue;
        };
        if active.policy.reads_responses() {
            if let Err(e) = host::remove_request_header("accept-encoding") {
                host::log(
                    LogLevel::Warn,
                    &format!("cannot request identity encoding: {e}"),
                );
            }
        }
        if end_of_stream {
            self.phase = Phase::Passed;
            return Action::Continue;
        }
        if active.policy.escalates() {
            self.request_id = host::request_header("x-request-id")
                .ok()
                .flatten()
                .unwrap_or_default();
        }
        let declared = host::request_header("content-length")
            .ok()
            .flatten()
            .and_then(|v| v.trim().parse::<usize>().ok());
        if let Some(len) = declared {
            if len > active.policy.limits.max_body_bytes {
                return self.oversize(&active, len);
            }
        }
        if active.policy.input_mode == InputMode::Parallel {
            self.phase = Phase::Shadowing;
            return Action::Continue;
        }
        if active.policy.may_rewrite_request() {
            if let Err(e) = host::remove_request_header("content-length") {
                return self.fail_closed(&active, &format!("cannot drop content-length: {e}"));
            }
        }
        self.phase = Phase::Buffering { body_size: 0 };
        Action::Continue
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        let Some(active) = self.active.clone() else {
            return Action::Continue;
        };
        if self.phase == Phase::Shadowing {
            // Forwarded as it comes: each callback holds only the new chunk.
            match host::request_body(body_size) {
                Ok(chunk) => self.shadow.extend_from_slice(&chunk),
                Err(e) => {
                    return self.fail_closed(&active, &format!("cannot read request body: {e}"))
                }
            }
            if self.shadow.len() > active.policy.limits.max_body_bytes {
                let len = self.shadow.len();
                self.shadow = Vec::new();
                return self.oversize(&active, len);
            }
            return if end_of_stream {
                self.decide_forwarded(&active, true)
            } else {
                Action::Continue
            };
        }
        let Phase::Buffering { .. } = self.phase else {
            return Action::Continue;
        };
        self.phase = Phase::Buffering { body_size };
        if body_size > active.policy.limits.max_body_bytes {
            return self.oversize(&active, body_size);
        }
        if !end_of_stream {
            return Action::Pause;
        }
        self.decide(&active, body_size)
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        let Some(active) = self.active.clone() else {
            return Action::Continue;
        };
        match self.phase {
            Phase::Buffering { body_size } => self.decide(&active, body_size),
            Phase::Shadowing => self.decide_forwarded(&active, true),
            _ => Action::Continue,
        }
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let Some(active) = self.active.clone() else {
            return Action::Continue;
        };
        if self.phase == Phase::Shadowing && self.decide_forwarded(&active, false) == Action::Pause
        {
            return Action::Pause;
        }
        self.prepare_response(&active, end_of_stream);
        Action::Continue
    }
    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        if matches!(
            self.response,
            ResponsePhase::Streaming | ResponsePhase::StreamDecided(_)
        ) {
            return self.stream_chunk(body_size, end_of_stream);
        }
        if self.response != ResponsePhase::Buffering {
            return Action::Continue;
        }
        let Some(active) = self.active.clone() else {
            return Action::Continue;
        };
        if !end_of_stream && body_size <= active.policy.limits.max_body_bytes {
            return Action::Pause;
        }
        let body = match host::response_body(body_size) {
            Ok(b) => b,
            Err(e) => {
                host::log(LogLevel::Error, &format!("cannot read response body: {e}"));
                self.response = ResponsePhase::Decided(Decision::Skipped);
                active.metrics.count_output_decision(Decision::Skipped);
                return Action::Continue;
            }
        };
        let started = host::now_micros();
        let verdict = active.policy.evaluate_response(&body, &self.exchange);
        let elapsed = host::now_micros().saturating_sub(started);
        if let Some(id) = active.metrics.output_scan_us {
            host::record(id, elapsed);
        }
        record(&active, &verdict, elapsed, Direction::Response);
        self.response = ResponsePhase::Decided(verdict.decision);
        if let Some(rewritten) = &verdict.body {
            if let Err(e) = host::replace_response_body(body_size, rewritten) {
                // The original must not go out unguarded: drop what is buffered.
                host::log(
                    LogLevel::Error,
                    &format!("cannot rewrite response body: {e}"),
                );
                let _ = host::replace_response_body(body_size, b"");
            }
        }
        Action::Continue
    }
}
