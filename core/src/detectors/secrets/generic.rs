//! Context-driven secret finders: things that have no fixed vendor prefix but are recognisable by
//! what surrounds them.
//!
//! * `key = value` assignments whose key names a secret (`password`, `db_pass`, `AwsSecretKey`,
//!   `client-secret`, `Authorization`, `--token`), in the syntaxes of config files, source code,
//!   shells and prose (`=`, `:`, `:=`, `=>`, `==`, flag + space, `is`). The value must look like
//!   a real credential: placeholders (`${VAR}`, `<password>`, `xxxx`, `your_api_key_here`),
//!   references (`process.env.X`, `self.token`) and calls (`getenv("X")`) are rejected, and a
//!   character-class and Shannon-entropy gate filters out ordinary words. Password-like keys use
//!   a lower bar than token-like keys because human passwords are short and low-entropy.
//! * URLs with credentials (`postgres://user:pass@host`, `https://user:pass@host`).
//! * `curl -u user:pass`, SQL `IDENTIFIED BY '…'`, PowerShell `ConvertTo-SecureString '…'`.
//! * PEM private-key blocks.
//!
//! Spans cover only the secret value, never the key name, so masking keeps the text readable.

use super::checks::{floor_boundary, is_placeholder_token, shannon_entropy};
use super::Match;

/// Longest key name examined around a keyword hit (bytes on each side).
const MAX_NAME_EXTENT: usize = 48;
/// Longest value accepted; longer runs are blobs, not assignments.
const MAX_VALUE_LEN: usize = 1024;
/// Longest value accepted under a password-like key.
const MAX_PASSWORD_LEN: usize = 128;
/// Words of a key name examined.
const MAX_NAME_WORDS: usize = 12;
/// Values read over more than this many bytes are not re-examined for nested keywords.
const MAX_REEXAMINE: usize = 64;
/// Spaces allowed between name, operator and value.
const MAX_GAP: usize = 8;
/// Minimum length of a value under a password-like key.
const MIN_PASSWORD_LEN: usize = 6;
/// Minimum length of a value under a token-like key.
const MIN_TOKEN_LEN: usize = 8;
/// Password values need at least this entropy (bits/char): rejects `aaaa1111`.
const MIN_PASSWORD_ENTROPY: f32 = 2.0;
/// Short random strings cannot reach a fixed entropy threshold (`log2(len)` is the maximum), so
/// the token gate uses `min(threshold, ENTROPY_LEN_FACTOR * log2(len))`.
const ENTROPY_LEN_FACTOR: f32 = 0.7;
/// Credentials found in strong syntactic context (`curl -u`, `IDENTIFIED BY`): minimum length,
/// distinct characters and entropy.
const MIN_CREDENTIAL_LEN: usize = 6;
const MIN_CREDENTIAL_DISTINCT: usize = 5;
const MIN_CREDENTIAL_ENTROPY: f32 = 2.3;
/// Values with at least this many punctuation characters count as random without digits.
const MIN_TOKEN_SYMBOLS: usize = 4;
/// Letters-only passwords need this length and a random-looking case mix.
const MIN_RANDOM_CASE_LEN: usize = 10;
/// Quoted passphrases: at most this many words and bytes.
const MAX_PASSPHRASE_WORDS: usize = 6;
const MAX_PASSPHRASE_LEN: usize = 64;
/// Words that mark a quoted phrase as an instruction or message, not a passphrase.
#[rustfmt::skip]
const PROSE_WORDS: &[&str] = &[
    "the", "a", "an", "your", "is", "are", "be", "must", "should", "please", "enter", "invalid",
    "incorrect", "wrong", "required", "not", "to", "of", "for", "password", "you", "will",
    "characters", "at", "least", "new", "old", "confirm", "reset", "forgot", "match", "error",
];
/// Longest decoded `Authorization: Basic` credential examined.
const MAX_BASIC_DECODED: usize = 192;
/// Product keys (`ABCDE-FGHIJ-…`): group sizes and count.
const PRODUCT_KEY_GROUP_MIN: usize = 4;
const PRODUCT_KEY_GROUP_MAX: usize = 6;
const PRODUCT_KEY_MIN_GROUPS: usize = 4;
/// Mixed-case values without digits count as random only from this length on.
const MIN_LETTERS_ONLY_TOKEN_LEN: usize = 20;
/// How far past `-----BEGIN` the `-----END` line is searched.
pub(super) const MAX_PEM_BYTES: usize = 16 * 1024;
/// Longest `-----BEGIN … PRIVATE KEY-----` line.
const MAX_PEM_HEADER: usize = 80;
/// A PEM block needs this many non-whitespace body characters.
const MIN_PEM_BODY: usize = 12;
/// How far past `"kty"` a JWK's private members are looked for.
const MAX_JWK_BYTES: usize = 2048;
/// How far a command's argument is looked for after `curl -u`, `IDENTIFIED BY`, ….
const MAX_ARG_GAP: usize = 64;

/// Scores of the generic findings: strong syntactic context scores higher than a keyword guess.
const SCORE_PASSWORD: f32 = 0.7;
const SCORE_GENERIC: f32 = 0.7;
const SCORE_HIGH_ENTROPY: f32 = 0.8;
const SCORE_AUTH_HEADER: f32 = 0.85;
const SCORE_URL: f32 = 0.9;
const SCORE_CLI: f32 = 0.85;
const SCORE_PEM: f32 = 1.0;
const SCORE_JWK: f32 = 0.9;

/// Keyword stems that trigger the assignment check. Each is registered in lower, Capitalised and
/// UPPER case (`pass`, `Pass`, `PASS`), which covers snake, camel and constant case.
#[rustfmt::skip]
pub(super) const KEYWORD_ANCHORS: &[&str] = &[
    "pass", "pwd", "pw", "psw", "pssw", "pasw", "secret", "token", "key", "auth", "cred", "bearer",
    "salt", "nonce", "sonar", "snyk", "heroku", "sumo", "okta", "sourcegraph", "messagebird",
    "twilio", "mailgun", "sendgrid", "mailchimp", "hubspot", "discord", "maxmind", "clickhouse",
    "cohere",
];

/// Vendor names: a key naming one of them holds a credential even without `key`/`token`
/// (`SONAR_LOGIN`, `SUMO_ACCESS_ID`, `sourcegraph:`).
#[rustfmt::skip]
const SERVICE_WORDS: &[&str] = &[
    "sonar", "snyk", "heroku", "sumo", "sumologic", "okta", "sourcegraph", "messagebird", "twilio",
    "mailgun", "sendgrid", "mailchimp", "hubspot", "discord", "maxmind", "clickhouse", "cohere",
];

