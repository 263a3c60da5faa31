//! E-mail addresses.
//!
//! The scanner stops at every `@`; from there the local part is read leftwards and the domain
//! rightwards over the characters each may hold, so no regex runs over ordinary text. The
//! domain must have at least two labels of letters, digits and inner hyphens, and end in an
//! alphabetic top-level domain of two or more letters (or an IDNA `xn--` label); a bare IP
//! literal, an underscore in the host, or a one-letter TLD is not an address. Retina image
//! names (`logo@2x.png`) are excluded by shape.

use super::{Candidate, PiiEntity};

const SCORE: f32 = 0.95;
/// RFC 5321 limits.
const MAX_LOCAL: usize = 64;
const MAX_DOMAIN: usize = 253;
const MAX_LABEL: usize = 63;
/// Image extensions that follow `@2x`-style scale suffixes.
const IMAGE_EXTENSIONS: [&[u8]; 6] = [b"png", b"jpg", b"jpeg", b"gif", b"svg", b"webp"];

fn is_local_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'%' | b'+' | b'-' | b'\'')
}

fn is_domain_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'.' || c == b'-'
}

/// The address around the `@` at `at`, if there is one.
pub(crate) fn at(b: &[u8], at: usize) -> Option<Candidate> {
    // Local part, leftwards.
    let mut start = at;
    while start > 0
        && at - start < MAX_LOCAL
        && b.get(start - 1).copied().is_some_and(is_local_byte)
    {
        start -= 1;
    }
    // Leading punctuation is not part of the address ("'name@x.org", "-name@x.org").
    while start < at && !b.get(start).is_some_and(u8::is_ascii_alphanumeric) {
        start += 1;
    }
    let local = b.get(start..at)?;
    if local.is_empty() || local.ends_with(b".") || local.windows(2).any(|w| w == b"..") {
        return None;
    }

    // Domain, rightwards.
    let dstart = at + 1;
    let mut end = dstart;
    while end - dstart < MAX_DOMAIN && b.get(end).copied().is_some_and(is_domain_byte) {
        end += 1;
    }
    while end > dstart && matches!(b.get(end - 1), Some(b'.' | b'-')) {
        end -= 1;
    }
    // An underscore glued to the host makes it something else (`new_type.com`).
    if b.get(end) == Some(&b'_') {
        return None;
    }
    let domain = b.get(dstart..end)?;
    if !domain_ok(domain) {
        return None;
    }
    Some(Candidate::new(PiiEntity::Email, start, end, SCORE))
}

fn domain_ok(domain: &[u8]) -> bool {
    let mut labels = 0;
    let mut last: &[u8] = &[];
    let mut first: &[u8] = &[];
    for label in domain.split(|&c| c == b'.') {
        if label.is_empty()
            || label.len() > MAX_LABEL
            || label.starts_with(b"-")
            || label.ends_with(b"-")
        {
            return false;
        }
        if labels == 0 {
            first = label;
        }
        labels += 1;
        last = label;
    }
    if labels < 2 {
        return false;
    }
    let tld_ok = (last.len() >= 2 && last.iter().all(u8::is_ascii_alphabetic))
        || (last.len() > 4
            && last
                .get(..4)
                .is_some_and(|p| p.eq_ignore_ascii_case(b"xn--")));
    if !tld_ok {
        return false;
    }
    // "icon@2x.png": a scale suffix and an image extension.
    let scale = first.len() >= 2
        && first.ends_with(b"x")
        && first
            .get(..first.len() - 1)
            .is_some_and(|n| n.iter().all(u8::is_ascii_digit));
    !(labels == 2
        && scale
        && IMAGE_EXTENSIONS
            .iter()
            .any(|e| last.eq_ignore_ascii_case(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find_all(text: &str) -> Vec<String> {
        let b = text.as_bytes();
        let mut out = Vec::new();
        for (i, &c) in b.iter().enumerate() {
            if c == b'@' {
                if let Some(m) = at(b, i) {
                    out.push(text[m.start..m.end].to_string());
                }
            }
        }
        out
    }

    #[test]
    fn table() {
        let cases: &[(&str, &[&str])] = &[
            (
                "write to jane.doe@example.org today",
                &["jane.doe@example.org"],
            ),
            (
                "a_b.c+tag@mail.example.co.uk.",
                &["a_b.c+tag@mail.example.co.uk"],
            ),
            (
                "x-y@sub-domain.example.com",
                &["x-y@sub-domain.example.com"],
            ),
            ("42@numbers.example", &["42@numbers.example"]),
            ("Name@Example.COM", &["Name@Example.COM"]),
            ("u@xn--80ak6aa92e.com", &["u@xn--80ak6aa92e.com"]),
            ("u@xn--d1acufc.xn--p1ai", &["u@xn--d1acufc.xn--p1ai"]),
            ("联系test@example.com谢谢", &["test@example.com"]),
            ("<bob@example.net>", &["bob@example.net"]),
            (
                "(alice@example.io), carol@example.io",
                &["alice@example.io", "carol@example.io"],
            ),
            // Not addresses.
            ("hello @mention there", &[]),
            ("user@localhost", &[]),
            ("user@example.c", &[]),
            ("user@example.", &[]),
            ("user@new_host.com", &[]),
            ("user@192.0.2.1", &[]),
            ("user@-example.com", &[]),
            ("a..b@example.com", &[]),
            ("logo@2x.png", &[]),
            ("@decorator", &[]),
            ("npm i pkg@1.2.3", &[]),
            ("@", &[]),
        ];
        for (text, want) in cases {
            assert_eq!(find_all(text), *want, "{text}");
        }
    }
}
