//! Natural language inference with sequence classifiers that have an MNLI-style 3-way head
//! (RoBERTa, DeBERTa v1, DeBERTa v2/v3, BART, BERT / MiniLM cross-encoders), and the two metrics
//! built on it: SummaC-ZS style faithfulness of the key points to the article, and key-point
//! alignment on entailment (`kp_nli`).
//!
//! A model is a local folder written by transformers `save_pretrained` (config.json, tokenizer
//! files, model.safetensors) or a hub id fetched through rust-bert's remote resources. For
//! BERT, RoBERTa and BART the safetensors variables are matched to rust-bert's
//! `*ForSequenceClassification` variable store in memory at load time (prefix, `gamma`/`beta`
//! and tied-embedding aliases); every variable of the store must be found with the right shape,
//! otherwise loading fails and names what is missing. DeBERTa v1 and v2/v3 run on a forward pass
//! written here on tch (module `deberta`) from the checkpoint's own names, because rust-bert
//! 0.23's DeBERTa models do not compute what transformers computes (details there).
//!
//! The label order is always read from config.json `id2label`: the labels whose names contain
//! (case-insensitively) "entail", "neutral" and "contra", exactly one each, or loading fails.
//!
//! Departures from transformers 4.46 that are handled at load time rather than accepted:
//! - rust-bert's BERT/RoBERTa layers hard-code LayerNorm eps = 1e-12, while RoBERTa checkpoints
//!   use 1e-5 (`layer_norm_eps`). LayerNorm is scale-invariant except for eps
//!   (LN(c·x; c²·ε) = LN(x; ε)), so the weights are reparameterized exactly: every hidden state
//!   is carried scaled by c = sqrt(1e-12 / layer_norm_eps) (embeddings, value/output biases and
//!   LayerNorm affine scaled by c; query/key/intermediate/head input weights divided by c). The
//!   computed function is the same; only float rounding differs.
//! - RoBERTa position ids are computed here from `pad_token_id` (rust-bert assumes 1), and BART's
//!   decoder inputs are shifted right with `decoder_start_token_id` as transformers does
//!   (rust-bert's default wraps the last token around, which agrees only when it is EOS).
//!
//! Pairs longer than the model's max length are truncated longest-first (as transformers'
//! `truncation=True`); [`NliProbs::truncated`] says how many tokens were cut, never silently.
//! Faithfulness chunks the article into sentence groups that fit, so it truncates only when a
//! single sentence (or a key point) is itself too long, and reports the count.
use kpeval::error::{Error, Result};
use kpeval::keypoints::split_sentences;
use kpeval::models::{resolve, ModelSource};
use kpeval::scoring::{Metric, ScoreInput, Similarity};
use rust_bert::bart::{BartConfig, BartForSequenceClassification};
use rust_bert::bert::{BertConfig, BertForSequenceClassification};

use rust_bert::roberta::RobertaForSequenceClassification;
use rust_tokenizers::tokenizer::{
    BertTokenizer, DeBERTaTokenizer, DeBERTaV2Tokenizer, RobertaTokenizer, Tokenizer,
    TruncationStrategy,
};
use rust_tokenizers::TokenizedInput;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tch::{nn, Device, Kind, Tensor};

// ---------------------------------------------------------------------------------------------
// Model files (shared with bertscore.rs)

/// The files of a transformers model: a local folder or a hub id's files in rust-bert's cache.
pub(crate) struct ModelFiles {
    /// Short name for signatures: the folder name or the hub id.
    pub name: String,
    pub config: PathBuf,
    files: BTreeMap<&'static str, PathBuf>,
    /// Where the files came from, for messages.
    origin: String,
}

impl ModelFiles {
    /// Resolves a store name, folder or hub id and fetches config.json. Other files come from
    /// [`ModelFiles::fetch`].
    pub fn open(name_or_dir: &str) -> Result<ModelFiles> {
        match resolve(name_or_dir)? {
            ModelSource::Local(dir) => {
                let config = dir.join("config.json");
                if !config.is_file() {
                    return Err(Error::model(format!(
                        "{}: missing config.json (expected a transformers save_pretrained folder)",
                        dir.display()
                    )));
                }
                let name = dir
                    .canonicalize()
                    .unwrap_or(dir.clone())
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_else(|| name_or_dir.to_string());
                let mut files = BTreeMap::new();
                for f in KNOWN_FILES {
                    let p = dir.join(f);
                    if p.is_file() {
                        files.insert(*f, p);
                    }
                }
                Ok(ModelFiles { name, config, files, origin: dir.display().to_string() })
            }
            ModelSource::Hub(id) => {
                let config = hub_file(&id, "config.json")
                    .map_err(|e| Error::model(format!("hub model '{id}': config.json: {e}")))?;
                Ok(ModelFiles {
                    name: id.clone(),
                    config,
                    files: BTreeMap::new(),
                    origin: format!("hub:{id}"),
                })
            }
        }
    }

    fn hub_id(&self) -> Option<&str> {
        self.origin.strip_prefix("hub:")
    }

    /// The path of one of the model's files, fetching it from the hub when needed; None when
    /// the model has no such file.
    pub fn fetch(&mut self, file: &'static str) -> Option<PathBuf> {
        if let Some(p) = self.files.get(file) {
            return Some(p.clone());
        }
        let id = self.hub_id()?.to_string();
        let p = hub_file(&id, file).ok()?;
        self.files.insert(file, p.clone());
        Some(p)
    }

    /// Like [`ModelFiles::fetch`], but the file is required.
    pub fn need(&mut self, file: &'static str) -> Result<PathBuf> {
        self.fetch(file).ok_or_else(|| Error::model(format!("{}: missing {file}", self.origin)))
    }

    /// The weights: model.safetensors or pytorch_model.bin (transformers) or rust_model.ot
    /// (rust-bert's own format).
    pub fn weights(&mut self) -> Result<PathBuf> {
        for f in ["model.safetensors", "pytorch_model.bin", "rust_model.ot"] {
            if let Some(p) = self.fetch(f) {
                return Ok(p);
            }
        }
        Err(Error::model(format!(
            "{}: no weights (model.safetensors, pytorch_model.bin or rust_model.ot)",
            self.origin
        )))
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }
}

const KNOWN_FILES: &[&str] = &[
    "config.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.json",
    "merges.txt",
    "vocab.txt",
    "spm.model",
    "model.safetensors",
    "rust_model.ot",
    "pytorch_model.bin",
];

/// A hub file through rust-bert's cache (`RUSTBERT_CACHE`, default ~/.cache/.rustbert).
fn hub_file(id: &str, file: &str) -> std::result::Result<PathBuf, String> {
    crate::seq2seq::hub_fetch(id, "main", file, crate::seq2seq::offline_from_env())
}

pub(crate) fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text)
        .map_err(|e| Error::Json { context: path.display().to_string(), source: e })
}

pub(crate) fn parse_config<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| {
        Error::model(format!("{}: not a config rust-bert can read: {e}", path.display()))
    })
}

/// First 12 hex digits of the file's sha256 (the model revision in signatures).
pub(crate) fn short_sha256(path: &Path) -> Result<String> {
    crate::revision::weights_revision(&[path.to_path_buf()])
}

/// `model_max_length` of tokenizer_config.json when it is a real limit (transformers writes
/// 1e30 for "none").
pub(crate) fn tokenizer_max_len(files: &mut ModelFiles) -> Option<usize> {
    let tc = read_json(&files.fetch("tokenizer_config.json")?).ok()?;
    let m = tc.get("model_max_length")?.as_f64()?;
    (m >= 1.0 && m < 1e7).then_some(m as usize)
}

pub(crate) fn tokenizer_flag(files: &mut ModelFiles, key: &str) -> Option<bool> {
    let tc = read_json(&files.fetch("tokenizer_config.json")?).ok()?;
    tc.get(key)?.as_bool()
}

