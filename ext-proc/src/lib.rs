//! Parapet's native service: tier 3 of the guard cascade.
//!
//! One process serves, on one gRPC port:
//! - `envoy.service.ext_proc.v3.ExternalProcessor` ([`extproc`]): the whole pipeline (rules,
//!   tier-2 models, heavy tier) for Envoy's `ext_proc` filter, for hosts that cannot load wasm;
//! - `parapet.classify.v1.Classifier` ([`classify`]): what the wasm filter escalates its
//!   uncertain texts to;
//! - `envoy.service.accesslog.v3.AccessLogService` ([`decisions`]): Envoy's access logs, whose
//!   Parapet decision records feed the dashboard;
//! - `grpc.health.v1.Health`: service `liveness` is SERVING while the process runs; `""`,
//!   `readiness` and each named service are SERVING only when the models are loaded (the port
//!   opens after loading), the service is not saturated and not shutting down.
//!
//! and, optionally, a small HTTP API ([`http`]): `/healthz` (liveness), `/readyz`, `/metrics`,
//! `POST /v1/classify`, the verdict APIs and the dashboard; a bearer token can guard all but
//! the probes.
//!
//! Overload is answered, not queued without bound: at most `max_inflight` gRPC calls are in
//! progress (more get `RESOURCE_EXHAUSTED` at once), and the heavy tier's batch queue is
//! bounded; at 90% of either, readiness turns NOT_SERVING (back at 70%) so load balancers send
//! elsewhere. SIGTERM/SIGINT starts a lame-duck period (`lame_duck_seconds`: still serving,
//! readiness NOT_SERVING, so health checks take the instance out), then stops accepting and
//! gives calls in progress the rest of `drain_seconds` to finish. A second signal skips the
//! lame duck.

pub mod classify;
pub mod config;
pub mod decisions;
pub mod extproc;
pub mod heavy;
pub mod http;
pub mod metrics;
pub mod telemetry;
pub mod verdict;

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
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
    /// Past the lame duck: new calls are refused.
    pub draining: AtomicBool,
    /// Why the service is not ready, if it is not: [`NOT_READY_SATURATED`],
    /// [`NOT_READY_SHUTTING_DOWN`]; 0 when ready.
    pub not_ready: AtomicU8,
    /// The HTTP API's bearer token, when the config sets one.
    pub http_token: Option<String>,
    /// Largest HTTP request body read (None: the policies' largest body + 64 KiB).
    pub http_max_body: Option<usize>,
}

pub const NOT_READY_SATURATED: u8 = 1;
pub const NOT_READY_SHUTTING_DOWN: u8 = 2;

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
            not_ready: AtomicU8::new(0),
            http_token: None,
            http_max_body: None,
        }
    }

    /// How full the service is, 0.0..=1.0: the larger of calls in progress over `max_inflight`
    /// and the heavy tier's batch queue over its bound.
    pub fn load_fraction(&self) -> f64 {
        let calls = self.inflight() as f64 / self.max_inflight as f64;
        let queue = self.heavy.as_deref().map_or(0.0, |h| {
            h.batcher.stats.queued.load(Ordering::Relaxed) as f64 / h.batcher.max_queue as f64
        });
        calls.max(queue).min(1.0)
    }

    pub fn ready(&self) -> bool {
        self.not_ready.load(Ordering::Relaxed) == 0
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
    cfg.validate()?;
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
    shared.http_token = cfg.http_token()?;
    shared.http_max_body = cfg.http_max_body_bytes;
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
        .set_service_status("liveness", tonic_health::ServingStatus::Serving)
        .await;
    set_readiness(&health, true).await;
    // Readiness follows saturation (with hysteresis) until shutdown starts.
    let watcher = {
        let (shared, health) = (shared.clone(), health.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            loop {
                tick.tick().await;
                let was = shared.not_ready.load(Ordering::Relaxed);
                if was == NOT_READY_SHUTTING_DOWN {
                    return;
                }
                let load = shared.load_fraction();
                let saturated = if was == NOT_READY_SATURATED {
                    load >= 0.7
                } else {
                    load >= 0.9
                };
                let now = if saturated { NOT_READY_SATURATED } else { 0 };
                // Shutdown may start meanwhile; it wins (the exchange then fails).
                if now != was
                    && shared
                        .not_ready
                        .compare_exchange(was, now, Ordering::Relaxed, Ordering::Relaxed)
                        .is_ok()
                {
                    tracing::warn!(
                        "{} (load {:.0}%)",
                        if saturated {
                            "saturated: readiness NOT_SERVING"
                        } else {
                            "ready again"
                        },
                        load * 100.0
                    );
                    set_readiness(&health, !saturated).await;
                }
            }
        })
    };

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

    let lame_duck = Duration::from_secs_f64(cfg.lame_duck_seconds);
    let drain = Duration::from_secs(cfg.drain_seconds).saturating_sub(lame_duck);
    let shared_for_stop = shared.clone();
    let stop_tx2 = stop_tx.clone();
    let signal = async move {
        shutdown.await;
        // Lame duck: still serving, but NOT_SERVING to health checks, so Envoy (and Kubernetes)
        // stop sending new work before the port closes; then stop accepting and drain.
        tracing::info!(
            "shutting down: lame duck for {lame_duck:?} (readiness NOT_SERVING), then draining for up to {drain:?}"
        );
        shared_for_stop
            .not_ready
            .store(NOT_READY_SHUTTING_DOWN, Ordering::Relaxed);
        set_readiness(&health, false).await;
        tokio::select! {
            _ = tokio::time::sleep(lame_duck) => {}
            _ = tokio::signal::ctrl_c() => tracing::info!("second signal: lame duck skipped"),
            _ = second_terminate() => tracing::info!("second signal: lame duck skipped"),
        }
        shared_for_stop.draining.store(true, Ordering::Relaxed);
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
    watcher.abort();
    Ok(())
}

