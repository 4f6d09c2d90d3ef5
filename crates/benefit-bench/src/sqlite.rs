//! Engine 2, the SQLite alternative: what a team would build instead of a
//! sled-backed ledger, as a backend of the store's own traits
//! ([`EventStore`] and [`ProjectionStore`]). It lives here only, as the peer
//! to measure against.
//!
//! A key design decision: the peer is a backend, not a second program.
//! [`run`] and [`replay`] drive it through the very shell the ledger engine
//! uses ([`benefit_app::Ledger::over`], via [`crate::ledger::run_over`] and
//! [`crate::ledger::replay_over`]), it stages with
//! [`benefit_store::staging`] so that it stores the same bytes under the
//! same hashes, and it passes the store's conformance suite (the tests at
//! the end of this module). Decisions, folds and documents are the
//! ledger's own, so the figures compare engines, not code paths.
//!
//! The SQLite side is what its documentation recommends for this:
//! - WAL and `synchronous=NORMAL`: a commit survives the process crashing,
//!   and is durable against power loss at the next checkpoint of the WAL
//!   (SQLite's `NORMAL` guarantee), one fsync per checkpoint rather than
//!   per commit;
//! - an `events` table, one row per event, keyed by sequence, with the
//!   record's body exactly as staged and its hash, and a unique index on
//!   (stream, version);
//! - a `commands` table for idempotency (the batch's first and last
//!   sequence, the last hash, the recorded-at time and the request's
//!   fingerprint); the head is the last row of `events`;
//! - the documents (`WITHOUT ROWID`) and the checkpoint in tables of their
//!   own.
//!
//! A log commit is one transaction (the events and the command row); a
//! documents commit is another (the documents and the checkpoint); a reset
//! is one transaction that deletes the documents and sets the checkpoint
//! to 0, so no crash can leave a fold over stale documents. Appends are
//! serialised by an append lock (a `Mutex<()>`) held by the staged append
//! from staging to commit; the connection has a mutex of its own, taken
//! per operation, so the shell reads documents while an append is staged.
//! The sequence is the table's primary key, so even a writer in another
//! process cannot fork the chain: its commit would collide and roll back.
//!
//! Reads decode every record with [`benefit_store::encoding::decode`],
//! check its hash and its link to the record before, and end with an error
//! rather than skip; they run in pages, so their memory does not grow with
//! the log. `verify` walks the table with [`LogWalk`] and checks the
//! command rows against the records.

mod rows;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use benefit_app::Ledger;
use benefit_store::check_checkpoint;
use benefit_store::staging::{check_size, repeat_of, stage_records, StagedBatch};
use benefit_store::Reporter;
use benefit_store::{
    AppendRequest, Appended, AsOf, Clock, Digest, EventStore, Events, ProjectionStore,
    StagedAppend, Staging, StoreError, StoredCommand, StoredEvent, SystemClock, VerifyReport,
};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use uuid::Uuid;

use crate::engine::{ReplayRun, Run};
use crate::workload::Prepared;
use crate::BenchResult;
use benefit_store::table::{int, CommandEntry, EventRow, LogWalk};
use rows::{pages, read_head, verify_commands};

/// The database file inside the engine's directory (beside it, SQLite keeps
/// `-wal` and `-shm`).
const DB_FILE: &str = "ledger.sqlite";

/// The schema's version, kept in SQLite's `user_version`.
const SCHEMA_VERSION: i64 = 2;

