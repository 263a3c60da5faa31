//! Context words near a candidate ("phone", "SSN", "passport", "driver's license", …).
//!
//! Several PII shapes are ambiguous alone: nine bare digits may be an SSN, a passport number, a
//! phone number or a quantity. A word in a short window before (and, for identifiers, after)
//! the candidate settles it. The window is searched only when a candidate needs it, with one
//! ASCII-case-insensitive Aho-Corasick automaton (a DFA) over every keyword, so text without
//! candidates never pays for context. Text packed with candidates (tables, logs, prose full of
//! figures) would search overlapping windows again and again; after
//! [`LOOKUPS_BEFORE_TEXT_PASS`] lookups the whole text is searched once and every later window
//! is answered from that pass's keyword positions.
//!
//! A keyword counts only as a whole word: it must not follow a letter ("hotel" is not "tel"),
//! and unless it is marked as a prefix it must not be followed by one ("string" is not "ring").

use std::cell::{Cell, OnceCell};

use crate::detectors::dfa_scan::{sort_by_start_longest_first, LiteralDfa};

/// Bytes before a candidate searched for context words.
pub(crate) const WINDOW_BEFORE: usize = 48;
/// Bytes after an identifier (passport, licence) searched for context words.
pub(crate) const WINDOW_AFTER: usize = 32;

/// Keyword classes, as bits of the value [`ContextMatcher::classes`] returns.
pub(crate) mod class {
    pub const PHONE: u64 = 1 << 0;
    /// "number": suggests a phone number unless a [`NOT_PHONE`] word names another number.
    pub const NUMBER: u64 = 1 << 1;
    /// Nouns naming numbers that are not phone numbers ("account number", "order #").
    pub const NOT_PHONE: u64 = 1 << 2;
    pub const SSN: u64 = 1 << 3;
    pub const ITIN: u64 = 1 << 4;
    pub const CARD: u64 = 1 << 5;
    pub const PASSPORT: u64 = 1 << 6;
    /// Words that name a driver's licence on their own.
    pub const DRIVER: u64 = 1 << 7;
    /// "license"/"licence": a licence of some kind (software, business, driver's).
    pub const LICENSE: u64 = 1 << 8;
    /// Words before a dotted quad that make it a version rather than an address.
    pub const VERSION: u64 = 1 << 9;
    /// Generic identity-document words ("national ID", "ID card", "identity number").
    pub const NATIONAL_ID: u64 = 1 << 10;
    /// Generic tax-number words ("tax id", "tax number").
    pub const TAX_ID: u64 = 1 << 11;
    // One class per national number (see national_id.rs).
    pub const UK_NINO: u64 = 1 << 12;
    pub const UK_NHS: u64 = 1 << 13;
    pub const CA_SIN: u64 = 1 << 14;
    pub const IN_AADHAAR: u64 = 1 << 15;
    pub const IN_PAN: u64 = 1 << 16;
    pub const BR_CPF: u64 = 1 << 17;
    pub const BR_CNPJ: u64 = 1 << 18;
    pub const ES_DNI: u64 = 1 << 19;
    pub const IT_CF: u64 = 1 << 20;
    pub const FR_NIR: u64 = 1 << 21;
    pub const DE_ID: u64 = 1 << 22;
    pub const DE_TAX: u64 = 1 << 23;
    pub const NL_BSN: u64 = 1 << 24;
    pub const PL_PESEL: u64 = 1 << 25;
    pub const SE_PNR: u64 = 1 << 26;
    pub const CN_ID: u64 = 1 << 27;
    pub const SG_NRIC: u64 = 1 << 28;
    pub const AU_TFN: u64 = 1 << 29;
    pub const AU_MEDICARE: u64 = 1 << 30;
    pub const KR_RRN: u64 = 1 << 31;
    pub const MX_CURP: u64 = 1 << 32;
    pub const TR_TCKN: u64 = 1 << 33;
    pub const CL_RUT: u64 = 1 << 34;
    pub const ZA_ID: u64 = 1 << 35;
    pub const IL_ID: u64 = 1 << 36;
    pub const NO_FNR: u64 = 1 << 37;
    pub const DK_CPR: u64 = 1 << 38;
    pub const FI_HETU: u64 = 1 << 39;
    pub const BE_NRN: u64 = 1 << 40;
    pub const CH_AHV: u64 = 1 << 41;
    pub const PT_NIF: u64 = 1 << 42;
    pub const JP_MYNUMBER: u64 = 1 << 43;
    pub const AR_CUIT: u64 = 1 << 44;
    pub const IE_PPSN: u64 = 1 << 45;
    pub const RO_CNP: u64 = 1 << 46;
    pub const CZ_RC: u64 = 1 << 47;
    pub const GR_AMKA: u64 = 1 << 48;
}

