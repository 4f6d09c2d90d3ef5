//! The sled backend: the only code of the project that knows sled.
//!
//! Four trees (see [`layout`]): the log, an index by stream (whose last key
//! per stream is that stream's last version), the commands already
//! appended, and the head. An append writes all four in one sled
//! transaction, then flushes, then answers.
//! Appends are also serialized by a mutex of our own, so that the check of
//! the caller's position and the write are one step however sled schedules
//! its transactions.
//!
//! Projections live in the same database, in two trees of their own
//! (`projections.rs`); `ProjectionStore::append_projected` writes them in
//! the append's own transaction, with one flush for both.

mod layout;
mod projections;
mod reader;
mod unfinished;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use benefit_events::StreamId;
use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};
use sled::transaction::{abort, ConflictableTransactionError, TransactionError, Transactional};

use crate::encoding::{chain_hash, encode_body, frame, unframe};
use crate::projection_store::Project;
use crate::verify::ChainVerifier;
use crate::{
    ActedEvent, AppendRequest, Appended, AsOf, Break, BreakKind, ChainHash, Clock, Digest,
    EventStore, Events, StoreError, StoredEvent, VerifyReport, BATCH_EVENTS_MAX,
};
use layout::{
    parse_stream_key, parse_u64, seq_key, stream_key, stream_prefix, CommandEntry, Head,
    LAYOUT_VERSION, LAYOUT_WITH_STREAM_HEADS, META_HEAD, META_LAYOUT, PID_FILE, SLED_DATA_FILE,
    TREE_COMMANDS, TREE_LOG, TREE_META, TREE_STREAMS, TREE_STREAM_HEADS,
};
use reader::{LogReader, StreamReader};

/// sled's page cache, in bytes: plenty for a ledger of benefits, and a
/// bound on the memory the store may take.
///
/// Not smaller (measured, issue 6): 16 MiB lowered a 1 000 000-event
/// replay's peak (327 → 209 MiB on a much-replayed ledger, 271 → 219 MiB
/// in the bench) but cost a fifth of the import and multiplied raw sled's
/// single-command median by nine.
const CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// How the store configures sled for the database in `path` (the bench's
/// raw-sled engine uses the same, so that it measures the same engine).
///
/// `HighThroughput`: on the 100 000-event bench, two runs each, it imported
/// 21% faster (13 863 against 11 414 events/s), replayed 11% faster and had
/// a lower p99 than sled's default `LowSpace`, for the same bytes on disk.
/// The mode is not persisted by sled, so ledgers written under either mode
/// open under the other.
///
/// No background flusher (`flush_every_ms(None)`): every write path of the
/// store flushes before it answers (append, projection commit and reset,
/// layout), so sled's 500 ms timer only added flushes that competed with
/// them for the disk and the two cores. At 1 000 000 events the single
/// command's p99 went from 12.2 to 9.11 ms and import from 7 024 to 7 400
/// events/s (100 000 events, three runs: p99 6.6, 7.0 and 11.5 ms against
/// 9.5; import 12 944, 13 533 and 12 895 against 11 128).
pub fn sled_config(path: &Path) -> sled::Config {
    sled::Config::new()
        .path(path)
        .cache_capacity(CACHE_BYTES)
        .mode(sled::Mode::HighThroughput)
        .flush_every_ms(None)
}

/// An [`EventStore`] in a sled database in one directory.
pub struct SledStore {
    path: PathBuf,
    db: sled::Db,
    trees: Trees,
    clock: Box<dyn Clock>,
    append_lock: Mutex<()>,
}

struct Trees {
    log: sled::Tree,
    streams: sled::Tree,
    commands: sled::Tree,
    meta: sled::Tree,
    /// The projections' two trees, opened once with the others: reopening
    /// them on every read cost a lookup in sled's tree registry per call.
    projections: sled::Tree,
    projection_meta: sled::Tree,
}

impl Trees {
    fn open(db: &sled::Db) -> Result<Self, StoreError> {
        let open = |name: &str| {
            db.open_tree(name)
                .map_err(|e| StoreError::backend("opening the ledger's trees", e))
        };
        Ok(Self {
            log: open(TREE_LOG)?,
            streams: open(TREE_STREAMS)?,
            commands: open(TREE_COMMANDS)?,
            meta: open(TREE_META)?,
            projections: open(projections::TREE_PROJECTIONS)?,
            projection_meta: open(projections::TREE_PROJECTION_META)?,
        })
    }
}

