//! Read models of the benefit ledger: folds over the event log that answer
//! the reports, kept persisted beside the log and rebuildable from nothing.
//!
//! Five projections:
//! - **subscriptions** — product, seats, term, keys used (masked, R3), the
//!   benefits they came from with their expiry dates (R21); status is
//!   computed on the date asked about (R20), never stored;
//! - **audit trail** — one entry per change of an end date, explained with
//!   the rule's own numbers ([`benefit_domain::explain`]);
//! - **credits** — plan, amount, holders and their history;
//! - **benefits and keys** — every key, used or not, and where;
//! - **expiring** — a query over the two above for a window of dates;
//!
//! and the domain state itself, one document per entity ([`state`]), which
//! the application shell loads before deciding instead of folding the log.
//! [`diff`] compares what the reports show at two points of the log.
//!
//! A key design decision: one fold ([`fold::apply`]) writes documents
//! through an [`Overlay`], whatever is underneath. Over the persisted
//! documents it is a catch-up that commits its writes with the checkpoint in
//! one atomic step; over an empty [`DocMap`] it is a rebuild, or an as-of
//! view. So "persisted == rebuilt" compares the same code against itself on
//! two histories of application, and any difference is a real one.
#![forbid(unsafe_code)]

pub mod bounded;
pub mod diff;
pub mod docs;
pub mod fold;
mod ledger;
pub mod model;
pub mod on_date;
mod prefetch;
pub mod reports;
pub mod state;

pub use bounded::{Folded, FOLD_DOCUMENTS_IN_MEMORY};
pub use docs::{DocMap, Docs, Overlay};
pub use ledger::{
    fold_all, stream_head, stream_heads, stream_seqs, Difference, Persisted, Projections,
    RebuildMode, RebuildReport, RederiveFinding, CATCH_UP_BATCH_EVENTS,
};
pub use model::*;

use thiserror::Error;

/// Why a projection could not be read or brought up to date.
#[derive(Debug, Error)]
pub enum ProjectionError {
    /// The log or the projection storage failed.
    #[error(transparent)]
    Store(#[from] benefit_store::StoreError),
    /// A stored document does not decode.
    #[error("projection document {key} is unreadable: {message}")]
    Document {
        /// The document's key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// The decision state's documents do not fit the log: an event cannot
    /// be applied to them ([`benefit_domain::inapplicable`]), as when a
    /// disk that failed under a commit left documents ahead of their
    /// checkpoint.
    #[error("the decision state's documents do not fit the log at sequence {seq}: {why}")]
    Unfit {
        /// The event's sequence.
        seq: u64,
        /// What does not fit.
        why: String,
    },
    /// An event refers to something the projections never saw: the log was
    /// not written by the decider, or a projection was tampered with.
    #[error("projections are inconsistent at sequence {seq}: no {what}")]
    Inconsistent {
        /// The event's sequence.
        seq: u64,
        /// What was missing.
        what: String,
    },
}
