//! The verdict APIs on the HTTP port, for gateways and apps that ask Parapet for a decision
//! instead of routing traffic through Envoy (the same engine, policies and heavy tier):
//!
//! - `POST /v1/guardrails/{hook}[?policy=NAME]`: the gateway verdict contract —
//!   `200 {"verdict": true}` / `200 {"verdict": false, "message": "<guard>: <reason>"}`, a
//!   masking guard's rewritten `body`; 4xx for input the hook cannot read; 5xx only for
//!   Parapet's own failures (overload, a failed evaluation).
//! - `POST /v1/filter[?policy=NAME]`: `{"messages": [...]}` → `{"filtered_messages": [...]}`,
//!   one entry per message with its action, findings and the known-attack database's best
//!   matches (when the heavy tier is loaded).
//!
//! What each call means is decided in `parapet_core::verdict_api`; this file parses HTTP, picks
//! the policy, runs the evaluation off the async threads, and settles escalations in-process.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use parapet_core::escalation::{self, proto::Task};
use parapet_core::policies::RequestFacts;
use parapet_core::verdict_api::{self, ApiError, HookCall};
use parapet_core::vocab::Hook;
use parapet_core::Policy;
use serde::Deserialize;
use serde_json::{json, Value};
use tracing::Instrument as _;

use crate::Shared;

/// Most messages one `/v1/filter` call may carry.
pub const MAX_FILTER_MESSAGES: usize = 256;

#[derive(Deserialize, Default)]
pub struct PolicyQuery {
    policy: Option<String>,
}

type Reply = (StatusCode, Json<Value>);

fn api_error(e: &ApiError) -> Reply {
    (
        StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
        Json(e.body()),
    )
}

fn server_error(status: StatusCode, message: &str) -> Reply {
    (
        status,
        Json(
            json!({"error": {"message": message, "type": "server_error", "code": "guardrail_error"}}),
        ),
    )
}

/// The API request's headers as selection facts (no route: the API has none).
struct Headers<'a>(&'a HeaderMap);

impl RequestFacts for Headers<'_> {
    fn header(&self, name: &str) -> Option<String> {
        self.0.get(name)?.to_str().ok().map(str::to_string)
    }
    fn route_metadata(&self, _: &str, _: &str) -> Option<String> {
        None
    }
    fn dynamic_metadata(&self, _: &str, _: &[String]) -> Option<String> {
        None
    }
}

/// `?policy=NAME` (any policy of the set), else the set's selection from the headers (tenant,
/// allow-listed `x-parapet-policy`), else the default.
fn choose(s: &Shared, q: &PolicyQuery, headers: &HeaderMap) -> Result<Arc<Policy>, Reply> {
    if let Some(name) = &q.policy {
        return s.policies.get(name).cloned().ok_or_else(|| {
            api_error(&ApiError {
                status: 400,
                message: format!(
                    "policy `{name}` is not configured; this service has {}",
                    s.policies.names().collect::<Vec<_>>().join(", ")
                ),
            })
        });
    }
    match s.policies.select(&Headers(headers)) {
        Ok(chosen) => Ok(chosen.policy),
        Err(e) => Err(server_error(StatusCode::INTERNAL_SERVER_ERROR, &e.reason)),
    }
}

