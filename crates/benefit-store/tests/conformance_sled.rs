//! The sled backend passes the backend-independent contract of `EventStore`
//! (see `benefit_store::conformance`), each function in a fresh ledger in a
//! temporary directory.

use benefit_store::{SledStore, SteppingClock};

fn open_fresh(clock: SteppingClock) -> (SledStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let store = SledStore::open(dir.path().join("ledger"), clock).expect("a new ledger opens");
    (store, dir)
}

benefit_store::conformance_tests!(open_fresh);
