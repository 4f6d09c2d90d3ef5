//! The byte format of a stored record: the one module that knows it.
//!
//! A record is stored as its **body** (every field of [`StoredEvent`] but the
//! hash) and its **hash**. The first byte of a body says its format:
//!
//! - `{` (0x7B): **format 1**, the first one, one line of JSON with the
//!   fields in a fixed order and no white space. No longer written, read for
//!   ever:
//!
//!   ```text
//!   {"format":1,"seq":7,"stream":"subscription/contoso-o365","stream_version":2,
//!    "event_id":"<uuid>","command_id":"<uuid>","recorded_at":"2026-01-15T09:30:00.000000Z",
//!    "actor":{"user":"ann@contoso.com","role":"global-admin"},
//!    "event":{"type":"KeyRedeemed","version":1,"data":{...}},"prev_hash":"<64 hex>"}
//!   ```
//!
//! - 0x02: **format 2**, written for a record without a recorder: the byte
//!   0x02, then the
//!   [postcard](https://postcard.jamesmunns.com/wire-format) encoding (wire
//!   format v1) of, in this order: `seq` (u64), `stream` (string),
//!   `stream_version` (u64), `event_id` and `command_id` (16 raw bytes
//!   each), `recorded_at` (i64, microseconds since the Unix epoch, UTC),
//!   the actor's `user` and `role` (strings, the role's name as in format
//!   1), the event's `type` (its name, as in format 1), `version` (u32, the
//!   event type's schema version) and `data` (a byte string: the postcard
//!   encoding of the event's data struct), and `prev_hash` (32 raw bytes).
//!   Nothing may follow. `docs/storage.md` has the details.
//! - 0x03: **format 3**, written for a record whose append names who ran it
//!   (issue 13): the byte 0x03, format 2's fields, then the recorder's
//!   `user` and `role` (strings). Nothing may follow.
//! - Any other first byte is refused: 0x04 to 0x1F as a format newer than
//!   this program ([`DecodeError::UnknownFormat`]), the rest as not a record.
//!
//! The hash is `SHA-256(prev_hash ‖ body)`: the 32 raw bytes of the previous
//! record's hash followed by the body bytes exactly as stored. Hashing the
//! stored bytes, not a re-encoding of the decoded record, is deliberate: an
//! old record that is upcast on read keeps its hash, records of different
//! formats chain in one log, and an auditor can check the chain without
//! parsing the body at all.
//!
//! Nothing outside this module depends on the body's format. In both
//! formats the event is read by [`Event::from_parts`], the events crate's
//! one upcasting reader, so a new schema version of an event type is read
//! from either format the same way.

use std::borrow::Cow;

use benefit_events::{
    mask_keys_in, Actor, Event, EventDecodeError, Role, StreamId, UserName, EVENT_SCHEMA_VERSION,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;
use sha2::{Digest as _, Sha256};
use thiserror::Error;
use uuid::Uuid;

use crate::{ChainHash, StoredEvent};

/// The newest record format (formats 1 and 2 stay readable; format 2 is
/// still written for a record with no recorder).
pub const RECORD_FORMAT: u32 = 3;

/// The first byte of every format-1 body (JSON): `{`.
pub const FORMAT_1_FIRST_BYTE: u8 = b'{';

/// The first byte of every format-2 body; the postcard encoding follows.
pub const FORMAT_2_FIRST_BYTE: u8 = 0x02;

/// The first byte of every format-3 body: format 2's fields, then the
/// recorder (who ran the append: user and role, as the actor is written).
pub const FORMAT_3_FIRST_BYTE: u8 = 0x03;

/// First bytes kept for later binary formats (each starting with its
/// number, as formats 2 and 3 do): a body starting with one of them is
/// refused as [`DecodeError::UnknownFormat`], not as damage.
const LATER_FORMATS_FIRST_BYTES: std::ops::RangeInclusive<u8> = 0x04..=0x1F;

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

/// Format 2, after its first byte: the fields in the order they are
/// written. postcard writes a struct as its fields one after the other, so
/// the nesting (`actor`, `event`) adds no bytes; it only groups the fields.
#[derive(Serialize)]
struct BodyV2Out<'a> {
    seq: u64,
    stream: &'a StreamId,
    stream_version: u64,
    event_id: [u8; 16],
    command_id: [u8; 16],
    /// Microseconds since the Unix epoch, UTC.
    recorded_at: i64,
    actor: ActorV2<'a>,
    event: EventV2<'a>,
    prev_hash: [u8; 32],
}

