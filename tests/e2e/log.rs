//! `log`'s filters (`--since`/`--until` on the effective date,
//! `--recorded-since`/`--recorded-until` on recorded-at), its effective-date
//! column and field, `--format csv`, and a `--stream` the ledger does not
//! hold.

use serde_json::Value;

use crate::{snapshot, transcript, TempLedger};

fn lines(ledger: &TempLedger, args: &[&str]) -> Vec<Value> {
    let mut all = args.to_vec();
    all.extend_from_slice(&["--format", "jsonl"]);
    let output = ledger.run(&all);
    assert_eq!(output.code, 0, "{all:?}: {}", output.stderr);
    output
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn text(value: &Value, field: &str) -> String {
    value[field].as_str().unwrap_or_default().to_owned()
}

#[test]
fn since_and_until_keep_the_events_effective_in_the_window_both_ends_included() {
    let ledger = TempLedger::demo();
    let all = lines(&ledger, &["log"]);
    for record in &all {
        // The effective date is a field of its own, the event's `on`.
        assert_eq!(record["on"], record["event"]["data"]["on"], "{record}");
    }
    let window = lines(
        &ledger,
        &["log", "--since", "2026-06-01", "--until", "2026-07-01"],
    );
    let expected: Vec<&Value> = all
        .iter()
        .filter(|r| ("2026-06-01"..="2026-07-01").contains(&text(r, "on").as_str()))
        .collect();
    assert!(expected.len() >= 3, "the demo has events in June");
    assert_eq!(window.iter().collect::<Vec<_>>(), expected);
    assert!(window.iter().any(|r| r["on"] == "2026-06-01"));
    assert!(window.iter().any(|r| r["on"] == "2026-07-01"));
    let one_day = lines(
        &ledger,
        &["log", "--since", "2026-07-01", "--until", "2026-07-01"],
    );
    assert!(!one_day.is_empty() && one_day.iter().all(|r| r["on"] == "2026-07-01"));
    let later = lines(&ledger, &["log", "--since", "2026-10-01"]);
    assert!(!later.is_empty() && later.iter().all(|r| text(r, "on").as_str() >= "2026-10-01"));
}

#[test]
fn recorded_since_and_until_keep_the_events_recorded_in_the_window() {
    let ledger = TempLedger::demo();
    let all = lines(&ledger, &["log"]);
    let window = lines(
        &ledger,
        &[
            "log",
            "--recorded-since",
            "2026-11-24T09:00:05Z",
            "--recorded-until",
            "2026-11-24T09:00:06Z",
        ],
    );
    let expected: Vec<&Value> = all
        .iter()
        .filter(|r| {
            let at = text(r, "recorded_at");
            at.as_str() >= "2026-11-24T09:00:05" && at.as_str() <= "2026-11-24T09:00:06.000000Z"
        })
        .collect();
    assert!(!expected.is_empty() && expected.len() < all.len());
    assert_eq!(window.iter().collect::<Vec<_>>(), expected);
    // A date is the start of that day for --recorded-since and its end for
    // --recorded-until: the demo was recorded on 2026-11-24.
    let that_day = [
        "log",
        "--recorded-since",
        "2026-11-24",
        "--recorded-until",
        "2026-11-24",
    ];
    assert_eq!(lines(&ledger, &that_day), all);
    assert!(lines(&ledger, &["log", "--recorded-since", "2026-11-25"]).is_empty());
    assert!(lines(&ledger, &["log", "--recorded-until", "2026-11-23"]).is_empty());
    let with_stream = lines(
        &ledger,
        &[
            "log",
            "--stream",
            "scenario-a",
            "--recorded-since",
            "2026-11-24T09:00:01Z",
        ],
    );
    assert!(with_stream
        .iter()
        .all(|r| r["stream"] == "subscription/scenario-a"));
}

#[test]
fn the_table_has_an_effective_date_column_and_csv_the_jsonl_fields() {
    let ledger = TempLedger::demo();
    let mut text = String::new();
    for args in [
        vec!["log", "--since", "2026-06-01", "--until", "2026-06-30"],
        vec![
            "log",
            "--since",
            "2026-06-01",
            "--until",
            "2026-06-30",
            "--format",
            "csv",
        ],
        vec!["log", "--since", "2030-01-01"],
    ] {
        let output = ledger.run(&args);
        assert_eq!(output.code, 0, "{args:?}: {}", output.stderr);
        let widest = output.stdout.lines().map(|l| l.chars().count()).max();
        if !args.contains(&"csv") {
            assert!(widest <= Some(80), "{args:?} is wider than 80 columns");
        }
        text.push_str(&transcript(&args, &output));
        text.push('\n');
    }
    snapshot("log_since_until", &text);
    let output = ledger.run(&["log", "--format", "csv"]);
    let mut reader = csv::Reader::from_reader(output.stdout.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("a header")
        .iter()
        .map(str::to_owned)
        .collect();
    for field in [
        "seq",
        "recorded_at",
        "on",
        "stream",
        "event",
        "actor",
        "hash",
        "data",
    ] {
        assert!(
            header.iter().any(|h| h == field),
            "{field} missing from {header:?}"
        );
    }
    let rows = reader.records().count();
    assert_eq!(rows, lines(&ledger, &["log"]).len());
}

/// An actor a spreadsheet would run as a formula is written as text.
#[test]
fn log_csv_neutralises_what_a_spreadsheet_would_run() {
    let ledger = TempLedger::new();
    let output = ledger.run(&[
        "--actor",
        "=ann@contoso.com",
        "--role",
        "global-admin",
        "append",
        "user-registered",
        "--user",
        "bob@contoso.com",
        "--on",
        "2026-01-02",
    ]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    let csv = ledger.run(&["log", "--format", "csv"]);
    let mut reader = csv::Reader::from_reader(csv.stdout.as_bytes());
    let actor = reader
        .headers()
        .expect("a header")
        .iter()
        .position(|h| h == "actor");
    let row = reader.records().next().expect("a row").expect("a record");
    assert_eq!(actor.and_then(|i| row.get(i)), Some("'=ann@contoso.com"));
}

#[test]
fn a_stream_the_ledger_does_not_hold_is_exit_2_naming_it() {
    let ledger = TempLedger::with_a_subscription();
    for (stream, says) in [
        ("subscription/nope", "has no stream subscription/nope"),
        ("benefit/nope", "has no stream benefit/nope"),
        (
            "user/nobody@contoso.com",
            "has no stream user/nobody@contoso.com",
        ),
        (
            "nope",
            "has no stream 'nope' (tried subscription/nope, benefit/nope)",
        ),
    ] {
        let output = ledger.run(&["log", "--stream", stream]);
        assert_eq!(output.code, 2, "{stream}: {}", output.stderr);
        assert!(output.stderr.contains(says), "{stream}: {}", output.stderr);
        assert!(output.stdout.is_empty());
    }
    // A stream that exists but has no event in the window is an empty log.
    let output = ledger.run(&["log", "--stream", "s1", "--since", "2027-01-01"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    assert!(output.stdout.contains("(none)"), "{}", output.stdout);
}

#[test]
fn a_window_that_ends_before_it_starts_is_exit_2() {
    let ledger = TempLedger::with_a_subscription();
    for (args, says) in [
        (
            vec!["log", "--since", "2026-02-01", "--until", "2026-01-01"],
            "--since 2026-02-01 is after --until 2026-01-01",
        ),
        (
            vec![
                "log",
                "--recorded-since",
                "2026-11-25",
                "--recorded-until",
                "2026-11-24",
            ],
            "--recorded-since 2026-11-25T00:00:00Z is after --recorded-until",
        ),
        (
            vec!["log", "--recorded-until", "soon"],
            "'soon' is neither an RFC 3339 instant",
        ),
        (vec!["log", "--since", "2026-02-30"], "--since"),
    ] {
        let output = ledger.run(&args);
        assert_eq!(output.code, 2, "{args:?}: {}", output.stderr);
        assert!(output.stderr.contains(says), "{args:?}: {}", output.stderr);
    }
}
