//! The sled backend: the only code of the project that knows sled.
//!
//! The log is one tree ([`layout::TREE_JOURNAL`]): records packed into
//! segments of [`SEGMENT_RECORDS`], the head, and the command ids. An append
//! is staged under the append lock ([`crate::staging`]) and committed as one
//! `apply_batch` on that tree (the touched segments, the head and the command
//! entry), then one flush. No multi-tree transaction: in sled 0.34 those take
//! the same global lock and stage every write in memory before applying it
//! key by key (`../shared/storage-notes.md`).
//!
//! Derived documents (projections, decision state, the stream index) live in
//! a sled database of their own (`projections.{n}` in the ledger directory,
//! see `documents.rs`), written by a separate `apply_batch` that carries
//! their checkpoint. The log's code never reads or writes it.

mod documents;
mod flusher;
mod layout;
mod pages;
mod reader;
mod scratch;
mod unfinished;
mod upgrade;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use uuid::Uuid;

use crate::encoding::{chain_hash, decode, pack_record, segment_of, unpack_segment};
use crate::staging::{check_size, repeat_of, stage_records, Head, StagedBatch};
use crate::verify::ChainVerifier;
use crate::Reporter;
use crate::{
    AppendRequest, Appended, AsOf, Break, BreakKind, Clock, Digest, EventStore, Events,
    StagedAppend, Staging, StoreError, StoredCommand, StoredEvent, VerifyReport, SEGMENT_RECORDS,
};
use flusher::{flush_within_limit, Flusher};
use layout::{
    command_key, parse_segment_key, segment_key, CommandEntry, Head as StoredHead, JOURNAL_COMMAND,
    JOURNAL_DIR, JOURNAL_HEAD, JOURNAL_SEGMENT, LAYOUT_VERSION, LOG_DIR, META_LAYOUT, PID_FILE,
    SLED_DATA_FILE, TREE_JOURNAL, TREE_META,
};
use reader::SegmentReader;
pub use scratch::ScratchDocuments;

/// sled's page cache, in bytes: plenty for a ledger of benefits, and a
/// bound on the memory the store may take.
///
/// Not smaller (measured, issue 6): 16 MiB lowered a 1 000 000-event
/// replay's peak but cost a fifth of the import and multiplied raw sled's
/// single-command median by nine.
const CACHE_BYTES: u64 = 64 * 1024 * 1024;

/// How long a flush may wait in an idle process before the disk is taken
/// to have stalled ([`StoreError::Stalled`]; a process that keeps working
/// waits longer, `flusher.rs`). sled 0.34's flush waits for ever when the
/// disk fails a write under it (a full disk: its I/O thread records the
/// error, the waiter never wakes; issue 13). 5 s is far above a flush of
/// the largest batch measured here (a 100 000-event import flushes in well
/// under a second) and leaves an append on a filling disk room to answer
/// within 10 s.
pub const FLUSH_STALL_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

/// How the store configures sled for the database in `path` (the log's
/// adds larger segments, [`log_config`], which the bench's raw-sled engine
/// uses, so that it measures the same engine).
///
/// `HighThroughput`: on the 100 000-event bench it imported 21% faster than
/// sled's default `LowSpace`, for the same bytes on disk. The mode is not
/// persisted by sled, so ledgers written under either mode open under the
/// other. No background flusher (`flush_every_ms(None)`): every write path
/// of the store flushes before it answers, so sled's timer only added
/// flushes that competed with them (issue 6).
pub fn sled_config(path: &Path) -> sled::Config {
    sled::Config::new()
        .path(path)
        .cache_capacity(CACHE_BYTES)
        .mode(sled::Mode::HighThroughput)
        .flush_every_ms(None)
}

/// sled's segment size for the log's database, in bytes (sled's default,
/// which the documents keep, is 512 KiB).
///
/// sled writes a page larger than a quarter of a segment as a blob file of
/// its own, and its cache counts such a page as the few bytes of its
/// pointer, so it is never evicted. A journal leaf holds up to 17 segments
/// of about 16 KiB (`SEGMENT_RECORDS`), past 128 KiB: under the default, a
/// 1 000 000-event log was 1 502 blob files, and a replay, which reads it
/// once, kept all of it in memory (about 290 MiB, `heaptrack`). A quarter
/// of 2 MiB, 512 KiB, holds a leaf of segments of up to 30 KiB
/// (`docs/performance.md`, the eleventh round).
pub const LOG_SEGMENT_BYTES: usize = 2 * 1024 * 1024;

