//! The benchmark inputs `benches/scan.rs` and `filter/examples/engine_bench.rs` share (included
//! by path into both): ordinary prompt text of a given size, a chat request around it, and a
//! chat-completion stream of its words.

#![allow(dead_code, clippy::unwrap_used)]

/// Ordinary prompt material: prose, a code block, numbers and dates, a list — the mix that
/// makes digit- and keyword-anchored detectors look at candidates without finding anything.
pub const SAMPLE: &str = include_str!("../data/prompt_sample.txt");

pub fn text_of_size(size: usize) -> String {
    let mut s = String::with_capacity(size + SAMPLE.len());
    while s.len() < size {
        s.push_str(SAMPLE);
        s.push('\n');
    }
    let mut cut = size;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
    s
}

/// `text` as a word processor or a model writes it: typographic apostrophes and quotes (`’`,
/// `“ ”`), so a few non-ASCII characters in otherwise ASCII text, as in much real traffic.
pub fn typographic(text: &str) -> String {
    let mut open = true;
    text.chars()
        .map(|c| match c {
            '\'' => '’',
            '"' => {
                open = !open;
                if open {
                    '”'
                } else {
                    '“'
                }
            }
            c => c,
        })
        .collect()
}

pub fn chat_body(text: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": text}
        ],
        "temperature": 0.2
    }))
    .unwrap()
}

/// A chat-completion stream of `n` one-word `chat.completion.chunk` events of the sample text.
pub fn chat_stream(n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, word) in SAMPLE.split_inclusive(' ').cycle().take(n).enumerate() {
        let v = serde_json::json!({"id": "c", "object": "chat.completion.chunk", "created": 1,
            "model": "m", "choices": [{"index": 0, "delta": {"content": word},
            "finish_reason": null}], "n": i});
        out.extend_from_slice(format!("data: {v}\n\n").as_bytes());
    }
    out.extend_from_slice(b"data: [DONE]\n\n");
    out
}
