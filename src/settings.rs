//! Settings, layered: built-in defaults → TOML file (`--config`) →
//! environment (`AGW_…`) → command-line flags. Every setting has a flag.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use clap::{Args, Parser, Subcommand};
use serde::Deserialize;

pub use crate::audit::{BrokenTail, SyncMode};
use crate::domain::session::AuthMode;

/// One layer of settings: each field is set or left to a lower layer.
/// The same struct is the TOML file's schema (kebab-case keys) and the
/// flag/environment surface.
#[derive(Args, Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Layer {
    /// Address to listen on [default: 127.0.0.1:8043]
    #[arg(long, env = "AGW_LISTEN", value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,
    /// Guid mode: static (Huawei AUTHMODE 1) or dynamic (AUTHMODE 2) [default: dynamic]
    #[arg(long, env = "AGW_AUTH_MODE", value_name = "static|dynamic")]
    pub auth_mode: Option<AuthMode>,
    /// Dynamic mode: rotate the Guid after this many ms (GUIDINTERVAL) [default: 60000]
    #[arg(long, env = "AGW_GUID_INTERVAL_MS", value_name = "MS")]
    pub guid_interval_ms: Option<u64>,
    /// Dynamic mode: a Guid lives this many ms from issue (GUIDTIMEOUT) [default: 120000]
    #[arg(long, env = "AGW_GUID_TIMEOUT_MS", value_name = "MS")]
    pub guid_timeout_ms: Option<u64>,
    /// How long a poll waits for an event before answering empty [default: 10000]
    #[arg(long, env = "AGW_POLL_WAIT_MS", value_name = "MS")]
    pub poll_wait_ms: Option<u64>,
    /// Sign out an agent that has not polled or shaken hands for this long (reason 263) [default: 120000]
    #[arg(long, env = "AGW_HEARTBEAT_TIMEOUT_MS", value_name = "MS")]
    pub heartbeat_timeout_ms: Option<u64>,
    /// Agent directory (TOML); without it the embedded demo directory serves
    #[arg(long, env = "AGW_DIRECTORY", value_name = "FILE")]
    pub directory: Option<PathBuf>,
    /// TLS certificate chain (PEM) [default: certs/server.crt]
    #[arg(long, env = "AGW_TLS_CERT", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM) [default: certs/server.key]
    #[arg(long, env = "AGW_TLS_KEY", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Allow the development certificate on a non-loopback address [default: false]
    #[arg(long, env = "AGW_ALLOW_DEV_CERT", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub allow_dev_cert: Option<bool>,
    /// Events kept per agent session; the oldest is dropped beyond it [default: 1000]
    #[arg(long, env = "AGW_QUEUE_CAPACITY", value_name = "N")]
    pub queue_capacity: Option<usize>,
    /// Node number in the Guid suffix `.AgentGateway<N>` [default: 0]
    #[arg(long, env = "AGW_NODE_ID", value_name = "N")]
    pub node_id: Option<u16>,
    /// `serverName` returned at sign-in [default: AgentGateway]
    #[arg(long, env = "AGW_SERVER_NAME", value_name = "NAME")]
    pub server_name: Option<String>,
    /// HTTP worker threads [default: number of CPUs]
    #[arg(long, env = "AGW_WORKERS", value_name = "N")]
    pub workers: Option<usize>,
    /// Largest accepted request body in bytes [default: 16384]
    #[arg(long, env = "AGW_MAX_BODY_BYTES", value_name = "BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Largest accepted total of request header bytes [default: 8192]
    #[arg(long, env = "AGW_MAX_HEADER_BYTES", value_name = "BYTES")]
    pub max_header_bytes: Option<usize>,
    /// Answer the HTTP layer's refusals under /agentgateway/resource/ (unknown interface, wrong method,
    /// bad body, oversized headers) with their REST status (404, 405, 400, 408, 413, 415, 431) instead of
    /// HTTP 200; the retcode is the same either way [default: false]
    #[arg(long, env = "AGW_REST_STATUSES", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub rest_statuses: Option<bool>,
    /// Deadline for receiving a request head [default: 5000]
    #[arg(long, env = "AGW_HEAD_TIMEOUT_MS", value_name = "MS")]
    pub head_timeout_ms: Option<u64>,
    /// Deadline for receiving a whole request body [default: 10000]
    #[arg(long, env = "AGW_BODY_TIMEOUT_MS", value_name = "MS")]
    pub body_timeout_ms: Option<u64>,
    /// Idle keep-alive of a connection between requests [default: 15000]
    #[arg(long, env = "AGW_KEEP_ALIVE_MS", value_name = "MS")]
    pub keep_alive_ms: Option<u64>,
    /// Connections per worker before new ones wait [default: 25000]
    #[arg(long, env = "AGW_MAX_CONNECTIONS", value_name = "N")]
    pub max_connections: Option<usize>,
    /// Password checks running at once [default: number of CPUs]
    #[arg(long, env = "AGW_HASH_CONCURRENCY", value_name = "N")]
    pub hash_concurrency: Option<usize>,
    /// Log filter, env_logger syntax [default: info]
    #[arg(long, env = "AGW_LOG", value_name = "FILTER")]
    pub log: Option<String>,
    /// Audit trail file (JSON Lines, hash-chained) [default: data/audit.jsonl]
    #[arg(long, env = "AGW_AUDIT_FILE", value_name = "FILE")]
    pub audit_file: Option<PathBuf>,
    /// When the audit trail is forced to disk: batch (before each command answers), interval (within
    /// --audit-sync-ms after it answered) or off; records are always written before the answer [default: interval]
    #[arg(long, env = "AGW_AUDIT_SYNC", value_name = "MODE", num_args = 0..=1, default_missing_value = "batch")]
    pub audit_sync: Option<SyncMode>,
    /// With --audit-sync interval, the longest a written record waits for its fdatasync [default: 10]
    #[arg(long, env = "AGW_AUDIT_SYNC_MS", value_name = "MS")]
    pub audit_sync_ms: Option<u64>,
    /// No longer used: the audit query finds records by time in the whole trail (accepted, ignored)
    #[arg(long, env = "AGW_AUDIT_WINDOW", value_name = "N", hide = true)]
    pub audit_window: Option<usize>,
    /// How long the audit writer lets a batch gather once woken; 0 writes what is waiting at once [default: 0]
    #[arg(long, env = "AGW_AUDIT_GATHER_MS", value_name = "MS")]
    pub audit_gather_ms: Option<u64>,
    /// At start-up, a trail whose end is broken: refuse to start, or set-aside (rename it and begin a new
    /// chain that says so) [default: refuse]
    #[arg(long, env = "AGW_AUDIT_BROKEN_TAIL", value_name = "refuse|set-aside")]
    pub audit_broken_tail: Option<BrokenTail>,
    /// How often the audit trail's head (seq and hash) is written to the log, as an anchor for an outside
    /// collector [default: 60000]
    #[arg(long, env = "AGW_AUDIT_ANCHOR_MS", value_name = "MS")]
    pub audit_anchor_ms: Option<u64>,
    /// How often a trail that cannot be written is tried again [default: 1000]
    #[arg(long, env = "AGW_AUDIT_RETRY_MS", value_name = "MS")]
    pub audit_retry_ms: Option<u64>,
    /// How often refusals of unauthenticated requests are summed up in one log line [default: 10000]
    #[arg(long, env = "AGW_SECURITY_LOG_MS", value_name = "MS")]
    pub security_log_ms: Option<u64>,
    /// Refuse reason codes that the catalog does not name [default: false]
    #[arg(long, env = "AGW_STRICT_REASONS", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub strict_reasons: Option<bool>,
    /// Consecutive wrong passwords that lock a work number [default: 5]
    #[arg(long, env = "AGW_LOCKOUT_ATTEMPTS", value_name = "N")]
    pub lockout_attempts: Option<u32>,
    /// First lock's length; each repeat doubles it [default: 60000]
    #[arg(long, env = "AGW_LOCKOUT_MS", value_name = "MS")]
    pub lockout_ms: Option<u64>,
    /// Longest lock [default: 900000]
    #[arg(long, env = "AGW_LOCKOUT_MAX_MS", value_name = "MS")]
    pub lockout_max_ms: Option<u64>,
    /// Plain-HTTP listener for /metrics, /healthz and /readyz, or `off` [default: 127.0.0.1:9464]
    #[arg(long, env = "AGW_METRICS_LISTEN", value_name = "ADDR:PORT|off")]
    pub metrics_listen: Option<MetricsListen>,
    /// On SIGTERM/SIGINT, how long in-flight requests may take to finish (whole seconds, rounded up) [default: 5000]
    #[arg(long, env = "AGW_SHUTDOWN_TIMEOUT_MS", value_name = "MS")]
    pub shutdown_timeout_ms: Option<u64>,
    /// glibc malloc arenas (M_ARENA_MAX); 0 keeps glibc's default of 8 per CPU.
    /// Fewer arenas keep less memory per waiting connection [default: 2]
    #[arg(long, env = "AGW_MALLOC_ARENA_MAX", value_name = "N")]
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

