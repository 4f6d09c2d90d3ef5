//! The domain state, persisted per entity: the documents the application
//! shell loads before deciding a batch, so that a command on a ledger of a
//! million events reads a handful of documents instead of folding the log.
//!
//! The fold keeps them current like every other projection: for each event
//! it loads the entities [`benefit_domain::touches`] names into a fresh,
//! partial [`State`], runs the domain's own [`benefit_domain::evolve`] on it,
//! and writes those entities back. No rule is re-implemented here.
//!
//! Where each entity is stored:
//! - `state/benefit/{benefit}`, `state/credit/{benefit}`,
//!   `state/user/{user}`, `state/holdings/{user}` (an empty list once a user
//!   holds nothing): a document of its own each;
//! - a subscription: inside its `sub/{subscription}` document
//!   ([`crate::SubDoc`]), which every key use writes anyway;
//! - a key: its slot in its benefit's view (`benefit/{benefit}`, seats and
//!   where, when and how it was used), found through `state/key/{sha256 of
//!   the key, hex}` ([`crate::KeyIndex`]), written once at the grant. After
//!   each event the key's state as `evolve` computes it is checked against
//!   the slot the fold wrote: the domain stays the authority, and the facts
//!   are stored once. The key itself is a secret (R3) and is not written
//!   outside the log.
//!
//! So a key use writes the audit entry, the subscription and the benefit:
//! two sled keys fewer than with separate state documents (issue 6).
//! - `state/format`: the format of every projection document, written by
//!   the fold at sequence 1, so that a ledger whose projections were written
//!   before these documents existed, or in an older format (1: JSON
//!   documents; 2: postcard, see [`crate::docs`]; 4: subscriptions and keys
//!   inside the view documents), is told apart and rebuilt once (see
//!   `Projections::catch_up`).

use std::collections::BTreeSet;

use benefit_domain::User;
use benefit_domain::{
    evolve, touches, Benefit, CreditHolders, Entity, EntityKey, Key, KeyUse, State,
};
use benefit_events::{BenefitId, Event, EventType, Provision};
use benefit_store::StoredEvent;
use serde::de::DeserializeOwned;
use sha2::{Digest as _, Sha256};
use std::any::Any;

use crate::docs::{benefit_key, decode_document, sub_key, Docs, Overlay};
use crate::model::{BenefitView, KeyIndex, SubDoc};
use crate::ProjectionError;

/// The marker document of the documents' format, and its value.
pub const STATE_FORMAT_KEY: &str = "state/format";
const STATE_FORMAT: u32 = 4;

/// The document key of an entity's own document; for a key, of its
/// [`KeyIndex`]; for a subscription, of the [`SubDoc`] that holds it.
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
        EntityKey::Subscription(id) => sub_key(id.as_str()),
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

/// A key's state as its slot in its benefit's view records it; none before
/// its grant.
fn key_state(docs: &impl Typed, key: &EntityKey) -> Result<Option<Key>, ProjectionError> {
    let doc = state_key(key);
    let Some(index) = docs.typed::<KeyIndex>(&doc)? else {
        return Ok(None);
    };
    let unreadable = |message: String| ProjectionError::Document {
        key: doc.clone(),
        message,
    };
    let view = docs
        .typed::<BenefitView>(&benefit_key(index.benefit.as_str()))?
        .ok_or_else(|| {
            unreadable(format!(
                "names benefit {}, which has no document",
                index.benefit
            ))
        })?;
    let slot = usize::try_from(index.position)
        .ok()
        .and_then(|p| view.keys.get(p))
        .ok_or_else(|| {
            unreadable(format!(
                "names place {} of benefit {}",
                index.position, index.benefit
            ))
        })?;
    let used = match &slot.used {
        None => None,
        Some(used) => Some(KeyUse {
            subscription: used.subscription.clone(),
            on: used.on,
            how: EventType::from_name(&used.how)
                .ok_or_else(|| unreadable(format!("a key used by '{}'", used.how)))?,
        }),
    };
    Ok(Some(Key {
        benefit: index.benefit.clone(),
        seats: slot.seats,
        used,
    }))
}

