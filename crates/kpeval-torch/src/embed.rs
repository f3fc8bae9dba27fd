//! Sentence embeddings for BERT-family sentence-transformers models (default all-MiniLM-L6-v2):
//! pooling and normalization as the model's own `1_Pooling/config.json` and `modules.json` say.
use crate::files::read_json;
use crate::hub::Repo;
use crate::packed::{PackedBert, Positions};
use kpeval::error::{Error, Result};
use rust_bert::bert::BertConfig;
use rust_tokenizers::tokenizer::{BertTokenizer, Tokenizer, TruncationStrategy};
use std::path::{Path, PathBuf};
use tch::{nn, Device};

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

/// What one forward pass of a text gives: its unit-length token vectors (BERTScore / `kp_tok`)
/// and its sentence vector (`kp`, MMR), so the metrics that need either encode a text once.
#[derive(Debug, Clone, Default)]
pub struct Encoded {
    /// Per-token unit vectors of the last layer, special tokens flagged.
    pub tokens: kpeval::backend::TokenVectors,
    /// The pooled (and, when the model says so, normalized) sentence vector.
    pub pooled: Vec<f32>,
}

impl kpeval::runtime::Weigh for Encoded {
    fn weigh(&self) -> usize {
        self.tokens.weigh() + self.pooled.weigh()
    }
}

/// A sentence-transformers encoder (BERT / MiniLM) with its tokenizer, pooling and
/// normalization. Texts are encoded in packs without padding (see [`crate::packed`]), one
/// libtorch thread per pack and several packs at once (see [`crate::pool`]); a text's vectors
/// depend only on the text, not on the batch, `--model-threads` or shards.
pub struct SentenceEmbedder {
    nets: crate::pool::Replicas<PackedBert>,
    tokenizer: BertTokenizer,
    device: Device,
    /// Longest text in tokens (special tokens included): `max_seq_length` of
    /// sentence_bert_config.json, else min(512, max_position_embeddings); longer texts are cut.
    pub max_len: usize,
    /// The pooling of token vectors into a sentence vector.
    pub pooling: Pooling,
    /// Whether sentence vectors are L2-normalized (modules.json has a `Normalize` module).
    pub normalize: bool,
    /// Texts per pack (one forward pass), at most; it changes speed, not results.
    batch_size: std::sync::atomic::AtomicUsize,
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
    /// rust_model.ot), and the optional pooling / normalize / max_seq_length settings; as many
    /// replicas as libtorch has intra-op threads (one on a GPU).
    pub fn load(dir: &Path, device: Device) -> Result<Self> {
        Self::load_with_workers(dir, device, crate::pool::workers(device))
    }

