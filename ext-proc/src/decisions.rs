//! The decision window: recent decisions and their aggregates, for `/dashboard` and
//! `/v1/decisions`.
//!
//! Decisions arrive from Envoy through the gRPC access-log service
//! (`envoy.service.accesslog.v3.AccessLogService`, on the gRPC port): each HTTP access-log entry
//! carries Parapet's decision record ([`parapet_core::decision_log`]) as dynamic metadata
//! (ext_proc mode: namespace `parapet`) or as the wasm filter's filter state (`wasm.parapet`,
//! listed in the logger's `filter_state_objects_to_log`). The verdict APIs add theirs directly.
//! No side channel from the filter: what Envoy logs is what the window holds.
//!
//! Bounded: the last `capacity` decisions, per-minute counts for the last hour, and the last
//! 1,024 latencies per guard and per tier.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use envoy_types::pb::envoy::data::accesslog::v3::HttpAccessLogEntry;
use envoy_types::pb::envoy::service::accesslog::v3::{
    access_log_service_server::AccessLogService, stream_access_logs_message::LogEntries,
    StreamAccessLogsMessage, StreamAccessLogsResponse,
};
use envoy_types::pb::google::protobuf::{value::Kind, Value as PbValue};
use serde::Serialize;
use serde_json::{json, Map, Value};
use tonic::{Request, Response, Status, Streaming};

/// Latency samples kept per guard and per tier.
const SAMPLES: usize = 1024;
/// Minutes of per-minute counts kept.
const MINUTES: usize = 60;

/// One decision in the window.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// Sequence number (monotonic; the dashboard polls for newer ones).
    pub seq: u64,
    /// Unix time, milliseconds.
    pub ts_ms: u64,
    /// `envoy` (an access-log entry) or `api` (a verdict API call).
    pub source: &'static str,
    pub method: String,
    pub path: String,
    pub route: String,
    pub status: u32,
    /// The decision record (`parapet_core::decision_log` fields).
    pub record: Value,
}

#[derive(Default)]
struct Inner {
    seq: u64,
    entries: VecDeque<Entry>,
    /// (minute, decision) → count.
    minutes: BTreeMap<(u64, String), u64>,
    /// Totals by (dimension, key, decision); dimension: policy | guard | tier.
    totals: BTreeMap<(String, String, String), u64>,
    /// Latencies (µs) by series: `tier:1`, `tier:3`, `guard:<id>`.
    latency: BTreeMap<String, VecDeque<u64>>,
    decisions: u64,
    escalated: u64,
    failed_open: u64,
    failed_closed: u64,
}

