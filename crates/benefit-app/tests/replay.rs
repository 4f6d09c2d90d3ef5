//! A replay (`Projections::replay`) puts in place exactly the documents the
//! ledger's own commits wrote, whether its fold stays in memory or moves to
//! its scratch store past the fold limit (written there as pages, then
//! committed over). On sled the replayed documents are packed pages, read
//! again after the ledger is opened anew, and the commands after a replay
//! decide on them and commit over them as if there had been no replay.

use benefit_app::Ledger;
use benefit_projections::{Projections, RebuildMode};
use benefit_store::{Document, MemoryStore, ProjectionStore};
use benefit_workload::Workload;
use support::{clock, record_from, record_workload};

mod support;

const SEED: u64 = 5;

fn documents<S: ProjectionStore>(store: &S) -> Vec<Document> {
    store.projection_scan("").expect("the documents read")
}

#[test]
fn a_replay_writes_the_documents_the_commits_wrote_and_commands_go_on_over_them() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut ledger = Ledger::create_or_open(dir.path().join("l"), clock()).expect("opens");
    let mut workload = Workload::new(SEED);
    record_from(&mut ledger, &mut workload, 1_500, 100);
    let committed = documents(ledger.store());
    for limit in [usize::MAX, 500] {
        let projections = Projections::new(ledger.store()).with_fold_limit(limit);
        assert_eq!(projections.replay().expect("replays"), 1_500);
        let store = ledger.store();
        assert_eq!(store.projection_checkpoint().expect("checkpoint"), 1_500);
        assert!(
            documents(store) == committed,
            "the replay's documents (fold limit {limit}) differ from the commits'"
        );
    }
    // The pages are read again by the next process that opens the ledger.
    drop(ledger);
    let mut ledger = Ledger::open_existing(dir.path().join("l"), clock()).expect("reopens");
    assert!(
        documents(ledger.store()) == committed,
        "the replayed documents read otherwise once the ledger is opened again"
    );
    record_from(&mut ledger, &mut workload, 300, 50);
    let mut without_replay = Ledger::over(MemoryStore::new(clock()));
    record_workload(&mut without_replay, SEED, 1_800, 100);
    assert!(
        documents(ledger.store()) == documents(without_replay.store()),
        "commands after a replay wrote other documents than without it"
    );
    let report = ledger
        .rebuild(RebuildMode::Check, &mut |_| {})
        .expect("rebuilds");
    assert_eq!((report.seq, report.differences.len()), (1_800, 0));
}
