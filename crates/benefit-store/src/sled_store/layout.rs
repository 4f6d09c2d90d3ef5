//! Every name, key and value format the sled backend writes, in one place
//! (described for auditors in `docs/storage.md`). Integers are big-endian so
//! that sled's byte order is numeric order.

use chrono::{DateTime, Utc};

use crate::{Appended, ChainHash, Digest};

/// The version of this layout, stored under [`META_LAYOUT`]. A ledger with
/// a newer layout is refused rather than misread; layouts 1 to 5 are
/// upgraded on open (`upgrade.rs`, and a layout-5 version rewritten).
///
/// - 1: as 2, plus `stream_heads`, stream name → last version.
/// - 2: no stream-heads tree: a stream's last version is the last key of
///   its prefix in `streams`. One sled key fewer per event (issue 6:
///   sled's per-key insert was most of an import), and nothing that can
///   disagree with the index.
/// - 3: the log alone in one tree, [`TREE_JOURNAL`]: records packed into
///   segments, the head and the command ids, all written by one
///   `apply_batch` per append (issue 11). The stream index and every
///   projection are derived documents in `documents.{n}` trees. Layouts 1 and
///   2 are upgraded in place on open (`upgrade.rs`), record bytes unchanged.
/// - 4: the log's database in [`LOG_DIR`], holding the journal and `meta`
///   alone, and each documents generation a sled database of its own, in
///   [`PROJECTIONS_DIR_PREFIX`]`{n}`, both inside the ledger directory. A
///   reset removes the old generation's directory instead of its keys one
///   by one (a third of a 1 000 000-event replay, measured), and no reset
///   leaves free space in the log's file, which sled zeroes at every open.
///   Layouts 1 to 3 kept one database in the ledger directory itself: its
///   log is copied into `log/` on open and its files removed
///   (`upgrade.rs`); the documents are caught up again from the log.
/// - 5: the log's database in [`JOURNAL_DIR`], written with sled segments
///   of [`super::LOG_SEGMENT_BYTES`], so that a leaf of the journal
///   (segments up to about 30 KiB) is not written as a blob file, which
///   sled's cache counts as a few bytes and never evicts: a long read of a
///   layout-4 log kept all of it in memory
///   (`docs/performance.md`, the eleventh round). sled refuses to open a
///   database with another segment size than it was created with, so a
///   layout-4 log is copied into `journal/` on open, its bytes unchanged,
///   and its documents generation kept (`upgrade.rs`).
/// - 6: as 5, and a documents generation that a replay or a repair wrote
///   holds its documents in pages ([`PAGE_PREFIX`], `pages.rs`), marked by
///   [`DOCUMENTS_PACKED`]; later commits are single keys read over them. A
///   program of layout 5 would not see the paged documents, and would
///   decide on a decision state it took as absent, so it must refuse such
///   a ledger. A layout-5 ledger is a layout-6 one without pages: its
///   version is rewritten on open, nothing else.
pub(super) const LAYOUT_VERSION: u32 = 6;

/// Layout 5: the log in [`JOURNAL_DIR`], every document one sled key.
pub(super) const LAYOUT_UNPAGED_DOCUMENTS: u32 = 5;

/// Layout 4: the log's database in [`LOG_DIR`], sled's default segments.
pub(super) const LAYOUT_LOG_DIR: u32 = 4;

/// Layout 3: the log packed in one tree, the documents in trees of the
/// same database (`documents.{n}`), in the ledger directory itself.
pub(super) const LAYOUT_DOCUMENTS_TREES: u32 = 3;

/// Layout 4: the directory of the log's database, inside the ledger
/// directory.
pub(super) const LOG_DIR: &str = "log";

/// Layout 5: the directory of the log's database, inside the ledger
/// directory.
pub(super) const JOURNAL_DIR: &str = "journal";

#[cfg(test)]
/// Layout 2: one key per record in `log`, a stream index, a commands tree,
/// the head in `meta`, projections in their own two trees.
pub(super) const LAYOUT_PER_RECORD_KEYS: u32 = 2;

