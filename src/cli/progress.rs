//! A line of progress on standard error, for subcommands that follow something as it happens.

use std::io::{IsTerminal, Write};

/// A line of progress on standard error: rewritten in place on a terminal, printed when it changes
/// otherwise.
#[derive(Debug, Default)]
pub struct ProgressLine {
    /// The last line shown.
    last: String,
    /// Whether standard error is a terminal.
    terminal: bool,
    /// Whether a line is on the screen without its newline.
    open: bool,
}

impl ProgressLine {
    /// A progress line for this process's standard error.
    pub fn new() -> Self {
        Self {
            terminal: std::io::stderr().is_terminal(),
            ..Self::default()
        }
    }

    /// Shows `line`; `changed` is what counts as news (the part without a ticking clock).
    pub fn show(&mut self, line: &str, changed: &str) {
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let _ = write!(err, "\r\x1b[2K{line}");
            let _ = err.flush();
            self.open = true;
        } else if changed != self.last {
            let _ = writeln!(err, "{line}");
        }
        self.last = changed.to_owned();
    }

    /// Ends the line in place, so what follows starts on a fresh one.
    pub fn finish(&mut self) {
        if self.open {
            let _ = writeln!(std::io::stderr());
            self.open = false;
        }
    }
}
