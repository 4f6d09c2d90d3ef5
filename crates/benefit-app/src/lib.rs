//! The application shell of the benefit ledger: the one code path from
//! commands to stored events and back to reports, shared by the CLI
//! (`benefit-ledger`) and by benchmarks.
//!
//! A [`Ledger`] wraps the event store of one directory. Recording is the
//! Decider's shell: load the state, [`decide`] every command in order
//! against the state including the effects of the commands before it, and
//! only if all are accepted append all their events under a command id in
//! one atomic, durable step, then write what they change in the
//! projections with their checkpoint (`Projections::append`). A refused or
//! malformed command appends nothing and names its index (R41). Reads
//! delegate to `benefit-projections` (reports, current or as of a sequence)
//! and `benefit-store` (log, export, verify).
//!
//! A key design decision: the domain state is loaded in exactly one place,
//! [`load_state`], and lazily: before each command it loads only the
//! entities the command reads ([`benefit_domain::reads`]) from the state
//! documents the projections' catch-up keeps current
//! (`benefit_projections::state`), never the whole log; the unchanged
//! [`decide`] runs on that partial state. What was loaded is kept in the
//! `Ledger` between commands. Reads never load it.
//!
//! This crate reads no clock and no terminal: the clock comes in with
//! [`Ledger::create_or_open`], today's date with each command.
#![forbid(unsafe_code)]

mod error;
pub mod import;
mod rules_walk;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use benefit_domain::jsonl::to_line;
use std::collections::{BTreeMap, BTreeSet};

use benefit_domain::{
    authorize, decide, end_change, evolve, explain, reads, Command, EntityKey, Explanation, State,
};
use benefit_events::{Actor, Date, Event, StreamId};
use benefit_projections::state::{load_entities, load_entity};
use benefit_projections::{
    stream_heads, stream_seqs, DocMap, Docs, Persisted, ProjectionError, Projections, RebuildMode,
    RebuildReport, RederiveFinding,
};
use benefit_store::{
    ActedEvent, AppendRequest, Appended, AsOf, ChainHash, Clock, Digest, EventStore, Events,
    ProjectionStore, SledStore, Staging, StoreError, StoredCommand, VerifyReport,
};
use uuid::Uuid;

pub use error::AppError;
pub use import::{read_import, Import, IMPORT_BYTES_MAX, IMPORT_LINES_MAX};
pub use rules_walk::{check_events, check_events_within, Checked, RULES_WALK_ENTITIES_IN_MEMORY};

/// The namespace of command ids derived from a batch's content.
/// How many times [`Ledger::record_with`] decides a batch whose append
/// lost the race for the head to another writer, before it gives up with
/// the conflict (four writers appending at full speed lose a few times
/// each; a hundred is far past any contention seen).
pub const CONFLICT_ATTEMPTS: u32 = 100;

const COMMAND_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6b1f_4a2e_9c3d_4e57_8a10_b2c4_d6e8_f001);

/// The state the decider sees: the entities loaded so far (and what
/// evolving them with the batch's own events made of them), current at
/// sequence `seq`.
///
/// It is partial: [`load_state`] puts in only what each command reads, from
/// the persisted state documents (`benefit_projections::state`). [`fold_state`]
/// builds the whole state, for checks.
#[derive(Clone, Debug, Default)]
pub struct LoadedState {
    /// The domain state (partial, unless made by [`fold_state`]).
    pub state: State,
    /// The last sequence the state is current at (0: the empty ledger).
    pub seq: u64,
    /// Every entity looked up so far, found or not: a whole state has looked
    /// everything up.
    looked_up: Option<BTreeSet<EntityKey>>,
}

/// How many entities a [`Ledger`] keeps loaded between batches: beyond
/// this, the next batch loads what it reads from the state documents
/// again, so that a process that records batch after batch holds a bounded
/// decision state (a few hundred bytes an entity).
pub const KEPT_ENTITIES: usize = 100_000;

impl LoadedState {
    /// A partial state that holds nothing yet, current at `seq`: what
    /// [`load_state`] fills, command by command.
    pub fn partial(seq: u64) -> Self {
        Self {
            state: State::default(),
            seq,
            looked_up: Some(BTreeSet::new()),
        }
    }

