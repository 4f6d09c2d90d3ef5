//! The events: facts the ledger stores for ever, and their stable JSON form.
//!
//! Every event serializes as `{"type": "KeyRedeemed", "version": 1, "data":
//! {...}}`: the past-tense name, the schema version of that event type, and
//! its fields in snake_case with dates as `YYYY-MM-DD`. A released version is
//! never edited; a change adds a version and [`Event::from_parts`] upcasts the
//! older one on read, for the JSON form ([`Event::from_json`]) and for any
//! other format that stores the type, the version and the data apart (the
//! store's binary record format, which writes the data with
//! [`Event::serialize_data`]).

use std::borrow::Cow;
use std::fmt;

use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use thiserror::Error;

use crate::{
    BenefitId, BenefitType, Date, Offer, ProductKey, ProductName, Provision, Reason, Seats,
    SubscriptionId, UserName,
};

/// The schema version every event type is written with today.
pub const EVENT_SCHEMA_VERSION: u32 = 1;

/// A subscription's lifecycle status on a date (R20). It is computed, never
/// stored as an event of its own; [`KeyRedeemed`] records the status it
/// reactivated a subscription from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Before the end date.
    Active,
    /// From the end date for 30 days.
    Expired,
    /// The 90 days after that.
    Disabled,
    /// From 120 days after the end date on.
    Deleted,
}

impl Status {
    /// `active`, `expired`, `disabled` or `deleted`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Expired => "expired",
            Status::Disabled => "disabled",
            Status::Deleted => "deleted",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The rule that computed an end date stored in an event (R40).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OutcomeRule {
    /// A new term of 12 calendar months.
    R9,
    /// A prorated extension.
    R11,
    /// Seat-time averaging when licenses are added.
    R14,
}

impl fmt::Display for OutcomeRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A benefit was provisioned: keys with seats, or a credit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenefitGranted {
    /// The effective date.
    pub on: Date,
    /// The benefit's id.
    pub benefit: BenefitId,
    /// The product its keys are for, or `Microsoft Azure` for a credit.
    pub product: ProductName,
    /// The offer it came through.
    pub offer: Offer,
    /// Core or incremental.
    pub benefit_type: BenefitType,
    /// The last date on which its usage rights may be used (R7).
    pub expires: Date,
    /// Keys, or a credit.
    pub provides: Provision,
}

/// A user (or guest) exists in the partner's directory (R30).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserRegistered {
    /// The effective date.
    pub on: Date,
    /// The user's e-mail address.
    pub user: UserName,
    /// Whether the user is a guest of the tenant.
    pub guest: bool,
}

/// A key activated a subscription (R9, R10) for a new term.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyRedeemed {
    /// The effective date: the redemption date and the start of the term.
    pub on: Date,
    /// The subscription activated.
    pub subscription: SubscriptionId,
    /// The benefit the key came from.
    pub benefit: BenefitId,
    /// The key used (R6: never again).
    pub key: ProductKey,
    /// The product, the key's and from now on the subscription's.
    pub product: ProductName,
    /// Input: the key's seats, which become the subscription's seats.
    pub seats: Seats,
    /// Input: the term in calendar months (12).
    pub term_months: u32,
    /// The end date before, if the subscription existed (R10).
    pub old_end: Option<Date>,
    /// The status the subscription was reactivated from, if it existed (R10).
    pub reactivated_from: Option<Status>,
    /// Outcome: the new end date.
    pub new_end: Date,
    /// The rule that computed the outcome.
    pub rule: OutcomeRule,
}

/// A key extended an active subscription's end date (R11, R12, R13).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndDateExtended {
    /// The effective date.
    pub on: Date,
    /// The subscription extended.
    pub subscription: SubscriptionId,
    /// The benefit the key came from.
    pub benefit: BenefitId,
    /// The key used.
    pub key: ProductKey,
    /// Input `a`: the subscription's active seats.
    pub active_seats: Seats,
    /// Input `k`: the key's seats.
    pub key_seats: Seats,
    /// Outcome: whole calendar months of `12 × k / a`.
    pub months_added: u32,
    /// Outcome: the fraction of a month, as days at 365/12 a month, rounded
    /// half up.
    pub days_added: u32,
    /// The end date before.
    pub old_end: Date,
    /// Outcome: the new end date.
    pub new_end: Date,
    /// The rule that computed the outcome.
    pub rule: OutcomeRule,
}

