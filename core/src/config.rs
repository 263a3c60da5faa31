//! The versioned policy schema, shared by the filter's `pluginConfig`, the CLI and the native
//! services.
//!
//! Parsing is strict: unknown fields are errors, and every error names the field path and what
//! to do (`guards[2].detector.patterns[0].pattern: invalid regex: ...`). Structural errors come
//! from serde (with the path tracked by `serde_path_to_error`); semantic ones (duplicate ids,
//! thresholds out of range, regexes that do not compile) come from [`crate::Policy::compile`].

use serde::{Deserialize, Serialize};

pub use crate::vocab::{Action, Hook, Scope};

/// Default `stream.hold_back_bytes`: text at the end of each channel that is never released
/// before the stream ends.
pub const HOLD_BACK_BYTES: usize = 64;
/// Default `stream.max_token_hold_bytes`: a whitespace-free token at the end of the text is
/// held while it grows, up to this length.
pub const MAX_TOKEN_HOLD_BYTES: usize = 4096;

use crate::detectors::{
    injection::InjectionOptions,
    pii::PiiOptions,
    regex_custom::RegexOptions,
    secrets::SecretsOptions,
    wordlist::{ProfanityOptions, WordlistOptions},
};

/// The schema version this build reads.
pub const SCHEMA_VERSION: u32 = 1;

/// Default largest request body the filter buffers and scans (1 MiB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// A whole policy.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Must be [`SCHEMA_VERSION`].
    pub version: u32,
    /// What to do with bodies that cannot be scanned.
    #[serde(default)]
    pub limits: Limits,
    /// The reply sent when a guard blocks, unless the guard overrides it.
    #[serde(default)]
    pub block_response: BlockResponse,
    /// If set, the filter adds this response header with the decision
    /// (`allow`, `audit`, `mask`, `block`, `skipped`).
    #[serde(default)]
    pub decision_header: Option<String>,
    /// When request checks run relative to forwarding: `sequential` (default) or `parallel`.
    #[serde(default)]
    pub input_mode: InputMode,
    /// Which MCP (JSON-RPC) traffic the `mcp_pre_tool` / `mcp_post_tool` guards read.
    #[serde(default)]
    pub mcp: McpConfig,
    /// How much of a streamed response is held back while it is scanned.
    #[serde(default)]
    pub stream: StreamConfig,
    /// Where and how uncertain texts go to the heavy tier (ext-proc's Classify service).
    #[serde(default)]
    pub escalation: EscalationConfig,
    /// What the wasm filter writes about each decision for Envoy's access logs and traces.
    #[serde(default)]
    pub observability: ObservabilityConfig,
    /// The guards, evaluated in order; all run, and the strongest action wins
    /// (`block` > `mask` > `audit`).
    pub guards: Vec<GuardConfig>,
}

/// How a request's policy is chosen when a config names several (`policies`). The steps run in
/// this order and each later one that applies overrides the earlier: the config's
/// `default_policy`; the route's (Envoy route metadata `filter_metadata.<route_namespace>.policy`);
/// the tenant's (`tenant`); the request's own choice (`request`), honoured only for names on the
/// allow-list of the policy in force after the first three steps.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SelectionConfig {
    /// The route metadata namespace read for `policy`. Default `parapet`.
    #[serde(default = "default_route_namespace")]
    pub route_namespace: String,
    /// Tenant → policy, the tenant read from a request header or from dynamic metadata that an
    /// authentication filter wrote (e.g. a JWT claim).
    #[serde(default)]
    pub tenant: Option<TenantSelection>,
    /// A per-request choice by header.
    #[serde(default)]
    pub request: RequestSelection,
}

impl Default for SelectionConfig {
    fn default() -> Self {
        SelectionConfig {
            route_namespace: default_route_namespace(),
            tenant: None,
            request: RequestSelection::default(),
        }
    }
}

fn default_route_namespace() -> String {
    "parapet".to_string()
}