/// [`BodyV2Out`] as it is read: the same fields, the same order.
#[derive(Deserialize)]
struct BodyV2In<'a> {
    seq: u64,
    stream: StreamId,
    stream_version: u64,
    event_id: [u8; 16],
    command_id: [u8; 16],
    recorded_at: i64,
    #[serde(borrow)]
    actor: ActorV2<'a>,
    #[serde(borrow)]
    event: EventV2<'a>,
    prev_hash: [u8; 32],
}

#[derive(Serialize, Deserialize)]
struct ActorV2<'a> {
    user: &'a str,
    role: &'a str,
}

#[derive(Serialize, Deserialize)]
struct EventV2<'a> {
    /// The event type's name, as in format 1 (`KeyRedeemed`).
    #[serde(rename = "type")]
    event_type: &'a str,
    /// The event type's schema version.
    version: u32,
    /// The postcard encoding of the event's data, as a byte string (its
    /// length, then its bytes), so that a reader can walk the envelope
    /// without knowing the data's schema.
    #[serde(serialize_with = "as_bytes")]
    data: &'a [u8],
}

fn as_bytes<S: Serializer>(bytes: &&[u8], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_bytes(bytes)
}

/// An event's data as a value of its own.
struct DataOf<'a>(&'a Event);

impl Serialize for DataOf<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_data(serializer)
    }
}

/// The body of `record` in today's format (2): every field but `hash`.
///
/// `recorded_at` is written to the microsecond; the store truncates the
/// clock's reading to microseconds before it builds the record, so that a
/// record decodes to exactly what was appended.
pub fn encode_body(record: &StoredEvent) -> Result<Vec<u8>, EncodeError> {
    // Plain structs of strings and numbers always serialize to memory; the
    // error arms exist only because serde's signature has them.
    let serialize = |e: postcard::Error| EncodeError::Serialize(e.to_string());
    let data = postcard::to_allocvec(&DataOf(&record.event)).map_err(serialize)?;
    let body = BodyV2Out {
        seq: record.seq,
        stream: &record.stream,
        stream_version: record.stream_version,
        event_id: record.event_id.into_bytes(),
        command_id: record.command_id.into_bytes(),
        recorded_at: record.recorded_at.timestamp_micros(),
        actor: ActorV2 {
            user: record.actor.user.as_str(),
            role: record.actor.role.as_str(),
        },
        event: EventV2 {
            event_type: record.event.event_type().as_str(),
            version: EVENT_SCHEMA_VERSION,
            data: &data,
        },
        prev_hash: record.prev_hash.0,
    };
    // The fixed-size fields, the names and lengths, the strings, the data.
    let capacity = 160 + record.stream.as_str().len() + body.actor.user.len() + data.len();
    let mut bytes = Vec::with_capacity(capacity);
    bytes.push(match record.recorded_by {
        Some(_) => FORMAT_3_FIRST_BYTE,
        None => FORMAT_2_FIRST_BYTE,
    });
    let mut bytes = postcard::to_extend(&body, bytes).map_err(serialize)?;
    if let Some(recorder) = &record.recorded_by {
        let recorder = ActorV2 {
            user: recorder.user.as_str(),
            role: recorder.role.as_str(),
        };
        bytes = postcard::to_extend(&recorder, bytes).map_err(serialize)?;
    }
    if bytes.len() > RECORD_BODY_BYTES_MAX {
        return Err(EncodeError::TooLarge {
            bytes: bytes.len(),
            max: RECORD_BODY_BYTES_MAX,
        });
    }
    Ok(bytes)
}

/// Reads a body of any known format into a record with the given hash. The
/// event is upcast to today's schema version by [`Event::from_parts`].
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
    match body.split_first() {
        Some((&FORMAT_2_FIRST_BYTE, rest)) => decode_v2(rest, hash, false),
        Some((&FORMAT_3_FIRST_BYTE, rest)) => decode_v2(rest, hash, true),
        Some((&FORMAT_1_FIRST_BYTE, _)) => decode_json(body, hash),
        Some((&byte, _)) if LATER_FORMATS_FIRST_BYTES.contains(&byte) => {
            Err(DecodeError::UnknownFormat {
                found: u32::from(byte),
            })
        }
        Some((&byte, _)) => Err(DecodeError::Body(format!(
            "the body starts with byte 0x{byte:02x}, which starts no record format \
             (format 1 starts with '{{', format 2 with 0x02, format 3 with 0x03)"
        ))),
        None => Err(DecodeError::Body("the body is empty".into())),
    }
}

#[derive(Deserialize)]
struct FormatProbe {
    format: u32,
}

