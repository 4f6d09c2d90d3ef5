//! Where projections live: a map of documents (model values under string
//! keys), read through [`Docs`] and changed through an [`Overlay`] that
//! collects writes, so the same fold serves a rebuild in memory, an as-of
//! query, and a catch-up that commits its writes with the checkpoint in one
//! atomic step.
//!
//! Documents are stored in [postcard](https://postcard.jamesmunns.com/wire-format)
//! ([`encode_document`], [`decode_document`]), a compact binary serde format
//! with a published wire specification: JSON was a quarter of a replay's
//! time and most of the projections' bytes (issue 6). Reports and `rebuild`
//! show documents as JSON ([`document_json`]); the bytes are never shown.
//!
//! Document keys (ids are `[a-z0-9._-]`, so `/` cannot occur inside one):
//! - `sub/{subscription}` — [`crate::SubscriptionView`]
//! - `audit/{subscription}/{seq:020}` — [`crate::AuditRecord`]
//! - `benefit/{benefit}` — [`crate::BenefitView`] (its key slots also give
//!   the keys' domain state, see [`crate::state`])
//! - `credit/{benefit}` — [`crate::CreditView`]
//! - `credit-change/{benefit}/{seq:020}` — [`crate::CreditChange`], one per
//!   change of its holders
//! - `stream/{stream}/{version:020}` — the sequence of that version of the
//!   stream: the index by stream, derived from the log (issue 11: it is no
//!   longer part of the log's commit)
//! - `state/...` — the decision state ([`crate::state`])

use std::any::Any;
use std::collections::{BTreeMap, HashMap};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::ProjectionError;

/// What [`Docs::scan_each`] hands each document to: its key and bytes.
pub type EachDocument<'e> = dyn FnMut(String, Vec<u8>) -> Result<(), ProjectionError> + 'e;

/// Read access to a set of projection documents.
pub trait Docs {
    /// The document under `key`.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ProjectionError>;
    /// The documents under `keys`, in their order: one read where the
    /// store can (a round trip to a server), by default one `get` each.
    fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, ProjectionError> {
        keys.iter().map(|key| self.get(key)).collect()
    }
    /// Every document whose key starts with `prefix`, in key order.
    fn scan(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, ProjectionError>;
    /// Hands `each` every document whose key starts with `prefix`, in key
    /// order, and stops at its first error: what a pass over a whole
    /// family reads, holding no more of it than the store's page (the
    /// persisted documents are read page by page). By default one `scan`.
    fn scan_each(&self, prefix: &str, each: &mut EachDocument<'_>) -> Result<(), ProjectionError> {
        for (key, bytes) in self.scan(prefix)? {
            each(key, bytes)?;
        }
        Ok(())
    }
    /// The last document (in key order) whose key starts with `prefix`.
    fn last(&self, prefix: &str) -> Result<Option<(String, Vec<u8>)>, ProjectionError> {
        Ok(self.scan(prefix)?.pop())
    }
    /// These documents as an [`Overlay`], where they are one: what lets
    /// [`load_all`] hand over an as-of view's values without encoding and
    /// decoding each of them.
    fn as_overlay(&self) -> Option<&Overlay<'_>> {
        None
    }
    /// For each of `prefixes`, in their order, the last document under it:
    /// one read where the store can, by default one `last` each.
    fn last_many(
        &self,
        prefixes: &[String],
    ) -> Result<Vec<Option<benefit_store::Document>>, ProjectionError> {
        prefixes.iter().map(|prefix| self.last(prefix)).collect()
    }
}

/// Documents in memory: a rebuild, or an as-of view.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DocMap(pub BTreeMap<String, Vec<u8>>);

