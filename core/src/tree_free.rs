//! JSON bodies read into typed, borrowed structs without a `serde_json::Value`, checked exactly
//! as the tree parser checks them: chat requests and answers ([`ChatRequest`], [`ChatAnswer`])
//! and the stream guard's delta events (`stream.rs`).
//!
//! Building a `Value` costs an `IndexMap` per object, a SipHash per key and an allocation per
//! string; reading a body's few text fields into structs costs a fraction of it. But
//! serde's derived readers differ from the tree parser in what they take: they skip the fields
//! they do not read without decoding them (so a lone surrogate escape or a number beyond `f64`
//! there passes, where the tree parser refuses the body), they take a struct from a JSON array
//! (its fields by position), and they refuse a duplicate key the tree parser accepts. The readers
//! made by [`object_reader!`] take a body exactly when `serde_json::from_slice::<Value>` does,
//! and then read the same values the tree reader reads:
//!
//! - every value they do not take is still parsed, as [`Checked`]: strings decoded (escapes and
//!   UTF-8 checked), numbers converted (range checked), arrays and objects walked;
//! - structs come from JSON objects only;
//! - a key they read that appears twice fails the read (the caller then reads the tree, which
//!   keeps the last).
//!
//! A read that fails is never an error for the caller: it reads the tree instead.
//!
//! The macro also writes each struct's [`crate::json_pull::PullRead`]: the same reading by the
//! narrow pull reader, which takes a subset of what these readers take (a property test per
//! caller holds the two equal). [`read_fast`] (what [`chat_request`], [`chat_answer`] and the
//! stream's event readers call) is the pull reader alone; the serde readers are the reading the
//! tests hold it to (serde's against the tree parser's, the pull reader's against serde's), not
//! a second try in the filter.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::json_pull::{self, Pull, PullRead};

/// Any JSON value, parsed with the tree parser's checks and dropped.
pub(crate) struct Checked;

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CheckedVisitor)
    }
}

struct CheckedVisitor;

impl<'de> Visitor<'de> for CheckedVisitor {
    type Value = Checked;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_str<E>(self, _: &str) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_unit<E>(self) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Checked)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
        while map.next_key::<Checked>()?.is_some() {
            map.next_value::<Checked>()?;
        }
        Ok(Checked)
    }
}

/// A JSON string, borrowed from the body unless it had escapes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Text<'a>(pub Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON string")
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Borrowed(s)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Owned(s.to_owned())))
    }

    fn visit_string<E>(self, s: String) -> Result<Text<'de>, E> {
        Ok(Text(Cow::Owned(s)))
    }
}

impl std::ops::Deref for Text<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

