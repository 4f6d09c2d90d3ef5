//! The projections of one ledger: persisted beside its log, brought up to
//! date from their checkpoint, computed as of any point of the log, rebuilt
//! and compared, and the log's stored outcomes re-derived (R40).

use benefit_domain::{rederive, Mismatch};
use std::collections::BTreeMap;

use benefit_events::StreamId;
use benefit_store::{
    pages, read_ahead, AsOf, Document, EventStore, Pages, ProjectionStore, Reporter, StoreError,
    StoredEvent,
};

use crate::bounded::{fold_bounded, Folded, WrittenOnce, FOLD_DOCUMENTS_IN_MEMORY};
use crate::docs::{DocMap, Docs, EachDocument};
use crate::fold::{apply, apply_views};
use crate::prefetch::fold_prefetched;
use crate::state::has_state;
use crate::ProjectionError;

/// How many events a catch-up applies per atomic commit: bounds the memory
/// of a catch-up over a long log, and the work lost to a crash in one.
///
/// Measured on a 100 000-event replay (issue 6): sled holds about 13 KiB
/// per event of an uncommitted batch (the transaction's write set and the
/// pages it dirties), so 10 000 events peaked at 317 MiB, 50 000 at 860 MiB
/// and 2 000 at 155 MiB, for the same time within the machine's noise.
pub const CATCH_UP_BATCH_EVENTS: u64 = 2_000;

/// How many times a catch-up starts again after another process moved the
/// checkpoint under it (on a shared backend).
const CATCH_UP_ATTEMPTS: u32 = 100;

/// The persisted documents, read through the store.
pub struct Persisted<'s, S: ProjectionStore + ?Sized>(pub &'s S);

impl<S: ProjectionStore + ?Sized> Docs for Persisted<'_, S> {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ProjectionError> {
        Ok(self.0.projection_get(key)?)
    }
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, ProjectionError> {
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        Ok(self.0.projection_get_many(&keys)?)
    }
    fn scan(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, ProjectionError> {
        Ok(self.0.projection_scan(prefix)?)
    }
    fn scan_each(&self, prefix: &str, each: &mut EachDocument<'_>) -> Result<(), ProjectionError> {
        for document in pages(self.0, prefix) {
            let (key, bytes) = document?;
            each(key, bytes)?;
        }
        Ok(())
    }
    fn last(&self, prefix: &str) -> Result<Option<(String, Vec<u8>)>, ProjectionError> {
        Ok(self.0.projection_last(prefix)?)
    }
    fn last_many(
        &self,
        prefixes: &[String],
    ) -> Result<Vec<Option<benefit_store::Document>>, ProjectionError> {
        let prefixes: Vec<&str> = prefixes.iter().map(String::as_str).collect();
        Ok(self.0.projection_last_many(&prefixes)?)
    }
}

/// The last version of `stream` in the stream index of `docs` (0: none).
pub fn stream_head(docs: &dyn Docs, stream: &StreamId) -> Result<u64, ProjectionError> {
    let prefix = crate::docs::stream_prefix(stream.as_str());
    version_of(&prefix, docs.last(&prefix)?)
}

/// The last version of each of `streams`, in their order, from the stream
/// index of `docs` read in one [`Docs::last_many`] (one round trip to a
/// server, where [`stream_head`] for each would be one per stream).
pub fn stream_heads(docs: &dyn Docs, streams: &[StreamId]) -> Result<Vec<u64>, ProjectionError> {
    let prefixes: Vec<String> = streams
        .iter()
        .map(|stream| crate::docs::stream_prefix(stream.as_str()))
        .collect();
    let lasts = docs.last_many(&prefixes)?;
    prefixes
        .iter()
        .zip(lasts)
        .map(|(prefix, last)| version_of(prefix, last))
        .collect()
}

