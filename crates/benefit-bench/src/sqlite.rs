//! Engine 2, the SQLite alternative: what a team would build instead of a
//! sled-backed ledger. It lives here only, as the peer to measure against.
//!
//! Everything above the storage engine is the ledger's own, so the figures
//! compare engines: records are the same bytes (`benefit_store::encoding`,
//! hash-chained), reads check the same hashes and links, and projections
//! are the same documents written by the same fold
//! ([`benefit_projections::fold::apply`]) over an [`Overlay`].
//!
//! The SQLite side is what its documentation recommends for this: WAL,
//! `synchronous=NORMAL`, an `events` table keyed by sequence with a unique
//! index on (stream, version), a `commands` table for idempotency, and the
//! documents and the checkpoint in tables of their own. One transaction per
//! import batch and per command holds the events and the projection writes
//! together, so each is durable (to WAL's `NORMAL` guarantee) at the same
//! points as the ledger's. Like the ledger's shell, it decides every
//! command against the state it keeps in memory, imports included.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use benefit_domain::{decide, evolve, State};
use benefit_events::{Actor, Event, StreamId};
use benefit_projections::fold::apply;
use benefit_projections::{Docs, Overlay, ProjectionError};
use benefit_store::encoding::{chain_hash, decode, encode_body};
use benefit_store::{ChainHash, StoredEvent};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use uuid::Uuid;

use crate::engine::{ReplayRun, Run};
use crate::measure::peak_rss_kib;
use crate::workload::{Prepared, IMPORT_BATCH_EVENTS};
use crate::BenchResult;

/// The database file inside the engine's directory (beside it, SQLite keeps
/// `-wal` and `-shm`).
const DB_FILE: &str = "ledger.sqlite";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY,
    stream TEXT NOT NULL,
    stream_version INTEGER NOT NULL,
    hash BLOB NOT NULL,
    body BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS events_by_stream ON events (stream, stream_version);