/// A key added seats to an active subscription and co-termed its end date
/// (R14, R15, R16).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicensesAdded {
    /// The effective date.
    pub on: Date,
    /// The subscription grown.
    pub subscription: SubscriptionId,
    /// The benefit the key came from.
    pub benefit: BenefitId,
    /// The key used.
    pub key: ProductKey,
    /// Input `A`: seats before.
    pub seats_before: Seats,
    /// Input `C`: the key's seats.
    pub key_seats: Seats,
    /// Input `B`: days from the effective date to the old end date.
    pub days_left: u32,
    /// Input `T`: days in twelve months from the effective date.
    pub term_days: u32,
    /// Outcome: `(A × B + C × T) / (A + C)`, rounded half up.
    pub new_days_left: u32,
    /// Outcome: `A + C`.
    pub seats_after: Seats,
    /// The end date before.
    pub old_end: Date,
    /// Outcome: the effective date plus the new days left.
    pub new_end: Date,
    /// The rule that computed the outcome.
    pub rule: OutcomeRule,
}

/// A credit was given to a user (R30, R31, R32, R33).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreditAssigned {
    /// The effective date.
    pub on: Date,
    /// The credit benefit.
    pub benefit: BenefitId,
    /// The user given the credit.
    pub user: UserName,
}

/// A user was removed from a monthly credit (R31).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreditUnassigned {
    /// The effective date.
    pub on: Date,
    /// The credit benefit.
    pub benefit: BenefitId,
    /// The user removed.
    pub user: UserName,
}

/// An annual bulk credit moved from its holder to another user (R32).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreditTransferred {
    /// The effective date.
    pub on: Date,
    /// The credit benefit.
    pub benefit: BenefitId,
    /// The holder before.
    pub from: UserName,
    /// The holder after.
    pub to: UserName,
}

/// A benefit granted by mistake was withdrawn before any of its keys was
/// used or its credit given (L8). The grant stays in the log; from here on
/// the benefit is usable no more, and its keys may be granted again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenefitWithdrawn {
    /// The effective date.
    pub on: Date,
    /// The benefit withdrawn.
    pub benefit: BenefitId,
    /// Why, in the operator's words (a typo in the product name, say).
    pub reason: Reason,
}

/// A fact of the ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// See [`BenefitGranted`].
    BenefitGranted(BenefitGranted),
    /// See [`UserRegistered`].
    UserRegistered(UserRegistered),
    /// See [`KeyRedeemed`].
    KeyRedeemed(KeyRedeemed),
    /// See [`LicensesAdded`].
    LicensesAdded(LicensesAdded),
    /// See [`EndDateExtended`].
    EndDateExtended(EndDateExtended),
    /// See [`CreditAssigned`].
    CreditAssigned(CreditAssigned),
    /// See [`CreditUnassigned`].
    CreditUnassigned(CreditUnassigned),
    /// See [`CreditTransferred`].
    CreditTransferred(CreditTransferred),
    /// See [`BenefitWithdrawn`].
    BenefitWithdrawn(BenefitWithdrawn),
}

/// The type of an event, without its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum EventType {
    /// [`BenefitGranted`]
    BenefitGranted,
    /// [`UserRegistered`]
    UserRegistered,
    /// [`KeyRedeemed`]
    KeyRedeemed,
    /// [`LicensesAdded`]
    LicensesAdded,
    /// [`EndDateExtended`]
    EndDateExtended,
    /// [`CreditAssigned`]
    CreditAssigned,
    /// [`CreditUnassigned`]
    CreditUnassigned,
    /// [`CreditTransferred`]
    CreditTransferred,
    /// [`BenefitWithdrawn`]
    BenefitWithdrawn,
}

impl EventType {
    /// The event types of the rule book, in the order of its table: every
    /// type the ledger's first record formats were written with (their
    /// fixtures hold one of each).
    pub const RULE_BOOK: [EventType; 8] = [
        EventType::BenefitGranted,
        EventType::UserRegistered,
        EventType::KeyRedeemed,
        EventType::LicensesAdded,
        EventType::EndDateExtended,
        EventType::CreditAssigned,
        EventType::CreditUnassigned,
        EventType::CreditTransferred,
    ];

    /// Every event type: the rule book's, then the ledger's own
    /// (`BenefitWithdrawn`, L8).
    pub const ALL: [EventType; 9] = {
        let mut all = [EventType::BenefitWithdrawn; 9];
        let mut i = 0;
        while i < Self::RULE_BOOK.len() {
            all[i] = Self::RULE_BOOK[i];
            i += 1;
        }
        all
    };

