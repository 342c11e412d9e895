//! The proxied path: what follows `/v1/headless/`, decoded segment by segment, checked, and
//! re-encoded canonically — so the upstream sees exactly the path the checks saw. Every segment
//! must decode to 1–128 characters of `[A-Za-z0-9._~-]` (RFC 3986 unreserved) and not be `.` or
//! `..`: ids never need more, and a narrow alphabet leaves no room for separators (`%2F`, `%5C`),
//! double encodings, spaces or look-alike spellings of an id. Since every accepted character is
//! unreserved, the canonical form is the decoded path itself. Refuses `sessions*` (the
//! `sk_*`-authenticated session endpoints are the BFF's own business).
//! Also names the journey, offer and AA-session ids the path refers to, for the ownership check.

use super::ProxyError;
use aarthik_contract::paths::HEADLESS_PREFIX;

use super::routes::SCOPE;

/// A checked headless path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeadlessPath {
    /// Decoded segments, e.g. `["journeys", "j-1", "state"]`.
    segments: Vec<String>,
    /// `/api/v1/headless/…` re-encoded, plus `?query` when there was one.
    upstream: String,
    /// Our side: `/v1/headless/…?query` (canonical), part of the idempotency scope.
    canonical: String,
}

/// The resources a path names.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Named {
    pub journey: Option<String>,
    pub offer: Option<String>,
    pub aa_session: Option<String>,
}

impl HeadlessPath {
    /// `raw_path` is the request path as received (still percent-encoded), `query` the raw query.
    pub fn parse(raw_path: &str, query: &str) -> Result<Self, ProxyError> {
        let rest = raw_path
            .strip_prefix(SCOPE)
            .and_then(|r| r.strip_prefix('/'))
            .ok_or(ProxyError::NotHeadless)?;
        let mut segments = Vec::new();
        for raw in rest.split('/') {
            let seg = decode(raw).ok_or(ProxyError::BadPath)?;
            if !segment_allowed(&seg) {
                return Err(ProxyError::BadPath);
            }
            segments.push(seg);
        }
        if segments
            .first()
            .is_some_and(|s| s.to_ascii_lowercase().starts_with("sessions"))
        {
            return Err(ProxyError::SessionPath);
        }
        let joined = segments.join("/");
        let query = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        Ok(HeadlessPath {
            upstream: format!("{HEADLESS_PREFIX}/{joined}{query}"),
            canonical: format!("{SCOPE}/{joined}{query}"),
            segments,
        })
    }

    pub fn upstream_path_and_query(&self) -> &str {
        &self.upstream
    }

    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    /// Whether a 2xx answer to `method` on this path describes journeys as they are now: the
    /// vendor-documented journey calls only (create or list journeys, read one, read its state).
    /// Other answers may carry a `status` of something else (an offer card, a step).
    pub fn bears_journey(&self, method: &reqwest::Method) -> bool {
        let s: Vec<&str> = self.segments.iter().map(String::as_str).collect();
        match s.as_slice() {
            ["journeys"] => *method == reqwest::Method::GET || *method == reqwest::Method::POST,
            ["journeys", _] | ["journeys", _, "state"] => *method == reqwest::Method::GET,
            _ => false,
        }
    }

    /// Journey create-or-resume: its answer is the borrower's active journey of that type.
    pub fn creates_journey(&self, method: &reqwest::Method) -> bool {
        *method == reqwest::Method::POST
            && self.segments.len() == 1
            && self.segments[0] == "journeys"
    }

