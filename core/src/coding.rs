//! HTTP content codings (`content-encoding`): bodies are decoded before the guards read them,
//! with a bound on the decoded size (a decompression bomb is refused, not inflated), and
//! re-encoded in the same coding when the guard rewrites them.
//!
//! gzip and deflate use `flate2` (its pure-Rust miniz_oxide backend), br `brotli-decompressor`
//! (the `brotli` crate's decoder), zstd `ruzstd`: all pure Rust, so the same code runs in the
//! wasm filter. `deflate` is the zlib format (RFC 9110); raw deflate streams, which some servers
//! send instead, are accepted too.
//!
//! A rewritten body goes back in its coding's framing without compression ([`Coding::encode`]):
//! gzip and zlib as deflate stored blocks, br as uncompressed meta-blocks, zstd as raw blocks.
//! Every decoder of the coding reads them. A body is re-encoded only when an upstream answered
//! in a coding although the filter removed `accept-encoding`, and a guard rewrote the body;
//! compressing it would need the encoders (miniz_oxide's deflate, ruzstd's, brotli's), code
//! that V8 compiles at every Envoy start (benches/RESULTS.md, start-up) for a path that rare.
//!
//! Streams ([`StreamDecoder`]): gzip, deflate and br decode incrementally, chunk by chunk; zstd
//! is held and decoded when the stream ends (its decoder here needs whole blocks).

use std::io::{Read, Write};

/// A content coding the guard can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Identity,
    Gzip,
    Deflate,
    Br,
    Zstd,
}

/// Why a body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// It inflates past the limit (bytes).
    TooLarge(usize),
    /// The coding is unknown or the bytes are corrupt.
    Invalid(String),
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeError::TooLarge(limit) => {
                write!(f, "decoded body exceeds {limit} bytes")
            }
            DecodeError::Invalid(why) => f.write_str(why),
        }
    }
}