struct Keyword {
    text: &'static str,
    class: u64,
    /// May be followed by letters ("phone" → "phones", "driver" → "drivers").
    prefix: bool,
    /// Counts only when written in capitals ("DL", not "dl").
    upper: bool,
}

const fn kw(text: &'static str, class: u64, prefix: bool) -> Keyword {
    Keyword {
        text,
        class,
        prefix,
        upper: false,
    }
}

const fn upper(text: &'static str, class: u64) -> Keyword {
    Keyword {
        text,
        class,
        prefix: false,
        upper: true,
    }
}

use class::*;

const KEYWORDS: &[Keyword] = &[
    kw("phone", PHONE, true),
    kw("telephone", PHONE, true),
    kw("tel", PHONE, false),
    kw("tel.", PHONE, false),
    kw("telefon", PHONE, true),
    kw("mobile", PHONE, true),
    kw("mob", PHONE, false),
    kw("cell", PHONE, false),
    kw("cellphone", PHONE, true),
    kw("cellular", PHONE, false),
    kw("call", PHONE, false),
    kw("calls", PHONE, false),
    kw("called", PHONE, false),
    kw("calling", PHONE, false),
    kw("fax", PHONE, false),
    kw("contact", PHONE, true),
    kw("whatsapp", PHONE, false),
    kw("sms", PHONE, false),
    kw("text me", PHONE, false),
    kw("dial", PHONE, true),
    kw("landline", PHONE, true),
    kw("hotline", PHONE, true),
    kw("helpline", PHONE, true),
    kw("reach me", PHONE, false),
    kw("ring me", PHONE, false),
    // Common non-English phone words (CJK text has no spaces, so these need no word break).
    kw("teléfono", PHONE, true),
    kw("telefono", PHONE, true),
    kw("telefone", PHONE, true),
    kw("téléphone", PHONE, true),
    kw("tél", PHONE, false),
    kw("handy", PHONE, false),
    kw("móvil", PHONE, false),
    kw("movil", PHONE, false),
    kw("celular", PHONE, false),
    kw("cellulare", PHONE, false),
    kw("телефон", PHONE, true),
    kw("电话", PHONE, true),
    kw("電話", PHONE, true),
    kw("手机", PHONE, true),
    kw("携帯", PHONE, true),
    kw("전화", PHONE, true),
    kw("number", NUMBER, true),
    kw("account", NOT_PHONE, true),
    kw("acct", NOT_PHONE, false),
    kw("card", NOT_PHONE | CARD, true),
    kw("order", NOT_PHONE, true),
    kw("invoice", NOT_PHONE, true),
    kw("serial", NOT_PHONE, false),
    kw("reference", NOT_PHONE, false),
    kw("ticket", NOT_PHONE, true),
    kw("tracking", NOT_PHONE, false),
    kw("routing", NOT_PHONE, false),
    kw("policy", NOT_PHONE, false),
    kw("item", NOT_PHONE, true),
    kw("model", NOT_PHONE, false),
    kw("part", NOT_PHONE, false),
    kw("isbn", NOT_PHONE, false),
    kw("total", NOT_PHONE, false),
    kw("population", NOT_PHONE, false),
    kw("ssn", SSN, false),
    kw("ssns", SSN, false),
    kw("social security", SSN, false),
    kw("itin", ITIN, false),
    kw("taxpayer", ITIN, false),
    kw("tax id", ITIN | TAX_ID | DE_TAX, false),
    kw("tax identification", ITIN | TAX_ID | DE_TAX, false),
    kw("tax number", TAX_ID, false),
    kw("tax code", TAX_ID | IT_CF, false),
    kw("credit", CARD, false),
    kw("debit", CARD, false),
    kw("visa", CARD, false),
    kw("mastercard", CARD, false),
    kw("amex", CARD, false),
    kw("passport", PASSPORT, true),
    kw("travel document", PASSPORT, false),
    kw("pasaporte", PASSPORT, true),
    kw("passeport", PASSPORT, true),
    kw("reisepass", PASSPORT, true),
    kw("passaporto", PASSPORT, true),
    kw("passaporte", PASSPORT, true),
    kw("paspoort", PASSPORT, true),
    kw("paszport", PASSPORT, true),
    kw("pasaport", PASSPORT, true),
    kw("паспорт", PASSPORT, true),
    kw("护照", PASSPORT, true),
    kw("護照", PASSPORT, true),
    kw("パスポート", PASSPORT, true),
    kw("여권", PASSPORT, true),
    // National identity numbers (national_id.rs); short acronyms count only in capitals.
    kw("national id", NATIONAL_ID, true),
    kw("national identity", NATIONAL_ID, true),
    kw("national identification", NATIONAL_ID, true),
    kw("identity number", NATIONAL_ID, false),
    kw("identity card", NATIONAL_ID, true),
    kw("identification number", NATIONAL_ID, false),
    kw("id number", NATIONAL_ID, false),
    kw("id card", NATIONAL_ID, true),
    kw("id no", NATIONAL_ID, false),
    kw("citizen id", NATIONAL_ID, false),
    kw("personal number", NATIONAL_ID, false),
    kw("carte d'identité", NATIONAL_ID, false),
    kw("numéro d'identité", NATIONAL_ID, false),
    kw("documento de identidad", NATIONAL_ID | ES_DNI, false),
    kw(
        "documento nacional de identidad",
        NATIONAL_ID | ES_DNI,
        false,
    ),
    kw("cédula", NATIONAL_ID, false),
    kw("national insurance", UK_NINO, false),
    upper("NINO", UK_NINO),
    kw("ni number", UK_NINO, false),
    upper("NHS", UK_NHS),
    upper("SIN", CA_SIN),
    kw("social insurance", CA_SIN, false),
    kw("assurance sociale", CA_SIN, false),
    kw("aadhaar", IN_AADHAAR, true),
    kw("aadhar", IN_AADHAAR, true),
    upper("UIDAI", IN_AADHAAR),
    kw("आधार", IN_AADHAAR, true),
    upper("PAN", IN_PAN),
    kw("permanent account number", IN_PAN, false),
    kw("cpf", BR_CPF, false),
    kw("cnpj", BR_CNPJ, false),
    upper("DNI", ES_DNI),
    upper("NIF", ES_DNI | PT_NIF),
    upper("NIE", ES_DNI),
    kw("codice fiscale", IT_CF, false),
    upper("CF", IT_CF),
    kw("fiscal code", IT_CF, false),
    upper("INSEE", FR_NIR),
    upper("NIR", FR_NIR),
    kw("sécurité sociale", FR_NIR, false),
    kw("securite sociale", FR_NIR, false),
    kw("personalausweis", DE_ID, true),
    kw("ausweis", DE_ID, true),
    kw("steuer-id", DE_TAX, false),
    kw("steuer id", DE_TAX, false),
    kw("steueridentifikationsnummer", DE_TAX, false),
    kw("identifikationsnummer", DE_TAX, false),
    kw("idnr", DE_TAX, false),
    upper("BSN", NL_BSN),
    kw("burgerservicenummer", NL_BSN, false),
    kw("sofinummer", NL_BSN, false),
    kw("pesel", PL_PESEL, false),
    kw("personnummer", SE_PNR | NO_FNR | DK_CPR, true),
    kw("personnr", SE_PNR, false),
    kw("samordningsnummer", SE_PNR, false),
    kw("身份证", CN_ID, true),
    kw("身份證", CN_ID, true),
    kw("resident identity", CN_ID, false),
    upper("NRIC", SG_NRIC),
    upper("FIN", SG_NRIC),
    upper("TFN", AU_TFN),
    kw("tax file number", AU_TFN, false),
    kw("medicare", AU_MEDICARE, true),
    kw("주민등록번호", KR_RRN, true),
    kw("주민번호", KR_RRN, true),
    upper("RRN", KR_RRN),
    kw("resident registration", KR_RRN, false),
    kw("curp", MX_CURP, false),
    kw("kimlik", TR_TCKN, true),
    upper("TCKN", TR_TCKN),
    upper("RUT", CL_RUT),
    upper("RUN", CL_RUT),
    kw("rol único tributario", CL_RUT, false),
    kw("rol unico tributario", CL_RUT, false),
    kw("south african id", ZA_ID, false),
    kw("sa id", ZA_ID, false),
    kw("rsa id", ZA_ID, false),
    kw("teudat zehut", IL_ID, false),
    kw("תעודת זהות", IL_ID, true),
    kw("israeli id", IL_ID, false),
    kw("fødselsnummer", NO_FNR, false),
    kw("fodselsnummer", NO_FNR, false),
    upper("CPR", DK_CPR),
    kw("cpr-nummer", DK_CPR, false),
    kw("cpr-nr", DK_CPR, false),
    kw("henkilötunnus", FI_HETU, true),
    kw("henkilotunnus", FI_HETU, true),
    upper("HETU", FI_HETU),
    kw("personbeteckning", FI_HETU, false),
    kw("rijksregisternummer", BE_NRN, false),
    kw("registre national", BE_NRN, false),
    kw("nationalregisternummer", BE_NRN, false),
    upper("NISS", BE_NRN),
    upper("INSZ", BE_NRN),
    upper("AHV", CH_AHV),
    upper("AVS", CH_AHV),
    kw("sozialversicherungsnummer", CH_AHV, false),
    kw("contribuinte", PT_NIF, false),
    kw("マイナンバー", JP_MYNUMBER, true),
    kw("個人番号", JP_MYNUMBER, true),
    upper("CUIT", AR_CUIT),
    upper("CUIL", AR_CUIT),
    upper("PPSN", IE_PPSN),
    upper("PPS", IE_PPSN),
    kw("personal public service", IE_PPSN, false),
    upper("CNP", RO_CNP),
    kw("cod numeric personal", RO_CNP, false),
    kw("rodné číslo", CZ_RC, false),
    kw("rodne cislo", CZ_RC, false),
    kw("rodného čísla", CZ_RC, false),
    upper("AMKA", GR_AMKA),
    kw("ΑΜΚΑ", GR_AMKA, false),
    kw("driver", DRIVER, true),
    kw("driving", DRIVER, false),
    kw("dmv", DRIVER, false),
    upper("DL", DRIVER),
    upper("DLN", DRIVER),
    kw("license", LICENSE, true),
    kw("licence", LICENSE, true),
    kw("version", VERSION, false),
    kw("ver", VERSION, false),
    kw("release", VERSION, false),
    kw("build", VERSION, false),
    kw("firmware", VERSION, false),
];

