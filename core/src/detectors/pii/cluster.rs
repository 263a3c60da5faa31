//! Numeric clusters: the one tokenisation shared by the card, SSN, ITIN, phone and IPv4
//! recognizers.
//!
//! A cluster is a run of digit groups joined by short separators (`-`, `.`, `/`, one space,
//! parentheses), optionally opened by `+`, `(` or `(+`: `(415) 555-0132`, `+49 176/12345678`,
//! `4111 1111 1111 1111`, `192.0.2.1`. It is built once per candidate start; each recognizer
//! then takes the prefix of groups that fits its own grammar and validates it. Building stops at
//! anything else (letters, commas, double spaces, line breaks), so ordinary numbers cost a few
//! byte comparisons.
//!
//! The boundary rules decide whether a value may start or end at a position: a value glued to
//! letters, or continuing a decimal, a date, a path or an arithmetic expression, is not one.

/// Most digit groups a cluster holds; enough for `+31 (0) 6 123 45 67` style numbers. Longer
/// runs are marked [`Cluster::truncated`].
pub(crate) const MAX_GROUPS: usize = 8;
/// Longest digit group any cluster-based recognizer can use (a 19-digit card).
pub(crate) const MAX_GROUP_LEN: usize = 19;
/// Longest separator between two groups (`") ("`, `" - "`).
const MAX_SEP_LEN: usize = 3;
/// Fewest digits any cluster-based recognizer accepts (short Italian landlines with context).
const MIN_DIGITS: usize = 6;
/// Groups in a dotted quad; a cluster with this many groups is worth an IPv4 check whatever its
/// digit count.
const IPV4_GROUPS: usize = 4;

/// One digit group, `text[start..end]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Group {
    pub start: usize,
    pub end: usize,
}

impl Group {
    pub(crate) fn len(&self) -> usize {
        self.end - self.start
    }
}

/// Digit groups starting at one position of the text.
pub(crate) struct Cluster<'a> {
    pub text: &'a [u8],
    /// First byte: the `(` or `+` prefix if any, else the first digit.
    pub start: usize,
    /// The cluster opens with `(` (possibly followed by a space and/or `+`).
    pub open_paren: bool,
    /// A `+` stands right before the first digit.
    pub plus: bool,
    groups: [Group; MAX_GROUPS],
    len: usize,
    /// More groups follow the last one held.
    pub truncated: bool,
}

impl<'a> Cluster<'a> {
    /// The cluster whose first digit group starts at `digit`.
    pub(crate) fn build(text: &'a [u8], digit: usize) -> Cluster<'a> {
        let at = |i: usize| text.get(i).copied();
        let mut start = digit;
        let mut plus = false;
        let mut open_paren = false;
        if digit >= 1 && at(digit - 1) == Some(b'+') {
            start = digit - 1;
            plus = true;
        }
        if start >= 1 && at(start - 1) == Some(b'(') {
            start -= 1;
            open_paren = true;
        } else if !plus && start >= 2 && at(start - 1) == Some(b' ') && at(start - 2) == Some(b'(')
        {
            start -= 2;
            open_paren = true;
        }

        let mut groups = [Group::default(); MAX_GROUPS];
        let mut len = 0;
        let mut i = digit;
        let mut truncated = false;
        for slot in groups.iter_mut() {
            if len > 0 {
                match separator_end(text, i) {
                    Some(next) => i = next,
                    None => break,
                }
            }
            let gs = i;
            while text.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            *slot = Group { start: gs, end: i };
            len += 1;
        }
        if len == MAX_GROUPS {
            truncated = separator_end(text, i).is_some();
        }
        Cluster {
            text,
            start,
            open_paren,
            plus,
            groups,
            len,
            truncated,
        }
    }

    /// The digit groups, in order (at least one).
    pub(crate) fn groups(&self) -> &[Group] {
        self.groups.get(..self.len).unwrap_or(&[])
    }

    /// The separator bytes before group `i` (`i >= 1`); empty for out-of-range `i`.
    pub(crate) fn sep(&self, i: usize) -> &'a [u8] {
        let g = self.groups();
        match (i.checked_sub(1).and_then(|p| g.get(p)), g.get(i)) {
            (Some(prev), Some(cur)) => self.text.get(prev.end..cur.start).unwrap_or(&[]),
            _ => &[],
        }
    }

