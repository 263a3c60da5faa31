//! Config → compiled policy.
//!
//! Compilation does all the expensive work once — regexes, automata, word lists — and checks
//! what serde cannot: unique ids, thresholds in range, supported hooks, compilable patterns.
//! Every error names the field: `guards[2].detector.patterns[0].pattern: invalid regex: ...`.
//! A compiled [`Policy`] is immutable and shared (`Arc`) by every request.

use std::sync::Arc;

use crate::config::{
    Action, BlockResponse, BlockResponseOverride, Config, ConfigError, ConfigErrors,
    DetectorConfig, EscalationConfig, Hook, InputMode, Limits, Scope, StreamConfig,
};
use crate::detectors::{
    injection::InjectionHeuristics, pii::PiiDetector, regex_custom::RegexDetector,
    secrets::SecretsDetector, similarity::SimilarityDetector, wordlist::WordlistDetector, Detector,
};

/// Score threshold a guard uses when its config sets none.
pub const DEFAULT_THRESHOLD: f32 = 0.5;

/// The slots a response has: what an `llm_output` guard can read.
pub const OUTPUT_SCOPES: [Scope; 2] = [Scope::Assistant, Scope::ToolCallArguments];

/// The scope of what an MCP hook reads: `tools/call` arguments, or tool results.
pub fn mcp_scope(hook: Hook) -> Option<Scope> {
    match hook {
        Hook::McpPreTool => Some(Scope::ToolCallArguments),
        Hook::McpPostTool => Some(Scope::ToolResults),
        Hook::LlmInput | Hook::LlmOutput => None,
    }
}

/// A compiled guard.
pub struct Guard {
    pub id: Arc<str>,
    pub hook: Hook,
    /// Bit set over [`Scope::ALL`] indices.
    scope_mask: u8,
    pub detector: Box<dyn Detector>,
    pub action: Action,
    pub threshold: f32,
    pub block_response: BlockResponse,
    pub enabled: bool,
    /// Masks with numbered placeholders whose values come back in the response.
    pub reversible: bool,
}

impl Guard {
    /// Does this guard read slots of `scope`?
    pub fn reads(&self, scope: Scope) -> bool {
        self.scope_mask & scope_bit(scope) != 0
    }

    /// The scopes this guard reads, in [`Scope::ALL`] order.
    pub fn scopes(&self) -> impl Iterator<Item = Scope> + '_ {
        Scope::ALL.into_iter().filter(|s| self.reads(*s))
    }
}

fn scope_bit(scope: Scope) -> u8 {
    let i = Scope::ALL.iter().position(|s| *s == scope).unwrap_or(0);
    1 << i
}

/// A compiled, immutable policy.
pub struct Policy {
    /// The policy's name in its config (`default` for the single-policy form).
    pub name: Arc<str>,
    pub guards: Vec<Guard>,
    pub limits: Limits,
    pub block_response: BlockResponse,
    pub decision_header: Option<String>,
    pub input_mode: InputMode,
    pub stream: StreamConfig,
    /// JSON-RPC methods the MCP hooks read.
    pub mcp_methods: Vec<String>,
    /// How the heavy tier is reached.
    pub escalation: EscalationConfig,
    /// What the wasm host names as the gRPC target of each Classify call: Envoy's
    /// `config.core.v3.GrpcService` (the cluster and its retry policy), serialized once here
    /// ([`crate::escalation::grpc_service`]).
    pub escalation_target: String,
    /// What the filter writes about decisions for Envoy's logs and traces.
    pub observability: crate::config::ObservabilityConfig,
    /// Derived once from `guards`: an enabled guard escalates to the heavy tier.
    escalates: bool,
    /// Derived once from `guards`: an enabled request-side guard masks.
    rewrites_request: bool,
    /// Derived once from `guards`: an enabled `llm_output` guard.
    reads_output: bool,
    /// Derived once from `guards`: an enabled `mcp_post_tool` guard.
    reads_tool_results: bool,
    /// Derived once from `guards`: an enabled reversible mask guard.
    restores: bool,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("name", &self.name)
            .field(
                "guards",
                &self.guards.iter().map(|g| &*g.id).collect::<Vec<_>>(),
            )
            .field("limits", &self.limits)
            .finish()
    }
}

