//! The date a report is for, and the state of a subscription on it: the
//! ledger's reading of R20 for reports (`docs/rules.md`).
//!
//! - `--on DATE` given ([`ReportDate::On`]): the subscription as it was on
//!   that date. Only its key uses effective on or before DATE count toward
//!   its seats, start, end, keys and benefits; its status is R20's on DATE.
//!   Before its first activation it is [`SubscriptionStatus::NotStarted`].
//! - No `--on` ([`ReportDate::Latest`]): the latest recorded state, with its
//!   status computed for today.
//!
//! Nothing is decided here. The state on a date is the subscription's audit
//! records (each the key-use event as recorded, with its outcome), replayed
//! in order up to the date by the fold's own [`subscription_after`]; R22
//! keeps a subscription's events in effective-date order, so the records on
//! or before a date are a prefix of its history. Every report that takes
//! `--on` reads its subscriptions through [`subscriptions_on`].

use benefit_domain::status_on;
use benefit_events::{Date, Status, SubscriptionId};
use serde::{Serialize, Serializer};

use crate::docs::{for_each_loaded, load_many, sub_key, Docs};
use crate::fold::{key_ref, subscription_after};
use crate::model::{AuditRecord, SubscriptionView};
use crate::ProjectionError;

/// The date a report is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportDate {
    /// `--on DATE`: the state on that date (only events effective on or
    /// before it), and the status on it.
    On(Date),
    /// No `--on`: the latest recorded state, and the status today.
    Latest {
        /// Today's date, which the status is computed for.
        today: Date,
    },
}

impl ReportDate {
    /// `--on` if given, otherwise the latest state as of `today`.
    pub fn from_flag(on: Option<Date>, today: Date) -> Self {
        on.map_or(Self::Latest { today }, Self::On)
    }

    /// The date statuses and windows are computed for.
    pub fn date(self) -> Date {
        match self {
            Self::On(date) | Self::Latest { today: date } => date,
        }
    }
}

/// A subscription's status in a report: R20's, or not started yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubscriptionStatus {
    /// Before its first activation (only with `--on`).
    NotStarted,
    /// R20's status on the date.
    Is(Status),
}

impl SubscriptionStatus {
    /// `not-started`, or `active`, `expired`, `disabled`, `deleted`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotStarted => "not-started",
            Self::Is(status) => status.as_str(),
        }
    }
}

impl std::fmt::Display for SubscriptionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for SubscriptionStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// One subscription as it was on a report's date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriptionOn {
    /// Its id.
    pub subscription: SubscriptionId,
    /// Its product.
    pub product: String,
    /// Its view on the date: none before its first activation.
    pub view: Option<SubscriptionView>,
    /// The keys used on it by then, masked (R3), in log order.
    pub keys: Vec<String>,
    /// Their fingerprints, in the same order: what tells apart two keys
    /// that share their last group.
    pub key_fingerprints: Vec<String>,
    /// Its status on the date.
    pub status: SubscriptionStatus,
}

/// How many subscriptions' audit records a report gathers before it reads
/// their latest views, together ([`load_many`]: one round trip to a
/// server): what a report holds of the audit trail at once.
const SUBSCRIPTIONS_PER_READ: usize = 500;

/// Every subscription the ledger holds, by id, as it was on `date`.
///
/// One pass over every audit record in key order (by subscription, then
/// sequence), holding the records of 500 subscriptions at a time, not the
/// whole trail: a subscription's view is made by its first key use, with
/// its first audit record, so every subscription has records. Their latest
/// views are read a group at a time.
pub fn subscriptions_on(
    docs: &dyn Docs,
    date: ReportDate,
) -> Result<Vec<SubscriptionOn>, ProjectionError> {
    let mut found = Vec::new();
    let mut group: Vec<(SubscriptionId, Vec<AuditRecord>)> = Vec::new();
    for_each_loaded(docs, "audit/", &mut |_, record: AuditRecord| {
        match group.last_mut() {
            Some((id, records)) if id == record.event.subscription() => records.push(record),
            _ => {
                if group.len() == SUBSCRIPTIONS_PER_READ {
                    found.extend(on_their_latest(docs, std::mem::take(&mut group), date)?);
                }
                group.push((record.event.subscription().clone(), vec![record]));
            }
        }
        Ok(())
    })?;
    found.extend(on_their_latest(docs, group, date)?);
    // Audit keys end the id with `/`, so `a-b/` sorts before `a/`: the
    // report's order is the ids'.
    found.sort_by(|a, b| a.subscription.cmp(&b.subscription));
    Ok(found)
}

/// Each subscription of `group` on `date`, from its audit records and its
/// latest view (a subscription without a view is not one the fold made).
fn on_their_latest(
    docs: &dyn Docs,
    group: Vec<(SubscriptionId, Vec<AuditRecord>)>,
    date: ReportDate,
) -> Result<Vec<SubscriptionOn>, ProjectionError> {
    let keys: Vec<String> = group.iter().map(|(id, _)| sub_key(id.as_str())).collect();
    let latest: Vec<Option<SubscriptionView>> = load_many(docs, &keys)?;
    Ok(group
        .into_iter()
        .zip(latest)
        .filter_map(|((_, records), view)| Some(subscription_on(view?, &records, date)))
        .collect())
}

/// One subscription on `date`, from its latest view and its audit records
/// in log order.
pub fn subscription_on(
    latest: SubscriptionView,
    records: &[AuditRecord],
    date: ReportDate,
) -> SubscriptionOn {
    let (subscription, product) = (latest.subscription.clone(), latest.product.to_string());
    let (view, counted) = match date {
        ReportDate::Latest { .. } => (Some(latest), records),
        ReportDate::On(on) => {
            let counted = records.iter().take_while(|r| r.event.on() <= on).count();
            let counted = &records[..counted];
            (replay(&latest, counted), counted)
        }
    };
    let status = match &view {
        Some(view) => SubscriptionStatus::Is(status_on(view.end, date.date())),
        None => SubscriptionStatus::NotStarted,
    };
    let (keys, key_fingerprints) = counted
        .iter()
        .map(|r| {
            let key = key_ref(r.event.key());
            (key.key, key.fingerprint)
        })
        .unzip();
    SubscriptionOn {
        subscription,
        product,
        view,
        keys,
        key_fingerprints,
        status,
    }
}

/// The view after `records`, a prefix of the subscription's history, with
/// each benefit's expiry as the latest view holds it.
fn replay(latest: &SubscriptionView, records: &[AuditRecord]) -> Option<SubscriptionView> {
    records.iter().fold(None, |view, record| {
        let expires = latest
            .benefits
            .iter()
            .find(|b| &b.benefit == record.event.benefit())
            .map_or(latest.end, |b| b.expires);
        subscription_after(view, &record.event, record.seq, expires)
    })
}
