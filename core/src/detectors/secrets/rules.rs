//! The table of structured (prefixed or shaped) credential formats.
//!
//! Every rule names the literal anchors that must occur in a token of its format (usually the
//! vendor prefix: `AKIA`, `ghp_`, `xoxb-`). The detector finds all anchors of all rules in one
//! Aho-Corasick pass and runs a rule's regex only on a bounded window at the anchor, so the cost
//! on ordinary text is the automaton pass plus a handful of cheap, anchored regex probes.
//!
//! Patterns are written for this project from the vendors' published token formats; they are
//! deliberately a little looser than the narrowest known format where vendors have changed
//! lengths over time, and tighter checks (checksums, decoded headers, placeholder rejection) live
//! in [`Check`]. Where a vendor's documentation is thin, the format was cross-checked against the
//! rule regexes of gitleaks (MIT licence, <https://github.com/gitleaks/gitleaks>); no test data
//! was taken from it.
//!
//! The table is split in two for reading: this file holds the core providers, and
//! [`super::vendor_rules`] the wider catalogue; [`all`] chains them in scan order.

use super::vendor_rules::VENDOR_RULES;

/// How a candidate that matched the rule's regex is verified before it is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Check {
    /// Reject placeholders (`xxxx`, long single-character runs, `EXAMPLE`, alphabet runs).
    Plain,
    /// [`Check::Plain`] and the token has upper- and lower-case letters (random base62 tokens
    /// do; identifiers that share the prefix usually do not).
    MixedCase,
    /// [`Check::Plain`] and the token contains a digit.
    HasDigit,
    /// The format is self-validating (fixed structure with long zero runs): no placeholder check.
    Structural,
    /// An Atlassian (Jira/Confluence) PAT: base64 of `<12-digit id>:<random>`.
    AtlassianPat,
    /// The token starts with a run of `A` (Twitter app bearer tokens): check only the rest.
    RunPrefix,
    /// A JWT: the first segment must decode to a JSON object header naming `alg`/`typ`.
    Jwt,
    /// A Discord bot token: the first segment decodes to a numeric snowflake id.
    Discord,
    /// A base64-encoded PEM block: the decoded head names a private key.
    Base64Pem,
    /// Slack tokens: enough digits and length after the type prefix.
    Slack,
    /// Telegram bot token: a numeric bot id, optionally right after `bot` (API URLs).
    Telegram,
    /// The token carries one fixed run of ten `A` (zero bytes in base64): the rest must be
    /// random ([`Check::MixedCase`] on the token without the run).
    PaddedRun,
    /// Short-term Bedrock key: after the prefix, base64 of a presigned `bedrock.amazonaws.com`
    /// URL.
    BedrockPresigned,
    /// GitHub / npm tokens: after the `_`, 30 random base62 characters and the 6-character
    /// base62 CRC-32 of them. A verified checksum raises the score to the maximum; a body without
    /// one keeps the rule's score (tokens are retyped, truncated or made up for tests).
    Crc32Base62,
    /// A password in a strong syntactic context (`.netrc`): the gate of `curl -u` and
    /// `IDENTIFIED BY` values (length, distinct bytes, entropy, no placeholder or variable).
    Credential,
}

/// Bytes a token may have before its anchor (rules with `back > 0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Before {
    /// Not used (`back == 0`).
    Nothing,
    Digit,
    LowerHex,
    LowerAlnum,
    Alnum,
    /// `[A-Za-z0-9_~.-]` (Azure AD client secrets).
    AzureSecret,
    /// `[A-Za-z0-9+/]` (Microsoft's identifiable keys).
    Base64,
}

impl Before {
    pub(super) fn accepts(self, c: u8) -> bool {
        match self {
            Before::Nothing => false,
            Before::Digit => c.is_ascii_digit(),
            Before::LowerHex => c.is_ascii_digit() || (b'a'..=b'f').contains(&c),
            Before::LowerAlnum => c.is_ascii_digit() || c.is_ascii_lowercase(),
            Before::Alnum => c.is_ascii_alphanumeric(),
            Before::AzureSecret => {
                c.is_ascii_alphanumeric() || matches!(c, b'_' | b'~' | b'.' | b'-')
            }
            Before::Base64 => c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/'),
        }
    }
}

