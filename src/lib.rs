//! kpeval: article → source text → summary → key points → scores → report.
//!
//! Each stage is one module; data only moves right. The CLI (`cli`) builds typed configs and
//! calls the library; nothing in the library prints except through the progress bar it is given.
pub mod accumulate;
pub mod article;
pub mod backend;
pub mod cli;
pub mod compare;
pub mod error;
pub mod experiment;
pub mod html;
pub mod judge;
pub mod keypoints;
pub mod metaeval;
pub mod metrics;
pub mod models;
pub mod pipeline;
pub mod record;
pub mod report;
pub mod scoring;
pub mod stats;
pub mod summarize;

pub use error::{Error, RecordError, Result};

/// Tool version written into every signature.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
