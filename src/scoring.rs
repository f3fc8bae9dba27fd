//! The scores stage: configured metrics applied to (generated key points, reference key points,
//! article). Metrics are pure functions of their inputs; they never read files.
use crate::metrics::rouge::{RougeConfig, RougeScorer};
use crate::metrics::{bleu, chrf};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// Per record, the directed similarity matrices of (Key Developments × generated points):
/// recall-side and precision-side.
pub type PairMatrices = Vec<(Vec<Vec<f64>>, Vec<Vec<f64>>)>;

pub use crate::metrics::{parse_metrics, Metric, MetricKind, ScoreInput};

/// ROUGE of the key points against the Key Developments: each list is joined with newlines, so
/// ROUGE-Lsum works on key-point "sentences" exactly as rouge-score does on CNN/DM.
pub struct RougeMetric {
    scorer: RougeScorer,
    cfg: RougeConfig,
}

impl RougeMetric {
    /// ROUGE with these settings.
    pub fn new(cfg: RougeConfig) -> Self {
        RougeMetric { scorer: RougeScorer::new(cfg.clone()), cfg }
    }
}

impl Metric for RougeMetric {
    fn name(&self) -> &'static str {
        "rouge"
    }
    fn signature(&self) -> String {
        let types: Vec<String> = self.cfg.types.iter().map(|t| t.name()).collect();
        format!(
            "rouge:{}|stem:{}|split:{}|impl:rouge-score-0.1.2",
            types.join(","),
            if self.cfg.use_stemmer { "porter-nltk" } else { "no" },
            if self.cfg.split_summaries { "sentences" } else { "newline" }
        )
    }
    fn score(&self, input: &ScoreInput) -> Result<Vec<(String, Value)>, String> {
        let target = input.references.join("\n");
        let prediction = input.summary;
        Ok(self
            .scorer
            .score(&target, prediction)
            .into_iter()
            .map(|(t, s)| {
                (t.name(), json!({"precision": s.precision, "recall": s.recall, "f1": s.f1}))
            })
            .collect())
    }
}

/// The configured set of metrics.
pub struct Scorer {
    /// The metrics, in signature order.
    pub metrics: Vec<Box<dyn Metric>>,
}

impl Scorer {
    /// The metrics' settings, `|`-joined, for the results signature.
    pub fn signature(&self) -> String {
        let mut sig = self.metrics.iter().map(|m| m.signature()).collect::<Vec<_>>().join("|");
        if self.combines_cover_and_nli() {
            sig.push_str("|kp_cover_nli:mean(kp_cover,kp_nli),t=mean-of-thresholds");
        }
        sig
    }

    /// Both the coverage judge and the entailment verdicts run: `kp_cover_nli` combines them.
    fn combines_cover_and_nli(&self) -> bool {
        let names: Vec<&str> = self.metrics.iter().map(|m| m.name()).collect();
        names.contains(&"kp_cover") && names.contains(&"nli")
    }

    /// Scores a batch of inputs; each result is the `scores` object or the reason it failed.
    pub fn score_batch(&self, inputs: &[ScoreInput]) -> Vec<Result<Map<String, Value>, String>> {
        let mut out: Vec<Result<Map<String, Value>, String>> =
            inputs.iter().map(|_| Ok(Map::new())).collect();
        for m in &self.metrics {
            let res = m.score_batch(inputs);
            for (slot, r) in out.iter_mut().zip(res) {
                match (slot.as_mut(), r) {
                    (Ok(map), Ok(kv)) => map.extend(kv),
                    (Ok(_), Err(e)) => *slot = Err(format!("{}: {e}", m.name())),
                    (Err(_), _) => {}
                }
            }
        }
        if self.combines_cover_and_nli() {
            for map in out.iter_mut().flatten() {
                if let Some(v) = combine_cover_nli(map) {
                    map.insert("kp_cover_nli".into(), v);
                }
            }
        }
        out
    }
}