impl std::fmt::Debug for SledStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SledStore {
    /// Opens the ledger in `path`, creating the directory (owner-only, 0700
    /// on unix) and an empty ledger if there is none. A directory that holds
    /// other files but no ledger is refused, so that a wrong path does not
    /// scatter database files among someone's documents.
    pub fn open(path: impl AsRef<Path>, clock: impl Clock + 'static) -> Result<Self, StoreError> {
        let path = path.as_ref();
        if path.exists() {
            if !path.join(SLED_DATA_FILE).is_file() && !is_empty_dir(path)? {
                return Err(StoreError::NoLedger {
                    path: path.to_path_buf(),
                    reason: "the directory is not empty and holds no ledger",
                });
            }
        } else {
            create_private_dir(path)?;
        }
        Self::open_dir(path, Box::new(clock), true)
    }

    /// Opens the ledger in `path`, which must exist: a read of a missing
    /// ledger is an error, not a new empty ledger.
    pub fn open_existing(
        path: impl AsRef<Path>,
        clock: impl Clock + 'static,
    ) -> Result<Self, StoreError> {
        let path = path.as_ref();
        let no_ledger = |reason| StoreError::NoLedger {
            path: path.to_path_buf(),
            reason,
        };
        if !path.is_dir() {
            return Err(no_ledger("no such directory"));
        }
        if !path.join(SLED_DATA_FILE).is_file() {
            return Err(no_ledger("the directory holds no ledger"));
        }
        Self::open_dir(path, Box::new(clock), false)
    }

    fn open_dir(path: &Path, clock: Box<dyn Clock>, create: bool) -> Result<Self, StoreError> {
        unfinished::remove_unfinished_snapshots(path)?;
        let db = sled_config(path).open().map_err(|e| open_error(path, e))?;
        let trees = Trees::open(&db)?;
        let store = Self {
            path: path.to_path_buf(),
            db,
            trees,
            clock,
            append_lock: Mutex::new(()),
        };
        store.check_layout(create)?;
        store.check_head()?;
        store.write_pid_file()?;
        Ok(store)
    }

