//! Abstractive summarization with rust-bert's generators: BART / DistilBART, T5 / Flan-T5,
//! Pegasus and LongT5.
//!
//! A model is a preset name (models/presets.toml), a local folder (transformers
//! `save_pretrained` layout with `model.safetensors`, or a rust-bert folder with
//! `rust_model.ot`), or a hub id fetched through rust-bert's `RemoteResource` cache.
//! Safetensors weights are renamed to rust-bert's variable names in memory at load time.
//!
//! Generation settings, in order of precedence: the command line ([`GenerationConfig`]), the
//! preset, the config's `task_specific_params.summarization`, `generation_config.json` (else
//! the generation fields of `config.json`), transformers' defaults.
//!
//! Sources longer than the model's context are never truncated: they are split on sentence
//! boundaries into chunks that fit (one sentence of overlap), each chunk is summarized, and the
//! chunk summaries are concatenated (`LongMerge::Concat`) or summarized again, pass after pass
//! until they fit the context (`LongMerge::SecondPass`); the summary's notes say so.
//!
//! Parity with transformers 4.46 `generate` is tested on tiny random models of every
//! architecture (crates/kpeval-torch/tests/seq2seq_parity.rs). Known departures (rust-bert 0.23
//! limitations; the test reproduces the beam normalization and Pegasus' fp16 positions in
//! transformers, to tell them from bugs):
//! - beam search, when `max_length` stops open beams: rust-bert normalizes their scores by the
//!   length including the decoder start token, transformers by the generated length, so the
//!   ranking between those and earlier-finished hypotheses can differ when length_penalty != 0;
//! - Pegasus: rust-bert's generator has no forced EOS; it is emulated here by allowing only EOS
//!   at the last step (exact for greedy; in beam search that last EOS keeps its log-probability
//!   where transformers sets it to 0); its sinusoidal position table is rounded to fp16;
//! - BART: rust-bert has no `final_logits_bias` and always ties the LM head to the embeddings, so
//!   a checkpoint with a non-zero bias or an untied head is refused rather than run differently;
//! - `length_penalty` must be > 0, and `early_stopping = "never"` is read as false.
use kpeval::backend::{GenerationConfig, LongMerge};
use kpeval::error::{Error, RecordError, Result};
use kpeval::keypoints::split_sentences;
use kpeval::models::{resolve, ModelSource};
use kpeval::summarize::{SourceText, Summarizer, Summary};
use rust_bert::bart::{BartConfig, BartGenerator};
use rust_bert::longt5::{LongT5Config, LongT5Generator};
use rust_bert::pegasus::{PegasusConditionalGenerator, PegasusConfig};
use rust_bert::pipelines::common::{ModelResource, ModelType, TokenizerOption};
use rust_bert::pipelines::generation_utils::{
    GenerateConfig, GenerateOptions, GeneratedIndicesOutput, LanguageGenerator,
};
use rust_bert::resources::{LocalResource, RemoteResource, ResourceProvider};
use rust_bert::t5::{T5Config, T5Generator};
use rust_bert::RustBertError;
use rust_tokenizers::tokenizer::{Tokenizer, TruncationStrategy};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tch::{Device, Kind, Tensor};

/// The preset registry, compiled in.
const PRESETS_TOML: &str = include_str!("../../../models/presets.toml");

/// Builds a summarizer for a preset name, local folder or hub id.
pub fn load_summarizer(
    name: &str,
    gen: &GenerationConfig,
    offline: bool,
) -> Result<Box<dyn Summarizer>> {
    Ok(Box::new(Seq2SeqSummarizer::load(name, gen, offline)?))
}

/// Whether hub downloads are switched off by the environment (`KPEVAL_OFFLINE` or
/// `HF_HUB_OFFLINE` set to 1/true/yes).
pub fn offline_from_env() -> bool {
    ["KPEVAL_OFFLINE", "HF_HUB_OFFLINE"].iter().any(|k| {
        std::env::var(k)
            .map(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"))
            .unwrap_or(false)
    })
}

// ---------------------------------------------------------------------------------------------
// Presets

/// One entry of models/presets.toml.
#[derive(Debug, Clone, Deserialize)]
pub struct Preset {
    pub name: String,
    pub architecture: String,
    pub hub_id: String,
    pub revision: String,
    pub license: String,
    #[serde(default)]
    pub weights: Option<String>,
    #[serde(default)]
    pub max_input_tokens: Option<usize>,
    #[serde(default)]
    pub prefix: Option<String>,
    #[serde(default)]
    pub generation: PresetGeneration,
}

/// A preset's default generation settings (transformers' names).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PresetGeneration {
    pub num_beams: Option<usize>,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub no_repeat_ngram_size: Option<usize>,
    pub length_penalty: Option<f64>,
    pub early_stopping: Option<bool>,
}

#[derive(Deserialize)]
struct PresetFile {
    preset: Vec<Preset>,
}

/// All presets of models/presets.toml.
pub fn presets() -> Result<Vec<Preset>> {
    let f: PresetFile = toml::from_str(PRESETS_TOML)
        .map_err(|e| Error::config(format!("models/presets.toml: {e}")))?;
    Ok(f.preset)
}

/// The preset named `name` (its name or its hub id).
pub fn find_preset(name: &str) -> Result<Option<Preset>> {
    Ok(presets()?.into_iter().find(|p| p.name == name || p.hub_id.eq_ignore_ascii_case(name)))
}

// ---------------------------------------------------------------------------------------------
// Where the files come from

/// A model's files: a local folder or a hub repository (through rust-bert's cache).
enum Files {
    Local(PathBuf),
    Hub { id: String, revision: String, offline: bool },
}

impl Files {
    fn describe(&self) -> String {
        match self {
            Files::Local(d) => d.display().to_string(),
            Files::Hub { id, revision, .. } => format!("{id}@{revision}"),
        }
    }

    /// The local path of `file`; Ok(None) when it does not exist (local) or cannot be had
    /// (hub), with the reason kept in `why`.
    fn get(&self, file: &str, why: &mut Vec<String>) -> Option<PathBuf> {
        match self {
            Files::Local(dir) => {
                let p = dir.join(file);
                if p.is_file() {
                    Some(p)
                } else {
                    why.push(format!("{}: missing {file}", dir.display()));
                    None
                }
            }
            Files::Hub { id, revision, offline } => match hub_fetch(id, revision, file, *offline) {
                Ok(p) => Some(p),
                Err(e) => {
                    why.push(format!("{id}@{revision}: {e}"));
                    None
                }
            },
        }
    }

    fn need(&self, file: &str) -> Result<PathBuf> {
        let mut why = Vec::new();
        self.get(file, &mut why).ok_or_else(|| Error::model(why.join("; ")))
    }
}

/// A file of a hub repository at a revision, through rust-bert's download cache
/// (`<cache>/kpeval/<owner--name>/<revision>/`); offline, only what that cache already holds.
/// A stalled connection fails after `KPEVAL_HUB_TIMEOUT` seconds (vendored rust-bert patch 11).
pub(crate) fn hub_fetch(
    id: &str,
    revision: &str,
    file: &str,
    offline: bool,
) -> std::result::Result<PathBuf, String> {
    let url = format!("https://huggingface.co/{id}/resolve/{revision}/{file}");
    let subdir = format!("kpeval/{}/{revision}", id.replace('/', "--"));
    if offline {
        cached_offline(&url, &subdir).ok_or_else(|| {
            format!("{file} is not in the rust-bert cache ({}) and downloads are off (--offline / KPEVAL_OFFLINE)", rustbert_cache_dir().join(&subdir).display())
        })
    } else {
        RemoteResource::new(&url, &subdir)
            .get_local_path()
            .map_err(|e| format!("could not fetch {file} ({url}): {e}"))
    }
}

/// rust-bert's download cache: `$RUSTBERT_CACHE`, else `<cache dir>/.rustbert`.
fn rustbert_cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("RUSTBERT_CACHE") {
        return PathBuf::from(d);
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    base.join(".rustbert")
}