/// Where the tenant comes from and which policy each tenant gets. The header is read first,
/// then the metadata; a tenant not in `policies` keeps the route's policy.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TenantSelection {
    /// A request header carrying the tenant (lowercase), e.g. `x-tenant-id`. Trust it only
    /// where the mesh sets it (strip it at the edge otherwise).
    #[serde(default)]
    pub header: Option<String>,
    /// A string in the request's dynamic metadata, e.g. the `tenant` claim that
    /// `envoy.filters.http.jwt_authn` wrote under `payload_in_metadata: jwt_payload`:
    /// `{"namespace": "envoy.filters.http.jwt_authn", "path": ["jwt_payload", "tenant"]}`.
    #[serde(default)]
    pub metadata: Option<MetadataPath>,
    /// Tenant value → policy name.
    pub policies: std::collections::BTreeMap<String, String>,
}

/// A value inside Envoy dynamic metadata: `filter_metadata[namespace]` then the struct keys.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct MetadataPath {
    pub namespace: String,
    pub path: Vec<String>,
}

/// A request naming its own policy by header.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RequestSelection {
    /// The header (lowercase). Default `x-parapet-policy`.
    #[serde(default = "default_request_header")]
    pub header: String,
    /// Policy in force (after route and tenant) → the names a request may choose there. A name
    /// not on the list (or no list) is ignored and counted as refused.
    #[serde(default)]
    pub allow: std::collections::BTreeMap<String, Vec<String>>,
}

impl Default for RequestSelection {
    fn default() -> Self {
        RequestSelection {
            header: default_request_header(),
            allow: Default::default(),
        }
    }
}

fn default_request_header() -> String {
    "x-parapet-policy".to_string()
}

/// A config document: today's single policy (`{"version", "guards", ...}`), or several named
/// policies with one default and the rules that choose among them:
/// `{"version": 1, "default_policy": "standard", "policies": {"standard": {...}, "strict": {...}},
/// "selection": {...}}`. Each named policy has the single form's fields (its `version` may be
/// left out).
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// The policies by name, in document order. The single form's policy is named `default`.
    pub policies: Vec<(String, Config)>,
    /// Written in the named form (`policies: {...}`): errors name `policies.<name>.…`.
    pub named: bool,
    pub default_policy: String,
    pub selection: SelectionConfig,
}

/// The named form's top level.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NamedPolicies {
    version: u32,
    #[serde(default)]
    default_policy: Option<String>,
    policies: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    selection: SelectionConfig,
}

/// The name of the single form's policy, and of the named form's default when it sets none.
pub const DEFAULT_POLICY_NAME: &str = "default";

/// Parse JSON text for a config (syntax errors are reported at `config`).
fn parse_json(bytes: &[u8]) -> Result<serde_json::Value, ConfigError> {
    serde_json::from_slice(bytes).map_err(|e| ConfigError::new("config", e.to_string()))
}

/// A path-tracked serde error as a config error naming the field.
fn path_error<E: std::fmt::Display>(e: serde_path_to_error::Error<E>) -> ConfigError {
    let path = match e.path().to_string() {
        p if p == "." => "config".to_string(),
        p => p,
    };
    ConfigError::new(path, hint(&e.into_inner().to_string())).rooted()
}

/// Only [`SCHEMA_VERSION`] is read.
fn check_version(version: u32) -> Result<(), ConfigError> {
    if version != SCHEMA_VERSION {
        return Err(ConfigError::new(
            "version",
            format!(
                "unsupported schema version {version}; this build reads version {SCHEMA_VERSION}"
            ),
        ));
    }
    Ok(())
}

impl Document {
    /// Parse either form. Errors name the field (`policies.strict.guards[0].action: ...`).
    pub fn from_json(bytes: &[u8]) -> Result<Document, ConfigError> {
        Document::from_value(parse_json(bytes)?)
    }

