//! The store conformance suite: every test runs against the in-memory twin and against Redis in
//! every mode — one server, TLS, Cluster and Sentinel (each of the last three skipped when
//! `scripts/test.sh` has not provided it, see `helpers::redis_modes`).

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;

use crate::helpers::{
    memory_store, redis_store, unique_prefix, Delivery, Lease, RedisStore, Store, StoreError,
    StreamTrim,
};

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod on_redis {
            $( #[tokio::test] async fn $name() { super::$name(crate::helpers::redis_store(&crate::helpers::unique_prefix())).await } )*
        }
        mod on_memory {
            $( #[tokio::test] async fn $name() { super::$name(crate::helpers::memory_store(&crate::helpers::unique_prefix())).await } )*
        }
        mod on_redis_tls {
            $( #[tokio::test] async fn $name() { if let Some(s) = crate::helpers::mode_store_fresh(crate::helpers::Mode::Tls) { super::$name(s).await } } )*
        }
        mod on_redis_cluster {
            $( #[tokio::test] async fn $name() { if let Some(s) = crate::helpers::mode_store_fresh(crate::helpers::Mode::Cluster) { super::$name(s).await } } )*
        }
        mod on_redis_sentinel {
            $( #[tokio::test] async fn $name() { if let Some(s) = crate::helpers::mode_store_fresh(crate::helpers::Mode::Sentinel) { super::$name(s).await } } )*
        }
    };
}

conformance!(
    get_returns_what_set_stored_until_the_ttl_ends,
    set_nx_only_sets_an_absent_key,
    delete_removes_and_reports_whether_it_did,
    compare_and_delete_only_deletes_the_owners_value,
    compare_and_expire_renews_only_for_the_owner,
    versioned_writes_succeed_only_on_the_expected_version,
    versioned_records_expire,
    incr_counts_within_a_window_and_restarts_after_it,
    hashes_hold_fields_and_expire_together,
    stream_reads_resume_strictly_after_a_cursor,
    stream_is_trimmed_to_its_max_length,
    stream_rejects_a_cursor_it_did_not_issue,
    sorted_index_pages_highest_score_first_and_keeps_the_top,
    sorted_index_members_move_leave_and_expire,
    schedule_hands_out_due_members_once_per_lease,
    concurrent_schedule_takers_never_share_a_member,
    guarded_append_takes_only_a_newer_sequence_per_field,
    a_published_message_reaches_the_channels_subscribers,
    lease_lock_excludes_others_and_fences_increase,
    concurrent_set_nx_has_exactly_one_winner,
);

const LONG: Duration = Duration::from_secs(60);

async fn get_returns_what_set_stored_until_the_ttl_ends(s: Arc<dyn Store>) {
    assert_eq!(s.get("k").await.unwrap(), None);
    s.set("k", b"v1", Duration::from_millis(150)).await.unwrap();
    assert_eq!(s.get("k").await.unwrap().as_deref(), Some(&b"v1"[..]));
    s.set("k", b"v2", Duration::from_millis(150)).await.unwrap();
    assert_eq!(s.get("k").await.unwrap().as_deref(), Some(&b"v2"[..]));
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert_eq!(s.get("k").await.unwrap(), None);
}

async fn set_nx_only_sets_an_absent_key(s: Arc<dyn Store>) {
    assert!(s.set_nx("n", b"a", LONG).await.unwrap());
    assert!(!s.set_nx("n", b"b", LONG).await.unwrap());
    assert_eq!(s.get("n").await.unwrap().as_deref(), Some(&b"a"[..]));
    s.set_nx("short", b"x", Duration::from_millis(100))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        s.set_nx("short", b"y", LONG).await.unwrap(),
        "expired key is absent"
    );
}

async fn delete_removes_and_reports_whether_it_did(s: Arc<dyn Store>) {
    s.set("d", b"x", LONG).await.unwrap();
    assert!(s.delete("d").await.unwrap());
    assert!(!s.delete("d").await.unwrap());
    assert_eq!(s.get("d").await.unwrap(), None);
}

async fn compare_and_delete_only_deletes_the_owners_value(s: Arc<dyn Store>) {
    s.set("l", b"owner-1", LONG).await.unwrap();
    assert!(!s.compare_and_delete("l", b"owner-2").await.unwrap());
    assert!(s.get("l").await.unwrap().is_some());
    assert!(s.compare_and_delete("l", b"owner-1").await.unwrap());
    assert!(s.get("l").await.unwrap().is_none());
}

async fn compare_and_expire_renews_only_for_the_owner(s: Arc<dyn Store>) {
    s.set("r", b"me", Duration::from_millis(200)).await.unwrap();
    assert!(!s.compare_and_expire("r", b"other", LONG).await.unwrap());
    assert!(s.compare_and_expire("r", b"me", LONG).await.unwrap());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        s.get("r").await.unwrap().is_some(),
        "renewed lease outlives the first TTL"
    );
    assert!(!s.compare_and_expire("absent", b"me", LONG).await.unwrap());
}

async fn versioned_writes_succeed_only_on_the_expected_version(s: Arc<dyn Store>) {
    assert_eq!(s.get_versioned("v").await.unwrap(), None);
    assert_eq!(
        s.put_versioned("v", Some(1), b"x", LONG).await.unwrap(),
        None,
        "no record yet"
    );
    assert_eq!(
        s.put_versioned("v", None, b"a", LONG).await.unwrap(),
        Some(1)
    );
    assert_eq!(
        s.put_versioned("v", None, b"b", LONG).await.unwrap(),
        None,
        "exists now"
    );
    assert_eq!(
        s.put_versioned("v", Some(1), b"c", LONG).await.unwrap(),
        Some(2)
    );
    assert_eq!(
        s.put_versioned("v", Some(1), b"stale", LONG).await.unwrap(),
        None
    );
    let r = s.get_versioned("v").await.unwrap().unwrap();
    assert_eq!((r.version, r.value.as_slice()), (2, &b"c"[..]));
}

async fn versioned_records_expire(s: Arc<dyn Store>) {
    s.put_versioned("ve", None, b"a", Duration::from_millis(100))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(s.get_versioned("ve").await.unwrap(), None);
    assert_eq!(
        s.put_versioned("ve", None, b"b", LONG).await.unwrap(),
        Some(1)
    );
}

async fn incr_counts_within_a_window_and_restarts_after_it(s: Arc<dyn Store>) {
    let w = Duration::from_millis(200);
    assert_eq!(s.incr("c", w).await.unwrap(), 1);
    assert_eq!(s.incr("c", w).await.unwrap(), 2);
    assert_eq!(s.incr("c", w).await.unwrap(), 3);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(s.incr("c", w).await.unwrap(), 1);
}

async fn hashes_hold_fields_and_expire_together(s: Arc<dyn Store>) {
    s.hash_set("h", "b", b"2", Duration::from_millis(200))
        .await
        .unwrap();
    s.hash_set("h", "a", b"1", Duration::from_millis(200))
        .await
        .unwrap();
    s.hash_set("h", "a", b"1'", Duration::from_millis(200))
        .await
        .unwrap();
    assert_eq!(
        s.hash_get("h", "a").await.unwrap().as_deref(),
        Some(&b"1'"[..])
    );
    assert_eq!(s.hash_get("h", "z").await.unwrap(), None);
    let all = s.hash_get_all("h").await.unwrap();
    assert_eq!(
        all,
        vec![
            ("a".to_owned(), b"1'".to_vec()),
            ("b".to_owned(), b"2".to_vec())
        ]
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(s.hash_get_all("h").await.unwrap().is_empty());
}

async fn stream_reads_resume_strictly_after_a_cursor(s: Arc<dyn Store>) {
    let trim = StreamTrim {
        max_len: 1000,
        max_age: LONG,
    };
    assert!(s.stream_read("st", None, 10).await.unwrap().is_empty());
    let mut cursors = Vec::new();
    for i in 0..5 {
        cursors.push(
            s.stream_append("st", format!("e{i}").as_bytes(), trim)
                .await
                .unwrap(),
        );
    }
    let all = s.stream_read("st", None, 10).await.unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(
        all.iter().map(|e| e.cursor.clone()).collect::<Vec<_>>(),
        cursors
    );
    assert_eq!(all[0].value, b"e0");
    let after = s.stream_read("st", Some(&cursors[1]), 2).await.unwrap();
    assert_eq!(
        after.iter().map(|e| e.value.clone()).collect::<Vec<_>>(),
        vec![b"e2".to_vec(), b"e3".to_vec()]
    );
    assert!(s
        .stream_read("st", Some(&cursors[4]), 10)
        .await
        .unwrap()
        .is_empty());
}

async fn stream_is_trimmed_to_its_max_length(s: Arc<dyn Store>) {
    // Redis trims approximately (~), whole macro nodes at a time; only assert the bound holds
    // loosely there and exactly in memory.
    let trim = StreamTrim {
        max_len: 10,
        max_age: LONG,
    };
    for i in 0..300 {
        s.stream_append("tr", format!("{i}").as_bytes(), trim)
            .await
            .unwrap();
    }
    let all = s.stream_read("tr", None, 1000).await.unwrap();
    assert!(all.len() < 300, "stream was trimmed (kept {})", all.len());
    assert_eq!(all.last().unwrap().value, b"299", "newest entry kept");
    if s.kind() == "memory" {
        assert_eq!(all.len(), 10);
    }
}

async fn guarded_append_takes_only_a_newer_sequence_per_field(s: Arc<dyn Store>) {
    let trim = StreamTrim {
        max_len: 100,
        max_age: LONG,
    };
    let append = |field: &'static str, seq: u64| {
        let s = Arc::clone(&s);
        async move {
            // One hash tag for both keys: the append and its guard are one atomic step, so in a
            // Redis Cluster they must share a slot (as the service's own keys do).
            s.stream_append_if_newer(
                "{gs}",
                "{gs}:guard",
                field,
                seq,
                format!("{field}{seq}").as_bytes(),
                trim,
            )
            .await
            .unwrap()
        }
    };
    assert!(append("a", 5).await.is_some());
    assert!(append("a", 5).await.is_none(), "the same sequence again");
    assert!(append("a", 3).await.is_none(), "an older sequence");
    assert!(append("b", 1).await.is_some(), "fields are independent");
    let cursor = append("a", 6).await.expect("a newer sequence");
    let all = s.stream_read("{gs}", None, 10).await.unwrap();
    let values: Vec<&[u8]> = all.iter().map(|e| e.value.as_slice()).collect();
    assert_eq!(values, [&b"a5"[..], b"b1", b"a6"]);
    assert_eq!(all[2].cursor, cursor);
}

async fn a_published_message_reaches_the_channels_subscribers(s: Arc<dyn Store>) {
    let mut sub = s.subscribe("ch").await.unwrap();
    s.publish("elsewhere", b"not for us").await.unwrap();
    s.publish("ch", b"one").await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(2), sub.next())
        .await
        .expect("delivered in time");
    assert_eq!(got, Some(Delivery::Message(b"one".to_vec())));
    // Publishing to a channel nobody listens on is fine.
    s.publish("nobody", b"x").await.unwrap();
}

