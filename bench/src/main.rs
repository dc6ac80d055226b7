//! agentgateway-bench: starts its own gateway on loopback HTTPS, drives it,
//! and writes `docs/benchmarks.md` and `docs/benchmarks.svg`.
//!
//! ```text
//! cargo run --release -p agentgateway-bench              # full run (about 10 minutes)
//! cargo run -p agentgateway-bench -- --smoke             # seconds, tiny numbers; what CI runs
//! ```
//!
//! Safety: load goes only to literal 127.0.0.1 targets ([`target::Target`]),
//! inside a private network namespace when the kernel allows one.

mod chart;
mod client;
mod load;
mod netns;
mod nginx;
mod options;
mod procfs;
mod report;
mod scenarios;
mod servers;
mod setup;
mod stats;
mod target;

use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;

use argon2::Params;

use report::{Meta, Results};
use scenarios::Ctx;
use setup::{
    build_gateway, install_prism, load_average, lock_version, machine, phc, prism_version, run_text, write_directory,
};

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("bench: {e}");
            servers::stop_all_started();
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<bool, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let o = options::parse(&args)?;
    if o.help {
        print!("{}", options::USAGE);
        return Ok(true);
    }
    let load_at_start = load_average();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().ok_or("no repository root")?.to_path_buf();
    let work = root.join("target").join(if o.smoke { "bench-smoke" } else { "bench" });
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let out = o.out.clone().unwrap_or_else(|| if o.smoke { work.clone() } else { root.join("docs") });

    // Everything that may need the network happens before the namespace.
    let binary = build_gateway(&root, !o.smoke)?;
    let mut prism_note = String::from("skipped (--no-prism or --smoke)");
    let mut prism_bin = None;
    if o.prism && o.wants("prism") {
        match install_prism(&root) {
            Ok(bin) => {
                prism_note = prism_version(&root);
                prism_bin = Some(bin);
            }
            Err(e) => prism_note = format!("Prism could not be installed: {e}"),
        }
    }
    let mut setup_errors = Vec::new();
    let mut nginx_ref = None;
    let nginx_note = if !o.wants("command") {
        "not run (scenario 1 not selected)".to_owned()
    } else if !o.nginx {
        "skipped (--no-nginx)".to_owned()
    } else {
        match nginx::ensure_installed() {
            Ok(bin) => {
                let n = nginx::prepare(bin, nginx::gateway_workers(&o.gateway_args, &o.gateway_env));
                let note = format!(
                    "{}; {} worker processes (the gateway's workers){}",
                    n.version,
                    n.workers,
                    if n.own_pid_namespace {
                        ""
                    } else {
                        "; no PID namespace of its own (its workers would outlive a killed harness)"
                    }
                );
                nginx_ref = Some(n);
                note
            }
            Err(e) => {
                setup_errors.push(format!("nginx reference: {e} (--no-nginx skips it)"));
                format!("not measured: {e}")
            }
        }
    };
    let max_agents =
        o.sizes.waiting.iter().copied().chain([o.sizes.command_agents + o.sizes.signout_agents]).max().unwrap_or(1);
    let cheap = work.join("directory-cheap.toml");
    let production = work.join("directory-production.toml");
    write_directory(&cheap, max_agents, &phc(Some(Params::new(8, 1, 1, None).map_err(|e| e.to_string())?))?)?;
    write_directory(&production, o.sizes.signin_agents, &phc(None)?)?;

    let network = match netns::enter_private() {
        Ok(text) => text,
        Err(why) => {
            eprintln!("bench: no private network namespace ({why}); using the host's loopback");
            format!("host loopback (no private namespace: {why})")
        }
    };
    eprintln!("bench: {network}");
    servers::stop_servers_on_signals();

    // Bounded in time whatever happens.
    let limit = if o.smoke { Duration::from_secs(120) } else { Duration::from_secs(45 * 60) };
    std::thread::spawn(move || {
        std::thread::sleep(limit);
        eprintln!("bench: time limit {limit:?} reached; stopping the servers and exiting");
        servers::stop_all_started();
        std::process::exit(3);
    });

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(std::thread::available_parallelism().map_or(2, |n| n.get()))
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let ctx = Ctx {
        root: root.clone(),
        binary: binary.clone(),
        work: work.clone(),
        tls: client::Tls::from_ca_file(&root.join("certs/ca.crt"))?,
        sizes: o.sizes.clone(),
        cheap_directory: cheap,
        production_directory: production,
        gateway_args: o.gateway_args.clone(),
        gateway_env: o.gateway_env.clone(),
        nginx: nginx_ref.clone(),
        log_seq: AtomicUsize::new(0),
    };
    let mut results = Results {
        meta: Meta::default(),
        sizes: o.sizes.clone(),
        command: Vec::new(),
        waiting: Vec::new(),
        signin: Vec::new(),
        prism: Vec::new(),
        errors: setup_errors,
    };
    runtime.block_on(async {
        for run in 0..o.sizes.runs {
            if o.wants("command") {
                eprintln!("bench: run {}: command cost", run + 1);
                match scenarios::command_cost(&ctx).await {
                    Ok(c) => {
                        if let Some(e) = &c.nginx_error {
                            results.errors.push(format!("nginx reference, run {}: {e}", run + 1));
                        }
                        eprintln!(
                            "bench:   server CPU µs/request: nginx {:.1}, healthz {:.1}, agentstatus {:.1}, toggle {:.1}, sign-out/in {:.1}, sign-in {:.1}, forced sign-out {:.1}",
                            c.nginx.as_ref().map_or(f64::NAN, |p| p.cpu_us_per_request()),
                            c.health.cpu_us_per_request(),
                            c.status.cpu_us_per_request(),
                            c.toggle.cpu_us_per_request(),
                            c.sign_out_in.cpu_us_per_request(),
                            c.sign_in.cpu_us_per_request(),
                            c.sign_out.cpu_us_per_request()
                        );
                        results.command.push(c)
                    }
                    Err(e) => results.errors.push(format!("command cost, run {}: {e}", run + 1)),
                }
            }
            if o.wants("waiting") {
                for &n in &o.sizes.waiting {
                    eprintln!("bench: run {}: {n} waiting agents", run + 1);
                    match scenarios::waiting(&ctx, n).await {
                        Ok(w) => {
                            eprintln!(
                                "bench:   {:.1} KiB/agent (session {:.1}, connection {:.1}), wake-up p50 {:.0} µs p99 {:.0} µs max {:.0} µs, failures {}",
                                w.kib_per_agent(),
                                w.session_kib_per_agent(),
                                w.connection_kib_per_agent(),
                                w.wake(0.5),
                                w.wake(0.99),
                                w.wake(1.0),
                                w.setup_failures + w.wake_failures
                            );
                            let slow: Vec<String> =
                                w.slowest.iter().map(|(at, us)| format!("{us:.0}µs@{at:.0}ms")).collect();
                            eprintln!(
                                "bench:   stream {:.2} s; slowest wake-ups (µs @ ms into the stream): {}",
                                w.stream_seconds,
                                slow.join(" ")
                            );
                            match results.waiting.iter_mut().find(|(k, _)| *k == n) {
                                Some((_, runs)) => runs.push(w),
                                None => results.waiting.push((n, vec![w])),
                            }
                        }
                        Err(e) => results.errors.push(format!("{n} waiting agents, run {}: {e}", run + 1)),
                    }
                }
            }
            if o.wants("signin") {
                eprintln!("bench: run {}: sign-in with production hashing", run + 1);
                match scenarios::production_signin(&ctx).await {
                    Ok(p) => {
                        eprintln!("bench:   {:.1} sign-ins/s, {:.2} ms CPU each", p.rps(), p.cpu_us_per_request() / 1000.0);
                        results.signin.push(p)
                    }
                    Err(e) => results.errors.push(format!("sign-in, run {}: {e}", run + 1)),
                }
            }
        }
        if let Some(bin) = &prism_bin {
            let openapi = root.join("openapi/openapi.json");
            match servers::Server::prism(bin, &openapi, work.join("prism.log")) {
                Ok(mut prism) => match prism.wait_ready(None, "/healthz", Duration::from_secs(90)).await {
                    Ok(()) => {
                        for run in 0..o.sizes.runs {
                            eprintln!("bench: run {}: Prism", run + 1);
                            match scenarios::prism(&ctx, &mut prism).await {
                                Ok(p) => {
                                    eprintln!("bench:   Prism {:.0} requests/s, {:.1} µs CPU each", p.rps(), p.cpu_us_per_request());
                                    results.prism.push(p)
                                }
                                Err(e) => results.errors.push(format!("Prism, run {}: {e}", run + 1)),
                            }
                        }
                    }
                    Err(e) => results.errors.push(format!("Prism: {e}")),
                },
                Err(e) => results.errors.push(format!("Prism: {e}")),
            }
        }
    });

    results.meta = Meta {
        date: run_text("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        command: format!(
            "cargo run{} -p agentgateway-bench{}",
            if o.smoke { "" } else { " --release" },
            if args.is_empty() { String::new() } else { format!(" -- {}", args.join(" ")) }
        ),
        commit: {
            let head = run_text("git", &["-C", &root.display().to_string(), "rev-parse", "--short", "HEAD"]);
            let dirty = run_text("git", &["-C", &root.display().to_string(), "status", "--porcelain", "--untracked-files=no"]);
            if dirty.is_empty() || dirty == "unknown" { head } else { format!("{head} with uncommitted changes") }
        },
        machine: format!("{}; load average {load_at_start} at the start, {} at the end", machine(), load_average()),
        versions: format!(
            "{}; agentgateway {}; actix-web {}, actix-http {}, rustls {} (ring), tokio {}; load generator: hyper {} + tokio-rustls {}",
            run_text("rustc", &["--version"]),
            lock_version(&root, "agentgateway"),
            lock_version(&root, "actix-web"),
            lock_version(&root, "actix-http"),
            lock_version(&root, "rustls"),
            lock_version(&root, "tokio"),
            lock_version(&root, "hyper"),
            lock_version(&root, "tokio-rustls"),
        ),
        network,
        profile: if o.smoke { "debug".into() } else { "release".into() },
        gateway_args: {
            let mut a = vec!["--log info", "--poll-wait-ms 300000", "--heartbeat-timeout-ms 600000", "--directory <generated>"]
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>();
            a.extend(o.gateway_args.iter().cloned());
            a.join(" ")
        },
        prism: prism_note,
        nginx: nginx_note,
    };
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let md = out.join("benchmarks.md");
    let svg = out.join("benchmarks.svg");
    report::write_markdown(&md, &report::markdown(&results, "benchmarks.svg"))?;
    if !results.waiting.is_empty() {
        chart::chart(&svg, &results.waiting)?;
    }
    eprintln!("bench: wrote {} and {}", md.display(), svg.display());
    for e in &results.errors {
        eprintln!("bench: error: {e}");
    }
    if o.smoke {
        return smoke_verdict(&results, o.nginx, &md, &svg);
    }
    Ok(results.errors.is_empty())
}

