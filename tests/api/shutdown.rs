//! Graceful shutdown of the real binary on SIGTERM: a waiting poll answers
//! empty at once, a request in flight still finishes, and the process exits
//! 0 within its shutdown timeout.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{eventually, TestApp};

const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(3);

/// The binary, started from the repository root with the development
/// certificate on free loopback ports.
struct Gateway {
    child: Child,
    lines: mpsc::Receiver<String>,
    log: Vec<String>,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Gateway {
    fn start() -> Gateway {
        let mut child = Command::new(env!("CARGO_BIN_EXE_agentgateway"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_clear()
            .args(["--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0", "--workers", "2"])
            .args(["--poll-wait-ms", "60000", "--shutdown-timeout-ms", &SHUTDOWN_TIMEOUT.as_millis().to_string()])
            .stderr(Stdio::piped())
            .spawn()
            .expect("the gateway starts");
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || stderr.lines().map_while(Result::ok).try_for_each(|line| sender.send(line)));
        Gateway { child, lines, log: Vec::new() }
    }

    /// Reads the log until a line contains `marker`; returns the text after it.
    fn wait_for_line(&mut self, marker: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.lines.recv_timeout(left).unwrap_or_else(|_| panic!("no {marker:?} in {:#?}", self.log));
            self.log.push(line.clone());
            if let Some((_, rest)) = line.split_once(marker) {
                return rest.to_owned();
            }
        }
    }

    fn port_after(&mut self, marker: &str) -> u16 {
        let rest = self.wait_for_line(marker);
        rest.split(['/', ' ']).next().and_then(|port| port.parse().ok()).unwrap_or_else(|| panic!("port in {rest:?}"))
    }

    fn terminate(&self) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: kill(2) with our own child's pid and a valid signal number.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0, "SIGTERM sent");
    }

    /// Waits for the process to end, at most `within`.
    fn exit_status(&mut self, within: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "still running {within:?} after SIGTERM");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn client() -> reqwest::Client {
    let ca = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/certs/ca.crt")).unwrap();
    reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

#[tokio::test]
async fn sigterm_answers_waiting_polls_finishes_in_flight_requests_and_exits_0() {
    let mut gateway = Gateway::start();
    let port = gateway.port_after("listening on https://127.0.0.1:");
    let metrics_port = gateway.port_after("metrics listening on http://127.0.0.1:");
    let (client, base) = (client(), format!("https://127.0.0.1:{port}/agentgateway/resource"));
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
    assert!(client.get(format!("https://127.0.0.1:{port}/healthz")).send().await.is_err(), "nothing listens any more");
}
