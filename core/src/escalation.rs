//! Escalation to the heavy tier (tier 3), sans-IO.
//!
//! A detector that cannot settle a slot by itself — a tier-2 model whose score falls inside its
//! uncertainty band with `on_uncertain: escalate`, or a `similarity` guard, which only the heavy
//! tier can compute — reports an *uncertain* match. The engine turns those into
//! [`Escalation`]s in [`crate::Verdict::pending`] instead of findings. The adapter gets them
//! scored (the wasm filter over gRPC with [`proto::ClassifyRequest`], ext-proc in-process) and
//! hands the [`Outcome`]s back to [`crate::Policy::resolve`], which applies the guards' actions
//! for flagged texts and each guard's failure mode (`on_failure: open | closed`) for texts that
//! could not be scored.

use std::sync::Arc;

use serde::Serialize;

use crate::vocab::{Action, Category, Scope, SlotPath};
pub use crate::vocab::{FailureMode, Heavy, HeavyModel};

/// One slot text that the heavy tier must settle for one guard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Escalation {
    pub guard: Arc<str>,
    #[serde(skip)]
    pub guard_index: usize,
    pub detector: &'static str,
    pub category: Category,
    pub action: Action,
    pub model: HeavyModel,
    pub on_failure: FailureMode,
    #[serde(serialize_with = "crate::vocab::serialize_display")]
    pub slot: SlotPath,
    pub scope: Scope,
    /// The whole slot text (JSON-unescaped).
    #[serde(skip)]
    pub text: String,
    /// The lower tier's score that made it uncertain (0 for `similarity`).
    pub tier2_score: f32,
}

/// The heavy tier's answer for one [`Escalation`].
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Scored {
        score: f32,
        flagged: bool,
    },
    /// No answer (deadline, transport error, overload, unknown model): the guard's failure
    /// mode applies.
    Failed,
}

impl Outcome {
    /// Map a Classify result to an outcome.
    pub fn from_result(r: &proto::TaskResult) -> Outcome {
        if r.error.is_empty() && r.score.is_finite() {
            Outcome::Scored {
                score: r.score,
                flagged: r.flagged,
            }
        } else {
            Outcome::Failed
        }
    }

    /// The outcomes for `pending` from a Classify response (a missing result is a failure).
    pub fn from_response(resp: &proto::ClassifyResponse, pending: usize) -> Vec<Outcome> {
        (0..pending)
            .map(|i| {
                resp.results
                    .get(i)
                    .map_or(Outcome::Failed, Outcome::from_result)
            })
            .collect()
    }
}

/// How escalations ended, for adapters' counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutcomeCounts {
    pub flagged: u32,
    pub clear: u32,
    pub failed_open: u32,
    pub failed_closed: u32,
}

impl OutcomeCounts {
    pub fn of(pending: &[Escalation], outcomes: &[Outcome]) -> OutcomeCounts {
        let mut c = OutcomeCounts::default();
        for (i, e) in pending.iter().enumerate() {
            match (outcomes.get(i).unwrap_or(&Outcome::Failed), e.on_failure) {
                (Outcome::Scored { flagged: true, .. }, _) => c.flagged += 1,
                (Outcome::Scored { .. }, _) => c.clear += 1,
                (Outcome::Failed, FailureMode::Open) => c.failed_open += 1,
                (Outcome::Failed, FailureMode::Closed) => c.failed_closed += 1,
            }
        }
        c
    }
}

/// Most tasks in one Classify call (the service refuses more with `INVALID_ARGUMENT`).
pub const MAX_TASKS: usize = 64;

/// The Classify calls for a verdict's pending escalations: one task each, in order, at most
/// [`MAX_TASKS`] per call. The outcomes of the calls, concatenated in order, answer `pending`.
pub fn classify_requests(pending: &[Escalation], request_id: &str) -> Vec<proto::ClassifyRequest> {
    pending
        .chunks(MAX_TASKS)
        .map(|chunk| classify_request(chunk, request_id))
        .collect()
}

/// The Classify request for a verdict's pending escalations (one task each, in order).
pub fn classify_request(pending: &[Escalation], request_id: &str) -> proto::ClassifyRequest {
    proto::ClassifyRequest {
        tasks: pending
            .iter()
            .map(|e| proto::Task {
                model: e.model.as_str().to_string(),
                text: e.text.clone(),
            })
            .collect(),
        request_id: request_id.to_string(),
    }
}

