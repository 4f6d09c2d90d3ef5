//! The read models: what each projection holds per subscription, audit entry,
//! credit and benefit. Reports print them as JSON, so their field names are
//! part of the reports' contract; keys appear only masked (R3).
//!
//! None of them holds decision state: that is [`crate::state`]'s, in
//! documents of its own (issue 11).

use benefit_events::{
    BenefitId, BenefitType, Date, EnrollmentYear, Money, Offer, ProductName, Reason, Role, Seats,
    SubscriptionId, UserName,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A key as a report shows it: masked (R3), with a fingerprint that lets the
/// projection find it again without storing it whole.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRef {
    /// `*****-*****-*****-*****-7QXKR`.
    pub key: String,
    /// The first 16 hex digits of the key's SHA-256: identifies it, reveals
    /// nothing.
    pub fingerprint: String,
}

/// A benefit a subscription's keys came from, with its expiry (R21).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BenefitExpiry {
    /// The benefit.
    pub benefit: BenefitId,
    /// Its expiry date.
    pub expires: Date,
}

/// A license-based subscription as it stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionView {
    /// Its id.
    pub subscription: SubscriptionId,
    /// Its product.
    pub product: ProductName,
    /// Active seats.
    pub seats: Seats,
    /// Start of the current term.
    pub start: Date,
    /// End of the current term.
    pub end: Date,
    /// The benefits its keys came from, in order of first use. The keys
    /// themselves are its audit records (`audit/{subscription}/...`): a
    /// list that grows with every use is never kept in a document that every
    /// use rewrites (issue 11).
    pub benefits: Vec<BenefitExpiry>,
    /// The sequence of its last change.
    pub last_seq: u64,
}

/// The event behind an audit record: one of the three that use a key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyUseEvent {
    /// A first activation or a reactivation.
    Redeemed(benefit_events::KeyRedeemed),
    /// Seats added, co-termed.
    Added(benefit_events::LicensesAdded),
    /// The term extended.
    Extended(benefit_events::EndDateExtended),
}

impl KeyUseEvent {
    /// The subscription it changed.
    pub fn subscription(&self) -> &SubscriptionId {
        match self {
            Self::Redeemed(e) => &e.subscription,
            Self::Added(e) => &e.subscription,
            Self::Extended(e) => &e.subscription,
        }
    }

    /// The benefit whose key it used.
    pub fn benefit(&self) -> &BenefitId {
        match self {
            Self::Redeemed(e) => &e.benefit,
            Self::Added(e) => &e.benefit,
            Self::Extended(e) => &e.benefit,
        }
    }

    /// Its effective date.
    pub fn on(&self) -> Date {
        match self {
            Self::Redeemed(e) => e.on,
            Self::Added(e) => e.on,
            Self::Extended(e) => e.on,
        }
    }

    /// The event itself.
    pub fn event(&self) -> benefit_events::Event {
        match self {
            Self::Redeemed(e) => benefit_events::Event::KeyRedeemed(e.clone()),
            Self::Added(e) => benefit_events::Event::LicensesAdded(e.clone()),
            Self::Extended(e) => benefit_events::Event::EndDateExtended(e.clone()),
        }
    }
}

/// What is stored under `audit/{subscription}/{seq}`: the event's inputs and
/// outcome as recorded, who recorded it, and the seats before it. The
/// explanation is not stored: [`AuditRecord::entry`] renders it when the
/// trail is read, with the domain's own `explain`, so a better wording
/// never needs a rebuild and the stored facts are the log's own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// The event's sequence.
    pub seq: u64,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// Who recorded it.
    pub actor: UserName,
    /// In which role.
    pub role: Role,
    /// Who ran the append that stored it, where the record says (R1).
    pub recorded_by: Option<benefit_events::Actor>,
    /// The event, as recorded.
    pub event: KeyUseEvent,
    /// The subscription's seats before it; none for a first activation.
    pub seats_before: Option<Seats>,
}