/// How the store configures sled for the log's database in `path`: as
/// [`sled_config`], with segments of [`LOG_SEGMENT_BYTES`].
pub fn log_config(path: &Path) -> sled::Config {
    sled_config(path).segment_size(LOG_SEGMENT_BYTES)
}

/// An [`EventStore`] (and a [`crate::ProjectionStore`]) in a sled database
/// in one directory.
pub struct SledStore {
    path: PathBuf,
    /// The log's trees (its database is held by them and by the flusher).
    journal: sled::Tree,
    /// The current generation's documents database and how it holds them
    /// (see `documents.rs`): a reset switches it for an empty one, a
    /// replace for one in pages.
    documents: std::sync::RwLock<documents::Generation>,
    meta: sled::Tree,
    clock: Box<dyn Clock>,
    append_lock: Mutex<()>,
    /// sled's data file, kept open to `fsync` it after every flush.
    data_file: fs::File,
    /// The thread that runs the log's flushes.
    log_flusher: Flusher,
    /// Set once a flush stalled: the thread waiting in it holds the
    /// database, so nothing may wait on sled again (see [`Drop`]).
    stalled: std::sync::atomic::AtomicBool,
    /// Set once packing the documents failed (`documents.rs`): this process
    /// does not try again.
    packing_failed: std::sync::atomic::AtomicBool,
}

