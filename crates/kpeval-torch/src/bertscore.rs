//! BERTScore as bert-score 0.3.13 computes it: contextual token embeddings from one layer of a
//! BERT-family encoder (BERT / MiniLM, RoBERTa), greedy matching by cosine similarity,
//! optional idf weighting from the references, optional baseline rescaling.
//!
//! What follows bert-score exactly:
//! - tokens: `tokenizer.encode(text.strip(), add_special_tokens=True, truncation=True,
//!   max_length=model_max_length)` (RoBERTa with a prefix space); an empty text is \[CLS\]\[SEP\];
//! - the model is cut after `layer` layers and its output taken (layer 6 of the 6-layer
//!   all-MiniLM-L6-v2 is its last hidden state);
//! - weights: without idf 1 for every token but \[CLS\]/\[SEP\] (0); with idf, over the N
//!   references scored together, idf(t) = ln((N+1)/(n_t+1)) with n_t the references containing
//!   t (so \[CLS\]/\[SEP\] get 0), ln(N+1) for unseen tokens; weights are normalized per
//!   sentence;
//! - \[CLS\]/\[SEP\] take part in the max matching (they only have weight 0);
//! - P = Σ_i w_i max_j cos(h_i, r_j), R likewise over reference tokens, F = 2PR/(P+R) (NaN → 0);
//!   a candidate or reference with no tokens scores P = R = F = 0;
//! - rescaling: (x − b) / (1 − b) for P, R and F with b the row `layer` of the baseline file
//!   (bert-score's csv: `LAYER,P,R,F`).
//!
//! Differences: the max over tokens is floored at 0, which is what bert-score gets from the
//! zero-masked padding of its 64-pair batches (it differs from bert-score only for the longest
//! sentence of a batch, when all its similarities to a token are negative), and makes scores
//! independent of batching; a sentence whose idf weights all vanish gets P (or R) = null where
//! bert-score gives NaN. Scores are rounded to 1e-6. With idf, the references are those of the
//! batch the pipeline scores together (as bert-score uses the list it is given).
use crate::bert_family::{bert_eps_scale, check_absolute_positions, config_eps};
use crate::files::{parse_config, read_json, short_sha256};
use crate::hub::{tokenizer_flag, tokenizer_max_len, ModelFiles};
use crate::packed::{PackedBert, Positions};
use crate::weights::{load_weights, ScaleFn};
use kpeval::backend::TokenVectors;
use kpeval::error::{Error, Result};
use kpeval::scoring::{Metric, ScoreInput};
use rust_bert::bert::BertConfig;
use rust_tokenizers::tokenizer::{BertTokenizer, RobertaTokenizer, Tokenizer, TruncationStrategy};
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use tch::{nn, Device};

/// The default encoder (model store name) and its layer.
pub const DEFAULT_MODEL: &str = "all-MiniLM-L6-v2";
/// The default layer: [`DEFAULT_MODEL`]'s last (6th) layer.
pub const DEFAULT_LAYER: usize = 6;

#[allow(clippy::large_enum_variant)] // one tokenizer per loaded model
enum Tok {
    Bert(BertTokenizer),
    Roberta(RobertaTokenizer),
}

impl Tok {
    fn encode(&self, text: &str, max_len: usize) -> Vec<i64> {
        let s = &TruncationStrategy::LongestFirst;
        match self {
            Tok::Bert(t) => t.encode(text, None, max_len, s, 0).token_ids,
            Tok::Roberta(t) => t.encode(text, None, max_len, s, 0).token_ids,
        }
    }
}

/// A BERTScore scorer: texts encoded in packs without padding (see [`crate::packed`]) on
/// replicas of the network, one libtorch thread each, and each distinct text's unit token
/// vectors memoized (bounded by [`kpeval::runtime::MEMO_BUDGET`]); a text's vectors depend on
/// the text alone.
pub struct BertScorer {
    nets: crate::pool::Replicas<PackedBert>,
    memo: kpeval::runtime::Memo<TokenVectors>,
    tok: Tok,
    device: Device,
    /// The layer whose output is used (1-based: the model is cut after `layer` layers).
    pub layer: usize,
    /// Whether tokens are idf-weighted (idf from the references scored together).
    pub idf: bool,
    /// Baseline (P, R, F) for rescaling, and the file it came from.
    baseline: Option<([f64; 3], String)>,
    /// Longest text in tokens (special tokens included); longer texts are truncated.
    pub max_len: usize,
    cls_id: i64,
    sep_id: i64,
    model_name: String,
}

