//! The README's two commands, its short session run line by line, its
//! tour's picture, and the examples in `--help`.

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
    let commands: [&[&str]; 28] = [
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
        &["serve"],
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

#[cfg(unix)]
/// The `sh` blocks of the README's "A short session", in order: each a
/// list of lines.
fn readme_session_blocks() -> Vec<Vec<String>> {
    let readme = readme();
    let session = readme
        .split("## A short session")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("the README has a short session")
        .to_owned();
    session
        .split("```sh\n")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .map(|block| block.lines().map(str::to_owned).collect())
        .collect()
}

/// Every command of the README's short session runs as written, in a
/// fresh directory with `benefit-ledger` on the path: each line exits 0
/// and prints no whole key. `<the hash verify printed>` is the hash the
/// session's `verify` printed; the manual page is written, not opened.
#[cfg(unix)]
#[test]
fn every_command_of_the_readmes_short_session_runs() {
    let blocks = readme_session_blocks();
    assert!(
        blocks.len() >= 2,
        "the session and the completions: {blocks:?}"
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::os::unix::fs::symlink(root.join("tests"), dir.path().join("tests")).expect("a link");
    for sub in [
        ".local/share/bash-completion/completions",
        ".zfunc",
        ".config/fish/completions",
        ".local/share/man/man1",
    ] {
        std::fs::create_dir_all(dir.path().join(sub)).expect("a directory");
    }
    let bin = Path::new(env!("CARGO_BIN_EXE_benefit-ledger"))
        .parent()
        .expect("the binary's directory")
        .to_owned();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut exports = String::new();
    let mut head = String::new();
    let mut ran = Vec::new();
    for line in blocks.iter().flatten() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with("export ") {
            exports.push_str(line);
            exports.push('\n');
            continue;
        }
        let command = line
            .replace("<the hash verify printed>", &head)
            .replace(" && man benefit-ledger", "");
        let output = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{exports}{command}"))
            .current_dir(dir.path())
            .env("PATH", &path)
            .env("HOME", dir.path())
            .env("BENEFIT_LEDGER_FAKE_NOW", crate::cli::FAKE_NOW)
            .output()
            .expect("sh runs");
        let (stdout, stderr) = (
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
        assert!(output.status.success(), "{command}:\n{stdout}\n{stderr}");
        assert!(
            !crate::cli::shows_a_whole_key(&stdout) && !crate::cli::shows_a_whole_key(&stderr),
            "{command} shows a whole key"
        );
        if command == "benefit-ledger verify" {
            head = stdout
                .lines()
                .find_map(|l| l.strip_prefix("head 25:"))
                .expect("verify prints the head of the session's 25 events")
                .to_owned();
        }
        ran.push(command);
    }
    for expected in [
        "append --file history.jsonl",
        "diff --from",
        "verify --digest 25:",
        "completions fish",
        "man >",
    ] {
        assert!(
            ran.iter().any(|c| c.contains(expected)),
            "the session runs `{expected}`: {ran:?}"
        );
    }
    assert!(!head.is_empty(), "the session's verify ran");
    let man = std::fs::read_to_string(dir.path().join(".local/share/man/man1/benefit-ledger.1"))
        .expect("the manual page was written");
    assert!(man.contains("verify"), "{man}");
}

/// Issue 14: the README's tour shows the committed timeline picture and
/// names the site command.
#[test]
fn the_readmes_tour_shows_the_timeline_picture_and_the_site_command() {
    let readme = readme();
    let tour = readme
        .split("## A short tour")
        .nth(1)
        .expect("the README has a tour");
    assert!(
        tour.contains("](docs/timeline.png)"),
        "the picture is shown"
    );
    assert!(tour.contains("report site --out DIR"), "the site command");
    let png = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/timeline.png"))
        .expect("docs/timeline.png");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
}
