//! Unit level: the metric's verdict on each Key Development against a human label per unit
//! (e.g. Pyramid SCU presence), as a classifier (ROC-AUC of the score, accuracy and F1 of
//! `covered`) and as a probability (calibration).
use super::doc_picks;
use crate::stats::{estimate, Estimate, StatsConfig};
use serde::Serialize;
use std::collections::BTreeMap;

/// One Key Development of one summary: the metric's verdict on it and the human label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitPoint {
    /// The document (article) id.
    pub doc: String,
    /// The system that wrote the summary.
    pub system: String,
    /// Index of the Key Development in the record's `key_points`.
    pub unit: usize,
    /// The metric's score (0..1).
    pub score: f64,
    /// The metric's own decision (`score ≥` its threshold).
    pub covered: bool,
    /// The human label in [0, 1]: 1/0, or a soft label (e.g. the share of annotators who marked
    /// the unit present).
    pub label: f64,
}

impl UnitPoint {
    /// Whether the unit counts as present for AUC, accuracy and F1: `label ≥ 0.5`.
    pub fn positive(&self) -> bool {
        self.label >= 0.5
    }
}

/// Why a record gives no units for a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitSkip {
    /// The record has an `error` (it was not scored).
    Error,
    /// The record has no `scores.<metric>.key_points` verdict list.
    MissingMetric,
    /// The record's `meta` has no label field.
    MissingLabels,
    /// The label field is not a list of 1/0, true/false or numbers in [0, 1].
    BadLabels,
    /// The label list and the verdict list differ in length.
    LengthMismatch,
}

impl UnitSkip {
    /// A short phrase for warnings.
    pub fn describe(self) -> &'static str {
        match self {
            UnitSkip::Error => "the record has an error",
            UnitSkip::MissingMetric => "no verdict list for the metric",
            UnitSkip::MissingLabels => "no label field in `meta`",
            UnitSkip::BadLabels => {
                "the label field is not a list of 1/0, true/false or numbers in [0, 1]"
            }
            UnitSkip::LengthMismatch => "the label list and the verdict list differ in length",
        }
    }
}

/// Records skipped for one metric, counted by reason.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Skipped {
    /// Records with an `error`.
    pub error: usize,
    /// Records without a verdict list for the metric.
    pub missing_metric: usize,
    /// Records without the label field in `meta`.
    pub missing_labels: usize,
    /// Records whose label field is not a valid label list.
    pub bad_labels: usize,
    /// Records whose label and verdict lists differ in length.
    pub length_mismatch: usize,
    /// The first record skipped for each reason (`id (system …): detail`), for warnings.
    #[serde(skip)]
    pub first: BTreeMap<UnitSkip, String>,
}

impl Skipped {
    /// Records skipped for any reason.
    pub fn total(&self) -> usize {
        self.error
            + self.missing_metric
            + self.missing_labels
            + self.bad_labels
            + self.length_mismatch
    }

    /// The count of one reason.
    pub fn count(&self, why: UnitSkip) -> usize {
        match why {
            UnitSkip::Error => self.error,
            UnitSkip::MissingMetric => self.missing_metric,
            UnitSkip::MissingLabels => self.missing_labels,
            UnitSkip::BadLabels => self.bad_labels,
            UnitSkip::LengthMismatch => self.length_mismatch,
        }
    }

    fn add(&mut self, why: UnitSkip, note: impl FnOnce() -> String) {
        *match why {
            UnitSkip::Error => &mut self.error,
            UnitSkip::MissingMetric => &mut self.missing_metric,
            UnitSkip::MissingLabels => &mut self.missing_labels,
            UnitSkip::BadLabels => &mut self.bad_labels,
            UnitSkip::LengthMismatch => &mut self.length_mismatch,
        } += 1;
        self.first.entry(why).or_insert_with(note);
    }
}

/// A record's unit labels as found in its `meta`.
#[derive(Debug, Clone, PartialEq)]
pub enum UnitLabels {
    /// The field is absent.
    Missing,
    /// The field is present but not a valid label list (the reason).
    Invalid(String),
    /// One label in [0, 1] per Key Development.
    Values(Vec<f64>),
}

