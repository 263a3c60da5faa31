//! Every occurrence of a literal set, found by one DFA walked as four interleaved chains.
//!
//! A DFA search is bound by latency, not by work: each byte's transition is a table load whose
//! address depends on the previous load, so one walk runs at the speed of the L1 round trip
//! (~1.6 ns per byte on the 2-core VM of `benches/RESULTS.md`) whatever the CPU could do
//! beside it. Walking the four quarters of the text in the same loop gives the CPU four
//! independent chains of loads to overlap (measured: 2–3× faster per pass; five, six or eight
//! chains were slower natively, their states no longer fitting in registers). Each quarter
//! after the first starts `max_pattern_len - 1` bytes early, so no occurrence that crosses a
//! cut is lost, and reports only occurrences that end after its cut, so none is reported twice.
//!
//! The table walked is `aho_corasick`'s DFA, made smaller: its rows are exactly as wide as the
//! byte classes the patterns need (one per byte some pattern holds, one for every other byte)
//! where the crate rounds them up to a power of two, so the table the walks touch is 25–45%
//! smaller and more of it stays in cache; the states are numbered breadth first from the start,
//! match states first, so "does this step report?" is one comparison. Measured (session 14,
//! `guard_alone/*` of `engine_bench`): natively 7–8% faster per pass, in V8 3–4%. Since session
//! 30 it is built here from a trie (each state's row a copy of its failure state's, its children
//! over it) rather than copied from the crate's DFA, whose construction followed failure links
//! per state and byte: a policy load's two literal sets took 87 M instructions that way, 16 M
//! this way ([`LiteralDfa::new`]).
//!
//! The result is the overlapping (every occurrence of every literal) set that
//! `AhoCorasick::find_overlapping_iter` with [`MatchKind::Standard`] reports, in the same order:
//! by end, and at one end in the order of the DFA's match state. Unit tests hold the two
//! equal.

/// Below this many bytes one chain is walked (the split's set-up is not worth it).
const SPLIT_MIN: usize = 256;
/// Chains walked at once.
const LANES: usize = 4;
const TOO_LARGE: &str = "internal: literal automaton too large";

/// One occurrence: pattern id and byte span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawHit {
    pub pattern: u32,
    pub start: u32,
    pub end: u32,
}

/// Order `hits` by start, the longest first at each start (then by pattern): at the head of
/// each start, the occurrence a leftmost-longest search reports there.
pub fn sort_by_start_longest_first(hits: &mut [RawHit]) {
    hits.sort_unstable_by_key(|h| (h.start, std::cmp::Reverse(h.end), h.pattern));
}

/// A literal set compiled for [`LiteralDfa::find_all`].
#[derive(Debug, Clone)]
pub struct LiteralDfa {
    /// Byte → column of `trans`. Every byte that occurs in no pattern shares column 0.
    classes: [u8; 256],
    /// `trans[s + class]`: the next state, premultiplied by `stride`. States below `match_limit` are
    /// the match states, so one comparison tells whether a step needs a report.
    trans: Vec<u32>,
    match_limit: u32,
    /// The patterns of match state `s`: `match_patterns[match_at[s / stride]..match_at[s / stride + 1]]`.
    match_at: Vec<u32>,
    match_patterns: Vec<u32>,
    /// Length of each pattern, by id.
    pattern_lens: Vec<u32>,
    start: u32,
    stride: usize,
    max_len: usize,
}

