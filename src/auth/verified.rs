//! A small memo of partner JWTs that verified, so a client polling with the same token does not pay
//! for base64 decoding, a JSON parse and an HMAC/RSA/ECDSA check on every call.
//!
//! Why it is safe:
//! - Entries are keyed by the SHA-256 of the whole token, so only the very same bytes hit, and the
//!   token itself is never kept.
//! - Only successes are remembered; a refused token is verified in full every time.
//! - An entry is used until the token's own `exp` (plus the configured leeway, as verification
//!   allows) and for at most [`MEMO_TTL`], so a key taken out of the JWKS file stops working within
//!   that time, as a token past `exp` stops at once.
//! - Revocation is not memoised here: the caller checks it on every request.
//! - Bounded: at [`MEMO_MAX`] entries the memo starts over.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use super::jwt::PartnerUser;

/// The longest a verification is trusted without being repeated.
pub const MEMO_TTL_SECS: i64 = 30;
/// Entries before the memo starts over.
const MEMO_MAX: usize = 10_000;

type Digest32 = [u8; 32];

#[derive(Default)]
pub struct VerifiedTokens {
    map: Mutex<HashMap<Digest32, (PartnerUser, i64)>>,
}

pub fn digest(token: &str) -> Digest32 {
    Sha256::digest(token.as_bytes()).into()
}

impl VerifiedTokens {
    /// The user of a token verified before, while `now` (unix seconds) is before its end of use.
    pub fn get(&self, key: &Digest32, now: i64) -> Option<PartnerUser> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key)
            .filter(|(_, until)| now < *until)
            .map(|(user, _)| user.clone())
    }

    /// Remember a verified token, usable until `valid_until` (unix seconds: `exp` + leeway) and for
    /// at most [`MEMO_TTL_SECS`] from `now`.
    pub fn put(&self, key: Digest32, user: &PartnerUser, valid_until: i64, now: i64) {
        let until = valid_until.min(now.saturating_add(MEMO_TTL_SECS));
        if until <= now {
            return;
        }
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MEMO_MAX {
            map.retain(|_, (_, u)| now < *u);
            if map.len() >= MEMO_MAX {
                map.clear();
            }
        }
        map.insert(key, (user.clone(), until));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> PartnerUser {
        PartnerUser {
            user_id: "u1".into(),
            issued_at: Some(100),
        }
    }

    #[test]
    fn an_entry_is_used_until_the_earlier_of_its_end_and_the_memo_ttl() {
        let m = VerifiedTokens::default();
        let k = digest("a.b.c");
        m.put(k, &user(), 1_000 + 10, 1_000);
        assert_eq!(m.get(&k, 1_009), Some(user()));
        assert_eq!(m.get(&k, 1_010), None, "past exp + leeway");
        let k2 = digest("d.e.f");
        m.put(k2, &user(), 1_000_000, 1_000);
        assert_eq!(m.get(&k2, 1_000 + MEMO_TTL_SECS - 1), Some(user()));
        assert_eq!(m.get(&k2, 1_000 + MEMO_TTL_SECS), None, "past the memo TTL");
        assert_eq!(
            m.get(&digest("a.b.d"), 1_000),
            None,
            "other bytes never hit"
        );
    }

    #[test]
    fn an_already_ended_token_is_not_remembered() {
        let m = VerifiedTokens::default();
        let k = digest("a.b.c");
        m.put(k, &user(), 999, 1_000);
        assert_eq!(m.get(&k, 999), None);
    }
}