/// `kp_cover_nli`: per Key Development, the mean of the coverage judge's and the entailment
/// verdict's scores, covered when it reaches the mean of their thresholds (0.5 for kp_nli), with
/// both evidences. Not fitted: no real NLI model is available offline to fit a combination on.
fn combine_cover_nli(scores: &Map<String, Value>) -> Option<Value> {
    let cover = scores.get("kp_cover")?;
    let nli = scores.get("kp_nli")?;
    let (a, b) = (cover["key_points"].as_array()?, nli["key_points"].as_array()?);
    if a.len() != b.len() {
        return None;
    }
    let t_cover = crate::judge::CoverPreset::bundled().threshold;
    let t = (t_cover + 0.5) / 2.0;
    let mut verdicts = Vec::with_capacity(a.len());
    for (x, y) in a.iter().zip(b) {
        let score = ((x["score"].as_f64()? + y["score"].as_f64()?) / 2.0 * 1e6).round() / 1e6;
        let mut evidence: Vec<u64> = x["evidence"]
            .as_array()?
            .iter()
            .chain(y["evidence"].as_array()?)
            .filter_map(Value::as_u64)
            .collect();
        evidence.sort_unstable();
        evidence.dedup();
        verdicts.push(json!({"score": score, "covered": score >= t && !evidence.is_empty(), "evidence": evidence}));
    }
    let n = verdicts.len().max(1) as f64;
    let coverage =
        (verdicts.iter().filter_map(|v| v["score"].as_f64()).sum::<f64>() / n * 1e6).round() / 1e6;
    let at_t = verdicts.iter().filter(|v| v["covered"] == true).count() as f64 / n;
    Some(json!({"coverage": coverage, "coverage_at_t": at_t, "key_points": verdicts}))
}

/// Corpus-level metrics computed in the aggregate from per-record sufficient statistics.
pub fn corpus_stats() -> Vec<&'static dyn crate::report::CorpusStat> {
    static BLEU: BleuCorpus = BleuCorpus;
    static CHRF: ChrfCorpus = ChrfCorpus { field: "chrf", name: "corpus_chrf", pp: false };
    static CHRF_PP: ChrfCorpus = ChrfCorpus { field: "chrf++", name: "corpus_chrf++", pp: true };
    vec![&BLEU, &CHRF, &CHRF_PP]
}

/// BLEU (sacreBLEU 2.x, 13a, exp smoothing): per record the sentence BLEU (effective order, as
/// `sacrebleu.sentence_bleu`) and its statistics; the aggregate adds corpus BLEU (as
/// `sacrebleu.corpus_bleu`) from the summed statistics. Hypothesis: the summary text; reference:
/// the key points joined with spaces.
pub struct BleuMetric {
    /// sacreBLEU's settings.
    pub cfg: bleu::BleuConfig,
}

impl Metric for BleuMetric {
    fn name(&self) -> &'static str {
        "bleu"
    }
    fn signature(&self) -> String {
        format!("bleu:{}", bleu::signature(&self.cfg).replace('|', ","))
    }
    fn score(&self, input: &ScoreInput) -> Result<Vec<(String, Value)>, String> {
        let reference = input.references.join(" ");
        let st = bleu::sentence_stats(&self.cfg, input.summary, &[reference.as_str()]);
        let sent_cfg = bleu::BleuConfig { effective_order: true, ..self.cfg.clone() };
        let score = bleu::score_from_stats(&sent_cfg, &st).score;
        Ok(vec![(
            "bleu".into(),
            json!({"score": score, "stats": st.to_sacrebleu_list(self.cfg.max_ngram_order)}),
        )])
    }
}

struct BleuCorpus;

