//! Settings, layered: built-in defaults → TOML file (`--config`) →
//! environment (`AGW_…`) → command-line flags.
//!
//! Every setting is declared once, in [`Layer`] (its flag, TOML key and
//! variable share one name), with its default in [`layer::defaults`]. The
//! resolved [`Settings`] group the values by the part of the gateway they
//! configure, typed as that part's own configuration: the domain's
//! [`GatewayConfig`], the audit trail's [`AuditOptions`], the HTTP layer's
//! [`BodyLimits`], and the server's own [`Server`].
//!
//! The TOML file is read with the `toml` crate directly: its errors carry
//! the line and column, which a layering crate (figment) loses for a value
//! of the wrong type. Variables are read by each flag's own parser and
//! their errors name the variable.

mod cli;
mod layer;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use cli::{AuditTool, Cli, Tool};
pub use layer::{defaults, env_name, located, setting_names, Layer, MetricsListen};

use crate::api::body::BodyLimits;
pub use crate::audit::{AuditOptions, BrokenTail, SyncMode};
use crate::domain::session::GuidPolicy;
use crate::domain::{GatewayConfig, LockoutPolicy};

/// Resolved settings, every value set.
#[derive(Debug, Clone)]
pub struct Settings {
    pub server: Server,
    pub gateway: GatewayConfig,
    pub audit: Audit,
    /// The agent directory; `None` serves the embedded demo directory.
    pub directory: Option<PathBuf>,
}

/// The HTTP servers, TLS, the log and the process.
#[derive(Debug, Clone)]
pub struct Server {
    pub listen: SocketAddr,
    pub tls_cert: PathBuf,
    pub tls_key: PathBuf,
    pub allow_dev_cert: bool,
    pub workers: usize,
    pub max_connections: usize,
    pub head_timeout_ms: u64,
    pub keep_alive_ms: u64,
    pub shutdown_timeout_ms: u64,
    pub body: BodyLimits,
    pub max_header_bytes: usize,
    pub rest_statuses: bool,
    pub metrics_listen: MetricsListen,
    pub log: String,
    pub security_log_ms: u64,
    pub malloc_arena_max: usize,
}

/// The audit trail: its file, how it writes, how often its head is logged.
#[derive(Debug, Clone)]
pub struct Audit {
    pub file: PathBuf,
    pub options: AuditOptions,
    pub anchor_ms: u64,
    /// `--audit-window` was given: accepted and ignored (the query searches
    /// the whole trail by time), with a warning.
    pub window_given: bool,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings::from_layer(defaults())
    }
}

