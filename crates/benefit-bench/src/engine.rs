//! What every engine's run measures, and the pieces the engines share:
//! timing the two reports, and the replay child's answer.

use std::time::{Duration, Instant};

use benefit_projections::{reports, Docs};
use serde::{Deserialize, Serialize};

use crate::measure::{announce, Latencies};
use crate::workload::Prepared;
use crate::BenchResult;

/// How many times each report is timed; the median is reported.
pub const QUERY_RUNS: usize = 5;

/// One engine's import, single commands and reports, in one process.
pub struct Run {
    /// Time spent importing (batches appended durably, projections up to
    /// date), not counting the workload's generation.
    pub import: Duration,
    /// Each single command, end to end.
    pub commands: Latencies,
    /// One subscription's audit trail; `None` where the engine has none.
    pub audit: Option<Latencies>,
    /// The whole subscriptions report; `None` where the engine has none.
    pub subscriptions_report: Option<Latencies>,
    /// Verify and as-of, through the shell; `None` where the engine has no
    /// shell (raw sled).
    pub passes: Option<Passes>,
}

/// The long passes over the log, through the shell.
pub struct Passes {
    /// `Ledger::verify`: the chain, the journal's entries, R40.
    pub verify: Duration,
    /// The events it walked.
    pub verified_events: u64,
    /// The subscriptions report as of 90% of the head (a fold from the
    /// start of the log to there).
    pub as_of: Duration,
    /// verify's rules' walk alone, its decision state wholly in memory.
    pub rules_walk: Duration,
    /// The same walk with its state moved to a scratch store past
    /// [`crate::ledger::MOVED_OUT_ENTITIES`] entities.
    pub rules_walk_moved_out: Duration,
    /// The entities of the decision state at the head.
    pub entities: usize,
}

/// What the replay child prints, as one line of JSON.
#[derive(Debug, Serialize, Deserialize)]
pub struct ReplayRun {
    /// Wall time of the replay.
    pub seconds: f64,
    /// Events replayed.
    pub events: u64,
    /// The child's peak resident memory, in KiB.
    pub peak_rss_kib: Option<u64>,
}

impl Run {
    /// A run of an engine with reports: times the audit trail of the
    /// workload's busiest subscription and the subscriptions report on
    /// `docs`, [`QUERY_RUNS`] times each. Neither may come back empty.
    pub fn with_reports(
        import: Duration,
        commands: Latencies,
        docs: &dyn Docs,
        prepared: &Prepared,
    ) -> BenchResult<Self> {
        let mut audits = Vec::new();
        let mut reports = Vec::new();
        for _ in 0..QUERY_RUNS {
            let start = Instant::now();
            let rows = reports::audit(docs, Some(&prepared.audit_subscription))?.len();
            audits.push(start.elapsed());
            if rows == 0 {
                return Err("the audit trail of the busiest subscription is empty".into());
            }
            let start = Instant::now();
            let rows =
                reports::subscriptions(docs, reports::ReportDate::On(prepared.report_date))?.len();
            reports.push(start.elapsed());
            if rows == 0 {
                return Err("the subscriptions report is empty".into());
            }
        }
        let (audit, subscriptions_report) = (Latencies::new(audits), Latencies::new(reports));
        announce(
            "audit trail / subscriptions report median (ms)",
            format!(
                "{:.2} / {:.0}",
                audit.median(),
                subscriptions_report.median()
            ),
        );
        Ok(Self {
            import,
            commands,
            audit: Some(audit),
            subscriptions_report: Some(subscriptions_report),
            passes: None,
        })
    }
}
