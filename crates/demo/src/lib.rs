//! # demo: a living warehouse in under a minute
//!
//! [`run`] loads a realistic, seeded scenario into a running command API (`services/api`)
//! over plain HTTP, one request per domain command, exactly as a client would: members
//! registered (one left unverified, one on Auto Pack, one told in Japanese), verified and
//! topped up; a few dozen
//! parcels received, some unidentified (one attached later, one returned to its sender), one
//! cash-on-delivery parcel refused at the door, some inspected with findings, two prohibited
//! (quarantined, one of them disposed of), the rest declared and stored; shipments
//! consolidated, packed, quoted, paid, shipped and delivered, one cancelled, one held in
//! customs, a claim filed, answered, approved and paid out, another left unanswered; and one member who withdraws (their
//! stored parcels are disposed of). The dashboard and the views then have something to show.
//!
//! ```no_run
//! # async fn demo() -> Result<(), demo::DemoError> {
//! let options = demo::DemoOptions::new("http://127.0.0.1:8080", "admin-secret", 42);
//! let report = demo::run(options, demo::Bar::new()).await?;
//! println!("{report}");
//! # Ok(()) }
//! ```
//!
//! The token must be an **admin** token (`role = "admin"` in the token file): admins may call
//! every endpoint, so the demo acts as operations, the warehouse, finance and the members.
//! [`Bar`] draws an `indicatif` progress bar on stderr; [`Silent`] draws nothing (tests).
//!
//! *Idempotent reruns*: every command carries an `Idempotency-Key` derived from the seed and
//! the step (`demo-<seed>-<step>`), and the scenario's requests depend only on the seed and on
//! the answers of earlier steps. A rerun with the same seed against the same server therefore
//! sends the same requests under the same keys, gets the first answers back and appends
//! nothing. The dates in the bodies are the server's date of the first registration (read from
//! its answer), so this holds on later days too. A different seed loads a second, separate
//! scenario. [`DemoReport::events`] counts the events the answers list, which a replay repeats:
//! compare the event store, not two reports, to see that nothing was appended.
//!
//! *Time*: the API stamps every command with its own clock and accepts no past `at`, so the
//! whole scenario happens "today". States that need time to pass (a parcel past its storage
//! limit marked disposable, a shipment held unpaid after its due date, an expected purchase
//! cancelled after 45 days, a withdrawing member refunded and closed months later) cannot be
//! reached today and are not planned. Parcels are received
//! only on the policy's receiving days (TIM-2): run the demo on a business day.
//!
//! Map: `client.rs` is the hyper client, `scenario.rs` the story, `rng.rs` the seeded PRNG.

mod client;
mod rng;
mod scenario;

pub use client::{Answer, Client};
pub use scenario::Planned;

use indicatif::{ProgressBar, ProgressStyle};
use std::collections::BTreeMap;
use std::fmt;

/// How many members and parcels the scenario has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DemoSize {
    /// Members, at least [`DemoSize::MIN_MEMBERS`].
    pub members: usize,
    /// Parcels (an expected purchase counts), at least [`DemoSize::MIN_PARCELS`].
    pub parcels: usize,
}

impl DemoSize {
    /// Every planned role needs one member.
    pub const MIN_MEMBERS: usize = 5;
    /// Every planned fate needs its parcels.
    pub const MIN_PARCELS: usize = scenario::SPECIAL_PARCELS;
}

impl Default for DemoSize {
    fn default() -> Self {
        Self {
            members: 5,
            parcels: 40,
        }
    }
}

/// Where and how to load the scenario.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// The API, `http://host:port`.
    pub base_url: String,
    /// An admin bearer token's secret.
    pub admin_token: String,
    /// The seed: the same seed is the same scenario (and a rerun appends nothing).
    pub seed: u64,
    /// Members and parcels.
    pub size: DemoSize,
    /// Days to play after the first one on a server whose clock is simulated (`parcelport
    /// serve --simulated-clock`): the clock is advanced a day at a time (the scheduler doing
    /// its part), parcels arrive every business day, some are shipped and some quotes are
    /// left unpaid. 0 plays the first day only, on any server.
    pub days: u32,
}

impl DemoOptions {
    /// The default size.
    pub fn new(base_url: impl Into<String>, admin_token: impl Into<String>, seed: u64) -> Self {
        Self {
            base_url: base_url.into(),
            admin_token: admin_token.into(),
            seed,
            size: DemoSize::default(),
            days: 0,
        }
    }
}

