//! The stream guard's shortcut for the events a stream repeats: nearly every delta event of a
//! stream is the event before it, byte for byte, except for its text (and, in some APIs, an
//! identifier, a counter or padding such as OpenAI's `obfuscation`). An [`EventTemplate`] is one
//! such event, read by the stream's fast reader to exactly one piece of text, with *holes* where
//! a later event may differ: the text's string token, the values of the top-level keys the
//! reader does not read, and a counter the reader only notes. An event that matches the
//! template outside its holes, and holds in each hole a token the pull reader takes there, is
//! read by the same reader to the same piece, with the text from its own hole: JSON tokens
//! delimit themselves, so the event has the template's structure with other values in the
//! holes, and the reader reads nothing in a hole but the text and the counter. So the guard
//! compares bytes instead of walking the JSON again; an event that does not match is read in
//! full, as before.

use std::borrow::Cow;

use crate::byte_masks::equal;
use crate::json_pull::Pull;

/// What a hole holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The piece's text: a string token.
    Text,
    /// The value of a top-level key the reader skips: any value the pull reader skips.
    Free,
    /// A number the reader only notes (Responses' `sequence_number`).
    Counter,
}

/// A token of the template that a later event may replace: `start..end` of the template's
/// data.
#[derive(Debug, Clone, Copy)]
struct Hole {
    start: usize,
    end: usize,
    kind: Kind,
}

/// A template event (see the module's documentation), and the piece `P` its text is.
#[derive(Debug)]
pub(crate) struct EventTemplate<P> {
    data: String,
    /// In order, disjoint.
    holes: Vec<Hole>,
    piece: P,
}

/// What a matching event holds: the template's piece, its own text, and its counter.
pub(crate) type Matched<'t, 'a, P> = (&'t P, Cow<'a, str>, Option<u64>);

impl<P> EventTemplate<P> {
    /// The template of `data`, an event (a JSON object) its reader read to exactly one piece
    /// whose `text` it borrowed from `data`, reading the values of `read_keys` at the top level
    /// and skipping every other key's; `counter`, one of those keys, holds a number the reader
    /// only notes. `None` if `text` is not a string token of `data` outside the skipped values,
    /// or `data` is not an object the pull reader walks.
    pub(crate) fn new(
        data: &str,
        text: &str,
        read_keys: &[&str],
        counter: Option<&str>,
        piece: P,
    ) -> Option<Self> {
        // Where the reader found the text: its string token must start one byte before.
        let offset = (text.as_ptr() as usize).checked_sub(data.as_ptr() as usize)?;
        let token_start = offset.checked_sub(1)?;
        let mut p = Pull::starting_at(data, token_start);
        if p.string()?.as_ptr() != text.as_ptr() || p.position() != offset + text.len() + 1 {
            return None;
        }
        let text_hole = Hole {
            start: token_start,
            end: p.position(),
            kind: Kind::Text,
        };
        let mut holes = Vec::new();
        let mut p = Pull::new(data);
        p.object(|key, p| {
            p.ws();
            let start = p.position();
            p.skip(1)?;
            let end = p.position();
            let kind = if !read_keys.contains(&key) {
                Kind::Free
            } else if counter == Some(key) {
                Kind::Counter
            } else {
                // A value the reader reads: fixed, unless it holds the text.
                if start <= text_hole.start && text_hole.end <= end {
                    holes.push(text_hole);
                }
                return Some(());
            };
            // The text lies in a value the reader reads, never in a hole of another kind.
            (end <= text_hole.start || text_hole.end <= start).then_some(())?;
            holes.push(Hole { start, end, kind });
            Some(())
        })?;
        if !p.at_end() || !holes.iter().any(|h| h.kind == Kind::Text) {
            return None;
        }
        Some(EventTemplate {
            data: data.to_string(),
            holes,
            piece,
        })
    }

