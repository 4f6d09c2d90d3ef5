//! The generator is deterministic, and its histories exercise every event
//! type the ledger has, each accepted by the real rules.

use std::collections::BTreeMap;

use benefit_domain::{evolve, rederive, State};
use benefit_events::{Event, EventType};
use benefit_workload::Workload;

#[test]
fn the_same_seed_gives_the_same_history() {
    let a: Vec<Event> = Workload::new(7).take(2_000).collect();
    let b: Vec<Event> = Workload::new(7).take(2_000).collect();
    let c: Vec<Event> = Workload::new(8).take(2_000).collect();
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn a_history_has_every_event_type_and_every_outcome_rederives() {
    let mut counts: BTreeMap<EventType, u64> = BTreeMap::new();
    let mut replayed = State::default();
    let mut workload = Workload::new(1);
    for event in workload.by_ref().take(20_000) {
        *counts.entry(event.event_type()).or_default() += 1;
        assert_eq!(rederive(&event), Ok(()), "{event:?}");
        replayed = evolve(replayed, &event);
    }
    for event_type in EventType::ALL {
        assert!(
            counts.get(&event_type).copied().unwrap_or(0) >= 10,
            "{event_type}: {counts:?}"
        );
    }
    assert_eq!(
        &replayed,
        workload.state(),
        "replaying the events gives the generator's state"
    );
    let reactivations = Workload::new(1)
        .take(20_000)
        .filter(|e| matches!(e, Event::KeyRedeemed(r) if r.reactivated_from.is_some()))
        .count();
    assert!(reactivations > 0, "expired subscriptions are reactivated");
}

#[test]
fn each_command_decides_again_to_its_event_against_the_replayed_state() {
    let events: Vec<Event> = Workload::new(5).take(3_000).collect();
    let mut workload = Workload::new(5);
    let mut state = State::default();
    for expected in events {
        let (command, event) = workload.next_command();
        assert_eq!(
            event, expected,
            "commands and events come in the same order"
        );
        let decided = benefit_domain::decide(&state, command).expect("accepted again");
        assert_eq!(decided, vec![event.clone()]);
        state = evolve(state, &event);
    }
}
