//! The results: a Markdown section in `docs/benchmarks.md` (between
//! markers, so the hand-written analysis around it stays); the chart is
//! in `chart.rs`.

use std::fmt::Write as _;
use std::path::Path;

use crate::load::Phase;
use crate::scenarios::{CommandRun, Sizes, WaitRun};
use crate::stats::{spread, Spread};

pub const START: &str = "<!-- generated:start (cargo run --release -p agentgateway-bench rewrites this part) -->";
pub const END: &str = "<!-- generated:end -->";

/// Where and how the run happened.
#[derive(Debug, Clone, Default)]
pub struct Meta {
    pub date: String,
    pub command: String,
    pub commit: String,
    pub machine: String,
    pub versions: String,
    pub network: String,
    pub profile: String,
    pub gateway_args: String,
    pub prism: String,
    /// The reference server of scenario 1, or why it was not measured.
    pub nginx: String,
}

/// Everything measured.
pub struct Results {
    pub meta: Meta,
    pub sizes: Sizes,
    pub command: Vec<CommandRun>,
    pub waiting: Vec<(usize, Vec<WaitRun>)>,
    pub signin: Vec<Phase>,
    pub prism: Vec<Phase>,
    pub errors: Vec<String>,
}

fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn failures(phases: &[&Phase]) -> String {
    let total: u64 = phases.iter().map(|p| p.failures).sum();
    match phases.iter().find_map(|p| p.first_failure.clone()) {
        Some(first) if total > 0 => format!("{total} (first: {})", first.replace('|', "\\|")),
        _ => total.to_string(),
    }
}

/// One row of the command-cost table. `ceiling`: `None` for the ceiling
/// itself; `vs_nginx`: the cell of the nginx column.
fn phase_row(out: &mut String, name: &str, phases: &[&Phase], ceiling: Option<f64>, vs_nginx: &str) {
    let cpu = Spread::of(&phases.iter().map(|p| p.cpu_us_per_request()).collect::<Vec<_>>());
    let ratio = ceiling.map_or("1 (ceiling)".into(), |c| format!("{:.2}×", cpu.median / c));
    let _ = writeln!(
        out,
        "| {name} | {} | {} | {} | {} | {} | **{}** | {ratio} | {vs_nginx} | {} | {} |",
        phases.iter().map(|p| p.requests).sum::<u64>() / phases.len().max(1) as u64,
        Spread::of(&phases.iter().map(|p| p.rps()).collect::<Vec<_>>()).show(0),
        Spread::of(&phases.iter().map(|p| p.p(0.5)).collect::<Vec<_>>()).show(0),
        Spread::of(&phases.iter().map(|p| p.p(0.99)).collect::<Vec<_>>()).show(0),
        Spread::of(&phases.iter().map(|p| p.p(0.999)).collect::<Vec<_>>()).show(0),
        cpu.show(1),
        Spread::of(&phases.iter().map(|p| p.client_cpu_us_per_request()).collect::<Vec<_>>()).show(1),
        failures(phases),
    );
}

/// Each run's server CPU per request of `row` divided by nginx's in the
/// same run; runs without an nginx figure are left out.
pub fn vs_nginx(runs: &[CommandRun], row: impl Fn(&CommandRun) -> &Phase) -> Spread {
    let ratios: Vec<f64> = runs
        .iter()
        .filter_map(|c| c.nginx.as_ref().map(|n| row(c).cpu_us_per_request() / n.cpu_us_per_request()))
        .collect();
    Spread::of(&ratios)
}