/// A file that rust-bert's cache (cached-path layout: `<subdir>/<sha256(url)>.<sha256(etag)>`
/// with a `.meta` beside it) already holds, without any network access.
fn cached_offline(url: &str, subdir: &str) -> Option<PathBuf> {
    let dir = rustbert_cache_dir().join(subdir);
    let hash = hex_sha256(url.as_bytes());
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let stem = name.strip_suffix(".meta")?;
            if !stem.starts_with(&hash) {
                return None;
            }
            let data = dir.join(stem);
            let t = data.metadata().ok()?.modified().ok()?;
            data.is_file().then_some((t, data))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, p)| p)
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text)
        .map_err(|e| Error::Json { context: path.display().to_string(), source: e })
}

// ---------------------------------------------------------------------------------------------
// Architectures

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    Bart,
    T5,
    Pegasus,
    LongT5,
}

impl Arch {
    fn from_model_type(t: &str) -> Option<Arch> {
        match t {
            "bart" => Some(Arch::Bart),
            "t5" => Some(Arch::T5),
            "pegasus" => Some(Arch::Pegasus),
            "longt5" => Some(Arch::LongT5),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Arch::Bart => "bart",
            Arch::T5 => "t5",
            Arch::Pegasus => "pegasus",
            Arch::LongT5 => "longt5",
        }
    }
    fn model_type(self) -> ModelType {
        match self {
            Arch::Bart => ModelType::Bart,
            Arch::T5 => ModelType::T5,
            Arch::Pegasus => ModelType::Pegasus,
            Arch::LongT5 => ModelType::LongT5,
        }
    }
    fn sentencepiece(self) -> bool {
        !matches!(self, Arch::Bart)
    }
}

/// The generator, one per architecture.
enum Gen {
    Bart(BartGenerator),
    T5(T5Generator),
    Pegasus(PegasusConditionalGenerator),
    LongT5(LongT5Generator),
}

impl Gen {
    fn tokenizer(&self) -> &TokenizerOption {
        match self {
            Gen::Bart(g) => g.get_tokenizer(),
            Gen::T5(g) => g.get_tokenizer(),
            Gen::Pegasus(g) => g.get_tokenizer(),
            Gen::LongT5(g) => g.get_tokenizer(),
        }
    }
    fn generate(
        &self,
        ids: Tensor,
        mask: Tensor,
        opts: GenerateOptions,
    ) -> std::result::Result<Vec<GeneratedIndicesOutput>, RustBertError> {
        match self {
            Gen::Bart(g) => g.generate_from_ids_and_past(ids, Some(mask), Some(opts)),
            Gen::T5(g) => g.generate_from_ids_and_past(ids, Some(mask), Some(opts)),
            Gen::Pegasus(g) => g.generate_from_ids_and_past(ids, Some(mask), Some(opts)),
            Gen::LongT5(g) => g.generate_from_ids_and_past(ids, Some(mask), Some(opts)),
        }
    }
}

/// Effective generation settings (transformers' names and meanings).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub num_beams: usize,
    pub min_length: usize,
    pub max_length: usize,
    pub no_repeat_ngram_size: usize,
    pub length_penalty: f64,
    pub early_stopping: bool,
    pub do_sample: bool,
    pub seed: u64,
    /// How a long source's chunk summaries become its summary.
    pub long_merge: LongMerge,
}

/// Most summarization passes over one source with `--long-merge second-pass` (each pass
/// summarizes the previous pass's chunk summaries; in practice two or three suffice).
const MAX_PASSES: usize = 8;

/// A source split into model inputs that fit the context (see [`Seq2SeqSummarizer::plan`]).
struct Plan {
    texts: Vec<String>,
    ids: Vec<Vec<i64>>,
    /// Tokens of the whole (normalized) text with the prefix and special tokens.
    tokens: usize,
    /// Sentences longer than the context, split at words.
    split_long: usize,
}

/// Token ids of the model (after merging generation_config.json into config.json).
#[derive(Debug, Clone, Copy)]
struct TokenIds {
    eos: i64,
    pad: i64,
    forced_bos: Option<i64>,
    forced_eos: Option<i64>,
}

/// A seq2seq summarizer. The generator is used behind a lock (tensors are not Sync).
pub struct Seq2SeqSummarizer {
    inner: Mutex<Gen>,
    name: String,
    revision: String,
    pub arch: Arch,
    pub settings: Settings,
    /// Largest tokenized input (special tokens included) the model takes.
    pub max_input_tokens: usize,
    /// Prepended to every source (T5: `summarize: `).
    pub prefix: String,
    device: Device,
    ids: TokenIds,
    vocab_size: i64,
    clean_up_spaces: bool,
    /// Sequences generated together at most (a batch of records may have more chunks).
    pub batch_size: usize,
    stats: Mutex<kpeval::summarize::GenerationStats>,
    /// Whether the warm-up before the first batch has run (see [`Self::warm_up`]).
    warmed: std::sync::atomic::AtomicBool,
}

/// One generated sequence: ids without the decoder start token, cut after the first EOS, and
/// the beam score when asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    pub ids: Vec<i64>,
    pub score: Option<f64>,
}

fn opt_usize(v: &Value, k: &str) -> Option<usize> {
    v.get(k).and_then(|x| x.as_u64()).map(|x| x as usize)
}
fn opt_f64(v: &Value, k: &str) -> Option<f64> {
    v.get(k).and_then(|x| x.as_f64())
}
fn opt_bool(v: &Value, k: &str) -> Option<bool> {
    match v.get(k) {
        Some(Value::Bool(b)) => Some(*b),
        // transformers' "never" (beam search never stops early on the heuristic): rust-bert has
        // only true/false.
        Some(Value::String(s)) if s == "never" => Some(false),
        _ => None,
    }
}
/// A token id that may be written as a list (take the first).
fn opt_id(v: &Value, k: &str) -> Option<i64> {
    match v.get(k) {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::Array(a)) => a.first().and_then(|x| x.as_i64()),
        _ => None,
    }
}

/// A writer into a shared buffer (tch's stream writer must own a 'static writer).
/// A checkpoint's tensors under rust-bert's variable names: views into the memory-mapped
/// safetensors files (no copy until they are copied into the model's variables).
struct MappedWeights {
    /// Declared before `_files`: the views must be dropped before the mappings.
    tensors: BTreeMap<String, Tensor>,
    _files: Vec<crate::weights::MappedFile>,
}

// SAFETY: the tensors are read-only views of the mappings owned alongside them; they are only
// read (copied from), one thread at a time behind the resource's mutex.
unsafe impl Send for MappedWeights {}

