//! Reading a summarizer's config.json for rust-bert: optional fields, validation, the config
//! file rust-bert is handed.
use super::model::Arch;
use crate::files::hex_sha256;
use kpeval::error::{Error, Result};
use rust_bert::bart::BartConfig;
use rust_bert::longt5::LongT5Config;
use rust_bert::pegasus::PegasusConfig;
use rust_bert::t5::T5Config;
use serde::Deserialize;
use serde_json::Value;
use std::path::PathBuf;

pub(super) fn opt_usize(v: &Value, k: &str) -> Option<usize> {
    v.get(k).and_then(|x| x.as_u64()).map(|x| x as usize)
}
pub(super) fn opt_f64(v: &Value, k: &str) -> Option<f64> {
    v.get(k).and_then(|x| x.as_f64())
}
pub(super) fn opt_bool(v: &Value, k: &str) -> Option<bool> {
    match v.get(k) {
        Some(Value::Bool(b)) => Some(*b),
        // transformers' "never" (beam search never stops early on the heuristic): rust-bert has
        // only true/false.
        Some(Value::String(s)) if s == "never" => Some(false),
        _ => None,
    }
}
/// A token id that may be written as a list (take the first).
pub(super) fn opt_id(v: &Value, k: &str) -> Option<i64> {
    match v.get(k) {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::Array(a)) => a.first().and_then(|x| x.as_i64()),
        _ => None,
    }
}

/// Checks that rust-bert's config struct reads `cfg` (its `from_file` panics otherwise) and
/// returns the config to hand it, with fields it cannot read removed where that is harmless.
pub(super) fn validate_config(arch: Arch, mut cfg: Value, folder: &str) -> Result<Value> {
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
pub(super) fn write_config(cfg: &Value) -> Result<PathBuf> {
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
