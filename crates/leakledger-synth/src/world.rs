//! The world a dump leaks from: organisations, their users and repositories, the
//! repositories' files (plausible code and config, some holding secrets, some
//! holding decoys that must not count).

use crate::rng::{ALNUM, HEX, LOWER, Rng};
use crate::secrets::{self, Kind};

/// A language of a repository.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// Java with Maven.
    Java,
    /// Python with pyproject.
    Python,
    /// Go with modules.
    Go,
}

/// How a repository can be identified from its sessions (design.md §3, strongest
/// first). Fixed per repository, so its key is the same in every session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Evidence {
    /// Every record carries the repository URL in a field.
    RecordField,
    /// Each session runs `git remote -v` and the result shows the origin URL.
    Remote,
    /// Each session reads `go.mod`, whose `module` line names it (Go only).
    GoMod,
    /// Nothing names it: the key is `local/ORG/NAME` from the working directory.
    Local,
}

/// A secret placed in the world.
#[derive(Clone, Debug)]
pub struct Secret {
    /// Its kind.
    pub kind: Kind,
    /// The value, as a detector should extract it.
    pub value: String,
}

/// A file of a repository.
#[derive(Clone, Debug)]
pub struct File {
    /// Path relative to the repository root, `/`-separated.
    pub path: String,
    /// Content (always ends with a newline).
    pub content: String,
    /// Secrets in the content: (index into [`World::secrets`], occurrences).
    pub secrets: Vec<(usize, u32)>,
}

/// A repository.
#[derive(Clone, Debug)]
pub struct Repo {
    /// Host, e.g. `github.com`.
    pub host: String,
    /// Owner on the host.
    pub owner: String,
    /// Name.
    pub name: String,
    /// Language.
    pub lang: Lang,
    /// How it is identified.
    pub evidence: Evidence,
    /// Its files.
    pub files: Vec<File>,
}

impl Repo {
    /// The normalised key `host/owner/name` (lower case).
    pub fn url_key(&self) -> String {
        format!("{}/{}/{}", self.host, self.owner, self.name).to_lowercase()
    }
}

/// An organisation.
#[derive(Clone, Debug)]
pub struct Org {
    /// Its name as logged (the `org` field).
    pub name: String,
    /// Java/Python package root, e.g. `brightforge`.
    pub package: String,
    /// Its developers.
    pub users: Vec<String>,
    /// Its repositories.
    pub repos: Vec<Repo>,
}

/// Everything the generator draws sessions from.
#[derive(Clone, Debug)]
pub struct World {
    /// The organisations.
    pub orgs: Vec<Org>,
    /// Every secret placed anywhere, by index.
    pub secrets: Vec<Secret>,
}

const PREFIXES: &[&str] = &[
    "acme", "bright", "nimbus", "globex", "initech", "umbra", "hooli", "vandel", "wonka", "stark", "wayne", "tyrell",
    "cyber", "oscorp", "soylent", "massive", "blue", "north", "river", "stone", "iron", "silver", "quantum", "pixel",
    "delta", "orbit", "lumen", "cobalt", "vertex", "harbor",
];
const SUFFIXES: &[&str] =
    &["forge", "works", "labs", "pay", "soft", "data", "cloud", "logic", "ware", "systems", "health", "bank", "ly"];
const REPO_NAMES: &[&str] = &[
    "payments-api",
    "ledger-core",
    "billing-service",
    "auth-gateway",
    "mobile-backend",
    "risk-engine",
    "data-pipeline",
    "search-indexer",
    "notification-hub",
    "inventory",
    "checkout",
    "identity",
    "reporting",
    "ml-scoring",
    "web-portal",
    "admin-console",
    "sync-worker",
    "pricing",
    "fraud-detector",
    "crm-connector",
];
const WORDS: &[&str] = &[
    "account", "balance", "ledger", "invoice", "customer", "order", "payment", "refund", "session", "token", "report",
    "schedule", "export", "import", "audit", "policy", "limit", "rate", "cache", "queue", "event", "batch", "retry",
];
const USERS: &[&str] = &[
    "dana", "sam", "alex", "priya", "wei", "lena", "omar", "chris", "maria", "jonas", "aiko", "tomas", "fatima",
    "kofi", "ines", "raj", "nina", "pavel", "sofia", "mateo",
];

