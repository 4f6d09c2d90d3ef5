//! A damaged ledger directory (issue 7): the log's `journal/db` file truncated,
//! corrupted, emptied or missing, its `conf` or snapshot missing, or a file
//! where the directory should be. Every command either exits 3 with a clear
//! first line and prints nothing on standard output (never a partial report
//! with exit 0), or — where sled recovers by itself — answers exactly what
//! the undamaged ledger answers: never something in between. Damaged or
//! missing projections (their own sled database in `projections.{n}/`) are
//! derived data: every command answers in full, the documents folded from
//! the log again.

use std::path::Path;

use crate::cli::{Output, TempLedger, ACTOR, REPORTS};
use crate::copy_dir;

/// The directory of the log's database in a ledger (store layout 5).
const LOG_DIR: &str = "journal";

/// Every command but the reports, the append last (it changes a ledger
/// that recovered).
const OTHERS: [&[&str]; 5] = [
    &["log", "--format", "jsonl"],
    &["verify"],
    &["rebuild"],
    &["export"],
    &[
        "--actor",
        "ann@contoso.com",
        "--role",
        "global-admin",
        "append",
        "user-registered",
        "--user",
        "zed@contoso.com",
        "--on",
        "2026-11-01",
    ],
];

/// What the damage did, as the commands saw it.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    /// Every command exited 3 with a clear first line.
    Refused,
    /// sled recovered: every command answered as on the undamaged ledger.
    Recovered,
}

/// The end of the data sled wrote into `db` (the file is preallocated with
/// zeros after it).
fn data_end(db: &Path) -> usize {
    let bytes = std::fs::read(db).expect("db read");
    bytes.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1)
}

fn flip(db: &Path, at: usize, len: usize) {
    let mut bytes = std::fs::read(db).expect("db read");
    for byte in &mut bytes[at..at + len] {
        *byte ^= 0xff;
    }
    std::fs::write(db, bytes).expect("db written");
}

/// Every command: the reports, then the others.
fn commands() -> impl Iterator<Item = &'static [&'static str]> {
    REPORTS.iter().chain(OTHERS.iter()).copied()
}

fn run_all(ledger: &TempLedger) -> Vec<Output> {
    commands().map(|args| ledger.run(args)).collect()
}

/// Runs every command on the damaged copy and says which of the two
/// allowed outcomes it was; anything else fails the test.
fn judge(name: &str, damaged: &TempLedger, undamaged: &[Output]) -> Seen {
    let outputs = run_all(damaged);
    let refused = outputs.iter().filter(|o| o.code == 3).count();
    if refused == outputs.len() {
        for (args, output) in commands().zip(&outputs) {
            let first = output.stderr.lines().next().unwrap_or_default();
            assert!(
                first.starts_with("error: ledger unusable: ")
                    || first.starts_with("error: ledger failed verification: "),
                "{name} {args:?}: {first}"
            );
            assert!(
                output.stdout.is_empty(),
                "{name} {args:?}: output with exit 3:\n{}",
                output.stdout
            );
        }
        return Seen::Refused;
    }
    for ((args, output), expected) in commands().zip(&outputs).zip(undamaged) {
        assert_eq!(
            (output.code, &output.stdout),
            (expected.code, &expected.stdout),
            "{name} {args:?}: neither refused (exit 3) nor the undamaged answer:\n{}",
            output.stderr
        );
    }
    Seen::Recovered
}