impl Coding {
    /// The coding a `content-encoding` header names. A list of codings (`gzip, br`) or an
    /// unknown name is an error: the guard would not be reading the text.
    pub fn parse(header: &str) -> Result<Coding, DecodeError> {
        let h = header.trim();
        match h.to_ascii_lowercase().as_str() {
            "" | "identity" => Ok(Coding::Identity),
            "gzip" | "x-gzip" => Ok(Coding::Gzip),
            "deflate" => Ok(Coding::Deflate),
            "br" => Ok(Coding::Br),
            "zstd" => Ok(Coding::Zstd),
            _ => Err(DecodeError::Invalid(format!(
                "unsupported content-encoding `{h}`"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Coding::Identity => "identity",
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
            Coding::Br => "br",
            Coding::Zstd => "zstd",
        }
    }

    /// Decode a whole body; at most `limit` decoded bytes.
    pub fn decode(self, bytes: &[u8], limit: usize) -> Result<Vec<u8>, DecodeError> {
        let invalid =
            |e: std::io::Error| DecodeError::Invalid(format!("{} body: {e}", self.as_str()));
        let mut out = Vec::new();
        match self {
            Coding::Identity => {
                if bytes.len() > limit {
                    return Err(DecodeError::TooLarge(limit));
                }
                return Ok(bytes.to_vec());
            }
            Coding::Gzip => read_bounded(flate2::read::MultiGzDecoder::new(bytes), limit, &mut out)
                .map_err(invalid)?,
            Coding::Deflate if is_zlib(bytes) => {
                read_bounded(flate2::read::ZlibDecoder::new(bytes), limit, &mut out)
                    .map_err(invalid)?
            }
            Coding::Deflate => {
                read_bounded(flate2::read::DeflateDecoder::new(bytes), limit, &mut out)
                    .map_err(invalid)?
            }
            Coding::Br => read_bounded(
                brotli_decompressor::Decompressor::new(bytes, 4096),
                limit,
                &mut out,
            )
            .map_err(invalid)?,
            Coding::Zstd => {
                let mut rest = bytes;
                while !rest.is_empty() {
                    let mut d = ruzstd::decoding::StreamingDecoder::new(&mut rest)
                        .map_err(|e| DecodeError::Invalid(format!("zstd body: {e}")))?;
                    let room = limit.saturating_add(1).saturating_sub(out.len());
                    let mut frame = Vec::new();
                    (&mut d)
                        .take(room as u64)
                        .read_to_end(&mut frame)
                        .map_err(invalid)?;
                    out.extend_from_slice(&frame);
                    if out.len() > limit {
                        break;
                    }
                }
            }
        }
        if out.len() > limit {
            return Err(DecodeError::TooLarge(limit));
        }
        Ok(out)
    }

    /// Encode a body in this coding (a rewritten body goes back in the coding it came in),
    /// uncompressed in the coding's framing (see the module docs).
    pub fn encode(self, bytes: &[u8]) -> Vec<u8> {
        match self {
            Coding::Identity => bytes.to_vec(),
            Coding::Gzip => gzip_stored(bytes),
            Coding::Deflate => zlib_stored(bytes),
            Coding::Br => brotli_stored(bytes, BROTLI_MAX_META_BLOCK),
            Coding::Zstd => zstd_raw(bytes),
        }
    }
}

/// The longest deflate stored block: LEN is 16 bits (RFC 1951, 3.2.4).
const DEFLATE_MAX_STORED: usize = 0xffff;

/// `bytes` as deflate stored blocks (RFC 1951, 3.2.4): per block a header byte (BFINAL on the
/// last, BTYPE 00, the rest of the byte zero), LEN and its complement NLEN, little-endian, then
/// the bytes. An empty body is one empty final block.
fn deflate_stored(bytes: &[u8], out: &mut Vec<u8>) {
    let mut blocks = bytes.chunks(DEFLATE_MAX_STORED).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
        return;
    }
    while let Some(block) = blocks.next() {
        // chunks() of DEFLATE_MAX_STORED: every block's length fits 16 bits.
        let len = u16::try_from(block.len()).unwrap_or(u16::MAX);
        out.push(u8::from(blocks.peek().is_none()));
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
}

/// `bytes` as a gzip member of stored blocks (RFC 1952): the fixed header (no name, no time,
/// OS unknown), the deflate stream, CRC-32 and the length mod 2^32, little-endian.
fn gzip_stored(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / DEFLATE_MAX_STORED * 5 + 23);
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    deflate_stored(bytes, &mut out);
    let mut crc = flate2::Crc::new();
    crc.update(bytes);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out
}

/// `bytes` as a zlib stream of stored blocks (RFC 1950): CMF 0x78 (deflate, 32 KB window),
/// FLG 0x01 (no dictionary, level 0, FCHECK making CMF·256 + FLG a multiple of 31), the deflate
/// stream, Adler-32 big-endian.
fn zlib_stored(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / DEFLATE_MAX_STORED * 5 + 11);
    out.extend_from_slice(&[0x78, 0x01]);
    deflate_stored(bytes, &mut out);
    out.extend_from_slice(&adler2::adler32_slice(bytes).to_be_bytes());
    out
}

/// The largest zstd block (RFC 8878, 3.1.1.2.4: `Block_Maximum_Size`, 128 KiB).
const ZSTD_MAX_BLOCK: usize = 128 << 10;

/// `bytes` as one zstd frame of raw blocks (RFC 8878): the magic number, a frame header (a
/// 128 KiB window, one block, whatever the body's size: decoders refuse windows past their own
/// limit, libzstd's 128 MiB by default; the content size in 8 bytes; no checksum, no
/// dictionary), then per block a 3-byte header (`Last_Block`, `Block_Type` 0 = raw,
/// `Block_Size`) and the bytes. An empty body is one empty last block.
fn zstd_raw(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / ZSTD_MAX_BLOCK * 3 + 17);
    out.extend_from_slice(&0xFD2F_B528u32.to_le_bytes());
    out.push(0b1100_0000); // FCS_Field_Size 3 (8 bytes), no Single_Segment_flag
    out.push(7 << 3); // Window_Descriptor: 2^(10 + 7) bytes = ZSTD_MAX_BLOCK, mantissa 0
    out.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    let mut blocks = bytes.chunks(ZSTD_MAX_BLOCK).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0]);
    }
    while let Some(block) = blocks.next() {
        // chunks() of 128 KiB: Block_Size fits its 21 bits.
        let header = (block.len() as u32) << 3 | u32::from(blocks.peek().is_none());
        out.extend_from_slice(header.to_le_bytes().get(..3).unwrap_or_default());
        out.extend_from_slice(block);
    }
    out
}

