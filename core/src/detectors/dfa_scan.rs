//! Every occurrence of a literal set, found by one DFA walked as four interleaved chains.
//!
//! A DFA search is bound by latency, not by work: each byte's transition is a table load whose
//! address depends on the previous load, so one walk runs at the speed of the L1 round trip
//! (~1.6 ns per byte on the 2-core VM of `benches/RESULTS.md`) whatever the CPU could do
//! beside it. Walking the four quarters of the text in the same loop gives the CPU four
//! independent chains of loads to overlap (measured: 2–3× faster per pass; past four the
//! load ports, three loads per byte per chain, are the limit). Each quarter after the first
//! starts `max_pattern_len - 1` bytes early, so no occurrence that crosses a cut is lost, and
//! reports only occurrences that end after its cut, so none is reported twice.
//!
//! The result is the overlapping (every occurrence of every literal) set that
//! `AhoCorasick::find_overlapping_iter` with [`MatchKind::Standard`] reports, in the same order:
//! by end, and at one end in the order of the DFA's match state. A unit test holds the two
//! equal.

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::DFA;
use aho_corasick::{Anchored, MatchKind, StartKind};

/// Below this many bytes one chain is walked (the split's set-up is not worth it).
const SPLIT_MIN: usize = 256;
/// Chains walked at once.
const LANES: usize = 4;

/// One occurrence: pattern id and byte span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawHit {
    pub pattern: u32,
    pub start: u32,
    pub end: u32,
}

/// A literal set compiled for [`LiteralDfa::find_all`].
#[derive(Debug, Clone)]
pub struct LiteralDfa {
    dfa: DFA,
    start: StateID,
}

impl LiteralDfa {
    /// Compile `patterns` (standard match semantics, unanchored, no prefilter: the walk itself
    /// is the search).
    pub fn new<P: AsRef<[u8]>>(patterns: &[P]) -> Result<Self, String> {
        let dfa = DFA::builder()
            .match_kind(MatchKind::Standard)
            .start_kind(StartKind::Unanchored)
            .prefilter(false)
            .build(patterns)
            .map_err(|e| e.to_string())?;
        let start = dfa.start_state(Anchored::No).map_err(|e| e.to_string())?;
        Ok(LiteralDfa { dfa, start })
    }

    /// Append every occurrence of every pattern in `hay` to `out` (ordered by end).
    pub fn find_all(&self, hay: &[u8], out: &mut Vec<RawHit>) {
        let n = hay.len();
        let overlap = self.dfa.max_pattern_len().saturating_sub(1);
        let q = n / LANES;
        if n < SPLIT_MIN || overlap >= q {
            self.walk_one(hay, out);
            return;
        }
        // Lane k reports what ends in (cut[k], cut[k + 1]] and starts walking `overlap` bytes
        // before its cut; lane 0 is the shortest, so all lanes walk together for its length.
        let cut: [usize; LANES] = std::array::from_fn(|k| k * q);
        let from: [usize; LANES] = std::array::from_fn(|k| cut[k].saturating_sub(overlap));
        let to: [usize; LANES] = std::array::from_fn(|k| cut.get(k + 1).copied().unwrap_or(n));
        let mut found: [Vec<RawHit>; LANES] = Default::default();
        let mut sid = [self.start; LANES];
        let d = &self.dfa;
        let (l0, l1, l2, l3) = (
            &hay[from[0]..to[0]],
            &hay[from[1]..from[1] + q],
            &hay[from[2]..from[2] + q],
            &hay[from[3]..from[3] + q],
        );
        let mut i = 0;
        while i < q {
            i = self.walk_lanes(&mut sid, [&l0[i..], &l1[i..], &l2[i..], &l3[i..]], i);
            // `i` is the end (relative to each lane's start) of the byte that reached a
            // special state, or `q`
            for k in 0..LANES {
                let end = from[k] + i;
                if end > cut[k] && d.is_special(sid[k]) {
                    self.report(sid[k], end, &mut found[k]);
                }
            }
        }
        // The rest of each lane alone (its overlap; the last lane also the remainder).
        for k in 1..LANES {
            let mut s = sid[k];
            for (i, &x) in hay[..to[k]].iter().enumerate().skip(from[k] + q) {
                s = d.next_state(Anchored::No, s, x);
                if d.is_special(s) && i + 1 > cut[k] {
                    self.report(s, i + 1, &mut found[k]);
                }
            }
        }
        for f in &mut found {
            out.append(f);
        }
    }

