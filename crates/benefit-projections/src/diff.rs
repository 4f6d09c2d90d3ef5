//! What changed between two points of the log (`benefit-ledger diff`).
//!
//! A key design decision: a diff is two reads and a comparison. The
//! reports' own queries read the documents of each point into a
//! [`Snapshot`] (the documents of a point are the one fold's, as of a
//! sequence, exactly what `--as-of-seq` reports read); [`diff`] then
//! compares two snapshots and reads nothing, so it is pure and the same two
//! points always give the same answer.
//!
//! What counts as a change is what the log says happened between the two
//! points, not a comparison of values: a subscription is listed when an
//! audit record (a key used on it) is in the later point and not in the
//! earlier one, a credit when a change of its holders is, a key when it is
//! used in the later point and was not in the earlier. An extension that
//! leaves the status unchanged is still listed, with the event that made it.
//!
//! Keys are masked with their fingerprint (R3), as every report shows them.
//! No rule reads a diff: it is a read of the report documents only.

use std::collections::{BTreeMap, BTreeSet};

use benefit_events::{BenefitId, Date, Status, SubscriptionId, UserName};
use serde::Serialize;

use crate::docs::Docs;
use crate::model::{GrantedKeyView, KeyUsed};
use crate::on_date::{ReportDate, SubscriptionStatus};
use crate::reports::{self, CreditReport, SubscriptionRow};
use crate::ProjectionError;

/// One event that made a change: its sequence and its type.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ChangedBy {
    /// The event's sequence.
    pub seq: u64,
    /// Its type (`KeyRedeemed`, `CreditTransferred`, ...).
    pub event: String,
}

/// What the reports show at one point of the log, as far as a diff needs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// The point: right after this sequence (0: the empty ledger).
    pub seq: u64,
    /// The date the statuses are for.
    pub on: Date,
    subscriptions: BTreeMap<SubscriptionId, SubscriptionRow>,
    /// Every key use on a subscription (its audit records), by sequence.
    key_uses: BTreeMap<u64, (SubscriptionId, ChangedBy)>,
    credits: BTreeMap<BenefitId, CreditReport>,
    /// Every granted key: benefit and fingerprint to the key's slot.
    keys: BTreeMap<(BenefitId, String), GrantedKeyView>,
}

impl Snapshot {
    /// Reads the snapshot of `docs`, the documents as of sequence `seq`,
    /// with statuses on `on` (R20).
    pub fn read(docs: &dyn Docs, seq: u64, on: Date) -> Result<Self, ProjectionError> {
        // The latest state at the point, its status on `on`: every
        // subscription the point holds has been activated.
        let subscriptions = reports::subscriptions(docs, ReportDate::Latest { today: on })?
            .into_iter()
            .map(|row| (row.subscription.clone(), row))
            .collect();
        let key_uses = reports::audit_records(docs, "audit/")?
            .into_iter()
            .map(|record| {
                let by = ChangedBy {
                    seq: record.seq,
                    event: record.event.event().event_type().as_str().to_owned(),
                };
                (record.seq, (record.event.subscription().clone(), by))
            })
            .collect();
        let credits = reports::credits(docs)?
            .into_iter()
            .map(|credit| (credit.view.benefit.clone(), credit))
            .collect();
        let mut keys = BTreeMap::new();
        for benefit in reports::benefits(docs)? {
            for granted in benefit.keys {
                let fingerprint = granted.key.fingerprint.clone();
                keys.insert((benefit.benefit.clone(), fingerprint), granted);
            }
        }
        Ok(Self {
            seq,
            on,
            subscriptions,
            key_uses,
            credits,
            keys,
        })
    }
}

/// A subscription added or changed between the two points: its end, seats
/// and status on the date asked about, before and after, and the events
/// that changed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SubscriptionChange {
    /// The subscription.
    pub subscription: SubscriptionId,
    /// `added` (not in the earlier point) or `changed`.
    pub change: &'static str,
    /// Its product.
    pub product: String,
    /// The end date before; none when added.
    pub end_before: Option<Date>,
    /// The end date after.
    pub end_after: Date,
    /// The seats before; none when added.
    pub seats_before: Option<u32>,
    /// The seats after.
    pub seats_after: u32,
    /// The status on the date asked about before (R20); none when added.
    pub status_before: Option<Status>,
    /// The status on the date asked about after (R20).
    pub status_after: Status,
    /// The events between the two points that changed it, in log order.
    pub events: Vec<ChangedBy>,
}

/// A credit whose holders changed between the two points.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CreditHoldersChange {
    /// The credit benefit.
    pub benefit: BenefitId,
    /// `monthly` or `annual-bulk`.
    pub plan: String,
    /// The holders before, by name (empty when granted after the earlier
    /// point).
    pub holders_before: Vec<UserName>,
    /// The holders after, by name.
    pub holders_after: Vec<UserName>,
    /// The events between the two points that changed them, in log order.
    pub events: Vec<ChangedBy>,
}

/// A key used between the two points (masked, R3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyUseChange {
    /// The key, masked.
    pub key: String,
    /// The first 16 hex digits of its SHA-256, as `report key` and
    /// `report benefits` show it.
    pub fingerprint: String,
    /// The benefit that granted it.
    pub benefit: BenefitId,
    /// Its seats.
    pub seats: u32,
    /// Where, when and how it was used.
    pub used: KeyUsed,
}