/// Words ending a key name that say the value is a password.
#[rustfmt::skip]
const PASSWORD_WORDS: &[&str] = &[
    "password", "passwords", "passwd", "passphrase", "pass", "pwd", "pw", "pswd", "psw", "pswrd",
    "psswd", "psswrd", "psword", "pssword", "paswd", "paswrd", "pasword", "pword", "passw",
];
/// Words ending in a password stem that are not about passwords.
#[rustfmt::skip]
const PASSWORD_FALSE_FRIENDS: &[&str] = &[
    "compass", "bypass", "surpass", "overpass", "underpass", "trespass", "encompass", "impass",
    "mass", "bass", "lass", "grass", "glass", "class", "brass", "sass", "upw",
];
/// Words ending a key name that say the value is a token, key or secret.
#[rustfmt::skip]
const SECRET_WORDS: &[&str] = &[
    "secret", "secrets", "secrete", "token", "apikey", "key", "auth", "credential", "credentials",
    "creds", "cred", "bearer", "authorization", "authentication", "privatekey", "accesskey",
    "secretkey", "signature", "salt", "nonce",
];
/// Words ending in `key`/`auth`/`token` that are not about credentials.
#[rustfmt::skip]
const SECRET_FALSE_FRIENDS: &[&str] = &[
    "monkey", "turkey", "donkey", "hockey", "jockey", "whiskey", "hotkey", "passkey", "turnkey",
    "keys", "tokens", "author",
];
/// A word right before `key` that makes it a non-secret key (`primary_key`, `cache_key`).
#[rustfmt::skip]
const NON_SECRET_KEY_QUALIFIERS: &[&str] = &[
    "public", "pub", "cache", "sort", "partition", "primary", "foreign", "lookup", "row", "column",
    "map", "dict", "group", "routing", "shard", "object", "file", "idempotency", "translation",
    "i18n", "unique", "composite", "hash", "range", "index", "music", "react", "list", "item",
    "node", "registry", "message", "redis", "event", "field", "cursor", "page", "host", "sign",
    "foreign", "dedup", "dedupe", "partitioning", "hot", "short", "shortcut", "keyboard", "enum",
    "dictionary", "json", "yaml", "config", "setting", "settings", "label", "query", "search",
];
/// A last word of the key name that says the value is metadata about a secret, not the secret
/// (`password_length`, `token_url`, `api_key_id`).
#[rustfmt::skip]
const NON_SECRET_TAILS: &[&str] = &[
    "id", "ids", "uuid", "name", "names", "type", "types", "url", "uri", "urls", "endpoint", "host",
    "hostname", "port", "path", "paths", "file", "filename", "dir", "length", "len", "size",
    "count", "format", "version", "field", "fields", "label", "prefix", "suffix", "header", "hint",
    "policy", "policies", "expiry", "expires", "expiration", "ttl", "timeout", "mode", "enabled",
    "enable", "disabled", "required", "regex", "pattern", "env", "var", "variable", "placeholder",
    "message", "msg", "error", "text", "title", "input", "column", "hash", "hashed", "algorithm",
    "alg", "method", "provider", "source", "location", "store", "manager", "service", "rotation",
    "validity", "strength", "reset", "confirm", "confirmation", "min", "max", "limit", "template",
    "generator", "prompt", "description", "desc", "help", "form", "box", "button", "icon", "link",
    "list", "map", "ref", "reference", "index", "idx", "position", "pos", "offset", "start", "end",
    "class", "kind", "scope", "scopes", "level", "status", "state", "flag", "option", "options",
    "config", "settings", "check", "valid", "validator", "validation", "rule", "rules", "filepath",
    "usage", "count", "counter", "budget", "cost", "price", "rate", "window", "bucket", "expire",
    "expired", "lifetime", "age", "digits", "chars", "policy", "storage", "field", "param",
    "params", "parameter", "arn", "ssm", "vault", "keyvault", "ref", "secretref", "selector",
    "mount", "mounts", "volume", "dialog", "modal", "page", "view", "screen", "route", "handler",
    "callback", "func", "fn", "function", "loader", "reader", "writer", "encoder", "decoder",
    "parser", "response", "request", "req", "res", "result", "results", "event", "events", "log",
    "logs", "table", "schema", "model", "test", "tests", "spec", "example", "sample", "doc", "docs",
    "question", "answer",
];
/// `Authorization:` value schemes; the credential is the word after the scheme.
#[rustfmt::skip]
const AUTH_SCHEMES: &[&str] = &[
    "bearer", "basic", "token", "digest", "ntlm", "negotiate", "api-token", "apikey", "api-key",
    "oauth", "jwt", "key", "sso-key", "hmac", "splunk",
];
/// Exact values (case-insensitive) that are never real secrets.
#[rustfmt::skip]
const PLACEHOLDER_VALUES: &[&str] = &[
    "password", "passwd", "passw0rd", "secret", "token", "null", "none", "nil", "undefined", "true",
    "false", "empty", "required", "optional", "string", "str", "test", "testing", "admin", "root",
    "user", "username", "pass", "pwd", "default", "hidden", "masked", "blank", "notset", "unset",
    "changeit", "value", "apikey", "api_key", "mypassword", "yourpassword", "secretkey",
    "password123", "12345678", "123456", "abc123", "qwerty", "letmein", "localhost",
];
/// Substrings (case-insensitive) marking a placeholder or a reference rather than a value.
#[rustfmt::skip]
const PLACEHOLDER_MARKERS: &[&str] = &[
    "example", "placeholder", "your", "changeme", "change_me", "change-me", "redacted", "dummy",
    "fake", "sample", "todo", "replace", "insert", "here", "xxx", "***", "...", "process.env",
    "environ", "getenv", "env(", "env[", "env.", "secrets.", "%s", "%(", "<%", "lorem", "foobar",
    "not_a", "not-a", "notreal", "not_real", "secret_value", "secretvalue",
];
/// Prefixes marking a template or a shell/ENV reference (`${VAR}`, `{{ .Values.x }}`, `$(cmd)`).
const TEMPLATE_PREFIXES: &[&str] = &["${", "{{", "$(", "$", "<", "{", "[", "%", "@", "("];
/// Assignment operators, longest first.
#[rustfmt::skip]
const OPERATORS: &[&str] = &[
    ":::=", "::=", "===", "!==", ":=", "?=", "=>", "==", "!=", "=", ":",
];
/// Words before a name that make `NAME value` (no operator) an assignment.
const DEFINE_WORDS: &[&str] = &["define", "%define", "%global", "set", "export", "setx"];
/// URL schemes whose credentials are database passwords.
#[rustfmt::skip]
const DB_SCHEMES: &[&str] = &[
    "postgres", "postgresql", "mysql", "mariadb", "mongodb", "mongodb+srv", "redis", "rediss",
    "amqp", "amqps", "mssql", "sqlserver", "oracle", "cassandra", "couchdb", "couchbase",
    "clickhouse", "cockroachdb", "neo4j", "neo4j+s", "bolt", "memcached", "elasticsearch",
    "influxdb", "db2", "snowflake", "jdbc:postgresql", "jdbc:mysql", "jdbc:sqlserver",
    "jdbc:oracle", "jdbc:mariadb", "postgresql+psycopg2", "mysql+pymysql", "dbconnection",
];