/// One structured credential format.
pub(super) struct Rule {
    /// Finding kind (snake_case); also the mask placeholder.
    pub kind: &'static str,
    /// Literal, case-sensitive strings of which at least one occurs in every token.
    pub anchors: &'static [&'static str],
    /// The token's regex, matched anchored (`^`) at the token's start: the anchor's start, or,
    /// with `back > 0`, the start of the run of `before` bytes right before the anchor. If the
    /// regex has a capture group 1, only that group is the span.
    pub pattern: &'static str,
    /// With `back > 0`, the token has `back_min..=back` bytes of class `before` before the
    /// anchor (`<32 hex>-us12`); a longer run means the token is glued to other text.
    pub back: usize,
    pub back_min: usize,
    pub before: Before,
    /// The character before the token must not be ASCII alphanumeric or `_`.
    pub left_boundary: bool,
    /// The character after the token must not be ASCII alphanumeric.
    pub right_boundary: bool,
    /// Reported score.
    pub score: f32,
    /// Extra verification.
    pub check: Check,
}

pub(super) const fn rule(
    kind: &'static str,
    anchors: &'static [&'static str],
    pattern: &'static str,
    score: f32,
    check: Check,
) -> Rule {
    Rule {
        kind,
        anchors,
        pattern,
        back: 0,
        back_min: 0,
        before: Before::Nothing,
        left_boundary: true,
        right_boundary: true,
        score,
        check,
    }
}

pub(super) const fn back_rule(
    kind: &'static str,
    anchors: &'static [&'static str],
    pattern: &'static str,
    (back_min, back, before): (usize, usize, Before),
    score: f32,
    check: Check,
) -> Rule {
    Rule {
        kind,
        anchors,
        pattern,
        back,
        back_min,
        before,
        left_boundary: true,
        right_boundary: true,
        score,
        check,
    }
}

/// Kinds reported by the keyword/URL/command-line heuristics in `generic.rs` (not in [`RULES`]).
pub(super) const GENERIC_KINDS: &[&str] = &[
    "private_key",
    "database_url_password",
    "url_credentials",
    "basic_auth",
    "bearer_token",
    "aws_secret_key",
    "password",
    "generic_secret",
];

/// Number of structured rules in both tables.
pub(super) const RULE_COUNT: usize = RULES.len() + VENDOR_RULES.len();

/// Every structured rule: the core table, then the vendor catalogue.
pub(super) fn all() -> impl Iterator<Item = &'static Rule> {
    RULES.iter().chain(VENDOR_RULES.iter())
}

