//! One HTTP request through the guard: the proxy-wasm host of the core's exchange machine
//! ([`parapet_core::exchange::GuardedExchange`]).
//!
//! Every decision is the machine's; this file only carries its [`Step`]s out with proxy-wasm:
//!
//! | step | request callbacks | response callbacks |
//! |---|---|---|
//! | `Continue` | `Action::Continue` | `Action::Continue` |
//! | `Buffer` | `Action::Pause` (Envoy buffers the body) | `Action::Pause` |
//! | `Replace(b)` | `set_http_request_body`, continue | `set_http_response_body`, continue |
//! | `Reply(r)` | `send_http_response`, `Action::Pause` | `send_http_response` (parallel mode) |
//! | `Escalate` | write any mask, `dispatch_grpc_call` per Classify call, `Action::Pause`; each answer (or failure) goes back to the machine, and its decision resumes the request or replies | – |
//!
//! Header edits are applied before the headers go on. Request headers are released at once:
//! in Envoy, pausing in the headers callback stops body callbacks too, so the body is held
//! instead (the router may open the upstream request, but no body byte leaves Envoy before the
//! verdict; a block resets it). A host call that fails while a body is held refuses the request
//! (the machine's guardrail error), never forwards it unread.
//!
//! Counters and log lines come from the machine's [`Record`]s: `decision=…` /
//! `output_decision=…` with the findings (guard and kind, never the matched text), the engine
//! time and the reason.

use std::rc::Rc;
use std::sync::Arc;

use parapet_core::decision_log::DecisionLog;
use parapet_core::escalation::{self, proto::ClassifyResponse};
use parapet_core::exchange::{
    BodyMode, Direction, GuardedExchange, HeaderEdits, LocalReply, Record, Step,
};
use parapet_core::policies::RequestFacts;
use parapet_core::Policy;
use prost::Message as _;
use proxy_wasm::traits::{Context, HttpContext};
use proxy_wasm::types::{Action, LogLevel};

use crate::{host, Active};

/// The HTTP context.
pub struct GuardedRequest {
    active: Option<Rc<Active>>,
    /// The policy the machine chose for this request (the set's default until then).
    policy: Option<Arc<Policy>>,
    machine: GuardedExchange,
    /// Classify calls in flight: (gRPC token, the machine's call index).
    calls: Vec<(u32, usize)>,
    /// When the escalation was sent (µs), for `parapet.escalation_us`.
    escalation_started_us: u64,
    /// The request body's size at the last body callback (trailers carry none).
    body_size: usize,
    /// Engine time of the scan whose verdict waits for the heavy tier (recorded with it).
    escalated_scan_us: u64,
    /// Time the last escalation waited for the heavy tier (recorded with its decision).
    escalation_us: Option<u64>,
    /// This request's decisions, written as filter state `wasm.parapet` after each.
    log: DecisionLog,
    /// The request's W3C trace context (`traceparent`, `tracestate`), read with its headers
    /// (request headers cannot be read once they went upstream) for the Classify calls.
    trace: Vec<(String, String)>,
}

impl GuardedRequest {
    pub fn new(active: Option<Rc<Active>>) -> Self {
        GuardedRequest {
            active,
            policy: None,
            machine: GuardedExchange::new(),
            calls: Vec::new(),
            escalation_started_us: 0,
            body_size: 0,
            escalated_scan_us: 0,
            escalation_us: None,
            log: DecisionLog::new(),
            trace: Vec::new(),
        }
    }

    /// The policy in force for this request.
    fn policy(&self, active: &Active) -> Arc<Policy> {
        self.policy
            .clone()
            .unwrap_or_else(|| active.policies.default_policy_ref().clone())
    }

