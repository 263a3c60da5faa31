//! Small, allocation-free predicates shared by the structured rules and the generic heuristics:
//! Shannon entropy, placeholder recognition, base64 decoding for header checks.

/// A run of this many identical characters marks a placeholder (`AKIAXXXXXXXXXXXX`, `0000…`).
const MAX_SAME_CHAR_RUN: usize = 10;
/// A run of this many `x`/`X`/`*`/`#` characters marks a placeholder (`sk_live_xxxx`).
const MAX_MASK_CHAR_RUN: usize = 4;
/// A run of this many consecutive alphabet letters (`abcdefgh`) marks a made-up value.
const MAX_ALPHABET_RUN: usize = 8;
/// A stretch this long that repeats with a short period (`123123…`, `abab…`) marks a made-up value.
const MAX_PERIODIC_RUN: usize = 12;
/// Longest period looked for (base64 of a repeated byte has period 4 and occurs in real
/// structured tokens, so it is not looked for).
const MAX_PERIOD: usize = 3;
/// Tokens at least this long must use at least [`MIN_DISTINCT_CHARS`] distinct characters.
const DISTINCT_CHECK_MIN_LEN: usize = 16;
const MIN_DISTINCT_CHARS: usize = 6;
/// A Discord token's first segment decodes to a snowflake id: at least this many bytes, mostly
/// (this many tenths) digits.
const MIN_SNOWFLAKE_BYTES: usize = 14;
const MIN_SNOWFLAKE_DIGIT_TENTHS: usize = 6;
/// Digits of the user id at the start of a decoded Atlassian PAT.
const ATLASSIAN_ID_LEN: usize = 12;

/// Shannon entropy in bits per byte.
pub(super) fn shannon_entropy(s: &str) -> f32 {
    let bytes = s.as_bytes();
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[b as usize] += 1;
    }
    let n = bytes.len() as f32;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f32 / n;
            -p * p.log2()
        })
        .sum()
}

/// Number of distinct bytes in `s`.
pub(super) fn distinct_bytes(s: &str) -> usize {
    let mut seen = [false; 256];
    let mut n = 0;
    for &b in s.as_bytes() {
        if !seen[b as usize] {
            seen[b as usize] = true;
            n += 1;
        }
    }
    n
}

/// True if `s` looks like a stand-in rather than a real credential: masked (`xxxx`, `****`),
/// one character repeated, an alphabet run, too few distinct characters, or marked as an example.
pub(super) fn is_placeholder_token(s: &str) -> bool {
    let b = s.as_bytes();
    let (mut run, mut mask_run, mut alpha_run) = (1usize, 0usize, 1usize);
    for (i, &c) in b.iter().enumerate() {
        if matches!(c, b'x' | b'X' | b'*' | b'#') {
            mask_run += 1;
            if mask_run >= MAX_MASK_CHAR_RUN {
                return true;
            }
        } else {
            mask_run = 0;
        }
        if i > 0 {
            let p = b[i - 1];
            run = if p == c { run + 1 } else { 1 };
            alpha_run = if c.is_ascii_alphabetic() && p.is_ascii_alphabetic() && c == p + 1 {
                alpha_run + 1
            } else {
                1
            };
            if run >= MAX_SAME_CHAR_RUN || alpha_run >= MAX_ALPHABET_RUN {
                return true;
            }
        }
    }
    if b.len() >= DISTINCT_CHECK_MIN_LEN && distinct_bytes(s) < MIN_DISTINCT_CHARS {
        return true;
    }
    s.contains("EXAMPLE") || periodic(b)
}

/// True if `b` holds a stretch of [`MAX_PERIODIC_RUN`] bytes repeating with a period of 2 to
/// [`MAX_PERIOD`] (a random token has one with probability ~62^-12).
fn periodic(b: &[u8]) -> bool {
    (2..=MAX_PERIOD).any(|p| {
        let mut run = 0;
        for i in p..b.len() {
            run = if b[i] == b[i - p] { run + 1 } else { 0 };
            if run + p >= MAX_PERIODIC_RUN {
                return true;
            }
        }
        false
    })
}

/// Decode (standard or URL-safe) base64 into `out`, ignoring padding; stops at the first byte
/// outside the alphabet. Returns the number of bytes written.
pub(super) fn base64_decode_prefix(s: &str, out: &mut [u8]) -> usize {
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    let mut n = 0;
    for &c in s.as_bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => break,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            let Some(slot) = out.get_mut(n) else { break };
            *slot = ((acc >> bits) & 0xFF) as u8;
            n += 1;
        }
    }
    n
}

/// True if the first JWT segment decodes to a JSON object header naming an algorithm or type.
pub(super) fn jwt_header_ok(token: &str) -> bool {
    let head = token.split('.').next().unwrap_or("");
    let mut buf = [0u8; 96];
    let n = base64_decode_prefix(head, &mut buf);
    let dec = &buf[..n];
    let Some(first) = dec.iter().position(|c| !c.is_ascii_whitespace()) else {
        return false;
    };
    if dec.get(first) != Some(&b'{') {
        return false;
    }
    // a header decoded whole must be a closed object (a truncated one is a near miss)
    let whole = head.len() * 3 / 4 < buf.len();
    if whole && dec.iter().rev().find(|c| !c.is_ascii_whitespace()) != Some(&b'}') {
        return false;
    }
    [
        &b"\"alg\""[..],
        b"\"typ\"",
        b"\"kid\"",
        b"\"enc\"",
        b"\"x5t\"",
    ]
    .iter()
    .any(|k| dec.windows(k.len()).any(|w| w == *k))
}

