//! The audit trail: what is recorded, the chain, tampering, the read
//! interface, and that it tells the truth when its file misbehaves: no
//! command takes effect without its record.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use agentgateway::audit::{AuditLog, AuditOptions, BrokenTail, SyncMode};
use agentgateway::domain::audit::{Action, ActionRecord, Actor, AuditTrail, Origin, RequestId};
use agentgateway::domain::ids::WorkNo;
use agentgateway::domain::state::Command as StateCommand;
use agentgateway::retcode::Retcode;
use serde_json::Value;

use crate::helpers::{eventually, spawn_app, spawn_app_with, test_settings, with_metrics};
use crate::process::{command, refusal, Binary};

fn verify(path: &Path, anchors: &[String]) -> (bool, String) {
    let mut verify = Command::new(env!("CARGO_BIN_EXE_agentgateway"));
    verify.args(["audit", "verify"]).arg(path);
    for anchor in anchors {
        verify.args(["--anchor", anchor]);
    }
    let output = verify.output().unwrap();
    (output.status.success(), String::from_utf8_lossy(&output.stdout).into_owned())
}

fn actions(records: &[Value]) -> Vec<&str> {
    records.iter().map(|r| r["action"].as_str().unwrap()).collect()
}

fn beside(path: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", path.display()))
}

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
    assert_eq!(
        actions(&records),
        ["login", "login", "login", "sayBusy", "forceLogoutWithReason"],
        "polls are not audited"
    );
    assert_eq!(
        (records[0]["retcode"].as_str(), records[0]["actor"]["role"].as_str(), records[0]["actor"]["workNo"].as_str()),
        (Some("100-004"), Some("unauthenticated"), Some("101")),
        "a wrong password is recorded as the work number it claimed"
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
    let request_id = last["requestId"].as_str().unwrap();
    assert_eq!(request_id.len(), 32);
    assert_eq!(answer.request_id.as_deref(), Some(request_id), "the record carries the answer's X-Request-Id");
}

