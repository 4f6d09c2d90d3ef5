//! The CLI on a PostgreSQL ledger (issue 12): the same outputs, exit codes
//! and head digest as on sled for the same history; a connection failure
//! that names the server but never the password; and four processes
//! appending at once, with nothing lost and nothing duplicated.
//!
//! The server is the test process's own throwaway cluster
//! (`benefit_postgres::cluster::TestServer`), or `BENEFIT_TEST_POSTGRES_URL`.

use std::process::Stdio;

use benefit_postgres::cluster::TestServer;

use crate::{run_with, Output, TempLedger, ACTOR};

/// A fresh PostgreSQL ledger's URL; `None` when a developer asked to skip.
fn fresh_ledger(label: &str) -> Option<String> {
    match TestServer::shared() {
        Ok(server) => server.map(|s| s.fresh_ledger_url(label)),
        Err(why) => panic!("{why}"),
    }
}

fn on(ledger: &str, args: &[&str], stdin: Option<&str>) -> Output {
    let mut all = vec!["--ledger", ledger];
    all.extend_from_slice(args);
    run_with(&all, stdin, &[])
}

/// Beside every report ([`crate::REPORTS`]), the reads an auditor runs,
/// in the forms scripts use.
const MORE_READS: &[&[&str]] = &[
    &["report", "subscriptions"],
    &["report", "subscriptions", "--format", "json"],
    &["report", "subscriptions", "--as-of-seq", "20"],
    &["report", "credits", "--format", "csv"],
    &["log"],
    &["log", "--stream", "subscription/contoso-e3-lab"],
    &["export"],
    &["verify"],
    &["rebuild"],
];

#[test]
fn an_export_from_sled_imported_into_postgres_gives_the_same_reports_and_digest() {
    let Some(postgres) = fresh_ledger("e2e_same") else {
        return;
    };
    let demo = TempLedger::demo();
    let export = demo.run(&["export"]);
    assert_eq!(export.code, 0, "{}", export.stderr);
    let sled = TempLedger::new();
    let mut append = ACTOR.to_vec();
    append.extend(["append", "--file", "-"]);
    for ledger in [sled.arg(), postgres.as_str()] {
        let imported = on(ledger, &append, Some(&export.stdout));
        assert_eq!(imported.code, 0, "{ledger}: {}", imported.stderr);
    }
    for read in crate::REPORTS.iter().chain(MORE_READS) {
        let (a, b) = (on(sled.arg(), read, None), on(&postgres, read, None));
        assert_eq!(
            (a.code, &a.stdout),
            (b.code, &b.stdout),
            "{read:?}: {}",
            b.stderr
        );
        assert_eq!(b.code, 0, "{read:?}: {}", b.stderr);
    }
    // Both imports were stamped by the same fixed clock: one history, one
    // digest (the `verify` outputs above, compared line for line).
    assert_eq!(
        sled.head(),
        on(&postgres, &["verify"], None)
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("head "))
            .unwrap_or_default()
    );
}

#[test]
fn refusals_retries_and_usage_behave_as_on_sled() {
    let Some(postgres) = fresh_ledger("e2e_codes") else {
        return;
    };
    let missing = on(&postgres, &["report", "subscriptions"], None);
    assert_eq!(
        missing.code, 3,
        "a read does not create a ledger: {}",
        missing.stderr
    );
    assert!(
        missing.stderr.contains("holds no ledger"),
        "{}",
        missing.stderr
    );
    let id = "11111111-2222-3333-4444-555555555555";
    let mut register = ACTOR.to_vec();
    register.extend([
        "append",
        "user-registered",
        "--user",
        "r1@contoso.com",
        "--on",
        "2026-02-01",
        "--command-id",
        id,
    ]);
    let first = on(&postgres, &register, None);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let again = on(&postgres, &register, None);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stdout.contains("already recorded"),
        "{}",
        again.stdout
    );
    let mut twice = ACTOR.to_vec();
    twice.extend([
        "append",
        "user-registered",
        "--user",
        "r1@contoso.com",
        "--on",
        "2026-02-02",
    ]);
    let refused = on(&postgres, &twice, None);
    assert_eq!(refused.code, 1, "a rule refuses it: {}", refused.stderr);
    let verify = on(&postgres, &["verify"], None);
    assert!(
        verify.stdout.contains("head 1:"),
        "one event, once: {}",
        verify.stdout
    );
    let demo = on(&postgres, &["demo"], None);
    assert_eq!(demo.code, 2, "{}", demo.stderr);
}

#[test]
fn a_connection_that_fails_is_exit_3_naming_the_host_but_never_the_password() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let url = format!("postgres://auditor:Sw0rdf1sh@127.0.0.1:{port}/ledgers?schema=contoso");
    for args in [&["report", "subscriptions"][..], &["verify"], &["export"]] {
        let output = on(&url, args, None);
        assert_eq!(output.code, 3, "{args:?}: {}", output.stderr);
        assert!(
            output.stderr.contains(&format!("127.0.0.1:{port}")),
            "{}",
            output.stderr
        );
        assert!(
            output.stderr.contains("schema contoso"),
            "{}",
            output.stderr
        );
        assert!(!output.stderr.contains("Sw0rdf1sh"), "{}", output.stderr);
    }
    let bad = on("postgres://a@h/db?schema=Contoso-1", &["verify"], None);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
}

/// Issue 12: four processes append 500 single events each at the same
/// time. Every one of them exits 0; the ledger holds sequences 1..2000,
/// each user once, in one hash chain that verifies.
#[test]
fn four_processes_appending_500_events_each_lose_nothing_and_duplicate_nothing() {
    let Some(postgres) = fresh_ledger("e2e_writers") else {
        return;
    };
    // The ledger exists before the writers start, as on a shared server.
    let mut first = ACTOR.to_vec();
    first.extend([
        "append",
        "user-registered",
        "--user",
        "w0-0@contoso.com",
        "--on",
        "2026-02-01",
    ]);
    assert_eq!(on(&postgres, &first, None).code, 0);
    let binary = env!("CARGO_BIN_EXE_benefit-ledger");
    let writers: Vec<_> = (1..=4)
        .map(|w| {
            let script = format!(
                "failed=0; for i in $(seq 1 500); do \
                 \"$BIN\" --ledger \"$LEDGER\" --actor ann@contoso.com --role global-admin \
                 append user-registered --user w{w}-$i@contoso.com --on 2026-02-01 >/dev/null \
                 || failed=$((failed+1)); done; echo $failed"
            );
            std::process::Command::new("sh")
                .args(["-c", &script])
                .env("BIN", binary)
                .env("LEDGER", &postgres)
                .env("BENEFIT_LEDGER_FAKE_NOW", crate::cli::FAKE_NOW)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("a writer starts")
        })
        .collect();
    for writer in writers {
        let output = writer.wait_with_output().expect("a writer ends");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            stdout.trim(),
            "0",
            "every append exits 0: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let verify = on(&postgres, &["verify"], None);
    assert_eq!(verify.code, 0, "{}", verify.stderr);
    assert!(verify.stdout.contains("2001 events"), "{}", verify.stdout);
    let export = on(&postgres, &["export"], None);
    let users: std::collections::BTreeSet<&str> = export
        .stdout
        .lines()
        .filter_map(|l| l.rsplit_once("\"user\":\"")?.1.split('"').next())
        .collect();
    assert_eq!(export.stdout.lines().count(), 2001, "one line per event");
    assert_eq!(
        users.len(),
        2001,
        "each user once: nothing lost, nothing duplicated"
    );
}
