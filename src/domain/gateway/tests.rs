//! The gateway's own rules, tested without HTTP: the audited-operation rule
//! with a trail that can be made to fail, sign-in claims, shutdown.

use super::Caller;
use super::Gateway;
use super::GatewayConfig;
use super::LockoutPolicy;
use super::Purpose;
use crate::domain::audit::Action;
use crate::domain::audit::AuditTrail;
use crate::domain::audit::Origin;
use crate::domain::audit::{ActionRecord, AuditError, Record, Recording, RequestId, TrailStats};
use crate::domain::directory::Directory;
use crate::domain::directory::DEMO_DIRECTORY;
use crate::domain::ids::WorkNo;
use crate::domain::requests::SignInKind;
use crate::domain::requests::SignInRequest;
use crate::domain::session::AuthMode;
use crate::domain::session::GuidPolicy;
use crate::domain::state::Command;
use crate::retcode::Retcode;
use crate::store::MemoryStore;
use crate::telemetry::Telemetry;
use parking_lot::Mutex;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// A trail that keeps each record's action and retcode, and can be
/// made to refuse what it is given.
#[derive(Default)]
struct Trail {
    kept: Mutex<Vec<(String, &'static str)>>,
    fallback: Mutex<Vec<String>>,
    failing: std::sync::atomic::AtomicBool,
}

impl AuditTrail for Trail {
    fn record(&self, records: &[ActionRecord<'_>]) -> Recording {
        let failing = self.failing.load(Ordering::Relaxed);
        for record in records {
            let line = (record.action.name().to_owned(), record.retcode.code());
            match failing {
                false => self.kept.lock().push(line),
                true if record.action.goes_ahead_unrecorded() => self.fallback.lock().push(line.0),
                true => {}
            }
        }
        let outcome = if failing { Err(AuditError("disk full".into())) } else { Ok(()) };
        Box::pin(std::future::ready(outcome))
    }

    fn is_writable(&self) -> bool {
        !self.failing.load(Ordering::Relaxed)
    }

    fn search(
        &self,
        _: std::ops::Range<u64>,
        _: &mut dyn FnMut(&Record) -> bool,
        _: usize,
        _: usize,
    ) -> Result<(Vec<Record>, usize), AuditError> {
        Ok((Vec::new(), 0))
    }

    fn stats(&self) -> TrailStats {
        TrailStats::default()
    }
}

fn gateway(poll_wait_ms: u64, trail: Arc<Trail>) -> Gateway {
    gateway_with(poll_wait_ms, 120_000, trail)
}

fn gateway_with(poll_wait_ms: u64, heartbeat_timeout_ms: u64, trail: Arc<Trail>) -> Gateway {
    let config = GatewayConfig {
        guid: GuidPolicy { mode: AuthMode::Static, interval_ms: 60_000, timeout_ms: 120_000, node: 0 },
        poll_wait_ms,
        heartbeat_timeout_ms,
        queue_capacity: 10,
        server_name: "AgentGateway".into(),
        hash_concurrency: 1,
        strict_reasons: false,
        lockout: LockoutPolicy { attempts: 5, base_ms: 60_000, max_ms: 900_000 },
    };
    let directory = Directory::parse(DEMO_DIRECTORY).unwrap();
    Gateway::new(config, directory, Arc::new(MemoryStore::default()), trail, Telemetry::new())
}

fn origin() -> Origin {
    Origin { request_id: RequestId::new(), ip: None }
}

/// The demo directory's sign-in of `agent` through `kind`.
fn request(agent: u32, kind: SignInKind) -> SignInRequest {
    let inspector = agent >= 900;
    SignInRequest {
        kind,
        password: if inspector { "Super@123" } else { "Agent@123" }.into(),
        phone: (!inspector).then(|| (7000 + agent).to_string()),
        auto_answer: true,
        auto_enter_idle: true,
        release_phone: None,
        agent_type: 4,
        status: crate::domain::state::InitialState::Idle,
        ip: "127.0.0.1".into(),
        check_in_webm: true,
        check_in_mailm: false,
        listen_status: false,
    }
}

async fn sign_in(gateway: &Gateway, agent: u32) -> Caller {
    let work_no = WorkNo::new(agent).unwrap();
    let signed_in = gateway.sign_in(work_no, request(agent, SignInKind::Login), &origin()).await.unwrap();
    gateway.authenticate(work_no, signed_in.guid.as_str(), Purpose::Command).await.unwrap()
}

#[tokio::test]
async fn a_sign_in_in_progress_refuses_another_sign_in_and_a_sign_out_of_the_agent() {
    let gateway = gateway(60_000, Arc::default());
    let caller = sign_in(&gateway, 101).await;
    let work_no = caller.work_no;
    // A forcelogin of the agent is in progress while the claim is held.
    let claim = gateway.claim(work_no).unwrap();
    let again = gateway.sign_in(work_no, request(101, SignInKind::ForceLogin), &origin()).await;
    assert_eq!(again.unwrap_err().code, Retcode::SignInInProgress);
    let out = gateway.sign_out(&caller, &origin(), Action::Logout).await;
    assert_eq!(out.unwrap_err().code, Retcode::RepeatedCall);
    drop(claim);
    // Nothing changed: the session is still live, and signs out now.
    gateway.sign_out(&caller, &origin(), Action::Logout).await.unwrap();
    let twice = gateway.sign_out(&caller, &origin(), Action::Logout).await;
    assert_eq!(twice.unwrap_err().code, Retcode::AlreadySignedOut);
}

#[tokio::test]
async fn a_stopping_gateway_is_not_ready_and_its_polls_do_not_wait() {
    let gateway = gateway(60_000, Arc::default());
    assert_eq!(gateway.readiness().await, Ok(()));
    let caller = sign_in(&gateway, 101).await;
    for _ in 0..2 {
        assert!(gateway.poll(&caller, None).await.unwrap().event.is_some());
    }
    gateway.shut_down();
    assert_eq!(gateway.readiness().await.unwrap_err().detail, "shutting down");
    // The poll wait is a minute: only the shutdown can answer this in time.
    let answer = tokio::time::timeout(Duration::from_secs(10), gateway.poll(&caller, None)).await;
    assert!(answer.expect("answered without waiting").unwrap().event.is_none());
}

#[tokio::test]
async fn a_command_whose_record_is_refused_changes_nothing_but_sign_outs_go_ahead() {
    let trail = Arc::new(Trail::default());
    let gateway = gateway(10, trail.clone());
    let agent = sign_in(&gateway, 101).await;
    let inspector = sign_in(&gateway, 999).await;
    gateway.command(&agent, &origin(), Command::SayFree).await.expect_err("already idle: 100-009");
    trail.failing.store(true, Ordering::Relaxed);
    let busy = Command::SayBusy { reason: crate::domain::params::BusyReason::NONE, prolong: None };
    let refused = gateway.command(&agent, &origin(), busy).await.unwrap_err();
    assert_eq!(refused.code, Retcode::Internal);
    assert_eq!(gateway.status(&agent).await.unwrap().state, 4, "still idle");
    // A supervisor's sign-out goes ahead; its record waits in the fallback.
    let target = agent.work_no;
    gateway.force_sign_out(&inspector, &origin(), target, Action::ForceLogOutAgent).await.unwrap();
    assert_eq!(gateway.status(&agent).await.unwrap_err().code, Retcode::NotSignedIn);
    assert_eq!(*trail.fallback.lock(), ["forceLogOutAgent"]);
    let kept: Vec<(String, &str)> = trail.kept.lock().clone();
    let expected = [("login", "0"), ("login", "0"), ("sayFree", "100-009")];
    assert_eq!(kept, expected.map(|(a, r)| (a.to_owned(), r)), "the refused command left no record");
}

#[tokio::test]
async fn the_heartbeat_timeout_goes_ahead_while_the_trail_cannot_be_written() {
    let trail = Arc::new(Trail::default());
    let gateway = gateway_with(1, 20, trail.clone());
    let agent = sign_in(&gateway, 101).await;
    trail.failing.store(true, Ordering::Relaxed);
    // Silence is what only time brings: sweep until the agent is out.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while gateway.sweep().await.unwrap() == 0 {
        assert!(std::time::Instant::now() < deadline, "not signed out within 10 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(gateway.status(&agent).await.unwrap_err().code, Retcode::NotSignedIn);
    assert_eq!(*trail.fallback.lock(), ["heartbeatTimeout"]);
}