impl Policy {
    /// Compile a parsed config, collecting every error rather than stopping at the first.
    pub fn compile(config: &Config) -> Result<Policy, ConfigErrors> {
        let mut errors = Vec::new();
        check_block_response("block_response", &config.block_response, &mut errors);
        if config.limits.max_body_bytes == 0 {
            errors.push(ConfigError::new(
                "limits.max_body_bytes",
                "must be at least 1",
            ));
        }
        if let Some(h) = &config.decision_header {
            if !is_header_name(h) {
                errors.push(ConfigError::new(
                    "decision_header",
                    format!("`{h}` is not a valid lowercase HTTP header name (use e.g. `x-parapet-decision`)"),
                ));
            }
        }
        let mut seen = std::collections::HashSet::new();
        let mut guards = Vec::with_capacity(config.guards.len());
        for (i, g) in config.guards.iter().enumerate() {
            let at = |field: &str| format!("guards[{i}].{field}");
            if g.id.is_empty()
                || !g
                    .id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                errors.push(ConfigError::new(
                    at("id"),
                    format!("`{}` must be non-empty and use only [A-Za-z0-9_-]", g.id),
                ));
            } else if !seen.insert(g.id.as_str()) {
                errors.push(ConfigError::new(
                    at("id"),
                    format!("duplicate guard id `{}`; ids must be unique", g.id),
                ));
            }
            if g.reversible && !(g.action == Action::Mask && g.hook.is_request_side()) {
                errors.push(ConfigError::new(
                    at("reversible"),
                    "only a request-side (`llm_input` or `mcp_pre_tool`) `mask` guard can be reversible",
                ));
            }
            if config.input_mode == InputMode::Parallel
                && g.enabled
                && g.action == Action::Mask
                && g.hook.is_request_side()
            {
                errors.push(ConfigError::new(
                    at("action"),
                    "input_mode `parallel` forwards the request before it is checked, so a request-side guard cannot mask; use `block` or `audit`, or input_mode `sequential`",
                ));
            }
            let is_model = matches!(
                g.detector,
                DetectorConfig::Model(_) | DetectorConfig::Similarity(_)
            );
            if is_model && g.threshold.is_some() {
                errors.push(ConfigError::new(
                    at("threshold"),
                    "a `model` or `similarity` detector sets its own band: use detector.allow_below / detector.block_above (the heavy tier's thresholds come with its models)",
                ));
            }
            // Model detectors decide with their band; every match they report counts.
            let threshold = if is_model {
                0.0
            } else {
                g.threshold.unwrap_or(DEFAULT_THRESHOLD)
            };
            if !(0.0..=1.0).contains(&threshold) {
                errors.push(ConfigError::new(
                    at("threshold"),
                    format!("{threshold} is outside 0.0..=1.0"),
                ));
            }
            let scope_mask = match &g.scope {
                None => u8::MAX,
                Some(s) if s.is_empty() => {
                    errors.push(ConfigError::new(
                        at("scope"),
                        "empty scope reads nothing; omit it to read every slot",
                    ));
                    0
                }
                Some(s) => {
                    if g.hook == Hook::LlmOutput && !s.iter().any(|sc| OUTPUT_SCOPES.contains(sc)) {
                        errors.push(ConfigError::new(
                            at("scope"),
                            "an llm_output guard reads responses, which only have `assistant` and `tool_call_arguments` slots",
                        ));
                    }
                    if let Some(only) = mcp_scope(g.hook) {
                        if !s.contains(&only) {
                            errors.push(ConfigError::new(
                                at("scope"),
                                format!(
                                    "an {} guard reads only `{}`; include it or omit scope",
                                    g.hook.as_str(),
                                    only.as_str()
                                ),
                            ));
                        }
                    }
                    s.iter().fold(0, |m, sc| m | scope_bit(*sc))
                }
            };
            let block_response = merge_block(&config.block_response, g.block_response.as_ref());
            check_block_response(&at("block_response"), &block_response, &mut errors);
            match build_detector(&g.detector) {
                Ok(detector)
                    if detector.heavy().is_some() && g.enabled && !g.hook.is_request_side() =>
                {
                    errors.push(ConfigError::new(
                        at("hook"),
                        "escalation to the heavy tier (`on_uncertain: escalate`, `similarity`) is for request-side hooks (`llm_input`, `mcp_pre_tool`); responses are on their way to the client",
                    ));
                }
                Ok(detector)
                    if detector.heavy().is_some() && g.enabled && g.action == Action::Mask =>
                {
                    errors.push(ConfigError::new(
                        at("action"),
                        "a guard that escalates to the heavy tier cannot mask: the request body is written before the heavy tier answers; use `block` or `audit`",
                    ));
                }
                Ok(detector)
                    if detector.heavy().is_some()
                        && g.enabled
                        && config.input_mode == InputMode::Parallel =>
                {
                    errors.push(ConfigError::new(
                        at("detector"),
                        "input_mode `parallel` cannot wait for the heavy tier; use `on_uncertain: pass | act` or input_mode `sequential`",
                    ));
                }
                Ok(detector) => guards.push(Guard {
                    id: Arc::from(g.id.as_str()),
                    hook: g.hook,
                    scope_mask,
                    detector,
                    action: g.action,
                    threshold,
                    block_response,
                    enabled: g.enabled,
                    reversible: g.reversible,
                }),
                Err(e) => errors.push(ConfigError::new(at("detector"), e).rooted()),
            }
        }
        if config.stream.hold_back_bytes > config.stream.max_token_hold_bytes
            || config.stream.max_token_hold_bytes > crate::sse::MAX_EVENT_BYTES
        {
            errors.push(ConfigError::new(
                "stream.hold_back_bytes",
                format!(
                    "need hold_back_bytes <= max_token_hold_bytes <= {} bytes",
                    crate::sse::MAX_EVENT_BYTES
                ),
            ));
        }
        for (i, m) in config.mcp.methods.iter().enumerate() {
            if m.is_empty() || m.chars().any(char::is_whitespace) {
                errors.push(ConfigError::new(
                    format!("mcp.methods[{i}]"),
                    format!("`{m}` is not a JSON-RPC method name (e.g. `tools/call`)"),
                ));
            }
        }
        if config.escalation.cluster.is_empty() || config.escalation.timeout_ms == 0 {
            errors.push(ConfigError::new(
                "escalation",
                "cluster must be non-empty and timeout_ms at least 1",
            ));
        }
        if config.escalation.retries > crate::escalation::MAX_RETRIES {
            errors.push(ConfigError::new(
                "escalation.retries",
                format!("at most {}", crate::escalation::MAX_RETRIES),
            ));
        }
        let escalation_target =
            crate::escalation::grpc_service(&config.escalation).unwrap_or_else(|e| {
                errors.push(ConfigError::new("escalation.cluster", e));
                String::new()
            });
        if !errors.is_empty() {
            return Err(ConfigErrors(errors));
        }
        let any = |f: &dyn Fn(&Guard) -> bool| guards.iter().any(|g| g.enabled && f(g));
        let rewrites_request = any(&|g| g.hook.is_request_side() && g.action == Action::Mask);
        let reads_output = any(&|g| g.hook == Hook::LlmOutput);
        let reads_tool_results = any(&|g| g.hook == Hook::McpPostTool);
        let restores = any(&|g| g.reversible);
        let escalates = any(&|g| g.detector.heavy().is_some());
        Ok(Policy {
            name: Arc::from(crate::config::DEFAULT_POLICY_NAME),
            escalates,
            escalation_target,
            escalation: config.escalation.clone(),
            observability: config.observability,
            guards,
            rewrites_request,
            reads_output,
            reads_tool_results,
            restores,
            input_mode: config.input_mode,
            stream: config.stream,
            mcp_methods: config.mcp.methods.clone(),
            limits: config.limits.clone(),
            block_response: config.block_response.clone(),
            decision_header: config.decision_header.clone(),
        })
    }

    /// Can a request's body change (an enabled `llm_input` guard masks)? If not, adapters may
    /// keep `content-length`, since an allowed body is forwarded byte for byte.
    pub fn may_rewrite_request(&self) -> bool {
        self.rewrites_request
    }

    /// Does any enabled guard read chat responses (`llm_output`)?
    pub fn guards_output(&self) -> bool {
        self.reads_output
    }

    /// Does any enabled guard escalate uncertain texts to the heavy tier?
    pub fn escalates(&self) -> bool {
        self.escalates
    }

    /// Does any enabled guard read MCP tool results (`mcp_post_tool`)?
    pub fn guards_tool_results(&self) -> bool {
        self.reads_tool_results
    }

    /// Does any enabled guard mask reversibly (so responses may carry values to restore)?
    pub fn restores(&self) -> bool {
        self.restores
    }

    /// May any response need reading or rewriting? If not, adapters leave responses alone
    /// entirely (and keep the request's `accept-encoding`).
    pub fn reads_responses(&self) -> bool {
        self.reads_output || self.reads_tool_results || self.restores
    }

    /// Parse and compile a JSON config in one step (the filter's `pluginConfig`).
    pub fn from_json(bytes: &[u8]) -> Result<Policy, ConfigErrors> {
        let config = Config::from_json(bytes)?;
        Policy::compile(&config)
    }

    /// The shipped default policy.
    pub fn default_policy() -> Result<Policy, ConfigErrors> {
        Policy::compile(&Config::default_policy()?)
    }
}

