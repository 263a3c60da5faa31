//! Secrets detector: API keys, tokens, private keys and passwords pasted into prompts.
//!
//! Three families of evidence, all found from one Aho-Corasick pass over the text:
//!
//! * **Structured tokens** ([`rules`]): vendor formats with a literal prefix or marker (`AKIA…`,
//!   `ghp_…`, `xoxb-…`, `sk-ant-…`, JWTs, `AccountKey=…`), crypt(3) password hashes and
//!   `.netrc` entries. Each rule's regex runs only on a bounded window ([`MAX_TOKEN_LEN`]) at an
//!   anchor hit, and candidates are verified (decoded JWT header, Discord snowflake, placeholder
//!   rejection). Scores 0.85–1.0.
//! * **Vendor context** ([`context_rules`]): keys that are only a run of hex or base62, found
//!   by the vendor's name (an anchor) right before a value of the vendor's exact shape
//!   (`DATADOG_APP = "<32 hex>"`, `my pagerduty token is u+…`). Score 0.85.
//! * **Context** ([`generic`]): `key = value` assignments whose key names a secret, gated by
//!   character classes and Shannon entropy; URLs with credentials; `curl -u`; SQL
//!   `IDENTIFIED BY`; the password flags of `sshpass`, `docker login`, `redis-cli` and `mysql`;
//!   PEM private-key blocks. Scores 0.7–1.0.
//!
//! Why a prefilter: the guard must scan hundreds of MB/s per core, and prompts almost never
//! contain secrets. Running ~300 regexes over every prompt would cost far more than one automaton
//! pass; with anchors, text without any anchor costs only the pass, and the common anchors in
//! prose (`key`, `pass`, `token`) are rejected by a few byte comparisons.
//!
//! Spans cover only the secret (the value of an assignment, the password of a URL), so the
//! engine's mask (`[PASSWORD]`, `[AWS_ACCESS_KEY]`) keeps the surrounding text readable.

mod checks;
mod context_rules;
mod generic;
mod rules;
mod vendor_rules;

use std::collections::HashMap;
use std::sync::OnceLock;

use super::dfa_scan::{sort_by_start_longest_first, LiteralDfa, RawHit};
use super::lazy_regex::LazyRegex;
use regex::Regex;
use serde::Deserialize;

use super::{Category, Detector, Match, ScanText};
use checks::floor_boundary;
use rules::{Check, Rule, GENERIC_KINDS, RULE_COUNT};

/// Longest structured token looked for after its anchor (JWTs and 1Password service tokens run
/// to a few KB); a rule's regex never sees more than this many bytes.
pub const MAX_TOKEN_LEN: usize = 4096;
/// Bytes after the anchor searched by rules whose token starts before the anchor (`…Q~…`,
/// `…:AA…`, `…|…`); those tokens are short, and a small window keeps frequent anchors such as
/// `|` cheap.
const BACK_RULE_WINDOW: usize = 128;
/// Default minimum Shannon entropy (bits per character) of a value under a token-like key.
pub const DEFAULT_ENTROPY_THRESHOLD: f32 = 3.0;
/// Largest accepted `entropy_threshold` (entropy of bytes cannot exceed 8 bits).
const MAX_ENTROPY_THRESHOLD: f32 = 8.0;
/// Longest parameter list of an ANSI colour escape accepted before a token.
const ANSI_MAX_PARAMS: usize = 12;
/// Largest compiled size of one rule regex.
const MAX_RULE_REGEX_SIZE: usize = 1 << 20;
/// Score of a token whose embedded checksum verifies ([`Check::Crc32Base62`]).
const CHECKSUM_SCORE: f32 = 1.0;

/// Options of the `secrets` detector.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SecretsOptions {
    /// Minimum Shannon entropy (bits per char) for generic `key = value` assignments under
    /// token-like keys (`api_key`, `secret`, `token`). Short values are held to
    /// `min(threshold, 0.7 * log2(len))`, since a short random string cannot reach a high value.
    /// Password-like keys use a fixed, lower bar because human passwords are short.
    #[serde(default = "default_entropy_threshold")]
    pub entropy_threshold: f32,
    /// If set, only these kinds are reported (e.g. `["aws_access_key", "github_token"]`).
    #[serde(default)]
    pub kinds: Option<Vec<String>>,
}

