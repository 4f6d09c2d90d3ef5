//! Appending: every event from flags, imports (atomic, line numbers named),
//! dry runs.

use crate::{grant_args, snapshot, transcript, TempLedger, ACTOR};

/// Every one of the eight events, appended from flags, with what each
/// prints (sequence, event, and for end-date events old and new end with
/// the explanation).
#[test]
fn every_event_can_be_appended_from_flags() {
    let ledger = TempLedger::new();
    let steps: Vec<Vec<&str>> = vec![
        vec![
            "benefit-granted",
            "--benefit",
            "contoso-ap-2026",
            "--product",
            "Office 365 E3",
            "--offer",
            "action-pack",
            "--benefit-type",
            "core",
            "--expires",
            "2026-12-31",
            "--key",
            "e3a01-10000-00000-00000-0a100=100",
            "--key",
            "E3A021000000000000000B025=25",
            "--key",
            "E3A03-10000-00000-00000-0C050=50",
            "--on",
            "2026-01-02",
        ],
        vec![
            "benefit-granted",
            "--benefit",
            "contoso-azure-monthly",
            "--product",
            "Microsoft Azure",
            "--offer",
            "silver-competency",
            "--benefit-type",
            "incremental",
            "--expires",
            "2026-12-31",
            "--credit",
            "monthly",
            "--amount",
            "100.00",
            "--currency",
            "USD",
            "--on",
            "2026-01-02",
        ],
        vec![
            "benefit-granted",
            "--benefit",
            "contoso-azure-annual",
            "--product",
            "Microsoft Azure",
            "--offer",
            "gold-competency",
            "--benefit-type",
            "core",
            "--expires",
            "2026-12-31",
            "--credit",
            "annual-bulk",
            "--amount",
            "12000",
            "--currency",
            "USD",
            "--enrollment-start",
            "2026-01-01",
            "--enrollment-end",
            "2026-12-31",
            "--on",
            "2026-01-02",
        ],
        vec![
            "user-registered",
            "--user",
            "bob@contoso.com",
            "--on",
            "2026-01-02",
        ],
        vec![
            "user-registered",
            "--user",
            "cat@contoso.com",
            "--on",
            "2026-01-02",
        ],
        vec![
            "user-registered",
            "--user",
            "guest_fabrikam.com#EXT#@contoso.onmicrosoft.com",
            "--guest",
            "--on",
            "2026-01-03",
        ],
        vec![
            "key-redeemed",
            "--subscription",
            "contoso-o365",
            "--key",
            "E3A01-10000-00000-00000-0A100",
            "--on",
            "2026-01-15",
        ],
        vec![
            "licenses-added",
            "--subscription",
            "contoso-o365",
            "--key",
            "E3A03-10000-00000-00000-0C050",
            "--on",
            "2026-07-15",
        ],
        vec![
            "end-date-extended",
            "--subscription",
            "contoso-o365",
            "--key",
            "E3A02-10000-00000-00000-0B025",
            "--on",
            "2026-08-01",
        ],
        vec![
            "credit-assigned",
            "--benefit",
            "contoso-azure-monthly",
            "--user",
            "guest_fabrikam.com#EXT#@contoso.onmicrosoft.com",
            "--on",
            "2026-02-01",
        ],
        vec![
            "credit-assigned",
            "--benefit",
            "contoso-azure-annual",
            "--user",
            "bob@contoso.com",
            "--on",
            "2026-02-01",
        ],
        vec![
            "credit-unassigned",
            "--benefit",
            "contoso-azure-monthly",
            "--user",
            "guest_fabrikam.com#EXT#@contoso.onmicrosoft.com",
            "--on",
            "2026-03-01",
        ],
        vec![
            "credit-transferred",
            "--benefit",
            "contoso-azure-annual",
            "--to",
            "cat@contoso.com",
            "--on",
            "2026-06-01",
        ],
        // No --on: the effective date is today (the fake clock's date).
        vec!["user-registered", "--user", "dan@contoso.com"],
    ];
    let mut text = String::new();
    for step in &steps {
        let output = ledger.append(step);
        let mut args = vec!["append"];
        args.extend_from_slice(step);
        text.push_str(&transcript(&args, &output));
        text.push('\n');
    }
    snapshot("append_every_event", &ledger.redact(&text));
    let log = ledger.run(&["log", "--format", "jsonl"]);
    assert_eq!(log.stdout.lines().count(), steps.len());
    assert!(log
        .stdout
        .lines()
        .last()
        .is_some_and(|l| l.contains("\"on\":\"2026-11-24\"")));
}