/// Reads row `layer` of a bert-score baseline file (csv with header `LAYER,P,R,F`).
pub fn read_baseline(path: &Path, layer: usize) -> Result<[f64; 3]> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<String> =
        lines.next().unwrap_or_default().split(',').map(|s| s.trim().to_uppercase()).collect();
    if header != ["LAYER", "P", "R", "F"] {
        return Err(Error::input(format!(
            "{}: not a bert-score baseline file (header {:?}, expected LAYER,P,R,F)",
            path.display(),
            header
        )));
    }
    let rows: Vec<Vec<f64>> = lines
        .enumerate()
        .map(|(i, l)| {
            l.split(',')
                .map(|x| {
                    x.trim().parse::<f64>().map_err(|_| {
                        Error::input(format!(
                            "{}: line {}: '{x}' is not a number",
                            path.display(),
                            i + 2
                        ))
                    })
                })
                .collect::<Result<Vec<f64>>>()
        })
        .collect::<Result<_>>()?;
    // bert-score takes `.iloc[num_layers]`: the row at that position (rows are layers 0, 1, …).
    let row = rows.get(layer).ok_or_else(|| {
        Error::input(format!("{}: no row for layer {layer} ({} rows)", path.display(), rows.len()))
    })?;
    if row.len() != 4 || row[0] as usize != layer {
        return Err(Error::input(format!(
            "{}: row {layer} is {:?}, expected layer {layer} and P,R,F",
            path.display(),
            row
        )));
    }
    Ok([row[1], row[2], row[3]])
}

impl BertScorer {
    /// Loads a BERT-family encoder folder (save_pretrained layout; model store names and hub ids
    /// also work) cut after `layer` layers.
    pub fn load(
        model: &str,
        layer: usize,
        idf: bool,
        baseline: Option<&Path>,
        device: Device,
    ) -> Result<BertScorer> {
        Self::load_with(model, layer, idf, baseline, device, false)
    }

    /// Like [`BertScorer::load`]; with `offline`, a hub model must already be in the cache.
    pub fn load_with(
        model: &str,
        layer: usize,
        idf: bool,
        baseline: Option<&Path>,
        device: Device,
        offline: bool,
    ) -> Result<BertScorer> {
        // one libtorch thread while loading (see SentenceEmbedder::load_with_workers)
        let _one = crate::pool::OneThread::enter();
        let mut files = ModelFiles::open_with(model, offline)?;
        let origin = files.origin().to_string();
        let raw = read_json(&files.config)?;
        let model_type = raw.get("model_type").and_then(|v| v.as_str()).unwrap_or("");
        if !matches!(model_type, "bert" | "roberta") {
            return Err(Error::model(format!("{origin}: BERTScore supports BERT-family encoders (model_type bert or roberta), not '{model_type}'")));
        }
        check_absolute_positions(&raw, &origin)?;
        let mut config: BertConfig = parse_config(&files.config)?;
        let n = config.num_hidden_layers as usize;
        if layer == 0 || layer > n {
            return Err(Error::config(format!(
                "BERTScore layer {layer}: {origin} has layers 1..={n}"
            )));
        }
        config.num_hidden_layers = layer as i64;
        config.hidden_dropout_prob = 0.0;
        config.attention_probs_dropout_prob = 0.0;
        config.output_hidden_states = Some(false);
        let weights = files.weights()?;
        let pad_id = raw
            .get("pad_token_id")
            .and_then(|v| v.as_i64())
            .unwrap_or(if model_type == "roberta" { 1 } else { 0 });
        let max_pos = config.max_position_embeddings.max(1) as usize;
        let mut vs = nn::VarStore::new(device);
        let scale = bert_eps_scale(config_eps(&raw));
        let scale_ref: Option<ScaleFn> = scale.as_ref().map(|f| f as ScaleFn);
        let lower = tokenizer_flag(&mut files, "do_lower_case");
        let (positions, tok, pos_limit) = if model_type == "bert" {
            crate::packed::declare_variables(&vs, &config, layer);
            load_weights(&vs, &weights, &["bert"], scale_ref)?;
            let vocab = files.need("vocab.txt")?;
            let lc = lower.unwrap_or(true);
            let strip = tokenizer_flag(&mut files, "strip_accents").unwrap_or(lc);
            let t = BertTokenizer::from_file(&vocab, lc, strip)
                .map_err(|e| Error::model(format!("{}: {e}", vocab.display())))?;
            (Positions::Bert, Tok::Bert(t), max_pos)
        } else {
            crate::packed::declare_variables(&vs, &config, layer);
            load_weights(&vs, &weights, &["roberta"], scale_ref)?;
            let vocab = files.need("vocab.json")?;
            let merges = files.need("merges.txt")?;
            // bert-score encodes with add_prefix_space=True for RoBERTa.
            let t = RobertaTokenizer::from_file(&vocab, &merges, lower.unwrap_or(false), true)
                .map_err(|e| Error::model(format!("{}: {e}", vocab.display())))?;
            let pos = Positions::Roberta(pad_id);
            (pos, Tok::Roberta(t), max_pos.saturating_sub(pad_id.max(0) as usize + 1))
        };
        vs.freeze();
        let first = PackedBert::new(&vs, "", &config, layer, positions)?;
        let nets =
            crate::pool::Replicas::new(crate::pool::workers(device), first, |f| Ok(f.replica()))?;
        let max_len = tokenizer_max_len(&mut files).map_or(pos_limit, |m| m.min(pos_limit));
        let specials = tok.encode("", max_len);
        if specials.len() != 2 {
            return Err(Error::model(format!(
                "{origin}: expected [CLS] text [SEP] encodings, got {specials:?} for an empty text"
            )));
        }
        let baseline = match baseline {
            Some(p) => Some((
                read_baseline(p, layer)?,
                p.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default(),
            )),
            None => None,
        };
        let model_name = format!("{}@{}", files.name, short_sha256(&weights)?);
        Ok(BertScorer {
            nets,
            memo: kpeval::runtime::Memo::new(kpeval::runtime::MEMO_BUDGET),
            tok,
            device,
            layer,
            idf,
            baseline,
            max_len,
            cls_id: specials[0],
            sep_id: specials[1],
            model_name,
        })
    }

