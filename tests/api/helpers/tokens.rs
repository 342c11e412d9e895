//! Partner JWTs with a chosen `iat` (or none), for revocation tests, and ops calls with a chosen
//! ops token.

use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use secrecy::ExposeSecret;
use serde_json::{json, Value};

use super::{now_secs, reply, Auth, Client, Reply, TestApp};

/// A ten-minute HS256 partner JWT for `sub` that `app` accepts, issued at `iat` (unix seconds;
/// `None`: the token has no `iat`).
pub fn jwt_issued_at(app: &TestApp, sub: &str, iat: Option<i64>) -> String {
    let now = now_secs();
    let mut claims = json!({ "sub": sub, "exp": now + 600 });
    if let Some(iat) = iat {
        claims["iat"] = json!(iat);
    }
    let secret = app.settings.auth.hs256_secret.expose_secret();
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign a partner jwt")
}

/// A caller of `app` with a JWT issued ten seconds ago (before anything the test does next).
pub fn earlier_bearer(app: &TestApp, user: &str) -> Client {
    bearer_with(app, jwt_issued_at(app, user, Some(now_secs() - 10)))
}

/// A caller of `app` with this partner JWT.
pub fn bearer_with(app: &TestApp, token: String) -> Client {
    Client {
        base: app.address.clone(),
        http: app.client.clone(),
        auth: Auth::Bearer(token),
    }
}

/// POST an ops path on `app` with `ops_token` (no body).
pub async fn ops_post(app: &TestApp, path: &str, ops_token: &str) -> Reply {
    reply(
        app.client
            .post(app.url(path))
            .bearer_auth(ops_token)
            .send()
            .await
            .expect("ops request"),
    )
    .await
}

/// Sign `user` out everywhere through `app` with `ops_token`; the envelope's `data`.
pub async fn revoke_user(app: &TestApp, user: &str, ops_token: &str) -> Value {
    let r = ops_post(app, &format!("/v1/ops/users/{user}/revoke"), ops_token).await;
    assert_eq!(r.status, 200, "revoke: {}", r.raw);
    r.data().clone()
}
