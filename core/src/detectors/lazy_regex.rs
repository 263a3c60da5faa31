//! A regex compiled when first needed.
//!
//! The built-in rule tables (injection heuristics, secrets) hold a few hundred regexes, and
//! compiling them was most of what loading a policy cost: tens of milliseconds natively, paid
//! again by every Wasm VM Envoy starts (the main thread's and each worker's), on the path to
//! `/ready`. Yet a rule's regex only runs next to an occurrence of one of its anchors, which
//! ordinary traffic rarely contains. So built-in regexes compile on first use (each detector's
//! tests compile every one), while a pattern from the config is compiled at load
//! ([`LazyRegex::eager`]), so its errors stay config errors.

use std::sync::OnceLock;

use regex::{Regex, RegexBuilder};

#[derive(Debug)]
pub struct LazyRegex {
    pattern: String,
    case_insensitive: bool,
    size_limit: usize,
    compiled: OnceLock<Option<Regex>>,
}

impl LazyRegex {
    /// A regex compiled on the first [`LazyRegex::get`].
    pub fn new(pattern: String, case_insensitive: bool, size_limit: usize) -> Self {
        LazyRegex {
            pattern,
            case_insensitive,
            size_limit,
            compiled: OnceLock::new(),
        }
    }

    /// A regex compiled now: an invalid pattern is an error.
    pub fn eager(
        pattern: String,
        case_insensitive: bool,
        size_limit: usize,
    ) -> Result<Self, regex::Error> {
        let lazy = LazyRegex::new(pattern, case_insensitive, size_limit);
        let regex = lazy.build()?;
        let _ = lazy.compiled.set(Some(regex));
        Ok(lazy)
    }

    /// The compiled regex; `None` only for a pattern that does not compile.
    pub fn get(&self) -> Option<&Regex> {
        self.compiled.get_or_init(|| self.build().ok()).as_ref()
    }

    /// Whether the regex is compiled already (an eager one, or one used before).
    pub fn compiled_now(&self) -> bool {
        self.compiled.get().is_some()
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    fn build(&self) -> Result<Regex, regex::Error> {
        RegexBuilder::new(&self.pattern)
            .case_insensitive(self.case_insensitive)
            .size_limit(self.size_limit)
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_on_first_use_and_keeps_it() {
        let lazy = LazyRegex::new("ab+c".into(), true, 1 << 20);
        assert!(!lazy.compiled_now());
        let first = lazy.get().unwrap() as *const Regex;
        assert!(lazy.get().unwrap().is_match("xABBC"));
        assert_eq!(first, lazy.get().unwrap() as *const Regex);
    }

    #[test]
    fn eager_reports_a_bad_pattern_and_lazy_yields_none() {
        assert!(LazyRegex::eager("(".into(), false, 1 << 20).is_err());
        assert!(LazyRegex::new("(".into(), false, 1 << 20).get().is_none());
        let ok = LazyRegex::eager("a".into(), false, 1 << 20).unwrap();
        assert!(ok.compiled_now());
    }

    #[test]
    fn the_size_limit_applies() {
        assert!(LazyRegex::eager(r"\w{1000}".into(), false, 1 << 10).is_err());
    }
}