fn default_entropy_threshold() -> f32 {
    DEFAULT_ENTROPY_THRESHOLD
}

impl Default for SecretsOptions {
    fn default() -> Self {
        SecretsOptions {
            entropy_threshold: DEFAULT_ENTROPY_THRESHOLD,
            kinds: None,
        }
    }
}

/// What to do when an anchor is found.
#[derive(Debug, Clone, Copy)]
enum Action {
    /// Try structured rule `rules::all()[i]`.
    Rule(usize),
    /// A vendor's name: try vendor-context rule `context_rules::CONTEXT_RULES[i]`.
    Context(usize),
    /// A secret-ish keyword: check for a `key = value` assignment around it.
    Keyword,
    /// `://`: check for `user:password@`.
    Url,
    /// `-u ` / `--user`: check for `user:password`.
    CliUser,
    /// `IDENTIFIED BY`, `ConvertTo-SecureString`: the next argument is a password.
    CliPassword,
    /// A command with a known password flag (`sshpass -p`, `docker login -p`, `mysql -p…`):
    /// index into [`generic::CLI_FLAG_COMMANDS`].
    CliFlag(usize),
    /// `-----BEGIN`: a PEM private-key block.
    Pem,
    /// `"kty"`: a JSON Web Key; report private members.
    Jwk,
}

/// Anchors of the non-rule actions.
const URL_ANCHORS: &[&str] = &["://"];
const CLI_USER_ANCHORS: &[&str] = &["-u ", "--user ", "--user="];
const CLI_PASSWORD_ANCHORS: &[&str] = &[
    "IDENTIFIED BY",
    "identified by",
    "IDENTIFIED WITH",
    "identified with",
    "ConvertTo-SecureString",
];
const JWK_ANCHORS: &[&str] = &["\"kty\""];
const PEM_ANCHORS: &[&str] = &["-----BEGIN"];

/// The compiled secrets detector.
pub struct SecretsDetector {
    shared: &'static Shared,
    entropy_threshold: f32,
    /// If set, only these kinds are reported.
    allowed: Option<Vec<&'static str>>,
}

/// What every secrets guard of a process (or Wasm VM) shares, whatever its options: the anchor
/// automaton and the rules. Built once; the rules' regexes compile on first use
/// ([`LazyRegex`]).
struct Shared {
    automaton: LiteralDfa,
    /// Actions per automaton pattern id, each with the offset of the anchor it belongs to inside
    /// the matched pattern and that anchor's length (see [`SecretsDetector::new`]).
    actions: Vec<Vec<(Action, usize, usize)>>,
    /// Every structured rule ([`rules::all`]), in scan order.
    rules: Vec<&'static Rule>,
    /// Regex per rule (same index as `rules`).
    regexes: Vec<LazyRegex>,
    /// Regex per vendor-context rule (same index as `context_rules::CONTEXT_RULES`).
    context_regexes: Vec<LazyRegex>,
    pem_begin: Regex,
    pem_end: Regex,
    jwk: Regex,
}

impl SecretsDetector {
    /// Compile the rule set. Errors name the option: `kinds: unknown secret kind `foo`; …`.
    pub fn new(opts: &SecretsOptions) -> Result<Self, String> {
        let t = opts.entropy_threshold;
        if !t.is_finite() || !(0.0..=MAX_ENTROPY_THRESHOLD).contains(&t) {
            return Err(format!(
                "entropy_threshold: {t} is outside 0.0..={MAX_ENTROPY_THRESHOLD}"
            ));
        }
        let allowed = match &opts.kinds {
            None => None,
            Some(list) => {
                let known: Vec<&'static str> = Self::kinds().collect();
                let mut allowed = Vec::with_capacity(list.len());
                for k in list {
                    match known.iter().find(|x| **x == k.as_str()) {
                        Some(x) => allowed.push(*x),
                        None => {
                            return Err(format!(
                                "kinds: unknown secret kind `{k}`; known kinds: {}",
                                known.join(", ")
                            ))
                        }
                    }
                }
                Some(allowed)
            }
        };
        Ok(SecretsDetector {
            shared: Shared::get()?,
            entropy_threshold: t,
            allowed,
        })
    }
}

