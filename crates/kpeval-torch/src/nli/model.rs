//! The NLI model: loading (config, label order, tokenizer, weights), encoding and prediction.
use super::deberta;
use crate::bert_family::{bert_eps_scale, check_absolute_positions, config_eps, roberta_positions};
use crate::files::{parse_config, read_json, short_sha256};
use crate::hub::{tokenizer_flag, tokenizer_max_len, ModelFiles};
use crate::weights::{load_weights, ScaleFn};
use kpeval::error::{Error, Result};
use kpeval::keypoints::split_sentences;
use rust_bert::bart::{BartConfig, BartForSequenceClassification};
use rust_bert::bert::{BertConfig, BertForSequenceClassification};
use rust_bert::roberta::RobertaForSequenceClassification;
use rust_tokenizers::tokenizer::{
    BertTokenizer, DeBERTaTokenizer, DeBERTaV2Tokenizer, RobertaTokenizer, Tokenizer,
    TruncationStrategy,
};
use rust_tokenizers::TokenizedInput;
use serde_json::Value;
use std::path::Path;
use std::sync::Mutex;
use tch::{nn, Device, Kind, Tensor};

/// Class probabilities for one (premise, hypothesis) pair.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NliProbs {
    /// P(entailment): the premise entails the hypothesis.
    pub entailment: f64,
    /// P(neutral): neither entailed nor contradicted.
    pub neutral: f64,
    /// P(contradiction): the premise contradicts the hypothesis.
    pub contradiction: f64,
    /// Tokens cut (longest-first) to fit the model's max length; 0 when the pair fit.
    pub truncated: usize,
}

/// The NLI model's architecture (config.json `model_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NliArch {
    /// `bert`: BertForSequenceClassification.
    Bert,
    /// `roberta`: RobertaForSequenceClassification (e.g. roberta-large-mnli).
    Roberta,
    /// `bart`: BartForSequenceClassification (e.g. bart-large-mnli).
    Bart,
    /// `deberta`: DeBERTa v1 (native implementation).
    Deberta,
    /// `deberta-v2`: DeBERTa v2 / v3 (native implementation).
    DebertaV2,
}

enum Classifier {
    Bert(BertForSequenceClassification),
    Roberta(RobertaForSequenceClassification),
    Bart(BartForSequenceClassification),
    /// DeBERTa v1 and v2/v3 (native, see [`deberta`]).
    Deberta(deberta::Deberta),
}

#[allow(clippy::large_enum_variant)] // one tokenizer per loaded model
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
    /// The architecture, from config.json `model_type`.
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
        Self::load_with(name_or_dir, device, false)
    }

    /// Like [`NliModel::load`]; with `offline`, a hub model must already be in the cache.
    pub fn load_with(name_or_dir: &str, device: Device, offline: bool) -> Result<NliModel> {
        let mut files = ModelFiles::open_with(name_or_dir, offline)?;
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
        format!(
            "{}@{}({})",
            self.short_name,
            self.revision,
            crate::runtime::runtime_tag(self.device)
        )
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
