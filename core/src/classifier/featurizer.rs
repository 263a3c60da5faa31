//! The `phash-v1` hashed n-gram featurizer: text → model input ids, exactly as specified in
//! `models/featurizer/FEATURIZER.md` (the Python reference is `models/featurizer/featurizer.py`;
//! `test_vectors.json` pins its output and the tests below compare bit for bit).
//!
//! NFKC, per-character lowercase, tokens = runs of word characters (a fixed range rule, not
//! `char::is_alphanumeric`) cut every [`MAX_TOKEN_CHARS`] code points; features = unigrams,
//! bigrams and char 3–5-grams of `<token>`, each hashed with FNV-1a 32 over a tag byte and its
//! UTF-8; ids = `[B; BOS_COUNT]` then `hash mod B`. Texts are scored in windows of at most
//! `window` tokens with stride `stride`.

use unicode_normalization::UnicodeNormalization;

/// The featurizer version the shipped models were trained with.
pub const VERSION: &str = "phash-v1";
/// A run of word characters is cut into tokens of at most this many code points.
pub const MAX_TOKEN_CHARS: usize = 24;
/// The BOS id (= bucket count) is emitted this many times at the start of every window.
pub const BOS_COUNT: usize = 8;

const FNV_OFFSET: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;

/// Non-ASCII code points that separate words (inclusive ranges).
const SEPARATORS: [(u32, u32); 16] = [
    (0x0080, 0x00BF),
    (0x00D7, 0x00D7),
    (0x00F7, 0x00F7),
    (0x1680, 0x1680),
    (0x2000, 0x206F),
    (0x20A0, 0x20CF),
    (0x2190, 0x2BFF),
    (0x2E00, 0x2E7F),
    (0x3000, 0x303F),
    (0xFE00, 0xFE0F),
    (0xFE10, 0xFE1F),
    (0xFE30, 0xFE6F),
    (0xFEFF, 0xFEFF),
    (0xFFF0, 0xFFFF),
    (0x1F000, 0x1FBFF),
    (0xE0000, 0xE007F),
];

/// Section 1: NFKC, then each character lowercased on its own.
pub fn normalize(text: &str) -> String {
    // ASCII is NFKC-stable and lowercases byte for byte: skip the decomposition machinery.
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    text.nfkc().flat_map(char::to_lowercase).collect()
}

/// Section 2: is `c` (already normalised) a word character?
pub fn is_word_char(c: char) -> bool {
    let u = u32::from(c);
    if u < 0x80 {
        return c.is_ascii_digit() || c.is_ascii_lowercase();
    }
    !SEPARATORS.iter().any(|(lo, hi)| (*lo..=*hi).contains(&u))
}

/// Section 2: the tokens of normalised text.
pub fn tokens(normalized: &str) -> Vec<&str> {
    if normalized.is_ascii() {
        // Most text: read byte by byte, the same characters at the same offsets without
        // decoding UTF-8.
        let word = |(i, b): (usize, u8)| (i, b.is_ascii_digit() || b.is_ascii_lowercase());
        cut_tokens(normalized, normalized.bytes().enumerate().map(word))
    } else {
        let word = |(i, c): (usize, char)| (i, is_word_char(c));
        cut_tokens(normalized, normalized.char_indices().map(word))
    }
}

/// The tokens of `normalized` from its characters' offsets and whether each is a word
/// character.
fn cut_tokens(normalized: &str, offsets: impl Iterator<Item = (usize, bool)>) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut chars = 0;
    for (i, word) in offsets {
        if word {
            match start {
                Some(s) if chars == MAX_TOKEN_CHARS => {
                    out.push(&normalized[s..i]);
                    start = Some(i);
                    chars = 1;
                }
                Some(_) => chars += 1,
                None => {
                    start = Some(i);
                    chars = 1;
                }
            }
        } else if let Some(s) = start.take() {
            out.push(&normalized[s..i]);
            chars = 0;
        }
    }
    if let Some(s) = start {
        out.push(&normalized[s..]);
    }
    out
}

/// FNV-1a 32 over the concatenation of `parts`.
fn fnv1a(parts: &[&[u8]]) -> u32 {
    parts
        .iter()
        .fold(FNV_OFFSET, |h, part| fnv1a_extend(h, part))
}

/// FNV-1a 32 continued from the hash `h` of some bytes over `bytes`: the hash of the two
/// concatenated (FNV reads its input one byte at a time, so a prefix's hash is a state).
fn fnv1a_extend(h: u32, bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .fold(h, |h, b| (h ^ u32::from(*b)).wrapping_mul(FNV_PRIME))
}

