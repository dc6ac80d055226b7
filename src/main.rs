//! The `agentgateway` binary: parse settings, start logging, run.

use std::io::Read;
use std::process::ExitCode;

use agentgateway::settings::{AuditTool, Cli, MetricsListen, Settings, Tool};
use agentgateway::{logging, Application};
use clap::Parser;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Tool::Openapi) => {
            print!("{}", agentgateway::api::openapi_json());
            return ExitCode::SUCCESS;
        }
        Some(Tool::HashPassword) => return hash_password(),
        Some(Tool::Audit(AuditTool::Verify { file, anchors })) => return verify_audit(&file, &anchors),
        None => {}
    }
    let settings = match Settings::resolve(cli.config.as_deref(), cli.layer) {
        Ok(settings) => settings,
        Err(message) => return fail(&message),
    };
    // Before any other thread starts: arenas are made per thread on first use.
    agentgateway::malloc::limit_malloc_arenas(settings.malloc_arena_max);
    if let Err(message) = logging::init(&settings.log) {
        return fail(&message);
    }
    let outcome = actix_web::rt::System::new().block_on(serve(settings));
    logging::flush();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

async fn serve(settings: Settings) -> Result<(), String> {
    // Before anything says it listens: a SIGTERM right after that line must
    // stop the gateway gracefully, not kill it.
    let stop_signal = stop_signal().map_err(|e| format!("signal handlers: {e}"))?;
    let listener =
        std::net::TcpListener::bind(settings.listen).map_err(|e| format!("listen {}: {e}", settings.listen))?;
    let app = Application::build(settings.clone(), listener)?;
    // The bound ports, not the configured ones: with port 0 these are how a
    // supervisor (or CI) learns where the gateway listens.
    log::info!(
        "agentgateway listening on https://{}:{}/agentgateway/resource/ (auth mode {:?}, directory {})",
        settings.listen.ip(),
        app.port(),
        settings.auth_mode,
        settings.directory.as_ref().map_or("embedded demo".into(), |p| p.display().to_string())
    );
    match (settings.metrics_listen, app.metrics_port()) {
        (MetricsListen::At(at), Some(port)) => log::info!("metrics listening on http://{}:{port}/metrics", at.ip()),
        _ => log::info!("metrics listener off"),
    }
    let handle = app.handle();
    actix_web::rt::spawn(async move {
        stop_signal.await;
        log::info!("stopping: answering waiting polls, finishing in-flight requests");
        handle.stop(true).await;
    });
    app.run_until_stopped().await.map_err(|e| e.to_string())?;
    log::info!("stopped");
    Ok(())
}

/// SIGINT or SIGTERM, with both handlers installed now.
fn stop_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let (mut interrupt, mut term) = (signal(SignalKind::interrupt())?, signal(SignalKind::terminate())?);
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = term.recv() => {}
        }
    })
}

fn hash_password() -> ExitCode {
    let mut password = String::new();
    if std::io::stdin().read_to_string(&mut password).is_err() {
        return fail("could not read the password from standard input");
    }
    match agentgateway::domain::directory::hash_password(password.trim_end_matches(['\r', '\n'])) {
        Ok(hash) => {
            println!("{hash}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

/// Exit 0 when the trail is intact (a torn last record included: it is an
/// interrupted write, not an edit), 1 with the first problem otherwise.
fn verify_audit(file: &std::path::Path, anchors: &[agentgateway::audit::Anchor]) -> ExitCode {
    match agentgateway::audit::verify(file, anchors) {
        Ok(finding) if finding.is_intact() => {
            println!("{}: {finding}", file.display());
            ExitCode::SUCCESS
        }
        Ok(finding) => {
            println!("{}: TAMPERED: {finding}", file.display());
            ExitCode::FAILURE
        }
        Err(e) => fail(&e),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("agentgateway: {message}");
    ExitCode::FAILURE
}
