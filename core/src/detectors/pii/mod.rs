//! PII detection: e-mail addresses, phone numbers, US SSN / ITIN / passport / driver's licence
//! numbers, payment cards, IBANs, IP addresses, and other countries' national identity numbers
//! and passports ([`national_id`], behind context words).
//!
//! # Why one pass instead of nine regexes
//!
//! PII runs on every slot of every request, and almost all of that text contains no PII. Nine
//! independent regexes would each walk every byte; instead the scanner makes a single pass that
//! stops only at the two kinds of byte every recognizer needs: an ASCII digit (cards, phones,
//! SSN/ITIN, IBAN check digits, passport and licence numbers, IP addresses) or an `@` (e-mail).
//! The pass skips eight bytes at a time with a SWAR test, so text without digits costs little
//! more than a memchr.
//!
//! At each digit run the scanner looks at the shapes around it, in plain Rust:
//! - two capital letters right before the run: an IBAN candidate ([`iban`]); one that fails
//!   its checksum is skipped whole, so its digit groups are not re-read as phone numbers;
//! - a `:` next to hexadecimal characters: an IPv6 candidate ([`ip_address`]);
//! - the alphanumeric token around the run: a passport / licence candidate;
//! - unless letters are glued to the run, a *numeric cluster* ([`cluster`]): digit groups
//!   joined by short separators (`-`, `.`, `/`, space, parentheses) with an optional `+` / `(`
//!   prefix. The card, SSN, ITIN, IPv4 and phone recognizers classify that one cluster by
//!   shape and validate it (Luhn and issuer prefixes, SSA area rules, ITIN group ranges,
//!   country calling codes, octet ranges); the best-scoring reading wins. A long evenly
//!   separated run (a table row) is skipped in one step once its start has been read.
//!
//! Context words ("phone", "passport", "driver's license", …) are only looked up in a short
//! window around a candidate that needs them, with one small Aho-Corasick automaton
//! ([`context`]). Text that needs many lookups (logs, tables) is searched once as a whole so
//! that later lookups for absent keywords cost nothing.
//!
//! # Scores
//!
//! Validated structured values (checksums, strict formats) score 0.85–1.0. Shapes that are
//! ambiguous on their own (a bare nine-digit number, a digit run after "my number is") score
//! below the default threshold unless a context word backs them. Matches below
//! [`PiiOptions::min_score`] are dropped; overlapping candidates keep the highest score.
//!
//! Every span starts on an ASCII byte and ends right after one, so spans always fall on `char`
//! boundaries of the original text; non-ASCII digits are simply not digits here.

mod cluster;
mod context;
mod credit_card;
mod email;
mod iban;
mod ip_address;
mod national_id;
mod phone;
mod token;
mod us_driver_license;
mod us_itin;
mod us_passport;
mod us_ssn;

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::{Category, Detector, Match, ScanText};
use crate::byte_masks::{block_masks, next_bit};
use cluster::Cluster;
use context::{ContextMatcher, LazyContext, TextContext};
use national_id::IdFormats;

/// The kinds of PII this detector recognises. The snake_case name is both the config value and
/// the [`Match::kind`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum PiiEntity {
    Email,
    Phone,
    UsSsn,
    CreditCard,
    Iban,
    UsItin,
    UsPassport,
    UsDriverLicense,
    IpAddress,
    /// National identity and tax numbers of other countries (behind context words).
    NationalId,
    /// Passport numbers of other countries (behind a passport word).
    Passport,
}

impl PiiEntity {
    /// Every entity, in declaration order.
    pub const ALL: [PiiEntity; 11] = [
        PiiEntity::Email,
        PiiEntity::Phone,
        PiiEntity::UsSsn,
        PiiEntity::CreditCard,
        PiiEntity::Iban,
        PiiEntity::UsItin,
        PiiEntity::UsPassport,
        PiiEntity::UsDriverLicense,
        PiiEntity::IpAddress,
        PiiEntity::NationalId,
        PiiEntity::Passport,
    ];

