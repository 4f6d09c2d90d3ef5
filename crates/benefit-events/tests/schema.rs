//! Pins the JSON form of one example of every event type. A failing snapshot
//! here means the stored schema changed: add a schema version and an upcast
//! instead of editing a released form.

use benefit_events::*;

fn date(text: &str) -> Date {
    parse_date(text).expect("example dates are valid")
}

fn key(text: &str) -> ProductKey {
    ProductKey::parse(text).expect("example keys are valid")
}

fn examples() -> Vec<Event> {
    let sub = SubscriptionId::parse("contoso-o365").expect("id");
    let benefit = BenefitId::parse("contoso-action-pack-2026").expect("id");
    let credit = BenefitId::parse("contoso-azure-annual").expect("id");
    let product = ProductName::parse("Office 365 E3").expect("product");
    let ann = UserName::parse("ann@contoso.com").expect("user");
    let bob = UserName::parse("bob@contoso.com").expect("user");
    let usd = Currency::parse("USD").expect("USD");
    let seats = |n| Seats::new(n).expect("positive");
    vec![
        Event::BenefitGranted(BenefitGranted {
            on: date("2026-01-02"),
            benefit: benefit.clone(),
            product: product.clone(),
            offer: Offer::ActionPack,
            benefit_type: BenefitType::Core,
            expires: date("2026-12-31"),
            provides: Provision::Keys(vec![GrantedKey {
                key: key("AAAAA-BBBBB-CCCCC-DDDDD-7QXKR"),
                seats: seats(100),
            }]),
        }),
        Event::BenefitGranted(BenefitGranted {
            on: date("2026-01-02"),
            benefit: credit.clone(),
            product: ProductName::parse("Microsoft Azure").expect("product"),
            offer: Offer::GoldCompetency,
            benefit_type: BenefitType::Incremental,
            expires: date("2026-12-31"),
            provides: Provision::Credit(Credit {
                plan: CreditPlan::AnnualBulk {
                    enrollment: EnrollmentYear {
                        start: date("2026-01-01"),
                        end: date("2026-12-31"),
                    },
                },
                amount: Money::parse("12000.00", usd).expect("amount"),
            }),
        }),
        Event::UserRegistered(UserRegistered {
            on: date("2026-01-03"),
            user: ann.clone(),
            guest: false,
        }),
        Event::KeyRedeemed(KeyRedeemed {
            on: date("2026-01-15"),
            subscription: sub.clone(),
            benefit: benefit.clone(),
            key: key("AAAAA-BBBBB-CCCCC-DDDDD-7QXKR"),
            product: product.clone(),
            seats: seats(100),
            term_months: 12,
            old_end: None,
            reactivated_from: None,
            new_end: date("2027-01-15"),
            rule: OutcomeRule::R9,
        }),
        Event::LicensesAdded(LicensesAdded {
            on: date("2026-07-01"),
            subscription: sub.clone(),
            benefit: benefit.clone(),
            key: key("EEEEE-FFFFF-GGGGG-HHHHH-2WQ9Z"),
            seats_before: seats(100),
            key_seats: seats(50),
            days_left: 183,
            term_days: 365,
            new_days_left: 244,
            seats_after: seats(150),
            old_end: date("2026-12-31"),
            new_end: date("2027-03-02"),
            rule: OutcomeRule::R14,
        }),
        Event::EndDateExtended(EndDateExtended {
            on: date("2026-08-01"),
            subscription: sub,
            benefit: benefit.clone(),
            key: key("JJJJJ-KKKKK-LLLLL-MMMMM-44P2D"),
            active_seats: seats(100),
            key_seats: seats(25),
            months_added: 3,
            days_added: 0,
            old_end: date("2026-09-30"),
            new_end: date("2026-12-30"),
            rule: OutcomeRule::R11,
        }),
        Event::CreditAssigned(CreditAssigned {
            on: date("2026-02-01"),
            benefit: credit.clone(),
            user: ann.clone(),
        }),
        Event::CreditUnassigned(CreditUnassigned {
            on: date("2026-03-01"),
            benefit: credit.clone(),
            user: ann.clone(),
        }),
        Event::CreditTransferred(CreditTransferred {
            on: date("2026-04-01"),
            benefit: credit,
            from: ann,
            to: bob,
        }),
        Event::BenefitWithdrawn(BenefitWithdrawn {
            on: date("2026-01-03"),
            benefit,
            reason: Reason::parse("granted for the wrong product").expect("reason"),
        }),
    ]
}

