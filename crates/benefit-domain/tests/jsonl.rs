//! The operator's line format: every event re-records from its exported line,
//! and every malformed line is an error that names the problem.

mod common;

use benefit_domain::jsonl::{parse_line, to_line, LineError, IMPORT_LINE_BYTES_MAX};
use benefit_domain::{authorize, decide, evolve, State};
use common::*;

#[test]
fn an_exported_line_re_records_the_same_event() {
    let history = vec![
        on(
            "2026-01-01",
            grant("ben", &[("A1", 100), ("B1", 25), ("C1", 50)]),
        ),
        on("2026-01-01", grant_monthly("m")),
        on("2026-01-01", grant_annual("y")),
        on("2026-01-02", register("ann@contoso.com")),
        on("2026-01-02", register("bob@contoso.com")),
        on("2026-01-15", redeem("s1", "A1")),
        on("2026-03-01", extend("s1", "B1")),
        on("2026-04-01", add("s1", "C1")),
        on("2026-02-01", assign("m", "ann@contoso.com")),
        on("2026-02-02", unassign("m", "ann@contoso.com")),
        on("2026-02-01", assign("y", "ann@contoso.com")),
        on("2026-05-01", transfer("y", "bob@contoso.com")),
    ];
    let actor = authorize(admin().as_ref()).expect("admin");
    let mut original = State::default();
    let mut replayed = State::default();
    for command in history {
        let event = decide(&original, command).expect("accepted").remove(0);
        let line = to_line(&event, &actor);
        let again = parse_line(&line, None, date("1999-01-01")).expect("exported lines parse");
        assert_eq!(again.actor, admin(), "{line}");
        let re_recorded = decide(&replayed, again).expect("re-accepted").remove(0);
        assert_eq!(re_recorded, event, "{line}");
        original = evolve(original, &event);
        replayed = evolve(replayed, &re_recorded);
    }
    assert_eq!(original, replayed);
}

#[test]
fn defaults_fill_the_actor_and_the_date_when_the_line_names_none() {
    let line = r#"{"event":"UserRegistered","user":"ann@contoso.com"}"#;
    let command = parse_line(line, admin().as_ref(), date("2026-11-24")).expect("valid");
    assert_eq!((command.on, command.actor), (date("2026-11-24"), admin()));
    let own = r#"{"event":"UserRegistered","user":"ann@contoso.com","on":"2026-01-01","actor":{"user":"eve@contoso.com","role":"reader"}}"#;
    let command = parse_line(own, admin().as_ref(), date("2026-11-24")).expect("valid");
    assert_eq!(
        command.actor.map(|a| a.role),
        Some("reader".to_string()),
        "R1 is decide's to refuse"
    );
}

