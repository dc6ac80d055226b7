//! Probes and metrics: `/healthz` and `/readyz` on both listeners,
//! `/metrics` only on the metrics listener, and what the metrics count.

use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::{eventually, sample_value, spawn_app, spawn_app_with, with_metrics, TestApp};

async fn get(app: &TestApp, url: String) -> crate::helpers::Answer {
    TestApp::answer(app.client.get(url).send().await.unwrap()).await
}

#[tokio::test]
async fn probes_answer_on_both_listeners_and_metrics_only_on_its_own() {
    let app = spawn_app_with(with_metrics).await;
    let metrics_origin = app.metrics_origin.clone().unwrap();
    for origin in [&app.origin, &metrics_origin] {
        let alive = get(&app, format!("{origin}/healthz")).await;
        assert_eq!(
            (alive.status, alive.retcode(), alive.body["message"].as_str()),
            (StatusCode::OK, "0", Some("alive"))
        );
        let ready = get(&app, format!("{origin}/readyz")).await;
        assert_eq!(
            (ready.status, ready.retcode(), ready.body["message"].as_str()),
            (StatusCode::OK, "0", Some("ready"))
        );
    }
    let on_gateway = get(&app, format!("{}/metrics", app.origin)).await;
    assert_eq!((on_gateway.status, on_gateway.retcode()), (StatusCode::NOT_FOUND, "000-002"));
    assert!(app.scrape().await.contains("# TYPE agentgateway_requests_total counter"));
    let unknown = get(&app, format!("{metrics_origin}/agentgateway/resource/agentevent/101")).await;
    assert_eq!((unknown.status, unknown.retcode()), (StatusCode::NOT_FOUND, "000-002"));
    let response = app.client.post(format!("{metrics_origin}/metrics")).send().await.unwrap();
    let wrong_method = TestApp::answer(response).await;
    assert_eq!((wrong_method.status, wrong_method.retcode()), (StatusCode::METHOD_NOT_ALLOWED, "000-001"));
    assert_eq!(wrong_method.allow.as_deref(), Some("GET"));
}

#[tokio::test]
async fn the_metrics_listener_is_off_unless_configured() {
    let app = spawn_app().await;
    assert_eq!(app.metrics_origin, None);
}

