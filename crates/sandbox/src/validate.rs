//! Profile validation: field formats on every write (profile upsert and session prefill),
//! completeness on submit. A failure is 400 `VALIDATION_FAILED` whose `details.field` is the
//! dotted path (`profile.pan`), and changes nothing. Keys the sandbox does not know are stored
//! as sent, unvalidated.

use serde_json::{Map, Value};

use crate::reply::{SbError, SbResult};
use aarthik_contract::{employment_type, gender, journey_type, profile_section as ps};

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
    AccountNumber,
    Ifsc,
    OneOf(&'static [&'static str]),
}

/// (section, field, kind). Sections and fields outside this table are refused.
const FIELDS: &[(&str, &str, Kind)] = &[
    ("profile", "contactNumber", Kind::Mobile),
    ("profile", "pan", Kind::Pan),
    ("profile", "panName", Kind::PanName),
    ("profile", "dob", Kind::Date),
    ("profile", "gender", Kind::OneOf(gender::ALL)),
    ("profile", "personalemail", Kind::Email),
    (
        "workProfile",
        "employmentType",
        Kind::OneOf(employment_type::ALL),
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
    ("bankingInformation", "accountNumber", Kind::AccountNumber),
    ("bankingInformation", "ifsc", Kind::Ifsc),
    ("bankingInformation", "accountHolderName", Kind::Text),
];

/// The sections the sandbox knows (each is an object of fields).
pub const SECTIONS: &[&str] = ps::ALL;

const WEBMAIL: &[&str] = &[
    "gmail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "rediffmail.com",
    "icloud.com",
];

/// Validate a profile upsert body; returns the normalised patch (null = clear the field).
/// `journeyID` is the call's target journey, not profile data, and is left out.
pub fn profile_patch(body: &Value) -> SbResult<Map<String, Value>> {
    let obj = body
        .as_object()
        .ok_or_else(|| SbError::validation("the profile must be a JSON object"))?;
    let mut out = Map::new();
    for (key, value) in obj {
        if key == "journeyID" {
            continue;
        }
        out.insert(key.clone(), section_value(key, value)?);
    }
    Ok(out)
}

/// The prefill of a session create: the known profile sections present in its body.
pub fn prefill(body: &Value) -> SbResult<Map<String, Value>> {
    let mut out = Map::new();
    for section in SECTIONS {
        match body.get(*section) {
            None | Some(Value::Null) => {}
            Some(value) => {
                out.insert((*section).to_owned(), section_value(section, value)?);
            }
        }
    }
    Ok(out)
}

/// A known section must be an object of valid fields; anything else is stored as sent.
fn section_value(key: &str, value: &Value) -> SbResult<Value> {
    if !SECTIONS.contains(&key) {
        return Ok(value.clone());
    }
    let fields = value
        .as_object()
        .ok_or_else(|| SbError::invalid_field(key, format!("{key} must be an object")))?;
    Ok(Value::Object(section_patch(key, fields)?))
}

fn section_patch(section: &str, fields: &Map<String, Value>) -> SbResult<Map<String, Value>> {
    let mut out = Map::new();
    for (name, value) in fields {
        let kind = FIELDS
            .iter()
            .find(|(s, f, _)| *s == section && *f == name)
            .map(|(_, _, k)| *k);
        let normalised = match kind {
            _ if value.is_null() => Value::Null,
            None => value.clone(),
            Some(kind) => check(kind, value).map_err(|rule| {
                let field = format!("{section}.{name}");
                SbError::invalid_field(&field, format!("{field} {rule}"))
            })?,
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
        Kind::AccountNumber => {
            let s = text()?;
            let ok = (9..=18).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
            ok.then(|| Value::from(s))
                .ok_or_else(|| "must be 9 to 18 digits".into())
        }
        Kind::Ifsc => {
            let s = text()?;
            ifsc_ok(s)
                .then(|| Value::from(s))
                .ok_or_else(|| "must be an IFSC like HDFC0001234".into())
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

/// Four capital letters, a zero, six capital letters or digits.
pub fn ifsc_ok(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 11
        && b[..4].iter().all(u8::is_ascii_uppercase)
        && b[4] == b'0'
        && b[5..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
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

/// Merge a validated patch into the stored profile: objects merge field by field, anything else
/// replaces; null clears.
pub fn merge(stored: &mut Map<String, Value>, patch: Map<String, Value>) {
    for (key, value) in patch {
        match value {
            Value::Null => {
                stored.remove(&key);
            }
            Value::Object(fields) => {
                let entry = stored
                    .entry(key)
                    .or_insert_with(|| Value::Object(Map::new()));
                if !entry.is_object() {
                    *entry = Value::Object(Map::new());
                }
                if let Value::Object(target) = entry {
                    merge(target, fields);
                }
            }
            value => {
                stored.insert(key, value);
            }
        }
    }
}

/// Fields a submit still needs, as `section.field`, `profile.contactNumber` first (sandbox
/// choice: more than the contact number, so that lenders have something to decide on).
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
