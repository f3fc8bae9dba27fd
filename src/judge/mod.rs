//! The coverage judge (`kp-cover`): for each Key Development, the probability that the summary
//! states it, from several views of the evidence, combined by a small fitted logistic model.
//!
//! Each Key Development k is judged against every window of consecutive summary sentences
//! (generated key points; windows of up to [`MAX_WINDOW`] sentences). For a window W the judge
//! computes the features below, and `P(covered | k, W) = σ(bias + Σ wᵢ·featureᵢ)` with the
//! weights of a preset ([`CoverPreset`], fitted by `eval/coverage/fit_kp_cover.py` with
//! cross-validation by document on people's verdicts). The verdict is the best window: its
//! probability is the score, and the Key Development is covered when the score reaches the
//! preset's threshold; the evidence is the shortest window that scores within
//! [`EVIDENCE_TOLERANCE`] of it, less the sentences it does not need to. Many-to-one by construction: one sentence can
//! cover every Key Development it states.
//!
//! Features of (k, W), all in 0..1:
//! - `rec1`: stemmed unigram recall of k in W (rouge-score tokenization, Porter stemmer,
//!   clipped counts);
//! - `rec1_content`: the same over k's content words (stop words left out);
//! - `rec2`: stemmed bigram recall;
//! - `recl`: longest-common-subsequence recall (ROUGE-L recall of k in W);
//! - `ent`: share of k's names and numbers (capitalized non-stop words, words with digits) found
//!   in W (1 when k has none);
//! - `tok_rec`: BERTScore recall of k against W's tokens (MiniLM contextual token vectors, each
//!   sentence encoded on its own; mean over k's tokens of the best cosine);
//! - `tok_min`: the weakest of those best cosines (a name or a number the summary does not
//!   state);
//! - `cos`: the best sentence cosine between k and a sentence of W (MiniLM sentence vectors);
//! - `tok_frac50`, `tok_frac70`: share of k's tokens whose best cosine reaches 0.5 / 0.7;
//! - `tok_low2`: mean of the two weakest best cosines;
//! - `ent_all`: 1 when every name and number of k is in W (also when k has none);
//! - `miss_content`: k's content words missing from W, min(count, 4) / 4;
//! - `len`: k's length, min(tokens, 30) / 30;
//! - `tok_q10`, `tok_q20`: the 10th / 20th percentile of the best cosines (nearest rank below:
//!   the weakest for a short k, and not the single weakest word of a long one).
mod lexical;

pub use lexical::{lexical_features, Lexical};

use crate::metrics::alignment::Verdict;
use crate::metrics::{Metric, ScoreInput};
use crate::runtime::{Embedder, Memo, TokenVectors, MEMO_BUDGET};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// Longest window of consecutive summary sentences a Key Development is judged against.
pub const MAX_WINDOW: usize = 3;

/// The features the judge computes, in this order.
pub const FEATURES: [&str; 16] = [
    "rec1",
    "rec1_content",
    "rec2",
    "recl",
    "ent",
    "tok_rec",
    "tok_min",
    "cos",
    "tok_frac50",
    "tok_frac70",
    "tok_low2",
    "ent_all",
    "miss_content",
    "len",
    "tok_q10",
    "tok_q20",
];

/// A fitted combination of the features: `σ(bias + Σ weights[i]·feature(features[i]))`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoverPreset {
    /// Preset name (`kp-cover`).
    pub name: String,
    /// Incremented whenever the features or the weights change; part of the signature.
    pub version: u32,
    /// Feature names (a subset of [`FEATURES`]).
    pub features: Vec<String>,
    /// One weight per feature, on the raw feature scale.
    pub weights: Vec<f64>,
    /// Intercept.
    pub bias: f64,
    /// Probability at which a Key Development counts as covered.
    pub threshold: f64,
    /// Where the weights come from (data, labels, script, command).
    #[serde(default)]
    pub fitted_on: Value,
    /// Cross-validated agreement with people on the fitting data.
    #[serde(default)]
    pub cross_validated: Value,
}

/// The bundled preset (`models/kp-cover.json`).
pub const BUNDLED_PRESET: &str = include_str!("../../models/kp-cover.json");