/// True if the first dot-separated segment decodes to an all-digit id (Discord user snowflake),
/// or, failing that, every segment looks random (digits and mixed case in the id, mixed case in
/// the HMAC): tokens retyped for tests rarely keep a decodable id.
pub(super) fn discord_id_ok(token: &str) -> bool {
    let head = token.split('.').next().unwrap_or("");
    let hmac = token.rsplit('.').next().unwrap_or("");
    if head.bytes().any(|c| c.is_ascii_digit())
        && mixed_case(head)
        && mixed_case(hmac)
        && !is_placeholder_token(token)
    {
        return true;
    }
    let mut buf = [0u8; 32];
    let n = base64_decode_prefix(head, &mut buf);
    let digits = buf[..n].iter().filter(|c| c.is_ascii_digit()).count();
    n >= MIN_SNOWFLAKE_BYTES
        && buf[0].is_ascii_digit()
        && digits * 10 >= n * MIN_SNOWFLAKE_DIGIT_TENTHS
}

/// True if an Atlassian PAT decodes to `<12 digits>:`.
pub(super) fn atlassian_pat_ok(token: &str) -> bool {
    let mut buf = [0u8; 16];
    let n = base64_decode_prefix(token, &mut buf);
    n > ATLASSIAN_ID_LEN
        && buf[..ATLASSIAN_ID_LEN].iter().all(u8::is_ascii_digit)
        && buf[ATLASSIAN_ID_LEN] == b':'
}

/// True if a base64 blob decodes to a PEM header of a private key.
pub(super) fn base64_pem_private(token: &str) -> bool {
    let mut buf = [0u8; 64];
    let n = base64_decode_prefix(token, &mut buf);
    let dec = &buf[..n];
    dec.windows(7).any(|w| w == b"PRIVATE")
}

/// Random characters before the checksum in GitHub / npm tokens, and the checksum's length.
const CRC_BODY_LEN: usize = 30;
const CRC_SUM_LEN: usize = 6;
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// CRC-32 (IEEE 802.3, reflected polynomial `0xEDB88320`), bitwise: tokens are short, and a
/// table would cost 1 KiB of the filter for nothing.
pub(super) fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

/// True if `body` is 30 characters followed by the zero-padded base62 CRC-32 of them.
pub(super) fn crc32_base62_ok(body: &str) -> bool {
    let b = body.as_bytes();
    if b.len() != CRC_BODY_LEN + CRC_SUM_LEN {
        return false;
    }
    let (data, sum) = b.split_at(CRC_BODY_LEN);
    let mut n = crc32(data);
    let mut want = [b'0'; CRC_SUM_LEN];
    for slot in want.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    want == sum
}

/// True if `s` has both ASCII upper- and lower-case letters.
pub(super) fn mixed_case(s: &str) -> bool {
    s.bytes().any(|c| c.is_ascii_uppercase()) && s.bytes().any(|c| c.is_ascii_lowercase())
}

/// Largest char boundary `<= i` (clamped to the text length).
pub(super) fn floor_boundary(text: &str, i: usize) -> usize {
    let mut i = i.min(text.len());
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_bounds() {
        assert_eq!(shannon_entropy(""), 0.0);
        assert_eq!(shannon_entropy("aaaa"), 0.0);
        assert!((shannon_entropy("abcd") - 2.0).abs() < 1e-5);
    }

    #[test]
    fn placeholders() {
        for p in [
            "abcXXXXdef",
            "Q0000000000000",
            "abcdefghijk12",
            "aaaabbbbaaaabbbbab",
            "kEXAMPLEk",
            "sk_****",
            "GR1348941123123123123123",
            "abababababab",
        ] {
            assert!(is_placeholder_token(p), "{p}");
        }
        for t in ["9fQ2kLmZp4Rt7vXw", "Zf3D0LXCM3EIMbgJ", "d2LkV78zLx!t"] {
            assert!(!is_placeholder_token(t), "{t}");
        }
    }

    #[test]
    fn base64_and_headers() {
        let mut buf = [0u8; 16];
        let n = base64_decode_prefix("aGVsbG8", &mut buf);
        assert_eq!(&buf[..n], b"hello");
        // {"alg":"none"} / {"sub":"1"}
        assert!(jwt_header_ok("eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."));
        assert!(!jwt_header_ok("eyJub3QiOiJqd3QifQ.eyJzdWIiOiIxIn0."));
        // base64 of "112233445566778899"
        assert!(discord_id_ok("MTEyMjMzNDQ1NTY2Nzc4ODk5.abcdef.x"));
        assert!(!discord_id_ok("aGVsbG8gd29ybGQgaGVsbG8.abcdef.x"));
        // a truncated header is not a JWT
        assert!(!jwt_header_ok(
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ.eyJzdWIiOiIxIn0."
        ));
        assert!(jwt_header_ok(
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0."
        ));
    }

    #[test]
    fn crc32_checksums() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
        // 30 made-up characters and their checksum (computed with Python's zlib.crc32).
        let good = "Zq3TfL9xWv2KpR7mNc4BdH8sJy6GaE4O4lEy";
        assert!(crc32_base62_ok(good));
        assert!(!crc32_base62_ok("Zq3TfL9xWv2KpR7mNc4BdH8sJy6GaE4O4lEz"));
        assert!(!crc32_base62_ok(&good[..35]));
    }

    #[test]
    fn boundaries() {
        let s = "aé";
        assert_eq!(floor_boundary(s, 2), 1);
        assert_eq!(floor_boundary(s, 99), 3);
    }
}