    /// `journeys/{id}`, `offers/{id}` and `aa/sessions/{id}` anywhere in the path.
    pub fn named(&self) -> Named {
        let s = &self.segments;
        let mut named = Named::default();
        for i in 0..s.len() {
            let next = s.get(i + 1).cloned();
            match s[i].to_ascii_lowercase().as_str() {
                "journeys" if named.journey.is_none() => named.journey = next,
                "offers" if named.offer.is_none() => named.offer = next,
                "sessions"
                    if named.aa_session.is_none()
                        && i > 0
                        && s[i - 1].eq_ignore_ascii_case("aa") =>
                {
                    named.aa_session = next
                }
                _ => {}
            }
        }
        named
    }
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-decode one segment; `None` for a broken escape or invalid UTF-8.
fn decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = hex_val(*bytes.get(i + 1)?)?;
            let lo = hex_val(*bytes.get(i + 2)?)?;
            out.push(hi * 16 + lo);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Longest path segment accepted.
pub const MAX_SEGMENT_LEN: usize = 128;

/// A decoded segment: 1–128 characters of `[A-Za-z0-9._~-]`, and not `.` or `..`.
pub fn segment_allowed(seg: &str) -> bool {
    (1..=MAX_SEGMENT_LEN).contains(&seg.len())
        && seg != "."
        && seg != ".."
        && seg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_documented_journey_calls_bear_journey_state() {
        use reqwest::Method;
        let p = |path: &str| HeadlessPath::parse(path, "").unwrap();
        assert!(p("/v1/headless/journeys").bears_journey(&Method::GET));
        assert!(p("/v1/headless/journeys").bears_journey(&Method::POST));
        assert!(p("/v1/headless/journeys/j-1").bears_journey(&Method::GET));
        assert!(p("/v1/headless/journeys/j-1/state").bears_journey(&Method::GET));
        assert!(!p("/v1/headless/journeys/j-1/state").bears_journey(&Method::POST));
        assert!(!p("/v1/headless/journeys/j-1/offers").bears_journey(&Method::GET));
        assert!(!p("/v1/headless/offers/o-1").bears_journey(&Method::GET));
        assert!(!p("/v1/headless/offers/o-1/proceed").bears_journey(&Method::POST));
        assert!(p("/v1/headless/journeys").creates_journey(&Method::POST));
        assert!(!p("/v1/headless/journeys").creates_journey(&Method::GET));
        assert!(!p("/v1/headless/journeys/j-1").creates_journey(&Method::POST));
    }

    /// As the caller sees it (the public code of a refusal).
    fn parse(p: &str) -> Result<HeadlessPath, crate::error::ApiError> {
        HeadlessPath::parse(p, "").map_err(Into::into)
    }

    #[test]
    fn plain_paths_map_to_the_upstream_prefix_with_their_query() {
        let p = HeadlessPath::parse("/v1/headless/journeys/j-1/state", "a=1&b=2").unwrap();
        assert_eq!(
            p.upstream_path_and_query(),
            "/api/v1/headless/journeys/j-1/state?a=1&b=2"
        );
        assert_eq!(p.canonical(), "/v1/headless/journeys/j-1/state?a=1&b=2");
    }

    #[test]
    fn session_paths_are_forbidden_in_any_spelling() {
        for p in [
            "/v1/headless/sessions",
            "/v1/headless/sessions/refresh",
            "/v1/headless/SESSIONS",
            "/v1/headless/Sessions2",
            "/v1/headless/%73essions",
            "/v1/headless/%53ESSIONS/refresh",
        ] {
            assert_eq!(parse(p).unwrap_err().code(), "FORBIDDEN", "{p}");
        }
    }

    #[test]
    fn traversal_and_encoded_separators_are_refused() {
        for p in [
            "/v1/headless/journeys/../sessions",
            "/v1/headless/journeys/%2e%2e/sessions",
            "/v1/headless/journeys%2F..%2Fsessions",
            "/v1/headless/journeys%2fx",
            "/v1/headless/journeys%5cx",
            "/v1/headless//sessions",
            "/v1/headless/journeys/",
            "/v1/headless/journeys/%252e",
            "/v1/headless/journeys/%zz",
            "/v1/headless/./journeys",
        ] {
            assert_eq!(parse(p).unwrap_err().code(), "VALIDATION_ERROR", "{p}");
        }
    }

    #[test]
    fn segments_outside_the_unreserved_alphabet_are_refused() {
        for p in [
            "/v1/headless/journeys/a%20b",
            "/v1/headless/journeys/j-1%20",
            "/v1/headless/journeys/a:b",
            "/v1/headless/journeys/a@b",
            "/v1/headless/journeys/%C3%A9",
            "/v1/headless/journeys/a%00",
        ] {
            assert_eq!(parse(p).unwrap_err().code(), "VALIDATION_ERROR", "{p}");
        }
        let long = format!("/v1/headless/journeys/{}", "a".repeat(129));
        assert_eq!(parse(&long).unwrap_err().code(), "VALIDATION_ERROR");
        let longest = format!("/v1/headless/journeys/{}", "a".repeat(128));
        assert!(parse(&longest).is_ok());
        assert!(parse("/v1/headless/journeys/J-1.a_b~c").is_ok());
    }

    #[test]
    fn escapes_of_allowed_characters_are_decoded_canonically() {
        let p = parse("/v1/headless/journey%73/x").unwrap();
        assert_eq!(p.upstream_path_and_query(), "/api/v1/headless/journeys/x");
        assert_eq!(p.named().journey.as_deref(), Some("x"));
    }

    #[test]
    fn named_resources_are_found_anywhere() {
        let p = parse("/v1/headless/journeys/j1/offers/o1/steps").unwrap();
        assert_eq!(
            p.named(),
            Named {
                journey: Some("j1".into()),
                offer: Some("o1".into()),
                aa_session: None
            }
        );
        let p = parse("/v1/headless/aa/sessions/a1/complete").unwrap();
        assert_eq!(p.named().aa_session.as_deref(), Some("a1"));
        assert_eq!(
            parse("/v1/headless/journeys").unwrap().named().journey,
            None
        );
    }
}
