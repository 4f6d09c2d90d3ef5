//! The rules' walk of [`crate::Ledger::verify`]: every stored end date
//! re-derived from its stored inputs (R40), and every event decided again on
//! the decision state folded from the events before it, in one pass over
//! the log whose memory does not grow with the log (issue 11, point 5).
//!
//! The state is folded in memory, as the domain's whole [`State`], while it
//! holds fewer than [`RULES_WALK_ENTITIES_IN_MEMORY`] entities: a ledger of
//! a few million events is walked at the speed of `evolve` itself. Past the
//! bound, the state moves to a scratch store on local disk as state
//! documents ([`benefit_projections::state`]), and the walk goes on as the
//! shell decides a command: it loads what each event's command reads
//! ([`load_state`]), decides it on that partial state, and folds the event
//! into the documents ([`apply_state`]), holding at most the bound of them
//! in memory before it moves those too. The scratch store is removed when
//! the walk ends. Deciding on a partial state gives what deciding on the
//! whole state gives (`tests/partial_state.rs`), so both halves find the
//! same things (`tests/rules_walk.rs`).

use std::sync::atomic::{AtomicBool, Ordering};

use benefit_domain::{decide, end_change, evolve, Command, State};
use benefit_events::Event;
use benefit_projections::docs::NO_DOCUMENTS;
use benefit_projections::state::{apply_state, store_entity};
use benefit_projections::{Overlay, Persisted, RederiveFinding};
use benefit_store::{ProjectionStore, Reporter, ScratchDocuments, StoredEvent};

use crate::{load_state, AppError, LoadedState, RedecideFinding};

/// How many entities the rules' walk holds in memory before it moves its
/// state to a scratch store (see the module's doc): a bound on its memory
/// whatever the length of the log.
///
/// Measured (`docs/performance.md`, *Verify's decision state bounded*): a
/// ledger of 1 000 000 events of the bench's workload holds 1 213 667
/// entities, and `verify` of it peaks at 743 MiB with all of them in
/// memory. So the bound keeps the walk's state to a GiB or so, and walks
/// such a ledger wholly in memory at full speed; past it the walk runs at
/// sled's small-key speed, several times slower.
pub const RULES_WALK_ENTITIES_IN_MEMORY: usize = 2_000_000;

/// How many entities one write of the state moving to the scratch store
/// holds: the moved state is encoded a part at a time, not all at once.
const MOVED_ENTITIES_PER_WRITE: usize = 100_000;

/// What the rules' walk found: every stored outcome its stored inputs do
/// not give (R40), and the first event that does not follow from the log
/// before it.
pub type Checked = (Vec<RederiveFinding>, Option<RedecideFinding>);

/// The log's events checked against the rules in one pass (see the
/// module's doc), holding at most [`RULES_WALK_ENTITIES_IN_MEMORY`]
/// entities in memory. The events are the log's, in order (as
/// [`benefit_store::EventStore::verify_each`] hands them over). `progress`
/// is told the sequence reached (through a [`Reporter`]). Once `stop` is
/// set (another walk of the same verify failed), it ends early with what it
/// found so far. An error is the scratch store's.
pub fn check_events(
    events: &mut dyn Iterator<Item = StoredEvent>,
    progress: &mut dyn FnMut(u64),
    stop: &AtomicBool,
) -> Result<Checked, AppError> {
    check_events_within(events, progress, stop, RULES_WALK_ENTITIES_IN_MEMORY)
}

/// [`check_events`] holding at most `limit` entities in memory.
pub fn check_events_within(
    events: &mut dyn Iterator<Item = StoredEvent>,
    progress: &mut dyn FnMut(u64),
    stop: &AtomicBool,
    limit: usize,
) -> Result<Checked, AppError> {
    let mut walk = Walk {
        rederived: Vec::new(),
        redecided: None,
        reporter: Reporter::new(progress),
        last: 0,
    };
    let mut state = State::default();
    while let Some(record) = next(events, stop) {
        if walk.redecided.is_none() {
            walk.redecided = redecide(&state, &record, command_of(&record));
            // An event the rules refuse may not apply (a key used twice):
            // past the first finding, the state is not needed.
            if walk.redecided.is_none() {
                state = evolve(state, &record.event);
            }
        }
        walk.checked(&record);
        if walk.redecided.is_none() && state.len() >= limit {
            let scratch = move_out(state, record.seq)?;
            walk_on_disk(&scratch, events, stop, &mut walk, limit)?;
            return Ok(walk.finish());
        }
    }
    Ok(walk.finish())
}

