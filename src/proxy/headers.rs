//! Header hygiene in both directions, as allow-lists: only headers that mean something to the
//! upstream go up, and only headers that describe the answer come back. Everything else —
//! `Authorization`, `Cookie`, hop-by-hop headers and any header named in `Connection`, `Host`,
//! `Content-Length`, `X-Forwarded-*`/`Forwarded`, `X-CSRF`, `Origin`/`Referer` — stays here.
//! The correlation id, `traceparent` and the idempotency key are set by the upstream client.

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
    "cache-control",
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

/// The upstream headers the caller sees, as (name, value) pairs (values that are not visible
/// ASCII are dropped: they would not survive storage for replay intact).
pub fn response_headers(upstream: &HeaderMap) -> Vec<(String, String)> {
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
        .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
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
            ("location", "/x"),
        ] {
            up.append(
                HeaderName::from_static(n),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        let mut names: Vec<_> = response_headers(&up).into_iter().map(|(n, _)| n).collect();
        names.sort();
        assert_eq!(
            names,
            vec!["content-type", "etag", "location", "retry-after"]
        );
    }
}
