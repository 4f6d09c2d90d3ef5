//! The term arithmetic of the rule book, as small pure functions that return
//! their result with an [`Explanation`] of the inputs, the formula and the
//! numbers. All arithmetic is exact integer arithmetic on rationals; there is
//! no float anywhere, so every result is reproducible on every machine.

use std::fmt;

use benefit_events::Date;
use chrono::{Datelike, Months};

use crate::Refusal;

/// The length of a new term, and of the seats a key adds (R9, R14).
pub const TERM_MONTHS: u32 = 12;
/// The most an extension may add (R12): three years.
pub const EXTENSION_MONTHS_MAX: u32 = 36;
/// R11 converts a fraction of a month to days at 365/12 days a month.
const DAYS_PER_YEAR: u64 = 365;

/// How a number of the rule book was reached: its inputs, the formula and the
/// result. `Display` writes it the way the audit trail shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Explanation {
    /// R9: a new term of 12 calendar months.
    NewTerm {
        /// The first day of the term.
        start: Date,
        /// 12.
        months: u32,
    },
    /// R11: `12 × k / a` months, whole months then the fraction as days.
    Proration {
        /// `k`.
        key_seats: u32,
        /// `a`.
        active_seats: u32,
        /// The whole months of `12 × k / a`.
        months: u32,
        /// The fraction, in days at 365/12 a month, rounded half up.
        days: u32,
    },
    /// R14: seat-time averaging of the days left.
    Averaging {
        /// `A`.
        seats_before: u32,
        /// `B`.
        days_left: u32,
        /// `C`.
        key_seats: u32,
        /// `T`.
        term_days: u32,
        /// `(A × B + C × T) / (A + C)`, rounded half up.
        new_days_left: u32,
        /// The effective date the days count from.
        from: Date,
    },
}

/// `numerator / denominator` rounded half up (exact, for non-negative values).
pub fn div_round_half_up(numerator: u128, denominator: u128) -> u128 {
    assert!(
        denominator > 0,
        "division by zero seats is prevented by Seats"
    );
    (2 * numerator + denominator) / (2 * denominator)
}

/// Writes `numerator / denominator` as the rule book does: a whole number when
/// it is one, else rounded half up to two decimals (`243.67`).
fn decimal(numerator: u128, denominator: u128) -> String {
    if numerator % denominator == 0 {
        return (numerator / denominator).to_string();
    }
    let hundredths = div_round_half_up(numerator * 100, denominator);
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Explanation::NewTerm { start, months } => {
                write!(f, "new term of {months} months from {start} (R9)")
            }
            Explanation::Proration {
                key_seats,
                active_seats,
                months,
                days,
            } => {
                let exact = decimal(12 * u128::from(key_seats), u128::from(active_seats));
                write!(f, "12 x {key_seats} / {active_seats} = {exact} months")?;
                if days > 0 {
                    write!(f, " = {months} months + {days} days")?;
                }
                f.write_str(" (R11)")
            }
            Explanation::Averaging {
                seats_before,
                days_left,
                key_seats,
                term_days,
                new_days_left,
                from,
            } => {
                let numerator = u128::from(seats_before) * u128::from(days_left)
                    + u128::from(key_seats) * u128::from(term_days);
                let denominator = u128::from(seats_before) + u128::from(key_seats);
                let exact = decimal(numerator, denominator);
                write!(
                    f,
                    "({seats_before} x {days_left} + {key_seats} x {term_days}) / {denominator} = {exact}"
                )?;
                if numerator % denominator != 0 {
                    write!(f, " -> {new_days_left}")?;
                }
                write!(f, " days from {from} (R14)")
            }
        }
    }
}

/// A result with its explanation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explained<T> {
    /// The result.
    pub value: T,
    /// How it was reached.
    pub explanation: Explanation,
}

fn out_of_range(what: String) -> Refusal {
    Refusal::OutOfRange { what }
}

/// Adds calendar months, clamping to the month's end (2026-01-31 + 1 month =
/// 2026-02-28), refusing a date past 9999-12-31 (L7).
pub fn add_months(date: Date, months: u32) -> Result<Date, Refusal> {
    date.checked_add_months(Months::new(months))
        .filter(|d| d.year_ce().1 <= 9999)
        .ok_or_else(|| out_of_range(format!("{date} + {months} months")))
}