/// The shared decision window.
pub struct Decisions {
    capacity: usize,
    inner: Mutex<Inner>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Decisions {
    pub fn new(capacity: usize) -> Decisions {
        Decisions {
            capacity: capacity.max(1),
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Add one decision record.
    pub fn add(
        &self,
        source: &'static str,
        method: &str,
        path: &str,
        route: &str,
        status: u32,
        record: Value,
    ) {
        let Ok(mut g) = self.inner.lock() else { return };
        let ts_ms = now_ms();
        // The query string may carry user data: the window keeps the path only.
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let decision = record["decision"].as_str().unwrap_or("allow").to_string();
        g.seq += 1;
        g.decisions += 1;
        let minute = ts_ms / 60_000;
        *g.minutes.entry((minute, decision.clone())).or_default() += 1;
        while g
            .minutes
            .first_key_value()
            .is_some_and(|((m, _), _)| *m + MINUTES as u64 <= minute)
        {
            g.minutes.pop_first();
        }
        let bump = |dim: &str, key: &str, g: &mut Inner| {
            *g.totals
                .entry((dim.to_string(), key.to_string(), decision.clone()))
                .or_default() += 1;
        };
        bump("policy", record["policy"].as_str().unwrap_or("-"), &mut g);
        let tier = record["tier"].as_u64().unwrap_or(0);
        bump("tier", &tier.to_string(), &mut g);
        let scan = record["scan_us"].as_u64();
        let guards: Vec<String> = record["guards"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|g| g.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        for guard in &guards {
            bump("guard", guard, &mut g);
        }
        let sample = |series: String, us: u64, g: &mut Inner| {
            let q = g.latency.entry(series).or_default();
            if q.len() == SAMPLES {
                q.pop_front();
            }
            q.push_back(us);
        };
        if let Some(us) = scan {
            // The in-filter tiers (rules and tier 2) run in one scan.
            sample("tier:1-2".into(), us, &mut g);
            for guard in &guards {
                sample(format!("guard:{guard}"), us, &mut g);
            }
        }
        if let Some(us) = record["escalation_us"].as_u64() {
            sample("tier:3".into(), us, &mut g);
        }
        if let Some(e) = record.get("escalations") {
            g.escalated += 1;
            g.failed_open += e["failed_open"].as_u64().unwrap_or(0);
            g.failed_closed += e["failed_closed"].as_u64().unwrap_or(0);
        }
        let seq = g.seq;
        g.entries.push_back(Entry {
            seq,
            ts_ms,
            source,
            method: method.to_string(),
            path: path.to_string(),
            route: route.to_string(),
            status,
            record,
        });
        while g.entries.len() > self.capacity {
            g.entries.pop_front();
        }
    }

    /// Recent decisions, newest first, matching the filters (`None`: any), after `since`.
    pub fn recent(&self, f: &Filter, limit: usize) -> Vec<Entry> {
        let Ok(g) = self.inner.lock() else {
            return Vec::new();
        };
        g.entries
            .iter()
            .rev()
            .filter(|e| e.seq > f.since.unwrap_or(0) && f.matches(&e.record))
            .take(limit)
            .cloned()
            .collect()
    }

    /// Aggregates: totals, per-minute rates, latency percentiles, escalation share.
    pub fn summary(&self) -> Value {
        let Ok(g) = self.inner.lock() else {
            return json!({});
        };
        let mut totals: BTreeMap<String, BTreeMap<String, BTreeMap<String, u64>>> = BTreeMap::new();
        for ((dim, key, decision), n) in &g.totals {
            *totals
                .entry(dim.clone())
                .or_default()
                .entry(key.clone())
                .or_default()
                .entry(decision.clone())
                .or_default() += n;
        }
        let mut minutes: BTreeMap<u64, BTreeMap<String, u64>> = BTreeMap::new();
        for ((m, d), n) in &g.minutes {
            *minutes.entry(*m).or_default().entry(d.clone()).or_default() += n;
        }
        let rates: Vec<Value> = minutes
            .into_iter()
            .map(|(m, by)| json!({"minute_ms": m * 60_000, "decisions": by}))
            .collect();
        let latency: Map<String, Value> = g
            .latency
            .iter()
            .map(|(series, q)| {
                let mut v: Vec<u64> = q.iter().copied().collect();
                v.sort_unstable();
                let pct = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
                (
                    series.clone(),
                    json!({"n": v.len(), "p50_us": pct(0.5), "p90_us": pct(0.9), "p99_us": pct(0.99)}),
                )
            })
            .collect();
        json!({
            "decisions": g.decisions,
            "window": g.entries.len(),
            "capacity": self.capacity,
            "escalated": g.escalated,
            "escalation_share": if g.decisions == 0 { 0.0 } else { g.escalated as f64 / g.decisions as f64 },
            "failed_open": g.failed_open,
            "failed_closed": g.failed_closed,
            "totals": totals,
            "rates_per_minute": rates,
            "latency": latency,
        })
    }
}

/// Which decisions `/v1/decisions` returns.
#[derive(Debug, Default, serde::Deserialize)]
pub struct Filter {
    pub policy: Option<String>,
    pub guard: Option<String>,
    pub decision: Option<String>,
    pub tier: Option<u64>,
    pub since: Option<u64>,
    pub limit: Option<usize>,
}

impl Filter {
    fn matches(&self, r: &Value) -> bool {
        let is = |field: &str, want: &Option<String>| {
            want.as_ref()
                .is_none_or(|w| w.is_empty() || r[field].as_str() == Some(w.as_str()))
        };
        is("policy", &self.policy)
            && (is("decision", &self.decision)
                || self.decision.as_deref() == r["output_decision"].as_str())
            && self.tier.is_none_or(|t| {
                r["tier"].as_u64() == Some(t) || r["output_tier"].as_u64() == Some(t)
            })
            && self.guard.as_ref().is_none_or(|g| {
                g.is_empty()
                    || ["guards", "output_guards"].iter().any(|f| {
                        r[*f]
                            .as_array()
                            .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(g.as_str())))
                    })
            })
    }
}

/// The gRPC access-log service Envoy streams its HTTP access logs to.
pub struct AccessLogReceiver {
    pub decisions: Arc<Decisions>,
}

#[tonic::async_trait]
impl AccessLogService for AccessLogReceiver {
    async fn stream_access_logs(
        &self,
        request: Request<Streaming<StreamAccessLogsMessage>>,
    ) -> Result<Response<StreamAccessLogsResponse>, Status> {
        let mut inbound = request.into_inner();
        while let Some(msg) = inbound.message().await? {
            if let Some(LogEntries::HttpLogs(logs)) = msg.log_entries {
                for entry in &logs.log_entry {
                    self.take(entry);
                }
            }
        }
        Ok(Response::new(StreamAccessLogsResponse {}))
    }
}

impl AccessLogReceiver {
    fn take(&self, entry: &HttpAccessLogEntry) {
        let Some(common) = &entry.common_properties else {
            return;
        };
        let Some(record) = record_of(common) else {
            return;
        };
        let request = entry.request.clone().unwrap_or_default();
        let status = entry
            .response
            .as_ref()
            .and_then(|r| r.response_code.as_ref())
            .map_or(0, |c| c.value);
        let method = envoy_types::pb::envoy::config::core::v3::RequestMethod::try_from(
            request.request_method,
        )
        .map(|m| m.as_str_name().to_string())
        .unwrap_or_default();
        let path = if request.original_path.is_empty() {
            &request.path
        } else {
            &request.original_path
        };
        self.decisions
            .add("envoy", &method, path, &common.route_name, status, record);
    }
}

/// The decision record in an access-log entry: dynamic metadata `parapet` (ext_proc mode), or
/// the wasm filter's filter state `wasm.parapet` (a BytesValue / StringValue holding JSON).
fn record_of(
    common: &envoy_types::pb::envoy::data::accesslog::v3::AccessLogCommon,
) -> Option<Value> {
    if let Some(s) = common
        .metadata
        .as_ref()
        .and_then(|m| m.filter_metadata.get("parapet"))
    {
        return Some(Value::Object(
            s.fields
                .iter()
                .map(|(k, v)| (k.clone(), from_proto(v)))
                .collect(),
        ));
    }
    let any = common.filter_state_objects.get("wasm.parapet")?;
    let bytes = match any.type_url.rsplit('/').next() {
        Some("google.protobuf.BytesValue") => {
            <envoy_types::pb::google::protobuf::BytesValue as prost::Message>::decode(
                any.value.as_slice(),
            )
            .ok()?
            .value
        }
        Some("google.protobuf.StringValue") => {
            <envoy_types::pb::google::protobuf::StringValue as prost::Message>::decode(
                any.value.as_slice(),
            )
            .ok()?
            .value
            .into_bytes()
        }
        _ => any.value.clone(),
    };
    serde_json::from_slice::<Value>(&bytes)
        .ok()
        .filter(Value::is_object)
}

fn from_proto(v: &PbValue) -> Value {
    match &v.kind {
        Some(Kind::NullValue(_)) | None => Value::Null,
        Some(Kind::BoolValue(b)) => json!(b),
        Some(Kind::NumberValue(n)) => {
            if n.fract() == 0.0 && n.abs() < 9.0e15 {
                json!(*n as i64)
            } else {
                json!(n)
            }
        }
        Some(Kind::StringValue(s)) => json!(s),
        Some(Kind::ListValue(l)) => Value::Array(l.values.iter().map(from_proto).collect()),
        Some(Kind::StructValue(s)) => Value::Object(
            s.fields
                .iter()
                .map(|(k, v)| (k.clone(), from_proto(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_is_bounded_and_filters() {
        let d = Decisions::new(3);
        for i in 0..5 {
            let decision = if i % 2 == 0 { "block" } else { "allow" };
            d.add(
                "envoy",
                "POST",
                "/v1/chat/completions",
                "r",
                200,
                json!({"decision": decision, "policy": "p", "guards": ["secrets"], "tier": 1, "scan_us": 10 * i}),
            );
        }
        let all = d.recent(&Filter::default(), 10);
        assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), [5, 4, 3]);
        let blocks = d.recent(
            &Filter {
                decision: Some("block".into()),
                ..Filter::default()
            },
            10,
        );
        assert_eq!(blocks.len(), 2);
        let s = d.summary();
        assert_eq!(s["decisions"], 5);
        assert_eq!(s["window"], 3);
        assert_eq!(s["totals"]["guard"]["secrets"]["block"], 3);
        assert_eq!(s["latency"]["tier:1-2"]["n"], 5);
    }
}
