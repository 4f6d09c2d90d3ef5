//! The contract of an event store, in ledger terms.
//!
//! [`EventStore`] is what the rest of the ledger (the shell that decides and
//! appends, projections, the CLI) sees. It says nothing about the database
//! underneath, so that a second backend can implement it and prove itself
//! against the `conformance` module.

use std::collections::BTreeMap;

use benefit_events::{Actor, Event, StreamId};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{Break, BreakKind, ChainHash, Digest, StoreError, StoredEvent, VerifyReport};

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
    /// The last version of every stream the events belong to, as of
    /// `expected` (0: a stream with no event yet). The log does not index
    /// streams (the index is derived data, kept with the projections), so
    /// the caller names each stream's position, as it names the head's; a
    /// stream missing here is refused ([`StoreError::StreamHeadMissing`]).
    /// `verify` re-checks every stream version along the chain.
    pub stream_heads: BTreeMap<StreamId, u64>,
    /// The events, in order; each belongs to its `event.stream()`.
    pub events: Vec<ActedEvent>,
    /// Who runs the append (the invoking actor, R1), stored in every
    /// record (format 3) beside each event's own actor; `None` writes
    /// records without it (format 2).
    pub recorded_by: Option<Actor>,
    /// What a retry under the same command id must match: by default
    /// (`None`) a SHA-256 of the events and their actors
    /// ([`crate::staging::fingerprint`]). A shell that looks a command id
    /// up before deciding gives a fingerprint of its commands instead, so
    /// that a retry is recognised without deciding it again.
    pub fingerprint: Option<ChainHash>,
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
            stream_heads: BTreeMap::new(),
            fingerprint: None,
            recorded_by: None,
            events: events
                .into_iter()
                .map(|event| ActedEvent {
                    actor: actor.clone(),
                    event,
                })
                .collect(),
        }
    }

    /// The same request with each stream's position from `last_version`
    /// (the last version of a stream as of `expected`).
    pub fn at_stream_heads(
        mut self,
        mut last_version: impl FnMut(&StreamId) -> Result<u64, StoreError>,
    ) -> Result<Self, StoreError> {
        for acted in &self.events {
            if let std::collections::btree_map::Entry::Vacant(slot) =
                self.stream_heads.entry(acted.event.stream())
            {
                let last = last_version(slot.key())?;
                slot.insert(last);
            }
        }
        Ok(self)
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

/// A command id's entry in the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoredCommand {
    /// Its original result, flagged as a repeat.
    pub appended: Appended,
    /// The fingerprint of what it stored ([`AppendRequest::fingerprint`]).
    pub fingerprint: ChainHash,
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
    /// Stages a batch under the store's append lock: the command id, the
    /// expected head and the streams' positions are checked, and sequences,
    /// stream versions, the recorded-at time and hashes are assigned.
    /// Nothing is written until [`StagedAppend::commit`]; dropping the staged
    /// append writes nothing and releases the lock. A command id already in
    /// the log is answered with its original result ([`Staging::Repeat`]),
    /// or refused as [`StoreError::CommandIdReused`] if its content differs.
    fn stage(&self, request: AppendRequest) -> Result<Staging<'_>, StoreError>;

    /// Appends a batch atomically, after checking the caller's position:
    /// [`EventStore::stage`], then [`StagedAppend::commit`].
    fn append(&self, request: AppendRequest) -> Result<Appended, StoreError> {
        match self.stage(request)? {
            Staging::Repeat(appended) => Ok(appended),
            Staging::Staged(staged) => staged.commit(),
        }
    }

    /// The command id's entry, if the log holds it: its original result
    /// (flagged as a repeat) and the fingerprint of what it stored.
    fn find_command(&self, command_id: &Uuid) -> Result<Option<StoredCommand>, StoreError>;

    /// The last sequence and its hash ([`Digest::EMPTY`] for an empty log).
    fn head(&self) -> Result<Digest, StoreError>;

    /// Every event from sequence `from` on (0 and 1 both mean all).
    fn read_from(&self, from: u64) -> Events<'_>;

    /// Every event up to a sequence or a recorded-at instant.
    fn read_as_of(&self, as_of: AsOf) -> Events<'_>;

    /// The record at `seq`, checked; `None` beyond the head.
    fn record(&self, seq: u64) -> Result<Option<StoredEvent>, StoreError> {
        if seq == 0 {
            return Ok(None);
        }
        let record = self.read_from(seq).next().transpose()?;
        Ok(record.filter(|r| r.seq == seq))
    }

    /// Walks the whole log and its indexes; the first inconsistency is a
    /// [`StoreError::Broken`] naming its sequence.
    fn verify(&self) -> Result<VerifyReport, StoreError> {
        self.verify_with(&mut |_| {})
    }

    /// [`EventStore::verify`], telling `progress` the sequence the walk has
    /// reached through a [`Reporter`](crate::Reporter) (every so often, and
    /// the head at the end). What every backend implements.
    fn verify_with(&self, progress: &mut dyn FnMut(u64)) -> Result<VerifyReport, StoreError>;

    /// [`EventStore::verify`], and proves the log still holds the history
    /// `digest` was taken at: the record at `digest.seq` has `digest.hash`.
    /// Since every hash covers the one before, that pins every earlier record.
    fn verify_against(&self, digest: &Digest) -> Result<VerifyReport, StoreError> {
        self.verify_against_with(digest, &mut |_| {})
    }

    /// [`EventStore::verify_against`], telling `progress` how far the walk
    /// has got, as [`EventStore::verify_with`] does.
    fn verify_against_with(
        &self,
        digest: &Digest,
        progress: &mut dyn FnMut(u64),
    ) -> Result<VerifyReport, StoreError> {
        let report = self.verify_with(progress)?;
        self.check_digest(digest, report)
    }

    /// [`EventStore::verify_with`], handing every record it checked, in
    /// order, to `each`: what lets a caller check the events themselves
    /// (R40, the rules) without reading and decoding the log a second
    /// time (issue 11). By default it is that second read, after the walk;
    /// a backend whose walk decodes the records hands them over as it goes.
    fn verify_each(
        &self,
        progress: &mut dyn FnMut(u64),
        each: &mut dyn FnMut(StoredEvent),
    ) -> Result<VerifyReport, StoreError> {
        let report = self.verify_with(progress)?;
        for record in self.read_from(1) {
            let record = record?;
            if record.seq > report.head.seq {
                break;
            }
            each(record);
        }
        Ok(report)
    }

    /// The second half of [`EventStore::verify_against_with`]: the walk's
    /// `report` holds the history `digest` was taken at.
    fn check_digest(
        &self,
        digest: &Digest,
        report: VerifyReport,
    ) -> Result<VerifyReport, StoreError> {
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
        let found = match self.record(digest.seq)? {
            Some(record) => record,
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

/// What [`EventStore::stage`] made of a request.
pub enum Staging<'s> {
    /// The command id is in the log with this content: its original result.
    /// Nothing is staged.
    Repeat(Appended),
    /// The batch, staged and holding the append lock until it is committed
    /// or dropped.
    Staged(Box<dyn StagedAppend + 's>),
}

/// A batch staged under the append lock, not yet written.
pub trait StagedAppend {
    /// The records as they will be stored: sequences, stream versions,
    /// recorded-at and hashes assigned. A shell folds its projections over
    /// them before committing.
    fn records(&self) -> &[StoredEvent];

    /// Writes the batch, the new head and the command id in one atomic
    /// write, makes it durable, and releases the lock. Once this returns
    /// `Ok` the batch is acknowledged.
    fn commit(self: Box<Self>) -> Result<Appended, StoreError>;
}
