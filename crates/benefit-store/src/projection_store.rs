//! The seam where derived documents are persisted: documents under string
//! keys and a checkpoint (the last sequence folded into them), changed
//! together in one atomic, durable write.
//!
//! A backend implements it beside [`crate::EventStore`], and the two know
//! nothing of each other: the log's commit never writes a document, and a
//! document write never touches the log. The shell commits the log first and
//! the documents after, so a crash in between leaves the checkpoint behind
//! the head, and the next open catches up from the log. The documents'
//! contents are the projections crate's business; the store keeps bytes.

use std::collections::BTreeMap;

use crate::StoreError;

/// The contract of [`ProjectionStore::projection_commit`]'s position check,
/// for every backend: a commit that starts from another checkpoint than
/// the one stored (another writer caught up first) is a conflict naming both.
pub fn check_checkpoint(from: u64, stored: u64) -> Result<(), StoreError> {
    if stored == from {
        Ok(())
    } else {
        Err(StoreError::Conflict {
            expected: from,
            actual: stored,
        })
    }
}

/// A document: its key and its bytes.
pub type Document = (String, Vec<u8>);

/// What [`ProjectionStore::projection_replace`] reads the new documents
/// from: each in key order, or the error that ended the pass producing them.
pub type DocumentSource<'d> = dyn Iterator<Item = Result<Document, StoreError>> + 'd;

/// The contract of [`ProjectionStore::projection_replace`]'s input, for
/// every backend: `source`'s documents as they come, each key after the one
/// before it; the first that is not ends it with the error naming both.
/// The previous key is kept in one buffer, not copied per document.
pub struct KeyOrdered<'s, 'd> {
    source: &'s mut DocumentSource<'d>,
    previous: Option<String>,
}

impl<'s, 'd> KeyOrdered<'s, 'd> {
    /// `source`, checked.
    pub fn new(source: &'s mut DocumentSource<'d>) -> Self {
        Self {
            source,
            previous: None,
        }
    }
}

impl Iterator for KeyOrdered<'_, '_> {
    type Item = Result<Document, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        let document = match self.source.next()? {
            Ok(document) => document,
            Err(e) => return Some(Err(e)),
        };
        match &mut self.previous {
            Some(before) if document.0 <= *before => Some(Err(StoreError::Projection {
                message: format!(
                    "the documents to replace are not in key order: {:?} after {before:?}",
                    document.0
                ),
            })),
            Some(before) => {
                before.clear();
                before.push_str(&document.0);
                Some(Ok(document))
            }
            None => {
                self.previous = Some(document.0.clone());
                Some(Ok(document))
            }
        }
    }
}

/// How many documents a page of a paged scan holds
/// ([`ProjectionStore::projection_scan_page`]): enough that a server's round
/// trip per page is a small part of reading it (a thousand documents of a
/// few hundred bytes each), few enough that a page is a few hundred KiB
/// whatever the length of the log.
pub const SCAN_PAGE_DOCUMENTS: usize = 1_000;

/// Persistence for projections and decision state, implemented by every
/// backend of the log.
pub trait ProjectionStore {
    /// The last sequence folded into the persisted documents (0: none).
    /// A reset that a crash interrupted is finished first, so that no fold
    /// ever starts over documents a reset meant to remove.
    fn projection_checkpoint(&self) -> Result<u64, StoreError>;

    /// The document under `key`.
    fn projection_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;

    /// The documents under `keys`, in their order (a key given twice is
    /// answered twice): what [`ProjectionStore::projection_get`] answers
    /// for each, read together. A server backend reads them in one round
    /// trip; the default reads them one by one, which is as fast for an
    /// embedded one.
    fn projection_get_many(&self, keys: &[&str]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        keys.iter().map(|key| self.projection_get(key)).collect()
    }

    /// Every document whose key starts with `prefix`, in key order: one
    /// page without a limit.
    fn projection_scan(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        self.projection_scan_page(prefix, None, usize::MAX)
    }

