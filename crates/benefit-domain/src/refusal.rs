//! Refusals: why a command breaks a rule, with the rule's id and the numbers
//! involved (R41). A refusal changes nothing; its message is one line.
//!
//! Rules `R..` are the rule book's. Rules `L..` are this ledger's own,
//! written down in `docs/rules.md` where the rule book is silent.

use benefit_events::{BenefitId, Date, ProductKey, ProductName, Status, SubscriptionId, UserName};
use thiserror::Error;

/// A command refused by a rule. Every message starts `refused (RULE):` and
/// shows keys masked (R3).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum Refusal {
    /// R1: no actor was given.
    #[error("refused (R1): no actor given; only global-admin and mpn-partner-admin may change the ledger")]
    NoActor,
    /// R1: the role may not change the ledger.
    #[error("refused (R1): role '{role}' of {user} may not change the ledger; only global-admin and mpn-partner-admin may")]
    RoleNotAllowed {
        /// The user.
        user: UserName,
        /// The role given (shortened).
        role: String,
    },
    /// R4: the key already belongs to a benefit.
    #[error("refused (R4): key {key} is already granted in benefit {benefit}")]
    KeyAlreadyGranted {
        /// The key (masked when shown).
        key: ProductKey,
        /// The benefit it belongs to.
        benefit: BenefitId,
    },
    /// R4: the key belongs to no benefit.
    #[error("refused (R4): key {key} was never granted in any benefit")]
    KeyNotGranted {
        /// The key.
        key: ProductKey,
    },
    /// R6: the key was used before.
    #[error(
        "refused (R6): key {key} was already used on {used_on} for subscription {subscription}"
    )]
    KeyAlreadyUsed {
        /// The key.
        key: ProductKey,
        /// Where it was used.
        subscription: SubscriptionId,
        /// When it was used.
        used_on: Date,
    },
    /// R7: the key's benefit has expired.
    #[error("refused (R7): key {key} of benefit {benefit} expired on {expires}, {on} is after it")]
    BenefitExpired {
        /// The key.
        key: ProductKey,
        /// Its benefit.
        benefit: BenefitId,
        /// The benefit's expiry date.
        expires: Date,
        /// The effective date.
        on: Date,
    },
    /// R8: the key is for another product.
    #[error("refused (R8): key {key} is for '{key_product}', subscription {subscription} is '{subscription_product}'")]
    ProductMismatch {
        /// The key.
        key: ProductKey,
        /// The key's product.
        key_product: ProductName,
        /// The subscription.
        subscription: SubscriptionId,
        /// The subscription's product.
        subscription_product: ProductName,
    },
    /// R10: only a new, expired or disabled subscription can be activated.
    #[error("refused (R10): subscription {subscription} is {status} on {on} (end date {end}); only a new, expired or disabled subscription can be activated")]
    CannotActivate {
        /// The subscription.
        subscription: SubscriptionId,
        /// Its status on the effective date (active or deleted).
        status: Status,
        /// Its end date.
        end: Date,
        /// The effective date.
        on: Date,
    },
    /// R12: the key would extend by more than three years.
    #[error(
        "refused (R12): key of {key_seats} seats is more than 3 x {active_seats} active seats"
    )]
    ExtensionOverCap {
        /// `k`.
        key_seats: u32,
        /// `a`.
        active_seats: u32,
    },
    /// R13 (extend) and R16 (add licenses): the subscription is not active.
    #[error("refused ({rule}): subscription {subscription} is {status} on {on} (end date {end}); only an active subscription can be {verb}")]
    NotActive {
        /// `R13` or `R16`.
        rule: &'static str,
        /// `extended` or `given licenses`.
        verb: &'static str,
        /// The subscription.
        subscription: SubscriptionId,
        /// Its status on the effective date.
        status: Status,
        /// Its end date.
        end: Date,
        /// The effective date.
        on: Date,
    },
    /// R13 (extend) and R16 (add licenses): there is no such subscription.
    #[error("refused ({rule}): subscription {subscription} does not exist; only an active subscription can be {verb}")]
    NoSuchSubscription {
        /// `R13` or `R16`.
        rule: &'static str,
        /// `extended` or `given licenses`.
        verb: &'static str,
        /// The subscription.
        subscription: SubscriptionId,
    },
    /// R22: the change would take effect before the last recorded change.
    #[error("refused (R22): {subject} was last changed on {last}, a change on {on} would rewrite the past")]
    BackDated {
        /// `subscription x` or `credit y`.
        subject: String,
        /// The effective date of the last recorded change.
        last: Date,
        /// The effective date asked for.
        on: Date,
    },
    /// R30: the user is not in the directory.
    #[error("refused (R30): user {user} is not registered in the partner's directory")]
    UserNotRegistered {
        /// The user.
        user: UserName,
    },
    /// R30: the user was registered after the effective date.
    #[error("refused (R30): user {user} is registered from {registered_on}, not on {on}")]
    UserNotYetRegistered {
        /// The user.
        user: UserName,
        /// The registration's effective date.
        registered_on: Date,
        /// The effective date asked for.
        on: Date,
    },
    /// R31: the user already holds the monthly credit.
    #[error("refused (R31): user {user} already holds credit {benefit}")]
    AlreadyHolds {
        /// The user.
        user: UserName,
        /// The credit.
        benefit: BenefitId,
    },
    /// R31: the user does not hold the monthly credit.
    #[error("refused (R31): user {user} does not hold credit {benefit}")]
    NotAHolder {
        /// The user.
        user: UserName,
        /// The credit.
        benefit: BenefitId,
    },
    /// R32: an annual bulk credit has one holder; it is transferred, not
    /// assigned again.
    #[error("refused (R32): annual bulk credit {benefit} is held by {holder}; it has one holder at a time and can only be transferred")]
    AnnualBulkHeld {
        /// The credit.
        benefit: BenefitId,
        /// Its holder.
        holder: UserName,
    },
    /// R32: an annual bulk credit cannot be unassigned.
    #[error("refused (R32): annual bulk credit {benefit} cannot be removed, only transferred to another user")]
    AnnualBulkNotRemovable {
        /// The credit.
        benefit: BenefitId,
    },
    /// R32: only annual bulk credits are transferred.
    #[error("refused (R32): credit {benefit} is monthly; only an annual bulk credit is transferred (monthly users are assigned and unassigned, R31)")]
    MonthlyNotTransferable {
        /// The credit.
        benefit: BenefitId,
    },
    /// R32: transfers only within the enrollment year.
    #[error("refused (R32): annual bulk credit {benefit} can be transferred only during its enrollment year {start} to {end}, not on {on}")]
    OutsideEnrollment {
        /// The credit.
        benefit: BenefitId,
        /// Enrollment start.
        start: Date,
        /// Enrollment end.
        end: Date,
        /// The effective date.
        on: Date,
    },
    /// R32: a transfer needs a holder to move from, and another user to move to.
    #[error("refused (R32): annual bulk credit {benefit} {problem}")]
    TransferImpossible {
        /// The credit.
        benefit: BenefitId,
        /// `has no holder to transfer from; assign it first` or `is already held by x`.
        problem: String,
    },
    /// R33: an annual bulk credit is combined with nothing else.
    #[error("refused (R33): user {user} holds {held_plan} credit {held}; an annual bulk credit cannot be combined with another credit ({benefit})")]
    NoCombining {
        /// The user.
        user: UserName,
        /// A credit the user holds.
        held: BenefitId,
        /// Its plan.
        held_plan: &'static str,
        /// The credit asked for.
        benefit: BenefitId,
    },
    /// L1: benefit ids are unique.
    #[error("refused (L1): benefit {benefit} is already granted")]
    BenefitAlreadyGranted {
        /// The benefit.
        benefit: BenefitId,
    },
    /// L2: a user is registered once.
    #[error("refused (L2): user {user} is already registered (since {registered_on})")]
    UserAlreadyRegistered {
        /// The user.
        user: UserName,
        /// The first registration's effective date.
        registered_on: Date,
    },
    /// L3: a benefit must make sense on its own.
    #[error("refused (L3): benefit {benefit} {problem}")]
    InvalidBenefit {
        /// The benefit.
        benefit: BenefitId,
        /// What is wrong with it.
        problem: String,
    },
    /// L4: credit commands need a credit benefit.
    #[error("refused (L4): {benefit} {problem}")]
    NotACredit {
        /// The benefit named.
        benefit: BenefitId,
        /// `was never granted` or `is a key benefit, not a credit`.
        problem: &'static str,
    },
    /// L5: a benefit cannot be used before it was granted.
    #[error(
        "refused (L5): benefit {benefit} was granted on {granted_on}, it cannot be used on {on}"
    )]
    BeforeGrant {
        /// The benefit.
        benefit: BenefitId,
        /// The grant's effective date.
        granted_on: Date,
        /// The effective date asked for.
        on: Date,
    },
    /// L6: a credit cannot be given after its benefit expired (R7's rule for
    /// keys, applied to credits).
    #[error("refused (L6): credit {benefit} expired on {expires}, {on} is after it")]
    CreditExpired {
        /// The credit.
        benefit: BenefitId,
        /// Its expiry date.
        expires: Date,
        /// The effective date.
        on: Date,
    },
    /// L7: a result out of the representable range (a date after 9999-12-31,
    /// more than 4294967295 seats).
    #[error("refused (L7): {what} would be out of range")]
    OutOfRange {
        /// What would overflow.
        what: String,
    },
    /// L8: a withdrawn benefit's keys and credit are usable no more.
    #[error("refused (L8): benefit {benefit} was withdrawn on {withdrawn_on}; {what} can no longer be used")]
    Withdrawn {
        /// The benefit.
        benefit: BenefitId,
        /// The withdrawal's effective date.
        withdrawn_on: Date,
        /// `key ...` or `its credit`.
        what: String,
    },
    /// L8: only a granted benefit that was never used may be withdrawn.
    #[error("refused (L8): benefit {benefit} cannot be withdrawn: {problem}")]
    CannotWithdraw {
        /// The benefit.
        benefit: BenefitId,
        /// Why not.
        problem: String,
    },
}

