//! [`ProjectionStore`] for the sled backend: a sled database of its own
//! for each generation of documents, `projections.{generation}` inside the
//! ledger directory, whose default tree holds every document (under `D`)
//! and the checkpoint. A commit is one `apply_batch` on that tree, not
//! flushed: sled writes it with its next buffer (when a buffer fills, or at
//! the store's close), and a crash that loses it loses the checkpoint with
//! it, so the next open catches up from the log. The log's database is
//! never touched here, and its `fsync` never waits for the documents'
//! bytes.
//!
//! A reset switches generations: it creates the next generation's
//! database, empty, syncs it to disk, then writes the new generation number
//! in the log's `meta` (one write, synced) and only then removes the old
//! generation's directory. A crash before the switch leaves the old
//! documents in use and an unused directory; a crash after leaves the new,
//! empty generation and an old directory; the next open removes every
//! generation's directory but the current one. So a catch-up never folds
//! over documents a reset meant to remove (issue 11: the old order,
//! checkpoint first and documents after, let a catch-up from 0 fold over
//! what was left, and a re-redeem duplicated keys). Removing a directory
//! costs what removing its files costs, whatever the documents in it: in
//! layout 3 the old generation was a tree in the log's database, emptied a
//! batch of keys at a time, which was a third of a 1 000 000-event replay
//! (`docs/performance.md`).

use std::collections::BTreeMap;
use std::fs;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError};

use super::layout::{
    document_key, parse_u64, DOCUMENTS_CHECKPOINT, DOCUMENTS_PACKED, DOCUMENTS_SINGLES,
    META_DOCUMENTS_GENERATION, PROJECTIONS_DIR_PREFIX,
};
use super::pages::{paged_get, paged_last, write_pages, Merged, PagedScan};
use super::SledStore;
use crate::projection_store::{check_checkpoint, DocumentSource};
use crate::{Document, ProjectionStore, StoreError};

fn damaged(message: String) -> StoreError {
    StoreError::Projection { message }
}

/// The directory of generation `n`'s documents, inside the ledger
/// directory `ledger`.
pub(super) fn generation_dir(ledger: &Path, n: u64) -> PathBuf {
    ledger.join(format!("{PROJECTIONS_DIR_PREFIX}{n}"))
}

/// The current documents generation, as `meta` records it.
pub(super) fn generation(meta: &sled::Tree) -> Result<u64, StoreError> {
    stored_u64(meta, META_DOCUMENTS_GENERATION, "the documents generation")
}

/// Opens generation `n`'s documents database in the ledger directory
/// `ledger`, creating it, empty and private to its owner, where there is
/// none. Called only while this process holds the ledger's lock.
pub(super) fn open_generation(ledger: &Path, n: u64) -> Result<sled::Db, StoreError> {
    let dir = generation_dir(ledger, n);
    if !dir.exists() {
        super::create_private_dir(&dir, "creating a projections directory")?;
    }
    super::unfinished::remove_unfinished_snapshots(&dir)?;
    super::sled_config(&dir)
        .open()
        .map_err(|e| super::open_error(&dir, e))
}

/// A documents generation in use: its database, how many documents its
/// pages hold, and how many single documents its commits have written
/// (read once, when it is opened or written).
#[derive(Clone)]
pub(super) struct Generation {
    pub(super) db: sled::Db,
    /// Documents in its pages ([`DOCUMENTS_PACKED`]); `None` where a reset
    /// started it and it has no pages.
    pub(super) packed: Option<u64>,
    /// Single documents written since it began ([`DOCUMENTS_SINGLES`]),
    /// shared by every handle of it.
    pub(super) singles: Arc<AtomicU64>,
}

impl Generation {
    /// `db`, holding pages if a replace marked it so ([`DOCUMENTS_PACKED`]).
    fn of(db: sled::Db) -> Result<Self, StoreError> {
        let read = |key| {
            db.get(key)
                .map_err(|e| StoreError::backend("reading how the projections are kept", e))
                .map(|bytes| bytes.map(|b| parse_u64(&b).unwrap_or(0)))
        };
        let (packed, singles) = (read(DOCUMENTS_PACKED)?, read(DOCUMENTS_SINGLES)?);
        Ok(Self::new(db, packed, singles.unwrap_or(0)))
    }

