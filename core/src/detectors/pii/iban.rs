//! International Bank Account Numbers (ISO 13616).
//!
//! An IBAN is a two-letter country code, two check digits and a country-specific BBAN whose
//! total length is fixed per country. It is written either as one run or in groups of four
//! separated by single spaces (or dashes), the last group possibly shorter. Validation is the
//! ISO 7064 mod-97 check over the rearranged number plus the per-country length table, which
//! together leave about one random string in ten thousand. Letters must be capitals, as
//! printed IBANs are; a lowercase letter inside is a typo or not an IBAN.

use super::{Candidate, PiiEntity};

/// Mod-97 and length checked.
const SCORE_VALID: f32 = 0.95;
/// Characters per printed group.
const GROUP: usize = 4;
/// Longest IBAN in use (Russia).
const MAX_LEN: usize = 34;

/// IBAN length per country code (SWIFT IBAN registry).
const LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"AD", 24),
    (b"AE", 23),
    (b"AL", 28),
    (b"AT", 20),
    (b"AZ", 28),
    (b"BA", 20),
    (b"BE", 16),
    (b"BG", 22),
    (b"BH", 22),
    (b"BI", 27),
    (b"BR", 29),
    (b"BY", 28),
    (b"CH", 21),
    (b"CR", 22),
    (b"CY", 28),
    (b"CZ", 24),
    (b"DE", 22),
    (b"DJ", 27),
    (b"DK", 18),
    (b"DO", 28),
    (b"EE", 20),
    (b"EG", 29),
    (b"ES", 24),
    (b"FI", 18),
    (b"FK", 18),
    (b"FO", 18),
    (b"FR", 27),
    (b"GB", 22),
    (b"GE", 22),
    (b"GI", 23),
    (b"GL", 18),
    (b"GR", 27),
    (b"GT", 28),
    (b"HN", 28),
    (b"HR", 21),
    (b"HU", 28),
    (b"IE", 22),
    (b"IL", 23),
    (b"IQ", 23),
    (b"IS", 26),
    (b"IT", 27),
    (b"JO", 30),
    (b"KW", 30),
    (b"KZ", 20),
    (b"LB", 28),
    (b"LC", 32),
    (b"LI", 21),
    (b"LT", 20),
    (b"LU", 20),
    (b"LV", 21),
    (b"LY", 25),
    (b"MC", 27),
    (b"MD", 24),
    (b"ME", 22),
    (b"MK", 19),
    (b"MN", 20),
    (b"MR", 27),
    (b"MT", 31),
    (b"MU", 30),
    (b"NI", 28),
    (b"NL", 18),
    (b"NO", 15),
    (b"OM", 23),
    (b"PK", 24),
    (b"PL", 28),
    (b"PS", 29),
    (b"PT", 25),
    (b"QA", 29),
    (b"RO", 24),
    (b"RS", 22),
    (b"RU", 33),
    (b"SA", 24),
    (b"SC", 31),
    (b"SD", 18),
    (b"SE", 24),
    (b"SI", 19),
    (b"SK", 24),
    (b"SM", 27),
    (b"SO", 23),
    (b"ST", 25),
    (b"SV", 28),
    (b"TL", 23),
    (b"TN", 24),
    (b"TR", 26),
    (b"UA", 29),
    (b"VA", 22),
    (b"VG", 24),
    (b"XK", 20),
    (b"YE", 30),
];

fn country_len(cc: &[u8]) -> Option<usize> {
    LENGTHS
        .iter()
        .find(|(c, _)| c.as_slice() == cc)
        .map(|&(_, n)| n)
}

/// Whether the digit run at `d` could be an IBAN's check digits: two capitals before it that
/// start a word.
pub(crate) fn triggers(b: &[u8], d: usize) -> bool {
    d >= 2
        && b.get(d - 2).is_some_and(u8::is_ascii_uppercase)
        && b.get(d - 1).is_some_and(u8::is_ascii_uppercase)
        && (d == 2 || !b.get(d - 3).is_some_and(u8::is_ascii_alphanumeric))
}

/// ISO 7064 mod-97 over the IBAN rearranged (first four characters moved to the end).
pub(crate) fn mod97_ok(iban: &[u8]) -> bool {
    if iban.len() < 5 {
        return false;
    }
    let (head, body) = iban.split_at(4);
    let mut rem: u32 = 0;
    for &c in body.iter().chain(head) {
        rem = match c {
            b'0'..=b'9' => (rem * 10 + u32::from(c - b'0')) % 97,
            b'A'..=b'Z' => (rem * 100 + u32::from(c - b'A') + 10) % 97,
            _ => return false,
        };
    }
    rem == 1
}

/// Result of reading an IBAN-shaped value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Parsed {
    /// A valid IBAN.
    Valid(Candidate),
    /// A known country code and check digits that do not validate: not an IBAN, and not a
    /// phone or card number either, so the scanner skips to `end`.
    Invalid { end: usize },
    /// Not IBAN-shaped at all.
    No,
}

