//! The bench cannot rot silently: a tiny run of the real binary, through
//! every engine, must finish and give a figure for everything it measures.

use std::process::Command;

#[test]
fn a_run_of_2000_events_gives_every_figure_for_every_engine() {
    let output = Command::new(env!("CARGO_BIN_EXE_benefit-bench"))
        .args(["--events", "2000", "--commands", "5", "--json"])
        .output()
        .expect("the bench runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(report["events"], 2000);
    for engine in ["ledger", "sqlite", "raw_sled", "postgres"] {
        for figure in [
            "import_events_per_s",
            "command_median_ms",
            "command_p99_ms",
            "replay_events_per_s",
            "disk_bytes_per_event",
        ] {
            let value = report[engine][figure].as_f64().unwrap_or(0.0);
            assert!(
                value > 0.0,
                "{engine}.{figure} = {}",
                report[engine][figure]
            );
        }
    }
    for engine in ["ledger", "sqlite", "postgres"] {
        for figure in ["audit_ms", "subscriptions_report_ms"] {
            assert!(
                report[engine][figure].as_f64().is_some(),
                "{engine}.{figure}"
            );
        }
    }
    assert!(report["ledger_over_sqlite"]["import_events_per_s"]
        .as_f64()
        .is_some());
    assert!(report["postgres_over_ledger"]["replay_events_per_s"]
        .as_f64()
        .is_some());
}

/// `--engine` runs the engines named and no other: the others have no
/// figures and no ratios, and the table shows no CLI lines for them.
#[test]
fn a_run_of_one_engine_gives_its_figures_and_no_others() {
    let run = |json: bool| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_benefit-bench"));
        command.args([
            "--events",
            "1500",
            "--commands",
            "3",
            "--engine",
            "raw-sled",
        ]);
        if json {
            command.arg("--json");
        }
        let output = command.output().expect("the bench runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("UTF-8")
    };
    let report: serde_json::Value = serde_json::from_str(&run(true)).expect("JSON");
    assert!(
        report["raw_sled"]["replay_events_per_s"]
            .as_f64()
            .unwrap_or(0.0)
            > 0.0
    );
    for engine in ["ledger", "sqlite", "postgres", "cli", "cli_postgres"] {
        assert!(report[engine].is_null(), "{engine}: {}", report[engine]);
    }
    assert_eq!(report["ledger_over_raw_sled"], serde_json::json!({}));
    let table = run(false);
    assert!(table.contains("| import (events/s) | - | - | "), "{table}");
    assert!(!table.contains("CLI process"), "{table}");
}