async fn stream_rejects_a_cursor_it_did_not_issue(s: Arc<dyn Store>) {
    let err = s
        .stream_read("st", Some("not-a-cursor"), 10)
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidCursor), "{err:?}");
}

/// `(member, score)` pairs, as `index_desc` returns them.
fn scored(pairs: &[(&str, i64)]) -> Vec<(String, i64)> {
    pairs.iter().map(|(m, s)| (m.to_string(), *s)).collect()
}

async fn sorted_index_pages_highest_score_first_and_keeps_the_top(s: Arc<dyn Store>) {
    assert!(s
        .index_desc("ix", i64::MAX, 0, 10)
        .await
        .unwrap()
        .is_empty());
    let t = 1_775_121_370_000;
    for (m, score) in [("j-a", t), ("j-b", t), ("j-c", t + 5), ("j-d", t - 9)] {
        s.index_put("ix", m, score, 100, LONG).await.unwrap();
    }
    // Equal scores: member descending, so paging by offset is stable on both stores.
    assert_eq!(
        s.index_desc("ix", i64::MAX, 0, 10).await.unwrap(),
        scored(&[("j-c", t + 5), ("j-b", t), ("j-a", t), ("j-d", t - 9)])
    );
    assert_eq!(
        s.index_desc("ix", t, 1, 2).await.unwrap(),
        scored(&[("j-a", t), ("j-d", t - 9)])
    );
    assert!(s.index_desc("ix", t - 10, 0, 10).await.unwrap().is_empty());
    assert!(s.index_desc("ix", i64::MAX, 0, 0).await.unwrap().is_empty());
    // Over the bound, the lowest scores go.
    s.index_put("ix", "j-e", t + 1, 3, LONG).await.unwrap();
    assert_eq!(
        s.index_desc("ix", i64::MAX, 0, 10).await.unwrap(),
        scored(&[("j-c", t + 5), ("j-e", t + 1), ("j-b", t)])
    );
}

