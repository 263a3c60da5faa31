//! A strict, narrow JSON pull reader for the bodies read most often: a chat request (kilobytes
//! of prompt text in a few strings), a buffered chat answer, and the stream guard's delta events
//! (a chat or completions chunk: ~165 bytes of JSON around a few bytes of text, thousands per
//! answer). What it reads is declared once, by `tree_free::object_reader!`, which writes each
//! struct's [`PullRead`] beside its serde reader.
//!
//! Reading such a body through serde costs several thousand instructions per event, most of
//! them in the visitor and map-access machinery around short strings, and a string with
//! escapes is decoded into serde's scratch buffer and copied again. This reader walks the bytes
//! once, finds each string's end or escape sixteen bytes per comparison
//! ([`crate::byte_masks::first_in`]), and takes only a subset of JSON: keys without escapes,
//! strings with any escape (`\u` ones decoded as serde decodes them: a surrogate pair is one
//! character, a lone surrogate is refused), any number the tree parser takes (the integers
//! it reads into a field: at most 18 digits, no fraction or exponent), nesting at most
//! [`MAX_DEPTH`] deep. Every text it takes, `serde_json` takes too and reads to the same value
//! (property tests hold the two equal); on anything else it answers `None` and the caller reads
//! the body as a JSON tree, so a refusal costs time, never a reading.

use std::borrow::Cow;

use wide::u8x16;

use crate::byte_masks::{first_in, Lanes};

/// Deepest nesting of arrays and objects the reader walks: room for a request's tool schemas (a
/// nested object parameter is two levels deeper than its parent), and within the tree parser's
/// own limit (`serde_json` refuses nesting past 128).
pub(crate) const MAX_DEPTH: usize = 64;

/// What ends a plain run inside a JSON string: its closing quote, an escape, or a control
/// character (which JSON refuses there).
fn special(l: Lanes) -> u8x16 {
    l.eq(b'"') | l.eq(b'\\') | l.in_range(0, 0x1F)
}

/// The character of the `\uXXXX` escape whose backslash is at `at`, and the escape's length,
/// as serde decodes it: a surrogate pair (two escapes) is one character; a lone surrogate (which
/// serde refuses in a string) is refused.
fn unicode_escape(bytes: &[u8], at: usize) -> Option<(char, usize)> {
    let hex = |from: usize| -> Option<u32> {
        let mut v = 0;
        for &d in bytes.get(from..from + 4)? {
            v = v * 16 + char::from(d).to_digit(16)?;
        }
        Some(v)
    };
    match hex(at + 2)? {
        lead @ 0xD800..=0xDBFF => {
            if bytes.get(at + 6..at + 8)? != b"\\u" {
                return None;
            }
            let trail = hex(at + 8)?;
            if !(0xDC00..=0xDFFF).contains(&trail) {
                return None;
            }
            let c = 0x10000 + ((lead - 0xD800) << 10) + (trail - 0xDC00);
            Some((char::from_u32(c)?, 12))
        }
        c => Some((char::from_u32(c)?, 6)),
    }
}