/// Parses a label list: each element 1/0, true/false, or a number in [0, 1] (a soft label).
pub fn parse_unit_labels(v: &serde_json::Value) -> Result<Vec<f64>, String> {
    use serde_json::Value;
    let Value::Array(items) = v else {
        return Err(format!("not a list: {v}"));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, x)| match x {
            Value::Bool(b) => Ok(if *b { 1.0 } else { 0.0 }),
            Value::Number(n) => n
                .as_f64()
                .filter(|f| (0.0..=1.0).contains(f))
                .ok_or_else(|| format!("element {i} is {n}, not in [0, 1]")),
            o => Err(format!("element {i} is {o}")),
        })
        .collect()
}

/// The `(score, covered)` list of `scores.<metric>.key_points`, when every element has a
/// finite numeric `score` and a boolean `covered`.
pub fn verdict_list(metric_scores: &serde_json::Value) -> Option<Vec<(f64, bool)>> {
    metric_scores
        .get("key_points")?
        .as_array()?
        .iter()
        .map(|v| {
            Some((
                v.get("score")?.as_f64().filter(|s| s.is_finite())?,
                v.get("covered")?.as_bool()?,
            ))
        })
        .collect()
}

/// What the unit level needs of one record: its document and system, whether it failed, the
/// verdict list of each key-point metric and the labels of one `meta` field.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitRecord {
    /// The document (article) id.
    pub doc: String,
    /// The system of the record (empty when it has none).
    pub system: String,
    /// The record has an `error`.
    pub failed: bool,
    /// `(metric, [(score, covered)])` of each `scores` entry with a `key_points` verdict list.
    pub verdicts: Vec<(String, Vec<(f64, bool)>)>,
    /// The unit labels found in the `meta` label field.
    pub labels: UnitLabels,
}

impl UnitRecord {
    /// Extracts the verdict lists of `r` and its labels from `meta[label_field]`.
    pub fn from_record(r: &crate::record::Record, label_field: &str) -> Self {
        let verdicts = r
            .scores
            .iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.clone(), verdict_list(v)?)))
            .collect();
        let labels = match r.meta.get(label_field) {
            None => UnitLabels::Missing,
            Some(v) => match parse_unit_labels(v) {
                Ok(l) => UnitLabels::Values(l),
                Err(e) => UnitLabels::Invalid(e),
            },
        };
        UnitRecord {
            doc: r.id.clone(),
            system: r.system.clone().unwrap_or_default(),
            failed: r.error.is_some(),
            verdicts,
            labels,
        }
    }

    fn name(&self) -> String {
        if self.system.is_empty() {
            format!("'{}'", self.doc)
        } else {
            format!("'{}' (system '{}')", self.doc, self.system)
        }
    }
}

/// Names of the metrics with a verdict list in any record, sorted.
pub fn unit_metric_names(records: &[UnitRecord]) -> Vec<String> {
    let mut names: Vec<String> =
        records.iter().flat_map(|r| r.verdicts.iter().map(|(m, _)| m.clone())).collect();
    names.sort();
    names.dedup();
    names
}

/// The units of `metric` in every record that has both its verdicts and labels of the same
/// length; the others are counted in [`Skipped`] (a failed record as `error`, whatever else).
pub fn collect_units(records: &[UnitRecord], metric: &str) -> (Vec<UnitPoint>, Skipped) {
    let mut points = Vec::new();
    let mut skipped = Skipped::default();
    for r in records {
        if r.failed {
            skipped.add(UnitSkip::Error, || r.name());
            continue;
        }
        let Some((_, verdicts)) = r.verdicts.iter().find(|(m, _)| m == metric) else {
            skipped.add(UnitSkip::MissingMetric, || r.name());
            continue;
        };
        let labels = match &r.labels {
            UnitLabels::Missing => {
                skipped.add(UnitSkip::MissingLabels, || r.name());
                continue;
            }
            UnitLabels::Invalid(why) => {
                skipped.add(UnitSkip::BadLabels, || format!("{}: {why}", r.name()));
                continue;
            }
            UnitLabels::Values(l) => l,
        };
        if labels.len() != verdicts.len() {
            skipped.add(UnitSkip::LengthMismatch, || {
                format!("{}: {} verdicts, {} labels", r.name(), verdicts.len(), labels.len())
            });
            continue;
        }
        points.extend(verdicts.iter().zip(labels).enumerate().map(
            |(unit, (&(score, covered), &label))| UnitPoint {
                doc: r.doc.clone(),
                system: r.system.clone(),
                unit,
                score,
                covered,
                label,
            },
        ));
    }
    (points, skipped)
}

