//! Statistics: seeded bootstrap confidence intervals, paired bootstrap and approximate
//! randomization tests, correlations. Everything random uses ChaCha8 seeded explicitly, so
//! results are the same on every platform and thread count.
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Settings of the resampling statistics (recorded in the signature).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StatsConfig {
    pub bootstrap_samples: usize,
    pub seed: u64,
    /// Confidence level of intervals (0.95).
    pub confidence: f64,
    pub ar_trials: usize,
}

impl Default for StatsConfig {
    fn default() -> Self {
        StatsConfig { bootstrap_samples: 1000, seed: 12345, confidence: 0.95, ar_trials: 10000 }
    }
}

impl StatsConfig {
    pub fn signature(&self) -> String {
        format!("bootstrap:{}|ci:{}|seed:{}", self.bootstrap_samples, self.confidence, self.seed)
    }
}

/// A mean with its bootstrap confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    pub mean: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub n: usize,
}

pub fn mean(x: &[f64]) -> f64 {
    if x.is_empty() {
        return f64::NAN;
    }
    x.iter().sum::<f64>() / x.len() as f64
}

/// Percentile with linear interpolation (numpy's default).
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Column sums of each bootstrap resample of the rows of an n × d row-major matrix.
///
/// Resample b draws n row indices from ChaCha8 seeded with `cfg.seed` on stream b, so every
/// caller with the same n and seed sees the same resamples (systems compared on the same
/// records share them), nothing of size n × B is stored, and the samples are computed in
/// parallel with identical results for any thread count.
pub fn resample_sums(data: &[f64], d: usize, cfg: &StatsConfig) -> Vec<Vec<f64>> {
    use rayon::prelude::*;
    let n = if d == 0 { 0 } else { data.len() / d };
    if n == 0 {
        return Vec::new();
    }
    // Column-major copy, so each column sum is one contiguous dot product with the counts.
    let mut cols = vec![0.0; n * d];
    for (i, row) in data.chunks_exact(d).enumerate() {
        for (j, &x) in row.iter().enumerate() {
            cols[j * n + i] = x;
        }
    }
    // Row weights of resample b (how often each row is drawn), written into `w`.
    let weights_of = |b: u64, counts: &mut Vec<u32>, w: &mut [f64]| {
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        rng.set_stream(b);
        counts.clear();
        counts.resize(n, 0);
        if let Ok(n32) = u32::try_from(n) {
            // One 32-bit draw per row (half the ChaCha output of a 64-bit draw).
            for _ in 0..n {
                counts[rng.gen_range(0..n32) as usize] += 1;
            }
        } else {
            for _ in 0..n {
                counts[rng.gen_range(0..n)] += 1;
            }
        }
        for (x, &c) in w.iter_mut().zip(counts.iter()) {
            *x = c as f64;
        }
    };
    // Resamples are processed in groups that share each column while it is in cache (the
    // weights of a group take at most ~8 MB, reused across groups); every sum is the same dot
    // product whatever the grouping or thread count, so results are identical.
    let b_total = cfg.bootstrap_samples as u64;
    let group = ((1usize << 20) / n).clamp(1, 16) as u64;
    let starts: Vec<u64> = (0..b_total).step_by(group as usize).collect();
    let per_group: Vec<Vec<Vec<f64>>> = starts
        .into_par_iter()
        .map_init(
            || (Vec::<u32>::with_capacity(n), vec![0.0f64; n * group as usize]),
            |(counts, weights), start| {
                let end = (start + group).min(b_total);
                let g = (end - start) as usize;
                for (k, b) in (start..end).enumerate() {
                    weights_of(b, counts, &mut weights[k * n..(k + 1) * n]);
                }
                let mut out = vec![vec![0.0; d]; g];
                for (j, col) in cols.chunks_exact(n).enumerate() {
                    for (o, w) in out.iter_mut().zip(weights.chunks_exact(n)) {
                        o[j] = dot(w, col);
                    }
                }
                out
            },
        )
        .collect();
    per_group.into_iter().flatten().collect()
}

