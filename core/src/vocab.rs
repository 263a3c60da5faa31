//! The shared vocabulary of the engine: what guards act on and how — hooks, scopes, actions,
//! finding categories, slot paths, the heavy tier's models and failure modes.
//!
//! A leaf module: it depends on nothing else in the crate, and every other module may use it,
//! so the module graph above it stays acyclic (config, detectors, escalation, payload and the
//! engine all speak these types without depending on each other for them).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Where in the traffic a guard runs (named as in the TrueFoundry gateway's hooks).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Hook {
    /// The chat-completion request.
    LlmInput,
    /// The model's response.
    LlmOutput,
    /// An MCP (JSON-RPC) `tools/call` request: `params.arguments`, read as
    /// `tool_call_arguments`.
    McpPreTool,
    /// An MCP tool result: the JSON-RPC `result` (content items, structured content), read as
    /// `tool_results`.
    McpPostTool,
}

impl Hook {
    pub const ALL: [Hook; 4] = [
        Hook::LlmInput,
        Hook::LlmOutput,
        Hook::McpPreTool,
        Hook::McpPostTool,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Hook::LlmInput => "llm_input",
            Hook::LlmOutput => "llm_output",
            Hook::McpPreTool => "mcp_pre_tool",
            Hook::McpPostTool => "mcp_post_tool",
        }
    }

    /// Does this hook read what the client sends (rather than what comes back)?
    pub fn is_request_side(self) -> bool {
        matches!(self, Hook::LlmInput | Hook::McpPreTool)
    }
}

/// Which text slots of a request a guard reads.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// `role: system` messages.
    System,
    /// `role: developer` messages.
    Developer,
    /// `role: user` messages, and `prompt` / `input` of non-chat requests.
    User,
    /// `role: assistant` message content.
    Assistant,
    /// `role: tool` / `role: function` messages: tool results, an indirect-injection surface.
    ToolResults,
    /// `tool_calls[].function.arguments` (and legacy `function_call.arguments`).
    ToolCallArguments,
}

impl Scope {
    pub const ALL: [Scope; 6] = [
        Scope::System,
        Scope::Developer,
        Scope::User,
        Scope::Assistant,
        Scope::ToolResults,
        Scope::ToolCallArguments,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::System => "system",
            Scope::Developer => "developer",
            Scope::User => "user",
            Scope::Assistant => "assistant",
            Scope::ToolResults => "tool_results",
            Scope::ToolCallArguments => "tool_call_arguments",
        }
    }
}

/// What a guard does when its detector fires.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Forward unchanged; record the verdict (shadow mode).
    Audit,
    /// Replace each matched span with a typed placeholder such as `[EMAIL]`.
    Mask,
    /// Refuse the request with an OpenAI-shaped error; it never reaches the upstream.
    Block,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Audit => "audit",
            Action::Mask => "mask",
            Action::Block => "block",
        }
    }
}

/// What family of risk a finding belongs to. Serialised in lowercase (`"pii"`, `"secret"`, …),
/// the values the CLI and the verdict APIs report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Pii,
    Secret,
    Profanity,
    Wordlist,
    Injection,
    Toxicity,
    Custom,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Pii => "pii",
            Category::Secret => "secret",
            Category::Profanity => "profanity",
            Category::Wordlist => "wordlist",
            Category::Injection => "injection",
            Category::Toxicity => "toxicity",
            Category::Custom => "custom",
        }
    }
}

/// The heavy tier's models (the `model` field of a Classify task).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum HeavyModel {
    /// Prompt injection / jailbreak classifier.
    Injection,
    /// Toxic language classifier.
    Toxicity,
    /// Nearest known attack prompts (semantic similarity).
    Similarity,
}

impl HeavyModel {
    pub const ALL: [HeavyModel; 3] = [
        HeavyModel::Injection,
        HeavyModel::Toxicity,
        HeavyModel::Similarity,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HeavyModel::Injection => "injection",
            HeavyModel::Toxicity => "toxicity",
            HeavyModel::Similarity => "similarity",
        }
    }

    pub fn parse(name: &str) -> Option<HeavyModel> {
        HeavyModel::ALL.into_iter().find(|m| m.as_str() == name)
    }

    /// The finding kind when the heavy tier flags a text.
    pub fn flagged_kind(self) -> &'static str {
        match self {
            HeavyModel::Injection => "injection_heavy",
            HeavyModel::Toxicity => "toxicity_heavy",
            HeavyModel::Similarity => "known_attack",
        }
    }

    /// The finding kind when the heavy tier could not be reached and the guard fails closed.
    pub fn unavailable_kind(self) -> &'static str {
        match self {
            HeavyModel::Injection => "injection_unavailable",
            HeavyModel::Toxicity => "toxicity_unavailable",
            HeavyModel::Similarity => "similarity_unavailable",
        }
    }
}

/// What a guard does when its escalation fails (deadline, transport error, overload).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum FailureMode {
    /// Let the text pass (counted as `failed_open`).
    #[default]
    Open,
    /// Act as if the text were flagged (counted as `failed_closed`).
    Closed,
}

/// How a detector escalates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heavy {
    pub model: HeavyModel,
    pub on_failure: FailureMode,
}

/// Where a slot lives in a body, so a masked text can be written back: a JSON pointer
/// (RFC 6901) to the slot's string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SlotPath(Arc<str>);

impl SlotPath {
    /// The slot at a JSON pointer.
    pub fn at(pointer: impl Into<Arc<str>>) -> Self {
        SlotPath(pointer.into())
    }

    /// The JSON pointer of the slot's string.
    pub fn pointer(&self) -> &str {
        &self.0
    }

    /// Does the slot hold JSON text (tool-call `arguments`), so that a value written into it
    /// must be JSON-escaped?
    pub fn is_json_text(&self) -> bool {
        self.0.ends_with("/arguments")
    }
}

/// Append one reference token to a JSON pointer, escaped per RFC 6901.
pub fn push_token(pointer: &mut String, token: &str) {
    pointer.push('/');
    for c in token.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
}

impl std::fmt::Display for SlotPath {
    /// The slot's location in JSONPath-like form: `messages[1].content[0].text`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for seg in self.0.split('/').skip(1) {
            if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
                write!(f, "[{seg}]")?;
            } else {
                if !first {
                    f.write_str(".")?;
                }
                f.write_str(&seg.replace("~1", "/").replace("~0", "~"))?;
            }
            first = false;
        }
        Ok(())
    }
}

/// Serialise a value with its `Display` form (slot paths in findings).
pub fn serialize_display<S: serde::Serializer, T: std::fmt::Display>(
    v: &T,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}
