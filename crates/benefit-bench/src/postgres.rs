//! Engine 4, PostgreSQL: the ledger's own PostgreSQL backend
//! ([`benefit_postgres::PostgresStore`]) through the very shell the sled
//! ledger runs ([`crate::ledger::run_over`] and
//! [`crate::ledger::replay_over`]), on a throwaway local cluster started as
//! the tests start theirs, with `fsync` and `synchronous_commit` on.
//!
//! The engine's directory holds one file, `url`: the ledger's URL on the
//! bench's cluster, so that the replay's child process finds the ledger as
//! the other engines' children find theirs.

use std::path::Path;

use benefit_app::Ledger;
use benefit_postgres::{LedgerUrl, PostgresStore};
use benefit_store::SystemClock;

use crate::engine::{ReplayRun, Run};
use crate::workload::Prepared;
use crate::BenchResult;

/// The file in the engine's directory that names its ledger.
const URL_FILE: &str = "url";

/// Writes the engine's directory: the URL of a ledger on `server_url`.
pub fn prepare(dir: &Path, server_url: &str) -> BenchResult<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join(URL_FILE), format!("{server_url}?schema=bench"))?;
    Ok(())
}

fn url(dir: &Path) -> BenchResult<LedgerUrl> {
    let text = std::fs::read_to_string(dir.join(URL_FILE))?;
    Ok(LedgerUrl::parse(text.trim())?)
}

/// Imports, single commands and reports through the shell over
/// PostgreSQL.
pub fn run(dir: &Path, prepared: &Prepared) -> BenchResult<Run> {
    let store = PostgresStore::open(&url(dir)?, SystemClock)?;
    crate::ledger::run_over(&mut Ledger::over(store), prepared)
}

/// Drops every document and rebuilds them from the log.
pub fn replay(dir: &Path) -> BenchResult<ReplayRun> {
    crate::ledger::replay_over(&PostgresStore::open_existing(&url(dir)?, SystemClock)?)
}

/// The bytes the ledger's tables and indexes take on the server.
pub fn disk_bytes(dir: &Path) -> BenchResult<u64> {
    Ok(PostgresStore::open_existing(&url(dir)?, SystemClock)?.bytes_on_disk()?)
}

/// The ledger's URL, for the CLI process.
pub fn ledger_url(dir: &Path) -> BenchResult<String> {
    Ok(std::fs::read_to_string(dir.join(URL_FILE))?
        .trim()
        .to_owned())
}
