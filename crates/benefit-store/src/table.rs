//! What every backend that keeps the log as one table row per event shares
//! (the bench's SQLite peer, the PostgreSQL backend): the row as read and
//! its checks, the paged reader of the log, the check of a command row
//! against the records it names, and the bound of a key-prefix scan.
//!
//! A key design decision: a backend writes only its SQL; what a row must
//! satisfy is said once, here, so that a record damaged in any database is
//! refused with the same [`Break`] at the same sequence. Nothing is
//! skipped: every check ends a read with an error.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};

use uuid::Uuid;

use crate::encoding::{chain_hash, decode};
use crate::staging::Head;
use crate::verify::ChainVerifier;
use crate::{
    Appended, AsOf, Break, BreakKind, ChainHash, Digest, StoreError, StoredCommand, StoredEvent,
    VerifyReport,
};

/// How many rows a read takes from the table at a time: the reader's
/// memory, whatever the length of the log (about 250 bytes a row).
pub const READ_PAGE_ROWS: usize = 2_000;

/// A break in an index (a column, a command row) that disagrees with the
/// log.
pub fn index_break(seq: u64, expected: impl ToString, found: impl ToString) -> StoreError {
    Break::new(seq, BreakKind::Index, expected, found).into()
}

/// A sequence as a database's signed 64-bit integer.
pub fn int(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|e| {
        StoreError::backend("converting a sequence to the database's 64-bit integer", e)
    })
}

/// A bound of a query: sequences past a signed 64-bit integer are past
/// every row.
pub fn bound(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

/// The stored hash of the record at `seq`.
pub fn hash_at(seq: u64, bytes: &[u8]) -> Result<ChainHash, StoreError> {
    <[u8; 32]>::try_from(bytes).map(ChainHash).map_err(|_| {
        Break::new(
            seq,
            BreakKind::Decoding,
            "a 32-byte hash",
            format!("{} bytes", bytes.len()),
        )
        .into()
    })
}

/// One row of the events table, as read.
#[derive(Clone, Debug)]
pub struct EventRow {
    /// The sequence column.
    pub seq: i64,
    /// The stream column.
    pub stream: String,
    /// The stream-version column.
    pub stream_version: i64,
    /// The stored hash.
    pub hash: Vec<u8>,
    /// The record's body, exactly as staged.
    pub body: Vec<u8>,
}

impl EventRow {
    /// The columns a backend selects for a row, in this order.
    pub const COLUMNS: &'static str = "seq, stream, stream_version, hash, body";

    /// The row's sequence, which must be `expected`.
    pub fn seq_as(&self, expected: u64) -> Result<u64, StoreError> {
        match u64::try_from(self.seq) {
            Ok(seq) if seq == expected => Ok(seq),
            _ => Err(Break::new(
                expected,
                BreakKind::Contiguity,
                expected,
                format!("sequence {}", self.seq),
            )
            .into()),
        }
    }

    /// The record, checked: stored under `expected`, saying it is that
    /// sequence, linked to `prev` (the hash of the record before; `None`
    /// when it is not known, and then only its own hash is checked), its
    /// hash the chain hash of its body, and its columns its own.
    pub fn checked(
        &self,
        expected: u64,
        prev: Option<ChainHash>,
    ) -> Result<StoredEvent, StoreError> {
        let seq = self.seq_as(expected)?;
        let hash = hash_at(seq, &self.hash)?;
        let record =
            decode(&self.body, hash).map_err(|source| StoreError::Decode { seq, source })?;
        if record.seq != seq {
            return Err(Break::new(
                seq,
                BreakKind::Contiguity,
                seq,
                format!("a record that says it is sequence {}", record.seq),
            )
            .into());
        }
        let prev = prev.unwrap_or(record.prev_hash);
        if record.prev_hash != prev {
            return Err(Break::new(seq, BreakKind::Chain, prev, record.prev_hash).into());
        }
        let computed = chain_hash(&prev, &self.body);
        if computed != hash {
            return Err(Break::new(seq, BreakKind::Hash, computed, hash).into());
        }
        self.check_columns(&record)?;
        Ok(record)
    }

    /// The row's stream and version columns are the record's.
    pub fn check_columns(&self, record: &StoredEvent) -> Result<(), StoreError> {
        if self.stream != record.stream.as_str()
            || u64::try_from(self.stream_version) != Ok(record.stream_version)
        {
            return Err(index_break(
                record.seq,
                format!(
                    "the columns {} version {}",
                    record.stream, record.stream_version
                ),
                format!("{} version {}", self.stream, self.stream_version),
            ));
        }
        Ok(())
    }

    /// The head the newest rows of the table make: `newest` holds the last
    /// row and the one before it, newest first (fewer in a shorter log;
    /// none: the empty log). The last record is checked against its own
    /// hash and its link to the one before, so that an append never
    /// extends a damaged tail.
    pub fn head(newest: Vec<EventRow>) -> Result<Head, StoreError> {
        let mut newest = newest.into_iter();
        let Some(last) = newest.next() else {
            return Ok(Head::EMPTY);
        };
        let seq = u64::try_from(last.seq).unwrap_or(0);
        let prev = match newest.next() {
            Some(before) => Some(hash_at(
                before.seq_as(seq.saturating_sub(1))?,
                &before.hash,
            )?),
            None if seq == 1 => Some(ChainHash::GENESIS),
            None => None,
        };
        let record = last.checked(seq, prev)?;
        Ok(Head {
            seq,
            hash: record.hash,
            recorded_at: Some(record.recorded_at),
        })
    }
}

/// A backend's query for one page of the log: the rows with sequences from
/// `start` to `last` (both included, as [`bound`]s), at most `limit` of
/// them, in order.
pub type FetchPage<'s> =
    Box<dyn FnMut(i64, i64, usize) -> Result<VecDeque<EventRow>, StoreError> + Send + 's>;

/// A read of the log, a page of [`READ_PAGE_ROWS`] rows at a time, each a
/// query of its own (the shell may write documents between two pages of a
/// catch-up). Every row is checked; the first error ends it.
pub struct Pages<'s> {
    fetch_page: FetchPage<'s>,
    /// The sequence the next record must have.
    next: u64,
    /// The last sequence to read.
    last: u64,
    /// The last recorded-at instant to read.
    until: Option<DateTime<Utc>>,
    /// The hash of the record before `next`, once known.
    prev: Option<ChainHash>,
    page: VecDeque<EventRow>,
    /// Whether the table may hold rows past the page.
    more: bool,
    ended: bool,
}

