//! The summarizer presets of models/presets.toml (compiled in).
use kpeval::error::{Error, Result};
use serde::Deserialize;

/// The preset registry, compiled in.
const PRESETS_TOML: &str = include_str!("../../../models/presets.toml");

/// One entry of models/presets.toml.
#[derive(Debug, Clone, Deserialize)]
pub struct Preset {
    /// The name `--model` / `--summarizer` takes (also the model store folder's name).
    pub name: String,
    /// The model type: `bart`, `t5`, `pegasus` or `longt5`.
    pub architecture: String,
    /// The Hugging Face hub repository the model is fetched from.
    pub hub_id: String,
    /// The hub commit the files are pinned to (`main` where none was pinned).
    pub revision: String,
    /// The model's license id (e.g. `apache-2.0`).
    pub license: String,
    /// The weights file fetched from the hub (`rust_model.ot` or `model.safetensors`); `None`:
    /// the usual search order.
    #[serde(default)]
    pub weights: Option<String>,
    /// Longest tokenized source (special tokens included) given to the model; longer sources are
    /// split into sentence chunks. `None`: the model config's position limit.
    #[serde(default)]
    pub max_input_tokens: Option<usize>,
    /// Text prepended to every source; `None`: the model config's summarization prefix, else
    /// `summarize: ` for T5 and none for the others.
    #[serde(default)]
    pub prefix: Option<String>,
    /// Default generation settings; command-line options override them.
    #[serde(default)]
    pub generation: PresetGeneration,
}

/// A preset's default generation settings (transformers' names).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PresetGeneration {
    /// Beam width (1: greedy); `None`: the model config's.
    pub num_beams: Option<usize>,
    /// Fewest generated tokens before EOS is allowed; `None`: the model config's.
    pub min_length: Option<usize>,
    /// Most generated tokens; `None`: the model config's.
    pub max_length: Option<usize>,
    /// No n-gram of this size is generated twice (0: off); `None`: the model config's.
    pub no_repeat_ngram_size: Option<usize>,
    /// Exponent of the length normalization of beam scores; `None`: the model config's.
    pub length_penalty: Option<f64>,
    /// Whether beam search stops once `num_beams` hypotheses are finished; `None`: the model
    /// config's.
    pub early_stopping: Option<bool>,
    /// Penalty on the scores of tokens already generated (1: off); `None`: the model config's.
    pub repetition_penalty: Option<f64>,
    /// No n-gram of this size found in the source is generated (0: off); `None`: the model
    /// config's.
    pub encoder_no_repeat_ngram_size: Option<usize>,
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