fn user_lines(count: usize) -> Vec<String> {
    (0..count)
        .map(|i| {
            format!(r#"{{"event": "UserRegistered", "user": "user{i}@contoso.com", "on": "2026-01-05"}}"#)
        })
        .collect()
}

/// A bad line in the middle of 1 000 good ones: nothing is appended, the
/// line number is named, the head digest is unchanged. Then the good lines
/// alone are one append.
#[test]
fn an_import_is_atomic_and_names_the_bad_line() {
    let ledger = TempLedger::new();
    ledger.append(&[
        "user-registered",
        "--user",
        "first@contoso.com",
        "--on",
        "2026-01-01",
    ]);
    let before = ledger.head();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("users.jsonl");
    let file_arg = file.to_str().expect("utf-8");
    let mut args = ACTOR.to_vec();
    args.extend_from_slice(&["append", "--file", file_arg]);

    // A line the rules refuse (L2: a user registered twice), line 501.
    let mut lines = user_lines(1000);
    lines.insert(
        500,
        r#"{"event": "UserRegistered", "user": "first@contoso.com", "on": "2026-01-05"}"#.into(),
    );
    std::fs::write(&file, lines.join("\n")).expect("write import");
    let refused = ledger.run(&args);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    let first_line = refused.stderr.lines().next().expect("a message");
    assert!(first_line.contains("line 501 of"), "{first_line}");
    assert!(first_line.contains("refused (L2)"), "{first_line}");
    assert!(
        refused.stderr.contains("nothing was appended"),
        "{}",
        refused.stderr
    );
    assert_eq!(ledger.head(), before);

    // A malformed line (an unknown field), line 501 again.
    lines[500] = r#"{"event": "UserRegistered", "usr": "x@contoso.com"}"#.into();
    std::fs::write(&file, lines.join("\n")).expect("write import");
    let malformed = ledger.run(&args);
    assert_eq!(malformed.code, 2, "{}", malformed.stderr);
    let first_line = malformed.stderr.lines().next().expect("a message");
    assert!(first_line.contains("line 501 of"), "{first_line}");
    assert!(first_line.contains("usr"), "{first_line}");
    assert_eq!(ledger.head(), before);

    // The good lines alone: one append of 1 000 events.
    lines.remove(500);
    std::fs::write(&file, lines.join("\n") + "\n").expect("write import");
    let imported = ledger.run(&args);
    assert_eq!(imported.code, 0, "{}", imported.stderr);
    assert!(
        imported
            .stdout
            .starts_with("appended 1000 events (sequences 2-1001)"),
        "{}",
        imported.stdout
    );
    let log = ledger.run(&["log", "--format", "jsonl"]);
    assert_eq!(log.stdout.lines().count(), 1001);
    let command_ids: std::collections::BTreeSet<String> = log
        .stdout
        .lines()
        .skip(1)
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json line");
            v["command_id"].as_str().expect("command id").to_owned()
        })
        .collect();
    assert_eq!(command_ids.len(), 1, "the import is one append");
}