/// What a key name says about its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyClass {
    Password,
    Token,
}

fn is_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.'
}

fn eq_any(word: &str, list: &[&str]) -> bool {
    list.iter().any(|w| w.eq_ignore_ascii_case(word))
}

fn ends_with_ci(word: &str, suffix: &str) -> bool {
    word.len() >= suffix.len()
        && word.as_bytes()[word.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

/// Split an identifier into words at `_`, `-`, `.` and lower→upper case changes, calling `f`
/// with each word; stops early when `f` returns false.
fn for_each_word<'a>(name: &'a str, mut f: impl FnMut(&'a str) -> bool) {
    let b = name.as_bytes();
    let mut start = 0;
    for i in 0..=b.len() {
        let split = match (b.get(i), i.checked_sub(1).and_then(|j| b.get(j))) {
            (None, _) => true,
            (Some(b'_' | b'-' | b'.'), _) => true,
            (Some(c), Some(p)) => c.is_ascii_uppercase() && p.is_ascii_lowercase(),
            (Some(_), None) => false,
        };
        if split {
            if let Some(w) = name.get(start..i) {
                if !w.is_empty() && !f(w) {
                    return;
                }
            }
            start = if matches!(b.get(i), Some(b'_' | b'-' | b'.')) {
                i + 1
            } else {
                i
            };
        }
    }
}

fn word_class(word: &str, prev: Option<&str>) -> Option<KeyClass> {
    // numbered names: password2, token_1 → the stem decides
    let word = word.trim_end_matches(|c: char| c.is_ascii_digit());
    if word.len() > 32 || word.is_empty() {
        return None;
    }
    if PASSWORD_WORDS.iter().any(|s| ends_with_ci(word, s)) && !eq_any(word, PASSWORD_FALSE_FRIENDS)
    {
        return Some(KeyClass::Password);
    }
    if SECRET_WORDS.iter().any(|s| ends_with_ci(word, s)) && !eq_any(word, SECRET_FALSE_FRIENDS) {
        let keyish = ends_with_ci(word, "key");
        if keyish && word.len() == 3 && prev.is_some_and(|p| eq_any(p, NON_SECRET_KEY_QUALIFIERS)) {
            return None;
        }
        return Some(KeyClass::Token);
    }
    if eq_any(word, SERVICE_WORDS) {
        return Some(KeyClass::Token);
    }
    None
}

/// Classify a key name: `None` if it does not name a secret.
fn classify_name(name: &str) -> Option<KeyClass> {
    let mut class: Option<KeyClass> = None;
    let mut prev: Option<&str> = None;
    let mut last = "";
    let mut words = 0;
    for_each_word(name, |w| {
        words += 1;
        match (word_class(w, prev), class) {
            (Some(KeyClass::Password), _) => class = Some(KeyClass::Password),
            (Some(KeyClass::Token), None) => class = Some(KeyClass::Token),
            _ => {}
        }
        prev = Some(w);
        last = w;
        words < MAX_NAME_WORDS
    });
    let service = SERVICE_WORDS.iter().any(|s| {
        name.as_bytes()
            .windows(s.len())
            .any(|w| w.eq_ignore_ascii_case(s.as_bytes()))
    });
    if service {
        return Some(class.unwrap_or(KeyClass::Token));
    }
    let class = class?;
    if eq_any(last, NON_SECRET_TAILS) && word_class(last, None).is_none() {
        return None;
    }
    Some(class)
}

fn has_special(v: &str) -> bool {
    v.bytes()
        .any(|c| !c.is_ascii_alphanumeric() && !matches!(c, b'_' | b'-' | b'.'))
}

fn looks_like_placeholder_value(v: &str) -> bool {
    if eq_any(v, PLACEHOLDER_VALUES) || is_placeholder_token(v) {
        return true;
    }
    let lower_has = |m: &str| {
        v.as_bytes()
            .windows(m.len())
            .any(|w| w.eq_ignore_ascii_case(m.as_bytes()))
    };
    if PLACEHOLDER_MARKERS.iter().any(|m| lower_has(m)) {
        return true;
    }
    TEMPLATE_PREFIXES.iter().any(|p| v.starts_with(p)) || v.ends_with('>')
}

/// Identifier-like values: constants (`YOUR_KEY`), dotted references (`self.password`,
/// `config.db.pass`), lowercase words joined by `_` (`real_secret`), type names.
fn looks_like_reference(v: &str) -> bool {
    let b = v.as_bytes();
    if !b
        .iter()
        .all(|&c| c.is_ascii_alphabetic() || c == b'_' || c == b'.' || c == b'-')
    {
        return false;
    }
    let upper = b.iter().any(u8::is_ascii_uppercase);
    let lower = b.iter().any(u8::is_ascii_lowercase);
    // letters only with `_`/`.`/`-` and a single case, or a dotted path
    !(upper && lower) || v.contains('.') || v.contains('_')
}

fn looks_like_path_or_url(v: &str) -> bool {
    v.contains("://")
        || v.starts_with('/') && v.bytes().filter(|&c| c == b'/').count() > 1 && !v.contains('+')
        || v.starts_with("./")
        || v.starts_with("~/")
        || v.starts_with("\\\\")
        || v.as_bytes().get(1..3) == Some(b":\\")
}

/// Letters only, but with case changes too frequent for words (`KiASRCRiGFLPDiId`).
fn random_case(v: &str) -> bool {
    let upper = v.bytes().filter(u8::is_ascii_uppercase).count();
    let lower = v.bytes().filter(u8::is_ascii_lowercase).count();
    v.len() >= MIN_RANDOM_CASE_LEN && upper * 10 >= v.len() * 3 && lower * 10 >= v.len() * 2
}

/// A quoted multi-word passphrase (`"correct horse battery staple"`): a few short words, no
/// sentence punctuation.
fn passphrase_ok(v: &str) -> bool {
    let words = v.split_whitespace().count();
    (2..=MAX_PASSPHRASE_WORDS).contains(&words)
        && v.len() <= MAX_PASSPHRASE_LEN
        && v.len() >= MIN_PASSWORD_LEN * 2
        && !v.ends_with(['.', '?', '!'])
        && !v.starts_with(|c: char| c.is_ascii_uppercase())
        && !looks_like_placeholder_value(v)
        && !v.split_whitespace().any(|w| eq_any(w, PROSE_WORDS))
}

/// Gate for values under password-like keys.
fn password_ok(v: &str) -> bool {
    if v.len() < MIN_PASSWORD_LEN || v.len() > MAX_PASSWORD_LEN {
        return false;
    }
    let letter = v.chars().any(char::is_alphabetic);
    let digit = v.bytes().any(|c| c.is_ascii_digit());
    letter
        && (digit || has_special(v) || random_case(v))
        && shannon_entropy(v) >= MIN_PASSWORD_ENTROPY
        && !looks_like_placeholder_value(v)
        && !looks_like_path_or_url(v)
}

/// Gate for values under token-like keys: longer, more random.
fn token_ok(v: &str, threshold: f32) -> bool {
    if v.len() < MIN_TOKEN_LEN || v.len() > MAX_VALUE_LEN {
        return false;
    }
    let b = v.as_bytes();
    let digit = b.iter().any(u8::is_ascii_digit);
    let upper = b.iter().filter(|c| c.is_ascii_uppercase()).count();
    let lower = b.iter().filter(|c| c.is_ascii_lowercase()).count();
    if upper + lower == 0 {
        return false;
    }
    if lower == 0 && is_product_key(v) {
        return !looks_like_placeholder_value(v);
    }
    let random_letters = upper > 0
        && lower > 0
        && v.len() >= MIN_LETTERS_ONLY_TOKEN_LEN
        && upper * 4 >= upper + lower;
    let symbols = b
        .iter()
        .filter(|&&c| c.is_ascii_punctuation() && !matches!(c, b'_' | b'-' | b'.'))
        .count();
    let symbol_rich = symbols >= MIN_TOKEN_SYMBOLS;
    if !(digit || random_letters || symbol_rich || has_special(v) && upper > 0 && lower > 0) {
        return false;
    }
    let need = threshold.min(ENTROPY_LEN_FACTOR * (v.len() as f32).log2());
    shannon_entropy(v) >= need
        && !looks_like_placeholder_value(v)
        && !looks_like_reference(v)
        && !looks_like_path_or_url(v)
}

/// A licence/product key: 4+ dash-separated groups of 4–6 upper-case letters and digits.
fn is_product_key(v: &str) -> bool {
    let mut groups = 0;
    for g in v.split('-') {
        if !(PRODUCT_KEY_GROUP_MIN..=PRODUCT_KEY_GROUP_MAX).contains(&g.len())
            || !g
                .bytes()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            return false;
        }
        groups += 1;
    }
    groups >= PRODUCT_KEY_MIN_GROUPS
        && super::checks::distinct_bytes(v) >= MIN_CREDENTIAL_DISTINCT * 2
}

/// `Authorization: Basic <base64(user:password)>`: decodes, and rejects placeholder passwords.
fn basic_credentials_ok(v: &str) -> bool {
    if v.len() < MIN_TOKEN_LEN || looks_like_placeholder_value(v) {
        return false;
    }
    let mut buf = [0u8; MAX_BASIC_DECODED];
    let n = super::checks::base64_decode_prefix(v, &mut buf);
    let Ok(dec) = std::str::from_utf8(&buf[..n]) else {
        return true;
    };
    match dec.split_once(':') {
        Some((_, pw)) => pw.is_empty() || pw.len() >= 3 && !looks_like_placeholder_value(pw),
        None => true,
    }
}

/// Gate for credentials in strong syntactic context (`curl -u`, `IDENTIFIED BY`).
pub(super) fn credential_ok(v: &str) -> bool {
    v.len() >= MIN_CREDENTIAL_LEN
        && v.len() <= MAX_VALUE_LEN
        && super::checks::distinct_bytes(v) >= MIN_CREDENTIAL_DISTINCT
        && shannon_entropy(v) >= MIN_CREDENTIAL_ENTROPY
        && !looks_like_placeholder_value(v)
        && !v.contains("${")
        && !v.contains("$(")
        && !v.starts_with('$')
        && !v.bytes().any(|c| c.is_ascii_whitespace())
}

/// State kept across keyword hits of one scan: keyword hits inside a name already examined are
/// skipped (`client_secret_key` has three).
#[derive(Default)]
pub(super) struct KeywordState {
    examined_until: usize,
}

/// The value after an operator: where it is and whether it was quoted.
struct Value {
    start: usize,
    end: usize,
    quoted: bool,
}

/// Bytes that end an unquoted value.
fn ends_unquoted(c: u8) -> bool {
    c.is_ascii_whitespace()
        || matches!(
            c,
            b',' | b';' | b'"' | b'\'' | b'`' | b'<' | b'&' | b'|' | b'\\'
        )
}

/// Closing brackets and punctuation stripped from the end of an unquoted value
/// (`(pw:hunter2!)`, `{key: value}`, end of sentence).
fn trailing_junk(c: u8) -> bool {
    matches!(c, b')' | b']' | b'}' | b'>' | b'.' | b':')
}

/// Read a value starting at `p` (after the operator and spaces).
///
/// Keyword hits inside a long stretch already read here (more than [`MAX_REEXAMINE`] bytes) are
/// not examined again (`scanned` is raised past it), which keeps inputs such as
/// `password=password=…` linear; short values are re-examined, since they may hold a nested
/// assignment (`authorization: oauth_signature="…"`).
fn read_value(text: &str, p: usize, scanned: &mut usize) -> Option<Value> {
    let mut reached = p;
    let v = read_value_at(text, p, &mut reached);
    if reached - p > MAX_REEXAMINE {
        *scanned = (*scanned).max(reached);
    }
    v
}

/// [`read_value`] proper; `reached` is raised to the furthest byte examined.
fn read_value_at(text: &str, mut p: usize, scanned: &mut usize) -> Option<Value> {
    let b = text.as_bytes();
    // C#/Python string prefixes: @"…", b"…", u'…', r"…"
    if matches!(b.get(p), Some(b'@' | b'b' | b'u' | b'r'))
        && matches!(b.get(p + 1), Some(b'"' | b'\''))
    {
        p += 1;
    }
    let (close, open_len): (&[u8], usize) = match (b.get(p), b.get(p + 1)) {
        (Some(b'\\'), Some(b'"')) => (b"\\\"", 2),
        (Some(b'"'), _) => (b"\"", 1),
        (Some(b'\''), _) => (b"'", 1),
        (Some(b'`'), _) => (b"`", 1),
        (Some(b'&'), _) if text.get(p..p + 6) == Some("&quot;") => (b"&quot;", 6),
        _ if text.get(p..).is_some_and(|r| r.starts_with('\u{201c}')) => ("\u{201d}".as_bytes(), 3),
        _ if text.get(p..).is_some_and(|r| r.starts_with('\u{2018}')) => ("\u{2019}".as_bytes(), 3),
        _ => (b"", 0),
    };
    if open_len > 0 {
        let mut start = p + open_len;
        // Python triple quotes
        while close.len() == 1 && b.get(start) == close.first() && start - p < 3 {
            start += 1;
        }
        let limit = (start + MAX_VALUE_LEN + close.len()).min(b.len());
        let mut i = start;
        while i < limit {
            if b[i] == b'\n' || b[i] == b'\r' {
                break;
            }
            if b[i..].starts_with(close) {
                return Some(Value {
                    start,
                    end: i,
                    quoted: true,
                });
            }
            i += 1;
        }
        *scanned = (*scanned).max(i);
        // unterminated (line break, end of text): the value is the run up to a delimiter
        let mut e = start;
        while e < b.len() && e - start <= MAX_VALUE_LEN && !ends_unquoted(b[e]) {
            e += 1;
        }
        return (e > start && e - start <= MAX_VALUE_LEN).then_some(Value {
            start,
            end: e,
            quoted: false,
        });
    }
    let start = p;
    let mut i = p;
    let mut ident = true;
    while i < b.len() && i - start <= MAX_VALUE_LEN && !ends_unquoted(b[i]) {
        if (b[i] == b'(' || b[i] == b'[') && ident {
            return None; // a call or an index expression (`getenv(…)`, `os.environ[…]`)
        }
        ident &= b[i].is_ascii_alphanumeric() || matches!(b[i], b'_' | b'.' | b'$' | b':');
        i += 1;
    }
    *scanned = (*scanned).max(i);
    if i - start > MAX_VALUE_LEN {
        return None;
    }
    while i > start && trailing_junk(b[i - 1]) {
        // keep a closing bracket that closes one opened inside the value: `x(y)` stays whole
        let opener = match b[i - 1] {
            b')' => Some(b'('),
            b']' => Some(b'['),
            b'}' => Some(b'{'),
            b'>' => Some(b'<'),
            _ => None,
        };
        if let Some(o) = opener {
            let inner = &b[start..i];
            let opens = inner.iter().filter(|&&c| c == o).count();
            let closes = inner.iter().filter(|&&c| c == b[i - 1]).count();
            if opens >= closes {
                break;
            }
        }
        i -= 1;
    }
    (i > start).then_some(Value {
        start,
        end: i,
        quoted: false,
    })
}

/// Skip an `Authorization` scheme word (`Bearer `, `Basic `) at `p`; returns the new position
/// and the scheme, if any.
fn skip_auth_scheme(text: &str, p: usize) -> (usize, Option<&'static str>) {
    let b = text.as_bytes();
    for s in AUTH_SCHEMES {
        let end = p + s.len();
        if b.get(p..end)
            .is_some_and(|w| w.eq_ignore_ascii_case(s.as_bytes()))
            && matches!(b.get(end), Some(b' ' | b'\t'))
        {
            let mut q = end;
            while matches!(b.get(q), Some(b' ' | b'\t')) {
                q += 1;
            }
            return (q, Some(s));
        }
    }
    (p, None)
}

/// Examine the name around a keyword hit at `[kw_start, kw_end)` and, if it is assigned a
/// credential-looking value, report the value.
#[inline(never)]
pub(super) fn keyword_assignment(
    text: &str,
    kw_start: usize,
    kw_end: usize,
    threshold: f32,
    state: &mut KeywordState,
    out: &mut Vec<Match>,
) {
    if kw_start < state.examined_until {
        return;
    }
    let b = text.as_bytes();
    let mut a = kw_start;
    while a > 0 && kw_start - a < MAX_NAME_EXTENT && is_name_byte(b[a - 1]) {
        a -= 1;
    }
    let mut z = kw_end;
    while z < b.len() && z - kw_end < MAX_NAME_EXTENT && is_name_byte(b[z]) {
        z += 1;
    }
    state.examined_until = z;
    let flag = b.get(a) == Some(&b'-');
    while a < z && matches!(b[a], b'-' | b'.' | b'_') {
        a += 1;
    }
    while z > a && matches!(b[z - 1], b'-' | b'.') {
        z -= 1;
    }
    let Some(name) = text.get(a..z) else { return };
    let Some(class) = classify_name(name) else {
        return;
    };
    let found = find_assigned_value(text, a, z, flag, name, &mut state.examined_until)
        .or_else(|| reverse_comparison(text, a));
    let Some((value, scheme)) = found else { return };
    let Some(v) = text.get(value.start..value.end) else {
        return;
    };
    if v.bytes().any(|c| c.is_ascii_whitespace()) {
        // only a quoted passphrase may contain spaces; "Bearer x" was split by the scheme skip
        if !(value.quoted && scheme.is_none() && class == KeyClass::Password && passphrase_ok(v)) {
            return;
        }
        out.push(Match::new(
            "password",
            value.start,
            value.end,
            SCORE_PASSWORD,
        ));
        return;
    }
    if text
        .get(value.end..)
        .is_some_and(|r| r.starts_with("...") || r.starts_with('\u{2026}'))
    {
        return; // elided in documentation: `sk-abc...`
    }
    let authorization = eq_any(name, &["authorization", "proxy-authorization", "auth"]);
    let (kind, score) = if let Some(s) = scheme {
        if s == "basic" {
            if !basic_credentials_ok(v) {
                return;
            }
        } else if !token_ok(v, threshold) {
            return;
        }
        (
            if s == "basic" {
                "basic_auth"
            } else {
                "bearer_token"
            },
            SCORE_AUTH_HEADER,
        )
    } else if class == KeyClass::Password {
        if !password_ok(v) {
            return;
        }
        ("password", SCORE_PASSWORD)
    } else {
        if !token_ok(v, threshold) {
            return;
        }
        let lower = name.to_ascii_lowercase();
        if lower.contains("aws") && lower.contains("secret") && is_aws_secret_shape(v) {
            ("aws_secret_key", SCORE_URL)
        } else if authorization {
            ("bearer_token", SCORE_AUTH_HEADER)
        } else if shannon_entropy(v) >= threshold + 1.0 {
            ("generic_secret", SCORE_HIGH_ENTROPY)
        } else {
            ("generic_secret", SCORE_GENERIC)
        }
    };
    out.push(Match::new(kind, value.start, value.end, score));
}

fn is_aws_secret_shape(v: &str) -> bool {
    v.len() == 40
        && v.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'/' || c == b'+')
}

