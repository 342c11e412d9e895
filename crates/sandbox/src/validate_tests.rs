//! Unit tests of profile validation.

use serde_json::{json, Map, Value};

use crate::reply::SbResult;
use crate::validate::*;
use aarthik_contract::journey_type;

fn field(section: &str, name: &str, value: Value) -> SbResult<Map<String, Value>> {
    profile_patch(&json!({ section: { name: value } }))
}

#[test]
fn pan_must_be_five_letters_four_digits_one_letter() {
    assert!(field("profile", "pan", json!("ABCDE1234F")).is_ok());
    for bad in [
        "ABCDE1234",
        "abcde1234f",
        "ABCD11234F",
        "ABCDE12345",
        "ABCDE1234FF",
    ] {
        assert!(field("profile", "pan", json!(bad)).is_err(), "{bad}");
    }
}

#[test]
fn mobile_numbers_are_indian_ten_digit_numbers() {
    for good in ["9123456780", "+919123456780", "6000000000"] {
        assert!(
            field("profile", "contactNumber", json!(good)).is_ok(),
            "{good}"
        );
    }
    for bad in ["5123456789", "912345678", "+449123456780", "91234567801"] {
        assert!(
            field("profile", "contactNumber", json!(bad)).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn income_accepts_whole_numbers_and_digit_strings_only() {
    let ok = field("workProfile", "income", json!("42000")).unwrap();
    assert_eq!(ok["workProfile"]["income"], 42000);
    for bad in [
        json!(0),
        json!(-1),
        json!(10.5),
        json!("42,000"),
        json!(true),
    ] {
        assert!(
            field("workProfile", "income", bad.clone()).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn submit_requires_bureau_consent_to_be_true() {
    let mut stored = Map::new();
    merge(
        &mut stored,
        profile_patch(&json!({ "journey": { "bureauConsent": false } })).unwrap(),
    );
    let missing = missing_for_submit(&stored, journey_type::PERSONAL_LOAN);
    assert!(missing.contains(&"journey.bureauConsent".to_owned()));
    assert!(missing.contains(&"profile.pan".to_owned()));
}

#[test]
fn unknown_keys_are_kept_and_errors_name_the_dotted_field() {
    let patch = profile_patch(&json!({
        "profile": { "nickname": "Ash" }, "extra": 1, "journeyID": "j"
    }))
    .unwrap();
    assert_eq!(patch["profile"]["nickname"], "Ash");
    assert_eq!(patch["extra"], 1);
    assert!(
        patch.get("journeyID").is_none(),
        "the target journey is not profile data"
    );
    let e = field("profile", "dob", json!("31-12-1990")).unwrap_err();
    assert_eq!(e.details["field"], "profile.dob");
}

#[test]
fn merge_clears_nulls_and_merges_objects_field_by_field() {
    let mut stored = Map::new();
    merge(
        &mut stored,
        profile_patch(&json!({ "profile": { "pan": "ABCDE1234F", "dob": null } })).unwrap(),
    );
    assert_eq!(stored["profile"], json!({ "pan": "ABCDE1234F" }));
    merge(
        &mut stored,
        profile_patch(&json!({ "profile": { "panName": "A B" } })).unwrap(),
    );
    merge(
        &mut stored,
        profile_patch(&json!({ "profile": { "pan": null } })).unwrap(),
    );
    assert_eq!(stored["profile"], json!({ "panName": "A B" }));
}
