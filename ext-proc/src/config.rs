//! The service's config file (YAML or JSON).
//!
//! ```yaml
//! listen: 127.0.0.1:50051        # gRPC: ext_proc, Classify, grpc.health.v1
//! http_listen: 127.0.0.1:50052   # optional: /healthz, /metrics, POST /v1/classify
//! policy: envoy/policies/tiered.yaml   # the filter's schema; absent: the shipped default
//! max_inflight: 256              # gRPC calls in progress before new ones get RESOURCE_EXHAUSTED
//! drain_seconds: 10              # on SIGTERM/SIGINT: the whole shutdown bound (lame duck + drain)
//! lame_duck_seconds: 3           # first part of it: still serving, but health says NOT_SERVING,
//!                                # so Envoy's health checks (and Kubernetes) stop sending new work
//! http_token_file: /run/secrets/parapet-admin-token   # optional: the HTTP API wants
//!                                # `Authorization: Bearer <token>` (all but /healthz, /readyz)
//! http_max_body_bytes: 1114112   # optional cap on HTTP request bodies (default: the largest
//!                                # policy's limits.max_body_bytes + 64 KiB)
//! decision_window: 10000         # recent decisions kept for /dashboard and /v1/decisions
//! otlp:                          # optional: export spans over OTLP/gRPC
//!   endpoint: http://127.0.0.1:4317
//!   service_name: parapet-ext-proc
//! heavy:                         # optional: the heavy tier (tier 3)
//!   models_dir: models/heavy      # encoder.onnx + use_table.u8 (pinned by encoder.json), heads, attacks
//!   ort_dylib: .venv/parapet/libonnxruntime.so
//!   device: cpu                  # or cuda (build feature `cuda`)
//! ```
//!
//! Relative paths are read from the directory the service starts in.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use parapet_core::PolicySet;
use serde::Deserialize;

use crate::heavy::HeavyConfig;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    #[serde(default)]
    pub http_listen: Option<SocketAddr>,
    #[serde(default)]
    pub policy: Option<PathBuf>,
    #[serde(default = "default_max_inflight")]
    pub max_inflight: usize,
    #[serde(default = "default_drain")]
    pub drain_seconds: u64,
    /// After SIGTERM, keep serving this long while health reports NOT_SERVING (load balancers
    /// take the instance out), then stop accepting; part of `drain_seconds`.
    #[serde(default = "default_lame_duck")]
    pub lame_duck_seconds: f64,
    /// A file holding the bearer token the HTTP API requires (all endpoints but the probes).
    /// Required when `http_listen` is not a loopback address, unless `http_insecure: true`.
    #[serde(default)]
    pub http_token_file: Option<PathBuf>,
    /// Serve the HTTP API on a non-loopback address without a token (not recommended).
    #[serde(default)]
    pub http_insecure: bool,
    /// Largest HTTP request body read; past it, 413.
    #[serde(default)]
    pub http_max_body_bytes: Option<usize>,
    #[serde(default)]
    pub heavy: Option<HeavyConfig>,
    /// Trace export over OTLP/gRPC (optional).
    #[serde(default)]
    pub otlp: Option<crate::telemetry::OtlpConfig>,
    /// Recent decisions kept (from Envoy's access-log service and the verdict APIs).
    #[serde(default = "default_decision_window")]
    pub decision_window: usize,
}

fn default_decision_window() -> usize {
    10_000
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 50051))
}
fn default_max_inflight() -> usize {
    256
}
fn default_drain() -> u64 {
    10
}
fn default_lame_duck() -> f64 {
    3.0
}

impl ServiceConfig {
    pub fn load(path: &Path) -> anyhow::Result<ServiceConfig> {
        let raw = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        serde_yaml_ng::from_slice(&raw)
            .with_context(|| format!("{}: invalid config", path.display()))
    }

    /// Checks across fields.
    pub fn validate(&self) -> anyhow::Result<()> {
        if !(self.lame_duck_seconds >= 0.0 && self.lame_duck_seconds <= self.drain_seconds as f64) {
            anyhow::bail!(
                "lame_duck_seconds ({}) must be between 0 and drain_seconds ({})",
                self.lame_duck_seconds,
                self.drain_seconds
            );
        }
        Ok(())
    }

    /// The admin token: `Some(token)` when the HTTP API wants one. The HTTP API shows decisions
    /// and answers classifications, so it is not exposed beyond this host without a token unless
    /// the config says so in as many words.
    pub fn http_token(&self) -> anyhow::Result<Option<String>> {
        let token = match &self.http_token_file {
            Some(p) => {
                let raw = std::fs::read_to_string(p)
                    .with_context(|| format!("reading http_token_file {}", p.display()))?;
                let t = raw.trim().to_string();
                if t.len() < 16 {
                    anyhow::bail!(
                        "http_token_file {}: the token must be at least 16 characters",
                        p.display()
                    );
                }
                Some(t)
            }
            None => None,
        };
        if let Some(addr) = self.http_listen {
            if !addr.ip().is_loopback() && token.is_none() && !self.http_insecure {
                anyhow::bail!(
                    "http_listen {addr} is reachable from other hosts: set http_token_file (or \
                     http_insecure: true to serve the HTTP API without a token)"
                );
            }
        }
        Ok(token)
    }

    /// The policies the service enforces (ext_proc) and answers with (verdict APIs): one
    /// policy, or several named ones with their selection rules.
    pub fn load_policies(&self) -> anyhow::Result<PolicySet> {
        let Some(path) = &self.policy else {
            return PolicySet::default_policy().map_err(|e| anyhow::anyhow!("default policy: {e}"));
        };
        let raw = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let value: serde_json::Value = serde_yaml_ng::from_slice(&raw)
            .with_context(|| format!("{}: invalid YAML/JSON", path.display()))?;
        PolicySet::from_value(value).map_err(|e| anyhow::anyhow!("{}:\n{e}", path.display()))
    }
}
