//! A ledger is open in one process at a time: a second process gets a clear
//! error naming the holder's pid, never a panic, and can open the ledger once
//! the first has closed it.

mod support;

use std::io::Write;

use benefit_store::{SledStore, SystemClock};

const TEST: &str = "a_second_process_is_told_the_ledger_is_in_use_and_by_which_pid";

#[test]
fn a_second_process_is_told_the_ledger_is_in_use_and_by_which_pid() {
    if let Some((role, dir)) = support::child() {
        assert_eq!(role, "open");
        let result = SledStore::open(&dir, SystemClock).map(|_| "opened".to_string());
        let result = result.unwrap_or_else(|error| error.to_string());
        let mut out = std::io::stdout().lock();
        // A new line first: the harness has printed "test NAME ... " on this one.
        writeln!(out, "\nresult: {result}").expect("stdout");
        return;
    }
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("ledger");
    let store = SledStore::open(&path, SystemClock).expect("the first open succeeds");

    let output = support::child_command(TEST, "open", &path)
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let results: Vec<&str> = support::lines_with(&stdout, "result: ").collect();
    let expected = format!(
        "ledger {} is in use by another process (pid {})",
        path.display(),
        std::process::id()
    );
    assert_eq!(results, vec![expected.as_str()], "child said: {stdout}");
    assert!(output.status.success(), "the child did not panic: {stdout}");

    drop(store);
    let output = support::child_command(TEST, "open", &path)
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        support::lines_with(&stdout, "result: ").collect::<Vec<_>>(),
        vec!["opened"]
    );
}
