//! The lazily loaded state decides exactly as the whole state does.
//!
//! For random rule-abiding histories (`benefit-workload`):
//! - every command, and an earlier command tried again (mostly refused), is
//!   decided on the whole state and on a partial state built only from the
//!   entities `benefit_domain::reads` names: same events or same refusal,
//!   and evolving the partial state leaves every entity the events touch
//!   as evolving the whole state does;
//! - recorded through a `Ledger` in random batches, the persisted state
//!   documents hold every entity of the whole state, and the ledger's own
//!   decisions (loaded from them) match the generator's.

use std::collections::BTreeSet;

use benefit_app::{fold_state, Ledger};
use benefit_domain::{decide, evolve, reads, touches, Command, Entity, EntityKey, State};
use benefit_projections::state::load_entity;
use benefit_projections::Persisted;
use benefit_store::SteppingClock;
use benefit_workload::Workload;
use chrono::{TimeDelta, TimeZone, Utc};
use proptest::prelude::*;

fn clock() -> SteppingClock {
    let start = Utc
        .with_ymd_and_hms(2026, 11, 24, 8, 0, 0)
        .single()
        .expect("valid");
    SteppingClock::new(start, TimeDelta::milliseconds(1))
}

/// The part of `whole` that `command` reads, as `load_state` builds it.
fn partial(whole: &State, command: &Command) -> State {
    let mut state = State::default();
    let mut looked_up = BTreeSet::new();
    loop {
        let missing: Vec<EntityKey> = reads(&state, command)
            .into_iter()
            .filter(|k| !looked_up.contains(k))
            .collect();
        if missing.is_empty() {
            return state;
        }
        for key in missing {
            if let Some(entity) = whole.entity(&key) {
                state.insert(key.clone(), entity);
            }
            looked_up.insert(key);
        }
    }
}

/// Every entity of a whole state, by key.
fn entity_keys(state: &State) -> Vec<EntityKey> {
    let mut keys = Vec::new();
    keys.extend(
        state
            .benefits()
            .map(|(id, _)| EntityKey::Benefit(id.clone())),
    );
    keys.extend(
        state
            .benefits()
            .map(|(id, _)| EntityKey::Credit(id.clone())),
    );
    keys.extend(state.keys().map(|(k, _)| EntityKey::Key(k.clone())));
    keys.extend(
        state
            .subscriptions()
            .map(|(id, _)| EntityKey::Subscription(id.clone())),
    );
    keys.extend(state.users().map(|(u, _)| EntityKey::User(u.clone())));
    keys.extend(state.users().map(|(u, _)| EntityKey::Holdings(u.clone())));
    keys
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn deciding_on_the_partial_state_is_deciding_on_the_whole(
        seed in any::<u64>(),
        size in 50usize..400,
    ) {
        let mut workload = Workload::new(seed);
        let mut whole = State::default();
        let mut earlier: Vec<Command> = Vec::new();
        for i in 0..size {
            let (command, _) = workload.next_command();
            let mut tried = vec![command.clone()];
            if !earlier.is_empty() {
                tried.push(earlier[(i * 7919) % earlier.len()].clone());
            }
            for command in tried {
                let part = partial(&whole, &command);
                let on_whole = decide(&whole, command.clone());
                let on_part = decide(&part, command.clone());
                prop_assert_eq!(&on_part, &on_whole, "{:?}", command);
                if let Ok(events) = on_whole {
                    let (mut w, mut p) = (whole.clone(), part);
                    for event in &events {
                        w = evolve(w, event);
                        p = evolve(p, event);
                        for key in touches(event) {
                            prop_assert_eq!(p.entity(&key), w.entity(&key), "{:?}", key);
                        }
                    }
                }
            }
            for event in decide(&whole, command.clone()).expect("the workload's commands are accepted") {
                whole = evolve(whole, &event);
            }
            earlier.push(command);
        }
    }

    #[test]
    fn the_persisted_state_documents_are_the_whole_state(
        seed in any::<u64>(),
        batches in proptest::collection::vec(1usize..40, 2..12),
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut workload = Workload::new(seed);
        let mut whole = State::default();
        let mut ledger = Ledger::create_or_open(dir.path(), clock()).expect("open");
        for size in batches {
            let commands: Vec<Command> = (0..size).map(|_| workload.next_command().0).collect();
            // A refusal drops what the ledger had loaded: this batch's state
            // comes from the documents, not from the last batch's memory.
            let mut refused = commands[0].clone();
            refused.actor = None;
            prop_assert!(ledger.record(vec![refused]).is_err());
            let recorded = ledger.record(commands).expect("the workload's commands are accepted");
            for event in &recorded.events {
                whole = evolve(whole, &event.event);
            }
            prop_assert_eq!(&whole, workload.state());
        }
        prop_assert_eq!(&fold_state(ledger.store()).expect("fold").state, &whole);
        let docs = Persisted(ledger.store());
        for key in entity_keys(&whole) {
            let stored = load_entity(&docs, &key).expect("readable");
            // A user who held credits and holds none has an empty document.
            let stored = stored.filter(|e| *e != Entity::Holdings(BTreeSet::new()));
            prop_assert_eq!(stored, whole.entity(&key), "{:?}", key);
        }
    }
}
