//! The state the rules need, across the whole partner ledger, and
//! [`evolve`], the only place that changes it.
//!
//! `evolve` applies what an event says happened; it never validates or
//! re-decides (R40). An event that could not have been decided against the
//! state is a bug in `decide` or a log that was not written by it: debug
//! builds assert, release builds apply the event as recorded (the log is the
//! truth, and `verify` is where an auditor checks it).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use benefit_events::{
    BenefitId, BenefitType, Credit, Date, Event, EventType, Offer, ProductKey, ProductName,
    Provision, Seats, SubscriptionId, UserName,
};

/// A granted benefit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Benefit {
    /// The product.
    pub product: ProductName,
    /// The offer.
    pub offer: Offer,
    /// Core or incremental.
    pub benefit_type: BenefitType,
    /// The last date its rights may be used (R7).
    pub expires: Date,
    /// The grant's effective date.
    pub granted_on: Date,
    /// The credit, for a usage-based benefit.
    pub credit: Option<Credit>,
    /// The effective date on which one of its keys was first used, or its
    /// credit first given: from then on it cannot be withdrawn (L8).
    pub in_use_since: Option<Date>,
    /// The effective date it was withdrawn (L8): its keys and credit are
    /// usable no more, and its keys may be granted again.
    pub withdrawn_on: Option<Date>,
}

/// A granted key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Key {
    /// The benefit it belongs to (R4).
    pub benefit: BenefitId,
    /// Its seats.
    pub seats: Seats,
    /// Where and how it was used, once used (R6).
    pub used: Option<KeyUse>,
}

/// The one use of a key (R6).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyUse {
    /// The subscription it went into.
    pub subscription: SubscriptionId,
    /// The effective date.
    pub on: Date,
    /// How it was used: `KeyRedeemed`, `LicensesAdded` or `EndDateExtended`.
    pub how: EventType,
}

/// A license-based subscription.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    /// Its product (R8).
    pub product: ProductName,
    /// Active seats.
    pub seats: Seats,
    /// Start of the current term.
    pub start: Date,
    /// End of the current term.
    pub end: Date,
    /// The effective date of the last change (R22).
    pub last_change: Date,
}

/// A user of the partner's directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// A guest of the tenant.
    pub guest: bool,
    /// The registration's effective date.
    pub registered_on: Date,
}

/// Who holds a credit, and when it last changed (R22).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditHolders {
    /// The holders (one at most for an annual bulk credit, R32).
    pub holders: BTreeSet<UserName>,
    /// The effective date of the last change, the grant included.
    pub last_change: Date,
}

/// Everything the rules need to decide. Built by folding [`evolve`] over the
/// log from [`State::default`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct State {
    pub(crate) benefits: BTreeMap<BenefitId, Benefit>,
    pub(crate) keys: BTreeMap<ProductKey, Key>,
    pub(crate) subscriptions: BTreeMap<SubscriptionId, Subscription>,
    pub(crate) users: BTreeMap<UserName, User>,
    pub(crate) credits: BTreeMap<BenefitId, CreditHolders>,
    /// The credits each user holds (R33), kept beside `credits` so that the
    /// check is a look-up, not a scan.
    pub(crate) holdings: BTreeMap<UserName, BTreeSet<BenefitId>>,
}