    /// The stable snake_case name, used as the match kind (`[EMAIL]`, `[US_SSN]` placeholders).
    pub fn as_str(self) -> &'static str {
        match self {
            PiiEntity::Email => "email",
            PiiEntity::Phone => "phone",
            PiiEntity::UsSsn => "us_ssn",
            PiiEntity::CreditCard => "credit_card",
            PiiEntity::Iban => "iban",
            PiiEntity::UsItin => "us_itin",
            PiiEntity::UsPassport => "us_passport",
            PiiEntity::UsDriverLicense => "us_driver_license",
            PiiEntity::IpAddress => "ip_address",
            PiiEntity::NationalId => "national_id",
            PiiEntity::Passport => "passport",
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }

    /// Tie-break between overlapping candidates of equal score: checksum-validated kinds first.
    fn priority(self) -> u8 {
        match self {
            PiiEntity::Iban => 11,
            PiiEntity::CreditCard => 10,
            PiiEntity::Email => 9,
            PiiEntity::IpAddress => 8,
            PiiEntity::UsSsn => 7,
            PiiEntity::UsItin => 6,
            PiiEntity::NationalId => 5,
            PiiEntity::Phone => 4,
            PiiEntity::UsDriverLicense => 3,
            PiiEntity::UsPassport => 2,
            PiiEntity::Passport => 1,
        }
    }
}

/// Default for [`PiiOptions::min_score`]: context-less ambiguous shapes score below it.
pub const DEFAULT_MIN_SCORE: f32 = 0.5;

fn default_entities() -> Vec<PiiEntity> {
    PiiEntity::ALL.to_vec()
}

fn default_min_score() -> f32 {
    DEFAULT_MIN_SCORE
}

/// Configuration of the `pii` detector.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PiiOptions {
    /// Entities to detect; default: all.
    #[serde(default = "default_entities")]
    pub entities: Vec<PiiEntity>,
    /// Minimum score for a match to be reported (context-gated entities report lower scores
    /// without context).
    #[serde(default = "default_min_score")]
    pub min_score: f32,
}

impl Default for PiiOptions {
    fn default() -> Self {
        PiiOptions {
            entities: default_entities(),
            min_score: DEFAULT_MIN_SCORE,
        }
    }
}

/// One recognised value before overlap resolution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Candidate {
    pub entity: PiiEntity,
    pub start: usize,
    pub end: usize,
    pub score: f32,
}

impl Candidate {
    pub(crate) fn new(entity: PiiEntity, start: usize, end: usize, score: f32) -> Self {
        Candidate {
            entity,
            start,
            end,
            score,
        }
    }
}

/// The compiled PII detector.
pub struct PiiDetector {
    /// Bit set of enabled entities ([`PiiEntity::bit`]).
    enabled: u16,
    min_score: f32,
    context: &'static ContextMatcher,
    ids: &'static IdFormats,
}

/// The detector's fixed tables (the context keywords' automaton, the identity formats): the
/// same for every PII guard, so built once per process (per Wasm VM) and shared by every guard
/// and policy that has one, instead of once per guard at each policy load.
fn tables() -> &'static (ContextMatcher, IdFormats) {
    static TABLES: OnceLock<(ContextMatcher, IdFormats)> = OnceLock::new();
    TABLES.get_or_init(|| (ContextMatcher::new(), IdFormats::new()))
}

impl PiiDetector {
    pub fn new(opts: &PiiOptions) -> Self {
        let enabled = opts.entities.iter().fold(0u16, |acc, e| acc | e.bit());
        let (context, ids) = tables();
        PiiDetector {
            enabled,
            min_score: opts.min_score,
            context,
            ids,
        }
    }

    fn wants(&self, entity: PiiEntity) -> bool {
        self.enabled & entity.bit() != 0
    }

