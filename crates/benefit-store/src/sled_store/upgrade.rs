//! The upgrade of a layout-1 or layout-2 ledger to layout 3, in place, on
//! open: every record's bytes (hash and body) are copied unchanged into
//! segments, so every hash and the head digest stay what they were; the
//! command ids and the head move into the journal; the old trees, and the
//! projections (derived data, rebuilt by the next catch-up), are dropped.
//!
//! Crash safety: the layout version changes only once the journal is whole
//! and flushed. A crash before leaves the old layout and a partial journal,
//! which the next open clears and writes again; a crash after leaves old
//! trees that the next open drops ([`drop_legacy_trees`]).

use super::layout::{
    command_key, parse_u64, segment_key, Head as StoredHead, JOURNAL_HEAD, LAYOUT_VERSION,
    LEGACY_PROJECTION_TREES, META_HEAD, META_LAYOUT, TREE_COMMANDS, TREE_LOG, TREE_STREAMS,
    TREE_STREAM_HEADS,
};
use super::SledStore;
use crate::encoding::{pack_record, segment_of, unframe};
use crate::{Break, BreakKind, StoreError};

/// How many segments one write of the upgrade holds: bounds its memory.
const UPGRADE_BATCH_SEGMENTS: usize = 64;

fn backend(action: &'static str) -> impl Fn(sled::Error) -> StoreError {
    move |e| StoreError::backend(action, e)
}

/// Rewrites a layout-1 or layout-2 ledger as layout 3.
pub(super) fn upgrade(store: &SledStore) -> Result<(), StoreError> {
    store
        .journal
        .clear()
        .map_err(backend("clearing an unfinished upgrade"))?;
    copy_log(store)?;
    let commands = store
        .db
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
    let head = store
        .meta
        .get(META_HEAD)
        .map_err(backend("reading the head"))?;
    if let Some(head) = head {
        let valid = StoredHead::decode(&head)
            .ok_or_else(|| Break::new(0, BreakKind::Index, "a head of 48 bytes", head.len()))?;
        batch.insert(JOURNAL_HEAD, valid.encode());
    }
    store
        .journal
        .apply_batch(batch)
        .map_err(backend("upgrading the command ids"))?;
    store.flush()?;
    store
        .meta
        .insert(META_LAYOUT, &LAYOUT_VERSION.to_be_bytes())
        .map_err(backend("upgrading the layout version"))?;
    store.flush()?;
    drop_legacy_trees(store)
}

/// Copies the per-record log into segments, checking that its keys run
/// 1, 2, 3, ... (the full check of the chain is `verify`'s).
fn copy_log(store: &SledStore) -> Result<(), StoreError> {
    let log = store
        .db
        .open_tree(TREE_LOG)
        .map_err(backend("opening the old log"))?;
    let mut batch = sled::Batch::default();
    let mut in_batch = 0;
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
            batch.insert(&segment_key(segment_of(seq)), std::mem::take(&mut segment));
            in_batch += 1;
        }
        if in_batch == UPGRADE_BATCH_SEGMENTS {
            store
                .journal
                .apply_batch(std::mem::take(&mut batch))
                .map_err(backend("upgrading the log"))?;
            in_batch = 0;
        }
        expected += 1;
    }
    if !segment.is_empty() {
        batch.insert(&segment_key(segment_of(expected - 1)), segment);
    }
    store
        .journal
        .apply_batch(batch)
        .map_err(backend("upgrading the log"))
}

/// Drops the trees of layouts 1 and 2 and the head they kept in `meta`,
/// where they are still there.
pub(super) fn drop_legacy_trees(store: &SledStore) -> Result<(), StoreError> {
    let names = store.db.tree_names();
    let mut dropped = false;
    let legacy = [TREE_LOG, TREE_STREAMS, TREE_STREAM_HEADS, TREE_COMMANDS]
        .into_iter()
        .chain(LEGACY_PROJECTION_TREES);
    for name in legacy {
        if names.iter().any(|n| n.as_ref() == name.as_bytes()) {
            store
                .db
                .drop_tree(name)
                .map_err(backend("dropping an old layout's tree"))?;
            dropped = true;
        }
    }
    if store
        .meta
        .remove(META_HEAD)
        .map_err(backend("dropping the old head"))?
        .is_some()
    {
        dropped = true;
    }
    if dropped {
        store.flush()?;
    }
    Ok(())
}