/// Command line.
#[derive(Parser, Debug)]
#[command(
    name = "agentgateway",
    version,
    about = "HTTPS REST gateway for contact-center agents (Huawei CC-Gateway compatible)"
)]
pub struct Cli {
    /// Settings file (TOML, kebab-case keys as the flags)
    #[arg(long, env = "AGW_CONFIG", value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub layer: Layer,
    #[command(subcommand)]
    pub command: Option<Tool>,
}

/// Tools besides serving.
#[derive(Subcommand, Debug)]
pub enum Tool {
    /// Print the OpenAPI document
    Openapi,
    /// Hash a password read from standard input, for a directory file
    HashPassword,
    /// Audit trail tools
    #[command(subcommand)]
    Audit(AuditTool),
}

/// Audit trail tools.
#[derive(Subcommand, Debug)]
pub enum AuditTool {
    /// Check a trail: reports the first edited, removed or reordered record
    Verify {
        /// The audit file (its `.head` sidecar is read too)
        file: PathBuf,
        /// A head the gateway published earlier (`audit head: seq=SEQ hash=HASH` in its log, or the
        /// agentgateway_audit_head_* metrics): record SEQ must still carry HASH (at least 12 hex digits)
        #[arg(long = "anchor", value_name = "SEQ:HASH")]
        anchors: Vec<crate::audit::Anchor>,
    },
}