/// A struct read from a JSON object by the rules of this module: each listed key into its
/// field (`Option`: absent or `null` is `None`), every other key's value parsed as [`Checked`],
/// a listed key seen twice an error. `skip serde::de::IgnoredAny;` first skips the other keys'
/// values unchecked instead (faster; for a reader whose caller, refused, would read less, not
/// more: the stream's delta events, whose tree reader passes an event it cannot parse unread).
macro_rules! object_reader {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident<$lt:lifetime> { $($body:tt)* }
    ) => {
        $crate::tree_free::object_reader! {
            skip $crate::tree_free::Checked;
            $(#[$meta])*
            $vis struct $name<$lt> { $($body)* }
        }
    };
    (
        skip $skip:ty;
        $(#[$meta:meta])*
        $vis:vis struct $name:ident<$lt:lifetime> {
            $($key:literal => $field:ident: $ty:ty,)*
        }
    ) => {
        $(#[$meta])*
        $vis struct $name<$lt> {
            $(pub(crate) $field: Option<$ty>,)*
            /// Bit `i` set: key `KEYS[i]` is in the object, even where its value is `null`
            /// (which reads as `None`).
            seen: u64,
        }

        impl<$lt> serde::Deserialize<$lt> for $name<$lt> {
            fn deserialize<D: serde::Deserializer<$lt>>(d: D) -> Result<Self, D::Error> {
                struct ObjectVisitor<$lt>(std::marker::PhantomData<&$lt ()>);
                impl<$lt> serde::de::Visitor<$lt> for ObjectVisitor<$lt> {
                    type Value = $name<$lt>;

                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str(concat!("a JSON object (", stringify!($name), ")"))
                    }

                    fn visit_map<A: serde::de::MapAccess<$lt>>(
                        self,
                        mut map: A,
                    ) -> Result<Self::Value, A::Error> {
                        $(let mut $field: Option<Option<$ty>> = None;)*
                        let mut seen = 0u64;
                        while let Some(key) = map.next_key::<$crate::tree_free::Text<$lt>>()? {
                            match &*key {
                                $($key => {
                                    seen |= const { $crate::tree_free::key_bit($name::KEYS, $key) };
                                    if $field.is_some() {
                                        return Err(<A::Error as serde::de::Error>::custom(
                                            concat!("duplicate key ", $key),
                                        ));
                                    }
                                    $field = Some(map.next_value()?);
                                })*
                                _ => {
                                    map.next_value::<$skip>()?;
                                }
                            }
                        }
                        Ok($name { $($field: $field.flatten(),)* seen })
                    }
                }
                d.deserialize_map(ObjectVisitor(std::marker::PhantomData))
            }
        }

        const _: () = assert!($name::KEYS.len() <= 64, "more keys than `seen` holds");

        impl<$lt> $name<$lt> {
            /// The keys this reader reads (any other key's value it skips).
            #[allow(dead_code)]
            pub(crate) const KEYS: &'static [&'static str] = &[$($key),*];

            /// Whether the object holds `key` (one of `KEYS`), with any value, `null` too.
            #[allow(dead_code)]
            pub(crate) fn has(&self, key: &str) -> bool {
                debug_assert!(Self::KEYS.contains(&key), "`{key}` is not a key this reader reads");
                Self::KEYS
                    .iter()
                    .position(|k| *k == key)
                    .is_some_and(|i| self.seen & (1 << i) != 0)
            }
        }

        // The same reading by the narrow pull reader (`json_pull`): a subset of what the serde
        // reader above takes, read to the same values (the callers fall back to serde).
        impl<$lt> $crate::json_pull::PullRead<$lt> for $name<$lt> {
            #[inline]
            fn pull(p: &mut $crate::json_pull::Pull<$lt>, depth: usize) -> Option<Self> {
                if depth >= $crate::json_pull::MAX_DEPTH {
                    return None;
                }
                $(let mut $field: Option<Option<$ty>> = None;)*
                let mut seen = 0u64;
                p.object(|key, p| match key {
                    $($key => {
                        seen |= const { $crate::tree_free::key_bit($name::KEYS, $key) };
                        $crate::json_pull::field(&mut $field, p, |p| {
                            <$ty as $crate::json_pull::PullRead<$lt>>::pull(p, depth + 1)
                        })
                    })*
                    _ => p.skip(depth + 1),
                })?;
                Some($name { $($field: $field.flatten(),)* seen })
            }
        }
    };
}

pub(crate) use object_reader;

/// The bit of `key` in an object reader's `seen`: `1 << i` for `keys[i] == key` (evaluated at
/// compile time, for keys taken from `keys` itself; past the 64th it does not compile).
pub(crate) const fn key_bit(keys: &[&str], key: &str) -> u64 {
    let mut i = 0;
    while i < keys.len() {
        let (a, b) = (keys[i].as_bytes(), key.as_bytes());
        let mut same = a.len() == b.len();
        let mut j = 0;
        while same && j < a.len() {
            same = a[j] == b[j];
            j += 1;
        }
        if same {
            assert!(i < 64, "more keys than `seen` holds");
            return 1 << i;
        }
        i += 1;
    }
    0
}

/// `content` of a chat message: a string, or an array of parts.
pub(crate) enum Content<'a> {
    Text(Text<'a>),
    Parts(Vec<Part<'a>>),
}

impl<'de> Deserialize<'de> for Content<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ContentVisitor;
        impl<'de> Visitor<'de> for ContentVisitor {
            type Value = Content<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of parts")
            }

            // a string: read as [`Text`] reads it
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Content<'de>, E> {
                TextVisitor.visit_borrowed_str(s).map(Content::Text)
            }

            fn visit_str<E: de::Error>(self, s: &str) -> Result<Content<'de>, E> {
                TextVisitor.visit_str(s).map(Content::Text)
            }

            fn visit_string<E: de::Error>(self, s: String) -> Result<Content<'de>, E> {
                TextVisitor.visit_string(s).map(Content::Text)
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Content<'de>, A::Error> {
                let mut parts = Vec::new();
                while let Some(p) = seq.next_element::<Part<'de>>()? {
                    parts.push(p);
                }
                Ok(Content::Parts(parts))
            }
        }
        d.deserialize_any(ContentVisitor)
    }
}