    /// Token ids as bert-score's `sent_encode` gives them.
    pub fn encode(&self, text: &str) -> Vec<i64> {
        self.tok.encode(text.trim(), self.max_len)
    }

    /// Unit token vectors (from the chosen layer) of each text's tokens, special tokens
    /// included: memoized ones, the others computed in packs spread over the replicas.
    fn unit_vectors(&self, texts: &[&str]) -> Result<Vec<std::sync::Arc<TokenVectors>>> {
        self.memo
            .get_many(texts, |missing| {
                let ids: Vec<Vec<i64>> = missing.iter().map(|t| self.encode(t)).collect();
                let lens: Vec<usize> = ids.iter().map(|i| i.len()).collect();
                let ranges = crate::packed::packs(&lens, self.nets.len());
                let rows = self
                    .nets
                    .map(&ranges, |net, r| {
                        let refs: Vec<&[i64]> = ids[r.clone()].iter().map(|i| &i[..]).collect();
                        net.forward(&refs)
                    })
                    .map_err(|e| e.to_string())?;
                Ok(rows
                    .into_iter()
                    .flatten()
                    .zip(&lens)
                    .map(|(h, &n)| TokenVectors {
                        vectors: h
                            .len()
                            .checked_div(n)
                            .map_or(Vec::new(), |dim| crate::packed::unit_rows(&h, dim)),
                        special: Vec::new(),
                    })
                    .collect())
            })
            .map_err(Error::model)
    }