    /// Every candidate in `text` that reaches the detector's minimum score, possibly
    /// overlapping.
    fn candidates(&self, text: &str) -> Vec<Candidate> {
        self.candidates_with::<true>(text)
    }

    /// [`Self::candidates`], with or without the lone-short-run shortcut of
    /// [`Self::digit_run`] (tests hold the two equal).
    fn candidates_with<const SHORTCUT: bool>(&self, text: &str) -> Vec<Candidate> {
        let b = text.as_bytes();
        let mut cands = Vec::new();
        let tc = TextContext::new(self.context, b);
        let mut i = 0;
        let mut v6_clear_until = 0;
        // Every digit and `@` as bits, walked in order (the scan resumes past each candidate).
        let starts = block_masks(b, |l| [l.digit() | l.eq(b'@')]);
        while let Some(p) = next_bit(&starts, 0, i) {
            i = match b.get(p) {
                Some(b'@') => self.at_sign(b, p, &mut cands),
                _ => self.digit_run::<SHORTCUT>(b, p, &tc, &mut v6_clear_until, &mut cands),
            };
        }
        cands.retain(|c| {
            self.wants(c.entity) && c.start < c.end && c.end <= b.len() && c.score >= self.min_score
        });
        cands
    }

    /// Handles the `@` at `at`; returns where scanning resumes.
    fn at_sign(&self, b: &[u8], at: usize, cands: &mut Vec<Candidate>) -> usize {
        if self.wants(PiiEntity::Email) {
            if let Some(c) = email::at(b, at) {
                cands.push(c);
                return c.end;
            }
        }
        at + 1
    }

    /// Handles the digit run starting at `d`; returns where scanning resumes. Before
    /// `v6_clear_until` a failed IPv6 attempt already covered the text.
    fn digit_run<const SHORTCUT: bool>(
        &self,
        b: &[u8],
        d: usize,
        tc: &TextContext<'_>,
        v6_clear_until: &mut usize,
        cands: &mut Vec<Candidate>,
    ) -> usize {
        let e = run_end(b, d);
        let ts = token_start(b, d);
        let te = token_end(b, e);
        // Most digit runs are a few digits standing alone (list numbers, years, prices, code):
        // settled here, as the steps below would settle them. Too few shape characters for an
        // identity number; with no letter glued to the run, no IBAN country code and no passport
        // of nine characters; with no `:` next to it, no IPv6 address; with no `-` or `*` after
        // it, no licence number extended over dashes or fillers (and five digits alone are too
        // few for one); with no digit after a separator, no cluster.
        if SHORTCUT
            && ts == d
            && te == e
            && cluster::lone_short_run(b, d, e)
            && !national_id::may_start(b, ts)
            && !matches!(b.get(e), Some(b':' | b'*' | b'-'))
            && !(d > 0 && b.get(d - 1) == Some(&b':'))
        {
            return e;
        }

        let mut ctx = LazyContext::new(tc, ts, te);

        // National numbers first: their letters would otherwise read as an IBAN's country code.
        if self.wants(PiiEntity::NationalId) || self.wants(PiiEntity::Passport) {
            if let Some(c) = self.ids.find(b, ts, &mut ctx) {
                if c.score >= self.min_score && self.wants(c.entity) {
                    cands.push(c);
                    if c.entity == PiiEntity::NationalId {
                        return c.end;
                    }
                }
            }
        }

        if self.wants(PiiEntity::Iban) && iban::triggers(b, d) {
            match iban::parse(b, d - 2) {
                iban::Parsed::Valid(c) => {
                    cands.push(c);
                    return c.end;
                }
                iban::Parsed::Invalid { end } => return end.max(e),
                iban::Parsed::No => {}
            }
        }
        if self.wants(PiiEntity::IpAddress)
            && d >= *v6_clear_until
            && ip_address::v6_triggers(b, d, e)
        {
            match ip_address::parse_v6(b, d) {
                Ok(c) => {
                    cands.push(c);
                    return c.end;
                }
                Err(token_end) => *v6_clear_until = token_end,
            }
        }

        // The alphanumeric token holding this run: letters glued to it make it an identifier
        // (passport / licence shape), never a phone or card number.
        if self.wants(PiiEntity::UsPassport) {
            self.keep(cands, us_passport::classify(b, ts, te, &mut ctx));
        }
        if self.wants(PiiEntity::UsDriverLicense) {
            self.keep(cands, us_driver_license::classify(b, ts, te, &mut ctx));
        }
        if ts < d || te > e {
            // Skip the rest of the token so its later digit runs are not re-examined.
            return te.max(e);
        }

        if cluster::lone_short_run(b, d, e) {
            return e;
        }
        self.cluster_run(b, d, e, &mut ctx, cands)
    }