#[test]
fn every_event_type_has_a_pinned_json_form() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/../../snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    let events = examples();
    let covered: std::collections::BTreeSet<_> = events.iter().map(Event::event_type).collect();
    assert_eq!(
        covered.len(),
        EventType::ALL.len(),
        "one example of every type"
    );
    settings.bind(|| {
        let json: Vec<serde_json::Value> = events
            .iter()
            .map(|e| serde_json::from_slice(&e.to_json()).expect("valid JSON"))
            .collect();
        insta::assert_json_snapshot!("events__schema_v1", json);
    });
}

#[test]
fn every_example_reads_back_as_itself() {
    for event in examples() {
        assert_eq!(Event::from_json(&event.to_json()), Ok(event));
    }
}

#[test]
fn unknown_types_versions_and_fields_are_named_errors() {
    let cases = [
        (
            r#"{"type":"KeyStolen","version":1,"data":{}}"#,
            "unknown event type 'KeyStolen'",
        ),
        (
            r#"{"type":"UserRegistered","version":9,"data":{}}"#,
            "UserRegistered has schema version 9, this program knows version 1",
        ),
        (
            r#"{"type":"UserRegistered","version":1,"data":{"on":"2026-01-01","user":"a@b.co","guest":false,"admin":true}}"#,
            "UserRegistered data is not valid: unknown field `admin`",
        ),
        (r#"not json"#, "not an event record"),
    ];
    for (bytes, message) in cases {
        let err = Event::from_json(bytes.as_bytes()).expect_err(bytes);
        assert!(err.to_string().starts_with(message), "{err}");
    }
}

/// An event's data as a value of its own, the way a binary record format
/// writes it.
struct Data<'a>(&'a Event);

impl serde::Serialize for Data<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_data(serializer)
    }
}

#[test]
fn every_example_reads_back_from_postcard_through_from_parts() {
    // A binary, not self-describing format: no data type may need
    // `deserialize_any` (internally tagged or untagged enums, `flatten`).
    for event in examples() {
        let bytes = postcard::to_allocvec(&Data(&event)).expect("postcard");
        let mut data = postcard::Deserializer::from_bytes(&bytes);
        let read = Event::from_parts(event.event_type().as_str(), EVENT_SCHEMA_VERSION, &mut data);
        assert_eq!(read.as_ref(), Ok(&event));
        assert_eq!(data.finalize().map(<[u8]>::len), Ok(0), "{event:?}");
    }
}

#[test]
fn from_parts_names_unknown_types_versions_and_bad_data_without_keys() {
    let event = &examples()[3];
    let bytes = postcard::to_allocvec(&Data(event)).expect("postcard");
    let read = |name: &str, version: u32, bytes: &[u8]| {
        Event::from_parts(
            name,
            version,
            &mut postcard::Deserializer::from_bytes(bytes),
        )
        .map_err(|e| e.to_string())
    };
    assert_eq!(
        read("KeyStolen", 1, &bytes),
        Err("unknown event type 'KeyStolen'".into())
    );
    assert_eq!(
        read("KeyRedeemed", 2, &bytes),
        Err("KeyRedeemed has schema version 2, this program knows version 1".into())
    );
    let message = read("KeyRedeemed", 1, &bytes[..bytes.len() - 1]).expect_err("truncated");
    assert!(
        message.starts_with("KeyRedeemed data is not valid"),
        "{message}"
    );
    let message = read("UserRegistered", 1, &bytes).expect_err("another type's data");
    assert!(!contains_key(&message), "{message}");
}

#[test]
fn r3_an_envelope_error_does_not_echo_a_key() {
    // serde_json quotes a string of the wrong type in its message.
    let json = r#"{"type":"KeyRedeemed","version":"AAAAA-BBBBB-CCCCC-DDDDD-7QXKR","data":{}}"#;
    let message = Event::from_json(json.as_bytes())
        .expect_err("a version is a number")
        .to_string();
    assert!(message.starts_with("not an event record"), "{message}");
    assert!(!contains_key(&message), "{message}");
}
