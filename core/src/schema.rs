//! The config's JSON Schema, generated from the config types (feature `schema`; `parapet
//! schema` prints it, `schema/parapet-policy.schema.json` is that output, checked by a test).
//!
//! A document is either form: one policy (`version`, `guards`, ...) or several named ones
//! (`version`, `default_policy`, `policies`, `selection`). What a schema cannot say (unique
//! guard ids, regexes that compile, names that exist) is checked when the config compiles.

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Value};

use crate::config::{Config, DetectorConfig, SelectionConfig, DETECTOR_TYPES};

/// The `$id` of the published schema.
pub const SCHEMA_ID: &str = "https://parapet.dev/schema/parapet-policy.schema.json";

impl JsonSchema for DetectorConfig {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DetectorConfig".into()
    }

    fn json_schema(gen: &mut SchemaGenerator) -> Schema {
        use crate::detectors::*;
        let mut variants = Vec::new();
        let mut variant = |name: &str, mut options: Schema| {
            // The options' object schema with the `type` tag added to it.
            if let Some(obj) = options.as_object_mut() {
                let props = obj
                    .entry("properties")
                    .or_insert_with(|| json!({}))
                    .as_object_mut()
                    .map(|p| {
                        p.insert(
                            "type".into(),
                            json!({"const": name, "description": "The detector."}),
                        )
                    });
                let _ = props;
                match obj.get_mut("required").and_then(Value::as_array_mut) {
                    Some(r) => r.insert(0, json!("type")),
                    None => {
                        obj.insert("required".into(), json!(["type"]));
                    }
                }
            }
            variants.push(options.to_value());
        };
        variant("pii", pii::PiiOptions::json_schema(gen));
        // `kinds` names the detector's kinds: listed, so editors complete and check them
        let mut secrets_options = secrets::SecretsOptions::json_schema(gen);
        let kinds_items = secrets_options
            .as_object_mut()
            .and_then(|o| o.get_mut("properties"))
            .and_then(|p| p.get_mut("kinds"))
            .and_then(Value::as_object_mut);
        if let Some(kinds) = kinds_items {
            let known: Vec<&str> = secrets::SecretsDetector::kinds().collect();
            kinds.insert("items".into(), json!({"type": "string", "enum": known}));
        }
        variant("secrets", secrets_options);
        variant("profanity", wordlist::ProfanityOptions::json_schema(gen));
        variant("wordlist", wordlist::WordlistOptions::json_schema(gen));
        variant(
            "injection_heuristics",
            injection::InjectionOptions::json_schema(gen),
        );
        variant("regex", regex_custom::RegexOptions::json_schema(gen));
        #[cfg(feature = "models")]
        variant("model", model::ModelOptions::json_schema(gen));
        variant(
            "similarity",
            similarity::SimilarityOptions::json_schema(gen),
        );
        debug_assert!(variants.len() >= DETECTOR_TYPES.len() - 1);
        json_schema!({
            "description": "The detector a guard runs, chosen by `type`; the other fields are its options.",
            "oneOf": variants,
        })
    }
}

/// The whole document schema (draft 2020-12), as JSON.
pub fn document_schema() -> Value {
    let mut gen = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let single = gen.subschema_for::<Config>();
    // A named policy: the single form, `version` optional (the document's applies).
    let mut named = Config::json_schema(&mut gen).to_value();
    if let Some(required) = named.get_mut("required").and_then(Value::as_array_mut) {
        required.retain(|r| r != "version");
    }
    let selection = gen.subschema_for::<SelectionConfig>();
    let mut defs = gen.take_definitions(true);
    defs.insert("NamedPolicy".into(), named);
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Parapet policy",
        "description": "A Parapet config: one policy (the `version` + `guards` form), or several named policies with a default and the rules that choose one per request. The filter's `pluginConfig`, ext-proc's `policy` file and the CLI's `--config` all read it.",
        "oneOf": [
            single.to_value(),
            {
                "type": "object",
                "description": "Several named policies.",
                "additionalProperties": false,
                "required": ["version", "policies"],
                "properties": {
                    "version": {"type": "integer", "const": crate::config::SCHEMA_VERSION},
                    "default_policy": {
                        "type": "string",
                        "description": "The policy a request gets when route, tenant and request choose none. Required with several policies unless one is named `default`."
                    },
                    "policies": {
                        "type": "object",
                        "minProperties": 1,
                        "propertyNames": {"pattern": "^[A-Za-z0-9_.-]+$"},
                        "additionalProperties": {"$ref": "#/$defs/NamedPolicy"}
                    },
                    "selection": selection.to_value()
                }
            }
        ],
        "$defs": defs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_names_both_forms_and_every_detector() {
        let s = document_schema();
        assert_eq!(s["oneOf"].as_array().map(Vec::len), Some(2));
        let text = s.to_string();
        for t in DETECTOR_TYPES {
            assert!(text.contains(&format!("\"const\":\"{t}\"")), "{t}");
        }
    }
}
