//! The figures of a run: per engine, the ratios of the ledger to its two
//! peers and of PostgreSQL to the ledger, the targets of issue 6, and the two outputs (a table for people,
//! JSON for scripts) made from the same rows.

use std::collections::BTreeMap;

use serde::Serialize;

/// One engine's figures. `None` where the engine has no such thing (raw
/// sled has no reports) or the platform does not say (peak memory).
#[derive(Clone, Debug, Default, Serialize)]
pub struct EngineFigures {
    /// Import in batches of 10 000, each durable: events per second.
    pub import_events_per_s: f64,
    /// A single command end to end (decide, append, projections, flush).
    pub command_median_ms: f64,
    /// Its 99th percentile.
    pub command_p99_ms: f64,
    /// Rebuilding every projection from the log: events per second.
    pub replay_events_per_s: f64,
    /// Peak resident memory of the replay's own process.
    pub replay_peak_rss_mib: Option<f64>,
    /// One subscription's audit trail (the busiest), median.
    pub audit_ms: Option<f64>,
    /// The whole subscriptions report, median.
    pub subscriptions_report_ms: Option<f64>,
    /// The engine directory's files after the run, per event.
    pub disk_bytes_per_event: f64,
    /// `verify` through the shell: events per second.
    pub verify_events_per_s: Option<f64>,
    /// The subscriptions report as of 90% of the head, through the shell.
    pub as_of_ms: Option<f64>,
    /// verify's rules' walk alone, its state in memory: events per second.
    pub rules_walk_events_per_s: Option<f64>,
    /// The same walk, its state moved out past `MOVED_OUT_ENTITIES`.
    pub rules_walk_moved_out_events_per_s: Option<f64>,
    /// The entities of the decision state at the head.
    pub state_entities: Option<f64>,
}

/// The CLI process, start to exit, on the ledger of the run.
#[derive(Clone, Debug, Serialize)]
pub struct CliFigures {
    /// `benefit-ledger append key-redeemed ...`, median.
    pub append_median_ms: f64,
    /// `benefit-ledger report audit --subscription X`, median.
    pub audit_median_ms: f64,
    /// The append through the ledger's owner (`serve`), median; `None` on
    /// PostgreSQL, which has no owner process.
    pub served_append_median_ms: Option<f64>,
    /// The audit report through the ledger's owner, median.
    pub served_audit_median_ms: Option<f64>,
    /// `benefit-ledger verify`, once.
    pub verify_ms: f64,
    /// `benefit-ledger report subscriptions --as-of-seq` 90% of the head,
    /// once.
    pub as_of_ms: f64,
    /// `benefit-ledger rebuild` (the check), once.
    pub rebuild_ms: f64,
    /// Runs of each.
    pub runs: usize,
}

/// The machine the run was on.
#[derive(Clone, Debug, Serialize)]
pub struct Machine {
    /// The CPU model, from `/proc/cpuinfo`.
    pub cpu: String,
    /// Logical cores available to the process.
    pub cores: usize,
}

/// Everything a run measured.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Events in the ledger before the single commands.
    pub events: u64,
    /// Single commands timed per engine.
    pub commands: usize,
    /// The workload's seed.
    pub seed: u64,
    /// Where it ran.
    pub machine: Machine,
    /// benefit-ledger: domain, SledStore, persisted projections. `None`
    /// (here and for each engine) when the run did not ask for it.
    pub ledger: Option<EngineFigures>,
    /// The SQLite alternative.
    pub sqlite: Option<EngineFigures>,
    /// Raw sled, the same bytes.
    pub raw_sled: Option<EngineFigures>,
    /// The ledger on PostgreSQL (issue 12), through the same shell.
    pub postgres: Option<EngineFigures>,
    /// The CLI process on the sled ledger; `None` when its binary was not
    /// found.
    pub cli: Option<CliFigures>,
    /// The CLI process on the PostgreSQL ledger.
    pub cli_postgres: Option<CliFigures>,
    /// `PostgreSQL ÷ ledger`, by figure (issue 12's targets: import and
    /// replay at least 0.5x).
    pub postgres_over_ledger: BTreeMap<&'static str, f64>,
    /// `ledger ÷ SQLite`, by figure.
    pub ledger_over_sqlite: BTreeMap<&'static str, f64>,
    /// `ledger ÷ raw sled`, by figure.
    pub ledger_over_raw_sled: BTreeMap<&'static str, f64>,
}

