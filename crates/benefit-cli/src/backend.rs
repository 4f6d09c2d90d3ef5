//! Where the ledger lives: an embedded sled ledger in a directory (the
//! default), or a PostgreSQL ledger shared by many operators, named by a
//! `postgres://` URL in `--ledger` or `BENEFIT_LEDGER`.
//!
//! A key design decision: every command runs the same code over either
//! backend. [`Store`] is one type over both that implements the store's
//! traits by handing each call to the backend, so the shell
//! ([`benefit_app::Ledger`]) and every command are written once; only
//! opening, closing and the sled-only guards (free space, the
//! acknowledged head) look at which backend it is.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use benefit_app::AppError;
use benefit_postgres::{LedgerUrl, PostgresStore};
use benefit_store::{
    AppendRequest, AsOf, Clock, Digest, EventStore, Events, ProjectionStore, SledStore, Staging,
    StoreError, StoredCommand, StoredEvent, VerifyReport,
};
use uuid::Uuid;

use crate::failure::Failure;

/// The shell over either backend: the ledger every command opens.
pub type Ledger = benefit_app::Ledger<Store>;

/// Where the ledger is, as `--ledger` or `BENEFIT_LEDGER` named it.
#[derive(Clone, Debug)]
pub enum Location {
    /// An embedded ledger's directory.
    Dir(PathBuf),
    /// A PostgreSQL ledger.
    Postgres(Box<LedgerUrl>),
}

impl Location {
    /// Reads `--ledger`: a `postgres://` URL, or a directory.
    pub fn parse(given: &Path) -> Result<Self, Failure> {
        match given.to_str() {
            Some(text) if LedgerUrl::is_postgres(text) => LedgerUrl::parse(text)
                .map(|url| Location::Postgres(Box::new(url)))
                .map_err(|e| Failure::usage(format!("--ledger: {e}"))),
            _ => Ok(Location::Dir(given.to_path_buf())),
        }
    }

    /// The directory of an embedded ledger; `None` for PostgreSQL.
    pub fn dir(&self) -> Option<&Path> {
        match self {
            Location::Dir(dir) => Some(dir),
            Location::Postgres(_) => None,
        }
    }

    /// Opens the ledger, which must exist.
    pub fn open_existing(&self, clock: Box<dyn Clock>) -> Result<Ledger, AppError> {
        let store = match self {
            Location::Dir(dir) => Store::Sled(SledStore::open_existing(dir, clock)?),
            Location::Postgres(url) => {
                Store::Postgres(Box::new(PostgresStore::open_existing(url, clock)?))
            }
        };
        Ok(Ledger::over(store))
    }

    /// Opens the ledger, creating it if there is none.
    pub fn create_or_open(&self, clock: Box<dyn Clock>) -> Result<Ledger, AppError> {
        let store = match self {
            Location::Dir(dir) => Store::Sled(SledStore::open(dir, clock)?),
            Location::Postgres(url) => Store::Postgres(Box::new(PostgresStore::open(url, clock)?)),
        };
        Ok(Ledger::over(store))
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Dir(dir) => write!(f, "{}", dir.display()),
            Location::Postgres(url) => f.write_str(&url.server()),
        }
    }
}

/// The backend a ledger is on.
#[derive(Debug)]
pub enum Store {
    /// sled, embedded.
    Sled(SledStore),
    /// A schema of a PostgreSQL database.
    Postgres(Box<PostgresStore>),
}

impl Store {
    /// The directory of an embedded ledger; `None` for PostgreSQL.
    pub fn dir(&self) -> Option<&Path> {
        match self {
            Store::Sled(store) => Some(store.path()),
            Store::Postgres(_) => None,
        }
    }

    /// Closes the store at the end of a process that succeeded: sled is
    /// flushed and its teardown left to the operating system
    /// ([`SledStore::close_for_exit`]); a PostgreSQL session just ends.
    pub fn close_for_exit(self) -> Result<(), StoreError> {
        match self {
            Store::Sled(store) => store.close_for_exit(),
            Store::Postgres(store) => {
                drop(store);
                Ok(())
            }
        }
    }
}

