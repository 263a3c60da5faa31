//! Mask placeholders and span replacement, shared by the engine's masks and decision-record
//! excerpts (a leaf module).

/// The mask placeholder for a finding kind: `aws_access_key` → `[AWS_ACCESS_KEY]`.
pub fn placeholder(kind: &str) -> String {
    format!("[{}]", kind.to_ascii_uppercase())
}

/// Replace each (start, end, replacement) span of `text` — sorted, disjoint, on char
/// boundaries — with its replacement.
pub fn mask_spans(text: &str, spans: &[(usize, usize, String)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (s, e, replacement) in spans {
        let (Some(keep), true) = (text.get(at..*s), text.is_char_boundary(*e)) else {
            continue;
        };
        out.push_str(keep);
        out.push_str(replacement);
        at = *e;
    }
    out.push_str(text.get(at..).unwrap_or(""));
    out
}