/// What changed between two points of the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LedgerDiff {
    /// The earlier point: right after this sequence.
    pub from: u64,
    /// The later point: right after this sequence.
    pub to: u64,
    /// The date the statuses are for.
    pub on: Date,
    /// Subscriptions added or changed, by id.
    pub subscriptions: Vec<SubscriptionChange>,
    /// Credits whose holders changed, by benefit id.
    pub credits: Vec<CreditHoldersChange>,
    /// Keys used, in log order.
    pub keys: Vec<KeyUseChange>,
}

impl LedgerDiff {
    /// True when nothing changed between the two points.
    pub fn is_empty(&self) -> bool {
        self.subscriptions.is_empty() && self.credits.is_empty() && self.keys.is_empty()
    }
}

/// What changed from `from` to `to`: pure, reads nothing. `from` is meant
/// to be the earlier point; given the other way round, what the later
/// point lacks is not listed (nothing is ever removed from a log), so the
/// caller refuses that order.
pub fn diff(from: &Snapshot, to: &Snapshot) -> LedgerDiff {
    LedgerDiff {
        from: from.seq,
        to: to.seq,
        on: to.on,
        subscriptions: subscription_changes(from, to),
        credits: credit_changes(from, to),
        keys: key_uses(from, to),
    }
}

fn subscription_changes(from: &Snapshot, to: &Snapshot) -> Vec<SubscriptionChange> {
    let mut events: BTreeMap<&SubscriptionId, Vec<ChangedBy>> = BTreeMap::new();
    for (seq, (subscription, by)) in &to.key_uses {
        if !from.key_uses.contains_key(seq) {
            events.entry(subscription).or_default().push(by.clone());
        }
    }
    events
        .into_iter()
        .filter_map(|(id, events)| {
            let after = to.subscriptions.get(id)?;
            let (end_after, status_after) = term(after)?;
            let before = from.subscriptions.get(id).and_then(term);
            Some(SubscriptionChange {
                subscription: id.clone(),
                change: if before.is_some() { "changed" } else { "added" },
                product: after.product.clone(),
                end_before: before.map(|b| b.0),
                end_after,
                seats_before: from.subscriptions.get(id).map(|b| b.seats),
                seats_after: after.seats,
                status_before: before.map(|b| b.1),
                status_after,
                events,
            })
        })
        .collect()
}

/// A started subscription's end and status (the latest state always is).
fn term(row: &SubscriptionRow) -> Option<(Date, Status)> {
    match (row.end, row.status) {
        (Some(end), SubscriptionStatus::Is(status)) => Some((end, status)),
        _ => None,
    }
}

/// The event type of a credit change as the projection names it.
fn credit_event(change: &str) -> String {
    match change {
        "assigned" => "CreditAssigned",
        "unassigned" => "CreditUnassigned",
        "transferred" => "CreditTransferred",
        other => other,
    }
    .to_owned()
}

fn credit_changes(from: &Snapshot, to: &Snapshot) -> Vec<CreditHoldersChange> {
    to.credits
        .iter()
        .filter_map(|(benefit, after)| {
            let before = from.credits.get(benefit);
            let known: BTreeSet<u64> = before
                .map(|b| b.history.iter().map(|c| c.seq).collect())
                .unwrap_or_default();
            let events: Vec<ChangedBy> = after
                .history
                .iter()
                .filter(|c| !known.contains(&c.seq))
                .map(|c| ChangedBy {
                    seq: c.seq,
                    event: credit_event(&c.change),
                })
                .collect();
            (!events.is_empty()).then(|| CreditHoldersChange {
                benefit: benefit.clone(),
                plan: after.view.plan.clone(),
                holders_before: before.map(|b| b.view.holders.clone()).unwrap_or_default(),
                holders_after: after.view.holders.clone(),
                events,
            })
        })
        .collect()
}

fn key_uses(from: &Snapshot, to: &Snapshot) -> Vec<KeyUseChange> {
    let mut keys: Vec<KeyUseChange> = to
        .keys
        .iter()
        .filter_map(|(slot, granted)| {
            let used = granted.used.as_ref()?;
            let was_used = from.keys.get(slot).is_some_and(|k| k.used.is_some());
            (!was_used).then(|| KeyUseChange {
                key: granted.key.key.clone(),
                fingerprint: granted.key.fingerprint.clone(),
                benefit: slot.0.clone(),
                seats: granted.seats.get(),
                used: used.clone(),
            })
        })
        .collect();
    keys.sort_by_key(|k| k.used.seq);
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_changes_are_named_by_their_event_types() {
        assert_eq!(credit_event("assigned"), "CreditAssigned");
        assert_eq!(credit_event("unassigned"), "CreditUnassigned");
        assert_eq!(credit_event("transferred"), "CreditTransferred");
    }

    #[test]
    fn two_empty_points_differ_in_nothing() {
        let on = benefit_events::parse_date("2026-08-01").expect("a date");
        let empty = Snapshot {
            on,
            ..Snapshot::default()
        };
        let found = diff(&empty, &empty);
        assert!(found.is_empty());
        assert_eq!((found.from, found.to, found.on), (0, 0, on));
    }
}
