//! kpeval's model runtime on rust-bert 0.23 / tch 0.17 (libtorch 2.4.0).
pub mod bertscore;
pub mod embed;
pub mod nli;
pub mod revision;
pub mod seq2seq;
pub mod torch_pickle;
pub mod weights;

use kpeval::backend::{Backend, Embedder, GenerationConfig, ModelMetricConfig};
use kpeval::error::{Error, Result};
use kpeval::models::{resolve, ModelSource};
use kpeval::scoring::{EmbeddingSimilarity, KpMetric, Metric, MetricKind, TokenAlignSimilarity};

/// Thresholded `kp_tok`: a key point counts as covered when its aligned pair's token F1 reaches this.
const KP_TOK_THRESHOLD: f64 = 0.7;
use kpeval::summarize::{Summarizer, SummarizerSpec};
use tch::Device;

#[derive(Debug, Default)]
pub struct TorchBackend;

/// libtorch version this crate links (tch 0.17 checks it at build time).
pub const TORCH_VERSION: &str = "2.4.0";

/// How a model runs, for signatures: libtorch version, device, and intra-op threads on CPU
/// (other thread counts can change results in the last digits).
pub fn runtime_tag(device: Device) -> String {
    match device {
        Device::Cpu => format!("torch-{TORCH_VERSION}/cpu/threads={}", tch::get_num_threads()),
        Device::Cuda(i) => format!("torch-{TORCH_VERSION}/cuda:{i}"),
        other => format!("torch-{TORCH_VERSION}/{other:?}").to_lowercase(),
    }
}

/// Parses `--device`.
pub fn device(name: &str) -> Result<Device> {
    match name {
        "cpu" => Ok(Device::Cpu),
        "cuda" => {
            if tch::Cuda::is_available() {
                Ok(Device::Cuda(0))
            } else {
                Err(Error::config("--device cuda: no CUDA device is available"))
            }
        }
        d if d.starts_with("cuda:") => {
            let i = d[5..].parse::<usize>().map_err(|_| Error::config(format!("--device {d}: bad index")))?;
            let n = if tch::Cuda::is_available() { tch::Cuda::device_count().max(0) as usize } else { 0 };
            if i >= n {
                return Err(Error::config(format!("--device {d}: {}", if n == 0 { "no CUDA device is available".to_string() } else { format!("this machine has {n} CUDA device(s) (cuda:0..cuda:{})", n - 1) })));
            }
            Ok(Device::Cuda(i))
        }
        other => Err(Error::config(format!("--device {other}: expected cpu, cuda or cuda:N"))),
    }
}

/// Tensors are Send but not Sync: the model is used behind a lock (one forward pass at a time;
/// libtorch parallelizes inside it).
struct TorchEmbedder {
    inner: std::sync::Mutex<embed::SentenceEmbedder>,
    name: String,
}

impl Embedder for TorchEmbedder {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        self.inner.lock().map_err(|_| Error::model("embedding model lock poisoned"))?.embed(texts)
    }
    fn token_vectors(&self, texts: &[String]) -> Result<Vec<kpeval::backend::TokenVectors>> {
        self.inner.lock().map_err(|_| Error::model("embedding model lock poisoned"))?.token_vectors(texts)
    }
    fn set_batch_size(&self, n: usize) {
        if let Ok(mut e) = self.inner.lock() {
            e.batch_size = n.max(1);
        }
    }
    fn truncation(&self, texts: &[String]) -> Result<(Vec<usize>, usize)> {
        Ok(self.inner.lock().map_err(|_| Error::model("embedding model lock poisoned"))?.truncation(texts))
    }
}

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
            .map(|p| kpeval::backend::NliOutput { entailment: p.entailment, neutral: p.neutral, contradiction: p.contradiction, truncated: p.truncated })
            .collect())
    }
}

impl Backend for TorchBackend {
    fn set_threads(&self, n: usize) {
        tch::set_num_threads(n.min(i32::MAX as usize) as i32);
    }
    fn nli(&self, model: &str, dev: &str) -> Result<Box<dyn kpeval::backend::NliScorer>> {
        Ok(Box::new(TorchNli(std::sync::Arc::new(nli::NliModel::load(model, device(dev)?)?))))
    }
    fn embedder(&self, model: &str, dev: &str) -> Result<Box<dyn Embedder>> {
        match resolve(model)? {
            ModelSource::Local(dir) => {
                let e = embed::SentenceEmbedder::load(&dir, device(dev)?)?;
                let pooling = format!("{:?}", e.pooling).to_lowercase();
                let name = format!("{}@{}({pooling},normalize={},max_len={},{})", e.name.to_lowercase(), e.revision, e.normalize, e.max_len, runtime_tag(e.device()));
                Ok(Box::new(TorchEmbedder { inner: std::sync::Mutex::new(e), name }))
            }
            ModelSource::Hub(id) => Err(Error::model(format!(
                "embedding model '{id}': hub download of sentence-transformers models is not supported yet; pass a local folder (save_pretrained layout)"
            ))),
        }
    }
    fn summarizer(&self, spec: &SummarizerSpec, gen: &GenerationConfig) -> Result<Box<dyn Summarizer>> {
        match spec {
            SummarizerSpec::Model(name) => seq2seq::load_summarizer(name, gen, seq2seq::offline_from_env()),
            SummarizerSpec::Mmr(k) => Ok(Box::new(kpeval::summarize::Mmr { k: *k, lambda: 0.7, embedder: self.embedder("all-MiniLM-L6-v2", &gen.device)? })),
            other => Err(Error::model(format!("summarizer {other:?} is not available in this build"))),
        }
    }
    fn metric(&self, kind: MetricKind, cfg: &ModelMetricConfig) -> Result<std::result::Result<Box<dyn Metric>, String>> {
        match kind {
            MetricKind::Kp => {
                let emb = self.embedder(&cfg.embedding_model, &cfg.device)?;
                Ok(Ok(Box::new(KpMetric { field: "kp", similarity: Box::new(EmbeddingSimilarity::new(emb)), threshold: cfg.kp_threshold })))
            }
            MetricKind::KpTok => {
                let emb = self.embedder(&cfg.embedding_model, &cfg.device)?;
                Ok(Ok(Box::new(KpMetric { field: "kp_tok", similarity: Box::new(TokenAlignSimilarity::new(emb)), threshold: KP_TOK_THRESHOLD })))
            }
            MetricKind::KpCover => {
                let emb = self.embedder(&cfg.embedding_model, &cfg.device)?;
                Ok(Ok(Box::new(kpeval::judge::KpCoverMetric::new(emb, kpeval::judge::CoverPreset::bundled(), cfg.kp_cover_features))))
            }
            MetricKind::Nli => match &cfg.nli_model {
                None => Ok(Err("no NLI model given (--nli-model)".to_string())),
                Some(m) => {
                    let model = std::sync::Arc::new(nli::NliModel::load(m, device(&cfg.device)?)?);
                    Ok(Ok(Box::new(nli::NliMetrics::new(model))))
                }
            },
            MetricKind::Bertscore => Ok(Ok(Box::new(bertscore::BertScoreMetric {
                scorer: bertscore::BertScorer::load(bertscore::DEFAULT_MODEL, bertscore::DEFAULT_LAYER, false, None, device(&cfg.device)?)?,
            }))),
            other => Ok(Err(format!("{other} is not a model metric"))),
        }
    }
}
