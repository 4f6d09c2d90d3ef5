//! The byte format of a stored record: the one module that knows it.
//!
//! A record is stored as its **body** (every field of [`StoredEvent`] but the
//! hash) and its **hash**. Format 1, today's, writes the body as one line of
//! JSON with the fields in a fixed order and no white space:
//!
//! ```text
//! {"format":1,"seq":7,"stream":"subscription/contoso-o365","stream_version":2,
//!  "event_id":"<uuid>","command_id":"<uuid>","recorded_at":"2026-01-15T09:30:00.000000Z",
//!  "actor":{"user":"ann@contoso.com","role":"global-admin"},
//!  "event":{"type":"KeyRedeemed","version":1,"data":{...}},"prev_hash":"<64 hex>"}
//! ```
//!
//! The hash is `SHA-256(prev_hash ‖ body)`: the 32 raw bytes of the previous
//! record's hash followed by the body bytes exactly as stored. Hashing the
//! stored bytes, not a re-encoding of the decoded record, is deliberate: an
//! old record that is upcast on read keeps its hash, and an auditor can check
//! the chain without parsing the body at all.
//!
//! Nothing outside this module depends on the body being JSON. A later format
//! (binary, say) gets a new `format` number, and [`decode`] keeps reading
//! every older one.

use std::borrow::Cow;

use benefit_events::{Actor, Event, EventDecodeError, StreamId};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest as _, Sha256};
use thiserror::Error;
use uuid::Uuid;

use crate::{ChainHash, StoredEvent};

/// The record format written today.
pub const RECORD_FORMAT: u32 = 1;

/// The largest body a record may have, in bytes. A limit on everything: an
/// event is a handful of fields, a benefit a handful of keys; anything near
/// this size is a bug or an attack, and sled keeps values in memory.
pub const RECORD_BODY_BYTES_MAX: usize = 64 * 1024;

/// The hash of a record: `SHA-256(prev_hash ‖ body)`.
pub fn chain_hash(prev_hash: &ChainHash, body: &[u8]) -> ChainHash {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.0);
    hasher.update(body);
    ChainHash(hasher.finalize().into())
}

#[derive(Serialize)]
struct BodyOut<'a> {
    format: u32,
    seq: u64,
    stream: &'a StreamId,
    stream_version: u64,
    event_id: &'a Uuid,
    command_id: &'a Uuid,
    recorded_at: String,
    actor: &'a Actor,
    event: &'a Event,
    prev_hash: String,
}

/// The body of `record` in today's format: every field but `hash`.
///
/// `recorded_at` is written to the microsecond; the store truncates the
/// clock's reading to microseconds before it builds the record, so that a
/// record decodes to exactly what was appended.
pub fn encode_body(record: &StoredEvent) -> Result<Vec<u8>, EncodeError> {
    let body = BodyOut {
        format: RECORD_FORMAT,
        seq: record.seq,
        stream: &record.stream,
        stream_version: record.stream_version,
        event_id: &record.event_id,
        command_id: &record.command_id,
        recorded_at: record
            .recorded_at
            .to_rfc3339_opts(SecondsFormat::Micros, true),
        actor: &record.actor,
        event: &record.event,
        prev_hash: record.prev_hash.to_hex(),
    };
    // Plain structs of strings and numbers always serialize to memory; the
    // error arm exists only because serde's signature has one.
    let bytes = serde_json::to_vec(&body).map_err(|e| EncodeError::Json(e.to_string()))?;
    if bytes.len() > RECORD_BODY_BYTES_MAX {
        return Err(EncodeError::TooLarge {
            bytes: bytes.len(),
            max: RECORD_BODY_BYTES_MAX,
        });
    }
    Ok(bytes)
}

#[derive(Deserialize)]
struct FormatProbe {
    format: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BodyV1<'a> {
    format: u32,
    seq: u64,
    stream: StreamId,
    stream_version: u64,
    event_id: Uuid,
    command_id: Uuid,
    #[serde(borrow)]
    recorded_at: Cow<'a, str>,
    actor: Actor,
    #[serde(borrow)]
    event: &'a RawValue,
    #[serde(borrow)]
    prev_hash: Cow<'a, str>,
}