fn load_with(docs: &impl Typed, key: &EntityKey) -> Result<Option<Entity>, ProjectionError> {
    let doc = state_key(key);
    Ok(match key {
        EntityKey::Benefit(_) => docs.typed::<Benefit>(&doc)?.map(Entity::Benefit),
        EntityKey::Key(_) => key_state(docs, key)?.map(Entity::Key),
        EntityKey::Subscription(_) => docs
            .typed::<SubDoc>(&doc)?
            .and_then(|d| d.state)
            .map(Entity::Subscription),
        EntityKey::User(_) => docs.typed::<User>(&doc)?.map(Entity::User),
        EntityKey::Credit(_) => docs.typed::<CreditHolders>(&doc)?.map(Entity::Credit),
        EntityKey::Holdings(_) => docs
            .typed::<BTreeSet<BenefitId>>(&doc)?
            .map(Entity::Holdings),
    })
}

/// Reads one entity from persisted (or in-memory) documents.
pub fn load_entity(docs: &dyn Docs, key: &EntityKey) -> Result<Option<Entity>, ProjectionError> {
    load_with(&docs, key)
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
            "key" => serde_json::to_value(decode::<KeyIndex>(key, bytes)?),
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

// An event reaches the state documents in two steps around the fold's own
// writes (`crate::fold::apply`): the entities it touches are loaded into a
// partial state and evolved before the fold changes the documents that hold
// them (`evolve_touched`), and written, or checked, after (`store_evolved`).

/// The entities an event touches, after it: loaded as they were before it,
/// then evolved by the domain.
pub struct Evolved {
    touched: Vec<EntityKey>,
    state: State,
}

/// Loads the entities `record` touches and evolves them.
pub fn evolve_touched(
    docs: &Overlay<'_>,
    record: &StoredEvent,
) -> Result<Evolved, ProjectionError> {
    let touched = touches(&record.event);
    let mut state = State::default();
    for key in &touched {
        if let Some(entity) = load_with(docs, key)? {
            state.insert(key.clone(), entity);
        }
    }
    Ok(Evolved {
        state: evolve(state, &record.event),
        touched,
    })
}

/// Writes evolved entities where they are stored; a key's is checked
/// against the slot the fold wrote.
pub fn store_evolved(
    docs: &mut Overlay<'_>,
    record: &StoredEvent,
    evolved: Evolved,
) -> Result<(), ProjectionError> {
    if record.seq == 1 {
        docs.store(STATE_FORMAT_KEY.to_owned(), STATE_FORMAT);
    }
    let Evolved { touched, state } = evolved;
    for key in touched {
        let doc = state_key(&key);
        match state.entity(&key) {
            Some(Entity::Benefit(v)) => docs.store(doc, v),
            Some(Entity::Key(v)) => store_key(docs, record, &key, v)?,
            Some(Entity::Subscription(v)) => {
                // The fold wrote the view of this event's subscription just
                // before (`fold::apply_key_use`).
                let mut sub: SubDoc =
                    docs.load(&doc)?
                        .ok_or_else(|| ProjectionError::Inconsistent {
                            seq: record.seq,
                            what: format!("document {doc} for the subscription's state"),
                        })?;
                sub.state = Some(v);
                docs.store(doc, sub);
            }
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

/// A key's state after an event: at the grant, its index is written; the
/// slot the fold wrote in the benefit's view must then say what `evolve`
/// says, or the projections are inconsistent.
fn store_key(
    docs: &mut Overlay<'_>,
    record: &StoredEvent,
    key: &EntityKey,
    value: Key,
) -> Result<(), ProjectionError> {
    let inconsistent = |what: String| ProjectionError::Inconsistent {
        seq: record.seq,
        what,
    };
    let EntityKey::Key(product_key) = key else {
        return Err(inconsistent(
            "key entity under another entity's name".into(),
        ));
    };
    let recorded = match key_state(docs, key)? {
        Some(recorded) => recorded,
        None => {
            // The grant: the key's place is its place in the grant's list,
            // which is the order of the benefit's view (`fold::apply`).
            let position = match &record.event {
                Event::BenefitGranted(e) => match &e.provides {
                    Provision::Keys(keys) => keys.iter().position(|k| &k.key == product_key),
                    Provision::Credit(_) => None,
                },
                _ => None,
            }
            .and_then(|p| u32::try_from(p).ok())
            .ok_or_else(|| inconsistent(format!("grant of key {product_key}")))?;
            let index = KeyIndex {
                benefit: value.benefit.clone(),
                position,
            };
            docs.store(state_key(key), index);
            key_state(docs, key)?
                .ok_or_else(|| inconsistent(format!("index of key {product_key}")))?
        }
    };
    if recorded == value {
        Ok(())
    } else {
        Err(inconsistent(format!(
            "slot of key {product_key} in benefit {} as the domain has it",
            value.benefit
        )))
    }
}
