//! Inspectors acting on agents: the principal × target matrix, forced
//! events, bulk actions and sign-in/out notifications.

use serde_json::{json, Value};

use crate::helpers::{names, spawn_app, TestApp};

/// The matrix floor: two groups, each with agents and a scoped inspector
/// (900 covers group 1, 901 covers group 2), and 999 covering everyone.
fn matrix_directory() -> std::path::PathBuf {
    static FILE: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    FILE.get_or_init(|| {
        use agentgateway::domain::directory::hash_password;
        let agent = hash_password(crate::helpers::AGENT_PASSWORD).unwrap();
        let boss = hash_password(crate::helpers::INSPECTOR_PASSWORD).unwrap();
        let mut text = String::from("[[skills]]\nid = 1\nname = \"Sales\"\n\n[[skills]]\nid = 2\nname = \"Billing\"\n\n");
        for (work_no, group, skill) in [(101, 1, 1), (102, 1, 1), (201, 2, 2), (202, 2, 2)] {
            text += &format!(
                "[[agents]]\nwork_no = {work_no}\npassword_hash = \"{agent}\"\nphones = [\"{}\"]\nskills = [{skill}]\ngroup = {group}\n\n",
                7000 + work_no
            );
        }
        for (work_no, group, scope) in [(900, 1, "{ groups = [1] }"), (901, 2, "{ groups = [2] }"), (999, 0, "{ all = true }")] {
            text += &format!(
                "[[agents]]\nwork_no = {work_no}\npassword_hash = \"{boss}\"\ngroup = {group}\nrole = \"inspector\"\nscope = {scope}\n\n"
            );
        }
        let path = std::env::temp_dir().join(format!("agw-matrix-{}.toml", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path
    })
    .clone()
}

async fn matrix_app() -> TestApp {
    crate::helpers::spawn_app_with(|s| s.directory = Some(matrix_directory())).await
}

/// Who may act on whom: agents nobody (not even themselves: an agent's
/// Guid on an inspector interface has no right); 900 group 1, 901 group 2,
/// 999 everyone; an inspector never itself.
fn expected(principal: u32, target: u32) -> &'static str {
    let group = |w: u32| match w {
        101 | 102 | 900 => 1,
        201 | 202 | 901 => 2,
        _ => 0,
    };
    match principal {
        101 | 201 => "900-002",
        p if p == target => "000-005",
        999 => "0",
        p if group(p) == group(target) => "0",
        _ => "900-002",
    }
}

struct Floor {
    guids: std::collections::HashMap<u32, String>,
}

impl Floor {
    async fn sign_in_everyone(app: &TestApp) -> Floor {
        let mut guids = std::collections::HashMap::new();
        for agent in [101, 102, 201, 202] {
            guids.insert(agent, app.sign_in(agent).await);
        }
        for inspector in [900, 901, 999] {
            guids.insert(inspector, app.sign_in_inspector(inspector, false).await);
        }
        for (agent, guid) in &guids {
            app.drain(*agent, guid).await;
        }
        Floor { guids }
    }

    fn guid(&self, agent: u32) -> &str {
        &self.guids[&agent]
    }

    /// Signs `agent` in again after a sign-out (inspectors without phone).
    async fn restore(&mut self, app: &TestApp, agent: u32) {
        let guid = if agent >= 900 { app.sign_in_inspector(agent, false).await } else { app.sign_in(agent).await };
        app.drain(agent, &guid).await;
        self.guids.insert(agent, guid);
    }
}

const PRINCIPALS: [u32; 5] = [101, 201, 900, 901, 999];
const TARGETS: [u32; 6] = [102, 202, 900, 901, 999, 101];

#[tokio::test]
async fn forced_state_changes_follow_the_scope_matrix() {
    let app = matrix_app().await;
    let floor = Floor::sign_in_everyone(&app).await;
    let actions = [
        ("forcebusy", "", 3, "AgentState_Force_SetNotReady"),
        ("forcerest", "/600/7", 8, "AgentState_SetRest_Success"),
        ("forceidle", "", 4, "AgentState_Force_Ready"),
    ];
    for principal in PRINCIPALS {
        for target in TARGETS {
            for (action, rest, state, event) in actions {
                let before = app.state_of(target, floor.guid(target)).await;
                let answer = app.qc(action, principal, floor.guid(principal), target, rest).await;
                let want = expected(principal, target);
                assert_eq!(answer.retcode(), want, "{principal} {action} {target}: {}", answer.body);
                let events = app.drain(target, floor.guid(target)).await;
                let after = app.state_of(target, floor.guid(target)).await;
                if want == "0" {
                    assert_eq!(after, state, "{principal} {action} {target}");
                    assert_eq!(names(&events), [event], "{principal} {action} {target}");
                    assert_eq!(events[0]["content"]["initiator"], format!("inspector:{principal}"));
                } else {
                    assert_eq!(after, before, "{principal} {action} {target} must change nothing");
                    assert!(events.is_empty(), "{principal} {action} {target} queued {events:?}");
                }
            }
        }
    }
}

#[tokio::test]
async fn agent_queries_follow_the_scope_matrix() {
    let app = matrix_app().await;
    let floor = Floor::sign_in_everyone(&app).await;
    for principal in PRINCIPALS {
        for target in TARGETS {
            let answer = app.agentgroup(principal, floor.guid(principal), &format!("agentbyworkno/{target}")).await;
            let want = match expected(principal, target) {
                "900-002" => "300-001",
                other => other,
            };
            assert_eq!(answer.retcode(), want, "{principal} queries {target}: {}", answer.body);
            if want == "0" {
                assert_eq!(answer.body["result"]["workno"], target.to_string());
            }
        }
    }
}

#[tokio::test]
async fn forced_sign_outs_follow_the_scope_matrix() {
    let app = matrix_app().await;
    let mut floor = Floor::sign_in_everyone(&app).await;
    for principal in PRINCIPALS {
        for target in TARGETS {
            let want = expected(principal, target);
            // Through qualitycontrol (reason 257) and through
            // forcelogoutwithreason with the inspector's own Guid (reason 42).
            for via in ["qualitycontrol", "forcelogoutwithreason"] {
                let answer = match via {
                    "qualitycontrol" => app.qc("forcelogout", principal, floor.guid(principal), target, "").await,
                    _ => app.force_logout_with_reason(target, floor.guid(principal), "42").await,
                };
                let want = match (via, principal, want) {
                    // On its own path every caller signs itself out.
                    ("forcelogoutwithreason", p, _) if p == target => "0",
                    // An agent's Guid is never accepted on another agent's path.
                    ("forcelogoutwithreason", 101 | 201, _) => "000-003",
                    (_, _, w) => w,
                };
                assert_eq!(answer.retcode(), want, "{principal} via {via} on {target}: {}", answer.body);
                let status = app.agent_status(target, floor.guid(target)).await;
                if want == "0" {
                    status.expect("100-006");
                    let last = app.drain_until_shutdown(target, floor.guid(target)).await.pop().unwrap();
                    let (reason, initiator) = match via {
                        "qualitycontrol" => ("257", format!("inspector:{principal}")),
                        _ if principal == target => ("42", "self".to_string()),
                        _ => ("42", format!("inspector:{principal}")),
                    };
                    assert_eq!(last["content"]["reason"], reason);
                    assert_eq!(last["content"]["initiator"], initiator);
                    floor.restore(&app, target).await;
                } else {
                    status.expect("0");
                    assert!(app.drain(target, floor.guid(target)).await.is_empty());
                }
            }
        }
    }
}

#[tokio::test]
async fn forced_events_name_their_reason() {
    let app = spawn_app().await;
    let agent = app.sign_in(101).await;
    let boss = app.sign_in_inspector(999, false).await;
    app.drain(101, &agent).await;
    app.qc("forcebusy", 999, &boss, 101, "").await.expect("0");
    let busy = app.next_event(101, &agent).await;
    assert_eq!(
        busy["content"],
        json!({"reason": "3", "reasonName": "forced busy by an inspector", "initiator": "inspector:999"})
    );
    app.qc("forcerest", 999, &boss, 101, "/60/7").await.expect("0");
    let rest = app.next_event(101, &agent).await;
    assert_eq!(rest["content"]["reasonName"], "lunch");
    app.force_logout_with_reason(101, &boss, "57").await.expect("0");
    let last = app.drain_until_shutdown(101, &agent).await.pop().unwrap();
    assert_eq!(last["content"]["reasonName"], "policy violation");
}

#[tokio::test]
async fn bad_forced_parameters_change_nothing() {
    let app = spawn_app().await;
    let agent = app.sign_in(101).await;
    let boss = app.sign_in_inspector(900, false).await;
    app.drain(101, &agent).await;
    for rest in ["/0/7", "/86400/7", "/60/0", "/60/256", "/x/1", "/60/"] {
        app.qc("forcerest", 900, &boss, 101, rest).await.expect("000-002");
    }
    app.qc("forcebusy", 900, &boss, 100, "").await.expect("000-002");
    app.qc("forcebusy", 900, &boss, 555, "").await.expect("900-004");
    app.qc("forcebusy", 900, &boss, 103, "").await.expect("100-006");
    app.force_logout_with_reason(101, &boss, "256").await.expect("100-005");
    assert_eq!(app.state_of(101, &agent).await, 4);
    assert!(app.drain(101, &agent).await.is_empty());
}

#[tokio::test]
async fn bulk_sign_out_reports_each_agent_in_scope() {
    let app = spawn_app().await;
    let a = app.sign_in(101).await;
    let b = app.sign_in(102).await;
    let other = app.sign_in(201).await;
    let boss = app.sign_in_inspector(900, false).await;
    let answer = app.bulk("bulkforcelogout", 900, &boss, &json!({"group": 1, "reason": 1})).await;
    answer.expect("0");
    let results: Vec<(String, String)> = answer.body["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["workNo"].as_str().unwrap().to_owned(), r["retcode"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(results.len(), 20, "every agent of group 1 but the inspector");
    assert!(results.contains(&("101".into(), "0".into())) && results.contains(&("102".into(), "0".into())));
    assert!(results.contains(&("103".into(), "100-006".into())), "not signed in, reported per agent");
    for (agent, guid) in [(101, &a), (102, &b)] {
        let last = app.drain_until_shutdown(agent, guid).await.pop().unwrap();
        assert_eq!(
            (last["content"]["reason"].as_str(), last["content"]["reasonName"].as_str()),
            (Some("1"), Some("end of shift"))
        );
    }
    app.agent_status(201, &other).await.expect("0");
    // Group 2 is outside 900's scope as a whole.
    app.bulk("bulkforcelogout", 900, &boss, &json!({"group": 2, "reason": 1})).await.expect("900-002");
    app.bulk("bulkforcelogout", 900, &boss, &json!({"group": 1})).await.expect("100-005");
    app.bulk("bulkforcelogout", 900, &boss, &json!({"group": 1, "skill": 2, "reason": 1})).await.expect("000-006");
    app.bulk("bulkforcelogout", 201, &other, &json!({"group": 2, "reason": 1})).await.expect("900-002");
}

#[tokio::test]
async fn bulk_busy_over_a_skill_queue_stays_inside_the_scope() {
    let app = spawn_app().await;
    let inside = app.sign_in(101).await;
    let outside = app.sign_in(201).await;
    let boss = app.sign_in_inspector(900, false).await;
    // Skill 2 has agents of both groups; 900 covers only group 1.
    let answer = app.bulk("bulkforcebusy", 900, &boss, &json!({"skill": 2})).await;
    answer.expect("0");
    let targets: Vec<&str> =
        answer.body["result"].as_array().unwrap().iter().map(|r| r["workNo"].as_str().unwrap()).collect();
    assert!(targets.contains(&"101") && !targets.contains(&"201"));
    assert_eq!(app.state_of(101, &inside).await, 3);
    assert_eq!(app.state_of(201, &outside).await, 4);
}

#[tokio::test]
async fn listening_inspectors_hear_sign_ins_and_outs_in_their_scope() {
    let app = spawn_app().await;
    let listener = app.sign_in_inspector(900, true).await;
    let deaf = app.sign_in_inspector(999, false).await;
    app.drain(900, &listener).await;
    app.drain(999, &deaf).await;
    let guid = app.sign_in(101).await;
    app.logout(101, &guid).await.expect("0");
    let other = app.sign_in(201).await;
    let heard: Vec<Value> = app.drain(900, &listener).await;
    let subtypes: Vec<(&str, &str)> = heard
        .iter()
        .map(|e| (e["content"]["subtype"].as_str().unwrap(), e["content"]["monitoredagent"].as_str().unwrap()))
        .collect();
    assert_eq!(subtypes, [("QC_AgentState_Login", "101"), ("QC_AgentState_Logout", "101")]);
    assert!(heard.iter().all(|e| e["eventType"] == "QC_AgentState_Notify"));
    // The jsonKey lists of reference §5.6, on the event and on its content.
    let keys =
        |v: &Value| v["jsonKey"].as_array().unwrap().iter().map(|k| k.as_str().unwrap().to_owned()).collect::<Vec<_>>();
    assert_eq!(keys(&heard[0]), ["eventType", "workNo", "content", "eventGenTime", "seq"]);
    assert_eq!(keys(&heard[0]["content"]), ["subtype", "monitoredagent", "agentname", "mediaserver"]);
    assert!(app.drain(999, &deaf).await.is_empty(), "only inspectors who asked are notified");
    app.agent_status(201, &other).await.expect("0");
}

#[tokio::test]
async fn reason_codes_are_listed_for_any_signed_in_caller_and_strict_mode_enforces_them() {
    let app = crate::helpers::spawn_app_with(|s| s.gateway.strict_reasons = true).await;
    let guid = app.sign_in(101).await;
    let catalog = app.reason_codes(101, &guid).await;
    catalog.expect("0");
    let entries = catalog.body["result"].as_array().unwrap();
    let find = |category: &str, code: u64| {
        entries.iter().find(|e| e["category"] == category && e["code"] == code).map(|e| e["name"].clone())
    };
    assert_eq!(find("signout", 57), Some(json!("policy violation")));
    assert_eq!(find("system", 263), Some(json!("agent heartbeat (poll) timeout")));
    assert_eq!(find("rest", 7), Some(json!("lunch")));
    // Strict: in range but not in the catalog is refused.
    app.say_busy(101, &guid, "?reason=205").await.expect("000-002");
    app.rest(101, &guid, "60", "9", "").await.expect("000-002");
    app.force_logout_with_reason(101, &guid, "99").await.expect("100-005");
    app.say_busy(101, &guid, "?reason=201").await.expect("0");
    assert_eq!(app.state_of(101, &guid).await, 3);
}
