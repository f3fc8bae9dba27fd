//! A summarizer's checkpoint mapped in place and renamed to rust-bert's variable names, and the
//! resource that copies it into the model.
use super::model::Arch;
use kpeval::error::{Error, Result};
use rust_bert::resources::ResourceProvider;
use rust_bert::RustBertError;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use tch::{Device, Kind, Tensor};

/// A writer into a shared buffer (tch's stream writer must own a 'static writer).
/// A checkpoint's tensors under rust-bert's variable names: views into the memory-mapped
/// safetensors files (no copy until they are copied into the model's variables).
pub(super) struct MappedWeights {
    /// Declared before `_files`: the views must be dropped before the mappings.
    tensors: BTreeMap<String, Tensor>,
    _files: Vec<crate::weights::MappedFile>,
}

// SAFETY: the tensors are read-only views of the mappings owned alongside them; they are only
// read (copied from), one thread at a time behind the resource's mutex.
unsafe impl Send for MappedWeights {}

/// Maps safetensors files and renames their tensors to rust-bert's variable names (the weights
/// are then copied once, straight from the page cache into the model: see [`FillResource`]).
pub(super) fn map_checkpoint(
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
pub(super) struct FillResource {
    fill: Box<FillFn>,
}

impl std::fmt::Debug for FillResource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FillResource")
    }
}

impl FillResource {
    pub(super) fn new(weights: MappedWeights, folder: String) -> FillResource {
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
