//! sled's flush, bounded in time: sled 0.34's flush can wait for ever when
//! the disk fails a write under it (a full disk: its I/O thread records the
//! error and the waiter is never woken; issue 13, `docs/storage.md`, *A
//! flush never hangs*). So every flush runs on a thread other than the
//! caller's, which waits for it in windows of [`super::FLUSH_STALL_LIMIT`].
//! A window that ends without an answer, in which the process did no work
//! (a hung flush leaves every thread waiting), is a stall: the answer is
//! [`StoreError::Stalled`] and the flushing thread is left to the
//! process's exit. A window in which sled worked is waited out again, up to
//! [`FLUSH_BUSY_LIMIT`]: at 10 000 000 events sled spent 11-14 s of CPU in
//! the documents' segment accountant at the first segment it filled after
//! an open, and the log's flush waited behind it (`docs/performance.md`,
//! *10 000 000 events*, the twelfth round).
//!
//! One mechanism, [`Flusher`]: a thread that flushes one database when
//! asked. The store keeps one for as long as it is open for the log, which
//! every append flushes; [`flush_within_limit`] starts one for a single
//! flush (an upgrade's, a generation switch's, a scratch store's).
//! Starting a thread for each append cost about a tenth of a single
//! command (`docs/performance.md`, the twelfth round).

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::FLUSH_STALL_LIMIT;
use crate::StoreError;

/// What a flush answers on its thread.
type Flushed = sled::Result<usize>;

/// The longest a flush is waited for while the process keeps working: past
/// it a flush is reported stalled even if sled is busy.
pub(super) const FLUSH_BUSY_LIMIT: Duration = Duration::from_secs(120);

/// The share of a window's time the process must have spent on the CPU
/// for the window to count as work, in per cent. A hung flush leaves the
/// process idle (0); sled's segment accountant, when it held a flush up,
/// kept a core busy (about 100).
const BUSY_PERCENT: u64 = 10;

/// How a flush is waited for: [`WAITING`] in the store, shorter in tests.
#[derive(Clone, Copy, Debug)]
struct Waiting {
    /// A window: waited for at most this long without work.
    window: Duration,
    /// Waited for at most this long in all.
    busy_limit: Duration,
}

const WAITING: Waiting = Waiting {
    window: FLUSH_STALL_LIMIT,
    busy_limit: FLUSH_BUSY_LIMIT,
};

/// The CPU time the whole process has used (every thread, user and
/// system), from `/proc/self/stat`; `None` where that cannot be read (not
/// Linux), and then every window without an answer is a stall.
fn process_cpu() -> Option<Duration> {
    // utime and stime are the 14th and 15th fields, counted after the
    // command's name, which is in parentheses and may hold spaces.
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    // Linux reports these in USER_HZ, 100 a second on every architecture.
    Some(Duration::from_millis((user + system) * 10))
}

/// Whether the process worked for at least [`BUSY_PERCENT`] of `window`
/// between two readings of [`process_cpu`].
fn worked(before: Option<Duration>, after: Option<Duration>, window: Duration) -> bool {
    match (before, after) {
        (Some(before), Some(after)) => {
            let used = after.saturating_sub(before);
            used.as_millis() * 100 >= window.as_millis() * u128::from(BUSY_PERCENT)
        }
        _ => false,
    }
}

/// The flushing thread's answer to `action`, waited for as the module's
/// doc says ([`WAITING`] in the store).
fn wait_with(
    answer: &Receiver<Flushed>,
    action: &'static str,
    waiting: Waiting,
) -> Result<(), StoreError> {
    let started = Instant::now();
    let mut cpu = process_cpu();
    loop {
        match answer.recv_timeout(waiting.window) {
            Ok(flushed) => {
                return flushed
                    .map(drop)
                    .map_err(|e| StoreError::backend(action, e))
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(StoreError::backend(
                    action,
                    std::io::Error::other("the flushing thread ended without an answer"),
                ))
            }
            Err(RecvTimeoutError::Timeout) => {
                let now = process_cpu();
                let waited = started.elapsed();
                if !worked(cpu, now, waiting.window) || waited >= waiting.busy_limit {
                    return Err(StoreError::Stalled {
                        action,
                        after: waited,
                    });
                }
                // The next window's work is counted from this reading.
                cpu = now;
            }
        }
    }
}

