//! The OpenAPI document and the health check: the document is valid OpenAPI 3.1 JSON, names
//! exactly the API's operations, every reference in it resolves, and every operation it names is
//! served by the router.
use std::collections::BTreeSet;

use serde_json::Value;

/// Every (method, path) the API serves — kept here by hand, so that an endpoint added or removed
/// without updating the tests is noticed.
const API: &[(&str, &str)] = &[
    ("post", "/auth/login"),
    ("post", "/auth/logout"),
    ("get", "/me"),
    ("get", "/halls"),
    ("post", "/halls"),
    ("post", "/users"),
    ("get", "/users"),
    ("post", "/orgs"),
    ("get", "/orgs"),
    ("get", "/orgs/{id}"),
    ("post", "/tenders"),
    ("get", "/tenders"),
    ("get", "/tenders/{id}"),
    ("put", "/tenders/{id}"),
    ("post", "/tenders/{id}/submit"),
    ("post", "/tenders/{id}/approve"),
    ("post", "/tenders/{id}/return"),
    ("post", "/tenders/{id}/cancel"),
    ("get", "/reviews"),
    ("post", "/tenders/{id}/amendments"),
    ("get", "/tenders/{id}/amendments"),
    ("post", "/tenders/{id}/questions"),
    ("get", "/tenders/{id}/questions"),
    ("post", "/tenders/{id}/questions/{qid}/answer"),
    ("post", "/tenders/{id}/documents"),
    ("get", "/tenders/{id}/documents/{sha256}"),
    ("delete", "/tenders/{id}/documents/{sha256}"),
    ("get", "/tenders/{id}/audit"),
    ("get", "/audit/verify"),
    ("get", "/openapi.json"),
    ("get", "/tenders/{id}/committee"),
    ("put", "/tenders/{id}/committee"),
    ("put", "/tenders/{id}/committee/seats/{seat}/key"),
    ("post", "/tenders/{id}/deposit-reference"),
    ("put", "/tenders/{id}/envelopes/{sha256}"),
    ("get", "/tenders/{id}/envelopes/{sha256}"),
    ("post", "/tenders/{id}/bids"),
    ("post", "/tenders/{id}/bids/withdraw"),
    ("get", "/tenders/{id}/bids/count"),
    ("get", "/tenders/{id}/bids/mine"),
    ("post", "/bank/deposits"),
    ("get", "/tenders/{id}/opening/envelopes"),
    ("post", "/tenders/{id}/opening/commit"),
    ("post", "/tenders/{id}/opening/reveal"),
    ("post", "/tenders/{id}/opening/finish"),
    ("get", "/tenders/{id}/opening/record"),
    ("get", "/log/key"),
    ("get", "/log/checkpoint"),
    ("get", "/log/entries"),
    ("get", "/log/proof"),
    ("post", "/experts/import"),
    ("get", "/experts"),
    ("post", "/tenders/{id}/committee-draw"),
    ("get", "/tenders/{id}/committee-draw"),
    ("post", "/tenders/{id}/committee-draw/decline"),
    ("put", "/experts/{expert_id}/account"),
    ("post", "/tenders/{id}/evaluation/declaration"),
    ("get", "/tenders/{id}/evaluation/bids"),
    ("put", "/tenders/{id}/evaluation/scheme"),
    ("put", "/tenders/{id}/evaluation/sheets/{bid}"),
    ("get", "/tenders/{id}/evaluation/sheets"),
    ("put", "/tenders/{id}/evaluation/representatives"),
    ("put", "/tenders/{id}/evaluation/time"),
    ("post", "/tenders/{id}/evaluation/more-time"),
    ("put", "/tenders/{id}/evaluation/qualification/{bid}"),
    ("get", "/tenders/{id}/evaluation/qualification"),
    ("get", "/tenders/{id}/evaluation/progress"),
    ("get", "/tenders/{id}/evaluation/progress/stream"),
    ("post", "/tenders/{id}/evaluation/report"),
    ("get", "/tenders/{id}/evaluation/report"),
    ("post", "/tenders/{id}/evaluation/report/signatures"),
    ("post", "/tenders/{id}/evaluation/explanations"),
    ("get", "/tenders/{id}/award"),
    ("get", "/tenders/{id}/committee-draw/pool"),
    ("post", "/tenders/{id}/award/publication"),
    ("post", "/tenders/{id}/award/objections"),
    ("post", "/tenders/{id}/award/objections/{number}/answer"),
    ("post", "/tenders/{id}/award/notice"),
    ("post", "/tenders/{id}/award/contract"),
    ("post", "/tenders/{id}/award/refunds/{org}/done"),
    ("get", "/refunds"),
    ("get", "/ocds/tenders/{id}/releases"),
    ("get", "/ocds/tenders/{id}/record"),
    ("get", "/ocds/records"),
    ("post", "/tenders/{id}/screening"),
    ("get", "/tenders/{id}/screening"),
    ("post", "/screening/history"),
    ("get", "/alerts"),
    ("get", "/alerts/{id}"),
    ("post", "/alerts/{id}/review"),
    ("get", "/orgs/{id}/credit"),
    ("get", "/tenders/{id}/rejections"),
];

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The (method, path) of every operation in an OpenAPI document.
pub fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for m in METHODS {
            if item.get(m).is_some() {
                out.insert((m.to_string(), path.clone()));
            }
        }
    }
    out
}

