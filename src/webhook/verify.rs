//! Signature and freshness checks for upstream webhook deliveries: `X-AL-Webhook-Signature` is the
//! lowercase hex HMAC-SHA256 of `X-AL-Webhook-Timestamp + "." + body`. The upstream documents
//! neither the timestamp's format nor a tolerance: integer seconds or milliseconds and RFC 3339
//! are all accepted, within a configurable tolerance.
//!
//! Why it is built this way:
//! - The MAC is computed over the raw bytes exactly as received (`timestamp + "." + body`), never
//!   over a re-serialised parse, so formatting differences cannot break or forge a match.
//! - The expected lowercase hex is compared with `subtle` in constant time against *every*
//!   configured secret (no early exit), so a key rotation has no gap and timing says nothing about
//!   which secret, or how many leading characters, matched.
//! - Keys are set up once ([`Verifier::new`]); a check clones the keyed HMAC state, which is the
//!   cheap part of HMAC set-up.

use hmac::Mac;
use secrecy::{ExposeSecret, SecretString};
use subtle::{Choice, ConstantTimeEq};

use aarthik_contract::signature::{hex_mac, HmacSha256};

/// Integer timestamps above this are milliseconds, below it seconds (the format is undocumented).
const MILLIS_THRESHOLD: i64 = 1_000_000_000_000;

/// Verifies `X-AL-Webhook-Signature` against any of the configured secrets.
#[derive(Clone)]
pub struct Verifier {
    keys: Vec<HmacSha256>,
}

impl Verifier {
    /// Empty secrets are skipped; with no secret at all nothing verifies.
    pub fn new(secrets: &[SecretString]) -> Self {
        let keys = secrets
            .iter()
            .map(|s| s.expose_secret().as_bytes())
            .filter(|s| !s.is_empty())
            .filter_map(|s| HmacSha256::new_from_slice(s).ok())
            .collect();
        Verifier { keys }
    }

    /// True when `signature` is the lowercase hex HMAC of `timestamp + "." + body` under any key.
    pub fn verify(&self, timestamp: &str, body: &[u8], signature: &str) -> bool {
        let given = signature.as_bytes();
        let mut matched = Choice::from(0u8);
        for key in &self.keys {
            let expected = hex_mac(key.clone(), timestamp, body);
            // Unequal lengths compare false (and only the length, which is public, leaks).
            matched |= expected[..].ct_eq(given);
        }
        matched.into()
    }
}

/// The scheme the upstream signs with (and the one our forwarder re-signs with).
pub use aarthik_contract::signature::sign;

/// Parse `X-AL-Webhook-Timestamp` into Unix milliseconds: an integer (seconds, or milliseconds
/// when above 10^12) or an RFC 3339 date-time.
pub fn parse_timestamp(raw: &str) -> Option<i64> {
    let s = raw.trim();
    if !s.is_empty() && s.len() <= 18 && s.bytes().all(|b| b.is_ascii_digit()) {
        let n: i64 = s.parse().ok()?;
        return if n > MILLIS_THRESHOLD {
            Some(n)
        } else {
            n.checked_mul(1000)
        };
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.timestamp_millis())
}

/// True when `timestamp_ms` is within `tolerance_secs` of `now_ms`, in either direction.
pub fn is_fresh(timestamp_ms: i64, now_ms: i64, tolerance_secs: u64) -> bool {
    let tolerance_ms = i64::try_from(tolerance_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    now_ms.abs_diff(timestamp_ms) <= tolerance_ms.unsigned_abs()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verifier(secrets: &[&str]) -> Verifier {
        let s: Vec<SecretString> = secrets
            .iter()
            .map(|s| SecretString::from(s.to_string()))
            .collect();
        Verifier::new(&s)
    }

    #[test]
    fn a_signature_from_any_configured_secret_verifies() {
        let v = verifier(&["new", "old"]);
        let body = br#"{"event_id":"evt_1"}"#;
        assert!(v.verify("1700000000", body, &sign(b"new", "1700000000", body)));
        assert!(v.verify("1700000000", body, &sign(b"old", "1700000000", body)));
        assert!(!v.verify("1700000000", body, &sign(b"other", "1700000000", body)));
    }

    #[test]
    fn any_change_to_timestamp_body_or_case_fails() {
        let v = verifier(&["k"]);
        let sig = sign(b"k", "1700000000", b"{}");
        assert!(v.verify("1700000000", b"{}", &sig));
        assert!(!v.verify("1700000001", b"{}", &sig));
        assert!(!v.verify("1700000000", b"{ }", &sig));
        assert!(!v.verify("1700000000", b"{}", &sig.to_uppercase()));
        assert!(!v.verify("1700000000", b"{}", &format!("sha256={sig}")));
        assert!(!v.verify("1700000000", b"{}", ""));
    }

    #[test]
    fn no_secret_means_nothing_verifies() {
        let v = verifier(&[""]);
        assert!(!v.verify("1", b"{}", &sign(b"", "1", b"{}")));
    }

    #[test]
    fn the_signature_matches_the_vendor_scheme() {
        // Independent computation: HMAC over the concatenated string in one update.
        let mut mac = HmacSha256::new_from_slice(b"whsec").unwrap();
        mac.update(b"1775121370.{\"a\":1}");
        let expected = hex::encode(mac.finalize().into_bytes());
        assert_eq!(sign(b"whsec", "1775121370", br#"{"a":1}"#), expected);
    }

    #[test]
    fn timestamps_parse_as_seconds_millis_or_rfc3339() {
        assert_eq!(parse_timestamp("1775121370"), Some(1_775_121_370_000));
        assert_eq!(parse_timestamp("1775121370123"), Some(1_775_121_370_123));
        assert_eq!(
            parse_timestamp("2026-04-02T09:16:10.000Z"),
            Some(1_775_121_370_000)
        );
        assert_eq!(
            parse_timestamp("2026-04-02T14:46:10+05:30"),
            Some(1_775_121_370_000)
        );
        for bad in ["", "-5", "12ab", "soon", "99999999999999999999999"] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn freshness_is_symmetric() {
        let now = 1_000_000_000;
        assert!(is_fresh(now - 300_000, now, 300));
        assert!(is_fresh(now + 300_000, now, 300));
        assert!(!is_fresh(now - 300_001, now, 300));
        assert!(!is_fresh(now + 300_001, now, 300));
    }
}