    /// The digit run `[d, e)` standing alone as a token, read as a cluster of digit groups
    /// (card, SSN, ITIN, IPv4 and phone shapes); returns where scanning resumes. Not inlined
    /// into [`Self::digit_run`]: most runs are settled before this, and V8 compiles a smaller
    /// function faster at start-up.
    #[inline(never)]
    fn cluster_run(
        &self,
        b: &[u8],
        d: usize,
        e: usize,
        ctx: &mut LazyContext<'_>,
        cands: &mut Vec<Candidate>,
    ) -> usize {
        let cl = Cluster::build(b, d);
        if !cl.worth_classifying() {
            return e;
        }
        let mut best: Option<Candidate> = None;
        let mut offer = |c: Option<Candidate>| {
            if let Some(c) = c {
                if best.is_none_or(|b| better(&c, &b)) {
                    best = Some(c);
                }
            }
        };
        if self.wants(PiiEntity::CreditCard) {
            offer(credit_card::classify(&cl, ctx));
        }
        if self.wants(PiiEntity::UsSsn) {
            offer(us_ssn::classify(&cl, ctx));
        }
        if self.wants(PiiEntity::UsItin) {
            offer(us_itin::classify(&cl, ctx));
        }
        if self.wants(PiiEntity::IpAddress) {
            offer(ip_address::classify_v4(&cl, ctx));
        }
        if self.wants(PiiEntity::Phone) {
            offer(phone::classify(&cl, ctx));
        }
        match best {
            Some(c) if c.score >= self.min_score => {
                cands.push(c);
                c.end
            }
            // A weak value does not hide what follows it.
            _ => cl.uniform_run_end().unwrap_or(e),
        }
    }

    /// Keeps `c` if it reaches the minimum score.
    fn keep(&self, cands: &mut Vec<Candidate>, c: Option<Candidate>) {
        if let Some(c) = c.filter(|c| c.score >= self.min_score) {
            cands.push(c);
        }
    }
}

/// Whether `a` should replace `b` when both cover the same text.
fn better(a: &Candidate, b: &Candidate) -> bool {
    if a.score != b.score {
        return a.score > b.score;
    }
    if a.entity.priority() != b.entity.priority() {
        return a.entity.priority() > b.entity.priority();
    }
    a.end - a.start > b.end - b.start
}

/// Drops overlapping candidates, keeping the better of each overlapping pair.
fn resolve_overlaps(cands: &mut Vec<Candidate>) {
    cands.sort_by_key(|c| (c.start, c.end));
    let mut kept: Vec<Candidate> = Vec::with_capacity(cands.len());
    for c in cands.drain(..) {
        match kept.last_mut() {
            Some(last) if c.start < last.end => {
                if better(&c, last) {
                    *last = c;
                }
            }
            _ => kept.push(c),
        }
    }
    *cands = kept;
}

impl Detector for PiiDetector {
    fn reads_folded(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "pii"
    }

    fn category(&self) -> Category {
        Category::Pii
    }