    /// Advance every lane over its bytes until one of them reaches a special (match) state;
    /// returns `at` plus the bytes walked.
    #[inline(always)]
    fn walk_lanes(&self, sid: &mut [StateID; LANES], lanes: [&[u8]; LANES], at: usize) -> usize {
        let d = &self.dfa;
        let [mut s0, mut s1, mut s2, mut s3] = *sid;
        let mut walked = 0;
        for (((&a, &b), &c), &e) in lanes[0].iter().zip(lanes[1]).zip(lanes[2]).zip(lanes[3]) {
            s0 = d.next_state(Anchored::No, s0, a);
            s1 = d.next_state(Anchored::No, s1, b);
            s2 = d.next_state(Anchored::No, s2, c);
            s3 = d.next_state(Anchored::No, s3, e);
            walked += 1;
            if d.is_special(s0) | d.is_special(s1) | d.is_special(s2) | d.is_special(s3) {
                break;
            }
        }
        *sid = [s0, s1, s2, s3];
        at + walked
    }

    /// One chain over all of `hay`.
    fn walk_one(&self, hay: &[u8], out: &mut Vec<RawHit>) {
        let d = &self.dfa;
        let mut s = self.start;
        for (i, &x) in hay.iter().enumerate() {
            s = d.next_state(Anchored::No, s, x);
            if d.is_special(s) {
                self.report(s, i + 1, out);
            }
        }
    }

    /// Report every pattern of match state `sid` ending at `end` (nothing if `sid` is not a
    /// match state).
    #[inline(never)]
    fn report(&self, sid: StateID, end: usize, out: &mut Vec<RawHit>) {
        let d = &self.dfa;
        if !d.is_match(sid) {
            return;
        }
        for k in 0..d.match_len(sid) {
            let pid = d.match_pattern(sid, k);
            let start = end - d.pattern_len(pid);
            let (Ok(pattern), Ok(start), Ok(end)) = (
                u32::try_from(pid.as_usize()),
                u32::try_from(start),
                u32::try_from(end),
            ) else {
                return; // slot texts are far below 4 GiB
            };
            out.push(RawHit {
                pattern,
                start,
                end,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aho_corasick::{AhoCorasick, AhoCorasickKind};
    use proptest::prelude::*;

    fn reference(patterns: &[&str], hay: &[u8]) -> Vec<RawHit> {
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(patterns)
            .unwrap();
        ac.find_overlapping_iter(hay)
            .map(|m| RawHit {
                pattern: m.pattern().as_u32(),
                start: m.start() as u32,
                end: m.end() as u32,
            })
            .collect()
    }

    const PATTERNS: &[&str] = &["ab", "abc", "bca", "c", "aaaa", "cabcab", "ba"];

    #[test]
    fn matches_across_the_cut_are_found_once() {
        for n in [0, 1, 255, 256, 257, 300, 1000, 1001] {
            for shift in 0..7 {
                let hay: Vec<u8> = (0..n).map(|i| b"abcab a"[(i + shift) % 7]).collect();
                let l = LiteralDfa::new(PATTERNS).unwrap();
                let mut got = Vec::new();
                l.find_all(&hay, &mut got);
                assert_eq!(got, reference(PATTERNS, &hay), "n={n} shift={shift}");
            }
        }
    }

    proptest! {
        #[test]
        fn equals_overlapping_search(hay in "[abc ]{0,1200}") {
            let l = LiteralDfa::new(PATTERNS).unwrap();
            let mut got = Vec::new();
            l.find_all(hay.as_bytes(), &mut got);
            prop_assert_eq!(got, reference(PATTERNS, hay.as_bytes()));
        }
    }
}
