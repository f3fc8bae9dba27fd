//! Comparing systems on the same records: per metric, each system against a baseline with the
//! delta's bootstrap CI, a paired bootstrap p-value and an approximate randomization p-value
//! (as sacreBLEU's `--paired-bs` / `--paired-ar`). Only records scored for every system count
//! (the paired set, the same for all systems); the records left out are counted and reported.
use crate::report::{AggRow, CorpusStat};
use crate::stats::{
    bootstrap_mean, estimate, paired_test, resample_sums, Estimate, PairedTest, StatsConfig,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// The result of [`compare`]: per-metric estimates of every system and tests against the baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The system the others are tested against.
    pub baseline: String,
    /// All compared systems (the baseline among them), sorted by name.
    pub systems: Vec<String>,
    /// Records scored for every system (the paired set).
    pub paired_records: usize,
    /// Record ids scored for some systems but not all, left out of the paired set.
    #[serde(default)]
    pub excluded_records: usize,
    /// system → how many record ids are scored for it (before pairing).
    #[serde(default)]
    pub records_per_system: BTreeMap<String, usize>,
    /// metric → system → its estimate on the paired set.
    pub scores: BTreeMap<String, BTreeMap<String, Estimate>>,
    /// metric → system (not the baseline) → test against the baseline.
    pub tests: BTreeMap<String, BTreeMap<String, PairedTest>>,
    /// The bootstrap and randomization settings used.
    pub stats: StatsConfig,
    /// The results signature of the compared records.
    pub signature: String,
}

/// Below this many paired records, bootstrap CIs and p-values are flagged as unreliable.
pub const FEW_RECORDS: usize = 10;

/// Compares `systems` (the first is the baseline unless `baseline` names one) on `metrics`
/// (flattened leaves such as `rouge1.f1`) and on the corpus statistics.
pub fn compare(
    rows: &[AggRow],
    baseline: Option<&str>,
    metrics: &[String],
    corpus: &[&dyn CorpusStat],
    cfg: &StatsConfig,
    signature: &str,
) -> Result<Comparison, String> {
    let mut systems: Vec<String> = Vec::new();
    for r in rows {
        if let Some(s) = &r.system {
            if !systems.iter().any(|x| x.as_str() == &**s) {
                systems.push(s.to_string());
            }
        }
    }
    systems.sort();
    if systems.len() < 2 {
        return Err(format!("need at least two systems to compare, found {}", systems.len()));
    }
    let base = match baseline {
        Some(b) if systems.iter().any(|s| s == b) => b.to_string(),
        Some(b) => {
            return Err(format!("baseline '{b}' is not among the systems ({})", systems.join(", ")))
        }
        None => systems[0].clone(),
    };
    // id → system → row, scored rows only.
    let mut by_id: BTreeMap<&str, HashMap<&str, &AggRow>> = BTreeMap::new();
    let mut records_per_system: BTreeMap<String, usize> =
        systems.iter().map(|s| (s.clone(), 0)).collect();
    for r in rows.iter().filter(|r| r.scores.is_some()) {
        if let Some(s) = &r.system {
            if by_id.entry(r.id.as_str()).or_default().insert(&**s, r).is_some() {
                return Err(format!(
                    "record id '{}' of system '{s}' appears more than once in the inputs (the same system in two files, or ids that are not unique per system)",
                    r.id
                ));
            }
            *records_per_system.entry(s.to_string()).or_default() += 1;
        }
    }
    let ids: Vec<&str> = by_id
        .iter()
        .filter(|(_, m)| systems.iter().all(|s| m.contains_key(s.as_str())))
        .map(|(id, _)| *id)
        .collect();
    let n = ids.len();
    if n < 2 {
        let per: Vec<String> =
            records_per_system.iter().map(|(s, k)| format!("{s}: {k}")).collect();
        return Err(format!("{n} record(s) scored for every system; a paired comparison needs at least 2 (records per system: {})", per.join(", ")));
    }
    let excluded_records = by_id.len() - n;
    let mut scores = BTreeMap::new();
    let mut tests = BTreeMap::new();
    for metric in metrics {
        let column = |sys: &str| -> Option<Vec<f64>> {
            ids.iter()
                .map(|id| {
                    by_id[id][sys]
                        .scores
                        .as_ref()
                        .unwrap()
                        .iter()
                        .find(|(k, _)| &**k == metric.as_str())
                        .map(|(_, v)| *v)
                })
                .collect()
        };
        let cols: Vec<(String, Vec<f64>)> = match systems
            .iter()
            .map(|s| column(s).map(|c| (s.clone(), c)))
            .collect::<Option<Vec<_>>>()
        {
            Some(c) => c,
            None => continue, // metric missing for some system
        };
        let base_col = &cols.iter().find(|(s, _)| *s == base).unwrap().1;
        let mut per = BTreeMap::new();
        let mut per_test = BTreeMap::new();
        for (s, col) in &cols {
            per.insert(s.clone(), bootstrap_mean(col, cfg));
            if *s == base {
                continue;
            }
            let data: Vec<f64> =
                base_col.iter().zip(col.iter()).flat_map(|(a, b)| [*a, *b]).collect();
            let d: Vec<f64> = col.iter().zip(base_col).map(|(b, a)| b - a).collect();
            let sa = |sums: &[f64]| sums[0] / n as f64;
            let sb = |sums: &[f64]| sums[1] / n as f64;
            let swap = |sw: &[bool]| {
                let t: f64 =
                    d.iter().zip(sw).map(|(x, &s)| if s { -x } else { *x }).sum::<f64>() / n as f64;
                (0.0, t)
            };
            per_test.insert(s.clone(), paired_test(&data, 2, cfg, &sa, &sb, &swap));
        }
        scores.insert(metric.clone(), per);
        tests.insert(metric.clone(), per_test);
    }
    for cs in corpus {
        let stats_of = |sys: &str| -> Option<Vec<&[f64]>> {
            ids.iter()
                .map(|id| {
                    by_id[id][sys]
                        .stats
                        .iter()
                        .find(|(k, _)| &**k == cs.field())
                        .map(|(_, v)| v.as_slice())
                })
                .collect()
        };
        let Some(cols) =
            systems.iter().map(|s| stats_of(s).map(|c| (s.clone(), c))).collect::<Option<Vec<_>>>()
        else {
            continue;
        };
        let base_st = &cols.iter().find(|(s, _)| *s == base).unwrap().1;
        let len = base_st.first().map_or(0, |v| v.len());
        if len == 0 || cols.iter().any(|(_, st)| st.iter().any(|v| v.len() != len)) {
            continue;
        }
        let sum_rows = |rows: &mut dyn Iterator<Item = &[f64]>| {
            let mut acc = vec![0.0; len];
            for r in rows {
                for (a, x) in acc.iter_mut().zip(r) {
                    *a += x;
                }
            }
            acc
        };
        let mut per = BTreeMap::new();
        let mut per_test = BTreeMap::new();
        for (s, st) in &cols {
            let flat: Vec<f64> = st.iter().flat_map(|v| v.iter().copied()).collect();
            let point = cs.from_sums(&sum_rows(&mut st.iter().copied()));
            per.insert(
                s.clone(),
                estimate(
                    point,
                    resample_sums(&flat, len, cfg).iter().map(|x| cs.from_sums(x)).collect(),
                    n,
                    cfg,
                ),
            );
            if *s == base {
                continue;
            }
            let data: Vec<f64> = base_st
                .iter()
                .zip(st.iter())
                .flat_map(|(a, b)| a.iter().chain(b.iter()).copied())
                .collect();
            let sa = |sums: &[f64]| cs.from_sums(&sums[..len]);
            let sb = |sums: &[f64]| cs.from_sums(&sums[len..]);
            let swap = |sw: &[bool]| {
                let a =
                    sum_rows(
                        &mut sw
                            .iter()
                            .enumerate()
                            .map(|(i, &x)| if x { st[i] } else { base_st[i] }),
                    );
                let b =
                    sum_rows(
                        &mut sw
                            .iter()
                            .enumerate()
                            .map(|(i, &x)| if x { base_st[i] } else { st[i] }),
                    );
                (cs.from_sums(&a), cs.from_sums(&b))
            };
            per_test.insert(s.clone(), paired_test(&data, 2 * len, cfg, &sa, &sb, &swap));
        }
        scores.insert(cs.name().to_string(), per);
        tests.insert(cs.name().to_string(), per_test);
    }
    Ok(Comparison {
        baseline: base,
        systems,
        paired_records: n,
        excluded_records,
        records_per_system,
        scores,
        tests,
        stats: *cfg,
        signature: signature.to_string(),
    })
}