    /// Carry out a request-side step; `size` is the body size the callback sees.
    fn carry_request(&mut self, active: &Active, step: Step, size: usize) -> Action {
        match step {
            Step::Continue => Action::Continue,
            Step::Buffer => Action::Pause,
            Step::Replace(body) => match host::replace_request_body(size, &body) {
                Ok(()) => Action::Continue,
                Err(e) => self.fail_closed(active, &format!("cannot rewrite request body: {e}")),
            },
            Step::Reply(r) => reply(&r),
            Step::Escalate { write, calls } => {
                // A mask is written now, while the body callback may still change the buffer;
                // the heavy tier's answer can only turn it into a block or let it go.
                if let Some(body) = write {
                    if let Err(e) = host::replace_request_body(size, &body) {
                        return self
                            .fail_closed(active, &format!("cannot rewrite request body: {e}"));
                    }
                }
                let policy = self.policy(active);
                let e = &policy.escalation;
                self.escalation_started_us = host::now_micros();
                let mut decided = None;
                for (i, call) in calls.iter().enumerate() {
                    // The trace the request carries, so the heavy tier's spans join it.
                    let metadata = self
                        .trace
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_bytes()))
                        .collect();
                    match host::dispatch_grpc(
                        &policy.escalation_target,
                        escalation::SERVICE,
                        escalation::METHOD,
                        metadata,
                        &call.encode_to_vec(),
                        std::time::Duration::from_millis(u64::from(e.timeout_ms)),
                    ) {
                        Ok(token) => self.calls.push((token, i)),
                        Err(err) => {
                            host::log(
                                LogLevel::Warn,
                                &format!("escalation to cluster `{}` failed: {err}", e.cluster),
                            );
                            decided =
                                self.machine
                                    .escalation_answer(&policy, i, Err(err.to_string()));
                        }
                    }
                }
                match decided {
                    // Every call failed at once: decided without pausing.
                    Some(step) => {
                        self.record_all(active, self.escalated_scan_us);
                        self.carry_request(active, step, size)
                    }
                    None => Action::Pause,
                }
            }
        }
    }

    /// Carry out a response-side step.
    fn carry_response(&mut self, step: Step, size: usize) -> Action {
        match step {
            Step::Buffer => Action::Pause,
            Step::Replace(body) => {
                if let Err(e) = host::replace_response_body(size, &body) {
                    // The original must not go out unguarded: drop what is held.
                    host::log(
                        LogLevel::Error,
                        &format!("cannot rewrite response body: {e}"),
                    );
                    let _ = host::replace_response_body(size, b"");
                }
                Action::Continue
            }
            Step::Reply(r) => reply(&r),
            Step::Continue | Step::Escalate { .. } => Action::Continue,
        }
    }

    /// A host failure mid-request: refuse rather than forward something unscanned.
    fn fail_closed(&mut self, active: &Active, why: &str) -> Action {
        let policy = self.policy(active);
        let step = self.machine.fail_closed(&policy, why);
        self.record_all(active, 0);
        match step {
            Step::Reply(r) => reply(&r),
            _ => Action::Pause,
        }
    }

    /// Counters, histograms and log lines for the machine's new decisions.
    fn record_all(&mut self, active: &Active, elapsed_us: u64) {
        let policy = self.policy(active);
        let records = self.machine.take_records();
        for r in &records {
            record(active, &policy, r, elapsed_us, true);
        }
        self.publish(active, &records, Some(elapsed_us));
    }

    /// Add decisions to this request's record and write it as filter state (`wasm.parapet`)
    /// for access logs and the access-log service: Envoy gives Wasm no way to write dynamic
    /// metadata.
    fn publish(&mut self, active: &Active, records: &[Record], scan_us: Option<u64>) {
        let o = self.policy(active).observability;
        if records.is_empty() || !(o.record || o.trace_tags) {
            return;
        }
        let escalation_us = self.escalation_us.take();
        for r in records {
            self.log.add(r, scan_us, escalation_us);
        }
        if o.record {
            let json = self.log.to_json_string();
            if let Err(e) = host::set_property("parapet", json.as_bytes()) {
                host::log(LogLevel::Warn, &format!("decision record: {e}"));
            }
        }
        if o.trace_tags {
            // One filter-state value per span tag (`wasm.parapet.decision`, ...): what the
            // shipped tracing configs put on Envoy's request span.
            for (tag, value) in self.log.span_tags() {
                let _ = host::set_property(tag, value.as_bytes());
            }
        }
    }
}

/// Read a body from the host, adding the time it took to `spent` (the scan histograms count
/// the engine's time, not the copy into the VM).
fn timed_read<E: std::fmt::Display>(
    spent: &mut u64,
    read: impl FnOnce() -> Result<Vec<u8>, E>,
) -> Result<Vec<u8>, String> {
    let started = host::now_micros();
    let r = read().map_err(|e| e.to_string());
    *spent += host::now_micros().saturating_sub(started);
    r
}