    pub fn from_value(value: serde_json::Value) -> Result<Document, ConfigError> {
        if value.get("policies").is_none() {
            let config = Config::from_value(value)?;
            return Ok(Document {
                policies: vec![(DEFAULT_POLICY_NAME.to_string(), config)],
                named: false,
                default_policy: DEFAULT_POLICY_NAME.to_string(),
                selection: SelectionConfig::default(),
            });
        }
        let named: NamedPolicies = serde_path_to_error::deserialize(value).map_err(path_error)?;
        check_version(named.version)?;
        if named.policies.is_empty() {
            return Err(ConfigError::new(
                "policies",
                "name at least one policy (or use the single-policy form)",
            ));
        }
        let mut policies = Vec::with_capacity(named.policies.len());
        for (name, mut body) in named.policies {
            let at = format!("policies.{name}");
            if !is_policy_name(&name) {
                return Err(ConfigError::new(
                    at,
                    "a policy name must be non-empty and use only [A-Za-z0-9_.-]",
                ));
            }
            match body.as_object_mut() {
                Some(map) => {
                    map.entry("version")
                        .or_insert_with(|| serde_json::Value::from(named.version));
                }
                None => return Err(ConfigError::new(at, "expected a policy object")),
            }
            let config = Config::from_value(body).map_err(|e| {
                ConfigError::new(
                    if e.path == "config" {
                        at.clone()
                    } else {
                        format!("{at}.{}", e.path)
                    },
                    e.message,
                )
            })?;
            policies.push((name, config));
        }
        let default_policy = match named.default_policy {
            Some(name) => name,
            None if policies.len() == 1 => policies[0].0.clone(),
            None => DEFAULT_POLICY_NAME.to_string(),
        };
        Ok(Document {
            policies,
            named: true,
            default_policy,
            selection: named.selection,
        })
    }
}

/// Policy names appear in stats names, headers and metadata.
pub fn is_policy_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
}

/// The decision record each exchange leaves in Envoy (`core/src/decision_log.rs`): for access
/// logs, the access-log service (and so the dashboard) and traces.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ObservabilityConfig {
    /// Write each exchange's decision record: the filter as filter state `wasm.parapet`
    /// (JSON; `%FILTER_STATE(wasm.parapet:PLAIN)%`), ext_proc mode as dynamic metadata
    /// `parapet`. Off, neither is written and no excerpt is made. Default true.
    #[serde(default = "default_true")]
    pub record: bool,
    /// Also write each span tag as its own filter state `wasm.parapet.<field>` (`decision`,
    /// `policy`, `guards`, `kinds`, `tier`, `scan_us`, `escalation_us`, `output_decision`), which
    /// tracing `custom_tags` read. Default false: a few host calls per request that only a
    /// tracing config uses (envoy/cascade.yaml's policy turns it on).
    #[serde(default)]
    pub trace_tags: bool,
}

impl Default for ObservabilityConfig {
    fn default() -> Self {
        ObservabilityConfig {
            record: true,
            trace_tags: false,
        }
    }
}

/// When the request-side guards (`llm_input`, `mcp_pre_tool`) run.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum InputMode {
    /// Hold the request body until the checks decide, then forward, rewrite or refuse it. No
    /// byte of a blocked request reaches the upstream; `mask` is possible.
    #[default]
    Sequential,
    /// Forward the request at once and check it alongside; the upstream response is held until
    /// the checks decide, and a block replaces it (the upstream call is reset). Hides the
    /// checks' latency behind the upstream's; a blocked request has reached the upstream, and
    /// request-side `mask` is impossible (a config error).
    Parallel,
}

impl InputMode {
    pub fn as_str(self) -> &'static str {
        match self {
            InputMode::Sequential => "sequential",
            InputMode::Parallel => "parallel",
        }
    }
}

/// The heavy tier, as the wasm filter reaches it. ext-proc runs the heavy models in-process
/// and ignores `cluster`; `timeout_ms` bounds each escalation in both.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct EscalationConfig {
    /// The Envoy cluster (HTTP/2, gRPC) of the ext-proc service. Default `parapet_heavy`.
    #[serde(default = "default_escalation_cluster")]
    pub cluster: String,
    /// Deadline of one Classify call, in milliseconds; past it the guards' `on_failure`
    /// applies. Default 250.
    #[serde(default = "default_escalation_timeout")]
    pub timeout_ms: u32,
    /// Retries of a Classify call (idempotent) on another host of the cluster, by Envoy, within
    /// the same deadline, when the call could not be answered: connection refused or reset, a
    /// host that is draining or overloaded (`UNAVAILABLE`, `RESOURCE_EXHAUSTED`). Default 1;
    /// 0 sends each call once.
    #[serde(default = "default_escalation_retries")]
    #[cfg_attr(feature = "schema", schemars(range(max = 5)))]
    pub retries: u32,
}

fn default_escalation_retries() -> u32 {
    1
}

fn default_escalation_cluster() -> String {
    "parapet_heavy".to_string()
}

fn default_escalation_timeout() -> u32 {
    250
}

impl Default for EscalationConfig {
    fn default() -> Self {
        EscalationConfig {
            cluster: default_escalation_cluster(),
            timeout_ms: default_escalation_timeout(),
            retries: default_escalation_retries(),
        }
    }
}

