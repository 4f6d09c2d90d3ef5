//! What every engine's run measures, and the pieces the engines share:
//! timing the two reports, and the replay child's answer.

use std::time::{Duration, Instant};

use benefit_events::{Date, SubscriptionId};
use serde::{Deserialize, Serialize};

use crate::measure::Latencies;
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

/// Times the audit trail of the workload's busiest subscription and the
/// subscriptions report, [`QUERY_RUNS`] times each. Each query answers how
/// many rows it found, which must not be zero.
pub fn time_queries(
    mut audit: impl FnMut(&SubscriptionId) -> BenchResult<usize>,
    mut report: impl FnMut(Date) -> BenchResult<usize>,
    prepared: &Prepared,
) -> BenchResult<(Option<Latencies>, Option<Latencies>)> {
    let mut audits = Vec::new();
    let mut reports = Vec::new();
    for _ in 0..QUERY_RUNS {
        let start = Instant::now();
        let rows = audit(&prepared.audit_subscription)?;
        audits.push(start.elapsed());
        if rows == 0 {
            return Err("the audit trail of the busiest subscription is empty".into());
        }
        let start = Instant::now();
        let rows = report(prepared.report_date)?;
        reports.push(start.elapsed());
        if rows == 0 {
            return Err("the subscriptions report is empty".into());
        }
    }
    Ok((Some(Latencies::new(audits)), Some(Latencies::new(reports))))
}