/// Smoke mode asserts that every scenario worked, not how fast.
fn smoke_verdict(r: &Results, with_nginx: bool, md: &Path, svg: &Path) -> Result<bool, String> {
    let mut problems = r.errors.clone();
    for c in &r.command {
        let mut phases = vec![
            ("healthz", &c.health),
            ("agentstatus", &c.status),
            ("toggle", &c.toggle),
            ("sign-out/in", &c.sign_out_in),
            ("sign-in", &c.sign_in),
            ("forced sign-out", &c.sign_out),
        ];
        match &c.nginx {
            Some(p) => phases.push(("nginx", p)),
            None if with_nginx => problems.push("the nginx reference did not run".into()),
            None => {}
        }
        for (name, p) in phases {
            if p.requests == 0 || p.failures > 0 || !p.cpu_us_per_request().is_finite() {
                problems
                    .push(format!("{name}: {} requests, {} failures {:?}", p.requests, p.failures, p.first_failure));
            }
        }
    }
    if r.command.is_empty() {
        problems.push("command cost did not run".into());
    }
    for (n, runs) in &r.waiting {
        for w in runs {
            if w.setup_failures + w.wake_failures > 0 || w.wake_us.len() != *n || w.rss_waiting_kib == 0 {
                problems.push(format!(
                    "{n} waiting: {} setup and {} wake failures ({:?} {:?}), {} wake-ups measured",
                    w.setup_failures,
                    w.wake_failures,
                    w.first_setup_failure,
                    w.first_wake_failure,
                    w.wake_us.len()
                ));
            }
        }
    }
    if r.waiting.len() != r.sizes.waiting.len() {
        problems.push("not every waiting size ran".into());
    }
    if r.signin.is_empty() || r.signin.iter().any(|p| p.failures > 0 || p.requests != r.sizes.signin_agents as u64) {
        problems.push("production sign-in did not work".into());
    }
    let text = std::fs::read_to_string(md).unwrap_or_default();
    if !text.contains(report::START) || !text.contains("### 1. Command cost") {
        problems.push(format!("{} lacks the results", md.display()));
    }
    if !std::fs::read_to_string(svg).unwrap_or_default().contains("<svg") {
        problems.push(format!("{} is not an SVG", svg.display()));
    }
    if problems.is_empty() {
        let nginx = if with_nginx { "with the nginx reference" } else { "nginx reference skipped (--no-nginx)" };
        println!("bench smoke: every scenario ran, {nginx} (Prism and 19,000 agents are skipped in smoke mode)");
        println!("smoke: 1 passed, 0 failed");
        Ok(true)
    } else {
        for p in &problems {
            eprintln!("bench smoke: FAILED: {p}");
        }
        println!("smoke: 0 passed, 1 failed");
        Ok(false)
    }
}
