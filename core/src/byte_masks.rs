//! Byte classes as bit masks: a text cut into 64-byte blocks, and per block and class one
//! `u64` with bit `k` set when byte `k` of the block is in the class. The classes are computed
//! sixteen bytes per vector comparison (`wide`: SSE2 natively, simd128 in the `.wasm`), and the
//! scanners that used to test byte by byte and stop at the first hit (a branch the CPU
//! mispredicts at every hit) walk the set bits instead.

use wide::u8x16;

/// Bytes per block.
pub(crate) const BLOCK: usize = 64;

/// Sixteen bytes as a vector, and the comparisons the classes are built from.
#[derive(Clone, Copy)]
pub(crate) struct Lanes(u8x16);

impl Lanes {
    /// All lanes equal to `c`.
    #[inline(always)]
    pub(crate) fn eq(self, c: u8) -> u8x16 {
        self.0.simd_eq(u8x16::splat(c))
    }

    /// Lanes in `lo..=hi` (`min(x - lo, hi - lo) == x - lo`: SSE2 has no unsigned byte
    /// comparison).
    #[inline(always)]
    pub(crate) fn in_range(self, lo: u8, hi: u8) -> u8x16 {
        let x = self.0 - u8x16::splat(lo);
        x.min(u8x16::splat(hi - lo)).simd_eq(x)
    }

    /// ASCII letters.
    #[inline(always)]
    pub(crate) fn alpha(self) -> u8x16 {
        Lanes(self.0 | u8x16::splat(0x20)).in_range(b'a', b'z')
    }

    /// ASCII digits.
    #[inline(always)]
    pub(crate) fn digit(self) -> u8x16 {
        self.in_range(b'0', b'9')
    }

    /// Bytes outside ASCII (UTF-8 lead and continuation bytes).
    #[inline(always)]
    pub(crate) fn non_ascii(self) -> u8x16 {
        self.in_range(0x80, 0xFF)
    }
}

/// Per block of `bytes`, the `K` masks `classify` gives (bytes past the end are zeros, so a
/// class must not hold the zero byte for its last block's padding to stay clear — or the
/// caller ignores bits past the end).
pub(crate) fn block_masks<const K: usize>(
    bytes: &[u8],
    classify: impl Fn(Lanes) -> [u8x16; K],
) -> Vec<[u64; K]> {
    let of_block = |block: &[u8]| {
        let mut masks = [0u64; K];
        for q in 0..BLOCK / 16 {
            let mut lanes = [0u8; 16];
            lanes.copy_from_slice(&block[16 * q..16 * q + 16]);
            let classes = classify(Lanes(u8x16::new(lanes)));
            for (mask, class) in masks.iter_mut().zip(classes) {
                *mask |= u64::from(class.to_bitmask()) << (16 * q);
            }
        }
        masks
    };
    let mut out = Vec::with_capacity(bytes.len().div_ceil(BLOCK));
    let mut blocks = bytes.chunks_exact(BLOCK);
    for block in &mut blocks {
        out.push(of_block(block));
    }
    let rest = blocks.remainder();
    if !rest.is_empty() {
        let mut padded = [0u8; BLOCK];
        padded[..rest.len()].copy_from_slice(rest);
        out.push(of_block(&padded));
    }
    out
}

/// The first byte of `bytes` at or after `from` in the class `class` gives, sixteen bytes per
/// comparison (the last few bytes padded with zeros, whose lanes are ignored): for a scan that
/// looks for one hit in a long run, where [`block_masks`] would classify the whole text.
#[inline]
pub(crate) fn first_in(bytes: &[u8], from: usize, class: impl Fn(Lanes) -> u8x16) -> Option<usize> {
    let mut at = from;
    let mut lanes = [0u8; 16];
    while let Some(chunk) = bytes.get(at..at + 16) {
        lanes.copy_from_slice(chunk);
        let hits = class(Lanes(u8x16::new(lanes))).to_bitmask();
        if hits != 0 {
            return Some(at + hits.trailing_zeros() as usize);
        }
        at += 16;
    }
    let rest = bytes.get(at..)?;
    let mut lanes = [0u8; 16];
    lanes[..rest.len()].copy_from_slice(rest);
    let hits = class(Lanes(u8x16::new(lanes))).to_bitmask() & ((1 << rest.len()) - 1);
    (hits != 0).then(|| at + hits.trailing_zeros() as usize)
}

/// `a == b`: in the `.wasm` sixteen bytes per comparison ([`equal_lanes`]), since a slice
/// comparison calls `memcmp`, which there is a loop over single bytes (the stream guard compares
/// ~150 bytes per event); natively the C library's `memcmp`, which is faster still.
#[inline]
pub(crate) fn equal(a: &[u8], b: &[u8]) -> bool {
    if cfg!(target_arch = "wasm32") {
        equal_lanes(a, b)
    } else {
        a == b
    }
}

