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
use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::ProjectionError;

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
    /// The last document (in key order) whose key starts with `prefix`.
    fn last(&self, prefix: &str) -> Result<Option<(String, Vec<u8>)>, ProjectionError> {
        Ok(self.scan(prefix)?.pop())
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
pub struct Overlay<'a> {
    base: &'a dyn Docs,
    writes: BTreeMap<String, Box<dyn Pending>>,
}

/// A document written in an overlay: a model value, encoded on demand.
trait Pending {
    fn encode(&self) -> Vec<u8>;
    fn as_any(&self) -> &dyn Any;
}

impl<T: Serialize + Any> Pending for T {
    fn encode(&self) -> Vec<u8> {
        encode_document(self)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl<'a> Overlay<'a> {
    /// An overlay with no writes yet.
    pub fn new(base: &'a dyn Docs) -> Self {
        Self {
            base,
            writes: BTreeMap::new(),
        }
    }

    /// Reads and decodes a document.
    pub fn load<T: DeserializeOwned + Clone + Any>(
        &self,
        key: &str,
    ) -> Result<Option<T>, ProjectionError> {
        let bytes = match self.writes.get(key) {
            Some(pending) => match pending.as_any().downcast_ref::<T>() {
                Some(value) => return Ok(Some(value.clone())),
                // Written as another model: read it as its bytes would be.
                None => Some(pending.encode()),
            },
            None => self.base.get(key)?,
        };
        bytes.map(|b| decode_document(key, &b)).transpose()
    }

    /// Writes a document (encoded when the writes are handed over).
    pub fn store<T: Serialize + Any>(&mut self, key: String, value: T) {
        self.writes.insert(key, Box::new(value));
    }

    /// The documents written, encoded.
    pub fn into_writes(self) -> BTreeMap<String, Vec<u8>> {
        self.writes
            .into_iter()
            .map(|(key, pending)| (key, pending.encode()))
            .collect()
    }
}

/// Decodes every document under a prefix.
pub fn load_all<T: DeserializeOwned>(
    docs: &dyn Docs,
    prefix: &str,
) -> Result<Vec<T>, ProjectionError> {
    docs.scan(prefix)?
        .into_iter()
        .map(|(key, bytes)| decode_document(&key, &bytes))
        .collect()
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
