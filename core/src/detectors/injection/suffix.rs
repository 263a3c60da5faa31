//! Optimised-suffix jailbreaks: a hashed character n-gram linear model over windows.
//!
//! Gradient- and search-based jailbreaks (GCG, random search and their kin) append to a request
//! a string of vocabulary pieces picked for what they make a model do: word pieces glued without
//! spaces, capitals inside words, stray brackets and markup. The rules and the tier-2 models
//! read words and let such a suffix pass. This model reads characters, case and punctuation
//! included: trained by `models/suffix/train.py` (model card beside it), embedded here as a table
//! of int8 weights, 64 KB.
//!
//! Featurizer, the twin of `train.py`'s (its `reference_outputs.json` pins both): the text's
//! code points (a text shorter than one window is not scored); windows of `window` code points
//! every `stride`, the last one ending at the text's end; every n-gram of 1 to 4 code points
//! inside a window, hashed with FNV-1a 32 over its UTF-8 bytes into `buckets`; window logit =
//! bias + scale · Σ weights / norm, where norm is √(Σ over the window's distinct characters of
//! count² + its number of 2..4-grams). A window at `threshold` or above is reported. Only the
//! last [`TAIL`] code points of a text are read (the attacks append their suffix): four table
//! reads and FNV steps per code point for the n-grams (prefix sums make each window O(1)) and a
//! sliding character count for the norms, on the stack, so a text of any length costs the same
//! few microseconds. A tail of ASCII bytes (most text) is read as bytes, with no decoding.

use std::sync::OnceLock;

use serde::Deserialize;

const TABLE: &[u8] = include_bytes!("../../../../models/suffix/table.i8");
/// The table's length, a power of two: a masked hash indexes it without a bounds check.
const BUCKETS: usize = TABLE.len();
const _: () = assert!(BUCKETS.is_power_of_two());
const FNV_OFFSET: u32 = 0x811C_9DC5;
const FNV_PRIME: u32 = 0x0100_0193;
const MANIFEST: &str = include_str!("../../../../models/suffix/manifest.json");
const MAX_N: usize = 4;
/// How many code points at the end of a text are read (`models/suffix/train.py`'s `TAIL`).
pub(super) const TAIL: usize = 256;

#[derive(Debug, Deserialize)]
struct Manifest {
    featurizer: Featurizer,
    weights: Weights,
    threshold: f64,
}

#[derive(Debug, Deserialize)]
struct Featurizer {
    ngrams: [usize; 2],
    buckets: usize,
    window: usize,
    stride: usize,
    tail: usize,
}

#[derive(Debug, Deserialize)]
struct Weights {
    scale: f64,
    bias: f64,
}

/// The embedded model.
#[derive(Debug)]
pub(super) struct SuffixModel {
    window: usize,
    stride: usize,
    scale: f64,
    bias: f64,
    threshold: f64,
}

/// The embedded model, parsed once with the injection heuristics' built-in tables, at policy
/// compilation (`None` if the manifest does not match the table: the tables, and so the
/// policy, then fail to build; a test rules it out).
pub(super) fn model() -> Option<&'static SuffixModel> {
    static MODEL: OnceLock<Option<SuffixModel>> = OnceLock::new();
    MODEL.get_or_init(SuffixModel::load).as_ref()
}

impl SuffixModel {
    fn load() -> Option<SuffixModel> {
        let m: Manifest = serde_json::from_str(MANIFEST).ok()?;
        let f = &m.featurizer;
        let valid = f.ngrams == [1, MAX_N]
            && f.buckets == BUCKETS
            && (MAX_N..=TAIL).contains(&f.window)
            && (1..=f.window).contains(&f.stride)
            && f.tail == TAIL;
        valid.then_some(SuffixModel {
            window: f.window,
            stride: f.stride,
            scale: m.weights.scale,
            bias: m.weights.bias,
            threshold: m.threshold,
        })
    }

    /// The byte span of the highest-scoring window at or above the threshold, if any.
    pub(super) fn find(&self, text: &str) -> Option<(usize, usize)> {
        let (logit, span) = self.best_window(text)?;
        (logit >= self.threshold).then_some(span)
    }

