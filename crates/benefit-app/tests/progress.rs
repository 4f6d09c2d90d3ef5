//! The progress of the long walks of the log (issue 14): `verify` and
//! `rebuild` tell their callback increasing sequences, every
//! `PROGRESS_EVERY` events rather than every event, and end at the head;
//! on the in-memory store and on sled alike.

use benefit_app::{Ledger, VerifyWalk};
use benefit_projections::RebuildMode;
use benefit_store::{EventStore, MemoryStore, ProjectionStore, PROGRESS_EVERY};
use support::{clock, record_workload};

mod support;

/// A few reports' worth of events, and a few more, recorded in batches.
fn fill<S: EventStore + ProjectionStore + Sync>(ledger: &mut Ledger<S>) -> u64 {
    let events = 2 * PROGRESS_EVERY + 7;
    record_workload(ledger, 14, events, 250);
    assert_eq!(ledger.head().expect("head").seq, events);
    events
}

/// What a walk of a log of `head` events must have told: every
/// `PROGRESS_EVERY`-th sequence, then the head, each once.
fn expected(head: u64) -> Vec<u64> {
    let mut told: Vec<u64> = (1..=head / PROGRESS_EVERY)
        .map(|n| n * PROGRESS_EVERY)
        .collect();
    if head % PROGRESS_EVERY != 0 {
        told.push(head);
    }
    told
}

fn verify_and_rebuild_report_their_progress<S: EventStore + ProjectionStore + Sync>(
    mut ledger: Ledger<S>,
) {
    let head = fill(&mut ledger);
    let mut told: Vec<(VerifyWalk, u64)> = Vec::new();
    let verified = ledger
        .verify(None, &mut |walk, seq| told.push((walk, seq)))
        .expect("verify");
    assert_eq!(verified.report.head.seq, head);
    let walk = |which| -> Vec<u64> {
        told.iter()
            .filter(|(w, _)| *w == which)
            .map(|(_, seq)| *seq)
            .collect()
    };
    assert_eq!(walk(VerifyWalk::Chain), expected(head));
    assert_eq!(walk(VerifyWalk::Rules), expected(head));
    let chain_first = told.iter().position(|(w, _)| *w == VerifyWalk::Rules);
    assert_eq!(chain_first, Some(expected(head).len()), "the chain first");

    let mut told = Vec::new();
    let rebuilt = ledger
        .rebuild(RebuildMode::Check, &mut |seq| told.push(seq))
        .expect("rebuild");
    assert!(rebuilt.differences.is_empty(), "{:?}", rebuilt.differences);
    assert_eq!(told, expected(head));
}

#[test]
fn verify_and_rebuild_report_their_progress_in_memory() {
    verify_and_rebuild_report_their_progress(Ledger::over(MemoryStore::new(clock())));
}

#[test]
fn verify_and_rebuild_report_their_progress_on_sled() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ledger = Ledger::create_or_open(dir.path().join("l"), clock()).expect("open");
    verify_and_rebuild_report_their_progress(ledger);
}

#[test]
fn an_empty_ledger_tells_nothing() {
    let ledger = Ledger::over(MemoryStore::new(clock()));
    let mut told = 0;
    ledger.verify(None, &mut |_, _| told += 1).expect("verify");
    ledger
        .rebuild(RebuildMode::Check, &mut |_| told += 1)
        .expect("rebuild");
    assert_eq!(told, 0);
}