impl crate::report::CorpusStat for BleuCorpus {
    fn name(&self) -> &'static str {
        "corpus_bleu"
    }
    fn field(&self) -> &'static str {
        "bleu"
    }
    fn from_sums(&self, sums: &[f64]) -> f64 {
        let order = (sums.len().saturating_sub(2) / 2).clamp(1, 4);
        let mut st = bleu::BleuStats {
            sys_len: sums[0] as u64,
            ref_len: sums[1] as u64,
            ..Default::default()
        };
        for n in 0..order {
            st.correct[n] = sums[2 + n] as u64;
            st.total[n] = sums[2 + order + n] as u64;
        }
        let cfg = bleu::BleuConfig { max_ngram_order: order, ..Default::default() };
        bleu::score_from_stats(&cfg, &st).score
    }
}

/// chrF / chrF++ (sacreBLEU 2.x defaults): per record the sentence score and statistics; the
/// aggregate adds the corpus score from the summed statistics.
pub struct ChrfMetric {
    /// sacreBLEU's chrF settings.
    pub cfg: chrf::ChrfConfig,
    /// Its field under `scores` (`chrf` or `chrf++`).
    pub field: &'static str,
}

impl Metric for ChrfMetric {
    fn name(&self) -> &'static str {
        self.field
    }
    fn signature(&self) -> String {
        format!("{}:{}", self.field, chrf::signature(&self.cfg).replace('|', ","))
    }
    fn score(&self, input: &ScoreInput) -> Result<Vec<(String, Value)>, String> {
        let reference = input.references.join(" ");
        let st = chrf::sentence_stats(&self.cfg, input.summary, &[reference.as_str()]);
        let score = chrf::score_from_stats(&self.cfg, &st).score;
        Ok(vec![(self.field.into(), json!({"score": score, "stats": st.to_sacrebleu_list()}))])
    }
}

struct ChrfCorpus {
    field: &'static str,
    name: &'static str,
    pp: bool,
}

impl crate::report::CorpusStat for ChrfCorpus {
    fn name(&self) -> &'static str {
        self.name
    }
    fn field(&self) -> &'static str {
        self.field
    }
    fn from_sums(&self, sums: &[f64]) -> f64 {
        let cfg = if self.pp { chrf::ChrfConfig::chrf_pp() } else { chrf::ChrfConfig::default() };
        let orders: Vec<[u64; 3]> = sums
            .chunks(3)
            .map(|c| {
                [
                    c[0] as u64,
                    c.get(1).copied().unwrap_or(0.0) as u64,
                    c.get(2).copied().unwrap_or(0.0) as u64,
                ]
            })
            .collect();
        chrf::score_from_stats(&cfg, &chrf::ChrfStats { orders }).score
    }
}

/// SQuAD v1.1 token F1 of the summary text against the key points joined with spaces.
pub struct TokenF1Metric;

impl Metric for TokenF1Metric {
    fn name(&self) -> &'static str {
        "token_f1"
    }
    fn signature(&self) -> String {
        "token_f1:squad-v1.1".into()
    }
    fn score(&self, input: &ScoreInput) -> Result<Vec<(String, Value)>, String> {
        let reference = input.references.join(" ");
        let t = crate::metrics::tokenf1::f1_score(input.summary, &reference);
        Ok(vec![(
            "token_f1".into(),
            json!({"precision": t.precision, "recall": t.recall, "f1": t.f1}),
        )])
    }
}

/// A similarity between key points, computed for a batch of records at once (model-backed
/// similarities batch their forward passes).
pub trait Similarity: Send + Sync {
    /// Name in the signature (`rouge1-f`, `cosine(all-MiniLM-L6-v2)`).
    fn name(&self) -> String;
    /// For each record: `sim[k][g]` between reference point k and generated point g.
    fn matrices(&self, records: &[(&[String], &[String])]) -> Result<Vec<Vec<Vec<f64>>>, String>;
    /// For each record: (`rec[k][g]`, `prec[k][g]`) for a directed similarity (how much of k
    /// g states, how much of g k supports); `None` for a symmetric one (then `matrices`).
    fn directed_matrices(
        &self,
        _records: &[(&[String], &[String])],
    ) -> Option<Result<PairMatrices, String>> {
        None
    }
    /// For each record: how many of its texts (key points and generated points) the similarity
    /// cut to fit a model's maximum length (0 for a similarity without one).
    fn truncated_points(&self, records: &[(&[String], &[String])]) -> Result<Vec<usize>, String> {
        Ok(vec![0; records.len()])
    }
}

