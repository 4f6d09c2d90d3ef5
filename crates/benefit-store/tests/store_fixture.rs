//! Backward compatibility: `tests/fixtures/store-vN/` (at the workspace
//! root) holds the stored records of a small history, one of every event
//! type, as record format N wrote them: `store-v1` in JSON (format 1, no
//! longer written), `store-v2` in postcard (format 2, written today). Every
//! later version must still decode them, and their chains must still verify
//! to the same head digests. A log may mix formats: format-1 records
//! followed by format-2 appends verify as one chain, and the old records
//! keep their hashes.
//!
//! The fixture is generated, never hand-typed: with
//! `BENEFIT_STORE_WRITE_FIXTURE=1` the generator test writes the fixture of
//! today's record format (`store-v{RECORD_FORMAT}`); without it, it checks
//! that today's store still writes exactly that fixture. When the format
//! changes, bump `RECORD_FORMAT`, generate the new fixture beside the old
//! ones, and keep every decode test.

use std::path::{Path, PathBuf};

use benefit_events::{Actor, Event, Role, UserName};
use benefit_store::conformance::{collect, positioned};
use benefit_store::encoding::{
    chain_hash, decode, encode_body, FORMAT_2_FIRST_BYTE, RECORD_FORMAT,
};
use benefit_store::verify::ChainVerifier;
use benefit_store::{
    AppendRequest, ChainHash, Digest, EventStore, SledStore, SteppingClock, StoredEvent,
};
use chrono::{DateTime, TimeDelta};
use serde::Deserialize;
use serde_json::value::RawValue;
use uuid::Uuid;

/// The head of the version-1 fixture. A change here means old ledgers no
/// longer verify: never edit it to make the test pass.
const STORE_V1_HEAD: &str = "9:d34534f6f53d3277116f58b246b06fc17fe8bb5fc3f605e88ed46c2df1afa77c";

/// The head of the version-2 fixture: the same history as version 1,
/// stored in format 2. Never edit it to make the test pass either.
const STORE_V2_HEAD: &str = "9:735485c2e02d81f1e1308f13535e8a8b0fad7a1425518703a0ce3af3eda720f7";

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

/// Who runs the appends of the format-3 fixture (issue 13: records store
/// who ran the append beside each event's actor).
fn recorder() -> Actor {
    Actor {
        user: UserName::parse("ops@contoso.com").expect("valid user"),
        role: Role::MpnPartnerAdmin,
    }
}

/// Appends the fixture's history to a fresh ledger and returns its records:
/// without a recorder (format 2) or with one (format 3).
fn history_recorded_by(recorded_by: Option<Actor>) -> Vec<StoredEvent> {
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
        let mut request = AppendRequest::by(
            &actor,
            Uuid::from_u128(0x5702_e000_0000_4000_8000_0000_0000_0000 + id),
            expected,
            events[range].to_vec(),
        );
        request.recorded_by = recorded_by.clone();
        store.append(positioned(&store, request)).expect("append");
    }
    collect(store.read_from(0))
}

/// The fixture's history without a recorder (format 2).
fn history() -> Vec<StoredEvent> {
    history_recorded_by(None)
}