    /// The past-tense name, as in the `type` tag.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::BenefitGranted => "BenefitGranted",
            EventType::UserRegistered => "UserRegistered",
            EventType::KeyRedeemed => "KeyRedeemed",
            EventType::LicensesAdded => "LicensesAdded",
            EventType::EndDateExtended => "EndDateExtended",
            EventType::CreditAssigned => "CreditAssigned",
            EventType::CreditUnassigned => "CreditUnassigned",
            EventType::CreditTransferred => "CreditTransferred",
            EventType::BenefitWithdrawn => "BenefitWithdrawn",
        }
    }

    /// The type named by a `type` tag.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The stream an event belongs to: the subscription, benefit or user it is
/// about. Written `subscription/contoso-o365`, `benefit/...`, `user/...`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StreamId(String);

impl StreamId {
    /// The stream of a subscription.
    pub fn subscription(id: &SubscriptionId) -> Self {
        Self(format!("subscription/{id}"))
    }
    /// The stream of a benefit (its grant and, for a credit, its holders).
    pub fn benefit(id: &BenefitId) -> Self {
        Self(format!("benefit/{id}"))
    }
    /// The stream of a user.
    pub fn user(name: &UserName) -> Self {
        Self(format!("user/{name}"))
    }
    /// The stream's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Event {
    /// The event's type.
    pub fn event_type(&self) -> EventType {
        match self {
            Event::BenefitGranted(_) => EventType::BenefitGranted,
            Event::UserRegistered(_) => EventType::UserRegistered,
            Event::KeyRedeemed(_) => EventType::KeyRedeemed,
            Event::LicensesAdded(_) => EventType::LicensesAdded,
            Event::EndDateExtended(_) => EventType::EndDateExtended,
            Event::CreditAssigned(_) => EventType::CreditAssigned,
            Event::CreditUnassigned(_) => EventType::CreditUnassigned,
            Event::CreditTransferred(_) => EventType::CreditTransferred,
            Event::BenefitWithdrawn(_) => EventType::BenefitWithdrawn,
        }
    }

    /// The effective date.
    pub fn on(&self) -> Date {
        match self {
            Event::BenefitGranted(e) => e.on,
            Event::UserRegistered(e) => e.on,
            Event::KeyRedeemed(e) => e.on,
            Event::LicensesAdded(e) => e.on,
            Event::EndDateExtended(e) => e.on,
            Event::CreditAssigned(e) => e.on,
            Event::CreditUnassigned(e) => e.on,
            Event::CreditTransferred(e) => e.on,
            Event::BenefitWithdrawn(e) => e.on,
        }
    }

    /// The stream the event belongs to.
    pub fn stream(&self) -> StreamId {
        match self {
            Event::BenefitGranted(e) => StreamId::benefit(&e.benefit),
            Event::UserRegistered(e) => StreamId::user(&e.user),
            Event::KeyRedeemed(e) => StreamId::subscription(&e.subscription),
            Event::LicensesAdded(e) => StreamId::subscription(&e.subscription),
            Event::EndDateExtended(e) => StreamId::subscription(&e.subscription),
            Event::CreditAssigned(e) => StreamId::benefit(&e.benefit),
            Event::CreditUnassigned(e) => StreamId::benefit(&e.benefit),
            Event::CreditTransferred(e) => StreamId::benefit(&e.benefit),
            Event::BenefitWithdrawn(e) => StreamId::benefit(&e.benefit),
        }
    }

    /// The stable JSON form, `{"type", "version", "data"}`.
    pub fn to_json(&self) -> Vec<u8> {
        // Serializing plain structs of strings, numbers and dates to memory
        // cannot fail; an error here would be a bug in a Serialize impl.
        serde_json::to_vec(self).expect("events always serialize to JSON")
    }

    /// Reads the JSON form, upcasting an older schema version to today's
    /// (through [`Event::from_parts`]).
    pub fn from_json(bytes: &[u8]) -> Result<Self, EventDecodeError> {
        // serde_json quotes a string of the wrong type in its message:
        // masked, in case it is a key (R3).
        let wire: Wire<'_> = serde_json::from_slice(bytes)
            .map_err(|e| EventDecodeError::Envelope(crate::mask_keys_in(&e.to_string())))?;
        let mut data = serde_json::Deserializer::from_str(wire.data.get());
        let event = Self::from_parts(&wire.event_type, wire.version, &mut data)?;
        // `data` is one JSON value (a `RawValue`), so nothing can follow it;
        // checked all the same, as `serde_json::from_str` would.
        data.end().map_err(|e| EventDecodeError::Data {
            event_type: event.event_type(),
            message: crate::mask_keys_in(&e.to_string()),
        })?;
        Ok(event)
    }