/// The compiled keyword automaton, shared read-only by every scan.
pub(crate) struct ContextMatcher {
    /// `None` only if the automaton failed to build, which it cannot for these fixed patterns;
    /// then no context is ever found and context-gated matches keep their low scores.
    dfa: Option<LiteralDfa>,
}

impl ContextMatcher {
    /// The keywords in either case of their ASCII letters, built as the literal DFA the rule
    /// tier walks ([`LiteralDfa`], from a trie): `aho_corasick`'s DFA builder took 16 M
    /// instructions for these 211 keywords, most of a policy load's PII set-up.
    pub(crate) fn new() -> Self {
        let texts: Vec<&str> = KEYWORDS.iter().map(|k| k.text).collect();
        ContextMatcher {
            dfa: LiteralDfa::new_ascii_case_insensitive(&texts).ok(),
        }
    }

    /// Classes of the keywords that occur as words in `text[from..to]`.
    pub(crate) fn classes(&self, text: &[u8], from: usize, to: usize) -> u64 {
        let mut found = 0;
        self.each_hit(text, from, to, |_, _, class| found |= class);
        found
    }

    /// Every keyword that occurs as a word in `text[from..to]`: `f(start, end, class)`, in
    /// order.
    fn each_hit(&self, text: &[u8], from: usize, to: usize, mut f: impl FnMut(usize, usize, u64)) {
        let Some(dfa) = &self.dfa else { return };
        let Some(hay) = text.get(from..to) else {
            return;
        };
        // Leftmost-longest, as a search for the keywords one after another would report them:
        // at the first start the longest keyword, then the next that starts after it ends.
        let mut hits = Vec::new();
        dfa.find_all(hay, &mut hits);
        sort_by_start_longest_first(&mut hits);
        let mut next = 0;
        for m in hits {
            // u32 → usize is lossless on every target (wasm32 included)
            let (ms, me) = (m.start as usize, m.end as usize);
            if ms < next {
                continue;
            }
            next = me;
            let Some(k) = KEYWORDS.get(m.pattern as usize) else {
                continue;
            };
            let (s, e) = (from + ms, from + me);
            if s > 0 && text.get(s - 1).is_some_and(u8::is_ascii_alphabetic) {
                continue;
            }
            if !k.prefix && text.get(e).is_some_and(u8::is_ascii_alphabetic) {
                continue;
            }
            if k.upper
                && text
                    .get(s..e)
                    .is_some_and(|w| w.iter().any(u8::is_ascii_lowercase))
            {
                continue;
            }
            f(s, e, k.class);
        }
    }
}

