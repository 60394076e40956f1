//! `Counter`, the tiny aggregate the tests drive through postgres-es.

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Counter {
    pub total: u64,
}

#[derive(Debug)]
pub enum CounterCommand {
    Add {
        by: u64,
    },
    /// Refused unless the total is `expected`: lets a test check the state postgres-es loaded.
    Check {
        expected: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CounterEvent {
    Added { by: u64 },
}

impl DomainEvent for CounterEvent {
    fn event_type(&self) -> String {
        "Added".to_owned()
    }
    fn event_version(&self) -> String {
        "1".to_owned()
    }
}

#[derive(Debug, PartialEq, thiserror::Error)]
pub enum CounterError {
    #[error("nothing to add")]
    NothingToAdd,
    #[error("the total is {actual}, not {expected}")]
    WrongTotal { actual: u64, expected: u64 },
}

impl Aggregate for Counter {
    const TYPE: &'static str = "Counter";
    type Command = CounterCommand;
    type Event = CounterEvent;
    type Error = CounterError;
    type Services = ();

    async fn handle(
        &mut self,
        command: CounterCommand,
        _services: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), CounterError> {
        match command {
            CounterCommand::Add { by: 0 } => Err(CounterError::NothingToAdd),
            CounterCommand::Add { by } => {
                sink.write(CounterEvent::Added { by }, self).await;
                Ok(())
            }
            CounterCommand::Check { expected } if expected == self.total => Ok(()),
            CounterCommand::Check { expected } => Err(CounterError::WrongTotal {
                actual: self.total,
                expected,
            }),
        }
    }

    fn apply(&mut self, event: CounterEvent) {
        match event {
            CounterEvent::Added { by } => self.total += by,
        }
    }
}
