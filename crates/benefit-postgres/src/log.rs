//! The log on PostgreSQL: appends (one transaction under the chain's
//! advisory lock), the command entries, the head, paged reads and `verify`.
//!
//! Every record is written with the bytes [`benefit_store::staging`]
//! staged, and its hash; the other columns (stream, type, actors, times,
//! the event as `jsonb` with its keys masked) are for people who query
//! with SQL, and every read checks the stream columns against the record.

use std::collections::VecDeque;
use std::sync::MutexGuard;

use benefit_events::mask_keys_in;
use benefit_store::staging::{check_size, repeat_of, stage_records, Head, StagedBatch};
use benefit_store::table::{
    check_command_count, int, CommandEntry, CommandRow, EventRow, FetchPage, LogWalk, Pages,
};
use benefit_store::Reporter;
use benefit_store::{
    AppendRequest, Appended, AsOf, Digest, EventStore, Events, StagedAppend, Staging, StoreError,
    StoredCommand, StoredEvent, VerifyReport,
};
use chrono::{DateTime, Utc};
use postgres::Row;
use uuid::Uuid;

use crate::connection::{db, Session};
use crate::{lock, PostgresStore};

/// How many rows one insert statement carries: an import of 100 000
/// events is a few statements, each of bounded size.
const INSERT_CHUNK_ROWS: usize = 5_000;

const SELECT_PAGE: &str = "SELECT seq, stream, stream_version, hash, body FROM events \
     WHERE seq >= $1 AND seq <= $2 ORDER BY seq LIMIT $3";
const SELECT_NEWEST: &str =
    "SELECT seq, stream, stream_version, hash, body FROM events ORDER BY seq DESC LIMIT 2";
const SELECT_COMMAND: &str = "SELECT first, last, last_hash, recorded_at, fingerprint \
     FROM commands WHERE command_id = $1";
const INSERT_EVENTS: &str = "INSERT INTO events (seq, stream, stream_version, event_type, \
     schema_version, recorded_at, actor_user, actor_role, recorded_by_user, recorded_by_role, \
     command_id, body, prev_hash, hash, event) \
     SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::integer[], \
     $6::timestamptz[], $7::text[], $8::text[], $9::text[], $10::text[], $11::uuid[], \
     $12::bytea[], $13::bytea[], $14::bytea[], $15::jsonb[])";
const INSERT_COMMAND: &str = "INSERT INTO commands \
     (command_id, first, last, last_hash, recorded_at, fingerprint) \
     VALUES ($1, $2, $3, $4, $5, $6)";
const SELECT_COMMAND_ROWS: &str = "SELECT c.command_id, c.first, c.last, c.last_hash, \
     c.recorded_at, f.hash, f.body, l.hash, l.body FROM commands c \
     LEFT JOIN events f ON f.seq = c.first LEFT JOIN events l ON l.seq = c.last";

fn event_row(row: &Row) -> Result<EventRow, postgres::Error> {
    Ok(EventRow {
        seq: row.try_get(0)?,
        stream: row.try_get(1)?,
        stream_version: row.try_get(2)?,
        hash: row.try_get(3)?,
        body: row.try_get(4)?,
    })
}

/// The head, from the last two rows (the tail check of
/// [`EventRow::head`]).
fn read_head(session: &mut Session) -> Result<Head, StoreError> {
    let rows = session
        .query(SELECT_NEWEST, &[])
        .map_err(db("reading the head"))?;
    let newest = rows
        .iter()
        .map(event_row)
        .collect::<Result<Vec<_>, _>>()
        .map_err(db("reading the head"))?;
    EventRow::head(newest)
}

/// A joined record's hash and body.
type Joined = Option<(Vec<u8>, Vec<u8>)>;

/// The command row of `command_id`: its original result and fingerprint.
fn command_entry(
    session: &mut Session,
    command_id: &Uuid,
) -> Result<Option<StoredCommand>, StoreError> {
    let Some(row) = session
        .query_opt(SELECT_COMMAND, &[command_id])
        .map_err(db("reading a command row"))?
    else {
        return Ok(None);
    };
    let read = |row: &Row| -> Result<CommandEntry, postgres::Error> {
        let recorded_at: DateTime<Utc> = row.try_get(3)?;
        Ok(CommandEntry {
            first: row.try_get(0)?,
            last: row.try_get(1)?,
            last_hash: row.try_get(2)?,
            recorded_at_micros: recorded_at.timestamp_micros(),
            fingerprint: row.try_get(4)?,
        })
    };
    read(&row)
        .map_err(db("reading a command row"))?
        .stored(command_id)
        .map(Some)
}

