//! The README's two commands, and the examples in `--help`.

use std::path::Path;

use crate::{run, snapshot, TempLedger};

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
        .expect("README.md")
}

/// The README starts a newcomer with `demo`, then the test command, which
/// is exactly what CI runs.
#[test]
fn the_readme_names_demo_first_and_the_ci_test_command() {
    let readme = readme();
    let demo = readme
        .find("cargo run -p benefit-cli -- demo")
        .expect("the demo command");
    let test = readme
        .find("cargo test --workspace")
        .expect("the test command");
    assert!(demo < test, "demo comes first");
    let ci = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.ci/run"))
        .expect(".ci/run");
    assert!(
        ci.lines().any(|l| l.trim() == "cargo test --workspace"),
        "CI runs the README's test command"
    );
}

/// The README's first command: a fresh ledger, every report, and a ledger
/// that verifies afterwards.
#[test]
fn demo_records_the_scenarios_into_a_fresh_ledger_and_prints_the_reports() {
    let ledger = TempLedger::new();
    let output = ledger.run(&["demo"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    snapshot("demo", &ledger.redact(&output.stdout));
    assert!(output.stdout.contains("refused (R12)"));
    assert_eq!(ledger.run(&["verify"]).code, 0);

    // Into a directory that already holds a ledger: refused, untouched.
    let head = ledger.head();
    let again = ledger.run(&["demo"]);
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(again.stderr.contains("fresh ledger"), "{}", again.stderr);
    assert_eq!(ledger.head(), head);
}

/// Without `--ledger`, the demo writes into a new temporary directory and
/// says where.
#[test]
fn demo_without_a_ledger_uses_a_new_temporary_directory() {
    let output = run(&["demo"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    let dir = output
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Demo ledger: "))
        .expect("the demo names its ledger");
    let verified = run(&["--ledger", dir, "verify"]);
    assert_eq!(verified.code, 0, "{}", verified.stderr);
    std::fs::remove_dir_all(dir).expect("remove the demo ledger");
    let site = format!("{dir}-site");
    assert!(
        output.stdout.contains(&format!("{site}/index.html")),
        "the demo names its site beside its ledger:\n{}",
        output.stdout
    );
    std::fs::remove_dir_all(site).expect("remove the demo site");
}

#[test]
fn help_of_every_command_has_an_example() {
    let commands: [&[&str]; 27] = [
        &[],
        &["append"],
        &["report"],
        &["append", "benefit-granted"],
        &["append", "user-registered"],
        &["append", "key-redeemed"],
        &["append", "licenses-added"],
        &["append", "end-date-extended"],
        &["append", "credit-assigned"],
        &["append", "credit-unassigned"],
        &["append", "credit-transferred"],
        &["report", "subscriptions"],
        &["report", "audit"],
        &["report", "credits"],
        &["report", "benefits"],
        &["report", "expiring"],
        &["report", "key"],
        &["report", "timeline"],
        &["report", "site"],
        &["log"],
        &["diff"],
        &["export"],
        &["verify"],
        &["rebuild"],
        &["demo"],
        &["completions"],
        &["man"],
    ];
    for command in commands {
        let mut args = command.to_vec();
        args.push("--help");
        let output = run(&args);
        assert_eq!(output.code, 0, "{args:?}: {}", output.stderr);
        assert!(
            output.stdout.contains("Example"),
            "{args:?} has no example:\n{}",
            output.stdout
        );
    }
    snapshot("help_top", &run(&["--help"]).stdout);
}

/// `--actor` and `--role` are offered only where a ledger changes
/// (`append`, its events, `demo`); the read-only commands' help does not
/// list them. An append still takes them before the command, after it (as
/// its other options: after `--file` or the event), or from the environment.
#[test]
fn actor_and_role_are_offered_only_by_the_commands_that_append() {
    let read_only: [&[&str]; 11] = [
        &["report", "subscriptions"],
        &["report", "audit"],
        &["report", "expiring"],
        &["report", "timeline"],
        &["report", "site"],
        &["report", "key"],
        &["log"],
        &["export"],
        &["verify"],
        &["rebuild"],
        &["report"],
    ];
    let options = |text: &str| -> Vec<String> {
        let options = text.split("Options:").nth(1).unwrap_or_default();
        let options = options.split("Example").next().unwrap_or_default();
        ["--actor", "--role"]
            .into_iter()
            .filter(|o| options.contains(o))
            .map(str::to_owned)
            .collect()
    };
    for command in read_only {
        let mut args = command.to_vec();
        args.push("--help");
        let output = run(&args);
        assert_eq!(output.code, 0, "{args:?}: {}", output.stderr);
        assert!(
            options(&output.stdout).is_empty(),
            "{args:?} offers them:\n{}",
            output.stdout
        );
    }
    for command in [&["append"][..], &["append", "key-redeemed"], &["demo"]] {
        let mut args = command.to_vec();
        args.push("--help");
        let output = run(&args);
        assert_eq!(options(&output.stdout), ["--actor", "--role"], "{args:?}");
    }
    let bad = run(&["report", "subscriptions", "--actor", "ann@contoso.com"]);
    assert_eq!(bad.code, 2, "a read takes no actor: {}", bad.stderr);

    // Before the command, after `--file`, after the event, or from the environment.
    let ledger = TempLedger::new();
    let user = |name: &'static str| ["user-registered", "--user", name, "--on", "2026-01-02"];
    let before = [
        &[
            "--actor",
            "ann@contoso.com",
            "--role",
            "global-admin",
            "append",
        ][..],
        &user("a@contoso.com"),
    ]
    .concat();
    let file = [
        "append",
        "--file",
        "-",
        "--actor",
        "ann@contoso.com",
        "--role",
        "global-admin",
    ];
    let line = r#"{"event": "UserRegistered", "on": "2026-01-02", "user": "b@contoso.com"}"#;
    let output = ledger.run_with(&file, Some(line));
    assert_eq!(output.code, 0, "{file:?}: {}", output.stderr);
    let event = [
        &["append"][..],
        &user("c@contoso.com"),
        &["--actor", "ann@contoso.com", "--role", "global-admin"],
    ]
    .concat();
    for args in [before, event] {
        let output = ledger.run(&args);
        assert_eq!(output.code, 0, "{args:?}: {}", output.stderr);
    }
    let env = crate::run_with(
        &[
            &["--ledger", ledger.arg(), "append"][..],
            &user("d@contoso.com"),
        ]
        .concat(),
        None,
        &[
            ("BENEFIT_LEDGER_ACTOR", "ann@contoso.com"),
            ("BENEFIT_LEDGER_ROLE", "global-admin"),
        ],
    );
    assert_eq!(env.code, 0, "{}", env.stderr);
    let log = ledger.run(&["log", "--format", "jsonl"]);
    assert_eq!(log.stdout.lines().count(), 4, "{}", log.stdout);
}
