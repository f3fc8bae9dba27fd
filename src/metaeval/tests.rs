//! Unit tests of the meta-evaluation: correlations against brute force, unit-level statistics.
use super::units::UnitData;
use super::*;

fn brute_tau_b(x: &[f64], y: &[f64]) -> f64 {
    let (mut c, mut d, mut tx, mut ty) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for i in 0..x.len() {
        for j in (i + 1)..x.len() {
            // f64::signum(0.0) is 1.0: compare explicitly.
            let sign = |v: f64| {
                if v > 0.0 {
                    1.0
                } else if v < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            };
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

fn lcg(seed: u64) -> impl FnMut() -> u64 {
    let mut s = seed;
    move || {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        s >> 33
    }
}

fn brute_auc(s: &[f64], y: &[bool]) -> f64 {
    let (mut num, mut pairs) = (0.0, 0.0);
    for i in 0..s.len() {
        for j in 0..s.len() {
            if y[i] && !y[j] {
                pairs += 1.0;
                num += if s[i] > s[j] {
                    1.0
                } else if s[i] == s[j] {
                    0.5
                } else {
                    0.0
                };
            }
        }
    }
    num / pairs
}

#[test]
fn auc_matches_brute_force_pair_count_with_ties() {
    let mut r = lcg(7);
    for n in [1usize, 2, 3, 10, 57, 300] {
        for levels in [3u64, 11, 1000] {
            // Few score levels: many ties, also between positives and negatives.
            let s: Vec<f64> = (0..n).map(|_| (r() % levels) as f64 / levels as f64).collect();
            let y: Vec<bool> = (0..n).map(|_| r().is_multiple_of(3)).collect();
            let a = roc_auc(&s, &y);
            let b = brute_auc(&s, &y);
            assert!(
                (a - b).abs() < 1e-12 || (a.is_nan() && b.is_nan()),
                "n={n} levels={levels}: {a} vs {b}"
            );
        }
    }
    assert_eq!(roc_auc(&[0.1, 0.9], &[false, true]), 1.0);
    assert_eq!(roc_auc(&[0.1, 0.9], &[true, false]), 0.0);
    assert_eq!(roc_auc(&[0.5, 0.5, 0.5], &[true, false, false]), 0.5);
    assert!(roc_auc(&[0.2, 0.4], &[true, true]).is_nan(), "one class only");
    assert!(roc_auc(&[], &[]).is_nan());
}

#[test]
fn calibration_bins_and_ece() {
    let scores = [0.0, 0.05, 0.1, 0.3, 0.29999, 0.95, 1.0, -0.2, 1.3];
    let labels = [0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.5];
    let bins = calibration(&scores, &labels);
    assert_eq!(bins.len(), 10);
    let counts: Vec<usize> = bins.iter().map(|b| b.count).collect();
    // 0.1 and 0.3 open their bins; 1.0 and above close the last; below 0 the first.
    assert_eq!(counts, vec![3, 1, 1, 1, 0, 0, 0, 0, 0, 3]);
    assert!((bins[0].mean_score - (0.0 + 0.05 - 0.2) / 3.0).abs() < 1e-12);
    assert!((bins[0].observed - 1.0 / 3.0).abs() < 1e-12);
    assert!((bins[9].observed - 2.5 / 3.0).abs() < 1e-12, "soft labels count as they are");
    assert!(bins[4].mean_score.is_nan() && bins[4].observed.is_nan() && bins[4].count == 0);
    assert!((bins[3].low - 0.3).abs() < 1e-15 && (bins[9].high - 1.0).abs() < 1e-15);
    let ece = expected_calibration_error(&bins);
    let by_hand = (3.0 * ((0.05 - 0.2) / 3.0f64 - 1.0 / 3.0).abs()
        + (0.1f64 - 0.0).abs()
        + (0.29999f64 - 0.0).abs()
        + (0.3f64 - 1.0).abs()
        + 3.0 * ((0.95 + 1.0 + 1.3) / 3.0f64 - 2.5 / 3.0).abs())
        / 9.0;
    assert!((ece - by_hand).abs() < 1e-12, "{ece} vs {by_hand}");
    // Perfect calibration: each bin's mean score equals its observed rate.
    let bins = calibration(&[0.25, 0.25, 0.25, 0.25], &[1.0, 0.0, 0.0, 0.0]);
    assert_eq!(expected_calibration_error(&bins), 0.0);
    assert!(expected_calibration_error(&calibration(&[], &[])).is_nan());
}

#[test]
fn f1_and_accuracy_edge_cases() {
    // No positive anywhere: F1 undefined, accuracy perfect.
    let c = Confusion::of(&[false, false], &[false, false]);
    assert!(c.f1().is_nan());
    assert_eq!(c.accuracy(), 1.0);
    // No labelled positive but a predicted one: F1 0.
    assert_eq!(Confusion::of(&[true, false], &[false, false]).f1(), 0.0);
    // Labelled positives, none predicted: F1 0.
    assert_eq!(Confusion::of(&[false, false], &[true, false]).f1(), 0.0);
    assert_eq!(Confusion::of(&[true, false], &[true, false]).f1(), 1.0);
    // tp 1, fp 1, fn 1: precision = recall = 0.5.
    let c = Confusion::of(&[true, true, false, false], &[true, false, true, false]);
    assert!((c.f1() - 0.5).abs() < 1e-12 && (c.accuracy() - 0.5).abs() < 1e-12);
    assert!(Confusion::default().accuracy().is_nan());
}

fn unit(doc: &str, score: f64, covered: bool, label: f64) -> UnitPoint {
    UnitPoint { doc: doc.into(), system: "s".into(), unit: 0, score, covered, label }
}

#[test]
fn document_weights_equal_repeating_documents() {
    let mut r = lcg(11);
    let docs = ["a", "b", "c", "d"];
    let points: Vec<UnitPoint> = (0..40)
        .map(|i| {
            let s = (r() % 6) as f64 / 5.0;
            unit(docs[i % 4], s, s >= 0.5, if r().is_multiple_of(2) { 1.0 } else { 0.3 })
        })
        .collect();
    let data = UnitData::new(&points);
    let w = [2.0, 0.0, 1.0, 3.0];
    let (auc, acc, f1) = data.stats(&w);
    let repeated: Vec<&UnitPoint> = points
        .iter()
        .flat_map(|p| {
            std::iter::repeat_n(p, w[docs.iter().position(|d| *d == p.doc).unwrap()] as usize)
        })
        .collect();
    let s: Vec<f64> = repeated.iter().map(|p| p.score).collect();
    let y: Vec<bool> = repeated.iter().map(|p| p.positive()).collect();
    let c: Vec<bool> = repeated.iter().map(|p| p.covered).collect();
    assert!((auc - brute_auc(&s, &y)).abs() < 1e-12);
    let conf = Confusion::of(&c, &y);
    assert!((acc - conf.accuracy()).abs() < 1e-12 && (f1 - conf.f1()).abs() < 1e-12);
    // The point estimate is the plain statistic; the CI comes from document resamples.
    let res = unit_evaluate(
        &points,
        "m",
        "l",
        Skipped::default(),
        &StatsConfig { bootstrap_samples: 200, ..StatsConfig::default() },
    );
    let s: Vec<f64> = points.iter().map(|p| p.score).collect();
    let y: Vec<bool> = points.iter().map(|p| p.positive()).collect();
    assert_eq!(res.auc.mean, roc_auc(&s, &y));
    assert!(res.auc.ci_low <= res.auc.mean && res.auc.mean <= res.auc.ci_high, "{:?}", res.auc);
    assert_eq!((res.units, res.documents, res.summaries, res.auc.n), (40, 4, 4, 4));
}

#[test]
fn labels_and_skips() {
    use serde_json::json;
    assert_eq!(
        parse_unit_labels(&json!([0, 1, true, false, 0.7])).unwrap(),
        vec![0.0, 1.0, 1.0, 0.0, 0.7]
    );
    assert!(parse_unit_labels(&json!([0, 1.5])).unwrap_err().contains("element 1"));
    assert!(parse_unit_labels(&json!(["yes"])).is_err());
    assert!(parse_unit_labels(&json!({"a": 1})).is_err());
    let v = |n: usize| (0..n).map(|i| (i as f64 / 10.0, i % 2 == 0)).collect::<Vec<_>>();
    let rec = |doc: &str, failed: bool, metric: Option<usize>, labels: UnitLabels| UnitRecord {
        doc: doc.into(),
        system: "x".into(),
        failed,
        verdicts: metric.map(|n| vec![("kp".to_string(), v(n))]).unwrap_or_default(),
        labels,
    };
    let records = vec![
        rec("ok", false, Some(3), UnitLabels::Values(vec![1.0, 0.0, 1.0])),
        rec("short", false, Some(3), UnitLabels::Values(vec![1.0, 0.0])),
        rec("failed", true, None, UnitLabels::Values(vec![1.0])),
        rec("no-metric", false, None, UnitLabels::Values(vec![1.0])),
        rec("no-labels", false, Some(1), UnitLabels::Missing),
        rec("bad", false, Some(1), UnitLabels::Invalid("x".into())),
        rec("ok2", false, Some(2), UnitLabels::Values(vec![0.0, 0.0])),
    ];
    let (points, skipped) = collect_units(&records, "kp");
    assert_eq!(points.len(), 5);
    assert_eq!(points.iter().map(|p| p.unit).collect::<Vec<_>>(), vec![0, 1, 2, 0, 1]);
    assert_eq!(
        (
            skipped.error,
            skipped.missing_metric,
            skipped.missing_labels,
            skipped.bad_labels,
            skipped.length_mismatch
        ),
        (1, 1, 1, 1, 1)
    );
    assert_eq!(skipped.total(), 5);
    assert!(
        skipped.first[&UnitSkip::LengthMismatch].contains("'short'")
            && skipped.first[&UnitSkip::LengthMismatch].contains("3 verdicts, 2 labels")
    );
    assert_eq!(unit_metric_names(&records), vec!["kp".to_string()]);
    assert_eq!(
        verdict_list(&json!({"key_points": [{"score": 0.5, "covered": true, "evidence": []}]})),
        Some(vec![(0.5, true)])
    );
    assert_eq!(verdict_list(&json!({"key_points": [{"score": 0.5}]})), None);
    assert_eq!(verdict_list(&json!({"f1": 0.5})), None);
}
