//! End-to-end tests of `benefit-ledger`: the real binary, run on temporary
//! ledgers, its outputs pinned as insta snapshots in the top-level
//! `snapshots/` (named `cli__*`).
//!
//! Every run goes through [`run`], which fixes the clock with
//! `BENEFIT_LEDGER_FAKE_NOW` (so recorded-at, hashes and the default `--on`
//! are reproducible), clears the other `BENEFIT_LEDGER*` variables, and
//! checks that neither standard output nor standard error shows a whole
//! product key (R3) — except `export`, the one command allowed to.
//!
//! Modules: `append` (every event from flags, the import's atomicity, dry
//! runs), `exit_codes` (one test per code and cause), `reads` (every
//! report in every format, `--as-of-seq`, log, verify, rebuild, the export
//! round trip), `log` (its filters, CSV and a missing stream), `diff`
//! (what changed between two points), `postgres` (the CLI on a PostgreSQL ledger),
//! `progress` (the bars: only on a terminal), `readme` (the README's two commands, its short session run line by line, and `--help` examples), `serve` (commands through the ledger's owner process answer as run alone).

mod append;
mod browser;
mod compat;
mod diff;
mod exit_codes;
mod extremes;
mod inputs;
mod log;
mod postgres;
mod progress;
mod readme;
mod reads;
mod secrets;
mod serve;
mod timeline;

#[path = "../support/cli.rs"]
mod cli;

pub use cli::*;
