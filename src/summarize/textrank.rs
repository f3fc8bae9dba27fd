//! TextRank (Mihalcea & Tarau 2004) over a sentence-similarity graph: similarity is the number
//! of shared (lowercased, stemmed) content words normalized by log lengths; PageRank with damping
//! 0.85; the top-k sentences are returned in article order.
use super::{SourceText, Summarizer, Summary};
use crate::error::RecordError;
use crate::keypoints::split_sentences;
use crate::metrics::rouge::tokenize;
use std::collections::HashSet;

/// The `textrank-K` summarizer (no model).
#[derive(Debug, Clone)]
pub struct TextRank {
    /// Sentences to take.
    pub k: usize,
    /// PageRank damping factor (0.85).
    pub damping: f64,
    /// Most power iterations (100).
    pub iterations: usize,
    /// Stop when the L1 change of the scores falls below this (1e-8).
    pub tolerance: f64,
}

impl TextRank {
    /// TextRank taking `k` sentences, with the defaults above.
    pub fn new(k: usize) -> Self {
        TextRank { k, damping: 0.85, iterations: 100, tolerance: 1e-8 }
    }

    /// Indices of the selected sentences, in article order.
    pub fn select(&self, sentences: &[String]) -> Vec<usize> {
        let n = sentences.len();
        if n <= self.k {
            return (0..n).collect();
        }
        let words: Vec<HashSet<String>> =
            sentences.iter().map(|s| tokenize(s, true).into_iter().collect()).collect();
        let mut w = vec![0.0f64; n * n];
        for i in 0..n {
            for j in (i + 1)..n {
                let (a, b) = (&words[i], &words[j]);
                if a.len() < 2 || b.len() < 2 {
                    continue;
                }
                let shared = a.intersection(b).count() as f64;
                if shared > 0.0 {
                    let s = shared / ((a.len() as f64).ln() + (b.len() as f64).ln());
                    w[i * n + j] = s;
                    w[j * n + i] = s;
                }
            }
        }
        let out_sum: Vec<f64> = (0..n).map(|i| w[i * n..(i + 1) * n].iter().sum()).collect();
        let mut score = vec![1.0 / n as f64; n];
        for _ in 0..self.iterations {
            let mut next = vec![(1.0 - self.damping) / n as f64; n];
            for j in 0..n {
                if out_sum[j] == 0.0 {
                    // Dangling node: spread its score evenly.
                    let share = self.damping * score[j] / n as f64;
                    next.iter_mut().for_each(|x| *x += share);
                    continue;
                }
                for i in 0..n {
                    let wji = w[j * n + i];
                    if wji != 0.0 {
                        next[i] += self.damping * score[j] * wji / out_sum[j];
                    }
                }
            }
            let delta: f64 = next.iter().zip(&score).map(|(a, b)| (a - b).abs()).sum();
            score = next;
            if delta < self.tolerance {
                break;
            }
        }
        let mut idx: Vec<usize> = (0..n).collect();
        // Highest score first; ties go to the earlier sentence (deterministic).
        idx.sort_by(|&a, &b| {
            score[b].partial_cmp(&score[a]).unwrap_or(std::cmp::Ordering::Equal).then(a.cmp(&b))
        });
        let mut chosen: Vec<usize> = idx.into_iter().take(self.k).collect();
        chosen.sort_unstable();
        chosen
    }
}

impl Summarizer for TextRank {
    fn name(&self) -> String {
        format!("textrank-{}", self.k)
    }
    fn signature(&self) -> String {
        format!("textrank-{}(d={},sim=stemmed-overlap,distinct)", self.k, self.damping)
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
                // A sentence repeated in the source is one node (else its copies, equally central,
                // would fill the summary with the same point).
                let mut seen = std::collections::HashSet::new();
                let distinct: Vec<String> =
                    sents.iter().filter(|t| seen.insert(t.as_str())).cloned().collect();
                let mut notes = Vec::new();
                if distinct.len() < sents.len() {
                    notes.push(format!(
                        "{} repeated sentence(s) of the source counted once",
                        sents.len() - distinct.len()
                    ));
                }
                if distinct.len() < self.k {
                    notes.push(format!(
                        "source has only {} distinct sentence(s); textrank-{} took all",
                        distinct.len(),
                        self.k
                    ));
                }
                let kp: Vec<String> =
                    self.select(&distinct).into_iter().map(|i| distinct[i].clone()).collect();
                Ok(Summary { system: self.name(), text: kp.join("\n"), key_points: kp, notes })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn central_sentence_wins() {
        let s: Vec<String> = vec![
            "Cats eat fish daily.".into(),
            "The president met leaders about trade talks and tariffs.".into(),
            "Trade talks with leaders on tariffs went well for the president.".into(),
            "The president said tariffs and trade talks continue with leaders.".into(),
        ];
        let tr = TextRank::new(1);
        let chosen = tr.select(&s);
        assert_eq!(chosen.len(), 1);
        assert_ne!(chosen[0], 0, "the off-topic sentence must not be the most central");
    }

    /// Regression (review of session 9): a sentence repeated in the article was picked twice.
    #[test]
    fn repeated_sentences_are_one_candidate() {
        let text = "The cat sat on the mat. The cat sat on the mat. The cat sat on the mat. The dog ran to the park. The dog ran to the park.";
        let out = TextRank::new(3)
            .summarize(&[SourceText { id: "a".into(), text: text.into() }])
            .remove(0)
            .unwrap();
        assert_eq!(
            out.key_points,
            vec!["The cat sat on the mat.".to_string(), "The dog ran to the park.".to_string()]
        );
        assert_eq!(
            out.notes,
            vec![
                "3 repeated sentence(s) of the source counted once".to_string(),
                "source has only 2 distinct sentence(s); textrank-3 took all".to_string()
            ]
        );
    }
}