/// Parses an IBAN starting at `start` (the country code).
pub(crate) fn parse(b: &[u8], start: usize) -> Parsed {
    let Some(want) = b.get(start..start + 2).and_then(country_len) else {
        return Parsed::No;
    };
    match read(b, start, want) {
        Some(c) => Parsed::Valid(c),
        None => Parsed::Invalid {
            end: shaped_end(b, start),
        },
    }
}

fn read(b: &[u8], start: usize, want: usize) -> Option<Candidate> {
    let mut buf = [0u8; MAX_LEN];
    let mut n = 0;
    let mut i = start;
    let mut sep: Option<u8> = None;
    let mut group = 0;
    while n < want {
        let c = *b.get(i)?;
        if c.is_ascii_digit() || c.is_ascii_uppercase() {
            *buf.get_mut(n)? = c;
            n += 1;
            group += 1;
            i += 1;
            continue;
        }
        // A separator: only between full groups of four, always the same one.
        if !(c == b' ' || c == b'-') || group != GROUP || sep.is_some_and(|s| s != c) {
            return None;
        }
        if !b
            .get(i + 1)
            .is_some_and(|&x| x.is_ascii_digit() || x.is_ascii_uppercase())
        {
            return None;
        }
        sep = Some(c);
        group = 0;
        i += 1;
    }
    // Check digits are digits, and the value does not run on into more characters.
    if !buf.get(2..4)?.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if b.get(i)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
    {
        return None;
    }
    if !mod97_ok(buf.get(..n)?) {
        return None;
    }
    Some(Candidate::new(PiiEntity::Iban, start, i, SCORE_VALID))
}

/// End of the run of capitals and digits, in groups joined by single spaces or dashes, that
/// starts at `start` (bounded by the longest IBAN plus its separators).
fn shaped_end(b: &[u8], start: usize) -> usize {
    let is_char = |c: u8| c.is_ascii_digit() || c.is_ascii_uppercase();
    let limit = start + MAX_LEN + MAX_LEN / GROUP;
    let mut i = start;
    while i < limit {
        match b.get(i) {
            Some(&c) if is_char(c) => i += 1,
            Some(b' ' | b'-') if b.get(i + 1).copied().is_some_and(is_char) => i += 1,
            _ => break,
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(text: &str) -> Option<String> {
        let b = text.as_bytes();
        let d = b.iter().position(u8::is_ascii_digit)?;
        if !triggers(b, d) {
            return None;
        }
        match parse(b, d - 2) {
            Parsed::Valid(c) => Some(text[c.start..c.end].to_string()),
            _ => None,
        }
    }

    #[test]
    fn invalid_ibans_are_skipped_whole() {
        let text = "DE89 3704 0044 0532 0130 01 then";
        assert_eq!(parse(text.as_bytes(), 0), Parsed::Invalid { end: 27 });
        assert_eq!(parse(b"ZZ12 3456", 0), Parsed::No);
    }

    #[test]
    fn table_lengths_are_sane() {
        for (cc, n) in LENGTHS {
            assert!(cc.iter().all(u8::is_ascii_uppercase));
            assert!((15..=MAX_LEN).contains(n), "{cc:?}");
        }
    }

    #[test]
    fn table() {
        let hits = [
            ("GB82WEST12345698765432", "GB82WEST12345698765432"),
            ("GB82 WEST 1234 5698 7654 32", "GB82 WEST 1234 5698 7654 32"),
            (
                "pay DE89 3704 0044 0532 0130 00 now",
                "DE89 3704 0044 0532 0130 00",
            ),
            ("DE89-3704-0044-0532-0130-00", "DE89-3704-0044-0532-0130-00"),
            ("FR7630006000011234567890189", "FR7630006000011234567890189"),
            ("NO9386011117947.", "NO9386011117947"),
            ("(CH9300762011623852957)", "CH9300762011623852957"),
            // A separate word after a complete IBAN is not part of it.
            (
                "GB82 WEST 1234 5698 7654 32 X",
                "GB82 WEST 1234 5698 7654 32",
            ),
        ];
        for (text, want) in hits {
            assert_eq!(find(text).as_deref(), Some(want), "{text}");
        }
        let misses = [
            "GB82 WEST 1234 5698 7654 33",  // check digits
            "GB82 WEST 1234 5698 7654 3",   // too short
            "GB82 WEST 1234 5698 7654 321", // runs on
            "GB82 wEST 1234 5698 7654 32",  // lowercase
            "GB82/WEST/1234/5698/7654/32",  // slash separators
            "GB82 WEST 123 45698 7654 32",  // broken grouping
            "GB82 WEST 1234  5698 7654 32", // double space
            "GB82 WEST-1234 5698 7654 32",  // mixed separators
            "XX82WEST12345698765432",       // no such country
            "aGB82WEST12345698765432",      // glued to a word
            "DE",
        ];
        for text in misses {
            assert_eq!(find(text), None, "{text}");
        }
    }
}