    /// The highest window logit of the end of `text` (its last [`TAIL`] code points) and that
    /// window's byte span. Optimised suffixes are appended, so the end is what is read; that
    /// bounds the cost to a few microseconds per text whatever its length. A text shorter than
    /// one window is not scored (`None`): the suffixes are longer, and a few words carry too
    /// few n-grams to judge.
    pub(super) fn best_window(&self, text: &str) -> Option<(f64, (usize, usize))> {
        let from = text.len().saturating_sub(TAIL);
        match text.as_bytes().get(from..) {
            // The common case: the last TAIL bytes are ASCII, so they are the last TAIL code
            // points, one byte each, and the n-grams are hashed straight from the bytes.
            Some(tail) if tail.is_ascii() => self.best_ascii(tail, from),
            _ => self.best_general(text),
        }
    }

    /// [`Self::best_window`] for a tail of ASCII bytes that starts at byte `base` of the text.
    fn best_ascii(&self, tail: &[u8], base: usize) -> Option<(f64, (usize, usize))> {
        if tail.len() < self.window {
            return None;
        }
        let mut pos = [[0i32; MAX_N]; TAIL + 1];
        prefix_sums(tail, fnv, &mut pos);
        self.best_of_windows(
            &pos,
            tail.len(),
            |i| tail.get(i).map(|&b| char::from(b)),
            |i| base + i,
        )
    }

    /// [`Self::best_window`] for any text: the last [`TAIL`] code points, found from the end.
    fn best_general(&self, text: &str) -> Option<(f64, (usize, usize))> {
        let base = text
            .char_indices()
            .rev()
            .nth(TAIL - 1)
            .map_or(0, |(i, _)| i);
        let tail = text.get(base..)?;
        // The tail's code points and their byte offsets in it (at most 4 x TAIL).
        let mut chars = [('\0', 0u16); TAIL];
        let mut len = 0;
        for ((at, c), slot) in tail.char_indices().zip(chars.iter_mut()) {
            *slot = (c, u16::try_from(at).unwrap_or(u16::MAX));
            len += 1;
        }
        if len < self.window {
            return None;
        }
        let chars = chars.get(..len)?;
        let mut pos = [[0i32; MAX_N]; TAIL + 1];
        prefix_sums(chars, |h, (c, _)| fnv_char(h, c), &mut pos);
        self.best_of_windows(
            &pos,
            len,
            |i| chars.get(i).map(|c| c.0),
            |i| chars.get(i).map_or(text.len(), |c| base + usize::from(c.1)),
        )
    }

    /// The best of the windows over a tail of `len` code points (at least one window long):
    /// `pos` holds the n-gram weights' prefix sums ([`prefix_sums`]), `char_at` gives code
    /// point `i` and `offset` the text's byte offset of code point `i` (`len`: the text's end).
    fn best_of_windows(
        &self,
        pos: &[[i32; MAX_N]; TAIL + 1],
        len: usize,
        char_at: impl Fn(usize) -> Option<char>,
        offset: impl Fn(usize) -> usize,
    ) -> Option<(f64, (usize, usize))> {
        let mut counts = CharCounts::default();
        let (mut lo, mut hi) = (0, 0);
        let mut best: Option<(f64, (usize, usize))> = None;
        let last = len.checked_sub(self.window)?;
        let starts = (0..last).step_by(self.stride).chain(std::iter::once(last));
        for (a, b) in starts.map(|a| (a, a + self.window)) {
            for c in (hi..b).filter_map(&char_at) {
                counts.add(c);
            }
            hi = hi.max(b);
            for c in (lo..a).filter_map(&char_at) {
                counts.remove(c);
            }
            lo = lo.max(a);
            let mut total = 0i64;
            for n in 1..=MAX_N {
                let (Some(end), Some(start)) = (pos.get(b + 1 - n), pos.get(a)) else {
                    continue;
                };
                total += i64::from(end[n - 1]) - i64::from(start[n - 1]);
            }
            let higher: usize = (2..=MAX_N).map(|n| (b - a + 1).saturating_sub(n)).sum();
            let norm = ((counts.sum_sq() + higher) as f64).sqrt().max(1.0);
            let logit = self.bias + self.scale * total as f64 / norm;
            if best.is_none_or(|(l, _)| logit > l) {
                best = Some((logit, (offset(a), offset(b))));
            }
        }
        best
    }
}

