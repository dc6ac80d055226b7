//! The test harness: spawn the gateway, and a typed client with one method
//! per interface.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use agentgateway::retcode::Retcode;
use agentgateway::settings::{MetricsListen, Settings};
use agentgateway::{Application, StopHandle};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub const AGENT_PASSWORD: &str = "Agent@123";

struct TestCerts {
    dir: PathBuf,
    ca_pem: String,
}

/// One throwaway CA and localhost certificate per test process.
fn certs() -> &'static TestCerts {
    static CERTS: OnceLock<TestCerts> = OnceLock::new();
    CERTS.get_or_init(|| {
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(rcgen::DnType::CommonName, "agentgateway test CA");
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let leaf_params =
            rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf = leaf_params.signed_by(&leaf_key, &ca, &ca_key).unwrap();
        let dir = std::env::temp_dir().join(format!("agw-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("server.crt"), leaf.pem()).unwrap();
        std::fs::write(dir.join("server.key"), leaf_key.serialize_pem()).unwrap();
        TestCerts { dir, ca_pem: ca.pem() }
    })
}

/// Settings for tests: throwaway certificate, short waits, an audit trail
/// of its own, no metrics listener (tests that want one ask for port 0).
pub fn test_settings() -> Settings {
    static APPS: AtomicUsize = AtomicUsize::new(0);
    let certs = certs();
    let app = APPS.fetch_add(1, Ordering::Relaxed);
    let mut settings = Settings::default();
    settings.server.tls_cert = certs.dir.join("server.crt");
    settings.server.tls_key = certs.dir.join("server.key");
    settings.server.workers = 1;
    settings.server.metrics_listen = MetricsListen::Off;
    settings.gateway.poll_wait_ms = 300;
    settings.gateway.hash_concurrency = 2;
    settings.audit.file = certs.dir.join(format!("audit-{app}")).join("audit.jsonl");
    settings.audit.options.sync = agentgateway::settings::SyncMode::Off;
    settings
}

/// The metrics listener on a free loopback port.
pub fn with_metrics(settings: &mut Settings) {
    settings.server.metrics_listen = MetricsListen::At("127.0.0.1:0".parse().unwrap());
}

/// A running gateway and a client that trusts its certificate.
pub struct TestApp {
    pub port: u16,
    pub base: String,
    pub origin: String,
    /// `http://127.0.0.1:<port>` of the metrics listener, when it is on.
    pub metrics_origin: Option<String>,
    pub client: reqwest::Client,
    pub settings: Settings,
    /// The in-process gateway (none when the client talks to a child process).
    handle: Option<StopHandle>,
    running: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.clone() {
            tokio::spawn(async move { handle.stop(false).await });
        }
    }
}

impl TestApp {
    /// Stops the gateway and waits until it has let go of everything (its
    /// audit trail's lock included), so another can start on its files.
    pub async fn stop(mut self) {
        if let Some(handle) = self.handle.take() {
            handle.stop(true).await;
        }
        if let Some(running) = self.running.take() {
            running.await.expect("the gateway task ends").expect("the gateway stops cleanly");
        }
    }

    /// A client for a gateway that listens on `port` (a child process).
    pub fn client_for(port: u16, settings: Settings) -> TestApp {
        let origin = format!("https://127.0.0.1:{port}");
        TestApp {
            port,
            base: format!("{origin}/agentgateway/resource"),
            origin,
            metrics_origin: None,
            client: test_client(),
            settings,
            handle: None,
            running: None,
        }
    }
}

/// A client that trusts the test CA only.
fn test_client() -> reqwest::Client {
    reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(certs().ca_pem.as_bytes()).unwrap())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = test_settings();
    adjust(&mut settings);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let app = Application::build(settings.clone(), listener).expect("gateway builds");
    let port = app.port();
    let metrics_origin = app.metrics_port().map(|port| format!("http://127.0.0.1:{port}"));
    let handle = Some(app.handle());
    let running = Some(tokio::spawn(app.run_until_stopped()));
    let origin = format!("https://127.0.0.1:{port}");
    TestApp {
        port,
        base: format!("{origin}/agentgateway/resource"),
        origin,
        metrics_origin,
        client: test_client(),
        settings,
        handle,
        running,
    }
}