/// Section 3's unigram feature hash of one token (the first hash [`hashes`] emits for it).
pub fn unigram_hash(token: &str) -> u32 {
    fnv1a(&[&[0x01], token.as_bytes()])
}

/// Section 3: the feature hashes of a token sequence, in emission order.
pub fn hashes(tokens: &[&str], out: &mut Vec<u32>) {
    let mut hasher = TokenHasher::default();
    let mut prev = None;
    for t in tokens {
        hasher.push(prev, t, out);
        prev = Some(*t);
    }
}

/// Section 3 for one token: its unigram, its bigram with `prev` (the token before it, if any),
/// then the char 3–5-grams of `<token>`. Keeps its scratch buffers between tokens.
#[derive(Default)]
struct TokenHasher {
    padded: Vec<u8>,
    bounds: Vec<usize>,
}

impl TokenHasher {
    fn push(&mut self, prev: Option<&str>, t: &str, out: &mut Vec<u32>) {
        out.push(unigram_hash(t));
        if let Some(prev) = prev {
            out.push(fnv1a(&[&[0x02], prev.as_bytes(), b" ", t.as_bytes()]));
        }
        let (padded, bounds) = (&mut self.padded, &mut self.bounds);
        padded.clear();
        padded.push(b'<');
        padded.extend_from_slice(t.as_bytes());
        padded.push(b'>');
        if t.is_ascii() {
            // One byte per character: the n-grams are byte windows of `<t>`.
            return ngram_hashes(padded.len(), |a, b| &padded[a..b], out);
        }
        // Char boundaries of `<t>` (code points), plus the end.
        bounds.clear();
        bounds.push(0);
        bounds.extend(t.char_indices().map(|(j, _)| j + 1));
        bounds.push(t.len() + 1);
        bounds.push(t.len() + 2);
        ngram_hashes(bounds.len() - 1, |a, b| &padded[bounds[a]..bounds[b]], out);
    }
}

/// Section 3's char 3–5-grams of a token, `<t>` having `chars` characters and `piece(a, b)`
/// giving the bytes of its characters `a..b`. Emitted as all 3-grams, then all 4-grams, then
/// all 5-grams, but hashed by start: the 3-gram at `j` hashed, its 4-gram and 5-gram continue
/// from that hash with one more character each (a third of the bytes hashing each n-gram on
/// its own reads).
fn ngram_hashes<'a>(chars: usize, piece: impl Fn(usize, usize) -> &'a [u8], out: &mut Vec<u32>) {
    let Some(threes) = chars.checked_sub(2).filter(|&n| n > 0) else {
        return;
    };
    let fours = threes - 1;
    let fives = fours.saturating_sub(1);
    let base = out.len();
    out.resize(base + threes + fours + fives, 0);
    let tag = fnv1a(&[&[0x03]]);
    for j in 0..threes {
        let h3 = fnv1a_extend(tag, piece(j, j + 3));
        out[base + j] = h3;
        if j < fours {
            let h4 = fnv1a_extend(h3, piece(j + 3, j + 4));
            out[base + threes + j] = h4;
            if j < fives {
                out[base + threes + fours + j] = fnv1a_extend(h4, piece(j + 4, j + 5));
            }
        }
    }
}

/// A text's features, computed once per slot and read by every model that scores it (the
/// models differ only in their bucket count, applied in [`Features::window_ids`]): its tokens,
/// and — on the first window read, so a slot over a model's token budget costs only its
/// tokenisation — their feature hashes, per token in [`hashes`] order: unigram, bigram with the
/// token before (emitted only when that token is in the same window), char 3–5-grams. The ids
/// of a window are exactly [`window_ids`] of its tokens (a test checks every window).
#[derive(Debug, Clone, Default)]
pub struct Features {
    normalized: String,
    /// Byte range of each token in `normalized`.
    tokens: Vec<(u32, u32)>,
    hashed: std::cell::OnceCell<Hashed>,
}

#[derive(Debug, Clone, Default)]
struct Hashed {
    /// Per token, the range of its hashes in `hashes`.
    spans: Vec<(u32, u32)>,
    hashes: Vec<u32>,
}