    /// (P, R, F) of each candidate against its reference, in order; idf (when on) from `refs`.
    pub fn score_pairs(&self, cands: &[String], refs: &[String]) -> Result<Vec<[f64; 3]>> {
        if cands.len() != refs.len() {
            return Err(Error::input(format!(
                "BERTScore: {} candidates but {} references",
                cands.len(),
                refs.len()
            )));
        }
        let c_ids: Vec<Vec<i64>> = cands.iter().map(|s| self.encode(s)).collect();
        let r_ids: Vec<Vec<i64>> = refs.iter().map(|s| self.encode(s)).collect();
        let idf: HashMap<i64, f64> = if self.idf {
            let mut count: HashMap<i64, usize> = HashMap::new();
            for r in &r_ids {
                for t in r.iter().collect::<HashSet<_>>() {
                    *count.entry(*t).or_default() += 1;
                }
            }
            let n = refs.len() as f64;
            count.into_iter().map(|(t, c)| (t, ((n + 1.0) / (c as f64 + 1.0)).ln())).collect()
        } else {
            HashMap::new()
        };
        let unseen = if self.idf { (refs.len() as f64 + 1.0).ln() } else { 1.0 };
        let weight = |t: i64| -> f64 {
            if self.idf {
                *idf.get(&t).unwrap_or(&unseen)
            } else if t == self.cls_id || t == self.sep_id {
                0.0
            } else {
                1.0
            }
        };
        // Each distinct text encoded once (and memoized across batches).
        let texts: Vec<&str> = cands.iter().chain(refs).map(|s| s.trim()).collect();
        let vecs = self.unit_vectors(&texts)?;
        let (c_vecs, r_vecs) = vecs.split_at(cands.len());
        let round6 = |x: f64| (x * 1e6).round() / 1e6;
        let rows: Vec<usize> = (0..cands.len()).collect();
        use rayon::prelude::*;
        Ok(rows
            .par_iter()
            .map(|&i| {
                let (c, r) = (&c_ids[i], &r_ids[i]);
                let prf = if c.len() <= 2 || r.len() <= 2 {
                    [0.0, 0.0, 0.0]
                } else {
                    let (h, g) = (&c_vecs[i].vectors, &r_vecs[i].vectors);
                    let sim: Vec<Vec<f64>> = h
                        .iter()
                        .map(|a| g.iter().map(|b| kpeval::scoring::dot64(a, b)).collect())
                        .collect();
                    let best_p: Vec<f64> =
                        sim.iter().map(|row| row.iter().cloned().fold(0.0, f64::max)).collect();
                    let best_r: Vec<f64> = (0..g.len())
                        .map(|j| sim.iter().map(|row| row[j]).fold(0.0, f64::max))
                        .collect();
                    let wavg = |ids: &Vec<i64>, best: &[f64]| -> f64 {
                        let w: Vec<f64> = ids.iter().map(|&t| weight(t)).collect();
                        let total: f64 = w.iter().sum();
                        w.iter().zip(best).map(|(a, b)| a / total * b).sum()
                    };
                    let p = wavg(c, &best_p);
                    let r = wavg(r, &best_r);
                    let f = 2.0 * p * r / (p + r);
                    [p, r, if f.is_nan() { 0.0 } else { f }]
                };
                let prf = match &self.baseline {
                    Some((b, _)) => [0, 1, 2].map(|k| (prf[k] - b[k]) / (1.0 - b[k])),
                    None => prf,
                };
                prf.map(|x| if x.is_nan() { x } else { round6(x) })
            })
            .collect())
    }

    /// Settings for the results signature.
    pub fn signature(&self) -> String {
        format!(
            "bertscore:model={},layer={},idf={},rescale={},impl=bert-score-0.3.13,runtime={}",
            self.model_name,
            self.layer,
            if self.idf { "batch-references" } else { "no" },
            self.baseline.as_ref().map_or("no".to_string(), |(_, f)| f.clone()),
            crate::packed::runtime_tag(self.device, self.nets.first().packs())
        )
    }
}

/// BERTScore of the summary text against the key points joined with " ":
/// `{"bertscore": {"precision", "recall", "f1"}}`.
pub struct BertScoreMetric {
    /// The loaded encoder and its settings.
    pub scorer: BertScorer,
}

impl Metric for BertScoreMetric {
    fn name(&self) -> &'static str {
        "bertscore"
    }
    fn signature(&self) -> String {
        self.scorer.signature()
    }
    fn score(&self, input: &ScoreInput) -> std::result::Result<Vec<(String, Value)>, String> {
        self.score_batch(std::slice::from_ref(input))
            .pop()
            .unwrap_or_else(|| Err("no result".into()))
    }
    fn score_batch(
        &self,
        inputs: &[ScoreInput],
    ) -> Vec<std::result::Result<Vec<(String, Value)>, String>> {
        let cands: Vec<String> = inputs.iter().map(|i| i.summary.to_string()).collect();
        let refs: Vec<String> = inputs.iter().map(|i| i.references.join(" ")).collect();
        match self.scorer.score_pairs(&cands, &refs) {
            Ok(rows) => rows
                .into_iter()
                .map(|[p, r, f]| {
                    Ok(vec![(
                        "bertscore".to_string(),
                        json!({"precision": p, "recall": r, "f1": f}),
                    )])
                })
                .collect(),
            Err(e) => inputs.iter().map(|_| Err(e.to_string())).collect(),
        }
    }
}

/// The BERTScore metric on an encoder folder (default: the model store's all-MiniLM-L6-v2,
/// layer 6).
pub fn bertscore_metric(
    model_dir: &Path,
    layer: usize,
    idf: bool,
    baseline: Option<&Path>,
    device: Device,
) -> Result<Box<dyn Metric>> {
    let dir = model_dir
        .to_str()
        .ok_or_else(|| Error::config(format!("{}: not a UTF-8 path", model_dir.display())))?;
    Ok(Box::new(BertScoreMetric { scorer: BertScorer::load(dir, layer, idf, baseline, device)? }))
}