/// The columns of a batch's rows, as arrays for one `unnest` insert.
#[derive(Default)]
struct Columns<'b> {
    seq: Vec<i64>,
    stream: Vec<&'b str>,
    stream_version: Vec<i64>,
    event_type: Vec<&'static str>,
    schema_version: Vec<i32>,
    recorded_at: Vec<DateTime<Utc>>,
    actor_user: Vec<&'b str>,
    actor_role: Vec<&'static str>,
    recorded_by_user: Vec<Option<&'b str>>,
    recorded_by_role: Vec<Option<&'static str>>,
    command_id: Vec<Uuid>,
    body: Vec<&'b [u8]>,
    prev_hash: Vec<&'b [u8]>,
    hash: Vec<&'b [u8]>,
    event: Vec<serde_json::Value>,
}

impl<'b> Columns<'b> {
    fn push(&mut self, record: &'b StoredEvent, body: &'b [u8]) -> Result<(), StoreError> {
        self.seq.push(int(record.seq)?);
        self.stream.push(record.stream.as_str());
        self.stream_version.push(int(record.stream_version)?);
        self.event_type.push(record.event.event_type().as_str());
        self.schema_version
            .push(i32::try_from(benefit_events::EVENT_SCHEMA_VERSION).unwrap_or(i32::MAX));
        self.recorded_at.push(record.recorded_at);
        self.actor_user.push(record.actor.user.as_str());
        self.actor_role.push(record.actor.role.as_str());
        let by = record.recorded_by.as_ref();
        self.recorded_by_user.push(by.map(|a| a.user.as_str()));
        self.recorded_by_role.push(by.map(|a| a.role.as_str()));
        self.command_id.push(record.command_id);
        self.body.push(body);
        self.prev_hash.push(record.prev_hash.0.as_slice());
        self.hash.push(record.hash.0.as_slice());
        // The jsonb column is for SQL readers: keys masked (R3). The whole
        // key is in the body, which only export reveals.
        let masked = mask_keys_in(&String::from_utf8_lossy(&record.event.to_json()));
        let event = serde_json::from_str(&masked)
            .map_err(|e| StoreError::backend("writing an event's jsonb column", e))?;
        self.event.push(event);
        Ok(())
    }

    fn insert(&self, session: &mut Session) -> Result<(), StoreError> {
        session
            .execute(
                INSERT_EVENTS,
                &[
                    &self.seq,
                    &self.stream,
                    &self.stream_version,
                    &self.event_type,
                    &self.schema_version,
                    &self.recorded_at,
                    &self.actor_user,
                    &self.actor_role,
                    &self.recorded_by_user,
                    &self.recorded_by_role,
                    &self.command_id,
                    &self.body,
                    &self.prev_hash,
                    &self.hash,
                    &self.event,
                ],
            )
            .map(|_| ())
            .map_err(db("inserting events"))
    }
}

impl PostgresStore {
    /// Begins an append: a transaction holding the chain's lock, with the
    /// head read under it. A command id already in the log answers its
    /// original result.
    fn begin_append(
        &self,
        session: &mut Session,
        request: &AppendRequest,
    ) -> Result<Result<Head, Appended>, StoreError> {
        session
            .batch("BEGIN")
            .map_err(db("starting the append's transaction"))?;
        session.in_append = true;
        session
            .execute(
                "SELECT pg_advisory_xact_lock('events'::regclass::oid::bigint)",
                &[],
            )
            .map_err(db("taking the chain's lock"))?;
        if let Some(stored) = command_entry(session, &request.command_id)? {
            return repeat_of(request, stored.appended, stored.fingerprint).map(Err);
        }
        read_head(session).map(Ok)
    }

    /// Writes a staged batch and its command row, and commits.
    fn commit_batch(&self, batch: &StagedBatch) -> Result<Appended, StoreError> {
        let Some(first) = batch.records.first() else {
            return Err(StoreError::EmptyBatch);
        };
        let appended = batch.appended;
        let mut session = lock(&self.session);
        for (records, bodies) in batch
            .records
            .chunks(INSERT_CHUNK_ROWS)
            .zip(batch.bodies.chunks(INSERT_CHUNK_ROWS))
        {
            let mut columns = Columns::default();
            for (record, body) in records.iter().zip(bodies) {
                columns.push(record, body)?;
            }
            columns.insert(&mut session)?;
        }
        session
            .execute(
                INSERT_COMMAND,
                &[
                    &first.command_id,
                    &int(appended.first)?,
                    &int(appended.last)?,
                    &appended.head.hash.0.as_slice(),
                    &appended.recorded_at,
                    &batch.fingerprint.0.as_slice(),
                ],
            )
            .map_err(db("inserting the command row"))?;
        session.batch("COMMIT").map_err(db("committing the log"))?;
        session.in_append = false;
        Ok(appended)
    }

    /// A read of the log from `from` up to `as_of`, a page per query.
    fn pages(&self, from: u64, as_of: Option<AsOf>) -> Pages<'_> {
        Pages::new(self.pages_raw(), from, as_of)
    }

    /// Checks every command row against the records it names, and that
    /// there is one per batch of the log.
    fn verify_commands(&self, batches: u64) -> Result<(), StoreError> {
        let rows = lock(&self.session)
            .query(SELECT_COMMAND_ROWS, &[])
            .map_err(db("reading the commands"))?;
        for row in &rows {
            command_row(row)
                .map_err(db("reading a command row"))?
                .check()?;
        }
        check_command_count(rows.len() as u64, batches)
    }
}

