//! The `agentgateway` binary: parse settings, start logging, run.

use std::io::Read;
use std::process::ExitCode;

use agentgateway::settings::{AuditTool, Cli, MetricsListen, Settings, Tool};
use agentgateway::{logging, Application};

fn main() -> ExitCode {
    let cli = Cli::parse_documented();
    match cli.command {
        Some(Tool::Openapi) => {
            print!("{}", agentgateway::api::openapi_json());
            return ExitCode::SUCCESS;
        }
        Some(Tool::HashPassword) => return hash_password(),
        Some(Tool::Completions { shell }) => {
            let mut command = Cli::documented_command();
            clap_complete::generate(shell, &mut command, "agentgateway", &mut std::io::stdout());
            return ExitCode::SUCCESS;
        }
        Some(Tool::Audit(AuditTool::Verify { file, anchors })) => return verify_audit(&file, &anchors),
        None => {}
    }
    let settings = match Settings::resolve(cli.config.as_deref(), cli.layer) {
        Ok(settings) => settings,
        Err(message) => return fail(&message),
    };
    // Before any other thread starts: arenas are made per thread on first use.
    agentgateway::malloc::limit_malloc_arenas(settings.server.malloc_arena_max);
    if let Err(message) = logging::init(&settings.server.log) {
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
    let listener = std::net::TcpListener::bind(settings.server.listen)
        .map_err(|e| format!("listen {}: {e}", settings.server.listen))?;
    let app = Application::build(settings.clone(), listener)?;
    // The bound ports, not the configured ones: with port 0 these are how a
    // supervisor (or CI) learns where the gateway listens.
    log::info!(
        "agentgateway listening on https://{}:{}/agentgateway/resource/ (auth mode {:?}, directory {})",
        settings.server.listen.ip(),
        app.port(),
        settings.gateway.guid.mode,
        settings.directory.as_ref().map_or("embedded demo".into(), |p| p.display().to_string())
    );
    match (settings.server.metrics_listen, app.metrics_port()) {
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

/// Hashes a password: asked for twice on a terminal, without echo; read
/// from standard input otherwise (one line; a trailing newline is not part
/// of it). An empty password is refused.
fn hash_password() -> ExitCode {
    use std::io::IsTerminal;
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ");
        let again = rpassword::prompt_password("Password again: ");
        match (first, again) {
            (Ok(first), Ok(again)) if first == again => first,
            (Ok(_), Ok(_)) => return fail("the two passwords differ"),
            (Err(e), _) | (_, Err(e)) => return fail(&format!("could not read the password: {e}")),
        }
    } else {
        let mut text = String::new();
        if std::io::stdin().read_to_string(&mut text).is_err() {
            return fail("could not read the password from standard input");
        }
        text.trim_end_matches(['\r', '\n']).to_owned()
    };
    if password.is_empty() {
        return fail("the password is empty");
    }
    match agentgateway::domain::directory::hash_password(&password) {
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