impl Settings {
    /// Settings from a layer in which every setting is set (the defaults
    /// with other layers over them).
    pub fn from_layer(l: Layer) -> Settings {
        fn set<T>(value: Option<T>, name: &str) -> T {
            value.unwrap_or_else(|| panic!("the defaults set {name}"))
        }
        let ms = |value: Option<u64>, name: &str| Duration::from_millis(set(value, name));
        Settings {
            server: Server {
                listen: set(l.listen, "listen"),
                tls_cert: set(l.tls_cert, "tls-cert"),
                tls_key: set(l.tls_key, "tls-key"),
                allow_dev_cert: set(l.allow_dev_cert, "allow-dev-cert"),
                workers: set(l.workers, "workers"),
                max_connections: set(l.max_connections, "max-connections"),
                head_timeout_ms: set(l.head_timeout_ms, "head-timeout-ms"),
                keep_alive_ms: set(l.keep_alive_ms, "keep-alive-ms"),
                shutdown_timeout_ms: set(l.shutdown_timeout_ms, "shutdown-timeout-ms"),
                body: BodyLimits {
                    max_bytes: set(l.max_body_bytes, "max-body-bytes"),
                    deadline: ms(l.body_timeout_ms, "body-timeout-ms"),
                },
                max_header_bytes: set(l.max_header_bytes, "max-header-bytes"),
                rest_statuses: set(l.rest_statuses, "rest-statuses"),
                metrics_listen: set(l.metrics_listen, "metrics-listen"),
                log: set(l.log, "log"),
                security_log_ms: set(l.security_log_ms, "security-log-ms"),
                malloc_arena_max: set(l.malloc_arena_max, "malloc-arena-max"),
            },
            gateway: GatewayConfig {
                guid: GuidPolicy {
                    mode: set(l.auth_mode, "auth-mode"),
                    interval_ms: set(l.guid_interval_ms, "guid-interval-ms"),
                    timeout_ms: set(l.guid_timeout_ms, "guid-timeout-ms"),
                    node: set(l.node_id, "node-id"),
                },
                poll_wait_ms: set(l.poll_wait_ms, "poll-wait-ms"),
                heartbeat_timeout_ms: set(l.heartbeat_timeout_ms, "heartbeat-timeout-ms"),
                queue_capacity: set(l.queue_capacity, "queue-capacity"),
                server_name: set(l.server_name, "server-name"),
                hash_concurrency: set(l.hash_concurrency, "hash-concurrency"),
                strict_reasons: set(l.strict_reasons, "strict-reasons"),
                lockout: LockoutPolicy {
                    attempts: set(l.lockout_attempts, "lockout-attempts"),
                    base_ms: set(l.lockout_ms, "lockout-ms"),
                    max_ms: set(l.lockout_max_ms, "lockout-max-ms"),
                },
            },
            audit: Audit {
                file: set(l.audit_file, "audit-file"),
                options: AuditOptions {
                    sync: set(l.audit_sync, "audit-sync"),
                    sync_every: ms(l.audit_sync_ms, "audit-sync-ms"),
                    gather: ms(l.audit_gather_ms, "audit-gather-ms"),
                    retry_every: ms(l.audit_retry_ms, "audit-retry-ms"),
                    broken_tail: set(l.audit_broken_tail, "audit-broken-tail"),
                },
                anchor_ms: set(l.audit_anchor_ms, "audit-anchor-ms"),
                window_given: l.audit_window.is_some(),
            },
            directory: l.directory,
        }
    }

    /// Defaults → file → environment → flags. Unknown keys and variables
    /// are refused by name; a bad value names where it was given.
    pub fn resolve(config: Option<&Path>, flags: Layer) -> Result<Settings, String> {
        let mut layer = defaults();
        if let Some(path) = config {
            layer = layer.overlaid(Layer::from_file(path)?);
        }
        layer = layer.overlaid(Layer::from_env(std::env::vars())?);
        let settings = Settings::from_layer(layer.overlaid(flags));
        settings.validate()?;
        Ok(settings)
    }

