//! The fold: how one stored event changes the projections. It is the only
//! code that writes projection documents, and it never decides: it records
//! what the event says. End dates are explained when the audit trail is
//! read ([`crate::AuditRecord::entry`]), not here.

use benefit_events::{
    CreditPlan, EndDateExtended, Event, KeyRedeemed, LicensesAdded, ProductKey, Provision,
};
use benefit_store::StoredEvent;
use sha2::{Digest as _, Sha256};

use crate::docs::{
    audit_key, benefit_key, credit_change_key, credit_key, stream_key, sub_key, Overlay,
};
use crate::model::*;
use crate::ProjectionError;

/// The masked key and its fingerprint (R3).
pub fn key_ref(key: &ProductKey) -> KeyRef {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(key.reveal().as_bytes());
    // Hex by hand: one `format!` per byte was a visible share of a replay.
    let fingerprint = digest[..8]
        .iter()
        .flat_map(|b| [HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]])
        .map(char::from)
        .collect();
    KeyRef {
        key: key.masked(),
        fingerprint,
    }
}

fn missing(seq: u64, what: String) -> ProjectionError {
    ProjectionError::Inconsistent { seq, what }
}

/// Applies one stored event to every derived document: the decision state
/// ([`crate::state::apply_state`]), the stream index, and the report views
/// ([`apply_views`]). The three read and write disjoint documents.
pub fn apply(docs: &mut Overlay<'_>, record: &StoredEvent) -> Result<(), ProjectionError> {
    crate::state::apply_state(docs, record)?;
    docs.store(
        stream_key(record.stream.as_str(), record.stream_version),
        record.seq,
    );
    apply_views(docs, record)
}

/// Applies one stored event to the report views. It reads no decision
/// state and writes none.
pub fn apply_views(docs: &mut Overlay<'_>, record: &StoredEvent) -> Result<(), ProjectionError> {
    match &record.event {
        Event::BenefitGranted(e) => {
            let (provides, keys) = match &e.provides {
                Provision::Keys(keys) => (
                    "keys".to_owned(),
                    keys.iter()
                        .map(|k| GrantedKeyView {
                            key: key_ref(&k.key),
                            seats: k.seats,
                            used: None,
                        })
                        .collect(),
                ),
                Provision::Credit(credit) => {
                    let enrollment = match credit.plan {
                        CreditPlan::Monthly => None,
                        CreditPlan::AnnualBulk { enrollment } => Some(enrollment),
                    };
                    let view = CreditView {
                        benefit: e.benefit.clone(),
                        plan: credit.plan.as_str().to_owned(),
                        amount: credit.amount,
                        enrollment,
                        expires: e.expires,
                        holders: Vec::new(),
                        withdrawn_on: None,
                    };
                    docs.store(credit_key(e.benefit.as_str()), view);
                    (credit.plan.as_str().to_owned(), Vec::new())
                }
            };
            let view = BenefitView {
                benefit: e.benefit.clone(),
                offer: e.offer,
                benefit_type: e.benefit_type,
                product: e.product.clone(),
                expires: e.expires,
                granted_on: e.on,
                provides,
                keys,
                withdrawn: None,
            };
            docs.store(benefit_key(e.benefit.as_str()), view);
        }
        Event::BenefitWithdrawn(e) => withdraw(docs, record.seq, e)?,
        Event::UserRegistered(_) => {}
        Event::KeyRedeemed(e) => apply_key_use(docs, record, KeyEvent::Redeemed(e))?,
        Event::LicensesAdded(e) => apply_key_use(docs, record, KeyEvent::Added(e))?,
        Event::EndDateExtended(e) => apply_key_use(docs, record, KeyEvent::Extended(e))?,
        Event::CreditAssigned(e) => {
            change_credit(docs, record, e.benefit.as_str(), "assigned", &e.user, None)?
        }
        Event::CreditUnassigned(e) => change_credit(
            docs,
            record,
            e.benefit.as_str(),
            "unassigned",
            &e.user,
            None,
        )?,
        Event::CreditTransferred(e) => change_credit(
            docs,
            record,
            e.benefit.as_str(),
            "transferred",
            &e.to,
            Some(&e.from),
        )?,
    }
    Ok(())
}

/// BenefitWithdrawn (L8): the benefit's view, and its credit's if it is
/// one, say since when it is usable no more.
fn withdraw(
    docs: &mut Overlay<'_>,
    seq: u64,
    e: &benefit_events::BenefitWithdrawn,
) -> Result<(), ProjectionError> {
    let bkey = benefit_key(e.benefit.as_str());
    let mut view: BenefitView = docs
        .take(&bkey)?
        .ok_or_else(|| missing(seq, format!("benefit {} withdrawn", e.benefit)))?;
    view.withdrawn = Some(Withdrawal {
        on: e.on,
        reason: e.reason.clone(),
        seq,
    });
    docs.store(bkey, view);
    let ckey = credit_key(e.benefit.as_str());
    if let Some(mut credit) = docs.take::<CreditView>(&ckey)? {
        credit.withdrawn_on = Some(e.on);
        docs.store(ckey, credit);
    }
    Ok(())
}

