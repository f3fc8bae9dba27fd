//! `kpeval._kpeval`: the Rust half of the `kpeval` Python package. Thin wrappers over the
//! public items of the `kpeval` library crate (never `kpeval-torch`: no libtorch here). The
//! pure-Python package `kpeval` (python/kpeval/) shapes these into rouge-score / sacreBLEU style
//! objects; everything that takes time runs with the GIL released.
// pyo3 0.22's #[pyfunction] expansion converts PyErr into PyErr (a known false positive).
#![allow(clippy::useless_conversion)]
use std::sync::Mutex;

use kpeval::aggregate::AggRow;
use kpeval::article::FieldMap;
use kpeval::evaluation::{Evaluation, Input};
use kpeval::metrics::bleu::{self, BleuConfig, BleuTokenizer, Smooth};
use kpeval::metrics::chrf::{self, ChrfConfig};
use kpeval::metrics::rouge::{MultiRef, Prf, RougeConfig, RougeScorer, RougeType};
use kpeval::record::Record;
use kpeval::reporter::Reporter;
use kpeval::scoring::MetricsConfig;
use kpeval::stats::StatsConfig;
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use rayon::prelude::*;

create_exception!(_kpeval, KpevalError, PyException, "An error reported by the kpeval library.");

fn lib_err(e: kpeval::Error) -> PyErr {
    match e {
        kpeval::Error::Config(m) => PyValueError::new_err(format!("invalid configuration: {m}")),
        e => KpevalError::new_err(e.to_string()),
    }
}

type PrfTuple = (f64, f64, f64);

fn prf(p: &Prf) -> PrfTuple {
    (p.precision, p.recall, p.f1)
}

/// rouge-score's `RougeScorer` (0.1.2, bit-exact), computed in Rust.
#[pyclass(module = "kpeval._kpeval", frozen)]
struct RustRougeScorer {
    scorer: RougeScorer,
    names: Vec<String>,
}

