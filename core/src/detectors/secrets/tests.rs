//! Unit tests of the secrets detector. Every token here is synthetic (random characters in the
//! vendor's published shape), made up for these tests.

use super::*;

fn detector() -> SecretsDetector {
    SecretsDetector::new(&SecretsOptions::default()).unwrap()
}

/// The rules' regexes compile on first use ([`LazyRegex`]): every one must compile (a rule
/// whose regex did not would silently never match), and all guards share one table.
#[test]
fn every_rule_regex_compiles_and_guards_share_them() {
    let d = detector();
    assert_eq!(d.shared.regexes.len(), d.shared.rules.len());
    for (rule, re) in d.shared.rules.iter().zip(&d.shared.regexes) {
        assert!(re.get().is_some(), "rule `{}`: {}", rule.kind, re.as_str());
    }
    assert_eq!(
        d.shared.context_regexes.len(),
        context_rules::CONTEXT_RULES.len()
    );
    for (rule, re) in context_rules::CONTEXT_RULES
        .iter()
        .zip(&d.shared.context_regexes)
    {
        assert!(re.get().is_some(), "rule `{}`: {}", rule.kind, re.as_str());
    }
    let other = SecretsDetector::new(&SecretsOptions {
        entropy_threshold: 4.0,
        kinds: Some(vec!["github_token".into()]),
    })
    .unwrap();
    assert!(std::ptr::eq(d.shared, other.shared));
}

fn scan_with(d: &SecretsDetector, text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    d.scan(&ScanText::new(text), &mut out);
    for m in &out {
        assert!(m.start < m.end, "empty span in {text:?}");
        assert!(
            text.is_char_boundary(m.start) && text.is_char_boundary(m.end),
            "{text:?}"
        );
        assert!((0.0..=1.0).contains(&m.score));
    }
    out.iter()
        .map(|m| (m.kind.to_string(), text[m.start..m.end].to_string()))
        .collect()
}

/// `(text, expected kind, expected masked span)`; the span must match exactly.
fn check_positive(cases: &[(&str, &str, &str)]) {
    let d = detector();
    for (text, kind, span) in cases {
        let got = scan_with(&d, text);
        assert!(
            got.iter().any(|(k, s)| k == kind && s == span),
            "expected {kind}:{span:?} in {text:?}, got {got:?}"
        );
    }
}

fn check_negative(cases: &[&str]) {
    let d = detector();
    for text in cases {
        let got = scan_with(&d, text);
        assert!(got.is_empty(), "expected nothing in {text:?}, got {got:?}");
    }
}

#[test]
fn cloud_provider_keys() {
    check_positive(&[
        ("key id AKIAUJZDEGXDNCF32EPF here", "aws_access_key", "AKIAUJZDEGXDNCF32EPF"),
        ("\"ASIAQ3RZ7KX2LMNP4TUV\",", "aws_access_key", "ASIAQ3RZ7KX2LMNP4TUV"),
        (
            "aws_secret_access_key = 2hpChYgCfrL1spNxnyVmihA+2O76UMFxFkM+R5Kj",
            "aws_secret_key",
            "2hpChYgCfrL1spNxnyVmihA+2O76UMFxFkM+R5Kj",
        ),
        ("maps key AIzaz5r1pY4OjE2jBMptUsGr7CmY_uCu3ZR1zTO", "google_api_key", "AIzaz5r1pY4OjE2jBMptUsGr7CmY_uCu3ZR1zTO"),
        (
            "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=lsHUqJoUD/+Ydua+5ZMs1SWOpQaPRYpzbLGViYXjU2JgJngKtFI3OyV2dZAkg05rK+gqv81RKMGHZEM9YpvujA==;",
            "azure_storage_key",
            "lsHUqJoUD/+Ydua+5ZMs1SWOpQaPRYpzbLGViYXjU2JgJngKtFI3OyV2dZAkg05rK+gqv81RKMGHZEM9YpvujA==",
        ),
        (
            "client_secret: b3X8Q~UzYZAa3u2olZU6uqbgsYlV.vsSKuvinX_z",
            "azure_ad_client_secret",
            "b3X8Q~UzYZAa3u2olZU6uqbgsYlV.vsSKuvinX_z",
        ),
        (
            "DO_TOKEN=dop_v1_c1c1e21862ab8a18a8902073fec8df4f50947aaeb26c57d21fa5d328263dfe57",
            "digitalocean_token",
            "dop_v1_c1c1e21862ab8a18a8902073fec8df4f50947aaeb26c57d21fa5d328263dfe57",
        ),
    ]);
    check_negative(&[
        "AKIAUJZDEGXDNCF32EP",                     // too short
        "XAKIAUJZDEGXDNCF32EPF",                   // glued to a word
        "akiaujzdegxdncf32epf",                    // wrong case
        "AKIAXXXXXXXXXXXXXXXX",                    // placeholder
        "aws_access_key_id: AKIAIOSFODNN7EXAMPLE", // documentation example
        "AIzaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "client_secret=bP88Q~xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "the ~~~~~~~~~~~~~~ divider",
    ]);
}