/// The tables, created in one transaction with [`SCHEMA_VERSION`].
const SCHEMA: &str = "
CREATE TABLE events (
    seq INTEGER PRIMARY KEY,
    stream TEXT NOT NULL,
    stream_version INTEGER NOT NULL,
    hash BLOB NOT NULL,
    body BLOB NOT NULL
);
CREATE UNIQUE INDEX events_by_stream ON events (stream, stream_version);
CREATE TABLE commands (
    command_id BLOB PRIMARY KEY,
    first INTEGER NOT NULL,
    last INTEGER NOT NULL,
    last_hash BLOB NOT NULL,
    recorded_at INTEGER NOT NULL,
    fingerprint BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE documents (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE checkpoint (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT INTO checkpoint (id, seq) VALUES (1, 0);
";

/// A ledger in one SQLite database: the log and the documents.
pub struct SqliteStore {
    path: PathBuf,
    connection: Mutex<Connection>,
    append: Mutex<()>,
    clock: Box<dyn Clock>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// Maps a SQLite error to the store's, saying what the store was doing.
fn db(action: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::backend(action, source)
}

/// Takes a lock. A panic under it leaves nothing half-written: SQLite
/// rolls back a transaction that was not committed, and the append lock
/// guards no data.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SqliteStore {
    /// Opens the ledger in `dir`, creating the directory and the database
    /// if there are none.
    pub fn open(dir: impl AsRef<Path>, clock: impl Clock + 'static) -> Result<Self, StoreError> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
            action: "creating the SQLite ledger's directory",
            path: dir.into(),
            source,
        })?;
        Self::connect(dir, Box::new(clock))
    }

    /// Opens the ledger in `dir`, which must hold one: a replay of a
    /// missing ledger is an error, not an empty replay.
    pub fn open_existing(
        dir: impl AsRef<Path>,
        clock: impl Clock + 'static,
    ) -> Result<Self, StoreError> {
        let dir = dir.as_ref();
        if !dir.join(DB_FILE).is_file() {
            return Err(StoreError::NoLedger {
                path: dir.into(),
                reason: "it holds no ledger.sqlite",
            });
        }
        Self::connect(dir, Box::new(clock))
    }

    fn connect(dir: &Path, clock: Box<dyn Clock>) -> Result<Self, StoreError> {
        let path = dir.join(DB_FILE);
        let mut connection = Connection::open(&path).map_err(db("opening the SQLite database"))?;
        connection
            .pragma_update(None, "journal_mode", "WAL")
            .map_err(db("switching SQLite to WAL"))?;
        connection
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(db("setting synchronous=NORMAL"))?;
        create_schema(&mut connection, &path)?;
        Ok(Self {
            path,
            connection: Mutex::new(connection),
            append: Mutex::new(()),
            clock,
        })
    }

    /// Writes a staged batch and its command row in one transaction.
    fn commit_batch(&self, batch: &StagedBatch) -> Result<Appended, StoreError> {
        let Some(first) = batch.records.first() else {
            return Err(StoreError::EmptyBatch);
        };
        let appended = batch.appended;
        let (first_seq, last_seq) = (int(appended.first)?, int(appended.last)?);
        let mut connection = lock(&self.connection);
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db("starting the log's transaction"))?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO events (seq, stream, stream_version, hash, body)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(db("preparing the insert of events"))?;
            for (record, body) in batch.records.iter().zip(&batch.bodies) {
                insert
                    .execute(params![
                        int(record.seq)?,
                        record.stream.as_str(),
                        int(record.stream_version)?,
                        record.hash.0.as_slice(),
                        body
                    ])
                    .map_err(db("inserting an event"))?;
            }
        }
        tx.prepare_cached(
            "INSERT INTO commands (command_id, first, last, last_hash, recorded_at, fingerprint)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .and_then(|mut insert| {
            insert.execute(params![
                first.command_id.as_bytes(),
                first_seq,
                last_seq,
                appended.head.hash.0.as_slice(),
                appended.recorded_at.timestamp_micros(),
                batch.fingerprint.0.as_slice()
            ])
        })
        .map_err(db("inserting the command row"))?;
        tx.commit().map_err(db("committing the log"))?;
        Ok(appended)
    }
}

/// Creates the tables in a new database, or checks an existing one's
/// schema version.
fn create_schema(connection: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let version: i64 = connection
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(db("reading the schema version"))?;
    match version {
        SCHEMA_VERSION => Ok(()),
        0 => {
            let tx = connection
                .transaction()
                .map_err(db("starting the schema's transaction"))?;
            tx.execute_batch(SCHEMA)
                .map_err(db("creating the tables"))?;
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)
                .map_err(db("setting the schema version"))?;
            tx.commit().map_err(db("committing the schema"))
        }
        found => Err(StoreError::UnsupportedLayout {
            path: path.into(),
            found: format!("SQLite schema {found}"),
            supported: SCHEMA_VERSION as u32,
        }),
    }
}

/// The command row of `command_id`: its original result and fingerprint.
fn command_entry(
    connection: &Connection,
    command_id: &Uuid,
) -> Result<Option<StoredCommand>, StoreError> {
    let entry = connection
        .prepare_cached(
            "SELECT first, last, last_hash, recorded_at, fingerprint
             FROM commands WHERE command_id = ?1",
        )
        .and_then(|mut select| {
            select
                .query_row([command_id.as_bytes()], |row| {
                    Ok(CommandEntry {
                        first: row.get(0)?,
                        last: row.get(1)?,
                        last_hash: row.get(2)?,
                        recorded_at_micros: row.get(3)?,
                        fingerprint: row.get(4)?,
                    })
                })
                .optional()
        })
        .map_err(db("reading a command row"))?;
    entry.map(|entry| entry.stored(command_id)).transpose()
}

/// A batch staged in a [`SqliteStore`], holding its append lock (not its
/// connection: the shell reads documents before committing).
struct SqliteStaged<'s> {
    store: &'s SqliteStore,
    batch: StagedBatch,
    _append: MutexGuard<'s, ()>,
}

impl StagedAppend for SqliteStaged<'_> {
    fn records(&self) -> &[StoredEvent] {
        &self.batch.records
    }

    fn commit(self: Box<Self>) -> Result<Appended, StoreError> {
        self.store.commit_batch(&self.batch)
    }
}

