//! Word lists with severity and whole-word matching: the shipped profanity list and
//! config-supplied lists (competitors, banned topics).
//!
//! Terms and text are both folded by [`crate::normalize`], so `ｓｈ1ｔ`, `s h i t` and `shіt`
//! (Cyrillic і) all match the term `shit`; matches are whole words on the folded text (the
//! characters either side are not alphanumeric), so `class` never matches `ass`, with common
//! inflections allowed ([`INFLECTIONS`]: `cunts`, `bitched`). Terms marked as stems (only in
//! the shipped profanity list) match inside any word — `fucktard`, `pigfukker` — and report
//! the whole word. All terms of a list go into one Aho-Corasick automaton, so cost does not
//! grow with the list's size; the shipped list (without `extra_terms`) reads its occurrences
//! from the pass over the folded text that it shares with the injection rules
//! ([`super::literals`]).

use serde::{Deserialize, Serialize};

use super::dfa_scan::LiteralDfa;
use super::{Category, Detector, Match, ScanText};
use crate::normalize::Normalized;

/// The shipped profanity list (`term<TAB>severity`); see `models/wordlists/`.
const PROFANITY_TSV: &str = include_str!("../../data/profanity.tsv");

/// Suffixes a whole-word term may carry and still match (`slut` → `sluts`, `wank` → `wanker`).
pub const INFLECTIONS: [&str; 10] = ["s", "es", "ed", "ing", "in", "er", "ers", "y", "ies", "z"];

/// How offensive a term is. Guards report terms at or above their `min_severity`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    /// The match score a term of this severity reports.
    fn score(self) -> f32 {
        match self {
            Severity::Low => 0.6,
            Severity::Medium => 0.8,
            Severity::High => 1.0,
        }
    }

    fn parse(s: &str) -> Option<Severity> {
        match s {
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            _ => None,
        }
    }
}

/// A list entry: a bare string (severity `medium`) or `{term, severity}`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum TermEntry {
    Bare(String),
    Rated { term: String, severity: Severity },
}

impl TermEntry {
    fn parts(&self) -> (&str, Severity) {
        match self {
            TermEntry::Bare(t) => (t, Severity::Medium),
            TermEntry::Rated { term, severity } => (term, *severity),
        }
    }
}

/// Options of the `profanity` detector.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ProfanityOptions {
    /// Report terms at or above this severity. Default `medium`.
    #[serde(default = "default_medium")]
    pub min_severity: Severity,
    /// Terms added to the shipped list.
    #[serde(default)]
    pub extra_terms: Vec<TermEntry>,
    /// Terms of the shipped list never to report (e.g. a brand name).
    #[serde(default)]
    pub allow: Vec<String>,
}

impl Default for ProfanityOptions {
    fn default() -> Self {
        ProfanityOptions {
            min_severity: Severity::Medium,
            extra_terms: Vec::new(),
            allow: Vec::new(),
        }
    }
}

fn default_medium() -> Severity {
    Severity::Medium
}

/// Options of the `wordlist` detector (competitors, banned topics, internal code names).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct WordlistOptions {
    /// The finding kind and mask placeholder (`competitor` → `[COMPETITOR]`). Default `wordlist`.
    #[serde(default = "default_kind")]
    pub kind: String,
    /// The terms; at least one.
    pub terms: Vec<TermEntry>,
    /// Report terms at or above this severity. Default `low` (every term).
    #[serde(default = "default_low")]
    pub min_severity: Severity,
}

fn default_kind() -> String {
    "wordlist".to_string()
}
fn default_low() -> Severity {
    Severity::Low
}

/// A list entry before compilation.
struct Term {
    text: String,
    severity: Severity,
    /// Matches inside words, reporting the whole word.
    stem: bool,
}