#[test]
fn ai_and_code_hosting_tokens() {
    check_positive(&[
        (
            "OPENAI_API_KEY=sk-proj-hGAkWvj7FAc9QeWJKY40T3BlbkFJuvSwMFLZDe1f8rESQedU",
            "openai_api_key",
            "sk-proj-hGAkWvj7FAc9QeWJKY40T3BlbkFJuvSwMFLZDe1f8rESQedU",
        ),
        (
            "key: sk-ant-api03-N5KXSc7Tvo-hBKqFYY-kv5ZJr3J1TWDtkwtDDb_xHKas1VOqg6YYZYn9ZhyiA4uoRgnatmUdjAWtGSU8po_799NksnAA",
            "anthropic_api_key",
            "sk-ant-api03-N5KXSc7Tvo-hBKqFYY-kv5ZJr3J1TWDtkwtDDb_xHKas1VOqg6YYZYn9ZhyiA4uoRgnatmUdjAWtGSU8po_799NksnAA",
        ),
        ("git remote set-url origin ghp_VvVqE1SkHbn88HxjSI6bWHtP3fS2qHx6kwXo", "github_token", "ghp_VvVqE1SkHbn88HxjSI6bWHtP3fS2qHx6kwXo"),
        (
            "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",
            "github_fine_grained_pat",
            "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",
        ),
        ("token glpat-Z8UzDzV8fUkkibjL5DZP", "gitlab_token", "glpat-Z8UzDzV8fUkkibjL5DZP"),
        ("login --token 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", "huggingface_token", "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"),
        ("npm_7CgQ0PBQFI14zGtSnovm14TUOizwd1iaeOV4", "npm_token", "npm_7CgQ0PBQFI14zGtSnovm14TUOizwd1iaeOV4"),
        (
            "//registry.npmjs.org/:_authToken=7c1f3a9e-52b4-4d8a-9e61-0f3b2c7d9a15",
            "npm_token",
            "7c1f3a9e-52b4-4d8a-9e61-0f3b2c7d9a15",
        ),
        (
            "password = pypi-AgEIcHlwaS5vcmcG3uhkWKFLf6xuI5aHUQPFeNBTxaQWk8JzFalHlsZfYcMMDktXP-tKsf2rcDkdfrUnW5gcF_Ha6ili8GjHEAD6-Wj9KfzjsQGMrb9",
            "pypi_token",
            "pypi-AgEIcHlwaS5vcmcG3uhkWKFLf6xuI5aHUQPFeNBTxaQWk8JzFalHlsZfYcMMDktXP-tKsf2rcDkdfrUnW5gcF_Ha6ili8GjHEAD6-Wj9KfzjsQGMrb9",
        ),
    ]);
    check_negative(&[
        "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "foo_VvVqE1SkHbn88HxjSI6bWHtP3fS2qHx6kwXo",
        "sk-proj-hGAkWvj7FAc9QeWJKY40T4BlbkFJuvSwMFLZDe1f8rESQedU", // no OpenAI marker
        "the hf_requiredCharacteristicTypesForDisplayMetadata selector",
        "glpat-short",
        "pypi-AgEIcHlwaS5vcmcshort",
        "//registry.npmjs.org/:_authToken=${NPM_TOKEN}",
    ]);
}

#[test]
fn messaging_and_payment_tokens() {
    check_positive(&[
        (
            "SLACK_BOT_TOKEN=xoxb-299752882001-8263304348395-qIA1id6Vw5DQL05HA064GiIj",
            "slack_token",
            "xoxb-299752882001-8263304348395-qIA1id6Vw5DQL05HA064GiIj",
        ),
        (
            "post to https://hooks.slack.com/services/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 now",
            "slack_webhook",
            "hooks.slack.com/services/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",
        ),
        ("stripe.api_key = \"sk_live_NGMGmSrCGIZEG8pSH4487q7J\"", "stripe_key", "sk_live_NGMGmSrCGIZEG8pSH4487q7J"),
        ("SK2b0aee0ca923732881584d8c4fa2815d", "twilio_api_key", "SK2b0aee0ca923732881584d8c4fa2815d"),
        (
            "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",
            "sendgrid_api_key",
            "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",
        ),
        (
            "bot token NDE4MjY1OTMwMTcyNjQ1Mzgx.BTW5ZE._ajY75FnCttn6kfaqDeMqG3omjMyXHCabM6JOF",
            "discord_token",
            "NDE4MjY1OTMwMTcyNjQ1Mzgx.BTW5ZE._ajY75FnCttn6kfaqDeMqG3omjMyXHCabM6JOF",
        ),
        (
            "https://api.telegram.org/bot6123456789:AA8EFd0Nhcy-1kGD2VD-eR1UYzaLiA-zNyD/getMe",
            "telegram_bot_token",
            "6123456789:AA8EFd0Nhcy-1kGD2VD-eR1UYzaLiA-zNyD",
        ),
        ("e7893f57fd14c1604d115cea325a65e1-us14", "mailchimp_api_key", "e7893f57fd14c1604d115cea325a65e1-us14"),
        ("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", "shopify_token", "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"),
    ]);
    check_negative(&[
        "xoxb-12345-abcd234",
        "xoxp-XXXXXXXXXX-XXXXXXXXXX-XXXXXXXXXXX-XXXXXXXXXXXXXXXX",
        "pk_live_NGMGmSrCGIZEG8pSH4487q7J", // publishable key
        "SG.5er8bOfZqfM2oeq3hDavJA..76rNicHTp8hkqdlm7tOtHWnsCGRlrwZbqcabUGJmGEp",
        "aGVsbG8gd29ybGQgaGVsbG8.BTW5ZE._ajY75FnCttn6kfaqDeMqG3omjMyXHCabM6JOF", // not a user id
        "foo:AA8EFd0Nhcy-1kGD2VD-eR1UYzaLiA-zNyD",
        "| a | b |\n|---|---|\n| 1 | 2 |",
    ]);
}