impl EventStore for SqliteStore {
    fn stage(&self, request: AppendRequest) -> Result<Staging<'_>, StoreError> {
        check_size(&request)?;
        let now = self.clock.now();
        let guard = lock(&self.append);
        let head = {
            let connection = lock(&self.connection);
            if let Some(stored) = command_entry(&connection, &request.command_id)? {
                return repeat_of(&request, stored.appended, stored.fingerprint)
                    .map(Staging::Repeat);
            }
            read_head(&connection)?
        };
        let batch = stage_records(&request, head, now)?;
        Ok(Staging::Staged(Box::new(SqliteStaged {
            store: self,
            batch,
            _append: guard,
        })))
    }

    fn find_command(&self, command_id: &Uuid) -> Result<Option<StoredCommand>, StoreError> {
        command_entry(&lock(&self.connection), command_id)
    }

    fn head(&self) -> Result<Digest, StoreError> {
        Ok(read_head(&lock(&self.connection))?.digest())
    }

    fn read_from(&self, from: u64) -> Events<'_> {
        Box::new(pages(&self.connection, from, None))
    }

    fn read_as_of(&self, as_of: AsOf) -> Events<'_> {
        Box::new(pages(&self.connection, 1, Some(as_of)))
    }

    fn record(&self, seq: u64) -> Result<Option<StoredEvent>, StoreError> {
        if seq == 0 {
            return Ok(None);
        }
        let mut one = pages(&self.connection, seq, Some(AsOf::Sequence(seq)));
        Ok(one.next().transpose()?.filter(|r| r.seq == seq))
    }

    fn verify_with(&self, progress: &mut dyn FnMut(u64)) -> Result<VerifyReport, StoreError> {
        let connection = lock(&self.connection);
        let mut walk = LogWalk::new();
        let mut reporter = Reporter::new(progress);
        let mut select = connection
            .prepare(&format!(
                "SELECT {} FROM events ORDER BY seq",
                EventRow::COLUMNS
            ))
            .map_err(db("preparing the walk of the log"))?;
        let mut rows = select.query([]).map_err(db("reading the log"))?;
        while let Some(row) = rows.next().map_err(db("reading the log"))? {
            walk.check(&rows::event_row(row).map_err(db("reading an event row"))?)?;
            reporter.reached(walk.next_seq() - 1);
        }
        verify_commands(&connection, walk.batches())?;
        let report = walk.report();
        reporter.finish(report.head.seq);
        Ok(report)
    }
}

impl ProjectionStore for SqliteStore {
    fn projection_checkpoint(&self) -> Result<u64, StoreError> {
        rows::checkpoint(&lock(&self.connection))
    }

    fn projection_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        lock(&self.connection)
            .prepare_cached("SELECT value FROM documents WHERE key = ?1")
            .and_then(|mut select| select.query_row([key], |row| row.get(0)).optional())
            .map_err(db("reading a document"))
    }

    fn projection_scan_page(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        rows::documents_page(&lock(&self.connection), prefix, after, limit)
    }

    fn projection_last(&self, prefix: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        rows::last_document(&lock(&self.connection), prefix)
    }

    fn projection_commit(
        &self,
        from: u64,
        to: u64,
        writes: BTreeMap<String, Vec<u8>>,
    ) -> Result<(), StoreError> {
        let mut connection = lock(&self.connection);
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db("starting the documents' transaction"))?;
        check_checkpoint(from, rows::checkpoint(&tx)?)?;
        {
            let mut upsert = tx
                .prepare_cached(
                    "INSERT INTO documents (key, value) VALUES (?1, ?2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )
                .map_err(db("preparing the write of documents"))?;
            for (key, value) in &writes {
                upsert
                    .execute(params![key, value])
                    .map_err(db("writing a document"))?;
            }
        }
        tx.execute("UPDATE checkpoint SET seq = ?1 WHERE id = 1", [int(to)?])
            .map_err(db("moving the checkpoint"))?;
        tx.commit().map_err(db("committing the documents"))
    }

    fn projection_reset(&self) -> Result<(), StoreError> {
        let mut connection = lock(&self.connection);
        let tx = connection
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db("starting the reset's transaction"))?;
        tx.execute_batch(
            "DELETE FROM documents;
             UPDATE checkpoint SET seq = 0 WHERE id = 1;",
        )
        .map_err(db("dropping the documents"))?;
        tx.commit().map_err(db("committing the reset"))
    }
}

/// Imports, single commands and reports through the shell over a
/// [`SqliteStore`] in `dir`, exactly as [`crate::ledger::run`] does over
/// sled.
pub fn run(dir: &Path, prepared: &Prepared) -> BenchResult<Run> {
    let store = SqliteStore::open(dir, SystemClock)?;
    crate::ledger::run_over(&mut Ledger::over(store), prepared)
}

/// Drops every document and rebuilds them from the log, as
/// [`crate::ledger::replay`] does over sled.
pub fn replay(dir: &Path) -> BenchResult<ReplayRun> {
    crate::ledger::replay_over(&SqliteStore::open_existing(dir, SystemClock)?)
}