/// The version in the key of a stream's last index document (0: none).
fn version_of(prefix: &str, last: Option<(String, Vec<u8>)>) -> Result<u64, ProjectionError> {
    match last {
        None => Ok(0),
        Some((key, _)) => match key.get(prefix.len()..).map(str::parse) {
            Some(Ok(version)) => Ok(version),
            _ => Err(ProjectionError::Document {
                key,
                message: "not a stream version".into(),
            }),
        },
    }
}

/// The sequences of one stream's events, in version order, from the stream
/// index of `docs`.
pub fn stream_seqs(docs: &dyn Docs, stream: &StreamId) -> Result<Vec<u64>, ProjectionError> {
    let prefix = crate::docs::stream_prefix(stream.as_str());
    docs.scan(&prefix)?
        .into_iter()
        .map(|(key, bytes)| crate::docs::decode_document(&key, &bytes))
        .collect()
}

/// Folds every event of a stream of stored events into documents in memory.
/// The documents written once are kept as bytes as they are folded
/// ([`crate::Overlay::encoding_written_once`]).
pub fn fold_all(
    events: &mut dyn Iterator<Item = Result<StoredEvent, StoreError>>,
) -> Result<DocMap, ProjectionError> {
    match fold_bounded(events, apply, WrittenOnce::AsBytes, usize::MAX)? {
        Folded::InMemory(overlay) => Ok(DocMap(overlay.into_writes())),
        Folded::OnDisk(scratch) => Ok(DocMap(scratch.projection_scan("")?.into_iter().collect())),
    }
}

/// One document where the persisted projections and a rebuild disagree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// The document's key.
    pub key: String,
    /// The persisted document, if any.
    pub persisted: Option<String>,
    /// The rebuilt document, if any.
    pub rebuilt: Option<String>,
}

/// What a rebuild found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RebuildReport {
    /// The sequence the projections were rebuilt to.
    pub seq: u64,
    /// How many documents the rebuild produced.
    pub documents: usize,
    /// Every document that differs, by key.
    pub differences: Vec<Difference>,
    /// Whether the persisted projections were replaced by the rebuild.
    pub replaced: bool,
}

/// Whether a rebuild only compares, or also replaces what is persisted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RebuildMode {
    /// Compare and report; change nothing.
    Check,
    /// Compare, report, and replace the persisted projections when they
    /// differ.
    Replace,
}

/// An event whose stored outcome the rules would not produce (R40).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RederiveFinding {
    /// The event's sequence.
    pub seq: u64,
    /// Its type.
    pub event: String,
    /// What differs.
    pub mismatch: Mismatch,
}

impl RederiveFinding {
    /// R40 for one stored event: a finding when its stored outcome is not
    /// what its stored inputs give.
    pub fn of(record: &StoredEvent) -> Option<Self> {
        rederive(&record.event).err().map(|mismatch| Self {
            seq: record.seq,
            event: record.event.event_type().to_string(),
            mismatch,
        })
    }
}

/// How many documents `rebuilt` holds, and every one where `persisted` and
/// `rebuilt` differ, in key order. Both sides are read in one pass in key
/// order, the persisted documents page by page beside the rebuilt ones: a
/// rebuild holds no copy of every document (issue 11, point 5).
fn differences<S: ProjectionStore + ?Sized>(
    rebuilt: &dyn Docs,
    persisted: &S,
) -> Result<(usize, Vec<Difference>), ProjectionError> {
    let text = |key: &str, b: &[u8]| match crate::docs::document_json(key, b) {
        Ok(json) => json.to_string(),
        Err(e) => format!("({} bytes, unreadable: {e})", b.len()),
    };
    let differ = |key: &str, persisted: Option<&[u8]>, rebuilt: Option<&[u8]>| Difference {
        key: key.to_owned(),
        persisted: persisted.map(|b| text(key, b)),
        rebuilt: rebuilt.map(|b| text(key, b)),
    };
    let mut found = Vec::new();
    let mut documents = 0;
    let mut persisted = pages(persisted, "").peekable();
    rebuilt.scan_each("", &mut |key, bytes| {
        documents += 1;
        while let Some((only_persisted, b)) = next_where(&mut persisted, |k| k < key.as_str())? {
            found.push(differ(&only_persisted, Some(&b), None));
        }
        match next_where(&mut persisted, |k| k == key.as_str())? {
            Some((_, b)) if b == bytes => {}
            same_key => found.push(differ(
                &key,
                same_key.map(|(_, b)| b).as_deref(),
                Some(&bytes),
            )),
        }
        Ok(())
    })?;
    for document in persisted {
        let (key, b) = document?;
        found.push(differ(&key, Some(&b), None));
    }
    Ok((documents, found))
}

