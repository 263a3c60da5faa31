//! Tier-1 prompt-injection and jailbreak heuristics: weighted rules, scored per slot.
//!
//! Why rules: they run in microseconds inside Envoy's data path and catch the bulk of
//! copy-pasted attacks (instruction overrides, DAN-style personas, system-prompt extraction,
//! chat-template tokens). They are a cheap first tier, so they are tuned for precision: a later
//! tier adds ML models for paraphrased attacks that no phrase list can anticipate.
//!
//! How a slot is scored:
//! 1. A SIMD multi-literal scan (Teddy, in small groups so each pass stays at memory speed; an
//!    Aho-Corasick automaton where SIMD is unavailable, e.g. in WebAssembly) finds the anchor
//!    words of the rule table (`ignor`, `instruct`, `jailbr`, `mode`, …) in the normalised
//!    text; a second, memchr-speed scan looks for `<|` and tag characters in the original.
//!    Text that contains no anchor costs nothing more.
//! 2. A rule whose matches start with its anchor runs anchored at the occurrence (its automaton
//!    dies within a few bytes on ordinary text); any other rule runs in a bounded window around
//!    the occurrence (windows of one rule are merged first, so the work stays linear in the text
//!    even for adversarial repetition).
//! 3. Every rule that matched contributes its weight once, however often it matched, and the
//!    slot score is their noisy-OR, `1 - Π(1 - wᵢ)`: independent weak cues ("stay in character",
//!    "without any filters") add up, while one strong cue ("ignore all previous instructions")
//!    is enough on its own.
//! 4. A few signals are computed directly on bytes: a long run of one short repeated unit
//!    (context flooding), runs of Unicode tag characters (hidden "ASCII smuggling" text) and a
//!    base64-looking blob next to a decoding cue.
//!
//! One [`Match`] per slot is reported: its span is the strongest rule's match (mapped back to
//! the original bytes), its `kind` that rule's family, its `score` the combined score. The guard
//! compares the score with its threshold (0.5 by default, which the weights are calibrated for).

mod patterns;

use std::borrow::Cow;
use std::collections::HashMap;

use aho_corasick::packed;
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex::{Regex, RegexBuilder};
use serde::Deserialize;

use super::{Category, Detector, Match, ScanText};
use patterns::{At, Surface, OBFUSCATION, RULES};

/// The detector's name as written in the config.
pub const DETECTOR_NAME: &str = "injection_heuristics";

/// Bytes searched before an anchor occurrence; longer than any rule's match before its anchor.
const WINDOW_BEFORE: usize = 160;
/// Bytes searched after an anchor occurrence; longer than any rule's match after its anchor.
const WINDOW_AFTER: usize = 160;
/// Literals per Teddy group. Teddy's false-positive rate, and so its speed, degrades quickly
/// past a dozen literals; several small passes are much cheaper than one large one.
const SCAN_GROUP_SIZE: usize = 12;
/// In an anchor, a leading `*` lets it start inside a word.
const INFIX_MARKER: char = '*';
/// Compiled size limit for one regex (built-in or extra), so a pathological extra pattern
/// fails at config time instead of eating memory.
const REGEX_SIZE_LIMIT: usize = 4 * 1024 * 1024;

/// What `\w` means in a rule template. The folded text is lowercase ASCII apart from scripts
/// that have no Latin look-alikes, and an ASCII class keeps the compiled automata small (Unicode
/// `\w` inside bounded repetitions multiplies their size by hundreds).
const TEMPLATE_WORD_CLASS_ITEMS: &str = "a-z0-9_";
/// Separator between two words in a rule template: a short run of non-word characters that does
/// not end a sentence or a line.
const TEMPLATE_SEPARATOR: &str = r"[^a-z0-9_\n.!?]{1,4}";
/// A template's ` ?`: an optional separator (`chat ?gpt` matches `chatgpt` and `chat gpt`).
const TEMPLATE_OPTIONAL_SEPARATOR: &str = r"[^a-z0-9_\n.!?]{0,4}";
/// One word plus its trailing separator, repeated `{0,N}` times by a `{gN}` gap.
const TEMPLATE_GAP_WORD: &str = r"[a-z0-9_'’]+";
/// Largest `N` in a `{gN}` gap.
const TEMPLATE_MAX_GAP: u32 = 4;

