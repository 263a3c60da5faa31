//! National identity numbers of other countries and non-US passports, behind context words.
//!
//! These numbers are short digit or letter-digit strings that ordinary text is full of, so
//! every format here is reported only when a word naming it ("NINO", "Aadhaar", "CPF",
//! "Personalausweis", "身份证", "passport", "pasaporte", …) is in the window before the value,
//! and, where the format has one, its check digit verifies. The formats are a data table: a
//! shape (an anchored regex over ASCII, separators allowed where people write them), the context
//! classes that admit it, and a validation of the value's letters and digits.
//!
//! Generic words ("national ID", "ID card", "identity number") admit only formats with a
//! checksum; country words also admit the formats without one (UK NINO, India PAN, a passport).

use std::sync::OnceLock;

use regex::bytes::Regex;

use super::context::{class, LazyContext};
use super::credit_card::luhn;
use super::{Candidate, PiiEntity};

/// Longest value looked at, separators included.
const MAX_ID_SPAN: usize = 24;
/// Letters and digits in the longest value (a CURP).
const MAX_ID_CHARS: usize = 20;
/// Score of a value with a verified check digit or strict structure and its context word.
const SCORE_CHECKED: f32 = 0.85;
/// Score of a format without a checksum, with its own country's word.
const SCORE_SHAPE: f32 = 0.75;
/// A passport number of another country: below the US recognizer, so US shapes keep their kind.
const SCORE_PASSPORT: f32 = 0.8;
/// Longest letter group before the digits that may be written apart (`AB 12 34 56 C`, `X-…`).
const MAX_LEAD_LETTERS: usize = 3;

/// Every context class this module reads.
pub(crate) const ID_CLASSES: u64 = class::NATIONAL_ID
    | class::TAX_ID
    | class::PASSPORT
    | class::SSN
    | class::UK_NINO
    | class::UK_NHS
    | class::CA_SIN
    | class::IN_AADHAAR
    | class::IN_PAN
    | class::BR_CPF
    | class::BR_CNPJ
    | class::ES_DNI
    | class::IT_CF
    | class::FR_NIR
    | class::DE_ID
    | class::DE_TAX
    | class::NL_BSN
    | class::PL_PESEL
    | class::SE_PNR
    | class::CN_ID
    | class::SG_NRIC
    | class::AU_TFN
    | class::AU_MEDICARE
    | class::KR_RRN
    | class::MX_CURP
    | class::TR_TCKN
    | class::CL_RUT
    | class::ZA_ID
    | class::IL_ID
    | class::NO_FNR
    | class::DK_CPR
    | class::FI_HETU
    | class::BE_NRN
    | class::CH_AHV
    | class::PT_NIF
    | class::JP_MYNUMBER
    | class::AR_CUIT
    | class::IE_PPSN
    | class::RO_CNP
    | class::CZ_RC
    | class::GR_AMKA;

/// One format: the classes that admit it, its shape, its validation.
struct IdFormat {
    entity: PiiEntity,
    classes: u64,
    /// Anchored at the value's first byte when compiled.
    shape: &'static str,
    /// Validation of the value's ASCII letters and digits (separators removed).
    check: fn(&[u8]) -> bool,
    score: f32,
}

const fn id(classes: u64, shape: &'static str, check: fn(&[u8]) -> bool) -> IdFormat {
    IdFormat {
        entity: PiiEntity::NationalId,
        classes,
        shape,
        check,
        score: SCORE_CHECKED,
    }
}

const fn shape_only(classes: u64, shape: &'static str, check: fn(&[u8]) -> bool) -> IdFormat {
    IdFormat {
        entity: PiiEntity::NationalId,
        classes,
        shape,
        check,
        score: SCORE_SHAPE,
    }
}

use class::*;

/// Generic identity words admit the checksummed formats.
const ANY_ID: u64 = NATIONAL_ID;

