//! Parapet's guard engine, host-agnostic and sans-IO.
//!
//! The same engine runs inside the proxy-wasm filter (in Envoy's data path), in the `parapet`
//! CLI and in the native services. Adapters hand it bytes and act on the [`engine::Verdict`] it
//! returns; it never performs IO itself.
//!
//! Flow: a versioned [`config::Config`] is parsed strictly and compiled once into a
//! [`policy::Policy`] (regexes, automata, word lists). Per request, [`payload`] extracts the
//! text slots of an OpenAI chat-completion body (messages, content parts, tool calls, tool
//! results) without losing unknown fields; every guard whose hook and scope match runs its
//! detector over each slot; [`engine`] turns the findings into a decision — allow, audit,
//! mask (with the rewritten body) or block (with an OpenAI-shaped error).

mod byte_masks;
#[cfg(feature = "models")]
pub mod classifier;
pub mod coding;
pub mod config;
pub mod decision_log;
pub mod detectors;
pub mod dialect;
pub mod engine;
pub mod escalation;
mod event_template;
pub mod excerpt;
pub mod exchange;
mod json_pull;
#[cfg(test)]
mod json_shapes;
pub mod mask;
pub mod mcp;
pub mod normalize;
pub mod payload;
pub mod policies;
pub mod policy;
pub mod reply;
#[cfg(feature = "schema")]
pub mod schema;
pub mod sse;
pub mod stream;
mod tree_free;
pub mod verdict_api;
pub mod vocab;

pub use config::{Config, ConfigError};
pub use engine::{Decision, Finding, Verdict};
pub use policies::PolicySet;
pub use policy::Policy;
