//! An in-memory backend of both traits, for fast tests and fault injection.
//!
//! It keeps each record's bytes exactly as the sled backend would (the same
//! staging, the same encoding), so one history has one digest here and on
//! disk, and reads check the chain as they go. [`Fault`]s make a chosen
//! commit fail, so that a test can show what a crash between the log's
//! commit and the projections' catch-up leaves behind.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use uuid::Uuid;

use crate::encoding::decode;
use crate::projection_store::check_checkpoint;
use crate::staging::{check_size, repeat_of, stage_records, Head, StagedBatch};
use crate::verify::ChainVerifier;
use crate::Reporter;
use crate::{
    AppendRequest, Appended, AsOf, Clock, Digest, Document, EventStore, Events, ProjectionStore,
    StagedAppend, Staging, StoreError, StoredCommand, StoredEvent, VerifyReport,
};

/// A failure to inject into a [`MemoryStore`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Every log commit fails, as a full disk would: nothing is appended.
    LogCommit,
    /// Every projection commit fails: the log moves on, the checkpoint stays
    /// behind.
    ProjectionCommit,
}

#[derive(Default)]
struct Log {
    /// `(hash, body)` of every record, sequence `i + 1` at `i`.
    records: Vec<(crate::ChainHash, Vec<u8>)>,
    head: Option<Head>,
    commands: HashMap<Uuid, (Appended, crate::ChainHash)>,
}

#[derive(Default)]
struct Documents {
    documents: BTreeMap<String, Vec<u8>>,
    checkpoint: u64,
}

/// An [`EventStore`] and [`ProjectionStore`] in memory.
pub struct MemoryStore {
    log: Mutex<Log>,
    documents: Mutex<Documents>,
    faults: Mutex<Vec<Fault>>,
    clock: Box<dyn Clock>,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore").finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Test code panicking under a lock leaves the data as it was.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn injected(what: &str) -> StoreError {
    StoreError::Io {
        action: "committing (an injected fault)",
        path: what.into(),
        source: std::io::Error::other("injected fault"),
    }
}

impl MemoryStore {
    /// An empty ledger whose recorded-at times come from `clock`.
    pub fn new(clock: impl Clock + 'static) -> Self {
        Self {
            log: Mutex::default(),
            documents: Mutex::default(),
            faults: Mutex::default(),
            clock: Box::new(clock),
        }
    }

    /// Makes every commit of one kind fail until [`MemoryStore::heal`].
    pub fn inject(&self, fault: Fault) {
        lock(&self.faults).push(fault);
    }

    /// Removes every injected fault.
    pub fn heal(&self) {
        lock(&self.faults).clear();
    }

    fn failing(&self, fault: Fault) -> bool {
        lock(&self.faults).contains(&fault)
    }

    /// The records from `from` (from 1) on, decoded and checked.
    fn decoded(&self, from: u64, until: Option<AsOf>) -> Vec<Result<StoredEvent, StoreError>> {
        let log = lock(&self.log);
        let mut out = Vec::new();
        let mut prev = None;
        for (i, (hash, body)) in log
            .records
            .iter()
            .enumerate()
            .skip(from.max(1) as usize - 1)
        {
            let seq = i as u64 + 1;
            let record = match decode(body, *hash) {
                Ok(record) => record,
                Err(source) => {
                    out.push(Err(StoreError::Decode { seq, source }));
                    break;
                }
            };
            let past = match until {
                Some(AsOf::Sequence(last)) => seq > last,
                Some(AsOf::RecordedAt(at)) => record.recorded_at > at,
                None => false,
            };
            if past {
                break;
            }
            if let Err(e) = crate::verify::check_link(seq, &record, prev) {
                out.push(Err(e.into()));
                break;
            }
            prev = Some(record.hash);
            out.push(Ok(record));
        }
        out
    }
}

struct MemoryStaged<'s> {
    store: &'s MemoryStore,
    log: MutexGuard<'s, Log>,
    batch: StagedBatch,
}

