//! The metrics on the NLI model: SummaC-ZS style faithfulness, entailment similarity, `kp_nli`.
use super::model::{NliModel, NliProbs};
use kpeval::error::Result;
use kpeval::scoring::{Metric, ScoreInput, Similarity};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Scores unique pairs once.
fn predict_unique(
    model: &NliModel,
    pairs: Vec<(String, String)>,
) -> Result<HashMap<(String, String), NliProbs>> {
    let mut uniq: Vec<(String, String)> = pairs;
    uniq.sort();
    uniq.dedup();
    let probs = model.predict(&uniq)?;
    Ok(uniq.into_iter().zip(probs).collect())
}

/// SummaC-ZS style faithfulness: the article is split into chunks of consecutive sentences
/// that fit the model together with a key point; each generated key point scores
/// max over chunks of P(entailment) − P(contradiction) (premise = chunk, hypothesis = point);
/// the record scores the mean over key points. Output:
/// `{"score", "per_point": [...], "chunks", "truncated"}` (`truncated`: pairs that still had to
/// be cut, i.e. a single sentence or key point too long for the model). Without article text
/// or key points the score is null, with a `note`.
pub struct FaithfulnessMetric {
    /// The NLI model (shared with the other NLI metrics).
    pub model: Arc<NliModel>,
    /// Upper bound on chunk length in tokens.
    pub chunk_tokens: usize,
}

impl FaithfulnessMetric {
    /// Faithfulness on `model` with chunks of at most 400 tokens.
    pub fn new(model: Arc<NliModel>) -> Self {
        FaithfulnessMetric { model, chunk_tokens: 400 }
    }

    /// The chunk budget for a record: at most `chunk_tokens`, and small enough that the
    /// longest key point fits beside a chunk (never below a quarter of the model's length).
    pub fn budget(&self, points: &[String]) -> usize {
        let m = &self.model;
        let longest = points.iter().map(|p| m.count_tokens(p)).max().unwrap_or(0);
        let room = m.max_len.saturating_sub(m.pair_specials + longest);
        self.chunk_tokens.min(room.max(m.max_len / 4)).max(1)
    }
}

impl Metric for FaithfulnessMetric {
    fn name(&self) -> &'static str {
        "faithfulness"
    }
    fn signature(&self) -> String {
        format!(
            "faithfulness:nli={},chunk<={},score=mean_points(max_chunks(P(e)-P(c)))",
            self.model.name(),
            self.chunk_tokens
        )
    }
    fn score(&self, input: &ScoreInput) -> std::result::Result<Vec<(String, Value)>, String> {
        self.score_batch(std::slice::from_ref(input))
            .pop()
            .unwrap_or_else(|| Err("no result".into()))
    }
    fn score_batch(
        &self,
        inputs: &[ScoreInput],
    ) -> Vec<std::result::Result<Vec<(String, Value)>, String>> {
        let chunks: Vec<Vec<String>> = inputs
            .iter()
            .map(|i| {
                if i.article.trim().is_empty() || i.generated.is_empty() {
                    Vec::new()
                } else {
                    self.model.chunk_article(i.article, self.budget(i.generated))
                }
            })
            .collect();
        let mut pairs = Vec::new();
        for (i, cs) in inputs.iter().zip(&chunks) {
            for c in cs {
                for g in i.generated {
                    pairs.push((c.clone(), g.clone()));
                }
            }
        }
        let probs = match predict_unique(&self.model, pairs) {
            Ok(p) => p,
            Err(e) => return inputs.iter().map(|_| Err(e.to_string())).collect(),
        };
        inputs
            .iter()
            .zip(&chunks)
            .map(|(i, cs)| {
                if cs.is_empty() {
                    let note = if i.generated.is_empty() { "no generated key points" } else { "no article text" };
                    return Ok(vec![("faithfulness".to_string(), json!({"score": null, "per_point": [], "chunks": 0, "truncated": 0, "note": note}))]);
                }
                let mut truncated = 0usize;
                let per_point: Vec<f64> = i
                    .generated
                    .iter()
                    .map(|g| {
                        cs.iter()
                            .map(|c| {
                                let p = &probs[&(c.clone(), g.clone())];
                                if p.truncated > 0 {
                                    truncated += 1;
                                }
                                p.entailment - p.contradiction
                            })
                            .fold(f64::NEG_INFINITY, f64::max)
                    })
                    .map(round6)
                    .collect();
                let score = round6(per_point.iter().sum::<f64>() / per_point.len() as f64);
                Ok(vec![("faithfulness".to_string(), json!({"score": score, "per_point": per_point, "chunks": cs.len(), "truncated": truncated}))])
            })
            .collect()
    }
}

