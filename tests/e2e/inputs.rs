//! Inputs that must be refused, named in plain words: names holding a key
//! written with any separator (R3), control and bidirectional characters,
//! the import's byte order mark and long lines, and a digest of another
//! history. Each refusal exits 2 (or 3 for a digest), names the field or
//! line, shows no key whole and leaves the ledger unchanged.

use crate::{grant_args, TempLedger, ACTOR};

/// The groups of the key hidden in names below, in any case: none of the
/// first four may appear in any output.
const GROUPS: [&str; 5] = ["QWERT", "YUIOP", "ASDFG", "HJKLZ", "7QXKR"];

fn key_with(separator: &str) -> String {
    GROUPS.join(separator)
}

/// Runs an append by ann that must be refused with exit 2, naming `field`,
/// showing the key masked and nothing of its first four groups.
fn assert_refused(ledger: &TempLedger, args: &[&str], stdin: Option<&str>, field: &str) {
    let before = ledger.head();
    let mut all = ACTOR.to_vec();
    all.push("append");
    all.extend_from_slice(args);
    let output = ledger.run_with(&all, stdin);
    let shown = format!("{args:?}: exit {}\n{}", output.code, output.stderr);
    assert_eq!(output.code, 2, "{shown}");
    let first = output.stderr.lines().next().unwrap_or_default();
    assert!(first.contains(field), "{shown}");
    let upper = output.stderr.to_uppercase();
    for group in &GROUPS[..4] {
        assert!(!upper.contains(group), "{shown}");
    }
    assert_eq!(ledger.head(), before, "{shown}");
}

#[test]
fn r3_a_key_written_with_any_separator_in_a_flag_is_refused_masked() {
    let ledger = TempLedger::with_a_subscription();
    for separator in [".", "_", " ", "-"] {
        let key = key_with(separator);
        let id = format!("x{separator}{key}");
        let user = format!("{key}@contoso.com");
        let product = format!("Office {key}");
        assert_refused(
            &ledger,
            &[
                "key-redeemed",
                "--subscription",
                &id,
                "--key",
                "AAAAA-BBBBB-CCCCC-DDDDD-00025",
                "--on",
                "2026-02-01",
            ],
            None,
            "subscription",
        );
        assert_refused(&ledger, &["user-registered", "--user", &user], None, "user");
        let mut grant = grant_args("b2", &["AAAAA-BBBBB-CCCCC-DDDDD-00777=1"]);
        grant[2] = &id;
        assert_refused(&ledger, &grant, None, "benefit");
        let mut grant = grant_args("b2", &["AAAAA-BBBBB-CCCCC-DDDDD-00777=1"]);
        grant[4] = &product;
        assert_refused(&ledger, &grant, None, "product");
    }
}

#[test]
fn r3_a_key_written_with_any_separator_in_an_import_line_is_refused_masked() {
    let ledger = TempLedger::with_a_subscription();
    for separator in [".", "_", " "] {
        let key = key_with(separator);
        let lines = [
            format!(
                r#"{{"event": "KeyRedeemed", "subscription": "x{separator}{key}", "key": "AAAAA-BBBBB-CCCCC-DDDDD-00025", "on": "2026-02-01"}}"#
            ),
            format!(
                r#"{{"event": "BenefitGranted", "benefit": "b2", "product": "Office {key}", "offer": "action-pack", "benefit_type": "core", "expires": "2026-12-31", "keys": [{{"key": "AAAAA-BBBBB-CCCCC-DDDDD-00777", "seats": 1}}]}}"#
            ),
        ];
        for line in &lines {
            let text = format!(
                "{{\"event\": \"UserRegistered\", \"user\": \"zed@contoso.com\"}}\n{line}\n"
            );
            assert_refused(&ledger, &["--file", "-"], Some(&text), "line 2");
        }
    }
}

#[test]
fn control_and_bidirectional_characters_in_a_product_are_refused_naming_it() {
    let ledger = TempLedger::with_a_subscription();
    for c in ['\u{1b}', '\u{85}', '\u{202e}', '\u{2067}'] {
        let product = format!("Office {c}365 E3");
        let mut grant = grant_args("b2", &["AAAAA-BBBBB-CCCCC-DDDDD-00777=1"]);
        grant[4] = &product;
        assert_refused(&ledger, &grant, None, "product");
        let line = format!(
            r#"{{"event": "BenefitGranted", "benefit": "b2", "product": "Office \u{:04x}365", "offer": "action-pack", "benefit_type": "core", "expires": "2026-12-31", "keys": [{{"key": "AAAAA-BBBBB-CCCCC-DDDDD-00777", "seats": 1}}]}}"#,
            u32::from(c)
        );
        assert_refused(&ledger, &["--file", "-"], Some(&line), "line 1");
    }
}

#[test]
fn an_import_file_that_begins_with_a_byte_order_mark_is_read() {
    let ledger = TempLedger::with_a_subscription();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("bom.jsonl");
    let text = "\u{feff}{\"event\": \"UserRegistered\", \"user\": \"zed@contoso.com\", \"on\": \"2026-02-01\"}\n";
    std::fs::write(&file, text).expect("written");
    let path = file.to_str().expect("utf-8 path");
    let output = ledger.append(&["--file", path]);
    assert!(
        output.stdout.starts_with("appended 1 event"),
        "{}",
        output.stdout
    );
}

#[test]
fn a_line_far_over_the_limit_is_not_said_to_be_65538_bytes() {
    let ledger = TempLedger::with_a_subscription();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("long.jsonl");
    let line = format!("{{\"event\": \"{}\"}}\n", "x".repeat(10 * 1024 * 1024));
    std::fs::write(&file, line).expect("written");
    let mut args = ACTOR.to_vec();
    args.extend_from_slice(&["append", "--file", file.to_str().expect("utf-8 path")]);
    let output = ledger.run(&args);
    assert_eq!(output.code, 2, "{}", output.stderr);
    assert!(
        output
            .stderr
            .contains("malformed: line is longer than the 65536 bytes allowed"),
        "{}",
        output.stderr
    );
    assert!(!output.stderr.contains("65538"), "{}", output.stderr);
}

#[test]
fn a_digest_of_another_history_is_told_apart_from_a_broken_chain() {
    let ledger = TempLedger::with_a_subscription();
    let head = ledger.head();
    let seq = head.split(':').next().expect("SEQ:HASH");
    let other = format!("{seq}:{}", "ab".repeat(32));
    let output = ledger.run(&["verify", "--digest", &other]);
    assert_eq!(output.code, 3, "{}", output.stderr);
    let first = output.stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(
            "error: verify --digest failed: this digest does not match the ledger's history"
        ),
        "{}",
        output.stderr
    );
    assert!(
        !output.stderr.contains("ledger broken"),
        "{}",
        output.stderr
    );
    assert!(
        output.stderr.contains("hash chain itself is intact"),
        "{}",
        output.stderr
    );
}
