//! Secret values made by the generator's own code from the formats' published
//! facts (prefixes, lengths, alphabets, checksums), never from a detector's rules.
//! Every value is random: none is, or was, a live credential.

use crate::rng::{ALNUM, HEX, Rng};

/// A secret's kind and how urgently it must be rotated (design.md §5, §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `AKIA` + 16 base32 characters.
    AwsAccessKeyId,
    /// The 40-character secret that goes with an access key id.
    AwsSecretAccessKey,
    /// `ghp_` + 30 characters + a 6-character base62 CRC32 checksum.
    GithubPat,
    /// `xoxb-` bot token.
    SlackToken,
    /// `sk_live_` key.
    StripeSecretKey,
    /// A PEM or OpenSSH private key block.
    PrivateKey,
    /// A GCP service account's `private_key_id`.
    GcpServiceAccount,
    /// The password of a database connection URL.
    DatabaseUrlPassword,
    /// A signed JSON Web Token.
    Jwt,
    /// `sk-` ... `T3BlbkFJ` ... OpenAI key.
    OpenaiApiKey,
    /// `sk-ant-api03-` ... `AA` Anthropic key.
    AnthropicApiKey,
    /// `npm_` + 30 characters + checksum.
    NpmToken,
    /// A long random value assigned to a secret-looking name.
    GenericSecretAssignment,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 13] = [
        Kind::AwsAccessKeyId,
        Kind::AwsSecretAccessKey,
        Kind::GithubPat,
        Kind::SlackToken,
        Kind::StripeSecretKey,
        Kind::PrivateKey,
        Kind::GcpServiceAccount,
        Kind::DatabaseUrlPassword,
        Kind::Jwt,
        Kind::OpenaiApiKey,
        Kind::AnthropicApiKey,
        Kind::NpmToken,
        Kind::GenericSecretAssignment,
    ];

    /// The stable kind name (design.md §5).
    pub fn name(self) -> &'static str {
        match self {
            Kind::AwsAccessKeyId => "aws-access-key-id",
            Kind::AwsSecretAccessKey => "aws-secret-access-key",
            Kind::GithubPat => "github-pat",
            Kind::SlackToken => "slack-token",
            Kind::StripeSecretKey => "stripe-secret-key",
            Kind::PrivateKey => "private-key",
            Kind::GcpServiceAccount => "gcp-service-account",
            Kind::DatabaseUrlPassword => "database-url-password",
            Kind::Jwt => "jwt",
            Kind::OpenaiApiKey => "openai-api-key",
            Kind::AnthropicApiKey => "anthropic-api-key",
            Kind::NpmToken => "npm-token",
            Kind::GenericSecretAssignment => "generic-secret-assignment",
        }
    }

    /// Severity by the rotation policy: critical (cloud, payment and database
    /// credentials, private keys) within 24 h, high (code hosts, registries,
    /// chat, AI providers) within 72 h, medium the rest.
    pub fn severity(self) -> &'static str {
        match self {
            Kind::AwsAccessKeyId
            | Kind::AwsSecretAccessKey
            | Kind::StripeSecretKey
            | Kind::PrivateKey
            | Kind::GcpServiceAccount
            | Kind::DatabaseUrlPassword => "critical",
            Kind::GithubPat | Kind::SlackToken | Kind::OpenaiApiKey | Kind::AnthropicApiKey | Kind::NpmToken => "high",
            Kind::Jwt | Kind::GenericSecretAssignment => "medium",
        }
    }
}