#[test]
fn jwt_and_private_keys() {
    let jwt = "eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9.eyJzdWIiOiAidS00MiIsICJpYXQiOiAxNzAwMDAwMDAwfQ.-C5Q52ryFlwRlOEVHzc0X0AWIRh-JUqBlIFXZ53Ncqe";
    let pem = "-----BEGIN RSA PRIVATE KEY-----\nXV54wca+7E56w8ZniqT3Ul4ffqkOkgWrdioyq+KvCiSGuPJ6sG9AHEOVezxZuJPW\n-----END RSA PRIVATE KEY-----";
    let text = format!("cfg:\n{pem}\ntrailer");
    let open = "key:\n-----BEGIN OPENSSH PRIVATE KEY-----\nXV54wca+7E56w8ZniqT3Ul4ffqkOk";
    check_positive(&[
        (&format!("Authorization: Bearer {jwt}"), "jwt", jwt),
        (&text, "private_key", pem),
        (open, "private_key", &open[5..]),
    ]);
    check_negative(&[
        "eyJub3QiOiJqd3QifQ.eyJzdWIiOiAidS00MiJ9.abc", // header without alg/typ
        "eyJAAAA.eyJBBB",
        "-----BEGIN PUBLIC KEY-----\nXV54wca+7E56w8ZniqT3Ul4ffqkOkgWrdioyq+KvCiSG\n-----END PUBLIC KEY-----",
        "-----BEGIN PRIVATE KEY----------END PRIVATE KEY-----",
    ]);
}

#[test]
fn keyword_assignments() {
    check_positive(&[
        ("password = \"Tr0ub4dor&3x\"", "password", "Tr0ub4dor&3x"),
        ("DB_PASS: quokka!42", "password", "quokka!42"),
        ("user=admin pwd=Zebra#2291", "password", "Zebra#2291"),
        ("ID:operator PW:Kv9!rT2m", "password", "Kv9!rT2m"),
        (
            "mysql -u root --password Hq7vLm2pX9",
            "password",
            "Hq7vLm2pX9",
        ),
        (
            "val password: String = \"gr4pe!Vine\"",
            "password",
            "gr4pe!Vine",
        ),
        (
            "$cfg['password'] => 'w1nt3r-Fox!';",
            "password",
            "w1nt3r-Fox!",
        ),
        ("if (passwd == \"m0ss&Stone\") {", "password", "m0ss&Stone"),
        (
            "if (\"m0ss&Stone\" != db_password) {",
            "password",
            "m0ss&Stone",
        ),
        (
            "<Password>Lantern#88q</Password>",
            "password",
            "Lantern#88q",
        ),
        (
            "CREATE USER app IDENTIFIED BY 'Sk1ff-Harbor9';",
            "password",
            "Sk1ff-Harbor9",
        ),
        (
            "api_key: \"hjpU05mc4J1WRcQ1uhyMDJ2OXtPAtLpB\"",
            "generic_secret",
            "hjpU05mc4J1WRcQ1uhyMDJ2OXtPAtLpB",
        ),
        (
            "\"clientSecret\": \"Qm9hdH7xLk2pWz8rTn4v\"",
            "generic_secret",
            "Qm9hdH7xLk2pWz8rTn4v",
        ),
        (
            "export AUTH_TOKEN=f3a9c1e07b2d4a6e8c5b9d0a1e2f3c4b",
            "generic_secret",
            "f3a9c1e07b2d4a6e8c5b9d0a1e2f3c4b",
        ),
        (
            "-H \"Authorization: Bearer Zk4pQ8rT2vWx6yB1nM3s\"",
            "bearer_token",
            "Zk4pQ8rT2vWx6yB1nM3s",
        ),
        (
            "curl -u deploy:Gh7!kP2qZx https://example.test",
            "basic_auth",
            "Gh7!kP2qZx",
        ),
    ]);
    check_negative(&[
        "password = getpass.getpass(\"Enter password: \")",
        "api_key = os.getenv(\"OPENAI_API_KEY\")",
        "api_key = os.environ[\"OPENAI_API_KEY\"]",
        "const apiKey = process.env.API_KEY;",
        "password: ${DB_PASSWORD}",
        "secret_key = settings.SECRET_KEY",
        "token = \"<YOUR_TOKEN>\"",
        "api_key = \"your_api_key_here\"",
        "password = \"xxxxxxxx\"",
        "password = \"changeme\"",
        "\"max_tokens\": 256,",
        "primary_key = \"a1b2c3d4e5f6g7h8\"",
        "password_min_length = 12",
        "The key to success is practice.",
        "The password must be at least 8 characters long.",
        "Authorization: Bearer <token>",
        "Authorization: Basic dXNlcjpwYXNzd29yZA==",
        "curl -u $USER:$TOKEN https://example.test",
        "curl -u user:password https://example.test",
        "git push -u origin main",
        "sort_key = \"created_at\"",
        "key = lambda x: x[1]",
        "pwd: /home/user/project",
        "token: 12345",
        "some_key = \"real_secret\"",
    ]);
}

#[test]
fn urls_with_credentials() {
    check_positive(&[
        (
            "DATABASE_URL=postgres://app:Wq8zLp2vRt@db.internal:5432/app",
            "database_url_password",
            "Wq8zLp2vRt",
        ),
        (
            "mongodb+srv://svc:Pk3x9Lm2@cluster0.example.net/test",
            "database_url_password",
            "Pk3x9Lm2",
        ),
        (
            "git clone https://deploy:Hx82kLq9Zr@git.example.test/repo.git",
            "url_credentials",
            "Hx82kLq9Zr",
        ),
    ]);
    check_negative(&[
        "postgres://user:password@localhost:5432/db",
        "mongodb://localhost:27017/mydb",
        "https://www.example.com/path?key=value&page=2",
        "https://user:${PASSWORD}@host.example.test",
        "\"https://url:8000\";@something else",
    ]);
}

