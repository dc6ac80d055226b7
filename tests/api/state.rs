//! State changes: busy, idle, rest, wrap-up, skills.

use crate::helpers::{names, spawn_app};

#[tokio::test]
async fn busy_then_idle_reports_states_and_events_in_order() {
    let app = spawn_app().await;
    let guid = app.sign_in(101).await;
    app.drain(101, &guid).await;
    app.say_busy(101, &guid, "?reason=201").await.expect("0");
    assert_eq!(app.state_of(101, &guid).await, 3);
    app.say_free(101, &guid).await.expect("0");
    assert_eq!(app.state_of(101, &guid).await, 4);
    let events = app.drain(101, &guid).await;
    assert_eq!(
        names(&events),
        ["AgentState_SetNotReady_Success", "AgentState_CancelNotReady_Success", "AgentState_Ready"]
    );
    assert_eq!(events[0]["content"]["reason"], "201");
    app.say_busy(101, &guid, "").await.expect("0");
    app.cancel_busy(101, &guid).await.expect("0");
    let events = app.drain(101, &guid).await;
    assert_eq!(events[0]["content"]["reason"], "0", "no reason reads as 0");
}

#[tokio::test]
async fn busy_reasons_outside_the_range_change_nothing() {
    let app = spawn_app().await;
    let guid = app.sign_in(101).await;
    app.drain(101, &guid).await;
    for query in
        ["?reason=199", "?reason=251", "?reason=1", "?reason=abc", "?reason=-1", "?reason=2.5", "?prolong=perhaps"]
    {
        app.say_busy(101, &guid, query).await.expect("000-002");
    }
    assert_eq!(app.state_of(101, &guid).await, 4);
    assert!(app.drain(101, &guid).await.is_empty(), "a refused command queues no event");
}

#[tokio::test]
async fn changing_the_busy_reason_needs_prolong() {
    let app = spawn_app().await;
    let guid = app.sign_in(101).await;
    app.say_busy(101, &guid, "?reason=201").await.expect("0");
    app.drain(101, &guid).await;
    app.say_busy(101, &guid, "?reason=202").await.expect("000-002");
    app.say_busy(101, &guid, "?reason=202&prolong=false").await.expect("100-009");
    assert!(app.drain(101, &guid).await.is_empty());
    app.say_busy(101, &guid, "?reason=202&prolong=true").await.expect("0");
    let event = app.next_event(101, &guid).await;
    assert_eq!(
        (event["eventType"].as_str(), event["content"]["reason"].as_str()),
        (Some("AgentState_SetNotReady_Success"), Some("202"))
    );
}

#[tokio::test]
async fn rest_is_granted_reminded_and_cancelled() {
    let app = spawn_app_with_poll_wait(3_000).await;
    let guid = app.sign_in(101).await;
    app.drain_n(101, &guid, 2).await;
    app.rest(101, &guid, "1", "7", "").await.expect("0");
    assert_eq!(app.state_of(101, &guid).await, 8);
    let granted = app.next_event(101, &guid).await;
    assert_eq!(granted["eventType"], "AgentState_SetRest_Success");
    assert_eq!((granted["content"]["reason"].as_str(), granted["content"]["time"].as_str()), (Some("7"), Some("1")));
    // The reminder arrives when the second runs out; the agent keeps resting.
    let reminder = app.next_event(101, &guid).await;
    assert_eq!(reminder["eventType"], "AgentState_Rest_Timeout");
    assert_eq!(app.state_of(101, &guid).await, 8);
    app.rest(101, &guid, "60", "7", "").await.expect("000-002");
    app.rest(101, &guid, "60", "8", "?prolong=true").await.expect("0");
    app.cancel_rest(101, &guid).await.expect("0");
    let events = app.drain_n(101, &guid, 3).await;
    assert_eq!(names(&events), ["AgentState_SetRest_Success", "AgentState_CancelRest_Success", "AgentState_Ready"]);
    assert_eq!(app.state_of(101, &guid).await, 4);
}

