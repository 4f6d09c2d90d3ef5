//! The envelope every stored event travels in.
//!
//! The fields are in ledger terms and shared by every backend; how they become
//! bytes is [`crate::encoding`]'s business alone.

use benefit_events::{Actor, Event, StreamId};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::ChainHash;

/// An event as the ledger stores it: the fact, who recorded it and when, its
/// place in the log and in its stream, and its link in the hash chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEvent {
    /// The global sequence number: contiguous from 1, never reused.
    pub seq: u64,
    /// The stream the event belongs to; always `event.stream()`.
    pub stream: StreamId,
    /// The event's place in its stream: contiguous from 1.
    pub stream_version: u64,
    /// The event's id, derived from the command id and the event's index in
    /// its batch (`Uuid::new_v5(command_id, index as u64 big-endian)`), so
    /// that the same import always produces the same records.
    pub event_id: Uuid,
    /// The id of the command (the append) that recorded the event.
    pub command_id: Uuid,
    /// When the store recorded the event, to the microsecond. Never earlier
    /// than the record before it.
    pub recorded_at: DateTime<Utc>,
    /// Who made the change, in which role (R1): the command's actor, which
    /// an import line may name for itself.
    pub actor: Actor,
    /// Who ran the append that stored it (the invoking actor, R1), where
    /// the record says: record format 3. `None` in records of formats 1 and
    /// 2, and in appends that did not name one.
    pub recorded_by: Option<Actor>,
    /// The fact itself, upcast to today's schema version.
    pub event: Event,
    /// The hash of the record before it ([`ChainHash::GENESIS`] for the first).
    pub prev_hash: ChainHash,
    /// `SHA-256(prev_hash ‖ body)`, where body is the record's stored bytes
    /// without this hash (see [`crate::encoding`]).
    pub hash: ChainHash,
}

impl StoredEvent {
    /// The event id of the event at `index` in the batch of `command_id`.
    pub fn derive_event_id(command_id: &Uuid, index: u64) -> Uuid {
        Uuid::new_v5(command_id, &index.to_be_bytes())
    }
}
