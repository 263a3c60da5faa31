//! Phone numbers: NANP, E.164 / international and common national layouts.
//!
//! Phone numbers have no checksum and many layouts, and ordinary text (maths problems, code,
//! tables) is full of digit runs, so the recognizer scores by how *phone-like the layout* is
//! and lets a context word make up the difference:
//!
//! | layout                                                        | alone |
//! |---------------------------------------------------------------|-------|
//! | `+CC …` with a valid country calling code and length (E.164)  | 0.80  |
//! | `00CC …` / `011 CC …` exit prefix, grouped                    | 0.70  |
//! | NANP `(AAA) EEE-SSSS`, `AAA-EEE-SSSS`, `1-AAA-…`, dotted      | 0.80  |
//! | the same with an area code or exchange starting with 0 or 1  | 0.60  |
//! | trunk `0…` grouped, 8+ digits (`0176 1234 5678`)              | 0.55  |
//! | area code in parentheses, 8+ digits (`(11) 98765-4321`)       | 0.55  |
//! | other grouped digits, bare runs, local `EEE-SSSS`             | ≤0.40 |
//!
//! A phone word ("phone", "tel", "call", "mobile", …) in the window before the number adds
//! [`PHONE_CONTEXT_BOOST`](super::context::PHONE_CONTEXT_BOOST); the word "number" alone adds
//! less, and another kind of number named without a phone word ("account number", "ISBN")
//! lowers the score. Dates, year lists, decimals, SSN-shaped `3-2-4` groups, dotted quads,
//! arithmetic and prefixes of longer evenly grouped runs (account numbers, tables) are rejected
//! by shape. Extensions (`x123`, `ext. 123`)
//! are included in the span.

use super::cluster::{left_ok, num, right_ok, Cluster, MAX_GROUPS};
use super::context::{phone_boost, LazyContext, PHONE_CLASSES};
use super::{Candidate, PiiEntity};

const SCORE_PLUS_INTL: f32 = 0.8;
const SCORE_EXIT_GROUPED: f32 = 0.7;
const SCORE_EXIT_BARE: f32 = 0.4;
const SCORE_NANP: f32 = 0.8;
const SCORE_NANP_LOOSE: f32 = 0.6;
const SCORE_NANP_LOCAL: f32 = 0.4;
const SCORE_TRUNK_GROUPED: f32 = 0.55;
const SCORE_TRUNK_BARE: f32 = 0.35;
const SCORE_PAREN_AREA: f32 = 0.55;
const SCORE_GROUPED: f32 = 0.35;
/// Grouped with single-digit groups ("3333/2/6666"): arithmetic-like, weaker.
const SCORE_GROUPED_TINY: f32 = 0.25;
const SCORE_BARE: f32 = 0.3;
/// Six digits with a trunk 0 (short landlines): only with a phone word.
const SCORE_SHORT: f32 = 0.2;
const MAX_SCORE: f32 = 0.95;

/// Fewest digits of a phone number in general / with a trunk 0 and context.
const MIN_DIGITS: usize = 7;
const MIN_DIGITS_SHORT: usize = 6;
/// Fewest digits for a trunk-prefixed or parenthesised-area layout to count without context.
const MIN_DIGITS_TRUNK_GROUPED: usize = 8;
/// E.164 allows 15 digits; two more for an extension written with a dash.
const MAX_DIGITS_INTL: usize = 17;
/// Longest national number (without country code) accepted after a `+CC`.
const MAX_NSN: usize = 15;
/// Shortest national number after a country code.
const MIN_NSN: usize = 4;
/// Longest number without a country-code prefix.
const MAX_DIGITS_NATIONAL: usize = 13;
/// NANP national number: area code + exchange + subscriber.
const NANP_DIGITS: usize = 10;
/// Digits that end round quantities rather than the generic (non-trunk, non-international)
/// numbers that need context.
const ROUND_SUFFIX: &[u8] = b"00000";
/// Longest extension.
const MAX_EXT_DIGITS: usize = 6;
/// Group index up to which a parenthesised group (country / trunk / area code) may appear.
const MAX_PAREN_GROUP: usize = 2;

