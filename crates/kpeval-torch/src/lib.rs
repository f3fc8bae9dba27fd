//! kpeval's model runtime on rust-bert 0.23 / tch 0.17 (libtorch 2.4.0): a [`TorchBackend`]
//! giving the kpeval library its seq2seq summarizers, sentence embeddings, BERTScore and NLI.
// `a = a + b` on tensors makes a new tensor; `a += b` writes into `a`'s storage, which may be
// shared with another tensor (views, cached weights): the two are not interchangeable here.
#![allow(clippy::assign_op_pattern)]
#![deny(missing_docs)]
#![deny(clippy::print_stdout, clippy::print_stderr)]
pub mod bert_family;
pub mod bertscore;
pub mod embed;
pub mod files;
pub mod hub;
pub mod nli;
pub mod packed;
pub mod pool;
pub mod presets;
pub mod revision;
pub mod runtime;
pub mod seq2seq;
pub mod torch_pickle;
pub mod weights;

pub use runtime::{device, runtime_tag, TORCH_VERSION};

use kpeval::backend::{Backend, Embedder, GenerationConfig, ModelMetricConfig};
use kpeval::error::{Error, Result};
use kpeval::models::{resolve, ModelSource};
use kpeval::scoring::{EmbeddingSimilarity, KpMetric, Metric, MetricKind, TokenAlignSimilarity};

/// Thresholded `kp_tok`: a key point counts as covered when its aligned pair's token F1 reaches this.
const KP_TOK_THRESHOLD: f64 = 0.7;
use kpeval::summarize::{Summarizer, SummarizerSpec};

/// The rust-bert/libtorch [`Backend`]: seq2seq summarizers, sentence embedders, BERTScore and
/// NLI models, loaded from the model store or the hub (never downloading when offline).
#[derive(Debug, Default)]
pub struct TorchBackend {
    /// `--offline`: no model file is downloaded (configs can also ask for it per model).
    offline: std::sync::atomic::AtomicBool,
}

