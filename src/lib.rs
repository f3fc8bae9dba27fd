//! kpeval: summarize news articles and measure how well the summaries cover each article's own
//! Key Developments, with overlap metrics (ROUGE, BLEU, chrF, bit-exact with rouge-score and
//! sacreBLEU), model metrics (embeddings, BERTScore, NLI, through a model runtime) and a coverage
//! judge that gives a verdict per Key Development.
//!
//! Data flows one way, one module per stage:
//! article ([`article`]) → source text → summary ([`summarize`]) → key points ([`keypoints`]) →
//! scores ([`metrics`], [`scoring`], [`judge`]) → records ([`record`], [`records`]) → report
//! ([`aggregate`], [`accumulate`], [`report`], [`html`], [`view`]).
//! [`evaluation`] runs the stages over a stream of articles; [`experiment`], [`compare`] and
//! [`metaeval`] are built on records. Nothing here prints: progress and warnings go through a
//! [`reporter::Reporter`]. Models come from a [`backend::Backend`] (the `kpeval-torch` crate);
//! without one, model metrics are recorded as not computed and libtorch is never loaded.
//!
//! See [`evaluation`] for an example that scores two summaries in memory.
#![deny(clippy::print_stdout, clippy::print_stderr)]
#![deny(missing_docs)]
pub mod accumulate;
pub mod aggregate;
pub mod article;
pub mod backend;
pub mod compare;
pub mod error;
pub mod evaluation;
pub mod experiment;
pub mod html;
pub mod judge;
pub mod keypoints;
pub mod metaeval;
pub mod metrics;
pub mod models;
pub mod pipeline;
pub mod record;
pub mod records;
pub mod report;
pub mod reporter;
pub mod runtime;
pub mod scoring;
pub mod signature;
pub mod stats;
pub mod summarize;
pub mod view;

pub use error::{Error, RecordError, Result};
pub use evaluation::{Evaluation, EvaluationConfig};

/// Tool version written into every signature.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