/// A byte offset as stored; a text of 4 GiB cannot reach here, so this saturates, never wraps.
fn offset(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Features {
    /// Normalise and tokenise `text` (sections 1–2).
    pub fn new(text: &str) -> Features {
        let normalized = normalize(text);
        // Each token is a subslice of `normalized`; keep its byte range.
        let base = normalized.as_ptr() as usize;
        let tokens = tokens(&normalized)
            .iter()
            .map(|t| {
                let start = (t.as_ptr() as usize).saturating_sub(base);
                (offset(start), offset(start + t.len()))
            })
            .collect();
        Features {
            normalized,
            tokens,
            hashed: std::cell::OnceCell::new(),
        }
    }

    /// How many tokens the text has.
    pub fn tokens(&self) -> usize {
        self.tokens.len()
    }

    /// Each token's unigram hash ([`unigram_hash`]), in order (hashing the text if no window
    /// was read yet).
    pub fn unigram_hashes(&self) -> impl Iterator<Item = u32> + '_ {
        let hashed = self.hashed();
        hashed
            .spans
            .iter()
            .map(|&(a, _)| hashed.hashes.get(a as usize).copied().unwrap_or(0))
    }

    fn token(&self, i: usize) -> &str {
        self.tokens
            .get(i)
            .and_then(|&(a, b)| self.normalized.get(a as usize..b as usize))
            .unwrap_or_default()
    }

    /// Section 3, once: every token's hashes.
    fn hashed(&self) -> &Hashed {
        self.hashed.get_or_init(|| {
            let mut hashes = Vec::with_capacity(self.tokens.len() * 16);
            let mut spans = Vec::with_capacity(self.tokens.len());
            let mut hasher = TokenHasher::default();
            for i in 0..self.tokens.len() {
                let start = hashes.len();
                let prev = i.checked_sub(1).map(|p| self.token(p));
                hasher.push(prev, self.token(i), &mut hashes);
                spans.push((offset(start), offset(hashes.len())));
            }
            Hashed { spans, hashes }
        })
    }

    /// Section 4 for the window of tokens `[start, end)`: `BOS_COUNT` BOS ids, then each hash
    /// mod `buckets`, into `out` (the tests' written form of what [`Self::window`] reads in
    /// place).
    #[cfg(test)]
    pub fn window_ids(&self, (start, end): (usize, usize), buckets: u32, out: &mut Vec<i64>) {
        out.clear();
        out.extend(std::iter::repeat_n(i64::from(buckets), BOS_COUNT));
        let hashed = self.hashed();
        let Some(spans) = hashed.spans.get(start..end) else {
            return;
        };
        let id = bucket_of(buckets);
        for (k, &(a, b)) in spans.iter().enumerate() {
            let Some(hs) = hashed.hashes.get(a as usize..b as usize) else {
                continue;
            };
            // The window's first token has no bigram with a token outside the window.
            match hs {
                [unigram, _bigram, rest @ ..] if k == 0 && start > 0 => {
                    out.push(id(*unigram));
                    out.extend(rest.iter().map(|h| id(*h)));
                }
                _ => out.extend(hs.iter().map(|h| id(*h))),
            }
        }
    }
}

/// `hash mod buckets` as an id: a mask for the shipped (power-of-two) bucket counts instead of a
/// division per id; the same value.
#[inline(always)]
fn bucket_of(buckets: u32) -> impl Fn(u32) -> i64 + Copy {
    let (pow2, mask) = (buckets.is_power_of_two(), buckets.wrapping_sub(1));
    move |h: u32| {
        i64::from(if pow2 {
            h & mask
        } else {
            h.checked_rem(buckets).unwrap_or(h)
        })
    }
}

/// One window's hashes where they lie, for reading its ids without writing them out
/// ([`Features::window`]): `head` then `rest`.
#[derive(Debug, Clone, Copy)]
pub struct WindowHashes<'a> {
    head: &'a [u32],
    rest: &'a [u32],
}

impl WindowHashes<'_> {
    /// How many ids the window has, the BOS ids included.
    pub fn len(&self) -> usize {
        BOS_COUNT + self.head.len() + self.rest.len()
    }

    /// Never: a window has its BOS ids.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// `f` on each of the window's ids, in order, as [`Features::window_ids`] writes them,
    /// until it fails: a loop per stretch, and for a power-of-two bucket count (the shipped
    /// models') a mask with no test per id.
    #[inline(always)]
    pub fn try_each_id<E>(
        &self,
        buckets: u32,
        mut f: impl FnMut(i64) -> Result<(), E>,
    ) -> Result<(), E> {
        for _ in 0..BOS_COUNT {
            f(i64::from(buckets))?;
        }
        if buckets.is_power_of_two() {
            let mask = buckets - 1;
            for &h in self.head {
                f(i64::from(h & mask))?;
            }
            for &h in self.rest {
                f(i64::from(h & mask))?;
            }
        } else {
            let id = bucket_of(buckets);
            for &h in self.head {
                f(id(h))?;
            }
            for &h in self.rest {
                f(id(h))?;
            }
        }
        Ok(())
    }
}

