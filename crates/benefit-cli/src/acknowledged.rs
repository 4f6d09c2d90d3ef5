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
//!
//! The file carries a checksum (issue 13): `SEQ:HASH`, then a line `check
//! HEX`, the first 16 hex digits of a SHA-256 of the first line. A damaged
//! file (48 of 56 single-bit flips used to read as no file at all, which
//! turned the check off) is refused with exit 3 and told what to do. A file
//! of one digest line alone is one an older program wrote, and is read.

use std::path::Path;

use crate::backend::Ledger;
use benefit_store::Digest;

use crate::failure::{Exit, Failure};

/// The file's name in the ledger directory.
pub const FILE: &str = "acknowledged-head";

/// Writes the ledger's head as acknowledged: to a temporary file, synced,
/// then renamed over the old one, so that the file is whole or absent.
pub fn record(ledger: &Ledger, head: &Digest) {
    // Best effort: the events are stored whether or not this succeeds (a
    // full disk, say), and an older head here refuses nothing sound. A
    // PostgreSQL ledger has no directory, and no need: the server does not
    // recover a damaged file to a shorter log behind a clean commit.
    if let Some(dir) = ledger.store().dir() {
        let _ = write(dir, head);
    }
}

/// The checksum of a digest line.
fn checksum(line: &str) -> String {
    use sha2::{Digest as _, Sha256};
    let digest = Sha256::digest(format!("acknowledged-head v1\n{line}").as_bytes());
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

fn write(dir: &Path, head: &Digest) -> std::io::Result<()> {
    use std::io::Write;
    let temporary = dir.join(format!("{FILE}.tmp"));
    let mut file = std::fs::File::create(&temporary)?;
    let line = head.to_string();
    writeln!(file, "{line}\ncheck {}", checksum(&line))?;
    file.sync_all()?;
    std::fs::rename(&temporary, dir.join(FILE))
}

/// Refuses a ledger whose log ends before the acknowledged head, or holds
/// another record there (exit 3).
pub fn check(ledger: &Ledger) -> Result<(), Failure> {
    let Some(dir) = ledger.store().dir() else {
        return Ok(());
    };
    let path = dir.join(FILE);
    let text = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(damaged(&path, &format!("it cannot be read: {e}"))),
    };
    let acknowledged = parse(&text).map_err(|why| damaged(&path, why))?;
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

/// The digest a file holds, if it is whole.
fn parse(bytes: &[u8]) -> Result<Digest, &'static str> {
    let text = std::str::from_utf8(bytes).map_err(|_| "it is not text")?;
    let mut lines = text.lines();
    let line = lines.next().ok_or("it is empty")?;
    let digest = line
        .parse::<Digest>()
        .map_err(|_| "its first line is not a digest")?;
    match (lines.next(), lines.next()) {
        // Written by a program before the checksum.
        (None, _) => Ok(digest),
        (Some(check), None) if check.strip_prefix("check ") == Some(checksum(line).as_str()) => {
            Ok(digest)
        }
        _ => Err("its checksum does not match"),
    }
}

fn damaged(path: &Path, why: &str) -> Failure {
    Failure::new(
        Exit::Unusable,
        format!(
            "the acknowledged head {} is damaged: {why}",
            path.display()
        ),
    )
    .detail("it guards against a log that lost acknowledged events, so nothing is read or appended while it is damaged")
    .detail("move the file aside, then run `benefit-ledger verify --digest SEQ:HASH` with the last head an append printed: if it passes, the log holds everything acknowledged, and the next append writes the file again")
}
