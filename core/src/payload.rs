//! OpenAI-style request bodies → text slots, and back.
//!
//! Parsing is lenient and lossless: the body is read into a `serde_json::Value` with key order
//! preserved, only the fields that carry text are read, and everything else (unknown fields,
//! provider extensions, images) is left alone. An allowed body is never re-serialised — the
//! adapter forwards the original bytes. Only a masked body is re-serialised, with the changed
//! strings substituted.
//!
//! Slots read from a chat-completion request (`messages[]`):
//! - `content` as a string, or each `{"type": "text" | "input_text", "text": ...}` part of an
//!   array content, scoped by the message's `role`;
//! - `tool_calls[].function.arguments` and legacy `function_call.arguments` →
//!   [`Scope::ToolCallArguments`];
//! - messages with `role: tool` or `role: function` → [`Scope::ToolResults`].
//!
//! Non-chat bodies: `prompt` (legacy completions) and `input` (embeddings, moderation, the
//! Responses API's string form), string or array of strings, are read as [`Scope::User`].

use serde_json::Value;

use crate::config::Scope;

/// Where a slot lives in the body, so a masked text can be written back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotPath {
    /// `messages[msg].content` (a string).
    Content { msg: usize },
    /// `messages[msg].content[part].text`.
    ContentPart { msg: usize, part: usize },
    /// `messages[msg].tool_calls[call].function.arguments`.
    ToolCallArguments { msg: usize, call: usize },
    /// `messages[msg].function_call.arguments`.
    FunctionCallArguments { msg: usize },
    /// `prompt` or `prompt[index]`.
    Prompt { index: Option<usize> },
    /// `input` or `input[index]`.
    Input { index: Option<usize> },
    /// Response: `choices[choice].message.content` (a string).
    ChoiceContent { choice: usize },
    /// Response: `choices[choice].message.content[part].text`.
    ChoiceContentPart { choice: usize, part: usize },
    /// Response: `choices[choice].message.tool_calls[call].function.arguments`.
    ChoiceToolCallArguments { choice: usize, call: usize },
    /// Response: `choices[choice].text` (legacy completions).
    ChoiceText { choice: usize },
    /// MCP: the `leaf`th string of JSON-RPC message `msg` (see [`crate::mcp`]).
    McpLeaf { msg: usize, leaf: usize },
}

impl SlotPath {
    /// The JSON pointer of the slot's string.
    fn pointer(self) -> String {
        match self {
            SlotPath::Content { msg } => format!("/messages/{msg}/content"),
            SlotPath::ContentPart { msg, part } => format!("/messages/{msg}/content/{part}/text"),
            SlotPath::ToolCallArguments { msg, call } => {
                format!("/messages/{msg}/tool_calls/{call}/function/arguments")
            }
            SlotPath::FunctionCallArguments { msg } => {
                format!("/messages/{msg}/function_call/arguments")
            }
            SlotPath::Prompt { index: None } => "/prompt".to_string(),
            SlotPath::Prompt { index: Some(i) } => format!("/prompt/{i}"),
            SlotPath::Input { index: None } => "/input".to_string(),
            SlotPath::Input { index: Some(i) } => format!("/input/{i}"),
            SlotPath::ChoiceContent { choice } => format!("/choices/{choice}/message/content"),
            SlotPath::ChoiceContentPart { choice, part } => {
                format!("/choices/{choice}/message/content/{part}/text")
            }
            SlotPath::ChoiceToolCallArguments { choice, call } => {
                format!("/choices/{choice}/message/tool_calls/{call}/function/arguments")
            }
            SlotPath::ChoiceText { choice } => format!("/choices/{choice}/text"),
            // Not addressable by a fixed pointer; see `replace_slot` and `Display`.
            SlotPath::McpLeaf { msg, leaf } => format!("/mcp/{msg}/string/{leaf}"),
        }
    }
}

impl std::fmt::Display for SlotPath {
    /// The slot's location in JSONPath-like form: `messages[1].content[0].text`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pointer = self.pointer();
        let mut first = true;
        for seg in pointer.split('/').skip(1) {
            if seg.bytes().all(|b| b.is_ascii_digit()) {
                write!(f, "[{seg}]")?;
            } else {
                if !first {
                    f.write_str(".")?;
                }
                f.write_str(seg)?;
            }
            first = false;
        }
        Ok(())
    }
}

/// One piece of text a guard may read.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot<'a> {
    pub scope: Scope,
    pub path: SlotPath,
    pub text: &'a str,
}