/// The lines of today's fixture: `{"seq":N,"hash":"HEX","body_hex":"HEX"}`,
/// the body's bytes in lower-case hex (format 2 is binary).
fn generate(recorded_by: Option<Actor>) -> String {
    history_recorded_by(recorded_by)
        .iter()
        .map(|record| {
            let body = encode_body(record).expect("encodes");
            format!(
                "{{\"seq\":{},\"hash\":\"{}\",\"body_hex\":\"{}\"}}\n",
                record.seq,
                record.hash,
                hex(&body)
            )
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    assert!(text.len() % 2 == 0, "an even number of hex digits");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex digits"))
        .collect()
}

#[test]
fn todays_store_writes_exactly_the_fixtures_of_todays_formats() {
    assert_eq!(RECORD_FORMAT, 3);
    for (format, recorded_by) in [(2, None), (3, Some(recorder()))] {
        let path = fixture_path(format);
        let generated = generate(recorded_by);
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
}

/// Format 3's fixture verifies as one chain and decodes to the same
/// events, each with its actor and the recorder.
#[test]
fn the_format_3_fixture_verifies_and_keeps_both_actors() {
    let (records, _) = verify_fixture(&fixture_of(3));
    let plain = history();
    assert_eq!(records.len(), plain.len());
    for (with, without) in records.iter().zip(&plain) {
        assert_eq!((&with.event, &with.actor), (&without.event, &without.actor));
        assert_eq!(with.recorded_by, Some(recorder()));
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line<'a> {
    seq: u64,
    hash: &'a str,
    #[serde(borrow)]
    body: &'a RawValue,
}

/// The v1 fixture's records: `(seq, hash, body)`, the body verbatim.
fn fixture_v1() -> Vec<(u64, ChainHash, Vec<u8>)> {
    let text = std::fs::read_to_string(fixture_path(1)).expect("the v1 fixture is committed");
    text.lines()
        .map(|line| {
            let line: Line<'_> = serde_json::from_str(line).expect("a fixture line");
            let hash = ChainHash::from_hex(line.hash).expect("a hash");
            (line.seq, hash, line.body.get().as_bytes().to_vec())
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineV2<'a> {
    seq: u64,
    hash: &'a str,
    body_hex: &'a str,
}

/// The v2 fixture's records: `(seq, hash, body)`.
fn fixture_v2() -> Vec<(u64, ChainHash, Vec<u8>)> {
    fixture_of(2)
}

/// A binary fixture's records: `(seq, hash, body)`.
fn fixture_of(format: u32) -> Vec<(u64, ChainHash, Vec<u8>)> {
    let text = std::fs::read_to_string(fixture_path(format)).expect("the fixture is committed");
    text.lines()
        .map(|line| {
            let line: LineV2<'_> = serde_json::from_str(line).expect("a fixture line");
            let hash = ChainHash::from_hex(line.hash).expect("a hash");
            (line.seq, hash, unhex(line.body_hex))
        })
        .collect()
}

/// Verifies a fixture's chain and returns its records and head.
fn verify_fixture(records: &[(u64, ChainHash, Vec<u8>)]) -> (Vec<StoredEvent>, Digest) {
    let mut verifier = ChainVerifier::new();
    let decoded = records
        .iter()
        .map(|(seq, hash, body)| {
            verifier
                .check(*seq, *hash, body)
                .unwrap_or_else(|b| panic!("the fixture no longer verifies: {b}"))
        })
        .collect::<Vec<_>>();
    let types: std::collections::BTreeSet<_> =
        decoded.iter().map(|r| r.event.event_type()).collect();
    assert_eq!(
        types.len(),
        benefit_events::EventType::RULE_BOOK.len(),
        "one of every event type the fixture's format knew"
    );
    let report = verifier.report();
    assert_eq!((report.events, report.streams), (9, 4));
    (decoded, report.head)
}

#[test]
fn store_v1_records_still_decode_chain_and_reach_the_same_head() {
    let (_, head) = verify_fixture(&fixture_v1());
    let pinned: Digest = STORE_V1_HEAD.parse().expect("a digest");
    assert_eq!(head, pinned);
}

#[test]
fn store_v2_records_still_decode_chain_and_reach_the_same_head() {
    let records = fixture_v2();
    assert!(records
        .iter()
        .all(|(_, _, body)| body[0] == FORMAT_2_FIRST_BYTE));
    let (_, head) = verify_fixture(&records);
    let pinned: Digest = STORE_V2_HEAD.parse().expect("a digest");
    assert_eq!(head, pinned);
}

/// Format 1 decodes to the records that were appended: the same as today's
/// store builds (and stores in format 2) from the same history, but for
/// the hashes, which cover the bytes as stored.
#[test]
fn format_1_and_format_2_decode_to_the_same_records() {
    let (v1, _) = verify_fixture(&fixture_v1());
    let (v2, _) = verify_fixture(&fixture_v2());
    let today = history();
    let without_hashes = |records: &[StoredEvent]| -> Vec<StoredEvent> {
        records
            .iter()
            .map(|r| StoredEvent {
                prev_hash: ChainHash::GENESIS,
                hash: ChainHash::GENESIS,
                ..r.clone()
            })
            .collect()
    };
    assert_eq!(without_hashes(&v1), without_hashes(&today));
    assert_eq!(v2, today);
    assert!(fixture_v1().iter().all(|(_, _, body)| body[0] == b'{'));
}

/// Events to append after a fixture's history: one to a stream it already
/// has (the annual credit's benefit stream) and one to a new stream.
fn later_events() -> Vec<Event> {
    [
        r#"{"type":"CreditAssigned","version":1,"data":{"on":"2026-09-01","benefit":"contoso-azure-annual","user":"bob@contoso.com"}}"#,
        r#"{"type":"UserRegistered","version":1,"data":{"on":"2026-09-02","user":"carol@contoso.com","guest":true}}"#,
    ]
    .iter()
    .map(|json| Event::from_json(json.as_bytes()).expect("valid events"))
    .collect()
}

/// A log whose first records are format 1 (the v1 fixture) and whose later
/// ones are format 2 verifies as one chain; the old records keep their
/// bytes and hashes, and the new ones link to the old head.
#[test]
fn format_2_records_appended_after_format_1_records_verify() {
    let old = fixture_v1();
    let mut verifier = ChainVerifier::new();
    for (seq, hash, body) in &old {
        verifier
            .check(*seq, *hash, body)
            .expect("the v1 fixture verifies");
    }
    let v1_head: Digest = STORE_V1_HEAD.parse().expect("a digest");
    let mut prev = verifier.report().head;
    assert_eq!(prev, v1_head);
    let last = decode(&old[old.len() - 1].2, old[old.len() - 1].1).expect("decodes");
    let actor = last.actor.clone();
    for event in later_events() {
        let stream = event.stream();
        let mut record = StoredEvent {
            seq: prev.seq + 1,
            stream_version: verifier.stream_version(&stream) + 1,
            stream,
            event_id: Uuid::from_u128(0xfeed_0000 + u128::from(prev.seq)),
            command_id: Uuid::from_u128(0xc0de),
            recorded_at: last.recorded_at + TimeDelta::days(30),
            actor: actor.clone(),
            recorded_by: None,
            event,
            prev_hash: prev.hash,
            hash: ChainHash::GENESIS,
        };
        let body = encode_body(&record).expect("encodes");
        assert_eq!(body[0], FORMAT_2_FIRST_BYTE);
        record.hash = chain_hash(&prev.hash, &body);
        let read = verifier
            .check(record.seq, record.hash, &body)
            .unwrap_or_else(|b| panic!("a mixed log verifies: {b}"));
        assert_eq!(read, record);
        prev = verifier.report().head;
    }
    let report = verifier.report();
    assert_eq!((report.events, report.streams), (11, 5));
    // The old records, re-walked on their own, still reach the v1 head.
    let (_, head) = verify_fixture(&old);
    assert_eq!(head, v1_head);
}

/// The head of `tests/fixtures/ledger-v1/` (a whole ledger directory,
/// format 1), as pinned by `tests/e2e/compat.rs`.
const LEDGER_V1_HEAD: &str = "46:505b4407146b7a20586d024bddd8b526ad2dc98a0889c10a260293c4a432ecc3";

/// The same through the sled store: a ledger directory written by the
/// first version takes format-2 appends, and `verify` walks both.
#[test]
fn a_version_1_ledger_takes_format_2_appends_and_verifies() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/ledger-v1");
    let dir = tempfile::tempdir().expect("a temporary directory");
    for entry in std::fs::read_dir(&source).expect("the fixture is there") {
        let path = entry.expect("entry").path();
        let name = path.file_name().expect("a file name");
        std::fs::copy(&path, dir.path().join(name)).expect("copied");
    }
    let start = DateTime::from_timestamp(1_796_000_000, 0).expect("2026-12");
    let store = SledStore::open(dir.path(), SteppingClock::new(start, TimeDelta::seconds(1)))
        .expect("the v1 ledger opens");
    let v1_head: Digest = LEDGER_V1_HEAD.parse().expect("a digest");
    assert_eq!(store.head().expect("head"), v1_head);
    let before = collect(store.read_from(0));

    let actor = before[0].actor.clone();
    let appended = store
        .append(positioned(
            &store,
            AppendRequest::by(&actor, Uuid::from_u128(0xc0de), v1_head.seq, later_events()),
        ))
        .expect("appends");
    assert_eq!((appended.first, appended.last), (47, 48));

    let report = store.verify().expect("a mixed log verifies");
    assert_eq!(report.head, appended.head);
    store
        .verify_against(&v1_head)
        .expect("the v1 history is still there");
    let after = collect(store.read_from(0));
    assert_eq!(after[..before.len()], before[..], "old records unchanged");
    let mut prev = v1_head.hash;
    for record in &after[before.len()..] {
        // The format-2 encoding of what was read hashes to the stored hash:
        // the stored bytes are that encoding.
        let body = encode_body(record).expect("encodes");
        assert_eq!(body[0], FORMAT_2_FIRST_BYTE);
        assert_eq!(chain_hash(&prev, &body), record.hash);
        prev = record.hash;
    }
}
