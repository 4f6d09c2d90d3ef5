//! Backward compatibility: `tests/fixtures/store-v1/` (at the workspace root)
//! holds the stored records of a small history, one of every event type, as
//! the first version of the store wrote them. Every later version must still
//! decode them, and their chain must still verify to the same head digest.
//!
//! The fixture is generated, never hand-typed: with
//! `BENEFIT_STORE_WRITE_FIXTURE=1` the generator test writes the fixture of
//! today's record format (`store-v{RECORD_FORMAT}`); without it, it checks
//! that today's store still writes exactly that fixture. When the format
//! changes, bump `RECORD_FORMAT`, generate the new fixture beside the old
//! one, and keep both decode tests.

use std::path::PathBuf;

use benefit_events::{Actor, Event, Role, UserName};
use benefit_store::conformance::collect;
use benefit_store::encoding::{encode_body, RECORD_FORMAT};
use benefit_store::verify::ChainVerifier;
use benefit_store::{AppendRequest, ChainHash, Digest, EventStore, SledStore, SteppingClock};
use chrono::{DateTime, TimeDelta};
use serde::Deserialize;
use serde_json::value::RawValue;
use uuid::Uuid;

/// The head of the version-1 fixture. A change here means old ledgers no
/// longer verify: never edit it to make the test pass.
const STORE_V1_HEAD: &str = "9:d34534f6f53d3277116f58b246b06fc17fe8bb5fc3f605e88ed46c2df1afa77c";

/// The events of the fixture's history, one of every type, as the events
/// crate writes them (schema version 1).
const EVENTS: [&str; 9] = [
    r#"{"type":"BenefitGranted","version":1,"data":{"on":"2026-01-02","benefit":"contoso-action-pack-2026","product":"Office 365 E3","offer":"action-pack","benefit_type":"core","expires":"2026-12-31","provides":{"keys":[{"key":"AAAAA-BBBBB-CCCCC-DDDDD-7QXKR","seats":100}]}}}"#,
    r#"{"type":"BenefitGranted","version":1,"data":{"on":"2026-01-02","benefit":"contoso-azure-annual","product":"Microsoft Azure","offer":"gold-competency","benefit_type":"incremental","expires":"2026-12-31","provides":{"credit":{"plan":{"kind":"annual-bulk","enrollment":{"start":"2026-01-01","end":"2026-12-31"}},"amount":{"currency":"USD","minor_units":1200000}}}}}"#,
    r#"{"type":"UserRegistered","version":1,"data":{"on":"2026-01-03","user":"ann@contoso.com","guest":false}}"#,
    r#"{"type":"KeyRedeemed","version":1,"data":{"on":"2026-01-15","subscription":"contoso-o365","benefit":"contoso-action-pack-2026","key":"AAAAA-BBBBB-CCCCC-DDDDD-7QXKR","product":"Office 365 E3","seats":100,"term_months":12,"old_end":null,"reactivated_from":null,"new_end":"2027-01-15","rule":"R9"}}"#,
    r#"{"type":"CreditAssigned","version":1,"data":{"on":"2026-02-01","benefit":"contoso-azure-annual","user":"ann@contoso.com"}}"#,
    r#"{"type":"CreditUnassigned","version":1,"data":{"on":"2026-03-01","benefit":"contoso-azure-annual","user":"ann@contoso.com"}}"#,
    r#"{"type":"CreditTransferred","version":1,"data":{"on":"2026-04-01","benefit":"contoso-azure-annual","from":"ann@contoso.com","to":"bob@contoso.com"}}"#,
    r#"{"type":"LicensesAdded","version":1,"data":{"on":"2026-07-01","subscription":"contoso-o365","benefit":"contoso-action-pack-2026","key":"EEEEE-FFFFF-GGGGG-HHHHH-2WQ9Z","seats_before":100,"key_seats":50,"days_left":183,"term_days":365,"new_days_left":244,"seats_after":150,"old_end":"2026-12-31","new_end":"2027-03-02","rule":"R14"}}"#,
    r#"{"type":"EndDateExtended","version":1,"data":{"on":"2026-08-01","subscription":"contoso-o365","benefit":"contoso-action-pack-2026","key":"JJJJJ-KKKKK-LLLLL-MMMMM-44P2D","active_seats":100,"key_seats":25,"months_added":3,"days_added":0,"old_end":"2026-09-30","new_end":"2026-12-30","rule":"R11"}}"#,
];