/// What the walk has found so far, and how far it has come.
struct Walk<'p> {
    rederived: Vec<RederiveFinding>,
    redecided: Option<RedecideFinding>,
    reporter: Reporter<'p>,
    last: u64,
}

impl Walk<'_> {
    /// `record` has been decided again: re-derive its end date (R40) and
    /// tell the progress.
    fn checked(&mut self, record: &StoredEvent) {
        self.rederived.extend(RederiveFinding::of(record));
        self.last = record.seq;
        self.reporter.reached(record.seq);
    }

    fn finish(self) -> Checked {
        self.reporter.finish(self.last);
        (self.rederived, self.redecided)
    }
}

/// The next event, unless another walk has asked this one to stop.
fn next(events: &mut dyn Iterator<Item = StoredEvent>, stop: &AtomicBool) -> Option<StoredEvent> {
    if stop.load(Ordering::Relaxed) {
        None
    } else {
        events.next()
    }
}

/// The command that would have given `record`'s event.
fn command_of(record: &StoredEvent) -> Command {
    Command::recorded(&record.event, &record.actor)
}

/// Moves the whole state, current at `seq`, into a new scratch store as
/// state documents, a part at a time.
fn move_out(state: State, seq: u64) -> Result<ScratchDocuments, AppError> {
    let scratch = ScratchDocuments::open()?;
    let mut from = 0;
    let mut part = Overlay::new(&NO_DOCUMENTS);
    for (key, entity) in state.into_entities() {
        store_entity(&mut part, &key, Some(entity));
        if part.len() >= MOVED_ENTITIES_PER_WRITE {
            let full = std::mem::replace(&mut part, Overlay::new(&NO_DOCUMENTS));
            scratch.projection_commit(from, seq, full.into_writes())?;
            from = seq;
        }
    }
    scratch.projection_commit(from, seq, part.into_writes())?;
    Ok(scratch)
}

/// The rest of the walk, deciding each event on what its command reads of
/// the state documents in `scratch` (current at its checkpoint) and the
/// ones in memory over them, at most `limit` of those.
fn walk_on_disk(
    scratch: &ScratchDocuments,
    events: &mut dyn Iterator<Item = StoredEvent>,
    stop: &AtomicBool,
    walk: &mut Walk<'_>,
    limit: usize,
) -> Result<(), AppError> {
    let base = Persisted(scratch);
    let mut overlay = Overlay::new(&base);
    let mut from = scratch.projection_checkpoint()?;
    let mut seq = from;
    while let Some(record) = next(events, stop) {
        if walk.redecided.is_none() {
            let command = command_of(&record);
            let mut loaded = LoadedState::partial(seq);
            load_state(&overlay, &mut loaded, &command)?;
            walk.redecided = redecide(&loaded.state, &record, command);
            if walk.redecided.is_none() {
                // The rules gave exactly this event on this state, so it
                // applies: `apply_state` refusing it (`Unfit`) would be a
                // bug of the fold, and ends the walk with that error.
                apply_state(&mut overlay, &record)?;
            }
        }
        walk.checked(&record);
        seq = record.seq;
        if overlay.len() >= limit {
            let full = std::mem::replace(&mut overlay, Overlay::new(&base));
            scratch.projection_commit(from, seq, full.into_writes())?;
            from = seq;
        }
    }
    Ok(())
}

/// `command`, the one `record`'s event records, decided again on `state`,
/// the state before it: a finding when the rules refuse it or give another
/// event.
fn redecide(state: &State, record: &StoredEvent, command: Command) -> Option<RedecideFinding> {
    let problem = match decide(state, command) {
        Ok(events) if events.len() == 1 && events[0] == record.event => return None,
        Ok(events) => differs(&record.event, &events),
        Err(refusal) => format!("the rules refuse it on the log before it: {refusal}"),
    };
    Some(RedecideFinding {
        seq: record.seq,
        event: record.event.event_type().to_string(),
        problem,
    })
}

/// How a stored event differs from the one the rules give, in words.
fn differs(stored: &Event, decided: &[Event]) -> String {
    let ends = |e: &Event| match end_change(e) {
        Some((Some(old), new)) => format!("end {old} -> {new}"),
        Some((None, new)) => format!("end {new}"),
        None => e.event_type().to_string(),
    };
    let given: Vec<String> = decided.iter().map(ends).collect();
    format!(
        "stored with {}, but the log before it gives {}",
        ends(stored),
        if given.is_empty() {
            "no event".to_owned()
        } else {
            given.join(", ")
        }
    )
}
