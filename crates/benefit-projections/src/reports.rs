//! The reports: queries over the projection documents, whether persisted
//! (current) or folded in memory (as of a sequence). Every list has a stable
//! order, so the same log gives the same report byte for byte.

use benefit_domain::{end_change, explain, status_on};
use benefit_events::{BenefitId, Date, Status, SubscriptionId};
use serde::Serialize;

use crate::docs::{load_all, Docs};
use crate::model::*;
use crate::on_date::subscriptions_on;
pub use crate::on_date::{ReportDate, SubscriptionOn, SubscriptionStatus};
use crate::ProjectionError;

/// A subscription on a date: its term, its status (R20), and its benefits'
/// expiry dates beside its end date (R21). With `--on`, as it was on that
/// date ([`crate::on_date`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SubscriptionRow {
    /// The subscription's id.
    pub subscription: SubscriptionId,
    /// The product.
    pub product: String,
    /// Active seats (0 before its first activation).
    pub seats: u32,
    /// Start of the current term; none before its first activation.
    pub start: Option<Date>,
    /// End of the current term; none before its first activation.
    pub end: Option<Date>,
    /// Status on the date asked about (R20), or `not-started`.
    pub status: SubscriptionStatus,
    /// Every key used on it by then, masked (R3).
    pub keys: Vec<String>,
    /// The fingerprints of `keys`, in the same order: two keys that share
    /// their last group mask alike, and differ here.
    pub key_fingerprints: Vec<String>,
    /// The expiry dates of the benefits its keys came from, each beside
    /// the end date (R21).
    pub benefit_expires: Vec<BenefitExpiryRow>,
    /// True where a benefit's expiry differs from the end date (R21).
    pub expiry_differs: bool,
}

/// A benefit a subscription's keys came from, its expiry, and how far that
/// is from the subscription's end (R21).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BenefitExpiryRow {
    /// The benefit.
    pub benefit: BenefitId,
    /// Its expiry date.
    pub expires: Date,
    /// `expires - end` in days: positive when the benefit expires after
    /// the subscription ends, negative before, 0 on the same day.
    pub days_after_end: i64,
}

impl From<SubscriptionOn> for SubscriptionRow {
    fn from(on: SubscriptionOn) -> Self {
        let (seats, start, end, benefits) = match on.view {
            Some(v) => (v.seats.get(), Some(v.start), Some(v.end), v.benefits),
            None => (0, None, None, Vec::new()),
        };
        let benefits: Vec<BenefitExpiryRow> = match end {
            Some(end) => benefits
                .into_iter()
                .map(|b| BenefitExpiryRow {
                    days_after_end: (b.expires - end).num_days(),
                    benefit: b.benefit,
                    expires: b.expires,
                })
                .collect(),
            None => Vec::new(),
        };
        Self {
            expiry_differs: benefits.iter().any(|b| b.days_after_end != 0),
            subscription: on.subscription,
            product: on.product,
            seats,
            start,
            end,
            status: on.status,
            keys: on.keys,
            key_fingerprints: on.key_fingerprints,
            benefit_expires: benefits,
        }
    }
}

/// R20, R21: every subscription on `date` (see [`ReportDate`]), by id.
pub fn subscriptions(
    docs: &dyn Docs,
    date: ReportDate,
) -> Result<Vec<SubscriptionRow>, ProjectionError> {
    Ok(subscriptions_on(docs, date)?
        .into_iter()
        .map(SubscriptionRow::from)
        .collect())
}

/// Every audit record under `prefix`, in key order (by subscription, then
/// sequence).
pub(crate) fn audit_records(
    docs: &dyn Docs,
    prefix: &str,
) -> Result<Vec<AuditRecord>, ProjectionError> {
    load_all(docs, prefix)
}

/// The audit trail of end dates: one subscription's (read by its own key
/// prefix, not by scanning), or every subscription's, in log order.
pub fn audit(
    docs: &dyn Docs,
    subscription: Option<&SubscriptionId>,
) -> Result<Vec<AuditEntry>, ProjectionError> {
    let prefix = match subscription {
        Some(id) => format!("audit/{id}/"),
        None => "audit/".to_owned(),
    };
    let mut entries: Vec<AuditEntry> = audit_records(docs, &prefix)?
        .iter()
        .map(AuditRecord::entry)
        .collect();
    entries.sort_by_key(|e| e.seq);
    Ok(entries)
}

/// A credit benefit with its holders and the history of its holders.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CreditReport {
    /// The credit as it stands.
    #[serde(flatten)]
    pub view: CreditView,
    /// Every assignment, removal and transfer, in order.
    pub history: Vec<CreditChange>,
}