impl Shared {
    fn get() -> Result<&'static Shared, String> {
        static SHARED: OnceLock<Result<Shared, String>> = OnceLock::new();
        SHARED
            .get_or_init(Shared::build)
            .as_ref()
            .map_err(Clone::clone)
    }

    fn build() -> Result<Shared, String> {
        let mut patterns: Vec<String> = Vec::new();
        let mut actions: Vec<Vec<Action>> = Vec::new();
        // keyed by bytes: the same map type as the folded literals' table (one copy of its
        // code in the module)
        let mut index: HashMap<Vec<u8>, usize> = HashMap::new();
        let mut add = |anchor: &str, action: Action| {
            let i = *index.entry(anchor.as_bytes().to_vec()).or_insert_with(|| {
                patterns.push(anchor.to_string());
                actions.push(Vec::new());
                patterns.len() - 1
            });
            if let Some(a) = actions.get_mut(i) {
                a.push(action);
            }
        };
        let rules: Vec<&'static Rule> = rules::all().collect();
        for (i, r) in rules.iter().enumerate() {
            for a in r.anchors {
                add(a, Action::Rule(i));
            }
        }
        for (i, r) in context_rules::CONTEXT_RULES.iter().enumerate() {
            for a in context_rules::anchors(r) {
                add(&a, Action::Context(i));
            }
        }
        for kw in generic::KEYWORD_ANCHORS {
            for v in context_rules::case_variants(kw) {
                add(&v, Action::Keyword);
            }
        }
        for a in URL_ANCHORS {
            add(a, Action::Url);
        }
        for a in CLI_USER_ANCHORS {
            add(a, Action::CliUser);
        }
        for a in CLI_PASSWORD_ANCHORS {
            add(a, Action::CliPassword);
        }
        for (i, (command, _, _)) in generic::CLI_FLAG_COMMANDS.iter().enumerate() {
            add(&format!("{command} "), Action::CliFlag(i));
        }
        for a in PEM_ANCHORS {
            add(a, Action::Pem);
        }
        for a in JWK_ANCHORS {
            add(a, Action::Jwk);
        }
        // The scan reads, for each position where anchors start, the longest of them (what a
        // leftmost-longest search restarted after each hit's start reports), so a hit also
        // carries the actions of every anchor that is a prefix of it (`eyJrIjoi` → also `eyJ`).
        let mut expanded: Vec<Vec<(Action, usize, usize)>> = Vec::with_capacity(patterns.len());
        for p in &patterns {
            // every anchor that is a prefix of `p` (itself included), in the order they were
            // added (equal-score findings of one span keep the first rule's kind)
            let mut prefixes: Vec<(usize, usize)> = Vec::new();
            for len in 1..=p.len() {
                if let Some(&i) = p.as_bytes().get(..len).and_then(|q| index.get(q)) {
                    // a few entries: kept in order by hand (no sort's code in the module)
                    let at = prefixes.iter().position(|&(j, _)| j > i);
                    prefixes.insert(at.unwrap_or(prefixes.len()), (i, len));
                }
            }
            let acts = prefixes
                .iter()
                .filter_map(|&(i, len)| Some(actions.get(i)?.iter().map(move |a| (*a, 0, len))))
                .flatten()
                .collect();
            expanded.push(acts);
        }
        let actions = expanded;
        let automaton =
            LiteralDfa::new(&patterns).map_err(|e| format!("internal: anchor automaton: {e}"))?;

        let regexes = rules
            .iter()
            .map(|r| LazyRegex::new(r.pattern.to_owned(), false, MAX_RULE_REGEX_SIZE))
            .collect();
        let context_regexes = context_rules::CONTEXT_RULES
            .iter()
            .map(|r| LazyRegex::new(context_rules::pattern(r), false, MAX_RULE_REGEX_SIZE))
            .collect();
        let pem_begin = Regex::new(r"^-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----")
            .map_err(|e| format!("internal: pem: {e}"))?;
        let pem_end = Regex::new(r"-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----")
            .map_err(|e| format!("internal: pem: {e}"))?;
        let jwk = Regex::new(r#""(?:d|p|q|dp|dq|qi|k)"[ \t]*:[ \t]*"([A-Za-z0-9_-]{16,})""#)
            .map_err(|e| format!("internal: jwk: {e}"))?;
        Ok(Shared {
            automaton,
            actions,
            rules,
            regexes,
            context_regexes,
            pem_begin,
            pem_end,
            jwk,
        })
    }
}

