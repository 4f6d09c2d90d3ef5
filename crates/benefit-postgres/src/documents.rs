//! The derived documents on PostgreSQL: a `documents` table (keys in
//! `COLLATE "C"`, so that a prefix scan is a range of bytes) and a
//! one-row `checkpoint`. A commit moves the checkpoint and writes the
//! documents in one transaction, after locking the checkpoint row, so two
//! processes catching up at once commit one after the other and the later
//! one finds the checkpoint moved ([`benefit_store::StoreError::Conflict`]).

use std::collections::{BTreeMap, HashMap};

use benefit_store::table::{int, page_start, prefix_end};
use benefit_store::{check_checkpoint, ProjectionStore, StoreError};

use crate::connection::{db, Session};
use crate::{lock, PostgresStore};

/// How many documents one upsert statement carries.
const UPSERT_CHUNK_ROWS: usize = 5_000;

/// How many keys one read of many documents asks for.
const SELECT_MANY_CHUNK_KEYS: usize = 10_000;

const SELECT_CHECKPOINT: &str = "SELECT seq FROM checkpoint WHERE id = 1";
const SELECT_CHECKPOINT_FOR_UPDATE: &str = "SELECT seq FROM checkpoint WHERE id = 1 FOR UPDATE";
const SELECT_MANY: &str = "SELECT key, value FROM documents WHERE key = ANY($1::text[])";
const SELECT_LAST_MANY: &str = "SELECT p.i, d.key, d.value \
     FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS p(lo, hi, i) \
     CROSS JOIN LATERAL (SELECT key, value FROM documents \
         WHERE key >= p.lo AND key < p.hi ORDER BY key DESC LIMIT 1) d";
const UPSERT: &str = "INSERT INTO documents (key, value) \
     SELECT * FROM unnest($1::text[], $2::bytea[]) \
     ON CONFLICT (key) DO UPDATE SET value = excluded.value";

fn checkpoint(session: &mut Session, sql: &'static str) -> Result<u64, StoreError> {
    let row = session
        .query_opt(sql, &[])
        .map_err(db("reading the checkpoint"))?
        .ok_or_else(|| StoreError::Projection {
            message: "the checkpoint row is missing".into(),
        })?;
    let seq: i64 = row.try_get(0).map_err(db("reading the checkpoint"))?;
    u64::try_from(seq).map_err(|_| StoreError::Projection {
        message: format!("the checkpoint is {seq}"),
    })
}

/// The (key, value) pairs of rows read from the documents table.
fn key_values(rows: &[postgres::Row]) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    rows.iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<Result<_, postgres::Error>>()
        .map_err(db("reading a document"))
}

/// One page of the documents under `prefix`: at most `limit` of them,
/// after `after` (see [`page_start`]), in key order, in one statement.
fn documents_page(
    session: &mut Session,
    prefix: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    let (exclusive, start) = match page_start(prefix, after) {
        std::ops::Bound::Excluded(after) => (true, after),
        _ => (false, prefix),
    };
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = match (prefix_end(prefix), exclusive) {
        (Some(end), true) => session.query(
            "SELECT key, value FROM documents WHERE key > $1 AND key < $3 ORDER BY key LIMIT $2",
            &[&start, &limit, &end],
        ),
        (Some(end), false) => session.query(
            "SELECT key, value FROM documents WHERE key >= $1 AND key < $3 ORDER BY key LIMIT $2",
            &[&start, &limit, &end],
        ),
        (None, true) => session.query(
            "SELECT key, value FROM documents WHERE key > $1 ORDER BY key LIMIT $2",
            &[&start, &limit],
        ),
        (None, false) => session.query(
            "SELECT key, value FROM documents WHERE key >= $1 ORDER BY key LIMIT $2",
            &[&start, &limit],
        ),
    }
    .map_err(db("scanning documents"))?;
    key_values(&rows)
}

/// The last document (in key order) whose key starts with `prefix`.
fn last_document(
    session: &mut Session,
    prefix: &str,
) -> Result<Option<(String, Vec<u8>)>, StoreError> {
    let rows = match prefix_end(prefix) {
        Some(end) => session.query(
            "SELECT key, value FROM documents WHERE key >= $1 AND key < $2 \
             ORDER BY key DESC LIMIT 1",
            &[&prefix, &end],
        ),
        None => session.query(
            "SELECT key, value FROM documents WHERE key >= $1 ORDER BY key DESC LIMIT 1",
            &[&prefix],
        ),
    }
    .map_err(db("scanning documents"))?;
    Ok(key_values(&rows)?.pop())
}

/// The documents under `keys`, in their order, read with one statement
/// per [`SELECT_MANY_CHUNK_KEYS`] keys instead of one each.
fn documents_many(
    session: &mut Session,
    keys: &[&str],
) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
    let mut found: HashMap<String, Vec<u8>> = HashMap::with_capacity(keys.len());
    for chunk in keys.chunks(SELECT_MANY_CHUNK_KEYS) {
        let rows = session
            .query(SELECT_MANY, &[&chunk])
            .map_err(db("reading documents"))?;
        for row in rows {
            let (key, value) = (row.try_get(0), row.try_get(1));
            found.insert(
                key.map_err(db("reading a document"))?,
                value.map_err(db("reading a document"))?,
            );
        }
    }
    Ok(keys.iter().map(|key| found.get(*key).cloned()).collect())
}