/// One answer: HTTP status, JSON body and the `Set-GUID` Guid, if any.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub set_guid: Option<String>,
    pub allow: Option<String>,
    pub request_id: Option<String>,
}

impl Answer {
    pub fn retcode(&self) -> &str {
        self.body["retcode"].as_str().unwrap_or_else(|| panic!("no retcode in {}", self.body))
    }

    /// Asserts HTTP 200 with `expected` retcode (which must be one of the
    /// retcode table's: a typo fails the test); returns self for chaining.
    #[track_caller]
    pub fn expect(&self, expected: &str) -> &Self {
        let known = Retcode::ALL.iter().any(|code| code.code() == expected);
        assert!(known, "{expected:?} is not a retcode of the table");
        assert_eq!(self.status, StatusCode::OK, "HTTP status of {}", self.body);
        assert_eq!(self.retcode(), expected, "retcode of {}", self.body);
        self
    }

    /// The answer's retcode, typed.
    #[track_caller]
    pub fn code(&self) -> Retcode {
        let text = self.retcode();
        *Retcode::ALL.iter().find(|code| code.code() == text).unwrap_or_else(|| panic!("unknown retcode {text}"))
    }

    /// The envelope's `result`, read into `T` (a success's).
    #[track_caller]
    pub fn result<T: serde::de::DeserializeOwned>(&self) -> T {
        self.expect("0");
        serde_json::from_value(self.body["result"].clone())
            .unwrap_or_else(|e| panic!("result of {} is not the documented type: {e}", self.body))
    }

    pub fn event(&self) -> &Value {
        &self.body["event"]
    }
}

fn login_body(agent: u32) -> Value {
    json!({"password": AGENT_PASSWORD, "phonenum": (7000 + agent).to_string()})
}

impl TestApp {
    /// Sends a request with an optional Guid and JSON body.
    pub async fn call(&self, method: Method, path: &str, guid: Option<&str>, body: Option<&Value>) -> Answer {
        let mut request = self
            .client
            .request(method, format!("{}/{path}", self.base))
            .header("Content-Type", "application/json; charset=UTF-8");
        if let Some(guid) = guid {
            request = request.header("Guid", guid);
        }
        if let Some(body) = body {
            request = request.body(body.to_string());
        }
        Self::answer(request.send().await.expect("request reaches the gateway")).await
    }

    pub async fn answer(response: reqwest::Response) -> Answer {
        let status = response.status();
        let header = |name: &str| response.headers().get(name).map(|v| v.to_str().unwrap().to_owned());
        let set_guid =
            header("set-guid").map(|v| v.strip_prefix("JSESSIONID=").expect("JSESSIONID= prefix").to_owned());
        let allow = header("allow");
        let request_id = header("x-request-id");
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or_else(|_| panic!("body is not JSON: {text:?}"));
        Answer { status, body, set_guid, allow, request_id }
    }

