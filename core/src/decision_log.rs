//! One exchange's decisions as a record for Envoy's access logs, traces and parapet-ext-proc's
//! decision window: the fields hosts write as dynamic metadata (ext_proc mode: namespace
//! `parapet`) or filter state (the wasm filter: `wasm.parapet`, since Envoy gives Wasm no way to
//! write dynamic metadata), and that the access-log service reads back.
//!
//! The host adds each [`Record`] the exchange machine leaves, with the times it measured, and
//! writes [`DecisionLog::to_json`] after each. Fields (absent when they do not apply):
//!
//! | field | |
//! |---|---|
//! | `decision` | the request's: allow, audit, mask, block, skipped |
//! | `policy`, `policy_by`, `policy_refused` | the policy, the step that chose it (default, route, tenant, request), a request choice ignored |
//! | `guards`, `kinds` | guards that fired; `guard:kind` of each finding |
//! | `tier` | the highest tier that found something (1 rules, 2 in-filter models, 3 heavy) |
//! | `scores` | model guards' scores (`{"injection-model": 0.93}`) |
//! | `scan_us`, `escalation_us` | engine time in the host; time waiting for the heavy tier |
//! | `escalations` | heavy-tier outcomes: flagged, clear, failed_open, failed_closed |
//! | `matches` | the similarity guard's best known attacks (`id`, `score`) |
//! | `excerpt` | a short excerpt around the first finding, secrets, PII and custom values masked (`[EMAIL]`) |
//! | `reason` | why a body was skipped or refused unread |
//! | `output_*` | the same for the response: `output_decision`, `output_guards`, `output_kinds`, `output_tier`, `output_scan_us`, `output_excerpt` |
//!
//! Never a matched value: excerpts are masked at every finding, and a secrets and PII scan
//! masks what no guard of the policy looked for.

use serde_json::{json, Map, Value};

use crate::exchange::{Direction, Record};

/// One exchange's decision record, built up as its decisions are made.
#[derive(Debug, Clone, Default)]
pub struct DecisionLog {
    fields: Map<String, Value>,
}

impl DecisionLog {
    pub fn new() -> Self {
        DecisionLog::default()
    }

