//! `benefit-ledger serve` (issue 11): an owner process holds the ledger
//! open and runs other processes' commands on it. Every command through it
//! answers byte for byte as the same command run on its own (on a twin
//! ledger of the same history), exit code included; an owner that was
//! killed leaves a socket that is ignored.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use crate::{command, Output, TempLedger, ACTOR};

/// A running `serve` on a ledger, killed when dropped.
struct Owner {
    child: Child,
}

impl Owner {
    /// Starts `serve` on `ledger` and waits for the line saying it listens.
    fn start(ledger: &TempLedger) -> Self {
        let mut child = command(&["--ledger", ledger.arg(), "serve"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve starts");
        let mut first = String::new();
        let stderr = child.stderr.take().expect("stderr is piped");
        BufReader::new(stderr)
            .read_line(&mut first)
            .expect("serve writes a line");
        assert!(first.starts_with("serving the ledger "), "{first}");
        assert!(first.contains("owner.sock"), "{first}");
        Self { child }
    }

    /// Kills the owner, as `kill -9` would, and waits for it to end.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The commands of the comparison: appends that succeed, are refused, are
/// dry runs or come on standard input, usage errors, and every kind of read.
fn script() -> Vec<(Vec<&'static str>, Option<&'static str>)> {
    let append = |rest: &[&'static str]| {
        let mut args = ACTOR.to_vec();
        args.push("append");
        args.extend_from_slice(rest);
        args
    };
    let redeem = |key: &'static str, on: &'static str| {
        append(&[
            "key-redeemed",
            "--subscription",
            "s1",
            "--key",
            key,
            "--on",
            on,
        ])
    };
    let users =
        "{\"event\":\"UserRegistered\",\"on\":\"2026-02-02\",\"user\":\"f1@contoso.com\"}\n";
    vec![
        (redeem("AAAAA-BBBBB-CCCCC-DDDDD-00301", "2026-03-01"), None),
        (redeem("AAAAA-BBBBB-CCCCC-DDDDD-00301", "2026-03-02"), None),
        (redeem("ZZZZZ-BBBBB-CCCCC-DDDDD-00001", "2026-03-02"), None),
        (
            {
                let mut args = redeem("AAAAA-BBBBB-CCCCC-DDDDD-00025", "2026-04-01");
                args.push("--dry-run");
                args
            },
            None,
        ),
        (append(&["--file", "-"]), Some(users)),
        (vec!["append", "key-redeemed", "--subscription", "s1"], None),
        (vec!["report", "audit", "--subscription", "s1"], None),
        (vec!["report", "subscriptions", "--on", "2026-05-01"], None),
        (vec!["report", "credits", "--format", "json"], None),
        (vec!["log", "--format", "jsonl"], None),
        (vec!["diff", "--from", "1"], None),
        (vec!["verify"], None),
        (vec!["rebuild"], None),
        (vec!["export"], None),
        (vec!["report", "audit", "--as-of-seq", "99"], None),
    ]
}

/// Runs `args` on `ledger`, its path replaced by `[LEDGER]`.
fn on(ledger: &TempLedger, args: &[&str], stdin: Option<&str>) -> Output {
    let output = ledger.run_with(args, stdin);
    Output {
        code: output.code,
        stdout: ledger.redact(&output.stdout),
        stderr: ledger.redact(&output.stderr),
    }
}

#[test]
fn a_served_command_answers_as_the_same_command_run_alone() {
    let served = TempLedger::with_a_subscription();
    let alone = TempLedger::with_a_subscription();
    assert_eq!(served.head(), alone.head(), "twin histories");
    let _owner = Owner::start(&served);
    for (args, stdin) in script() {
        let through = on(&served, &args, stdin);
        let direct = on(&alone, &args, stdin);
        assert_eq!(through.code, direct.code, "{args:?}: {}", through.stderr);
        assert_eq!(through.stdout, direct.stdout, "{args:?}");
        assert_eq!(through.stderr, direct.stderr, "{args:?}");
    }
    assert_eq!(served.head(), alone.head());
    // The owner holds the ledger: a command that did not go through it
    // would have found the ledger busy (exit 4), not answered as above.
    let busy = served.open_store_once();
    assert!(
        matches!(busy, Err(benefit_store::StoreError::InUse { .. })),
        "{busy:?}"
    );
}

#[test]
fn a_killed_owner_leaves_a_socket_that_commands_ignore() {
    let ledger = TempLedger::with_a_subscription();
    let mut owner = Owner::start(&ledger);
    let served = on(&ledger, &["report", "audit"], None);
    owner.kill();
    assert!(ledger.path.join("owner.sock").exists());
    let alone = on(&ledger, &["report", "audit"], None);
    assert_eq!(
        (alone.code, &alone.stdout),
        (0, &served.stdout),
        "{}",
        alone.stderr
    );
    // A new owner replaces the stale socket.
    let _again = Owner::start(&ledger);
    assert_eq!(
        on(&ledger, &["report", "audit"], None).stdout,
        served.stdout
    );
}

#[test]
fn serve_needs_an_existing_ledger_that_no_other_process_holds() {
    let missing = TempLedger::new();
    let output = missing.run(&["serve"]);
    assert_eq!(output.code, 3, "{}", output.stderr);
    assert!(
        output.stderr.starts_with("error: ledger unusable: "),
        "{}",
        output.stderr
    );
    assert!(!missing.path.exists(), "serve created {}", missing.arg());

    let ledger = TempLedger::with_a_subscription();
    let _owner = Owner::start(&ledger);
    let second = ledger.run(&["serve"]);
    assert_eq!(second.code, 4, "{}", second.stderr);
    assert!(second.stderr.contains("busy"), "{}", second.stderr);

    let url = crate::run(&["--ledger", "postgres://u@127.0.0.1:9/db", "serve"]);
    assert_eq!(url.code, 2, "{}", url.stderr);
    assert!(
        url.stderr.contains("serve holds an embedded ledger"),
        "{}",
        url.stderr
    );
}
