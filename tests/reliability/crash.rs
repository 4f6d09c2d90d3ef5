//! Crash safety through the CLI (issue 7): `benefit-ledger append --file`
//! of a large import is killed with SIGKILL at random moments. After each
//! kill the ledger holds all of that import or none of it (its head moved
//! by the import's length or not at all), `verify` passes and `rebuild`
//! finds no difference. Every import that was not wholly appended is tried
//! again in the next round, so an event lost would show as a head that
//! disagrees with the imports appended.
//!
//! `BENEFIT_CRASH_ROUNDS` sets the number of kills (default
//! [`ROUNDS_DEFAULT`]); `BENEFIT_CRASH_SEED` replays the moments of a run
//! (the seed is printed).

use std::path::Path;
use std::time::{Duration, Instant};

use benefit_domain::authorize;
use benefit_domain::jsonl::to_line;
use benefit_workload::Workload;

use crate::cli::{command, TempLedger, ACTOR};

/// Kills in a normal test run; `BENEFIT_CRASH_ROUNDS=200` for the long one.
const ROUNDS_DEFAULT: u64 = 12;
/// The lines of one import.
const IMPORT_LINES: usize = 2_000;
/// A ledger grown past this many events is replaced by a fresh one, so that
/// a long run stays as fast per round as a short one.
const LEDGER_EVENTS_MAX: u64 = 20_000;
/// The seed of the workload and of the kill moments, unless replayed.
const SEED_DEFAULT: u64 = 7;

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.parse().ok()
}

/// splitmix64: the kill moments, reproducible from the seed.
struct Moments(u64);

impl Moments {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A duration in `0..=max`.
    fn up_to(&mut self, max: Duration) -> Duration {
        let micros = u64::try_from(max.as_micros()).unwrap_or(u64::MAX).max(1);
        Duration::from_micros(self.next() % (micros + 1))
    }
}

/// A rule-abiding history, handed out as imports of [`IMPORT_LINES`] lines
/// by one operator, in the export format.
struct Imports {
    workload: Workload,
}

impl Imports {
    fn new(seed: u64) -> Self {
        Self {
            workload: Workload::new(seed),
        }
    }

    fn next(&mut self) -> String {
        let actor = authorize(Some(self.workload.actor())).expect("the workload's actor may act");
        let mut text = String::new();
        for _ in 0..IMPORT_LINES {
            let (_, event) = self.workload.next_command();
            text.push_str(&to_line(&event, &actor));
            text.push('\n');
        }
        text
    }
}

/// The head sequence `verify` prints. When `verify` fails, the ledger is
/// kept (its path is printed) for a post-mortem, and the test fails naming
/// the round.
fn verified_seq(ledger: &TempLedger, round: u64, seed: u64, wait: Duration) -> u64 {
    let output = ledger.run(&["verify"]);
    if output.code != 0 {
        let kept = std::env::temp_dir().join(format!("benefit-crash-seed{seed}-round{round}"));
        let _ = std::fs::remove_dir_all(&kept);
        crate::copy_dir(&ledger.path, &kept);
        panic!(
            "round {round} (seed {seed}): killed after {wait:?}, verify failed; the ledger is kept in {}:\n{}",
            kept.display(),
            output.stderr
        );
    }
    let head = output
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("head "))
        .expect("verify prints the head");
    let (seq, _) = head.split_once(':').expect("SEQ:HASH");
    seq.parse().expect("a sequence")
}

fn import_args(file: &Path) -> Vec<String> {
    let mut args: Vec<String> = ACTOR.iter().map(|a| (*a).to_owned()).collect();
    args.extend(["append", "--file", file.to_str().expect("utf-8")].map(String::from));
    args
}

