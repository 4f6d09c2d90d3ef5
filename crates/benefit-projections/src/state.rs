//! The decision state: the domain's own fold ([`benefit_domain::evolve`]),
//! persisted per entity in documents of its own, so that the application
//! shell loads a handful of them before deciding instead of folding the log.
//!
//! It stands apart from the reports: no report document is read or written
//! here, and the report fold ([`crate::fold`]) reads no state document. For
//! each event the entities [`benefit_domain::touches`] names are loaded
//! into a fresh, partial [`State`], evolved by the domain, and written back.
//! No rule is re-implemented here.
//!
//! Each entity is one document, encoded with postcard from the domain's own
//! types (their encoding is pinned by a snapshot test, `state_encoding`):
//! - `state/benefit/{benefit}` ([`benefit_domain::Benefit`]),
//!   `state/credit/{benefit}`, `state/user/{user}`, `state/holdings/{user}`
//!   (an empty set once a user holds nothing), `state/sub/{subscription}`;
//! - `state/key/{sha256 of the key, hex}` ([`benefit_domain::Key`]): the
//!   key itself is a secret (R3) and is never written outside the log.
//! - `state/format`: the format of every document, written by the fold at
//!   sequence 1, so that documents of an older format are told apart and
//!   rebuilt once (see `Projections::catch_up`). Format 5: decision state
//!   in its own documents (issue 11); 6: audit records with who recorded
//!   them (issue 13); 7: benefits in use and withdrawn (L8, issue 13).

use std::collections::BTreeSet;

use benefit_domain::User;
use benefit_domain::{
    evolve, inapplicable, touches, Benefit, CreditHolders, Entity, EntityKey, Key, State,
    Subscription,
};
use benefit_events::BenefitId;
use benefit_store::StoredEvent;
use serde::de::DeserializeOwned;
use sha2::{Digest as _, Sha256};
use std::any::Any;

use crate::docs::{decode_document, Docs, Overlay};
use crate::ProjectionError;

/// The marker document of the documents' format, and its value.
pub const STATE_FORMAT_KEY: &str = "state/format";
const STATE_FORMAT: u32 = 7;

/// The document key of an entity.
pub fn state_key(key: &EntityKey) -> String {
    match key {
        EntityKey::Benefit(id) => format!("state/benefit/{id}"),
        EntityKey::Key(k) => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            let digest = Sha256::digest(k.reveal().as_bytes());
            let mut out = String::with_capacity(10 + 64);
            out.push_str("state/key/");
            for b in digest {
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
            out
        }
        EntityKey::Subscription(id) => format!("state/sub/{id}"),
        EntityKey::User(name) => format!("state/user/{name}"),
        EntityKey::Credit(id) => format!("state/credit/{id}"),
        EntityKey::Holdings(name) => format!("state/holdings/{name}"),
    }
}

fn decode<T: DeserializeOwned>(key: &str, bytes: &[u8]) -> Result<T, ProjectionError> {
    decode_document(key, bytes)
}

/// Typed reads of documents: through an [`Overlay`] (the fold), or
/// straight from [`Docs`] (the shell, before deciding).
trait Typed {
    fn typed<T: DeserializeOwned + Clone + Any>(
        &self,
        key: &str,
    ) -> Result<Option<T>, ProjectionError>;
}

impl Typed for Overlay<'_> {
    fn typed<T: DeserializeOwned + Clone + Any>(
        &self,
        key: &str,
    ) -> Result<Option<T>, ProjectionError> {
        self.load(key)
    }
}

impl Typed for &dyn Docs {
    fn typed<T: DeserializeOwned + Clone + Any>(
        &self,
        key: &str,
    ) -> Result<Option<T>, ProjectionError> {
        self.get(key)?.map(|b| decode(key, &b)).transpose()
    }
}

fn load_with(docs: &impl Typed, key: &EntityKey) -> Result<Option<Entity>, ProjectionError> {
    let doc = state_key(key);
    Ok(match key {
        EntityKey::Benefit(_) => docs.typed::<Benefit>(&doc)?.map(Entity::Benefit),
        EntityKey::Key(_) => docs.typed::<Key>(&doc)?.map(Entity::Key),
        EntityKey::Subscription(_) => docs.typed::<Subscription>(&doc)?.map(Entity::Subscription),
        EntityKey::User(_) => docs.typed::<User>(&doc)?.map(Entity::User),
        EntityKey::Credit(_) => docs.typed::<CreditHolders>(&doc)?.map(Entity::Credit),
        EntityKey::Holdings(_) => docs
            .typed::<BTreeSet<BenefitId>>(&doc)?
            .map(Entity::Holdings),
    })
}

