//! Shipped manifests carry configs the engine accepts: the Istio WasmPlugin's `pluginConfig`
//! and the example policies, loaded with the same loader the filter and the CLI use.

use std::path::PathBuf;

use parapet_core::{Config, Policy};

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
        let config = match path.extension().and_then(|e| e.to_str()) {
            Some("json") => Config::from_json(&raw).unwrap(),
            Some("yaml") => Config::from_value(serde_yaml_ng::from_slice(&raw).unwrap()).unwrap(),
            _ => continue,
        };
        Policy::compile(&config).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        n += 1;
    }
    assert!(n > 0);
}