#[test]
fn kinds_filter_and_options() {
    let d = SecretsDetector::new(&SecretsOptions {
        kinds: Some(vec!["github_token".into()]),
        ..Default::default()
    })
    .unwrap();
    let got = scan_with(
        &d,
        "ghp_VvVqE1SkHbn88HxjSI6bWHtP3fS2qHx6kwXo AKIAUJZDEGXDNCF32EPF",
    );
    assert_eq!(
        got,
        vec![(
            "github_token".to_string(),
            "ghp_VvVqE1SkHbn88HxjSI6bWHtP3fS2qHx6kwXo".to_string()
        )]
    );

    let err = SecretsDetector::new(&SecretsOptions {
        kinds: Some(vec!["foo".into()]),
        ..Default::default()
    })
    .err()
    .unwrap();
    assert!(
        err.starts_with("kinds: unknown secret kind `foo`; known kinds: "),
        "{err}"
    );
    let err = SecretsDetector::new(&SecretsOptions {
        entropy_threshold: -1.0,
        kinds: None,
    })
    .err()
    .unwrap();
    assert!(err.starts_with("entropy_threshold: "), "{err}");

    let kinds: Vec<&str> = SecretsDetector::kinds().collect();
    for k in [
        "aws_access_key",
        "aws_secret_key",
        "openai_api_key",
        "anthropic_api_key",
        "github_token",
        "github_fine_grained_pat",
        "gitlab_token",
        "slack_token",
        "slack_webhook",
        "stripe_key",
        "google_api_key",
        "twilio_api_key",
        "sendgrid_api_key",
        "npm_token",
        "pypi_token",
        "huggingface_token",
        "azure_storage_key",
        "jwt",
        "private_key",
        "database_url_password",
        "generic_secret",
        "password",
    ] {
        assert!(kinds.contains(&k), "{k}");
    }
    let mut dedup = kinds.clone();
    dedup.sort_unstable();
    dedup.dedup();
    assert_eq!(dedup.len(), kinds.len());

    let opts: SecretsOptions = serde_json::from_str(r#"{"entropy_threshold": 3.5}"#).unwrap();
    assert_eq!(opts.entropy_threshold, 3.5);
    assert!(serde_json::from_str::<SecretsOptions>(r#"{"bogus": 1}"#).is_err());
    assert_eq!(
        serde_json::from_str::<SecretsOptions>("{}").unwrap(),
        SecretsOptions::default()
    );

    let d = detector();
    assert_eq!(d.name(), "secrets");
    assert_eq!(d.category(), Category::Secret);
}

#[test]
fn entropy_threshold_is_applied() {
    // 24 characters, 2.9 bits/char: below the default 3.0, above a lax 2.0
    let text = "api_key = \"aaaabbbbccccdddd1234eeee\"";
    assert!(scan_with(&detector(), text).is_empty());
    let lax = SecretsDetector::new(&SecretsOptions {
        entropy_threshold: 2.0,
        kinds: None,
    })
    .unwrap();
    assert_eq!(scan_with(&lax, text).len(), 1);
}

#[test]
fn never_panics_on_odd_input() {
    let d = detector();
    let pieces = [
        "pass",
        "=",
        ":",
        "\"",
        "'",
        "é",
        "€",
        "𝄞",
        "AKIA",
        "eyJ",
        "://",
        "@",
        "-----BEGIN PRIVATE KEY-----",
        "\\",
        "ghp_",
        "Q~",
        ":AA",
        "-us",
        "|",
        " ",
        "\n",
        "0123456789",
        "xoxb-",
        "MT",
        "kty",
        "\"kty\"",
        "IDENTIFIED BY",
        "-u ",
        "%3D",
        "sshpass -p",
        "mysql ",
        "-p",
        "machine ",
        " password ",
        "$6$",
        "$2b$12$",
        "SSWS 00",
        "maker.ifttt.com/trigger/",
    ];
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..20_000 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let n = (seed % 24) as usize;
        let mut t = String::new();
        let mut s = seed;
        for _ in 0..n {
            t.push_str(pieces[(s % pieces.len() as u64) as usize]);
            s = s.rotate_left(7) ^ 0x5851_F42D_4C95_7F2D;
        }
        scan_with(&d, &t);
    }
    // long inputs without an END line, and text made only of anchors
    scan_with(
        &d,
        &format!("-----BEGIN PRIVATE KEY-----\n{}", "é".repeat(20_000)),
    );
    scan_with(&d, &"AAAAAAAAAAAAAAAAAAAAA".repeat(500));
    scan_with(&d, &"password=".repeat(2_000));
    scan_with(&d, &"machine h login u ".repeat(2_000));
    scan_with(&d, &"sshpass -p ".repeat(2_000));
    scan_with(&d, &format!("mysql {}", "-u x ".repeat(2_000)));
    scan_with(&d, "");
}

/// A random-looking string of `n` characters from `alphabet`, from a fixed seed (LCG), so the
/// vendor-catalogue tests need no hand-typed tokens.
fn synth(alphabet: &str, n: usize, seed: u64) -> String {
    let a = alphabet.as_bytes();
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            a[((x >> 33) % a.len() as u64) as usize] as char
        })
        .collect()
}