impl Features {
    /// The window of tokens `[start, end)` as [`Self::window_ids`] reads it, without a buffer:
    /// the tokens' hashes lie one after another, so a window's are one stretch of them, less
    /// its first token's bigram when that token is not the text's first.
    pub fn window(&self, (start, end): (usize, usize)) -> WindowHashes<'_> {
        let hashed = self.hashed();
        let none = WindowHashes {
            head: &[],
            rest: &[],
        };
        let Some(spans) = hashed.spans.get(start..end) else {
            return none;
        };
        let (Some(&(a, first_end)), Some(&(_, b))) = (spans.first(), spans.last()) else {
            return none;
        };
        let Some(all) = hashed.hashes.get(a as usize..b as usize) else {
            return none;
        };
        match all {
            [unigram, _bigram, rest @ ..] if start > 0 && first_end - a >= 2 => WindowHashes {
                head: std::slice::from_ref(unigram),
                rest,
            },
            _ => WindowHashes {
                head: &[],
                rest: all,
            },
        }
    }
}

/// Section 5: the `[start, end)` token windows of a text with `n` tokens.
pub fn windows(n: usize, window: usize, stride: usize) -> Vec<(usize, usize)> {
    if n <= window {
        return vec![(0, n)];
    }
    let mut out = Vec::new();
    let mut start = 0;
    while start + window <= n {
        out.push((start, start + window));
        start += stride.max(1);
    }
    if out.last().is_some_and(|(_, e)| *e < n) {
        out.push((n - window, n));
    }
    out
}

