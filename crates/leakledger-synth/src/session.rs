//! Sessions as coding agents send them: a system prompt with the working
//! directory, then turns (file reads as tool calls, pasted files, fenced blocks,
//! diffs, questions); each request carries the whole conversation so far.

use crate::rng::{ALNUM, HEX, Rng};
use crate::secrets::{self, Kind};
use crate::world::{Evidence, Lang, Secret, World};

/// Where a session's requests are logged: a format and an alias set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    /// JSONL: `timestamp`, `request_id`, `session_id`, `org_id`, body as an object.
    Gateway,
    /// JSONL: epoch-ms `ts`, `requestId`, `traceId`, `tenant`, body as a JSON string.
    Proxy,
    /// JSONL: nested `http.request.id`, `trace.id`, `labels.org`, `user.id`.
    Elastic,
    /// CloudWatch export lines `TIMESTAMP {json}`.
    CloudwatchExport,
    /// CloudWatch subscription records, gzip'd and concatenated (Firehose).
    Firehose,
    /// OTLP/JSON traces, one export request per line.
    Otlp,
}

impl Channel {
    /// All channels, in shard order.
    pub const ALL: [Channel; 6] = [
        Channel::Gateway,
        Channel::Proxy,
        Channel::Elastic,
        Channel::CloudwatchExport,
        Channel::Firehose,
        Channel::Otlp,
    ];

    /// The dump format name it produces.
    pub fn format(self) -> &'static str {
        match self {
            Channel::Gateway | Channel::Proxy | Channel::Elastic => "jsonl",
            Channel::CloudwatchExport | Channel::Firehose => "cloudwatch",
            Channel::Otlp => "otlp",
        }
    }

    /// True for formats with one record per line (where truncated lines occur).
    pub fn line_based(self) -> bool {
        !matches!(self, Channel::Firehose | Channel::Otlp)
    }

    fn request_id(self, rng: &mut Rng) -> String {
        match self {
            Channel::Gateway => format!("req_{}", rng.chars(ALNUM, 24)),
            Channel::Proxy | Channel::CloudwatchExport => uuid(rng),
            Channel::Elastic => format!("chatcmpl-{}", uuid(rng)),
            Channel::Firehose => format!("msg_{}", rng.chars(ALNUM, 24)),
            Channel::Otlp => rng.chars(HEX, 16),
        }
    }

    fn trace_id(self, rng: &mut Rng) -> String {
        match self {
            Channel::Gateway => format!("sess_{}", rng.chars(ALNUM, 20)),
            Channel::Proxy | Channel::CloudwatchExport | Channel::Firehose => uuid(rng),
            Channel::Elastic | Channel::Otlp => rng.chars(HEX, 32),
        }
    }
}

/// An id in `channel`'s request-id form that no logged request has.
pub fn orphan_id(rng: &mut Rng, channel: Channel) -> String {
    channel.request_id(rng)
}

/// A version-4-shaped UUID.
pub fn uuid(rng: &mut Rng) -> String {
    format!(
        "{}-{}-4{}-{}{}-{}",
        rng.chars(HEX, 8),
        rng.chars(HEX, 4),
        rng.chars(HEX, 3),
        rng.pick(&['8', '9', 'a', 'b']),
        rng.chars(HEX, 3),
        rng.chars(HEX, 12)
    )
}

/// One turn of a conversation.
#[derive(Clone, Debug)]
pub enum Turn {
    /// `git remote -v` as a tool call; the result shows the origin URL.
    Remote {
        /// Tool call id.
        tool: String,
        /// The URL as git prints it.
        url: String,
    },
    /// A file read as a tool call, and its content as the tool result.
    Read {
        /// Tool call id.
        tool: String,
        /// Index of the file in the session's repository.
        file: usize,
    },
    /// A file outside the repository read by absolute path (`~/.aws/credentials`).
    ReadOutside {
        /// Tool call id.
        tool: String,
        /// Absolute path.
        path: String,
        /// Content.
        content: String,
        /// Secrets in it.
        secrets: Vec<(usize, u32)>,
    },
    /// A read of a path that does not exist: the path leaks, no content.
    Missing {
        /// Tool call id.
        tool: String,
        /// Path relative to the repository.
        path: String,
    },
    /// A file pasted after a `// File: PATH` (or `# File:`) marker.
    Paste {
        /// File index.
        file: usize,
        /// Write the path as `./PATH`.
        dot: bool,
    },
    /// A file in a fenced block whose info string holds its path.
    Fence {
        /// File index.
        file: usize,
    },
    /// A unified diff of a file, as the assistant proposes it.
    Diff {
        /// File index.
        file: usize,
        /// The whole diff text.
        text: String,
    },
    /// A question in prose, possibly with decoys or a pasted secret.
    Ask {
        /// The text.
        text: String,
        /// Secrets in it.
        secrets: Vec<(usize, u32)>,
    },
}

/// One logged request.
#[derive(Clone, Debug)]
pub struct Request {
    /// Its id (the span id in OTLP).
    pub id: String,
    /// Time, µs since the epoch.
    pub ts: i64,
}

