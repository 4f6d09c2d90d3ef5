//! Staging an append, the same for every backend: checking a request against
//! the head and turning it into the records the log will hold, with their
//! sequences, stream versions, recorded-at time, bodies and hashes.
//!
//! A backend reads its head and its command entry under its own append lock,
//! calls [`stage_records`], and writes what it returns in one atomic step.
//! Keeping this in one place means every backend assigns positions and
//! hashes byte for byte the same way, so one history has one digest on any
//! of them.

use std::collections::BTreeMap;

use benefit_events::StreamId;
use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};

use crate::encoding::{chain_hash, encode_body};
use crate::{
    ActedEvent, AppendRequest, Appended, ChainHash, Digest, StoreError, StoredEvent,
    BATCH_EVENTS_MAX,
};

/// The end of the log as a backend stores it: the last sequence, its hash,
/// and its recorded-at time (appends never go back in time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    /// The last sequence (0: the empty log).
    pub seq: u64,
    /// Its hash ([`ChainHash::GENESIS`] for the empty log).
    pub hash: ChainHash,
    /// When it was recorded; `None` for the empty log.
    pub recorded_at: Option<DateTime<Utc>>,
}

impl Head {
    /// The head of an empty log.
    pub const EMPTY: Head = Head {
        seq: 0,
        hash: ChainHash::GENESIS,
        recorded_at: None,
    };

    /// The head as a digest.
    pub fn digest(&self) -> Digest {
        Digest {
            seq: self.seq,
            hash: self.hash,
        }
    }
}

/// A request turned into records, ready to be written.
#[derive(Clone, Debug)]
pub struct StagedBatch {
    /// The records, in order, hashes included.
    pub records: Vec<StoredEvent>,
    /// Each record's body, as it will be stored: what its hash covers.
    pub bodies: Vec<Vec<u8>>,
    /// What the append will answer once written.
    pub appended: Appended,
    /// The request's fingerprint, stored with its command id.
    pub fingerprint: ChainHash,
}

impl StagedBatch {
    /// The head after the batch.
    pub fn head(&self) -> Head {
        Head {
            seq: self.appended.last,
            hash: self.appended.head.hash,
            recorded_at: Some(self.appended.recorded_at),
        }
    }
}

/// Checks the request's size, so that a backend refuses it before taking
/// its lock.
pub fn check_size(request: &AppendRequest) -> Result<(), StoreError> {
    if request.events.is_empty() {
        return Err(StoreError::EmptyBatch);
    }
    if request.events.len() > BATCH_EVENTS_MAX {
        return Err(StoreError::BatchTooLarge {
            events: request.events.len(),
            max: BATCH_EVENTS_MAX,
        });
    }
    Ok(())
}

/// Checks `request` against `head` and assigns every record's place, time
/// and hash. `now` is the store's clock reading; the batch is recorded at
/// `now`, or at the head's time if the clock went back.
pub fn stage_records(
    request: &AppendRequest,
    head: Head,
    now: DateTime<Utc>,
) -> Result<StagedBatch, StoreError> {
    check_size(request)?;
    if request.expected != head.seq {
        return Err(StoreError::Conflict {
            expected: request.expected,
            actual: head.seq,
        });
    }
    let now = truncate_to_micros(now);
    let recorded_at = head.recorded_at.map_or(now, |last| last.max(now));
    let mut versions: BTreeMap<&StreamId, u64> = BTreeMap::new();
    let mut records = Vec::with_capacity(request.events.len());
    let mut bodies = Vec::with_capacity(request.events.len());
    let mut prev_hash = head.hash;
    for (index, ActedEvent { actor, event }) in request.events.iter().enumerate() {
        let stream = event.stream();
        let (named, last) = request.stream_heads.get_key_value(&stream).ok_or_else(|| {
            StoreError::StreamHeadMissing {
                index,
                stream: stream.to_string(),
            }
        })?;
        let version = versions.entry(named).or_insert(*last);
        *version += 1;
        let seq = head.seq + 1 + index as u64;
        let mut record = StoredEvent {
            seq,
            stream,
            stream_version: *version,
            event_id: StoredEvent::derive_event_id(&request.command_id, index as u64),
            command_id: request.command_id,
            recorded_at,
            actor: actor.clone(),
            recorded_by: request.recorded_by.clone(),
            event: event.clone(),
            prev_hash,
            hash: ChainHash::GENESIS,
        };
        let body = encode_body(&record).map_err(|source| StoreError::Encode { index, source })?;
        record.hash = chain_hash(&prev_hash, &body);
        prev_hash = record.hash;
        records.push(record);
        bodies.push(body);
    }
    let last = head.seq + records.len() as u64;
    Ok(StagedBatch {
        records,
        bodies,
        appended: Appended {
            first: head.seq + 1,
            last,
            head: Digest {
                seq: last,
                hash: prev_hash,
            },
            recorded_at,
            repeat: false,
        },
        fingerprint: fingerprint(request),
    })
}

/// The answer to a command id found in the log: its original result if the
/// request is the same batch, a refusal if it is another one.
pub fn repeat_of(
    request: &AppendRequest,
    stored: Appended,
    stored_fingerprint: ChainHash,
) -> Result<Appended, StoreError> {
    if stored_fingerprint != fingerprint(request) {
        return Err(StoreError::CommandIdReused {
            command_id: request.command_id,
        });
    }
    Ok(Appended {
        repeat: true,
        ..stored
    })
}

/// A SHA-256 of what a request asks to store, so that a retry with the same
/// command id can be told from a different batch reusing it.
pub fn fingerprint(request: &AppendRequest) -> ChainHash {
    if let Some(given) = request.fingerprint {
        return given;
    }
    let mut hasher = Sha256::new();
    let mut part = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    };
    for ActedEvent { actor, event } in &request.events {
        part(actor.user.as_str().as_bytes());
        part(actor.role.as_str().as_bytes());
        part(&event.to_json());
    }
    ChainHash(hasher.finalize().into())
}

fn truncate_to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}
