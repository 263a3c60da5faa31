//! LLM API dialects: which fields of a body carry text, and how each API shapes an error, a
//! refused answer and the end of a filtered stream.
//!
//! A request's dialect is chosen by its path (`/v1/chat/completions`, `/v1/responses`,
//! `/v1/messages`, `…:generateContent`, `…:streamGenerateContent`, `/v1/completions`,
//! `/v1/embeddings`); a path that names none is read by the body's shape. A JSON-RPC body is MCP
//! whatever the path (see [`crate::mcp`]). A JSON body that no dialect recognises is
//! `limits.on_unrecognized` (block by default): a guard never reports `allow` for text it did
//! not read.
//!
//! Slots read, per dialect (scopes in brackets):
//! - OpenAI Chat Completions: `messages[]` content strings and `text`/`input_text` parts [by
//!   role], `tool_calls[].function.arguments` and `function_call.arguments`
//!   [tool_call_arguments], `role: tool | function` content [tool_results]; answers:
//!   `choices[].message` likewise [assistant], legacy `choices[].text`.
//! - OpenAI Responses: `instructions` [system]; `input` as a string [user], or items: messages
//!   (content string or `input_text`/`output_text` parts, by role), `function_call.arguments`,
//!   `custom_tool_call.input`, `mcp_call.arguments` [tool_call_arguments],
//!   `function_call_output.output`, `custom_tool_call_output.output`, `mcp_call.output`
//!   [tool_results], `reasoning.summary[].text` [assistant]; answers: `output[]` the same item
//!   kinds (`output_text`, `refusal`).
//! - Anthropic Messages: `system` string or text blocks [system]; `messages[]` content strings,
//!   `text` blocks, `document` blocks with a text source [by role], `thinking` [assistant],
//!   every string of `tool_use.input` [tool_call_arguments], `tool_result.content` string or
//!   text blocks [tool_results]; answers: `content[]` the same blocks.
//! - Gemini `generateContent` / `streamGenerateContent`: `systemInstruction.parts[].text`
//!   [system]; `contents[].parts[].text` [user, or assistant for role `model`], every string of
//!   `functionCall.args` [tool_call_arguments] and `functionResponse.response`
//!   [tool_results] (camelCase or snake_case); answers: `candidates[].content.parts`, also as a
//!   JSON array of answers (a stream without `alt=sse`).
//! - Legacy completions: `prompt` string or strings [user]; answers `choices[].text`.
//! - Embeddings: `input` string or strings [user]; answers carry no text.

use serde_json::{json, Map, Value};

use crate::payload::{Slot, SlotSink};
use crate::reply::{self, Reply};
use crate::tree_free;
use crate::vocab::Scope;

/// An LLM API whose bodies the guard reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Dialect {
    /// OpenAI Chat Completions (and the many APIs that copy it).
    #[default]
    OpenAiChat,
    /// OpenAI Responses API.
    OpenAiResponses,
    /// Anthropic Messages API.
    AnthropicMessages,
    /// Gemini `generateContent` / `streamGenerateContent`.
    Gemini,
    /// OpenAI legacy completions (`prompt`).
    Completions,
    /// OpenAI embeddings (`input`).
    Embeddings,
    /// MCP (JSON-RPC 2.0), recognised by the body.
    Mcp,
}

impl Dialect {
    /// The dialect a request path names, if any (query string ignored).
    pub fn from_path(path: &str) -> Option<Dialect> {
        let path = path.split(['?', '#']).next().unwrap_or("");
        let path = path.trim_end_matches('/');
        if path.ends_with(":generateContent") || path.ends_with(":streamGenerateContent") {
            return Some(Dialect::Gemini);
        }
        let last = |suffix: &str| path.ends_with(suffix);
        if last("/chat/completions") {
            Some(Dialect::OpenAiChat)
        } else if last("/responses") {
            Some(Dialect::OpenAiResponses)
        } else if last("/messages") || last("/messages/count_tokens") {
            Some(Dialect::AnthropicMessages)
        } else if last("/completions") {
            Some(Dialect::Completions)
        } else if last("/embeddings") {
            Some(Dialect::Embeddings)
        } else {
            None
        }
    }

    /// The API of the answer to a bodiless request that retrieves a stored one, if the path
    /// names one: `GET /v1/responses/{id}` (a background response; `?stream=true` resumes its
    /// stream, `POST …/cancel` answers with it) and `GET /v1/chat/completions/{id}` (a stored
    /// completion). Other paths under
    /// them (`…/input_items`, `…/messages`) list what was sent, not an answer.
    pub fn of_retrieval(path: &str) -> Option<Dialect> {
        let path = path
            .split(['?', '#'])
            .next()
            .unwrap_or("")
            .trim_end_matches('/');
        // `POST /v1/responses/{id}/cancel` (no body) answers with the response, too.
        let path = path.strip_suffix("/cancel").unwrap_or(path);
        let (head, id) = path.rsplit_once('/')?;
        if id.is_empty() || id.contains(':') {
            return None;
        }
        if head.ends_with("/responses") {
            Some(Dialect::OpenAiResponses)
        } else if head.ends_with("/chat/completions") {
            Some(Dialect::OpenAiChat)
        } else {
            None
        }
    }