fn skip_blanks(b: &[u8], mut p: usize) -> usize {
    let start = p;
    while p < b.len() && p - start < MAX_GAP && matches!(b[p], b' ' | b'\t') {
        p += 1;
    }
    p
}

fn operator_at(text: &str, p: usize) -> Option<&'static str> {
    let rest = text.get(p..)?;
    OPERATORS.iter().copied().find(|op| rest.starts_with(op))
}

/// True if the word before the name (same line) is `#define`, `SET`, `export`, ….
fn after_define_word(text: &str, a: usize) -> bool {
    let b = text.as_bytes();
    let mut e = a;
    while e > 0 && matches!(b[e - 1], b' ' | b'\t') {
        e -= 1;
    }
    if e == a {
        return false;
    }
    let mut s = e;
    while s > 0 && e - s < 10 && (b[s - 1].is_ascii_alphabetic() || matches!(b[s - 1], b'%' | b'#'))
    {
        s -= 1;
    }
    let word = text.get(s..e).unwrap_or("").trim_start_matches('#');
    eq_any(word, DEFINE_WORDS)
}

/// After a key name `[a, z)`, find the operator and the value.
fn find_assigned_value(
    text: &str,
    a: usize,
    z: usize,
    flag: bool,
    name: &str,
    scanned: &mut usize,
) -> Option<(Value, Option<&'static str>)> {
    let b = text.as_bytes();
    // XML element: <Password>value</Password>
    if a > 0 && b[a - 1] == b'<' && b.get(z) == Some(&b'>') {
        let s = z + 1;
        let mut e = s;
        while e < b.len() && e - s <= MAX_VALUE_LEN && b[e] != b'<' && b[e] != b'\n' {
            e += 1;
        }
        return (b.get(e) == Some(&b'<') && e > s).then_some((
            Value {
                start: s,
                end: e,
                quoted: true,
            },
            None,
        ));
    }
    let mut p = z;
    // closing quote/bracket of the key: "password": / ['password'] = / Key(Secret): / secret[] =
    let mut skipped = 0;
    while skipped < 3 && matches!(b.get(p), Some(b'"' | b'\'' | b'`' | b')' | b']' | b'\\')) {
        p += 1;
        skipped += 1;
    }
    let key_quoted = skipped > 0 && matches!(b.get(z), Some(b'"' | b'\'' | b'`' | b'\\'));
    if b.get(p) == Some(&b'[') {
        let mut q = p + 1;
        while q < b.len() && q - p < 6 && b[q].is_ascii_digit() {
            q += 1;
        }
        if b.get(q) == Some(&b']') {
            p = q + 1;
        }
    }
    let gap_start = p;
    p = skip_blanks(b, p);
    let spaced = p > gap_start;
    let upper_key = name.bytes().all(|c| !c.is_ascii_lowercase());
    let mut op = operator_at(text, p);
    if op.is_none() && b.get(p) == Some(&b',') && (key_quoted || upper_key) {
        op = Some(","); // getenv("API_TOKEN", "default") / define('PASSWORD', '…') / OPT_PASSWORD, "…"
    }
    if op.is_none()
        && !spaced
        && b.get(p) == Some(&b'(')
        && matches!(b.get(p + 1), Some(b'"' | b'\''))
    {
        op = Some("("); // constructor with a literal: `std::string secret("…")`
    }
    if op.is_none()
        && !spaced
        && text
            .get(p..p + 3)
            .is_some_and(|o| o.eq_ignore_ascii_case("%3D"))
    {
        op = Some("%3D");
    }
    let mut prose_is = false;
    match op {
        Some(o) => p += o.len(),
        None => {
            if matches!(b.get(p), Some(b':' | b'=' | b'!' | b'?' | b'>' | b'(')) || !spaced {
                return None;
            }
            if text.get(p..p + 3) == Some("is ") {
                prose_is = true;
                p += 3;
            }
        }
    }
    p = skip_blanks(b, p);
    if p >= b.len() {
        return None;
    }
    let (p, scheme) = if op.is_some() || prose_is {
        skip_auth_scheme(text, p)
    } else {
        (p, None)
    };
    let mut value = read_value(text, p, scanned)?;
    let assigned = op.is_some() || prose_is || value.quoted;
    if !(assigned || flag || upper_key || after_define_word(text, a)) {
        // `--password hunter2`, SQL `PASSWORD hunter2`, `#define token …` only
        return None;
    }
    if !value.quoted && matches!(op, Some(":")) {
        // a type annotation: `password: String = "…"`, `passwd: str = "…"`
        let ty = text.get(value.start..value.end).unwrap_or("");
        let q = skip_blanks(b, value.end);
        if ty.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
            && b.get(q) == Some(&b'=')
            && b.get(q + 1) != Some(&b'=')
        {
            value = read_value(text, skip_blanks(b, q + 1), scanned)?;
        }
    }
    if op == Some("%3D") {
        // URL-encoded query: `token%3Dabc%26next` — the value ends at the next escape
        let v = text.get(value.start..value.end).unwrap_or("");
        value.end = value.start + v.find('%').unwrap_or(v.len());
    }
    Some((value, scheme))
}