impl Drop for SledStore {
    /// sled flushes when its last handle drops, and that flush can wait for
    /// ever on a full disk: it is done here first, bounded. If it stalls,
    /// its thread keeps a handle, so sled's own drop never runs in this
    /// thread and the process can still answer and exit. Then the pid file
    /// goes.
    fn drop(&mut self) {
        // Refused at once if a flush stalled before.
        let _ = self.documents_flush();
        let _ = self.flush_log();
        self.log_flusher
            .stop(self.stalled.load(std::sync::atomic::Ordering::Relaxed));
        // The lock is still held here (the database closes after this), so
        // the file removed is ours. A failure leaves a stale file, which the
        // next open overwrites.
        let _ = fs::remove_file(self.path.join(PID_FILE));
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
            if !holds_database(path)? && !is_unused_dir(path)? {
                return Err(StoreError::NoLedger {
                    path: path.to_path_buf(),
                    reason: "the directory is not empty and holds no ledger",
                });
            }
        } else {
            create_private_dir(path, "creating the ledger directory")?;
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
        match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {}
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                return Err(StoreError::PermissionDenied {
                    path: path.to_path_buf(),
                })
            }
            _ => return Err(no_ledger("no such directory")),
        }
        if !holds_database(path)? {
            return Err(no_ledger("the directory holds no ledger"));
        }
        Self::open_dir(path, Box::new(clock), false)
    }

    fn open_dir(path: &Path, clock: Box<dyn Clock>, create: bool) -> Result<Self, StoreError> {
        let log = path.join(JOURNAL_DIR);
        if !log.join(SLED_DATA_FILE).is_file() {
            upgrade::upgrade_if_older(path, &log)?;
        }
        if !log.exists() {
            create_private_dir(&log, "creating the log's directory")?;
        }
        unfinished::remove_unfinished_snapshots(&log)?;
        let db = log_config(&log).open().map_err(|e| open_error(path, e))?;
        // The lock is ours from here: name this process at once, before the
        // checks below (which read the whole tail), so that another process
        // refused the lock meanwhile can name its holder.
        write_pid_file(path)?;
        upgrade::remove_moved_files(path)?;
        let open = |name: &str| {
            db.open_tree(name)
                .map_err(|e| StoreError::backend("opening the ledger's trees", e))
        };
        let meta = open(TREE_META)?;
        let write_layout = check_layout(&meta, path, create)?;
        let (generation, documents) = documents::open_current(path, &db, &meta)?;
        let data_path = log.join(SLED_DATA_FILE);
        let data_file = fs::File::open(&data_path).map_err(|source| StoreError::Io {
            action: "opening the ledger's data file",
            path: data_path,
            source,
        })?;
        if create {
            // The data file may be new: its directory entries must reach
            // the disk too.
            sync_dir(&log)?;
            sync_dir(path)?;
        }
        let store = Self {
            path: path.to_path_buf(),
            journal: open(TREE_JOURNAL)?,
            documents: std::sync::RwLock::new(documents),
            meta,
            log_flusher: Flusher::start(db)?,
            clock,
            append_lock: Mutex::new(()),
            data_file,
            stalled: std::sync::atomic::AtomicBool::new(false),
            packing_failed: std::sync::atomic::AtomicBool::new(false),
        };
        if write_layout {
            store.set_layout()?;
        }
        documents::remove_stale_generations(path, generation)?;
        store.check_tail(&store.stored_head()?)?;
        Ok(store)
    }

    /// The ledger directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn set_layout(&self) -> Result<(), StoreError> {
        self.meta
            .insert(META_LAYOUT, &LAYOUT_VERSION.to_be_bytes())
            .map_err(|e| StoreError::backend("writing the layout version", e))?;
        self.flush()
    }

    /// The head as stored ([`Head::EMPTY`] for an empty log).
    fn stored_head(&self) -> Result<Head, StoreError> {
        let bytes = self
            .journal
            .get(JOURNAL_HEAD)
            .map_err(|e| StoreError::backend("reading the head", e))?;
        match bytes {
            None => Ok(Head::EMPTY),
            Some(bytes) => {
                let head = StoredHead::decode(&bytes).ok_or_else(|| bad_head(bytes.len()))?;
                Ok(Head {
                    seq: head.seq,
                    hash: head.hash,
                    recorded_at: Some(head.recorded_at),
                })
            }
        }
    }

    /// The segment `n`'s bytes, if it is stored.
    fn segment(&self, n: u64) -> Result<Option<sled::IVec>, StoreError> {
        self.journal
            .get(segment_key(n))
            .map_err(|e| StoreError::backend("reading the log", e))
    }

    /// Checks the end of the log against the head before anything is
    /// appended to it: the last record is the head, its hash is the hash of
    /// its bytes, and it links to the record before it. The full walk is
    /// [`EventStore::verify`]. Answers the last segment's bytes (none for
    /// an empty log), which an append extends.
    fn check_tail(&self, head: &Head) -> Result<Option<sled::IVec>, StoreError> {
        let tail_break = |found: String| -> StoreError {
            Break::new(
                head.seq.max(1),
                BreakKind::Index,
                format!("the log to end at the head {}", head.digest()),
                found,
            )
            .into()
        };
        if head.seq == 0 {
            return match segment_from(&self.journal, &[JOURNAL_SEGMENT])? {
                None => Ok(None),
                Some(n) => Err(tail_break(format!("a segment {n} in an empty log"))),
            };
        }
        let n = segment_of(head.seq);
        let after = n.checked_add(1).map(segment_key);
        if let Some(Some(_)) = after.map(|k| segment_from(&self.journal, &k)).transpose()? {
            return Err(tail_break(format!("records after segment {n}")));
        }
        let bytes = self
            .segment(n)?
            .ok_or_else(|| tail_break(format!("no segment {n}")))?;
        let packed = unpack_segment(&bytes).map_err(|source| StoreError::Decode {
            seq: head.seq,
            source,
        })?;
        let expected_len = (head.seq - 1) % SEGMENT_RECORDS + 1;
        if packed.len() as u64 != expected_len {
            return Err(tail_break(format!(
                "segment {n} with {} records, not {expected_len}",
                packed.len()
            )));
        }
        let (hash, body) = packed[packed.len() - 1];
        let record = decode(body, hash).map_err(|source| StoreError::Decode {
            seq: head.seq,
            source,
        })?;
        let computed = chain_hash(&record.prev_hash, body);
        if computed != hash {
            return Err(Break::new(head.seq, BreakKind::Hash, computed, hash).into());
        }
        if record.seq != head.seq || hash != head.hash {
            return Err(tail_break(format!(
                "sequence {} with hash {hash}",
                record.seq
            )));
        }
        if let Some(&(before, _)) = packed.len().checked_sub(2).and_then(|i| packed.get(i)) {
            if record.prev_hash != before {
                return Err(
                    Break::new(head.seq, BreakKind::Chain, before, record.prev_hash).into(),
                );
            }
        }
        Ok(Some(bytes))
    }

    /// Closes the store for a process that is about to exit: flushes,
    /// removes the pid file, and leaves sled's in-memory page table and
    /// threads to the operating system instead of tearing them down.
    ///
    /// Everything written is durable before this returns; what is skipped
    /// is only sled's own drop, which on a 1 000 000-event ledger took
    /// 65-180 ms of a CLI call. The file lock is released when the process
    /// exits. Not for a process that goes on working.
    pub fn close_for_exit(self) -> Result<(), StoreError> {
        self.documents_flush()?;
        self.flush()?;
        let _ = fs::remove_file(self.path.join(PID_FILE));
        std::mem::forget(self);
        Ok(())
    }

    /// Sets the clock that stamps the next appends' recorded-at: a
    /// long-lived process runs each command on the clock it came with.
    pub fn set_clock(&mut self, clock: Box<dyn Clock>) {
        self.clock = clock;
    }

    /// sled's flush, then an `fsync` of its data file: sled 0.34 writes with
    /// `sync_file_range`, which does not flush a drive's volatile write
    /// cache (sled#1351, #1452), so an acknowledged append would not survive
    /// a power loss on such a drive (issue 13, `docs/storage.md`). A
    /// long-lived process calls it at the end of each command, where a
    /// process that exits calls [`SledStore::close_for_exit`].
    pub fn flush(&self) -> Result<(), StoreError> {
        self.flush_log()?;
        self.data_file.sync_all().map_err(|source| StoreError::Io {
            action: "syncing the ledger's data file to disk",
            path: self.path.join(JOURNAL_DIR).join(SLED_DATA_FILE),
            source,
        })
    }

    /// sled's flush of the log's database on its flusher's thread, bounded
    /// as [`SledStore::flush_bounded`]; no `fsync`.
    fn flush_log(&self) -> Result<(), StoreError> {
        const ACTION: &str = "flushing to disk";
        self.bounded(ACTION, || self.log_flusher.flush(ACTION))
    }

    /// sled's flush of `db` on a thread of its own, waited for at most
    /// [`FLUSH_STALL_LIMIT`]; past it, this store takes no further flush.
    /// The documents' flushes go through here (`action` names it in an
    /// error), the log's through [`SledStore::flush_log`].
    pub(super) fn flush_bounded(
        &self,
        db: &sled::Db,
        action: &'static str,
    ) -> Result<(), StoreError> {
        self.bounded(action, || flush_within_limit(db, action))
    }

    /// Runs `flush` unless a flush stalled before; marks the store stalled
    /// if this one does.
    fn bounded(
        &self,
        action: &'static str,
        flush: impl FnOnce() -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        if self.stalled.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(StoreError::Stalled {
                action,
                after: FLUSH_STALL_LIMIT,
            });
        }
        let flushed = flush();
        if let Err(StoreError::Stalled { .. }) = &flushed {
            self.stalled
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        flushed
    }

    /// The command entry of `id`, if the log holds one.
    fn command_entry(&self, id: &Uuid) -> Result<Option<CommandEntry>, StoreError> {
        let Some(bytes) = self
            .journal
            .get(command_key(id))
            .map_err(|e| StoreError::backend("reading the command ids", e))?
        else {
            return Ok(None);
        };
        CommandEntry::decode(&bytes).map(Some).ok_or_else(|| {
            index_break(
                0,
                "a command entry",
                format!("{} bytes under command {id}", bytes.len()),
            )
        })
    }

    /// Writes a staged batch: the segments it fills (the last, partial one,
    /// `tail` as the stage read and checked it, rewritten with the new
    /// records after the old), the head and the command entry, in one
    /// `apply_batch`; then one flush. The stage holds the append lock, so
    /// the tail it read is the tail on disk.
    fn commit_staged(
        &self,
        staged: &StagedBatch,
        tail: Option<&sled::IVec>,
    ) -> Result<Appended, StoreError> {
        let appended = staged.appended;
        let mut batch = sled::Batch::default();
        let mut current = segment_of(appended.first);
        let mut bytes = match tail {
            Some(tail) if (appended.first - 1) % SEGMENT_RECORDS != 0 => tail.to_vec(),
            _ => Vec::new(),
        };
        for (record, body) in staged.records.iter().zip(&staged.bodies) {
            let n = segment_of(record.seq);
            if n != current {
                batch.insert(&segment_key(current), std::mem::take(&mut bytes));
                current = n;
            }
            pack_record(&mut bytes, &record.hash, body);
        }
        batch.insert(&segment_key(current), bytes);
        let head = StoredHead {
            seq: appended.last,
            hash: appended.head.hash,
            recorded_at: appended.recorded_at,
        };
        batch.insert(JOURNAL_HEAD, head.encode());
        let entry = CommandEntry::new(&appended, staged.fingerprint);
        batch.insert(&command_key(&staged.records[0].command_id), entry.encode());
        self.journal
            .apply_batch(batch)
            .map_err(|e| StoreError::backend("appending", e))?;
        self.flush()?;
        Ok(appended)
    }

    /// Checks every command entry against the log: its first and last
    /// records belong to its command, and the last has its hash.
    fn verify_commands(&self, batches: u64) -> Result<(), StoreError> {
        let mut commands = 0u64;
        for item in self.journal.scan_prefix([JOURNAL_COMMAND]) {
            let (key, value) = item.map_err(|e| StoreError::backend("reading the commands", e))?;
            let entry = CommandEntry::decode(&value).ok_or_else(|| {
                index_break(0, "a command entry", format!("{} bytes", value.len()))
            })?;
            let first = self.record_checked(entry.first)?;
            let last = self.record_checked(entry.last)?;
            if first.command_id.as_bytes() != &key[1..]
                || last.command_id.as_bytes() != &key[1..]
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
                0,
                format!("{batches} command entries"),
                commands,
            ));
        }
        Ok(())
    }

    fn record_checked(&self, seq: u64) -> Result<StoredEvent, StoreError> {
        self.record(seq)?
            .ok_or_else(|| Break::new(seq, BreakKind::Index, "a record", "none").into())
    }
}

