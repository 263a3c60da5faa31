//! IP addresses: IPv4 dotted quads and IPv6 (full, `::`-compressed, IPv4-suffixed).
//!
//! IPv4 comes out of the shared numeric cluster (four dot-separated groups, each 0–255, not a
//! longer dotted version string). IPv6 is looked for only where a digit run touches a `:` next
//! to hexadecimal characters, so ordinary text never pays for it; the candidate is then
//! validated group by group.
//!
//! Addresses that identify no one (unspecified, loopback, broadcast) score lower but are still
//! reported; dotted quads introduced by "version"/"build" are not. Short compressed forms in
//! brackets are code, not addresses (`a[1::2]` is a slice, `[fe80::1]` an address).

use super::cluster::{Cluster, Group};
use super::context::{class, LazyContext};
use super::{Candidate, PiiEntity};

const SCORE_V4: f32 = 0.85;
const SCORE_V6: f32 = 0.85;
/// Loopback, unspecified and broadcast addresses: addresses, but nobody's.
const SCORE_SPECIAL: f32 = 0.6;
/// A dotted quad introduced by "version", "build", …
const SCORE_VERSION: f32 = 0.1;
/// Longest textual IPv6 address (with an IPv4 suffix).
const MAX_V6_LEN: usize = 45;
/// Hextets in an address.
const V6_GROUPS: usize = 8;
/// A compressed address with fewer groups than this and no full-width first group (`12::1`)
/// must not sit in brackets, where it is a slice (`a[1::2]`).
const MIN_COMPRESSED_GROUPS: usize = 3;

fn octet(text: &[u8], g: &Group) -> Option<u8> {
    let d = text.get(g.start..g.end)?;
    if d.is_empty() || d.len() > 3 {
        return None;
    }
    let v = d
        .iter()
        .fold(0u32, |acc, &c| acc * 10 + u32::from(c - b'0'));
    u8::try_from(v).ok()
}

fn v4_left_ok(text: &[u8], start: usize) -> bool {
    let Some(p) = start.checked_sub(1) else {
        return true;
    };
    match text.get(p) {
        Some(&c) if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' => false,
        Some(b'-') => !p
            .checked_sub(1)
            .and_then(|q| text.get(q))
            .is_some_and(u8::is_ascii_digit),
        _ => true,
    }
}

fn v4_right_ok(text: &[u8], end: usize) -> bool {
    match text.get(end) {
        Some(&c) if c.is_ascii_alphanumeric() || c == b'_' => false,
        Some(b'.') => !text.get(end + 1).is_some_and(u8::is_ascii_alphanumeric),
        _ => true,
    }
}

fn v4_score(o: [u8; 4]) -> f32 {
    let not_personal = o == [0, 0, 0, 0] || o == [255, 255, 255, 255] || o[0] == 127 || o[0] == 0;
    if not_personal {
        SCORE_SPECIAL
    } else {
        SCORE_V4
    }
}

/// A dotted quad at the start of the cluster.
pub(crate) fn classify_v4(cl: &Cluster<'_>, ctx: &mut LazyContext<'_>) -> Option<Candidate> {
    if cl.plus {
        return None;
    }
    let g = cl.groups();
    if g.len() < 4 {
        return None;
    }
    for i in 1..4 {
        if cl.sep(i) != b"." {
            return None;
        }
    }
    // "1.2.3.4.5" is a version or an OID, not an address.
    if g.len() > 4 && cl.sep(4) == b"." {
        return None;
    }
    let mut o = [0u8; 4];
    for (slot, grp) in o.iter_mut().zip(g) {
        *slot = octet(cl.text, grp)?;
    }
    let (start, end) = (g.first()?.start, g.get(3)?.end);
    if !v4_left_ok(cl.text, start) || !v4_right_ok(cl.text, end) {
        return None;
    }
    let score = if ctx.before(class::VERSION) != 0 {
        SCORE_VERSION
    } else {
        v4_score(o)
    };
    Some(Candidate::new(PiiEntity::IpAddress, start, end, score))
}

fn is_hex_letter(c: u8) -> bool {
    matches!(c, b'a'..=b'f' | b'A'..=b'F')
}

/// Whether the digit run `[d, e)` touches a `:` through hexadecimal characters.
pub(crate) fn v6_triggers(b: &[u8], d: usize, e: usize) -> bool {
    let mut j = e;
    while b.get(j).copied().is_some_and(is_hex_letter) {
        j += 1;
    }
    if b.get(j) == Some(&b':') {
        return true;
    }
    let mut k = d;
    while k > 0 && b.get(k - 1).copied().is_some_and(is_hex_letter) {
        k -= 1;
    }
    k > 0 && b.get(k - 1) == Some(&b':')
}