/// The weight of the n-gram whose FNV-1a hash is `hash`.
#[inline(always)]
fn weight(hash: u32) -> i32 {
    i32::from(TABLE[hash as usize & (BUCKETS - 1)] as i8)
}

/// One FNV-1a 32 step over a byte.
#[inline(always)]
fn fnv(h: u32, b: u8) -> u32 {
    (h ^ u32::from(b)).wrapping_mul(FNV_PRIME)
}

/// One FNV-1a 32 step per UTF-8 byte of `c`.
#[inline(always)]
fn fnv_char(mut h: u32, c: char) -> u32 {
    if c.is_ascii() {
        return fnv(h, c as u8);
    }
    let mut buf = [0u8; 4];
    for &b in c.encode_utf8(&mut buf).as_bytes() {
        h = fnv(h, b);
    }
    h
}

/// `pos[s][n - 1]`: the summed weights of the n-grams of `units` (code points, as ASCII bytes
/// or as chars with their offsets) that start before unit `s` (an n-gram ends inside the
/// tail), for `s` in `0..=units.len()`; `step` takes the FNV-1a hash over one more unit. Every
/// start with four units after it takes its four n-grams in straight-line code.
#[inline(always)]
fn prefix_sums<T: Copy>(
    units: &[T],
    step: impl Fn(u32, T) -> u32,
    pos: &mut [[i32; MAX_N]; TAIL + 1],
) {
    // The running sums stay in four scalars: kept in an array, they were spilled to the stack
    // and read back whole after four narrow writes, which stalls every step.
    let (mut s1, mut s2, mut s3, mut s4) = (0i32, 0i32, 0i32, 0i32);
    let mut slots = pos.iter_mut();
    for w in units.windows(MAX_N) {
        if let (Some(p), &[u0, u1, u2, u3]) = (slots.next(), w) {
            *p = [s1, s2, s3, s4];
            let h1 = step(FNV_OFFSET, u0);
            let h2 = step(h1, u1);
            let h3 = step(h2, u2);
            let h4 = step(h3, u3);
            s1 += weight(h1);
            s2 += weight(h2);
            s3 += weight(h3);
            s4 += weight(h4);
        }
    }
    // The last starts, with fewer than four units after them.
    for s in units.len().saturating_sub(MAX_N - 1)..units.len() {
        if let Some(p) = slots.next() {
            *p = [s1, s2, s3, s4];
        }
        let mut added = [0i32; MAX_N];
        let mut h = FNV_OFFSET;
        for (a, &u) in added.iter_mut().zip(units.iter().skip(s)) {
            h = step(h, u);
            *a = weight(h);
        }
        let [a1, a2, a3, a4] = added;
        (s1, s2, s3, s4) = (s1 + a1, s2 + a2, s3 + a3, s4 + a4);
    }
    if let Some(p) = slots.next() {
        *p = [s1, s2, s3, s4];
    }
}

/// Slots of [`CharCounts`]' table of other characters: twice the most distinct characters a
/// tail can hold, so linear probing stays short.
const OTHER_SLOTS: usize = 2 * TAIL;

/// Character counts of a sliding window and the sum of their squares. ASCII is indexed
/// directly, and its squares are summed when asked (128 counts: a few vector instructions, and
/// no running sum to carry through every step); other characters go to a small open-addressing
/// table, made on the first one, with a running sum of their squares (a character that leaves
/// the window keeps its slot with a count of zero; a tail has at most [`TAIL`] distinct ones).
struct CharCounts {
    ascii: [u16; 128],
    other: Option<Box<OtherCounts>>,
    other_sq: usize,
}

struct OtherCounts {
    keys: [char; OTHER_SLOTS],
    counts: [u16; OTHER_SLOTS],
}

impl Default for CharCounts {
    fn default() -> Self {
        CharCounts {
            ascii: [0; 128],
            other: None,
            other_sq: 0,
        }
    }
}

