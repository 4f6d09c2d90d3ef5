//! R40: re-deriving every stored outcome from the inputs stored beside it,
//! and explaining it. Replay never re-decides; this is the separate check an
//! auditor runs to prove that every stored end date is what the rules give.

use benefit_events::{Date, Event};
use thiserror::Error;

use crate::term::{self, Explanation, TERM_MONTHS};

/// A stored outcome the rules would not produce from its stored inputs.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{field} is {stored}, the rules give {derived} ({rule})")]
pub struct Mismatch {
    /// The rule that computes the field.
    pub rule: &'static str,
    /// The field of the event.
    pub field: &'static str,
    /// What the event stores.
    pub stored: String,
    /// What the rule gives from the stored inputs.
    pub derived: String,
}

fn check<T: PartialEq + ToString>(
    rule: &'static str,
    field: &'static str,
    stored: T,
    derived: T,
) -> Result<(), Mismatch> {
    if stored == derived {
        return Ok(());
    }
    Err(Mismatch {
        rule,
        field,
        stored: stored.to_string(),
        derived: derived.to_string(),
    })
}

fn refused(rule: &'static str, field: &'static str, stored: String, why: String) -> Mismatch {
    Mismatch {
        rule,
        field,
        stored,
        derived: format!("a refusal: {why}"),
    }
}

/// Re-derives the outcome of an end-date event from its stored inputs (R40).
/// Events that change no end date pass.
pub fn rederive(event: &Event) -> Result<(), Mismatch> {
    match event {
        Event::KeyRedeemed(e) => {
            check("R9", "term_months", e.term_months, TERM_MONTHS)?;
            let end = term::new_term(e.on)
                .map_err(|r| refused("R9", "new_end", e.new_end.to_string(), r.to_string()))?;
            check("R9", "new_end", e.new_end, end.value)
        }
        Event::EndDateExtended(e) => {
            let ext = term::prorate(e.active_seats.get(), e.key_seats.get(), e.old_end)
                .map_err(|r| refused("R11", "new_end", e.new_end.to_string(), r.to_string()))?
                .value;
            check("R11", "months_added", e.months_added, ext.months)?;
            check("R11", "days_added", e.days_added, ext.days)?;
            check("R11", "new_end", e.new_end, ext.new_end)
        }
        Event::LicensesAdded(e) => {
            if e.old_end <= e.on {
                return Err(refused(
                    "R16",
                    "old_end",
                    e.old_end.to_string(),
                    format!("the subscription was not active on {}", e.on),
                ));
            }
            let co = term::co_term(e.seats_before.get(), e.key_seats.get(), e.on, e.old_end)
                .map_err(|r| refused("R14", "new_end", e.new_end.to_string(), r.to_string()))?
                .value;
            check("R14", "days_left", e.days_left, co.days_left)?;
            check("R14", "term_days", e.term_days, co.term_days)?;
            check("R14", "new_days_left", e.new_days_left, co.new_days_left)?;
            check("R14", "seats_after", e.seats_after.get(), co.seats_after)?;
            check("R14", "new_end", e.new_end, co.new_end)
        }
        _ => Ok(()),
    }
}

/// The explanation of an end-date event, from its stored inputs and
/// outcome; `None` for events that change no end date.
pub fn explain(event: &Event) -> Option<Explanation> {
    match event {
        Event::KeyRedeemed(e) => Some(Explanation::NewTerm {
            start: e.on,
            months: e.term_months,
        }),
        Event::EndDateExtended(e) => Some(Explanation::Proration {
            key_seats: e.key_seats.get(),
            active_seats: e.active_seats.get(),
            months: e.months_added,
            days: e.days_added,
        }),
        Event::LicensesAdded(e) => Some(Explanation::Averaging {
            seats_before: e.seats_before.get(),
            days_left: e.days_left,
            key_seats: e.key_seats.get(),
            term_days: e.term_days,
            new_days_left: e.new_days_left,
            from: e.on,
        }),
        _ => None,
    }
}

/// The end date an event sets, with the one before it, if it changes one.
pub fn end_change(event: &Event) -> Option<(Option<Date>, Date)> {
    match event {
        Event::KeyRedeemed(e) => Some((e.old_end, e.new_end)),
        Event::EndDateExtended(e) => Some((Some(e.old_end), e.new_end)),
        Event::LicensesAdded(e) => Some((Some(e.old_end), e.new_end)),
        _ => None,
    }
}