#[test]
fn malformed_lines_name_the_problem() {
    for (line, expected) in [
        (r#"{"event":"KeyStolen"}"#, "unknown event `KeyStolen`"),
        (
            r#"{"subscription":"s1"}"#,
            r#"missing "event" naming the event, one of"#,
        ),
        (
            r#"{"event":"KeyRedeemed","subscription":"s1"}"#,
            "missing field `key`",
        ),
        (
            r#"{"event":"KeyRedeemed","subscription":"s1","key":"A","on":"2026-01-01"}"#,
            "product key is malformed (R2)",
        ),
        (
            r#"{"event":"UserRegistered","user":"ann@contoso.com","colour":"red"}"#,
            "unknown field `colour`",
        ),
        (
            r#"{"event":"UserRegistered","user":"ann@contoso.com","user":"bob@contoso.com"}"#,
            "duplicate field `user`",
        ),
        (
            r#"{"event":"UserRegistered","user":42}"#,
            "invalid type: integer `42`",
        ),
        (
            r#"{"event":"UserRegistered","user":"ann@contoso.com","on":"2026-02-30"}"#,
            "date '2026-02-30' is not valid",
        ),
        (
            r#"{"event":"UserRegistered","user":"ann@contoso.com","on":"2026-01-01T00:00:00Z"}"#,
            "expected YYYY-MM-DD",
        ),
        (
            r#"{"event":"UserRegistered","user":"not-an-address"}"#,
            "is not an e-mail address",
        ),
        (
            r#"{"event":"BenefitGranted","benefit":"b","product":"P","offer":"action-pack","benefit_type":"core","expires":"2027-01-01","keys":[{"key":"AAAAABBBBBCCCCCDDDDDEEEEE","seats":0}]}"#,
            "must be at least 1",
        ),
        (
            r#"{"event":"BenefitGranted","benefit":"b","product":"P","offer":"action-pack","benefit_type":"core","expires":"2027-01-01","keys":[{"key":"AAAAABBBBBCCCCCDDDDDEEEEE","seats":4294967296}]}"#,
            "more than 4294967295 seats",
        ),
        (
            r#"{"event":"BenefitGranted","benefit":"b","product":"P","offer":"action-pack","benefit_type":"core","expires":"2027-01-01","keys":[{"key":"AAAAABBBBBCCCCCDDDDDEEEEE","seats":-3}]}"#,
            "expected a whole number of seats",
        ),
        (
            r#"{"event":"BenefitGranted","benefit":"b","product":"P","offer":"platinum","benefit_type":"core","expires":"2027-01-01","keys":[]}"#,
            "unknown variant `platinum`",
        ),
        (
            r#"{"event":"BenefitGranted","benefit":"b","product":"Azure","offer":"action-pack","benefit_type":"core","expires":"2027-01-01","credit":{"plan":"monthly","amount":"1.005","currency":"USD"}}"#,
            "USD has 2 decimals, found 3",
        ),
        (
            r#"{"event":"BenefitGranted","benefit":"b","product":"Azure","offer":"action-pack","benefit_type":"core","expires":"2027-01-01","credit":{"plan":"annual-bulk","amount":"1.00","currency":"USD"}}"#,
            "needs enrollment_start and enrollment_end",
        ),
        (
            r#"{"event":"BenefitGranted","benefit":"b","product":"Azure","offer":"action-pack","benefit_type":"core","expires":"2027-01-01"}"#,
            "a benefit needs keys or a credit",
        ),
        ("not json", "expected ident"),
        (
            r#"{"event":"BenefitGranted","benefit":"b","product":"P","offer":"action-pack","benefit_type":"core","expires":"2027-01-01","keys":[{"key":"AAAAABBBBBCCCCCDDDDDEEEEE","seats":"AAAAA-BBBBB-CCCCC-DDDDD-EEEEE"}]}"#,
            "*****-*****-*****-*****-EEEEE",
        ),
        ("", "EOF while parsing"),
    ] {
        let message = parse_line(line, admin().as_ref(), date("2026-01-01"))
            .map(|c| format!("accepted {c:?}"))
            .unwrap_or_else(|e| e.to_string());
        assert!(
            message.contains(expected),
            "{line}\n  gave: {message}\n  want: {expected}"
        );
        assert!(
            !message.contains("AAAAABBBBBCCCCCDDDDDEEEEE") && !message.contains("AAAAA-BBBBB"),
            "R3: {message}"
        );
    }
}

#[test]
fn a_line_over_the_limit_is_refused_before_parsing() {
    let line = format!(
        r#"{{"event":"UserRegistered","user":"{}"}}"#,
        "a".repeat(IMPORT_LINE_BYTES_MAX)
    );
    assert_eq!(
        parse_line(&line, None, date("2026-01-01")),
        Err(LineError::TooLong { bytes: line.len() })
    );
}

/// The message of a line that is not a command.
fn message_of(line: &str) -> String {
    match parse_line(line, None, date("2026-01-15")) {
        Err(LineError::Invalid(message)) => message,
        other => panic!("{line}: expected an invalid line, got {other:?}"),
    }
}

#[test]
fn a_line_without_event_says_that_event_is_missing_and_what_it_may_name() {
    for line in [
        "{}",
        r#"{"user": "ann@contoso.com"}"#,
        "1",
        "null",
        r#"{"event": 5}"#,
    ] {
        let message = message_of(line);
        assert!(
            message.contains(r#""event" naming the event, one of BenefitGranted, UserRegistered"#),
            "{line}: {message}"
        );
        assert!(
            !message.contains("internally tagged") && !message.contains("enum Line"),
            "{message}"
        );
        assert!(!message.contains("variant identifier"), "{message}");
    }
    let message = message_of(r#"{"event": "Nope"}"#);
    assert!(
        message.starts_with("unknown event `Nope`, expected one of"),
        "{message}"
    );
}

#[test]
fn a_field_name_that_is_not_a_string_is_not_called_a_key() {
    let message = message_of(r#"{1: 2}"#);
    assert!(
        message.starts_with("a JSON object's field name must be a string"),
        "{message}"
    );
    assert!(!message.contains("key"), "{message}");
}

#[test]
fn a_byte_order_mark_inside_a_file_is_named() {
    let message = message_of("\u{feff}{}");
    assert!(message.contains("byte order mark"), "{message}");
}

#[test]
fn r3_a_name_in_a_line_holding_a_key_with_any_separator_is_refused_masked() {
    for (field, line) in [
        (
            "subscription id",
            r#"{"event": "KeyRedeemed", "subscription": "abcde.fghij.klmno.pqrst.7qxkr", "key": "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE"}"#,
        ),
        (
            "benefit id",
            r#"{"event": "CreditAssigned", "benefit": "abcde_fghij_klmno_pqrst_7qxkr", "user": "ann@contoso.com"}"#,
        ),
        (
            "user",
            r#"{"event": "UserRegistered", "user": "abcde.fghij.klmno.pqrst.7qxkr@contoso.com"}"#,
        ),
        (
            "product",
            r#"{"event": "BenefitGranted", "benefit": "b", "product": "Office abcde fghij klmno pqrst 7qxkr", "offer": "action-pack", "benefit_type": "core", "expires": "2026-12-31", "keys": [{"key": "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE", "seats": 1}]}"#,
        ),
    ] {
        let message = message_of(line);
        assert!(message.starts_with(field), "{line}: {message}");
        assert!(message.contains("(R3"), "{message}");
        assert!(
            message.contains("*****") && !message.contains("fghij"),
            "{message}"
        );
    }
}

#[test]
fn a_bidirectional_control_in_a_line_is_refused_naming_the_field() {
    let line = r#"{"event": "BenefitGranted", "benefit": "b", "product": "Office \u202e365", "offer": "action-pack", "benefit_type": "core", "expires": "2026-12-31", "keys": [{"key": "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE", "seats": 1}]}"#;
    let message = message_of(line);
    assert!(message.starts_with("product"), "{message}");
    assert!(message.contains("U+202E"), "{message}");
    assert!(!message.contains('\u{202e}'), "{message}");
}