impl LiteralDfa {
    /// Compile `patterns` (standard match semantics, unanchored, no prefilter: the walk itself
    /// is the search).
    ///
    /// Built directly, not through `aho_corasick`'s DFA builder: a trie of the patterns, then,
    /// breadth first, each state's failure link and its whole row of transitions, a copy of
    /// its failure state's row (final by then, being shallower) with its own children written
    /// over it; a state's patterns are its own, then its failure state's. That is the
    /// automaton `aho_corasick` builds (the tests hold the search equal to its overlapping
    /// search), at the cost of copying rows: a policy's two literal sets compiled this way
    /// take a fraction of what following failure links per state and byte took.
    pub fn new<P: AsRef<[u8]>>(patterns: &[P]) -> Result<Self, String> {
        // Byte classes: one per byte that some pattern holds, and one for all the others (if
        // any): from every state a byte no pattern holds leads back to the start state, so those
        // bytes need one column.
        let mut used = [false; 256];
        for p in patterns {
            for &b in p.as_ref() {
                used[usize::from(b)] = true;
            }
        }
        let others = usize::from(used.iter().any(|u| !u));
        let mut classes = [0u8; 256];
        let mut stride = others;
        for b in 0..256usize {
            if used[b] {
                classes[b] = u8::try_from(stride).map_err(|_| TOO_LARGE)?;
                stride += 1;
            }
        }
        let stride = stride.max(1);
        // The trie: children per state (few: a linear list), the patterns ending at each.
        let mut children: Vec<Vec<(u8, u32)>> = vec![Vec::new()];
        let mut own: Vec<Vec<u32>> = vec![Vec::new()];
        for (pid, p) in patterns.iter().enumerate() {
            let mut s = 0usize;
            for &b in p.as_ref() {
                let next = children[s].iter().find(|&&(c, _)| c == b).map(|&(_, t)| t);
                s = match next {
                    Some(t) => t as usize,
                    None => {
                        let t = u32::try_from(children.len()).map_err(|_| TOO_LARGE)?;
                        children[s].push((b, t));
                        children.push(Vec::new());
                        own.push(Vec::new());
                        t as usize
                    }
                };
            }
            own[s].push(u32::try_from(pid).map_err(|_| TOO_LARGE)?);
        }
        let n = children.len();
        // Rows and outputs in trie numbering, filled breadth first.
        let mut rows = vec![0u32; n * stride];
        let mut fail = vec![0u32; n];
        let mut out: Vec<Vec<u32>> = vec![Vec::new(); n];
        out[0] = own[0].clone();
        let mut queue: Vec<u32> = Vec::with_capacity(n);
        for &(b, t) in &children[0] {
            rows[usize::from(classes[usize::from(b)])] = t;
            queue.push(t);
        }
        let mut k = 0;
        while let Some(&t) = queue.get(k) {
            k += 1;
            let t = t as usize;
            let f = fail[t] as usize;
            // the failure state's row, then this state's own children over it
            rows.copy_within(f * stride..(f + 1) * stride, t * stride);
            for &(b, c) in &children[t] {
                let col = usize::from(classes[usize::from(b)]);
                // a child's failure state: where the failure state goes on the same byte
                fail[c as usize] = rows[f * stride + col];
                rows[t * stride + col] = c;
                queue.push(c);
            }
            let mut o = own[t].clone();
            o.extend_from_slice(&out[f]);
            out[t] = o;
        }
        // Our numbering: breadth first from the start over the classes, match states first.
        let mut order: Vec<u32> = Vec::with_capacity(n);
        let mut seen = vec![false; n];
        order.push(0);
        seen[0] = true;
        let mut k = 0;
        while let Some(&s) = order.get(k) {
            k += 1;
            let row = &rows[s as usize * stride..(s as usize + 1) * stride];
            for &t in row {
                if !std::mem::replace(&mut seen[t as usize], true) {
                    order.push(t);
                }
            }
        }
        let (mut order, rest): (Vec<u32>, Vec<u32>) = order
            .into_iter()
            .partition(|&s| !out[s as usize].is_empty());
        let match_count = order.len();
        order.extend(rest);
        let premultiplied = |i: usize| u32::try_from(i * stride).map_err(|_| TOO_LARGE);
        let mut ours = vec![0u32; n];
        for (i, &s) in order.iter().enumerate() {
            ours[s as usize] = premultiplied(i)?;
        }
        let mut trans = Vec::with_capacity(order.len() * stride);
        for &s in &order {
            let row = &rows[s as usize * stride..(s as usize + 1) * stride];
            trans.extend(row.iter().map(|&t| ours[t as usize]));
        }
        // The patterns of each match state, in the automaton's order.
        let mut match_at = vec![0u32];
        let mut match_patterns = Vec::new();
        for &s in &order[..match_count] {
            match_patterns.extend_from_slice(&out[s as usize]);
            match_at.push(u32::try_from(match_patterns.len()).map_err(|_| TOO_LARGE)?);
        }
        let pattern_lens = patterns
            .iter()
            .map(|p| u32::try_from(p.as_ref().len()))
            .collect::<Result<_, _>>()
            .map_err(|_| TOO_LARGE)?;
        Ok(LiteralDfa {
            match_limit: premultiplied(match_count)?,
            match_at,
            match_patterns,
            pattern_lens,
            start: ours[0],
            classes,
            trans,
            stride,
            max_len: patterns.iter().map(|p| p.as_ref().len()).max().unwrap_or(0),
        })
    }

