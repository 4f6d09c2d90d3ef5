//! `diff --from SEQ|TIME --to SEQ|TIME`: what changed between two points of
//! the demo's history, in every format (snapshots), how a TIME becomes a
//! point, and the usage errors.

use serde_json::Value;

use crate::{snapshot, transcript, TempLedger};

fn json(ledger: &TempLedger, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend_from_slice(&["--format", "json"]);
    let output = ledger.run(&all);
    assert_eq!(output.code, 0, "{all:?}: {}", output.stderr);
    serde_json::from_str(&output.stdout).expect("valid JSON")
}

fn count(value: &Value, field: &str) -> usize {
    value[field].as_array().map_or(0, Vec::len)
}

/// Between sequences 38 and 44 of the demo, on 2027-02-05: three
/// subscriptions an expired status brought back, a transfer and an
/// assignment of credits, three keys used.
#[test]
fn diff_in_every_format() {
    let ledger = TempLedger::demo();
    let args = ["diff", "--from", "38", "--to", "44", "--on", "2027-02-05"];
    let mut text = String::new();
    for format in ["table", "json", "csv"] {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--format", format]);
        let output = ledger.run(&all);
        assert_eq!(output.code, 0, "{all:?}: {}", output.stderr);
        match format {
            "json" => {
                let found: Value = serde_json::from_str(&output.stdout).expect("valid JSON");
                assert_eq!(
                    (found["from"].as_u64(), found["to"].as_u64()),
                    (Some(38), Some(44))
                );
                assert_eq!(count(&found, "subscriptions"), 3);
                assert_eq!(count(&found, "credits"), 2);
                assert_eq!(count(&found, "keys"), 3);
                let sales = &found["subscriptions"][0];
                assert_eq!(sales["subscription"], "contoso-e3-sales");
                assert_eq!(
                    (&sales["seats_before"], &sales["seats_after"]),
                    (&Value::from(25), &Value::from(35))
                );
                assert_eq!(
                    (&sales["status_before"], &sales["status_after"]),
                    (&Value::from("expired"), &Value::from("active"))
                );
                assert_eq!(sales["events"][0]["event"], "LicensesAdded");
                assert_eq!(sales["events"][0]["seq"], 39);
            }
            "csv" => {
                let mut reader = csv::Reader::from_reader(output.stdout.as_bytes());
                let header = reader.headers().expect("a header").clone();
                let rows: Vec<csv::StringRecord> =
                    reader.records().map(|r| r.expect("a row")).collect();
                assert_eq!(rows.len(), 3 + 2 + 3);
                assert!(rows.iter().all(|r| r.len() == header.len()));
                let kinds: Vec<&str> = rows.iter().filter_map(|r| r.get(0)).collect();
                assert_eq!(
                    kinds[..4],
                    ["subscription", "subscription", "subscription", "credit"]
                );
            }
            _ => {
                let widest = output.stdout.lines().map(|l| l.chars().count()).max();
                assert!(widest <= Some(80), "the table is wider than 80 columns");
                assert!(output.stdout.contains("fingerprint "));
            }
        }
        text.push_str(&transcript(&all, &output));
        text.push('\n');
    }
    snapshot("diff_from_38_to_44_on_2027-02-05", &text);
}

/// From the empty ledger, every subscription is added and every used key
/// listed; a TIME before the first event is the empty ledger; `--to`
/// defaults to the head.
#[test]
fn from_the_empty_ledger_everything_is_added() {
    let ledger = TempLedger::demo();
    let everything = json(&ledger, &["diff", "--from", "0", "--on", "2026-08-01"]);
    let subscriptions = json(&ledger, &["report", "subscriptions", "--on", "2026-08-01"]);
    assert_eq!(
        count(&everything, "subscriptions"),
        subscriptions.as_array().map_or(0, Vec::len)
    );
    assert!(everything["subscriptions"].as_array().is_some_and(|s| s
        .iter()
        .all(|s| s["change"] == "added" && s["end_before"].is_null())));
    let benefits = json(&ledger, &["report", "benefits"]);
    let used_keys = benefits
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|b| b["keys"].as_array().into_iter().flatten())
        .filter(|k| !k["used"].is_null())
        .count();
    assert_eq!(count(&everything, "keys"), used_keys);
    let head: u64 = ledger
        .head()
        .split(':')
        .next()
        .and_then(|s| s.parse().ok())
        .expect("a head");
    assert_eq!(everything["to"].as_u64(), Some(head));
    let before_the_first = json(
        &ledger,
        &["diff", "--from", "2020-01-01", "--on", "2026-08-01"],
    );
    assert_eq!(before_the_first, everything);
    let nothing = json(
        &ledger,
        &["diff", "--from", "0", "--to", "1999-12-31T23:59:59Z"],
    );
    assert_eq!(nothing["to"].as_u64(), Some(0));
    assert_eq!(
        count(&nothing, "subscriptions") + count(&nothing, "keys"),
        0
    );
}

