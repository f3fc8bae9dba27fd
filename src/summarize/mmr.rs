//! Embedding centroid / MMR extractive summarizer: sentences are embedded with the
//! sentence-embedding model; each step takes the sentence maximizing
//! λ·cos(sentence, centroid) − (1−λ)·max cos(sentence, already chosen) (Carbonell & Goldstein
//! 1998); the chosen sentences are returned in article order.
use super::{SourceText, Summarizer, Summary};
use crate::error::RecordError;
use crate::keypoints::split_sentences;
use crate::runtime::Embedder;

/// The `mmr-K` summarizer: K sentences by maximal marginal relevance to the centroid embedding.
pub struct Mmr {
    /// Sentences to take.
    pub k: usize,
    /// Weight of relevance (cosine to the centroid) against redundancy, 0..1.
    pub lambda: f64,
    /// The sentence-embedding model.
    pub embedder: Box<dyn Embedder>,
}

/// Cosine similarity of two vectors, accumulated in f64 (0 for a zero vector).
pub(crate) fn cos(a: &[f32], b: &[f32]) -> f64 {
    let (mut d, mut na, mut nb) = (0f64, 0f64, 0f64);
    for (x, y) in a.iter().zip(b) {
        d += *x as f64 * *y as f64;
        na += *x as f64 * *x as f64;
        nb += *y as f64 * *y as f64;
    }
    if na > 0.0 && nb > 0.0 {
        d / (na.sqrt() * nb.sqrt())
    } else {
        0.0
    }
}

/// Indices chosen by MMR from sentence embeddings, in article order.
pub fn mmr_select(emb: &[Vec<f32>], k: usize, lambda: f64) -> Vec<usize> {
    let n = emb.len();
    if n <= k {
        return (0..n).collect();
    }
    let dim = emb[0].len();
    let mut centroid = vec![0f32; dim];
    for e in emb {
        for (c, x) in centroid.iter_mut().zip(e) {
            *c += x / n as f32;
        }
    }
    let rel: Vec<f64> = emb.iter().map(|e| cos(e, &centroid)).collect();
    let mut chosen: Vec<usize> = Vec::new();
    while chosen.len() < k {
        let mut best = (f64::NEG_INFINITY, usize::MAX);
        for i in (0..n).filter(|i| !chosen.contains(i)) {
            let red = chosen.iter().map(|&j| cos(&emb[i], &emb[j])).fold(0.0f64, f64::max);
            let score = lambda * rel[i] - (1.0 - lambda) * red;
            // Round so that float noise cannot reorder near-ties between thread counts.
            let score = (score * 1e9).round() / 1e9;
            if score > best.0 {
                best = (score, i);
            }
        }
        chosen.push(best.1);
    }
    chosen.sort_unstable();
    chosen
}

impl Summarizer for Mmr {
    fn name(&self) -> String {
        format!("mmr-{}", self.k)
    }
    fn signature(&self) -> String {
        format!("mmr-{}(lambda={},emb={})", self.k, self.lambda, self.embedder.name())
    }
    fn summarize(&self, batch: &[SourceText]) -> Vec<Result<Summary, RecordError>> {
        let sents: Vec<Vec<String>> = batch.iter().map(|s| split_sentences(&s.text)).collect();
        let all: Vec<String> = sents.iter().flatten().cloned().collect();
        let emb = match self.embedder.embed(&all) {
            Ok(e) => e,
            Err(e) => {
                return batch
                    .iter()
                    .map(|s| Err(RecordError::new("summarize", format!("record '{}': {e}", s.id))))
                    .collect()
            }
        };
        let mut offset = 0;
        batch
            .iter()
            .zip(&sents)
            .map(|(s, ss)| {
                let e = &emb[offset..offset + ss.len()];
                offset += ss.len();
                if ss.is_empty() {
                    return Err(RecordError::new(
                        "summarize",
                        format!("record '{}': the selected source text is empty", s.id),
                    ));
                }
                let kp: Vec<String> =
                    mmr_select(e, self.k, self.lambda).into_iter().map(|i| ss[i].clone()).collect();
                let notes = if ss.len() < self.k {
                    vec![format!(
                        "source has only {} sentence(s); mmr-{} took all",
                        ss.len(),
                        self.k
                    )]
                } else {
                    Vec::new()
                };
                Ok(Summary { system: self.name(), text: kp.join("\n"), key_points: kp, notes })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mmr_prefers_central_and_avoids_duplicates() {
        let emb = vec![
            vec![1.0, 0.0, 0.0],
            vec![0.9, 0.1, 0.0],
            vec![0.9, 0.1, 0.0],
            vec![0.0, 0.0, 1.0],
            vec![0.7, 0.7, 0.0],
        ];
        let chosen = mmr_select(&emb, 2, 0.5);
        assert_eq!(chosen.len(), 2);
        assert!(
            !(chosen.contains(&1) && chosen.contains(&2)),
            "the duplicate pair is not both chosen: {chosen:?}"
        );
    }
}
