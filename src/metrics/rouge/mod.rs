//! ROUGE with exact parity to Google's Python `rouge-score` 0.1.2 (`rouge_score.rouge_scorer`).
//!
//! * Tokenization is `rouge_score.tokenize.tokenize`: Python `str.lower()`, every run of
//!   characters outside `[a-z0-9]` becomes a separator, and (with the stemmer) tokens longer
//!   than 3 characters go through NLTK's Porter stemmer ([`super::porter`]). Of all non-ASCII
//!   characters only two survive Python's lowercasing as ASCII letters: U+0130 `İ` (lowercases
//!   to `i` + U+0307, so it acts as `i` followed by a separator) and U+212A KELVIN SIGN (`k`);
//!   everything else non-ASCII is a separator. This is what Python does for any input.
//! * `rougeN`: clipped n-gram overlap; precision = overlap / max(#prediction n-grams, 1),
//!   recall = overlap / max(#target n-grams, 1).
//! * `rougeL`: LCS of the two token sequences; 0/0/0 when either side has no tokens.
//! * `rougeLsum`: summary-level union LCS (`_summary_level_lcs` / `_union_lcs`), with the
//!   exact backtracking tie-break of rouge-score's `_backtrack_norec` (which decides *which*
//!   LCS enters the union) and its token-count clipping against double counting. Sentences are
//!   the `"\n"`-separated lines of each text.
//! * F1 is `scoring.fmeasure`: `2*p*r/(p+r)` if `p+r > 0`, else 0.
//!
//! `split_summaries = true`: rouge-score then splits sentences with `nltk.sent_tokenize`
//! (Punkt with its trained English model), which cannot be reproduced exactly without the
//! Punkt model data. In that mode this module instead uses a documented, punkt-free rule (see
//! [`split_sentence_starts`]): a sentence ends after `.`, `!` or `?` (optionally followed by
//! closing quotes or brackets) when whitespace follows. Only `rougeLsum` is affected, and that
//! mode is **not** covered by the parity fixture.
//!
//! Implementation: each text is tokenized (and each distinct word stemmed) once per call,
//! tokens are interned to dense `u32` ids, n-grams are packed into `u64` keys and counted by
//! sorting, rougeL uses a bit-parallel LCS (Hyyrö 2004; a rolling-row DP for huge inputs), and
//! rougeLsum stores each sentence pair's LCS table as bit rows ((|r|+1)·⌈|c|/64⌉ words instead
//! of rouge-score's |r|·|c| cells) and backtracks through it with rouge-score's tie-break.
//!
//! Parity is proven by `tests/rouge_parity.rs` against `tests/fixtures/rouge_parity.jsonl.gz`
//! (generated with rouge-score 0.1.2 by `eval/reference/gen_rouge_fixtures.py`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

mod lcs;
mod score;
#[cfg(test)]
mod tests;
mod tokenizer;

use score::PredPrep;
use tokenizer::{with_ctx, SentMode, TokSeq};

/// Precision, recall and F1 of one ROUGE type (rouge-score's `Score`, with `fmeasure` → `f1`).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Prf {
    /// Matches over the prediction's n-grams (or LCS length over its tokens), 0..1.
    pub precision: f64,
    /// Matches over the target's n-grams (or LCS length over its tokens), 0..1.
    pub recall: f64,
    /// rouge-score's `fmeasure`: harmonic mean of precision and recall (0 when both are 0).
    pub f1: f64,
}

impl Prf {
    /// All zeros (what rouge-score reports for an empty prediction or target).
    pub const ZERO: Prf = Prf { precision: 0.0, recall: 0.0, f1: 0.0 };

    /// Builds a score from precision and recall with rouge-score's `fmeasure`.
    pub fn from_pr(precision: f64, recall: f64) -> Prf {
        Prf { precision, recall, f1: fmeasure(precision, recall) }
    }
}

/// `rouge_score.scoring.fmeasure`.
#[inline]
pub fn fmeasure(precision: f64, recall: f64) -> f64 {
    if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    }
}