/// Two-digit country calling codes (ITU-T E.164). Codes starting with 1 or 7 are one digit;
/// every other code that is not listed here is taken as three digits.
const CC2: &[u8] = &[
    20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54, 55, 56,
    57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98,
];

/// National significant number lengths `(code, shortest, longest)` of the most-dialled countries
/// (ITU-T national numbering plans); other codes accept [`MIN_NSN`]..=[`MAX_NSN`]. One extra
/// digit is allowed when the national number keeps its trunk `0` (`+44 020 …`).
#[rustfmt::skip]
const NSN_LENGTHS: &[(u16, u8, u8)] = &[
    (20, 8, 10), (27, 9, 9), (30, 10, 10), (31, 9, 9), (32, 8, 9), (33, 9, 9), (34, 9, 9),
    (36, 8, 9), (39, 6, 11), (40, 9, 9), (41, 9, 9), (43, 4, 13), (44, 9, 10), (45, 8, 8),
    (46, 7, 10), (47, 8, 8), (48, 9, 9), (49, 6, 13), (51, 8, 9), (52, 10, 10), (54, 10, 11),
    (55, 10, 11), (56, 9, 9), (57, 8, 10), (58, 10, 10), (60, 8, 10), (61, 9, 9), (62, 8, 12),
    (63, 8, 10), (64, 8, 10), (65, 8, 8), (66, 8, 9), (81, 9, 10), (82, 8, 11), (84, 9, 10),
    (86, 8, 12), (90, 10, 10), (91, 10, 10), (92, 9, 10), (98, 10, 10), (234, 8, 10),
    (254, 9, 9), (351, 9, 9), (353, 7, 9), (358, 5, 12), (380, 9, 9), (420, 9, 9),
    (880, 10, 10), (966, 9, 9), (971, 8, 9), (972, 8, 9),
];

/// Length of the country calling code at the start of `d`, if `d` starts with a valid one.
fn country_code_len(d: &[u8]) -> Option<usize> {
    let first = *d.first()?;
    match first {
        b'1' | b'7' => Some(1),
        b'0' => None,
        _ => {
            let p2 = (first - b'0') * 10 + d.get(1)?.checked_sub(b'0')?;
            if CC2.contains(&p2) {
                Some(2)
            } else {
                d.get(2).map(|_| 3)
            }
        }
    }
}

/// Whether `d` (digits after `+` or an exit code) is a country code plus a national number of
/// plausible length.
fn intl_ok(d: &[u8]) -> bool {
    let Some(cc) = country_code_len(d) else {
        return false;
    };
    let nsn = d.len() - cc;
    if matches!(d.first(), Some(b'1' | b'7')) {
        return nsn == NANP_DIGITS;
    }
    let code = d
        .iter()
        .take(cc)
        .fold(0u16, |a, &c| a * 10 + u16::from(c - b'0'));
    let trunk = usize::from(d.get(cc) == Some(&b'0'));
    match NSN_LENGTHS.iter().find(|(c, _, _)| *c == code) {
        Some(&(_, lo, hi)) => (usize::from(lo)..=usize::from(hi) + trunk).contains(&nsn),
        None => (MIN_NSN..=MAX_NSN).contains(&nsn),
    }
}

/// What the separators and parentheses of a candidate look like.
#[derive(Default)]
struct Layout {
    dashes: usize,
    dots: usize,
    slashes: usize,
    /// Bit i set: group i is in parentheses.
    paren_groups: u16,
    /// Index of the group that is the trunk marker `(0)`, if any.
    trunk_group: Option<usize>,
}