/// Markdown: one table per metric, systems as rows.
pub fn markdown(c: &Comparison) -> String {
    let mut out = format!(
        "Baseline: {} — {} paired records; {} bootstrap resamples, {} AR trials, seed {}\n",
        c.baseline, c.paired_records, c.stats.bootstrap_samples, c.stats.ar_trials, c.stats.seed
    );
    if c.excluded_records > 0 {
        let per: Vec<String> =
            c.records_per_system.iter().map(|(s, n)| format!("{s} {n}")).collect();
        out.push_str(&format!("\n{} record id(s) not scored for every system are left out (records per system: {}).\n", c.excluded_records, per.join(", ")));
    }
    if c.paired_records < FEW_RECORDS {
        out.push_str(&format!(
            "\nOnly {} paired records: bootstrap CIs and p-values are not reliable with so few.\n",
            c.paired_records
        ));
    }
    out.push('\n');
    out.push_str("| metric | system | score [95% CI] | Δ vs baseline [95% CI] | p (paired bootstrap) | p (approx. randomization) |\n|---|---|---:|---:|---:|---:|\n");
    for (metric, per) in &c.scores {
        let scale = if metric.starts_with("bleu")
            || metric.starts_with("chrf")
            || metric.starts_with("corpus_")
        {
            1.0
        } else {
            100.0
        };
        for (s, e) in per {
            let (d, pb, pa) = match c.tests.get(metric).and_then(|t| t.get(s)) {
                Some(t) => (
                    format!(
                        "{:+.2} [{:+.2}, {:+.2}]",
                        t.delta * scale,
                        t.delta_ci_low * scale,
                        t.delta_ci_high * scale
                    ),
                    format!("{:.4}", t.p_bootstrap),
                    format!("{:.4}", t.p_ar),
                ),
                None => ("(baseline)".into(), "".into(), "".into()),
            };
            out.push_str(&format!(
                "| {metric} | {s} | {:.2} [{:.2}, {:.2}] | {d} | {pb} | {pa} |\n",
                e.mean * scale,
                e.ci_low * scale,
                e.ci_high * scale
            ));
        }
    }
    out
}
