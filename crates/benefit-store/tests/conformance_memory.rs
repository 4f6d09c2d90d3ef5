//! The in-memory backend passes the same contract as the sled backend (see
//! `benefit_store::conformance`).

use benefit_store::{MemoryStore, SteppingClock};

fn open_fresh(clock: SteppingClock) -> (MemoryStore, ()) {
    (MemoryStore::new(clock), ())
}

benefit_store::conformance_tests!(open_fresh);