    /// How many entities were looked up, found or not (0 for a whole
    /// state, which [`fold_state`] made and no ledger keeps).
    fn looked_up_count(&self) -> usize {
        self.looked_up.as_ref().map_or(0, BTreeSet::len)
    }
}

/// What a [`Ledger`] keeps of a batch's state for the next batch: all of
/// it while it is smaller than [`KEPT_ENTITIES`], else nothing, so that a
/// long-lived process (`benefit-ledger serve`) does not grow without bound.
fn kept(loaded: LoadedState) -> Option<LoadedState> {
    (loaded.looked_up_count() < KEPT_ENTITIES).then_some(loaded)
}

/// Loads into `loaded` the entities `command` reads (and those its events
/// will change) that it does not hold yet, from the persisted state
/// documents in `docs`, which must be current at `loaded.seq`.
///
/// This is the only place the state is loaded for a decision. It asks
/// [`benefit_domain::reads`] until it names nothing new (a key's benefit is
/// known once the key is loaded), so a command reads a handful of documents
/// whatever the length of the log.
pub fn load_state(
    docs: &dyn Docs,
    loaded: &mut LoadedState,
    command: &Command,
) -> Result<(), AppError> {
    let Some(looked_up) = loaded.looked_up.as_mut() else {
        return Ok(()); // a whole state
    };
    loop {
        let missing: Vec<EntityKey> = reads(&loaded.state, command)
            .into_iter()
            .filter(|key| !looked_up.contains(key))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        for key in missing {
            if let Some(entity) = load_entity(docs, &key)? {
                loaded.state.insert(key.clone(), entity);
            }
            looked_up.insert(key);
        }
    }
}

/// How many rounds of [`prefetch_state`] run: each names what the entities
/// of the one before lead to (a key's benefit, a user's credits).
const PREFETCH_ROUNDS: usize = 3;

/// Loads into `loaded`, before a batch is decided, the entities its
/// commands read as far as the state before the batch tells, a round of
/// [`load_entities`] (one read of many documents) at a time: what
/// [`load_state`] would read one document at a time while deciding.
/// [`benefit_domain::reads`] names what a command's events change too, so
/// nothing loaded here is an entity an earlier command of the batch
/// changes first; [`load_state`] still loads whatever a command's own
/// decisions lead to.
pub fn prefetch_state(
    docs: &dyn Docs,
    loaded: &mut LoadedState,
    commands: &[Command],
) -> Result<(), AppError> {
    let Some(looked_up) = loaded.looked_up.as_mut() else {
        return Ok(()); // a whole state
    };
    for _ in 0..PREFETCH_ROUNDS {
        let missing: Vec<EntityKey> = commands
            .iter()
            .flat_map(|command| reads(&loaded.state, command))
            .filter(|key| !looked_up.contains(key))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if missing.is_empty() {
            break;
        }
        let entities = load_entities(docs, &missing)?;
        for (key, entity) in missing.into_iter().zip(entities) {
            if let Some(entity) = entity {
                loaded.state.insert(key.clone(), entity);
            }
            looked_up.insert(key);
        }
    }
    Ok(())
}

/// The whole domain state: a fold of [`evolve`] over the whole log. Linear
/// in the log; for checks and tests, never on the path of a decision.
pub fn fold_state(store: &dyn EventStore) -> Result<LoadedState, AppError> {
    let mut loaded = LoadedState::default();
    for record in store.read_from(1) {
        let record = record?;
        loaded.state = evolve(loaded.state, &record.event);
        loaded.seq = record.seq;
    }
    Ok(loaded)
}

/// One accepted command's event, as decided and, unless a dry run, stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedEvent {
    /// The index of the command that produced it, from 0.
    pub index: usize,
    /// Its sequence (in a dry run: the sequence it would get).
    pub seq: u64,
    /// Who recorded it.
    pub actor: Actor,
    /// The event.
    pub event: Event,
}

impl RecordedEvent {
    /// The end date before and after, for events that change one.
    pub fn end_change(&self) -> Option<(Option<Date>, Date)> {
        end_change(&self.event)
    }