/// The longest meta-block a brotli stream can have: MLEN is at most 2^24 (RFC 7932, 9.2).
const BROTLI_MAX_META_BLOCK: usize = 1 << 24;

/// `bytes` as a brotli stream of uncompressed meta-blocks of at most `max_block` bytes (RFC 7932:
/// WBITS 16, then per block ISLAST 0, MNIBBLES, MLEN - 1, ISUNCOMPRESSED 1, zero bits up to the
/// byte boundary, the bytes; then ISLAST 1, ISLASTEMPTY 1). Every brotli decoder reads it.
///
/// A body goes back in br only when an upstream ignored the filter's `accept-encoding` removal
/// and a guard rewrote the body, so it is sent uncompressed in br framing. The `brotli` crate's
/// encoder would compress it, but it is ~270 KB of the filter's code, and V8 compiles the whole
/// code section at every Envoy start (benches/RESULTS.md, start-up: about 0.6 s per MB).
fn brotli_stored(bytes: &[u8], max_block: usize) -> Vec<u8> {
    struct Bits<'a> {
        out: &'a mut Vec<u8>,
        acc: u32,
        n: u32,
    }
    impl Bits<'_> {
        /// Append the `n` low bits of `v`, least significant first (at most 24 at a time).
        fn put(&mut self, v: u32, n: u32) {
            self.acc |= (v & ((1 << n) - 1)) << self.n;
            self.n += n;
            while self.n >= 8 {
                self.out.push(self.acc as u8);
                self.acc >>= 8;
                self.n -= 8;
            }
        }
        /// Zero bits up to the next byte boundary.
        fn align(&mut self) {
            if self.n > 0 {
                self.put(0, 8 - self.n);
            }
        }
    }
    let max_block = max_block.clamp(1, BROTLI_MAX_META_BLOCK);
    let blocks = bytes.len().div_ceil(max_block);
    let mut out = Vec::with_capacity(bytes.len() + 6 * blocks + 2);
    let mut b = Bits {
        out: &mut out,
        acc: 0,
        n: 0,
    };
    b.put(0, 1); // WBITS = 16
    for block in bytes.chunks(max_block) {
        let Ok(mlen_1) = u32::try_from(block.len() - 1) else {
            break; // never: blocks are 1 to 2^24 bytes
        };
        // The fewest nibbles that hold MLEN - 1 (more than four with a zero top nibble is invalid).
        let nibbles = match mlen_1 {
            0..=0xffff => 4,
            0x1_0000..=0xf_ffff => 5,
            _ => 6,
        };
        b.put(0, 1); // ISLAST
        b.put(nibbles - 4, 2); // MNIBBLES
        b.put(mlen_1, nibbles * 4); // MLEN - 1
        b.put(1, 1); // ISUNCOMPRESSED
        b.align();
        b.out.extend_from_slice(block);
    }
    b.put(1, 1); // ISLAST
    b.put(1, 1); // ISLASTEMPTY
    b.align();
    out
}

/// A zlib stream starts with a CMF/FLG pair whose 16-bit value is a multiple of 31 and whose
/// method is deflate (8).
fn is_zlib(bytes: &[u8]) -> bool {
    match bytes {
        [cmf, flg, ..] => cmf & 0x0f == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0,
        _ => false,
    }
}

fn read_bounded(r: impl Read, limit: usize, out: &mut Vec<u8>) -> std::io::Result<()> {
    r.take((limit as u64).saturating_add(1))
        .read_to_end(out)
        .map(|_| ())
}

/// Incremental decoding of a streamed body (SSE): bytes in, decoded bytes out, bounded in total.
pub struct StreamDecoder {
    inner: Inner,
    limit: usize,
    produced: usize,
}

