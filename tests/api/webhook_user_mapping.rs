//! Which partner user a delivered journey belongs to: through the pseudonymous borrower id, or the
//! link a session already made.

use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn a_journey_maps_to_the_partner_user_behind_a_pseudonymous_borrower_id() {
    let options = base_options().set("auth.pseudonym_pepper", "a-pepper-for-this-test");
    let app = spawn_app_with(options).await;
    let prefix = app.key_prefix();
    let directory = Directory::new(redis_store(&prefix));
    directory
        .link_borrower("pseudo-abc", "partner-user-42")
        .await
        .unwrap();
    let (known, unknown) = (
        uuid::Uuid::new_v4().to_string(),
        uuid::Uuid::new_v4().to_string(),
    );
    app.post_webhook(&snapshot_body(
        &new_event_id(),
        &known,
        1,
        "X",
        "pseudo-abc",
    ))
    .await;
    app.post_webhook(&snapshot_body(
        &new_event_id(),
        &unknown,
        1,
        "X",
        "pseudo-unknown",
    ))
    .await;
    let view = app.ops_data(&format!("/v1/ops/journeys/{known}")).await;
    assert_eq!(view["userID"], "partner-user-42");
    assert_eq!(view["borrowerExternalID"], "pseudo-abc");
    let view = app.ops_data(&format!("/v1/ops/journeys/{unknown}")).await;
    assert_eq!(
        view["userID"],
        Value::Null,
        "a pseudonym nobody registered maps to no user"
    );
    let mine = app.ops_data("/v1/ops/users/partner-user-42/journeys").await;
    assert_eq!(mine["journeys"][0]["journeyID"], known.as_str());
    assert_eq!(
        directory.owner_of(&known).await.unwrap().as_deref(),
        Some("partner-user-42")
    );
}

#[tokio::test]
async fn a_journey_already_linked_by_a_session_keeps_that_user() {
    let options = base_options();
    let app = spawn_app_with(options).await;
    let prefix = app.key_prefix();
    let journey = uuid::Uuid::new_v4().to_string();
    Directory::new(redis_store(&prefix))
        .link_journey(&journey, "user-from-session")
        .await
        .unwrap();
    app.post_webhook(&snapshot_body(
        &new_event_id(),
        &journey,
        1,
        "X",
        "someone-else",
    ))
    .await;
    let view = app.ops_data(&format!("/v1/ops/journeys/{journey}")).await;
    assert_eq!(view["userID"], "user-from-session");
}
