//! Envoy stats the filter exports (Envoy prefixes them with `wasmcustom.`):
//!
//! - `parapet.decision.<allow|audit|mask|block|skipped>`: requests by final decision;
//! - `parapet.output.decision.<allow|audit|mask|block|skipped>`: guarded responses by decision;
//! - `parapet.guard.<id>.<action>.<decision>`: requests in which guard `<id>` (whose action is
//!   `<action>`) fired, by the request's final decision;
//! - `parapet.scan_us` (histogram): engine time per request body, in microseconds;
//! - `parapet.output_scan_us` (histogram): engine time per guarded response body;
//! - `parapet.escalation.<flagged|clear|failed_open|failed_closed>`: texts sent to the heavy
//!   tier, by how they ended (failures by the guard's `on_failure`);
//! - `parapet.escalation_us` (histogram): time waiting for the heavy tier per request;
//! - `parapet.policy.<name>.decision.<decision>`: requests by the policy that decided them
//!   (configs with several named policies);
//! - `parapet.policy_refused`: requests whose `x-parapet-policy` (or configured) header named a
//!   policy they may not choose (ignored);
//! - `parapet.config_rejected`: configurations refused (the last good one stays in force).

use parapet_core::escalation::OutcomeCounts;
use parapet_core::{Decision, Policy};
use proxy_wasm::types::MetricType;

use crate::host;

/// Metric ids for one compiled policy.
pub struct Metrics {
    decisions: [Option<u32>; 5],
    /// By policy (several named policies only).
    policy_decisions: [Option<u32>; 5],
    pub policy_refused: Option<u32>,
    output_decisions: [Option<u32>; 5],
    /// Per guard index, per decision.
    guards: Vec<[Option<u32>; 5]>,
    pub scan_us: Option<u32>,
    pub output_scan_us: Option<u32>,
    /// flagged, clear, failed_open, failed_closed.
    escalations: [Option<u32>; 4],
    pub escalation_us: Option<u32>,
}

fn decision_index(d: Decision) -> usize {
    Decision::ALL.iter().position(|x| *x == d).unwrap_or(0)
}

fn define(kind: MetricType, name: &str) -> Option<u32> {
    match host::define_metric(kind, name) {
        Ok(id) => Some(id),
        Err(e) => {
            host::log(
                proxy_wasm::types::LogLevel::Warn,
                &format!("metric {name}: {e}"),
            );
            None
        }
    }
}

impl Metrics {
    pub fn define(policy: &Policy, per_policy: bool) -> Metrics {
        let policy_decisions = if per_policy {
            Decision::ALL.map(|d| {
                define(
                    MetricType::Counter,
                    &format!("parapet.policy.{}.decision.{}", policy.name, d.as_str()),
                )
            })
        } else {
            [None; 5]
        };
        let policy_refused = define(MetricType::Counter, "parapet.policy_refused");
        let decisions = Decision::ALL.map(|d| {
            define(
                MetricType::Counter,
                &format!("parapet.decision.{}", d.as_str()),
            )
        });
        let output_decisions = Decision::ALL.map(|d| {
            define(
                MetricType::Counter,
                &format!("parapet.output.decision.{}", d.as_str()),
            )
        });
        let guards = policy
            .guards
            .iter()
            .map(|g| {
                Decision::ALL.map(|d| {
                    define(
                        MetricType::Counter,
                        &format!(
                            "parapet.guard.{}.{}.{}",
                            g.id,
                            g.action.as_str(),
                            d.as_str()
                        ),
                    )
                })
            })
            .collect();
        let scan_us = define(MetricType::Histogram, "parapet.scan_us");
        let output_scan_us = define(MetricType::Histogram, "parapet.output_scan_us");
        let (escalations, escalation_us) = if policy.escalates() {
            (
                ["flagged", "clear", "failed_open", "failed_closed"]
                    .map(|o| define(MetricType::Counter, &format!("parapet.escalation.{o}"))),
                define(MetricType::Histogram, "parapet.escalation_us"),
            )
        } else {
            ([None; 4], None)
        };
        Metrics {
            policy_decisions,
            policy_refused,
            escalations,
            escalation_us,
            decisions,
            output_decisions,
            guards,
            scan_us,
            output_scan_us,
        }
    }

    pub fn count_decision(&self, d: Decision) {
        if let Some(id) = self.decisions[decision_index(d)] {
            host::increment(id);
        }
        if let Some(id) = self.policy_decisions[decision_index(d)] {
            host::increment(id);
        }
    }

    pub fn count_output_decision(&self, d: Decision) {
        if let Some(id) = self.output_decisions[decision_index(d)] {
            host::increment(id);
        }
    }

    pub fn count_escalation(&self, c: OutcomeCounts) {
        let n = [c.flagged, c.clear, c.failed_open, c.failed_closed];
        for (id, n) in self.escalations.iter().zip(n) {
            if let Some(id) = id {
                for _ in 0..n {
                    host::increment(*id);
                }
            }
        }
    }

    pub fn count_guard(&self, guard_index: usize, d: Decision) {
        if let Some(Some(id)) = self.guards.get(guard_index).map(|g| g[decision_index(d)]) {
            host::increment(id);
        }
    }
}

/// Counter of rejected configurations; defined once per VM.
pub fn config_rejected() {
    if let Some(id) = define(MetricType::Counter, "parapet.config_rejected") {
        host::increment(id);
    }
}
