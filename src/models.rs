//! The model store and resolution of model names. A model is named by a preset / store name
//! (`all-MiniLM-L6-v2`), a local folder (as written by `save_pretrained`), or a hub id
//! (`org/name`, loaded by the model runtime).
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Where a model name points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// A local folder with config.json and weights.
    Local(PathBuf),
    /// A hub id, to be fetched (and cached) by the runtime.
    Hub(String),
}

/// Folders searched for store names, in order: `$KPEVAL_MODEL_STORE`, `models/store` of the
/// checkout the binary was built in (found upwards from the executable), the current
/// directory's `models/store`, and `$KPEVAL_CACHE/models` (default `~/.cache/kpeval/models`).
pub fn store_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = std::env::var_os("KPEVAL_MODEL_STORE") {
        dirs.push(PathBuf::from(d));
    }
    if let Ok(exe) = std::env::current_exe() {
        let mut p: Option<&Path> = exe.parent();
        while let Some(d) = p {
            let cand = d.join("models").join("store");
            if cand.is_dir() {
                dirs.push(cand);
                break;
            }
            p = d.parent();
        }
    }
    dirs.push(PathBuf::from("models/store"));
    let cache = std::env::var_os("KPEVAL_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/kpeval")));
    if let Some(c) = cache {
        dirs.push(c.join("models"));
    }
    dirs
}

/// When `name`, read as a hub id, starts with a local folder's name: a hint that it may be a
/// mistyped path (for errors).
pub fn path_hint(name: &str) -> String {
    match name.split_once('/') {
        Some((first, _)) if !first.is_empty() && Path::new(first).is_dir() => {
            format!(" (read as a hub id; if you meant a folder under the local '{first}', no such folder exists)")
        }
        _ => String::new(),
    }
}

/// Resolves a model name: an existing folder, a name in the store, else a hub id.
pub fn resolve(name: &str) -> Result<ModelSource> {
    let p = Path::new(name);
    if p.is_dir() {
        return Ok(ModelSource::Local(p.to_path_buf()));
    }
    if p.is_file() {
        let parent = p
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map_or(".".to_string(), |d| d.display().to_string());
        return Err(Error::model(format!(
            "model '{name}' is a file: give the model's folder ({parent})"
        )));
    }

    // Store names may be given with or without the hub organisation.
    let short = name.rsplit('/').next().unwrap_or(name);
    for d in store_dirs() {
        for cand in [d.join(name), d.join(short)] {
            if cand.join("config.json").is_file() {
                return Ok(ModelSource::Local(cand));
            }
        }
    }
    if name.contains('/')
        && !name.starts_with('.')
        && !name.starts_with('/')
        && name.split('/').count() == 2
    {
        return Ok(ModelSource::Hub(name.to_string()));
    }
    let searched: Vec<String> = store_dirs().iter().map(|d| d.display().to_string()).collect();
    Err(Error::model(format!(
        "model '{name}' not found: not a folder, not in the model store ({}), and not a hub id (org/name); run `make setup` to install the default models",
        searched.join(", ")
    )))
}