    // ---- onlineagent ----
    pub async fn login(&self, agent: u32, body: &Value) -> Answer {
        self.call(Method::PUT, &format!("onlineagent/{agent}"), None, Some(body)).await
    }
    pub async fn force_login(&self, agent: u32, body: &Value) -> Answer {
        self.call(Method::PUT, &format!("onlineagent/{agent}/forcelogin"), None, Some(body)).await
    }
    pub async fn login_ex(&self, agent: u32, body: &Value) -> Answer {
        self.call(Method::PUT, &format!("onlineagent/{agent}/loginex"), None, Some(body)).await
    }
    pub async fn logout(&self, agent: u32, guid: &str) -> Answer {
        self.call(Method::DELETE, &format!("onlineagent/{agent}/logout"), Some(guid), None).await
    }
    pub async fn force_logout(&self, agent: u32, guid: &str) -> Answer {
        self.call(Method::DELETE, &format!("onlineagent/{agent}/forcelogout"), Some(guid), None).await
    }
    pub async fn force_logout_with_reason(&self, agent: u32, guid: &str, reason: &str) -> Answer {
        let path = format!("onlineagent/{agent}/forcelogoutwithreason/{reason}");
        self.call(Method::DELETE, &path, Some(guid), None).await
    }
    pub async fn say_free(&self, agent: u32, guid: &str) -> Answer {
        self.call(Method::POST, &format!("onlineagent/{agent}/sayfree"), Some(guid), None).await
    }
    pub async fn say_busy(&self, agent: u32, guid: &str, query: &str) -> Answer {
        self.call(Method::POST, &format!("onlineagent/{agent}/saybusy{query}"), Some(guid), None).await
    }
    pub async fn cancel_busy(&self, agent: u32, guid: &str) -> Answer {
        self.call(Method::POST, &format!("onlineagent/{agent}/cancelbusy"), Some(guid), None).await
    }
    pub async fn rest(&self, agent: u32, guid: &str, time: &str, cause: &str, query: &str) -> Answer {
        let path = format!("onlineagent/{agent}/rest/{time}/{cause}{query}");
        self.call(Method::POST, &path, Some(guid), None).await
    }
    pub async fn cancel_rest(&self, agent: u32, guid: &str) -> Answer {
        self.call(Method::POST, &format!("onlineagent/{agent}/cancelrest"), Some(guid), None).await
    }
    pub async fn work(&self, agent: u32, guid: &str) -> Answer {
        self.call(Method::POST, &format!("onlineagent/{agent}/work"), Some(guid), None).await
    }
    pub async fn cancel_work(&self, agent: u32, guid: &str) -> Answer {
        self.call(Method::POST, &format!("onlineagent/{agent}/cancelwork"), Some(guid), None).await
    }
    pub async fn auto_enter_idle(&self, agent: u32, guid: &str, flag: &str) -> Answer {
        self.call(Method::POST, &format!("onlineagent/{agent}/autoenteridle/{flag}"), Some(guid), None).await
    }
    pub async fn reset_skill(&self, agent: u32, guid: &str, autoflag: &str, query: &str) -> Answer {
        let path = format!("onlineagent/{agent}/resetskill/{autoflag}{query}");
        self.call(Method::POST, &path, Some(guid), None).await
    }
    pub async fn agent_skills(&self, agent: u32, guid: &str) -> Answer {
        self.call(Method::GET, &format!("onlineagent/{agent}/agentskills"), Some(guid), None).await
    }
    pub async fn agent_status(&self, agent: u32, guid: &str) -> Answer {
        self.call(Method::GET, &format!("onlineagent/{agent}/agentstatus"), Some(guid), None).await
    }
    pub async fn auto_answer(&self, agent: u32, guid: &str, flag: &str) -> Answer {
        self.call(Method::POST, &format!("onlineagent/{agent}/autoanswer/{flag}"), Some(guid), None).await
    }
    pub async fn set_talk_right(&self, agent: u32, guid: &str, query: &str) -> Answer {
        self.call(Method::POST, &format!("onlineagent/{agent}/settalkright{query}"), Some(guid), None).await
    }
    pub async fn set_custom_state(&self, agent: u32, guid: &str, query: &str) -> Answer {
        self.call(Method::POST, &format!("onlineagent/{agent}/setcustomstate{query}"), Some(guid), None).await
    }
    pub async fn query_custom_state(&self, agent: u32, guid: &str) -> Answer {
        self.call(Method::GET, &format!("onlineagent/{agent}/querycustomstate"), Some(guid), None).await
    }
    pub async fn agent_skills_by_work_no(&self, agent: u32, guid: &str, work_no: &str) -> Answer {
        self.call(Method::GET, &format!("onlineagent/{agent}/agentskillsbyworkno/{work_no}"), Some(guid), None).await
    }
    pub async fn heartbeat(&self, agent: u32, guid: &str) -> Answer {
        self.call(Method::PUT, &format!("onlineagent/{agent}/heartbeat"), Some(guid), None).await
    }
    pub async fn handshake(&self, agent: u32, guid: &str) -> Answer {
        self.call(Method::POST, &format!("onlineagent/{agent}/handshake"), Some(guid), None).await
    }