#[rustfmt::skip]
const FORMATS: &[IdFormat] = &[
    // UK National Insurance number: two prefix letters, six digits, suffix A-D.
    shape_only(UK_NINO, r"[A-Z]{2} ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]", nino_ok),
    // UK NHS number: ten digits, mod 11.
    id(UK_NHS, r"[0-9]{3}[ -]?[0-9]{3}[ -]?[0-9]{4}", nhs_ok),
    // Canada SIN: nine digits, Luhn.
    id(CA_SIN, r"[0-9]{3}[ -]?[0-9]{3}[ -]?[0-9]{3}", sin_ok),
    // India Aadhaar: twelve digits, Verhoeff.
    id(IN_AADHAAR | ANY_ID, r"[2-9][0-9]{3}[ -]?[0-9]{4}[ -]?[0-9]{4}", aadhaar_ok),
    // India PAN: five letters (fourth: holder type), four digits, a letter.
    shape_only(IN_PAN | TAX_ID, r"[A-Z]{3}[ABCFGHJLPT][A-Z][0-9]{4}[A-Z]", any),
    // Brazil CPF and CNPJ: mod 11, two check digits.
    id(BR_CPF | TAX_ID | ANY_ID, r"[0-9]{3}\.?[0-9]{3}\.?[0-9]{3}[-.]?[0-9]{2}", cpf_ok),
    id(BR_CNPJ | TAX_ID, r"[0-9]{2}\.?[0-9]{3}\.?[0-9]{3}/?[0-9]{4}-?[0-9]{2}", cnpj_ok),
    // Spain DNI / NIF and NIE: check letter mod 23.
    id(ES_DNI | TAX_ID | ANY_ID, r"[0-9]{8}[ -]?[A-Z]", dni_ok),
    id(ES_DNI | TAX_ID | ANY_ID, r"[XYZ][ -]?[0-9]{7}[ -]?[A-Z]", dni_ok),
    // Italy codice fiscale: check letter (omocodia digits may be letters).
    id(IT_CF | TAX_ID | ANY_ID,
       r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]",
       cf_ok),
    // France NIR (INSEE): thirteen characters and a mod-97 key; Corsica 2A / 2B.
    id(FR_NIR | SSN | ANY_ID,
       r"[12] ?[0-9]{2} ?[0-9]{2} ?(?:[0-9]{2}|2[AB]) ?[0-9]{3} ?[0-9]{3} ?[0-9]{2}",
       nir_ok),
    // Germany: identity card (with its check digit, or nine characters under its own word),
    // tax id (ISO 7064 mod 11,10).
    id(DE_ID | ANY_ID, r"[CFGHJKLMNPRTVWXYZ][CFGHJKLMNPRTVWXYZ0-9]{8}[0-9]", de_id_ok),
    shape_only(DE_ID, r"[CFGHJKLMNPRTVWXYZ][CFGHJKLMNPRTVWXYZ0-9]{8}", has_digit),
    id(DE_TAX | TAX_ID, r"[1-9][0-9] ?[0-9]{3} ?[0-9]{3} ?[0-9]{3}", de_tax_ok),
    // Netherlands BSN: nine digits, 11-proof.
    id(NL_BSN, r"[0-9]{4}[. ]?[0-9]{2}[. ]?[0-9]{3}", bsn_ok),
    // Poland PESEL: eleven digits, date and weighted check digit.
    id(PL_PESEL | ANY_ID, r"[0-9]{11}", pesel_ok),
    // Sweden personnummer: (YY)YYMMDD-NNNC, Luhn.
    id(SE_PNR | ANY_ID, r"(?:[0-9]{2})?[0-9]{6}[-+ ]?[0-9]{4}", pnr_ok),
    // China resident identity card: region, birth date, sequence, ISO 7064 mod 11-2.
    id(CN_ID | ANY_ID,
       r"[1-9][0-9]{5}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9X]",
       cn_id_ok),
    // Singapore NRIC / FIN: weighted check letter.
    id(SG_NRIC | ANY_ID, r"[STFGM][0-9]{7}[A-Z]", nric_ok),
    // Australia TFN (eight or nine digits) and Medicare (ten, optional issue number).
    id(AU_TFN | TAX_ID, r"[0-9]{3} ?[0-9]{3} ?[0-9]{2,3}", tfn_ok),
    id(AU_MEDICARE, r"[2-6][0-9]{3} ?[0-9]{5} ?[0-9](?:[ -/]?[1-9])?", medicare_ok),
    // Korea RRN: birth date, sex digit; the check digit (numbers issued before 2020) is
    // required under generic words only.
    id(KR_RRN, r"[0-9]{6}[- ]?[1-8][0-9]{6}", rrn_date_ok),
    id(ANY_ID, r"[0-9]{6}[- ]?[1-8][0-9]{6}", rrn_ok),
    // Mexico CURP: name letters, birth date, sex, state, consonants, check digit.
    id(MX_CURP | ANY_ID,
       r"[A-Z][AEIOUX][A-Z]{2}[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[HMX][A-Z]{2}[B-DF-HJ-NP-TV-Z]{3}[A-Z0-9][0-9]",
       curp_ok),
    // Turkey TC Kimlik No: eleven digits, two check digits.
    id(TR_TCKN | ANY_ID, r"[1-9][0-9]{10}", tckn_ok),
    // Chile RUT / RUN: body and a mod-11 check character (0-9 or K).
    id(CL_RUT, r"[0-9]{1,2}\.?[0-9]{3}\.?[0-9]{3}-?[0-9K]", rut_ok),
    // South Africa: birth date, sequence, citizenship, Luhn.
    id(ZA_ID | ANY_ID, r"[0-9]{6} ?[0-9]{4} ?[0-9]{3}", za_id_ok),
    // Israel Teudat Zehut: nine digits, Luhn.
    id(IL_ID, r"[0-9]{9}", il_id_ok),
    // Norway fødselsnummer (and D-/H-numbers): birth date, two mod-11 check digits.
    id(NO_FNR | ANY_ID, r"[0-9]{6} ?[0-9]{5}", fnr_ok),
    // Denmark CPR: birth date and four digits (no check digit since 2007).
    shape_only(DK_CPR, r"[0-3][0-9][01][0-9]{3}-?[0-9]{4}", cpr_ok),
    // Finland HETU: birth date, century sign, sequence, mod-31 check character.
    id(FI_HETU | ANY_ID, r"[0-3][0-9][01][0-9]{3}[-+A-FU-Y][0-9]{3}[0-9A-FHJ-NPR-Y]", hetu_ok),
    // Belgium national register number: birth date, sequence, mod-97 key.
    id(BE_NRN | ANY_ID, r"[0-9]{2}\.?[0-9]{2}\.?[0-9]{2}[-. ]?[0-9]{3}\.?[0-9]{2}", be_nrn_ok),
    // Switzerland AHV / AVS: 756, nine digits, EAN-13 check digit.
    id(CH_AHV | ANY_ID, r"756\.?[0-9]{4}\.?[0-9]{4}\.?[0-9]{2}", ahv_ok),
    // Portugal NIF: nine digits, mod 11.
    id(PT_NIF | TAX_ID, r"[1-35689][0-9]{2} ?[0-9]{3} ?[0-9]{3}", pt_nif_ok),
    // Japan My Number: twelve digits, weighted mod-11 check digit.
    id(JP_MYNUMBER, r"[0-9]{4} ?[0-9]{4} ?[0-9]{4}", my_number_ok),
    // Argentina CUIT / CUIL: type, document number, mod-11 check digit.
    id(AR_CUIT | TAX_ID, r"(?:20|23|24|27|30|33|34)-?[0-9]{8}-?[0-9]", cuit_ok),
    // Ireland PPSN: seven digits, a mod-23 check letter, optionally a second letter.
    id(IE_PPSN, r"[0-9]{7}[A-W][A-IW]?", ppsn_ok),
    // Romania CNP: sex/century, birth date, county, sequence, mod-11 check digit.
    id(RO_CNP | ANY_ID, r"[1-9][0-9]{12}", cnp_ok),
    // Czech / Slovak rodné číslo: birth date (month + 50 for women), divisible by 11.
    id(CZ_RC, r"[0-9]{6}/?[0-9]{4}", rodne_cislo_ok),
    // Greece AMKA: birth date, Luhn.
    id(GR_AMKA, r"[0-9]{11}", amka_ok),
    // Passports of other countries: 6-10 capitals and digits, or the Russian series + number.
    IdFormat {
        entity: PiiEntity::Passport,
        classes: PASSPORT,
        shape: r"(?:[0-9]{2} ?[0-9]{2} ?[0-9]{6}|[A-Z0-9]{6,10})",
        check: passport_ok,
        score: SCORE_PASSPORT,
    },
];