/// A batch staged in a [`SledStore`], holding its append lock.
struct SledStaged<'s> {
    store: &'s SledStore,
    batch: StagedBatch,
    /// The log's last segment, as the stage read and checked it.
    tail: Option<sled::IVec>,
    _guard: MutexGuard<'s, ()>,
}

impl StagedAppend for SledStaged<'_> {
    fn records(&self) -> &[StoredEvent] {
        &self.batch.records
    }

    fn commit(self: Box<Self>) -> Result<Appended, StoreError> {
        self.store.commit_staged(&self.batch, self.tail.as_ref())
    }
}

impl EventStore for SledStore {
    fn stage(&self, request: AppendRequest) -> Result<Staging<'_>, StoreError> {
        check_size(&request)?;
        let now = self.clock.now();
        // A poisoned lock only means another append panicked; nothing of
        // its batch was written unless its one `apply_batch` completed.
        let guard = self
            .append_lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(entry) = self.command_entry(&request.command_id)? {
            // Flushed again, in case the original call failed at its flush.
            self.flush()?;
            return repeat_of(&request, entry.repeated(), entry.fingerprint).map(Staging::Repeat);
        }
        let head = self.stored_head()?;
        let tail = if request.expected == head.seq {
            self.check_tail(&head)?
        } else {
            None // stage_records refuses the conflict
        };
        let batch = stage_records(&request, head, now)?;
        Ok(Staging::Staged(Box::new(SledStaged {
            store: self,
            batch,
            tail,
            _guard: guard,
        })))
    }

    fn find_command(&self, command_id: &Uuid) -> Result<Option<StoredCommand>, StoreError> {
        Ok(self.command_entry(command_id)?.map(|e| StoredCommand {
            appended: e.repeated(),
            fingerprint: e.fingerprint,
        }))
    }

    fn head(&self) -> Result<Digest, StoreError> {
        Ok(self.stored_head()?.digest())
    }

    fn read_from(&self, from: u64) -> Events<'_> {
        Box::new(SegmentReader::new(&self.journal, from.max(1), None))
    }

    fn read_as_of(&self, as_of: AsOf) -> Events<'_> {
        Box::new(SegmentReader::new(&self.journal, 1, Some(as_of)))
    }

    fn record(&self, seq: u64) -> Result<Option<StoredEvent>, StoreError> {
        if seq == 0 {
            return Ok(None);
        }
        let Some(bytes) = self.segment(segment_of(seq))? else {
            return Ok(None);
        };
        let packed = unpack_segment(&bytes).map_err(|source| StoreError::Decode { seq, source })?;
        let place = ((seq - 1) % SEGMENT_RECORDS) as usize;
        let Some(&(hash, body)) = packed.get(place) else {
            return Ok(None);
        };
        let record = reader::decode_checked(seq, hash, body)?;
        Ok(Some(record))
    }

    fn verify_with(&self, progress: &mut dyn FnMut(u64)) -> Result<VerifyReport, StoreError> {
        self.verify_each(progress, &mut drop)
    }

    /// The walk decodes every record: each is handed over as it is checked.
    fn verify_each(
        &self,
        progress: &mut dyn FnMut(u64),
        each: &mut dyn FnMut(StoredEvent),
    ) -> Result<VerifyReport, StoreError> {
        let mut reporter = Reporter::new(progress);
        let (report, batches) = self.verify_segments(&mut reporter, each)?;
        let head = self.stored_head()?.digest();
        if head != report.head {
            return Err(index_break(
                report.head.seq,
                format!("head {}", report.head),
                format!("head {head}"),
            ));
        }
        self.verify_commands(batches)?;
        reporter.finish(report.head.seq);
        Ok(report)
    }
}

