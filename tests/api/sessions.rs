//! Guids: presence, ownership, static and dynamic modes.

use std::time::Duration;

use agentgateway::domain::session::AuthMode;

use crate::helpers::{eventually, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_missing_wrong_or_foreign_guid_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let a = app.sign_in(101).await;
    let b = app.sign_in(102).await;
    let no_guid = app.call(reqwest::Method::POST, "onlineagent/101/saybusy", None, None).await;
    no_guid.expect("000-003");
    app.say_busy(101, "279fe21d-2caa-4437-84c3-ab9e9dae20f5.AgentGateway0", "").await.expect("000-003");
    app.say_busy(101, &"x".repeat(500), "").await.expect("000-003");
    app.say_busy(101, &b, "").await.expect("000-003");
    app.force_logout_with_reason(101, &b, "5").await.expect("000-003");
    app.poll(101, &b, "").await.expect("000-003");
    app.say_busy(103, &a, "").await.expect("100-006");
    assert_eq!(app.state_of(101, &a).await, 4);
    assert_eq!(app.state_of(102, &b).await, 4);
}

#[tokio::test]
async fn static_guids_never_rotate() {
    let app = spawn_app_with(|s| {
        s.auth_mode = AuthMode::Static;
        s.guid_interval_ms = 1;
        s.guid_timeout_ms = 2;
        s.poll_wait_ms = 50;
    })
    .await;
    let guid = app.sign_in(101).await;
    for _ in 0..4 {
        let answer = app.poll(101, &guid, "").await;
        answer.expect("0");
        assert!(answer.set_guid.is_none());
    }
    assert!(app.handshake(101, &guid).await.expect("0").set_guid.is_none());
}

#[tokio::test]
async fn dynamic_guids_rotate_on_poll_and_the_previous_one_expires() {
    let app = spawn_app_with(|s| {
        s.guid_interval_ms = 150;
        s.guid_timeout_ms = 700;
        s.poll_wait_ms = 200;
    })
    .await;
    let first = app.sign_in(101).await;
    app.drain(101, &first).await;
    // The empty poll waited past the interval, so its answer rotates.
    let answer = app.poll(101, &first, "").await;
    answer.expect("0");
    let second = answer.set_guid.clone().expect("rotated Guid on the poll answer");
    assert_ne!(second, first);
    // The previous Guid keeps working for a while, and is told the new one.
    let late = app.handshake(101, &first).await;
    late.expect("0");
    assert_eq!(late.set_guid.as_deref(), Some(second.as_str()));
    // Then it expires, while the current one keeps working.
    eventually(Duration::from_secs(5), || async {
        (app.agent_status(101, &first).await.retcode() == "000-003").then_some(())
    })
    .await;
    app.agent_status(101, &second).await.expect("0");
}

#[tokio::test]
async fn a_handshake_rotates_the_guid_too() {
    let app = spawn_app_with(|s| {
        s.guid_interval_ms = 50;
        s.guid_timeout_ms = 5_000;
    })
    .await;
    let first = app.sign_in(101).await;
    let rotated = eventually(Duration::from_secs(5), || async { app.handshake(101, &first).await.set_guid }).await;
    assert_ne!(rotated, first);
    app.agent_status(101, &rotated).await.expect("0");
}