    /// The separator before group `i` packed into an integer, for cheap equality tests.
    pub(crate) fn sep_code(&self, i: usize) -> u32 {
        self.sep(i)
            .iter()
            .fold(0, |acc, &c| (acc << 8) | u32::from(c))
    }

    /// Whether any recognizer could accept something here: enough digits, or a dotted quad.
    pub(crate) fn worth_classifying(&self) -> bool {
        let g = self.groups();
        if g.first().is_some_and(|f| f.len() > MAX_GROUP_LEN) {
            return false;
        }
        g.len() >= IPV4_GROUPS || g.iter().map(Group::len).sum::<usize>() >= MIN_DIGITS
    }

    /// For a truncated cluster whose separators are all the same (a table row, a long list of
    /// numbers), the end of the whole run. Values inside such a run are rejected wherever they
    /// would start, so the scanner skips it in one step instead of re-reading it from every
    /// digit group.
    pub(crate) fn uniform_run_end(&self) -> Option<usize> {
        if !self.truncated {
            return None;
        }
        let code = self.sep_code(1);
        if (2..self.len).any(|i| self.sep_code(i) != code) {
            return None;
        }
        let mut end = self.groups().last()?.end;
        while let Some(next) = separator_end(self.text, end) {
            let sep = self.text.get(end..next)?;
            if sep.iter().fold(0u32, |acc, &c| (acc << 8) | u32::from(c)) != code {
                break;
            }
            end = next;
            while self.text.get(end).is_some_and(u8::is_ascii_digit) {
                end += 1;
            }
        }
        Some(end)
    }

    /// Copies the digits of the first `k` groups into `buf`; returns how many were copied
    /// (`None` if they do not fit).
    pub(crate) fn digits(&self, k: usize, buf: &mut [u8]) -> Option<usize> {
        let mut n = 0;
        for g in self.groups().iter().take(k) {
            let src = self.text.get(g.start..g.end)?;
            buf.get_mut(n..n + src.len())?.copy_from_slice(src);
            n += src.len();
        }
        Some(n)
    }
}

/// Whether the digit run `[d, e)` stands alone (no separator and digit after it) and is too
/// short for any recognizer: what [`Cluster::worth_classifying`] would answer for the cluster
/// starting at `d`, without building it. Most digit runs in prose (years, counts, prices) end
/// here.
pub(crate) fn lone_short_run(text: &[u8], d: usize, e: usize) -> bool {
    e.saturating_sub(d) < MIN_DIGITS && separator_end(text, e).is_none()
}

/// If a valid separator starts at `i` and a digit follows it, the index of that digit.
fn separator_end(text: &[u8], i: usize) -> Option<usize> {
    let mut punct = 0;
    let mut parens = 0;
    let mut prev_space = false;
    for j in i..i + MAX_SEP_LEN + 1 {
        match *text.get(j)? {
            b'0'..=b'9' => return (j > i).then_some(j),
            b' ' => {
                if prev_space {
                    return None;
                }
                prev_space = true;
                continue;
            }
            b'-' | b'.' | b'/' => punct += 1,
            b'(' | b')' => parens += 1,
            _ => return None,
        }
        prev_space = false;
        if punct > 1 || parens > 2 {
            return None;
        }
    }
    None
}

/// A single-byte separator that joins the groups of SSNs, ITINs and cards.
pub(crate) fn simple_sep(sep: &[u8]) -> Option<u8> {
    match sep {
        [c @ (b'-' | b' ' | b'.')] => Some(*c),
        _ => None,
    }
}

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Whether a number may start at `start` given the bytes before it.
pub(crate) fn left_ok(text: &[u8], start: usize) -> bool {
    let Some(p) = start.checked_sub(1) else {
        return true;
    };
    let Some(&l) = text.get(p) else { return true };
    let l2 = p.checked_sub(1).and_then(|q| text.get(q).copied());
    match l {
        // "is(+45)…" is a phone number; "abc123" is an identifier.
        _ if is_word_byte(l) => text.get(start) == Some(&b'('),
        // A minus sign or a range ("-220", "5-1234567"), unlike "chat-(123) 456-7890".
        b'-' => !matches!(l2, None | Some(b'0'..=b'9' | b' ' | b'\t' | b'\n' | b'\r')),
        b'.' => !l2.is_some_and(|c| c.is_ascii_alphanumeric()),
        b',' | b':' => !l2.is_some_and(|c| c.is_ascii_digit()),
        b'/' | b'\\' | b'#' | b'+' | b'*' | b'=' | b'^' | b'%' | b'$' | b'&' | b'|' | b'~'
        | b'<' | b'>' | b')' => false,
        // £ (C2 A3), ¥ (C2 A5), € (E2 82 AC): amounts of money.
        0xA3 | 0xA5 => l2 != Some(0xC2),
        0xAC => l2 != Some(0x82),
        _ => true,
    }
}