/// Readiness: `""` (what Envoy's gRPC health check asks by default), `readiness` and each
/// named service. `liveness` is not touched: it stays SERVING until the process exits.
async fn set_readiness(health: &tonic_health::server::HealthReporter, ready: bool) {
    use envoy_types::pb::envoy::service::ext_proc::v3::external_processor_server::ExternalProcessorServer;
    let status = if ready {
        tonic_health::ServingStatus::Serving
    } else {
        tonic_health::ServingStatus::NotServing
    };
    health.set_service_status("", status).await;
    health.set_service_status("readiness", status).await;
    health
        .set_service_status(
            <ExternalProcessorServer<extproc::ExtProcService> as tonic::server::NamedService>::NAME,
            status,
        )
        .await;
    health
        .set_service_status(
            <classify::pb::classifier_server::ClassifierServer<classify::ClassifierService> as tonic::server::NamedService>::NAME,
            status,
        )
        .await;
}

/// A SIGTERM after the first (never resolves where there are no unix signals).
async fn second_terminate() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            term.recv().await;
            return;
        }
    }
    std::future::pending::<()>().await
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

#[cfg(test)]
mod grpc_target_tests {
    use envoy_types::pb::envoy::config::core::v3::{grpc_service::TargetSpecifier, GrpcService};
    use prost::Message as _;

    /// What the filter hands Envoy as a Classify call's target decodes, with Envoy's own
    /// generated types, to the cluster and the retry policy the policy asks for.
    #[test]
    fn escalation_target_is_envoys_grpc_service_with_retries() {
        let mut cfg = parapet_core::config::EscalationConfig {
            cluster: "outbound|50051||parapet-ext-proc.parapet.svc.cluster.local".into(),
            timeout_ms: 500,
            retries: 2,
        };
        let target = parapet_core::escalation::grpc_service(&cfg).unwrap();
        let svc = GrpcService::decode(target.as_bytes()).expect("a GrpcService");
        let Some(TargetSpecifier::EnvoyGrpc(g)) = svc.target_specifier else {
            panic!("envoy_grpc expected")
        };
        assert_eq!(g.cluster_name, cfg.cluster);
        let r = svc.retry_policy.expect("retry policy");
        assert_eq!(r.num_retries.map(|n| n.value), Some(2));
        assert_eq!(r.retry_on, parapet_core::escalation::RETRY_ON);
        let pred = r.retry_host_predicate[0].config_type.clone().unwrap();
        let envoy_types::pb::envoy::config::core::v3::retry_policy::retry_host_predicate::ConfigType::TypedConfig(any) = pred;
        assert!(any
            .type_url
            .ends_with("/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate"));
        // Every retries value a policy may set encodes (the UTF-8 constraint holds).
        for n in 0..=parapet_core::escalation::MAX_RETRIES {
            let c = parapet_core::config::EscalationConfig {
                retries: n,
                ..cfg.clone()
            };
            assert!(
                parapet_core::escalation::grpc_service(&c).is_ok(),
                "retries {n}"
            );
        }
        let b = r.retry_back_off.unwrap();
        let base = b.base_interval.unwrap();
        assert_eq!((base.seconds, base.nanos), (0, 10_485_857));
        assert!(
            b.max_interval.is_none(),
            "Envoy's default: ten times the base"
        );
        // A cluster name too long for the UTF-8-safe encoding is refused, not mangled.
        let long = parapet_core::config::EscalationConfig {
            cluster: "c".repeat(126),
            ..cfg.clone()
        };
        assert!(parapet_core::escalation::grpc_service(&long).is_err());
        // retries: 0 is the bare cluster name, as before.
        cfg.retries = 0;
        assert_eq!(
            parapet_core::escalation::grpc_service(&cfg).unwrap(),
            cfg.cluster
        );
    }
}
