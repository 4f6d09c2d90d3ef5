//! How far a long walk of the log has got, told to whoever shows it.
//!
//! A walk (verify, a rebuild's fold, an export) reports the sequence it has
//! reached to a plain callback, `&mut dyn FnMut(u64)`: the libraries only
//! count, and the binary alone decides whether and how to draw. A
//! [`Reporter`] calls it every [`PROGRESS_EVERY`] events and once at the
//! end, never on every event, so that a replay does not pay for it.

/// How many events a walk goes between two reports.
pub const PROGRESS_EVERY: u64 = 1024;

/// Tells a progress callback the sequences a walk reaches: every
/// [`PROGRESS_EVERY`]-th and, by [`Reporter::finish`], the last, each once
/// and in increasing order.
pub struct Reporter<'p> {
    progress: &'p mut dyn FnMut(u64),
    told: u64,
}

impl<'p> Reporter<'p> {
    /// A reporter to `progress`, which nothing has been told yet.
    pub fn new(progress: &'p mut dyn FnMut(u64)) -> Self {
        Self { progress, told: 0 }
    }

    /// The walk has reached `seq`: told when it is a multiple of
    /// [`PROGRESS_EVERY`].
    pub fn reached(&mut self, seq: u64) {
        if seq % PROGRESS_EVERY == 0 && seq > self.told {
            self.told = seq;
            (self.progress)(seq);
        }
    }

    /// The walk ended at `seq`: told unless it was told already (or is 0,
    /// the empty log).
    pub fn finish(mut self, seq: u64) {
        if seq > self.told {
            self.told = seq;
            (self.progress)(seq);
        }
    }
}

impl std::fmt::Debug for Reporter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reporter")
            .field("told", &self.told)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_walk_is_told_every_so_often_and_at_its_end_once() {
        let mut told = Vec::new();
        let mut record = |seq| told.push(seq);
        let mut reporter = Reporter::new(&mut record);
        for seq in 1..=2 * PROGRESS_EVERY + 3 {
            reporter.reached(seq);
        }
        reporter.finish(2 * PROGRESS_EVERY + 3);
        assert_eq!(
            told,
            [PROGRESS_EVERY, 2 * PROGRESS_EVERY, 2 * PROGRESS_EVERY + 3]
        );
    }

    #[test]
    fn an_end_on_a_report_and_an_empty_log_are_not_told_twice() {
        let mut told = Vec::new();
        let mut record = |seq| told.push(seq);
        let mut reporter = Reporter::new(&mut record);
        for seq in 1..=PROGRESS_EVERY {
            reporter.reached(seq);
        }
        reporter.finish(PROGRESS_EVERY);
        Reporter::new(&mut record).finish(0);
        assert_eq!(told, [PROGRESS_EVERY]);
    }
}