    /// The dialect of a request body by its shape alone, if it has one.
    pub fn from_body(value: &Value) -> Option<Dialect> {
        if crate::mcp::is_jsonrpc(value) {
            return Some(Dialect::Mcp);
        }
        let obj = value.as_object()?;
        if obj.contains_key("contents") {
            Some(Dialect::Gemini)
        } else if obj.contains_key("messages") {
            // Anthropic: a top-level `system`, Bedrock's `anthropic_version`, or content blocks
            // only Anthropic has (`tool_use`, `tool_result`, `thinking`, `document`).
            let anthropic_blocks = obj
                .get("messages")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|m| m.get("content").and_then(Value::as_array))
                .flatten()
                .any(|b| {
                    matches!(
                        b.get("type").and_then(Value::as_str),
                        Some("tool_use" | "tool_result" | "thinking" | "document")
                    )
                });
            if obj.contains_key("system")
                || obj.contains_key("anthropic_version")
                || anthropic_blocks
            {
                Some(Dialect::AnthropicMessages)
            } else {
                Some(Dialect::OpenAiChat)
            }
        } else if obj.contains_key("instructions") || obj.contains_key("input") {
            // `input` alone is also embeddings' and moderation's; the Responses reader reads
            // strings and string arrays too.
            Some(Dialect::OpenAiResponses)
        } else if obj.contains_key("prompt") {
            Some(Dialect::Completions)
        } else {
            None
        }
    }

    /// A request's dialect: MCP by the body; else by the path, if the body has that API's
    /// shape; else by the body's shape. `None`: text the guard would not know where to read.
    pub fn of_request(path: Option<&str>, value: &Value) -> Option<Dialect> {
        if crate::mcp::is_jsonrpc(value) {
            return Some(Dialect::Mcp);
        }
        path.and_then(Dialect::from_path)
            .filter(|d| d.has_shape(value))
            .or_else(|| Dialect::from_body(value))
    }

    /// The dialect of an answer by its shape alone (for the verdict API's `llm_output`, which
    /// has no request to go by): an OpenAI `chat.completion` / `text_completion` (or
    /// `choices`), a Responses `response` (or `output`), an Anthropic `message`, Gemini
    /// `candidates` (or a streamed JSON array of them).
    pub fn of_response(value: &Value) -> Option<Dialect> {
        let first = match value {
            Value::Array(items) => items.first()?,
            v => v,
        };
        let obj = first.as_object()?;
        let object = obj.get("object").and_then(Value::as_str);
        let kind = obj.get("type").and_then(Value::as_str);
        if obj.contains_key("candidates") {
            return Some(Dialect::Gemini);
        }
        if value.is_array() {
            return None;
        }
        match (object, kind) {
            (Some("chat.completion"), _) => Some(Dialect::OpenAiChat),
            (Some("text_completion"), _) => Some(Dialect::Completions),
            (Some("response"), _) => Some(Dialect::OpenAiResponses),
            (_, Some("message")) if obj.contains_key("content") => Some(Dialect::AnthropicMessages),
            _ if obj.get("choices").and_then(Value::as_array).is_some() => {
                Some(Dialect::OpenAiChat)
            }
            _ if obj.get("output").and_then(Value::as_array).is_some() => {
                Some(Dialect::OpenAiResponses)
            }
            _ => None,
        }
    }

    /// Does a request body have this API's top-level text fields?
    fn has_shape(self, value: &Value) -> bool {
        let has = |key: &str| value.get(key).is_some();
        match self {
            Dialect::OpenAiChat => has("messages"),
            Dialect::OpenAiResponses => has("input") || has("instructions"),
            Dialect::AnthropicMessages => has("messages") || has("system"),
            Dialect::Gemini => has("contents") || has("systemInstruction"),
            Dialect::Completions => has("prompt"),
            Dialect::Embeddings => has("input"),
            Dialect::Mcp => crate::mcp::is_jsonrpc(value),
        }
    }

    /// The text slots of a request body in this dialect (not MCP: see [`crate::mcp`]).
    pub fn request_slots(self, body: &Value) -> Vec<Slot<'_>> {
        let mut s = SlotSink::new();
        match self {
            Dialect::OpenAiChat => chat_request(body, &mut s),
            Dialect::OpenAiResponses => responses_request(body, &mut s),
            Dialect::AnthropicMessages => anthropic_request(body, &mut s),
            Dialect::Gemini => gemini_request(body, &mut s),
            Dialect::Completions => strings_or_list(body, "prompt", &mut s),
            Dialect::Embeddings => strings_or_list(body, "input", &mut s),
            Dialect::Mcp => {}
        }
        s.slots
    }

    /// The text slots of a (buffered) response body in this dialect (not MCP).
    pub fn response_slots(self, body: &Value) -> Vec<Slot<'_>> {
        let mut s = SlotSink::new();
        match self {
            Dialect::OpenAiChat | Dialect::Completions => chat_response(body, &mut s),
            Dialect::OpenAiResponses => responses_output(body, &mut s),
            Dialect::AnthropicMessages => {
                if let Some(blocks) = body.get("content").and_then(Value::as_array) {
                    s.within("content", |s| blocks_slots(blocks, Scope::Assistant, s));
                }
            }
            Dialect::Gemini => match body {
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        s.at_index(i, |s| gemini_candidates(item, s));
                    }
                }
                single => gemini_candidates(single, &mut s),
            },
            Dialect::Embeddings | Dialect::Mcp => {}
        }
        s.slots
    }

    /// Turn a buffered answer into this API's own refusal carrying `message` (the status line
    /// is already on its way to the client, so the body says it). Ids, usage and unknown
    /// fields are kept.
    pub fn refuse_response(self, body: &mut Value, message: &str) {
        match self {
            Dialect::OpenAiChat | Dialect::Completions | Dialect::Embeddings | Dialect::Mcp => {
                refuse_choices(body, message)
            }
            Dialect::OpenAiResponses => {
                let Some(obj) = body.as_object_mut() else {
                    return;
                };
                let id = obj
                    .get("output")
                    .and_then(Value::as_array)
                    .and_then(|items| items.iter().find_map(|i| i.get("id")))
                    .cloned()
                    .unwrap_or_else(|| Value::String("msg_parapet".into()));
                obj.insert(
                    "output".into(),
                    json!([{"type": "message", "id": id, "status": "incomplete", "role": "assistant",
                            "content": [{"type": "refusal", "refusal": message}]}]),
                );
                obj.insert("status".into(), Value::String("incomplete".into()));
                obj.insert(
                    "incomplete_details".into(),
                    json!({"reason": "content_filter"}),
                );
            }
            Dialect::AnthropicMessages => {
                let Some(obj) = body.as_object_mut() else {
                    return;
                };
                obj.insert("content".into(), json!([{"type": "text", "text": message}]));
                obj.insert("stop_reason".into(), Value::String("refusal".into()));
                obj.insert("stop_sequence".into(), Value::Null);
            }
            Dialect::Gemini => {
                let refuse = |answer: &mut Value, message: &str| {
                    let Some(candidates) =
                        answer.get_mut("candidates").and_then(Value::as_array_mut)
                    else {
                        return;
                    };
                    for c in candidates {
                        if let Some(c) = c.as_object_mut() {
                            c.insert(
                                "content".into(),
                                json!({"parts": [{"text": message}], "role": "model"}),
                            );
                            c.insert("finishReason".into(), Value::String("SAFETY".into()));
                        }
                    }
                };
                match body {
                    // A streamed answer as one JSON array: the refusal once, in the first.
                    Value::Array(items) => {
                        for (i, item) in items.iter_mut().enumerate() {
                            refuse(item, if i == 0 { message } else { "" });
                        }
                    }
                    single => refuse(single, message),
                }
            }
        }
    }

    /// A local error reply in this API's own shape, so its official SDK raises a normal API
    /// error carrying `message` (OpenAI: `{"error": {...}}`; Anthropic:
    /// `{"type": "error", "error": {"type", "message"}}`; Gemini: `{"error": {"code", "message",
    /// "status"}}`).
    pub fn error_reply(self, status: u16, message: &str, error_type: &str, code: &str) -> Reply {
        match self {
            Dialect::AnthropicMessages => Reply {
                status,
                body: json!({"type": "error", "error": {"type": error_type, "message": message}})
                    .to_string()
                    .into_bytes(),
            },
            Dialect::Gemini => Reply {
                status,
                body: json!({"error": {"code": status, "message": message,
                                       "status": google_status(status)}})
                .to_string()
                .into_bytes(),
            },
            _ => reply::openai_error(status, message, error_type, code),
        }
    }
}

impl Dialect {
    /// 413 for a body over `limits.max_body_bytes` under `on_oversize: block`, in the request's
    /// API shape.
    pub fn oversize_reply(self, limit: usize) -> Reply {
        self.error_reply(
            413,
            &format!(
                "Request body exceeds the guardrail's limit of {limit} bytes and was not forwarded."
            ),
            "invalid_request_error",
            "request_too_large",
        )
    }

    /// 400 for a body that is not JSON under `on_invalid_body: block`.
    pub fn invalid_body_reply(self, reason: &str) -> Reply {
        self.error_reply(
            400,
            &format!("Request body could not be parsed as JSON ({reason}); the guardrail did not forward it."),
            "invalid_request_error",
            "invalid_json",
        )
    }

    /// 400 for a JSON body that no API dialect recognises, under `on_unrecognized: block`.
    pub fn unrecognized_reply(self) -> Reply {
        self.error_reply(
            400,
            "Request body is not in a shape the guardrail can read (OpenAI chat, responses, completions or embeddings, Anthropic messages, Gemini, MCP); it was not forwarded.",
            "invalid_request_error",
            "unrecognized_body",
        )
    }

    /// 415 for a body whose `content-encoding` cannot be decoded, under `on_invalid_body: block`.
    pub fn undecodable_reply(self, reason: &str) -> Reply {
        self.error_reply(
            415,
            &format!(
                "Request body could not be decoded ({reason}); the guardrail did not forward it."
            ),
            "invalid_request_error",
            "unsupported_content_encoding",
        )
    }
}

