//! Vendor-context rules: credentials without a literal prefix, recognised by the vendor's name
//! right before a value of the vendor's exact shape.
//!
//! Many services issue keys that are only a run of hex or base62 characters (Datadog's 32 hex
//! API keys, Twitch's 30-character client secrets, Splunk's UUID tokens). Without a prefix the
//! only evidence is context: the vendor is named in the key of an assignment
//! (`DATADOG_APP = "…"`, `"pagerduty": "…"`, `asanaSecret: …`) or in the sentence that hands the
//! value over (`my heroku token is …`). Each rule here names the vendor's words and the
//! documented shapes of its credentials; a value is reported only if it has one of those shapes
//! exactly (a longer or shorter run is not it) and looks random (not a placeholder, digits or
//! mixed case, enough entropy). A name that merely contains a secret word (`api_key`, `token`)
//! is [`super::generic`]'s business whatever the vendor; this table adds the vendor's kind and
//! reaches keys named after the vendor alone.
//!
//! Shapes were written from the vendors' API documentation and cross-checked against the
//! semi-generic rules of gitleaks (MIT licence, <https://github.com/gitleaks/gitleaks>); no test
//! data was taken from it.

use std::fmt::Write as _;

/// Characters of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Alphabet {
    /// `[0-9a-f]`
    Hex,
    /// `[0-9a-z]`
    LowerAlnum,
    /// `[0-9A-Z]`
    UpperAlnum,
    /// `[0-9A-Za-z]`
    Alnum,
    /// `[0-9A-Za-z_-]`
    Base64Url,
    /// `[0-9A-Za-z+/]` and trailing `=` padding
    Base64,
    /// `[a-z2-7]` (RFC 4648 base32, lower case)
    Base32Lower,
}

impl Alphabet {
    pub(super) fn class(self) -> &'static str {
        match self {
            Alphabet::Hex => "[0-9a-f]",
            Alphabet::LowerAlnum => "[0-9a-z]",
            Alphabet::UpperAlnum => "[0-9A-Z]",
            Alphabet::Alnum => "[0-9A-Za-z]",
            Alphabet::Base64Url => "[0-9A-Za-z_-]",
            Alphabet::Base64 => "[0-9A-Za-z+/]",
            Alphabet::Base32Lower => "[a-z2-7]",
        }
    }

    /// The characters themselves (tests synthesise values from them).
    #[cfg(test)]
    pub(super) fn chars(self) -> &'static str {
        match self {
            Alphabet::Hex => "0123456789abcdef",
            Alphabet::LowerAlnum => "abcdefghijklmnopqrstuvwxyz0123456789",
            Alphabet::UpperAlnum => "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
            Alphabet::Alnum => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            Alphabet::Base64Url => {
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
            }
            Alphabet::Base64 => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
            Alphabet::Base32Lower => "abcdefghijklmnopqrstuvwxyz234567",
        }
    }
}

/// One documented shape of a vendor's credential.
#[derive(Debug, Clone, Copy)]
pub(super) enum Shape {
    /// `prefix` + `min..=max` characters of `alphabet`.
    Run {
        prefix: &'static str,
        alphabet: Alphabet,
        min: usize,
        max: usize,
    },
    /// A UUID (`8-4-4-4-12` hex digits, either case).
    Uuid,
    /// A shape of several parts: its regex, and an example the tests check it with.
    Raw {
        pattern: &'static str,
        #[cfg_attr(not(test), allow(dead_code))]
        example: &'static str,
    },
}

const fn run(alphabet: Alphabet, len: usize) -> Shape {
    Shape::Run {
        prefix: "",
        alphabet,
        min: len,
        max: len,
    }
}

const fn runs(alphabet: Alphabet, min: usize, max: usize) -> Shape {
    Shape::Run {
        prefix: "",
        alphabet,
        min,
        max,
    }
}

const fn framed(prefix: &'static str, alphabet: Alphabet, len: usize) -> Shape {
    Shape::Run {
        prefix,
        alphabet,
        min: len,
        max: len,
    }
}

