//! The settings' one declaration ([`Layer`]), their defaults, and how a
//! layer is read from a TOML file or the environment with errors that say
//! where: the file, line and column and the key, or the variable.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use clap::{Args, FromArgMatches};
use serde::{Deserialize, Serialize};

use crate::audit::{BrokenTail, SyncMode};
use crate::domain::session::AuthMode;

/// One layer of settings: each field is set or left to a lower layer.
/// This struct is the one declaration of every setting: its flag
/// (`--key`), its TOML key (`key`), its variable (`AGW_KEY`, read through
/// the flag's own parser) and its help; the defaults are [`defaults`], and
/// [`super::Settings`] groups the resolved values by what they configure.
#[derive(Args, Debug, Default, Serialize, Deserialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Layer {
    /// Address to listen on
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,
    /// Guid mode: static (Huawei AUTHMODE 1) or dynamic (AUTHMODE 2)
    #[arg(long, value_name = "static|dynamic")]
    pub auth_mode: Option<AuthMode>,
    /// Dynamic mode: rotate the Guid after this many ms (GUIDINTERVAL)
    #[arg(long, value_name = "MS")]
    pub guid_interval_ms: Option<u64>,
    /// Dynamic mode: a Guid lives this many ms from issue (GUIDTIMEOUT)
    #[arg(long, value_name = "MS")]
    pub guid_timeout_ms: Option<u64>,
    /// How long a poll waits for an event before answering empty
    #[arg(long, value_name = "MS")]
    pub poll_wait_ms: Option<u64>,
    /// Sign out an agent that has not polled or shaken hands for this long (reason 263)
    #[arg(long, value_name = "MS")]
    pub heartbeat_timeout_ms: Option<u64>,
    /// Agent directory (TOML); without it the embedded demo directory serves [default: the embedded demo]
    #[arg(long, value_name = "FILE")]
    pub directory: Option<PathBuf>,
    /// TLS certificate chain (PEM)
    #[arg(long, value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM)
    #[arg(long, value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Allow the development certificate on a non-loopback address
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub allow_dev_cert: Option<bool>,
    /// Events kept per agent session; the oldest is dropped beyond it
    #[arg(long, value_name = "N")]
    pub queue_capacity: Option<usize>,
    /// Node number in the Guid suffix `.AgentGateway<N>`
    #[arg(long, value_name = "N")]
    pub node_id: Option<u16>,
    /// `serverName` returned at sign-in
    #[arg(long, value_name = "NAME")]
    pub server_name: Option<String>,
    /// HTTP worker threads [default: number of CPUs]
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
    /// Largest accepted request body in bytes
    #[arg(long, value_name = "BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Largest accepted total of request header bytes
    #[arg(long, value_name = "BYTES")]
    pub max_header_bytes: Option<usize>,
    /// Answer the HTTP layer's refusals under /agentgateway/resource/ (unknown interface, wrong method,
    /// bad body, oversized headers) with their REST status (404, 405, 400, 408, 413, 415, 431) instead of
    /// HTTP 200; the retcode is the same either way
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub rest_statuses: Option<bool>,
    /// Deadline for receiving a request head
    #[arg(long, value_name = "MS")]
    pub head_timeout_ms: Option<u64>,
    /// Deadline for receiving a whole request body
    #[arg(long, value_name = "MS")]
    pub body_timeout_ms: Option<u64>,
    /// Idle keep-alive of a connection between requests
    #[arg(long, value_name = "MS")]
    pub keep_alive_ms: Option<u64>,
    /// Connections per worker before new ones wait
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,
    /// Password checks running at once [default: number of CPUs]
    #[arg(long, value_name = "N")]
    pub hash_concurrency: Option<usize>,
    /// Log filter, env_logger syntax
    #[arg(long, value_name = "FILTER")]
    pub log: Option<String>,
    /// Audit trail file (JSON Lines, hash-chained)
    #[arg(long, value_name = "FILE")]
    pub audit_file: Option<PathBuf>,
    /// When the audit trail is forced to disk: batch (before each command answers), interval (within
    /// --audit-sync-ms after it answered) or off; records are always written before the answer
    #[arg(long, value_name = "MODE", num_args = 0..=1, default_missing_value = "batch")]
    pub audit_sync: Option<SyncMode>,
    /// With --audit-sync interval, the longest a written record waits for its fdatasync
    #[arg(long, value_name = "MS")]
    pub audit_sync_ms: Option<u64>,
    /// No longer used: the audit query finds records by time in the whole trail (accepted, ignored)
    #[arg(long, value_name = "N", hide = true)]
    pub audit_window: Option<usize>,
    /// How long the audit writer lets a batch gather once woken; 0 writes what is waiting at once
    #[arg(long, value_name = "MS")]
    pub audit_gather_ms: Option<u64>,
    /// At start-up, a trail whose end is broken: refuse to start, or set-aside (rename it and begin a new
    /// chain that says so)
    #[arg(long, value_name = "refuse|set-aside")]
    pub audit_broken_tail: Option<BrokenTail>,
    /// How often the audit trail's head (seq and hash) is written to the log, as an anchor for an outside
    /// collector
    #[arg(long, value_name = "MS")]
    pub audit_anchor_ms: Option<u64>,
    /// How often a trail that cannot be written is tried again
    #[arg(long, value_name = "MS")]
    pub audit_retry_ms: Option<u64>,
    /// How often refusals of unauthenticated requests are summed up in one log line
    #[arg(long, value_name = "MS")]
    pub security_log_ms: Option<u64>,
    /// Refuse reason codes that the catalog does not name
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub strict_reasons: Option<bool>,
    /// Consecutive wrong passwords that lock a work number
    #[arg(long, value_name = "N")]
    pub lockout_attempts: Option<u32>,
    /// First lock's length; each repeat doubles it
    #[arg(long, value_name = "MS")]
    pub lockout_ms: Option<u64>,
    /// Longest lock
    #[arg(long, value_name = "MS")]
    pub lockout_max_ms: Option<u64>,
    /// Plain-HTTP listener for /metrics, /healthz and /readyz, or `off`
    #[arg(long, value_name = "ADDR:PORT|off")]
    pub metrics_listen: Option<MetricsListen>,
    /// On SIGTERM/SIGINT, how long in-flight requests may take to finish (whole seconds, rounded up)
    #[arg(long, value_name = "MS")]
    pub shutdown_timeout_ms: Option<u64>,
    /// glibc malloc arenas (M_ARENA_MAX); 0 keeps glibc's default of 8 per CPU.
    /// Fewer arenas keep less memory per waiting connection
    #[arg(long, value_name = "N")]
    pub malloc_arena_max: Option<usize>,
}