    fn new(db: sled::Db, packed: Option<u64>, singles: u64) -> Self {
        Self {
            db,
            packed,
            singles: Arc::new(AtomicU64::new(singles)),
        }
    }

    /// How it holds its documents: in pages once a replace or a packing
    /// wrote it.
    pub(super) fn packing(&self) -> Packing {
        match self.packed {
            Some(_) => Packing::Pages,
            None => Packing::Singles,
        }
    }
}

/// How many single documents a ledger's generation takes before it is
/// packed at all: below it, the keys cost less than packing them.
const PACK_AFTER_SINGLES: u64 = 100_000;

/// Whether a generation whose commits have written `singles` documents
/// over `packed` paged ones is packed again ([`SledStore::pack`]): once
/// they are as many, and at least [`PACK_AFTER_SINGLES`]. Each packing
/// rewrites what the last one wrote plus what was written since, so a
/// document is rewritten about twice over the ledger's life, whatever its
/// length, while sled's keys (which its open, its page table and its
/// segment accounting pay for) stay within twice the packed set's.
fn packing_due(singles: u64, packed: u64) -> bool {
    singles >= packed.max(PACK_AFTER_SINGLES)
}

/// Opens the documents generation `meta` names, in the ledger directory
/// `ledger` whose log's database is `db`. Where sled cannot open that
/// generation (its files damaged), an empty next generation is switched to
/// instead (the old one's directory is removed with the other stale ones):
/// the documents are derived, the next catch-up folds the log into the new
/// generation, and damaged documents never make the log unreadable.
pub(super) fn open_current(
    ledger: &Path,
    db: &sled::Db,
    meta: &sled::Tree,
) -> Result<(u64, Generation), StoreError> {
    let current = generation(meta)?;
    match open_generation(ledger, current).and_then(Generation::of) {
        Err(StoreError::Backend { .. }) => {
            let next = current + 1;
            remove_generation(&generation_dir(ledger, next))?;
            let fresh = open_generation(ledger, next)?;
            meta.insert(META_DOCUMENTS_GENERATION, &next.to_be_bytes())
                .map_err(|e| StoreError::backend("switching to the next projections", e))?;
            super::flush_within_limit(db, "switching to the next projections")?;
            Ok((next, Generation::of(fresh)?))
        }
        opened => opened.map(|fresh| (current, fresh)),
    }
}

/// Removes every generation's directory in `ledger` but generation
/// `current`'s: what a reset that a crash interrupted left behind.
pub(super) fn remove_stale_generations(ledger: &Path, current: u64) -> Result<(), StoreError> {
    let io = |source| StoreError::Io {
        action: "reading the ledger directory",
        path: ledger.to_path_buf(),
        source,
    };
    let keep = generation_dir(ledger, current);
    for entry in fs::read_dir(ledger).map_err(io)? {
        let path = entry.map_err(io)?.path();
        let stale = path
            .file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with(PROJECTIONS_DIR_PREFIX));
        if stale && path != keep {
            remove_generation(&path)?;
        }
    }
    Ok(())
}

/// Removes a generation's directory, if it is there.
fn remove_generation(dir: &Path) -> Result<(), StoreError> {
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StoreError::Io {
            action: "removing old projections",
            path: dir.to_path_buf(),
            source: e,
        }),
        _ => Ok(()),
    }
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

/// How many documents a commit writes before it is settled: what its
/// writes replaced freed ([`super::reclaim_replaced_pages`]) before it
/// returns, so that the next acknowledged append pays for itself alone. A
/// catch-up batch or an import's documents are tens of thousands; a
/// command's, a handful.
///
/// Measured (`docs/performance.md`, *The command after an import*): after
/// an import of 30 000 events in batches of 10 000, the next twenty
/// commands each freed the last batch's replaced pages (6-10 ms each), so
/// the single-command p99 was 7-10 ms against 1.5 ms once settled. (In
/// layout 3 the documents shared the log's file, and the first command's
/// `fsync` also wrote the batch's documents, 21 ms: a settled commit was
/// synced then. In their own database since layout 4, the log's `fsync`
/// never writes them.)
const SETTLE_AFTER_DOCUMENTS: usize = 1_000;