const UUID: Shape = Shape::Uuid;

impl Shape {
    fn regex(self, out: &mut String) {
        match self {
            Shape::Run {
                prefix,
                alphabet,
                min,
                max,
            } => {
                let _ = write!(
                    out,
                    "{}{}{{{min},{max}}}",
                    regex_escape(prefix),
                    alphabet.class()
                );
                if alphabet == Alphabet::Base64 {
                    out.push_str("={0,2}");
                }
            }
            Shape::Uuid => out.push_str(
                "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
            ),
            Shape::Raw { pattern, .. } => out.push_str(pattern),
        }
    }
}

fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A vendor's words and the shapes of its credentials.
pub(super) struct ContextRule {
    /// Finding kind (snake_case); also the mask placeholder.
    pub kind: &'static str,
    /// The vendor's names as they appear in keys and prose, lower case (`newrelic`,
    /// `new_relic`); each is looked for in lower, Capitalised and UPPER case.
    pub words: &'static [&'static str],
    /// Mixed-case spellings looked for as well (`NewRelic`, `PagerDuty`).
    pub camel: &'static [&'static str],
    /// The credential's documented shapes.
    pub shapes: &'static [Shape],
}

const fn ctx(
    kind: &'static str,
    words: &'static [&'static str],
    shapes: &'static [Shape],
) -> ContextRule {
    ctx_camel(kind, words, &[], shapes)
}

const fn ctx_camel(
    kind: &'static str,
    words: &'static [&'static str],
    camel: &'static [&'static str],
    shapes: &'static [Shape],
) -> ContextRule {
    ContextRule {
        kind,
        words,
        camel,
        shapes,
    }
}

/// Score of a value of the vendor's exact shape named after the vendor: above the generic
/// keyword finder's (0.7-0.8), below prefixed formats (0.9-1.0).
pub(super) const CONTEXT_SCORE: f32 = 0.85;

/// Bytes after the vendor's word that a rule's regex reads: the rest of the key name, the
/// operator or a few words of prose, and the longest value.
pub(super) const CONTEXT_WINDOW: usize = 256;

/// How the vendor's word reaches the value, after the word itself (see the module doc):
/// the rest of an identifier (`_API_KEY`, `.secret`, `Token`), then an assignment operator with
/// optional quotes, or a few words of prose ending in a credential word (`api token is`).
const LINK: &str = concat!(
    r#"[A-Za-z0-9_.-]{0,24}?"#,
    r#"(?:["'`\]]{0,2}[ \t]{0,3}(?:=>|:=|->|=|:|\|\|)[ \t]{0,3}["'`]?"#,
    r#"|[ \t]+(?:[A-Za-z]+[ \t]+){0,3}?"#,
    r#"(?i:api[ _-]?key|key|token|secret|password|pat|credentials?|auth)s?"#,
    r#"(?:[ \t]*(?i:is|was|=|:)[ \t]*|[ \t]+)["'`]?)"#,
);

/// The rule's regex, anchored at the vendor's word; capture group 1 is the value.
pub(super) fn pattern(rule: &ContextRule) -> String {
    let mut p = String::from("^(?i:");
    for (i, w) in rule.words.iter().chain(rule.camel).enumerate() {
        if i > 0 {
            p.push('|');
        }
        p.push_str(&regex_escape(w));
    }
    p.push(')');
    p.push_str(LINK);
    p.push('(');
    for (i, s) in rule.shapes.iter().enumerate() {
        if i > 0 {
            p.push('|');
        }
        p.push_str("(?:");
        s.regex(&mut p);
        p.push(')');
    }
    p.push_str(")(?:[^0-9A-Za-z_+/=-]|$)");
    p
}

/// `word` in lower, Capitalised and UPPER case (snake, Camel and CONSTANT case names).
pub(super) fn case_variants(word: &str) -> [String; 3] {
    let lower = word.to_ascii_lowercase();
    let upper = word.to_ascii_uppercase();
    let mut cap = lower.clone();
    if let Some(f) = cap.get_mut(..1) {
        f.make_ascii_uppercase();
    }
    [lower, cap, upper]
}