    // ---- agentevent ----
    pub async fn poll(&self, agent: u32, guid: &str, query: &str) -> Answer {
        self.call(Method::GET, &format!("agentevent/{agent}{query}"), Some(guid), None).await
    }

    // ---- stories ----

    /// Signs `agent` in with the demo password and phone; returns its Guid.
    pub async fn sign_in(&self, agent: u32) -> String {
        let answer = self.login(agent, &login_body(agent)).await;
        answer.expect("0");
        answer.set_guid.clone().expect("sign-in answers Set-GUID")
    }

    pub fn login_body(&self, agent: u32) -> Value {
        login_body(agent)
    }

    /// The next event, which must arrive within the poll wait.
    pub async fn next_event(&self, agent: u32, guid: &str) -> Value {
        let answer = self.poll(agent, guid, "").await;
        answer.expect("0");
        assert!(!answer.event().is_null(), "expected an event, got none");
        answer.event().clone()
    }

    /// Takes every queued event (until a poll answers empty).
    pub async fn drain(&self, agent: u32, guid: &str) -> Vec<Value> {
        let mut events = Vec::new();
        loop {
            let answer = self.poll(agent, guid, "").await;
            answer.expect("0");
            if answer.event().is_null() {
                return events;
            }
            events.push(answer.event().clone());
        }
    }

    /// The agent's `agentState` code, read from the typed result.
    pub async fn state_of(&self, agent: u32, guid: &str) -> u64 {
        let status: agentgateway::api::envelope::AgentStatus = self.agent_status(agent, guid).await.result();
        u64::from(status.agent_state)
    }
}

/// Repeats `check` until it returns `Some` or `within` passes. For
/// conditions that only time brings (expiry, heartbeat timeout).
pub async fn eventually<T, F, Fut>(within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "condition not reached within {within:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub fn names(events: &[Value]) -> Vec<String> {
    events.iter().map(|e| e["eventType"].as_str().unwrap().to_owned()).collect()
}

pub const INSPECTOR_PASSWORD: &str = "Super@123";

impl TestApp {
    /// Signs an inspector in (no phone); `listen` asks for sign-in/out notices.
    pub async fn sign_in_inspector(&self, inspector: u32, listen: bool) -> String {
        let body = json!({"password": INSPECTOR_PASSWORD, "listenStatus": listen});
        let answer = self.login(inspector, &body).await;
        answer.expect("0");
        answer.set_guid.clone().expect("sign-in answers Set-GUID")
    }

    /// `qualitycontrol/{inspector}/{action}/{target}{rest}`.
    pub async fn qc(&self, action: &str, inspector: u32, guid: &str, target: u32, rest: &str) -> Answer {
        let path = format!("qualitycontrol/{inspector}/{action}/{target}{rest}");
        self.call(Method::POST, &path, Some(guid), None).await
    }

    pub async fn bulk(&self, action: &str, inspector: u32, guid: &str, body: &Value) -> Answer {
        let path = format!("qualitycontrol/{inspector}/{action}");
        self.call(Method::POST, &path, Some(guid), Some(body)).await
    }

    pub async fn audit_page(&self, inspector: u32, guid: &str, query: &str) -> Answer {
        self.call(Method::GET, &format!("qualitycontrol/{inspector}/audit{query}"), Some(guid), None).await
    }

    /// `agentgroup/{caller}/{rest}`.
    pub async fn agentgroup(&self, caller: u32, guid: &str, rest: &str) -> Answer {
        self.call(Method::GET, &format!("agentgroup/{caller}/{rest}"), Some(guid), None).await
    }