    /// Like [`SentenceEmbedder::load`], with `workers` replicas (texts encoded at once).
    pub fn load_with_workers(dir: &Path, device: Device, workers: usize) -> Result<Self> {
        // one thread: libtorch's OpenMP team would otherwise spin between the many small
        // operations of a load, taking the other cores' time (0.6 s of a 1.8 s run on 2 cores)
        let _one = crate::pool::OneThread::enter();
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
        crate::packed::declare_variables(&vs, &config, config.num_hidden_layers as usize);
        // transformers checkpoints by name (a `bert.` prefix, as BertFor* heads save it, is
        // matched too); rust-bert's .ot as it is.
        if weights.extension().is_some_and(|e| e == "bin" || e == "safetensors") {
            crate::weights::load_weights(&vs, &weights, &["bert"], None)?;
        } else {
            vs.load(&weights).map_err(|e| Error::model(format!("{}: {e}", weights.display())))?;
        }
        vs.freeze();
        let layers = config.num_hidden_layers as usize;
        let first = PackedBert::new(&vs, "", &config, layers, Positions::Bert)?;
        let nets = crate::pool::Replicas::new(workers, first, |f| Ok(f.replica()))?;
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
            nets,
            tokenizer,
            device,
            max_len,
            pooling,
            normalize,
            batch_size: std::sync::atomic::AtomicUsize::new(256),
            name,
            revision,
        })
    }

    /// The device the model runs on.
    pub fn device(&self) -> Device {
        self.device
    }

    /// The runtime for signatures: libtorch, device, one thread per pack, and the packing
    /// (`pack=128`: blocks of 128 rows; `pack=off`: each text alone).
    pub fn runtime(&self) -> String {
        crate::packed::runtime_tag(self.device, self.packs())
    }

    /// Texts encoded at once (replicas of the network).
    pub fn workers(&self) -> usize {
        self.nets.len()
    }

    /// Texts per pack (forward pass), at most.
    pub fn batch_size(&self) -> usize {
        self.batch_size.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Sets the texts per pack (forward pass), at most: speed only, the vectors do not change.
    pub fn set_batch_size(&self, n: usize) {
        self.batch_size.store(n.max(1), std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether texts share forward passes (else each runs alone: the BLAS's products depend on
    /// a row's place, see [`crate::packed`]).
    pub fn packs(&self) -> bool {
        self.nets.first().packs()
    }

    /// Each text's token vectors and sentence vector, in order; packs of texts spread over the
    /// replicas, one libtorch thread each.
    pub fn encode(&self, texts: &[String]) -> Result<Vec<Encoded>> {
        let enc =
            self.tokenizer.encode_list(texts, self.max_len, &TruncationStrategy::LongestFirst, 0);
        let lens: Vec<usize> = enc.iter().map(|e| e.token_ids.len()).collect();
        let mut ranges = Vec::new();
        for r in crate::packed::packs(&lens, self.nets.len()) {
            let step = self.batch_size().max(1);
            let mut s = r.start;
            while s < r.end {
                ranges.push(s..(s + step).min(r.end));
                s += step;
            }
        }
        let rows = self.nets.map(&ranges, |net, r| {
            let ids: Vec<&[i64]> = enc[r.clone()].iter().map(|e| &e.token_ids[..]).collect();
            net.forward(&ids)
        })?;
        Ok(rows
            .into_iter()
            .flatten()
            .zip(&enc)
            .map(|(h, e)| self.finish(&h, &e.special_tokens_mask))
            .collect())
    }

    /// A text's vectors from its last-layer rows (`len × dim`).
    fn finish(&self, h: &[f32], special: &[i8]) -> Encoded {
        let n = special.len();
        if n == 0 || h.is_empty() {
            return Encoded::default();
        }
        let dim = h.len() / n;
        let rows = || h.chunks_exact(dim);
        let mut pooled: Vec<f64> = match self.pooling {
            Pooling::Mean => {
                let mut s = vec![0f64; dim];
                for r in rows() {
                    for (a, &v) in s.iter_mut().zip(r) {
                        *a += v as f64;
                    }
                }
                s.iter().map(|a| a / n as f64).collect()
            }
            Pooling::Cls => h[..dim].iter().map(|&v| v as f64).collect(),
            Pooling::Max => {
                let mut m = vec![f64::NEG_INFINITY; dim];
                for r in rows() {
                    for (a, &v) in m.iter_mut().zip(r) {
                        *a = a.max(v as f64);
                    }
                }
                m
            }
        };
        if self.normalize {
            let norm = pooled.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-12);
            pooled.iter_mut().for_each(|v| *v /= norm);
        }
        Encoded {
            tokens: kpeval::backend::TokenVectors {
                vectors: crate::packed::unit_rows(h, dim),
                special: special.iter().map(|&m| m != 0).collect(),
            },
            pooled: pooled.into_iter().map(|v| v as f32).collect(),
        }
    }

    /// Per text, the L2-normalized last-layer vectors of all its tokens with the special ones
    /// flagged (what BERTScore matches), each text run on its own (no padding).
    pub fn token_vectors(&self, texts: &[String]) -> Result<Vec<kpeval::backend::TokenVectors>> {
        Ok(self.encode(texts)?.into_iter().map(|e| e.tokens).collect())
    }

    /// Per text, the tokens that [`SentenceEmbedder::embed`] cuts to fit `max_len` (special
    /// tokens counted), and `max_len`.
    pub fn truncation(&self, texts: &[String]) -> (Vec<usize>, usize) {
        let enc =
            self.tokenizer.encode_list(texts, self.max_len, &TruncationStrategy::LongestFirst, 0);
        (enc.iter().map(|e| e.num_truncated_tokens).collect(), self.max_len)
    }

    /// Embeds texts; one vector per text, in order (pooled, normalized when the model says so;
    /// see [`SentenceEmbedder::encode`]). Errors when a forward pass fails.
    pub fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        Ok(self.encode(texts)?.into_iter().map(|e| e.pooled).collect())
    }
}