    /// Reads an event from its three stored parts, whatever the format they
    /// were stored in: the type's name (`KeyRedeemed`), its schema version,
    /// and a deserializer at the start of its data (JSON in the JSON form
    /// and record format 1, postcard in record format 2).
    ///
    /// This is the one place that knows which (type, version) pairs exist
    /// and how each becomes today's [`Event`]: when an event type gets a
    /// schema version 2, its upcast from version 1 goes here and serves
    /// every format. The caller checks that nothing follows the data.
    /// Error messages are masked (R3): a key in the data is never echoed.
    pub fn from_parts<'de, D: Deserializer<'de>>(
        type_name: &str,
        version: u32,
        data: D,
    ) -> Result<Self, EventDecodeError> {
        let Some(event_type) = EventType::from_name(type_name) else {
            return Err(EventDecodeError::UnknownType(crate::excerpt(type_name)));
        };
        if version != EVENT_SCHEMA_VERSION {
            // Version 1 is the only version so far; when an event type gets a
            // version 2, its upcast from 1 goes here.
            return Err(EventDecodeError::UnknownVersion {
                event_type,
                version,
            });
        }
        let fail = |e: D::Error| EventDecodeError::Data {
            event_type,
            message: crate::mask_keys_in(&e.to_string()),
        };
        Ok(match event_type {
            EventType::BenefitGranted => {
                Event::BenefitGranted(BenefitGranted::deserialize(data).map_err(fail)?)
            }
            EventType::UserRegistered => {
                Event::UserRegistered(UserRegistered::deserialize(data).map_err(fail)?)
            }
            EventType::KeyRedeemed => {
                Event::KeyRedeemed(KeyRedeemed::deserialize(data).map_err(fail)?)
            }
            EventType::LicensesAdded => {
                Event::LicensesAdded(LicensesAdded::deserialize(data).map_err(fail)?)
            }
            EventType::EndDateExtended => {
                Event::EndDateExtended(EndDateExtended::deserialize(data).map_err(fail)?)
            }
            EventType::CreditAssigned => {
                Event::CreditAssigned(CreditAssigned::deserialize(data).map_err(fail)?)
            }
            EventType::CreditUnassigned => {
                Event::CreditUnassigned(CreditUnassigned::deserialize(data).map_err(fail)?)
            }
            EventType::CreditTransferred => {
                Event::CreditTransferred(CreditTransferred::deserialize(data).map_err(fail)?)
            }
            EventType::BenefitWithdrawn => {
                Event::BenefitWithdrawn(BenefitWithdrawn::deserialize(data).map_err(fail)?)
            }
        })
    }

    /// Writes the event's data alone (the `data` of the JSON form, in
    /// today's schema version, [`EVENT_SCHEMA_VERSION`]) with any serde
    /// serializer: record format 2 stores it as postcard beside the type's
    /// name and the version. [`Event::from_parts`] reads it back.
    pub fn serialize_data<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Event::BenefitGranted(e) => e.serialize(serializer),
            Event::UserRegistered(e) => e.serialize(serializer),
            Event::KeyRedeemed(e) => e.serialize(serializer),
            Event::LicensesAdded(e) => e.serialize(serializer),
            Event::EndDateExtended(e) => e.serialize(serializer),
            Event::CreditAssigned(e) => e.serialize(serializer),
            Event::CreditUnassigned(e) => e.serialize(serializer),
            Event::CreditTransferred(e) => e.serialize(serializer),
            Event::BenefitWithdrawn(e) => e.serialize(serializer),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire<'a> {
    #[serde(rename = "type", borrow)]
    event_type: Cow<'a, str>,
    version: u32,
    #[serde(borrow)]
    data: &'a RawValue,
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Event", 3)?;
        s.serialize_field("type", self.event_type().as_str())?;
        s.serialize_field("version", &EVENT_SCHEMA_VERSION)?;
        s.serialize_field("data", &DataOf(self))?;
        s.end()
    }
}

/// An event's data as a value of its own, for [`Event`]'s `Serialize`.
struct DataOf<'a>(&'a Event);

impl Serialize for DataOf<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_data(serializer)
    }
}

/// Why stored bytes are not an event.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EventDecodeError {
    /// Not `{"type", "version", "data"}` JSON.
    #[error("not an event record: {0}")]
    Envelope(String),
    /// A `type` no version of this program wrote.
    #[error("unknown event type '{0}'")]
    UnknownType(String),
    /// A schema version newer than this program knows.
    #[error("{event_type} has schema version {version}, this program knows version {EVENT_SCHEMA_VERSION}")]
    UnknownVersion {
        /// The event's type.
        event_type: EventType,
        /// The version found.
        version: u32,
    },
    /// The data does not fit the event type.
    #[error("{event_type} data is not valid: {message}")]
    Data {
        /// The event's type.
        event_type: EventType,
        /// What serde found wrong.
        message: String,
    },
}
