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
        s.gateway.guid.mode = AuthMode::Static;
        s.gateway.guid.interval_ms = 1;
        s.gateway.guid.timeout_ms = 2;
        s.gateway.poll_wait_ms = 50;
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
        s.gateway.guid.interval_ms = 150;
        s.gateway.guid.timeout_ms = 700;
        s.gateway.poll_wait_ms = 200;
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
        s.gateway.guid.interval_ms = 50;
        s.gateway.guid.timeout_ms = 5_000;
    })
    .await;
    let first = app.sign_in(101).await;
    let rotated = eventually(Duration::from_secs(5), || async { app.handshake(101, &first).await.set_guid }).await;
    assert_ne!(rotated, first);
    app.agent_status(101, &rotated).await.expect("0");
}

/// Huawei's Java sample finds the Guid by comparing header names
/// case-sensitively with `Set-GUID`: every answer that hands one out must
/// spell it so on the wire.
#[tokio::test]
async fn set_guid_is_spelled_exactly_on_every_answer_that_hands_one_out() {
    let app = spawn_app_with(|s| {
        s.gateway.guid.interval_ms = 1;
        s.gateway.guid.timeout_ms = 60_000;
    })
    .await;
    let body = app.login_body(101).to_string();
    let spelled_exactly = |answer: &crate::helpers::RawAnswer, path: &str| {
        assert_eq!((answer.status, answer.retcode().as_str()), (200, "0"), "{path}: {}", answer.body);
        assert_eq!(answer.spellings_of("Set-GUID"), ["Set-GUID"], "{path}: {:?}", answer.headers);
        let guid = answer.set_guid().unwrap();
        assert!(answer.header("Set-GUID").unwrap().starts_with("JSESSIONID="), "{path}");
        assert!(guid.ends_with(".AgentGateway0"), "{path}: {guid}");
        guid
    };
    for path in ["onlineagent/101", "onlineagent/101/forcelogin", "onlineagent/102/loginex"] {
        let body = if path.contains("102") { app.login_body(102).to_string() } else { body.clone() };
        let answer = app.raw("PUT", path, &[], &body).await;
        let guid = spelled_exactly(&answer, path);
        // The sign-in answer also names the Guid in a `Guid` header.
        assert_eq!(answer.spellings_of("Guid"), ["Guid"], "{path}");
        assert_eq!(answer.header("Guid"), Some(guid.as_str()), "{path}");
    }
    let mut guid = app.force_login(101, &app.login_body(101)).await.set_guid.unwrap();
    let rotating =
        [("GET", "agentevent/101"), ("POST", "onlineagent/101/handshake"), ("PUT", "onlineagent/101/heartbeat")];
    for (method, path) in rotating {
        // The interval is 1 ms: the first answer at least 1 ms after the
        // Guid was issued rotates it.
        let answer = eventually(Duration::from_secs(5), || {
            let guid = guid.clone();
            let app = &app;
            async move {
                let answer = app.raw(method, path, &[("Guid", guid.as_str())], "").await;
                answer.header("Set-GUID").is_some().then_some(answer)
            }
        })
        .await;
        guid = spelled_exactly(&answer, path);
        assert_eq!(answer.header("Guid"), None, "{path}: only sign-in answers carry Guid");
    }
}

/// `PUT heartbeat` is the older name of `handshake` that Huawei's Java
/// sample still calls every 60 s; it reads `result.loginTime`.
#[tokio::test]
async fn the_old_heartbeat_keeps_the_session_alive_and_answers_its_login_time() {
    let app = spawn_app_with(|s| {
        s.gateway.heartbeat_timeout_ms = 400;
        s.gateway.poll_wait_ms = 100;
    })
    .await;
    let answer = app.login(101, &app.login_body(101)).await;
    let guid = answer.set_guid.clone().unwrap();
    let login_time = answer.body["result"]["loginTime"].clone();
    // Heartbeats alone, no polls, for three heartbeat timeouts.
    let until = std::time::Instant::now() + Duration::from_millis(1_200);
    while std::time::Instant::now() < until {
        let beat = app.heartbeat(101, &guid).await;
        beat.expect("0");
        assert_eq!(beat.body["result"]["loginTime"], login_time);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.state_of(101, &guid).await, 4, "still signed in");
    let other = app.sign_in(102).await;
    app.heartbeat(101, &other).await.expect("000-003");
}

#[tokio::test]
async fn a_service_token_that_is_long_or_has_special_characters_gets_100_001() {
    let app = spawn_app().await;
    let guid = app.sign_in(101).await;
    let long = "t".repeat(51);
    let fifty = "t".repeat(50);
    for (method, path) in [("POST", "onlineagent/101/handshake"), ("PUT", "onlineagent/101/heartbeat")] {
        for bad in [long.as_str(), "a;b", "a b", "a=b", "a/b"] {
            let answer = app.raw(method, path, &[("Guid", &guid), ("service_token", bad)], "").await;
            assert_eq!((answer.status, answer.retcode().as_str()), (200, "100-001"), "{path} {bad:?}");
        }
        for good in [fifty.as_str(), "Token-1_a", ""] {
            let answer = app.raw(method, path, &[("Guid", &guid), ("service_token", good)], "").await;
            assert_eq!(answer.retcode(), "0", "{path} {good:?}");
        }
    }
}