/// The next document of `documents` if its key is `wanted`, or the error
/// that stopped them.
fn next_where<S: ProjectionStore + ?Sized>(
    documents: &mut std::iter::Peekable<Pages<'_, S>>,
    wanted: impl FnOnce(&str) -> bool,
) -> Result<Option<Document>, StoreError> {
    match documents.peek() {
        Some(Ok((key, _))) if !wanted(key) => Ok(None),
        _ => documents.next().transpose(),
    }
}

/// The projections of the ledger in `store`.
pub struct Projections<'s, S: EventStore + ProjectionStore + ?Sized> {
    store: &'s S,
    /// How many documents a long fold (a rebuild, an as-of view) holds in
    /// memory before it moves them to disk.
    fold_limit: usize,
}

impl<'s, S: EventStore + ProjectionStore + ?Sized> Projections<'s, S> {
    /// The projections of `store`'s ledger.
    pub fn new(store: &'s S) -> Self {
        Self {
            store,
            fold_limit: FOLD_DOCUMENTS_IN_MEMORY,
        }
    }

    /// The same projections, whose long folds hold at most `documents` in
    /// memory ([`FOLD_DOCUMENTS_IN_MEMORY`] otherwise): what lets a test
    /// take a small log through the fold's scratch store.
    pub fn with_fold_limit(self, documents: usize) -> Self {
        Self {
            fold_limit: documents.max(1),
            ..self
        }
    }