/// [`Similarity::truncated_points`] of a similarity on an embedding model.
fn truncated_points(
    embedder: &dyn crate::runtime::Embedder,
    records: &[(&[String], &[String])],
) -> Result<Vec<usize>, String> {
    records
        .iter()
        .map(|(k, g)| {
            let texts: Vec<String> = k.iter().chain(g.iter()).cloned().collect();
            let (cut, _) = embedder.truncation(&texts).map_err(|e| e.to_string())?;
            Ok(cut.iter().filter(|&&c| c > 0).count())
        })
        .collect()
}

/// ROUGE-1 F1 (rouge-score tokenization with stemming) between two key points.
pub struct Rouge1Similarity {
    scorer: RougeScorer,
}

impl Default for Rouge1Similarity {
    fn default() -> Self {
        Rouge1Similarity {
            scorer: RougeScorer::new(RougeConfig {
                types: vec![crate::metrics::rouge::RougeType::N(1)],
                use_stemmer: true,
                split_summaries: false,
            }),
        }
    }
}

impl Similarity for Rouge1Similarity {
    fn name(&self) -> String {
        "rouge1-f".into()
    }
    fn matrices(&self, records: &[(&[String], &[String])]) -> Result<Vec<Vec<Vec<f64>>>, String> {
        use rayon::prelude::*;
        Ok(records
            .par_iter()
            .map(|(refs, gens)| {
                refs.iter()
                    .map(|k| gens.iter().map(|g| self.scorer.score(k, g)[0].1.f1).collect())
                    .collect()
            })
            .collect())
    }
}

/// Key-point coverage, precision and F1 of G against K on a similarity, with the optimal
/// one-to-one alignment (which Key Development each generated point covers).
pub struct KpMetric {
    /// Its field under `scores` (`kp`, `kp_tok`, `kp_rouge`).
    pub field: &'static str,
    /// How a key point and a generated point are compared.
    pub similarity: Box<dyn Similarity>,
    /// Similarity at which a Key Development counts as covered.
    pub threshold: f64,
}

impl Metric for KpMetric {
    fn name(&self) -> &'static str {
        self.field
    }
    fn signature(&self) -> String {
        format!(
            "{}:sim={},t={},cover=per-kd-best,match=hungarian",
            self.field,
            self.similarity.name(),
            self.threshold
        )
    }
    fn score(&self, input: &ScoreInput) -> Result<Vec<(String, Value)>, String> {
        self.score_batch(std::slice::from_ref(input))
            .pop()
            .unwrap_or_else(|| Err("no result".into()))
    }
    fn score_batch(&self, inputs: &[ScoreInput]) -> Vec<Result<Vec<(String, Value)>, String>> {
        let pairs: Vec<(&[String], &[String])> =
            inputs.iter().map(|i| (i.references, i.generated)).collect();
        let cut = match self.similarity.truncated_points(&pairs) {
            Ok(c) => c,
            Err(e) => return inputs.iter().map(|_| Err(e.clone())).collect(),
        };
        // never silent: points cut to the model's maximum length are counted in the scores
        let out = |s: Result<Value, serde_json::Error>,
                   cut: usize|
         -> Result<Vec<(String, Value)>, String> {
            let mut v = s.map_err(|e| e.to_string())?;
            if cut > 0 {
                if let Some(m) = v.as_object_mut() {
                    m.insert("truncated_points".into(), Value::from(cut));
                }
            }
            Ok(vec![(self.field.to_string(), v)])
        };
        if let Some(res) = self.similarity.directed_matrices(&pairs) {
            return match res {
                Ok(mats) => mats
                    .iter()
                    .zip(&cut)
                    .map(|((rec, prec), &c)| {
                        out(
                            serde_json::to_value(crate::metrics::alignment::kp_scores_directed(
                                rec,
                                Some(prec),
                                self.threshold,
                            )),
                            c,
                        )
                    })
                    .collect(),
                Err(e) => inputs.iter().map(|_| Err(e.clone())).collect(),
            };
        }
        match self.similarity.matrices(&pairs) {
            Ok(mats) => mats
                .iter()
                .zip(&cut)
                .map(|(m, &c)| {
                    out(
                        serde_json::to_value(crate::metrics::alignment::kp_scores(
                            m,
                            self.threshold,
                        )),
                        c,
                    )
                })
                .collect(),
            Err(e) => inputs.iter().map(|_| Err(e.clone())).collect(),
        }
    }
}