    /// [`Self::new`] with ASCII letters matched in either case, as `aho_corasick`'s
    /// `ascii_case_insensitive`: the patterns are compiled lowercased, and each capital letter
    /// walks its small letter's column (other bytes, UTF-8 included, match as they are).
    pub fn new_ascii_case_insensitive<P: AsRef<[u8]>>(patterns: &[P]) -> Result<Self, String> {
        let lower: Vec<Vec<u8>> = patterns
            .iter()
            .map(|p| p.as_ref().to_ascii_lowercase())
            .collect();
        let mut dfa = Self::new(&lower)?;
        for b in b'A'..=b'Z' {
            dfa.classes[usize::from(b)] = dfa.classes[usize::from(b.to_ascii_lowercase())];
        }
        Ok(dfa)
    }

    #[inline(always)]
    fn step(&self, s: u32, b: u8) -> u32 {
        self.trans[(s + u32::from(self.classes[usize::from(b)])) as usize]
    }

    /// Append every occurrence of every pattern in `hay` to `out` (ordered by end).
    pub fn find_all(&self, hay: &[u8], out: &mut Vec<RawHit>) {
        let n = hay.len();
        let overlap = self.max_len.saturating_sub(1);
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
        let lanes: [&[u8]; LANES] = std::array::from_fn(|k| &hay[from[k]..from[k] + q]);
        let mut s = [self.start; LANES];
        let lim = self.match_limit;
        let [l0, l1, l2, l3] = lanes;
        for (i, (((&a, &b), &c), &d)) in l0.iter().zip(l1).zip(l2).zip(l3).enumerate() {
            s = [
                self.step(s[0], a),
                self.step(s[1], b),
                self.step(s[2], c),
                self.step(s[3], d),
            ];
            if (s[0] < lim) | (s[1] < lim) | (s[2] < lim) | (s[3] < lim) {
                self.report_lanes(s, i + 1, &from, &cut, &mut found);
            }
        }
        // The rest of each lane alone (its overlap; the last lane also the remainder).
        for k in 1..LANES {
            let mut st = s[k];
            for (i, &x) in hay[..to[k]].iter().enumerate().skip(from[k] + q) {
                st = self.step(st, x);
                if st < lim && i + 1 > cut[k] {
                    self.report(st, i + 1, &mut found[k]);
                }
            }
        }
        for f in &mut found {
            out.append(f);
        }
    }

    /// Report the match states among the lanes after `walked` bytes of each.
    #[cold]
    #[inline(never)]
    fn report_lanes(
        &self,
        s: [u32; LANES],
        walked: usize,
        from: &[usize; LANES],
        cut: &[usize; LANES],
        found: &mut [Vec<RawHit>; LANES],
    ) {
        for k in 0..LANES {
            let end = from[k] + walked;
            if end > cut[k] && s[k] < self.match_limit {
                self.report(s[k], end, &mut found[k]);
            }
        }
    }

