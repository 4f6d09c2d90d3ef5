//! What the application's test crates that fill a ledger share: a fixed
//! clock, and the bench's workload recorded through the shell in batches.

use benefit_app::Ledger;
use benefit_store::{EventStore, FixedClock, ProjectionStore};
use benefit_workload::Workload;
use chrono::{TimeZone, Utc};

/// 2026-11-24 09:00 UTC, whenever the test runs.
pub fn clock() -> FixedClock {
    FixedClock(
        Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0)
            .single()
            .expect("valid"),
    )
}

/// Records the first `events` commands of the workload seeded with `seed`
/// into `ledger`, `batch` commands at a time. Each of them is accepted and
/// is one event.
pub fn record_workload<S: EventStore + ProjectionStore + Sync>(
    ledger: &mut Ledger<S>,
    seed: u64,
    events: u64,
    batch: u64,
) {
    record_from(ledger, &mut Workload::new(seed), events, batch);
}

/// Records the next `events` commands of `workload` into `ledger`, `batch`
/// commands at a time: see [`record_workload`].
pub fn record_from<S: EventStore + ProjectionStore + Sync>(
    ledger: &mut Ledger<S>,
    workload: &mut Workload,
    events: u64,
    batch: u64,
) {
    let mut left = events;
    while left > 0 {
        let size = left.min(batch);
        let commands = (0..size).map(|_| workload.next_command().0).collect();
        ledger
            .record(commands)
            .expect("the workload's commands are accepted");
        left -= size;
    }
}
