//! Documents packed into pages: in a scratch store's documents tree, and
//! in a ledger's documents generation that a replay or a repair wrote.
//!
//! A replace ([`crate::ProjectionStore::projection_replace`]: a long fold's
//! first move to its scratch store, a replay's or a repair's whole set of
//! documents) writes every document at once, in pages of at most
//! [`PAGE_DOCUMENTS`] and [`PAGE_BYTES`], one sled value each, under the key
//! of the page's first document ([`super::layout::page_key`]), and marks
//! the tree ([`super::layout::DOCUMENTS_PACKED`]). A document committed
//! after it (`projection_commit`) is a sled key of its own and is read over
//! the pages: where a key is in both, the single one is the newer. No
//! commit removes a document, so nothing in a page is ever hidden by an
//! absence.
//!
//! Why: sled writes small keys at 40 000-65 000 a second on this machine,
//! and a page of 64 documents in about the time of one (2 000 000 documents
//! of 150 bytes: 30-50 s one key each, 2.8 s in pages; `docs/performance.md`,
//! *Packed documents*). Fewer keys also mean fewer of sled's nodes, which
//! its open and its page table pay for.
//!
//! Pages were kept out of layout 3's ledgers (`docs/performance.md`,
//! *Packed documents*): there a replay's pages shrank the documents inside
//! the one database the log shared, and sled 0.34 zeroes every free
//! segment of its file at each open; and removing the old documents key by
//! key was 62% of that replay. Since layout 4 a replace writes a new
//! generation's database and removes the old one's directory, so neither
//! cost stands (the thirteenth round).
//!
//! A page is `PAGE_FORMAT_1` then the postcard encoding of its entries,
//! `[(key, bytes)]`, in key order. Pages cover disjoint ranges of keys in
//! their own key order: the page that may hold a key is the last one whose
//! first key is not after it.

use std::iter::Peekable;
use std::ops::Bound;

use serde::{Serialize, Serializer};

use super::layout::{page_key, DOCUMENTS_CHECKPOINT, DOCUMENTS_PACKED, PAGE_PREFIX};
use crate::projection_store::{DocumentSource, KeyOrdered};
use crate::{Document, StoreError};

/// How many documents one page holds at most: the packing the log's
/// segments measured best (64 or 256 records a value wrote alike, and a
/// point read decodes the whole page).
pub(super) const PAGE_DOCUMENTS: usize = 64;

/// How many bytes of documents one page holds at most (a page closes at
/// the document that reaches it, or at [`PAGE_DOCUMENTS`]). sled writes a
/// tree node of more than a quarter of a segment (128 KiB of its 512 KiB)
/// as a file of its own under `blobs/`, and splits a leaf past 16 entries:
/// leaves of pages of 64 documents (10-20 KiB) were such files (1 695 of
/// them after a 1 000 000-event replay), one write each. 17 pages of 6 KiB
/// stay under 128 KiB.
pub(super) const PAGE_BYTES: usize = 6 * 1024;

/// How many pages one `apply_batch` of a replace writes: sled frees nothing
/// a batch replaces before it ends, so a whole set is written in parts.
const PAGES_PER_WRITE: usize = 100;

/// The first byte of every page this program writes.
const PAGE_FORMAT_1: u8 = 1;

fn damaged(message: String) -> StoreError {
    StoreError::Projection { message }
}

/// A document's bytes as postcard's byte string (one length, then the
/// bytes), not as a sequence of numbers serialized one by one.
struct Bytes<'a>(&'a [u8]);

impl Serialize for Bytes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