/// The anchors of a rule: each word in lower, Capitalised and UPPER case, and the camel spellings.
pub(super) fn anchors(rule: &ContextRule) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in rule.words {
        for v in case_variants(w) {
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    for c in rule.camel {
        if !out.iter().any(|v| v == c) {
            out.push((*c).to_string());
        }
    }
    out
}

/// Words that, between the vendor's name and the value, say the value is a digest or a
/// version rather than a credential (`SENTRY_RELEASE=<sha256>`, `gitea commit sha: <40 hex>`).
const NOT_SECRET_WORDS: &[&str] = &[
    "sha", "commit", "release", "version", "digest", "hash", "checksum", "revision",
];

/// Whether the text between the vendor's word and the value names a digest or a version.
pub(super) fn names_a_digest(gap: &str) -> bool {
    let gap = gap.to_ascii_lowercase();
    NOT_SECRET_WORDS.iter().any(|w| gap.contains(w))
}

/// The value looks random: no placeholder; letters and digits, or, without digits, case changes
/// too frequent for words (a quarter of the letters upper case: not `searchConfluenceUsingCql`);
/// and the entropy a random string of its length reaches (`min(3.0, 0.7 * log2(len))` bits per
/// character).
pub(super) fn value_ok(v: &str) -> bool {
    let b = v.as_bytes();
    let digit = b.iter().any(u8::is_ascii_digit);
    let upper = b.iter().filter(|c| c.is_ascii_uppercase()).count();
    let lower = b.iter().filter(|c| c.is_ascii_lowercase()).count();
    let random_letters = upper > 0 && lower > 0 && upper * 4 >= upper + lower;
    let need = MIN_ENTROPY.min(ENTROPY_LEN_FACTOR * (v.len() as f32).log2());
    upper + lower > 0
        && (digit || random_letters)
        && !super::checks::is_placeholder_token(v)
        && super::checks::shannon_entropy(v) >= need
}

const MIN_ENTROPY: f32 = 3.0;
const ENTROPY_LEN_FACTOR: f32 = 0.7;

use Alphabet::{Alnum, Base32Lower, Base64, Base64Url, Hex, LowerAlnum, UpperAlnum};

/// The vendor-context rules (one kind each; several may share a kind with a prefixed rule).
#[rustfmt::skip]
pub(super) const CONTEXT_RULES: &[ContextRule] = &[
    // --- Developer tools, CI, hosting and infrastructure ------------------------------------
    ctx("asana_token", &["asana"], &[
        Shape::Raw {
            pattern: "[0-9]/[0-9]{10,20}(?:/[0-9]{10,20})?:[0-9a-f]{32}",
            example: "1/1204518290731612:8d3fa2c19b7e4f60a5c28d1e9f3b7a04",
        },
        run(LowerAlnum, 32),
    ]),
    ctx("atlassian_api_token", &["atlassian", "confluence", "jira"], &[run(Alnum, 24)]),
    ctx_camel("bitbucket_token", &["bitbucket"], &["BitBucket"], &[run(Base64Url, 64)]),
    ctx("codecov_token", &["codecov"], &[UUID, run(Hex, 32)]),
    ctx("droneci_token", &["droneci", "drone_token"], &[run(Alnum, 32)]),
    ctx("gitter_token", &["gitter"], &[run(LowerAlnum, 40)]),
    ctx("gitea_token", &["gitea", "forgejo"], &[run(Hex, 40)]),
    ctx("jenkins_api_token", &["jenkins"], &[framed("11", Hex, 32)]),
    ctx_camel("travis_token", &["travis"], &["TravisCI"], &[run(Alnum, 22)]),
    ctx_camel("artifactory_token", &["jfrog", "artifactory", "bintray"], &["JFrog"],
        &[run(Alnum, 73), run(Alnum, 64)]),
    ctx("netlify_token", &["netlify"], &[runs(Base64Url, 40, 46), run(Hex, 64)]),
    ctx_camel("launchdarkly_key", &["launchdarkly"], &["LaunchDarkly"], &[run(Base64Url, 40)]),
    ctx("sentry_token", &["sentry"], &[run(Hex, 64)]),
    ctx_camel("azure_devops_pat", &["devops", "azdo", "vsts"], &["AzureDevOps", "DevOps"],
        &[run(Base32Lower, 52), run(Alnum, 84)]),
    ctx_camel("docker_token", &["dockerhub", "docker_hub"], &["DockerHub"], &[UUID]),
    ctx_camel("truenas_api_key", &["truenas"], &["TrueNAS", "TrueNas"], &[Shape::Raw {
        pattern: "[0-9]{1,4}-[0-9A-Za-z]{64}",
        example: "3-Gk4pW9sQ2xZr7Lm1Nv8Tb5Yc0Hd6Jf3Ka9Pe2Ru7Sw4Xz1Ab8Cd5Ef2Gh9Ij6Kl3",
    }]),
    ctx("linode_token", &["linode"], &[run(Hex, 64)]),
    ctx("vultr_api_key", &["vultr"], &[run(UpperAlnum, 36)]),
    ctx_camel("cloudflare_api_token", &["cloudflare"], &["CloudFlare"],
        &[run(Base64Url, 40), run(Hex, 37)]),
    ctx("fastly_api_token", &["fastly"], &[run(Base64Url, 32)]),
    ctx("heroku_api_key", &["heroku"], &[UUID]),
    ctx("snyk_token", &["snyk"], &[UUID]),
    ctx("confluent_api_key", &["confluent"], &[run(UpperAlnum, 16), run(Base64, 64)]),
    ctx("meraki_api_key", &["meraki"], &[run(Hex, 40)]),
    ctx("contentful_token", &["contentful"], &[run(Base64Url, 43)]),
    // --- Monitoring and logging -------------------------------------------------------------
    ctx_camel("datadog_api_key", &["datadog"], &["DataDog"], &[run(Hex, 32), run(Hex, 40)]),
    ctx_camel("newrelic_key", &["newrelic", "new_relic"], &["NewRelic"],
        &[run(Hex, 40)]),
    ctx_camel("pagerduty_token", &["pagerduty", "pager_duty"], &["PagerDuty"],
        &[framed("u+", Base64Url, 18), run(Base64Url, 20), run(Hex, 32)]),
    ctx_camel("opsgenie_api_key", &["opsgenie"], &["OpsGenie"], &[UUID]),
    ctx("splunk_token", &["splunk"], &[UUID]),
    ctx_camel("sumologic_access_key", &["sumologic", "sumo"], &["SumoLogic"], &[run(Alnum, 64)]),
    ctx("rollbar_token", &["rollbar"], &[run(Hex, 32)]),
    ctx_camel("bugsnag_api_key", &["bugsnag"], &["BugSnag"], &[run(Hex, 32)]),
    ctx("honeycomb_api_key", &["honeycomb"], &[run(Alnum, 22), run(Hex, 32)]),
    ctx_camel("wandb_api_key", &["wandb"], &["WandB"], &[run(Hex, 40)]),
    // --- Communication, social and marketing ------------------------------------------------
    ctx("twitch_token", &["twitch"], &[run(LowerAlnum, 30)]),
    ctx("twitter_credential", &["twitter"], &[
        run(Alnum, 25), run(Alnum, 45), run(Alnum, 50),
        Shape::Raw {
            pattern: "[0-9]{15,25}-[0-9A-Za-z]{20,40}",
            example: "1456789012345678901-Kq7Zp2Lm9Xr4Tn8Wv1Yb5Hc3Dj6Fs",
        },
    ]),
    ctx_camel("linkedin_client_secret", &["linkedin", "linked_in"], &["LinkedIn"],
        &[run(Alnum, 16)]),
    ctx_camel("facebook_app_secret", &["facebook"], &["FaceBook"], &[run(Hex, 32)]),
    ctx("mattermost_token", &["mattermost"], &[run(LowerAlnum, 26)]),
    ctx("intercom_token", &["intercom"], &[runs(Base64, 56, 60)]),
    ctx_camel("sendbird_token", &["sendbird"], &["SendBird"], &[run(Hex, 40)]),
    ctx("mailjet_api_key", &["mailjet"], &[run(Hex, 32)]),
    ctx("mandrill_api_key", &["mandrill"], &[framed("md-", Base64Url, 22), run(Base64Url, 22)]),
    ctx_camel("sparkpost_api_key", &["sparkpost"], &["SparkPost"], &[run(Hex, 40)]),
    ctx("postmark_token", &["postmark"], &[UUID]),
    ctx("vonage_api_secret", &["vonage", "nexmo"], &[run(Alnum, 16)]),
    ctx("pusher_secret", &["pusher"], &[run(Hex, 20)]),
    ctx("zendesk_token", &["zendesk"], &[run(Alnum, 40)]),
    ctx_camel("mixpanel_secret", &["mixpanel"], &["MixPanel"], &[run(Hex, 32)]),
    ctx("spotify_client_secret", &["spotify"], &[run(Hex, 32)]),
    ctx_camel("nytimes_token", &["nytimes", "newyorktimes"], &["NYTimes"], &[run(Base64Url, 32)]),
    ctx("etsy_token", &["etsy"], &[run(LowerAlnum, 24)]),
    ctx("flickr_token", &["flickr"], &[run(Hex, 32), run(Hex, 16)]),
    ctx("beamer_api_token", &["beamer"], &[framed("b_", Base64Url, 44)]),
    ctx("algolia_api_key", &["algolia"], &[run(LowerAlnum, 32)]),
    ctx_camel("recaptcha_secret", &["recaptcha"], &["ReCaptcha", "reCAPTCHA", "ReCAPTCHA"],
        &[framed("6L", Base64Url, 38)]),
    // --- Payments, finance and crypto -------------------------------------------------------
    ctx_camel("paypal_client_secret", &["paypal"], &["PayPal"], &[run(Base64Url, 80)]),
    ctx("plaid_token", &["plaid"], &[run(Hex, 30)]),
    ctx("finicity_token", &["finicity"], &[run(Hex, 32), run(Alnum, 20)]),
    ctx("finnhub_token", &["finnhub"], &[run(LowerAlnum, 20)]),
    ctx_camel("freshbooks_token", &["freshbooks"], &["FreshBooks"], &[run(LowerAlnum, 64)]),
    ctx_camel("squarespace_token", &["squarespace"], &["SquareSpace"], &[UUID]),
    ctx_camel("coinbase_token", &["coinbase"], &["CoinBase"], &[run(Base64Url, 64)]),
    ctx("kraken_key", &["kraken"], &[runs(Base64, 80, 90)]),
    ctx_camel("kucoin_key", &["kucoin"], &["KuCoin"], &[run(Hex, 24), UUID]),
    ctx("bittrex_key", &["bittrex"], &[run(Hex, 32)]),
    ctx("binance_api_key", &["binance"], &[run(Alnum, 64)]),
    ctx_camel("etherscan_api_key", &["etherscan"], &["EtherScan"], &[run(UpperAlnum, 34)]),
    ctx("infura_key", &["infura"], &[run(Hex, 32)]),
    ctx("alchemy_api_key", &["alchemy"], &[run(Base64Url, 32)]),
    // --- AI and data services ---------------------------------------------------------------
    ctx("mistral_api_key", &["mistral"], &[run(Alnum, 32)]),
    ctx("cohere_api_key", &["cohere"], &[run(Alnum, 40)]),
    ctx("deepgram_api_key", &["deepgram"], &[run(Hex, 40)]),
    ctx_camel("assemblyai_api_key", &["assemblyai", "assembly_ai"], &["AssemblyAI"],
        &[run(Hex, 32)]),
    ctx_camel("privateai_token", &["privateai", "private_ai"], &["PrivateAI"],
        &[run(LowerAlnum, 32)]),
    ctx_camel("rapidapi_key", &["rapidapi"], &["RapidAPI"], &[run(Base64Url, 50)]),
];
