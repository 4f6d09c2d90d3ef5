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

use crate::StoreError;

/// Persistence for projections, implemented by every backend of the log.
pub trait ProjectionStore {
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
