//! [`Health`] logs a dependency's failures once per state change, and [`Backoff`] paces the
//! retries meanwhile.

use std::fmt::Display;
use std::time::Duration;
use tokio::time::Instant;

/// Whether a dependency (NATS, the event store) works, remembered so that an outage is logged
/// when it starts and when it ends, not at every retry.
#[derive(Debug)]
pub(crate) struct Health {
    dependency: &'static str,
    failing: Option<(Instant, u64)>,
}

impl Health {
    pub fn new(dependency: &'static str) -> Self {
        Self {
            dependency,
            failing: None,
        }
    }

    pub fn failed(&mut self, error: &dyn Display) {
        match &mut self.failing {
            Some((_, failures)) => *failures += 1,
            None => {
                tracing::warn!(
                    dependency = self.dependency,
                    %error,
                    "relay: {} is failing; retrying, the checkpoint stays put",
                    self.dependency
                );
                self.failing = Some((Instant::now(), 1));
            }
        }
    }

    pub fn ok(&mut self) {
        if let Some((since, failures)) = self.failing.take() {
            tracing::info!(
                dependency = self.dependency,
                outage_ms = since.elapsed().as_millis() as u64,
                failures,
                "relay: {} works again",
                self.dependency
            );
        }
    }
}

/// Exponential pauses from `min`, doubling up to `max`.
#[derive(Debug)]
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Self {
        Self {
            min,
            max,
            next: min,
        }
    }

    pub fn next(&mut self) -> Duration {
        let pause = self.next;
        self.next = (self.next * 2).min(self.max);
        pause
    }

    pub fn reset(&mut self) {
        self.next = self.min;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_maximum_and_resets() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(350));
        let pauses: Vec<u64> = (0..4).map(|_| backoff.next().as_millis() as u64).collect();
        assert_eq!(pauses, [100, 200, 350, 350]);
        backoff.reset();
        assert_eq!(backoff.next(), Duration::from_millis(100));
    }
}
