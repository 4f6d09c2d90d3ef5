//! Calendar dates. The ledger knows no time of day for effective dates: a
//! date is a [`chrono::NaiveDate`], written and read as `YYYY-MM-DD` only.

use crate::{excerpt, ValueError};

/// A calendar date (no time of day, no time zone).
pub type Date = chrono::NaiveDate;

/// Parses a strict `YYYY-MM-DD` date with a four-digit year from 0001 to 9999.
///
/// Stricter than chrono's own parser on purpose: `2026-1-5`, `+2026-01-05`,
/// `2026-01-05T00:00` and year 0 are refused, so that a date means one thing.
pub fn parse_date(text: &str) -> Result<Date, ValueError> {
    let err = |reason| ValueError::Date {
        found: excerpt(text),
        reason,
    };
    let bytes = text.as_bytes();
    let shape_ok = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !shape_ok {
        return Err(err("expected YYYY-MM-DD"));
    }
    let number = |range: std::ops::Range<usize>| -> u32 {
        bytes[range]
            .iter()
            .fold(0, |n, b| n * 10 + u32::from(b - b'0'))
    };
    let (year, month, day) = (number(0..4), number(5..7), number(8..10));
    if year == 0 {
        return Err(err("year 0 does not exist; years run from 0001 to 9999"));
    }
    if !(1..=12).contains(&month) {
        return Err(err("month must be 01 to 12"));
    }
    let year = i32::try_from(year).map_err(|_| err("year out of range"))?;
    Date::from_ymd_opt(year, month, day).ok_or_else(|| err("no such day in that month"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_a_plain_date_and_a_leap_day() {
        assert_eq!(
            parse_date("2028-02-29"),
            Ok(Date::from_ymd_opt(2028, 2, 29).expect("valid"))
        );
    }

    #[test]
    fn refuses_what_is_not_a_calendar_date() {
        for (text, reason) in [
            ("2026-02-30", "no such day in that month"),
            ("2027-02-29", "no such day in that month"),
            (
                "0000-01-01",
                "year 0 does not exist; years run from 0001 to 9999",
            ),
            ("2026-13-01", "month must be 01 to 12"),
            ("2026-1-05", "expected YYYY-MM-DD"),
            ("2026-01-05T00:00:00", "expected YYYY-MM-DD"),
            ("", "expected YYYY-MM-DD"),
            ("+2026-01-0", "expected YYYY-MM-DD"),
        ] {
            match parse_date(text) {
                Err(ValueError::Date { reason: r, .. }) => assert_eq!(r, reason, "{text}"),
                other => panic!("{text}: expected a date error, got {other:?}"),
            }
        }
    }
}
