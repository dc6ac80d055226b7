//! The agent's own settings and lookups: automatic answering, the talk
//! right, the custom state, another agent's skill queues.

use reqwest::Method;

use crate::helpers::{spawn_app, TestApp};

#[tokio::test]
async fn auto_answer_takes_true_or_up_to_five_characters_and_nothing_else() {
    let app = spawn_app().await;
    let guid = app.sign_in(101).await;
    // Characters, not bytes: five Chinese characters are five.
    let five = "%E4%BD%A0".repeat(5);
    for good in ["true", "false", "no", "x", &five] {
        app.auto_answer(101, &guid, good).await.expect("0");
    }
    let six = "%E4%BD%A0".repeat(6);
    for bad in ["", "sixsix", &six] {
        let answer = app.auto_answer(101, &guid, bad).await;
        assert_eq!(answer.retcode(), "000-002", "{bad:?}");
    }
    // A setting, not a state change: no event, same state.
    app.drain(101, &guid).await;
    app.auto_answer(101, &guid, "true").await.expect("0");
    assert!(app.drain(101, &guid).await.is_empty());
    assert_eq!(app.state_of(101, &guid).await, 4);
    app.auto_answer(101, "not-a-guid", "true").await.expect("000-003");
}

#[tokio::test]
async fn the_talk_right_flag_is_1_or_0() {
    let app = spawn_app().await;
    let guid = app.sign_in(101).await;
    for good in ["1", "0"] {
        app.set_talk_right(101, &guid, &format!("?flag={good}")).await.expect("0");
    }
    for bad in ["", "2", "true", "01x"] {
        let answer = app.set_talk_right(101, &guid, &format!("?flag={bad}")).await;
        assert_eq!(answer.retcode(), "000-002", "{bad:?}");
    }
    app.set_talk_right(101, &guid, "").await.expect("000-002");
}

#[tokio::test]
async fn the_custom_state_is_0_to_65534_and_comes_back_in_message() {
    let app = spawn_app().await;
    let guid = app.sign_in(101).await;
    let query = app.query_custom_state(101, &guid).await;
    query.expect("0");
    assert_eq!((query.body["message"].as_str(), query.body["result"]["customState"].as_u64()), (Some("0"), Some(0)));
    for state in ["65534", "7"] {
        app.set_custom_state(101, &guid, &format!("?customstate={state}")).await.expect("0");
    }
    for bad in ["65535", "-1", "", "x", "1.5"] {
        let answer = app.set_custom_state(101, &guid, &format!("?customstate={bad}")).await;
        assert_eq!(answer.retcode(), "000-002", "{bad:?}");
    }
    app.set_custom_state(101, &guid, "").await.expect("000-002");
    let query = app.query_custom_state(101, &guid).await;
    assert_eq!((query.body["message"].as_str(), query.body["result"]["customState"].as_u64()), (Some("7"), Some(7)));
    assert_eq!(app.state_of(101, &guid).await, 4, "not an agent state");
    // A new session starts again at 0.
    let again = app.force_login(101, &app.login_body(101)).await.set_guid.unwrap();
    let query = app.query_custom_state(101, &again).await;
    assert_eq!(query.body["message"], "0");
}

