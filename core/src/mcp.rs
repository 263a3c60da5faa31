//! MCP tool calls: JSON-RPC 2.0 messages over MCP's streamable HTTP transport.
//!
//! A POST body that is a JSON-RPC message (an object with `"jsonrpc": "2.0"`, or a batch array
//! of them) is MCP traffic, not a chat completion. Requests whose `method` is in the policy's
//! `mcp.methods` (default `tools/call`) are read by `mcp_pre_tool` guards: for `tools/call`,
//! every string in `params.arguments`; for other configured methods, every string in `params`.
//! The responses to those requests (matched by `id`) are read by `mcp_post_tool` guards: every
//! string in `result` (text content items, embedded resource text, `structuredContent`), except
//! base64 payloads (`data` / `blob` next to a `mimeType`) and the `type` / `mimeType` tags.
//! Every other message — `initialize`, `tools/list`, notifications, responses to other methods —
//! passes untouched.
//!
//! Each string is one slot (a JSON pointer: `/params/arguments/query`, `/1/result/content/0/text`
//! inside a batch), so masks are written back in place and the rest of the message, key order
//! included, is kept. Strings are read without their keys: a
//! detector that needs a key for context (`"password": "..."`) sees only the value.
//!
//! A blocked request is answered, without reaching the server, by a JSON-RPC error response
//! (HTTP 200, code [`BLOCK_CODE`], the guard's message, and `data` naming the guard), the shape
//! every MCP client surfaces. A blocked result is replaced by a tool error result
//! (`isError: true` with the block message as text), so the model learns the call was withheld
//! rather than seeing a protocol failure.

use serde_json::{json, Map, Value};

use crate::payload::{Slot, SlotSink};
use crate::vocab::Scope;

/// JSON-RPC error code of a blocked MCP request (server-defined range -32000..=-32099).
pub const BLOCK_CODE: i64 = -32001;

/// Is this parsed body JSON-RPC 2.0 (a message or a non-empty batch of messages)?
pub fn is_jsonrpc(body: &Value) -> bool {
    fn one(v: &Value) -> bool {
        v.get("jsonrpc").and_then(Value::as_str) == Some("2.0")
    }
    match body {
        Value::Array(items) => !items.is_empty() && items.iter().all(one),
        v => one(v),
    }
}

/// The messages of a body: itself, or the items of a batch.
fn messages(body: &Value) -> Vec<&Value> {
    match body {
        Value::Array(items) => items.iter().collect(),
        v => vec![v],
    }
}

/// The ids of the JSON-RPC responses in `body` that carry a `result` (a tool result posted to
/// the verdict API without its request: all of them are read as `mcp_post_tool`).
pub fn result_ids(body: &Value) -> Vec<Value> {
    if !is_jsonrpc(body) {
        return Vec::new();
    }
    messages(body)
        .into_iter()
        .filter(|m| m.get("result").is_some())
        .filter_map(|m| m.get("id").cloned())
        .collect()
}

/// The JSON-RPC ids of the requests in `body` whose method the policy reads, in order.
/// Notifications (no `id`) are read but have no response to match.
pub fn guarded_ids(body: &Value, methods: &[String]) -> Vec<Value> {
    messages(body)
        .into_iter()
        .filter(|m| method_of(m).is_some_and(|name| methods.iter().any(|x| x == name)))
        .filter_map(|m| m.get("id").cloned())
        .collect()
}

fn method_of(m: &Value) -> Option<&str> {
    m.get("method").and_then(Value::as_str)
}

/// Where a message's guarded strings hang (its pointer tokens), and whether it is a result.
fn root(m: &Value) -> Option<(&Value, &'static [&'static str], bool)> {
    match method_of(m) {
        Some("tools/call") => m
            .pointer("/params/arguments")
            .map(|v| (v, &["params", "arguments"][..], false)),
        Some(_) => m.get("params").map(|v| (v, &["params"][..], false)),
        None => m.get("result").map(|v| (v, &["result"][..], true)),
    }
}

/// Keys of a result object that are never text to read.
fn skipped(map: &Map<String, Value>, key: &str, result: bool) -> bool {
    result
        && (key == "type"
            || key == "mimeType"
            || ((key == "data" || key == "blob") && map.contains_key("mimeType")))
}

