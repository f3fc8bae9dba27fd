//! The one error type of kpeval, and the per-record error that a batch writes instead of scores.
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// A `Result` whose error defaults to kpeval's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in kpeval. Variants name the file, line or record involved.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Input that cannot be used at all (no inputs given, a `--resume` file kpeval did not write,
    /// merge inputs that disagree); the message names the file and line.
    #[error("{0}")]
    Input(String),
    /// A flag, preset or setting that is out of range or inconsistent.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A model could not be found, loaded or run.
    #[error("model error: {0}")]
    Model(String),
    /// A per-record failure that stops the whole run where it cannot be written as a record.
    #[error("{0}")]
    Record(#[from] RecordError),
    /// JSON that could not be parsed or written.
    #[error("{context}: {source}")]
    Json {
        /// What was being parsed or written: a file, a record, the aggregate or the comparison.
        context: String,
        /// The underlying serde_json error.
        #[source]
        source: serde_json::Error,
    },
}

impl Error {
    /// An [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
    /// An [`Error::Config`] with this message.
    pub fn config(msg: impl Into<String>) -> Self {
        Error::Config(msg.into())
    }
    /// An [`Error::Input`] with this message.
    pub fn input(msg: impl Into<String>) -> Self {
        Error::Input(msg.into())
    }
    /// An [`Error::Model`] with this message.
    pub fn model(msg: impl Into<String>) -> Self {
        Error::Model(msg.into())
    }
}

/// Why one record failed. It is written into that record's `error` field; the batch goes on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct RecordError {
    /// Machine-readable kind: `read`, `utf8`, `json`, `too_large`, `empty_article`,
    /// `no_key_points`, `field`, `summarize`, `score`.
    pub kind: String,
    /// Human-readable reason naming the file, line or record.
    pub message: String,
}

impl RecordError {
    /// A record error of `kind` (one of those listed on [`RecordError::kind`]) with a reason.
    pub fn new(kind: &str, message: impl Into<String>) -> Self {
        RecordError { kind: kind.to_string(), message: message.into() }
    }
}
