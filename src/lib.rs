//! agentgateway: an HTTPS REST gateway for contact-center agents that
//! speaks Huawei CC-Gateway's AgentGateway wire contract.
//!
//! [`Application::build`] turns [`settings::Settings`] and a bound listener
//! into a running server (plus the metrics listener, unless it is off);
//! `main.rs` and the integration tests both use it.

pub mod api;
pub mod audit;
pub mod clock;
pub mod domain;
pub mod logging;
pub mod malloc;
pub mod retcode;
pub mod security;
pub mod settings;
pub mod store;
pub mod telemetry;
pub mod text;
pub mod tls;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::HttpServer;

use api::{AppData, HeaderLimit, StatusPolicy};
use audit::AuditLog;
use domain::audit::AuditTrail;
use domain::directory::{Directory, DEMO_DIRECTORY};
use domain::Gateway;
use settings::{MetricsListen, Settings};
use store::MemoryStore;
use telemetry::Telemetry;

/// How often recorded latencies are folded into their histograms when
/// nobody scrapes.
const METRICS_UPKEEP: Duration = Duration::from_secs(5);

/// A built, not yet running, gateway.
pub struct Application {
    port: u16,
    metrics: Option<(u16, Server)>,
    server: Server,
    gateway: Gateway,
    audit: Arc<AuditLog>,
    sweep_every: Duration,
    anchor_every: Duration,
    security_log_every: Duration,
}

/// Stops a running gateway, from anywhere.
#[derive(Clone)]
pub struct StopHandle {
    gateway: Gateway,
    servers: Vec<ServerHandle>,
}

impl StopHandle {
    /// Waiting polls answer at once (empty, unless an event is queued) and
    /// new ones do not wait; the listeners close. `graceful`: in-flight
    /// requests get up to `shutdown-timeout-ms` to finish.
    pub async fn stop(&self, graceful: bool) {
        self.gateway.shut_down();
        futures_util::future::join_all(self.servers.iter().map(|server| server.stop(graceful))).await;
    }
}

impl Application {
    /// Builds the gateway on an already bound listener (port 0 in tests).
    pub fn build(settings: Settings, listener: TcpListener) -> Result<Application, String> {
        settings.validate()?;
        let address = listener.local_addr().map_err(|e| e.to_string())?;
        let server = &settings.server;
        let tls = tls::server_config(&server.tls_cert, &server.tls_key, address, server.allow_dev_cert)?;
        let directory = load_directory(&settings)?;
        // Bind before starting anything, so a taken port leaves nothing running.
        let metrics_listener = match server.metrics_listen {
            MetricsListen::Off => None,
            MetricsListen::At(at) => Some(TcpListener::bind(at).map_err(|e| format!("metrics-listen {at}: {e}"))?),
        };
        if settings.audit.window_given {
            log::warn!("--audit-window is no longer used: the audit query finds records by time in the whole trail");
        }
        let audit = Arc::new(AuditLog::open(&settings.audit.file, settings.audit.options)?);
        let store = Arc::new(MemoryStore::default());
        let trail: Arc<dyn AuditTrail> = audit.clone();
        let gateway = Gateway::new(settings.gateway.clone(), directory, store, trail, Telemetry::new());
        let data = AppData::new(
            gateway.clone(),
            server.body,
            HeaderLimit(server.max_header_bytes),
            StatusPolicy { rest: server.rest_statuses },
        );
        // actix counts the shutdown grace in whole seconds.
        let shutdown_secs = server.shutdown_timeout_ms.div_ceil(1000);
        let metrics_data = data.clone();
        let server = HttpServer::new(move || api::app(data.clone()))
            .workers(server.workers)
            .client_request_timeout(Duration::from_millis(server.head_timeout_ms))
            .keep_alive(Duration::from_millis(server.keep_alive_ms))
            .max_connections(server.max_connections)
            .disable_signals()
            .shutdown_timeout(shutdown_secs)
            .listen_rustls_0_23(listener, tls)
            .map_err(|e| format!("listen on {address}: {e}"))?
            .run();
        let metrics = match metrics_listener {
            Some(listener) => Some(metrics_server(listener, metrics_data, shutdown_secs)?),
            None => None,
        };
        let sweep_every = Duration::from_millis((settings.gateway.heartbeat_timeout_ms / 10).clamp(5, 1000));
        Ok(Application {
            port: address.port(),
            metrics,
            server,
            gateway,
            audit,
            sweep_every,
            anchor_every: Duration::from_millis(settings.audit.anchor_ms),
            security_log_every: Duration::from_millis(settings.server.security_log_ms),
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The metrics listener's port, unless it is off.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    /// A handle to stop the gateway and both its listeners.
    pub fn handle(&self) -> StopHandle {
        let servers = std::iter::once(&self.server).chain(self.metrics.as_ref().map(|(_, s)| s));
        StopHandle { gateway: self.gateway.clone(), servers: servers.map(Server::handle).collect() }
    }

    /// Serves until stopped, signing out silent agents on the side,
    /// publishing the audit trail's head and summing up refusals of
    /// strangers in the log. Once both servers have stopped, the audit
    /// trail is closed (and its lock released) before this returns.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let gateway = self.gateway.clone();
        let every = self.sweep_every;
        let sweeper = tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = gateway.sweep().await {
                    log::error!("heartbeat sweep failed: {}", e.detail);
                }
            }
        });
        let telemetry = self.gateway.telemetry().clone();
        let upkeep = tokio::spawn(async move {
            let mut tick = tokio::time::interval(METRICS_UPKEEP);
            loop {
                tick.tick().await;
                telemetry.upkeep();
            }
        });
        let audit = self.audit.clone();
        log::info!("{}", audit.anchor());
        let anchor = repeat(self.anchor_every, move || log::info!("{}", audit.anchor()));
        let (telemetry, period) = (self.gateway.telemetry().clone(), self.security_log_every);
        let security_log = repeat(period, move || telemetry.flush_security_log(period));
        let metrics = async {
            match self.metrics {
                Some((_, server)) => server.await,
                None => Ok(()),
            }
        };
        let (served, metrics_served) = futures_util::future::join(self.server, metrics).await;
        for task in [sweeper, upkeep, anchor, security_log] {
            task.abort();
        }
        self.audit.close().await;
        served.and(metrics_served)
    }
}

/// Runs `each` every `period`, the first time one period from now.
fn repeat(period: Duration, each: impl Fn() + Send + 'static) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            each();
        }
    })
}

/// The metrics listener: plain HTTP, one worker, no TLS. It is meant for a
/// loopback or otherwise private address; it serves no agent data.
fn metrics_server(listener: TcpListener, data: AppData, shutdown_secs: u64) -> Result<(u16, Server), String> {
    let at = listener.local_addr().map_err(|e| e.to_string())?;
    let port = at.port();
    let server = HttpServer::new(move || api::metrics_app(data.clone()))
        .workers(1)
        .disable_signals()
        .shutdown_timeout(shutdown_secs)
        .listen(listener)
        .map_err(|e| format!("metrics-listen {at}: {e}"))?
        .run();
    Ok((port, server))
}

fn load_directory(settings: &Settings) -> Result<Directory, String> {
    match &settings.directory {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("directory {}: {e}", path.display()))?;
            Directory::parse(&text).map_err(|e| match e.at {
                Some((line, column)) => format!("directory {}:{line}:{column}: {}", path.display(), e.message),
                None => format!("directory {}: {}", path.display(), e.message),
            })
        }
        None => Directory::parse(DEMO_DIRECTORY).map_err(|e| format!("embedded demo directory: {e}")),
    }
}
