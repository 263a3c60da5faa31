//! One HTTP request through the guard, as an explicit phase machine.
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
//! Responses, when the policy has `llm_output` guards (a second, independent phase):
//!
//! ```text
//! response headers: JSON, identity encoding ─▶ BufferingResponse (content-length dropped)
//!                   anything else (SSE, compressed) ─▶ Unguarded
//! BufferingResponse ──chunk (Pause)──▶ … ──end of stream──▶ Decided: body kept or rewritten
//! ```
//!
//! The request's `accept-encoding` is removed when responses are guarded, so the upstream
//! answers in identity encoding and the filter never scans compressed bytes; a response that is
//! compressed anyway is passed on and counted `skipped`. Streamed (SSE) responses are not yet
//! scanned and pass through unchanged.
//!
//! Request headers are released at once: in Envoy, pausing in the headers callback stops body
//! callbacks too, so the body is held instead (the router may open the upstream request, but
//! no body byte leaves Envoy before the verdict; a block resets it). Every `Pause` is followed
//! by either a local reply or more body callbacks from Envoy: the body pause is Envoy's
//! buffering, and it ends with `end_of_stream`, trailers or the size limit — each of which
//! decides.

use std::rc::Rc;

use parapet_core::engine::{Decision, Verdict};
use parapet_core::reply::{self, Reply};
use parapet_core::stream::StreamGuard;
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
    /// For [`ResponsePhase::Streaming`].
    stream: Option<Box<StreamGuard>>,
}

impl GuardedRequest {
    pub fn new(active: Option<Rc<Active>>) -> Self {
        GuardedRequest {
            active,
            phase: Phase::Start,
            response: ResponsePhase::Unguarded,
            stream: None,
        }
    }

    /// The request body is complete (`size` bytes buffered): evaluate and act.
    fn decide(&mut self, active: &Active, size: usize) -> Action {
        let body = match host::request_body(size) {
            Ok(b) => b,
            Err(e) => return self.fail_closed(active, &format!("cannot read request body: {e}")),
        };
        let started = host::now_micros();
        let verdict = active.policy.evaluate_request(&body);
        let elapsed = host::now_micros().saturating_sub(started);
        if let Some(id) = active.metrics.scan_us {
            host::record(id, elapsed);
        }
        self.act(active, verdict, size, elapsed)
    }

    fn act(&mut self, active: &Active, verdict: Verdict, size: usize, elapsed_us: u64) -> Action {
        let decision = verdict.decision;
        record(active, &verdict, elapsed_us, Direction::Request);
        self.phase = Phase::Decided(decision);
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
                let reply = verdict.reply.unwrap_or_else(|| {
                    reply::openai_error(
                        400,
                        "Request blocked by guardrail policy.",
                        "invalid_request_error",
                        "content_policy_violation",
                    )
                });
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
        let r = reply::openai_error(
            500,
            "The guardrail could not inspect this request.",
            "server_error",
            "guardrail_error",
        );
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
        // Record once: when the stream ends, or when it is blocked (what follows is discarded).
        let decision = guard.decision();
        if (end_of_stream || decision == Decision::Block)
            && self.response == ResponsePhase::Streaming
        {
            let verdict = Verdict {
                decision,
                findings: guard.findings().to_vec(),
                body: None,
                reply: None,
                reason: None,
            };
            record(&active, &verdict, elapsed, Direction::Response);
            self.response = ResponsePhase::StreamDecided(decision);
        }
        Action::Continue
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
        let mut kinds: Vec<String> = verdict
            .findings
            .iter()
            .map(|f| format!("{}:{}", f.guard, f.kind))
            .collect();
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

impl Context for GuardedRequest {}

impl HttpContext for GuardedRequest {
    fn on_http_request_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let Some(active) = self.active.clone() else {
            self.phase = Phase::Passed;
            return Action::Continue;
        };
        if active.policy.guards_output() {
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
        let declared = host::request_header("content-length")
            .ok()
            .flatten()
            .and_then(|v| v.trim().parse::<usize>().ok());
        if let Some(len) = declared {
            if len > active.policy.limits.max_body_bytes {
                return self.oversize(&active, len);
            }
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
        let Phase::Buffering { .. } = self.phase else {
            return Action::Continue;
        };
        let Some(active) = self.active.clone() else {
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
        let Phase::Buffering { body_size } = self.phase else {
            return Action::Continue;
        };
        let Some(active) = self.active.clone() else {
            return Action::Continue;
        };
        self.decide(&active, body_size)
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let Some(active) = self.active.clone() else {
            return Action::Continue;
        };
        if let (Phase::Decided(d), Some(h)) = (self.phase, &active.policy.decision_header) {
            if let Err(e) = host::set_response_header(h, d.as_str()) {
                host::log(LogLevel::Warn, &format!("{e}"));
            }
        }
        // A locally answered request has no upstream response to guard.
        if end_of_stream
            || !active.policy.guards_output()
            || self.phase == Phase::Decided(Decision::Block)
        {
            return Action::Continue;
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
            return Action::Continue;
        }
        let encoding = header("content-encoding");
        if !(encoding.is_empty() || encoding == "identity") {
            let verdict = Verdict {
                decision: Decision::Skipped,
                findings: Vec::new(),
                body: None,
                reply: None,
                reason: Some(format!("response is {encoding}-encoded")),
            };
            record(&active, &verdict, 0, Direction::Response);
            self.response = ResponsePhase::Decided(Decision::Skipped);
            return Action::Continue;
        }
        if let Err(e) = host::remove_response_header("content-length") {
            host::log(
                LogLevel::Warn,
                &format!("response left unguarded: cannot drop content-length: {e}"),
            );
            return Action::Continue;
        }
        if streaming {
            self.response = ResponsePhase::Streaming;
            self.stream = Some(Box::new(StreamGuard::new()));
        } else {
            self.response = ResponsePhase::Buffering;
        }
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
        let verdict = active.policy.evaluate_response(&body);
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