const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX: &str = "0123456789abcdef";
const LOWER_ALNUM: &str = "abcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const CRYPT64: &str = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

#[test]
fn vendor_catalogue() {
    // (kind, prefix, alphabet, length, suffix): the token is prefix + random body + suffix.
    let formats: &[(&str, &str, &str, usize, &str)] = &[
        ("openshift_token", "sha256~", ALNUM, 43, ""),
        ("openrouter_api_key", "sk-or-v1-", HEX, 64, ""),
        ("elevenlabs_api_key", "sk_", HEX, 48, ""),
        ("prefect_api_key", "pnu_", ALNUM, 36, ""),
        ("readme_api_key", "rdme_", LOWER_ALNUM, 70, ""),
        ("shippo_token", "shippo_live_", HEX, 40, ""),
        ("typeform_token", "tfp_", ALNUM, 59, ""),
        ("frameio_token", "fio-u-", ALNUM, 64, ""),
        ("gocardless_token", "live_", ALNUM, 40, ""),
        ("neon_api_key", "napi_", LOWER_ALNUM, 64, ""),
        ("buildkite_token", "bkua_", HEX, 40, ""),
        ("contentful_token", "CFPAT-", ALNUM, 43, ""),
        ("duffel_token", "duffel_test_", ALNUM, 43, ""),
        ("easypost_api_key", "EZAK", LOWER_ALNUM, 54, ""),
        ("tencent_secret_id", "AKID", ALNUM, 32, ""),
        ("yandex_api_key", "AQVN", ALNUM, 35, ""),
        (
            "flutterwave_key",
            "FLWSECK_TEST-",
            "abcdefgh0123456789",
            32,
            "-X",
        ),
        ("nvidia_api_key", "nvapi-", ALNUM, 64, ""),
        ("render_api_key", "rnd_", ALNUM, 32, ""),
        ("gitlab_token", "glptt-", HEX, 40, ""),
        ("gitlab_token", "gloas-", ALNUM, 64, ""),
        ("woocommerce_key", "ck_", HEX, 40, ""),
        ("woocommerce_key", "cs_", HEX, 40, ""),
        ("mailersend_api_token", "mlsn.", HEX, 64, ""),
        ("adafruit_io_key", "aio_", ALNUM, 28, ""),
        ("razorpay_key", "rzp_live_", ALNUM, 14, ""),
        ("crates_io_token", "cio", ALNUM, 32, ""),
        ("shopify_partner_token", "prtapi_", HEX, 32, ""),
        ("segment_api_token", "sgp_", ALNUM, 64, ""),
        ("deno_deploy_token", "ddp_", ALNUM, 36, ""),
        ("cerebras_api_key", "csk-", LOWER_ALNUM, 40, ""),
        ("firecrawl_api_key", "fc-", HEX, 32, ""),
        ("e2b_api_key", "e2b_", HEX, 40, ""),
        ("trello_token", "ATTA", HEX, 64, ""),
        ("clickup_token", "pk_4810273_", UPPER_ALNUM, 32, ""),
        ("axiom_token", "xaat-8f2c41d0-7b3e-4a19-9c5d-", HEX, 12, ""),
        (
            "zoho_oauth_token",
            "1000.5e0c9b2a7d4f18e36c0ab95d2f7e4c81.",
            HEX,
            32,
            "",
        ),
        (
            "mercadopago_access_token",
            "APP_USR-4817205539618274-120625-",
            HEX,
            32,
            "-381946502",
        ),
    ];
    let d = detector();
    for (i, (kind, prefix, alphabet, len, suffix)) in formats.iter().enumerate() {
        let body = synth(alphabet, *len, i as u64 + 7);
        let token = format!("{prefix}{body}{suffix}");
        let text = format!("config: {token}\n");
        let got = scan_with(&d, &text);
        assert!(
            got.iter().any(|(k, s)| k == kind && *s == token),
            "{kind}: {token} → {got:?}"
        );
        // One character short of the documented length, or a masked body: nothing of this kind.
        let short = format!("config: {prefix}{}{suffix} ", &body[1..]);
        let masked = format!("config: {prefix}{}{suffix} ", "x".repeat(*len));
        for near in [short, masked] {
            let got = scan_with(&d, &near);
            assert!(
                !got.iter().any(|(k, _)| k == kind),
                "{kind}: near miss {near} → {got:?}"
            );
        }
    }
}

#[test]
fn github_checksum_raises_score() {
    let d = detector();
    let score = |t: &str| {
        let mut out = Vec::new();
        d.scan(&ScanText::new(t), &mut out);
        out.first().map(|m| m.score)
    };
    // body + CRC-32 in base62 (computed with Python's zlib.crc32); then a wrong checksum
    assert_eq!(score("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"), Some(1.0));
    assert_eq!(
        score("ghp_Zq3TfL9xWv2KpR7mNc4BdH8sJy6GaE4O4lEz"),
        Some(0.95)
    );
}