/// A JSON body: format 1, the only JSON format.
fn decode_json(body: &[u8], hash: ChainHash) -> Result<StoredEvent, DecodeError> {
    match decode_v1(body, hash) {
        Err(DecodeError::Body(message)) => {
            // Only a body that is not format 1 is probed for the format it
            // says it has.
            let probe: FormatProbe =
                serde_json::from_slice(body).map_err(|_| DecodeError::Body(message.clone()))?;
            match probe.format {
                found if found > RECORD_FORMAT => Err(DecodeError::UnknownFormat { found }),
                1 => Err(DecodeError::Body(message)),
                found => Err(DecodeError::Body(format!(
                    "a JSON body is format 1, this one says format {found}"
                ))),
            }
        }
        decoded => decoded,
    }
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

fn decode_v1(body: &[u8], hash: ChainHash) -> Result<StoredEvent, DecodeError> {
    // serde_json quotes a string of the wrong type in its message: masked,
    // in case it is a key (R3).
    let raw: BodyV1<'_> = serde_json::from_slice(body)
        .map_err(|e| DecodeError::Body(mask_keys_in(&e.to_string())))?;
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
        recorded_by: None,
        event,
        prev_hash,
        hash,
    })
}

/// A format-2 body after its first byte.
/// A format-2 body after its first byte, or with `with_recorder` a format-3
/// body: the same fields, then the recorder.
fn decode_v2(
    bytes: &[u8],
    hash: ChainHash,
    with_recorder: bool,
) -> Result<StoredEvent, DecodeError> {
    let format = if with_recorder { 3 } else { 2 };
    let (raw, rest): (BodyV2In<'_>, _) = postcard::take_from_bytes(bytes)
        .map_err(|e| DecodeError::Body(format!("format {format}: {}", postcard_reason(&e))))?;
    let (recorded_by, rest) = if with_recorder {
        let (recorder, rest): (ActorV2<'_>, _) = postcard::take_from_bytes(rest)
            .map_err(|e| DecodeError::Body(format!("format 3: {}", postcard_reason(&e))))?;
        let recorder = Actor {
            user: UserName::parse_stored(recorder.user)
                .map_err(|e| field_error("recorded_by.user", e))?,
            role: Role::parse(recorder.role).map_err(|e| field_error("recorded_by.role", e))?,
        };
        (Some(recorder), rest)
    } else {
        (None, rest)
    };
    if !rest.is_empty() {
        return Err(DecodeError::Body(format!(
            "format {format}: {} after the record's last field",
            bytes_count(rest.len())
        )));
    }
    let recorded_at = DateTime::<Utc>::from_timestamp_micros(raw.recorded_at).ok_or_else(|| {
        field_error(
            "recorded_at",
            format!("{} µs from the Unix epoch is out of range", raw.recorded_at),
        )
    })?;
    let actor = Actor {
        user: UserName::parse_stored(raw.actor.user).map_err(|e| field_error("actor.user", e))?,
        role: Role::parse(raw.actor.role).map_err(|e| field_error("actor.role", e))?,
    };
    let mut data = postcard::Deserializer::from_bytes(raw.event.data);
    let event = Event::from_parts(raw.event.event_type, raw.event.version, &mut data)
        .map_err(|e| DecodeError::Event(reword_data_error(e)))?;
    let left = data
        .finalize()
        .map_err(|e| field_error("event.data", postcard_reason(&e)))?;
    if !left.is_empty() {
        return Err(field_error(
            "event.data",
            format!(
                "{} after the {} data's last field",
                bytes_count(left.len()),
                event.event_type()
            ),
        ));
    }
    Ok(StoredEvent {
        seq: raw.seq,
        stream: raw.stream,
        stream_version: raw.stream_version,
        event_id: Uuid::from_bytes(raw.event_id),
        command_id: Uuid::from_bytes(raw.command_id),
        recorded_at,
        actor,
        recorded_by,
        event,
        prev_hash: ChainHash(raw.prev_hash),
        hash,
    })
}

/// postcard's own words for an error are terse ("Serde Deserialization
/// Error"); the events crate passes them on as the data's error message.
/// This puts [`postcard_reason`]'s words in their place.
fn reword_data_error(error: EventDecodeError) -> EventDecodeError {
    const WORDED: [postcard::Error; 7] = [
        postcard::Error::DeserializeUnexpectedEnd,
        postcard::Error::DeserializeBadVarint,
        postcard::Error::DeserializeBadUtf8,
        postcard::Error::DeserializeBadBool,
        postcard::Error::DeserializeBadOption,
        postcard::Error::DeserializeBadEnum,
        postcard::Error::SerdeDeCustom,
    ];
    match error {
        EventDecodeError::Data {
            event_type,
            message,
        } => EventDecodeError::Data {
            event_type,
            message: WORDED
                .iter()
                .find(|e| e.to_string() == message)
                .map_or(message, postcard_reason),
        },
        other => other,
    }
}

/// `1 byte`, `2 bytes`.
fn bytes_count(count: usize) -> String {
    match count {
        1 => "1 byte".into(),
        n => format!("{n} bytes"),
    }
}

fn field_error(field: &'static str, reason: impl ToString) -> DecodeError {
    DecodeError::Field {
        field,
        reason: reason.to_string(),
    }
}

/// What is wrong, in words, for postcard's errors (which never quote the
/// input, so they cannot show a key, R3).
fn postcard_reason(error: &postcard::Error) -> String {
    match error {
        postcard::Error::DeserializeUnexpectedEnd => {
            "the bytes end before the last field (truncated)".into()
        }
        postcard::Error::DeserializeBadVarint => "a number is not a valid varint".into(),
        postcard::Error::DeserializeBadUtf8 => "a text field is not UTF-8".into(),
        postcard::Error::DeserializeBadBool => "a boolean is neither 0 nor 1".into(),
        postcard::Error::DeserializeBadOption => "an option tag is neither 0 nor 1".into(),
        postcard::Error::DeserializeBadEnum => "an enum variant does not exist".into(),
        postcard::Error::SerdeDeCustom => {
            "a value is not valid for its field (an id, a name, a key, a date, \
             a currency, a number of seats or a choice)"
                .into()
        }
        other => other.to_string(),
    }
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

/// The first byte of a segment: its format.
pub const SEGMENT_FORMAT_1: u8 = 0x01;

/// Records per segment: the log packs this many consecutive records into one
/// value of the backend (a segment), and segment `n` holds sequences
/// `n * SEGMENT_RECORDS + 1 ..= (n + 1) * SEGMENT_RECORDS`.
///
/// Chosen by measurement (issue 11, `docs/performance.md`): sled writes and
/// scans packed values ten times faster than one key per record, and gains
/// little beyond 64 records; the last, partial segment is rewritten by every
/// append, so a single command rewrites at most 63 records (about 16 KiB).
pub const SEGMENT_RECORDS: u64 = 64;

/// The segment that holds `seq` (from 1).
pub fn segment_of(seq: u64) -> u64 {
    seq.saturating_sub(1) / SEGMENT_RECORDS
}

/// Appends one record to a segment's bytes (an empty `segment` starts a new
/// one): `body length (u32, big-endian) ‖ hash (32) ‖ body`. Each record is
/// still hashed and chained on its own; the segment only packs them.
pub fn pack_record(segment: &mut Vec<u8>, hash: &ChainHash, body: &[u8]) {
    if segment.is_empty() {
        segment.push(SEGMENT_FORMAT_1);
    }
    // A body is at most RECORD_BODY_BYTES_MAX bytes (encode_body refuses
    // more), so its length fits a u32.
    let len = u32::try_from(body.len()).unwrap_or(u32::MAX);
    segment.extend_from_slice(&len.to_be_bytes());
    segment.extend_from_slice(&hash.0);
    segment.extend_from_slice(body);
}

/// The records of a segment, in order, as `(hash, body)`: each body is then
/// read by [`decode`]. Damage in the packing itself is an error naming the
/// record's place in the segment.
pub fn unpack_segment(segment: &[u8]) -> Result<Vec<(ChainHash, &[u8])>, DecodeError> {
    let Some((&format, mut rest)) = segment.split_first() else {
        return Err(DecodeError::Body("an empty segment".into()));
    };
    if format != SEGMENT_FORMAT_1 {
        return Err(DecodeError::Body(format!(
            "a segment of format {format}; this program reads format {SEGMENT_FORMAT_1}"
        )));
    }
    let mut records = Vec::with_capacity(SEGMENT_RECORDS as usize);
    while !rest.is_empty() {
        let place = records.len() + 1;
        let damaged =
            |what: &str| DecodeError::Body(format!("record {place} of its segment {what}"));
        let (len, after) = rest
            .split_first_chunk::<4>()
            .ok_or_else(|| damaged("has a cut length"))?;
        let len = u32::from_be_bytes(*len) as usize;
        if len > RECORD_BODY_BYTES_MAX {
            return Err(DecodeError::TooLarge {
                bytes: len,
                max: RECORD_BODY_BYTES_MAX,
            });
        }
        let (hash, after) = after
            .split_first_chunk::<32>()
            .ok_or_else(|| damaged("has a cut hash"))?;
        if after.len() < len {
            return Err(damaged("is cut short"));
        }
        let (body, after) = after.split_at(len);
        records.push((ChainHash(*hash), body));
        rest = after;
    }
    Ok(records)
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
    Serialize(String),
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
    /// A `format` newer than this program knows (or a damaged first byte).
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

#[cfg(test)]
mod tests;