/// Every credit benefit with its holders and history, by benefit id.
pub fn credits(docs: &dyn Docs) -> Result<Vec<CreditReport>, ProjectionError> {
    let views: Vec<CreditView> = load_all(docs, "credit/")?;
    views
        .into_iter()
        .map(|view| {
            let history = load_all(docs, &format!("credit-change/{}/", view.benefit))?;
            Ok(CreditReport { view, history })
        })
        .collect()
}

impl KeyUseEvent {
    /// The key used.
    pub fn key(&self) -> &benefit_events::ProductKey {
        match self {
            Self::Redeemed(e) => &e.key,
            Self::Added(e) => &e.key,
            Self::Extended(e) => &e.key,
        }
    }

    /// The subscription's seats after the event, given those before.
    pub fn seats_after(
        &self,
        before: Option<benefit_events::Seats>,
    ) -> Option<benefit_events::Seats> {
        match self {
            Self::Redeemed(e) => Some(e.seats),
            Self::Added(e) => Some(e.seats_after),
            Self::Extended(_) => before,
        }
    }
}

impl AuditRecord {
    /// The entry as the reports show it, its explanation rendered now by
    /// the domain's [`benefit_domain::explain`] from the stored event.
    pub fn entry(&self) -> AuditEntry {
        let event = self.event.event();
        let (old_end, new_end) = match end_change(&event) {
            Some(change) => change,
            None => (None, event.on()),
        };
        let mut explanation = explain(&event).map(|e| e.to_string()).unwrap_or_default();
        if let KeyUseEvent::Redeemed(e) = &self.event {
            if let Some(status) = e.reactivated_from {
                let article = if status == Status::Expired { "an" } else { "a" };
                explanation.push_str(&format!(
                    "; reactivates {article} {status} subscription (R10)"
                ));
            }
        }
        match (self.seats_before, self.event.seats_after(self.seats_before)) {
            (Some(before), Some(after)) if before != after => {
                explanation.push_str(&format!("; seats {before} -> {after}"))
            }
            (None, Some(after)) => explanation.push_str(&format!("; {after} seats")),
            _ => {}
        }
        match old_end {
            Some(old) => explanation.push_str(&format!("; {old} -> {new_end}")),
            None => explanation.push_str(&format!("; ends {new_end}")),
        }
        AuditEntry {
            seq: self.seq,
            recorded_at: self.recorded_at,
            subscription: self.event.subscription().clone(),
            event: event.event_type().as_str().to_owned(),
            on: event.on(),
            actor: self.actor.clone(),
            role: self.role,
            recorded_by: self.recorded_by.as_ref().map(|a| a.user.clone()),
            recorded_by_role: self.recorded_by.as_ref().map(|a| a.role),
            old_end,
            new_end,
            days_changed: old_end.map(|old| (new_end - old).num_days()),
            explanation,
        }
    }
}

/// One granted key, found by its fingerprint: which benefit granted it, its
/// seats, and when and where it was used (the key masked, R3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct KeyRow {
    /// The key, masked.
    pub key: String,
    /// The first 16 hex digits of its SHA-256: what tells apart keys that
    /// share their last group.
    pub fingerprint: String,
    /// The benefit that granted it.
    pub benefit: String,
    /// The benefit's product.
    pub product: String,
    /// The benefit's expiry date.
    pub expires: Date,
    /// The grant's effective date.
    pub granted_on: Date,
    /// Its seats.
    pub seats: u32,
    /// Its one use (R6), if used.
    pub used: Option<KeyUsed>,
    /// The date its benefit was withdrawn (L8), if it was.
    pub withdrawn_on: Option<Date>,
}

/// The key whose fingerprint is `fingerprint` (16 hex digits, or a longer
/// SHA-256 prefix of the key), if a benefit granted it: the benefit that
/// holds it now, or, when every benefit that granted it was withdrawn (L8),
/// the last of those. Reads the benefits' views only, never the decision
/// state.
pub fn key(docs: &dyn Docs, fingerprint: &str) -> Result<Option<KeyRow>, ProjectionError> {
    let wanted = fingerprint.to_ascii_lowercase();
    let mut found: Option<KeyRow> = None;
    for view in benefits(docs)? {
        for granted in &view.keys {
            let ours = &granted.key.fingerprint;
            if wanted.starts_with(ours.as_str()) || ours.starts_with(&wanted) && wanted.len() >= 8 {
                let row = KeyRow {
                    key: granted.key.key.clone(),
                    fingerprint: ours.clone(),
                    benefit: view.benefit.to_string(),
                    product: view.product.to_string(),
                    expires: view.expires,
                    granted_on: view.granted_on,
                    seats: granted.seats.get(),
                    used: granted.used.clone(),
                    withdrawn_on: view.withdrawn.as_ref().map(|w| w.on),
                };
                let later = found
                    .as_ref()
                    .map_or(true, |f| f.granted_on <= row.granted_on);
                if row.withdrawn_on.is_none() {
                    return Ok(Some(row));
                }
                if later {
                    found = Some(row);
                }
            }
        }
    }
    Ok(found)
}