/// The formats, each shape compiled on first use: a policy load compiles none of them (most
/// traffic never has an identity number behind its word), and one that failed to compile (a
/// test proves none does) is skipped.
pub(crate) struct IdFormats {
    compiled: Vec<(&'static IdFormat, OnceLock<Option<Regex>>)>,
}

impl IdFormats {
    pub(crate) fn new() -> Self {
        let compiled = FORMATS.iter().map(|f| (f, OnceLock::new())).collect();
        IdFormats { compiled }
    }

    /// The shape of `f`, anchored at the value's first byte.
    fn shape<'s>(f: &IdFormat, re: &'s OnceLock<Option<Regex>>) -> Option<&'s Regex> {
        re.get_or_init(|| Regex::new(&format!("^(?:{})", f.shape)).ok())
            .as_ref()
    }

    /// The identity number starting at the token `ts` (or at a short capital-letter group just
    /// before it), given the digit run at `d`, when a word for it precedes it.
    pub(crate) fn find(&self, b: &[u8], ts: usize, ctx: &mut LazyContext<'_>) -> Option<Candidate> {
        // Most digit runs (years, prices, list numbers) are too short for any format: settle
        // them before looking for context words.
        if !may_start(b, ts) {
            return None;
        }
        let mut starts = [Some(ts), lead_letters(b, ts)];
        let wanted = ctx.before(ID_CLASSES);
        if wanted == 0 {
            return None;
        }
        starts.sort_by_key(|s| s.map(|v| usize::MAX - v));
        for start in starts.into_iter().flatten().rev() {
            if !left_ok(b, start) {
                continue;
            }
            let hay = b.get(start..(start + MAX_ID_SPAN).min(b.len()))?;
            for (f, re) in &self.compiled {
                if f.classes & wanted == 0 {
                    continue;
                }
                let Some(m) = Self::shape(f, re).and_then(|re| re.find(hay)) else {
                    continue;
                };
                let end = start + m.end();
                if !right_ok(b, end) {
                    continue;
                }
                let mut buf = [0u8; MAX_ID_CHARS];
                let mut n = 0;
                for &c in hay
                    .get(..m.end())?
                    .iter()
                    .filter(|c| c.is_ascii_alphanumeric())
                {
                    *buf.get_mut(n)? = c;
                    n += 1;
                }
                if (f.check)(buf.get(..n)?) {
                    return Some(Candidate::new(f.entity, start, end, f.score));
                }
            }
        }
        None
    }
}

/// Whether an identity number may start at the token `ts` or at a capital-letter group just
/// before it: enough shape characters at one of them. [`IdFormats::find`] finds nothing
/// where this is false.
pub(crate) fn may_start(b: &[u8], ts: usize) -> bool {
    shape_chars(b, ts) >= MIN_ID_CHARS
        || lead_letters(b, ts).is_some_and(|s| shape_chars(b, s) >= MIN_ID_CHARS)
}

/// Fewest letters and digits in any format (a passport number: 6).
const MIN_ID_CHARS: usize = 6;

/// Capitals and digits at the start of `b[s..]`, through the separators the shapes allow
/// between them (` `, `-`, `.`, `/`), within [`MAX_ID_SPAN`] bytes. Shapes are capitals,
/// digits and those separators (a Medicare number's optional last digit aside, which follows
/// ten others), so no shape matches at `s` with fewer than [`MIN_ID_CHARS`] of them.
fn shape_chars(b: &[u8], s: usize) -> usize {
    let hay = b.get(s..(s + MAX_ID_SPAN).min(b.len())).unwrap_or(&[]);
    hay.iter()
        .take_while(|c| {
            c.is_ascii_uppercase() || c.is_ascii_digit() || matches!(c, b' ' | b'-' | b'.' | b'/')
        })
        .filter(|c| c.is_ascii_alphanumeric())
        .count()
}

/// Start of a group of up to [`MAX_LEAD_LETTERS`] capitals written one space or dash before
/// the token at `ts` (`AB 12 34 56 C`, `X-1234567-L`).
fn lead_letters(b: &[u8], ts: usize) -> Option<usize> {
    let sep = *b.get(ts.checked_sub(1)?)?;
    if sep != b' ' && sep != b'-' {
        return None;
    }
    let end = ts - 1;
    let mut s = end;
    while s > 0 && end - s < MAX_LEAD_LETTERS && b[s - 1].is_ascii_uppercase() {
        s -= 1;
    }
    let whole = s == 0 || !b[s - 1].is_ascii_alphanumeric();
    (s < end && whole).then_some(s)
}

fn left_ok(b: &[u8], s: usize) -> bool {
    let prev = s.checked_sub(1).and_then(|p| b.get(p)).copied();
    !prev.is_some_and(|c| {
        c.is_ascii_alphanumeric() || matches!(c, b'.' | b'/' | b'_' | b'@' | b'+' | b'-' | b'\\')
    }) || prev == Some(b'-') && s >= 2 && b[s - 2] == b' '
}

fn right_ok(b: &[u8], e: usize) -> bool {
    match b.get(e) {
        None => true,
        Some(c) if c.is_ascii_alphanumeric() || *c == b'_' || *c == b'@' => false,
        Some(b'.' | b'-' | b'/') => !b.get(e + 1).is_some_and(u8::is_ascii_alphanumeric),
        Some(_) => true,
    }
}

fn any(_: &[u8]) -> bool {
    true
}

