//! The aggregate's data: per-system means with CIs ([`Aggregate`]), the compact row the
//! aggregate needs of each record ([`AggRow`]), interned leaf names, and corpus-level statistics
//! ([`CorpusStat`]). Computing it is [`crate::accumulate`]'s job; rendering is [`crate::report`]'s.
use crate::record::Record;
use crate::stats::{Estimate, StatsConfig};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Per-system aggregate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemAggregate {
    /// Records of this system (failed ones included).
    pub records: usize,
    /// Records with scores.
    pub scored: usize,
    /// Failed records.
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

/// The aggregate of a results file: per-system means with bootstrap CIs, counts, settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aggregate {
    /// The records' signature.
    pub signature: String,
    /// The kpeval version that computed it.
    pub tool: String,
    /// Records, all systems together.
    pub records: usize,
    /// Failed records, all systems together.
    pub errors: usize,
    /// Count of failed records by error kind.
    pub error_kinds: BTreeMap<String, usize>,
    /// Per system (the empty name for records without one).
    pub systems: BTreeMap<String, SystemAggregate>,
    /// The bootstrap settings of the CIs.
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
    /// The record's id (the bootstrap resamples by id).
    pub id: String,
    /// Its system.
    pub system: Option<Name>,
    /// The error kind of a failed record.
    pub error_kind: Option<Name>,
    /// Flattened numeric score leaves; None when the record was not scored.
    pub scores: Option<Vec<(Name, f64)>>,
    /// Sufficient statistics by metric field (`bleu` → its flat `stats` array).
    pub stats: Vec<(Name, Vec<f64>)>,
    /// Metrics not computed, with the reason.
    pub not_computed: Vec<(Name, Name)>,
}

impl AggRow {
    /// A record's row.
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

/// A corpus-level metric computed from summed per-record sufficient statistics.
pub trait CorpusStat: Sync {
    /// Name in the aggregate (`bleu`, `chrf`).
    fn name(&self) -> &'static str;
    /// Where the stats live in a record's scores (`bleu` → `scores.bleu.stats`).
    fn field(&self) -> &'static str;
    /// The corpus score from the element-wise sum of the records' stats arrays.
    #[allow(clippy::wrong_self_convention)] // a method of the statistic, not a constructor
    fn from_sums(&self, sums: &[f64]) -> f64;
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
