//! The benefit ledger on PostgreSQL: one ledger per schema of a shared
//! server, appended to by many operators on many machines, read by
//! auditors, with every promise the embedded sled ledger makes (atomic
//! batches, refusals that append nothing, idempotent retries, one hash
//! chain, verify, as-of, rebuild).
//!
//! [`PostgresStore`] implements the store's two traits,
//! [`benefit_store::EventStore`] and [`benefit_store::ProjectionStore`],
//! and passes the store's conformance suite. It is the only crate of the
//! workspace that speaks SQL to PostgreSQL.
//!
//! A key design decision: the chain is serialised by the database, not by
//! the process. An append is one transaction that takes a
//! transaction-level advisory lock on the ledger's events table, checks
//! the command id and the expected head, writes the records exactly as
//! [`benefit_store::staging`] staged them (the same bytes and hashes as on
//! every backend, so one history has one digest), and commits. A writer
//! that decided on a head another writer has since moved gets
//! [`benefit_store::StoreError::Conflict`], and the shell decides again.
//! The sequence is the table's primary key, so even a writer that skipped
//! the lock could not fork the chain.
//!
//! `docs/postgres.md` at the workspace root describes the schema, the
//! roles, how a second machine connects, and what is guaranteed.
#![forbid(unsafe_code)]

pub mod cluster;
mod connection;
mod documents;
mod log;
pub mod roles;
mod schema;
mod url;

use std::sync::{Mutex, MutexGuard, PoisonError};

use benefit_store::{Clock, StoreError};

use connection::Session;
pub use url::{LedgerUrl, UrlError, DEFAULT_SCHEMA};

/// A ledger in one schema of a PostgreSQL database.
pub struct PostgresStore {
    url: LedgerUrl,
    session: Mutex<Session>,
    /// Held by a staged append until it commits or is dropped: one append
    /// at a time per store (the database's lock orders the processes).
    append: Mutex<()>,
    clock: Box<dyn Clock>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore")
            .field("server", &self.url.server())
            .finish_non_exhaustive()
    }
}

/// Takes a lock. A panic under it leaves nothing half-written: the server
/// rolls back a transaction that was not committed.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl PostgresStore {
    /// Opens the ledger `url` names, creating its schema and tables if
    /// there are none (the role needs `CREATE` on the database then).
    pub fn open(url: &LedgerUrl, clock: impl Clock + 'static) -> Result<Self, StoreError> {
        Self::connect(url, Box::new(clock), true)
    }

    /// Opens the ledger `url` names, which must exist: a read of a missing
    /// ledger is an error, not a new empty ledger.
    pub fn open_existing(url: &LedgerUrl, clock: impl Clock + 'static) -> Result<Self, StoreError> {
        Self::connect(url, Box::new(clock), false)
    }

    /// Sets the clock that stamps the next appends' recorded-at.
    pub fn set_clock(&mut self, clock: Box<dyn Clock>) {
        self.clock = clock;
    }

    fn connect(url: &LedgerUrl, clock: Box<dyn Clock>, create: bool) -> Result<Self, StoreError> {
        let client =
            url.config()
                .connect(postgres::NoTls)
                .map_err(|source| StoreError::Unreachable {
                    server: url.server(),
                    source: Box::new(connection::ClientError::from(source)),
                })?;
        let mut session = Session::new(client);
        schema::use_schema(&mut session, url.schema())?;
        schema::migrate(&mut session, url.schema(), &url.server(), create)?;
        Ok(Self {
            url: url.clone(),
            session: Mutex::new(session),
            append: Mutex::new(()),
            clock,
        })
    }

    /// The ledger's address, for messages (no password).
    pub fn server(&self) -> String {
        self.url.server()
    }

    /// The schema version of the ledger's tables.
    pub fn schema_version() -> i32 {
        schema::latest()
    }

    /// The bytes the ledger's tables, indexes and TOAST take on the
    /// server (`pg_total_relation_size`), for the bench.
    pub fn bytes_on_disk(&self) -> Result<u64, StoreError> {
        let rows = lock(&self.session)
            .query(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint \
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = current_schema() AND c.relkind = 'r'",
                &[],
            )
            .map_err(connection::db("measuring the ledger's tables"))?;
        let bytes: i64 = rows
            .first()
            .map(|r| r.try_get(0))
            .transpose()
            .map_err(connection::db("measuring the ledger's tables"))?
            .unwrap_or(0);
        Ok(u64::try_from(bytes).unwrap_or(0))
    }

    /// Runs SQL without parameters on the store's session: for tests that
    /// damage a ledger on purpose, or look at it as a SQL user would.
    pub fn execute_sql(&self, sql: &str) -> Result<(), StoreError> {
        lock(&self.session)
            .batch(sql)
            .map_err(connection::db("running SQL"))
    }
}