impl Docs for DocMap {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ProjectionError> {
        Ok(self.0.get(key).cloned())
    }
    fn scan(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, ProjectionError> {
        Ok(self
            .0
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }
}

/// Writes over a base: reads see the writes first. `into_writes` hands them
/// over for one atomic commit.
///
/// Written documents are kept as values, not bytes, until `into_writes`:
/// a document the fold changes many times in one batch (a benefit whose
/// keys are used one after another, a busy subscription) is decoded from
/// the base once and encoded once, instead of once per event. Profiles of a
/// replay showed that JSON work was the larger part of the fold.
///
/// They are kept in a hash map, not in key order: the fold reads and
/// writes one document at a time, several times an event, and a tree's
/// comparisons of string keys were a tenth of an as-of report's profile
/// (issue 11). What reads them in order (a scan, the writes handed over)
/// sorts the ones it reads.
pub struct Overlay<'a> {
    base: &'a dyn Docs,
    writes: HashMap<String, Box<dyn Pending>>,
    /// Documents written once are kept encoded ([`Encoded`]).
    encode_written_once: bool,
}

/// A document written in an overlay: a model value, encoded on demand.
trait Pending {
    fn encode(&self) -> Vec<u8>;
    fn as_any(&self) -> &dyn Any;
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

impl<T: Serialize + Any> Pending for T {
    fn encode(&self) -> Vec<u8> {
        encode_document(self)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

/// A written document already encoded: what a fold that keeps everything
/// it writes holds of the documents it writes once and never reads back
/// ([`Overlay::encoding_written_once`]). Read as any model, it is decoded
/// from its bytes, as a stored document would be.
struct Encoded(Vec<u8>);

impl Pending for Encoded {
    fn encode(&self) -> Vec<u8> {
        self.0.clone()
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

/// Whether the fold writes the document under `key` once, at its event,
/// and never reads it back: an audit record, a credit change.
fn written_once(key: &str) -> bool {
    key.starts_with("audit/") || key.starts_with("credit-change/")
}

/// A written document as a `T`: its value cloned, or, written as another
/// model, read as its bytes would be.
fn pending_value<T: DeserializeOwned + Clone + Any>(
    key: &str,
    pending: &dyn Pending,
) -> Result<T, ProjectionError> {
    match pending.as_any().downcast_ref::<T>() {
        Some(value) => Ok(value.clone()),
        None => decode_document(key, &pending.encode()),
    }
}

impl<'a> Overlay<'a> {
    /// An overlay with no writes yet.
    pub fn new(base: &'a dyn Docs) -> Self {
        Self {
            base,
            writes: HashMap::new(),
            encode_written_once: false,
        }
    }

    /// An overlay that keeps the documents written once (audit records,
    /// credit changes) as their bytes from the start: for a fold of the
    /// whole log that is compared or committed as bytes (a rebuild), where
    /// a value would only wait, at several times its size, to be encoded.
    /// An as-of view keeps values: its reports read every audit record.
    pub fn encoding_written_once(base: &'a dyn Docs) -> Self {
        Self {
            encode_written_once: true,
            ..Self::new(base)
        }
    }

    /// Reads and decodes a document.
    pub fn load<T: DeserializeOwned + Clone + Any>(
        &self,
        key: &str,
    ) -> Result<Option<T>, ProjectionError> {
        match self.writes.get(key) {
            Some(pending) => pending_value(key, pending.as_ref()).map(Some),
            None => self
                .base
                .get(key)?
                .map(|b| decode_document(key, &b))
                .transpose(),
        }
    }

    /// Reads and decodes a document to change it and [`Overlay::store`] it
    /// again: a document this overlay wrote is handed over, not cloned (a
    /// benefit's key slots, a subscription's benefits). Until it is stored
    /// again, reads see the base's document.
    pub fn take<T: DeserializeOwned + Any>(
        &mut self,
        key: &str,
    ) -> Result<Option<T>, ProjectionError> {
        let bytes = match self.writes.remove(key) {
            Some(pending) if pending.as_any().is::<T>() => {
                return Ok(pending.into_any().downcast::<T>().ok().map(|value| *value));
            }
            // Written as another model: read it as its bytes would be.
            Some(pending) => Some(pending.encode()),
            None => self.base.get(key)?,
        };
        bytes.map(|b| decode_document(key, &b)).transpose()
    }

    /// Writes a document (encoded when the writes are handed over).
    pub fn store<T: Serialize + Any>(&mut self, key: String, value: T) {
        if self.encode_written_once && written_once(&key) {
            let bytes = Encoded(encode_document(&value));
            self.writes.insert(key, Box::new(bytes));
        } else {
            self.writes.insert(key, Box::new(value));
        }
    }

    /// How many documents this overlay holds written.
    pub fn len(&self) -> usize {
        self.writes.len()
    }

    /// Whether this overlay holds no written document.
    pub fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    /// The documents written, encoded.
    pub fn into_writes(self) -> BTreeMap<String, Vec<u8>> {
        self.writes
            .into_iter()
            .map(|(key, pending)| (key, pending.encode()))
            .collect()
    }

    /// The documents written, in key order, each encoded as it is taken
    /// and its value dropped then: a whole fold handed over without a
    /// second copy of it in bytes.
    pub fn into_sorted_writes(self) -> impl Iterator<Item = (String, Vec<u8>)> {
        let mut writes: Vec<(String, Box<dyn Pending>)> = self.writes.into_iter().collect();
        writes.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        writes
            .into_iter()
            .map(|(key, pending)| (key, pending.encode()))
    }
}

/// An overlay is read as its writes over its base: an as-of view is an
/// overlay over no documents, read by the reports without first encoding
/// every document it folded (only what a report reads is encoded).
impl Docs for Overlay<'_> {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ProjectionError> {
        match self.writes.get(key) {
            Some(pending) => Ok(Some(pending.encode())),
            None => self.base.get(key),
        }
    }
    fn scan(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, ProjectionError> {
        let mut found: BTreeMap<String, Vec<u8>> = self.base.scan(prefix)?.into_iter().collect();
        let written = self.written_under(prefix);
        for (key, pending) in written {
            found.insert(key.clone(), pending.encode());
        }
        Ok(found.into_iter().collect())
    }
    fn scan_each(&self, prefix: &str, each: &mut EachDocument<'_>) -> Result<(), ProjectionError> {
        self.merged_each(
            prefix,
            |_, bytes| Ok(bytes),
            |_, pending| Ok(pending.encode()),
            each,
        )
    }
    fn as_overlay(&self) -> Option<&Overlay<'_>> {
        Some(self)
    }
}

impl Overlay<'_> {
    /// The documents written under `prefix`, in key order.
    fn written_under(&self, prefix: &str) -> Vec<(&String, &dyn Pending)> {
        let mut under: Vec<(&String, &dyn Pending)> = self
            .writes
            .iter()
            .filter(|(key, _)| key.starts_with(prefix))
            .map(|(key, pending)| (key, pending.as_ref()))
            .collect();
        under.sort_unstable_by(|a, b| a.0.cmp(b.0));
        under
    }

    /// Hands `each` every document under `prefix` in key order, as a `V`:
    /// the base's (read with [`Docs::scan_each`]) through `from_base`, and
    /// where this overlay wrote one, its written value instead, through
    /// `from_written`.
    fn merged_each<V>(
        &self,
        prefix: &str,
        mut from_base: impl FnMut(&str, Vec<u8>) -> Result<V, ProjectionError>,
        mut from_written: impl FnMut(&str, &dyn Pending) -> Result<V, ProjectionError>,
        each: &mut dyn FnMut(String, V) -> Result<(), ProjectionError>,
    ) -> Result<(), ProjectionError> {
        let mut written = self.written_under(prefix).into_iter().peekable();
        self.base.scan_each(prefix, &mut |key, bytes| {
            while let Some((first, pending)) = written.next_if(|(w, _)| w.as_str() <= key.as_str())
            {
                if first.as_str() == key.as_str() {
                    return each(key, from_written(first, pending)?);
                }
                each(first.clone(), from_written(first, pending)?)?;
            }
            let value = from_base(&key, bytes)?;
            each(key, value)
        })?;
        for (key, pending) in written {
            each(key.clone(), from_written(key, pending)?)?;
        }
        Ok(())
    }

    /// Hands `each` every document under `prefix`, decoded, in key order:
    /// the written values cloned, the base's decoded.
    fn for_each_loaded<T: DeserializeOwned + Clone + Any>(
        &self,
        prefix: &str,
        each: &mut dyn FnMut(String, T) -> Result<(), ProjectionError>,
    ) -> Result<(), ProjectionError> {
        self.merged_each(
            prefix,
            |key, bytes| decode_document(key, &bytes),
            pending_value,
            each,
        )
    }
}

/// Whether `key` names a report view (`sub/`, `audit/`, `benefit/`,
/// `credit/`, `credit-change/`): what an as-of view folds ([`crate::fold::apply_views`]), as
/// opposed to the decision state (`state/`) and the stream index
/// (`stream/`).
pub fn is_view(key: &str) -> bool {
    !(key.starts_with("state/") || key.starts_with("stream/"))
}

/// No documents: the base of a fold from the start of the log.
pub static NO_DOCUMENTS: DocMap = DocMap(BTreeMap::new());

/// Decodes every document under a prefix.
pub fn load_all<T: DeserializeOwned + Clone + Any>(
    docs: &dyn Docs,
    prefix: &str,
) -> Result<Vec<T>, ProjectionError> {
    let mut found = Vec::new();
    for_each_loaded(docs, prefix, &mut |_, value| {
        found.push(value);
        Ok(())
    })?;
    Ok(found)
}

/// The documents under `keys`, decoded, in their order: an overlay's
/// values as they are, otherwise read together ([`Docs::get_many`]: one
/// round trip to a server).
pub fn load_many<T: DeserializeOwned + Clone + Any>(
    docs: &dyn Docs,
    keys: &[String],
) -> Result<Vec<Option<T>>, ProjectionError> {
    if let Some(overlay) = docs.as_overlay() {
        return keys.iter().map(|key| overlay.load(key)).collect();
    }
    keys.iter()
        .zip(docs.get_many(keys)?)
        .map(|(key, bytes)| bytes.map(|b| decode_document(key, &b)).transpose())
        .collect()
}

/// Hands `each` every document under a prefix, decoded, in key order,
/// holding one at a time: an as-of view's values without encoding and
/// decoding each, the persisted documents page by page.
pub fn for_each_loaded<T: DeserializeOwned + Clone + Any>(
    docs: &dyn Docs,
    prefix: &str,
    each: &mut dyn FnMut(String, T) -> Result<(), ProjectionError>,
) -> Result<(), ProjectionError> {
    if let Some(overlay) = docs.as_overlay() {
        return overlay.for_each_loaded(prefix, each);
    }
    docs.scan_each(prefix, &mut |key, bytes| {
        let value = decode_document(&key, &bytes)?;
        each(key, value)
    })
}

/// The stored bytes of a document.
pub fn encode_document<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    // Projection models are plain data (no maps of unknown length, no
    // `flatten`): postcard cannot fail on them. A model that broke this
    // would fail every test that folds an event.
    postcard::to_stdvec(value).expect("projection documents encode to postcard")
}

/// A document from its stored bytes: the whole of them, or an error naming
/// the document.
pub fn decode_document<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T, ProjectionError> {
    let fail = |message: String| ProjectionError::Document {
        key: key.to_owned(),
        message,
    };
    let (value, rest) = postcard::take_from_bytes(bytes).map_err(|e| fail(e.to_string()))?;
    if !rest.is_empty() {
        return Err(fail(format!("{} bytes after the document", rest.len())));
    }
    Ok(value)
}

/// A stored document as JSON, for people: `rebuild`'s differences, tests.
/// The model is chosen by the key's family; product keys inside are masked
/// as in every report (R3).
pub fn document_json(key: &str, bytes: &[u8]) -> Result<serde_json::Value, ProjectionError> {
    use crate::model::{AuditRecord, BenefitView, CreditChange, CreditView, SubscriptionView};
    fn json<T: DeserializeOwned + Serialize>(
        key: &str,
        bytes: &[u8],
    ) -> Result<serde_json::Value, ProjectionError> {
        let value: T = decode_document(key, bytes)?;
        serde_json::to_value(&value).map_err(|e| ProjectionError::Document {
            key: key.to_owned(),
            message: e.to_string(),
        })
    }
    match key.split('/').next() {
        Some("sub") => json::<SubscriptionView>(key, bytes),
        Some("stream") => json::<u64>(key, bytes),
        Some("audit") => json::<AuditRecord>(key, bytes),
        Some("credit-change") => json::<CreditChange>(key, bytes),
        Some("benefit") => json::<BenefitView>(key, bytes),
        Some("credit") => json::<CreditView>(key, bytes),
        Some("state") => crate::state::state_json(key, bytes),
        _ => Err(ProjectionError::Document {
            key: key.to_owned(),
            message: "not a key of any projection".into(),
        }),
    }
}

/// The key of a subscription's document.
pub fn sub_key(id: &str) -> String {
    format!("sub/{id}")
}
/// The key of an audit entry: by subscription, then sequence.
pub fn audit_key(id: &str, seq: u64) -> String {
    format!("audit/{id}/{seq:020}")
}
/// The key of a benefit's document.
pub fn benefit_key(id: &str) -> String {
    format!("benefit/{id}")
}
/// The prefix of every stream-index document of a stream (ids hold no
/// `/`, so no stream's prefix is another's).
pub fn stream_prefix(stream: &str) -> String {
    format!("stream/{stream}/")
}
/// The stream-index document of a stream's version.
pub fn stream_key(stream: &str, version: u64) -> String {
    format!("stream/{stream}/{version:020}")
}
/// The key of one change of a credit's holders.
pub fn credit_change_key(benefit: &str, seq: u64) -> String {
    format!("credit-change/{benefit}/{seq:020}")
}
/// The key of a credit's document.
pub fn credit_key(id: &str) -> String {
    format!("credit/{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> DocMap {
        let doc = |n: u64| encode_document(&n);
        DocMap(BTreeMap::from([
            ("a/1".to_owned(), doc(1)),
            ("a/3".to_owned(), doc(3)),
            ("b/1".to_owned(), doc(10)),
        ]))
    }

    #[test]
    fn an_overlay_reads_as_its_writes_over_its_base() {
        let base = base();
        let mut overlay = Overlay::new(&base);
        overlay.store("a/2".to_owned(), 2u64);
        overlay.store("a/3".to_owned(), 30u64);
        overlay.store("ab/1".to_owned(), 99u64);
        let scanned: Vec<(String, u64)> = overlay
            .scan("a/")
            .expect("scan")
            .into_iter()
            .map(|(key, bytes)| {
                let value = decode_document(&key, &bytes).expect("decode");
                (key, value)
            })
            .collect();
        let keys = |list: &[(&str, u64)]| -> Vec<(String, u64)> {
            list.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
        };
        assert_eq!(scanned, keys(&[("a/1", 1), ("a/2", 2), ("a/3", 30)]));
        assert_eq!(
            overlay.get("b/1").expect("get"),
            Some(encode_document(&10u64))
        );
        assert_eq!(
            overlay.get("a/3").expect("get"),
            Some(encode_document(&30u64))
        );
        assert_eq!(overlay.get("c/1").expect("get"), None);
        assert_eq!(
            overlay.last("a/").expect("last").map(|(k, _)| k),
            Some("a/3".into())
        );
    }

    /// The one-at-a-time reading of an overlay is its whole scan: writes
    /// before, between, on and after the base's keys, and none from a
    /// sibling family, in key order; and it stops at the first error.
    #[test]
    fn an_overlay_read_one_at_a_time_is_its_scan() {
        let base = base();
        let mut overlay = Overlay::new(&base);
        for (key, value) in [
            ("a/0", 0u64),
            ("a/2", 2),
            ("a/3", 30),
            ("a/9", 9),
            ("a0", 7),
        ] {
            overlay.store(key.to_owned(), value);
        }
        for prefix in ["a/", "", "b/", "c/"] {
            let mut each = Vec::new();
            overlay
                .scan_each(prefix, &mut |key, bytes| {
                    each.push((key, bytes));
                    Ok(())
                })
                .expect("scan_each");
            assert_eq!(
                each,
                overlay.scan(prefix).expect("scan"),
                "under {prefix:?}"
            );
            let mut typed = Vec::new();
            for_each_loaded(&overlay, prefix, &mut |key, value: u64| {
                typed.push((key, encode_document(&value)));
                Ok(())
            })
            .expect("for_each_loaded");
            assert_eq!(typed, each, "typed under {prefix:?}");
        }
        let mut seen = 0;
        let stopped = overlay.scan_each("a/", &mut |key, _| {
            seen += 1;
            match key.as_str() {
                "a/2" => Err(ProjectionError::Document {
                    key,
                    message: "stop".into(),
                }),
                _ => Ok(()),
            }
        });
        assert!(matches!(stopped, Err(ProjectionError::Document { key, .. }) if key == "a/2"));
        assert_eq!(seen, 3, "a/0, a/1, then a/2 failed");
    }

    /// Kept as bytes or as a value, a document reads the same.
    #[test]
    fn a_document_written_once_reads_the_same_kept_as_its_bytes() {
        let record = |overlay: &mut Overlay<'_>| {
            overlay.store("audit/s1/1".to_owned(), 5u64);
            overlay.store("sub/s1".to_owned(), 6u64);
        };
        let (mut values, mut bytes) = (
            Overlay::new(&NO_DOCUMENTS),
            Overlay::encoding_written_once(&NO_DOCUMENTS),
        );
        record(&mut values);
        record(&mut bytes);
        assert!(bytes.writes["audit/s1/1"].as_any().is::<Encoded>());
        assert!(bytes.writes["sub/s1"].as_any().is::<u64>());
        assert_eq!(
            bytes.load::<u64>("audit/s1/1").expect("load"),
            values.load::<u64>("audit/s1/1").expect("load")
        );
        assert_eq!(
            bytes.scan("").expect("scan"),
            values.scan("").expect("scan")
        );
        assert_eq!(bytes.take::<u64>("audit/s1/1").expect("take"), Some(5));
        assert_eq!(values.into_writes().len(), 2);
    }

