//! Key-point coverage and alignment between reference key points K (rows: the Key Developments)
//! and generated key points G (columns) on any similarity.
//!
//! Coverage is judged for each Key Development against the whole summary (many-to-one: one
//! generated point may support several Key Developments): its score is its best similarity to
//! any generated point, and it is covered when that score reaches the threshold. The optimal
//! one-to-one matching (Hungarian algorithm) is kept for what it means: precision (each
//! generated point counted once) and the side-by-side view; it never caps coverage.
use serde::{Deserialize, Serialize};

/// One matched pair.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Pair {
    pub reference: usize,
    pub generated: usize,
    pub similarity: f64,
}

/// The verdict on one Key Development: how well the summary states it, whether that reaches the
/// metric's threshold, and which generated key points (indices into the summary's key points)
/// support it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// 0..1 (the metric's similarity or probability).
    pub score: f64,
    /// `score ≥` the metric's threshold.
    pub covered: bool,
    /// Generated key points that support it (empty when the score is 0).
    pub evidence: Vec<usize>,
    /// The judge's inputs, when asked for (`--kp-cover-features`: what the fitting script reads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Per Key Development, its best similarity to any generated point (`rec[k][g]`), covered at
/// `threshold`, with the first best point as evidence.
pub fn verdicts(rec: &[Vec<f64>], threshold: f64) -> Vec<Verdict> {
    rec.iter()
        .map(|row| {
            let mut best: Option<(usize, f64)> = None;
            for (g, &v) in row.iter().enumerate() {
                if best.map_or(true, |(_, b)| v > b) {
                    best = Some((g, v));
                }
            }
            let (score, evidence) = match best {
                Some((g, v)) if v > 0.0 => (v, vec![g]),
                Some((_, v)) => (v.max(0.0), Vec::new()),
                None => (0.0, Vec::new()),
            };
            Verdict { score, covered: score >= threshold, evidence, features: None }
        })
        .collect()
}

/// Key-point scores of one summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpScores {
    /// Mean over K of the best similarity to any generated point (continuous coverage).
    pub coverage: f64,
    /// Mean over G of the best similarity to any reference point (continuous precision).
    pub precision: f64,
    pub f1: f64,
    /// Share of K covered: best similarity to any generated point ≥ threshold (many-to-one).
    pub coverage_at_t: f64,
    /// Share of G matched one-to-one with similarity ≥ threshold.
    pub precision_at_t: f64,
    pub f1_at_t: f64,
    /// The optimal one-to-one matching (every matched pair, whatever its similarity).
    pub alignment: Vec<Pair>,
    /// One verdict per Key Development, in the order of the record's `key_points`.
    pub key_points: Vec<Verdict>,
}

fn f1(p: f64, r: f64) -> f64 {
    if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    }
}

/// Scores from a similarity matrix `sim[k][g]` (|K| rows, |G| columns).
pub fn kp_scores(sim: &[Vec<f64>], threshold: f64) -> KpScores {
    kp_scores_directed(sim, None, threshold)
}

/// Scores from a directed similarity: `rec[k][g]` = how much of reference point k is stated in
/// generated point g (coverage side) and `prec[k][g]` = how much of g is supported by k
/// (precision side; `None` = symmetric, the same matrix). The one-to-one alignment and the
/// thresholded scores use the pairwise F1 of the two (the similarity itself when symmetric).
pub fn kp_scores_directed(rec: &[Vec<f64>], prec: Option<&[Vec<f64>]>, threshold: f64) -> KpScores {
    let nk = rec.len();
    let ng = rec.first().map_or(0, |r| r.len());
    if nk == 0 || ng == 0 {
        let key_points = (0..nk).map(|_| Verdict { score: 0.0, covered: false, evidence: Vec::new(), features: None }).collect();
        return KpScores { coverage: 0.0, precision: 0.0, f1: 0.0, coverage_at_t: 0.0, precision_at_t: 0.0, f1_at_t: 0.0, alignment: Vec::new(), key_points };
    }
    let pm = prec.unwrap_or(rec);
    let coverage = rec.iter().map(|r| r.iter().cloned().fold(f64::NEG_INFINITY, f64::max)).sum::<f64>() / nk as f64;
    let precision = (0..ng).map(|g| pm.iter().map(|r| r[g]).fold(f64::NEG_INFINITY, f64::max)).sum::<f64>() / ng as f64;
    let pair_sim: Vec<Vec<f64>> = match prec {
        None => rec.to_vec(),
        Some(p) => rec.iter().zip(p).map(|(r, q)| r.iter().zip(q).map(|(&a, &b)| f1(b, a)).collect()).collect(),
    };
    let alignment: Vec<Pair> =
        max_weight_matching(&pair_sim).into_iter().map(|(k, g)| Pair { reference: k, generated: g, similarity: pair_sim[k][g] }).collect();
    let hits = alignment.iter().filter(|p| p.similarity >= threshold).count() as f64;
    let key_points = verdicts(rec, threshold);
    let ct = key_points.iter().filter(|v| v.covered).count() as f64 / nk as f64;
    let pt = hits / ng as f64;
    KpScores { coverage, precision, f1: f1(precision, coverage), coverage_at_t: ct, precision_at_t: pt, f1_at_t: f1(pt, ct), alignment, key_points }
}

