//! Typed upstream payloads the BFF reads itself (sessions). Explicit `ID`-suffixed renames;
//! unknown fields tolerated; status values kept as open strings.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// `POST /api/v1/headless/sessions` request body.
#[derive(Debug, Clone, Serialize)]
pub struct CreateSessionRequest {
    #[serde(rename = "borrowerExternalID")]
    pub borrower_external_id: String,
    #[serde(rename = "journeyType", skip_serializing_if = "Option::is_none")]
    pub journey_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<serde_json::Value>,
}

/// `activeJourney` in a session answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ActiveJourney {
    #[serde(rename = "journeyID")]
    pub journey_id: String,
    /// The upstream's journey status (an open set, see `JourneyStatus`).
    #[serde(default)]
    pub status: Option<String>,
    /// What the borrower does next (an open set, see `NextAction`); `null`: keep polling.
    #[serde(rename = "nextAction", default)]
    pub next_action: Option<String>,
}

/// Session answer `data` (create, resume and refresh share it). Tokens are secrets.
#[derive(Debug, Deserialize)]
pub struct SessionData {
    #[serde(rename = "borrowerID")]
    pub borrower_id: String,
    #[serde(rename = "borrowerExternalID")]
    pub borrower_external_id: String,
    #[serde(rename = "sessionToken")]
    pub session_token: SecretString,
    #[serde(rename = "refreshToken", default)]
    pub refresh_token: Option<SecretString>,
    #[serde(rename = "sessionExpiresAt")]
    pub session_expires_at: String,
    #[serde(rename = "refreshExpiresAt", default)]
    pub refresh_expires_at: Option<String>,
    #[serde(rename = "activeJourney", default)]
    pub active_journey: Option<ActiveJourney>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn session_data_reads_the_documented_example() {
        let json = r#"{"borrowerID":"b","borrowerExternalID":"p","sessionToken":"s","refreshToken":"r",
            "sessionExpiresAt":"2026-04-02T09:30:00.000Z","refreshExpiresAt":"2026-04-09T09:15:00.000Z",
            "activeJourney":{"journeyID":"j","status":"OFFERS_AVAILABLE","nextAction":"VIEW_OFFERS"},"extra":1}"#;
        let d: SessionData = serde_json::from_str(json).unwrap();
        assert_eq!(d.session_token.expose_secret(), "s");
        assert_eq!(d.active_journey.unwrap().journey_id, "j");
        assert!(
            !format!("{:?}", serde_json::from_str::<SessionData>(json).unwrap()).contains("\"s\"")
        );
    }

    #[test]
    fn create_request_uses_upper_case_id() {
        let v = serde_json::to_value(CreateSessionRequest {
            borrower_external_id: "u".into(),
            journey_type: None,
            profile: None,
        })
        .unwrap();
        assert_eq!(v, serde_json::json!({"borrowerExternalID":"u"}));
    }
}
