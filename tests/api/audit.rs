//! The audit trail: what is recorded, the chain, tampering, the read interface.

use std::process::Command;

use crate::helpers::{eventually, spawn_app, spawn_app_with};

#[tokio::test]
async fn commands_are_recorded_with_actor_target_reason_and_outcome() {
    let app = spawn_app().await;
    app.login(101, &serde_json::json!({"password": "wrong", "phonenum": "7101"})).await.expect("100-004");
    let agent = app.sign_in(101).await;
    let boss = app.sign_in_inspector(900, false).await;
    app.say_busy(101, &agent, "?reason=201").await.expect("0");
    app.poll(101, &agent, "").await;
    let answer = app.force_logout_with_reason(101, &boss, "57").await;
    answer.expect("0");
    let records = app.audit_records();
    let actions: Vec<&str> = records.iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["login", "login", "login", "sayBusy", "forceLogoutWithReason"], "polls are not audited");
    assert_eq!(
        (records[0]["retcode"].as_str(), records[0]["actor"]["role"].as_str()),
        (Some("100-004"), Some("unauthenticated"))
    );
    let last = records.last().unwrap();
    assert_eq!(last["actor"]["workNo"], "900");
    assert_eq!(last["actor"]["role"], "inspector");
    assert_eq!(last["actor"]["ip"], "127.0.0.1");
    assert_eq!(last["target"], "101");
    assert_eq!(last["reason"]["code"], 57);
    assert_eq!(last["reason"]["name"], "policy violation");
    assert_eq!(last["retcode"], "0");
    assert_eq!(last["seq"], 5);
    assert_eq!(records[3]["reason"]["name"], "training");
    assert_eq!(records[4]["prev"], records[3]["hash"]);
    assert!(last["requestId"].as_str().is_some_and(|id| id.len() == 32));
}

#[tokio::test]
async fn system_sign_outs_and_displacements_are_recorded_too() {
    let app = spawn_app_with(|s| {
        s.heartbeat_timeout_ms = 300;
        s.poll_wait_ms = 100;
    })
    .await;
    app.sign_in(101).await;
    app.force_login(101, &app.login_body(101)).await.expect("0");
    let records = eventually(std::time::Duration::from_secs(5), || async {
        let records = app.audit_records();
        records.iter().any(|r| r["action"] == "heartbeatTimeout").then_some(records)
    })
    .await;
    let system: Vec<(&str, &str)> = records
        .iter()
        .filter(|r| r["actor"]["role"] == "system")
        .map(|r| (r["action"].as_str().unwrap(), r["reason"]["code"].to_string().leak() as &str))
        .collect();
    assert_eq!(system, [("displaced", "264"), ("heartbeatTimeout", "263")]);
}

fn verify(path: &std::path::Path) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_agentgateway")).args(["audit", "verify"]).arg(path).output().unwrap();
    (output.status.success(), String::from_utf8_lossy(&output.stdout).into_owned())
}

#[tokio::test]
async fn the_chain_survives_a_restart_and_tampering_is_reported() {
    let first = spawn_app_with(|s| s.audit_sync = agentgateway::settings::SyncMode::Batch).await;
    let guid = first.sign_in(101).await;
    first.say_busy(101, &guid, "?reason=202").await.expect("0");
    let path = first.settings.audit_file.clone();
    drop(first);
    let second = spawn_app_with(|s| s.audit_file = path.clone()).await;
    let guid = second.sign_in(102).await;
    second.logout(102, &guid).await.expect("0");
    let records = second.audit_records();
    assert_eq!(records.len(), 4);
    assert_eq!(records[2]["prev"], records[1]["hash"], "the chain continues across the restart");
    let (ok, report) = verify(&path);
    assert!(ok, "{report}");
    assert!(report.contains("intact: 4 records"), "{report}");
    let original = std::fs::read_to_string(&path).unwrap();
    let tampered = original.replacen("\"reason\":{\"code\":202", "\"reason\":{\"code\":210", 1);
    std::fs::write(&path, tampered).unwrap();
    let (ok, report) = verify(&path);
    assert!(!ok && report.contains("record 2 (line 2) was edited"), "{report}");
    let mut lines: Vec<&str> = original.lines().collect();
    lines.remove(2);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let (ok, report) = verify(&path);
    assert!(!ok && report.contains("records 3..3 were removed"), "{report}");
}

#[tokio::test]
async fn inspectors_read_the_trail_of_their_scope_newest_first() {
    let app = spawn_app().await;
    let a = app.sign_in(101).await;
    let b = app.sign_in(201).await;
    app.say_busy(101, &a, "").await.expect("0");
    app.say_busy(201, &b, "").await.expect("0");
    app.say_free(101, &a).await.expect("0");
    let scoped = app.sign_in_inspector(900, false).await;
    let all = app.sign_in_inspector(999, false).await;
    let page = app.audit_page(900, &scoped, "").await;
    page.expect("0");
    let targets: Vec<&str> =
        page.body["result"]["records"].as_array().unwrap().iter().map(|r| r["target"].as_str().unwrap()).collect();
    assert!(targets.iter().all(|t| *t == "101" || *t == "900"), "{targets:?}");
    let actions: Vec<&str> =
        page.body["result"]["records"].as_array().unwrap().iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["login", "sayFree", "sayBusy", "login"], "newest first");
    let filtered = app.audit_page(999, &all, "?agent=201&action=sayBusy").await;
    assert_eq!(filtered.body["result"]["total"], 1);
    let paged = app.audit_page(999, &all, "?size=2&page=2").await;
    assert_eq!(
        (paged.body["result"]["records"].as_array().unwrap().len(), paged.body["result"]["total"].as_u64()),
        (2, Some(7))
    );
    app.audit_page(999, &all, "?size=0").await.expect("000-002");
    app.audit_page(101, &a, "").await.expect("900-002");
}

#[tokio::test]
async fn commands_are_refused_while_the_trail_cannot_be_written() {
    let app = spawn_app().await;
    let guid = app.sign_in(101).await;
    // Replace the trail's directory by a file: the next write fails.
    let dir = app.settings.audit_file.parent().unwrap().to_owned();
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::write(&dir, b"not a directory").unwrap();
    app.say_busy(101, &guid, "").await;
    let refused = app.say_free(101, &guid).await;
    refused.expect("100-007");
    // Reads and the heartbeat go on; the refused command changed nothing.
    app.agent_status(101, &guid).await.expect("0");
    app.handshake(101, &guid).await.expect("0");
    app.say_busy(101, &guid, "").await.expect("100-007");
}