    /// How the end date was reached, for events that change one.
    pub fn explanation(&self) -> Option<Explanation> {
        explain(&self.event)
    }
}

/// What a batch recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    /// The command id of the batch's one append.
    pub command_id: Uuid,
    /// Every event, in order.
    pub events: Vec<RecordedEvent>,
    /// What the append stored; none for a dry run.
    pub appended: Option<Appended>,
    /// True when nothing was appended because this was a dry run.
    pub dry_run: bool,
}

impl Recorded {
    /// True when the store had appended this batch before (a retry under
    /// the same command id): nothing was appended now.
    pub fn repeat(&self) -> bool {
        self.appended.is_some_and(|a| a.repeat)
    }
}

/// How [`Ledger::record_with`] records a batch.
#[derive(Default)]
pub struct RecordOptions<'a> {
    /// Decide and report, but append nothing.
    pub dry_run: bool,
    /// The command id to append under; by default one is derived from the
    /// ledger's head and the events, so that the same batch on the same
    /// ledger always gets the same id (and the same event ids).
    pub command_id: Option<Uuid>,
    /// Told the number of commands decided so far, after each.
    pub progress: Option<&'a dyn Fn(usize)>,
    /// Who runs the batch (the invoking actor, R1), stored in every record
    /// beside each command's own actor (record format 3); a CLI append
    /// always names it.
    pub recorded_by: Option<Actor>,
}

/// A batch decided: its events and the state after them all.
#[derive(Clone, Debug)]
pub struct Decided {
    /// The state after every event of the batch.
    pub state: State,
    /// The events, numbered from the `first_seq` given.
    pub events: Vec<RecordedEvent>,
}

/// Every command of a batch decided in order, each against the state left by
/// the ones before it; the events are numbered from `first_seq`. The first
/// refusal ends it with [`AppError::Refused`] naming the command's index.
/// `state` must be whole (a fold of the log, or the empty ledger's).
pub fn decide_batch(
    state: State,
    commands: Vec<Command>,
    first_seq: u64,
    progress: Option<&dyn Fn(usize)>,
) -> Result<Decided, AppError> {
    let whole = LoadedState {
        state,
        seq: first_seq.saturating_sub(1),
        looked_up: None,
    };
    let decided = decide_loading(whole, commands, first_seq, progress, &DocMap::default())?;
    Ok(Decided {
        state: decided.0.state,
        events: decided.1,
    })
}

/// [`decide_batch`] on a partial state: before each command, what it reads
/// is loaded from `docs` ([`load_state`]).
fn decide_loading(
    mut loaded: LoadedState,
    commands: Vec<Command>,
    first_seq: u64,
    progress: Option<&dyn Fn(usize)>,
    docs: &dyn Docs,
) -> Result<(LoadedState, Vec<RecordedEvent>), AppError> {
    let mut events = Vec::with_capacity(commands.len());
    prefetch_state(docs, &mut loaded, &commands)?;
    for (index, command) in commands.into_iter().enumerate() {
        let refused = |refusal| AppError::Refused { index, refusal };
        let actor = authorize(command.actor.as_ref()).map_err(refused)?;
        load_state(docs, &mut loaded, &command)?;
        for event in decide(&loaded.state, command).map_err(refused)? {
            loaded.state = evolve(loaded.state, &event);
            events.push(RecordedEvent {
                index,
                seq: first_seq + events.len() as u64,
                actor: actor.clone(),
                event,
            });
        }
        if let Some(progress) = progress {
            progress(index + 1);
        }
    }
    Ok((loaded, events))
}

/// Which projections a report reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// The persisted projections, brought up to date.
    Current,
    /// What the ledger knew right after this sequence.
    AsOfSequence(u64),
    /// What the ledger knew at this instant: the events recorded at or
    /// before it (recorded-at never goes backwards, so they are a prefix of
    /// the log). An instant before the first event gives empty reports.
    AsOfTime(chrono::DateTime<chrono::Utc>),
}

