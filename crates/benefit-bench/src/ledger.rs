//! Engine 1, the benefit ledger: the domain's `decide`, [`SledStore`] and
//! the persisted projections caught up after every append, through the
//! crates' public APIs, as the application shell drives them.

use std::path::Path;
use std::time::{Duration, Instant};

use benefit_domain::{decide, evolve};
use benefit_projections::{reports, Persisted, Projections};
use benefit_store::{AppendRequest, EventStore, ProjectionStore, SledStore, SystemClock};
use uuid::Uuid;

use crate::engine::{time_queries, ReplayRun, Run};
use crate::measure::{peak_rss_kib, Latencies};
use crate::workload::Prepared;
use crate::BenchResult;

/// Imports the workload in batches, each appended (durably) and projected,
/// then decides and records the single commands one by one, then times
/// the two reports.
pub fn run(dir: &Path, prepared: &Prepared) -> BenchResult<Run> {
    let store = SledStore::open(dir, SystemClock)?;
    let projections = Projections::new(&store);
    let mut import = Duration::ZERO;
    let mut head = 0;
    for (number, batch) in prepared.batches.iter().enumerate() {
        let request = AppendRequest {
            command_id: Uuid::new_v5(&Uuid::NAMESPACE_OID, &(number as u64).to_be_bytes()),
            actor: prepared.actor.clone(),
            expected: head,
            events: batch.clone(),
        };
        let start = Instant::now();
        head = store.append(request)?.last;
        projections.catch_up()?;
        import += start.elapsed();
    }

    let mut state = prepared.state.clone();
    let mut samples = Vec::with_capacity(prepared.commands.len());
    for (number, (command, _)) in prepared.commands.iter().enumerate() {
        let command = command.clone();
        let command_id = Uuid::new_v5(&Uuid::NAMESPACE_URL, &(number as u64).to_be_bytes());
        let start = Instant::now();
        let events = decide(&state, command)?;
        let request = AppendRequest {
            command_id,
            actor: prepared.actor.clone(),
            expected: head,
            events,
        };
        let appended = store.append(request.clone())?;
        projections.catch_up()?;
        samples.push(start.elapsed());
        head = appended.last;
        for event in &request.events {
            state = evolve(state, event);
        }
    }

    let docs = Persisted(&store);
    let (audit, report) = time_queries(
        |id| Ok(reports::audit(&docs, Some(id))?.len()),
        |on| Ok(reports::subscriptions(&docs, on)?.len()),
        prepared,
    )?;
    Ok(Run {
        import,
        commands: Latencies::new(samples),
        audit,
        subscriptions_report: report,
    })
}

/// Rebuilds every projection from the log, as `rebuild` does after a
/// reset: run in a process of its own, so its peak memory is its own.
pub fn replay(dir: &Path) -> BenchResult<ReplayRun> {
    let store = SledStore::open_existing(dir, SystemClock)?;
    let start = Instant::now();
    store.projection_reset()?;
    let events = Projections::new(&store).catch_up()?;
    Ok(ReplayRun {
        seconds: start.elapsed().as_secs_f64(),
        events,
        peak_rss_kib: peak_rss_kib(),
    })
}