    #[test]
    fn take_hands_over_a_written_value_and_reads_the_base_otherwise() {
        let base = base();
        let mut overlay = Overlay::new(&base);
        overlay.store("a/1".to_owned(), 5u64);
        assert_eq!(overlay.take::<u64>("a/1").expect("take"), Some(5));
        // Taken, not yet stored again: the base's document shows.
        assert_eq!(overlay.take::<u64>("a/1").expect("take"), Some(1));
        assert_eq!(overlay.take::<u64>("a/9").expect("take"), None);
        // Written as another model: read as its bytes would be.
        overlay.store("b/2".to_owned(), 7u32);
        assert_eq!(overlay.take::<u64>("b/2").expect("take"), Some(7));
    }

    #[test]
    fn load_all_reads_an_overlay_as_its_encoded_documents() {
        let base = base();
        let mut overlay = Overlay::new(&base);
        overlay.store("a/2".to_owned(), 2u64);
        overlay.store("a/3".to_owned(), 30u32);
        let typed: Vec<u64> = load_all(&overlay, "a/").expect("typed");
        let encoded = DocMap(overlay.scan("").expect("scan").into_iter().collect());
        let decoded: Vec<u64> = load_all(&encoded, "a/").expect("decoded");
        assert_eq!(typed, vec![1, 2, 30]);
        assert_eq!(typed, decoded);
    }

    #[test]
    fn only_state_and_the_stream_index_are_not_views() {
        for key in [
            "sub/x",
            "audit/x/1",
            "benefit/b",
            "credit/b",
            "credit-change/b/1",
        ] {
            assert!(is_view(key), "{key}");
        }
        for key in ["state/partner/p", "stream/subscription/x/1"] {
            assert!(!is_view(key), "{key}");
        }
    }
}
