//! The one error type of kpeval, and the per-record error that a batch writes instead of scores.
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in kpeval. Variants name the file, line or record involved.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Input(String),
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("model error: {0}")]
    Model(String),
    #[error("{0}")]
    Record(#[from] RecordError),
    #[error("{context}: {source}")]
    Json {
        context: String,
        #[source]
        source: serde_json::Error,
    },
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
    pub fn config(msg: impl Into<String>) -> Self {
        Error::Config(msg.into())
    }
    pub fn input(msg: impl Into<String>) -> Self {
        Error::Input(msg.into())
    }
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
    pub fn new(kind: &str, message: impl Into<String>) -> Self {
        RecordError { kind: kind.to_string(), message: message.into() }
    }
}