/// The generated Markdown section.
pub fn markdown(r: &Results, chart_name: &str) -> String {
    let s = &r.sizes;
    let m = &r.meta;
    let mut out = String::new();
    let _ = writeln!(out, "## Results\n");
    let _ = writeln!(out, "- Date: {}", m.date);
    let _ = writeln!(out, "- Command: `{}` ({} build of the gateway)", m.command, m.profile);
    let _ = writeln!(out, "- Commit: {}", m.commit);
    let _ = writeln!(out, "- Machine: {}", m.machine);
    let _ = writeln!(out, "- Versions: {}", m.versions);
    let _ = writeln!(out, "- Network: {}", m.network);
    let _ = writeln!(out, "- Gateway flags: `{}`", m.gateway_args);
    let _ = writeln!(out, "- Reference server: {}", m.nginx);
    let _ = writeln!(
        out,
        "- Runs: {} per figure; a cell shows the median and, in brackets, min–max over the runs.",
        s.runs
    );
    let _ = writeln!(out, "- Load generator and gateway share the machine's cores; nothing is pinned.\n");
    for e in &r.errors {
        let _ = writeln!(out, "- **Error:** {e}");
    }
    if !r.errors.is_empty() {
        out.push('\n');
    }

    let _ = writeln!(out, "### 1. Command cost\n");
    let _ = writeln!(
        out,
        "{} signed-in agents on {} keep-alive HTTPS connections, each connection sending one request at a time \
         for its own agents; {} requests per load after {} warm-up requests. The gateway logs every call \
         (`--log info`, to a file) and queues each command's events. CPU is the gateway's utime+stime \
         (`/proc/<pid>/stat`) over the load, divided by the requests.\n",
        thousands(s.command_agents),
        s.concurrency,
        thousands(s.requests as usize),
        thousands(s.warmup as usize)
    );
    let _ = writeln!(
        out,
        "| Load | requests | requests/s | p50 µs | p99 µs | p99.9 µs | server CPU µs/request | vs ceiling | × nginx | client CPU µs/request | failures |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|");
    let health: Vec<&Phase> = r.command.iter().map(|c| &c.health).collect();
    let toggle: Vec<&Phase> = r.command.iter().map(|c| &c.toggle).collect();
    let sign_out: Vec<&Phase> = r.command.iter().map(|c| &c.sign_out).collect();
    let nginx: Vec<&Phase> = r.command.iter().filter_map(|c| c.nginx.as_ref()).collect();
    let ceiling = Spread::of(&health.iter().map(|p| p.cpu_us_per_request()).collect::<Vec<_>>()).median;
    if !nginx.is_empty() {
        phase_row(&mut out, "nginx, static JSON on `GET /healthz` (reference)", &nginx, Some(ceiling), "1 (reference)");
    }
    type Row = (&'static str, fn(&CommandRun) -> &Phase);
    let rows: [Row; 6] = [
        ("`GET /healthz` (ceiling)", |c| &c.health),
        ("`GET agentstatus` (an agent's own status)", |c| &c.status),
        ("`saybusy` / `sayfree`, alternating", |c| &c.toggle),
        ("`forcelogoutwithreason/57` / sign-in, alternating", |c| &c.sign_out_in),
        ("`forcelogoutwithreason/57` alone (each agent once)", |c| &c.sign_out),
        ("sign-in alone (bench hashing, each agent once)", |c| &c.sign_in),
    ];
    for (i, (name, row)) in rows.iter().enumerate() {
        if r.command.is_empty() {
            break;
        }
        let phases: Vec<&Phase> = r.command.iter().map(row).collect();
        let times = vs_nginx(&r.command, row).show_times(2);
        phase_row(&mut out, name, &phases, (i > 0).then_some(ceiling), &times);
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "The last two rows use {} further agents: each is signed in once, then forced out once. Sign-in \
         checks the password on the blocking thread pool, with the bench directory's cheap hash (section 4).\n",
        thousands(s.signout_agents)
    );
    if nginx.is_empty() {
        let _ = writeln!(out, "The nginx reference was not measured: {}.\n", m.nginx);
    } else {
        let tls = |f: fn(&CommandRun) -> &String| r.command.iter().map(f).find(|t| !t.is_empty()).cloned();
        let _ = writeln!(
            out,
            "The reference is nginx serving the gateway's `/healthz` body as a static answer over the same \
             certificate, with its access log on (Method, above). In each run it is loaded twice, just before \
             and just after the gateway's rows, each time with the `/healthz` row's connections, warm-up and \
             request count; its row pools the two. \"× nginx\" is each run's server CPU per request divided by \
             nginx's in the same run (all its processes), median (min–max) over the runs. TLS as the load \
             generator negotiated it: gateway `{}`, nginx `{}`.\n",
            tls(|c| &c.tls).unwrap_or_default(),
            tls(|c| &c.nginx_tls).unwrap_or_default()
        );
    }

    let _ = writeln!(out, "### 2–3. Waiting agents: memory and wake-up latency\n");
    let _ = writeln!(
        out,
        "A fresh gateway per run. RSS (`VmRSS`) is read when the gateway is idle: at start, after signing the \
         agents in (over {} connections, then closed), and after each agent opened its own HTTPS connection, \
         took its two sign-in events and sent a poll that waits (`--poll-wait-ms 300000`). Per agent = (waiting − \
         start) / agents; the two columns after it split that into the session and the connection with its \
         waiting poll. Then `forcelogoutwithreason/57` goes to every agent in a stream ({} connections, one \
         command at a time each); wake-up = time the agent's poll answer arrived − time its command's answer \
         arrived, both at the client. A negative value means the poll answer came first; those are counted \
         in the column \"poll first\".\n",
        s.concurrency, s.wake_conns
    );
    let _ = writeln!(
        out,
        "| Agents | KiB per waiting agent | session KiB | connection + poll KiB | wake-up p50 µs | p99 µs | max µs | poll first | server CPU µs per forced sign-out | failures |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|");
    for (n, runs) in &r.waiting {
        let fails: usize = runs.iter().map(|w| w.setup_failures + w.wake_failures).sum();
        let first = runs.iter().find_map(|w| w.first_setup_failure.clone().or(w.first_wake_failure.clone()));
        let fail_text = match first {
            Some(f) if fails > 0 => format!("{fails} (first: {})", f.replace('|', "\\|")),
            _ => fails.to_string(),
        };
        let _ = writeln!(
            out,
            "| {} | **{}** | {} | {} | {} | **{}** | {} | {} | {} | {} |",
            thousands(*n),
            spread(runs, WaitRun::kib_per_agent).show(1),
            spread(runs, WaitRun::session_kib_per_agent).show(1),
            spread(runs, WaitRun::connection_kib_per_agent).show(1),
            spread(runs, |w| w.wake(0.5)).show(0),
            spread(runs, |w| w.wake(0.99)).show(0),
            spread(runs, |w| w.wake(1.0)).show(0),
            spread(runs, |w| w.poll_first as f64).show(0),
            spread(runs, |w| w.stream_server_cpu_s * 1e6 / w.agents as f64).show(1),
            fail_text,
        );
    }
    out.push('\n');
    let _ = writeln!(out, "![Wake-up latency and memory per waiting agent]({chart_name})\n");

    let _ = writeln!(out, "### 4. Sign-in\n");
    let _ = writeln!(
        out,
        "Password hashing dominates sign-in. The production parameters are the gateway's `hash-password` \
         defaults, Argon2id **m = 19456 KiB, t = 2, p = 1**, checked on the blocking pool with \
         `--hash-concurrency` = CPUs (the default): {} agents over {} connections. The bench directory of the \
         other scenarios uses Argon2id m = 8 KiB, t = 1, p = 1 (the PHC string carries its parameters), so \
         that row shows the sign-in machinery without the hashing.\n",
        thousands(s.signin_agents),
        s.signin_concurrency
    );
    let _ =
        writeln!(out, "| Hashing | sign-ins | sign-ins/s | server CPU ms per sign-in | p50 ms | p99 ms | failures |");
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    let signin_row = |out: &mut String, name: &str, phases: &[&Phase]| {
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} | {} | {} | {} |",
            phases.iter().map(|p| p.requests).sum::<u64>() / phases.len().max(1) as u64,
            Spread::of(&phases.iter().map(|p| p.rps()).collect::<Vec<_>>()).show(1),
            Spread::of(&phases.iter().map(|p| p.cpu_us_per_request() / 1000.0).collect::<Vec<_>>()).show(2),
            Spread::of(&phases.iter().map(|p| p.p(0.5) / 1000.0).collect::<Vec<_>>()).show(1),
            Spread::of(&phases.iter().map(|p| p.p(0.99) / 1000.0).collect::<Vec<_>>()).show(1),
            failures(phases),
        );
    };
    if !r.signin.is_empty() {
        signin_row(&mut out, "Argon2id m=19456, t=2, p=1 (production)", &r.signin.iter().collect::<Vec<_>>());
    }
    if let Some((n, runs)) = r.waiting.last() {
        let phases: Vec<&Phase> = runs.iter().map(|w| &w.signin).collect();
        signin_row(&mut out, &format!("Argon2id m=8, t=1, p=1 (bench directory, {} agents)", thousands(*n)), &phases);
    }
    out.push('\n');

    let _ = writeln!(out, "### 5. Against Prism\n");
    if r.prism.is_empty() {
        let _ = writeln!(out, "Not run: {}\n", m.prism);
    } else {
        let _ = writeln!(
            out,
            "{}. Prism mocks `openapi/openapi.json` over **plain HTTP**; the gateway serves HTTPS, so the \
             comparison favours Prism. Same load as the `saybusy`/`sayfree` row above ({} connections, {} \
             requests per run). Prism's CPU is its whole process tree's.\n",
            m.prism,
            s.concurrency,
            thousands(s.prism_requests as usize)
        );
        let _ = writeln!(out, "| Server | requests/s | p50 µs | p99 µs | server CPU µs/request | failures |");
        let _ = writeln!(out, "|---|---|---|---|---|---|");
        let row = |out: &mut String, name: &str, phases: &[&Phase]| {
            let _ = writeln!(
                out,
                "| {name} | {} | {} | {} | {} | {} |",
                Spread::of(&phases.iter().map(|p| p.rps()).collect::<Vec<_>>()).show(0),
                Spread::of(&phases.iter().map(|p| p.p(0.5)).collect::<Vec<_>>()).show(0),
                Spread::of(&phases.iter().map(|p| p.p(0.99)).collect::<Vec<_>>()).show(0),
                Spread::of(&phases.iter().map(|p| p.cpu_us_per_request()).collect::<Vec<_>>()).show(1),
                failures(phases),
            );
        };
        row(&mut out, "agentgateway (HTTPS)", &toggle);
        row(&mut out, "Prism (HTTP)", &r.prism.iter().collect::<Vec<_>>());
        let ours = Spread::of(&toggle.iter().map(|p| p.rps()).collect::<Vec<_>>()).median;
        let theirs = Spread::of(&r.prism.iter().map(|p| p.rps()).collect::<Vec<_>>()).median;
        let ours_cpu = Spread::of(&toggle.iter().map(|p| p.cpu_us_per_request()).collect::<Vec<_>>()).median;
        let theirs_cpu = Spread::of(&r.prism.iter().map(|p| p.cpu_us_per_request()).collect::<Vec<_>>()).median;
        let _ = writeln!(
            out,
            "\nThroughput ratio: **{:.1}×** Prism's; CPU per request: Prism spends **{:.1}×** the gateway's.\n",
            ours / theirs,
            theirs_cpu / ours_cpu
        );
    }

    let _ = writeln!(out, "### Targets\n");
    let _ = writeln!(out, "| Target | Measured | Met |");
    let _ = writeln!(out, "|---|---|---|");
    let verdict = |ok: bool| if ok { "yes" } else { "**no**" };
    if !r.command.is_empty() {
        let ratio = Spread::of(&toggle.iter().map(|p| p.cpu_us_per_request()).collect::<Vec<_>>()).median / ceiling;
        let _ = writeln!(
            out,
            "| State-change command ≤ 2× the trivial route's server CPU: `saybusy`/`sayfree` | {ratio:.2}× | {} |",
            verdict(ratio <= 2.0)
        );
        let ratio = Spread::of(&sign_out.iter().map(|p| p.cpu_us_per_request()).collect::<Vec<_>>()).median / ceiling;
        let _ = writeln!(out, "| … and `forcelogoutwithreason` | {ratio:.2}× | {} |", verdict(ratio <= 2.0));
        let name = "State-change command ≤ 1.5× nginx's server CPU per request";
        let toggle = vs_nginx(&r.command, |c| &c.toggle);
        let sign_out = vs_nginx(&r.command, |c| &c.sign_out);
        if toggle.runs == 0 {
            let _ = writeln!(out, "| {name} | not measured (no nginx figure) | – |");
        } else {
            let (t, s) = (toggle.median, sign_out.median);
            let _ = writeln!(out, "| {name}: `saybusy`/`sayfree` | {t:.2}× | {} |", verdict(t <= 1.5));
            let _ = writeln!(out, "| … and `forcelogoutwithreason` | {s:.2}× | {} |", verdict(s <= 1.5));
        }
    }
    let at = |n: usize| r.waiting.iter().find(|(k, _)| *k == n).map(|(_, runs)| runs);
    match at(10_000) {
        Some(runs) => {
            let p99 = spread(runs, |w| w.wake(0.99)).median;
            let _ = writeln!(
                out,
                "| p99 wake-up ≤ 1 ms with 10,000 waiting agents | {:.3} ms | {} |",
                p99 / 1000.0,
                verdict(p99 <= 1000.0)
            );
        }
        None => {
            let _ = writeln!(out, "| p99 wake-up ≤ 1 ms with 10,000 waiting agents | not run | – |");
        }
    }
    match at(19_000) {
        Some(runs) => {
            let kib = spread(runs, WaitRun::kib_per_agent).median;
            let _ =
                writeln!(out, "| ≤ 12 KiB RSS per waiting agent at 19,000 | {kib:.1} KiB | {} |", verdict(kib <= 12.0));
        }
        None => {
            let _ = writeln!(out, "| ≤ 12 KiB RSS per waiting agent at 19,000 | not run | – |");
        }
    }
    if !r.prism.is_empty() && !r.command.is_empty() {
        let ours = Spread::of(&toggle.iter().map(|p| p.rps()).collect::<Vec<_>>()).median;
        let theirs = Spread::of(&r.prism.iter().map(|p| p.rps()).collect::<Vec<_>>()).median;
        let _ = writeln!(
            out,
            "| ≥ 15× Prism's throughput on the same command load | {:.1}× | {} |",
            ours / theirs,
            verdict(ours / theirs >= 15.0)
        );
    } else {
        let _ = writeln!(out, "| ≥ 15× Prism's throughput on the same command load | not run | – |");
    }
    out
}