impl SecretsDetector {
    /// Every kind this detector can report.
    pub fn kinds() -> impl Iterator<Item = &'static str> {
        let mut all: Vec<&'static str> = Vec::new();
        for k in rules::all()
            .map(|r| r.kind)
            .chain(context_rules::CONTEXT_RULES.iter().map(|r| r.kind))
            .chain(GENERIC_KINDS.iter().copied())
        {
            if !all.contains(&k) {
                all.push(k);
            }
        }
        all.into_iter()
    }

    /// Try one structured rule at an anchor hit `[s, e)`. `skip[idx]` is the end of the region
    /// this rule already examined in this scan: later hits inside it are not tried again, which
    /// keeps runs of repeated anchors (`sk-sk-sk-…`) linear.
    #[inline(never)]
    fn apply_rule(
        &self,
        idx: usize,
        text: &str,
        (s, e): (usize, usize),
        skip: &mut [usize],
        out: &mut Vec<Match>,
    ) {
        let (Some(rule), Some(re), Some(skip)) = (
            self.shared.rules.get(idx),
            self.shared.regexes.get(idx).and_then(LazyRegex::get),
            skip.get_mut(idx),
        ) else {
            return;
        };
        if s < *skip {
            return;
        }
        let b = text.as_bytes();
        let start = if rule.back == 0 {
            s
        } else {
            let mut run = 0;
            while run <= rule.back && run < s && rule.before.accepts(b[s - 1 - run]) {
                run += 1;
            }
            if run < rule.back_min || run > rule.back {
                return;
            }
            s - run
        };
        if rule.left_boundary && rule.check != Check::Telegram && !left_ok(b, start) {
            return;
        }
        let window_end = if rule.back == 0 {
            floor_boundary(text, s + MAX_TOKEN_LEN)
        } else {
            floor_boundary(text, e + BACK_RULE_WINDOW)
        };
        *skip = if rule.back == 0 {
            token_run_end(b, s, window_end)
        } else {
            e
        };
        let Some(hay) = text.get(start..window_end) else {
            return;
        };
        let Some((ms, me)) = find_span(re, hay) else {
            return;
        };
        let (ms, me) = (start + ms, start + me);
        *skip = (*skip).max(me);
        if me < e {
            return; // the match must cover the anchor
        }
        if rule.right_boundary
            && me < window_end
            && b.get(me).is_some_and(u8::is_ascii_alphanumeric)
        {
            return;
        }
        let Some(tok) = text.get(ms..me) else {
            return;
        };
        if ms >= me {
            return;
        }
        if let Some(score) = verify(rule, text, start, tok) {
            out.push(Match::new(rule.kind, ms, me, score));
        }
    }
}

impl SecretsDetector {
    /// Try one vendor-context rule at a hit of the vendor's word starting at `s`: the word, the
    /// rest of its key name or a few words of prose, and a value of one of the vendor's shapes
    /// ([`context_rules`]). `skip[idx]` works as in [`Self::apply_rule`].
    #[inline(never)]
    fn apply_context(
        &self,
        idx: usize,
        text: &str,
        s: usize,
        skip: &mut [usize],
        out: &mut Vec<Match>,
    ) {
        let (Some(rule), Some(re), Some(skip)) = (
            context_rules::CONTEXT_RULES.get(idx),
            self.shared
                .context_regexes
                .get(idx)
                .and_then(LazyRegex::get),
            skip.get_mut(idx),
        ) else {
            return;
        };
        if s < *skip {
            return;
        }
        let end = floor_boundary(text, s + context_rules::CONTEXT_WINDOW);
        let Some(hay) = text.get(s..end) else {
            return;
        };
        let Some(m) = re.captures(hay).and_then(|c| c.get(1)) else {
            return;
        };
        *skip = s + m.end();
        let gap = hay.get(..m.start()).unwrap_or_default();
        if context_rules::value_ok(m.as_str()) && !context_rules::names_a_digest(gap) {
            out.push(Match::new(
                rule.kind,
                s + m.start(),
                s + m.end(),
                context_rules::CONTEXT_SCORE,
            ));
        }
    }
}

