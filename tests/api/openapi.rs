//! The committed OpenAPI document is the generated one.

use crate::helpers::spawn_app;

const COMMITTED: &str = include_str!("../../openapi/openapi.json");
const REGENERATE: &str = "cargo run --quiet -- openapi > openapi/openapi.json";
/// Operations without a Guid: sign-in, and everything outside the Huawei path space.
const PUBLIC: &[&str] = &[
    "login",
    "forceLogin",
    "loginEx",
    "getOpenApi",
    "getApiPageRoot",
    "getApiPage",
    "getLiveness",
    "getReadiness",
    "getMetrics",
];

#[test]
fn committed_openapi_matches_the_code() {
    let generated = agentgateway::api::openapi_json();
    if generated != COMMITTED {
        panic!("openapi/openapi.json is out of date with the code; regenerate it with:\n    {REGENERATE}\n");
    }
}

/// The `Guid` header is the API key of every interface but the public ones:
/// one security scheme, required by each operation, instead of a parameter
/// (with an example Guid) on each.
#[test]
fn every_operation_is_documented_with_the_guid_security_scheme() {
    let doc: serde_json::Value = serde_json::from_str(COMMITTED).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        (
            doc["components"]["securitySchemes"]["Guid"]["type"].as_str(),
            doc["components"]["securitySchemes"]["Guid"]["in"].as_str(),
            doc["components"]["securitySchemes"]["Guid"]["name"].as_str(),
        ),
        (Some("apiKey"), Some("header"), Some("Guid"))
    );
    let mut count = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap().iter().filter(|(key, _)| *key != "servers") {
            count += 1;
            let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path}: no operationId"));
            assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{id}: no summary");
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            assert!(!params.iter().any(|p| p["name"] == "Guid"), "{id}: Guid as a parameter");
            let secured = op["security"] == serde_json::json!([{"Guid": []}]);
            let public = PUBLIC.contains(&id);
            assert_eq!(secured, !public, "{id}: Guid security");
            assert_eq!(op["responses"]["default"]["$ref"], "#/components/responses/Failure", "{id}: default");
        }
    }
    assert_eq!(count, 52);
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

/// What a generated client needs to be natural to use.
#[test]
fn the_document_names_and_types_what_generated_clients_use() {
    let doc: serde_json::Value = serde_json::from_str(COMMITTED).unwrap();
    let schemas = &doc["components"]["schemas"];
    // Every envelope's retcode is the one listed enum, with constant names.
    for name in [
        "Plain",
        "Envelope_Reserved",
        "Envelope_LoginResult",
        "Envelope_AgentStatus",
        "Envelope_Vec_Skill",
        "EventResponse",
    ] {
        assert_eq!(schemas[name]["properties"]["retcode"]["$ref"], "#/components/schemas/Retcode", "{name}");
        let required = schemas[name]["required"].as_array().unwrap();
        assert!(!required.contains(&"result".into()), "{name}: a refusal has no result");
        assert!(!required.contains(&"event".into()), "{name}: a refusal has no event");
    }
    let retcodes = schemas["Retcode"]["enum"].as_array().unwrap();
    assert_eq!(retcodes.len(), schemas["Retcode"]["x-enum-varnames"].as_array().unwrap().len());
    for code in ["0", "000-003", "100-005", "100-006"] {
        assert!(retcodes.contains(&code.into()), "{code} listed");
    }
    // content: null, a named object of strings, or a string.
    let content: Vec<String> = schemas["Content"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.get("$ref").unwrap_or(&v["type"]).to_string())
        .collect();
    assert_eq!(content, [r#""null""#, r##""#/components/schemas/EventFields""##, r#""string""#]);
    assert_eq!(schemas["EventFields"]["additionalProperties"]["type"], "string");
    // Set-GUID is documented wherever a Guid is handed out.
    let base = "/agentgateway/resource";
    for (path, method) in [
        ("/onlineagent/{agentid}", "put"),
        ("/onlineagent/{agentid}/forcelogin", "put"),
        ("/onlineagent/{agentid}/handshake", "post"),
        ("/agentevent/{agentid}", "get"),
    ] {
        let headers = &doc["paths"][format!("{base}{path}")][method]["responses"]["200"]["headers"];
        assert!(headers.get("Set-GUID").is_some(), "{method} {path}: Set-GUID");
    }
    let login = &doc["paths"][format!("{base}/onlineagent/{{agentid}}")]["put"];
    assert_eq!(
        login["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/SignInBody"
    );
    // /metrics is served by the metrics listener, and says so.
    assert_eq!(doc["paths"]["/metrics"]["servers"][0]["url"], "http://127.0.0.1:9464");
}

/// Every `retcode` of every published schema, nested and inline ones too,
/// is the retcode enum: a generated client gets the codes as constants,
/// not a free string (six schemas had drifted to `string` before one
/// generic envelope replaced the hand-written ones).
#[test]
fn every_retcode_in_the_document_is_the_retcode_enum() {
    fn walk(path: &str, value: &serde_json::Value, wrong: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(retcode) = map.get("properties").and_then(|p| p.get("retcode")) {
                    if retcode.get("$ref").and_then(|r| r.as_str()) != Some("#/components/schemas/Retcode") {
                        wrong.push(format!("{path}: {retcode}"));
                    }
                }
                for (key, inner) in map {
                    walk(&format!("{path}/{key}"), inner, wrong);
                }
            }
            serde_json::Value::Array(items) => {
                for (n, inner) in items.iter().enumerate() {
                    walk(&format!("{path}/{n}"), inner, wrong);
                }
            }
            _ => {}
        }
    }
    let doc: serde_json::Value = serde_json::from_str(COMMITTED).unwrap();
    let mut wrong = Vec::new();
    walk("", &doc, &mut wrong);
    assert!(wrong.is_empty(), "retcode not the enum in:\n{}", wrong.join("\n"));
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let envelopes = schemas.keys().filter(|k| k.starts_with("Envelope_")).count();
    assert!(envelopes >= 10, "answers with a result share the generic envelope: {envelopes}");
    for (name, schema) in schemas.iter().filter(|(k, _)| k.starts_with("Envelope_")) {
        assert_eq!(schema["required"], serde_json::json!(["message", "retcode"]), "{name}: result only on success");
    }
}
