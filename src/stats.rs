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
    (0..cfg.bootstrap_samples as u64)
        .into_par_iter()
        .map(|b| {
            let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
            rng.set_stream(b);
            // How often each row is drawn, then one sequential pass: sum of count × row.
            let mut counts = vec![0u32; n];
            for _ in 0..n {
                counts[rng.gen_range(0..n)] += 1;
            }
            let mut sums = vec![0.0; d];
            for (row, &c) in data.chunks_exact(d).zip(&counts) {
                if c != 0 {
                    let c = c as f64;
                    for (acc, x) in sums.iter_mut().zip(row) {
                        *acc += c * x;
                    }
                }
            }
            sums
        })
        .collect()
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