/// Where a list's occurrences come from.
enum Matcher {
    /// The list's own automaton, with the severity and stem flag of each pattern by id.
    Own(Box<LiteralDfa>, Vec<(Severity, bool)>),
    /// The shared folded-text pass ([`super::literals`]): severity and stem flag by shared
    /// pattern id, `None` for literals not on this list.
    Shared(Vec<Option<(Severity, bool)>>),
}

/// A compiled word list.
pub struct WordlistDetector {
    name: &'static str,
    category: Category,
    kind: std::borrow::Cow<'static, str>,
    matcher: Matcher,
    min_severity: Severity,
}

impl WordlistDetector {
    /// The `profanity` detector: the shipped list plus `extra_terms`, minus `allow`.
    pub fn profanity(opts: &ProfanityOptions) -> Result<Self, String> {
        let allow: Vec<String> = opts.allow.iter().map(|t| fold_term(t)).collect();
        let mut terms: Vec<Term> = Vec::new();
        for line in PROFANITY_TSV.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let mut cols = line.split('\t');
            let (Some(text), Some(severity)) = (cols.next(), cols.next().and_then(Severity::parse))
            else {
                continue;
            };
            let stem = cols.next() == Some("stem");
            terms.push(Term {
                text: text.to_string(),
                severity,
                stem,
            });
        }
        for e in &opts.extra_terms {
            let (t, s) = e.parts();
            terms.push(Term {
                text: t.to_string(),
                severity: s,
                stem: false,
            });
        }
        terms.retain(|t| !allow.contains(&fold_term(&t.text)));
        Self::build(
            "profanity",
            Category::Profanity,
            "profanity".into(),
            terms,
            opts.min_severity,
            opts.extra_terms.is_empty(),
        )
    }

    /// A config-supplied list.
    pub fn wordlist(opts: &WordlistOptions) -> Result<Self, String> {
        if opts.terms.is_empty() {
            return Err("terms: the list is empty; add at least one term".to_string());
        }
        super::check_kind("kind", &opts.kind)?;
        let terms = opts.terms.iter().map(|e| {
            let (t, s) = e.parts();
            Term {
                text: t.to_string(),
                severity: s,
                stem: false,
            }
        });
        Self::build(
            "wordlist",
            Category::Wordlist,
            opts.kind.to_ascii_lowercase().into(),
            terms.collect(),
            opts.min_severity,
            false,
        )
    }

    fn build(
        name: &'static str,
        category: Category,
        kind: std::borrow::Cow<'static, str>,
        terms: Vec<Term>,
        min_severity: Severity,
        shared: bool,
    ) -> Result<Self, String> {
        // Fold every term the way text is folded; keep the highest severity of duplicates.
        let mut folded: std::collections::BTreeMap<String, (Severity, bool)> = Default::default();
        for (i, t) in terms.iter().enumerate() {
            let f = fold_term(&t.text);
            if f.is_empty() {
                return Err(format!(
                    "terms[{i}]: `{}` is empty after normalisation",
                    t.text
                ));
            }
            let e = folded.entry(f).or_insert((t.severity, t.stem));
            *e = (e.0.max(t.severity), e.1 || t.stem);
        }
        if shared {
            let literals = super::literals::folded_literals();
            let meta: Vec<Option<(Severity, bool)>> = (0..literals.len())
                .map(|p| {
                    let text = std::str::from_utf8(literals.text(p as u32)).unwrap_or("");
                    folded.get(text).copied()
                })
                .collect();
            // Every term must be a shared literal, or the shared pass would miss it.
            let covered = meta.iter().filter(|m| m.is_some()).count();
            if covered == folded.len() {
                return Ok(WordlistDetector {
                    name,
                    category,
                    kind,
                    matcher: Matcher::Shared(meta),
                    min_severity,
                });
            }
        }
        let (patterns, meta): (Vec<String>, Vec<(Severity, bool)>) = folded.into_iter().unzip();
        // The DFA the shared pass walks (one table lookup per byte, four chains at once), built
        // from a trie: every occurrence of every term, as an overlapping search reports them.
        let automaton =
            LiteralDfa::new(&patterns).map_err(|e| format!("terms: cannot build matcher: {e}"))?;
        Ok(WordlistDetector {
            name,
            category,
            kind,
            matcher: Matcher::Own(Box::new(automaton), meta),
            min_severity,
        })
    }
}