/// The google.rpc status name Google APIs send with an HTTP status.
fn google_status(status: u16) -> &'static str {
    match status {
        400 | 413 | 422 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        429 => "RESOURCE_EXHAUSTED",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    }
}

fn role_scope(role: Option<&str>) -> Scope {
    match role {
        Some("system") => Scope::System,
        Some("developer") => Scope::Developer,
        Some("assistant") | Some("model") => Scope::Assistant,
        Some("tool") | Some("function") => Scope::ToolResults,
        // `user`, and any role we do not know: read it as user text, the strictest scope.
        _ => Scope::User,
    }
}

/// `key` as a string, or each string of an array (`prompt`, `input`).
fn strings_or_list<'a>(body: &'a Value, key: &str, s: &mut SlotSink<'a>) {
    match body.get(key) {
        Some(Value::String(text)) => s.within(key, |s| s.push(Scope::User, text)),
        Some(Value::Array(items)) => s.within(key, |s| {
            for (i, item) in items.iter().enumerate() {
                if let Value::String(text) = item {
                    s.at_index(i, |s| s.push(Scope::User, text));
                }
            }
        }),
        _ => {}
    }
}

/// A text part: `text`, `input_text`, `output_text` (or untyped) with a `text` string.
fn text_part(p: &Value) -> bool {
    matches!(
        p.get("type").and_then(Value::as_str),
        Some("text") | Some("input_text") | Some("output_text") | None
    )
}

/// `content` of a message: a string, or text parts.
fn content_slots<'a>(m: &'a Value, key: &str, scope: Scope, s: &mut SlotSink<'a>) {
    match m.get(key) {
        Some(Value::String(text)) => s.within(key, |s| s.push(scope, text)),
        Some(Value::Array(parts)) => s.within(key, |s| {
            for (i, p) in parts.iter().enumerate() {
                if text_part(p) {
                    s.at_index(i, |s| s.string(p, "text", scope));
                }
            }
        }),
        _ => {}
    }
}

// --- OpenAI Chat Completions ----------------------------------------------------------------

fn chat_request<'a>(body: &'a Value, s: &mut SlotSink<'a>) {
    if let Some(messages) = body.get("messages").and_then(Value::as_array) {
        s.within("messages", |s| {
            for (i, m) in messages.iter().enumerate() {
                let scope = role_scope(m.get("role").and_then(Value::as_str));
                s.at_index(i, |s| chat_message(m, scope, s));
            }
        });
    }
    // Bodies that mix shapes (a proxy's extensions) lose nothing.
    strings_or_list(body, "prompt", s);
    strings_or_list(body, "input", s);
}

/// One chat message (request) or choice message (response).
fn chat_message<'a>(m: &'a Value, scope: Scope, s: &mut SlotSink<'a>) {
    content_slots(m, "content", scope, s);
    if let Some(calls) = m.get("tool_calls").and_then(Value::as_array) {
        s.within("tool_calls", |s| {
            for (i, c) in calls.iter().enumerate() {
                if let Some(f) = c.get("function") {
                    s.at_index(i, |s| {
                        s.within("function", |s| {
                            s.string(f, "arguments", Scope::ToolCallArguments)
                        })
                    });
                }
            }
        });
    }
    if let Some(f) = m.get("function_call") {
        s.within("function_call", |s| {
            s.string(f, "arguments", Scope::ToolCallArguments)
        });
    }
    if scope == Scope::Assistant {
        s.string(m, "refusal", Scope::Assistant);
    }
}

fn chat_response<'a>(body: &'a Value, s: &mut SlotSink<'a>) {
    let Some(choices) = body.get("choices").and_then(Value::as_array) else {
        return;
    };
    s.within("choices", |s| {
        for (i, c) in choices.iter().enumerate() {
            s.at_index(i, |s| {
                s.string(c, "text", Scope::Assistant);
                if let Some(m) = c.get("message") {
                    s.within("message", |s| chat_message(m, Scope::Assistant, s));
                }
            });
        }
    });
}

/// [`chat_response`]'s slots of an answer read without a JSON tree ([`tree_free::ChatAnswer`]:
/// the same fields, typed and borrowed; a body it does not take is read as a tree), in the same
/// order, at the same paths (`typed_readers_read_what_the_tree_reads`).
pub(crate) fn chat_answer_slots<'b>(answer: &'b tree_free::ChatAnswer<'_>) -> Vec<Slot<'b>> {
    let mut s = SlotSink::new();
    if let Some(choices) = &answer.choices {
        s.within("choices", |s| {
            for (i, c) in choices.iter().enumerate() {
                s.at_index(i, |s| {
                    text_slot(s, "text", Scope::Assistant, &c.text);
                    if let Some(m) = &c.message {
                        s.within("message", |s| typed_message_slots(m, Scope::Assistant, s));
                    }
                });
            }
        });
    }
    s.slots
}

/// [`chat_request`]'s slots of a request read without a JSON tree ([`tree_free::ChatRequest`]),
/// or `None` if it has `prompt` or `input` (read as a tree then) or `jsonrpc` (MCP's).
pub(crate) fn chat_request_slots<'b>(
    request: &'b tree_free::ChatRequest<'_>,
) -> Option<Vec<Slot<'b>>> {
    if request.prompt.is_some() || request.input.is_some() || request.jsonrpc.is_some() {
        return None;
    }
    let mut s = SlotSink::new();
    let messages = request.messages.as_ref()?;
    s.within("messages", |s| {
        for (i, m) in messages.iter().enumerate() {
            let scope = role_scope(m.role.as_deref());
            s.at_index(i, |s| typed_message_slots(m, scope, s));
        }
    });
    Some(s.slots)
}

/// Whether [`Dialect::from_body`] reads a request read without a tree as a chat request (what a
/// body sent to a path of no known API gets): `messages` without `contents` (Gemini), `system`
/// or `anthropic_version` (Anthropic), nor a content block only Anthropic has. `jsonrpc`
/// (MCP) is left to [`chat_request_slots`], which declines any such body.
pub(crate) fn reads_as_chat_by_shape(request: &tree_free::ChatRequest<'_>) -> bool {
    let anthropic_blocks = request
        .messages
        .iter()
        .flatten()
        .filter_map(|m| match &m.content {
            Some(tree_free::Content::Parts(parts)) => Some(parts),
            _ => None,
        })
        .flatten()
        .any(|p| {
            matches!(
                p.kind.as_deref(),
                Some("tool_use" | "tool_result" | "thinking" | "document")
            )
        });
    request.has("messages")
        && !request.has("contents")
        && !request.has("system")
        && !request.has("anthropic_version")
        && !anthropic_blocks
}

/// [`chat_message`] on a message read without a tree.
fn typed_message_slots<'b>(m: &'b tree_free::Message<'_>, scope: Scope, s: &mut SlotSink<'b>) {
    match &m.content {
        Some(tree_free::Content::Text(text)) => s.within("content", |s| s.push(scope, text)),
        Some(tree_free::Content::Parts(parts)) => s.within("content", |s| {
            for (i, p) in parts.iter().enumerate() {
                let text_part = matches!(
                    p.kind.as_deref(),
                    Some("text") | Some("input_text") | Some("output_text") | None
                );
                if text_part {
                    s.at_index(i, |s| text_slot(s, "text", scope, &p.text));
                }
            }
        }),
        None => {}
    }
    if let Some(calls) = &m.tool_calls {
        s.within("tool_calls", |s| {
            for (i, c) in calls.iter().enumerate() {
                if let Some(f) = &c.function {
                    s.at_index(i, |s| {
                        s.within("function", |s| {
                            text_slot(s, "arguments", Scope::ToolCallArguments, &f.arguments)
                        })
                    });
                }
            }
        });
    }
    if let Some(f) = &m.function_call {
        s.within("function_call", |s| {
            text_slot(s, "arguments", Scope::ToolCallArguments, &f.arguments)
        });
    }
    if scope == Scope::Assistant {
        text_slot(s, "refusal", Scope::Assistant, &m.refusal);
    }
}