/// Why the demo stopped.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The size is below the minimum.
    #[error("the demo needs at least {min_members} members and {min_parcels} parcels")]
    TooSmall {
        /// [`DemoSize::MIN_MEMBERS`].
        min_members: usize,
        /// [`DemoSize::MIN_PARCELS`].
        min_parcels: usize,
    },
    /// The base URL is not `http://host:port`.
    #[error("base URL {url}: {reason}")]
    BaseUrl {
        /// The URL given.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// `days` on a server whose clock is real: only a simulated clock can be advanced.
    #[error(
        "playing days needs a server on a simulated clock \
         (parcelport serve --simulated-clock 2026-04-01)"
    )]
    RealClock,
    /// The token cannot be a header value.
    #[error("the token is not a valid header value")]
    Token,
    /// The server cannot be reached.
    #[error("cannot connect to {address}: {source}")]
    Connect {
        /// `host:port`.
        address: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The connection failed.
    #[error("HTTP: {0}")]
    Http(#[from] hyper::Error),
    /// A request could not be built.
    #[error("request: {0}")]
    Request(hyper::http::Error),
    /// The API refused a step: the scenario cannot go on.
    #[error("step {step} ({what}): {method} {path} answered {status}: {body}")]
    Refused {
        /// The step, from 1.
        step: u64,
        /// What the step does.
        what: String,
        /// `POST` or `GET`.
        method: String,
        /// The path.
        path: String,
        /// The status.
        status: u16,
        /// The answer (a problem+json).
        body: serde_json::Value,
    },
    /// An answer lacked something the scenario needs.
    #[error("step {step}: the answer has no {missing}: {body}")]
    Unexpected {
        /// The step.
        step: u64,
        /// What is missing.
        missing: &'static str,
        /// The answer.
        body: serde_json::Value,
    },
}

/// What the demo did and where everything ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoReport {
    /// Every request sent (commands and reads); all succeeded, or [`run`] fails.
    pub requests: u64,
    /// The commands among them.
    pub commands: u64,
    /// The events the commands' answers list (a replayed answer lists them again).
    pub events: u64,
    /// Members per final state (`active`, `withdrawing`).
    pub members: BTreeMap<String, usize>,
    /// Parcels per final state (`stored`, `packed`, `quarantined`, …).
    pub parcels: BTreeMap<String, usize>,
    /// Shipments per final state (`quoted`, `delivered`, …).
    pub shipments: BTreeMap<String, usize>,
}

impl DemoReport {
    /// The planned final states of members, parcels and shipments.
    pub const PLANNED: Planned = scenario::PLANNED;

    /// The planned states no aggregate ended in, as `kind:state`; empty when all were reached.
    pub fn missing(&self) -> Vec<String> {
        let mut missing = Vec::new();
        for (kind, states, reached) in [
            ("member", Self::PLANNED.members, &self.members),
            ("parcel", Self::PLANNED.parcels, &self.parcels),
            ("shipment", Self::PLANNED.shipments, &self.shipments),
        ] {
            missing.extend(
                states
                    .iter()
                    .filter(|state| !reached.contains_key(**state))
                    .map(|state| format!("{kind}:{state}")),
            );
        }
        missing
    }
}

impl fmt::Display for DemoReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} requests ({} commands), {} events",
            self.requests, self.commands, self.events
        )?;
        for (kind, states) in [
            ("members", &self.members),
            ("parcels", &self.parcels),
            ("shipments", &self.shipments),
        ] {
            let total: usize = states.values().sum();
            let by_state: Vec<String> = states.iter().map(|(s, n)| format!("{s} {n}")).collect();
            writeln!(f, "{total} {kind}: {}", by_state.join(", "))?;
        }
        Ok(())
    }
}

/// Told how the demo goes.
pub trait Progress {
    /// The demo starts and plans about `requests` requests.
    fn begin(&self, _requests: u64) {}
    /// One request succeeded; `what` says what it did.
    fn request(&self, _what: &str) {}
    /// The demo ended well.
    fn finish(&self, _report: &DemoReport) {}
}

/// No output at all.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {}

/// An `indicatif` progress bar on stderr.
#[derive(Debug, Clone)]
pub struct Bar(ProgressBar);

impl Bar {
    /// A bar, drawn when `begin` is called.
    pub fn new() -> Self {
        Self(ProgressBar::no_length())
    }

    /// The bar, to draw it elsewhere or hide it.
    pub fn bar(&self) -> &ProgressBar {
        &self.0
    }
}

impl Default for Bar {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress for Bar {
    fn begin(&self, requests: u64) {
        self.0.set_length(requests);
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} [{bar:40}] {pos}/{len} requests  {msg}")
        {
            self.0.set_style(style.progress_chars("=> "));
        }
    }

    fn request(&self, what: &str) {
        if self.0.position() + 1 > self.0.length().unwrap_or(0) {
            self.0.inc_length(1);
        }
        self.0.set_message(what.to_owned());
        self.0.inc(1);
    }

    fn finish(&self, report: &DemoReport) {
        self.0.set_length(report.requests);
        self.0
            .finish_with_message(format!("{} events", report.events));
    }
}

/// Loads the scenario of `options.seed` into the API at `options.base_url`, telling
/// `progress`; what it did, or the first step the API refused.
pub async fn run(options: DemoOptions, progress: impl Progress) -> Result<DemoReport, DemoError> {
    if options.size.members < DemoSize::MIN_MEMBERS || options.size.parcels < DemoSize::MIN_PARCELS
    {
        return Err(DemoError::TooSmall {
            min_members: DemoSize::MIN_MEMBERS,
            min_parcels: DemoSize::MIN_PARCELS,
        });
    }
    let client = client::Client::new(&options.base_url, &options.admin_token)?;
    let report =
        scenario::play(client, options.seed, options.size, options.days, &progress).await?;
    progress.finish(&report);
    Ok(report)
}