fn is_v6_byte(c: u8) -> bool {
    c.is_ascii_hexdigit() || c == b':' || c == b'.'
}

/// Parses the IPv6 address around the digit at `d`. On failure returns the end of the
/// hexadecimal-and-colon token, before which no other digit run needs a new IPv6 attempt.
pub(crate) fn parse_v6(b: &[u8], d: usize) -> Result<Candidate, usize> {
    let mut token_end = d;
    while b.get(token_end).copied().is_some_and(is_v6_byte) {
        token_end += 1;
    }
    v6_at(b, d).ok_or(token_end)
}

fn v6_at(b: &[u8], d: usize) -> Option<Candidate> {
    let mut start = d;
    while start > 0
        && d - start < MAX_V6_LEN
        && b.get(start - 1)
            .is_some_and(|&c| c.is_ascii_hexdigit() || c == b':')
    {
        start -= 1;
    }
    let mut end = d;
    while end - start < MAX_V6_LEN && b.get(end).copied().is_some_and(is_v6_byte) {
        end += 1;
    }
    // Sentence punctuation after the address.
    while end > start && b.get(end - 1) == Some(&b'.') {
        end -= 1;
    }
    if end >= start + 2 && b.get(end - 1) == Some(&b':') && b.get(end - 2) != Some(&b':') {
        end -= 1;
    }
    let left_glued = start
        .checked_sub(1)
        .and_then(|p| b.get(p))
        .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b':' || c == b'.');
    let next_alnum = b.get(end + 1).is_some_and(u8::is_ascii_alphanumeric);
    let right_glued = match b.get(end) {
        Some(&c) if c.is_ascii_alphanumeric() || c == b'_' => true,
        Some(b':' | b'.') => next_alnum,
        _ => false,
    };
    if left_glued || right_glued {
        return None;
    }
    let (score, short) = v6_score(b.get(start..end)?)?;
    let bracketed =
        start.checked_sub(1).and_then(|p| b.get(p)) == Some(&b'[') || b.get(end) == Some(&b']');
    if short && bracketed {
        return None;
    }
    Some(Candidate::new(PiiEntity::IpAddress, start, end, score))
}

/// Validates an IPv6 address; returns its score and whether it is a short compressed form.
pub(crate) fn v6_score(s: &[u8]) -> Option<(f32, bool)> {
    let compressed = s.windows(2).position(|w| w == b"::");
    let (head, tail): (&[u8], &[u8]) = match compressed {
        Some(p) => (s.get(..p)?, s.get(p + 2..)?),
        None => (s, &[]),
    };
    if tail.windows(2).any(|w| w == b"::") {
        return None;
    }
    let mut groups = 0;
    let mut first_len = 0;
    for (side_idx, side) in [head, tail].iter().enumerate() {
        if side.is_empty() {
            continue;
        }
        let mut pieces = side.split(|&c| c == b':').enumerate().peekable();
        while let Some((i, p)) = pieces.next() {
            let is_last_of_addr =
                pieces.peek().is_none() && (side_idx == 1 || compressed.is_none());
            if is_last_of_addr && p.contains(&b'.') {
                if !dotted_quad(p) {
                    return None;
                }
                groups += 2;
            } else if p.is_empty() || p.len() > 4 || !p.iter().all(u8::is_ascii_hexdigit) {
                return None;
            } else {
                groups += 1;
            }
            if i == 0 && side_idx == 0 {
                first_len = p.len();
            }
        }
    }
    match compressed {
        None if groups == V6_GROUPS => Some((SCORE_V6, false)),
        None => None,
        Some(_) if groups >= V6_GROUPS => None,
        // "::1" and the like: loopback.
        Some(_) if groups <= 1 && head.is_empty() => Some((SCORE_SPECIAL, true)),
        Some(_) => Some((SCORE_V6, groups < MIN_COMPRESSED_GROUPS && first_len < 4)),
    }
}

fn dotted_quad(p: &[u8]) -> bool {
    let mut n = 0;
    for part in p.split(|&c| c == b'.') {
        n += 1;
        if part.is_empty() || part.len() > 3 || !part.iter().all(u8::is_ascii_digit) {
            return false;
        }
        let v = part
            .iter()
            .fold(0u32, |acc, &c| acc * 10 + u32::from(c - b'0'));
        if v > 255 {
            return false;
        }
    }
    n == 4
}

