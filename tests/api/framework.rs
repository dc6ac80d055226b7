//! Refusals of the HTTP layer: HTTP 200 with the envelope and its retcode
//! in the Huawei path space (Huawei's Java sample reads no body of another
//! status), or their REST status with `--rest-statuses`.

use reqwest::{Method, StatusCode};

use crate::helpers::{spawn_app, spawn_app_with, Answer, TestApp};

async fn raw(app: &TestApp, method: Method, path: &str, content_type: &str, body: Vec<u8>) -> Answer {
    let response = app
        .client
        .request(method, format!("{}/{path}", app.base))
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    TestApp::answer(response).await
}

const JSON: &str = "application/json; charset=UTF-8";

fn oversized_sign_in() -> Vec<u8> {
    let mut huge = b"{\"password\":\"Agent@123\",\"phonenum\":\"7101\",\"pad\":\"".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 64 * 1024));
    huge.extend(b"\"}");
    huge
}

async fn oversized_headers(app: &TestApp) -> Answer {
    let response = app
        .client
        .get(format!("{}/agentevent/101", app.base))
        .header("X-Padding", "p".repeat(10_000))
        .send()
        .await
        .unwrap();
    TestApp::answer(response).await
}

/// A sign-in whose declared body never fully arrives.
async fn stalled_sign_in(app: &TestApp) -> Answer {
    let first = futures_util::stream::iter([Ok::<_, std::io::Error>(b"{\"password\":".to_vec())]);
    let stalled = futures_util::StreamExt::chain(first, futures_util::stream::pending());
    let response = app
        .client
        .put(format!("{}/onlineagent/101", app.base))
        .header("Content-Type", "application/json")
        .header("Content-Length", "100")
        .body(reqwest::Body::wrap_stream(stalled))
        .send()
        .await
        .unwrap();
    TestApp::answer(response).await
}

#[tokio::test]
async fn unknown_interfaces_get_000_002() {
    let app = spawn_app().await;
    for path in ["nothing", "onlineagent/101/fly", "onlineagent", ""] {
        app.call(Method::GET, path, None, None).await.expect("000-002");
    }
}

#[tokio::test]
async fn wrong_methods_get_000_001_and_allow() {
    let app = spawn_app().await;
    let cases = [
        (Method::GET, "onlineagent/101/logout", "DELETE"),
        (Method::POST, "agentevent/101", "GET"),
        (Method::PATCH, "onlineagent/101/sayfree", "POST"),
        (Method::DELETE, "onlineagent/101", "PUT"),
        (Method::GET, "onlineagent/101/forcelogoutwithreason/5", "DELETE"),
    ];
    for (method, path, allowed) in cases {
        let answer = app.call(method.clone(), path, None, None).await;
        answer.expect("000-001");
        assert_eq!(answer.allow.as_deref(), Some(allowed), "{method} {path}");
    }
}

#[tokio::test]
async fn malformed_oversized_and_mistyped_bodies_are_refused() {
    let app = spawn_app().await;
    raw(&app, Method::PUT, "onlineagent/101", JSON, b"{\"password\": ".to_vec()).await.expect("000-006");
    raw(&app, Method::PUT, "onlineagent/101", JSON, oversized_sign_in()).await.expect("000-006");
    raw(&app, Method::PUT, "onlineagent/101", "text/plain", b"hello".to_vec()).await.expect("000-006");
    // None of them signed the agent in.
    app.sign_in(101).await;
}

#[tokio::test]
async fn oversized_headers_get_000_006() {
    let app = spawn_app().await;
    oversized_headers(&app).await.expect("000-006");
}

#[tokio::test]
async fn malformed_query_strings_get_000_002() {
    let app = spawn_app().await;
    let guid = app.sign_in(101).await;
    app.say_busy(101, &guid, "?reason=201&reason=202").await.expect("000-002");
    assert_eq!(app.state_of(101, &guid).await, 4);
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_gets_000_006_and_signs_nobody_in() {
    let app = spawn_app_with(|s| s.server.body.deadline = std::time::Duration::from_millis(300)).await;
    stalled_sign_in(&app).await.expect("000-006");
    app.sign_in(101).await;
}

#[tokio::test]
async fn rest_statuses_give_the_http_layer_refusals_their_rest_status() {
    let app = spawn_app_with(|s| {
        s.server.rest_statuses = true;
        s.server.body.deadline = std::time::Duration::from_millis(300);
    })
    .await;
    let unknown = app.call(Method::GET, "onlineagent/101/fly", None, None).await;
    let wrong_method = app.call(Method::GET, "onlineagent/101/logout", None, None).await;
    assert_eq!(wrong_method.allow.as_deref(), Some("DELETE"));
    let cases = [
        (unknown, StatusCode::NOT_FOUND, "000-002"),
        (wrong_method, StatusCode::METHOD_NOT_ALLOWED, "000-001"),
        (raw(&app, Method::PUT, "onlineagent/101", JSON, b"{".to_vec()).await, StatusCode::BAD_REQUEST, "000-006"),
        (
            raw(&app, Method::PUT, "onlineagent/101", JSON, oversized_sign_in()).await,
            StatusCode::PAYLOAD_TOO_LARGE,
            "000-006",
        ),
        (
            raw(&app, Method::PUT, "onlineagent/101", "text/plain", b"x".to_vec()).await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "000-006",
        ),
        (oversized_headers(&app).await, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "000-006"),
        (stalled_sign_in(&app).await, StatusCode::REQUEST_TIMEOUT, "000-006"),
    ];
    for (answer, status, retcode) in cases {
        assert_eq!((answer.status, answer.retcode()), (status, retcode), "{}", answer.body);
    }
    // Business refusals stay HTTP 200 in both modes.
    let guid = app.sign_in(101).await;
    app.login(101, &app.login_body(101)).await.expect("100-002");
    app.say_free(101, &guid).await.expect("100-009");
}
