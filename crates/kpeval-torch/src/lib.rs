//! kpeval's model runtime on rust-bert 0.23 / tch 0.17 (libtorch 2.4.0).
use kpeval::backend::{Backend, GenerationConfig, ModelMetricConfig};
use kpeval::error::{Error, Result};
use kpeval::scoring::{Metric, MetricKind};
use kpeval::summarize::{Summarizer, SummarizerSpec};

#[derive(Debug, Default)]
pub struct TorchBackend;

impl Backend for TorchBackend {
    fn summarizer(&self, spec: &SummarizerSpec, _gen: &GenerationConfig) -> Result<Box<dyn Summarizer>> {
        Err(Error::model(format!("summarizer {spec:?} is not available yet")))
    }
    fn metric(&self, kind: MetricKind, _cfg: &ModelMetricConfig) -> Result<std::result::Result<Box<dyn Metric>, String>> {
        let _ = tch::Device::Cpu;
        Ok(Err(format!("{kind} is not available yet")))
    }
}
