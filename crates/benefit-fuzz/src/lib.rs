//! Fuzz targets for the two ways untrusted bytes enter the ledger: a line of
//! an import file, and the bytes of a stored record read back from disk.
//!
//! The checks live here as plain functions so that the fuzzer binaries
//! (`fuzz_targets/`, run with `cargo fuzz run --fuzz-dir crates/benefit-fuzz
//! TARGET`) stay one line each, and so that every input a fuzzer ever found
//! to crash is replayed by `cargo test` from `regressions/` for ever after.
//!
//! What "no crash" means: the function returns for every input. Errors are
//! fine; panics, overflows (debug assertions are on) and hangs are not.
#![forbid(unsafe_code)]

use benefit_domain::{decide, ClaimedActor, State};
use benefit_events::{contains_key, parse_date, Event, UserName};

/// Parses the bytes as an import line and, if it is a command, decides it
/// on an empty ledger; an accepted event must survive its own JSON round
/// trip and re-derive (R40); an error message must name no whole key (R3).
pub fn import_line(data: &[u8]) {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    let today = parse_date("2026-11-24").expect("a valid date");
    let actor = ClaimedActor {
        user: UserName::parse("fuzz@ledger.example").expect("a valid user"),
        role: "global-admin".into(),
    };
    match benefit_domain::jsonl::parse_line(line, Some(&actor), today) {
        Err(error) => {
            let message = error.to_string();
            assert!(
                !contains_key(&message),
                "R3: an error showed a key: {message}"
            );
        }
        Ok(command) => match decide(&State::default(), command) {
            Err(refusal) => {
                let message = refusal.to_string();
                assert!(
                    !contains_key(&message),
                    "R3: a refusal showed a key: {message}"
                );
            }
            Ok(events) => {
                for event in events {
                    assert_eq!(Event::from_json(&event.to_json()).as_ref(), Ok(&event));
                    assert_eq!(benefit_domain::rederive(&event), Ok(()));
                }
            }
        },
    }
}

/// Reads the bytes as a stored record (hash ‖ body, any record format) the
/// way the store reads one back from disk, and as a bare event. An error
/// message must name no whole key (R3); a record read from format 2 (today's)
/// must read back as itself once written again.
pub fn stored_record(data: &[u8]) {
    use benefit_store::encoding::{decode, encode_body, unframe, EncodeError, FORMAT_2_FIRST_BYTE};
    if let Ok((hash, body)) = unframe(data) {
        match decode(body, hash) {
            Err(error) => {
                let message = error.to_string();
                assert!(
                    !contains_key(&message),
                    "R3: a decoding error showed a key: {message}"
                );
            }
            Ok(record) if body.first() == Some(&FORMAT_2_FIRST_BYTE) => {
                match encode_body(&record) {
                    // Keys are stored normalised (with hyphens), so a record
                    // near the limit may grow past it when written again.
                    Err(EncodeError::TooLarge { .. }) => {}
                    Err(error) => panic!("a decoded record does not encode: {error}"),
                    Ok(again) => assert_eq!(decode(&again, hash).as_ref(), Ok(&record)),
                }
            }
            Ok(_) => {}
        }
    }
    if let Err(error) = Event::from_json(data) {
        let message = error.to_string();
        assert!(
            !contains_key(&message),
            "R3: an event error showed a key: {message}"
        );
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Every file under `regressions/TARGET/` is an input that once crashed
    /// (or a seed worth keeping); each must now pass.
    fn replay(target: &str, check: fn(&[u8])) -> usize {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("regressions")
            .join(target);
        let mut count = 0;
        for entry in std::fs::read_dir(&dir).expect("regressions directory") {
            let path = entry.expect("entry").path();
            check(&std::fs::read(&path).expect("readable input"));
            count += 1;
        }
        count
    }

    #[test]
    fn every_import_line_regression_passes() {
        assert!(replay("import_line", super::import_line) > 0);
    }

    #[test]
    fn every_stored_record_regression_passes() {
        assert!(replay("stored_record", super::stored_record) > 0);
    }

    /// The seeds of record format 2 (`seed-v2-N.bin`, the records of
    /// `tests/fixtures/store-v2`, one of every event type) are whole records,
    /// so that the fuzzer starts from bytes that get past the envelope.
    #[test]
    fn the_format_2_seeds_are_records() {
        use benefit_store::encoding::{decode, unframe, FORMAT_2_FIRST_BYTE};
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions/stored_record");
        let mut types = std::collections::BTreeSet::new();
        for seq in 1..=9 {
            let bytes = std::fs::read(dir.join(format!("seed-v2-{seq}.bin"))).expect("a seed");
            let (hash, body) = unframe(&bytes).expect("hash and body");
            assert_eq!(body.first(), Some(&FORMAT_2_FIRST_BYTE));
            let record = decode(body, hash).expect("a format-2 record");
            assert_eq!(record.seq, seq);
            types.insert(record.event.event_type());
        }
        assert_eq!(types.len(), benefit_events::EventType::RULE_BOOK.len());
    }
}