/// A position in a JSON text.
pub(crate) struct Pull<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Pull<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Pull { text, at: 0 }
    }

    /// A reader of `text` from byte `at` (a value's first byte, or whitespace before it).
    pub(crate) fn starting_at(text: &'a str, at: usize) -> Self {
        Pull { text, at }
    }

    /// The byte the reader has reached.
    pub(crate) fn position(&self) -> usize {
        self.at
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// Skip JSON whitespace.
    #[inline]
    pub(crate) fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.bytes().get(self.at) {
            self.at += 1;
        }
    }

    /// The next byte after whitespace, not consumed.
    #[inline]
    pub(crate) fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.bytes().get(self.at).copied()
    }

    /// Consume `b` (after whitespace), or fail.
    #[inline]
    pub(crate) fn eat(&mut self, b: u8) -> Option<()> {
        (self.peek()? == b).then(|| self.at += 1)
    }

    /// Consume `b` if it is next (after whitespace).
    #[inline]
    pub(crate) fn eat_if(&mut self, b: u8) -> bool {
        let next = self.peek() == Some(b);
        if next {
            self.at += 1;
        }
        next
    }

    /// The whole text was read (trailing whitespace aside).
    pub(crate) fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }

    /// An object key without escapes, and the `:` after it.
    #[inline]
    pub(crate) fn key(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.at;
        let end = first_in(self.bytes(), start, special)?;
        if self.bytes().get(end) != Some(&b'"') {
            return None;
        }
        self.at = end + 1;
        let key = self.text.get(start..end)?;
        self.eat(b':')?;
        Some(key)
    }

    /// A string value: borrowed when it has no escapes, else decoded.
    pub(crate) fn string(&mut self) -> Option<Cow<'a, str>> {
        self.eat(b'"')?;
        let start = self.at;
        let bytes = self.bytes();
        // The plain run before any escape: borrowed.
        let mut i = first_in(bytes, start, special)?;
        if bytes.get(i) == Some(&b'"') {
            self.at = i + 1;
            return self.text.get(start..i).map(Cow::Borrowed);
        }
        let mut out = String::with_capacity(i - start + 16);
        out.push_str(self.text.get(start..i)?);
        loop {
            // `i` is at a quote, a backslash or a control character.
            match *bytes.get(i)? {
                b'"' => {
                    self.at = i + 1;
                    return Some(Cow::Owned(out));
                }
                b'\\' => {
                    let (c, len) = match *bytes.get(i + 1)? {
                        b'"' => ('"', 2),
                        b'\\' => ('\\', 2),
                        b'/' => ('/', 2),
                        b'b' => ('\u{8}', 2),
                        b'f' => ('\u{c}', 2),
                        b'n' => ('\n', 2),
                        b'r' => ('\r', 2),
                        b't' => ('\t', 2),
                        b'u' => unicode_escape(bytes, i)?,
                        _ => return None,
                    };
                    out.push(c);
                    i += len;
                }
                _ => return None,
            }
            let next = first_in(bytes, i, special)?;
            out.push_str(self.text.get(i..next)?);
            i = next;
        }
    }

    /// A non-negative integer of at most 18 digits (no sign, point or exponent).
    pub(crate) fn u64(&mut self) -> Option<u64> {
        self.ws();
        let digits = self.digits()?;
        if matches!(self.bytes().get(self.at), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        digits.parse().ok()
    }

    /// One run of digits as JSON writes an integer part (no leading zero before another digit).
    fn digits(&mut self) -> Option<&'a str> {
        let start = self.at;
        let rest = self.bytes().get(start..)?;
        let len = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if len == 0 || len > 18 || (len > 1 && rest[0] == b'0') {
            return None;
        }
        self.at = start + len;
        self.text.get(start..start + len)
    }

    /// `null`, consumed if it is next.
    pub(crate) fn null(&mut self) -> bool {
        self.ws();
        let next = self
            .bytes()
            .get(self.at..)
            .is_some_and(|r| r.starts_with(b"null"));
        if next {
            self.at += 4;
        }
        next
    }

    /// The members of an object (its `{` next), each key handed to `member`, which reads or
    /// skips the value.
    pub(crate) fn object(
        &mut self,
        mut member: impl FnMut(&'a str, &mut Self) -> Option<()>,
    ) -> Option<()> {
        self.eat(b'{')?;
        if self.eat_if(b'}') {
            return Some(());
        }
        loop {
            let key = self.key()?;
            member(key, self)?;
            if !self.eat_if(b',') {
                return self.eat(b'}');
            }
        }
    }

    /// The elements of an array (its `[` next), each read by `element`.
    pub(crate) fn elements(
        &mut self,
        mut element: impl FnMut(&mut Self) -> Option<()>,
    ) -> Option<()> {
        self.eat(b'[')?;
        if self.eat_if(b']') {
            return Some(());
        }
        loop {
            element(self)?;
            if !self.eat_if(b',') {
                return self.eat(b']');
            }
        }
    }

    /// An array's elements, each read by `element`, in order.
    pub(crate) fn array<T>(
        &mut self,
        mut element: impl FnMut(&mut Self) -> Option<T>,
    ) -> Option<Vec<T>> {
        let mut out = Vec::new();
        self.elements(|p| {
            out.push(element(p)?);
            Some(())
        })?;
        Some(out)
    }

    /// Skip any value of the subset, `depth` levels deep already.
    pub(crate) fn skip(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' | b'[' if depth >= MAX_DEPTH => None,
            b'{' => self.object(|_, p| p.skip(depth + 1)),
            b'[' => self.elements(|p| p.skip(depth + 1)),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number(),
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let next = self.bytes().get(self.at..)?.starts_with(word);
        next.then(|| self.at += word.len())
    }

    /// A number as JSON writes it (`-`, an integer part without a leading zero, an optional
    /// fraction, an optional exponent) whose value is a finite `f64`: the tree parser refuses a
    /// number beyond `f64`'s range ("number out of range"), and so does this. An integer of at
    /// most 18 digits is always in range; any other number is read as `f64` to know (both
    /// round correctly: `serde_json` with `float_roundtrip`, and `str::parse`).
    fn number(&mut self) -> Option<()> {
        let b = self.bytes();
        let start = self.at;
        let digits = |from: usize| {
            b.get(from..)
                .map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count())
        };
        let mut i = start + usize::from(b.get(start) == Some(&b'-'));
        let int = digits(i);
        if int == 0 || (int > 1 && b.get(i) == Some(&b'0')) {
            return None;
        }
        i += int;
        let mut plain = int <= 18;
        if b.get(i) == Some(&b'.') {
            let frac = digits(i + 1);
            if frac == 0 {
                return None;
            }
            i += 1 + frac;
            plain = false;
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1 + usize::from(matches!(b.get(i + 1), Some(b'+' | b'-')));
            let exp = digits(i);
            if exp == 0 {
                return None;
            }
            i += exp;
            plain = false;
        }
        if !plain && !self.text.get(start..i)?.parse::<f64>().ok()?.is_finite() {
            return None;
        }
        self.at = i;
        Some(())
    }
}