/// For each of `prefixes`, the last document under it, read with one
/// statement per [`SELECT_MANY_CHUNK_KEYS`] prefixes (a prefix with no
/// end, the empty one, is read alone).
fn last_many(
    session: &mut Session,
    prefixes: &[&str],
) -> Result<Vec<Option<benefit_store::Document>>, StoreError> {
    let mut last = vec![None; prefixes.len()];
    let mut bounded = Vec::with_capacity(prefixes.len());
    for (index, prefix) in prefixes.iter().enumerate() {
        match prefix_end(prefix) {
            Some(end) => bounded.push((index, *prefix, end)),
            None => last[index] = last_document(session, prefix)?,
        }
    }
    for chunk in bounded.chunks(SELECT_MANY_CHUNK_KEYS) {
        let lows: Vec<&str> = chunk.iter().map(|(_, low, _)| *low).collect();
        let highs: Vec<&str> = chunk.iter().map(|(_, _, high)| high.as_str()).collect();
        let rows = session
            .query(SELECT_LAST_MANY, &[&lows, &highs])
            .map_err(db("scanning documents"))?;
        for row in rows {
            let read = || -> Result<_, postgres::Error> {
                Ok((row.try_get::<_, i64>(0)?, row.try_get(1)?, row.try_get(2)?))
            };
            let (ordinal, key, value) = read().map_err(db("reading a document"))?;
            let slot = usize::try_from(ordinal - 1)
                .ok()
                .and_then(|i| chunk.get(i))
                .and_then(|(index, _, _)| last.get_mut(*index))
                .ok_or_else(|| StoreError::Projection {
                    message: format!("the server answered prefix {ordinal} of {}", chunk.len()),
                })?;
            *slot = Some((key, value));
        }
    }
    Ok(last)
}

/// A documents transaction may not start inside an append's: it would
/// commit the append with it.
fn refuse_inside_append(session: &Session) -> Result<(), StoreError> {
    if session.in_append {
        return Err(StoreError::Projection {
            message: "documents cannot be committed while an append is staged".into(),
        });
    }
    Ok(())
}

/// Runs `body` in a transaction of its own, committed if it succeeds.
fn in_transaction(
    session: &mut Session,
    body: impl FnOnce(&mut Session) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    refuse_inside_append(session)?;
    session
        .batch("BEGIN")
        .map_err(db("starting the documents' transaction"))?;
    match body(session) {
        Ok(()) => session
            .batch("COMMIT")
            .map_err(db("committing the documents")),
        Err(e) => {
            session.rollback();
            Err(e)
        }
    }
}

impl ProjectionStore for PostgresStore {
    fn projection_checkpoint(&self) -> Result<u64, StoreError> {
        checkpoint(&mut lock(&self.session), SELECT_CHECKPOINT)
    }

    fn projection_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let row = lock(&self.session)
            .query_opt("SELECT value FROM documents WHERE key = $1", &[&key])
            .map_err(db("reading a document"))?;
        row.map(|row| row.try_get(0))
            .transpose()
            .map_err(db("reading a document"))
    }

    fn projection_get_many(&self, keys: &[&str]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        documents_many(&mut lock(&self.session), keys)
    }

    fn projection_scan_page(
        &self,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        documents_page(&mut lock(&self.session), prefix, after, limit)
    }

    fn projection_last(&self, prefix: &str) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        last_document(&mut lock(&self.session), prefix)
    }

    fn projection_last_many(
        &self,
        prefixes: &[&str],
    ) -> Result<Vec<Option<benefit_store::Document>>, StoreError> {
        if prefixes.is_empty() {
            return Ok(Vec::new());
        }
        last_many(&mut lock(&self.session), prefixes)
    }

    fn projection_commit(
        &self,
        from: u64,
        to: u64,
        writes: BTreeMap<String, Vec<u8>>,
    ) -> Result<(), StoreError> {
        let entries: Vec<(&String, &Vec<u8>)> = writes.iter().collect();
        in_transaction(&mut lock(&self.session), |session| {
            check_checkpoint(from, checkpoint(session, SELECT_CHECKPOINT_FOR_UPDATE)?)?;
            for chunk in entries.chunks(UPSERT_CHUNK_ROWS) {
                let keys: Vec<&str> = chunk.iter().map(|(k, _)| k.as_str()).collect();
                let values: Vec<&[u8]> = chunk.iter().map(|(_, v)| v.as_slice()).collect();
                session
                    .execute(UPSERT, &[&keys, &values])
                    .map_err(db("writing documents"))?;
            }
            session
                .execute("UPDATE checkpoint SET seq = $1 WHERE id = 1", &[&int(to)?])
                .map_err(db("moving the checkpoint"))?;
            Ok(())
        })
    }

    fn projection_reset(&self) -> Result<(), StoreError> {
        in_transaction(&mut lock(&self.session), |session| {
            session
                .batch(
                    "LOCK TABLE checkpoint IN EXCLUSIVE MODE;
                     DELETE FROM documents;
                     UPDATE checkpoint SET seq = 0 WHERE id = 1;",
                )
                .map_err(db("dropping the documents"))
        })
    }
}
