//! Latency samples and their summary: count, p50, p99 and max, by nearest rank.

use std::time::Duration;

/// The summary of one set of latency samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Summary {
    /// How many samples.
    pub count: usize,
    /// The median.
    pub p50: Duration,
    /// The 99th percentile.
    pub p99: Duration,
    /// The largest.
    pub max: Duration,
}

impl Summary {
    /// The summary of `samples` (sorted in place); all zero when there are none.
    pub fn of(samples: &mut [Duration]) -> Summary {
        samples.sort_unstable();
        Summary {
            count: samples.len(),
            p50: percentile(samples, 50),
            p99: percentile(samples, 99),
            max: samples.last().copied().unwrap_or_default(),
        }
    }
}

/// The nearest-rank `p`th percentile of `sorted`: the smallest sample at or above `p`% of them.
fn percentile(sorted: &[Duration], p: usize) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (sorted.len() * p).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

/// Milliseconds, for tables.
pub fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn nearest_rank_percentiles_of_a_hundred_samples() {
        let mut samples: Vec<Duration> = (1..=100).rev().map(ms).collect();
        let summary = Summary::of(&mut samples);
        assert_eq!(summary.count, 100);
        assert_eq!(summary.p50, ms(50));
        assert_eq!(summary.p99, ms(99));
        assert_eq!(summary.max, ms(100));
    }

    #[test]
    fn few_samples_take_the_largest_for_p99_and_none_give_zero() {
        let mut samples = vec![ms(3), ms(1), ms(2)];
        let summary = Summary::of(&mut samples);
        assert_eq!(
            (summary.p50, summary.p99, summary.max),
            (ms(2), ms(3), ms(3))
        );
        assert_eq!(Summary::of(&mut []), Summary::default());
    }
}
