//! The SQLite store's rows: an event row and its checks, the paged reader
//! of the log, the head, the command rows' check for `verify`, and the
//! documents' queries. Every check ends a read with an error naming the
//! sequence; nothing is skipped.

use std::collections::VecDeque;
use std::sync::Mutex;

use benefit_store::encoding::{chain_hash, decode};
use benefit_store::staging::Head;
use benefit_store::{AsOf, Break, BreakKind, ChainHash, StoreError, StoredEvent};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::{db, lock};

/// How many rows a read takes from the table at a time: the reader's
/// memory, whatever the length of the log (about 250 bytes a row).
pub const READ_PAGE_ROWS: usize = 2_000;

/// A break in an index (a column, a command row) that disagrees with the
/// log.
pub fn index_break(seq: u64, expected: impl ToString, found: impl ToString) -> StoreError {
    Break::new(seq, BreakKind::Index, expected, found).into()
}

/// A sequence as SQLite's INTEGER.
pub fn int(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value)
        .map_err(|e| StoreError::backend("converting a sequence to SQLite's INTEGER", e))
}

/// A bound of a query: sequences past SQLite's INTEGER are past every row.
fn bound(seq: u64) -> i64 {
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

/// One row of `events`, as read.
pub struct EventRow {
    seq: i64,
    stream: String,
    stream_version: i64,
    /// The stored hash.
    pub hash: Vec<u8>,
    /// The record's body, exactly as staged.
    pub body: Vec<u8>,
}

impl EventRow {
    /// The columns [`EventRow::from_row`] reads, in its order.
    pub const COLUMNS: &'static str = "seq, stream, stream_version, hash, body";

    /// The row of a query selecting [`EventRow::COLUMNS`].
    pub fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            seq: row.get(0)?,
            stream: row.get(1)?,
            stream_version: row.get(2)?,
            hash: row.get(3)?,
            body: row.get(4)?,
        })
    }

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
}

/// The head: the last row of `events`, checked against its own hash.
pub fn read_head(connection: &Connection) -> Result<Head, StoreError> {
    let row = connection
        .prepare_cached(&format!(
            "SELECT {} FROM events ORDER BY seq DESC LIMIT 1",
            EventRow::COLUMNS
        ))
        .and_then(|mut select| select.query_row([], EventRow::from_row).optional())
        .map_err(db("reading the head"))?;
    let Some(row) = row else {
        return Ok(Head::EMPTY);
    };
    let seq = u64::try_from(row.seq).unwrap_or(0);
    let record = row.checked(seq, None)?;
    Ok(Head {
        seq,
        hash: record.hash,
        recorded_at: Some(record.recorded_at),
    })
}

