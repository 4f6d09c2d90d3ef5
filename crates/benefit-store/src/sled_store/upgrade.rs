//! The upgrade of an older ledger on open. Layouts 1 to 3 kept one sled
//! database in the ledger directory itself, holding the log and the
//! documents. Layout 4 kept the log in a database of its own in `log/`,
//! with sled's default segments. Layout 5 keeps it in `journal/`, with
//! segments of [`super::LOG_SEGMENT_BYTES`]; sled refuses to open a
//! database with another segment size than the one it was created with, so
//! a layout-4 log is copied too. Each documents generation is in
//! `projections.{n}/` since layout 4.
//!
//! The upgrade copies the log into a new database in `log.moving/`, every
//! record's bytes (hash and body) unchanged, so every hash and the head
//! digest stay what they were: layout 3's and 4's segments as they are,
//! layout 1's and 2's one key per record packed into segments, their
//! command ids and head moved into the journal. The documents are not
//! copied: a layout-4 ledger's generation is named again in the new log's
//! `meta`, and stays in use as it was; layouts 1 to 3 held theirs in the old
//! database, and the next catch-up folds the log into an empty generation.
//! The new database is synced, closed, and renamed to `journal/`; only then
//! are the old database's files removed. Copying instead of dropping trees
//! in place leaves the log's file compact: a layout-3 ledger's documents
//! were most of its file, and sled 0.34 zeroes (and the next sync writes)
//! every free segment of a file at each open, seconds per call at 1 000 000
//! events (`docs/performance.md`).
//!
//! Crash safety: `journal/` appears whole or not at all (a rename). A crash
//! before it leaves the old database, and a partial `log.moving/` that the
//! next open removes before it starts again; a crash after it leaves old
//! files beside `journal/`, which every open removes
//! ([`remove_moved_files`]).

use std::fs;
use std::path::Path;

use super::io;
use super::layout::{
    command_key, parse_u64, segment_key, Head as StoredHead, JOURNAL_HEAD, LAYOUT_DOCUMENTS_TREES,
    LAYOUT_LOG_DIR, LAYOUT_VERSION, LAYOUT_WITH_STREAM_HEADS, LOG_DIR, META_DOCUMENTS_GENERATION,
    META_HEAD, META_LAYOUT, SLED_DATA_FILE, TREE_COMMANDS, TREE_JOURNAL, TREE_LOG, TREE_META,
};
use crate::encoding::{pack_record, segment_of, unframe};
use crate::{Break, BreakKind, StoreError};

/// How many segments one write of the upgrade holds: bounds its memory.
const UPGRADE_BATCH_SEGMENTS: usize = 64;

/// Where the upgrade writes the new log's database before it is whole.
const LOG_MOVING_DIR: &str = "log.moving";

/// sled's cache for the old database the upgrade reads, in bytes: sled's
/// least. Its log's leaves are mostly blob files, which sled's cache weighs
/// at a few bytes (`LOG_SEGMENT_BYTES`), so under the usual 64 MiB it kept
/// every leaf the copy read; at this bound each shard keeps one page, once
/// the copy's count ([`super::reader::count_in_cache`]) has it weighed.
const UPGRADE_OLD_CACHE_BYTES: u64 = 256;

/// The files of the old databases in the ledger directory: layouts 1 to
/// 3's sled data file, its configuration and its blobs (and its snapshots,
/// `snap.*`); layout 4's directory; and a copy an upgrade left unfinished
/// (another process's, that lost the race to open `journal/`).
const MOVED_FILES: [&str; 5] = [SLED_DATA_FILE, "conf", "blobs", LOG_DIR, LOG_MOVING_DIR];

fn backend(action: &'static str) -> impl Fn(sled::Error) -> StoreError {
    move |e| StoreError::backend(action, e)
}

/// Copies an older layout's log into a database of its own in `log` where
/// the ledger directory `ledger` holds one: layout 4's in `log/`, layouts 1
/// to 3's in the directory itself (see the module's doc). Nothing where
/// neither is there: a new ledger.
pub(super) fn upgrade_if_older(ledger: &Path, log: &Path) -> Result<(), StoreError> {
    let layout_4 = ledger.join(LOG_DIR);
    if layout_4.join(SLED_DATA_FILE).is_file() {
        move_log(&layout_4, ledger, log)
    } else if ledger.join(SLED_DATA_FILE).is_file() {
        move_log(ledger, ledger, log)
    } else {
        Ok(())
    }
}

