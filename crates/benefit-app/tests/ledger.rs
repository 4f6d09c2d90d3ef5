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
            let today = parse_date("2026-02-01").expect("valid");
            reports::subscriptions(docs, reports::ReportDate::Latest { today })
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

const ADD_USER: &str =
    r#"{"event": "UserRegistered", "on": "2026-01-16", "user": "dan@contoso.com"}"#;
const GRANT_2: &str = r#"{"event": "BenefitGranted", "on": "2026-01-03", "benefit": "b2", "product": "Office 365 E3", "offer": "action-pack", "benefit_type": "core", "expires": "2026-12-31", "keys": [{"key": "AAAAA-BBBBB-CCCCC-DDDDD-00200", "seats": 25}]}"#;
const EXTEND: &str = r#"{"event": "EndDateExtended", "on": "2026-03-01", "subscription": "s1", "key": "AAAAA-BBBBB-CCCCC-DDDDD-00200"}"#;

/// Everything the persisted documents hold, compared with a fold of the log.
fn assert_rebuild_finds_nothing<S>(ledger: &Ledger<S>, head: u64)
where
    S: benefit_store::EventStore + benefit_store::ProjectionStore + Sync,
{
    let report = ledger
        .rebuild(benefit_projections::RebuildMode::Check, &mut |_| {})
        .expect("rebuild");
    assert_eq!(report.seq, head);
    assert_eq!(report.differences, vec![], "persisted == rebuilt");
}

/// A process killed between the log's commit and the documents' commit
/// leaves a log ahead of the checkpoint; each commit is one atomic
/// write, so that state is exactly what a log-only commit leaves. The next
/// open catches up, and rebuild finds no difference (issue 11).
#[test]
fn a_kill_between_the_logs_commit_and_the_documents_is_caught_up_on_the_next_open() {
    use benefit_store::conformance::positioned;
    use benefit_store::{AppendRequest, EventStore, ProjectionStore};
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("l");
    let decided = {
        let mut ledger = Ledger::create_or_open(&path, clock()).expect("open");
        ledger.record(commands(&[GRANT, REDEEM])).expect("accepted");
        ledger
            .dry_run(commands(&[GRANT_2, EXTEND]))
            .expect("decided")
    };
    {
        let store = benefit_store::SledStore::open_existing(&path, clock()).expect("open");
        let events = decided.events.iter().map(|e| e.event.clone());
        let actor = decided.events[0].actor.clone();
        let request = AppendRequest::by(&actor, decided.command_id, 2, events);
        store
            .append(positioned(&store, request))
            .expect("the log alone");
        assert_eq!(store.projection_checkpoint().expect("checkpoint"), 2);
    }
    let mut ledger = Ledger::open_existing(&path, clock()).expect("reopens");
    assert_rebuild_finds_nothing(&ledger, 4);
    let rows = ledger
        .report(View::Current, |docs| reports::audit(docs, None))
        .expect("report");
    assert_eq!(rows.len(), 2, "the extension's audit entry is there");
    ledger.record(commands(&[ADD_USER])).expect("appends go on");
    assert_rebuild_finds_nothing(&ledger, 5);
}

/// On a backend whose document commit fails (injected), the append still
/// stands: the log is the truth. Reports catch the documents up once the
/// fault is gone, and the documents equal a rebuild.
#[test]
fn a_failed_document_commit_leaves_the_append_standing_and_is_caught_up() {
    use benefit_store::{EventStore, Fault, MemoryStore, ProjectionStore};
    let mut ledger = Ledger::over(MemoryStore::new(clock()));
    ledger.record(commands(&[GRANT, REDEEM])).expect("accepted");
    ledger.store().inject(Fault::ProjectionCommit);
    let recorded = ledger.record(commands(&[GRANT_2, EXTEND])).expect("stored");
    assert_eq!(recorded.appended.map(|a| a.last), Some(4));
    assert_eq!(
        ledger.store().projection_checkpoint().expect("checkpoint"),
        2
    );
    ledger.store().heal();
    assert_rebuild_finds_nothing(&ledger, 4);
    ledger.record(commands(&[ADD_USER])).expect("appends go on");
    assert_eq!(ledger.store().head().expect("head").seq, 5);
    assert_rebuild_finds_nothing(&ledger, 5);
}