impl SledStore {
    /// Walks every segment in order through a [`ChainVerifier`]; answers
    /// its report and the number of batches (runs of one command id).
    /// Tells `reporter` the sequences it reaches.
    fn verify_segments(
        &self,
        reporter: &mut Reporter<'_>,
        each: &mut dyn FnMut(StoredEvent),
    ) -> Result<(VerifyReport, u64), StoreError> {
        let mut verifier = ChainVerifier::new();
        let mut batches = 0u64;
        let mut last_command = None;
        for (expected, item) in (0u64..).zip(self.journal.scan_prefix([JOURNAL_SEGMENT])) {
            let (key, value) = item.map_err(|e| StoreError::backend("reading the log", e))?;
            reader::count_in_cache(&self.journal, &key)?;
            let next = verifier.next_seq();
            let n = parse_segment_key(&key)
                .filter(|n| *n == expected && (next - 1) % SEGMENT_RECORDS == 0)
                .ok_or_else(|| {
                    Break::new(
                        next,
                        BreakKind::Contiguity,
                        next,
                        format!("a segment key {key:?}"),
                    )
                })?;
            let packed = unpack_segment(&value)
                .map_err(|e| Break::new(next, BreakKind::Decoding, "a segment", e))?;
            for (i, (hash, body)) in packed.into_iter().enumerate() {
                let seq = n * SEGMENT_RECORDS + i as u64 + 1;
                let record = verifier.check(seq, hash, body)?;
                reporter.reached(seq);
                if last_command != Some(record.command_id) {
                    batches += 1;
                    last_command = Some(record.command_id);
                }
                each(record);
            }
        }
        Ok((verifier.report(), batches))
    }
}

