//! Progress on standard error: `indicatif` bars while seeding and catching the views up when
//! stderr is a terminal, and one line per stage either way (so a log shows where the time
//! went); nothing at all when progress is off (tests).

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// Where progress goes.
#[derive(Debug, Clone)]
pub struct Progress {
    /// Bars and notes on a terminal.
    terminal: Option<MultiProgress>,
    /// Notes on stderr when it is not a terminal.
    notes: bool,
}

impl Progress {
    /// Progress on stderr when `enabled`: bars only if it is a terminal.
    pub fn new(enabled: bool) -> Self {
        let terminal = (enabled && std::io::stderr().is_terminal())
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Self {
            terminal,
            notes: enabled,
        }
    }

    /// A bar of `len` steps labelled `what` (hidden unless on a terminal).
    pub fn bar(&self, len: u64, what: &str) -> ProgressBar {
        let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
        if let Ok(style) =
            ProgressStyle::with_template("{msg:>16} [{bar:40}] {pos}/{len} {per_sec} eta {eta}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(what.to_owned());
        match &self.terminal {
            Some(multi) => multi.add(bar),
            None => bar,
        }
    }

    /// One line about a stage.
    pub fn note(&self, line: &str) {
        match &self.terminal {
            Some(multi) => {
                let _ = multi.println(line);
            }
            None if self.notes => eprintln!("{line}"),
            None => {}
        }
    }
}