/// A read of the log, a page of [`READ_PAGE_ROWS`] rows at a time, each
/// under the connection's lock for one query only: the shell may write
/// documents between two pages of a catch-up. The first error ends it.
pub struct Pages<'s> {
    connection: &'s Mutex<Connection>,
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
    /// A read from `from` (at least 1) up to `as_of`, or to the end.
    pub fn new(connection: &'s Mutex<Connection>, from: u64, as_of: Option<AsOf>) -> Self {
        let (last, until) = match as_of {
            Some(AsOf::Sequence(last)) => (last, None),
            Some(AsOf::RecordedAt(at)) => (u64::MAX, Some(at)),
            None => (u64::MAX, None),
        };
        Self {
            connection,
            next: from,
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
        let rows = {
            let connection = lock(self.connection);
            let mut select = connection
                .prepare_cached(&format!(
                    "SELECT {} FROM events WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3",
                    EventRow::COLUMNS
                ))
                .map_err(db("preparing a read of the log"))?;
            let rows = select
                .query_map(
                    params![bound(start), bound(self.last), READ_PAGE_ROWS as i64],
                    EventRow::from_row,
                )
                .map_err(db("reading the log"))?;
            rows.collect::<Result<VecDeque<_>, _>>()
                .map_err(db("reading an event row"))?
        };
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

/// Checks every command row against the records it names (first and last
/// of the same command, the last hash and time its own), and that there is
/// one per batch of the log.
pub fn verify_commands(connection: &Connection, batches: u64) -> Result<(), StoreError> {
    let mut select = connection
        .prepare(
            "SELECT c.command_id, c.first, c.last, c.last_hash, c.recorded_at,
                    f.hash, f.body, l.hash, l.body
             FROM commands c
             LEFT JOIN events f ON f.seq = c.first
             LEFT JOIN events l ON l.seq = c.last",
        )
        .map_err(db("preparing the check of the commands"))?;
    let mut rows = select.query([]).map_err(db("reading the commands"))?;
    let mut commands = 0u64;
    while let Some(row) = rows.next().map_err(db("reading the commands"))? {
        check_command_row(row)?;
        commands += 1;
    }
    if commands != batches {
        return Err(index_break(0, format!("{batches} command rows"), commands));
    }
    Ok(())
}

fn check_command_row(row: &rusqlite::Row<'_>) -> Result<(), StoreError> {
    let id: Vec<u8> = column(row, 0)?;
    let first: i64 = column(row, 1)?;
    let last: i64 = column(row, 2)?;
    let last_hash: Vec<u8> = column(row, 3)?;
    let recorded_at: i64 = column(row, 4)?;
    let first = u64::try_from(first).unwrap_or(0);
    let last = u64::try_from(last).unwrap_or(0);
    let first_record = named_record(row, 5, first)?;
    let last_record = named_record(row, 7, last)?;
    let own = |record: &StoredEvent| record.command_id.as_bytes().as_slice() == id.as_slice();
    if first > last
        || !own(&first_record)
        || !own(&last_record)
        || last_record.hash.0.as_slice() != last_hash.as_slice()
        || last_record.recorded_at.timestamp_micros() != recorded_at
    {
        return Err(index_break(
            first,
            format!("the records of command {}", last_record.command_id),
            "a command row that disagrees with them",
        ));
    }
    Ok(())
}

/// The record a command row names, from the joined hash and body at
/// `column` (already checked by the walk of the log).
fn named_record(row: &rusqlite::Row<'_>, at: usize, seq: u64) -> Result<StoredEvent, StoreError> {
    let hash: Option<Vec<u8>> = column(row, at)?;
    let body: Option<Vec<u8>> = column(row, at + 1)?;
    let (Some(hash), Some(body)) = (hash, body) else {
        return Err(index_break(seq, "a record", "none"));
    };
    decode(&body, hash_at(seq, &hash)?).map_err(|source| StoreError::Decode { seq, source })
}

/// A column of a command row.
fn column<T: rusqlite::types::FromSql>(
    row: &rusqlite::Row<'_>,
    at: usize,
) -> Result<T, StoreError> {
    row.get(at).map_err(db("reading a command row"))
}

/// The checkpoint row.
pub fn checkpoint(connection: &Connection) -> Result<u64, StoreError> {
    let seq: Option<i64> = connection
        .prepare_cached("SELECT seq FROM checkpoint WHERE id = 1")
        .and_then(|mut select| select.query_row([], |row| row.get(0)).optional())
        .map_err(db("reading the checkpoint"))?;
    let seq = seq.ok_or_else(|| StoreError::Projection {
        message: "the checkpoint row is missing".into(),
    })?;
    u64::try_from(seq).map_err(|_| StoreError::Projection {
        message: format!("the checkpoint is {seq}"),
    })
}

/// The documents whose key starts with `prefix`, in key order; with
/// `last_only`, the last of them alone.
pub fn documents(
    connection: &Connection,
    prefix: &str,
    last_only: bool,
) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    let order = if last_only { "DESC LIMIT 1" } else { "" };
    let end = prefix_end(prefix);
    let sql = match end {
        Some(_) => format!(
            "SELECT key, value FROM documents WHERE key >= ?1 AND key < ?2 ORDER BY key {order}"
        ),
        None => format!("SELECT key, value FROM documents WHERE key >= ?1 ORDER BY key {order}"),
    };
    let mut select = connection
        .prepare_cached(&sql)
        .map_err(db("preparing a scan of documents"))?;
    let pair = |row: &rusqlite::Row<'_>| Ok((row.get(0)?, row.get(1)?));
    let rows = match &end {
        Some(end) => select.query_map(params![prefix, end], pair),
        None => select.query_map(params![prefix], pair),
    };
    rows.and_then(|rows| rows.collect())
        .map_err(db("scanning documents"))
}

/// The least key past every key that starts with `prefix` (`None`: there
/// is none, every key from `prefix` on qualifies). SQLite compares text
/// byte by byte, and UTF-8's byte order is the order of code points, so
/// the prefix with its last code point raised bounds exactly the keys that
/// start with it.
fn prefix_end(prefix: &str) -> Option<String> {
    let mut end = prefix.to_owned();
    while let Some(last) = end.pop() {
        if let Some(next) = (last as u32 + 1..=char::MAX as u32).find_map(char::from_u32) {
            end.push(next);
            return Some(end);
        }
    }
    None
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
