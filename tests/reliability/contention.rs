//! Two processes on one ledger (issue 7): while one `benefit-ledger`
//! imports, a second one — a read or an append — is refused at once with
//! the documented "in use" error (exit 4, busy) naming the first one's pid, and
//! appends nothing; the import then completes whole. (The end-to-end suite
//! checks the same error against a ledger held by the test process.)

use std::time::{Duration, Instant};

use crate::cli::{command, TempLedger, ACTOR};

/// Lines of the import that holds the ledger: long enough to be caught.
const IMPORT_LINES: usize = 20_000;
/// "At once": a refused process ends within this.
const REFUSAL_SECONDS_MAX: u64 = 5;

#[test]
fn a_second_process_is_refused_at_once_while_the_first_imports() {
    let ledger = TempLedger::new();
    let mut first = ACTOR.to_vec();
    first.extend([
        "append",
        "user-registered",
        "--user",
        "ann@contoso.com",
        "--on",
        "2026-01-01",
    ]);
    assert_eq!(ledger.run(&first).code, 0);
    let before = ledger.head();
    let scratch = tempfile::tempdir().expect("temp dir");
    let file = scratch.path().join("import.jsonl");
    let lines: Vec<String> = (0..IMPORT_LINES)
        .map(|i| {
            format!(
                r#"{{"event": "UserRegistered", "on": "2026-01-02", "user": "u{i}@contoso.com"}}"#
            )
        })
        .collect();
    std::fs::write(&file, lines.join("\n")).expect("import written");
    let mut args = vec!["--ledger", ledger.arg()];
    args.extend(ACTOR);
    args.extend(["append", "--file", file.to_str().expect("utf-8")]);
    let mut importer = command(&args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the import runs");
    let pid = format!("pid {}", importer.id());
    // Probe only once the importer holds the lock (it then writes its pid
    // into `ledger.pid`): a probe that came first would hold it instead.
    let holder = ledger.path.join("ledger.pid");
    let id = importer.id().to_string();
    while std::fs::read_to_string(&holder).map_or(true, |text| text.trim() != id) {
        assert!(
            importer.try_wait().expect("waited for").is_none(),
            "the import ended before it was seen"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    let mut second = ACTOR.to_vec();
    second.extend([
        "append",
        "user-registered",
        "--user",
        "bob@contoso.com",
        "--on",
        "2026-01-02",
    ]);
    let (mut refused, mut tries) = (0, 0);
    while importer
        .try_wait()
        .expect("the import is waited for")
        .is_none()
        && refused < 2
    {
        let args: &[&str] = if refused == 0 {
            &["report", "subscriptions"]
        } else {
            &second
        };
        let started = Instant::now();
        let output = ledger.run(args);
        tries += 1;
        if output.code == 4 && output.stderr.contains("is in use by another process") {
            let first_line = output.stderr.lines().next().unwrap_or_default();
            assert!(
                first_line.contains(&pid),
                "names the importer's {pid}: {first_line}"
            );
            assert!(output.stdout.is_empty());
            assert!(started.elapsed() < Duration::from_secs(REFUSAL_SECONDS_MAX));
            refused += 1;
        } else {
            // Before the importer opened the ledger, or after it closed it.
            assert!(output.code == 0, "{args:?}: {}", output.stderr);
        }
    }
    let status = importer.wait_with_output().expect("the import ends");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    assert_eq!(
        refused, 2,
        "a read and an append were caught while the import ran ({tries} tries)"
    );
    let head = ledger.head();
    let seq: u64 = head
        .split(':')
        .next()
        .and_then(|s| s.parse().ok())
        .expect("seq");
    assert_eq!(
        seq,
        1 + IMPORT_LINES as u64,
        "the import is whole and the refused append absent ({before} -> {head})"
    );
    println!("two processes: a read and an append refused with exit 4 (\"in use\", {pid}) while an import of {IMPORT_LINES} ran; the import completed whole");
}