#[tokio::test]
async fn another_agents_skill_queues_are_listed_within_the_vdn() {
    let app = spawn_app().await;
    let guid = app.sign_in(101).await;
    let answer = app.agent_skills_by_work_no(101, &guid, "205").await;
    answer.expect("0");
    let skills: Vec<(u64, &str)> = answer.body["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_u64().unwrap(), s["name"].as_str().unwrap()))
        .collect();
    assert_eq!(skills, [(2, "Support"), (3, "Billing")]);
    assert_eq!(answer.body["result"][0]["mediatype"], 5);
    // Signed out does not matter; a work number not in the VDN does.
    app.agent_skills_by_work_no(101, &guid, "101").await.expect("0");
    app.agent_skills_by_work_no(101, &guid, "555").await.expect("100-019");
    for bad in ["abc", "100", "", "1000000"] {
        let answer = app.agent_skills_by_work_no(101, &guid, bad).await;
        assert_eq!(answer.retcode(), "000-002", "{bad:?}");
    }
}

impl TestApp {
    pub async fn send_note(&self, agent: u32, guid: &str, body: &serde_json::Value) -> crate::helpers::Answer {
        self.call(Method::POST, &format!("onlineagent/{agent}/sendnoteletex"), Some(guid), Some(body)).await
    }
    pub async fn notify_bulletin(&self, agent: u32, guid: &str, body: &serde_json::Value) -> crate::helpers::Answer {
        self.call(Method::POST, &format!("onlineagent/{agent}/notifybulletin"), Some(guid), Some(body)).await
    }
}

#[tokio::test]
async fn a_note_reaches_every_signed_in_receiver_and_reports_the_others() {
    let app = spawn_app().await;
    let sender = app.sign_in(101).await;
    let receiver = app.sign_in(102).await;
    app.drain(101, &sender).await;
    app.drain(102, &receiver).await;
    let body = serde_json::json!({"agentIds": [102, "103", 555, "102"], "content": "你好, meeting at 3"});
    let answer = app.send_note(101, &sender, &body).await;
    answer.expect("0");
    let outcomes: Vec<(&str, &str)> = answer.body["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["workNo"].as_str().unwrap(), r["retcode"].as_str().unwrap()))
        .collect();
    assert_eq!(outcomes, [("102", "0"), ("103", "100-006"), ("555", "100-006")]);
    // The receiver reads the text and the sender where Huawei's C# sample does.
    let note = app.next_event(102, &receiver).await;
    assert_eq!(note["eventType"], "AgentOther_Note");
    let content = &note["content"];
    assert_eq!((content["sender"].as_str(), content["sendername"].as_str()), (Some("101"), Some("Agent 101")));
    assert_eq!(content["context"], "你好, meeting at 3");
    assert!(content["receivetime"].as_str().unwrap().parse::<u64>().unwrap() > 1_600_000_000_000);
    assert!(content["timestring"].as_str().unwrap().ends_with('Z'));
    assert!(app.drain(101, &sender).await.is_empty(), "the sender gets no event");
}

#[tokio::test]
async fn a_bad_note_is_refused_and_delivers_nothing() {
    let app = spawn_app().await;
    let sender = app.sign_in(101).await;
    let receiver = app.sign_in(102).await;
    app.drain(102, &receiver).await;
    let receivers: Vec<u32> = (101..=201).collect();
    for body in [
        serde_json::json!({"agentIds": [102]}),
        serde_json::json!({"agentIds": [], "content": "x"}),
        serde_json::json!({"agentIds": receivers, "content": "x"}),
        serde_json::json!({"agentIds": ["10x"], "content": "x"}),
        serde_json::json!({"agentIds": [102], "content": "x".repeat(1024)}),
    ] {
        app.send_note(101, &sender, &body).await.expect("000-006");
    }
    assert!(app.drain(102, &receiver).await.is_empty());
    app.send_note(101, "not-a-guid", &serde_json::json!({"agentIds": [102], "content": "x"})).await.expect("000-003");
}

#[tokio::test]
async fn a_bulletin_reaches_the_signed_in_members_of_a_team_or_a_queue() {
    let app = spawn_app().await;
    let guids: Vec<String> = futures_util::future::join_all([101, 102, 103, 201].map(|a| app.sign_in(a))).await;
    for (agent, guid) in [101, 102, 103, 201].iter().zip(&guids) {
        app.drain(*agent, guid).await;
    }
    let team = serde_json::json!({"targettype": 0, "targetname": "Team 1", "bulletindata": "Shift ends at 6"});
    let answer = app.notify_bulletin(101, &guids[0], &team).await;
    answer.expect("0");
    assert_eq!(answer.body["result"]["receivers"], 2, "102 and 103, not the sender, not 201");
    for (agent, guid) in [(102, &guids[1]), (103, &guids[2])] {
        let bulletin = app.next_event(agent, guid).await;
        assert_eq!(bulletin["eventType"], "AgentOther_Bulletin");
        let content = &bulletin["content"];
        assert_eq!((content["sender"].as_str(), content["context"].as_str()), (Some("101"), Some("Shift ends at 6")));
        assert_eq!((content["targettype"].as_str(), content["targetname"].as_str()), (Some("0"), Some("Team 1")));
    }
    assert!(app.drain(101, &guids[0]).await.is_empty());
    assert!(app.drain(201, &guids[3]).await.is_empty());
    // A skill queue, by name: the agents signed in to it now.
    let queue = serde_json::json!({"targettype": "1", "targetname": "Billing", "bulletindata": "x"});
    assert_eq!(app.notify_bulletin(101, &guids[0], &queue).await.expect("0").body["result"]["receivers"], 1);
    app.reset_skill(201, &guids[3], "false", "?skillid=2").await.expect("0");
    assert_eq!(app.notify_bulletin(101, &guids[0], &queue).await.expect("0").body["result"]["receivers"], 0);
    // A team by its number; a name that matches nothing is refused.
    let by_number = serde_json::json!({"targettype": 0, "targetname": "2", "bulletindata": "x"});
    assert_eq!(app.notify_bulletin(101, &guids[0], &by_number).await.expect("0").body["result"]["receivers"], 1);
    let nowhere = serde_json::json!({"targettype": 0, "targetname": "Team 9", "bulletindata": "x"});
    app.notify_bulletin(101, &guids[0], &nowhere).await.expect("000-006");
    let long = serde_json::json!({"targettype": 0, "targetname": "Team 1", "bulletindata": "x".repeat(901)});
    app.notify_bulletin(101, &guids[0], &long).await.expect("000-006");
}
