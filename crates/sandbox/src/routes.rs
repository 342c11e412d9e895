//! The route table: every path from `aarthik_contract::paths` bound to its handler. A known path with
//! the wrong method answers an enveloped 405.

use actix_web::{web, Resource};

use crate::control_paths as c;
use crate::reply::method_not_allowed;
use crate::{aa, controls, journeys, loan, offers, pages, profile, sessions, steps, webhooks};
use aarthik_contract::paths as p;

fn res(path: &str) -> Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(res(p::SESSIONS).route(web::post().to(sessions::create_handler)))
        .service(res(p::SESSIONS_REFRESH).route(web::post().to(sessions::refresh_handler)))
        .service(
            res(p::JOURNEYS)
                .route(web::get().to(journeys::list_handler))
                .route(web::post().to(journeys::create_handler)),
        )
        .service(res(p::JOURNEY).route(web::get().to(journeys::get_handler)))
        .service(res(p::JOURNEY_STATE).route(web::get().to(journeys::get_handler)))
        .service(
            res(p::PROFILE)
                .route(web::get().to(profile::get_handler))
                .route(web::put().to(profile::put_handler)),
        )
        .service(res(p::PROFILE_SUBMIT).route(web::post().to(profile::submit_handler)))
        .service(
            res(p::JOURNEY_PROFILE)
                .route(web::get().to(profile::get_scoped))
                .route(web::put().to(profile::put_scoped)),
        )
        .service(res(p::JOURNEY_PROFILE_SUBMIT).route(web::post().to(profile::submit_scoped)))
        .service(res(p::JOURNEY_OFFERS).route(web::get().to(offers::list_handler)))
        .service(res(p::OFFER).route(web::get().to(offers::get_handler)))
        .service(res(p::OFFER_PROCEED).route(web::post().to(offers::proceed_handler)))
        .service(res(p::OFFER_REJECT).route(web::post().to(offers::reject_handler)))
        .service(res(p::OFFER_STEPS).route(web::get().to(steps::list_handler)))
        .service(res(p::JOURNEY_OFFER_STEPS).route(web::get().to(steps::list_scoped)))
        .service(res(p::OFFER_STEP).route(web::get().to(steps::get_handler)))
        .service(res(p::OFFER_STEP_SUBMIT).route(web::post().to(steps::submit_handler)))
        .service(res(p::OFFER_STEP_COMPLETE).route(web::post().to(steps::complete_handler)))
        .service(res(p::OFFER_STEP_RECONCILE).route(web::post().to(steps::reconcile_handler)))
        .service(res(p::AA_SESSIONS).route(web::post().to(aa::create_handler)))
        .service(res(p::AA_SESSION).route(web::get().to(aa::get_handler)))
        .service(res(p::AA_SESSION_COMPLETE).route(web::post().to(aa::complete_handler)))
        .service(res(p::AA_SESSION_RECONCILE).route(web::post().to(aa::reconcile_handler)))
        .service(res(p::LOAN).route(web::get().to(loan::get_handler)))
        .service(res(p::FORECLOSURE).route(web::post().to(loan::foreclosure)))
        .service(res(p::PRE_PART_PAYMENT).route(web::post().to(loan::pre_part_payment)))
        .service(res(p::MISSED_EMI).route(web::post().to(loan::missed_emi)))
        .service(res(p::STATUS_REFRESH).route(web::post().to(loan::status_refresh)))
        .service(res(p::WEBHOOK_CONFIGURATION).route(web::get().to(webhooks::configuration)))
        .service(res(p::WEBHOOK_SUBSCRIBE).route(web::post().to(webhooks::subscribe)))
        .service(res(p::WEBHOOK_UNSUBSCRIBE).route(web::post().to(webhooks::unsubscribe)));
    controls(cfg);
}

fn controls(cfg: &mut web::ServiceConfig) {
    cfg.service(
        res(c::REQUESTS)
            .route(web::get().to(controls::requests))
            .route(web::delete().to(controls::clear_requests)),
    )
    .service(res(c::DELIVERIES).route(web::get().to(controls::deliveries)))
    .service(res(c::TIMERS_SKIP).route(web::post().to(controls::timers_skip)))
    .service(res(c::STEP_COMPLETE).route(web::post().to(controls::complete_step)))
    .service(
        res(c::FAULTS)
            .route(web::get().to(controls::get_faults))
            .route(web::post().to(controls::set_faults))
            .route(web::delete().to(controls::clear_faults)),
    )
    .service(res(c::TOKENS_EXPIRE).route(web::post().to(controls::tokens_expire)))
    .service(
        res(c::REFRESH_ENDPOINT)
            .route(web::get().to(controls::get_refresh_endpoint))
            .route(web::post().to(controls::set_refresh_endpoint)),
    )
    .service(res(c::WEBHOOK_SECRET).route(web::get().to(controls::webhook_secret)))
    .service(res(c::WEBHOOKS_DELIVER_NOW).route(web::post().to(controls::deliver_now)))
    .service(res(c::LOAN_OVERDUE).route(web::post().to(controls::loan_overdue)))
    .service(res(c::PAGE_STEP).route(web::get().to(pages::step_page)))
    .service(res(c::PAGE_AA).route(web::get().to(pages::aa_page)));
}