/// ROC-AUC of `scores` against binary labels: the probability that a random positive scores
/// higher than a random negative, ties counting half (the Mann–Whitney U statistic over P·N).
/// O(n log n); scores should be finite. NaN when either class is empty.
pub fn roc_auc(scores: &[f64], positive: &[bool]) -> f64 {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    weighted_auc(idx.iter().map(|&i| (scores[i], positive[i], 1.0)))
}

/// AUC of `(score, positive, weight)` items in ascending score order: for each group of tied
/// scores, its positives beat every negative below it and tie with its own negatives (half).
fn weighted_auc(sorted: impl Iterator<Item = (f64, bool, f64)>) -> f64 {
    let (mut num, mut neg_below, mut pos_total) = (0.0, 0.0, 0.0);
    let (mut group_score, mut group_pos, mut group_neg) = (f64::NAN, 0.0, 0.0);
    let close = |pos: f64, neg: f64, neg_below: &mut f64, num: &mut f64| {
        *num += pos * (*neg_below + neg / 2.0);
        *neg_below += neg;
    };
    for (s, p, w) in sorted {
        if s != group_score {
            close(group_pos, group_neg, &mut neg_below, &mut num);
            (group_score, group_pos, group_neg) = (s, 0.0, 0.0);
        }
        if p {
            group_pos += w;
            pos_total += w;
        } else {
            group_neg += w;
        }
    }
    close(group_pos, group_neg, &mut neg_below, &mut num);
    let pairs = pos_total * neg_below;
    if pairs > 0.0 {
        num / pairs
    } else {
        f64::NAN
    }
}

/// Counts of a binary decision against binary labels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Confusion {
    /// Predicted positive, labelled positive.
    pub tp: f64,
    /// Predicted positive, labelled negative.
    pub fp: f64,
    /// Predicted negative, labelled positive (`fn` in JSON).
    #[serde(rename = "fn")]
    pub fn_: f64,
    /// Predicted negative, labelled negative.
    pub tn: f64,
}

impl Confusion {
    /// Counts of `predicted` against `positive`.
    pub fn of(predicted: &[bool], positive: &[bool]) -> Self {
        let mut c = Confusion::default();
        for (&p, &y) in predicted.iter().zip(positive) {
            c.add(p, y, 1.0);
        }
        c
    }

    fn add(&mut self, predicted: bool, positive: bool, w: f64) {
        match (predicted, positive) {
            (true, true) => self.tp += w,
            (true, false) => self.fp += w,
            (false, true) => self.fn_ += w,
            (false, false) => self.tn += w,
        }
    }

    /// Share of correct decisions; NaN when empty.
    pub fn accuracy(&self) -> f64 {
        let n = self.tp + self.fp + self.fn_ + self.tn;
        if n > 0.0 {
            (self.tp + self.tn) / n
        } else {
            f64::NAN
        }
    }

    /// F1 of the positive class, 2·TP / (2·TP + FP + FN). It is 0 when there are positives
    /// (labelled or predicted) but none is found; it is undefined (NaN, `null` in JSON, left out
    /// of bootstrap samples) when there is no positive at all, neither labelled nor predicted.
    pub fn f1(&self) -> f64 {
        let d = 2.0 * self.tp + self.fp + self.fn_;
        if d > 0.0 {
            2.0 * self.tp / d
        } else {
            f64::NAN
        }
    }
}

/// One bin of a calibration table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CalibrationBin {
    /// Lower edge (inclusive).
    pub low: f64,
    /// Upper edge (exclusive, but the last bin includes 1.0).
    pub high: f64,
    /// Units whose score falls in the bin.
    pub count: usize,
    /// Mean score of those units (NaN, `null` in JSON, when the bin is empty).
    pub mean_score: f64,
    /// Mean human label of those units: the observed positive rate for 1/0 labels, soft labels
    /// counted as they are (NaN, `null` in JSON, when the bin is empty).
    pub observed: f64,
}

