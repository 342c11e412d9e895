//! Reading a webhook body with a hard size limit that is enforced while reading: a declared
//! `Content-Length` over the limit is refused before any byte is read, and a chunked body is cut
//! off at the first chunk that crosses it, so an oversized delivery never gets buffered whole.

use actix_web::web;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;

/// The largest webhook body accepted (DESIGN §4).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("body larger than {0} bytes")]
    TooLarge(usize),
    #[error("body could not be read: {0}")]
    Read(String),
}

/// Read the whole body, at most `limit` bytes.
pub async fn read_limited(
    mut payload: web::Payload,
    declared_len: Option<usize>,
    limit: usize,
) -> Result<Bytes, BodyError> {
    if declared_len.is_some_and(|n| n > limit) {
        return Err(BodyError::TooLarge(limit));
    }
    let mut buf = BytesMut::with_capacity(declared_len.unwrap_or(8 * 1024).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| BodyError::Read(e.to_string()))?;
        if buf.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge(limit));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}