/// Checks parentheses and separators of the first `k` groups.
fn layout(cl: &Cluster<'_>, k: usize, paren_prefix: bool) -> Option<Layout> {
    let g = cl.groups();
    let mut l = Layout::default();
    let mut open: Option<usize> = paren_prefix.then_some(0);
    for i in 1..k {
        let sep = cl.sep(i);
        let mut seen_other = false;
        for (j, &c) in sep.iter().enumerate() {
            match c {
                b')' => {
                    // Closes the group just before, possibly after spaces.
                    if open != Some(i - 1) || sep.get(..j)?.iter().any(|&x| x != b' ') {
                        return None;
                    }
                    if i - 1 > MAX_PAREN_GROUP {
                        return None;
                    }
                    l.paren_groups |= 1 << (i - 1);
                    open = None;
                }
                b'(' => {
                    // Opens the next group: only spaces may follow.
                    if open.is_some() || sep.get(j + 1..)?.iter().any(|&x| x != b' ') {
                        return None;
                    }
                    open = Some(i);
                }
                b'-' => {
                    l.dashes += 1;
                    seen_other = true;
                }
                b'.' => {
                    l.dots += 1;
                    seen_other = true;
                }
                b'/' => {
                    l.slashes += 1;
                    seen_other = true;
                }
                _ => {}
            }
        }
        // A separator may not mix punctuation with an opening parenthesis ("-(").
        if seen_other && open == Some(i) {
            return None;
        }
    }
    if open.is_some() {
        return None;
    }
    // "(0)" after the country code is the trunk prefix.
    l.trunk_group = (1..k.min(MAX_PAREN_GROUP + 1)).find(|&i| {
        l.paren_groups & (1 << i) != 0
            && g.get(i)
                .is_some_and(|x| cl.text.get(x.start..x.end) == Some(b"0".as_slice()))
    });
    Some(l)
}

/// Whether the groups read as a date (`16/04/2010`, `2010-04-16`) or a year range.
fn date_like(lens: &[usize], vals: &[u32], l: &Layout) -> bool {
    let punct = l.dashes + l.dots + l.slashes;
    match (lens, vals) {
        ([a, b, c], [x, y, _]) if punct == 2 && *a <= 2 && *b <= 2 && (*c == 2 || *c == 4) => {
            ((1..=31).contains(x) && (1..=12).contains(y))
                || ((1..=12).contains(x) && (1..=31).contains(y))
        }
        ([4, b, c], [x, y, z]) if punct == 2 && *b <= 2 && *c <= 2 => {
            (1000..=2999).contains(x) && (1..=12).contains(y) && (1..=31).contains(z)
        }
        ([4, 4], [x, y]) if punct == 1 && l.dots == 0 => {
            (1800..=2199).contains(x) && (1800..=2199).contains(y)
        }
        _ => false,
    }
}

/// End of an extension (`x123`, ` ext. 123`, ` X 123`) after `end`, if there is one.
fn extension_end(text: &[u8], end: usize) -> Option<usize> {
    let mut i = end;
    if text.get(i) == Some(&b' ') {
        i += 1;
    }
    let marker = if text
        .get(i..i + 3)
        .is_some_and(|m| m.eq_ignore_ascii_case(b"ext"))
    {
        3
    } else if matches!(text.get(i), Some(b'x' | b'X')) {
        1
    } else {
        return None;
    };
    i += marker;
    if text.get(i) == Some(&b'.') {
        i += 1;
    }
    if text.get(i) == Some(&b' ') {
        i += 1;
    }
    let ds = i;
    while text.get(i).is_some_and(u8::is_ascii_digit) && i - ds < MAX_EXT_DIGITS {
        i += 1;
    }
    (i > ds).then_some(i)
}