/// Every readable string under `v`, in document order, as slots.
fn strings<'a>(v: &'a Value, result: bool, scope: Scope, s: &mut SlotSink<'a>) {
    match v {
        Value::String(text) => s.push(scope, text),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                s.at_index(i, |s| strings(item, result, scope, s));
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                if !skipped(map, k, result) {
                    s.within(k, |s| strings(item, result, scope, s));
                }
            }
        }
        _ => {}
    }
}

/// Slots of every message of `body` that `guarded` selects.
fn slots_of<'a>(body: &'a Value, scope: Scope, guarded: impl Fn(&Value) -> bool) -> Vec<Slot<'a>> {
    let mut s = SlotSink::new();
    let one = |m: &'a Value, s: &mut SlotSink<'a>| {
        if !guarded(m) {
            return;
        }
        let Some((root, tokens, result)) = root(m) else {
            return;
        };
        fn under<'a>(
            tokens: &[&str],
            root: &'a Value,
            result: bool,
            scope: Scope,
            s: &mut SlotSink<'a>,
        ) {
            match tokens.split_first() {
                Some((t, rest)) => s.within(t, |s| under(rest, root, result, scope, s)),
                None => strings(root, result, scope, s),
            }
        }
        under(tokens, root, result, scope, s);
    };
    match body {
        Value::Array(items) => {
            for (i, m) in items.iter().enumerate() {
                s.at_index(i, |s| one(m, s));
            }
        }
        m => one(m, &mut s),
    }
    s.slots
}

/// The `mcp_pre_tool` slots of a request body: the strings of each guarded request.
pub fn request_slots<'a>(body: &'a Value, methods: &[String]) -> Vec<Slot<'a>> {
    slots_of(body, Scope::ToolCallArguments, |m| {
        method_of(m).is_some_and(|name| methods.iter().any(|x| x == name))
    })
}

/// The `mcp_post_tool` slots of a response body: the strings of each result whose `id` is one
/// of `ids` (the guarded requests of this exchange).
pub fn response_slots<'a>(body: &'a Value, ids: &[Value]) -> Vec<Slot<'a>> {
    slots_of(body, Scope::ToolResults, |m| is_guarded_result(m, ids))
}

fn is_guarded_result(m: &Value, ids: &[Value]) -> bool {
    m.get("result").is_some() && m.get("id").is_some_and(|id| ids.contains(id))
}

/// A JSON-RPC error response to request `id`, with the guardrail's code.
fn rpc_error(id: Value, message: &str, data: &Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": BLOCK_CODE, "message": message, "data": data}})
}

/// The local answer to a blocked request body: a JSON-RPC error for each guarded request in it
/// (a single object for a single request, an array for a batch).
pub fn error_reply(body: &Value, methods: &[String], message: &str, guard: &str) -> Vec<u8> {
    let data = json!({"guard": guard, "reason": "content_policy_violation"});
    let reply = match body {
        Value::Array(_) => Value::Array(
            guarded_ids(body, methods)
                .into_iter()
                .map(|id| rpc_error(id, message, &data))
                .collect(),
        ),
        single => rpc_error(
            single.get("id").cloned().unwrap_or(Value::Null),
            message,
            &data,
        ),
    };
    reply.to_string().into_bytes()
}

/// The answer to guarded calls whose response the guard could not read (too large, or in a
/// coding it cannot decode): a JSON-RPC error for each of `ids` (one object for one call, an
/// array for a batch).
pub fn withheld_reply(ids: &[Value], message: &str) -> Vec<u8> {
    let data = json!({"reason": "guardrail_unreadable_response"});
    let reply = match ids {
        [one] => rpc_error(one.clone(), message, &data),
        many => Value::Array(
            many.iter()
                .map(|id| rpc_error(id.clone(), message, &data))
                .collect(),
        ),
    };
    reply.to_string().into_bytes()
}