/// Tokens whose span is a part of their anchor's match, and webhook URLs.
#[test]
fn tokens_inside_a_frame() {
    let okta = format!("00{}", synth(ALNUM, 40, 3));
    let ifttt = synth(ALNUM, 22, 4);
    let make = format!("hook.eu1.make.com/{}", synth(LOWER_ALNUM, 32, 5));
    let teamcity = format!(
        "eyJ0eXAiOiAiVENWMiJ9.{}.{}",
        synth(ALNUM, 36, 6),
        synth(ALNUM, 48, 7)
    );
    check_positive(&[
        (
            &format!("curl -H 'Authorization: SSWS {okta}' https://x.okta.com/api/v1/users"),
            "okta_api_token",
            &okta,
        ),
        (
            &format!("POST https://maker.ifttt.com/trigger/door_open/with/key/{ifttt}"),
            "ifttt_webhook",
            &ifttt,
        ),
        (&format!("webhook: https://{make}"), "make_webhook", &make),
        (
            &format!("TEAMCITY_TOKEN {teamcity}"),
            "teamcity_token",
            &teamcity,
        ),
    ]);
    check_negative(&[
        "Authorization: SSWS 00xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "Authorization: SSWS <your-api-token>",
        "https://maker.ifttt.com/trigger/door_open/with/key/YOUR_KEY",
    ]);
}

/// crypt(3) hashes of each scheme, and look-alikes one character short or in prose.
#[test]
fn password_hashes() {
    let md5 = format!("$1${}${}", synth(CRYPT64, 8, 11), synth(CRYPT64, 22, 12));
    let apr1 = format!("$apr1${}${}", synth(CRYPT64, 8, 13), synth(CRYPT64, 22, 14));
    let bcrypt = format!("$2b$12${}", synth(CRYPT64, 53, 15));
    let sha256 = format!(
        "$5$rounds=5000${}${}",
        synth(CRYPT64, 16, 16),
        synth(CRYPT64, 43, 17)
    );
    let sha512 = format!("$6${}${}", synth(CRYPT64, 16, 18), synth(CRYPT64, 86, 19));
    check_positive(&[
        (&format!("admin:{md5}"), "password_hash", &md5),
        (&format!("alice:{apr1}\n"), "password_hash", &apr1),
        (
            &format!("hashed_password = \"{bcrypt}\""),
            "password_hash",
            &bcrypt,
        ),
        (
            &format!("bob:{sha256}:19700:0:99999:7:::"),
            "password_hash",
            &sha256,
        ),
        (
            &format!("root:{sha512}:19700:0:99999:7:::"),
            "password_hash",
            &sha512,
        ),
    ]);
    check_negative(&[
        &format!("$2b$12${}", &synth(CRYPT64, 53, 15)[1..]),
        &format!(
            "root:$6${}${}:",
            synth(CRYPT64, 16, 18),
            &synth(CRYPT64, 86, 19)[1..]
        ),
        "bcrypt hashes look like $2b$<cost>$<22-char salt><31-char hash>",
        "sed -e 's/$1$2/x/' file",
        "root:*:19700:0:99999:7:::",
    ]);
}

/// `.netrc` entries, on one line or several.
#[test]
fn netrc_passwords() {
    check_positive(&[
        (
            "machine api.example.test login alice password Qw7zR2kLp9Xv",
            "password",
            "Qw7zR2kLp9Xv",
        ),
        (
            "cat ~/.netrc\nmachine git.example.test\n  login deploy\n  password hT4m-Vq8s!Lz2\n",
            "password",
            "hT4m-Vq8s!Lz2",
        ),
        (
            "machine ftp.example.test password n8Rw3KzP2q",
            "password",
            "n8Rw3KzP2q",
        ),
    ]);
    check_negative(&[
        "machine api.example.test login alice password $NETRC_PASSWORD",
        "machine api.example.test login alice password <your-password>",
        "machine api.example.test login alice password password",
        "A machine learning model can log in users with a password reset flow.",
        "the machine login prompt asks for a password twice",
    ]);
}

/// Commands whose password flag is known.
#[test]
fn command_line_password_flags() {
    check_positive(&[
        (
            "sshpass -p 'Zq8vT3mWx9Lk' ssh root@host",
            "password",
            "Zq8vT3mWx9Lk",
        ),
        (
            "sshpass -pZq8vT3mWx9Lk ssh root@host",
            "password",
            "Zq8vT3mWx9Lk",
        ),
        (
            "docker login -u bot -p Zq8vT3mWx9Lk registry.example.test",
            "password",
            "Zq8vT3mWx9Lk",
        ),
        (
            "helm registry login reg.example.test --username bot --password Zq8vT3mWx9Lk",
            "password",
            "Zq8vT3mWx9Lk",
        ),
        (
            "redis-cli -h cache -a \"Zq8vT3mWx9Lk\" ping",
            "password",
            "Zq8vT3mWx9Lk",
        ),
        (
            "mysql -u root -pZq8vT3mWx9Lk app < dump.sql",
            "password",
            "Zq8vT3mWx9Lk",
        ),
        (
            "mysqldump -uroot -p'Zq8vT3mWx9Lk' app",
            "password",
            "Zq8vT3mWx9Lk",
        ),
    ]);
    check_negative(&[
        // a bare `-p` prompts; the next argument is the database
        "mysql -u root -p app_production",
        "mkdir -p build/out && docker run -p 8080:80 nginx",
        "docker login -u bot --password-stdin registry.example.test",
        "docker login -u bot -p $REGISTRY_PASSWORD registry.example.test",
        "pymysql -pZq8vT3mWx9Lk",
        "sshpass -f ~/.pw ssh host\nmkdir -p Zq8vT3mWx9Lk",
        "redis-cli -h cache ping | grep -a Zq8vT3mWx9Lk",
    ]);
}