/// Each line sees the lines before it, standard input works, and a dry run
/// shows the outcome but appends nothing.
#[test]
fn an_import_from_stdin_sees_its_own_earlier_lines_and_dry_run_appends_nothing() {
    let ledger = TempLedger::new();
    let history = concat!(
        r#"{"event": "BenefitGranted", "on": "2026-01-02", "benefit": "b1", "product": "Office 365 E3", "offer": "action-pack", "benefit_type": "core", "expires": "2026-12-31", "keys": [{"key": "AAAAA-BBBBB-CCCCC-DDDDD-00100", "seats": 100}, {"key": "AAAAA-BBBBB-CCCCC-DDDDD-00025", "seats": 25}]}"#,
        "\n\n",
        r#"{"event": "KeyRedeemed", "on": "2026-01-15", "subscription": "s1", "key": "AAAAA-BBBBB-CCCCC-DDDDD-00100"}"#,
        "\n",
        r#"{"event": "EndDateExtended", "on": "2026-02-01", "subscription": "s1", "key": "aaaaabbbbbcccccddddd00025", "actor": {"user": "bob@contoso.com", "role": "mpn-partner-admin"}}"#,
        "\n",
    );
    let mut args = ACTOR.to_vec();
    args.extend_from_slice(&["append", "--file", "-", "--dry-run"]);
    let dry = ledger.run_with(&args, Some(history));
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    let mut text = transcript(&args, &dry);
    // A dry run on a missing ledger creates the empty ledger and appends
    // nothing to it.
    assert_eq!(ledger.head(), format!("0:{}", "0".repeat(64)));

    args.pop();
    let real = ledger.run_with(&args, Some(history));
    assert_eq!(real.code, 0, "{}", real.stderr);
    text.push('\n');
    text.push_str(&transcript(&args, &real));
    snapshot("append_import_stdin", &ledger.redact(&text));
    assert!(ledger.head().starts_with("3:"));
}

/// Issue 13: a command that succeeded, sent again under the same
/// `--command-id`, is looked up before it is decided and answered with what
/// was stored (exit 0), for flags and `--file` alike; the same id with other
/// content is refused with exit 2 naming the id; neither appends.
#[test]
fn a_retry_under_the_same_command_id_answers_what_was_stored() {
    const ID: &str = "11111111-2222-3333-4444-555555555555";
    let ledger = TempLedger::new();
    let flags = [
        "user-registered",
        "--user",
        "r1@contoso.com",
        "--on",
        "2026-02-01",
        "--command-id",
        ID,
    ];
    let first = ledger.append(&flags);
    assert!(
        first.stdout.starts_with("appended 1 event (sequence 1)"),
        "{}",
        first.stdout
    );
    let head = ledger.head();
    let again = ledger.append(&flags);
    assert!(
        again.stdout.starts_with(&format!(
            "already recorded as sequence 1 under command {ID}; nothing appended"
        )),
        "{}",
        again.stdout
    );
    assert_eq!(ledger.head(), head);

    let mut other = flags.to_vec();
    other[2] = "r2@contoso.com";
    let mut args = ACTOR.to_vec();
    args.push("append");
    args.extend_from_slice(&other);
    let refused = ledger.run(&args);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stderr.contains(ID), "{}", refused.stderr);
    assert_eq!(ledger.head(), head);

    const FILE_ID: &str = "66666666-7777-4888-9999-000000000000";
    let lines = "{\"event\":\"UserRegistered\",\"on\":\"2026-02-02\",\"user\":\"f1@contoso.com\"}\n{\"event\":\"UserRegistered\",\"on\":\"2026-02-02\",\"user\":\"f2@contoso.com\"}\n";
    let mut file_args = ACTOR.to_vec();
    file_args.extend(["append", "--file", "-", "--command-id", FILE_ID]);
    let stored = ledger.run_with(&file_args, Some(lines));
    assert_eq!(stored.code, 0, "{}", stored.stderr);
    let retried = ledger.run_with(&file_args, Some(lines));
    assert_eq!(retried.code, 0, "{}", retried.stderr);
    assert!(
        retried.stdout.starts_with(&format!(
            "already recorded as sequences 2..3 under command {FILE_ID}; nothing appended"
        )),
        "{}",
        retried.stdout
    );
    let changed = ledger.run_with(&file_args, Some(&lines.replace("f2@", "f3@")));
    assert_eq!(changed.code, 2, "{}", changed.stderr);
    assert!(changed.stderr.contains(FILE_ID), "{}", changed.stderr);
    assert_eq!(ledger.run(&["verify"]).code, 0);
}

