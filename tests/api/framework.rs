//! Framework-level failures answer their HTTP status with the envelope.

use reqwest::{Method, StatusCode};

use crate::helpers::{spawn_app, TestApp};

async fn raw(app: &TestApp, method: Method, path: &str, content_type: &str, body: Vec<u8>) -> crate::helpers::Answer {
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

#[tokio::test]
async fn unknown_routes_get_404_with_000_002() {
    let app = spawn_app().await;
    for path in ["nothing", "onlineagent/101/fly", "onlineagent"] {
        let answer = app.call(Method::GET, path, None, None).await;
        assert_eq!((answer.status, answer.retcode()), (StatusCode::NOT_FOUND, "000-002"), "{path}");
    }
}

#[tokio::test]
async fn wrong_methods_get_405_with_000_001_and_allow() {
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
        assert_eq!((answer.status, answer.retcode()), (StatusCode::METHOD_NOT_ALLOWED, "000-001"), "{method} {path}");
        assert_eq!(answer.allow.as_deref(), Some(allowed));
    }
}

#[tokio::test]
async fn malformed_oversized_and_mistyped_bodies_are_refused() {
    let app = spawn_app().await;
    let json = "application/json; charset=UTF-8";
    let malformed = raw(&app, Method::PUT, "onlineagent/101", json, b"{\"password\": ".to_vec()).await;
    assert_eq!((malformed.status, malformed.retcode()), (StatusCode::BAD_REQUEST, "000-006"));
    let mut huge = b"{\"password\":\"Agent@123\",\"phonenum\":\"7101\",\"pad\":\"".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 64 * 1024));
    huge.extend(b"\"}");
    let oversized = raw(&app, Method::PUT, "onlineagent/101", json, huge).await;
    assert_eq!((oversized.status, oversized.retcode()), (StatusCode::PAYLOAD_TOO_LARGE, "000-006"));
    let text = raw(&app, Method::PUT, "onlineagent/101", "text/plain", b"hello".to_vec()).await;
    assert_eq!((text.status, text.retcode()), (StatusCode::UNSUPPORTED_MEDIA_TYPE, "000-006"));
    // None of them signed the agent in.
    app.sign_in(101).await;
}

#[tokio::test]
async fn oversized_headers_get_431_with_the_envelope() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(format!("{}/agentevent/101", app.base))
        .header("X-Padding", "p".repeat(10_000))
        .send()
        .await
        .unwrap();
    let answer = TestApp::answer(response).await;
    assert_eq!((answer.status, answer.retcode()), (StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "000-006"));
}

#[tokio::test]
async fn malformed_query_strings_get_000_002() {
    let app = spawn_app().await;
    let guid = app.sign_in(101).await;
    app.say_busy(101, &guid, "?reason=201&reason=202").await.expect("000-002");
    assert_eq!(app.state_of(101, &guid).await, 4);
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_gets_408_and_signs_nobody_in() {
    let app = crate::helpers::spawn_app_with(|s| s.body_timeout_ms = 300).await;
    // One chunk, then nothing: the rest of the declared body never comes.
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
    let answer = TestApp::answer(response).await;
    assert_eq!((answer.status, answer.retcode()), (StatusCode::REQUEST_TIMEOUT, "000-006"));
    app.sign_in(101).await;
}

#[tokio::test]
async fn healthz_answers_ok_without_a_guid() {
    let app = spawn_app().await;
    let response = app.client.get(format!("{}/healthz", app.origin)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), r#"{"status":"ok"}"#);
}