/// Replaces the generated section of `path` (or writes a new file).
pub fn write_markdown(path: &Path, section: &str) -> Result<(), String> {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let new = match (old.find(START), old.find(END)) {
        (Some(a), Some(b)) if a < b => format!("{}{START}\n\n{section}\n{}", &old[..a], &old[b..]),
        _ => format!("# Benchmarks\n\n{START}\n\n{section}\n{END}\n"),
    };
    std::fs::write(path, new).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phase(cpu_us: f64) -> Phase {
        Phase { requests: 1000, seconds: 1.0, server_cpu_s: cpu_us * 1000.0 / 1e6, ..Phase::default() }
    }

    fn run(nginx: Option<f64>, health: f64, toggle: f64) -> CommandRun {
        CommandRun {
            nginx: nginx.map(phase),
            nginx_error: None,
            health: phase(health),
            status: phase(health),
            toggle: phase(toggle),
            sign_out_in: phase(toggle),
            sign_in: phase(toggle),
            sign_out: phase(toggle),
            tls: "TLSv1_3 TLS13_AES_256_GCM_SHA384 X25519".into(),
            nginx_tls: "TLSv1_3 TLS13_AES_256_GCM_SHA384 X25519".into(),
        }
    }

    #[test]
    fn ratios_to_nginx_are_taken_within_each_run() {
        // Run 2 is slower all round; its ratio is not.
        let runs = [run(Some(10.0), 11.0, 15.0), run(Some(20.0), 22.0, 36.0), run(None, 1.0, 1.0)];
        let toggle = vs_nginx(&runs, |c| &c.toggle);
        assert_eq!(toggle.runs, 2, "the run without nginx is left out");
        assert!((toggle.median - 1.65).abs() < 1e-9 && (toggle.min - 1.5).abs() < 1e-9, "{toggle:?}");
        assert_eq!(toggle.show_times(2), "1.65× (1.50–1.80)");
        assert_eq!(vs_nginx(&runs[2..], |c| &c.toggle).show_times(2), "–");
    }

    #[test]
    fn the_table_carries_the_nginx_column_and_target() {
        let results = Results {
            meta: Meta { nginx: "nginx/1.22.1; 2 worker processes".into(), ..Meta::default() },
            sizes: crate::options::parse(&["--smoke".to_owned()]).unwrap().sizes,
            command: vec![run(Some(10.0), 11.0, 16.0)],
            waiting: Vec::new(),
            signin: Vec::new(),
            prism: Vec::new(),
            errors: Vec::new(),
        };
        let text = markdown(&results, "chart.svg");
        assert!(text.contains("| vs ceiling | × nginx |"), "{text}");
        assert!(text.contains("(reference) | 1000 |"), "{text}");
        assert!(text.contains("| 0.91× | 1 (reference) |"), "{text}");
        assert!(text.contains("| 1 (ceiling) | 1.10× |"), "{text}");
        assert!(text.contains("`GET agentstatus`"), "{text}");
        assert!(
            text.contains("≤ 1.5× nginx's server CPU per request: `saybusy`/`sayfree` | 1.60× | **no** |"),
            "{text}"
        );
        assert!(text.contains("- Reference server: nginx/1.22.1"), "{text}");
    }
}