/// Every benefit with its keys, by benefit id.
pub fn benefits(docs: &dyn Docs) -> Result<Vec<BenefitView>, ProjectionError> {
    load_all(docs, "benefit/")
}

/// A key not used yet, with its benefit's expiry: what is about to be wasted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UnusedKey {
    /// The benefit.
    pub benefit: String,
    /// The key, masked.
    pub key: String,
    /// Its seats.
    pub seats: u32,
    /// The benefit's expiry date.
    pub expires: Date,
}

/// Every unused key, soonest expiry first.
pub fn unused_keys(docs: &dyn Docs) -> Result<Vec<UnusedKey>, ProjectionError> {
    let mut keys: Vec<UnusedKey> = benefits(docs)?
        .into_iter()
        .filter(|b| b.withdrawn.is_none())
        .flat_map(|b| {
            let (benefit, expires) = (b.benefit.to_string(), b.expires);
            b.keys
                .into_iter()
                .filter(|k| k.used.is_none())
                .map(move |k| UnusedKey {
                    benefit: benefit.clone(),
                    key: k.key.key,
                    seats: k.seats.get(),
                    expires,
                })
        })
        .collect();
    keys.sort_by(|a, b| (a.expires, &a.benefit, &a.key).cmp(&(b.expires, &b.benefit, &b.key)));
    Ok(keys)
}

/// The last day of a window of `days` days after `on`, at most 9999-12-31.
fn window_end(on: Date, days: u32) -> Date {
    let calendar_end = Date::from_ymd_opt(9999, 12, 31).unwrap_or(Date::MAX);
    on.checked_add_days(chrono::Days::new(u64::from(days)))
        .map_or(calendar_end, |last| last.min(calendar_end))
}

/// Something that ends within the window asked about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExpiringItem {
    /// `subscription` (its end date) or `benefit` (its expiry date).
    pub kind: &'static str,
    /// The subscription's or benefit's id.
    pub id: String,
    /// The product.
    pub product: String,
    /// The date it ends.
    pub date: Date,
    /// Days from the date asked about.
    pub days_left: i64,
    /// Subscriptions: their status on the date asked about.
    pub status: Option<Status>,
}

/// Subscriptions whose end date and benefits whose expiry date fall within
/// `within_days` from the report's date (both ends included), soonest
/// first. With `--on`, a subscription's end is the one it had on that date
/// ([`crate::on_date`]), and one not started by then has none. A window
/// that reaches past the ledger's last date (9999-12-31, L7) ends there: no
/// stored date lies beyond it, so nothing is lost, and no length of window
/// overflows the calendar.
pub fn expiring(
    docs: &dyn Docs,
    date: ReportDate,
    within_days: u32,
) -> Result<Vec<ExpiringItem>, ProjectionError> {
    let on = date.date();
    let last = window_end(on, within_days);
    let in_window = |d: Date| d >= on && d <= last;
    let mut items: Vec<ExpiringItem> = subscriptions_on(docs, date)?
        .into_iter()
        .filter_map(|s| {
            let end = s.view.as_ref()?.end;
            in_window(end).then(|| ExpiringItem {
                kind: "subscription",
                id: s.subscription.to_string(),
                product: s.product,
                date: end,
                days_left: (end - on).num_days(),
                status: Some(status_on(end, on)),
            })
        })
        .collect();
    items.extend(
        benefits(docs)?
            .into_iter()
            .filter(|b| b.withdrawn.is_none() && in_window(b.expires))
            .map(|b| ExpiringItem {
                kind: "benefit",
                id: b.benefit.to_string(),
                product: b.product.to_string(),
                date: b.expires,
                days_left: (b.expires - on).num_days(),
                status: None,
            }),
    );
    items.sort_by(|a, b| (a.date, a.kind, &a.id).cmp(&(b.date, b.kind, &b.id)));
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> Date {
        benefit_events::parse_date(text).expect("a valid date")
    }

    #[test]
    fn an_expiring_window_past_the_calendar_ends_at_9999_12_31() {
        let last = date("9999-12-31");
        assert_eq!(window_end(date("2026-01-01"), u32::MAX), last);
        assert_eq!(window_end(date("2026-01-01"), 100_000_000), last);
        assert_eq!(window_end(last, 1), last);
        assert_eq!(window_end(date("2026-01-01"), 0), date("2026-01-01"));
        assert_eq!(window_end(date("2026-01-01"), 31), date("2026-02-01"));
    }
}