/// One change of a subscription's end date, explained: an [`AuditRecord`]
/// as the reports show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The event's sequence.
    pub seq: u64,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// The subscription.
    pub subscription: SubscriptionId,
    /// `KeyRedeemed`, `LicensesAdded` or `EndDateExtended`.
    pub event: String,
    /// The effective date.
    pub on: Date,
    /// Who recorded it.
    pub actor: UserName,
    /// In which role.
    pub role: Role,
    /// Who ran the append that stored it (the invoking actor, R1), where
    /// the record says; none in records written before it was recorded.
    pub recorded_by: Option<UserName>,
    /// In which role.
    pub recorded_by_role: Option<Role>,
    /// The end date before; none for a first activation.
    pub old_end: Option<Date>,
    /// The end date after.
    pub new_end: Date,
    /// `new_end - old_end` in days; none for a first activation.
    pub days_changed: Option<i64>,
    /// The rule and its numbers, e.g. `12 x 25 / 100 = 3 months (R11);
    /// 2026-09-30 -> 2026-12-30`.
    pub explanation: String,
}

/// One change of a credit's holders.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditChange {
    /// The event's sequence.
    pub seq: u64,
    /// The effective date.
    pub on: Date,
    /// `assigned`, `unassigned` or `transferred`.
    pub change: String,
    /// The user given or removed; for a transfer, the new holder.
    pub user: UserName,
    /// For a transfer, the holder before.
    pub from: Option<UserName>,
    /// Who recorded it.
    pub actor: UserName,
    /// In which role.
    pub role: Role,
}

/// A credit benefit and its holders.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditView {
    /// The benefit.
    pub benefit: BenefitId,
    /// `monthly` or `annual-bulk`.
    pub plan: String,
    /// The amount a month or a year.
    pub amount: Money,
    /// The enrollment year of an annual bulk credit.
    pub enrollment: Option<EnrollmentYear>,
    /// The benefit's expiry date.
    pub expires: Date,
    /// The holders now, by name.
    pub holders: Vec<UserName>,
    /// The date the benefit was withdrawn (L8): the credit can no longer be
    /// given.
    pub withdrawn_on: Option<Date>,
}

/// Where and when a granted key was used.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyUsed {
    /// The subscription.
    pub subscription: SubscriptionId,
    /// The effective date.
    pub on: Date,
    /// `KeyRedeemed`, `LicensesAdded` or `EndDateExtended`.
    pub how: String,
    /// The event's sequence.
    pub seq: u64,
}

/// A granted key of a benefit. Serialized flat (`key`, `fingerprint`,
/// `seats`, `used`) through `GrantedKeyFlat`: serde's `flatten` writes a
/// map of unknown length, which the binary document format cannot hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "GrantedKeyFlat", into = "GrantedKeyFlat")]
pub struct GrantedKeyView {
    /// The key, masked, with its fingerprint.
    pub key: KeyRef,
    /// Its seats.
    pub seats: Seats,
    /// Its one use, if used (R6).
    pub used: Option<KeyUsed>,
}

/// [`GrantedKeyView`] as it is written: the key's two fields beside the
/// others, in this order.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct GrantedKeyFlat {
    key: String,
    fingerprint: String,
    seats: Seats,
    used: Option<KeyUsed>,
}

impl From<GrantedKeyFlat> for GrantedKeyView {
    fn from(flat: GrantedKeyFlat) -> Self {
        Self {
            key: KeyRef {
                key: flat.key,
                fingerprint: flat.fingerprint,
            },
            seats: flat.seats,
            used: flat.used,
        }
    }
}

impl From<GrantedKeyView> for GrantedKeyFlat {
    fn from(view: GrantedKeyView) -> Self {
        Self {
            key: view.key.key,
            fingerprint: view.key.fingerprint,
            seats: view.seats,
            used: view.used,
        }
    }
}

/// A granted benefit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BenefitView {
    /// The benefit.
    pub benefit: BenefitId,
    /// The offer.
    pub offer: Offer,
    /// Core or incremental.
    pub benefit_type: BenefitType,
    /// The product.
    pub product: ProductName,
    /// The last date its rights may be used.
    pub expires: Date,
    /// The grant's effective date.
    pub granted_on: Date,
    /// `keys`, `monthly` or `annual-bulk`.
    pub provides: String,
    /// Its keys (empty for a credit).
    pub keys: Vec<GrantedKeyView>,
    /// Its withdrawal (L8), if it was withdrawn.
    pub withdrawn: Option<Withdrawal>,
}

/// A benefit withdrawn because it was granted by mistake (L8).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Withdrawal {
    /// The effective date.
    pub on: Date,
    /// Why, in the operator's words.
    pub reason: Reason,
    /// The `BenefitWithdrawn` event's sequence.
    pub seq: u64,
}