/// A conversation of one user in one repository.
#[derive(Clone, Debug)]
pub struct Session {
    /// Organisation index.
    pub org: usize,
    /// Repository index within the organisation (`None` for a standalone request).
    pub repo: Option<usize>,
    /// User index within the organisation.
    pub user: usize,
    /// Working directory as the system prompt states it.
    pub cwd: String,
    /// Windows paths.
    pub windows: bool,
    /// The trace, session or conversation id (`None`: parent links only).
    pub trace: Option<String>,
    /// A parent id for the first request that names a request never logged.
    pub orphan_parent: Option<String>,
    /// OpenAI-style `tool_calls` instead of Messages-style `tool_use` blocks.
    pub openai: bool,
    /// Where it is logged.
    pub channel: Channel,
    /// The turns; request `k` carries turns `0..=k`.
    pub turns: Vec<Turn>,
    /// The requests, one per turn.
    pub requests: Vec<Request>,
}

const QUESTIONS: &[&str] = &[
    "Why does the nightly job fail on staging?",
    "Refactor this so the retry logic is shared.",
    "Add tests for the edge cases we discussed.",
    "Can you explain what this module does?",
    "The build breaks after the dependency upgrade, please fix it.",
    "Make the error messages clearer for the on-call engineer.",
];

fn decoy_sentence(rng: &mut Rng) -> String {
    match rng.below(5) {
        0 => format!("This looks like https://github.com/kubernetes/kubernetes/issues/{}.", rng.range(1000, 99_999)),
        1 => "Locally I use password=changeme and API_KEY=<your-key>, that part is fine.".into(),
        2 => format!("It started after commit {}.", rng.chars(HEX, 40)),
        3 => format!("The failing request id was {}.", uuid(rng)),
        _ => format!(
            "package-lock says \"integrity\": \"sha512-{}==\" for the new version.",
            rng.chars(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 86)
        ),
    }
}

/// The URL forms git prints for an origin remote.
fn remote_url(rng: &mut Rng, host: &str, owner: &str, name: &str) -> String {
    match rng.below(3) {
        0 => format!("https://{host}/{owner}/{name}.git"),
        1 => format!("git@{host}:{owner}/{name}.git"),
        _ => format!("https://{host}/{owner}/{name}"),
    }
}

fn diff_text(rng: &mut Rng, path: &str, content: &str) -> String {
    let lines: Vec<&str> = content.lines().take(3).collect();
    let mut s = format!(
        "diff --git a/{path} b/{path}\nindex {}..{} 100644\n--- a/{path}\n+++ b/{path}\n@@ -1,{} +1,{} @@\n",
        rng.chars(HEX, 7),
        rng.chars(HEX, 7),
        lines.len(),
        lines.len() + 1
    );
    if let Some(first) = lines.first() {
        s.push(' ');
        s.push_str(first);
        s.push('\n');
    }
    s.push_str(&format!("+// reviewed by the assistant: {}\n", rng.chars(HEX, 6)));
    for l in lines.iter().skip(1) {
        s.push(' ');
        s.push_str(l);
        s.push('\n');
    }
    s
}