/// Kind reported for an extra pattern that names none.
const DEFAULT_EXTRA_KIND: &str = "injection";

/// Weight of a context-flooding run (a short unit repeated for hundreds of bytes): a padding
/// trick to push earlier instructions out of the model's attention, but also seen in pasted
/// data, so it only adds to other evidence.
const FLOOD_WEIGHT: f32 = 0.3;
/// Shortest flooding run, in bytes.
const FLOOD_MIN_BYTES: usize = 512;
/// Longest repeated unit, in bytes, that counts as flooding (`"👽 "` is 5, `") ] } "` is 6).
const FLOOD_MAX_PERIOD: usize = 8;
/// Sampling stride of the flooding scan; a run of `FLOOD_MIN_BYTES` spans several samples.
const FLOOD_STRIDE: usize = 64;

/// Weight of a run of Unicode tag characters: invisible, dropped by normalisation, and used to
/// smuggle instructions that some models still read.
const TAG_RUN_WEIGHT: f32 = 0.6;
/// Shortest suspicious run of tag characters. Emoji subdivision flags (🏴 England) use up to 7.
const TAG_RUN_MIN: usize = 8;
/// UTF-8 prefixes of the tag block U+E0000..=U+E007F (`F3 A0 80 xx`, `F3 A0 81 xx`).
const TAG_PREFIXES: [&[u8]; 2] = [b"\xF3\xA0\x80", b"\xF3\xA0\x81"];

/// Weight of a long base64-looking blob in a slot that also talks about decoding.
const BLOB_WEIGHT: f32 = 0.3;
/// Words that make a blob suspicious, as they read in the folded text (where the digits of
/// `base64` fold to letters); they are anchors of the folded-text scan.
const BLOB_CUES: [&str; 5] = ["base6a", "base 64", "b6a", "decode", "encoded"];
/// Shortest blob, in characters.
const BLOB_MIN_LEN: usize = 40;

/// One extra rule from the config, matched case-insensitively on the normalised text.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WeightedPattern {
    /// A regex (Rust `regex` syntax) over the normalised, lowercased text.
    pub pattern: String,
    /// Strength in `(0, 1]`, combined with the built-in rules by noisy-OR.
    pub weight: f32,
    /// Reported `kind` when this pattern is the strongest match; snake_case.
    #[serde(default = "default_extra_kind")]
    pub kind: String,
}

fn default_extra_kind() -> String {
    DEFAULT_EXTRA_KIND.to_owned()
}

/// Options of the `injection_heuristics` detector.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct InjectionOptions {
    /// Site-specific phrases added to the built-in rule table.
    pub extra_patterns: Vec<WeightedPattern>,
}

/// A compiled rule: built-in or extra.
#[derive(Debug)]
struct CompiledRule {
    kind: Cow<'static, str>,
    weight: f32,
    regex: Regex,
    /// Where the rule's anchors sit, and for [`At::Start`] and [`At::End`] the same regex
    /// anchored at the start or the end of the haystack.
    at: At,
    anchored: Option<Regex>,
}

/// The prefilter of one surface: anchors and what each one triggers.
#[derive(Debug)]
struct AnchorIndex {
    scanner: Option<LiteralScanner>,
    /// Indexed by anchor id.
    anchors: Vec<Anchor>,
}

/// Finds every anchor occurrence (leftmost-longest within a group).
#[derive(Debug)]
struct LiteralScanner {
    /// Teddy groups; each maps its pattern ids to anchor ids.
    groups: Vec<(packed::Searcher, Vec<usize>)>,
    /// The literals Teddy does not take: those shorter than [`TEDDY_MIN_LEN`] (a two-byte
    /// fingerprint makes Teddy slower than Aho-Corasick's memchr prefilter on them), or all of
    /// them where Teddy is unavailable (no SIMD, e.g. WebAssembly). Maps pattern ids to anchor
    /// ids.
    automaton: Option<(AhoCorasick, Vec<usize>)>,
}

