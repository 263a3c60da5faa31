//! Tier-0 normalisation for keyword and heuristic matching.
//!
//! Attackers dodge word lists with look-alike text: `ｆｕｃｋ` (full-width), `fu\u{200B}ck`
//! (zero-width space), `fuсk` (Cyrillic `с`), `f*ck`-style leetspeak `sh1t`, and spaced-out
//! `f u c k`. [`Normalized::new`] folds all of these into plain lowercase ASCII-ish text while
//! keeping, for every output byte, the span of original bytes it came from, so a match on the
//! folded text still masks exactly the right bytes of what the client sent.
//!
//! The fold, per character: drop invisible and format characters; compatibility-decompose
//! (NFKD, the decomposition half of NFKC) and drop combining marks; lowercase; map common
//! Cyrillic/Greek homoglyphs to Latin. Then, per whitespace-separated token that contains a
//! letter, leetspeak digits and symbols are read as letters (`sh1t` → `shit`; `2024` is left
//! alone). Finally runs of at least [`MIN_SPACED_RUN`] single letters separated by one
//! separator each (`f u c k`, `f.u.c.k`) are joined.
//!
//! PII and secret detectors do not use this form: they need the exact bytes.

use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

use crate::byte_masks::{block_masks, first_in, next_bit, prev_bit, Lanes, BLOCK};

/// Shortest run of spaced-out single letters that is joined into one word. Three keeps ordinary
/// text such as "a b" or "I a" intact while catching `f u c k`.
pub const MIN_SPACED_RUN: usize = 3;

/// The folded text and its map back to the original.
#[derive(Debug, Clone)]
pub struct Normalized {
    text: String,
    /// For each byte of `text`: the original byte span of the character it came from. `None`
    /// when folding kept every byte in place (ASCII text without joined letters), the common
    /// case, so no map is built.
    origin: Option<Vec<(u32, u32)>>,
}

#[derive(Clone, Copy)]
struct Folded {
    ch: char,
    start: u32,
    end: u32,
}

/// A folded unit the leet and spacing passes work on: an ASCII byte (fast path) or a char
/// with its original span.
trait Unit: Copy {
    fn ch(&self) -> char;
    fn set(&mut self, c: char);
}

impl Unit for u8 {
    fn ch(&self) -> char {
        char::from(*self)
    }
    fn set(&mut self, c: char) {
        // Leet folding maps ASCII to ASCII only.
        if c.is_ascii() {
            *self = c as u8;
        }
    }
}

impl Unit for Folded {
    fn ch(&self) -> char {
        self.ch
    }
    fn set(&mut self, c: char) {
        self.ch = c;
    }
}

impl Normalized {
    /// Fold `original`. Linear in its length.
    pub fn new(original: &str) -> Self {
        if original.is_ascii() {
            return Self::new_ascii(original);
        }
        Self::new_mixed(original)
    }

    /// Fold text with some non-ASCII characters (typographic quotes and dashes in English, a
    /// name with an accent): cut at [`safe_cut`]s, the pieces without a non-ASCII byte take
    /// the ASCII path and only the few words around each non-ASCII character take the
    /// per-character one. Every pass folds one piece as it would the whole text (the cuts are
    /// where none of them looks across), so the result is [`Self::new_general`]'s, a test
    /// holds them equal.
    fn new_mixed(original: &str) -> Self {
        let b = original.as_bytes();
        let mut text = String::with_capacity(original.len());
        let mut origin = Vec::with_capacity(original.len());
        let mut start = 0;
        while start < b.len() {
            let Some(wide) = first_in(b, start, Lanes::non_ascii) else {
                Self::new_ascii(&original[start..]).append_to(start, &mut text, &mut origin);
                break;
            };
            let cut = (start + 1..=wide)
                .rev()
                .find(|&c| safe_cut(b, c))
                .unwrap_or(start);
            if cut > start {
                Self::new_ascii(&original[start..cut]).append_to(start, &mut text, &mut origin);
            }
            // The piece runs to the first cut after its last non-ASCII byte (a cut follows an
            // ASCII byte: a character boundary).
            let mut end = b.len();
            let mut from = wide + 1;
            while let Some(k) = b
                .get(from..)
                .and_then(|r| r.iter().position(u8::is_ascii_whitespace))
            {
                let c = from + k + 1;
                if safe_cut(b, c) {
                    end = c;
                    break;
                }
                from = c;
            }
            if cut == 0 && end == b.len() {
                // No cut (text in a script written without spaces): the whole text, as it is.
                return Self::new_general(original);
            }
            Self::new_general(&original[cut..end]).append_to(cut, &mut text, &mut origin);
            start = end;
        }
        Normalized {
            text,
            origin: Some(origin),
        }
    }

