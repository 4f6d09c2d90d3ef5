//! The one error type of the application shell. Each variant says which
//! command or line it is about, so that the CLI can print it as it is and
//! choose an exit code by variant alone. No variant holds a whole product key
//! (R3): refusals and store errors mask keys themselves.

use std::path::PathBuf;

use benefit_domain::Refusal;
use benefit_projections::ProjectionError;
use benefit_store::StoreError;
use thiserror::Error;

/// Why an application operation failed.
#[derive(Debug, Error)]
pub enum AppError {
    /// A command broke a rule (R41): nothing of its batch was appended.
    #[error("command {} of the batch: {refusal}", index + 1)]
    Refused {
        /// The command's index in the batch, from 0.
        index: usize,
        /// The rule and its numbers.
        refusal: Refusal,
    },
    /// A line of an import is not a command: nothing was appended.
    #[error("line {line}: {message}")]
    Malformed {
        /// The line's number in its file, from 1.
        line: u64,
        /// What is wrong, naming the field.
        message: String,
    },
    /// A batch with no commands.
    #[error("nothing to append: the batch has no commands")]
    Empty,
    /// An as-of read past the end of the log.
    #[error("sequence {requested} is after the ledger's last event, {head}")]
    AsOfBeyondHead {
        /// The sequence asked for.
        requested: u64,
        /// The ledger's head.
        head: u64,
    },
    /// Reading an import failed.
    #[error("reading {}: {source}", path.display())]
    Read {
        /// What was being read (`-` for standard input).
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The log failed: in use, missing, unreadable, broken.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The projections could not be brought up to date or read.
    #[error(transparent)]
    Projection(#[from] ProjectionError),
}
