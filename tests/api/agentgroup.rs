//! Status queries, filtered to the caller's scope, and the skill-queue
//! lists open to any agent with the talk right.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, Answer, TestApp};

fn work_numbers(answer: &Answer) -> Vec<String> {
    answer.body["result"].as_array().unwrap().iter().map(|a| a["workno"].as_str().unwrap().to_owned()).collect()
}

impl TestApp {
    /// `GET agentgroup/{caller}/{rest}` with a JSON body.
    pub async fn agentgroup_with(&self, caller: u32, guid: &str, rest: &str, body: &Value) -> Answer {
        self.call(Method::GET, &format!("agentgroup/{caller}/{rest}"), Some(guid), Some(body)).await
    }
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

/// Huawei's C# sample reads `workno`, `name`, `status`, `ctiStatus` and
/// `groupName` from `allagentstatus`, with Huawei's codes as text.
#[tokio::test]
async fn all_agent_status_carries_the_fields_and_codes_huaweis_clients_read() {
    let app = spawn_app().await;
    let busy = app.sign_in(101).await;
    app.say_busy(101, &busy, "").await.expect("0");
    app.sign_in(102).await;
    let resting = app.sign_in(103).await;
    app.rest(103, &resting, "600", "1", "").await.expect("0");
    let wrapping = app.sign_in(104).await;
    app.work(104, &wrapping).await.expect("0");
    let boss = app.sign_in_inspector(900, false).await;
    let answer = app.agentgroup(900, &boss, "allagentstatus").await;
    answer.expect("0");
    let codes: Vec<(String, String, String, String)> = answer.body["result"].as_array().unwrap()[..5]
        .iter()
        .map(|a| {
            let text = |k: &str| a[k].as_str().unwrap_or_else(|| panic!("{k} is text in {a}")).to_owned();
            (text("workno"), text("status"), text("ctiStatus"), text("groupName"))
        })
        .collect();
    let expected = [("101", "3", "7"), ("102", "4", "1"), ("103", "8", "8"), ("104", "5", "6"), ("105", "2", "0")];
    for ((workno, status, cti, group), (w, s, c)) in codes.iter().zip(expected) {
        assert_eq!((workno.as_str(), status.as_str(), cti.as_str(), group.as_str()), (w, s, c, "Team 1"));
    }
    assert_eq!(answer.body["result"][0]["name"], "Agent 101");
    assert_eq!(answer.body["result"][0]["agentState"], 3, "the gateway's own fields stay");
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

/// Reference §2.5: any signed-in agent with the right to answer inbound
/// calls may ask; agents without it are left out of the answer.
#[tokio::test]
async fn agents_with_the_talk_right_list_a_queue_and_those_without_are_left_out() {
    let app = spawn_app().await;
    let a = app.sign_in(101).await;
    let b = app.sign_in(102).await;
    let c = app.sign_in(201).await;
    assert_eq!(work_numbers(app.agentgroup(101, &a, "agentbyskill/2").await.expect("0")), ["102", "201"]);
    app.call(Method::POST, "onlineagent/102/settalkright?flag=0", Some(&b), None).await.expect("0");
    assert_eq!(work_numbers(app.agentgroup(101, &a, "agentbyskill/2").await.expect("0")), ["201"]);
    app.agentgroup(102, &b, "agentbyskill/2").await.expect("300-001");
    app.agentgroup(102, &b, "allonlineagents").await.expect("300-001");
    // agentLimit and agentStatus take effect together.
    app.say_busy(201, &c, "").await.expect("0");
    app.call(Method::POST, "onlineagent/102/settalkright?flag=1", Some(&b), None).await.expect("0");
    let idle = app.agentgroup_with(101, &a, "agentbyskill/2", &json!({"agentLimit": 5, "agentStatus": [4]})).await;
    assert_eq!(work_numbers(idle.expect("0")), ["102"]);
    let one = app.agentgroup_with(101, &a, "agentbyskill/2", &json!({"agentLimit": "1", "agentStatus": [3, 4]})).await;
    assert_eq!(work_numbers(one.expect("0")), ["102"]);
    let alone = app.agentgroup_with(101, &a, "agentbyskill/2", &json!({"agentStatus": [4]})).await;
    assert_eq!(work_numbers(alone.expect("0")), ["102", "201"], "agentStatus alone is ignored");
    for bad in [json!({"agentLimit": 0, "agentStatus": [4]}), json!({"agentLimit": 501}), json!({"agentStatus": "4"})] {
        app.agentgroup_with(101, &a, "agentbyskill/2", &bad).await.expect("000-006");
    }
}

#[tokio::test]
async fn all_online_agents_lists_every_queue_with_its_signed_in_agents() {
    let app = spawn_app().await;
    let a = app.sign_in(101).await;
    app.sign_in(102).await;
    app.sign_in(201).await;
    let answer = app.agentgroup(101, &a, "allonlineagents").await;
    answer.expect("0");
    let queues: Vec<(u64, u64, Vec<&str>)> = answer.body["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            let agents = q["agent"].as_array().unwrap().iter().map(|a| a["workno"].as_str().unwrap()).collect();
            (q["skillId"].as_u64().unwrap(), q["skillMediaType"].as_u64().unwrap(), agents)
        })
        .collect();
    assert_eq!(queues, [(1, 5, vec!["102"]), (2, 5, vec!["102", "201"]), (3, 5, vec!["201"])]);
    let scoped = app.sign_in_inspector(900, false).await;
    let seen = app.agentgroup(900, &scoped, "allonlineagents").await;
    assert_eq!(seen.body["result"].as_array().unwrap().len(), 2, "queues 1 and 2 of group 1 only");
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

/// The queries Huawei's sample clients make besides the reference's:
/// inspectors only, within their scope, in the shapes the samples read.
#[tokio::test]
async fn the_group_and_vdn_queries_answer_inspectors_within_their_scope() {
    let app = spawn_app().await;
    let agent = app.sign_in(101).await;
    app.say_busy(101, &agent, "").await.expect("0");
    app.sign_in(201).await;
    let scoped = app.sign_in_inspector(900, false).await;
    let all = app.sign_in_inspector(999, false).await;

    let online = app.agentgroup(900, &scoped, "onlineagentonvdn").await;
    assert_eq!(work_numbers(online.expect("0")), ["101"]);
    let first = &online.body["result"][0];
    assert_eq!((first["status"].as_str(), first["ctiStatus"].as_str()), (Some("3"), Some("7")));
    assert_eq!(
        (first["groupid"].as_str(), first["groupname"].as_str(), first["vdnid"].as_u64()),
        (Some("1"), Some("Team 1"), Some(1))
    );
    assert_eq!(
        (first["phonenumber"].as_str(), first["skilllist"][1]["name"].as_str()),
        (Some("7101"), Some("Support"))
    );
    assert!(first["logindate"].as_u64().unwrap() > 0 && first["currentstatetime"].as_u64().unwrap() > 0);
    assert_eq!(work_numbers(app.agentgroup(999, &all, "onlineagentonvdn").await.expect("0")), ["101", "201", "900"]);

    let group = app.agentgroup(900, &scoped, "agentongroupex?groupid=1").await;
    assert_eq!(work_numbers(group.expect("0")).len(), 20, "signed in or not");
    app.agentgroup(900, &scoped, "agentongroupex?groupid=2").await.expect("300-001");
    app.agentgroup(900, &scoped, "agentongroupex?groupid=7").await.expect("300-004");
    app.agentgroup(900, &scoped, "agentongroupex?groupid=x").await.expect("000-002");
    app.agentgroup(900, &scoped, "agentongroupex").await.expect("000-002");

    let team = app.agentgroup(999, &all, "groupbyagent/201").await;
    team.expect("0");
    assert_eq!(
        team.body["result"],
        json!({"id": 2, "name": "Team 2", "monitorno": 999, "monitorname": "Inspector 999"})
    );
    app.agentgroup(900, &scoped, "groupbyagent/201").await.expect("300-001");
    app.agentgroup(999, &all, "groupbyagent/555").await.expect("300-002");
    // Anyone may ask for its own group (Huawei's C# sample does).
    let own = app.agentgroup(101, &agent, "groupbyagent/101").await;
    assert_eq!(own.expect("0").body["result"]["monitorno"], 900);

    let groups = app.agentgroup(999, &all, "grouponvdn").await;
    let ids: Vec<u64> =
        groups.expect("0").body["result"].as_array().unwrap().iter().map(|g| g["id"].as_u64().unwrap()).collect();
    assert_eq!(ids, [1, 2]);

    let names = app.agentgroup(900, &scoped, "agentwasnameonvdn").await;
    let names = names.expect("0").body["result"].as_object().unwrap().clone();
    assert_eq!((names.len(), names["101"].as_str()), (20, Some("Agent 101")));

    let listed = app
        .call(
            Method::POST,
            "agentgroup/900/agentinfonoskills",
            Some(&scoped),
            Some(&json!({"agentlist": ["101", 201, 102]})),
        )
        .await;
    assert_eq!(work_numbers(listed.expect("0")), ["101", "102"], "201 is outside 900's scope");
    assert!(listed.body["result"][0].get("skilllist").is_none());
    let bad = app
        .call(Method::POST, "agentgroup/900/agentinfonoskills", Some(&scoped), Some(&json!({"agentlist": []})))
        .await;
    bad.expect("000-006");

    for rest in ["onlineagentonvdn", "agentongroupex?groupid=1", "grouponvdn", "agentwasnameonvdn", "groupbyagent/102"]
    {
        assert_eq!(app.agentgroup(101, &agent, rest).await.retcode(), "300-001", "{rest}");
    }
    let by_agent = app
        .call(Method::POST, "agentgroup/101/agentinfonoskills", Some(&agent), Some(&json!({"agentlist": [102]})))
        .await;
    by_agent.expect("300-001");
}
