//! The PostgreSQL backend passes the store's conformance suite, the same
//! contract the sled and in-memory backends pass (see
//! `benefit_store::conformance`), each test on a fresh ledger (a schema of
//! its own) of the test process's server.

mod support;

use benefit_postgres::PostgresStore;
use benefit_store::SteppingClock;

fn open_fresh(clock: SteppingClock) -> Option<(PostgresStore, ())> {
    let url = support::fresh_url("conformance")?;
    let store = PostgresStore::open(&url, clock).expect("a new ledger opens");
    Some((store, ()))
}

benefit_store::conformance_tests!(skippable open_fresh);