/// Whether the first `k` groups are only the start of a longer evenly grouped run (an
/// account number, a table row): the next group has the same separator and length as the
/// last one taken. Past the groups a truncated cluster holds, the run is taken to go on.
fn evenly_continued(cl: &Cluster<'_>, k: usize) -> bool {
    let g = cl.groups();
    match (g.get(k - 1), g.get(k)) {
        (Some(last), Some(next)) => {
            cl.sep_code(k) == cl.sep_code(k - 1) && next.len() == last.len()
        }
        _ => cl.truncated,
    }
}

/// Per-cluster values shared by every prefix the recognizer tries.
struct Prepared {
    /// The cluster's first digits (enough for the longest phone number and one more).
    digits: [u8; MAX_DIGITS_INTL + 1],
    /// `cum[k]`: number of digits in the first `k` groups.
    cum: [usize; MAX_GROUPS + 1],
    lens: [usize; MAX_GROUPS],
    vals: [u32; MAX_GROUPS],
}

impl Prepared {
    fn new(cl: &Cluster<'_>) -> Prepared {
        let mut p = Prepared {
            digits: [0; MAX_DIGITS_INTL + 1],
            cum: [0; MAX_GROUPS + 1],
            lens: [0; MAX_GROUPS],
            vals: [0; MAX_GROUPS],
        };
        let mut n = 0;
        for (i, grp) in cl.groups().iter().enumerate() {
            let src = cl.text.get(grp.start..grp.end).unwrap_or(&[]);
            for (slot, &c) in p.digits.iter_mut().skip(n).zip(src) {
                *slot = c;
            }
            n += src.len();
            if let (Some(c), Some(l), Some(v)) =
                (p.cum.get_mut(i + 1), p.lens.get_mut(i), p.vals.get_mut(i))
            {
                *c = n;
                *l = src.len();
                *v = num(src);
            }
        }
        p
    }
}

/// The phone number at the start of the cluster, if any.
pub(crate) fn classify(cl: &Cluster<'_>, ctx: &mut LazyContext<'_>) -> Option<Candidate> {
    let n = cl.groups().len();
    let prep = Prepared::new(cl);
    let variants: &[bool] = if cl.open_paren {
        &[true, false]
    } else {
        &[false]
    };
    for &paren_prefix in variants {
        let first = cl.groups().first()?.start;
        let start = if paren_prefix {
            cl.start
        } else if cl.plus {
            first.checked_sub(1)?
        } else {
            first
        };
        if !left_ok(cl.text, start) {
            continue;
        }
        for k in (1..=n).rev() {
            let nd = *prep.cum.get(k)?;
            if nd > MAX_DIGITS_INTL {
                continue;
            }
            if nd < MIN_DIGITS_SHORT {
                break;
            }
            if k >= 2 && evenly_continued(cl, k) {
                continue;
            }
            if let Some(c) = evaluate(cl, &prep, k, paren_prefix, start, ctx) {
                return Some(c);
            }
        }
    }
    None
}

