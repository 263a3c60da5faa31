//! Parapet's proxy-wasm filter: the rule tier of the guard cascade inside Envoy.
//!
//! The root context compiles the policy from the plugin configuration once (an empty
//! configuration selects the shipped default policy) and shares it with every HTTP context
//! through an `Rc`. A configuration that fails to compile is refused (`on_configure` returns
//! false, so Envoy rejects the update) and the last good policy stays in force.
//!
//! The HTTP context ([`http::GuardedRequest`]) buffers the request body, runs the engine, and
//! forwards, rewrites or answers locally. All host calls go through [`host`].

pub mod host;
pub mod http;
pub mod metrics;
#[cfg(target_arch = "wasm32")]
mod wasi_shims;

use std::rc::Rc;

use parapet_core::{Policy, PolicySet};
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{ContextType, LogLevel};

use crate::metrics::Metrics;

/// The compiled policies and the metric ids defined for each (same order).
pub struct Active {
    pub policies: PolicySet,
    pub metrics: Vec<Metrics>,
}

impl Active {
    /// The metric ids of a policy of this set.
    pub fn metrics_of(&self, policy: &Policy) -> &Metrics {
        let at = self
            .policies
            .policies()
            .iter()
            .position(|p| std::ptr::eq(&**p, policy))
            .unwrap_or(0);
        &self.metrics[at]
    }
}

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Info);
    // A panic aborts the VM (panic = "abort"); say why through Envoy's log first.
    std::panic::set_hook(Box::new(|info| {
        host::log(LogLevel::Critical, &format!("parapet filter panicked: {info}"));
    }));
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(ParapetRoot { active: None }) });
}}

/// The plugin's root context.
pub struct ParapetRoot {
    active: Option<Rc<Active>>,
}

impl Context for ParapetRoot {}

impl RootContext for ParapetRoot {
    fn on_configure(&mut self, _plugin_configuration_size: usize) -> bool {
        let raw = match host::plugin_configuration() {
            Ok(raw) => raw.unwrap_or_default(),
            Err(e) => {
                host::log(
                    LogLevel::Error,
                    &format!("cannot read plugin configuration: {e}"),
                );
                return self.active.is_some();
            }
        };
        let compiled = if raw.iter().all(u8::is_ascii_whitespace) {
            PolicySet::default_policy()
        } else {
            PolicySet::from_json(&raw)
        };
        match compiled {
            Ok(policies) => {
                for policy in policies.policies() {
                    host::log(
                        LogLevel::Info,
                        &format!(
                            "policy `{}` loaded with {} guards: {}",
                            policy.name,
                            policy.guards.len(),
                            guard_list(policy)
                        ),
                    );
                }
                parapet_core::excerpt::warm_up();
                let metrics = policies
                    .policies()
                    .iter()
                    .map(|p| Metrics::define(p, policies.is_multi()))
                    .collect();
                self.active = Some(Rc::new(Active { policies, metrics }));
                true
            }
            Err(errors) => {
                metrics::config_rejected();
                let kept = if self.active.is_some() {
                    "keeping the last good policy"
                } else {
                    "no policy loaded"
                };
                host::log(
                    LogLevel::Error,
                    &format!("configuration rejected ({kept}):\n{errors}"),
                );
                false
            }
        }
    }

    fn create_http_context(&self, _context_id: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(http::GuardedRequest::new(self.active.clone())))
    }

    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

fn guard_list(policy: &Policy) -> String {
    policy
        .guards
        .iter()
        .map(|g| format!("{}({}→{})", g.id, g.detector.name(), g.action.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}
