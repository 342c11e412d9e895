//! Profile validation (CONTRACT §3.3): field formats on every write, completeness on submit.
//! A failure names the field and the rule, and changes nothing.

use serde_json::{Map, Value};

use crate::reply::{SbError, SbResult};
use aarthik_contract::journey_type;

#[derive(Clone, Copy)]
enum Kind {
    Mobile,
    Pan,
    PanName,
    Email,
    OfficialEmail,
    Date,
    Text,
    Pincode,
    PositiveInt,
    PositiveNumber,
    Bool,
    OneOf(&'static [&'static str]),
}

/// (section, field, kind). Sections and fields outside this table are refused.
const FIELDS: &[(&str, &str, Kind)] = &[
    ("profile", "contactNumber", Kind::Mobile),
    ("profile", "pan", Kind::Pan),
    ("profile", "panName", Kind::PanName),
    ("profile", "dob", Kind::Date),
    (
        "profile",
        "gender",
        Kind::OneOf(&["male", "female", "transgender"]),
    ),
    ("profile", "personalemail", Kind::Email),
    (
        "workProfile",
        "employmentType",
        Kind::OneOf(&["salaried", "selfEmployed"]),
    ),
    ("workProfile", "officialemail", Kind::OfficialEmail),
    ("workProfile", "income", Kind::PositiveInt),
    (
        "workProfile",
        "incomeType",
        Kind::OneOf(&["monthly", "annual"]),
    ),
    ("workProfile", "companyName", Kind::Text),
    ("workProfile", "udyamNumber", Kind::Text),
    ("address", "addressL1", Kind::Text),
    ("address", "addressL2", Kind::Text),
    ("address", "city", Kind::Text),
    ("address", "state", Kind::Text),
    ("address", "pincode", Kind::Pincode),
    ("journey", "endUse", Kind::Text),
    ("journey", "bureauConsent", Kind::Bool),
    (
        "goldLoan",
        "userType",
        Kind::OneOf(&["individual", "non-individual"]),
    ),
    ("goldLoan", "constitution", Kind::Text),
    ("goldLoan", "jewelleryWeightGrams", Kind::PositiveNumber),
    (
        "goldLoan",
        "purity",
        Kind::OneOf(&["24K", "22K", "21K", "18K", "14K", "9K"]),
    ),
    ("goldLoan", "endUse", Kind::Text),
];

pub const SECTIONS: &[&str] = &["profile", "workProfile", "address", "journey", "goldLoan"];

const WEBMAIL: &[&str] = &[
    "gmail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "rediffmail.com",
    "icloud.com",
];

/// Validate a `PUT /profile` body; returns the normalised sections (null = clear the field).
pub fn profile_patch(body: &Value) -> SbResult<Map<String, Value>> {
    let obj = body
        .as_object()
        .ok_or_else(|| SbError::validation("the profile must be a JSON object"))?;
    let mut out = Map::new();
    for (section, fields) in obj {
        if !SECTIONS.contains(&section.as_str()) {
            return Err(SbError::validation(format!(
                "unknown profile section {section}; expected one of {}",
                SECTIONS.join(", ")
            )));
        }
        let fields = fields
            .as_object()
            .ok_or_else(|| SbError::validation(format!("{section} must be an object")))?;
        out.insert(
            section.clone(),
            Value::Object(section_patch(section, fields)?),
        );
    }
    Ok(out)
}

/// Validate the flat `profile` prefill of a session create (`contactNumber`, `pan`, ...).
pub fn session_prefill(profile: &Value) -> SbResult<Map<String, Value>> {
    let fields = profile
        .as_object()
        .ok_or_else(|| SbError::validation("profile must be an object"))?;
    let mut out = Map::new();
    out.insert(
        "profile".into(),
        Value::Object(section_patch("profile", fields)?),
    );
    Ok(out)
}

fn section_patch(section: &str, fields: &Map<String, Value>) -> SbResult<Map<String, Value>> {
    let mut out = Map::new();
    for (name, value) in fields {
        let kind = FIELDS
            .iter()
            .find(|(s, f, _)| *s == section && *f == name)
            .map(|(_, _, k)| *k)
            .ok_or_else(|| SbError::validation(format!("{section}.{name} is not a known field")))?;
        let normalised = if value.is_null() {
            Value::Null
        } else {
            check(kind, value)
                .map_err(|rule| SbError::validation(format!("{section}.{name} {rule}")))?
        };
        out.insert(name.clone(), normalised);
    }
    Ok(out)
}