    /// Append this fold of the piece of a text that starts at byte `base` to the fold of the
    /// text before it.
    fn append_to(self, base: usize, text: &mut String, origin: &mut Vec<(u32, u32)>) {
        let base = base as u32;
        match self.origin {
            None => origin.extend((0..self.text.len() as u32).map(|i| (base + i, base + i + 1))),
            Some(o) => origin.extend(o.into_iter().map(|(s, e)| (base + s, base + e))),
        }
        text.push_str(&self.text);
    }

    /// The per-character fold, for any text.
    fn new_general(original: &str) -> Self {
        let mut chars: Vec<Folded> = Vec::with_capacity(original.len());
        for (offset, c) in original.char_indices() {
            let start = offset as u32;
            let end = (offset + c.len_utf8()) as u32;
            if c.is_ascii() {
                chars.push(Folded {
                    ch: c.to_ascii_lowercase(),
                    start,
                    end,
                });
                continue;
            }
            if is_invisible(c) {
                continue;
            }
            for d in std::iter::once(c).nfkd() {
                if is_combining_mark(d) || is_invisible(d) {
                    continue;
                }
                for l in d.to_lowercase() {
                    chars.push(Folded {
                        ch: fold_homoglyph(l),
                        start,
                        end,
                    });
                }
            }
        }
        fold_leet(&mut chars);
        let drop = spaced_letter_separators(&chars);

        let mut text = String::with_capacity(chars.len());
        let mut origin = Vec::with_capacity(chars.len());
        for (i, f) in chars.iter().enumerate() {
            if drop.as_ref().is_some_and(|d| d[i]) {
                continue;
            }
            text.push(f.ch);
            for _ in 0..f.ch.len_utf8() {
                origin.push((f.start, f.end));
            }
        }
        Normalized {
            text,
            origin: Some(origin),
        }
    }

    fn new_ascii(original: &str) -> Self {
        let mut bytes = original.as_bytes().to_ascii_lowercase();
        let mut masks = block_masks(&bytes, classify);
        fold_leet_ascii(&mut bytes, &mut masks);
        let spaced = if has_spaced_pair(&masks) {
            spaced_letter_separators(&bytes)
        } else {
            None
        };
        let (bytes, origin) = match spaced {
            None => (bytes, None),
            Some(drop) => {
                let mut kept = Vec::with_capacity(bytes.len());
                let mut origin = Vec::with_capacity(bytes.len());
                for (i, b) in bytes.iter().enumerate() {
                    if !drop[i] {
                        kept.push(*b);
                        origin.push((i as u32, i as u32 + 1));
                    }
                }
                (kept, Some(origin))
            }
        };
        // Every byte is ASCII: lowercasing and leet folding map ASCII to ASCII.
        let text = String::from_utf8(bytes).unwrap_or_default();
        Normalized { text, origin }
    }

    /// The folded text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Map a byte span of [`Self::text`] back to the original text: from the start of the
    /// character that produced `start` to the end of the one that produced `end - 1`.
    /// Returns `None` for an empty or out-of-range span.
    pub fn original_span(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        if start >= end || end > self.text.len() {
            return None;
        }
        match &self.origin {
            None => Some((start, end)),
            Some(origin) => {
                let (s, _) = *origin.get(start)?;
                let (_, e) = *origin.get(end - 1)?;
                Some((s as usize, e as usize))
            }
        }
    }
}