/// The layout version stored in `meta`: none, a version, or the length of
/// a value that is not one.
fn stored_layout(meta: &sled::Tree) -> Result<Option<Result<u32, usize>>, StoreError> {
    let stored = meta
        .get(META_LAYOUT)
        .map_err(|e| StoreError::backend("reading the layout version", e))?;
    Ok(stored.as_ref().map(|bytes| {
        <[u8; 4]>::try_from(bytes.as_ref())
            .map(u32::from_be_bytes)
            .map_err(|_| bytes.len())
    }))
}

/// The refusal of a layout this build does not read.
fn unsupported(path: &Path, found: Result<u32, usize>) -> StoreError {
    StoreError::UnsupportedLayout {
        path: path.to_path_buf(),
        found: match found {
            Ok(version) => version.to_string(),
            Err(len) => format!("of {len} bytes"),
        },
        supported: LAYOUT_VERSION,
    }
}

/// Checks the log's layout version before anything is written: answers
/// whether [`LAYOUT_VERSION`] is to be written, because the ledger is new
/// (no version yet, and being created) or of layout 5, which is layout 6
/// without pages. Any other version is refused rather than misread: older
/// layouts' logs live elsewhere (`log/`, or the ledger directory itself)
/// and are copied into `journal/` before (`upgrade.rs`).
fn check_layout(meta: &sled::Tree, path: &Path, create: bool) -> Result<bool, StoreError> {
    match stored_layout(meta)? {
        Some(Ok(LAYOUT_VERSION)) => Ok(false),
        Some(Ok(layout::LAYOUT_UNPAGED_DOCUMENTS)) => Ok(true),
        Some(found) => Err(unsupported(path, found)),
        None if create => Ok(true),
        None => Err(StoreError::NoLedger {
            path: path.to_path_buf(),
            reason: "the directory holds a database but no ledger",
        }),
    }
}