/// Cosine similarity of sentence embeddings. Each distinct text is embedded on its own (no
/// padding, so its vector does not depend on which other texts share the batch: resumed runs and
/// shards give the same numbers) and memoized; similarities are rounded to 1e-6.
pub struct EmbeddingSimilarity {
    /// The sentence-embedding model.
    pub embedder: Box<dyn crate::runtime::Embedder>,
    /// Vectors of texts seen, by text (each text is embedded on its own).
    pub memo: crate::runtime::Memo<Vec<f32>>,
}

impl EmbeddingSimilarity {
    /// Cosine similarity of sentence embeddings.
    pub fn new(embedder: Box<dyn crate::runtime::Embedder>) -> Self {
        EmbeddingSimilarity {
            embedder,
            memo: crate::runtime::Memo::new(crate::runtime::MEMO_BUDGET),
        }
    }
}

/// Every distinct text of a batch's records (Key Developments and generated points), in
/// first-seen order.
fn distinct_texts<'a>(records: &[(&'a [String], &'a [String])]) -> Vec<&'a str> {
    let mut seen = std::collections::HashSet::new();
    records
        .iter()
        .flat_map(|(k, g)| k.iter().chain(g.iter()))
        .map(|t| t.as_str())
        .filter(|t| seen.insert(*t))
        .collect()
}

impl Similarity for EmbeddingSimilarity {
    fn name(&self) -> String {
        format!("cosine({})", self.embedder.name())
    }
    fn truncated_points(&self, records: &[(&[String], &[String])]) -> Result<Vec<usize>, String> {
        truncated_points(self.embedder.as_ref(), records)
    }
    fn matrices(&self, records: &[(&[String], &[String])]) -> Result<Vec<Vec<Vec<f64>>>, String> {
        // Embed every distinct text of the batch once, each on its own (the runtime spreads
        // them over its threads).
        let texts = distinct_texts(records);
        let vecs = self
            .memo
            .get_many(&texts, |missing| self.embedder.embed(missing).map_err(|e| e.to_string()))?;
        let index: std::collections::HashMap<&str, usize> =
            texts.iter().enumerate().map(|(i, t)| (*t, i)).collect();
        let cos = |a: &[f32], b: &[f32]| -> f64 {
            let (mut d, mut na, mut nb) = (0f64, 0f64, 0f64);
            for (x, y) in a.iter().zip(b) {
                d += *x as f64 * *y as f64;
                na += *x as f64 * *x as f64;
                nb += *y as f64 * *y as f64;
            }
            let c = if na > 0.0 && nb > 0.0 { d / (na.sqrt() * nb.sqrt()) } else { 0.0 };
            (c * 1e6).round() / 1e6
        };
        Ok(records
            .iter()
            .map(|(k, g)| {
                k.iter()
                    .map(|a| {
                        g.iter()
                            .map(|b| cos(&vecs[index[a.as_str()]], &vecs[index[b.as_str()]]))
                            .collect()
                    })
                    .collect()
            })
            .collect())
    }
}

