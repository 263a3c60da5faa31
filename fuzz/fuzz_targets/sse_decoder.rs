//! The SSE decoder over arbitrary bytes cut at arbitrary points: it never panics, every input
//! byte comes out in exactly one event (in order), and the events' data do not depend on the
//! cuts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parapet_core::sse::{SseDecoder, SseEvent};

#[path = "common/mod.rs"]
mod common;

fn decode(chunks: &[&[u8]]) -> Vec<SseEvent> {
    let mut d = SseDecoder::new();
    let mut events = Vec::new();
    for c in chunks {
        events.extend(d.push(c));
    }
    events.extend(d.finish());
    events
}

// Input: cut seed, cut count, then the stream.
fuzz_target!(|data: &[u8]| {
    let ([seed, count], body) = common::split::<2>(data);
    let split = decode(&common::chunks(body, &common::cuts(seed, count, body.len())));
    let whole = decode(&[body]);
    let joined: Vec<u8> = split.iter().flat_map(|e| e.raw().iter().copied()).collect();
    assert_eq!(joined, body, "bytes conserved");
    // A CR at a cut may end an event early in a different place only if it is a lone CR;
    // the data fields must agree either way.
    let data = |ev: &[SseEvent]| ev.iter().filter_map(|e| e.data().map(str::to_string)).collect::<Vec<_>>();
    assert_eq!(data(&split), data(&whole), "events independent of cuts");
});
