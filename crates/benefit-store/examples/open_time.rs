//! Times `SledStore::open_existing` on a ledger directory, and a read of
//! its head: the floor under every CLI call (`docs/performance.md`).
//!
//! `cargo run --release -p benefit-store --example open_time -- DIR [RUNS]`
use std::time::Instant;

use benefit_store::{EventStore, SledStore, SystemClock};

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: open_time DIR [RUNS]");
    let runs: usize = args
        .next()
        .map_or(3, |r| r.parse().expect("RUNS is a number"));
    if std::env::var_os("RAW_SLED").is_some() {
        // The engine alone: sled's own open and close, no ledger checks.
        for _ in 0..runs {
            let start = Instant::now();
            let db = benefit_store::sled_config(dir.as_ref())
                .open()
                .expect("sled opens");
            let opened = start.elapsed();
            drop(db);
            println!(
                "raw sled open {:.1} ms, dropped at {:.1} ms",
                opened.as_secs_f64() * 1e3,
                start.elapsed().as_secs_f64() * 1e3
            );
        }
        return;
    }
    for _ in 0..runs {
        let start = Instant::now();
        let store = SledStore::open_existing(&dir, SystemClock).expect("the ledger opens");
        let opened = start.elapsed();
        let head = store.head().expect("the head reads");
        let read = start.elapsed();
        drop(store);
        let closed = start.elapsed();
        println!(
            "open {:.1} ms, head {} at {:.1} ms, dropped at {:.1} ms",
            opened.as_secs_f64() * 1e3,
            head.seq,
            read.as_secs_f64() * 1e3,
            closed.as_secs_f64() * 1e3
        );
    }
}