/// `"value" == password` / `"value" !== secret`: a string literal compared with the name at `a`.
fn reverse_comparison(text: &str, a: usize) -> Option<(Value, Option<&'static str>)> {
    let b = text.as_bytes();
    let mut p = a;
    while p > 0 && a - p < MAX_GAP && matches!(b[p - 1], b' ' | b'\t') {
        p -= 1;
    }
    let op_end = p;
    while p > 0 && op_end - p < 3 && matches!(b[p - 1], b'=' | b'!') {
        p -= 1;
    }
    if !matches!(text.get(p..op_end), Some("==" | "===" | "!=" | "!==")) {
        return None;
    }
    while p > 0 && op_end - p < 3 + MAX_GAP && matches!(b[p - 1], b' ' | b'\t') {
        p -= 1;
    }
    let q = *b.get(p.checked_sub(1)?)?;
    if !matches!(q, b'"' | b'\'') {
        return None;
    }
    let end = p - 1;
    let mut s = end;
    while s > 0 && end - s < MAX_VALUE_LEN {
        if b[s - 1] == q {
            return (s < end).then_some((
                Value {
                    start: s,
                    end,
                    quoted: true,
                },
                None,
            ));
        }
        if b[s - 1] == b'\n' {
            return None;
        }
        s -= 1;
    }
    None
}