fn has_digit(v: &[u8]) -> bool {
    v.iter().any(u8::is_ascii_digit)
}

fn val(c: u8) -> u32 {
    u32::from(c.wrapping_sub(b'0'))
}

/// Weighted digit sum `Σ d_i · w_i` over the leading digits.
fn weighted(v: &[u8], w: &[u32]) -> u32 {
    v.iter().zip(w).map(|(&c, &w)| val(c) * w).sum()
}

fn all_same(v: &[u8]) -> bool {
    v.iter().all(|&c| Some(&c) == v.first())
}

fn date_ok(month: u32, day: u32) -> bool {
    (1..=12).contains(&month) && (1..=31).contains(&day)
}

fn two(v: &[u8], i: usize) -> u32 {
    v.get(i).map_or(99, |&c| val(c)) * 10 + v.get(i + 1).map_or(99, |&c| val(c))
}

fn nino_ok(v: &[u8]) -> bool {
    let [a, b, ..] = *v else { return false };
    if v.len() != 9 {
        return false;
    }
    !b"DFIQUV".contains(&a)
        && !b"DFIOQUV".contains(&b)
        && ![b"BG", b"GB", b"KN", b"NK", b"NT", b"TN", b"ZZ"].contains(&&[a, b])
        && !all_same(&v[2..8])
}

fn nhs_ok(v: &[u8]) -> bool {
    let sum = weighted(v, &[10, 9, 8, 7, 6, 5, 4, 3, 2]);
    let check = (11 - sum % 11) % 11;
    v.len() == 10 && check != 10 && check == val(v[9]) && !all_same(v)
}

fn sin_ok(v: &[u8]) -> bool {
    v.len() == 9 && v[0] != b'8' && luhn(v) && !all_same(v)
}

fn aadhaar_ok(v: &[u8]) -> bool {
    const D: [[u8; 10]; 10] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ];
    const P: [[u8; 10]; 8] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ];
    let mut c = 0usize;
    for (i, &d) in v.iter().rev().enumerate() {
        let p = P[i % 8][usize::from(d.wrapping_sub(b'0')) % 10];
        c = usize::from(D[c][usize::from(p)]);
    }
    v.len() == 12 && c == 0 && !all_same(v)
}

/// Brazilian mod-11 check digit over `v` with descending weights starting at `first`.
fn br_digit(v: &[u8], weights: &[u32]) -> u32 {
    let r = weighted(v, weights) % 11;
    if r < 2 {
        0
    } else {
        11 - r
    }
}

fn cpf_ok(v: &[u8]) -> bool {
    v.len() == 11
        && !all_same(v)
        && br_digit(v, &[10, 9, 8, 7, 6, 5, 4, 3, 2]) == val(v[9])
        && br_digit(v, &[11, 10, 9, 8, 7, 6, 5, 4, 3, 2]) == val(v[10])
}

fn cnpj_ok(v: &[u8]) -> bool {
    v.len() == 14
        && !all_same(v)
        && br_digit(v, &[5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]) == val(v[12])
        && br_digit(v, &[6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]) == val(v[13])
}

fn dni_ok(v: &[u8]) -> bool {
    const LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";
    let (Some((&letter, body)), true) = (v.split_last(), v.len() == 9) else {
        return false;
    };
    let mut n = match body[0] {
        b'X' => 0,
        b'Y' => 1,
        b'Z' => 2,
        c => val(c),
    };
    for &c in &body[1..] {
        n = n * 10 + val(c);
    }
    LETTERS[(n % 23) as usize] == letter && !all_same(&body[1..])
}

fn cf_ok(v: &[u8]) -> bool {
    const ODD: [u8; 26] = [
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24,
        23,
    ];
    if v.len() != 16 {
        return false;
    }
    let mut sum = 0u32;
    for (i, &c) in v[..15].iter().enumerate() {
        let k = if c.is_ascii_digit() {
            c - b'0'
        } else {
            c.wrapping_sub(b'A') % 26
        };
        sum += u32::from(if i % 2 == 0 { ODD[usize::from(k)] } else { k });
    }
    u32::from(v[15].wrapping_sub(b'A')) == sum % 26
}

fn nir_ok(v: &[u8]) -> bool {
    if v.len() != 15 {
        return false;
    }
    let mut n: u64 = 0;
    for (i, &c) in v[..13].iter().enumerate() {
        // Corsica: 2A counts as 19, 2B as 18 in the department field
        let d = match (i, c) {
            (5, b'2') if v[6].is_ascii_uppercase() => 1,
            (6, b'A') => 9,
            (6, b'B') => 8,
            (_, c) if c.is_ascii_digit() => u64::from(c - b'0'),
            _ => return false,
        };
        n = n * 10 + d;
    }
    let key = u64::from(two(v, 13));
    let month = two(v, 3);
    ((1..=12).contains(&month) || (20..=99).contains(&month)) && key == 97 - n % 97
}

fn de_id_ok(v: &[u8]) -> bool {
    if v.len() != 10 {
        return false;
    }
    let mut sum = 0u32;
    for (i, &c) in v[..9].iter().enumerate() {
        let x = if c.is_ascii_digit() {
            val(c)
        } else {
            u32::from(c.wrapping_sub(b'A')) + 10
        };
        sum += x * [7, 3, 1][i % 3];
    }
    sum % 10 == val(v[9]) && has_digit(&v[..9])
}

fn de_tax_ok(v: &[u8]) -> bool {
    if v.len() != 11 || all_same(&v[..10]) {
        return false;
    }
    let mut product = 10;
    for &c in &v[..10] {
        let mut sum = (val(c) + product) % 10;
        if sum == 0 {
            sum = 10;
        }
        product = (sum * 2) % 11;
    }
    let check = (11 - product) % 10;
    check == val(v[10])
}

fn bsn_ok(v: &[u8]) -> bool {
    if v.len() != 9 {
        return false;
    }
    let sum = weighted(v, &[9, 8, 7, 6, 5, 4, 3, 2]) as i64 - i64::from(val(v[8]));
    sum % 11 == 0 && sum > 0 && !all_same(v)
}

