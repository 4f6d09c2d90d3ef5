//! Lazy reads of the packed log. The reader holds a sled iterator over the
//! segments, the records of the segment it is in, and the little state it
//! needs to check what it reads (the next sequence, the previous hash), so
//! memory does not grow with the log. The first error ends the iteration: a
//! reader never skips.
//!
//! Nor does sled's cache grow with the log: each segment read is counted
//! in it ([`CACHE_TOUCHES_PER_SEGMENT`]), so that the log's leaves are
//! evicted behind a long read (leaves of segments up to about 30 KiB, which
//! sled keeps out of blob files: [`super::LOG_SEGMENT_BYTES`]).

use std::collections::VecDeque;

use super::layout::{parse_segment_key, segment_key, JOURNAL_SEGMENT};
use crate::encoding::{chain_hash, decode, segment_of, unpack_segment};
use crate::verify::{check_link, check_position};
use crate::{AsOf, Break, BreakKind, ChainHash, StoreError, StoredEvent, SEGMENT_RECORDS};

type Item = Result<StoredEvent, StoreError>;

/// How many times a long pass over the log reads each segment's key again,
/// once it has read the segment: a count for sled's cache, not a read of
/// the data.
///
/// sled 0.34's cache (`lru.rs`) is 256 shards, a page's shard chosen by its
/// id, and a shard weighs the accesses to its pages, and evicts, only once
/// 64 of them have queued. A long read goes through the log once: each
/// leaf is pulled once, and its shard sees a handful of accesses in the
/// whole pass (1 502 leaves at 1 000 000 events, about 6 a shard). So no
/// leaf was ever evicted, whatever the cache's capacity (256 bytes or
/// 64 MiB: the same 680-683 MiB replay peak, measured), and a replay held
/// the whole log. A `get` of a cached page counts one access; a leaf holds
/// 8 to 17 segments, so 8 gets a segment and the iterator's own access are
/// at least 65 for a leaf: its shard's queue fills at least once while it
/// is read. sled weighs a page at its size rounded up to a power of two,
/// 256 or 512 KiB for a leaf of segments of [`super::LOG_SEGMENT_BYTES`]
/// (a shard's share of a 64 MiB cache is 256 KiB, so a shard keeps about
/// one leaf). Measured: a 1 000 000-event replay's peak went 680 → 428 MiB,
/// for about 125 000 gets of pages in memory (`docs/performance.md`, the
/// eleventh round). If sled stopped counting accesses this way, the gets
/// would cost a little and free nothing.
const CACHE_TOUCHES_PER_SEGMENT: usize = 8;

/// Counts a segment just read under `key` in sled's cache, so that a long
/// read of the log does not keep it all ([`CACHE_TOUCHES_PER_SEGMENT`]).
/// Every long pass over the journal calls it after each segment, the
/// upgrade's copy too.
pub(super) fn count_in_cache(journal: &sled::Tree, key: &[u8]) -> Result<(), StoreError> {
    for _ in 0..CACHE_TOUCHES_PER_SEGMENT {
        journal
            .get(key)
            .map_err(|e| StoreError::backend("reading the log", e))?;
    }
    Ok(())
}

/// Decodes a record and checks its own hash, so that every read, not only
/// `verify`, notices a changed byte.
pub(super) fn decode_checked(
    seq: u64,
    hash: ChainHash,
    body: &[u8],
) -> Result<StoredEvent, StoreError> {
    let record = decode(body, hash).map_err(|source| StoreError::Decode { seq, source })?;
    let computed = chain_hash(&record.prev_hash, body);
    if computed != hash {
        return Err(Break::new(seq, BreakKind::Hash, computed, hash).into());
    }
    Ok(record)
}

/// Reads the log in sequence order from a given sequence, up to an optional
/// bound.
pub(super) struct SegmentReader {
    journal: sled::Tree,
    iter: sled::Iter,
    records: VecDeque<StoredEvent>,
    next: u64,
    prev_hash: Option<ChainHash>,
    until: Option<AsOf>,
    done: bool,
}

impl SegmentReader {
    pub fn new(journal: &sled::Tree, from: u64, until: Option<AsOf>) -> Self {
        let start = segment_key(segment_of(from));
        let end = [JOURNAL_SEGMENT + 1];
        Self {
            journal: journal.clone(),
            iter: journal.range(start.as_slice()..end.as_slice()),
            records: VecDeque::new(),
            next: from,
            prev_hash: None,
            until,
            done: false,
        }
    }

    /// Reads the next segment into `records`; false at the end of the log.
    fn fill(&mut self) -> Result<bool, StoreError> {
        let Some(item) = self.iter.next() else {
            return Ok(false);
        };
        let (key, value) = item.map_err(|e| StoreError::backend("reading the log", e))?;
        count_in_cache(&self.journal, &key)?;
        let expected = segment_of(self.next);
        let n = parse_segment_key(&key)
            .filter(|n| *n == expected)
            .ok_or_else(|| {
                Break::new(
                    self.next,
                    BreakKind::Contiguity,
                    format!("segment {expected}"),
                    format!("the key {key:?}"),
                )
            })?;
        let packed = unpack_segment(&value).map_err(|source| StoreError::Decode {
            seq: self.next,
            source,
        })?;
        let first = n * SEGMENT_RECORDS + 1;
        for (i, (hash, body)) in packed.into_iter().enumerate() {
            let seq = first + i as u64;
            if seq >= self.next {
                self.records.push_back(decode_checked(seq, hash, body)?);
            }
        }
        Ok(true)
    }

    /// The next record, `None` at the end of the range.
    fn read(&mut self) -> Result<Option<StoredEvent>, StoreError> {
        while self.records.is_empty() {
            if !self.fill()? {
                return Ok(None);
            }
        }
        let Some(record) = self.records.pop_front() else {
            return Ok(None);
        };
        let past = match self.until {
            Some(AsOf::Sequence(last)) => record.seq > last,
            Some(AsOf::RecordedAt(at)) => record.recorded_at > at,
            None => false,
        };
        if past {
            return Ok(None);
        }
        check_position(self.next, record.seq)?;
        check_link(record.seq, &record, self.prev_hash)?;
        self.next = record.seq + 1;
        self.prev_hash = Some(record.hash);
        Ok(Some(record))
    }
}

impl Iterator for SegmentReader {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        if self.done {
            return None;
        }
        match self.read() {
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
