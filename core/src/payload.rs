//! Text slots: where a guard reads text in a body, and how a masked text is written back.
//!
//! Parsing is lenient and lossless: the body is read into a `serde_json::Value` with key order
//! preserved, only the fields that carry text are read (which fields, per API dialect: the
//! `dialect` module), and everything else (unknown fields, provider extensions, images) is
//! left alone. An allowed body is never re-serialised — the adapter forwards the original
//! bytes. Only a masked body is re-serialised, with the changed strings substituted.

use serde_json::Value;

use crate::vocab::Scope;
pub use crate::vocab::{push_token, SlotPath};

/// One piece of text a guard may read.
#[derive(Debug, Clone, PartialEq)]
pub struct Slot<'a> {
    pub scope: Scope,
    pub path: SlotPath,
    pub text: &'a str,
}

/// Collects slots under a JSON pointer that grows and shrinks as a reader walks the body, so
/// each slot's pointer costs one allocation.
pub(crate) struct SlotSink<'a> {
    pub slots: Vec<Slot<'a>>,
    pointer: String,
}

impl<'a> SlotSink<'a> {
    pub fn new() -> Self {
        SlotSink {
            slots: Vec::new(),
            pointer: String::new(),
        }
    }

    /// Run `f` with `token` appended to the pointer.
    pub fn within<R>(&mut self, token: &str, f: impl FnOnce(&mut Self) -> R) -> R {
        let len = self.pointer.len();
        push_token(&mut self.pointer, token);
        let r = f(self);
        self.pointer.truncate(len);
        r
    }

    /// [`SlotSink::within`] an array index.
    pub fn at_index<R>(&mut self, index: usize, f: impl FnOnce(&mut Self) -> R) -> R {
        let len = self.pointer.len();
        self.pointer.push('/');
        self.pointer.push_str(&index.to_string());
        let r = f(self);
        self.pointer.truncate(len);
        r
    }

    /// A slot for `v` under `token`, if it is a string.
    pub fn string(&mut self, v: &'a serde_json::Value, token: &str, scope: Scope) {
        if let Some(text) = v.get(token).and_then(serde_json::Value::as_str) {
            self.within(token, |s| s.push(scope, text));
        }
    }

    /// A slot at the current pointer.
    pub fn push(&mut self, scope: Scope, text: &'a str) {
        self.slots.push(Slot {
            scope,
            path: SlotPath::at(self.pointer.as_str()),
            text,
        });
    }

    /// Every string leaf under `v` (object values and array items, not keys), in document order.
    pub fn leaves(&mut self, v: &'a serde_json::Value, scope: Scope) {
        match v {
            serde_json::Value::String(text) => self.push(scope, text),
            serde_json::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.at_index(i, |s| s.leaves(item, scope));
                }
            }
            serde_json::Value::Object(map) => {
                for (k, item) in map {
                    self.within(k, |s| s.leaves(item, scope));
                }
            }
            _ => {}
        }
    }
}

/// Replace the text at `path`. Returns false if the body has no string there (the body changed
/// shape since the slots were read — a bug in the caller).
pub fn replace_slot(body: &mut Value, path: &SlotPath, text: String) -> bool {
    match body.pointer_mut(path.pointer()) {
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
    fn pointers_escape_and_display() {
        let mut p = String::new();
        push_token(&mut p, "a/b~c");
        push_token(&mut p, "0");
        let path = SlotPath::at(p.as_str());
        assert_eq!(path.pointer(), "/a~1b~0c/0");
        assert_eq!(path.to_string(), "a/b~c[0]");
        let mut body = json!({"a/b~c": ["x"]});
        assert!(replace_slot(&mut body, &path, "y".into()));
        assert_eq!(body, json!({"a/b~c": ["y"]}));
        assert!(!replace_slot(&mut body, &SlotPath::at("/nope"), "z".into()));
        assert!(SlotPath::at("/messages/0/tool_calls/0/function/arguments").is_json_text());
        assert!(!SlotPath::at("/messages/0/content").is_json_text());
    }

    #[test]
    fn sink_reads_leaves_with_their_pointers() {
        let v = json!({"q": "a", "n": 1, "l": ["b", {"z": "c"}]});
        let mut sink = SlotSink::new();
        sink.within("input", |s| s.leaves(&v, Scope::ToolCallArguments));
        let got: Vec<_> = sink
            .slots
            .iter()
            .map(|s| (s.path.to_string(), s.text))
            .collect();
        assert_eq!(
            got,
            vec![
                ("input.q".to_string(), "a"),
                ("input.l[0]".to_string(), "b"),
                ("input.l[1].z".to_string(), "c")
            ]
        );
    }
}