/// Resolved settings with every value set.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub auth_mode: AuthMode,
    pub guid_interval_ms: u64,
    pub guid_timeout_ms: u64,
    pub poll_wait_ms: u64,
    pub heartbeat_timeout_ms: u64,
    pub directory: Option<PathBuf>,
    pub tls_cert: PathBuf,
    pub tls_key: PathBuf,
    pub allow_dev_cert: bool,
    pub queue_capacity: usize,
    pub node_id: u16,
    pub server_name: String,
    pub workers: usize,
    pub max_body_bytes: usize,
    pub max_header_bytes: usize,
    pub rest_statuses: bool,
    pub head_timeout_ms: u64,
    pub body_timeout_ms: u64,
    pub keep_alive_ms: u64,
    pub max_connections: usize,
    pub hash_concurrency: usize,
    pub log: String,
    pub audit_file: PathBuf,
    pub audit_sync: SyncMode,
    pub audit_sync_ms: u64,
    /// Ignored (see the flag); kept so that old settings still start.
    pub audit_window: usize,
    pub audit_gather_ms: u64,
    pub audit_broken_tail: BrokenTail,
    pub audit_anchor_ms: u64,
    pub audit_retry_ms: u64,
    pub security_log_ms: u64,
    pub strict_reasons: bool,
    pub lockout_attempts: u32,
    pub lockout_ms: u64,
    pub lockout_max_ms: u64,
    pub metrics_listen: MetricsListen,
    pub shutdown_timeout_ms: u64,
    pub malloc_arena_max: usize,
}

impl Default for Settings {
    fn default() -> Self {
        let cpus = std::thread::available_parallelism().map_or(2, |n| n.get());
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8043)),
            auth_mode: AuthMode::Dynamic,
            guid_interval_ms: 60_000,
            guid_timeout_ms: 120_000,
            poll_wait_ms: 10_000,
            heartbeat_timeout_ms: 120_000,
            directory: None,
            tls_cert: PathBuf::from("certs/server.crt"),
            tls_key: PathBuf::from("certs/server.key"),
            allow_dev_cert: false,
            queue_capacity: 1000,
            node_id: 0,
            server_name: "AgentGateway".into(),
            workers: cpus,
            max_body_bytes: 16 * 1024,
            max_header_bytes: 8 * 1024,
            rest_statuses: false,
            head_timeout_ms: 5_000,
            body_timeout_ms: 10_000,
            keep_alive_ms: 15_000,
            max_connections: 25_000,
            hash_concurrency: cpus,
            log: "info".into(),
            audit_file: PathBuf::from("data/audit.jsonl"),
            audit_sync: SyncMode::Interval,
            audit_sync_ms: 10,
            audit_window: 20_000,
            audit_gather_ms: 0,
            audit_broken_tail: BrokenTail::Refuse,
            audit_anchor_ms: 60_000,
            audit_retry_ms: 1_000,
            security_log_ms: 10_000,
            strict_reasons: false,
            lockout_attempts: 5,
            lockout_ms: 60_000,
            lockout_max_ms: 900_000,
            metrics_listen: MetricsListen::At(SocketAddr::from(([127, 0, 0, 1], 9464))),
            shutdown_timeout_ms: 5_000,
            malloc_arena_max: 2,
        }
    }
}