    /// The ledger directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn check_layout(&self, create: bool) -> Result<(), StoreError> {
        let stored = self
            .trees
            .meta
            .get(META_LAYOUT)
            .map_err(|e| StoreError::backend("reading the layout version", e))?;
        match stored {
            Some(bytes) if bytes.as_ref() == LAYOUT_VERSION.to_be_bytes() => {
                // Finishes an upgrade that stopped after writing the layout.
                self.drop_stream_heads()
            }
            Some(bytes) if bytes.as_ref() == LAYOUT_WITH_STREAM_HEADS.to_be_bytes() => {
                // Layout 1 → 2: the layout first, then the tree, so that a
                // crash between leaves a layout-2 ledger (which an older
                // program refuses) with a tree nobody reads.
                self.trees
                    .meta
                    .insert(META_LAYOUT, &LAYOUT_VERSION.to_be_bytes())
                    .map_err(|e| StoreError::backend("upgrading the layout version", e))?;
                self.flush()?;
                self.drop_stream_heads()
            }
            Some(bytes) => Err(StoreError::UnsupportedLayout {
                path: self.path.clone(),
                found: match <[u8; 4]>::try_from(bytes.as_ref()) {
                    Ok(version) => u32::from_be_bytes(version).to_string(),
                    Err(_) => format!("of {} bytes", bytes.len()),
                },
                supported: LAYOUT_VERSION,
            }),
            None if create => {
                self.trees
                    .meta
                    .insert(META_LAYOUT, &LAYOUT_VERSION.to_be_bytes())
                    .map_err(|e| StoreError::backend("writing the layout version", e))?;
                self.flush()
            }
            None => Err(StoreError::NoLedger {
                path: self.path.clone(),
                reason: "the directory holds a database but no ledger",
            }),
        }
    }

    /// Removes layout 1's stream-heads tree, if it is there.
    fn drop_stream_heads(&self) -> Result<(), StoreError> {
        let present = self
            .db
            .tree_names()
            .iter()
            .any(|name| name.as_ref() == TREE_STREAM_HEADS.as_bytes());
        if present {
            self.db
                .drop_tree(TREE_STREAM_HEADS)
                .map_err(|e| StoreError::backend("dropping layout 1's stream heads", e))?;
            self.flush()?;
        }
        Ok(())
    }

    /// The last version of `stream` in the stream index (0 for a new
    /// stream). Read outside the append's transaction: appends are
    /// serialized by `append_lock` in this process and by sled's file lock
    /// across processes, and nothing else writes the index.
    fn last_version(&self, stream: &StreamId) -> Result<u64, StoreError> {
        let prefix = stream_prefix(stream.as_str());
        match self.trees.streams.scan_prefix(&prefix).next_back() {
            None => Ok(0),
            Some(item) => {
                let (key, _) =
                    item.map_err(|e| StoreError::backend("reading the stream index", e))?;
                parse_stream_key(&key)
                    .filter(|(name, _)| *name == stream.as_str())
                    .map(|(_, version)| version)
                    .ok_or_else(|| {
                        index_break(0, format!("a stream index key of {stream}"), "another key")
                    })
            }
        }
    }

    /// A cheap check on open: the head names the last record of the log and
    /// its hash. The full walk is [`EventStore::verify`].
    fn check_head(&self) -> Result<(), StoreError> {
        let head = self.stored_head()?;
        let last = self
            .trees
            .log
            .last()
            .map_err(|e| StoreError::backend("reading the end of the log", e))?;
        let found = match &last {
            None => Digest::EMPTY,
            Some((key, value)) => {
                let seq = parse_u64(key).unwrap_or(0);
                let hash = unframe(value).map_or(ChainHash::GENESIS, |(hash, _)| hash);
                Digest { seq, hash }
            }
        };
        let expected = head.map_or(Digest::EMPTY, |h| h.digest());
        if found != expected {
            return Err(Break::new(
                expected.seq.max(found.seq),
                BreakKind::Index,
                format!("the log to end at the head {expected}"),
                format!("a log that ends at {found}"),
            )
            .into());
        }
        Ok(())
    }

    fn stored_head(&self) -> Result<Option<Head>, StoreError> {
        let bytes = self
            .trees
            .meta
            .get(META_HEAD)
            .map_err(|e| StoreError::backend("reading the head", e))?;
        bytes
            .map(|bytes| Head::decode(&bytes).ok_or_else(|| bad_head(bytes.len())))
            .transpose()
    }

    fn write_pid_file(&self) -> Result<(), StoreError> {
        let path = self.path.join(PID_FILE);
        fs::write(&path, format!("{}\n", std::process::id())).map_err(|source| StoreError::Io {
            action: "writing the pid file",
            path,
            source,
        })
    }

    /// Closes the store for a process that is about to exit: flushes,
    /// removes the pid file, and leaves sled's in-memory page table and
    /// threads to the operating system instead of tearing them down.
    ///
    /// Everything written is durable before this returns; what is skipped
    /// is only sled's own drop, which on a 1 000 000-event ledger took
    /// 65-180 ms of a CLI call (freeing the page table it built at open,
    /// joining its flusher). The file lock is released when the process
    /// exits. Not for a process that goes on working: the memory stays
    /// allocated and the ledger stays locked until exit.
    pub fn close_for_exit(self) -> Result<(), StoreError> {
        self.flush()?;
        let _ = fs::remove_file(self.path.join(PID_FILE));
        std::mem::forget(self);
        Ok(())
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db
            .flush()
            .map(|_| ())
            .map_err(|e| StoreError::backend("flushing to disk", e))
    }

    /// The record at `seq`, decoded and its hash checked; an error if there
    /// is none.
    fn record_at(&self, seq: u64) -> Result<StoredEvent, StoreError> {
        let value = self
            .trees
            .log
            .get(seq_key(seq))
            .map_err(|e| StoreError::backend("reading the log", e))?
            .ok_or_else(|| Break::new(seq, BreakKind::Index, "a record", "none"))?;
        reader::decode_record(seq, &value)
    }

    /// The append's one transaction; with `project`, the projection
    /// documents it computes from the new records and the checkpoint are
    /// written in the same transaction (see
    /// [`ProjectionStore::append_projected`]).
    /// An append, with or without projection writes: checked, serialized,
    /// one transaction, one flush.
    pub(crate) fn append_flushed(
        &self,
        request: &AppendRequest,
        project: Option<Project<'_>>,
    ) -> Result<Appended, StoreError> {
        if request.events.is_empty() {
            return Err(StoreError::EmptyBatch);
        }
        if request.events.len() > BATCH_EVENTS_MAX {
            return Err(StoreError::BatchTooLarge {
                events: request.events.len(),
                max: BATCH_EVENTS_MAX,
            });
        }
        let fingerprint = fingerprint(request);
        let now = truncate_to_micros(self.clock.now());
        // A poisoned lock only means another append panicked; the
        // transaction it was in did not commit, so the data is intact.
        let _guard = self
            .append_lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let appended = self.append_transaction(request, fingerprint, now, project)?;
        // Durability: answer only once the batch is on disk. A repeat
        // flushes too, in case the original call failed at this step.
        self.flush()?;
        Ok(appended)
    }

    fn append_transaction(
        &self,
        request: &AppendRequest,
        fingerprint: ChainHash,
        now: DateTime<Utc>,
        project: Option<Project<'_>>,
    ) -> Result<Appended, StoreError> {
        let t = &self.trees;
        // Each stream's last version before this batch (see `last_version`).
        let mut last_versions: HashMap<StreamId, u64> = HashMap::new();
        for ActedEvent { event, .. } in &request.events {
            let stream = event.stream();
            if let std::collections::hash_map::Entry::Vacant(slot) = last_versions.entry(stream) {
                let last = self.last_version(slot.key())?;
                slot.insert(last);
            }
        }
        let trees = (
            &t.log,
            &t.streams,
            &t.commands,
            &t.meta,
            &t.projections,
            &t.projection_meta,
        );
        let result = trees.transaction(|trees| {
            let (log, streams, commands, meta, docs, docs_meta) = trees;
            let command_key = request.command_id.as_bytes();
            if let Some(bytes) = commands.get(command_key)? {
                let entry = CommandEntry::decode(&bytes).ok_or_else(|| {
                    ConflictableTransactionError::Abort(StoreError::from(Break::new(
                        0,
                        BreakKind::Index,
                        "a command entry",
                        format!("{} bytes under command {}", bytes.len(), request.command_id),
                    )))
                })?;
                if entry.fingerprint != fingerprint {
                    return abort(StoreError::CommandIdReused {
                        command_id: request.command_id,
                    });
                }
                return Ok(entry.repeated());
            }
            let head = match meta.get(META_HEAD)? {
                Some(bytes) => match Head::decode(&bytes) {
                    Some(head) => Some(head),
                    None => return abort(bad_head(bytes.len())),
                },
                None => None,
            };
            let (head_seq, mut prev_hash) =
                head.map_or((0, ChainHash::GENESIS), |h| (h.seq, h.hash));
            if request.expected != head_seq {
                return abort(StoreError::Conflict {
                    expected: request.expected,
                    actual: head_seq,
                });
            }
            // Recorded-at never goes backwards along the log, whatever the
            // clock does, so that an as-of-time read is a prefix of the log.
            let recorded_at = head.map_or(now, |h| h.recorded_at.max(now));
            if project.is_some() {
                let checkpoint = match projections::checkpoint_in(docs_meta)? {
                    Ok(c) => c,
                    Err(e) => return abort(e),
                };
                if checkpoint != head_seq {
                    // The projections lag the log: they must catch up first.
                    return abort(StoreError::Conflict {
                        expected: head_seq,
                        actual: checkpoint,
                    });
                }
            }
            let mut versions: HashMap<StreamId, u64> = HashMap::new();
            let mut records = Vec::new();
            let mut seq = head_seq;
            for (index, ActedEvent { actor, event }) in request.events.iter().enumerate() {
                seq += 1;
                let stream = event.stream();
                let version = match versions.get(&stream) {
                    Some(last) => last + 1,
                    None => last_versions.get(&stream).copied().unwrap_or(0) + 1,
                };
                versions.insert(stream.clone(), version);
                let mut record = StoredEvent {
                    seq,
                    stream_version: version,
                    event_id: StoredEvent::derive_event_id(&request.command_id, index as u64),
                    command_id: request.command_id,
                    recorded_at,
                    actor: actor.clone(),
                    event: event.clone(),
                    prev_hash,
                    hash: ChainHash::GENESIS,
                    stream,
                };
                let body = encode_body(&record).map_err(|source| {
                    ConflictableTransactionError::Abort(StoreError::Encode { index, source })
                })?;
                let hash = chain_hash(&prev_hash, &body);
                log.insert(&seq_key(seq), frame(&hash, &body))?;
                streams.insert(stream_key(record.stream.as_str(), version), &seq_key(seq))?;
                prev_hash = hash;
                if project.is_some() {
                    record.hash = hash;
                    records.push(record);
                }
            }
            if let Some(project) = project {
                let writes = match project(&records, &projections::InTransaction(docs)) {
                    Ok(writes) => writes,
                    Err(e) => return abort(e),
                };
                for (key, value) in &writes {
                    docs.insert(key.as_bytes(), value.as_slice())?;
                }
                projections::set_checkpoint_in(docs_meta, seq)?;
            }
            let appended = Appended {
                first: head_seq + 1,
                last: seq,
                head: Digest {
                    seq,
                    hash: prev_hash,
                },
                recorded_at,
                repeat: false,
            };
            commands.insert(
                command_key,
                CommandEntry::new(&appended, fingerprint).encode(),
            )?;
            let new_head = Head {
                seq,
                hash: prev_hash,
                recorded_at,
            };
            meta.insert(META_HEAD, new_head.encode())?;
            Ok(appended)
        });
        match result {
            Ok(appended) => Ok(appended),
            Err(TransactionError::Abort(error)) => Err(error),
            Err(TransactionError::Storage(error)) => Err(StoreError::backend("appending", error)),
        }
    }

    /// Checks the indexes against the log, after the chain walk: every
    /// stream-index entry points at a record of that stream and version, and
    /// there is one per event; every command entry names the records its
    /// command wrote.
    fn verify_indexes(&self, verifier: &ChainVerifier, batches: u64) -> Result<(), StoreError> {
        let report = verifier.report();
        let head = self.stored_head()?.map_or(Digest::EMPTY, |h| h.digest());
        if head != report.head {
            return Err(index_break(
                report.head.seq,
                format!("head {}", report.head),
                format!("head {head}"),
            ));
        }
        let mut entries = 0u64;
        for item in self.trees.streams.iter() {
            let (key, value) =
                item.map_err(|e| StoreError::backend("reading the stream index", e))?;
            let Some((stream, version)) = parse_stream_key(&key) else {
                return Err(index_break(
                    0,
                    "a stream index key",
                    format!("{} bytes", key.len()),
                ));
            };
            let Some(seq) = parse_u64(&value) else {
                return Err(index_break(
                    0,
                    format!("a sequence for {stream} version {version}"),
                    format!("{} bytes", value.len()),
                ));
            };
            let record = self.record_at(seq)?;
            if record.stream.as_str() != stream || record.stream_version != version {
                return Err(index_break(
                    seq,
                    format!("{stream} version {version}"),
                    format!("{} version {}", record.stream, record.stream_version),
                ));
            }
            entries += 1;
        }
        if entries != report.events {
            return Err(index_break(
                report.head.seq,
                format!("{} stream index entries", report.events),
                entries,
            ));
        }
        // Each stream's versions run 1, 2, ... (the chain walk checks each
        // record's version against the one before it in its stream); the
        // index has one entry per event, each naming its record: so the
        // last key of a stream's prefix is its last version.
        let mut commands = 0u64;
        for item in self.trees.commands.iter() {
            let (key, value) = item.map_err(|e| StoreError::backend("reading the commands", e))?;
            let entry = CommandEntry::decode(&value).ok_or_else(|| {
                index_break(0, "a command entry", format!("{} bytes", value.len()))
            })?;
            let first = self.record_at(entry.first)?;
            let last = self.record_at(entry.last)?;
            if first.command_id.as_bytes() != key.as_ref()
                || last.command_id.as_bytes() != key.as_ref()
                || last.hash != entry.hash
            {
                return Err(index_break(
                    entry.first,
                    format!("the records of command {}", first.command_id),
                    "records of another command",
                ));
            }
            commands += 1;
        }
        if commands != batches {
            return Err(index_break(
                report.head.seq,
                format!("{batches} command entries"),
                commands,
            ));
        }
        Ok(())
    }
}