enum Inner {
    Identity,
    Gzip(flate2::write::MultiGzDecoder<Capped>),
    /// Undecided until the first two bytes say zlib or raw deflate.
    Deflate(Vec<u8>),
    Zlib(flate2::write::ZlibDecoder<Capped>),
    RawDeflate(flate2::write::DeflateDecoder<Capped>),
    Br(Box<brotli_decompressor::DecompressorWriter<Capped>>),
    /// Held whole, decoded at the end.
    Zstd(Vec<u8>),
}

/// The decoders' sink: refuses to hold more than the stream's limit in total, so a chunk that
/// inflates enormously (a decompression bomb) fails as it is written, never after it was
/// decoded whole into memory.
struct Capped {
    buf: Vec<u8>,
    written: usize,
    limit: usize,
    over: bool,
}

impl Capped {
    fn new(limit: usize) -> Capped {
        Capped {
            buf: Vec::new(),
            written: 0,
            limit,
            over: false,
        }
    }
}

impl Write for Capped {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.written.saturating_add(data.len()) > self.limit {
            self.over = true;
            return Err(std::io::Error::other("decoded stream over its limit"));
        }
        self.written += data.len();
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl StreamDecoder {
    pub fn new(coding: Coding, limit: usize) -> Self {
        let inner = match coding {
            Coding::Identity => Inner::Identity,
            Coding::Gzip => Inner::Gzip(flate2::write::MultiGzDecoder::new(Capped::new(limit))),
            Coding::Deflate => Inner::Deflate(Vec::new()),
            Coding::Br => Inner::Br(Box::new(brotli_decompressor::DecompressorWriter::new(
                Capped::new(limit),
                4096,
            ))),
            Coding::Zstd => Inner::Zstd(Vec::new()),
        };
        StreamDecoder {
            inner,
            limit,
            produced: 0,
        }
    }

    /// Feed compressed bytes; get what they decode to so far.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<u8>, DecodeError> {
        let out = self.decode_step(bytes);
        let out = self.over_limit(out)?;
        self.count(out)
    }

    /// A sink error because the limit was reached is `TooLarge`, whatever the decoder made of it.
    fn over_limit(&self, r: Result<Vec<u8>, DecodeError>) -> Result<Vec<u8>, DecodeError> {
        let over = match &self.inner {
            Inner::Gzip(d) => d.get_ref().over,
            Inner::Zlib(d) => d.get_ref().over,
            Inner::RawDeflate(d) => d.get_ref().over,
            Inner::Br(d) => d.get_ref().over,
            _ => false,
        };
        if over {
            return Err(DecodeError::TooLarge(self.limit));
        }
        r
    }

    fn decode_step(&mut self, bytes: &[u8]) -> Result<Vec<u8>, DecodeError> {
        let io = |e: std::io::Error| DecodeError::Invalid(format!("encoded stream: {e}"));
        let out = match &mut self.inner {
            Inner::Identity => bytes.to_vec(),
            Inner::Gzip(d) => {
                d.write_all(bytes).map_err(io)?;
                d.flush().map_err(io)?;
                std::mem::take(&mut d.get_mut().buf)
            }
            Inner::Deflate(head) => {
                head.extend_from_slice(bytes);
                if head.len() < 2 {
                    return Ok(Vec::new());
                }
                let head = std::mem::take(head);
                self.inner = if is_zlib(&head) {
                    Inner::Zlib(flate2::write::ZlibDecoder::new(Capped::new(self.limit)))
                } else {
                    Inner::RawDeflate(flate2::write::DeflateDecoder::new(Capped::new(self.limit)))
                };
                return self.decode_step(&head);
            }
            Inner::Zlib(d) => {
                d.write_all(bytes).map_err(io)?;
                d.flush().map_err(io)?;
                std::mem::take(&mut d.get_mut().buf)
            }
            Inner::RawDeflate(d) => {
                d.write_all(bytes).map_err(io)?;
                d.flush().map_err(io)?;
                std::mem::take(&mut d.get_mut().buf)
            }
            Inner::Br(d) => {
                d.write_all(bytes).map_err(io)?;
                d.flush().map_err(io)?;
                std::mem::take(&mut d.get_mut().buf)
            }
            Inner::Zstd(held) => {
                held.extend_from_slice(bytes);
                if held.len() > self.limit {
                    return Err(DecodeError::TooLarge(self.limit));
                }
                Vec::new()
            }
        };
        Ok(out)
    }