fn pesel_ok(v: &[u8]) -> bool {
    let check = (10 - weighted(v, &[1, 3, 7, 9, 1, 3, 7, 9, 1, 3]) % 10) % 10;
    v.len() == 11 && check == val(v[10]) && date_ok(two(v, 2) % 20, two(v, 4)) && !all_same(v)
}

fn pnr_ok(v: &[u8]) -> bool {
    let v = &v[v.len().saturating_sub(10)..];
    let day = two(v, 4);
    v.len() == 10
        && date_ok(two(v, 2), if day > 60 { day - 60 } else { day })
        && luhn(v)
        && !all_same(v)
}

fn cn_id_ok(v: &[u8]) -> bool {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    v.len() == 18 && CHECK[(weighted(v, &W) % 11) as usize] == v[17]
}

fn nric_ok(v: &[u8]) -> bool {
    if v.len() != 9 {
        return false;
    }
    let sum = weighted(&v[1..], &[2, 7, 6, 5, 4, 3, 2]);
    let (offset, table): (u32, &[u8; 11]) = match v[0] {
        b'S' => (0, b"JZIHGFEDCBA"),
        b'T' => (4, b"JZIHGFEDCBA"),
        b'F' => (0, b"XWUTRQPNMLK"),
        b'G' => (4, b"XWUTRQPNMLK"),
        b'M' => (3, b"XWUTRQPNJLK"),
        _ => return false,
    };
    table[((sum + offset) % 11) as usize] == v[8]
}

fn tfn_ok(v: &[u8]) -> bool {
    let w: &[u32] = match v.len() {
        9 => &[1, 4, 3, 7, 5, 8, 6, 9, 10],
        8 => &[10, 7, 8, 4, 6, 3, 5, 1],
        _ => return false,
    };
    weighted(v, w).is_multiple_of(11) && !all_same(v)
}

fn medicare_ok(v: &[u8]) -> bool {
    (v.len() == 10 || v.len() == 11)
        && weighted(v, &[1, 3, 7, 9, 1, 3, 7, 9]) % 10 == val(v[8])
        && !all_same(&v[..8])
}

fn rrn_date_ok(v: &[u8]) -> bool {
    v.len() == 13 && date_ok(two(v, 2), two(v, 4)) && !all_same(&v[7..])
}

fn rrn_ok(v: &[u8]) -> bool {
    let check = (11 - weighted(v, &[2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5]) % 11) % 10;
    rrn_date_ok(v) && check == val(v[12])
}

fn curp_ok(v: &[u8]) -> bool {
    // Values of "0-9A-NÑO-Z": Ñ sits between N and O.
    let value = |c: u8| -> u32 {
        match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'N' => u32::from(c - b'A') + 10,
            _ => u32::from(c.wrapping_sub(b'A')) + 11,
        }
    };
    if v.len() != 18 {
        return false;
    }
    let sum: u32 = v[..17]
        .iter()
        .enumerate()
        .map(|(i, &c)| value(c) * (18 - i as u32))
        .sum();
    (10 - sum % 10) % 10 == val(v[17])
}

fn passport_ok(v: &[u8]) -> bool {
    let digits = v.iter().filter(|c| c.is_ascii_digit()).count();
    let letters = v.len() - digits;
    if v.len() < 6 || v.len() > 10 || digits < 3 || letters > 5 || all_same(v) {
        return false;
    }
    if letters == 0 {
        // bare numbers: long enough to be a document number, not a date or an amount
        let date = v.len() == 8 && (two(v, 0) == 19 || two(v, 0) == 20) && two(v, 4) <= 12;
        return v.len() >= 8 && !date;
    }
    true
}

fn digits_only(v: &[u8]) -> bool {
    v.iter().all(u8::is_ascii_digit)
}

fn tckn_ok(v: &[u8]) -> bool {
    if v.len() != 11 || !digits_only(v) || v[0] == b'0' || all_same(v) {
        return false;
    }
    let d = |i: usize| val(v[i]) as i32;
    let odd = d(0) + d(2) + d(4) + d(6) + d(8);
    let even = d(1) + d(3) + d(5) + d(7);
    let d10 = (odd * 7 - even).rem_euclid(10);
    let d11 = (0..10).map(d).sum::<i32>() % 10;
    d10 == d(9) && d11 == d(10)
}

fn rut_ok(v: &[u8]) -> bool {
    let Some((&check, body)) = v.split_last() else {
        return false;
    };
    if !(7..=8).contains(&body.len()) || !digits_only(body) || all_same(body) {
        return false;
    }
    let mut sum = 0;
    for (i, &c) in body.iter().rev().enumerate() {
        sum += val(c) * (2 + (i as u32) % 6);
    }
    match 11 - sum % 11 {
        11 => check == b'0',
        10 => check == b'K',
        r => check == b'0' + r as u8,
    }
}

fn za_id_ok(v: &[u8]) -> bool {
    v.len() == 13
        && digits_only(v)
        && date_ok(two(v, 2), two(v, 4))
        && matches!(v[10], b'0' | b'1' | b'2')
        && luhn(v)
        && !all_same(&v[6..])
}

fn il_id_ok(v: &[u8]) -> bool {
    v.len() == 9 && digits_only(v) && luhn(v) && !all_same(v)
}

fn fnr_ok(v: &[u8]) -> bool {
    if v.len() != 11 || !digits_only(v) || all_same(v) {
        return false;
    }
    let k = |w: &[u32]| -> Option<u32> {
        match 11 - weighted(v, w) % 11 {
            11 => Some(0),
            10 => None,
            r => Some(r),
        }
    };
    // D-numbers add 40 to the day, H-numbers 40 to the month, synthetic numbers 80
    let day = two(v, 0) % 40;
    let month = two(v, 2) % 40;
    date_ok(month, day)
        && k(&[3, 7, 6, 1, 8, 9, 4, 5, 2]) == Some(val(v[9]))
        && k(&[5, 4, 3, 2, 7, 6, 5, 4, 3, 2]) == Some(val(v[10]))
}

