//! Backward compatibility (issue 7): a ledger directory written by the first
//! version (`tests/fixtures/ledger-v1/`, see `tests/fixtures/README.md`) is
//! opened by today's binary. Its digest, verification, rebuild and reports
//! are pinned, so a change of the storage layout, the record format, the
//! event schema or the projections that breaks old ledgers fails CI.

use std::path::Path;

use super::{TempLedger, ACTOR};

/// The head digest of the fixture, as `demo` printed it when it was written.
const FIXTURE_HEAD: &str = "46:505b4407146b7a20586d024bddd8b526ad2dc98a0889c10a260293c4a432ecc3";

/// A copy of the fixture in a temporary directory.
fn fixture_copy() -> TempLedger {
    let ledger = TempLedger::new();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/ledger-v1");
    std::fs::create_dir_all(&ledger.path).expect("ledger dir");
    for entry in std::fs::read_dir(&source).expect("the fixture is there") {
        let path = entry.expect("entry").path();
        let name = path.file_name().expect("a file name");
        std::fs::copy(&path, ledger.path.join(name)).expect("copied");
    }
    ledger
}

#[test]
fn a_ledger_written_by_version_1_keeps_its_digest_and_verifies() {
    let ledger = fixture_copy();
    let verified = ledger.run(&["verify", "--digest", FIXTURE_HEAD]);
    assert_eq!(verified.code, 0, "{}", verified.stderr);
    assert!(
        verified.stdout.contains(FIXTURE_HEAD),
        "{}",
        verified.stdout
    );
    let rebuilt = ledger.run(&["rebuild"]);
    assert_eq!(
        rebuilt.code, 0,
        "persisted projections of v1 equal a rebuild: {}",
        rebuilt.stdout
    );
}

#[test]
fn a_ledger_written_by_version_1_reports_what_it_reported_then() {
    let ledger = fixture_copy();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../../snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    for (name, args) in [
        (
            "subscriptions",
            &[
                "report",
                "subscriptions",
                "--on",
                "2026-08-01",
                "--format",
                "json",
            ][..],
        ),
        ("audit", &["report", "audit", "--format", "json"]),
        ("credits", &["report", "credits", "--format", "json"]),
        ("benefits", &["report", "benefits", "--format", "json"]),
        (
            "as_of_20",
            &[
                "report",
                "subscriptions",
                "--on",
                "2026-08-01",
                "--as-of-seq",
                "20",
                "--format",
                "csv",
            ],
        ),
    ] {
        let out = ledger.run(args);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        settings.bind(|| insta::assert_snapshot!(format!("cli__compat_v1_{name}"), out.stdout));
    }
}

#[test]
fn a_ledger_written_by_version_1_takes_new_events() {
    let ledger = fixture_copy();
    let mut args = ACTOR.to_vec();
    args.extend([
        "append",
        "user-registered",
        "--user",
        "new@contoso.com",
        "--on",
        "2026-11-24",
    ]);
    let out = ledger.run(&args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let verified = ledger.run(&["verify", "--digest", FIXTURE_HEAD]);
    assert_eq!(
        verified.code, 0,
        "the old history is still there: {}",
        verified.stderr
    );
    assert!(verified.stdout.contains("47:"), "{}", verified.stdout);
}
