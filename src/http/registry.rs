//! Every resource of the service is created here, so the set of route templates is known: the
//! OpenAPI test (`tests/api/openapi.rs`) compares it with the document, in both directions.
//! `tests/architecture.rs` refuses a `web::resource(` or `web::scope(` anywhere else in `src/`.

use std::collections::BTreeSet;
use std::sync::{Mutex, OnceLock};

use actix_web::{web, Resource, Scope};

fn table() -> &'static Mutex<BTreeSet<String>> {
    static TABLE: OnceLock<Mutex<BTreeSet<String>>> = OnceLock::new();
    TABLE.get_or_init(Default::default)
}

fn remember(path: String) {
    if let Ok(mut t) = table().lock() {
        t.insert(path);
    }
}

/// `web::resource(path)`, remembered.
pub fn resource(path: &str) -> Resource {
    remember(path.to_owned());
    web::resource(path)
}

/// `web::scope(prefix)` whose requests all go to its default service: remembered as the template
/// `{prefix}{inner}`, matched by the prefix alone (a `{name:.*}` resource would run a regex per
/// request).
pub fn catch_all_scope(prefix: &str, inner: &str) -> Scope {
    remember(format!("{prefix}{inner}"));
    web::scope(prefix)
}

/// The route templates registered so far in this process (by every app built), as OpenAPI
/// templates: a `{name:regex}` segment is written `{name}`.
pub fn registered_paths() -> Vec<String> {
    let t = table().lock().map(|t| t.clone()).unwrap_or_default();
    t.into_iter().map(|p| openapi_template(&p)).collect()
}

/// `/v1/headless/{path:.*}` → `/v1/headless/{path}`.
pub fn openapi_template(actix: &str) -> String {
    let mut out = String::with_capacity(actix.len());
    let mut skipping = false;
    for c in actix.chars() {
        match c {
            '}' => {
                skipping = false;
                out.push(c);
            }
            ':' if out.rfind('{') > out.rfind('}') => skipping = true,
            _ if skipping => {}
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn regex_segments_become_plain_templates() {
        assert_eq!(
            super::openapi_template("/v1/headless/{path:.*}"),
            "/v1/headless/{path}"
        );
        assert_eq!(
            super::openapi_template("/v1/ops/journeys/{journeyID}"),
            "/v1/ops/journeys/{journeyID}"
        );
    }
}
