//! How a failed command ends: an exit code and a message on standard error,
//! first line what and why, then detail. Only the binary maps errors to exit
//! codes; the library crates say what went wrong in their own terms.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | refused by a rule (the message names the rule id and the numbers, R41) |
//! | 2 | malformed input or wrong usage (the message names the field or line) |
//! | 3 | the ledger is unusable: in use, missing on a read, unreadable, or failed verification |

use benefit_app::AppError;
use benefit_projections::ProjectionError;
use benefit_store::{BreakKind, StoreError};

/// The exit codes of `benefit-ledger`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 1: a rule refused the command.
    Refused = 1,
    /// 2: malformed input or wrong usage.
    Usage = 2,
    /// 3: the ledger cannot be used.
    Unusable = 3,
    /// 4: the ledger is busy: another process holds it; try again (or
    /// `--wait`).
    Busy = 4,
}

/// A failed command: its exit code, its first line, and detail lines.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub exit: Exit,
    /// What failed and why, in one line.
    pub headline: String,
    /// More lines, printed after the first.
    pub detail: Vec<String>,
}

impl Failure {
    /// A failure with no detail.
    pub fn new(exit: Exit, headline: impl Into<String>) -> Self {
        Self {
            exit,
            headline: headline.into(),
            detail: Vec::new(),
        }
    }

    /// Malformed input or wrong usage.
    pub fn usage(headline: impl Into<String>) -> Self {
        Self::new(Exit::Usage, headline)
    }

    /// Adds a line of detail.
    pub fn detail(mut self, line: impl Into<String>) -> Self {
        self.detail.push(line.into());
        self
    }

    /// What is printed on standard error: `error: ` and the headline, then
    /// each line of detail, indented.
    pub fn message(&self) -> String {
        let mut text = format!("error: {}\n", self.headline);
        for line in &self.detail {
            text.push_str(&format!("  {line}\n"));
        }
        text
    }

    /// The failure of an application error, its headline prefixed with
    /// where it happened (`line 7 of history.jsonl`) when that is known.
    pub fn from_app(error: AppError, context: &dyn Fn(&AppError) -> Option<String>) -> Self {
        let place = context(&error);
        let with_place = |text: String| match &place {
            Some(place) => format!("{place}: {text}"),
            None => text,
        };
        match error {
            AppError::Refused { refusal, .. } => {
                Failure::new(Exit::Refused, with_place(refusal.to_string()))
                    .detail("nothing was appended (R41): the ledger is unchanged")
            }
            AppError::Malformed { message, .. } => {
                Failure::usage(with_place(format!("malformed: {message}")))
                    .detail("nothing was appended: the ledger is unchanged")
            }
            AppError::Empty => Failure::usage(error.to_string()),
            AppError::AsOfBeyondHead { .. } => Failure::usage(format!("--as-of-seq: {error}")),
            AppError::Read { .. } => Failure::usage(error.to_string()),
            AppError::Store(store) => Self::from_store(store),
            AppError::Projection(ProjectionError::Store(store)) => Self::from_store(store),
            AppError::Projection(projection) => {
                Failure::new(Exit::Unusable, format!("ledger unusable: {projection}")).detail(
                    "`benefit-ledger rebuild --repair` recomputes the projections from the log",
                )
            }
        }
    }

    fn from_store(error: StoreError) -> Self {
        let exit = match error {
            // Input the store would not take: too many events, an event too
            // large to store, a command id reused for other events.
            StoreError::BatchTooLarge { .. }
            | StoreError::Encode { .. }
            | StoreError::CommandIdReused { .. }
            | StoreError::EmptyBatch => Exit::Usage,
            StoreError::InUse { .. } | StoreError::Conflict { .. } => Exit::Busy,
            _ => Exit::Unusable,
        };
        let headline = match (&error, exit) {
            (_, Exit::Usage) => error.to_string(),
            (StoreError::Broken(b), _) if b.kind == BreakKind::Digest => {
                format!("verify --digest failed: {error}")
            }
            (StoreError::Broken(_) | StoreError::Decode { .. }, _) => {
                format!("ledger failed verification: {error}")
            }
            _ => format!("ledger unusable: {error}"),
        };
        let failure = Failure::new(exit, headline);
        match error {
            StoreError::Broken(b) if b.kind == BreakKind::Digest => failure.detail(
                "the hash chain itself is intact from the first record to the head: the digest is of another ledger or mistyped, or the history up to that sequence was rewritten since the digest was written down",
            ),
            StoreError::Broken(_) | StoreError::Decode { .. } => failure.detail(
                "every record before the sequence named is proven by the hash chain; restore the ledger directory from a backup copy and check the copy with `benefit-ledger verify --digest SEQ:HASH` of a digest written down earlier",
            ),
            StoreError::ReadOnly { .. } => failure.detail(
                "to read it, copy the ledger directory to a writable place and read the copy (`verify --digest` proves it is the same history)",
            ),
            StoreError::PermissionDenied { .. } => failure.detail(
                "run as the user who owns the ledger directory, or ask them for access; a ledger holds product keys, so its directory is private to its owner (0700)",
            ),
            StoreError::Unreachable { .. } => failure.detail(
                "check that the server is up and reachable, and the URL's user, database and schema; a password comes from the URL or PGPASSWORD (docs/postgres.md)",
            ),
            StoreError::InUse { .. } => failure.detail(
                "busy: try again when the other process has finished, or give `--wait SECONDS`",
            ),
            StoreError::Stalled { .. } => failure.detail(
                "free some space if the disk is full (a disk too busy to finish a flush in time stalls too); then run `benefit-ledger verify`, and before appending again look at the last events (`benefit-ledger log --recorded-since YYYY-MM-DD`): a stalled append may or may not have landed; `benefit-ledger rebuild --repair` restores the reports from the log",
            ),
            StoreError::Backend { .. } | StoreError::Io { .. } => failure.detail(
                "the disk may be full or read-only, or the ledger's files damaged: fix that, then run `benefit-ledger verify`; if it fails, restore the ledger directory from a backup copy",
            ),
            _ => failure,
        }
    }
}

impl From<AppError> for Failure {
    fn from(error: AppError) -> Self {
        Self::from_app(error, &|_| None)
    }
}
