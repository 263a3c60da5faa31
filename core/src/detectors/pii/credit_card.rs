//! Payment card numbers (PANs): 13–19 digits, bare or printed in groups.
//!
//! A candidate must look like a printed card number (one run, groups of four joined by one
//! consistent space, dash or dot, or the 4-6-5 / 4-6-4 Amex / Diners layout), start with an issuer
//! prefix that exists for its length (Visa 4, Mastercard 51–55 / 2221–2720, Amex 34/37, …) and
//! pass the Luhn checksum. Luhn alone passes one random number in ten; the prefix and length
//! table removes most of the rest, so a match is reported with a high score without context.

use super::cluster::{left_ok, right_ok, simple_sep, Cluster, Group};
use super::context::{class, LazyContext};
use super::{Candidate, PiiEntity};

const MIN_LEN: usize = 13;
const MAX_LEN: usize = 19;
/// Luhn-valid, issuer prefix and length consistent.
const SCORE_VALID: f32 = 0.9;
/// Same, with a card word ("card", "visa", "credit", …) nearby.
const SCORE_CONTEXT: f32 = 1.0;
/// Digits per printed group.
const GROUP: usize = 4;

/// Luhn (mod 10) checksum over ASCII digits.
pub(crate) fn luhn(d: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, &c) in d.iter().rev().enumerate() {
        let mut v = u32::from(c.wrapping_sub(b'0'));
        if v > 9 {
            return false;
        }
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

fn prefix(d: &[u8], n: usize) -> u32 {
    d.iter()
        .take(n)
        .fold(0, |acc, &c| acc * 10 + u32::from(c.wrapping_sub(b'0') % 10))
}

/// Whether the issuer identification number (leading digits) is in use for this length.
pub(crate) fn issuer_ok(d: &[u8]) -> bool {
    let n = d.len();
    let p2 = prefix(d, 2);
    let p4 = prefix(d, 4);
    match d.first() {
        // UATP, and JCB's old 15-digit 1800 range
        Some(b'1') => n == 15,
        // Mastercard 2-series, Mir; JCB's old 15-digit 2131 range
        Some(b'2') => {
            (n == 16 && ((2221..=2720).contains(&p4) || (2200..=2204).contains(&p4)))
                || (n == 15 && p4 == 2131)
        }
        Some(b'3') => match p2 {
            34 | 37 => n == 15,                           // Amex
            35 => (3528..=3589).contains(&p4) && n >= 16, // JCB
            30 | 36 | 38 | 39 => (14..=19).contains(&n),  // Diners
            _ => false,
        },
        // Visa
        Some(b'4') => n == 13 || n == 16 || n == 19,
        Some(b'5') => match p2 {
            51..=55 => n == 16,      // Mastercard
            50 | 56..=59 => n >= 12, // Maestro, Dankort
            _ => false,
        },
        // Discover, UnionPay, Maestro, RuPay, InstaPayment
        Some(b'6') => n >= 16,
        // UnionPay 81
        Some(b'8') => p2 == 81 && n >= 16,
        _ => false,
    }
}

/// Whether `d` is a plausible card number.
pub(crate) fn valid(d: &[u8]) -> bool {
    (MIN_LEN..=MAX_LEN).contains(&d.len())
        && d.iter().any(|&c| c != d[0])
        && issuer_ok(d)
        && luhn(d)
}

/// Most groups a grouped card can span (4+4+4+4+3 digits).
const MAX_CARD_GROUPS: usize = 5;

/// Numbers of leading groups that could form a card, longest first (`n` of them).
fn layouts(cl: &Cluster<'_>) -> ([usize; MAX_CARD_GROUPS], usize) {
    let none = ([0; MAX_CARD_GROUPS], 0);
    let g = cl.groups();
    let Some(first) = g.first() else { return none };
    if first.len() >= MIN_LEN {
        return ([1, 0, 0, 0, 0], 1);
    }
    if first.len() != GROUP {
        return none;
    }
    let Some(sep) = simple_sep(cl.sep(1)) else {
        return none;
    };
    let len_of = |i: usize| g.get(i).map_or(0, Group::len);
    let same_sep = |i: usize| simple_sep(cl.sep(i)) == Some(sep);
    // Amex / Diners: 4-6-5, 4-6-4.
    if len_of(1) == 6 && (len_of(2) == 5 || len_of(2) == 4) && same_sep(2) {
        return ([3, 0, 0, 0, 0], 1);
    }
    // Groups of four, the last one possibly shorter: try every cut, longest first.
    let mut k = 1;
    while k < g.len().min(MAX_CARD_GROUPS)
        && same_sep(k)
        && len_of(k - 1) == GROUP
        && (1..=GROUP).contains(&len_of(k))
    {
        k += 1;
    }
    let mut out = [0; MAX_CARD_GROUPS];
    let mut n = 0;
    for (slot, cut) in out.iter_mut().zip((2..=k).rev()) {
        *slot = cut;
        n += 1;
    }
    (out, n)
}

pub(crate) fn classify(cl: &Cluster<'_>, ctx: &mut LazyContext<'_>) -> Option<Candidate> {
    if cl.plus {
        return None;
    }
    let g = cl.groups();
    let start = g.first()?.start;
    if !left_ok(cl.text, start) {
        return None;
    }
    let (cuts, n) = layouts(cl);
    let mut buf = [0u8; MAX_LEN];
    for &k in cuts.iter().take(n) {
        let end = g.get(k - 1)?.end;
        let Some(len) = cl.digits(k, &mut buf) else {
            continue;
        };
        if !right_ok(cl.text, end) || !valid(buf.get(..len)?) {
            continue;
        }
        let score = if ctx.before(class::CARD) != 0 {
            SCORE_CONTEXT
        } else {
            SCORE_VALID
        };
        return Some(Candidate::new(PiiEntity::CreditCard, start, end, score));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::context::{ContextMatcher, TextContext};
    use super::*;

    fn find_all(text: &str) -> Vec<String> {
        let b = text.as_bytes();
        let m = ContextMatcher::new();
        let mut out = Vec::new();
        let mut i = 0;
        while let Some(p) = b[i..].iter().position(u8::is_ascii_digit) {
            let d = i + p;
            let cl = Cluster::build(b, d);
            let tc = TextContext::new(&m, b);
            let mut ctx = LazyContext::new(&tc, cl.start, cl.start);
            match classify(&cl, &mut ctx) {
                Some(c) => {
                    out.push(text[c.start..c.end].to_string());
                    i = c.end;
                }
                None => i = super::super::run_end(b, d),
            }
        }
        out
    }

    #[test]
    fn luhn_and_issuers() {
        assert!(luhn(b"79927398713"));
        assert!(!luhn(b"79927398710"));
        assert!(!luhn(b"7992739871x"));
        for ok in [
            "4111111111111111", // Visa
            "4222222222222",    // Visa 13
            "5500000000000004", // Mastercard
            "2223000048400011", // Mastercard 2-series
            "340000000000009",  // Amex
            "378282246310005",  // Amex
            "30000000000004",   // Diners
            "3530111333300000", // JCB
            "6011000990139424", // Discover
            "6200000000000005", // UnionPay
            "135792468013578",  // UATP-shaped
        ] {
            assert!(valid(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "4111111111111112",     // Luhn
            "7111111111111114",     // no issuer 7
            "3400000000000000",     // Amex must be 15
            "560000000002",         // too short
            "41111111111111111111", // too long
            "0000000000000000",     // one repeated digit
            "2100000000000005",     // 21xx not issued
        ] {
            assert!(!valid(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn table() {
        let cases: &[(&str, &[&str])] = &[
            ("4111111111111111", &["4111111111111111"]),
            (
                "pay with 4111 1111 1111 1111 today",
                &["4111 1111 1111 1111"],
            ),
            ("4111-1111-1111-1111", &["4111-1111-1111-1111"]),
            ("Amex 3782 822463 10005", &["3782 822463 10005"]),
            ("4222 2222 2222 2", &["4222 2222 2222 2"]),
            (
                "5500000000000004 5500-0000-0000-0004 5500 0000 0000 0004",
                &[
                    "5500000000000004",
                    "5500-0000-0000-0004",
                    "5500 0000 0000 0004",
                ],
            ),
            // A following unrelated number does not spoil the card.
            ("4111 1111 1111 1111 2024", &["4111 1111 1111 1111"]),
            // Near misses: checksum, separators, glued text, decimals.
            ("4111 1111 1111 1112", &[]),
            ("4111-1111 1111-1111", &[]),
            ("4111.1111.1111.1111", &["4111.1111.1111.1111"]),
            ("4111.1111.1111.1112", &[]),
            ("4111.1111 1111.1111", &[]),
            ("x4111111111111111", &[]),
            ("4111111111111111y", &[]),
            ("0.4111111111111111", &[]),
            ("+4111111111111111", &[]),
            ("1748503543012", &[]),
        ];
        for (text, want) in cases {
            assert_eq!(find_all(text), *want, "{text}");
        }
    }

    #[test]
    fn context_raises_score() {
        let text = "credit card: 4111111111111111";
        let b = text.as_bytes();
        let m = ContextMatcher::new();
        let cl = Cluster::build(b, 13);
        let tc = TextContext::new(&m, b);
        let mut ctx = LazyContext::new(&tc, cl.start, cl.start);
        assert_eq!(classify(&cl, &mut ctx).unwrap().score, SCORE_CONTEXT);
    }
}
