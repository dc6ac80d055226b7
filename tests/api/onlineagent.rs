//! The agent's own settings and lookups: automatic answering, the talk
//! right, the custom state, another agent's skill queues.

use reqwest::Method;

use crate::helpers::{spawn_app, TestApp};

impl TestApp {
    pub async fn onlineagent(&self, method: Method, agent: u32, guid: &str, rest: &str) -> crate::helpers::Answer {
        self.call(method, &format!("onlineagent/{agent}/{rest}"), Some(guid), None).await
    }
}

#[tokio::test]
async fn auto_answer_takes_true_or_up_to_five_characters_and_nothing_else() {
    let app = spawn_app().await;
    let guid = app.sign_in(101).await;
    // Characters, not bytes: five Chinese characters are five.
    let five = "%E4%BD%A0".repeat(5);
    for good in ["true", "false", "no", "x", &five] {
        app.onlineagent(Method::POST, 101, &guid, &format!("autoanswer/{good}")).await.expect("0");
    }
    let six = "%E4%BD%A0".repeat(6);
    for bad in ["", "sixsix", &six] {
        let answer = app.onlineagent(Method::POST, 101, &guid, &format!("autoanswer/{bad}")).await;
        assert_eq!(answer.retcode(), "000-002", "{bad:?}");
    }
    // A setting, not a state change: no event, same state.
    app.drain(101, &guid).await;
    app.onlineagent(Method::POST, 101, &guid, "autoanswer/true").await.expect("0");
    assert!(app.drain(101, &guid).await.is_empty());
    assert_eq!(app.state_of(101, &guid).await, 4);
    app.onlineagent(Method::POST, 101, "not-a-guid", "autoanswer/true").await.expect("000-003");
}

#[tokio::test]
async fn the_talk_right_flag_is_1_or_0() {
    let app = spawn_app().await;
    let guid = app.sign_in(101).await;
    for good in ["1", "0"] {
        app.onlineagent(Method::POST, 101, &guid, &format!("settalkright?flag={good}")).await.expect("0");
    }
    for bad in ["", "2", "true", "01x"] {
        let answer = app.onlineagent(Method::POST, 101, &guid, &format!("settalkright?flag={bad}")).await;
        assert_eq!(answer.retcode(), "000-002", "{bad:?}");
    }
    app.onlineagent(Method::POST, 101, &guid, "settalkright").await.expect("000-002");
}

#[tokio::test]
async fn the_custom_state_is_0_to_65534_and_comes_back_in_message() {
    let app = spawn_app().await;
    let guid = app.sign_in(101).await;
    let query = app.onlineagent(Method::GET, 101, &guid, "querycustomstate").await;
    query.expect("0");
    assert_eq!((query.body["message"].as_str(), query.body["result"]["customState"].as_u64()), (Some("0"), Some(0)));
    for state in ["65534", "7"] {
        app.onlineagent(Method::POST, 101, &guid, &format!("setcustomstate?customstate={state}")).await.expect("0");
    }
    for bad in ["65535", "-1", "", "x", "1.5"] {
        let answer = app.onlineagent(Method::POST, 101, &guid, &format!("setcustomstate?customstate={bad}")).await;
        assert_eq!(answer.retcode(), "000-002", "{bad:?}");
    }
    app.onlineagent(Method::POST, 101, &guid, "setcustomstate").await.expect("000-002");
    let query = app.onlineagent(Method::GET, 101, &guid, "querycustomstate").await;
    assert_eq!((query.body["message"].as_str(), query.body["result"]["customState"].as_u64()), (Some("7"), Some(7)));
    assert_eq!(app.state_of(101, &guid).await, 4, "not an agent state");
    // A new session starts again at 0.
    let again = app.force_login(101, &app.login_body(101)).await.set_guid.unwrap();
    let query = app.onlineagent(Method::GET, 101, &again, "querycustomstate").await;
    assert_eq!(query.body["message"], "0");
}

#[tokio::test]
async fn another_agents_skill_queues_are_listed_within_the_vdn() {
    let app = spawn_app().await;
    let guid = app.sign_in(101).await;
    let answer = app.onlineagent(Method::GET, 101, &guid, "agentskillsbyworkno/205").await;
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
    app.onlineagent(Method::GET, 101, &guid, "agentskillsbyworkno/101").await.expect("0");
    app.onlineagent(Method::GET, 101, &guid, "agentskillsbyworkno/555").await.expect("100-019");
    for bad in ["abc", "100", "", "1000000"] {
        let answer = app.onlineagent(Method::GET, 101, &guid, &format!("agentskillsbyworkno/{bad}")).await;
        assert_eq!(answer.retcode(), "000-002", "{bad:?}");
    }
}