/// Section 4: the model input of one window: `BOS_COUNT` BOS ids, then each hash mod `buckets`
/// (a power of two).
pub fn window_ids(tokens: &[&str], buckets: u32, out: &mut Vec<i64>) {
    let mut hs = Vec::with_capacity(tokens.len() * 16);
    hashes(tokens, &mut hs);
    out.clear();
    out.extend(std::iter::repeat_n(i64::from(buckets), BOS_COUNT));
    out.extend(hs.into_iter().map(|h| i64::from(h % buckets)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    proptest::proptest! {
        #[test]
        fn the_ascii_shortcut_is_nfkc_lowercase(text in "[\\x00-\\x7f]{0,200}") {
            let full: String = text.nfkc().flat_map(char::to_lowercase).collect();
            proptest::prop_assert_eq!(normalize(&text), full);
        }
    }

    proptest::proptest! {
        /// ASCII text cut byte by byte gives the tokens the character reading gives.
        #[test]
        fn ascii_tokens_are_the_character_readings(text in "([a-z0-9]{1,30}|[ .,!_-]{1,3}){0,40}") {
            let general = cut_tokens(&text, text.char_indices().map(|(i, c)| (i, is_word_char(c))));
            proptest::prop_assert_eq!(tokens(&text), general);
        }
    }

    fn vectors() -> Value {
        let raw = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../models/featurizer/test_vectors.json"
        ))
        .unwrap();
        serde_json::from_str(&raw).unwrap()
    }

    #[test]
    fn check_values() {
        assert_eq!(fnv1a(&[b""]), 0x811c_9dc5);
        assert_eq!(fnv1a(&[b"a"]), 0xe40c_292c);
        assert_eq!(fnv1a(&[b"foobar"]), 0xbf9c_f968);
        assert_eq!(fnv1a(&[&[1], b"hello"]), 0xdd7c_9bec);
    }

    #[test]
    fn matches_the_reference_bit_for_bit() {
        let v = vectors();
        let buckets = v["buckets"].as_u64().unwrap() as u32;
        let cases = v["cases"].as_array().unwrap();
        assert!(cases.len() >= 200);
        let mut ids = Vec::new();
        for c in cases {
            let text = c["text"].as_str().unwrap();
            let norm = normalize(text);
            assert_eq!(
                norm,
                c["normalized"].as_str().unwrap(),
                "normalize {text:?}"
            );
            let toks = tokens(&norm);
            let want: Vec<&str> = c["tokens"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap())
                .collect();
            assert_eq!(toks, want, "tokens of {text:?}");
            let mut hs = Vec::new();
            hashes(&toks, &mut hs);
            let want: Vec<u32> = c["hashes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h.as_u64().unwrap() as u32)
                .collect();
            assert_eq!(hs, want, "hashes of {text:?}");
            window_ids(&toks, buckets, &mut ids);
            let want: Vec<i64> = c["ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h.as_i64().unwrap())
                .collect();
            assert_eq!(ids, want, "ids of {text:?}");
        }
    }

    proptest::proptest! {
        /// The shared features give every window exactly the ids section 4 defines, written out
        /// and read in place ([`Features::window`]: the first token's bigram left out past the
        /// text's first token), for power-of-two bucket counts and others.
        #[test]
        fn features_give_each_window_its_reference_ids(
            text in "([a-zA-Z]{1,9}|[0-9]{1,4}|ü|Ж|日本|🙂|[ .,!]){0,300}",
            window in 1usize..20,
            stride in 1usize..20,
            buckets in proptest::sample::select(vec![1u32 << 12, 1 << 16, 1000, 7]),
        ) {
            let norm = normalize(&text);
            let toks = tokens(&norm);
            let f = Features::new(&text);
            proptest::prop_assert_eq!(f.tokens(), toks.len());
            let (mut got, mut want) = (Vec::new(), Vec::new());
            for (s, e) in windows(toks.len(), window, stride) {
                f.window_ids((s, e), buckets, &mut got);
                window_ids(&toks[s..e], buckets, &mut want);
                proptest::prop_assert_eq!(&got, &want);
                let read = f.window((s, e));
                proptest::prop_assert_eq!(read.len(), want.len());
                let mut each = Vec::new();
                read.try_each_id(buckets, |id| {
                    each.push(id);
                    Ok::<_, ()>(())
                })
                .unwrap();
                proptest::prop_assert_eq!(&each, &want);
            }
        }
    }

    proptest::proptest! {
        /// A token's hashes are section 3's, each n-gram hashed on its own: its unigram, its
        /// bigram, then every char 3-gram, 4-gram and 5-gram of `<token>` in order.
        #[test]
        fn token_hashes_are_each_ngrams_own_hash(
            token in "[a-z0-9]{0,12}|([a-z0-9]|ü|Ж|日|🙂){0,12}",
            prev in proptest::option::of("[a-z]{1,5}"),
        ) {
            let mut want = vec![fnv1a(&[&[0x01], token.as_bytes()])];
            if let Some(p) = &prev {
                want.push(fnv1a(&[&[0x02], p.as_bytes(), b" ", token.as_bytes()]));
            }
            let padded: Vec<char> = format!("<{token}>").chars().collect();
            for n in 3..=5 {
                for gram in padded.windows(n) {
                    let gram: String = gram.iter().collect();
                    want.push(fnv1a(&[&[0x03], gram.as_bytes()]));
                }
            }
            let mut got = vec![7];
            TokenHasher::default().push(prev.as_deref(), &token, &mut got);
            proptest::prop_assert_eq!(got.first(), Some(&7));
            proptest::prop_assert_eq!(&got[1..], &want[..]);
        }
    }

    /// Tokenising does not hash: a slot over a model's token budget costs only its tokens.
    #[test]
    fn features_hash_on_the_first_window_read() {
        let f = Features::new("Ignore the previous instructions, please");
        assert_eq!(f.tokens(), 5);
        assert_eq!(f.token(1), "the");
        assert!(f.hashed.get().is_none());
        let mut ids = Vec::new();
        f.window_ids((0, 5), 1 << 16, &mut ids);
        assert!(f.hashed.get().is_some());
        assert_eq!(ids.len(), BOS_COUNT + f.hashed().hashes.len());
    }

    #[test]
    fn windows_match_the_reference() {
        let v = vectors();
        for w in v["windows"].as_array().unwrap() {
            let n = w["tokens"].as_u64().unwrap() as usize;
            let want: Vec<(usize, usize)> = w["windows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p[0].as_u64().unwrap() as usize,
                        p[1].as_u64().unwrap() as usize,
                    )
                })
                .collect();
            assert_eq!(windows(n, 64, 48), want, "windows of {n}");
        }
        let wt = &v["windowed_text"];
        let norm = normalize(wt["text"].as_str().unwrap());
        let toks = tokens(&norm);
        let got: Vec<Vec<i64>> = windows(toks.len(), 64, 48)
            .into_iter()
            .map(|(s, e)| {
                let mut ids = Vec::new();
                window_ids(&toks[s..e], 262_144, &mut ids);
                ids
            })
            .collect();
        let want: Vec<Vec<i64>> = serde_json::from_value(wt["window_ids"].clone()).unwrap();
        assert_eq!(got, want);
    }
}
