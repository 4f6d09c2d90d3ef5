//! [`ProjectionStore`] for the sled backend: one tree of its own,
//! [`TREE_DOCUMENTS`](super::layout::TREE_DOCUMENTS), holding every document
//! (under [`DOCUMENT_PREFIX`]), the checkpoint and, while a reset is under
//! way, its marker. A commit is one `apply_batch` on that tree, then a flush;
//! the log's tree is never touched here.
//!
//! A reset writes its marker first and removes it last, with the checkpoint
//! set to 0 in the same write: a crash anywhere in between leaves the marker,
//! and the next read of the checkpoint finishes the reset before any fold
//! starts. So a catch-up never folds over documents a reset meant to remove
//! (issue 11: the old order, checkpoint first and documents after, let a
//! catch-up from 0 fold over what was left, and a re-redeem duplicated keys).

use std::collections::BTreeMap;

use super::layout::{
    document_key, parse_u64, DOCUMENTS_CHECKPOINT, DOCUMENTS_RESETTING, DOCUMENT_PREFIX,
};
use super::SledStore;
use crate::{ProjectionStore, StoreError};

/// How many documents one write of a reset removes: bounds its memory.
const RESET_BATCH_DOCUMENTS: usize = 10_000;

fn damaged(message: String) -> StoreError {
    StoreError::Projection { message }
}

impl SledStore {
    fn documents_flush(&self) -> Result<(), StoreError> {
        self.db
            .flush()
            .map(|_| ())
            .map_err(|e| StoreError::backend("flushing projections", e))
    }

    fn stored_checkpoint(&self) -> Result<u64, StoreError> {
        let bytes = self
            .documents
            .get(DOCUMENTS_CHECKPOINT)
            .map_err(|e| StoreError::backend("reading the projection checkpoint", e))?;
        match bytes {
            None => Ok(0),
            Some(b) => parse_u64(&b).ok_or_else(|| {
                damaged(format!(
                    "the projection checkpoint has {} bytes, not 8",
                    b.len()
                ))
            }),
        }
    }

    /// Removes every document, then the marker, setting the checkpoint to 0
    /// in the same last write.
    fn finish_reset(&self) -> Result<(), StoreError> {
        loop {
            let mut batch = sled::Batch::default();
            let mut removed = 0;
            for item in self.documents.scan_prefix([DOCUMENT_PREFIX]).keys() {
                let key = item.map_err(|e| StoreError::backend("clearing projections", e))?;
                batch.remove(key);
                removed += 1;
                if removed == RESET_BATCH_DOCUMENTS {
                    break;
                }
            }
            if removed == 0 {
                break;
            }
            self.documents
                .apply_batch(batch)
                .map_err(|e| StoreError::backend("clearing projections", e))?;
        }
        let mut last = sled::Batch::default();
        last.insert(DOCUMENTS_CHECKPOINT, &0u64.to_be_bytes());
        last.remove(DOCUMENTS_RESETTING);
        self.documents
            .apply_batch(last)
            .map_err(|e| StoreError::backend("resetting the projection checkpoint", e))?;
        self.documents_flush()
    }
}

impl ProjectionStore for SledStore {
    fn projection_checkpoint(&self) -> Result<u64, StoreError> {
        let resetting = self
            .documents
            .contains_key(DOCUMENTS_RESETTING)
            .map_err(|e| StoreError::backend("reading the projection checkpoint", e))?;
        if resetting {
            self.finish_reset()?;
        }
        self.stored_checkpoint()
    }

    fn projection_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .documents
            .get(document_key(key))
            .map_err(|e| StoreError::backend("reading a projection", e))?
            .map(|v| v.to_vec()))
    }

    fn projection_scan(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.documents
            .scan_prefix(document_key(prefix))
            .map(|item| {
                let (k, v) = item.map_err(|e| StoreError::backend("scanning projections", e))?;
                Ok((document_name(&k)?, v.to_vec()))
            })
            .collect()
    }

    fn projection_last(&self, prefix: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        match self.documents.scan_prefix(document_key(prefix)).next_back() {
            None => Ok(None),
            Some(item) => {
                let (k, v) = item.map_err(|e| StoreError::backend("scanning projections", e))?;
                Ok(Some((document_name(&k)?, v.to_vec())))
            }
        }
    }

    fn projection_commit(
        &self,
        from: u64,
        to: u64,
        writes: BTreeMap<String, Vec<u8>>,
    ) -> Result<(), StoreError> {
        let current = self.projection_checkpoint()?;
        if current != from {
            return Err(StoreError::Conflict {
                expected: from,
                actual: current,
            });
        }
        let mut batch = sled::Batch::default();
        for (key, value) in writes {
            batch.insert(document_key(&key), value);
        }
        batch.insert(DOCUMENTS_CHECKPOINT, &to.to_be_bytes());
        self.documents
            .apply_batch(batch)
            .map_err(|e| StoreError::backend("writing projections", e))?;
        self.documents_flush()
    }

    fn projection_reset(&self) -> Result<(), StoreError> {
        self.documents
            .insert(DOCUMENTS_RESETTING, &[])
            .map_err(|e| StoreError::backend("starting a projection reset", e))?;
        self.documents_flush()?;
        self.finish_reset()
    }
}

fn document_name(key: &[u8]) -> Result<String, StoreError> {
    let name = key.get(1..).unwrap_or_default();
    String::from_utf8(name.to_vec()).map_err(|_| damaged("a projection key is not UTF-8".into()))
}
