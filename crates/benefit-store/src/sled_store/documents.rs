//! [`ProjectionStore`] for the sled backend: a tree of its own,
//! `documents.{generation}`, holding every document (under
//! `D`) and the checkpoint. A commit is one `apply_batch` on
//! that tree, then a flush; the log's tree is never touched here.
//!
//! A reset switches generations: it creates the next generation's tree,
//! empty, flushes, then writes the new generation number in `meta` (one
//! write, flushed) and only then drops the old tree. A crash before the
//! switch leaves the old documents in use and an unused tree; a crash after
//! leaves the new, empty generation and an old tree; the next open drops
//! every tree but the current generation's. So a catch-up never folds over
//! documents a reset meant to remove (issue 11: the old order, checkpoint
//! first and documents after, let a catch-up from 0 fold over what was
//! left, and a re-redeem duplicated keys). The old tree is emptied in
//! batches before it is dropped: `drop_tree` of a full tree brought all its
//! pages into memory (`docs/performance.md`).

use std::collections::BTreeMap;
use std::sync::PoisonError;

use super::layout::{
    document_key, parse_u64, DOCUMENTS_CHECKPOINT, META_DOCUMENTS_GENERATION, TREE_DOCUMENTS_PREFIX,
};
use super::pages::{paged_get, paged_last, Merged, PagedScan};
use super::SledStore;
use crate::projection_store::{check_checkpoint, DocumentSource, KeyOrdered};
use crate::{Document, ProjectionStore, StoreError};

fn damaged(message: String) -> StoreError {
    StoreError::Projection { message }
}

/// The name of generation `n`'s documents tree.
pub(super) fn tree_name(n: u64) -> String {
    format!("{TREE_DOCUMENTS_PREFIX}{n}")
}

/// The current documents generation, as `meta` records it.
pub(super) fn generation(meta: &sled::Tree) -> Result<u64, StoreError> {
    stored_u64(meta, META_DOCUMENTS_GENERATION, "the documents generation")
}

/// A `u64` stored under `key` in `tree` (0 when absent).
fn stored_u64(tree: &sled::Tree, key: &[u8], what: &'static str) -> Result<u64, StoreError> {
    let bytes = tree
        .get(key)
        .map_err(|e| StoreError::backend("reading the projections' position", e))?;
    match bytes {
        None => Ok(0),
        Some(b) => {
            parse_u64(&b).ok_or_else(|| damaged(format!("{what} has {} bytes, not 8", b.len())))
        }
    }
}

/// How many documents a commit writes before it is settled: synced to disk
/// ([`SledStore::flush`]) and what its writes replaced freed
/// ([`super::reclaim_replaced_pages`]) before it returns, so that the next
/// acknowledged append pays for itself alone. A catch-up batch or an
/// import's documents are tens of thousands; a command's, a handful.
///
/// Measured (`docs/performance.md`, *The command after an import*): after
/// an import of 30 000 events in batches of 10 000, the first command's
/// `fsync` wrote the last batch's documents (21 ms) and the next twenty
/// freed its replaced pages (6-10 ms each), so the single-command p99 was
/// 7-10 ms against 1.5 ms once settled.
const SETTLE_AFTER_DOCUMENTS: usize = 1_000;

impl SledStore {
    /// The current documents tree (a handle: sled trees are shared).
    fn documents(&self) -> sled::Tree {
        self.documents
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// sled's flush after a documents write: bounded in time like the
    /// log's (`flush_bounded`), never `fsync`ed (the documents are derived).
    fn documents_flush(&self) -> Result<(), StoreError> {
        self.flush_bounded("flushing projections")
    }

    /// Drops every documents tree but the current generation's: what a
    /// reset that a crash interrupted left behind.
    pub(super) fn drop_stale_document_trees(&self) -> Result<(), StoreError> {
        let current = tree_name(generation(&self.meta)?);
        let mut dropped = false;
        for name in self.db.tree_names() {
            let stale = name.starts_with(TREE_DOCUMENTS_PREFIX.as_bytes())
                && name.as_ref() != current.as_bytes();
            if stale {
                self.db
                    .drop_tree(&name)
                    .map_err(|e| StoreError::backend("dropping old projections", e))?;
                dropped = true;
            }
        }
        if dropped {
            self.documents_flush()?;
        }
        Ok(())
    }
}

/// The checkpoint stored in a documents tree (0: none).
pub(super) fn checkpoint_in(tree: &sled::Tree) -> Result<u64, StoreError> {
    stored_u64(tree, DOCUMENTS_CHECKPOINT, "the projection checkpoint")
}

/// How a documents tree holds its documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Packing {
    /// One sled key each: the ledger's own trees. A replace writes single
    /// keys too: pages there left sled's file with free segments that it
    /// zeroes at every open (`pages.rs`).
    Singles,
    /// Pages written by a replace, single keys committed over them: a
    /// scratch store, which no later process opens.
    Pages,
}

