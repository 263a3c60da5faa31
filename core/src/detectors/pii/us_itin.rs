//! US Individual Taxpayer Identification Numbers: `9XX-GG-XXXX`.
//!
//! ITINs share the SSN layout but always start with 9, and the IRS issues them only with a
//! group `GG` in 50–65, 70–88, 90–92 or 94–99. That range check is the only validation there
//! is, so, as for SSNs, the delimited form is reported alone while bare or oddly delimited
//! digits need a word such as "ITIN" or "taxpayer" nearby.

use super::cluster::{nine_digits, num, Cluster, NineShape};
use super::context::{class, LazyContext};
use super::{Candidate, PiiEntity};

const SCORE_DELIMITED: f32 = 0.85;
const SCORE_BARE: f32 = 0.35;
const SCORE_MIXED: f32 = 0.35;
const CONTEXT_BOOST: f32 = 0.45;
const MAX_SCORE: f32 = 1.0;

/// Group numbers the IRS assigns to ITINs.
const GROUP_RANGES: [(u32, u32); 4] = [(50, 65), (70, 88), (90, 92), (94, 99)];

/// Whether nine ASCII digits form a possible ITIN.
pub(crate) fn valid(d: &[u8; 9]) -> bool {
    let group = num(&d[3..5]);
    d[0] == b'9'
        && GROUP_RANGES
            .iter()
            .any(|&(lo, hi)| (lo..=hi).contains(&group))
        && num(&d[5..9]) != 0
}

pub(crate) fn classify(cl: &Cluster<'_>, ctx: &mut LazyContext<'_>) -> Option<Candidate> {
    let n = nine_digits(cl)?;
    if !valid(&n.digits) {
        return None;
    }
    let base = match n.shape {
        NineShape::Delimited => SCORE_DELIMITED,
        NineShape::Bare => SCORE_BARE,
        NineShape::Mixed => SCORE_MIXED,
    };
    let score = if ctx.before(class::ITIN) != 0 {
        (base + CONTEXT_BOOST).min(MAX_SCORE)
    } else {
        base
    };
    Some(Candidate::new(PiiEntity::UsItin, n.start, n.end, score))
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
        let hits: &[(&str, &str, f32)] = &[
            ("923-50-4321", "923-50-4321", 0.85),
            ("923-65-4321", "923-65-4321", 0.85),
            ("923 70 4321", "923 70 4321", 0.85),
            ("923.88.4321", "923.88.4321", 0.85),
            ("923-92-4321", "923-92-4321", 0.85),
            ("923-99-4321", "923-99-4321", 0.85),
            ("ITIN 923-94-4321", "923-94-4321", 1.0),
            ("923954321", "923954321", 0.35),
            ("taxpayer id 923954321", "923954321", 0.8),
            ("923-954321", "923-954321", 0.35),
        ];
        for (text, span, score) in hits {
            let (got, s) = find(text).unwrap_or_else(|| panic!("no match in {text}"));
            assert_eq!(got, *span, "{text}");
            assert!((s - score).abs() < 1e-6, "{text}: {s}");
        }
        let misses = [
            "923-49-4321", // group below 50
            "923-66-4321", // 66-69 unassigned
            "923-89-4321",
            "923-93-4321",
            "823-70-4321", // does not start with 9
            "923-70-0000",
            "923-70-43210",
            "923-70-4321a",
        ];
        for text in misses {
            assert_eq!(find(text), None, "{text}");
        }
    }
}