    /// One page of [`ProjectionStore::projection_scan`]: at most `limit`
    /// documents whose key starts with `prefix` and comes after `after`
    /// (from the first, if none), in key order. A long pass reads a family
    /// of documents page by page, so that it holds one page in memory, not
    /// the family ([`SCAN_PAGE_DOCUMENTS`]); each page is one range read
    /// (one round trip to a server).
    fn projection_scan_page(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Document>, StoreError>;

    /// The last document (in key order) whose key starts with `prefix`.
    fn projection_last(&self, prefix: &str) -> Result<Option<(String, Vec<u8>)>, StoreError>;

    /// For each of `prefixes`, in their order, what
    /// [`ProjectionStore::projection_last`] answers for it, read together
    /// (one round trip on a server). The default reads them one by one.
    fn projection_last_many(&self, prefixes: &[&str]) -> Result<Vec<Option<Document>>, StoreError> {
        prefixes
            .iter()
            .map(|prefix| self.projection_last(prefix))
            .collect()
    }

    /// Writes the documents and moves the checkpoint from `from` to `to`,
    /// in one atomic write. It need not be durable when this returns (sled's
    /// is not flushed): the documents are derived, and a commit a crash
    /// loses is lost with its checkpoint, so the next open catches up from
    /// the log. If the checkpoint is not `from`
    /// (another writer caught up first), nothing is written and the answer
    /// is [`StoreError::Conflict`] with both positions.
    fn projection_commit(
        &self,
        from: u64,
        to: u64,
        writes: BTreeMap<String, Vec<u8>>,
    ) -> Result<(), StoreError>;

    /// Drops every document and sets the checkpoint to 0: the start of a
    /// rebuild. Crash-safe: an interrupted reset is finished by the next
    /// [`ProjectionStore::projection_checkpoint`], before anything reads the
    /// documents it left. The log is never touched.
    fn projection_reset(&self) -> Result<(), StoreError>;

    /// Replaces every document with `documents` (in key order, each key
    /// once) and sets the checkpoint to `to`: the documents of a whole
    /// fold at once (a long fold's first move to its scratch store). A crash leaves either the old
    /// documents with their checkpoint, or an empty set at checkpoint 0, or
    /// the new ones: never a mixture that a catch-up would fold over. If
    /// `documents` ends in an error or is out of order, that is the answer,
    /// and the documents are the old ones or none (as a crash leaves them:
    /// derived documents, caught up from the log by the next open).
    ///
    /// The default collects them, resets, and commits them in one write.
    /// sled's ledger resets, then writes them into a new generation a batch
    /// at a time and switches to it; a scratch store packs them into pages.
    fn projection_replace(
        &self,
        to: u64,
        documents: &mut DocumentSource<'_>,
    ) -> Result<(), StoreError> {
        let mut writes = BTreeMap::new();
        for document in KeyOrdered::new(documents) {
            let (key, bytes) = document?;
            writes.insert(key, bytes);
        }
        self.projection_reset()?;
        self.projection_commit(0, to, writes)
    }
}

/// Every document whose key starts with `prefix`, in key order, read
/// [`SCAN_PAGE_DOCUMENTS`] at a time with
/// [`ProjectionStore::projection_scan_page`]: a pass over a whole family
/// that holds one page in memory, not the family. After an error it ends.
pub fn pages<'s, S: ProjectionStore + ?Sized>(store: &'s S, prefix: &str) -> Pages<'s, S> {
    Pages {
        store,
        prefix: prefix.to_owned(),
        page: Vec::new().into_iter(),
        after: None,
        ended: false,
    }
}

/// The documents of a family, page by page: see [`pages`].
pub struct Pages<'s, S: ?Sized> {
    store: &'s S,
    prefix: String,
    page: std::vec::IntoIter<Document>,
    /// The last key of the page read last.
    after: Option<String>,
    /// Whether the page read last was the family's last.
    ended: bool,
}

impl<S: ProjectionStore + ?Sized> Iterator for Pages<'_, S> {
    type Item = Result<Document, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(document) = self.page.next() {
                return Some(Ok(document));
            }
            if self.ended {
                return None;
            }
            let page = self.store.projection_scan_page(
                &self.prefix,
                self.after.as_deref(),
                SCAN_PAGE_DOCUMENTS,
            );
            match page {
                Ok(page) => {
                    self.ended = page.len() < SCAN_PAGE_DOCUMENTS;
                    self.after = page.last().map(|(key, _)| key.clone());
                    self.page = page.into_iter();
                }
                Err(e) => {
                    self.ended = true;
                    return Some(Err(e));
                }
            }
        }
    }
}