/// Maps safetensors files and renames their tensors to rust-bert's variable names (the weights
/// are then copied once, straight from the page cache into the model: see [`FillResource`]).
fn map_checkpoint(
    files: &[PathBuf],
    arch: Arch,
    config: &Value,
    folder: &str,
) -> Result<MappedWeights> {
    let mut map: BTreeMap<String, Tensor> = BTreeMap::new();
    let mut mapped = Vec::with_capacity(files.len());
    for f in files {
        let (file, tensors) = crate::weights::map_weights_file(f)?;
        for (k, t) in tensors {
            let mut k = k;
            if let Some(s) = k.strip_suffix(".gamma") {
                k = format!("{s}.weight");
            } else if let Some(s) = k.strip_suffix(".beta") {
                k = format!("{s}.bias");
            }
            map.insert(k, t);
        }
        mapped.push(file);
    }
    let first = |map: &BTreeMap<String, Tensor>, names: &[&str]| {
        names.iter().find_map(|n| map.get(*n).map(|t| t.shallow_clone()))
    };
    let same = |a: &Tensor, b: &Tensor| {
        a.size() == b.size()
            && if a.kind() == b.kind() {
                a.equal(b)
            } else {
                a.to_kind(Kind::Float).equal(&b.to_kind(Kind::Float))
            }
    };
    let vocab = config.get("vocab_size").and_then(|v| v.as_i64()).unwrap_or(0);
    match arch {
        Arch::Bart | Arch::Pegasus => {
            // Checkpoints saved from the bare model have no `model.` prefix.
            let bare: Vec<String> = map
                .keys()
                .filter(|k| {
                    k.starts_with("encoder.")
                        || k.starts_with("decoder.")
                        || k.starts_with("shared.")
                })
                .cloned()
                .collect();
            for k in bare {
                if let Some(t) = map.remove(&k) {
                    map.entry(format!("model.{k}")).or_insert(t);
                }
            }
            let shared = first(
                &map,
                &[
                    "model.shared.weight",
                    "model.encoder.embed_tokens.weight",
                    "model.decoder.embed_tokens.weight",
                    "lm_head.weight",
                ],
            )
            .ok_or_else(|| {
                Error::model(format!(
                    "{folder}: the weights have no token embeddings (model.shared.weight)"
                ))
            })?;
            if let Some(head) = map.get("lm_head.weight") {
                if !same(head, &shared) {
                    return Err(Error::model(format!(
                        "{folder}: lm_head.weight differs from the token embeddings; rust-bert's {} ties them, so this checkpoint cannot be run faithfully",
                        arch.as_str()
                    )));
                }
            }
            map.insert("model.shared.weight".into(), shared);
            if arch == Arch::Bart {
                if let Some(b) = map.get("final_logits_bias") {
                    if b.abs().max().double_value(&[]) != 0.0 {
                        return Err(Error::model(format!(
                            "{folder}: final_logits_bias is not zero; rust-bert's BART has no such bias, so this checkpoint cannot be run faithfully"
                        )));
                    }
                }
            } else if !map.contains_key("final_logits_bias") {
                map.insert(
                    "final_logits_bias".into(),
                    Tensor::zeros([1, vocab], (Kind::Float, Device::Cpu)),
                );
            }
        }
        Arch::T5 | Arch::LongT5 => {
            let prefixed: Vec<String> =
                map.keys().filter(|k| k.starts_with("model.")).cloned().collect();
            for k in prefixed {
                if let Some(t) = map.remove(&k) {
                    map.entry(k["model.".len()..].to_string()).or_insert(t);
                }
            }
            let shared = first(
                &map,
                &["shared.weight", "encoder.embed_tokens.weight", "decoder.embed_tokens.weight"],
            )
            .ok_or_else(|| {
                Error::model(format!(
                    "{folder}: the weights have no token embeddings (shared.weight)"
                ))
            })?;
            map.insert("shared.weight".into(), shared.shallow_clone());
            let tied = config.get("tie_word_embeddings").and_then(|v| v.as_bool()).unwrap_or(true);
            if tied {
                if let Some(head) = map.get("lm_head.weight") {
                    if !same(head, &shared) {
                        return Err(Error::model(format!(
                            "{folder}: tie_word_embeddings is true but lm_head.weight differs from shared.weight"
                        )));
                    }
                }
            } else if !map.contains_key("lm_head.weight") {
                return Err(Error::model(format!(
                    "{folder}: tie_word_embeddings is false but the weights have no lm_head.weight"
                )));
            }
        }
    }
    Ok(MappedWeights { tensors: map, _files: mapped })
}

type FillFn =
    dyn Fn(&mut tch::nn::VarStore) -> std::result::Result<(), RustBertError> + Send + Sync;

/// A model resource that copies mapped weights into rust-bert's variables (vendored rust-bert
/// patch: `Resource::Fill`), with what `VarStore::load` does per variable: the variable takes
/// the checkpoint's dtype, then its values. A variable the checkpoint lacks is an error.
struct FillResource {
    fill: Box<FillFn>,
}

impl std::fmt::Debug for FillResource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FillResource")
    }
}

impl FillResource {
    fn new(weights: MappedWeights, folder: String) -> FillResource {
        let weights = Mutex::new(Some(weights));
        let fill = move |vs: &mut tch::nn::VarStore| -> std::result::Result<(), RustBertError> {
            let mut guard = weights
                .lock()
                .map_err(|_| RustBertError::ValueError("weights lock poisoned".into()))?;
            let w = guard.take().ok_or_else(|| {
                RustBertError::ValueError("the mapped weights were already used".into())
            })?;
            let _no_grad = tch::no_grad_guard();
            for (name, mut var) in vs.variables() {
                let src = w.tensors.get(&name).ok_or_else(|| {
                    RustBertError::ValueError(format!(
                        "{folder}: the weights have no tensor '{name}'"
                    ))
                })?;
                if var.size() != src.size() {
                    return Err(RustBertError::ValueError(format!(
                        "{folder}: tensor '{name}' has shape {:?}, the model expects {:?}",
                        src.size(),
                        var.size()
                    )));
                }
                if var.kind() != src.kind() {
                    var.set_data(&var.to_kind(src.kind()));
                }
                var.f_copy_(src).map_err(|e| {
                    RustBertError::ValueError(format!("{folder}: tensor '{name}': {e}"))
                })?;
            }
            // Inference only: no parameter needs a gradient, so no autograd graph is recorded
            // even where a forward pass runs outside `no_grad`.
            vs.freeze();
            Ok(())
        };
        FillResource { fill: Box::new(fill) }
    }
}

impl ResourceProvider for FillResource {
    fn get_local_path(&self) -> std::result::Result<PathBuf, RustBertError> {
        Err(RustBertError::ValueError("mapped weights have no single local path".into()))
    }
    fn get_resource(
        &self,
    ) -> std::result::Result<rust_bert::resources::Resource<'_>, RustBertError> {
        Ok(rust_bert::resources::Resource::Fill(&*self.fill))
    }
}

/// Checks that rust-bert's config struct reads `cfg` (its `from_file` panics otherwise) and
/// returns the config to hand it, with fields it cannot read removed where that is harmless.
fn validate_config(arch: Arch, mut cfg: Value, folder: &str) -> Result<Value> {
    fn check<T: for<'de> Deserialize<'de>>(v: &Value) -> std::result::Result<(), String> {
        serde_json::from_value::<T>(v.clone()).map(|_| ()).map_err(|e| e.to_string())
    }
    let run = |v: &Value| match arch {
        Arch::Bart => check::<BartConfig>(v),
        Arch::T5 => check::<T5Config>(v),
        Arch::Pegasus => check::<PegasusConfig>(v),
        Arch::LongT5 => check::<LongT5Config>(v),
    };
    if let Err(first) = run(&cfg) {
        // rust-bert's T5 task_specific_params wants summarization and three translation
        // entries; fine-tuned models often have only some. kpeval reads them itself.
        let removed = cfg.as_object_mut().and_then(|o| o.remove("task_specific_params")).is_some();
        if !removed || run(&cfg).is_err() {
            return Err(Error::model(format!(
                "{folder}/config.json: rust-bert's {} config cannot read it: {first}",
                arch.as_str()
            )));
        }
    }
    if matches!(arch, Arch::T5) {
        let layers = opt_usize(&cfg, "num_layers");
        let dec = opt_usize(&cfg, "num_decoder_layers");
        if dec.is_some() && dec != layers {
            return Err(Error::model(format!(
                "{folder}/config.json: num_decoder_layers ({}) differs from num_layers ({}); rust-bert's T5 has one layer count",
                dec.unwrap_or(0),
                layers.unwrap_or(0)
            )));
        }
    }
    Ok(cfg)
}

/// Writes a config for rust-bert to read, content-addressed in the temp directory.
fn write_config(cfg: &Value) -> Result<PathBuf> {
    let text = serde_json::to_string_pretty(cfg)
        .map_err(|e| Error::Json { context: "model config".into(), source: e })?;
    let dir = std::env::temp_dir().join("kpeval-seq2seq-configs");
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let path = dir.join(format!("{}.json", &hex_sha256(text.as_bytes())[..16]));
    if !path.is_file() {
        let tmp = dir.join(format!(
            ".{}.{}",
            std::process::id(),
            path.file_name().and_then(|n| n.to_str()).unwrap_or("config.json")
        ));
        std::fs::write(&tmp, &text).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
    }
    Ok(path)
}

