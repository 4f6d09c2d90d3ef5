//! The rules of the benefit ledger (`../shared/domain.md`, R1..R41), as a pure
//! decider.
//!
//! Three functions carry the whole domain:
//!
//! - [`State::default`], the ledger before any event;
//! - [`decide`], which holds every business rule: it takes the state and a
//!   [`Command`] and returns the events to record, or a [`Refusal`] naming the
//!   rule and the numbers involved (R41);
//! - [`evolve`], which applies an event to the state and never re-decides
//!   (R40): replaying history is a fold of `evolve`.
//!
//! The term arithmetic of R9, R11, R12 and R14 lives in [`term`] as small pure
//! functions that return the number together with an [`Explanation`] of how
//! it was reached, so that reports can say why every end date is what it is.
//! [`rederive`] re-computes the outcome stored in an event from the inputs
//! stored beside it (R40).
//!
//! A key design decision: this crate does no I/O, reads no clock and draws no
//! random numbers. The effective date, the actor and every id come in with
//! the command. It knows nothing of sled, files or terminals.
#![forbid(unsafe_code)]

mod command;
mod decide;
mod entity;
pub mod jsonl;
mod rederive;
mod refusal;
mod state;
pub mod status;
pub mod term;

pub use command::{Action, ClaimedActor, Command};
pub use decide::{authorize, decide};
pub use entity::{reads, touches, Entity, EntityKey};
pub use rederive::{end_change, explain, rederive, Mismatch};
pub use refusal::Refusal;
pub use state::{
    evolve, inapplicable, Benefit, CreditHolders, Key, KeyUse, State, Subscription, User,
};
pub use status::status_on;
pub use term::Explanation;
