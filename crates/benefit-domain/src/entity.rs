//! The state as entities, so that a shell can build it partially: only the
//! entities a command reads, loaded from wherever it keeps them, and then
//! the unchanged [`crate::decide`] and [`crate::evolve`] run on that partial
//! [`State`].
//!
//! Two pure functions say which entities are needed: [`reads`] for a
//! command (what `decide` reads, and what `evolve` will change when the
//! command is accepted), and [`touches`] for an event (what `evolve` reads
//! and changes). Both look only at their arguments: `reads` names more
//! entities as the state it is given holds more (a key's benefit is known
//! once the key is loaded), so a shell calls it until it names nothing new.
//! The test `tests/partial.rs` checks that deciding on the partial state
//! gives exactly what deciding on the whole state gives.

use std::collections::BTreeSet;

use benefit_events::{BenefitId, Event, ProductKey, Provision, SubscriptionId, UserName};

use crate::state::{Benefit, CreditHolders, Key, Subscription, User};
use crate::{Action, Command, State};

/// What identifies one entity of the state.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntityKey {
    /// A granted benefit.
    Benefit(BenefitId),
    /// A granted key.
    Key(ProductKey),
    /// A subscription.
    Subscription(SubscriptionId),
    /// A registered user.
    User(UserName),
    /// A credit's holders.
    Credit(BenefitId),
    /// The credits a user holds.
    Holdings(UserName),
}

/// One entity's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entity {
    /// A granted benefit.
    Benefit(Benefit),
    /// A granted key.
    Key(Key),
    /// A subscription.
    Subscription(Subscription),
    /// A registered user.
    User(User),
    /// A credit's holders.
    Credit(CreditHolders),
    /// The credits a user holds (empty: none).
    Holdings(BTreeSet<BenefitId>),
}

impl State {
    /// The entity under `key`, if the state holds it (a user with no
    /// credits holds an empty set).
    pub fn entity(&self, key: &EntityKey) -> Option<Entity> {
        match key {
            EntityKey::Benefit(id) => self.benefits.get(id).cloned().map(Entity::Benefit),
            EntityKey::Key(k) => self.keys.get(k).cloned().map(Entity::Key),
            EntityKey::Subscription(id) => self
                .subscriptions
                .get(id)
                .cloned()
                .map(Entity::Subscription),
            EntityKey::User(name) => self.users.get(name).cloned().map(Entity::User),
            EntityKey::Credit(id) => self.credits.get(id).cloned().map(Entity::Credit),
            EntityKey::Holdings(name) => self.holdings.get(name).cloned().map(Entity::Holdings),
        }
    }

    /// How many entities the state holds: what a long walk that folds the
    /// whole state counts to bound its memory.
    pub fn len(&self) -> usize {
        self.benefits.len()
            + self.keys.len()
            + self.subscriptions.len()
            + self.users.len()
            + self.credits.len()
            + self.holdings.len()
    }

    /// Whether the state holds no entity.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every entity of the state with its key, family by family: what a
    /// walk hands on when it moves its state out of memory.
    pub fn into_entities(self) -> impl Iterator<Item = (EntityKey, Entity)> {
        let State {
            benefits,
            keys,
            subscriptions,
            users,
            credits,
            holdings,
        } = self;
        let benefits = benefits
            .into_iter()
            .map(|(id, v)| (EntityKey::Benefit(id), Entity::Benefit(v)));
        let keys = keys
            .into_iter()
            .map(|(k, v)| (EntityKey::Key(k), Entity::Key(v)));
        let subscriptions = subscriptions
            .into_iter()
            .map(|(id, v)| (EntityKey::Subscription(id), Entity::Subscription(v)));
        let users = users
            .into_iter()
            .map(|(name, v)| (EntityKey::User(name), Entity::User(v)));
        let credits = credits
            .into_iter()
            .map(|(id, v)| (EntityKey::Credit(id), Entity::Credit(v)));
        let holdings = holdings
            .into_iter()
            .map(|(name, v)| (EntityKey::Holdings(name), Entity::Holdings(v)));
        benefits
            .chain(keys)
            .chain(subscriptions)
            .chain(users)
            .chain(credits)
            .chain(holdings)
    }

    /// Puts an entity into the state under `key`, replacing what was there.
    /// An entity of another kind than the key names is a bug of the caller:
    /// debug builds assert, release builds ignore it.
    pub fn insert(&mut self, key: EntityKey, entity: Entity) {
        match (key, entity) {
            (EntityKey::Benefit(id), Entity::Benefit(v)) => {
                self.benefits.insert(id, v);
            }
            (EntityKey::Key(k), Entity::Key(v)) => {
                self.keys.insert(k, v);
            }
            (EntityKey::Subscription(id), Entity::Subscription(v)) => {
                self.subscriptions.insert(id, v);
            }
            (EntityKey::User(name), Entity::User(v)) => {
                self.users.insert(name, v);
            }
            (EntityKey::Credit(id), Entity::Credit(v)) => {
                self.credits.insert(id, v);
            }
            (EntityKey::Holdings(name), Entity::Holdings(v)) => {
                // The whole state holds no empty sets: neither does a part.
                if v.is_empty() {
                    self.holdings.remove(&name);
                } else {
                    self.holdings.insert(name, v);
                }
            }
            (key, entity) => debug_assert!(false, "{key:?} cannot hold {entity:?}"),
        }
    }
}

