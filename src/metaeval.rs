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

// ---------------------------------------------------------------------------------------------
// Unit level: the metric's verdict on each Key Development against a human label per unit
// (e.g. Pyramid SCU presence), as a classifier (ROC-AUC of the score, accuracy and F1 of
// `covered`) and as a probability (calibration).
// ---------------------------------------------------------------------------------------------

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
struct UnitData {
    /// (score, positive, covered, document index) in ascending score order.
    sorted: Vec<(f64, bool, bool, usize)>,
    documents: usize,
}

impl UnitData {
    fn new(points: &[UnitPoint]) -> Self {
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
    fn stats(&self, weights: &[f64]) -> (f64, f64, f64) {
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
/// [`meta_evaluate`]), the positive rate, the calibration table and its ECE.
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

#[cfg(test)]
mod tests {
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
}