/// The shipped profanity list's terms, folded (each once): the list's part of the shared
/// folded-text literals ([`super::literals`]).
pub(crate) fn builtin_profanity_terms() -> Vec<String> {
    let mut terms: Vec<String> = PROFANITY_TSV
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split('\t').next())
        .map(fold_term)
        .filter(|t| !t.is_empty())
        .collect();
    terms.sort_unstable();
    terms.dedup();
    terms
}

/// Fold a list term exactly as scanned text is folded.
fn fold_term(term: &str) -> String {
    Normalized::new(term.trim()).text().to_string()
}

fn is_word_char(c: Option<char>) -> bool {
    c.is_some_and(char::is_alphanumeric)
}

/// The span a hit at `start..end` of `hay` reports, if it counts: a stem extends to its whole
/// word; any other term must start at a word boundary and end at one, possibly after one of the
/// [`INFLECTIONS`].
fn word_span(hay: &str, start: usize, end: usize, stem: bool) -> Option<(usize, usize)> {
    let before = hay.get(..start).and_then(|s| s.chars().next_back());
    let rest = hay.get(end..)?;
    let word_end = end
        + rest
            .find(|c: char| !c.is_alphanumeric())
            .unwrap_or(rest.len());
    if stem {
        let head = hay.get(..start)?;
        let word_start = head.rfind(|c: char| !c.is_alphanumeric()).map_or(0, |i| {
            i + head[i..].chars().next().map_or(1, char::len_utf8)
        });
        return Some((word_start, word_end));
    }
    if is_word_char(before) {
        return None;
    }
    let suffix = hay.get(end..word_end)?;
    (suffix.is_empty() || INFLECTIONS.contains(&suffix)).then_some((start, word_end))
}

impl Detector for WordlistDetector {
    fn name(&self) -> &'static str {
        self.name
    }

    fn category(&self) -> Category {
        self.category
    }

    fn scan(&self, text: &ScanText<'_>, out: &mut Vec<Match>) {
        let norm = text.normalized();
        match &self.matcher {
            Matcher::Own(automaton, terms) => {
                let mut found = Vec::new();
                automaton.find_all(norm.text().as_bytes(), &mut found);
                let hits = found.into_iter().map(|h| {
                    let meta = terms
                        .get(h.pattern as usize)
                        .copied()
                        .unwrap_or((Severity::Low, false));
                    // u32 → usize is lossless on every target (wasm32 included)
                    (h.start as usize, h.end as usize, meta)
                });
                self.keep_words(norm, hits, out);
            }
            Matcher::Shared(meta) => {
                let hits = text.folded_hits().iter().filter_map(|h| {
                    let m = meta.get(h.pattern as usize).copied().flatten()?;
                    Some((h.start as usize, h.end as usize, m))
                });
                self.keep_words(norm, hits, out);
            }
        }
    }
}

impl WordlistDetector {
    /// Of every occurrence (overlapping, in the automaton's order), keep the whole-word hits at
    /// or above the minimum severity; of hits that overlap keep the longest.
    fn keep_words(
        &self,
        norm: &Normalized,
        occurrences: impl Iterator<Item = (usize, usize, (Severity, bool))>,
        out: &mut Vec<Match>,
    ) {
        let hay = norm.text();
        let mut last_end = 0usize;
        let mut pending: Option<(usize, usize, Severity)> = None;
        for (m_start, m_end, (sev, stem)) in occurrences {
            if sev < self.min_severity {
                continue;
            }
            let Some((start, end)) = word_span(hay, m_start, m_end, stem) else {
                continue;
            };
            match pending {
                Some((s, e, ps)) if start < e => {
                    if end - start > e - s {
                        pending = Some((start, end, sev.max(ps)));
                    }
                }
                _ => {
                    if let Some(p) = pending.take() {
                        self.emit(norm, p, &mut last_end, out);
                    }
                    pending = Some((start, end, sev));
                }
            }
        }
        if let Some(p) = pending {
            self.emit(norm, p, &mut last_end, out);
        }
    }