#[tokio::test]
async fn system_sign_outs_and_displacements_are_recorded_too() {
    let app = spawn_app_with(|s| {
        s.gateway.heartbeat_timeout_ms = 300;
        s.gateway.poll_wait_ms = 100;
    })
    .await;
    app.sign_in(101).await;
    app.force_login(101, &app.login_body(101)).await.expect("0");
    let records = eventually(Duration::from_secs(5), || async {
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
    let displaced = records.iter().position(|r| r["action"] == "displaced").unwrap();
    assert_eq!(records[displaced + 1]["action"], "forceLogin", "the displacement is written with the sign-in");
}

#[tokio::test]
async fn the_chain_survives_a_restart_and_tampering_is_reported() {
    let first = spawn_app_with(|s| s.audit.options.sync = SyncMode::Batch).await;
    let guid = first.sign_in(101).await;
    first.say_busy(101, &guid, "?reason=202").await.expect("0");
    let path = first.settings.audit.file.clone();
    first.stop().await;
    let second = spawn_app_with(|s| s.audit.file = path.clone()).await;
    let guid = second.sign_in(102).await;
    second.logout(102, &guid).await.expect("0");
    let records = second.audit_records();
    assert_eq!(records.len(), 4);
    assert_eq!(records[2]["prev"], records[1]["hash"], "the chain continues across the restart");
    let (ok, report) = verify(&path, &[]);
    assert!(ok, "{report}");
    assert!(report.contains("intact: 4 records"), "{report}");
    let original = std::fs::read_to_string(&path).unwrap();
    let tampered = original.replacen("\"reason\":{\"code\":202", "\"reason\":{\"code\":210", 1);
    std::fs::write(&path, tampered).unwrap();
    let (ok, report) = verify(&path, &[]);
    assert!(!ok && report.contains("record 2 (line 2) was edited"), "{report}");
    let mut lines: Vec<&str> = original.lines().collect();
    lines.remove(2);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let (ok, report) = verify(&path, &[]);
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
    let listed = |answer: &crate::helpers::Answer, field: &str| -> Vec<String> {
        let records = answer.body["result"]["records"].as_array().unwrap();
        records.iter().map(|r| r[field].as_str().unwrap().to_owned()).collect()
    };
    let targets = listed(&page, "target");
    assert!(targets.iter().all(|t| *t == "101" || *t == "900"), "{targets:?}");
    assert_eq!(listed(&page, "action"), ["login", "sayFree", "sayBusy", "login"], "newest first");
    let filtered = app.audit_page(999, &all, "?agent=201&action=sayBusy").await;
    assert_eq!(filtered.body["result"]["total"], 1);
    let by_actor = app.audit_page(999, &all, "?actor=999").await;
    assert_eq!(listed(&by_actor, "action"), ["login"], "what 999 did: its own sign-in");
    let paged = app.audit_page(999, &all, "?size=2&page=2").await;
    assert_eq!(
        (paged.body["result"]["records"].as_array().unwrap().len(), paged.body["result"]["total"].as_u64()),
        (2, Some(7))
    );
    // From the year 3000 on: nothing yet.
    let future = app.audit_page(999, &all, "?from=32503680000000").await;
    assert_eq!(future.body["result"]["total"], 0);
    app.audit_page(999, &all, "?size=0").await.expect("000-002");
    app.audit_page(999, &all, "?actor=someone").await.expect("000-002");
    app.audit_page(101, &a, "").await.expect("900-002");
}

/// A trail of `count` records written straight through the library, each
/// by agent 102, a sign-out by 101 first.
async fn big_trail(path: &Path, count: usize) {
    let options = AuditOptions {
        sync: SyncMode::Off,
        sync_every: Duration::ZERO,
        gather: Duration::ZERO,
        retry_every: Duration::from_secs(1),
        broken_tail: BrokenTail::Refuse,
    };
    let log = AuditLog::open(path, options).unwrap();
    let origin = Origin { request_id: RequestId::new(), ip: None };
    let record = |agent: u32, action: Action| {
        let work_no = WorkNo::new(agent).unwrap();
        let actor = Actor::Caller { work_no, role: agentgateway::domain::directory::Role::Agent };
        ActionRecord { actor, target: work_no, action, reason: None, retcode: Retcode::Success, origin: Some(&origin) }
    };
    log.record(&[record(101, Action::Logout)]).await.unwrap();
    let burst: Vec<ActionRecord> = (0..count).map(|_| record(102, Action::State(StateCommand::SayFree))).collect();
    for chunk in burst.chunks(4096) {
        log.record(chunk).await.unwrap();
    }
    log.close().await;
}

#[tokio::test]
async fn a_burst_of_records_hides_no_older_one_from_the_query() {
    let path = test_settings().audit.file;
    big_trail(&path, 30_000).await;
    let app = spawn_app_with(|s| s.audit.file = path).await;
    let boss = app.sign_in_inspector(999, false).await;
    let found = app.audit_page(999, &boss, "?agent=101&action=logout").await;
    found.expect("0");
    assert_eq!(found.body["result"]["total"], 1, "30,000 newer records do not push it out");
    let burst = app.audit_page(999, &boss, "?agent=102&size=1").await;
    assert_eq!(burst.body["result"]["total"], 30_000);
    assert_eq!(burst.body["result"]["records"][0]["seq"], 30_001);
}

#[tokio::test]
async fn forged_guids_write_no_record_and_are_counted_instead() {
    let app = spawn_app_with(with_metrics).await;
    let agent = app.sign_in(101).await;
    let before = app.audit_records().len();
    for n in 0..500 {
        let forged = format!("{n:08}-0000-4000-8000-000000000000.AgentGateway0");
        app.say_busy(101, &forged, "").await.expect("000-003");
        app.force_logout_with_reason(102, &forged, "57").await.expect("100-006");
    }
    assert_eq!(app.audit_records().len(), before, "a stranger's refusals are not audit records");
    let text = app.scrape().await;
    assert!(text.contains(r#"agentgateway_unauthenticated_refusals_total{retcode="000-003"} 500"#), "{text}");
    assert!(text.contains(r#"agentgateway_unauthenticated_refusals_total{retcode="100-006"} 500"#), "{text}");
    app.say_busy(101, &agent, "").await.expect("0");
    assert_eq!(actions(&app.audit_records()[before..]), ["sayBusy"]);
}

#[tokio::test]
async fn a_command_whose_record_cannot_be_written_changes_nothing_while_sign_outs_go_ahead() {
    let app = spawn_app_with(|s| {
        with_metrics(s);
        s.audit.options.retry_every = std::time::Duration::from_millis(20);
    })
    .await;
    let guid = app.sign_in(101).await;
    let other = app.sign_in(102).await;
    let boss = app.sign_in_inspector(999, false).await;
    let records = app.audit_records();
    // Replace the trail's directory by a file: the trail cannot be written
    // or restored there.
    let dir = app.settings.audit.file.parent().unwrap().to_owned();
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::write(&dir, b"not a directory").unwrap();
    app.say_busy(101, &guid, "").await.expect("100-007");
    assert_eq!(app.state_of(101, &guid).await, 4, "the refused command changed nothing: still idle");
    app.say_busy(101, &guid, "").await.expect("100-007");
    // Reads and the heartbeat go on.
    app.handshake(101, &guid).await.expect("0");
    let ready = app.client.get(format!("{}/readyz", app.origin)).send().await.unwrap();
    assert_eq!(ready.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
    let text = app.scrape().await;
    assert!(text.contains("agentgateway_audit_writable 0"), "{text}");
    assert!(text.contains("agentgateway_audit_refusals_total 2"), "{text}");
    // A supervisor still signs an agent out; its record waits.
    app.qc("forcelogout", 999, &boss, 102, "").await.expect("0");
    app.agent_status(102, &other).await.expect("100-006");
    // The operator puts the directory back: the trail is restored from the
    // open file, the kept record written, and commands are taken again.
    std::fs::remove_file(&dir).unwrap();
    std::fs::create_dir(&dir).unwrap();
    eventually(Duration::from_secs(10), || async {
        (app.say_busy(101, &guid, "").await.retcode() == "0").then_some(())
    })
    .await;
    let after = app.audit_records();
    assert_eq!(&after[..records.len()], &records[..], "the records before are unchanged");
    assert_eq!(actions(&after[records.len()..]), ["trailRestored", "forceLogOutAgent", "sayBusy"]);
    let kept = &after[records.len() + 1];
    assert!(kept["happenedMs"].as_u64().unwrap() <= kept["timeMs"].as_u64().unwrap());
    assert_eq!(kept["actor"]["workNo"], "999");
    let (ok, report) = verify(&app.settings.audit.file, &[]);
    assert!(ok, "{report}");
}

#[tokio::test]
async fn a_trail_removed_while_in_use_is_put_back_with_the_next_record() {
    let app = spawn_app().await;
    let guid = app.sign_in(101).await;
    std::fs::remove_file(&app.settings.audit.file).unwrap();
    app.say_busy(101, &guid, "").await.expect("0");
    let records = app.audit_records();
    assert_eq!(actions(&records), ["login", "trailRestored", "sayBusy"]);
    assert!(records[1]["note"].as_str().unwrap().contains("removed while in use"));
    let (ok, report) = verify(&app.settings.audit.file, &[]);
    assert!(ok && report.contains("intact: 3 records"), "{report}");
}

#[tokio::test]
async fn a_full_disk_refuses_commands_without_a_torn_record_and_the_trail_resumes_when_there_is_room() {
    let settings = test_settings();
    let mut start = command(&settings);
    start.args(["--audit-retry-ms", "20"]);
    const LIMIT: u64 = 4096;
    // SAFETY: only async-signal-safe calls (signal, setrlimit) between fork and exec.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut start, || {
            // Past the limit, write(2) fails with EFBIG instead of killing the process.
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let limit = libc::rlimit { rlim_cur: LIMIT, rlim_max: libc::RLIM_INFINITY };
            match libc::setrlimit(libc::RLIMIT_FSIZE, &limit) {
                0 => Ok(()),
                _ => Err(std::io::Error::last_os_error()),
            }
        });
    }
    let gateway = Binary::start(start, settings.clone());
    let app = &gateway.app;
    let guid = app.sign_in(101).await;
    let probe = app.sign_in(102).await;
    let boss = app.sign_in_inspector(999, false).await;
    // Toggle until the trail is full.
    let mut state = app.state_of(101, &guid).await;
    for _ in 0..20 {
        let answer = if state == 4 { app.say_busy(101, &guid, "").await } else { app.say_free(101, &guid).await };
        if answer.code() == Retcode::Internal {
            break;
        }
        answer.expect("0");
        state = app.state_of(101, &guid).await;
    }
    assert_eq!(app.state_of(101, &guid).await, state, "the refused command changed nothing");
    let size = std::fs::metadata(&settings.audit.file).unwrap().len();
    assert!(size <= LIMIT, "{size} bytes");
    let (ok, report) = verify(&settings.audit.file, &[]);
    assert!(ok && !report.contains("torn"), "the failed write was cut back off: {report}");
    // The sign-out goes ahead; its record waits in <trail>.pending.
    app.qc("forcelogout", 999, &boss, 101, "").await.expect("0");
    app.agent_status(101, &guid).await.expect("100-006");
    let pending = std::fs::read_to_string(beside(&settings.audit.file, ".pending")).unwrap();
    assert!(pending.contains("\"action\":\"forceLogOutAgent\""), "{pending}");
    // Room again: the next retry writes the kept record, commands are taken.
    let unlimited = libc::rlimit { rlim_cur: libc::RLIM_INFINITY, rlim_max: libc::RLIM_INFINITY };
    // SAFETY: prlimit(2) on our own child with a valid resource and limit.
    let raised = unsafe { libc::prlimit(gateway.pid(), libc::RLIMIT_FSIZE, &unlimited, std::ptr::null_mut()) };
    assert_eq!(raised, 0, "{}", std::io::Error::last_os_error());
    eventually(Duration::from_secs(10), || async {
        (app.say_busy(102, &probe, "").await.retcode() == "0").then_some(())
    })
    .await;
    let records = app.audit_records();
    assert_eq!(actions(&records[records.len() - 2..]), ["forceLogOutAgent", "sayBusy"]);
    assert!(!beside(&settings.audit.file, ".pending").exists());
    let (ok, report) = verify(&settings.audit.file, &[]);
    assert!(ok, "{report}");
    gateway.stop();
}

#[tokio::test]
async fn a_torn_last_record_is_reported_as_torn_and_cut_off_at_start_with_a_record_of_the_cut() {
    let first = spawn_app().await;
    first.sign_in(101).await;
    let path = first.settings.audit.file.clone();
    first.stop().await;
    // A write cut short by a crash: part of a record, no line end.
    let mut text = std::fs::read(&path).unwrap();
    let torn = br#"{"seq":2,"time":"2026-12-01T10:00:00.000Z","timeMs":17"#;
    text.extend_from_slice(torn);
    std::fs::write(&path, &text).unwrap();
    let (ok, report) = verify(&path, &[]);
    assert!(ok, "a torn record is not tampering: {report}");
    assert!(report.contains(&format!("torn record ({} bytes", torn.len())), "{report}");
    let second = spawn_app_with(|s| s.audit.file = path.clone()).await;
    let guid = second.sign_in(102).await;
    second.logout(102, &guid).await.expect("0");
    let records = second.audit_records();
    assert_eq!(actions(&records), ["login", "tornRecordCut", "login", "logout"]);
    assert!(records[1]["note"].as_str().unwrap().contains(&format!("{} bytes", torn.len())), "{}", records[1]);
    let (ok, report) = verify(&path, &[]);
    assert!(ok && report.contains("intact: 4 records"), "{report}");
}

#[tokio::test]
async fn a_broken_end_stops_start_up_unless_the_trail_is_set_aside() {
    let first = spawn_app().await;
    let guid = first.sign_in(101).await;
    first.logout(101, &guid).await.expect("0");
    let path = first.settings.audit.file.clone();
    first.stop().await;
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("\"action\":\"logout\"", "\"action\":\"sayFree\"")).unwrap();
    let mut settings = test_settings();
    settings.audit.file = path.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let refused = agentgateway::Application::build(settings.clone(), listener).err().unwrap();
    assert!(refused.contains("its end is broken: record 2 was edited"), "{refused}");
    assert!(refused.contains("--audit-broken-tail set-aside"), "{refused}");
    let app = spawn_app_with(|s| {
        s.audit.file = path.clone();
        s.audit.options.broken_tail = BrokenTail::SetAside;
    })
    .await;
    let records = app.audit_records();
    assert_eq!(actions(&records), ["trailSetAside"]);
    let note = records[0]["note"].as_str().unwrap();
    let aside = note.split(" set aside as ").nth(1).unwrap().split(" with its head").next().unwrap();
    let (ok, report) = verify(Path::new(aside), &[]);
    assert!(!ok && report.contains("record 2 (line 2) was edited"), "the evidence is kept: {report}");
    let (ok, report) = verify(&path, &[]);
    assert!(ok, "{report}");
}

#[tokio::test]
async fn a_new_trail_verifies_intact_with_no_records() {
    let app = spawn_app().await;
    let path = app.settings.audit.file.clone();
    app.stop().await;
    let (ok, report) = verify(&path, &[]);
    assert!(ok && report.contains("intact: 0 records"), "{report}");
}

#[tokio::test]
async fn a_second_gateway_on_one_trail_refuses_to_start_naming_the_file_and_the_holder() {
    let settings = test_settings();
    let first = Binary::start(command(&settings), settings.clone());
    let refused = refusal(command(&settings).args(["--metrics-listen", "off"]));
    let file = settings.audit.file.display().to_string();
    assert!(
        refused.contains(&format!("audit trail {file} is in use by another gateway (pid {}", first.pid())),
        "{refused}"
    );
    first.stop();
    // Gone, its lock went with it.
    Binary::start(command(&settings), settings).stop();
}

#[tokio::test]
async fn the_head_is_published_as_an_anchor_that_a_new_chain_cannot_match() {
    let settings = test_settings();
    let mut start = command(&settings);
    start.args(["--audit-anchor-ms", "50", "--security-log-ms", "50"]);
    let mut gateway = Binary::start(start, settings.clone());
    let guid = gateway.app.sign_in(101).await;
    gateway.app.say_busy(101, &guid, "").await.expect("0");
    gateway.app.say_busy(101, "forged", "").await.expect("000-003");
    let records = gateway.app.audit_records();
    let last = records.last().unwrap();
    let line = format!("audit head: seq=2 hash={}", last["hash"].as_str().unwrap());
    gateway.wait_for_line(&line);
    let security = gateway.wait_for_line("security: refused 1 request(s) without an authenticated caller");
    assert!(security.contains("(000-003: 1) from 1 address(es); most: 127.0.0.1 ×1"), "{security}");
    gateway.stop();
    let anchor = format!("2:{}", &last["hash"].as_str().unwrap()[..16]);
    let (ok, report) = verify(&settings.audit.file, std::slice::from_ref(&anchor));
    assert!(ok, "{report}");
    // Someone deletes the trail and its head; a restart begins a new chain
    // that verifies on its own, but not against the anchor kept outside.
    std::fs::remove_file(&settings.audit.file).unwrap();
    std::fs::remove_file(beside(&settings.audit.file, ".head")).unwrap();
    let again = Binary::start(command(&settings), settings.clone());
    again.app.sign_in(102).await;
    again.app.sign_in(103).await;
    again.stop();
    let (ok, report) = verify(&settings.audit.file, &[]);
    assert!(ok && report.contains("intact: 2 records"), "{report}");
    let (ok, report) = verify(&settings.audit.file, &[anchor]);
    assert!(!ok && report.contains("record 2 does not match its anchor"), "{report}");
}

#[tokio::test]
async fn every_command_of_the_onlineagent_group_is_recorded_and_the_heartbeat_is_not() {
    let app = spawn_app().await;
    let guid = app.sign_in(101).await;
    let other = app.sign_in(102).await;
    app.auto_answer(101, &guid, "false").await.expect("0");
    app.set_talk_right(101, &guid, "?flag=0").await.expect("0");
    app.set_custom_state(101, &guid, "?customstate=42").await.expect("0");
    app.handshake(101, &guid).await.expect("0");
    app.heartbeat(101, &guid).await.expect("0");
    app.send_note(101, &guid, &serde_json::json!({"agentIds": [102], "content": "hi"})).await.expect("0");
    let bulletin = serde_json::json!({"targettype": "0", "targetname": "1", "bulletindata": "team meeting"});
    app.notify_bulletin(101, &guid, &bulletin).await.expect("0");
    app.logout(102, &other).await.expect("0");
    let records = app.audit_records();
    assert_eq!(
        actions(&records),
        [
            "login",
            "login",
            "setAgentAutoAnswer",
            "setTalkRight",
            "setCustomState",
            "sendNoteletEx",
            "notifyBulletin",
            "logout"
        ]
    );
    assert!(records[2..7].iter().all(|r| r["actor"]["workNo"] == "101" && r["target"] == "101"));
}

#[tokio::test]
async fn the_new_commands_change_nothing_while_the_trail_cannot_be_written() {
    use reqwest::Method;
    let app = spawn_app().await;
    let guid = app.sign_in(101).await;
    let dir = app.settings.audit.file.parent().unwrap().to_owned();
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::write(&dir, b"not a directory").unwrap();
    app.set_custom_state(101, &guid, "?customstate=42").await.expect("100-007");
    let state = app.query_custom_state(101, &guid).await;
    state.expect("0");
    assert_eq!(state.body["result"]["customState"], 0, "{}", state.body);
    let loginex = app.call(Method::PUT, "onlineagent/102/loginex", None, Some(&app.login_body(102))).await;
    loginex.expect("100-007");
    app.heartbeat(101, &guid).await.expect("0");
}