/// A value of one of a vendor-context rule's shapes, made up from `seed`.
fn context_value(shape: &context_rules::Shape, seed: u64) -> String {
    match *shape {
        context_rules::Shape::Run {
            prefix,
            alphabet,
            min,
            ..
        } => format!("{prefix}{}", synth(alphabet.chars(), min, seed)),
        context_rules::Shape::Uuid => format!(
            "{}-{}-4{}-a{}-{}",
            synth(HEX, 8, seed),
            synth(HEX, 4, seed + 1),
            synth(HEX, 3, seed + 2),
            synth(HEX, 3, seed + 3),
            synth(HEX, 12, seed + 4)
        ),
        context_rules::Shape::Raw { example, .. } => example.to_string(),
    }
}

#[test]
fn vendor_context_catalogue() {
    let d = detector();
    let mut seed = 11;
    for rule in context_rules::CONTEXT_RULES {
        let word = rule.words[0];
        for shape in rule.shapes {
            seed += 1;
            let v = context_value(shape, seed);
            let upper = word.to_ascii_uppercase();
            // named after the vendor alone, in a config line, JSON, code and prose
            let carriers = [
                format!("{upper}_CLIENT={v}\n"),
                format!("{{\"{word}\": \"{v}\", \"region\": \"eu\"}}"),
                format!("{word}Secret: '{v}'"),
                format!("Here is my {word} api token: {v}. Thanks!"),
                format!("the {word} key is {v}"),
            ];
            for text in &carriers {
                let got = scan_with(&d, text);
                assert!(
                    got.iter().any(|(k, s)| k == rule.kind && *s == v),
                    "{}: {text:?} → {got:?}",
                    rule.kind
                );
            }
            // a longer run, the value without the vendor, the vendor in prose without a
            // credential word, and a masked value: nothing of this kind
            let mut near = vec![
                format!("config: {v}\n"),
                format!("the {word} release {v} is out"),
            ];
            if let context_rules::Shape::Run {
                prefix,
                alphabet,
                min,
                max,
            } = *shape
            {
                let longer = synth(alphabet.chars(), max + 1, seed);
                near.push(format!("{upper}_CLIENT={prefix}{longer}\n"));
                near.push(format!("{upper}_CLIENT={prefix}{}\n", "x".repeat(min)));
            }
            for text in &near {
                let got = scan_with(&d, text);
                assert!(
                    !got.iter().any(|(k, _)| k == rule.kind),
                    "{}: near miss {text:?} → {got:?}",
                    rule.kind
                );
            }
        }
    }
}

#[test]
fn vendor_context_reaches_names_the_generic_finder_does_not() {
    let d = detector();
    // no secret word in the key: only the vendor names it
    let text =
        "PAGERDUTY = 'u+Kq7Zp2Lm9Xr4Tn8Wv1'\nDATADOG_APP=\"4f1c8e2a9b7d3f60a5c28d1e9f3b7a04\"";
    let got = scan_with(&d, text);
    assert_eq!(
        got,
        vec![
            (
                "pagerduty_token".to_string(),
                "u+Kq7Zp2Lm9Xr4Tn8Wv1".to_string()
            ),
            (
                "datadog_api_key".to_string(),
                "4f1c8e2a9b7d3f60a5c28d1e9f3b7a04".to_string()
            ),
        ]
    );
    // the vendor's kind replaces the generic one where both read the value
    let got = scan_with(&d, "DATADOG_API_KEY=4f1c8e2a9b7d3f60a5c28d1e9f3b7a04");
    assert_eq!(got[0].0, "datadog_api_key");
    // ordinary mentions of the vendors stay clean
    for text in [
        "We moved our alerts from PagerDuty to Opsgenie last year.",
        "Twitter: @parapet_dev, 12 followers",
        "The Jira ticket PROJ-1234 tracks the Sentry issue 4021.",
        "sentry release 3f2a9c1b7d4e8f60a5c28d1e9f3b7a04c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6 deployed",
        "git commit -m 'datadog: bump agent' && git rev-parse HEAD",
        // a digest or a version under the vendor's name
        "SENTRY_RELEASE=3f2a9c1b7d4e8f60a5c28d1e9f3b7a04c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6",
        "gitea commit sha: 9f8e7d6c5b4a39281706f5e4d3c2b1a0f1e2d3c4",
        "DATADOG_AGENT_VERSION: 4f1c8e2a9b7d3f60a5c28d1e9f3b7a04",
    ] {
        assert_eq!(scan_with(&d, text), vec![], "{text}");
    }
}