fn fixture_path(format: u32) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(format!("store-v{format}"))
        .join("log.jsonl")
}

/// Appends the fixture's history to a fresh ledger and returns the lines of
/// its log: `{"seq":N,"hash":"HEX","body":BODY}`, the body verbatim.
fn generate() -> String {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let start = DateTime::from_timestamp(1_767_254_400, 0).expect("2026-01-01T08:00:00Z");
    let clock = SteppingClock::new(start, TimeDelta::milliseconds(90_061_001));
    let store = SledStore::open(dir.path(), clock).expect("open");
    let events: Vec<Event> = EVENTS
        .iter()
        .map(|json| Event::from_json(json.as_bytes()).expect("fixture events decode"))
        .collect();
    let admin = |user: &str, role| Actor {
        user: UserName::parse(user).expect("valid user"),
        role,
    };
    let batches = [
        (1, admin("ann@contoso.com", Role::GlobalAdmin), 0..3),
        (2, admin("ann@contoso.com", Role::GlobalAdmin), 3..4),
        (3, admin("bob@contoso.com", Role::MpnPartnerAdmin), 4..7),
        (4, admin("bob@contoso.com", Role::MpnPartnerAdmin), 7..9),
    ];
    for (id, actor, range) in batches {
        let expected = range.start as u64;
        let request = AppendRequest::by(
            &actor,
            Uuid::from_u128(0x5702_e000_0000_4000_8000_0000_0000_0000 + id),
            expected,
            events[range].to_vec(),
        );
        store.append(request).expect("append");
    }
    collect(store.read_from(0))
        .iter()
        .map(|record| {
            let body = encode_body(record).expect("encodes");
            let body = String::from_utf8(body).expect("format 1 is JSON text");
            format!(
                "{{\"seq\":{},\"hash\":\"{}\",\"body\":{body}}}\n",
                record.seq, record.hash
            )
        })
        .collect()
}

#[test]
fn todays_store_writes_exactly_the_fixture_of_todays_format() {
    let path = fixture_path(RECORD_FORMAT);
    let generated = generate();
    if std::env::var_os("BENEFIT_STORE_WRITE_FIXTURE").is_some() {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(&path, &generated).expect("write the fixture");
    }
    let committed =
        std::fs::read_to_string(&path).expect("the fixture of today's format is committed");
    assert_eq!(
        generated,
        committed,
        "the store no longer writes {}",
        path.display()
    );
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line<'a> {
    seq: u64,
    hash: &'a str,
    #[serde(borrow)]
    body: &'a RawValue,
}

#[test]
fn store_v1_records_still_decode_chain_and_reach_the_same_head() {
    let text = std::fs::read_to_string(fixture_path(1)).expect("the v1 fixture is committed");
    let mut verifier = ChainVerifier::new();
    let mut types = std::collections::BTreeSet::new();
    for line in text.lines() {
        let line: Line<'_> = serde_json::from_str(line).expect("a fixture line");
        let hash = ChainHash::from_hex(line.hash).expect("a hash");
        let record = verifier
            .check(line.seq, hash, line.body.get().as_bytes())
            .unwrap_or_else(|b| panic!("the v1 fixture no longer verifies: {b}"));
        types.insert(record.event.event_type());
    }
    assert_eq!(
        types.len(),
        benefit_events::EventType::ALL.len(),
        "one of every event type"
    );
    let report = verifier.report();
    let pinned: Digest = STORE_V1_HEAD.parse().expect("a digest");
    assert_eq!(report.head, pinned);
    assert_eq!((report.events, report.streams), (9, 4));
}
