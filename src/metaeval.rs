//! Meta-evaluation: how well a metric agrees with human judgments present in the records
//! (`meta` fields such as SummEval's `relevance` or FRANK's `human_factuality`).
//! Pearson, Spearman and Kendall τ-b at three levels — summary-level pooled over all
//! (document, system) pairs, per-document averaged (correlation across the systems of each
//! document, averaged), and system-level (correlation of per-system means) — each with a
//! bootstrap CI from resampling documents.
use crate::stats::{estimate, Estimate, StatsConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One scored summary: document id, system, metric values and human values.
#[derive(Debug, Clone)]
pub struct Point {
    pub doc: String,
    pub system: String,
    pub metric: f64,
    pub human: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    Summary,
    Document,
    System,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Corr {
    Pearson,
    Spearman,
    KendallTauB,
}

pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    if x.len() < 2 {
        return f64::NAN;
    }
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    if sxx == 0.0 || syy == 0.0 {
        return f64::NAN;
    }
    sxy / (sxx * syy).sqrt()
}

/// Average ranks (1-based), ties get the mean rank.
pub fn ranks(x: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..x.len()).collect();
    idx.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut r = vec![0.0; x.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && x[idx[j + 1]] == x[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for k in i..=j {
            r[idx[k]] = avg;
        }
        i = j + 1;
    }
    r
}

pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    pearson(&ranks(x), &ranks(y))
}

fn tie_pairs(sorted: &[f64]) -> f64 {
    let mut total = 0.0;
    let mut i = 0;
    while i < sorted.len() {
        let mut j = i;
        while j + 1 < sorted.len() && sorted[j + 1] == sorted[i] {
            j += 1;
        }
        let t = (j - i + 1) as f64;
        total += t * (t - 1.0) / 2.0;
        i = j + 1;
    }
    total
}

/// Kendall τ-b (ties corrected), O(n log n) (Knight 1966), as scipy.stats.kendalltau.
pub fn kendall_tau_b(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len();
    if n < 2 {
        return f64::NAN;
    }
    let mut pairs: Vec<(f64, f64)> = x.iter().copied().zip(y.iter().copied()).collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let n0 = n as f64 * (n as f64 - 1.0) / 2.0;
    let xs: Vec<f64> = pairs.iter().map(|p| p.0).collect();
    let n1 = tie_pairs(&xs);
    // Joint ties.
    let mut n3 = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && pairs[j + 1] == pairs[i] {
            j += 1;
        }
        let t = (j - i + 1) as f64;
        n3 += t * (t - 1.0) / 2.0;
        i = j + 1;
    }
    // Count discordant pairs as inversions of y in x-order (merge sort).
    let mut ys: Vec<f64> = pairs.iter().map(|p| p.1).collect();
    let mut buf = ys.clone();
    let swaps = merge_count(&mut ys, &mut buf);
    let n2 = tie_pairs(&ys);
    let denom = ((n0 - n1) * (n0 - n2)).sqrt();
    if denom == 0.0 {
        return f64::NAN;
    }
    (n0 - n1 - n2 + n3 - 2.0 * swaps) / denom
}

fn merge_count(a: &mut [f64], buf: &mut [f64]) -> f64 {
    let n = a.len();
    if n < 2 {
        return 0.0;
    }
    let mid = n / 2;
    let mut swaps = {
        let (l, r) = a.split_at_mut(mid);
        let (bl, br) = buf.split_at_mut(mid);
        merge_count(l, bl) + merge_count(r, br)
    };
    let (mut i, mut j, mut k) = (0, mid, 0);
    while i < mid && j < n {
        if a[j] < a[i] {
            buf[k] = a[j];
            swaps += (mid - i) as f64;
            j += 1;
        } else {
            buf[k] = a[i];
            i += 1;
        }
        k += 1;
    }
    while i < mid {
        buf[k] = a[i];
        i += 1;
        k += 1;
    }
    while j < n {
        buf[k] = a[j];
        j += 1;
        k += 1;
    }
    a.copy_from_slice(&buf[..n]);
    swaps
}