impl TorchBackend {
    fn offline(&self, asked: bool) -> bool {
        asked || self.offline.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// One embedding model per (folder, device) is loaded per process and shared by every metric
/// that asks for it (kp, kp-tok, kp-cover, MMR), with one memo of what a text's forward pass
/// gives (token vectors and sentence vector together): each text is encoded on its own, so a
/// memoized value is the one it would compute, and a text needed by several metrics is encoded
/// once.
struct SharedEmbedder {
    model: embed::SentenceEmbedder,
    memo: kpeval::runtime::Memo<embed::Encoded>,
    name: String,
}

struct TorchEmbedder(std::sync::Arc<SharedEmbedder>);

impl TorchEmbedder {
    fn encoded(&self, texts: &[String]) -> Result<Vec<std::sync::Arc<embed::Encoded>>> {
        let refs: Vec<&str> = texts.iter().map(|t| t.as_str()).collect();
        self.0
            .memo
            .get_many(&refs, |missing| self.0.model.encode(missing).map_err(|e| e.to_string()))
            .map_err(Error::model)
    }
}

impl Embedder for TorchEmbedder {
    fn name(&self) -> String {
        self.0.name.clone()
    }
    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        Ok(self.encoded(texts)?.iter().map(|e| e.pooled.clone()).collect())
    }
    fn token_vectors(&self, texts: &[String]) -> Result<Vec<kpeval::backend::TokenVectors>> {
        Ok(self.encoded(texts)?.iter().map(|e| e.tokens.clone()).collect())
    }
    fn set_batch_size(&self, n: usize) {
        self.0.model.set_batch_size(n);
    }
    fn truncation(&self, texts: &[String]) -> Result<(Vec<usize>, usize)> {
        Ok(self.0.model.truncation(texts))
    }
}

/// Embedding models loaded in this process, by (folder, device).
type Registry = std::sync::Mutex<
    std::collections::HashMap<(std::path::PathBuf, String), std::sync::Arc<SharedEmbedder>>,
>;
static EMBEDDERS: std::sync::OnceLock<Registry> = std::sync::OnceLock::new();

struct TorchNli(std::sync::Arc<nli::NliModel>);

impl kpeval::backend::NliScorer for TorchNli {
    fn name(&self) -> String {
        self.0.name()
    }
    fn predict(&self, pairs: &[(String, String)]) -> Result<Vec<kpeval::backend::NliOutput>> {
        Ok(self
            .0
            .predict(pairs)?
            .into_iter()
            .map(|p| kpeval::backend::NliOutput {
                entailment: p.entailment,
                neutral: p.neutral,
                contradiction: p.contradiction,
                truncated: p.truncated,
            })
            .collect())
    }
}

impl Backend for TorchBackend {
    fn set_threads(&self, n: usize) {
        tch::set_num_threads(n.min(i32::MAX as usize) as i32);
        pool::set_workers(n);
    }
    fn set_offline(&self, offline: bool) {
        self.offline.store(offline, std::sync::atomic::Ordering::Relaxed);
    }
    fn nli(&self, model: &str, dev: &str) -> Result<Box<dyn kpeval::backend::NliScorer>> {
        let m = nli::NliModel::load_with(model, device(dev)?, self.offline(false))?;
        Ok(Box::new(TorchNli(std::sync::Arc::new(m))))
    }
    fn take_notes(&self) -> Vec<String> {
        hub::take_notes()
    }
    fn embedder(&self, model: &str, dev: &str) -> Result<Box<dyn Embedder>> {
        // A hub id: its sentence-transformers files fetched into a local folder.
        let source = match resolve(model)? {
            ModelSource::Hub(id) => {
                ModelSource::Local(hub::sentence_transformers_folder(&id, self.offline(false))?)
            }
            local => local,
        };
        match source {
            ModelSource::Local(dir) => {
                let key = (dir.clone(), dev.to_string());
                let mut loaded = EMBEDDERS.get_or_init(Default::default).lock().map_err(|_| Error::model("embedding model registry lock poisoned"))?;
                if let Some(shared) = loaded.get(&key) {
                    return Ok(Box::new(TorchEmbedder(shared.clone())));
                }
                let e = embed::SentenceEmbedder::load(&dir, device(dev)?)?;
                let pooling = format!("{:?}", e.pooling).to_lowercase();
                let name = format!("{}@{}({pooling},normalize={},max_len={},{})", e.name.to_lowercase(), e.revision, e.normalize, e.max_len, e.runtime());
                let shared = std::sync::Arc::new(SharedEmbedder { model: e, memo: kpeval::runtime::Memo::new(kpeval::runtime::MEMO_BUDGET), name });
                loaded.insert(key, shared.clone());
                Ok(Box::new(TorchEmbedder(shared)))
            }
            ModelSource::Hub(id) => Err(Error::model(format!(
                "embedding model '{id}': its sentence-transformers files were not fetched into a local folder (sentence_transformers_folder above turns every hub id into one)"
            ))),
        }
    }
    fn summarizer(
        &self,
        spec: &SummarizerSpec,
        gen: &GenerationConfig,
    ) -> Result<Box<dyn Summarizer>> {
        match spec {
            SummarizerSpec::Model(name) => seq2seq::load_summarizer(
                name,
                gen,
                self.offline(gen.offline) || seq2seq::offline_from_env(),
            ),
            SummarizerSpec::Mmr(k) => Ok(Box::new(kpeval::summarize::Mmr {
                k: *k,
                lambda: 0.7,
                embedder: self.embedder("all-MiniLM-L6-v2", &gen.device)?,
            })),
            other => {
                Err(Error::model(format!("summarizer {other:?} is not available in this build")))
            }
        }
    }
    fn metric(
        &self,
        kind: MetricKind,
        cfg: &ModelMetricConfig,
    ) -> Result<std::result::Result<Box<dyn Metric>, String>> {
        match kind {
            MetricKind::Kp => {
                let emb = self.embedder(&cfg.embedding_model, &cfg.device)?;
                Ok(Ok(Box::new(KpMetric {
                    field: "kp",
                    similarity: Box::new(EmbeddingSimilarity::new(emb)),
                    threshold: cfg.kp_threshold,
                })))
            }
            MetricKind::KpTok => {
                let emb = self.embedder(&cfg.embedding_model, &cfg.device)?;
                Ok(Ok(Box::new(KpMetric {
                    field: "kp_tok",
                    similarity: Box::new(TokenAlignSimilarity::new(emb)),
                    threshold: KP_TOK_THRESHOLD,
                })))
            }
            MetricKind::KpCover => {
                let emb = self.embedder(&cfg.embedding_model, &cfg.device)?;
                Ok(Ok(Box::new(kpeval::judge::KpCoverMetric::new(
                    emb,
                    kpeval::judge::CoverPreset::bundled(),
                    cfg.kp_cover_features,
                ))))
            }
            MetricKind::Nli => match &cfg.nli_model {
                None => Ok(Err("no NLI model given (--nli-model)".to_string())),
                Some(m) => {
                    let model = std::sync::Arc::new(nli::NliModel::load_with(
                        m,
                        device(&cfg.device)?,
                        self.offline(cfg.offline),
                    )?);
                    Ok(Ok(Box::new(nli::NliMetrics::new(model))))
                }
            },
            MetricKind::Bertscore => Ok(Ok(Box::new(bertscore::BertScoreMetric {
                scorer: bertscore::BertScorer::load_with(
                    bertscore::DEFAULT_MODEL,
                    bertscore::DEFAULT_LAYER,
                    false,
                    None,
                    device(&cfg.device)?,
                    self.offline(cfg.offline),
                )?,
            }))),
            other => Ok(Err(format!("{other} is not a model metric"))),
        }
    }
}
