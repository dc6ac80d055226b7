//! The API page (`/docs/`): served with its assets by the gateway, and
//! rendered by a real headless Chromium.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use reqwest::StatusCode;

use crate::helpers::{spawn_app, TestApp};

const CHROMIUM: &str = "/usr/bin/chromium";
/// Set to 1 to skip the browser test where Chromium cannot be installed.
/// CI installs Chromium and never sets it.
const SKIP: &str = "SKIP_BROWSER_TESTS";

#[tokio::test]
async fn the_page_and_its_assets_come_from_the_gateway() {
    let app = spawn_app().await;
    let page = app.client.get(format!("{}/docs/", app.origin)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(policy.starts_with("default-src 'self';") && policy.contains("script-src 'self';"), "{policy}");
    let html = page.text().await.unwrap();
    assert!(html.contains("<title>agentgateway API</title>"), "the page names the gateway");
    for asset in ["swagger-ui.css", "swagger-ui-bundle.js", "swagger-initializer.js"] {
        assert!(html.contains(&format!("./{asset}")), "the page loads {asset} from beside itself");
        let response = app.client.get(format!("{}/docs/{asset}", app.origin)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{asset}");
    }
    let initializer = app
        .client
        .get(format!("{}/docs/swagger-initializer.js", app.origin))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(initializer.contains(r#""url": "/openapi.json""#), "{initializer}");
    assert!(initializer.contains(r#""validatorUrl": "none""#), "no online validator: {initializer}");
    assert!(initializer.contains(r#""persistAuthorization": true"#), "Authorize remembers the Guid: {initializer}");
    let missing =
        TestApp::answer(app.client.get(format!("{}/docs/nothing.js", app.origin)).send().await.unwrap()).await;
    assert_eq!((missing.status, missing.retcode()), (StatusCode::NOT_FOUND, "000-002"));
}

#[tokio::test]
async fn docs_without_the_slash_redirects_to_the_page() {
    let app = spawn_app().await;
    let answer = app.raw("GET", "/docs", &[], "").await;
    assert_eq!((answer.status, answer.header("location")), (308, Some("/docs/")));
}

#[tokio::test]
#[cfg_attr(no_browser, ignore = "Chromium is missing and SKIP_BROWSER_TESTS=1")]
async fn a_real_browser_renders_the_page_with_every_interface() {
    if !Path::new(CHROMIUM).exists() {
        panic!("{CHROMIUM} is missing: install it (apt-get install -y chromium; .ci/run does) or set {SKIP}=1");
    }
    let app = spawn_app().await;
    let profile = std::env::temp_dir().join(format!("agw-chromium-{}", std::process::id()));
    let url = format!("{}/docs/", app.origin);
    let browser = tokio::task::spawn_blocking(move || {
        // The page renders in the browser, so the DOM is dumped once its
        // scripts had virtual time to fetch the document and draw it. The
        // certificate comes from the test's throwaway CA, which Chromium has
        // no flag to trust; this browser only ever talks to that loopback port.
        let output = Command::new(CHROMIUM)
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
            .args(["--disable-background-networking", "--disable-component-update", "--disable-sync"])
            .args(["--no-first-run", "--ignore-certificate-errors", "--virtual-time-budget=10000"])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("--dump-dom")
            .arg(&url)
            .output()
            .expect("chromium runs");
        let _ = std::fs::remove_dir_all(&profile);
        output
    });
    let output = tokio::time::timeout(Duration::from_secs(120), browser).await.expect("chromium finishes").unwrap();
    assert!(output.status.success(), "chromium failed: {}", String::from_utf8_lossy(&output.stderr));
    let dom = String::from_utf8_lossy(&output.stdout);
    let doc: serde_json::Value = serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();
    for item in doc["paths"].as_object().unwrap().values() {
        for operation in ["get", "put", "post", "delete"].iter().filter_map(|method| item.get(method)) {
            let id = operation["operationId"].as_str().unwrap();
            assert!(dom.contains(id), "the rendered page lists {id}");
            let summary = operation["summary"].as_str().unwrap();
            assert!(dom.contains(summary), "the rendered page shows {summary:?}");
        }
    }
    assert!(dom.contains("Sign out forcibly with a reason"));
    assert!(dom.contains("<title>agentgateway API</title>"), "the page names the gateway");
    assert!(dom.contains("Authorize"), "the Guid security scheme gives the page an Authorize button");
}
