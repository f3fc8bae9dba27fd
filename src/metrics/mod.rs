//! Metrics: a metric takes key points and references and returns named numbers; it never reads files.
pub mod alignment;
pub mod bleu;
pub mod chrf;
pub mod porter;
pub mod rouge;
pub mod tokenf1;