/// Hands a call to whichever backend the store is.
macro_rules! each {
    ($store:expr, $backend:ident => $call:expr) => {
        match $store {
            Store::Sled($backend) => $call,
            Store::Postgres($backend) => $call,
        }
    };
}

impl Store {
    /// Sets the clock that stamps the next appends' recorded-at: under
    /// `serve`, each command runs on the clock it came with.
    pub fn set_clock(&mut self, clock: Box<dyn Clock>) {
        each!(self, s => s.set_clock(clock))
    }

    /// Makes everything written so far durable, for a process that goes on
    /// (`serve`) where one that exits calls [`Store::close_for_exit`].
    pub fn flush(&self) -> Result<(), StoreError> {
        match self {
            Store::Sled(store) => store.flush(),
            // Every PostgreSQL transaction is durable when it commits.
            Store::Postgres(_) => Ok(()),
        }
    }
}

impl EventStore for Store {
    fn stage(&self, request: AppendRequest) -> Result<Staging<'_>, StoreError> {
        each!(self, s => s.stage(request))
    }

    fn find_command(&self, command_id: &Uuid) -> Result<Option<StoredCommand>, StoreError> {
        each!(self, s => s.find_command(command_id))
    }

    fn head(&self) -> Result<Digest, StoreError> {
        each!(self, s => s.head())
    }

    fn read_from(&self, from: u64) -> Events<'_> {
        each!(self, s => s.read_from(from))
    }

    fn read_as_of(&self, as_of: AsOf) -> Events<'_> {
        each!(self, s => s.read_as_of(as_of))
    }

    fn record(&self, seq: u64) -> Result<Option<StoredEvent>, StoreError> {
        each!(self, s => s.record(seq))
    }

    fn verify_with(&self, progress: &mut dyn FnMut(u64)) -> Result<VerifyReport, StoreError> {
        each!(self, s => s.verify_with(progress))
    }

    fn verify_each(
        &self,
        progress: &mut dyn FnMut(u64),
        each: &mut dyn FnMut(StoredEvent),
    ) -> Result<VerifyReport, StoreError> {
        each!(self, s => s.verify_each(progress, each))
    }

    fn verify_against_with(
        &self,
        digest: &Digest,
        progress: &mut dyn FnMut(u64),
    ) -> Result<VerifyReport, StoreError> {
        each!(self, s => s.verify_against_with(digest, progress))
    }
}

impl ProjectionStore for Store {
    fn projection_checkpoint(&self) -> Result<u64, StoreError> {
        each!(self, s => s.projection_checkpoint())
    }

    fn projection_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        each!(self, s => s.projection_get(key))
    }

    fn projection_get_many(&self, keys: &[&str]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        each!(self, s => s.projection_get_many(keys))
    }

    fn projection_scan_page(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        each!(self, s => s.projection_scan_page(prefix, after, limit))
    }

    fn projection_last(&self, prefix: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        each!(self, s => s.projection_last(prefix))
    }

    fn projection_last_many(
        &self,
        prefixes: &[&str],
    ) -> Result<Vec<Option<benefit_store::Document>>, StoreError> {
        each!(self, s => s.projection_last_many(prefixes))
    }

    fn projection_commit(
        &self,
        from: u64,
        to: u64,
        writes: BTreeMap<String, Vec<u8>>,
    ) -> Result<(), StoreError> {
        each!(self, s => s.projection_commit(from, to, writes))
    }

    fn projection_reset(&self) -> Result<(), StoreError> {
        each!(self, s => s.projection_reset())
    }

    fn projection_replace(
        &self,
        to: u64,
        documents: &mut benefit_store::DocumentSource<'_>,
    ) -> Result<(), StoreError> {
        each!(self, s => s.projection_replace(to, documents))
    }
}
