//! The correlation coefficients: Pearson's r, Spearman's ρ and Kendall's τ-b (tie-corrected, O(n log n)).
use serde::{Deserialize, Serialize};

/// The correlation coefficient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Corr {
    /// Pearson's r (linear).
    Pearson,
    /// Spearman's ρ (Pearson on average ranks).
    Spearman,
    /// Kendall's τ-b (tie-corrected).
    KendallTauB,
}

/// Pearson's r of `x` and `y`; NaN with fewer than two points or when either is constant.
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

/// Spearman's ρ: Pearson's r of the average ranks; NaN as for [`pearson`].
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

/// The coefficient `c` of `x` and `y` (NaN when undefined).
pub fn correlate(c: Corr, x: &[f64], y: &[f64]) -> f64 {
    match c {
        Corr::Pearson => pearson(x, y),
        Corr::Spearman => spearman(x, y),
        Corr::KendallTauB => kendall_tau_b(x, y),
    }
}