#[tokio::test]
async fn metrics_count_requests_states_sign_outs_and_refusals() {
    let app = spawn_app_with(with_metrics).await;
    let a = app.sign_in(101).await;
    let b = app.sign_in(102).await;
    app.say_busy(102, &b, "?reason=201").await.expect("0");
    app.login(103, &serde_json::json!({"password": "wrong", "phonenum": "7103"})).await.expect("100-004");
    app.agent_status(102, "not-a-guid").await.expect("000-003");
    app.call(reqwest::Method::GET, "onlineagent/102/agentstatus", None, None).await.expect("000-003");
    app.agent_status(103, &a).await.expect("100-006");

    let text = app.scrape().await;
    for (sample, expected) in [
        (r#"agentgateway_requests_total{operation="login",retcode="0"}"#, 2.0),
        (r#"agentgateway_requests_total{operation="login",retcode="100-004"}"#, 1.0),
        (r#"agentgateway_requests_total{operation="getAgentStatus",retcode="000-003"}"#, 2.0),
        (r#"agentgateway_request_duration_seconds_count{operation="sayBusy"}"#, 1.0),
        (r#"agentgateway_agents_signed_in{state="idle"}"#, 1.0),
        (r#"agentgateway_agents_signed_in{state="busy"}"#, 1.0),
        (r#"agentgateway_agents_signed_in{state="rest"}"#, 0.0),
        // 101: InService, Ready; 102: the same and SetNotReady_Success.
        ("agentgateway_events_queued", 5.0),
        ("agentgateway_password_failures_total", 1.0),
        (r#"agentgateway_guid_rejections_total{kind="wrong"}"#, 1.0),
        (r#"agentgateway_guid_rejections_total{kind="missing"}"#, 1.0),
        (r#"agentgateway_guid_rejections_total{kind="not_signed_in"}"#, 1.0),
        // Refusals with nobody behind them are counted, not audited.
        (r#"agentgateway_unauthenticated_refusals_total{retcode="000-003"}"#, 2.0),
        (r#"agentgateway_unauthenticated_refusals_total{retcode="100-004"}"#, 1.0),
        (r#"agentgateway_unauthenticated_refusals_total{retcode="100-006"}"#, 1.0),
    ] {
        assert_eq!(sample_value(&text, sample), expected, "{sample} in\n{text}");
    }

    app.force_logout_with_reason(101, &a, "57").await.expect("0");
    app.logout(102, &b).await.expect("0");
    app.force_logout_with_reason(102, &b, "57").await.expect("100-008");
    let text = app.scrape().await;
    assert_eq!(sample_value(&text, r#"agentgateway_sign_outs_total{reason="57"}"#), 1.0, "{text}");
    assert_eq!(sample_value(&text, r#"agentgateway_sign_outs_total{reason="258"}"#), 1.0, "{text}");
    assert_eq!(sample_value(&text, r#"agentgateway_guid_rejections_total{kind="ended"}"#), 1.0, "{text}");
    assert_eq!(sample_value(&text, "agentgateway_ended_sessions"), 2.0, "{text}");
    assert_eq!(sample_value(&text, r#"agentgateway_agents_signed_in{state="busy"}"#), 0.0, "{text}");
    // Audited: three sign-ins (one with a wrong password), a busy and two
    // sign-outs, each written before it took effect; the sign-out refused
    // for its ended session's Guid is a refusal with nobody behind it.
    let (records, handoffs, writes) = (
        sample_value(&text, "agentgateway_audit_records_total"),
        sample_value(&text, "agentgateway_audit_handoffs_total"),
        sample_value(&text, "agentgateway_audit_writes_total"),
    );
    assert_eq!(records, 6.0, "{text}");
    assert_eq!(sample_value(&text, r#"agentgateway_unauthenticated_refusals_total{retcode="100-008"}"#), 1.0);
    assert_eq!(sample_value(&text, "agentgateway_audit_head_seq"), 6.0, "{text}");
    assert_eq!(sample_value(&text, "agentgateway_audit_writable"), 1.0, "{text}");
    let last = app.audit_records().pop().unwrap();
    let prefix = u64::from_str_radix(&last["hash"].as_str().unwrap()[..13], 16).unwrap();
    assert_eq!(sample_value(&text, "agentgateway_audit_head_hash_prefix"), prefix as f64, "{text}");
    assert!((1.0..=records).contains(&handoffs) && (1.0..=handoffs).contains(&writes), "{text}");
    // The tests' gateways run with --audit-sync off.
    assert_eq!(sample_value(&text, "agentgateway_audit_syncs_total"), 0.0, "{text}");
}

#[tokio::test]
async fn a_waiting_poll_is_counted_until_it_answers() {
    let app = spawn_app_with(|s| {
        with_metrics(s);
        s.gateway.poll_wait_ms = 20_000;
    })
    .await;
    let guid = app.sign_in(101).await;
    app.drain_n(101, &guid, 2).await;
    let poll = tokio::spawn({
        let (client, url) = (app.client.clone(), format!("{}/agentevent/101", app.base));
        let guid = guid.clone();
        async move { TestApp::answer(client.get(url).header("Guid", guid).send().await.unwrap()).await }
    });
    eventually(Duration::from_secs(5), || async {
        (app.metric("agentgateway_polls_waiting").await == 1.0).then_some(())
    })
    .await;
    app.say_busy(101, &guid, "").await.expect("0");
    let answer = poll.await.unwrap();
    assert_eq!(answer.event()["eventType"], "AgentState_SetNotReady_Success");
    assert_eq!(app.metric("agentgateway_polls_waiting").await, 0.0);
}

#[tokio::test]
async fn events_dropped_by_the_queue_bound_are_counted() {
    let app = spawn_app_with(|s| {
        with_metrics(s);
        s.gateway.queue_capacity = 2;
    })
    .await;
    // Sign-in queues two events; each command below one or two more.
    let guid = app.sign_in(101).await;
    app.say_busy(101, &guid, "").await.expect("0");
    app.cancel_busy(101, &guid).await.expect("0");
    assert_eq!(app.metric("agentgateway_events_dropped_total").await, 3.0);
    let first = app.next_event(101, &guid).await;
    assert_eq!((first["seq"].as_u64(), first["dropped"].as_u64()), (Some(4), Some(3)));
}

#[tokio::test]
async fn an_inspectors_forced_sign_out_counts_no_guid_refusal() {
    let app = spawn_app_with(with_metrics).await;
    app.sign_in(101).await;
    let boss = app.sign_in_inspector(999, false).await;
    app.force_logout_with_reason(101, &boss, "57").await.expect("0");
    let text = app.scrape().await;
    assert_eq!(sample_value(&text, r#"agentgateway_sign_outs_total{reason="57"}"#), 1.0, "{text}");
    for kind in ["missing", "wrong", "ended", "not_signed_in"] {
        let sample = format!(r#"agentgateway_guid_rejections_total{{kind="{kind}"}}"#);
        assert_eq!(sample_value(&text, &sample), 0.0, "{sample} in\n{text}");
    }
}
