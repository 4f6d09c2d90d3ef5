//! [`decide`]: every business rule of the ledger. Given the state and a
//! command it returns the events to record, or the [`Refusal`] of the first
//! rule the command breaks. It reads nothing but its arguments.

use benefit_events::{
    Actor, BenefitGranted, BenefitId, BenefitWithdrawn, Credit, CreditAssigned, CreditPlan,
    CreditTransferred, CreditUnassigned, Date, EndDateExtended, Event, KeyRedeemed, LicensesAdded,
    OutcomeRule, ProductKey, Provision, Role, Status, SubscriptionId, UserName, UserRegistered,
};

use crate::state::{Benefit, CreditHolders, Key, Subscription};
use crate::status::status_on;
use crate::term::{self, TERM_MONTHS};
use crate::{Action, ClaimedActor, Command, Refusal, State};

/// R1: turns a claimed actor into an [`Actor`], or refuses a missing actor
/// and any role but `global-admin` and `mpn-partner-admin`.
pub fn authorize(claim: Option<&ClaimedActor>) -> Result<Actor, Refusal> {
    let claim = claim.ok_or(Refusal::NoActor)?;
    let role = Role::parse(&claim.role).map_err(|_| Refusal::RoleNotAllowed {
        user: claim.user.clone(),
        role: benefit_events::excerpt(&claim.role),
    })?;
    Ok(Actor {
        user: claim.user.clone(),
        role,
    })
}

/// Decides what a command records: the events, or the refusal of the first
/// rule it breaks (R41: a refusal records nothing).
pub fn decide(state: &State, command: Command) -> Result<Vec<Event>, Refusal> {
    authorize(command.actor.as_ref())?;
    let on = command.on;
    let event = match command.action {
        Action::GrantBenefit {
            benefit,
            product,
            offer,
            benefit_type,
            expires,
            provides,
        } => {
            check_grant(state, &benefit, on, expires, &provides)?;
            Event::BenefitGranted(BenefitGranted {
                on,
                benefit,
                product,
                offer,
                benefit_type,
                expires,
                provides,
            })
        }
        Action::RegisterUser { user, guest } => {
            if let Some(existing) = state.user(&user) {
                return Err(Refusal::UserAlreadyRegistered {
                    registered_on: existing.registered_on,
                    user,
                });
            }
            Event::UserRegistered(UserRegistered { on, user, guest })
        }
        Action::RedeemKey { subscription, key } => redeem(state, on, subscription, key)?,
        Action::AddLicenses { subscription, key } => add_licenses(state, on, subscription, key)?,
        Action::ExtendEndDate { subscription, key } => extend(state, on, subscription, key)?,
        Action::AssignCredit { benefit, user } => assign(state, on, benefit, user)?,
        Action::UnassignCredit { benefit, user } => unassign(state, on, benefit, user)?,
        Action::TransferCredit { benefit, to } => transfer(state, on, benefit, to)?,
        Action::WithdrawBenefit { benefit, reason } => {
            check_withdrawal(state, &benefit, on)?;
            Event::BenefitWithdrawn(BenefitWithdrawn {
                on,
                benefit,
                reason,
            })
        }
    };
    Ok(vec![event])
}

/// L1, L3, R4: a benefit is new, makes sense on its own, and its keys belong
/// to no other benefit.
fn check_grant(
    state: &State,
    benefit: &BenefitId,
    on: Date,
    expires: Date,
    provides: &Provision,
) -> Result<(), Refusal> {
    if state.benefit(benefit).is_some() {
        return Err(Refusal::BenefitAlreadyGranted {
            benefit: benefit.clone(),
        });
    }
    let invalid = |problem: String| Refusal::InvalidBenefit {
        benefit: benefit.clone(),
        problem,
    };
    if expires < on {
        return Err(invalid(format!(
            "expires on {expires}, before it is granted on {on}"
        )));
    }
    match provides {
        Provision::Keys(keys) => {
            if keys.is_empty() {
                return Err(invalid("provides no keys".into()));
            }
            let mut seen = std::collections::BTreeSet::new();
            for granted in keys {
                let existing = state.key(&granted.key).filter(|k| {
                    // L8: the keys of a withdrawn benefit may be granted again.
                    state
                        .benefit(&k.benefit)
                        .map_or(true, |b| b.withdrawn_on.is_none())
                });
                if let Some(existing) = existing {
                    return Err(Refusal::KeyAlreadyGranted {
                        key: granted.key.clone(),
                        benefit: existing.benefit.clone(),
                    });
                }
                if !seen.insert(&granted.key) {
                    return Err(Refusal::KeyAlreadyGranted {
                        key: granted.key.clone(),
                        benefit: benefit.clone(),
                    });
                }
            }
        }
        Provision::Credit(credit) => {
            if credit.amount.minor_units() == 0 {
                return Err(invalid("has a credit of zero".into()));
            }
            if let CreditPlan::AnnualBulk { enrollment } = credit.plan {
                if enrollment.end < enrollment.start {
                    return Err(invalid(format!(
                        "has an enrollment year ending {} before it starts {}",
                        enrollment.end, enrollment.start
                    )));
                }
                // The day after the longest year is only compared with, never
                // stored, so it may lie past 9999-12-31 (L7): a year that
                // starts in 9999 may end on 9999-12-31.
                let too_long = enrollment
                    .start
                    .checked_add_months(chrono::Months::new(TERM_MONTHS))
                    .is_some_and(|year_end| enrollment.end >= year_end);
                if too_long {
                    return Err(invalid(format!(
                        "has an enrollment year {} to {}, longer than 12 months",
                        enrollment.start, enrollment.end
                    )));
                }
            }
        }
    }
    Ok(())
}