/// Engine time of a machine call that started at `started` and spent `read_us` reading.
fn engine_us(started: u64, read_us: u64) -> u64 {
    host::now_micros()
        .saturating_sub(started)
        .saturating_sub(read_us)
}

fn reply(r: &LocalReply) -> Action {
    let headers: Vec<(&str, &str)> = r
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    if let Err(e) = host::send_local_reply(r.status, headers, &r.body) {
        host::log(LogLevel::Error, &format!("{e}"));
    }
    Action::Pause
}

/// Apply the request header edits; a `content-length` that cannot be dropped (the body may be
/// rewritten) is an error, anything else a warning.
fn apply_request_edits(edits: &HeaderEdits) -> Result<(), String> {
    let mut failed = Ok(());
    for name in &edits.remove {
        if let Err(e) = host::remove_request_header(name) {
            let why = format!("cannot drop {name}: {e}");
            if *name == "content-length" {
                failed = Err(why);
            } else {
                host::log(LogLevel::Warn, &why);
            }
        }
    }
    failed
}

fn apply_response_edits(edits: &HeaderEdits) {
    for name in &edits.remove {
        if let Err(e) = host::remove_response_header(name) {
            host::log(LogLevel::Warn, &format!("cannot drop {name}: {e}"));
        }
    }
    for (name, value) in &edits.set {
        if let Err(e) = host::set_response_header(name, value) {
            host::log(LogLevel::Warn, &format!("{e}"));
        }
    }
}

/// Stats and a log line for a decision; `elapsed_us`: the engine time of the call that made it,
/// added to the scan histograms when `histogram` (streams record theirs per chunk).
fn record(active: &Active, policy: &Policy, r: &Record, elapsed_us: u64, histogram: bool) {
    let metrics = active.metrics_of(policy);
    let decision = r.decision;
    let id = match r.direction {
        Direction::Request => {
            metrics.count_decision(decision);
            metrics.scan_us
        }
        Direction::Response => {
            metrics.count_output_decision(decision);
            metrics.output_scan_us
        }
    };
    if let (true, true, Some(id)) = (r.scanned, histogram, id) {
        host::record(id, elapsed_us);
    }
    if let Some(counts) = r.escalation {
        metrics.count_escalation(counts);
    }
    let mut fired: Vec<usize> = r.findings.iter().map(|f| f.guard_index).collect();
    fired.sort_unstable();
    fired.dedup();
    for g in &fired {
        metrics.count_guard(*g, decision);
    }
    let scan_us = if r.scanned { elapsed_us } else { 0 };
    if r.direction == Direction::Request && r.policy_refused.is_some() {
        if let Some(id) = metrics.policy_refused {
            host::increment(id);
        }
    }
    if let Some(line) = r.log_line(Some(scan_us)) {
        host::log(LogLevel::Info, &line);
    }
}

impl Context for GuardedRequest {
    fn on_grpc_call_response(&mut self, token_id: u32, status_code: u32, response_size: usize) {
        let Some(active) = self.active.clone() else {
            return;
        };
        let Some(at) = self.calls.iter().position(|(t, _)| *t == token_id) else {
            return;
        };
        let (_, call) = self.calls.swap_remove(at);
        let answer = if status_code == 0 {
            host::grpc_response_body(response_size)
                .map_err(|e| e.to_string())
                .and_then(|b| ClassifyResponse::decode(b.as_slice()).map_err(|e| e.to_string()))
        } else {
            Err(format!(
                "gRPC status {status_code} ({})",
                grpc_status_name(status_code)
            ))
        };
        if let Err(e) = &answer {
            host::log(LogLevel::Warn, &format!("escalation failed: {e}"));
        }
        let policy = self.policy(&active);
        let Some(step) = self.machine.escalation_answer(&policy, call, answer) else {
            return; // other calls still out
        };
        let waited = host::now_micros().saturating_sub(self.escalation_started_us);
        if let Some(id) = active.metrics_of(&policy).escalation_us {
            host::record(id, waited);
        }
        self.escalation_us = Some(waited);
        self.record_all(&active, self.escalated_scan_us);
        match step {
            Step::Reply(r) => {
                reply(&r);
            }
            _ => {
                if let Err(e) = host::resume_request() {
                    host::log(LogLevel::Error, &format!("{e}"));
                }
            }
        }
    }
}

/// What the filter reads of a request for policy selection: headers, the route's metadata
/// (`xds.route_metadata`) and the request's dynamic metadata (`metadata`), as Envoy attributes.
struct EnvoyFacts;

