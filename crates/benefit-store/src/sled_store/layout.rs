//! Every name, key and value format the sled backend writes, in one place
//! (described for auditors in `docs/storage.md`). Integers are big-endian so
//! that sled's byte order is numeric order.

use chrono::{DateTime, Utc};

use crate::{Appended, ChainHash, Digest};

/// The version of this layout, stored under [`META_LAYOUT`]. A ledger with
/// a newer layout is refused rather than misread; layout 1 is upgraded in
/// place when opened (see `SledStore::check_layout`).
///
/// - 1: as 2, plus [`TREE_STREAM_HEADS`], stream name → last version.
/// - 2: no stream-heads tree: a stream's last version is the last key of
///   its prefix in [`TREE_STREAMS`]. One sled key fewer per event (issue 6:
///   sled's per-key insert was most of an import), and nothing that can
///   disagree with the index.
pub(super) const LAYOUT_VERSION: u32 = 2;

/// The layout before [`LAYOUT_VERSION`] 2.
pub(super) const LAYOUT_WITH_STREAM_HEADS: u32 = 1;

/// `seq` → record (hash ‖ body, see [`crate::encoding::frame`]).
pub(super) const TREE_LOG: &str = "log";
/// `stream key` → `seq`: the index by stream.
pub(super) const TREE_STREAMS: &str = "streams";
/// Layout 1 only: stream name → last stream version. Dropped by the
/// upgrade to layout 2.
pub(super) const TREE_STREAM_HEADS: &str = "stream_heads";
/// command id → what its append stored ([`CommandEntry`]).
pub(super) const TREE_COMMANDS: &str = "commands";
/// [`META_LAYOUT`] and [`META_HEAD`].
pub(super) const TREE_META: &str = "meta";

/// Key of the layout version (`u32`).
pub(super) const META_LAYOUT: &[u8] = b"layout";
/// Key of the head ([`Head`]); absent while the log is empty.
pub(super) const META_HEAD: &[u8] = b"head";

/// The file, inside the ledger directory, where the process holding the
/// ledger writes its id, so that a second process can name it.
pub(super) const PID_FILE: &str = "ledger.pid";
/// sled's data file: its presence tells a ledger directory from any other.
pub(super) const SLED_DATA_FILE: &str = "db";

/// The key of sequence `seq` in [`TREE_LOG`].
pub(super) fn seq_key(seq: u64) -> [u8; 8] {
    seq.to_be_bytes()
}

/// A sequence (or any `u64`) from its 8 big-endian bytes.
pub(super) fn parse_u64(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

/// The prefix of every [`TREE_STREAMS`] key of a stream: the name's length
/// (`u32`) and the name. The length keeps `user/a` from being a prefix of
/// `user/ab`.
pub(super) fn stream_prefix(stream: &str) -> Vec<u8> {
    let name = stream.as_bytes();
    let len = u32::try_from(name.len()).unwrap_or(u32::MAX);
    let mut key = Vec::with_capacity(4 + name.len() + 8);
    key.extend_from_slice(&len.to_be_bytes());
    key.extend_from_slice(name);
    key
}

/// The [`TREE_STREAMS`] key of version `version` of a stream.
pub(super) fn stream_key(stream: &str, version: u64) -> Vec<u8> {
    let mut key = stream_prefix(stream);
    key.extend_from_slice(&version.to_be_bytes());
    key
}

/// The stream name and version of a [`TREE_STREAMS`] key.
pub(super) fn parse_stream_key(key: &[u8]) -> Option<(&str, u64)> {
    let (len, rest) = key.split_at_checked(4)?;
    let len = usize::try_from(u32::from_be_bytes(len.try_into().ok()?)).ok()?;
    let (name, version) = rest.split_at_checked(len)?;
    Some((std::str::from_utf8(name).ok()?, parse_u64(version)?))
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

    pub fn digest(&self) -> Digest {
        Digest {
            seq: self.seq,
            hash: self.hash,
        }
    }

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
    fn stream_keys_sort_by_version_within_a_stream_and_parse_back() {
        let k1 = stream_key("user/a@x.io", 1);
        let k2 = stream_key("user/a@x.io", 2);
        let k256 = stream_key("user/a@x.io", 256);
        assert!(k1 < k2 && k2 < k256);
        assert!(k1.starts_with(&stream_prefix("user/a@x.io")));
        assert!(!stream_key("user/ab@x.io", 1).starts_with(&stream_prefix("user/a@x.io")));
        assert_eq!(parse_stream_key(&k256), Some(("user/a@x.io", 256)));
        assert_eq!(parse_stream_key(&k256[..k256.len() - 1]), None);
    }

    #[test]
    fn sequence_keys_sort_numerically() {
        assert!(seq_key(255) < seq_key(256));
        assert!(seq_key(1) < seq_key(u64::MAX));
        assert_eq!(parse_u64(&seq_key(42)), Some(42));
    }
}
