//! The accumulator against direct sums, orders, shards and its SIMD paths.
use super::*;

#[test]
fn poisson_thresholds_are_the_poisson_1_cdf() {
    let (mut p, mut cdf) = ((-1.0f64).exp(), 0.0);
    for (k, &t) in POISSON_T.iter().enumerate() {
        cdf += p;
        p /= (k + 1) as f64;
        assert_eq!(t as f64, (cdf * 4_294_967_296.0).round(), "T[{k}]");
    }
    assert!(
        ((cdf + p) * 4_294_967_296.0).round() >= 4_294_967_296.0,
        "a further threshold would be below 2^32"
    );
    let mut a = vec![0i32; 4099];
    let mut b = a.clone();
    poisson_from(0x1234_5678_9abc_def0, &mut a);
    portable::poisson_weights_from_key(0x1234_5678_9abc_def0, &mut b);
    assert_eq!(a, b);
}

fn poisson_from(key: u64, w: &mut [i32]) {
    dispatch!(poisson_weights_from_key(key, w))
}

#[test]
fn poisson_weights_have_the_poisson_1_distribution() {
    let mut w = Vec::new();
    let mut counts = [0usize; 16];
    let n = 200_000;
    poisson_weights(7, "doc-1", n, &mut w);
    for &x in &w {
        counts[x as usize] += 1;
    }
    let mut p = (-1.0f64).exp();
    for (k, &c) in counts.iter().enumerate().take(6) {
        let expect = p * n as f64;
        assert!(
            (c as f64 - expect).abs() < 5.0 * expect.sqrt() + 1.0,
            "P(w = {k}): {c} vs {expect}"
        );
        p /= (k + 1) as f64;
    }
    let mean = w.iter().map(|&x| x as f64).sum::<f64>() / n as f64;
    assert!((mean - 1.0).abs() < 0.01, "mean weight {mean}");
    // Seeded by (seed, id): the same for the same pair, different otherwise.
    let mut again = Vec::new();
    poisson_weights(7, "doc-1", 64, &mut again);
    assert_eq!(&again[..], &w[..64]);
    poisson_weights(7, "doc-2", 64, &mut again);
    assert_ne!(&again[..], &w[..64]);
    poisson_weights(8, "doc-1", 64, &mut again);
    assert_ne!(&again[..], &w[..64]);
    // No correlation between neighbouring resamples, nor between records.
    let ids = 4000;
    let all: Vec<Vec<f64>> = (0..ids)
        .map(|i| {
            poisson_weights(12345, &format!("see2017-{i:06}"), 64, &mut again);
            again.iter().map(|&x| f64::from(x) - 1.0).collect()
        })
        .collect();
    let corr = |pairs: &mut dyn Iterator<Item = (f64, f64)>| {
        let (mut xy, mut xx, mut yy) = (0.0, 0.0, 0.0);
        for (x, y) in pairs {
            xy += x * y;
            xx += x * x;
            yy += y * y;
        }
        xy / (xx * yy).sqrt()
    };
    let across_b = corr(&mut all.iter().flat_map(|v| (0..63).map(move |b| (v[b], v[b + 1]))));
    let all = &all;
    let across_ids =
        corr(&mut (0..ids - 1).flat_map(|i| (0..64).map(move |b| (all[i][b], all[i + 1][b]))));
    assert!(
        across_b.abs() < 0.01 && across_ids.abs() < 0.01,
        "correlations {across_b} {across_ids}"
    );
}

#[test]
fn fixed_point_keeps_f64_precision() {
    assert!(fixed(9e9).is_none() && fixed(f64::NAN).is_none() && fixed(f64::INFINITY).is_none());
    // The grid keeps every bit of values in [2^-8, 2^33).
    for x in [0.3, 0.123456789, 1.0 / 3.0, 12345.678, -0.75, 8.5e9] {
        assert_eq!(fixed(x).unwrap() as f64 * 2f64.powi(-FRAC_BITS), x);
    }
}

fn row(id: &str, system: &str, leaves: &[(&str, f64)], stats: &[f64]) -> AggRow {
    AggRow {
        id: id.into(),
        system: Some(intern(system)),
        error_kind: None,
        scores: Some(leaves.iter().map(|(k, x)| (intern(k), *x)).collect()),
        stats: if stats.is_empty() { Vec::new() } else { vec![(intern("bleu"), stats.to_vec())] },
        not_computed: Vec::new(),
    }
}

