//! The one error type of value parsing: every way a piece of text can fail to
//! be a value of this crate, each with enough context to name the problem in
//! one line. No variant ever holds a whole product key (R3).

use thiserror::Error;

/// Why a text is not a valid value. Messages name the field and, where a rule
/// of the rule book is behind the check, its id.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ValueError {
    /// R2: not 25 letters and digits in five groups of five.
    #[error("product key is malformed (R2): {reason}")]
    ProductKey {
        /// What is wrong, without the key itself (R3).
        reason: String,
    },
    /// Seats must be a whole number from 1 to 4294967295.
    #[error("seats '{found}' is not valid: {reason}")]
    Seats {
        /// The text given (shortened).
        found: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// R5: an amount must be a decimal string with at most the currency's
    /// number of decimals.
    #[error("amount '{found}' is not valid (R5): {reason}")]
    Amount {
        /// The text given (shortened).
        found: String,
        /// What is wrong.
        reason: String,
    },
    /// R5: an ISO 4217 currency code.
    #[error("currency '{found}' is not an ISO 4217 currency code (R5)")]
    Currency {
        /// The text given (shortened).
        found: String,
    },
    /// A calendar date `YYYY-MM-DD`.
    #[error("date '{found}' is not valid: {reason}")]
    Date {
        /// The text given (shortened).
        found: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A user name must be an e-mail address.
    #[error("user '{found}' is not an e-mail address: {reason}")]
    UserName {
        /// The text given (shortened).
        found: String,
        /// What is wrong.
        reason: String,
    },
    /// A subscription id, benefit id or product name that breaks its format.
    #[error("{what} '{found}' is not valid: {reason}")]
    Name {
        /// Which kind of name (`subscription id`, `benefit id`, `product`).
        what: &'static str,
        /// The text given (shortened).
        found: String,
        /// What is wrong.
        reason: String,
    },
    /// R1: only two roles may change the ledger.
    #[error("role '{found}' may not change the ledger (R1): only global-admin and mpn-partner-admin may")]
    Role {
        /// The text given (shortened).
        found: String,
    },
    /// One of a fixed set of words (offer, benefit type, credit plan).
    #[error("{what} '{found}' is not one of: {expected}")]
    Choice {
        /// Which field.
        what: &'static str,
        /// The text given (shortened).
        found: String,
        /// The accepted words.
        expected: &'static str,
    },
}