impl SledStore {
    /// The current generation's documents database and its packing (a
    /// handle: sled's are shared).
    pub(super) fn documents(&self) -> Generation {
        self.documents
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// sled's flush of the documents, bounded in time like the log's
    /// (`flush_bounded`), never `fsync`ed: the documents are derived, and a
    /// crash that loses their last writes loses their checkpoint with them.
    /// Called where the store closes, never by a commit (see the module's
    /// doc): a flush waits for the disk (sled's `sync_file_range`), a third
    /// of a single command's time (`docs/performance.md`, the twelfth
    /// round).
    pub(super) fn documents_flush(&self) -> Result<(), StoreError> {
        self.flush_bounded(&self.documents().db, "flushing projections")
    }
}

/// The checkpoint stored in a documents tree (0: none).
pub(super) fn checkpoint_in(tree: &sled::Tree) -> Result<u64, StoreError> {
    stored_u64(tree, DOCUMENTS_CHECKPOINT, "the projection checkpoint")
}

/// How a documents tree holds its documents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Packing {
    /// One sled key each: a generation that a reset started and commits
    /// filled.
    Singles,
    /// Pages written by a replace, single keys committed over them: a
    /// scratch store, and a generation that a replay or a repair wrote.
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
    let start = crate::table::page_start(prefix, after);
    documents_from(tree, packing, prefix, start)?
        .take(limit)
        .collect()
}

/// The documents of a documents tree under `prefix` from `start` on, in key
/// order: its single keys merged over its pages.
fn documents_from<'t>(
    tree: &'t sled::Tree,
    packing: Packing,
    prefix: &str,
    start: Bound<&str>,
) -> Result<impl Iterator<Item = Result<Document, StoreError>> + 't, StoreError> {
    let tagged = document_key(prefix);
    let singles = tree
        .range::<Vec<u8>, _>((start.map(document_key), Bound::Unbounded))
        .take_while(move |item| item.as_ref().map_or(true, |(k, _)| k.starts_with(&tagged)))
        .map(|item| {
            let (k, v) = item.map_err(|e| StoreError::backend("scanning projections", e))?;
            Ok((document_name(&k)?, v.to_vec()))
        });
    let paged = match packing {
        Packing::Pages => Some(PagedScan::new(tree, prefix, start)?),
        Packing::Singles => None,
    };
    Ok(Merged::new(singles, paged.into_iter().flatten()))
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
///
/// `singles`, where given, is written with the checkpoint as the count of
/// single documents the tree's commits have written ([`DOCUMENTS_SINGLES`]).
pub(super) fn commit_in(
    tree: &sled::Tree,
    (from, to): (u64, u64),
    writes: BTreeMap<String, Vec<u8>>,
    keys_per_write: usize,
    singles: Option<u64>,
) -> Result<(), StoreError> {
    check_checkpoint(from, checkpoint_in(tree)?)?;
    let mut documents = writes.into_iter().map(Ok);
    write_singles(tree, (to, singles), &mut documents, keys_per_write)
}

/// Writes `documents` (in key order, each key once) and the checkpoint `to`
/// into a documents tree, one sled key each, in `apply_batch`es of at most
/// `keys_per_write`, the checkpoint in the last; not flushed here. An error
/// of the source ends it with that error. The order is the caller's (a
/// commit's map is sorted).
fn write_singles(
    tree: &sled::Tree,
    (to, singles): (u64, Option<u64>),
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
            if let Some(singles) = singles {
                batch.insert(DOCUMENTS_SINGLES, &singles.to_be_bytes());
            }
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
        checkpoint_in(&self.documents().db)
    }

    fn projection_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let generation = self.documents();
        get_in(&generation.db, generation.packing(), key)
    }

    fn projection_scan_page(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Document>, StoreError> {
        let generation = self.documents();
        scan_page_in(&generation.db, generation.packing(), prefix, after, limit)
    }

    fn projection_last(&self, prefix: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        let generation = self.documents();
        last_in(&generation.db, generation.packing(), prefix)
    }

    fn projection_commit(
        &self,
        from: u64,
        to: u64,
        writes: BTreeMap<String, Vec<u8>>,
    ) -> Result<(), StoreError> {
        let written = writes.len();
        let generation = self.documents();
        let singles = generation.singles.load(Ordering::Relaxed) + written as u64;
        commit_in(
            &generation.db,
            (from, to),
            writes,
            usize::MAX,
            Some(singles),
        )?;
        generation.singles.store(singles, Ordering::Relaxed);
        if written >= SETTLE_AFTER_DOCUMENTS {
            super::reclaim_replaced_pages(written);
        }
        if packing_due(singles, generation.packed.unwrap_or(0))
            && !self.packing_failed.load(Ordering::Relaxed)
        {
            drop(generation);
            // The commit stands whatever the packing does: a packing that
            // fails leaves the generation as it was, and is not tried
            // again by this process (a full disk would fail it at every
            // commit); the next process tries again.
            if self.pack().is_err() {
                self.packing_failed.store(true, Ordering::Relaxed);
            }
        }
        Ok(())
    }

    fn projection_reset(&self) -> Result<(), StoreError> {
        self.switch_generation(|_, _| Ok(None))
    }

    /// The documents written into the next generation's database in pages
    /// (`Packing::Pages`, `pages.rs`), and switched to: a crash leaves
    /// the old documents or the new ones, never a part. The old
    /// generation's directory is removed after the switch, so its space is
    /// given back whole, and the new database holds no free space for sled
    /// to zero at each open (what kept pages out of layout 3's ledgers).
    fn projection_replace(
        &self,
        to: u64,
        documents: &mut DocumentSource<'_>,
    ) -> Result<(), StoreError> {
        self.switch_generation(|_, fresh| write_pages(fresh, to, documents).map(Some))
    }
}

