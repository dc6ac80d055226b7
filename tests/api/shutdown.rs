//! Graceful shutdown of the real binary on SIGTERM: a waiting poll answers
//! empty at once, a request in flight still finishes, and the process exits
//! 0 within its shutdown timeout.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{eventually, test_settings, TestApp};
use crate::process::{command, Binary};

const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(3);

#[tokio::test]
async fn sigterm_answers_waiting_polls_finishes_in_flight_requests_and_exits_0() {
    let mut settings = test_settings();
    settings.gateway.poll_wait_ms = 60_000;
    let mut start = command(&settings);
    start.args(["--metrics-listen", "127.0.0.1:0"]);
    start.args(["--shutdown-timeout-ms", &SHUTDOWN_TIMEOUT.as_millis().to_string()]);
    let mut gateway = Binary::start(start, settings);
    let metrics_port = gateway.port_after("metrics listening on http://127.0.0.1:");
    let (client, base, origin) = (gateway.app.client.clone(), gateway.app.base.clone(), gateway.app.origin.clone());
    let metrics = format!("http://127.0.0.1:{metrics_port}/metrics");

    let signed_in = client
        .put(format!("{base}/onlineagent/101"))
        .json(&json!({"password": "Agent@123", "phonenum": "7101"}))
        .send()
        .await
        .unwrap();
    let guid = TestApp::answer(signed_in).await.set_guid.expect("Set-GUID");
    for _ in 0..2 {
        client.get(format!("{base}/agentevent/101")).header("Guid", &guid).send().await.unwrap();
    }
    // A poll that waits, and a sign-in whose body has not all arrived.
    let poll = tokio::spawn(client.get(format!("{base}/agentevent/101")).header("Guid", &guid).send());
    let (rest_of_body, body_rest) = tokio::sync::oneshot::channel::<Vec<u8>>();
    let first = futures_util::stream::iter([Ok::<_, std::io::Error>(br#"{"password":"Agent@123","#.to_vec())]);
    let rest = futures_util::stream::once(async move { Ok(body_rest.await.unwrap()) });
    let sign_in = tokio::spawn(
        client
            .put(format!("{base}/onlineagent/102"))
            .header("Content-Type", "application/json")
            .body(reqwest::Body::wrap_stream(futures_util::StreamExt::chain(first, rest)))
            .send(),
    );
    let sample = |line: &str, name: &str| line.strip_prefix(name).map(|v| v.trim() == "1");
    eventually(Duration::from_secs(10), || async {
        let text = client.get(&metrics).send().await.ok()?.text().await.ok()?;
        let waiting = text.lines().find_map(|l| sample(l, "agentgateway_polls_waiting "))?;
        let in_flight = text.lines().find_map(|l| l.strip_prefix("agentgateway_requests_in_flight "))?;
        (waiting && in_flight.trim() == "2").then_some(())
    })
    .await;

    let stopping = Instant::now();
    gateway.terminate();
    let answered = poll.await.unwrap().expect("the waiting poll is answered");
    assert_eq!(answered.headers().get("connection").map(|v| v.to_str().unwrap()), Some("close"));
    let answer = TestApp::answer(answered).await;
    assert_eq!((answer.status, answer.retcode()), (StatusCode::OK, "0"));
    assert!(answer.event().is_null(), "empty answer: {}", answer.body);
    assert!(stopping.elapsed() < SHUTDOWN_TIMEOUT, "answered by the shutdown, after {:?}", stopping.elapsed());

    rest_of_body.send(br#""phonenum":"7102"}"#.to_vec()).unwrap();
    let finished = TestApp::answer(sign_in.await.unwrap().expect("the sign-in in flight is answered")).await;
    assert_eq!((finished.status, finished.retcode()), (StatusCode::OK, "0"), "{}", finished.body);

    let status = gateway.exit_status(SHUTDOWN_TIMEOUT + Duration::from_secs(5));
    assert!(status.success(), "exit status {status}");
    gateway.wait_for_line("agentgateway: stopped");
    eprintln!("exited {:?} after SIGTERM", stopping.elapsed());
    assert!(client.get(format!("{origin}/healthz")).send().await.is_err(), "nothing listens any more");
}
