//! What the PostgreSQL tests share: the test process's server, and a
//! fresh ledger on it.
#![allow(dead_code)]

use benefit_postgres::cluster::TestServer;
use benefit_postgres::LedgerUrl;

/// The server, or `None` when a developer asked to skip; fails the test,
/// saying how to provide one, when there is none.
pub fn server() -> Option<&'static TestServer> {
    match TestServer::shared() {
        Ok(server) => server,
        Err(why) => panic!("{why}"),
    }
}

/// The URL of a new, empty ledger.
pub fn fresh_url(label: &str) -> Option<LedgerUrl> {
    let text = server()?.fresh_ledger_url(label);
    Some(LedgerUrl::parse(&text).expect("a ledger URL"))
}
