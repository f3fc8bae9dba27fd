//! Summarizers: source text in, summary (with its key points = summary sentences) out.
//!
//! Extractive baselines live here (no libtorch); model-backed summarizers (seq2seq, embedding
//! MMR) are provided by a [`crate::backend::Backend`].
mod cache;
mod mmr;
mod textrank;

pub use cache::CachedSummarizer;
pub(crate) use mmr::cos;
pub use mmr::{mmr_select, Mmr};
pub use textrank::TextRank;

use crate::error::RecordError;
use crate::keypoints::split_sentences;
use serde::{Deserialize, Serialize};

/// The text handed to a summarizer: the selected sections of one article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceText {
    /// The article id, for error messages.
    pub id: String,
    /// The selected sections, paragraphs separated by a blank line.
    pub text: String,
}

/// One generated summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The system that wrote it (see [`Summarizer::name`]).
    pub system: String,
    /// The summary as written (extractive systems: the chosen sentences, one a line).
    pub text: String,
    /// The generated key points: the summary's sentences, or the sentence list given with it.
    pub key_points: Vec<String>,
    /// What was done that a reader should know (chunking, truncation, empty source, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Summary {
    /// A summary whose key points are its sentences.
    pub fn from_text(system: &str, text: String, notes: Vec<String>) -> Self {
        let key_points = split_sentences(&text);
        Summary { system: system.to_string(), text, key_points, notes }
    }
}

/// A summarizer. Implementations are deterministic for a fixed configuration.
pub trait Summarizer: Send + Sync {
    /// System name written into records (`lead-3`, `textrank-3`, `distilbart-cnn-12-6`, …).
    fn name(&self) -> String;
    /// Settings for the results signature.
    fn signature(&self) -> String;
    /// Summarizes a batch; one result per input, in order.
    fn summarize(&self, batch: &[SourceText]) -> Vec<Result<Summary, RecordError>>;
    /// What model generation has cost so far (models only; logged, never in records).
    fn generation_stats(&self) -> Option<GenerationStats> {
        None
    }
}

/// Time spent in model generation (tokenized inputs in, token ids out: no model load, no
/// tokenization or decoding), for logs and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct GenerationStats {
    /// Sequences generated (chunks of long articles count one each).
    pub sequences: usize,
    /// Tokens generated, the decoder start token not counted.
    pub tokens: usize,
    /// Wall-clock seconds spent generating, warm-up excluded.
    pub seconds: f64,
    /// The one-off warm-up before the first batch (one decoding step on short inputs, at the
    /// batch's row count: lazy kernel set-up, weight packing), not in `seconds`.
    #[serde(default)]
    pub warmup_seconds: f64,
}

/// The first `k` sentences of the source text.
#[derive(Debug, Clone)]
pub struct LeadK {
    /// Sentences to take.
    pub k: usize,
}

impl Summarizer for LeadK {
    fn name(&self) -> String {
        format!("lead-{}", self.k)
    }
    fn signature(&self) -> String {
        format!("lead-{}", self.k)
    }
    fn summarize(&self, batch: &[SourceText]) -> Vec<Result<Summary, RecordError>> {
        batch
            .iter()
            .map(|s| {
                let sents = split_sentences(&s.text);
                if sents.is_empty() {
                    return Err(RecordError::new(
                        "summarize",
                        format!("record '{}': the selected source text is empty", s.id),
                    ));
                }
                let mut notes = Vec::new();
                if sents.len() < self.k {
                    notes.push(format!(
                        "source has only {} sentence(s); lead-{} took all",
                        sents.len(),
                        self.k
                    ));
                }
                let kp: Vec<String> = sents.into_iter().take(self.k).collect();
                Ok(Summary { system: self.name(), text: kp.join("\n"), key_points: kp, notes })
            })
            .collect()
    }
}

/// Which summarizer to build: `lead-K`, `textrank-K`, or a model (handled by a backend).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SummarizerSpec {
    /// `lead-K` (`lead` = `lead-3`): the first K sentences.
    Lead(usize),
    /// `textrank-K` (`textrank` = `textrank-3`): K sentences chosen by TextRank.
    TextRank(usize),
    /// Embedding centroid / MMR over sentences (needs the embedding model).
    Mmr(usize),
    /// A seq2seq model: preset name, hub id or local folder.
    Model(String),
}

impl SummarizerSpec {
    /// Parses a `--systems` entry; anything that is not `lead`, `textrank` or `mmr` (with an
    /// optional `-K`, K ≥ 1) names a model. Errors on K = 0, a bad K or an empty name.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let num = |rest: &str, what: &str| -> Result<usize, String> {
            let k: usize = rest
                .parse()
                .map_err(|_| format!("'{s}': expected {what}-K with K a positive number"))?;
            if k == 0 {
                return Err(format!("'{s}': K must be at least 1"));
            }
            Ok(k)
        };
        if let Some(rest) = s.strip_prefix("lead-") {
            return Ok(SummarizerSpec::Lead(num(rest, "lead")?));
        }
        if s == "lead" {
            return Ok(SummarizerSpec::Lead(3));
        }
        if let Some(rest) = s.strip_prefix("textrank-") {
            return Ok(SummarizerSpec::TextRank(num(rest, "textrank")?));
        }
        if s == "textrank" {
            return Ok(SummarizerSpec::TextRank(3));
        }
        if let Some(rest) = s.strip_prefix("mmr-") {
            return Ok(SummarizerSpec::Mmr(num(rest, "mmr")?));
        }
        if s == "mmr" {
            return Ok(SummarizerSpec::Mmr(3));
        }
        if s.is_empty() {
            return Err("empty summarizer name".into());
        }
        Ok(SummarizerSpec::Model(s.to_string()))
    }

    /// Whether this summarizer needs libtorch.
    pub fn needs_models(&self) -> bool {
        matches!(self, SummarizerSpec::Mmr(_) | SummarizerSpec::Model(_))
    }

    /// Builds an extractive summarizer that needs no model; None for model-backed ones.
    pub fn build_plain(&self) -> Option<Box<dyn Summarizer>> {
        match self {
            SummarizerSpec::Lead(k) => Some(Box::new(LeadK { k: *k })),
            SummarizerSpec::TextRank(k) => Some(Box::new(TextRank::new(*k))),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lead_takes_first_sentences() {
        let out = LeadK { k: 2 }
            .summarize(&[SourceText { id: "a".into(), text: "One. Two. Three.".into() }]);
        let s = out[0].as_ref().unwrap();
        assert_eq!(s.key_points, vec!["One.", "Two."]);
        assert_eq!(s.text, "One.\nTwo.");
    }

    #[test]
    fn empty_source_is_an_error_not_a_panic() {
        let out = LeadK { k: 3 }.summarize(&[SourceText { id: "a".into(), text: "  ".into() }]);
        assert_eq!(out[0].as_ref().unwrap_err().kind, "summarize");
    }

    #[test]
    fn spec_parsing() {
        assert_eq!(SummarizerSpec::parse("lead-3").unwrap(), SummarizerSpec::Lead(3));
        assert_eq!(SummarizerSpec::parse("textrank-4").unwrap(), SummarizerSpec::TextRank(4));
        assert!(SummarizerSpec::parse("lead-0").is_err());
        assert!(SummarizerSpec::parse("lead-x").is_err());
        assert_eq!(
            SummarizerSpec::parse("sshleifer/distilbart-cnn-12-6").unwrap(),
            SummarizerSpec::Model("sshleifer/distilbart-cnn-12-6".into())
        );
    }
}