/// The compatibility fold that exact-byte detectors (secrets, PII) also read: NFKC per
/// character (fullwidth `ＡＫＩＡ` → `AKIA`, mathematical alphanumerics, circled and
/// superscript digits…) with invisible characters removed, and for each byte of the folded
/// text the original byte span it came from. `None` when folding changes nothing (every ASCII
/// text, most others), so the common case costs one scan of the bytes.
#[derive(Debug, Clone)]
pub struct CompatFolded {
    pub text: String,
    origin: Vec<(u32, u32)>,
}

impl CompatFolded {
    pub fn new(original: &str) -> Option<Self> {
        if original.is_ascii() {
            return None;
        }
        // Most non-ASCII text (typographic quotes, accents, other scripts) is left as it is:
        // ask only its non-ASCII characters, skipping the ASCII between them sixteen bytes at a
        // time, before building anything.
        let changes = |c: char| {
            is_invisible(c)
                || (is_nfkc_quick(std::iter::once(c)) != IsNormalized::Yes
                    && !std::iter::once(c).nfkc().eq([c]))
        };
        let b = original.as_bytes();
        let mut at = 0;
        loop {
            at = first_in(b, at, Lanes::non_ascii)?;
            let c = original.get(at..)?.chars().next()?;
            if changes(c) {
                break;
            }
            at += c.len_utf8();
        }
        // The character at `at` changes; every one before it folds to itself.
        let mut text = String::with_capacity(original.len());
        let mut origin = Vec::with_capacity(original.len());
        let prefix = original.get(..at)?;
        text.push_str(prefix);
        for (offset, c) in prefix.char_indices() {
            let span = (offset as u32, (offset + c.len_utf8()) as u32);
            origin.extend(std::iter::repeat_n(span, c.len_utf8()));
        }
        for (offset, c) in original.get(at..)?.char_indices() {
            let offset = at + offset;
            let span = (offset as u32, (offset + c.len_utf8()) as u32);
            if c.is_ascii() {
                text.push(c);
                origin.push(span);
                continue;
            }
            if is_invisible(c) {
                continue;
            }
            text.extend(std::iter::once(c).nfkc());
            origin.resize(text.len(), span);
        }
        Some(CompatFolded { text, origin })
    }

    /// The original byte span of a folded span (`start < end`), or `None` if out of range.
    pub fn original_span(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        if start >= end {
            return None;
        }
        let (s, _) = *self.origin.get(start)?;
        let (_, e) = *self.origin.get(end - 1)?;
        Some((s as usize, e as usize))
    }
}

/// True for characters that render as nothing and are used to split words invisibly.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E007F}'
        | '\u{E0100}'..='\u{E01EF}')
}

fn is_combining_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}')
}

/// Whether `c` (either case) is one of the letters [`fold_homoglyph`] reads as a Latin one.
pub fn is_latin_look_alike(c: char) -> bool {
    c.to_lowercase().all(|l| fold_homoglyph(l) != l)
}

/// Cyrillic and Greek letters that look like Latin ones (after lowercasing).
fn fold_homoglyph(c: char) -> char {
    match c {
        'а' => 'a',
        'в' => 'b',
        'е' | 'ё' | 'є' => 'e',
        'к' => 'k',
        'м' => 'm',
        'н' => 'h',
        'о' => 'o',
        'р' => 'p',
        'с' => 'c',
        'т' => 't',
        'у' => 'y',
        'х' => 'x',
        'ѕ' => 's',
        'і' | 'ї' => 'i',
        'ј' => 'j',
        'ԁ' => 'd',
        'ԛ' => 'q',
        'ԝ' => 'w',
        'һ' => 'h',
        'ɡ' => 'g',
        'α' => 'a',
        'β' => 'b',
        'ε' => 'e',
        'η' => 'n',
        'ι' => 'i',
        'κ' => 'k',
        'ν' => 'v',
        'ο' => 'o',
        'ρ' => 'p',
        'τ' => 't',
        'υ' => 'u',
        'χ' => 'x',
        'γ' => 'y',
        'ω' => 'w',
        'ı' => 'i',
        'ł' => 'l',
        'ø' => 'o',
        'đ' => 'd',
        'ß' => 's',
        other => other,
    }
}

