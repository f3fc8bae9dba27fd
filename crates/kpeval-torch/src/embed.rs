//! Sentence embeddings for BERT-family sentence-transformers models (default all-MiniLM-L6-v2):
//! pooling and normalization as the model's own `1_Pooling/config.json` and `modules.json` say.
use crate::files::read_json;
use crate::hub::Repo;
use kpeval::error::{Error, Result};
use rust_bert::bert::{BertConfig, BertEmbeddings, BertModel};
use rust_tokenizers::tokenizer::{BertTokenizer, Tokenizer, TruncationStrategy};
use std::path::{Path, PathBuf};
use tch::{nn, Device, Kind, Tensor};

/// How token vectors become one sentence vector (from the model's `1_Pooling/config.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    /// Mean of the token vectors under the attention mask (the default).
    Mean,
    /// The first (\[CLS\]) token's vector.
    Cls,
    /// Element-wise maximum over the unmasked tokens.
    Max,
}

/// A sentence-transformers encoder (BERT / MiniLM) with its tokenizer, pooling and
/// normalization; not Sync (callers hold it behind a lock).
pub struct SentenceEmbedder {
    model: BertModel<BertEmbeddings>,
    tokenizer: BertTokenizer,
    _vs: nn::VarStore,
    device: Device,
    /// Longest text in tokens (special tokens included): `max_seq_length` of
    /// sentence_bert_config.json, else min(512, max_position_embeddings); longer texts are cut.
    pub max_len: usize,
    /// The pooling of token vectors into a sentence vector.
    pub pooling: Pooling,
    /// Whether sentence vectors are L2-normalized (modules.json has a `Normalize` module).
    pub normalize: bool,
    /// Texts per forward pass in [`SentenceEmbedder::embed`] (default 64).
    pub batch_size: usize,
    /// The model folder's name.
    pub name: String,
    /// First 12 hex digits of the weights file's sha256.
    pub revision: String,
}

/// A required file of the folder ("{dir}: missing {name}" otherwise).
fn need(dir: &Path, name: &str) -> Result<PathBuf> {
    Repo::Local(dir.to_path_buf()).need(name)
}

impl SentenceEmbedder {
    /// Loads a sentence-transformers folder: config.json, vocab.txt, model.safetensors (or
    /// rust_model.ot), and the optional pooling / normalize / max_seq_length settings.
    pub fn load(dir: &Path, device: Device) -> Result<Self> {
        let config_path = need(dir, "config.json")?;
        let cfg_text =
            std::fs::read_to_string(&config_path).map_err(|e| Error::io(&config_path, e))?;
        let model_type = serde_json::from_str::<serde_json::Value>(&cfg_text)
            .ok()
            .and_then(|v| v.get("model_type").and_then(|t| t.as_str()).map(String::from))
            .unwrap_or_default();
        if !model_type.is_empty() && model_type != "bert" {
            return Err(Error::model(format!(
                "{}: model_type '{model_type}' is not a BERT encoder; embeddings are computed with BERT / MiniLM sentence-transformers models",
                config_path.display()
            )));
        }
        let config: BertConfig = serde_json::from_str(&cfg_text)
            .map_err(|e| Error::Json { context: config_path.display().to_string(), source: e })?;
        let vocab = need(dir, "vocab.txt")?;
        let lower = dir.join("tokenizer_config.json").is_file()
            && read_json(&dir.join("tokenizer_config.json"))?
                .get("do_lower_case")
                .and_then(|v| v.as_bool())
                .unwrap_or(true);
        let tokenizer = BertTokenizer::from_file(&vocab, lower, lower)
            .map_err(|e| Error::model(format!("{}: {e}", vocab.display())))?;
        let weights = ["model.safetensors", "pytorch_model.bin", "rust_model.ot"]
            .iter()
            .map(|n| dir.join(n))
            .find(|p| p.is_file())
            .ok_or_else(|| {
                Error::model(format!(
                    "{}: no weights (model.safetensors, pytorch_model.bin or rust_model.ot)",
                    dir.display()
                ))
            })?;
        let mut vs = nn::VarStore::new(device);
        let model =
            BertModel::<BertEmbeddings>::new_with_optional_pooler(vs.root(), &config, false);
        // transformers checkpoints by name (a `bert.` prefix, as BertFor* heads save it, is
        // matched too); rust-bert's .ot as it is.
        if weights.extension().is_some_and(|e| e == "bin" || e == "safetensors") {
            crate::weights::load_weights(&vs, &weights, &["bert"], None)?;
        } else {
            vs.load(&weights).map_err(|e| Error::model(format!("{}: {e}", weights.display())))?;
        }
        vs.freeze();
        let mut max_len = 512usize.min(config.max_position_embeddings as usize);
        if let Ok(sb) = read_json(&dir.join("sentence_bert_config.json")) {
            if let Some(m) = sb.get("max_seq_length").and_then(|v| v.as_u64()) {
                max_len = m as usize;
            }
        }
        let mut pooling = Pooling::Mean;
        if let Ok(pc) = read_json(&dir.join("1_Pooling/config.json")) {
            let flag = |k: &str| pc.get(k).and_then(|v| v.as_bool()).unwrap_or(false);
            pooling = if flag("pooling_mode_cls_token") {
                Pooling::Cls
            } else if flag("pooling_mode_max_tokens") {
                Pooling::Max
            } else {
                Pooling::Mean
            };
        }
        let normalize = read_json(&dir.join("modules.json"))
            .ok()
            .and_then(|m| m.as_array().cloned())
            .map(|mods| {
                mods.iter().any(|m| {
                    m.get("type").and_then(|t| t.as_str()).is_some_and(|t| t.ends_with("Normalize"))
                })
            })
            .unwrap_or(false);
        let name = dir.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
        let revision = crate::files::short_sha256(&weights)?;
        Ok(SentenceEmbedder {
            model,
            tokenizer,
            _vs: vs,
            device,
            max_len,
            pooling,
            normalize,
            batch_size: 64,
            name,
            revision,
        })
    }