/// A row of the table: a figure of each engine, and its target.
struct Row {
    name: &'static str,
    label: &'static str,
    get: fn(&EngineFigures) -> Option<f64>,
    target: &'static str,
}

const ROWS: [Row; 13] = [
    Row {
        name: "import_events_per_s",
        label: "import (events/s)",
        get: |f| Some(f.import_events_per_s),
        target: ">= 250 000/s, >= 2x SQLite, >= 0.5x raw sled",
    },
    Row {
        name: "command_median_ms",
        label: "single command median (ms)",
        get: |f| Some(f.command_median_ms),
        target: "<= 0.5 ms",
    },
    Row {
        name: "command_p99_ms",
        label: "single command p99 (ms)",
        get: |f| Some(f.command_p99_ms),
        target: "<= 5 ms",
    },
    Row {
        name: "replay_events_per_s",
        label: "replay (events/s)",
        get: |f| Some(f.replay_events_per_s),
        target: ">= 1 000 000/s, >= 3x SQLite",
    },
    Row {
        name: "replay_peak_rss_mib",
        label: "replay peak memory (MiB)",
        get: |f| f.replay_peak_rss_mib,
        target: "<= 100 MiB",
    },
    Row {
        name: "verify_events_per_s",
        label: "verify (events/s)",
        get: |f| f.verify_events_per_s,
        target: ">= 1 000 000/s",
    },
    Row {
        name: "rules_walk_events_per_s",
        label: "verify's rules walk, state in memory (events/s)",
        get: |f| f.rules_walk_events_per_s,
        target: "",
    },
    Row {
        name: "rules_walk_moved_out_events_per_s",
        label: "the same, state moved out past 100 000 entities (events/s)",
        get: |f| f.rules_walk_moved_out_events_per_s,
        target: "",
    },
    Row {
        name: "state_entities",
        label: "decision state entities at the head",
        get: |f| f.state_entities,
        target: "",
    },
    Row {
        name: "as_of_ms",
        label: "subscriptions as of 90% of the head (ms)",
        get: |f| f.as_of_ms,
        target: "",
    },
    Row {
        name: "audit_ms",
        label: "audit trail, one subscription (ms)",
        get: |f| f.audit_ms,
        target: "",
    },
    Row {
        name: "subscriptions_report_ms",
        label: "subscriptions report (ms)",
        get: |f| f.subscriptions_report_ms,
        target: "<= 0.5x SQLite",
    },
    Row {
        name: "disk_bytes_per_event",
        label: "disk (bytes/event)",
        get: |f| Some(f.disk_bytes_per_event),
        target: "<= 1.0x SQLite",
    },
];

impl Report {
    /// A report with the ratios computed from the engines' figures.
    pub fn new(
        events: u64,
        commands: usize,
        seed: u64,
        engines: [Option<EngineFigures>; 4],
        [cli, cli_postgres]: [Option<CliFigures>; 2],
    ) -> Self {
        let [ledger, sqlite, raw_sled, postgres] = engines;
        let ratios_of = |ours: &Option<EngineFigures>, other: &Option<EngineFigures>| {
            let (Some(ours), Some(other)) = (ours, other) else {
                return BTreeMap::new();
            };
            ROWS.iter()
                .filter_map(|row| Some((row.name, ratio((row.get)(ours)?, (row.get)(other)?)?)))
                .collect()
        };
        let ratios = |other: &Option<EngineFigures>| ratios_of(&ledger, other);
        Self {
            events,
            commands,
            seed,
            machine: Machine::here(),
            ledger_over_sqlite: ratios(&sqlite),
            ledger_over_raw_sled: ratios(&raw_sled),
            postgres_over_ledger: ratios_of(&postgres, &ledger),
            ledger,
            sqlite,
            raw_sled,
            postgres,
            cli,
            cli_postgres,
        }
    }

