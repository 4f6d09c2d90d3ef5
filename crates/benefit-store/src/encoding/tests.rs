//! Record formats 1 and 2: round trips, and the errors of damaged bodies.

use benefit_events::{contains_key, EventType};
use benefit_workload::Workload;
use proptest::prelude::*;

use super::*;

/// The records of `tests/fixtures/store-v1/log.jsonl` (format 1, one event
/// of every type): `(hash, body)`.
fn fixture_v1() -> Vec<(ChainHash, Vec<u8>)> {
    #[derive(Deserialize)]
    struct Line<'a> {
        hash: &'a str,
        #[serde(borrow)]
        body: &'a RawValue,
    }
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/store-v1/log.jsonl"
    );
    let text = std::fs::read_to_string(path).expect("the v1 fixture is committed");
    text.lines()
        .map(|line| {
            let line: Line<'_> = serde_json::from_str(line).expect("a fixture line");
            let hash = ChainHash::from_hex(line.hash).expect("a hash");
            (hash, line.body.get().as_bytes().to_vec())
        })
        .collect()
}

/// The fixture's records, decoded.
fn records() -> Vec<StoredEvent> {
    fixture_v1()
        .iter()
        .map(|(hash, body)| decode(body, *hash).expect("the v1 fixture decodes"))
        .collect()
}

/// The fixture's KeyRedeemed record.
fn key_redeemed() -> StoredEvent {
    records()
        .into_iter()
        .find(|r| r.event.event_type() == EventType::KeyRedeemed)
        .expect("the fixture has a KeyRedeemed")
}

#[test]
fn every_event_type_round_trips_through_format_2() {
    let records = records();
    let types: std::collections::BTreeSet<_> =
        records.iter().map(|r| r.event.event_type()).collect();
    assert_eq!(
        types.len(),
        EventType::RULE_BOOK.len(),
        "one of every type the fixture's format knew"
    );
    for record in records {
        let body = encode_body(&record).expect("encodes");
        assert_eq!(body[0], FORMAT_2_FIRST_BYTE);
        assert_eq!(decode(&body, record.hash), Ok(record));
    }
}