    /// Refuses values that cannot work, naming the setting.
    pub fn validate(&self) -> Result<(), String> {
        let (server, gateway, audit) = (&self.server, &self.gateway, &self.audit.options);
        let positive = [
            ("guid-interval-ms", gateway.guid.interval_ms),
            ("guid-timeout-ms", gateway.guid.timeout_ms),
            ("poll-wait-ms", gateway.poll_wait_ms),
            ("heartbeat-timeout-ms", gateway.heartbeat_timeout_ms),
            ("queue-capacity", gateway.queue_capacity as u64),
            ("workers", server.workers as u64),
            ("max-body-bytes", server.body.max_bytes as u64),
            ("max-header-bytes", server.max_header_bytes as u64),
            ("head-timeout-ms", server.head_timeout_ms),
            ("body-timeout-ms", server.body.deadline.as_millis() as u64),
            ("max-connections", server.max_connections as u64),
            ("hash-concurrency", gateway.hash_concurrency as u64),
            ("audit-sync-ms", audit.sync_every.as_millis() as u64),
            ("audit-anchor-ms", self.audit.anchor_ms),
            ("audit-retry-ms", audit.retry_every.as_millis() as u64),
            ("security-log-ms", server.security_log_ms),
            ("lockout-attempts", u64::from(gateway.lockout.attempts)),
            ("lockout-ms", gateway.lockout.base_ms),
            ("shutdown-timeout-ms", server.shutdown_timeout_ms),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(format!("{name} must be greater than 0"));
        }
        if gateway.guid.timeout_ms <= gateway.guid.interval_ms {
            return Err("guid-timeout-ms must be larger than guid-interval-ms (as Huawei's GUIDTIMEOUT)".into());
        }
        if gateway.poll_wait_ms >= gateway.heartbeat_timeout_ms {
            return Err("poll-wait-ms must be shorter than heartbeat-timeout-ms".into());
        }
        if gateway.lockout.max_ms < gateway.lockout.base_ms {
            return Err("lockout-max-ms must not be shorter than lockout-ms".into());
        }
        if gateway.server_name.is_empty() {
            return Err("server-name must not be empty".into());
        }
        if server.metrics_listen == MetricsListen::At(server.listen) && server.listen.port() != 0 {
            return Err("metrics-listen must differ from listen".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> (PathBuf, Result<Layer, String>) {
        let dir = std::env::temp_dir().join(format!("agw-settings-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{}.toml", text.len()));
        std::fs::write(&path, text).unwrap();
        let layer = Layer::from_file(&path);
        (path, layer)
    }

    #[test]
    fn file_errors_name_the_file_line_column_and_key() {
        let (path, layer) = file("poll-wait-ms = 5\npoll-wiat-ms = 3\n");
        let err = layer.unwrap_err();
        assert!(err.starts_with(&format!("{}:2:1:", path.display())), "{err}");
        assert!(err.contains("poll-wiat-ms"), "{err}");
        let (path, layer) = file("queue-capacity = 7\npoll-wait-ms = \"soon\"\n");
        let err = layer.unwrap_err();
        assert!(err.starts_with(&format!("{}:2:16: poll-wait-ms: invalid type", path.display())), "{err}");
    }

    #[test]
    fn later_layers_win_and_bad_values_are_named() {
        let (_, file) = file("poll-wait-ms = 5000\nqueue-capacity = 7\n");
        let flags = Layer { poll_wait_ms: Some(300), ..Layer::default() };
        let s = Settings::from_layer(defaults().overlaid(file.unwrap()).overlaid(flags));
        assert_eq!((s.gateway.poll_wait_ms, s.gateway.queue_capacity), (300, 7));
        let mut bad = Settings::default();
        (bad.gateway.guid.timeout_ms, bad.gateway.guid.interval_ms) = (10, 20);
        assert!(bad.validate().unwrap_err().contains("guid-timeout-ms"));
    }

    #[test]
    fn variables_are_read_by_their_flags_parser_and_errors_name_the_variable() {
        let vars =
            |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
        let layer =
            Layer::from_env(vars(&[("AGW_POLL_WAIT_MS", "250"), ("AGW_AUDIT_SYNC", "batch"), ("PATH", "/bin")]));
        let layer = layer.unwrap();
        assert_eq!((layer.poll_wait_ms, layer.audit_sync), (Some(250), Some(SyncMode::Batch)));
        let err = Layer::from_env(vars(&[("AGW_POLL_WAIT_MS", "soon")])).unwrap_err();
        assert!(err.starts_with("AGW_POLL_WAIT_MS: invalid value 'soon'"), "{err}");
        assert!(!err.contains("--poll-wait-ms"), "{err}");
        let err = Layer::from_env(vars(&[("AGW_POLL_WIAT_MS", "5")])).unwrap_err();
        assert!(err.contains("unknown environment setting AGW_POLL_WIAT_MS"), "{err}");
    }

    #[test]
    fn the_metrics_listener_is_an_address_or_off() {
        let (_, off) = file("metrics-listen = \"off\"\n");
        assert_eq!(Settings::from_layer(defaults().overlaid(off.unwrap())).server.metrics_listen, MetricsListen::Off);
        let (_, err) = file("metrics-listen = \"loopback\"\n");
        assert!(err.unwrap_err().contains("ADDR:PORT or off"));
        let mut clash = Settings::default();
        clash.server.metrics_listen = MetricsListen::At(clash.server.listen);
        assert!(clash.validate().unwrap_err().contains("metrics-listen"));
    }

    #[test]
    fn every_setting_has_a_default_or_is_optional_and_the_help_shows_it() {
        let defaults = serde_json::to_value(defaults()).unwrap();
        for name in setting_names() {
            let optional = ["directory", "audit-window"].contains(&name.as_str());
            assert!(optional || !defaults[name.as_str()].is_null(), "{name} has no default");
        }
        let help = Cli::documented_command().render_long_help().to_string();
        assert!(help.contains("[env: AGW_POLL_WAIT_MS] [default: 10000]"), "{help}");
        assert!(help.contains("[default: number of CPUs]"), "{help}");
    }
}
