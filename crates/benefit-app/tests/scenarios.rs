//! The scenario suite: every file in `tests/scenarios/` (JSON Lines in the
//! import format) tells one story. Each is recorded into a fresh ledger line
//! by line through `benefit_app::Ledger`, the path the CLI takes (issue 11:
//! tests follow the production path); its reports and audit trail are
//! pinned as snapshots; the
//! persisted projections must equal a rebuild; and the projections as of
//! every sequence must equal those the ledger had when it held only that
//! many events. Adding a scenario is adding a file.
//!
//! A line may carry `"expect": "refused (R12)"`: the command must be refused
//! with that rule, and the refusal is part of the snapshot. A first line
//! `{"report_on": [dates]}` names the dates the subscriptions report is
//! evaluated on (R20).

use std::path::{Path, PathBuf};

use benefit_app::{AppError, Ledger};
use benefit_domain::jsonl::parse_line;
use benefit_domain::ClaimedActor;
use benefit_events::{parse_date, Date, UserName};
use benefit_projections::docs::is_view;
use benefit_projections::reports::ReportDate;
use benefit_projections::{reports, DocMap, Docs, Folded, Projections, RebuildMode};
use benefit_store::{AsOf, EventStore, ProjectionStore, SledStore, SteppingClock};
use chrono::{TimeDelta, TimeZone, Utc};
use serde_json::{json, Value};

fn scenario_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios")
}

fn operator() -> ClaimedActor {
    ClaimedActor {
        user: UserName::parse("operator@contoso.com").expect("valid"),
        role: "mpn-partner-admin".into(),
    }
}

struct Recorded {
    _dir: tempfile::TempDir,
    ledger: Ledger<SledStore>,
    report_on: Vec<Date>,
    refusals: Vec<Value>,
    /// The persisted projections after each sequence, caught up then.
    after_each: Vec<DocMap>,
}

fn all_docs(store: &SledStore) -> DocMap {
    DocMap(
        store
            .projection_scan("")
            .expect("scan")
            .into_iter()
            .collect(),
    )
}

fn record(path: &Path) -> Recorded {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .expect("file name")
        .to_owned();
    let text = std::fs::read_to_string(path).expect("scenario readable");
    let dir = tempfile::tempdir().expect("temp dir");
    let start = Utc
        .with_ymd_and_hms(2026, 11, 24, 9, 0, 0)
        .single()
        .expect("valid instant");
    let mut ledger = Ledger::create_or_open(
        dir.path().join("ledger"),
        SteppingClock::new(start, TimeDelta::seconds(1)),
    )
    .expect("open ledger");
    let (mut report_on, mut refusals, mut after_each) = (Vec::new(), Vec::new(), Vec::new());
    for (index, line) in text.lines().enumerate() {
        let number = index as u64 + 1;
        let mut value: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{name}:{number}: {e}"));
        if let Some(dates) = value.get("report_on") {
            report_on = dates
                .as_array()
                .expect("report_on is a list")
                .iter()
                .map(|d| parse_date(d.as_str().expect("a date")).expect("valid date"))
                .collect();
            continue;
        }
        let expect = value.as_object_mut().and_then(|o| o.remove("expect"));
        let command = parse_line(&value.to_string(), Some(&operator()), start.date_naive())
            .unwrap_or_else(|e| panic!("{name}:{number}: {e}"));
        match (ledger.record(vec![command]), expect) {
            (Ok(_), None) => after_each.push(all_docs(ledger.store())),
            (Err(AppError::Refused { refusal, .. }), Some(expected)) => {
                let expected = expected.as_str().expect("expect is text");
                let message = refusal.to_string();
                assert!(
                    message.starts_with(expected),
                    "{name}:{number}: {message} is not {expected}"
                );
                refusals.push(json!({"line": number, "refusal": message}));
            }
            (Ok(recorded), Some(expected)) => {
                panic!(
                    "{name}:{number}: expected {expected}, got {:?}",
                    recorded.events
                )
            }
            (Err(error), _) => panic!("{name}:{number}: {error}"),
        }
    }
    Recorded {
        _dir: dir,
        ledger,
        report_on,
        refusals,
        after_each,
    }
}

fn reports_json(docs: &dyn Docs, report_on: &[Date]) -> Value {
    let subscriptions: serde_json::Map<String, Value> = report_on
        .iter()
        .map(|d| {
            (
                d.to_string(),
                json!(reports::subscriptions(docs, ReportDate::On(*d)).expect("report")),
            )
        })
        .collect();
    let first = report_on.first().copied().expect("a report date");
    json!({
        "subscriptions": subscriptions,
        "audit": reports::audit(docs, None).expect("audit"),
        "credits": reports::credits(docs).expect("credits"),
        "benefits": reports::benefits(docs).expect("benefits"),
        "unused_keys": reports::unused_keys(docs).expect("unused"),
        "expiring_90_days": reports::expiring(docs, ReportDate::On(first), 90).expect("expiring"),
    })
}