/// The entities [`crate::decide`] reads for `command`, and those
/// [`crate::evolve`] changes when it is accepted, as far as `state` tells:
/// a key's benefit is named once the key is in `state`, a user's credits'
/// benefits once the user's holdings are, a credit's current holders once
/// the credit is. Call it until it names nothing not yet loaded.
pub fn reads(state: &State, command: &Command) -> Vec<EntityKey> {
    let mut keys = Vec::new();
    let holdings = |keys: &mut Vec<EntityKey>, user: &UserName| {
        keys.push(EntityKey::User(user.clone()));
        keys.push(EntityKey::Holdings(user.clone()));
        for held in state.holdings(user) {
            keys.push(EntityKey::Benefit(held.clone()));
        }
    };
    let credit = |keys: &mut Vec<EntityKey>, benefit: &BenefitId| {
        keys.push(EntityKey::Benefit(benefit.clone()));
        keys.push(EntityKey::Credit(benefit.clone()));
        // A change of holders changes each holder's holdings.
        for holder in state
            .credit_holders(benefit)
            .into_iter()
            .flat_map(|c| &c.holders)
        {
            keys.push(EntityKey::Holdings(holder.clone()));
        }
    };
    match &command.action {
        Action::GrantBenefit {
            benefit, provides, ..
        } => {
            keys.push(EntityKey::Benefit(benefit.clone()));
            keys.push(EntityKey::Credit(benefit.clone()));
            if let Provision::Keys(granted) = provides {
                for g in granted {
                    keys.push(EntityKey::Key(g.key.clone()));
                    // A key granted before may be granted again once its
                    // benefit was withdrawn (L8).
                    if let Some(existing) = state.key(&g.key) {
                        keys.push(EntityKey::Benefit(existing.benefit.clone()));
                    }
                }
            }
        }
        Action::WithdrawBenefit { benefit, .. } => keys.push(EntityKey::Benefit(benefit.clone())),
        Action::RegisterUser { user, .. } => keys.push(EntityKey::User(user.clone())),
        Action::RedeemKey { subscription, key }
        | Action::AddLicenses { subscription, key }
        | Action::ExtendEndDate { subscription, key } => {
            keys.push(EntityKey::Key(key.clone()));
            keys.push(EntityKey::Subscription(subscription.clone()));
            if let Some(granted) = state.key(key) {
                keys.push(EntityKey::Benefit(granted.benefit.clone()));
            }
        }
        Action::AssignCredit { benefit, user } | Action::UnassignCredit { benefit, user } => {
            credit(&mut keys, benefit);
            holdings(&mut keys, user);
        }
        Action::TransferCredit { benefit, to } => {
            credit(&mut keys, benefit);
            holdings(&mut keys, to);
        }
    }
    keys
}

/// The entities [`crate::evolve`] reads and changes when it applies `event`.
pub fn touches(event: &Event) -> Vec<EntityKey> {
    match event {
        Event::BenefitGranted(e) => {
            let mut keys = vec![EntityKey::Benefit(e.benefit.clone())];
            match &e.provides {
                Provision::Keys(granted) => {
                    keys.extend(granted.iter().map(|g| EntityKey::Key(g.key.clone())));
                }
                Provision::Credit(_) => keys.push(EntityKey::Credit(e.benefit.clone())),
            }
            keys
        }
        Event::UserRegistered(e) => vec![EntityKey::User(e.user.clone())],
        Event::KeyRedeemed(e) => key_use(&e.key, &e.subscription, &e.benefit),
        Event::LicensesAdded(e) => key_use(&e.key, &e.subscription, &e.benefit),
        Event::EndDateExtended(e) => key_use(&e.key, &e.subscription, &e.benefit),
        Event::CreditAssigned(e) => vec![
            EntityKey::Credit(e.benefit.clone()),
            EntityKey::Holdings(e.user.clone()),
            EntityKey::Benefit(e.benefit.clone()),
        ],
        Event::CreditUnassigned(e) => vec![
            EntityKey::Credit(e.benefit.clone()),
            EntityKey::Holdings(e.user.clone()),
        ],
        Event::CreditTransferred(e) => vec![
            EntityKey::Credit(e.benefit.clone()),
            EntityKey::Holdings(e.from.clone()),
            EntityKey::Holdings(e.to.clone()),
        ],
        Event::BenefitWithdrawn(e) => vec![EntityKey::Benefit(e.benefit.clone())],
    }
}

/// What a key's use changes: the key (R6), the subscription, and its
/// benefit, in use from then on (L8).
fn key_use(key: &ProductKey, subscription: &SubscriptionId, benefit: &BenefitId) -> Vec<EntityKey> {
    vec![
        EntityKey::Key(key.clone()),
        EntityKey::Subscription(subscription.clone()),
        EntityKey::Benefit(benefit.clone()),
    ]
}