fn camel(words: &[&str]) -> String {
    words
        .iter()
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

fn lower_camel(words: &[&str]) -> String {
    let c = camel(words);
    let mut ch = c.chars();
    match ch.next() {
        Some(f) => f.to_lowercase().collect::<String>() + ch.as_str(),
        None => c,
    }
}

fn word(rng: &mut Rng) -> &'static str {
    rng.pick::<&str>(WORDS)
}

/// A decoy line that looks like a finding but is not one: a public link, a
/// placeholder, a documentation example key, a UUID, a commit hash.
fn decoy_comment(rng: &mut Rng, comment: &str) -> String {
    match rng.below(6) {
        0 => format!(
            "{comment} see https://github.com/{}/issues/{}",
            rng.pick(&["spring-projects/spring-boot", "golang/go", "psf/requests", "apache/kafka"]),
            rng.range(100, 40_000)
        ),
        1 => format!("{comment} example: password=changeme, api_key=<your-key>, token=${{GITHUB_TOKEN}}"),
        2 => format!("{comment} docs example key AKIAIOSFODNN7EXAMPLE (not a real key)"),
        3 => format!(
            "{comment} request id {}-{}-4{}-a{}-{}",
            rng.chars(HEX, 8),
            rng.chars(HEX, 4),
            rng.chars(HEX, 3),
            rng.chars(HEX, 3),
            rng.chars(HEX, 12)
        ),
        4 => format!("{comment} fixed in commit {}", rng.chars(HEX, 40)),
        _ => format!("{comment} vendored from https://gitlab.com/{}/{}", rng.chars(LOWER, 6), rng.chars(LOWER, 8)),
    }
}

fn java_class(rng: &mut Rng, package: &str, class: &str, methods: usize) -> String {
    let mut s =
        format!("package {package};\n\nimport java.util.HashMap;\nimport java.util.List;\nimport java.util.Map;\n\n");
    s.push_str(&format!("/** {class} keeps the {} state for one tenant. */\n", word(rng)));
    s.push_str(&format!("public class {class} {{\n    private final Map<String, Long> cache = new HashMap<>();\n\n"));
    for _ in 0..methods {
        let (a, b) = (word(rng), word(rng));
        let name = lower_camel(&[a, b]);
        if rng.chance(0.15) {
            s.push_str(&format!("    {}\n", decoy_comment(rng, "//")));
        }
        s.push_str(&format!(
            "    public long {name}(List<String> {a}s) {{\n        long total = 0;\n        for (String {b} : {a}s) {{\n            total += cache.getOrDefault({b}, {}L);\n        }}\n        if (total > {}) {{\n            throw new IllegalStateException(\"{a} limit exceeded: \" + total);\n        }}\n        return total;\n    }}\n\n",
            rng.below(100),
            rng.range(1000, 1_000_000)
        ));
    }
    s.push_str("}\n");
    s
}

fn python_module(rng: &mut Rng, funcs: usize) -> String {
    let mut s = format!(
        "\"\"\"{} helpers.\"\"\"\n\nfrom __future__ import annotations\n\nimport json\nimport logging\n\nlog = logging.getLogger(__name__)\n\n",
        camel(&[word(rng)])
    );
    for _ in 0..funcs {
        let (a, b) = (word(rng), word(rng));
        if rng.chance(0.15) {
            s.push_str(&decoy_comment(rng, "#"));
            s.push('\n');
        }
        s.push_str(&format!(
            "\ndef {a}_{b}(rows: list[dict], limit: int = {}) -> str:\n    \"\"\"Summarise {a} rows by {b}.\"\"\"\n    totals: dict[str, int] = {{}}\n    for row in rows:\n        key = str(row.get(\"{b}\", \"unknown\"))\n        totals[key] = totals.get(key, 0) + int(row.get(\"{a}\", 0))\n    if len(totals) > limit:\n        log.warning(\"too many {b} values: %d\", len(totals))\n    return json.dumps(totals, sort_keys=True)\n\n",
            rng.range(10, 500)
        ));
    }
    s
}