impl StagedAppend for MemoryStaged<'_> {
    fn records(&self) -> &[StoredEvent] {
        &self.batch.records
    }

    fn commit(mut self: Box<Self>) -> Result<Appended, StoreError> {
        if self.store.failing(Fault::LogCommit) {
            return Err(injected("the log"));
        }
        let this = &mut *self;
        let head = this.batch.head();
        let command_id = this.batch.records[0].command_id;
        let bodies = std::mem::take(&mut this.batch.bodies);
        for (record, body) in this.batch.records.iter().zip(bodies) {
            this.log.records.push((record.hash, body));
        }
        this.log.head = Some(head);
        let entry = (this.batch.appended, this.batch.fingerprint);
        this.log.commands.insert(command_id, entry);
        Ok(this.batch.appended)
    }
}

impl EventStore for MemoryStore {
    fn stage(&self, request: AppendRequest) -> Result<Staging<'_>, StoreError> {
        check_size(&request)?;
        let now = self.clock.now();
        let log = lock(&self.log);
        if let Some((appended, fingerprint)) = log.commands.get(&request.command_id) {
            return repeat_of(&request, *appended, *fingerprint).map(Staging::Repeat);
        }
        let batch = stage_records(&request, log.head.unwrap_or(Head::EMPTY), now)?;
        Ok(Staging::Staged(Box::new(MemoryStaged {
            store: self,
            log,
            batch,
        })))
    }

    fn find_command(&self, command_id: &Uuid) -> Result<Option<StoredCommand>, StoreError> {
        Ok(lock(&self.log)
            .commands
            .get(command_id)
            .map(|(a, fingerprint)| StoredCommand {
                appended: Appended { repeat: true, ..*a },
                fingerprint: *fingerprint,
            }))
    }

    fn head(&self) -> Result<Digest, StoreError> {
        Ok(lock(&self.log).head.unwrap_or(Head::EMPTY).digest())
    }

    fn read_from(&self, from: u64) -> Events<'_> {
        Box::new(self.decoded(from, None).into_iter())
    }

    fn read_as_of(&self, as_of: AsOf) -> Events<'_> {
        Box::new(self.decoded(1, Some(as_of)).into_iter())
    }

    fn verify_with(&self, progress: &mut dyn FnMut(u64)) -> Result<VerifyReport, StoreError> {
        let log = lock(&self.log);
        let mut verifier = ChainVerifier::new();
        let mut reporter = Reporter::new(progress);
        for (seq, (hash, body)) in (1u64..).zip(log.records.iter()) {
            verifier.check(seq, *hash, body)?;
            reporter.reached(seq);
        }
        let report = verifier.report();
        reporter.finish(report.head.seq);
        Ok(report)
    }
}

impl ProjectionStore for MemoryStore {
    fn projection_checkpoint(&self) -> Result<u64, StoreError> {
        Ok(lock(&self.documents).checkpoint)
    }

    fn projection_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(lock(&self.documents).documents.get(key).cloned())
    }

    fn projection_scan_page(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Document>, StoreError> {
        use std::ops::Bound;
        let start = crate::table::page_start(prefix, after);
        Ok(lock(&self.documents)
            .documents
            .range::<str, _>((start, Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .take(limit)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn projection_last(&self, prefix: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        Ok(self.projection_scan(prefix)?.pop())
    }

    fn projection_commit(
        &self,
        from: u64,
        to: u64,
        writes: BTreeMap<String, Vec<u8>>,
    ) -> Result<(), StoreError> {
        if self.failing(Fault::ProjectionCommit) {
            return Err(injected("the projections"));
        }
        let mut docs = lock(&self.documents);
        check_checkpoint(from, docs.checkpoint)?;
        docs.documents.extend(writes);
        docs.checkpoint = to;
        Ok(())
    }

    fn projection_reset(&self) -> Result<(), StoreError> {
        let mut docs = lock(&self.documents);
        docs.documents.clear();
        docs.checkpoint = 0;
        Ok(())
    }
}