/// The core structured rules. Order matters only for overlapping matches of equal score (the
/// first rule wins).
pub(super) const RULES: &[Rule] = &[
    // --- Cloud providers ---------------------------------------------------------------------
    rule(
        "aws_access_key",
        &[
            "AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "APKA", "A3T",
        ],
        r"^(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|APKA)[A-Z0-9]{16}",
        0.95,
        Check::Plain,
    ),
    rule(
        "aws_bedrock_api_key",
        &["ABSK"],
        r"^ABSK[A-Za-z0-9+/]{100,}={0,2}",
        0.95,
        Check::Plain,
    ),
    rule(
        "aws_bedrock_api_key",
        &["bedrock-api-key-"],
        r"^bedrock-api-key-[A-Za-z0-9+/]{24,}={0,2}",
        0.9,
        Check::BedrockPresigned,
    ),
    rule(
        "aws_mws_key",
        &["amzn.mws."],
        r"^amzn\.mws\.[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}",
        0.95,
        Check::Plain,
    ),
    rule(
        "aws_appsync_key",
        &["da2-"],
        r"^da2-[a-z0-9]{26}",
        0.9,
        Check::HasDigit,
    ),
    rule(
        "google_api_key",
        &["AIza"],
        r"^AIza[0-9A-Za-z_-]{35}",
        0.95,
        Check::Plain,
    ),
    rule(
        "google_oauth_secret",
        &["GOCSPX-"],
        r"^GOCSPX-[0-9A-Za-z_-]{28}",
        0.95,
        Check::Plain,
    ),
    rule(
        "google_oauth_token",
        &["ya29."],
        r"^ya29\.[0-9A-Za-z_-]{30,}",
        0.9,
        Check::Plain,
    ),
    rule(
        "google_oauth_token",
        &["1//0"],
        r"^1//0[0-9A-Za-z_-]{40,}",
        0.85,
        Check::MixedCase,
    ),
    rule(
        "gcp_service_account",
        &["service_account"],
        r#"^service_account""#,
        0.9,
        Check::Plain,
    ),
    rule(
        "azure_storage_key",
        &["AccountKey="],
        r"^AccountKey=([A-Za-z0-9+/]{86}==)",
        0.95,
        Check::Plain,
    ),
    back_rule(
        "azure_ad_client_secret",
        &["Q~"],
        r"^[A-Za-z0-9_~.-]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34}",
        (4, 4, Before::AzureSecret),
        0.9,
        Check::MixedCase,
    ),
    rule(
        "digitalocean_token",
        &["dop_v1_", "doo_v1_", "dor_v1_"],
        r"^do[opr]_v1_[a-f0-9]{64}",
        0.95,
        Check::Plain,
    ),
    rule(
        "heroku_api_key",
        &["HRKU-"],
        r"^HRKU-[A-Za-z0-9_-]{30,}",
        0.9,
        Check::Plain,
    ),
    rule(
        "alibaba_access_key",
        &["LTAI"],
        r"^LTAI[A-Za-z0-9]{12,20}",
        0.85,
        Check::MixedCase,
    ),
    rule(
        "flyio_token",
        &["fo1_"],
        r"^fo1_[A-Za-z0-9_-]{43}",
        0.95,
        Check::Plain,
    ),
    rule(
        "flyio_token",
        &["fm1r_", "fm1a_", "fm2_"],
        r"^fm(?:1[ar]|2)_[A-Za-z0-9+/=]{80,}",
        0.95,
        Check::Plain,
    ),
    back_rule(
        "terraform_token",
        &[".atlasv1."],
        r"^[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]{60,70}",
        (14, 14, Before::Alnum),
        0.95,
        Check::Plain,
    ),
    rule(
        "vault_token",
        &["hvs.", "hvb."],
        r"^hv[sb]\.[A-Za-z0-9_-]{24,}",
        0.9,
        Check::Plain,
    ),
    rule(
        "cloudflare_api_token",
        &["cfat_", "cfut_", "cfk_"],
        r"^(?:cfat|cfut|cfk)_[A-Za-z0-9]{40,}",
        0.9,
        Check::Plain,
    ),
    rule(
        "cloudflare_origin_ca_key",
        &["v1.0-"],
        r"^v1\.0-[a-f0-9]{24}-[a-f0-9]{146}",
        0.95,
        Check::Plain,
    ),
    rule(
        "databricks_token",
        &["dapi"],
        r"^dapi[a-f0-9]{32}(?:-[0-9]+)?",
        0.9,
        Check::Plain,
    ),
    rule(
        "dynatrace_token",
        &["dt0c01."],
        r"^dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}",
        0.95,
        Check::Plain,
    ),
    rule(
        "vercel_token",
        &["vcp_", "vci_", "vca_", "vcr_", "vck_"],
        r"^vc[picrk]_[A-Za-z0-9]{40,}",
        0.9,
        Check::Plain,
    ),
    rule(
        "netlify_token",
        &["nfp_"],
        r"^nfp_[A-Za-z0-9]{36,}",
        0.9,
        Check::Plain,
    ),
    rule(
        "supabase_token",
        &["sbp_"],
        r"^sbp_(?:v0_)?[a-f0-9]{40}",
        0.9,
        Check::Plain,
    ),
    rule(
        "supabase_token",
        &["sb_secret_"],
        r"^sb_secret_[A-Za-z0-9_-]{24,}",
        0.9,
        Check::Plain,
    ),
    rule(
        "planetscale_token",
        &["pscale_"],
        r"^pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_.=-]{32,}",
        0.95,
        Check::Plain,
    ),
    rule(
        "scalingo_token",
        &["tk-us-"],
        r"^tk-us-[A-Za-z0-9_-]{48}",
        0.9,
        Check::Plain,
    ),
    // --- AI providers ------------------------------------------------------------------------
    rule(
        "anthropic_api_key",
        &["sk-ant-"],
        r"^sk-ant-[a-z]{2,8}[0-9]{2}-[A-Za-z0-9_-]{40,}",
        1.0,
        Check::Plain,
    ),
    rule(
        "openai_api_key",
        &["sk-"],
        r"^sk-(?:(?:proj|svcacct|admin|None)-)?[A-Za-z0-9_-]{16,200}T3BlbkFJ[A-Za-z0-9_-]{16,200}",
        1.0,
        Check::Plain,
    ),
    rule(
        "openai_api_key",
        &["sk-"],
        r"^sk-[a-f0-9]{32}",
        0.85,
        Check::Plain,
    ),
    rule(
        "groq_api_key",
        &["gsk_"],
        r"^gsk_[A-Za-z0-9]{48,56}",
        0.95,
        Check::Plain,
    ),
    rule(
        "perplexity_api_key",
        &["pplx-"],
        r"^pplx-[A-Za-z0-9]{40,56}",
        0.95,
        Check::Plain,
    ),
    rule(
        "xai_api_key",
        &["xai-"],
        r"^xai-[A-Za-z0-9]{70,90}",
        0.95,
        Check::Plain,
    ),
    rule(
        "huggingface_token",
        &["hf_"],
        r"^hf_[A-Za-z]{34}",
        0.95,
        Check::MixedCase,
    ),
    rule(
        "huggingface_token",
        &["api_org_"],
        r"^api_org_[A-Za-z]{34}",
        0.95,
        Check::MixedCase,
    ),
    rule(
        "replicate_token",
        &["r8_"],
        r"^r8_[A-Za-z0-9]{37}",
        0.9,
        Check::MixedCase,
    ),
    rule(
        "tavily_api_key",
        &["tvly-"],
        r"^tvly-(?:dev-|prod-)?[A-Za-z0-9]{32}",
        0.9,
        Check::Plain,
    ),
    rule(
        "together_api_key",
        &["tgp_v1_"],
        r"^tgp_v1_[A-Za-z0-9_-]{40,}",
        0.9,
        Check::Plain,
    ),
    rule(
        "llama_api_key",
        &["llx-"],
        r"^llx-[A-Za-z0-9_-]{40,}",
        0.9,
        Check::Plain,
    ),
    rule(
        "langsmith_api_key",
        &["lsv2_"],
        r"^lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}",
        0.95,
        Check::Plain,
    ),
    // --- Source hosting, CI, package registries ----------------------------------------------
    rule(
        "github_token",
        &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
        r"^gh[pousr]_[A-Za-z0-9_]{36,255}",
        0.95,
        Check::Crc32Base62,
    ),
    rule(
        "github_fine_grained_pat",
        &["github_pat_"],
        r"^github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}",
        1.0,
        Check::Plain,
    ),
    rule(
        "gitlab_token",
        &[
            "glpat-", "gldt-", "glrt-", "glrtr-", "glft-", "glwt-", "glffct-",
        ],
        r"^gl(?:pat|dt|rtr|rt|ft|wt|ffct)-[A-Za-z0-9_.-]{20,}",
        0.95,
        Check::Plain,
    ),
    // GitLab kinds with a fixed documented length.
    rule(
        "gitlab_token",
        &["glptt-"],
        r"^glptt-[0-9a-f]{40}",
        0.95,
        Check::Plain,
    ),
    rule(
        "gitlab_token",
        &["glagent-"],
        r"^glagent-[A-Za-z0-9_-]{50}",
        0.95,
        Check::Plain,
    ),
    rule(
        "gitlab_token",
        &["gloas-"],
        r"^gloas-[A-Za-z0-9_-]{64}",
        0.95,
        Check::Plain,
    ),
    rule(
        "gitlab_token",
        &["glimt-"],
        r"^glimt-[A-Za-z0-9_-]{25}",
        0.95,
        Check::Plain,
    ),
    rule(
        "gitlab_token",
        &["glsoat-"],
        r"^glsoat-[A-Za-z0-9_-]{20}",
        0.95,
        Check::Plain,
    ),
    rule(
        "gitlab_token",
        &["glcbt-"],
        r"^glcbt-(?:[0-9a-fA-F]{1,5}_)?[A-Za-z0-9_-]{20}",
        0.95,
        Check::Plain,
    ),
    rule(
        "gitlab_token",
        &["GR1348941"],
        r"^GR1348941[A-Za-z0-9_-]{20}",
        0.95,
        Check::Plain,
    ),
    rule(
        "gitlab_token",
        &["_gitlab_session="],
        r"^_gitlab_session=([a-f0-9]{32})",
        0.9,
        Check::Plain,
    ),
    rule(
        "bitbucket_token",
        &["ATBB"],
        r"^ATBB[A-Za-z0-9_=.-]{28,}",
        0.9,
        Check::Plain,
    ),
    rule(
        "bitbucket_token",
        &["BBDC-"],
        r"^BBDC-[A-Za-z0-9+/@_-]{40,}",
        0.9,
        Check::Plain,
    ),
    rule(
        "atlassian_api_token",
        &["ATATT3", "ATCTT3"],
        r"^AT[AC]TT3[A-Za-z0-9_=\\%-]{100,}",
        0.95,
        Check::Plain,
    ),
    Rule {
        kind: "sidekiq_secret",
        anchors: &["CONTRIBSYS__COM"],
        pattern: r#"^CONTRIBSYS__COM["']?[ \t]*[:=][ \t]*["']?([0-9a-f]{8}:[0-9a-f]{8})"#,
        back: 0,
        back_min: 0,
        before: Before::Nothing,
        left_boundary: false,
        right_boundary: true,
        score: 0.9,
        check: Check::Plain,
    },
    rule(
        "npm_token",
        &["npm_"],
        r"^npm_[A-Za-z0-9]{36}",
        0.95,
        Check::Crc32Base62,
    ),
    Rule {
        kind: "npm_token",
        anchors: &["/:_authToken="],
        pattern: r"^/:_authToken=[ \t]*([A-Za-z0-9_.+/=-]{8,})",
        back: 0,
        back_min: 0,
        before: Before::Nothing,
        left_boundary: false,
        right_boundary: true,
        score: 0.9,
        check: Check::Plain,
    },
    rule(
        "pypi_token",
        &["pypi-AgEIcHlwaS5vcmc", "pypi-AgENdGVzdC5weXBpLm9yZw"],
        r"^pypi-Ag(?:EIcHlwaS5vcmc|ENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{85,}",
        1.0,
        Check::Plain,
    ),
    rule(
        "rubygems_api_key",
        &["rubygems_"],
        r"^rubygems_[a-f0-9]{48}",
        0.95,
        Check::Plain,
    ),
    rule(
        "nuget_api_key",
        &["oy2"],
        r"^oy2[a-z0-9]{43}",
        0.85,
        Check::HasDigit,
    ),
    rule(
        "clojars_token",
        &["CLOJARS_"],
        r"^CLOJARS_[a-z0-9]{60}",
        0.95,
        Check::Plain,
    ),
    rule(
        "docker_token",
        &["dckr_pat_", "dckr_oat_"],
        r"^dckr_(?:pat|oat)_[A-Za-z0-9_-]{27,}",
        0.95,
        Check::Plain,
    ),
    rule(
        "docker_swarm_token",
        &["SWMTKN-1-", "SWMKEY-1-"],
        r"^SWM(?:TKN|KEY)-1-[A-Za-z0-9-]{40,}",
        0.9,
        Check::Plain,
    ),
    rule(
        "artifactory_token",
        &["AKCp"],
        r"^AKCp[A-Za-z0-9]{60,}",
        0.9,
        Check::Plain,
    ),
    rule(
        "artifactory_token",
        &["cmVmdGtu"],
        r"^cmVmdGtu[A-Za-z0-9]{56,}",
        0.9,
        Check::Plain,
    ),
    rule(
        "sourcegraph_token",
        &["sgp_"],
        r"^sgp_(?:local_|[a-fA-F0-9]{16}_)?[a-fA-F0-9]{40}",
        0.95,
        Check::Plain,
    ),
    rule(
        "sonar_token",
        &["squ_", "sqp_", "sqa_"],
        r"^sq[upa]_[A-Za-z0-9]{40}",
        0.9,
        Check::Plain,
    ),
    rule(
        "snyk_token",
        &["snyk_"],
        r"^snyk_(?:uat|sat)\.[a-z0-9]{8}\.[A-Za-z0-9_-]{20,}",
        0.9,
        Check::Plain,
    ),
    rule(
        "octopus_api_key",
        &["API-"],
        r"^API-[A-Z0-9]{26}",
        0.8,
        Check::HasDigit,
    ),
    rule(
        "pulumi_token",
        &["pul-"],
        r"^pul-[a-f0-9]{40}",
        0.9,
        Check::HasDigit,
    ),
    rule(
        "doppler_token",
        &[
            "dp.pt.",
            "dp.st.",
            "dp.sa.",
            "dp.ct.",
            "dp.scim.",
            "dp.audit.",
        ],
        r"^dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44}",
        0.95,
        Check::Plain,
    ),
    rule(
        "infracost_token",
        &["ico-"],
        r"^ico-[A-Za-z0-9]{32}",
        0.9,
        Check::MixedCase,
    ),
    rule(
        "linear_api_key",
        &["lin_api_"],
        r"^lin_api_[A-Za-z0-9]{40}",
        0.95,
        Check::Plain,
    ),
    rule(
        "figma_token",
        &["figd_"],
        r"^figd_[A-Za-z0-9_-]{40}",
        0.95,
        Check::Plain,
    ),
    rule(
        "postman_api_key",
        &["PMAK-"],
        r"^PMAK-[a-f0-9]{24}-[a-f0-9]{34}",
        0.95,
        Check::Plain,
    ),
    rule(
        "postman_api_key",
        &["PMAT-"],
        r"^PMAT-[A-Z0-9]{26}",
        0.9,
        Check::HasDigit,
    ),
    rule(
        "onepassword_token",
        &["ops_eyJ"],
        r"^ops_eyJ[A-Za-z0-9+/_=-]{100,}",
        1.0,
        Check::Plain,
    ),
    rule(
        "onepassword_secret_key",
        &["A3-"],
        r"^A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}",
        0.95,
        Check::HasDigit,
    ),
    rule(
        "atlassian_api_token",
        &["MT", "Mj", "Mz", "ND", "Nj", "Nz", "OD", "OT"],
        r"^[MNO][A-Za-z0-9]{43}",
        0.9,
        Check::AtlassianPat,
    ),
    rule(
        "ntlm_token",
        &["TlRMTVNTUAAD"],
        r"^TlRMTVNTUAAD[A-Za-z0-9+/]{40,}={0,2}",
        0.85,
        Check::Structural,
    ),
    rule(
        "nats_nkey_seed",
        &["SUA", "SUU", "SUO", "SUN", "SUC"],
        r"^SU[AUONC][A-Z2-7]{55}",
        0.9,
        Check::HasDigit,
    ),
    rule(
        "braintree_token",
        &["access_token$production$", "access_token$sandbox$"],
        r"^access_token\$(?:production|sandbox)\$[a-z0-9]{16}\$[a-f0-9]{32}",
        0.95,
        Check::Plain,
    ),
    rule(
        "wundergraph_api_key",
        &["cosmo_"],
        r"^cosmo_[a-f0-9]{32}",
        0.9,
        Check::HasDigit,
    ),
    rule(
        "defined_networking_key",
        &["dnkey-"],
        r"^dnkey-[A-Z0-9]{26}-[A-Z0-9]{52}",
        0.95,
        Check::HasDigit,
    ),
    rule(
        "salesforce_token",
        &["00D"],
        r"^00D[A-Za-z0-9]{12,15}![A-Za-z0-9._]{60,}",
        0.9,
        Check::Plain,
    ),
    rule(
        "private_key",
        &["MII"],
        r"^MII[A-Za-z0-9+/]{3}(?:IBAA[JK]|IBADAN)[A-Za-z0-9+/]{40,}={0,2}",
        0.9,
        Check::Structural,
    ),
    rule(
        "age_secret_key",
        &["AGE-SECRET-KEY-1"],
        r"^AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}",
        1.0,
        Check::Plain,
    ),
    rule(
        "intra42_secret",
        &["s-s4t2"],
        r"^s-s4t2(?:ud|af)-[a-f0-9]{64}",
        0.95,
        Check::Plain,
    ),
    rule(
        "sentry_token",
        &["sntrys_eyJ"],
        r"^sntrys_eyJ[A-Za-z0-9+/=_-]{60,}",
        0.95,
        Check::Plain,
    ),
    rule(
        "sentry_token",
        &["sntryu_"],
        r"^sntryu_[a-f0-9]{64}",
        0.95,
        Check::Plain,
    ),
    rule(
        "posthog_api_key",
        &["phx_", "phs_", "phr_", "pha_", "phc_"],
        r"^ph[xsrac]_[A-Za-z0-9]{40,}",
        0.9,
        Check::MixedCase,
    ),
    rule(
        "grafana_token",
        &["glc_eyJ"],
        r"^glc_eyJ[A-Za-z0-9+/=_-]{40,}",
        0.95,
        Check::Plain,
    ),
    rule(
        "grafana_token",
        &["glsa_"],
        r"^glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}",
        0.95,
        Check::Plain,
    ),
    rule(
        "grafana_token",
        &["eyJrIjoi"],
        r"^eyJrIjoi[A-Za-z0-9+/]{50,}={0,2}",
        0.9,
        Check::Plain,
    ),
    rule(
        "newrelic_key",
        &["NRAK-"],
        r"^NRAK-[A-Z0-9]{27}",
        0.95,
        Check::HasDigit,
    ),
    rule(
        "newrelic_key",
        &["NRJS-"],
        r"^NRJS-[a-f0-9]{19}",
        0.9,
        Check::Plain,
    ),
    rule(
        "newrelic_key",
        &["NRII-"],
        r"^NRII-[A-Za-z0-9_-]{24,32}",
        0.9,
        Check::Plain,
    ),
    rule(
        "newrelic_key",
        &["NRBR-"],
        r"^NRBR-[a-f0-9]{19}",
        0.85,
        Check::Plain,
    ),
    back_rule(
        "newrelic_key",
        &["NRAL"],
        r"^[a-z0-9]{36}NRAL",
        (36, 36, Before::LowerAlnum),
        0.9,
        Check::HasDigit,
    ),
    rule(
        "newrelic_key",
        &["NRAA-"],
        r"^NRAA-[a-f0-9]{27}",
        0.9,
        Check::Plain,
    ),
    // --- Messaging, payments, SaaS ------------------------------------------------------------
    rule(
        "slack_token",
        &[
            "xoxb-", "xoxp-", "xoxa-", "xoxo-", "xoxs-", "xoxr-", "xoxe-", "xoxe.xox",
        ],
        r"^xox[a-z](?:\.xox[a-z])?-[0-9A-Za-z-]{8,}",
        0.95,
        Check::Slack,
    ),
    rule(
        "slack_token",
        &["xapp-"],
        r"^xapp-[0-9]-[A-Z0-9]{9,}-[0-9]{9,}-[a-z0-9]{32,}",
        0.95,
        Check::Plain,
    ),
    rule(
        "slack_webhook",
        &["hooks.slack.com/"],
        r"^hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/+-]{20,}",
        0.95,
        Check::Plain,
    ),
    rule(
        "discord_webhook",
        &["discord.com/api/webhooks/", "discordapp.com/api/webhooks/"],
        r"^discord(?:app)?\.com/api/webhooks/[0-9]{15,20}/[A-Za-z0-9_-]{60,}",
        0.95,
        Check::Plain,
    ),
    rule(
        "discord_token",
        &["MT", "Mj", "Mz", "ND", "Nj", "Nz", "OD", "OT"],
        r"^[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40}",
        0.95,
        Check::Discord,
    ),
    back_rule(
        "telegram_bot_token",
        &[":AA"],
        r"^[0-9]{8,10}:AA[A-Za-z0-9_-]{33}",
        (8, 10, Before::Digit),
        0.9,
        Check::Telegram,
    ),
    rule(
        "stripe_key",
        &[
            "sk_live_", "sk_test_", "rk_live_", "rk_test_", "rk_prod_", "sk_prod_",
        ],
        r"^[sr]k_(?:live|test|prod)_[A-Za-z0-9]{20,}",
        0.95,
        Check::Plain,
    ),
    rule(
        "stripe_key",
        &["whsec_"],
        r"^whsec_[A-Za-z0-9]{32,}",
        0.9,
        Check::Plain,
    ),
    rule(
        "square_token",
        &["sq0atp-", "sq0csp-"],
        r"^sq0(?:atp|csp)-[A-Za-z0-9_-]{22,}",
        0.95,
        Check::Plain,
    ),
    rule(
        "square_token",
        &["EAAA"],
        r"^EAAA[A-Za-z0-9_-]{60}",
        0.9,
        Check::MixedCase,
    ),
    rule(
        "facebook_access_token",
        &["EAA"],
        r"^EAA[B-Z0-9][A-Za-z0-9]{60,}",
        0.9,
        Check::MixedCase,
    ),
    back_rule(
        "facebook_access_token",
        &["|"],
        r"^[0-9]{15,16}\|[A-Za-z0-9_-]{27}",
        (15, 16, Before::Digit),
        0.85,
        Check::Plain,
    ),
    rule(
        "twitter_bearer_token",
        &["AAAAAAAAAAAAAAAAAAAAA"],
        r"^A{20,}[A-Za-z0-9%]{30,}",
        0.9,
        Check::RunPrefix,
    ),
    rule(
        "instagram_token",
        &["IGQV"],
        r"^IGQV[A-Za-z0-9_-]{100,}",
        0.9,
        Check::Plain,
    ),
    rule(
        "twilio_api_key",
        &["SK"],
        r"^SK[0-9a-fA-F]{32}",
        0.9,
        Check::HasDigit,
    ),
    rule(
        "sendgrid_api_key",
        &["SG."],
        r"^SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}",
        1.0,
        Check::Plain,
    ),
    rule(
        "brevo_api_key",
        &["xkeysib-", "xsmtpsib-"],
        r"^x(?:key|smtp)sib-[a-f0-9]{64}-[A-Za-z0-9]{16}",
        0.95,
        Check::Plain,
    ),
    back_rule(
        "mailchimp_api_key",
        &["-us"],
        r"^[0-9a-f]{32}-us[0-9]{1,2}",
        (32, 32, Before::LowerHex),
        0.9,
        Check::Plain,
    ),
    rule(
        "mailgun_api_key",
        &["key-"],
        r"^key-[0-9a-f]{32}",
        0.85,
        Check::HasDigit,
    ),
    rule(
        "shopify_token",
        &["shpat_", "shpca_", "shppa_", "shpss_"],
        r"^shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}",
        0.95,
        Check::Plain,
    ),
    rule(
        "notion_token",
        &["ntn_"],
        r"^ntn_[0-9]{6}[A-Za-z0-9]{40}",
        0.95,
        Check::MixedCase,
    ),
    rule(
        "notion_token",
        &["secret_"],
        r"^secret_[A-Za-z0-9]{43}",
        0.85,
        Check::MixedCase,
    ),
    rule(
        "dropbox_token",
        &["sl."],
        r"^sl\.[A-Za-z0-9_-]{130,}",
        0.9,
        Check::MixedCase,
    ),
    rule(
        "akamai_token",
        &["akab-"],
        r"^akab-[a-z0-9]{16}-[a-z0-9]{16}",
        0.9,
        Check::HasDigit,
    ),
    rule(
        "private_key",
        &["LS0tLS1CRUdJTi"],
        r"^LS0tLS1CRUdJTi[A-Za-z0-9+/]{40,}={0,2}",
        0.9,
        Check::Base64Pem,
    ),
    rule(
        "jwt",
        &["eyJ"],
        r"^eyJ[A-Za-z0-9_-]{8,}={0,2}\.eyJ[A-Za-z0-9_-]{8,}={0,2}(?:\.[A-Za-z0-9_-]*)?",
        0.95,
        Check::Jwt,
    ),
];