/// The body and the policy a call is answered with.
fn prepare(
    s: &Shared,
    q: &PolicyQuery,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<(Bytes, Arc<Policy>), Reply> {
    let body = body.map_err(|e| {
        api_error(&ApiError {
            status: e.status().as_u16(),
            message: format!("cannot read the request body: {e}"),
        })
    })?;
    Ok((body, choose(s, q, headers)?))
}

/// Evaluate on a blocking thread (the guards are CPU work), then settle escalations with the
/// in-process heavy tier within the policy's `escalation.timeout_ms`.
async fn evaluate(
    s: &Arc<Shared>,
    policy: &Arc<Policy>,
    hook: Hook,
    body: Vec<u8>,
) -> Result<HookCall, Reply> {
    let p = policy.clone();
    let mut call = tokio::task::spawn_blocking(move || verdict_api::evaluate_hook(&p, hook, &body))
        .await
        .map_err(|e| {
            tracing::error!("verdict evaluation failed: {e}");
            server_error(StatusCode::INTERNAL_SERVER_ERROR, "evaluation failed")
        })?
        .map_err(|e| api_error(&e))?;
    if !call.verdict.pending.is_empty() {
        let calls = escalation::classify_requests(&call.verdict.pending, "");
        let deadline = Duration::from_millis(u64::from(policy.escalation.timeout_ms));
        let answers = futures_join(s, &calls, deadline).await;
        call.settle(policy, &calls, answers);
    }
    Ok(call)
}

async fn futures_join(
    s: &Arc<Shared>,
    calls: &[escalation::proto::ClassifyRequest],
    deadline: Duration,
) -> Vec<Result<escalation::proto::ClassifyResponse, String>> {
    let mut set = tokio::task::JoinSet::new();
    for (i, call) in calls.iter().cloned().enumerate() {
        let s = s.clone();
        set.spawn(
            async move {
                (
                    i,
                    crate::classify::answer_in_process(&s, call, deadline).await,
                )
            }
            .in_current_span(),
        );
    }
    let mut answers: Vec<Result<_, String>> = vec![Err("no answer".into()); calls.len()];
    while let Some(joined) = set.join_next().await {
        if let Ok((i, a)) = joined {
            answers[i] = a;
        }
    }
    answers
}

/// `POST /v1/guardrails/{hook}`.
pub async fn guardrails(
    State(s): State<Arc<Shared>>,
    Path(hook): Path<String>,
    Query(q): Query<PolicyQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    let hook = match verdict_api::hook_of_path(&hook) {
        Ok(h) => h,
        Err(e) => return api_error(&e),
    };
    let (body, policy) = match prepare(&s, &q, &headers, body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let _permit = match s.admit() {
        Ok(p) => p,
        Err(st) => return server_error(StatusCode::SERVICE_UNAVAILABLE, st.message()),
    };
    let call = match evaluate(&s, &policy, hook, body.to_vec()).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    s.metrics
        .api_decision(hook.as_str(), &policy.name, call.verdict.decision);
    s.decisions.add(
        "api",
        "POST",
        &format!("/v1/guardrails/{}", hook.as_str()),
        "",
        200,
        call.record(&policy),
    );
    (StatusCode::OK, Json(call.reply(&policy)))
}

/// `POST /v1/filter`.
pub async fn filter(
    State(s): State<Arc<Shared>>,
    Query(q): Query<PolicyQuery>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Reply {
    let (body, policy) = match prepare(&s, &q, &headers, body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let messages = match verdict_api::filter_messages(&policy, &body) {
        Ok(m) => m,
        Err(e) => return api_error(&e),
    };
    if messages.len() > MAX_FILTER_MESSAGES {
        return api_error(&ApiError {
            status: 422,
            message: format!(
                "{} messages; at most {MAX_FILTER_MESSAGES} per call",
                messages.len()
            ),
        });
    }
    let _permit = match s.admit() {
        Ok(p) => p,
        Err(st) => return server_error(StatusCode::SERVICE_UNAVAILABLE, st.message()),
    };
    // The known-attack database's best matches for every message, in one heavy-tier call.
    let matches: Vec<Vec<Value>> = if s.heavy.is_some() {
        let tasks = messages
            .iter()
            .map(|m| Task {
                model: "similarity".into(),
                text: verdict_api::message_text(m),
            })
            .collect();
        crate::classify::score_tasks(&s, tasks)
            .await
            .into_iter()
            .map(|r| {
                r.matches
                    .iter()
                    .map(|m| json!({"text": m.text, "score": m.score, "source": m.source, "id": m.id}))
                    .collect()
            })
            .collect()
    } else {
        vec![Vec::new(); messages.len()]
    };
    let mut entries = Vec::with_capacity(messages.len());
    for (m, matches) in messages.iter().zip(matches) {
        let call =
            match evaluate(&s, &policy, Hook::LlmInput, verdict_api::message_request(m)).await {
                Ok(c) => c,
                // A message the guard cannot read is reported as failed, never as allowed.
                Err((status, Json(err))) => {
                    entries.push(json!({"message": m, "action": "block", "failed": true,
                                    "error": err["error"]["message"], "status": status.as_u16(),
                                    "findings": [], "matches": matches}));
                    continue;
                }
            };
        s.metrics
            .api_decision("filter", &policy.name, call.verdict.decision);
        let mut record = call.record(&policy);
        record["matches"] = matches
            .iter()
            .map(|m| json!({"id": m["id"], "score": m["score"]}))
            .collect();
        s.decisions
            .add("api", "POST", "/v1/filter", "", 200, record);
        entries.push(verdict_api::filtered_entry(&policy, m, &call, matches));
    }
    (
        StatusCode::OK,
        Json(json!({"filtered_messages": entries, "policy": &*policy.name})),
    )
}
