//! Where projections live: a map of documents (JSON values under string
//! keys), read through [`Docs`] and changed through an [`Overlay`] that
//! collects writes, so the same fold serves a rebuild in memory, an as-of
//! query, and a catch-up that commits its writes with the checkpoint in one
//! atomic step.
//!
//! Document keys (ids are `[a-z0-9._-]`, so `/` cannot occur inside one):
//! - `sub/{subscription}` — [`crate::SubscriptionView`]
//! - `audit/{subscription}/{seq:020}` — [`crate::AuditEntry`]
//! - `benefit/{benefit}` — [`crate::BenefitView`]
//! - `credit/{benefit}` — [`crate::CreditView`]

use std::any::Any;
use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::ProjectionError;

/// Read access to a set of projection documents.
pub trait Docs {
    /// The document under `key`.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ProjectionError>;
    /// Every document whose key starts with `prefix`, in key order.
    fn scan(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, ProjectionError>;
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
        // Projection models are plain data; encoding them cannot fail.
        serde_json::to_vec(self).expect("projection documents encode to JSON")
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
        bytes
            .map(|b| {
                serde_json::from_slice(&b).map_err(|e| ProjectionError::Document {
                    key: key.to_owned(),
                    message: e.to_string(),
                })
            })
            .transpose()
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
        .map(|(key, bytes)| {
            serde_json::from_slice(&bytes).map_err(|e| ProjectionError::Document {
                key,
                message: e.to_string(),
            })
        })
        .collect()
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
/// The key of a credit's document.
pub fn credit_key(id: &str) -> String {
    format!("credit/{id}")
}
