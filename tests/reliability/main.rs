//! Reliability tests of `benefit-ledger` (issue 7), through the real
//! binary: hostile input, crashes, damaged ledgers, a full disk, two
//! processes, and roles on every path that changes the ledger. Each test
//! prints what it tried, so that a run shows the figures
//! (`cargo test -p benefit-cli --test reliability -- --nocapture`).
//!
//! Modules: `catalogue` (at least 60 hostile inputs, one row each), `crash`
//! (SIGKILL during a large import; `BENEFIT_CRASH_ROUNDS` for the long
//! loop), `damage` (a truncated, corrupted or incomplete ledger directory),
//! `disk` (a full file system), `contention` (a second process), `roles`
//! (R1 on every append and import).

mod catalogue;
mod contention;
mod crash;
mod damage;
mod disk;
mod roles;

#[path = "../support/cli.rs"]
mod cli;

use std::path::Path;

/// Copies a ledger directory (sled's files and folders) to `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("directory created");
    for entry in std::fs::read_dir(from).expect("directory read") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("file copied");
        }
    }
}

/// The forms of a key someone could search an output for: as stored, in
/// lower case, and both without hyphens.
pub fn key_forms(key: &str) -> [String; 4] {
    let compact = key.replace('-', "");
    [
        key.to_ascii_uppercase(),
        key.to_ascii_lowercase(),
        compact.to_ascii_uppercase(),
        compact.to_ascii_lowercase(),
    ]
}
