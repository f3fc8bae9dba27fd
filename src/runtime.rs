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

/// Bytes the model-output memos of one metric hold at most (token vectors of about 2,000
/// sentences): memory stays flat whatever the corpus size.
pub const MEMO_BUDGET: usize = 64 << 20;

/// The memory a memoized value holds, for a [`Memo`]'s budget.
pub trait Weigh {
    /// Approximate heap bytes.
    fn weigh(&self) -> usize;
}

impl Weigh for TokenVectors {
    fn weigh(&self) -> usize {
        self.vectors.iter().map(|v| v.len() * 4 + 24).sum::<usize>() + self.special.len() + 64
    }
}

impl Weigh for Vec<f32> {
    fn weigh(&self) -> usize {
        self.len() * 4 + 24
    }
}

/// Per-text model outputs, memoized within a memory budget. Values must be pure functions of
/// the text (each text encoded on its own, no padding): then a value recomputed after eviction
/// is the one that was evicted, and results do not depend on what the memo held. Two
/// generations: a hit in the older one moves the value to the newer; when the newer outgrows
/// half the budget, it becomes the older and the older is dropped.
pub struct Memo<T> {
    inner: std::sync::Mutex<Generations<T>>,
    budget: usize,
}

struct Generations<T> {
    new: std::collections::HashMap<String, std::sync::Arc<T>>,
    old: std::collections::HashMap<String, std::sync::Arc<T>>,
    new_bytes: usize,
}

impl<T: Weigh> Memo<T> {
    /// An empty memo holding about `budget` bytes at most.
    pub fn new(budget: usize) -> Self {
        Memo {
            inner: std::sync::Mutex::new(Generations {
                new: Default::default(),
                old: Default::default(),
                new_bytes: 0,
            }),
            budget: budget.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Generations<T>> {
        // the maps stay consistent whatever panicked while the lock was held
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The value of `text`, when memoized.
    pub fn get(&self, text: &str) -> Option<std::sync::Arc<T>> {
        let mut g = self.lock();
        if let Some(v) = g.new.get(text) {
            return Some(v.clone());
        }
        let v = g.old.remove(text)?;
        Self::put(&mut g, self.budget, text.to_string(), v.clone());
        Some(v)
    }

    fn put(g: &mut Generations<T>, budget: usize, text: String, v: std::sync::Arc<T>) {
        let bytes = v.weigh() + text.len() + 48;
        if g.new_bytes + bytes > budget / 2 {
            g.old = std::mem::take(&mut g.new);
            g.new_bytes = 0;
        }
        g.new_bytes += bytes;
        g.new.insert(text, v);
    }

    /// Memoizes `text`'s value.
    pub fn insert(&self, text: &str, v: std::sync::Arc<T>) {
        let mut g = self.lock();
        if !g.new.contains_key(text) {
            Self::put(&mut g, self.budget, text.to_string(), v);
        }
    }

    /// The value of `text`, computed (and memoized) when it is not memoized.
    pub fn get_or<E>(
        &self,
        text: &str,
        compute: impl FnOnce() -> std::result::Result<T, E>,
    ) -> std::result::Result<std::sync::Arc<T>, E> {
        if let Some(v) = self.get(text) {
            return Ok(v);
        }
        let v = std::sync::Arc::new(compute()?);
        self.insert(text, v.clone());
        Ok(v)
    }

    /// The values of `texts`, in order: the memoized ones, and the others computed together by
    /// one call of `compute` (each distinct missing text once, in first-seen order), which a
    /// model runtime can spread over its threads. `compute` must give one value per text.
    pub fn get_many(
        &self,
        texts: &[&str],
        compute: impl FnOnce(&[String]) -> std::result::Result<Vec<T>, String>,
    ) -> std::result::Result<Vec<std::sync::Arc<T>>, String> {
        let mut out: Vec<Option<std::sync::Arc<T>>> = texts.iter().map(|t| self.get(t)).collect();
        let mut missing: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (t, v) in texts.iter().zip(&out) {
            if v.is_none() && seen.insert(*t) {
                missing.push(t.to_string());
            }
        }
        if !missing.is_empty() {
            let values = compute(&missing)?;
            if values.len() != missing.len() {
                return Err(format!(
                    "the model gave {} outputs for {} texts",
                    values.len(),
                    missing.len()
                ));
            }
            let computed: std::collections::HashMap<&str, std::sync::Arc<T>> = missing
                .iter()
                .map(|s| s.as_str())
                .zip(values.into_iter().map(std::sync::Arc::new))
                .collect();
            for (t, slot) in texts.iter().zip(out.iter_mut()) {
                if slot.is_none() {
                    *slot = computed.get(t).cloned();
                }
            }
            for t in &missing {
                self.insert(t, computed[t.as_str()].clone());
            }
        }
        Ok(out.into_iter().flatten().collect())
    }
}

#[cfg(test)]
mod memo_tests {
    use super::*;

    #[test]
    fn memo_stays_within_its_budget_and_recomputes_what_it_evicted() {
        let memo: Memo<Vec<f32>> = Memo::new(10_000);
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let value = |t: &str| vec![t.len() as f32; 100];
        for round in 0..3 {
            for i in 0..200 {
                let t = format!("text {i}");
                let v = memo
                    .get_or(&t, || {
                        calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        Ok::<_, String>(value(&t))
                    })
                    .unwrap();
                assert_eq!(*v, value(&t), "round {round}");
            }
            let g = memo.lock();
            let held: usize = g.new.values().chain(g.old.values()).map(|v| v.weigh()).sum();
            assert!(held <= 10_000, "{held} bytes held");
        }
        // 200 texts of ~450 bytes do not fit in 10 kB: evicted texts were computed again
        assert!(calls.load(std::sync::atomic::Ordering::Relaxed) > 200);
        // get_many: memoized texts are not computed again; missing ones are computed once each
        let texts = ["a", "b", "a", "text 199"];
        let got = memo
            .get_many(&texts, |missing| {
                assert_eq!(missing, ["a", "b"]);
                Ok(missing.iter().map(|t| value(t)).collect())
            })
            .unwrap();
        assert_eq!(got.len(), 4);
        assert_eq!(*got[2], value("a"));
        assert!(memo.get_many(&["zz"], |_| Ok(Vec::new())).is_err(), "a short answer is an error");
    }
}