/// Window lookups one text may make before the whole text is searched once for keywords.
///
/// A window lookup is cheap, but text packed with number-like tokens (tables, logs, ID lists)
/// would make thousands, over windows that overlap. After this many, one pass over the whole
/// text records every keyword's position; later lookups read the windows from that record.
pub(crate) const LOOKUPS_BEFORE_TEXT_PASS: u32 = 32;

/// The whole-text keyword pass: every keyword word, by start.
struct TextHits {
    /// `(start, end, class)` in text order.
    hits: Vec<(usize, usize, u64)>,
    /// Classes anywhere in the text.
    present: u64,
}

/// Context state shared by every candidate of one text.
pub(crate) struct TextContext<'a> {
    matcher: &'a ContextMatcher,
    text: &'a [u8],
    lookups: Cell<u32>,
    /// The whole-text pass, once made.
    pass: OnceCell<TextHits>,
}

impl<'a> TextContext<'a> {
    pub(crate) fn new(matcher: &'a ContextMatcher, text: &'a [u8]) -> Self {
        TextContext {
            matcher,
            text,
            lookups: Cell::new(0),
            pass: OnceCell::new(),
        }
    }

    /// The whole-text pass, if this text has made enough lookups to want it.
    fn pass(&self) -> Option<&TextHits> {
        if let Some(p) = self.pass.get() {
            return Some(p);
        }
        let n = self.lookups.get().saturating_add(1);
        self.lookups.set(n);
        if n <= LOOKUPS_BEFORE_TEXT_PASS {
            return None;
        }
        Some(self.pass.get_or_init(|| {
            let mut pass = TextHits {
                hits: Vec::new(),
                present: 0,
            };
            self.matcher
                .each_hit(self.text, 0, self.text.len(), |s, e, class| {
                    pass.hits.push((s, e, class));
                    pass.present |= class;
                });
            pass
        }))
    }