/// Whether a number may end at `end` given the bytes after it.
pub(crate) fn right_ok(text: &[u8], end: usize) -> bool {
    let Some(&r) = text.get(end) else { return true };
    let next_is_digit = text.get(end + 1).is_some_and(u8::is_ascii_digit);
    match r {
        _ if is_word_byte(r) => false,
        b'-' | b'.' | b'/' | b',' | b':' => !next_is_digit,
        b'%' | b'@' | b'=' | b'*' | b'+' | b'^' => false,
        _ => true,
    }
}

/// Shape of a nine-digit SSN / ITIN candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NineShape {
    /// `AAA-GG-SSSS` with one separator used twice (`-`, space or `.`).
    Delimited,
    /// Nine digits, no separators.
    Bare,
    /// Partial or mixed separators (`AAA-GGSSSS`, `AAAGG-SSSS`, `AAA-GG.SSSS`).
    Mixed,
}

/// A nine-digit candidate: span, digits and shape.
pub(crate) struct Nine {
    pub start: usize,
    pub end: usize,
    pub digits: [u8; 9],
    pub shape: NineShape,
}

/// Reads an SSN-like nine-digit value at the start of the cluster, if it has one.
pub(crate) fn nine_digits(cl: &Cluster<'_>) -> Option<Nine> {
    if cl.plus {
        return None;
    }
    let g = cl.groups();
    let first = *g.first()?;
    let lens: [usize; 3] = [
        first.len(),
        g.get(1).map_or(0, Group::len),
        g.get(2).map_or(0, Group::len),
    ];
    let (shape, k) = match lens {
        [9, ..] => (NineShape::Bare, 1),
        [3, 2, 4] => match (simple_sep(cl.sep(1)), simple_sep(cl.sep(2))) {
            (Some(a), Some(b)) if a == b => (NineShape::Delimited, 3),
            (Some(_), Some(_)) => (NineShape::Mixed, 3),
            _ => return None,
        },
        [3, 6, _] | [5, 4, _] if simple_sep(cl.sep(1)).is_some() => (NineShape::Mixed, 2),
        _ => return None,
    };
    let end = g.get(k - 1)?.end;
    if !left_ok(cl.text, first.start) || !right_ok(cl.text, end) {
        return None;
    }
    let mut digits = [0u8; 9];
    if cl.digits(k, &mut digits)? != 9 {
        return None;
    }
    Some(Nine {
        start: first.start,
        end,
        digits,
        shape,
    })
}