/// The bytes of a page of `documents` (in key order).
fn encode_page(documents: &[Document]) -> Result<Vec<u8>, StoreError> {
    let entries: Vec<(&str, Bytes<'_>)> = documents
        .iter()
        .map(|(key, bytes)| (key.as_str(), Bytes(bytes)))
        .collect();
    postcard::to_extend(&entries, vec![PAGE_FORMAT_1])
        .map_err(|e| damaged(format!("a page of documents cannot be encoded: {e}")))
}

/// A page's entries, borrowed from its bytes.
fn decode_page(page: &[u8]) -> Result<Vec<(&str, &[u8])>, StoreError> {
    match page.split_first() {
        Some((&PAGE_FORMAT_1, entries)) => postcard::from_bytes(entries)
            .map_err(|e| damaged(format!("a page of documents does not decode: {e}"))),
        Some((format, _)) => Err(damaged(format!(
            "a page of documents of format {format}; this program reads format {PAGE_FORMAT_1}"
        ))),
        None => Err(damaged("an empty page of documents".into())),
    }
}

fn read_failed(e: sled::Error) -> StoreError {
    StoreError::backend("reading a page of projections", e)
}

/// The pages whose first key is in `(from, to)`, in key order.
fn pages_between(tree: &sled::Tree, from: Bound<Vec<u8>>, to: Bound<Vec<u8>>) -> sled::Iter {
    tree.range((from, to))
}

/// Every page's key is after this and before [`pages_end`].
fn pages_start() -> Bound<Vec<u8>> {
    Bound::Included(vec![PAGE_PREFIX])
}

fn pages_end() -> Bound<Vec<u8>> {
    Bound::Excluded(vec![PAGE_PREFIX + 1])
}

/// The last page (its key and bytes) whose first key is before `to`.
fn last_page_before(
    tree: &sled::Tree,
    to: Bound<Vec<u8>>,
) -> Result<Option<(sled::IVec, sled::IVec)>, StoreError> {
    pages_between(tree, pages_start(), to)
        .next_back()
        .transpose()
        .map_err(read_failed)
}

/// The page that may hold `key`: the last whose first key is not after it.
fn page_holding(
    tree: &sled::Tree,
    key: &str,
) -> Result<Option<(sled::IVec, sled::IVec)>, StoreError> {
    last_page_before(tree, Bound::Included(page_key(key)))
}

/// The document under `key` in the pages, if a page holds it.
pub(super) fn paged_get(tree: &sled::Tree, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
    let Some((_, page)) = page_holding(tree, key)? else {
        return Ok(None);
    };
    let entries = decode_page(&page)?;
    Ok(entries
        .binary_search_by(|(k, _)| (*k).cmp(key))
        .ok()
        .map(|at| entries[at].1.to_vec()))
}

/// The last paged document whose key starts with `prefix`.
pub(super) fn paged_last(tree: &sled::Tree, prefix: &str) -> Result<Option<Document>, StoreError> {
    let end = crate::table::prefix_end(prefix);
    let to = end
        .as_deref()
        .map_or_else(pages_end, |end| Bound::Excluded(page_key(end)));
    let Some((_, page)) = last_page_before(tree, to)? else {
        return Ok(None);
    };
    let entries = decode_page(&page)?;
    let before_end = |key: &str| end.as_deref().map_or(true, |end| key < end);
    Ok(entries
        .iter()
        .rev()
        .find(|(key, _)| before_end(key))
        .filter(|(key, _)| key.starts_with(prefix))
        .map(|(key, bytes)| ((*key).to_owned(), bytes.to_vec())))
}

/// The paged documents from `start` on whose keys start with `prefix`, in
/// key order, a page read at a time.
pub(super) struct PagedScan {
    pages: sled::Iter,
    page: std::vec::IntoIter<Document>,
    prefix: String,
    start: Bound<String>,
    ended: bool,
}

impl PagedScan {
    /// From the page that may hold `start` (or the first page) on.
    pub(super) fn new(
        tree: &sled::Tree,
        prefix: &str,
        start: Bound<&str>,
    ) -> Result<Self, StoreError> {
        let (Bound::Included(from) | Bound::Excluded(from)) = start else {
            return Err(damaged("a scan of pages without a start".into()));
        };
        let first = match page_holding(tree, from)? {
            Some((key, _)) => Bound::Included(key.to_vec()),
            None => pages_start(),
        };
        Ok(Self {
            pages: pages_between(tree, first, pages_end()),
            page: Vec::new().into_iter(),
            prefix: prefix.to_owned(),
            start: start.map(str::to_owned),
            ended: false,
        })
    }

    fn after_start(&self, key: &str) -> bool {
        match &self.start {
            Bound::Included(start) => key >= start.as_str(),
            Bound::Excluded(start) => key > start.as_str(),
            Bound::Unbounded => true,
        }
    }

    /// The next page's entries, owned; `None` past the last page.
    fn next_page(&mut self) -> Option<Result<Vec<Document>, StoreError>> {
        let (_, page) = match self.pages.next()? {
            Ok(item) => item,
            Err(e) => return Some(Err(read_failed(e))),
        };
        Some(decode_page(&page).map(|entries| {
            entries
                .into_iter()
                .map(|(key, bytes)| (key.to_owned(), bytes.to_vec()))
                .collect()
        }))
    }
}

impl Iterator for PagedScan {
    type Item = Result<Document, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.ended {
            if let Some(document) = self.page.next() {
                if !self.after_start(&document.0) {
                    continue;
                }
                if document.0.starts_with(&self.prefix) {
                    return Some(Ok(document));
                }
                // Past the prefix's keys: every later one is too.
                self.ended = document.0.as_str() > self.prefix.as_str();
                continue;
            }
            match self.next_page() {
                Some(Ok(page)) => self.page = page.into_iter(),
                Some(Err(e)) => {
                    self.ended = true;
                    return Some(Err(e));
                }
                None => self.ended = true,
            }
        }
        None
    }
}