fn go_file(rng: &mut Rng, package: &str, funcs: usize) -> String {
    let mut s = format!("package {package}\n\nimport (\n\t\"errors\"\n\t\"fmt\"\n)\n\n");
    for _ in 0..funcs {
        let (a, b) = (word(rng), word(rng));
        if rng.chance(0.15) {
            s.push_str(&decoy_comment(rng, "//"));
            s.push('\n');
        }
        s.push_str(&format!(
            "// {} checks the {a} against the {b} limit.\nfunc {}(values []int64, limit int64) (int64, error) {{\n\tvar total int64\n\tfor _, v := range values {{\n\t\ttotal += v\n\t}}\n\tif total > limit {{\n\t\treturn 0, errors.New(\"{a}: over {b} limit\")\n\t}}\n\treturn total, fmt.Errorf(\"%s ok\", \"{b}\")\n}}\n\n",
            camel(&[a, b]),
            camel(&[a, b])
        ));
    }
    s
}

/// Adds a new secret of `kind` and returns its index.
fn new_secret(world_secrets: &mut Vec<Secret>, rng: &mut Rng, kind: Kind) -> usize {
    world_secrets.push(Secret { kind, value: secrets::value(rng, kind) });
    world_secrets.len() - 1
}

/// Builds the secret-bearing and decoy config files of a repository.
fn config_files(rng: &mut Rng, lang: Lang, secrets: &mut Vec<Secret>, shared: &[usize]) -> Vec<File> {
    let mut files = Vec::new();
    // .env with cloud, AI and chat credentials.
    if rng.chance(0.6) {
        let mut content = String::from("# local development settings\nAPP_ENV=staging\nLOG_LEVEL=debug\n");
        let mut found = Vec::new();
        if rng.chance(0.7) {
            let id = new_secret(secrets, rng, Kind::AwsAccessKeyId);
            let key = new_secret(secrets, rng, Kind::AwsSecretAccessKey);
            content.push_str(&format!(
                "AWS_ACCESS_KEY_ID={}\nAWS_SECRET_ACCESS_KEY={}\n",
                secrets[id].value, secrets[key].value
            ));
            found.extend([(id, 1), (key, 1)]);
        }
        for (kind, var) in [
            (Kind::OpenaiApiKey, "OPENAI_API_KEY"),
            (Kind::AnthropicApiKey, "ANTHROPIC_API_KEY"),
            (Kind::SlackToken, "SLACK_BOT_TOKEN"),
            (Kind::StripeSecretKey, "STRIPE_SECRET_KEY"),
            (Kind::GithubPat, "GITHUB_TOKEN"),
        ] {
            if rng.chance(0.3) {
                let i = new_secret(secrets, rng, kind);
                content.push_str(&format!("{var}={}\n", secrets[i].value));
                found.push((i, 1));
            }
        }
        if !shared.is_empty() && rng.chance(0.5) {
            let i = *rng.pick(shared);
            content.push_str(&format!("VENDOR_WEBHOOK_TOKEN={}\n", secrets[i].value));
            found.push((i, 1));
        }
        if rng.chance(0.5) {
            let i = new_secret(secrets, rng, Kind::DatabaseUrlPassword);
            content.push_str(&format!("DATABASE_URL=postgres://app_user:{}@db.internal:5432/app\n", secrets[i].value));
            found.push((i, 1));
        }
        files.push(File { path: ".env".into(), content, secrets: found });
    }
    // A checked-in example with placeholders only (decoys).
    files.push(File {
        path: ".env.example".into(),
        content: "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\nAWS_SECRET_ACCESS_KEY=<your-secret-key>\nDATABASE_URL=postgres://user:changeme@localhost:5432/app\nOPENAI_API_KEY=${OPENAI_API_KEY}\n".into(),
        secrets: Vec::new(),
    });
    match lang {
        Lang::Java => {
            let mut content = String::from(
                "server.port=8443\nspring.application.name=service\nmanagement.endpoints.web.exposure.include=health\n",
            );
            let mut found = Vec::new();
            if rng.chance(0.5) {
                let i = new_secret(secrets, rng, Kind::DatabaseUrlPassword);
                content.push_str(&format!(
                    "app.datasource.url=postgresql://svc_payments:{}@pg-prod.internal:5432/payments\n",
                    secrets[i].value
                ));
                found.push((i, 1));
            }
            if rng.chance(0.3) {
                let i = new_secret(secrets, rng, Kind::GenericSecretAssignment);
                content.push_str(&format!("app.jwt.signing-secret={}\n", secrets[i].value));
                found.push((i, 1));
            }
            files.push(File { path: "src/main/resources/application.properties".into(), content, secrets: found });
        }
        Lang::Python => {
            let mut content = String::from("\"\"\"Django settings.\"\"\"\n\nDEBUG = False\nALLOWED_HOSTS = [\"*\"]\n");
            let mut found = Vec::new();
            if rng.chance(0.6) {
                let i = new_secret(secrets, rng, Kind::GenericSecretAssignment);
                content.push_str(&format!("SECRET_KEY = \"{}\"\n", secrets[i].value));
                found.push((i, 1));
            }
            content.push_str("PASSWORD_HASHERS = [\"django.contrib.auth.hashers.Argon2PasswordHasher\"]\n");
            files.push(File { path: "app/settings.py".into(), content, secrets: found });
        }
        Lang::Go => {
            if rng.chance(0.4) {
                let i = new_secret(secrets, rng, Kind::Jwt);
                let content = format!(
                    "package auth\n\nimport \"testing\"\n\n// A service token captured from staging for the replay test.\nconst replayToken = \"{}\"\n\nfunc TestReplay(t *testing.T) {{\n\tif len(replayToken) == 0 {{\n\t\tt.Fatal(\"empty\")\n\t}}\n}}\n",
                    secrets[i].value
                );
                files.push(File { path: "internal/auth/replay_test.go".into(), content, secrets: vec![(i, 1)] });
            }
        }
    }
    if rng.chance(0.25) {
        let i = new_secret(secrets, rng, Kind::PrivateKey);
        let content = format!("{}\n", secrets[i].value);
        files.push(File { path: "deploy/keys/deploy_key".into(), content, secrets: vec![(i, 1)] });
    }
    if rng.chance(0.2) {
        let id = new_secret(secrets, rng, Kind::GcpServiceAccount);
        let pem = secrets::service_account_key(rng);
        secrets.push(Secret { kind: Kind::PrivateKey, value: pem.clone() });
        let key = secrets.len() - 1;
        let project = format!("{}-{}", rng.chars(LOWER, 6), rng.range(100_000, 999_999));
        let content = format!(
            "{{\n  \"type\": \"service_account\",\n  \"project_id\": \"{project}\",\n  \"private_key_id\": \"{}\",\n  \"private_key\": \"{}\\n\",\n  \"client_email\": \"deployer@{project}.iam.gserviceaccount.com\",\n  \"client_id\": \"{}\",\n  \"token_uri\": \"https://oauth2.googleapis.com/token\"\n}}\n",
            secrets[id].value,
            pem.replace('\n', "\\n"),
            rng.range(100_000_000_000_000_000, 999_999_999_999_999_999)
        );
        files.push(File { path: "config/gcp-service-account.json".into(), content, secrets: vec![(id, 1), (key, 1)] });
    }
    if rng.chance(0.2) {
        let i = new_secret(secrets, rng, Kind::NpmToken);
        let content =
            format!("registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken={}\n", secrets[i].value);
        files.push(File { path: "web/.npmrc".into(), content, secrets: vec![(i, 1)] });
    }
    files
}

