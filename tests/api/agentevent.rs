//! Long polling, the one-poll rule, the queue bound and the ack extension.

use std::time::{Duration, Instant};

use crate::helpers::{names, spawn_app, spawn_app_with};

/// Huawei's C# sample treats only this exact body as "no event"; anything
/// else (`"event":null` included) makes it throw.
#[tokio::test]
async fn an_empty_poll_answers_exactly_the_huawei_body_after_the_poll_wait() {
    let app = spawn_app().await;
    let guid = app.sign_in(101).await;
    app.drain_n(101, &guid, 2).await;
    let started = Instant::now();
    let answer = app.raw("GET", "agentevent/101", &[("Guid", &guid)], "").await;
    assert_eq!((answer.status, answer.body.as_str()), (200, r#"{"message":"","retcode":"0"}"#));
    assert!(started.elapsed() >= Duration::from_millis(app.settings.gateway.poll_wait_ms), "answered before the wait");
    // An event still comes with its additive fields.
    app.say_busy(101, &guid, "").await.expect("0");
    let event = app.raw("GET", "agentevent/101", &[("Guid", &guid)], "").await.json()["event"].clone();
    assert_eq!((event["eventType"].as_str(), event["seq"].as_u64()), (Some("AgentState_SetNotReady_Success"), Some(3)));
    assert!(event["eventGenTime"].as_u64().is_some());
}

#[tokio::test]
async fn events_come_one_per_answer_oldest_first_with_increasing_seq() {
    let app = spawn_app().await;
    let guid = app.sign_in(101).await;
    app.say_busy(101, &guid, "?reason=201").await.expect("0");
    app.say_free(101, &guid).await.expect("0");
    let events = app.drain(101, &guid).await;
    assert_eq!(
        names(&events),
        [
            "AgentOther_InService",
            "AgentState_Ready",
            "AgentState_SetNotReady_Success",
            "AgentState_CancelNotReady_Success",
            "AgentState_Ready"
        ]
    );
    for (i, event) in events.iter().enumerate() {
        assert_eq!(event["seq"], i as u64 + 1);
        assert_eq!(event["workNo"], "101");
        assert!(event["eventGenTime"].as_u64().is_some());
    }
}

#[tokio::test]
async fn a_newer_poll_ends_the_older_one_empty() {
    let app = spawn_app_with(|s| s.gateway.poll_wait_ms = 20_000).await;
    let guid = app.sign_in(101).await;
    app.drain_n(101, &guid, 2).await;
    let started = Instant::now();
    let first = std::pin::pin!(app.poll(101, &guid, ""));
    let second = std::pin::pin!(app.poll(101, &guid, ""));
    // Whichever poll reached the gateway first is ended, empty, by the other.
    let (ended, still_waiting) = match futures_util::future::select(first, second).await {
        futures_util::future::Either::Left((answer, other)) => (answer, other),
        futures_util::future::Either::Right((answer, other)) => (answer, other),
    };
    ended.expect("0");
    assert!(ended.event().is_null(), "the older poll ends empty: {ended:?}");
    assert!(started.elapsed() < Duration::from_secs(10), "ended by the newer poll, not by its timer");
    // The newer one is still waiting, and gets the next event.
    app.say_busy(101, &guid, "?reason=201").await.expect("0");
    let answer = still_waiting.await;
    assert_eq!(answer.event()["eventType"], "AgentState_SetNotReady_Success");
}

#[tokio::test]
async fn events_are_resent_until_acknowledged() {
    let app = spawn_app().await;
    let guid = app.sign_in(101).await;
    let first = app.poll(101, &guid, "?ack=0").await;
    assert_eq!(first.event()["seq"], 1);
    // The answer was "lost": the client polls again with the old cursor.
    let again = app.poll(101, &guid, "?ack=0").await;
    assert_eq!(again.event()["seq"], 1, "unacknowledged event is re-sent");
    let second = app.poll(101, &guid, "?ack=1").await;
    assert_eq!(
        (second.event()["seq"].as_u64(), second.event()["eventType"].as_str()),
        (Some(2), Some("AgentState_Ready"))
    );
    let empty = app.poll(101, &guid, "?ack=2").await;
    assert!(empty.event().is_null());
    app.poll(101, &guid, "?ack=9").await.expect("000-002");
    app.poll(101, &guid, "?ack=abc").await.expect("000-002");
    app.poll(101, &guid, "?ack=-1").await.expect("000-002");
}

#[tokio::test]
async fn without_ack_each_event_is_delivered_once() {
    let app = spawn_app().await;
    let guid = app.sign_in(101).await;
    let first = app.next_event(101, &guid).await;
    let second = app.next_event(101, &guid).await;
    assert_eq!((first["seq"].as_u64(), second["seq"].as_u64()), (Some(1), Some(2)));
}

#[tokio::test]
async fn the_queue_bound_drops_the_oldest_and_says_so() {
    let app = spawn_app_with(|s| s.gateway.queue_capacity = 3).await;
    let guid = app.sign_in(101).await;
    for _ in 0..3 {
        app.say_busy(101, &guid, "?reason=201").await.expect("0");
        app.say_free(101, &guid).await.expect("0");
    }
    // 2 sign-in events + 9 state events = 11 issued, 3 kept.
    let events = app.drain(101, &guid).await;
    let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [9, 10, 11]);
    assert_eq!(events[0]["dropped"], 8);
    assert!(events[1].get("dropped").is_none());
}

#[tokio::test]
async fn a_new_session_never_sees_the_events_of_the_one_before() {
    let app = spawn_app().await;
    let old = app.sign_in(101).await;
    app.say_busy(101, &old, "?reason=230").await.expect("0");
    app.logout(101, &old).await.expect("0");
    let new = app.sign_in(101).await;
    let events = app.drain(101, &new).await;
    assert_eq!(names(&events), ["AgentOther_InService", "AgentState_Ready"]);
    // The old session's final poll still gets its own events.
    let old_events = app.drain_until_shutdown(101, &old).await;
    assert_eq!(old_events.len(), 4);
}

#[tokio::test]
async fn an_acking_client_gets_the_final_event_again_until_it_acknowledges_it() {
    let app = spawn_app().await;
    let guid = app.sign_in(101).await;
    app.poll(101, &guid, "?ack=0").await;
    app.force_logout_with_reason(101, &guid, "9").await.expect("0");
    let mut last = 0;
    let mut seen = Vec::new();
    loop {
        let answer = app.poll(101, &guid, &format!("?ack={last}")).await;
        if answer.retcode() == "100-006" {
            break;
        }
        let event = answer.event().clone();
        last = event["seq"].as_u64().unwrap();
        seen.push(event["eventType"].as_str().unwrap().to_owned());
        assert!(seen.len() < 10, "{seen:?}");
    }
    assert_eq!(seen, ["AgentOther_InService", "AgentState_Ready", "AgentOther_ShutdownService"]);
}