/// Reads one entity from persisted (or in-memory) documents. From an
/// [`Overlay`], a document it wrote is read as its value (cloned), not
/// encoded and decoded again.
pub fn load_entity(docs: &dyn Docs, key: &EntityKey) -> Result<Option<Entity>, ProjectionError> {
    match docs.as_overlay() {
        Some(overlay) => load_with(overlay, key),
        None => load_with(&docs, key),
    }
}

/// Reads several entities at once ([`Docs::get_many`]: one round trip to a
/// server backend), in the order of `keys`.
pub fn load_entities(
    docs: &dyn Docs,
    keys: &[EntityKey],
) -> Result<Vec<Option<Entity>>, ProjectionError> {
    let doc_keys: Vec<String> = keys.iter().map(state_key).collect();
    let values = docs.get_many(&doc_keys)?;
    let found = crate::DocMap(
        doc_keys
            .into_iter()
            .zip(values)
            .filter_map(|(key, value)| Some((key, value?)))
            .collect(),
    );
    keys.iter().map(|key| load_entity(&found, key)).collect()
}

/// Whether the documents hold the state family, in today's format (see
/// [`STATE_FORMAT_KEY`]).
pub fn has_state(docs: &dyn Docs) -> Result<bool, ProjectionError> {
    Ok(docs
        .get(STATE_FORMAT_KEY)?
        .is_some_and(|bytes| decode::<u32>(STATE_FORMAT_KEY, &bytes).ok() == Some(STATE_FORMAT)))
}

/// A state document as JSON (see [`crate::docs::document_json`]).
pub(crate) fn state_json(key: &str, bytes: &[u8]) -> Result<serde_json::Value, ProjectionError> {
    let entity = |family: &str| -> Result<serde_json::Value, ProjectionError> {
        let value = match family {
            "format" => serde_json::to_value(decode::<u32>(key, bytes)?),
            "benefit" => serde_json::to_value(decode::<Benefit>(key, bytes)?),
            "key" => serde_json::to_value(decode::<Key>(key, bytes)?),
            "sub" => serde_json::to_value(decode::<Subscription>(key, bytes)?),
            "user" => serde_json::to_value(decode::<User>(key, bytes)?),
            "credit" => serde_json::to_value(decode::<CreditHolders>(key, bytes)?),
            "holdings" => serde_json::to_value(decode::<BTreeSet<BenefitId>>(key, bytes)?),
            _ => {
                return Err(ProjectionError::Document {
                    key: key.to_owned(),
                    message: "not a state document".into(),
                })
            }
        };
        value.map_err(|e| ProjectionError::Document {
            key: key.to_owned(),
            message: e.to_string(),
        })
    };
    entity(key.split('/').nth(1).unwrap_or_default())
}

/// Applies one stored event to the decision state: the entities it
/// touches are loaded from their documents, evolved by the domain, and
/// written back.
pub fn apply_state(docs: &mut Overlay<'_>, record: &StoredEvent) -> Result<(), ProjectionError> {
    let touched = touches(&record.event);
    let mut state = State::default();
    let mut before = Vec::with_capacity(touched.len());
    for key in &touched {
        let entity = load_with(docs, key)?;
        if let Some(entity) = &entity {
            state.insert(key.clone(), entity.clone());
        }
        before.push(entity);
    }
    if let Some(why) = inapplicable(&state, &record.event) {
        return Err(ProjectionError::Unfit {
            seq: record.seq,
            why,
        });
    }
    let state = evolve(state, &record.event);
    if record.seq == 1 {
        docs.store(STATE_FORMAT_KEY.to_owned(), STATE_FORMAT);
    }
    for (key, before) in touched.into_iter().zip(before) {
        let after = state.entity(&key);
        // An entity the event left as it was (a benefit already in use,
        // L8) is not written again.
        if after.is_some() && after == before {
            continue;
        }
        store_entity(docs, &key, after);
    }
    Ok(())
}

/// Writes the entity under `key` to its document, as [`apply_state`] does
/// after an event: also what a walk of the log that moves its whole state
/// out of memory writes of each entity. `None`, an entity that is not
/// there, writes nothing, but for a user's holdings (an empty set).
pub fn store_entity(docs: &mut Overlay<'_>, key: &EntityKey, entity: Option<Entity>) {
    let doc = state_key(key);
    match entity {
        Some(Entity::Benefit(v)) => docs.store(doc, v),
        Some(Entity::Key(v)) => docs.store(doc, v),
        Some(Entity::Subscription(v)) => docs.store(doc, v),
        Some(Entity::User(v)) => docs.store(doc, v),
        Some(Entity::Credit(v)) => docs.store(doc, v),
        Some(Entity::Holdings(v)) => docs.store(doc, v),
        // A user who no longer holds any credit.
        None if matches!(key, EntityKey::Holdings(_)) => {
            docs.store(doc, BTreeSet::<BenefitId>::new());
        }
        // `evolve` found nothing to change (a log not written by the
        // decider): nothing to write.
        None => {}
    }
}