/// End of the run of token characters (`[A-Za-z0-9_.+/=~%-]`) starting at `s`, at most `limit`.
fn token_run_end(b: &[u8], s: usize, limit: usize) -> usize {
    let mut i = s;
    while i < limit
        && i < b.len()
        && (b[i].is_ascii_alphanumeric()
            || matches!(b[i], b'_' | b'-' | b'.' | b'+' | b'/' | b'=' | b'~' | b'%'))
    {
        i += 1;
    }
    i
}

/// True if a token may start at `s`: the byte before is not part of a word, or it ends an ANSI
/// colour escape (`\x1b[93m`), which terminals and logs put right before values.
fn left_ok(b: &[u8], s: usize) -> bool {
    let Some(&prev) = s.checked_sub(1).and_then(|i| b.get(i)) else {
        return true;
    };
    if !(prev.is_ascii_alphanumeric() || prev == b'_') {
        return true;
    }
    if prev != b'm' {
        return false;
    }
    let mut i = s - 1;
    while i > 0 && s - i <= ANSI_MAX_PARAMS && (b[i - 1].is_ascii_digit() || b[i - 1] == b';') {
        i -= 1;
    }
    i >= 2 && b[i - 1] == b'[' && b[i - 2] == 0x1b
}

/// The span of a rule regex in `hay`: capture group 1 if the pattern has one, else the match.
fn find_span(re: &Regex, hay: &str) -> Option<(usize, usize)> {
    if re.captures_len() > 1 {
        let caps = re.captures(hay)?;
        let m = caps.get(1).or_else(|| caps.get(0))?;
        Some((m.start(), m.end()))
    } else {
        re.find(hay).map(|m| (m.start(), m.end()))
    }
}

