//! Tokens at rest: AES-256-GCM with a random 96-bit nonce per value. The sealed form is
//! `<key id>.<base64(nonce || ciphertext)>`, so keys can rotate: the first configured key seals, every
//! configured key opens. The associated data binds a ciphertext to its owner, so a sealed token
//! copied into another user's record does not open.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};

#[derive(Debug, thiserror::Error)]
pub enum CipherError {
    #[error("session.encryption_keys: {0}")]
    Config(String),
    #[error("sealed value is malformed")]
    Malformed,
    #[error("no configured key has id {0}")]
    UnknownKey(String),
    #[error("sealed value does not open (wrong key or tampered)")]
    Open,
}

pub struct TokenCipher {
    keys: Vec<(String, Aes256Gcm)>,
}

impl TokenCipher {
    /// Parse `id:base64key,…` (each key exactly 32 bytes).
    pub fn from_config(spec: &SecretString) -> Result<Self, CipherError> {
        let mut keys = Vec::new();
        for item in spec
            .expose_secret()
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let (id, b64) = item
                .split_once(':')
                .ok_or_else(|| CipherError::Config("each item is id:base64key".into()))?;
            if id.is_empty() || id.contains('.') || id.len() > 32 {
                return Err(CipherError::Config(
                    "key ids are 1-32 characters without '.'".into(),
                ));
            }
            let raw = STANDARD
                .decode(b64.trim())
                .map_err(|_| CipherError::Config(format!("key {id} is not base64")))?;
            let cipher = Aes256Gcm::new_from_slice(&raw)
                .map_err(|_| CipherError::Config(format!("key {id} must be 32 bytes")))?;
            keys.push((id.to_owned(), cipher));
        }
        if keys.is_empty() {
            return Err(CipherError::Config("at least one key is required".into()));
        }
        Ok(TokenCipher { keys })
    }

    pub fn seal(&self, plaintext: &str, owner: &str) -> Result<String, CipherError> {
        let (id, cipher) = &self.keys[0];
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        let ct = cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: owner.as_bytes(),
                },
            )
            .map_err(|_| CipherError::Open)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        Ok(format!("{id}.{}", STANDARD.encode(out)))
    }

    pub fn open(&self, sealed: &str, owner: &str) -> Result<SecretString, CipherError> {
        let (id, b64) = sealed.split_once('.').ok_or(CipherError::Malformed)?;
        let (_, cipher) = self
            .keys
            .iter()
            .find(|(k, _)| k == id)
            .ok_or_else(|| CipherError::UnknownKey(id.to_owned()))?;
        let raw = STANDARD.decode(b64).map_err(|_| CipherError::Malformed)?;
        if raw.len() < 12 + 16 {
            return Err(CipherError::Malformed);
        }
        let (nonce, ct) = raw.split_at(12);
        let pt = cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: owner.as_bytes(),
                },
            )
            .map_err(|_| CipherError::Open)?;
        String::from_utf8(pt)
            .map(SecretString::from)
            .map_err(|_| CipherError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }
    const K1: &str = "k1:MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=";
    const K2: &str = "k2:YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY=";

    #[test]
    fn sealed_tokens_open_for_their_owner_only_and_hide_the_plaintext() {
        let c = TokenCipher::from_config(&spec(K1)).unwrap();
        let sealed = c.seal("st_secret", "u1").unwrap();
        assert!(sealed.starts_with("k1."));
        assert!(!sealed.contains("st_secret"));
        assert_eq!(c.open(&sealed, "u1").unwrap().expose_secret(), "st_secret");
        assert!(c.open(&sealed, "u2").is_err());
        assert_ne!(sealed, c.seal("st_secret", "u1").unwrap(), "fresh nonce");
    }

    #[test]
    fn an_old_key_still_opens_after_rotation_and_the_new_key_seals() {
        let old = TokenCipher::from_config(&spec(K1)).unwrap();
        let sealed = old.seal("t", "u").unwrap();
        let rotated = TokenCipher::from_config(&spec(&format!("{K2},{K1}"))).unwrap();
        assert_eq!(rotated.open(&sealed, "u").unwrap().expose_secret(), "t");
        assert!(rotated.seal("t", "u").unwrap().starts_with("k2."));
        let only_new = TokenCipher::from_config(&spec(K2)).unwrap();
        assert!(matches!(
            only_new.open(&sealed, "u"),
            Err(CipherError::UnknownKey(_))
        ));
    }

    #[test]
    fn bad_key_specs_are_refused() {
        assert!(TokenCipher::from_config(&spec("")).is_err());
        assert!(TokenCipher::from_config(&spec("k1:c2hvcnQ=")).is_err());
        assert!(TokenCipher::from_config(&spec("nocolon")).is_err());
    }
}
