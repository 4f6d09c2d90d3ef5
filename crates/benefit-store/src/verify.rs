//! Checking that the log is what was stored, independent of any backend.
//!
//! [`ChainVerifier`] is fed the records in key order, as raw bytes, and
//! checks, for each, in this order: that it decodes; that its sequence is the
//! next one (and the one it is stored under); that its `prev_hash` is the
//! previous record's hash; that its hash is `SHA-256(prev_hash ‖ body)`; that
//! its stream is its event's stream; that its stream version is one more than
//! the stream's last; and that it was not recorded before the record before
//! it. The first failure is a [`Break`] naming the sequence, what was expected
//! and what was found.
//!
//! Memory: one counter per stream (for stream versions), nothing per event.

use std::collections::HashMap;
use std::fmt;

use benefit_events::StreamId;
use chrono::{DateTime, SecondsFormat, Utc};
use thiserror::Error;

use crate::encoding::{chain_hash, decode};
use crate::{ChainHash, Digest, StoredEvent};

/// What kind of invariant broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BreakKind {
    /// The stored bytes are not a record.
    Decoding,
    /// A sequence is missing, repeated, or not the one the record is stored
    /// under.
    Contiguity,
    /// `prev_hash` is not the hash of the record before.
    Chain,
    /// The stored hash is not `SHA-256(prev_hash ‖ body)`.
    Hash,
    /// The record's stream is not its event's stream.
    Stream,
    /// A stream version is not one more than the stream's last.
    StreamVersion,
    /// Recorded earlier than the record before it.
    RecordedAt,
    /// An index (by stream, by command, the head) disagrees with the log.
    Index,
    /// The log does not hold the history a digest was taken at.
    Digest,
}

impl fmt::Display for BreakKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BreakKind::Decoding => "record does not decode",
            BreakKind::Contiguity => "sequence not contiguous",
            BreakKind::Chain => "hash chain broken",
            BreakKind::Hash => "record hash wrong",
            BreakKind::Stream => "stream is not the event's",
            BreakKind::StreamVersion => "stream version not contiguous",
            BreakKind::RecordedAt => "recorded-at goes backwards",
            BreakKind::Index => "index disagrees with the log",
            BreakKind::Digest => "digest not in the log",
        })
    }
}

/// The first place where the log is not what was stored, or (kind
/// [`BreakKind::Digest`]) where it is not the history a digest was taken of.
/// For a digest, `expected` is what the digest names and `found` what the
/// ledger holds.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub struct Break {
    /// The sequence where it breaks.
    pub seq: u64,
    /// What broke.
    pub kind: BreakKind,
    /// What should be there.
    pub expected: String,
    /// What is there.
    pub found: String,
}

/// A digest that does not match is told apart from a broken chain: the
/// chain was verified intact before the digest was compared.
impl fmt::Display for Break {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Break {
            seq,
            kind,
            expected,
            found,
        } = self;
        match kind {
            BreakKind::Digest => write!(
                f,
                "this digest does not match the ledger's history: at sequence {seq} the digest names {expected}, the ledger holds {found}"
            ),
            _ => write!(
                f,
                "ledger broken at sequence {seq}: {kind}: expected {expected}, found {found}"
            ),
        }
    }
}

impl Break {
    /// A break at `seq`.
    pub fn new(seq: u64, kind: BreakKind, expected: impl ToString, found: impl ToString) -> Self {
        Self {
            seq,
            kind,
            expected: expected.to_string(),
            found: found.to_string(),
        }
    }
}

/// What a successful verification covered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    /// The last record and its hash.
    pub head: Digest,
    /// How many events the log holds.
    pub events: u64,
    /// How many streams they belong to.
    pub streams: u64,
}

