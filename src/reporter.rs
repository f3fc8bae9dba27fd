//! How the library tells its caller what is happening: progress, warnings, and inputs that
//! produce no record. The library never prints; the CLI's progress bar and stderr messages are
//! one [`Reporter`], [`Silent`] ignores everything, and a Python caller can forward them to tqdm.
/// Receives progress and messages from a run. Every method has a do-nothing default.
pub trait Reporter: Sync {
    /// A stage starts: `what` names it (`run`, `dataset / system`); `total` is the number of
    /// inputs when it is known.
    fn start(&self, what: &str, total: Option<u64>) {
        let _ = (what, total);
    }
    /// `n` more inputs are done (written, skipped or failed).
    fn advance(&self, n: u64) {
        let _ = n;
    }
    /// Something the caller should know that does not stop the run.
    fn warning(&self, message: &str) {
        let _ = message;
    }
    /// An input that is not processed and so has no record, with the reason (the run goes on).
    fn error(&self, message: &str) {
        let _ = message;
    }
}

/// A reporter that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Reporter for Silent {}

/// Collects warnings and errors in memory (tests, notebooks).
#[derive(Debug, Default)]
pub struct Collect {
    /// Warnings, in order.
    pub warnings: std::sync::Mutex<Vec<String>>,
    /// Errors, in order.
    pub errors: std::sync::Mutex<Vec<String>>,
}

impl Reporter for Collect {
    fn warning(&self, message: &str) {
        self.warnings.lock().unwrap_or_else(|e| e.into_inner()).push(message.to_string());
    }
    fn error(&self, message: &str) {
        self.errors.lock().unwrap_or_else(|e| e.into_inner()).push(message.to_string());
    }
}
