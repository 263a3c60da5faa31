//! Custom regex guards from config: an operator's own patterns (employee ids, project code
//! names, internal hostnames). Patterns run on the original text, so they see exactly what the
//! client sent; all of a guard's patterns are compiled into one `RegexSet` for a single pass
//! that tells which patterns can match, then only those run to find spans.

use regex::{Regex, RegexSet};
use serde::Deserialize;

use super::{Category, Detector, Match, ScanText};

/// Largest compiled size of one custom regex; keeps a config from bloating the filter's memory.
pub const MAX_REGEX_SIZE: usize = 1 << 20;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RegexOptions {
    /// At least one pattern.
    pub patterns: Vec<CustomPattern>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CustomPattern {
    /// Finding kind and mask placeholder (`employee_id` → `[EMPLOYEE_ID]`).
    pub kind: String,
    /// Rust `regex` syntax. If it has a capture group named `value`, only that group is the span.
    pub pattern: String,
    /// Score reported for a match. Default 1.0.
    #[serde(default = "one")]
    pub score: f32,
}

fn one() -> f32 {
    1.0
}

pub struct RegexDetector {
    set: RegexSet,
    patterns: Vec<(String, Regex, f32)>,
}

impl RegexDetector {
    /// Compile. Errors name the pattern: `patterns[1].pattern: invalid regex: ...`.
    pub fn new(opts: &RegexOptions) -> Result<Self, String> {
        if opts.patterns.is_empty() {
            return Err(
                "patterns: the list is empty; add at least one {kind, pattern}".to_string(),
            );
        }
        let mut patterns = Vec::with_capacity(opts.patterns.len());
        for (i, p) in opts.patterns.iter().enumerate() {
            super::check_kind(&format!("patterns[{i}].kind"), &p.kind)?;
            if !(0.0..=1.0).contains(&p.score) {
                return Err(format!(
                    "patterns[{i}].score: {} is outside 0.0..=1.0",
                    p.score
                ));
            }
            let re = regex::RegexBuilder::new(&p.pattern)
                .size_limit(MAX_REGEX_SIZE)
                .build()
                .map_err(|e| {
                    format!(
                        "patterns[{i}].pattern: invalid regex: {}",
                        one_line(&e.to_string())
                    )
                })?;
            patterns.push((p.kind.to_ascii_lowercase(), re, p.score));
        }
        let set = RegexSet::new(opts.patterns.iter().map(|p| &p.pattern))
            .map_err(|e| format!("patterns: invalid regex set: {}", one_line(&e.to_string())))?;
        Ok(RegexDetector { set, patterns })
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Detector for RegexDetector {
    fn name(&self) -> &'static str {
        "regex"
    }

    fn category(&self) -> Category {
        Category::Custom
    }

    fn scan(&self, text: &ScanText<'_>, out: &mut Vec<Match>) {
        let hay = text.original();
        for i in self.set.matches(hay).iter() {
            let Some((kind, re, score)) = self.patterns.get(i) else {
                continue;
            };
            for caps in re.captures_iter(hay) {
                let span = caps.name("value").or_else(|| caps.get(0));
                if let Some(m) = span.filter(|m| m.start() < m.end()) {
                    out.push(Match::new(kind.clone(), m.start(), m.end(), *score));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(p: &[(&str, &str)]) -> RegexOptions {
        RegexOptions {
            patterns: p
                .iter()
                .map(|(k, p)| CustomPattern {
                    kind: k.to_string(),
                    pattern: p.to_string(),
                    score: 1.0,
                })
                .collect(),
        }
    }

    #[test]
    fn matches_and_value_group() {
        let d = RegexDetector::new(&opts(&[
            ("employee_id", r"\bEMP-\d{6}\b"),
            ("project", r"project:(?P<value>\w+)"),
        ]))
        .unwrap();
        let text = "ids EMP-123456 and EMP-12345, project:falcon";
        let mut out = Vec::new();
        d.scan(&ScanText::new(text), &mut out);
        let got: Vec<_> = out
            .iter()
            .map(|m| (m.kind.to_string(), &text[m.start..m.end]))
            .collect();
        assert_eq!(
            got,
            [
                ("employee_id".to_string(), "EMP-123456"),
                ("project".to_string(), "falcon")
            ]
        );
    }

    #[test]
    fn errors_name_the_pattern() {
        let e = RegexDetector::new(&opts(&[("a", "ok"), ("b", "(unclosed")]))
            .err()
            .unwrap();
        assert!(e.starts_with("patterns[1].pattern: invalid regex"), "{e}");
        assert!(RegexDetector::new(&opts(&[])).is_err());
        assert!(RegexDetector::new(&opts(&[("Bad Kind", "x")])).is_err());
    }

    #[test]
    fn empty_matches_are_skipped() {
        let d = RegexDetector::new(&opts(&[("e", "x*")])).unwrap();
        let mut out = Vec::new();
        d.scan(&ScanText::new("abc"), &mut out);
        assert!(out.is_empty());
    }
}