/// `scheme://user:password@host`: report the password.
#[inline(never)]
pub(super) fn url_credentials(text: &str, sep: usize, out: &mut Vec<Match>) {
    let b = text.as_bytes();
    // scheme: letters, digits, `+`, `.`, `-`, `:` (jdbc:mysql) before `://`
    let mut s = sep;
    while s > 0
        && sep - s < 32
        && (b[s - 1].is_ascii_alphanumeric() || matches!(b[s - 1], b'+' | b'.' | b'-' | b':'))
    {
        s -= 1;
    }
    let scheme = text.get(s..sep).unwrap_or("");
    if scheme.is_empty() {
        return;
    }
    let auth_start = sep + 3;
    let mut i = auth_start;
    let mut at = None;
    while i < b.len() && i - auth_start < MAX_VALUE_LEN {
        let c = b[i];
        if c.is_ascii_whitespace()
            || matches!(
                c,
                b'/' | b'?'
                    | b'#'
                    | b'"'
                    | b'\''
                    | b'<'
                    | b'>'
                    | b'`'
                    | b'\\'
                    | b'('
                    | b')'
                    | b'['
                    | b']'
                    | b'{'
                    | b'}'
                    | b','
                    | b';'
            )
        {
            break;
        }
        if c == b'@' {
            at = Some(i);
        }
        i += 1;
    }
    let Some(at) = at else { return };
    // host after '@' must start like a host
    if !b.get(at + 1).is_some_and(|c| c.is_ascii_alphanumeric()) {
        return;
    }
    let Some(userinfo) = text.get(auth_start..at) else {
        return;
    };
    let Some(colon) = userinfo.find(':') else {
        return;
    };
    let pw_start = auth_start + colon + 1;
    let Some(pw) = text.get(pw_start..at) else {
        return;
    };
    if pw.len() < 3 || looks_like_placeholder_value(pw) || pw.bytes().all(|c| c.is_ascii_digit()) {
        return;
    }
    let user = userinfo.get(..colon).unwrap_or("");
    if user.starts_with(['$', '<', '{', '%']) {
        return;
    }
    let lower = scheme.to_ascii_lowercase();
    let kind = if DB_SCHEMES
        .iter()
        .any(|d| lower == *d || lower.ends_with(&format!(":{d}")))
    {
        "database_url_password"
    } else {
        "url_credentials"
    };
    out.push(Match::new(kind, pw_start, at, SCORE_URL));
}

