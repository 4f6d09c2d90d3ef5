//! The one error type of the store. Every variant says what went wrong in
//! ledger terms and carries the sequence, path or positions involved, so that
//! the CLI can print it as it is. No variant holds a whole product key (R3).

use std::path::PathBuf;

use thiserror::Error;
use uuid::Uuid;

use crate::encoding::{DecodeError, EncodeError};
use crate::Break;

/// Why a store operation failed.
#[derive(Debug, Error)]
pub enum StoreError {
    /// Another process has the ledger open (sled allows one per directory).
    #[error("ledger {} is in use by another process{}", path.display(), pid.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    InUse {
        /// The ledger directory.
        path: PathBuf,
        /// The other process's id, as it recorded it, if it did.
        pid: Option<u32>,
    },
    /// The ledger is on a read-only directory or mount: sled 0.34 opens its
    /// files for writing even to read them, so it cannot open it at all.
    #[error("ledger {} is on a read-only file system, and sled cannot open a ledger it may not write, even to read it", path.display())]
    ReadOnly {
        /// The ledger directory.
        path: PathBuf,
    },
    /// The operating system refused this process access to the ledger.
    #[error("permission denied on {}", path.display())]
    PermissionDenied {
        /// The path refused.
        path: PathBuf,
    },
    /// [`crate::SledStore::open_existing`] found no ledger at the path.
    #[error("no ledger at {}: {reason}", path.display())]
    NoLedger {
        /// The path given.
        path: PathBuf,
        /// What was found instead.
        reason: &'static str,
    },
    /// The ledger was written by a newer program with another layout.
    #[error("ledger {} has storage layout {found}; this program reads layout {supported}", path.display())]
    UnsupportedLayout {
        /// The ledger directory.
        path: PathBuf,
        /// The layout found.
        found: String,
        /// The layout this program reads.
        supported: u32,
    },
    /// A file-system operation of the store itself failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What the store was doing (`creating the ledger directory`).
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A flush did not finish in time: sled 0.34 waits for ever for a
    /// write that a full disk failed (its flush misses the error), so a
    /// flush is given [`FLUSH_STALL_LIMIT`](crate::FLUSH_STALL_LIMIT) while
    /// the process is idle (longer while it works) and then reported
    /// instead of hanging. The message says only what was seen: a full
    /// disk is the usual cause (`docs/storage.md`, *A flush never hangs*).
    #[error("storage stalled while {action}: a flush did not finish within {} s (is the disk full, or too busy?)", after.as_secs())]
    Stalled {
        /// What the store was doing.
        action: &'static str,
        /// How long it waited.
        after: std::time::Duration,
    },
    /// The database underneath failed (sled, PostgreSQL).
    #[error("storage failed while {action}: {source}")]
    Backend {
        /// What the store was doing.
        action: &'static str,
        /// The backend's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The ledger's database server could not be reached or refused the
    /// session (PostgreSQL). `server` names the host, the port, the
    /// database and the schema, never a password.
    #[error("cannot reach the ledger's database {server}: {source}")]
    Unreachable {
        /// The server, the database and the ledger's schema.
        server: String,
        /// The client's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Optimistic concurrency: the caller decided on a position that is no
    /// longer the end of the log. Nothing was appended.
    #[error("conflict: the command was decided at sequence {expected}, but the ledger is now at {actual}; nothing was appended, decide again")]
    Conflict {
        /// The position the caller saw.
        expected: u64,
        /// The position of the ledger.
        actual: u64,
    },
    /// An append of no events.
    #[error("nothing to append: the batch has no events")]
    EmptyBatch,
    /// An append of more events than one batch may hold.
    #[error("the batch has {events} events, more than the {max} one append may hold")]
    BatchTooLarge {
        /// The events given.
        events: usize,
        /// [`crate::BATCH_EVENTS_MAX`].
        max: usize,
    },
    /// An append whose request does not name the position of a stream one
    /// of its events belongs to. Nothing was appended.
    #[error("event {index} of the batch belongs to stream {stream}, whose last version the request does not name")]
    StreamHeadMissing {
        /// The event's index in the batch, from 0.
        index: usize,
        /// The stream.
        stream: String,
    },
    /// A command id already used for a different batch.
    #[error("command id {command_id} was already used for a different batch; a retry must send the same events")]
    CommandIdReused {
        /// The command id.
        command_id: Uuid,
    },
    /// An event that cannot be stored (too large). Nothing was appended.
    #[error("event {index} of the batch cannot be stored: {source}")]
    Encode {
        /// Its index in the batch, from 0.
        index: usize,
        /// Why.
        source: EncodeError,
    },
    /// A stored record that does not decode.
    #[error("the record at sequence {seq} does not decode: {source}")]
    Decode {
        /// Its sequence.
        seq: u64,
        /// Why.
        source: DecodeError,
    },
    /// The log is not what was stored: found by `verify`, or by a read that
    /// checks what it reads (sequences contiguous, indexes consistent).
    #[error(transparent)]
    Broken(#[from] Break),
    /// The persisted projection documents are not in the form the store
    /// wrote them.
    #[error("projection storage is damaged: {message}")]
    Projection {
        /// What is wrong.
        message: String,
    },
}

impl StoreError {
    /// The sequence of the record the error is about, if it is about one.
    pub fn seq(&self) -> Option<u64> {
        match self {
            StoreError::Decode { seq, .. } => Some(*seq),
            StoreError::Broken(b) => Some(b.seq),
            _ => None,
        }
    }

    /// A backend error with what the store was doing. sled's own `Display`
    /// of an I/O error is the `Debug` form (`IO error: Os { code: 28, kind:
    /// StorageFull, .. }`), so the operating system's error is taken out of
    /// it and shown in its own words ("No space left on device").
    pub fn backend<E>(action: &'static str, source: E) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        let source: Box<dyn std::error::Error + Send + Sync> = Box::new(source);
        let source = match source.downcast::<sled::Error>() {
            Ok(sled) => match *sled {
                sled::Error::Io(io) => {
                    Box::new(plain_io(io)) as Box<dyn std::error::Error + Send + Sync>
                }
                other => Box::new(other),
            },
            Err(other) => other,
        };
        StoreError::Backend { action, source }
    }
}

/// The operating system's error in its own words. sled clones an I/O error
/// (to hand one failed flush to every waiter) as a new error whose message
/// is the original's `Debug` form (`Os { code: 28, kind: StorageFull,
/// message: .. }`, sled 0.34 `result.rs`): its OS code is read back out of
/// that text.
fn plain_io(io: std::io::Error) -> std::io::Error {
    if io.raw_os_error().is_some() {
        return io;
    }
    let text = io.to_string();
    let code = text
        .strip_prefix("Os { code: ")
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|digits| digits.parse::<i32>().ok());
    match code {
        Some(code) => std::io::Error::from_raw_os_error(code),
        None => io,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An I/O error of sled, as it comes and as sled clones it for every
    /// waiter of a failed flush (a new error whose message is the
    /// original's `Debug` form): both in the operating system's words.
    #[test]
    fn an_io_error_of_the_backend_is_shown_in_plain_words() {
        let full = || std::io::Error::from_raw_os_error(28);
        let cloned = std::io::Error::new(full().kind(), format!("{:?}", full()));
        for io in [full(), cloned] {
            let error = StoreError::backend("flushing to disk", sled::Error::Io(io));
            let text = error.to_string();
            assert!(
                text.starts_with("storage failed while flushing to disk: No space left on device"),
                "{text}"
            );
            assert!(!text.contains("Os {") && !text.contains("kind:"), "{text}");
        }
    }
}