/// A TIME is the last event recorded at or before it: the same diff as the
/// sequence it names.
#[test]
fn a_time_is_the_last_event_recorded_at_or_before_it() {
    let ledger = TempLedger::demo();
    let log = ledger.run(&["log", "--format", "jsonl"]);
    let records: Vec<Value> = log
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    // The demo's clock moves a second a reading: several events share an
    // instant, and the point is the last of them.
    let at = "2026-11-24T09:00:05Z";
    let last = records
        .iter()
        .filter(|r| {
            r["recorded_at"]
                .as_str()
                .is_some_and(|t| t <= "2026-11-24T09:00:05.000000Z")
        })
        .filter_map(|r| r["seq"].as_u64())
        .max()
        .expect("events recorded by then");
    let by_time = json(&ledger, &["diff", "--from", at, "--on", "2026-08-01"]);
    assert_eq!(by_time["from"].as_u64(), Some(last));
    let by_seq = json(
        &ledger,
        &["diff", "--from", &last.to_string(), "--on", "2026-08-01"],
    );
    assert_eq!(by_time, by_seq);
    assert!(count(&by_time, "subscriptions") + count(&by_time, "credits") > 0);
}

/// Changes the test makes itself: an extension of s1 and its key, then a
/// credit granted and assigned.
#[test]
fn a_diff_shows_the_changes_appended_after_its_point() {
    let ledger = TempLedger::with_a_subscription();
    let mark = json(&ledger, &["diff", "--from", "0"]);
    let from = mark["to"].as_u64().expect("the head").to_string();
    ledger.append(&[
        "end-date-extended",
        "--subscription",
        "s1",
        "--key",
        "AAAAA-BBBBB-CCCCC-DDDDD-00025",
        "--on",
        "2026-02-01",
    ]);
    ledger.append(&[
        "benefit-granted",
        "--benefit",
        "azure",
        "--product",
        "Microsoft Azure",
        "--offer",
        "gold-competency",
        "--benefit-type",
        "core",
        "--expires",
        "2026-12-31",
        "--credit",
        "monthly",
        "--amount",
        "100.00",
        "--currency",
        "USD",
        "--on",
        "2026-01-03",
    ]);
    ledger.append(&[
        "user-registered",
        "--user",
        "bob@contoso.com",
        "--on",
        "2026-01-03",
    ]);
    ledger.append(&[
        "credit-assigned",
        "--benefit",
        "azure",
        "--user",
        "bob@contoso.com",
        "--on",
        "2026-01-04",
    ]);
    let found = json(&ledger, &["diff", "--from", &from, "--on", "2027-01-20"]);
    let s1 = &found["subscriptions"][0];
    assert_eq!(count(&found, "subscriptions"), 1);
    assert_eq!(
        (&s1["subscription"], &s1["change"]),
        (&Value::from("s1"), &Value::from("changed"))
    );
    assert_eq!(s1["end_before"], "2027-01-15");
    assert_ne!(s1["end_after"], s1["end_before"]);
    assert_eq!(s1["status_before"], "expired");
    assert_eq!(s1["status_after"], "active");
    assert_eq!(s1["events"][0]["event"], "EndDateExtended");
    assert_eq!(found["keys"][0]["key"], "*****-*****-*****-*****-00025");
    assert_eq!(
        found["keys"][0]["fingerprint"].as_str().map(str::len),
        Some(16)
    );
    let credit = &found["credits"][0];
    assert_eq!(credit["holders_before"], Value::Array(vec![]));
    assert_eq!(credit["holders_after"][0], "bob@contoso.com");
    assert_eq!(credit["events"][0]["event"], "CreditAssigned");
}

/// A product name a spreadsheet would run is written as text.
#[test]
fn diff_csv_neutralises_what_a_spreadsheet_would_run() {
    let ledger = TempLedger::new();
    let mut grant = crate::grant_args("b1", &["AAAAA-BBBBB-CCCCC-DDDDD-00100=100"]);
    grant[4] = "=HYPERLINK(\"http://example.com\")";
    ledger.append(&grant);
    ledger.append(&[
        "key-redeemed",
        "--subscription",
        "s1",
        "--key",
        "AAAAA-BBBBB-CCCCC-DDDDD-00100",
        "--on",
        "2026-01-15",
    ]);
    let output = ledger.run(&["diff", "--from", "0", "--format", "csv"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    let mut reader = csv::Reader::from_reader(output.stdout.as_bytes());
    let products: Vec<String> = reader
        .records()
        .map(|r| r.expect("a row")[3].to_owned())
        .filter(|p| !p.is_empty())
        .collect();
    assert_eq!(products, ["'=HYPERLINK(\"http://example.com\")"]);
}

#[test]
fn diff_usage_errors_are_exit_2_naming_the_flag() {
    let ledger = TempLedger::with_a_subscription();
    for (args, says) in [
        (
            vec!["diff", "--from", "2", "--to", "1"],
            "--from is after --to",
        ),
        (
            vec!["diff", "--from", "2026-11-25", "--to", "1"],
            "--from is after --to",
        ),
        (
            vec!["diff", "--from", "3"],
            "--from: sequence 3 is after the head",
        ),
        (
            vec!["diff", "--from", "0", "--to", "9"],
            "--to: sequence 9 is after the head",
        ),
        (
            vec!["diff", "--from", "yesterday"],
            "'yesterday' is neither a sequence",
        ),
        (vec!["diff", "--from", "0", "--on", "2026-13-01"], "--on"),
        (vec!["diff"], "--from"),
    ] {
        let output = ledger.run(&args);
        assert_eq!(output.code, 2, "{args:?}: {}", output.stderr);
        assert!(output.stderr.contains(says), "{args:?}: {}", output.stderr);
        assert!(output.stdout.is_empty(), "{args:?}: {}", output.stdout);
    }
}
