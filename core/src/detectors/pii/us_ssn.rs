//! US Social Security numbers: `AAA-GG-SSSS`.
//!
//! SSNs carry no checksum, so validity comes from the SSA's allocation rules: the area `AAA` is
//! never 000, 666 or 900–999 (the 9xx range is used by ITINs), the group `GG` is never 00 and
//! the serial `SSSS` never 0000. Numbers made of one repeated digit and the handful of
//! well-known published examples (the Woolworth wallet card 078-05-1120, the "123-45-6789"
//! placeholder, the SSA advertising number 219-09-9999) are rejected unless an SSN word
//! introduces them: alone they are examples, but "my SSN is 123-45-6789" is still meant as one.
//!
//! The delimited form is distinctive enough to report alone; a bare nine-digit run or mixed
//! delimiters only score high next to a word such as "SSN" or "social security".

use super::cluster::{nine_digits, num, Cluster, NineShape};
use super::context::{class, LazyContext};
use super::{Candidate, PiiEntity};

/// `AAA-GG-SSSS` with one consistent delimiter.
const SCORE_DELIMITED: f32 = 0.85;
/// Nine bare digits: as likely a quantity, an ID or a phone number.
const SCORE_BARE: f32 = 0.35;
/// Partial or inconsistent delimiters.
const SCORE_MIXED: f32 = 0.35;
/// Added when an SSN word is near.
const CONTEXT_BOOST: f32 = 0.45;
const MAX_SCORE: f32 = 1.0;

/// Published sample numbers that belong to nobody.
const KNOWN_FAKES: [&[u8; 9]; 3] = [b"078051120", b"123456789", b"219099999"];

/// Whether nine ASCII digits satisfy the SSA allocation rules.
pub(crate) fn allocated(d: &[u8; 9]) -> bool {
    let area = num(&d[0..3]);
    let group = num(&d[3..5]);
    let serial = num(&d[5..9]);
    area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
}

/// Placeholder-looking numbers: one repeated digit, or a well-known published example.
pub(crate) fn placeholder(d: &[u8; 9]) -> bool {
    d.iter().all(|&c| c == d[0]) || KNOWN_FAKES.contains(&d)
}

pub(crate) fn classify(cl: &Cluster<'_>, ctx: &mut LazyContext<'_>) -> Option<Candidate> {
    let n = nine_digits(cl)?;
    if !allocated(&n.digits) {
        return None;
    }
    let context = ctx.before(class::SSN) != 0;
    // A placeholder is still what the writer calls their SSN ("my SSN is 123-45-6789"), but
    // alone it is an example, not someone's number.
    if placeholder(&n.digits) && !context {
        return None;
    }
    let base = match n.shape {
        NineShape::Delimited => SCORE_DELIMITED,
        NineShape::Bare => SCORE_BARE,
        NineShape::Mixed => SCORE_MIXED,
    };
    let score = if context {
        (base + CONTEXT_BOOST).min(MAX_SCORE)
    } else {
        base
    };
    Some(Candidate::new(PiiEntity::UsSsn, n.start, n.end, score))
}

#[cfg(test)]
mod tests {
    use super::super::context::{ContextMatcher, TextContext};
    use super::*;

    fn find(text: &str) -> Option<(String, f32)> {
        let b = text.as_bytes();
        let m = ContextMatcher::new();
        let d = b.iter().position(u8::is_ascii_digit)?;
        let cl = Cluster::build(b, d);
        let tc = TextContext::new(&m, b);
        let mut ctx = LazyContext::new(&tc, cl.start, cl.start);
        classify(&cl, &mut ctx).map(|c| (text[c.start..c.end].to_string(), c.score))
    }

    #[test]
    fn table() {
        // (text, expected span, minimum score, maximum score)
        let hits: &[(&str, &str, f32, f32)] = &[
            ("536-22-1234", "536-22-1234", 0.85, 0.85),
            ("id 536 22 1234 ok", "536 22 1234", 0.85, 0.85),
            ("536.22.1234", "536.22.1234", 0.85, 0.85),
            ("my SSN is 536-22-1234", "536-22-1234", 0.95, 1.0),
            ("536221234", "536221234", 0.3, 0.4),
            ("ssn: 536221234", "536221234", 0.8, 0.8),
            ("536-221234", "536-221234", 0.35, 0.35),
            ("Social Security 53622-1234", "53622-1234", 0.8, 0.8),
            ("665-01-0001", "665-01-0001", 0.85, 0.85),
            ("my ssn is 078-05-1120", "078-05-1120", 1.0, 1.0),
            ("SSN 123456789", "123456789", 0.8, 0.8),
        ];
        for (text, span, lo, hi) in hits {
            let (got, score) = find(text).unwrap_or_else(|| panic!("no match in {text}"));
            assert_eq!(got, *span, "{text}");
            assert!(
                score >= *lo - 1e-6 && score <= *hi + 1e-6,
                "{text}: {score}"
            );
        }
        let misses = [
            "000-22-1234", // area 000
            "666-22-1234", // area 666
            "936-22-1234", // 9xx areas are ITINs
            "536-00-1234", // group 00
            "536-22-0000", // serial 0000
            "078-05-1120", // Woolworth card
            "123-45-6789", // placeholder
            "219-09-9999", // SSA advertisement
            "555-55-5555", // one repeated digit
            "5362212345",  // ten digits
            "536-22-12345",
            "x536-22-1234",
            "536-22-1234x",
            "536/22/1234",
            "1.536-22-1234",
        ];
        for text in misses {
            assert_eq!(find(text), None, "{text}");
        }
    }
}
