//! The seam between the lean library and the model runtime. The `kpeval` binary has no
//! libtorch; commands that need a model are re-executed by `kpeval-torch`, which registers a
//! [`Backend`] built on rust-bert/tch.
use crate::error::Result;
use crate::scoring::{Metric, MetricKind};
use crate::summarize::{Summarizer, SummarizerSpec};
use serde::{Deserialize, Serialize};

/// Generation settings (transformers' names), recorded in the signature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GenerationConfig {
    pub num_beams: Option<usize>,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub no_repeat_ngram_size: Option<usize>,
    pub length_penalty: Option<f64>,
    pub early_stopping: Option<bool>,
    pub do_sample: bool,
    pub seed: u64,
    pub device: String,
    /// How the summaries of a long source's chunks become its summary.
    pub long_merge: LongMerge,
}

/// How a source longer than the model's context is summarized from its chunks' summaries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum LongMerge {
    /// The chunk summaries, in order, one per line.
    #[default]
    Concat,
    /// The chunk summaries, joined, are summarized again (and again while they exceed the
    /// context), so the summary has the length of one.
    SecondPass,
}

impl LongMerge {
    pub fn as_str(self) -> &'static str {
        match self {
            LongMerge::Concat => "concat",
            LongMerge::SecondPass => "second-pass",
        }
    }
}

impl Default for GenerationConfig {
    fn default() -> Self {
        GenerationConfig {
            num_beams: None,
            min_length: None,
            max_length: None,
            no_repeat_ngram_size: None,
            length_penalty: None,
            early_stopping: None,
            do_sample: false,
            seed: 12345,
            device: "cpu".into(),
            long_merge: LongMerge::Concat,
        }
    }
}

/// Model settings of model-backed metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelMetricConfig {
    /// Sentence-embedding model: preset name, hub id or local folder.
    pub embedding_model: String,
    /// NLI model; None means NLI metrics are not computed.
    pub nli_model: Option<String>,
    /// Similarity threshold for thresholded key-point coverage/precision.
    pub kp_threshold: f64,
    pub device: String,
    pub offline: bool,
    /// Write the coverage judge's features into each verdict.
    pub kp_cover_features: bool,
}

impl Default for ModelMetricConfig {
    fn default() -> Self {
        ModelMetricConfig {
            embedding_model: "all-MiniLM-L6-v2".into(),
            nli_model: None,
            kp_threshold: 0.6,
            device: "cpu".into(),
            offline: false,
            kp_cover_features: false,
        }
    }
}

/// A sentence-embedding model.
/// Contextual token vectors of one text (unit length), with which tokens are special
/// ([CLS], [SEP], ...): those can be matched but are not averaged over, as in BERTScore.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenVectors {
    pub vectors: Vec<Vec<f32>>,
    pub special: Vec<bool>,
}

pub trait Embedder: Send + Sync {
    /// Name and settings for the signature (`all-MiniLM-L6-v2(mean,normalize,max_len=256)`).
    fn name(&self) -> String;
    /// One vector per text, in order.
    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>>;
    /// Per text, the unit-length contextual vectors of all its tokens (last layer, special
    /// tokens flagged), each text encoded on its own.
    fn token_vectors(&self, _texts: &[String]) -> Result<Vec<TokenVectors>> {
        Err(crate::error::Error::model(format!("{}: token vectors are not available", self.name())))
    }
    /// Texts per forward pass in [`Embedder::embed`] (results do not depend on it beyond float
    /// rounding of padded batches).
    fn set_batch_size(&self, _n: usize) {}
    /// Per text, how many of its tokens [`Embedder::embed`] cuts to fit the model's maximum
    /// length (0 when it fits), and that maximum.
    fn truncation(&self, texts: &[String]) -> Result<(Vec<usize>, usize)>;
}

/// Label probabilities of one premise/hypothesis pair (in the model's `id2label` names mapped to
/// entailment / neutral / contradiction).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NliOutput {
    pub entailment: f64,
    pub neutral: f64,
    pub contradiction: f64,
    /// Tokens cut to fit the model's context (0 when the pair fit).
    pub truncated: usize,
}

/// An NLI classifier.
pub trait NliScorer: Send + Sync {
    /// Model name and revision for the signature.
    fn name(&self) -> String;
    fn predict(&self, pairs: &[(String, String)]) -> Result<Vec<NliOutput>>;
}

/// What a model runtime provides.
pub trait Backend: Send + Sync {
    /// A sentence-embedding model by name (store name, local folder or hub id).
    fn embedder(&self, model: &str, device: &str) -> Result<Box<dyn Embedder>>;
    /// `--model-threads`: threads of each forward pass (before any model is loaded).
    fn set_threads(&self, _n: usize) {}
    /// An NLI classifier by name (local folder or hub id).
    fn nli(&self, model: &str, device: &str) -> Result<Box<dyn NliScorer>>;
    fn summarizer(
        &self,
        spec: &SummarizerSpec,
        gen: &GenerationConfig,
    ) -> Result<Box<dyn Summarizer>>;
    /// A model-backed metric; `Ok(None)` with a reason when it cannot run with this configuration
    /// (e.g. no NLI model given), which is reported as not computed.
    fn metric(
        &self,
        kind: MetricKind,
        cfg: &ModelMetricConfig,
    ) -> Result<std::result::Result<Box<dyn Metric>, String>>;
}