/// Whether `path` holds a ledger's database: the log's in `journal/`, or
/// an older layout's in `log/` (4) or in the directory itself (1 to 3).
fn holds_database(path: &Path) -> Result<bool, StoreError> {
    for data in [
        path.join(JOURNAL_DIR).join(SLED_DATA_FILE),
        path.join(LOG_DIR).join(SLED_DATA_FILE),
        path.join(SLED_DATA_FILE),
    ] {
        match fs::metadata(&data) {
            Ok(meta) if meta.is_file() => return Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                return Err(StoreError::PermissionDenied { path: data })
            }
            _ => {}
        }
    }
    Ok(false)
}

/// The number of the first segment whose key is at or after `from`.
fn segment_from(journal: &sled::Tree, from: &[u8]) -> Result<Option<u64>, StoreError> {
    match journal.range(from..).next() {
        None => Ok(None),
        Some(item) => {
            let (key, _) = item.map_err(|e| StoreError::backend("reading the log", e))?;
            Ok(parse_segment_key(&key))
        }
    }
}

fn index_break(seq: u64, expected: impl ToString, found: impl ToString) -> StoreError {
    Break::new(seq, BreakKind::Index, expected, found).into()
}

fn bad_head(bytes: usize) -> StoreError {
    index_break(0, "a head of 48 bytes", format!("{bytes} bytes"))
}