fn repo(rng: &mut Rng, org: &Org, name: &str, secrets: &mut Vec<Secret>, shared: &[usize]) -> Repo {
    let lang = *rng.pick(&[Lang::Java, Lang::Python, Lang::Go]);
    let host = match rng.below(20) {
        0..=11 => "github.com".to_string(),
        12..=16 => "gitlab.com".to_string(),
        17..=18 => "bitbucket.org".to_string(),
        _ => format!("git.{}.internal", org.package),
    };
    let owner = if rng.chance(0.8) { org.name.clone() } else { format!("{}-eng", org.name) };
    let evidence = match (lang, rng.below(4)) {
        (_, 0) => Evidence::RecordField,
        (_, 1) => Evidence::Remote,
        (Lang::Go, 2) => Evidence::GoMod,
        _ => Evidence::Local,
    };
    let mut files = Vec::new();
    let pkg = name.replace('-', "");
    let n_code = rng.range(4, 14) as usize;
    match lang {
        Lang::Java => {
            let package = format!("com.{}.{}", org.package, pkg);
            files.push(File {
                path: "pom.xml".into(),
                content: format!(
                    "<project>\n  <modelVersion>4.0.0</modelVersion>\n  <groupId>com.{}</groupId>\n  <artifactId>{name}</artifactId>\n  <version>1.{}.0</version>\n  <url>https://github.com/apache/maven</url>\n  <dependencies>\n    <dependency><groupId>org.springframework.boot</groupId><artifactId>spring-boot-starter-web</artifactId></dependency>\n  </dependencies>\n</project>\n",
                    org.package,
                    rng.below(20)
                ),
                secrets: Vec::new(),
            });
            for _ in 0..n_code {
                let role = *rng.pick(&["service", "repository", "controller", "handler", "mapper"]);
                let class = camel(&[word(rng), role]);
                let dir = if rng.chance(0.2) { "src/test/java" } else { "src/main/java" };
                let path = format!("{dir}/{}/{class}.java", package.replace('.', "/"));
                let methods = rng.range(1, 40) as usize;
                files.push(File { path, content: java_class(rng, &package, &class, methods), secrets: Vec::new() });
            }
        }
        Lang::Python => {
            files.push(File {
                path: "pyproject.toml".into(),
                content: format!(
                    "[project]\nname = \"{name}\"\nversion = \"0.{}.0\"\nrequires-python = \">=3.10\"\n",
                    rng.below(30)
                ),
                secrets: Vec::new(),
            });
            for _ in 0..n_code {
                let module = format!("{}_{}", word(rng), word(rng));
                let dir = if rng.chance(0.2) { "tests".to_string() } else { format!("{}_{pkg}", org.package) };
                let funcs = rng.range(1, 40) as usize;
                files.push(File {
                    path: format!("{dir}/{module}.py"),
                    content: python_module(rng, funcs),
                    secrets: Vec::new(),
                });
            }
        }
        Lang::Go => {
            files.push(File {
                path: "go.mod".into(),
                content: format!("module {host}/{owner}/{name}\n\ngo 1.22\n\nrequire github.com/google/uuid v1.6.0\n"),
                secrets: Vec::new(),
            });
            files.push(File {
                path: "go.sum".into(),
                content: format!(
                    "github.com/google/uuid v1.6.0 h1:{}=\ngithub.com/google/uuid v1.6.0/go.mod h1:{}=\n",
                    rng.chars(ALNUM, 43),
                    rng.chars(ALNUM, 43)
                ),
                secrets: Vec::new(),
            });
            for _ in 0..n_code {
                let sub = word(rng);
                let dir = if rng.chance(0.5) { format!("pkg/{sub}") } else { format!("internal/{sub}") };
                let funcs = rng.range(1, 40) as usize;
                files.push(File {
                    path: format!("{dir}/{}.go", word(rng)),
                    content: go_file(rng, sub, funcs),
                    secrets: Vec::new(),
                });
            }
        }
    }
    files.extend(config_files(rng, lang, secrets, shared));
    // Paths are unique within a repository: keep the first of any repeat.
    let mut seen = std::collections::HashSet::new();
    files.retain(|f| seen.insert(f.path.clone()));
    Repo { host, owner, name: name.to_string(), lang, evidence, files }
}

