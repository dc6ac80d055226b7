//! Every refusal's answer, byte for byte: the status and the exact body a
//! client reads, as snapshots (`tests/api/snapshots/`). A change to any of
//! them shows up as a diff to review (`cargo insta review`, or
//! `INSTA_UPDATE=always cargo test` and `git diff`).

use crate::helpers::spawn_app;

/// A named request: method, path, headers, body.
type Case<'a> = (&'a str, &'a str, &'a str, Vec<(&'a str, &'a str)>, &'a str);

#[tokio::test]
async fn refusals_answer_the_envelope_byte_for_byte() {
    let app = spawn_app().await;
    let guid = app.sign_in(101).await;
    let long_header = "x".repeat(9000);
    let cases: [Case; 12] = [
        ("unknown_interface", "GET", "nothing/here", vec![], ""),
        ("wrong_method", "GET", "onlineagent/101/saybusy", vec![("Guid", &guid)], ""),
        ("bad_agent_id", "POST", "onlineagent/12/saybusy", vec![("Guid", &guid)], ""),
        ("missing_guid", "POST", "onlineagent/101/saybusy", vec![], ""),
        ("wrong_guid", "POST", "onlineagent/101/saybusy", vec![("Guid", "not-this-agents")], ""),
        ("not_signed_in", "POST", "onlineagent/102/saybusy", vec![("Guid", "x")], ""),
        ("bad_busy_reason", "POST", "onlineagent/101/saybusy?reason=199", vec![("Guid", &guid)], ""),
        ("bad_sign_out_reason", "DELETE", "onlineagent/101/forcelogoutwithreason/256", vec![("Guid", &guid)], ""),
        ("malformed_json", "PUT", "onlineagent/103", vec![], "{\"password\":"),
        ("wrong_password", "PUT", "onlineagent/103", vec![], r#"{"password":"wrong","phonenum":"7103"}"#),
        ("state_not_allowed", "POST", "onlineagent/101/cancelbusy", vec![("Guid", &guid)], ""),
        ("oversized_headers", "GET", "onlineagent/101/agentstatus", vec![("X-Padding", &long_header)], ""),
    ];
    for (name, method, path, headers, body) in cases {
        let answer = app.raw(method, path, &headers, body).await;
        insta::assert_snapshot!(name, format!("HTTP {}\n{}", answer.status, answer.body));
    }
}