    fn scan(&self, text: &ScanText<'_>, out: &mut Vec<Match>) {
        let mut cands = self.candidates(text.original());
        if cands.is_empty() {
            return;
        }
        resolve_overlaps(&mut cands);
        out.extend(
            cands
                .into_iter()
                .map(|c| Match::new(c.entity.as_str(), c.start, c.end, c.score)),
        );
    }
}

/// End of the ASCII digit run starting at `d`.
pub(crate) fn run_end(b: &[u8], d: usize) -> usize {
    let mut e = d;
    while b.get(e).is_some_and(u8::is_ascii_digit) {
        e += 1;
    }
    e
}

fn token_start(b: &[u8], mut i: usize) -> usize {
    while i > 0 && b.get(i - 1).is_some_and(u8::is_ascii_alphanumeric) {
        i -= 1;
    }
    i
}

fn token_end(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_alphanumeric) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every candidate, the shortcut of [`PiiDetector::digit_run`] on and off.
    fn with_and_without_shortcut(text: &str) -> (Vec<Candidate>, Vec<Candidate>) {
        static DET: std::sync::OnceLock<PiiDetector> = std::sync::OnceLock::new();
        let det = DET.get_or_init(|| {
            PiiDetector::new(&PiiOptions {
                min_score: 0.0,
                ..PiiOptions::default()
            })
        });
        (
            det.candidates_with::<true>(text),
            det.candidates_with::<false>(text),
        )
    }

    #[test]
    fn the_shortcut_leaves_values_that_start_with_a_short_run() {
        // A short run of digits that starts an IPv6 address or a licence number: the shortcut
        // must not settle it.
        for text in [
            "1::",
            "::1",
            "ip 1::2 x",
            "1:2:3:4:5:6:7:8",
            "DL 12-AB-345",
            "DL 12345-AB",
            "licence 12**ABCDEFGH",
            "DL 12345*ABCDEF",
        ] {
            let (on, off) = with_and_without_shortcut(text);
            assert!(!off.is_empty(), "{text}");
            assert_eq!(on, off, "{text}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3_000))]
        /// The lone-short-run shortcut changes no candidate: short digit runs next to every
        /// byte the recognizers extend over (`:`, `*`, `-`, separators, capitals), with and
        /// without context words.
        #[test]
        fn the_shortcut_changes_nothing(text in "([0-9]{1,6}|[A-Z]{1,3}|[a-z]{1,3}|[ .:/*+()@,#-]|::|[*][*]|-[A-Z]{2}|\n| passport | DL | IBAN | SSN | driver license | tel | ID | NINO | CPF ){0,24}") {
            let (on, off) = with_and_without_shortcut(&text);
            proptest::prop_assert_eq!(on, off);
        }
    }

    fn scan(text: &str) -> Vec<(String, String)> {
        let det = PiiDetector::new(&PiiOptions::default());
        let mut out = Vec::new();
        det.scan(&ScanText::new(text), &mut out);
        out.iter()
            .map(|m| (m.kind.to_string(), text[m.start..m.end].to_string()))
            .collect()
    }

    #[test]
    fn entity_names_match_serde() {
        for e in PiiEntity::ALL {
            let json = serde_json::to_string(&e).unwrap();
            assert_eq!(json, format!("\"{}\"", e.as_str()));
            let back: PiiEntity = serde_json::from_str(&json).unwrap();
            assert_eq!(back, e);
        }
    }

    #[test]
    fn options_defaults_and_strictness() {
        let o: PiiOptions = serde_json::from_str("{}").unwrap();
        assert_eq!(o, PiiOptions::default());
        assert_eq!(o.entities.len(), 11);
        let o: PiiOptions =
            serde_json::from_str(r#"{"entities":["email","us_ssn"],"min_score":0.7}"#).unwrap();
        assert_eq!(o.entities, vec![PiiEntity::Email, PiiEntity::UsSsn]);
        assert!(serde_json::from_str::<PiiOptions>(r#"{"bogus":1}"#).is_err());
        assert!(serde_json::from_str::<PiiOptions>(r#"{"entities":["nope"]}"#).is_err());
    }

    #[test]
    fn detector_identity() {
        let det = PiiDetector::new(&PiiOptions::default());
        assert_eq!(det.name(), "pii");
        assert_eq!(det.category(), Category::Pii);
    }

    #[test]
    fn mixed_text() {
        let text = "Reach jane.doe@example.org or +44 20 7946 0958; card 4111 1111 1111 1111, \
                    SSN 219-09-9998, IBAN GB82 WEST 1234 5698 7654 32, host 203.0.113.7.";
        let got = scan(text);
        let kinds: Vec<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "email",
                "phone",
                "credit_card",
                "us_ssn",
                "iban",
                "ip_address"
            ]
        );
        assert_eq!(got[0].1, "jane.doe@example.org");
        assert_eq!(got[1].1, "+44 20 7946 0958");
        assert_eq!(got[2].1, "4111 1111 1111 1111");
        assert_eq!(got[3].1, "219-09-9998");
        assert_eq!(got[4].1, "GB82 WEST 1234 5698 7654 32");
        assert_eq!(got[5].1, "203.0.113.7");
    }

    #[test]
    fn entity_filter_and_min_score() {
        let only_email = PiiDetector::new(&PiiOptions {
            entities: vec![PiiEntity::Email],
            min_score: DEFAULT_MIN_SCORE,
        });
        let mut out = Vec::new();
        only_email.scan(&ScanText::new("a@b.example 4111111111111111"), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].kind, "email");

        // A bare nine-digit number is only a weak SSN candidate.
        assert!(scan("ref 536221234 ok").is_empty());
        let all = PiiDetector::new(&PiiOptions {
            min_score: 0.0,
            ..PiiOptions::default()
        });
        let mut out = Vec::new();
        all.scan(&ScanText::new("ref 536221234 ok"), &mut out);
        assert_eq!(out.len(), 1);
        assert!(out[0].score < DEFAULT_MIN_SCORE);
    }

    #[test]
    fn benign_numbers_do_not_match() {
        for text in [
            "Tom has 1200 apples and sells 3/4 of them for $2,450.75 on 2023-10-15.",
            "The answer is 3.14159265358979 or -2208960000 or 1,000,000,000.",
            "Use version 10.0.19041.1 and build 20231015123456.",
            "let x = arr[1::2]; let t = \"12:30:45\"; let mac = \"00:1A:2B:3C:4D:5E\";",
            "Scores: 12 34 56 78 90 are listed; 16/04/2010 and 2009-2010.",
            "Hex dump: 00 10 00 31 46 D9 E9 11.",
        ] {
            assert!(scan(text).is_empty(), "{text}: {:?}", scan(text));
        }
    }

    #[test]
    fn never_panics_on_odd_input() {
        let det = PiiDetector::new(&PiiOptions {
            min_score: 0.0,
            ..PiiOptions::default()
        });
        let inputs = [
            "",
            "@",
            "@@",
            "1",
            "+",
            "(",
            "(+",
            "( ",
            "+(",
            "::",
            "1::",
            "::1",
            "١٢٣٤٥٦٧٨٩",
            "٠٥٥١٢٣٤٥٦٧ 電話13812345678",
            "é@é.é",
            "a@b",
            "AB12",
            "DE",
            "GB82 ",
            "4111 1111 1111 111\u{300}1",
            "(((((((1)))))))",
            "x@y.z\u{200b}.com",
            "1-2-3-4-5-6-7-8-9-0-1-2-3-4-5-6-7-8-9",
            "passport",
            "DL 1",
            "ext",
            "555-1234 x",
        ];
        for s in inputs {
            let mut out = Vec::new();
            det.scan(&ScanText::new(s), &mut out);
            for m in &out {
                assert!(
                    m.start < m.end && s.is_char_boundary(m.start) && s.is_char_boundary(m.end)
                );
            }
        }
    }
}