impl<'s> Pages<'s> {
    /// A read from `from` (at least 1) up to `as_of`, or to the end, with
    /// the backend's query for a page.
    pub fn new(fetch_page: FetchPage<'s>, from: u64, as_of: Option<AsOf>) -> Self {
        let (last, until) = match as_of {
            Some(AsOf::Sequence(last)) => (last, None),
            Some(AsOf::RecordedAt(at)) => (u64::MAX, Some(at)),
            None => (u64::MAX, None),
        };
        Self {
            fetch_page,
            next: from.max(1),
            last,
            until,
            prev: None,
            page: VecDeque::new(),
            more: true,
            ended: false,
        }
    }

    /// Reads the next page. The first page of a read that starts past
    /// sequence 1 also reads the row before, whose hash the first record
    /// must link to.
    fn fetch(&mut self) -> Result<(), StoreError> {
        let linking = self.prev.is_none() && self.next > 1;
        let start = if linking { self.next - 1 } else { self.next };
        let rows = (self.fetch_page)(bound(start), bound(self.last), READ_PAGE_ROWS)?;
        self.more = rows.len() == READ_PAGE_ROWS;
        self.page = rows;
        if linking && self.page.front().is_some_and(|row| row.seq == bound(start)) {
            if let Some(row) = self.page.pop_front() {
                self.prev = Some(hash_at(start, &row.hash)?);
            }
        }
        Ok(())
    }

