//! The shell's promises: a batch is decided command by command against the
//! effects of the ones before it, appended in one append or not at all
//! (R41), and a dry run appends nothing.

use benefit_app::{AppError, Ledger, View};
use benefit_domain::jsonl::parse_line;
use benefit_domain::{ClaimedActor, Command};
use benefit_events::{parse_date, UserName};
use benefit_projections::reports;
use benefit_store::{FixedClock, StoreError};
use chrono::{TimeZone, Utc};

fn clock() -> FixedClock {
    FixedClock(
        Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0)
            .single()
            .expect("valid"),
    )
}

fn commands(lines: &[&str]) -> Vec<Command> {
    let actor = ClaimedActor {
        user: UserName::parse("ann@contoso.com").expect("valid"),
        role: "global-admin".into(),
    };
    let today = parse_date("2026-01-15").expect("valid");
    lines
        .iter()
        .map(|l| parse_line(l, Some(&actor), today).expect("a command"))
        .collect()
}

const GRANT: &str = r#"{"event": "BenefitGranted", "on": "2026-01-02", "benefit": "b1", "product": "Office 365 E3", "offer": "action-pack", "benefit_type": "core", "expires": "2026-12-31", "keys": [{"key": "AAAAA-BBBBB-CCCCC-DDDDD-00100", "seats": 100}]}"#;
const REDEEM: &str = r#"{"event": "KeyRedeemed", "on": "2026-01-15", "subscription": "s1", "key": "AAAAA-BBBBB-CCCCC-DDDDD-00100"}"#;

#[test]
fn each_command_sees_the_ones_before_it_and_all_are_one_append() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut ledger = Ledger::create_or_open(dir.path().join("l"), clock()).expect("open");
    let recorded = ledger.record(commands(&[GRANT, REDEEM])).expect("accepted");
    assert!(recorded.appended.is_some(), "one append");
    assert_eq!(
        recorded.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert!(recorded.events[1].end_change().is_some());
    let rows = ledger
        .report(View::Current, |docs| {
            reports::subscriptions(docs, parse_date("2026-02-01").expect("valid"))
        })
        .expect("report");
    assert_eq!(rows.len(), 1, "the projections caught up");
}

#[test]
fn a_refused_command_appends_nothing_and_is_named_by_index() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut ledger = Ledger::create_or_open(dir.path().join("l"), clock()).expect("open");
    // The second redemption of the same key is refused (R6).
    let error = ledger
        .record(commands(&[GRANT, REDEEM, REDEEM]))
        .expect_err("refused");
    match error {
        AppError::Refused { index, refusal } => {
            assert_eq!(index, 2);
            assert_eq!(refusal.rule(), "R6");
        }
        other => panic!("expected a refusal, got {other}"),
    }
    assert_eq!(ledger.head().expect("head").seq, 0);
    // The state was not left half-decided: the good prefix records.
    ledger.record(commands(&[GRANT, REDEEM])).expect("accepted");
    assert_eq!(ledger.head().expect("head").seq, 2);
}

#[test]
fn a_dry_run_decides_and_appends_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut ledger = Ledger::create_or_open(dir.path().join("l"), clock()).expect("open");
    let dry = ledger
        .dry_run(commands(&[GRANT, REDEEM]))
        .expect("accepted");
    assert!(dry.dry_run && dry.appended.is_none());
    assert_eq!(dry.events.len(), 2);
    assert_eq!(ledger.head().expect("head").seq, 0);
    assert!(matches!(ledger.record(Vec::new()), Err(AppError::Empty)));
}

#[test]
fn a_read_of_a_missing_ledger_is_an_error_and_creates_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("missing");
    let error = Ledger::open_existing(&path, clock()).expect_err("missing");
    assert!(
        matches!(error, AppError::Store(StoreError::NoLedger { .. })),
        "{error}"
    );
    assert!(!path.exists());
}
