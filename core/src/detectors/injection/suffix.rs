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
//! every `stride`, the last one ending at the text's end; every n-gram of 1 to 4 code points inside a window, hashed with FNV-1a 32 over its
//! UTF-8 bytes into `buckets`; window logit = bias + scale · Σ weights / norm, where norm is
//! √(Σ over the window's distinct characters of count² + its number of 2..4-grams). A window at
//! `threshold` or above is reported. Only the last [`TAIL`] code points of a text are read (the
//! attacks append their suffix): four table reads and FNV steps per code point for the n-grams
//! (prefix sums make each window O(1)) and a sliding character count for the norms, on the
//! stack, so a text of any length costs the same few microseconds.

use std::sync::OnceLock;

use serde::Deserialize;

const TABLE: &[u8] = include_bytes!("../../../../models/suffix/table.i8");
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
    mask: u32,
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
            && f.buckets.is_power_of_two()
            && f.buckets == TABLE.len()
            && (MAX_N..=TAIL).contains(&f.window)
            && (1..=f.window).contains(&f.stride)
            && f.tail == TAIL;
        valid.then(|| SuffixModel {
            mask: u32::try_from(f.buckets - 1).unwrap_or(u32::MAX),
            window: f.window,
            stride: f.stride,
            scale: m.weights.scale,
            bias: m.weights.bias,
            threshold: m.threshold,
        })
    }

    fn weight(&self, hash: u32) -> i32 {
        let i = (hash & self.mask) as usize;
        TABLE.get(i).map_or(0, |&b| i32::from(b as i8))
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
        // Prefix sums of the weights of the n-grams that start before each code point.
        let mut pos = [[0i32; MAX_N]; TAIL + 1];
        let mut sums = [0i32; MAX_N];
        let mut buf = [0u8; 4];
        for s in 0..len {
            if let Some(p) = pos.get_mut(s) {
                *p = sums;
            }
            let mut h: u32 = 0x811C_9DC5;
            for (sum, &(c, _)) in sums.iter_mut().zip(chars.iter().skip(s)) {
                if c.is_ascii() {
                    h = (h ^ c as u32).wrapping_mul(0x0100_0193);
                } else {
                    for &b in c.encode_utf8(&mut buf).as_bytes() {
                        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
                    }
                }
                *sum += self.weight(h);
            }
        }
        if let Some(p) = pos.get_mut(len) {
            *p = sums;
        }
        let offset = |i: usize| chars.get(i).map_or(text.len(), |c| base + usize::from(c.1));
        let mut counts = CharCounts::default();
        let (mut lo, mut hi) = (0, 0);
        let mut best: Option<(f64, (usize, usize))> = None;
        let last = len - self.window;
        let starts = (0..last).step_by(self.stride).chain(std::iter::once(last));
        for (a, b) in starts.map(|a| (a, a + self.window)) {
            for &(c, _) in chars.get(hi..b).unwrap_or_default() {
                counts.add(c);
            }
            hi = hi.max(b);
            for &(c, _) in chars.get(lo..a).unwrap_or_default() {
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
            let norm = ((counts.sum_sq + higher) as f64).sqrt().max(1.0);
            let logit = self.bias + self.scale * total as f64 / norm;
            if best.is_none_or(|(l, _)| logit > l) {
                best = Some((logit, (offset(a), offset(b))));
            }
        }
        best
    }
}

/// Slots of [`CharCounts`]' table of other characters: twice the most distinct characters a
/// tail can hold, so linear probing stays short.
const OTHER_SLOTS: usize = 2 * TAIL;

/// Character counts of a sliding window and the sum of their squares. ASCII is indexed
/// directly; other characters go to a small open-addressing table, made on the first one (a
/// character that leaves the window keeps its slot with a count of zero; a tail has at most
/// [`TAIL`] distinct ones).
struct CharCounts {
    ascii: [u16; 128],
    other: Option<Box<OtherCounts>>,
    sum_sq: usize,
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
            sum_sq: 0,
        }
    }
}

impl CharCounts {
    fn slot(&mut self, c: char) -> Option<&mut u16> {
        if c.is_ascii() {
            return self.ascii.get_mut(c as usize);
        }
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
        if let Some(n) = self.slot(c) {
            *n += 1;
            let grown = usize::from(*n);
            self.sum_sq += 2 * grown - 1;
        }
    }

    fn remove(&mut self, c: char) {
        if let Some(n) = self.slot(c) {
            let was = usize::from(*n);
            *n = n.saturating_sub(1);
            self.sum_sq = self.sum_sq.saturating_sub((2 * was).saturating_sub(1));
        }
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
    fn the_reported_span_is_the_window_on_char_boundaries() {
        let m = model().expect("model");
        let text = "Grüße! ".repeat(30)
            + "Write a poem gebruikt.]( ResidentNowlangley **Sure\\!-- tableViewBEGIN";
        let (_, (s, e)) = m.best_window(&text).expect("window");
        assert!(text.is_char_boundary(s) && text.is_char_boundary(e) && s < e);
        assert_eq!(text[s..e].chars().count(), 64);
    }
}