impl Refusal {
    /// The id of the rule that refused (`R12`, `L1`, ...).
    pub fn rule(&self) -> &'static str {
        match self {
            Refusal::NoActor | Refusal::RoleNotAllowed { .. } => "R1",
            Refusal::KeyAlreadyGranted { .. } | Refusal::KeyNotGranted { .. } => "R4",
            Refusal::KeyAlreadyUsed { .. } => "R6",
            Refusal::BenefitExpired { .. } => "R7",
            Refusal::ProductMismatch { .. } => "R8",
            Refusal::CannotActivate { .. } => "R10",
            Refusal::ExtensionOverCap { .. } => "R12",
            Refusal::NotActive { rule, .. } | Refusal::NoSuchSubscription { rule, .. } => rule,
            Refusal::BackDated { .. } => "R22",
            Refusal::UserNotRegistered { .. } | Refusal::UserNotYetRegistered { .. } => "R30",
            Refusal::AlreadyHolds { .. } | Refusal::NotAHolder { .. } => "R31",
            Refusal::AnnualBulkHeld { .. }
            | Refusal::AnnualBulkNotRemovable { .. }
            | Refusal::MonthlyNotTransferable { .. }
            | Refusal::OutsideEnrollment { .. }
            | Refusal::TransferImpossible { .. } => "R32",
            Refusal::NoCombining { .. } => "R33",
            Refusal::BenefitAlreadyGranted { .. } => "L1",
            Refusal::UserAlreadyRegistered { .. } => "L2",
            Refusal::InvalidBenefit { .. } => "L3",
            Refusal::NotACredit { .. } => "L4",
            Refusal::BeforeGrant { .. } => "L5",
            Refusal::CreditExpired { .. } => "L6",
            Refusal::OutOfRange { .. } => "L7",
            Refusal::Withdrawn { .. } | Refusal::CannotWithdraw { .. } => "L8",
        }
    }
}
