//! The Classify service (`proto/parapet/classify/v1/classify.proto`): what the wasm filter
//! calls for its uncertain texts, and the in-process path ext_proc mode uses for the same work.

use std::sync::Arc;
use std::time::{Duration, Instant};

use parapet_core::escalation::proto::{ClassifyRequest, ClassifyResponse, Task, TaskResult};
use parapet_core::escalation::HeavyModel;
use tokio::task::JoinSet;
use tonic::{Request, Response, Status};
use tracing::Instrument as _;

use crate::heavy::{ClassifyError, HeavyTier};
use crate::Shared;

/// Generated from build.rs (tonic-build, manual service over the core's prost messages).
pub mod pb {
    include!(concat!(
        env!("OUT_DIR"),
        "/parapet.classify.v1.Classifier.rs"
    ));
}

pub use parapet_core::escalation::MAX_TASKS;

/// Score `tasks` concurrently (their windows batch together). Each task that cannot be scored
/// gets a result with `error` set; the order is kept.
pub async fn score_tasks(shared: &Shared, tasks: Vec<Task>) -> Vec<TaskResult> {
    let Some(heavy) = shared.heavy.clone() else {
        return tasks
            .iter()
            .map(|_| error_result("heavy tier not configured on this service"))
            .collect();
    };
    let mut set = JoinSet::new();
    for (i, t) in tasks.into_iter().enumerate() {
        let heavy: Arc<HeavyTier> = heavy.clone();
        let metrics = shared.metrics.clone();
        let span = tracing::info_span!("heavy.inference", model = %t.model, chars = t.text.len());
        set.spawn(
            async move {
                let Some(model) = HeavyModel::parse(&t.model) else {
                    return (i, error_result(&format!("unknown model `{}`", t.model)));
                };
                let started = Instant::now();
                let r = heavy.classify(model, &t.text).await;
                let us = started.elapsed().as_micros() as u64;
                match r {
                    Ok(r) => {
                        metrics.task(model, if r.flagged { 0 } else { 1 }, us);
                        (i, r)
                    }
                    Err(e) => {
                        metrics.task(model, 2, us);
                        if !matches!(e, ClassifyError::Submit(_)) {
                            tracing::warn!("classify {}: {e}", model.as_str());
                        }
                        (i, error_result(&e.to_string()))
                    }
                }
            }
            .instrument(span),
        );
    }
    let mut out: Vec<Option<TaskResult>> = vec![None; set.len()];
    while let Some(done) = set.join_next().await {
        if let Ok((i, r)) = done {
            if let Some(slot) = out.get_mut(i) {
                *slot = Some(r);
            }
        }
    }
    out.into_iter()
        .map(|r| r.unwrap_or_else(|| error_result("task failed")))
        .collect()
}

fn error_result(message: &str) -> TaskResult {
    TaskResult {
        error: message.to_string(),
        ..TaskResult::default()
    }
}

/// ext_proc mode: answer one of the exchange machine's Classify calls in-process, within
/// `deadline` (past it, the call has failed and the guards' `on_failure` applies).
pub async fn answer_in_process(
    shared: &Shared,
    request: ClassifyRequest,
    deadline: Duration,
) -> Result<ClassifyResponse, String> {
    tracing::debug!(
        request_id = request.request_id,
        tasks = request.tasks.len(),
        "settling escalations"
    );
    match tokio::time::timeout(deadline, score_tasks(shared, request.tasks)).await {
        Ok(results) => Ok(ClassifyResponse { results }),
        Err(_) => Err(format!(
            "heavy tier slower than {} ms",
            deadline.as_millis()
        )),
    }
}

pub struct ClassifierService {
    pub shared: Arc<Shared>,
}

#[tonic::async_trait]
impl pb::classifier_server::Classifier for ClassifierService {
    async fn classify(
        &self,
        request: Request<ClassifyRequest>,
    ) -> Result<Response<ClassifyResponse>, Status> {
        let span = tracing::info_span!(
            "classify",
            otel.kind = "server",
            tasks = tracing::field::Empty
        );
        crate::telemetry::join(&span, request.metadata());
        let _permit = self.shared.admit()?;
        let req = request.into_inner();
        span.record("tasks", req.tasks.len());
        if req.tasks.len() > MAX_TASKS {
            return Err(Status::invalid_argument(format!(
                "{} tasks; at most {MAX_TASKS} per call",
                req.tasks.len()
            )));
        }
        if self.shared.heavy.is_none() {
            return Err(Status::failed_precondition(
                "heavy tier not configured on this service (config `heavy:`)",
            ));
        }
        let results = score_tasks(&self.shared, req.tasks).instrument(span).await;
        if results
            .iter()
            .any(|r| r.error.starts_with("heavy tier overloaded"))
        {
            self.shared
                .metrics
                .overloaded
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Err(Status::resource_exhausted(
                "heavy tier overloaded: batch queue full",
            ));
        }
        Ok(Response::new(ClassifyResponse { results }))
    }
}