impl Seq2SeqSummarizer {
    /// Loads a preset, local folder or hub id (see the module docs).
    pub fn load(name: &str, gen: &GenerationConfig, offline: bool) -> Result<Self> {
        let device = crate::device(&gen.device)?;
        let as_dir = Path::new(name);
        let mut preset = if as_dir.is_dir() { None } else { find_preset(name)? };
        let files = if as_dir.is_dir() {
            // A store folder named after a preset takes that preset's defaults.
            let dir_name =
                as_dir.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
            preset = presets()?.into_iter().find(|p| p.name == dir_name);
            Files::Local(as_dir.to_path_buf())
        } else if let Some(p) = &preset {
            let short = p.hub_id.rsplit('/').next().unwrap_or(&p.hub_id).to_string();
            match [p.name.as_str(), short.as_str()].iter().find_map(|n| match resolve(n) {
                Ok(ModelSource::Local(d)) => Some(d),
                _ => None,
            }) {
                Some(d) => Files::Local(d),
                None => Files::Hub { id: p.hub_id.clone(), revision: p.revision.clone(), offline },
            }
        } else {
            match resolve(name)? {
                ModelSource::Local(d) => Files::Local(d),
                ModelSource::Hub(id) => Files::Hub { id, revision: "main".into(), offline },
            }
        };
        let display_name = match (&preset, &files) {
            (Some(p), _) => p.name.clone(),
            (None, Files::Local(d)) => d
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_else(|| name.to_string()),
            (None, Files::Hub { id, .. }) => id.rsplit('/').next().unwrap_or(id).to_string(),
        };
        let hub = matches!(files, Files::Hub { .. }) && preset.is_none();
        Self::load_files(files, display_name, preset, gen, device).map_err(|e| match e {
            Error::Model(m) if hub => {
                Error::Model(format!("{m}{}", kpeval::models::path_hint(name)))
            }
            other => other,
        })
    }

