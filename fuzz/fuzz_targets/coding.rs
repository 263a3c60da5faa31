//! Content codings (`content-encoding`: gzip, deflate (zlib or raw), br, zstd) as the guard
//! decodes bodies: whole (`Coding::decode`, buffered bodies) and chunk by chunk
//! (`StreamDecoder`, streamed answers), over arbitrary bytes or bytes the coding itself
//! encoded. Properties: never panics; decoded output never exceeds the limit (whole, or in
//! total over a stream: a decompression bomb is refused); what `encode` wrote decodes back to
//! the same bytes, whole and streamed, whatever the cuts; where the whole and the streamed
//! decoding both succeed they agree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parapet_core::coding::{Coding, DecodeError, StreamDecoder};

#[path = "common/mod.rs"]
mod common;

const CODINGS: [Coding; 5] = [
    Coding::Identity,
    Coding::Gzip,
    Coding::Deflate,
    Coding::Br,
    Coding::Zstd,
];
const LIMITS: [usize; 6] = [0, 1, 100, 4096, 65536, 1 << 20];

fn streamed(c: Coding, limit: usize, chunks: &[&[u8]]) -> Result<Vec<u8>, DecodeError> {
    let mut d = StreamDecoder::new(c, limit);
    let mut out = Vec::new();
    for chunk in chunks {
        out.extend(d.push(chunk)?);
        assert!(out.len() <= limit, "stream decoded past its limit");
    }
    out.extend(d.finish()?);
    assert!(out.len() <= limit, "stream decoded past its limit");
    Ok(out)
}

// Input: coding, flags (bit 0: encode the body first; bits 4..: limit), cut seed, cut count;
// then the body.
fuzz_target!(|data: &[u8]| {
    let ([coding, flags, seed, count], body) = common::split::<4>(data);
    let c = CODINGS[usize::from(coding) % CODINGS.len()];
    let limit = LIMITS[usize::from(flags >> 4) % LIMITS.len()];
    let encoded;
    let input: &[u8] = if flags & 1 == 1 {
        encoded = c.encode(body);
        assert_eq!(c.decode(&encoded, body.len()).as_deref(), Ok(body), "round trip");
        // The zstd stream holds the encoded bytes, bounded by the limit too.
        let whole = [&encoded[..]];
        let room = body.len().max(encoded.len());
        assert_eq!(streamed(c, room, &whole).as_deref(), Ok(body), "streamed round trip");
        &encoded
    } else {
        body
    };
    let chunks = common::chunks(input, &common::cuts(seed, count, input.len()));
    let whole = c.decode(input, limit);
    if let Ok(w) = &whole {
        assert!(w.len() <= limit, "decoded past the limit");
    }
    let split = streamed(c, limit, &chunks);
    if flags & 1 == 1 && body.len().max(input.len()) <= limit {
        assert_eq!(split.as_deref(), Ok(body), "streamed round trip, cut");
    }
    if let (Ok(w), Ok(s)) = (&whole, &split) {
        assert!(w == s, "whole and streamed decoding disagree");
    }
});
