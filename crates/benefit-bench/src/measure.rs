//! Measuring: latencies and their percentiles, a process's peak resident
//! memory, and the size of a directory on disk. Small enough to write out
//! rather than take a dependency for.

use std::fs;
use std::path::Path;
use std::time::Duration;

use crate::BenchResult;

/// Latencies in milliseconds, sorted, for percentiles.
#[derive(Clone, Debug)]
pub struct Latencies(Vec<f64>);

impl Latencies {
    /// Collects and sorts the samples.
    pub fn new(samples: impl IntoIterator<Item = Duration>) -> Self {
        let mut ms: Vec<f64> = samples.into_iter().map(|d| d.as_secs_f64() * 1e3).collect();
        ms.sort_by(f64::total_cmp);
        Self(ms)
    }

    /// The `p`th percentile (0..=100), nearest rank; 0 for no samples.
    pub fn percentile(&self, p: f64) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        let rank = ((p / 100.0) * self.0.len() as f64).ceil() as usize;
        self.0[rank.clamp(1, self.0.len()) - 1]
    }

    /// How many samples.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The median.
    pub fn median(&self) -> f64 {
        self.percentile(50.0)
    }
}

/// Says one figure on stderr as soon as it is measured, so that a run
/// stopped before its table (a 10 000 000-event run out of time) still
/// leaves what it measured. The engine's name is on the line before.
pub fn announce(figure: &str, value: impl std::fmt::Display) {
    eprintln!("  {figure}: {value}");
}

/// Events per second.
pub fn rate(events: u64, elapsed: Duration) -> f64 {
    events as f64 / elapsed.as_secs_f64().max(1e-9)
}

/// This process's peak resident set (`VmHWM` in `/proc/self/status`), in
/// KiB; `None` where the kernel does not say (not Linux).
pub fn peak_rss_kib() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The total size of the regular files under `path`, recursively.
pub fn dir_bytes(path: &Path) -> BenchResult<u64> {
    let mut total = 0;
    for entry in fs::read_dir(path)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            total += dir_bytes(&entry.path())?;
        } else if kind.is_file() {
            total += entry.metadata()?.len();
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let l = Latencies::new((1..=100).map(Duration::from_millis));
        assert_eq!(l.median(), 50.0);
        assert_eq!(l.percentile(99.0), 99.0);
        assert_eq!(l.percentile(100.0), 100.0);
        assert_eq!(Latencies::new([]).median(), 0.0);
    }
}
