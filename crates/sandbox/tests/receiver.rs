//! A tiny actix webhook receiver for the tests, and an independent signature check.

use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::Value;

use crate::helpers::{assert_current_vocabulary, wait_for};

/// One webhook request as the receiver saw it.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> Value {
        let v = serde_json::from_slice(&self.body).unwrap();
        assert_current_vocabulary(&v);
        v
    }
}

/// A webhook receiver on 127.0.0.1:0 that records every request and answers with the next
/// status from `script` (200 once the script is used up).
pub struct Receiver {
    pub url: String,
    pub got: Arc<Mutex<Vec<Received>>>,
    server: actix_web::dev::ServerHandle,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.server.stop(false));
    }
}

struct ReceiverState {
    got: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<Vec<u16>>>,
}

async fn receive(st: web::Data<ReceiverState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let headers = req
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    st.got.lock().unwrap().push(Received {
        headers,
        body: body.to_vec(),
    });
    let status = {
        let mut script = st.script.lock().unwrap();
        if script.is_empty() {
            200
        } else {
            script.remove(0)
        }
    };
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish()
}

impl Receiver {
    pub async fn start(script: Vec<u16>) -> Receiver {
        let got = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(script));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (g, s) = (got.clone(), script.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(ReceiverState {
                    got: g.clone(),
                    script: s.clone(),
                }))
                .default_service(web::to(receive))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Receiver {
            url: format!("http://127.0.0.1:{port}/hooks"),
            got,
            server: handle,
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Wait until at least `n` requests arrived; returns them all.
    pub async fn wait_count(&self, n: usize) -> Vec<Received> {
        wait_for(&format!("{n} webhook requests"), || async {
            let got = self.received();
            (got.len() >= n).then_some(got)
        })
        .await
    }
}

/// Independent verifier: lowercase hex HMAC-SHA256(secret, timestamp + "." + raw body).
pub fn expected_signature(secret: &str, timestamp: &str, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}