/// The text slots of a request body, in document order. Never fails: fields with unexpected
/// shapes are skipped, not errors.
pub fn request_slots(body: &Value) -> Vec<Slot<'_>> {
    let mut slots = Vec::new();
    if let Some(messages) = body.get("messages").and_then(Value::as_array) {
        for (msg, m) in messages.iter().enumerate() {
            message_slots(msg, m, &mut slots);
        }
    }
    for (key, make) in [
        (
            "prompt",
            (|index| SlotPath::Prompt { index }) as fn(Option<usize>) -> SlotPath,
        ),
        ("input", |index| SlotPath::Input { index }),
    ] {
        match body.get(key) {
            Some(Value::String(s)) => slots.push(Slot {
                scope: Scope::User,
                path: make(None),
                text: s,
            }),
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    if let Value::String(s) = item {
                        slots.push(Slot {
                            scope: Scope::User,
                            path: make(Some(i)),
                            text: s,
                        });
                    }
                }
            }
            _ => {}
        }
    }
    slots
}

fn role_scope(role: Option<&str>) -> Scope {
    match role {
        Some("system") => Scope::System,
        Some("developer") => Scope::Developer,
        Some("assistant") => Scope::Assistant,
        Some("tool") | Some("function") => Scope::ToolResults,
        // `user`, and any role we do not know: read it as user text, the strictest scope.
        _ => Scope::User,
    }
}

fn message_slots<'a>(msg: usize, m: &'a Value, slots: &mut Vec<Slot<'a>>) {
    let scope = role_scope(m.get("role").and_then(Value::as_str));
    let paths = MessagePaths {
        content: SlotPath::Content { msg },
        part: &|part| SlotPath::ContentPart { msg, part },
        call: &|call| SlotPath::ToolCallArguments { msg, call },
    };
    text_and_tool_slots(m, scope, &paths, slots);
    if let Some(args) = m
        .pointer("/function_call/arguments")
        .and_then(Value::as_str)
    {
        slots.push(Slot {
            scope: Scope::ToolCallArguments,
            path: SlotPath::FunctionCallArguments { msg },
            text: args,
        });
    }
}

/// Where a message's content, content parts and tool calls live (request message or response
/// choice).
struct MessagePaths<'f> {
    content: SlotPath,
    part: &'f dyn Fn(usize) -> SlotPath,
    call: &'f dyn Fn(usize) -> SlotPath,
}

/// The slots of one message object: `content` (string or text parts) in `scope`, and
/// `tool_calls[].function.arguments` as [`Scope::ToolCallArguments`].
fn text_and_tool_slots<'a>(
    m: &'a Value,
    scope: Scope,
    paths: &MessagePaths<'_>,
    slots: &mut Vec<Slot<'a>>,
) {
    match m.get("content") {
        Some(Value::String(text)) => slots.push(Slot {
            scope,
            path: paths.content,
            text,
        }),
        Some(Value::Array(parts)) => {
            for (part, p) in parts.iter().enumerate() {
                if let Some(text) = text_part(p) {
                    slots.push(Slot {
                        scope,
                        path: (paths.part)(part),
                        text,
                    });
                }
            }
        }
        _ => {}
    }
    if let Some(calls) = m.get("tool_calls").and_then(Value::as_array) {
        for (call, c) in calls.iter().enumerate() {
            if let Some(text) = c.pointer("/function/arguments").and_then(Value::as_str) {
                slots.push(Slot {
                    scope: Scope::ToolCallArguments,
                    path: (paths.call)(call),
                    text,
                });
            }
        }
    }
}

fn text_part(p: &Value) -> Option<&str> {
    match p.get("type").and_then(Value::as_str) {
        Some("text") | Some("input_text") | Some("output_text") | None => {
            p.get("text").and_then(Value::as_str)
        }
        _ => None,
    }
}

/// The text slots of a chat-completion (or legacy completion) response: each choice's message
/// content — string or text parts — as [`Scope::Assistant`], its tool-call arguments as
/// [`Scope::ToolCallArguments`], and legacy `choices[].text` as [`Scope::Assistant`].
pub fn response_slots(body: &Value) -> Vec<Slot<'_>> {
    let mut slots = Vec::new();
    let Some(choices) = body.get("choices").and_then(Value::as_array) else {
        return slots;
    };
    for (choice, c) in choices.iter().enumerate() {
        if let Some(text) = c.get("text").and_then(Value::as_str) {
            slots.push(Slot {
                scope: Scope::Assistant,
                path: SlotPath::ChoiceText { choice },
                text,
            });
        }
        let Some(m) = c.get("message") else { continue };
        let paths = MessagePaths {
            content: SlotPath::ChoiceContent { choice },
            part: &|part| SlotPath::ChoiceContentPart { choice, part },
            call: &|call| SlotPath::ChoiceToolCallArguments { choice, call },
        };
        text_and_tool_slots(m, Scope::Assistant, &paths, &mut slots);
    }
    slots
}

/// Turn every choice of a response into a content-filter refusal: the message content becomes
/// `message`, tool calls are dropped, `finish_reason` is `"content_filter"` (what OpenAI and
/// Azure OpenAI return for filtered output). Ids, usage and unknown fields are kept.
pub fn refuse_choices(body: &mut Value, message: &str) {
    let Some(choices) = body.get_mut("choices").and_then(Value::as_array_mut) else {
        return;
    };
    for c in choices {
        let Some(c) = c.as_object_mut() else { continue };
        if c.contains_key("text") {
            c.insert("text".into(), Value::String(message.to_string()));
        }
        if let Some(m) = c.get_mut("message").and_then(Value::as_object_mut) {
            m.insert("content".into(), Value::String(message.to_string()));
            m.remove("tool_calls");
            m.remove("function_call");
        }
        c.insert(
            "finish_reason".into(),
            Value::String("content_filter".into()),
        );
    }
}