/// A ROUGE variant: `rouge1`..`rouge9`, `rougeL`, `rougeLsum`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RougeType {
    /// n-gram overlap, n in 1..=9.
    N(usize),
    /// Longest common subsequence over the whole texts.
    L,
    /// Summary-level (union) LCS over `"\n"`-separated sentences.
    Lsum,
}

impl RougeType {
    /// The rouge-score name: `"rouge1"`, `"rougeL"`, `"rougeLsum"`.
    pub fn name(&self) -> String {
        match self {
            RougeType::N(n) => format!("rouge{n}"),
            RougeType::L => "rougeL".to_string(),
            RougeType::Lsum => "rougeLsum".to_string(),
        }
    }

    fn is_valid(&self) -> bool {
        !matches!(self, RougeType::N(n) if !(1..=9).contains(n))
    }
}

impl fmt::Display for RougeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// Errors of this module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RougeError {
    /// A type name or n-gram order that is not a ROUGE type (the name given).
    #[error("invalid rouge type {0:?} (expected rouge1..rouge9, rougeL or rougeLsum)")]
    InvalidType(String),
}

impl FromStr for RougeType {
    type Err = RougeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "rougeL" => Ok(RougeType::L),
            "rougeLsum" => Ok(RougeType::Lsum),
            _ => {
                let b = s.as_bytes();
                if b.len() == 6 && s.starts_with("rouge") && (b'1'..=b'9').contains(&b[5]) {
                    Ok(RougeType::N((b[5] - b'0') as usize))
                } else {
                    Err(RougeError::InvalidType(s.to_string()))
                }
            }
        }
    }
}

impl Serialize for RougeType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

impl<'de> Deserialize<'de> for RougeType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Scorer configuration (rouge-score's `RougeScorer(rouge_types, use_stemmer, split_summaries)`).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct RougeConfig {
    /// Serialized as names (`"rouge1"`, `"rougeL"`, ...).
    pub types: Vec<RougeType>,
    /// Porter-stem tokens longer than three characters (rouge-score's `use_stemmer`).
    pub use_stemmer: bool,
    /// See the module docs: not rouge-score's Punkt splitting, a documented approximation.
    pub split_summaries: bool,
}

impl Default for RougeConfig {
    fn default() -> Self {
        RougeConfig {
            types: vec![RougeType::N(1), RougeType::N(2), RougeType::L, RougeType::Lsum],
            use_stemmer: true,
            split_summaries: false,
        }
    }
}

/// How [`RougeScorer::score_multi`] combines the scores against several targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MultiRef {
    /// rouge-score's `score_multi`: per type, the target with the highest F1 (the first one
    /// on ties, like `np.argmax`).
    Best,
    /// Per type, the arithmetic mean of each field (precision, recall, F1 separately) over the
    /// targets.
    Mean,
}

/// Tokenizes exactly as `rouge_score.tokenize.tokenize(text, PorterStemmer() if use_stemmer
/// else None)`.
pub fn tokenize(text: &str, use_stemmer: bool) -> Vec<String> {
    with_ctx(use_stemmer, |ctx| {
        let seq = ctx.tokenize(text, &SentMode::None);
        seq.ids
            .iter()
            .map(|&id| String::from_utf8_lossy(ctx.final_bytes(id)).into_owned())
            .collect()
    })
}

/// rouge-score's `RougeScorer` with its `DefaultTokenizer`.
#[derive(Clone, Debug)]
pub struct RougeScorer {
    cfg: RougeConfig,
}