/// `a == b`, sixteen bytes per vector comparison.
#[inline(always)]
fn equal_lanes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let lanes = |s: &[u8]| {
        let mut l = [0u8; 16];
        l.copy_from_slice(s);
        u8x16::new(l)
    };
    let same = |x: &[u8], y: &[u8]| lanes(x).simd_eq(lanes(y)).to_bitmask() == 0xFFFF;
    let n = a.len();
    if n < 16 {
        return a.iter().zip(b).all(|(x, y)| x == y);
    }
    let mut at = 0;
    while let (Some(x), Some(y)) = (a.get(at..at + 16), b.get(at..at + 16)) {
        if !same(x, y) {
            return false;
        }
        at += 16;
    }
    // The last sixteen bytes (overlapping what was compared) cover the rest.
    at == n || matches!((a.get(n - 16..), b.get(n - 16..)), (Some(x), Some(y)) if same(x, y))
}

/// The first byte at or after `from` in class `class`.
#[inline]
pub(crate) fn next_bit<const K: usize>(
    masks: &[[u64; K]],
    class: usize,
    from: usize,
) -> Option<usize> {
    let mut w = from / BLOCK;
    let mut m = masks.get(w)?.get(class)? & (u64::MAX << (from % BLOCK));
    loop {
        if m != 0 {
            return Some(w * BLOCK + m.trailing_zeros() as usize);
        }
        w += 1;
        m = *masks.get(w)?.get(class)?;
    }
}

/// The last byte before `before` in class `class`.
#[inline]
pub(crate) fn prev_bit<const K: usize>(
    masks: &[[u64; K]],
    class: usize,
    before: usize,
) -> Option<usize> {
    let last = before.checked_sub(1)?;
    let mut w = last / BLOCK;
    let mut m = masks.get(w)?.get(class)? & (u64::MAX >> (BLOCK - 1 - last % BLOCK));
    loop {
        if m != 0 {
            return Some(w * BLOCK + 63 - m.leading_zeros() as usize);
        }
        w = w.checked_sub(1)?;
        m = *masks.get(w)?.get(class)?;
    }
}

/// Every byte value with the classes `classify` puts it in: what the scanners' tests hold to
/// each class's definition.
#[cfg(test)]
pub(crate) fn every_byte_classified<const K: usize>(
    classify: impl Fn(Lanes) -> [u8x16; K],
) -> impl Iterator<Item = (u8, [bool; K])> {
    let bytes: Vec<u8> = (0..=255).collect();
    let masks = block_masks(&bytes, classify);
    (0..=255u8).map(move |b| {
        let at = usize::from(b);
        let bits = std::array::from_fn(|class| masks[at / BLOCK][class] >> (at % BLOCK) & 1 == 1);
        (b, bits)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// [`equal_lanes`] is slice equality, at every length and for a difference at any byte.
        #[test]
        fn equal_is_slice_equality(a in proptest::collection::vec(0u8..3, 0..70), flip in 0usize..80, cut in 0usize..3) {
            let mut b = a.clone();
            if let Some(x) = b.get_mut(flip) {
                *x ^= 1;
            }
            b.truncate(b.len().saturating_sub(cut % 2));
            proptest::prop_assert_eq!(equal_lanes(&a, &b), a == b);
            proptest::prop_assert!(equal_lanes(&a, &a));
            proptest::prop_assert_eq!(equal(&a, &b), a == b);
        }
    }

    fn classes(l: Lanes) -> [u8x16; 3] {
        [l.digit(), l.alpha(), l.eq(b'@') | l.in_range(b'x', b'z')]
    }

    proptest::proptest! {
        #[test]
        fn bits_equal_a_byte_loop(input in proptest::collection::vec(proptest::num::u8::ANY, 0..300), from in 0usize..320) {
            let masks = block_masks(&input, classes);
            let tests: [fn(u8) -> bool; 3] = [
                |c| c.is_ascii_digit(),
                |c| c.is_ascii_alphabetic(),
                |c| c == b'@' || (b'x'..=b'z').contains(&c),
            ];
            let from = from.min(input.len());
            for (class, test) in tests.iter().enumerate() {
                proptest::prop_assert_eq!(
                    next_bit(&masks, class, from),
                    input[from..].iter().position(|&c| test(c)).map(|p| from + p)
                );
                proptest::prop_assert_eq!(
                    prev_bit(&masks, class, from),
                    input[..from].iter().rposition(|&c| test(c))
                );
                proptest::prop_assert_eq!(
                    first_in(&input, from, |l| classes(l)[class]),
                    input[from..].iter().position(|&c| test(c)).map(|p| from + p)
                );
            }
            // A class holding the zero byte: the padding of the last chunk is not a hit.
            proptest::prop_assert_eq!(
                first_in(&input, from, |l| l.in_range(0, 0x1F)),
                input[from..].iter().position(|&c| c < 0x20).map(|p| from + p)
            );
        }
    }

    #[test]
    fn every_byte_value() {
        for (c, bits) in every_byte_classified(classes) {
            assert_eq!(bits[0], c.is_ascii_digit(), "{c}");
            assert_eq!(bits[1], c.is_ascii_alphabetic(), "{c}");
            assert_eq!(bits[2], c == b'@' || (b'x'..=b'z').contains(&c), "{c}");
        }
    }
}
