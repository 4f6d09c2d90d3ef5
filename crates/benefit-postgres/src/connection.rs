//! One session with the server: the client, its prepared statements, and
//! whether an append's transaction is open on it.
//!
//! A key design decision: a store holds one session. An append's
//! transaction stays open on it from staging to commit (it holds the
//! chain's lock), while the shell reads documents on the same session
//! between the two; a documents commit is refused while it is open, so
//! that no statement ever commits half of an append.

use std::collections::HashMap;

use benefit_store::StoreError;
use postgres::types::ToSql;
use postgres::{Client, Row, Statement};

/// Maps a client error to the store's, saying what the store was doing.
pub fn db(action: &'static str) -> impl FnOnce(postgres::Error) -> StoreError {
    move |source| StoreError::backend(action, ClientError::from(source))
}

/// A client error in full: the client's own `Display` says only its kind
/// ("db error", "error connecting to server"), so the server's message,
/// detail and hint, or the operating system's error, are spelled out.
#[derive(Debug)]
pub struct ClientError(String);

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ClientError {}

impl From<postgres::Error> for ClientError {
    fn from(error: postgres::Error) -> Self {
        if let Some(db) = error.as_db_error() {
            let mut text = format!("{}: {}", db.severity(), db.message());
            for (label, part) in [("detail", db.detail()), ("hint", db.hint())] {
                if let Some(part) = part {
                    text.push_str(&format!(" ({label}: {part})"));
                }
            }
            return Self(text);
        }
        let mut text = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            text.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        Self(text)
    }
}

/// The session, its statement cache and its transaction state.
pub struct Session {
    client: Client,
    statements: HashMap<&'static str, Statement>,
    /// True from an append's `BEGIN` to its `COMMIT` or `ROLLBACK`.
    pub in_append: bool,
}

impl Session {
    /// A session over a connected client.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            statements: HashMap::new(),
            in_append: false,
        }
    }

    /// The statement for `sql`, prepared once per session.
    fn statement(&mut self, sql: &'static str) -> Result<Statement, postgres::Error> {
        if let Some(statement) = self.statements.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare(sql)?;
        self.statements.insert(sql, statement.clone());
        Ok(statement)
    }

    /// Runs a query of a prepared statement.
    pub fn query(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, postgres::Error> {
        let statement = self.statement(sql)?;
        self.client.query(&statement, params)
    }

    /// Runs a query of a prepared statement that returns at most one row.
    pub fn query_opt(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Option<Row>, postgres::Error> {
        let statement = self.statement(sql)?;
        self.client.query_opt(&statement, params)
    }

    /// Runs a statement of a prepared statement; answers the rows it
    /// changed.
    pub fn execute(
        &mut self,
        sql: &'static str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, postgres::Error> {
        let statement = self.statement(sql)?;
        self.client.execute(&statement, params)
    }

    /// Runs a query built at run time (a schema-qualified name), prepared
    /// for this call only.
    pub fn query_once(&mut self, sql: &str) -> Result<Vec<Row>, postgres::Error> {
        self.client.query(sql, &[])
    }

    /// Runs statements without parameters (transaction control, DDL).
    pub fn batch(&mut self, sql: &str) -> Result<(), postgres::Error> {
        self.client.batch_execute(sql)
    }

    /// Ends an open transaction without its changes, if the session can
    /// (a lost connection has ended it already).
    pub fn rollback(&mut self) {
        let _ = self.client.batch_execute("ROLLBACK");
        self.in_append = false;
    }
}
