//! The semantic-similarity guard: the prompt's embedding compared with a database of known
//! attack prompts (the nearest-neighbour filter of the prompt-filtration seed).
//!
//! Embeddings are the heavy tier's work, so this detector never decides by itself: every
//! non-blank slot is escalated to the `similarity` model, which answers with the best matches
//! and their cosine similarities; a best match at or above the database's threshold is a
//! `known_attack` finding (tier 3). In the wasm filter that means one Classify call per guarded
//! request; in ext-proc it runs in-process.

use serde::Deserialize;

use super::{Category, Detector, Match, ScanText};
use crate::vocab::{FailureMode, Heavy, HeavyModel};

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SimilarityOptions {
    /// What a failed escalation does (`open`, the default, or `closed`).
    #[serde(default)]
    pub on_failure: FailureMode,
}

pub struct SimilarityDetector {
    on_failure: FailureMode,
}

impl SimilarityDetector {
    pub fn new(opts: &SimilarityOptions) -> Self {
        SimilarityDetector {
            on_failure: opts.on_failure,
        }
    }
}

impl Detector for SimilarityDetector {
    fn name(&self) -> &'static str {
        "similarity"
    }

    fn category(&self) -> Category {
        Category::Injection
    }

    fn scan(&self, text: &ScanText<'_>, out: &mut Vec<Match>) {
        let original = text.original();
        if !original.trim().is_empty() {
            out.push(Match::escalation("known_attack", 0, original.len(), 0.0));
        }
    }

    fn tier(&self) -> u8 {
        3
    }

    fn heavy(&self) -> Option<Heavy> {
        Some(Heavy {
            model: HeavyModel::Similarity,
            on_failure: self.on_failure,
        })
    }
}