    /// Whether keywords of any class in `wanted` may occur in the text. Always true until the
    /// whole-text pass has run.
    fn may_contain(&self, wanted: u64) -> bool {
        self.pass().is_none_or(|p| p.present & wanted != 0)
    }

    /// Keyword classes in `text[from..to]`.
    fn classes(&self, from: usize, to: usize) -> u64 {
        let Some(pass) = self.pass.get() else {
            return self.matcher.classes(self.text, from, to);
        };
        // Hits are in text order: those inside the window start at or after `from`, before
        // `to`, and end by `to`.
        let first = pass.hits.partition_point(|&(s, _, _)| s < from);
        let mut found = 0;
        for &(s, e, class) in pass.hits.get(first..).unwrap_or(&[]) {
            if s >= to {
                break;
            }
            if e <= to {
                found |= class;
            }
        }
        found
    }
}

/// Context around one candidate position, computed at most once per side.
pub(crate) struct LazyContext<'a> {
    text: &'a TextContext<'a>,
    start: usize,
    end: usize,
    before: Option<u64>,
    after: Option<u64>,
}

impl<'a> LazyContext<'a> {
    /// Context for the candidate occupying `text[start..end]`.
    pub(crate) fn new(text: &'a TextContext<'a>, start: usize, end: usize) -> Self {
        LazyContext {
            text,
            start,
            end,
            before: None,
            after: None,
        }
    }

