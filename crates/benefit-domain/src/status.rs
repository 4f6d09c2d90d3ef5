//! R20: a subscription's lifecycle status on a date, as a pure function of its
//! end date and the date asked about. Status is never stored.

use benefit_events::{Date, Status};

/// Days a subscription stays `expired` from its end date (R20).
pub const EXPIRED_DAYS: i64 = 30;
/// Days a subscription stays `disabled` after it was expired (R20).
pub const DISABLED_DAYS: i64 = 90;

/// R20: `active` before the end date; `expired` from the end date for 30
/// days (end .. end + 29); `disabled` for the 90 days after that (end + 30 ..
/// end + 119); `deleted` from end + 120 on.
pub fn status_on(end: Date, date: Date) -> Status {
    let days_past_end = (date - end).num_days();
    if days_past_end < 0 {
        Status::Active
    } else if days_past_end < EXPIRED_DAYS {
        Status::Expired
    } else if days_past_end < EXPIRED_DAYS + DISABLED_DAYS {
        Status::Disabled
    } else {
        Status::Deleted
    }
}
