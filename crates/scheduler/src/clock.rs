//! [`BusinessClock`]: the one clock every component of a server reads, real or simulated.
//!
//! A simulated clock stands still until an operator moves it on (`POST /v1/clock/advance`);
//! the engine stamps commands with it, the query API computes "today" from it and the
//! scheduler fires what falls due by it. A real clock cannot be moved.

use chrono::{DateTime, Utc};
use engine::{Clock, SystemClock, TestClock};

/// The server's clock.
#[derive(Debug, Clone)]
pub enum BusinessClock {
    /// The system's clock.
    Real,
    /// A clock that moves only when told to; clones share the time.
    Simulated(TestClock),
}

/// Why the clock cannot be moved as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    /// The clock is the system's.
    #[error("the clock is real: only a server started with --simulated-clock can be moved")]
    Real,
    /// Simulated time only moves forward.
    #[error("simulated time only moves forward: {to} is before {now}")]
    Backwards {
        /// The clock's time.
        now: DateTime<Utc>,
        /// The time asked for.
        to: DateTime<Utc>,
    },
}

impl BusinessClock {
    /// A simulated clock showing `start`.
    pub fn simulated(start: DateTime<Utc>) -> Self {
        BusinessClock::Simulated(TestClock::at(start))
    }

    /// Whether the clock is simulated.
    pub fn is_simulated(&self) -> bool {
        matches!(self, BusinessClock::Simulated(_))
    }

    /// Moves a simulated clock to `to`.
    pub fn set(&self, to: DateTime<Utc>) -> Result<(), ClockError> {
        match self {
            BusinessClock::Real => Err(ClockError::Real),
            BusinessClock::Simulated(clock) => {
                let now = clock.now();
                if to < now {
                    return Err(ClockError::Backwards { now, to });
                }
                clock.set(to);
                Ok(())
            }
        }
    }
}

impl Clock for BusinessClock {
    fn now(&self) -> DateTime<Utc> {
        match self {
            BusinessClock::Real => SystemClock.now(),
            BusinessClock::Simulated(clock) => clock.now(),
        }
    }
}
