//! The seam where read models are persisted beside the log: documents under
//! string keys, and a checkpoint (the last sequence applied), changed
//! together in one atomic, flushed step.
//!
//! It belongs to the store's side of the boundary so that a backend holds the
//! log and the projections together (sled trees here, tables in a later
//! PostgreSQL backend) while the projections crate stays free of any
//! database. The documents' contents are the projections crate's business;
//! the store only keeps bytes.

use std::collections::BTreeMap;

use crate::{AppendRequest, Appended, StoreError, StoredEvent};

/// Reads projection documents inside an append's transaction (see
/// [`ProjectionStore::append_projected`]).
pub trait ProjectionReader {
    /// The document under `key`, as the transaction sees it.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
}

/// Computes the projection writes for records about to be stored (in
/// order, with their sequences, hashes and recorded-at), reading the
/// persisted documents through the append's own transaction.
pub type Project<'a> = &'a dyn Fn(
    &[StoredEvent],
    &dyn ProjectionReader,
) -> Result<BTreeMap<String, Vec<u8>>, StoreError>;

/// Persistence for projections, implemented by every backend of the log.
pub trait ProjectionStore {
    /// Appends `request` as [`crate::EventStore::append`] does and, in the
    /// same atomic, durable step (one transaction, one flush), writes the
    /// documents `project` computes from the records being stored (reading
    /// documents through the same transaction, never around it) and moves
    /// the checkpoint from the head to the batch's last sequence.
    ///
    /// The checkpoint must be the head: if the projections lag the log,
    /// nothing is written and the answer is [`StoreError::Conflict`] with
    /// the head as `expected` and the checkpoint as `actual` (catch up
    /// first). A repeat of a command id answers as `append` does and writes
    /// no projections. An error from `project` appends nothing. A SQL
    /// backend does the same in one SQL transaction.
    fn append_projected(
        &self,
        request: AppendRequest,
        project: Project<'_>,
    ) -> Result<Appended, StoreError>;

    /// The last sequence applied to the persisted projections (0: none).
    fn projection_checkpoint(&self) -> Result<u64, StoreError>;

    /// The document under `key`.
    fn projection_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// Every document whose key starts with `prefix`, in key order.
    fn projection_scan(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError>;

    /// Writes the documents and moves the checkpoint from `from` to `to`,
    /// atomically and durably. If the checkpoint is not `from` (another
    /// writer caught up first), nothing is written and the answer is
    /// [`StoreError::Conflict`] with both positions.
    fn projection_commit(
        &self,
        from: u64,
        to: u64,
        writes: BTreeMap<String, Vec<u8>>,
    ) -> Result<(), StoreError>;

    /// Drops every document and sets the checkpoint to 0: the start of a
    /// rebuild. Projections are derived data; the log is never touched.
    fn projection_reset(&self) -> Result<(), StoreError>;
}
