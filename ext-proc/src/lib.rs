//! Parapet's native service: tier 3 of the guard cascade.
//!
//! One process serves, on one gRPC port:
//! - `envoy.service.ext_proc.v3.ExternalProcessor` ([`extproc`]): the whole pipeline (rules,
//!   tier-2 models, heavy tier) for Envoy's `ext_proc` filter, for hosts that cannot load wasm;
//! - `parapet.classify.v1.Classifier` ([`classify`]): what the wasm filter escalates its
//!   uncertain texts to;
//! - `envoy.service.accesslog.v3.AccessLogService` ([`decisions`]): Envoy's access logs, whose
//!   Parapet decision records feed the dashboard;
//! - `grpc.health.v1.Health`.
//!
//! and, optionally, a small HTTP API ([`http`]): `/healthz`, `/metrics`, `POST /v1/classify`.
//!
//! Overload is answered, not queued without bound: at most `max_inflight` gRPC calls are in
//! progress (more get `RESOURCE_EXHAUSTED` at once), and the heavy tier's batch queue is
//! bounded. SIGTERM/SIGINT marks the service NOT_SERVING, stops accepting, and gives calls in
//! progress `drain_seconds` to finish.

pub mod classify;
pub mod config;
pub mod decisions;
pub mod extproc;
pub mod heavy;
pub mod http;
pub mod metrics;
pub mod telemetry;
pub mod verdict;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use parapet_core::PolicySet;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::Status;

use crate::config::ServiceConfig;
use crate::heavy::HeavyTier;
use crate::metrics::Metrics;

/// What every handler shares.
pub struct Shared {
    pub policies: Arc<PolicySet>,
    pub heavy: Option<Arc<HeavyTier>>,
    pub metrics: Arc<Metrics>,
    /// Recent decisions (access-log service, verdict APIs) for the dashboard.
    pub decisions: Arc<decisions::Decisions>,
    inflight: Arc<Semaphore>,
    max_inflight: usize,
    pub draining: AtomicBool,
}

impl Shared {
    pub fn new(policies: PolicySet, heavy: Option<HeavyTier>, max_inflight: usize) -> Shared {
        Shared {
            policies: Arc::new(policies),
            heavy: heavy.map(Arc::new),
            metrics: Arc::new(Metrics::default()),
            decisions: Arc::new(decisions::Decisions::new(10_000)),
            inflight: Arc::new(Semaphore::new(max_inflight.max(1))),
            max_inflight: max_inflight.max(1),
            draining: AtomicBool::new(false),
        }
    }

    /// Calls in progress (for `/metrics`).
    pub fn inflight(&self) -> usize {
        self.max_inflight
            .saturating_sub(self.inflight.available_permits())
    }

    /// A slot for one gRPC call, or `RESOURCE_EXHAUSTED` at once when all are taken.
    pub fn admit(&self) -> Result<OwnedSemaphorePermit, Status> {
        if self.draining.load(Ordering::Relaxed) {
            return Err(Status::unavailable("shutting down"));
        }
        self.inflight.clone().try_acquire_owned().map_err(|_| {
            self.metrics.overloaded.fetch_add(1, Ordering::Relaxed);
            Status::resource_exhausted(
                "parapet ext-proc overloaded: max_inflight calls in progress",
            )
        })
    }
}

/// Load everything a config names (policy, heavy models): the slow, fallible part of start-up.
pub fn load(cfg: &ServiceConfig) -> anyhow::Result<Shared> {
    let policies = cfg.load_policies()?;
    parapet_core::excerpt::warm_up();
    let heavy = match &cfg.heavy {
        Some(h) => Some(HeavyTier::load(h).context("heavy tier")?),
        None => None,
    };
    if policies.escalates() && heavy.is_none() {
        anyhow::bail!(
            "a policy escalates to the heavy tier (`on_uncertain: escalate` or `similarity`), but the config has no `heavy:` section"
        );
    }
    let mut shared = Shared::new(policies, heavy, cfg.max_inflight);
    shared.decisions = Arc::new(decisions::Decisions::new(cfg.decision_window));
    Ok(shared)
}