fn cpr_ok(v: &[u8]) -> bool {
    v.len() == 10 && digits_only(v) && date_ok(two(v, 2), two(v, 0)) && !all_same(&v[6..])
}

fn hetu_ok(v: &[u8]) -> bool {
    const CHECK: &[u8; 31] = b"0123456789ABCDEFHJKLMNPRSTUVWXY";
    // The century sign `-`/`+` is a separator and was removed; a letter sign stays.
    let (date, seq, check) = match v.len() {
        10 => (&v[..6], &v[6..9], v[9]),
        11 => (&v[..6], &v[7..10], v[10]),
        _ => return false,
    };
    if !digits_only(date) || !digits_only(seq) || !date_ok(two(date, 2), two(date, 0)) {
        return false;
    }
    let n = date
        .iter()
        .chain(seq)
        .fold(0u64, |n, &c| n * 10 + u64::from(val(c)));
    CHECK[(n % 31) as usize] == check
}

fn be_nrn_ok(v: &[u8]) -> bool {
    if v.len() != 11 || !digits_only(v) || all_same(v) {
        return false;
    }
    let n = v[..9].iter().fold(0u64, |n, &c| n * 10 + u64::from(val(c)));
    let key = u64::from(two(v, 9));
    let month = two(v, 2);
    // Registered without a known birth date: month 0; bis numbers: month + 20 or + 40.
    month <= 52 && (key == 97 - n % 97 || key == 97 - (2_000_000_000 + n) % 97)
}

fn ahv_ok(v: &[u8]) -> bool {
    if v.len() != 13 || !digits_only(v) || all_same(&v[3..12]) {
        return false;
    }
    let sum: u32 = v[..12]
        .iter()
        .enumerate()
        .map(|(i, &c)| val(c) * if i % 2 == 0 { 1 } else { 3 })
        .sum();
    (10 - sum % 10) % 10 == val(v[12])
}

fn pt_nif_ok(v: &[u8]) -> bool {
    if v.len() != 9 || !digits_only(v) || all_same(v) {
        return false;
    }
    let r = 11 - weighted(v, &[9, 8, 7, 6, 5, 4, 3, 2]) % 11;
    (if r >= 10 { 0 } else { r }) == val(v[8])
}

fn my_number_ok(v: &[u8]) -> bool {
    if v.len() != 12 || !digits_only(v) || all_same(v) {
        return false;
    }
    // P_n is the n-th digit from the right before the check digit; Q_n = n + 1 up to 6, then n - 5.
    let sum: u32 = (1..=11)
        .map(|n| val(v[11 - n]) * if n <= 6 { n as u32 + 1 } else { n as u32 - 5 })
        .sum();
    let r = sum % 11;
    (if r <= 1 { 0 } else { 11 - r }) == val(v[11])
}

fn cuit_ok(v: &[u8]) -> bool {
    if v.len() != 11 || !digits_only(v) || all_same(&v[2..10]) {
        return false;
    }
    match 11 - weighted(v, &[5, 4, 3, 2, 7, 6, 5, 4, 3, 2]) % 11 {
        11 => val(v[10]) == 0,
        10 => false,
        r => val(v[10]) == r,
    }
}

fn ppsn_ok(v: &[u8]) -> bool {
    const CHECK: &[u8; 23] = b"WABCDEFGHIJKLMNOPQRSTUV";
    if !(8..=9).contains(&v.len()) || !digits_only(&v[..7]) || all_same(&v[..7]) {
        return false;
    }
    let mut sum = weighted(v, &[8, 7, 6, 5, 4, 3, 2]);
    if let Some(&second) = v.get(8) {
        // second letter: A = 1 … I = 9, W = 0
        sum += match second {
            b'W' => 0,
            c @ b'A'..=b'I' => u32::from(c - b'A') + 1,
            _ => return false,
        } * 9;
    }
    CHECK[(sum % 23) as usize] == v[7]
}

fn cnp_ok(v: &[u8]) -> bool {
    if v.len() != 13 || !digits_only(v) || v[0] == b'0' || all_same(&v[7..12]) {
        return false;
    }
    let r = weighted(v, &[2, 7, 9, 1, 4, 6, 3, 5, 8, 2, 7, 9]) % 11;
    date_ok(two(v, 3), two(v, 5)) && (if r == 10 { 1 } else { r }) == val(v[12])
}

fn rodne_cislo_ok(v: &[u8]) -> bool {
    if v.len() != 10 || !digits_only(v) || all_same(v) {
        return false;
    }
    let n = v.iter().fold(0u64, |n, &c| n * 10 + u64::from(val(c)));
    // month + 50 for women, + 20 / + 70 for numbers issued from 2004
    date_ok(two(v, 2) % 50 % 20, two(v, 4)) && n.is_multiple_of(11)
}

fn amka_ok(v: &[u8]) -> bool {
    v.len() == 11 && digits_only(v) && date_ok(two(v, 2), two(v, 0)) && luhn(v) && !all_same(v)
}

#[cfg(test)]
mod tests {
    use super::super::context::{ContextMatcher, TextContext};
    use super::*;

    /// The identity number found at the first digit run of `text`.
    fn find(text: &str) -> Option<(PiiEntity, String)> {
        let b = text.as_bytes();
        let f = IdFormats::new();
        let m = ContextMatcher::new();
        let tc = TextContext::new(&m, b);
        let mut i = 0;
        while let Some(p) = b.get(i..)?.iter().position(u8::is_ascii_digit) {
            let d = i + p;
            let mut ts = d;
            while ts > 0 && b[ts - 1].is_ascii_alphanumeric() {
                ts -= 1;
            }
            let mut ctx = LazyContext::new(&tc, ts, d);
            if let Some(c) = f.find(b, ts, &mut ctx) {
                return Some((c.entity, text[c.start..c.end].to_string()));
            }
            i = super::super::run_end(b, d);
        }
        None
    }

