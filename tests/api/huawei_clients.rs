//! The gateway driven exactly as Huawei's own sample clients drive it (see
//! docs/huawei-clients.md): the Java AgentServerDemo (Apache HttpClient,
//! `com.huawei.demo.request.Request`, `GetEventThread`, `HeartBeatThread`)
//! and the C# QuickAgent (`AgentGatewayHelper`). Both read the raw answer,
//! so these tests do too: header names as spelled, bodies as bytes.

use serde_json::{json, Value};

use crate::helpers::{spawn_app, RawAnswer, TestApp};

/// What the Java sample's `Request` does with one call.
struct JavaClient<'a> {
    app: &'a TestApp,
    work_no: u32,
    /// `GlobalObjects.GUID_MAP`: set only from `forcelogin`'s answer.
    guid: Option<String>,
}

impl JavaClient<'_> {
    /// `Request.put/post/get/delete`: `Content-Type:
    /// application/json;charset=UTF-8`, the Guid as `guid` (but on
    /// `forcelogin`), and the body read **only** when the status is 200,
    /// otherwise a null result. `forcelogin` then runs `dealGuid`.
    async fn call(&mut self, method: &str, url: &str, entity: Option<&Value>) -> Option<Value> {
        let guid = self.guid.clone().filter(|_| !url.contains("forcelogin"));
        let headers: Vec<(&str, &str)> = guid.as_deref().map(|g| ("guid", g)).into_iter().collect();
        let body = entity.map(Value::to_string).unwrap_or_default();
        let answer = self.app.raw(method, url, &headers, &body).await;
        if answer.status != 200 {
            return None;
        }
        if url.contains("forcelogin") {
            self.deal_guid(&answer);
        }
        Some(answer.json())
    }

    /// `Request.dealGuid`: `header.getName().equals("Set-GUID")`, case
    /// sensitive, then `setGuid.replace("JSESSIONID=", "")`.
    fn deal_guid(&mut self, answer: &RawAnswer) {
        if let Some((_, value)) = answer.headers.iter().find(|(name, _)| name == "Set-GUID") {
            self.guid = Some(value.replace("JSESSIONID=", ""));
        }
    }

    /// `OnlineAgentService.forceLogin`'s body.
    async fn force_login(&mut self) -> Option<Value> {
        let entity = json!({"password": "Agent@123", "phonenum": (7000 + self.work_no).to_string(),
            "autoanswer": true, "autoenteridle": false, "agenttype": "4", "status": 4, "releasephone": true});
        self.call("PUT", &format!("onlineagent/{}/forcelogin", self.work_no), Some(&entity)).await
    }

    /// `GetEventThread.run`: poll; `"0"` with an event handles it, without
    /// one pauses and polls again; `"100-006"` clears the agent and stops.
    /// On any other retcode the sample polls again at once and forever; this
    /// loop stops instead, on 000-003 or a null result, and says so.
    async fn poll_until_quiet_or_signed_out(&mut self) -> (Vec<Value>, &'static str) {
        let mut events = Vec::new();
        let url = format!("agentevent/{}", self.work_no);
        for _ in 0..50 {
            let Some(map) = self.call("GET", &url, None).await else { return (events, "null result") };
            match map["retcode"].as_str() {
                Some("0") => match map.get("event") {
                    None | Some(Value::Null) => return (events, "quiet"),
                    Some(event) => events.push(event.clone()),
                },
                Some("100-006") => return (events, "100-006"),
                Some("000-003") => return (events, "000-003"),
                other => panic!("the Java sample would spin on {other:?}"),
            }
        }
        panic!("no end to the events: {events:?}");
    }
}

