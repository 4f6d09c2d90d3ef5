//! The contract of an event store, in ledger terms.
//!
//! [`EventStore`] is what the rest of the ledger (the shell that decides and
//! appends, projections, the CLI) sees. It says nothing about the database
//! underneath, so that a second backend can implement it and prove itself
//! against the `conformance` module.

use benefit_events::{Actor, Event, StreamId};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{Break, BreakKind, Digest, StoreError, StoredEvent, VerifyReport};

/// The most events one append may hold: one command's events, or an import
/// of a whole history, must fit in memory at once.
pub const BATCH_EVENTS_MAX: usize = 100_000;

/// An event to append, with the actor who made the change (R1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActedEvent {
    /// Who made the change, in which role.
    pub actor: Actor,
    /// The fact.
    pub event: Event,
}

/// One command's events, or a whole import's, to be appended entirely or
/// not at all. Each event carries its own actor, so an import whose lines
/// were made by different people is still one atomic append.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendRequest {
    /// Identifies the command: appending the same id again returns the
    /// original result and appends nothing (idempotency).
    pub command_id: Uuid,
    /// The last sequence the caller saw when it decided these events (0: the
    /// empty ledger). If the ledger has moved on, the append is a conflict.
    pub expected: u64,
    /// The events, in order; each belongs to its `event.stream()`.
    pub events: Vec<ActedEvent>,
}

impl AppendRequest {
    /// A request whose events were all made by one actor.
    pub fn by(
        actor: &Actor,
        command_id: Uuid,
        expected: u64,
        events: impl IntoIterator<Item = Event>,
    ) -> Self {
        Self {
            command_id,
            expected,
            events: events
                .into_iter()
                .map(|event| ActedEvent {
                    actor: actor.clone(),
                    event,
                })
                .collect(),
        }
    }
}

/// What an append stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    /// The sequence of the batch's first event.
    pub first: u64,
    /// The sequence of its last event.
    pub last: u64,
    /// The ledger's digest right after the batch: `last` and its hash.
    pub head: Digest,
    /// When the batch was recorded (every event of a batch has this time).
    pub recorded_at: DateTime<Utc>,
    /// True when the command id had been appended before: this is the
    /// original result, and nothing was appended now.
    pub repeat: bool,
}

/// An upper bound for an as-of read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AsOf {
    /// Events up to and including this sequence.
    Sequence(u64),
    /// Events recorded at or before this instant. Recorded-at never goes
    /// backwards along the log, so these are a prefix of it.
    RecordedAt(DateTime<Utc>),
}

/// A stream of stored events, read lazily: memory does not grow with the
/// log. An `Err` item ends it.
pub type Events<'a> = Box<dyn Iterator<Item = Result<StoredEvent, StoreError>> + Send + 'a>;

/// An append-only, tamper-evident log of events.
///
/// Contract (checked by the `conformance` module):
/// - sequences are contiguous from 1; each stream's versions from 1;
/// - an append is atomic, durable when it returns `Ok`, refused with
///   [`StoreError::Conflict`] when `expected` is not the head, and idempotent
///   by command id;
/// - reads check what they read and end with an error rather than skip.
pub trait EventStore {
    /// Appends a batch atomically, after checking the caller's position.
    fn append(&self, request: AppendRequest) -> Result<Appended, StoreError>;

    /// The last sequence and its hash ([`Digest::EMPTY`] for an empty log).
    fn head(&self) -> Result<Digest, StoreError>;

    /// Every event from sequence `from` on (0 and 1 both mean all).
    fn read_from(&self, from: u64) -> Events<'_>;

    /// Every event up to a sequence or a recorded-at instant.
    fn read_as_of(&self, as_of: AsOf) -> Events<'_>;

    /// One stream's events in stream-version order, through an index by
    /// stream (not a scan of the log).
    fn read_stream(&self, stream: &StreamId) -> Events<'_>;

    /// Walks the whole log and its indexes; the first inconsistency is a
    /// [`StoreError::Broken`] naming its sequence.
    fn verify(&self) -> Result<VerifyReport, StoreError>;

    /// [`EventStore::verify`], and proves the log still holds the history
    /// `digest` was taken at: the record at `digest.seq` has `digest.hash`.
    /// Since every hash covers the one before, that pins every earlier record.
    fn verify_against(&self, digest: &Digest) -> Result<VerifyReport, StoreError> {
        let report = self.verify()?;
        if digest.seq == 0 {
            if digest.hash != Digest::EMPTY.hash {
                return Err(
                    Break::new(0, BreakKind::Digest, digest.hash, Digest::EMPTY.hash).into(),
                );
            }
            return Ok(report);
        }
        if digest.seq > report.head.seq {
            return Err(Break::new(
                digest.seq,
                BreakKind::Digest,
                format!("a record with hash {}", digest.hash),
                format!("a ledger that ends at sequence {}", report.head.seq),
            )
            .into());
        }
        let found = match self.read_from(digest.seq).next() {
            Some(record) => record?,
            None => {
                return Err(
                    Break::new(digest.seq, BreakKind::Digest, digest.hash, "no record").into(),
                )
            }
        };
        if found.hash != digest.hash {
            return Err(Break::new(digest.seq, BreakKind::Digest, digest.hash, found.hash).into());
        }
        Ok(report)
    }
}
