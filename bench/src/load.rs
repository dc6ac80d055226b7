//! Load shapes: many keep-alive connections, each driving its own agents
//! one request at a time, bounded in count and in time.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::Method;
use tokio::sync::Semaphore;

use crate::client::{Conn, Tls};
use crate::procfs;
use crate::stats::{percentile, sorted};
use crate::target::Target;

pub const BASE: &str = "/agentgateway/resource";
/// The password of every agent in the benchmark directories.
pub const PASSWORD: &str = "Bench@123";

/// One agent as the load generator tracks it.
#[derive(Debug, Clone)]
pub struct Agent {
    pub work_no: u32,
    pub guid: Option<String>,
    pub busy: bool,
}

impl Agent {
    pub fn new(work_no: u32) -> Agent {
        Agent { work_no, guid: None, busy: false }
    }
}

pub fn login_body(work_no: u32) -> Bytes {
    Bytes::from(format!(r#"{{"password":"{PASSWORD}","phonenum":"{work_no}"}}"#))
}

/// What each request of a phase does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `GET /healthz`: the trivial route, the ceiling.
    Health,
    /// `GET agentstatus` of the agent itself: a query (no state change, no audit record).
    Status,
    /// `saybusy?reason=201` and `sayfree`, alternating per agent.
    Toggle,
    /// `forcelogoutwithreason/57` and sign-in again, alternating per agent.
    SignOutIn,
    /// `forcelogoutwithreason/57` (each agent once).
    SignOut,
    /// Sign in (each agent once; the phase's request count is the agents').
    SignIn,
}

/// Why one request did not succeed.
pub enum Failed {
    /// The connection is unusable.
    Transport(String),
    /// An answer other than the expected one.
    Answer(String),
}

fn expect_ok(reply: crate::client::Reply, what: &str) -> Result<crate::client::Reply, Failed> {
    if reply.ok() {
        Ok(reply)
    } else {
        Err(Failed::Answer(format!("{what}: {}", reply.describe())))
    }
}

/// One request of `op` for `agent` on `conn`.
pub async fn step(conn: &mut Conn, agent: &mut Agent, op: Op) -> Result<(), Failed> {
    let wn = agent.work_no;
    match op {
        Op::Health => {
            let reply = conn.send(Method::GET, "/healthz", None, None).await.map_err(Failed::Transport)?;
            if reply.status == 200 && &reply.body[..] == br#"{"message":"alive","retcode":"0"}"# {
                Ok(())
            } else {
                Err(Failed::Answer(format!("healthz: {}", reply.describe())))
            }
        }
        Op::Status => {
            let guid = agent.guid.clone().ok_or_else(|| Failed::Answer(format!("agent {wn} not signed in")))?;
            let path = format!("{BASE}/onlineagent/{wn}/agentstatus");
            let reply = conn.send(Method::GET, &path, Some(&guid), None).await.map_err(Failed::Transport)?;
            let reply = expect_ok(reply, "agentstatus")?;
            if reply.set_guid.is_some() {
                agent.guid = reply.set_guid;
            }
            Ok(())
        }
        Op::Toggle => {
            let guid = agent.guid.clone().ok_or_else(|| Failed::Answer(format!("agent {wn} not signed in")))?;
            let path = if agent.busy {
                format!("{BASE}/onlineagent/{wn}/sayfree")
            } else {
                format!("{BASE}/onlineagent/{wn}/saybusy?reason=201")
            };
            let reply = conn.send(Method::POST, &path, Some(&guid), None).await.map_err(Failed::Transport)?;
            expect_ok(reply, if agent.busy { "sayfree" } else { "saybusy" })?;
            agent.busy = !agent.busy;
            Ok(())
        }
        Op::SignOut | Op::SignOutIn if agent.guid.is_some() => {
            let path = format!("{BASE}/onlineagent/{wn}/forcelogoutwithreason/57");
            let reply =
                conn.send(Method::DELETE, &path, agent.guid.as_deref(), None).await.map_err(Failed::Transport)?;
            expect_ok(reply, "forcelogoutwithreason")?;
            agent.guid = None;
            agent.busy = false;
            Ok(())
        }
        Op::SignOut => Err(Failed::Answer(format!("agent {wn} is not signed in"))),
        Op::SignOutIn | Op::SignIn => {
            let path = format!("{BASE}/onlineagent/{wn}");
            let reply = conn.send(Method::PUT, &path, None, Some(login_body(wn))).await.map_err(Failed::Transport)?;
            let reply = expect_ok(reply, "login")?;
            agent.guid = Some(reply.set_guid.ok_or_else(|| Failed::Answer("login without Set-GUID".into()))?);
            agent.busy = false;
            Ok(())
        }
    }
}

/// A connection and the agents it drives.
pub struct Lane {
    pub conn: Conn,
    pub agents: Vec<Agent>,
}

/// Opens `count` connections, at most `at_once` handshakes at a time.
pub async fn open_many(target: &Target, tls: Option<&Tls>, count: usize, at_once: usize) -> Result<Vec<Conn>, String> {
    let gate = Arc::new(Semaphore::new(at_once.max(1)));
    let mut handles = Vec::with_capacity(count);
    for _ in 0..count {
        let (target, tls, gate) = (*target, tls.cloned(), gate.clone());
        handles.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await.map_err(|e| e.to_string())?;
            Conn::open(&target, tls.as_ref()).await
        }));
    }
    let mut conns = Vec::with_capacity(count);
    for handle in handles {
        conns.push(handle.await.map_err(|e| e.to_string())??);
    }
    Ok(conns)
}

