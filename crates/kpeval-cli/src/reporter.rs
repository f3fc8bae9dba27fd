//! The CLI's [`Reporter`]: an indicatif progress bar on stderr (hidden with `-q` or when stderr
//! is not a terminal), and warnings and errors as `kpeval: warning: …` lines on stderr.
use indicatif::ProgressBar;
use kpeval::reporter::Reporter;

/// Progress on a bar, messages on stderr (printed above the bar).
pub struct CliReporter {
    bar: ProgressBar,
}

impl CliReporter {
    /// A reporter drawing on `bar`.
    pub fn new(bar: ProgressBar) -> Self {
        CliReporter { bar }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Reporter for CliReporter {
    fn start(&self, what: &str, total: Option<u64>) {
        self.bar.set_message(what.to_string());
        if let Some(t) = total {
            self.bar.set_length(t);
        }
    }
    fn advance(&self, n: u64) {
        self.bar.inc(n);
    }
    fn warning(&self, message: &str) {
        self.bar.suspend(|| eprintln!("kpeval: warning: {message}"));
    }
    fn error(&self, message: &str) {
        self.bar.suspend(|| eprintln!("kpeval: error: {message}"));
    }
}
