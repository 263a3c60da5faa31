//! Several named policies in one config, and the choice of one per request.
//!
//! A [`PolicySet`] is what a host loads: the single-policy form of a config compiles to a set of
//! one (named `default`). Per request the host hands [`PolicySet::select`] what it can read of
//! the request ([`RequestFacts`]: headers, route metadata, dynamic metadata) and carries on with
//! the chosen [`Policy`]. The order (each later step that applies overrides the earlier):
//!
//! 1. the config's `default_policy`;
//! 2. the route: Envoy route metadata `filter_metadata.<selection.route_namespace>.policy`
//!    (default namespace `parapet`); a name the config does not have refuses the request (a
//!    route that asks for a policy must never silently get another);
//! 3. the tenant: `selection.tenant` reads a header, then a dynamic-metadata path (e.g. a JWT
//!    claim that `jwt_authn` wrote), and maps the value to a policy; an unmapped tenant keeps
//!    the policy of step 2;
//! 4. the request: the header `selection.request.header` (default `x-parapet-policy`) may name
//!    a policy on the allow-list that `selection.request.allow` gives the policy in force after
//!    steps 1–3; any other value is ignored and reported as refused.
//!
//! Every name in the config (default, tenant map, allow-lists) is checked when the set compiles;
//! errors name the field.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::config::{ConfigError, ConfigErrors, Document, MetadataPath};
use crate::policy::Policy;

/// What a host can read of a request for policy selection.
pub trait RequestFacts {
    /// A request header (lowercase name).
    fn header(&self, name: &str) -> Option<String>;
    /// A string in the route's metadata: `filter_metadata[namespace][key]`.
    fn route_metadata(&self, namespace: &str, key: &str) -> Option<String>;
    /// A string in the request's dynamic metadata: `filter_metadata[namespace]` then `path`.
    fn dynamic_metadata(&self, namespace: &str, path: &[String]) -> Option<String>;
}

/// Which step chose the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectedBy {
    Default,
    Route,
    Tenant,
    Request,
}

impl SelectedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            SelectedBy::Default => "default",
            SelectedBy::Route => "route",
            SelectedBy::Tenant => "tenant",
            SelectedBy::Request => "request",
        }
    }
}

/// The policy a request gets.
#[derive(Debug, Clone)]
pub struct Selected {
    pub policy: Arc<Policy>,
    pub by: SelectedBy,
    /// The request header named a policy it may not choose (or none that exists): ignored.
    pub refused: Option<String>,
}

/// A request the set cannot assign a policy to: its route names a policy the config lacks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unassignable {
    pub reason: String,
}

/// Compiled policies by name, with the selection rules.
pub struct PolicySet {
    policies: Vec<Arc<Policy>>,
    default: usize,
    route_namespace: String,
    tenant_header: Option<String>,
    tenant_metadata: Option<MetadataPath>,
    tenants: BTreeMap<String, usize>,
    request_header: String,
    /// Policy index → indices a request may choose there.
    allow: Vec<Vec<usize>>,
}

impl std::fmt::Debug for PolicySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicySet")
            .field("policies", &self.names().collect::<Vec<_>>())
            .field("default", &&*self.policies[self.default].name)
            .finish()
    }
}

