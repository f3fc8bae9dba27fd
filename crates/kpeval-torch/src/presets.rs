//! The summarizer presets of models/presets.toml (compiled in).
use kpeval::error::{Error, Result};
use serde::Deserialize;

/// The preset registry, compiled in.
const PRESETS_TOML: &str = include_str!("../../../models/presets.toml");

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