// ---------------------------------------------------------------------------------------------
// Weights (shared with bertscore.rs)

/// How a rust-bert variable's value is scaled at load (see [`bert_eps_scale`]).
pub(crate) type ScaleFn<'a> = &'a dyn Fn(&str) -> f64;

/// Reads safetensors weights (or rust-bert's .ot) into a variable store built by rust-bert.
/// Each store variable is looked up under its own name, then under the aliases transformers
/// checkpoints use (`{prefix}.` added or removed, LayerNorm `gamma`/`beta`, BART's tied
/// `model.shared` embeddings); shapes must agree. `scale` multiplies values by name.
pub(crate) fn load_weights(
    vs: &nn::VarStore,
    path: &Path,
    prefixes: &[&str],
    scale: Option<ScaleFn>,
) -> Result<()> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    // Declared first so that it outlives every view of it below.
    let mut _mapping = None;
    let named: Vec<(String, Tensor)> = if ext == "safetensors" || ext == "bin" {
        let (m, tensors) = crate::weights::map_weights_file(path)?;
        _mapping = Some(m);
        tensors
    } else {
        Tensor::load_multi(path).map_err(|e| Error::model(format!("{}: {e}", path.display())))?
    };
    let mut file: HashMap<String, Tensor> = HashMap::with_capacity(named.len());
    for (k, t) in named {
        let k = if let Some(s) = k.strip_suffix(".gamma") {
            format!("{s}.weight")
        } else if let Some(s) = k.strip_suffix(".beta") {
            format!("{s}.bias")
        } else {
            k
        };
        file.insert(k, t);
    }
    let lookup = |name: &str| -> Option<&Tensor> {
        if let Some(t) = file.get(name) {
            return Some(t);
        }
        for p in prefixes {
            if let Some(rest) = name.strip_prefix(&format!("{p}.")) {
                if let Some(t) = file.get(rest) {
                    return Some(t);
                }
            }
            if let Some(t) = file.get(&format!("{p}.{name}")) {
                return Some(t);
            }
        }
        for (a, b) in [
            ("model.encoder.embed_tokens.weight", "model.shared.weight"),
            ("model.decoder.embed_tokens.weight", "model.shared.weight"),
            ("model.shared.weight", "model.encoder.embed_tokens.weight"),
        ] {
            if name == a {
                if let Some(t) = file.get(b) {
                    return Some(t);
                }
            }
        }
        None
    };
    let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    let mut missing = Vec::new();
    let _guard = tch::no_grad_guard();
    for (name, mut var) in vars {
        let Some(src) = lookup(&name) else {
            missing.push(name);
            continue;
        };
        if src.size() != var.size() {
            return Err(Error::model(format!(
                "{}: {name} has shape {:?}, the model config expects {:?}",
                path.display(),
                src.size(),
                var.size()
            )));
        }
        let mut src = src.to_kind(var.kind()).to_device(var.device());
        if let Some(f) = scale {
            let c = f(&name);
            if c != 1.0 {
                src = src * c;
            }
        }
        var.f_copy_(&src).map_err(|e| Error::model(format!("{name}: {e}")))?;
    }
    if !missing.is_empty() {
        let mut unused: Vec<&String> = file.keys().collect();
        unused.sort();
        let show = |v: Vec<String>| {
            if v.len() > 8 {
                format!("{} … ({} in all)", v[..8].join(", "), v.len())
            } else {
                v.join(", ")
            }
        };
        return Err(Error::model(format!(
            "{}: weights not found for {} (file has e.g. {})",
            path.display(),
            show(missing),
            show(unused.into_iter().take(8).cloned().collect())
        )));
    }
    Ok(())
}

/// The reparameterization that makes rust-bert's BERT/RoBERTa layers (LayerNorm eps fixed at
/// 1e-12) compute what transformers computes with `layer_norm_eps`: all hidden states carried
/// scaled by c = sqrt(1e-12 / eps). Returns None when eps is 1e-12 already.
pub(crate) fn bert_eps_scale(layer_norm_eps: f64) -> Option<impl Fn(&str) -> f64> {
    if (layer_norm_eps - 1e-12).abs() <= 1e-18 {
        return None;
    }
    let c = (1e-12 / layer_norm_eps).sqrt();
    Some(move |name: &str| -> f64 {
        let ends = |s: &str| name.ends_with(s);
        if ends("embeddings.word_embeddings.weight")
            || ends("embeddings.position_embeddings.weight")
            || ends("embeddings.token_type_embeddings.weight")
        {
            c
        } else if name.contains("LayerNorm.") {
            c
        } else if ends("attention.self.query.weight") || ends("attention.self.key.weight") {
            1.0 / c
        } else if ends("attention.self.value.bias") || ends("attention.output.dense.bias") {
            c
        } else if ends("attention.output.dense.weight") {
            1.0
        } else if ends("intermediate.dense.weight") {
            1.0 / c
        } else if name.contains(".layer.")
            && (ends("output.dense.weight") || ends("output.dense.bias"))
        {
            c
        } else if ends("pooler.dense.weight") || name == "classifier.dense.weight" {
            // Heads that read a hidden state: BERT's pooler, RoBERTa's classification head.
            1.0 / c
        } else {
            1.0
        }
    })
}

/// Layer-norm eps of a BERT-style config.json (transformers' default 1e-12).
pub(crate) fn config_eps(raw: &Value) -> f64 {
    raw.get("layer_norm_eps").and_then(|v| v.as_f64()).unwrap_or(1e-12)
}

/// rust-bert's BERT implements absolute positions only.
pub(crate) fn check_absolute_positions(raw: &Value, origin: &str) -> Result<()> {
    match raw.get("position_embedding_type").and_then(|v| v.as_str()) {
        None | Some("absolute") => Ok(()),
        Some(other) => Err(Error::model(format!("{origin}: position_embedding_type '{other}' is not supported by rust-bert (absolute only)"))),
    }
}