/// R4, R6, L5, R7: the key is granted, unused, and its benefit is usable on
/// the effective date.
fn usable_key<'s>(
    state: &'s State,
    key: &ProductKey,
    on: Date,
) -> Result<(&'s Key, &'s Benefit), Refusal> {
    let granted = state
        .key(key)
        .ok_or_else(|| Refusal::KeyNotGranted { key: key.clone() })?;
    if let Some(used) = &granted.used {
        return Err(Refusal::KeyAlreadyUsed {
            key: key.clone(),
            subscription: used.subscription.clone(),
            used_on: used.on,
        });
    }
    let benefit = state
        .benefit(&granted.benefit)
        .ok_or_else(|| Refusal::KeyNotGranted { key: key.clone() })?;
    not_withdrawn(&granted.benefit, benefit, || format!("key {key}"))?;
    if on < benefit.granted_on {
        return Err(Refusal::BeforeGrant {
            benefit: granted.benefit.clone(),
            granted_on: benefit.granted_on,
            on,
        });
    }
    if on > benefit.expires {
        return Err(Refusal::BenefitExpired {
            key: key.clone(),
            benefit: granted.benefit.clone(),
            expires: benefit.expires,
            on,
        });
    }
    Ok((granted, benefit))
}

/// L8: a withdrawn benefit's keys and credit are usable no more.
fn not_withdrawn(
    id: &BenefitId,
    benefit: &Benefit,
    what: impl FnOnce() -> String,
) -> Result<(), Refusal> {
    match benefit.withdrawn_on {
        Some(withdrawn_on) => Err(Refusal::Withdrawn {
            benefit: id.clone(),
            withdrawn_on,
            what: what(),
        }),
        None => Ok(()),
    }
}

/// L8: only a granted benefit, never used and not withdrawn, may be
/// withdrawn, on or after its grant.
fn check_withdrawal(state: &State, id: &BenefitId, on: Date) -> Result<(), Refusal> {
    let cannot = |problem: String| Refusal::CannotWithdraw {
        benefit: id.clone(),
        problem,
    };
    let benefit = state
        .benefit(id)
        .ok_or_else(|| cannot("it was never granted".into()))?;
    if let Some(withdrawn_on) = benefit.withdrawn_on {
        return Err(cannot(format!("it was withdrawn on {withdrawn_on}")));
    }
    if let Some(since) = benefit.in_use_since {
        let what = if benefit.credit.is_some() {
            "its credit was given"
        } else {
            "one of its keys was used"
        };
        return Err(cannot(format!(
            "{what} on {since}; only a benefit never used may be withdrawn"
        )));
    }
    if on < benefit.granted_on {
        return Err(cannot(format!(
            "it was granted on {}, after {on}",
            benefit.granted_on
        )));
    }
    Ok(())
}

/// R22: nothing takes effect before the last change of its subject.
fn not_back_dated(subject: impl FnOnce() -> String, last: Date, on: Date) -> Result<(), Refusal> {
    if on < last {
        return Err(Refusal::BackDated {
            subject: subject(),
            last,
            on,
        });
    }
    Ok(())
}

/// R8: the key's product is the subscription's.
fn same_product(
    key: &ProductKey,
    benefit: &Benefit,
    id: &SubscriptionId,
    sub: &Subscription,
) -> Result<(), Refusal> {
    if benefit.product != sub.product {
        return Err(Refusal::ProductMismatch {
            key: key.clone(),
            key_product: benefit.product.clone(),
            subscription: id.clone(),
            subscription_product: sub.product.clone(),
        });
    }
    Ok(())
}

