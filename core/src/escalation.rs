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