    fn load_files(
        files: Files,
        name: String,
        preset: Option<Preset>,
        gen: &GenerationConfig,
        device: Device,
    ) -> Result<Self> {
        let folder = files.describe();
        let config_path = files.need("config.json")?;
        let mut config = read_json(&config_path)?;
        let mut why = Vec::new();
        // Every file read besides the weights: their digest joins the revision in the signature
        // (and so the summary cache key), since each can change the output.
        let mut read_files: Vec<PathBuf> = vec![config_path.clone()];
        let gen_config_path = files.get("generation_config.json", &mut why);
        let tok_config_path = files.get("tokenizer_config.json", &mut why);
        read_files.extend(gen_config_path.iter().chain(tok_config_path.iter()).cloned());
        let gen_config = gen_config_path.map(|p| read_json(&p)).transpose()?;
        let tok_config = tok_config_path.map(|p| read_json(&p)).transpose()?;

        let model_type =
            config.get("model_type").and_then(|v| v.as_str()).unwrap_or("").to_string();
        let arch = Arch::from_model_type(&model_type)
            .or_else(|| preset.as_ref().and_then(|p| Arch::from_model_type(&p.architecture)))
            .ok_or_else(|| {
                Error::model(format!("{folder}/config.json: model_type '{model_type}' is not a supported summarizer (bart, t5, pegasus, longt5)"))
            })?;

        // Token ids: generation_config.json wins over config.json (as in transformers).
        if let (Some(gc), Some(obj)) = (&gen_config, config.as_object_mut()) {
            for k in [
                "bos_token_id",
                "eos_token_id",
                "pad_token_id",
                "decoder_start_token_id",
                "forced_bos_token_id",
                "forced_eos_token_id",
            ] {
                if let Some(v) = gc.get(k) {
                    obj.insert(k.to_string(), v.clone());
                }
            }
        }
        // rust-bert reads single ids.
        if let Some(obj) = config.as_object_mut() {
            for k in [
                "bos_token_id",
                "eos_token_id",
                "pad_token_id",
                "decoder_start_token_id",
                "forced_bos_token_id",
                "forced_eos_token_id",
            ] {
                if let Some(Value::Array(a)) = obj.get(k) {
                    let v = a.first().cloned().unwrap_or(Value::Null);
                    obj.insert(k.to_string(), v);
                }
            }
        }
        let task = config.get("task_specific_params").and_then(|t| t.get("summarization")).cloned();
        let config = validate_config(arch, config, &folder)?;
        let rb_config_path = write_config(&config)?;

        let (def_eos, def_pad) = match arch {
            Arch::Bart => (2, 1),
            _ => (1, 0),
        };
        let ids = TokenIds {
            eos: opt_id(&config, "eos_token_id").unwrap_or(def_eos),
            pad: opt_id(&config, "pad_token_id").unwrap_or(def_pad),
            forced_bos: opt_id(&config, "forced_bos_token_id"),
            forced_eos: opt_id(&config, "forced_eos_token_id"),
        };
        let vocab_size = config.get("vocab_size").and_then(|v| v.as_i64()).unwrap_or(0);

        // Generation settings.
        let pg = preset.as_ref().map(|p| p.generation.clone()).unwrap_or_default();
        let model_gen = gen_config.clone().unwrap_or_else(|| config.clone());
        let empty = Value::Null;
        let task_v = task.as_ref().unwrap_or(&empty);
        let settings = Settings {
            num_beams: gen
                .num_beams
                .or(pg.num_beams)
                .or(opt_usize(task_v, "num_beams"))
                .or(opt_usize(&model_gen, "num_beams"))
                .unwrap_or(1),
            min_length: gen
                .min_length
                .or(pg.min_length)
                .or(opt_usize(task_v, "min_length"))
                .or(opt_usize(&model_gen, "min_length"))
                .unwrap_or(0),
            max_length: gen
                .max_length
                .or(pg.max_length)
                .or(opt_usize(task_v, "max_length"))
                .or(opt_usize(&model_gen, "max_length"))
                .unwrap_or(20),
            no_repeat_ngram_size: gen
                .no_repeat_ngram_size
                .or(pg.no_repeat_ngram_size)
                .or(opt_usize(task_v, "no_repeat_ngram_size"))
                .or(opt_usize(&model_gen, "no_repeat_ngram_size"))
                .unwrap_or(0),
            length_penalty: gen
                .length_penalty
                .or(pg.length_penalty)
                .or(opt_f64(task_v, "length_penalty"))
                .or(opt_f64(&model_gen, "length_penalty"))
                .unwrap_or(1.0),
            early_stopping: gen
                .early_stopping
                .or(pg.early_stopping)
                .or(opt_bool(task_v, "early_stopping"))
                .or(opt_bool(&model_gen, "early_stopping"))
                .unwrap_or(false),
            do_sample: gen.do_sample,
            seed: gen.seed,
            long_merge: gen.long_merge,
        };
        if settings.num_beams == 0 {
            return Err(Error::config("num_beams must be at least 1"));
        }
        if settings.length_penalty.is_nan() || settings.length_penalty <= 0.0 {
            return Err(Error::config(format!(
                "length_penalty {}: rust-bert's generation needs a positive length penalty",
                settings.length_penalty
            )));
        }
        if settings.max_length < 2 {
            return Err(Error::config(format!(
                "max_length {} leaves no room for a generated token",
                settings.max_length
            )));
        }
        if !settings.length_penalty.is_finite() {
            return Err(Error::config(format!(
                "length_penalty {} is not a finite number",
                settings.length_penalty
            )));
        }
        if settings.min_length > settings.max_length {
            let from = |cli: bool, flag: &str, key: &str| {
                if cli {
                    format!("--{flag}")
                } else {
                    format!("the preset's or model config's {key}")
                }
            };
            return Err(Error::config(format!(
                "{} {} exceeds {} {}: no summary can satisfy both (give --min-length and --max-length together)",
                from(gen.min_length.is_some(), "min-length", "min_length"),
                settings.min_length,
                from(gen.max_length.is_some(), "max-length", "max_length"),
                settings.max_length
            )));
        }
        // Regression (#19): a max_length beyond the decoder's learned/sinusoidal positions made
        // rust-bert panic on every record; refused at start-up instead.
        if let (Arch::Bart | Arch::Pegasus, Some(limit)) =
            (arch, opt_usize(&config, "max_position_embeddings"))
        {
            if settings.max_length > limit {
                let from = if gen.max_length.is_some() {
                    "--max-length".to_string()
                } else {
                    "the preset's or model config's max_length".to_string()
                };
                return Err(Error::config(format!(
                    "{from} {} exceeds the model's max_position_embeddings {limit}: its decoder has no positions beyond",
                    settings.max_length
                )));
            }
        }

        let prefix = match preset.as_ref().and_then(|p| p.prefix.clone()) {
            Some(p) => p,
            None => match task_v.get("prefix").and_then(|v| v.as_str()) {
                Some(p) => p.to_string(),
                None if arch == Arch::T5 => "summarize: ".to_string(),
                None => String::new(),
            },
        };
        let max_input_tokens = preset
            .as_ref()
            .and_then(|p| p.max_input_tokens)
            .or_else(|| match arch {
                Arch::Bart | Arch::Pegasus => opt_usize(&config, "max_position_embeddings"),
                Arch::T5 => opt_usize(&config, "n_positions").or(Some(512)),
                Arch::LongT5 => opt_usize(&config, "n_positions").or(Some(16384)),
            })
            .ok_or_else(|| {
                Error::model(format!("{folder}/config.json: no max_position_embeddings"))
            })?;
        let clean_up_spaces = tok_config
            .as_ref()
            .and_then(|t| opt_bool(t, "clean_up_tokenization_spaces"))
            .unwrap_or(false);

        // Tokenizer (rust-bert reads the slow tokenizer files, not tokenizer.json).
        let tokenizer = match arch {
            Arch::Bart => {
                let mut why_tok = Vec::new();
                let (vocab, merges) = match (
                    files.get("vocab.json", &mut why_tok),
                    files.get("merges.txt", &mut why_tok),
                ) {
                    (Some(v), Some(m)) => (v, m),
                    // Only the fast tokenizer's tokenizer.json: its BPE vocabulary and merges are
                    // the same data; written out as the files rust-bert reads.
                    _ => match files.get("tokenizer.json", &mut why_tok) {
                        Some(tj) => bpe_files_from_tokenizer_json(&tj).map_err(|e| {
                            Error::model(format!(
                                "{folder}: no vocab.json / merges.txt, and tokenizer.json: {e}"
                            ))
                        })?,
                        None => {
                            return Err(Error::model(format!(
                                "{folder}: tokenizer: {}",
                                why_tok.join("; ")
                            )))
                        }
                    },
                };
                read_files.extend([vocab.clone(), merges.clone()]);
                let add_prefix_space = tok_config
                    .as_ref()
                    .and_then(|t| opt_bool(t, "add_prefix_space"))
                    .unwrap_or(false);
                TokenizerOption::from_file(
                    ModelType::Bart,
                    &vocab.to_string_lossy(),
                    Some(&merges.to_string_lossy()),
                    false,
                    None::<bool>,
                    add_prefix_space,
                )
                .map_err(|e| {
                    Error::model(format!("{folder}: tokenizer (vocab.json, merges.txt): {e}"))
                })?
            }
            _ => {
                let spiece = files.need("spiece.model")?;
                read_files.push(spiece.clone());
                TokenizerOption::from_file(
                    arch.model_type(),
                    &spiece.to_string_lossy(),
                    None,
                    false,
                    None::<bool>,
                    None::<bool>,
                )
                .map_err(|e| Error::model(format!("{folder}: tokenizer (spiece.model): {e}")))?
            }
        };

        // Weights: rust_model.ot as is; safetensors and PyTorch checkpoints renamed in memory.
        // A preset's weights file is what its hub repository is fetched for; a local folder
        // (a store folder named after a preset included) is searched in the usual order.
        let wanted = match &files {
            Files::Hub { .. } => preset.as_ref().and_then(|p| p.weights.clone()),
            Files::Local(_) => None,
        };
        let mut why = Vec::new();
        let order: Vec<String> = match &wanted {
            Some(w) => vec![w.clone()],
            None => [
                "model.safetensors",
                "model.safetensors.index.json",
                "pytorch_model.bin",
                "pytorch_model.bin.index.json",
                "rust_model.ot",
            ]
            .map(String::from)
            .to_vec(),
        };
        let mut weights: Option<(String, Vec<PathBuf>)> = None;
        for w in &order {
            if let Some(p) = files.get(w, &mut why) {
                let list = if w.ends_with(".index.json") {
                    let idx = read_json(&p)?;
                    let mut shards: Vec<String> = idx
                        .get("weight_map")
                        .and_then(|m| m.as_object())
                        .map(|m| m.values().filter_map(|v| v.as_str().map(String::from)).collect())
                        .unwrap_or_default();
                    shards.sort();
                    shards.dedup();
                    shards.iter().map(|s| files.need(s)).collect::<Result<Vec<_>>>()?
                } else {
                    vec![p]
                };
                weights = Some((w.clone(), list));
                break;
            }
        }
        let (weights_kind, weight_files) = weights.ok_or_else(|| {
            Error::model(format!("{folder}: no weights ({}): {}", order.join(", "), why.join("; ")))
        })?;
        let revision = match &files {
            Files::Hub { revision, .. } => revision.clone(),
            Files::Local(_) => {
                format!("sha256:{}", crate::revision::weights_revision(&weight_files)?)
            }
        };
        let revision = format!("{revision}+files:{}", files_digest(&read_files)?);
        let model_resource: Box<dyn ResourceProvider + Send> = if weights_kind
            .starts_with("model.safetensors")
            || weights_kind.starts_with("pytorch_model.bin")
        {
            Box::new(FillResource::new(
                map_checkpoint(&weight_files, arch, &config, &folder)?,
                folder.clone(),
            ))
        } else {
            Box::new(LocalResource::from(weight_files[0].clone()))
        };

        let generate_config = GenerateConfig {
            model_type: arch.model_type(),
            model_resource: ModelResource::Torch(model_resource),
            config_resource: Box::new(LocalResource::from(rb_config_path.clone())),
            vocab_resource: Box::new(LocalResource::from(rb_config_path.clone())),
            merges_resource: None,
            min_length: settings.min_length as i64,
            max_length: Some(settings.max_length as i64),
            do_sample: settings.do_sample,
            early_stopping: settings.early_stopping,
            num_beams: settings.num_beams as i64,
            temperature: 1.0,
            top_k: 50,
            top_p: 1.0,
            repetition_penalty: 1.0,
            length_penalty: settings.length_penalty,
            no_repeat_ngram_size: settings.no_repeat_ngram_size as i64,
            num_return_sequences: 1,
            num_beam_groups: None,
            diversity_penalty: None,
            device,
            kind: None,
        };
        let load_err = |e: RustBertError| {
            let msg = e.to_string();
            Error::model(format!(
                "{folder}: loading the {} weights ({}): {msg}",
                arch.as_str(),
                weight_files[0].display()
            ))
        };
        // rust-bert panics on configs it cannot read; those were checked above, but keep a
        // panic from taking the process down.
        let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(
            || -> std::result::Result<Gen, RustBertError> {
                Ok(match arch {
                    Arch::Bart => {
                        Gen::Bart(BartGenerator::new_with_tokenizer(generate_config, tokenizer)?)
                    }
                    Arch::T5 => {
                        Gen::T5(T5Generator::new_with_tokenizer(generate_config, tokenizer)?)
                    }
                    Arch::Pegasus => Gen::Pegasus(PegasusConditionalGenerator::new_with_tokenizer(
                        generate_config,
                        tokenizer,
                    )?),
                    Arch::LongT5 => Gen::LongT5(LongT5Generator::new_with_tokenizer(
                        generate_config,
                        tokenizer,
                    )?),
                })
            },
        ))
        .map_err(|_| {
            Error::model(format!("{folder}: rust-bert could not build the {} model", arch.as_str()))
        })?
        .map_err(load_err)?;
        Ok(Seq2SeqSummarizer {
            inner: Mutex::new(built),
            name,
            revision,
            arch,
            settings,
            max_input_tokens,
            prefix,
            device,
            ids,
            vocab_size,
            clean_up_spaces,
            batch_size: 8,
            stats: Mutex::new(Default::default()),
            warmed: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Whitespace as sentencepiece's normalizer sees it (each run one space, ends trimmed),
    /// which rust_tokenizers' sentencepiece tokenizers do not do themselves. A run with a line
    /// break becomes one `\n` (tokenized like a space) so that paragraph ends still end sentences.
    pub fn normalize(&self, text: &str) -> String {
        if !self.arch.sentencepiece() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut run: Option<bool> = None; // in a whitespace run; whether it has a line break
        for c in text.trim().chars() {
            if c.is_whitespace() {
                let nl = matches!(c, '\n' | '\r');
                run = Some(run.unwrap_or(false) || nl);
            } else {
                if let Some(nl) = run.take() {
                    out.push(if nl { '\n' } else { ' ' });
                }
                out.push(c);
            }
        }
        out
    }

    fn encode_with(tok: &TokenizerOption, text: &str) -> Vec<i64> {
        tok.encode_list(&[text], 1 << 30, &TruncationStrategy::DoNotTruncate, 0)
            .into_iter()
            .next()
            .map(|t| t.token_ids)
            .unwrap_or_default()
    }

    /// Token ids of a source as the model sees it (prefix and special tokens included).
    pub fn encode(&self, text: &str) -> Result<Vec<i64>> {
        let g = self.inner.lock().map_err(|_| Error::model("summarizer lock poisoned"))?;
        Ok(Self::encode_with(g.tokenizer(), &format!("{}{}", self.prefix, self.normalize(text))))
    }

    fn decode_with(&self, tok: &TokenizerOption, ids: &[i64]) -> String {
        let text = match tok {
            TokenizerOption::Bart(t) => {
                let tokens = t.decode_to_vec(ids, true);
                t.convert_tokens_to_string(tokens)
            }
            TokenizerOption::T5(t) => metaspace_join(t.decode_to_vec(ids, true)),
            TokenizerOption::Pegasus(t) => metaspace_join(t.decode_to_vec(ids, true)),
            other => other.decode(ids, true, false),
        };
        if self.clean_up_spaces {
            hf_clean_up(&text)
        } else {
            text
        }
    }

    /// Text of generated ids, as transformers' `decode(skip_special_tokens=True)` gives it.
    pub fn decode(&self, ids: &[i64]) -> Result<String> {
        let g = self.inner.lock().map_err(|_| Error::model("summarizer lock poisoned"))?;
        Ok(self.decode_with(g.tokenizer(), ids))
    }

    /// Generates for already tokenized inputs, `batch_size` sequences at a time.
    pub fn generate_ids(&self, inputs: &[Vec<i64>], with_scores: bool) -> Result<Vec<Generated>> {
        let g = self.inner.lock().map_err(|_| Error::model("summarizer lock poisoned"))?;
        let mut out = Vec::with_capacity(inputs.len());
        for chunk in inputs.chunks(self.batch_size.max(1)) {
            out.extend(self.generate_batch(&g, chunk, with_scores, None).map_err(Error::model)?);
        }
        Ok(out)
    }

    /// One decoding step on short copies of the first batch's inputs, as many rows as that
    /// batch: what the first step of a process does once (libtorch and MKL set-up, the decoder
    /// weights packed for this row count, the int8 LM-head copy of greedy search) is done here,
    /// outside the generation time, as a warm-up call does for transformers. Its output is
    /// discarded; it changes no result.
    fn warm_up(&self, g: &Gen, first_batch: &[Vec<i64>]) {
        let probe: Vec<Vec<i64>> = first_batch
            .iter()
            .map(|ids| match ids.len() {
                0..=16 => ids.clone(),
                n => ids[..15].iter().chain(&ids[n - 1..]).copied().collect(),
            })
            .collect();
        let started = std::time::Instant::now();
        let _ = self.generate_batch(g, &probe, false, Some(2));
        if let Ok(mut st) = self.stats.lock() {
            st.warmup_seconds += started.elapsed().as_secs_f64();
        }
    }

    /// `max_length`: instead of the settings' (the warm-up), with min_length 0.
    fn generate_batch(
        &self,
        g: &Gen,
        inputs: &[Vec<i64>],
        with_scores: bool,
        max_length: Option<i64>,
    ) -> std::result::Result<Vec<Generated>, String> {
        if inputs.is_empty() {
            return Ok(Vec::new());
        }
        if self.settings.do_sample && inputs.len() > 1 {
            // Each input sampled on its own, from a seed of its own (below): a sampled summary
            // must not depend on which inputs share its batch (batch size, shards, resume, cache).
            let mut out = Vec::with_capacity(inputs.len());
            for one in inputs {
                out.extend(self.generate_batch(
                    g,
                    std::slice::from_ref(one),
                    with_scores,
                    max_length,
                )?);
            }
            return Ok(out);
        }
        let width = inputs.iter().map(|v| v.len()).max().unwrap_or(0).max(1);
        let mut ids = vec![self.ids.pad; inputs.len() * width];
        let mut mask = vec![0i64; inputs.len() * width];
        for (r, row) in inputs.iter().enumerate() {
            for (c, &t) in row.iter().enumerate() {
                ids[r * width + c] = t;
                mask[r * width + c] = 1;
            }
        }
        let shape = [inputs.len() as i64, width as i64];
        let ids = Tensor::from_slice(&ids).view(shape).to(self.device);
        let mask = Tensor::from_slice(&mask).view(shape).to(self.device);
        // Forced EOS at the last step where the architecture's generator lacks it (Pegasus).
        let emulate_eos = match (self.arch, self.ids.forced_eos) {
            (Arch::Bart, _) | (_, None) => None,
            (_, Some(e)) => Some(e),
        };
        let all: Vec<i64> =
            if emulate_eos.is_some() { (0..self.vocab_size).collect() } else { Vec::new() };
        let last = self.settings.max_length as i64 - 1;
        let force = move |_batch: i64, prefix: &Tensor| -> Vec<i64> {
            match emulate_eos {
                Some(e) if prefix.size().first().copied() == Some(last) => vec![e],
                _ => all.clone(),
            }
        };
        let opts = GenerateOptions {
            forced_bos_token_id: if self.arch == Arch::Bart { None } else { self.ids.forced_bos },
            prefix_allowed_tokens_fn: if emulate_eos.is_some() { Some(&force) } else { None },
            // greedy scores are not kept; not asking for them lets greedy steps screen the LM
            // head (vendored rust-bert patch 10)
            output_scores: with_scores && self.settings.num_beams > 1,
            min_length: max_length.map(|_| 0),
            max_length,
            ..Default::default()
        };
        if self.settings.do_sample {
            tch::manual_seed(sample_seed(self.settings.seed, &inputs[0]));
        }
        let res =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| g.generate(ids, mask, opts)))
                .map_err(|p| {
                    let msg = p
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    format!("generation failed (rust-bert panicked: {msg})")
                })?
                .map_err(|e| format!("generation failed: {e}"))?;
        if res.len() != inputs.len() {
            return Err(format!(
                "generation returned {} sequences for {} inputs",
                res.len(),
                inputs.len()
            ));
        }
        Ok(res
            .into_iter()
            .map(|o| {
                let mut v: Vec<i64> = o.indices.into_iter().skip(1).collect();
                if let Some(p) = v.iter().position(|&t| t == self.ids.eos) {
                    v.truncate(p + 1);
                }
                Generated {
                    ids: v,
                    score: if with_scores && self.settings.num_beams > 1 { o.score } else { None },
                }
            })
            .collect())
    }