/// Read one shell argument at `p` (after spaces): returns its span without surrounding quotes.
fn shell_arg(text: &str, p: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let mut p = p;
    let gap = p;
    while p < b.len() && p - gap < MAX_ARG_GAP && matches!(b[p], b' ' | b'\t' | b'=') {
        p += 1;
    }
    let mut i = p;
    let mut quote: Option<u8> = None;
    while i < b.len() && i - p < MAX_VALUE_LEN {
        let c = b[i];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == b'"' || c == b'\'' => quote = Some(c),
            None if c.is_ascii_whitespace() => break,
            None => {}
        }
        if c == b'\n' {
            break;
        }
        i += 1;
    }
    (i > p).then_some((p, i))
}

fn trim_quotes(text: &str, mut s: usize, mut e: usize) -> (usize, usize) {
    let b = text.as_bytes();
    while s < e && matches!(b[s], b'"' | b'\'' | b'{' | b'(') {
        s += 1;
    }
    while e > s && matches!(b[e - 1], b'"' | b'\'' | b'}' | b')' | b';') {
        e -= 1;
    }
    (s, e)
}

/// `curl -u user:pass` / `--user user:pass`: report the password.
#[inline(never)]
pub(super) fn cli_user(text: &str, anchor_end: usize, out: &mut Vec<Match>) {
    let Some((s, e)) = shell_arg(text, anchor_end) else {
        return;
    };
    let Some(arg) = text.get(s..e) else { return };
    let Some(colon) = arg.find(':') else { return };
    let (mut ps, mut pe) = trim_quotes(text, s + colon + 1, e);
    if ps == pe {
        // `-u "secret:"`: a token passed as the user name
        (ps, pe) = trim_quotes(text, s, s + colon);
        if !text.get(ps..pe).is_some_and(password_shape) {
            return;
        }
    }
    let Some(pw) = text.get(ps..pe) else { return };
    if credential_ok(pw) && !pw.starts_with("//") {
        out.push(Match::new("basic_auth", ps, pe, SCORE_CLI));
    }
}

/// SQL `IDENTIFIED BY 'x'`, PowerShell `ConvertTo-SecureString 'x'`: the next argument that is
/// not a `-Flag` is a password.
#[inline(never)]
pub(super) fn cli_password(text: &str, anchor_end: usize, out: &mut Vec<Match>) {
    let mut p = anchor_end;
    for _ in 0..4 {
        let Some((s, e)) = shell_arg(text, p) else {
            return;
        };
        let (ts, te) = trim_quotes(text, s, e);
        let Some(arg) = text.get(ts..te) else { return };
        let unescaped = arg.trim_end_matches('\\');
        if arg.starts_with('-') && !arg.contains(['!', '@', '#', '$']) {
            p = e;
            continue;
        }
        if eq_any(arg, &["password", "with", "by", "as"]) || ends_with_ci(arg, "_password") {
            p = e;
            continue;
        }
        if credential_ok(unescaped) && password_shape(unescaped) {
            out.push(Match::new("password", ts, ts + unescaped.len(), SCORE_CLI));
        }
        return;
    }
}

