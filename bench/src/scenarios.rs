//! The scenarios: command cost against the ceiling and nginx, waiting agents
//! (memory and wake-up latency), sign-in with production hashing, and Prism.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::Method;
use tokio::sync::Semaphore;

use crate::client::{Conn, Tls};
use crate::load::{self, Agent, Lane, Op, Phase, BASE};
use crate::nginx::Nginx;
use crate::procfs;
use crate::servers::Server;
use crate::stats::{percentile, sorted};

/// Sizes of one harness run.
#[derive(Debug, Clone)]
pub struct Sizes {
    pub runs: usize,
    /// Scenario 1.
    pub command_agents: usize,
    /// Scenario 1: further agents, each signed in once and forced out once.
    pub signout_agents: usize,
    pub concurrency: usize,
    pub requests: u64,
    pub warmup: u64,
    /// Scenarios 2 and 3: numbers of waiting agents.
    pub waiting: Vec<usize>,
    /// Connections that send the forced sign-outs of scenario 2.
    pub wake_conns: usize,
    /// Scenario 4.
    pub signin_agents: usize,
    pub signin_concurrency: usize,
    /// Scenario 5 (0 skips it).
    pub prism_requests: u64,
    /// Time limit of one load phase.
    pub phase_limit: Duration,
}

/// What every scenario needs.
pub struct Ctx {
    pub root: PathBuf,
    pub binary: PathBuf,
    pub work: PathBuf,
    pub tls: Tls,
    pub sizes: Sizes,
    /// Directory with cheap hashes and enough agents for every scenario.
    pub cheap_directory: PathBuf,
    /// Directory with production-cost hashes (scenario 4).
    pub production_directory: PathBuf,
    /// Extra gateway flags (tuning under test).
    pub gateway_args: Vec<String>,
    /// Extra gateway environment (profiling).
    pub gateway_env: Vec<(String, String)>,
    /// The reference server of scenario 1 (`None`: skipped or not installed).
    pub nginx: Option<Nginx>,
    pub log_seq: AtomicUsize,
}

impl Ctx {
    /// Starts a gateway with the cheap directory (or the production one),
    /// normal `--log info` to a file, and long poll waits.
    pub async fn gateway(&self, production: bool) -> Result<Server, String> {
        let directory = if production { &self.production_directory } else { &self.cheap_directory };
        let mut args: Vec<String> = [
            "--directory",
            &directory.display().to_string(),
            "--log",
            "info",
            "--poll-wait-ms",
            "300000",
            "--heartbeat-timeout-ms",
            "600000",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if !production {
            // Cheap hashes: don't let the permit count be what is measured.
            args.extend(["--hash-concurrency".into(), "64".into()]);
        }
        let n = self.log_seq.fetch_add(1, Ordering::Relaxed);
        // A fresh audit trail per gateway, synced as shipped unless a
        // --gateway-arg says otherwise; no metrics listener, whose fixed
        // port two gateways would share.
        let audit = self.work.join(format!("audit-{n:02}")).join("audit.jsonl");
        let _ = std::fs::remove_dir_all(audit.parent().expect("a folder"));
        args.extend(["--audit-file".into(), audit.display().to_string(), "--metrics-listen".into(), "off".into()]);
        args.extend(self.gateway_args.iter().cloned());
        let log = self.work.join(format!("gateway-{n:02}.log"));
        let mut server = Server::gateway(&self.binary, &self.root, &args, &self.gateway_env, log)?;
        server.wait_ready(Some(&self.tls), "/healthz", Duration::from_secs(60)).await?;
        Ok(server)
    }
}

fn agents(count: usize) -> Vec<Agent> {
    (0..count as u32).map(|i| Agent::new(101 + i)).collect()
}

fn check(phase: &Phase, what: &str) -> Result<(), String> {
    if phase.requests == 0 {
        return Err(format!("{what}: no request was sent"));
    }
    Ok(())
}

// ----- 1. command cost ----------------------------------------------------

/// Scenario 1, one run: nginx's static answer (the reference), the ceiling
/// (`/healthz`), an agent's status query, busy/idle toggles, and forced
/// sign-out with a reason plus sign-in again, on one gateway.
pub struct CommandRun {
    /// nginx in the same run, just before and just after the gateway's
    /// rows (pooled); `None` when skipped, or when it failed (`nginx_error`
    /// says why).
    pub nginx: Option<Phase>,
    pub nginx_error: Option<String>,
    pub health: Phase,
    pub status: Phase,
    pub toggle: Phase,
    pub sign_out_in: Phase,
    /// Sign-in alone (bench directory hashing) and forced sign-out alone.
    pub sign_in: Phase,
    pub sign_out: Phase,
    /// TLS as the load generator negotiated it with the gateway and with nginx.
    pub tls: String,
    pub nginx_tls: String,
}

/// nginx in one run of scenario 1: started before the gateway and loaded
/// just before and just after the gateway's rows, so that the machine's
/// drift during the run falls on both sides; its figure pools the two.
struct Reference {
    server: Option<Server>,
    phases: Vec<Phase>,
    tls: String,
    error: Option<String>,
}

impl Reference {
    async fn start(ctx: &Ctx) -> Reference {
        let mut r = Reference { server: None, phases: Vec::new(), tls: String::new(), error: None };
        let Some(nginx) = &ctx.nginx else { return r };
        let n = ctx.log_seq.fetch_add(1, Ordering::Relaxed);
        let started = nginx.start(&ctx.root, &ctx.work.join(format!("nginx-{n:02}")));
        match started {
            Ok(mut server) => {
                match server.wait_ready(Some(&ctx.tls), crate::nginx::PATH, Duration::from_secs(20)).await {
                    Ok(()) => r.server = Some(server),
                    Err(e) => r.error = Some(e),
                }
            }
            Err(e) => r.error = Some(e),
        }
        r
    }

