//! US driver's licence numbers.
//!
//! Every state has its own format (`A1234567`, `123456789`, `123AB4567`, `AB123456`, 13-digit
//! numbers…), and together they cover most short alphanumeric codes, so the number is only
//! reported next to a licence word: "driver", "driving", "DL", "DMV" give a high score, a bare
//! "license"/"licence" (which might be a software or business licence) a lower one that still
//! passes the default threshold. Without any such word, letter-and-digit shapes yield a
//! low-score candidate for callers that ask for everything; plain digit runs yield nothing.

use super::context::{class, LazyContext};
use super::token::{isolated, transitions};
use super::{Candidate, PiiEntity};

const MIN_LEN: usize = 5;
const MAX_LEN: usize = 16;
/// Licence numbers made only of digits: 7 to 13 of them across the states.
const MIN_DIGITS_ONLY: usize = 7;
const MAX_DIGITS_ONLY: usize = 13;
/// Mixed tokens need at least this many digits, and at most this many letters.
const MIN_DIGITS_MIXED: usize = 4;
const MAX_LETTERS: usize = 4;
/// Letters may form a prefix, a suffix or one inner block: at most two letter/digit switches.
const MAX_TRANSITIONS: usize = 2;

const SCORE_DRIVER_CONTEXT: f32 = 0.85;
const SCORE_LICENSE_CONTEXT: f32 = 0.6;
const SCORE_SHAPE_ONLY: f32 = 0.1;

/// Washington's format: twelve characters of capitals, digits and `*` fillers.
const WA_LEN: usize = 12;
const WA_MIN_DIGITS: usize = 2;

/// End of the token extended over dash-joined parts (`D123-456-78-901-0`) and `*` fillers
/// (`SMITH**123AB`).
fn extended_end(b: &[u8], te: usize) -> usize {
    let part = |c: u8| c.is_ascii_digit() || c.is_ascii_uppercase() || c == b'*';
    let mut i = te;
    loop {
        match b.get(i) {
            Some(b'*') => i += 1,
            Some(b'-') if b.get(i + 1).copied().is_some_and(part) => i += 1,
            _ => break,
        }
        while b.get(i).copied().is_some_and(part) {
            i += 1;
        }
    }
    i
}

/// The licence number that is the token `b[ts..te]` (possibly extended over dashes and `*`),
/// if it is one.
pub(crate) fn classify(
    b: &[u8],
    ts: usize,
    te: usize,
    ctx: &mut LazyContext<'_>,
) -> Option<Candidate> {
    let end = extended_end(b, te);
    let t = b.get(ts..end)?;
    let stars = t.iter().filter(|&&c| c == b'*').count();
    let dashes = t.iter().filter(|&&c| c == b'-').count();
    let len = t.len() - dashes;
    if !(MIN_LEN..=MAX_LEN).contains(&len) {
        return None;
    }
    let mut letters = 0;
    let mut digits = 0;
    for &c in t {
        match c {
            b'0'..=b'9' => digits += 1,
            b'A'..=b'Z' => letters += 1,
            b'*' | b'-' => {}
            _ => return None,
        }
    }
    let mixed = if stars > 0 {
        if len != WA_LEN || digits < WA_MIN_DIGITS {
            return None;
        }
        true
    } else {
        match (letters, digits) {
            (0, n) if (MIN_DIGITS_ONLY..=MAX_DIGITS_ONLY).contains(&n) => false,
            (l, n) if (1..=MAX_LETTERS).contains(&l) && n >= MIN_DIGITS_MIXED => {
                if transitions(t.iter().copied().filter(|&c| c != b'-')) > MAX_TRANSITIONS {
                    return None;
                }
                true
            }
            _ => return None,
        }
    };
    // Dash-joined digits only ("123-456-7890") are phone-like; leave them to the phone
    // recognizer.
    if dashes > 0 && letters == 0 {
        return None;
    }
    if !isolated(b, ts, end) {
        return None;
    }
    let around = ctx.around(class::DRIVER | class::LICENSE);
    let score = if around & class::DRIVER != 0 {
        SCORE_DRIVER_CONTEXT
    } else if around & class::LICENSE != 0 {
        SCORE_LICENSE_CONTEXT
    } else if mixed {
        SCORE_SHAPE_ONLY
    } else {
        return None;
    };
    Some(Candidate::new(PiiEntity::UsDriverLicense, ts, end, score))
}

#[cfg(test)]
mod tests {
    use super::super::context::{ContextMatcher, TextContext};
    use super::*;

    fn find(text: &str) -> Option<(String, f32)> {
        let b = text.as_bytes();
        let m = ContextMatcher::new();
        let d = b.iter().position(u8::is_ascii_digit)?;
        let ts = b[..d]
            .iter()
            .rposition(|c| !c.is_ascii_alphanumeric())
            .map_or(0, |p| p + 1);
        let te = b[d..]
            .iter()
            .position(|c| !c.is_ascii_alphanumeric())
            .map_or(b.len(), |p| d + p);
        let tc = TextContext::new(&m, b);
        let mut ctx = LazyContext::new(&tc, ts, te);
        classify(b, ts, te, &mut ctx).map(|c| (text[c.start..c.end].to_string(), c.score))
    }

    #[test]
    fn table() {
        let cases: &[(&str, Option<(&str, f32)>)] = &[
            (
                "driver's license D1234567",
                Some(("D1234567", SCORE_DRIVER_CONTEXT)),
            ),
            (
                "Drivers licence no. 123456789",
                Some(("123456789", SCORE_DRIVER_CONTEXT)),
            ),
            ("DL# 123AB4567", Some(("123AB4567", SCORE_DRIVER_CONTEXT))),
            ("DL: WA1234567", Some(("WA1234567", SCORE_DRIVER_CONTEXT))),
            (
                "my driving permit: S53046012345",
                Some(("S53046012345", SCORE_DRIVER_CONTEXT)),
            ),
            (
                "license number 1234567890123",
                Some(("1234567890123", SCORE_LICENSE_CONTEXT)),
            ),
            ("D1234567", Some(("D1234567", SCORE_SHAPE_ONLY))),
            ("1234567", None),
            ("driver license 123456", None),         // six digits
            ("driver license 12345678901234", None), // fourteen digits
            ("driver license A1B2C3D4", None),       // too many switches
            ("driver license ABCDE1234", None),      // five letters
            ("driver license d1234567", None),       // lowercase
            ("dl 12345678", None),                   // "dl" must be capitals
            ("driver license A123", None),           // too short
            (
                "driver's license D123-456-78-901-0",
                Some(("D123-456-78-901-0", SCORE_DRIVER_CONTEXT)),
            ),
            (
                "driver license number: AB1C2**9DEF7",
                Some(("AB1C2**9DEF7", SCORE_DRIVER_CONTEXT)),
            ),
            ("driver license AB1C2**9DEF", None), // eleven characters
            ("driver license 123-456-7890", None), // digits with dashes: a phone shape
            ("driver license D123--456", None),
        ];
        for (text, want) in cases {
            let want = want.map(|(s, f)| (s.to_string(), f));
            assert_eq!(find(text), want, "{text}");
        }
    }
}