impl RequestFacts for EnvoyFacts {
    fn header(&self, name: &str) -> Option<String> {
        host::request_header(name).ok().flatten()
    }

    fn route_metadata(&self, namespace: &str, key: &str) -> Option<String> {
        host::property_string(&["xds", "route_metadata", "filter_metadata", namespace, key])
            .ok()
            .flatten()
    }

    fn dynamic_metadata(&self, namespace: &str, path: &[String]) -> Option<String> {
        let mut at = vec!["metadata", "filter_metadata", namespace];
        at.extend(path.iter().map(String::as_str));
        host::property_string(&at).ok().flatten()
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
            return Action::Continue;
        };
        let policy = match self.machine.select(&active.policies, &EnvoyFacts) {
            Ok(policy) => policy,
            Err(step) => {
                self.record_all(&active, 0);
                return self.carry_request(&active, step, 0);
            }
        };
        self.policy = Some(policy.clone());
        let header = |name: &str| host::request_header(name).ok().flatten();
        if policy.escalates() {
            self.trace = ["traceparent", "tracestate"]
                .into_iter()
                .filter_map(|h| Some((h.to_string(), header(h)?)))
                .collect();
        }
        let (edits, step) = self
            .machine
            .request_headers(&policy, &header, end_of_stream);
        if let Err(e) = apply_request_edits(&edits) {
            return self.fail_closed(&active, &e);
        }
        self.record_all(&active, 0);
        self.carry_request(&active, step, 0)
    }

    fn on_http_request_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        let Some(active) = self.active.clone() else {
            return Action::Continue;
        };
        let policy = self.policy(&active);
        self.body_size = body_size;
        let started = host::now_micros();
        let mut read_us = 0;
        let step = self
            .machine
            .request_body(&policy, body_size, end_of_stream, &mut || {
                timed_read(&mut read_us, || host::request_body(body_size))
            });
        let elapsed = engine_us(started, read_us);
        self.escalated_scan_us = elapsed;
        self.record_all(&active, elapsed);
        self.carry_request(&active, step, body_size)
    }

    fn on_http_request_trailers(&mut self, _num_trailers: usize) -> Action {
        let Some(active) = self.active.clone() else {
            return Action::Continue;
        };
        let policy = self.policy(&active);
        let size = self.body_size;
        let started = host::now_micros();
        let mut read_us = 0;
        let step = self.machine.request_trailers(&policy, &mut || {
            timed_read(&mut read_us, || host::request_body(size))
        });
        let elapsed = engine_us(started, read_us);
        self.escalated_scan_us = elapsed;
        self.record_all(&active, elapsed);
        self.carry_request(&active, step, size)
    }

    fn on_http_response_headers(&mut self, _num_headers: usize, end_of_stream: bool) -> Action {
        let Some(active) = self.active.clone() else {
            return Action::Continue;
        };
        let policy = self.policy(&active);
        let header = |name: &str| host::response_header(name).ok().flatten();
        let started = host::now_micros();
        let (edits, step) = self
            .machine
            .response_headers(&policy, &header, end_of_stream);
        self.record_all(&active, host::now_micros().saturating_sub(started));
        if matches!(step, Step::Reply(_)) {
            return self.carry_response(step, 0);
        }
        apply_response_edits(&edits);
        self.carry_response(step, 0)
    }

    fn on_http_response_body(&mut self, body_size: usize, end_of_stream: bool) -> Action {
        let Some(active) = self.active.clone() else {
            return Action::Continue;
        };
        let policy = self.policy(&active);
        let streamed = self.machine.body_mode() == BodyMode::Streamed;
        let started = host::now_micros();
        let mut read_us = 0;
        let step = self
            .machine
            .response_body(&policy, body_size, end_of_stream, &mut || {
                timed_read(&mut read_us, || host::response_body(body_size))
            });
        let elapsed = engine_us(started, read_us);
        if streamed {
            // Streams: the engine time of every chunk (the record comes once, at the end).
            if let Some(id) = active.metrics_of(&policy).output_scan_us {
                host::record(id, elapsed);
            }
            let records = self.machine.take_records();
            for r in &records {
                record(&active, &policy, r, elapsed, false);
            }
            self.publish(&active, &records, None);
        } else {
            self.record_all(&active, elapsed);
        }
        self.carry_response(step, body_size)
    }
}