#[test]
fn session_tokens_join_tokens_and_chat_webhooks() {
    let sts = format!(
        "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ{}",
        synth(ALNUM, 180, 3)
    );
    let old_sts = format!("FwoGZXIvYXdzEBYaD{}", synth(ALNUM, 150, 4));
    let jenkins = format!("AQAAABAAAAAQ{}=", synth(ALNUM, 63, 5));
    let k3s = format!(
        "K10{}::server:{}",
        synth(HEX, 64, 6),
        synth(LOWER_ALNUM, 32, 7)
    );
    let odt = format!("odt_{}", synth(ALNUM, 32, 8));
    let pina = format!("pina_AMA{}", synth(UPPER_ALNUM, 90, 9));
    let xata = format!("xau_{}", synth(ALNUM, 32, 10));
    let lark = format!(
        "open.feishu.cn/open-apis/bot/v2/hook/{}-{}-4{}-b{}-{}",
        synth(HEX, 8, 11),
        synth(HEX, 4, 12),
        synth(HEX, 3, 13),
        synth(HEX, 3, 14),
        synth(HEX, 12, 15)
    );
    let dingtalk = format!(
        "oapi.dingtalk.com/robot/send?access_token={}",
        synth(HEX, 64, 16)
    );
    let chat_token = format!("{}%3D", synth(ALNUM, 43, 17));
    let vpn_body: String = (0..16)
        .map(|i| format!("{}\n", synth(HEX, 32, 20 + i)))
        .collect();
    let cases: [(&str, &str, &str); 12] = [
        ("aws_session_token", &format!("aws_session_token = {sts}\n"), &sts),
        ("aws_session_token", &format!("export AWS_SESSION_TOKEN='{old_sts}'"), &old_sts),
        (
            "jenkins_encrypted_secret",
            &format!("<password>{{{jenkins}}}</password>"),
            &jenkins,
        ),
        ("k3s_token", &format!("K3S_TOKEN={k3s} k3s agent"), &k3s),
        ("dependency_track_api_key", &format!("X-Api-Key: {odt}"), &odt),
        ("pinterest_token", &format!("token {pina}"), &pina),
        ("xata_api_key", &format!("XATA {xata}"), &xata),
        ("lark_webhook", &format!("POST https://{lark}"), &lark),
        ("dingtalk_webhook", &format!("curl 'https://{dingtalk}'"), &dingtalk),
        (
            "google_chat_webhook",
            &format!(
                "https://chat.googleapis.com/v1/spaces/AAAAkq7Zp2L/messages?key={}&token={chat_token}",
                synth(ALNUM, 39, 18)
            ),
            &chat_token,
        ),
        (
            "private_key",
            &format!("-----BEGIN OpenVPN Static key V1-----\n{vpn_body}-----END OpenVPN Static key V1-----\n"),
            &vpn_body,
        ),
        (
            "bearer_token",
            "curl -H 'Authorization: Splunk 5c1e8a3f-9b2d-4e7a-8f60-1d3c5b7a9e24' https://hec:8088",
            "5c1e8a3f-9b2d-4e7a-8f60-1d3c5b7a9e24",
        ),
    ];
    for (kind, text, span) in cases {
        check_positive(&[(text, kind, span)]);
    }
    check_negative(&[
        // a short base64 run after the STS prefix, an unencrypted Jenkins value, K10 in prose,
        // an OpenVPN block cut short
        "IQoJb3JpZ2luX2VjEJr short",
        "<password>{AQAAABAAAAA}</password>",
        "The K10 model has 64 GB of RAM.",
        "-----BEGIN OpenVPN Static key V1-----\n0123\n-----END OpenVPN Static key V1-----",
        "rzp_live_xxxxxxxxxxxxxx",
    ]);
}

#[test]
fn identifiable_keys_base64_json_tokens_and_ai_platform_keys() {
    let azure = format!(
        "{}JQQJ99ALACAAAAAAAAAAAAAZDO{}",
        synth(ALNUM, 52, 31),
        synth(ALNUM, 6, 32)
    );
    let tunnel = format!("eyJhIjoi{}", synth(ALNUM, 180, 33));
    let neptune = format!("eyJhcGlfYWRkcmVzcyI6{}==", synth(ALNUM, 120, 34));
    let qstash = format!("eyJVc2VySUQiOi{}=", synth(ALNUM, 70, 35));
    let anyscale = format!("esecret_{}", synth(ALNUM, 26, 36));
    let jina = format!("jina_{}", synth(ALNUM, 60, 37));
    let browserbase = format!("bb_live_{}", synth(ALNUM, 27, 38));
    let fireworks = format!("fw_{}", synth(ALNUM, 24, 39));
    let voyage = format!("pa-{}", synth(ALNUM, 43, 40));
    let stytch = format!("secret-live-{}", synth(ALNUM, 36, 41));
    let cases: [(&str, String, &String); 10] = [
        (
            "azure_identifiable_key",
            format!("AccountKey={azure};EndpointSuffix=core"),
            &azure,
        ),
        (
            "cloudflare_tunnel_token",
            format!("cloudflared tunnel run --token {tunnel}"),
            &tunnel,
        ),
        (
            "neptune_api_token",
            format!("NEPTUNE_API_TOKEN=\"{neptune}\""),
            &neptune,
        ),
        ("qstash_token", format!("QSTASH_TOKEN={qstash}"), &qstash),
        ("anyscale_api_key", format!("key: {anyscale}"), &anyscale),
        ("jina_api_key", format!("Bearer {jina}"), &jina),
        (
            "browserbase_api_key",
            format!("{browserbase}\n"),
            &browserbase,
        ),
        ("fireworks_api_key", format!("({fireworks})"), &fireworks),
        (
            "voyage_api_key",
            format!("voyageai.Client(api_key='{voyage}')"),
            &voyage,
        ),
        ("stytch_secret", format!("secret={stytch}"), &stytch),
    ];
    let d = detector();
    for (kind, text, span) in &cases {
        let got = scan_with(&d, text);
        assert!(
            got.iter().any(|(k, s)| k == kind && s == *span),
            "{kind} in {text:?}: {got:?}"
        );
    }
    check_negative(&[
        // the signature without 52 characters before it, or glued to a longer run
        "JQQJ99ALACAAAAAAAAAAAAAZDO1e4d",
        // prefixes in ordinary words and short or made-up bodies
        "ciao, cioccolato e cioè",
        "fw_version = 2",
        "pa-ss the salt",
        "jina_embeddings_v2_base_en",
        "secret-live-reload is on",
        "bb_live_demo",
    ]);
    let glued = format!("x{azure}");
    let got = scan_with(&d, &glued);
    assert!(
        !got.iter().any(|(k, _)| k == "azure_identifiable_key"),
        "{got:?}"
    );
}