fn build_detector(cfg: &DetectorConfig) -> Result<Box<dyn Detector>, String> {
    Ok(match cfg {
        DetectorConfig::Pii(o) => Box::new(PiiDetector::new(o)),
        DetectorConfig::Secrets(o) => Box::new(SecretsDetector::new(o)?),
        DetectorConfig::Profanity(o) => Box::new(WordlistDetector::profanity(o)?),
        DetectorConfig::Wordlist(o) => Box::new(WordlistDetector::wordlist(o)?),
        DetectorConfig::InjectionHeuristics(o) => Box::new(InjectionHeuristics::new(o)?),
        DetectorConfig::Regex(o) => Box::new(RegexDetector::new(o)?),
        DetectorConfig::Similarity(o) => Box::new(SimilarityDetector::new(o)),
        #[cfg(feature = "models")]
        DetectorConfig::Model(raw) => {
            let opts: crate::detectors::model::ModelOptions =
                crate::config::options_at(raw.clone())?;
            Box::new(crate::detectors::model::ModelDetector::new(&opts)?)
        }
        #[cfg(not(feature = "models"))]
        DetectorConfig::Model(_) => {
            return Err("type: `model` detectors need a build with the `models` feature".into())
        }
    })
}

fn merge_block(base: &BlockResponse, o: Option<&BlockResponseOverride>) -> BlockResponse {
    let Some(o) = o else { return base.clone() };
    BlockResponse {
        status: o.status.unwrap_or(base.status),
        message: o.message.clone().unwrap_or_else(|| base.message.clone()),
        error_type: o
            .error_type
            .clone()
            .unwrap_or_else(|| base.error_type.clone()),
        code: o.code.clone().unwrap_or_else(|| base.code.clone()),
    }
}