fn leet_letter(c: char) -> Option<char> {
    Some(match c {
        '0' => 'o',
        '1' | '!' | '|' => 'i',
        '3' => 'e',
        '4' | '@' => 'a',
        '5' | '$' => 's',
        '7' | '+' => 't',
        '8' => 'b',
        '9' => 'g',
        _ => return None,
    })
}

/// Read leetspeak digits and symbols as letters inside tokens that also contain a letter.
fn fold_leet<T: Unit>(chars: &mut [T]) {
    let mut i = 0;
    while i < chars.len() {
        if chars[i].ch().is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && !chars[i].ch().is_whitespace() {
            i += 1;
        }
        let token = &mut chars[start..i];
        if !token.iter().any(|f| f.ch().is_alphabetic()) {
            continue;
        }
        // Only inside the word: "shit!" keeps its "!" as punctuation.
        let first = token.iter().position(|f| {
            f.ch().is_alphanumeric() || (leet_letter(f.ch()).is_some() && f.ch() != '!')
        });
        let last = token.iter().rposition(|f| f.ch().is_alphanumeric());
        if let (Some(a), Some(b)) = (first, last) {
            for f in token.iter_mut().take(b + 1).skip(a) {
                if let Some(l) = leet_letter(f.ch()) {
                    f.set(l);
                }
            }
        }
    }
}

/// The byte classes the ASCII fast path asks about, one mask each per 64-byte block
/// ([`crate::byte_masks`]).
type Classes = [u64; 5];
/// Leet characters ([`leet_letter`]'s digits and symbols).
const LEET: usize = 0;
/// ASCII whitespace: the token boundaries of [`fold_leet`].
const SPACE: usize = 1;
/// Letters.
const ALPHA: usize = 2;
/// Letters and digits.
const WORD: usize = 3;
/// [`is_spacing_separator`]'s ASCII separators.
const SEP: usize = 4;

/// The classes of sixteen bytes (a unit test holds them to the character definitions on every
/// byte value).
#[inline(always)]
fn classify(l: Lanes) -> [wide::u8x16; 5] {
    let digit = l.digit();
    let alpha = l.alpha();
    let space_or_tab = l.eq(b' ') | l.eq(b'\t');
    let leet = (digit & !(l.eq(b'2') | l.eq(b'6')))
        | l.eq(b'@')
        | l.eq(b'$')
        | l.eq(b'!')
        | l.eq(b'|')
        | l.eq(b'+');
    let space = space_or_tab | l.eq(b'\n') | l.in_range(0x0C, 0x0D);
    let sep = space_or_tab | l.eq(b'.') | l.eq(b'-') | l.eq(b'_') | l.eq(b'*');
    [leet, space, alpha, alpha | digit, sep]
}

#[inline(always)]
fn is_alpha_byte(b: u8) -> bool {
    (b | 0x20).wrapping_sub(b'a') < 26
}

/// [`fold_leet`] for ASCII: visit only tokens that contain a leet character, and fold those
/// that also contain a letter (ordinary text has few such tokens), keeping `masks` true to the
/// folded bytes.
fn fold_leet_ascii(bytes: &mut [u8], masks: &mut [Classes]) {
    let n = bytes.len();
    let mut from = 0;
    while let Some(at) = next_bit(masks, LEET, from) {
        let start = prev_bit(masks, SPACE, at).map_or(0, |p| p + 1);
        let end = next_bit(masks, SPACE, at).unwrap_or(n);
        let token = &mut bytes[start..end];
        if token.iter().any(|&b| is_alpha_byte(b)) {
            fold_leet(token);
            // Leet characters became letters: they are letters and word bytes now.
            for (k, &b) in token.iter().enumerate() {
                if is_alpha_byte(b) {
                    let (w, bit) = ((start + k) / BLOCK, 1u64 << ((start + k) % BLOCK));
                    masks[w][ALPHA] |= bit;
                    masks[w][WORD] |= bit;
                }
            }
        }
        from = end;
    }
}