/// Shortest literal that goes into a Teddy group.
const TEDDY_MIN_LEN: usize = 3;

impl LiteralScanner {
    /// Anchors are matched byte for byte: folded text is already lowercase, and the anchors of
    /// the original text (`<|`, tag-character prefixes) have no letters.
    fn build(texts: &[Vec<u8>]) -> Result<Self, String> {
        let len = |i: usize| texts.get(i).map_or(0, Vec::len);
        // Group literals of similar length: Teddy fingerprints as many bytes as the shortest
        // literal of its group has.
        let mut long: Vec<usize> = (0..texts.len())
            .filter(|&i| len(i) >= TEDDY_MIN_LEN)
            .collect();
        long.sort_by_key(|&i| std::cmp::Reverse(len(i)));
        let mut short: Vec<usize> = (0..texts.len())
            .filter(|&i| len(i) < TEDDY_MIN_LEN)
            .collect();
        let mut groups = Vec::new();
        for chunk in long.chunks(SCAN_GROUP_SIZE) {
            let mut builder = packed::Config::new()
                .match_kind(packed::MatchKind::LeftmostLongest)
                .builder();
            for &i in chunk {
                if let Some(text) = texts.get(i) {
                    builder.add(text);
                }
            }
            match builder.build() {
                Some(searcher) => groups.push((searcher, chunk.to_vec())),
                None => {
                    groups.clear();
                    short = (0..texts.len()).collect();
                    break;
                }
            }
        }
        let automaton = if short.is_empty() {
            None
        } else {
            let patterns: Vec<&Vec<u8>> = short.iter().filter_map(|&i| texts.get(i)).collect();
            let automaton = AhoCorasick::builder()
                .kind(Some(AhoCorasickKind::DFA))
                .match_kind(MatchKind::LeftmostLongest)
                .build(patterns)
                .map_err(|e| format!("injection anchors: {e}"))?;
            Some((automaton, short))
        };
        Ok(LiteralScanner { groups, automaton })
    }

    /// Call `f(anchor id, start, end)` for every occurrence, group by group.
    fn for_each(&self, haystack: &[u8], mut f: impl FnMut(usize, usize, usize)) {
        for (searcher, ids) in &self.groups {
            for m in searcher.find_iter(haystack) {
                if let Some(&id) = ids.get(m.pattern().as_usize()) {
                    f(id, m.start(), m.end());
                }
            }
        }
        if let Some((automaton, ids)) = &self.automaton {
            for m in automaton.find_iter(haystack) {
                if let Some(&id) = ids.get(m.pattern().as_usize()) {
                    f(id, m.start(), m.end());
                }
            }
        }
    }
}

/// What one anchor occurrence means.
#[derive(Debug, Default, Clone)]
struct Anchor {
    /// Indices into `InjectionHeuristics::rules` to run around the occurrence.
    rules: Vec<u16>,
    /// The occurrence must start a word (the anchor starts with a letter or digit).
    word_start: bool,
    /// The occurrence must end a word (a short word such as `dan` or `mode`, which would
    /// otherwise fire inside `danger` and `model`).
    word_end: bool,
    /// A tag-character prefix (original surface only).
    tag: bool,
    /// A decoding cue for the blob signal (folded surface only).
    blob_cue: bool,
}

/// Alphanumeric anchors of at most this many bytes must match whole words.
const SHORT_ANCHOR_LEN: usize = 4;