/// Moves the log of the layout-1 to -4 database in `old_dir` into a
/// database of its own in `log`, inside the ledger directory `ledger`.
fn move_log(old_dir: &Path, ledger: &Path, log: &Path) -> Result<(), StoreError> {
    super::unfinished::remove_unfinished_snapshots(old_dir)?;
    // Every older database was written with sled's default segments.
    let old = super::sled_config(old_dir)
        .cache_capacity(UPGRADE_OLD_CACHE_BYTES)
        .open()
        .map_err(|e| super::open_error(ledger, e))?;
    let old_meta = old
        .open_tree(TREE_META)
        .map_err(backend("opening the ledger's trees"))?;
    let version = legacy_layout(&old_meta, ledger)?;
    let moving = ledger.join(LOG_MOVING_DIR);
    remove_dir(&moving)?;
    super::create_private_dir(&moving, "creating the new log's directory")?;
    {
        let new = super::log_config(&moving)
            .open()
            .map_err(backend("creating the new log"))?;
        let journal = new
            .open_tree(TREE_JOURNAL)
            .map_err(backend("creating the new log"))?;
        match version {
            LAYOUT_DOCUMENTS_TREES | LAYOUT_LOG_DIR => copy_journal(&old, &journal)?,
            _ => copy_per_record_log(&old, &old_meta, &journal)?,
        }
        let meta = new
            .open_tree(TREE_META)
            .map_err(backend("writing the layout version"))?;
        if version == LAYOUT_LOG_DIR {
            keep_documents_generation(&old_meta, &meta)?;
        }
        meta.insert(META_LAYOUT, &LAYOUT_VERSION.to_be_bytes())
            .map_err(backend("writing the layout version"))?;
        super::flush_within_limit(&new, "writing the new log")?;
        super::sync_database(&moving, "syncing the new log to disk")?;
        // Closed here: sled names its files by path, so it must not be
        // open when its directory is renamed.
    }
    fs::rename(&moving, log).map_err(io("moving the new log into place", log))?;
    super::sync_dir(ledger)?;
    drop(old_meta);
    drop(old);
    remove_moved_files(ledger)
}

/// Names layout 4's documents generation in the new log's `meta`: its
/// documents, derived from the same records, stay in use.
fn keep_documents_generation(old: &sled::Tree, new: &sled::Tree) -> Result<(), StoreError> {
    let generation = old
        .get(META_DOCUMENTS_GENERATION)
        .map_err(backend("reading the documents generation"))?;
    match generation {
        Some(generation) => new
            .insert(META_DOCUMENTS_GENERATION, generation)
            .map(drop)
            .map_err(backend("writing the documents generation")),
        None => Ok(()),
    }
}

/// The layout version of the old database: 1 to 4. A newer one, or none,
/// is refused.
fn legacy_layout(meta: &sled::Tree, ledger: &Path) -> Result<u32, StoreError> {
    match super::stored_layout(meta)? {
        Some(Ok(version @ LAYOUT_WITH_STREAM_HEADS..=LAYOUT_LOG_DIR)) => Ok(version),
        None => Err(StoreError::NoLedger {
            path: ledger.to_path_buf(),
            reason: "the directory holds a database but no ledger",
        }),
        Some(found) => Err(super::unsupported(ledger, found)),
    }
}

/// Removes the old databases' files from `ledger` where `journal/` holds
/// the log: what an upgrade that a crash interrupted after its rename left.
pub(super) fn remove_moved_files(ledger: &Path) -> Result<(), StoreError> {
    for name in MOVED_FILES {
        let path = ledger.join(name);
        let removed = if path.is_dir() {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        match removed {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(io("removing the old database's files", &path)(e))
            }
            _ => {}
        }
    }
    let entries = fs::read_dir(ledger).map_err(io("reading the ledger directory", ledger))?;
    for entry in entries {
        let path = entry
            .map_err(io("reading the ledger directory", ledger))?
            .path();
        let snapshot = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("snap."));
        if snapshot && path.is_file() {
            fs::remove_file(&path).map_err(io("removing an old snapshot", &path))?;
        }
    }
    Ok(())
}

fn remove_dir(dir: &Path) -> Result<(), StoreError> {
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(io("removing an unfinished upgrade", dir)(e))
        }
        _ => Ok(()),
    }
}