impl CoverPreset {
    /// The preset shipped with kpeval.
    pub fn bundled() -> CoverPreset {
        CoverPreset::from_json(BUNDLED_PRESET).expect("the bundled kp-cover preset is valid")
    }

    /// Reads and checks a preset.
    pub fn from_json(text: &str) -> Result<CoverPreset, String> {
        let p: CoverPreset =
            serde_json::from_str(text).map_err(|e| format!("kp-cover preset: {e}"))?;
        if p.features.len() != p.weights.len() {
            return Err(format!(
                "kp-cover preset: {} features but {} weights",
                p.features.len(),
                p.weights.len()
            ));
        }
        if let Some(f) = p.features.iter().find(|f| !FEATURES.contains(&f.as_str())) {
            return Err(format!(
                "kp-cover preset: unknown feature '{f}' (known: {})",
                FEATURES.join(", ")
            ));
        }
        if !(p.threshold.is_finite() && (0.0..=1.0).contains(&p.threshold) && p.bias.is_finite())
            || p.weights.iter().any(|w| !w.is_finite())
        {
            return Err("kp-cover preset: weights, bias and threshold must be finite, the threshold within [0, 1]".into());
        }
        Ok(p)
    }

    /// `name-vVERSION`, as the signature names it.
    pub fn id(&self) -> String {
        format!("{}-v{}", self.name, self.version)
    }

    /// Whether the preset uses one of the named features.
    pub fn uses(&self, feature: &str) -> bool {
        self.features.iter().any(|f| f == feature)
    }

    /// The probability for one feature vector (in [`FEATURES`] order).
    pub fn probability(&self, x: &[f64; FEATURES.len()]) -> f64 {
        let mut z = self.bias;
        for (f, w) in self.features.iter().zip(&self.weights) {
            let i = FEATURES.iter().position(|n| n == f).unwrap_or(0);
            z += w * x[i];
        }
        1.0 / (1.0 + (-z).exp())
    }
}
/// Dot product of two unit vectors in f32 with eight fixed lanes (the same order of operations
/// on every CPU), summed in f64.
fn dot(a: &[f32], b: &[f32]) -> f64 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(p, q)| *p as f64 * *q as f64).sum();
    acc.iter().map(|&v| v as f64).sum::<f64>() + tail
}

/// For each token of k, its best cosine (floored at 0) to any token of each sentence:
/// `best[s][t]`.
fn best_token_matches(k: &TokenVectors, sentences: &[Arc<TokenVectors>]) -> Vec<Vec<f64>> {
    sentences
        .iter()
        .map(|s| {
            k.vectors
                .iter()
                .map(|x| s.vectors.iter().map(|y| dot(x, y)).fold(0.0f64, f64::max))
                .collect()
        })
        .collect()
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// The windows of `n` sentences judged: every run of 1..=[`MAX_WINDOW`] consecutive sentences,
/// shorter ones first (ties go to the shorter, earlier window).
pub fn windows(n: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    for len in 1..=MAX_WINDOW.min(n) {
        for start in 0..=n - len {
            out.push(start..start + len);
        }
    }
    out
}

/// How far below the best window's probability the evidence may score: the judge's features
/// grow with the window, so a longer window often scores a little higher only because it holds
/// more words.
pub const EVIDENCE_TOLERANCE: f64 = 0.05;

/// A judge's view of one Key Development against one summary's sentences: the best window's
/// probability and features, and as evidence the shortest (then earliest) window whose
/// probability is within [`EVIDENCE_TOLERANCE`] of the best, less any of its sentences without
/// which it still is (sentences that add nothing).
pub fn judge(
    preset: &CoverPreset,
    feats_of: impl Fn(&[usize]) -> [f64; FEATURES.len()],
    n_sentences: usize,
) -> (f64, Vec<usize>, [f64; FEATURES.len()]) {
    let prob = |idx: &[usize]| round6(preset.probability(&feats_of(idx)));
    let scored: Vec<(f64, Vec<usize>)> = windows(n_sentences)
        .into_iter()
        .map(|w| {
            let idx: Vec<usize> = w.collect();
            (prob(&idx), idx)
        })
        .collect();
    let Some(best) = scored.iter().fold(None::<&(f64, Vec<usize>)>, |b, c| {
        if b.is_none_or(|b| c.0 > b.0) {
            Some(c)
        } else {
            b
        }
    }) else {
        return (0.0, Vec::new(), [0.0; FEATURES.len()]);
    };
    let floor = best.0 - EVIDENCE_TOLERANCE;
    let mut evidence = scored.iter().find(|c| c.0 >= floor).map_or(best.1.clone(), |c| c.1.clone());
    let mut i = 0;
    while evidence.len() > 1 && i < evidence.len() {
        let without: Vec<usize> =
            evidence.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, &s)| s).collect();
        if prob(&without) >= floor {
            evidence = without;
        } else {
            i += 1;
        }
    }
    (best.0, evidence, feats_of(&best.1))
}