impl PolicySet {
    /// Compile every policy and check the selection rules, collecting every error.
    pub fn compile(doc: &Document) -> Result<PolicySet, ConfigErrors> {
        let mut errors = Vec::new();
        let single = !doc.named;
        let mut policies = Vec::with_capacity(doc.policies.len());
        for (name, config) in &doc.policies {
            match Policy::compile(config) {
                Ok(mut p) => {
                    p.name = Arc::from(name.as_str());
                    policies.push(Arc::new(p));
                }
                Err(ConfigErrors(es)) => errors.extend(es.into_iter().map(|e| {
                    if single {
                        e
                    } else {
                        ConfigError::new(format!("policies.{name}.{}", e.path), e.message)
                    }
                })),
            }
        }
        let index = |name: &str| doc.policies.iter().position(|(n, _)| n == name);
        let known = || {
            doc.policies
                .iter()
                .map(|(n, _)| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let lookup = |at: String, name: &str, errors: &mut Vec<ConfigError>| {
            let found = index(name);
            if found.is_none() {
                errors.push(ConfigError::new(
                    at,
                    format!("unknown policy `{name}`; the config names {}", known()),
                ));
            }
            found
        };
        let default = lookup(
            "default_policy".to_string(),
            &doc.default_policy,
            &mut errors,
        );
        let sel = &doc.selection;
        if sel.route_namespace.is_empty() {
            errors.push(ConfigError::new(
                "selection.route_namespace",
                "must be non-empty (default `parapet`)",
            ));
        }
        let mut tenants = BTreeMap::new();
        let (mut tenant_header, mut tenant_metadata) = (None, None);
        if let Some(t) = &sel.tenant {
            if t.header.is_none() && t.metadata.is_none() {
                errors.push(ConfigError::new(
                    "selection.tenant",
                    "say where the tenant is read: `header`, `metadata` or both",
                ));
            }
            if let Some(h) = &t.header {
                if !crate::policy::is_header_name(h) {
                    errors.push(ConfigError::new(
                        "selection.tenant.header",
                        format!("`{h}` is not a lowercase HTTP header name"),
                    ));
                }
            }
            if let Some(m) = &t.metadata {
                if m.namespace.is_empty() || m.path.is_empty() {
                    errors.push(ConfigError::new(
                        "selection.tenant.metadata",
                        "needs a namespace and a non-empty path",
                    ));
                }
            }
            for (tenant, name) in &t.policies {
                let at = format!("selection.tenant.policies.{tenant}");
                if let Some(i) = lookup(at, name, &mut errors) {
                    tenants.insert(tenant.clone(), i);
                }
            }
            tenant_header = t.header.clone();
            tenant_metadata = t.metadata.clone();
        }
        if !crate::policy::is_header_name(&sel.request.header) {
            errors.push(ConfigError::new(
                "selection.request.header",
                format!(
                    "`{}` is not a lowercase HTTP header name",
                    sel.request.header
                ),
            ));
        }
        let mut allow = vec![Vec::new(); doc.policies.len()];
        for (from, names) in &sel.request.allow {
            let at = format!("selection.request.allow.{from}");
            let from = lookup(at.clone(), from, &mut errors);
            for (i, name) in names.iter().enumerate() {
                if let (Some(to), Some(from)) =
                    (lookup(format!("{at}[{i}]"), name, &mut errors), from)
                {
                    allow[from].push(to);
                }
            }
        }
        match default {
            Some(default) if errors.is_empty() => Ok(PolicySet {
                policies,
                default,
                route_namespace: sel.route_namespace.clone(),
                tenant_header,
                tenant_metadata,
                tenants,
                request_header: sel.request.header.clone(),
                allow,
            }),
            _ => Err(ConfigErrors(errors)),
        }
    }

    /// Parse and compile a config of either form (the filter's `pluginConfig`).
    pub fn from_json(bytes: &[u8]) -> Result<PolicySet, ConfigErrors> {
        PolicySet::compile(&Document::from_json(bytes)?)
    }

    /// Parse and compile a config already read into a JSON value (e.g. from YAML).
    pub fn from_value(value: serde_json::Value) -> Result<PolicySet, ConfigErrors> {
        PolicySet::compile(&Document::from_value(value)?)
    }

    /// The shipped default policy, as a set of one.
    pub fn default_policy() -> Result<PolicySet, ConfigErrors> {
        Ok(PolicySet::single(Policy::default_policy()?))
    }

    /// One policy, always chosen.
    pub fn single(policy: Policy) -> PolicySet {
        PolicySet {
            policies: vec![Arc::new(policy)],
            default: 0,
            route_namespace: "parapet".to_string(),
            tenant_header: None,
            tenant_metadata: None,
            tenants: BTreeMap::new(),
            request_header: "x-parapet-policy".to_string(),
            allow: vec![Vec::new()],
        }
    }

    pub fn policies(&self) -> &[Arc<Policy>] {
        &self.policies
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.policies.iter().map(|p| &*p.name)
    }

    pub fn default_policy_ref(&self) -> &Arc<Policy> {
        &self.policies[self.default]
    }

    pub fn get(&self, name: &str) -> Option<&Arc<Policy>> {
        self.policies.iter().find(|p| &*p.name == name)
    }

    /// Is there more than one policy to choose from?
    pub fn is_multi(&self) -> bool {
        self.policies.len() > 1
    }

    /// Does any policy escalate to the heavy tier?
    pub fn escalates(&self) -> bool {
        self.policies.iter().any(|p| p.escalates())
    }

    /// Choose the policy for a request (module docs: the order).
    pub fn select(&self, facts: &dyn RequestFacts) -> Result<Selected, Unassignable> {
        let mut at = self.default;
        let mut by = SelectedBy::Default;
        if self.is_multi() {
            if let Some(name) = facts
                .route_metadata(&self.route_namespace, "policy")
                .filter(|n| !n.is_empty())
            {
                match self.index(&name) {
                    Some(i) => {
                        at = i;
                        by = SelectedBy::Route;
                    }
                    None => {
                        return Err(Unassignable {
                            reason: format!(
                                "route metadata {}.policy names unknown policy `{}`",
                                self.route_namespace,
                                printable(&name)
                            ),
                        })
                    }
                }
            }
            let tenant = self
                .tenant_header
                .as_deref()
                .and_then(|h| facts.header(h))
                .or_else(|| {
                    self.tenant_metadata
                        .as_ref()
                        .and_then(|m| facts.dynamic_metadata(&m.namespace, &m.path))
                });
            if let Some(i) = tenant.and_then(|t| self.tenants.get(t.trim()).copied()) {
                at = i;
                by = SelectedBy::Tenant;
            }
        }
        let mut refused = None;
        if let Some(asked) = facts.header(&self.request_header) {
            let asked = asked.trim();
            match self.index(asked) {
                Some(i) if i == at => {}
                Some(i) if self.allow[at].contains(&i) => {
                    at = i;
                    by = SelectedBy::Request;
                }
                _ => refused = Some(printable(asked)),
            }
        }
        Ok(Selected {
            policy: self.policies[at].clone(),
            by,
            refused,
        })
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.policies.iter().position(|p| &*p.name == name)
    }
}

/// A caller-supplied name, cut and stripped of control characters before it reaches a record.
fn printable(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[derive(Default)]
    struct Facts {
        headers: HashMap<&'static str, &'static str>,
        route: Option<&'static str>,
        jwt_tenant: Option<&'static str>,
    }

    impl RequestFacts for Facts {
        fn header(&self, name: &str) -> Option<String> {
            self.headers.get(name).map(|v| v.to_string())
        }
        fn route_metadata(&self, namespace: &str, key: &str) -> Option<String> {
            (namespace == "parapet" && key == "policy")
                .then(|| self.route.map(str::to_string))
                .flatten()
        }
        fn dynamic_metadata(&self, namespace: &str, path: &[String]) -> Option<String> {
            (namespace == "envoy.filters.http.jwt_authn" && path == ["jwt_payload", "tenant"])
                .then(|| self.jwt_tenant.map(str::to_string))
                .flatten()
        }
    }

    const GUARDS: &str = r#"[{"id": "p", "detector": {"type": "pii"}, "action": "mask"}]"#;

    fn set() -> PolicySet {
        let json = format!(
            r#"{{"version": 1, "default_policy": "standard",
                "policies": {{"standard": {{"guards": {GUARDS}}}, "strict": {{"guards": {GUARDS}}},
                              "lenient": {{"guards": []}}, "audit": {{"guards": []}}}},
                "selection": {{
                  "tenant": {{"header": "x-tenant", "metadata": {{"namespace": "envoy.filters.http.jwt_authn", "path": ["jwt_payload", "tenant"]}},
                             "policies": {{"acme": "strict"}}}},
                  "request": {{"allow": {{"standard": ["lenient"], "strict": ["audit"]}}}}}}}}"#
        );
        PolicySet::from_json(json.as_bytes()).unwrap()
    }