/// A log commit that fails appends nothing, and the documents do not move.
#[test]
fn a_failed_log_commit_appends_nothing() {
    use benefit_store::{EventStore, Fault, MemoryStore, ProjectionStore};
    let mut ledger = Ledger::over(MemoryStore::new(clock()));
    ledger.record(commands(&[GRANT, REDEEM])).expect("accepted");
    ledger.store().inject(Fault::LogCommit);
    let error = ledger
        .record(commands(&[ADD_USER]))
        .expect_err("the commit fails");
    assert!(
        matches!(error, AppError::Store(StoreError::Io { .. })),
        "{error}"
    );
    assert_eq!(ledger.store().head().expect("head").seq, 2);
    assert_eq!(
        ledger.store().projection_checkpoint().expect("checkpoint"),
        2
    );
    ledger.store().heal();
    ledger.record(commands(&[ADD_USER])).expect("appends go on");
    assert_rebuild_finds_nothing(&ledger, 3);
}

/// A retry under the same command id is answered from the log before it is
/// decided: a redemption that the rules would now refuse (its key is used,
/// R6) is still the stored batch; other commands under the id are refused.
#[test]
fn a_retry_is_looked_up_before_it_is_decided() {
    use benefit_app::RecordOptions;
    let mut ledger = Ledger::over(benefit_store::MemoryStore::new(clock()));
    let id = uuid::Uuid::from_u128(7);
    let with_id = || RecordOptions {
        command_id: Some(id),
        ..RecordOptions::default()
    };
    let first = ledger
        .record_with(commands(&[GRANT, REDEEM]), with_id())
        .expect("accepted");
    let again = ledger
        .record_with(commands(&[GRANT, REDEEM]), with_id())
        .expect("a repeat");
    assert!(again.repeat());
    assert_eq!(again.events, first.events);
    match ledger.record_with(commands(&[GRANT_2]), with_id()) {
        Err(AppError::Store(StoreError::CommandIdReused { command_id })) => {
            assert_eq!(command_id, id)
        }
        other => panic!("expected the reuse to be refused, got {other:?}"),
    }
    assert_rebuild_finds_nothing(&ledger, 2);
}

/// Issue 13: a forged decision-state document (a subscription's end moved a
/// year on, under the store) feeds the next extension; the event is stored
/// with inputs and outcome that agree with each other (R40 passes), but
/// `verify` decides every event again on the state the log itself gives and
/// names that sequence.
#[test]
fn verify_names_the_event_a_forged_state_document_fed() {
    use benefit_projections::docs::{decode_document, encode_document};
    use benefit_store::{EventStore, ProjectionStore};
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("l");
    {
        let mut ledger = Ledger::create_or_open(&path, clock()).expect("open");
        ledger
            .record(commands(&[GRANT, REDEEM, GRANT_2]))
            .expect("accepted");
        let verified = ledger.verify(None, &mut |_, _| {}).expect("verify");
        assert_eq!((verified.findings.len(), verified.redecided), (0, None));
        let store = ledger.store();
        let key = "state/sub/s1";
        let bytes = store
            .projection_get(key)
            .expect("get")
            .expect("the subscription's state");
        let mut forged: benefit_domain::Subscription =
            decode_document(key, &bytes).expect("decodes");
        forged.end = forged.end + chrono::Months::new(12);
        let head = store.head().expect("head").seq;
        let writes = [(key.to_owned(), encode_document(&forged))].into();
        store
            .projection_commit(head, head, writes)
            .expect("forged under the store");
    }
    let mut ledger = Ledger::open_existing(&path, clock()).expect("reopens");
    ledger
        .record(commands(&[EXTEND]))
        .expect("decided on the forged state");
    let verified = ledger.verify(None, &mut |_, _| {}).expect("verify");
    assert!(
        verified.findings.is_empty(),
        "inputs and outcome agree: {:?}",
        verified.findings
    );
    let finding = verified.redecided.expect("the forged input is found");
    assert_eq!(
        (finding.seq, finding.event.as_str()),
        (4, "EndDateExtended")
    );
    assert!(
        finding.problem.contains("but the log before it gives end"),
        "{}",
        finding.problem
    );
}