fn scenarios() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(scenario_dir())
        .expect("tests/scenarios exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 4, "the scenario files are there");
    paths
}

#[test]
fn every_scenario_has_pinned_reports_and_audit_trail() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../../snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    for path in scenarios() {
        let recorded = record(&path);
        let projections = Projections::new(recorded.ledger.store());
        let current = projections.current().expect("current");
        let mut snapshot = reports_json(&current, &recorded.report_on);
        snapshot["refusals"] = json!(recorded.refusals);
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("stem")
            .to_owned();
        settings.bind(|| insta::assert_json_snapshot!(format!("scenario__{stem}"), snapshot));
    }
}

/// The state on a date replays a subscription's audit records with the
/// fold's own step: on a date after every event, it is the latest view.
#[test]
fn a_subscription_on_a_date_after_its_history_is_its_latest_view() {
    let far = parse_date("9999-12-31").expect("valid");
    for path in scenarios() {
        let recorded = record(&path);
        let current = Projections::new(recorded.ledger.store())
            .current()
            .expect("current");
        let on = reports::subscriptions(&current, ReportDate::On(far)).expect("on");
        let latest =
            reports::subscriptions(&current, ReportDate::Latest { today: far }).expect("latest");
        assert_eq!(on, latest, "{}", path.display());
    }
}

/// A long fold's bound on the documents it holds in memory, small enough
/// that every scenario's rebuild and as-of views go through its scratch
/// store on disk, several times over.
const SMALL_FOLD_LIMIT: usize = 5;

#[test]
fn persisted_projections_equal_a_rebuild_for_every_scenario() {
    for path in scenarios() {
        let recorded = record(&path);
        let projections = Projections::new(recorded.ledger.store());
        let report = projections
            .rebuild(RebuildMode::Check, &mut |_| {})
            .expect("rebuild");
        assert!(report.documents > 0, "{path:?}");
        assert_eq!(report.differences, vec![], "{path:?}");
        assert_eq!(
            report.seq,
            recorded.ledger.store().head().expect("head").seq
        );
        let on_disk = projections
            .with_fold_limit(SMALL_FOLD_LIMIT)
            .rebuild(RebuildMode::Check, &mut |_| {})
            .expect("rebuild on disk");
        assert_eq!(on_disk, report, "{path:?} folded on disk");
    }
}

#[test]
fn as_of_every_sequence_equals_the_ledger_that_had_only_that_many_events() {
    for path in scenarios() {
        let recorded = record(&path);
        let projections = Projections::new(recorded.ledger.store());
        for (index, then) in recorded.after_each.iter().enumerate() {
            let seq = index as u64 + 1;
            let as_of = projections.as_of(AsOf::Sequence(seq)).expect("as of");
            let views = then.0.iter().filter(|(key, _)| is_view(key));
            let views: DocMap = DocMap(views.map(|(k, v)| (k.clone(), v.clone())).collect());
            assert_eq!(every_document(&as_of), views, "{path:?} as of {seq}");
        }
        assert_eq!(
            recorded.after_each.len() as u64,
            recorded.ledger.store().head().expect("head").seq
        );
    }
}

/// An as-of view folded through the scratch store on disk is the one folded
/// in memory, and so is every report on it.
#[test]
fn as_of_views_folded_on_disk_equal_the_views_folded_in_memory() {
    let mut on_disk_somewhere = false;
    for path in scenarios() {
        let recorded = record(&path);
        let in_memory = Projections::new(recorded.ledger.store());
        let on_disk = Projections::new(recorded.ledger.store()).with_fold_limit(SMALL_FOLD_LIMIT);
        let head = recorded.ledger.store().head().expect("head").seq;
        for seq in [head / 2, head].into_iter().filter(|&seq| seq > 0) {
            let expected = in_memory.as_of(AsOf::Sequence(seq)).expect("as of");
            let folded = on_disk.as_of(AsOf::Sequence(seq)).expect("as of on disk");
            on_disk_somewhere |= matches!(folded, Folded::OnDisk(_));
            assert_eq!(
                every_document(&folded),
                every_document(&expected),
                "{path:?} as of {seq}"
            );
            let far = ReportDate::On(parse_date("2099-12-31").expect("date"));
            assert_eq!(
                reports::subscriptions(&folded, far).expect("report on disk"),
                reports::subscriptions(&expected, far).expect("report"),
                "{path:?} as of {seq}"
            );
        }
    }
    assert!(
        on_disk_somewhere,
        "no scenario's views passed {SMALL_FOLD_LIMIT} documents"
    );
}

/// Every document of `docs`, in key order.
fn every_document(docs: &dyn Docs) -> DocMap {
    DocMap(docs.scan("").expect("scan").into_iter().collect())
}

#[test]
fn every_stored_outcome_of_every_scenario_rederives() {
    for path in scenarios() {
        let recorded = record(&path);
        assert_eq!(
            Projections::new(recorded.ledger.store())
                .rederive_all()
                .expect("rederive"),
            vec![],
            "{path:?}"
        );
    }
}
