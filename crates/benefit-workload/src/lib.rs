//! A seeded, deterministic generator of realistic benefit histories: many
//! partners' benefits with keys, activations, extensions, added licenses,
//! expiries and reactivations, users, and monthly and annual credits with
//! assignments and transfers, and now and then a benefit granted by mistake
//! and withdrawn (L8).
//!
//! A key design decision: the generator proposes commands and lets
//! [`benefit_domain::decide`] judge them, keeping only what the rules accept.
//! So every generated history is rule-abiding by construction of the real
//! rules, not of a second copy of them, and the refusals the generator
//! meets on the way cost nothing but time.
//!
//! The same seed gives the same history on every machine (ChaCha8, a
//! reproducible generator, rather than the standard one, which may change
//! between `rand` versions).
#![forbid(unsafe_code)]

use benefit_domain::{decide, evolve, Action, ClaimedActor, Command, State};
use benefit_events::{
    BenefitId, BenefitType, Credit, CreditPlan, Currency, Date, EnrollmentYear, Event, GrantedKey,
    Money, Offer, ProductKey, ProductName, Provision, Reason, Seats, SubscriptionId, UserName,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const PRODUCTS: [&str; 3] = ["Office 365 E3", "Microsoft 365 E5", "Dynamics 365 Sales"];
/// Keys in one generated key benefit.
const KEYS_PER_BENEFIT: usize = 8;
/// Partners the generator keeps working on at once; older ones go quiet.
const ACTIVE_PARTNERS: usize = 150;
/// Every this many partners, one is granted a benefit by mistake and has it
/// withdrawn (L8).
const MISTAKE_EVERY: u64 = 4;
/// Accepted events per simulated day.
const EVENTS_PER_DAY: u64 = 12;

struct Partner {
    number: u64,
    product: usize,
    keys: Vec<ProductKey>,
    subscriptions: u64,
    users: Vec<UserName>,
    monthly: BenefitId,
    annual: BenefitId,
    benefits: u64,
}

/// An endless iterator of accepted events, with the actor who recorded them.
pub struct Workload {
    rng: ChaCha8Rng,
    /// The state the generator decides against: every accepted command,
    /// including those still queued.
    deciding: State,
    /// The state after exactly the commands yielded so far.
    state: State,
    today: Date,
    partners: Vec<Partner>,
    next_partner: u64,
    next_key: u64,
    accepted: u64,
    pending: std::collections::VecDeque<(Command, Event)>,
    actor: ClaimedActor,
}

fn valid<T, E: std::fmt::Debug>(value: Result<T, E>) -> T {
    // Generated names and numbers are valid by construction; a failure here
    // is a bug in this generator.
    value.expect("the generator builds valid values")
}

impl Workload {
    /// A workload starting on 2024-01-01, recorded by one operator.
    pub fn new(seed: u64) -> Self {
        Self {
            rng: ChaCha8Rng::seed_from_u64(seed),
            deciding: State::default(),
            state: State::default(),
            today: valid(benefit_events::parse_date("2024-01-01")),
            partners: Vec::new(),
            next_partner: 0,
            next_key: 0,
            accepted: 0,
            pending: std::collections::VecDeque::new(),
            actor: ClaimedActor {
                user: valid(UserName::parse("operator@ledger.example")),
                role: "mpn-partner-admin".into(),
            },
        }
    }

    /// The actor the workload's commands are made by.
    pub fn actor(&self) -> &ClaimedActor {
        &self.actor
    }

    /// The state after exactly the events yielded so far. (A step may
    /// accept several commands at once; those still queued are not in it.)
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Decides a command; keeps and queues its events if accepted.
    fn attempt(&mut self, action: Action) -> bool {
        let command = Command {
            actor: Some(self.actor.clone()),
            on: self.today,
            action,
        };
        match decide(&self.deciding, command.clone()) {
            Ok(events) => {
                for event in events {
                    self.deciding = evolve(std::mem::take(&mut self.deciding), &event);
                    self.pending.push_back((command.clone(), event));
                }
                true
            }
            Err(_) => false,
        }
    }

    fn new_key(&mut self) -> ProductKey {
        self.next_key += 1;
        valid(ProductKey::parse(&format!("{:025}", self.next_key)))
    }

    fn grant_keys(&mut self, index: usize) {
        let partner = &mut self.partners[index];
        partner.benefits += 1;
        let benefit = valid(BenefitId::parse(&format!(
            "p{}-keys-{}",
            partner.number, partner.benefits
        )));
        let product = valid(ProductName::parse(PRODUCTS[partner.product]));
        let seats: Vec<u32> = (0..KEYS_PER_BENEFIT)
            .map(|_| self.rng.gen_range(5..=120))
            .collect();
        let keys: Vec<GrantedKey> = seats
            .into_iter()
            .map(|s| GrantedKey {
                key: self.new_key(),
                seats: valid(Seats::new(s).ok_or("zero seats")),
            })
            .collect();
        let offer = [
            Offer::ActionPack,
            Offer::SilverCompetency,
            Offer::GoldCompetency,
        ][self.rng.gen_range(0..3)];
        let expires = self.today + chrono::Days::new(self.rng.gen_range(300..=730));
        let used: Vec<ProductKey> = keys.iter().map(|k| k.key.clone()).collect();
        if self.attempt(Action::GrantBenefit {
            benefit,
            product,
            offer,
            benefit_type: BenefitType::Core,
            expires,
            provides: Provision::Keys(keys),
        }) {
            self.partners[index].keys.extend(used);
        }
    }

    /// A benefit granted for a product with a typo in its name, so R8
    /// would refuse its keys for good: withdrawn the same day (L8), and its
    /// keys granted again for the right product.
    fn grant_by_mistake(&mut self, index: usize) {
        let number = self.partners[index].number;
        let product = self.partners[index].product;
        let keys: Vec<GrantedKey> = (0..2)
            .map(|_| GrantedKey {
                key: self.new_key(),
                seats: valid(Seats::new(10).ok_or("zero seats")),
            })
            .collect();
        let expires = self.today + chrono::Days::new(365);
        let grant =
            |benefit: String, product: String, keys: Vec<GrantedKey>| Action::GrantBenefit {
                benefit: valid(BenefitId::parse(&benefit)),
                product: valid(ProductName::parse(&product)),
                offer: Offer::ActionPack,
                benefit_type: BenefitType::Core,
                expires,
                provides: Provision::Keys(keys),
            };
        let typo = format!("{} (typo)", PRODUCTS[product]);
        self.attempt(grant(format!("p{number}-mistake"), typo, keys.clone()));
        self.attempt(Action::WithdrawBenefit {
            benefit: valid(BenefitId::parse(&format!("p{number}-mistake"))),
            reason: valid(Reason::parse("granted for the wrong product")),
        });
        let used: Vec<ProductKey> = keys.iter().map(|k| k.key.clone()).collect();
        let right = PRODUCTS[product].to_owned();
        if self.attempt(grant(format!("p{number}-regranted"), right, keys)) {
            self.partners[index].keys.extend(used);
        }
    }

    fn onboard(&mut self) {
        self.next_partner += 1;
        let number = self.next_partner;
        let users: Vec<UserName> = (0..4)
            .map(|u| valid(UserName::parse(&format!("user{u}@partner{number}.example"))))
            .collect();
        let usd = valid(Currency::parse("USD"));
        let monthly = valid(BenefitId::parse(&format!("p{number}-azure-monthly")));
        let annual = valid(BenefitId::parse(&format!("p{number}-azure-annual")));
        for user in &users {
            self.attempt(Action::RegisterUser {
                user: user.clone(),
                guest: false,
            });
        }
        let expires = self.today + chrono::Days::new(364);
        for (benefit, plan, amount) in [
            (monthly.clone(), CreditPlan::Monthly, 10_000),
            (
                annual.clone(),
                CreditPlan::AnnualBulk {
                    enrollment: EnrollmentYear {
                        start: self.today,
                        end: expires,
                    },
                },
                1_200_000,
            ),
        ] {
            self.attempt(Action::GrantBenefit {
                benefit,
                product: valid(ProductName::parse("Microsoft Azure")),
                offer: Offer::ActionPack,
                benefit_type: BenefitType::Incremental,
                expires,
                provides: Provision::Credit(Credit {
                    plan,
                    amount: Money::from_minor_units(amount, usd),
                }),
            });
        }
        self.partners.push(Partner {
            number,
            product: (number % 3) as usize,
            keys: Vec::new(),
            subscriptions: 0,
            users,
            monthly,
            annual,
            benefits: 0,
        });
        let index = self.partners.len() - 1;
        self.grant_keys(index);
        if number % MISTAKE_EVERY == 0 {
            self.grant_by_mistake(index);
        }
        if self.partners.len() > ACTIVE_PARTNERS {
            self.partners.remove(0);
        }
    }

    /// One proposed step for a partner; refused proposals are dropped.
    fn step(&mut self) {
        if self.partners.is_empty() || self.rng.gen_range(0..1000) < 6 {
            self.onboard();
            return;
        }
        let index = self.rng.gen_range(0..self.partners.len());
        let choice = self.rng.gen_range(0..100);
        if choice >= 60 {
            self.credit_step(index, choice);
            return;
        }
        if self.partners[index].keys.is_empty() {
            self.grant_keys(index);
            return;
        }
        let key = self.partners[index].keys.remove(0);
        let partner = &self.partners[index];
        let existing = partner.subscriptions;
        let pick = |rng: &mut ChaCha8Rng| -> u64 {
            if existing == 0 {
                1
            } else {
                rng.gen_range(1..=existing)
            }
        };
        let number = partner.number;
        let (subscription, action) = match choice {
            0..=19 => {
                // A new subscription, or a reactivation of an old one.
                let n = if existing > 0 && self.rng.gen_range(0..4) == 0 {
                    pick(&mut self.rng)
                } else {
                    existing + 1
                };
                (n, 0)
            }
            20..=39 => (pick(&mut self.rng), 1),
            _ => (pick(&mut self.rng), 2),
        };
        let id = valid(SubscriptionId::parse(&format!(
            "p{number}-sub{subscription}"
        )));
        let action = match action {
            0 => Action::RedeemKey {
                subscription: id,
                key: key.clone(),
            },
            1 => Action::ExtendEndDate {
                subscription: id,
                key: key.clone(),
            },
            _ => Action::AddLicenses {
                subscription: id,
                key: key.clone(),
            },
        };
        let new_subscription =
            matches!(action, Action::RedeemKey { .. }) && subscription > existing;
        if self.attempt(action) {
            if new_subscription {
                self.partners[index].subscriptions += 1;
            }
        } else if self.key_still_usable(&key) {
            // Unused: try it again later.
            self.partners[index].keys.push(key);
        }
    }

    /// Whether a key's benefit has not expired yet (R7): expired keys are
    /// dropped, so that their partner is granted a new benefit.
    fn key_still_usable(&self, key: &ProductKey) -> bool {
        self.deciding
            .key(key)
            .and_then(|k| self.deciding.benefit(&k.benefit))
            .is_some_and(|b| b.expires >= self.today)
    }

    fn credit_step(&mut self, index: usize, choice: u32) {
        let partner = &self.partners[index];
        let user = partner.users[self.rng.gen_range(0..partner.users.len())].clone();
        let (monthly, annual) = (partner.monthly.clone(), partner.annual.clone());
        let action = match choice {
            60..=74 => Action::AssignCredit {
                benefit: monthly,
                user,
            },
            75..=84 => Action::UnassignCredit {
                benefit: monthly,
                user,
            },
            85..=89 => Action::AssignCredit {
                benefit: annual,
                user,
            },
            _ => Action::TransferCredit {
                benefit: annual,
                to: user,
            },
        };
        self.attempt(action);
    }
}

impl Workload {
    /// The next accepted command with the one event the rules decided for
    /// it (every command of the domain records exactly one event). The
    /// iterator yields the same events; this form lets a caller decide the
    /// command again against its own state, as an operator's shell would.
    pub fn next_command(&mut self) -> (Command, Event) {
        loop {
            if let Some(accepted) = self.pending.pop_front() {
                self.state = evolve(std::mem::take(&mut self.state), &accepted.1);
                self.accepted += 1;
                if self.accepted % EVENTS_PER_DAY == 0 {
                    self.today = self.today + chrono::Days::new(1);
                }
                return accepted;
            }
            self.step();
        }
    }
}

impl Iterator for Workload {
    type Item = Event;

    fn next(&mut self) -> Option<Event> {
        Some(self.next_command().1)
    }
}
