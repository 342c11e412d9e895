//! Reading Server-Sent Events as a browser's `EventSource` would: `Client::event_source` opens a
//! stream (GET, `Accept: text/event-stream`, and in cookie mode the cookie alone — `EventSource`
//! cannot send `X-CSRF`), and `Sse` parses frames from the body, bounded in time.

use std::time::Duration;

use serde_json::Value;

use super::{Auth, Client};

/// One event: its `id`, `event` and parsed `data`.
#[derive(Debug, Clone)]
pub struct SseFrame {
    pub id: String,
    pub event: String,
    pub data: Value,
}

pub struct Sse {
    pub res: reqwest::Response,
    /// Everything received and not yet parsed into frames (comments included).
    buf: String,
    /// Everything received so far, verbatim.
    pub raw: String,
}

impl Client {
    /// A stream request as `EventSource` sends it (no overall timeout: streams are long).
    pub fn event_source(&self, path: &str) -> reqwest::RequestBuilder {
        let rb = self
            .http
            .get(format!("{}{}", self.base, path))
            .header("Accept", "text/event-stream");
        match &self.auth {
            Auth::Bearer(t) => rb.bearer_auth(t),
            Auth::Cookie(c) => rb.header("Cookie", c),
        }
    }

    /// Open `GET path` as an event stream, asserting 200 and the SSE content type.
    pub async fn open_stream(&self, path: &str) -> Sse {
        Sse::open(self.event_source(path)).await
    }
}

impl Sse {
    pub async fn open(rb: reqwest::RequestBuilder) -> Sse {
        let res = rb.send().await.expect("stream request");
        assert_eq!(res.status().as_u16(), 200, "stream opened");
        let content_type = res.headers()["content-type"].to_str().unwrap_or_default();
        assert!(
            content_type.starts_with("text/event-stream"),
            "{content_type}"
        );
        Sse {
            res,
            buf: String::new(),
            raw: String::new(),
        }
    }

    /// The next frame with data, or `None` when none arrives within `within` or the stream ends.
    pub async fn next_frame(&mut self, within: Duration) -> Option<SseFrame> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(frame) = self.parse_one() {
                return Some(frame);
            }
            let chunk = tokio::time::timeout_at(deadline, self.res.chunk()).await;
            match chunk {
                Ok(Ok(Some(bytes))) => {
                    let text = String::from_utf8_lossy(&bytes).into_owned();
                    self.raw.push_str(&text);
                    self.buf.push_str(&text);
                }
                _ => return None,
            }
        }
    }

    /// Exactly the next `n` frames, each within `within` (panics otherwise).
    pub async fn frames(&mut self, n: usize, within: Duration) -> Vec<SseFrame> {
        let mut frames = Vec::with_capacity(n);
        for i in 0..n {
            let frame = self.next_frame(within).await;
            frames.push(frame.unwrap_or_else(|| panic!("frame {i} of {n} in time: {}", self.raw)));
        }
        frames
    }

    /// Read until the server ends the stream (panics if it is still open after `within`).
    pub async fn until_closed(&mut self, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.res.chunk()).await {
                Ok(Ok(Some(bytes))) => self.raw.push_str(&String::from_utf8_lossy(&bytes)),
                Ok(_) => return,
                Err(_) => panic!("the stream is still open: {}", self.raw),
            }
        }
    }

    fn parse_one(&mut self) -> Option<SseFrame> {
        while let Some(end) = self.buf.find("\n\n") {
            let block: String = self.buf.drain(..end + 2).collect();
            let (mut id, mut event, mut data) = (String::new(), String::new(), None);
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id: ") {
                    id = v.to_owned();
                } else if let Some(v) = line.strip_prefix("event: ") {
                    event = v.to_owned();
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data = Some(serde_json::from_str(v).expect("data is JSON"));
                }
            }
            if let Some(data) = data {
                return Some(SseFrame { id, event, data });
            }
        }
        None
    }
}