impl State {
    /// A granted benefit.
    pub fn benefit(&self, id: &BenefitId) -> Option<&Benefit> {
        self.benefits.get(id)
    }
    /// A granted key.
    pub fn key(&self, key: &ProductKey) -> Option<&Key> {
        self.keys.get(key)
    }
    /// A subscription.
    pub fn subscription(&self, id: &SubscriptionId) -> Option<&Subscription> {
        self.subscriptions.get(id)
    }
    /// A registered user.
    pub fn user(&self, name: &UserName) -> Option<&User> {
        self.users.get(name)
    }
    /// A credit's holders.
    pub fn credit_holders(&self, id: &BenefitId) -> Option<&CreditHolders> {
        self.credits.get(id)
    }
    /// The credits a user holds.
    pub fn holdings(&self, user: &UserName) -> impl Iterator<Item = &BenefitId> {
        self.holdings.get(user).into_iter().flatten()
    }
    /// Every subscription, by id.
    pub fn subscriptions(&self) -> impl Iterator<Item = (&SubscriptionId, &Subscription)> {
        self.subscriptions.iter()
    }
    /// Every granted key, by key.
    pub fn keys(&self) -> impl Iterator<Item = (&ProductKey, &Key)> {
        self.keys.iter()
    }
    /// Every registered user.
    pub fn users(&self) -> impl Iterator<Item = (&UserName, &User)> {
        self.users.iter()
    }
    /// Every benefit, by id.
    pub fn benefits(&self) -> impl Iterator<Item = (&BenefitId, &Benefit)> {
        self.benefits.iter()
    }

    fn use_key(
        &mut self,
        key: &ProductKey,
        subscription: &SubscriptionId,
        on: Date,
        how: EventType,
    ) {
        if let Some(k) = self.keys.get_mut(key) {
            k.used = Some(KeyUse {
                subscription: subscription.clone(),
                on,
                how,
            });
        }
    }

    /// L8: a benefit one of whose keys was used, or whose credit was given,
    /// is in use from the first such date on.
    fn put_in_use(&mut self, benefit: &BenefitId, on: Date) {
        if let Some(b) = self.benefits.get_mut(benefit) {
            b.in_use_since.get_or_insert(on);
        }
    }

    fn hold(&mut self, benefit: &BenefitId, user: &UserName, on: Date) {
        let credit = self
            .credits
            .entry(benefit.clone())
            .or_insert_with(|| CreditHolders {
                holders: BTreeSet::new(),
                last_change: on,
            });
        credit.holders.insert(user.clone());
        credit.last_change = on;
        self.holdings
            .entry(user.clone())
            .or_default()
            .insert(benefit.clone());
    }

    fn release(&mut self, benefit: &BenefitId, user: &UserName, on: Date) {
        if let Some(credit) = self.credits.get_mut(benefit) {
            credit.holders.remove(user);
            credit.last_change = on;
        }
        if let Some(held) = self.holdings.get_mut(user) {
            held.remove(benefit);
            if held.is_empty() {
                self.holdings.remove(user);
            }
        }
    }
}

/// Why `event` cannot be applied to `state`, if it cannot: what
/// [`evolve`] would otherwise have to assume away. It can only happen to a
/// log not written by `decide`, or to a state that does not match the log
/// it was folded from (documents left ahead of their checkpoint by a disk
/// that failed under them): the projections' fold asks first, and reports
/// it instead of applying. `state` needs the entities
/// [`crate::touches`] names for the event.
pub fn inapplicable(state: &State, event: &Event) -> Option<String> {
    let key_use = |key: &ProductKey, subscription: Option<&SubscriptionId>| {
        if !state.keys.get(key).is_some_and(|k| k.used.is_none()) {
            return Some(format!("key {key} is unknown or used (R4, R6)"));
        }
        match subscription {
            Some(id) if !state.subscriptions.contains_key(id) => {
                Some(format!("subscription {id} is unknown"))
            }
            _ => None,
        }
    };
    let holds = |benefit: &BenefitId, user: &UserName| match state.credits.get(benefit) {
        Some(credit) if !credit.holders.contains(user) => {
            Some(format!("{user} does not hold {benefit}"))
        }
        _ => None,
    };
    match event {
        Event::BenefitGranted(e) if state.benefits.contains_key(&e.benefit) => {
            Some(format!("benefit {} is granted twice (L1)", e.benefit))
        }
        Event::KeyRedeemed(e) => key_use(&e.key, None),
        Event::LicensesAdded(e) => key_use(&e.key, Some(&e.subscription)),
        Event::EndDateExtended(e) => key_use(&e.key, Some(&e.subscription)),
        Event::CreditUnassigned(e) => holds(&e.benefit, &e.user),
        Event::CreditTransferred(e) => holds(&e.benefit, &e.from),
        Event::BenefitWithdrawn(e)
            if !state
                .benefits
                .get(&e.benefit)
                .is_some_and(|b| b.in_use_since.is_none()) =>
        {
            Some(format!("benefit {} is unknown or in use (L8)", e.benefit))
        }
        _ => None,
    }
}

