//! Lazy reads of the log and of one stream. Each reader holds a sled
//! iterator and the little state it needs to check what it reads (the next
//! sequence or stream version, the previous hash), so memory does not grow
//! with the log. The first error ends the iteration: a reader never skips.

use benefit_events::StreamId;
use chrono::{DateTime, Utc};

use super::layout::{parse_stream_key, parse_u64, seq_key, stream_prefix};
use crate::encoding::{chain_hash, decode, unframe};
use crate::verify::{check_link, check_position};
use crate::{Break, BreakKind, ChainHash, StoreError, StoredEvent};

type Item = Result<StoredEvent, StoreError>;

/// Decodes the record stored under `seq` and checks its own hash, so that
/// every read, not only `verify`, notices a changed byte.
pub(super) fn decode_record(seq: u64, value: &[u8]) -> Result<StoredEvent, StoreError> {
    let (hash, body) = unframe(value).map_err(|source| StoreError::Decode { seq, source })?;
    let record = decode(body, hash).map_err(|source| StoreError::Decode { seq, source })?;
    let computed = chain_hash(&record.prev_hash, body);
    if computed != hash {
        return Err(Break::new(seq, BreakKind::Hash, computed, hash).into());
    }
    Ok(record)
}

/// Reads the log in sequence order from a given sequence, optionally up to a
/// recorded-at instant.
pub(super) struct LogReader {
    iter: sled::Iter,
    next: u64,
    prev_hash: Option<ChainHash>,
    until: Option<DateTime<Utc>>,
    done: bool,
}

impl LogReader {
    pub fn new(iter: sled::Iter, from: u64, until: Option<DateTime<Utc>>) -> Self {
        Self {
            iter,
            next: from,
            prev_hash: None,
            until,
            done: false,
        }
    }

    /// The next record, `None` at the end of the range.
    fn read(
        &mut self,
        item: sled::Result<(sled::IVec, sled::IVec)>,
    ) -> Result<Option<StoredEvent>, StoreError> {
        let (key, value) = item.map_err(|e| StoreError::backend("reading the log", e))?;
        let seq = parse_u64(&key).ok_or_else(|| {
            Break::new(
                self.next,
                BreakKind::Contiguity,
                self.next,
                format!("a key of {} bytes", key.len()),
            )
        })?;
        check_position(self.next, seq)?;
        let record = decode_record(seq, &value)?;
        check_link(seq, &record, self.prev_hash)?;
        if self.until.is_some_and(|until| record.recorded_at > until) {
            return Ok(None);
        }
        self.next = seq + 1;
        self.prev_hash = Some(record.hash);
        Ok(Some(record))
    }
}

impl Iterator for LogReader {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        if self.done {
            return None;
        }
        let item = self.iter.next()?;
        match self.read(item) {
            Ok(Some(record)) => Some(Ok(record)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(error) => {
                self.done = true;
                Some(Err(error))
            }
        }
    }
}

/// Reads one stream through the index by stream: each entry names the
/// sequence of the stream's next version, which is then read from the log.
pub(super) struct StreamReader {
    index: sled::Iter,
    log: sled::Tree,
    stream: StreamId,
    next_version: u64,
    done: bool,
}

impl StreamReader {
    pub fn new(streams: &sled::Tree, log: &sled::Tree, stream: &StreamId) -> Self {
        Self {
            index: streams.scan_prefix(stream_prefix(stream.as_str())),
            log: log.clone(),
            stream: stream.clone(),
            next_version: 1,
            done: false,
        }
    }

    fn read(
        &mut self,
        item: sled::Result<(sled::IVec, sled::IVec)>,
    ) -> Result<StoredEvent, StoreError> {
        let index_break = |seq, expected: String, found: String| -> StoreError {
            Break::new(seq, BreakKind::Index, expected, found).into()
        };
        let (key, value) = item.map_err(|e| StoreError::backend("reading the stream index", e))?;
        let expected = format!("{} version {}", self.stream, self.next_version);
        let version = parse_stream_key(&key).map(|(_, version)| version);
        if version != Some(self.next_version) {
            return Err(index_break(0, expected, format!("index entry {version:?}")));
        }
        let seq = parse_u64(&value).ok_or_else(|| {
            index_break(
                0,
                expected.clone(),
                format!("a sequence of {} bytes", value.len()),
            )
        })?;
        let stored = self
            .log
            .get(seq_key(seq))
            .map_err(|e| StoreError::backend("reading the log", e))?
            .ok_or_else(|| index_break(seq, expected.clone(), "no record".to_string()))?;
        let record = decode_record(seq, &stored)?;
        if record.seq != seq
            || record.stream != self.stream
            || record.stream_version != self.next_version
        {
            return Err(index_break(
                seq,
                expected,
                format!(
                    "{} version {} at sequence {}",
                    record.stream, record.stream_version, record.seq
                ),
            ));
        }
        self.next_version += 1;
        Ok(record)
    }
}

impl Iterator for StreamReader {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        if self.done {
            return None;
        }
        let item = self.index.next()?;
        let result = self.read(item);
        self.done = result.is_err();
        Some(result)
    }
}
