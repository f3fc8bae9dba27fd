//! Reports: the aggregate (means with bootstrap CIs per system, counts, signature) computed from
//! records alone — so shards merged later give the same aggregate — and its Markdown/CSV forms.
use crate::error::{Error, Result};
use crate::record::Record;
use crate::stats::{Estimate, StatsConfig};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

/// Per-system aggregate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemAggregate {
    pub records: usize,
    pub scored: usize,
    pub errors: usize,
    /// Mean of each numeric score leaf (`rouge1.f1`, `kp.coverage`, …) with its bootstrap CI.
    pub metrics: BTreeMap<String, Estimate>,
    /// Corpus-level scores computed from summed sufficient statistics (BLEU, chrF), with CIs.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub corpus: BTreeMap<String, Estimate>,
    /// Metrics not computed, with the reason and how many records.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub not_computed: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aggregate {
    pub signature: String,
    pub tool: String,
    pub records: usize,
    pub errors: usize,
    /// Count of failed records by error kind.
    pub error_kinds: BTreeMap<String, usize>,
    pub systems: BTreeMap<String, SystemAggregate>,
    pub stats: StatsConfig,
}

/// Flattens the numeric leaves of a scores object into dotted names. Arrays (alignments) and
/// `stats` objects (sufficient statistics) are not means and are skipped.
pub fn flatten_scores(scores: &Map<String, Value>) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    visit_score_leaves(scores, |k, x| out.push((k.to_string(), x)));
    out
}

/// Calls `f` with each numeric leaf's dotted name and value, in document order (`stats` arrays
/// skipped), building names in one reused buffer.
pub fn visit_score_leaves(scores: &Map<String, Value>, mut f: impl FnMut(&str, f64)) {
    fn walk(name: &mut String, v: &Value, f: &mut dyn FnMut(&str, f64)) {
        match v {
            Value::Number(n) => {
                if let Some(x) = n.as_f64() {
                    f(name, x);
                }
            }
            Value::Object(m) => {
                for (k, v) in m {
                    if k == "stats" {
                        continue;
                    }
                    let len = name.len();
                    if len > 0 {
                        name.push('.');
                    }
                    name.push_str(k);
                    walk(name, v, f);
                    name.truncate(len);
                }
            }
            _ => {}
        }
    }
    let mut name = String::with_capacity(64);
    for (k, v) in scores {
        name.clear();
        name.push_str(k);
        walk(&mut name, v, &mut f);
    }
}

/// An interned name (score leaf, system, reason): rows share one copy of each.
pub type Name = std::sync::Arc<str>;

/// Interns names so that memory per record is a few numbers, not a few hundred bytes of keys.
pub fn intern(s: &str) -> Name {
    use once_cell::sync::Lazy;
    use std::collections::HashSet;
    use std::sync::Mutex;
    static NAMES: Lazy<Mutex<HashSet<Name>>> = Lazy::new(|| Mutex::new(HashSet::new()));
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(n) = names.get(s) {
        return n.clone();
    }
    let n: Name = Name::from(s);
    names.insert(n.clone());
    n
}

/// What the aggregate needs of one record (records themselves are not kept in memory).
#[derive(Debug, Clone, PartialEq)]
pub struct AggRow {
    pub id: String,
    pub system: Option<Name>,
    pub error_kind: Option<Name>,
    /// Flattened numeric score leaves; None when the record was not scored.
    pub scores: Option<Vec<(Name, f64)>>,
    /// Sufficient statistics by metric field (`bleu` → its flat `stats` array).
    pub stats: Vec<(Name, Vec<f64>)>,
    pub not_computed: Vec<(Name, Name)>,
}