fn check_block_response(at: &str, b: &BlockResponse, errors: &mut Vec<ConfigError>) {
    if !(400..=599).contains(&b.status) {
        errors.push(ConfigError::new(
            format!("{at}.status"),
            format!(
                "{} is not an error status; use 400..=599 (e.g. 400 or 403)",
                b.status
            ),
        ));
    }
}

pub(crate) fn is_header_name(h: &str) -> bool {
    !h.is_empty()
        && h.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(json: &str) -> Result<Policy, ConfigErrors> {
        Policy::from_json(json.as_bytes())
    }

    #[test]
    fn default_policy_compiles() {
        let p = Policy::default_policy().unwrap();
        assert_eq!(p.guards.len(), 9);
    }

    #[test]
    fn semantic_errors_are_collected_with_paths() {
        let e = compile(
            r#"{"version": 1, "decision_header": "X Bad", "block_response": {"status": 200},
                "guards": [
                  {"id": "a", "detector": {"type": "regex", "patterns": [{"kind": "k", "pattern": "("}]}, "action": "block"},
                  {"id": "a", "hook": "llm_output", "reversible": true, "detector": {"type": "pii"}, "action": "mask", "threshold": 2},
                  {"id": "b", "scope": [], "detector": {"type": "wordlist", "terms": []}, "action": "audit"}
                ]}"#,
        )
        .unwrap_err();
        let paths: Vec<_> = e.0.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "block_response.status",
                "decision_header",
                "guards[0].block_response.status",
                "guards[0].detector.patterns[0].pattern",
                "guards[1].id",
                "guards[1].reversible",
                "guards[1].threshold",
                "guards[1].block_response.status",
                "guards[2].scope",
                "guards[2].block_response.status",
                "guards[2].detector.terms",
            ]
        );
    }

    #[test]
    fn output_guards_must_read_response_slots() {
        let e = compile(r#"{"version": 1, "guards": [{"id": "a", "hook": "llm_output", "scope": ["user"], "detector": {"type": "pii"}, "action": "mask"}]}"#).unwrap_err();
        assert_eq!(e.0[0].path, "guards[0].scope");
        let p = compile(r#"{"version": 1, "guards": [{"id": "a", "hook": "llm_output", "detector": {"type": "pii"}, "action": "mask"}]}"#).unwrap();
        assert!(p.guards_output() && !p.may_rewrite_request());
    }

    #[test]
    fn parallel_mode_refuses_request_masks_and_mcp_scopes_are_checked() {
        let e = compile(r#"{"version": 1, "input_mode": "parallel", "mcp": {"methods": ["tools/call", "bad method"]}, "guards": [
            {"id": "a", "detector": {"type": "pii"}, "action": "mask"},
            {"id": "b", "hook": "llm_output", "detector": {"type": "pii"}, "action": "mask"},
            {"id": "c", "hook": "mcp_post_tool", "scope": ["user"], "detector": {"type": "pii"}, "action": "block"}
        ]}"#).unwrap_err();
        let paths: Vec<_> = e.0.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            ["guards[0].action", "guards[2].scope", "mcp.methods[1]"]
        );
        let p = compile(
            r#"{"version": 1, "input_mode": "parallel", "guards": [
            {"id": "a", "hook": "mcp_post_tool", "detector": {"type": "secrets"}, "action": "mask"},
            {"id": "b", "detector": {"type": "pii"}, "action": "block"}
        ]}"#,
        )
        .unwrap();
        assert!(p.guards_tool_results() && !p.guards_output() && p.reads_responses());
        assert_eq!(p.input_mode, InputMode::Parallel);
        assert_eq!(p.mcp_methods, ["tools/call"]);
    }

    #[test]
    fn scopes() {
        let p = compile(r#"{"version": 1, "guards": [{"id": "a", "scope": ["user", "tool_results"], "detector": {"type": "profanity"}, "action": "block"}]}"#).unwrap();
        let g = &p.guards[0];
        assert!(g.reads(Scope::User) && g.reads(Scope::ToolResults) && !g.reads(Scope::System));
    }
}
