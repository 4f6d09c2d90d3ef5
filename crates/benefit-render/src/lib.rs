//! Pictures and pages of the benefit ledger (issue 14): a subscription's
//! end dates over time as an SVG [`timeline`], and standalone HTML
//! [`page`]s that an auditor can open without a network or hand on as a
//! folder.
//!
//! A key design decision: this crate is pure. It takes data the caller has
//! already read from the ledger (the types below, plain values) and returns
//! strings; it knows no store, no sled, no file and no clock, so one
//! history always renders to the same bytes, and the pictures can be pinned
//! by snapshots. Markup is built with document models that escape what they
//! are given (the `svg` crate, `maud`'s templates), never pasted together;
//! every text from the ledger also goes through [`clean`], which removes
//! what no XML document may hold.
#![forbid(unsafe_code)]

pub mod page;
pub mod timeline;

use chrono::NaiveDate;
use thiserror::Error;

pub use page::{site_index, timeline_page, SiteIndex, Table};
pub use timeline::timeline_svg;

/// A date of the ledger (`YYYY-MM-DD`, no time of day).
pub type Date = NaiveDate;

/// Why a picture or a page could not be drawn.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum RenderError {
    /// A timeline needs at least one end date to draw.
    #[error("subscription {subscription} has no end-date change to draw")]
    NoChanges {
        /// The subscription's id.
        subscription: String,
    },
    /// A date of the picture is past the calendar chrono can count in.
    #[error("the timeline of {subscription} reaches past the last date: {what}")]
    OutOfRange {
        /// The subscription's id.
        subscription: String,
        /// Which date.
        what: String,
    },
}

/// One change of a subscription's end date, as the audit trail holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndChange {
    /// The event's sequence in the log.
    pub seq: u64,
    /// The event type (`KeyRedeemed`, `EndDateExtended`, `LicensesAdded`).
    pub event: String,
    /// Its effective date: where the marker stands.
    pub on: Date,
    /// The end date before it, if the subscription had one.
    pub old_end: Option<Date>,
    /// The end date after it.
    pub new_end: Date,
    /// The seats after it, where the event says.
    pub seats: Option<u32>,
    /// The short label: the rule and its numbers (`R11: 12 x 25 / 100 = 3
    /// months`).
    pub label: String,
    /// The full explanation, as `report audit` prints it.
    pub explanation: String,
    /// Who recorded it.
    pub actor: String,
    /// When it was recorded (RFC 3339).
    pub recorded_at: String,
}

/// A benefit whose keys went into the subscription, with its expiry (R21).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BenefitExpiry {
    /// The benefit's id.
    pub benefit: String,
    /// The last day its rights may be used.
    pub expires: Date,
}

/// Everything a subscription's timeline shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timeline {
    /// The subscription's id.
    pub subscription: String,
    /// Its product.
    pub product: String,
    /// Every change of its end date, in log order.
    pub changes: Vec<EndChange>,
    /// The benefits its keys came from.
    pub benefits: Vec<BenefitExpiry>,
}

/// `text` without the characters no XML document may hold (the controls
/// other than tab, line feed and carriage return), each replaced by U+FFFD:
/// escaping alone cannot make those well-formed.
pub fn clean(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if c.is_control() => '\u{FFFD}',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn clean_replaces_controls_and_keeps_the_rest() {
        assert_eq!(clean("a\u{0}b\u{1b}c"), "a\u{FFFD}b\u{FFFD}c");
        assert_eq!(clean("tab\tline\nok <&>\"'"), "tab\tline\nok <&>\"'");
    }
}