/// Two scans in key order read as one: on a key both have, `over`'s
/// document (a single document over a page's). An error of either is
/// handed on as it comes.
pub(super) struct Merged<I: Iterator, J: Iterator> {
    over: Peekable<I>,
    under: Peekable<J>,
}

impl<I, J> Merged<I, J>
where
    I: Iterator<Item = Result<Document, StoreError>>,
    J: Iterator<Item = Result<Document, StoreError>>,
{
    pub(super) fn new(over: I, under: J) -> Self {
        Self {
            over: over.peekable(),
            under: under.peekable(),
        }
    }
}

impl<I, J> Iterator for Merged<I, J>
where
    I: Iterator<Item = Result<Document, StoreError>>,
    J: Iterator<Item = Result<Document, StoreError>>,
{
    type Item = Result<Document, StoreError>;

    fn next(&mut self) -> Option<Self::Item> {
        use std::cmp::Ordering;
        let order = match (self.over.peek(), self.under.peek()) {
            (None, None) => return None,
            (Some(Err(_)), _) | (Some(Ok(_)), None) => Ordering::Less,
            (_, Some(Err(_))) | (None, Some(Ok(_))) => Ordering::Greater,
            (Some(Ok(over)), Some(Ok(under))) => over.0.cmp(&under.0),
        };
        match order {
            Ordering::Less => self.over.next(),
            Ordering::Greater => self.under.next(),
            Ordering::Equal => {
                self.under.next();
                self.over.next()
            }
        }
    }
}

/// Writes `documents` (in key order, each key once) into an empty
/// documents tree as pages, and the checkpoint `to` and the mark
/// [`DOCUMENTS_PACKED`] (how many documents the pages hold) in the last
/// write; not flushed here. Answers how many it wrote. An error in the
/// source or a key out of order ends it with that error, and the tree holds
/// a part: the caller writes into a tree nothing reads until this has
/// answered.
pub(super) fn write_pages(
    tree: &sled::Tree,
    to: u64,
    documents: &mut DocumentSource<'_>,
) -> Result<u64, StoreError> {
    let write = |batch: sled::Batch| {
        tree.apply_batch(batch)
            .map_err(|e| StoreError::backend("writing pages of projections", e))
    };
    let mut page: Vec<Document> = Vec::with_capacity(PAGE_DOCUMENTS);
    let mut batch = sled::Batch::default();
    let mut pages_in_batch = 0;
    let mut page_bytes = 0;
    let mut written = 0u64;
    for document in KeyOrdered::new(documents) {
        let document = document?;
        written += 1;
        page_bytes += document.0.len() + document.1.len();
        page.push(document);
        if page.len() == PAGE_DOCUMENTS || page_bytes >= PAGE_BYTES {
            batch.insert(page_key(&page[0].0), encode_page(&page)?);
            page.clear();
            page_bytes = 0;
            pages_in_batch += 1;
            if pages_in_batch == PAGES_PER_WRITE {
                write(std::mem::take(&mut batch))?;
                pages_in_batch = 0;
            }
        }
    }
    if let Some((first, _)) = page.first() {
        batch.insert(page_key(first), encode_page(&page)?);
    }
    batch.insert(DOCUMENTS_CHECKPOINT, &to.to_be_bytes());
    batch.insert(DOCUMENTS_PACKED, &written.to_be_bytes());
    write(batch).map(|()| written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_decodes_to_the_documents_it_was_encoded_from() {
        let documents: Vec<Document> = vec![
            ("a/1".into(), vec![]),
            ("a/2".into(), vec![0, 255, 7]),
            ("b/é".into(), vec![1; 300]),
        ];
        let bytes = encode_page(&documents).expect("encodes");
        let decoded: Vec<Document> = decode_page(&bytes)
            .expect("decodes")
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_vec()))
            .collect();
        assert_eq!(decoded, documents);
    }

    #[test]
    fn a_page_of_another_format_or_none_is_refused_by_name() {
        let other = decode_page(&[2, 0]).expect_err("format 2 is unknown");
        assert!(other.to_string().contains("format 2"), "{other}");
        let empty = decode_page(&[]).expect_err("nothing is no page");
        assert!(empty.to_string().contains("empty page"), "{empty}");
        let cut = decode_page(&[PAGE_FORMAT_1, 3]).expect_err("a cut page");
        assert!(cut.to_string().contains("does not decode"), "{cut}");
    }
}