/// gRPC names of the service (`proto/parapet/classify/v1/classify.proto`).
pub const SERVICE: &str = "parapet.classify.v1.Classifier";
pub const METHOD: &str = "Classify";

/// The messages of `proto/parapet/classify/v1/classify.proto`, derived by hand so the wasm
/// filter needs no protoc step.
/// Most retries a policy may ask for (each one is another host's time within the same deadline).
pub const MAX_RETRIES: u32 = 5;

/// The gRPC target the wasm host passes to Envoy for each Classify call: a serialized
/// `envoy.config.core.v3.GrpcService` (Envoy parses the proxy-wasm call's upstream argument as
/// one, else takes it as a cluster name) naming the cluster, with a retry policy: on another
/// host (`previous_hosts`), for answers that mean the call did not run — connection refused or
/// reset, `UNAVAILABLE` (draining), `RESOURCE_EXHAUSTED` (overloaded) — with a short back-off,
/// all within the call's own deadline. `retries: 0`: the bare cluster name.
///
/// The proxy-wasm SDK types that argument as `&str`, so the encoding is kept valid UTF-8 (the
/// project has no `unsafe`): every field is ASCII or a length below 128, and the back-off's
/// nanoseconds are a varint that happens to be a UTF-8 sequence (E1 80 80 05: 10.49 ms; Envoy
/// makes the maximum ten times that). A cluster name too long for that is a config error.
pub fn grpc_service(cfg: &crate::config::EscalationConfig) -> Result<String, String> {
    use prost::Message as _;
    if cfg.retries == 0 {
        return Ok(cfg.cluster.clone());
    }
    let bytes = envoy::GrpcService {
        envoy_grpc: Some(envoy::EnvoyGrpc {
            cluster_name: cfg.cluster.clone(),
        }),
        retry_policy: Some(envoy::RetryPolicy {
            retry_back_off: Some(envoy::BackoffStrategy {
                base_interval: Some(envoy::Duration {
                    seconds: 0,
                    nanos: BACKOFF_NANOS,
                }),
            }),
            num_retries: Some(envoy::UInt32Value { value: cfg.retries }),
            retry_on: RETRY_ON.to_string(),
            // Envoy finds the predicate by its config's type (the name is only a label; a bare
            // name is not found and throws). The type URL keeps only the "/" before the type.
            retry_host_predicate: vec![envoy::RetryHostPredicate {
                name: "p".to_string(),
                typed_config: Some(envoy::Any {
                    type_url:
                        "/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate"
                            .to_string(),
                }),
            }],
        }),
    }
    .encode_to_vec();
    String::from_utf8(bytes).map_err(|_| {
        format!(
            "cluster `{}` is too long to go with retries (at most 125 bytes; or set retries: 0)",
            cfg.cluster
        )
    })
}

/// Retry back-off base: 5 × 2^21 + 97 ns, whose varint (E1 80 80 05) is valid UTF-8.
pub const BACKOFF_NANOS: i32 = 5 * (1 << 21) + 97;

/// When Envoy retries a Classify call (x-envoy-retry-on and x-envoy-retry-grpc-on names):
/// `5xx` includes connection failures, resets and streams refused by a host that is closing;
/// `unavailable` is a draining host, `resource-exhausted` an overloaded one.
pub const RETRY_ON: &str = "5xx,unavailable,resource-exhausted";