#[pymethods]
impl RustRougeScorer {
    #[new]
    #[pyo3(signature = (rouge_types, use_stemmer=false, split_summaries=false))]
    fn new(rouge_types: Vec<String>, use_stemmer: bool, split_summaries: bool) -> PyResult<Self> {
        let types = rouge_types
            .iter()
            .map(|t| t.parse::<RougeType>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        let scorer = RougeScorer::try_new(RougeConfig { types, use_stemmer, split_summaries })
            .map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(RustRougeScorer { scorer, names: rouge_types })
    }

    /// The rouge type names, in order.
    #[getter]
    fn rouge_types(&self) -> Vec<String> {
        self.names.clone()
    }

    /// One pair: a list of (precision, recall, fmeasure) in the order of `rouge_types`.
    fn score(&self, py: Python<'_>, target: &str, prediction: &str) -> Vec<PrfTuple> {
        if target.len() + prediction.len() > 1 << 16 {
            py.allow_threads(|| self.score_one(target, prediction))
        } else {
            self.score_one(target, prediction)
        }
    }

    /// Many pairs on every core, without the GIL.
    fn score_batch(
        &self,
        py: Python<'_>,
        targets: Vec<String>,
        predictions: Vec<String>,
    ) -> PyResult<Vec<Vec<PrfTuple>>> {
        if targets.len() != predictions.len() {
            return Err(PyValueError::new_err(format!(
                "targets and predictions differ in length: {} != {}",
                targets.len(),
                predictions.len()
            )));
        }
        Ok(py.allow_threads(|| {
            targets
                .par_iter()
                .zip(predictions.par_iter())
                .with_min_len(8)
                .map(|(t, p)| self.score_one(t, p))
                .collect()
        }))
    }

    /// rouge-score's `score_multi` (`best`) or the mean over the targets (`mean`).
    #[pyo3(signature = (targets, prediction, agg="best"))]
    fn score_multi(
        &self,
        py: Python<'_>,
        targets: Vec<String>,
        prediction: &str,
        agg: &str,
    ) -> PyResult<Vec<PrfTuple>> {
        let agg = match agg {
            "best" => MultiRef::Best,
            "mean" => MultiRef::Mean,
            a => return Err(PyValueError::new_err(format!("agg {a:?}: 'best' or 'mean'"))),
        };
        let t: Vec<&str> = targets.iter().map(String::as_str).collect();
        Ok(py.allow_threads(|| {
            self.scorer.score_multi(&t, prediction, agg).iter().map(|(_, s)| prf(s)).collect()
        }))
    }
}

impl RustRougeScorer {
    fn score_one(&self, target: &str, prediction: &str) -> Vec<PrfTuple> {
        self.scorer.score(target, prediction).iter().map(|(_, s)| prf(s)).collect()
    }
}

/// `rouge_score.tokenize.tokenize` (with or without the Porter stemmer).
#[pyfunction]
#[pyo3(signature = (text, use_stemmer=false))]
fn rouge_tokenize(text: &str, use_stemmer: bool) -> Vec<String> {
    kpeval::metrics::rouge::tokenize(text, use_stemmer)
}

fn bleu_config(
    lowercase: bool,
    tokenize: &str,
    smooth_method: &str,
    smooth_value: Option<f64>,
    max_ngram_order: usize,
    use_effective_order: bool,
) -> PyResult<BleuConfig> {
    let tokenize = match tokenize {
        "13a" => BleuTokenizer::Tok13a,
        "none" => BleuTokenizer::None,
        t => {
            return Err(PyValueError::new_err(format!(
                "tokenize {t:?}: kpeval implements sacreBLEU's '13a' and 'none' tokenizers"
            )))
        }
    };
    let smooth = match smooth_method {
        "exp" => Smooth::Exp,
        "none" => Smooth::None,
        "floor" => Smooth::Floor(smooth_value.unwrap_or(0.1)),
        "add-k" => Smooth::AddK(smooth_value.unwrap_or(1.0)),
        s => {
            return Err(PyValueError::new_err(format!(
                "smooth_method {s:?}: one of 'exp', 'floor', 'add-k', 'none'"
            )))
        }
    };
    if !(1..=4).contains(&max_ngram_order) {
        return Err(PyValueError::new_err(format!(
            "max_ngram_order {max_ngram_order}: between 1 and 4"
        )));
    }
    Ok(BleuConfig {
        lowercase,
        tokenize,
        smooth,
        max_ngram_order,
        effective_order: use_effective_order,
    })
}

/// (score, precisions, bp, sys_len, ref_len, counts, totals, signature)
type BleuOut = (f64, Vec<f64>, f64, u64, u64, Vec<u64>, Vec<u64>, String);

fn check_refs(n: usize, refs: &[Vec<String>]) -> PyResult<()> {
    if n != refs.len() {
        return Err(PyValueError::new_err(format!(
            "{} hypotheses but {} reference lists",
            n,
            refs.len()
        )));
    }
    Ok(())
}

fn nrefs(refs: &[Vec<String>]) -> Option<usize> {
    let n = refs.first().map_or(1, Vec::len);
    refs.iter().all(|r| r.len() == n).then_some(n)
}

/// Corpus BLEU over `hyps`; `refs[i]` holds every reference of `hyps[i]`.
#[pyfunction]
#[pyo3(signature = (hyps, refs, lowercase=false, tokenize="13a", smooth_method="exp", smooth_value=None, max_ngram_order=4, use_effective_order=false))]
#[allow(clippy::too_many_arguments)]
fn bleu_corpus(
    py: Python<'_>,
    hyps: Vec<String>,
    refs: Vec<Vec<String>>,
    lowercase: bool,
    tokenize: &str,
    smooth_method: &str,
    smooth_value: Option<f64>,
    max_ngram_order: usize,
    use_effective_order: bool,
) -> PyResult<BleuOut> {
    let cfg = bleu_config(
        lowercase,
        tokenize,
        smooth_method,
        smooth_value,
        max_ngram_order,
        use_effective_order,
    )?;
    check_refs(hyps.len(), &refs)?;
    Ok(py.allow_threads(|| {
        let h: Vec<&str> = hyps.iter().map(String::as_str).collect();
        let r: Vec<Vec<&str>> =
            refs.iter().map(|x| x.iter().map(String::as_str).collect()).collect();
        let stats = bleu::corpus_stats(&cfg, &h, &r);
        let s = bleu::score_from_stats(&cfg, &stats);
        let order = cfg.max_ngram_order;
        (
            s.score,
            s.precisions[..order].to_vec(),
            s.bp,
            s.sys_len,
            s.ref_len,
            stats.correct[..order].to_vec(),
            stats.total[..order].to_vec(),
            bleu::signature_with_nrefs(&cfg, nrefs(&refs)),
        )
    }))
}

fn chrf_config(
    char_order: usize,
    word_order: usize,
    beta: u32,
    lowercase: bool,
    whitespace: bool,
    eps_smoothing: bool,
) -> PyResult<ChrfConfig> {
    if char_order == 0 && word_order == 0 {
        return Err(PyValueError::new_err("char_order and word_order cannot both be 0"));
    }
    if beta == 0 {
        return Err(PyValueError::new_err("beta must be positive"));
    }
    Ok(ChrfConfig { char_order, word_order, beta, lowercase, whitespace, eps_smoothing })
}

/// Corpus chrF (chrF++ with `word_order=2`); returns (score, name, signature).
#[pyfunction]
#[pyo3(signature = (hyps, refs, char_order=6, word_order=0, beta=2, lowercase=false, whitespace=false, eps_smoothing=false))]
#[allow(clippy::too_many_arguments)]
fn chrf_corpus(
    py: Python<'_>,
    hyps: Vec<String>,
    refs: Vec<Vec<String>>,
    char_order: usize,
    word_order: usize,
    beta: u32,
    lowercase: bool,
    whitespace: bool,
    eps_smoothing: bool,
) -> PyResult<(f64, String, String)> {
    let cfg = chrf_config(char_order, word_order, beta, lowercase, whitespace, eps_smoothing)?;
    check_refs(hyps.len(), &refs)?;
    Ok(py.allow_threads(|| {
        let h: Vec<&str> = hyps.iter().map(String::as_str).collect();
        let r: Vec<Vec<&str>> =
            refs.iter().map(|x| x.iter().map(String::as_str).collect()).collect();
        let s = chrf::corpus_chrf(&cfg, &h, &r);
        (s.score, cfg.name(), chrf::signature_with_nrefs(&cfg, nrefs(&refs)))
    }))
}

/// Forwards the library's progress to a Python callable (`progress(n)`: `n` more inputs done,
/// so `tqdm(...).update` fits) and keeps warnings and per-input errors for the caller. The
/// first exception the callable raises is kept and re-raised after the run.
struct PyReporter {
    progress: Option<Py<PyAny>>,
    messages: Mutex<Vec<(String, String)>>,
    raised: Mutex<Option<PyErr>>,
}

impl Reporter for PyReporter {
    fn start(&self, what: &str, total: Option<u64>) {
        self.messages.lock().unwrap().push(("start".into(), format!("{what}\t{total:?}")));
    }
    fn advance(&self, n: u64) {
        if let Some(cb) = &self.progress {
            Python::with_gil(|py| {
                let mut raised = self.raised.lock().unwrap();
                if raised.is_none() {
                    if let Err(e) = cb.call1(py, (n,)) {
                        *raised = Some(e);
                    }
                }
            });
        }
    }
    fn warning(&self, message: &str) {
        self.messages.lock().unwrap().push(("warning".into(), message.to_string()));
    }
    fn error(&self, message: &str) {
        self.messages.lock().unwrap().push(("error".into(), message.to_string()));
    }
}

/// (records JSON array, aggregate JSON or None, [(kind, message)] from the reporter)
type EvalOut = (String, Option<String>, Vec<(String, String)>);

/// Runs an evaluation of given summaries over JSON articles (a JSON array string) and returns
/// (records JSON array, aggregate JSON or None, [(kind, message)]).
#[pyfunction]
#[pyo3(signature = (articles_json, metrics="overlap", rouge_types=None, use_stemmer=true, kp_rouge_threshold=0.3, bootstrap=1000, seed=12345, confidence=0.95, sections="default", system_field=None, batch_size=64, progress=None))]
#[allow(clippy::too_many_arguments)]
fn evaluate_json(
    py: Python<'_>,
    articles_json: &str,
    metrics: &str,
    rouge_types: Option<Vec<String>>,
    use_stemmer: bool,
    kp_rouge_threshold: f64,
    bootstrap: usize,
    seed: u64,
    confidence: f64,
    sections: &str,
    system_field: Option<String>,
    batch_size: usize,
    progress: Option<Py<PyAny>>,
) -> PyResult<EvalOut> {
    if bootstrap == 0 {
        return Err(PyValueError::new_err("bootstrap must be positive"));
    }
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(PyValueError::new_err("confidence must be between 0 and 1"));
    }
    let values: Vec<serde_json::Value> = serde_json::from_str(articles_json)
        .map_err(|e| PyValueError::new_err(format!("data: {e}")))?;
    let mut mc = MetricsConfig {
        metrics: metrics.to_string(),
        stemmer: use_stemmer,
        kp_rouge_threshold,
        ..MetricsConfig::default()
    };
    if let Some(t) = rouge_types {
        for x in &t {
            x.parse::<RougeType>().map_err(|e| PyValueError::new_err(e.to_string()))?;
        }
        mc.rouge_types = t;
    }
    let stats =
        StatsConfig { bootstrap_samples: bootstrap, seed, confidence, ..StatsConfig::default() };
    let reporter =
        PyReporter { progress, messages: Mutex::new(Vec::new()), raised: Mutex::new(None) };
    let (records, aggregate) = py
        .allow_threads(|| -> Result<_, kpeval::Error> {
            let eval = Evaluation::builder()
                .given_summaries()
                .metrics_config(mc)
                .stats(stats)
                .sections(sections)
                .batch_size(batch_size)
                .build(None)?;
            let fields = FieldMap { system: system_field, ..FieldMap::default() };
            let mut records: Vec<Record> = Vec::new();
            let mut outcome =
                eval.run(Input::json(values, "data", &fields), &mut records, &reporter)?;
            let aggregate = outcome.aggregate();
            let records = serde_json::to_string(&records)
                .map_err(|e| kpeval::Error::Json { context: "records".into(), source: e })?;
            let aggregate = aggregate
                .map(|a| serde_json::to_string(&a))
                .transpose()
                .map_err(|e| kpeval::Error::Json { context: "aggregate".into(), source: e })?;
            Ok((records, aggregate))
        })
        .map_err(lib_err)?;
    if let Some(e) = reporter.raised.into_inner().unwrap() {
        return Err(e);
    }
    Ok((records, aggregate, reporter.messages.into_inner().unwrap()))
}