/// Token alignment with contextual token vectors, BERTScore without idf (bert-score 0.3.13's
/// greedy matching): `rec[k][g]` = BERTScore recall of reference k against candidate g (mean
/// over k's non-special tokens of the best cosine to any token of g), `prec[k][g]` = its
/// precision. Each text is encoded on its own and memoized (results do not depend on batch
/// composition); values are rounded to 1e-6.
pub struct TokenAlignSimilarity {
    /// The model whose contextual token vectors are matched.
    pub embedder: Box<dyn crate::runtime::Embedder>,
    /// Token vectors of texts seen, by text.
    pub memo: crate::runtime::Memo<crate::runtime::TokenVectors>,
}

impl TokenAlignSimilarity {
    /// BERTScore-style greedy token matching.
    pub fn new(embedder: Box<dyn crate::runtime::Embedder>) -> Self {
        TokenAlignSimilarity {
            embedder,
            memo: crate::runtime::Memo::new(crate::runtime::MEMO_BUDGET),
        }
    }
}

/// `a · b` in f64 over 8 lanes (vectorized; the summation order is fixed, so is the value):
/// the cosine of two unit vectors in token alignment and BERTScore.
pub fn dot64(a: &[f32], b: &[f32]) -> f64 {
    let mut acc = [0f64; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 =
        ca.remainder().iter().zip(cb.remainder()).map(|(&x, &y)| x as f64 * y as f64).sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            acc[l] += x[l] as f64 * y[l] as f64;
        }
    }
    acc.iter().sum::<f64>() + tail
}

/// (recall of a in b, recall of b in a) by greedy best match of unit token vectors, BERTScore
/// style: every token can be a best match (best cosine floored at 0), only non-special tokens are
/// averaged. Rounded to 1e-6.
pub fn token_alignment(
    a: &crate::runtime::TokenVectors,
    b: &crate::runtime::TokenVectors,
) -> (f64, f64) {
    // Floored at 0 as in kpeval's BERTScore (what bert-score gets from its zero padding).
    let mut best_a = vec![0.0f64; a.vectors.len()];
    let mut best_b = vec![0.0f64; b.vectors.len()];
    for (i, x) in a.vectors.iter().enumerate() {
        for (j, y) in b.vectors.iter().enumerate() {
            let c = dot64(x, y);
            best_a[i] = best_a[i].max(c);
            best_b[j] = best_b[j].max(c);
        }
    }
    let mean = |best: &[f64], special: &[bool]| -> f64 {
        let (mut s, mut n) = (0.0, 0usize);
        for (v, sp) in best.iter().zip(special) {
            if !sp {
                s += v;
                n += 1;
            }
        }
        if n == 0 || !s.is_finite() {
            0.0
        } else {
            ((s / n as f64) * 1e6).round() / 1e6
        }
    };
    (mean(&best_a, &a.special), mean(&best_b, &b.special))
}