impl SledStore {
    /// Packs the current generation: its documents (single keys merged
    /// over its pages), read in key order, written as pages into the next
    /// generation with the same checkpoint, and switched to, as a replace
    /// is. A crash leaves the one or the other, holding the same
    /// documents.
    pub(super) fn pack(&self) -> Result<(), StoreError> {
        self.switch_generation(|old, fresh| {
            let checkpoint = checkpoint_in(&old.db)?;
            let mut documents = documents_from(&old.db, old.packing(), "", Bound::Included(""))?;
            write_pages(fresh, checkpoint, &mut documents).map(Some)
        })
    }
}

impl SledStore {
    /// A reset or a replace: creates the next generation's database, empty
    /// (removing what an interrupted switch left there), has `fill` write
    /// it from the current one (answering how many documents it wrote in
    /// pages, or `None` where it wrote none), syncs it to disk, then writes
    /// the new generation number in
    /// `meta` (synced) and only then removes the old generation's
    /// directory. If `fill` fails, the current generation stays and the
    /// part written is removed (or, if that fails too, by the next open).
    fn switch_generation(
        &self,
        fill: impl FnOnce(&Generation, &sled::Tree) -> Result<Option<u64>, StoreError>,
    ) -> Result<(), StoreError> {
        let mut current = self
            .documents
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let old = generation(&self.meta)?;
        let next = old + 1;
        let next_dir = generation_dir(&self.path, next);
        remove_generation(&next_dir)?;
        let fresh = open_generation(&self.path, next)?;
        let filled = fill(&current, &fresh)
            .and_then(|packed| self.sync_generation(&fresh, &next_dir).map(|()| packed));
        let packed = match filled {
            Ok(packed) => packed,
            Err(error) => {
                drop(fresh);
                let _ = remove_generation(&next_dir);
                return Err(error);
            }
        };
        self.meta
            .insert(META_DOCUMENTS_GENERATION, &next.to_be_bytes())
            .map_err(|e| StoreError::backend("switching to the next projections", e))?;
        self.flush()?;
        let stale = std::mem::replace(&mut *current, Generation::new(fresh, packed, 0));
        drop(current);
        drop(stale);
        remove_generation(&generation_dir(&self.path, old))
    }

    /// Writes a generation's database to disk before the log's `meta` names
    /// it: sled's flush, then its files `fsync`ed (`sync_database`) and the
    /// ledger directory's entry. Otherwise a power loss could keep the
    /// switch and lose part of what was written before it, and a catch-up
    /// would fold over a part.
    fn sync_generation(&self, db: &sled::Db, dir: &Path) -> Result<(), StoreError> {
        self.flush_bounded(db, "writing the next projections")?;
        super::sync_database(dir, "syncing the next projections to disk")?;
        super::sync_dir(&self.path)
    }
}

/// How many keys one write removes from a documents tree: a layout-3
/// ledger's, dropped by the upgrade (`upgrade.rs`), or a scratch store's.
pub(super) const CLEAR_BATCH_KEYS: usize = 10_000;

/// Empties a documents tree a batch of keys at a time, before it is
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