/// The `kp_cover` metric: one verdict per Key Development from the judge, coverage = mean
/// score, coverage_at_t = share covered.
pub struct KpCoverMetric {
    /// The embedding model (MiniLM) for the token and sentence views.
    pub embedder: Box<dyn Embedder>,
    /// The fitted combination.
    pub preset: CoverPreset,
    /// Write each verdict's features (for refitting).
    pub with_features: bool,
    tokens: Memo<TokenVectors>,
    sentences: Memo<Vec<f32>>,
}

impl KpCoverMetric {
    /// The judge on an embedding model with a preset.
    pub fn new(embedder: Box<dyn Embedder>, preset: CoverPreset, with_features: bool) -> Self {
        KpCoverMetric {
            embedder,
            preset,
            with_features,
            tokens: Memo::new(MEMO_BUDGET),
            sentences: Memo::new(MEMO_BUDGET),
        }
    }

    fn token_vectors(&self, text: &str) -> Result<Arc<TokenVectors>, String> {
        self.tokens.get_or(text, || {
            Ok(self
                .embedder
                .token_vectors(&[text.to_string()])
                .map_err(|e| e.to_string())?
                .pop()
                .unwrap_or_default())
        })
    }

    fn sentence_vector(&self, text: &str) -> Result<Arc<Vec<f32>>, String> {
        self.sentences.get_or(text, || {
            Ok(self
                .embedder
                .embed(&[text.to_string()])
                .map_err(|e| e.to_string())?
                .pop()
                .unwrap_or_default())
        })
    }

    fn needs_tokens(&self) -> bool {
        self.with_features || self.preset.features.iter().any(|f| f.starts_with("tok_"))
    }

    fn needs_sentences(&self) -> bool {
        self.with_features || self.preset.uses("cos")
    }