#[cfg(test)]
mod tests {
    use super::super::context::{ContextMatcher, TextContext};
    use super::*;

    fn v4(text: &str) -> Option<(String, f32)> {
        let b = text.as_bytes();
        let m = ContextMatcher::new();
        let d = b.iter().position(u8::is_ascii_digit)?;
        let cl = Cluster::build(b, d);
        let tc = TextContext::new(&m, b);
        let mut ctx = LazyContext::new(&tc, cl.start, cl.start);
        classify_v4(&cl, &mut ctx).map(|c| (text[c.start..c.end].to_string(), c.score))
    }

    fn v6(text: &str) -> Option<(String, f32)> {
        let b = text.as_bytes();
        let mut i = 0;
        while let Some(p) = b[i..].iter().position(u8::is_ascii_digit) {
            let d = i + p;
            let e = super::super::run_end(b, d);
            if v6_triggers(b, d, e) {
                return parse_v6(b, d)
                    .ok()
                    .map(|c| (text[c.start..c.end].to_string(), c.score));
            }
            i = e;
        }
        None
    }

    #[test]
    fn ipv4_table() {
        let hits: &[(&str, &str, f32)] = &[
            ("host 203.0.113.7 up", "203.0.113.7", SCORE_V4),
            ("ip:10.0.0.1", "10.0.0.1", SCORE_V4),
            ("http://192.168.1.20:8080/x", "192.168.1.20", SCORE_V4),
            ("net 10.1.0.0/16", "10.1.0.0", SCORE_V4),
            ("ends 8.8.4.4.", "8.8.4.4", SCORE_V4),
            ("127.0.0.1", "127.0.0.1", SCORE_SPECIAL),
            ("0.0.0.0", "0.0.0.0", SCORE_SPECIAL),
            ("255.255.255.255", "255.255.255.255", SCORE_SPECIAL),
            ("08.008.08.08", "08.008.08.08", SCORE_V4),
            ("version 1.2.3.4", "1.2.3.4", SCORE_VERSION),
        ];
        for (text, span, score) in hits {
            assert_eq!(v4(text), Some((span.to_string(), *score)), "{text}");
        }
        for text in [
            "256.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
            "v1.2.3.4",
            "1.2.3.4a",
            "1.2.3.4444",
            "1.2.3.4.com",
            "192.168.1-1",
            "1,2,3,4",
        ] {
            assert_eq!(v4(text), None, "{text}");
        }
    }

    #[test]
    fn ipv6_table() {
        let hits: &[(&str, &str, f32)] = &[
            (
                "addr 2001:0db8:85a3:0000:0000:8a2e:0370:7334 ok",
                "2001:0db8:85a3:0000:0000:8a2e:0370:7334",
                SCORE_V6,
            ),
            ("2001:db8::1", "2001:db8::1", SCORE_V6),
            ("via fe80::1.", "fe80::1", SCORE_V6),
            (
                "[2001:db8::8a2e:370:7334]:443",
                "2001:db8::8a2e:370:7334",
                SCORE_V6,
            ),
            ("::ffff:192.0.2.1", "::ffff:192.0.2.1", SCORE_V6),
            (
                "684D:1111:222:3333:4444:5555:6:77",
                "684D:1111:222:3333:4444:5555:6:77",
                SCORE_V6,
            ),
            ("2001:db8:0:0:0:0:2:1", "2001:db8:0:0:0:0:2:1", SCORE_V6),
            ("bind ::1", "::1", SCORE_SPECIAL),
            ("addr 12::1", "12::1", SCORE_V6),
            ("addr 1::", "1::", SCORE_V6),
            ("ABEF:452::FE10", "ABEF:452::FE10", SCORE_V6),
            ("::1:123:23", "::1:123:23", SCORE_V6),
            ("[2001:db8::1]", "2001:db8::1", SCORE_V6),
        ];
        for (text, span, score) in hits {
            assert_eq!(v6(text), Some((span.to_string(), *score)), "{text}");
        }
        for text in [
            "684D:1111:222:3333:4444:5555:77", // seven groups, no ::
            "12:30:45",
            "00:1A:2B:3C:4D:5E",
            "a[1::2]",
            "x[10::]",
            "1::2::3",
            "2001:db8::12345",
            "x2001:db8::1",
            "2001:db8::1g",
            "::ffff:300.0.2.1",
            "Tel:555-1234",
        ] {
            assert_eq!(v6(text), None, "{text}");
        }
    }
}