fn event_types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["eventType"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn the_java_sample_signs_in_polls_heartbeats_goes_busy_and_idle_and_is_signed_out() {
    let app = spawn_app().await;
    let mut java = JavaClient { app: &app, work_no: 101, guid: None };

    let signed_in = java.force_login().await.expect("HTTP 200");
    assert_eq!(signed_in["retcode"], "0", "{signed_in}");
    let guid = java.guid.clone().expect("found Set-GUID by its exact name");
    assert!(guid.ends_with(".AgentGateway0") && !guid.contains('='), "{guid}");
    let login_time = signed_in["result"]["loginTime"].clone();

    let (events, end) = java.poll_until_quiet_or_signed_out().await;
    assert_eq!((event_types(&events), end), (vec!["AgentOther_InService", "AgentState_Ready"], "quiet"));

    // HeartBeatThread: PUT heartbeat, no body, and it reads result.loginTime.
    let beat = java.call("PUT", "onlineagent/101/heartbeat", None).await.expect("HTTP 200");
    assert_eq!((beat["retcode"].as_str(), &beat["result"]["loginTime"]), (Some("0"), &login_time));

    assert_eq!(java.call("POST", "onlineagent/101/saybusy", None).await.unwrap()["retcode"], "0");
    assert_eq!(java.call("POST", "onlineagent/101/sayfree", None).await.unwrap()["retcode"], "0");
    let (events, end) = java.poll_until_quiet_or_signed_out().await;
    let expected = ["AgentState_SetNotReady_Success", "AgentState_CancelNotReady_Success", "AgentState_Ready"];
    assert_eq!((event_types(&events), end), (expected.to_vec(), "quiet"));

    // A refusal still reaches the sample: HTTP 200 with its retcode.
    let refused = java.call("DELETE", "onlineagent/101/forcelogoutwithreason/300", None).await;
    assert_eq!(refused.expect("HTTP 200, not a null result")["retcode"], "100-005");
    let unknown = java.call("GET", "onlineagent/101/nothing", None).await;
    assert_eq!(unknown.expect("HTTP 200, not a null result")["retcode"], "000-002");

    // Forced sign-out with a reason: the last events, then 100-006 ends the thread.
    assert_eq!(java.call("DELETE", "onlineagent/101/forcelogoutwithreason/57", None).await.unwrap()["retcode"], "0");
    let (events, end) = java.poll_until_quiet_or_signed_out().await;
    assert_eq!((event_types(&events), end), (vec!["AgentOther_ShutdownService"], "100-006"));
    assert_eq!(events[0]["content"]["reason"], "57");

    // Sign in again (a new Guid) and sign out.
    assert_eq!(java.force_login().await.unwrap()["retcode"], "0");
    assert_ne!(java.guid.as_deref(), Some(guid.as_str()));
    java.poll_until_quiet_or_signed_out().await;
    assert_eq!(java.call("DELETE", "onlineagent/101/logout", None).await.unwrap()["retcode"], "0");
    let (events, end) = java.poll_until_quiet_or_signed_out().await;
    assert_eq!((event_types(&events), end), (vec!["AgentOther_ShutdownService"], "100-006"));
    assert_eq!(events[0]["content"]["reason"], "258");
}

/// What the C# sample's `AgentGatewayHelper` does.
struct CSharpClient<'a> {
    app: &'a TestApp,
    work_no: u32,
    /// `guid`: set from `Set-GUID` (found case-insensitively) on sign-in only.
    guid: String,
    /// `callBackFailedTimes`: polls it could not make sense of. At 8 in a
    /// row it signs the agent out on its side.
    failures: u32,
}

impl CSharpClient<'_> {
    /// `CallService`: the Guid as `guid`; `GetResponse` throws on a status
    /// that is not 2xx.
    async fn call(&self, method: &str, url: &str, body: Option<&Value>) -> RawAnswer {
        let body = body.map(Value::to_string).unwrap_or_default();
        let answer = self.app.raw(method, url, &[("guid", &self.guid)], &body).await;
        assert_eq!(answer.status, 200, "HttpWebRequest would throw on {method} {url}: {}", answer.body);
        answer
    }

    /// `OnlineAgent`: the `SignInParam` as Json.NET writes it (nulls
    /// included), then `guid = Set-GUID` after `=`.
    async fn sign_in(&mut self, path: &str) -> Value {
        let param = json!({"password": "Agent@123", "phonenum": (7000 + self.work_no).to_string(),
            "autoanswer": true, "autoenteridle": true, "releasephone": true, "agenttype": 4, "status": 4,
            "ip": null, "entryIp": null, "phonelinkage": false, "checkInMailm": false, "vcPhoneNumber": null});
        let answer = self.call("PUT", path, Some(&param)).await;
        let set_guid = answer.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("Set-GUID")).map(|(_, v)| v);
        if let Some(value) = set_guid {
            self.guid = value[value.find('=').unwrap() + 1..].to_owned();
        }
        answer.json()
    }

    /// `GetAgentEvents`: the exact body `{"message":"","retcode":"0"}` is no
    /// event. Any other body without an `event` is a refusal (the timer
    /// counts 000-003 and 100-006 towards signing out); one with an `event`
    /// must have `event.eventType`, or reading it throws and the timer
    /// counts a failure (`"event":null` does that).
    async fn next_event(&mut self) -> Option<Value> {
        let answer = self.call("GET", &format!("agentevent/{}", self.work_no), None).await;
        if answer.body == r#"{"message":"","retcode":"0"}"# {
            return None;
        }
        let data = answer.json();
        match data.get("event") {
            None => None,
            Some(event) if event["eventType"].is_string() => Some(event.clone()),
            Some(_) => {
                self.failures += 1;
                None
            }
        }
    }

    async fn events(&mut self) -> Vec<Value> {
        let mut events = Vec::new();
        while let Some(event) = self.next_event().await {
            events.push(event);
        }
        events
    }
}

