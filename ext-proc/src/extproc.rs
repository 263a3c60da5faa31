//! Envoy's `ext_proc` v3 `ExternalProcessor`: the whole cascade — rules, tier-2 models and the
//! heavy tier in-process — for hosts that cannot load the wasm filter, with the same engine and
//! policy schema.
//!
//! One gRPC stream is one HTTP exchange, driven through the core's exchange machine
//! ([`GuardedExchange`]) exactly as the wasm filter drives it; this file only translates its
//! steps into ext_proc messages. Envoy's filter config (envoy/ext_proc.yaml) sends request
//! headers, the request body `BUFFERED`, response headers, and the response body `STREAMED`,
//! with `allow_mode_override`:
//!
//! - header edits → `HeaderMutation`; `Reply` → `ImmediateResponse`;
//! - request body (whole, on a blocking thread): `Replace` → body mutation; `Escalate` → each
//!   Classify call answered in-process within `escalation.timeout_ms`, the answers handed back
//!   to the machine (a mask decided before the escalation goes out with the final answer);
//! - response headers: the machine's body mode → `mode_override` (`BUFFERED` for a guarded JSON
//!   answer, `STREAMED` for SSE, else `NONE`);
//! - response body: `Replace` → body mutation (the buffered rewrite, or what the stream guard
//!   releases for this chunk).

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use envoy_types::pb::envoy::config::core::v3::{HeaderValue, HeaderValueOption};
use envoy_types::pb::envoy::extensions::filters::http::ext_proc::v3::{
    processing_mode::{BodySendMode, HeaderSendMode},
    ProcessingMode,
};
use envoy_types::pb::envoy::r#type::v3::HttpStatus;
use envoy_types::pb::envoy::service::ext_proc::v3::{
    body_mutation::Mutation, external_processor_server::ExternalProcessor, processing_request,
    processing_response, BodyMutation, BodyResponse, CommonResponse, HeaderMutation,
    HeadersResponse, HttpHeaders, ImmediateResponse, ProcessingRequest, ProcessingResponse,
    TrailersResponse,
};
use envoy_types::pb::google::protobuf::{value::Kind, Struct};
use parapet_core::decision_log::DecisionLog;
use parapet_core::engine::Decision;
use parapet_core::exchange::{
    BodyMode, Direction, GuardedExchange, HeaderEdits, LocalReply, Record, Step,
};
use parapet_core::policies::RequestFacts;
use parapet_core::Policy;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::Stream;
use tonic::{Request, Response, Status, Streaming};
use tracing::Instrument as _;

use crate::Shared;

pub struct ExtProcService {
    pub shared: Arc<Shared>,
}

type ProcessStream = Pin<Box<dyn Stream<Item = Result<ProcessingResponse, Status>> + Send>>;

#[tonic::async_trait]
impl ExternalProcessor for ExtProcService {
    type ProcessStream = ProcessStream;

