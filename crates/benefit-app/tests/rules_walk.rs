//! `verify`'s rules' walk finds the same things, and tells the same
//! progress, whether it holds the whole decision state in memory or moves
//! it to a scratch store past its bound (issue 11, point 5): on a healthy
//! log of the bench's workload, and on logs forged after the bound is
//! passed (a key redeemed again, an end date moved).

use std::sync::atomic::AtomicBool;

use benefit_app::{check_events_within, Checked, Ledger};
use benefit_events::Event;
use benefit_store::{EventStore, MemoryStore, StoredEvent};
use support::{clock, record_workload};

mod support;

/// A rule-abiding log of `events` events, recorded through a ledger in
/// batches, read back.
fn history(events: usize) -> Vec<StoredEvent> {
    let mut ledger = Ledger::over(MemoryStore::new(clock()));
    record_workload(&mut ledger, 11, events as u64, 100);
    let records: Vec<StoredEvent> = ledger
        .store()
        .read_from(1)
        .collect::<Result<_, _>>()
        .expect("the log reads");
    assert_eq!(records.len(), events);
    records
}

/// What the walk finds over `records` holding at most `limit` entities,
/// and the sequences its progress was told.
fn walk(records: &[StoredEvent], limit: usize) -> (Checked, Vec<u64>) {
    let mut told = Vec::new();
    let checked = check_events_within(
        &mut records.iter().cloned(),
        &mut |seq| told.push(seq),
        &AtomicBool::new(false),
        limit,
    )
    .expect("the walk runs");
    (checked, told)
}

/// Bounds that move the state out after the first event, now and then,
/// and never on these logs.
const BOUNDS: [usize; 3] = [1, 40, 100_000];

/// The walk over `records`, the same under every bound as wholly in memory.
fn same_under_every_bound(records: &[StoredEvent]) -> Checked {
    let whole = walk(records, usize::MAX);
    for limit in BOUNDS {
        assert_eq!(walk(records, limit), whole, "bound {limit}");
    }
    whole.0
}

#[test]
fn a_healthy_log_is_sound_under_every_bound() {
    let records = history(2_500);
    let (findings, redecided) = same_under_every_bound(&records);
    assert!(findings.is_empty(), "{findings:?}");
    assert_eq!(redecided, None);
}

#[test]
fn a_key_redeemed_again_past_the_bound_is_named_as_in_memory() {
    let mut records = history(600);
    let mut again = records
        .iter()
        .find(|r| matches!(r.event, Event::KeyRedeemed(_)))
        .cloned()
        .expect("the workload redeems keys");
    again.seq = records.len() as u64 + 1;
    records.push(again);
    let (findings, redecided) = same_under_every_bound(&records);
    assert!(findings.is_empty(), "{findings:?}");
    let finding = redecided.expect("the second redemption is found");
    assert_eq!((finding.seq, finding.event.as_str()), (601, "KeyRedeemed"));
    assert!(
        finding.problem.contains("the rules refuse it"),
        "{}",
        finding.problem
    );
}

#[test]
fn an_end_date_moved_past_the_bound_is_named_as_in_memory() {
    let mut records = history(1_200);
    let at = records
        .iter()
        .rposition(|r| matches!(r.event, Event::EndDateExtended(_)))
        .expect("the workload extends subscriptions");
    let Event::EndDateExtended(extended) = &mut records[at].event else {
        unreachable!("found above");
    };
    extended.new_end = extended.new_end + chrono::Days::new(1);
    let (findings, redecided) = same_under_every_bound(&records);
    let seq = records[at].seq;
    assert_eq!(
        findings.iter().map(|f| f.seq).collect::<Vec<_>>(),
        vec![seq],
        "R40 re-derives the moved end"
    );
    let finding = redecided.expect("the moved end is found");
    assert_eq!(finding.seq, seq);
}
