//! Partner JWT verification. The algorithm allow-list comes from configuration, never from the
//! token: HS256 tokens are checked only against the shared secret, RS256/ES256 tokens only against
//! JWKS public keys chosen by `kid`. That split is what rules out `alg: none` and HS/RS confusion
//! (an attacker signing HS256 with a public key as the "secret").
//!
//! Besides the signature: `exp` is required, `nbf` is enforced, and a lifetime above
//! `auth.max_token_lifetime_secs` (`exp - iat`, or `exp - now` without `iat`) is refused, so a
//! leaked long-lived token is not a standing credential. The reason for a refusal is for the log;
//! callers get one generic message (see `extract`).
//!
//! The JWKS file is re-read when its modification time changes. Verification never waits on file
//! I/O under a lock: the keys sit behind an `RwLock<Arc<…>>` read fast path; at most once a second
//! one caller (chosen by a compare-and-swap on the last-check time) looks at the file's mtime and,
//! when it changed, reads it and swaps the new keys in.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Instant, SystemTime};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::config::Settings;

/// Why a token was refused. The message is safe to show the caller.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("missing bearer token")]
    Missing,
    #[error("the token is malformed")]
    Malformed,
    #[error("the token's algorithm is not accepted")]
    AlgorithmNotAllowed,
    #[error("no key matches the token")]
    UnknownKey,
    #[error("the token is invalid: {0}")]
    Invalid(String),
    #[error("the token has expired")]
    Expired,
    #[error("the token was issued before its user was signed out everywhere")]
    Revoked,
    #[error("the token is not valid yet (nbf)")]
    NotYetValid,
    #[error("the token's lifetime exceeds auth.max_token_lifetime_secs")]
    LifetimeTooLong,
}

/// A verified partner user.
#[derive(Clone, PartialEq, Eq)]
pub struct PartnerUser {
    /// The JWT `sub`: the partner's own user id.
    pub user_id: String,
    /// The JWT `iat` (unix seconds), when present: revocation compares it.
    pub issued_at: Option<i64>,
}

impl std::fmt::Debug for PartnerUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PartnerUser")
            .field("user_id", &self.user_id)
            .field("issued_at", &self.issued_at)
            .finish()
    }
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    /// NumericDates may carry a fraction.
    exp: f64,
    #[serde(default)]
    iat: Option<f64>,
}

type Keys = HashMap<String, (Algorithm, DecodingKey)>;

/// The keys read from the file, with the file's mtime when they were read.
#[derive(Default)]
struct Loaded {
    keys: Keys,
    modified: Option<SystemTime>,
}

struct JwksCache {
    path: PathBuf,
    loaded: RwLock<Arc<Loaded>>,
    /// Milliseconds since `epoch` + 1 of the last mtime check; 0 = never checked.
    checked_ms: AtomicU64,
    epoch: Instant,
}

/// How often the JWKS file's mtime is looked at.
const JWKS_CHECK_EVERY_MS: u64 = 1000;

