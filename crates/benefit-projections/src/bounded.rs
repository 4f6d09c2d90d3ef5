//! Folds of a long stretch of the log whose memory does not grow with the
//! log (issue 11, point 5): a rebuild's fold of every document, and the
//! views an as-of report reads.
//!
//! The fold runs in memory on typed values, as a catch-up batch does. Each
//! time it holds [`FOLD_DOCUMENTS_IN_MEMORY`] documents, it moves them to a
//! scratch store on local disk ([`ScratchDocuments`]) and goes on over
//! them, as a catch-up goes on over the persisted documents after a commit.
//! A log whose documents fit is folded wholly in memory, as before, and
//! nothing touches the disk. The scratch store is the pass's alone: it is
//! removed when the pass's answer is dropped.

use benefit_store::{Document, ProjectionStore, ScratchDocuments, StoreError, StoredEvent};

use crate::docs::{Docs, EachDocument, Overlay, NO_DOCUMENTS};
use crate::ledger::Persisted;
use crate::ProjectionError;

/// How many documents a long fold holds in memory before it moves them to
/// its scratch store: a bound on its memory whatever the length of the log.
///
/// Chosen by measurement (`docs/performance.md`, *Long folds with bounded
/// memory*). Moving documents to sled costs the same whatever the bound (a
/// rebuild of 1 000 000 events took 80 s with any bound it passed, against
/// 35 s in memory; an as-of report at 900 000 took 20-23 s against 7 s),
/// because sled writes small keys at about 70 000 a second; a smaller bound
/// only lowers the peak (250 000: 1.0 GiB, 1 000 000: 1.6 GiB, none:
/// 1.9 GiB). So the bound is as high as keeps a long fold to a few GiB: a
/// 1 000 000-event ledger (3.5 million documents) still folds in memory at
/// its full speed, and a longer one folds in a few GiB instead of 2 GiB for
/// every million events.
pub const FOLD_DOCUMENTS_IN_MEMORY: usize = 4_000_000;

/// How one event changes the documents of a fold ([`crate::fold::apply`],
/// [`crate::fold::apply_views`]).
pub type Fold = fn(&mut Overlay<'_>, &StoredEvent) -> Result<(), ProjectionError>;

/// How a fold keeps the documents it writes once (audit records, credit
/// changes) until they are read or moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WrittenOnce {
    /// As values ([`Overlay::new`]): an as-of view, whose reports read them.
    AsValues,
    /// As their bytes ([`Overlay::encoding_written_once`]): a rebuild, which
    /// compares and commits bytes.
    AsBytes,
}

impl WrittenOnce {
    /// An overlay over `base` that keeps them so.
    fn overlay(self, base: &dyn Docs) -> Overlay<'_> {
        match self {
            WrittenOnce::AsValues => Overlay::new(base),
            WrittenOnce::AsBytes => Overlay::encoding_written_once(base),
        }
    }
}

/// What a long fold gives: every document it folded, in memory or on disk.
pub enum Folded {
    /// Every document fit in memory.
    InMemory(Overlay<'static>),
    /// The documents passed the bound: all of them are in the scratch store,
    /// whose checkpoint is the last sequence folded.
    OnDisk(ScratchDocuments),
}

impl Folded {
    /// These documents, read through [`Docs`].
    fn with<R>(&self, read: impl FnOnce(&dyn Docs) -> R) -> R {
        match self {
            Folded::InMemory(overlay) => read(overlay),
            Folded::OnDisk(scratch) => read(&Persisted(scratch)),
        }
    }
}

impl Folded {
    /// Puts these documents in place of every document of `store`, with
    /// the checkpoint `to`, in one [`ProjectionStore::projection_replace`]:
    /// read in key order from memory or from the scratch store, never
    /// collected again.
    pub fn replace_in<S: ProjectionStore + ?Sized>(
        self,
        store: &S,
        to: u64,
    ) -> Result<(), ProjectionError> {
        match self {
            Folded::InMemory(overlay) => {
                let mut documents = overlay.into_sorted_writes().map(Ok);
                Ok(store.projection_replace(to, &mut documents)?)
            }
            Folded::OnDisk(scratch) => {
                let mut documents = benefit_store::pages(&scratch, "");
                Ok(store.projection_replace(to, &mut documents)?)
            }
        }
    }
}

impl Docs for Folded {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ProjectionError> {
        self.with(|docs| docs.get(key))
    }
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, ProjectionError> {
        self.with(|docs| docs.get_many(keys))
    }
    fn scan(&self, prefix: &str) -> Result<Vec<Document>, ProjectionError> {
        self.with(|docs| docs.scan(prefix))
    }
    fn scan_each(&self, prefix: &str, each: &mut EachDocument<'_>) -> Result<(), ProjectionError> {
        self.with(|docs| docs.scan_each(prefix, each))
    }
    fn last(&self, prefix: &str) -> Result<Option<Document>, ProjectionError> {
        self.with(|docs| docs.last(prefix))
    }
    fn last_many(&self, prefixes: &[String]) -> Result<Vec<Option<Document>>, ProjectionError> {
        self.with(|docs| docs.last_many(prefixes))
    }
    fn as_overlay(&self) -> Option<&Overlay<'_>> {
        match self {
            Folded::InMemory(overlay) => Some(overlay),
            Folded::OnDisk(_) => None,
        }
    }
}

/// Applies every event of `events` with `fold`, from no documents, holding
/// at most `limit` documents in memory (see the module's doc).
pub fn fold_bounded(
    events: &mut dyn Iterator<Item = Result<StoredEvent, StoreError>>,
    fold: Fold,
    kept: WrittenOnce,
    limit: usize,
) -> Result<Folded, ProjectionError> {
    let mut overlay = kept.overlay(&NO_DOCUMENTS);
    let mut seq;
    loop {
        let Some(record) = events.next() else {
            return Ok(Folded::InMemory(overlay));
        };
        let record = record?;
        fold(&mut overlay, &record)?;
        seq = record.seq;
        if overlay.len() >= limit {
            break;
        }
    }
    let scratch = ScratchDocuments::open()?;
    // The first move writes the documents as pages, in one pass in key
    // order (`ProjectionStore::projection_replace`); later ones are commits
    // over them.
    Folded::InMemory(overlay).replace_in(&scratch, seq)?;
    fold_on_disk(&scratch, events, fold, kept, limit)?;
    Ok(Folded::OnDisk(scratch))
}

/// The rest of [`fold_bounded`], over the documents already in `scratch`.
fn fold_on_disk(
    scratch: &ScratchDocuments,
    events: &mut dyn Iterator<Item = Result<StoredEvent, StoreError>>,
    fold: Fold,
    kept: WrittenOnce,
    limit: usize,
) -> Result<(), ProjectionError> {
    let base = Persisted(scratch);
    let mut overlay = kept.overlay(&base);
    let mut from = scratch.projection_checkpoint()?;
    let mut seq = from;
    for record in events {
        let record = record?;
        fold(&mut overlay, &record)?;
        seq = record.seq;
        if overlay.len() >= limit {
            let full = std::mem::replace(&mut overlay, kept.overlay(&base));
            scratch.projection_commit(from, seq, full.into_writes())?;
            from = seq;
        }
    }
    Ok(scratch.projection_commit(from, seq, overlay.into_writes())?)
}
