//! Persisted == rebuilt on a generated ledger of 100 000 events, caught up
//! batch by batch as an operator's appends would be.

use benefit_domain::authorize;
use benefit_projections::{Projections, RebuildMode, FOLD_DOCUMENTS_IN_MEMORY};
use benefit_store::conformance::positioned;
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
            .append(positioned(
                &store,
                AppendRequest::by(
                    &actor,
                    Uuid::new_v5(&Uuid::NAMESPACE_OID, &batch_number.to_be_bytes()),
                    head,
                    events,
                ),
            ))
            .expect("append");
        appended = done.last;
        assert_eq!(projections.catch_up().expect("catch up"), appended);
    }
    assert_eq!(store.projection_checkpoint().expect("checkpoint"), EVENTS);
    let report = projections
        .rebuild(RebuildMode::Check, &mut |_| {})
        .expect("rebuild");
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
    tampered_is_reported_and_repaired(FOLD_DOCUMENTS_IN_MEMORY);
}

/// The same when the rebuild's fold holds 50 documents at most, and so goes
/// through its scratch store on disk: a replace then replays the log.
#[test]
fn a_tampered_projection_is_repaired_by_a_rebuild_folded_on_disk() {
    tampered_is_reported_and_repaired(50);
}

fn tampered_is_reported_and_repaired(fold_limit: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SledStore::open(dir.path().join("ledger"), SystemClock).expect("open");
    let workload = Workload::new(3);
    let actor = authorize(Some(workload.actor())).expect("actor");
    let events: Vec<_> = workload.take(500).collect();
    store
        .append(positioned(
            &store,
            AppendRequest::by(&actor, Uuid::nil(), 0, events),
        ))
        .expect("append");
    let projections = Projections::new(&store).with_fold_limit(fold_limit);
    let head = projections.catch_up().expect("catch up");
    let (key, _) = store
        .projection_scan("sub/")
        .expect("scan")
        .into_iter()
        .next()
        .expect("a subscription");
    let forged = br#"{"forged": true}"#.to_vec();
    let before = store.projection_scan("").expect("scan");
    store
        .projection_commit(head, head, [(key.clone(), forged)].into_iter().collect())
        .expect("tamper under the store");
    let report = projections
        .rebuild(RebuildMode::Check, &mut |_| {})
        .expect("rebuild");
    assert_eq!(
        report
            .differences
            .iter()
            .map(|d| d.key.as_str())
            .collect::<Vec<_>>(),
        vec![key.as_str()]
    );
    assert_eq!(report.documents, before.len());
    assert!(!report.replaced);
    let repaired = projections
        .rebuild(RebuildMode::Replace, &mut |_| {})
        .expect("replace");
    assert!(repaired.replaced);
    assert_eq!(store.projection_checkpoint().expect("checkpoint"), head);
    assert_eq!(store.projection_scan("").expect("scan"), before);
    assert_eq!(
        projections
            .rebuild(RebuildMode::Check, &mut |_| {})
            .expect("check")
            .differences,
        vec![]
    );
}