/// Runs the import to the end; returns how long it took.
fn import_whole(ledger: &TempLedger, file: &Path) -> Duration {
    let started = Instant::now();
    let mut all = vec!["--ledger".to_owned(), ledger.arg().to_owned()];
    all.extend(import_args(file));
    let args: Vec<&str> = all.iter().map(String::as_str).collect();
    let output = command(&args).output().expect("the binary runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    started.elapsed()
}

#[test]
fn a_killed_import_leaves_all_of_it_or_none_and_the_ledger_verifies() {
    let rounds = env_u64("BENEFIT_CRASH_ROUNDS").unwrap_or(ROUNDS_DEFAULT);
    let seed = env_u64("BENEFIT_CRASH_SEED").unwrap_or(SEED_DEFAULT);
    println!("crash through the CLI: {rounds} rounds, seed {seed} (BENEFIT_CRASH_SEED={seed} replays them)");
    let mut moments = Moments(seed);
    let scratch = tempfile::tempdir().expect("temp dir");
    let file = scratch.path().join("import.jsonl");
    let (mut all, mut none, mut finished, mut ledgers) = (0u64, 0u64, 0u64, 1u64);
    let mut imports = Imports::new(seed);
    let mut ledger = TempLedger::new();
    let mut pending = imports.next();
    std::fs::write(&file, &pending).expect("import written");
    // One whole import first: it creates the ledger and times an import.
    let whole = import_whole(&ledger, &file);
    // Kills come within this window. It widens after a round that appended
    // none and narrows after one that appended all, so that imports grown
    // slower with the ledger are still killed on both sides of their commit.
    let mut window = whole + whole / 5;
    let mut expected = IMPORT_LINES as u64;
    pending = imports.next();
    std::fs::write(&file, &pending).expect("import written");
    for round in 1..=rounds {
        if expected >= LEDGER_EVENTS_MAX {
            ledger = TempLedger::new();
            imports = Imports::new(moments.next());
            pending = imports.next();
            std::fs::write(&file, &pending).expect("import written");
            import_whole(&ledger, &file);
            expected = IMPORT_LINES as u64;
            pending = imports.next();
            std::fs::write(&file, &pending).expect("import written");
            ledgers += 1;
        }
        let wait = moments.up_to(window);
        let mut all_args = vec!["--ledger".to_owned(), ledger.arg().to_owned()];
        all_args.extend(import_args(&file));
        let args: Vec<&str> = all_args.iter().map(String::as_str).collect();
        let mut child = command(&args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the binary runs");
        std::thread::sleep(wait);
        let _ = child.kill(); // SIGKILL; an error means it had already ended.
        let status = child.wait().expect("the child ends");
        let seq = verified_seq(&ledger, round, seed, wait);
        let rebuilt = ledger.run(&["rebuild"]);
        assert_eq!(
            rebuilt.code, 0,
            "round {round} (seed {seed}): rebuild found differences:\n{}{}",
            rebuilt.stdout, rebuilt.stderr
        );
        if status.success() {
            finished += 1;
        }
        if seq == expected + IMPORT_LINES as u64 {
            all += 1;
            window = window * 19 / 20;
            expected = seq;
            pending = imports.next();
            std::fs::write(&file, &pending).expect("import written");
        } else {
            assert_eq!(
                seq, expected,
                "round {round} (seed {seed}): killed after {wait:?}, the head is {seq}: neither all ({}) nor none ({expected}) of the import",
                expected + IMPORT_LINES as u64
            );
            assert!(
                !status.success(),
                "round {round}: the import said it succeeded, yet nothing was appended"
            );
            none += 1;
            window = window * 21 / 20;
        }
    }
    println!(
        "crash through the CLI: {rounds} rounds survived ({all} all, {none} none; {finished} imports ended before their kill), imports of {IMPORT_LINES} lines (a whole one took {whole:?}), killed within {window:?} at the end, {ledgers} ledger(s); verify and rebuild passed after every kill; events lost: 0"
    );
    assert_eq!(all + none, rounds);
}

/// The differences `rebuild` (check) reports, by document key.
fn differences(ledger: &TempLedger) -> Vec<String> {
    let output = ledger.run(&["rebuild"]);
    let mut keys: Vec<String> = output
        .stderr
        .lines()
        .filter_map(|l| l.split("differs: ").nth(1))
        .map(|rest| rest.split_whitespace().next().unwrap_or(rest).to_owned())
        .collect();
    keys.sort();
    assert!(
        output.code == 0 || !keys.is_empty(),
        "rebuild failed without naming a difference:\n{}",
        output.stderr
    );
    keys
}

/// A rebuild that replaces the projections (a fold from 0, written into a
/// new documents generation that is switched to at the end; before the
/// thirteenth round, a reset and a catch-up) is killed at random moments
/// (issue 11). A crash mid-reset once left documents behind a checkpoint of
/// 0, and the next catch-up folded over them. Now, whenever the kill comes,
/// the next open finds the old generation or the new one and catches up:
/// `rebuild` then finds either nothing, or only the document tampered
/// before the kill (the switch had not happened), never anything else.
#[test]
fn a_reset_killed_at_any_moment_never_leaves_stale_documents_to_fold_over() {
    use benefit_store::{EventStore, ProjectionStore};
    let rounds = env_u64("BENEFIT_CRASH_ROUNDS").unwrap_or(ROUNDS_DEFAULT);
    let seed = env_u64("BENEFIT_CRASH_SEED").unwrap_or(SEED_DEFAULT);
    let mut moments = Moments(seed);
    let scratch = tempfile::tempdir().expect("temp dir");
    let file = scratch.path().join("import.jsonl");
    let mut imports = Imports::new(seed);
    let ledger = TempLedger::new();
    for _ in 0..4 {
        std::fs::write(&file, imports.next()).expect("import written");
        import_whole(&ledger, &file);
    }
    let tamper = || {
        let store = ledger.open_store();
        let head = store.head().expect("head").seq;
        let (key, _) = store.projection_scan("sub/").expect("scan").remove(0);
        let forged = [(key.clone(), b"forged".to_vec())].into();
        store.projection_commit(head, head, forged).expect("tamper");
        key
    };
    let args = ["--ledger", ledger.arg(), "rebuild", "--repair"];
    tamper();
    let started = Instant::now();
    assert_eq!(ledger.run(&["rebuild", "--repair"]).code, 0);
    // Kills come within this window: it widens after a kill that came
    // before the reset and narrows after one that came too late to matter.
    let mut window = started.elapsed() + started.elapsed() / 5;
    let (mut clean, mut interrupted, mut untouched) = (0u64, 0u64, 0u64);
    for round in 1..=rounds {
        let tampered = tamper();
        let mut child = command(&args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the binary runs");
        let wait = moments.up_to(window);
        std::thread::sleep(wait);
        let _ = child.kill();
        let status = child.wait().expect("the child ends");
        if status.success() {
            window = window * 19 / 20;
        }
        match differences(&ledger).as_slice() {
            [] => {
                clean += 1;
                interrupted += u64::from(!status.success());
            }
            [only] if *only == tampered => {
                untouched += 1;
                window = window * 21 / 20;
                assert_eq!(ledger.run(&["rebuild", "--repair"]).code, 0);
            }
            other => panic!(
                "round {round} (seed {seed}): killed after {wait:?}, rebuild found {other:?}, not just {tampered}"
            ),
        }
        assert_eq!(ledger.run(&["verify"]).code, 0, "round {round}");
    }
    println!(
        "reset killed {rounds} times: {clean} caught up clean ({interrupted} of them killed mid-repair), {untouched} killed before the switch"
    );
}
