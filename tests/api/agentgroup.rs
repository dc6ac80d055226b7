//! Status queries, filtered to the caller's scope.

use crate::helpers::spawn_app;

fn work_numbers(answer: &crate::helpers::Answer) -> Vec<String> {
    answer.body["result"].as_array().unwrap().iter().map(|a| a["workno"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn all_agent_status_lists_exactly_the_scope() {
    let app = spawn_app().await;
    let agent = app.sign_in(101).await;
    app.say_busy(101, &agent, "?reason=201").await.expect("0");
    let scoped = app.sign_in_inspector(900, false).await;
    let all = app.sign_in_inspector(999, false).await;
    let answer = app.agentgroup(900, &scoped, "allagentstatus").await;
    answer.expect("0");
    let listed = work_numbers(&answer);
    assert_eq!(listed.len(), 20);
    assert!(listed.iter().all(|w| (101..=120).contains(&w.parse::<u32>().unwrap())), "{listed:?}");
    let me = answer.body["result"].as_array().unwrap().iter().find(|a| a["workno"] == "101").unwrap();
    assert_eq!(
        (me["agentState"].as_u64(), me["reason"].as_u64(), me["reasonName"].as_str()),
        (Some(3), Some(201), Some("training"))
    );
    assert_eq!(me["phoneNumber"], "7101");
    assert!(me["stateSince"].as_u64().is_some());
    let signed_out = answer.body["result"].as_array().unwrap().iter().find(|a| a["workno"] == "102").unwrap();
    assert_eq!(signed_out["agentState"], 2);
    assert_eq!(work_numbers(&app.agentgroup(999, &all, "allagentstatus").await).len(), 41);
    app.agentgroup(101, &agent, "allagentstatus").await.expect("300-001");
}

#[tokio::test]
async fn agents_by_skill_are_the_signed_in_ones_in_scope() {
    let app = spawn_app().await;
    app.sign_in(101).await;
    app.sign_in(201).await;
    let scoped = app.sign_in_inspector(900, false).await;
    let all = app.sign_in_inspector(999, false).await;
    assert_eq!(work_numbers(app.agentgroup(900, &scoped, "agentbyskill/2").await.expect("0")), ["101"]);
    // 999 covers everyone, inspector 900 (signed in, skill 2) included.
    assert_eq!(work_numbers(app.agentgroup(999, &all, "agentbyskill/2").await.expect("0")), ["101", "201", "900"]);
    assert!(work_numbers(app.agentgroup(999, &all, "agentbyskill/9").await.expect("0")).is_empty());
    app.agentgroup(999, &all, "agentbyskill/x").await.expect("000-002");
}

#[tokio::test]
async fn one_agent_by_work_number_respects_the_scope() {
    let app = spawn_app().await;
    app.sign_in(201).await;
    let scoped = app.sign_in_inspector(900, false).await;
    let all = app.sign_in_inspector(999, false).await;
    let answer = app.agentgroup(999, &all, "agentbyworkno/201").await;
    answer.expect("0");
    assert_eq!(
        (answer.body["result"]["agentState"].as_u64(), answer.body["result"]["groupId"].as_u64()),
        (Some(4), Some(2))
    );
    app.agentgroup(900, &scoped, "agentbyworkno/201").await.expect("300-001");
    app.agentgroup(999, &all, "agentbyworkno/555").await.expect("300-002");
    app.agentgroup(999, &all, "agentbyworkno/999").await.expect("000-005");
}

#[tokio::test]
async fn skill_statistics_count_states_per_queue_in_scope() {
    let app = spawn_app().await;
    let a = app.sign_in(101).await;
    app.sign_in(102).await;
    app.say_busy(101, &a, "").await.expect("0");
    let b = app.sign_in(201).await;
    app.rest(201, &b, "600", "1", "").await.expect("0");
    let scoped = app.sign_in_inspector(900, false).await;
    let answer = app.agentgroup(900, &scoped, "skillstatistics").await;
    answer.expect("0");
    let stats = answer.body["result"].as_array().unwrap();
    let skill = |id: u64| stats.iter().find(|s| s["skillId"] == id).unwrap().clone();
    assert_eq!(stats.len(), 2, "skills 1 and 2 of group 1");
    let support = skill(2);
    assert_eq!(
        (support["signedIn"].as_u64(), support["busy"].as_u64(), support["idle"].as_u64(), support["resting"].as_u64()),
        (Some(2), Some(1), Some(1), Some(0))
    );
}