    /// Keyword classes among `wanted` in the [`WINDOW_BEFORE`] bytes before the candidate.
    pub(crate) fn before(&mut self, wanted: u64) -> u64 {
        if let Some(v) = self.before {
            return v & wanted;
        }
        if !self.text.may_contain(wanted) {
            return 0;
        }
        let from = self.start.saturating_sub(WINDOW_BEFORE);
        let v = self.text.classes(from, self.start);
        self.before = Some(v);
        v & wanted
    }

    /// Keyword classes among `wanted` in the [`WINDOW_AFTER`] bytes after the candidate.
    pub(crate) fn after(&mut self, wanted: u64) -> u64 {
        if let Some(v) = self.after {
            return v & wanted;
        }
        if !self.text.may_contain(wanted) {
            return 0;
        }
        let to = (self.end + WINDOW_AFTER).min(self.text.text.len());
        let v = self.text.classes(self.end.min(to), to);
        self.after = Some(v);
        v & wanted
    }

    /// Keyword classes among `wanted` on either side.
    pub(crate) fn around(&mut self, wanted: u64) -> u64 {
        self.before(wanted) | self.after(wanted)
    }
}

/// The classes [`phone_boost`] looks at.
pub(crate) const PHONE_CLASSES: u64 = PHONE | NUMBER | NOT_PHONE;

/// Score adjustment for a phone-like candidate given the classes before it: a phone word is
/// strong evidence; "number" is weak evidence unless another kind of number is named.
pub(crate) fn phone_boost(classes: u64) -> f32 {
    if classes & PHONE != 0 {
        PHONE_CONTEXT_BOOST
    } else if classes & NOT_PHONE != 0 {
        -NOT_PHONE_PENALTY
    } else if classes & NUMBER != 0 {
        NUMBER_CONTEXT_BOOST
    } else {
        0.0
    }
}

