//! The given/when/then harness of the rule tests: a history is a list of
//! commands, each decided and applied in turn, so a test states the story in
//! the operator's words and the decider writes the events.
#![allow(dead_code)]

use benefit_domain::{decide, evolve, Action, ClaimedActor, Command, Refusal, State};
use benefit_events::*;

pub fn date(text: &str) -> Date {
    parse_date(text).expect("test dates are valid")
}

/// A valid key made from a short tag: `key("A1")` is `A1XXX-XXXXX-...`.
pub fn key(tag: &str) -> ProductKey {
    ProductKey::parse(&format!("{tag:X<25}")).expect("test keys are valid")
}

pub fn seats(n: u32) -> Seats {
    Seats::new(n).expect("positive")
}

pub fn sub(id: &str) -> SubscriptionId {
    SubscriptionId::parse(id).expect("valid id")
}

pub fn benefit(id: &str) -> BenefitId {
    BenefitId::parse(id).expect("valid id")
}

pub fn user(name: &str) -> UserName {
    UserName::parse(name).expect("valid user")
}

pub fn admin() -> Option<ClaimedActor> {
    Some(ClaimedActor {
        user: user("admin@contoso.com"),
        role: "global-admin".into(),
    })
}

pub const O365: &str = "Office 365 E3";

/// A key benefit for Office 365 E3, granted 2026-01-01, expiring 2027-12-31.
pub fn grant(id: &str, keys: &[(&str, u32)]) -> Action {
    grant_product(id, O365, "2027-12-31", keys)
}

pub fn grant_product(id: &str, product: &str, expires: &str, keys: &[(&str, u32)]) -> Action {
    Action::GrantBenefit {
        benefit: benefit(id),
        product: ProductName::parse(product).expect("valid product"),
        offer: Offer::ActionPack,
        benefit_type: BenefitType::Core,
        expires: date(expires),
        provides: Provision::Keys(
            keys.iter()
                .map(|(tag, n)| GrantedKey {
                    key: key(tag),
                    seats: seats(*n),
                })
                .collect(),
        ),
    }
}

fn grant_credit(id: &str, plan: CreditPlan, amount: &str) -> Action {
    Action::GrantBenefit {
        benefit: benefit(id),
        product: ProductName::parse("Microsoft Azure").expect("valid product"),
        offer: Offer::GoldCompetency,
        benefit_type: BenefitType::Incremental,
        expires: date("2027-12-31"),
        provides: Provision::Credit(Credit {
            plan,
            amount: Money::parse(amount, Currency::parse("USD").expect("USD")).expect("amount"),
        }),
    }
}

pub fn grant_monthly(id: &str) -> Action {
    grant_credit(id, CreditPlan::Monthly, "100.00")
}

/// An annual bulk credit with the enrollment year 2026-01-01 .. 2026-12-31.
pub fn grant_annual(id: &str) -> Action {
    let enrollment = EnrollmentYear {
        start: date("2026-01-01"),
        end: date("2026-12-31"),
    };
    grant_credit(id, CreditPlan::AnnualBulk { enrollment }, "12000.00")
}

pub fn register(name: &str) -> Action {
    Action::RegisterUser {
        user: user(name),
        guest: false,
    }
}
pub fn redeem(s: &str, k: &str) -> Action {
    Action::RedeemKey {
        subscription: sub(s),
        key: key(k),
    }
}
pub fn extend(s: &str, k: &str) -> Action {
    Action::ExtendEndDate {
        subscription: sub(s),
        key: key(k),
    }
}
pub fn add(s: &str, k: &str) -> Action {
    Action::AddLicenses {
        subscription: sub(s),
        key: key(k),
    }
}
pub fn assign(b: &str, u: &str) -> Action {
    Action::AssignCredit {
        benefit: benefit(b),
        user: user(u),
    }
}
pub fn unassign(b: &str, u: &str) -> Action {
    Action::UnassignCredit {
        benefit: benefit(b),
        user: user(u),
    }
}
pub fn transfer(b: &str, to: &str) -> Action {
    Action::TransferCredit {
        benefit: benefit(b),
        to: user(to),
    }
}

pub fn on(day: &str, action: Action) -> Command {
    Command {
        actor: admin(),
        on: date(day),
        action,
    }
}

/// The state after a history of commands, each of which must be accepted.
pub fn given(history: Vec<Command>) -> State {
    history
        .into_iter()
        .fold(State::default(), |state, command| {
            let label = format!("{command:?}");
            let events = decide(&state, command)
                .unwrap_or_else(|refusal| panic!("history step refused: {refusal}\n{label}"));
            events.iter().fold(state, evolve)
        })
}

/// The one event a command records on a state; fails the test if refused.
pub fn accepted(state: &State, command: Command) -> Event {
    let mut events = decide(state, command).unwrap_or_else(|r| panic!("refused: {r}"));
    assert_eq!(events.len(), 1, "one command, one event");
    events.remove(0)
}

/// The refusal of a command; fails the test if accepted.
pub fn refused(state: &State, command: Command) -> Refusal {
    match decide(state, command) {
        Ok(events) => panic!("expected a refusal, got {events:?}"),
        Err(refusal) => refusal,
    }
}

/// Asserts a refusal's rule id and its one-line message.
pub fn assert_refused(state: &State, command: Command, rule: &str, message: &str) {
    let refusal = refused(state, command);
    assert_eq!(refusal.rule(), rule, "{refusal}");
    assert_eq!(refusal.to_string(), message);
}

/// A subscription of `seats` seats activated on `day` with key `A1`.
pub fn active(seats_count: u32, day: &str) -> State {
    given(vec![
        on(
            "2026-01-01",
            grant("ben", &[("A1", seats_count), ("B1", 25), ("C1", 100)]),
        ),
        on(day, redeem("s1", "A1")),
    ])
}

pub fn withdraw(b: &str) -> Action {
    Action::WithdrawBenefit {
        benefit: benefit(b),
        reason: Reason::parse("granted for the wrong product").expect("valid reason"),
    }
}
