//! Threads racing on one ledger with expected positions: in every round
//! exactly one wins and the others see a conflict; no event is lost or
//! duplicated.

use std::collections::HashSet;
use std::sync::{Barrier, Mutex};

use benefit_store::conformance::{
    clock, collect, credit_assigned, positioned, request, user_registered,
};
use benefit_store::{EventStore, SledStore, StoreError};

const THREADS: u64 = 4;
const ROUNDS: u64 = 25;

#[test]
fn racing_appends_at_one_position_have_exactly_one_winner_and_lose_nothing() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = SledStore::open(dir.path(), clock()).expect("open");
    let barrier = Barrier::new(THREADS as usize);
    let winners = Mutex::new(Vec::new());
    let conflicts = Mutex::new(0u64);

    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let (store, barrier, winners, conflicts) = (&store, &barrier, &winners, &conflicts);
            scope.spawn(move || {
                for round in 0..ROUNDS {
                    barrier.wait();
                    let expected = store.head().expect("head").seq;
                    barrier.wait();
                    let events = vec![
                        user_registered(round * THREADS + thread),
                        credit_assigned("shared", thread),
                    ];
                    let attempt = positioned(store, request(expected, events));
                    match store.append(attempt.clone()) {
                        Ok(appended) => winners.lock().expect("lock").push((
                            round,
                            attempt.command_id,
                            appended,
                        )),
                        Err(StoreError::Conflict {
                            expected: e,
                            actual,
                        }) => {
                            assert_eq!((e, actual), (expected, expected + 2));
                            *conflicts.lock().expect("lock") += 1;
                        }
                        Err(other) => panic!("only conflicts may fail, got {other}"),
                    }
                    barrier.wait();
                }
            });
        }
    });

    let winners = winners.into_inner().expect("lock");
    let conflicts = conflicts.into_inner().expect("lock");
    let rounds: HashSet<u64> = winners.iter().map(|(round, _, _)| *round).collect();
    assert_eq!(
        (winners.len() as u64, rounds.len() as u64),
        (ROUNDS, ROUNDS),
        "one winner per round"
    );
    assert_eq!(conflicts, ROUNDS * (THREADS - 1));

    let records = collect(store.read_from(0));
    assert_eq!(records.len() as u64, ROUNDS * 2);
    for (_, command_id, appended) in &winners {
        let batch: Vec<u64> = records
            .iter()
            .filter(|r| r.command_id == *command_id)
            .map(|r| r.seq)
            .collect();
        assert_eq!(batch, vec![appended.first, appended.last]);
    }
    let stream = credit_assigned("shared", 0).stream();
    let shared: Vec<_> = records.iter().filter(|r| r.stream == stream).collect();
    assert_eq!(
        shared.iter().map(|r| r.stream_version).collect::<Vec<_>>(),
        (1..=ROUNDS).collect::<Vec<_>>()
    );
    let report = store.verify().expect("the ledger verifies");
    assert_eq!(report.events, ROUNDS * 2);
}