    fn pick(facts: Facts) -> (String, SelectedBy, Option<String>) {
        let s = set().select(&facts).unwrap();
        (s.policy.name.to_string(), s.by, s.refused)
    }

    #[test]
    fn selection_order_route_tenant_request() {
        use SelectedBy::*;
        assert_eq!(pick(Facts::default()), ("standard".into(), Default, None));
        let route = |r| Facts {
            route: Some(r),
            ..Facts::default()
        };
        assert_eq!(pick(route("lenient")), ("lenient".into(), Route, None));
        // The tenant overrides the route; the header first, then the JWT claim.
        let mut f = route("lenient");
        f.headers.insert("x-tenant", "acme");
        assert_eq!(pick(f), ("strict".into(), Tenant, None));
        let f = Facts {
            jwt_tenant: Some("acme"),
            ..Facts::default()
        };
        assert_eq!(pick(f), ("strict".into(), Tenant, None));
        let mut f = Facts::default();
        f.headers.insert("x-tenant", "globex");
        assert_eq!(pick(f), ("standard".into(), Default, None));
        // The request may choose only from the allow-list of the policy in force.
        let mut f = Facts::default();
        f.headers.insert("x-parapet-policy", "lenient");
        assert_eq!(pick(f), ("lenient".into(), Request, None));
        let mut f = Facts::default();
        f.headers.insert("x-parapet-policy", "audit");
        assert_eq!(pick(f), ("standard".into(), Default, Some("audit".into())));
        let mut f = Facts::default();
        f.headers.insert("x-parapet-policy", "nope\n");
        assert_eq!(pick(f), ("standard".into(), Default, Some("nope".into())));
        let mut f = Facts::default();
        f.headers.insert("x-tenant", "acme");
        f.headers.insert("x-parapet-policy", "lenient");
        assert_eq!(pick(f), ("strict".into(), Tenant, Some("lenient".into())));
        let mut f = Facts::default();
        f.headers.insert("x-tenant", "acme");
        f.headers.insert("x-parapet-policy", "audit");
        assert_eq!(pick(f), ("audit".into(), Request, None));
        // Naming the policy already in force is not a refusal.
        let mut f = Facts::default();
        f.headers.insert("x-parapet-policy", "standard");
        assert_eq!(pick(f), ("standard".into(), Default, None));
        // A route that names a policy the config lacks gets none.
        let e = set().select(&route("nope")).unwrap_err();
        assert!(e.reason.contains("unknown policy `nope`"), "{}", e.reason);
    }