/// The three events that use a key on a subscription.
enum KeyEvent<'e> {
    Redeemed(&'e KeyRedeemed),
    Added(&'e LicensesAdded),
    Extended(&'e EndDateExtended),
}

/// The benefit's side of a key use: the key's slot records where, when and
/// how it was used. Answers the benefit's expiry date.
fn mark_key_used(
    docs: &mut Overlay<'_>,
    benefit: &benefit_events::BenefitId,
    key: &ProductKey,
    used: KeyUsed,
) -> Result<benefit_events::Date, ProjectionError> {
    let seq = used.seq;
    let bkey = benefit_key(benefit.as_str());
    let mut granted: BenefitView = docs
        .take(&bkey)?
        .ok_or_else(|| missing(seq, format!("benefit {benefit} of a used key")))?;
    let fingerprint = key_ref(key).fingerprint;
    let slot = granted
        .keys
        .iter_mut()
        .find(|k| k.key.fingerprint == fingerprint)
        .ok_or_else(|| missing(seq, format!("key {key} in benefit {benefit}")))?;
    slot.used = Some(used);
    let expires = granted.expires;
    docs.store(bkey, granted);
    Ok(expires)
}

/// KeyRedeemed, LicensesAdded, EndDateExtended: the key is used, the
/// subscription's term changes, and the audit trail gains an entry.
fn apply_key_use(
    docs: &mut Overlay<'_>,
    record: &StoredEvent,
    key_event: KeyEvent<'_>,
) -> Result<(), ProjectionError> {
    let seq = record.seq;
    let event = &record.event;
    let (subscription, benefit, key, on) = match key_event {
        KeyEvent::Redeemed(e) => (&e.subscription, &e.benefit, &e.key, e.on),
        KeyEvent::Added(e) => (&e.subscription, &e.benefit, &e.key, e.on),
        KeyEvent::Extended(e) => (&e.subscription, &e.benefit, &e.key, e.on),
    };
    let how = event.event_type().as_str().to_owned();
    let used = KeyUsed {
        subscription: subscription.clone(),
        on,
        how,
        seq,
    };
    let expires = mark_key_used(docs, benefit, key, used)?;
    let use_event = match key_event {
        KeyEvent::Redeemed(e) => KeyUseEvent::Redeemed(e.clone()),
        KeyEvent::Added(e) => KeyUseEvent::Added(e.clone()),
        KeyEvent::Extended(e) => KeyUseEvent::Extended(e.clone()),
    };

    // The subscription: a new term, or a changed one.
    let skey = sub_key(subscription.as_str());
    let existing: Option<SubscriptionView> = docs.take(&skey)?;
    let seats_before = existing.as_ref().map(|s| s.seats);
    let view = subscription_after(existing, &use_event, seq, expires)
        .ok_or_else(|| missing(seq, format!("subscription {subscription}")))?;
    docs.store(skey, view);

    // The audit trail: the event's inputs and outcome, explained when read.
    let audit = AuditRecord {
        seq,
        recorded_at: record.recorded_at,
        actor: record.actor.user.clone(),
        role: record.actor.role,
        recorded_by: record.recorded_by.clone(),
        event: use_event,
        seats_before,
    };
    docs.store(audit_key(subscription.as_str(), seq), audit);
    Ok(())
}

/// A subscription's view after one key use, given the view before it (none
/// before its first activation) and the expiry date of the key's benefit:
/// what the event recorded, applied and never decided. The fold keeps the
/// latest view with it; the reports replay a subscription's audit records
/// with it up to a date ([`crate::on_date`]), so both read one history the
/// same way. `None` for a use on a subscription never activated (the log
/// was not written by the decider).
pub fn subscription_after(
    previous: Option<SubscriptionView>,
    event: &KeyUseEvent,
    seq: u64,
    expires: benefit_events::Date,
) -> Option<SubscriptionView> {
    let mut view = match (event, previous) {
        (KeyUseEvent::Redeemed(e), previous) => SubscriptionView {
            subscription: e.subscription.clone(),
            product: e.product.clone(),
            seats: e.seats,
            start: e.on,
            end: e.new_end,
            benefits: previous.map(|p| p.benefits).unwrap_or_default(),
            last_seq: seq,
        },
        (KeyUseEvent::Added(e), Some(mut s)) => {
            s.seats = e.seats_after;
            s.end = e.new_end;
            s
        }
        (KeyUseEvent::Extended(e), Some(mut s)) => {
            s.end = e.new_end;
            s
        }
        (_, None) => return None,
    };
    view.last_seq = seq;
    let benefit = event.benefit();
    if !view.benefits.iter().any(|b| &b.benefit == benefit) {
        view.benefits.push(BenefitExpiry {
            benefit: benefit.clone(),
            expires,
        });
    }
    Some(view)
}

fn change_credit(
    docs: &mut Overlay<'_>,
    record: &StoredEvent,
    benefit: &str,
    change: &str,
    user: &benefit_events::UserName,
    from: Option<&benefit_events::UserName>,
) -> Result<(), ProjectionError> {
    let key = credit_key(benefit);
    let mut view: CreditView = docs
        .take(&key)?
        .ok_or_else(|| missing(record.seq, format!("credit {benefit}")))?;
    match change {
        "unassigned" => view.holders.retain(|h| h != user),
        _ => {
            if let Some(from) = from {
                view.holders.retain(|h| h != from);
            }
            view.holders.push(user.clone());
            view.holders.sort();
        }
    }
    docs.store(key, view);
    let entry = CreditChange {
        seq: record.seq,
        on: record.event.on(),
        change: change.to_owned(),
        user: user.clone(),
        from: from.cloned(),
        actor: record.actor.user.clone(),
        role: record.actor.role,
    };
    docs.store(credit_change_key(benefit, record.seq), entry);
    Ok(())
}