#[tokio::test]
async fn rest_parameters_outside_their_ranges_change_nothing() {
    let app = spawn_app().await;
    let guid = app.sign_in(101).await;
    app.drain(101, &guid).await;
    for (time, cause) in
        [("0", "1"), ("86400", "1"), ("abc", "1"), ("-5", "1"), ("60", "256"), ("60", "x"), ("1.5", "1")]
    {
        app.rest(101, &guid, time, cause, "").await.expect("000-002");
    }
    assert_eq!(app.state_of(101, &guid).await, 4);
    assert!(app.drain(101, &guid).await.is_empty());
}

#[tokio::test]
async fn wrap_up_is_entered_and_left() {
    let app = spawn_app().await;
    let guid = app.sign_in(101).await;
    app.drain(101, &guid).await;
    app.work(101, &guid).await.expect("0");
    assert_eq!(app.state_of(101, &guid).await, 5);
    app.work(101, &guid).await.expect("100-009");
    app.cancel_work(101, &guid).await.expect("0");
    app.work(101, &guid).await.expect("0");
    app.say_free(101, &guid).await.expect("0");
    let events = app.drain(101, &guid).await;
    assert_eq!(
        names(&events),
        [
            "AgentState_SetWork_Success",
            "AgentState_CancelWork_Success",
            "AgentState_Ready",
            "AgentState_SetWork_Success",
            "AgentState_CancelWork_Success",
            "AgentState_Ready"
        ]
    );
}

#[tokio::test]
async fn transitions_not_allowed_from_the_current_state_get_100_009() {
    let app = spawn_app().await;
    let guid = app.sign_in(101).await;
    app.drain(101, &guid).await;
    app.say_free(101, &guid).await.expect("100-009");
    app.cancel_busy(101, &guid).await.expect("100-009");
    app.cancel_rest(101, &guid).await.expect("100-009");
    app.cancel_work(101, &guid).await.expect("100-009");
    app.rest(101, &guid, "600", "0", "").await.expect("0");
    app.say_busy(101, &guid, "?reason=201").await.expect("100-009");
    app.work(101, &guid).await.expect("100-009");
    app.say_free(101, &guid).await.expect("100-009");
    assert_eq!(app.state_of(101, &guid).await, 8);
    assert_eq!(names(&app.drain(101, &guid).await), ["AgentState_SetRest_Success"]);
}

#[tokio::test]
async fn auto_enter_idle_flag_is_checked() {
    let app = spawn_app().await;
    let guid = app.sign_in(101).await;
    app.auto_enter_idle(101, &guid, "true").await.expect("0");
    app.auto_enter_idle(101, &guid, "false").await.expect("0");
    app.auto_enter_idle(101, &guid, "abcdef").await.expect("000-002");
    app.auto_enter_idle(101, &guid, "").await.expect("000-002");
}

#[tokio::test]
async fn skills_are_listed_and_reset() {
    let app = spawn_app().await;
    let guid = app.sign_in(201).await;
    let ids = |a: &crate::helpers::Answer| -> Vec<u64> {
        a.body["result"].as_array().unwrap().iter().map(|s| s["id"].as_u64().unwrap()).collect()
    };
    let configured = app.agent_skills(201, &guid).await;
    configured.expect("0");
    assert_eq!(ids(&configured), [2, 3]);
    assert_eq!(configured.body["result"][0]["name"], "Support");
    assert_eq!(ids(app.reset_skill(201, &guid, "true", "").await.expect("0")), [2, 3]);
    assert_eq!(ids(app.reset_skill(201, &guid, "false", "?skillid=3;1;9").await.expect("0")), [3]);
    assert!(ids(app.reset_skill(201, &guid, "false", "").await.expect("0")).is_empty());
    app.reset_skill(201, &guid, "false", "?skillid=a;b").await.expect("000-002");
    app.reset_skill(201, &guid, "true", "?phonelinkage=2").await.expect("000-002");
}

async fn spawn_app_with_poll_wait(ms: u64) -> crate::helpers::TestApp {
    crate::helpers::spawn_app_with(|s| s.gateway.poll_wait_ms = ms).await
}

impl crate::helpers::TestApp {
    /// Takes exactly `n` events, waiting for each.
    pub async fn drain_n(&self, agent: u32, guid: &str, n: usize) -> Vec<serde_json::Value> {
        let mut events = Vec::new();
        for _ in 0..n {
            events.push(self.next_event(agent, guid).await);
        }
        events
    }
}
