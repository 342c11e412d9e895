//! Property tests of everything in the proxy, auth and store edge that parses hostile input:
//! nothing panics, canonical forms are idempotent, and nothing outside the allowed set is accepted.
//! (No Redis, no network: these run with `cargo test` anywhere.)

use aarthik_bff::auth::Verifier;
use aarthik_bff::config::{load, LoadOptions, Settings};
use aarthik_bff::domain::{CorrelationId, TraceParent};
use aarthik_bff::proxy::idempotency::IdempotencyKey;
use aarthik_bff::proxy::path::{segment_allowed, HeadlessPath};
use aarthik_bff::store::parse_cursor;
use proptest::prelude::*;

fn settings() -> Settings {
    load(LoadOptions {
        config_dir: Some("/nonexistent".into()),
        ..Default::default()
    })
    .expect("defaults load")
}

/// One allowed segment: 1-128 of `[A-Za-z0-9._~-]`, not a dot segment, not `sessions*`.
fn segment() -> impl Strategy<Value = String> {
    "[A-Za-z0-9._~-]{1,128}".prop_filter("dot segment or sessions", |s| {
        s != "." && s != ".." && !s.to_ascii_lowercase().starts_with("sessions")
    })
}

/// Percent-encode some of the characters of `s` (the same path, spelled differently).
fn spell(s: &str, mask: &[bool]) -> String {
    s.bytes()
        .zip(mask.iter().cycle())
        .map(|(b, &enc)| {
            if enc {
                format!("%{b:02X}")
            } else {
                (b as char).to_string()
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn path_parsing_never_panics_and_accepts_only_the_allowed_spelling(raw in "\\PC{0,200}", q in "\\PC{0,40}") {
        if let Ok(p) = HeadlessPath::parse(&format!("/v1/headless/{raw}"), &q) {
            let canonical = p.canonical().split('?').next().unwrap_or("").to_owned();
            let rest = canonical.strip_prefix("/v1/headless/").expect("under the scope");
            prop_assert!(rest.split('/').all(segment_allowed), "{rest}");
            // Idempotent: the canonical form parses to itself.
            let again = HeadlessPath::parse(&canonical, &q).expect("canonical parses");
            prop_assert_eq!(again.canonical(), p.canonical());
            prop_assert_eq!(
                p.upstream_path_and_query(),
                format!("/api/v1/headless/{}", &p.canonical()["/v1/headless/".len()..])
            );
        }
    }

    #[test]
    fn every_spelling_of_an_allowed_path_has_one_canonical_form(
        segs in prop::collection::vec(segment(), 1..5),
        mask in prop::collection::vec(any::<bool>(), 1..16),
    ) {
        let plain = format!("/v1/headless/{}", segs.join("/"));
        let p = HeadlessPath::parse(&plain, "").expect("allowed segments parse");
        prop_assert_eq!(p.canonical(), plain.as_str());
        let spelled: Vec<String> = segs.iter().map(|s| spell(s, &mask)).collect();
        let q = HeadlessPath::parse(&format!("/v1/headless/{}", spelled.join("/")), "")
            .expect("an encoded spelling parses");
        prop_assert_eq!(q.canonical(), plain.as_str());
    }

    #[test]
    fn a_segment_with_any_foreign_character_is_refused(
        seg in segment(),
        at in any::<prop::sample::Index>(),
        foreign in any::<char>().prop_filter("allowed", |c| !(c.is_ascii_alphanumeric() || "._~-".contains(*c))),
    ) {
        let mut chars: Vec<char> = seg.chars().collect();
        chars.insert(at.index(chars.len() + 1), foreign);
        let bad: String = chars.into_iter().collect();
        let mut buf = [0u8; 4];
        let encoded: String = bad
            .chars()
            .map(|c| {
                if c == foreign {
                    c.encode_utf8(&mut buf).bytes().map(|b| format!("%{b:02X}")).collect()
                } else {
                    c.to_string()
                }
            })
            .collect();
        let r = HeadlessPath::parse(&format!("/v1/headless/journeys/{encoded}"), "");
        prop_assert!(r.is_err(), "{encoded} accepted");
    }

    #[test]
    fn idempotency_keys_are_exactly_1_to_255_printable_ascii(raw in prop::collection::vec(any::<u8>(), 0..300)) {
        let ok = (1..=255).contains(&raw.len()) && raw.iter().all(|b| (0x20..=0x7e).contains(b));
        let parsed = IdempotencyKey::parse(&raw);
        prop_assert_eq!(parsed.is_ok(), ok);
        if let Ok(k) = parsed {
            prop_assert_eq!(k.as_str().as_bytes(), &raw[..]);
        }
    }

    #[test]
    fn correlation_ids_are_exactly_the_documented_alphabet(raw in "\\PC{0,140}|[A-Za-z0-9._:-]{0,140}") {
        let ok = (1..=128).contains(&raw.len())
            && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b));
        prop_assert_eq!(CorrelationId::parse(&raw).is_some(), ok);
        let id = CorrelationId::from_header(Some(&raw));
        prop_assert!(CorrelationId::parse(id.as_str()).is_some(), "always a valid id");
    }

    #[test]
    fn traceparents_round_trip_and_junk_never_panics(
        raw in "\\PC{0,80}",
        trace in "[0-9a-f]{32}",
        parent in "[0-9a-f]{16}",
        flags in "[0-9a-f]{2}",
    ) {
        if let Some(t) = TraceParent::parse(&raw) {
            prop_assert_eq!(TraceParent::parse(&t.header_value()), Some(t));
        }
        let header = format!("00-{trace}-{parent}-{flags}");
        let zero = trace.bytes().all(|b| b == b'0') || parent.bytes().all(|b| b == b'0');
        match TraceParent::parse(&header) {
            Some(t) => prop_assert_eq!(t.header_value(), header),
            None => prop_assert!(zero, "{header} refused"),
        }
        let child = TraceParent::from_header(Some(&raw)).child();
        prop_assert!(TraceParent::parse(&child.header_value()).is_some());
    }

    #[test]
    fn store_cursors_parse_strictly_and_round_trip(raw in "\\PC{0,48}|[0-9]{1,22}(-[0-9]{1,22})?") {
        if let Ok((ms, seq)) = parse_cursor(&raw) {
            prop_assert!(raw.bytes().all(|b| b.is_ascii_digit() || b == b'-'));
            prop_assert!(raw.matches('-').count() <= 1);
            prop_assert_eq!(parse_cursor(&format!("{ms}-{seq}")).ok(), Some((ms, seq)));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn jwt_extraction_accepts_only_a_bearer_token_with_a_valid_signature(
        junk in "\\PC{0,300}",
        prefix in "\\PC{0,10}",
        tail in "[A-Za-z0-9_.=-]{1,8}",
    ) {
        let settings = settings();
        let verifier = Verifier::from_settings(&settings);
        let token = aarthik_bff::auth::token::mint(&settings, "prop-user", 600).unwrap();
        let ok = |header: String| verifier.verify_header(Some(&header)).is_ok();
        let good = format!("Bearer {token}");
        let bearer_junk = format!("Bearer {junk}");
        let extended = format!("Bearer {token}{tail}");
        let prefixed = format!("{prefix}{token}");
        prop_assert!(ok(good));
        prop_assert!(!ok(junk.clone()));
        prop_assert!(!ok(bearer_junk));
        prop_assert!(!ok(extended));
        if prefix != "Bearer " && prefix != "bearer " {
            prop_assert!(!ok(prefixed));
        }
    }
}