/// Calibration bins.
pub const CALIBRATION_BINS: usize = 10;

/// The 10-bin calibration table of scores against labels: bins [0, 0.1), [0.1, 0.2), …,
/// [0.9, 1.0] (a score below 0 falls in the first bin, above 1 in the last), every bin listed.
pub fn calibration(scores: &[f64], labels: &[f64]) -> Vec<CalibrationBin> {
    let nb = CALIBRATION_BINS;
    let mut acc = vec![(0usize, 0.0, 0.0); nb];
    for (&s, &y) in scores.iter().zip(labels) {
        // The number of inner edges k/10 at or below s: exact at decimal edges such as 0.3.
        let b = (1..nb).filter(|&k| s >= k as f64 / nb as f64).count();
        acc[b].0 += 1;
        acc[b].1 += s;
        acc[b].2 += y;
    }
    acc.iter()
        .enumerate()
        .map(|(b, &(count, ss, ys))| {
            let mean = |sum: f64| if count > 0 { sum / count as f64 } else { f64::NAN };
            CalibrationBin {
                low: b as f64 / nb as f64,
                high: (b + 1) as f64 / nb as f64,
                count,
                mean_score: mean(ss),
                observed: mean(ys),
            }
        })
        .collect()
}

/// Expected calibration error of a table: the count-weighted mean of |mean score − observed|
/// over the bins (empty bins weigh nothing). NaN when every bin is empty.
pub fn expected_calibration_error(bins: &[CalibrationBin]) -> f64 {
    let n: usize = bins.iter().map(|b| b.count).sum();
    if n == 0 {
        return f64::NAN;
    }
    bins.iter()
        .filter(|b| b.count > 0)
        .map(|b| b.count as f64 * (b.mean_score - b.observed).abs())
        .sum::<f64>()
        / n as f64
}

/// Unit-level agreement of one metric with one label field.
#[derive(Debug, Clone, Serialize)]
pub struct UnitResult {
    /// The metric (`scores.<metric>.key_points`).
    pub metric: String,
    /// The `meta` field of the labels.
    pub labels: String,
    /// Units (Key Developments) evaluated.
    pub units: usize,
    /// Documents that gave units (the bootstrap unit).
    pub documents: usize,
    /// (document, system) pairs that gave units.
    pub summaries: usize,
    /// Records that gave no units ([`Skipped::total`]).
    pub skipped_records: usize,
    /// The same, by reason.
    pub skipped: Skipped,
    /// Share of units labelled positive (label ≥ 0.5).
    pub positive_rate: f64,
    /// ROC-AUC of the score against the labels (ties count half).
    pub auc: Estimate,
    /// Accuracy of `covered` against the labels.
    pub accuracy: Estimate,
    /// F1 of `covered` against the labels (see [`Confusion::f1`] for when it is undefined).
    pub f1: Estimate,
    /// Expected calibration error of the score against the labels.
    pub ece: f64,
    /// Reliability bins of the score (see [`calibration`]).
    pub calibration: Vec<CalibrationBin>,
}

/// Units grouped by document, sorted by score once, so that each bootstrap resample is a
/// weighting of the documents (weight = times drawn) computed in one pass without sorting.
pub(super) struct UnitData {
    /// (score, positive, covered, document index) in ascending score order.
    sorted: Vec<(f64, bool, bool, usize)>,
    documents: usize,
}

impl UnitData {
    pub(super) fn new(points: &[UnitPoint]) -> Self {
        let mut docs: BTreeMap<&str, usize> = BTreeMap::new();
        for p in points {
            docs.insert(p.doc.as_str(), 0);
        }
        for (i, v) in docs.values_mut().enumerate() {
            *v = i;
        }
        let mut sorted: Vec<(f64, bool, bool, usize)> = points
            .iter()
            .map(|p| (p.score, p.positive(), p.covered, docs[p.doc.as_str()]))
            .collect();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        UnitData { sorted, documents: docs.len() }
    }