/// Value of ASCII digits (at most 9 of them, so no overflow).
pub(crate) fn num(d: &[u8]) -> u32 {
    d.iter()
        .take(9)
        .fold(0, |acc, &c| acc * 10 + u32::from(c.wrapping_sub(b'0') % 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(text: &str) -> Vec<String> {
        let b = text.as_bytes();
        let d = b.iter().position(u8::is_ascii_digit).unwrap();
        let cl = Cluster::build(b, d);
        cl.groups()
            .iter()
            .map(|g| text[g.start..g.end].to_string())
            .collect()
    }

    #[test]
    fn cluster_groups() {
        let cases: &[(&str, &[&str])] = &[
            ("(415) 555-0132 x", &["415", "555", "0132"]),
            ("+49 176/ 12345678.", &["49", "176", "12345678"]),
            ("+31 (0) 6 123", &["31", "0", "6", "123"]),
            ("010 - 123 45 67", &["010", "123", "45", "67"]),
            ("12  34", &["12"]),
            ("1,000", &["1"]),
            ("12 apples", &["12"]),
            ("1--2", &["1"]),
            (
                "1 2 3 4 5 6 7 8 9 10 11 12 13 14",
                &["1", "2", "3", "4", "5", "6", "7", "8"],
            ),
            ("7", &["7"]),
        ];
        for (text, want) in cases {
            assert_eq!(groups(text), *want, "{text}");
        }
    }

    #[test]
    fn uniform_runs() {
        let t = b"1 2 3 4 5 6 7 8 9 10 11-12";
        assert_eq!(Cluster::build(t, 0).uniform_run_end(), Some(23));
        let t = b"1 2 3 4 5 6 7 8";
        assert_eq!(Cluster::build(t, 0).uniform_run_end(), None);
        let t = b"1 2 3 4 5 6 7-8 9 10";
        assert_eq!(Cluster::build(t, 0).uniform_run_end(), None);
    }

    #[test]
    fn prefixes() {
        let t = b"call (+45) 1234";
        let cl = Cluster::build(t, 7);
        assert!(cl.open_paren && cl.plus);
        assert_eq!(cl.start, 5);
        let t = b"( 19 ) 38294427";
        let cl = Cluster::build(t, 2);
        assert!(cl.open_paren && !cl.plus);
        assert_eq!(cl.start, 0);
        assert_eq!(cl.sep(1), b" ) ");
        assert_eq!(cl.sep(0), b"");
        assert_eq!(cl.sep(9), b"");
    }

    #[test]
    fn boundaries() {
        let left: &[(&str, usize, bool)] = &[
            ("x 123", 2, true),
            ("x123", 1, false),
            ("is(+45)", 2, true),
            ("-123", 1, false),
            ("a -123", 3, false),
            ("5-123", 2, false),
            ("chat-123", 5, true),
            ("1.5", 2, false),
            ("end. 5", 5, true),
            ("1,000", 2, false),
            ("Tel:555", 4, true),
            ("12:30", 3, false),
            ("#123", 1, false),
            ("/123", 1, false),
            ("£123", 2, false),
            ("€123", 3, false),
            ("é123", 2, true),
            ("123", 0, true),
        ];
        for (text, pos, want) in left {
            assert_eq!(left_ok(text.as_bytes(), *pos), *want, "left {text} @{pos}");
        }
        let right: &[(&str, usize, bool)] = &[
            ("123 x", 3, true),
            ("123x", 3, false),
            ("123.", 3, true),
            ("123.4", 3, false),
            ("123-4", 3, false),
            ("123-", 3, true),
            ("123%", 3, false),
            ("123@x", 3, false),
            ("123=4", 3, false),
            ("123", 3, true),
            ("123", 9, true),
        ];
        for (text, pos, want) in right {
            assert_eq!(
                right_ok(text.as_bytes(), *pos),
                *want,
                "right {text} @{pos}"
            );
        }
    }

    #[test]
    fn nine_digit_shapes() {
        let cases: &[(&str, Option<NineShape>)] = &[
            ("536-22-1234", Some(NineShape::Delimited)),
            ("536 22 1234", Some(NineShape::Delimited)),
            ("536.22.1234", Some(NineShape::Delimited)),
            ("536221234", Some(NineShape::Bare)),
            ("536-221234", Some(NineShape::Mixed)),
            ("53622-1234", Some(NineShape::Mixed)),
            ("536-22.1234", Some(NineShape::Mixed)),
            ("536-22-12345", None),
            ("536-22-1234-5", None),
            ("5362212345", None),
            ("+536221234", None),
            ("536/22/1234", None),
        ];
        for (text, want) in cases {
            let b = text.as_bytes();
            let d = b.iter().position(u8::is_ascii_digit).unwrap();
            let got = nine_digits(&Cluster::build(b, d)).map(|n| n.shape);
            assert_eq!(got, *want, "{text}");
        }
    }

    #[test]
    fn num_values() {
        assert_eq!(num(b"078"), 78);
        assert_eq!(num(b""), 0);
        assert_eq!(num(b"999999999"), 999_999_999);
    }

    proptest::proptest! {
        #[test]
        fn a_lone_short_run_is_never_worth_classifying(text in "[0-9 .\\-/()a+]{1,40}") {
            let b = text.as_bytes();
            for d in 0..b.len() {
                if !b[d].is_ascii_digit() || (d > 0 && b[d - 1].is_ascii_digit()) {
                    continue;
                }
                let e = super::super::run_end(b, d);
                if lone_short_run(b, d, e) {
                    proptest::prop_assert!(!Cluster::build(b, d).worth_classifying(), "{text:?} at {d}");
                }
            }
        }
    }
}