    /// The model inputs a source becomes (see [`Self::plan`]): (chunk text, token ids) pairs and
    /// the notes.
    pub fn chunks(&self, text: &str) -> Result<(Vec<(String, Vec<i64>)>, Vec<String>)> {
        let g = self.inner.lock().map_err(|_| Error::model("summarizer lock poisoned"))?;
        let plan = self.plan(g.tokenizer(), text);
        let notes = self.plan_notes(&plan, 1, self.settings.long_merge == LongMerge::Concat);
        Ok((plan.texts.into_iter().zip(plan.ids).collect(), notes))
    }

    /// What a pass did with its text: nothing when it fit the context in the first pass.
    /// `last`: the chunk summaries of this pass are concatenated (no further pass).
    fn plan_notes(&self, plan: &Plan, pass: usize, last: bool) -> Vec<String> {
        let mut notes = Vec::new();
        let n = plan.ids.len();
        let what = if last { "summaries concatenated" } else { "their summaries summarized again" };
        if pass == 1 {
            if n > 1 {
                notes.push(format!(
                    "source is {} tokens, over the {}-token context: {n} chunks, {what}",
                    plan.tokens, self.max_input_tokens
                ));
            }
        } else if n > 1 {
            notes.push(format!("pass {pass}: the chunk summaries are {} tokens, over the context: {n} chunks, {what}", plan.tokens));
        } else {
            notes.push(format!(
                "pass {pass}: the chunk summaries ({} tokens) summarized into one",
                plan.tokens
            ));
        }
        if plan.split_long > 0 {
            let at = if pass > 1 { format!("pass {pass}: ") } else { String::new() };
            notes.push(format!("{at}{} sentence(s) longer than the context were split at word boundaries (characters where a word alone is too long)", plan.split_long));
        }
        notes
    }