/// Stream guard settings: the trade between time-to-first-token and what can be caught.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct StreamConfig {
    /// The last this-many bytes of each streamed text are held until more text (or the end)
    /// arrives, so values that span several tokens (phone numbers, `key = value`, IBANs with
    /// spaces) complete before any of them leaves. Default 64; 0 holds only the token in
    /// progress. Time-to-first-token grows by about this many bytes of model output.
    #[serde(default = "default_hold_back")]
    pub hold_back_bytes: usize,
    /// A whitespace-free token at the end of the text is held while it grows, up to this
    /// length (a secret is one token). Default 4096.
    #[serde(default = "default_max_token_hold")]
    pub max_token_hold_bytes: usize,
}

impl Default for StreamConfig {
    fn default() -> Self {
        StreamConfig {
            hold_back_bytes: default_hold_back(),
            max_token_hold_bytes: default_max_token_hold(),
        }
    }
}

fn default_hold_back() -> usize {
    HOLD_BACK_BYTES
}

fn default_max_token_hold() -> usize {
    MAX_TOKEN_HOLD_BYTES
}

/// MCP settings.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct McpConfig {
    /// JSON-RPC methods whose requests (`mcp_pre_tool`) and results (`mcp_post_tool`) are read.
    /// Default `["tools/call"]`; every other method passes untouched. For `tools/call` the
    /// request's `params.arguments` is read; for other methods, all of `params`.
    #[serde(default = "default_mcp_methods")]
    pub methods: Vec<String>,
}

impl Default for McpConfig {
    fn default() -> Self {
        McpConfig {
            methods: default_mcp_methods(),
        }
    }
}

fn default_mcp_methods() -> Vec<String> {
    vec!["tools/call".to_string()]
}

/// Body size and parse-failure policy.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Bodies larger than this are not buffered for scanning; see `on_oversize`.
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: usize,
    /// `block` (default): answer 413 with an OpenAI-shaped error. `pass`: forward unscanned and
    /// record the decision `skipped`.
    #[serde(default = "default_block")]
    pub on_oversize: UnscannablePolicy,
    /// For bodies that are not JSON (or not valid UTF-8 JSON): `block` (default) answers 400;
    /// `pass` forwards them unscanned, recorded as `skipped`.
    #[serde(default = "default_block")]
    pub on_invalid_body: UnscannablePolicy,
    /// For JSON request bodies in no API shape the guard reads (not OpenAI chat, responses,
    /// completions or embeddings, Anthropic messages, Gemini or MCP), and for upgraded
    /// connections (WebSocket), whose frames it does not read: `block` (default) answers 400;
    /// `pass` forwards them unread, recorded as `skipped` with the reason — never `allow`.
    #[serde(default = "default_block")]
    pub on_unrecognized: UnscannablePolicy,
    /// Upper bound on a decoded (`content-encoding`) body, against decompression bombs: a body
    /// that inflates past it is treated as oversize. Default: `max_body_bytes`.
    #[serde(default)]
    pub max_decoded_bytes: Option<usize>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            on_oversize: UnscannablePolicy::Block,
            on_invalid_body: UnscannablePolicy::Block,
            on_unrecognized: UnscannablePolicy::Block,
            max_decoded_bytes: None,
        }
    }
}

fn default_max_body_bytes() -> usize {
    DEFAULT_MAX_BODY_BYTES
}

fn default_block() -> UnscannablePolicy {
    UnscannablePolicy::Block
}

/// What happens to a body the engine cannot scan.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum UnscannablePolicy {
    Block,
    Pass,
}

/// The OpenAI-shaped error a block produces.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BlockResponse {
    /// HTTP status, 400..=599. Default 400, which the `openai` client raises as
    /// `BadRequestError`.
    #[serde(default = "default_block_status")]
    pub status: u16,
    /// `error.message`. `{guard}`, `{categories}` and `{kinds}` are replaced by the blocking
    /// guard's id and the categories and kinds it found (never the matched text).
    #[serde(default = "default_block_message")]
    pub message: String,
    /// `error.type`.
    #[serde(default = "default_block_type", rename = "type")]
    pub error_type: String,
    /// `error.code`.
    #[serde(default = "default_block_code")]
    pub code: String,
}

