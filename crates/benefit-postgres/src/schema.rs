//! The ledger's tables in its schema, as versioned migrations applied on
//! open and recorded in `ledger_migrations`. A schema newer than this
//! binary knows is refused; an older one is brought up to date in one
//! transaction, under a lock that makes two processes opening a new ledger
//! at once create it once.
//!
//! `docs/postgres.md` at the workspace root describes every table and
//! column. The events and commands tables are append-only in the database
//! itself: triggers refuse `UPDATE`, `DELETE` and `TRUNCATE` on them,
//! whoever asks.

use std::path::PathBuf;

use benefit_store::StoreError;

use crate::connection::{db, Session};

/// A migration: its version, what it does, and its SQL (run with the
/// ledger's schema first on the search path).
struct Migration {
    version: i32,
    description: &'static str,
    sql: &'static str,
}

/// Every migration, oldest first. Never edit one that has shipped: add
/// the next.
const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    description: "events, commands, documents and checkpoint; append-only triggers",
    sql: r#"
CREATE TABLE events (
    seq bigint PRIMARY KEY CHECK (seq > 0),
    stream text NOT NULL,
    stream_version bigint NOT NULL CHECK (stream_version > 0),
    event_type text NOT NULL,
    schema_version integer NOT NULL,
    recorded_at timestamptz NOT NULL,
    actor_user text NOT NULL,
    actor_role text NOT NULL,
    recorded_by_user text,
    recorded_by_role text,
    session_user_name text NOT NULL DEFAULT session_user,
    command_id uuid NOT NULL,
    body bytea NOT NULL,
    prev_hash bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash bytea NOT NULL CHECK (length(hash) = 32),
    event jsonb NOT NULL,
    UNIQUE (stream, stream_version)
);
CREATE TABLE commands (
    command_id uuid PRIMARY KEY,
    first bigint NOT NULL,
    last bigint NOT NULL,
    last_hash bytea NOT NULL,
    recorded_at timestamptz NOT NULL,
    fingerprint bytea NOT NULL,
    session_user_name text NOT NULL DEFAULT session_user,
    CHECK (first <= last)
);
CREATE TABLE documents (
    key text COLLATE "C" PRIMARY KEY,
    value bytea NOT NULL
);
CREATE TABLE checkpoint (
    id integer PRIMARY KEY CHECK (id = 1),
    seq bigint NOT NULL CHECK (seq >= 0)
);
INSERT INTO checkpoint (id, seq) VALUES (1, 0);
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: % on %.% is refused', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
CREATE TRIGGER commands_append_only BEFORE UPDATE OR DELETE ON commands
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER commands_no_truncate BEFORE TRUNCATE ON commands
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();
"#,
}];

/// The newest schema version this binary knows.
pub fn latest() -> i32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Points the session at the ledger's schema, and at nothing else: a
/// table of another schema is never found by an unqualified name.
pub fn use_schema(session: &mut Session, schema: &str) -> Result<(), StoreError> {
    session
        .batch(&format!("SET search_path TO \"{schema}\""))
        .map_err(db("choosing the ledger's schema"))
}

/// The schema version the ledger records; `None`: the schema holds no
/// ledger (or does not exist).
fn recorded_version(session: &mut Session, schema: &str) -> Result<Option<i32>, StoreError> {
    // By name, not `current_schema()`: that skips a schema the role may not
    // use, which would make a refusal look like a missing ledger.
    let exists = session
        .query_opt(
            "SELECT 1 FROM pg_catalog.pg_tables \
             WHERE schemaname = $1 AND tablename = 'ledger_migrations'",
            &[&schema],
        )
        .map_err(db("looking for the ledger's tables"))?
        .is_some();
    if !exists {
        return Ok(None);
    }
    // Qualified, so that a role without the schema's privileges is told so.
    let rows = session
        .query_once(&format!(
            "SELECT max(version) FROM \"{schema}\".ledger_migrations"
        ))
        .map_err(db("reading the ledger's schema version"))?;
    Ok(rows.first().and_then(|r| r.get::<_, Option<i32>>(0)))
}

/// Brings the ledger in `schema` to [`latest`], creating it if `create`;
/// refuses a schema newer than this binary and, without `create`, a schema
/// that holds no ledger. `server` names the ledger in messages.
pub fn migrate(
    session: &mut Session,
    schema: &str,
    server: &str,
    create: bool,
) -> Result<(), StoreError> {
    let found = recorded_version(session, schema)?;
    match found {
        Some(version) if version == latest() => return Ok(()),
        Some(version) if version > latest() => return Err(newer(server, version)),
        None if !create => {
            return Err(StoreError::NoLedger {
                path: PathBuf::from(server),
                reason: "its schema holds no ledger (no ledger_migrations table)",
            })
        }
        _ => {}
    }
    session
        .batch("BEGIN")
        .map_err(db("starting the schema's transaction"))?;
    let applied = apply(session, schema, server);
    match applied {
        Ok(()) => session.batch("COMMIT").map_err(db("committing the schema")),
        Err(e) => {
            session.rollback();
            Err(e)
        }
    }
}

/// Applies the missing migrations inside the caller's transaction, under
/// a transaction-level advisory lock on the schema's name.
fn apply(session: &mut Session, schema: &str, server: &str) -> Result<(), StoreError> {
    session
        .execute(
            "SELECT pg_advisory_xact_lock(hashtext('benefit-ledger migrations'), hashtext($1))",
            &[&schema],
        )
        .map_err(db("locking the schema for its migrations"))?;
    session
        .batch(&format!(
            "CREATE SCHEMA IF NOT EXISTS \"{schema}\";
             CREATE TABLE IF NOT EXISTS ledger_migrations (
                 version integer PRIMARY KEY,
                 description text NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now(),
                 applied_by text NOT NULL DEFAULT session_user
             );"
        ))
        .map_err(db("creating the ledger's schema"))?;
    let current = recorded_version(session, schema)?.unwrap_or(0);
    if current > latest() {
        return Err(newer(server, current));
    }
    for migration in MIGRATIONS.iter().filter(|m| m.version > current) {
        session
            .batch(migration.sql)
            .map_err(db("applying a migration of the ledger's schema"))?;
        session
            .execute(
                "INSERT INTO ledger_migrations (version, description) VALUES ($1, $2)",
                &[&migration.version, &migration.description],
            )
            .map_err(db("recording a migration"))?;
    }
    Ok(())
}

fn newer(server: &str, version: i32) -> StoreError {
    StoreError::UnsupportedLayout {
        path: PathBuf::from(server),
        found: format!("PostgreSQL schema version {version}, written by a newer benefit-ledger"),
        supported: latest().unsigned_abs(),
    }
}