#[tokio::test]
async fn the_csharp_sample_signs_in_reads_its_events_notes_and_agent_list_and_is_signed_out() {
    let app = spawn_app().await;
    let mut desk = CSharpClient { app: &app, work_no: 102, guid: String::new(), failures: 0 };
    let signed_in = desk.sign_in("onlineagent/102").await;
    assert_eq!((signed_in["retcode"].as_str(), signed_in["result"]["vdnid"].as_u64()), (Some("0"), Some(1)));
    assert!(desk.guid.ends_with(".AgentGateway0"), "{}", desk.guid);
    assert_eq!(event_types(&desk.events().await), ["AgentOther_InService", "AgentState_Ready"]);
    // Quiet polls are the exact "no event" body, again and again.
    for _ in 0..3 {
        assert!(desk.next_event().await.is_none());
    }

    assert_eq!(desk.call("POST", "onlineagent/102/saybusy", None).await.json()["retcode"], "0");
    assert_eq!(desk.call("POST", "onlineagent/102/sayfree", None).await.json()["retcode"], "0");
    let expected = ["AgentState_SetNotReady_Success", "AgentState_CancelNotReady_Success", "AgentState_Ready"];
    assert_eq!(event_types(&desk.events().await), expected);

    // A note from 101: the sample reads `content.sender` as a number and `content.context`.
    let sender = app.sign_in(101).await;
    let note = json!({"agentIds": [102], "content": "call me back"});
    app.call(reqwest::Method::POST, "onlineagent/101/sendnoteletex", Some(&sender), Some(&note)).await.expect("0");
    let received = desk.next_event().await.expect("AgentOther_Note");
    assert_eq!(received["eventType"], "AgentOther_Note");
    assert_eq!(received["content"]["sender"].as_str().unwrap().parse::<i32>(), Ok(101));
    assert_eq!(received["content"]["context"], "call me back");

    // The agent list as its AgentStateInfo reads it, for an inspector's desk.
    let mut boss = CSharpClient { app: &app, work_no: 999, guid: String::new(), failures: 0 };
    let answer = boss.call("PUT", "onlineagent/999", Some(&json!({"password": "Super@123"}))).await;
    boss.guid = answer.header("Set-GUID").unwrap().split_once('=').unwrap().1.to_owned();
    let agents = boss.call("GET", "agentgroup/999/allagentstatus", None).await.json();
    let me = agents["result"].as_array().unwrap().iter().find(|a| a["workno"] == "102").unwrap();
    let state_info: Vec<&str> = ["workno", "status", "name", "groupName", "ctiStatus"]
        .iter()
        .map(|field| me[field].as_str().unwrap_or_else(|| panic!("{field} is a string in {me}")))
        .collect();
    assert_eq!(state_info, ["102", "4", "Agent 102", "Team 1", "1"]);

    // Forced out by the inspector with a reason, on the agent's own path.
    let forced = boss.call("DELETE", "onlineagent/102/forcelogoutwithreason/57", None).await.json();
    assert_eq!(forced["retcode"], "0");
    let last = desk.events().await;
    assert_eq!(event_types(&last), ["AgentOther_ShutdownService"]);
    assert_eq!(last[0]["content"]["initiator"], "inspector:999");
    assert_eq!(desk.call("GET", "agentevent/102", None).await.json()["retcode"], "100-006");

    // Signs in again (forcelogin) and out.
    assert_eq!(desk.sign_in("onlineagent/102/forcelogin").await["retcode"], "0");
    desk.events().await;
    assert_eq!(desk.call("DELETE", "onlineagent/102/logout", None).await.json()["retcode"], "0");
    assert_eq!(event_types(&desk.events().await), ["AgentOther_ShutdownService"]);
    assert_eq!(desk.failures, 0, "every poll made sense to the sample");
}
