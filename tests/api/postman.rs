//! The Postman collection (docs/postman/) covers every documented
//! operation and asserts on every answer. CI runs it with newman; this
//! keeps it complete when an interface is added.

use std::collections::BTreeSet;

use serde_json::Value;

const COLLECTION: &str = include_str!("../../docs/postman/agentgateway.postman_collection.json");
const ENVIRONMENT: &str = include_str!("../../docs/postman/agentgateway.postman_environment.json");
const DOCUMENT: &str = include_str!("../../openapi/openapi.json");
const METHODS: [&str; 4] = ["get", "put", "post", "delete"];

fn requests(items: &Value, out: &mut Vec<Value>) {
    for item in items.as_array().unwrap() {
        match item.get("item") {
            Some(children) => requests(children, out),
            None => out.push(item.clone()),
        }
    }
}

/// `{{baseUrl}}/onlineagent/{{agentId}}/saybusy?reason=201` → the path
/// `/agentgateway/resource/onlineagent/{{agentId}}/saybusy`.
fn path_of(url: &str) -> String {
    let url = url.split('?').next().unwrap();
    let url = url.replace("{{baseUrl}}", "/agentgateway/resource");
    url.replace("{{origin}}", "").replace("{{metricsOrigin}}", "")
}

/// OpenAPI `/a/{x}/b` matches `/a/anything/b` (one segment, maybe empty).
fn matches(template: &str, path: &str) -> bool {
    let (t, p): (Vec<_>, Vec<_>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len() && t.iter().zip(&p).all(|(t, p)| t == p || (t.starts_with('{') && t.ends_with('}')))
}

#[test]
fn the_collection_covers_every_operation_and_tests_every_answer() {
    let collection: Value = serde_json::from_str(COLLECTION).unwrap();
    let doc: Value = serde_json::from_str(DOCUMENT).unwrap();
    let mut all = Vec::new();
    requests(&collection["item"], &mut all);
    let mut covered = BTreeSet::new();
    for request in &all {
        let name = request["name"].as_str().unwrap();
        let method = request["request"]["method"].as_str().unwrap().to_lowercase();
        let path = path_of(request["request"]["url"].as_str().unwrap());
        let operation = doc["paths"].as_object().unwrap().iter().find_map(|(template, item)| {
            (matches(template, &path) && item.get(&method).is_some()).then(|| item[&method]["operationId"].clone())
        });
        // A deliberately wrong method has no operation; everything else must.
        if let Some(Value::String(id)) = operation {
            covered.insert(id);
        } else {
            assert!(name.starts_with("Wrong method"), "{name}: {method} {path} is not a documented operation");
        }
        let tests = request["event"].as_array().unwrap().iter().find(|e| e["listen"] == "test");
        let script =
            tests.map(|t| t["script"]["exec"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect());
        let script: Vec<&str> = script.unwrap_or_else(|| panic!("{name}: no test script"));
        assert!(script.iter().any(|l| l.contains("pm.test(")), "{name}: no assertion");
        let guid_header = request["request"]["header"].as_array().unwrap().iter().any(|h| h["value"] == "{{guid}}");
        // Every successful answer that may carry a Guid updates the variable.
        let may_hand_out_a_guid = method == "put" || ["agentevent", "handshake"].iter().any(|p| path.contains(p));
        let succeeds = script.iter().any(|l| l.contains("'retcode 0'"));
        if may_hand_out_a_guid && succeeds && (guid_header || method == "put") {
            assert!(script.iter().any(|l| l.contains("pm.collectionVariables.set('guid'")), "{name}: keeps the Guid");
        }
    }
    let documented: BTreeSet<String> = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| {
            METHODS.iter().filter_map(|m| item.get(m)).map(|op| op["operationId"].as_str().unwrap().to_owned())
        })
        .collect();
    let missing: Vec<_> = documented.difference(&covered).collect();
    assert!(missing.is_empty(), "operations without a request in the collection: {missing:?}");
}

#[test]
fn the_environment_defines_every_variable_the_collection_uses() {
    let environment: Value = serde_json::from_str(ENVIRONMENT).unwrap();
    let collection: Value = serde_json::from_str(COLLECTION).unwrap();
    let mut defined: BTreeSet<String> =
        environment["values"].as_array().unwrap().iter().map(|v| v["key"].as_str().unwrap().to_owned()).collect();
    defined.extend(collection["variable"].as_array().unwrap().iter().map(|v| v["key"].as_str().unwrap().to_owned()));
    for used in COLLECTION.split("{{").skip(1).map(|rest| rest.split("}}").next().unwrap()) {
        assert!(defined.contains(used), "{{{{{used}}}}} is used but not defined");
    }
}
