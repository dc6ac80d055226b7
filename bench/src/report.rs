//! The results: a Markdown section in `docs/benchmarks.md` (between
//! markers, so the hand-written analysis around it stays) and an SVG chart.

use std::fmt::Write as _;
use std::path::Path;

use plotters::prelude::*;

use crate::load::Phase;
use crate::scenarios::{CommandRun, Sizes, WaitRun};
use crate::stats::Spread;

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

fn spread<T>(runs: &[T], f: impl Fn(&T) -> f64) -> Spread {
    Spread::of(&runs.iter().map(f).collect::<Vec<_>>())
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

fn phase_row(out: &mut String, name: &str, phases: &[&Phase], ceiling: Option<f64>) {
    let cpu = Spread::of(&phases.iter().map(|p| p.cpu_us_per_request()).collect::<Vec<_>>());
    let ratio = ceiling.map_or("1 (ceiling)".into(), |c| format!("{:.2}×", cpu.median / c));
    let _ = writeln!(
        out,
        "| {name} | {} | {} | {} | {} | {} | **{}** | {ratio} | {} | {} |",
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
        "| Load | requests | requests/s | p50 µs | p99 µs | p99.9 µs | server CPU µs/request | vs ceiling | client CPU µs/request | failures |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|");
    let health: Vec<&Phase> = r.command.iter().map(|c| &c.health).collect();
    let toggle: Vec<&Phase> = r.command.iter().map(|c| &c.toggle).collect();
    let cycle: Vec<&Phase> = r.command.iter().map(|c| &c.sign_out_in).collect();
    let sign_out: Vec<&Phase> = r.command.iter().map(|c| &c.sign_out).collect();
    let sign_in: Vec<&Phase> = r.command.iter().map(|c| &c.sign_in).collect();
    let ceiling = Spread::of(&health.iter().map(|p| p.cpu_us_per_request()).collect::<Vec<_>>()).median;
    if !r.command.is_empty() {
        phase_row(&mut out, "`GET /healthz` (ceiling)", &health, None);
        phase_row(&mut out, "`saybusy` / `sayfree`, alternating", &toggle, Some(ceiling));
        phase_row(&mut out, "`forcelogoutwithreason/57` / sign-in, alternating", &cycle, Some(ceiling));
        phase_row(&mut out, "`forcelogoutwithreason/57` alone (each agent once)", &sign_out, Some(ceiling));
        phase_row(&mut out, "sign-in alone (bench hashing, each agent once)", &sign_in, Some(ceiling));
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "The last two rows use {} further agents: each is signed in once, then forced out once. Sign-in \
         checks the password on the blocking thread pool, with the bench directory's cheap hash (section 4).\n",
        thousands(s.signout_agents)
    );

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

const TARGET: RGBColor = RGBColor(230, 120, 0);

/// Wake-up latency and memory per waiting agent against the number of agents.
pub fn chart(path: &Path, waiting: &[(usize, Vec<WaitRun>)]) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| format!("chart {}: {e}", path.display());
    let root = SVGBackend::new(path, (1000, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let (left, right) = root.split_horizontally(500);
    let max_n = waiting.iter().map(|(n, _)| *n).max().unwrap_or(1) as f64 * 1.05;
    let series = |f: &dyn Fn(&WaitRun) -> f64| -> Vec<(f64, f64)> {
        waiting.iter().map(|(n, runs)| (*n as f64, spread(runs, f).median)).collect()
    };
    let p50 = series(&|w| w.wake(0.5) / 1000.0);
    let p99 = series(&|w| w.wake(0.99) / 1000.0);
    let kib = series(&|w| w.kib_per_agent());
    let top = |points: &[(f64, f64)], target: f64| {
        points.iter().map(|p| p.1).filter(|v| v.is_finite()).fold(target, f64::max) * 1.2
    };

    let mut latency = ChartBuilder::on(&left)
        .caption("Wake-up latency (forced sign-out → poll answer)", ("sans-serif", 16))
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(0f64..max_n, 0f64..top(&p99, 1.0))
        .map_err(|e| err(&e))?;
    latency
        .configure_mesh()
        .light_line_style(WHITE)
        .x_desc("waiting agents")
        .y_desc("ms")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .draw()
        .map_err(|e| err(&e))?;
    latency
        .draw_series(DashedLineSeries::new([(0.0, 1.0), (max_n, 1.0)], 8, 5, TARGET.stroke_width(2)))
        .map_err(|e| err(&e))?
        .label("target: p99 ≤ 1 ms")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], TARGET.stroke_width(2)));
    latency
        .draw_series(LineSeries::new(p99.clone(), RED.stroke_width(2)).point_size(3))
        .map_err(|e| err(&e))?
        .label("p99")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], RED));
    latency
        .draw_series(LineSeries::new(p50.clone(), BLUE.stroke_width(2)).point_size(3))
        .map_err(|e| err(&e))?
        .label("p50")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], BLUE));
    latency
        .configure_series_labels()
        .position(SeriesLabelPosition::MiddleRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK.mix(0.3))
        .draw()
        .map_err(|e| err(&e))?;

    let mut memory = ChartBuilder::on(&right)
        .caption("RSS per waiting agent (TLS connection + poll + session)", ("sans-serif", 16))
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(56)
        .build_cartesian_2d(0f64..max_n, 0f64..top(&kib, 12.0))
        .map_err(|e| err(&e))?;
    memory
        .configure_mesh()
        .light_line_style(WHITE)
        .x_desc("waiting agents")
        .y_desc("KiB per agent")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .draw()
        .map_err(|e| err(&e))?;
    memory
        .draw_series(DashedLineSeries::new([(0.0, 12.0), (max_n, 12.0)], 8, 5, TARGET.stroke_width(2)))
        .map_err(|e| err(&e))?
        .label("target: ≤ 12 KiB")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], TARGET.stroke_width(2)));
    memory
        .draw_series(LineSeries::new(kib.clone(), RGBColor(0, 140, 60).stroke_width(2)).point_size(3))
        .map_err(|e| err(&e))?
        .label("KiB per waiting agent")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], RGBColor(0, 140, 60)));
    memory
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK.mix(0.3))
        .draw()
        .map_err(|e| err(&e))?;
    root.present().map_err(|e| err(&e))?;
    Ok(())
}
