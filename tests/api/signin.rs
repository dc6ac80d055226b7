//! Sign-in and forced sign-in.

use serde_json::json;

use crate::helpers::{names, spawn_app};

#[tokio::test]
async fn sign_in_answers_a_guid_and_the_documented_result() {
    let app = spawn_app().await;
    let answer = app.login(101, &app.login_body(101)).await;
    answer.expect("0");
    let guid = answer.set_guid.clone().unwrap();
    let (uuid, node) = guid.split_once(".AgentGateway").expect("<uuid>.AgentGateway<N>");
    assert_eq!((uuid.len(), node), (36, "0"), "{guid}");
    // Read into the documented type: every field present with its type.
    let result: agentgateway::api::envelope::LoginResult = answer.result();
    assert_eq!(
        (result.work_no.as_str(), result.media_type.as_str(), result.server_name.as_str(), result.vdn_id),
        ("101", "TTF", "AgentGateway", 1)
    );
    assert!(result.login_time.parse::<u64>().unwrap() > 1_600_000_000_000);
    assert!(answer.body.to_string().find("Agent@123").is_none(), "password echoed");
}

#[tokio::test]
async fn sign_in_status_chooses_the_state_and_its_events() {
    let app = spawn_app().await;
    let cases = [
        (102, "3", 3, vec!["AgentOther_InService", "AgentState_Ready", "AgentState_SetNotReady_Success"]),
        (103, "4", 4, vec!["AgentOther_InService", "AgentState_Ready"]),
        (104, "5", 5, vec!["AgentOther_InService", "AgentState_Ready", "AgentState_Work"]),
    ];
    for (agent, status, code, expected) in cases {
        let body = json!({"password": "Agent@123", "phonenum": (7000 + agent).to_string(), "status": status});
        let guid = app.login(agent, &body).await.set_guid.unwrap();
        assert_eq!(app.state_of(agent, &guid).await, code, "status {status}");
        let events = app.drain(agent, &guid).await;
        assert_eq!(names(&events), expected, "status {status}");
        let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
        assert_eq!(seqs, (1..=expected.len() as u64).collect::<Vec<_>>());
    }
}

#[tokio::test]
async fn numbers_and_booleans_may_be_strings_or_native_json() {
    let app = spawn_app().await;
    let strings = json!({"password": "Agent@123", "phonenum": "7105", "status": "3", "agenttype": "4",
        "autoanswer": "false", "releasephone": "true", "checkInWebm": "false"});
    let native = json!({"password": "Agent@123", "phonenum": "7106", "status": 3, "agenttype": 4,
        "autoanswer": false, "releasephone": true, "checkInWebm": false});
    for (agent, body) in [(105, strings), (106, native)] {
        let answer = app.login(agent, &body).await;
        answer.expect("0");
        assert_eq!(answer.body["result"]["mediatype"], "TFF");
        assert_eq!(app.state_of(agent, answer.set_guid.as_ref().unwrap()).await, 3);
    }
}

#[tokio::test]
async fn wrong_password_and_unknown_agent_look_the_same() {
    let app = spawn_app().await;
    let wrong = app.login(101, &json!({"password": "nope", "phonenum": "7101"})).await;
    wrong.expect("100-004");
    assert!(wrong.set_guid.is_none());
    let unknown = app.login(555, &json!({"password": "nope", "phonenum": "7555"})).await;
    unknown.expect("100-004");
    assert_eq!(wrong.body["message"], unknown.body["message"]);
    app.sign_in(101).await;
}

#[tokio::test]
async fn bad_sign_in_bodies_get_their_codes_and_sign_nobody_in() {
    let app = spawn_app().await;
    let cases = [
        (json!({}), "100-001"),
        (json!({"password": "Agent@123"}), "100-001"),
        (json!({"password": "Agent@123", "phonenum": "7999"}), "100-014"),
        (json!({"password": "Agent@123", "phonenum": "7101", "status": 6}), "100-011"),
        (json!({"password": "Agent@123", "phonenum": "7101", "agenttype": 5}), "100-012"),
        (json!({"password": "Agent@123", "phonenum": "7101", "ip": "300.1.1.1"}), "100-016"),
        (json!({"password": "x".repeat(33), "phonenum": "7101"}), "100-001"),
        (json!({"password": "Agent@123", "phonenum": "7101", "autoanswer": "maybe"}), "100-001"),
        (
            json!({"password": "Agent@123", "phonenum": "7101", "callBackUri": "https://h/x", "serviceToken": "t1"}),
            "100-011",
        ),
        (json!("just a string"), "100-001"),
    ];
    for (body, code) in cases {
        let answer = app.login(101, &body).await;
        assert_eq!(answer.retcode(), code, "{body}");
        assert!(answer.set_guid.is_none(), "{body}");
    }
    app.sign_in(101).await;
}

