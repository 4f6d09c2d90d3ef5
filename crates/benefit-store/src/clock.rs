//! Where the store's recorded-at timestamps come from.
//!
//! The store, not the caller, stamps each event with the time it was recorded
//! (R1), and reads that time from a [`Clock`] passed in at open, so that tests
//! and fixtures control time and the rest of the ledger reads no clock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// The current instant, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for Box<C> {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
}

/// The operating system's clock: what a real ledger uses.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that is always at one instant.
#[derive(Clone, Copy, Debug)]
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// A clock that starts at an instant and moves on by a fixed step each time
/// it is read: deterministic and strictly increasing, for tests and fixtures.
#[derive(Debug)]
pub struct SteppingClock {
    start: DateTime<Utc>,
    step: TimeDelta,
    reads: AtomicU64,
}

impl SteppingClock {
    /// A clock whose first reading is `start`, the next `start + step`, ...
    pub fn new(start: DateTime<Utc>, step: TimeDelta) -> Self {
        Self {
            start,
            step,
            reads: AtomicU64::new(0),
        }
    }
}

impl Clock for SteppingClock {
    fn now(&self) -> DateTime<Utc> {
        let reads = self.reads.fetch_add(1, Ordering::Relaxed);
        let steps = i32::try_from(reads).unwrap_or(i32::MAX);
        self.start + self.step * steps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stepping_clock_moves_by_its_step_on_every_read() {
        let start = DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default();
        let clock = SteppingClock::new(start, TimeDelta::seconds(10));
        assert_eq!(clock.now(), start);
        assert_eq!(clock.now(), start + TimeDelta::seconds(10));
        assert_eq!(clock.now(), start + TimeDelta::seconds(20));
    }
}
