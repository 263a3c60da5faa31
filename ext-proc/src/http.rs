//! The HTTP side API: `GET /healthz` (liveness), `GET /readyz` (readiness), `GET /metrics` (Prometheus),
//! `POST /v1/classify` — `{"model": "injection", "text": "..."}` or
//! `{"tasks": [{"model": ..., "text": ...}, ...]}` — answering the Classify results as JSON
//! (score, flagged, windows, best matches for `similarity`), and the verdict APIs
//! ([`crate::verdict`]): `POST /v1/guardrails/{hook}`, `POST /v1/filter`.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use parapet_core::escalation::proto::Task;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::Shared;

pub fn router(shared: Arc<Shared>) -> Router {
    // Bodies up to `http_max_body_bytes`, else the largest policy's `limits.max_body_bytes`
    // (plus JSON framing) are read; past it, 413 in JSON (the verdict APIs check each policy's
    // own limit).
    let limit = shared.http_max_body.unwrap_or_else(|| {
        shared
            .policies
            .policies()
            .iter()
            .map(|p| p.limits.max_body_bytes)
            .max()
            .unwrap_or(parapet_core::config::DEFAULT_MAX_BODY_BYTES)
            .saturating_add(64 * 1024)
    });
    // Without the token: the probes (kubelet and load balancers have none) and the dashboard
    // page, which carries no data (it asks for the token and calls the API with it).
    let open = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/dashboard", get(dashboard));
    let guarded = Router::new()
        .route("/metrics", get(metrics))
        .route("/v1/classify", post(classify))
        .route("/v1/decisions", get(decisions))
        .route("/v1/decisions/summary", get(summary))
        .route("/v1/guardrails/{hook}", post(crate::verdict::guardrails))
        .route("/v1/filter", post(crate::verdict::filter))
        // The prompt filter's own path, for clients written against it.
        .route("/api/v1/filter", post(crate::verdict::filter))
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            require_token,
        ));
    open.merge(guarded)
        .layer(axum::extract::DefaultBodyLimit::max(limit))
        .with_state(shared)
}

/// With `http_token_file` set: `Authorization: Bearer <token>` or 401 (compared in constant
/// time).
async fn require_token(
    State(s): State<Arc<Shared>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let Some(want) = s.http_token.as_deref() else {
        return next.run(req).await;
    };
    let given = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let ok = {
        use subtle::ConstantTimeEq;
        given.len() == want.len() && bool::from(given.as_bytes().ct_eq(want.as_bytes()))
    };
    if ok {
        return next.run(req).await;
    }
    s.metrics.http_unauthorized.fetch_add(1, Ordering::Relaxed);
    (
        StatusCode::UNAUTHORIZED,
        [("www-authenticate", "Bearer realm=\"parapet\"")],
        Json(json!({"error": {"message": "missing or wrong bearer token (Authorization: Bearer <token>)", "type": "authentication_error"}})),
    )
        .into_response()
}

/// The dashboard: one self-contained page (no CDN, no external fonts) that polls
/// `/v1/decisions` and `/v1/decisions/summary`.
async fn dashboard() -> impl IntoResponse {
    (
        [
            ("content-type", "text/html; charset=utf-8"),
            (
                "content-security-policy",
                "default-src 'self'; script-src 'unsafe-inline' 'self'; style-src 'unsafe-inline'; img-src 'self' data:",
            ),
        ],
        include_str!("dashboard.html"),
    )
}

/// Recent decisions, newest first: `?policy=&guard=&decision=&tier=&since=&limit=` (limit
/// default 100, at most 1000). Similarity matches get the known attack's text and source.
async fn decisions(
    State(s): State<Arc<Shared>>,
    axum::extract::Query(f): axum::extract::Query<crate::decisions::Filter>,
) -> Json<Value> {
    let limit = f.limit.unwrap_or(100).min(1000);
    let mut entries = serde_json::to_value(s.decisions.recent(&f, limit)).unwrap_or_default();
    if let (Some(h), Some(list)) = (s.heavy.as_deref(), entries.as_array_mut()) {
        for e in list {
            let matches = e
                .get_mut("record")
                .and_then(|r| r.get_mut("matches"))
                .and_then(Value::as_array_mut);
            if let Some(ms) = matches {
                for m in ms {
                    let row = m["id"].as_u64().and_then(|id| h.attacks.row(id as u32));
                    if let Some((text, source)) = row {
                        m["text"] = json!(text);
                        m["source"] = json!(source);
                    }
                }
            }
        }
    }
    Json(json!({"decisions": entries}))
}