/// Reads a body of any known format into a record with the given hash. The
/// event is upcast to today's schema version by [`Event::from_json`].
///
/// Decoding does not check the hash: that is [`crate::verify`]'s job, which
/// needs the record before it.
pub fn decode(body: &[u8], hash: ChainHash) -> Result<StoredEvent, DecodeError> {
    if body.len() > RECORD_BODY_BYTES_MAX {
        return Err(DecodeError::TooLarge {
            bytes: body.len(),
            max: RECORD_BODY_BYTES_MAX,
        });
    }
    // Today's format first: one parse for the common case. Only a body that
    // is not format 1 is probed for the format it says it has.
    match decode_v1(body, hash) {
        Err(DecodeError::Body(message)) => {
            let probe: FormatProbe =
                serde_json::from_slice(body).map_err(|_| DecodeError::Body(message.clone()))?;
            match probe.format {
                RECORD_FORMAT => Err(DecodeError::Body(message)),
                found => Err(DecodeError::UnknownFormat { found }),
            }
        }
        decoded => decoded,
    }
}

fn decode_v1(body: &[u8], hash: ChainHash) -> Result<StoredEvent, DecodeError> {
    let raw: BodyV1<'_> =
        serde_json::from_slice(body).map_err(|e| DecodeError::Body(e.to_string()))?;
    if raw.format != 1 {
        return Err(DecodeError::Body(format!("format {} is not 1", raw.format)));
    }
    let recorded_at = DateTime::parse_from_rfc3339(&raw.recorded_at)
        .map_err(|e| DecodeError::Field {
            field: "recorded_at",
            reason: e.to_string(),
        })?
        .with_timezone(&Utc);
    let prev_hash = ChainHash::from_hex(&raw.prev_hash).map_err(|e| DecodeError::Field {
        field: "prev_hash",
        reason: e.to_string(),
    })?;
    let event = Event::from_json(raw.event.get().as_bytes()).map_err(DecodeError::Event)?;
    Ok(StoredEvent {
        seq: raw.seq,
        stream: raw.stream,
        stream_version: raw.stream_version,
        event_id: raw.event_id,
        command_id: raw.command_id,
        recorded_at,
        actor: raw.actor,
        event,
        prev_hash,
        hash,
    })
}

/// One stored value holding a whole record: the 32 hash bytes, then the body.
/// The sled backend stores records this way; a backend with columns may keep
/// the two apart instead.
pub fn frame(hash: &ChainHash, body: &[u8]) -> Vec<u8> {
    let mut value = Vec::with_capacity(ChainHash::BYTES + body.len());
    value.extend_from_slice(&hash.0);
    value.extend_from_slice(body);
    value
}

/// Splits a value written by [`frame`] into the hash and the body.
pub fn unframe(value: &[u8]) -> Result<(ChainHash, &[u8]), DecodeError> {
    if value.len() < ChainHash::BYTES {
        return Err(DecodeError::TooShort { bytes: value.len() });
    }
    let (hash, body) = value.split_at(ChainHash::BYTES);
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(hash);
    Ok((ChainHash(bytes), body))
}

/// Why a record cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    /// The body is over [`RECORD_BODY_BYTES_MAX`].
    #[error("the record is {bytes} bytes, more than the {max} bytes a record may have")]
    TooLarge {
        /// The body's size.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// Serialization failed (a bug in a `Serialize` implementation).
    #[error("the record does not serialize: {0}")]
    Json(String),
}

/// Why stored bytes are not a record.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// Shorter than a hash.
    #[error("the stored value is {bytes} bytes, shorter than its 32-byte hash")]
    TooShort {
        /// The value's size.
        bytes: usize,
    },
    /// Over [`RECORD_BODY_BYTES_MAX`].
    #[error("the record is {bytes} bytes, more than the {max} bytes a record may have")]
    TooLarge {
        /// The body's size.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// Not a record body of a known shape.
    #[error("not a record: {0}")]
    Body(String),
    /// A `format` newer than this program knows.
    #[error("record format {found} is newer than this program, which reads formats 1 to {RECORD_FORMAT}")]
    UnknownFormat {
        /// The format found.
        found: u32,
    },
    /// A field that does not parse.
    #[error("field {field} is not valid: {reason}")]
    Field {
        /// Which field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The event inside does not decode.
    #[error("the event does not decode: {0}")]
    Event(EventDecodeError),
}
