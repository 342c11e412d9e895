//! The sandbox's stand-ins for the lender / AA / e-sign pages a redirect step points at.
//! Opening a page (GET) *is* the borrower finishing there: the step (or AA session) is
//! `IN_PROGRESS` until the app reports the return (`…/complete`) or reconciles.
//! Answers are small HTML pages; failures keep their HTTP status.

use actix_web::{web, HttpResponse};
use serde_json::Value;

use crate::reply::SbError;
use crate::{aa, steps, Sandbox};

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(
    status: actix_web::http::StatusCode,
    title: &str,
    message: &str,
    return_url: Option<&str>,
) -> HttpResponse {
    let link = return_url
        .map(|u| {
            format!(
                r#"<p><a id="return" href="{0}">Return to the partner app</a></p>"#,
                escape(u)
            )
        })
        .unwrap_or_default();
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t}</title></head>\
         <body><h1>{t}</h1><p id=\"message\">{m}</p>{link}\
         <p><small>Aarthik sandbox — not a real lender page.</small></p></body></html>",
        t = escape(title),
        m = escape(message),
    );
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(html)
}

fn failure(e: &SbError) -> HttpResponse {
    page(
        e.status,
        "Sandbox step not completed",
        &format!("{}: {}", e.code, e.message),
        None,
    )
}

fn return_url(st: &super::state::State, journey_id: &str) -> Option<String> {
    st.journeys
        .get(journey_id)
        .and_then(|j| j.metadata.get("returnURL"))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

pub async fn step_page(sb: web::Data<Sandbox>, path: web::Path<String>) -> HttpResponse {
    let mut st = sb.lock();
    match steps::opened(&mut st, &path) {
        Ok(kind) => {
            let journey = st
                .steps
                .get(path.as_str())
                .map(|s| s.journey_id.clone())
                .unwrap_or_default();
            let back = return_url(&st, &journey);
            page(
                actix_web::http::StatusCode::OK,
                "Sandbox step done",
                &format!("The {kind} step is done at the provider. You can return to the app."),
                back.as_deref(),
            )
        }
        Err(e) => failure(&e),
    }
}

pub async fn aa_page(sb: web::Data<Sandbox>, path: web::Path<String>) -> HttpResponse {
    let mut st = sb.lock();
    match aa::opened(&mut st, &path) {
        Ok(()) => {
            let journey = st
                .aa_sessions
                .get(path.as_str())
                .map(|s| s.journey_id.clone())
                .unwrap_or_default();
            let back = return_url(&st, &journey);
            page(
                actix_web::http::StatusCode::OK,
                "Sandbox consent given",
                "Account Aggregator consent was given. You can return to the app.",
                back.as_deref(),
            )
        }
        Err(e) => failure(&e),
    }
}