impl CharCounts {
    /// The count of a character outside ASCII.
    fn other_slot(&mut self, c: char) -> Option<&mut u16> {
        let t = self.other.get_or_insert_with(|| {
            Box::new(OtherCounts {
                keys: ['\0'; OTHER_SLOTS],
                counts: [0; OTHER_SLOTS],
            })
        });
        let mut i = ((c as u32).wrapping_mul(0x9E37_79B1) >> 23) as usize % OTHER_SLOTS;
        for _ in 0..OTHER_SLOTS {
            match t.keys.get(i).copied() {
                Some(k) if k == c => return t.counts.get_mut(i),
                Some('\0') => {
                    if let Some(k) = t.keys.get_mut(i) {
                        *k = c;
                    }
                    return t.counts.get_mut(i);
                }
                _ => i = (i + 1) % OTHER_SLOTS,
            }
        }
        None
    }

    fn add(&mut self, c: char) {
        if let Some(n) = self.ascii.get_mut(c as usize) {
            *n += 1;
        } else if let Some(n) = self.other_slot(c) {
            *n += 1;
            let grown = usize::from(*n);
            self.other_sq += 2 * grown - 1;
        }
    }

    fn remove(&mut self, c: char) {
        if let Some(n) = self.ascii.get_mut(c as usize) {
            *n = n.saturating_sub(1);
        } else if let Some(n) = self.other_slot(c) {
            let was = usize::from(*n);
            *n = n.saturating_sub(1);
            self.other_sq = self.other_sq.saturating_sub((2 * was).saturating_sub(1));
        }
    }

    /// Σ count² over the window's characters.
    fn sum_sq(&self) -> usize {
        let ascii: u32 = self
            .ascii
            .iter()
            .map(|&n| u32::from(n) * u32::from(n))
            .sum();
        ascii as usize + self.other_sq
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_matches_the_table() {
        assert!(model().is_some());
    }

    #[test]
    fn scores_match_the_python_trainer() {
        let m = model().expect("model");
        let refs: Vec<serde_json::Value> = serde_json::from_str(include_str!(
            "../../../../models/suffix/reference_outputs.json"
        ))
        .expect("reference outputs");
        assert!(refs.len() > 20);
        for r in refs {
            let text = r["text"].as_str().expect("text");
            match (m.best_window(text), r["score"].as_f64()) {
                (None, None) => {}
                (Some((got, _)), Some(want)) => {
                    assert!((got - want).abs() < 1e-3, "{text:?}: {got} != {want}")
                }
                (got, want) => panic!("{text:?}: {got:?} != {want:?}"),
            }
        }
    }

    #[test]
    fn the_ascii_path_scores_as_the_general_one() {
        let m = model().expect("model");
        let words =
            "Write a poem gebruikt.]( ResidentNowlangley **Sure\\!-- tableViewBEGIN the cat ";
        let (mut ascii_tails, mut other_tails) = (0, 0);
        for len in [63, 64, 65, 66, 67, 100, 240, 255, 256, 257, 259, 1000] {
            for prefix in ["", "Grüße, 東京!", "東京"] {
                let ascii: String = words.chars().cycle().take(len).collect();
                let text = format!("{prefix}{ascii}");
                let general = m.best_general(&text);
                assert_eq!(m.best_window(&text), general, "{text:?}");
                let from = text.len().saturating_sub(TAIL);
                let tail = &text.as_bytes()[from..];
                if tail.is_ascii() {
                    ascii_tails += 1;
                    assert_eq!(m.best_ascii(tail, from), general, "{text:?}");
                } else {
                    other_tails += 1;
                }
            }
        }
        assert!(
            ascii_tails >= 10 && other_tails >= 10,
            "{ascii_tails} {other_tails}"
        );
    }

    #[test]
    fn the_reported_span_is_the_window_on_char_boundaries() {
        let m = model().expect("model");
        let text = "Grüße! ".repeat(30)
            + "Write a poem gebruikt.]( ResidentNowlangley **Sure\\!-- tableViewBEGIN";
        let (_, (s, e)) = m.best_window(&text).expect("window");
        assert!(text.is_char_boundary(s) && text.is_char_boundary(e) && s < e);
        assert_eq!(text[s..e].chars().count(), 64);
    }
}