async fn schedule_hands_out_due_members_once_per_lease(s: Arc<dyn Store>) {
    assert!(s.schedule_put("q", "a", 100, false, LONG).await.unwrap());
    assert!(s.schedule_put("q", "b", 50, false, LONG).await.unwrap());
    assert!(s.schedule_put("q", "c", 500, false, LONG).await.unwrap());
    // only_if_absent keeps a member's time; a plain put moves it.
    assert!(!s.schedule_put("q", "a", 10, true, LONG).await.unwrap());
    assert_eq!(s.index_len("q").await.unwrap(), 3);
    assert_eq!(s.index_len("never-written").await.unwrap(), 0);
    // Earliest first, only the due ones, at most `limit`.
    assert_eq!(
        s.schedule_take_due("q", 200, 10_000, 1).await.unwrap(),
        ["b"]
    );
    assert_eq!(
        s.schedule_take_due("q", 200, 10_000, 10).await.unwrap(),
        ["a"]
    );
    // Leased: not due again until the lease ends, then handed out again.
    assert!(s
        .schedule_take_due("q", 9_999, 20_000, 10)
        .await
        .unwrap()
        .iter()
        .all(|m| m == "c"));
    let again = s.schedule_take_due("q", 10_000, 30_000, 10).await.unwrap();
    assert_eq!(again, ["a", "b"]);
    // A plain put re-schedules a leased member; removal takes it out.
    assert!(s.schedule_put("q", "a", 1, false, LONG).await.unwrap());
    s.index_remove("q", "b").await.unwrap();
    assert_eq!(s.schedule_take_due("q", 2, 3, 10).await.unwrap(), ["a"]);
    assert_eq!(s.index_len("q").await.unwrap(), 2);
    assert!(s
        .schedule_take_due("nothing", i64::MAX, 1, 10)
        .await
        .unwrap()
        .is_empty());
    // The schedule expires as a whole.
    s.schedule_put("short", "x", 1, false, Duration::from_millis(200))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(s.index_len("short").await.unwrap(), 0);
}

