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
    /// Index of the reference key point (row).
    pub reference: usize,
    /// Index of the generated key point (column).
    pub generated: usize,
    /// Their similarity.
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
                if best.is_none_or(|(_, b)| v > b) {
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
    /// Harmonic mean of `precision` and `coverage` (0 when both are 0).
    pub f1: f64,
    /// Share of K covered: best similarity to any generated point ≥ threshold (many-to-one).
    pub coverage_at_t: f64,
    /// Share of G matched one-to-one with similarity ≥ threshold.
    pub precision_at_t: f64,
    /// Harmonic mean of `precision_at_t` and `coverage_at_t` (0 when both are 0).
    pub f1_at_t: f64,
    /// The optimal one-to-one matching (every matched pair, whatever its similarity).
    pub alignment: Vec<Pair>,
    /// One verdict per Key Development, in the order of the record's `key_points`.
    pub key_points: Vec<Verdict>,
    /// Set when a bound applied (the one-to-one alignment skipped on a very large record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The one-to-one alignment costs min(|K|, |G|)² · max(|K|, |G|) steps; above this it is skipped
/// (10,000 Key Developments against 300 generated points is 9·10⁸: about a second).
pub const MAX_ALIGNMENT_WORK: f64 = 1e9;

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
        let key_points = (0..nk)
            .map(|_| Verdict { score: 0.0, covered: false, evidence: Vec::new(), features: None })
            .collect();
        return KpScores {
            coverage: 0.0,
            precision: 0.0,
            f1: 0.0,
            coverage_at_t: 0.0,
            precision_at_t: 0.0,
            f1_at_t: 0.0,
            alignment: Vec::new(),
            key_points,
            note: None,
        };
    }
    let pm = prec.unwrap_or(rec);
    let coverage =
        rec.iter().map(|r| r.iter().cloned().fold(f64::NEG_INFINITY, f64::max)).sum::<f64>()
            / nk as f64;
    let precision =
        (0..ng).map(|g| pm.iter().map(|r| r[g]).fold(f64::NEG_INFINITY, f64::max)).sum::<f64>()
            / ng as f64;
    let pair_sim: Vec<Vec<f64>> = match prec {
        None => rec.to_vec(),
        Some(p) => rec
            .iter()
            .zip(p)
            .map(|(r, q)| r.iter().zip(q).map(|(&a, &b)| f1(b, a)).collect())
            .collect(),
    };
    let (small, large) = (nk.min(ng) as f64, nk.max(ng) as f64);
    let (alignment, hits, note) = if small * small * large <= MAX_ALIGNMENT_WORK {
        let alignment: Vec<Pair> = max_weight_matching(&pair_sim)
            .into_iter()
            .map(|(k, g)| Pair { reference: k, generated: g, similarity: pair_sim[k][g] })
            .collect();
        let hits = alignment.iter().filter(|p| p.similarity >= threshold).count() as f64;
        (alignment, hits, None)
    } else {
        // Bounded: each generated point's best match counts (many-to-one), and the record says so.
        let hits = (0..ng).filter(|&g| pair_sim.iter().any(|r| r[g] >= threshold)).count() as f64;
        let note = format!(
            "one-to-one alignment skipped: {nk} Key Developments x {ng} generated points is over the bound ({MAX_ALIGNMENT_WORK:e} steps); precision_at_t counts each generated point's best match"
        );
        (Vec::new(), hits, Some(note))
    };
    let key_points = verdicts(rec, threshold);
    let ct = key_points.iter().filter(|v| v.covered).count() as f64 / nk as f64;
    let pt = hits / ng as f64;
    KpScores {
        coverage,
        precision,
        f1: f1(precision, coverage),
        coverage_at_t: ct,
        precision_at_t: pt,
        f1_at_t: f1(pt, ct),
        alignment,
        key_points,
        note,
    }
}