    /// One chain over all of `hay`.
    fn walk_one(&self, hay: &[u8], out: &mut Vec<RawHit>) {
        let mut s = self.start;
        for (i, &x) in hay.iter().enumerate() {
            s = self.step(s, x);
            if s < self.match_limit {
                self.report(s, i + 1, out);
            }
        }
    }

    /// Report every pattern of match state `s` ending at `end`.
    #[inline(never)]
    fn report(&self, s: u32, end: usize, out: &mut Vec<RawHit>) {
        let m = s as usize / self.stride;
        let (Some(&from), Some(&to)) = (self.match_at.get(m), self.match_at.get(m + 1)) else {
            return;
        };
        let Ok(end) = u32::try_from(end) else {
            return; // slot texts are far below 4 GiB
        };
        for &pattern in self
            .match_patterns
            .get(from as usize..to as usize)
            .unwrap_or(&[])
        {
            let len = self
                .pattern_lens
                .get(pattern as usize)
                .copied()
                .unwrap_or(0);
            out.push(RawHit {
                pattern,
                start: end.saturating_sub(len),
                end,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
    use proptest::prelude::*;

    fn reference<P: AsRef<[u8]>>(patterns: &[P], hay: &[u8]) -> Vec<RawHit> {
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

        /// Any patterns over any bytes (high bytes, bytes in no pattern, patterns that are
        /// prefixes or suffixes of others, repeated patterns), any text over the same bytes.
        #[test]
        fn equals_overlapping_search_on_any_bytes(
            patterns in prop::collection::vec(prop::collection::vec(
                prop::sample::select(vec![0u8, b'a', b'b', b'Z', b' ', 0x7f, 0xc3, 0xff]), 1..9), 1..24),
            hay in prop::collection::vec(
                prop::sample::select(vec![0u8, b'a', b'b', b'Z', b' ', b'q', 0x7f, 0xc3, 0xff]), 0..1500),
        ) {
            let l = LiteralDfa::new(&patterns).unwrap();
            let mut got = Vec::new();
            l.find_all(&hay, &mut got);
            prop_assert_eq!(got, reference(&patterns, &hay));
        }

        /// Capitals and small letters alike, as `aho_corasick`'s ASCII case-insensitive
        /// search: patterns and text in mixed case, with bytes beside the letters that have
        /// no case (digits, spaces, UTF-8).
        #[test]
        fn equals_ascii_case_insensitive_search(
            patterns in prop::collection::vec(prop::collection::vec(
                prop::sample::select(vec![b'a', b'A', b'b', b'B', b'z', b'1', b' ', 0xc3, 0x9f]), 1..9), 1..24),
            hay in prop::collection::vec(
                prop::sample::select(vec![b'a', b'A', b'b', b'B', b'z', b'Z', b'1', b' ', b'q', 0xc3, 0x9f]), 0..1500),
        ) {
            let ac = AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .kind(Some(AhoCorasickKind::DFA))
                .build(&patterns)
                .unwrap();
            let want: Vec<RawHit> = ac
                .find_overlapping_iter(&hay)
                .map(|m| RawHit { pattern: m.pattern().as_u32(), start: m.start() as u32, end: m.end() as u32 })
                .collect();
            let l = LiteralDfa::new_ascii_case_insensitive(&patterns).unwrap();
            let mut got = Vec::new();
            l.find_all(&hay, &mut got);
            prop_assert_eq!(got, want);
        }

        /// Every byte value in some pattern: no column is left for "other bytes".
        #[test]
        fn equals_overlapping_search_when_every_byte_is_in_a_pattern(
            hay in prop::collection::vec(any::<u8>(), 0..1500),
        ) {
            let mut patterns: Vec<Vec<u8>> = (0..=255u8).map(|b| vec![b, b.wrapping_mul(7)]).collect();
            patterns.push(vec![1, 2, 3]);
            let l = LiteralDfa::new(&patterns).unwrap();
            let mut got = Vec::new();
            l.find_all(&hay, &mut got);
            prop_assert_eq!(got, reference(&patterns, &hay));
        }
    }
}