/// Adds days, refusing a date past 9999-12-31 (L7).
pub fn add_days(date: Date, days: u32) -> Result<Date, Refusal> {
    date.checked_add_days(chrono::Days::new(u64::from(days)))
        .filter(|d| d.year_ce().1 <= 9999)
        .ok_or_else(|| out_of_range(format!("{date} + {days} days")))
}

/// R9: a new term of 12 calendar months from the start date.
pub fn new_term(start: Date) -> Result<Explained<Date>, Refusal> {
    Ok(Explained {
        value: add_months(start, TERM_MONTHS)?,
        explanation: Explanation::NewTerm {
            start,
            months: TERM_MONTHS,
        },
    })
}

/// The outcome of an extension (R11).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extension {
    /// Whole calendar months added to the end date.
    pub months: u32,
    /// Days added after them.
    pub days: u32,
    /// The new end date.
    pub new_end: Date,
}

/// R11 and R12: the extension a key of `k` seats gives `a` active seats:
/// `12 × k / a` months, whole calendar months added to the end date, then the
/// fraction as days at 365/12 days a month, rounded half up. `k > 3a` is
/// refused (R12); `k = 3a` gives exactly 36 months.
pub fn prorate(
    active_seats: u32,
    key_seats: u32,
    old_end: Date,
) -> Result<Explained<Extension>, Refusal> {
    let (a, k) = (u64::from(active_seats), u64::from(key_seats));
    assert!(a > 0 && k > 0, "Seats are positive");
    if k > 3 * a {
        return Err(Refusal::ExtensionOverCap {
            key_seats,
            active_seats,
        });
    }
    let twelve_k = 12 * k;
    let months = u32::try_from(twelve_k / a).expect("k <= 3a bounds months to 36");
    assert!(months <= EXTENSION_MONTHS_MAX);
    let remainder = u128::from(twelve_k % a);
    // remainder / a months = remainder × 365 / (12 × a) days.
    let days = div_round_half_up(remainder * u128::from(DAYS_PER_YEAR), 12 * u128::from(a));
    let days = u32::try_from(days).expect("less than a month of days");
    let new_end = add_days(add_months(old_end, months)?, days)?;
    Ok(Explained {
        value: Extension {
            months,
            days,
            new_end,
        },
        explanation: Explanation::Proration {
            key_seats,
            active_seats,
            months,
            days,
        },
    })
}

/// The outcome of adding licenses (R14).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CoTerm {
    /// `B`: days from the effective date to the old end date.
    pub days_left: u32,
    /// `T`: days in twelve months from the effective date.
    pub term_days: u32,
    /// `(A × B + C × T) / (A + C)`, rounded half up.
    pub new_days_left: u32,
    /// `A + C`.
    pub seats_after: u32,
    /// The effective date plus the new days left.
    pub new_end: Date,
}

/// R14: co-terming. `A` seats with `B` days left gain a key of `C` seats that
/// would get `T` days (twelve months from the effective date); all seats end
/// `(A × B + C × T) / (A + C)` days (rounded half up) after the effective
/// date. No seat-time is added or lost beyond the rounding (R15: the result
/// is usually less than twelve months).
pub fn co_term(
    seats_before: u32,
    key_seats: u32,
    on: Date,
    old_end: Date,
) -> Result<Explained<CoTerm>, Refusal> {
    assert!(
        old_end > on,
        "only an active subscription gains licenses (R16)"
    );
    let days_left = u32::try_from((old_end - on).num_days())
        .map_err(|_| out_of_range(format!("days from {on} to {old_end}")))?;
    let term_end = add_months(on, TERM_MONTHS)?;
    let term_days = u32::try_from((term_end - on).num_days()).expect("a year of days fits");
    let seats_after = seats_before
        .checked_add(key_seats)
        .ok_or_else(|| out_of_range(format!("{seats_before} + {key_seats} seats")))?;
    let (a, b, c, t) = (
        u128::from(seats_before),
        u128::from(days_left),
        u128::from(key_seats),
        u128::from(term_days),
    );
    let new_days_left = u32::try_from(div_round_half_up(a * b + c * t, a + c))
        .expect("a weighted mean lies between its inputs");
    let new_end = add_days(on, new_days_left)?;
    Ok(Explained {
        value: CoTerm {
            days_left,
            term_days,
            new_days_left,
            seats_after,
            new_end,
        },
        explanation: Explanation::Averaging {
            seats_before,
            days_left,
            key_seats,
            term_days,
            new_days_left,
            from: on,
        },
    })
}