/// What [`Ledger::verify`] found: the log's walk, every stored outcome the
/// rules would not produce from its stored inputs (R40), and the first
/// event that does not follow from the log before it. The ledger is sound
/// when `findings` is empty and `redecided` is `None`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The store's walk of the chain, the sequences and the indexes.
    pub report: VerifyReport,
    /// End-date events whose stored outcome does not re-derive.
    pub findings: Vec<RederiveFinding>,
    /// The first event that, decided again on the decision state folded
    /// from the log before it, is refused or gives another event: its
    /// stored inputs (old end, seats, days left, key seats) came from
    /// somewhere else than the log, such as a forged state document.
    pub redecided: Option<RedecideFinding>,
}

/// An event that does not follow from the log before it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedecideFinding {
    /// Its sequence.
    pub seq: u64,
    /// Its type.
    pub event: String,
    /// What deciding it again gave, in words (keys masked).
    pub problem: String,
}

/// Which of [`Ledger::verify`]'s two walks of the log a progress report is
/// about; each counts from the start of the log to its head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerifyWalk {
    /// The store's walk: hash chain, sequences, stream versions, indexes.
    Chain,
    /// Every stored end date re-derived (R40), every event decided again on
    /// the log before it ([`check_events`]).
    Rules,
}

/// One ledger, open: a log and its derived documents, on any backend of the
/// store's traits (sled by default).
pub struct Ledger<S = SledStore> {
    store: S,
    loaded: Option<LoadedState>,
}

impl<S: std::fmt::Debug> std::fmt::Debug for Ledger<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl Ledger<SledStore> {
    /// Opens the ledger in `dir`, creating it if there is none. For appends.
    pub fn create_or_open(
        dir: impl AsRef<Path>,
        clock: impl Clock + 'static,
    ) -> Result<Self, AppError> {
        Ok(Self::over(SledStore::open(dir, clock)?))
    }

    /// Opens the ledger in `dir`, which must exist: a read of a missing
    /// ledger is an error, not a new empty ledger.
    pub fn open_existing(
        dir: impl AsRef<Path>,
        clock: impl Clock + 'static,
    ) -> Result<Self, AppError> {
        Ok(Self::over(SledStore::open_existing(dir, clock)?))
    }

    /// Closes the ledger at the end of a process: everything is flushed,
    /// and sled's teardown is left to the operating system
    /// ([`SledStore::close_for_exit`]).
    pub fn close_for_exit(self) -> Result<(), AppError> {
        Ok(self.store.close_for_exit()?)
    }

    /// The ledger's directory.
    pub fn path(&self) -> &Path {
        self.store.path()
    }
}

impl<S: EventStore + ProjectionStore + Sync> Ledger<S> {
    /// The ledger held by `store`.
    pub fn over(store: S) -> Self {
        Self {
            store,
            loaded: None,
        }
    }

    /// The store underneath, for what this shell does not wrap.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The store underneath, to change what this shell does not wrap (the
    /// clock of a long-lived process's next command).
    pub fn store_mut(&mut self) -> &mut S {
        &mut self.store
    }

    /// The store underneath, the shell put away.
    pub fn into_store(self) -> S {
        self.store
    }

    /// The head digest: the last sequence and its hash.
    pub fn head(&self) -> Result<Digest, AppError> {
        Ok(self.store.head()?)
    }

    /// Records a batch: every command decided in order, all events appended
    /// in one atomic append, or nothing (see [`Ledger::record_with`]).
    pub fn record(&mut self, commands: Vec<Command>) -> Result<Recorded, AppError> {
        self.record_with(commands, RecordOptions::default())
    }

    /// Decides a batch as [`Ledger::record`] would, and appends nothing.
    pub fn dry_run(&mut self, commands: Vec<Command>) -> Result<Recorded, AppError> {
        self.record_with(
            commands,
            RecordOptions {
                dry_run: true,
                ..RecordOptions::default()
            },
        )
    }

