//! Reading: every report in every format, `--as-of-seq`, the log, verify,
//! rebuild, and the export/import round trip.

use serde_json::Value;

use crate::{snapshot, transcript, TempLedger, ACTOR};

#[test]
fn every_report_in_every_format() {
    let ledger = TempLedger::demo();
    let reports: [&[&str]; 6] = [
        &["report", "subscriptions", "--on", "2026-08-01"],
        &["report", "audit"],
        &["report", "audit", "--subscription", "fabrikam-e3"],
        &["report", "credits"],
        &["report", "benefits"],
        &[
            "report",
            "expiring",
            "--on",
            "2026-08-01",
            "--within",
            "120",
        ],
    ];
    for report in reports {
        let mut text = String::new();
        for format in ["table", "json", "csv"] {
            let mut args = report.to_vec();
            args.extend_from_slice(&["--format", format]);
            let output = ledger.run(&args);
            assert_eq!(output.code, 0, "{args:?}: {}", output.stderr);
            match format {
                "json" => {
                    let rows: Value = serde_json::from_str(&output.stdout).expect("valid JSON");
                    assert!(rows.as_array().is_some_and(|r| !r.is_empty()), "{args:?}");
                }
                "csv" => assert!(output.stdout.lines().count() > 1, "{args:?}"),
                _ => {
                    let widest = output.stdout.lines().map(|l| l.chars().count()).max();
                    assert!(widest <= Some(80), "{args:?} is wider than 80 columns");
                }
            }
            text.push_str(&transcript(&args, &output));
            text.push('\n');
        }
        snapshot(
            &format!("report_{}", report[1..].join("_").replace("--", "")),
            &text,
        );
    }
}

#[test]
fn json_reports_have_the_contract_field_names() {
    let ledger = TempLedger::demo();
    let fields = |args: &[&str]| -> Vec<String> {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--format", "json"]);
        let output = ledger.run(&all);
        let rows: Value = serde_json::from_str(&output.stdout).expect("valid JSON");
        rows[0]
            .as_object()
            .expect("an object")
            .keys()
            .cloned()
            .collect()
    };
    let has = |found: Vec<String>, wanted: &[&str]| {
        for name in wanted {
            assert!(
                found.iter().any(|f| f == name),
                "{name} missing from {found:?}"
            );
        }
    };
    has(
        fields(&["report", "subscriptions"]),
        &[
            "subscription",
            "product",
            "seats",
            "start",
            "end",
            "status",
            "keys",
            "benefit_expires",
        ],
    );
    has(
        fields(&["report", "audit"]),
        &[
            "seq",
            "recorded_at",
            "subscription",
            "event",
            "on",
            "actor",
            "role",
            "old_end",
            "new_end",
            "days_changed",
            "explanation",
        ],
    );
    has(
        fields(&["report", "credits"]),
        &[
            "benefit", "plan", "amount", "currency", "holders", "history",
        ],
    );
    let credits = ledger.run(&["report", "credits", "--format", "json"]);
    let rows: Value = serde_json::from_str(&credits.stdout).expect("valid JSON");
    assert_eq!(rows[0]["amount"], "12000.00");
    assert_eq!(rows[1]["amount"], "100.00");
}

/// `--as-of-seq N` shows what the ledger showed when it held N events.
#[test]
fn as_of_seq_reports_what_the_ledger_knew_then() {
    let ledger = TempLedger::with_a_subscription();
    let reports: [&[&str]; 3] = [
        &[
            "report",
            "subscriptions",
            "--on",
            "2026-06-01",
            "--format",
            "json",
        ],
        &["report", "audit", "--format", "csv"],
        &["report", "benefits"],
    ];
    let then: Vec<String> = reports.iter().map(|r| ledger.run(r).stdout).collect();
    ledger.append(&[
        "end-date-extended",
        "--subscription",
        "s1",
        "--key",
        "AAAAA-BBBBB-CCCCC-DDDDD-00025",
        "--on",
        "2026-02-01",
    ]);
    for (report, then) in reports.iter().zip(&then) {
        let now = ledger.run(report).stdout;
        assert_ne!(&now, then, "{report:?} did not change");
        let mut as_of = report.to_vec();
        as_of.extend_from_slice(&["--as-of-seq", "2"]);
        assert_eq!(&ledger.run(&as_of).stdout, then, "{report:?} as of 2");
    }
    let empty = ledger.run(&["report", "audit", "--as-of-seq", "0", "--format", "json"]);
    assert_eq!(empty.stdout.trim(), "[]");
}

