//! The scoring interface: what a metric sees of a record ([`ScoreInput`]), the [`Metric`] trait
//! every metric implements, and the metric families `--metrics` names ([`MetricKind`]).
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use std::str::FromStr;

/// What one metric sees for one record.
#[derive(Debug, Clone, Copy)]
pub struct ScoreInput<'a> {
    /// Generated key points (summary sentences).
    pub generated: &'a [String],
    /// The summary text as given/generated (ROUGE, BLEU and chrF score this string, as the
    /// reference implementations would: newlines delimit sentences for ROUGE-Lsum).
    pub summary: &'a str,
    /// Reference key points (Key Developments).
    pub references: &'a [String],
    /// The source text that was summarized (for faithfulness metrics).
    pub article: &'a str,
}

/// A metric: named numbers for each input. `score_batch` lets model-backed metrics batch.
pub trait Metric: Send + Sync {
    /// Name of the metric family (`rouge`, `bleu`, …).
    fn name(&self) -> &'static str;
    /// Settings for the results signature.
    fn signature(&self) -> String;
    /// Scores one record: (field name, value) pairs to put under `scores`.
    fn score(&self, input: &ScoreInput) -> Result<Vec<(String, Value)>, String>;
    /// Scores a batch; the default scores each input on its own.
    fn score_batch(&self, inputs: &[ScoreInput]) -> Vec<Result<Vec<(String, Value)>, String>> {
        use rayon::prelude::*;
        inputs.par_iter().map(|i| self.score(i)).collect()
    }
}

/// The metric families kpeval knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MetricKind {
    /// ROUGE-N/L/Lsum (rouge-score).
    Rouge,
    /// BLEU (sacreBLEU).
    Bleu,
    /// chrF (sacreBLEU).
    Chrf,
    /// chrF++ (sacreBLEU, word bigrams).
    ChrfPp,
    /// SQuAD-style token F1.
    TokenF1,
    /// Key-point alignment/coverage on ROUGE-1 F similarity (no model).
    KpRouge,
    /// Key-point alignment/coverage on embedding similarity (needs the embedding model).
    Kp,
    /// Key-point alignment/coverage on token alignment with the embedding model's contextual
    /// token vectors (BERTScore-style greedy matching between a key point and a generated point).
    KpTok,
    /// The coverage judge: a verdict per Key Development from lexical and MiniLM evidence
    /// combined by a fitted preset (needs the embedding model).
    KpCover,
    /// BERTScore with the embedding model.
    Bertscore,
    /// Key-point alignment on NLI entailment and SummaC-style faithfulness (needs an NLI model).
    Nli,
}

impl MetricKind {
    /// Every family, in signature order.
    pub const ALL: [MetricKind; 11] = [
        MetricKind::Rouge,
        MetricKind::Bleu,
        MetricKind::Chrf,
        MetricKind::ChrfPp,
        MetricKind::TokenF1,
        MetricKind::KpRouge,
        MetricKind::Kp,
        MetricKind::KpTok,
        MetricKind::KpCover,
        MetricKind::Bertscore,
        MetricKind::Nli,
    ];
    /// Its `--metrics` name.
    pub fn name(self) -> &'static str {
        match self {
            MetricKind::Rouge => "rouge",
            MetricKind::Bleu => "bleu",
            MetricKind::Chrf => "chrf",
            MetricKind::ChrfPp => "chrf++",
            MetricKind::TokenF1 => "token-f1",
            MetricKind::KpRouge => "kp-rouge",
            MetricKind::Kp => "kp",
            MetricKind::KpTok => "kp-tok",
            MetricKind::KpCover => "kp-cover",
            MetricKind::Bertscore => "bertscore",
            MetricKind::Nli => "nli",
        }
    }
    /// Whether the metric runs a model (and so needs the libtorch binary).
    pub fn needs_models(self) -> bool {
        matches!(
            self,
            MetricKind::Kp
                | MetricKind::KpTok
                | MetricKind::KpCover
                | MetricKind::Bertscore
                | MetricKind::Nli
        )
    }
}

impl fmt::Display for MetricKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for MetricKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim().to_lowercase();
        let alias = match s.as_str() {
            "chrfpp" | "chrf-pp" | "chrf++" => "chrf++",
            "tokenf1" | "token_f1" | "f1" => "token-f1",
            "embedding" | "semantic" => "kp",
            "kp_tok" | "kptok" | "kp-token" => "kp-tok",
            "kp_cover" | "kpcover" | "cover" | "coverage" => "kp-cover",
            other => other,
        };
        MetricKind::ALL.iter().copied().find(|m| m.name() == alias).ok_or_else(|| {
            let names: Vec<_> = MetricKind::ALL.iter().map(|m| m.name()).collect();
            format!("unknown metric '{s}' (known: {}, overlap, default, all)", names.join(", "))
        })
    }
}

/// Parses `--metrics`: a comma list of metric names, `overlap` (every metric without a model) or `all`.
pub fn parse_metrics(spec: &str) -> Result<Vec<MetricKind>, String> {
    let mut out = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let kinds: Vec<MetricKind> = match part {
            "all" => MetricKind::ALL.to_vec(),
            "overlap" => MetricKind::ALL.iter().copied().filter(|m| !m.needs_models()).collect(),
            "default" => MetricKind::ALL
                .iter()
                .copied()
                .filter(|m| {
                    !m.needs_models()
                        || matches!(m, MetricKind::Kp | MetricKind::KpTok | MetricKind::KpCover)
                })
                .collect(),
            other => vec![other.parse()?],
        };
        for k in kinds {
            if !out.contains(&k) {
                out.push(k);
            }
        }
    }
    if out.is_empty() {
        return Err("no metric selected".into());
    }
    Ok(out)
}