/// Scores the first `k` groups of the cluster as a phone number starting at `start`.
fn evaluate(
    cl: &Cluster<'_>,
    prep: &Prepared,
    k: usize,
    paren_prefix: bool,
    start: usize,
    ctx: &mut LazyContext<'_>,
) -> Option<Candidate> {
    let text = cl.text;
    let g = cl.groups().get(..k)?;
    let plus = cl.plus;
    let nd = *prep.cum.get(k)?;
    let d = prep.digits.get(..nd)?;
    if d.iter().all(|&c| c == d[0]) {
        return None;
    }
    let l = layout(cl, k, paren_prefix)?;
    let lens = prep.lens.get(..k)?;
    let vals = prep.vals.get(..k)?;

    // Shapes that are something else.
    if l.dots > 0 {
        // A dotted layout uses dots throughout ("415.555.2671", "(415).555.2671"); a lone dot
        // or dots beside other separators are decimals ("0.2273 0.2222").
        let dotted = (1..k).all(|i| {
            let s = cl.sep(i);
            s.contains(&b'.') || s.iter().any(|&c| c == b'(' || c == b')')
        });
        if !dotted || l.dots < 2 || l.dashes + l.slashes > 0 {
            return None;
        }
    }
    if date_like(lens, vals, &l) {
        return None;
    }
    if k >= 2
        && lens
            .iter()
            .zip(vals)
            .all(|(&n, v)| n == 4 && (1800..=2199).contains(v))
    {
        return None; // a list of years
    }
    if lens == [3, 2, 4] {
        return None; // SSN / ITIN layout
    }
    if k == 4 && l.dots == 3 && lens.iter().all(|&n| n <= 3) {
        return None; // dotted quad
    }
    if lens == [3, 4] && d[0] == b'1' {
        return None; // a NANP exchange never starts with 1
    }

    let grouped = k > 1 || paren_prefix;
    let tiny_group = lens.iter().skip(1).any(|&n| n == 1) && l.trunk_group.is_none();
    let paren_first = l.paren_groups & 1 != 0 || paren_prefix;

    let (base, allows_ext) = 'tier: {
        if plus {
            // Digits after "+", without a "(0)" trunk marker.
            let mut intl = [0u8; MAX_DIGITS_INTL + 1];
            let mut m = 0;
            for (i, grp) in g.iter().enumerate() {
                if Some(i) == l.trunk_group {
                    continue;
                }
                let src = text.get(grp.start..grp.end)?;
                intl.get_mut(m..m + src.len())?.copy_from_slice(src);
                m += src.len();
            }
            if intl_ok(intl.get(..m)?) {
                break 'tier (SCORE_PLUS_INTL, true);
            }
        } else if d.starts_with(b"00") || d.starts_with(b"011") {
            let skip = if d.starts_with(b"00") { 2 } else { 3 };
            let rest = d.get(skip..)?;
            if intl_ok(rest) && !(skip == 3 && rest.first() == Some(&b'1')) {
                let s = if grouped {
                    SCORE_EXIT_GROUPED
                } else {
                    SCORE_EXIT_BARE
                };
                break 'tier (s, true);
            }
        }
        if !plus {
            if let Some(s) = nanp(d, lens, cl, k, &l) {
                break 'tier (s, true);
            }
        }
        if nd > MAX_DIGITS_NATIONAL && !plus {
            return None;
        }
        if !plus && d[0] == b'0' && d.get(1) != Some(&b'0') && nd >= MIN_DIGITS {
            if grouped && nd >= MIN_DIGITS_TRUNK_GROUPED {
                break 'tier (SCORE_TRUNK_GROUPED, true);
            }
            break 'tier (SCORE_TRUNK_BARE, false);
        }
        if paren_first && !plus && nd >= MIN_DIGITS_TRUNK_GROUPED {
            break 'tier (SCORE_PAREN_AREA, true);
        }
        if nd < MIN_DIGITS {
            if !plus && d[0] == b'0' && !grouped {
                break 'tier (SCORE_SHORT, false);
            }
            return None;
        }
        if nd > MAX_DIGITS_NATIONAL + usize::from(plus) * 2 {
            return None;
        }
        if d.ends_with(ROUND_SUFFIX) {
            return None; // a round quantity ("2500000 customers"), not a subscriber number
        }
        match (grouped, tiny_group) {
            (true, true) => (SCORE_GROUPED_TINY, false),
            (true, false) => (SCORE_GROUPED, false),
            (false, _) => (SCORE_BARE, false),
        }
    };

    let mut end = g.get(k - 1)?.end;
    if allows_ext {
        if let Some(e) = extension_end(text, end) {
            end = e;
        }
    }
    if !right_ok(text, end) {
        return None;
    }
    let score = (base + phone_boost(ctx.before(PHONE_CLASSES))).clamp(0.0, MAX_SCORE);
    Some(Candidate::new(PiiEntity::Phone, start, end, score))
}