/// Paired comparison of systems over records (a JSON array string of records as `evaluate`
/// returns them); returns the comparison as JSON.
#[pyfunction]
#[pyo3(signature = (records_json, baseline=None, metrics=None, bootstrap=1000, seed=12345, ar_trials=10000, confidence=0.95))]
#[allow(clippy::too_many_arguments)]
fn compare_json(
    py: Python<'_>,
    records_json: &str,
    baseline: Option<String>,
    metrics: Option<Vec<String>>,
    bootstrap: usize,
    seed: u64,
    ar_trials: usize,
    confidence: f64,
) -> PyResult<String> {
    if bootstrap == 0 || ar_trials == 0 {
        return Err(PyValueError::new_err("bootstrap and ar_trials must be positive"));
    }
    let records: Vec<Record> = serde_json::from_str(records_json)
        .map_err(|e| PyValueError::new_err(format!("records: {e}")))?;
    py.allow_threads(|| {
        let rows: Vec<AggRow> = records.iter().map(AggRow::from_record).collect();
        let mut sigs: Vec<&str> = Vec::new();
        for r in &records {
            if !sigs.contains(&r.signature.as_str()) {
                sigs.push(&r.signature);
            }
        }
        let corpus = kpeval::scoring::corpus_stats();
        let metrics: Vec<String> = match metrics {
            Some(m) => {
                let known = |m: &str| {
                    corpus.iter().any(|c| c.name() == m)
                        || rows.iter().any(|r| r.scores.iter().flatten().any(|(k, _)| &**k == m))
                };
                let unknown: Vec<&str> =
                    m.iter().map(String::as_str).filter(|x| !known(x)).collect();
                if !unknown.is_empty() {
                    return Err(PyValueError::new_err(format!(
                        "metrics: no record has {} (score leaves look like rouge1.f1, bleu.score)",
                        unknown.join(", ")
                    )));
                }
                m
            }
            None => {
                let mut m: Vec<String> = Vec::new();
                for r in &rows {
                    for (k, _) in r.scores.iter().flatten() {
                        if kpeval::aggregate::headline_metric(k)
                            && !m.iter().any(|x| x.as_str() == &**k)
                        {
                            m.push(k.to_string());
                        }
                    }
                }
                m
            }
        };
        let cfg = StatsConfig { bootstrap_samples: bootstrap, seed, ar_trials, confidence };
        let sig = format!(
            "{} || compare:bootstrap:{}|ar-trials:{}|seed:{}",
            sigs.join(" || "),
            bootstrap,
            ar_trials,
            seed
        );
        let c = kpeval::compare::compare(&rows, baseline.as_deref(), &metrics, &corpus, &cfg, &sig)
            .map_err(KpevalError::new_err)?;
        serde_json::to_string(&c).map_err(|e| KpevalError::new_err(format!("comparison: {e}")))
    })
}

/// The kpeval library version.
#[pyfunction]
fn version() -> &'static str {
    kpeval::VERSION
}

#[pymodule]
fn _kpeval(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("KpevalError", m.py().get_type_bound::<KpevalError>())?;
    m.add_class::<RustRougeScorer>()?;
    m.add_function(wrap_pyfunction!(rouge_tokenize, m)?)?;
    m.add_function(wrap_pyfunction!(bleu_corpus, m)?)?;
    m.add_function(wrap_pyfunction!(chrf_corpus, m)?)?;
    m.add_function(wrap_pyfunction!(evaluate_json, m)?)?;
    m.add_function(wrap_pyfunction!(compare_json, m)?)?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    Ok(())
}