/// `sim[k][g]` = P(entailment | premise = generated point g, hypothesis = reference point k):
/// does the summary state this Key Development? Rounded to 1e-6.
pub struct NliSimilarity {
    /// The NLI model the entailment probabilities come from.
    pub model: Arc<NliModel>,
}

impl Similarity for NliSimilarity {
    fn name(&self) -> String {
        format!("nli-entail({})", self.model.name())
    }
    fn matrices(
        &self,
        records: &[(&[String], &[String])],
    ) -> std::result::Result<Vec<Vec<Vec<f64>>>, String> {
        let mut pairs = Vec::new();
        for (k, g) in records {
            for a in k.iter() {
                for b in g.iter() {
                    pairs.push((b.clone(), a.clone()));
                }
            }
        }
        let probs = predict_unique(&self.model, pairs).map_err(|e| e.to_string())?;
        Ok(records
            .iter()
            .map(|(k, g)| {
                k.iter()
                    .map(|a| {
                        g.iter()
                            .map(|b| round6(probs[&(b.clone(), a.clone())].entailment))
                            .collect()
                    })
                    .collect()
            })
            .collect())
    }
}

/// `kp_nli`: key-point coverage on entailment. Each Key Development k is judged against every
/// window of consecutive summary sentences (up to [`kpeval::judge::MAX_WINDOW`], joined with
/// spaces): its score is the best P(entailment | premise = window, hypothesis = k), its evidence
/// that window's sentences, covered at `threshold`. Precision and the one-to-one alignment come
/// from single sentences (premise = generated point g), as before.
pub struct NliCoverMetric {
    /// The NLI model (shared with the other NLI metrics).
    pub model: Arc<NliModel>,
    /// P(entailment) at or above which a Key Development counts as covered (0.5 in
    /// [`nli_metrics`]).
    pub threshold: f64,
}

impl NliCoverMetric {
    fn window_text(generated: &[String], w: &std::ops::Range<usize>) -> String {
        generated[w.clone()].join(" ")
    }
}