    fn step(&mut self) -> Option<Result<StoredEvent, StoreError>> {
        if self.page.is_empty() {
            if !self.more || self.next > self.last {
                return None;
            }
            if let Err(e) = self.fetch() {
                return Some(Err(e));
            }
        }
        let row = self.page.pop_front()?;
        let record = match row.checked(self.next, self.prev) {
            Ok(record) => record,
            Err(e) => return Some(Err(e)),
        };
        if self.until.is_some_and(|at| record.recorded_at > at) {
            return None;
        }
        self.next += 1;
        self.prev = Some(record.hash);
        Some(Ok(record))
    }
}

impl Iterator for Pages<'_> {
    type Item = Result<StoredEvent, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ended {
            return None;
        }
        let item = self.step();
        if !matches!(item, Some(Ok(_))) {
            self.ended = true;
        }
        item
    }
}

/// A command row's own columns, as read for a retry of its command id.
#[derive(Clone, Debug)]
pub struct CommandEntry {
    /// The batch's first sequence.
    pub first: i64,
    /// Its last sequence.
    pub last: i64,
    /// The hash of its last record.
    pub last_hash: Vec<u8>,
    /// Its recorded-at time, in microseconds since the epoch.
    pub recorded_at_micros: i64,
    /// The fingerprint of what it stored.
    pub fingerprint: Vec<u8>,
}

impl CommandEntry {
    /// The command's original result and fingerprint, checked: a row that
    /// cannot be one is a break naming the command.
    pub fn stored(self, command_id: &Uuid) -> Result<StoredCommand, StoreError> {
        let damaged = |what: &str| index_break(0, format!("command {command_id}'s row"), what);
        let first = u64::try_from(self.first).map_err(|_| damaged("a negative first sequence"))?;
        let last = u64::try_from(self.last).map_err(|_| damaged("a negative last sequence"))?;
        let recorded_at = DateTime::from_timestamp_micros(self.recorded_at_micros)
            .ok_or_else(|| damaged("a recorded-at out of range"))?;
        let fingerprint = <[u8; 32]>::try_from(self.fingerprint.as_slice())
            .map_err(|_| damaged("a fingerprint that is not 32 bytes"))?;
        Ok(StoredCommand {
            appended: Appended {
                first,
                last,
                head: Digest {
                    seq: last,
                    hash: hash_at(last, &self.last_hash)?,
                },
                recorded_at,
                repeat: true,
            },
            fingerprint: ChainHash(fingerprint),
        })
    }
}

/// `verify`'s walk of an events table, row by row in sequence order: each
/// row checked by a [`ChainVerifier`] and against its columns, and the
/// batches counted (one per run of a command id), for the check of the
/// command rows.
#[derive(Debug, Default)]
pub struct LogWalk {
    verifier: ChainVerifier,
    batches: u64,
    last_command: Option<Uuid>,
}

impl LogWalk {
    /// A walk from sequence 1.
    pub fn new() -> Self {
        Self::default()
    }

    /// The sequence the next row must have.
    pub fn next_seq(&self) -> u64 {
        self.verifier.next_seq()
    }

    /// Checks the next row.
    pub fn check(&mut self, row: &EventRow) -> Result<(), StoreError> {
        let seq = row.seq_as(self.verifier.next_seq())?;
        let record = self
            .verifier
            .check(seq, hash_at(seq, &row.hash)?, &row.body)?;
        row.check_columns(&record)?;
        if self.last_command != Some(record.command_id) {
            self.batches += 1;
            self.last_command = Some(record.command_id);
        }
        Ok(())
    }

    /// How many batches the rows so far hold.
    pub fn batches(&self) -> u64 {
        self.batches
    }

    /// The report of a walk that reached the end.
    pub fn report(&self) -> VerifyReport {
        self.verifier.report()
    }
}