object_reader! {
    /// A content part: its `type` and `text`.
    pub(crate) struct Part<'a> {
        "type" => kind: Text<'a>,
        "text" => text: Text<'a>,
    }
}

object_reader! {
    /// A function call's (or a tool call's function's) `arguments`.
    pub(crate) struct Function<'a> {
        "arguments" => arguments: Text<'a>,
    }
}

object_reader! {
    /// A tool call's `function`.
    pub(crate) struct ToolCall<'a> {
        "function" => function: Function<'a>,
    }
}

object_reader! {
    /// A chat message (request) or a choice's message (answer): what `chat_message` reads.
    pub(crate) struct Message<'a> {
        "role" => role: Text<'a>,
        "content" => content: Content<'a>,
        "tool_calls" => tool_calls: Vec<ToolCall<'a>>,
        "function_call" => function_call: Function<'a>,
        "refusal" => refusal: Text<'a>,
    }
}

object_reader! {
    /// A chat-completions request: its messages, the keys that make the tree reader read
    /// more than them (`prompt`, `input`) or read the body as MCP (`jsonrpc`), and the keys by
    /// which a body sent to no known path is read as another API's (`contents`: Gemini;
    /// `system`, `anthropic_version`: Anthropic Messages; see `Dialect::from_body`). Those
    /// three are asked about with `has` (a `null` counts); their values are only checked.
    #[allow(dead_code)]
    pub(crate) struct ChatRequest<'a> {
        "messages" => messages: Vec<Message<'a>>,
        "prompt" => prompt: Checked,
        "input" => input: Checked,
        "jsonrpc" => jsonrpc: Checked,
        "contents" => contents: Checked,
        "system" => system: Checked,
        "anthropic_version" => anthropic_version: Checked,
    }
}

object_reader! {
    /// A choice of a chat or completions answer.
    pub(crate) struct Choice<'a> {
        "text" => text: Text<'a>,
        "message" => message: Message<'a>,
    }
}

object_reader! {
    /// A chat or completions answer.
    pub(crate) struct ChatAnswer<'a> {
        "choices" => choices: Vec<Choice<'a>>,
    }
}

/// `T` from all of `text` (known to be UTF-8) by the narrow pull reader ([`crate::json_pull`]):
/// `None` when the text is outside its subset (a key with an escape, nesting deeper than
/// [`json_pull::MAX_DEPTH`], a key read twice), and the caller reads the tree. The pull reader
/// takes a subset of what serde's readers below take and reads it to the same values (property
/// tests hold the two equal), and those take exactly what the tree parser takes; it walks the
/// text once, scanning strings sixteen bytes at a time, where serde's visitors cost several
/// times more per string. Serde's readers are not a second try here: a text the pull reader
/// refuses is rare enough that their code (~50 KB of the filter's module, which V8 compiles
/// at every Envoy start) is not worth what they would save on it.
pub(crate) fn read_fast<'a, T: PullRead<'a>>(text: &'a str) -> Option<T> {
    json_pull::read_all(text)
}

/// A chat request's [`ChatRequest`] ([`read_fast`]; a body that is not UTF-8 serde refuses too).
pub(crate) fn chat_request(body: &[u8]) -> Option<ChatRequest<'_>> {
    read_fast(std::str::from_utf8(body).ok()?)
}

/// A chat or completions answer's [`ChatAnswer`] ([`read_fast`]).
pub(crate) fn chat_answer(body: &[u8]) -> Option<ChatAnswer<'_>> {
    read_fast(std::str::from_utf8(body).ok()?)
}

/// `T` from all of `body` by the pull reader alone (`None` outside its subset): what the tests
/// hold to serde's reading.
#[cfg(test)]
pub(crate) fn pull<'a, T: PullRead<'a>>(body: &'a [u8]) -> Option<T> {
    json_pull::read_all(std::str::from_utf8(body).ok()?)
}