async fn concurrent_schedule_takers_never_share_a_member(s: Arc<dyn Store>) {
    for i in 0..40 {
        s.schedule_put("race", &format!("m{i:02}"), i, false, LONG)
            .await
            .unwrap();
    }
    let takers = (0..8).map(|_| {
        let s = Arc::clone(&s);
        tokio::spawn(async move {
            s.schedule_take_due("race", 1_000, 1_000_000, 7)
                .await
                .unwrap()
        })
    });
    let mut all = Vec::new();
    for t in takers {
        all.extend(t.await.unwrap());
    }
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), total, "a member was handed to two takers");
    assert_eq!(total, 40);
}

async fn sorted_index_members_move_leave_and_expire(s: Arc<dyn Store>) {
    s.index_put("mv", "j-1", 10, 100, LONG).await.unwrap();
    s.index_put("mv", "j-2", 20, 100, LONG).await.unwrap();
    s.index_put("mv", "j-1", 30, 100, LONG).await.unwrap();
    assert_eq!(
        s.index_desc("mv", i64::MAX, 0, 10).await.unwrap(),
        scored(&[("j-1", 30), ("j-2", 20)])
    );
    s.index_remove("mv", "j-1").await.unwrap();
    s.index_remove("mv", "absent").await.unwrap();
    s.index_remove("never-written", "j-1").await.unwrap();
    assert_eq!(
        s.index_desc("mv", i64::MAX, 0, 10).await.unwrap(),
        scored(&[("j-2", 20)])
    );
    s.index_put("mv", "j-3", 5, 100, Duration::from_millis(200))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(s
        .index_desc("mv", i64::MAX, 0, 10)
        .await
        .unwrap()
        .is_empty());
}