impl AggRow {
    pub fn from_record(r: &Record) -> Self {
        let stats = r
            .scores
            .as_ref()
            .map(|s| {
                s.iter()
                    .filter_map(|(k, v)| {
                        let arr = v.get("stats")?.as_array()?;
                        Some((
                            intern(k),
                            arr.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect(),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default();
        AggRow {
            id: r.id.clone(),
            system: r.system.as_deref().map(intern),
            error_kind: r.error.as_ref().map(|e| intern(&e.kind)),
            scores: r.scores.as_ref().map(|s| {
                // Records of a run have the same leaves in the same order: the previous
                // record's names are reused without a lookup when they match.
                thread_local! {
                    static LAST: std::cell::RefCell<Vec<Name>> = const { std::cell::RefCell::new(Vec::new()) };
                }
                LAST.with(|last| {
                    let mut last = last.borrow_mut();
                    let mut out = Vec::with_capacity(last.len());
                    visit_score_leaves(s, |k, x| {
                        let i = out.len();
                        let name = match last.get(i) {
                            Some(n) if &**n == k => n.clone(),
                            _ => {
                                let n = intern(k);
                                if i < last.len() {
                                    last[i] = n.clone();
                                } else {
                                    last.push(n.clone());
                                }
                                n
                            }
                        };
                        out.push((name, x));
                    });
                    out
                })
            }),
            stats,
            not_computed: r.not_computed.iter().map(|(k, v)| (intern(k), intern(v.as_str().unwrap_or("")))).collect(),
        }
    }
}

/// Feeds every record of a records file to an accumulator.
pub fn accumulate_file(path: &Path, acc: &mut crate::accumulate::Accumulator) -> Result<()> {
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let reader = std::io::BufReader::new(f);
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| Error::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let r: Record = serde_json::from_str(&line).map_err(|e| Error::Json {
            context: format!("{}:{}", path.display(), i + 1),
            source: e,
        })?;
        acc.add_record(&r);
    }
    Ok(())
}

/// Reads aggregate rows from a records file, streaming; also returns the signatures seen.
pub fn read_rows(path: &Path) -> Result<(Vec<AggRow>, Vec<String>)> {
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let reader = std::io::BufReader::new(f);
    let mut rows = Vec::new();
    let mut sigs: Vec<String> = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| Error::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let r: Record = serde_json::from_str(&line).map_err(|e| Error::Json {
            context: format!("{}:{}", path.display(), i + 1),
            source: e,
        })?;
        if !sigs.contains(&r.signature) {
            sigs.push(r.signature.clone());
        }
        rows.push(AggRow::from_record(&r));
    }
    Ok((rows, sigs))
}

/// A corpus-level metric computed from summed per-record sufficient statistics.
pub trait CorpusStat: Sync {
    /// Name in the aggregate (`bleu`, `chrf`).
    fn name(&self) -> &'static str;
    /// Where the stats live in a record's scores (`bleu` → `scores.bleu.stats`).
    fn field(&self) -> &'static str;
    /// The corpus score from the element-wise sum of the records' stats arrays.
    fn from_sums(&self, sums: &[f64]) -> f64;
}

/// Computes the aggregate of rows (see [`crate::accumulate`]: the result does not depend on
/// the rows' order, sharding or thread count).
pub fn aggregate(
    rows: &[AggRow],
    signature: &str,
    stats: &StatsConfig,
    corpus_stats: &[&dyn CorpusStat],
) -> Aggregate {
    let mut acc = crate::accumulate::Accumulator::new(stats);
    for r in rows {
        acc.add_row(r);
    }
    acc.aggregate(signature, corpus_stats)
}

/// Whether a metric leaf is on a 0–1 scale (shown ×100 in tables).
fn unit_scale(name: &str) -> bool {
    !(name.starts_with("bleu") || name.starts_with("chrf") || name.starts_with("corpus_"))
}

/// The leaves shown in tables: F1 / score / coverage-like leaves, not every P and R.
pub fn headline_metric(name: &str) -> bool {
    name.ends_with(".f1")
        || name.ends_with(".score")
        || name.ends_with(".coverage")
        || name.ends_with(".precision") && name.starts_with("kp")
        || name == "faithfulness"
        || name.ends_with("faithfulness.score")
}

fn fmt_est(name: &str, e: &Estimate) -> String {
    let s = if unit_scale(name) { 100.0 } else { 1.0 };
    format!("{:.2} [{:.2}, {:.2}]", e.mean * s, e.ci_low * s, e.ci_high * s)
}

/// Whether a leaf is a column of the summary tables (every leaf stays in JSON and CSV):
/// ROUGE F1, corpus BLEU/chrF, token F1, key-point coverage/precision/F1, faithfulness, BERTScore F1.
pub fn table_metric(name: &str) -> bool {
    (name.starts_with("rouge") && name.ends_with(".f1"))
        || name.starts_with("corpus_")
        || name == "token_f1.f1"
        || (name.starts_with("kp")
            && (name.ends_with(".coverage")
                || name.ends_with(".precision")
                || name.ends_with(".f1")))
        || name.starts_with("faithfulness")
        || name == "bertscore.f1"
}

/// The table columns of an aggregate, in reading order.
pub fn table_columns(agg: &Aggregate) -> Vec<String> {
    let mut cols: Vec<String> = Vec::new();
    for s in agg.systems.values() {
        for k in s.metrics.keys().chain(s.corpus.keys()).filter(|k| table_metric(k)) {
            if !cols.contains(k) {
                cols.push(k.clone());
            }
        }
    }
    cols.sort_by_key(|c| (column_rank(c), c.clone()));
    cols
}

/// Table order: ROUGE, BLEU/chrF, token F1, key-point metrics, then corpus scores.
fn column_rank(name: &str) -> u8 {
    match name.split('.').next().unwrap_or("") {
        n if n.starts_with("rouge") => 0,
        "bleu" | "chrf" | "chrf++" => 1,
        "token_f1" => 2,
        "kp" => 3,
        "kp_rouge" => 4,
        n if n.starts_with("corpus_") => 9,
        _ => 5,
    }
}

/// A Markdown table: one row per system, headline metrics with 95% CIs (×100 for 0–1 metrics).
pub fn markdown(agg: &Aggregate) -> String {
    let cols = table_columns(agg);
    let mut out = String::new();
    out.push_str(&format!("| system | n | errors | {} |\n", cols.join(" | ")));
    out.push_str(&format!("|---|---:|---:|{}\n", cols.iter().map(|_| "---:|").collect::<String>()));
    for (name, s) in &agg.systems {
        let cells: Vec<String> = cols
            .iter()
            .map(|c| {
                s.metrics
                    .get(c)
                    .or_else(|| s.corpus.get(c))
                    .map(|e| fmt_est(c, e))
                    .unwrap_or_else(|| "–".into())
            })
            .collect();
        out.push_str(&format!(
            "| {name} | {} | {} | {} |\n",
            s.scored,
            s.errors,
            cells.join(" | ")
        ));
    }
    out.push_str(&format!(
        "\nMeans with {:.0}% bootstrap CIs ({} resamples, seed {}); ROUGE, token F1 and key-point scores ×100; BLEU/chrF corpus-level.\n",
        agg.stats.confidence * 100.0,
        agg.stats.bootstrap_samples,
        agg.stats.seed
    ));
    let mut nc: BTreeMap<&String, &String> = BTreeMap::new();
    for s in agg.systems.values() {
        for (k, v) in &s.not_computed {
            nc.insert(k, v);
        }
    }
    for (k, v) in nc {
        out.push_str(&format!("Not computed: {k} ({v}).\n"));
    }
    out.push_str(&format!("Signature: {}\n", agg.signature));
    out
}

/// CSV: one row per system and metric.
pub fn csv(agg: &Aggregate) -> String {
    let mut out = String::from("system,metric,kind,mean,ci_low,ci_high,n\n");
    for (name, s) in &agg.systems {
        for (kind, map) in [("mean", &s.metrics), ("corpus", &s.corpus)] {
            for (k, e) in map {
                out.push_str(&format!(
                    "{},{},{},{},{},{},{}\n",
                    csv_cell(name),
                    csv_cell(k),
                    kind,
                    e.mean,
                    e.ci_low,
                    e.ci_high,
                    e.n
                ));
            }
        }
    }
    out
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