#[test]
fn log_verify_and_rebuild() {
    let ledger = TempLedger::demo();
    let mut text = String::new();
    for args in [
        vec!["log", "--stream", "scenario-a"],
        vec![
            "log",
            "--stream",
            "benefit/contoso-azure-annual",
            "--format",
            "jsonl",
        ],
        vec!["log", "--stream", "ann@contoso.com"],
        vec!["verify"],
        vec!["rebuild"],
        vec!["rebuild", "--repair"],
    ] {
        let output = ledger.run(&args);
        assert_eq!(output.code, 0, "{args:?}: {}", output.stderr);
        text.push_str(&transcript(&args, &output));
        text.push('\n');
    }
    snapshot("log_verify_rebuild", &text);
    let all = ledger.run(&["log"]);
    assert_eq!(all.code, 0);
    let head = ledger.head();
    let verified = ledger.run(&["verify", "--digest", &head]);
    assert_eq!(verified.code, 0, "{}", verified.stderr);
    assert!(verified.stdout.contains("matches"), "{}", verified.stdout);
    let jsonl = ledger.run(&["log", "--format", "jsonl"]);
    assert_eq!(
        jsonl.stdout.lines().count().to_string(),
        head.split(':').next().unwrap_or_default()
    );
}

/// Tampered projections: `rebuild` names the difference and exits 3;
/// `rebuild --repair` replaces them, and the reports are right again.
#[test]
fn rebuild_reports_and_repairs_tampered_projections() {
    use benefit_projections::docs::{decode_document, encode_document};
    use benefit_store::{EventStore, ProjectionStore};
    let ledger = TempLedger::demo();
    // Without --on, the report shows the subscription documents' latest
    // state, where the tampering is.
    let before = ledger.run(&["report", "subscriptions"]).stdout;
    {
        let store = ledger.open_store();
        let head = store.head().expect("head").seq;
        let mut doc: benefit_projections::SubscriptionView = decode_document(
            "sub/scenario-a",
            &store
                .projection_get("sub/scenario-a")
                .expect("get")
                .expect("a document"),
        )
        .expect("a subscription document");
        doc.seats = benefit_events::Seats::new(999).expect("seats");
        let writes = [("sub/scenario-a".to_owned(), encode_document(&doc))].into();
        store.projection_commit(head, head, writes).expect("tamper");
    }
    let tampered = ledger.run(&["report", "subscriptions"]).stdout;
    assert!(tampered.contains("999"), "{tampered}");
    let check = ledger.run(&["rebuild"]);
    assert_eq!(check.code, 3, "{}", check.stderr);
    assert!(
        check.stderr.contains("differs: sub/scenario-a"),
        "{}",
        check.stderr
    );
    let repair = ledger.run(&["rebuild", "--repair"]);
    assert_eq!(repair.code, 0, "{}", repair.stderr);
    assert!(repair.stdout.contains("replaced"), "{}", repair.stdout);
    assert_eq!(ledger.run(&["report", "subscriptions"]).stdout, before);
}

fn without_recorded_at(text: &str) -> Value {
    let mut rows: Value = serde_json::from_str(text).expect("json");
    for row in rows.as_array_mut().expect("an array") {
        let row = row.as_object_mut().expect("an object");
        // An import records when it ran and who ran it (issue 13).
        for field in ["recorded_at", "recorded_by", "recorded_by_role"] {
            row.remove(field);
        }
    }
    rows
}

fn events_of_log(ledger: &TempLedger) -> Vec<String> {
    ledger
        .run(&["log", "--format", "jsonl"])
        .stdout
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("json line");
            format!("{} {}", v["actor"], v["event"])
        })
        .collect()
}