    /// If `data` is this template's event with other values in its holes: the piece, the text
    /// in its text hole, and the number in its counter hole.
    pub(crate) fn read<'t, 'a>(&'t self, data: &'a str) -> Option<Matched<'t, 'a, P>> {
        let (t, d) = (self.data.as_bytes(), data.as_bytes());
        let (mut ti, mut di) = (0, 0);
        let (mut text, mut counter) = (None, None);
        for h in &self.holes {
            let literal = t.get(ti..h.start)?;
            if !equal(d.get(di..di + literal.len())?, literal) {
                return None;
            }
            di += literal.len();
            ti = h.end;
            // A skipped value as in the template (an identifier, a model name): the same
            // token, since a token ends where its own bytes say (a longer number is caught by
            // the literal after it, which starts with a delimiter).
            let same = t.get(h.start..h.end)?;
            if h.kind == Kind::Free && d.get(di..di + same.len()).is_some_and(|d| equal(d, same)) {
                di += same.len();
                continue;
            }
            let mut p = Pull::starting_at(data, di);
            match h.kind {
                Kind::Text => text = Some(p.string()?),
                Kind::Free => p.skip(1)?,
                Kind::Counter => counter = Some(p.u64()?),
            }
            di = p.position();
        }
        if !equal(d.get(di..)?, t.get(ti..)?) {
            return None;
        }
        Some((&self.piece, text?, counter))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CHAT: &str = r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":17,"model":"m","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}],"obfuscation":"xYz"}"#;

    fn content(data: &str) -> &str {
        let at = data.find(r#""content":""#).unwrap() + 11;
        let end = at + data[at..].find('"').unwrap();
        &data[at..end]
    }

    fn chat_template() -> EventTemplate<&'static str> {
        EventTemplate::new(CHAT, content(CHAT), &["choices"], None, "piece").unwrap()
    }

    #[test]
    fn the_same_event_with_other_text_and_padding_matches() {
        let t = chat_template();
        let next = r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":17,"model":"m","choices":[{"index":0,"delta":{"content":" world\n\"q\" \u00e9"},"finish_reason":null}],"obfuscation":"abcdefgh"}"#;
        let (piece, text, counter) = t.read(next).unwrap();
        assert_eq!(
            (*piece, text.as_ref(), counter),
            ("piece", " world\n\"q\" é", None)
        );
        // Skipped values may change, and their type too.
        let other = CHAT
            .replace(r#""created":17"#, r#""created":{"a":[1,2.5e3,null]}"#)
            .replace(r#""id":"chatcmpl-1""#, r#""id": 12"#);
        assert_eq!(t.read(&other).unwrap().1, "Hello");
    }

    #[test]
    fn anything_the_reader_reads_must_stay() {
        let t = chat_template();
        for (from, to) in [
            (r#""index":0"#, r#""index":1"#),
            (r#""index":0"#, r#""index":00"#),
            (r#""finish_reason":null"#, r#""finish_reason":"stop""#),
            (r#""content":"Hello""#, r#""content":5"#),
            (r#""content":"Hello""#, r#""content":"a","content":"b""#),
            (r#""content":"Hello""#, r#""content":"\ud800""#),
            (r#""content":"Hello""#, r#""content":"a"#),
            (
                r#""obfuscation":"xYz"}"#,
                r#""obfuscation":"xYz","choices":[]}"#,
            ),
            (r#""obfuscation":"xYz"}"#, r#""obfuscation":"xYz"} x"#),
            (r#""created":17"#, r#""created":1e400"#),
            (r#""created":17"#, r#""created":"unterminated"#),
            (r#""choices""#, r#""Choices""#),
        ] {
            let other = CHAT.replacen(from, to, 1);
            assert!(t.read(&other).is_none(), "{other}");
        }
    }

    #[test]
    fn the_counter_is_read_where_it_is() {
        let data = r#"{"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hi","sequence_number":7}"#;
        let keys = [
            "type",
            "output_index",
            "content_index",
            "delta",
            "sequence_number",
        ];
        let at = data.find(r#""Hi""#).unwrap() + 1;
        let t = EventTemplate::new(data, &data[at..at + 2], &keys, Some("sequence_number"), ())
            .unwrap();
        let next = data
            .replace(r#""Hi""#, r#""there""#)
            .replace(":7}", ":1234}")
            .replace("msg_1", "msg_2");
        let (_, text, counter) = t.read(&next).unwrap();
        assert_eq!((text.as_ref(), counter), ("there", Some(1234)));
        assert!(t.read(&data.replace(":7}", ":7.5}")).is_none());
        assert!(t.read(&data.replace(":7}", ":-7}")).is_none());
    }

    #[test]
    fn no_template_where_the_text_is_not_read_in_place() {
        // Text in a skipped value, text from elsewhere, text that is not a whole string token,
        // and data that is not one object.
        let skipped = r#"{"choices":[],"note":"Hello"}"#;
        let at = skipped.find("Hello").unwrap();
        assert!(
            EventTemplate::new(skipped, &skipped[at..at + 5], &["choices"], None, ()).is_none()
        );
        assert!(EventTemplate::new(CHAT, "Hello", &["choices"], None, ()).is_none());
        let inner = &content(CHAT)[1..];
        assert!(EventTemplate::new(CHAT, inner, &["choices"], None, ()).is_none());
        let two = format!("{CHAT} {CHAT}");
        assert!(EventTemplate::new(&two, content(&two), &["choices"], None, ()).is_none());
    }

    proptest! {
        /// Whatever replaces a stretch of the template event, the template reads the result
        /// only when the tree parser reads it to the template's structure with the text at the
        /// same place, and then to that text.
        #[test]
        fn a_match_is_the_tree_parsers_reading(
            at in 0usize..200,
            len in 0usize..12,
            with in "[ -~]{0,12}",
        ) {
            let t = chat_template();
            let mut cut = at.min(CHAT.len());
            let mut end = (cut + len).min(CHAT.len());
            while !CHAT.is_char_boundary(cut) { cut -= 1; }
            while !CHAT.is_char_boundary(end) { end += 1; }
            let other = format!("{}{}{}", &CHAT[..cut], with, &CHAT[end..]);
            if let Some((_, text, _)) = t.read(&other) {
                let tree: serde_json::Value = serde_json::from_str(&other).unwrap();
                let mut want: serde_json::Value = serde_json::from_str(CHAT).unwrap();
                want["choices"][0]["delta"]["content"] = text.as_ref().into();
                for key in ["id", "object", "created", "model", "obfuscation"] {
                    want[key] = tree[key].clone();
                }
                prop_assert_eq!(tree, want);
            }
        }
    }
}