/// Every `$ref` in the document.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    if let Some(s) = v.as_str() {
                        out.push(s.to_string());
                    }
                } else {
                    refs(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

e2e_test! {
    async fn openapi_document_lists_every_route(app: TestApp) {
        let r = app.get("/openapi.json", None).await.expect(200);
        assert_eq!(r.headers["content-type"], "application/json");
        let doc: Value = serde_json::from_str(&r.text).expect("the document is JSON");
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
        assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
        assert_eq!(doc["servers"][0]["url"], "/api/v1");
        assert!(doc["components"]["securitySchemes"]["bearer"].is_object());

        let expected: BTreeSet<(String, String)> =
            API.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
        assert_eq!(operations(&doc), expected);

        // Each operation is well formed: an id, responses, and every path parameter declared.
        let mut ids = BTreeSet::new();
        for (method, path) in &expected {
            let op = &doc["paths"][path][method];
            let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path}: operationId"));
            assert!(ids.insert(id.to_string()), "duplicate operationId {id}");
            assert!(!op["responses"].as_object().unwrap().is_empty(), "{method} {path}: responses");
            assert!(op["tags"].as_array().is_some_and(|t| !t.is_empty()), "{method} {path}: tags");
            let declared: BTreeSet<&str> = op["parameters"]
                .as_array()
                .map(|ps| ps.iter().filter(|p| p["in"] == "path").filter_map(|p| p["name"].as_str()).collect())
                .unwrap_or_default();
            let in_path: BTreeSet<&str> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                .collect();
            assert_eq!(declared, in_path, "{method} {path}: path parameters");
            if method == "post" || method == "put" {
                let needs_body = !path.ends_with("/submit")
                    && !path.ends_with("/approve")
                    && !path.ends_with("/logout")
                    && !path.ends_with("/finish")
                    && !path.ends_with("/screening")
                    && !path.ends_with("/deposit-reference")
                    && !path.ends_with("/done");
                assert_eq!(op["requestBody"].is_object(), needs_body, "{method} {path}: request body");
            }
        }

        // Every reference resolves.
        let mut all = Vec::new();
        refs(&doc, &mut all);
        assert!(!all.is_empty());
        for r in all {
            let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("unexpected $ref {r}"));
            assert!(doc["components"]["schemas"][name].is_object(), "dangling $ref {r}");
        }
        // Domain enumerations are spelled out.
        let state = &doc["components"]["schemas"]["TenderView"]["properties"]["state"];
        assert!(state["enum"].as_array().unwrap().contains(&Value::from("under_review")), "{state}");

        // And every documented operation is served (a route the router lacks answers 405, or the
        // API's fallback 404 for unknown endpoints).
        let id = uuid::Uuid::now_v7().to_string();
        for (method, path) in &expected {
            let concrete = path
                .replace("{id}", &id)
                .replace("{qid}", &id)
                .replace("{sha256}", &"0".repeat(64));
            let m = reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes()).unwrap();
            let body = (method != "get").then(|| serde_json::json!({}));
            let r = app.call(m, &concrete, None, body.as_ref()).await;
            assert_ne!(r.status, 405, "{method} {path} is not routed");
            assert!(
                !(r.status == 404 && r.message().contains("API endpoint")),
                "{method} {path} is not routed"
            );
        }
        let r = app.get("/no/such/endpoint", None).await.expect(404);
        assert_eq!(r.code(), "not_found");
        let r = app.call(reqwest::Method::DELETE, "/tenders", None, None).await.expect(405);
        assert_eq!(r.code(), "method_not_allowed");
    }
}

e2e_test! {
    async fn healthz_answers_ok(app: TestApp) {
        let r = app.send(app.client.get(format!("{}/healthz", app.base))).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.text, "ok\n");
    }
}