/// A value the pull reader reads as serde's reader of the same type reads it: the structs
/// `tree_free::object_reader!` makes (it implements this for each), their field types, and
/// arrays of them. `None` outside the subset, or for a value of another type.
pub(crate) trait PullRead<'a>: Sized {
    /// The value next in `p`, which is `depth` arrays and objects deep.
    fn pull(p: &mut Pull<'a>, depth: usize) -> Option<Self>;
}

impl<'a> PullRead<'a> for u64 {
    fn pull(p: &mut Pull<'a>, _: usize) -> Option<Self> {
        p.u64()
    }
}

impl<'a, T: PullRead<'a>> PullRead<'a> for Vec<T> {
    fn pull(p: &mut Pull<'a>, depth: usize) -> Option<Self> {
        if depth >= MAX_DEPTH {
            return None;
        }
        p.array(|p| T::pull(p, depth + 1))
    }
}

/// All of `text` read as `T` (trailing whitespace aside), where `serde_json::from_str` would
/// read it; `None` for anything outside the subset.
pub(crate) fn read_all<'a, T: PullRead<'a>>(text: &'a str) -> Option<T> {
    let mut p = Pull::new(text);
    let value = T::pull(&mut p, 0)?;
    p.at_end().then_some(value)
}

/// A listed key's value into its slot, as serde's readers of this project take it
/// (`tree_free::object_reader!`): a second occurrence of the key fails the read, `null` is
/// `None`.
pub(crate) fn field<'a, T>(
    slot: &mut Option<Option<T>>,
    p: &mut Pull<'a>,
    read: impl FnOnce(&mut Pull<'a>) -> Option<T>,
) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(if p.null() { None } else { Some(read(p)?) });
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A whole value skipped by the subset reader.
    fn skip_all(text: &str) -> bool {
        let mut p = Pull::new(text);
        p.skip(0).is_some() && p.at_end()
    }

    #[test]
    fn strings_read_as_serde_reads_them() {
        for (json, want) in [
            (r#""plain""#, Some(("plain", true))),
            (r#""a\nb\"c\\d\/e\tf""#, Some(("a\nb\"c\\d/e\tf", false))),
            (r#""caf\u00e9""#, Some(("café", false))),
            (r#""\u00C9t\u00e9 \ud83d\ude00!""#, Some(("Été 😀!", false))),
            (r#""\u0000""#, Some(("\0", false))),
            (r#""\ud800""#, None),
            (r#""\udc00""#, None),
            (r#""\ud83d\u0041""#, None),
            (r#""\ud83dx""#, None),
            (r#""\u00g1""#, None),
            (r#""\u00e""#, None),
            ("\"tab\there\"", None),
            (r#""bad \x""#, None),
            (r#""open"#, None),
            (r#""naïve ☃""#, Some(("naïve ☃", true))),
        ] {
            let got = Pull::new(json).string();
            assert_eq!(got.as_deref(), want.map(|w| w.0), "{json}");
            if let Some(s) = &got {
                assert_eq!(matches!(s, Cow::Borrowed(_)), want.unwrap().1, "{json}");
                assert_eq!(
                    serde_json::from_str::<String>(json).ok().as_deref(),
                    Some(&**s)
                );
            }
        }
    }

    /// Numbers: taken exactly when the tree parser takes them (any JSON number whose value is a
    /// finite `f64`), refused with the tree parser otherwise.
    #[test]
    fn numbers_are_taken_exactly_when_the_tree_parser_takes_them() {
        // 10^300 - 1 is in f64's range, 10^400 - 1 is not.
        let long = "9".repeat(300);
        let too_long = "9".repeat(400);
        let cases: Vec<String> = [
            "0",
            "-0",
            "-1.5",
            "123456789012345678",
            "1234567890123456789",
            "18446744073709551616",
            "1e5",
            "1E+5",
            "-2.5e-3",
            "1e-400",
            "0e999999999999",
            "1.7976931348623157e308",
            "1.7976931348623159e308",
            "1e309",
            "-1e400",
            "01",
            "-01",
            "1.",
            ".5",
            "-",
            "1e",
            "1e+",
            "1.e5",
            "+1",
            "0x10",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([
            long.clone(),
            too_long.clone(),
            format!("{long}.5"),
            format!("0.{too_long}"),
        ])
        .collect();
        for n in &cases {
            for text in [n.clone(), format!("[{n}]"), format!(r#"{{"a":{n},"b":1}}"#)] {
                let tree = serde_json::from_str::<serde_json::Value>(&text).is_ok();
                assert_eq!(skip_all(&text), tree, "{text}");
            }
        }
        // Some of each kind really are on each side.
        for n in ["1e5", "-2.5e-3", "1e-400", "1234567890123456789", &long] {
            assert!(skip_all(n), "{n}");
        }
        for n in ["1e309", "-1e400", &too_long, "01", "1e"] {
            assert!(!skip_all(n), "{n}");
        }
    }

    #[test]
    fn the_subset_is_narrower_than_json() {
        for ok in [
            "0",
            "-1.5",
            "123456789012345678",
            "true",
            "null",
            "[]",
            "{}",
            r#"{"a":[1,{"b":null}]}"#,
        ] {
            assert!(skip_all(ok), "{ok}");
            assert!(
                serde_json::from_str::<serde::de::IgnoredAny>(ok).is_ok(),
                "{ok}"
            );
        }
        for refused in [
            "01",
            "1.",
            ".5",
            "-",
            "tru",
            r#"{"a\u0062":1}"#,
            "[1,]",
            "{,}",
        ] {
            assert!(!skip_all(refused), "{refused}");
        }
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(!skip_all(&deep));
    }
}