    async fn process(
        &self,
        request: Request<Streaming<ProcessingRequest>>,
    ) -> Result<Response<Self::ProcessStream>, Status> {
        let permit = self.shared.admit()?;
        // One span per exchange, a child of Envoy's request span (its context comes with the
        // stream's metadata); the decision is recorded on it.
        let span = tracing::info_span!(
            "ext_proc",
            otel.kind = "server",
            parapet.decision = tracing::field::Empty,
            parapet.policy = tracing::field::Empty,
            parapet.guards = tracing::field::Empty,
            parapet.kinds = tracing::field::Empty,
            parapet.tier = tracing::field::Empty,
            parapet.scan_us = tracing::field::Empty,
            parapet.escalation_us = tracing::field::Empty,
            parapet.output_decision = tracing::field::Empty,
        );
        crate::telemetry::join(&span, request.metadata());
        let mut inbound = request.into_inner();
        let (tx, rx) = mpsc::channel(8);
        let shared = self.shared.clone();
        let exchange_span = span.clone();
        tokio::spawn(
            async move {
                let _permit = permit;
                let mut exchange = HttpExchange::new(shared, exchange_span);
                loop {
                    let msg = match inbound.message().await {
                        Ok(Some(m)) => m,
                        // Envoy closed the stream (exchange over or reset).
                        Ok(None) | Err(_) => break,
                    };
                    let Some(req) = msg.request.clone() else {
                        continue;
                    };
                    let resp = exchange.handle(req, &msg).await;
                    if tx.send(Ok(resp)).await.is_err() {
                        break;
                    }
                }
            }
            .instrument(span),
        );
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

/// One HTTP exchange's state.
struct HttpExchange {
    shared: Arc<Shared>,
    machine: GuardedExchange,
    /// The policy the machine chose (the set's default until the request headers).
    policy: Arc<Policy>,
    /// This exchange's decisions, sent to Envoy as dynamic metadata (namespace `parapet`).
    log: DecisionLog,
    /// New decisions not yet sent.
    unsent: bool,
    /// Engine and heavy-tier time of the decision being recorded.
    scan_us: Option<u64>,
    escalation_us: Option<u64>,
    /// The exchange's span (decision fields recorded on it).
    span: tracing::Span,
}

impl HttpExchange {
    fn new(shared: Arc<Shared>, span: tracing::Span) -> Self {
        let policy = shared.policies.default_policy_ref().clone();
        HttpExchange {
            shared,
            machine: GuardedExchange::new(),
            policy,
            log: DecisionLog::new(),
            unsent: false,
            scan_us: None,
            escalation_us: None,
            span,
        }
    }

    /// One message's answer, carrying the decision record as dynamic metadata when a decision
    /// was made (Envoy merges it into namespace `parapet`: access logs, tracing, the access-log
    /// service).
    async fn handle(
        &mut self,
        req: processing_request::Request,
        msg: &ProcessingRequest,
    ) -> ProcessingResponse {
        let phase = match &req {
            processing_request::Request::RequestHeaders(_) => "request_headers",
            processing_request::Request::RequestBody(_) => "request_body",
            processing_request::Request::RequestTrailers(_) => "request_trailers",
            processing_request::Request::ResponseHeaders(_) => "response_headers",
            processing_request::Request::ResponseBody(_) => "response_body",
            processing_request::Request::ResponseTrailers(_) => "response_trailers",
        };
        let mut resp = self
            .step(req, msg)
            .instrument(tracing::info_span!("ext_proc.phase", phase))
            .await;
        if std::mem::take(&mut self.unsent) && self.policy.observability.record {
            resp.dynamic_metadata = Some(Struct {
                fields: [("parapet".to_string(), to_proto_value(&self.log.to_json()))]
                    .into_iter()
                    .collect(),
            });
        }
        resp
    }

    async fn step(
        &mut self,
        req: processing_request::Request,
        msg: &ProcessingRequest,
    ) -> ProcessingResponse {
        use processing_request::Request as R;
        use processing_response::Response as P;
        if let R::RequestHeaders(h) = &req {
            let facts = ExtProcFacts { headers: h, msg };
            match self.machine.select(&self.shared.policies, &facts) {
                Ok(policy) => self.policy = policy,
                Err(step) => {
                    self.record_all();
                    return match step {
                        Step::Reply(r) => immediate(&r),
                        _ => headers_response(true, HeaderMutation::default()),
                    };
                }
            }
        }
        let policy = self.policy.clone();
        match req {
            R::RequestHeaders(h) => {
                let header = |name: &str| header(&h, name);
                let (edits, step) = self
                    .machine
                    .request_headers(&policy, &header, h.end_of_stream);
                self.record_all();
                match step {
                    Step::Reply(r) => immediate(&r),
                    // Decided at the headers and let through (`skipped`: an upgraded connection,
                    // a declared body over the limit): nothing in the body is read, so Envoy
                    // must not hold it for us — a WebSocket's frames never end.
                    _ if self.machine.decision().is_some() => {
                        let mut r = headers_response(true, mutation(&edits));
                        r.mode_override = Some(ProcessingMode {
                            request_body_mode: BodySendMode::None as i32,
                            request_trailer_mode: HeaderSendMode::Skip as i32,
                            ..ProcessingMode::default()
                        });
                        r
                    }
                    _ => headers_response(true, mutation(&edits)),
                }
            }
            R::RequestBody(b) => {
                // BUFFERED (envoy/ext_proc.yaml): one message holds the whole body, even when
                // trailers follow (then `end_of_stream` is false). A second body message can
                // only come from a misconfigured STREAMED request mode: refused.
                match self.machine.decision() {
                    Some(Decision::Skipped) => {
                        return respond(P::RequestBody(BodyResponse::default()))
                    }
                    Some(_) => {
                        tracing::error!(
                            "request body after the verdict: set request_body_mode: BUFFERED in Envoy's ext_proc filter"
                        );
                        let step = self
                            .machine
                            .fail_closed(&policy, "request body after the verdict");
                        self.record_all();
                        return match step {
                            Step::Reply(r) => immediate(&r),
                            _ => respond(P::RequestBody(BodyResponse::default())),
                        };
                    }
                    None => {}
                }
                self.request_body(b.body).await
            }
            R::RequestTrailers(_) => respond(P::RequestTrailers(TrailersResponse::default())),
            R::ResponseHeaders(h) => {
                let header = |name: &str| header(&h, name);
                let (edits, step) =
                    self.machine
                        .response_headers(&policy, &header, h.end_of_stream);
                self.record_all();
                if let Step::Reply(r) = step {
                    return immediate(&r);
                }
                let body_mode = match self.machine.body_mode() {
                    BodyMode::Pass => BodySendMode::None,
                    BodyMode::Buffered => BodySendMode::Buffered,
                    BodyMode::Streamed => BodySendMode::Streamed,
                };
                let mut r = headers_response(false, mutation(&edits));
                r.mode_override = Some(ProcessingMode {
                    request_header_mode: HeaderSendMode::Skip as i32,
                    response_header_mode: HeaderSendMode::Skip as i32,
                    request_body_mode: BodySendMode::None as i32,
                    response_body_mode: body_mode as i32,
                    request_trailer_mode: HeaderSendMode::Skip as i32,
                    response_trailer_mode: HeaderSendMode::Skip as i32,
                });
                r
            }
            R::ResponseBody(b) => {
                let size = b.body.len();
                let mut chunk = Some(b.body);
                let started = std::time::Instant::now();
                let step = self
                    .machine
                    .response_body(&policy, size, b.end_of_stream, &mut || {
                        Ok(chunk.take().unwrap_or_default())
                    });
                self.scan_us = Some(started.elapsed().as_micros() as u64);
                self.record_all();
                let replaced = match step {
                    Step::Replace(body) => Some(body),
                    // Buffer: only with BUFFERED overridden away; hold nothing back ourselves.
                    _ => None,
                };
                respond(P::ResponseBody(BodyResponse {
                    response: Some(CommonResponse {
                        body_mutation: replaced.map(|b| BodyMutation {
                            mutation: Some(Mutation::Body(b)),
                        }),
                        ..CommonResponse::default()
                    }),
                }))
            }
            // Not requested (trailer modes are SKIP), answered if a config sends them anyway.
            R::ResponseTrailers(_) => respond(P::ResponseTrailers(TrailersResponse::default())),
        }
    }

    /// The whole request body: the machine decides on a blocking thread (the guards are CPU
    /// work); escalations are answered in-process.
    async fn request_body(&mut self, body: Vec<u8>) -> ProcessingResponse {
        let policy = self.policy.clone();
        let mut machine = std::mem::take(&mut self.machine);
        let evaluated = tokio::task::spawn_blocking(move || {
            let size = body.len();
            let mut body = Some(body);
            let started = std::time::Instant::now();
            let step = machine.request_body(&policy, size, true, &mut || {
                Ok(body.take().unwrap_or_default())
            });
            (machine, step, started.elapsed())
        })
        .await;
        let step = match evaluated {
            Ok((machine, step, took)) => {
                self.machine = machine;
                self.scan_us = Some(took.as_micros() as u64);
                step
            }
            Err(e) => {
                tracing::error!("evaluation task failed: {e}");
                self.machine
                    .fail_closed(&self.policy, "evaluation task failed")
            }
        };
        let (step, write) = match step {
            Step::Escalate { write, calls } => {
                // The decision so far waits for the heavy tier; its record comes with it.
                let started = std::time::Instant::now();
                let tasks: usize = calls.iter().map(|c| c.tasks.len()).sum();
                let step = self
                    .escalate(calls)
                    .instrument(tracing::info_span!("escalation", tasks))
                    .await;
                self.escalation_us = Some(started.elapsed().as_micros() as u64);
                (step, write)
            }
            step => (step, None),
        };
        self.record_all();
        use processing_response::Response as P;
        let replace = |body: Vec<u8>| {
            respond(P::RequestBody(BodyResponse {
                response: Some(CommonResponse {
                    body_mutation: Some(BodyMutation {
                        mutation: Some(Mutation::Body(body)),
                    }),
                    ..CommonResponse::default()
                }),
            }))
        };
        match step {
            Step::Reply(r) => immediate(&r),
            Step::Replace(body) => replace(body),
            // After an escalation: the mask decided before it, if any.
            _ => match write {
                Some(body) => replace(body),
                None => respond(P::RequestBody(BodyResponse::default())),
            },
        }
    }

    /// Answer each Classify call in-process (concurrently, each within the deadline) and hand
    /// the answers to the machine; its last answer is the decision.
    async fn escalate(
        &mut self,
        calls: Vec<parapet_core::escalation::proto::ClassifyRequest>,
    ) -> Step {
        let deadline = Duration::from_millis(u64::from(self.policy.escalation.timeout_ms));
        let mut set = tokio::task::JoinSet::new();
        for (i, call) in calls.into_iter().enumerate() {
            let shared = self.shared.clone();
            set.spawn(
                async move {
                    (
                        i,
                        crate::classify::answer_in_process(&shared, call, deadline).await,
                    )
                }
                .in_current_span(),
            );
        }
        let policy = self.policy.clone();
        let mut decided = None;
        while let Some(joined) = set.join_next().await {
            let (i, answer) = match joined {
                Ok(x) => x,
                Err(e) => {
                    tracing::error!("escalation task failed: {e}");
                    continue;
                }
            };
            if let Some(step) = self.machine.escalation_answer(&policy, i, answer) {
                decided = Some(step);
            }
        }
        decided.unwrap_or_else(|| {
            self.machine
                .fail_closed(&policy, "escalation answers missing")
        })
    }

    /// Count and log the machine's new decisions and add them to the decision record.
    fn record_all(&mut self) {
        let (scan_us, escalation_us) = (self.scan_us.take(), self.escalation_us.take());
        for r in self.machine.take_records() {
            record(&self.shared, &r);
            self.log.add(&r, scan_us, escalation_us);
            self.unsent = true;
        }
        if self.unsent {
            for (tag, value) in self.log.span_tags() {
                self.span.record(tag, value.as_str());
            }
        }
    }
}

fn record(shared: &Shared, r: &Record) {
    let output = r.direction == Direction::Response;
    shared.metrics.decision(r.decision, output);
    if !output {
        shared.metrics.policy_decision(&r.policy, r.decision);
        if r.policy_refused.is_some() {
            shared
                .metrics
                .policy_refused
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
    if let Some(c) = r.escalation {
        use std::sync::atomic::Ordering::Relaxed;
        shared
            .metrics
            .failed_open
            .fetch_add(u64::from(c.failed_open), Relaxed);
        shared
            .metrics
            .failed_closed
            .fetch_add(u64::from(c.failed_closed), Relaxed);
    }
    if let Some(line) = r.log_line(None) {
        tracing::info!("{line}");
    }
}

fn mutation(edits: &HeaderEdits) -> HeaderMutation {
    HeaderMutation {
        remove_headers: edits.remove.iter().map(|h| h.to_string()).collect(),
        set_headers: edits.set.iter().map(|(k, v)| set_header(k, v)).collect(),
    }
}

fn immediate(reply: &LocalReply) -> ProcessingResponse {
    let mut headers = HeaderMutation::default();
    for (k, v) in &reply.headers {
        headers.set_headers.push(set_header(k, v));
    }
    respond(processing_response::Response::ImmediateResponse(
        ImmediateResponse {
            status: Some(HttpStatus {
                code: i32::from(reply.status),
            }),
            headers: Some(headers),
            body: reply.body.clone(),
            details: format!("parapet_{}", reply.decision.as_str()),
            ..ImmediateResponse::default()
        },
    ))
}

fn respond(r: processing_response::Response) -> ProcessingResponse {
    ProcessingResponse {
        response: Some(r),
        ..ProcessingResponse::default()
    }
}

fn headers_response(request: bool, mutation: HeaderMutation) -> ProcessingResponse {
    let h = HeadersResponse {
        response: Some(CommonResponse {
            header_mutation: Some(mutation),
            ..CommonResponse::default()
        }),
    };
    respond(if request {
        processing_response::Response::RequestHeaders(h)
    } else {
        processing_response::Response::ResponseHeaders(h)
    })
}

fn set_header(key: &str, value: &str) -> HeaderValueOption {
    HeaderValueOption {
        header: Some(HeaderValue {
            key: key.to_string(),
            raw_value: value.as_bytes().to_vec(),
            ..HeaderValue::default()
        }),
        ..HeaderValueOption::default()
    }
}

/// What ext_proc mode reads for policy selection: the request headers, the route's policy that
/// Envoy sends as a request attribute (`request_attributes` in the ext_proc filter config), and
/// the dynamic metadata namespaces it forwards (`metadata_options.forwarding_namespaces`).
struct ExtProcFacts<'a> {
    headers: &'a HttpHeaders,
    msg: &'a ProcessingRequest,
}

impl RequestFacts for ExtProcFacts<'_> {
    fn header(&self, name: &str) -> Option<String> {
        header(self.headers, name)
    }

    fn route_metadata(&self, namespace: &str, key: &str) -> Option<String> {
        // Envoy sends a message-valued attribute (`xds.route_metadata`) as protobuf text, so
        // the ext_proc filter asks for the one value as a CEL expression,
        // `xds.route_metadata.filter_metadata['parapet']['policy']` (envoy/ext_proc.yaml), and
        // the attribute struct is keyed by that expression.
        let wanted = format!("xds.route_metadata.filter_metadata['{namespace}']['{key}']");
        self.msg.attributes.values().find_map(|attrs| {
            attrs.fields.iter().find_map(|(expr, value)| {
                let expr: String = expr
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .map(|c| if c == '"' { '\'' } else { c })
                    .collect();
                if expr != wanted {
                    return None;
                }
                struct_path(value, &[])
            })
        })
    }

    fn dynamic_metadata(&self, namespace: &str, path: &[String]) -> Option<String> {
        let md = self.msg.metadata_context.as_ref()?;
        let ns = md.filter_metadata.get(namespace)?;
        let first = ns.fields.get(path.first()?)?;
        let rest: Vec<&str> = path[1..].iter().map(String::as_str).collect();
        struct_path(first, &rest)
    }
}

/// A JSON value as a protobuf `Value` (dynamic metadata).
fn to_proto_value(v: &serde_json::Value) -> envoy_types::pb::google::protobuf::Value {
    use serde_json::Value as J;
    let kind = match v {
        J::Null => Kind::NullValue(0),
        J::Bool(b) => Kind::BoolValue(*b),
        J::Number(n) => Kind::NumberValue(n.as_f64().unwrap_or(0.0)),
        J::String(s) => Kind::StringValue(s.clone()),
        J::Array(items) => Kind::ListValue(envoy_types::pb::google::protobuf::ListValue {
            values: items.iter().map(to_proto_value).collect(),
        }),
        J::Object(map) => Kind::StructValue(Struct {
            fields: map
                .iter()
                .map(|(k, v)| (k.clone(), to_proto_value(v)))
                .collect(),
        }),
    };
    envoy_types::pb::google::protobuf::Value { kind: Some(kind) }
}

/// A string (or number, or bool, as text) at `path` inside a protobuf `Value`.
fn struct_path(value: &envoy_types::pb::google::protobuf::Value, path: &[&str]) -> Option<String> {
    let mut at = value;
    for key in path {
        let Some(Kind::StructValue(s)) = &at.kind else {
            return None;
        };
        at = s.fields.get(*key)?;
    }
    match &at.kind {
        Some(Kind::StringValue(s)) => Some(s.clone()),
        Some(Kind::NumberValue(n)) => Some(n.to_string()),
        Some(Kind::BoolValue(b)) => Some(b.to_string()),
        _ => None,
    }
}

/// A header's value (Envoy sends `raw_value`; older versions `value`).
fn header(h: &HttpHeaders, name: &str) -> Option<String> {
    h.headers.as_ref()?.headers.iter().find_map(|hv| {
        hv.key.eq_ignore_ascii_case(name).then(|| {
            if hv.raw_value.is_empty() {
                hv.value.clone()
            } else {
                String::from_utf8_lossy(&hv.raw_value).into_owned()
            }
        })
    })
}