/// Replace the text at `path`. Returns false if the body has no string there (the body changed
/// shape since the slots were read — a bug in the caller).
pub fn replace_slot(body: &mut Value, path: SlotPath, text: String) -> bool {
    if let SlotPath::McpLeaf { msg, leaf } = path {
        return crate::mcp::replace_leaf(body, msg, leaf, text);
    }
    match body.pointer_mut(&path.pointer()) {
        Some(v @ Value::String(_)) => {
            *v = Value::String(text);
            true
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_every_text_slot() {
        let body = json!({
            "model": "m",
            "messages": [
                {"role": "system", "content": "sys"},
                {"role": "user", "content": [{"type": "text", "text": "part0"}, {"type": "image_url", "image_url": {"url": "x"}}, {"type": "text", "text": "part2"}]},
                {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"q\": 1}"}}]},
                {"role": "tool", "tool_call_id": "c1", "content": "result"},
                {"role": "assistant", "function_call": {"name": "g", "arguments": "legacy"}},
                {"role": "mystery", "content": "who"},
                {"role": "user", "content": 42}
            ],
            "x_vendor": {"keep": true}
        });
        let got: Vec<_> = request_slots(&body)
            .into_iter()
            .map(|s| (s.scope, s.path.to_string(), s.text))
            .collect();
        assert_eq!(
            got,
            vec![
                (Scope::System, "messages[0].content".into(), "sys"),
                (Scope::User, "messages[1].content[0].text".into(), "part0"),
                (Scope::User, "messages[1].content[2].text".into(), "part2"),
                (
                    Scope::ToolCallArguments,
                    "messages[2].tool_calls[0].function.arguments".into(),
                    "{\"q\": 1}"
                ),
                (Scope::ToolResults, "messages[3].content".into(), "result"),
                (
                    Scope::ToolCallArguments,
                    "messages[4].function_call.arguments".into(),
                    "legacy"
                ),
                (Scope::User, "messages[5].content".into(), "who"),
            ]
        );
    }

    #[test]
    fn non_chat_bodies() {
        let body = json!({"prompt": ["a", 1, "b"], "input": "c"});
        let got: Vec<_> = request_slots(&body)
            .into_iter()
            .map(|s| (s.path.to_string(), s.text))
            .collect();
        assert_eq!(
            got,
            vec![
                ("prompt[0]".into(), "a"),
                ("prompt[2]".into(), "b"),
                ("input".into(), "c")
            ]
        );
        assert!(request_slots(&json!([1, 2])).is_empty());
        assert!(request_slots(&json!({"messages": "nope"})).is_empty());
    }

    #[test]
    fn reads_response_slots() {
        let body = json!({
            "id": "x", "object": "chat.completion",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "hello", "tool_calls": [
                    {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}, "finish_reason": "stop"},
                {"index": 1, "message": {"role": "assistant", "content": [{"type": "text", "text": "part"}]}},
                {"index": 2, "text": "legacy"}
            ]
        });
        let got: Vec<_> = response_slots(&body)
            .into_iter()
            .map(|s| (s.scope, s.path.to_string(), s.text))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    Scope::Assistant,
                    "choices[0].message.content".into(),
                    "hello"
                ),
                (
                    Scope::ToolCallArguments,
                    "choices[0].message.tool_calls[0].function.arguments".into(),
                    "{}"
                ),
                (
                    Scope::Assistant,
                    "choices[1].message.content[0].text".into(),
                    "part"
                ),
                (Scope::Assistant, "choices[2].text".into(), "legacy"),
            ]
        );
        let mut body = body;
        assert!(replace_slot(
            &mut body,
            SlotPath::ChoiceContent { choice: 0 },
            "[X]".into()
        ));
        assert_eq!(body["choices"][0]["message"]["content"], "[X]");
        assert!(response_slots(&json!({"choices": "no"})).is_empty());
    }

    #[test]
    fn replace_keeps_everything_else() {
        let mut body = json!({"messages": [{"role": "user", "content": [{"type": "text", "text": "a"}], "z": 1}], "k": [1, 2]});
        assert!(replace_slot(
            &mut body,
            SlotPath::ContentPart { msg: 0, part: 0 },
            "b".into()
        ));
        assert_eq!(
            body,
            json!({"messages": [{"role": "user", "content": [{"type": "text", "text": "b"}], "z": 1}], "k": [1, 2]})
        );
        assert!(!replace_slot(
            &mut body,
            SlotPath::Content { msg: 3 },
            "x".into()
        ));
    }
}
