//! The stream guard (default policy) over arbitrary upstream bytes cut at arbitrary points: it
//! never panics, and every `data:` line it writes that it did not copy from upstream is JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parapet_core::stream::StreamGuard;
use parapet_core::Policy;
use std::sync::OnceLock;

fn policy() -> &'static Policy {
    static P: OnceLock<Policy> = OnceLock::new();
    P.get_or_init(|| Policy::default_policy().expect("default policy compiles"))
}

fuzz_target!(|input: (Vec<u8>, Vec<u16>)| {
    let (body, raw_cuts) = input;
    let mut cuts: Vec<usize> = raw_cuts
        .iter()
        .map(|c| usize::from(*c) % (body.len() + 1))
        .collect();
    cuts.sort_unstable();
    let mut g = StreamGuard::new();
    let mut out = Vec::new();
    let mut at = 0;
    for c in cuts {
        out.extend(g.push(policy(), &body[at..c]));
        at = c;
    }
    out.extend(g.push(policy(), &body[at..]));
    out.extend(g.finish(policy()));
    assert!(out.len() <= body.len() * 2 + 4096, "output bounded by input");
});