    #[test]
    fn every_shape_compiles() {
        let formats = IdFormats::new();
        assert_eq!(formats.compiled.len(), FORMATS.len());
        for (f, re) in &formats.compiled {
            assert!(
                re.get().is_none(),
                "{} compiled before its first use",
                f.shape
            );
            assert!(
                IdFormats::shape(f, re).is_some(),
                "{} does not compile",
                f.shape
            );
        }
    }

    #[test]
    fn found_behind_their_words() {
        use PiiEntity::{NationalId, Passport};
        // Values are made up; their check digits were computed for these tests.
        let cases: &[(&str, PiiEntity, &str)] = &[
            (
                "National Insurance number: JG 10 37 48 C",
                NationalId,
                "JG 10 37 48 C",
            ),
            ("my NINO is AB123456D.", NationalId, "AB123456D"),
            ("NHS number 943 476 5919", NationalId, "943 476 5919"),
            ("SIN: 046 454 286", NationalId, "046 454 286"),
            ("Aadhaar 2345 6789 0124", NationalId, "2345 6789 0124"),
            ("PAN: ABCPE1234F", NationalId, "ABCPE1234F"),
            ("CPF 123.456.789-09", NationalId, "123.456.789-09"),
            ("CNPJ: 11.222.333/0001-81", NationalId, "11.222.333/0001-81"),
            ("DNI 12345678Z", NationalId, "12345678Z"),
            ("NIE X-1234567-L", NationalId, "X-1234567-L"),
            (
                "codice fiscale RSSMRA85T10A562S",
                NationalId,
                "RSSMRA85T10A562S",
            ),
            (
                "numéro de sécurité sociale 2 55 08 14 168 025 38",
                NationalId,
                "2 55 08 14 168 025 38",
            ),
            ("Personalausweis T220001293", NationalId, "T220001293"),
            ("Steuer-ID 86095742719", NationalId, "86095742719"),
            ("BSN 111222333", NationalId, "111222333"),
            ("PESEL: 44051401359", NationalId, "44051401359"),
            ("personnummer 811218-9876", NationalId, "811218-9876"),
            (
                "身份证号码 11010519491231002X",
                NationalId,
                "11010519491231002X",
            ),
            ("NRIC S1234567D", NationalId, "S1234567D"),
            ("tax file number 123 456 782", NationalId, "123 456 782"),
            ("Medicare card 2123 45670 1", NationalId, "2123 45670 1"),
            ("주민등록번호 900101-1234567", NationalId, "900101-1234567"),
            ("CURP: HEGG560427MVZRRL04", NationalId, "HEGG560427MVZRRL04"),
            (
                "national ID 11010519491231002X",
                NationalId,
                "11010519491231002X",
            ),
            ("pasaporte: XDC123456", Passport, "XDC123456"),
            ("numéro de passeport 12AB34567", Passport, "12AB34567"),
            ("Reisepass C01X00T47", Passport, "C01X00T47"),
            ("паспорт 45 08 123456", Passport, "45 08 123456"),
            ("护照号码 E12345678", Passport, "E12345678"),
            // check digits of the formats below computed independently (a Python script,
            // /root/exp30/ids.py in session 30's note) for made-up bodies
            ("TC Kimlik No: 38492017688", NationalId, "38492017688"),
            ("Chilean RUT 12.345.678-5", NationalId, "12.345.678-5"),
            ("RUT: 7654321-6", NationalId, "7654321-6"),
            (
                "South African ID 910512 4801 083",
                NationalId,
                "910512 4801 083",
            ),
            ("Teudat Zehut 039485719", NationalId, "039485719"),
            ("fødselsnummer 150387 46577", NationalId, "150387 46577"),
            ("CPR-nummer 070761-4285", NationalId, "070761-4285"),
            ("henkilötunnus 131052-308T", NationalId, "131052-308T"),
            ("HETU 030301A4172", NationalId, "030301A4172"),
            (
                "Rijksregisternummer 85.07.30-033.28",
                NationalId,
                "85.07.30-033.28",
            ),
            ("INSZ 03.06.11-457.26", NationalId, "03.06.11-457.26"),
            (
                "AHV-Nummer 756.9482.0351.75",
                NationalId,
                "756.9482.0351.75",
            ),
            (
                "número de contribuinte 238 746 151",
                NationalId,
                "238 746 151",
            ),
            ("マイナンバー 4820 1937 5611", NationalId, "4820 1937 5611"),
            ("CUIT 27-38475610-2", NationalId, "27-38475610-2"),
            ("PPS number 8392014HA", NationalId, "8392014HA"),
            ("CNP 2961123048710", NationalId, "2961123048710"),
            ("rodné číslo 855230/4827", NationalId, "855230/4827"),
            ("AMKA 01018512341", NationalId, "01018512341"),
            ("national ID number 38492017688", NationalId, "38492017688"),
        ];
        for (text, entity, want) in cases {
            let got = find(text);
            assert_eq!(got, Some((*entity, want.to_string())), "{text}");
        }
    }