pub fn correlate(c: Corr, x: &[f64], y: &[f64]) -> f64 {
    match c {
        Corr::Pearson => pearson(x, y),
        Corr::Spearman => spearman(x, y),
        Corr::KendallTauB => kendall_tau_b(x, y),
    }
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
                let (x, y): (Vec<f64>, Vec<f64>) = pick.iter().flat_map(|&d| self.docs[d].iter().map(|p| (p.metric, p.human))).unzip();
                correlate(corr, &x, &y)
            }
            Level::Document => {
                let vals: Vec<f64> = pick
                    .iter()
                    .map(|&d| {
                        let (x, y): (Vec<f64>, Vec<f64>) = self.docs[d].iter().map(|p| (p.metric, p.human)).unzip();
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
                let (x, y): (Vec<f64>, Vec<f64>) = acc.values().map(|(m, h, n)| (m / n, h / n)).unzip();
                correlate(corr, &x, &y)
            }
        }
    }
}

/// One correlation with its bootstrap CI (documents resampled).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MetaResult {
    pub metric: String,
    pub human: String,
    pub level: Level,
    pub correlation: Corr,
    pub value: Estimate,
    pub documents: usize,
    pub summaries: usize,
}

pub fn meta_evaluate(points: &[Point], metric: &str, human: &str, levels: &[Level], corrs: &[Corr], cfg: &StatsConfig) -> Vec<MetaResult> {
    use rayon::prelude::*;
    let docs = Docs::new(points);
    let nd = docs.docs.len();
    let all: Vec<usize> = (0..nd).collect();
    let picks: Vec<Vec<usize>> = (0..cfg.bootstrap_samples as u64)
        .map(|b| {
            let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
            rng.set_stream(b);
            (0..nd).map(|_| rng.gen_range(0..nd)).collect()
        })
        .collect();
    let mut out = Vec::new();
    for &level in levels {
        for &corr in corrs {
            let point = docs.level(level, corr, &all);
            let samples: Vec<f64> = picks.par_iter().map(|p| docs.level(level, corr, p)).filter(|v| v.is_finite()).collect();
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
    let mut out = format!("| human | metric | {} |\n|---|---|{}\n", cols.iter().map(|(l, c)| name(*l, *c)).collect::<Vec<_>>().join(" | "), cols.iter().map(|_| "---:|").collect::<String>());
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
                    .map(|r| format!("{:.3} [{:.3}, {:.3}]", r.value.mean, r.value.ci_low, r.value.ci_high))
                    .unwrap_or_default()
            })
            .collect();
        out.push_str(&format!("| {h} | {m} | {} |\n", cells.join(" | ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute_tau_b(x: &[f64], y: &[f64]) -> f64 {
        let (mut c, mut d, mut tx, mut ty) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
        for i in 0..x.len() {
            for j in (i + 1)..x.len() {
                // f64::signum(0.0) is 1.0: compare explicitly.
                let sign = |v: f64| if v > 0.0 { 1.0 } else if v < 0.0 { -1.0 } else { 0.0 };
                let a = sign(x[i] - x[j]);
                let b = sign(y[i] - y[j]);
                if a == 0.0 && b == 0.0 {
                } else if a == 0.0 {
                    tx += 1.0;
                } else if b == 0.0 {
                    ty += 1.0;
                } else if a == b {
                    c += 1.0;
                } else {
                    d += 1.0;
                }
            }
        }
        (c - d) / ((c + d + tx) * (c + d + ty)).sqrt()
    }

    #[test]
    fn kendall_matches_brute_force_with_ties() {
        let mut s = 3u64;
        let mut r = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1);
            ((s >> 33) % 5) as f64
        };
        for n in [2usize, 3, 7, 20, 50] {
            let x: Vec<f64> = (0..n).map(|_| r()).collect();
            let y: Vec<f64> = (0..n).map(|_| r()).collect();
            let a = kendall_tau_b(&x, &y);
            let b = brute_tau_b(&x, &y);
            assert!((a - b).abs() < 1e-12 || (a.is_nan() && b.is_nan()), "n={n}: {a} vs {b}");
        }
    }

    #[test]
    fn known_values() {
        // scipy.stats: pearsonr([1,2,3,4,5],[2,1,4,3,5]) = 0.8, spearmanr = 0.8, kendalltau = 0.6
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let y = [2.0, 1.0, 4.0, 3.0, 5.0];
        assert!((pearson(&x, &y) - 0.8).abs() < 1e-12);
        assert!((spearman(&x, &y) - 0.8).abs() < 1e-12);
        assert!((kendall_tau_b(&x, &y) - 0.6).abs() < 1e-12);
        assert_eq!(ranks(&[3.0, 1.0, 3.0]), vec![2.5, 1.0, 2.5]);
    }
}