/// R9, R10: a new term for a new, expired or disabled subscription.
fn redeem(
    state: &State,
    on: Date,
    subscription: SubscriptionId,
    key: ProductKey,
) -> Result<Event, Refusal> {
    let (granted, benefit) = usable_key(state, &key, on)?;
    let (old_end, reactivated_from) = match state.subscription(&subscription) {
        None => (None, None),
        Some(sub) => {
            not_back_dated(
                || format!("subscription {subscription}"),
                sub.last_change,
                on,
            )?;
            same_product(&key, benefit, &subscription, sub)?;
            let status = status_on(sub.end, on);
            if matches!(status, Status::Active | Status::Deleted) {
                return Err(Refusal::CannotActivate {
                    subscription,
                    status,
                    end: sub.end,
                    on,
                });
            }
            (Some(sub.end), Some(status))
        }
    };
    let term = term::new_term(on)?;
    Ok(Event::KeyRedeemed(KeyRedeemed {
        on,
        subscription,
        benefit: granted.benefit.clone(),
        product: benefit.product.clone(),
        seats: granted.seats,
        term_months: TERM_MONTHS,
        old_end,
        reactivated_from,
        new_end: term.value,
        rule: OutcomeRule::R9,
        key,
    }))
}

/// The checks extending and adding licenses share: a usable key for the
/// subscription's product, the subscription active on the effective date
/// (R13, R16), nothing back-dated (R22).
fn active_for_key<'s>(
    state: &'s State,
    on: Date,
    subscription: &SubscriptionId,
    key: &ProductKey,
    (rule, verb): (&'static str, &'static str),
) -> Result<(&'s Key, &'s BenefitId, &'s Subscription), Refusal> {
    let (granted, benefit) = usable_key(state, key, on)?;
    let sub = state
        .subscription(subscription)
        .ok_or_else(|| Refusal::NoSuchSubscription {
            rule,
            verb,
            subscription: subscription.clone(),
        })?;
    not_back_dated(
        || format!("subscription {subscription}"),
        sub.last_change,
        on,
    )?;
    same_product(key, benefit, subscription, sub)?;
    let status = status_on(sub.end, on);
    if status != Status::Active {
        return Err(Refusal::NotActive {
            rule,
            verb,
            subscription: subscription.clone(),
            status,
            end: sub.end,
            on,
        });
    }
    Ok((granted, &granted.benefit, sub))
}

/// R11, R12, R13: a prorated extension of an active subscription.
fn extend(
    state: &State,
    on: Date,
    subscription: SubscriptionId,
    key: ProductKey,
) -> Result<Event, Refusal> {
    let (granted, benefit, sub) =
        active_for_key(state, on, &subscription, &key, ("R13", "extended"))?;
    let extension = term::prorate(sub.seats.get(), granted.seats.get(), sub.end)?.value;
    Ok(Event::EndDateExtended(EndDateExtended {
        on,
        benefit: benefit.clone(),
        active_seats: sub.seats,
        key_seats: granted.seats,
        months_added: extension.months,
        days_added: extension.days,
        old_end: sub.end,
        new_end: extension.new_end,
        rule: OutcomeRule::R11,
        subscription,
        key,
    }))
}

/// R14, R15, R16: seats added to an active subscription, end date co-termed.
fn add_licenses(
    state: &State,
    on: Date,
    subscription: SubscriptionId,
    key: ProductKey,
) -> Result<Event, Refusal> {
    let (granted, benefit, sub) =
        active_for_key(state, on, &subscription, &key, ("R16", "given licenses"))?;
    let co_term = term::co_term(sub.seats.get(), granted.seats.get(), on, sub.end)?.value;
    let seats_after = benefit_events::Seats::new(co_term.seats_after)
        .expect("a sum of positive seats is positive");
    Ok(Event::LicensesAdded(LicensesAdded {
        on,
        benefit: benefit.clone(),
        seats_before: sub.seats,
        key_seats: granted.seats,
        days_left: co_term.days_left,
        term_days: co_term.term_days,
        new_days_left: co_term.new_days_left,
        seats_after,
        old_end: sub.end,
        new_end: co_term.new_end,
        rule: OutcomeRule::R14,
        subscription,
        key,
    }))
}

/// L4, R22: the benefit is a credit, and the change is not back-dated.
fn credit_for_change<'s>(
    state: &'s State,
    benefit: &BenefitId,
    on: Date,
) -> Result<(&'s Benefit, Credit, &'s CreditHolders), Refusal> {
    let not_a_credit = |problem| Refusal::NotACredit {
        benefit: benefit.clone(),
        problem,
    };
    let granted = state
        .benefit(benefit)
        .ok_or_else(|| not_a_credit("was never granted"))?;
    let credit = granted
        .credit
        .ok_or_else(|| not_a_credit("is a key benefit, not a credit"))?;
    let holders = state
        .credit_holders(benefit)
        .ok_or_else(|| not_a_credit("was never granted"))?;
    not_withdrawn(benefit, granted, || "its credit".into())?;
    not_back_dated(|| format!("credit {benefit}"), holders.last_change, on)?;
    Ok((granted, credit, holders))
}