impl Default for BlockResponse {
    fn default() -> Self {
        BlockResponse {
            status: default_block_status(),
            message: default_block_message(),
            error_type: default_block_type(),
            code: default_block_code(),
        }
    }
}

fn default_block_status() -> u16 {
    400
}
fn default_block_message() -> String {
    "Request blocked by guardrail policy: guard '{guard}' found {categories}.".to_string()
}
fn default_block_type() -> String {
    "invalid_request_error".to_string()
}
fn default_block_code() -> String {
    "content_policy_violation".to_string()
}

/// Per-guard overrides of the block reply; unset fields fall back to the policy's.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct BlockResponseOverride {
    pub status: Option<u16>,
    pub message: Option<String>,
    #[serde(rename = "type")]
    pub error_type: Option<String>,
    pub code: Option<String>,
}

/// One guard: id × hook × scope × detector × action × threshold.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct GuardConfig {
    /// Unique, `[A-Za-z0-9_-]+`; used in stats names and findings.
    pub id: String,
    #[serde(default = "default_hook")]
    pub hook: Hook,
    /// Slots the guard reads; default: all of them.
    #[serde(default)]
    pub scope: Option<Vec<Scope>>,
    pub detector: DetectorConfig,
    pub action: Action,
    /// Matches scoring below this are ignored. Default 0.5.
    #[serde(default)]
    pub threshold: Option<f32>,
    #[serde(default)]
    pub block_response: Option<BlockResponseOverride>,
    /// A disabled guard is compiled (so its config is checked) but never runs.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// For request-side `mask` guards: number the placeholders (`[EMAIL_1]`) and put the
    /// original values back where the placeholders come back in this request's response
    /// (buffered or streamed). The mapping lives only as long as the request.
    #[serde(default)]
    pub reversible: bool,
}

fn default_hook() -> Hook {
    Hook::LlmInput
}
fn default_true() -> bool {
    true
}

/// The detector a guard runs, tagged by `type`.
///
/// Deserialised by hand rather than with `#[serde(tag = "type")]`: serde buffers internally
/// tagged content, which hides the path of an error inside the options
/// (`guards[0].detector.entities[0]`); here the options are read with their path tracked.
#[derive(Debug, Clone, PartialEq)]
pub enum DetectorConfig {
    Pii(PiiOptions),
    Secrets(SecretsOptions),
    Profanity(ProfanityOptions),
    Wordlist(WordlistOptions),
    InjectionHeuristics(InjectionOptions),
    Regex(RegexOptions),
    /// A shipped tier-2 model; needs the `models` feature.
    Model(serde_json::Value),
    /// Nearest known attacks; always settled by the heavy tier.
    Similarity(crate::detectors::similarity::SimilarityOptions),
}

/// Detector `type` names, as written in configs.
pub const DETECTOR_TYPES: [&str; 8] = [
    "pii",
    "secrets",
    "profanity",
    "wordlist",
    "injection_heuristics",
    "regex",
    "model",
    "similarity",
];

impl<'de> Deserialize<'de> for DetectorConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut map = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        let kind = match map.remove("type") {
            Some(serde_json::Value::String(t)) => t,
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "type: expected a string, found {other}"
                )))
            }
            None => return Err(D::Error::missing_field("type")),
        };
        let options = serde_json::Value::Object(map);
        let parsed = match kind.as_str() {
            "pii" => options_at(options).map(DetectorConfig::Pii),
            "secrets" => options_at(options).map(DetectorConfig::Secrets),
            "profanity" => options_at(options).map(DetectorConfig::Profanity),
            "wordlist" => options_at(options).map(DetectorConfig::Wordlist),
            "injection_heuristics" => options_at(options).map(DetectorConfig::InjectionHeuristics),
            "regex" => options_at(options).map(DetectorConfig::Regex),
            // Checked when compiled (the options type lives behind the `models` feature).
            "model" => Ok(DetectorConfig::Model(options)),
            "similarity" => options_at(options).map(DetectorConfig::Similarity),
            other => return Err(D::Error::unknown_variant(other, &DETECTOR_TYPES)),
        };
        parsed.map_err(D::Error::custom)
    }
}

/// Read detector options, reporting errors as `field.path: message` relative to the detector.
pub(crate) fn options_at<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        if path == "." {
            message
        } else {
            format!("{path}: {message}")
        }
    })
}

