//! The harness's command line: what to run and at which sizes.

use std::path::PathBuf;
use std::time::Duration;

use crate::scenarios::Sizes;

pub const USAGE: &str = "\
agentgateway-bench: benchmarks a gateway it starts itself on 127.0.0.1.

USAGE: cargo run --release -p agentgateway-bench [-- OPTIONS]

  --smoke               tiny numbers, debug gateway, no Prism, no 19,000; writes to target/bench-smoke/
  --runs N              runs per figure [3]
  --only LIST           scenarios to run, comma-separated: command,waiting,signin,prism [all]
  --waiting LIST        numbers of waiting agents [1000,5000,10000,19000]
  --requests N          requests per load of scenario 1 [40000]
  --wake-conns N        connections sending the forced sign-outs of scenario 2 [1]
  --no-prism            skip the Prism comparison
  --no-nginx            skip the nginx reference of scenario 1 (otherwise apt-get installs nginx-light if missing)
  --out DIR             where benchmarks.md and benchmarks.svg go [docs]
  --gateway-arg ARG     extra flag for the gateway (repeatable), e.g. --gateway-arg=--workers=1
  --gateway-env K=V     extra environment variable for the gateway (repeatable; profiling)
  --help
";

/// What the command line asked for.
#[derive(Debug)]
pub struct Options {
    pub help: bool,
    pub smoke: bool,
    pub only: Vec<String>,
    pub prism: bool,
    pub nginx: bool,
    pub out: Option<PathBuf>,
    pub gateway_args: Vec<String>,
    pub gateway_env: Vec<(String, String)>,
    pub sizes: Sizes,
}

impl Options {
    /// Whether scenario `name` runs.
    pub fn wants(&self, name: &str) -> bool {
        self.only.iter().any(|x| x == name)
    }
}

fn parse_list(text: &str) -> Result<Vec<usize>, String> {
    text.split(',').map(|n| n.trim().parse::<usize>().map_err(|_| format!("not a number: {n}"))).collect()
}

fn sizes(smoke: bool) -> Sizes {
    if smoke {
        Sizes {
            runs: 1,
            command_agents: 20,
            signout_agents: 30,
            concurrency: 4,
            requests: 300,
            warmup: 50,
            waiting: vec![20, 50],
            wake_conns: 2,
            signin_agents: 4,
            signin_concurrency: 2,
            prism_requests: 0,
            phase_limit: Duration::from_secs(30),
        }
    } else {
        Sizes {
            runs: 3,
            command_agents: 1000,
            signout_agents: 15_000,
            concurrency: 64,
            requests: 40_000,
            warmup: 4_000,
            waiting: vec![1000, 5000, 10_000, 19_000],
            wake_conns: 1,
            signin_agents: 100,
            signin_concurrency: 8,
            prism_requests: 5_000,
            phase_limit: Duration::from_secs(120),
        }
    }
}

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Options, String> {
    let smoke = args.iter().any(|a| a == "--smoke");
    let mut o = Options {
        help: false,
        smoke,
        only: vec!["command".into(), "waiting".into(), "signin".into(), "prism".into()],
        prism: !smoke,
        nginx: true,
        out: None,
        gateway_args: Vec::new(),
        gateway_env: Vec::new(),
        sizes: sizes(smoke),
    };
    let mut it = args.iter().cloned();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = || inline.clone().or_else(|| it.next()).ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--smoke" => {}
            "--help" | "-h" => o.help = true,
            "--runs" => o.sizes.runs = value()?.parse().map_err(|_| "--runs: not a number")?,
            "--only" => o.only = value()?.split(',').map(str::to_owned).collect(),
            "--waiting" => o.sizes.waiting = parse_list(&value()?)?,
            "--requests" => o.sizes.requests = value()?.parse().map_err(|_| "--requests: not a number")?,
            "--wake-conns" => o.sizes.wake_conns = value()?.parse().map_err(|_| "--wake-conns: not a number")?,
            "--no-prism" => o.prism = false,
            "--no-nginx" => o.nginx = false,
            "--out" => o.out = Some(PathBuf::from(value()?)),
            "--gateway-arg" => o.gateway_args.push(value()?),
            "--gateway-env" => {
                let v = value()?;
                let (k, v) = v.split_once('=').ok_or("--gateway-env needs KEY=VALUE")?;
                o.gateway_env.push((k.to_owned(), v.to_owned()));
            }
            other => return Err(format!("unknown option {other}\n\n{USAGE}")),
        }
    }
    if o.sizes.runs == 0 || o.sizes.wake_conns == 0 || o.sizes.waiting.iter().any(|n| *n == 0 || *n > 19_500) {
        return Err(
            "--runs and --wake-conns must be positive, each --waiting number 1..=19500 (open-file limit)".into()
        );
    }
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::parse;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn defaults_and_smoke_sizes() {
        let full = parse(&[]).unwrap();
        assert_eq!((full.sizes.runs, full.sizes.requests, full.sizes.concurrency), (3, 40_000, 64));
        assert!(full.prism && full.nginx && full.wants("command") && full.wants("prism"));
        let smoke = parse(&args("--smoke")).unwrap();
        assert_eq!((smoke.sizes.runs, smoke.sizes.requests), (1, 300));
        assert!(!smoke.prism && smoke.nginx);
        assert!(!parse(&args("--smoke --no-nginx")).unwrap().nginx);
    }

    #[test]
    fn flags_with_inline_or_separate_values() {
        let o = parse(&args(
            "--runs=2 --only command,signin --waiting 10,20 --gateway-arg=--workers=1 --gateway-env K=V=W",
        ))
        .unwrap();
        assert_eq!(o.sizes.runs, 2);
        assert!(o.wants("signin") && !o.wants("waiting"));
        assert_eq!(o.sizes.waiting, vec![10, 20]);
        assert_eq!(o.gateway_args, vec!["--workers=1".to_owned()]);
        assert_eq!(o.gateway_env, vec![("K".to_owned(), "V=W".to_owned())]);
        assert!(parse(&args("--help")).unwrap().help);
    }

    #[test]
    fn refuses_what_cannot_run() {
        for bad in ["--runs 0", "--waiting 0", "--waiting 20000", "--runs", "--frobnicate", "--gateway-env K"] {
            assert!(parse(&args(bad)).is_err(), "{bad} was accepted");
        }
    }
}
