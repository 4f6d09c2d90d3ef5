//! The workload every engine runs: `N` events from [`benefit_workload`]
//! (seeded, decided by the real rules), cut into import batches, then the
//! commands that follow them, to be decided one at a time on the full
//! ledger.
//!
//! It is generated once before any engine runs, for what the engines are
//! asked after the import (the single commands, the busiest subscription,
//! the CLI's redemptions), and the import's events are generated again for
//! each engine, one batch at a time, outside its timed work: the same
//! events from the same seed, and a bench of 10 000 000 events holds one
//! batch of them, not the whole workload (issue 11).

use std::collections::HashMap;

use benefit_domain::{authorize, decide, evolve, Action, Command, State};
use benefit_events::{Actor, Date, Event, SubscriptionId};
use benefit_workload::Workload;

use crate::BenchResult;

/// Key redemptions timed through the CLI process: half run alone, half
/// through the ledger's owner (`serve`), the first of each untimed.
pub const CLI_REDEMPTIONS: usize = 12;

/// How far past the single commands the workload is searched for the CLI's
/// redemptions.
const CLI_SEARCH_COMMANDS: usize = 5_000;

/// A key redemption the CLI can append after the single commands.
pub struct Redemption {
    /// The subscription.
    pub subscription: SubscriptionId,
    /// The whole key, as an operator types it.
    pub key: String,
    /// The effective date.
    pub on: Date,
}

/// Events per import batch, each batch durable before the next (issue 6).
pub const IMPORT_BATCH_EVENTS: usize = 10_000;

/// The workload, ready to run.
pub struct Prepared {
    /// The workload's seed: [`Prepared::batches`] generates the import
    /// from it again.
    pub seed: u64,
    /// How many events the import holds.
    pub events: u64,
    /// The commands after them, each with the event the rules decided for
    /// it when the workload was generated.
    pub commands: Vec<(Command, Event)>,
    /// Who records everything.
    pub actor: Actor,
    /// The subscription whose audit trail is timed: the one with the most
    /// end-date changes, so the figure is for a long trail.
    pub audit_subscription: SubscriptionId,
    /// The date the subscriptions report is asked for: the last event's.
    pub report_date: Date,
    /// Redemptions the rules accept after the single commands, one after
    /// the other, for the CLI process.
    pub redemptions: Vec<Redemption>,
}

impl Prepared {
    /// The import: the workload's first `events` commands, each with the
    /// event the rules decided for it, in batches of
    /// [`IMPORT_BATCH_EVENTS`], each generated when it is asked for. What
    /// the ledger and SQLite import (deciding each command), and what raw
    /// sled writes (the events).
    pub fn batches(&self) -> Batches {
        Batches {
            workload: Workload::new(self.seed),
            left: self.events,
        }
    }
}

/// The import's batches, generated one at a time: see [`Prepared::batches`].
pub struct Batches {
    workload: Workload,
    left: u64,
}

impl Iterator for Batches {
    type Item = Vec<(Command, Event)>;

    fn next(&mut self) -> Option<Self::Item> {
        let size = self.left.min(IMPORT_BATCH_EVENTS as u64);
        self.left -= size;
        (size > 0).then(|| (0..size).map(|_| self.workload.next_command()).collect())
    }
}

/// Generates `events` events and `commands` commands from `seed`, keeping
/// what the engines are asked after the import.
pub fn prepare(seed: u64, events: u64, commands: usize) -> BenchResult<Prepared> {
    let mut workload = Workload::new(seed);
    let actor = authorize(Some(workload.actor())).map_err(|r| r.to_string())?;
    let mut changes: HashMap<SubscriptionId, u64> = HashMap::new();
    let mut report_date = None;
    for _ in 0..events {
        let (_, event) = workload.next_command();
        if let Some(id) = subscription_of(&event) {
            *changes.entry(id.clone()).or_default() += 1;
        }
        report_date = Some(event.on());
    }
    let commands: Vec<(Command, Event)> = (0..commands).map(|_| workload.next_command()).collect();
    // The workload's state holds every event it handed out: the import's
    // and the single commands'.
    let after = workload.state().clone();
    let redemptions = redemptions(&mut workload, after);
    // Ties go to the smallest id, so the choice is deterministic.
    let audit_subscription = changes
        .into_iter()
        .max_by(|(a, x), (b, y)| x.cmp(y).then(b.cmp(a)))
        .map(|(id, _)| id)
        .ok_or("the workload has no subscription: ask for more events")?;
    Ok(Prepared {
        seed,
        events,
        commands,
        actor,
        audit_subscription,
        report_date: report_date.ok_or("the workload is empty")?,
        redemptions,
    })
}

/// The next [`CLI_REDEMPTIONS`] key redemptions of the workload that the
/// rules accept on the ledger as the engines leave it (the commands in
/// between are skipped, so each is decided again against that state).
fn redemptions(workload: &mut Workload, mut state: State) -> Vec<Redemption> {
    let mut found = Vec::new();
    for _ in 0..CLI_SEARCH_COMMANDS {
        if found.len() == CLI_REDEMPTIONS {
            break;
        }
        let (command, _) = workload.next_command();
        let Action::RedeemKey { subscription, key } = &command.action else {
            continue;
        };
        let redemption = Redemption {
            subscription: subscription.clone(),
            key: key.reveal().to_owned(),
            on: command.on,
        };
        if let Ok(events) = decide(&state, command) {
            for event in &events {
                state = evolve(state, event);
            }
            found.push(redemption);
        }
    }
    found
}

/// The subscription whose end date an event changes, if any.
fn subscription_of(event: &Event) -> Option<&SubscriptionId> {
    match event {
        Event::KeyRedeemed(e) => Some(&e.subscription),
        Event::LicensesAdded(e) => Some(&e.subscription),
        Event::EndDateExtended(e) => Some(&e.subscription),
        _ => None,
    }
}