/// Maximum-weight one-to-one matching of a rectangular matrix (Hungarian / Kuhn–Munkres,
/// O(n³)). Returns (row, column) pairs sorted by row. Ties resolve deterministically.
pub fn max_weight_matching(w: &[Vec<f64>]) -> Vec<(usize, usize)> {
    let rows = w.len();
    let cols = w.first().map_or(0, |r| r.len());
    if rows == 0 || cols == 0 {
        return Vec::new();
    }
    let n = rows.max(cols);
    let maxw = w.iter().flatten().cloned().fold(f64::NEG_INFINITY, f64::max);
    // Square cost matrix (1-based arrays as in the classic formulation); padding costs maxw (weight 0 relative).
    let cost = |i: usize, j: usize| -> f64 {
        if i < rows && j < cols {
            maxw - w[i][j]
        } else {
            maxw
        }
    };
    let inf = f64::INFINITY;
    let mut u = vec![0.0; n + 1];
    let mut v = vec![0.0; n + 1];
    let mut p = vec![0usize; n + 1];
    let mut way = vec![0usize; n + 1];
    for i in 1..=n {
        p[0] = i;
        let mut j0 = 0usize;
        let mut minv = vec![inf; n + 1];
        let mut used = vec![false; n + 1];
        loop {
            used[j0] = true;
            let i0 = p[j0];
            let mut delta = inf;
            let mut j1 = 0usize;
            for j in 1..=n {
                if !used[j] {
                    let cur = cost(i0 - 1, j - 1) - u[i0] - v[j];
                    if cur < minv[j] {
                        minv[j] = cur;
                        way[j] = j0;
                    }
                    if minv[j] < delta {
                        delta = minv[j];
                        j1 = j;
                    }
                }
            }
            for j in 0..=n {
                if used[j] {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if p[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut out: Vec<(usize, usize)> = (1..=n).filter(|&j| p[j] != 0).map(|j| (p[j] - 1, j - 1)).filter(|&(i, j)| i < rows && j < cols).collect();
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute(w: &[Vec<f64>]) -> f64 {
        // Best total over all injective maps rows→cols (rows ≤ cols) by permutation search.
        fn rec(w: &[Vec<f64>], i: usize, used: &mut Vec<bool>) -> f64 {
            if i == w.len() {
                return 0.0;
            }
            let mut best = f64::NEG_INFINITY;
            for j in 0..w[0].len() {
                if !used[j] {
                    used[j] = true;
                    best = best.max(w[i][j] + rec(w, i + 1, used));
                    used[j] = false;
                }
            }
            best
        }
        rec(w, 0, &mut vec![false; w[0].len()])
    }

    #[test]
    fn matches_brute_force() {
        let mut seed = 7u64;
        let mut rnd = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        for rows in 1..5 {
            for cols in rows..6 {
                let w: Vec<Vec<f64>> = (0..rows).map(|_| (0..cols).map(|_| rnd()).collect()).collect();
                let m = max_weight_matching(&w);
                assert_eq!(m.len(), rows);
                let total: f64 = m.iter().map(|&(i, j)| w[i][j]).sum();
                assert!((total - brute(&w)).abs() < 1e-9, "{rows}x{cols}");
            }
        }
    }

    #[test]
    fn more_rows_than_columns() {
        let w = vec![vec![0.1], vec![0.9], vec![0.5]];
        assert_eq!(max_weight_matching(&w), vec![(1, 0)]);
    }

    #[test]
    fn scores() {
        let sim = vec![vec![0.9, 0.1], vec![0.2, 0.3], vec![0.1, 0.7]];
        let s = kp_scores(&sim, 0.6);
        assert!((s.coverage - (0.9 + 0.3 + 0.7) / 3.0).abs() < 1e-12);
        assert!((s.precision - (0.9 + 0.7) / 2.0).abs() < 1e-12);
        assert_eq!(s.alignment.len(), 2);
        assert!((s.coverage_at_t - 2.0 / 3.0).abs() < 1e-12);
        assert!((s.precision_at_t - 1.0).abs() < 1e-12);
        let got: Vec<(f64, bool, Vec<usize>)> = s.key_points.iter().map(|v| (v.score, v.covered, v.evidence.clone())).collect();
        assert_eq!(got, vec![(0.9, true, vec![0]), (0.3, false, vec![1]), (0.7, true, vec![1])]);
    }

    #[test]
    fn one_generated_point_covers_several_key_developments() {
        // One sentence states all three Key Developments: one-to-one matching would cover one.
        let sim = vec![vec![0.9, 0.1], vec![0.8, 0.2], vec![0.75, 0.0]];
        let s = kp_scores(&sim, 0.6);
        assert!((s.coverage_at_t - 1.0).abs() < 1e-12, "{}", s.coverage_at_t);
        assert!(s.key_points.iter().all(|v| v.covered && v.evidence == vec![0]));
        // precision stays one-to-one: the second point matches nothing above the threshold
        assert!((s.precision_at_t - 0.5).abs() < 1e-12);
        assert_eq!(s.alignment.len(), 2);
    }
}