impl EventStore for SledStore {
    fn append(&self, request: AppendRequest) -> Result<Appended, StoreError> {
        self.append_flushed(&request, None)
    }

    fn head(&self) -> Result<Digest, StoreError> {
        Ok(self.stored_head()?.map_or(Digest::EMPTY, |h| h.digest()))
    }

    fn read_from(&self, from: u64) -> Events<'_> {
        let from = from.max(1);
        Box::new(LogReader::new(
            self.trees.log.range(seq_key(from)..),
            from,
            None,
        ))
    }

    fn read_as_of(&self, as_of: AsOf) -> Events<'_> {
        match as_of {
            AsOf::Sequence(seq) => Box::new(LogReader::new(
                self.trees.log.range(..=seq_key(seq)),
                1,
                None,
            )),
            AsOf::RecordedAt(at) => Box::new(LogReader::new(self.trees.log.iter(), 1, Some(at))),
        }
    }

    fn read_stream(&self, stream: &StreamId) -> Events<'_> {
        Box::new(StreamReader::new(
            &self.trees.streams,
            &self.trees.log,
            stream,
        ))
    }

    fn verify(&self) -> Result<VerifyReport, StoreError> {
        let mut verifier = ChainVerifier::new();
        let mut batches = 0u64;
        let mut last_command = None;
        for item in self.trees.log.iter() {
            let (key, value) = item.map_err(|e| StoreError::backend("reading the log", e))?;
            let next = verifier.next_seq();
            let seq = parse_u64(&key).ok_or_else(|| {
                Break::new(
                    next,
                    BreakKind::Contiguity,
                    next,
                    format!("a key of {} bytes", key.len()),
                )
            })?;
            let (hash, body) =
                unframe(&value).map_err(|e| Break::new(seq, BreakKind::Decoding, "a record", e))?;
            let record = verifier.check(seq, hash, body)?;
            if last_command != Some(record.command_id) {
                batches += 1;
                last_command = Some(record.command_id);
            }
        }
        self.verify_indexes(&verifier, batches)?;
        Ok(verifier.report())
    }
}