    /// One load in the shape of the `/healthz` row: the same connections
    /// (opened afresh), warm-up and request count.
    async fn measure(&mut self, ctx: &Ctx) {
        let Some(server) = &self.server else { return };
        let s = &ctx.sizes;
        let pid = server.pid();
        let conns = match load::open_many(&server.target, Some(&ctx.tls), s.concurrency, 64).await {
            Ok(conns) => conns,
            Err(e) => {
                (self.error, self.server) = (Some(e), None);
                return;
            }
        };
        self.tls = conns.first().map(|c| c.tls.clone()).unwrap_or_default();
        let (lanes, _) = load::run(pid, load::lanes(conns, Vec::new()), Op::Health, s.warmup, s.phase_limit).await;
        let (_, phase) = load::run(pid, lanes, Op::Health, s.requests, s.phase_limit).await;
        match check(&phase, "nginx") {
            Ok(()) => self.phases.push(phase),
            Err(e) => (self.error, self.server) = (Some(e), None),
        }
    }

    /// Stops nginx; its pooled phase, the negotiated TLS, and what failed.
    fn finish(self) -> (Option<Phase>, String, Option<String>) {
        let pooled = if self.error.is_none() { self.phases.into_iter().reduce(Phase::pooled) } else { None };
        (pooled, self.tls, self.error)
    }
}

/// One run of scenario 1. An nginx that fails leaves its row empty (and
/// says why); the gateway's rows are measured anyway.
pub async fn command_cost(ctx: &Ctx) -> Result<CommandRun, String> {
    let s = &ctx.sizes;
    let mut reference = Reference::start(ctx).await;
    reference.measure(ctx).await;
    let server = ctx.gateway(false).await?;
    let pid = server.pid();
    let conns = load::open_many(&server.target, Some(&ctx.tls), s.concurrency, 64).await?;
    let tls = conns.first().map(|c| c.tls.clone()).unwrap_or_default();
    let lanes = load::lanes(conns, agents(s.command_agents));
    let (lanes, signin) = load::run(pid, lanes, Op::SignIn, u64::MAX, s.phase_limit).await;
    if signin.failures > 0 {
        return Err(format!("signing in the agents: {}", signin.first_failure.unwrap_or_default()));
    }
    let (lanes, _) = load::run(pid, lanes, Op::Health, s.warmup, s.phase_limit).await;
    let (lanes, _) = load::run(pid, lanes, Op::Status, s.warmup, s.phase_limit).await;
    let (lanes, _) = load::run(pid, lanes, Op::Toggle, s.warmup, s.phase_limit).await;
    let (lanes, health) = load::run(pid, lanes, Op::Health, s.requests, s.phase_limit).await;
    let (lanes, status) = load::run(pid, lanes, Op::Status, s.requests, s.phase_limit).await;
    let (lanes, toggle) = load::run(pid, lanes, Op::Toggle, s.requests, s.phase_limit).await;
    let (lanes, sign_out_in) = load::run(pid, lanes, Op::SignOutIn, s.requests, s.phase_limit).await;
    // Each alone, on agents not used above: sign in once, then force out once.
    let fresh: Vec<Agent> =
        (0..s.signout_agents as u32).map(|i| Agent::new(101 + s.command_agents as u32 + i)).collect();
    let conns: Vec<_> = lanes.into_iter().map(|l| l.conn).collect();
    let (lanes, sign_in) = load::run(pid, load::lanes(conns, fresh), Op::SignIn, u64::MAX, s.phase_limit).await;
    let (_, sign_out) = load::run(pid, lanes, Op::SignOut, u64::MAX, s.phase_limit).await;
    reference.measure(ctx).await;
    let (nginx, nginx_tls, nginx_error) = reference.finish();
    check(&health, "healthz")?;
    check(&status, "agentstatus")?;
    check(&toggle, "toggle")?;
    check(&sign_out_in, "sign-out/in")?;
    check(&sign_in, "sign-in")?;
    check(&sign_out, "forced sign-out")?;
    Ok(CommandRun { nginx, nginx_error, health, status, toggle, sign_out_in, sign_in, sign_out, tls, nginx_tls })
}

// ----- 2 and 3. waiting agents: memory and wake-up ---------------------------

/// Scenarios 2 and 3, one run at one number of agents.
#[derive(Debug, Clone, Default)]
pub struct WaitRun {
    pub agents: usize,
    pub rss_base_kib: u64,
    pub rss_signed_kib: u64,
    pub rss_waiting_kib: u64,
    /// Agents whose connection, TLS handshake or first polls failed.
    pub setup_failures: usize,
    pub first_setup_failure: Option<String>,
    /// Forced sign-outs or final polls that failed or never answered.
    pub wake_failures: usize,
    pub first_wake_failure: Option<String>,
    /// Poll answer time minus command answer time, µs, sorted.
    pub wake_us: Vec<f64>,
    /// Poll answers that reached the client before their command's answer.
    pub poll_first: usize,
    pub stream_seconds: f64,
    pub stream_server_cpu_s: f64,
    /// The slowest wake-ups: (ms since the stream started, µs), for diagnosis.
    pub slowest: Vec<(f64, f64)>,
    /// Cheap-hash sign-ins of this run (the machinery without hashing).
    pub signin: Phase,
}

impl WaitRun {
    pub fn kib_per_agent(&self) -> f64 {
        (self.rss_waiting_kib as f64 - self.rss_base_kib as f64) / self.agents as f64
    }
    pub fn session_kib_per_agent(&self) -> f64 {
        (self.rss_signed_kib as f64 - self.rss_base_kib as f64) / self.agents as f64
    }
    pub fn connection_kib_per_agent(&self) -> f64 {
        (self.rss_waiting_kib as f64 - self.rss_signed_kib as f64) / self.agents as f64
    }
    pub fn wake(&self, q: f64) -> f64 {
        percentile(&self.wake_us, q)
    }
}

const SHUTDOWN: &str = "AgentOther_ShutdownService";

pub async fn waiting(ctx: &Ctx, n: usize) -> Result<WaitRun, String> {
    let s = &ctx.sizes;
    let server = ctx.gateway(false).await?;
    let pid = server.pid();
    let target = server.target;
    let mut run = WaitRun { agents: n, ..WaitRun::default() };
    procfs::wait_quiet(pid, Duration::from_secs(10)).await;
    run.rss_base_kib = procfs::rss_kib(pid).ok_or("no VmRSS")?;

    // Sign everyone in over a few connections, then close those.
    let conns = load::open_many(&target, Some(&ctx.tls), s.concurrency.min(n), 64).await?;
    let (lanes, signin) = load::run(pid, load::lanes(conns, agents(n)), Op::SignIn, u64::MAX, s.phase_limit).await;
    if signin.failures > 0 {
        return Err(format!("signing in {n} agents: {}", signin.first_failure.clone().unwrap_or_default()));
    }
    let mut signed: Vec<Agent> = lanes.into_iter().flat_map(|l: Lane| l.agents).collect();
    signed.sort_by_key(|a| a.work_no);
    run.signin = signin;
    procfs::wait_quiet(pid, Duration::from_secs(10)).await;
    run.rss_signed_kib = procfs::rss_kib(pid).ok_or("no VmRSS")?;

    // One connection per agent: take the two sign-in events, then hold a poll.
    let epoch = Instant::now();
    let poll_at: Arc<Vec<AtomicU64>> = Arc::new((0..n).map(|_| AtomicU64::new(0)).collect());
    let holding = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Semaphore::new(128));
    let mut pollers = Vec::with_capacity(n);
    for (i, agent) in signed.iter().cloned().enumerate() {
        let (tls, gate, poll_at, holding, failed) =
            (ctx.tls.clone(), gate.clone(), poll_at.clone(), holding.clone(), failed.clone());
        pollers.push(tokio::spawn(async move {
            let setup = async {
                let _permit = gate.acquire_owned().await.map_err(|e| e.to_string())?;
                let mut conn = Conn::open(&target, Some(&tls)).await?;
                let mut guid = agent.guid.clone().ok_or("not signed in")?;
                let path = format!("{BASE}/agentevent/{}", agent.work_no);
                for _ in 0..2 {
                    let reply = conn.send(Method::GET, &path, Some(&guid), None).await?;
                    if !reply.ok() || reply.event_type().is_none() {
                        return Err(format!("draining sign-in events: {}", reply.describe()));
                    }
                    if let Some(g) = reply.set_guid {
                        guid = g;
                    }
                }
                Ok::<_, String>((conn, guid, path))
            };
            let (mut conn, guid, path) = match setup.await {
                Ok(ok) => ok,
                Err(e) => {
                    failed.fetch_add(1, Ordering::Relaxed);
                    return Err(("setup", e));
                }
            };
            holding.fetch_add(1, Ordering::Relaxed);
            let reply = conn.send(Method::GET, &path, Some(&guid), None).await;
            poll_at[i].store(epoch.elapsed().as_nanos() as u64, Ordering::Relaxed);
            match reply {
                Ok(r) if r.ok() && r.event_type() == Some(SHUTDOWN) => Ok(conn),
                Ok(r) => Err(("wake", format!("final poll: {}", r.describe()))),
                Err(e) => Err(("wake", e)),
            }
        }));
    }
    let setup_deadline = Instant::now() + s.phase_limit;
    while holding.load(Ordering::Relaxed) + failed.load(Ordering::Relaxed) < n && Instant::now() < setup_deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    run.setup_failures = n - holding.load(Ordering::Relaxed);
    // Every poll sent has been taken in when the gateway falls quiet.
    procfs::wait_quiet(pid, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    run.rss_waiting_kib = procfs::rss_kib(pid).ok_or("no VmRSS")?;

    // The stream: forced sign-outs, one after another on each of a few connections.
    let cmd_at: Arc<Vec<AtomicU64>> = Arc::new((0..n).map(|_| AtomicU64::new(0)).collect());
    let conns = load::open_many(&target, Some(&ctx.tls), s.wake_conns, s.wake_conns).await?;
    let cpu_before = procfs::tree_cpu_seconds(pid);
    let started = Instant::now();
    let signed = Arc::new(signed);
    let mut senders = Vec::new();
    for (c, mut conn) in conns.into_iter().enumerate() {
        let (signed, cmd_at, lanes) = (signed.clone(), cmd_at.clone(), s.wake_conns);
        senders.push(tokio::spawn(async move {
            let mut failures = (0usize, None);
            for i in (c..signed.len()).step_by(lanes) {
                let agent = &signed[i];
                let path = format!("{BASE}/onlineagent/{}/forcelogoutwithreason/57", agent.work_no);
                match conn.send(Method::DELETE, &path, agent.guid.as_deref(), None).await {
                    Ok(reply) if reply.ok() => cmd_at[i].store(epoch.elapsed().as_nanos() as u64, Ordering::Relaxed),
                    Ok(reply) => {
                        failures.0 += 1;
                        failures.1.get_or_insert(format!("forcelogoutwithreason: {}", reply.describe()));
                    }
                    Err(e) => {
                        failures.0 += 1;
                        failures.1.get_or_insert(e);
                        break;
                    }
                }
            }
            failures
        }));
    }
    for sender in senders {
        let (count, first) = sender.await.map_err(|e| e.to_string())?;
        run.wake_failures += count;
        if run.first_wake_failure.is_none() {
            run.first_wake_failure = first;
        }
    }
    // Every woken poll answers at once; give stragglers a bounded while.
    let mut kept = Vec::with_capacity(n);
    let collect_deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    for poller in pollers {
        match tokio::time::timeout_at(collect_deadline, poller).await {
            Ok(Ok(Ok(conn))) => kept.push(conn),
            Ok(Ok(Err(("setup", e)))) => {
                run.first_setup_failure.get_or_insert(e);
            }
            Ok(Ok(Err((_, e)))) => {
                run.wake_failures += 1;
                run.first_wake_failure.get_or_insert(e);
            }
            Ok(Err(e)) => {
                run.wake_failures += 1;
                run.first_wake_failure.get_or_insert(e.to_string());
            }
            Err(_) => {
                run.wake_failures += 1;
                run.first_wake_failure.get_or_insert("a final poll did not answer within 30 s".into());
            }
        }
    }
    run.stream_seconds = started.elapsed().as_secs_f64();
    run.stream_server_cpu_s = procfs::tree_cpu_seconds(pid) - cpu_before;
    let mut wake = Vec::with_capacity(n);
    let stream_start = cmd_at.iter().map(|t| t.load(Ordering::Relaxed)).filter(|t| *t > 0).min().unwrap_or(0);
    let mut timed = Vec::with_capacity(n);
    for i in 0..n {
        let (cmd, poll) = (cmd_at[i].load(Ordering::Relaxed), poll_at[i].load(Ordering::Relaxed));
        if cmd > 0 && poll > 0 {
            let delta = poll as f64 - cmd as f64;
            if delta < 0.0 {
                run.poll_first += 1;
            }
            wake.push(delta / 1000.0);
            timed.push(((cmd - stream_start) as f64 / 1e6, delta / 1000.0));
        }
    }
    timed.sort_by(|a, b| b.1.total_cmp(&a.1));
    run.slowest = timed.into_iter().take(12).collect();
    run.wake_us = sorted(wake);
    drop(kept);
    Ok(run)
}

// ----- 4. sign-in with production hashing ------------------------------------

pub async fn production_signin(ctx: &Ctx) -> Result<Phase, String> {
    let s = &ctx.sizes;
    let server = ctx.gateway(true).await?;
    let conns = load::open_many(&server.target, Some(&ctx.tls), s.signin_concurrency, 64).await?;
    let lanes = load::lanes(conns, agents(s.signin_agents));
    let (_, phase) = load::run(server.pid(), lanes, Op::SignIn, u64::MAX, s.phase_limit).await;
    check(&phase, "sign-in")?;
    Ok(phase)
}

// ----- 5. Prism ----------------------------------------------------------------

/// The same busy/idle load against Prism mocking our own document.
pub async fn prism(ctx: &Ctx, prism: &mut Server) -> Result<Phase, String> {
    let s = &ctx.sizes;
    let conns = load::open_many(&prism.target, None, s.concurrency, 64).await?;
    let mut list = agents(s.command_agents);
    for agent in &mut list {
        // Prism does not check Guids; any well-formed one will do.
        agent.guid = Some("00000000-0000-4000-8000-000000000000.AgentGateway0".into());
    }
    let lanes = load::lanes(conns, list);
    let (lanes, _) = load::run(prism.pid(), lanes, Op::Toggle, s.warmup.min(s.prism_requests), s.phase_limit).await;
    let (_, phase) = load::run(prism.pid(), lanes, Op::Toggle, s.prism_requests, s.phase_limit).await;
    check(&phase, "prism")?;
    Ok(phase)
}