impl Metric for NliCoverMetric {
    fn name(&self) -> &'static str {
        "kp_nli"
    }
    fn signature(&self) -> String {
        format!(
            "kp_nli:sim=nli-entail({}),t={},cover=best-window<={},match=hungarian",
            self.model.name(),
            self.threshold,
            kpeval::judge::MAX_WINDOW
        )
    }
    fn score(&self, input: &ScoreInput) -> std::result::Result<Vec<(String, Value)>, String> {
        self.score_batch(std::slice::from_ref(input))
            .pop()
            .unwrap_or_else(|| Err("no result".into()))
    }
    fn score_batch(
        &self,
        inputs: &[ScoreInput],
    ) -> Vec<std::result::Result<Vec<(String, Value)>, String>> {
        let mut pairs = Vec::new();
        for i in inputs {
            for w in kpeval::judge::windows(i.generated.len()) {
                let premise = Self::window_text(i.generated, &w);
                for k in i.references {
                    pairs.push((premise.clone(), k.clone()));
                }
            }
        }
        let probs = match predict_unique(&self.model, pairs) {
            Ok(p) => p,
            Err(e) => return inputs.iter().map(|_| Err(e.to_string())).collect(),
        };
        inputs
            .iter()
            .map(|i| {
                let sim: Vec<Vec<f64>> = i
                    .references
                    .iter()
                    .map(|k| {
                        i.generated
                            .iter()
                            .map(|g| round6(probs[&(g.clone(), k.clone())].entailment))
                            .collect()
                    })
                    .collect();
                let mut s = kpeval::metrics::alignment::kp_scores(&sim, self.threshold);
                let mut truncated = 0usize;
                for (ki, k) in i.references.iter().enumerate() {
                    let mut best: Option<(f64, std::ops::Range<usize>)> = None;
                    for w in kpeval::judge::windows(i.generated.len()) {
                        let p = &probs[&(Self::window_text(i.generated, &w), k.clone())];
                        if p.truncated > 0 {
                            truncated += 1;
                        }
                        let e = round6(p.entailment);
                        if best.as_ref().is_none_or(|(b, _)| e > *b) {
                            best = Some((e, w));
                        }
                    }
                    let (score, evidence) =
                        best.map(|(e, w)| (e, w.collect())).unwrap_or((0.0, Vec::new()));
                    s.key_points[ki] = kpeval::metrics::alignment::Verdict {
                        score,
                        covered: score >= self.threshold && !evidence.is_empty(),
                        evidence,
                        features: None,
                    };
                }
                let nk = s.key_points.len().max(1) as f64;
                s.coverage = round6(s.key_points.iter().map(|v| v.score).sum::<f64>() / nk);
                s.coverage_at_t = s.key_points.iter().filter(|v| v.covered).count() as f64 / nk;
                let f1 = |p: f64, r: f64| if p + r > 0.0 { 2.0 * p * r / (p + r) } else { 0.0 };
                s.f1 = f1(s.precision, s.coverage);
                s.f1_at_t = f1(s.precision_at_t, s.coverage_at_t);
                let mut v = serde_json::to_value(&s).map_err(|e| e.to_string())?;
                if truncated > 0 {
                    v["truncated_pairs"] = Value::from(truncated);
                }
                Ok(vec![("kp_nli".to_string(), v)])
            })
            .collect()
    }
}

/// The NLI metrics: faithfulness and `kp_nli` (key-point coverage on entailment, threshold 0.5).
pub fn nli_metrics(model: Arc<NliModel>) -> Vec<Box<dyn Metric>> {
    vec![
        Box::new(FaithfulnessMetric::new(model.clone())),
        Box::new(NliCoverMetric { model, threshold: 0.5 }),
    ]
}

/// The NLI metrics as one [`Metric`] (what `Backend::metric(MetricKind::Nli)` returns): fields
/// `faithfulness` and `kp_nli`.
pub struct NliMetrics {
    /// The metrics, in output order: faithfulness, then `kp_nli`.
    pub metrics: Vec<Box<dyn Metric>>,
}

impl NliMetrics {
    /// The [`nli_metrics`] of `model`, sharing it.
    pub fn new(model: Arc<NliModel>) -> Self {
        NliMetrics { metrics: nli_metrics(model) }
    }
}

impl Metric for NliMetrics {
    fn name(&self) -> &'static str {
        "nli"
    }
    fn signature(&self) -> String {
        self.metrics.iter().map(|m| m.signature()).collect::<Vec<_>>().join("|")
    }
    fn score(&self, input: &ScoreInput) -> std::result::Result<Vec<(String, Value)>, String> {
        self.score_batch(std::slice::from_ref(input))
            .pop()
            .unwrap_or_else(|| Err("no result".into()))
    }
    fn score_batch(
        &self,
        inputs: &[ScoreInput],
    ) -> Vec<std::result::Result<Vec<(String, Value)>, String>> {
        let mut out: Vec<std::result::Result<Vec<(String, Value)>, String>> =
            inputs.iter().map(|_| Ok(Vec::new())).collect();
        for m in &self.metrics {
            for (slot, r) in out.iter_mut().zip(m.score_batch(inputs)) {
                match (slot.as_mut(), r) {
                    (Ok(v), Ok(kv)) => v.extend(kv),
                    (Ok(_), Err(e)) => *slot = Err(format!("{}: {e}", m.name())),
                    (Err(_), _) => {}
                }
            }
        }
        out
    }
}