macro_rules! overlay {
    ($settings:ident, $layer:ident, [$($field:ident),*], [$($opt:ident),*]) => {
        $( if let Some(v) = $layer.$field { $settings.$field = v; } )*
        $( if $layer.$opt.is_some() { $settings.$opt = $layer.$opt; } )*
    };
}

impl Settings {
    /// Applies one layer over these settings.
    pub fn apply(mut self, layer: Layer) -> Self {
        overlay!(
            self,
            layer,
            [
                listen,
                auth_mode,
                guid_interval_ms,
                guid_timeout_ms,
                poll_wait_ms,
                heartbeat_timeout_ms,
                tls_cert,
                tls_key,
                allow_dev_cert,
                queue_capacity,
                node_id,
                server_name,
                workers,
                max_body_bytes,
                max_header_bytes,
                rest_statuses,
                head_timeout_ms,
                body_timeout_ms,
                keep_alive_ms,
                max_connections,
                hash_concurrency,
                log,
                audit_file,
                audit_sync,
                audit_sync_ms,
                audit_window,
                audit_gather_ms,
                audit_broken_tail,
                audit_anchor_ms,
                audit_retry_ms,
                security_log_ms,
                strict_reasons,
                lockout_attempts,
                lockout_ms,
                lockout_max_ms,
                metrics_listen,
                shutdown_timeout_ms,
                malloc_arena_max
            ],
            [directory]
        );
        self
    }

    /// Reads a settings file layer.
    pub fn read_file(path: &Path) -> Result<Layer, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {}", path.display(), e.message()))
    }

    /// Refuses values that cannot work, naming the setting.
    pub fn validate(&self) -> Result<(), String> {
        let positive = [
            ("guid-interval-ms", self.guid_interval_ms),
            ("guid-timeout-ms", self.guid_timeout_ms),
            ("poll-wait-ms", self.poll_wait_ms),
            ("heartbeat-timeout-ms", self.heartbeat_timeout_ms),
            ("queue-capacity", self.queue_capacity as u64),
            ("workers", self.workers as u64),
            ("max-body-bytes", self.max_body_bytes as u64),
            ("max-header-bytes", self.max_header_bytes as u64),
            ("head-timeout-ms", self.head_timeout_ms),
            ("body-timeout-ms", self.body_timeout_ms),
            ("max-connections", self.max_connections as u64),
            ("hash-concurrency", self.hash_concurrency as u64),
            ("audit-sync-ms", self.audit_sync_ms),
            ("audit-anchor-ms", self.audit_anchor_ms),
            ("audit-retry-ms", self.audit_retry_ms),
            ("security-log-ms", self.security_log_ms),
            ("lockout-attempts", u64::from(self.lockout_attempts)),
            ("lockout-ms", self.lockout_ms),
            ("shutdown-timeout-ms", self.shutdown_timeout_ms),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(format!("{name} must be greater than 0"));
        }
        if self.guid_timeout_ms <= self.guid_interval_ms {
            return Err("guid-timeout-ms must be larger than guid-interval-ms (as Huawei's GUIDTIMEOUT)".into());
        }
        if self.poll_wait_ms >= self.heartbeat_timeout_ms {
            return Err("poll-wait-ms must be shorter than heartbeat-timeout-ms".into());
        }
        if self.lockout_max_ms < self.lockout_ms {
            return Err("lockout-max-ms must not be shorter than lockout-ms".into());
        }
        if self.server_name.is_empty() {
            return Err("server-name must not be empty".into());
        }
        if self.metrics_listen == MetricsListen::At(self.listen) && self.listen.port() != 0 {
            return Err("metrics-listen must differ from listen".into());
        }
        Ok(())
    }

    /// Defaults → file → environment and flags (clap already put flags over
    /// the environment). Unknown `AGW_` variables are refused by name.
    pub fn resolve(config: Option<&Path>, layer: Layer) -> Result<Settings, String> {
        check_environment()?;
        let mut settings = Settings::default();
        if let Some(path) = config {
            settings = settings.apply(Settings::read_file(path)?);
        }
        let settings = settings.apply(layer);
        settings.validate()?;
        Ok(settings)
    }
}

