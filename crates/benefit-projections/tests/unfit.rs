//! Documents left ahead of their checkpoint (what a disk that failed under
//! a commit can leave, issue 13): catching up reports them instead of
//! applying an event twice (or panicking), and `rebuild` in replace mode
//! (`rebuild --repair`) restores every document from the log.

use benefit_domain::authorize;
use benefit_projections::{fold_all, ProjectionError, Projections, RebuildMode};
use benefit_store::conformance::positioned;
use benefit_store::{AppendRequest, AsOf, EventStore, MemoryStore, ProjectionStore, SystemClock};
use benefit_workload::Workload;
use uuid::Uuid;

#[test]
fn documents_ahead_of_their_checkpoint_are_reported_and_repaired() {
    let store = MemoryStore::new(SystemClock);
    let workload = Workload::new(7);
    let actor = authorize(Some(workload.actor())).expect("the workload's actor may write");
    let events: Vec<_> = workload.take(400).collect();
    let head = store
        .append(positioned(
            &store,
            AppendRequest::by(&actor, Uuid::from_u128(1), 0, events),
        ))
        .expect("append")
        .last;
    // Every document as of the head, under a checkpoint 100 events behind.
    let ahead = fold_all(&mut store.read_as_of(AsOf::Sequence(head))).expect("fold");
    store.projection_reset().expect("reset");
    store
        .projection_commit(0, head - 100, ahead.0)
        .expect("documents ahead of their checkpoint");

    let projections = Projections::new(&store);
    match projections.catch_up() {
        Err(ProjectionError::Unfit { seq, why }) => {
            assert!(seq > head - 100 && seq <= head, "sequence {seq}");
            assert!(!why.is_empty());
        }
        other => panic!("expected the documents to be reported unfit, got {other:?}"),
    }
    let repaired = projections
        .rebuild(RebuildMode::Replace, &mut |_| {})
        .expect("a repair folds the whole log from nothing");
    assert_eq!(repaired.seq, head);
    assert!(repaired.replaced);
    let checked = projections
        .rebuild(RebuildMode::Check, &mut |_| {})
        .expect("rebuild");
    assert_eq!(
        checked.differences.len(),
        0,
        "{:?}",
        checked.differences.first()
    );
    assert_eq!(store.projection_checkpoint().expect("checkpoint"), head);
}