impl<'a> PullRead<'a> for Text<'a> {
    fn pull(p: &mut Pull<'a>, _: usize) -> Option<Self> {
        p.string().map(Text)
    }
}

impl<'a> PullRead<'a> for Checked {
    fn pull(p: &mut Pull<'a>, depth: usize) -> Option<Self> {
        p.skip(depth).map(|()| Checked)
    }
}

impl<'a> PullRead<'a> for Content<'a> {
    fn pull(p: &mut Pull<'a>, depth: usize) -> Option<Self> {
        match p.peek()? {
            b'[' => Vec::pull(p, depth).map(Content::Parts),
            _ => Text::pull(p, depth).map(Content::Text),
        }
    }
}

/// `T` from all of `body` by serde alone, as `serde_json::from_slice` reads it (trailing bytes
/// refused): the reading the tests hold the pull reader to.
#[cfg(test)]
pub(crate) fn read<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Option<T> {
    serde_json::from_slice(body).ok()
}

/// `T` from all of `text`, already known to be UTF-8, by serde alone (trailing text refused):
/// what the stream tests hold the pull reader to.
#[cfg(test)]
pub(crate) fn read_str<'a, T: Deserialize<'a>>(text: &'a str) -> Option<T> {
    serde_json::from_str(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// What the tree parser refuses, these readers refuse; what it takes, they take.
    #[test]
    fn bodies_are_taken_exactly_when_the_tree_parser_takes_them() {
        let bodies: &[&[u8]] = &[
            br#"{"choices":[{"message":{"content":"hi"}}],"x":1e400}"#,
            br#"{"choices":[{"message":{"content":"hi"}}],"x":"\ud800"}"#,
            br#"{"choices":[{"message":{"content":"hi"}}],"x":"\ud83d\ude00"}"#,
            br#"{"choices":[{"message":{"content":"hi"}}],"x":[1,{"y":-2.5e-3},true,null]}"#,
            br#"{"choices":[{"message":{"content":"hi"}}],"x":1234567890123456789012345678901234567890}"#,
            br#"{"choices":[{"message":{"content":"hi"}}],"x":"a\u0001"}"#,
            b"{\"choices\":[{\"message\":{\"content\":\"hi\"}}],\"x\":\"a\x01\"}",
            b"{\"choices\":[{\"message\":{\"content\":\"hi\"}}],\"x\":\"\xff\"}",
            br#"{"choices":[{"message":{"content":"hi"}}],"\ud800":1}"#,
            br#"{"choices":[{"message":{"content":"hi"}}]} "#,
            br#"{"choices":[{"message":{"content":"hi"}}]} x"#,
        ];
        for body in bodies {
            let tree = serde_json::from_slice::<Value>(body).is_ok();
            let typed = read::<ChatAnswer<'_>>(body).is_some();
            assert_eq!(typed, tree, "{}", String::from_utf8_lossy(body));
        }
        // Not taken although the tree parser takes them: the caller reads the tree.
        for body in [
            &br#"{"choices":[[null,{"content":"positional"}]]}"#[..],
            br#"{"choices":[{"message":{"content":"a","content":"b"}}]}"#,
            br#"{"choices":[{"message":{"content":7}}]}"#,
            br#"[{"choices":[]}]"#,
        ] {
            assert!(serde_json::from_slice::<Value>(body).is_ok());
            assert!(
                read::<ChatAnswer<'_>>(body).is_none(),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        // Deeper than the tree parser's recursion limit: refused by both.
        let deep = format!("{{\"x\":{}1{}}}", "[".repeat(200), "]".repeat(200));
        assert!(serde_json::from_slice::<Value>(deep.as_bytes()).is_err());
        assert!(read::<ChatAnswer<'_>>(deep.as_bytes()).is_none());
    }

    #[test]
    fn text_borrows_unless_escaped() {
        let a = read::<Part<'_>>(br#"{"text":"plain"}"#).unwrap();
        assert!(matches!(a.text.unwrap().0, Cow::Borrowed("plain")));
        let b = read::<Part<'_>>(br#"{"text":"a\nb"}"#).unwrap();
        assert_eq!(&*b.text.unwrap(), "a\nb");
        let keyed = read::<Part<'_>>(br#"{"te\u0078t":"escaped key"}"#).unwrap();
        assert_eq!(keyed.text.as_deref(), Some("escaped key"));
    }
}
