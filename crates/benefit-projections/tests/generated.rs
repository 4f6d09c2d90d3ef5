//! Persisted == rebuilt on a generated ledger of 100 000 events, caught up
//! batch by batch as an operator's appends would be.

use benefit_domain::authorize;
use benefit_projections::{Projections, RebuildMode};
use benefit_store::{AppendRequest, EventStore, ProjectionStore, SledStore, SystemClock};
use benefit_workload::Workload;
use uuid::Uuid;

const EVENTS: u64 = 100_000;
const BATCH: usize = 10_000;

#[test]
fn persisted_projections_equal_a_rebuild_on_a_generated_ledger_of_100_000_events() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SledStore::open(dir.path().join("ledger"), SystemClock).expect("open");
    let mut workload = Workload::new(42);
    let actor = authorize(Some(workload.actor())).expect("the workload's actor may write");
    let projections = Projections::new(&store);
    let mut appended = 0u64;
    let mut batch_number = 0u64;
    while appended < EVENTS {
        let events: Vec<_> = workload.by_ref().take(BATCH).collect();
        batch_number += 1;
        let head = store.head().expect("head").seq;
        let done = store
            .append(AppendRequest::by(
                &actor,
                Uuid::new_v5(&Uuid::NAMESPACE_OID, &batch_number.to_be_bytes()),
                head,
                events,
            ))
            .expect("append");
        appended = done.last;
        assert_eq!(projections.catch_up().expect("catch up"), appended);
    }
    assert_eq!(store.projection_checkpoint().expect("checkpoint"), EVENTS);
    let report = projections.rebuild(RebuildMode::Check).expect("rebuild");
    assert_eq!(report.seq, EVENTS);
    assert!(report.documents > 10_000, "{} documents", report.documents);
    assert_eq!(
        report.differences.len(),
        0,
        "first: {:?}",
        report.differences.first()
    );
}

#[test]
fn a_tampered_projection_is_reported_by_rebuild_and_repaired_by_replace() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SledStore::open(dir.path().join("ledger"), SystemClock).expect("open");
    let workload = Workload::new(3);
    let actor = authorize(Some(workload.actor())).expect("actor");
    let events: Vec<_> = workload.take(500).collect();
    store
        .append(AppendRequest::by(&actor, Uuid::nil(), 0, events))
        .expect("append");
    let projections = Projections::new(&store);
    let head = projections.catch_up().expect("catch up");
    let (key, _) = store
        .projection_scan("sub/")
        .expect("scan")
        .into_iter()
        .next()
        .expect("a subscription");
    let forged = br#"{"forged": true}"#.to_vec();
    store
        .projection_commit(head, head, [(key.clone(), forged)].into_iter().collect())
        .expect("tamper under the store");
    let report = projections.rebuild(RebuildMode::Check).expect("rebuild");
    assert_eq!(
        report
            .differences
            .iter()
            .map(|d| d.key.as_str())
            .collect::<Vec<_>>(),
        vec![key.as_str()]
    );
    assert!(!report.replaced);
    let repaired = projections.rebuild(RebuildMode::Replace).expect("replace");
    assert!(repaired.replaced);
    assert_eq!(
        projections
            .rebuild(RebuildMode::Check)
            .expect("check")
            .differences,
        vec![]
    );
}

/// A key's state is its slot in its benefit's view, found through its
/// index; after every event the fold checks the slot against what the
/// domain's `evolve` computes. An index that points at another slot is
/// caught at the next use of the key, as an inconsistency naming it, and
/// nothing is committed.
#[test]
fn a_key_index_pointing_at_another_slot_is_caught_at_the_keys_next_use() {
    use benefit_domain::EntityKey;
    use benefit_events::{Event, Provision};
    use benefit_projections::docs::encode_document;
    use benefit_projections::state::state_key;
    use benefit_projections::{KeyIndex, ProjectionError};

    let workload = Workload::new(7);
    let actor = authorize(Some(workload.actor())).expect("actor");
    let events: Vec<Event> = workload.take(2_000).collect();
    // The first use of a key whose benefit has another key still unused
    // at that point (so that the forged slot is a possible state).
    let mut grants = std::collections::HashMap::new();
    let mut used = std::collections::HashSet::new();
    let mut found = None;
    for (i, event) in events.iter().enumerate() {
        match event {
            Event::BenefitGranted(e) => {
                if let Provision::Keys(keys) = &e.provides {
                    for (p, k) in keys.iter().enumerate() {
                        grants.insert(k.key.clone(), (e.benefit.clone(), p, keys.clone()));
                    }
                }
            }
            Event::KeyRedeemed(_) | Event::LicensesAdded(_) | Event::EndDateExtended(_) => {
                let key = match event {
                    Event::KeyRedeemed(e) => &e.key,
                    Event::LicensesAdded(e) => &e.key,
                    Event::EndDateExtended(e) => &e.key,
                    _ => unreachable!("matched above"),
                };
                let (benefit, position, keys) = grants.get(key).expect("granted").clone();
                let other = keys
                    .iter()
                    .position(|k| k.key != *key && !used.contains(&k.key));
                if let (None, Some(other)) = (&found, other) {
                    found = Some((i, key.clone(), benefit, position, other));
                }
                used.insert(key.clone());
            }
            _ => {}
        }
    }
    let (at, key, benefit, position, other) = found.expect("a key use in 2 000 events");
    assert_ne!(position, other);

    let dir = tempfile::tempdir().expect("temp dir");
    let store = SledStore::open(dir.path().join("ledger"), SystemClock).expect("open");
    let projections = Projections::new(&store);
    store
        .append(AppendRequest::by(
            &actor,
            Uuid::nil(),
            0,
            events[..at].to_vec(),
        ))
        .expect("append the history before the use");
    let head = projections.catch_up().expect("catch up");
    let forged = KeyIndex {
        benefit,
        position: u32::try_from(other).expect("small"),
    };
    let index_key = state_key(&EntityKey::Key(key));
    store
        .projection_commit(head, head, [(index_key, encode_document(&forged))].into())
        .expect("tamper under the store");

    store
        .append(AppendRequest::by(
            &actor,
            Uuid::from_u128(1),
            head,
            vec![events[at].clone()],
        ))
        .expect("the use of the key is stored");
    match projections.catch_up() {
        Err(ProjectionError::Inconsistent { seq, what }) => {
            assert_eq!(seq, head + 1);
            assert!(what.contains("slot of key"), "{what}");
        }
        other => panic!("expected an inconsistency, got {other:?}"),
    }
    assert_eq!(store.projection_checkpoint().expect("checkpoint"), head);
}
