//! The built-in rules: formats are facts (a prefix, a length, an alphabet, a
//! checksum); the patterns written from them are ours. Every rule carries
//! positive and negative examples that the test suite runs. Example values are
//! obviously fake (FAKE, EXAMPLE-free so they still match) or built from the
//! format's alphabet by hand.

use super::{Rule, Severity, Validator};

/// The built-in rule set.
pub static BUILTIN: &[Rule] = &[
    Rule {
        id: "aws-access-key-id",
        kind: "aws-access-key-id",
        severity: Severity::Critical,
        keywords: &["AKIA", "ASIA", "ABIA", "ACCA", "A3T"],
        pattern: r"\b((?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b",
        display: "A",
        positives: &[r"AWS_ACCESS_KEY_ID=AKIAFAKEFAKEFAKE2345", r#"{"key": "ASIAFAKEFAKEFAKE7777"}"#],
        negatives: &[r"AKIAFAKE", r"xAKIAFAKEFAKEFAKE2345y", r"AKIAIOSFODNN7EXAMPLE"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "aws-secret-access-key",
        kind: "aws-secret-access-key",
        severity: Severity::Critical,
        keywords: &["secret_access_key", "secretaccesskey", "secret-access-key", "secretAccessKey", "SecretAccessKey"],
        pattern: r#"(?i)(?:aws)?[_-]?secret[_-]?access[_-]?key["']?\s*(?:=>|[:=])\s*["']?([A-Za-z0-9/+]{40})(?:["'\s,;]|$)"#,
        min_entropy: Some(3.5),
        positives: &[
            r"AWS_SECRET_ACCESS_KEY=FAKEfake0123456789/FAKEfake+abcdEFGHijkl",
            r"aws_secret_access_key = FAKEfake0123456789/FAKEfake+abcdEFGHijkl",
            r#"secretAccessKey = "FAKEfake0123456789/FAKEfake+abcdEFGHijkl""#,
            r"aws_secret_access_key => FAKEfake0123456789/FAKEfake+abcdEFGHijkl",
        ],
        negatives: &[r"AWS_SECRET_ACCESS_KEY=<your-secret-key>", r"aws_secret_access_key = ${AWS_SECRET}"],
        assignment_within: &[0],
        value_within: 40,
        ..Rule::DEFAULT
    },
    Rule {
        id: "github-pat",
        kind: "github-pat",
        severity: Severity::High,
        keywords: &["ghp_"],
        pattern: r"\b(ghp_[A-Za-z0-9]{36})\b",
        validator: Some(Validator::GithubCrc32),
        display: "ghp_",
        positives: &[r"token: ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfa000000"],
        negatives: &[r"ghp_short", r"ghp_FAKEfakeFAKEfakeFAKEfakeFAKEfa0000001234"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "github-fine-grained-pat",
        kind: "github-pat",
        severity: Severity::High,
        keywords: &["github_pat_"],
        pattern: r"\b(github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b",
        display: "github_pat_",
        positives: &[r"github_pat_FAKEfakeFAKEfakeFAKE00_FAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfake000"],
        negatives: &[r"github_pat_tooShort"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "github-oauth-app-token",
        kind: "github-token",
        severity: Severity::High,
        keywords: &["gho_", "ghu_", "ghs_", "ghr_"],
        pattern: r"\b((?:gho|ghu|ghs|ghr)_[A-Za-z0-9]{36})\b",
        validator: Some(Validator::GithubCrc32),
        display: "gh?_",
        positives: &[r"gho_FAKEfakeFAKEfakeFAKEfakeFAKEfa000000"],
        negatives: &[r"gho_short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "github-refresh-token",
        kind: "github-token",
        severity: Severity::High,
        keywords: &["ghr_"],
        pattern: r"\b(ghr_[A-Za-z0-9]{76})\b",
        min_entropy: Some(3.5),
        display: "ghr_",
        positives: &[r"refresh_token=ghr_FAKEfake0123456789FAKEfake0123456789FAKEfake0123456789FAKEfake0123456789FAKE"],
        negatives: &[r"ghr_short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "github-oauth-client-secret",
        kind: "github-token",
        severity: Severity::High,
        keywords: &["github"],
        pattern: r##"(?i)github[\w.\-]{0,20}secret[\w\-]{0,10}["']?\s*[:=]\s*["']?([0-9a-f]{40})\b"##,
        min_entropy: Some(3.0),
        positives: &[r"GITHUB_CLIENT_SECRET=fa4e0123fa4e4fa4afa40123456789abfa4e0123"],
        negatives: &[r"GITHUB_CLIENT_SECRET=${GITHUB_CLIENT_SECRET}"],
        // `[\w.\-]{0,20}secret[\w\-]{0,10}` after `github`.
        assignment_within: &[36],
        value_within: 40,
        ..Rule::DEFAULT
    },
    Rule {
        id: "slack-token",
        kind: "slack-token",
        severity: Severity::High,
        keywords: &["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xoxo-", "xoxe-"],
        // Bot, user, app, refresh and the legacy shapes: digit groups, then a
        // random tail.
        // A configuration token (`xoxe.xoxp-1-…`, its own rule) is taken
        // whole by the first alternative, which captures nothing and needs
        // no boundary before it, so that the `xoxp-` inside it is not a token
        // here. The numbers of a token
        // whose secret part is cut or masked (`xoxp-1-2-3-####`) fail the
        // validator: a real token's last part holds a letter.
        // ASCII word boundaries: a token beside CJK text (`的xoxb-…`) is one.
        pattern: r"xoxe\.xox[a-z]-[0-9A-Za-z\-]*|(?-u:\b)(xox[abeoprs]-[0-9]{1,16}(?:-[0-9]{1,16}){0,3}-[0-9A-Za-z]{8,96})(?-u:\b)",
        validator: Some(Validator::TailHasLetter),
        display: "xox?-",
        positives: &[
            r"SLACK_BOT_TOKEN=xoxb-1234567890-1234567890123-FAKEfakeFAKEfakeFAKEfake",
            r#"token = "xoxb-12345678901-FAKEfakeFAKEfake12345678""#,
            r#"slackToken = "xoxs-123456789012-123456789-1234567890-fa4efa4efa""#,
        ],
        negatives: &[
            r"xoxb-123-456-abc",
            r"xoxb-",
            r"xoxe.xoxp-1-FAKEfakeFAKEfakeFAKEfake",
            r"xoxp-1234567890-1234567890-1234567890-####################",
        ],
        ..Rule::DEFAULT
    },
    Rule {
        id: "slack-app-token",
        kind: "slack-token",
        severity: Severity::High,
        keywords: &["xapp-"],
        pattern: r"\b(xapp-\d-[A-Z0-9]{6,16}-\d{6,16}-[0-9a-f]{20,80})\b",
        display: "xapp-",
        positives: &[r#"SLACK_APP_TOKEN="xapp-1-AFAKE00000-1234567890123-fa4efa4efa4efa4efa4efa4efa4efa4e""#],
        negatives: &[r"xapp-1-short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "slack-webhook",
        kind: "slack-webhook",
        severity: Severity::High,
        keywords: &["hooks.slack.com"],
        // Incoming webhooks (`services/T.../B.../...`) and workflow triggers.
        pattern: r"(https?://hooks\.slack\.com/(?:services/T[A-Za-z0-9]{6,12}/B[A-Za-z0-9]{6,12}/[A-Za-z0-9]{20,32}|(?:workflows|triggers)/T[A-Za-z0-9]{6,12}/A[A-Za-z0-9]{6,12}/[0-9]{6,24}/[A-Za-z0-9]{20,40}))",
        display: "https://hooks.slack.com/services/",
        positives: &[
            r"https://hooks.slack.com/services/TFAKE0000/BFAKE0000/FAKEfakeFAKEfakeFAKEfake",
            r"https://hooks.slack.com/workflows/TFAKE0000/AFAKE0000/123456789012345678/FAKEfakeFAKEfakeFAKEfake",
        ],
        negatives: &[r"https://hooks.slack.com/services/"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "stripe-secret-key",
        kind: "stripe-secret-key",
        severity: Severity::Critical,
        // Secret and restricted keys; `_prod_` as gitleaks' default rule takes
        // it besides `_live_`.
        keywords: &["sk_live_", "rk_live_", "sk_prod_", "rk_prod_"],
        pattern: r"\b((?:sk|rk)_(?:live|prod)_[A-Za-z0-9]{24,247})\b",
        display: "?k_",
        positives: &[
            r"STRIPE_SECRET_KEY=sk_live_51FAKEfakeFAKEfakeFAKEfake00",
            r"rk_prod_51FAKEfakeFAKEfakeFAKEfake00",
        ],
        negatives: &[r"sk_test_51FAKEfakeFAKEfakeFAKEfake00", r"sk_live_short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "private-key",
        kind: "private-key",
        severity: Severity::Critical,
        keywords: &["PRIVATE KEY-----", "PRIVATE KEY BLOCK-----"],
        // Lines end in real newlines or in `\n` escapes (a key inside a JSON
        // string of a file that was itself logged inside JSON, where `/` may be
        // written `\/`), or are string
        // literals joined in code (`"..." +` in Java, C#, JavaScript and Go,
        // adjacent literals in Python and C).
        pattern: r#"(-----BEGIN [A-Z ]{0,20}PRIVATE KEY(?: BLOCK)?-----(?:\\[nr/]|\s|[A-Za-z0-9+/=:,.\-]|["']\s*\+?\s*["'])*?-----END [A-Z ]{0,20}PRIVATE KEY(?: BLOCK)?-----)"#,
        validator: Some(Validator::PemBody),
        display: "-----BEGIN",
        positives: &[
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKE\nFAKEfake==\n-----END RSA PRIVATE KEY-----",
            r"-----BEGIN PRIVATE KEY-----\nMIIEFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKE\n-----END PRIVATE KEY-----\n",
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQWGBFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKE\n=FAKE\n-----END PGP PRIVATE KEY BLOCK-----",
            "String key = \"-----BEGIN RSA PRIVATE KEY-----\\n\" +\n    \"MIIEFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKE\\n\" +\n    \"FAKEfake==\\n\" +\n    \"-----END RSA PRIVATE KEY-----\";",
        ],
        negatives: &[
            "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----",
            "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----", // fake: no body
        ],
        ..Rule::DEFAULT
    },
    Rule {
        id: "gcp-service-account",
        kind: "gcp-service-account",
        severity: Severity::Critical,
        keywords: &["private_key_id"],
        pattern: r#"\\?"private_key_id\\?"\s*:\s*\\?"([a-f0-9]{40})\\?""#,
        positives: &[r#"{"type": "service_account", "private_key_id": "fa4efa4efa4efa4efa4efa4efa4efa4efa4e0000"}"#],
        negatives: &[r#""private_key_id": "abc""#],
        ..Rule::DEFAULT
    },
    Rule {
        id: "database-url-password",
        kind: "database-url-password",
        severity: Severity::Critical,
        keywords: &[
            "postgres://",
            "postgresql://",
            "mysql://",
            "mongodb://",
            "mongodb+srv://",
            "redis://",
            "rediss://",
            "amqp://",
            "amqps://",
            "mssql://",
            "jdbc:",
        ],
        pattern: r#"\b(?:postgres(?:ql)?|mysql|mongodb(?:\+srv)?|rediss?|amqps?|mssql)://[^\s:/@"'<>]{1,64}:([^\s@/"'<>$]{4,128})@[A-Za-z0-9.\-_\[\]]+"#,
        min_entropy: Some(2.5),
        positives: &[r"DATABASE_URL=postgres://app:FakePassw0rdFake@db.internal:5432/app"],
        negatives: &[
            r"postgres://user:changeme@localhost:5432/app",
            r"postgres://user:${DB_PASSWORD}@db/app",
            r"postgres://localhost/app",
        ],
        chosen: true,
        ..Rule::DEFAULT
    },
    Rule {
        id: "jwt",
        kind: "jwt",
        severity: Severity::Medium,
        keywords: &["eyJ"],
        // Signed (three parts), unsigned (`alg: none`: the third part empty, the
        // dot kept) or encrypted (JWE: five parts, only the header is JSON).
        pattern: r"\b(eyJ[A-Za-z0-9_-]{8,}\.(?:eyJ[A-Za-z0-9_-]{8,}\.(?:[A-Za-z0-9_\-+/]{10,}={0,2})?|[A-Za-z0-9_-]{0,1024}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}))",
        display: "eyJ",
        positives: &[
            r"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJmYWtlIn0.FAKEfakeFAKEfakeFAKEfake",
            r#"token = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJmYWtlIn0.";"#,
            r"eyJhbGciOiJSU0EtT0FFUCJ9.FAKEfakeFAKEfake.FAKEfakeFAKE.FAKEfakeFAKEfakeFAKE.FAKEfakeFAKE",
        ],
        negatives: &[
            r"eyJhbGciOiJIUzI1NiJ9",
            r"eyJhbGciOiJIUzI1NiJ9.notjson.x",
            r"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJmYWtlIn0",
            // The header cut short (no closing brace), or typed into.
            r"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ.eyJzdWIiOiJmYWtlIn0.FAKEfakeFAKEfakeFAKEfake",
            r"eyJhbGciOiJIUzI1NiJ9xyzxyz.eyJzdWIiOiJmYWtlIn0.FAKEfakeFAKEfakeFAKEfake",
        ],
        validator: Some(Validator::JwtHeader),
        ..Rule::DEFAULT
    },
    Rule {
        id: "openai-api-key",
        kind: "openai-api-key",
        severity: Severity::High,
        keywords: &["T3BlbkFJ"],
        pattern: r"\b(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,74}T3BlbkFJ[A-Za-z0-9_-]{20,74})\b",
        display: "sk-",
        positives: &[r"OPENAI_API_KEY=sk-FAKEfakeFAKEfakeFAKET3BlbkFJFAKEfakeFAKEfakeFAKE"],
        negatives: &[r"sk-T3BlbkFJ"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "anthropic-api-key",
        kind: "anthropic-api-key",
        severity: Severity::High,
        keywords: &["sk-ant-"],
        pattern: r"\b(sk-ant-(?:api03|admin01)-[A-Za-z0-9_\-]{93}AA)(?:[^A-Za-z0-9_\-]|$)",
        display: "sk-ant-",
        positives: &[
            r"ANTHROPIC_API_KEY=sk-ant-api03-FAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKEfAA",
        ],
        negatives: &[r"sk-ant-api03-short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "npm-token",
        kind: "npm-token",
        severity: Severity::High,
        keywords: &["npm_"],
        pattern: r"\b(npm_[A-Za-z0-9]{36})\b",
        validator: Some(Validator::GithubCrc32),
        display: "npm_",
        positives: &[r"//registry.npmjs.org/:_authToken=npm_FAKEfakeFAKEfakeFAKEfakeFAKEfa000000"],
        negatives: &[r"npm_config_cache=/tmp"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "npm-legacy-token",
        kind: "npm-token",
        severity: Severity::High,
        keywords: &["_authToken"],
        pattern: r"_authToken\s*=\s*([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b",
        positives: &[r"//registry.npmjs.org/:_authToken=fa4efa4e-fa4e-4fa4-afa4-efa4efa4efa4"],
        negatives: &[r"//registry.npmjs.org/:_authToken=${NPM_TOKEN}"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "wireguard-private-key",
        kind: "private-key",
        severity: Severity::Critical,
        // A WireGuard config's private or preshared key: 32 bytes in base64.
        keywords: &["PrivateKey", "PresharedKey"],
        pattern: r"(?m)^\s*(?:PrivateKey|PresharedKey)\s*=\s*([A-Za-z0-9+/]{43}=)",
        min_entropy: Some(3.5),
        positives: &["[Interface]\nAddress = 10.0.0.2/32\nPrivateKey = FAKEfake0123+/9876FAKEfake0123+/9876FAKEfaA=\n"],
        negatives: &["PrivateKey = <your key here>"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "jwt-signing-secret",
        kind: "jwt-signing-secret",
        severity: Severity::Critical,
        // The key that signs tokens (whoever holds it can forge any): a `secret`
        // under or beside a `jwt` name, in YAML, JSON, TOML or env files.
        keywords: &["jwt"],
        pattern: r##"(?i)jwt[\w\-]{0,20}(?:["']?\s*:\s*\n\s+[\w\-]{0,20})?secret[\w\-]{0,20}["']?\s*[:=]\s*(?:"([^"\n]{12,200})"|'([^'\n]{12,200})'|([^\s"',;]{16,200}))"##,
        min_entropy: Some(3.0),
        positives: &[
            "jwt:\n  secret: \"FAKEfake0123456789FAKEfake012345\"\n",
            "JWT_SECRET=FAKEfake0123456789FAKEfake",
            "jwtsecret: 'F4k3-s3cr3t/v4lu3_w1th#punctuation!'",
        ],
        negatives: &["JWT_SECRET=${JWT_SECRET}", "jwt_secret: changeme"],
        chosen: true,
        ..Rule::DEFAULT
    },
    Rule {
        id: "private-key-base64",
        kind: "private-key",
        severity: Severity::Critical,
        // base64 of "-----BEGIN": a PEM key wrapped once more, as config values do.
        keywords: &["LS0tLS1CRUdJTi"],
        pattern: r"(LS0tLS1CRUdJTi[A-Za-z0-9+/]{0,40}?(?:UFJJVkFURSBLRVkt|BSSVZBVEUgS0VZL|QUklWQVRFIEtFWS0)[A-Za-z0-9+/]{80,}={0,2})",
        display: "LS0tLS1CRUdJTi",
        positives: &[
            r"PRIVATE_KEY_B64=LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpNSUlFRkFLRWZha2VGQUtFZmFrZUZBS0VmYWtlRkFLRWZha2VGQUtFZmFrZUZBS0VmYWtlRkFLRWZha2VGQUtFZmFrZQ==",
        ],
        negatives: &[r"LS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS0K"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "generic-secret-assignment",
        kind: "generic-secret-assignment",
        severity: Severity::Medium,
        keywords: &["secret", "signing", "passwd", "password", "token"],
        pattern: r#"(?i)\b(?:secret|secret[_-]?key|[a-z]+[.-]signing[-_]secret|signing[-_]secret|client[-_]secret|api[-_]secret|passwd|password|auth[-_]token|access[-_]token)["']?\s*[:=]\s*["']?([A-Za-z0-9+/=_\-]{16,128})(?:["'\s,;]|$)"#,
        min_entropy: Some(3.8),
        generic: true,
        positives: &[
            r#"SECRET_KEY = "FAKEfake9kQ2mZx7Lw4Rt8Yp3Vn6Bc1Hs5Jd0G""#,
            r"app.jwt.signing-secret=FAKEfake9kQ2mZx7Lw4Rt8Yp3Vn6Bc1Hs5Jd0G",
        ],
        negatives: &[r"password=changeme", r"api_key=<your-key>", r#"secret = "aaaaaaaaaaaaaaaaaaaaaaaa""#],
        // Name parts after a keyword: `_key` after `secret`, `_secret` after
        // `signing`; none after the others.
        assignment_within: &[4, 7, 0, 0, 0],
        value_within: 128,
        ..Rule::DEFAULT
    },
    Rule {
        id: "gcp-api-key",
        kind: "gcp-api-key",
        severity: Severity::High,
        keywords: &["AIza"],
        pattern: r##"\b(AIza[0-9A-Za-z_\-]{35})(?:[^0-9A-Za-z_\-]|$)"##,
        display: "AIza",
        positives: &[
            "GOOGLE_API_KEY=AIzaFAKEfake0123_-9876FAKEfake0123_-987",
            "{\"apiKey\": \"AIzaFAKEfake0123_-9876FAKEfake0123_-987\"}",
        ],
        negatives: &["AIzaShort", "AIzaFAKEfake0123_-9876FAKEfake0123_-9876FAKE"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "gcp-oauth-client-secret",
        kind: "gcp-oauth-client-secret",
        severity: Severity::High,
        keywords: &["GOCSPX-"],
        pattern: r##"\b(GOCSPX-[0-9A-Za-z_\-]{28})(?:[^0-9A-Za-z_\-]|$)"##,
        display: "GOCSPX-",
        positives: &["client_secret: GOCSPX-FAKEfake0123_-9876FAKEfake01"],
        negatives: &["GOCSPX-short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "gcp-oauth-access-token",
        kind: "gcp-oauth-access-token",
        severity: Severity::Medium,
        keywords: &["ya29."],
        pattern: r##"\b(ya29\.[0-9A-Za-z_\-]{30,300})"##,
        display: "ya29.",
        positives: &["Authorization: Bearer ya29.FAKEfake0123_-9876FAKEfake0123_-9876FAKEfake0123_-9876FAKEfa"],
        negatives: &["ya29.short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "azure-storage-account-key",
        kind: "azure-storage-key",
        severity: Severity::Critical,
        keywords: &["AccountKey="],
        pattern: r##"AccountKey=([A-Za-z0-9+/]{86}==)"##,
        positives: &[
            "DefaultEndpointsProtocol=https;AccountName=fake;AccountKey=FAKEfake0123+/9876FAKEfake0123+/9876FAKEfake0123+/9876FAKEfake0123+/9876FAKEfake0123+/==;EndpointSuffix=core.windows.net",
        ],
        negatives: &["AccountKey=short=="],
        ..Rule::DEFAULT
    },
    Rule {
        id: "azure-sas-token",
        kind: "azure-sas-token",
        severity: Severity::High,
        keywords: &["sig="],
        pattern: r##"[?&]sv=\d{4}-\d{2}-\d{2}&[^\s\"'<>]{0,200}?\bsig=([A-Za-z0-9%+/]{30,100}={0,2}(?:%3D){0,2})"##,
        positives: &[
            "https://fake.blob.core.windows.net/c?sv=2022-11-02&ss=b&srt=co&sp=r&se=2030-01-01T00:00:00Z&sig=FAKEfake0123456789FAKEfake0123456789FAKEfak%3D",
        ],
        negatives: &["https://fake/?sig=abc"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "azure-ad-client-secret",
        kind: "azure-ad-client-secret",
        severity: Severity::High,
        // Three characters, a digit and `Q~` (`7Q~` and `8Q~` are the versions
        // issued since 2022; the corpus holds a `9Q~`), then 31 to 34. Three-byte
        // keywords cost next to nothing in the keyword pass (docs/rules.md).
        keywords: &["0Q~", "1Q~", "2Q~", "3Q~", "4Q~", "5Q~", "6Q~", "7Q~", "8Q~", "9Q~"],
        pattern: r##"(?:^|[^A-Za-z0-9_~.\-])([A-Za-z0-9_~.\-]{3}[0-9]Q~[A-Za-z0-9_~.\-]{31,34})(?:[^A-Za-z0-9_~.\-]|$)"##,
        positives: &[
            "AZURE_CLIENT_SECRET=Fak8Q~FAKEfake0123456789FAKEfake01234567",
            "client_secret = 'Fak9Q~FAKE-fake.0123456789_FAKEfake0123'",
        ],
        negatives: &["8Q~short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "digitalocean-token",
        kind: "digitalocean-token",
        severity: Severity::Critical,
        keywords: &["dop_v1_", "doo_v1_", "dor_v1_"],
        pattern: r##"\b((?:dop|doo|dor)_v1_[a-f0-9]{64})\b"##,
        display: "do?_v1_",
        positives: &["DIGITALOCEAN_TOKEN=dop_v1_fa4e0123456789bcdfa4e0123456789bcdfa4e0123456789bcdfa4e012345678"],
        negatives: &["dop_v1_fa4e0123456789bcdfa4"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "alibaba-access-key-id",
        kind: "alibaba-access-key-id",
        severity: Severity::High,
        keywords: &["LTAI"],
        pattern: r##"\b(LTAI[A-Za-z0-9]{20})\b"##,
        display: "LTAI",
        positives: &["ALIBABA_CLOUD_ACCESS_KEY_ID=LTAIFAKEfake0123456789FA"],
        negatives: &["LTAIshort"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "heroku-api-key",
        kind: "heroku-api-key",
        severity: Severity::High,
        keywords: &["HRKU-"],
        pattern: r##"\b(HRKU-AA[0-9A-Za-z_\-]{58})(?:[^0-9A-Za-z_\-]|$)"##,
        display: "HRKU-",
        positives: &["HEROKU_API_KEY=HRKU-AAFAKEfake0123_-9876FAKEfake0123_-9876FAKEfake0123_-9876FAKE"],
        negatives: &["HRKU-AAshort"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "cloudflare-origin-ca-key",
        kind: "cloudflare-origin-ca-key",
        severity: Severity::High,
        keywords: &["v1.0-"],
        pattern: r##"\b(v1\.0-[a-f0-9]{24}-[a-f0-9]{146})\b"##,
        positives: &[
            "CF_ORIGIN_CA_KEY=v1.0-fa4e0123456789bcdfa4e012-fa4e0123456789bcdfa4e0123456789bcdfa4e0123456789bcdfa4e0123456789bcdfa4e0123456789bcdfa4e0123456789bcdfa4e0123456789bcdfa4e0123456789bcdfa4e012345",
        ],
        negatives: &["v1.0-fa4e0123456789bcdfa4e012"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "fly-io-token",
        kind: "fly-io-token",
        severity: Severity::High,
        keywords: &["fo1_", "fm2_"],
        pattern: r##"\b((?:fo1_[A-Za-z0-9_\-]{43}|fm2_[A-Za-z0-9+/=_\-]{100,}))"##,
        display: "f?_",
        positives: &["FLY_API_TOKEN=fo1_FAKEfake0123_-9876FAKEfake0123_-9876FAKEfak"],
        negatives: &["fo1_short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "scaleway-secret-key",
        kind: "scaleway-secret-key",
        severity: Severity::High,
        keywords: &["SCW"],
        pattern: r##"\b(SCW[A-Z0-9]{17})\b[\s\S]{0,200}?\b([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b"##,
        group: 2,
        positives: &["SCW_ACCESS_KEY=SCWFAKE0123456789FAK\nSCW_SECRET_KEY=fa4e0123-fa4e-4fa4-afa4-0123456789ab"],
        negatives: &["SCWFAKE0123456789FAK"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "ibm-cloud-api-key",
        kind: "ibm-cloud-api-key",
        severity: Severity::High,
        keywords: &["ibm", "IBM"],
        pattern: r##"(?i)ibm[_\-]?(?:cloud[_\-]?)?api[_\-]?key[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9_\-]{44})(?:[\"'\s,;]|$)"##,
        min_entropy: Some(3.0),
        positives: &["IBM_CLOUD_API_KEY=FAKEfake0123_-9876FAKEfake0123_-9876FAKEfake"],
        negatives: &["IBM_CLOUD_API_KEY=short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "gitlab-pat",
        kind: "gitlab-token",
        severity: Severity::High,
        keywords: &["glpat-"],
        pattern: r##"\b(glpat-(?:[0-9A-Za-z_\-]{27,300}\.[0-9a-z]{2}\.[0-9a-z]{7,9}|[0-9A-Za-z_\-]{20}))(?:[^0-9A-Za-z_\-.]|$)"##,
        display: "glpat-",
        positives: &["GITLAB_TOKEN=glpat-FAKEfake0123_-9876FA"],
        negatives: &["glpat-short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "gitlab-pipeline-trigger-token",
        kind: "gitlab-token",
        severity: Severity::High,
        keywords: &["glptt-"],
        pattern: r##"\b(glptt-[0-9A-Za-z_\-]{40})(?:[^0-9A-Za-z_\-]|$)"##,
        display: "glptt-",
        positives: &["curl -F token=glptt-fa4e0123456789bcdfa4e0123456789bcdfa4e01"],
        negatives: &["glptt-fa4e012345", "glptt-fa4e0123456789bcdfa4e0123456789bcdfa4e01ab"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "gitlab-runner-token",
        kind: "gitlab-token",
        severity: Severity::High,
        keywords: &["glrt-", "GR1348941"],
        // Registration tokens (`GR1348941`) run 20 to 50 characters.
        pattern: r##"\b((?:glrt-t\d_[0-9A-Za-z_\-]{27,300}\.[0-9a-z]{2}\.[0-9a-z]{7,9}|glrt-[0-9A-Za-z_\-]{20}|GR1348941[0-9A-Za-z_\-]{20,50}))(?:[^0-9A-Za-z_\-.]|$)"##,
        // `GR1348941` and `1231231…` or `XXXX…` is a test string.
        min_entropy: Some(3.0),
        display: "glrt-",
        positives: &["token = \"glrt-FAKEfake0123_-9876FA\"", "GR1348941FAKEfake0123_-9876FAKEfake0123_"],
        negatives: &["glrt-short", "GR1348941XXXXXXXXXXXXXXXXXXXX"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "gitlab-deploy-token",
        kind: "gitlab-token",
        severity: Severity::High,
        keywords: &["gldt-"],
        pattern: r##"\b(gldt-[0-9A-Za-z_\-]{20})(?:[^0-9A-Za-z_\-]|$)"##,
        display: "gldt-",
        positives: &["gldt-FAKEfake0123_-9876FA"],
        negatives: &["gldt-abc"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "gitlab-other-token",
        kind: "gitlab-token",
        severity: Severity::Medium,
        keywords: &["glft-", "glsoat-", "glcbt-", "glimt-", "glagent-", "gloas-"],
        // Lengths as GitLab's token formats have had them: SCIM and feed
        // tokens up to 50 characters; job tokens carry their hex partition.
        pattern: r##"\b((?:glft|glsoat)-[0-9A-Za-z_\-]{20,50}|glimt-[0-9A-Za-z_\-]{25}|glagent-[0-9A-Za-z_\-]{50,1024}|gloas-[0-9A-Za-z_\-]{64}|glcbt-[0-9a-fA-F]{1,5}_[0-9A-Za-z_\-]{20})(?:[^0-9A-Za-z_\-]|$)"##,
        display: "gl",
        positives: &[
            "feed token glft-FAKEfake0123_-9876FA",
            "glagent-FAKEfake0123_-9876FAKEfake0123_-9876FAKEfake0123_-",
            "glsoat-FAKEfake0123_-9876FAKEfake0123_-9876",
            "glcbt-fa_FAKEfake0123_-9876FA",
        ],
        negatives: &["glft-abc", "glsoat-FAKEfake0123_-9876FAKEfake0123_-9876FAKEfake0123_-9876"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "bitbucket-app-password",
        kind: "bitbucket-app-password",
        severity: Severity::High,
        keywords: &["ATBB"],
        pattern: r##"\b(ATBB[a-zA-Z0-9]{32})\b"##,
        display: "ATBB",
        positives: &["BITBUCKET_APP_PASSWORD=ATBBFAKEfake0123456789FAKEfake012345"],
        negatives: &["ATBBshort"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "atlassian-api-token",
        kind: "atlassian-api-token",
        severity: Severity::High,
        keywords: &["ATATT3"],
        pattern: r##"\b(ATATT3[A-Za-z0-9_\-=]{186})(?:[^A-Za-z0-9_\-=]|$)"##,
        display: "ATATT3",
        positives: &[
            "JIRA_API_TOKEN=ATATT3FAKEfake0123_-9876FAKEfake0123_-9876FAKEfake0123_-9876FAKEfake0123_-9876FAKEfake0123_-9876FAKEfake0123_-9876FAKEfake0123_-9876FAKEfake0123_-9876FAKEfake0123_-9876FAKEfake0123_-9876FAKEfa",
        ],
        negatives: &["ATATT3short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "atlassian-api-token-legacy",
        kind: "atlassian-api-token",
        severity: Severity::High,
        // Tokens made before `ATATT3` are 24 letters and digits: found only
        // assigned to a name that says Jira, Confluence or Atlassian.
        keywords: &["jira", "confluence", "atlassian"],
        pattern: r##"(?i)(?:jira|confluence|atlassian)[\w.\-]{0,20}["']?\s*(?:[:=]|=>|:=)\s*["']?([a-z0-9]{24})(?:["'\s,;]|$)"##,
        min_entropy: Some(3.5),
        validator: Some(Validator::LettersAndDigits),
        positives: &["JIRA_API_TOKEN=FAKEfake0123456789FAKEfa"],
        negatives: &[
            "JIRA_API_TOKEN=${JIRA_TOKEN}",
            "jira_project = 'PAYMENTSPLATFORMTEAMKEYS'",
            r#""atlassianAccountId": "5b10ac8d82e05b22cc7d4ef5""#,
        ],
        ..Rule::DEFAULT
    },
    Rule {
        id: "circleci-token",
        kind: "circleci-token",
        severity: Severity::High,
        keywords: &["CCIPAT_", "CCIPRJ_"],
        pattern: r##"\b(CCIP(?:AT|RJ)_[A-Za-z0-9]{22}_[a-f0-9]{40})\b"##,
        display: "CCIP",
        positives: &["CIRCLE_TOKEN=CCIPAT_FAKEfake0123456789FAKE_fa4e0123456789bcdfa4e0123456789bcdfa4e01"],
        negatives: &["CCIPAT_short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "buildkite-token",
        kind: "buildkite-token",
        severity: Severity::High,
        keywords: &["bkua_"],
        pattern: r##"\b(bkua_[a-f0-9]{40})\b"##,
        display: "bkua_",
        positives: &["BUILDKITE_API_TOKEN=bkua_fa4e0123456789bcdfa4e0123456789bcdfa4e01"],
        negatives: &["bkua_fa4e0123"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "doppler-token",
        kind: "doppler-token",
        severity: Severity::High,
        keywords: &["dp.pt.", "dp.st.", "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit."],
        // Service tokens may name their config: `dp.st.dev.…`.
        pattern: r##"\b(dp\.(?:pt|st|sa|ct|scim|audit)\.(?:[a-z0-9_\-]{2,35}\.)?[A-Za-z0-9]{40,44})\b"##,
        display: "dp.",
        positives: &[
            "DOPPLER_TOKEN=dp.pt.FAKEfake0123456789FAKEfake0123456789FAKEfak",
            "dp.st.dev.FAKEfake0123456789FAKEfake0123456789FAKEfak",
        ],
        negatives: &["dp.pt.short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "hashicorp-vault-token",
        kind: "vault-token",
        severity: Severity::Critical,
        keywords: &["hvs.", "hvb.", "hvr."],
        pattern: r##"\b(hv[sbr]\.[A-Za-z0-9_\-]{24,400})(?:[^A-Za-z0-9_\-]|$)"##,
        display: "hv?.",
        positives: &[
            "VAULT_TOKEN=hvs.FAKEfake0123_-9876FAKEfake0123_-9876FAKEfake0123_-9876FAKEfake0123_-9876FAKEfake0123_-9876",
        ],
        negatives: &["hvs.short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "hashicorp-terraform-token",
        kind: "terraform-cloud-token",
        severity: Severity::High,
        keywords: &[".atlasv1."],
        pattern: r##"\b([A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9\-_=]{60,70})(?:[^A-Za-z0-9\-_=]|$)"##,
        positives: &[
            "token = \"FAKEfake012345.atlasv1.FAKEfake0123_-9876FAKEfake0123_-9876FAKEfake0123_-9876FAKEfake0123_\"",
        ],
        negatives: &["x.atlasv1.short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "pulumi-token",
        kind: "pulumi-token",
        severity: Severity::High,
        keywords: &["pul-"],
        pattern: r##"\b(pul-[a-f0-9]{40})\b"##,
        display: "pul-",
        positives: &["PULUMI_ACCESS_TOKEN=pul-fa4e0123456789bcdfa4e0123456789bcdfa4e01"],
        negatives: &["pul-fa4e0123"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "harness-token",
        kind: "harness-token",
        severity: Severity::High,
        keywords: &["pat.", "sat."],
        pattern: r##"\b((?:pat|sat)\.[A-Za-z0-9_\-]{22}\.[a-f0-9]{24}\.[A-Za-z0-9]{20})\b"##,
        positives: &["HARNESS_API_KEY=pat.FAKEfake0123_-9876FAKE.fa4e0123456789bcdfa4e012.FAKEfake0123456789FA"],
        negatives: &["pat.short.x"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "grafana-cloud-token",
        kind: "grafana-token",
        severity: Severity::High,
        keywords: &["glc_"],
        pattern: r##"\b(glc_[A-Za-z0-9+/]{32,400}={0,2})"##,
        // A run of one character (`glc_1111…`) is a test string.
        min_entropy: Some(3.0),
        display: "glc_",
        positives: &[
            "GRAFANA_CLOUD_TOKEN=glc_FAKEfake0123+/9876FAKEfake0123+/9876FAKEfake0123+/9876FAKEfake0123+/9876FAKEfake",
        ],
        negatives: &["glc_short", "glc_1111111111111111111111111111111111111111"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "grafana-api-key",
        kind: "grafana-token",
        severity: Severity::High,
        // Legacy API keys: base64 of `{"k":"...","n":"...","id":N}`.
        keywords: &["eyJrIjoi"],
        // After a space, quote or colon only: `?r=eyJrIjoi...` is a Power BI link.
        pattern: r##"(?:^|[\s"'`:(])(eyJrIjoi[A-Za-z0-9+/]{60,200}={0,2})"##,
        display: "eyJrIjoi",
        positives: &[
            "Authorization: Bearer eyJrIjoiFAKEfake0123456789FAKEfake0123456789FAKEfake0123456789FAKEfake0123==",
        ],
        negatives: &[
            "eyJrIjoishort",
            "https://app.powerbi.com/view?r=eyJrIjoiFAKEfake0123456789FAKEfake0123456789FAKEfake0123456789FAKEfake0123==",
        ],
        ..Rule::DEFAULT
    },
    Rule {
        id: "grafana-service-account-token",
        kind: "grafana-token",
        severity: Severity::High,
        keywords: &["glsa_"],
        pattern: r##"\b(glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})\b"##,
        display: "glsa_",
        positives: &["GRAFANA_TOKEN=glsa_FAKEfake0123456789FAKEfake012345_fa4e0123"],
        negatives: &["glsa_short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "new-relic-key",
        kind: "new-relic-key",
        severity: Severity::High,
        keywords: &["NRAK-", "NRII-", "NRAA-"],
        pattern: r##"\b((?:NRAK|NRII|NRAA)-[A-Z0-9]{27,32})\b"##,
        display: "NR",
        positives: &["NEW_RELIC_API_KEY=NRAK-FAKE0123456789FAKE012345678"],
        negatives: &["NRAK-SHORT"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "sentry-token",
        kind: "sentry-token",
        severity: Severity::High,
        keywords: &["sntrys_", "sntryu_"],
        pattern: r##"\b(sntrys_eyJ[A-Za-z0-9+/=_]{60,}|sntryu_[a-f0-9]{64})"##,
        display: "sntry",
        positives: &["SENTRY_AUTH_TOKEN=sntryu_fa4e0123456789bcdfa4e0123456789bcdfa4e0123456789bcdfa4e012345678"],
        negatives: &["sntryu_fa4e012345"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "dynatrace-token",
        kind: "dynatrace-token",
        severity: Severity::High,
        keywords: &["dt0c01."],
        pattern: r##"\b(dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64})\b"##,
        display: "dt0c01.",
        positives: &[
            "DT_API_TOKEN=dt0c01.FAKE0123456789FAKE012345.FAKE0123456789FAKE0123456789FAKE0123456789FAKE0123456789FAKE0123",
        ],
        negatives: &["dt0c01.SHORT"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "datadog-api-key",
        kind: "datadog-api-key",
        severity: Severity::High,
        keywords: &["datadog", "DATADOG", "DD_API_KEY", "dd_api_key", "DD_APP_KEY"],
        pattern: r##"(?i)(?:datadog|dd)[_\-]?(?:api|app(?:lication)?)[_\-]?key[\"']?\s*[:=]\s*[\"']?([a-f0-9]{32}|[a-f0-9]{40})\b"##,
        positives: &[
            "DD_API_KEY=fa4e0123456789bcdfa4e0123456789b",
            "datadog_app_key: fa4e0123456789bcdfa4e0123456789bcdfa4e01",
        ],
        negatives: &["DD_API_KEY=${DD_API_KEY}"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "age-secret-key",
        kind: "age-secret-key",
        severity: Severity::Critical,
        keywords: &["AGE-SECRET-KEY-1"],
        pattern: r##"\b(AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})\b"##,
        display: "AGE-SECRET-KEY-1",
        positives: &["AGE-SECRET-KEY-1QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7LQPZRY9X8GF2TVDW0S3JN54KHCE"],
        negatives: &["AGE-SECRET-KEY-1SHORT"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "onepassword-service-account-token",
        kind: "onepassword-token",
        severity: Severity::Critical,
        keywords: &["ops_eyJ"],
        pattern: r##"\b(ops_eyJ[A-Za-z0-9+/]{250,}={0,3})"##,
        display: "ops_",
        positives: &[
            "OP_SERVICE_ACCOUNT_TOKEN=ops_eyJFAKEfake0123+/9876FAKEfake0123+/9876FAKEfake0123+/9876FAKEfake0123+/9876FAKEfake0123+/9876FAKEfake0123+/9876FAKEfake0123+/9876FAKEfake0123+/9876FAKEfake0123+/9876FAKEfake0123+/9876FAKEfake0123+/9876FAKEfake0123+/9876FAKEfake0123+/9876FAKEfake0123+/9876FAKEfake",
        ],
        negatives: &["ops_eyJshort"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "databricks-token",
        kind: "databricks-token",
        severity: Severity::High,
        keywords: &["dapi"],
        pattern: r##"\b(dapi[a-f0-9]{32}(?:-\d)?)\b"##,
        display: "dapi",
        positives: &["DATABRICKS_TOKEN=dapifa4e0123456789bcdfa4e0123456789b"],
        negatives: &["dapifa4e0123"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "planetscale-token",
        kind: "planetscale-token",
        severity: Severity::Critical,
        keywords: &["pscale_tkn_", "pscale_pw_", "pscale_oauth_"],
        pattern: r##"\b(pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_.\-]{32,64})"##,
        display: "pscale_",
        positives: &["password: pscale_pw_FAKEfake0123_-9876FAKEfake0123_-9876FAKEfak"],
        negatives: &["pscale_pw_short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "supabase-token",
        kind: "supabase-token",
        severity: Severity::High,
        keywords: &["sbp_"],
        pattern: r##"\b(sbp_[a-f0-9]{40})\b"##,
        display: "sbp_",
        positives: &["SUPABASE_ACCESS_TOKEN=sbp_fa4e0123456789bcdfa4e0123456789bcdfa4e01"],
        negatives: &["sbp_fa4e0123"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "prefect-token",
        kind: "prefect-token",
        severity: Severity::High,
        keywords: &["pnu_"],
        pattern: r##"\b(pnu_[A-Za-z0-9]{36})\b"##,
        display: "pnu_",
        positives: &["PREFECT_API_KEY=pnu_FAKEfake0123456789FAKEfake0123456789"],
        negatives: &["pnu_short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "infracost-key",
        kind: "infracost-key",
        severity: Severity::Medium,
        keywords: &["ico-"],
        // Not a file name's extension (`video_box.ico-7a38….png`).
        pattern: r##"(?:^|[^0-9A-Za-z_.])(ico-[A-Za-z0-9]{32})\b"##,
        display: "ico-",
        positives: &["INFRACOST_API_KEY=ico-FAKEfake0123456789FAKEfake012345"],
        negatives: &["ico-short", "assets/box.ico-FAKEfake0123456789FAKEfake012345.png"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "pypi-token",
        kind: "pypi-token",
        severity: Severity::Critical,
        // Tokens of pypi.org and of test.pypi.org (the macaroon's location, in base64).
        keywords: &["pypi-AgEIcHlwaS5vcmc", "pypi-AgENdGVzdC5weXBpLm9yZw"],
        pattern: r##"\b(pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_\-]{70,})"##,
        display: "pypi-",
        positives: &[
            "password = pypi-AgEIcHlwaS5vcmcFAKEfake0123_-9876FAKEfake0123_-9876FAKEfake0123_-9876FAKEfake0123_-98",
        ],
        negatives: &["pypi-AgEIcHlwaS5vcmcshort"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "rubygems-token",
        kind: "rubygems-token",
        severity: Severity::High,
        keywords: &["rubygems_"],
        pattern: r##"\b(rubygems_[a-f0-9]{48})\b"##,
        display: "rubygems_",
        positives: &["GEM_HOST_API_KEY=rubygems_fa4e0123456789bcdfa4e0123456789bcdfa4e0123456789"],
        negatives: &["rubygems_fa4e0123"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "nuget-api-key",
        kind: "nuget-api-key",
        severity: Severity::High,
        keywords: &["oy2"],
        pattern: r##"\b(oy2[a-z0-9]{43})\b"##,
        display: "oy2",
        positives: &["nuget push -k oy2fake0123456789fake0123456789fake0123456789f"],
        negatives: &["oy2short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "nuget-config-password",
        kind: "nuget-config-password",
        severity: Severity::High,
        // A package feed's password in clear in nuget.config
        // (`packageSourceCredentials`). The `Password` entries are encrypted for
        // the machine that wrote them and are not taken: a keyword as common as
        // `key="Password"` cost 2-4% of the scan on code. A whole `%VAR%` value
        // names an environment variable instead (see `is_placeholder`).
        keywords: &["ClearTextPassword"],
        pattern: r##"(?i)<add\s+key\s*=\s*["']ClearTextPassword["']\s+value\s*=\s*["']([^"'<>\s]{4,256})["']"##,
        chosen: true,
        positives: &[
            r#"<add key="ClearTextPassword" value="Fake-feed-pa55!" />"#,
            r#"<add key='cleartextpassword' value='FAKEfake0123' />"#,
        ],
        negatives: &[
            r#"<add key="ClearTextPassword" value="%NUGET_FEED_KEY%" />"#,
            r#"<add key="Username" value="someone@example.com" />"#,
            r#"<add key="ClearTextPassword" value="abc" />"#,
        ],
        ..Rule::DEFAULT
    },
    Rule {
        id: "docker-hub-pat",
        kind: "docker-hub-token",
        severity: Severity::High,
        keywords: &["dckr_pat_", "dckr_oat_"],
        pattern: r##"\b(dckr_(?:pat|oat)_[A-Za-z0-9_\-]{27,32})(?:[^A-Za-z0-9_\-]|$)"##,
        display: "dckr_",
        positives: &["DOCKERHUB_TOKEN=dckr_pat_FAKEfake0123_-9876FAKEfake0"],
        negatives: &["dckr_pat_short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "clojars-token",
        kind: "clojars-token",
        severity: Severity::High,
        keywords: &["CLOJARS_"],
        pattern: r##"\b(CLOJARS_[a-z0-9]{60})\b"##,
        display: "CLOJARS_",
        positives: &["CLOJARS_fake0123456789fake0123456789fake0123456789fake0123456789fake"],
        negatives: &["CLOJARS_USERNAME"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "crates-io-token",
        kind: "crates-io-token",
        severity: Severity::High,
        keywords: &["cio"],
        pattern: r##"\b(cio[A-Za-z0-9]{32})\b"##,
        display: "cio",
        positives: &["CARGO_REGISTRY_TOKEN=cioFAKEfake0123456789FAKEfake012345"],
        negatives: &["cioShort"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "artifactory-token",
        kind: "artifactory-token",
        severity: Severity::High,
        keywords: &["AKCp", "cmVmd"],
        pattern: r##"\b(AKCp[A-Za-z0-9]{69}|cmVmdGtuOjAxOj[A-Za-z0-9]{50,})\b"##,
        positives: &["ARTIFACTORY_API_KEY=AKCpFAKEfake0123456789FAKEfake0123456789FAKEfake0123456789FAKEfake0123456"],
        negatives: &["AKCpshort"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "hex-pm-key",
        kind: "hex-pm-key",
        severity: Severity::Medium,
        keywords: &["HEX_API_KEY"],
        pattern: r##"HEX_API_KEY[\"']?\s*[:=]\s*[\"']?([a-f0-9]{32})\b"##,
        positives: &["HEX_API_KEY=fa4e0123456789bcdfa4e0123456789b"],
        negatives: &["HEX_API_KEY=${KEY}"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "stripe-test-key",
        kind: "stripe-test-key",
        severity: Severity::Low,
        keywords: &["sk_test_", "rk_test_"],
        pattern: r##"\b((?:sk|rk)_test_[A-Za-z0-9]{24,247})\b"##,
        display: "sk_test_",
        positives: &["STRIPE_KEY=sk_test_FAKEfake0123456789FAKEfake0123"],
        negatives: &["sk_test_short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "stripe-webhook-secret",
        kind: "stripe-webhook-secret",
        severity: Severity::High,
        keywords: &["whsec_"],
        pattern: r##"\b(whsec_[A-Za-z0-9+/]{32,64})"##,
        display: "whsec_",
        positives: &["STRIPE_WEBHOOK_SECRET=whsec_FAKEfake0123456789FAKEfake012345"],
        negatives: &["whsec_short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "square-token",
        kind: "square-token",
        severity: Severity::Critical,
        keywords: &["EAAA", "sq0atp-", "sq0csp-"],
        // Access tokens take `+` and `=` as well as `-` and `_`.
        pattern: r##"\b(EAAA[A-Za-z0-9_\-+=]{60}|sq0atp-[A-Za-z0-9_\-]{22}|sq0csp-[A-Za-z0-9_\-]{43})(?:[^A-Za-z0-9_\-]|$)"##,
        positives: &[
            "SQUARE_ACCESS_TOKEN=EAAAFAKEfake0123_-9876FAKEfake0123_-9876FAKEfake0123_-9876FAKEfa",
            "sq0csp-FAKEfake0123_-9876FAKEfake0123_-9876FAKEfak",
        ],
        negatives: &["EAAAshort"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "braintree-access-token",
        kind: "braintree-token",
        severity: Severity::Critical,
        keywords: &["access_token$production$", "access_token$sandbox$"],
        pattern: r##"(access_token\$(?:production|sandbox)\$[a-z0-9]{16}\$[a-f0-9]{32})"##,
        display: "access_token$",
        positives: &["BRAINTREE=access_token$production$fake0123456789fa$fa4e0123456789bcdfa4e0123456789b"],
        negatives: &["access_token$production$short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "shopify-token",
        kind: "shopify-token",
        severity: Severity::High,
        keywords: &["shpat_", "shpss_", "shpca_", "shppa_"],
        pattern: r##"\b(shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32})\b"##,
        display: "shp",
        positives: &["SHOPIFY_ACCESS_TOKEN=shpat_fa4e0123456789bcdfa4e0123456789b"],
        negatives: &["shpat_fa4e012345"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "flutterwave-secret-key",
        kind: "flutterwave-key",
        severity: Severity::High,
        keywords: &["FLWSECK-", "FLWSECK_TEST-"],
        pattern: r##"\b(FLWSECK(?:_TEST)?-[a-h0-9]{32}-X)"##,
        display: "FLWSECK",
        positives: &["FLW_SECRET_KEY=FLWSECK-fa4e0123456789bcdfa4e0123456789b-X"],
        negatives: &["FLWSECK-short-X"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "plaid-access-token",
        kind: "plaid-token",
        severity: Severity::High,
        keywords: &["access-production-", "access-development-", "access-sandbox-"],
        pattern: r##"\b(access-(?:production|development|sandbox)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b"##,
        display: "access-",
        positives: &["access-production-fa4e0123-fa4e-4fa4-afa4-0123456789ab"],
        negatives: &["access-production-short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "shippo-token",
        kind: "shippo-token",
        severity: Severity::High,
        keywords: &["shippo_live_", "shippo_test_"],
        pattern: r##"\b(shippo_(?:live|test)_[a-f0-9]{40})\b"##,
        display: "shippo_",
        positives: &["SHIPPO_TOKEN=shippo_live_fa4e0123456789bcdfa4e0123456789bcdfa4e01"],
        negatives: &["shippo_live_fa4e0123"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "easypost-key",
        kind: "easypost-key",
        severity: Severity::High,
        keywords: &["EZAK", "EZTK"],
        pattern: r##"\b(EZ[AT]K[A-Za-z0-9]{54})\b"##,
        display: "EZ",
        positives: &["EASYPOST_API_KEY=EZAKFAKEfake0123456789FAKEfake0123456789FAKEfake0123456789"],
        negatives: &["EZAKshort"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "slack-app-token",
        kind: "slack-token",
        severity: Severity::High,
        keywords: &["xapp-"],
        pattern: r##"\b(xapp-\d-[A-Z0-9]{9,12}-\d{9,16}-[a-f0-9]{32,80})\b"##,
        display: "xapp-",
        positives: &[
            "SLACK_APP_TOKEN=xapp-1-A0FAKE0FAKE-1234567890123-fa4e0123456789bcdfa4e0123456789bcdfa4e0123456789bcdfa4e012345678",
        ],
        negatives: &["xapp-1-short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "slack-config-token",
        kind: "slack-token",
        severity: Severity::High,
        keywords: &["xoxe.xox", "xoxe-"],
        pattern: r##"\b(xoxe\.xox[bp]-\d-[A-Za-z0-9]{150,180}|xoxe-\d-[A-Za-z0-9]{130,170})\b"##,
        display: "xoxe.",
        positives: &[
            "xoxe-1-FAKEfake0123456789FAKEfake0123456789FAKEfake0123456789FAKEfake0123456789FAKEfake0123456789FAKEfake0123456789FAKEfake0123456789FAKEfake01",
            "xoxe.xoxp-1-FAKE0123456789FAKE0123456789FAKE0123456789FAKE0123456789FAKE0123456789FAKE0123456789FAKE0123456789FAKE0123456789FAKE0123456789FAKE0123456789FAKE0123456789FAKE012345",
        ],
        negatives: &["xoxe.xoxp-1-SHORT"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "discord-webhook",
        kind: "discord-webhook",
        severity: Severity::High,
        keywords: &["discord.com/api/webhooks/", "discordapp.com/api/webhooks/"],
        pattern: r##"(https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[A-Za-z0-9_\-]{60,68})"##,
        display: "https://discord",
        positives: &[
            "https://discord.com/api/webhooks/123456789012345678/FAKEfake0123_-9876FAKEfake0123_-9876FAKEfake0123_-9876FAKEfake0123_-",
        ],
        negatives: &["https://discord.com/api/webhooks/"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "discord-bot-token",
        kind: "discord-token",
        severity: Severity::High,
        keywords: &["discord", "Discord", "DISCORD"],
        pattern: r##"(?i)discord[\w.\-]{0,20}[\"']?\s*[:=]\s*[\"']?([MNO][A-Za-z0-9_\-]{23,25}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,38})"##,
        positives: &["DISCORD_BOT_TOKEN=MTAFAKEfake0123_-9876FAKEf.FAKEfa.FAKEfake0123_-9876FAKEfake0"],
        negatives: &["DISCORD_BOT_TOKEN=short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "telegram-bot-token",
        kind: "telegram-bot-token",
        severity: Severity::High,
        keywords: &[":AA"],
        pattern: r##"\b([0-9]{8,10}:AA[0-9A-Za-z_\-]{33})(?:[^0-9A-Za-z_\-]|$)"##,
        positives: &["TELEGRAM_BOT_TOKEN=1234567890:AAFAKEfake0123_-9876FAKEfake0123_-9"],
        negatives: &["12:AAshort"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "teams-webhook",
        kind: "teams-webhook",
        severity: Severity::High,
        keywords: &["webhook.office.com/webhookb2/", "outlook.office.com/webhook", "outlook.office365.com/webhook"],
        pattern: r##"(https://(?:[a-z0-9\-]+\.webhook\.office\.com/webhookb2|outlook\.office(?:365)?\.com/webhook(?:b2)?)/[a-z0-9\-]{36}@[a-z0-9\-]{36}/IncomingWebhook/[a-f0-9]{32}/[a-z0-9\-]{36}(?:/[A-Za-z0-9_\-]{20,})?)"##,
        display: "https://",
        positives: &[
            "https://fake.webhook.office.com/webhookb2/fa4e0123-fa4e-4fa4-afa4-0123456789ab@fa4e0123-fa4e-4fa4-afa4-0123456789ab/IncomingWebhook/fa4e0123456789bcdfa4e0123456789b/fa4e0123-fa4e-4fa4-afa4-0123456789ab",
        ],
        negatives: &["https://fake.webhook.office.com/webhookb2/"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "linear-api-key",
        kind: "linear-api-key",
        severity: Severity::High,
        keywords: &["lin_api_"],
        pattern: r##"\b(lin_api_[A-Za-z0-9]{40})\b"##,
        display: "lin_api_",
        positives: &["LINEAR_API_KEY=lin_api_FAKEfake0123456789FAKEfake0123456789FAKE"],
        negatives: &["lin_api_short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "notion-token",
        kind: "notion-token",
        severity: Severity::High,
        keywords: &["ntn_", "secret_"],
        pattern: r##"\b(ntn_[0-9]{11}[A-Za-z0-9]{35}|secret_[A-Za-z0-9]{43})\b"##,
        positives: &[
            "NOTION_TOKEN=ntn_12345678901FAKEfake0123456789FAKEfake012345678",
            "NOTION_KEY=secret_FAKEfake0123456789FAKEfake0123456789FAKEfak",
        ],
        negatives: &["secret_short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "figma-token",
        kind: "figma-token",
        severity: Severity::High,
        keywords: &["figd_"],
        pattern: r##"\b(figd_[A-Za-z0-9_\-]{40,})"##,
        display: "figd_",
        positives: &["FIGMA_TOKEN=figd_FAKEfake0123_-9876FAKEfake0123_-9876FAKE"],
        negatives: &["figd_short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "figma-legacy-token",
        kind: "figma-token",
        severity: Severity::High,
        // The older number-UUID form, beside the name (`figd_` tokens: above).
        keywords: &["figma"],
        pattern: r##"(?i)figma[\w\-]{0,20}["']?\s*[:=]\s*["']?(\d{3,6}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b"##,
        positives: &["X-Figma-Token: 1234-fa4e0123-fa4e-4fa4-afa4-0123456789ab"],
        negatives: &["X-Figma-Token: ${FIGMA_TOKEN}"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "postman-api-key",
        kind: "postman-api-key",
        severity: Severity::High,
        keywords: &["PMAK-"],
        pattern: r##"\b(PMAK-[a-f0-9]{24}-[a-f0-9]{34})\b"##,
        display: "PMAK-",
        positives: &["POSTMAN_API_KEY=PMAK-fa4e0123456789bcdfa4e012-fa4e0123456789bcdfa4e0123456789bcd"],
        negatives: &["PMAK-short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "twitter-bearer-token",
        kind: "twitter-token",
        severity: Severity::Medium,
        keywords: &["AAAAAAAAAAAAAAAAAAAAA"],
        pattern: r##"\b(A{22}[A-Za-z0-9%]{80,120})(?:[^A-Za-z0-9%]|$)"##,
        positives: &[
            "TWITTER_BEARER_TOKEN=AAAAAAAAAAAAAAAAAAAAAAFAKEfake0123456789FAKEfake0123456789FAKEfake0123456789FAKEfake0123456789FAKEfake0123456789",
        ],
        negatives: &["AAAAAAAAAAAAAAAAAAAAAAshort"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "twitter-api-key",
        kind: "twitter-token",
        severity: Severity::Medium,
        // Consumer (API) keys, 25 characters, have no prefix: only a name that
        // says Twitter, assigned (not passed to a call).
        keywords: &["twitter"],
        pattern: r##"(?i)twitter[\w.\-]{0,25}["']?\s*(?:[:=]|=>|:=)\s*["']?([0-9a-z]{18,25})(?:["'\s,;]|$)"##,
        min_entropy: Some(3.0),
        validator: Some(Validator::LettersAndDigits),
        positives: &["TWITTER_API_KEY = 'FAKEfake0123456789FAKEf'", "TWITTER_ID: \"FAKEfake0123456789Fa\","],
        negatives: &[
            "TWITTER_API_KEY = '${TWITTER_KEY}'",
            "twitter_handle = 'someone'",
            r#""twitter_user_id": "1234567890abcdef1234""#,
        ],
        ..Rule::DEFAULT
    },
    Rule {
        id: "twitter-api-secret",
        kind: "twitter-token",
        severity: Severity::High,
        keywords: &["twitter"],
        pattern: r##"(?i)twitter[\w.\-]{0,25}["']?\s*(?:[:=]|=>|:=)\s*["']?([0-9a-z]{35,50})(?:["'\s,;]|$)"##,
        min_entropy: Some(3.5),
        validator: Some(Validator::LettersAndDigits),
        positives: &["TWITTER_API_SECRET = 'FAKEfake0123456789FAKEfake0123456789FAKEfa'"],
        negatives: &["Twitter(auth=OAuth('FAKEfake0123456789FAKEfake0123456789FAKEfa'))"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "facebook-access-token",
        kind: "facebook-token",
        severity: Severity::High,
        keywords: &["EAA"],
        pattern: r##"\b(EAA(?:CEdEose0cBA|[B-Z])[0-9A-Za-z]{80,})"##,
        display: "EAA",
        positives: &[
            "FB_TOKEN=EAACEdEose0cBAFAKEfake0123456789FAKEfake0123456789FAKEfake0123456789FAKEfake0123456789FAKEfake0123456789FAKEfake01",
        ],
        negatives: &["EAAGshort"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "mapbox-secret-token",
        kind: "mapbox-token",
        severity: Severity::High,
        // Secret (`sk.`) and temporary (`tk.`) tokens; public `pk.` tokens are
        // meant to ship in web pages and are not reported.
        keywords: &["sk.eyJ", "tk.eyJ"],
        pattern: r##"\b([st]k\.eyJ[A-Za-z0-9_\-]{50,}\.[A-Za-z0-9_\-]{20,})"##,
        display: "?k.eyJ",
        positives: &[
            "MAPBOX_TOKEN=sk.eyJFAKEfake0123_-9876FAKEfake0123_-9876FAKEfake0123_-9876FAKEfa.FAKEfake0123_-9876FAKE",
        ],
        negatives: &["sk.eyJshort"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "typeform-token",
        kind: "typeform-token",
        severity: Severity::Medium,
        keywords: &["tfp_"],
        pattern: r##"\b(tfp_[A-Za-z0-9_\-.=]{59})"##,
        display: "tfp_",
        positives: &["TYPEFORM_TOKEN=tfp_FAKEfake0123_-9876FAKEfake0123_-9876FAKEfake0123_-9876FAKEf"],
        negatives: &["tfp_short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "sendgrid-api-key",
        kind: "sendgrid-api-key",
        severity: Severity::High,
        keywords: &["SG."],
        pattern: r##"\b(SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43})(?:[^A-Za-z0-9_\-]|$)"##,
        display: "SG.",
        positives: &["SENDGRID_API_KEY=SG.FAKEfake0123_-9876FAKE.FAKEfake0123_-9876FAKEfake0123_-9876FAKEfak"],
        negatives: &["SG.short.x"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "mailgun-key",
        kind: "mailgun-key",
        severity: Severity::High,
        keywords: &["key-"],
        pattern: r##"\b(key-[a-f0-9]{32})\b"##,
        display: "key-",
        positives: &["MAILGUN_API_KEY=key-fa4e0123456789bcdfa4e0123456789b"],
        negatives: &["key-fa4e0123"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "mailchimp-api-key",
        kind: "mailchimp-api-key",
        severity: Severity::High,
        keywords: &["-us"],
        pattern: r##"\b([a-f0-9]{32}-us[0-9]{1,2})\b"##,
        positives: &["MAILCHIMP_KEY=fa4e0123456789bcdfa4e0123456789b-us21"],
        negatives: &["fa4e-us21", "en-us"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "brevo-api-key",
        kind: "brevo-api-key",
        severity: Severity::High,
        keywords: &["xkeysib-", "xsmtpsib-"],
        pattern: r##"\b(x(?:keysib|smtpsib)-[a-f0-9]{64}-[A-Za-z0-9]{16})\b"##,
        display: "x",
        positives: &[
            "BREVO_API_KEY=xkeysib-fa4e0123456789bcdfa4e0123456789bcdfa4e0123456789bcdfa4e012345678-FAKEfake01234567",
        ],
        negatives: &["xkeysib-short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "mailersend-token",
        kind: "mailersend-token",
        severity: Severity::High,
        keywords: &["mlsn."],
        pattern: r##"\b(mlsn\.[a-f0-9]{64})\b"##,
        display: "mlsn.",
        positives: &["MAILERSEND_API_KEY=mlsn.fa4e0123456789bcdfa4e0123456789bcdfa4e0123456789bcdfa4e012345678"],
        negatives: &["mlsn.short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "twilio-api-key",
        kind: "twilio-key",
        severity: Severity::High,
        keywords: &["twilio", "TWILIO", "Twilio"],
        // Assigned, or (an `SK` key only) the quoted default of an environment
        // lookup: `env('TWILIO_API', 'SK…')`.
        pattern: r##"(?i)twilio[\w.\-]{0,20}(?:[\"']?\s*(?:[:=]|=>)\s*[\"']?(SK[0-9a-fA-F]{32}|[0-9a-f]{32})|[\"']\s*,\s*[\"'](SK[0-9a-fA-F]{32}))\b"##,
        positives: &[
            "TWILIO_API_KEY=SKfa4e0123456789bcdfa4e0123456789b",
            "TWILIO_AUTH_TOKEN=fa4e0123456789bcdfa4e0123456789b",
            "env('TWILIO_API', 'SKfa4e0123456789bcdfa4e0123456789b')",
        ],
        negatives: &["TWILIO_AUTH_TOKEN=${TOKEN}", r#"["twilio", "fa4e0123456789bcdfa4e0123456789b"]"#],
        ..Rule::DEFAULT
    },
    Rule {
        id: "telnyx-api-key",
        kind: "telnyx-key",
        severity: Severity::High,
        keywords: &["KEY0"],
        pattern: r##"\b(KEY0[0-9A-F]{31}_[A-Za-z0-9]{22})\b"##,
        display: "KEY",
        positives: &["TELNYX_API_KEY=KEY0FA4E0123456789BCDFA4E0123456789_FAKEfake0123456789FAKE"],
        negatives: &["KEY0SHORT"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "groq-api-key",
        kind: "groq-api-key",
        severity: Severity::High,
        keywords: &["gsk_"],
        pattern: r##"\b(gsk_[A-Za-z0-9]{52})\b"##,
        display: "gsk_",
        positives: &["GROQ_API_KEY=gsk_FAKEfake0123456789FAKEfake0123456789FAKEfake01234567"],
        negatives: &["gsk_short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "huggingface-token",
        kind: "huggingface-token",
        severity: Severity::High,
        keywords: &["hf_", "api_org_"],
        pattern: r##"\b((?:hf_|api_org_)[A-Za-z]{34})\b"##,
        display: "hf_",
        positives: &["HF_TOKEN=hf_FAKEfakeQwRtYuFAKEfakeQwRtYuFAKEfa"],
        negatives: &["hf_short", "hf_FAKEfakeFAKEfakeFAKEfakeFAKEfa0000"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "replicate-token",
        kind: "replicate-token",
        severity: Severity::High,
        keywords: &["r8_"],
        pattern: r##"\b(r8_[A-Za-z0-9]{37})\b"##,
        display: "r8_",
        positives: &["REPLICATE_API_TOKEN=r8_FAKEfake0123456789FAKEfake0123456789F"],
        negatives: &["r8_short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "perplexity-api-key",
        kind: "perplexity-api-key",
        severity: Severity::High,
        keywords: &["pplx-"],
        pattern: r##"\b(pplx-[A-Za-z0-9]{48})\b"##,
        display: "pplx-",
        positives: &["PERPLEXITY_API_KEY=pplx-FAKEfake0123456789FAKEfake0123456789FAKEfake0123"],
        negatives: &["pplx-short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "xai-api-key",
        kind: "xai-api-key",
        severity: Severity::High,
        keywords: &["xai-"],
        pattern: r##"\b(xai-[A-Za-z0-9]{80})\b"##,
        display: "xai-",
        positives: &[
            "XAI_API_KEY=xai-FAKEfake0123456789FAKEfake0123456789FAKEfake0123456789FAKEfake0123456789FAKEfake",
        ],
        negatives: &["xai-short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "openrouter-api-key",
        kind: "openrouter-api-key",
        severity: Severity::High,
        keywords: &["sk-or-v1-"],
        pattern: r##"\b(sk-or-v1-[a-f0-9]{64})\b"##,
        display: "sk-or-v1-",
        positives: &["OPENROUTER_API_KEY=sk-or-v1-fa4e0123456789bcdfa4e0123456789bcdfa4e0123456789bcdfa4e012345678"],
        negatives: &["sk-or-v1-short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "langsmith-api-key",
        kind: "langsmith-api-key",
        severity: Severity::High,
        keywords: &["lsv2_pt_", "lsv2_sk_"],
        pattern: r##"\b(lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10})\b"##,
        display: "lsv2_",
        positives: &["LANGCHAIN_API_KEY=lsv2_pt_fa4e0123456789bcdfa4e0123456789b_fa4e012345"],
        negatives: &["lsv2_pt_short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "putty-private-key",
        kind: "private-key",
        severity: Severity::Critical,
        keywords: &["PuTTY-User-Key-File-"],
        pattern: r##"(PuTTY-User-Key-File-[23]: [a-z0-9\-]+(?:\r?\n|\\r?\\n)Encryption: [a-z0-9\-]+(?:\r?\n|\\r?\\n)(?:[^\r\n\\]|\\[^nr])*(?:\r?\n|\\r?\\n)Public-Lines: \d+(?:\r?\n|\\r?\\n)(?:[A-Za-z0-9+/=]+(?:\r?\n|\\r?\\n))+(?:(?:Key-Derivation|Argon2-[A-Za-z]+): [^\r\n\\]+(?:\r?\n|\\r?\\n))*Private-Lines: \d+(?:\r?\n|\\r?\\n)(?:[A-Za-z0-9+/=]+(?:\r?\n|\\r?\\n))+Private-MAC: [a-f0-9]{40,64})"##,
        display: "PuTTY-User-Key-File-",
        positives: &[
            "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: fake-key\nPublic-Lines: 2\nFAKEfake0123+/9876FAKEfake0123+/9876FAKEfake0123+/9876FAKEfake01\nFAKEfake0123+/9876FA\nPrivate-Lines: 1\nFAKEfake0123+/9876FAKEfake0123+/9876FAKEfake0123\nPrivate-MAC: fa4e0123456789bcdfa4e0123456789bcdfa4e0123456789bcdfa4e012345678",
        ],
        negatives: &["PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "jdbc-password",
        kind: "database-url-password",
        severity: Severity::Critical,
        keywords: &["jdbc:"],
        pattern: r##"(?i)\bjdbc:[a-z0-9]+:[^\s\"'<>]{0,200}?[;?&]password=([^;&\s\"'<>]{4,128})"##,
        min_entropy: Some(2.5),
        positives: &[
            "spring.datasource.url=jdbc:sqlserver://db.internal:1433;database=app;user=app;password=FakePassw0rdFake",
        ],
        negatives: &["jdbc:postgresql://db/app?password=${DB_PASSWORD}"],
        chosen: true,
        ..Rule::DEFAULT
    },
    Rule {
        id: "url-credentials",
        kind: "url-password",
        severity: Severity::High,
        keywords: &["ftp://", "sftp://", "smtp://", "smtps://", "ldap://", "ldaps://", "ftps://"],
        pattern: r##"\b(?:s?ftps?|smtps?|ldaps?)://[^\s:/@\"'<>]{1,64}:([^\s@/\"'<>$]{4,128})@[A-Za-z0-9.\-_\[\]]+"##,
        min_entropy: Some(2.5),
        positives: &["SMTP_URL=smtp://mailer:FakeMailPassw0rd@smtp.internal:587"],
        negatives: &["ftp://anonymous:changeme@ftp.internal", "ftp://ftp.internal/pub"],
        chosen: true,
        ..Rule::DEFAULT
    },
    Rule {
        id: "connection-string-password",
        kind: "connection-string-password",
        severity: Severity::High,
        keywords: &["Password=", "password=", "Pwd=", "PWD=", "pwd="],
        pattern: r##"(?i)(?:Server|Data Source|Host)=[^;\"'\n]{1,200};[^\"'\n]{0,300}?\b(?:Password|Pwd)=([^;\"'\s]{4,128})"##,
        min_entropy: Some(2.5),
        positives: &[
            "Server=tcp:fake.database.windows.net,1433;Database=app;User ID=app;Password=FakePassw0rd9;Encrypt=true",
        ],
        negatives: &["Server=db;User=app;Password=${DB_PASSWORD};"],
        chosen: true,
        ..Rule::DEFAULT
    },
    Rule {
        id: "netrc-password",
        kind: "netrc-password",
        severity: Severity::High,
        keywords: &["machine "],
        pattern: r##"\bmachine\s+[^\s]+\s+login\s+[^\s]+\s+password\s+([^\s]{4,128})"##,
        min_entropy: Some(2.5),
        positives: &["machine api.fake.internal login deploy password FakeNetrcPassw0rd"],
        negatives: &["machine host login me password changeme"],
        chosen: true,
        ..Rule::DEFAULT
    },
    Rule {
        id: "basic-auth-header",
        kind: "basic-auth",
        severity: Severity::High,
        keywords: &["Basic "],
        pattern: r##"(?i)authorization[\"']?\s*[:=]\s*[\"']?Basic ([A-Za-z0-9+/]{16,}={0,2})"##,
        min_entropy: Some(3.0),
        positives: &["Authorization: Basic FAKEfake0123+/9876FAKEfake0123+/"],
        negatives: &["Authorization: Basic <credentials>"],
        chosen: true,
        ..Rule::DEFAULT
    },
    Rule {
        id: "docker-config-auth",
        kind: "docker-registry-auth",
        severity: Severity::High,
        keywords: &["\"auths\""],
        pattern: r##"\"auths\"\s*:\s*\{[\s\S]{0,300}?\"auth\"\s*:\s*\"([A-Za-z0-9+/]{16,}={0,2})\""##,
        min_entropy: Some(3.0),
        positives: &[
            "{\"auths\": {\"registry.fake.internal\": {\"auth\": \"FAKEfake0123+/9876FAKEfake0123+/9876FAKE\"}}}",
        ],
        negatives: &["{\"auths\": {}}"],
        chosen: true,
        ..Rule::DEFAULT
    },
    Rule {
        id: "generic-api-key-assignment",
        kind: "generic-api-key",
        severity: Severity::Medium,
        keywords: &["api_key", "apikey", "api-key", "x-api-key"],
        pattern: r##"(?i)\b(?:x-)?api[_\-]?key[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9_\-]{20,64})(?:[\"'\s,;]|$)"##,
        min_entropy: Some(3.8),
        generic: true,
        positives: &["API_KEY = \"FAKEfake9kQ2mZx7Lw4Rt8Yp3Vn6\"", "x-api-key: FAKEfake9kQ2mZx7Lw4Rt8Yp3Vn6"],
        negatives: &[
            "api_key=<your-key>",
            "api_key = \"aaaaaaaaaaaaaaaaaaaaaaaa\"",
            "apiKey: process.env.API_KEY_FROM_ENVIRONMENT",
        ],
        assignment_within: &[0],
        value_within: 64,
        ..Rule::DEFAULT
    },
    Rule {
        id: "bearer-token",
        kind: "bearer-token",
        severity: Severity::Medium,
        keywords: &["Bearer "],
        pattern: r##"\bBearer ([A-Za-z0-9_\-.~+/]{20,512}={0,2})(?:[^A-Za-z0-9_\-.~+/=]|$)"##,
        min_entropy: Some(3.8),
        generic: true,
        positives: &["Authorization: Bearer FAKEfake9kQ2mZx7Lw4Rt8Yp3Vn6Bc1"],
        negatives: &["Authorization: Bearer ${TOKEN}", "Bearer token_goes_here_for_the_api"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "azure-shared-access-key",
        kind: "azure-shared-access-key",
        severity: Severity::Critical,
        keywords: &["SharedAccessKey="],
        pattern: r##"SharedAccessKey=([A-Za-z0-9+/]{42,44}={0,2})"##,
        positives: &[
            "Endpoint=sb://fake.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=FAKEfake0123+/9876FAKEfake0123+/9876FAKEfa0=",
        ],
        negatives: &["SharedAccessKey=short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "heroku-api-key-legacy",
        kind: "heroku-api-key",
        severity: Severity::High,
        keywords: &["heroku"],
        pattern: r##"(?i)heroku[\w.\-]{0,20}["']?\s*[:=]\s*["']?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b"##,
        positives: &["HEROKU_API_KEY=fa4e0123-fa4e-4fa4-afa4-0123456789ab"],
        negatives: &["HEROKU_API_KEY=${HEROKU_API_KEY}"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "hashicorp-vault-legacy-token",
        kind: "vault-token",
        severity: Severity::Critical,
        keywords: &["vault"],
        pattern: r##"(?i)vault[\w.\-]{0,24}["'`]?(?:\s*[:=]\s*|\s+)["'`]?([sbr]\.[A-Za-z0-9]{24,120})\b"##,
        min_entropy: Some(3.0),
        display: "s.",
        positives: &[
            "VAULT_TOKEN=\"s.FAKEfake0123456789FAKEfa\"",
            "vault login -vaultToken b.FAKEfake0123456789FAKEfake01",
        ],
        negatives: &["VAULT_TOKEN=s.short", "vault_addr = s.aaaaaaaaaaaaaaaaaaaaaaaa"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "facebook-app-secret",
        kind: "facebook-token",
        severity: Severity::High,
        keywords: &["facebook", "fbapi", "fbApi", "fb_app", "fb_secret"],
        pattern: r##"(?i)(?:facebook|\bfb_?(?:api|app|secret))[\w.\-]{0,30}["']?\s*(?:[:=]|=>)\s*["']?([0-9a-f]{32})\b"##,
        min_entropy: Some(3.0),
        positives: &[
            "FACEBOOK_APP_SECRET=\"fa4e0123fa4e4fa4afa40123456789ab\"",
            "var fbApiKey = 'fa4e0123fa4e4fa4afa40123456789ab';",
        ],
        negatives: &["FACEBOOK_APP_SECRET=${FACEBOOK_APP_SECRET}", "facebook_id = 'fa4e0123'"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "facebook-app-access-token",
        kind: "facebook-token",
        severity: Severity::High,
        keywords: &["facebook"],
        pattern: r##"(?i)facebook[^\n]{0,40}?\b(\d{15,16}\|[0-9A-Za-z_\-]{27})(?:[^0-9A-Za-z_\-]|$)"##,
        positives: &["facebook app token 1234567890123456|FAKEfake0123456789FAKEfake0"],
        negatives: &["facebook 1234567890123456|short"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "hashicorp-vault-unseal-key",
        kind: "vault-unseal-key",
        severity: Severity::Critical,
        keywords: &["unseal"],
        // A share of the root key: base64 of 33 bytes (44 characters, no padding)
        // or of 32 (43 and `=`).
        pattern: r##"(?i)(?:unseal key \d{1,2}:|operator unseal)\s+([A-Za-z0-9+/]{43}=|[A-Za-z0-9+/]{44})(?:[^A-Za-z0-9+/=]|$)"##,
        min_entropy: Some(3.5),
        positives: &[
            "Unseal Key 1: FAKEfake0123+/9876FAKEfake0123+/9876FAKEfak=",
            "vault operator unseal FAKEfake0123+/9876FAKEfake0123+/9876FAKEfak=",
        ],
        negatives: &["vault operator unseal $KEY"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "azure-devops-pat",
        kind: "azure-devops-pat",
        severity: Severity::Critical,
        // The 84-character format carries the `AZDO` signature at a fixed place.
        keywords: &["AZDO"],
        pattern: r##"\b([0-9A-Za-z]{76}AZDO[0-9A-Za-z]{4})\b"##,
        min_entropy: Some(3.5),
        positives: &[
            "AZURE_DEVOPS_PAT=FAKEfake0123456789FAKEfake0123456789FAKEfake0123456789FAKEfake0123456789FAKEAZDOfake",
        ],
        negatives: &["FAKEAZDOfake"],
        ..Rule::DEFAULT
    },
    Rule {
        id: "azure-devops-legacy-pat",
        kind: "azure-devops-pat",
        severity: Severity::Critical,
        // The 52-character base32 format has no prefix: only beside a name that says so.
        keywords: &[
            "personalaccesstoken",
            "personal_access_token",
            "ado_pat",
            "azure_devops",
            "devops_pat",
            "azure_pat",
        ],
        pattern: r##"(?i)(?:personal_?access_?token|ado_?pat|azure_?devops\w*|devops_?pat|azure_?pat)\w*["']?\s*[:=]\s*["']?([a-z2-7]{52})\b"##,
        min_entropy: Some(3.5),
        positives: &["ado_pat = \"fakeqrstuvwxyz234567abcdfakeqrstuvwxyz234567abcdfake\""],
        negatives: &["ado_pat = \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""],
        ..Rule::DEFAULT
    },
    Rule {
        id: "azure-app-configuration-connection-string",
        kind: "azure-storage-key",
        severity: Severity::Critical,
        keywords: &["azconfig.io"],
        pattern: r##"azconfig\.io;Id=[^;\s"']{1,64};Secret=([A-Za-z0-9+/]{43}=)"##,
        positives: &[
            "Endpoint=https://fake.azconfig.io;Id=FAKE-l0-s0:FAKEfake0123456789FA;Secret=FAKEfake0123+/9876FAKEfake0123+/9876FAKEfak=",
        ],
        negatives: &["Endpoint=https://fake.azconfig.io;Id=x;Secret=short"],
        ..Rule::DEFAULT
    },
];