/// Applies an event to the state (R40: applies, never re-decides).
pub fn evolve(mut state: State, event: &Event) -> State {
    // A bug of `decide`, or a log it did not write: debug builds stop here;
    // release builds apply what they can, and `verify` is where an auditor
    // checks the log.
    #[cfg(debug_assertions)]
    if let Some(why) = inapplicable(&state, event) {
        panic!("impossible event {}: {why}", event.event_type());
    }
    match event {
        Event::BenefitGranted(e) => {
            let credit = match &e.provides {
                Provision::Keys(keys) => {
                    for granted in keys {
                        state.keys.insert(
                            granted.key.clone(),
                            Key {
                                benefit: e.benefit.clone(),
                                seats: granted.seats,
                                used: None,
                            },
                        );
                    }
                    None
                }
                Provision::Credit(credit) => {
                    state.credits.insert(
                        e.benefit.clone(),
                        CreditHolders {
                            holders: BTreeSet::new(),
                            last_change: e.on,
                        },
                    );
                    Some(*credit)
                }
            };
            state.benefits.insert(
                e.benefit.clone(),
                Benefit {
                    product: e.product.clone(),
                    offer: e.offer,
                    benefit_type: e.benefit_type,
                    expires: e.expires,
                    granted_on: e.on,
                    credit,
                    in_use_since: None,
                    withdrawn_on: None,
                },
            );
        }
        Event::UserRegistered(e) => {
            state.users.insert(
                e.user.clone(),
                User {
                    guest: e.guest,
                    registered_on: e.on,
                },
            );
        }
        Event::KeyRedeemed(e) => {
            state.use_key(&e.key, &e.subscription, e.on, EventType::KeyRedeemed);
            state.put_in_use(&e.benefit, e.on);
            state.subscriptions.insert(
                e.subscription.clone(),
                Subscription {
                    product: e.product.clone(),
                    seats: e.seats,
                    start: e.on,
                    end: e.new_end,
                    last_change: e.on,
                },
            );
        }
        Event::LicensesAdded(e) => {
            state.use_key(&e.key, &e.subscription, e.on, EventType::LicensesAdded);
            state.put_in_use(&e.benefit, e.on);
            if let Some(sub) = state.subscriptions.get_mut(&e.subscription) {
                sub.seats = e.seats_after;
                sub.end = e.new_end;
                sub.last_change = e.on;
            }
        }
        Event::EndDateExtended(e) => {
            state.use_key(&e.key, &e.subscription, e.on, EventType::EndDateExtended);
            state.put_in_use(&e.benefit, e.on);
            if let Some(sub) = state.subscriptions.get_mut(&e.subscription) {
                sub.end = e.new_end;
                sub.last_change = e.on;
            }
        }
        Event::CreditAssigned(e) => {
            state.put_in_use(&e.benefit, e.on);
            state.hold(&e.benefit, &e.user, e.on);
        }
        Event::CreditUnassigned(e) => state.release(&e.benefit, &e.user, e.on),
        Event::CreditTransferred(e) => {
            state.release(&e.benefit, &e.from, e.on);
            state.hold(&e.benefit, &e.to, e.on);
        }
        Event::BenefitWithdrawn(e) => {
            if let Some(b) = state.benefits.get_mut(&e.benefit) {
                b.withdrawn_on = Some(e.on);
            }
        }
    }
    state
}
