//! The projections of one ledger: persisted beside its log, brought up to
//! date from their checkpoint, computed as of any point of the log, rebuilt
//! and compared, and the log's stored outcomes re-derived (R40).

use benefit_domain::{rederive, Mismatch};
use std::collections::BTreeMap;

use benefit_events::StreamId;
use benefit_store::{
    read_ahead, AsOf, EventStore, ProjectionStore, Reporter, StoreError, StoredEvent,
    SCAN_PAGE_DOCUMENTS,
};

use crate::docs::{DocMap, Docs, EachDocument, Overlay};
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
        let mut after: Option<String> = None;
        loop {
            let page =
                self.0
                    .projection_scan_page(prefix, after.as_deref(), SCAN_PAGE_DOCUMENTS)?;
            let full = page.len() == SCAN_PAGE_DOCUMENTS;
            after = page.last().map(|(key, _)| key.clone());
            for (key, bytes) in page {
                each(key, bytes)?;
            }
            if !full {
                return Ok(());
            }
        }
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
/// ([`Overlay::encoding_written_once`]).
pub fn fold_all(
    events: &mut dyn Iterator<Item = Result<StoredEvent, StoreError>>,
) -> Result<DocMap, ProjectionError> {
    let overlay = Overlay::encoding_written_once(&crate::docs::NO_DOCUMENTS);
    Ok(DocMap(
        fold_from_nothing(overlay, events, apply)?.into_writes(),
    ))
}

/// Applies every event of `events` with `fold` to `overlay`, an overlay
/// over no documents.
fn fold_from_nothing(
    mut overlay: Overlay<'static>,
    events: &mut dyn Iterator<Item = Result<StoredEvent, StoreError>>,
    fold: fn(&mut Overlay<'_>, &StoredEvent) -> Result<(), ProjectionError>,
) -> Result<Overlay<'static>, ProjectionError> {
    for record in events {
        fold(&mut overlay, &record?)?;
    }
    Ok(overlay)
}

/// Folds a stream of stored events into the report views only, in memory:
/// what a report as of a point of the log reads. The decision state and
/// the stream index are left out, because no report reads them (the report
/// fold reads no decision state, and the decider's state is not a report);
/// leaving them out was most of the work of an as-of query (issue 11). The
/// views are kept as values, encoded only when a report reads them.
pub fn fold_views(
    events: &mut dyn Iterator<Item = Result<StoredEvent, StoreError>>,
) -> Result<Overlay<'static>, ProjectionError> {
    fold_from_nothing(
        Overlay::new(&crate::docs::NO_DOCUMENTS),
        events,
        apply_views,
    )
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

/// Every document where `persisted` and `rebuilt` differ, in key order.
/// The persisted documents are read page by page beside the rebuilt ones,
/// in one pass in key order: a rebuild holds its own fold, not a second
/// copy of every document (issue 11, point 5).
fn differences(
    rebuilt: &BTreeMap<String, Vec<u8>>,
    persisted: &dyn Docs,
) -> Result<Vec<Difference>, ProjectionError> {
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
    let mut rebuilt = rebuilt.iter().peekable();
    persisted.scan_each("", &mut |key, bytes| {
        while let Some((only_rebuilt, b)) = rebuilt.next_if(|(r, _)| r.as_str() < key.as_str()) {
            found.push(differ(only_rebuilt, None, Some(b)));
        }
        match rebuilt.next_if(|(r, _)| r.as_str() == key.as_str()) {
            Some((_, b)) if *b == bytes => {}
            same_key => found.push(differ(&key, Some(&bytes), same_key.map(|(_, b)| &b[..]))),
        }
        Ok(())
    })?;
    found.extend(rebuilt.map(|(key, b)| differ(key, None, Some(b))));
    Ok(found)
}

/// The projections of the ledger in `store`.
pub struct Projections<'s, S: EventStore + ProjectionStore + ?Sized> {
    store: &'s S,
}

impl<'s, S: EventStore + ProjectionStore + ?Sized> Projections<'s, S> {
    /// The projections of `store`'s ledger.
    pub fn new(store: &'s S) -> Self {
        Self { store }
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
    /// folded in memory from the start of the log: see [`fold_views`].
    pub fn as_of(&self, as_of: AsOf) -> Result<Overlay<'static>, ProjectionError> {
        read_ahead(self.store.read_as_of(as_of), fold_views)
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
            fold_all(&mut records.inspect(|r| {
                if let Ok(record) = r {
                    reporter.reached(record.seq);
                }
            }))
        })?;
        reporter.finish(seq);
        let differences = differences(&rebuilt.0, &Persisted(self.store))?;
        let replaced = mode == RebuildMode::Replace && (stuck || !differences.is_empty());
        let documents = rebuilt.0.len();
        if replaced {
            self.store.projection_reset()?;
            // Handed over, not copied: the fold is all of the documents.
            self.store.projection_commit(0, seq, rebuilt.0)?;
        }
        Ok(RebuildReport {
            seq,
            documents,
            differences,
            replaced,
        })
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
        let rebuilt = docs(&[("a/1", 1), ("a/2", 2), ("b/1", 3), ("c/1", 4)]);
        let persisted = DocMap(docs(&[("a/0", 0), ("a/1", 1), ("b/1", 30), ("c/1", 4)]));
        let found = differences(&rebuilt, &persisted).expect("compares");
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
        assert!(differences(&rebuilt, &DocMap(rebuilt.clone()))
            .expect("compares")
            .is_empty());
        let trailing = differences(&docs(&[("d/1", 1)]), &DocMap::default()).expect("compares");
        assert_eq!(trailing.len(), 1);
    }
}