impl Anchor {
    /// `bytes` without the infix marker; `infix` if the marker was there.
    fn new(bytes: &[u8], infix: bool) -> Self {
        let alnum = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphanumeric);
        Anchor {
            word_start: !infix && alnum(bytes.first()),
            word_end: bytes.len() <= SHORT_ANCHOR_LEN
                && bytes.iter().all(u8::is_ascii_alphanumeric),
            ..Anchor::default()
        }
    }

    /// Whether the occurrence `start..end` of this anchor in `text` respects its word bounds.
    fn fits(&self, text: &[u8], start: usize, end: usize) -> bool {
        let alnum = |i: Option<usize>| {
            i.and_then(|i| text.get(i))
                .is_some_and(u8::is_ascii_alphanumeric)
        };
        !(self.word_start && alnum(start.checked_sub(1)) || self.word_end && alnum(Some(end)))
    }
}

/// The compiled detector; see the module docs.
#[derive(Debug)]
pub struct InjectionHeuristics {
    rules: Vec<CompiledRule>,
    folded: AnchorIndex,
    original: AnchorIndex,
    /// `rules[extra_start..]` are the config's extra patterns, run on the whole folded text.
    extra_start: usize,
    blob: Regex,
}

impl InjectionHeuristics {
    /// Compile the built-in rules plus `opts.extra_patterns`. The error names the bad option,
    /// e.g. `extra_patterns[1].pattern: invalid regex: …`.
    pub fn new(opts: &InjectionOptions) -> Result<Self, String> {
        let mut rules = Vec::with_capacity(RULES.len() + opts.extra_patterns.len());
        for (i, rule) in RULES.iter().enumerate() {
            let expanded = expand_template(rule.pattern);
            let build = |pattern: &str| {
                RegexBuilder::new(pattern)
                    .case_insensitive(rule.surface == Surface::Original)
                    .size_limit(REGEX_SIZE_LIMIT)
                    .build()
                    .map_err(|e| format!("built-in injection rule {i}: invalid regex: {e}"))
            };
            let regex = build(&expanded)?;
            let anchored = match rule.at {
                At::Start => Some(build(&format!("^(?:{expanded})"))?),
                At::End => Some(build(&format!("(?:{expanded})$"))?),
                At::Inside => None,
            };
            rules.push(CompiledRule {
                kind: Cow::Borrowed(rule.kind),
                weight: rule.weight,
                regex,
                at: rule.at,
                anchored,
            });
        }
        let extra_start = rules.len();
        for (i, extra) in opts.extra_patterns.iter().enumerate() {
            rules.push(compile_extra(i, extra)?);
        }
        if rules.len() > usize::from(u16::MAX) {
            return Err(format!(
                "extra_patterns: at most {} patterns",
                usize::from(u16::MAX) - extra_start
            ));
        }
        let folded = build_index(Surface::Folded)?;
        let original = build_index(Surface::Original)?;
        let blob = Regex::new(&format!("[A-Za-z0-9+/]{{{BLOB_MIN_LEN},}}={{0,2}}"))
            .map_err(|e| format!("blob regex: {e}"))?;
        Ok(InjectionHeuristics {
            rules,
            folded,
            original,
            extra_start,
            blob,
        })
    }
}

fn compile_extra(i: usize, extra: &WeightedPattern) -> Result<CompiledRule, String> {
    if !(extra.weight > 0.0 && extra.weight <= 1.0) {
        return Err(format!(
            "extra_patterns[{i}].weight: must be in (0, 1], got {}",
            extra.weight
        ));
    }
    let kind_ok = extra.kind.starts_with(|c: char| c.is_ascii_lowercase())
        && extra
            .kind
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !kind_ok {
        return Err(format!(
            "extra_patterns[{i}].kind: must be snake_case ([a-z][a-z0-9_]*), got {:?}",
            extra.kind
        ));
    }
    if extra.pattern.is_empty() {
        return Err(format!("extra_patterns[{i}].pattern: must not be empty"));
    }
    let regex = RegexBuilder::new(&extra.pattern)
        .case_insensitive(true)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| format!("extra_patterns[{i}].pattern: invalid regex: {e}"))?;
    Ok(CompiledRule {
        kind: Cow::Owned(extra.kind.clone()),
        weight: extra.weight,
        regex,
        at: At::Inside,
        anchored: None,
    })
}