    /// The stream ended: whatever is still to be decoded.
    pub fn finish(&mut self) -> Result<Vec<u8>, DecodeError> {
        let out = self.finish_step();
        let out = self.over_limit(out)?;
        self.count(out)
    }

    fn finish_step(&mut self) -> Result<Vec<u8>, DecodeError> {
        let io = |e: std::io::Error| DecodeError::Invalid(format!("encoded stream: {e}"));
        let out = match &mut self.inner {
            Inner::Identity => Vec::new(),
            Inner::Gzip(d) => {
                d.try_finish().map_err(io)?;
                std::mem::take(&mut d.get_mut().buf)
            }
            Inner::Deflate(head) => {
                let head = std::mem::take(head);
                Coding::Deflate.decode(&head, self.limit)?
            }
            Inner::Zlib(d) => {
                d.try_finish().map_err(io)?;
                std::mem::take(&mut d.get_mut().buf)
            }
            Inner::RawDeflate(d) => {
                d.try_finish().map_err(io)?;
                std::mem::take(&mut d.get_mut().buf)
            }
            Inner::Br(d) => {
                d.flush().map_err(io)?;
                std::mem::take(&mut d.get_mut().buf)
            }
            Inner::Zstd(held) => {
                let held = std::mem::take(held);
                Coding::Zstd.decode(&held, self.limit)?
            }
        };
        Ok(out)
    }