/// Deals agents to connections round-robin.
pub fn lanes(conns: Vec<Conn>, agents: Vec<Agent>) -> Vec<Lane> {
    let n = conns.len().max(1);
    let mut lanes: Vec<Lane> = conns.into_iter().map(|conn| Lane { conn, agents: Vec::new() }).collect();
    for (i, agent) in agents.into_iter().enumerate() {
        lanes[i % n].agents.push(agent);
    }
    lanes
}

/// What one phase measured.
#[derive(Debug, Clone, Default)]
pub struct Phase {
    pub requests: u64,
    pub failures: u64,
    pub first_failure: Option<String>,
    pub seconds: f64,
    pub server_cpu_s: f64,
    pub client_cpu_s: f64,
    /// Request latencies in µs, sorted.
    pub latencies_us: Vec<f64>,
}

impl Phase {
    pub fn rps(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
    pub fn cpu_us_per_request(&self) -> f64 {
        self.server_cpu_s * 1e6 / self.requests as f64
    }
    pub fn client_cpu_us_per_request(&self) -> f64 {
        self.client_cpu_s * 1e6 / self.requests as f64
    }
    pub fn p(&self, q: f64) -> f64 {
        percentile(&self.latencies_us, q)
    }

    /// Two loads of the same shape as one: counts, times and CPU added,
    /// latencies merged.
    pub fn pooled(mut self, other: Phase) -> Phase {
        self.requests += other.requests;
        self.failures += other.failures;
        self.first_failure = self.first_failure.or(other.first_failure);
        self.seconds += other.seconds;
        self.server_cpu_s += other.server_cpu_s;
        self.client_cpu_s += other.client_cpu_s;
        self.latencies_us.extend(other.latencies_us);
        self.latencies_us = sorted(self.latencies_us);
        self
    }
}

/// Runs `op` on every lane until `requests` were sent or `limit` passed.
/// For [`Op::SignIn`] and [`Op::SignOut`] each lane does each of its agents once.
pub async fn run(server_pid: u32, lanes: Vec<Lane>, op: Op, requests: u64, limit: Duration) -> (Vec<Lane>, Phase) {
    let deadline = Instant::now() + limit;
    let budget = Arc::new(AtomicI64::new(requests.min(i64::MAX as u64) as i64));
    let cpu_before = procfs::tree_cpu_seconds(server_pid);
    let client_before = procfs::self_cpu_seconds();
    let started = Instant::now();
    let mut handles = Vec::with_capacity(lanes.len());
    for mut lane in lanes {
        let budget = budget.clone();
        handles.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let (mut failures, mut first) = (0u64, None);
            let rounds = if matches!(op, Op::SignIn | Op::SignOut) { lane.agents.len() } else { usize::MAX };
            let mut k = 0usize;
            while k < rounds && Instant::now() < deadline && budget.fetch_sub(1, Ordering::Relaxed) > 0 {
                let count = lane.agents.len();
                let mut none = Agent::new(0);
                let agent = if count == 0 { &mut none } else { &mut lane.agents[k % count] };
                k += 1;
                let t0 = Instant::now();
                let outcome = step(&mut lane.conn, agent, op).await;
                latencies.push(t0.elapsed().as_nanos() as f64 / 1000.0);
                match outcome {
                    Ok(()) => {}
                    Err(Failed::Answer(e)) => {
                        failures += 1;
                        first.get_or_insert(e);
                    }
                    Err(Failed::Transport(e)) => {
                        failures += 1;
                        first.get_or_insert(e);
                        break;
                    }
                }
            }
            (lane, latencies, failures, first)
        }));
    }
    let mut phase = Phase::default();
    let mut all = Vec::new();
    let mut back = Vec::new();
    for handle in handles {
        let (lane, latencies, failures, first) = handle.await.expect("load task");
        phase.requests += latencies.len() as u64;
        phase.failures += failures;
        if phase.first_failure.is_none() {
            phase.first_failure = first;
        }
        all.extend(latencies);
        back.push(lane);
    }
    phase.seconds = started.elapsed().as_secs_f64();
    phase.server_cpu_s = procfs::tree_cpu_seconds(server_pid) - cpu_before;
    phase.client_cpu_s = procfs::self_cpu_seconds() - client_before;
    phase.latencies_us = sorted(all);
    (back, phase)
}

#[cfg(test)]
mod tests {
    use super::Phase;

    #[test]
    fn pooled_phases_add_up() {
        let a = Phase {
            requests: 100,
            seconds: 1.0,
            server_cpu_s: 0.001,
            latencies_us: vec![1.0, 3.0],
            ..Phase::default()
        };
        let b = Phase { requests: 300, seconds: 1.0, server_cpu_s: 0.005, latencies_us: vec![2.0], ..Phase::default() };
        let p = a.pooled(b);
        assert_eq!((p.requests, p.rps(), p.latencies_us.clone()), (400, 200.0, vec![1.0, 2.0, 3.0]));
        assert!((p.cpu_us_per_request() - 15.0).abs() < 1e-9);
    }
}
