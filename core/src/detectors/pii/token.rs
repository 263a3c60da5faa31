//! Shared helpers for identifier-shaped tokens (passport and driver's licence numbers).
//!
//! These numbers are runs of capital letters and digits with no separators; they are found as
//! whole alphanumeric tokens around a digit run and accepted only if the token stands alone
//! (not part of a path, an e-mail, a dotted name or a hyphenated code).

/// Whether the token `b[ts..te]` stands alone.
pub(crate) fn isolated(b: &[u8], ts: usize, te: usize) -> bool {
    let left = ts.checked_sub(1).and_then(|p| b.get(p)).copied();
    if matches!(
        left,
        Some(b'.' | b'/' | b'\\' | b'-' | b'_' | b'@' | b'+' | b'=' | b'&' | b'%' | b'$')
    ) {
        return false;
    }
    let next_alnum = b.get(te + 1).is_some_and(u8::is_ascii_alphanumeric);
    match b.get(te) {
        Some(b'@' | b'_') => false,
        Some(b'.' | b'-' | b'/') => !next_alnum,
        _ => true,
    }
}

/// Counts of (capital letters, digits) in `t`, or `None` if it holds anything else.
pub(crate) fn composition(t: &[u8]) -> Option<(usize, usize)> {
    let mut letters = 0;
    let mut digits = 0;
    for &c in t {
        if c.is_ascii_digit() {
            digits += 1;
        } else if c.is_ascii_uppercase() {
            letters += 1;
        } else {
            return None;
        }
    }
    Some((letters, digits))
}

/// Number of switches between letters and digits along `t` ("AB12" has one, "1A2" two).
pub(crate) fn transitions(t: impl IntoIterator<Item = u8>) -> usize {
    let mut n = 0;
    let mut prev: Option<bool> = None;
    for c in t {
        let digit = c.is_ascii_digit();
        if prev.is_some_and(|p| p != digit) {
            n += 1;
        }
        prev = Some(digit);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isolation() {
        let cases: &[(&str, usize, usize, bool)] = &[
            ("id A1234567 ok", 3, 11, true),
            ("(A1234567)", 1, 9, true),
            ("A1234567.", 0, 8, true),
            ("x/A1234567", 2, 10, false),
            ("A1234567@x.org", 0, 8, false),
            ("A1234567-99", 0, 8, false),
            ("v.A1234567", 2, 10, false),
        ];
        for (text, ts, te, want) in cases {
            assert_eq!(isolated(text.as_bytes(), *ts, *te), *want, "{text}");
        }
    }

    #[test]
    fn shapes() {
        assert_eq!(composition(b"AB123"), Some((2, 3)));
        assert_eq!(composition(b"ab123"), None);
        assert_eq!(transitions(b"AB123".iter().copied()), 1);
        assert_eq!(transitions(b"123AB4567".iter().copied()), 2);
        assert_eq!(transitions([]), 0);
    }
}