/// Scores a North American layout, if the groups are one.
fn nanp(d: &[u8], lens: &[usize], cl: &Cluster<'_>, k: usize, l: &Layout) -> Option<f32> {
    // Leading country code "1" as its own group, or glued to the area code ("1444-555-1234").
    let (national, rest, first_sep_idx) = match lens {
        [1, r @ ..] if d.first() == Some(&b'1') => (d.get(1..)?, r, 2),
        [4, 3, 4] if d.first() == Some(&b'1') => (d.get(1..)?, &[3, 3, 4][..], 1),
        r => (d, r, 1),
    };
    match rest {
        [3, 3, 4] if national.len() == NANP_DIGITS => {
            // The exchange-subscriber separator must match the area-exchange one unless the
            // area code is in parentheses.
            let area_idx = first_sep_idx - 1;
            let area_paren = l.paren_groups & (1 << area_idx) != 0;
            let s1 = core_sep(cl.sep(first_sep_idx));
            let s2 = core_sep(cl.sep(first_sep_idx + 1));
            if !area_paren && s1 != s2 {
                return None;
            }
            let strict = (b'2'..=b'9').contains(national.first()?)
                && (b'2'..=b'9').contains(national.get(3)?);
            Some(if strict { SCORE_NANP } else { SCORE_NANP_LOOSE })
        }
        [3, 4] if k == 2 && (l.dashes == 1 || l.dots == 1) && l.paren_groups == 0 => {
            // Local seven-digit number; a lone dot is a decimal and was rejected before.
            (b'2'..=b'9')
                .contains(d.first()?)
                .then_some(SCORE_NANP_LOCAL)
        }
        _ => None,
    }
}

/// A separator without spaces and parentheses: its punctuation, or a space if it had none.
fn core_sep(sep: &[u8]) -> u8 {
    sep.iter()
        .copied()
        .find(|c| matches!(c, b'-' | b'.' | b'/'))
        .unwrap_or(b' ')
}

#[cfg(test)]
mod tests {
    use super::super::context::{ContextMatcher, TextContext};
    use super::*;

    /// First phone candidate in `text` (any score), scanning digit runs like the detector.
    fn find(text: &str) -> Option<(String, f32)> {
        let b = text.as_bytes();
        let m = ContextMatcher::new();
        let mut i = 0;
        while let Some(p) = b.get(i..)?.iter().position(u8::is_ascii_digit) {
            let d = i + p;
            let cl = Cluster::build(b, d);
            let tc = TextContext::new(&m, b);
            let mut ctx = LazyContext::new(&tc, cl.start, cl.start);
            if let Some(c) = classify(&cl, &mut ctx) {
                return Some((text[c.start..c.end].to_string(), c.score));
            }
            i = super::super::run_end(b, d);
        }
        None
    }

    #[test]
    fn reported_without_context() {
        let cases = [
            ("+1 415-555-2671", "+1 415-555-2671"),
            ("+44 20 7946 0958", "+44 20 7946 0958"),
            ("+4420 7946 0958", "+4420 7946 0958"),
            ("+33 (0)1 42 68 53 00", "+33 (0)1 42 68 53 00"),
            ("(+49) 30 901820", "(+49) 30 901820"),
            ("+81-3-1234-5678", "+81-3-1234-5678"),
            ("+919876543210", "+919876543210"),
            ("0049 30 901820", "0049 30 901820"),
            ("011 44 20 7946 0958", "011 44 20 7946 0958"),
            ("(415) 555-2671", "(415) 555-2671"),
            ("(415)555-2671", "(415)555-2671"),
            ("415-555-2671", "415-555-2671"),
            ("415.555.2671", "415.555.2671"),
            ("415 555 2671", "415 555 2671"),
            ("1-800-555-2671", "1-800-555-2671"),
            ("1 (800) 555-2671", "1 (800) 555-2671"),
            ("415-555-2671 x204", "415-555-2671 x204"),
            ("415.555.2671ext.9", "415.555.2671ext.9"),
            ("(123) 456-7890", "(123) 456-7890"),
            ("030 901820-12", "030 901820-12"),
            ("0176 2345 6789", "0176 2345 6789"),
            ("(0161) 496 0123", "(0161) 496 0123"),
            ("020-7946-0958", "020-7946-0958"),
            ("(11) 98765-4321", "(11) 98765-4321"),
            ("is(+45)12-34-56-78", "(+45)12-34-56-78"),
            ("org-(415) 555-2671", "(415) 555-2671"),
            ("052 5552606 074-7111234", "052 5552606"),
        ];
        for (text, want) in cases {
            let (got, score) = find(text).unwrap_or_else(|| panic!("no match in {text}"));
            assert_eq!(got, want, "{text}");
            assert!(score >= 0.5, "{text}: {score}");
        }
    }