/// Builds one session of `org`'s user in a repository, logged to `channel`,
/// starting at `start` (µs).
pub fn session(
    rng: &mut Rng,
    world: &mut World,
    org: usize,
    channel: Channel,
    start: i64,
    max_turns: usize,
) -> Session {
    let o = &world.orgs[org];
    let user = rng.below(o.users.len() as u64) as usize;
    let repo_i = rng.below(o.repos.len() as u64) as usize;
    let repo = &o.repos[repo_i];
    let uname = o.users[user].split('.').next().unwrap_or("dev").to_string();
    let windows = rng.chance(0.08);
    let cwd = if windows {
        format!("C:\\Users\\{uname}\\source\\{}", repo.name)
    } else {
        match rng.below(3) {
            0 => format!("/home/{uname}/src/{}", repo.name),
            1 => format!("/Users/{uname}/work/{}", repo.name),
            _ => format!("/workspace/{}", repo.name),
        }
    };
    let home = if cwd.starts_with("/home/") {
        Some(format!("/home/{uname}"))
    } else if cwd.starts_with("/Users/") {
        Some(format!("/Users/{uname}"))
    } else {
        None
    };
    let mut turns = Vec::new();
    let mut tool_n = 0u32;
    let mut tool = |rng: &mut Rng, openai: bool| {
        tool_n += 1;
        if openai { format!("call_{}", rng.chars(ALNUM, 24)) } else { format!("toolu_{}", rng.chars(ALNUM, 24)) }
    };
    let openai = rng.chance(0.25);
    match repo.evidence {
        Evidence::Remote => {
            let url = remote_url(rng, &repo.host, &repo.owner, &repo.name);
            turns.push(Turn::Remote { tool: tool(rng, openai), url });
        }
        Evidence::GoMod => {
            if let Some(i) = repo.files.iter().position(|f| f.path == "go.mod") {
                turns.push(Turn::Read { tool: tool(rng, openai), file: i });
            }
        }
        Evidence::RecordField | Evidence::Local => {}
    }
    let n_turns = rng.range(1, max_turns as u64) as usize;
    let lang = repo.lang;
    let n_files = repo.files.len() as u64;
    let mut extra_secrets: Vec<Secret> = Vec::new();
    while turns.len() < n_turns {
        let mut file = rng.below(n_files) as usize;
        // A repository that nothing names must stay unnamed: its go.mod would.
        if repo.evidence == Evidence::Local && repo.files[file].path == "go.mod" {
            file = (file + 1) % n_files as usize;
        }
        let roll = rng.below(100);
        let t = match roll {
            0..=44 => Turn::Read { tool: tool(rng, openai), file },
            45..=59 => Turn::Paste { file, dot: rng.chance(0.3) },
            60..=69 => Turn::Fence { file },
            70..=79 => {
                // Diffs of files without secrets.
                if repo.files[file].secrets.is_empty() {
                    let path = repo.files[file].path.clone();
                    let text = diff_text(rng, &path, &repo.files[file].content);
                    Turn::Diff { file, text }
                } else {
                    Turn::Read { tool: tool(rng, openai), file }
                }
            }
            80..=84 => {
                let ext = match lang {
                    Lang::Java => "java",
                    Lang::Python => "py",
                    Lang::Go => "go",
                };
                let path = format!("src/legacy/{}_old.{ext}", rng.chars(crate::rng::LOWER, 6));
                Turn::Missing { tool: tool(rng, openai), path }
            }
            85..=86 if home.is_some() => {
                let path = format!("{}/.aws/credentials", home.as_deref().unwrap_or(""));
                let id = secrets::value(rng, Kind::AwsAccessKeyId);
                let key = secrets::value(rng, Kind::AwsSecretAccessKey);
                let content =
                    format!("[default]\naws_access_key_id = {id}\naws_secret_access_key = {key}\nregion = eu-west-1\n");
                let base = world.secrets.len() + extra_secrets.len();
                extra_secrets.push(Secret { kind: Kind::AwsAccessKeyId, value: id });
                extra_secrets.push(Secret { kind: Kind::AwsSecretAccessKey, value: key });
                Turn::ReadOutside { tool: tool(rng, openai), path, content, secrets: vec![(base, 1), (base + 1, 1)] }
            }
            _ => {
                let mut text = rng.pick(QUESTIONS).to_string();
                let mut found = Vec::new();
                if rng.chance(0.5) {
                    text.push(' ');
                    text.push_str(&decoy_sentence(rng));
                }
                if rng.chance(0.1) {
                    let kind = *rng.pick(&[Kind::GithubPat, Kind::SlackToken, Kind::OpenaiApiKey]);
                    let value = secrets::value(rng, kind);
                    text.push_str(&format!(
                        " The deploy log shows it failing with token {value} - is that one expired?"
                    ));
                    found.push((world.secrets.len() + extra_secrets.len(), 1));
                    extra_secrets.push(Secret { kind, value });
                }
                Turn::Ask { text, secrets: found }
            }
        };
        turns.push(t);
    }
    world.secrets.extend(extra_secrets);
    let trace = if rng.chance(0.85) || channel == Channel::Otlp { Some(channel.trace_id(rng)) } else { None };
    let orphan_parent = rng.chance(0.05).then(|| channel.request_id(rng));
    let mut ts = start;
    let mut requests: Vec<Request> = turns
        .iter()
        .map(|_| {
            let r = Request { id: channel.request_id(rng), ts };
            // Whole milliseconds, as most formats log them.
            ts += rng.range(15, 300) as i64 * 1_000_000 + rng.below(1000) as i64 * 1000;
            r
        })
        .collect();
    // A skewed clock: one request logged a few seconds before its parent.
    if requests.len() >= 3 && rng.chance(0.05) {
        let k = 1 + rng.below(requests.len() as u64 - 2) as usize;
        requests[k].ts = requests[k - 1].ts - rng.range(1, 10) as i64 * 1_000_000;
    }
    Session { org, repo: Some(repo_i), user, cwd, windows, trace, orphan_parent, openai, channel, turns, requests }
}

/// A standalone request: one question, no session, no parent.
pub fn standalone(rng: &mut Rng, world: &World, org: usize, channel: Channel, ts: i64) -> Session {
    let o = &world.orgs[org];
    let user = rng.below(o.users.len() as u64) as usize;
    let mut text = rng.pick(QUESTIONS).to_string();
    text.push(' ');
    text.push_str(&decoy_sentence(rng));
    let request = Request { id: channel.request_id(rng), ts };
    Session {
        org,
        repo: None,
        user,
        cwd: String::new(),
        windows: false,
        trace: None,
        orphan_parent: None,
        openai: false,
        channel,
        turns: vec![Turn::Ask { text, secrets: Vec::new() }],
        requests: vec![request],
    }
}