/// Where the metrics listener binds, if anywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsListen {
    Off,
    At(SocketAddr),
}

impl FromStr for MetricsListen {
    type Err = String;

    fn from_str(text: &str) -> Result<MetricsListen, String> {
        if text == "off" {
            return Ok(MetricsListen::Off);
        }
        text.parse().map(MetricsListen::At).map_err(|_| format!("expected ADDR:PORT or off, not {text:?}"))
    }
}

impl<'de> Deserialize<'de> for MetricsListen {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<MetricsListen, D::Error> {
        String::deserialize(deserializer)?.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for MetricsListen {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            MetricsListen::Off => serializer.serialize_str("off"),
            MetricsListen::At(at) => serializer.collect_str(at),
        }
    }
}

/// Every setting's default: the bottom layer.
pub fn defaults() -> Layer {
    let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
    Layer {
        listen: Some(SocketAddr::from(([127, 0, 0, 1], 8043))),
        auth_mode: Some(AuthMode::Dynamic),
        guid_interval_ms: Some(60_000),
        guid_timeout_ms: Some(120_000),
        poll_wait_ms: Some(10_000),
        heartbeat_timeout_ms: Some(120_000),
        directory: None,
        tls_cert: Some(PathBuf::from("certs/server.crt")),
        tls_key: Some(PathBuf::from("certs/server.key")),
        allow_dev_cert: Some(false),
        queue_capacity: Some(1000),
        node_id: Some(0),
        server_name: Some("AgentGateway".into()),
        workers: Some(cpus),
        max_body_bytes: Some(16 * 1024),
        max_header_bytes: Some(8 * 1024),
        rest_statuses: Some(false),
        head_timeout_ms: Some(5_000),
        body_timeout_ms: Some(10_000),
        keep_alive_ms: Some(15_000),
        max_connections: Some(25_000),
        hash_concurrency: Some(cpus),
        log: Some("info".into()),
        audit_file: Some(PathBuf::from("data/audit.jsonl")),
        audit_sync: Some(SyncMode::Interval),
        audit_sync_ms: Some(10),
        audit_window: None,
        audit_gather_ms: Some(0),
        audit_broken_tail: Some(BrokenTail::Refuse),
        audit_anchor_ms: Some(60_000),
        audit_retry_ms: Some(1_000),
        security_log_ms: Some(10_000),
        strict_reasons: Some(false),
        lockout_attempts: Some(5),
        lockout_ms: Some(60_000),
        lockout_max_ms: Some(900_000),
        metrics_listen: Some(MetricsListen::At(SocketAddr::from(([127, 0, 0, 1], 9464)))),
        shutdown_timeout_ms: Some(5_000),
        malloc_arena_max: Some(2),
    }
}

