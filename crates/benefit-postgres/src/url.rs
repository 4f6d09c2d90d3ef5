//! A PostgreSQL ledger's address: `postgres://USER[:PASSWORD]@HOST[:PORT]/DB?schema=NAME`,
//! one ledger per schema. Everything but `schema` is the client's own
//! connection URL (libpq's format, so `sslmode`, `connect_timeout` and the
//! rest mean what they mean to `psql`). The password may instead come from
//! `PGPASSWORD`, so that it stays out of shell histories.
//!
//! The address a message shows ([`LedgerUrl::server`]) names the host, the
//! port, the database, the user and the schema, and never the password.

use std::str::FromStr;
use std::time::Duration;

use thiserror::Error;

/// The schema of a URL that names none.
pub const DEFAULT_SCHEMA: &str = "benefit_ledger";

/// How long a connection may take before it is given up: a server that is
/// down is an error within seconds, never a hang.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A URL that is not a ledger's address.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum UrlError {
    /// Not a `postgres://` or `postgresql://` URL.
    #[error("a PostgreSQL ledger's URL starts with postgres:// or postgresql://")]
    NotPostgres,
    /// The schema is not a plain lower-case identifier.
    #[error("schema '{0}' is not a ledger name: use 1 to 63 of a-z, 0-9 and _, starting with a letter or _")]
    Schema(String),
    /// The client refused the rest of the URL.
    #[error("the URL is not a PostgreSQL connection URL: {0}")]
    Connection(String),
}

/// A parsed ledger address.
#[derive(Clone)]
pub struct LedgerUrl {
    config: postgres::Config,
    schema: String,
}

impl std::fmt::Debug for LedgerUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.server())
    }
}

impl LedgerUrl {
    /// True when `text` is meant as a PostgreSQL ledger (and not a
    /// directory of an embedded one).
    pub fn is_postgres(text: &str) -> bool {
        text.starts_with("postgres://") || text.starts_with("postgresql://")
    }

    /// Parses `text`; `PGPASSWORD` gives the password where the URL has
    /// none.
    pub fn parse(text: &str) -> Result<Self, UrlError> {
        if !Self::is_postgres(text) {
            return Err(UrlError::NotPostgres);
        }
        let (base, query) = text.split_once('?').unwrap_or((text, ""));
        let mut schema = None;
        let mut rest = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.strip_prefix("schema=") {
                Some(name) => schema = Some(name.to_owned()),
                None => rest.push(pair),
            }
        }
        let schema = schema.unwrap_or_else(|| DEFAULT_SCHEMA.to_owned());
        check_schema(&schema)?;
        let client_url = if rest.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", rest.join("&"))
        };
        let mut config = postgres::Config::from_str(&client_url)
            .map_err(|e| UrlError::Connection(mask_password(&e.to_string())))?;
        if config.get_password().is_none() {
            if let Ok(password) = std::env::var("PGPASSWORD") {
                config.password(password);
            }
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        config.application_name("benefit-ledger");
        Ok(Self { config, schema })
    }

    /// The client's configuration.
    pub fn config(&self) -> &postgres::Config {
        &self.config
    }

    /// The ledger's schema.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The address for messages: `user@host:port/db schema NAME`, without
    /// the password.
    pub fn server(&self) -> String {
        let hosts: Vec<String> = self
            .config
            .get_hosts()
            .iter()
            .map(|host| match host {
                postgres::config::Host::Tcp(name) => name.clone(),
                postgres::config::Host::Unix(path) => path.display().to_string(),
            })
            .collect();
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        let user = self.config.get_user().unwrap_or("(default user)");
        let db = self.config.get_dbname().unwrap_or(user);
        format!(
            "postgres://{user}@{}:{port}/{db} schema {}",
            hosts.join(","),
            self.schema
        )
    }
}

impl LedgerUrl {
    /// The ledger's URL without its password, as a user would type it.
    pub fn address(&self) -> String {
        let server = self.server();
        let (url, _) = server.split_once(" schema ").unwrap_or((&server, ""));
        format!("{url}?schema={}", self.schema)
    }
}

/// A schema name is a plain identifier, so that it is safe to quote into
/// SQL and means the same to every tool.
fn check_schema(schema: &str) -> Result<(), UrlError> {
    let mut chars = schema.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if first_ok && rest_ok && schema.len() <= 63 && !schema.starts_with("pg_") {
        Ok(())
    } else {
        Err(UrlError::Schema(schema.to_owned()))
    }
}

/// The client's parse errors quote no URL today; this keeps it so if one
/// ever does, by hiding anything between `:` and `@`.
fn mask_password(message: &str) -> String {
    match (message.find("://"), message.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &message[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => {
                    format!("{}{user}:***{}", &message[..scheme + 3], &message[at..])
                }
                None => message.to_owned(),
            }
        }
        _ => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_is_taken_out_of_the_url_and_the_password_never_shown() {
        let url = LedgerUrl::parse("postgres://op:s3cret@db.example:6543/ledgers?schema=contoso")
            .expect("parses");
        assert_eq!(url.schema(), "contoso");
        assert_eq!(
            url.server(),
            "postgres://op@db.example:6543/ledgers schema contoso"
        );
        assert!(!format!("{url:?}").contains("s3cret"));
        assert_eq!(url.config().get_password(), Some(&b"s3cret"[..]));
    }

    #[test]
    fn a_url_without_schema_is_the_default_ledger_and_other_options_pass_through() {
        let url = LedgerUrl::parse("postgresql://op@h/db?connect_timeout=3").expect("parses");
        assert_eq!(url.schema(), DEFAULT_SCHEMA);
        assert_eq!(
            url.config().get_connect_timeout(),
            Some(&Duration::from_secs(3))
        );
    }

    #[test]
    fn a_schema_that_is_not_a_plain_identifier_is_refused() {
        for bad in ["Contoso", "a-b", "x;drop", "", "pg_catalog", "1abc"] {
            let url = format!("postgres://op@h/db?schema={bad}");
            assert_eq!(
                LedgerUrl::parse(&url).map(|_| ()),
                Err(UrlError::Schema(bad.into()))
            );
        }
    }

    #[test]
    fn an_unknown_option_is_the_clients_error_without_the_password() {
        match LedgerUrl::parse("postgres://op:pw@h/db?bogus=1") {
            Err(UrlError::Connection(message)) => assert!(!message.contains("pw@"), "{message}"),
            other => panic!("expected a connection-URL error, got {other:?}"),
        }
        assert_eq!(
            LedgerUrl::parse("mysql://h/db").map(|_| ()),
            Err(UrlError::NotPostgres)
        );
    }

    #[test]
    fn a_password_in_a_message_is_masked() {
        assert_eq!(
            mask_password("bad url postgres://op:pw@h/db"),
            "bad url postgres://op:***@h/db"
        );
    }
}