CREATE TABLE IF NOT EXISTS commands (
    command_id BLOB PRIMARY KEY,
    first INTEGER NOT NULL,
    last INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS documents (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoint (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT OR IGNORE INTO checkpoint (id, seq) VALUES (1, 0);
";

fn open(dir: &Path) -> BenchResult<Connection> {
    std::fs::create_dir_all(dir)?;
    let connection = Connection::open(dir.join(DB_FILE))?;
    connection.pragma_update(None, "journal_mode", "WAL")?;
    connection.pragma_update(None, "synchronous", "NORMAL")?;
    connection.execute_batch(SCHEMA)?;
    Ok(connection)
}

/// The projection documents, read inside the current transaction.
struct SqliteDocs<'c>(&'c Connection);

impl Docs for SqliteDocs<'_> {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ProjectionError> {
        self.0
            .prepare_cached("SELECT value FROM documents WHERE key = ?1")
            .and_then(|mut s| s.query_row([key], |row| row.get(0)).optional())
            .map_err(|e| document_error(key, e))
    }

    fn scan(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, ProjectionError> {
        // Keys are ASCII; every key with the prefix sorts before the prefix
        // followed by U+FFFF.
        let end = format!("{prefix}\u{ffff}");
        let mut statement = self
            .0
            .prepare_cached(
                "SELECT key, value FROM documents WHERE key >= ?1 AND key < ?2 ORDER BY key",
            )
            .map_err(|e| document_error(prefix, e))?;
        let rows = statement
            .query_map([prefix, end.as_str()], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(|e| document_error(prefix, e))?;
        rows.collect::<Result<_, _>>()
            .map_err(|e| document_error(prefix, e))
    }
}

fn document_error(key: &str, error: rusqlite::Error) -> ProjectionError {
    ProjectionError::Document {
        key: key.to_owned(),
        message: error.to_string(),
    }
}

/// The last record's sequence, hash and recorded-at.
fn head(tx: &Connection) -> BenchResult<(u64, ChainHash, Option<DateTime<Utc>>)> {
    let row: Option<(i64, Vec<u8>)> = tx
        .prepare_cached("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    let Some((seq, hash)) = row else {
        return Ok((0, ChainHash::GENESIS, None));
    };
    let hash = ChainHash(hash.as_slice().try_into()?);
    let body: Vec<u8> = tx
        .prepare_cached("SELECT body FROM events WHERE seq = ?1")?
        .query_row([seq], |row| row.get(0))?;
    let record = decode(&body, hash)?;
    Ok((u64::try_from(seq)?, hash, Some(record.recorded_at)))
}

/// Appends one command's events and applies them to the projections, in
/// the caller's transaction.
fn append_and_project(
    tx: &Transaction<'_>,
    command_id: Uuid,
    actor: &Actor,
    expected: u64,
    events: &[Event],
) -> BenchResult<u64> {
    let seen: Option<i64> = tx
        .prepare_cached("SELECT last FROM commands WHERE command_id = ?1")?
        .query_row([command_id.as_bytes()], |row| row.get(0))
        .optional()?;
    if let Some(last) = seen {
        return Ok(u64::try_from(last)?);
    }
    let (head_seq, mut prev_hash, last_at) = head(tx)?;
    if head_seq != expected {
        return Err(format!("conflict: expected {expected}, the head is {head_seq}").into());
    }
    let now = DateTime::from_timestamp_micros(Utc::now().timestamp_micros())
        .ok_or("the clock is out of range")?;
    let recorded_at = last_at.map_or(now, |last| last.max(now));
    let mut versions: HashMap<StreamId, u64> = HashMap::new();
    let mut insert = tx.prepare_cached(
        "INSERT INTO events (seq, stream, stream_version, hash, body) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut last_version =
        tx.prepare_cached("SELECT MAX(stream_version) FROM events WHERE stream = ?1")?;
    let docs = SqliteDocs(tx);
    let mut overlay = Overlay::new(&docs);
    let mut seq = head_seq;
    for (index, event) in events.iter().enumerate() {
        seq += 1;
        let stream = event.stream();
        let version = match versions.get(&stream) {
            Some(last) => last + 1,
            None => {
                let last: Option<i64> =
                    last_version.query_row([stream.as_str()], |row| row.get(0))?;
                last.map_or(Ok(1), |l| u64::try_from(l).map(|l| l + 1))?
            }
        };
        versions.insert(stream.clone(), version);
        let mut record = StoredEvent {
            seq,
            stream,
            stream_version: version,
            event_id: StoredEvent::derive_event_id(&command_id, index as u64),
            command_id,
            recorded_at,
            actor: actor.clone(),
            event: event.clone(),
            prev_hash,
            hash: ChainHash::GENESIS,
        };
        let body = encode_body(&record)?;
        record.hash = chain_hash(&prev_hash, &body);
        insert.execute(params![
            i64::try_from(seq)?,
            record.stream.as_str(),
            i64::try_from(version)?,
            record.hash.0.as_slice(),
            body
        ])?;
        apply(&mut overlay, &record)?;
        prev_hash = record.hash;
    }
    tx.prepare_cached("INSERT INTO commands (command_id, first, last) VALUES (?1, ?2, ?3)")?
        .execute(params![
            command_id.as_bytes(),
            i64::try_from(head_seq + 1)?,
            i64::try_from(seq)?
        ])?;
    write_documents(tx, overlay.into_writes(), seq)?;
    Ok(seq)
}

fn write_documents(
    tx: &Connection,
    writes: std::collections::BTreeMap<String, Vec<u8>>,
    checkpoint: u64,
) -> BenchResult<()> {
    let mut upsert =
        tx.prepare_cached("INSERT OR REPLACE INTO documents (key, value) VALUES (?1, ?2)")?;
    for (key, value) in &writes {
        upsert.execute(params![key, value])?;
    }
    tx.prepare_cached("UPDATE checkpoint SET seq = ?1 WHERE id = 1")?
        .execute([i64::try_from(checkpoint)?])?;
    Ok(())
}

/// Imports, single commands and reports, as [`crate::ledger::run`] does.
pub fn run(dir: &Path, prepared: &Prepared) -> BenchResult<Run> {
    let mut connection = open(dir)?;
    let mut import = Duration::ZERO;
    let mut head = 0;
    let mut state = State::default();
    for (number, batch) in prepared.command_batches.iter().enumerate() {
        let command_id = Uuid::new_v5(&Uuid::NAMESPACE_OID, &(number as u64).to_be_bytes());
        let commands = batch.clone();
        let start = Instant::now();
        let mut events = Vec::with_capacity(commands.len());
        for command in commands {
            for event in decide(&state, command)? {
                state = evolve(state, &event);
                events.push(event);
            }
        }
        let tx = connection.transaction()?;
        head = append_and_project(&tx, command_id, &prepared.actor, head, &events)?;
        tx.commit()?;
        import += start.elapsed();
    }

    let mut samples = Vec::with_capacity(prepared.commands.len());
    for (number, (command, _)) in prepared.commands.iter().enumerate() {
        let command = command.clone();
        let command_id = Uuid::new_v5(&Uuid::NAMESPACE_URL, &(number as u64).to_be_bytes());
        let start = Instant::now();
        let events = decide(&state, command)?;
        let tx = connection.transaction()?;
        head = append_and_project(&tx, command_id, &prepared.actor, head, &events)?;
        tx.commit()?;
        samples.push(start.elapsed());
        for event in &events {
            state = evolve(state, event);
        }
    }

    let docs = SqliteDocs(&connection);
    Run::with_reports(import, samples, &docs, prepared)
}

/// Drops every document and rebuilds them from the log, reading it in
/// batches and checking each record's hash and link as the ledger's reads
/// do, and committing each batch's documents with the checkpoint.
pub fn replay(dir: &Path) -> BenchResult<ReplayRun> {
    let mut connection = open(dir)?;
    let start = Instant::now();
    {
        let tx = connection.transaction()?;
        tx.execute("DELETE FROM documents", [])?;
        tx.execute("UPDATE checkpoint SET seq = 0 WHERE id = 1", [])?;
        tx.commit()?;
    }
    let mut checkpoint = 0u64;
    let mut prev_hash = ChainHash::GENESIS;
    loop {
        let tx = connection.transaction()?;
        let records = {
            let mut select = tx.prepare_cached(
                "SELECT seq, hash, body FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )?;
            let mut rows = select.query(params![
                i64::try_from(checkpoint)?,
                i64::try_from(IMPORT_BATCH_EVENTS)?
            ])?;
            let mut records = Vec::with_capacity(IMPORT_BATCH_EVENTS);
            while let Some(row) = rows.next()? {
                let seq: i64 = row.get(0)?;
                let hash = ChainHash(row.get_ref(1)?.as_blob()?.try_into()?);
                let body = row.get_ref(2)?.as_blob()?;
                let record = decode(body, hash)?;
                let expected = checkpoint + records.len() as u64 + 1;
                if u64::try_from(seq)? != expected
                    || record.seq != expected
                    || record.prev_hash != prev_hash
                    || chain_hash(&prev_hash, body) != hash
                {
                    return Err(format!("the log is broken at sequence {seq}").into());
                }
                prev_hash = hash;
                records.push(record);
            }
            records
        };
        let Some(last) = records.last().map(|r| r.seq) else {
            break;
        };
        let docs = SqliteDocs(&tx);
        let mut overlay = Overlay::new(&docs);
        for record in &records {
            apply(&mut overlay, record)?;
        }
        write_documents(&tx, overlay.into_writes(), last)?;
        tx.commit()?;
        checkpoint = last;
    }
    Ok(ReplayRun {
        seconds: start.elapsed().as_secs_f64(),
        events: checkpoint,
        peak_rss_kib: peak_rss_kib(),
    })
}