fn command_row(row: &Row) -> Result<CommandRow, postgres::Error> {
    let joined = |at: usize| -> Result<Joined, postgres::Error> {
        let hash: Option<Vec<u8>> = row.try_get(at)?;
        let body: Option<Vec<u8>> = row.try_get(at + 1)?;
        Ok(hash.zip(body))
    };
    let id: Uuid = row.try_get(0)?;
    let recorded_at: DateTime<Utc> = row.try_get(4)?;
    Ok(CommandRow {
        id: id.as_bytes().to_vec(),
        first: row.try_get(1)?,
        last: row.try_get(2)?,
        last_hash: row.try_get(3)?,
        recorded_at: recorded_at.timestamp_micros(),
        first_record: joined(5)?,
        last_record: joined(7)?,
    })
}

/// A batch staged in a [`PostgresStore`]: its transaction is open and
/// holds the chain's lock until it commits, or is rolled back when this is
/// dropped uncommitted.
struct PostgresStaged<'s> {
    store: &'s PostgresStore,
    batch: StagedBatch,
    committed: bool,
    _append: MutexGuard<'s, ()>,
}

impl StagedAppend for PostgresStaged<'_> {
    fn records(&self) -> &[StoredEvent] {
        &self.batch.records
    }

    fn commit(mut self: Box<Self>) -> Result<Appended, StoreError> {
        let appended = self.store.commit_batch(&self.batch)?;
        self.committed = true;
        Ok(appended)
    }
}

impl Drop for PostgresStaged<'_> {
    fn drop(&mut self) {
        if !self.committed {
            lock(&self.store.session).rollback();
        }
    }
}

impl EventStore for PostgresStore {
    fn stage(&self, request: AppendRequest) -> Result<Staging<'_>, StoreError> {
        check_size(&request)?;
        let guard = lock(&self.append);
        let begun = {
            let mut session = lock(&self.session);
            let begun = self.begin_append(&mut session, &request);
            if !matches!(begun, Ok(Ok(_))) {
                session.rollback();
            }
            begun?
        };
        let head = match begun {
            Ok(head) => head,
            Err(repeat) => return Ok(Staging::Repeat(repeat)),
        };
        let staged = stage_records(&request, head, self.clock.now());
        let batch = match staged {
            Ok(batch) => batch,
            Err(e) => {
                lock(&self.session).rollback();
                return Err(e);
            }
        };
        Ok(Staging::Staged(Box::new(PostgresStaged {
            store: self,
            batch,
            committed: false,
            _append: guard,
        })))
    }

    fn find_command(&self, command_id: &Uuid) -> Result<Option<StoredCommand>, StoreError> {
        command_entry(&mut lock(&self.session), command_id)
    }

    fn head(&self) -> Result<Digest, StoreError> {
        Ok(read_head(&mut lock(&self.session))?.digest())
    }

    fn read_from(&self, from: u64) -> Events<'_> {
        Box::new(self.pages(from, None))
    }

    fn read_as_of(&self, as_of: AsOf) -> Events<'_> {
        Box::new(self.pages(1, Some(as_of)))
    }

    fn record(&self, seq: u64) -> Result<Option<StoredEvent>, StoreError> {
        if seq == 0 {
            return Ok(None);
        }
        let mut one = self.pages(seq, Some(AsOf::Sequence(seq)));
        Ok(one.next().transpose()?.filter(|r| r.seq == seq))
    }

    fn verify_with(&self, progress: &mut dyn FnMut(u64)) -> Result<VerifyReport, StoreError> {
        let mut walk = LogWalk::new();
        let mut reporter = Reporter::new(progress);
        let mut fetch = self.pages_raw();
        loop {
            let start = benefit_store::table::bound(walk.next_seq());
            let page = fetch(start, i64::MAX, PAGE_FOR_VERIFY)?;
            let full = page.len() == PAGE_FOR_VERIFY;
            for row in &page {
                walk.check(row)?;
                reporter.reached(walk.next_seq() - 1);
            }
            if !full {
                break;
            }
        }
        self.verify_commands(walk.batches())?;
        let report = walk.report();
        reporter.finish(report.head.seq);
        Ok(report)
    }
}

/// The rows a page of `verify` reads.
const PAGE_FOR_VERIFY: usize = 10_000;

impl PostgresStore {
    /// The query for a page of rows, unchecked: [`Pages`] checks each row
    /// it reads, and `verify` with its own [`LogWalk`].
    fn pages_raw(&self) -> FetchPage<'_> {
        Box::new(move |start, last, limit| {
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = lock(&self.session)
                .query(SELECT_PAGE, &[&start, &last, &limit])
                .map_err(db("reading the log"))?;
            rows.iter()
                .map(event_row)
                .collect::<Result<VecDeque<_>, _>>()
                .map_err(db("reading an event row"))
        })
    }
}
