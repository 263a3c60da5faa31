//! Counters for `/metrics` (Prometheus text format).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use parapet_core::escalation::HeavyModel;
use parapet_core::Decision;

use crate::heavy::HeavyTier;

#[derive(Debug, Default)]
pub struct Metrics {
    /// ext_proc request decisions, by [`Decision::ALL`] index.
    pub decisions: [AtomicU64; 5],
    /// ext_proc response decisions.
    pub output_decisions: [AtomicU64; 5],
    /// Classify tasks by model ([`HeavyModel::ALL`] index): flagged, clear, failed.
    pub tasks: [[AtomicU64; 3]; 3],
    /// Time spent scoring tasks, µs, by model.
    pub task_us: [AtomicU64; 3],
    /// gRPC calls refused because `max_inflight` were in progress.
    pub overloaded: AtomicU64,
    /// HTTP API requests refused for a missing or wrong bearer token.
    pub http_unauthorized: AtomicU64,
    /// ext_proc escalations that failed open / closed.
    pub failed_open: AtomicU64,
    pub failed_closed: AtomicU64,
    /// Requests whose policy header named a policy they may not choose (ignored).
    pub policy_refused: AtomicU64,
    /// Verdict API decisions by (endpoint or hook, policy, decision index).
    pub api: std::sync::Mutex<std::collections::BTreeMap<(String, String, usize), u64>>,
    /// Request decisions by policy name.
    pub by_policy: std::sync::Mutex<std::collections::BTreeMap<String, [u64; 5]>>,
}

fn model_index(m: HeavyModel) -> usize {
    HeavyModel::ALL.iter().position(|x| *x == m).unwrap_or(0)
}

fn decision_index(d: Decision) -> usize {
    Decision::ALL.iter().position(|x| *x == d).unwrap_or(0)
}

impl Metrics {
    pub fn decision(&self, d: Decision, response: bool) {
        let set = if response {
            &self.output_decisions
        } else {
            &self.decisions
        };
        set[decision_index(d)].fetch_add(1, Ordering::Relaxed);
    }

    /// A verdict API decision (`what`: the hook, or `filter` per message).
    pub fn api_decision(&self, what: &str, policy: &str, d: Decision) {
        if let Ok(mut m) = self.api.lock() {
            *m.entry((what.to_string(), policy.to_string(), decision_index(d)))
                .or_default() += 1;
        }
    }

    /// A request decision made under `policy`.
    pub fn policy_decision(&self, policy: &str, d: Decision) {
        if let Ok(mut m) = self.by_policy.lock() {
            match m.get_mut(policy) {
                Some(counts) => counts[decision_index(d)] += 1,
                None => {
                    let mut counts = [0; 5];
                    counts[decision_index(d)] = 1;
                    m.insert(policy.to_string(), counts);
                }
            }
        }
    }

    /// `outcome`: 0 flagged, 1 clear, 2 failed.
    pub fn task(&self, m: HeavyModel, outcome: usize, us: u64) {
        let i = model_index(m);
        self.tasks[i][outcome.min(2)].fetch_add(1, Ordering::Relaxed);
        self.task_us[i].fetch_add(us, Ordering::Relaxed);
    }

    pub fn render(&self, heavy: Option<&HeavyTier>) -> String {
        let mut out = String::new();
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let _ = writeln!(out, "# TYPE parapet_ext_proc_decisions_total counter");
        for (i, d) in Decision::ALL.iter().enumerate() {
            let _ = writeln!(
                out,
                "parapet_ext_proc_decisions_total{{direction=\"request\",decision=\"{}\"}} {}",
                d.as_str(),
                get(&self.decisions[i])
            );
            let _ = writeln!(
                out,
                "parapet_ext_proc_decisions_total{{direction=\"response\",decision=\"{}\"}} {}",
                d.as_str(),
                get(&self.output_decisions[i])
            );
        }
        let _ = writeln!(out, "# TYPE parapet_policy_decisions_total counter");
        if let Ok(m) = self.by_policy.lock() {
            for (policy, counts) in m.iter() {
                for (i, d) in Decision::ALL.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "parapet_policy_decisions_total{{policy=\"{policy}\",decision=\"{}\"}} {}",
                        d.as_str(),
                        counts[i]
                    );
                }
            }
        }
        let _ = writeln!(out, "# TYPE parapet_api_decisions_total counter");
        if let Ok(m) = self.api.lock() {
            for ((what, policy, d), n) in m.iter() {
                let _ = writeln!(
                    out,
                    "parapet_api_decisions_total{{api=\"{what}\",policy=\"{policy}\",decision=\"{}\"}} {n}",
                    Decision::ALL[*d].as_str()
                );
            }
        }
        let _ = writeln!(out, "# TYPE parapet_policy_refused_total counter");
        let _ = writeln!(
            out,
            "parapet_policy_refused_total {}",
            get(&self.policy_refused)
        );
        let _ = writeln!(out, "# TYPE parapet_heavy_tasks_total counter");
        let _ = writeln!(out, "# TYPE parapet_heavy_task_seconds_total counter");
        for (i, m) in HeavyModel::ALL.iter().enumerate() {
            for (j, o) in ["flagged", "clear", "failed"].iter().enumerate() {
                let _ = writeln!(
                    out,
                    "parapet_heavy_tasks_total{{model=\"{}\",outcome=\"{o}\"}} {}",
                    m.as_str(),
                    get(&self.tasks[i][j])
                );
            }
            let _ = writeln!(
                out,
                "parapet_heavy_task_seconds_total{{model=\"{}\"}} {:.6}",
                m.as_str(),
                get(&self.task_us[i]) as f64 / 1e6
            );
        }
        let _ = writeln!(out, "# TYPE parapet_ext_proc_overloaded_total counter");
        let _ = writeln!(
            out,
            "parapet_ext_proc_overloaded_total {}",
            get(&self.overloaded)
        );
        let _ = writeln!(out, "# TYPE parapet_http_unauthorized_total counter");
        let _ = writeln!(
            out,
            "parapet_http_unauthorized_total {}",
            get(&self.http_unauthorized)
        );
        let _ = writeln!(out, "# TYPE parapet_escalations_failed_total counter");
        let _ = writeln!(
            out,
            "parapet_escalations_failed_total{{mode=\"open\"}} {}",
            get(&self.failed_open)
        );
        let _ = writeln!(
            out,
            "parapet_escalations_failed_total{{mode=\"closed\"}} {}",
            get(&self.failed_closed)
        );
        if let Some(h) = heavy {
            let s = &h.batcher.stats;
            for (name, v) in [
                ("batches", &s.batches),
                ("windows", &s.windows),
                ("jobs", &s.jobs),
                ("queue_full", &s.overloaded),
            ] {
                let _ = writeln!(out, "# TYPE parapet_heavy_{name}_total counter");
                let _ = writeln!(out, "parapet_heavy_{name}_total {}", get(v));
            }
            let _ = writeln!(out, "# TYPE parapet_heavy_encoder_seconds_total counter");
            let _ = writeln!(
                out,
                "parapet_heavy_encoder_seconds_total {:.6}",
                get(&s.encoder_us) as f64 / 1e6
            );
        }
        out
    }
}