#[tokio::test]
async fn agent_ids_outside_the_range_get_000_002() {
    let app = spawn_app().await;
    for id in ["100", "1000000", "abc", "-101", "10%201"] {
        let answer =
            app.call(reqwest::Method::PUT, &format!("onlineagent/{id}"), None, Some(&app.login_body(101))).await;
        answer.expect("000-002");
    }
}

#[tokio::test]
async fn unknown_fields_in_the_body_are_never_bound() {
    let app = spawn_app().await;
    let body = json!({"password": "Agent@123", "phonenum": "7101", "role": "inspector", "skills": [3],
        "group": 2, "isSupervisor": true, "workno": "999"});
    let guid = app.login(101, &body).await.set_guid.unwrap();
    let skills = app.agent_skills(101, &guid).await;
    let ids: Vec<u64> = skills.body["result"].as_array().unwrap().iter().map(|s| s["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, [1, 2]);
}

#[tokio::test]
async fn second_sign_in_gets_100_002_and_the_first_session_is_unchanged() {
    let app = spawn_app().await;
    let first = app.sign_in(101).await;
    app.say_busy(101, &first, "?reason=210").await.expect("0");
    app.login(101, &app.login_body(101)).await.expect("100-002");
    assert_eq!(app.state_of(101, &first).await, 3);
}

#[tokio::test]
async fn forcelogin_displaces_the_old_session_which_gets_only_its_final_events() {
    let app = spawn_app().await;
    let old = app.sign_in(101).await;
    let login_time = {
        let events = app.drain(101, &old).await;
        assert_eq!(events.len(), 2);
        events[0]["eventGenTime"].as_u64().unwrap()
    };
    let answer = app.force_login(101, &app.login_body(101)).await;
    answer.expect("0");
    let new = answer.set_guid.clone().unwrap();
    assert_ne!(new, old);
    // The displaced Guid stops working at once everywhere but its final poll.
    app.say_busy(101, &old, "").await.expect("100-006");
    let last = app.next_event(101, &old).await;
    assert_eq!(last["eventType"], "AgentOther_ShutdownService");
    assert_eq!(last["content"]["reason"], "264");
    assert_eq!(last["content"]["loginTime"], login_time.to_string());
    app.poll(101, &old, "").await.expect("100-006");
    // The new session starts clean: its own events, from seq 1.
    let events = app.drain(101, &new).await;
    assert_eq!(names(&events), ["AgentOther_InService", "AgentState_Ready"]);
    assert_eq!(events[0]["seq"], 1);
    assert_eq!(app.state_of(101, &new).await, 4);
}

#[tokio::test]
async fn concurrent_sign_ins_of_one_agent_leave_exactly_one_session() {
    let app = spawn_app().await;
    let body = app.login_body(110);
    let attempts = (0..6).map(|_| app.login(110, &body));
    let answers = futures_util::future::join_all(attempts).await;
    let winners: Vec<_> = answers.iter().filter(|a| a.retcode() == "0").collect();
    assert_eq!(winners.len(), 1, "{:?}", answers.iter().map(|a| a.retcode().to_owned()).collect::<Vec<_>>());
    // Those that overlapped the winner's sign-in get 100-021, later ones 100-002.
    for loser in answers.iter().filter(|a| a.retcode() != "0") {
        assert!(["100-021", "100-002"].contains(&loser.retcode()), "{}", loser.body);
    }
    let guid = winners[0].set_guid.as_ref().unwrap();
    assert_eq!(app.state_of(110, guid).await, 4);
}

#[tokio::test]
async fn repeated_wrong_passwords_lock_the_work_number_even_for_the_right_one() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.gateway.lockout.attempts = 3;
        s.gateway.lockout.base_ms = 600_000;
    })
    .await;
    let wrong = json!({"password": "nope", "phonenum": "7101"});
    for _ in 0..3 {
        app.login(101, &wrong).await.expect("100-004");
    }
    app.login(101, &app.login_body(101)).await.expect("110-016");
    // Others are unaffected; an unknown work number locks the same way.
    app.sign_in(102).await;
    for _ in 0..3 {
        app.login(555, &json!({"password": "nope", "phonenum": "7555"})).await.expect("100-004");
    }
    app.login(555, &json!({"password": "nope", "phonenum": "7555"})).await.expect("110-016");
    let locks = app.audit_records().into_iter().filter(|r| r["action"] == "lockout").count();
    assert_eq!(locks, 2);
}