async fn lease_lock_excludes_others_and_fences_increase(s: Arc<dyn Store>) {
    let ttl = Duration::from_millis(300);
    let a = Lease::try_acquire(&s, "lock", ttl)
        .await
        .unwrap()
        .expect("free lock");
    assert!(Lease::try_acquire(&s, "lock", ttl).await.unwrap().is_none());
    assert!(a.renew(&s).await.unwrap());
    assert!(a.release(&s).await.unwrap());
    let b = Lease::try_acquire(&s, "lock", ttl)
        .await
        .unwrap()
        .expect("released lock");
    assert!(b.fence > a.fence);
    assert!(
        !a.release(&s).await.unwrap(),
        "a stale holder cannot release the new lease"
    );
    assert!(!a.renew(&s).await.unwrap(), "nor renew it");
    let (out, held) = b
        .hold_while(&s, async {
            tokio::time::sleep(Duration::from_millis(700)).await;
            7
        })
        .await;
    assert_eq!(out, 7);
    assert!(held, "renewal kept the lease past its TTL");
    assert!(
        Lease::try_acquire(&s, "lock", ttl).await.unwrap().is_some(),
        "released after work"
    );
}

async fn concurrent_set_nx_has_exactly_one_winner(s: Arc<dyn Store>) {
    let mut tasks = Vec::new();
    for i in 0..32 {
        let s = Arc::clone(&s);
        tasks.push(tokio::spawn(async move {
            s.set_nx("race", format!("{i}").as_bytes(), LONG)
                .await
                .unwrap()
        }));
    }
    let mut winners = 0;
    for t in tasks {
        if t.await.unwrap() {
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
}

#[tokio::test]
async fn an_unreachable_redis_is_a_typed_unavailable_error() {
    let s = RedisStore::new(
        "redis://127.0.0.1:1",
        &unique_prefix(),
        Duration::from_millis(200),
        Duration::from_millis(200),
    )
    .unwrap();
    let err = s.get("x").await.unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(s.ping().await.is_err());
}

#[tokio::test]
async fn keys_are_isolated_by_prefix() {
    let a = redis_store("iso-a:");
    let b = redis_store("iso-b:");
    let key = format!("k{}", uuid::Uuid::new_v4().simple());
    a.set(&key, b"1", LONG).await.unwrap();
    assert_eq!(b.get(&key).await.unwrap(), None);
    a.delete(&key).await.unwrap();
    let m1 = memory_store("p1:");
    m1.set("k", b"1", LONG).await.unwrap();
    assert_eq!(m1.get("k").await.unwrap().as_deref(), Some(&b"1"[..]));
}

#[tokio::test]
async fn redis_pub_sub_crosses_instances_within_one_key_prefix_only() {
    let prefix = unique_prefix();
    let (here, there, other) = (
        redis_store(&prefix),
        redis_store(&prefix),
        redis_store(&unique_prefix()),
    );
    let mut sub = here.subscribe("wake").await.unwrap();
    other.publish("wake", b"another deployment").await.unwrap();
    there.publish("wake", b"ours").await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(2), sub.next())
        .await
        .expect("delivered in time");
    assert_eq!(got, Some(Delivery::Message(b"ours".to_vec())));
}
