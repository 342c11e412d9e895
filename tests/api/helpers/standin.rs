//! A hostile stand-in upstream: a tiny actix server that answers session creation and refresh
//! like the upstream, answers every other call as the test says, and logs what it was asked.

use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::json;

/// How the stand-in answers a call that is not a session call.
pub type Answerer = Arc<dyn Fn(&HttpRequest) -> HttpResponse + Send + Sync>;

pub struct StandIn {
    pub base_url: String,
    log: Arc<Mutex<Vec<(String, String)>>>,
}

impl StandIn {
    /// Start on a free port; `answer` serves everything but `/api/v1/headless/sessions*`.
    pub async fn start(
        answer: impl Fn(&HttpRequest) -> HttpResponse + Send + Sync + 'static,
    ) -> StandIn {
        super::init_test_logging();
        let answer: Answerer = Arc::new(answer);
        let log = Arc::new(Mutex::new(Vec::new()));
        let (answer_c, log_c) = (Arc::clone(&answer), Arc::clone(&log));
        let server = HttpServer::new(move || {
            let (answer, log) = (Arc::clone(&answer_c), Arc::clone(&log_c));
            App::new().default_service(web::to(move |req: HttpRequest| {
                let (answer, log) = (Arc::clone(&answer), Arc::clone(&log));
                async move {
                    log.lock()
                        .unwrap()
                        .push((req.method().to_string(), req.path().to_owned()));
                    if req.path().starts_with("/api/v1/headless/sessions") {
                        session_answer()
                    } else {
                        answer(&req)
                    }
                }
            }))
        })
        .workers(1)
        .disable_signals()
        .bind(("127.0.0.1", 0))
        .expect("stand-in binds");
        let port = server.addrs()[0].port();
        tokio::spawn(server.run());
        StandIn {
            base_url: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// How many calls had this method and exact path.
    pub fn calls(&self, method: &str, path: &str) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|(m, p)| m == method && p == path)
            .count()
    }
}

/// A fresh borrower session in the upstream's envelope.
fn session_answer() -> HttpResponse {
    let at = |secs: i64| {
        (chrono::Utc::now() + chrono::Duration::seconds(secs))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    HttpResponse::Ok().json(json!({
        "requestID": uuid::Uuid::new_v4().to_string(),
        "correlationID": null,
        "timestamp": at(0),
        "data": {
            "borrowerID": "b-standin",
            "borrowerExternalID": "standin",
            "sessionToken": format!("hst_{}", uuid::Uuid::new_v4().simple()),
            "refreshToken": format!("hrt_{}", uuid::Uuid::new_v4().simple()),
            "sessionExpiresAt": at(3600),
            "refreshExpiresAt": at(86400),
            "activeJourney": null
        },
        "error": null
    }))
}