/// A config error: the path of the offending field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    pub path: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Every error found in a config, in document order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", display_errors(.0))]
pub struct ConfigErrors(pub Vec<ConfigError>);

fn display_errors(errors: &[ConfigError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl ConfigError {
    /// Errors from nested parsers come as `field: message` relative to `path`; join the paths
    /// so the error names the innermost field (`guards[0].detector` + `entities[0]: ...`).
    pub(crate) fn rooted(self) -> ConfigError {
        match self.message.split_once(": ") {
            Some((field, rest))
                if !field.is_empty()
                    && field
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_.[]".contains(c)) =>
            {
                ConfigError::new(format!("{}.{field}", self.path), rest.to_string())
            }
            _ => self,
        }
    }
}

impl From<ConfigError> for ConfigErrors {
    fn from(e: ConfigError) -> Self {
        ConfigErrors(vec![e])
    }
}

impl Config {
    /// Parse a JSON config. Errors name the field path.
    pub fn from_json(bytes: &[u8]) -> Result<Config, ConfigError> {
        // Through a `Value`, as every other config path goes: one deserializer for the config
        // types in the .wasm, not one per input kind.
        Config::from_value(parse_json(bytes)?)
    }

    /// Parse a config already read into a JSON value (e.g. from YAML).
    pub fn from_value(value: serde_json::Value) -> Result<Config, ConfigError> {
        Config::checked(serde_path_to_error::deserialize(value))
    }

    /// Turn a path-tracked serde result into a config with a supported version.
    fn checked<E: std::fmt::Display>(
        parsed: Result<Config, serde_path_to_error::Error<E>>,
    ) -> Result<Config, ConfigError> {
        let config = parsed.map_err(path_error)?;
        check_version(config.version)?;
        Ok(config)
    }

    /// The shipped default policy: every detector on. Secrets and injection block; PII is
    /// masked; profanity (medium severity and up) blocks.
    pub fn default_policy_json() -> &'static str {
        include_str!("../data/default_policy.json")
    }

    pub fn default_policy() -> Result<Config, ConfigError> {
        Config::from_json(Config::default_policy_json().as_bytes())
    }
}

/// serde's messages say what was expected; add how to fix the common cases.
fn hint(message: &str) -> String {
    if message.starts_with("missing field `version`") {
        return format!("{message}; add \"version\": {SCHEMA_VERSION}");
    }
    message.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(json: &str) -> String {
        Config::from_json(json.as_bytes()).unwrap_err().to_string()
    }

    #[test]
    fn default_policy_parses() {
        let c = Config::default_policy().unwrap();
        assert!(!c.guards.is_empty());
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(
            err(r#"{"version": 1, "guards": [{"id": "a", "detector": {"type": "pii"}, "action": "explode"}]}"#)
                .split(':').next().unwrap(),
            "guards[0].action"
        );
        assert!(
            err(r#"{"version": 1, "guards": [], "gaurds": []}"#).contains("unknown field `gaurds`")
        );
        assert!(err(r#"{"version": 2, "guards": []}"#)
            .starts_with("version: unsupported schema version 2"));
        assert!(err(r#"{"guards": []}"#).contains("add \"version\": 1"));
        assert!(err(r#"{"version": 1, "guards": [{"id": "a", "detector": {"type": "nope"}, "action": "block"}]}"#)
            .starts_with("guards[0].detector"));
        assert!(err(r#"{"version": 1, "guards": [{"id": "a", "detector": {"type": "pii", "bogus": 1}, "action": "block"}]}"#)
            .starts_with("guards[0].detector"));
        assert!(err(r#"{"version": 1, "guards": [{"id": "a", "detector": {"type": "pii", "entities": ["email", "emial"]}, "action": "mask"}]}"#)
            .starts_with("guards[0].detector.entities[1]: unknown variant `emial`"));
        assert!(err(r#"{"version": 1, "guards": [{"id": "a", "detector": {"type": "regex", "patterns": [{"kind": "k"}]}, "action": "mask"}]}"#)
            .starts_with("guards[0].detector.patterns[0]: missing field `pattern`"));
        assert!(err(r#"{"version": 1, "guards": [{"id": "a", "detector": {"type": "nope"}, "action": "mask"}]}"#)
            .contains("unknown variant `nope`, expected one of `pii`, `secrets`"));
    }
}