impl RougeScorer {
    /// Panics if `cfg.types` holds `N(n)` with `n` outside 1..=9 (use [`RougeScorer::try_new`]
    /// to get an error instead).
    pub fn new(cfg: RougeConfig) -> Self {
        match Self::try_new(cfg) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        }
    }

    /// A scorer for `cfg`, or [`RougeError::InvalidType`] if a type is out of range.
    pub fn try_new(cfg: RougeConfig) -> Result<Self, RougeError> {
        if let Some(t) = cfg.types.iter().find(|t| !t.is_valid()) {
            return Err(RougeError::InvalidType(t.name()));
        }
        Ok(RougeScorer { cfg })
    }

    /// The configuration this scorer was built with.
    pub fn config(&self) -> &RougeConfig {
        &self.cfg
    }

    /// rouge-score's `score(target, prediction)`, in the order of `cfg.types`.
    pub fn score(&self, target: &str, prediction: &str) -> Vec<(RougeType, Prf)> {
        let mode_t = self.sent_mode(target);
        let mode_p = self.sent_mode(prediction);
        let (t, p, vocab) = with_ctx(self.cfg.use_stemmer, |ctx| {
            let t = ctx.tokenize(target, &mode_t);
            let p = ctx.tokenize(prediction, &mode_p);
            (t, p, ctx.vocab())
        });
        let mut prep = PredPrep::new(&self.cfg.types, &p, vocab);
        let scores = prep.score_target(&self.cfg.types, &t, &p);
        self.cfg.types.iter().copied().zip(scores).collect()
    }

    /// Scores `prediction` against several targets. `Best` is rouge-score's `score_multi`;
    /// `Mean` averages each field. With no targets every score is 0.
    pub fn score_multi(
        &self,
        targets: &[&str],
        prediction: &str,
        agg: MultiRef,
    ) -> Vec<(RougeType, Prf)> {
        let types = &self.cfg.types;
        if targets.is_empty() {
            return types.iter().map(|&t| (t, Prf::ZERO)).collect();
        }
        let (p, ts, vocab) = with_ctx(self.cfg.use_stemmer, |ctx| {
            let p = ctx.tokenize(prediction, &self.sent_mode(prediction));
            let ts: Vec<TokSeq> =
                targets.iter().map(|t| ctx.tokenize(t, &self.sent_mode(t))).collect();
            (p, ts, ctx.vocab())
        });
        let mut prep = PredPrep::new(types, &p, vocab);
        let mut acc: Vec<Prf> = vec![Prf::ZERO; types.len()];
        let mut best_f: Vec<f64> = vec![f64::NEG_INFINITY; types.len()];
        for t in &ts {
            let scores = prep.score_target(types, t, &p);
            for (k, s) in scores.into_iter().enumerate() {
                match agg {
                    MultiRef::Best => {
                        // np.argmax: the first maximum wins.
                        if s.f1 > best_f[k] {
                            best_f[k] = s.f1;
                            acc[k] = s;
                        }
                    }
                    MultiRef::Mean => {
                        acc[k].precision += s.precision;
                        acc[k].recall += s.recall;
                        acc[k].f1 += s.f1;
                    }
                }
            }
        }
        if agg == MultiRef::Mean {
            let n = ts.len() as f64;
            for a in &mut acc {
                a.precision /= n;
                a.recall /= n;
                a.f1 /= n;
            }
        }
        types.iter().copied().zip(acc).collect()
    }

    fn sent_mode(&self, text: &str) -> SentMode {
        if !self.cfg.types.contains(&RougeType::Lsum) {
            SentMode::None
        } else if self.cfg.split_summaries {
            SentMode::Starts(split_sentence_starts(text))
        } else {
            SentMode::Newline
        }
    }
}

/// The punkt-free sentence rule used when `split_summaries` is set (NOT nltk's
/// `sent_tokenize`): returns the byte offsets at which a new sentence starts. A sentence ends
/// after a run of `.`, `!`, `?` that is optionally followed by closing quotes/brackets
/// (`"'’”»)]}`) and then by whitespace; the boundary is that whitespace character.
pub fn split_sentence_starts(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut state = 0u8; // 0: normal, 1: after terminator (and closers)
    for (i, c) in text.char_indices() {
        match c {
            '.' | '!' | '?' => state = 1,
            '"' | '\'' | '’' | '”' | '»' | ')' | ']' | '}' if state == 1 => {}
            c if c.is_whitespace() => {
                if state == 1 {
                    out.push(i);
                }
                state = 0;
            }
            _ => state = 0,
        }
    }
    out
}
