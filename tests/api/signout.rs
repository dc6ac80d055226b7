//! Sign-out in all its forms, and the final `AgentOther_ShutdownService`.

use std::time::{Duration, Instant};

use crate::helpers::{eventually, spawn_app, spawn_app_with};

#[tokio::test]
async fn reasons_outside_1_to_255_get_100_005_and_leave_the_agent_as_it_was() {
    let app = spawn_app().await;
    let guid = app.sign_in(101).await;
    app.say_busy(101, &guid, "?reason=220").await.expect("0");
    app.drain(101, &guid).await;
    for reason in ["0", "256", "-1", "abc", "1.5", "65536", "", "%20", "1e2", "９"] {
        let answer = app.force_logout_with_reason(101, &guid, reason).await;
        assert_eq!(answer.retcode(), "100-005", "reason {reason:?}: {}", answer.body);
    }
    assert_eq!(app.state_of(101, &guid).await, 3, "still busy");
    assert!(app.drain(101, &guid).await.is_empty(), "no event for a refused sign-out");
}

#[tokio::test]
async fn forced_sign_out_with_a_reason_works_from_every_state() {
    let app = spawn_app().await;
    for (agent, reason) in [(101u32, "1"), (102, "57"), (103, "200"), (104, "255")] {
        let guid = app.sign_in(agent).await;
        match agent {
            102 => app.say_busy(agent, &guid, "?reason=205").await,
            103 => app.rest(agent, &guid, "600", "3", "").await,
            104 => app.work(agent, &guid).await,
            _ => app.agent_status(agent, &guid).await,
        }
        .expect("0");
        let login_time = app.next_event(agent, &guid).await["eventGenTime"].as_u64().unwrap();
        app.force_logout_with_reason(agent, &guid, reason).await.expect("0");
        // Every interface but the final poll rejects the Guid at once.
        app.agent_status(agent, &guid).await.expect("100-006");
        app.say_free(agent, &guid).await.expect("100-006");
        let events = app.drain_until_shutdown(agent, &guid).await;
        let last = events.last().unwrap();
        assert_eq!(last["content"]["reason"], reason);
        assert_eq!(last["content"]["loginTime"], login_time.to_string());
        assert_eq!(last["content"]["initiator"], "self");
        app.poll(agent, &guid, "").await.expect("100-006");
        app.sign_in(agent).await;
    }
}

#[tokio::test]
async fn a_waiting_poll_is_answered_by_the_sign_out_not_by_its_timer() {
    let app = spawn_app_with(|s| {
        crate::helpers::with_metrics(s);
        s.gateway.poll_wait_ms = 20_000;
    })
    .await;
    let guid = app.sign_in(101).await;
    app.drain_n(101, &guid, 2).await;
    let started = Instant::now();
    let poll = app.poll(101, &guid, "");
    let sign_out = async {
        // Once the gateway counts the poll as waiting, the sign-out must wake it.
        crate::helpers::eventually(Duration::from_secs(10), || async {
            (app.metric("agentgateway_polls_waiting").await == 1.0).then_some(())
        })
        .await;
        app.force_logout_with_reason(101, &guid, "42").await
    };
    let (answer, signed_out) = tokio::join!(poll, sign_out);
    signed_out.expect("0");
    answer.expect("0");
    assert_eq!(answer.event()["eventType"], "AgentOther_ShutdownService");
    assert!(started.elapsed() < Duration::from_secs(10), "answered by the timer, not the event");
}

#[tokio::test]
async fn logout_and_forcelogout_queue_the_same_event_with_reason_258() {
    let app = spawn_app().await;
    let a = app.sign_in(101).await;
    let b = app.sign_in(102).await;
    app.logout(101, &a).await.expect("0");
    let plain = app.force_logout(102, &b).await;
    plain.expect("0");
    assert!(plain.body.get("result").is_none(), "forcelogout answers without result");
    for (agent, guid) in [(101, &a), (102, &b)] {
        let last = app.drain_until_shutdown(agent, guid).await.pop().unwrap();
        assert_eq!(last["content"]["reason"], "258");
    }
}

#[tokio::test]
async fn signing_out_a_session_again_gets_100_008_and_a_guid_that_never_was_100_006_or_000_003() {
    let app = spawn_app_with(|s| {
        s.gateway.heartbeat_timeout_ms = 1_000;
        s.gateway.poll_wait_ms = 100;
    })
    .await;
    let old = app.sign_in(101).await;
    app.logout(101, &old).await.expect("0");
    // Every sign-out interface, before and after the final poll.
    app.logout(101, &old).await.expect("100-008");
    app.force_logout(101, &old).await.expect("100-008");
    app.drain_until_shutdown(101, &old).await;
    app.force_logout_with_reason(101, &old, "5").await.expect("100-008");
    let never = "279fe21d-2caa-4437-84c3-ab9e9dae20f5.AgentGateway0";
    app.logout(101, never).await.expect("100-006");
    let live = app.sign_in(101).await;
    app.logout(101, never).await.expect("000-003");
    app.logout(101, &old).await.expect("100-008");
    app.say_free(101, &old).await.expect("100-006");
    assert_eq!(app.state_of(101, &live).await, 4, "the new session is untouched");
    // Once the gateway has forgotten the old session, its Guid names nothing.
    app.logout(101, &live).await.expect("0");
    eventually(Duration::from_secs(5), || async { (app.logout(101, &old).await.retcode() == "100-006").then_some(()) })
        .await;
}

#[tokio::test]
async fn a_silent_agent_is_signed_out_with_reason_263() {
    let app = spawn_app_with(|s| {
        s.gateway.heartbeat_timeout_ms = 400;
        s.gateway.poll_wait_ms = 100;
    })
    .await;
    let guid = app.sign_in(101).await;
    eventually(Duration::from_secs(5), || async {
        (app.agent_status(101, &guid).await.retcode() == "100-006").then_some(())
    })
    .await;
    let last = app.drain_until_shutdown(101, &guid).await.pop().unwrap();
    assert_eq!(
        (last["content"]["reason"].as_str(), last["content"]["initiator"].as_str()),
        (Some("263"), Some("system:heartbeat-timeout"))
    );
    app.sign_in(101).await;
}

#[tokio::test]
async fn an_agent_that_keeps_polling_stays_signed_in() {
    let app = spawn_app_with(|s| {
        s.gateway.heartbeat_timeout_ms = 400;
        s.gateway.poll_wait_ms = 100;
    })
    .await;
    let guid = app.sign_in(101).await;
    let until = Instant::now() + Duration::from_millis(1_200);
    while Instant::now() < until {
        app.poll(101, &guid, "").await.expect("0");
    }
    assert_eq!(app.state_of(101, &guid).await, 4);
}

impl crate::helpers::TestApp {
    /// Polls until `AgentOther_ShutdownService`; returns every event seen.
    pub async fn drain_until_shutdown(&self, agent: u32, guid: &str) -> Vec<serde_json::Value> {
        let mut events = Vec::new();
        for _ in 0..32 {
            let event = self.next_event(agent, guid).await;
            let done = event["eventType"] == "AgentOther_ShutdownService";
            events.push(event);
            if done {
                return events;
            }
        }
        panic!("no AgentOther_ShutdownService among {events:?}");
    }
}
