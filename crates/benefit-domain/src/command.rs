//! Commands: what an operator asks the ledger to record. A command carries
//! everything the decision needs from outside (who, on which date, which
//! ids), so that [`crate::decide`] stays pure.

use benefit_events::{
    BenefitId, BenefitType, Date, Offer, ProductKey, ProductName, Provision, Reason,
    SubscriptionId, UserName,
};

/// Who claims to be making a change. The role is the text given, not yet
/// checked: [`crate::authorize`] turns it into an [`benefit_events::Actor`]
/// or refuses it (R1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimedActor {
    /// The user's e-mail address.
    pub user: UserName,
    /// The role as given (`global-admin`, `mpn-partner-admin`, or anything).
    pub role: String,
}

/// A request to change the ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    /// Who makes the change; `None` is refused (R1).
    pub actor: Option<ClaimedActor>,
    /// The effective date.
    pub on: Date,
    /// What to do.
    pub action: Action,
}

/// What a command asks for: one variant per event it may record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Record a provisioned benefit (`BenefitGranted`).
    GrantBenefit {
        /// The new benefit's id.
        benefit: BenefitId,
        /// The product.
        product: ProductName,
        /// The offer.
        offer: Offer,
        /// Core or incremental.
        benefit_type: BenefitType,
        /// The last date its rights may be used.
        expires: Date,
        /// Keys or a credit.
        provides: Provision,
    },
    /// Record a user of the partner's directory (`UserRegistered`).
    RegisterUser {
        /// The user.
        user: UserName,
        /// Whether a guest.
        guest: bool,
    },
    /// Activate a subscription with a key (`KeyRedeemed`, R9, R10).
    RedeemKey {
        /// The subscription.
        subscription: SubscriptionId,
        /// The key.
        key: ProductKey,
    },
    /// Grow an active subscription with a key (`LicensesAdded`, R14).
    AddLicenses {
        /// The subscription.
        subscription: SubscriptionId,
        /// The key.
        key: ProductKey,
    },
    /// Extend an active subscription with a key (`EndDateExtended`, R11).
    ExtendEndDate {
        /// The subscription.
        subscription: SubscriptionId,
        /// The key.
        key: ProductKey,
    },
    /// Give a credit to a user (`CreditAssigned`).
    AssignCredit {
        /// The credit benefit.
        benefit: BenefitId,
        /// The user.
        user: UserName,
    },
    /// Remove a user from a monthly credit (`CreditUnassigned`).
    UnassignCredit {
        /// The credit benefit.
        benefit: BenefitId,
        /// The user.
        user: UserName,
    },
    /// Move an annual bulk credit to another user (`CreditTransferred`).
    TransferCredit {
        /// The credit benefit.
        benefit: BenefitId,
        /// The new holder.
        to: UserName,
    },
    /// Withdraw a benefit granted by mistake, never used (`BenefitWithdrawn`,
    /// L8).
    WithdrawBenefit {
        /// The benefit.
        benefit: BenefitId,
        /// Why.
        reason: Reason,
    },
}

impl Command {
    /// Every product key the command names, in order: what a fingerprint of
    /// the command must cover, since a key's `Debug` is masked (R3).
    pub fn keys(&self) -> Vec<&ProductKey> {
        match &self.action {
            Action::GrantBenefit {
                provides: Provision::Keys(keys),
                ..
            } => keys.iter().map(|k| &k.key).collect(),
            Action::RedeemKey { key, .. }
            | Action::AddLicenses { key, .. }
            | Action::ExtendEndDate { key, .. } => vec![key],
            _ => Vec::new(),
        }
    }
}

impl Command {
    /// The command a recorded event answers: who asked (the event's actor),
    /// on which date, and what. `verify` decides it again on the state the
    /// log gives before the event, so that an event whose stored inputs
    /// came from forged state is found (issue 13).
    pub fn recorded(event: &benefit_events::Event, actor: &benefit_events::Actor) -> Self {
        use benefit_events::Event;
        let action = match event {
            Event::BenefitGranted(e) => Action::GrantBenefit {
                benefit: e.benefit.clone(),
                product: e.product.clone(),
                offer: e.offer,
                benefit_type: e.benefit_type,
                expires: e.expires,
                provides: e.provides.clone(),
            },
            Event::UserRegistered(e) => Action::RegisterUser {
                user: e.user.clone(),
                guest: e.guest,
            },
            Event::KeyRedeemed(e) => Action::RedeemKey {
                subscription: e.subscription.clone(),
                key: e.key.clone(),
            },
            Event::LicensesAdded(e) => Action::AddLicenses {
                subscription: e.subscription.clone(),
                key: e.key.clone(),
            },
            Event::EndDateExtended(e) => Action::ExtendEndDate {
                subscription: e.subscription.clone(),
                key: e.key.clone(),
            },
            Event::CreditAssigned(e) => Action::AssignCredit {
                benefit: e.benefit.clone(),
                user: e.user.clone(),
            },
            Event::CreditUnassigned(e) => Action::UnassignCredit {
                benefit: e.benefit.clone(),
                user: e.user.clone(),
            },
            Event::CreditTransferred(e) => Action::TransferCredit {
                benefit: e.benefit.clone(),
                to: e.to.clone(),
            },
            Event::BenefitWithdrawn(e) => Action::WithdrawBenefit {
                benefit: e.benefit.clone(),
                reason: e.reason.clone(),
            },
        };
        Self {
            actor: Some(ClaimedActor {
                user: actor.user.clone(),
                role: actor.role.as_str().to_owned(),
            }),
            on: event.on(),
            action,
        }
    }
}
