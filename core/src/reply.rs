//! OpenAI-shaped error replies.
//!
//! A blocked request gets the body the OpenAI API itself uses for errors, so every OpenAI client
//! raises a normal, readable API error (the Python client: `BadRequestError` for 400,
//! `PermissionDeniedError` for 403, with `error.message` as its text):
//!
//! ```json
//! {"error": {"message": "...", "type": "invalid_request_error", "param": null,
//!            "code": "content_policy_violation"}}
//! ```

use serde_json::json;

/// A complete local reply: status and JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub body: Vec<u8>,
}

/// The reply for a block verdict that carries none of its own (not expected: the engine sets
/// the guard's reply).
pub fn default_block() -> Reply {
    openai_error(
        400,
        "Request blocked by guardrail policy.",
        "invalid_request_error",
        "content_policy_violation",
    )
}

/// The reply when the guardrail itself failed (a host call, a rewrite, a misconfiguration):
/// refuse rather than forward something unchecked.
pub fn guardrail_error() -> Reply {
    openai_error(
        500,
        "The guardrail could not inspect this request.",
        "server_error",
        "guardrail_error",
    )
}

/// Build an OpenAI-style error reply.
pub fn openai_error(status: u16, message: &str, error_type: &str, code: &str) -> Reply {
    let body = json!({
        "error": {"message": message, "type": error_type, "param": null, "code": code}
    });
    Reply {
        status,
        body: body.to_string().into_bytes(),
    }
}

/// A block message: `template` with `{guard}`, `{categories}` and `{kinds}` filled in. Never
/// the matched text: the message goes back to the client.
pub fn fill_block_message(template: &str, guard: &str, categories: &str, kinds: &str) -> String {
    template
        .replace("{guard}", guard)
        .replace("{categories}", categories)
        .replace("{kinds}", kinds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::BlockResponse;

    #[test]
    fn shape() {
        let b = BlockResponse::default();
        let message = fill_block_message(&b.message, "secrets", "secret", "aws_access_key");
        let r = openai_error(b.status, &message, &b.error_type, &b.code);
        assert_eq!(r.status, 400);
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["error"]["code"], "content_policy_violation");
        assert_eq!(
            v["error"]["message"],
            "Request blocked by guardrail policy: guard 'secrets' found secret."
        );
        assert!(v["error"]["param"].is_null());
    }
}
