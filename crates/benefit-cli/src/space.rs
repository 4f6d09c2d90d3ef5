//! Free space on the ledger's file system, checked before sled opens it.
//!
//! sled 0.34 can leave its files unreadable when the disk fills up while
//! it writes (found by the reliability suite: an open or a flush that fails
//! with "no space left on device" sometimes leaves a `db` file that no
//! later open reads, losing every acknowledged event). So every command
//! that writes (`append`, `rebuild`) refuses a ledger whose file
//! system has less room than [`LEDGER_FREE_BYTES_MIN`], and an append wants
//! [`APPEND_BYTES_PER_EVENT`] more for each event it brings. This narrows
//! the window; a disk filled by another program during an append can still
//! reach sled. Reads are not refused (issue 13): they answer wherever sled
//! can open the ledger (it writes a little when it opens; with no space at
//! all the open fails, "No space left on device").

use std::path::Path;

use crate::failure::{Exit, Failure};

/// The least free space on the ledger's file system for any command:
/// sled's segment (512 KiB) and snapshot with a wide margin.
pub const LEDGER_FREE_BYTES_MIN: u64 = 8 * 1024 * 1024;
/// The free space an append wants for each event it stores: the record,
/// its index entries and the projections' documents, with sled's write
/// amplification (about 2 KiB an event, measured).
pub const APPEND_BYTES_PER_EVENT: u64 = 4 * 1024;

/// Refuses (exit 3) when the file system that holds, or will hold,
/// `ledger` has fewer bytes free than a command storing `events` events
/// needs.
pub fn check(ledger: &Path, events: usize) -> Result<(), Failure> {
    let needed =
        LEDGER_FREE_BYTES_MIN.saturating_add(APPEND_BYTES_PER_EVENT.saturating_mul(events as u64));
    let Some(free) = free_bytes(ledger) else {
        return Ok(());
    };
    if free >= needed {
        return Ok(());
    }
    Err(Failure::new(
        Exit::Unusable,
        format!(
            "ledger unusable: the disk holding {} has {free} bytes free, fewer than the {needed} this command needs; nothing was read or written",
            ledger.display()
        ),
    )
    .detail("free some space, then try again (a full disk can damage the ledger's files)"))
}

/// The bytes free for this user on the file system of `path`, or of its
/// nearest existing ancestor; none where that cannot be told.
#[cfg(unix)]
fn free_bytes(path: &Path) -> Option<u64> {
    let existing = path.ancestors().find(|p| p.exists())?;
    let existing = if existing.as_os_str().is_empty() {
        Path::new(".")
    } else {
        existing
    };
    let stat = rustix::fs::statvfs(existing).ok()?;
    Some(stat.f_bavail.saturating_mul(stat.f_frsize))
}

#[cfg(not(unix))]
fn free_bytes(_path: &Path) -> Option<u64> {
    None
}