/// The few Envoy API messages [`grpc_service`] writes (field numbers from
/// envoy/config/core/v3/grpc_service.proto and base.proto, google/protobuf).
mod envoy {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct GrpcService {
        #[prost(message, optional, tag = "1")]
        pub envoy_grpc: Option<EnvoyGrpc>,
        #[prost(message, optional, tag = "6")]
        pub retry_policy: Option<RetryPolicy>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct EnvoyGrpc {
        #[prost(string, tag = "1")]
        pub cluster_name: String,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct RetryPolicy {
        #[prost(message, optional, tag = "1")]
        pub retry_back_off: Option<BackoffStrategy>,
        #[prost(message, optional, tag = "2")]
        pub num_retries: Option<UInt32Value>,
        #[prost(string, tag = "3")]
        pub retry_on: String,
        #[prost(message, repeated, tag = "5")]
        pub retry_host_predicate: Vec<RetryHostPredicate>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct BackoffStrategy {
        #[prost(message, optional, tag = "1")]
        pub base_interval: Option<Duration>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Duration {
        #[prost(int64, tag = "1")]
        pub seconds: i64,
        #[prost(int32, tag = "2")]
        pub nanos: i32,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct UInt32Value {
        #[prost(uint32, tag = "1")]
        pub value: u32,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct RetryHostPredicate {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(message, optional, tag = "2")]
        pub typed_config: Option<Any>,
    }
    /// google.protobuf.Any with an empty value (the predicate has no settings).
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Any {
        #[prost(string, tag = "1")]
        pub type_url: String,
    }
}

pub mod proto {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ClassifyRequest {
        #[prost(message, repeated, tag = "1")]
        pub tasks: Vec<Task>,
        #[prost(string, tag = "2")]
        pub request_id: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Task {
        #[prost(string, tag = "1")]
        pub model: String,
        #[prost(string, tag = "2")]
        pub text: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ClassifyResponse {
        #[prost(message, repeated, tag = "1")]
        pub results: Vec<TaskResult>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TaskResult {
        #[prost(float, tag = "1")]
        pub score: f32,
        #[prost(bool, tag = "2")]
        pub flagged: bool,
        #[prost(uint32, tag = "3")]
        pub windows: u32,
        #[prost(message, repeated, tag = "4")]
        pub matches: Vec<SimilarMatch>,
        #[prost(string, tag = "5")]
        pub error: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct SimilarMatch {
        #[prost(uint32, tag = "1")]
        pub id: u32,
        #[prost(float, tag = "2")]
        pub score: f32,
        #[prost(string, tag = "3")]
        pub text: String,
        #[prost(string, tag = "4")]
        pub source: String,
    }
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::proto::*;

    /// The field numbers and wire types of classify.proto, pinned byte for byte.
    #[test]
    fn wire_format_matches_the_proto() {
        let req = ClassifyRequest {
            tasks: vec![Task {
                model: "a".into(),
                text: "b".into(),
            }],
            request_id: "c".into(),
        };
        // tasks (1, len) { model (1, len) "a", text (2, len) "b" }, request_id (2, len) "c"
        assert_eq!(
            req.encode_to_vec(),
            [0x0a, 6, 0x0a, 1, b'a', 0x12, 1, b'b', 0x12, 1, b'c']
        );
        let resp = ClassifyResponse {
            results: vec![TaskResult {
                score: 1.0,
                flagged: true,
                windows: 2,
                matches: vec![SimilarMatch {
                    id: 3,
                    score: 0.5,
                    text: "t".into(),
                    source: "s".into(),
                }],
                error: "e".into(),
            }],
        };
        let bytes = resp.encode_to_vec();
        let mut want = vec![0x0a, 31, 0x0d, 0, 0, 0x80, 0x3f, 0x10, 1, 0x18, 2, 0x22, 16];
        want.extend([0x08, 3, 0x15, 0, 0, 0, 0x3f, 0x1a, 1, b't', 0x22, 1, b's']);
        want.extend([0x2a, 1, b'e']);
        // The nested match is 13 bytes; fix the two lengths computed above.
        want[12] = 13;
        want[1] = (want.len() - 2) as u8;
        assert_eq!(bytes, want);
        assert_eq!(ClassifyResponse::decode(bytes.as_slice()).ok(), Some(resp));
    }

    #[test]
    fn proto_file_names_the_same_fields() {
        let proto = include_str!("../../proto/parapet/classify/v1/classify.proto");
        for line in [
            "repeated Task tasks = 1;",
            "string request_id = 2;",
            "string model = 1;",
            "string text = 2;",
            "repeated TaskResult results = 1;",
            "float score = 1;",
            "bool flagged = 2;",
            "uint32 windows = 3;",
            "repeated SimilarMatch matches = 4;",
            "string error = 5;",
            "uint32 id = 1;",
            "string source = 4;",
            "package parapet.classify.v1;",
            "rpc Classify(ClassifyRequest) returns (ClassifyResponse);",
        ] {
            assert!(proto.contains(line), "classify.proto lacks `{line}`");
        }
        assert!(super::SERVICE.ends_with(".Classifier"));
    }
}