/// sled's flush of `db` on a thread of its own, started for this one flush
/// and waited for at most [`FLUSH_STALL_LIMIT`] of idleness (see the
/// module's doc). `action` names the flush in the error.
pub(in crate::sled_store) fn flush_within_limit(
    db: &sled::Db,
    action: &'static str,
) -> Result<(), StoreError> {
    let mut flusher = Flusher::start(db.clone())?;
    let flushed = flusher.flush(action);
    flusher.stop(matches!(flushed, Err(StoreError::Stalled { .. })));
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
        let thread = std::thread::Builder::new()
            .name("ledger-flush".into())
            .spawn(move || {
                for answer in asked {
                    let _ = answer.send(db.flush());
                }
            })
            .map_err(|source| StoreError::backend("starting a flush", source))?;
        Ok(Self {
            requests: Some(requests),
            thread: Some(thread),
        })
    }

    /// sled's flush of the database, on the flusher's thread, waited for at
    /// most [`FLUSH_STALL_LIMIT`] of idleness (see the module's doc).
    /// `action` names it in an error.
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
        wait_with(&answer, action, WAITING)
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

    /// Short windows, so that a test waits a fraction of a second.
    const QUICK: Waiting = Waiting {
        window: Duration::from_millis(200),
        busy_limit: Duration::from_secs(3),
    };

    /// A flush answered by a thread after `delay`; while it waits it
    /// computes (`busy`) or sleeps.
    fn answered_after(delay: Duration, busy: bool) -> Receiver<Flushed> {
        let (sender, answer) = mpsc::channel();
        std::thread::spawn(move || {
            let started = Instant::now();
            let mut spun = 0u64;
            while started.elapsed() < delay {
                if busy {
                    spun = std::hint::black_box(spun.wrapping_add(1));
                } else {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
            let _ = sender.send(Ok(0));
        });
        answer
    }

    #[test]
    fn a_flush_held_up_by_work_is_waited_for_past_its_window() {
        let answer = answered_after(QUICK.window * 4, true);
        let waited = wait_with(&answer, "flushing to disk", QUICK);
        assert!(waited.is_ok(), "{waited:?}");
    }

    #[test]
    fn a_flush_waited_for_in_an_idle_process_is_a_stall() {
        // The sleeper never answers within the test's wait: other tests of
        // this process may keep it busy for some windows, but never past
        // the busy limit.
        let answer = answered_after(QUICK.busy_limit * 3, false);
        let started = Instant::now();
        let waited = wait_with(&answer, "flushing to disk", QUICK);
        assert!(
            matches!(&waited, Err(StoreError::Stalled { action, after })
                if *action == "flushing to disk" && *after >= QUICK.window),
            "{waited:?}"
        );
        assert!(started.elapsed() < QUICK.busy_limit + QUICK.window * 2);
    }

    #[test]
    fn a_flushing_thread_that_ends_without_an_answer_is_an_error_not_a_stall() {
        let (sender, answer) = mpsc::channel::<Flushed>();
        drop(sender);
        let waited = wait_with(&answer, "flushing to disk", QUICK);
        assert!(
            matches!(&waited, Err(StoreError::Backend { action, .. }) if *action == "flushing to disk"),
            "{waited:?}"
        );
    }

    #[test]
    fn the_process_cpu_time_grows_with_work() {
        let before = process_cpu().expect("/proc/self/stat is read on Linux");
        let started = Instant::now();
        let mut spun = 0u64;
        while started.elapsed() < Duration::from_millis(300) {
            spun = std::hint::black_box(spun.wrapping_add(1));
        }
        let after = process_cpu().expect("read again");
        assert!(
            after >= before + Duration::from_millis(200),
            "{before:?} -> {after:?}"
        );
        assert!(worked(
            Some(before),
            Some(after),
            Duration::from_millis(300)
        ));
        assert!(!worked(
            Some(before),
            Some(before),
            Duration::from_millis(300)
        ));
        assert!(!worked(None, Some(after), Duration::from_millis(300)));
    }
}