/// Builds a world of `orgs` organisations.
pub fn build(rng: &mut Rng, orgs: usize) -> World {
    let mut secrets = Vec::new();
    // A vendor token that several organisations hold: one secret, several holders.
    let shared: Vec<usize> = (0..2).map(|_| new_secret(&mut secrets, rng, Kind::SlackToken)).collect();
    let mut names = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(orgs);
    while out.len() < orgs {
        let base = format!("{}{}", rng.pick(PREFIXES), rng.pick(SUFFIXES));
        let name = if names.contains(&base) { format!("{base}{}", rng.range(2, 99)) } else { base };
        if !names.insert(name.clone()) {
            continue;
        }
        let package = name.replace('-', "");
        let users = (0..rng.range(2, 6)).map(|i| format!("{}.{}{}", rng.pick(USERS), rng.chars(LOWER, 1), i)).collect();
        let mut org = Org { name, package, users, repos: Vec::new() };
        let mut repo_names: Vec<&str> = REPO_NAMES.to_vec();
        rng.shuffle(&mut repo_names);
        for name in repo_names.iter().take(rng.range(1, 3) as usize) {
            let r = repo(rng, &org, name, &mut secrets, &shared);
            org.repos.push(r);
        }
        out.push(org);
    }
    World { orgs: out, secrets }
}