#[test]
fn format_2_is_smaller_than_format_1() {
    let (hash, json) = fixture_v1()
        .into_iter()
        .find(|(hash, body)| {
            decode(body, *hash).map(|r| r.event.event_type()) == Ok(EventType::KeyRedeemed)
        })
        .expect("a KeyRedeemed");
    let binary = encode_body(&decode(&json, hash).expect("decodes")).expect("encodes");
    // 662 and 253 bytes when format 2 was introduced.
    assert!(
        binary.len() * 2 < json.len(),
        "format 2: {} bytes, format 1: {} bytes",
        binary.len(),
        json.len()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Generated, rule-abiding histories (every event type, many shapes of
    /// each) in envelopes with any sequence, version, ids, instant and hash.
    #[test]
    fn generated_records_round_trip_through_format_2(
        seed in any::<u64>(),
        seq in any::<u64>(),
        stream_version in any::<u64>(),
        ids in any::<(u128, u128)>(),
        micros in DateTime::<Utc>::MIN_UTC.timestamp_micros()..=DateTime::<Utc>::MAX_UTC.timestamp_micros(),
        mpn in any::<bool>(),
        hashes in any::<([u8; 32], [u8; 32])>(),
    ) {
        let actor = Actor {
            user: UserName::parse("Ann.Admin@Contoso.example").expect("a user"),
            role: if mpn { Role::MpnPartnerAdmin } else { Role::GlobalAdmin },
        };
        // The first 150 events, and the workload's first withdrawal (L8),
        // which comes later than those.
        let withdrawal = Workload::new(seed)
            .take(100_000)
            .find(|e| e.event_type() == EventType::BenefitWithdrawn);
        prop_assert!(withdrawal.is_some(), "the workload withdraws a benefit");
        let events = Workload::new(seed).take(150).chain(withdrawal);
        for (i, event) in events.enumerate() {
            let record = StoredEvent {
                seq: seq.wrapping_add(i as u64),
                stream: event.stream(),
                stream_version,
                event_id: Uuid::from_u128(ids.0),
                command_id: Uuid::from_u128(ids.1),
                recorded_at: DateTime::from_timestamp_micros(micros).expect("in range"),
                actor: actor.clone(),
                recorded_by: None,
                event,
                prev_hash: ChainHash(hashes.0),
                hash: ChainHash(hashes.1),
            };
            let body = encode_body(&record).expect("encodes");
            prop_assert_eq!(decode(&body, record.hash), Ok(record));
        }
    }
}

/// A format-2 body of `record` with some of its parts changed.
struct Parts {
    user: String,
    role: String,
    event_type: String,
    version: u32,
    data: Vec<u8>,
    recorded_at: i64,
}

fn crafted(record: &StoredEvent, change: impl FnOnce(&mut Parts)) -> Vec<u8> {
    let mut parts = Parts {
        user: record.actor.user.to_string(),
        role: record.actor.role.to_string(),
        event_type: record.event.event_type().to_string(),
        version: EVENT_SCHEMA_VERSION,
        data: postcard::to_allocvec(&DataOf(&record.event)).expect("postcard"),
        recorded_at: record.recorded_at.timestamp_micros(),
    };
    change(&mut parts);
    let body = BodyV2Out {
        seq: record.seq,
        stream: &record.stream,
        stream_version: record.stream_version,
        event_id: record.event_id.into_bytes(),
        command_id: record.command_id.into_bytes(),
        recorded_at: parts.recorded_at,
        actor: ActorV2 {
            user: &parts.user,
            role: &parts.role,
        },
        event: EventV2 {
            event_type: &parts.event_type,
            version: parts.version,
            data: &parts.data,
        },
        prev_hash: record.prev_hash.0,
    };
    postcard::to_extend(&body, vec![FORMAT_2_FIRST_BYTE]).expect("postcard")
}

/// Replaces the first occurrence of `from` in `bytes` by `to` (same length).
fn patch(bytes: &mut [u8], from: &str, to: &str) {
    assert_eq!(from.len(), to.len());
    let at = bytes
        .windows(from.len())
        .position(|w| w == from.as_bytes())
        .expect("the text is in the bytes");
    bytes[at..at + to.len()].copy_from_slice(to.as_bytes());
}

#[test]
fn crafting_unchanged_parts_gives_the_encoded_body() {
    let record = key_redeemed();
    assert_eq!(
        crafted(&record, |_| {}),
        encode_body(&record).expect("encodes")
    );
}

#[test]
fn every_truncation_of_a_format_2_body_is_an_error() {
    let record = key_redeemed();
    let body = encode_body(&record).expect("encodes");
    assert_eq!(
        decode(&body[..0], record.hash),
        Err(DecodeError::Body("the body is empty".into()))
    );
    for end in 1..body.len() {
        assert_eq!(
            decode(&body[..end], record.hash),
            Err(DecodeError::Body(
                "format 2: the bytes end before the last field (truncated)".into()
            )),
            "cut at {end}"
        );
    }
}

#[test]
fn bytes_after_a_format_2_record_or_its_data_are_an_error() {
    let record = key_redeemed();
    let mut body = encode_body(&record).expect("encodes");
    body.push(0);
    assert_eq!(
        decode(&body, record.hash),
        Err(DecodeError::Body(
            "format 2: 1 byte after the record's last field".into()
        ))
    );
    body.extend([0, 0]);
    assert_eq!(
        decode(&body, record.hash),
        Err(DecodeError::Body(
            "format 2: 3 bytes after the record's last field".into()
        ))
    );
    let body = crafted(&record, |p| p.data.extend([1, 2]));
    assert_eq!(
        decode(&body, record.hash),
        Err(DecodeError::Field {
            field: "event.data",
            reason: "2 bytes after the KeyRedeemed data's last field".into()
        })
    );
}

#[test]
fn a_body_of_no_known_format_is_an_error() {
    let record = key_redeemed();
    let body = encode_body(&record).expect("encodes");
    let with_first = |byte: u8| {
        let mut changed = body.clone();
        changed[0] = byte;
        decode(&changed, record.hash)
    };
    for byte in [0x04, 0x09, 0x1F] {
        let err = with_first(byte).expect_err("a later format");
        assert_eq!(
            err,
            DecodeError::UnknownFormat {
                found: u32::from(byte)
            }
        );
        assert_eq!(
            err.to_string(),
            format!("record format {byte} is newer than this program, which reads formats 1 to 3")
        );
    }
    for byte in [0x00, 0x01, b' ', b'[', 0x80, 0xFF] {
        assert_eq!(
            with_first(byte),
            Err(DecodeError::Body(format!(
                "the body starts with byte 0x{byte:02x}, which starts no record format \
                 (format 1 starts with '{{', format 2 with 0x02, format 3 with 0x03)"
            )))
        );
    }
    let too_large = vec![FORMAT_2_FIRST_BYTE; RECORD_BODY_BYTES_MAX + 1];
    assert_eq!(
        decode(&too_large, record.hash),
        Err(DecodeError::TooLarge {
            bytes: RECORD_BODY_BYTES_MAX + 1,
            max: RECORD_BODY_BYTES_MAX
        })
    );
}

#[test]
fn a_json_body_is_format_1_only() {
    let (hash, body) = fixture_v1().remove(0);
    let text = String::from_utf8(body).expect("JSON");
    let says = |format: u32| {
        let changed = text.replacen("\"format\":1", &format!("\"format\":{format}"), 1);
        decode(changed.as_bytes(), hash)
    };
    assert_eq!(
        says(2),
        Err(DecodeError::Body(
            "a JSON body is format 1, this one says format 2".into()
        ))
    );
    assert_eq!(
        says(3),
        Err(DecodeError::Body(
            "a JSON body is format 1, this one says format 3".into()
        ))
    );
    assert_eq!(says(4), Err(DecodeError::UnknownFormat { found: 4 }));
    assert!(says(1).is_ok());
}

/// Format 3 is format 2's fields, then the recorder (who ran the append,
/// issue 13): a record with one is written in format 3 and reads back
/// whole; without one it is written in format 2, byte for byte as before.
#[test]
fn a_record_with_its_recorder_round_trips_through_format_3() {
    let mut record = key_redeemed();
    let without = encode_body(&record).expect("encodes");
    assert_eq!(without[0], FORMAT_2_FIRST_BYTE);
    record.recorded_by = Some(benefit_events::Actor {
        user: benefit_events::UserName::parse("ops@contoso.com").expect("a user"),
        role: benefit_events::Role::MpnPartnerAdmin,
    });
    let with = encode_body(&record).expect("encodes");
    assert_eq!(with[0], super::FORMAT_3_FIRST_BYTE);
    assert_eq!(
        &with[1..without.len()],
        &without[1..],
        "format 2's fields first"
    );
    assert_eq!(decode(&with, record.hash), Ok(record.clone()));
    let mut cut = with.clone();
    cut.pop();
    assert!(
        decode(&cut, record.hash).is_err(),
        "a cut recorder is an error"
    );
}

#[test]
fn invalid_values_in_a_format_2_body_are_named_errors() {
    let record = key_redeemed();
    let decoded = |change: fn(&mut Parts)| decode(&crafted(&record, change), record.hash);
    assert_eq!(
        decoded(|p| p.role = "billing-admin".into()),
        Err(DecodeError::Field {
            field: "actor.role",
            reason: "role 'billing-admin' may not change the ledger (R1): only global-admin \
                     and mpn-partner-admin may"
                .into()
        })
    );
    assert!(matches!(
        decoded(|p| p.user = "not an address".into()),
        Err(DecodeError::Field {
            field: "actor.user",
            ..
        })
    ));
    assert!(matches!(
        decoded(|p| p.recorded_at = i64::MAX),
        Err(DecodeError::Field {
            field: "recorded_at",
            ..
        })
    ));
    assert_eq!(
        decoded(|p| p.event_type = "KeyStolen".into()),
        Err(DecodeError::Event(EventDecodeError::UnknownType(
            "KeyStolen".into()
        )))
    );
    assert_eq!(
        decoded(|p| p.version = 2),
        Err(DecodeError::Event(EventDecodeError::UnknownVersion {
            event_type: EventType::KeyRedeemed,
            version: 2
        }))
    );
    assert_eq!(
        decoded(|p| p.event_type = "UserRegistered".into()).map_err(|e| e.to_string()),
        Err(
            "the event does not decode: UserRegistered data is not valid: a value is not \
             valid for its field (an id, a name, a key, a date, a currency, a number of seats \
             or a choice)"
                .into()
        )
    );
    // The stream's name, the first text of the body.
    let mut bad_utf8 = encode_body(&record).expect("encodes");
    let at = bad_utf8
        .windows(4)
        .position(|w| w == b"o365")
        .expect("the stream's name");
    bad_utf8[at] = 0xFF;
    assert_eq!(
        decode(&bad_utf8, record.hash),
        Err(DecodeError::Body(
            "format 2: a text field is not UTF-8".into()
        ))
    );
}

#[test]
fn r3_no_format_2_error_shows_a_key() {
    let record = key_redeemed();
    let Event::KeyRedeemed(redeemed) = &record.event else {
        unreachable!("a KeyRedeemed")
    };
    let key = redeemed.key.reveal().to_owned();
    // A key that no longer parses, in the data.
    let mut broken = key.clone();
    broken.replace_range(key.len() - 1.., "!");
    let body = crafted(&record, |p| patch(&mut p.data, &key, &broken));
    let err = decode(&body, record.hash).expect_err("an invalid key");
    assert!(matches!(
        err,
        DecodeError::Event(EventDecodeError::Data {
            event_type: EventType::KeyRedeemed,
            ..
        })
    ));
    // A key where a user name, a role and a type name belong.
    let user = format!("{}@contoso.com", key.to_lowercase());
    let errors = [
        err,
        decode(&crafted(&record, |p| p.user = user), record.hash).expect_err("user"),
        decode(&crafted(&record, |p| p.role = key.clone()), record.hash).expect_err("role"),
        decode(
            &crafted(&record, |p| p.event_type = key.clone()),
            record.hash,
        )
        .expect_err("type"),
    ];
    for err in errors {
        let message = err.to_string();
        assert!(!contains_key(&message), "{message}");
        assert!(!message.contains(&key[..23]), "{message}");
    }
}

#[test]
fn r3_no_format_1_error_shows_a_key() {
    let (hash, body) = fixture_v1().remove(0);
    let text = String::from_utf8(body).expect("JSON");
    let key = "AAAAA-BBBBB-CCCCC-DDDDD-7QXKR";
    for (from, to) in [
        ("\"seq\":1", format!("\"seq\":\"{key}\"")),
        ("\"version\":1", format!("\"version\":\"{key}\"")),
    ] {
        let changed = text.replacen(from, &to, 1);
        let message = decode(changed.as_bytes(), hash)
            .expect_err("a key where a number belongs")
            .to_string();
        assert!(!contains_key(&message), "{message}");
    }
}

/// Names that input refuses since issue 13 (a bidirectional control in a
/// product, a key written with dots in an id or a user name) may already be
/// in a log: every record format must still read them back as written.
#[test]
fn names_that_input_now_refuses_still_decode_from_the_log() {
    use benefit_events::{BenefitId, ProductName};
    let mut record = records()
        .into_iter()
        .find(|r| r.event.event_type() == EventType::BenefitGranted)
        .expect("the fixture has a BenefitGranted");
    let Event::BenefitGranted(granted) = &mut record.event else {
        unreachable!("found by its type")
    };
    granted.product = ProductName::parse_stored("Office \u{202e}365").expect("stored rules");
    granted.benefit =
        BenefitId::parse_stored("abcde.fghij.klmno.pqrst.7qxkr").expect("stored rules");
    record.actor.user =
        UserName::parse_stored("abcde.fghij.klmno.pqrst.7qxkr@contoso.com").expect("stored rules");
    assert!(
        ProductName::parse("Office \u{202e}365").is_err(),
        "input refuses it"
    );
    let body = encode_body(&record).expect("encodes");
    assert_eq!(decode(&body, record.hash), Ok(record.clone()));
    assert_eq!(Event::from_json(&record.event.to_json()), Ok(record.event));
}