    /// Applies every event after the checkpoint and commits the documents
    /// with the new checkpoint, [`CATCH_UP_BATCH_EVENTS`] at a time. When the
    /// checkpoint is the head, nothing is read. Returns the checkpoint.
    ///
    /// On a backend shared by several processes, another one may commit
    /// the same events' documents first; its commit moves the checkpoint,
    /// ours is then refused as a conflict, and the catch-up starts again
    /// from the new checkpoint. Both folds are of the same log, so either
    /// commit leaves the same documents.
    pub fn catch_up(&self) -> Result<u64, ProjectionError> {
        let mut attempt = 1u32;
        loop {
            match self.catch_up_once() {
                // Another process caught up (part of) the same events first,
                // on a shared backend: start again from where it left the
                // documents.
                Err(ProjectionError::Store(StoreError::Conflict { .. }))
                    if attempt < CATCH_UP_ATTEMPTS =>
                {
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    fn catch_up_once(&self) -> Result<u64, ProjectionError> {
        // The checkpoint first: the log only grows and the documents never
        // pass it, so a head read after the checkpoint is never behind it,
        // even while other processes append and catch up.
        let mut checkpoint = self.store.projection_checkpoint()?;
        let head = self.store.head()?.seq;
        if checkpoint > head {
            return Err(ProjectionError::Inconsistent {
                seq: checkpoint,
                what: format!("event: the projections are ahead of the log's head {head}"),
            });
        }
        if checkpoint > 0 && !has_state(&Persisted(self.store))? {
            // Written before the state documents existed: rebuild them all,
            // once, so that the shell can load the state from them.
            self.store.projection_reset()?;
            checkpoint = 0;
        }
        let mut events = self.store.read_from(checkpoint + 1);
        while checkpoint < head {
            let last = head.min(checkpoint + CATCH_UP_BATCH_EVENTS);
            let mut records = Vec::with_capacity((last - checkpoint) as usize);
            for seq in checkpoint + 1..=last {
                let record = events
                    .next()
                    .ok_or_else(|| ProjectionError::Inconsistent {
                        seq,
                        what: "event in the log before its head".into(),
                    })??;
                records.push(record);
            }
            let writes = fold_prefetched(&Persisted(self.store), &records)?;
            self.store.projection_commit(checkpoint, last, writes)?;
            checkpoint = last;
        }
        Ok(checkpoint)
    }

    /// The documents that `records`, about to be committed at the head,
    /// change: the fold over the persisted documents, in memory. The shell
    /// commits them with [`Projections::commit_staged`] once the log's
    /// commit is durable.
    pub fn fold_staged(
        &self,
        records: &[StoredEvent],
    ) -> Result<BTreeMap<String, Vec<u8>>, ProjectionError> {
        fold_prefetched(&Persisted(self.store), records)
    }

    /// Commits the documents of a batch the log has just stored, moving the
    /// checkpoint from `from` (the head before the batch) to `to`.
    pub fn commit_staged(
        &self,
        from: u64,
        to: u64,
        writes: BTreeMap<String, Vec<u8>>,
    ) -> Result<(), ProjectionError> {
        Ok(self.store.projection_commit(from, to, writes)?)
    }

    /// The current projections: caught up, then read from storage.
    pub fn current(&self) -> Result<Persisted<'s, S>, ProjectionError> {
        self.catch_up()?;
        Ok(Persisted(self.store))
    }

    /// The report views as the ledger knew them at a sequence or a time,
    /// folded from the start of the log with bounded memory
    /// ([`fold_bounded`]). The decision state and the stream index are left
    /// out, because no report reads them (the report fold reads no decision
    /// state, and the decider's state is not a report); leaving them out
    /// was most of the work of an as-of query (issue 11). The views are
    /// kept as values, encoded only when a report reads them or the fold
    /// moves them to disk.
    pub fn as_of(&self, as_of: AsOf) -> Result<Folded, ProjectionError> {
        read_ahead(self.store.read_as_of(as_of), |events| {
            fold_bounded(events, apply_views, WrittenOnce::AsValues, self.fold_limit)
        })
    }

    /// Recomputes every projection from sequence 1 and compares it with the
    /// persisted ones (brought up to the same head first), document by
    /// document. This is how an auditor proves the reports were not
    /// tampered with. `progress` is told the sequence the fold has reached
    /// (through a [`Reporter`]: every so often, and `seq` at the end).
    pub fn rebuild(
        &self,
        mode: RebuildMode,
        progress: &mut dyn FnMut(u64),
    ) -> Result<RebuildReport, ProjectionError> {
        let (seq, stuck) = match self.catch_up() {
            Ok(seq) => (seq, false),
            // Documents that cannot be brought up to date are what a
            // repair replaces, with their checkpoint: it folds the whole log
            // from nothing.
            Err(
                ProjectionError::Document { .. }
                | ProjectionError::Inconsistent { .. }
                | ProjectionError::Unfit { .. },
            ) if mode == RebuildMode::Replace => (self.store.head()?.seq, true),
            Err(e) => return Err(e),
        };
        let mut reporter = Reporter::new(progress);
        let events = self.store.read_as_of(AsOf::Sequence(seq));
        let rebuilt = read_ahead(events, |records| {
            let mut reached = records.inspect(|r| {
                if let Ok(record) = r {
                    reporter.reached(record.seq);
                }
            });
            fold_bounded(&mut reached, apply, WrittenOnce::AsBytes, self.fold_limit)
        })?;
        reporter.finish(seq);
        let (documents, differences) = differences(&rebuilt, self.store)?;
        let replaced = mode == RebuildMode::Replace && (stuck || !differences.is_empty());
        if replaced {
            // The fold is the documents a replay would write: they replace
            // the persisted ones as they are, in one replace (on sled,
            // pages in a new generation).
            rebuilt.replace_in(self.store, seq)?;
        }
        Ok(RebuildReport {
            seq,
            documents,
            differences,
            replaced,
        })
    }

    /// A replay: folds the whole log to its head with bounded memory
    /// ([`fold_bounded`]) and puts the documents in place of the persisted
    /// ones, with their checkpoint, in one replace
    /// ([`ProjectionStore::projection_replace`]). Unlike a reset and a
    /// catch-up, no document is written twice or read back from the store,
    /// and a backend writes the whole set at once (sled: pages in a new
    /// generation). Returns the checkpoint, the head it folded to.
    pub fn replay(&self) -> Result<u64, ProjectionError> {
        let seq = self.store.head()?.seq;
        let folded = read_ahead(self.store.read_as_of(AsOf::Sequence(seq)), |records| {
            fold_bounded(records, apply, WrittenOnce::AsBytes, self.fold_limit)
        })?;
        folded.replace_in(self.store, seq)?;
        Ok(seq)
    }

    /// R40: every end-date event whose stored outcome its stored inputs do
    /// not give, in log order.
    pub fn rederive_all(&self) -> Result<Vec<RederiveFinding>, ProjectionError> {
        let mut findings = Vec::new();
        for record in self.store.read_from(1) {
            findings.extend(RederiveFinding::of(&record?));
        }
        Ok(findings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use benefit_store::SCAN_PAGE_DOCUMENTS;

    /// A rebuild's comparison, read beside the persisted documents in key
    /// order, finds a document only the rebuild has, one only persisted,
    /// and one that differs, and nothing where both agree.
    #[test]
    fn differences_are_the_documents_either_side_has_alone_or_otherwise() {
        let docs = |list: &[(&str, u64)]| -> BTreeMap<String, Vec<u8>> {
            list.iter()
                .map(|(k, v)| ((*k).to_owned(), crate::docs::encode_document(v)))
                .collect()
        };
        let stored = |documents: BTreeMap<String, Vec<u8>>| {
            let store = benefit_store::MemoryStore::new(benefit_store::SystemClock);
            store.projection_commit(0, 1, documents).expect("commits");
            store
        };
        let rebuilt = docs(&[("a/1", 1), ("a/2", 2), ("b/1", 3), ("c/1", 4)]);
        let persisted = stored(docs(&[("a/0", 0), ("a/1", 1), ("b/1", 30), ("c/1", 4)]));
        let (documents, found) =
            differences(&DocMap(rebuilt.clone()), &persisted).expect("compares");
        assert_eq!(documents, 4);
        let keys: Vec<(&str, bool, bool)> = found
            .iter()
            .map(|d| (d.key.as_str(), d.persisted.is_some(), d.rebuilt.is_some()))
            .collect();
        assert_eq!(
            keys,
            [
                ("a/0", true, false),
                ("a/2", false, true),
                ("b/1", true, true)
            ]
        );
        let same = differences(&DocMap(rebuilt.clone()), &stored(rebuilt)).expect("compares");
        assert!(same.1.is_empty());
        let trailing = differences(&DocMap(docs(&[("d/1", 1)])), &stored(BTreeMap::new()));
        assert_eq!(trailing.expect("compares").1.len(), 1);
    }

    /// Past the first page of the persisted documents, the comparison still
    /// finds the one document a side lacks, and nothing else.
    #[test]
    fn differences_are_found_across_the_persisted_pages() {
        let many = SCAN_PAGE_DOCUMENTS * 2 + 500;
        let rebuilt: BTreeMap<String, Vec<u8>> = (0..many)
            .map(|n| (format!("a/{n:06}"), crate::docs::encode_document(&n)))
            .collect();
        let mut persisted = rebuilt.clone();
        let missing = format!("a/{:06}", SCAN_PAGE_DOCUMENTS + 17);
        persisted.remove(&missing);
        let store = benefit_store::MemoryStore::new(benefit_store::SystemClock);
        store.projection_commit(0, 1, persisted).expect("commits");
        let (documents, found) = differences(&DocMap(rebuilt), &store).expect("compares");
        assert_eq!(documents, many);
        let keys: Vec<&str> = found.iter().map(|d| d.key.as_str()).collect();
        assert_eq!(keys, [missing.as_str()]);
    }
}
