//! US passport numbers: nine digits, or (next-generation books) a capital letter and eight
//! digits.
//!
//! Both shapes are common in other identifiers, so the number is reported only when the word
//! "passport" (or "travel document") is within a short window before or after it. Without it
//! the letter-plus-eight-digits shape yields a low-score candidate that the default threshold
//! drops; nine bare digits yield nothing here (the SSN and phone recognizers weigh those).

use super::context::{class, LazyContext};
use super::token::{composition, isolated};
use super::{Candidate, PiiEntity};

/// Characters in a US passport number.
const LEN: usize = 9;
const SCORE_CONTEXT: f32 = 0.85;
/// Letter plus eight digits with no passport word: kept for low thresholds only.
const SCORE_SHAPE_ONLY: f32 = 0.15;

/// The passport number that is the token `b[ts..te]`, if it is one.
pub(crate) fn classify(
    b: &[u8],
    ts: usize,
    te: usize,
    ctx: &mut LazyContext<'_>,
) -> Option<Candidate> {
    if te - ts != LEN {
        return None;
    }
    let t = b.get(ts..te)?;
    let lettered = match composition(t)? {
        (0, LEN) => false,
        (1, 8) if t.first().is_some_and(u8::is_ascii_uppercase) => true,
        _ => return None,
    };
    if !isolated(b, ts, te) {
        return None;
    }
    let score = if ctx.around(class::PASSPORT) != 0 {
        SCORE_CONTEXT
    } else if lettered {
        SCORE_SHAPE_ONLY
    } else {
        return None;
    };
    Some(Candidate::new(PiiEntity::UsPassport, ts, te, score))
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
                "passport number 340020013",
                Some(("340020013", SCORE_CONTEXT)),
            ),
            ("Passport: C03005988.", Some(("C03005988", SCORE_CONTEXT))),
            (
                "my travel document is X12345678",
                Some(("X12345678", SCORE_CONTEXT)),
            ),
            (
                "C03005988 is on my passport",
                Some(("C03005988", SCORE_CONTEXT)),
            ),
            ("C03005988", Some(("C03005988", SCORE_SHAPE_ONLY))),
            ("340020013", None),
            ("passport 34002001", None),    // eight digits
            ("passport 3400200133", None),  // ten digits
            ("passport CC3005988", None),   // two letters
            ("passport 34002001C", None),   // letter last
            ("passport c03005988", None),   // lowercase
            ("passport x/C03005988", None), // part of a path
        ];
        for (text, want) in cases {
            let want = want.map(|(s, f)| (s.to_string(), f));
            assert_eq!(find(text), want, "{text}");
        }
    }
}