/// Dot product in a fixed order (eight interleaved partial sums, then a fixed combination), so
/// it vectorizes and gives the same bits on every machine and thread count.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let ca = a.chunks_exact(8);
    let cb = b.chunks_exact(8);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut tail = 0.0;
    for (x, y) in ra.iter().zip(rb) {
        tail += x * y;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// An estimate from its point value and the statistic's values on the resamples.
pub fn estimate(point: f64, mut samples: Vec<f64>, n: usize, cfg: &StatsConfig) -> Estimate {
    if n == 0 {
        return Estimate { mean: f64::NAN, ci_low: f64::NAN, ci_high: f64::NAN, n };
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    let alpha = (1.0 - cfg.confidence) / 2.0;
    Estimate { mean: point, ci_low: percentile(&samples, alpha), ci_high: percentile(&samples, 1.0 - alpha), n }
}

/// Mean and percentile bootstrap CI of one column of values.
pub fn bootstrap_mean(x: &[f64], cfg: &StatsConfig) -> Estimate {
    let sums = resample_sums(x, 1, cfg);
    let n = x.len();
    estimate(mean(x), sums.iter().map(|s| s[0] / n as f64).collect(), n, cfg)
}

/// Result of comparing system B against baseline A on paired records.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PairedTest {
    pub delta: f64,
    pub delta_ci_low: f64,
    pub delta_ci_high: f64,
    /// Paired bootstrap p-value (sacreBLEU --paired-bs style, Koehn 2004).
    pub p_bootstrap: f64,
    /// Approximate randomization p-value (sacreBLEU --paired-ar style, Riezler & Maxwell 2005).
    pub p_ar: f64,
}

/// Paired tests of `stat_b - stat_a` on the n × d matrix `data` (both systems' columns side by
/// side): `stat_a`/`stat_b` map column sums over a set of n rows to each system's corpus score.
/// `swap_stat` gives (a, b) scores when the outputs of the flagged records are swapped.
pub fn paired_test(
    data: &[f64],
    d: usize,
    cfg: &StatsConfig,
    stat_a: &dyn Fn(&[f64]) -> f64,
    stat_b: &dyn Fn(&[f64]) -> f64,
    swap_stat: &dyn Fn(&[bool]) -> (f64, f64),
) -> PairedTest {
    let n = data.len() / d.max(1);
    let mut total = vec![0.0; d];
    for row in data.chunks(d) {
        for (acc, x) in total.iter_mut().zip(row) {
            *acc += x;
        }
    }
    let delta = stat_b(&total) - stat_a(&total);
    let mut deltas: Vec<f64> = resample_sums(data, d, cfg).iter().map(|s| stat_b(s) - stat_a(s)).collect();
    // Koehn-style: centre the bootstrap distribution on 0 and count how often it is as extreme.
    let mean_d = mean(&deltas);
    let extreme = deltas.iter().filter(|x| (*x - mean_d).abs() >= delta.abs()).count();
    let p_bootstrap = (extreme as f64 + 1.0) / (deltas.len() as f64 + 1.0);
    deltas.sort_by(|a, b| a.total_cmp(b));
    let alpha = (1.0 - cfg.confidence) / 2.0;
    // Approximate randomization: swap each pair's outputs with probability 1/2.
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x9E37_79B9_7F4A_7C15);
    let mut at_least = 0usize;
    let mut swaps = vec![false; n];
    for _ in 0..cfg.ar_trials {
        for s in swaps.iter_mut() {
            *s = rng.gen_bool(0.5);
        }
        let (a, b) = swap_stat(&swaps);
        if (b - a).abs() >= delta.abs() - 1e-12 {
            at_least += 1;
        }
    }
    let p_ar = (at_least as f64 + 1.0) / (cfg.ar_trials as f64 + 1.0);
    PairedTest { delta, delta_ci_low: percentile(&deltas, alpha), delta_ci_high: percentile(&deltas, 1.0 - alpha), p_bootstrap, p_ar }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_is_seeded_and_brackets_the_mean() {
        let x: Vec<f64> = (0..200).map(|i| (i % 7) as f64).collect();
        let cfg = StatsConfig::default();
        let e1 = bootstrap_mean(&x, &cfg);
        let e2 = bootstrap_mean(&x, &cfg);
        assert_eq!(e1, e2);
        let other = bootstrap_mean(&x, &StatsConfig { seed: 1, ..cfg });
        assert_ne!(e1, other, "the seed matters");
        assert!(e1.ci_low < e1.mean && e1.mean < e1.ci_high);
        assert!(e1.ci_high - e1.ci_low < 1.0);
    }

    #[test]
    fn percentile_interpolates() {
        assert_eq!(percentile(&[0.0, 10.0], 0.25), 2.5);
        assert_eq!(percentile(&[1.0, 2.0, 3.0], 0.5), 2.0);
    }
}
