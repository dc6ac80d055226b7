//! The committed OpenAPI document is the generated one.

use crate::helpers::spawn_app;

const COMMITTED: &str = include_str!("../../openapi/openapi.json");
const REGENERATE: &str = "cargo run --quiet -- openapi > openapi/openapi.json";

#[test]
fn committed_openapi_matches_the_code() {
    let generated = agentgateway::api::openapi_json();
    if generated != COMMITTED {
        panic!("openapi/openapi.json is out of date with the code; regenerate it with:\n    {REGENERATE}\n");
    }
}

#[test]
fn every_operation_is_documented_with_its_guid_header() {
    let doc: serde_json::Value = serde_json::from_str(COMMITTED).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut count = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            count += 1;
            let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path}: no operationId"));
            assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{id}: no summary");
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let has_guid = params.iter().any(|p| p["name"] == "Guid" && p["in"] == "header");
            let public = ["login", "forceLogin", "getOpenApi", "healthz"].contains(&id);
            assert_eq!(has_guid, !public, "{id}: Guid header");
        }
    }
    assert_eq!(count, 20);
    let reason = &doc["paths"]["/agentgateway/resource/onlineagent/{agentid}/forcelogoutwithreason/{reason}"]["delete"];
    let schema = &reason["parameters"].as_array().unwrap().iter().find(|p| p["name"] == "reason").unwrap()["schema"];
    assert_eq!((schema["minimum"].as_u64(), schema["maximum"].as_u64()), (Some(1), Some(255)));
}

#[tokio::test]
async fn the_gateway_serves_the_committed_document() {
    let app = spawn_app().await;
    let served = app.client.get(format!("{}/openapi.json", app.origin)).send().await.unwrap().text().await.unwrap();
    assert_eq!(served, COMMITTED);
}