fn check(kind: Kind, v: &Value) -> Result<Value, String> {
    let text = || {
        v.as_str()
            .map(str::trim)
            .ok_or_else(|| "must be a string".to_owned())
    };
    match kind {
        Kind::Mobile => {
            let s = text()?;
            let digits = s.strip_prefix("+91").unwrap_or(s);
            let ok = digits.len() == 10
                && digits.bytes().all(|b| b.is_ascii_digit())
                && matches!(digits.as_bytes()[0], b'6'..=b'9');
            ok.then(|| Value::from(s)).ok_or_else(|| {
                "must be an Indian mobile number: 10 digits starting 6-9, optionally +91".into()
            })
        }
        Kind::Pan => {
            let s = text()?;
            let b = s.as_bytes();
            let ok = b.len() == 10
                && b[..5].iter().all(u8::is_ascii_uppercase)
                && b[5..9].iter().all(u8::is_ascii_digit)
                && b[9].is_ascii_uppercase();
            ok.then(|| Value::from(s)).ok_or_else(|| {
                "must be a PAN like ABCDE1234F (5 capital letters, 4 digits, 1 capital letter)"
                    .into()
            })
        }
        Kind::PanName => {
            let s = text()?;
            let words = s.split_whitespace().count();
            let ok = (1..=3).contains(&words)
                && s.chars()
                    .all(|c| c.is_alphabetic() || c == ' ' || c == '.' || c == '\'');
            ok.then(|| Value::from(s))
                .ok_or_else(|| "must be a name of 1 to 3 words".into())
        }
        Kind::Email => {
            let s = text()?;
            email_ok(s)
                .then(|| Value::from(s))
                .ok_or_else(|| "must be an e-mail address".into())
        }
        Kind::OfficialEmail => {
            let s = text()?;
            if !email_ok(s) {
                return Err("must be an e-mail address".into());
            }
            let domain = s
                .rsplit('@')
                .next()
                .unwrap_or_default()
                .to_ascii_lowercase();
            (!WEBMAIL.contains(&domain.as_str()))
                .then(|| Value::from(s))
                .ok_or_else(|| "must not be a webmail address".into())
        }
        Kind::Date => {
            let s = text()?;
            chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(|_| Value::from(s))
                .map_err(|_| "must be a date YYYY-MM-DD".into())
        }
        Kind::Text => {
            let s = text()?;
            (!s.is_empty() && s.len() <= 200)
                .then(|| Value::from(s))
                .ok_or_else(|| "must be 1 to 200 characters".into())
        }
        Kind::Pincode => {
            let s = text()?;
            let ok = s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) && !s.starts_with('0');
            ok.then(|| Value::from(s))
                .ok_or_else(|| "must be a 6-digit PIN code".into())
        }
        Kind::PositiveInt => positive_int(v)
            .map(Value::from)
            .ok_or_else(|| "must be a positive whole number without commas".into()),
        Kind::PositiveNumber => {
            let n = v
                .as_f64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()));
            n.filter(|n| *n > 0.0 && n.is_finite())
                .map(Value::from)
                .ok_or_else(|| "must be a positive number".into())
        }
        Kind::Bool => v
            .as_bool()
            .map(Value::from)
            .ok_or_else(|| "must be true or false".into()),
        Kind::OneOf(allowed) => {
            let s = text()?;
            allowed
                .contains(&s)
                .then(|| Value::from(s))
                .ok_or_else(|| format!("must be one of {}", allowed.join(", ")))
        }
    }
}

/// A positive integer given as a JSON integer or a string of digits.
pub fn positive_int(v: &Value) -> Option<u64> {
    let n = match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().ok()
        }
        _ => None,
    };
    n.filter(|n| *n > 0)
}

fn email_ok(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.contains(char::is_whitespace)
        && !domain.contains('@')
}

/// Merge a validated patch into the stored profile (null clears a field).
pub fn merge(stored: &mut Map<String, Value>, patch: Map<String, Value>) {
    for (section, fields) in patch {
        let target = stored
            .entry(section)
            .or_insert_with(|| Value::Object(Map::new()));
        if let (Some(target), Value::Object(fields)) = (target.as_object_mut(), fields) {
            for (name, value) in fields {
                if value.is_null() {
                    target.remove(&name);
                } else {
                    target.insert(name, value);
                }
            }
        }
    }
}

/// Fields a submit still needs, as `section.field`.
pub fn missing_for_submit(profile: &Map<String, Value>, journey_type_value: &str) -> Vec<String> {
    let has = |section: &str, field: &str| {
        profile
            .get(section)
            .and_then(|s| s.get(field))
            .is_some_and(|v| !v.is_null())
    };
    let mut required = vec![
        ("profile", "contactNumber"),
        ("profile", "pan"),
        ("profile", "panName"),
    ];
    if journey_type_value == journey_type::GOLD_LOAN {
        required.extend([("goldLoan", "jewelleryWeightGrams"), ("goldLoan", "purity")]);
    } else {
        required.extend([
            ("profile", "personalemail"),
            ("workProfile", "employmentType"),
            ("workProfile", "income"),
        ]);
    }
    let mut missing: Vec<String> = required
        .into_iter()
        .filter(|(s, f)| !has(s, f))
        .map(|(s, f)| format!("{s}.{f}"))
        .collect();
    let consent = profile
        .get("journey")
        .and_then(|j| j.get("bureauConsent"))
        .and_then(Value::as_bool);
    if consent != Some(true) {
        missing.push("journey.bureauConsent".into());
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
}