    pub async fn reason_codes(&self, agent: u32, guid: &str) -> Answer {
        self.call(Method::GET, &format!("onlineagent/{agent}/reasoncodes"), Some(guid), None).await
    }

    /// The audit file's records, oldest first.
    pub fn audit_records(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.settings.audit.file)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// An answer as it crossed the wire: header names exactly as spelled, which
/// client libraries (reqwest included) fold to lower case.
#[derive(Debug, Clone)]
pub struct RawAnswer {
    pub status: u16,
    /// Header lines in order: (name as spelled, value).
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl RawAnswer {
    /// The value of the header named exactly `name`: compared case-sensitively,
    /// as Huawei's Java sample and Apache HttpClient do.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Every header whose name equals `name` ignoring case.
    pub fn spellings_of(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(n, _)| n.as_str()).collect()
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("body is not JSON: {:?}", self.body))
    }

    pub fn retcode(&self) -> String {
        self.json()["retcode"].as_str().unwrap_or_else(|| panic!("no retcode in {}", self.body)).to_owned()
    }

    /// The Guid of `Set-GUID: JSESSIONID=<guid>`, found as the Java sample finds it.
    pub fn set_guid(&self) -> Option<String> {
        self.header("Set-GUID").map(|v| v.replace("JSESSIONID=", ""))
    }
}

fn tls_connector() -> tokio_rustls::TlsConnector {
    static CONFIG: OnceLock<std::sync::Arc<rustls::ClientConfig>> = OnceLock::new();
    let config = CONFIG.get_or_init(|| {
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        let ca = rustls::pki_types::CertificateDer::from_pem_slice(certs().ca_pem.as_bytes()).unwrap();
        roots.add(ca).unwrap();
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        std::sync::Arc::new(config)
    });
    tokio_rustls::TlsConnector::from(config.clone())
}

impl TestApp {
    /// One request on a connection of its own (`Connection: close`), sent
    /// and read as bytes over TLS. `path` is below the Huawei base path, or
    /// absolute when it starts with `/`.
    pub async fn raw(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> RawAnswer {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut tls = tls_connector().connect(name, tcp).await.expect("TLS handshake");
        let target = if path.starts_with('/') { path.to_owned() } else { format!("/agentgateway/resource/{path}") };
        let mut request = format!(
            "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
             Content-Type: application/json;charset=UTF-8\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(body);
        tls.write_all(request.as_bytes()).await.unwrap();
        let mut bytes = Vec::new();
        // The server closes after answering; a close without TLS close_notify still ends the answer.
        match tls.read_to_end(&mut bytes).await {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !bytes.is_empty() => {}
            Err(e) => panic!("reading the answer: {e}"),
        }
        let text = String::from_utf8(bytes).expect("the answer is UTF-8");
        let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
        let mut lines = head.split("\r\n");
        let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
        let headers = lines
            .map(|line| {
                let (name, value) = line.split_once(": ").expect("name: value");
                (name.to_owned(), value.to_owned())
            })
            .collect();
        RawAnswer { status, headers, body: body.to_owned() }
    }
}

impl TestApp {
    /// The metrics text, scraped from the metrics listener.
    pub async fn scrape(&self) -> String {
        let origin = self.metrics_origin.as_ref().expect("this app has a metrics listener");
        let response = self.client.get(format!("{origin}/metrics")).send().await.unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "text/plain; version=0.0.4; charset=utf-8");
        response.text().await.unwrap()
    }

    /// The value of one sample, e.g. `agentgateway_polls_waiting` or
    /// `agentgateway_sign_outs_total{reason="57"}`; 0 when absent.
    pub async fn metric(&self, sample: &str) -> f64 {
        sample_value(&self.scrape().await, sample)
    }
}

/// The value of `sample` in a metrics text; 0 when absent.
pub fn sample_value(text: &str, sample: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(sample).and_then(|rest| rest.strip_prefix(' ')))
        .map_or(0.0, |value| value.parse().unwrap_or_else(|_| panic!("{sample} = {value}")))
}