    fn emit(
        &self,
        norm: &Normalized,
        (s, e, sev): (usize, usize, Severity),
        last_end: &mut usize,
        out: &mut Vec<Match>,
    ) {
        if let Some((os, oe)) = norm.original_span(s, e) {
            if os >= *last_end {
                out.push(Match::new(self.kind.clone(), os, oe, sev.score()));
                *last_end = oe;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(d: &WordlistDetector, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        d.scan(&ScanText::new(text), &mut out);
        out.iter()
            .map(|m| text[m.start..m.end].to_string())
            .collect()
    }

    #[test]
    fn profanity_table() {
        let d = WordlistDetector::profanity(&ProfanityOptions::default()).unwrap();
        let cases: &[(&str, &[&str])] = &[
            ("what the fuck is this", &["fuck"]),
            ("WHAT THE FUCK", &["FUCK"]),
            ("you are a sh1t person", &["sh1t"]),
            ("f u c k this", &["f u c k"]),
            ("ｆｕｃｋ", &["ｆｕｃｋ"]),
            ("fu\u{200B}ck off", &["fu\u{200B}ck"]),
            ("motherfucker!", &["motherfucker"]),
            // Stems match inside compounds and report the whole word; whole words take
            // inflections.
            ("you fucktards", &["fucktards"]),
            ("a pigfukker and a sh1tass", &["pigfukker", "sh1tass"]),
            ("those sluts and wankers", &["sluts", "wankers"]),
            (
                "Scunthorpe, cocktails, sniggering at Dickens, shiitake",
                &[],
            ),
            ("he said “fuck” and left", &["fuck"]),
            ("émile said fuck", &["fuck"]),
            ("blow job", &["blow job"]),
            // Negatives and near misses: substrings of ordinary words, mild words below medium.
            ("the class assignment", &[]),
            ("Scunthorpe United", &[]),
            ("damn, that is hard", &[]),
            ("kill the process with SIGTERM", &[]),
            ("cocktail hour", &[]),
            ("", &[]),
        ];
        for (text, want) in cases {
            assert_eq!(hits(&d, text), *want, "text {text:?}");
        }
    }

    #[test]
    fn severity_threshold_and_allow() {
        let low = WordlistDetector::profanity(&ProfanityOptions {
            min_severity: Severity::Low,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(hits(&low, "damn it"), ["damn"]);
        let allow = WordlistDetector::profanity(&ProfanityOptions {
            allow: vec!["fuck".into()],
            ..Default::default()
        })
        .unwrap();
        assert!(hits(&allow, "fuck").is_empty());
    }

    #[test]
    fn config_wordlist() {
        let d = WordlistDetector::wordlist(&WordlistOptions {
            kind: "competitor".into(),
            terms: vec![
                TermEntry::Bare("Acme Corp".into()),
                TermEntry::Bare("globex".into()),
            ],
            min_severity: Severity::Low,
        })
        .unwrap();
        let mut out = Vec::new();
        d.scan(
            &ScanText::new("Is ACME  corp better than Globex?"),
            &mut out,
        );
        assert_eq!(out.len(), 1, "double space is not folded: {out:?}");
        out.clear();
        d.scan(
            &ScanText::new("Is acme corp better than Globex? globexx no"),
            &mut out,
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].kind, "competitor");
        assert!(WordlistDetector::wordlist(&WordlistOptions {
            kind: "x".into(),
            terms: vec![],
            min_severity: Severity::Low
        })
        .is_err());
    }
}
