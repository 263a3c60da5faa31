//! Shipped manifests carry configs the engine accepts: the Istio WasmPlugin's `pluginConfig`
//! and the example policies, loaded with the same loader the filter and the CLI use.

use std::path::PathBuf;

use parapet_core::{Config, Policy, PolicySet};

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path)
}

#[test]
fn istio_wasmplugin_plugin_config_compiles() {
    let raw = std::fs::read_to_string(repo("envoy/istio/wasmplugin.yaml")).unwrap();
    let manifest: serde_json::Value = serde_yaml_ng::from_str(&raw).unwrap();
    assert_eq!(manifest["kind"], "WasmPlugin");
    let plugin_config = manifest["spec"]["pluginConfig"].clone();
    // Istio serialises pluginConfig to JSON for the filter; do the same.
    let json = serde_json::to_vec(&plugin_config).unwrap();
    let policy = Policy::from_json(&json).unwrap();
    assert_eq!(policy.guards.len(), 5);
    assert_eq!(
        Config::from_value(plugin_config).unwrap().guards[4].id,
        "competitors"
    );
}

#[test]
fn example_policies_compile() {
    let dir = repo("envoy/policies");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let raw = std::fs::read(&path).unwrap();
        let set = match path.extension().and_then(|e| e.to_str()) {
            Some("json") => PolicySet::from_json(&raw),
            Some("yaml") => PolicySet::from_value(serde_yaml_ng::from_slice(&raw).unwrap()),
            _ => continue,
        };
        set.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        n += 1;
    }
    assert!(n > 0);
}

/// envoy/istio/policies.yaml: every WasmPlugin's pluginConfig compiles, and every route patch
/// names a policy of the WasmPlugin on the same workloads.
#[test]
fn istio_per_workload_and_route_policies_compile() {
    let raw = std::fs::read_to_string(repo("envoy/istio/policies.yaml")).unwrap();
    let docs: Vec<serde_json::Value> = serde_yaml_ng::Deserializer::from_str(&raw)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect();
    let mut sets = std::collections::BTreeMap::new();
    for d in docs.iter().filter(|d| d["kind"] == "WasmPlugin") {
        let json = serde_json::to_vec(&d["spec"]["pluginConfig"]).unwrap();
        let set = PolicySet::from_json(&json)
            .unwrap_or_else(|e| panic!("{}: {e}", d["metadata"]["name"]));
        let app = d["spec"]["selector"]["matchLabels"]["app"]
            .as_str()
            .unwrap()
            .to_string();
        sets.insert(app, set);
    }
    assert_eq!(sets.len(), 2);
    assert!(sets["assistant"].is_multi() && !sets["support-bot"].is_multi());
    let mut patches = 0;
    for d in docs.iter().filter(|d| d["kind"] == "EnvoyFilter") {
        let app = d["spec"]["workloadSelector"]["labels"]["app"]
            .as_str()
            .unwrap();
        for p in d["spec"]["configPatches"].as_array().unwrap() {
            assert_eq!(p["applyTo"], "HTTP_ROUTE");
            let name = p["patch"]["value"]["metadata"]["filter_metadata"]["parapet"]["policy"]
                .as_str()
                .unwrap();
            assert!(sets[app].get(name).is_some(), "{app}: no policy `{name}`");
            let route = p["match"]["routeConfiguration"]["vhost"]["route"]["name"]
                .as_str()
                .unwrap();
            assert!(
                docs.iter().any(|v| v["kind"] == "VirtualService"
                    && v["spec"]["http"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|h| h["name"] == route)),
                "no VirtualService route named {route}"
            );
            patches += 1;
        }
    }
    assert_eq!(patches, 1);
}

#[allow(clippy::unwrap_used, clippy::panic)] // test support: a bad manifest fails the test
fn deploy_doc(path: &str) -> serde_json::Value {
    let raw = std::fs::read_to_string(repo(path)).unwrap();
    serde_yaml_ng::from_str(&raw).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// deploy/istio/wasmplugin.yaml: the cascade policy, escalating to Istio's outbound cluster for
/// the ext-proc Service (deploy/kubernetes/service.yaml); tests/e2e/test_deploy.py checks the
/// rest equals envoy/policies/cascade.yaml and the image pin.
#[test]
fn deploy_istio_wasmplugin_plugin_config_compiles() {
    let manifest = deploy_doc("deploy/istio/wasmplugin.yaml");
    assert_eq!(manifest["kind"], "WasmPlugin");
    let plugin_config = manifest["spec"]["pluginConfig"].clone();
    // Istio serialises pluginConfig to JSON for the filter; do the same.
    let json = serde_json::to_vec(&plugin_config).unwrap();
    let policy = Policy::from_json(&json).unwrap_or_else(|e| panic!("pluginConfig: {e}"));
    assert!(policy.escalates());
    assert_eq!(
        Config::from_value(plugin_config)
            .unwrap()
            .escalation
            .cluster,
        "outbound|50051||parapet-ext-proc.parapet.svc.cluster.local"
    );
}

/// deploy/kubernetes/configmap.yaml: the policy ext-proc enforces in ext_proc mode (policy.yaml)
/// loads as ext-proc loads it (ServiceConfig::load_policies: YAML → PolicySet::from_value).
#[test]
fn deploy_kubernetes_configmap_policy_compiles() {
    let manifest = deploy_doc("deploy/kubernetes/configmap.yaml");
    assert_eq!(manifest["kind"], "ConfigMap");
    let raw = manifest["data"]["policy.yaml"].as_str().unwrap();
    let value: serde_json::Value = serde_yaml_ng::from_str(raw).unwrap();
    let set = PolicySet::from_value(value).unwrap_or_else(|e| panic!("policy.yaml: {e}"));
    assert!(!set.is_multi() && set.escalates());
}