/// A slot for `text` under `token`, if present.
fn text_slot<'b>(
    s: &mut SlotSink<'b>,
    token: &str,
    scope: Scope,
    text: &'b Option<tree_free::Text<'_>>,
) {
    if let Some(text) = text {
        s.within(token, |s| s.push(scope, text));
    }
}

/// Turn every choice of a chat or completions response into a content-filter refusal: the
/// message content becomes `message`, tool calls and the model's own `refusal` are dropped,
/// `finish_reason` is `"content_filter"` (what OpenAI and Azure OpenAI return for filtered
/// output).
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
            m.remove("refusal");
        }
        c.insert(
            "finish_reason".into(),
            Value::String("content_filter".into()),
        );
    }
}

// --- OpenAI Responses -----------------------------------------------------------------------

fn responses_request<'a>(body: &'a Value, s: &mut SlotSink<'a>) {
    s.string(body, "instructions", Scope::System);
    match body.get("input") {
        Some(Value::String(text)) => s.within("input", |s| s.push(Scope::User, text)),
        Some(Value::Array(items)) => s.within("input", |s| {
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(text) => s.at_index(i, |s| s.push(Scope::User, text)),
                    item => s.at_index(i, |s| responses_item(item, Scope::User, s)),
                }
            }
        }),
        _ => {}
    }
}

fn responses_output<'a>(body: &'a Value, s: &mut SlotSink<'a>) {
    if let Some(items) = body.get("output").and_then(Value::as_array) {
        s.within("output", |s| {
            for (i, item) in items.iter().enumerate() {
                s.at_index(i, |s| responses_item(item, Scope::Assistant, s));
            }
        });
    }
}

/// One Responses item (input or output). `default_scope` is for messages without a role.
fn responses_item<'a>(item: &'a Value, default_scope: Scope, s: &mut SlotSink<'a>) {
    match item.get("type").and_then(Value::as_str) {
        Some("message") | None => {
            let scope = match item.get("role").and_then(Value::as_str) {
                None => default_scope,
                role => role_scope(role),
            };
            content_slots(item, "content", scope, s);
            if let Some(parts) = item.get("content").and_then(Value::as_array) {
                s.within("content", |s| {
                    for (i, p) in parts.iter().enumerate() {
                        if p.get("type").and_then(Value::as_str) == Some("refusal") {
                            s.at_index(i, |s| s.string(p, "refusal", scope));
                        }
                    }
                });
            }
        }
        Some("function_call") | Some("mcp_call") => {
            s.string(item, "arguments", Scope::ToolCallArguments);
            s.string(item, "output", Scope::ToolResults);
        }
        Some("custom_tool_call") => s.string(item, "input", Scope::ToolCallArguments),
        Some("function_call_output") | Some("custom_tool_call_output") => {
            match item.get("output") {
                Some(Value::Array(_)) => content_slots(item, "output", Scope::ToolResults, s),
                _ => s.string(item, "output", Scope::ToolResults),
            }
        }
        Some("reasoning") => {
            for key in ["summary", "content"] {
                if let Some(parts) = item.get(key).and_then(Value::as_array) {
                    s.within(key, |s| {
                        for (i, p) in parts.iter().enumerate() {
                            s.at_index(i, |s| s.string(p, "text", Scope::Assistant));
                        }
                    });
                }
            }
        }
        // Images, files, web searches, item references: no text of the model's.
        _ => {}
    }
}

// --- Anthropic Messages ---------------------------------------------------------------------

fn anthropic_request<'a>(body: &'a Value, s: &mut SlotSink<'a>) {
    match body.get("system") {
        Some(Value::String(text)) => s.within("system", |s| s.push(Scope::System, text)),
        Some(Value::Array(blocks)) => {
            s.within("system", |s| blocks_slots(blocks, Scope::System, s))
        }
        _ => {}
    }
    if let Some(messages) = body.get("messages").and_then(Value::as_array) {
        s.within("messages", |s| {
            for (i, m) in messages.iter().enumerate() {
                let scope = role_scope(m.get("role").and_then(Value::as_str));
                s.at_index(i, |s| match m.get("content") {
                    Some(Value::String(text)) => s.within("content", |s| s.push(scope, text)),
                    Some(Value::Array(blocks)) => {
                        s.within("content", |s| blocks_slots(blocks, scope, s))
                    }
                    _ => {}
                });
            }
        });
    }
}

/// Anthropic content blocks.
fn blocks_slots<'a>(blocks: &'a [Value], scope: Scope, s: &mut SlotSink<'a>) {
    for (i, b) in blocks.iter().enumerate() {
        s.at_index(i, |s| match b.get("type").and_then(Value::as_str) {
            Some("text") | None => s.string(b, "text", scope),
            Some("thinking") => s.string(b, "thinking", Scope::Assistant),
            Some("tool_use") | Some("server_tool_use") | Some("mcp_tool_use") => {
                if let Some(input) = b.get("input") {
                    s.within("input", |s| s.leaves(input, Scope::ToolCallArguments));
                }
            }
            Some("tool_result") | Some("mcp_tool_result") => match b.get("content") {
                Some(Value::String(text)) => {
                    s.within("content", |s| s.push(Scope::ToolResults, text))
                }
                Some(Value::Array(inner)) => {
                    s.within("content", |s| blocks_slots(inner, Scope::ToolResults, s))
                }
                _ => {}
            },
            Some("document") => {
                if let Some(src) = b.get("source") {
                    if src.get("type").and_then(Value::as_str) == Some("text") {
                        s.within("source", |s| s.string(src, "data", scope));
                    }
                }
            }
            _ => {}
        });
    }
}

// --- Gemini ---------------------------------------------------------------------------------

fn gemini_request<'a>(body: &'a Value, s: &mut SlotSink<'a>) {
    for key in ["systemInstruction", "system_instruction"] {
        if let Some(sys) = body.get(key) {
            s.within(key, |s| gemini_parts(sys, Scope::System, s));
        }
    }
    if let Some(contents) = body.get("contents").and_then(Value::as_array) {
        s.within("contents", |s| {
            for (i, c) in contents.iter().enumerate() {
                let scope = role_scope(c.get("role").and_then(Value::as_str));
                s.at_index(i, |s| gemini_parts(c, scope, s));
            }
        });
    }
}

fn gemini_candidates<'a>(answer: &'a Value, s: &mut SlotSink<'a>) {
    if let Some(candidates) = answer.get("candidates").and_then(Value::as_array) {
        s.within("candidates", |s| {
            for (i, c) in candidates.iter().enumerate() {
                if let Some(content) = c.get("content") {
                    s.at_index(i, |s| {
                        s.within("content", |s| gemini_parts(content, Scope::Assistant, s))
                    });
                }
            }
        });
    }
}

/// `parts[]` of a Gemini content: text, function calls and responses.
fn gemini_parts<'a>(content: &'a Value, scope: Scope, s: &mut SlotSink<'a>) {
    let Some(parts) = content.get("parts").and_then(Value::as_array) else {
        return;
    };
    s.within("parts", |s| {
        for (i, p) in parts.iter().enumerate() {
            s.at_index(i, |s| {
                s.string(p, "text", scope);
                let Some(obj) = p.as_object() else { return };
                gemini_call(obj, s);
            });
        }
    });
}