/// Checks that the record read next is stored under the sequence expected.
pub(crate) fn check_position(expected: u64, key_seq: u64) -> Result<(), Break> {
    if key_seq != expected {
        return Err(Break::new(
            expected,
            BreakKind::Contiguity,
            expected,
            format!("sequence {key_seq}"),
        ));
    }
    Ok(())
}

/// Checks that a decoded record says it is the sequence it is stored under
/// and, when the previous hash is known, links to it.
pub(crate) fn check_link(
    key_seq: u64,
    record: &StoredEvent,
    prev_hash: Option<ChainHash>,
) -> Result<(), Break> {
    if record.seq != key_seq {
        return Err(Break::new(
            key_seq,
            BreakKind::Contiguity,
            key_seq,
            format!("a record that says it is sequence {}", record.seq),
        ));
    }
    match prev_hash {
        Some(prev_hash) if record.prev_hash != prev_hash => Err(Break::new(
            key_seq,
            BreakKind::Chain,
            prev_hash,
            record.prev_hash,
        )),
        _ => Ok(()),
    }
}

/// Walks a log record by record; see the module documentation.
#[derive(Debug, Default)]
pub struct ChainVerifier {
    head: Option<(u64, ChainHash, DateTime<Utc>)>,
    stream_versions: HashMap<StreamId, u64>,
}

impl ChainVerifier {
    /// A verifier at the start of the log.
    pub fn new() -> Self {
        Self::default()
    }

    /// The sequence the next record must have.
    pub fn next_seq(&self) -> u64 {
        self.head.map_or(1, |(seq, _, _)| seq + 1)
    }

    /// Checks the record stored under `key_seq` with `hash` and `body`, and
    /// returns it decoded.
    pub fn check(
        &mut self,
        key_seq: u64,
        hash: ChainHash,
        body: &[u8],
    ) -> Result<StoredEvent, Break> {
        check_position(self.next_seq(), key_seq)?;
        let record = decode(body, hash)
            .map_err(|e| Break::new(key_seq, BreakKind::Decoding, "a record", e))?;
        let prev_hash = self.head.map_or(ChainHash::GENESIS, |(_, hash, _)| hash);
        check_link(key_seq, &record, Some(prev_hash))?;
        let computed = chain_hash(&prev_hash, body);
        if computed != hash {
            return Err(Break::new(key_seq, BreakKind::Hash, computed, hash));
        }
        let event_stream = record.event.stream();
        if record.stream != event_stream {
            return Err(Break::new(
                key_seq,
                BreakKind::Stream,
                event_stream,
                &record.stream,
            ));
        }
        let version = self
            .stream_versions
            .get(&record.stream)
            .copied()
            .unwrap_or(0)
            + 1;
        if record.stream_version != version {
            return Err(Break::new(
                key_seq,
                BreakKind::StreamVersion,
                format!("{} version {version}", record.stream),
                format!("version {}", record.stream_version),
            ));
        }
        if let Some((_, _, last)) = self.head {
            if record.recorded_at < last {
                return Err(Break::new(
                    key_seq,
                    BreakKind::RecordedAt,
                    format!(
                        "{} or later",
                        last.to_rfc3339_opts(SecondsFormat::Micros, true)
                    ),
                    record
                        .recorded_at
                        .to_rfc3339_opts(SecondsFormat::Micros, true),
                ));
            }
        }
        self.stream_versions.insert(record.stream.clone(), version);
        self.head = Some((key_seq, hash, record.recorded_at));
        Ok(record)
    }

    /// The stream version the verifier has seen last for `stream` (0: none).
    pub fn stream_version(&self, stream: &StreamId) -> u64 {
        self.stream_versions.get(stream).copied().unwrap_or(0)
    }

    /// The report for everything checked so far.
    pub fn report(&self) -> VerifyReport {
        let head = self
            .head
            .map_or(Digest::EMPTY, |(seq, hash, _)| Digest { seq, hash });
        VerifyReport {
            head,
            events: head.seq,
            streams: self.stream_versions.len() as u64,
        }
    }
}
