//! The service's config file (YAML or JSON).
//!
//! ```yaml
//! listen: 127.0.0.1:50051        # gRPC: ext_proc, Classify, grpc.health.v1
//! http_listen: 127.0.0.1:50052   # optional: /healthz, /metrics, POST /v1/classify
//! policy: envoy/policies/tiered.yaml   # the filter's schema; absent: the shipped default
//! max_inflight: 256              # gRPC calls in progress before new ones get RESOURCE_EXHAUSTED
//! drain_seconds: 10              # on SIGTERM/SIGINT: time for calls in progress to finish
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

impl ServiceConfig {
    pub fn load(path: &Path) -> anyhow::Result<ServiceConfig> {
        let raw = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        serde_yaml_ng::from_slice(&raw)
            .with_context(|| format!("{}: invalid config", path.display()))
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