#[test]
fn every_command_on_a_damaged_ledger_exits_3_or_answers_in_full() {
    let base = TempLedger::demo();
    // The undamaged answers, on a copy (the append changes it).
    let copy = TempLedger::new();
    copy_dir(&base.path, &copy.path);
    let undamaged = run_all(&copy);
    assert!(undamaged.iter().all(|o| o.code == 0));
    let end = data_end(&base.path.join(LOG_DIR).join("db"));
    assert!(end > 4096, "the demo wrote data into db");

    type Damage = Box<dyn Fn(&Path)>;
    let cases: Vec<(&str, Damage, Option<Seen>)> = vec![
        (
            "db truncated to half its data",
            Box::new(move |d: &Path| {
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(d.join(LOG_DIR).join("db"))
                    .expect("db");
                file.set_len((end / 2) as u64).expect("truncated");
            }),
            Some(Seen::Refused),
        ),
        (
            "db truncated to 0 bytes",
            Box::new(|d: &Path| {
                std::fs::write(d.join(LOG_DIR).join("db"), b"").expect("emptied");
            }),
            Some(Seen::Refused),
        ),
        (
            "db emptied and its snapshot removed",
            Box::new(|d: &Path| {
                std::fs::write(d.join(LOG_DIR).join("db"), b"").expect("emptied");
                remove_snapshots(&d.join(LOG_DIR));
            }),
            Some(Seen::Refused),
        ),
        (
            "db corrupted in the middle of its data",
            Box::new(move |d: &Path| {
                flip(&d.join(LOG_DIR).join("db"), end / 2, 64);
            }),
            Some(Seen::Refused),
        ),
        (
            "db corrupted in its first page",
            Box::new(|d: &Path| {
                flip(&d.join(LOG_DIR).join("db"), 16, 16);
            }),
            Some(Seen::Refused),
        ),
        // sled preallocates its segments with zeros; it reads no further
        // than its data.
        (
            "garbage after the end of db's data",
            Box::new(move |d: &Path| {
                let db = d.join(LOG_DIR).join("db");
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(&db)
                    .expect("db");
                file.set_len((end + 8192) as u64).expect("extended");
                flip(&db, end + 4096, 64);
            }),
            None,
        ),
        (
            "db missing",
            Box::new(|d: &Path| {
                std::fs::remove_file(d.join(LOG_DIR).join("db")).expect("removed");
            }),
            Some(Seen::Refused),
        ),
        (
            "conf missing",
            Box::new(|d: &Path| {
                std::fs::remove_file(d.join(LOG_DIR).join("conf")).expect("removed");
            }),
            None,
        ),
        (
            "snapshot missing",
            Box::new(|d: &Path| remove_snapshots(&d.join(LOG_DIR))),
            None,
        ),
        // A regression: sled killed while writing a snapshot leaves a
        // partial `snap.*.generating` that sled 0.34 then reads as the
        // newest snapshot and refuses as corrupt (found by the crash test).
        (
            "an unfinished snapshot left by a killed process",
            Box::new(|d: &Path| {
                let log = d.join(LOG_DIR);
                std::fs::write(
                    log.join("snap.7FFFFFFFFFFFFFFF.generating"),
                    vec![0x5a; 4096],
                )
                .expect("written");
            }),
            Some(Seen::Recovered),
        ),
        (
            "the projections' db corrupted in its first page",
            Box::new(|d: &Path| {
                flip(&projections(d).join("db"), 16, 16);
            }),
            Some(Seen::Recovered),
        ),
        (
            "the projections' db truncated to 0 bytes",
            Box::new(|d: &Path| {
                std::fs::write(projections(d).join("db"), b"").expect("emptied");
            }),
            Some(Seen::Recovered),
        ),
        (
            "the projections' directory missing",
            Box::new(|d: &Path| {
                std::fs::remove_dir_all(projections(d)).expect("removed");
            }),
            Some(Seen::Recovered),
        ),
        (
            "a file where the directory should be",
            Box::new(|d: &Path| {
                std::fs::remove_dir_all(d).expect("removed");
                std::fs::write(d, b"not a ledger\n").expect("written");
            }),
            Some(Seen::Refused),
        ),
    ];
    let mut seen = Vec::new();
    for (name, damage, expected) in &cases {
        let damaged = TempLedger::new();
        copy_dir(&base.path, &damaged.path);
        damage(&damaged.path);
        let outcome = judge(name, &damaged, &undamaged);
        if let Some(expected) = expected {
            assert_eq!(&outcome, expected, "{name}");
        }
        seen.push(format!("{name}: {outcome:?}"));
    }
    println!(
        "damaged ledger directory: {} cases x {} commands; {}",
        cases.len(),
        commands().count(),
        seen.join("; ")
    );
}

/// The directory of the ledger's documents generation (there is one).
fn projections(dir: &Path) -> std::path::PathBuf {
    let mut generations: Vec<_> = std::fs::read_dir(dir)
        .expect("dir read")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| {
            path.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("projections."))
        })
        .collect();
    assert_eq!(generations.len(), 1, "one generation in {}", dir.display());
    generations.remove(0)
}

fn remove_snapshots(dir: &Path) {
    for entry in std::fs::read_dir(dir).expect("dir read") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with("snap.") {
            std::fs::remove_file(&path).expect("snapshot removed");
        }
    }
}

/// A regression: an append into a directory whose database was emptied
/// used to create a new empty ledger there, silently dropping the history.
#[test]
fn an_append_never_replaces_a_damaged_ledger_with_a_new_one() {
    let ledger = TempLedger::demo();
    std::fs::write(ledger.path.join(LOG_DIR).join("db"), b"").expect("emptied");
    remove_snapshots(&ledger.path.join(LOG_DIR));
    let mut args = ACTOR.to_vec();
    args.extend(["append", "user-registered", "--user", "zed@contoso.com"]);
    let output = ledger.run(&args);
    assert_eq!(output.code, 3, "{}{}", output.stdout, output.stderr);
    assert!(
        output
            .stderr
            .starts_with("error: ledger unusable: no ledger at"),
        "{}",
        output.stderr
    );
    let verified = ledger.run(&["verify"]);
    assert_eq!(
        verified.code, 3,
        "no ledger was created: {}",
        verified.stdout
    );
    assert!(
        verified.stderr.contains("holds a database but no ledger"),
        "{}",
        verified.stderr
    );
}