/// Is there any `x y`-shaped pair (two single letters around one separator, neither glued to
/// another letter or digit) in ASCII text? Only then can [`spaced_letter_separators`] find a
/// run; most text has none. Per block: the separators whose neighbours one byte away are
/// letters and two bytes away are not word bytes, the neighbours read across block edges.
fn has_spaced_pair(masks: &[Classes]) -> bool {
    let mut prev = [0u64; 5];
    for (w, m) in masks.iter().enumerate() {
        let next = masks.get(w + 1).copied().unwrap_or_default();
        let alpha_before = (m[ALPHA] << 1) | (prev[ALPHA] >> 63);
        let alpha_after = (m[ALPHA] >> 1) | (next[ALPHA] << 63);
        let word_before2 = (m[WORD] << 2) | (prev[WORD] >> 62);
        let word_after2 = (m[WORD] >> 2) | (next[WORD] << 62);
        if m[SEP] & alpha_before & alpha_after & !word_before2 & !word_after2 != 0 {
            return true;
        }
        prev = *m;
    }
    false
}

fn is_spacing_separator(c: char) -> bool {
    matches!(c, ' ' | '.' | '-' | '_' | '*' | '·' | '\t')
}

/// Whether byte `c` of `b` is a place where the fold may cut a text in two and fold the pieces
/// alone: right after ASCII whitespace that follows two ASCII letters or digits (`…ld |next`).
/// Per character, folding looks at nothing around it; [`fold_leet`]'s tokens end at
/// whitespace; and no spaced-letter run ([`spaced_letter_separators`]) reaches the cut: the
/// letter before the whitespace has a letter or digit before it, so it is not a single letter
/// and the whitespace separates nothing, while the piece after the cut starts, as in the whole
/// text, right after a character that is not a letter or digit. Those three bytes are ASCII, so
/// they fold to themselves (lowercased; leetspeak keeps a digit a letter or digit).
fn safe_cut(b: &[u8], c: usize) -> bool {
    c >= 3
        && b.get(c - 1).is_some_and(|x| x.is_ascii_whitespace())
        && b[c - 2].is_ascii_alphanumeric()
        && b[c - 3].is_ascii_alphanumeric()
}

/// Find runs like `f u c k` whose separators are dropped to give `fuck`. A run is at least
/// [`MIN_SPACED_RUN`] single letters, each separated from the next by exactly one separator
/// character, and bounded by non-letters. Returns the drop mask, or `None` if there is no run.
fn spaced_letter_separators<T: Unit>(chars: &[T]) -> Option<Vec<bool>> {
    let n = chars.len();
    let is_letter = |i: usize| chars[i].ch().is_alphabetic();
    let mut drop: Option<Vec<bool>> = None;
    let mut i = 0;
    while i < n {
        let left_ok = i == 0 || !chars[i - 1].ch().is_alphanumeric();
        if !(left_ok && is_letter(i)) {
            i += 1;
            continue;
        }
        let mut j = i;
        let mut letters = 1;
        while j + 2 < n
            && is_spacing_separator(chars[j + 1].ch())
            && is_letter(j + 2)
            && (j + 3 >= n || !chars[j + 3].ch().is_alphanumeric())
        {
            j += 2;
            letters += 1;
        }
        let right_ok = j + 1 >= n || !chars[j + 1].ch().is_alphanumeric();
        if letters >= MIN_SPACED_RUN && right_ok {
            let d = drop.get_or_insert_with(|| vec![false; n]);
            let mut k = i + 1;
            while k < j {
                d[k] = true;
                k += 2;
            }
        }
        i = j + 1;
    }
    drop
}

