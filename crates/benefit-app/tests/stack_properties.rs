//! Determinism across the whole stack (issue 7): for random rule-abiding
//! histories, recorded in random batches with refused commands mixed in,
//!
//! - the state the appends built equals a fold of the stored log, and a
//!   fold of the events the generator decided for those commands;
//! - the persisted projections equal a rebuild from the log;
//! - replaying the export into a fresh ledger gives the same events, the
//!   same state and the same projections (recorded-at aside: it is the new
//!   ledger's own time);
//! - a refused command leaves the head digest as it was.

use benefit_app::{fold_state, AppError, Ledger};
use benefit_domain::jsonl::parse_line;
use benefit_domain::{evolve, Action, ClaimedActor, Command, State};
use benefit_events::{parse_date, Event};
use benefit_projections::RebuildMode;
use benefit_store::{EventStore, ProjectionStore, SteppingClock};
use benefit_workload::Workload;
use chrono::{TimeDelta, TimeZone, Utc};
use proptest::prelude::*;
use serde_json::Value;

fn clock() -> SteppingClock {
    let start = Utc
        .with_ymd_and_hms(2026, 11, 24, 8, 0, 0)
        .single()
        .expect("valid");
    SteppingClock::new(start, TimeDelta::milliseconds(1))
}

/// Every projection document, with recorded-at times removed (they are the
/// recording ledger's own, not facts of the history).
fn documents(ledger: &Ledger) -> Vec<(String, Value)> {
    fn strip(value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.remove("recorded_at");
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    ledger
        .store()
        .projection_scan("")
        .expect("scan")
        .into_iter()
        .map(|(key, bytes)| {
            let mut value: Value =
                benefit_projections::docs::document_json(&key, &bytes).expect("a document");
            strip(&mut value);
            (key, value)
        })
        .collect()
}

fn events(ledger: &Ledger) -> Vec<Event> {
    ledger
        .store()
        .read_from(1)
        .map(|r| r.expect("readable").event)
        .collect()
}

/// A command the rules must refuse, made from one already accepted: the same
/// key again (R6 or R10), or the same command by a role that may not write
/// (R1).
fn refused_variant(accepted: &Command, by_bad_role: bool) -> Command {
    let mut command = accepted.clone();
    if by_bad_role
        || !matches!(
            command.action,
            Action::RedeemKey { .. } | Action::ExtendEndDate { .. } | Action::AddLicenses { .. }
        )
    {
        command.actor = Some(ClaimedActor {
            user: accepted.actor.as_ref().expect("an actor").user.clone(),
            role: "reports-reader".into(),
        });
    }
    command
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn appends_rebuild_and_export_replay_agree_and_refusals_change_nothing(
        seed in any::<u64>(),
        batches in proptest::collection::vec((1usize..25, any::<bool>(), any::<bool>()), 3..20),
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut ledger = Ledger::create_or_open(dir.path().join("a"), clock()).expect("open");
        let mut workload = Workload::new(seed);
        let mut last: Option<Command> = None;
        let mut expected = State::default();
        for (size, refuse, by_bad_role) in batches {
            if refuse {
                if let Some(accepted) = &last {
                    let before = ledger.head().expect("head");
                    let outcome = ledger.record(vec![refused_variant(accepted, by_bad_role)]);
                    prop_assert!(matches!(outcome, Err(AppError::Refused { index: 0, .. })), "{:?}", outcome);
                    prop_assert_eq!(ledger.head().expect("head"), before);
                }
            }
            let commands: Vec<Command> = (0..size)
                .map(|_| {
                    let (command, event) = workload.next_command();
                    expected = evolve(std::mem::take(&mut expected), &event);
                    command
                })
                .collect();
            last = commands.last().cloned();
            ledger.record(commands).expect("the workload's commands are accepted");
        }

        let loaded = fold_state(ledger.store()).expect("load");
        prop_assert_eq!(&loaded.state, &expected);
        let rebuilt = ledger.rebuild(RebuildMode::Check, &mut |_| {}).expect("rebuild");
        prop_assert_eq!(rebuilt.differences.len(), 0);

        let lines: Vec<String> = ledger.export().map(|l| l.expect("export line")).collect();
        let today = parse_date("2026-11-24").expect("date");
        let commands: Vec<Command> = lines
            .iter()
            .map(|l| parse_line(l, None, today).expect("exported lines parse"))
            .collect();
        let mut replay = Ledger::create_or_open(dir.path().join("b"), clock()).expect("open");
        replay.record(commands).expect("the export replays");
        prop_assert_eq!(events(&replay), events(&ledger));
        prop_assert_eq!(fold_state(replay.store()).expect("load").state, loaded.state);
        prop_assert_eq!(documents(&replay), documents(&ledger));
        prop_assert_eq!(replay.store().head().expect("head").seq, ledger.store().head().expect("head").seq);
    }
}
