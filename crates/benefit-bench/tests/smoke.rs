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