fn gemini_call<'a>(part: &'a Map<String, Value>, s: &mut SlotSink<'a>) {
    for (key, inner, scope) in [
        ("functionCall", "args", Scope::ToolCallArguments),
        ("function_call", "args", Scope::ToolCallArguments),
        ("functionResponse", "response", Scope::ToolResults),
        ("function_response", "response", Scope::ToolResults),
    ] {
        if let Some(v) = part.get(key).and_then(|c| c.get(inner)) {
            s.within(key, |s| s.within(inner, |s| s.leaves(v, scope)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fuzz regression (response_body): a chat answer's `message.refusal` is read by the
    /// output guards but was kept in the refusal of a blocked answer, secret and all.
    #[test]
    fn a_refused_chat_answer_keeps_no_text_the_guards_read() {
        let bodies: [&[u8]; 2] = [
            br#"{"choices":[{"index":0,"message":{"role":"assistant","content":"ok","refusal":"key AKIAQX7MZT3KWJ5RLN2P"}}]}"#,
            // As `cargo fuzz tmin` left it.
            br#"{"choices":[{"message":{"refusal":"key=ZT3KLN2P"}}]}"#,
        ];
        for body in bodies {
            for d in [Dialect::OpenAiChat, Dialect::Completions] {
                let mut body: Value = serde_json::from_slice(body).unwrap();
                d.refuse_response(&mut body, "withheld");
                let texts: Vec<&str> = d.response_slots(&body).iter().map(|s| s.text).collect();
                assert_eq!(texts, ["withheld"], "{d:?}");
            }
        }
    }

    fn read(d: Dialect, body: &Value, response: bool) -> Vec<(Scope, String, String)> {
        let slots = if response {
            d.response_slots(body)
        } else {
            d.request_slots(body)
        };
        slots
            .into_iter()
            .map(|s| (s.scope, s.path.to_string(), s.text.to_string()))
            .collect()
    }

    fn row(scope: Scope, path: &str, text: &str) -> (Scope, String, String) {
        (scope, path.to_string(), text.to_string())
    }

    #[test]
    fn dialect_by_path_then_body() {
        let cases = [
            ("/v1/chat/completions", Some(Dialect::OpenAiChat)),
            (
                "/openai/deployments/x/chat/completions?api-version=1",
                Some(Dialect::OpenAiChat),
            ),
            ("/v1/responses", Some(Dialect::OpenAiResponses)),
            ("/v1/messages", Some(Dialect::AnthropicMessages)),
            (
                "/v1/messages/count_tokens",
                Some(Dialect::AnthropicMessages),
            ),
            (
                "/v1beta/models/gemini-2.5-flash:generateContent",
                Some(Dialect::Gemini),
            ),
            (
                "/v1beta/models/g:streamGenerateContent?alt=sse",
                Some(Dialect::Gemini),
            ),
            ("/v1/completions", Some(Dialect::Completions)),
            ("/v1/embeddings", Some(Dialect::Embeddings)),
            ("/v1/models", None),
            ("/mcp", None),
        ];
        for (path, want) in cases {
            assert_eq!(Dialect::from_path(path), want, "{path}");
        }
        let by_body = |v: Value| Dialect::of_request(Some("/anything"), &v);
        assert_eq!(by_body(json!({"contents": []})), Some(Dialect::Gemini));
        assert_eq!(
            by_body(json!({"system": "s", "messages": []})),
            Some(Dialect::AnthropicMessages)
        );
        assert_eq!(by_body(json!({"messages": []})), Some(Dialect::OpenAiChat));
        assert_eq!(
            by_body(json!({"anthropic_version": "bedrock-2023-05-31", "messages": []})),
            Some(Dialect::AnthropicMessages)
        );
        assert_eq!(
            by_body(
                json!({"messages": [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "x"}]}]})
            ),
            Some(Dialect::AnthropicMessages)
        );
        assert_eq!(
            by_body(json!({"input": "x"})),
            Some(Dialect::OpenAiResponses)
        );
        assert_eq!(by_body(json!({"prompt": "x"})), Some(Dialect::Completions));
        assert_eq!(by_body(json!({"foo": "bar"})), None);
        // A path's dialect needs that API's shape: text elsewhere is not read as allowed.
        assert_eq!(
            Dialect::of_request(Some("/v1/chat/completions"), &json!({"foo": "bar"})),
            None
        );
        assert_eq!(
            Dialect::of_request(Some("/v1/messages"), &json!({"contents": []})),
            Some(Dialect::Gemini)
        );
        assert_eq!(by_body(json!([1])), None);
        assert_eq!(
            Dialect::of_request(
                Some("/v1/chat/completions"),
                &json!({"jsonrpc": "2.0", "method": "x"})
            ),
            Some(Dialect::Mcp)
        );
    }

    #[test]
    fn chat_request_and_response() {
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
        assert_eq!(
            read(Dialect::OpenAiChat, &body, false),
            vec![
                row(Scope::System, "messages[0].content", "sys"),
                row(Scope::User, "messages[1].content[0].text", "part0"),
                row(Scope::User, "messages[1].content[2].text", "part2"),
                row(
                    Scope::ToolCallArguments,
                    "messages[2].tool_calls[0].function.arguments",
                    "{\"q\": 1}"
                ),
                row(Scope::ToolResults, "messages[3].content", "result"),
                row(
                    Scope::ToolCallArguments,
                    "messages[4].function_call.arguments",
                    "legacy"
                ),
                row(Scope::User, "messages[5].content", "who"),
            ]
        );
        let resp = json!({"choices": [
            {"index": 0, "message": {"role": "assistant", "content": "hello", "tool_calls": [
                {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}},
            {"index": 1, "message": {"role": "assistant", "content": [{"type": "text", "text": "part"}], "refusal": "no"}},
            {"index": 2, "text": "legacy"}
        ]});
        assert_eq!(
            read(Dialect::OpenAiChat, &resp, true),
            vec![
                row(Scope::Assistant, "choices[0].message.content", "hello"),
                row(
                    Scope::ToolCallArguments,
                    "choices[0].message.tool_calls[0].function.arguments",
                    "{}"
                ),
                row(
                    Scope::Assistant,
                    "choices[1].message.content[0].text",
                    "part"
                ),
                row(Scope::Assistant, "choices[1].message.refusal", "no"),
                row(Scope::Assistant, "choices[2].text", "legacy"),
            ]
        );
    }

    #[test]
    fn responses_request_items_and_output() {
        let body = json!({
            "model": "m", "instructions": "be nice",
            "input": [
                {"role": "user", "content": "hi"},
                {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "dev"}, {"type": "input_image", "image_url": "x"}]},
                {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{\"a\":1}"},
                {"type": "function_call_output", "call_id": "c", "output": "tool said"},
                {"type": "function_call_output", "call_id": "d", "output": [{"type": "input_text", "text": "parts"}]},
                {"type": "reasoning", "summary": [{"type": "summary_text", "text": "thought"}]},
                {"role": "assistant", "content": [{"type": "output_text", "text": "earlier"}]}
            ]
        });
        assert_eq!(
            read(Dialect::OpenAiResponses, &body, false),
            vec![
                row(Scope::System, "instructions", "be nice"),
                row(Scope::User, "input[0].content", "hi"),
                row(Scope::Developer, "input[1].content[0].text", "dev"),
                row(Scope::ToolCallArguments, "input[2].arguments", "{\"a\":1}"),
                row(Scope::ToolResults, "input[3].output", "tool said"),
                row(Scope::ToolResults, "input[4].output[0].text", "parts"),
                row(Scope::Assistant, "input[5].summary[0].text", "thought"),
                row(Scope::Assistant, "input[6].content[0].text", "earlier"),
            ]
        );
        assert_eq!(
            read(
                Dialect::OpenAiResponses,
                &json!({"input": "just text"}),
                false
            ),
            vec![row(Scope::User, "input", "just text")]
        );
        let out = json!({"id": "resp_1", "output": [
            {"type": "message", "id": "msg_1", "role": "assistant", "content": [{"type": "output_text", "text": "answer"}, {"type": "refusal", "refusal": "nope"}]},
            {"type": "function_call", "id": "fc", "call_id": "c", "name": "f", "arguments": "{}"}
        ]});
        assert_eq!(
            read(Dialect::OpenAiResponses, &out, true),
            vec![
                row(Scope::Assistant, "output[0].content[0].text", "answer"),
                row(Scope::Assistant, "output[0].content[1].refusal", "nope"),
                row(Scope::ToolCallArguments, "output[1].arguments", "{}"),
            ]
        );
        let mut out = out;
        Dialect::OpenAiResponses.refuse_response(&mut out, "withheld");
        assert_eq!(out["status"], "incomplete");
        assert_eq!(out["incomplete_details"]["reason"], "content_filter");
        assert_eq!(out["output"][0]["content"][0]["refusal"], "withheld");
        assert!(read(Dialect::OpenAiResponses, &out, true)
            .iter()
            .all(|(_, _, t)| t == "withheld"));
    }

    #[test]
    fn anthropic_request_and_response() {
        let body = json!({
            "model": "claude", "max_tokens": 10,
            "system": [{"type": "text", "text": "sys"}],
            "messages": [
                {"role": "user", "content": "plain"},
                {"role": "assistant", "content": [
                    {"type": "thinking", "thinking": "hmm", "signature": "s"},
                    {"type": "text", "text": "calling"},
                    {"type": "tool_use", "id": "t", "name": "f", "input": {"q": "find", "n": 2, "list": ["x"]}}]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "t", "content": [{"type": "text", "text": "found"}]},
                    {"type": "tool_result", "tool_use_id": "u", "content": "plain result"},
                    {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "doc"}},
                    {"type": "image", "source": {"type": "base64", "data": "AAAA"}}]}
            ]
        });
        assert_eq!(
            read(Dialect::AnthropicMessages, &body, false),
            vec![
                row(Scope::System, "system[0].text", "sys"),
                row(Scope::User, "messages[0].content", "plain"),
                row(Scope::Assistant, "messages[1].content[0].thinking", "hmm"),
                row(Scope::Assistant, "messages[1].content[1].text", "calling"),
                row(
                    Scope::ToolCallArguments,
                    "messages[1].content[2].input.q",
                    "find"
                ),
                row(
                    Scope::ToolCallArguments,
                    "messages[1].content[2].input.list[0]",
                    "x"
                ),
                row(
                    Scope::ToolResults,
                    "messages[2].content[0].content[0].text",
                    "found"
                ),
                row(
                    Scope::ToolResults,
                    "messages[2].content[1].content",
                    "plain result"
                ),
                row(Scope::User, "messages[2].content[2].source.data", "doc"),
            ]
        );
        assert_eq!(
            read(
                Dialect::AnthropicMessages,
                &json!({"system": "s", "messages": []}),
                false
            ),
            vec![row(Scope::System, "system", "s")]
        );
        let mut resp = json!({"id": "msg", "type": "message", "content": [
            {"type": "text", "text": "hello"},
            {"type": "tool_use", "id": "t", "name": "f", "input": {"a": "b"}}], "stop_reason": "tool_use"});
        assert_eq!(
            read(Dialect::AnthropicMessages, &resp, true),
            vec![
                row(Scope::Assistant, "content[0].text", "hello"),
                row(Scope::ToolCallArguments, "content[1].input.a", "b"),
            ]
        );
        Dialect::AnthropicMessages.refuse_response(&mut resp, "withheld");
        assert_eq!(resp["stop_reason"], "refusal");
        assert_eq!(
            resp["content"],
            json!([{"type": "text", "text": "withheld"}])
        );
        assert_eq!(resp["id"], "msg");
    }

    #[test]
    fn gemini_request_and_response() {
        let body = json!({
            "systemInstruction": {"parts": [{"text": "sys"}]},
            "contents": [
                {"role": "user", "parts": [{"text": "hi"}, {"inlineData": {"mimeType": "image/png", "data": "AAAA"}}]},
                {"role": "model", "parts": [{"functionCall": {"name": "f", "args": {"q": "x"}}}]},
                {"role": "user", "parts": [{"functionResponse": {"name": "f", "response": {"out": "y"}}}]},
                {"parts": [{"function_call": {"name": "g", "args": {"z": "w"}}}]}
            ]
        });
        assert_eq!(
            read(Dialect::Gemini, &body, false),
            vec![
                row(Scope::System, "systemInstruction.parts[0].text", "sys"),
                row(Scope::User, "contents[0].parts[0].text", "hi"),
                row(
                    Scope::ToolCallArguments,
                    "contents[1].parts[0].functionCall.args.q",
                    "x"
                ),
                row(
                    Scope::ToolResults,
                    "contents[2].parts[0].functionResponse.response.out",
                    "y"
                ),
                row(
                    Scope::ToolCallArguments,
                    "contents[3].parts[0].function_call.args.z",
                    "w"
                ),
            ]
        );
        let answer = json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "a"}, {"functionCall": {"name": "f", "args": {"k": "v"}}}]}, "finishReason": "STOP", "index": 0}]});
        assert_eq!(
            read(Dialect::Gemini, &answer, true),
            vec![
                row(Scope::Assistant, "candidates[0].content.parts[0].text", "a"),
                row(
                    Scope::ToolCallArguments,
                    "candidates[0].content.parts[1].functionCall.args.k",
                    "v"
                ),
            ]
        );
        let mut array = json!([answer.clone(), answer]);
        assert_eq!(
            read(Dialect::Gemini, &array, true)[2].1,
            "[1].candidates[0].content.parts[0].text"
        );
        Dialect::Gemini.refuse_response(&mut array, "withheld");
        assert_eq!(
            array[0]["candidates"][0]["content"]["parts"][0]["text"],
            "withheld"
        );
        assert_eq!(array[0]["candidates"][0]["finishReason"], "SAFETY");
        assert_eq!(array[1]["candidates"][0]["content"]["parts"][0]["text"], "");
    }

    #[test]
    fn completions_and_embeddings() {
        let body = json!({"prompt": ["a", 1, "b"]});
        assert_eq!(
            read(Dialect::Completions, &body, false),
            vec![
                row(Scope::User, "prompt[0]", "a"),
                row(Scope::User, "prompt[2]", "b")
            ]
        );
        assert_eq!(
            read(Dialect::Embeddings, &json!({"input": "c"}), false),
            vec![row(Scope::User, "input", "c")]
        );
        assert!(read(
            Dialect::Embeddings,
            &json!({"data": [{"embedding": [0.1]}]}),
            true
        )
        .is_empty());
        assert!(read(Dialect::OpenAiChat, &json!({"messages": "nope"}), false).is_empty());
    }

    #[test]
    fn errors_in_each_shape() {
        let body = |d: Dialect| -> Value {
            serde_json::from_slice(&d.error_reply(400, "no", "invalid_request_error", "c").body)
                .unwrap()
        };
        assert_eq!(body(Dialect::OpenAiChat)["error"]["message"], "no");
        assert_eq!(body(Dialect::OpenAiResponses)["error"]["code"], "c");
        assert_eq!(
            body(Dialect::AnthropicMessages),
            json!({"type": "error", "error": {"type": "invalid_request_error", "message": "no"}})
        );
        assert_eq!(
            body(Dialect::Gemini),
            json!({"error": {"code": 400, "message": "no", "status": "INVALID_ARGUMENT"}})
        );
    }

    type Read = Vec<(Scope, String, String)>;

    fn listed(slots: &[Slot<'_>]) -> Read {
        slots
            .iter()
            .map(|s| (s.scope, s.path.pointer().to_string(), s.text.to_string()))
            .collect()
    }

    fn tree_answer_slots(body: &[u8]) -> Read {
        let v: Value = serde_json::from_slice(body).unwrap();
        listed(&Dialect::OpenAiChat.response_slots(&v))
    }

    fn typed_answer_slots(body: &[u8]) -> Option<Read> {
        let answer = tree_free::chat_answer(body)?;
        Some(listed(&chat_answer_slots(&answer)))
    }

    fn tree_request_slots(body: &[u8]) -> Read {
        let v: Value = serde_json::from_slice(body).unwrap();
        listed(&Dialect::OpenAiChat.request_slots(&v))
    }

    fn typed_request_slots(body: &[u8]) -> Option<Read> {
        let request = tree_free::chat_request(body)?;
        Some(listed(&chat_request_slots(&request)?))
    }

    #[test]
    fn typed_readers_take_the_common_shapes_and_decline_the_rest() {
        let answers: &[&[u8]] = &[
            br#"{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hi \"x\"\n","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}"#,
            br#"{"choices":[{"message":{"content":null,"tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]}},{"text":"legacy","index":1}]}"#,
            br#"{"choices":[{"message":{"function_call":{"name":"f","arguments":"x"},"refusal":"no"}}]}"#,
            br#"{"choices":[{"message":{"content":[{"type":"text","text":"part"},{"type":"image_url","text":"not read"},{"text":"untyped"}]}}]}"#,
            br#"{"choices":null}"#,
            br#"{}"#,
        ];
        for body in answers {
            let text = String::from_utf8_lossy(body);
            assert_eq!(
                typed_answer_slots(body).as_ref(),
                Some(&tree_answer_slots(body)),
                "{text}"
            );
        }
        assert_eq!(typed_answer_slots(answers[1]).unwrap().len(), 2);
        assert_eq!(typed_answer_slots(answers[3]).unwrap().len(), 2);
        let requests: &[&[u8]] = &[
            br#"{"model":"m","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi \u00e9"}],"temperature":0.2,"stream":true,"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]}"#,
            br#"{"messages":[{"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"data:x"}}]},{"role":"assistant","content":null,"refusal":"no","tool_calls":[{"id":"t","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"t","content":"42"},{"role":"developer","content":"d"},{"role":"narrator","content":"n"}]}"#,
            br#"{"messages":[]}"#,
        ];
        for body in requests {
            let text = String::from_utf8_lossy(body);
            assert_eq!(
                typed_request_slots(body).as_ref(),
                Some(&tree_request_slots(body)),
                "{text}"
            );
        }
        assert_eq!(typed_request_slots(requests[1]).unwrap().len(), 6);
        // Sent to no known path: a chat request by its keys, unless a key or a content block
        // makes it another API's.
        let by_shape = |body: &[u8]| {
            let r = tree_free::chat_request(body).unwrap();
            let tree = Dialect::of_request(None, &serde_json::from_slice(body).unwrap());
            assert_eq!(
                reads_as_chat_by_shape(&r),
                tree == Some(Dialect::OpenAiChat),
                "{}",
                String::from_utf8_lossy(body)
            );
            reads_as_chat_by_shape(&r)
        };
        for body in requests {
            assert!(by_shape(body));
        }
        for block in ["tool_use", "tool_result", "thinking", "document"] {
            let body = format!(
                r#"{{"messages":[{{"role":"user","content":[{{"type":"text","text":"a"}},{{"type":"{block}"}}]}}]}}"#
            );
            assert!(!by_shape(body.as_bytes()));
        }
        for key in ["contents", "system", "anthropic_version"] {
            for value in ["null", "\"x\"", "[]"] {
                let body = format!(r#"{{"messages":[],"{key}":{value}}}"#);
                assert!(!by_shape(body.as_bytes()));
            }
        }
        assert!(!by_shape(br#"{"model":"m"}"#));
        // The common shapes are taken by the pull reader; a lone surrogate is left to serde.
        for body in requests {
            assert!(tree_free::pull::<tree_free::ChatRequest<'_>>(body).is_some());
        }
        assert!(tree_free::pull::<tree_free::ChatRequest<'_>>(
            br#"{"messages":[{"content":"\ud800"}]}"#
        )
        .is_none());
        for body in answers {
            assert!(tree_free::pull::<tree_free::ChatAnswer<'_>>(body).is_some());
        }
        // A number with an exponent is in the pull reader's subset; an escaped key is not, and
        // the caller reads the tree for it (the typed read declines).
        let exponent = br#"{"messages":[{"role":"user","content":"hi"}],"temperature":1e-1}"#;
        assert_eq!(
            typed_request_slots(exponent).as_ref(),
            Some(&tree_request_slots(exponent))
        );
        // A tool schema nested ten objects deep (about 27 levels) is read without a tree too.
        let mut schema = r#"{"type":"string"}"#.to_string();
        for _ in 0..10 {
            schema = format!(r#"{{"type":"object","properties":{{"a":{schema}}}}}"#);
        }
        let tools = format!(
            r#"{{"messages":[{{"role":"user","content":"hi"}}],"tools":[{{"type":"function","function":{{"name":"f","parameters":{schema}}}}}]}}"#
        );
        assert!(tree_free::pull::<tree_free::ChatRequest<'_>>(tools.as_bytes()).is_some());
        let escaped_key = br#"{"m\u0065ssages":[{"role":"user","content":"hi"}]}"#;
        assert!(tree_free::pull::<tree_free::ChatRequest<'_>>(escaped_key).is_none());
        assert!(typed_request_slots(escaped_key).is_none());
        let declined_answers: &[&[u8]] = &[
            // the tree reader keeps the last of duplicate keys; the typed read refuses them
            br#"{"choices":[{"message":{"content":"a","content":"AKIAQX7MZT3KWJ5RLN2P"}}]}"#,
            br#"{"choices":[null]}"#,
            br#"{"choices":[{"message":{"content":7}}]}"#,
            br#"{"choices":[[null,{"content":"positional"}]]}"#,
            br#"[{"choices":[]}]"#,
            br#"{"choices":[]} x"#,
        ];
        for body in declined_answers {
            assert!(
                typed_answer_slots(body).is_none(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        let declined_requests: &[&[u8]] = &[
            br#"{"messages":[{"role":"user","content":"hi"}],"prompt":"also read"}"#,
            br#"{"messages":[{"role":"user","content":"hi"}],"input":["also read"]}"#,
            br#"{"jsonrpc":"2.0","method":"tools/call","messages":[]}"#,
            br#"{"model":"m"}"#,
            br#"{"messages":null}"#,
            br#"{"messages":[{"role":7,"content":"hi"}]}"#,
        ];
        for body in declined_requests {
            assert!(
                typed_request_slots(body).is_none(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    mod shapes {
        use crate::json_shapes::{array, field, kind, object, text};
        use proptest::prelude::*;
        use serde_json::{json, Value};

        /// A chat message with every field `chat_message` reads present-typed, present with
        /// another type, or absent; content a string or parts.
        fn message() -> BoxedStrategy<Value> {
            let function = object(vec![("name", field(text())), ("arguments", field(text()))]);
            let call = object(vec![
                ("id", field(text())),
                ("function", field(function.clone())),
            ]);
            let part = object(vec![
                (
                    "type",
                    field(kind(&[
                        "text",
                        "input_text",
                        "output_text",
                        "image_url",
                        "input_audio",
                        "tool_use",
                        "thinking",
                    ])),
                ),
                ("text", field(text())),
            ]);
            let content = prop_oneof![text(), array(part)].boxed();
            object(vec![
                (
                    "role",
                    field(kind(&[
                        "system",
                        "developer",
                        "user",
                        "assistant",
                        "tool",
                        "function",
                        "model",
                        "narrator",
                    ])),
                ),
                ("content", field(content)),
                ("name", field(text())),
                ("tool_calls", field(array(call))),
                ("function_call", field(function)),
                ("refusal", field(text())),
            ])
        }

        /// Chat and completions answers.
        pub fn answer() -> BoxedStrategy<Value> {
            let choice = object(vec![
                ("index", field(Just(json!(0)).boxed())),
                ("text", field(text())),
                ("message", field(message())),
                ("finish_reason", field(text())),
            ]);
            object(vec![
                ("id", field(text())),
                ("choices", field(array(choice))),
                ("usage", field(Just(json!({"total_tokens": 3})).boxed())),
            ])
        }

        /// Chat requests, now and then with the keys that make the tree reader read more, or
        /// read a body sent to no known path as another API's.
        pub fn request() -> BoxedStrategy<Value> {
            let rare = || {
                prop_oneof![
                    8 => Just(None),
                    1 => text().prop_map(Some),
                    1 => Just(Some(Value::Null)),
                ]
                .boxed()
            };
            object(vec![
                ("model", field(text())),
                ("messages", field(array(message()))),
                ("temperature", field(Just(json!(0.2)).boxed())),
                ("prompt", rare()),
                ("input", rare()),
                ("jsonrpc", rare()),
                ("contents", rare()),
                ("system", rare()),
                ("anthropic_version", rare()),
            ])
        }
    }

    /// Everything a [`tree_free::Message`] holds, as comparable text.
    fn described_message(m: &tree_free::Message<'_>) -> String {
        let text = |t: &Option<tree_free::Text<'_>>| format!("{:?}", t.as_deref());
        let function = |f: &Option<tree_free::Function<'_>>| {
            format!("{:?}", f.as_ref().map(|f| text(&f.arguments)))
        };
        let mut out = format!("| role {} refusal {} ", text(&m.role), text(&m.refusal));
        match &m.content {
            Some(tree_free::Content::Text(t)) => out += &format!("content {:?} ", &**t),
            Some(tree_free::Content::Parts(parts)) => {
                for p in parts {
                    out += &format!("part {} {} ", text(&p.kind), text(&p.text));
                }
            }
            None => out += "no content ",
        }
        for c in m.tool_calls.iter().flatten() {
            out += &format!("call {} ", function(&c.function));
        }
        out + &format!("function_call {}", function(&m.function_call))
    }

    /// Everything a [`tree_free::ChatRequest`] holds, as comparable text.
    fn described_request(r: Option<tree_free::ChatRequest<'_>>) -> Option<String> {
        let r = r?;
        let mut out = format!(
            "prompt {} input {} jsonrpc {} keys {:?} ",
            r.prompt.is_some(),
            r.input.is_some(),
            r.jsonrpc.is_some(),
            tree_free::ChatRequest::KEYS
                .iter()
                .map(|k| r.has(k))
                .collect::<Vec<_>>()
        );
        for m in r.messages.iter().flatten() {
            out += &described_message(m);
        }
        Some(out)
    }

    /// Everything a [`tree_free::ChatAnswer`] holds, as comparable text.
    fn described_answer(a: Option<tree_free::ChatAnswer<'_>>) -> Option<String> {
        let mut out = String::new();
        for c in a?.choices.iter().flatten() {
            out += &format!("choice text {:?} ", c.text.as_deref());
            out += &c
                .message
                .as_ref()
                .map(described_message)
                .unwrap_or_default();
        }
        Some(out)
    }

    /// `body` changed at one place: a byte replaced, or a listed key written twice.
    fn mutated(body: &[u8], at: usize, how: u8) -> Vec<u8> {
        let mut b = body.to_vec();
        if b.is_empty() {
            return b;
        }
        let at = at % b.len();
        let inserted: &[u8] = match how % 10 {
            0 => br#""messages":null,"choices":null,"#,
            1 => br#""messages":[],"choices":[],"#,
            2 => br"\u0041",
            3 => b" \n\t",
            _ => {
                b[at] = b"\"u0\x01 \xff9e"[usize::from(how / 10) % 8];
                return b;
            }
        };
        let at = if how % 10 < 2 { 1 } else { at };
        b.splice(at..at, inserted.iter().copied());
        b
    }

    /// `None` when the pull reader refuses a body, else whether serde reads it alike.
    type Agrees = fn(&[u8]) -> Option<bool>;

    /// [`Agrees`] for a chat request.
    fn request_agrees(body: &[u8]) -> Option<bool> {
        let pulled = described_request(tree_free::pull::<tree_free::ChatRequest<'_>>(body))?;
        Some(described_request(tree_free::read(body)) == Some(pulled))
    }

    /// [`Agrees`] for a chat or completions answer.
    fn answer_agrees(body: &[u8]) -> Option<bool> {
        let pulled = described_answer(tree_free::pull::<tree_free::ChatAnswer<'_>>(body))?;
        Some(described_answer(tree_free::read(body)) == Some(pulled))
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4_000))]
        /// What the pull reader takes of a chat request or answer, serde takes and reads to
        /// the same values (the pull reader may refuse more: then serde reads the body).
        #[test]
        fn the_pull_reader_reads_as_serde_does(r in shapes::request(), a in shapes::answer(), pretty in proptest::bool::ANY, at in 0usize..4096, how in 0u8..40) {
            let readers: [(&Value, Agrees); 2] = [(&r, request_agrees), (&a, answer_agrees)];
            for (value, agrees) in readers {
                let body = if pretty { serde_json::to_vec_pretty(value) } else { serde_json::to_vec(value) }.unwrap();
                for body in [body.clone(), mutated(&body, at, how)] {
                    proptest::prop_assert_ne!(agrees(&body), Some(false), "{}", String::from_utf8_lossy(&body));
                }
            }
        }
    }

    proptest::proptest! {
        /// When a typed reader takes a body, it finds the tree reader's slots, in order, at the
        /// same paths, with the same scopes; and a request it reads, sent to no known path, is
        /// taken for a chat request exactly when the tree's shape rules take it for one.
        #[test]
        fn typed_readers_read_what_the_tree_reads(a in shapes::answer(), r in shapes::request()) {
            let body = serde_json::to_vec(&a).unwrap();
            if let Some(typed) = typed_answer_slots(&body) {
                proptest::prop_assert_eq!(typed, tree_answer_slots(&body));
            }
            let body = serde_json::to_vec(&r).unwrap();
            if let Some(typed) = typed_request_slots(&body) {
                proptest::prop_assert_eq!(typed, tree_request_slots(&body));
                let request = tree_free::chat_request(&body).unwrap();
                proptest::prop_assert_eq!(
                    reads_as_chat_by_shape(&request),
                    Dialect::of_request(None, &r) == Some(Dialect::OpenAiChat),
                    "{}",
                    String::from_utf8_lossy(&body)
                );
            }
        }
    }
}
