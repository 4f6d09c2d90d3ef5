//! The head last acknowledged to an operator, kept in the ledger directory
//! beside sled's files (`acknowledged-head`, `SEQ:HASH`), so that a log
//! that lost acknowledged events is refused instead of read as a shorter
//! history.
//!
//! sled recovers a damaged or truncated `db` file as it recovers from a
//! crash: to the last intact batch. Such a ledger verifies (its chain is
//! intact, only shorter) and would report partial data with exit 0. Every
//! append writes its new head here after the store has flushed; every
//! command checks, after opening, that the log still reaches that head. A
//! missing or stale file (a crash between the flush and this write, an
//! append by another program) only weakens the check; it never refuses a
//! sound ledger.

use std::path::Path;

use benefit_app::Ledger;
use benefit_store::Digest;

use crate::failure::{Exit, Failure};

/// The file's name in the ledger directory.
pub const FILE: &str = "acknowledged-head";

/// Writes the ledger's head as acknowledged: to a temporary file, synced,
/// then renamed over the old one, so that the file is whole or absent.
pub fn record(ledger: &Ledger) {
    let Ok(head) = ledger.head() else {
        return;
    };
    // Best effort: the events are stored whether or not this succeeds (a
    // full disk, say), and an older head here refuses nothing sound.
    let _ = write(ledger.path(), &head);
}

fn write(dir: &Path, head: &Digest) -> std::io::Result<()> {
    use std::io::Write;
    let temporary = dir.join(format!("{FILE}.tmp"));
    let mut file = std::fs::File::create(&temporary)?;
    writeln!(file, "{head}")?;
    file.sync_all()?;
    std::fs::rename(&temporary, dir.join(FILE))
}

/// Refuses a ledger whose log ends before the acknowledged head, or holds
/// another record there (exit 3).
pub fn check(ledger: &Ledger) -> Result<(), Failure> {
    let path = ledger.path().join(FILE);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    let Ok(acknowledged) = text.trim().parse::<Digest>() else {
        return Ok(());
    };
    let head = ledger.head()?;
    let lost = head.seq < acknowledged.seq;
    let replaced = head.seq == acknowledged.seq && head.hash != acknowledged.hash;
    if !(lost || replaced) {
        return Ok(());
    }
    Err(Failure::new(
        Exit::Unusable,
        format!(
            "ledger failed verification: its log ends at {head}, but {acknowledged} was acknowledged ({}); the ledger's files were damaged",
            path.display()
        ),
    )
    .detail("every event up to the log's end is proven by the hash chain; events after it are lost here")
    .detail(format!("restore the ledger directory from a backup copy and check the copy with `benefit-ledger verify --digest {acknowledged}`")))
}