/// The document under `key` in a documents tree: its own key's, or else
/// a page's (`pages.rs`).
pub(super) fn get_in(
    tree: &sled::Tree,
    packing: Packing,
    key: &str,
) -> Result<Option<Vec<u8>>, StoreError> {
    let single = tree
        .get(document_key(key))
        .map_err(|e| StoreError::backend("reading a projection", e))?;
    match single {
        Some(bytes) => Ok(Some(bytes.to_vec())),
        None if packing == Packing::Pages => paged_get(tree, key),
        None => Ok(None),
    }
}

/// [`ProjectionStore::projection_scan_page`] on a documents tree: one range
/// read.
pub(super) fn scan_page_in(
    tree: &sled::Tree,
    packing: Packing,
    prefix: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<Document>, StoreError> {
    use std::ops::Bound;
    let start = crate::table::page_start(prefix, after);
    let tagged = document_key(prefix);
    let singles = tree
        .range::<Vec<u8>, _>((start.map(document_key), Bound::Unbounded))
        .take_while(|item| item.as_ref().map_or(true, |(k, _)| k.starts_with(&tagged)))
        .map(|item| {
            let (k, v) = item.map_err(|e| StoreError::backend("scanning projections", e))?;
            Ok((document_name(&k)?, v.to_vec()))
        });
    let paged = match packing {
        Packing::Pages => Some(PagedScan::new(tree, prefix, start)?),
        Packing::Singles => None,
    };
    Merged::new(singles, paged.into_iter().flatten())
        .take(limit)
        .collect()
}

/// The last document under `prefix` in a documents tree: the later of its
/// own keys' last and the pages' last (the single one, where they are one).
pub(super) fn last_in(
    tree: &sled::Tree,
    packing: Packing,
    prefix: &str,
) -> Result<Option<Document>, StoreError> {
    let single = match tree.scan_prefix(document_key(prefix)).next_back() {
        None => None,
        Some(item) => {
            let (k, v) = item.map_err(|e| StoreError::backend("scanning projections", e))?;
            Some((document_name(&k)?, v.to_vec()))
        }
    };
    let paged = match packing {
        Packing::Pages => paged_last(tree, prefix)?,
        Packing::Singles => None,
    };
    Ok(match (single, paged) {
        (Some(single), Some(paged)) if paged.0 > single.0 => Some(paged),
        (single, paged) => single.or(paged),
    })
}

/// Writes `writes` and the checkpoint `to` into a documents tree, after
/// checking that its checkpoint is `from`, in `apply_batch`es of at most
/// `keys_per_write` documents, the checkpoint in the last; not flushed
/// here. One write (`usize::MAX`) is atomic; more are not, and keep less
/// in memory: sled pins one epoch for a whole batch, so nothing a batch
/// replaces is freed before it ends (one batch of 500 000 documents of
/// 250 bytes held 4 GiB, measured).
pub(super) fn commit_in(
    tree: &sled::Tree,
    (from, to): (u64, u64),
    writes: BTreeMap<String, Vec<u8>>,
    keys_per_write: usize,
) -> Result<(), StoreError> {
    check_checkpoint(from, checkpoint_in(tree)?)?;
    write_singles(tree, to, &mut writes.into_iter().map(Ok), keys_per_write)
}

/// Writes `documents` (in key order, each key once) and the checkpoint `to`
/// into a documents tree, one sled key each, in `apply_batch`es of at most
/// `keys_per_write`, the checkpoint in the last; not flushed here. An error
/// of the source ends it with that error. The order is the caller's: a
/// commit's map is sorted, a replace's source is checked ([`KeyOrdered`]).
pub(super) fn write_singles(
    tree: &sled::Tree,
    to: u64,
    documents: &mut DocumentSource<'_>,
    keys_per_write: usize,
) -> Result<(), StoreError> {
    let mut documents = documents.peekable();
    loop {
        let mut batch = sled::Batch::default();
        for document in documents.by_ref().take(keys_per_write) {
            let (key, value) = document?;
            batch.insert(document_key(&key), value);
        }
        let last = documents.peek().is_none();
        if last {
            batch.insert(DOCUMENTS_CHECKPOINT, &to.to_be_bytes());
        }
        tree.apply_batch(batch)
            .map_err(|e| StoreError::backend("writing projections", e))?;
        if last {
            return Ok(());
        }
    }
}

impl ProjectionStore for SledStore {
    fn projection_checkpoint(&self) -> Result<u64, StoreError> {
        checkpoint_in(&self.documents())
    }

    fn projection_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        get_in(&self.documents(), Packing::Singles, key)
    }

    fn projection_scan_page(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Document>, StoreError> {
        scan_page_in(&self.documents(), Packing::Singles, prefix, after, limit)
    }

    fn projection_last(&self, prefix: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        last_in(&self.documents(), Packing::Singles, prefix)
    }

    fn projection_commit(
        &self,
        from: u64,
        to: u64,
        writes: BTreeMap<String, Vec<u8>>,
    ) -> Result<(), StoreError> {
        let written = writes.len();
        commit_in(&self.documents(), (from, to), writes, usize::MAX)?;
        if written < SETTLE_AFTER_DOCUMENTS {
            return self.documents_flush();
        }
        self.flush()?;
        super::reclaim_replaced_pages(written);
        Ok(())
    }

    fn projection_reset(&self) -> Result<(), StoreError> {
        self.switch_generation(|_| Ok(()))
    }

    /// A reset first, then the documents written into the next
    /// generation's tree, one key each (`Packing::Singles`), and switched
    /// to: a crash leaves the old documents, none, or the new ones. The old
    /// documents go first so that the space they free is where the new ones
    /// are written: sled zeroes every free segment of its file at each open
    /// (`pages.rs`).
    fn projection_replace(
        &self,
        to: u64,
        documents: &mut DocumentSource<'_>,
    ) -> Result<(), StoreError> {
        self.projection_reset()?;
        let mut ordered = KeyOrdered::new(documents);
        self.switch_generation(|fresh| write_singles(fresh, to, &mut ordered, REPLACE_WRITE_KEYS))
    }
}

impl SledStore {
    /// A reset or a replace: creates the next generation's tree, empty,
    /// has `fill` write it, flushes, then writes the new generation number
    /// in `meta` (flushed) and only then empties and drops the old tree.
    /// If `fill` fails, the current generation stays and the next open
    /// drops the part written.
    fn switch_generation(
        &self,
        fill: impl FnOnce(&sled::Tree) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut current = self
            .documents
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let old = generation(&self.meta)?;
        let next = old + 1;
        let fresh = self
            .db
            .open_tree(tree_name(next))
            .map_err(|e| StoreError::backend("creating the next projections", e))?;
        fresh
            .clear()
            .map_err(|e| StoreError::backend("clearing the next projections", e))?;
        fill(&fresh)?;
        self.documents_flush()?;
        self.meta
            .insert(META_DOCUMENTS_GENERATION, &next.to_be_bytes())
            .map_err(|e| StoreError::backend("switching to the next projections", e))?;
        self.documents_flush()?;
        let stale = std::mem::replace(&mut *current, fresh);
        drop(current);
        clear_in_batches(&stale, CLEAR_BATCH_KEYS)?;
        drop(stale);
        self.db
            .drop_tree(tree_name(old))
            .map_err(|e| StoreError::backend("dropping old projections", e))?;
        self.documents_flush()
    }
}

/// How many documents one write of a replace holds: sled frees nothing a
/// write replaces until it ends, and the scratch store measured 1 000 a
/// write faster and far leaner than 10 000 (`scratch.rs`).
const REPLACE_WRITE_KEYS: usize = 1_000;

/// How many keys one write removes from a stale documents tree.
pub(super) const CLEAR_BATCH_KEYS: usize = 10_000;

/// Empties a stale documents tree a batch of keys at a time, before it is
/// dropped: sled's `drop_tree` of a full tree brought all its pages into
/// memory (a 1 000 000-event replay peaked at 1.6 GiB, measured), while
/// removing the keys in batches keeps the memory of one batch.
///
/// Each batch reads on from the last key removed, never from the start of
/// the tree again: sled merges emptied nodes lazily, so a read from the
/// start walked every node emptied before it, and a 1 000 000-event reset
/// took 64 s (issue 11, measured).
pub(super) fn clear_in_batches(tree: &sled::Tree, batch_keys: usize) -> Result<(), StoreError> {
    use std::ops::Bound;
    let fail = |e| StoreError::backend("clearing old projections", e);
    let mut after: Option<sled::IVec> = None;
    loop {
        let mut batch = sled::Batch::default();
        let from = match &after {
            Some(last) => Bound::Excluded(last.clone()),
            None => Bound::Unbounded,
        };
        let mut last = None;
        for key in tree
            .range::<sled::IVec, _>((from, Bound::Unbounded))
            .keys()
            .take(batch_keys)
        {
            let key = key.map_err(fail)?;
            batch.remove(key.clone());
            last = Some(key);
        }
        let Some(last) = last else {
            return Ok(());
        };
        tree.apply_batch(batch).map_err(fail)?;
        after = Some(last);
    }
}

fn document_name(key: &[u8]) -> Result<String, StoreError> {
    let name = key.get(1..).unwrap_or_default();
    String::from_utf8(name.to_vec()).map_err(|_| damaged("a projection key is not UTF-8".into()))
}
