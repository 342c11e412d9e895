//! Every route of the service in one list: each capability contributes its own `routes`.

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    // The proxy scope first: a prefix test, so proxied calls skip the other routes' patterns.
    cfg.configure(crate::proxy::routes::routes)
        .configure(crate::health::routes)
        .configure(crate::openapi::routes)
        .configure(crate::webhook::routes)
        .configure(crate::ops::routes)
        .configure(crate::audit::routes)
        .configure(crate::revoke::routes)
        .configure(crate::live::routes)
        .configure(crate::session::routes::routes)
        .configure(crate::web::routes::routes);
}
