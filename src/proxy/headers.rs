//! Header hygiene in both directions, as allow-lists: only headers that mean something to the
//! upstream go up, and only headers that describe the answer come back. Everything else —
//! `Authorization`, `Cookie`, hop-by-hop headers and any header named in `Connection`, `Host`,
//! `Content-Length`, `X-Forwarded-*`/`Forwarded`, `X-CSRF`, `Origin`/`Referer` — stays here.
//! The correlation id, `traceparent` and the idempotency key are set by the upstream client.
//!
//! `Cache-Control` never comes back (the proxy answers `no-store`: the data is per user), and a
//! `Location` is kept only when it points into the upstream's headless API, rewritten to this
//! service's `/v1/headless/…`; any other location (another host, an internal address, the
//! upstream's other paths) is dropped, so no upstream internals reach apps.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// Request headers forwarded upstream (lower case).
pub const FORWARDED_REQUEST: &[&str] = &[
    "accept",
    "accept-language",
    "content-type",
    "if-match",
    "if-none-match",
    "if-modified-since",
    "if-unmodified-since",
    "prefer",
];

/// Upstream response headers passed back to the caller (lower case).
pub const PASSED_RESPONSE: &[&str] = &[
    "content-type",
    "content-language",
    "retry-after",
    "etag",
    "last-modified",
    "expires",
    "location",
    // The contract version the upstream answered under (it echoes our pin).
    "x-al-api-version",
];

/// The header names listed in `Connection` (they are hop-by-hop for this hop only).
fn connection_named<'a>(connection: impl Iterator<Item = &'a str>) -> Vec<String> {
    connection
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

/// The caller's headers that go upstream. `pairs` are (lower-case name, raw value).
pub fn request_headers(pairs: &[(&str, &[u8])]) -> HeaderMap {
    let named = connection_named(
        pairs
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("connection"))
            .filter_map(|(_, v)| std::str::from_utf8(v).ok()),
    );
    let mut out = HeaderMap::new();
    for &(name, value) in pairs {
        let lower = name.to_ascii_lowercase();
        if !FORWARDED_REQUEST.contains(&lower.as_str()) || named.contains(&lower) {
            continue;
        }
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(lower.as_bytes()),
            HeaderValue::from_bytes(value),
        ) {
            out.append(n, v);
        }
    }
    out
}

/// An upstream `Location` as the caller should see it: on the upstream's own origin (or
/// relative) and under its headless prefix → the same path under this service's proxy scope;
/// anything else → `None` (dropped).
pub fn rewrite_location(value: &str, upstream_origin: &str) -> Option<String> {
    use aarthik_contract::paths::HEADLESS_PREFIX;
    let value = value.trim();
    let path_and_query = if value.starts_with('/') && !value.starts_with("//") {
        value.to_owned()
    } else {
        let loc = url::Url::parse(value).ok()?;
        let origin = url::Url::parse(upstream_origin).ok()?;
        if loc.origin() != origin.origin() {
            return None;
        }
        match loc.query() {
            Some(q) => format!("{}?{q}", loc.path()),
            None => loc.path().to_owned(),
        }
    };
    let rest = path_and_query.strip_prefix(HEADLESS_PREFIX)?;
    if !(rest.is_empty() || rest.starts_with('/') || rest.starts_with('?')) {
        return None;
    }
    Some(format!("{}{rest}", super::routes::SCOPE))
}

/// The upstream headers the caller sees, as (name, value) pairs (values that are not visible
/// ASCII are dropped: they would not survive storage for replay intact), with `Location`
/// rewritten or dropped (see [`rewrite_location`]).
pub fn response_headers(upstream: &HeaderMap, upstream_origin: &str) -> Vec<(String, String)> {
    let named = connection_named(
        upstream
            .get_all("connection")
            .iter()
            .filter_map(|v| v.to_str().ok()),
    );
    upstream
        .iter()
        .filter(|(n, _)| {
            PASSED_RESPONSE.contains(&n.as_str()) && !named.iter().any(|x| x == n.as_str())
        })
        .filter_map(|(n, v)| {
            let v = v.to_str().ok()?;
            let v = if n == "location" {
                rewrite_location(v, upstream_origin)?
            } else {
                v.to_owned()
            };
            Some((n.as_str().to_owned(), v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_useful_request_headers_go_upstream() {
        let pairs: Vec<(&str, &[u8])> = vec![
            ("authorization", b"Bearer partner-jwt"),
            ("cookie", b"__Host-bff_session=x"),
            ("host", b"bff.example"),
            ("content-length", b"2"),
            ("content-type", b"application/json"),
            ("accept", b"application/json"),
            ("accept-language", b"hi-IN"),
            ("if-none-match", b"\"v1\""),
            ("x-forwarded-for", b"10.0.0.1"),
            ("forwarded", b"for=10.0.0.1"),
            ("x-csrf", b"1"),
            ("origin", b"https://app.example"),
            ("referer", b"https://app.example/x"),
            ("connection", b"keep-alive, Accept-Language"),
            ("keep-alive", b"timeout=5"),
            ("te", b"trailers"),
            ("transfer-encoding", b"chunked"),
            ("upgrade", b"h2c"),
            ("proxy-authorization", b"Basic x"),
            ("idempotency-key", b"k1"),
            ("x-correlation-id", b"c1"),
        ];
        let out = request_headers(&pairs);
        let mut names: Vec<_> = out.keys().map(|k| k.as_str().to_owned()).collect();
        names.sort();
        assert_eq!(names, vec!["accept", "content-type", "if-none-match"]);
    }

    #[test]
    fn only_descriptive_response_headers_come_back() {
        let mut up = HeaderMap::new();
        for (n, v) in [
            ("content-type", "application/json"),
            ("etag", "\"e1\""),
            ("retry-after", "3"),
            ("set-cookie", "upstream=1"),
            ("connection", "close"),
            ("transfer-encoding", "chunked"),
            ("x-correlation-id", "c1"),
            ("idempotent-replayed", "true"),
            ("location", "/api/v1/headless/journeys/j1"),
            ("cache-control", "public, max-age=3600"),
        ] {
            up.append(
                HeaderName::from_static(n),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        let mut names: Vec<_> = response_headers(&up, "http://up.internal:9000")
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        names.sort();
        assert_eq!(
            names,
            vec!["content-type", "etag", "location", "retry-after"]
        );
    }

    #[test]
    fn locations_into_the_upstream_api_are_rewritten_and_others_dropped() {
        let up = "http://up.internal:9000";
        for (loc, want) in [
            (
                "http://up.internal:9000/api/v1/headless/journeys/j1",
                Some("/v1/headless/journeys/j1"),
            ),
            (
                "http://UP.internal:9000/api/v1/headless/journeys?x=1",
                Some("/v1/headless/journeys?x=1"),
            ),
            (
                "/api/v1/headless/journeys/j1/state",
                Some("/v1/headless/journeys/j1/state"),
            ),
            ("http://10.0.0.7:8080/api/v1/headless/journeys/j1", None),
            ("https://up.internal:9000/api/v1/headless/journeys/j1", None),
            ("http://up.internal:9000/admin", None),
            ("http://up.internal:9000/api/v1/headlessx", None),
            ("//evil.example/api/v1/headless/x", None),
            ("/__sandbox/pages/x", None),
            ("not a url", None),
        ] {
            assert_eq!(rewrite_location(loc, up).as_deref(), want, "{loc}");
        }
    }
}