/// Turn each guarded result in a response body into a tool error carrying `message`.
pub fn refuse_results(body: &mut Value, ids: &[Value], message: &str) {
    let refusal = json!({"content": [{"type": "text", "text": message}], "isError": true});
    let refuse = |m: &mut Value| {
        if is_guarded_result(m, ids) {
            if let Some(obj) = m.as_object_mut() {
                obj.insert("result".into(), refusal.clone());
            }
        }
    };
    match body {
        Value::Array(items) => items.iter_mut().for_each(refuse),
        m => refuse(m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn methods() -> Vec<String> {
        vec!["tools/call".into()]
    }

    #[test]
    fn detects_jsonrpc() {
        assert!(is_jsonrpc(&json!({"jsonrpc": "2.0", "method": "ping"})));
        assert!(is_jsonrpc(
            &json!([{"jsonrpc": "2.0", "id": 1, "result": {}}])
        ));
        assert!(!is_jsonrpc(&json!([])));
        assert!(!is_jsonrpc(&json!({"messages": []})));
        assert!(!is_jsonrpc(&json!({"jsonrpc": "1.0"})));
    }

    #[test]
    fn reads_tool_call_arguments_only_for_configured_methods() {
        let body = json!([
            {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
             "params": {"name": "search", "arguments": {"q": "alpha", "opts": {"tags": ["b", 3], "n": 2}}}},
            {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {"cursor": "c"}},
            {"jsonrpc": "2.0", "method": "notifications/initialized"}
        ]);
        let slots = request_slots(&body, &methods());
        let got: Vec<_> = slots
            .iter()
            .map(|s| (s.path.to_string(), s.text, s.scope))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "[0].params.arguments.q".to_string(),
                    "alpha",
                    Scope::ToolCallArguments
                ),
                (
                    "[0].params.arguments.opts.tags[0]".to_string(),
                    "b",
                    Scope::ToolCallArguments
                ),
            ]
        );
        assert_eq!(guarded_ids(&body, &methods()), [json!(1)]);
        let all = vec!["tools/call".to_string(), "tools/list".to_string()];
        assert_eq!(request_slots(&body, &all).len(), 3);
    }

    #[test]
    fn reads_results_by_id_and_skips_binary() {
        let body = json!({"jsonrpc": "2.0", "id": "a", "result": {
            "content": [
                {"type": "text", "text": "hello"},
                {"type": "image", "data": "iVBORw0KGgo=", "mimeType": "image/png"},
                {"type": "resource", "resource": {"uri": "file:///x", "mimeType": "text/plain", "text": "body"}}
            ],
            "structuredContent": {"data": "kept", "n": 1},
            "isError": false}});
        let texts: Vec<_> = response_slots(&body, &[json!("a")])
            .iter()
            .map(|s| s.text)
            .collect();
        assert_eq!(texts, ["hello", "file:///x", "body", "kept"]);
        assert!(response_slots(&body, &[json!(1)]).is_empty());
        let paths: Vec<String> = response_slots(&body, &[json!("a")])
            .iter()
            .map(|s| s.path.pointer().to_string())
            .collect();
        assert_eq!(paths[2], "/result/content/2/resource/text");
        let mut body = body;
        assert!(crate::payload::replace_slot(
            &mut body,
            &crate::vocab::SlotPath::at(paths[2].as_str()),
            "[X]".into()
        ));
        assert_eq!(body["result"]["content"][2]["resource"]["text"], "[X]");
        assert_eq!(
            body["result"]["content"][1]["data"], "iVBORw0KGgo=",
            "binary untouched"
        );
    }

    #[test]
    fn replies() {
        let single = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {}});
        let r: Value =
            serde_json::from_slice(&error_reply(&single, &methods(), "no", "g")).unwrap();
        assert_eq!(r["id"], 7);
        assert_eq!(r["error"]["code"], BLOCK_CODE);
        assert_eq!(r["error"]["data"]["guard"], "g");
        let batch = json!([single, {"jsonrpc": "2.0", "method": "notifications/x"}]);
        let r: Value = serde_json::from_slice(&error_reply(&batch, &methods(), "no", "g")).unwrap();
        assert_eq!(r.as_array().map(Vec::len), Some(1));

        let mut resp = json!({"jsonrpc": "2.0", "id": 7, "result": {"content": [{"type": "text", "text": "secret"}]}});
        refuse_results(&mut resp, &[json!(7)], "withheld");
        assert_eq!(resp["result"]["isError"], true);
        assert_eq!(resp["result"]["content"][0]["text"], "withheld");
    }
}
