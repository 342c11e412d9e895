//! The OpenAPI document against the code: `docs/openapi.json` is the generated document, the
//! service serves that document, every registered route is in it and every operation in it is
//! routed (probed over HTTP without credentials: not the unknown-route 404, not the router's 405).

use std::collections::BTreeSet;

use serde_json::Value;

use crate::helpers::spawn_app;

/// The methods a route may serve (HEAD is served wherever GET is, OPTIONS only as a CORS
/// preflight: neither is listed).
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

fn generated() -> Value {
    aarthik_bff::openapi::document()
}

#[test]
fn docs_openapi_json_is_the_generated_document() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/openapi.json");
    let committed = std::fs::read_to_string(&path).expect("docs/openapi.json");
    assert!(
        committed == aarthik_bff::openapi::document_json(),
        "docs/openapi.json is not the generated document: run \
         `cargo run -q -- openapi > docs/openapi.json` and commit it"
    );
}

#[test]
fn every_operation_has_a_unique_id_a_tag_and_the_correlation_header() {
    let doc = generated();
    let mut ids = BTreeSet::new();
    for (method, path, id) in aarthik_bff::openapi::operations(&doc) {
        assert!(ids.insert(id.clone()), "operationId {id} is used twice");
        let op = &doc["paths"][&path][method.to_lowercase()];
        assert!(
            op["tags"].as_array().is_some_and(|t| !t.is_empty()),
            "{method} {path} has no tag"
        );
        let responses = op["responses"].as_object().expect("responses");
        assert!(!responses.is_empty(), "{method} {path} has no responses");
        for (status, r) in responses {
            assert!(
                r["headers"]["X-Correlation-ID"].is_object(),
                "{method} {path} {status} lacks X-Correlation-ID"
            );
            if status == "429" || status == "503" {
                assert!(
                    r["headers"]["Retry-After"].is_object(),
                    "{method} {path} {status} lacks Retry-After"
                );
            }
        }
    }
    let operations = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum::<usize>();
    assert_eq!(ids.len(), operations, "every operation has an operationId");
}

#[test]
fn every_reference_resolves_and_the_error_catalogue_is_complete() {
    let doc = generated();
    let text = serde_json::to_string(&doc).unwrap();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for piece in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = piece.split('"').next().unwrap();
        assert!(
            schemas.contains_key(name),
            "$ref to a missing schema {name}"
        );
    }
    let codes: BTreeSet<&str> = schemas["ErrorCode"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["enum"][0].as_str().unwrap())
        .collect();
    for code in aarthik_bff::error::ErrorCode::ALL {
        assert!(codes.contains(code.as_str()), "{code} is not in the schema");
    }
    assert_eq!(codes.len(), aarthik_bff::error::ErrorCode::ALL.len());
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    for scheme in [
        "partnerJwt",
        "webCookie",
        "csrf",
        "opsToken",
        "opsCookie",
        "webhookSignature",
        "webhookTimestamp",
    ] {
        assert!(schemes.contains_key(scheme), "security scheme {scheme}");
    }
}

/// A concrete path for a template: each `{name}` becomes `probe-name`.
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(
            |seg| match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => format!("probe-{name}"),
                None => seg.to_owned(),
            },
        )
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether `method path` reaches a handler: anything but the router's 405 and the unknown-route
/// 404 (the proxy's own 405 for an unproxied method is not sent for these five methods).
async fn routed(app: &crate::helpers::TestApp, method: &str, path: &str) -> bool {
    let r = app
        .client
        .request(method.parse().unwrap(), app.url(path))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let body: Value = r.json().await.unwrap_or_default();
    let message = body["error"]["message"].as_str().unwrap_or("");
    !(status == 405 || (status == 404 && message.starts_with("No route for")))
}

#[tokio::test]
async fn the_document_and_the_routes_name_the_same_operations() {
    let app = spawn_app().await;
    let doc = generated();
    let documented: BTreeSet<(String, String)> = aarthik_bff::openapi::operations(&doc)
        .into_iter()
        .map(|(m, p, _)| (m, p))
        .collect();
    let registered = aarthik_bff::http::registry::registered_paths();
    assert!(
        registered.contains(&"/v1/session".to_owned()) && registered.len() > 20,
        "the registry saw the app's routes: {registered:?}"
    );

    // Every method a registered route serves is documented.
    let mut served = BTreeSet::new();
    for path in &registered {
        for method in METHODS {
            if routed(&app, method, &concrete(path)).await {
                served.insert((method.to_owned(), path.clone()));
            }
        }
    }
    let undocumented: Vec<_> = served.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the OpenAPI document: {undocumented:?}"
    );

    // Every documented operation is routed: on a registered route, or (the upstream's operations)
    // through the proxy's prefix.
    let mut unrouted = Vec::new();
    for (method, path) in &documented {
        let under_route = registered.contains(path)
            || (path.starts_with("/v1/headless/")
                && registered.contains(&"/v1/headless/{path}".to_owned()));
        if !under_route || !routed(&app, method, &concrete(path)).await {
            unrouted.push(format!("{method} {path}"));
        }
    }
    assert!(
        unrouted.is_empty(),
        "documented operations with no route: {unrouted:?}"
    );
}

#[tokio::test]
async fn the_service_serves_the_generated_document() {
    let app = spawn_app().await;
    let r = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let served = r.text().await.unwrap();
    assert_eq!(served, aarthik_bff::openapi::document_json());
    let doc: Value = serde_json::from_str(&served).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
}

#[test]
fn docs_api_md_lists_every_operation_id() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/api.md");
    let md = std::fs::read_to_string(&path).expect("docs/api.md");
    let listed: BTreeSet<(String, String, String)> = md
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l
                .trim()
                .trim_matches('|')
                .split('|')
                .map(str::trim)
                .collect();
            let id = cells.first()?.strip_prefix('`')?.strip_suffix('`')?;
            let path = cells.get(2)?.strip_prefix('`')?.strip_suffix('`')?;
            Some((cells.get(1)?.to_string(), path.to_owned(), id.to_owned()))
        })
        .collect();
    let documented: BTreeSet<(String, String, String)> =
        aarthik_bff::openapi::operations(&generated())
            .into_iter()
            .collect();
    let missing: Vec<_> = documented.difference(&listed).collect();
    let extra: Vec<_> = listed.difference(&documented).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "docs/api.md disagrees with the document: missing {missing:?}, not in the document {extra:?}"
    );
}