    /// Splits a source into model inputs that fit the context: the whole text when it fits, else
    /// sentence chunks with one sentence of overlap. Returns the chunk texts, their token ids and
    /// the notes.
    fn plan(&self, tok: &TokenizerOption, text: &str) -> Plan {
        let text = self.normalize(text);
        let enc = |s: &str| Self::encode_with(tok, &format!("{}{}", self.prefix, s));
        let whole = enc(&text);
        if whole.len() <= self.max_input_tokens {
            let tokens = whole.len();
            return Plan { texts: vec![text], ids: vec![whole], tokens, split_long: 0 };
        }
        let fits = |s: &str| enc(s).len() <= self.max_input_tokens;
        // Units (byte spans of the text) that fit alone: sentences, with any too-long sentence
        // split at words (and a too-long word at characters). Chunks are spans of the text
        // itself, so separators (spaces, line breaks) are kept.
        let mut units: Vec<(usize, usize)> = Vec::new();
        let mut split_long = 0usize;
        let mut pos = 0usize;
        for sent in split_sentences(&text) {
            let (a, b) = match text[pos..].find(sent.as_str()) {
                Some(k) => (pos + k, pos + k + sent.len()),
                None => continue, // the splitter only trims; unreachable in practice
            };
            pos = b;
            if fits(&text[a..b]) {
                units.push((a, b));
                continue;
            }
            split_long += 1;
            let mut words: Vec<(usize, usize)> = Vec::new();
            for w in text[a..b].split_whitespace() {
                let wa = w.as_ptr() as usize - text.as_ptr() as usize;
                if fits(w) {
                    words.push((wa, wa + w.len()));
                } else {
                    words.extend(split_chars(&text, (wa, wa + w.len()), &fits));
                }
            }
            units.extend(pack(&text, &words, &fits, false));
        }
        let chunks: Vec<String> = pack(&text, &units, &fits, true)
            .into_iter()
            .map(|(a, b)| text[a..b].to_string())
            .collect();
        let inputs: Vec<Vec<i64>> = chunks.iter().map(|c| enc(c)).collect();
        Plan { texts: chunks, ids: inputs, tokens: whole.len(), split_long }
    }

    /// The settings part of the signature.
    fn settings_signature(&self) -> String {
        let s = &self.settings;
        let mut parts = vec![
            format!("arch={}", self.arch.as_str()),
            format!("num_beams={}", s.num_beams),
            format!("min_length={}", s.min_length),
            format!("max_length={}", s.max_length),
            format!("length_penalty={}", s.length_penalty),
            format!("no_repeat_ngram_size={}", s.no_repeat_ngram_size),
            format!("early_stopping={}", s.early_stopping),
            format!("do_sample={}", s.do_sample),
        ];
        if s.do_sample {
            parts.push(format!("seed={}", s.seed));
        }
        parts.push(format!("max_input={}", self.max_input_tokens));
        if !self.prefix.is_empty() {
            parts.push(format!("prefix={:?}", self.prefix));
        }
        parts.push(format!("long=sentence-chunks+overlap1+{}", s.long_merge.as_str()));
        parts.push(format!("runtime={}", crate::runtime_tag(self.device)));
        // decoder GEMMs on MKL-packed weights (vendored rust-bert patch 8): last-bit differences
        if self.device == tch::Device::Cpu && rust_bert::packed::available() {
            parts.push("gemm=mkl-packed".into());
        }
        parts.join(",")
    }
}

/// vocab.json and merges.txt (the slow BPE tokenizer's files, which rust-bert reads) written
/// from a fast tokenizer's tokenizer.json into a folder keyed by its digest.
fn bpe_files_from_tokenizer_json(path: &Path) -> std::result::Result<(PathBuf, PathBuf), String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|e| format!("not JSON: {e}"))?;
    let model = v.get("model").ok_or("no \"model\"")?;
    if model.get("type").and_then(|t| t.as_str()) != Some("BPE") {
        return Err(format!(
            "its model is {} , not BPE",
            model.get("type").map_or("missing".to_string(), |t| t.to_string())
        ));
    }
    let vocab = model.get("vocab").and_then(|x| x.as_object()).ok_or("no BPE vocab")?;
    let merges = model.get("merges").and_then(|x| x.as_array()).ok_or("no BPE merges")?;
    let mut lines = String::from("#version: 0.2\n");
    for m in merges {
        // "a b" (tokenizers < 0.20) or ["a", "b"]
        let line = match m {
            Value::String(s) => s.clone(),
            Value::Array(p) if p.len() == 2 => format!(
                "{} {}",
                p[0].as_str().ok_or("a merge that is not text")?,
                p[1].as_str().ok_or("a merge that is not text")?
            ),
            _ => return Err("a merge that is neither \"a b\" nor [a, b]".into()),
        };
        lines.push_str(&line);
        lines.push('\n');
    }
    let dir = std::env::temp_dir().join(format!("kpeval-bpe-{}", &hex_sha256(&bytes)[..16]));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let (vp, mp) = (dir.join("vocab.json"), dir.join("merges.txt"));
    let write = |p: &Path, data: &[u8]| -> std::result::Result<(), String> {
        let tmp = p.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, data)
            .and_then(|_| std::fs::rename(&tmp, p))
            .map_err(|e| format!("{}: {e}", p.display()))
    };
    write(&vp, serde_json::to_string(vocab).map_err(|e| e.to_string())?.as_bytes())?;
    write(&mp, lines.as_bytes())?;
    Ok((vp, mp))
}

/// First 12 hex digits of the sha256 of the files' names and contents, in order.
fn files_digest(paths: &[PathBuf]) -> Result<String> {
    let mut h = Sha256::new();
    for p in paths {
        let bytes = std::fs::read(p).map_err(|e| Error::io(p, e))?;
        h.update(
            p.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default().as_bytes(),
        );
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    Ok(h.finalize().iter().take(6).map(|b| format!("{b:02x}")).collect())
}

/// The sampling seed of one input: `--seed` and the input's token ids, hashed.
fn sample_seed(seed: u64, ids: &[i64]) -> i64 {
    let mut h = Sha256::new();
    h.update(seed.to_le_bytes());
    for t in ids {
        h.update(t.to_le_bytes());
    }
    let d = h.finalize();
    (u64::from_le_bytes(d[..8].try_into().unwrap()) >> 1) as i64
}

/// Packs units (byte spans of `text`, in order) into the fewest spans that fit; with
/// `overlap`, each span after the first starts with the last unit of the one before (when that
/// one has more than one unit, so that every span makes progress).
fn pack(
    text: &str,
    units: &[(usize, usize)],
    fits: &dyn Fn(&str) -> bool,
    overlap: bool,
) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < units.len() {
        let mut j = i + 1; // units[i..j] fit (a unit always fits alone)
        while j < units.len() && fits(&text[units[i].0..units[j].1]) {
            j += 1;
        }
        out.push((units[i].0, units[j - 1].1));
        if j >= units.len() {
            break;
        }
        i = if overlap && j - i > 1 { j - 1 } else { j };
    }
    out
}

/// Splits a word (a span of `text`) that does not fit into character spans that do.
fn split_chars(
    text: &str,
    span: (usize, usize),
    fits: &dyn Fn(&str) -> bool,
) -> Vec<(usize, usize)> {
    let bounds: Vec<usize> = text[span.0..span.1]
        .char_indices()
        .map(|(k, _)| span.0 + k)
        .chain(std::iter::once(span.1))
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < bounds.len() {
        let mut j = i + 1;
        while j + 1 < bounds.len() && fits(&text[bounds[i]..bounds[j + 1]]) {
            j += 1;
        }
        out.push((bounds[i], bounds[j]));
        i = j;
    }
    out
}