impl Layer {
    /// This layer with `above` laid over it: every setting `above` sets wins.
    pub fn overlaid(self, above: Layer) -> Layer {
        let mut merged = serde_json::to_value(self).expect("settings serialise");
        let above = serde_json::to_value(above).expect("settings serialise");
        if let (Some(merged), Some(above)) = (merged.as_object_mut(), above.as_object()) {
            merged.extend(above.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), v.clone())));
        }
        serde_json::from_value(merged).expect("a merge of two layers is a layer")
    }

    /// A settings file: TOML with the flags' names as keys. An error names
    /// the file, the line and column, and the key.
    pub fn from_file(path: &Path) -> Result<Layer, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| located(path, &text, &e))
    }

    /// The `AGW_…` variables of `vars`, each read by its flag's parser; an
    /// error names the variable. `AGW_CONFIG` names the file (read before).
    pub fn from_env(vars: impl IntoIterator<Item = (String, String)>) -> Result<Layer, String> {
        let known: Vec<(String, String)> = setting_names().map(|name| (env_name(&name), name)).collect();
        let mut layer = Layer::default();
        for (var, value) in vars.into_iter().filter(|(k, _)| k.starts_with("AGW_") && k != "AGW_CONFIG") {
            let Some((_, name)) = known.iter().find(|(env, _)| *env == var) else {
                return Err(format!("unknown environment setting {var}"));
            };
            let command = Layer::augment_args(clap::Command::new("agentgateway").no_binary_name(true));
            let matches = command
                .try_get_matches_from([format!("--{name}"), value])
                .map_err(|e| format!("{var}: {}", clap_reason(&e)))?;
            let one = Layer::from_arg_matches(&matches).map_err(|e| format!("{var}: {}", clap_reason(&e)))?;
            layer = layer.overlaid(one);
        }
        Ok(layer)
    }
}

/// The long names of every setting, in declaration order.
pub fn setting_names() -> impl Iterator<Item = String> {
    let command = Layer::augment_args(clap::Command::new("agentgateway"));
    let names: Vec<String> = command.get_arguments().filter_map(|a| a.get_long()).map(str::to_owned).collect();
    names.into_iter()
}

/// `poll-wait-ms` → `AGW_POLL_WAIT_MS`.
pub fn env_name(setting: &str) -> String {
    format!("AGW_{}", setting.to_uppercase().replace('-', "_"))
}

/// What a flag's parser said, without the flag's own name and the usage.
fn clap_reason(error: &clap::Error) -> String {
    let text = error.to_string();
    let first = text.lines().next().unwrap_or_default().trim_start_matches("error: ");
    match (first.find(" for '"), first.rfind("': ")) {
        (Some(for_at), Some(end)) if end > for_at => format!("{}:{}", &first[..for_at], &first[end + 2..]),
        _ => first.to_owned(),
    }
}

/// A TOML error as `file:line:column: key: what`.
pub fn located(path: &Path, text: &str, error: &toml::de::Error) -> String {
    let at = error.span().map_or(0, |span| span.start);
    let (line, column) = crate::text::line_column(text, at);
    let key = key_on_line(text, line);
    let what = error.message();
    match key {
        Some(key) if !what.contains(key) => format!("{}:{line}:{column}: {key}: {what}", path.display()),
        _ => format!("{}:{line}:{column}: {what}", path.display()),
    }
}

/// The key a `key = value` line sets, if the line is one.
fn key_on_line(text: &str, line: usize) -> Option<&str> {
    let source = text.lines().nth(line - 1)?;
    let (key, _) = source.split_once('=')?;
    let key = key.trim().trim_matches('"');
    (!key.is_empty() && !key.starts_with('[')).then_some(key)
}

/// The flags with their variable and default in their help.
pub fn documented(command: clap::Command) -> clap::Command {
    let defaults = serde_json::to_value(defaults()).expect("settings serialise");
    let settings: Vec<(String, String)> = Layer::augment_args(clap::Command::new("agentgateway"))
        .get_arguments()
        .filter_map(|a| Some((a.get_id().to_string(), a.get_long()?.to_owned())))
        .collect();
    let mut command = command;
    for (id, name) in settings {
        let default = match &defaults[name.as_str()] {
            serde_json::Value::Null => None,
            serde_json::Value::String(text) => Some(text.clone()),
            other => Some(other.to_string()),
        };
        command = command.mut_arg(id, |arg| {
            let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
            let mut help = format!("{help} [env: {}]", env_name(&name));
            if let (Some(default), false) = (default, help.contains("[default:")) {
                help.push_str(&format!(" [default: {default}]"));
            }
            arg.help(help)
        });
    }
    command
}