    #[test]
    fn single_form_is_a_set_of_one_named_default() {
        let s = PolicySet::from_json(format!(r#"{{"version": 1, "guards": {GUARDS}}}"#).as_bytes())
            .unwrap();
        assert!(!s.is_multi());
        let mut f = Facts {
            route: Some("whatever"),
            ..Facts::default()
        };
        f.headers.insert("x-parapet-policy", "strict");
        let chosen = s.select(&f).unwrap();
        assert_eq!(&*chosen.policy.name, "default");
        assert_eq!(chosen.refused.as_deref(), Some("strict"));
        // Single-form errors keep their paths.
        let e = PolicySet::from_json(br#"{"version": 1, "guards": [{"id": "a", "detector": {"type": "pii"}, "action": "mask", "threshold": 3}]}"#).unwrap_err();
        assert_eq!(e.0[0].path, "guards[0].threshold");
    }

    #[test]
    fn unknown_names_are_config_errors_naming_the_field() {
        let e = PolicySet::from_json(
            br#"{"version": 1, "default_policy": "standrd",
                "policies": {"standard": {"guards": []}, "strict": {"guards": [{"id": "a", "detector": {"type": "pii"}, "action": "mask", "threshold": 3}]}},
                "selection": {"tenant": {"header": "X-Tenant", "policies": {"acme": "strikt"}},
                              "request": {"allow": {"standard": ["strict", "lax"], "nope": []}}}}"#,
        )
        .unwrap_err();
        let paths: Vec<_> = e.0.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "policies.strict.guards[0].threshold",
                "default_policy",
                "selection.tenant.header",
                "selection.tenant.policies.acme",
                "selection.request.allow.nope",
                "selection.request.allow.standard[1]",
            ]
        );
        assert!(e.0[1].message.contains("unknown policy `standrd`"));
        // Structural errors inside a named policy carry its name.
        let e = Document::from_json(
            br#"{"version": 1, "policies": {"a": {"guards": [{"id": "x", "detector": {"type": "pii"}, "action": "explode"}]}}}"#,
        )
        .unwrap_err();
        assert_eq!(e.path, "policies.a.guards[0].action");
        let e = Document::from_json(br#"{"version": 1, "policies": {"a": {"guards": []}}, "selection": {"tenant": {"policies": {}, "haeder": "x"}}}"#).unwrap_err();
        assert!(e.path.starts_with("selection.tenant"), "{e}");
        let e = Document::from_json(br#"{"version": 1, "policies": {"a b": {"guards": []}}}"#)
            .unwrap_err();
        assert_eq!(e.path, "policies.a b");
        // A named document with one policy called `default` still names it in errors.
        let e = PolicySet::from_json(br#"{"version": 1, "policies": {"default": {"guards": [{"id": "a", "detector": {"type": "pii"}, "action": "mask", "threshold": 3}]}}}"#).unwrap_err();
        assert_eq!(e.0[0].path, "policies.default.guards[0].threshold");
        // Several policies and no default named.
        let e = PolicySet::from_json(
            br#"{"version": 1, "policies": {"a": {"guards": []}, "b": {"guards": []}}}"#,
        )
        .unwrap_err();
        assert_eq!(e.0[0].path, "default_policy");
    }
}