/// Joins sentencepiece pieces as the `Metaspace` decoder of transformers' fast tokenizers does:
/// `▁` becomes a space, except in the first piece, where it is dropped.
fn metaspace_join(tokens: Vec<String>) -> String {
    tokens
        .iter()
        .enumerate()
        .map(|(i, t)| if i == 0 { t.replace('\u{2581}', "") } else { t.replace('\u{2581}', " ") })
        .collect()
}

/// transformers' `clean_up_tokenization` (rust_tokenizers' version also rewrites " do not").
fn hf_clean_up(s: &str) -> String {
    s.replace(" .", ".")
        .replace(" ?", "?")
        .replace(" !", "!")
        .replace(" ,", ",")
        .replace(" ' ", "'")
        .replace(" n't", "n't")
        .replace(" 'm", "'m")
        .replace(" 's", "'s")
        .replace(" 've", "'ve")
        .replace(" 're", "'re")
}

impl Summarizer for Seq2SeqSummarizer {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn signature(&self) -> String {
        format!("{}@{}({})", self.name, self.revision, self.settings_signature())
    }

    fn generation_stats(&self) -> Option<kpeval::summarize::GenerationStats> {
        self.stats.lock().ok().map(|s| *s)
    }

    fn summarize(&self, batch: &[SourceText]) -> Vec<Result<Summary, RecordError>> {
        let g = match self.inner.lock() {
            Ok(g) => g,
            Err(_) => {
                return batch
                    .iter()
                    .map(|_| Err(RecordError::new("summarize", "summarizer lock poisoned")))
                    .collect()
            }
        };
        let tok = g.tokenizer();
        let mut results: Vec<Option<Result<Summary, RecordError>>> =
            (0..batch.len()).map(|_| None).collect();
        let mut notes: Vec<Vec<String>> = vec![Vec::new(); batch.len()];
        // (record, text of this pass, tokens of the previous pass's text)
        let mut round: Vec<(usize, String, usize)> = Vec::new();
        for (i, s) in batch.iter().enumerate() {
            if s.text.trim().is_empty() {
                results[i] = Some(Err(RecordError::new(
                    "summarize",
                    format!("record '{}': the selected source text is empty", s.id),
                )));
            } else {
                round.push((i, s.text.clone(), usize::MAX));
            }
        }
        let second_pass = self.settings.long_merge == LongMerge::SecondPass;
        let mut pass = 0;
        while !round.is_empty() {
            pass += 1;
            // Plan every record of this pass, then generate all chunks together.
            let mut plans: Vec<(usize, usize, usize, bool, usize)> =
                Vec::with_capacity(round.len()); // record, start, chunks, last pass, tokens
            let mut inputs: Vec<Vec<i64>> = Vec::new();
            for (i, text, prev_tokens) in &round {
                let plan = self.plan(tok, text);
                if pass > 1 && plan.tokens >= *prev_tokens {
                    // Summarizing the summaries again would not shorten them: keep them as they are.
                    notes[*i].push(format!(
                        "pass {pass}: the chunk summaries ({} tokens) are not shorter than the text they summarize ({prev_tokens} tokens): concatenated",
                        plan.tokens
                    ));
                    results[*i] = Some(Ok(Summary::from_text(
                        &self.name,
                        text.clone(),
                        std::mem::take(&mut notes[*i]),
                    )));
                    continue;
                }
                let last = !second_pass || plan.ids.len() == 1 || pass == MAX_PASSES;
                notes[*i].extend(self.plan_notes(&plan, pass, last));
                if pass == MAX_PASSES && plan.ids.len() > 1 && second_pass {
                    notes[*i].push(format!("stopped after {MAX_PASSES} passes"));
                }
                plans.push((*i, inputs.len(), plan.ids.len(), last, plan.tokens));
                inputs.extend(plan.ids);
            }
            let mut outputs: Vec<std::result::Result<Vec<i64>, String>> =
                Vec::with_capacity(inputs.len());
            if !inputs.is_empty() && !self.warmed.swap(true, std::sync::atomic::Ordering::Relaxed) {
                self.warm_up(&g, &inputs[..inputs.len().min(self.batch_size.max(1))]);
            }
            let started = std::time::Instant::now();
            for chunk in inputs.chunks(self.batch_size.max(1)) {
                match self.generate_batch(&g, chunk, false, None) {
                    Ok(v) => outputs.extend(v.into_iter().map(|x| Ok(x.ids))),
                    Err(e) => outputs.extend(chunk.iter().map(|_| Err(e.clone()))),
                }
            }
            if let Ok(mut st) = self.stats.lock() {
                st.seconds += started.elapsed().as_secs_f64();
                st.sequences += inputs.len();
                st.tokens +=
                    outputs.iter().map(|o| o.as_ref().map_or(0, |ids| ids.len())).sum::<usize>();
            }
            let mut next = Vec::new();
            'records: for (i, start, n, last, tokens) in plans {
                let mut texts = Vec::with_capacity(n);
                for out in &outputs[start..start + n] {
                    match out {
                        Ok(ids) => texts.push(self.decode_with(tok, ids).trim().to_string()),
                        Err(e) => {
                            let s = &batch[i];
                            results[i] = Some(Err(RecordError::new(
                                "summarize",
                                format!(
                                    "record '{}': {} ({}): {e}",
                                    s.id,
                                    self.name,
                                    self.arch.as_str()
                                ),
                            )));
                            continue 'records;
                        }
                    }
                }
                let text = texts.join("\n");
                if last && text.trim().is_empty() {
                    notes[i].push(
                        "the model generated an empty summary (only special tokens)".to_string(),
                    );
                }
                if last {
                    results[i] = Some(Ok(Summary::from_text(
                        &self.name,
                        text,
                        std::mem::take(&mut notes[i]),
                    )));
                } else {
                    next.push((i, text, tokens));
                }
            }
            round = next;
        }
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(RecordError::new("summarize", "internal error: record left unsummarized"))
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_parse_and_cover_the_registry() {
        let p = presets().unwrap();
        for name in [
            "distilbart-cnn-12-6",
            "bart-large-cnn",
            "pegasus-cnn_dailymail",
            "t5-small",
            "t5-base",
            "flan-t5-base",
            "long-t5-tglobal-base-16384-book-summary",
        ] {
            let e = p.iter().find(|x| x.name == name).unwrap_or_else(|| panic!("preset {name}"));
            assert!(Arch::from_model_type(&e.architecture).is_some(), "{name}");
            assert!(e.hub_id.contains('/'), "{name}");
            assert!(!e.revision.is_empty() && !e.license.is_empty(), "{name}");
            assert!(
                e.generation.num_beams.is_some() && e.generation.max_length.is_some(),
                "{name}"
            );
        }
        assert_eq!(
            find_preset("sshleifer/distilbart-cnn-12-6").unwrap().unwrap().name,
            "distilbart-cnn-12-6"
        );
    }

    #[test]
    fn packing_overlaps_one_sentence() {
        let text = "a a b b\nc c d d";
        let units = [(0, 3), (4, 7), (8, 11), (12, 15)];
        let spans = |v: Vec<(usize, usize)>| {
            v.into_iter().map(|(a, b)| text[a..b].to_string()).collect::<Vec<_>>()
        };
        let fits = |s: &str| s.len() <= 7;
        assert_eq!(spans(pack(text, &units, &fits, true)), vec!["a a b b", "b b\nc c", "c c d d"]);
        assert_eq!(spans(pack(text, &units, &fits, false)), vec!["a a b b", "c c d d"]);
        let fits1 = |s: &str| s.len() <= 3;
        assert_eq!(spans(pack(text, &units, &fits1, true)), vec!["a a", "b b", "c c", "d d"]);
        let word = "abcdefg";
        assert_eq!(spans_of(word, split_chars(word, (0, 7), &fits1)), vec!["abc", "def", "g"]);
    }

    fn spans_of(text: &str, v: Vec<(usize, usize)>) -> Vec<String> {
        v.into_iter().map(|(a, b)| text[a..b].to_string()).collect()
    }

    #[test]
    fn metaspace_and_cleanup() {
        assert_eq!(
            metaspace_join(vec!["\u{2581}The".into(), "\u{2581}cat".into(), "s".into()]),
            "The cats"
        );
        assert_eq!(hf_clean_up("I do not know , really ."), "I do not know, really.");
    }
}