/// The rule's extra verification of a candidate token at `start`: the score to report, or
/// `None` if the candidate is rejected.
fn verify(rule: &Rule, text: &str, start: usize, tok: &str) -> Option<f32> {
    let plain = !checks::is_placeholder_token(tok);
    let ok = match rule.check {
        Check::Plain => plain,
        Check::MixedCase => plain && checks::mixed_case(tok),
        Check::HasDigit => plain && tok.bytes().any(|c| c.is_ascii_digit()),
        Check::Jwt => checks::jwt_header_ok(tok),
        Check::Structural => true,
        Check::AtlassianPat => checks::atlassian_pat_ok(tok),
        Check::RunPrefix => {
            let tail = tok.trim_start_matches('A');
            !checks::is_placeholder_token(tail) && checks::mixed_case(tail)
        }
        Check::Discord => checks::discord_id_ok(tok),
        Check::Base64Pem => checks::base64_pem_private(tok),
        Check::Credential => generic::credential_ok(tok) && generic::password_shape(tok),
        Check::Slack => {
            let tail = tok.split_once('-').map_or("", |(_, t)| t);
            plain
                && tail.len() >= 20
                && tail.bytes().filter(u8::is_ascii_digit).count() >= 3
                && tok.as_bytes().last().is_some_and(u8::is_ascii_alphanumeric)
        }
        Check::Telegram => {
            let b = text.as_bytes();
            let prev = start.checked_sub(1).and_then(|i| b.get(i)).copied();
            let after_bot = start >= 3 && text.get(start - 3..start) == Some("bot");
            plain && (after_bot || !prev.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_'))
        }
        Check::PaddedRun => {
            let rest = tok.replacen("AAAAAAAAAA", "", 1);
            !checks::is_placeholder_token(&rest) && checks::mixed_case(&rest)
        }
        Check::BedrockPresigned => {
            let body = tok.strip_prefix("bedrock-api-key-").unwrap_or("");
            let mut buf = [0u8; 21];
            let n = checks::base64_decode_prefix(body, &mut buf);
            buf.get(..n) == Some(b"bedrock.amazonaws.com".as_slice())
        }
        Check::Crc32Base62 => {
            // A body that carries its checksum is certainly a token; one that does not (retyped,
            // made up for a test) still has the vendor's exact shape and is reported as before.
            let body = tok.split_once('_').map_or("", |(_, b)| b);
            if plain && checks::crc32_base62_ok(body) {
                return Some(CHECKSUM_SCORE);
            }
            plain
        }
    };
    ok.then_some(rule.score)
}

/// Keep one match per overlapping group: the highest score, then the earliest/longest.
fn dedupe(found: &mut Vec<Match>) {
    found.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut kept: Vec<Match> = Vec::with_capacity(found.len());
    for m in found.drain(..) {
        if let Some(last) = kept.last_mut() {
            if m.start < last.end {
                if m.score > last.score {
                    *last = m;
                }
                continue;
            }
        }
        kept.push(m);
    }
    *found = kept;
}

impl Detector for SecretsDetector {
    fn reads_folded(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "secrets"
    }

    fn category(&self) -> Category {
        Category::Secret
    }

    fn scan(&self, text: &ScanText<'_>, out: &mut Vec<Match>) {
        let hay = text.original();
        let mut found: Vec<Match> = Vec::new();
        let mut kw_state = generic::KeywordState::default();
        let b = hay.as_bytes();
        // ends of regions already covered by a PEM block, searched for JWK members, and read
        // as the arguments of a command with a password flag
        let (mut pem_until, mut jwk_until, mut cli_until) = (0, 0, 0);
        let mut skip = [0usize; RULE_COUNT];
        let mut context_skip = [0usize; context_rules::CONTEXT_RULES.len()];
        // Every anchor occurrence (one DFA walk, four chains), then per start position the
        // longest: anchors overlapping an earlier hit (`:AA` then `AAAA…`) are still seen.
        // What each hit does (`apply_rule`, `apply_context`, the `generic` readers) is not
        // inlined here: hits are rare, and inlined they made this one 35 KB function that V8
        // compiled at start-up at five times the module's cost per byte.
        let mut hits: Vec<RawHit> = Vec::new();
        self.shared.automaton.find_all(b, &mut hits);
        sort_by_start_longest_first(&mut hits);
        hits.dedup_by_key(|h| h.start);
        for h in hits {
            // u32 → usize is lossless on every target (wasm32 included)
            let start = h.start as usize;
            let Some(acts) = self.shared.actions.get(h.pattern as usize) else {
                continue;
            };
            for &(act, off, len) in acts {
                let (s, e) = (start + off, start + off + len);
                match act {
                    Action::Rule(i) => self.apply_rule(i, hay, (s, e), &mut skip, &mut found),
                    Action::Context(i) => {
                        self.apply_context(i, hay, s, &mut context_skip, &mut found);
                    }
                    Action::Keyword => generic::keyword_assignment(
                        hay,
                        s,
                        e,
                        self.entropy_threshold,
                        &mut kw_state,
                        &mut found,
                    ),
                    Action::Url => generic::url_credentials(hay, s, &mut found),
                    Action::CliUser => {
                        let prev = s.checked_sub(1).and_then(|i| b.get(i));
                        if prev.is_none_or(u8::is_ascii_whitespace) {
                            generic::cli_user(hay, e, &mut found);
                        }
                    }
                    Action::CliPassword => generic::cli_password(hay, e, &mut found),
                    // a command name, not the end of a longer word (`mysql` in `pymysql`)
                    Action::CliFlag(i) if s >= cli_until && left_ok(b, s) => {
                        cli_until = generic::cli_flag_password(hay, i, e, &mut found);
                    }
                    Action::Pem if s >= pem_until => {
                        if let Some(end) = generic::pem_block(
                            hay,
                            s,
                            &self.shared.pem_begin,
                            &self.shared.pem_end,
                            &mut found,
                        ) {
                            pem_until = end;
                        }
                    }
                    Action::Jwk if s >= jwk_until => {
                        jwk_until = generic::jwk_private(hay, s, &self.shared.jwk, &mut found);
                    }
                    Action::Pem | Action::Jwk | Action::CliFlag(_) => {}
                }
            }
        }
        if found.is_empty() {
            return;
        }
        if let Some(allowed) = &self.allowed {
            found.retain(|m| allowed.iter().any(|k| *k == m.kind));
        }
        dedupe(&mut found);
        found.retain(|m| {
            m.start < m.end && hay.is_char_boundary(m.start) && hay.is_char_boundary(m.end)
        });
        out.append(&mut found);
    }
}

#[cfg(test)]
mod tests;
