//! Metrics: a metric takes key points and references and returns named numbers; it never reads files.
pub mod alignment;
pub mod bleu;
pub mod chrf;
mod metric;
pub mod porter;
pub mod rouge;
pub mod tokenf1;

pub use metric::{parse_metrics, Metric, MetricKind, ScoreInput};