/// The layout before [`LAYOUT_VERSION`] 2.
pub(super) const LAYOUT_WITH_STREAM_HEADS: u32 = 1;

/// Layout 3: segments, the head and the command ids (see the key
/// functions below).
pub(super) const TREE_JOURNAL: &str = "journal";
/// Layout 4: the prefix of a documents generation's directory,
/// `projections.{n}` for generation `n` ([`META_DOCUMENTS_GENERATION`]),
/// inside the ledger directory: a sled database whose default tree holds
/// the projection documents and their checkpoint.
pub(super) const PROJECTIONS_DIR_PREFIX: &str = "projections.";
/// [`TREE_META`]: the current documents generation (u64; absent: 0).
pub(super) const META_DOCUMENTS_GENERATION: &[u8] = b"documents-generation";

/// [`TREE_JOURNAL`]: the prefix of a segment key (then its number, u64).
pub(super) const JOURNAL_SEGMENT: u8 = b'L';
/// [`TREE_JOURNAL`]: the key of the head ([`Head`]); absent while empty.
pub(super) const JOURNAL_HEAD: &[u8] = b"H";
/// [`TREE_JOURNAL`]: the prefix of a command id's key (then its 16 bytes).
pub(super) const JOURNAL_COMMAND: u8 = b'C';

/// A documents tree: the prefix of every document's key.
pub(super) const DOCUMENT_PREFIX: u8 = b'D';
/// A documents tree: the prefix of a page of documents (then the key of
/// its first document; see `pages.rs`): in a scratch store, and in a
/// ledger's generation that a replace wrote ([`DOCUMENTS_PACKED`]).
pub(super) const PAGE_PREFIX: u8 = b'P';
/// A documents tree whose documents a replace wrote in pages: how many
/// documents the pages hold (u64); absent where every document is a key of
/// its own.
pub(super) const DOCUMENTS_PACKED: &[u8] = b"Mpacked";
/// A ledger's documents tree: how many single documents its commits have
/// written since it was started or packed (u64; absent: 0), what decides
/// when it is packed again (`documents.rs`).
pub(super) const DOCUMENTS_SINGLES: &[u8] = b"Msingles";
/// A documents tree: the checkpoint (u64).
pub(super) const DOCUMENTS_CHECKPOINT: &[u8] = b"Mcheckpoint";

/// The [`TREE_JOURNAL`] key of segment `n`.
pub(super) fn segment_key(n: u64) -> [u8; 9] {
    let mut key = [JOURNAL_SEGMENT; 9];
    key[1..].copy_from_slice(&n.to_be_bytes());
    key
}

/// The segment number of a [`TREE_JOURNAL`] segment key.
pub(super) fn parse_segment_key(key: &[u8]) -> Option<u64> {
    match key.split_first() {
        Some((&JOURNAL_SEGMENT, n)) => parse_u64(n),
        _ => None,
    }
}

/// The [`TREE_JOURNAL`] key of a command id.
pub(super) fn command_key(id: &uuid::Uuid) -> [u8; 17] {
    let mut key = [JOURNAL_COMMAND; 17];
    key[1..].copy_from_slice(id.as_bytes());
    key
}

/// The key of a document in a documents tree.
pub(super) fn document_key(key: &str) -> Vec<u8> {
    tagged(DOCUMENT_PREFIX, key)
}

/// `tag` then `key`'s bytes.
fn tagged(tag: u8, key: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + key.len());
    out.push(tag);
    out.extend_from_slice(key.as_bytes());
    out
}

/// The key of the page whose first document is under `first`.
pub(super) fn page_key(first: &str) -> Vec<u8> {
    tagged(PAGE_PREFIX, first)
}

/// Layouts 1 and 2: `seq` → record (hash ‖ body, see
/// [`crate::encoding::frame`]).
pub(super) const TREE_LOG: &str = "log";
// Layouts 1 and 2 also held `streams` (`stream key` → `seq`, the index by
// stream) and the projections' `projections` and `projection_meta`;
// layout 1 also `stream_heads` (stream name → last stream version). None
// is read: they are left behind with the old database's file.
/// Layouts 1 and 2: command id → what its append stored ([`CommandEntry`]).
pub(super) const TREE_COMMANDS: &str = "commands";
/// [`META_LAYOUT`] (and, in layouts 1 and 2, [`META_HEAD`]).
pub(super) const TREE_META: &str = "meta";