    /// (AUC, accuracy, F1) with each unit weighted by its document's weight: the same as the
    /// statistics of the units of every drawn document, repeated as often as it was drawn.
    pub(super) fn stats(&self, weights: &[f64]) -> (f64, f64, f64) {
        let auc = weighted_auc(
            self.sorted.iter().map(|&(s, y, _, d)| (s, y, weights[d])).filter(|t| t.2 > 0.0),
        );
        let mut c = Confusion::default();
        for &(_, y, p, d) in &self.sorted {
            c.add(p, y, weights[d]);
        }
        (auc, c.accuracy(), c.f1())
    }
}

/// Unit-level meta-evaluation of one metric: AUC, accuracy and F1 with bootstrap CIs from
/// resampling documents (all units of a drawn document come along; the same resamples as
/// [`meta_evaluate`](super::meta_evaluate)), the positive rate, the calibration table and its ECE.
pub fn unit_evaluate(
    points: &[UnitPoint],
    metric: &str,
    labels: &str,
    skipped: Skipped,
    cfg: &StatsConfig,
) -> UnitResult {
    use rayon::prelude::*;
    let data = UnitData::new(points);
    let nd = data.documents;
    let (auc, acc, f1) = data.stats(&vec![1.0; nd]);
    let samples: Vec<(f64, f64, f64)> = doc_picks(nd, cfg)
        .par_iter()
        .map(|pick| {
            let mut w = vec![0.0; nd];
            for &d in pick {
                w[d] += 1.0;
            }
            data.stats(&w)
        })
        .collect();
    let finite = |f: fn(&(f64, f64, f64)) -> f64| {
        samples.iter().map(f).filter(|v| v.is_finite()).collect::<Vec<f64>>()
    };
    let scores: Vec<f64> = points.iter().map(|p| p.score).collect();
    let label_values: Vec<f64> = points.iter().map(|p| p.label).collect();
    let calibration = calibration(&scores, &label_values);
    let positives = points.iter().filter(|p| p.positive()).count();
    let summaries: std::collections::BTreeSet<(&str, &str)> =
        points.iter().map(|p| (p.doc.as_str(), p.system.as_str())).collect();
    UnitResult {
        metric: metric.to_string(),
        labels: labels.to_string(),
        units: points.len(),
        documents: nd,
        summaries: summaries.len(),
        skipped_records: skipped.total(),
        skipped,
        positive_rate: if points.is_empty() {
            f64::NAN
        } else {
            positives as f64 / points.len() as f64
        },
        auc: estimate(auc, finite(|s| s.0), nd, cfg),
        accuracy: estimate(acc, finite(|s| s.1), nd, cfg),
        f1: estimate(f1, finite(|s| s.2), nd, cfg),
        ece: expected_calibration_error(&calibration),
        calibration,
    }
}

/// Markdown: one row per metric (units, AUC, accuracy and F1 with CIs, ECE), then each
/// metric's calibration table.
pub fn unit_markdown(results: &[UnitResult]) -> String {
    let num = |v: f64| if v.is_finite() { format!("{v:.3}") } else { "–".to_string() };
    let est = |e: &Estimate| {
        if e.mean.is_finite() {
            format!("{:.3} [{}, {}]", e.mean, num(e.ci_low), num(e.ci_high))
        } else {
            "–".to_string()
        }
    };
    let mut out = String::from("| metric | units | AUC [CI] | accuracy [CI] | F1 [CI] | ECE |\n|---|---:|---:|---:|---:|---:|\n");
    for r in results {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            r.metric,
            r.units,
            est(&r.auc),
            est(&r.accuracy),
            est(&r.f1),
            num(r.ece)
        ));
    }
    for r in results {
        out.push_str(&format!(
            "\nCalibration of {} against `{}` ({} units, positive rate {}):\n\n",
            r.metric,
            r.labels,
            r.units,
            num(r.positive_rate)
        ));
        out.push_str("| score | units | mean score | observed |\n|---|---:|---:|---:|\n");
        for b in &r.calibration {
            let close = if b.high >= 1.0 { ']' } else { ')' };
            out.push_str(&format!(
                "| [{:.1}, {:.1}{close} | {} | {} | {} |\n",
                b.low,
                b.high,
                b.count,
                num(b.mean_score),
                num(b.observed)
            ));
        }
    }
    out
}