/// A row of the commands table, joined with the hash and body of the two
/// records it names (`None`: no such record).
#[derive(Clone, Debug)]
pub struct CommandRow {
    /// The command id's 16 bytes.
    pub id: Vec<u8>,
    /// The batch's first sequence.
    pub first: i64,
    /// Its last sequence.
    pub last: i64,
    /// The hash of its last record.
    pub last_hash: Vec<u8>,
    /// Its recorded-at time, in microseconds since the epoch.
    pub recorded_at: i64,
    /// The first record's hash and body.
    pub first_record: Option<(Vec<u8>, Vec<u8>)>,
    /// The last record's hash and body.
    pub last_record: Option<(Vec<u8>, Vec<u8>)>,
}

impl CommandRow {
    /// The query (over tables `commands` and `events`) whose columns are a
    /// command row's, in [`CommandRow`]'s order.
    pub const QUERY: &'static str = "SELECT c.command_id, c.first, c.last, c.last_hash, \
         c.recorded_at, f.hash, f.body, l.hash, l.body \
         FROM commands c \
         LEFT JOIN events f ON f.seq = c.first \
         LEFT JOIN events l ON l.seq = c.last";

    /// Checks the row against the records it names: first and last of the
    /// same command, the last hash and time its own.
    pub fn check(&self) -> Result<(), StoreError> {
        let first = u64::try_from(self.first).unwrap_or(0);
        let last = u64::try_from(self.last).unwrap_or(0);
        let first_record = named_record(self.first_record.as_ref(), first)?;
        let last_record = named_record(self.last_record.as_ref(), last)?;
        let own = |record: &StoredEvent| record.command_id.as_bytes().as_slice() == self.id;
        if first > last
            || !own(&first_record)
            || !own(&last_record)
            || last_record.hash.0.as_slice() != self.last_hash.as_slice()
            || last_record.recorded_at.timestamp_micros() != self.recorded_at
        {
            return Err(index_break(
                first,
                format!("the records of command {}", last_record.command_id),
                "a command row that disagrees with them",
            ));
        }
        Ok(())
    }
}

/// Checks that there is one command row per batch of the log.
pub fn check_command_count(rows: u64, batches: u64) -> Result<(), StoreError> {
    if rows != batches {
        return Err(index_break(0, format!("{batches} command rows"), rows));
    }
    Ok(())
}

/// The record a command row names (already checked by the walk of the log).
fn named_record(joined: Option<&(Vec<u8>, Vec<u8>)>, seq: u64) -> Result<StoredEvent, StoreError> {
    let Some((hash, body)) = joined else {
        return Err(index_break(seq, "a record", "none"));
    };
    decode(body, hash_at(seq, hash)?).map_err(|source| StoreError::Decode { seq, source })
}

/// The least key past every key that starts with `prefix` (`None`: there
/// is none, every key from `prefix` on qualifies). Keys compare byte by
/// byte (SQLite's text, PostgreSQL's `COLLATE "C"`), and UTF-8's byte order
/// is the order of code points, so the prefix with its last code point
/// raised bounds exactly the keys that start with it.
pub fn prefix_end(prefix: &str) -> Option<String> {
    let mut end = prefix.to_owned();
    while let Some(last) = end.pop() {
        if let Some(next) = (last as u32 + 1..=char::MAX as u32).find_map(char::from_u32) {
            end.push(next);
            return Some(end);
        }
    }
    None
}

/// Where a page of a scan under `prefix` starts
/// ([`crate::ProjectionStore::projection_scan_page`]): just after `after`,
/// when it is given and not before the prefix, otherwise at the prefix
/// itself. Every backend starts its pages here, so that they agree on
/// where a page begins.
pub fn page_start<'k>(prefix: &'k str, after: Option<&'k str>) -> std::ops::Bound<&'k str> {
    match after {
        Some(after) if after >= prefix => std::ops::Bound::Excluded(after),
        _ => std::ops::Bound::Included(prefix),
    }
}

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn the_end_of_a_prefix_bounds_exactly_the_keys_that_start_with_it() {
        assert_eq!(prefix_end("sub/"), Some("sub0".into()));
        assert_eq!(prefix_end(""), None);
        assert_eq!(prefix_end("a\u{10ffff}"), Some("b".into()));
        assert_eq!(prefix_end("\u{d7ff}"), Some("\u{e000}".into()));
    }
}
