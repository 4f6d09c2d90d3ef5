//! The domain state, persisted per entity: the documents the application
//! shell loads before deciding a batch, so that a command on a ledger of a
//! million events reads a handful of documents instead of folding the log.
//!
//! The fold keeps them current like every other projection: for each event
//! it loads the entities [`benefit_domain::touches`] names into a fresh,
//! partial [`State`], runs the domain's own [`benefit_domain::evolve`] on it,
//! and writes those entities back. No rule is re-implemented here.
//!
//! Document keys (each holds the entity's value as JSON):
//! - `state/benefit/{benefit}`, `state/credit/{benefit}`,
//!   `state/sub/{subscription}`, `state/user/{user}`,
//!   `state/holdings/{user}` (an empty list once a user holds nothing);
//! - `state/key/{sha256 of the key, hex}`: the key itself is a secret (R3)
//!   and is not written outside the log;
//! - `state/format`: the format of every projection document, written by
//!   the fold at sequence 1, so that a ledger whose projections were written
//!   before these documents existed, or in an older format (1: JSON
//!   documents; 2: postcard, see [`crate::docs`]), is told apart and rebuilt
//!   once (see `Projections::catch_up`).

use std::collections::BTreeSet;

use benefit_domain::{evolve, touches, Benefit, CreditHolders, Entity, EntityKey, Key, State};
use benefit_domain::{Subscription, User};
use benefit_events::BenefitId;
use benefit_store::StoredEvent;
use serde::de::DeserializeOwned;
use sha2::{Digest as _, Sha256};

use crate::docs::{decode_document, Docs, Overlay};
use crate::ProjectionError;

/// The marker document of the documents' format, and its value.
pub const STATE_FORMAT_KEY: &str = "state/format";
const STATE_FORMAT: u32 = 2;

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

/// Reads one entity from persisted (or in-memory) documents.
pub fn load_entity(docs: &dyn Docs, key: &EntityKey) -> Result<Option<Entity>, ProjectionError> {
    let doc = state_key(key);
    let Some(bytes) = docs.get(&doc)? else {
        return Ok(None);
    };
    Ok(Some(match key {
        EntityKey::Benefit(_) => Entity::Benefit(decode(&doc, &bytes)?),
        EntityKey::Key(_) => Entity::Key(decode(&doc, &bytes)?),
        EntityKey::Subscription(_) => Entity::Subscription(decode(&doc, &bytes)?),
        EntityKey::User(_) => Entity::User(decode(&doc, &bytes)?),
        EntityKey::Credit(_) => Entity::Credit(decode(&doc, &bytes)?),
        EntityKey::Holdings(_) => Entity::Holdings(decode(&doc, &bytes)?),
    }))
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

fn load_in_overlay(docs: &Overlay<'_>, key: &EntityKey) -> Result<Option<Entity>, ProjectionError> {
    let doc = state_key(key);
    Ok(match key {
        EntityKey::Benefit(_) => docs.load::<Benefit>(&doc)?.map(Entity::Benefit),
        EntityKey::Key(_) => docs.load::<Key>(&doc)?.map(Entity::Key),
        EntityKey::Subscription(_) => docs.load::<Subscription>(&doc)?.map(Entity::Subscription),
        EntityKey::User(_) => docs.load::<User>(&doc)?.map(Entity::User),
        EntityKey::Credit(_) => docs.load::<CreditHolders>(&doc)?.map(Entity::Credit),
        EntityKey::Holdings(_) => docs
            .load::<BTreeSet<BenefitId>>(&doc)?
            .map(Entity::Holdings),
    })
}

/// Applies one stored event to the state documents: the entities it
/// touches, loaded into a partial state, evolved, written back.
pub fn apply_state(docs: &mut Overlay<'_>, record: &StoredEvent) -> Result<(), ProjectionError> {
    if record.seq == 1 {
        docs.store(STATE_FORMAT_KEY.to_owned(), STATE_FORMAT);
    }
    let touched = touches(&record.event);
    let mut state = State::default();
    for key in &touched {
        if let Some(entity) = load_in_overlay(docs, key)? {
            state.insert(key.clone(), entity);
        }
    }
    let state = evolve(state, &record.event);
    for key in touched {
        let doc = state_key(&key);
        match state.entity(&key) {
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
    Ok(())
}
