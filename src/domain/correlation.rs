//! `X-Correlation-ID`: 1–128 characters of `[A-Za-z0-9._:-]`, else a fresh UUIDv7.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrelationId(String);

impl CorrelationId {
    /// Accept the caller's value when it is well-formed.
    pub fn parse(s: &str) -> Option<Self> {
        let ok = (1..=128).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
        ok.then(|| CorrelationId(s.to_owned()))
    }

    /// A new time-ordered id.
    /// A new UUID v7. Its random bits come from the thread's `rand` generator rather than from the
    /// operating system (`Uuid::now_v7` makes a `getrandom` system call per id, one per request).
    pub fn generate() -> Self {
        use rand::RngCore;
        let mut random = [0u8; 10];
        rand::thread_rng().fill_bytes(&mut random);
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or_default();
        let id = uuid::Builder::from_unix_timestamp_millis(ms, &random).into_uuid();
        let mut buf = uuid::Uuid::encode_buffer();
        CorrelationId(id.hyphenated().encode_lower(&mut buf).to_owned())
    }

    /// The caller's value when valid, else a new one.
    pub fn from_header(value: Option<&str>) -> Self {
        value.and_then(Self::parse).unwrap_or_else(Self::generate)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CorrelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_alphabet_and_length() {
        assert!(CorrelationId::parse("abc").is_some());
        assert!(CorrelationId::parse("A-b_c.d:e09").is_some());
        assert!(CorrelationId::parse(&"x".repeat(128)).is_some());
    }

    #[test]
    fn rejects_empty_long_and_foreign_characters() {
        assert!(CorrelationId::parse("").is_none());
        assert!(CorrelationId::parse(&"x".repeat(129)).is_none());
        assert!(CorrelationId::parse("a b").is_none());
        assert!(CorrelationId::parse("a\nb").is_none());
        assert!(CorrelationId::parse("é").is_none());
    }

    #[test]
    fn generated_ids_are_uuid_v7() {
        let id = CorrelationId::generate();
        let u = uuid::Uuid::parse_str(id.as_str()).unwrap();
        assert_eq!(u.get_version_num(), 7);
        assert_eq!(u.get_variant(), uuid::Variant::RFC4122);
        let (secs, _) = u
            .get_timestamp()
            .expect("a v7 id has a timestamp")
            .to_unix();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert!(secs.abs_diff(now) <= 2, "the id's time is now");
        assert_ne!(id, CorrelationId::from_header(Some("bad id")));
        assert_ne!(CorrelationId::generate(), CorrelationId::generate());
    }
}