    /// Records a batch. Every command is decided against the state left by
    /// the commands before it; the first refusal ends the batch with
    /// [`AppError::Refused`] naming the command's index, and nothing is
    /// appended (R41). When all are accepted, their events are appended
    /// under one command id in one atomic append, then the documents catch
    /// up. Each event keeps its own actor, so a batch whose commands name
    /// several actors (an import of an export) is still one atomic append.
    ///
    /// A command id given in `options` is looked up **before** deciding: a
    /// retry of a batch the log already holds answers what was stored
    /// ([`Recorded::repeat`]) without deciding it again, and the same id
    /// with other commands is refused ([`benefit_store::StoreError::CommandIdReused`]).
    ///
    /// A writer that lost the race for the head to another process (a
    /// shared backend, PostgreSQL) gets [`StoreError::Conflict`] from the
    /// store; the batch is then decided again on the fresh state, up to
    /// [`CONFLICT_ATTEMPTS`] times, so that only a rule refuses a command,
    /// never the race.
    pub fn record_with(
        &mut self,
        commands: Vec<Command>,
        options: RecordOptions<'_>,
    ) -> Result<Recorded, AppError> {
        if commands.is_empty() {
            return Err(AppError::Empty);
        }
        let fingerprint = options.command_id.map(|_| commands_fingerprint(&commands));
        let mut attempt = 1u32;
        loop {
            match self.record_once(commands.clone(), &options, fingerprint) {
                Err(AppError::Store(StoreError::Conflict { .. }))
                    if attempt < CONFLICT_ATTEMPTS =>
                {
                    // Another writer moved the head: back off a little,
                    // longer each time, and decide again.
                    std::thread::sleep(std::time::Duration::from_millis(u64::from(attempt)));
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// One attempt of [`Ledger::record_with`].
    fn record_once(
        &mut self,
        commands: Vec<Command>,
        options: &RecordOptions<'_>,
        fingerprint: Option<ChainHash>,
    ) -> Result<Recorded, AppError> {
        if let (Some(id), Some(fingerprint)) = (options.command_id, fingerprint) {
            if let Some(stored) = self.store.find_command(&id)? {
                return self.already_recorded(id, stored, fingerprint);
            }
        }
        let head = self.store.head()?;
        let loaded = self.take_state(head.seq)?;
        let (loaded, mut events) = decide_loading(
            loaded,
            commands,
            head.seq + 1,
            options.progress,
            &Persisted(&self.store),
        )?;
        let command_id = options
            .command_id
            .unwrap_or_else(|| derive_command_id(&head, &events));
        if options.dry_run {
            // The state was taken to decide on; load it again when needed.
            return Ok(Recorded {
                command_id,
                events,
                appended: None,
                dry_run: true,
            });
        }
        let request = AppendRequest {
            command_id,
            expected: head.seq,
            fingerprint,
            recorded_by: options.recorded_by.clone(),
            stream_heads: Default::default(),
            events: events
                .iter()
                .map(|e| ActedEvent {
                    actor: e.actor.clone(),
                    event: e.event.clone(),
                })
                .collect(),
        };
        let (stored, documents_current) = self.append(request)?;
        for (event, seq) in events.iter_mut().zip(stored.first..) {
            event.seq = seq;
        }
        if !stored.repeat && documents_current {
            // The decided state mirrors the documents just committed.
            self.loaded = kept(LoadedState {
                seq: stored.last,
                ..loaded
            });
        }
        Ok(Recorded {
            command_id,
            events,
            appended: Some(stored),
            dry_run: false,
        })
    }

    /// The one write path: stage the batch under the store's lock, fold the
    /// derived documents over the staged records in memory, commit the log
    /// (the acknowledgement), then commit the documents with their
    /// checkpoint. A fold that fails appends nothing. If the documents'
    /// commit fails after the log's, the append stands (the log is the
    /// truth) and the documents catch up from the log at the next command
    /// or report. Answers whether the documents are current at the new head.
    fn append(&self, request: AppendRequest) -> Result<(Appended, bool), AppError> {
        let projections = Projections::new(&self.store);
        let streams: Vec<StreamId> = request
            .events
            .iter()
            .map(|acted| acted.event.stream())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let heads: BTreeMap<StreamId, u64> = streams
            .iter()
            .cloned()
            .zip(stream_heads(&Persisted(&self.store), &streams)?)
            .collect();
        let request = request
            .at_stream_heads(|stream| {
                heads
                    .get(stream)
                    .copied()
                    .ok_or_else(|| StoreError::Projection {
                        message: format!("no head was read for stream {stream}"),
                    })
            })
            .map_err(AppError::Store)?;
        let staged = match self.store.stage(request)? {
            Staging::Repeat(appended) => return Ok((appended, false)),
            Staging::Staged(staged) => staged,
        };
        let writes = projections.fold_staged(staged.records())?;
        let appended = staged.commit()?;
        let committed = projections.commit_staged(appended.first - 1, appended.last, writes);
        Ok((appended, committed.is_ok()))
    }

    /// The answer to a retry: the batch the log holds under `id`, if the
    /// commands are the ones it was recorded from.
    fn already_recorded(
        &self,
        id: Uuid,
        stored: StoredCommand,
        fingerprint: ChainHash,
    ) -> Result<Recorded, AppError> {
        if stored.fingerprint != fingerprint {
            return Err(AppError::Store(StoreError::CommandIdReused {
                command_id: id,
            }));
        }
        let appended = stored.appended;
        let mut events = Vec::new();
        for (index, record) in self.store.read_from(appended.first).enumerate() {
            let record = record?;
            if record.seq > appended.last {
                break;
            }
            events.push(RecordedEvent {
                index,
                seq: record.seq,
                actor: record.actor,
                event: record.event,
            });
        }
        Ok(Recorded {
            command_id: id,
            events,
            appended: Some(appended),
            dry_run: false,
        })
    }

    /// The state to decide on, taken out of the ledger: a refusal or a dry
    /// run leaves it consumed, and the next batch starts again from the
    /// persisted state documents, brought up to the head first.
    fn take_state(&mut self, head: u64) -> Result<LoadedState, AppError> {
        match self.loaded.take() {
            Some(loaded) if loaded.seq == head => Ok(loaded),
            _ => {
                Projections::new(&self.store).catch_up()?;
                Ok(LoadedState::partial(head))
            }
        }
    }

    /// Runs a report query on the current projections or on the
    /// projections as of a sequence.
    pub fn report<T>(
        &self,
        view: View,
        query: impl FnOnce(&dyn Docs) -> Result<T, ProjectionError>,
    ) -> Result<T, AppError> {
        let projections = Projections::new(&self.store);
        match view {
            View::Current => {
                let docs = projections.current()?;
                Ok(query(&docs)?)
            }
            View::AsOfSequence(requested) => {
                let head = self.store.head()?.seq;
                if requested > head {
                    return Err(AppError::AsOfBeyondHead { requested, head });
                }
                let docs = projections.as_of(AsOf::Sequence(requested))?;
                Ok(query(&docs)?)
            }
            View::AsOfTime(at) => {
                let docs = projections.as_of(AsOf::RecordedAt(at))?;
                Ok(query(&docs)?)
            }
        }
    }

    /// The stored events, all or one stream's, oldest first.
    pub fn log(&self, stream: Option<&StreamId>) -> Events<'_> {
        let Some(stream) = stream else {
            return self.store.read_from(1);
        };
        // The stream index is derived: read it from the caught-up documents,
        // then each record from the log.
        let seqs = Projections::new(&self.store)
            .current()
            .and_then(|docs| stream_seqs(&docs, stream));
        match seqs {
            Ok(seqs) => Box::new(seqs.into_iter().map(|seq| {
                self.store.record(seq)?.ok_or_else(|| {
                    benefit_store::Break::new(
                        seq,
                        benefit_store::BreakKind::Index,
                        "a record",
                        "none",
                    )
                    .into()
                })
            })),
            Err(e) => Box::new(std::iter::once(Err(StoreError::Projection {
                message: e.to_string(),
            }))),
        }
    }

    /// The whole log as import lines with whole keys: what `append --file`
    /// on an empty ledger turns back into the same history. This is R3's one
    /// exception, the explicit export of the raw log.
    pub fn export(&self) -> impl Iterator<Item = Result<String, AppError>> + '_ {
        self.store
            .read_from(1)
            .map(|record| Ok(record.map(|r| to_line(&r.event, &r.actor))?))
    }

    /// Walks the log (hash chain, contiguity, indexes), proves it still
    /// holds the history `digest` was taken at, and re-derives every stored
    /// end date from its stored inputs (R40). `progress` is told which walk
    /// has reached which sequence, every so often (a no-op `&mut |_, _| {}`
    /// when nothing is shown).
    pub fn verify(
        &self,
        digest: Option<&Digest>,
        progress: &mut dyn FnMut(VerifyWalk, u64),
    ) -> Result<Verified, AppError> {
        // One read of the log: the store's walk checks the chain and hands
        // each record over, decoded, to the rules' walk, which runs on the
        // second core (issue 11). Its progress is told here once the
        // chain's is done, so a listener hears one walk at a time.
        let store = &self.store;
        let stop = &AtomicBool::new(false);
        let (mut hand, mut handed) = benefit_store::read_ahead::hand_over();
        let (told, heard) = std::sync::mpsc::channel();
        std::thread::scope(|scope| {
            // The walk owns the receiving side: if it ends, however early,
            // the chain walk's pushes are refused instead of blocking.
            let rules = scope.spawn(move || {
                // The receiver outlives this walk: a send cannot fail.
                let mut tell = |seq| {
                    let _ = told.send(seq);
                };
                check_events(&mut handed, &mut tell, stop)
            });
            let mut chain = |seq| progress(VerifyWalk::Chain, seq);
            // A refused push means the rules' walk has ended: its join
            // below says why.
            let walked = store.verify_each(&mut chain, &mut |record| {
                hand.push(record);
            });
            match &walked {
                Ok(_) => hand.finish(),
                Err(_) => {
                    stop.store(true, Ordering::Relaxed);
                    drop(hand);
                }
            }
            for seq in heard {
                progress(VerifyWalk::Rules, seq);
            }
            let checked = rules
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            let report = match digest {
                Some(digest) => store.check_digest(digest, walked?)?,
                None => walked?,
            };
            let (findings, redecided) = checked?;
            Ok(Verified {
                report,
                findings,
                redecided,
            })
        })
    }

    /// Recomputes the projections from the log and compares them with the
    /// persisted ones; replaces them too when `mode` says so. `progress` is
    /// told the sequence the fold has reached, every so often.
    pub fn rebuild(
        &self,
        mode: RebuildMode,
        progress: &mut dyn FnMut(u64),
    ) -> Result<RebuildReport, AppError> {
        Ok(Projections::new(&self.store).rebuild(mode, progress)?)
    }
}

/// What a retry under the same command id must match: a SHA-256 of every
/// command as given (who, when, what, keys whole), so that a retry is
/// recognised before it is decided. A key's `Debug` is masked (R3), so each
/// command's keys are hashed whole beside it; the hash is stored, the keys
/// never are.
fn commands_fingerprint(commands: &[Command]) -> ChainHash {
    use sha2::{Digest as _, Sha256};
    let mut hasher = Sha256::new();
    let mut part = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    };
    part(b"commands v1");
    for command in commands {
        part(format!("{command:?}").as_bytes());
        for key in command.keys() {
            part(key.reveal().as_bytes());
        }
    }
    ChainHash(hasher.finalize().into())
}

/// The command id of a batch decided at `head`: a UUID v5 of the head
/// digest and every event's actor and stored JSON (whole keys included, so
/// that two batches differing only in a key get different ids).
fn derive_command_id(head: &Digest, events: &[RecordedEvent]) -> Uuid {
    let mut name = head.to_string().into_bytes();
    for recorded in events {
        name.push(b'\n');
        name.extend_from_slice(recorded.actor.to_string().as_bytes());
        name.push(b' ');
        name.extend_from_slice(&recorded.event.to_json());
    }
    Uuid::new_v5(&COMMAND_ID_NAMESPACE, &name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use benefit_events::SubscriptionId;

    fn looked_up(count: usize) -> LoadedState {
        let keys = (0..count).map(|i| {
            let id = SubscriptionId::parse(&format!("sub-{i}")).expect("a valid id");
            EntityKey::Subscription(id)
        });
        LoadedState {
            state: State::default(),
            seq: 7,
            looked_up: Some(keys.collect()),
        }
    }

    #[test]
    fn a_ledger_keeps_a_bounded_decision_state_between_batches() {
        assert!(kept(looked_up(3)).is_some_and(|kept| kept.seq == 7));
        assert!(kept(looked_up(KEPT_ENTITIES - 1)).is_some());
        assert!(kept(looked_up(KEPT_ENTITIES)).is_none());
    }
}