    /// The verdicts on one record's Key Developments.
    pub fn verdicts(
        &self,
        references: &[String],
        generated: &[String],
    ) -> Result<Vec<Verdict>, String> {
        let gl: Vec<Lexical> = generated.iter().map(|g| Lexical::new(g)).collect();
        let gt: Vec<Arc<TokenVectors>> = if self.needs_tokens() {
            generated.iter().map(|g| self.token_vectors(g)).collect::<Result<_, _>>()?
        } else {
            Vec::new()
        };
        let gs: Vec<Arc<Vec<f32>>> = if self.needs_sentences() {
            generated.iter().map(|g| self.sentence_vector(g)).collect::<Result<_, _>>()?
        } else {
            Vec::new()
        };
        let mut out = Vec::with_capacity(references.len());
        for k in references {
            let kl = Lexical::new(k);
            let (best, special): (Vec<Vec<f64>>, Vec<bool>) = if self.needs_tokens() {
                let kt = self.token_vectors(k)?;
                (best_token_matches(&kt, &gt), kt.special.clone())
            } else {
                (Vec::new(), Vec::new())
            };
            let cos: Vec<f64> = if self.needs_sentences() {
                let kv = self.sentence_vector(k)?;
                gs.iter().map(|g| round6(crate::summarize::cos(&kv, g))).collect()
            } else {
                Vec::new()
            };
            let feats = |w: &[usize]| -> [f64; FEATURES.len()] {
                let lex = lexical_features(&kl, &w.iter().map(|&s| &gl[s]).collect::<Vec<_>>());
                let (mut tok_rec, mut tok_min, mut f50, mut f70, mut low2, mut q10, mut q20) =
                    (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
                if !best.is_empty() {
                    let mut b: Vec<f64> = special
                        .iter()
                        .enumerate()
                        .filter(|(_, sp)| !**sp)
                        .map(|(t, _)| w.iter().map(|&s| best[s][t]).fold(0.0f64, f64::max))
                        .collect();
                    if !b.is_empty() {
                        let n = b.len() as f64;
                        tok_rec = b.iter().sum::<f64>() / n;
                        f50 = b.iter().filter(|&&x| x >= 0.5).count() as f64 / n;
                        f70 = b.iter().filter(|&&x| x >= 0.7).count() as f64 / n;
                        b.sort_by(f64::total_cmp);
                        tok_min = b[0];
                        low2 = b.iter().take(2).sum::<f64>() / b.len().min(2) as f64;
                        let q = |p: f64| b[((b.len() - 1) as f64 * p).floor() as usize];
                        q10 = q(0.1);
                        q20 = q(0.2);
                    }
                }
                let c = if cos.is_empty() {
                    0.0
                } else {
                    w.iter().map(|&s| cos[s]).fold(0.0f64, f64::max)
                };
                [
                    lex[0], lex[1], lex[2], lex[3], lex[4], tok_rec, tok_min, c, f50, f70, low2,
                    lex[5], lex[6], lex[7], q10, q20,
                ]
                .map(round6)
            };
            let (score, evidence, x) = judge(&self.preset, feats, generated.len());
            let features = self.with_features.then(|| {
                FEATURES
                    .iter()
                    .zip(x)
                    .map(|(n, v)| (n.to_string(), json!(v)))
                    .collect::<Map<String, Value>>()
            });
            out.push(Verdict {
                score,
                covered: score >= self.preset.threshold && !evidence.is_empty(),
                evidence,
                features,
            });
        }
        Ok(out)
    }
}

impl Metric for KpCoverMetric {
    fn name(&self) -> &'static str {
        "kp_cover"
    }
    fn signature(&self) -> String {
        format!(
            "kp_cover:judge={},t={},windows<={MAX_WINDOW},emb={}",
            self.preset.id(),
            self.preset.threshold,
            self.embedder.name()
        )
    }
    fn score(&self, input: &ScoreInput) -> Result<Vec<(String, Value)>, String> {
        let key_points = self.verdicts(input.references, input.generated)?;
        let n = key_points.len().max(1) as f64;
        let coverage = round6(key_points.iter().map(|v| v.score).sum::<f64>() / n);
        let at_t = key_points.iter().filter(|v| v.covered).count() as f64 / n;
        let mut v = json!({"coverage": coverage, "coverage_at_t": at_t, "key_points": key_points});
        if self.needs_tokens() || self.needs_sentences() {
            let texts: Vec<String> =
                input.references.iter().chain(input.generated.iter()).cloned().collect();
            let (cut, _) = self.embedder.truncation(&texts).map_err(|e| e.to_string())?;
            let cut = cut.iter().filter(|&&c| c > 0).count();
            if cut > 0 {
                v["truncated_points"] = Value::from(cut);
            }
        }
        Ok(vec![("kp_cover".to_string(), v)])
    }
    fn score_batch(&self, inputs: &[ScoreInput]) -> Vec<Result<Vec<(String, Value)>, String>> {
        use rayon::prelude::*;
        // Every distinct text of the batch encoded once, each on its own (the runtime spreads
        // them over its threads); then the verdicts, record by record in parallel. A text the
        // memo let go of meanwhile is encoded again, to the same vectors.
        let mut seen = std::collections::HashSet::new();
        let texts: Vec<&str> = inputs
            .iter()
            .flat_map(|i| i.references.iter().chain(i.generated.iter()))
            .map(|t| t.as_str())
            .filter(|t| seen.insert(*t))
            .collect();
        let warm = (|| -> Result<(), String> {
            if self.needs_tokens() {
                self.tokens.get_many(&texts, |m| {
                    self.embedder.token_vectors(m).map_err(|e| e.to_string())
                })?;
            }
            if self.needs_sentences() {
                self.sentences
                    .get_many(&texts, |m| self.embedder.embed(m).map_err(|e| e.to_string()))?;
            }
            Ok(())
        })();
        if let Err(e) = warm {
            return inputs.iter().map(|_| Err(e.clone())).collect();
        }
        inputs.par_iter().map(|i| self.score(i)).collect()
    }
}
#[cfg(test)]
mod tests;
