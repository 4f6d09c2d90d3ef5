//! The SQLite store's queries: an event row, the paged reader of the log,
//! the head, the command rows for `verify`, and the documents. What a row
//! must satisfy is [`benefit_store::table`]'s, shared with every backend
//! that keeps one row per event.

use std::collections::VecDeque;
use std::sync::Mutex;

use benefit_store::staging::Head;
use benefit_store::table::{check_command_count, CommandRow, EventRow, FetchPage, Pages};
use benefit_store::{AsOf, StoreError};
use rusqlite::{params, Connection, OptionalExtension};

use super::{db, lock};

/// The row of a query selecting [`EventRow::COLUMNS`].
pub fn event_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<EventRow> {
    Ok(EventRow {
        seq: row.get(0)?,
        stream: row.get(1)?,
        stream_version: row.get(2)?,
        hash: row.get(3)?,
        body: row.get(4)?,
    })
}

/// The head: the last row of `events`, checked against its own hash and
/// its link to the row before.
pub fn read_head(connection: &Connection) -> Result<Head, StoreError> {
    let newest = connection
        .prepare_cached(&format!(
            "SELECT {} FROM events ORDER BY seq DESC LIMIT 2",
            EventRow::COLUMNS
        ))
        .and_then(|mut select| {
            select
                .query_map([], event_row)?
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(db("reading the head"))?;
    EventRow::head(newest)
}

/// A read of the log from `from` up to `as_of`, a page at a time, each page
/// under the connection's lock for its one query only.
pub fn pages(connection: &Mutex<Connection>, from: u64, as_of: Option<AsOf>) -> Pages<'_> {
    let fetch: FetchPage<'_> = Box::new(move |start, last, limit| {
        let connection = lock(connection);
        let mut select = connection
            .prepare_cached(&format!(
                "SELECT {} FROM events WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3",
                EventRow::COLUMNS
            ))
            .map_err(db("preparing a read of the log"))?;
        let rows = select
            .query_map(params![start, last, limit as i64], event_row)
            .map_err(db("reading the log"))?;
        rows.collect::<Result<VecDeque<_>, _>>()
            .map_err(db("reading an event row"))
    });
    Pages::new(fetch, from, as_of)
}

/// Checks every command row against the records it names, and that there
/// is one per batch of the log.
pub fn verify_commands(connection: &Connection, batches: u64) -> Result<(), StoreError> {
    let mut select = connection
        .prepare(CommandRow::QUERY)
        .map_err(db("preparing the check of the commands"))?;
    let mut rows = select.query([]).map_err(db("reading the commands"))?;
    let mut commands = 0u64;
    while let Some(row) = rows.next().map_err(db("reading the commands"))? {
        command_row(row)
            .map_err(db("reading a command row"))?
            .check()?;
        commands += 1;
    }
    check_command_count(commands, batches)
}

fn command_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<CommandRow> {
    let joined = |at: usize| -> rusqlite::Result<Option<(Vec<u8>, Vec<u8>)>> {
        let hash: Option<Vec<u8>> = row.get(at)?;
        let body: Option<Vec<u8>> = row.get(at + 1)?;
        Ok(hash.zip(body))
    };
    Ok(CommandRow {
        id: row.get(0)?,
        first: row.get(1)?,
        last: row.get(2)?,
        last_hash: row.get(3)?,
        recorded_at: row.get(4)?,
        first_record: joined(5)?,
        last_record: joined(7)?,
    })
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

/// One page of the documents under `prefix`: at most `limit` of them,
/// after `after` (see [`benefit_store::table::page_start`]), in key order.
pub fn documents_page(
    connection: &Connection,
    prefix: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    let (from, start) = match benefit_store::table::page_start(prefix, after) {
        std::ops::Bound::Excluded(after) => (">", after),
        _ => (">=", prefix),
    };
    let end = benefit_store::table::prefix_end(prefix);
    let until = if end.is_some() { "AND key < ?3" } else { "" };
    let sql = format!(
        "SELECT key, value FROM documents WHERE key {from} ?1 {until} ORDER BY key LIMIT ?2"
    );
    let mut select = connection
        .prepare_cached(&sql)
        .map_err(db("preparing a page of documents"))?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let pair = |row: &rusqlite::Row<'_>| Ok((row.get(0)?, row.get(1)?));
    let rows = match &end {
        Some(end) => select.query_map(params![start, limit, end], pair),
        None => select.query_map(params![start, limit], pair),
    };
    rows.and_then(|rows| rows.collect())
        .map_err(db("scanning documents"))
}

/// The last document (in key order) whose key starts with `prefix`.
pub fn last_document(
    connection: &Connection,
    prefix: &str,
) -> Result<Option<(String, Vec<u8>)>, StoreError> {
    let end = benefit_store::table::prefix_end(prefix);
    let sql = match end {
        Some(_) => {
            "SELECT key, value FROM documents WHERE key >= ?1 AND key < ?2 \
             ORDER BY key DESC LIMIT 1"
        }
        None => "SELECT key, value FROM documents WHERE key >= ?1 ORDER BY key DESC LIMIT 1",
    };
    let mut select = connection
        .prepare_cached(sql)
        .map_err(db("preparing a read of the last document"))?;
    let pair = |row: &rusqlite::Row<'_>| Ok((row.get(0)?, row.get(1)?));
    match &end {
        Some(end) => select.query_row(params![prefix, end], pair),
        None => select.query_row(params![prefix], pair),
    }
    .optional()
    .map_err(db("scanning documents"))
}