impl Drop for SledStore {
    fn drop(&mut self) {
        // The lock is still held here (the database closes after this), so
        // the file removed is ours. A failure leaves a stale file, which the
        // next open overwrites.
        let _ = fs::remove_file(self.path.join(PID_FILE));
    }
}

fn index_break(seq: u64, expected: impl ToString, found: impl ToString) -> StoreError {
    Break::new(seq, BreakKind::Index, expected, found).into()
}

fn bad_head(bytes: usize) -> StoreError {
    index_break(0, "a head of 48 bytes", format!("{bytes} bytes"))
}

/// A SHA-256 of what a request asks to store, so that a retry with the same
/// command id can be told from a different batch reusing it.
fn fingerprint(request: &AppendRequest) -> ChainHash {
    let mut hasher = Sha256::new();
    let mut part = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    };
    for ActedEvent { actor, event } in &request.events {
        part(actor.user.as_str().as_bytes());
        part(actor.role.as_str().as_bytes());
        part(&event.to_json());
    }
    ChainHash(hasher.finalize().into())
}

fn truncate_to_micros(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(at.timestamp_micros()).unwrap_or(at)
}

fn open_error(path: &Path, error: sled::Error) -> StoreError {
    if let sled::Error::Io(io) = &error {
        // sled 0.34 reports a held lock as an `Io` error with this text
        // (config.rs, `try_lock`); there is no error kind to match instead.
        if io.to_string().contains("could not acquire lock") {
            return StoreError::InUse {
                path: path.to_path_buf(),
                pid: read_pid(path),
            };
        }
    }
    StoreError::backend("opening the ledger", error)
}

fn read_pid(path: &Path) -> Option<u32> {
    let text = fs::read_to_string(path.join(PID_FILE)).ok()?;
    text.trim().parse().ok()
}

fn is_empty_dir(path: &Path) -> Result<bool, StoreError> {
    let mut entries = fs::read_dir(path).map_err(|source| StoreError::Io {
        action: "reading the ledger directory",
        path: path.to_path_buf(),
        source,
    })?;
    Ok(entries.next().is_none())
}

fn create_private_dir(path: &Path) -> Result<(), StoreError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path).map_err(|source| StoreError::Io {
        action: "creating the ledger directory",
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests;