/// Serve until SIGTERM/SIGINT (or `shutdown` resolves), then drain.
pub async fn run(cfg: ServiceConfig) -> anyhow::Result<()> {
    let shared = Arc::new(tokio::task::block_in_place(|| load(&cfg))?);
    if let Some(h) = &shared.heavy {
        tracing::info!(
            "heavy tier: {} ({}) on {:?}, {} known attacks, thresholds {:?}",
            h.encoder.spec.name,
            &h.encoder.spec.sha256[..12],
            h.encoder.device,
            h.attacks.len(),
            h.thresholds()
        );
    }
    serve(cfg, shared, shutdown_signal()).await
}

/// Serve with an explicit shutdown future (tests, embedding).
pub async fn serve(
    cfg: ServiceConfig,
    shared: Arc<Shared>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    use envoy_types::pb::envoy::service::ext_proc::v3::external_processor_server::ExternalProcessorServer;

    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<ExternalProcessorServer<extproc::ExtProcService>>()
        .await;
    health
        .set_serving::<classify::pb::classifier_server::ClassifierServer<classify::ClassifierService>>()
        .await;
    health
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;

    let (stop_tx, _) = tokio::sync::broadcast::channel::<()>(1);
    let mut http_task = None;
    if let Some(addr) = cfg.http_listen {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("binding http_listen {addr}"))?;
        let mut stop = stop_tx.subscribe();
        let app = http::router(shared.clone());
        http_task = Some(tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop.recv().await;
                })
                .await;
        }));
    }

    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("binding listen {}", cfg.listen))?;
    tracing::info!("parapet-ext-proc listening on {} (gRPC)", cfg.listen);
    if let Some(a) = cfg.http_listen {
        tracing::info!("HTTP API on {a}");
    }
    println!("ready");

    let drain = Duration::from_secs(cfg.drain_seconds);
    let shared_for_stop = shared.clone();
    let stop_tx2 = stop_tx.clone();
    let signal = async move {
        shutdown.await;
        tracing::info!("shutting down: draining for up to {drain:?}");
        shared_for_stop.draining.store(true, Ordering::Relaxed);
        health
            .set_service_status("", tonic_health::ServingStatus::NotServing)
            .await;
        let _ = stop_tx2.send(());
    };
    let server = tonic::transport::Server::builder()
        .tcp_nodelay(true)
        .add_service(health_service)
        .add_service(ExternalProcessorServer::new(extproc::ExtProcService {
            shared: shared.clone(),
        }))
        .add_service(
            envoy_types::pb::envoy::service::accesslog::v3::access_log_service_server::AccessLogServiceServer::new(
                decisions::AccessLogReceiver {
                    decisions: shared.decisions.clone(),
                },
            ),
        )
        .add_service(classify::pb::classifier_server::ClassifierServer::new(
            classify::ClassifierService {
                shared: shared.clone(),
            },
        ))
        .serve_with_incoming_shutdown(
            tokio_stream::wrappers::TcpListenerStream::new(listener),
            signal,
        );
    let mut stop_rx = stop_tx.subscribe();
    tokio::pin!(server);
    tokio::select! {
        r = &mut server => r.context("gRPC server")?,
        _ = stop_rx.recv() => {
            // Stopped accepting; calls in progress get `drain` to finish.
            match tokio::time::timeout(drain, &mut server).await {
                Ok(r) => r.context("gRPC server")?,
                Err(_) => tracing::warn!("drain timed out; closing remaining calls"),
            }
        }
    }
    if let Some(t) = http_task {
        // The HTTP API drains its requests in progress too, within the same bound.
        let _ = tokio::time::timeout(drain, t).await;
    }
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admission_is_bounded_and_refused_fast() {
        let shared = Shared::new(PolicySet::default_policy().unwrap(), None, 2);
        let a = shared.admit().unwrap();
        let _b = shared.admit().unwrap();
        let refused = shared.admit().unwrap_err();
        assert_eq!(refused.code(), tonic::Code::ResourceExhausted);
        assert_eq!(shared.metrics.overloaded.load(Ordering::Relaxed), 1);
        drop(a);
        assert!(shared.admit().is_ok());
        shared.draining.store(true, Ordering::Relaxed);
        assert_eq!(shared.admit().unwrap_err().code(), tonic::Code::Unavailable);
    }
}