impl JwksCache {
    fn new(path: PathBuf) -> Self {
        JwksCache {
            path,
            loaded: RwLock::new(Arc::new(Loaded::default())),
            checked_ms: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }

    fn current(&self) -> Arc<Loaded> {
        match self.loaded.read() {
            Ok(g) => Arc::clone(&g),
            Err(p) => Arc::clone(&p.into_inner()),
        }
    }

    /// The keys, after re-reading the file if it is due and changed.
    fn keys(&self) -> Arc<Loaded> {
        let now = self.epoch.elapsed().as_millis() as u64 + 1;
        let last = self.checked_ms.load(Ordering::Acquire);
        let due = last == 0 || now.saturating_sub(last) >= JWKS_CHECK_EVERY_MS;
        // One caller per second wins the check; everyone else uses the keys as they are.
        if due
            && self
                .checked_ms
                .compare_exchange(last, now, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            self.reload_if_changed();
        }
        self.current()
    }

    fn reload_if_changed(&self) {
        let current = self.current();
        let modified = std::fs::metadata(&self.path)
            .and_then(|m| m.modified())
            .ok();
        if modified == current.modified && !current.keys.is_empty() {
            return;
        }
        match load_jwks(&self.path) {
            Ok(keys) => {
                let fresh = Arc::new(Loaded { keys, modified });
                match self.loaded.write() {
                    Ok(mut g) => *g = fresh,
                    Err(p) => *p.into_inner() = fresh,
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not read auth.jwks_file; keeping the previous keys")
            }
        }
    }
}

/// Verifies partner JWTs. Cheap to clone.
#[derive(Clone)]
pub struct Verifier {
    hs256: Option<Arc<DecodingKey>>,
    allowed: Vec<Algorithm>,
    jwks: Option<Arc<JwksCache>>,
    issuer: Option<String>,
    audience: Option<String>,
    leeway: u64,
    max_lifetime_secs: u64,
    /// Tokens that verified recently (shared by every clone, so by every worker).
    memo: Arc<super::verified::VerifiedTokens>,
}

fn parse_alg(name: &str) -> Option<Algorithm> {
    match name {
        "HS256" => Some(Algorithm::HS256),
        "RS256" => Some(Algorithm::RS256),
        "ES256" => Some(Algorithm::ES256),
        _ => None,
    }
}

impl Verifier {
    pub fn from_settings(settings: &Settings) -> Self {
        let secret = settings.auth.hs256_secret.expose_secret();
        let allowed: Vec<Algorithm> = settings
            .jwt_algorithms()
            .iter()
            .filter_map(|a| parse_alg(a))
            .collect();
        let jwks = (!settings.auth.jwks_file.is_empty())
            .then(|| Arc::new(JwksCache::new(PathBuf::from(&settings.auth.jwks_file))));
        Verifier {
            hs256: (!secret.is_empty())
                .then(|| Arc::new(DecodingKey::from_secret(secret.as_bytes()))),
            allowed,
            jwks,
            issuer: Some(settings.auth.issuer.clone()).filter(|s| !s.is_empty()),
            audience: Some(settings.auth.audience.clone()).filter(|s| !s.is_empty()),
            leeway: settings.auth.leeway_secs,
            max_lifetime_secs: settings.auth.max_token_lifetime_secs,
            memo: Arc::default(),
        }
    }

    /// Verify an `Authorization` header value (`Bearer <jwt>`).
    pub fn verify_header(&self, header: Option<&str>) -> Result<PartnerUser, AuthError> {
        let value = header.ok_or(AuthError::Missing)?;
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .ok_or(AuthError::Missing)?
            .trim();
        self.verify(token)
    }

    /// Verify a token, or recognise one that verified moments ago (see `verified`).
    pub fn verify(&self, token: &str) -> Result<PartnerUser, AuthError> {
        if token.is_empty() || token.len() > 8192 {
            return Err(AuthError::Malformed);
        }
        let now = chrono::Utc::now().timestamp();
        let key = super::verified::digest(token);
        if let Some(user) = self.memo.get(&key, now) {
            return Ok(user);
        }
        let (user, exp) = self.verify_fully(token)?;
        if exp.is_finite() && exp < 1e15 {
            let until = (exp.floor() as i64).saturating_add(self.leeway.min(3600) as i64);
            self.memo.put(key, &user, until, now);
        }
        Ok(user)
    }

    /// The full check; also returns the token's `exp`.
    fn verify_fully(&self, token: &str) -> Result<(PartnerUser, f64), AuthError> {
        let header = decode_header(token).map_err(|_| AuthError::Malformed)?;
        if !self.allowed.contains(&header.alg) {
            return Err(AuthError::AlgorithmNotAllowed);
        }
        let key: DecodingKey = match header.alg {
            Algorithm::HS256 => self
                .hs256
                .as_deref()
                .cloned()
                .ok_or(AuthError::AlgorithmNotAllowed)?,
            Algorithm::RS256 | Algorithm::ES256 => {
                let kid = header.kid.as_deref().ok_or(AuthError::UnknownKey)?;
                self.jwks_key(kid, header.alg)?
            }
            _ => return Err(AuthError::AlgorithmNotAllowed),
        };
        let mut validation = Validation::new(header.alg);
        validation.leeway = self.leeway;
        validation.set_required_spec_claims(&["exp", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        if let Some(iss) = &self.issuer {
            validation.set_issuer(&[iss]);
            validation.required_spec_claims.insert("iss".into());
        }
        match &self.audience {
            Some(aud) => {
                validation.set_audience(&[aud]);
                validation.required_spec_claims.insert("aud".into());
            }
            None => validation.validate_aud = false,
        }
        let data = decode::<Claims>(token, &key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            match e.kind() {
                K::ExpiredSignature => AuthError::Expired,
                K::ImmatureSignature => AuthError::NotYetValid,
                K::InvalidSignature => AuthError::Invalid("bad signature".into()),
                K::InvalidAudience => AuthError::Invalid("wrong audience".into()),
                K::InvalidIssuer => AuthError::Invalid("wrong issuer".into()),
                K::MissingRequiredClaim(c) => AuthError::Invalid(format!("missing claim {c}")),
                _ => AuthError::Invalid("unverifiable".into()),
            }
        })?;
        let from = data
            .claims
            .iat
            .unwrap_or_else(|| chrono::Utc::now().timestamp() as f64);
        // A NaN or negative span counts as too long (the cast saturates).
        let span = data.claims.exp - from;
        let lifetime = if span.is_nan() {
            u64::MAX
        } else {
            span.max(0.0).ceil() as u64
        };
        if lifetime > self.max_lifetime_secs {
            return Err(AuthError::LifetimeTooLong);
        }
        let sub = data.claims.sub;
        if sub.is_empty() || sub.len() > 256 || sub.chars().any(|c| c.is_control()) {
            return Err(AuthError::Invalid("bad sub".into()));
        }
        let issued_at = data
            .claims
            .iat
            .filter(|t| t.is_finite())
            .map(|t| t.floor() as i64);
        Ok((
            PartnerUser {
                user_id: sub,
                issued_at,
            },
            data.claims.exp,
        ))
    }

    fn jwks_key(&self, kid: &str, alg: Algorithm) -> Result<DecodingKey, AuthError> {
        let cache = self.jwks.as_ref().ok_or(AuthError::AlgorithmNotAllowed)?;
        let loaded = cache.keys();
        match loaded.keys.get(kid) {
            Some((key_alg, key)) if *key_alg == alg => Ok(key.clone()),
            _ => Err(AuthError::UnknownKey),
        }
    }
}

/// Read a JWKS file into `kid → (algorithm, key)`. Keys without `kid` are skipped; the algorithm
/// is the key's `alg`, else implied by its type (RSA → RS256, EC P-256 → ES256).
pub fn load_jwks(path: &std::path::Path) -> Result<Keys, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("read: {e}"))?;
    let set: JwkSet = serde_json::from_str(&text).map_err(|e| format!("parse: {e}"))?;
    let mut out = HashMap::new();
    for jwk in &set.keys {
        let Some(kid) = jwk.common.key_id.clone() else {
            continue;
        };
        let alg = match (&jwk.common.key_algorithm, &jwk.algorithm) {
            (Some(a), _) => match parse_alg(&format!("{a:?}")) {
                Some(a) => a,
                None => continue,
            },
            (None, jsonwebtoken::jwk::AlgorithmParameters::RSA(_)) => Algorithm::RS256,
            (None, jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(_)) => Algorithm::ES256,
            _ => continue,
        };
        if alg == Algorithm::HS256 {
            continue;
        }
        if let Ok(key) = DecodingKey::from_jwk(jwk) {
            out.insert(kid, (alg, key));
        }
    }
    Ok(out)
}

/// The `borrowerExternalID` for a partner user: the user id itself, or `hex(hmac_sha256(pepper,
/// sub))` when a pseudonym pepper is configured.
pub fn borrower_external_id(pepper: &SecretString, user_id: &str) -> String {
    use hmac::{Hmac, Mac};
    let pepper = pepper.expose_secret();
    if pepper.is_empty() {
        return user_id.to_owned();
    }
    let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(pepper.as_bytes()) else {
        return user_id.to_owned();
    };
    mac.update(user_id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Verification does no file I/O per check: a changed JWKS file is noticed at the next mtime
    /// look (at most once a second), not by the check right after the change.
    #[test]
    fn the_jwks_file_is_looked_at_most_once_a_second() {
        let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/test-jwks.json");
        let dir = std::env::temp_dir().join(format!("bff-jwks-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("jwks.json");
        std::fs::copy(fixture, &path).unwrap();
        let cache = JwksCache::new(path.clone());
        assert_eq!(cache.keys().keys.len(), 2, "both fixture keys load");

        // Keep only the RSA key, with a new mtime.
        let mut set: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
        set["keys"]
            .as_array_mut()
            .unwrap()
            .retain(|k| k["kid"] == "rsa-1");
        std::fs::write(&path, set.to_string()).unwrap();
        let later = SystemTime::now() + std::time::Duration::from_secs(10);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(later)
            .unwrap();

        // As if the last look was just now; every check within the next second uses the old keys.
        let looked = Instant::now();
        cache.checked_ms.store(
            cache.epoch.elapsed().as_millis() as u64 + 1,
            Ordering::Release,
        );
        let mut checked = 0;
        for _ in 0..100 {
            let n = cache.keys().keys.len();
            if looked.elapsed().as_millis() < u128::from(JWKS_CHECK_EVERY_MS) - 100 {
                assert_eq!(n, 2, "no file look between checks");
                checked += 1;
            }
        }
        assert!(checked > 0, "at least one check ran within the second");
        std::thread::sleep(std::time::Duration::from_millis(JWKS_CHECK_EVERY_MS + 100));
        assert_eq!(
            cache.keys().keys.len(),
            1,
            "the change is picked up after a second"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn pseudonym_is_stable_hex_and_differs_from_the_user_id() {
        let pepper = SecretString::from("pepper".to_owned());
        let a = borrower_external_id(&pepper, "u1");
        assert_eq!(a, borrower_external_id(&pepper, "u1"));
        assert_ne!(a, "u1");
        assert_eq!(a.len(), 64);
        assert_eq!(
            borrower_external_id(&SecretString::from(String::new()), "u1"),
            "u1"
        );
    }
}
