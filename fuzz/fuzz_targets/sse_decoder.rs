//! The SSE decoder over arbitrary bytes cut at arbitrary points: it never panics, every input
//! byte comes out in exactly one event (in order), and the events do not depend on the cuts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parapet_core::sse::{SseDecoder, SseEvent};

fn decode(body: &[u8], cuts: &[usize]) -> Vec<SseEvent> {
    let mut d = SseDecoder::new();
    let mut events = Vec::new();
    let mut at = 0;
    for &c in cuts {
        events.extend(d.push(&body[at..c]));
        at = c;
    }
    events.extend(d.push(&body[at..]));
    events.extend(d.finish());
    events
}

fuzz_target!(|input: (Vec<u8>, Vec<u16>)| {
    let (body, raw_cuts) = input;
    let mut cuts: Vec<usize> = raw_cuts
        .iter()
        .map(|c| usize::from(*c) % (body.len() + 1))
        .collect();
    cuts.sort_unstable();
    let split = decode(&body, &cuts);
    let whole = decode(&body, &[]);
    let joined: Vec<u8> = split.iter().flat_map(|e| e.raw.iter().copied()).collect();
    assert_eq!(joined, body, "bytes conserved");
    // A CR at a cut may end an event early in a different place only if it is a lone CR;
    // the data fields must agree either way.
    let data = |ev: &[SseEvent]| ev.iter().filter_map(|e| e.data.clone()).collect::<Vec<_>>();
    assert_eq!(data(&split), data(&whole), "events independent of cuts");
});
