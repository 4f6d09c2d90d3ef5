//! sled's flush, bounded in time: sled 0.34's flush can wait for ever when
//! the disk fails a write under it (a full disk: its I/O thread records the
//! error and the waiter is never woken; issue 13, `docs/storage.md`, *A
//! flush never hangs*). So every flush runs on a thread other than the
//! caller's, which waits at most [`super::FLUSH_STALL_LIMIT`]; past it the
//! answer is [`StoreError::Stalled`] and the flushing thread is left to the
//! process's exit.
//!
//! Two shapes: [`flush_within_limit`] starts a thread for one flush (an
//! upgrade's, a generation switch's, a scratch store's), and [`Flusher`]
//! keeps one thread for a database that every append flushes (the log's).
//! Starting a thread for each append cost about a tenth of a single
//! command (`docs/performance.md`, the twelfth round).

use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;

use super::FLUSH_STALL_LIMIT;
use crate::StoreError;

/// What a flush answers on its thread.
type Flushed = sled::Result<usize>;

/// The flushing thread's answer to `action`, waited for at most
/// [`FLUSH_STALL_LIMIT`].
fn wait_for(answer: &Receiver<Flushed>, action: &'static str) -> Result<(), StoreError> {
    match answer.recv_timeout(FLUSH_STALL_LIMIT) {
        Ok(flushed) => flushed
            .map(drop)
            .map_err(|e| StoreError::backend(action, e)),
        Err(_) => Err(StoreError::Stalled {
            action,
            after: FLUSH_STALL_LIMIT,
        }),
    }
}

fn spawn(name: &str, work: impl FnOnce() + Send + 'static) -> Result<JoinHandle<()>, StoreError> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(work)
        .map_err(|source| StoreError::backend("starting a flush", source))
}

/// sled's flush of `db` on a thread of its own, waited for at most
/// [`FLUSH_STALL_LIMIT`] (see the module's doc). `action` names the flush in
/// the error.
pub(in crate::sled_store) fn flush_within_limit(
    db: &sled::Db,
    action: &'static str,
) -> Result<(), StoreError> {
    let db = db.clone();
    let (sender, answer) = mpsc::channel();
    let thread = spawn("ledger-flush", move || {
        let _ = sender.send(db.flush());
    })?;
    let flushed = wait_for(&answer, action);
    if !matches!(flushed, Err(StoreError::Stalled { .. })) {
        // Its handle on the database is dropped before the caller's own, so
        // that a drop releases sled's file lock at once.
        let _ = thread.join();
    }
    flushed
}

/// One thread that flushes one database, for as long as the store holds
/// it: each [`Flusher::flush`] asks it and waits for its answer.
pub(in crate::sled_store) struct Flusher {
    /// Where a flush is asked for, with the channel its answer goes to;
    /// `None` once stopped.
    requests: Option<Sender<Sender<Flushed>>>,
    thread: Option<JoinHandle<()>>,
}

impl Flusher {
    /// Starts the thread that flushes `db`.
    pub(in crate::sled_store) fn start(db: sled::Db) -> Result<Self, StoreError> {
        let (requests, asked) = mpsc::channel::<Sender<Flushed>>();
        let thread = spawn("ledger-log-flush", move || {
            for answer in asked {
                let _ = answer.send(db.flush());
            }
        })?;
        Ok(Self {
            requests: Some(requests),
            thread: Some(thread),
        })
    }

    /// sled's flush of the database, on the flusher's thread, waited for at
    /// most [`FLUSH_STALL_LIMIT`]. `action` names it in an error.
    pub(in crate::sled_store) fn flush(&self, action: &'static str) -> Result<(), StoreError> {
        let (answer_to, answer) = mpsc::channel();
        let asked = self
            .requests
            .as_ref()
            .is_some_and(|requests| requests.send(answer_to).is_ok());
        if !asked {
            return Err(StoreError::backend(
                action,
                std::io::Error::other("the flushing thread has ended"),
            ));
        }
        wait_for(&answer, action)
    }

    /// Ends the thread and waits for it, so that its handle on the
    /// database is dropped before the caller's own (sled's file lock is
    /// released with the last one). A thread stalled in a flush (`stalled`)
    /// is not waited for: it is left to the process's exit.
    pub(in crate::sled_store) fn stop(&mut self, stalled: bool) {
        self.requests = None;
        if let Some(thread) = self.thread.take() {
            if !stalled {
                let _ = thread.join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database(dir: &std::path::Path) -> sled::Db {
        super::super::sled_config(dir).open().expect("sled opens")
    }

    #[test]
    fn the_flusher_answers_each_flush_and_refuses_once_stopped() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = database(dir.path());
        let mut flusher = Flusher::start(db.clone()).expect("flusher starts");
        for i in 0u8..3 {
            db.insert([i], &[i]).expect("inserted");
            flusher.flush("flushing to disk").expect("flushed");
        }
        flusher.stop(false);
        let refused = flusher.flush("flushing to disk");
        assert!(
            matches!(&refused, Err(StoreError::Backend { action, .. }) if *action == "flushing to disk"),
            "{refused:?}"
        );
    }

    #[test]
    fn a_stopped_flusher_lets_go_of_the_database() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = database(dir.path());
        let mut flusher = Flusher::start(db.clone()).expect("flusher starts");
        db.insert(b"k", b"v").expect("inserted");
        flusher.flush("flushing to disk").expect("flushed");
        flusher.stop(false);
        drop(db);
        // sled's file lock goes with the last handle: a reopen in the same
        // process would fail with the flusher's thread still holding one.
        let reopened = database(dir.path());
        assert_eq!(
            reopened.get(b"k").expect("read").as_deref(),
            Some(&b"v"[..])
        );
    }
}