fn open_error(path: &Path, error: sled::Error) -> StoreError {
    if let sled::Error::Io(io) = &error {
        match io.kind() {
            std::io::ErrorKind::ReadOnlyFilesystem => {
                return StoreError::ReadOnly {
                    path: path.to_path_buf(),
                }
            }
            std::io::ErrorKind::PermissionDenied => {
                return StoreError::PermissionDenied {
                    path: path.to_path_buf(),
                }
            }
            _ => {}
        }
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

/// Names this process as the ledger's holder, in `ledger.pid`.
fn write_pid_file(path: &Path) -> Result<(), StoreError> {
    let path = path.join(PID_FILE);
    fs::write(&path, format!("{}\n", std::process::id())).map_err(|source| StoreError::Io {
        action: "writing the pid file",
        path,
        source,
    })
}

/// How long a process refused the lock waits for the holder to name itself.
const PID_FILE_WAIT: std::time::Duration = std::time::Duration::from_millis(200);

/// The pid of the ledger's holder. A holder writes it right after taking
/// the lock; one refused in between reads again for up to [`PID_FILE_WAIT`].
fn read_pid(path: &Path) -> Option<u32> {
    let read = || {
        let text = fs::read_to_string(path.join(PID_FILE)).ok()?;
        text.trim().parse().ok()
    };
    let deadline = std::time::Instant::now() + PID_FILE_WAIT;
    loop {
        match read() {
            Some(pid) => return Some(pid),
            None if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            None => return None,
        }
    }
}

/// The error of the file operation `action` on `path`, for `map_err`.
fn io<'p>(action: &'static str, path: &'p Path) -> impl Fn(std::io::Error) -> StoreError + 'p {
    move |source| StoreError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// `fsync`s the files of the sled database in `dir` after sled's flush:
/// its data file, every blob file (sled 0.34 writes blobs and never syncs
/// them, `blob_io.rs`) and the directories' entries. What a database must
/// be on disk before anything names it, or removes what it replaces.
/// `action` names the database in an error.
fn sync_database(dir: &Path, action: &'static str) -> Result<(), StoreError> {
    sync_path(&dir.join(SLED_DATA_FILE), action)?;
    let blobs = dir.join("blobs");
    if blobs.is_dir() {
        for entry in fs::read_dir(&blobs).map_err(io(action, &blobs))? {
            sync_path(&entry.map_err(io(action, &blobs))?.path(), action)?;
        }
        sync_dir(&blobs)?;
    }
    sync_dir(dir)
}

/// An `fsync` of the directory `path`: its entries reach the disk.
fn sync_dir(path: &Path) -> Result<(), StoreError> {
    sync_path(path, "syncing a ledger directory to disk")
}

/// An `fsync` of the file or directory `path`; `action` names it in an
/// error.
fn sync_path(path: &Path, action: &'static str) -> Result<(), StoreError> {
    fs::File::open(path)
        .and_then(|file| file.sync_all())
        .map_err(io(action, path))
}

fn is_empty_dir(path: &Path) -> Result<bool, StoreError> {
    Ok(entries_of(path)?.next().is_none())
}

/// Whether `path` holds nothing a ledger wrote, except perhaps an empty
/// `journal/` (or layout 4's `log/`): what the creation of a ledger leaves
/// when it is killed before sled writes its first file there. A new ledger
/// may be created in it.
fn is_unused_dir(path: &Path) -> Result<bool, StoreError> {
    for entry in entries_of(path)? {
        let entry = entry.map_err(|source| StoreError::Io {
            action: "reading the ledger directory",
            path: path.to_path_buf(),
            source,
        })?;
        let name = entry.file_name();
        let unfinished_log = (name == JOURNAL_DIR || name == LOG_DIR) && entry.path().is_dir();
        if !unfinished_log || !is_empty_dir(&entry.path())? {
            return Ok(false);
        }
    }
    Ok(true)
}

fn entries_of(path: &Path) -> Result<fs::ReadDir, StoreError> {
    fs::read_dir(path).map_err(|source| StoreError::Io {
        action: "reading the ledger directory",
        path: path.to_path_buf(),
        source,
    })
}

/// Creates the directory `path` (and its parents), owner-only (0700) on
/// unix; `action` names it in an error.
fn create_private_dir(path: &Path, action: &'static str) -> Result<(), StoreError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(path).map_err(|source| StoreError::Io {
        action,
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests;

/// How many documents written one round of [`reclaim_replaced_pages`] is
/// counted for. A round frees at most 8 bags of up to 64 deferred frees
/// (crossbeam-epoch 0.9), and a written document replaces a page or a few,
/// so counting 8 documents a round leaves a wide margin.
const RECLAIMED_PER_ROUND: usize = 8;

/// Frees what sled still holds of the pages a large write replaced, now,
/// instead of a little at each of the next operations.
///
/// sled 0.34 frees a replaced page through crossbeam's epoch-based
/// reclamation (its default collector): a page is queued when replaced and
/// freed by whichever thread next pins an epoch past it, a few bags at a
/// time. After a commit of thousands of documents, the next twenty or so
/// commands each paid 6-10 ms of frees (`perf`: `crossbeam_epoch`'s
/// `Global::collect`, `drop_in_place<sled::pagecache::Page>`). Flushing
/// this thread's guard, round after round, moves its own deferred frees to
/// the global queue and frees what has expired there, advancing the epoch
/// a step a round where no other thread holds it back; frees still in
/// another thread's bag (sled's I/O threads) wait for that thread. That
/// was enough: measured, the commands after it ran at their usual speed.
/// A round with nothing left to free costs well under a microsecond, so
/// the rounds are counted generously from the documents written. If sled
/// stopped using the default collector (`Cargo.lock` holds the one
/// crossbeam-epoch sled uses), this would free nothing and cost nothing.
pub(super) fn reclaim_replaced_pages(written: usize) {
    for _ in 0..written / RECLAIMED_PER_ROUND + 64 {
        crossbeam_epoch::pin().flush();
    }
}