/// Key of the layout version (`u32`).
pub(super) const META_LAYOUT: &[u8] = b"layout";
/// Layouts 1 and 2: key of the head ([`Head`]); absent while empty.
pub(super) const META_HEAD: &[u8] = b"head";

/// The file, inside the ledger directory, where the process holding the
/// ledger writes its id, so that a second process can name it.
pub(super) const PID_FILE: &str = "ledger.pid";
/// sled's data file: its presence tells a ledger directory from any other.
pub(super) const SLED_DATA_FILE: &str = "db";

/// The key of sequence `seq` in [`TREE_LOG`] (layouts 1 and 2).
#[cfg(test)]
pub(super) fn seq_key(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

/// A sequence (or any `u64`) from its 8 big-endian bytes.
pub(super) fn parse_u64(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

fn micros(at: DateTime<Utc>) -> [u8; 8] {
    at.timestamp_micros().to_be_bytes()
}

fn parse_micros(bytes: &[u8]) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(i64::from_be_bytes(bytes.try_into().ok()?))
}

/// The end of the log: `seq (8) ‖ hash (32) ‖ recorded_at µs (i64, 8)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Head {
    pub seq: u64,
    pub hash: ChainHash,
    pub recorded_at: DateTime<Utc>,
}

impl Head {
    const BYTES: usize = 8 + 32 + 8;

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::BYTES);
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.hash.0);
        out.extend_from_slice(&micros(self.recorded_at));
        out
    }

    pub fn decode(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != Self::BYTES {
            return None;
        }
        Some(Self {
            seq: parse_u64(&bytes[0..8])?,
            hash: ChainHash(bytes[8..40].try_into().ok()?),
            recorded_at: parse_micros(&bytes[40..48])?,
        })
    }
}

/// What one command appended: `first (8) ‖ last (8) ‖ hash of last (32) ‖
/// recorded_at µs (8) ‖ fingerprint (32)`. The fingerprint is a SHA-256 of
/// the request's actor and events; a retry must match it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct CommandEntry {
    pub first: u64,
    pub last: u64,
    pub hash: ChainHash,
    pub recorded_at: DateTime<Utc>,
    pub fingerprint: ChainHash,
}

impl CommandEntry {
    const BYTES: usize = 8 + 8 + 32 + 8 + 32;

    pub fn new(appended: &Appended, fingerprint: ChainHash) -> Self {
        Self {
            first: appended.first,
            last: appended.last,
            hash: appended.head.hash,
            recorded_at: appended.recorded_at,
            fingerprint,
        }
    }

    /// The original result of the command, flagged as a repeat.
    pub fn repeated(&self) -> Appended {
        Appended {
            first: self.first,
            last: self.last,
            head: Digest {
                seq: self.last,
                hash: self.hash,
            },
            recorded_at: self.recorded_at,
            repeat: true,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(Self::BYTES);
        out.extend_from_slice(&self.first.to_be_bytes());
        out.extend_from_slice(&self.last.to_be_bytes());
        out.extend_from_slice(&self.hash.0);
        out.extend_from_slice(&micros(self.recorded_at));
        out.extend_from_slice(&self.fingerprint.0);
        out
    }

    pub fn decode(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != Self::BYTES {
            return None;
        }
        Some(Self {
            first: parse_u64(&bytes[0..8])?,
            last: parse_u64(&bytes[8..16])?,
            hash: ChainHash(bytes[16..48].try_into().ok()?),
            recorded_at: parse_micros(&bytes[48..56])?,
            fingerprint: ChainHash(bytes[56..88].try_into().ok()?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_keys_sort_numerically() {
        assert!(seq_key(255) < seq_key(256));
        assert!(seq_key(1) < seq_key(u64::MAX));
        assert_eq!(parse_u64(&seq_key(42)), Some(42));
    }
}