impl Similarity for TokenAlignSimilarity {
    fn name(&self) -> String {
        format!("token-align({})", self.embedder.name())
    }
    fn truncated_points(&self, records: &[(&[String], &[String])]) -> Result<Vec<usize>, String> {
        truncated_points(self.embedder.as_ref(), records)
    }
    fn matrices(&self, records: &[(&[String], &[String])]) -> Result<Vec<Vec<Vec<f64>>>, String> {
        // Symmetric view: the pairwise F1 of the two directions.
        Ok(self
            .directed_matrices(records)
            .unwrap()?
            .into_iter()
            .map(|(r, p)| {
                r.iter()
                    .zip(&p)
                    .map(|(a, b)| {
                        a.iter()
                            .zip(b)
                            .map(|(&x, &y)| if x + y > 0.0 { 2.0 * x * y / (x + y) } else { 0.0 })
                            .collect()
                    })
                    .collect()
            })
            .collect())
    }
    fn directed_matrices(
        &self,
        records: &[(&[String], &[String])],
    ) -> Option<Result<PairMatrices, String>> {
        let run = || -> Result<PairMatrices, String> {
            use rayon::prelude::*;
            // Every distinct text of the batch encoded once, each on its own (the runtime
            // spreads them over its threads); then the alignments, record by record in parallel.
            let texts = distinct_texts(records);
            let vecs = self.memo.get_many(&texts, |missing| {
                self.embedder.token_vectors(missing).map_err(|e| e.to_string())
            })?;
            let index: std::collections::HashMap<&str, usize> =
                texts.iter().enumerate().map(|(i, t)| (*t, i)).collect();
            Ok(records
                .par_iter()
                .map(|(k, g)| {
                    let kt: Vec<_> = k.iter().map(|t| &vecs[index[t.as_str()]]).collect();
                    let gt: Vec<_> = g.iter().map(|t| &vecs[index[t.as_str()]]).collect();
                    let mut rec = vec![vec![0.0; gt.len()]; kt.len()];
                    let mut prec = vec![vec![0.0; gt.len()]; kt.len()];
                    for (i, a) in kt.iter().enumerate() {
                        for (j, b) in gt.iter().enumerate() {
                            let (r, p) = token_alignment(a, b);
                            rec[i][j] = r;
                            prec[i][j] = p;
                        }
                    }
                    (rec, prec)
                })
                .collect())
        };
        Some(run())
    }
}

/// Typed metric settings (CLI flags and experiment files), with the reference implementations'
/// defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// `overlap`, `default`, `all` or a comma list of metric names.
    pub metrics: String,
    /// ROUGE variants (`rouge1`, `rouge2`, `rougeL`, `rougeLsum`).
    pub rouge_types: Vec<String>,
    /// Porter stemming in ROUGE (rouge-score `use_stemmer`).
    pub stemmer: bool,
    /// ROUGE-1 F at which `kp_rouge` counts a Key Development as covered.
    pub kp_rouge_threshold: f64,
    /// Sentence-embedding model: store name, hub id or folder.
    pub embedding_model: String,
    /// NLI model; NLI metrics need one.
    pub nli_model: Option<String>,
    /// Cosine at which `kp` counts a Key Development as covered.
    pub kp_threshold: f64,
    /// `cpu`, `cuda` or `cuda:N`.
    pub device: String,
    /// Write the coverage judge's features into each verdict (what its fitting script reads).
    pub kp_cover_features: bool,
    /// Never download model files (`--offline`); not part of any signature or experiment file.
    #[serde(skip)]
    pub offline: bool,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            metrics: "default".into(),
            rouge_types: vec![
                "rouge1".into(),
                "rouge2".into(),
                "rougeL".into(),
                "rougeLsum".into(),
            ],
            stemmer: true,
            kp_rouge_threshold: 0.3,
            embedding_model: "all-MiniLM-L6-v2".into(),
            nli_model: None,
            kp_threshold: 0.6,
            device: "cpu".into(),
            kp_cover_features: false,
            offline: false,
        }
    }
}

impl MetricsConfig {
    /// Whether any selected metric runs a model.
    pub fn needs_models(&self) -> bool {
        parse_metrics(&self.metrics).map(|m| m.iter().any(|k| k.needs_models())).unwrap_or(false)
    }
}