/// Commands whose password flag is known: the command (an anchor, followed by a space), the
/// flags that take the password as the next argument (or after `=`), and the flags that take it
/// glued on (`mysql -pSECRET`; a bare `mysql -p` prompts, and its next argument is a database).
pub(super) const CLI_FLAG_COMMANDS: &[(&str, &[&str], &[&str])] = &[
    ("sshpass", &["-p"], &["-p"]),
    ("docker login", &["-p", "--password"], &[]),
    ("podman login", &["-p", "--password"], &[]),
    ("nerdctl login", &["-p", "--password"], &[]),
    ("helm registry login", &["-p", "--password"], &[]),
    ("oras login", &["-p", "--password"], &[]),
    ("redis-cli", &["-a", "--pass"], &[]),
    ("mysql", &["--password"], &["-p"]),
    ("mysqldump", &["--password"], &["-p"]),
    ("mysqladmin", &["--password"], &["-p"]),
    ("mariadb", &["--password"], &["-p"]),
];

/// Arguments of one command read after its name.
const MAX_CLI_ARGS: usize = 24;

/// `sshpass -p x`, `docker login -u u -p x`, `redis-cli -a x`, `mysql -u root -px`: the value of
/// the command's password flag ([`CLI_FLAG_COMMANDS`]`[command]`), read among the arguments
/// after the command's name on the same line. Returns where the reading stopped: a command name
/// before it was read as an argument here, and is not read again (`mysql mysql mysql …` costs
/// one walk).
#[inline(never)]
pub(super) fn cli_flag_password(
    text: &str,
    command: usize,
    anchor_end: usize,
    out: &mut Vec<Match>,
) -> usize {
    let Some(&(_, separate, glued)) = CLI_FLAG_COMMANDS.get(command) else {
        return anchor_end;
    };
    let mut p = anchor_end;
    for _ in 0..MAX_CLI_ARGS {
        let Some((s, e)) = shell_arg(text, p) else {
            return p;
        };
        p = e;
        let Some(arg) = text.get(s..e) else { return p };
        if matches!(arg, "|" | "||" | "&&" | ";" | "&") {
            return p; // the next command
        }
        // (`--password=x` is one argument, read by the keyword heuristics)
        let value = if separate.contains(&arg) {
            shell_arg(text, e)
        } else {
            glued
                .iter()
                .find(|f| arg.len() > f.len() && arg.starts_with(**f))
                .map(|flag| (s + flag.len(), e))
        };
        if let Some((vs, ve)) = value {
            let (ts, te) = trim_quotes(text, vs, ve);
            if let Some(pw) = text.get(ts..te) {
                if credential_ok(pw) && password_shape(pw) {
                    out.push(Match::new("password", ts, te, SCORE_CLI));
                }
            }
            return ve;
        }
    }
    p
}

pub(super) fn password_shape(v: &str) -> bool {
    v.bytes().any(|c| c.is_ascii_alphabetic())
        && (v.bytes().any(|c| c.is_ascii_digit()) || has_special(v))
}

/// A JSON Web Key with private members: from `"kty"`, report the private parameter values
/// (`"d"`, `"p"`, `"q"`, `"dp"`, `"dq"`, `"qi"`, symmetric `"k"`).
/// Returns the end of the region searched, so later `"kty"` hits inside it can be skipped.
#[inline(never)]
pub(super) fn jwk_private(
    text: &str,
    start: usize,
    re: &regex::Regex,
    out: &mut Vec<Match>,
) -> usize {
    let end = floor_boundary(text, start + MAX_JWK_BYTES);
    let Some(region) = text.get(start..end) else {
        return end;
    };
    for caps in re.captures_iter(region) {
        if let Some(m) = caps.get(1) {
            if !is_placeholder_token(m.as_str()) {
                out.push(Match::new(
                    "private_key",
                    start + m.start(),
                    start + m.end(),
                    SCORE_JWK,
                ));
            }
        }
    }
    end
}

/// A PEM private-key block from `-----BEGIN` at `start` to its `-----END …-----` line, or to the
/// end of the text when the END line is missing.
#[inline(never)]
pub(super) fn pem_block(
    text: &str,
    start: usize,
    begin: &regex::Regex,
    end_re: &regex::Regex,
    out: &mut Vec<Match>,
) -> Option<usize> {
    let head = text.get(start..floor_boundary(text, start + MAX_PEM_HEADER))?;
    let m = begin.find(head)?;
    let body_start = start + m.end();
    let search_end = floor_boundary(text, body_start + MAX_PEM_BYTES);
    let region = text.get(body_start..search_end)?;
    let (body_end, end) = match end_re.find(region) {
        Some(e) => (body_start + e.start(), body_start + e.end()),
        None => (text.len(), text.len()),
    };
    let body = text.get(body_start..body_end).unwrap_or("");
    let non_ws = body
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'\\' && *c != b'"')
        .take(MIN_PEM_BODY)
        .count();
    if non_ws < MIN_PEM_BODY {
        return None;
    }
    out.push(Match::new("private_key", start, end, SCORE_PEM));
    Some(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_class(n: &str) -> Option<KeyClass> {
        classify_name(n)
    }

    #[test]
    fn names() {
        let cases: &[(&str, Option<KeyClass>)] = &[
            ("password", Some(KeyClass::Password)),
            ("DB_PASS", Some(KeyClass::Password)),
            ("userPwd", Some(KeyClass::Password)),
            ("X3_PSWD", Some(KeyClass::Password)),
            ("AwsSecretKey", Some(KeyClass::Token)),
            ("client-secret", Some(KeyClass::Token)),
            ("api_key", Some(KeyClass::Token)),
            ("SONAR_LOGIN", Some(KeyClass::Token)),
            ("primary_key", None),
            ("password_length", None),
            ("token_url", None),
            ("compass", None),
            ("keyboard", None),
            ("monkey", None),
            ("api_key_id", None),
            ("author", None),
        ];
        for (n, want) in cases {
            assert_eq!(name_class(n), *want, "{n}");
        }
    }

    #[test]
    fn gates() {
        assert!(password_ok("Tr0ub4dor&3"));
        assert!(password_ok("quokka!"));
        assert!(!password_ok("changeme"));
        assert!(!password_ok("${DB_PASSWORD}"));
        assert!(!password_ok("hunter"));
        assert!(token_ok("Qm9hdH7xLk2pWz8rTn4v", 3.0));
        assert!(!token_ok("real_secret", 3.0));
        assert!(!token_ok("getPagesInConfluenceSpace", 3.0));
        assert!(!token_ok("your_api_key_here", 3.0));
        assert!(!token_ok("self.api_key", 3.0));
    }
}
