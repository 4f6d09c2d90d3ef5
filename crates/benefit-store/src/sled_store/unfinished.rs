//! sled 0.34 writes a snapshot to `snap.LSN.generating` and renames it to
//! `snap.LSN` when it is whole. A process killed in between leaves the
//! partial file behind, and sled's next open takes it for the newest
//! snapshot (its file filter skips only `.in___motion`), finds it corrupt
//! and refuses to open the ledger ever again, although its log is intact.
//! Found by the CLI's crash test (SIGKILL during an import): removing the
//! partial file let sled recover every event.
//!
//! So before sled opens a ledger, unfinished snapshots are removed — only
//! while this process holds the lock sled itself takes (an exclusive
//! `flock` on `db`), so that no other process is writing one.

use std::fs;
use std::path::Path;

use crate::StoreError;

use super::layout::SLED_DATA_FILE;

/// The suffix of a snapshot sled has not finished writing.
const UNFINISHED_SNAPSHOT_SUFFIX: &str = ".generating";

/// Removes `snap.*.generating` from `dir` when no process has the ledger
/// open; does nothing when one does (sled's open then reports it in use).
/// Returns how many files were removed.
pub(super) fn remove_unfinished_snapshots(dir: &Path) -> Result<usize, StoreError> {
    let io = |action, source| StoreError::Io {
        action,
        path: dir.to_path_buf(),
        source,
    };
    let Ok(db) = fs::File::open(dir.join(SLED_DATA_FILE)) else {
        return Ok(0);
    };
    if !lock(&db) {
        return Ok(0);
    }
    let mut removed = 0;
    let entries = fs::read_dir(dir).map_err(|e| io("reading the ledger directory", e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io("reading the ledger directory", e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(UNFINISHED_SNAPSHOT_SUFFIX) {
            fs::remove_file(entry.path())
                .map_err(|e| io("removing an unfinished sled snapshot in", e))?;
            removed += 1;
        }
    }
    // Closing `db` releases the lock, right before sled takes it.
    Ok(removed)
}

/// Takes sled's lock without waiting; false when another process holds it.
#[cfg(unix)]
fn lock(db: &fs::File) -> bool {
    rustix::fs::flock(db, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_ok()
}

/// Elsewhere the lock cannot be taken this way: leave the files alone.
#[cfg(not(unix))]
fn lock(_db: &fs::File) -> bool {
    false
}