/// Builds the scorer; model metrics come from the backend, or are reported as not computed
/// (with the reason) when they cannot run.
pub fn build_scorer(
    cfg: &MetricsConfig,
    backend: Option<&dyn crate::backend::Backend>,
) -> crate::error::Result<(Scorer, Map<String, Value>)> {
    use crate::error::Error;
    let kinds = parse_metrics(&cfg.metrics).map_err(|e| Error::config(format!("metrics: {e}")))?;
    for (flag, t) in
        [("--kp-threshold", cfg.kp_threshold), ("--kp-rouge-threshold", cfg.kp_rouge_threshold)]
    {
        if !(t.is_finite() && (0.0..=1.0).contains(&t)) {
            return Err(Error::config(format!(
                "{flag} {t}: a threshold must be a number within [0, 1]"
            )));
        }
    }
    let mut types = Vec::new();
    for t in &cfg.rouge_types {
        types.push(
            t.parse::<crate::metrics::rouge::RougeType>()
                .map_err(|e| Error::config(format!("rouge types: {e}")))?,
        );
    }
    let mut metrics: Vec<Box<dyn Metric>> = Vec::new();
    let mut not_computed = Map::new();
    let model_cfg = crate::backend::ModelMetricConfig {
        embedding_model: cfg.embedding_model.clone(),
        nli_model: cfg.nli_model.clone(),
        kp_threshold: cfg.kp_threshold,
        device: cfg.device.clone(),
        offline: cfg.offline,
        kp_cover_features: cfg.kp_cover_features,
    };
    for k in kinds {
        match k {
            MetricKind::Rouge => metrics.push(Box::new(RougeMetric::new(RougeConfig {
                types: types.clone(),
                use_stemmer: cfg.stemmer,
                split_summaries: false,
            }))),
            MetricKind::Bleu => {
                metrics.push(Box::new(BleuMetric { cfg: bleu::BleuConfig::default() }))
            }
            MetricKind::Chrf => metrics
                .push(Box::new(ChrfMetric { cfg: chrf::ChrfConfig::default(), field: "chrf" })),
            MetricKind::ChrfPp => metrics
                .push(Box::new(ChrfMetric { cfg: chrf::ChrfConfig::chrf_pp(), field: "chrf++" })),
            MetricKind::TokenF1 => metrics.push(Box::new(TokenF1Metric)),
            MetricKind::KpRouge => metrics.push(Box::new(KpMetric {
                field: "kp_rouge",
                similarity: Box::new(Rouge1Similarity::default()),
                threshold: cfg.kp_rouge_threshold,
            })),
            k => match backend {
                Some(b) => match b.metric(k, &model_cfg)? {
                    Ok(m) => metrics.push(m),
                    Err(why) => {
                        not_computed.insert(k.name().to_string(), Value::String(why));
                    }
                },
                None => {
                    not_computed.insert(k.name().to_string(), Value::String("needs the model runtime (kpeval-torch), which is not installed next to kpeval".into()));
                }
            },
        }
    }
    Ok((Scorer { metrics }, not_computed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cover_and_nli_verdicts_are_averaged_per_key_development() {
        let scores: Map<String, Value> = serde_json::from_value(json!({
            "kp_cover": {"key_points": [{"score": 0.9, "covered": true, "evidence": [0]}, {"score": 0.1, "covered": false, "evidence": [1]}]},
            "kp_nli": {"key_points": [{"score": 0.7, "covered": true, "evidence": [0, 1]}, {"score": 0.2, "covered": false, "evidence": []}]},
        }))
        .unwrap();
        let v = combine_cover_nli(&scores).unwrap();
        let kps = v["key_points"].as_array().unwrap();
        assert_eq!(kps[0], json!({"score": 0.8, "covered": true, "evidence": [0, 1]}));
        assert_eq!(kps[1]["score"], 0.15);
        assert_eq!(kps[1]["covered"], false);
        assert_eq!(v["coverage"], 0.475);
        assert_eq!(v["coverage_at_t"], 0.5);
        // verdict lists of different lengths are not combined
        let mut bad = scores.clone();
        bad["kp_nli"]["key_points"].as_array_mut().unwrap().pop();
        assert!(combine_cover_nli(&bad).is_none());
    }
}