const KNOWN_ENV: &[&str] = &[
    "AGW_CONFIG",
    "AGW_LISTEN",
    "AGW_AUTH_MODE",
    "AGW_GUID_INTERVAL_MS",
    "AGW_GUID_TIMEOUT_MS",
    "AGW_POLL_WAIT_MS",
    "AGW_HEARTBEAT_TIMEOUT_MS",
    "AGW_DIRECTORY",
    "AGW_TLS_CERT",
    "AGW_TLS_KEY",
    "AGW_ALLOW_DEV_CERT",
    "AGW_QUEUE_CAPACITY",
    "AGW_NODE_ID",
    "AGW_SERVER_NAME",
    "AGW_WORKERS",
    "AGW_MAX_BODY_BYTES",
    "AGW_MAX_HEADER_BYTES",
    "AGW_REST_STATUSES",
    "AGW_HEAD_TIMEOUT_MS",
    "AGW_BODY_TIMEOUT_MS",
    "AGW_KEEP_ALIVE_MS",
    "AGW_MAX_CONNECTIONS",
    "AGW_HASH_CONCURRENCY",
    "AGW_LOG",
    "AGW_AUDIT_FILE",
    "AGW_AUDIT_SYNC",
    "AGW_AUDIT_SYNC_MS",
    "AGW_AUDIT_WINDOW",
    "AGW_AUDIT_GATHER_MS",
    "AGW_AUDIT_BROKEN_TAIL",
    "AGW_AUDIT_ANCHOR_MS",
    "AGW_AUDIT_RETRY_MS",
    "AGW_SECURITY_LOG_MS",
    "AGW_STRICT_REASONS",
    "AGW_LOCKOUT_ATTEMPTS",
    "AGW_LOCKOUT_MS",
    "AGW_LOCKOUT_MAX_MS",
    "AGW_METRICS_LISTEN",
    "AGW_SHUTDOWN_TIMEOUT_MS",
    "AGW_MALLOC_ARENA_MAX",
];

fn check_environment() -> Result<(), String> {
    match std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .find(|k| k.starts_with("AGW_") && !KNOWN_ENV.contains(&k.as_str()))
    {
        Some(unknown) => Err(format!("unknown environment setting {unknown}")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_keys_are_checked_by_name() {
        let err = toml::from_str::<Layer>("poll-wait-ms = 5\npoll-wiat-ms = 3\n").unwrap_err();
        assert!(err.message().contains("poll-wiat-ms"), "{}", err.message());
        let err = toml::from_str::<Layer>("poll-wait-ms = \"soon\"\n").unwrap_err();
        assert!(err.to_string().contains("poll-wait-ms"), "{err}");
    }

    #[test]
    fn later_layers_win_and_bad_values_are_named() {
        let file: Layer = toml::from_str("poll-wait-ms = 5000\nqueue-capacity = 7\n").unwrap();
        let flags = Layer { poll_wait_ms: Some(300), ..Layer::default() };
        let s = Settings::default().apply(file).apply(flags);
        assert_eq!((s.poll_wait_ms, s.queue_capacity), (300, 7));
        let bad = Settings { guid_timeout_ms: 10, guid_interval_ms: 20, ..Settings::default() };
        assert!(bad.validate().unwrap_err().contains("guid-timeout-ms"));
    }

    #[test]
    fn rest_statuses_are_off_unless_asked_for() {
        assert!(!Settings::default().rest_statuses);
        let file: Layer = toml::from_str("rest-statuses = true\n").unwrap();
        assert!(Settings::default().apply(file).rest_statuses);
        let flags = Cli::try_parse_from(["agentgateway", "--rest-statuses"]).unwrap();
        assert_eq!(flags.layer.rest_statuses, Some(true));
    }

    #[test]
    fn the_metrics_listener_is_an_address_or_off() {
        let file: Layer = toml::from_str("metrics-listen = \"off\"\n").unwrap();
        assert_eq!(Settings::default().apply(file).metrics_listen, MetricsListen::Off);
        let file: Layer = toml::from_str("metrics-listen = \"127.0.0.1:9000\"\n").unwrap();
        assert_eq!(Settings::default().apply(file).metrics_listen, MetricsListen::At(([127, 0, 0, 1], 9000).into()));
        let err = toml::from_str::<Layer>("metrics-listen = \"loopback\"\n").unwrap_err();
        assert!(err.to_string().contains("ADDR:PORT or off"), "{err}");
        let clash = Settings { metrics_listen: MetricsListen::At(Settings::default().listen), ..Settings::default() };
        assert!(clash.validate().unwrap_err().contains("metrics-listen"));
    }

    #[test]
    fn every_flag_has_an_environment_twin_that_is_known() {
        use clap::CommandFactory;
        for arg in Cli::command().get_arguments() {
            if let Some(env) = arg.get_env() {
                assert!(KNOWN_ENV.contains(&env.to_str().unwrap()), "{env:?} missing from KNOWN_ENV");
            }
        }
    }
}