    #[test]
    fn reported_with_context_only() {
        let cases = [
            ("phone: 98765432", "98765432"),
            ("Phone 987 654 321", "987 654 321"),
            ("call me on 12 34 56 78", "12 34 56 78"),
            ("tel. 555-2671", "555-2671"),
            ("my mobile is 13912345678", "13912345678"),
            ("contact number 5552671234", "5552671234"),
            ("landline phone: 012345", "012345"),
            ("phone 4444/3/5555", "4444/3/5555"),
        ];
        for (text, want) in cases {
            let (got, score) = find(text).unwrap_or_else(|| panic!("no match in {text}"));
            assert_eq!(got, want, "{text}");
            assert!(score >= 0.5, "{text}: {score}");
            // Without the context word the same digits stay below the default threshold.
            let bare = find(want).map_or(0.0, |(_, s)| s);
            assert!(bare < 0.5, "{want}: {bare}");
        }
    }

    #[test]
    fn not_phone_numbers() {
        let cases = [
            "16/04/2010",
            "2010-04-16",
            "16.04.2010",
            "2009/2010",
            "200.38294427",
            "-2208960000",
            "1,000,000",
            "3333*2=6666",
            "3333/2=6666",
            "1000-1=999",
            "45+31-339243873",
            "(45)+(31)-278394",
            "536-22-1234",
            "192.168.10.20",
            "#20020211895",
            "x5552671234",
            "5552671234y",
            "555-2671234%",
            "(456 (4)) 345",
            "(081)  342-86221d",
            "555555555",
            "phone: 112-3456",
            "account number 12345678",
            "my card number is 12345678",
            "1234 56",
            "http://example.com/status/87057367204202896",
            "12:30 and 14:45",
            "0039 31122627111-26737",
            "0.2273 0.2222 0.4000",
            "phone models 2019 2020 2021",
            "ISBN 0-306-40615-2",
            "the phone company has 2500000 customers",
            "the phone company has 2 500 000 customers",
            "XX00 0102 0000 0012 1002 9690",
        ];
        for text in cases {
            let got = find(text);
            assert!(
                got.as_ref().is_none_or(|(_, s)| *s < 0.5),
                "{text}: {got:?}"
            );
        }
    }

    #[test]
    fn country_codes() {
        assert_eq!(country_code_len(b"14155552671"), Some(1));
        assert_eq!(country_code_len(b"4420"), Some(2));
        assert_eq!(country_code_len(b"35312345"), Some(3));
        assert_eq!(country_code_len(b"0123"), None);
        assert_eq!(country_code_len(b"3"), None);
        assert!(intl_ok(b"14155552671"));
        assert!(!intl_ok(b"1415555267"));
        assert!(intl_ok(b"442079460958"));
        assert!(!intl_ok(b"44207"));
        // per-country lengths: France has nine digits after +33, Germany up to thirteen
        assert!(intl_ok(b"33142685300"));
        assert!(!intl_ok(b"331426853"));
        assert!(!intl_ok(b"3314268530012"));
        assert!(intl_ok(b"330142685300")); // a kept trunk 0
        assert!(intl_ok(b"4930901820"));
    }
}