/// Each resample's statistic equals the weighted statistic computed directly from the
/// records and their weights, for every resample; leaves absent from some records, negative
/// and large values, and leaves that first appear late included.
#[test]
fn resample_sums_equal_the_weighted_sums_of_the_records() {
    let cfg = StatsConfig { bootstrap_samples: 37, seed: 99, ..Default::default() };
    let mut rows = Vec::new();
    for i in 0..150 {
        let mut leaves = vec![("a", (i as f64 * 0.37).sin()), ("big", 1e9 + i as f64 * 1e-3)];
        if i % 3 != 0 {
            leaves.push(("some", i as f64 / 7.0));
        }
        if i >= 70 {
            leaves.push(("late", -(i as f64) / 3.0));
        }
        rows.push(row(&format!("d{i}"), "S", &leaves, &[i as f64, (i % 5) as f64]));
    }
    let mut acc = Accumulator::new(&cfg);
    for r in &rows {
        acc.add_row(r);
    }
    let s = acc.systems.get_mut("S").unwrap();
    s.flush();
    let mut w = Vec::new();
    let weights: Vec<Vec<i32>> = rows
        .iter()
        .map(|r| {
            poisson_weights(cfg.seed, &r.id, cfg.bootstrap_samples, &mut w);
            w.clone()
        })
        .collect();
    for (name, leaf) in &s.leaves {
        for b in 0..cfg.bootstrap_samples {
            let (mut sum, mut count) = (0i128, 0i64);
            for (r, wr) in rows.iter().zip(&weights) {
                if let Some((_, x)) = r.scores.as_ref().unwrap().iter().find(|(k, _)| k == name) {
                    sum += i128::from(wr[b]) * coarse(*x);
                    count += i64::from(wr[b]);
                }
            }
            assert_eq!(s.sum(leaf, b), sum as f64 * 2f64.powi(-RES_BITS), "{name} resample {b}");
            let missing = if leaf.missing == NO_COL { 0 } else { s.cols[leaf.missing as usize][b] };
            assert_eq!(s.cols[0][b] - missing, count, "{name} count, resample {b}");
        }
    }
    let st = &s.stats["bleu"];
    for b in 0..cfg.bootstrap_samples {
        for j in 0..2 {
            let want: i64 = rows
                .iter()
                .zip(&weights)
                .map(|(r, wr)| i64::from(wr[b]) * r.stats[0].1[j] as i64)
                .sum();
            let got = if st.cols[j] == NO_COL { 0 } else { s.cols[st.cols[j] as usize][b] };
            assert_eq!(got, want, "stat {j}, resample {b}");
        }
    }
}

/// The aggregate does not depend on the order of the records, and the means are the exact
/// means rounded once.
#[test]
fn aggregate_is_independent_of_record_order() {
    let cfg = StatsConfig { bootstrap_samples: 200, ..Default::default() };
    let mut rows: Vec<AggRow> = (0..300)
        .map(|i| {
            row(
                &format!("d{i}"),
                if i % 2 == 0 { "A" } else { "B" },
                &[("r.f1", 1.0 / (i + 3) as f64)],
                &[],
            )
        })
        .collect();
    let forward = aggregate(&rows, "sig", &cfg, &[]);
    rows.reverse();
    rows.rotate_left(77);
    let shuffled = aggregate(&rows, "sig", &cfg, &[]);
    assert_eq!(serde_json::to_string(&forward).unwrap(), serde_json::to_string(&shuffled).unwrap());
    let a = &forward.systems["A"].metrics["r.f1"];
    let exact: f64 =
        (0..300).step_by(2).map(|i| 1.0 / (i + 3) as f64).map(|x| fixed(x).unwrap()).sum::<i128>()
            as f64
            * 2f64.powi(-FRAC_BITS)
            / 150.0;
    assert_eq!(a.mean, exact);
    assert!(a.ci_low < a.mean && a.mean < a.ci_high, "{a:?}");
}

#[test]
#[allow(clippy::needless_range_loop)] // c and i index two matrices in step
fn vector_paths_equal_the_portable_path() {
    let b = 300;
    let w: Vec<i32> = (0..3 * b).map(|i| (i * 7 % 13) as i32).collect();
    let items: Vec<(u32, i32)> =
        vec![(0, 1), (1, i32::MAX), (2, -(1 << 30)), (0, 12345), (1, 1), (2, 7), (0, -3)];
    let ends = [2, 4, 7];
    let fresh = || vec![vec![5i64; b]; 3];
    let mut want = fresh();
    apply_pending(&mut want, &w, b, &items, &ends);
    for c in 0..3 {
        for i in 0..b {
            let mut x = 5i64;
            let mut start = 0;
            for (r, &end) in ends.iter().enumerate() {
                for &(col, l) in &items[start..end] {
                    if col as usize == c {
                        x += i64::from(w[r * b + i]) * i64::from(l);
                    }
                }
                start = end;
            }
            assert_eq!(want[c][i], x, "column {c}, resample {i}");
        }
    }
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            let mut got = fresh();
            // SAFETY: checked above.
            unsafe { apply_pending_avx2(&mut got, &w, b, &items, &ends) };
            assert_eq!(got, want);
        }
        if std::arch::is_x86_feature_detected!("avx512f") {
            let mut got = fresh();
            // SAFETY: checked above.
            unsafe { apply_pending_avx512(&mut got, &w, b, &items, &ends) };
            assert_eq!(got, want);
        }
    }
}