#[tokio::test]
async fn a_right_password_resets_the_count_and_a_lock_ends() {
    let app = crate::helpers::spawn_app_with(|s| {
        s.gateway.lockout.attempts = 2;
        s.gateway.lockout.base_ms = 300;
        s.gateway.lockout.max_ms = 300;
    })
    .await;
    let wrong = json!({"password": "nope", "phonenum": "7101"});
    app.login(101, &wrong).await.expect("100-004");
    let guid = app.sign_in(101).await;
    app.logout(101, &guid).await.expect("0");
    app.login(101, &wrong).await.expect("100-004");
    app.sign_in(101).await;
    app.force_login(101, &wrong).await.expect("100-004");
    app.force_login(101, &wrong).await.expect("100-004");
    app.force_login(101, &app.login_body(101)).await.expect("110-016");
    crate::helpers::eventually(std::time::Duration::from_secs(5), || async {
        (app.force_login(101, &app.login_body(101)).await.retcode() == "0").then_some(())
    })
    .await;
}

#[tokio::test]
async fn loginex_signs_in_to_voice_only_with_an_optional_phone() {
    let app = spawn_app().await;
    let answer = app.login_ex(101, &json!({"password": "Agent@123"})).await;
    answer.expect("0");
    assert_eq!(
        (answer.body["result"]["mediatype"].as_str(), answer.body["result"]["workno"].as_str()),
        (Some("TFF"), Some("101"))
    );
    let guid = answer.set_guid.clone().unwrap();
    assert_eq!(names(&app.drain(101, &guid).await), ["AgentOther_InService", "AgentState_Ready"]);
    // Like sign-in, not forced sign-in: a second one is refused.
    app.login_ex(101, &json!({"password": "Agent@123", "phonenum": "7101"})).await.expect("100-002");
    app.login_ex(102, &json!({"password": "Agent@123", "phonenum": "7999"})).await.expect("100-014");
    app.login_ex(102, &json!({"password": "nope"})).await.expect("100-004");
    app.login_ex(102, &json!({"password": "Agent@123", "status": 3})).await.expect("0");
}

/// Without a password `loginex` signs in only the work numbers the
/// directory marks `loginex_without_password` (demo: 119 and 120).
#[tokio::test]
async fn loginex_without_a_password_signs_in_only_where_the_directory_allows_it() {
    let app = crate::helpers::spawn_app_with(|s| s.gateway.lockout.attempts = 2).await;
    // For 101 an empty or missing password is a wrong one, counted as such.
    app.login_ex(101, &json!({"password": ""})).await.expect("100-004");
    app.login_ex(101, &json!({})).await.expect("100-004");
    app.login_ex(101, &json!({"phonenum": "7101"})).await.expect("110-016");
    // 119 and 120 are allowed, with or without a phone.
    for (agent, body) in [(119, json!({"password": ""})), (120, json!({"phonenum": "7120"}))] {
        let answer = app.login_ex(agent, &body).await;
        answer.expect("0");
        assert_eq!(app.state_of(agent, answer.set_guid.as_ref().unwrap()).await, 4);
    }
    // The allowance is loginex's only: sign-in still wants the password.
    app.login(118, &json!({"password": "", "phonenum": "7118"})).await.expect("100-004");
    app.force_login(120, &json!({"password": "", "phonenum": "7120"})).await.expect("100-004");
}