    /// The device the model runs on.
    pub fn device(&self) -> Device {
        self.device
    }

    /// Per text, the L2-normalized last-layer vectors of all its tokens with the special ones
    /// flagged (what BERTScore matches), each text run on its own (no padding).
    pub fn token_vectors(&self, texts: &[String]) -> Result<Vec<kpeval::backend::TokenVectors>> {
        let enc =
            self.tokenizer.encode_list(texts, self.max_len, &TruncationStrategy::LongestFirst, 0);
        let _guard = tch::no_grad_guard();
        let mut out = Vec::with_capacity(texts.len());
        for e in &enc {
            let n = e.token_ids.len() as i64;
            if n == 0 {
                out.push(kpeval::backend::TokenVectors::default());
                continue;
            }
            let ids = Tensor::from_slice(&e.token_ids).view([1, n]).to(self.device);
            let mask = ids.ones_like();
            let types = ids.zeros_like();
            let o = self
                .model
                .forward_t(Some(&ids), Some(&mask), Some(&types), None, None, None, None, false)
                .map_err(|e| Error::model(e.to_string()))?;
            let h = o.hidden_state.select(0, 0);
            let h = &h / h.norm_scalaropt_dim(2, [1i64].as_slice(), true);
            let h = h.to_kind(Kind::Float).to(Device::Cpu).contiguous();
            let dim = h.size()[1] as usize;
            let mut flat = vec![0f32; n as usize * dim];
            h.copy_data(&mut flat, n as usize * dim);
            out.push(kpeval::backend::TokenVectors {
                vectors: flat.chunks_exact(dim).map(|c| c.to_vec()).collect(),
                special: e.special_tokens_mask.iter().map(|&m| m != 0).collect(),
            });
        }
        Ok(out)
    }

    /// Per text, the tokens that [`SentenceEmbedder::embed`] cuts to fit `max_len` (special
    /// tokens counted), and `max_len`.
    pub fn truncation(&self, texts: &[String]) -> (Vec<usize>, usize) {
        let enc =
            self.tokenizer.encode_list(texts, self.max_len, &TruncationStrategy::LongestFirst, 0);
        (enc.iter().map(|e| e.num_truncated_tokens).collect(), self.max_len)
    }

    /// Embeds texts; one vector per text, in order (pooled, normalized when the model says so),
    /// computed in length-sorted batches of `batch_size`. Errors when a forward pass fails.
    pub fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        // Length-sorted batches (deterministic: stable sort on token count).
        let enc =
            self.tokenizer.encode_list(texts, self.max_len, &TruncationStrategy::LongestFirst, 0);
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| enc[i].token_ids.len());
        let _guard = tch::no_grad_guard();
        for chunk in order.chunks(self.batch_size) {
            let max = chunk.iter().map(|&i| enc[i].token_ids.len()).max().unwrap_or(0).max(1);
            let mut ids = vec![0i64; chunk.len() * max];
            let mut mask = vec![0i64; chunk.len() * max];
            for (row, &i) in chunk.iter().enumerate() {
                for (c, &t) in enc[i].token_ids.iter().enumerate() {
                    ids[row * max + c] = t;
                    mask[row * max + c] = 1;
                }
            }
            let shape = [chunk.len() as i64, max as i64];
            let ids = Tensor::from_slice(&ids).view(shape).to(self.device);
            let mask_t = Tensor::from_slice(&mask).view(shape).to(self.device);
            let types = ids.zeros_like();
            let o = self
                .model
                .forward_t(Some(&ids), Some(&mask_t), Some(&types), None, None, None, None, false)
                .map_err(|e| Error::model(e.to_string()))?;
            let h = o.hidden_state;
            let m = mask_t.unsqueeze(-1).to_kind(h.kind());
            let pooled = match self.pooling {
                Pooling::Mean => {
                    (&h * &m).sum_dim_intlist([1i64].as_slice(), false, h.kind())
                        / m.sum_dim_intlist([1i64].as_slice(), false, h.kind()).clamp_min(1e-9)
                }
                Pooling::Cls => h.select(1, 0),
                Pooling::Max => (&h + (m.ones_like() - &m) * -1e9).amax([1i64].as_slice(), false),
            };
            let pooled = if self.normalize {
                let n = pooled.norm_scalaropt_dim(2, [1i64].as_slice(), true).clamp_min(1e-12);
                pooled / n
            } else {
                pooled
            };
            let pooled = pooled.to_kind(Kind::Float).to(Device::Cpu).contiguous();
            let dim = pooled.size()[1] as usize;
            let mut flat = vec![0f32; chunk.len() * dim];
            pooled.copy_data(&mut flat, chunk.len() * dim);
            for (row, &i) in chunk.iter().enumerate() {
                out[i] = flat[row * dim..(row + 1) * dim].to_vec();
            }
        }
        Ok(out)
    }
}