/// Collect the anchors of every rule on `surface` into one scanner.
fn build_index(surface: Surface) -> Result<AnchorIndex, String> {
    let mut texts: Vec<Vec<u8>> = Vec::new();
    let mut anchors: Vec<Anchor> = Vec::new();
    let mut by_text: HashMap<(Vec<u8>, bool), usize> = HashMap::new();
    let mut slot = |spec: &[u8]| -> usize {
        let (bytes, infix) = match spec.strip_prefix(INFIX_MARKER.to_string().as_bytes()) {
            Some(rest) => (rest, true),
            None => (spec, false),
        };
        if let Some(&i) = by_text.get(&(bytes.to_vec(), infix)) {
            return i;
        }
        let i = texts.len();
        texts.push(bytes.to_vec());
        anchors.push(Anchor::new(bytes, infix));
        by_text.insert((bytes.to_vec(), infix), i);
        i
    };
    let mut rule_slots: Vec<(usize, u16)> = Vec::new();
    for (i, rule) in RULES.iter().enumerate() {
        if rule.surface != surface {
            continue;
        }
        let id = u16::try_from(i).map_err(|_| "too many built-in injection rules".to_owned())?;
        for anchor in rule.anchors {
            rule_slots.push((slot(anchor.as_bytes()), id));
        }
    }
    let mut tag_slots = Vec::new();
    let mut cue_slots = Vec::new();
    match surface {
        Surface::Original => {
            for prefix in TAG_PREFIXES {
                tag_slots.push(slot(prefix));
            }
        }
        Surface::Folded => {
            for cue in BLOB_CUES {
                cue_slots.push(slot(cue.as_bytes()));
            }
        }
    }
    for (s, id) in rule_slots {
        if let Some(a) = anchors.get_mut(s) {
            a.rules.push(id);
        }
    }
    for s in tag_slots {
        if let Some(a) = anchors.get_mut(s) {
            a.tag = true;
        }
    }
    for s in cue_slots {
        if let Some(a) = anchors.get_mut(s) {
            a.blob_cue = true;
        }
    }
    // Leftmost-longest search reports `jailbroken` but not a shorter anchor inside it, so an
    // anchor also triggers everything its substrings trigger.
    let mut closed = anchors.clone();
    for (i, outer) in texts.iter().enumerate() {
        for (j, inner) in texts.iter().enumerate() {
            if i == j || !contains(outer, inner) {
                continue;
            }
            let (Some(source), Some(target)) = (anchors.get(j), closed.get_mut(i)) else {
                continue;
            };
            target.rules.extend_from_slice(&source.rules);
            target.blob_cue |= source.blob_cue;
        }
    }
    for anchor in &mut closed {
        anchor.rules.sort_unstable();
        anchor.rules.dedup();
    }
    let scanner = if texts.is_empty() {
        None
    } else {
        Some(LiteralScanner::build(&texts)?)
    };
    Ok(AnchorIndex {
        scanner,
        anchors: closed,
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Expand the rule-template dialect (see `patterns`) into regex syntax. Character classes are
/// copied verbatim.
fn expand_template(template: &str) -> String {
    let mut out = String::with_capacity(template.len() * 2);
    let mut in_class = false;
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('b') if !in_class => out.push_str(r"(?-u:\b)"),
                Some('w') if in_class => out.push_str(TEMPLATE_WORD_CLASS_ITEMS),
                Some('w') => {
                    out.push('[');
                    out.push_str(TEMPLATE_WORD_CLASS_ITEMS);
                    out.push(']');
                }
                Some(next) => {
                    out.push('\\');
                    out.push(next);
                }
                None => out.push('\\'),
            }
            continue;
        }
        if in_class {
            if c == ']' {
                in_class = false;
            }
            out.push(c);
            continue;
        }
        match c {
            '[' => {
                in_class = true;
                out.push(c);
                // A `]` or `^]` right after the opening bracket is a literal.
                if chars.peek() == Some(&'^') {
                    chars.next();
                    out.push('^');
                }
                if chars.peek() == Some(&']') {
                    chars.next();
                    out.push(']');
                }
            }
            ' ' if chars.peek() == Some(&'?') => {
                chars.next();
                out.push_str(TEMPLATE_OPTIONAL_SEPARATOR);
            }
            ' ' => out.push_str(TEMPLATE_SEPARATOR),
            '\'' => out.push_str("['’]?"),
            '{' if chars.peek() == Some(&'g') => {
                let mut lookahead = chars.clone();
                lookahead.next();
                let n = lookahead.next().and_then(|d| d.to_digit(10));
                match (n, lookahead.next()) {
                    (Some(n), Some('}')) if n <= TEMPLATE_MAX_GAP => {
                        out.push_str(&format!(
                            "(?:{TEMPLATE_GAP_WORD}{TEMPLATE_SEPARATOR}){{0,{n}}}"
                        ));
                        chars = lookahead;
                    }
                    _ => out.push(c),
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// What a slot has accumulated so far.
struct Tally {
    /// Per rule: already counted (each rule contributes once).
    seen: Vec<bool>,
    /// `Π(1 - wᵢ)` over everything counted.
    miss: f32,
    /// Strongest contribution: weight, kind, original span.
    best: Option<(f32, Cow<'static, str>, usize, usize)>,
}

impl Tally {
    fn new(rules: usize) -> Self {
        Tally {
            seen: vec![false; rules],
            miss: 1.0,
            best: None,
        }
    }

    fn seen(&self, rule: usize) -> bool {
        self.seen.get(rule).copied().unwrap_or(true)
    }

    fn add_rule(&mut self, rule: usize, compiled: &CompiledRule, span: (usize, usize)) {
        if let Some(s) = self.seen.get_mut(rule) {
            if *s {
                return;
            }
            *s = true;
        }
        self.add(compiled.weight, compiled.kind.clone(), span);
    }

    fn add(&mut self, weight: f32, kind: Cow<'static, str>, (start, end): (usize, usize)) {
        if start >= end {
            return;
        }
        self.miss *= 1.0 - weight.clamp(0.0, 1.0);
        let stronger = match &self.best {
            None => true,
            Some((w, _, s, _)) => weight > *w || (weight == *w && start < *s),
        };
        if stronger {
            self.best = Some((weight, kind, start, end));
        }
    }
}

impl InjectionHeuristics {
    /// Run the windowed rules of one surface over `text`; `to_original` maps a span of `text`
    /// to the original slot text.
    fn scan_surface(
        &self,
        index: &AnchorIndex,
        text: &str,
        to_original: impl Fn(usize, usize) -> Option<(usize, usize)>,
        tally: &mut Tally,
        signals: &mut Signals,
    ) {
        let Some(scanner) = &index.scanner else {
            return;
        };
        let bytes = text.as_bytes();
        let mut windows: Vec<(u16, usize, usize)> = Vec::new();
        scanner.for_each(bytes, |id, hit_start, hit_end| {
            // Where an anchored regex starts reading: at the occurrence for `At::Start`, a
            // window's length before it for `At::End` (the regex then ends at its word's end).
            let slice_from = |at: At| match at {
                At::Start => Some(hit_start),
                At::End => Some(floor_boundary(
                    text,
                    hit_start.saturating_sub(WINDOW_BEFORE),
                )),
                At::Inside => None,
            };
            let Some(anchor) = index.anchors.get(id) else {
                return;
            };
            if !anchor.fits(bytes, hit_start, hit_end) {
                return;
            }
            if anchor.tag {
                signals.tag_hit(bytes, hit_start);
            }
            signals.blob_cue |= anchor.blob_cue;
            if anchor.rules.is_empty() {
                return;
            }
            let start = floor_boundary(text, hit_start.saturating_sub(WINDOW_BEFORE));
            let end = ceil_boundary(text, hit_end.saturating_add(WINDOW_AFTER));
            for &r in &anchor.rules {
                let r_index = usize::from(r);
                if tally.seen(r_index) {
                    continue;
                }
                let Some(compiled) = self.rules.get(r_index) else {
                    continue;
                };
                let (Some(anchored), Some(offset)) = (&compiled.anchored, slice_from(compiled.at))
                else {
                    windows.push((r, start, end));
                    continue;
                };
                let haystack_end = match compiled.at {
                    At::End => word_end(bytes, hit_end),
                    At::Start | At::Inside => end,
                };
                let Some(haystack) = text.get(offset..haystack_end) else {
                    continue;
                };
                if let Some(m) = anchored.find(haystack) {
                    if let Some(span) = to_original(offset + m.start(), offset + m.end()) {
                        tally.add_rule(r_index, compiled, span);
                    }
                }
            }
        });
        if windows.is_empty() {
            return;
        }
        windows.sort_unstable();
        let mut i = 0;
        while let Some(&(rule, start, mut end)) = windows.get(i) {
            i += 1;
            while let Some(&(next_rule, next_start, next_end)) = windows.get(i) {
                if next_rule != rule || next_start > end {
                    break;
                }
                end = end.max(next_end);
                i += 1;
            }
            let r = usize::from(rule);
            if tally.seen(r) {
                continue;
            }
            let (Some(compiled), Some(haystack)) = (self.rules.get(r), text.get(..end)) else {
                continue;
            };
            if let Some(m) = compiled.regex.find_at(haystack, start) {
                if let Some(span) = to_original(m.start(), m.end()) {
                    tally.add_rule(r, compiled, span);
                }
            }
        }
    }
}

/// Signals gathered during the anchor scans.
#[derive(Default)]
struct Signals {
    /// Longest run of tag characters so far, and its span.
    tag_run: Option<(usize, usize)>,
    /// Bytes before this offset were already counted in a tag run.
    tag_scanned_to: usize,
    /// The slot mentions base64 or decoding.
    blob_cue: bool,
}

impl Signals {
    fn tag_hit(&mut self, bytes: &[u8], at: usize) {
        if at < self.tag_scanned_to {
            return;
        }
        let mut end = at;
        while bytes.get(end..end + 4).is_some_and(is_tag_char) {
            end += 4;
        }
        self.tag_scanned_to = end.max(at + 1);
        let len = (end - at) / 4;
        let longest = self.tag_run.map_or(0, |(s, e)| (e - s) / 4);
        if len > longest {
            self.tag_run = Some((at, end));
        }
    }
}

fn is_tag_char(c: &[u8]) -> bool {
    matches!(c, [0xF3, 0xA0, 0x80 | 0x81, 0x80..=0xBF])
}

/// The first context-flooding run in `text`: at least [`FLOOD_MIN_BYTES`] bytes made of one
/// unit of at most [`FLOOD_MAX_PERIOD`] bytes repeated, where the unit is not a single repeated
/// byte (rules such as `-----` and runs of spaces are ordinary formatting).
fn flood_span(text: &str) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    if bytes.len() < FLOOD_MIN_BYTES {
        return None;
    }
    let word = |i: usize| -> Option<u64> {
        bytes
            .get(i..i + 8)
            .and_then(|s| <[u8; 8]>::try_from(s).ok())
            .map(u64::from_ne_bytes)
    };
    // (first sampled offset of the current run, its period, samples in it)
    let mut run: Option<(usize, usize, usize)> = None;
    let mut at = FLOOD_MAX_PERIOD;
    while at + 8 <= bytes.len() {
        let here = word(at);
        let period = (1..=FLOOD_MAX_PERIOD).find(|&p| word(at - p) == here);
        run = match (run, period) {
            (Some((first, p, n)), Some(q)) if p == q => Some((first, p, n + 1)),
            (_, Some(q)) => Some((at, q, 1)),
            (_, None) => None,
        };
        if let Some((first, p, n)) = run {
            if n * FLOOD_STRIDE >= FLOOD_MIN_BYTES {
                if let Some(span) = verify_flood(text, first, p) {
                    return Some(span);
                }
                run = None;
            }
        }
        at += FLOOD_STRIDE;
    }
    None
}

/// Measure the exact periodic run through `from` with period `p`; `Some` if it is a flood.
fn verify_flood(text: &str, from: usize, p: usize) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let same = |i: usize| i >= p && bytes.get(i) == bytes.get(i - p) && i < bytes.len();
    let mut start = from;
    while start > p && same(start - 1) {
        start -= 1;
    }
    let mut end = from;
    while same(end) {
        end += 1;
    }
    let unit_start = start.checked_sub(p)?;
    let unit = bytes.get(unit_start..start)?;
    let first = unit.first()?;
    if unit.iter().all(|b| b == first) || end - unit_start < FLOOD_MIN_BYTES {
        return None;
    }
    Some((floor_boundary(text, unit_start), ceil_boundary(text, end)))
}

/// The end of the word that contains byte `i - 1` (ASCII word characters, as in the templates).
fn word_end(text: &[u8], mut i: usize) -> usize {
    while text
        .get(i)
        .is_some_and(|&b| b.is_ascii_alphanumeric() || b == b'_')
    {
        i += 1;
    }
    i
}

/// Largest char boundary `<= i` (clamped to the text).
fn floor_boundary(text: &str, i: usize) -> usize {
    let mut i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Smallest char boundary `>= i` (clamped to the text).
fn ceil_boundary(text: &str, i: usize) -> usize {
    let mut i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

impl Detector for InjectionHeuristics {
    fn name(&self) -> &'static str {
        DETECTOR_NAME
    }

    fn category(&self) -> Category {
        Category::Injection
    }

    fn scan(&self, text: &ScanText<'_>, out: &mut Vec<Match>) {
        let original = text.original();
        if original.is_empty() {
            return;
        }
        let mut tally = Tally::new(self.rules.len());
        let mut signals = Signals::default();
        self.scan_surface(
            &self.original,
            original,
            |s, e| Some((s, e)),
            &mut tally,
            &mut signals,
        );

        let normalized = text.normalized();
        let folded = normalized.text();
        self.scan_surface(
            &self.folded,
            folded,
            |s, e| normalized.original_span(s, e),
            &mut tally,
            &mut signals,
        );
        for (r, compiled) in self.rules.iter().enumerate().skip(self.extra_start) {
            if let Some(m) = compiled.regex.find(folded) {
                if let Some(span) = normalized.original_span(m.start(), m.end()) {
                    tally.add_rule(r, compiled, span);
                }
            }
        }

        if let Some((s, e)) = signals.tag_run {
            if (e - s) / 4 >= TAG_RUN_MIN {
                tally.add(TAG_RUN_WEIGHT, Cow::Borrowed(OBFUSCATION), (s, e));
            }
        }
        if signals.blob_cue {
            if let Some(m) = self
                .blob
                .find_iter(original)
                .find(|m| looks_encoded(m.as_str()))
            {
                tally.add(
                    BLOB_WEIGHT,
                    Cow::Borrowed(OBFUSCATION),
                    (m.start(), m.end()),
                );
            }
        }
        if let Some(span) = flood_span(original) {
            tally.add(FLOOD_WEIGHT, Cow::Borrowed(OBFUSCATION), span);
        }

        if let Some((_, kind, start, end)) = tally.best {
            let score = (1.0 - tally.miss).clamp(0.0, 1.0);
            out.push(Match {
                kind,
                start,
                end,
                score,
            });
        }
    }
}

/// Base64 of text mixes upper case, lower case and digits; hex digests, identifiers and long
/// words do not.
fn looks_encoded(blob: &str) -> bool {
    let upper = blob.bytes().any(|b| b.is_ascii_uppercase());
    let lower = blob.bytes().any(|b| b.is_ascii_lowercase());
    let digit = blob
        .bytes()
        .any(|b| b.is_ascii_digit() || b == b'+' || b == b'/');
    upper && lower && digit
}

#[cfg(test)]
mod tests {}
