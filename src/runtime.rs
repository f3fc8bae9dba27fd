//! The model interfaces the stages use and a model runtime implements: sentence embeddings and
//! contextual token vectors ([`Embedder`]), NLI ([`NliScorer`]). The lean library has none; the
//! `kpeval-torch` crate implements them on rust-bert/libtorch.
use crate::error::Result;
use serde::{Deserialize, Serialize};

/// Contextual token vectors of one text (unit length), with which tokens are special
/// (`[CLS]`, `[SEP]`, ...): those can be matched but are not averaged over, as in BERTScore.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenVectors {
    /// One unit-length vector per token.
    pub vectors: Vec<Vec<f32>>,
    /// Whether each token is a special token.
    pub special: Vec<bool>,
}

/// A sentence-embedding model.
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
    /// P(entailment).
    pub entailment: f64,
    /// P(neutral).
    pub neutral: f64,
    /// P(contradiction).
    pub contradiction: f64,
    /// Tokens cut to fit the model's context (0 when the pair fit).
    pub truncated: usize,
}

/// An NLI classifier.
pub trait NliScorer: Send + Sync {
    /// Model name and revision for the signature.
    fn name(&self) -> String;
    /// Label probabilities of (premise, hypothesis) pairs, in order.
    fn predict(&self, pairs: &[(String, String)]) -> Result<Vec<NliOutput>>;
}