/// Writes into the new journal in `apply_batch`es of at most
/// [`UPGRADE_BATCH_SEGMENTS`] values: bounds the upgrade's memory.
struct BatchedWrites<'t> {
    journal: &'t sled::Tree,
    batch: sled::Batch,
    in_batch: usize,
}

impl<'t> BatchedWrites<'t> {
    fn new(journal: &'t sled::Tree) -> Self {
        Self {
            journal,
            batch: sled::Batch::default(),
            in_batch: 0,
        }
    }

    fn insert(
        &mut self,
        key: impl Into<sled::IVec>,
        value: impl Into<sled::IVec>,
    ) -> Result<(), StoreError> {
        self.batch.insert(key, value);
        self.in_batch += 1;
        if self.in_batch < UPGRADE_BATCH_SEGMENTS {
            return Ok(());
        }
        self.in_batch = 0;
        self.journal
            .apply_batch(std::mem::take(&mut self.batch))
            .map_err(backend("upgrading the log"))
    }

    fn finish(self) -> Result<(), StoreError> {
        self.journal
            .apply_batch(self.batch)
            .map_err(backend("upgrading the log"))
    }
}

/// Layout 3: the journal's keys and values, copied as they are.
fn copy_journal(old: &sled::Db, journal: &sled::Tree) -> Result<(), StoreError> {
    let from = old
        .open_tree(TREE_JOURNAL)
        .map_err(backend("opening the old log"))?;
    let mut writes = BatchedWrites::new(journal);
    for item in from.iter() {
        let (key, value) = item.map_err(backend("reading the old log"))?;
        super::reader::count_in_cache(&from, &key)?;
        writes.insert(key, value)?;
    }
    writes.finish()
}

/// Layouts 1 and 2: the records packed into segments, the command ids and
/// the head moved into the journal.
fn copy_per_record_log(
    old: &sled::Db,
    old_meta: &sled::Tree,
    journal: &sled::Tree,
) -> Result<(), StoreError> {
    copy_log(old, journal)?;
    let commands = old
        .open_tree(TREE_COMMANDS)
        .map_err(backend("opening the command ids"))?;
    let mut batch = sled::Batch::default();
    for item in commands.iter() {
        let (key, value) = item.map_err(backend("reading the command ids"))?;
        let id = uuid::Uuid::from_slice(&key).map_err(|_| {
            Break::new(
                0,
                BreakKind::Index,
                "a command id",
                format!("{} bytes", key.len()),
            )
        })?;
        batch.insert(&command_key(&id), value);
    }
    let head = old_meta
        .get(META_HEAD)
        .map_err(backend("reading the head"))?;
    if let Some(head) = head {
        let valid = StoredHead::decode(&head)
            .ok_or_else(|| Break::new(0, BreakKind::Index, "a head of 48 bytes", head.len()))?;
        batch.insert(JOURNAL_HEAD, valid.encode());
    }
    journal
        .apply_batch(batch)
        .map_err(backend("upgrading the command ids"))
}

/// Copies the per-record log into segments, checking that its keys run
/// 1, 2, 3, ... (the full check of the chain is `verify`'s).
fn copy_log(old: &sled::Db, journal: &sled::Tree) -> Result<(), StoreError> {
    let log = old
        .open_tree(TREE_LOG)
        .map_err(backend("opening the old log"))?;
    let mut writes = BatchedWrites::new(journal);
    let mut segment = Vec::new();
    let mut expected = 1u64;
    for item in log.iter() {
        let (key, value) = item.map_err(backend("reading the old log"))?;
        let seq = parse_u64(&key)
            .filter(|seq| *seq == expected)
            .ok_or_else(|| {
                Break::new(
                    expected,
                    BreakKind::Contiguity,
                    expected,
                    format!("a key of {} bytes", key.len()),
                )
            })?;
        let (hash, body) = unframe(&value).map_err(|source| StoreError::Decode { seq, source })?;
        pack_record(&mut segment, &hash, body);
        if seq % crate::SEGMENT_RECORDS == 0 {
            writes.insert(&segment_key(segment_of(seq)), std::mem::take(&mut segment))?;
        }
        expected += 1;
    }
    if !segment.is_empty() {
        writes.insert(&segment_key(segment_of(expected - 1)), segment)?;
    }
    writes.finish()
}
