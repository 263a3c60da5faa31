//! Detectors: each one looks at one text slot and reports spans.
//!
//! A detector is compiled once (regexes, automata, tables) when the policy is compiled and is
//! then shared read-only by every request. `scan` must be cheap, allocation-light and must never
//! panic: it runs inside Envoy's data path.
//!
//! Spans are byte offsets into the *original* slot text (`ScanText::original`), so the engine can
//! mask exactly the bytes that matched. Detectors that match on the normalised form map their
//! spans back through [`crate::normalize::Normalized::original_span`].

pub mod dfa_scan;
pub mod injection;
pub mod lazy_regex;
pub mod literals;
#[cfg(feature = "models")]
pub mod model;
pub mod pii;
pub mod regex_custom;
pub mod secrets;
pub mod similarity;
pub mod wordlist;

pub use crate::vocab::Category;
use std::borrow::Cow;

use crate::normalize::Normalized;

/// Check a config-supplied finding kind (it becomes the `[KIND]` mask placeholder and a stats
/// label): non-empty, ASCII letters, digits and `_`. `field` is the config path for the error.
pub fn check_kind(field: &str, kind: &str) -> Result<(), String> {
    if kind.is_empty() || !kind.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "{field}: `{kind}` must be non-empty snake_case ([A-Za-z0-9_])"
        ));
    }
    Ok(())
}

/// One span a detector reports.
///
/// `kind` is a stable snake_case name of what was found (`email`, `aws_access_key`,
/// `instruction_override`); the mask placeholder is derived from it (`[EMAIL]`).
/// `score` is in `0.0..=1.0`: validated structured matches (Luhn-checked cards, prefixed tokens)
/// report high scores, context-dependent ones lower.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub kind: Cow<'static, str>,
    pub start: usize,
    pub end: usize,
    pub score: f32,
    /// The detector could not settle this span: the heavy tier must (see [`Detector::heavy`]).
    pub escalate: bool,
}

impl Match {
    pub fn new(kind: impl Into<Cow<'static, str>>, start: usize, end: usize, score: f32) -> Self {
        Match {
            kind: kind.into(),
            start,
            end,
            score,
            escalate: false,
        }
    }

    /// An uncertain match for the heavy tier to settle.
    pub fn escalation(
        kind: impl Into<Cow<'static, str>>,
        start: usize,
        end: usize,
        score: f32,
    ) -> Self {
        Match {
            escalate: true,
            ..Match::new(kind, start, end, score)
        }
    }
}

/// The text of one slot, in the forms detectors need.
///
/// `original` is the exact text the client sent (after JSON unescaping). The normalised form
/// (NFKC, invisible characters removed, homoglyph/leet folding, spaced-out letters joined) is
/// built lazily, at most once per slot, and only if a detector asks for it.
pub struct ScanText<'a> {
    original: &'a str,
    normalized: std::cell::OnceCell<Normalized>,
    folded_hits: std::cell::OnceCell<Vec<literals::Hit>>,
    #[cfg(feature = "models")]
    features: std::cell::OnceCell<crate::classifier::featurizer::Features>,
}

impl<'a> ScanText<'a> {
    pub fn new(original: &'a str) -> Self {
        ScanText {
            original,
            normalized: std::cell::OnceCell::new(),
            folded_hits: std::cell::OnceCell::new(),
            #[cfg(feature = "models")]
            features: std::cell::OnceCell::new(),
        }
    }

    /// The tier-2 featurizer's view of the original text (tokens and feature hashes), computed
    /// at most once per slot for every model guard.
    #[cfg(feature = "models")]
    pub fn features(&self) -> &crate::classifier::featurizer::Features {
        self.features
            .get_or_init(|| crate::classifier::featurizer::Features::new(self.original))
    }

    /// Every occurrence of the built-in folded-text literals ([`literals`]) in
    /// [`ScanText::normalized`], searched at most once per slot for all guards.
    pub fn folded_hits(&self) -> &[literals::Hit] {
        self.folded_hits
            .get_or_init(|| literals::folded_literals().hits(self.normalized().text()))
    }

    /// The exact slot text; spans in [`Match`] index into this.
    pub fn original(&self) -> &'a str {
        self.original
    }

    /// The folded form for keyword and heuristic matching.
    pub fn normalized(&self) -> &Normalized {
        self.normalized
            .get_or_init(|| Normalized::new(self.original))
    }
}

/// A compiled detector.
pub trait Detector: Send + Sync {
    /// The detector's name as written in the config (`pii`, `secrets`, `profanity`, …).
    fn name(&self) -> &'static str;
    /// The category every match of this detector falls in.
    fn category(&self) -> Category;
    /// Append every match in `text` to `out`. Spans index into `text.original()`, are on
    /// `char` boundaries, and satisfy `start < end`.
    fn scan(&self, text: &ScanText<'_>, out: &mut Vec<Match>);
    /// The cascade tier that decides with this detector: 1 for rules, 2 for in-filter models,
    /// 3 for the heavy tier.
    fn tier(&self) -> u8 {
        1
    }
    /// Does this detector match exact bytes that look-alike characters could hide (secrets,
    /// PII)? Then the engine also runs it over the slot's compatibility fold
    /// ([`crate::normalize::CompatFolded`]) and maps the matches back.
    fn reads_folded(&self) -> bool {
        false
    }
    /// For detectors whose uncertain matches ([`Match::escalate`]) go to the heavy tier: which
    /// heavy model settles them and what a failed escalation does.
    fn heavy(&self) -> Option<crate::vocab::Heavy> {
        None
    }
    /// For model detectors: the score name and the model's score for `text`, even below any
    /// threshold (`parapet scan --scores`). Rule detectors have none.
    fn model_score(&self, _text: &ScanText<'_>) -> Option<(&'static str, f32)> {
        None
    }
}
