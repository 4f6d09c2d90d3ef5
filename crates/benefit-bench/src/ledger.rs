//! Engine 1, the benefit ledger, through its application shell
//! ([`benefit_app::Ledger`]): every command decided against the state,
//! appended atomically and durably to [`SledStore`], and the persisted
//! projections caught up, exactly as the CLI records. [`run_over`] and
//! [`replay_over`] are that path over any backend of the store's traits:
//! the SQLite peer runs through them too.

use std::path::Path;
use std::time::{Duration, Instant};

use benefit_app::{Ledger, RecordOptions, View};
use benefit_projections::{reports, Persisted, Projections};
use benefit_store::{EventStore, ProjectionStore, SledStore, SystemClock};
use uuid::Uuid;

use crate::engine::{Passes, ReplayRun, Run};
use crate::measure::{announce, peak_rss_kib, rate, Latencies};
use crate::workload::Prepared;
use crate::BenchResult;

/// Imports the workload through the shell over [`SledStore`]: see
/// [`run_over`].
pub fn run(dir: &Path, prepared: &Prepared) -> BenchResult<Run> {
    run_over(&mut Ledger::create_or_open(dir, SystemClock)?, prepared)
}

/// Imports the workload's commands in batches (each decided, appended
/// durably and projected), then records the single commands one by one,
/// then times the two reports: the same for every backend of the store's
/// traits, so that engines are compared through one code path.
pub fn run_over<S>(ledger: &mut Ledger<S>, prepared: &Prepared) -> BenchResult<Run>
where
    S: EventStore + ProjectionStore + Sync,
{
    let mut import = Duration::ZERO;
    for (number, batch) in prepared.batches().enumerate() {
        let options = RecordOptions {
            command_id: Some(Uuid::new_v5(
                &Uuid::NAMESPACE_OID,
                &(number as u64).to_be_bytes(),
            )),
            ..RecordOptions::default()
        };
        let commands = batch.into_iter().map(|(command, _)| command).collect();
        let start = Instant::now();
        ledger.record_with(commands, options)?;
        import += start.elapsed();
    }
    announce(
        "import (events/s)",
        format!("{:.0}", rate(prepared.events, import)),
    );

    let mut samples = Vec::with_capacity(prepared.commands.len());
    for (command, _) in &prepared.commands {
        let command = command.clone();
        let start = Instant::now();
        ledger.record(vec![command])?;
        samples.push(start.elapsed());
    }
    let latencies = Latencies::new(samples);
    announce(
        "single command median / p99 (ms)",
        format!(
            "{:.2} / {:.2}",
            latencies.median(),
            latencies.percentile(99.0)
        ),
    );

    let docs = Persisted(ledger.store());
    let mut run = Run::with_reports(import, latencies, &docs, prepared)?;
    run.passes = Some(passes(ledger, prepared)?);
    Ok(run)
}

/// Times `verify` (the chain, the journal's entries and R40) and the
/// subscriptions report as of 90% of the head, through the shell.
fn passes<S>(ledger: &Ledger<S>, prepared: &Prepared) -> BenchResult<Passes>
where
    S: EventStore + ProjectionStore + Sync,
{
    let start = Instant::now();
    let verified = ledger.verify(None, &mut |_, _| {})?;
    let verify = start.elapsed();
    announce(
        "verify (events/s)",
        format!("{:.0}", rate(verified.report.events, verify)),
    );
    if !verified.findings.is_empty() {
        return Err("verify found outcomes that do not re-derive".into());
    }
    let at = verified.report.head.seq * 9 / 10;
    let start = Instant::now();
    let rows = ledger.report(View::AsOfSequence(at), |docs| {
        reports::subscriptions(docs, reports::ReportDate::On(prepared.report_date))
    })?;
    let as_of = start.elapsed();
    announce(
        "as of 90% (ms)",
        format!("{:.0}", as_of.as_secs_f64() * 1e3),
    );
    if rows.is_empty() {
        return Err("the subscriptions report as of 90% of the head is empty".into());
    }
    let rules_walk = time_rules_walk(ledger.store(), usize::MAX)?;
    let rules_walk_moved_out = time_rules_walk(ledger.store(), MOVED_OUT_ENTITIES)?;
    Ok(Passes {
        verify,
        verified_events: verified.report.events,
        as_of,
        rules_walk,
        rules_walk_moved_out,
        entities: benefit_app::fold_state(ledger.store())?.state.len(),
    })
}

/// The bound on entities in memory under which the bench times verify's
/// rules' walk with its state moved out (against
/// [`benefit_app::RULES_WALK_ENTITIES_IN_MEMORY`] in `verify`): low enough
/// that a 1 000 000-event ledger passes it early.
pub const MOVED_OUT_ENTITIES: usize = 100_000;

/// Times verify's rules' walk over the whole log, holding at most `limit`
/// entities in memory; it must find nothing.
fn time_rules_walk(store: &dyn EventStore, limit: usize) -> BenchResult<Duration> {
    let mut failed = None;
    let mut events = store
        .read_from(1)
        .map_while(|record| record.map_err(|e| failed = Some(e)).ok());
    let stop = std::sync::atomic::AtomicBool::new(false);
    let start = Instant::now();
    let (findings, redecided) =
        benefit_app::check_events_within(&mut events, &mut |_| {}, &stop, limit)?;
    let took = start.elapsed();
    let bound = match limit {
        usize::MAX => "every entity".to_owned(),
        limit => format!("at most {limit} entities"),
    };
    announce(
        &format!("rules walk, {bound} in memory (s)"),
        format!("{:.1}", took.as_secs_f64()),
    );
    drop(events);
    if let Some(e) = failed {
        return Err(e.into());
    }
    if !findings.is_empty() || redecided.is_some() {
        return Err("verify's rules' walk found a problem in the workload".into());
    }
    Ok(took)
}

/// Rebuilds every projection of the sled ledger in `dir`: see
/// [`replay_over`].
pub fn replay(dir: &Path) -> BenchResult<ReplayRun> {
    replay_over(&SledStore::open_existing(dir, SystemClock)?)
}

/// Rebuilds every projection from the log and puts them in place
/// (`Projections::replay`, what `rebuild --repair` writes): run in a
/// process of its own, so its peak memory is its own. The same for every
/// backend.
pub fn replay_over<S>(store: &S) -> BenchResult<ReplayRun>
where
    S: EventStore + ProjectionStore,
{
    let start = Instant::now();
    let events = Projections::new(store).replay()?;
    Ok(ReplayRun {
        seconds: start.elapsed().as_secs_f64(),
        events,
        peak_rss_kib: peak_rss_kib(),
    })
}
