//! The progress bars of the long commands (issue 14): drawn on standard
//! error only when it is a terminal. A script (here: a pipe) sees nothing
//! of them; under a pseudo-terminal the bar is there, and cleared.

use std::process::Command;

use crate::{TempLedger, FAKE_NOW};

/// The long commands, each with what its bar says (in its first few draws:
/// indicatif draws a burst, then no more than 20 a second).
fn long_commands(site: &str) -> [(Vec<&str>, &'static str); 4] {
    [
        (vec!["verify"], "re-deriving (R40)"),
        (vec!["rebuild"], "rebuilding"),
        (vec!["export"], "exporting"),
        (
            vec!["report", "site", "--out", site],
            "reading the timelines",
        ),
    ]
}

#[test]
fn no_bar_and_nothing_else_on_a_standard_error_that_is_not_a_terminal() {
    let ledger = TempLedger::demo();
    let out = tempfile::tempdir().expect("temp dir");
    let site = out.path().join("site");
    let site = site.to_str().expect("a UTF-8 path");
    for (args, _) in long_commands(site) {
        let output = ledger.run(&args);
        assert_eq!(output.code, 0, "{args:?}: {}", output.stderr);
        assert_eq!(output.stderr, "", "{args:?} wrote to standard error");
    }
}

/// Runs `args` under a pseudo-terminal (`script` from util-linux), standard
/// output thrown away: what the terminal shows is standard error. `None`
/// where there is no `script`.
fn on_a_terminal(ledger: &TempLedger, args: &[&str]) -> Option<String> {
    let line = format!(
        "{} --ledger {} {} >/dev/null",
        env!("CARGO_BIN_EXE_benefit-ledger"),
        ledger.arg(),
        args.join(" ")
    );
    let output = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("BENEFIT_LEDGER_FAKE_NOW", FAKE_NOW)
        .env_remove("BENEFIT_LEDGER")
        .output()
        .ok()?;
    assert!(output.status.success(), "{args:?} under script: {output:?}");
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn a_bar_on_a_terminal_that_is_cleared_when_done() {
    let ledger = TempLedger::demo();
    let out = tempfile::tempdir().expect("temp dir");
    let site = out.path().join("site");
    let site = site.to_str().expect("a UTF-8 path");
    let head = ledger.head();
    let events = head.split(':').next().expect("seq:hash");
    for (args, says) in long_commands(site) {
        let Some(shown) = on_a_terminal(&ledger, &args) else {
            eprintln!("no `script` (util-linux) here: the terminal is not tested");
            return;
        };
        assert!(shown.contains(says), "{args:?} showed {shown:?}");
        if args[0] != "report" {
            assert!(shown.contains(&format!("{events}/{events}")), "{shown:?}");
        }
        // The last thing drawn clears the line: the bar leaves nothing.
        assert!(shown.trim_end().ends_with("\r\u{1b}[2K"), "{shown:?}");
    }
}
