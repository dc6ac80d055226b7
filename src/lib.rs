//! agentgateway: an HTTPS REST gateway for contact-center agents that
//! speaks Huawei CC-Gateway's AgentGateway wire contract.
//!
//! [`Application::build`] turns [`settings::Settings`] and a bound listener
//! into a running server; `main.rs` and the integration tests both use it.

pub mod api;
pub mod domain;
pub mod logging;
pub mod memory;
pub mod retcode;
pub mod settings;
pub mod store;
pub mod tls;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::HttpServer;

use api::body::BodyLimits;
use api::{AppData, HeaderLimit};
use domain::directory::{Directory, DEMO_DIRECTORY};
use domain::session::GuidPolicy;
use domain::{Gateway, GatewayConfig};
use settings::Settings;
use store::MemoryStore;

/// A built, not yet running, gateway.
pub struct Application {
    port: u16,
    server: Server,
    gateway: Gateway,
    sweep_every: Duration,
}

impl Application {
    /// Builds the gateway on an already bound listener (port 0 in tests).
    pub fn build(settings: Settings, listener: TcpListener) -> Result<Application, String> {
        settings.validate()?;
        let address = listener.local_addr().map_err(|e| e.to_string())?;
        let tls = tls::server_config(&settings.tls_cert, &settings.tls_key, address, settings.allow_dev_cert)?;
        let gateway =
            Gateway::new(gateway_config(&settings), load_directory(&settings)?, Arc::new(MemoryStore::default()));
        let data = AppData::new(
            gateway.clone(),
            BodyLimits {
                max_bytes: settings.max_body_bytes,
                deadline: Duration::from_millis(settings.body_timeout_ms),
            },
            HeaderLimit(settings.max_header_bytes),
        );
        let server = HttpServer::new(move || api::app(data.clone()))
            .workers(settings.workers)
            .client_request_timeout(Duration::from_millis(settings.head_timeout_ms))
            .keep_alive(Duration::from_millis(settings.keep_alive_ms))
            .max_connections(settings.max_connections)
            .disable_signals()
            .shutdown_timeout(5)
            .listen_rustls_0_23(listener, tls)
            .map_err(|e| format!("listen on {address}: {e}"))?
            .run();
        let sweep_every = Duration::from_millis((settings.heartbeat_timeout_ms / 10).clamp(5, 1000));
        Ok(Application { port: address.port(), server, gateway, sweep_every })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop the server.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped, signing out silent agents on the side.
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
        let result = self.server.await;
        sweeper.abort();
        result
    }
}

fn gateway_config(settings: &Settings) -> GatewayConfig {
    GatewayConfig {
        guid: GuidPolicy {
            mode: settings.auth_mode,
            interval_ms: settings.guid_interval_ms,
            timeout_ms: settings.guid_timeout_ms,
            node: settings.node_id,
        },
        poll_wait_ms: settings.poll_wait_ms,
        heartbeat_timeout_ms: settings.heartbeat_timeout_ms,
        queue_capacity: settings.queue_capacity,
        server_name: settings.server_name.clone(),
        hash_concurrency: settings.hash_concurrency,
    }
}

fn load_directory(settings: &Settings) -> Result<Directory, String> {
    match &settings.directory {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("directory {}: {e}", path.display()))?;
            Directory::parse(&text).map_err(|e| format!("directory {}: {e}", path.display()))
        }
        None => Directory::parse(DEMO_DIRECTORY).map_err(|e| format!("embedded demo directory: {e}")),
    }
}
