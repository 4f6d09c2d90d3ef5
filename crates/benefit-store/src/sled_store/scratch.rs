//! [`ScratchDocuments`]: documents on local disk for one long pass, gone
//! when the pass ends. A fold of the whole log (a rebuild, an as-of view)
//! holds its documents in memory up to a bound, and moves them here each
//! time it reaches the bound, so that its memory does not grow with the log
//! (issue 11, point 5). Nothing here is durable or shared: it is a sled
//! database in a fresh temporary directory, written out at each commit but
//! never synced, and removed on drop, whatever backend the ledger itself
//! is on.

use std::collections::BTreeMap;

use super::documents::{
    checkpoint_in, clear_in_batches, commit_in, get_in, last_in, scan_page_in, Packing,
    CLEAR_BATCH_KEYS,
};
use super::pages::write_pages;
use crate::projection_store::DocumentSource;
use crate::{Document, ProjectionStore, StoreError};

/// sled's page cache for a scratch database, in bytes: the pass's own
/// bound on documents in memory is what keeps its working set, so the cache
/// only needs to hold the pages a batch of reads and writes touches.
const SCRATCH_CACHE_BYTES: u64 = 32 * 1024 * 1024;

/// How many documents one write of a scratch store's commit holds: sled
/// frees nothing a write replaces until the write ends, so a commit of a
/// whole fold is written in parts (`commit_in`). Measured, 1 500 000
/// documents of 250 bytes in three commits: writes of 10 000 peaked at
/// 2.7 GiB, writes of 1 000 at 279 MiB, and were faster.
const SCRATCH_WRITE_DOCUMENTS: usize = 1_000;

/// A [`ProjectionStore`] in a temporary sled database of its own, for a
/// pass's documents that do not fit its memory. Its checkpoint is the last
/// sequence folded into it.
pub struct ScratchDocuments {
    // Declared before the directory: the database closes before its
    // directory is removed.
    db: sled::Db,
    dir: tempfile::TempDir,
}

impl std::fmt::Debug for ScratchDocuments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScratchDocuments")
            .field("dir", &self.dir.path())
            .finish_non_exhaustive()
    }
}

impl ScratchDocuments {
    /// An empty scratch store in a new directory under the system's
    /// temporary directory (`TMPDIR` on unix).
    pub fn open() -> Result<Self, StoreError> {
        let dir = tempfile::Builder::new()
            .prefix("benefit-ledger-scratch-")
            .tempdir()
            .map_err(|source| StoreError::Io {
                action: "creating a scratch directory for a long pass",
                path: std::env::temp_dir(),
                source,
            })?;
        let db = sled::Config::new()
            .path(dir.path().join("documents"))
            .temporary(true)
            .cache_capacity(SCRATCH_CACHE_BYTES)
            .mode(sled::Mode::HighThroughput)
            .flush_every_ms(None)
            .open()
            .map_err(|e| StoreError::backend("opening a scratch store for a long pass", e))?;
        Ok(Self { db, dir })
    }

    /// The directory it lives in, removed when it is dropped.
    pub fn path(&self) -> &std::path::Path {
        self.dir.path()
    }
}

impl ProjectionStore for ScratchDocuments {
    fn projection_checkpoint(&self) -> Result<u64, StoreError> {
        checkpoint_in(&self.db)
    }

    fn projection_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        get_in(&self.db, Packing::Pages, key)
    }

    fn projection_scan_page(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Document>, StoreError> {
        scan_page_in(&self.db, Packing::Pages, prefix, after, limit)
    }

    fn projection_last(&self, prefix: &str) -> Result<Option<Document>, StoreError> {
        last_in(&self.db, Packing::Pages, prefix)
    }

    /// In writes of `SCRATCH_WRITE_DOCUMENTS`, so not atomic: a pass
    /// whose commit fails fails, and its scratch store goes with it. Written
    /// out to its file before it answers (sled's flush, bounded in time as
    /// the ledger's is: a full temporary disk makes the pass fail, never
    /// hang), never synced: a scratch store does not outlive its pass.
    fn projection_commit(
        &self,
        from: u64,
        to: u64,
        writes: BTreeMap<String, Vec<u8>>,
    ) -> Result<(), StoreError> {
        commit_in(&self.db, (from, to), writes, SCRATCH_WRITE_DOCUMENTS, None)?;
        super::flush_within_limit(&self.db, "writing out a scratch store")
    }

    fn projection_reset(&self) -> Result<(), StoreError> {
        clear_in_batches(&self.db, CLEAR_BATCH_KEYS)
    }

    /// Cleared, then written as pages (`pages.rs`): what a long fold's
    /// first move to disk writes. Not atomic, as a commit here is not.
    fn projection_replace(
        &self,
        to: u64,
        documents: &mut DocumentSource<'_>,
    ) -> Result<(), StoreError> {
        clear_in_batches(&self.db, CLEAR_BATCH_KEYS)?;
        write_pages(&self.db, to, documents).map(drop)?;
        super::flush_within_limit(&self.db, "writing out a scratch store")
    }
}