/// L6: a credit is not given after its benefit expired.
fn not_expired(benefit: &BenefitId, granted: &Benefit, on: Date) -> Result<(), Refusal> {
    if on > granted.expires {
        return Err(Refusal::CreditExpired {
            benefit: benefit.clone(),
            expires: granted.expires,
            on,
        });
    }
    Ok(())
}

/// R30: the user is in the directory on the effective date.
fn registered(state: &State, user: &UserName, on: Date) -> Result<(), Refusal> {
    let found = state
        .user(user)
        .ok_or_else(|| Refusal::UserNotRegistered { user: user.clone() })?;
    if found.registered_on > on {
        return Err(Refusal::UserNotYetRegistered {
            user: user.clone(),
            registered_on: found.registered_on,
            on,
        });
    }
    Ok(())
}

/// R33: an annual bulk credit is combined with no other credit, either way.
fn no_combining(
    state: &State,
    user: &UserName,
    benefit: &BenefitId,
    asked: CreditPlan,
) -> Result<(), Refusal> {
    let asked_is_bulk = matches!(asked, CreditPlan::AnnualBulk { .. });
    for held in state.holdings(user).filter(|held| *held != benefit) {
        let plan = state
            .benefit(held)
            .and_then(|b| b.credit)
            .map(|c| c.plan)
            .unwrap_or(CreditPlan::Monthly);
        if asked_is_bulk || matches!(plan, CreditPlan::AnnualBulk { .. }) {
            return Err(Refusal::NoCombining {
                user: user.clone(),
                held: held.clone(),
                held_plan: plan.as_str(),
                benefit: benefit.clone(),
            });
        }
    }
    Ok(())
}

/// R30, R31, R32, R33: a credit given to a registered user.
fn assign(state: &State, on: Date, benefit: BenefitId, user: UserName) -> Result<Event, Refusal> {
    let (granted, credit, holders) = credit_for_change(state, &benefit, on)?;
    not_expired(&benefit, granted, on)?;
    registered(state, &user, on)?;
    match credit.plan {
        CreditPlan::Monthly => {
            if holders.holders.contains(&user) {
                return Err(Refusal::AlreadyHolds { user, benefit });
            }
        }
        CreditPlan::AnnualBulk { .. } => {
            if let Some(holder) = holders.holders.iter().next() {
                return Err(Refusal::AnnualBulkHeld {
                    holder: holder.clone(),
                    benefit,
                });
            }
        }
    }
    no_combining(state, &user, &benefit, credit.plan)?;
    Ok(Event::CreditAssigned(CreditAssigned { on, benefit, user }))
}

/// R31, R32: a user removed from a monthly credit.
fn unassign(state: &State, on: Date, benefit: BenefitId, user: UserName) -> Result<Event, Refusal> {
    let (_, credit, holders) = credit_for_change(state, &benefit, on)?;
    if let CreditPlan::AnnualBulk { .. } = credit.plan {
        return Err(Refusal::AnnualBulkNotRemovable { benefit });
    }
    if !holders.holders.contains(&user) {
        return Err(Refusal::NotAHolder { user, benefit });
    }
    Ok(Event::CreditUnassigned(CreditUnassigned {
        on,
        benefit,
        user,
    }))
}

/// R30, R32, R33: an annual bulk credit moved, within its enrollment year.
fn transfer(state: &State, on: Date, benefit: BenefitId, to: UserName) -> Result<Event, Refusal> {
    let (granted, credit, holders) = credit_for_change(state, &benefit, on)?;
    not_expired(&benefit, granted, on)?;
    let CreditPlan::AnnualBulk { enrollment } = credit.plan else {
        return Err(Refusal::MonthlyNotTransferable { benefit });
    };
    if on < enrollment.start || on > enrollment.end {
        return Err(Refusal::OutsideEnrollment {
            benefit,
            start: enrollment.start,
            end: enrollment.end,
            on,
        });
    }
    let Some(from) = holders.holders.iter().next().cloned() else {
        return Err(Refusal::TransferImpossible {
            benefit,
            problem: "has no holder to transfer from; assign it first".into(),
        });
    };
    if from == to {
        return Err(Refusal::TransferImpossible {
            benefit,
            problem: format!("is already held by {to}"),
        });
    }
    registered(state, &to, on)?;
    no_combining(state, &to, &benefit, credit.plan)?;
    Ok(Event::CreditTransferred(CreditTransferred {
        on,
        benefit,
        from,
        to,
    }))
}