    fn count(&mut self, out: Vec<u8>) -> Result<Vec<u8>, DecodeError> {
        self.produced += out.len();
        if self.produced > self.limit {
            return Err(DecodeError::TooLarge(self.limit));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `bytes` compressed in `c` by a real encoder ([`Coding::encode`] writes them
    /// uncompressed): flate2's (miniz_oxide), the `brotli` crate's and ruzstd's, all
    /// dev-only for the encoders.
    fn compressed(c: Coding, bytes: &[u8]) -> Vec<u8> {
        match c {
            Coding::Identity => bytes.to_vec(),
            Coding::Gzip => {
                let mut w = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                w.write_all(bytes).unwrap();
                w.finish().unwrap()
            }
            Coding::Deflate => {
                let mut w =
                    flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
                w.write_all(bytes).unwrap();
                w.finish().unwrap()
            }
            Coding::Br => {
                let mut w = brotli::CompressorWriter::new(Vec::new(), 4096, 5, 22);
                w.write_all(bytes).unwrap();
                w.into_inner()
            }
            Coding::Zstd => ruzstd::encoding::compress_to_vec(
                bytes,
                ruzstd::encoding::CompressionLevel::Fastest,
            ),
        }
    }

    /// The stored gzip, zlib and raw zstd framings decode to the body at every block boundary
    /// (empty, one byte, one block, one block and a byte, several blocks), whole and streamed,
    /// by our decoders and by flate2's single-member gzip decoder (which checks the CRC-32 and
    /// length); and they are the body plus the framing, nothing compressed.
    #[test]
    fn stored_framings_decode_to_the_body() {
        let body: Vec<u8> = (0..(3 * ZSTD_MAX_BLOCK) + 5)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        let lens = [
            0,
            1,
            DEFLATE_MAX_STORED - 1,
            DEFLATE_MAX_STORED,
            DEFLATE_MAX_STORED + 1,
            2 * DEFLATE_MAX_STORED,
            ZSTD_MAX_BLOCK - 1,
            ZSTD_MAX_BLOCK,
            ZSTD_MAX_BLOCK + 1,
            3 * ZSTD_MAX_BLOCK + 5,
        ];
        for c in [Coding::Gzip, Coding::Deflate, Coding::Zstd] {
            for len in lens {
                let body = &body[..len];
                let enc = c.encode(body);
                assert_eq!(
                    c.decode(&enc, usize::MAX).as_deref(),
                    Ok(body),
                    "{c:?} {len}"
                );
                let mut d = StreamDecoder::new(c, usize::MAX);
                let mut out = Vec::new();
                for piece in enc.chunks(40_000) {
                    out.extend(d.push(piece).unwrap());
                }
                out.extend(d.finish().unwrap());
                assert_eq!(out, body, "{c:?} {len} streamed");
                let (blocks, per_block, framing) = match c {
                    Coding::Gzip => (len.div_ceil(DEFLATE_MAX_STORED).max(1), 5, 18),
                    Coding::Deflate => (len.div_ceil(DEFLATE_MAX_STORED).max(1), 5, 6),
                    _ => (len.div_ceil(ZSTD_MAX_BLOCK).max(1), 3, 14),
                };
                assert_eq!(enc.len(), len + blocks * per_block + framing, "{c:?} {len}");
            }
        }
        for len in lens {
            let mut theirs = Vec::new();
            flate2::read::GzDecoder::new(&gzip_stored(&body[..len])[..])
                .read_to_end(&mut theirs)
                .unwrap();
            assert_eq!(theirs, &body[..len], "flate2 gzip: {len}");
        }
        // A flipped byte of the body fails the checksums.
        for c in [Coding::Gzip, Coding::Deflate] {
            let mut enc = c.encode(b"hello world");
            let i = enc.len() - 9;
            enc[i] ^= 1;
            assert!(c.decode(&enc, 1000).is_err(), "{c:?}");
        }
        // The fixed headers, byte for byte.
        assert_eq!(
            gzip_stored(b""),
            [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 1, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        assert_eq!(zlib_stored(b""), [0x78, 1, 1, 0, 0, 0xff, 0xff, 0, 0, 0, 1]);
        assert_eq!(
            zstd_raw(b"ab"),
            [0x28, 0xb5, 0x2f, 0xfd, 0xc0, 0x38, 2, 0, 0, 0, 0, 0, 0, 0, 0x11, 0, 0, b'a', b'b']
        );
    }

    /// The stored br stream decodes to the body, by our decoder and by the `brotli` crate's,
    /// at every block boundary and MLEN nibble width.
    #[test]
    fn stored_brotli_decodes_to_the_body() {
        let body: Vec<u8> = (0..(1usize << 20) + 3)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        for len in [
            0,
            1,
            2,
            255,
            65_535,
            65_536,
            65_537,
            1 << 20,
            (1 << 20) + 1,
            (1 << 20) + 3,
        ] {
            for max in [1, 3, 4096, BROTLI_MAX_META_BLOCK] {
                if max < 4096 && len > 4096 {
                    continue;
                }
                let enc = brotli_stored(&body[..len], max);
                assert_eq!(
                    Coding::Br.decode(&enc, usize::MAX).as_deref(),
                    Ok(&body[..len]),
                    "len {len}, blocks of {max}"
                );
                let mut theirs = Vec::new();
                brotli::Decompressor::new(&enc[..], 4096)
                    .read_to_end(&mut theirs)
                    .unwrap();
                assert_eq!(
                    theirs,
                    &body[..len],
                    "brotli crate: len {len}, blocks of {max}"
                );
            }
        }
        assert_eq!(brotli_stored(b"", BROTLI_MAX_META_BLOCK), [0b110]);
    }

    const ALL: [Coding; 5] = [
        Coding::Identity,
        Coding::Gzip,
        Coding::Deflate,
        Coding::Br,
        Coding::Zstd,
    ];

    /// Fuzz regression (exchange target): an unbounded decode (`usize::MAX`, as the exchange
    /// keeps an escalated request's body) wrapped the bound to 0 and decoded every body to
    /// nothing (zstd: overflowed).
    #[test]
    fn unbounded_decode_keeps_the_body() {
        let text = br#"{"model":"m","prompt":["say hi"]}"#;
        for c in ALL {
            assert_eq!(
                c.decode(&c.encode(text), usize::MAX).as_deref(),
                Ok(&text[..]),
                "{c:?}"
            );
        }
        // zlib, stored block, as the fuzzer found it.
        let zlib = [
            120, 1, 1, 5, 0, 250, 255, 104, 101, 108, 108, 111, 6, 44, 2, 21,
        ];
        assert_eq!(
            Coding::Deflate.decode(&zlib, usize::MAX).as_deref(),
            Ok(&b"hello"[..])
        );
    }

    /// Fuzz finding: a streamed chunk was inflated whole before the limit was checked (one
    /// 255 KB gzip chunk of a bomb took ~550 MB). The sink now refuses past the limit as it
    /// is written: every coding's bomb fails with TooLarge and nothing held exceeds the limit.
    #[test]
    fn a_streamed_decompression_bomb_is_refused_as_it_inflates() {
        let bomb = vec![b'a'; 64 << 20];
        let limit = 1 << 20;
        for c in [Coding::Gzip, Coding::Deflate, Coding::Br] {
            let encoded = compressed(c, &bomb);
            assert!(encoded.len() < 1 << 20, "{c:?}: {}", encoded.len());
            let mut d = StreamDecoder::new(c, limit);
            let mut out = 0;
            let mut refused = false;
            for chunk in encoded.chunks(256 << 10) {
                match d.push(chunk) {
                    Ok(o) => out += o.len(),
                    Err(DecodeError::TooLarge(l)) => {
                        assert_eq!(l, limit);
                        refused = true;
                        break;
                    }
                    Err(e) => panic!("{c:?}: {e}"),
                }
                assert!(out <= limit);
            }
            assert!(refused, "{c:?}: bomb not refused ({out} bytes out)");
            // What the decoder's sink ever held: at most the limit, not the chunk's inflation.
            let held = match &d.inner {
                Inner::Gzip(x) => x.get_ref().written,
                Inner::Zlib(x) => x.get_ref().written,
                Inner::RawDeflate(x) => x.get_ref().written,
                Inner::Br(x) => x.get_ref().written,
                _ => unreachable!("{c:?}"),
            };
            assert!(held <= limit, "{c:?}: held {held}");
        }
    }

    #[test]
    fn round_trips_whole_and_streamed() {
        let text =
            br#"{"choices":[{"message":{"content":"my key is AKIAQX7MZT3KWJ5RLN2P"}}]}"#.repeat(20);
        for (c, enc) in ALL
            .iter()
            .flat_map(|&c| [(c, c.encode(&text)), (c, compressed(c, &text))])
        {
            assert_eq!(c.decode(&enc, 1 << 20).unwrap(), text, "{c:?}");
            for step in [1, 7, 100] {
                let mut d = StreamDecoder::new(c, 1 << 20);
                let mut out = Vec::new();
                for piece in enc.chunks(step) {
                    out.extend(d.push(piece).unwrap());
                }
                out.extend(d.finish().unwrap());
                assert_eq!(out, text, "{c:?} in pieces of {step}");
            }
        }
    }

    #[test]
    fn streams_decode_before_they_end() {
        let mut w = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        w.write_all(b"data: first\n\n").unwrap();
        w.flush().unwrap();
        let head = w.get_ref().clone();
        let mut d = StreamDecoder::new(Coding::Gzip, 1 << 20);
        assert_eq!(d.push(&head).unwrap(), b"data: first\n\n");
    }

    #[test]
    fn bombs_and_garbage_are_refused() {
        let zeros = vec![0u8; 1 << 20];
        for c in ALL {
            let enc = compressed(c, &zeros);
            assert_eq!(
                c.decode(&enc, 1000),
                Err(DecodeError::TooLarge(1000)),
                "{c:?}"
            );
            let mut d = StreamDecoder::new(c, 1000);
            let pushed = d.push(&enc).and_then(|_| d.finish());
            assert_eq!(pushed, Err(DecodeError::TooLarge(1000)), "{c:?} streamed");
        }
        for c in [Coding::Gzip, Coding::Deflate, Coding::Br, Coding::Zstd] {
            assert!(
                matches!(
                    c.decode(b"\xff\xfenot compressed at all", 1000),
                    Err(DecodeError::Invalid(_))
                ),
                "{c:?}"
            );
        }
        assert!(Coding::parse("gzip, br").is_err());
        assert!(Coding::parse("compress").is_err());
        assert_eq!(Coding::parse(" GZIP ").unwrap(), Coding::Gzip);
        assert_eq!(Coding::parse("").unwrap(), Coding::Identity);
    }

    #[test]
    fn raw_deflate_is_accepted() {
        let mut w = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        w.write_all(b"hello raw").unwrap();
        let raw = w.finish().unwrap();
        assert_eq!(Coding::Deflate.decode(&raw, 100).unwrap(), b"hello raw");
    }
}