/// Aggregates of the decision window.
async fn summary(State(s): State<Arc<Shared>>) -> Json<Value> {
    Json(s.decisions.summary())
}

/// Liveness: the process runs and answers (also while it drains).
async fn healthz() -> impl IntoResponse {
    (StatusCode::OK, "ok\n")
}

/// Readiness: models loaded (the service only listens after loading), not saturated, not
/// shutting down.
async fn readyz(State(s): State<Arc<Shared>>) -> impl IntoResponse {
    match s.not_ready.load(Ordering::Relaxed) {
        0 => (StatusCode::OK, "ready\n"),
        crate::NOT_READY_SATURATED => (StatusCode::SERVICE_UNAVAILABLE, "saturated\n"),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n"),
    }
}

async fn metrics(State(s): State<Arc<Shared>>) -> impl IntoResponse {
    let mut body = s.metrics.render(s.heavy.as_deref());
    body.push_str(&format!(
        "# TYPE parapet_ext_proc_inflight gauge\nparapet_ext_proc_inflight {}\n\
         # TYPE parapet_ext_proc_load gauge\nparapet_ext_proc_load {:.3}\n\
         # TYPE parapet_ext_proc_ready gauge\nparapet_ext_proc_ready {}\n",
        s.inflight(),
        s.load_fraction(),
        u8::from(s.ready())
    ));
    ([("content-type", "text/plain; version=0.0.4")], body)
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ClassifyBody {
    One { model: String, text: String },
    Many { tasks: Vec<TaskJson> },
}

#[derive(Deserialize)]
struct TaskJson {
    model: String,
    text: String,
}

fn error(status: StatusCode, message: &str) -> (StatusCode, Json<Value>) {
    (
        status,
        Json(json!({"error": {"message": message, "type": "invalid_request_error"}})),
    )
}

async fn classify(
    State(s): State<Arc<Shared>>,
    body: Result<Json<ClassifyBody>, axum::extract::rejection::JsonRejection>,
) -> (StatusCode, Json<Value>) {
    let body = match body {
        Ok(Json(body)) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body larger than this service reads (http_max_body_bytes)",
            )
        }
        Err(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "expected {\"model\", \"text\"} or {\"tasks\": [{\"model\", \"text\"}]}",
            )
        }
    };
    let _permit = match s.admit() {
        Ok(p) => p,
        Err(st) => return error(StatusCode::SERVICE_UNAVAILABLE, st.message()),
    };
    if s.heavy.is_none() {
        return error(StatusCode::SERVICE_UNAVAILABLE, "heavy tier not configured");
    }
    let tasks: Vec<Task> = match body {
        ClassifyBody::One { model, text } => vec![Task { model, text }],
        ClassifyBody::Many { tasks } => tasks
            .into_iter()
            .map(|t| Task {
                model: t.model,
                text: t.text,
            })
            .collect(),
    };
    if tasks.len() > crate::classify::MAX_TASKS {
        return error(StatusCode::BAD_REQUEST, "too many tasks");
    }
    let results = crate::classify::score_tasks(&s, tasks).await;
    let results: Vec<Value> = results
        .into_iter()
        .map(|r| {
            json!({
                "score": r.score,
                "flagged": r.flagged,
                "windows": r.windows,
                "matches": r.matches.iter().map(|m| json!({"id": m.id, "score": m.score, "text": m.text, "source": m.source})).collect::<Vec<_>>(),
                "error": (!r.error.is_empty()).then_some(r.error),
            })
        })
        .collect();
    (StatusCode::OK, Json(json!({ "results": results })))
}
