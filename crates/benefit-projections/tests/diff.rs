//! `diff` against the log it compares: on a generated ledger, the changes
//! between two points are exactly the events between them — every key use,
//! credit change and key, none missing and none extra — and the values
//! before and after are the reports' at each point.

use std::collections::BTreeSet;

use benefit_domain::authorize;
use benefit_events::Date;
use benefit_projections::diff::{diff, LedgerDiff, Snapshot};
use benefit_projections::on_date::{ReportDate, SubscriptionStatus};
use benefit_projections::{reports, Projections};
use benefit_store::conformance::positioned;
use benefit_store::{AppendRequest, AsOf, EventStore, MemoryStore, SystemClock};
use benefit_workload::Workload;
use uuid::Uuid;

const EVENTS: usize = 600;

fn on() -> Date {
    benefit_events::parse_date("2026-08-01").expect("a date")
}

fn ledger() -> MemoryStore {
    let store = MemoryStore::new(SystemClock);
    let workload = Workload::new(7);
    let actor = authorize(Some(workload.actor())).expect("the workload's actor may write");
    let events: Vec<_> = workload.take(EVENTS).collect();
    store
        .append(positioned(
            &store,
            AppendRequest::by(&actor, Uuid::nil(), 0, events),
        ))
        .expect("append");
    store
}

fn snapshot(store: &MemoryStore, seq: u64) -> Snapshot {
    let docs = Projections::new(store)
        .as_of(AsOf::Sequence(seq))
        .expect("as of");
    Snapshot::read(&docs, seq, on()).expect("snapshot")
}

fn between(store: &MemoryStore, from: u64, to: u64) -> LedgerDiff {
    diff(&snapshot(store, from), &snapshot(store, to))
}

/// The sequences of events of the given types in `(from, to]`.
fn seqs_of(store: &MemoryStore, from: u64, to: u64, types: &[&str]) -> BTreeSet<u64> {
    store
        .read_as_of(AsOf::Sequence(to))
        .map(|r| r.expect("a record"))
        .filter(|r| r.seq > from && types.contains(&r.event.event_type().as_str()))
        .map(|r| r.seq)
        .collect()
}

#[test]
fn a_diff_lists_exactly_the_events_between_its_points() {
    let store = ledger();
    let head = store.head().expect("head").seq;
    assert_eq!(head, EVENTS as u64);
    for (from, to) in [(0, 150), (150, 400), (399, 400), (400, head), (0, head)] {
        let found = between(&store, from, to);
        assert_eq!((found.from, found.to), (from, to));
        let key_uses: BTreeSet<u64> = found
            .subscriptions
            .iter()
            .flat_map(|s| s.events.iter().map(|e| e.seq))
            .collect();
        let key_events = ["KeyRedeemed", "LicensesAdded", "EndDateExtended"];
        assert_eq!(
            key_uses,
            seqs_of(&store, from, to, &key_events),
            "{from}..{to}"
        );
        let keys: BTreeSet<u64> = found.keys.iter().map(|k| k.used.seq).collect();
        assert_eq!(keys, key_uses, "every key use uses one key, {from}..{to}");
        let credit_events = ["CreditAssigned", "CreditUnassigned", "CreditTransferred"];
        let credits: BTreeSet<u64> = found
            .credits
            .iter()
            .flat_map(|c| c.events.iter().map(|e| e.seq))
            .collect();
        assert_eq!(
            credits,
            seqs_of(&store, from, to, &credit_events),
            "{from}..{to}"
        );
        if (from, to) == (0, head) {
            // The check above would pass on a history without them.
            assert!(!key_uses.is_empty() && !credits.is_empty());
        }
    }
}

#[test]
fn the_values_before_and_after_are_the_reports_at_each_point() {
    let store = ledger();
    let (from, to) = (200, 500);
    let found = between(&store, from, to);
    assert!(
        !found.subscriptions.is_empty(),
        "the workload changes subscriptions"
    );
    let rows = |seq: u64| {
        let docs = Projections::new(&store)
            .as_of(AsOf::Sequence(seq))
            .expect("as of");
        reports::subscriptions(&docs, ReportDate::Latest { today: on() }).expect("subscriptions")
    };
    let (before, after) = (rows(from), rows(to));
    for change in &found.subscriptions {
        let now = after
            .iter()
            .find(|r| r.subscription == change.subscription)
            .expect("a changed subscription is in the later report");
        assert_eq!(
            (change.end_after, change.seats_after, change.status_after),
            (now.end, now.seats, now.status).into_started()
        );
        let then = before
            .iter()
            .find(|r| r.subscription == change.subscription);
        let then_started = then.map(|r| (r.end, r.seats, r.status).into_started());
        assert_eq!(change.end_before, then_started.map(|t| t.0));
        assert_eq!(change.seats_before, then.map(|r| r.seats));
        assert_eq!(change.status_before, then_started.map(|t| t.2));
        assert_eq!(
            change.change,
            if then.is_some() { "changed" } else { "added" }
        );
    }
}

#[test]
fn a_point_against_itself_differs_in_nothing_and_the_empty_ledger_adds_everything() {
    let store = ledger();
    assert!(between(&store, 300, 300).is_empty());
    let everything = between(&store, 0, 300);
    assert!(everything.subscriptions.iter().all(|s| s.change == "added"));
    assert!(everything
        .credits
        .iter()
        .all(|c| c.holders_before.is_empty()));
    let docs = Projections::new(&store)
        .as_of(AsOf::Sequence(300))
        .expect("as of");
    assert_eq!(
        everything.subscriptions.len(),
        reports::subscriptions(&docs, ReportDate::Latest { today: on() })
            .expect("subscriptions")
            .len()
    );
    // The other way round lists nothing: a log only grows.
    assert!(between(&store, 300, 0).is_empty());
}

/// A row of the latest state: its subscription has started, so it has an
/// end and an R20 status.
trait Started {
    fn into_started(self) -> (Date, u32, benefit_events::Status);
}

impl Started for (Option<Date>, u32, SubscriptionStatus) {
    fn into_started(self) -> (Date, u32, benefit_events::Status) {
        match self {
            (Some(end), seats, SubscriptionStatus::Is(status)) => (end, seats, status),
            other => panic!("the latest state holds only started subscriptions: {other:?}"),
        }
    }
}