/// L8 (issue 13): a benefit granted for a product with a typo, whose keys
/// R8 refuses for good, is withdrawn (never edited); its keys are then
/// refused by L8 until they are granted again in a benefit of a new id, and
/// the reports, `verify` and `rebuild` agree. The whole session is pinned.
#[test]
fn l8_a_mistaken_benefit_is_withdrawn_and_its_keys_granted_again() {
    let ledger = TempLedger::with_a_subscription();
    let key = "AAAAA-BBBBB-CCCCC-DDDDD-0TYPO";
    let mut typo = grant_args("b-typo", &[]);
    typo[4] = "Office 356 E3";
    typo.extend(["--key", "AAAAA-BBBBB-CCCCC-DDDDD-0TYPO=10"]);
    ledger.append(&typo);
    let steps: Vec<(Vec<&str>, i32)> = vec![
        (
            vec![
                "licenses-added",
                "--subscription",
                "s1",
                "--key",
                key,
                "--on",
                "2026-02-01",
            ],
            1,
        ),
        (
            vec![
                "benefit-withdrawn",
                "--benefit",
                "b1",
                "--reason",
                "wrong",
                "--on",
                "2026-02-01",
            ],
            1,
        ),
        (
            vec![
                "benefit-withdrawn",
                "--benefit",
                "b-typo",
                "--reason",
                "granted for Office 356 E3, a typo",
                "--on",
                "2026-02-01",
            ],
            0,
        ),
        (
            vec![
                "licenses-added",
                "--subscription",
                "s1",
                "--key",
                key,
                "--on",
                "2026-02-02",
            ],
            1,
        ),
        (
            vec![
                "benefit-withdrawn",
                "--benefit",
                "b-typo",
                "--reason",
                "again",
                "--on",
                "2026-02-02",
            ],
            1,
        ),
    ];
    let mut text = String::new();
    for (step, code) in &steps {
        let mut args = ACTOR.to_vec();
        args.push("append");
        args.extend_from_slice(step);
        let output = ledger.run(&args);
        assert_eq!(output.code, *code, "{step:?}: {}", output.stderr);
        text.push_str(&transcript(&args, &output));
    }
    let mut again = grant_args("b-fixed", &["AAAAA-BBBBB-CCCCC-DDDDD-0TYPO=10"]);
    again[12] = "2026-02-03";
    ledger.append(&again);
    let added = ledger.append(&[
        "licenses-added",
        "--subscription",
        "s1",
        "--key",
        key,
        "--on",
        "2026-02-04",
    ]);
    assert!(added.stdout.contains("LicensesAdded"), "{}", added.stdout);
    for report in [
        vec!["report", "benefits"],
        vec!["report", "benefits", "--format", "csv"],
        vec!["report", "key", "--key", key],
        vec!["rebuild"],
    ] {
        let output = ledger.run(&report);
        assert_eq!(output.code, 0, "{report:?}: {}", output.stderr);
        assert!(
            !crate::cli::shows_a_whole_key(&output.stdout),
            "{}",
            output.stdout
        );
        text.push_str(&transcript(&report, &output));
    }
    let verify = ledger.run(&["verify"]);
    assert_eq!(verify.code, 0, "{}", verify.stderr);
    assert!(verify
        .stdout
        .contains("every event follows from the log before it"));
    snapshot("append_l8_withdrawn", &text);
}