    /// The table, in Markdown, so it reads in a terminal and pastes into
    /// `docs/performance.md` as it is.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{} events, {} single commands, seed {}, {} ({} cores)\n\n",
            self.events, self.commands, self.seed, self.machine.cpu, self.machine.cores
        );
        out.push_str(
            "| figure | ledger | SQLite | raw sled | PostgreSQL | ledger/SQLite | ledger/raw sled | PostgreSQL/ledger | target |\n",
        );
        out.push_str("|---|--:|--:|--:|--:|--:|--:|--:|---|\n");
        for row in &ROWS {
            let cell = |f: &Option<EngineFigures>| {
                f.as_ref().and_then(row.get).map_or("-".to_owned(), number)
            };
            let ratio_cell = |r: &BTreeMap<&str, f64>| {
                r.get(row.name)
                    .map_or("-".to_owned(), |x| format!("{x:.2}x"))
            };
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                row.label,
                cell(&self.ledger),
                cell(&self.sqlite),
                cell(&self.raw_sled),
                cell(&self.postgres),
                ratio_cell(&self.ledger_over_sqlite),
                ratio_cell(&self.ledger_over_raw_sled),
                ratio_cell(&self.postgres_over_ledger),
                row.target,
            ));
        }
        let cli = [
            ("sled", &self.ledger, &self.cli),
            ("PostgreSQL", &self.postgres, &self.cli_postgres),
        ];
        for (backend, _, cli) in cli.iter().filter(|(_, ran, _)| ran.is_some()) {
            out.push_str(&cli_lines(backend, cli.as_ref()));
        }
        out
    }
}

/// The CLI figures of one backend, as two lines of the table's footer.
fn cli_lines(backend: &str, cli: Option<&CliFigures>) -> String {
    match cli {
            Some(cli) => format!(
                "\nCLI process on {backend}, start to exit, median of {}: append {} ms, report audit {} ms (target <= 50 ms){}\nCLI once on {backend}: verify {} ms, report subscriptions --as-of-seq 90% {} ms (target <= 2 s at 1M), rebuild (check) {} ms\n",
                cli.runs,
                number(cli.append_median_ms),
                number(cli.audit_median_ms),
                match (cli.served_append_median_ms, cli.served_audit_median_ms) {
                    (Some(append), Some(audit)) => format!(
                        "\nCLI process on {backend} through its owner (`serve`), median of {}: append {} ms, report audit {} ms (target <= 50 ms)",
                        cli.runs,
                        number(append),
                        number(audit)
                    ),
                    _ => String::new(),
                },
                number(cli.verify_ms),
                number(cli.as_of_ms),
                number(cli.rebuild_ms)
            ),
            None => format!("\nCLI process on {backend}: not measured (no release build of benefit-ledger beside this binary)\n"),
        }
}

impl Machine {
    fn here() -> Self {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, model)| model.trim().to_owned())
            })
            .unwrap_or_else(|| "unknown CPU".to_owned());
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self { cpu, cores }
    }
}

fn ratio(ours: f64, other: f64) -> Option<f64> {
    (other > 0.0).then(|| ours / other)
}

/// Three significant figures or whole numbers, whichever reads better.
fn number(x: f64) -> String {
    if x >= 1000.0 {
        let whole = x.round() as u64;
        let digits = whole.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(' ');
            }
            out.push(c);
        }
        out
    } else if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_group_thousands_and_keep_three_figures() {
        assert_eq!(number(1_234_567.4), "1 234 567");
        assert_eq!(number(123.4), "123");
        assert_eq!(number(12.34), "12.3");
        assert_eq!(number(1.234), "1.23");
    }
}
