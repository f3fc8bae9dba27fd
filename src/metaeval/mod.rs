//! Meta-evaluation: how well a metric agrees with human judgments present in the records
//! (`meta` fields such as SummEval's `relevance` or FRANK's `human_factuality`).
//! Pearson, Spearman and Kendall τ-b at three levels — summary-level pooled over all
//! (document, system) pairs, per-document averaged (correlation across the systems of each
//! document, averaged), and system-level (correlation of per-system means) — each with a
//! bootstrap CI from resampling documents.
mod correlations;
mod units;

pub use correlations::{correlate, kendall_tau_b, pearson, ranks, spearman, Corr};
pub use units::{
    calibration, collect_units, expected_calibration_error, parse_unit_labels, roc_auc,
    unit_evaluate, unit_markdown, unit_metric_names, verdict_list, CalibrationBin, Confusion,
    Skipped, UnitLabels, UnitPoint, UnitRecord, UnitResult, UnitSkip, CALIBRATION_BINS,
};

use crate::stats::{estimate, Estimate, StatsConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One scored summary: document id, system, metric values and human values.
#[derive(Debug, Clone)]
pub struct Point {
    /// The document (article) id; bootstrap resamples draw documents.
    pub doc: String,
    /// The system that wrote the summary.
    pub system: String,
    /// The metric's value for this summary.
    pub metric: f64,
    /// The human judgment of this summary.
    pub human: f64,
}

/// The level at which metric and human values are correlated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    /// Over all (document, system) pairs pooled.
    Summary,
    /// Across the systems of each document, averaged over documents (NaN documents left out).
    Document,
    /// Between per-system means over all documents.
    System,
}

/// Documents in a fixed order, each with its (system, metric, human) points.
struct Docs<'a> {
    docs: Vec<Vec<&'a Point>>,
}

impl<'a> Docs<'a> {
    fn new(points: &'a [Point]) -> Self {
        let mut m: BTreeMap<&str, Vec<&Point>> = BTreeMap::new();
        for p in points {
            m.entry(p.doc.as_str()).or_default().push(p);
        }
        Docs { docs: m.into_values().collect() }
    }

    fn level(&self, level: Level, corr: Corr, pick: &[usize]) -> f64 {
        match level {
            Level::Summary => {
                let (x, y): (Vec<f64>, Vec<f64>) = pick
                    .iter()
                    .flat_map(|&d| self.docs[d].iter().map(|p| (p.metric, p.human)))
                    .unzip();
                correlate(corr, &x, &y)
            }
            Level::Document => {
                let vals: Vec<f64> = pick
                    .iter()
                    .map(|&d| {
                        let (x, y): (Vec<f64>, Vec<f64>) =
                            self.docs[d].iter().map(|p| (p.metric, p.human)).unzip();
                        correlate(corr, &x, &y)
                    })
                    .filter(|v| v.is_finite())
                    .collect();
                if vals.is_empty() {
                    f64::NAN
                } else {
                    vals.iter().sum::<f64>() / vals.len() as f64
                }
            }
            Level::System => {
                let mut acc: BTreeMap<&str, (f64, f64, f64)> = BTreeMap::new();
                for &d in pick {
                    for p in &self.docs[d] {
                        let e = acc.entry(p.system.as_str()).or_default();
                        e.0 += p.metric;
                        e.1 += p.human;
                        e.2 += 1.0;
                    }
                }
                let (x, y): (Vec<f64>, Vec<f64>) =
                    acc.values().map(|(m, h, n)| (m / n, h / n)).unzip();
                correlate(corr, &x, &y)
            }
        }
    }
}

/// The documents (indices `0..nd`) drawn with replacement by each bootstrap resample: resample
/// b uses ChaCha8 seeded with `cfg.seed` on stream b, so every statistic of one run (and of the
/// unit level) sees the same resamples.
fn doc_picks(nd: usize, cfg: &StatsConfig) -> Vec<Vec<usize>> {
    (0..cfg.bootstrap_samples as u64)
        .map(|b| {
            let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
            rng.set_stream(b);
            (0..nd).map(|_| rng.gen_range(0..nd)).collect()
        })
        .collect()
}

/// One correlation with its bootstrap CI (documents resampled).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetaResult {
    /// The metric field (flattened, e.g. `rouge1.f1`).
    pub metric: String,
    /// The `meta` field of the human judgments.
    pub human: String,
    /// The level of the correlation.
    pub level: Level,
    /// The coefficient.
    pub correlation: Corr,
    /// The correlation on all documents, with its bootstrap CI.
    pub value: Estimate,
    /// Documents in the data (the bootstrap unit).
    pub documents: usize,
    /// (document, system) points in the data.
    pub summaries: usize,
}

/// Correlates `metric` with `human` over `points` at each of `levels` with each of `corrs`,
/// with CIs from resampling documents (`cfg`); one result per level × coefficient, in that order.
pub fn meta_evaluate(
    points: &[Point],
    metric: &str,
    human: &str,
    levels: &[Level],
    corrs: &[Corr],
    cfg: &StatsConfig,
) -> Vec<MetaResult> {
    use rayon::prelude::*;
    let docs = Docs::new(points);
    let nd = docs.docs.len();
    let all: Vec<usize> = (0..nd).collect();
    let picks = doc_picks(nd, cfg);
    let mut out = Vec::new();
    for &level in levels {
        for &corr in corrs {
            let point = docs.level(level, corr, &all);
            let samples: Vec<f64> = picks
                .par_iter()
                .map(|p| docs.level(level, corr, p))
                .filter(|v| v.is_finite())
                .collect();
            out.push(MetaResult {
                metric: metric.to_string(),
                human: human.to_string(),
                level,
                correlation: corr,
                value: estimate(point, samples, nd, cfg),
                documents: nd,
                summaries: points.len(),
            });
        }
    }
    out
}

/// Markdown: one row per (human, metric), one column per level × correlation.
pub fn markdown(results: &[MetaResult]) -> String {
    let mut cols: Vec<(Level, Corr)> = Vec::new();
    for r in results {
        if !cols.contains(&(r.level, r.correlation)) {
            cols.push((r.level, r.correlation));
        }
    }
    let name = |l: Level, c: Corr| {
        let l = match l {
            Level::Summary => "summary",
            Level::Document => "per-doc",
            Level::System => "system",
        };
        let c = match c {
            Corr::Pearson => "r",
            Corr::Spearman => "ρ",
            Corr::KendallTauB => "τ-b",
        };
        format!("{l} {c}")
    };
    let mut out = format!(
        "| human | metric | {} |\n|---|---|{}\n",
        cols.iter().map(|(l, c)| name(*l, *c)).collect::<Vec<_>>().join(" | "),
        cols.iter().map(|_| "---:|").collect::<String>()
    );
    let mut rows: Vec<(&str, &str)> = Vec::new();
    for r in results {
        if !rows.contains(&(r.human.as_str(), r.metric.as_str())) {
            rows.push((r.human.as_str(), r.metric.as_str()));
        }
    }
    for (h, m) in rows {
        let cells: Vec<String> = cols
            .iter()
            .map(|(l, c)| {
                results
                    .iter()
                    .find(|r| r.human == h && r.metric == m && r.level == *l && r.correlation == *c)
                    .map(|r| {
                        format!(
                            "{:.3} [{:.3}, {:.3}]",
                            r.value.mean, r.value.ci_low, r.value.ci_high
                        )
                    })
                    .unwrap_or_default()
            })
            .collect();
        out.push_str(&format!("| {h} | {m} | {} |\n", cells.join(" | ")));
    }
    out
}

#[cfg(test)]
mod tests;
