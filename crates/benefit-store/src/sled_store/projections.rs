//! [`ProjectionStore`] for the sled backend: two trees beside the log's,
//! `projections` (document key → bytes) and `projection_meta` (the
//! checkpoint), written in one sled transaction and then flushed.

use std::collections::BTreeMap;

use sled::transaction::{
    abort, TransactionError, Transactional, TransactionalTree, UnabortableTransactionError,
};

use super::SledStore;
use crate::projection_store::Project;
use crate::{AppendRequest, Appended, ProjectionReader, ProjectionStore, StoreError};

/// document key (UTF-8) → document bytes.
pub(super) const TREE_PROJECTIONS: &str = "projections";
/// [`CHECKPOINT`] → last applied sequence (u64, big-endian).
pub(super) const TREE_PROJECTION_META: &str = "projection_meta";
const CHECKPOINT: &[u8] = b"checkpoint";

impl SledStore {
    fn projection_trees(&self) -> Result<(&sled::Tree, &sled::Tree), StoreError> {
        Ok((&self.trees.projections, &self.trees.projection_meta))
    }
}

fn checkpoint_of(bytes: Option<sled::IVec>) -> Result<u64, StoreError> {
    match bytes {
        None => Ok(0),
        Some(b) => super::layout::parse_u64(&b).ok_or_else(|| StoreError::Projection {
            message: format!("the projection checkpoint has {} bytes, not 8", b.len()),
        }),
    }
}

/// The checkpoint, read inside a transaction.
pub(super) fn checkpoint_in(
    meta: &TransactionalTree,
) -> Result<Result<u64, StoreError>, UnabortableTransactionError> {
    Ok(checkpoint_of(meta.get(CHECKPOINT)?))
}

/// Sets the checkpoint inside a transaction.
pub(super) fn set_checkpoint_in(
    meta: &TransactionalTree,
    to: u64,
) -> Result<(), UnabortableTransactionError> {
    meta.insert(CHECKPOINT, &to.to_be_bytes())?;
    Ok(())
}

/// The projection documents as a transaction sees them.
pub(super) struct InTransaction<'t>(pub(super) &'t TransactionalTree);

impl ProjectionReader for InTransaction<'_> {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.0
            .get(key.as_bytes())
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(|e| StoreError::Projection {
                message: format!("reading a projection in the append's transaction: {e}"),
            })
    }
}

impl ProjectionStore for SledStore {
    fn append_projected(
        &self,
        request: AppendRequest,
        project: Project<'_>,
    ) -> Result<Appended, StoreError> {
        self.append_flushed(&request, Some(project))
    }

    fn projection_checkpoint(&self) -> Result<u64, StoreError> {
        let (_, meta) = self.projection_trees()?;
        let bytes = meta
            .get(CHECKPOINT)
            .map_err(|e| StoreError::backend("reading the projection checkpoint", e))?;
        checkpoint_of(bytes)
    }

    fn projection_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let (docs, _) = self.projection_trees()?;
        Ok(docs
            .get(key.as_bytes())
            .map_err(|e| StoreError::backend("reading a projection", e))?
            .map(|v| v.to_vec()))
    }

    fn projection_scan(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let (docs, _) = self.projection_trees()?;
        docs.scan_prefix(prefix.as_bytes())
            .map(|item| {
                let (k, v) = item.map_err(|e| StoreError::backend("scanning projections", e))?;
                let key = String::from_utf8(k.to_vec()).map_err(|_| StoreError::Projection {
                    message: "a projection key is not UTF-8".into(),
                })?;
                Ok((key, v.to_vec()))
            })
            .collect()
    }

    fn projection_commit(
        &self,
        from: u64,
        to: u64,
        writes: BTreeMap<String, Vec<u8>>,
    ) -> Result<(), StoreError> {
        let (docs, meta) = self.projection_trees()?;
        let result = (docs, meta).transaction(|(docs, meta)| {
            let current = match checkpoint_of(meta.get(CHECKPOINT)?) {
                Ok(c) => c,
                Err(e) => return abort(e),
            };
            if current != from {
                return abort(StoreError::Conflict {
                    expected: from,
                    actual: current,
                });
            }
            for (key, value) in &writes {
                docs.insert(key.as_bytes(), value.as_slice())?;
            }
            meta.insert(CHECKPOINT, &to.to_be_bytes())?;
            Ok(())
        });
        match result {
            Ok(()) => {}
            Err(TransactionError::Abort(e)) => return Err(e),
            Err(TransactionError::Storage(e)) => {
                return Err(StoreError::backend("writing projections", e))
            }
        }
        self.db
            .flush()
            .map_err(|e| StoreError::backend("flushing projections", e))?;
        Ok(())
    }

    fn projection_reset(&self) -> Result<(), StoreError> {
        let (docs, meta) = self.projection_trees()?;
        // The checkpoint goes first: a crash between the two leaves documents
        // behind a checkpoint of 0, which the next catch-up overwrites.
        meta.remove(CHECKPOINT)
            .map_err(|e| StoreError::backend("resetting the projection checkpoint", e))?;
        docs.clear()
            .map_err(|e| StoreError::backend("clearing projections", e))?;
        self.db
            .flush()
            .map_err(|e| StoreError::backend("flushing projections", e))?;
        Ok(())
    }
}
