//! Envoy's `ext_proc` v3 `ExternalProcessor`: the whole cascade — rules, tier-2 models and the
//! heavy tier in-process — for hosts that cannot load the wasm filter, with the same engine and
//! policy schema.
//!
//! One gRPC stream is one HTTP exchange. Envoy's filter config (envoy/ext_proc.yaml) sends
//! request headers, the request body `BUFFERED`, response headers, and the response body
//! `STREAMED`, with `allow_mode_override`:
//!
//! - request headers: drop `accept-encoding` when responses are read (identity bodies only),
//!   drop `content-length` when the body may be rewritten, refuse a declared oversize body;
//! - request body (whole): evaluate; settle escalations with the heavy tier within
//!   `escalation.timeout_ms`; answer a block with an immediate response (the guard's OpenAI
//!   error, or a JSON-RPC error for MCP), a mask with the rewritten body;
//! - response headers: add the decision header; for a guarded JSON response switch the body to
//!   `BUFFERED`, for SSE keep `STREAMED` (the stream guard releases what is safe chunk by
//!   chunk), for anything else `NONE`;
//! - response body: the buffered verdict's rewrite, or the stream guard's output per chunk.

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
use parapet_core::engine::{Decision, Exchange, Verdict};
use parapet_core::escalation::{FailureMode, Outcome};
use parapet_core::reply::Reply;
use parapet_core::stream::{self, ResponseStream};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::Stream;
use tonic::{Request, Response, Status, Streaming};

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
        let mut inbound = request.into_inner();
        let (tx, rx) = mpsc::channel(8);
        let shared = self.shared.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let mut exchange = HttpExchange::new(shared);
            loop {
                let msg = match inbound.message().await {
                    Ok(Some(m)) => m,
                    // Envoy closed the stream (exchange over or reset).
                    Ok(None) | Err(_) => break,
                };
                let Some(req) = msg.request else { continue };
                let resp = exchange.handle(req).await;
                if tx.send(Ok(resp)).await.is_err() {
                    break;
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Body {
    /// Not read.
    Pass,
    /// A guarded JSON response, buffered by Envoy.
    Buffered,
    /// A guarded SSE stream.
    Streaming,
}

/// One HTTP exchange's state.
struct HttpExchange {
    shared: Arc<Shared>,
    request_body: Vec<u8>,
    /// The request body was evaluated (or must not be: oversize passed as `skipped`).
    request_decided: bool,
    decision: Option<Decision>,
    exchange: Exchange,
    response: Body,
    stream: Option<Box<dyn ResponseStream>>,
}

impl HttpExchange {
    fn new(shared: Arc<Shared>) -> Self {
        HttpExchange {
            shared,
            request_body: Vec::new(),
            request_decided: false,
            decision: None,
            exchange: Exchange::default(),
            response: Body::Pass,
            stream: None,
        }
    }

    async fn handle(&mut self, req: processing_request::Request) -> ProcessingResponse {
        use processing_request::Request as R;
        use processing_response::Response as P;
        match req {
            R::RequestHeaders(h) => self.request_headers(&h),
            R::RequestBody(b) => {
                // BUFFERED (envoy/ext_proc.yaml): one message holds the whole body, even when
                // trailers follow (then `end_of_stream` is false). A second body message can
                // only come from a misconfigured STREAMED request mode: refused.
                if self.request_decided {
                    if self.decision == Some(Decision::Skipped) {
                        return respond(P::RequestBody(BodyResponse::default()));
                    }
                    // Refuse rather than forward body bytes nobody checked.
                    tracing::error!(
                        "request body after the verdict: set request_body_mode: BUFFERED in Envoy's ext_proc filter"
                    );
                    return self
                        .immediate(&parapet_core::reply::guardrail_error(), Decision::Block);
                }
                self.request_body = b.body;
                self.decide_request().await
            }
            R::RequestTrailers(_) => respond(P::RequestTrailers(TrailersResponse::default())),
            R::ResponseHeaders(h) => self.response_headers(&h),
            R::ResponseBody(b) => self.response_body(b.body, b.end_of_stream),
            // Not requested (trailer modes are SKIP), answered if a config sends them anyway.
            R::ResponseTrailers(_) => respond(P::ResponseTrailers(TrailersResponse::default())),
        }
    }

    fn request_headers(&mut self, h: &HttpHeaders) -> ProcessingResponse {
        let policy = &self.shared.policy;
        let mut mutation = HeaderMutation::default();
        if policy.reads_responses() {
            mutation.remove_headers.push("accept-encoding".into());
        }
        if policy.may_rewrite_request() {
            mutation.remove_headers.push("content-length".into());
        }
        if let Some(len) = header(h, "content-length").and_then(|v| v.trim().parse::<usize>().ok())
        {
            if len > policy.limits.max_body_bytes {
                let verdict = policy.oversize_verdict(len);
                if verdict.decision == Decision::Block {
                    return self.act(verdict);
                }
                // `on_oversize: pass`: recorded as skipped; the body is not read.
                self.record(&verdict);
                self.request_decided = true;
            }
        }
        // A request without a body has nothing to decide (no decision header, as in the filter).
        headers_response(true, mutation)
    }

    async fn decide_request(&mut self) -> ProcessingResponse {
        let shared = self.shared.clone();
        let body = std::mem::take(&mut self.request_body);
        let evaluated = tokio::task::spawn_blocking(move || {
            let v = shared.policy.evaluate_request(&body);
            (v, body)
        })
        .await;
        let (mut verdict, body) = match evaluated {
            Ok(x) => x,
            Err(e) => {
                tracing::error!("evaluation task failed: {e}");
                return self.act(Verdict {
                    reply: Some(parapet_core::reply::guardrail_error()),
                    ..Verdict::new(Decision::Block)
                });
            }
        };
        if !verdict.pending.is_empty() {
            let deadline =
                Duration::from_millis(u64::from(self.shared.policy.escalation.timeout_ms));
            let outcomes = crate::classify::settle(&self.shared, &verdict.pending, deadline).await;
            for (e, o) in verdict.pending.iter().zip(&outcomes) {
                if *o == Outcome::Failed {
                    let c = match e.on_failure {
                        FailureMode::Open => &self.shared.metrics.failed_open,
                        FailureMode::Closed => &self.shared.metrics.failed_closed,
                    };
                    c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
            verdict = self.shared.policy.resolve(verdict, &body, &outcomes);
        }
        self.act(verdict)
    }

    /// Count and log a request verdict, and keep what the response side needs.
    fn record(&mut self, verdict: &Verdict) {
        self.decision = Some(verdict.decision);
        self.shared.metrics.decision(verdict.decision, false);
        log_verdict(verdict, "decision");
    }

    fn act(&mut self, verdict: Verdict) -> ProcessingResponse {
        use processing_response::Response as P;
        let d = verdict.decision;
        self.record(&verdict);
        self.request_decided = true;
        self.exchange = verdict.exchange;
        match d {
            Decision::Block => {
                let reply = verdict
                    .reply
                    .unwrap_or_else(parapet_core::reply::default_block);
                self.immediate(&reply, d)
            }
            Decision::Mask => match verdict.body {
                Some(body) => respond(P::RequestBody(BodyResponse {
                    response: Some(CommonResponse {
                        body_mutation: Some(BodyMutation {
                            mutation: Some(Mutation::Body(body)),
                        }),
                        ..CommonResponse::default()
                    }),
                })),
                None => self.immediate(&parapet_core::reply::guardrail_error(), Decision::Block),
            },
            _ => respond(P::RequestBody(BodyResponse::default())),
        }
    }

    fn immediate(&self, reply: &Reply, d: Decision) -> ProcessingResponse {
        let mut headers = HeaderMutation::default();
        headers
            .set_headers
            .push(set_header("content-type", "application/json"));
        if let Some(h) = &self.shared.policy.decision_header {
            headers.set_headers.push(set_header(h, d.as_str()));
        }
        respond(processing_response::Response::ImmediateResponse(
            ImmediateResponse {
                status: Some(HttpStatus {
                    code: i32::from(reply.status),
                }),
                headers: Some(headers),
                body: reply.body.clone(),
                details: format!("parapet_{}", d.as_str()),
                ..ImmediateResponse::default()
            },
        ))
    }

    fn response_headers(&mut self, h: &HttpHeaders) -> ProcessingResponse {
        let policy = &self.shared.policy;
        let mut mutation = HeaderMutation::default();
        if let (Some(d), Some(name)) = (self.decision, &policy.decision_header) {
            mutation.set_headers.push(set_header(name, d.as_str()));
        }
        let reads = if self.exchange.is_mcp() {
            policy.guards_tool_results()
        } else {
            policy.guards_output()
        } || !self.exchange.restore.is_empty();
        let content_type = header(h, "content-type")
            .unwrap_or_default()
            .to_ascii_lowercase();
        let encoding = header(h, "content-encoding")
            .unwrap_or_default()
            .to_ascii_lowercase();
        let streaming = content_type.starts_with("text/event-stream");
        let json = content_type.starts_with("application/json");
        self.response = if h.end_of_stream || !reads || !(streaming || json) {
            Body::Pass
        } else if !(encoding.is_empty() || encoding == "identity") {
            self.shared.metrics.decision(Decision::Skipped, true);
            tracing::info!("output_decision=skipped reason=\"response is {encoding}-encoded\"");
            Body::Pass
        } else if streaming {
            self.stream = Some(stream::for_exchange(&self.exchange));
            Body::Streaming
        } else {
            Body::Buffered
        };
        if self.response != Body::Pass {
            mutation.remove_headers.push("content-length".into());
        }
        let body_mode = match self.response {
            Body::Pass => BodySendMode::None,
            Body::Buffered => BodySendMode::Buffered,
            Body::Streaming => BodySendMode::Streamed,
        };
        let mut r = headers_response(false, mutation);
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

    fn response_body(&mut self, chunk: Vec<u8>, end: bool) -> ProcessingResponse {
        use processing_response::Response as P;
        let policy = self.shared.policy.clone();
        let replaced = match self.response {
            Body::Pass => None,
            Body::Buffered => {
                if !end {
                    // Only with BUFFERED overridden away; hold nothing back ourselves.
                    None
                } else {
                    let verdict = policy.evaluate_response(&chunk, &self.exchange);
                    self.shared.metrics.decision(verdict.decision, true);
                    log_verdict(&verdict, "output_decision");
                    verdict.body
                }
            }
            Body::Streaming => match self.stream.as_mut() {
                None => None,
                Some(s) => {
                    let mut out = s.push(&policy, &chunk);
                    if end {
                        out.extend(s.finish(&policy));
                        self.shared.metrics.decision(s.decision(), true);
                    }
                    (out != chunk).then_some(out)
                }
            },
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

fn log_verdict(v: &Verdict, what: &str) {
    if v.decision == Decision::Allow {
        return;
    }
    let mut kinds: Vec<String> = v.findings.iter().map(|f| f.summary()).collect();
    kinds.dedup();
    tracing::info!(
        "{what}={} findings=[{}]{}",
        v.decision.as_str(),
        kinds.join(","),
        v.reason
            .as_deref()
            .map(|r| format!(" reason=\"{r}\""))
            .unwrap_or_default()
    );
}