/// `export` then `append --file` on an empty ledger gives the same history:
/// the same events (byte for byte in their JSON, with the same actors),
/// the same reports, and the same export.
#[test]
fn export_then_import_gives_the_same_history() {
    let original = TempLedger::demo();
    let export = original.run(&["export"]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    assert!(
        crate::shows_a_whole_key(&export.stdout),
        "export shows whole keys (R3's exception)"
    );

    let copy = TempLedger::new();
    let mut args = ACTOR.to_vec();
    args.extend_from_slice(&["append", "--file", "-"]);
    let imported = copy.run_with(&args, Some(&export.stdout));
    assert_eq!(imported.code, 0, "{}", imported.stderr);

    assert_eq!(events_of_log(&copy), events_of_log(&original));
    assert_eq!(copy.run(&["export"]).stdout, export.stdout);
    for report in [
        vec![
            "report",
            "subscriptions",
            "--on",
            "2026-08-01",
            "--format",
            "json",
        ],
        vec!["report", "credits", "--format", "json"],
        vec!["report", "benefits", "--format", "json"],
        vec![
            "report",
            "expiring",
            "--on",
            "2026-08-01",
            "--format",
            "json",
        ],
    ] {
        assert_eq!(
            copy.run(&report).stdout,
            original.run(&report).stdout,
            "{report:?}"
        );
    }
    let audit = ["report", "audit", "--format", "json"];
    assert_eq!(
        without_recorded_at(&copy.run(&audit).stdout),
        without_recorded_at(&original.run(&audit).stdout)
    );
}

/// Issue 14: `--as-of TIME` reports what the ledger knew at an instant (the
/// events recorded at or before it), beside `--as-of-seq N`; a date means
/// the end of that day in UTC, and a time before the first event gives
/// empty reports, not an error.
#[test]
fn as_of_a_time_reports_what_the_ledger_knew_then() {
    let ledger = TempLedger::new();
    let append_at = |now: &str, args: &[&str]| {
        let mut all = vec!["--ledger", ledger.arg()];
        all.extend_from_slice(&crate::cli::ACTOR);
        all.push("append");
        all.extend_from_slice(args);
        let output = crate::cli::run_with(&all, None, &[("BENEFIT_LEDGER_FAKE_NOW", now)]);
        assert_eq!(output.code, 0, "{}", output.stderr);
    };
    append_at(
        "2026-03-01T10:00:00Z",
        &crate::cli::grant_args("b1", &["AAAAA-BBBBB-CCCCC-DDDDD-00100=100"]),
    );
    append_at(
        "2026-03-02T10:00:00Z",
        &[
            "key-redeemed",
            "--subscription",
            "s1",
            "--key",
            "AAAAA-BBBBB-CCCCC-DDDDD-00100",
            "--on",
            "2026-03-02",
        ],
    );
    let report = |as_of: &[&str]| {
        let mut args = vec![
            "report",
            "subscriptions",
            "--on",
            "2026-04-01",
            "--format",
            "json",
        ];
        args.extend_from_slice(as_of);
        let output = ledger.run(&args);
        assert_eq!(output.code, 0, "{as_of:?}: {}", output.stderr);
        output.stdout
    };
    let none = report(&["--as-of-seq", "1"]);
    assert_eq!(none.trim(), "[]", "the grant alone makes no subscription");
    assert_eq!(
        report(&["--as-of", "2026-03-01"]),
        none,
        "a date is the end of that day"
    );
    assert_eq!(report(&["--as-of", "2026-03-02T09:59:59Z"]), none);
    assert_eq!(report(&["--as-of", "2026-03-02T10:00:00Z"]), report(&[]));
    assert_eq!(
        report(&["--as-of", "2026-03-02"]),
        report(&["--as-of-seq", "2"])
    );
    assert_eq!(
        report(&["--as-of", "2000-01-01"]).trim(),
        "[]",
        "before the first event"
    );
    let audit = ledger.run(&[
        "report",
        "audit",
        "--as-of",
        "2026-03-01T12:00:00+02:00",
        "--format",
        "json",
    ]);
    assert_eq!(
        (audit.code, audit.stdout.trim()),
        (0, "[]"),
        "{}",
        audit.stderr
    );
    let bad = ledger.run(&["report", "subscriptions", "--as-of", "yesterday"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("RFC 3339"), "{}", bad.stderr);
}

/// Issue 14: `report key` shows which benefit granted a key, its seats,
/// and when and where it was used, found by the key or by its fingerprint;
/// the key stays masked, and a key no benefit granted is exit 2.
#[test]
fn report_key_finds_a_key_by_itself_or_by_its_fingerprint() {
    let ledger = TempLedger::with_a_subscription();
    let by_key = ledger.run(&[
        "report",
        "key",
        "--key",
        "AAAAA-BBBBB-CCCCC-DDDDD-00100",
        "--format",
        "json",
    ]);
    assert_eq!(by_key.code, 0, "{}", by_key.stderr);
    let rows: Value = serde_json::from_str(&by_key.stdout).expect("json");
    let row = &rows[0];
    assert_eq!(row["key"], "*****-*****-*****-*****-00100");
    assert_eq!(
        (row["benefit"].as_str(), row["seats"].as_u64()),
        (Some("b1"), Some(100))
    );
    assert_eq!(row["used"]["subscription"], "s1");
    let fingerprint = row["fingerprint"].as_str().expect("a fingerprint");
    let by_fingerprint = ledger.run(&[
        "report",
        "key",
        "--fingerprint",
        fingerprint,
        "--format",
        "json",
    ]);
    assert_eq!(by_fingerprint.stdout, by_key.stdout);
    let unused = ledger.run(&["report", "key", "--key", "aaaaabbbbbcccccddddd00301"]);
    assert_eq!(unused.code, 0, "{}", unused.stderr);
    assert!(unused.stdout.contains("unused"), "{}", unused.stdout);
    let unknown = ledger.run(&["report", "key", "--key", "ZZZZZ-BBBBB-CCCCC-DDDDD-00100"]);
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
    assert!(
        !unknown.stderr.contains("ZZZZZ"),
        "no whole key in an error (R3): {}",
        unknown.stderr
    );
    assert_eq!(
        ledger.run(&["report", "key"]).code,
        2,
        "--key or --fingerprint"
    );
}

/// Issue 14: two keys that share their last group (the demo's
/// tailspin-main and tailspin-lab were each activated by a
/// `*****-*****-*****-*****-00010`) are told apart wherever keys are
/// listed: by `key_fingerprints` beside `keys` in the subscriptions report
/// (JSON and CSV, so the site's table too), and by the fingerprint's first
/// 8 digits beside each key of the benefits' CSV, which `report key
/// --fingerprint` takes.
#[test]
fn keys_that_share_their_last_group_are_told_apart_in_every_list_of_keys() {
    let ledger = TempLedger::demo();
    let json = ledger.run(&["report", "subscriptions", "--format", "json"]);
    let rows: Value = serde_json::from_str(&json.stdout).expect("json");
    let fingerprints = |id: &str| -> (Value, Value) {
        let row = rows
            .as_array()
            .and_then(|rows| rows.iter().find(|r| r["subscription"] == id))
            .expect("the subscription");
        (row["keys"][0].clone(), row["key_fingerprints"][0].clone())
    };
    let (main, lab) = (fingerprints("tailspin-main"), fingerprints("tailspin-lab"));
    assert_eq!(main.0, "*****-*****-*****-*****-00010");
    assert_eq!(main.0, lab.0, "the two keys mask alike");
    assert_ne!(main.1, lab.1, "their fingerprints differ");
    let csv = ledger.run(&["report", "subscriptions", "--format", "csv"]);
    let main_fingerprint = main.1.as_str().expect("a fingerprint");
    assert!(
        csv.stdout
            .lines()
            .any(|l| l.starts_with("tailspin-main,") && l.contains(main_fingerprint)),
        "{}",
        csv.stdout
    );

    let benefits = ledger.run(&["report", "benefits", "--format", "csv"]);
    let tailspin = benefits
        .stdout
        .lines()
        .find(|l| l.starts_with("tailspin-ap-2025,"))
        .expect("the benefit's row");
    let short =
        |fingerprint: &str| format!("*****-*****-*****-*****-00010 [{}]", &fingerprint[..8]);
    let lab_fingerprint = lab.1.as_str().expect("a fingerprint");
    for fingerprint in [main_fingerprint, lab_fingerprint] {
        assert!(tailspin.contains(&short(fingerprint)), "{tailspin}");
        let found = ledger.run(&[
            "report",
            "key",
            "--fingerprint",
            &fingerprint[..8],
            "--format",
            "json",
        ]);
        assert_eq!(found.code, 0, "{}", found.stderr);
        let row: Value = serde_json::from_str(&found.stdout).expect("json");
        assert_eq!(row[0]["fingerprint"], fingerprint);
    }
}

/// `--on DATE` shows every subscription as it was on that date (the reading
/// of R20, docs/rules.md): only events effective on or before DATE count
/// toward its seats, end and status, and one not yet activated is
/// `not-started`. Without `--on`, the latest state, its status for today.
#[test]
fn on_a_date_shows_each_subscription_as_it_was_then() {
    let ledger = TempLedger::demo();
    let row = |args: &[&str], id: &str| -> Value {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--format", "json"]);
        let output = ledger.run(&all);
        assert_eq!(output.code, 0, "{all:?}: {}", output.stderr);
        let rows: Value = serde_json::from_str(&output.stdout).expect("valid JSON");
        let rows = rows.as_array().expect("an array").clone();
        rows.into_iter()
            .find(|r| r["subscription"] == id)
            .unwrap_or_else(|| panic!("{id} is listed on {all:?}"))
    };
    // Before its first activation (2026-02-01): listed, not started.
    let before = row(
        &["report", "subscriptions", "--on", "2025-06-01"],
        "contoso-e5-exec",
    );
    assert_eq!(before["status"], "not-started");
    assert_eq!(before["seats"], 0);
    assert_eq!(before["end"], Value::Null);
    assert_eq!(before["keys"].as_array().map(Vec::len), Some(0));
    // Mid-history: the seats and end it had then, not the ones it reached.
    let then = row(
        &["report", "subscriptions", "--on", "2026-03-09"],
        "tailspin-main",
    );
    assert_eq!(
        (then["seats"].clone(), then["end"].clone()),
        (10.into(), "2026-03-10".into())
    );
    assert_eq!(then["status"], "active");
    let latest = row(&["report", "subscriptions"], "tailspin-main");
    assert_eq!(
        (latest["seats"].clone(), latest["end"].clone()),
        (20.into(), "2027-05-01".into())
    );
    // The day after its end, expired (R20), though reactivated later.
    let expired = row(
        &["report", "subscriptions", "--on", "2026-03-10"],
        "tailspin-main",
    );
    assert_eq!(expired["status"], "expired");

    let mut text = String::new();
    for args in [
        &["report", "subscriptions", "--on", "2025-06-01"][..],
        &["report", "subscriptions", "--on", "2026-03-09"],
        &[
            "report",
            "expiring",
            "--on",
            "2025-06-01",
            "--within",
            "300",
        ],
        &[
            "report",
            "subscriptions",
            "--on",
            "2026-03-09",
            "--format",
            "csv",
        ],
    ] {
        let output = ledger.run(args);
        assert_eq!(output.code, 0, "{args:?}: {}", output.stderr);
        text.push_str(&transcript(args, &output));
        text.push('\n');
    }
    snapshot("report_subscriptions_as_on_a_date", &text);
}

/// Issue 14, R21: the subscriptions report says how a benefit's expiry
/// differs from the subscription's end, in days (expiry − end), in every
/// format, instead of a bare flag. `s1` ends 2027-01-15; its benefit `b1`
/// expires 2026-12-31, 15 days before.
#[test]
fn r21_the_expiry_flag_says_by_how_many_days_the_dates_differ() {
    let ledger = TempLedger::with_a_subscription();
    let json = ledger.run(&["report", "subscriptions", "--format", "json"]);
    let rows: Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(rows[0]["end"], "2027-01-15");
    assert_eq!(rows[0]["benefit_expires"][0]["expires"], "2026-12-31");
    assert_eq!(rows[0]["benefit_expires"][0]["days_after_end"], -15);
    assert_eq!(rows[0]["expiry_differs"], true);
    let table = ledger.run(&["report", "subscriptions"]);
    let row = table
        .stdout
        .lines()
        .find(|l| l.starts_with("s1 "))
        .expect("s1's row");
    assert!(row.ends_with("2026-12-31 -15d"), "{row}");
    assert!(
        !table.stdout.contains(" !"),
        "no bare flag: {}",
        table.stdout
    );
    let csv = ledger.run(&["report", "subscriptions", "--format", "csv"]);
    let line = csv.stdout.lines().nth(1).expect("s1's CSV row");
    assert!(line.contains(",true,'-15,"), "{line}");
}