/// Added to a phone candidate's score when a phone word precedes it.
pub(crate) const PHONE_CONTEXT_BOOST: f32 = 0.4;
/// Added when only the word "number" precedes it (and no other kind of number is named).
pub(crate) const NUMBER_CONTEXT_BOOST: f32 = 0.25;
/// Subtracted when another kind of number is named ("order", "ISBN") and no phone word is.
pub(crate) const NOT_PHONE_PENALTY: f32 = 0.2;

#[cfg(test)]
mod tests {
    use super::*;
    use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
    use proptest::prelude::*;

    /// `each_hit` as it was written over `aho_corasick`'s leftmost-longest ASCII
    /// case-insensitive search, before the keywords moved to the literal DFA.
    fn reference_hits(text: &[u8], from: usize, to: usize) -> Vec<(usize, usize, u64)> {
        let ac = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::DFA))
            .build(KEYWORDS.iter().map(|k| k.text))
            .unwrap();
        let mut out = Vec::new();
        for m in ac.find_iter(&text[from..to]) {
            let k = &KEYWORDS[m.pattern().as_usize()];
            let (s, e) = (from + m.start(), from + m.end());
            if s > 0 && text.get(s - 1).is_some_and(u8::is_ascii_alphabetic) {
                continue;
            }
            if !k.prefix && text.get(e).is_some_and(u8::is_ascii_alphabetic) {
                continue;
            }
            if k.upper && text[s..e].iter().any(u8::is_ascii_lowercase) {
                continue;
            }
            out.push((s, e, k.class));
        }
        out
    }

    fn hits(m: &ContextMatcher, text: &[u8], from: usize, to: usize) -> Vec<(usize, usize, u64)> {
        let mut out = Vec::new();
        m.each_hit(text, from, to, |s, e, c| out.push((s, e, c)));
        out
    }

    proptest! {
        /// Keywords in any case, overlapping and run together (`telephone`, `phonenumber`,
        /// `ssnssn`), between letters, digits and punctuation, searched in any window: the same
        /// hits, in the same order, as the leftmost-longest search they replace.
        #[test]
        fn equals_leftmost_longest_search(
            parts in prop::collection::vec(prop_oneof![
                prop::sample::select(KEYWORDS.iter().map(|k| k.text).collect::<Vec<_>>())
                    .prop_flat_map(|k| prop::collection::vec(any::<bool>(), k.len())
                        .prop_map(move |up| k.chars().zip(up.into_iter().chain(std::iter::repeat(false)))
                            .map(|(c, u)| if u { c.to_ascii_uppercase() } else { c }).collect::<String>())),
                prop::sample::select(vec![" ", "", "s", "x", ": ", "1234", "-", "#", "\n", "é", "number"])
                    .prop_map(str::to_string),
            ], 0..40),
            cut in (0usize..400, 0usize..400),
        ) {
            let text = parts.concat();
            let b = text.as_bytes();
            let (from, to) = (cut.0.min(b.len()), cut.1.min(b.len()));
            let (from, to) = (from.min(to), from.max(to));
            let m = ContextMatcher::new();
            prop_assert_eq!(hits(&m, b, from, to), reference_hits(b, from, to));
        }
    }

    #[test]
    fn keyword_classes() {
        let m = ContextMatcher::new();
        let cases: &[(&str, u64)] = &[
            ("my phone number is", PHONE | NUMBER),
            ("Tel:", PHONE),
            ("hotel room", 0),
            ("a long string", 0),
            ("please CALL me", PHONE),
            ("recall", 0),
            ("account number", NOT_PHONE | NUMBER),
            ("SSN:", SSN),
            ("my Social Security no.", SSN),
            ("Passport no", PASSPORT),
            ("driver's license", DRIVER | LICENSE),
            ("DL#", DRIVER),
            ("dl", 0),
            ("handle", 0),
            ("MIT License", LICENSE),
            ("version", VERSION),
            ("我的电话号码是", PHONE),
            ("Teléfono:", PHONE),
            ("", 0),
        ];
        for (text, want) in cases {
            assert_eq!(m.classes(text.as_bytes(), 0, text.len()), *want, "{text}");
        }
    }

    #[test]
    fn window_edges_are_safe() {
        let m = ContextMatcher::new();
        let text = b"phone 123";
        assert_eq!(m.classes(text, 5, 2), 0);
        assert_eq!(m.classes(text, 0, 100), 0);
        let tc = TextContext::new(&m, text);
        let mut ctx = LazyContext::new(&tc, 6, 9);
        assert_eq!(ctx.before(u64::MAX), PHONE);
        assert_eq!(ctx.before(SSN), 0);
        assert_eq!(ctx.after(u64::MAX), 0);
        let mut ctx = LazyContext::new(&tc, 0, 200);
        assert_eq!(ctx.around(u64::MAX), 0);
    }

    #[test]
    fn whole_text_pass_after_many_lookups() {
        let m = ContextMatcher::new();
        let quiet = b"0123456789 ".repeat(20);
        let tc = TextContext::new(&m, &quiet);
        for i in 0..LOOKUPS_BEFORE_TEXT_PASS + 5 {
            let mut ctx = LazyContext::new(&tc, i as usize, i as usize + 1);
            assert_eq!(ctx.around(u64::MAX), 0);
        }
        assert_eq!(tc.pass.get().map(|p| p.present), Some(0));

        let mut busy = quiet.clone();
        busy.extend_from_slice(b" call 555");
        let tc = TextContext::new(&m, &busy);
        for _ in 0..LOOKUPS_BEFORE_TEXT_PASS + 5 {
            assert_eq!(LazyContext::new(&tc, 10, 12).before(u64::MAX), 0);
        }
        assert_eq!(tc.pass.get().map(|p| p.present), Some(PHONE));
        let end = busy.len();
        assert_eq!(LazyContext::new(&tc, end - 3, end).before(PHONE), PHONE);
        assert!(!tc.may_contain(SSN));
    }

    /// Windows answered from the whole-text pass say what searching the window itself says,
    /// except where the window's end cuts a keyword the pass saw whole (`Tel.` cut to `Tel`):
    /// the pass then counts the whole word only.
    #[test]
    fn pass_answers_like_window_search() {
        let m = ContextMatcher::new();
        let text = b"Call my phone: 555 0100. SSN 123-45-6789, passport no. X123, account \
            number 42, order #7, driver's license D1234 (DL), Tel.+44, TFN 123 and version 2.1 \
            of the build; telephone, hotel, recall, string. Social Security Number: 078-05-1120"
            .repeat(3);
        let tc = TextContext::new(&m, &text);
        for _ in 0..=LOOKUPS_BEFORE_TEXT_PASS {
            LazyContext::new(&tc, 0, 1).before(u64::MAX);
        }
        assert!(tc.pass.get().is_some());
        for from in 0..text.len() {
            for width in [WINDOW_BEFORE, WINDOW_AFTER] {
                let to = (from + width).min(text.len());
                let pass = tc.pass.get().map_or(&[][..], |p| &p.hits[..]);
                if pass.iter().any(|&(s, e, _)| s < to && to < e) {
                    continue;
                }
                assert_eq!(
                    tc.classes(from, to),
                    m.classes(&text, from, to),
                    "window {from}..{to}: {:?}",
                    String::from_utf8_lossy(&text[from..to])
                );
            }
        }
    }

    #[test]
    fn boosts() {
        assert_eq!(phone_boost(PHONE | NOT_PHONE), PHONE_CONTEXT_BOOST);
        assert_eq!(phone_boost(NUMBER), NUMBER_CONTEXT_BOOST);
        assert_eq!(phone_boost(NUMBER | NOT_PHONE), -NOT_PHONE_PENALTY);
        assert_eq!(phone_boost(0), 0.0);
    }
}