const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Base62 of a CRC32, left-padded with `0` to 6 characters (the GitHub and npm
/// token checksum).
pub fn crc32_base62(body: &str) -> String {
    let mut n = crc32fast::hash(body.as_bytes());
    let mut out = Vec::new();
    while n > 0 {
        out.push(B62[(n % 62) as usize]);
        n /= 62;
    }
    while out.len() < 6 {
        out.push(b'0');
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

fn base64url(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len() * 4 / 3 + 2);
    for c in bytes.chunks(3) {
        let n =
            (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        let k = c.len() + 1;
        for i in 0..k {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// A PEM-armoured block of random base64 (64-character lines).
fn pem(rng: &mut Rng, label: &str, body_len: usize) -> String {
    let mut body = rng.chars(B64, body_len);
    if label == "OPENSSH PRIVATE KEY" {
        // The OpenSSH key format's magic, base64 of "openssh-key-v1\0".
        body.replace_range(0..20, "b3BlbnNzaC1rZXktdjEA");
    } else {
        body.replace_range(0..4, "MIIE");
    }
    let mut s = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        s.push_str(std::str::from_utf8(line).unwrap_or_default());
        s.push('\n');
    }
    s.push_str(&format!("-----END {label}-----"));
    s
}

/// A fresh random value of `kind`.
pub fn value(rng: &mut Rng, kind: Kind) -> String {
    match kind {
        Kind::AwsAccessKeyId => format!("AKIA{}", rng.chars(BASE32, 16)),
        Kind::AwsSecretAccessKey => rng.chars(B64, 40),
        Kind::GithubPat => {
            let body = rng.chars(ALNUM, 30);
            format!("ghp_{body}{}", crc32_base62(&body))
        }
        Kind::NpmToken => {
            let body = rng.chars(ALNUM, 30);
            format!("npm_{body}{}", crc32_base62(&body))
        }
        Kind::SlackToken => format!(
            "xoxb-{}-{}-{}",
            rng.range(1_000_000_000, 9_999_999_999),
            rng.range(1_000_000_000_000, 9_999_999_999_999),
            rng.chars(ALNUM, 24)
        ),
        Kind::StripeSecretKey => format!("sk_live_51{}", rng.chars(ALNUM, 97)),
        Kind::PrivateKey => {
            let label = *rng.pick(&["RSA PRIVATE KEY", "OPENSSH PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY"]);
            let len = if label == "EC PRIVATE KEY" { 160 } else { 1_600 + 4 * rng.below(100) as usize };
            pem(rng, label, len)
        }
        Kind::GcpServiceAccount => rng.chars(HEX, 40),
        Kind::DatabaseUrlPassword => {
            let n = 20 + rng.below(12) as usize;
            rng.chars(ALNUM, n)
        }
        Kind::Jwt => {
            let header = base64url(br#"{"alg":"HS256","typ":"JWT"}"#);
            let claims = format!(
                r#"{{"sub":"svc-{}","iat":{},"scope":"deploy"}}"#,
                rng.chars(HEX, 8),
                1_700_000_000 + rng.below(20_000_000)
            );
            format!("{header}.{}.{}", base64url(claims.as_bytes()), base64url(&rng.bytes(32)))
        }
        Kind::OpenaiApiKey => format!("sk-{}T3BlbkFJ{}", rng.chars(ALNUM, 20), rng.chars(ALNUM, 20)),
        Kind::AnthropicApiKey => {
            const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            format!("sk-ant-api03-{}AA", rng.chars(A, 93))
        }
        Kind::GenericSecretAssignment => rng.chars(ALNUM, 40),
    }
}

/// A PEM private key for a GCP service account file (the `private_key` field).
pub fn service_account_key(rng: &mut Rng) -> String {
    pem(rng, "PRIVATE KEY", 1_620)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_their_published_shape() {
        let mut rng = Rng::new(9);
        let gh = value(&mut rng, Kind::GithubPat);
        assert_eq!(gh.len(), 40);
        assert_eq!(&gh[34..], crc32_base62(&gh[4..34]));
        let aws = value(&mut rng, Kind::AwsAccessKeyId);
        assert!(aws.starts_with("AKIA") && aws.len() == 20);
        let jwt = value(&mut rng, Kind::Jwt);
        assert_eq!(jwt.matches('.').count(), 2);
        assert!(jwt.starts_with("eyJ"));
        let pem = value(&mut rng, Kind::PrivateKey);
        assert!(pem.starts_with("-----BEGIN ") && pem.ends_with(" PRIVATE KEY-----"));
        assert!(value(&mut rng, Kind::AnthropicApiKey).ends_with("AA"));
    }

    #[test]
    fn checksum_is_six_base62_characters() {
        assert_eq!(crc32_base62(""), "000000");
        assert_eq!(crc32_base62("abc").len(), 6);
    }

    #[test]
    fn every_kind_has_a_severity() {
        for k in Kind::ALL {
            assert!(["critical", "high", "medium", "low"].contains(&k.severity()), "{}", k.name());
        }
    }
}