/// Whether a letter (an alphabetic character) is in the Latin script: ASCII letters, `ª` `º`,
/// Latin-1 and Latin Extended-A/B, the phonetic extensions, Latin Extended Additional/C/D/E and
/// the full-width forms (`models/featurizer/script_rule.py` lists the same ranges).
pub fn is_latin_letter(c: char) -> bool {
    c.is_ascii_alphabetic()
        || matches!(u32::from(c),
            0xAA | 0xBA | 0xC0..=0x24F | 0x1D00..=0x1DBF | 0x1E00..=0x1EFF | 0x2C60..=0x2C7F
            | 0xA720..=0xA7FF | 0xAB30..=0xAB6F | 0xFF21..=0xFF3A | 0xFF41..=0xFF5A)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_classes_equal_their_char_definitions() {
        for (b, bits) in crate::byte_masks::every_byte_classified(classify) {
            let (ch, ascii) = (char::from(b), b.is_ascii());
            assert_eq!(bits[LEET], ascii && leet_letter(ch).is_some(), "{b}");
            assert_eq!(bits[SPACE], b.is_ascii_whitespace(), "{b}");
            assert_eq!(bits[ALPHA], b.is_ascii_alphabetic(), "{b}");
            assert_eq!(is_alpha_byte(b), b.is_ascii_alphabetic(), "{b}");
            assert_eq!(bits[WORD], b.is_ascii_alphanumeric(), "{b}");
            assert_eq!(bits[SEP], ascii && is_spacing_separator(ch), "{b}");
        }
    }

    #[test]
    fn folds_evasions() {
        let cases = [
            ("Hello World", "hello world"),
            ("ｆｕｃｋ", "fuck"),
            ("fu\u{200B}ck", "fuck"),
            ("fuсk", "fuck"), // Cyrillic с
            ("sh1t happens", "shit happens"),
            ("f u c k you", "fuck you"),
            ("f.u.c.k", "fuck"),
            ("in 2024 we", "in 2024 we"),
            ("a b is fine", "a b is fine"),
            ("café", "cafe"),
            ("$h1t!", "shit!"),
        ];
        for (input, want) in cases {
            assert_eq!(Normalized::new(input).text(), want, "input {input:?}");
        }
    }

    /// Characters that exercise every pass and every cut: letters, digits, leetspeak, the
    /// spacing separators (`·` among them), ASCII and other whitespace, and non-ASCII that
    /// folds (full-width, accents, homoglyphs, invisible) or stays (quotes, CJK).
    const MIXED: &[&str] = &[
        "a", "b", "F", "u", "k", "1", "3", "0", "2", "!", "$", "@", "|", "+", " ", " ", " ", "\n",
        "\t", ".", "-", "_", "*", ",", "·", "\u{a0}", "\u{2003}", "’", "“", "é", "ｆ", "с", "ß",
        "\u{200B}", "\u{301}", "東", "ﬁ", "Ⅻ", "ab ", "word ", "x y ",
    ];

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Folding the pieces between the safe cuts gives what folding the whole text gives:
        /// the same text and the same map back to the original.
        #[test]
        fn pieces_fold_as_the_whole(parts in proptest::collection::vec(proptest::sample::select(MIXED), 0..60)) {
            let original: String = parts.concat();
            let want = Normalized::new_general(&original);
            let got = Normalized::new(&original);
            proptest::prop_assert_eq!(got.text(), want.text());
            for end in 1..=want.text().len() {
                for start in 0..end {
                    proptest::prop_assert_eq!(got.original_span(start, end), want.original_span(start, end));
                }
            }
        }
    }

    /// `CompatFolded::new` as first written: every character folded, then asked whether any
    /// changed.
    fn compat_reference(original: &str) -> Option<(String, Vec<(u32, u32)>)> {
        let mut text = String::new();
        let mut origin = Vec::new();
        let mut changed = false;
        for (offset, c) in original.char_indices() {
            let span = (offset as u32, (offset + c.len_utf8()) as u32);
            if is_invisible(c) {
                changed = true;
                continue;
            }
            let before = text.len();
            text.extend(std::iter::once(c).nfkc());
            changed |= text.get(before..) != Some(c.encode_utf8(&mut [0; 4]));
            origin.resize(text.len(), span);
        }
        changed.then_some((text, origin))
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// The compatibility fold, built only from the first character that changes, is the
        /// fold of every character.
        #[test]
        fn compat_fold_equals_folding_every_character(parts in proptest::collection::vec(proptest::sample::select(MIXED), 0..40)) {
            let original: String = parts.concat();
            let got = CompatFolded::new(&original).map(|f| (f.text, f.origin));
            proptest::prop_assert_eq!(got, compat_reference(&original));
        }
    }

    #[test]
    fn mixed_text_takes_the_ascii_path_between_its_wide_characters() {
        let original = "I’m sure it’s fine, but f u c k this and sh1t that — café ｆｕｃｋ.";
        let n = Normalized::new(original);
        assert_eq!(n.text(), Normalized::new_general(original).text());
        assert_eq!(
            n.text(),
            "i’m sure it’s fine, but fuck this and shit that — cafe fuck."
        );
        let at = n.text().find("fuck this").unwrap();
        let (s, e) = n.original_span(at, at + 4).unwrap();
        assert_eq!(&original[s..e], "f u c k");
    }

    #[test]
    fn compat_fold_is_none_when_nothing_changes() {
        assert!(CompatFolded::new("plain ascii").is_none());
        assert!(CompatFolded::new("it’s “quoted” — 東京 café").is_none());
        let f = CompatFolded::new("key ＡＫＩＡ and z\u{200B}w").unwrap();
        assert_eq!(f.text, "key AKIA and zw");
    }

    #[test]
    fn spans_map_back_to_original_bytes() {
        let original = "say fu\u{200B}сk now";
        let n = Normalized::new(original);
        let start = n.text().find("fuck").unwrap();
        let (s, e) = n.original_span(start, start + 4).unwrap();
        assert_eq!(&original[s..e], "fu\u{200B}сk");

        let original = "xx f u c k yy";
        let n = Normalized::new(original);
        assert_eq!(n.text(), "xx fuck yy");
        let (s, e) = n.original_span(3, 7).unwrap();
        assert_eq!(&original[s..e], "f u c k");
    }

    #[test]
    fn empty_and_out_of_range_spans() {
        let n = Normalized::new("abc");
        assert_eq!(n.original_span(1, 1), None);
        assert_eq!(n.original_span(0, 9), None);
    }

    proptest::proptest! {
        #[test]
        fn spans_always_land_on_original_char_boundaries(input in "\\PC{0,40}", a in 0usize..80, b in 0usize..80) {
            let n = Normalized::new(&input);
            let (a, b) = (a.min(b), a.max(b));
            if let Some((s, e)) = n.original_span(a, b) {
                proptest::prop_assert!(s < e && e <= input.len());
                proptest::prop_assert!(input.is_char_boundary(s) && input.is_char_boundary(e));
            }
        }

        #[test]
        fn spaced_pair_test_equals_the_scalar_one(input in "[aZ1 .\\-_*\t@!]{0,300}") {
            let b = input.as_bytes();
            let word = |i: usize| b.get(i).is_some_and(|c| c.is_ascii_alphanumeric());
            let alpha = |i: usize| b[i].is_ascii_alphabetic();
            let scalar = (1..b.len().saturating_sub(1)).any(|i| {
                is_spacing_separator(char::from(b[i]))
                    && alpha(i - 1)
                    && alpha(i + 1)
                    && !(i >= 2 && word(i - 2))
                    && !word(i + 2)
            });
            proptest::prop_assert_eq!(has_spaced_pair(&block_masks(b, classify)), scalar);
        }

        #[test]
        fn ascii_and_general_paths_agree_on_leet_and_spacing(input in "[a-c 1-4.@!$|+]{0,300}") {
            let fast = Normalized::new(&input);
            let slow = Normalized::new(&format!("{input}\u{200B}"));
            proptest::prop_assert_eq!(fast.text(), slow.text());
        }

        #[test]
        fn ascii_and_general_paths_agree(input in "[ -~]{0,40}") {
            // A trailing zero-width space is dropped, but forces the general (non-ASCII) path.
            let fast = Normalized::new(&input);
            let slow = Normalized::new(&format!("{input}\u{200B}"));
            proptest::prop_assert_eq!(fast.text(), slow.text());
            for i in 0..fast.text().len() {
                proptest::prop_assert_eq!(fast.original_span(i, i + 1), slow.original_span(i, i + 1));
            }
        }
    }
}
