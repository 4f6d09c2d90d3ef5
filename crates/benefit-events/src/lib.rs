//! The facts of the benefit ledger: the events and the value types they are
//! made of.
//!
//! This crate is the serialization boundary of the project. Everything here is
//! stored for ever, so the types are few and deliberate:
//!
//! - value types ([`ProductKey`], [`Seats`], [`Money`], [`SubscriptionId`],
//!   [`BenefitId`], [`UserName`], [`Actor`], ...) whose constructors validate,
//!   so that a wrong state cannot be represented anywhere downstream;
//! - the [`Event`] enum, one variant per fact, with an explicit and stable JSON
//!   form (`{"type": ..., "version": ..., "data": {...}}`) and an upcasting
//!   reader, so that an event written today is readable by every later version.
//!
//! A key design decision: events that change an end date carry both their
//! inputs and their outcome (rule R40), so replaying history never re-decides
//! and an auditor can re-derive every outcome from the event alone.
//!
//! This crate does no I/O and reads no clock.
#![forbid(unsafe_code)]

mod actor;
mod benefit;
mod date;
mod error;
mod event;
mod ids;
mod key;
mod money;
mod seats;

pub use actor::{Actor, Role};
pub use benefit::{BenefitType, Credit, CreditPlan, EnrollmentYear, GrantedKey, Offer, Provision};
pub use date::{parse_date, Date};
pub use error::ValueError;
pub use event::{
    BenefitGranted, BenefitWithdrawn, CreditAssigned, CreditTransferred, CreditUnassigned,
    EndDateExtended, Event, EventDecodeError, EventType, KeyRedeemed, LicensesAdded, OutcomeRule,
    Status, StreamId, UserRegistered, EVENT_SCHEMA_VERSION,
};
pub use ids::{BenefitId, ProductName, Reason, SubscriptionId, UserName};
pub use key::{contains_key, key_shaped_token, mask_keys_in, ProductKey};
pub use money::{Currency, Money};
pub use seats::Seats;

/// Shortens untrusted text before it is echoed in an error message, so that a
/// hostile input (a 10 MB line) cannot flood a terminal or a log, and masks
/// anything key-shaped in it (R3). Control characters and bidirectional
/// controls (which would reorder what the terminal shows) are shown as
/// U+FFFD.
pub fn excerpt(text: &str) -> String {
    const EXCERPT_CHARS_MAX: usize = 40;
    let text = key::mask_keys_in(text);
    let unprintable = |c: char| c.is_control() || ids::is_bidi_control(c);
    let mut out: String = text
        .chars()
        .take(EXCERPT_CHARS_MAX)
        .map(|c| if unprintable(c) { '\u{FFFD}' } else { c })
        .collect();
    if text.chars().nth(EXCERPT_CHARS_MAX).is_some() {
        out.push('…');
    }
    out
}
