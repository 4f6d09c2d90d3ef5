//! The SQLite store passes the store's conformance suite, reads and
//! `verify` stop at damage, and the bench's run through the shell leaves
//! the same log and the same documents as the in-memory backend.

use benefit_store::conformance::{self, collect, credit_assigned, positioned, request};
use benefit_store::{
    BreakKind, EventStore, MemoryStore, ProjectionStore, SteppingClock, StoreError,
};

use benefit_app::Ledger;

use super::{lock, SqliteStore};
use crate::ledger::{replay_over, run_over};

fn open_fresh(clock: SteppingClock) -> (SqliteStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = SqliteStore::open(dir.path().join("sqlite"), clock).expect("a new ledger opens");
    (store, dir)
}

benefit_store::conformance_tests!(open_fresh);

/// A store of three records, one per append.
fn three_records() -> (SqliteStore, tempfile::TempDir) {
    let (store, dir) = open_fresh(conformance::clock());
    for n in 0..3 {
        let appended = store
            .append(positioned(
                &store,
                request(n, vec![credit_assigned("b", n)]),
            ))
            .expect("appends");
        assert_eq!(appended.last, n + 1);
    }
    (store, dir)
}

fn damage(store: &SqliteStore, sql: &str) {
    lock(&store.connection)
        .execute_batch(sql)
        .expect("the damage is done");
}

/// Both the read and `verify` end with a break of `kind` at `seq`, the read
/// after the records before it.
fn assert_broken_at(store: &SqliteStore, seq: u64, kind: BreakKind) {
    let read: Vec<_> = store.read_from(1).collect();
    assert_eq!(read.len() as u64, seq, "{read:?}");
    assert!(read[..read.len() - 1].iter().all(Result::is_ok));
    for result in [
        read.into_iter().last().map(|r| r.map(|_| ())),
        Some(store.verify().map(|_| ())),
    ] {
        match result {
            Some(Err(StoreError::Broken(b))) => assert_eq!((b.seq, b.kind), (seq, kind)),
            other => panic!("expected a {kind:?} break at {seq}, got {other:?}"),
        }
    }
}

#[test]
fn a_wrong_hash_ends_reads_and_verify_at_its_record() {
    let (store, _dir) = three_records();
    damage(
        &store,
        "UPDATE events SET hash = zeroblob(32) WHERE seq = 2",
    );
    assert_broken_at(&store, 2, BreakKind::Hash);
}

#[test]
fn a_missing_row_ends_reads_and_verify_where_it_was() {
    let (store, _dir) = three_records();
    damage(&store, "DELETE FROM events WHERE seq = 2");
    assert_broken_at(&store, 2, BreakKind::Contiguity);
}

#[test]
fn a_read_from_the_middle_checks_the_link_to_the_record_before() {
    let (store, _dir) = three_records();
    damage(
        &store,
        "UPDATE events SET hash = zeroblob(32) WHERE seq = 1",
    );
    let first = store.read_from(2).next();
    match first {
        Some(Err(StoreError::Broken(b))) => assert_eq!((b.seq, b.kind), (2, BreakKind::Chain)),
        other => panic!("expected the broken link to be found, got {other:?}"),
    }
}

#[test]
fn a_command_row_that_disagrees_with_the_log_fails_verify() {
    let (store, _dir) = three_records();
    damage(
        &store,
        "UPDATE commands SET last_hash = zeroblob(32) WHERE last = 3",
    );
    match store.verify() {
        Err(StoreError::Broken(b)) => assert_eq!((b.seq, b.kind), (3, BreakKind::Index)),
        other => panic!("expected the command row to be refused, got {other:?}"),
    }
}

#[test]
fn a_reopened_store_reads_what_was_committed() {
    let (store, dir) = three_records();
    let head = store.head().expect("head");
    let records = collect(store.read_from(1));
    drop(store);
    let store = SqliteStore::open_existing(dir.path().join("sqlite"), conformance::clock())
        .expect("reopens");
    assert_eq!(store.head().expect("head"), head);
    assert_eq!(collect(store.read_from(1)), records);
    assert!(SqliteStore::open_existing(dir.path().join("none"), conformance::clock()).is_err());
}

/// The bench's own path (imports, single commands, reports, replay) over
/// SQLite and over memory, on one clock each: the same digest, the same
/// documents.
#[test]
fn the_shell_over_sqlite_stores_what_it_stores_over_memory() {
    let prepared = crate::workload::prepare(7, 300, 3).expect("a workload");
    let (sqlite, _dir) = open_fresh(conformance::clock());
    let mut sqlite = Ledger::over(sqlite);
    let mut memory = Ledger::over(MemoryStore::new(conformance::clock()));
    run_over(&mut sqlite, &prepared).expect("the run over SQLite succeeds");
    run_over(&mut memory, &prepared).expect("the run over memory succeeds");
    let (sqlite, memory) = (sqlite.store(), memory.store());
    assert_eq!(sqlite.head().expect("head"), memory.head().expect("head"));
    let documents = |store: &dyn ProjectionStore| store.projection_scan("").expect("scan");
    assert_eq!(documents(sqlite), documents(memory));
    sqlite.verify().expect("the SQLite log verifies");

    let replayed = replay_over(sqlite).expect("replays");
    assert_eq!(replayed.events, sqlite.head().expect("head").seq);
    assert_eq!(documents(sqlite), documents(memory));
}
