//! Crash safety: a child process appends batches in a loop and reports each
//! acknowledged one; we kill it with SIGKILL at random moments, reopen, and
//! check that every acknowledged batch is there, no batch is partial, the
//! sequences are contiguous and the ledger verifies.
//!
//! `BENEFIT_CRASH_ROUNDS` raises the number of kills (default 50) for long
//! runs; `BENEFIT_CRASH_SEED` replays the moments of a failed run (its seed is
//! printed).

mod support;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use benefit_store::conformance::{credit_assigned, positioned, request, user_registered, xorshift};
use benefit_store::{EventStore, SledStore, StoreError, SystemClock};
use uuid::Uuid;

const TEST: &str = "every_acknowledged_batch_survives_sigkill_and_no_batch_is_partial";
const ROUNDS_DEFAULT: u64 = 50;
/// The child is killed this long after it starts, at most.
const KILL_AFTER_MS_MAX: u64 = 90;
/// A child left alone stops by itself after this long.
const CHILD_LIFETIME_MAX: Duration = Duration::from_secs(30);

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok()?.parse().ok()
}

/// The child: appends batches of 1 to 4 events for ever, printing
/// `try CMD N` before and `ack CMD FIRST LAST` after each append.
fn append_until_killed(dir: &std::path::Path) {
    let store = loop {
        match SledStore::open(dir, SystemClock) {
            Ok(store) => break store,
            // The previous child's lock may linger for a moment.
            Err(StoreError::InUse { .. }) => std::thread::sleep(Duration::from_millis(5)),
            Err(other) => panic!("the child cannot open the ledger: {other}"),
        }
    };
    let mut out = std::io::stdout().lock();
    writeln!(out).expect("stdout");
    let started = Instant::now();
    let mut n = store.head().expect("head").seq;
    while started.elapsed() < CHILD_LIFETIME_MAX {
        let size = n % 4 + 1;
        let events = (0..size)
            .map(|i| {
                if i % 2 == 0 {
                    user_registered(n + i)
                } else {
                    credit_assigned("crash", n + i)
                }
            })
            .collect();
        let expected = store.head().expect("head").seq;
        let batch = positioned(&store, request(expected, events));
        writeln!(out, "try {} {size}", batch.command_id).expect("stdout");
        out.flush().expect("stdout");
        let appended = store
            .append(batch.clone())
            .expect("the child's appends succeed");
        writeln!(
            out,
            "ack {} {} {}",
            batch.command_id, appended.first, appended.last
        )
        .expect("stdout");
        out.flush().expect("stdout");
        n += size;
    }
}

#[test]
fn every_acknowledged_batch_survives_sigkill_and_no_batch_is_partial() {
    if let Some((role, dir)) = support::child() {
        assert_eq!(role, "append");
        append_until_killed(&dir);
        return;
    }
    let rounds = env_u64("BENEFIT_CRASH_ROUNDS").unwrap_or(ROUNDS_DEFAULT);
    let seed = env_u64("BENEFIT_CRASH_SEED").unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            | 1
    });
    println!("crash test: {rounds} rounds, BENEFIT_CRASH_SEED={seed}");
    let mut random = seed;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("ledger");
    let mut tried: HashMap<Uuid, u64> = HashMap::new();
    let mut acknowledged: HashMap<Uuid, (u64, u64)> = HashMap::new();

    for round in 0..rounds {
        let mut child = support::child_command(TEST, "append", &path)
            .spawn()
            .expect("spawn");
        let mut stdout = child.stdout.take().expect("piped stdout");
        let reader = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stdout.read_to_string(&mut text);
            text
        });
        std::thread::sleep(Duration::from_millis(
            xorshift(&mut random) % KILL_AFTER_MS_MAX,
        ));
        child.kill().expect("SIGKILL");
        child.wait().expect("the child is reaped");
        let output = reader.join().expect("the reader thread");

        for line in support::lines_with(&output, "try ") {
            let (command, size) = line.split_once(' ').expect("try CMD N");
            tried.insert(command.parse().expect("uuid"), size.parse().expect("size"));
        }
        for line in support::lines_with(&output, "ack ") {
            let parts: Vec<&str> = line.split(' ').collect();
            let range = (
                parts[1].parse().expect("first"),
                parts[2].parse().expect("last"),
            );
            acknowledged.insert(parts[0].parse().expect("uuid"), range);
        }

        let context = format!("round {round}, BENEFIT_CRASH_SEED={seed}");
        let store = SledStore::open(&path, SystemClock)
            .unwrap_or_else(|e| panic!("{context}: reopen: {e}"));
        let report = store
            .verify()
            .unwrap_or_else(|e| panic!("{context}: verify: {e}"));
        let mut batches: HashMap<Uuid, Vec<u64>> = HashMap::new();
        for record in store.read_from(0) {
            let record = record.unwrap_or_else(|e| panic!("{context}: read: {e}"));
            batches
                .entry(record.command_id)
                .or_default()
                .push(record.seq);
        }
        assert_eq!(
            batches.values().map(|b| b.len() as u64).sum::<u64>(),
            report.events,
            "{context}"
        );
        for (command, seqs) in &batches {
            let size = tried
                .get(command)
                .unwrap_or_else(|| panic!("{context}: {command} was never tried"));
            assert_eq!(
                seqs.len() as u64,
                *size,
                "{context}: batch {command} is partial"
            );
            assert!(
                seqs.windows(2).all(|w| w[1] == w[0] + 1),
                "{context}: {command} is not contiguous"
            );
        }
        for (command, (first, last)) in &acknowledged {
            let seqs = batches
                .get(command)
                .unwrap_or_else(|| panic!("{context}: acknowledged {command} is lost"));
            assert_eq!(
                (seqs[0], seqs[seqs.len() - 1]),
                (*first, *last),
                "{context}: {command} moved"
            );
        }
    }
    println!(
        "crash test: {} batches acknowledged, {} tried",
        acknowledged.len(),
        tried.len()
    );
    assert!(
        !acknowledged.is_empty(),
        "the children acknowledged nothing: the test tested nothing"
    );
}