    /// Add a decision; `scan_us` / `escalation_us` as the host measured them.
    pub fn add(&mut self, r: &Record, scan_us: Option<u64>, escalation_us: Option<u64>) {
        let p = match r.direction {
            Direction::Request => "",
            Direction::Response => "output_",
        };
        let f = &mut self.fields;
        f.insert(format!("{p}decision"), json!(r.decision.as_str()));
        if r.direction == Direction::Request {
            f.insert("policy".into(), json!(&*r.policy));
            f.insert("policy_by".into(), json!(r.selected_by.as_str()));
            if let Some(refused) = &r.policy_refused {
                f.insert("policy_refused".into(), json!(refused));
            }
        }
        // Each once, in the order first found (findings come slot by slot).
        let mut guards: Vec<&str> = Vec::new();
        let mut kinds: Vec<String> = Vec::new();
        for x in &r.findings {
            if !guards.contains(&&*x.guard) {
                guards.push(&x.guard);
            }
            let kind = format!("{}:{}", x.guard, x.kind);
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        if !r.findings.is_empty() {
            f.insert(format!("{p}guards"), json!(guards));
            f.insert(format!("{p}kinds"), json!(kinds));
            let tier = r.findings.iter().map(|x| x.tier).max().unwrap_or(0);
            f.insert(format!("{p}tier"), json!(tier));
            let scores: Map<String, Value> = r
                .findings
                .iter()
                .filter(|x| x.tier > 1)
                .map(|x| (x.guard.to_string(), json!(round(x.score))))
                .collect();
            if !scores.is_empty() {
                f.insert(format!("{p}scores"), Value::Object(scores));
            }
        }
        if let (Some(us), true) = (scan_us, r.scanned) {
            f.insert(format!("{p}scan_us"), json!(us));
        }
        if let Some(us) = escalation_us {
            f.insert("escalation_us".into(), json!(us));
        }
        if let Some(c) = r.escalation {
            f.insert(
                "escalations".into(),
                json!({"flagged": c.flagged, "clear": c.clear, "failed_open": c.failed_open, "failed_closed": c.failed_closed}),
            );
        }
        if !r.matches.is_empty() {
            let m: Vec<Value> = r
                .matches
                .iter()
                .map(|(id, score)| json!({"id": id, "score": round(*score)}))
                .collect();
            f.insert("matches".into(), Value::Array(m));
        }
        if let Some(e) = &r.excerpt {
            f.insert(format!("{p}excerpt"), json!(e));
        }
        if let Some(reason) = &r.reason {
            f.insert(format!("{p}reason"), json!(reason));
        }
    }

    /// Trace span tags (`parapet.decision`, ...): the record's scalar fields as text, lists
    /// joined with commas. Envoy's shipped tracing configs tag its spans with the same names.
    pub fn span_tags(&self) -> Vec<(&'static str, String)> {
        const TAGS: [(&str, &str); 8] = [
            ("parapet.decision", "decision"),
            ("parapet.policy", "policy"),
            ("parapet.guards", "guards"),
            ("parapet.kinds", "kinds"),
            ("parapet.tier", "tier"),
            ("parapet.scan_us", "scan_us"),
            ("parapet.escalation_us", "escalation_us"),
            ("parapet.output_decision", "output_decision"),
        ];
        TAGS.iter()
            .filter_map(|(tag, field)| {
                let v = self.fields.get(*field)?;
                let text = match v {
                    Value::String(s) => s.clone(),
                    Value::Array(items) => items
                        .iter()
                        .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                        .collect::<Vec<_>>()
                        .join(","),
                    other => other.to_string(),
                };
                Some((*tag, text))
            })
            .collect()
    }

    /// The record as JSON text (what the filter writes), without copying it first.
    pub fn to_json_string(&self) -> String {
        serde_json::to_string(&self.fields).unwrap_or_default()
    }

    /// The record as a JSON object.
    pub fn to_json(&self) -> Value {
        Value::Object(self.fields.clone())
    }
}

fn round(x: f32) -> f64 {
    (f64::from(x) * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policies::SelectedBy;
    use crate::Policy;

    #[test]
    fn guards_and_kinds_are_listed_once_in_order() {
        let p = Policy::from_json(
            br#"{"version": 1, "guards": [
                {"id": "pii", "detector": {"type": "pii"}, "action": "mask"},
                {"id": "secrets", "detector": {"type": "secrets"}, "action": "block"}]}"#,
        )
        .unwrap();
        let body = br#"{"messages": [
            {"role": "user", "content": "a@example.com and b@example.com"},
            {"role": "user", "content": "key AKIAQX7MZT3KWJ5RLN2P"},
            {"role": "user", "content": "c@example.com"}]}"#;
        let v = p.evaluate_request(body);
        let r = Record {
            direction: Direction::Request,
            decision: v.decision,
            findings: v.findings,
            reason: None,
            escalation: None,
            scanned: true,
            policy: p.name.clone(),
            selected_by: SelectedBy::Default,
            policy_refused: None,
            matches: vec![],
            excerpt: v.excerpt,
        };
        let mut log = DecisionLog::new();
        log.add(&r, Some(12), None);
        let j = log.to_json();
        assert_eq!(j["guards"], serde_json::json!(["pii", "secrets"]));
        assert_eq!(
            j["kinds"],
            serde_json::json!(["pii:email", "secrets:aws_access_key"])
        );
        assert_eq!(
            (
                j["decision"].as_str(),
                j["tier"].as_u64(),
                j["scan_us"].as_u64()
            ),
            (Some("block"), Some(1), Some(12))
        );
        assert_eq!(log.to_json_string(), j.to_string());
        let tags: Vec<&str> = log.span_tags().iter().map(|(t, _)| *t).collect();
        assert!(tags.contains(&"parapet.guards"));
    }
}