/// Maximum-weight one-to-one matching of a rectangular matrix (Hungarian / Kuhn–Munkres on the
/// rectangle itself, O(n²·m) with n = min(rows, cols) and m = max(rows, cols): 10,000 Key
/// Developments against a few generated points take milliseconds). Returns (row, column) pairs
/// sorted by row. Ties resolve deterministically.
pub fn max_weight_matching(w: &[Vec<f64>]) -> Vec<(usize, usize)> {
    let rows = w.len();
    let cols = w.first().map_or(0, |r| r.len());
    if rows == 0 || cols == 0 {
        return Vec::new();
    }
    // The algorithm assigns every one of n ≤ m "rows": transpose when there are more rows.
    let transposed = rows > cols;
    let (n, m) = if transposed { (cols, rows) } else { (rows, cols) };
    let maxw = w.iter().flatten().cloned().fold(f64::NEG_INFINITY, f64::max);
    let cost = |i: usize, j: usize| -> f64 {
        if transposed {
            maxw - w[j][i]
        } else {
            maxw - w[i][j]
        }
    };
    let inf = f64::INFINITY;
    let mut u = vec![0.0; n + 1];
    let mut v = vec![0.0; m + 1];
    let mut p = vec![0usize; m + 1];
    let mut way = vec![0usize; m + 1];
    let mut minv = vec![inf; m + 1];
    let mut used = vec![false; m + 1];
    for i in 1..=n {
        p[0] = i;
        let mut j0 = 0usize;
        minv.iter_mut().for_each(|x| *x = inf);
        used.iter_mut().for_each(|x| *x = false);
        loop {
            used[j0] = true;
            let i0 = p[j0];
            let mut delta = inf;
            let mut j1 = 0usize;
            for j in 1..=m {
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
            for j in 0..=m {
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
    let mut out: Vec<(usize, usize)> = (1..=m)
        .filter(|&j| p[j] != 0)
        .map(|j| if transposed { (j - 1, p[j] - 1) } else { (p[j] - 1, j - 1) })
        .collect();
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
                let w: Vec<Vec<f64>> =
                    (0..rows).map(|_| (0..cols).map(|_| rnd()).collect()).collect();
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
        // rows > cols against brute force on the transpose
        let mut seed = 11u64;
        let mut rnd = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        for cols in 1..4 {
            for rows in cols + 1..7 {
                let w: Vec<Vec<f64>> =
                    (0..rows).map(|_| (0..cols).map(|_| rnd()).collect()).collect();
                let m = max_weight_matching(&w);
                assert_eq!(m.len(), cols);
                assert!(
                    m.windows(2).all(|p| p[0].0 < p[1].0)
                        && m.iter().map(|p| p.1).collect::<std::collections::HashSet<_>>().len()
                            == cols
                );
                let t: Vec<Vec<f64>> =
                    (0..cols).map(|j| (0..rows).map(|i| w[i][j]).collect()).collect();
                let total: f64 = m.iter().map(|&(i, j)| w[i][j]).sum();
                assert!((total - brute(&t)).abs() < 1e-9, "{rows}x{cols}");
            }
        }
    }

    /// Regression (#19): the matching padded to a square and cost O(max(n, m)³): 10,000 Key
    /// Developments did not finish in 2 minutes. On the rectangle it is O(n²·m).
    #[test]
    fn ten_thousand_key_developments_against_a_short_summary() {
        let w: Vec<Vec<f64>> = (0..10_000)
            .map(|i| (0..5).map(|j| ((i * 7 + j * 13) % 101) as f64 / 100.0).collect())
            .collect();
        let m = max_weight_matching(&w);
        assert_eq!(m.len(), 5);
        // every column has rows at 1.00: the optimum takes one for each
        let total: f64 = m.iter().map(|&(i, j)| w[i][j]).sum();
        assert!((total - 5.0).abs() < 1e-9, "{m:?}");
        let s = kp_scores(&w, 0.5);
        assert_eq!(s.key_points.len(), 10_000);
        assert_eq!(s.alignment.len(), 5);
        assert!(s.note.is_none());
        // beyond the bound: no alignment, a note, and precision from best matches
        let big: Vec<Vec<f64>> = (0..2_000)
            .map(|i| (0..1_000).map(|j| if i == j { 0.9 } else { 0.1 }).collect())
            .collect();
        let s = kp_scores(&big, 0.5);
        assert!(
            s.alignment.is_empty() && s.note.as_deref().unwrap().contains("alignment skipped"),
            "{:?}",
            s.note
        );
        assert_eq!(s.precision_at_t, 1.0);
        assert_eq!(s.coverage_at_t, 0.5);
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
        let got: Vec<(f64, bool, Vec<usize>)> =
            s.key_points.iter().map(|v| (v.score, v.covered, v.evidence.clone())).collect();
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