/// RoBERTa position ids as transformers computes them: pad positions get `pad`, others count
/// from `pad + 1`.
pub(crate) fn roberta_positions(ids: &[i64], pad: i64) -> Vec<i64> {
    let mut n = 0;
    ids.iter()
        .map(|&t| {
            if t == pad {
                pad
            } else {
                n += 1;
                n + pad
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The NLI model

/// Class probabilities for one (premise, hypothesis) pair.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NliProbs {
    pub entailment: f64,
    pub neutral: f64,
    pub contradiction: f64,
    /// Tokens cut (longest-first) to fit the model's max length; 0 when the pair fit.
    pub truncated: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NliArch {
    Bert,
    Roberta,
    Bart,
    Deberta,
    DebertaV2,
}

enum Classifier {
    Bert(BertForSequenceClassification),
    Roberta(RobertaForSequenceClassification),
    Bart(BartForSequenceClassification),
    /// DeBERTa v1 and v2/v3 (native, see [`deberta`]).
    Deberta(deberta::Deberta),
}

enum NliTokenizer {
    Bert(BertTokenizer),
    Roberta(RobertaTokenizer),
    Deberta(DeBERTaTokenizer),
    DebertaV2(DeBERTaV2Tokenizer),
}

impl NliTokenizer {
    fn encode_pairs(&self, pairs: &[(&str, &str)], max_len: usize) -> Vec<TokenizedInput> {
        let s = &TruncationStrategy::LongestFirst;
        match self {
            NliTokenizer::Bert(t) => t.encode_pair_list(pairs, max_len, s, 0),
            NliTokenizer::Roberta(t) => t.encode_pair_list(pairs, max_len, s, 0),
            NliTokenizer::Deberta(t) => t.encode_pair_list(pairs, max_len, s, 0),
            NliTokenizer::DebertaV2(t) => t.encode_pair_list(pairs, max_len, s, 0),
        }
    }
    fn count(&self, text: &str) -> usize {
        match self {
            NliTokenizer::Bert(t) => t.tokenize(text).len(),
            NliTokenizer::Roberta(t) => t.tokenize(text).len(),
            NliTokenizer::Deberta(t) => t.tokenize(text).len(),
            NliTokenizer::DebertaV2(t) => t.tokenize(text).len(),
        }
    }
}

/// Tensors and modules are Send but not Sync: the network is used behind a lock.
struct Net {
    model: Classifier,
    _vs: nn::VarStore,
}

/// An NLI classifier. Send + Sync (the network is behind a mutex; one forward pass at a time,
/// libtorch parallelizes inside it).
pub struct NliModel {
    net: Mutex<Net>,
    tokenizer: NliTokenizer,
    pub arch: NliArch,
    device: Device,
    /// Index of entailment, neutral, contradiction in the model's logits (from id2label).
    order: [usize; 3],
    num_labels: usize,
    /// Longest pair (special tokens included) the model takes.
    pub max_len: usize,
    /// Special tokens of a pair encoding.
    pub pair_specials: usize,
    pad_id: i64,
    eos_id: i64,
    decoder_start_id: i64,
    /// Pairs per forward pass.
    pub batch_size: usize,
    short_name: String,
    revision: String,
}

/// Finds entailment / neutral / contradiction in config.json `id2label`.
pub fn label_order(raw: &Value) -> std::result::Result<([usize; 3], usize), String> {
    let map = raw
        .get("id2label")
        .and_then(|v| v.as_object())
        .ok_or("config.json has no id2label: the label order is unknown")?;
    let mut labels: Vec<(usize, String)> = Vec::new();
    for (k, v) in map {
        let i: usize =
            k.trim().parse().map_err(|_| format!("id2label key '{k}' is not an index"))?;
        labels.push((i, v.as_str().unwrap_or_default().to_string()));
    }
    labels.sort();
    let shown = labels.iter().map(|(i, l)| format!("{i}: {l}")).collect::<Vec<_>>().join(", ");
    let mut order = [usize::MAX; 3];
    for (slot, key) in ["entail", "neutral", "contra"].iter().enumerate() {
        let hits: Vec<usize> = labels
            .iter()
            .filter(|(_, l)| l.to_lowercase().contains(key))
            .map(|(i, _)| *i)
            .collect();
        match hits.as_slice() {
            [i] => order[slot] = *i,
            [] => return Err(format!("id2label {{{shown}}} has no label containing '{key}': not a 3-way NLI head, or unnamed labels (label order unknown)")),
            _ => return Err(format!("id2label {{{shown}}} has several labels containing '{key}'")),
        }
    }
    let n = labels.iter().map(|(i, _)| i + 1).max().unwrap_or(0);
    if labels.len() != n {
        return Err(format!("id2label {{{shown}}} is not 0..{n}"));
    }
    Ok((order, n))
}

fn tok_err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::model(format!("{}: {e}", path.display()))
}

impl NliModel {
    /// Loads a local save_pretrained folder, a model-store name or a hub id.
    pub fn load(name_or_dir: &str, device: Device) -> Result<NliModel> {
        let mut files = ModelFiles::open(name_or_dir)?;
        let raw = read_json(&files.config)?;
        let origin = files.origin().to_string();
        let (order, num_labels) =
            label_order(&raw).map_err(|e| Error::model(format!("{origin}: {e}")))?;
        let model_type = raw.get("model_type").and_then(|v| v.as_str()).unwrap_or("").to_string();
        let arch = match model_type.as_str() {
            "bert" => NliArch::Bert,
            "roberta" => NliArch::Roberta,
            "bart" => NliArch::Bart,
            "deberta" => NliArch::Deberta,
            "deberta-v2" => NliArch::DebertaV2,
            other => {
                return Err(Error::model(format!(
                    "{origin}: model_type '{other}' is not supported for NLI (bert, roberta, bart, deberta, deberta-v2)"
                )))
            }
        };
        let get_i64 = |k: &str| raw.get(k).and_then(|v| v.as_i64());
        let max_pos = get_i64("max_position_embeddings").unwrap_or(512).max(1) as usize;
        let pad_id = get_i64("pad_token_id").unwrap_or(match arch {
            NliArch::Roberta | NliArch::Bart => 1,
            _ => 0,
        });
        let eos_id = get_i64("eos_token_id").unwrap_or(2);
        let decoder_start_id = get_i64("decoder_start_token_id").unwrap_or(eos_id);
        let weights = files.weights()?;
        let lower = tokenizer_flag(&mut files, "do_lower_case");
        let prefix_space = tokenizer_flag(&mut files, "add_prefix_space").unwrap_or(false);
        let tok_max = tokenizer_max_len(&mut files);

        let mut vs = nn::VarStore::new(device);
        let root = vs.root();
        let cfg_path = files.config.clone();
        let berr = |e: rust_bert::RustBertError| Error::model(format!("{origin}: {e}"));
        let (model, tokenizer, pos_limit) = match arch {
            NliArch::Bert | NliArch::Roberta => {
                check_absolute_positions(&raw, &origin)?;
                let mut config: BertConfig = parse_config(&cfg_path)?;
                config.hidden_dropout_prob = 0.0;
                config.attention_probs_dropout_prob = 0.0;
                let eps = config_eps(&raw);
                let scale = bert_eps_scale(eps);
                let scale_ref: Option<ScaleFn> = scale.as_ref().map(|f| f as ScaleFn);
                if arch == NliArch::Bert {
                    let m = BertForSequenceClassification::new(&root, &config).map_err(berr)?;
                    load_weights(&vs, &weights, &["bert"], scale_ref)?;
                    let vocab = files.need("vocab.txt")?;
                    let lc = lower.unwrap_or(true);
                    let strip = tokenizer_flag(&mut files, "strip_accents").unwrap_or(lc);
                    let t = BertTokenizer::from_file(&vocab, lc, strip)
                        .map_err(|e| tok_err(&vocab, e))?;
                    (Classifier::Bert(m), NliTokenizer::Bert(t), max_pos)
                } else {
                    let m = RobertaForSequenceClassification::new(&root, &config).map_err(berr)?;
                    load_weights(&vs, &weights, &["roberta"], scale_ref)?;
                    let vocab = files.need("vocab.json")?;
                    let merges = files.need("merges.txt")?;
                    let t = RobertaTokenizer::from_file(
                        &vocab,
                        &merges,
                        lower.unwrap_or(false),
                        prefix_space,
                    )
                    .map_err(|e| tok_err(&vocab, e))?;
                    (
                        Classifier::Roberta(m),
                        NliTokenizer::Roberta(t),
                        max_pos.saturating_sub(pad_id.max(0) as usize + 1),
                    )
                }
            }
            NliArch::Bart => {
                let config: BartConfig = parse_config(&cfg_path)?;
                let m = BartForSequenceClassification::new(&root, &config).map_err(berr)?;
                load_weights(&vs, &weights, &["model"], None)?;
                let vocab = files.need("vocab.json")?;
                let merges = files.need("merges.txt")?;
                let t = RobertaTokenizer::from_file(
                    &vocab,
                    &merges,
                    lower.unwrap_or(false),
                    prefix_space,
                )
                .map_err(|e| tok_err(&vocab, e))?;
                (Classifier::Bart(m), NliTokenizer::Roberta(t), max_pos)
            }
            NliArch::Deberta | NliArch::DebertaV2 => {
                let m = deberta::Deberta::load(
                    &raw,
                    &weights,
                    device,
                    arch == NliArch::DebertaV2,
                    num_labels,
                )?;
                let t = if arch == NliArch::DebertaV2 {
                    let spm = files.need("spm.model")?;
                    NliTokenizer::DebertaV2(
                        DeBERTaV2Tokenizer::from_file(&spm, lower.unwrap_or(false), false, false)
                            .map_err(|e| tok_err(&spm, e))?,
                    )
                } else {
                    let vocab = files.need("vocab.json")?;
                    let merges = files.need("merges.txt")?;
                    NliTokenizer::Deberta(
                        DeBERTaTokenizer::from_file(&vocab, &merges, lower.unwrap_or(false))
                            .map_err(|e| tok_err(&vocab, e))?,
                    )
                };
                (Classifier::Deberta(m), t, max_pos)
            }
        };
        vs.freeze();
        let max_len = tok_max.map_or(pos_limit, |m| m.min(pos_limit));
        let pair_specials = tokenizer.encode_pairs(&[("", "")], usize::MAX / 2)[0].token_ids.len();
        let revision = short_sha256(&weights)?;
        Ok(NliModel {
            net: Mutex::new(Net { model, _vs: vs }),
            tokenizer,
            arch,
            device,
            order,
            num_labels,
            max_len,
            pair_specials,
            pad_id,
            eos_id,
            decoder_start_id,
            batch_size: 32,
            short_name: files.name.clone(),
            revision,
        })
    }

    /// Name and revision for signatures: `name@sha256[..12]` of the weights file.
    pub fn name(&self) -> String {
        format!("{}@{}({})", self.short_name, self.revision, crate::runtime_tag(self.device))
    }

    /// Tokens of a text without special tokens.
    pub fn count_tokens(&self, text: &str) -> usize {
        self.tokenizer.count(text)
    }

    /// Token ids of the pairs as the model sees them (special tokens included, truncated to
    /// `max_len`), with the number of tokens cut.
    pub fn encode(&self, pairs: &[(String, String)]) -> Vec<(Vec<i64>, usize)> {
        let refs: Vec<(&str, &str)> = pairs.iter().map(|(p, h)| (p.as_str(), h.as_str())).collect();
        self.tokenizer
            .encode_pairs(&refs, self.max_len)
            .into_iter()
            .map(|e| (e.token_ids, e.num_truncated_tokens))
            .collect()
    }

    /// Softmax probabilities for each (premise, hypothesis) pair, in order. Pairs are batched
    /// by length (deterministic order); results do not depend on the order of `pairs`
    /// beyond float rounding of padded batches (≈1e-7).
    pub fn predict(&self, pairs: &[(String, String)]) -> Result<Vec<NliProbs>> {
        let refs: Vec<(&str, &str)> = pairs.iter().map(|(p, h)| (p.as_str(), h.as_str())).collect();
        let enc = self.tokenizer.encode_pairs(&refs, self.max_len);
        let mut order: Vec<usize> = (0..pairs.len()).collect();
        order.sort_by_key(|&i| enc[i].token_ids.len());
        let mut out: Vec<Option<NliProbs>> = vec![None; pairs.len()];
        let net = self.net.lock().map_err(|_| Error::model("NLI model lock poisoned"))?;
        let _guard = tch::no_grad_guard();
        for chunk in order.chunks(self.batch_size.max(1)) {
            let rows: Vec<&TokenizedInput> = chunk.iter().map(|&i| &enc[i]).collect();
            let probs = self.forward(&net.model, &rows)?;
            for (r, &i) in chunk.iter().enumerate() {
                let p = &probs[r * self.num_labels..(r + 1) * self.num_labels];
                out[i] = Some(NliProbs {
                    entailment: p[self.order[0]] as f64,
                    neutral: p[self.order[1]] as f64,
                    contradiction: p[self.order[2]] as f64,
                    truncated: enc[i].num_truncated_tokens,
                });
            }
        }
        Ok(out.into_iter().map(|p| p.expect("every pair is scored")).collect())
    }

    /// One padded batch → softmax probabilities, row-major (batch × num_labels).
    fn forward(&self, model: &Classifier, rows: &[&TokenizedInput]) -> Result<Vec<f32>> {
        let b = rows.len();
        let len = rows.iter().map(|r| r.token_ids.len()).max().unwrap_or(1).max(1);
        let mut ids = vec![self.pad_id; b * len];
        let mut mask = vec![0i64; b * len];
        let mut types = vec![0i64; b * len];
        for (r, row) in rows.iter().enumerate() {
            for (c, &t) in row.token_ids.iter().enumerate() {
                ids[r * len + c] = t;
                mask[r * len + c] = 1;
                types[r * len + c] = row.segment_ids.get(c).copied().unwrap_or(0) as i64;
            }
        }
        let shape = [b as i64, len as i64];
        let t = |v: &[i64]| Tensor::from_slice(v).view(shape).to(self.device);
        let (ids_t, mask_t) = (t(&ids), t(&mask));
        let logits = match model {
            Classifier::Bert(m) => {
                m.forward_t(Some(&ids_t), Some(&mask_t), Some(&t(&types)), None, None, false).logits
            }
            Classifier::Roberta(m) => {
                let pos: Vec<i64> =
                    ids.chunks(len).flat_map(|r| roberta_positions(r, self.pad_id)).collect();
                let zeros = ids_t.zeros_like();
                m.forward_t(Some(&ids_t), Some(&mask_t), Some(&zeros), Some(&t(&pos)), None, false)
                    .logits
            }
            Classifier::Bart(m) => {
                let eos: Vec<usize> = rows
                    .iter()
                    .map(|r| r.token_ids.iter().filter(|&&x| x == self.eos_id).count())
                    .collect();
                if eos.iter().any(|&n| n != eos[0]) {
                    return Err(Error::model("BART NLI: all pairs of a batch must have the same number of </s> tokens (a text contains '</s>'?)"));
                }
                // transformers' shift_tokens_right: decoder_start_token_id, then the inputs.
                let mut dec = vec![self.pad_id; b * len];
                for r in 0..b {
                    dec[r * len] = self.decoder_start_id;
                    dec[r * len + 1..(r + 1) * len]
                        .copy_from_slice(&ids[r * len..(r + 1) * len - 1]);
                }
                m.forward_t(&ids_t, Some(&mask_t), None, Some(&t(&dec)), None, false).decoder_output
            }
            Classifier::Deberta(m) => m.forward(&ids_t, &mask_t, &t(&types)),
        };
        let probs =
            logits.to_kind(Kind::Float).softmax(-1, Kind::Float).to(Device::Cpu).contiguous();
        if probs.size() != [b as i64, self.num_labels as i64] {
            return Err(Error::model(format!(
                "NLI logits have shape {:?}, expected [{b}, {}]",
                probs.size(),
                self.num_labels
            )));
        }
        let mut flat = vec![0f32; b * self.num_labels];
        probs.copy_data(&mut flat, b * self.num_labels);
        Ok(flat)
    }

    /// The article as chunks of consecutive sentences (kpeval's splitter) of at most `budget`
    /// tokens each; a sentence longer than the budget is a chunk of its own.
    pub fn chunk_article(&self, article: &str, budget: usize) -> Vec<String> {
        let mut chunks = Vec::new();
        let mut cur = String::new();
        for s in split_sentences(article) {
            if cur.is_empty() {
                cur = s;
                continue;
            }
            let joined = format!("{cur} {s}");
            if self.count_tokens(&joined) <= budget {
                cur = joined;
            } else {
                chunks.push(std::mem::replace(&mut cur, s));
            }
        }
        if !cur.is_empty() {
            chunks.push(cur);
        }
        chunks
    }
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Scores unique pairs once.
fn predict_unique(
    model: &NliModel,
    pairs: Vec<(String, String)>,
) -> Result<HashMap<(String, String), NliProbs>> {
    let mut uniq: Vec<(String, String)> = pairs;
    uniq.sort();
    uniq.dedup();
    let probs = model.predict(&uniq)?;
    Ok(uniq.into_iter().zip(probs).collect())
}

// ---------------------------------------------------------------------------------------------
// Metrics

/// SummaC-ZS style faithfulness: the article is split into chunks of consecutive sentences
/// that fit the model together with a key point; each generated key point scores
/// max over chunks of P(entailment) − P(contradiction) (premise = chunk, hypothesis = point);
/// the record scores the mean over key points. Output:
/// `{"score", "per_point": [...], "chunks", "truncated"}` (`truncated`: pairs that still had to
/// be cut, i.e. a single sentence or key point too long for the model). Without article text
/// or key points the score is null, with a `note`.
pub struct FaithfulnessMetric {
    pub model: Arc<NliModel>,
    /// Upper bound on chunk length in tokens.
    pub chunk_tokens: usize,
}

impl FaithfulnessMetric {
    pub fn new(model: Arc<NliModel>) -> Self {
        FaithfulnessMetric { model, chunk_tokens: 400 }
    }

    /// The chunk budget for a record: at most `chunk_tokens`, and small enough that the
    /// longest key point fits beside a chunk (never below a quarter of the model's length).
    pub fn budget(&self, points: &[String]) -> usize {
        let m = &self.model;
        let longest = points.iter().map(|p| m.count_tokens(p)).max().unwrap_or(0);
        let room = m.max_len.saturating_sub(m.pair_specials + longest);
        self.chunk_tokens.min(room.max(m.max_len / 4)).max(1)
    }
}

impl Metric for FaithfulnessMetric {
    fn name(&self) -> &'static str {
        "faithfulness"
    }
    fn signature(&self) -> String {
        format!(
            "faithfulness:nli={},chunk<={},score=mean_points(max_chunks(P(e)-P(c)))",
            self.model.name(),
            self.chunk_tokens
        )
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
        let chunks: Vec<Vec<String>> = inputs
            .iter()
            .map(|i| {
                if i.article.trim().is_empty() || i.generated.is_empty() {
                    Vec::new()
                } else {
                    self.model.chunk_article(i.article, self.budget(i.generated))
                }
            })
            .collect();
        let mut pairs = Vec::new();
        for (i, cs) in inputs.iter().zip(&chunks) {
            for c in cs {
                for g in i.generated {
                    pairs.push((c.clone(), g.clone()));
                }
            }
        }
        let probs = match predict_unique(&self.model, pairs) {
            Ok(p) => p,
            Err(e) => return inputs.iter().map(|_| Err(e.to_string())).collect(),
        };
        inputs
            .iter()
            .zip(&chunks)
            .map(|(i, cs)| {
                if cs.is_empty() {
                    let note = if i.generated.is_empty() { "no generated key points" } else { "no article text" };
                    return Ok(vec![("faithfulness".to_string(), json!({"score": null, "per_point": [], "chunks": 0, "truncated": 0, "note": note}))]);
                }
                let mut truncated = 0usize;
                let per_point: Vec<f64> = i
                    .generated
                    .iter()
                    .map(|g| {
                        cs.iter()
                            .map(|c| {
                                let p = &probs[&(c.clone(), g.clone())];
                                if p.truncated > 0 {
                                    truncated += 1;
                                }
                                p.entailment - p.contradiction
                            })
                            .fold(f64::NEG_INFINITY, f64::max)
                    })
                    .map(round6)
                    .collect();
                let score = round6(per_point.iter().sum::<f64>() / per_point.len() as f64);
                Ok(vec![("faithfulness".to_string(), json!({"score": score, "per_point": per_point, "chunks": cs.len(), "truncated": truncated}))])
            })
            .collect()
    }
}

/// `sim[k][g]` = P(entailment | premise = generated point g, hypothesis = reference point k):
/// does the summary state this Key Development? Rounded to 1e-6.
pub struct NliSimilarity {
    pub model: Arc<NliModel>,
}

impl Similarity for NliSimilarity {
    fn name(&self) -> String {
        format!("nli-entail({})", self.model.name())
    }
    fn matrices(
        &self,
        records: &[(&[String], &[String])],
    ) -> std::result::Result<Vec<Vec<Vec<f64>>>, String> {
        let mut pairs = Vec::new();
        for (k, g) in records {
            for a in k.iter() {
                for b in g.iter() {
                    pairs.push((b.clone(), a.clone()));
                }
            }
        }
        let probs = predict_unique(&self.model, pairs).map_err(|e| e.to_string())?;
        Ok(records
            .iter()
            .map(|(k, g)| {
                k.iter()
                    .map(|a| {
                        g.iter()
                            .map(|b| round6(probs[&(b.clone(), a.clone())].entailment))
                            .collect()
                    })
                    .collect()
            })
            .collect())
    }
}

/// `kp_nli`: key-point coverage on entailment. Each Key Development k is judged against every
/// window of consecutive summary sentences (up to [`kpeval::judge::MAX_WINDOW`], joined with
/// spaces): its score is the best P(entailment | premise = window, hypothesis = k), its evidence
/// that window's sentences, covered at `threshold`. Precision and the one-to-one alignment come
/// from single sentences (premise = generated point g), as before.
pub struct NliCoverMetric {
    pub model: Arc<NliModel>,
    pub threshold: f64,
}

impl NliCoverMetric {
    fn window_text(generated: &[String], w: &std::ops::Range<usize>) -> String {
        generated[w.clone()].join(" ")
    }
}

impl Metric for NliCoverMetric {
    fn name(&self) -> &'static str {
        "kp_nli"
    }
    fn signature(&self) -> String {
        format!(
            "kp_nli:sim=nli-entail({}),t={},cover=best-window<={},match=hungarian",
            self.model.name(),
            self.threshold,
            kpeval::judge::MAX_WINDOW
        )
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
        let mut pairs = Vec::new();
        for i in inputs {
            for w in kpeval::judge::windows(i.generated.len()) {
                let premise = Self::window_text(i.generated, &w);
                for k in i.references {
                    pairs.push((premise.clone(), k.clone()));
                }
            }
        }
        let probs = match predict_unique(&self.model, pairs) {
            Ok(p) => p,
            Err(e) => return inputs.iter().map(|_| Err(e.to_string())).collect(),
        };
        inputs
            .iter()
            .map(|i| {
                let sim: Vec<Vec<f64>> = i
                    .references
                    .iter()
                    .map(|k| {
                        i.generated
                            .iter()
                            .map(|g| round6(probs[&(g.clone(), k.clone())].entailment))
                            .collect()
                    })
                    .collect();
                let mut s = kpeval::metrics::alignment::kp_scores(&sim, self.threshold);
                let mut truncated = 0usize;
                for (ki, k) in i.references.iter().enumerate() {
                    let mut best: Option<(f64, std::ops::Range<usize>)> = None;
                    for w in kpeval::judge::windows(i.generated.len()) {
                        let p = &probs[&(Self::window_text(i.generated, &w), k.clone())];
                        if p.truncated > 0 {
                            truncated += 1;
                        }
                        let e = round6(p.entailment);
                        if best.as_ref().map_or(true, |(b, _)| e > *b) {
                            best = Some((e, w));
                        }
                    }
                    let (score, evidence) =
                        best.map(|(e, w)| (e, w.collect())).unwrap_or((0.0, Vec::new()));
                    s.key_points[ki] = kpeval::metrics::alignment::Verdict {
                        score,
                        covered: score >= self.threshold && !evidence.is_empty(),
                        evidence,
                        features: None,
                    };
                }
                let nk = s.key_points.len().max(1) as f64;
                s.coverage = round6(s.key_points.iter().map(|v| v.score).sum::<f64>() / nk);
                s.coverage_at_t = s.key_points.iter().filter(|v| v.covered).count() as f64 / nk;
                let f1 = |p: f64, r: f64| if p + r > 0.0 { 2.0 * p * r / (p + r) } else { 0.0 };
                s.f1 = f1(s.precision, s.coverage);
                s.f1_at_t = f1(s.precision_at_t, s.coverage_at_t);
                let mut v = serde_json::to_value(&s).map_err(|e| e.to_string())?;
                if truncated > 0 {
                    v["truncated_pairs"] = Value::from(truncated);
                }
                Ok(vec![("kp_nli".to_string(), v)])
            })
            .collect()
    }
}

/// The NLI metrics: faithfulness and `kp_nli` (key-point coverage on entailment, threshold 0.5).
pub fn nli_metrics(model: Arc<NliModel>) -> Vec<Box<dyn Metric>> {
    vec![
        Box::new(FaithfulnessMetric::new(model.clone())),
        Box::new(NliCoverMetric { model, threshold: 0.5 }),
    ]
}

/// The NLI metrics as one [`Metric`] (what `Backend::metric(MetricKind::Nli)` returns): fields
/// `faithfulness` and `kp_nli`.
pub struct NliMetrics {
    pub metrics: Vec<Box<dyn Metric>>,
}

impl NliMetrics {
    pub fn new(model: Arc<NliModel>) -> Self {
        NliMetrics { metrics: nli_metrics(model) }
    }
}

impl Metric for NliMetrics {
    fn name(&self) -> &'static str {
        "nli"
    }
    fn signature(&self) -> String {
        self.metrics.iter().map(|m| m.signature()).collect::<Vec<_>>().join("|")
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
        let mut out: Vec<std::result::Result<Vec<(String, Value)>, String>> =
            inputs.iter().map(|_| Ok(Vec::new())).collect();
        for m in &self.metrics {
            for (slot, r) in out.iter_mut().zip(m.score_batch(inputs)) {
                match (slot.as_mut(), r) {
                    (Ok(v), Ok(kv)) => v.extend(kv),
                    (Ok(_), Err(e)) => *slot = Err(format!("{}: {e}", m.name())),
                    (Err(_), _) => {}
                }
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------
// DeBERTa (v1, v2/v3) sequence classification, written against transformers 4.46.
//
// rust-bert 0.23's DeBERTa models compute something else than transformers (checked on the
// tiny fixtures by re-running transformers with each departure patched in, which reproduces
// rust-bert's hidden states exactly):
// - v1: the relative attention span is min(max(query.size(1), key.size(1)), max_relative_positions)
//   on [batch, heads, len, dim] tensors, i.e. the number of heads instead of the sequence length,
//   so relative positions are clamped to ±heads;
// - v2/v3: the content→position gather index is clamp(rel, 0, 2k−1) instead of
//   clamp(rel + k, 0, 2k−1); c2p and p2c scores are divided by d·s instead of sqrt(d·s); and
//   log-bucket positions use (max_position − 1) / mid in integer arithmetic.
// None of these can be undone from outside (weights or inputs), so the forward pass is
// implemented here on tch with the checkpoint's own variable names.
mod deberta {
    use kpeval::error::{Error, Result};
    use serde_json::Value;
    use std::collections::HashMap;
    use std::path::Path;
    use tch::{Device, Kind, Tensor};

    #[derive(Clone, Copy)]
    enum Act {
        Gelu,
        GeluTanh,
        Relu,
        Tanh,
        Silu,
    }

    impl Act {
        fn parse(name: &str) -> Result<Act> {
            Ok(match name {
                "gelu" => Act::Gelu,
                "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Act::GeluTanh,
                "relu" => Act::Relu,
                "tanh" => Act::Tanh,
                "silu" | "swish" => Act::Silu,
                other => {
                    return Err(Error::model(format!(
                        "DeBERTa: activation '{other}' is not supported"
                    )))
                }
            })
        }
        fn apply(self, x: &Tensor) -> Tensor {
            match self {
                Act::Gelu => x.gelu("none"),
                Act::GeluTanh => x.gelu("tanh"),
                Act::Relu => x.relu(),
                Act::Tanh => x.tanh(),
                Act::Silu => x.silu(),
            }
        }
    }

    struct Lin {
        w: Tensor,
        b: Option<Tensor>,
    }

    impl Lin {
        fn fwd(&self, x: &Tensor) -> Tensor {
            x.linear(&self.w, self.b.as_ref())
        }
    }

    struct Norm {
        w: Tensor,
        b: Tensor,
        eps: f64,
        /// v1's DebertaLayerNorm (computed step by step in f32) or torch's LayerNorm (v2).
        tf_style: bool,
    }

    impl Norm {
        fn fwd(&self, x: &Tensor) -> Tensor {
            if self.tf_style {
                let mean = x.mean_dim([-1i64].as_slice(), true, Kind::Float);
                let var = (x - &mean).pow_tensor_scalar(2.0).mean_dim(
                    [-1i64].as_slice(),
                    true,
                    Kind::Float,
                );
                let h = (x - mean) / (var + self.eps).sqrt();
                &self.w * h + &self.b
            } else {
                let d = *x.size().last().unwrap();
                x.layer_norm([d].as_slice(), Some(&self.w), Some(&self.b), self.eps, false)
            }
        }
    }

    enum Attn {
        V1 {
            in_proj: Lin,
            q_bias: Tensor,
            v_bias: Tensor,
            pos_proj: Option<Lin>,
            pos_q_proj: Option<Lin>,
        },
        V2 {
            q: Lin,
            k: Lin,
            v: Lin,
            pos_key: Option<Lin>,
            pos_query: Option<Lin>,
        },
    }

    struct Layer {
        attn: Attn,
        attn_out: Lin,
        attn_ln: Norm,
        inter: Lin,
        out: Lin,
        out_ln: Norm,
    }

    struct Conv {
        w: Tensor,
        b: Tensor,
        padding: i64,
        groups: i64,
        act: Act,
        ln: Norm,
    }

    pub(super) struct Deberta {
        v2: bool,
        word: Tensor,
        pos: Option<Tensor>,
        token_type: Option<Tensor>,
        embed_proj: Option<Lin>,
        emb_ln: Norm,
        layers: Vec<Layer>,
        rel: Option<Tensor>,
        rel_ln: Option<Norm>,
        conv: Option<Conv>,
        pooler: Lin,
        pooler_act: Act,
        classifier: Lin,
        act: Act,
        heads: i64,
        head_dim: i64,
        c2p: bool,
        p2c: bool,
        /// v1: 1 + number of position attention types; v2: 1 + c2p + p2c.
        scale_factor: i64,
        share_att_key: bool,
        max_relative_positions: i64,
        position_buckets: i64,
        /// v2: rows of the relative embedding used (position_buckets, else max_relative_positions).
        pos_ebd_size: i64,
    }

    fn att_types(raw: &Value) -> Vec<String> {
        match raw.get("pos_att_type") {
            Some(Value::String(s)) => s
                .to_lowercase()
                .split('|')
                .map(|x| x.trim().to_string())
                .filter(|x| !x.is_empty())
                .collect(),
            Some(Value::Array(a)) => {
                a.iter().filter_map(|x| x.as_str()).map(|x| x.trim().to_lowercase()).collect()
            }
            _ => Vec::new(),
        }
    }

    impl Deberta {
        pub(super) fn load(
            raw: &Value,
            weights: &Path,
            device: Device,
            v2: bool,
            num_labels: usize,
        ) -> Result<Deberta> {
            let i = |k: &str, d: i64| raw.get(k).and_then(|v| v.as_i64()).unwrap_or(d);
            let f = |k: &str, d: f64| raw.get(k).and_then(|v| v.as_f64()).unwrap_or(d);
            let s = |k: &str, d: &str| raw.get(k).and_then(|v| v.as_str()).unwrap_or(d).to_string();
            let b = |k: &str, d: bool| raw.get(k).and_then(|v| v.as_bool()).unwrap_or(d);
            if b("talking_head", false) {
                return Err(Error::model("DeBERTa: talking_head models are not supported"));
            }
            let ext = weights.extension().and_then(|e| e.to_str()).unwrap_or("");
            if ext != "safetensors" && ext != "bin" {
                return Err(Error::model(format!(
                    "{}: DeBERTa weights must be model.safetensors or pytorch_model.bin",
                    weights.display()
                )));
            }
            let mut map: HashMap<String, Tensor> = HashMap::new();
            // Views of the mapped file: `get` copies what it takes before the mapping goes.
            let (_mapping, tensors) = crate::weights::map_weights_file(weights)?;
            for (k, t) in tensors {
                let k = k
                    .strip_suffix(".gamma")
                    .map(|s| format!("{s}.weight"))
                    .or_else(|| k.strip_suffix(".beta").map(|s| format!("{s}.bias")))
                    .unwrap_or(k);
                map.insert(k, t);
            }
            let get = |name: &str| -> Result<Tensor> {
                let t = map.get(&format!("deberta.{name}")).or_else(|| map.get(name)).ok_or_else(
                    || Error::model(format!("{}: no tensor '{name}'", weights.display())),
                )?;
                Ok(t.to_kind(Kind::Float).to_device(device).detach().copy())
            };
            let opt = |name: &str| -> Option<Tensor> { get(name).ok() };
            let lin = |name: &str| -> Result<Lin> {
                Ok(Lin { w: get(&format!("{name}.weight"))?, b: opt(&format!("{name}.bias")) })
            };
            let eps = f("layer_norm_eps", 1e-7);
            let norm = |name: &str| -> Result<Norm> {
                Ok(Norm {
                    w: get(&format!("{name}.weight"))?,
                    b: get(&format!("{name}.bias"))?,
                    eps,
                    tf_style: !v2,
                })
            };

            let hidden = i("hidden_size", 768);
            let heads = i("num_attention_heads", 12);
            let head_dim =
                if v2 { i("attention_head_size", hidden / heads) } else { hidden / heads };
            let types = att_types(raw);
            let c2p = types.iter().any(|t| t == "c2p");
            let p2c = types.iter().any(|t| t == "p2c");
            let relative = b("relative_attention", false);
            let share_att_key = v2 && b("share_att_key", false);
            let scale_factor =
                if v2 { 1 + c2p as i64 + p2c as i64 } else { 1 + types.len() as i64 };
            let mut max_rel = i("max_relative_positions", -1);
            if max_rel < 1 {
                max_rel = i("max_position_embeddings", 512);
            }
            let position_buckets = if v2 { i("position_buckets", -1) } else { -1 };
            let pos_ebd_size = if position_buckets > 0 { position_buckets } else { max_rel };

            let mut layers = Vec::new();
            for l in 0..i("num_hidden_layers", 12) {
                let p = format!("encoder.layer.{l}");
                let attn = if v2 {
                    let sa = format!("{p}.attention.self");
                    Attn::V2 {
                        q: lin(&format!("{sa}.query_proj"))?,
                        k: lin(&format!("{sa}.key_proj"))?,
                        v: lin(&format!("{sa}.value_proj"))?,
                        pos_key: if relative && !share_att_key && c2p {
                            Some(lin(&format!("{sa}.pos_key_proj"))?)
                        } else {
                            None
                        },
                        pos_query: if relative && !share_att_key && p2c {
                            Some(lin(&format!("{sa}.pos_query_proj"))?)
                        } else {
                            None
                        },
                    }
                } else {
                    let sa = format!("{p}.attention.self");
                    Attn::V1 {
                        in_proj: lin(&format!("{sa}.in_proj"))?,
                        q_bias: get(&format!("{sa}.q_bias"))?,
                        v_bias: get(&format!("{sa}.v_bias"))?,
                        pos_proj: if relative && c2p {
                            Some(lin(&format!("{sa}.pos_proj"))?)
                        } else {
                            None
                        },
                        pos_q_proj: if relative && p2c {
                            Some(lin(&format!("{sa}.pos_q_proj"))?)
                        } else {
                            None
                        },
                    }
                };
                layers.push(Layer {
                    attn,
                    attn_out: lin(&format!("{p}.attention.output.dense"))?,
                    attn_ln: norm(&format!("{p}.attention.output.LayerNorm"))?,
                    inter: lin(&format!("{p}.intermediate.dense"))?,
                    out: lin(&format!("{p}.output.dense"))?,
                    out_ln: norm(&format!("{p}.output.LayerNorm"))?,
                });
            }
            let norm_rel = s("norm_rel_ebd", "none").to_lowercase();
            let rel_ln = if v2 && relative && norm_rel.split('|').any(|x| x.trim() == "layer_norm")
            {
                Some(norm("encoder.LayerNorm")?)
            } else {
                None
            };
            let conv = if v2 && i("conv_kernel_size", 0) > 0 {
                let k = i("conv_kernel_size", 3);
                Some(Conv {
                    w: get("encoder.conv.conv.weight")?,
                    b: get("encoder.conv.conv.bias")?,
                    padding: (k - 1) / 2,
                    groups: i("conv_groups", 1),
                    act: Act::parse(&s("conv_act", "tanh"))?,
                    ln: norm("encoder.conv.LayerNorm")?,
                })
            } else {
                None
            };
            let classifier = lin("classifier")?;
            if classifier.w.size()[0] != num_labels as i64 {
                return Err(Error::model(format!(
                    "DeBERTa classifier has {} outputs, id2label {num_labels}",
                    classifier.w.size()[0]
                )));
            }
            let word = get("embeddings.word_embeddings.weight")?;
            Ok(Deberta {
                v2,
                pos: if b("position_biased_input", true) {
                    Some(get("embeddings.position_embeddings.weight")?)
                } else {
                    None
                },
                token_type: if i("type_vocab_size", 0) > 0 {
                    Some(get("embeddings.token_type_embeddings.weight")?)
                } else {
                    None
                },
                embed_proj: if i("embedding_size", hidden) != hidden {
                    Some(Lin { w: get("embeddings.embed_proj.weight")?, b: None })
                } else {
                    None
                },
                emb_ln: norm("embeddings.LayerNorm")?,
                word,
                layers,
                rel: if relative { Some(get("encoder.rel_embeddings.weight")?) } else { None },
                rel_ln,
                conv,
                pooler: lin("pooler.dense")?,
                pooler_act: Act::parse(&s("pooler_hidden_act", "gelu"))?,
                classifier,
                act: Act::parse(&s("hidden_act", "gelu"))?,
                heads,
                head_dim,
                c2p,
                p2c,
                scale_factor,
                share_att_key,
                max_relative_positions: max_rel,
                position_buckets,
                pos_ebd_size,
            })
        }

        /// transformers' make_log_bucket_position, with the same dtypes (f32) and kernels.
        fn log_bucket(rel: &Tensor, bucket_size: i64, max_position: i64) -> Tensor {
            let sign = rel.sign();
            let mid = bucket_size / 2;
            let inside = rel.lt(mid).logical_and(&rel.gt(-mid));
            let abs_pos = rel
                .abs()
                .where_self(&inside.logical_not(), &Tensor::from(mid - 1).to_device(rel.device()));
            let denom = Tensor::from((max_position - 1) as f64 / mid as f64)
                .to_kind(Kind::Float)
                .log()
                .to_device(rel.device());
            let log_pos = ((abs_pos.to_kind(Kind::Float) / mid as f64).log() / denom
                * (mid - 1) as f64)
                .ceil()
                + mid as f64;
            rel.to_kind(Kind::Float)
                .where_self(&abs_pos.le(mid), &(log_pos * sign))
                .to_kind(Kind::Int64)
        }

        fn relative_positions(&self, len: i64, device: Device) -> Tensor {
            let ids = Tensor::arange(len, (Kind::Int64, device));
            let rel = ids.unsqueeze(1) - ids.unsqueeze(0);
            let rel = if self.v2 && self.position_buckets > 0 && self.max_relative_positions > 0 {
                Self::log_bucket(&rel, self.position_buckets, self.max_relative_positions)
            } else {
                rel
            };
            rel.unsqueeze(0).unsqueeze(0) // [1, 1, len, len]
        }

        /// [.., len, heads*dim] → [batch, heads, len, dim] (v1) or [batch*heads, len, dim] (v2).
        fn split_heads(&self, x: &Tensor) -> Tensor {
            let sz = x.size();
            let (b, l) = (sz[0], sz[1]);
            let t = x.view([b, l, self.heads, -1]).permute([0, 2, 1, 3]);
            if self.v2 {
                t.contiguous().view([-1, l, *t.size().last().unwrap()])
            } else {
                t
            }
        }

        fn attention(
            &self,
            attn: &Attn,
            h: &Tensor,
            mask4: &Tensor,
            rel_pos: Option<&Tensor>,
            rel_emb: Option<&Tensor>,
        ) -> Tensor {
            let sz = h.size();
            let (b, l) = (sz[0], sz[1]);
            let sf = self.scale_factor as f64;
            let scale = |d: i64| ((d as f64) * sf).sqrt() as f32 as f64;
            let (scores, value) = match attn {
                Attn::V1 { in_proj, q_bias, v_bias, pos_proj, pos_q_proj } => {
                    let qkv = self.split_heads(&in_proj.fwd(h)).chunk(3, -1);
                    let bias = |t: &Tensor| t.view([1, 1, self.heads, -1]).permute([0, 2, 1, 3]);
                    let q = (&qkv[0] + bias(q_bias)) / scale(self.head_dim);
                    let k = &qkv[1];
                    let v = &qkv[2] + bias(v_bias);
                    let mut scores = q.matmul(&k.transpose(-1, -2));
                    if let (Some(rel_pos), Some(rel_emb)) = (rel_pos, rel_emb) {
                        let span = l.min(self.max_relative_positions);
                        let re = rel_emb
                            .narrow(0, self.max_relative_positions - span, 2 * span)
                            .unsqueeze(0);
                        if let Some(pp) = pos_proj {
                            let pos_key = self.split_heads(&pp.fwd(&re));
                            let c2p = q.matmul(&pos_key.transpose(-1, -2));
                            let idx = (rel_pos + span)
                                .clamp(0, 2 * span - 1)
                                .expand([b, self.heads, l, l], false);
                            scores = scores + c2p.gather(-1, &idx, false);
                        }
                        if let Some(pq) = pos_q_proj {
                            let pos_query = self.split_heads(&pq.fwd(&re)) / scale(self.head_dim);
                            let idx = (-rel_pos + span)
                                .clamp(0, 2 * span - 1)
                                .expand([b, self.heads, l, l], false);
                            let p2c = k
                                .matmul(&pos_query.transpose(-1, -2))
                                .gather(-1, &idx, false)
                                .transpose(-1, -2);
                            scores = scores + p2c;
                        }
                    }
                    (scores, v)
                }
                Attn::V2 { q, k, v, pos_key, pos_query } => {
                    let ql = self.split_heads(&q.fwd(h));
                    let kl = self.split_heads(&k.fwd(h));
                    let vl = self.split_heads(&v.fwd(h));
                    let sc = scale(*ql.size().last().unwrap());
                    let mut scores = ql.bmm(&(kl.transpose(-1, -2) / sc));
                    if let (Some(rel_pos), Some(rel_emb)) = (rel_pos, rel_emb) {
                        let span = self.pos_ebd_size;
                        let re = rel_emb.narrow(0, 0, 2 * span).unsqueeze(0);
                        // share_att_key: positions go through the content key/query projections.
                        let pos_key_proj =
                            if self.share_att_key { Some(k) } else { pos_key.as_ref() };
                        let pos_query_proj =
                            if self.share_att_key { Some(q) } else { pos_query.as_ref() };
                        let rel_pos3 = rel_pos.squeeze_dim(0); // [1, l, l]
                        if self.c2p {
                            let pkl = self
                                .split_heads(&pos_key_proj.expect("c2p projection").fwd(&re))
                                .repeat([b, 1, 1]);
                            let s = scale(*pkl.size().last().unwrap());
                            let idx = (&rel_pos3 + span)
                                .clamp(0, 2 * span - 1)
                                .squeeze_dim(0)
                                .expand([ql.size()[0], l, l], false);
                            let c2p = ql.bmm(&pkl.transpose(-1, -2)).gather(-1, &idx, false);
                            scores = scores + c2p / s;
                        }
                        if self.p2c {
                            let pql = self
                                .split_heads(&pos_query_proj.expect("p2c projection").fwd(&re))
                                .repeat([b, 1, 1]);
                            let s = scale(*pql.size().last().unwrap());
                            let idx = (-&rel_pos3 + span)
                                .clamp(0, 2 * span - 1)
                                .squeeze_dim(0)
                                .expand([ql.size()[0], l, l], false);
                            let p2c = kl
                                .bmm(&pql.transpose(-1, -2))
                                .gather(-1, &idx, false)
                                .transpose(-1, -2);
                            scores = scores + p2c / s;
                        }
                    }
                    (scores.view([-1, self.heads, l, l]), vl.view([b, self.heads, l, -1]))
                }
            };
            // XSoftmax: masked positions get the float minimum, then probability 0.
            let rmask = mask4.eq(0);
            let probs = scores
                .masked_fill(&rmask, f32::MIN as f64)
                .softmax(-1, Kind::Float)
                .masked_fill(&rmask, 0.0);
            probs.matmul(&value).permute([0, 2, 1, 3]).contiguous().view([b, l, -1])
        }

        /// Logits [batch, num_labels].
        pub(super) fn forward(&self, ids: &Tensor, mask: &Tensor, token_types: &Tensor) -> Tensor {
            let l = ids.size()[1];
            let mut x = Tensor::embedding(&self.word, ids, -1, false, false);
            if let Some(p) = &self.pos {
                let pos = Tensor::arange(l, (Kind::Int64, ids.device())).unsqueeze(0);
                x = x + Tensor::embedding(p, &pos, -1, false, false);
            }
            if let Some(t) = &self.token_type {
                x = x + Tensor::embedding(t, token_types, -1, false, false);
            }
            if let Some(p) = &self.embed_proj {
                x = p.fwd(&x);
            }
            let maskf = mask.to_kind(Kind::Float).unsqueeze(2);
            let emb = self.emb_ln.fwd(&x) * &maskf;
            let ext = mask.unsqueeze(1).unsqueeze(2); // [b, 1, 1, l]
            let mask4 = &ext * ext.squeeze_dim(-2).unsqueeze(-1); // [b, 1, l, l]
            let rel_pos = self.rel.as_ref().map(|_| self.relative_positions(l, ids.device()));
            let rel_emb = self.rel.as_ref().map(|r| match &self.rel_ln {
                Some(n) => n.fwd(r),
                None => r.shallow_clone(),
            });
            let mut h = emb.shallow_clone();
            for (n, layer) in self.layers.iter().enumerate() {
                let a = self.attention(&layer.attn, &h, &mask4, rel_pos.as_ref(), rel_emb.as_ref());
                let a = layer.attn_ln.fwd(&(layer.attn_out.fwd(&a) + &h));
                let i = self.act.apply(&layer.inter.fwd(&a));
                h = layer.out_ln.fwd(&(layer.out.fwd(&i) + &a));
                if n == 0 {
                    if let Some(c) = &self.conv {
                        let out = emb.permute([0, 2, 1]).contiguous().conv1d(
                            &c.w,
                            Some(&c.b),
                            [1].as_slice(),
                            [c.padding].as_slice(),
                            [1].as_slice(),
                            c.groups,
                        );
                        let out = out
                            .permute([0, 2, 1])
                            .contiguous()
                            .masked_fill(&maskf.eq(0.0).expand_as(&h), 0.0);
                        let out = c.act.apply(&out);
                        h = c.ln.fwd(&(&h + out)) * &maskf;
                    }
                }
            }
            let cls = h.select(1, 0);
            let pooled = self.pooler_act.apply(&self.pooler.fwd(&cls));
            self.classifier.fwd(&pooled)
        }
    }
}
