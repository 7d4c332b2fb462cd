//! Live progress for `swarmd run` and `swarmctl status --watch`: on a
//! terminal a bar (indicatif) stays at the bottom while lines scroll above
//! it; into a pipe or a file there is no bar and no escape code, only the
//! plain lines.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Tasks done out of a total, drawn as a bar on a terminal.
pub struct Progress {
    bar: Option<ProgressBar>,
}

/// Task counts the bar shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Succeeded or skipped.
    pub done: u64,
    /// Every task.
    pub total: u64,
    /// Running now.
    pub running: u64,
    /// Failed (retries spent).
    pub failed: u64,
}

impl Progress {
    /// A bar when stdout is a terminal, else nothing but lines.
    pub fn new() -> Progress {
        Self::with(std::io::stdout().is_terminal())
    }

    /// A bar when `terminal`.
    pub fn with(terminal: bool) -> Progress {
        if !terminal {
            return Progress { bar: None };
        }
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stdout());
        let style = ProgressStyle::with_template(
            "{bar:40.green/white} {pos}/{len} tasks done · {msg} · {elapsed}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("█▉▊▋▌▍▎▏ ");
        bar.set_style(style);
        Progress { bar: Some(bar) }
    }

    /// Whether a bar is drawn.
    pub fn is_bar(&self) -> bool {
        self.bar.is_some()
    }

    /// Prints a line (above the bar, if there is one).
    pub fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => println!("{text}"),
        }
    }

    /// Runs `draw` with the bar out of the way (it may clear the screen
    /// and print a page), then draws the bar again beneath.
    pub fn page(&self, draw: impl FnOnce()) {
        match &self.bar {
            Some(bar) => bar.suspend(draw),
            None => draw(),
        }
    }

    /// Moves the bar.
    pub fn show(&self, t: Tally) {
        if let Some(bar) = &self.bar {
            bar.set_length(t.total);
            bar.set_position(t.done);
            bar.set_message(format!("{} running · {} failed", t.running, t.failed));
        }
    }

    /// Removes the bar before the final summary.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Default for Progress {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_a_terminal_there_is_no_bar() {
        let p = Progress::with(false);
        assert!(!p.is_bar());
        p.show(Tally {
            done: 1,
            total: 2,
            ..Tally::default()
        });
        let mut ran = false;
        p.page(|| ran = true);
        assert!(ran);
    }
}