    /// Recall on generated values: for five checksummed formats, 200 values each from a seeded
    /// generator whose check digits are computed here (independently of the validators above),
    /// written the way people write them, behind a context word. Every one must be found with its
    /// exact span; with the check digit changed, none may be.
    #[test]
    fn generated_values_recall_and_corrupted_check_digits() {
        let mut seed = 0x5eed_2026_u64;
        let mut next = |n: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        };
        let digits = |next: &mut dyn FnMut(u64) -> u64, n: usize| -> Vec<u32> {
            (0..n).map(|_| next(10) as u32).collect()
        };
        let s = |d: &[u32]| {
            d.iter()
                .map(|x| char::from(b'0' + *x as u8))
                .collect::<String>()
        };
        let wsum = |d: &[u32], w: &[u32]| d.iter().zip(w).map(|(a, b)| a * b).sum::<u32>();
        let luhn_digit = |d: &[u32]| {
            // the digit that makes d ++ [x] pass Luhn
            let mut sum = 0;
            for (i, x) in d.iter().rev().enumerate() {
                let y = if i % 2 == 0 { x * 2 } else { *x };
                sum += if y > 9 { y - 9 } else { y };
            }
            (10 - sum % 10) % 10
        };
        let mut found = 0;
        let mut total = 0;
        for k in 0..200 {
            let mut cases: Vec<(String, String, String)> = Vec::new(); // (text, value, corrupted)
                                                                       // China resident ID: 6-digit area, birth date, 3-digit sequence, ISO 7064 mod 11-2.
            let mut d = vec![1, 1, 0, 1, 0, 5];
            let (y, m, day) = (
                1950 + next(60) as u32,
                1 + next(12) as u32,
                1 + next(28) as u32,
            );
            d.extend([
                y / 1000,
                y / 100 % 10,
                y / 10 % 10,
                y % 10,
                m / 10,
                m % 10,
                day / 10,
                day % 10,
            ]);
            d.extend(digits(&mut next, 3));
            let c =
                (12 - wsum(&d, &[7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]) % 11) % 11;
            let cc = |c: u32| {
                if c == 10 {
                    "X".to_string()
                } else {
                    c.to_string()
                }
            };
            let v = format!("{}{}", s(&d), cc(c));
            let bad = format!("{}{}", s(&d), cc((c + 1) % 11));
            cases.push((format!("身份证号码 {v}"), v, bad));
            // PESEL: yymmdd + 4 digits + check (weights 1 3 7 9).
            let mut d = vec![(y / 10) % 10, y % 10, m / 10, m % 10, day / 10, day % 10];
            d.extend(digits(&mut next, 4));
            let c = (10 - wsum(&d, &[1, 3, 7, 9, 1, 3, 7, 9, 1, 3]) % 10) % 10;
            let v = format!("{}{c}", s(&d));
            cases.push((
                format!("PESEL: {v}"),
                v,
                format!("{}{}", s(&d), (c + 1) % 10),
            ));
            // BSN: 11-proof (9..2 weights, last digit weight -1), first digit non-zero.
            let (v, bad) = loop {
                let mut d = digits(&mut next, 8);
                d[0] = 1 + next(9) as u32;
                let r = wsum(&d, &[9, 8, 7, 6, 5, 4, 3, 2]) % 11;
                if r < 10 {
                    break (
                        format!("{}{r}", s(&d)),
                        format!("{}{}", s(&d), (r + 1) % 10),
                    );
                }
            };
            cases.push((format!("BSN {v}"), v, bad));
            // Canadian SIN: Luhn, written 3-3-3, first digit 1-7.
            let mut d = digits(&mut next, 8);
            d[0] = 1 + next(7) as u32;
            let c = luhn_digit(&d);
            let f = |d: &[u32], c: u32| format!("{} {} {}{c}", s(&d[..3]), s(&d[3..6]), s(&d[6..]));
            cases.push((format!("SIN: {}", f(&d, c)), f(&d, c), f(&d, (c + 1) % 10)));
            // Brazilian CPF: two mod-11 check digits, written 000.000.000-00.
            let d = digits(&mut next, 9);
            let dv = |d: &[u32], top: u32| {
                let w: Vec<u32> = (2..=top).rev().collect();
                let r = wsum(d, &w) % 11;
                if r < 2 {
                    0
                } else {
                    11 - r
                }
            };
            let c1 = dv(&d, 10);
            let mut d2 = d.clone();
            d2.push(c1);
            let c2 = dv(&d2, 11);
            let f = |c2: u32| format!("{}.{}.{}-{c1}{c2}", s(&d[..3]), s(&d[3..6]), s(&d[6..]));
            cases.push((format!("CPF {}", f(c2)), f(c2), f((c2 + 1) % 10)));
            for (text, want, bad) in cases {
                total += 1;
                if find(&text) == Some((PiiEntity::NationalId, want.clone())) {
                    found += 1;
                } else {
                    panic!("case {k}: not found: {text}");
                }
                let corrupted = text.replace(&want, &bad);
                assert_eq!(
                    find(&corrupted),
                    None,
                    "case {k}: corrupted check digit found: {corrupted}"
                );
            }
        }
        assert_eq!(found, total);
    }

    #[test]
    fn near_misses() {
        for text in [
            // no context word
            "reference JG 10 37 48 C",
            "order 046 454 286",
            "RSSMRA85T10A562S",
            "11010519491231002X",
            // wrong check digit / letter / key
            "SIN: 046 454 287",
            "Aadhaar 2345 6789 0123",
            "CPF 123.456.789-00",
            "DNI 12345678A",
            "codice fiscale RSSMRA85T10A562T",
            "PESEL: 44051401358",
            "身份证 110105194912310021",
            "NRIC S1234567A",
            "BSN 111222334",
            "Steuer-ID 86095742718",
            "TC Kimlik No: 38492017689",
            "RUT: 7654321-5",
            "South African ID 910512 4801 084",
            "Teudat Zehut 039485718",
            "fødselsnummer 150387 46578",
            "henkilötunnus 131052-308U",
            "Rijksregisternummer 85.07.30-033.29",
            "AHV-Nummer 756.9482.0351.76",
            "número de contribuinte 238 746 152",
            "マイナンバー 4820 1937 5612",
            "CUIT 27-38475610-3",
            "PPS number 8392014JA",
            "CNP 2961123048711",
            "rodné číslo 855230/4828",
            "AMKA 01018512342",
            // a date that does not exist
            "CPR-nummer 350761-4285",
            // formats without a checksum need their own word (a CPR number whose date and digits
            // make no valid Swedish personnummer, which generic words admit)
            "ID number 070761-4286",
            // wrong shape or length
            "NINO DQ123456C",
            "SIN: 046 454 28",
            "CPF 123.456.789-0",
            "passport 2019",
            "passport fee 130000",
            "passport issued 20190512",
            // generic words do not admit formats without a checksum
            "ID number ABCPE1234F",
        ] {
            assert_eq!(find(text), None, "{text}");
        }
    }
}
