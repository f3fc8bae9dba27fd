//! The model-files resolver: local folders and hub repositories (through rust-bert's download
//! cache, offline included), for every model kind.
use crate::files::{hex_sha256, read_json};
use kpeval::error::{Error, Result};
use kpeval::models::{resolve, ModelSource};
use rust_bert::resources::{RemoteResource, ResourceProvider};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Whether the user's environment switches hub downloads off (`KPEVAL_OFFLINE` or
/// `HF_HUB_OFFLINE` set to 1/true/yes, as huggingface_hub reads it). kpeval's own setting
/// travels in its configs (`offline`); this is only the environment's say.
pub fn offline_from_env() -> bool {
    ["KPEVAL_OFFLINE", "HF_HUB_OFFLINE"].iter().any(|k| {
        std::env::var(k)
            .map(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"))
            .unwrap_or(false)
    })
}

/// A model's files: a local folder or a hub repository (through rust-bert's cache). Every hub
/// file of every model kind is fetched through [`Repo::get`] or [`hub_fetch`].
pub(crate) enum Repo {
    Local(PathBuf),
    Hub { id: String, revision: String, offline: bool },
}

impl Repo {
    /// Where the files are, for messages: the folder, or `id@revision`.
    pub(crate) fn describe(&self) -> String {
        match self {
            Repo::Local(d) => d.display().to_string(),
            Repo::Hub { id, revision, .. } => format!("{id}@{revision}"),
        }
    }

    /// The local path of `file`; Ok(None) when it does not exist (local) or cannot be had
    /// (hub), with the reason kept in `why`.
    pub(crate) fn get(&self, file: &str, why: &mut Vec<String>) -> Option<PathBuf> {
        match self {
            Repo::Local(dir) => {
                let p = dir.join(file);
                if p.is_file() {
                    Some(p)
                } else {
                    why.push(format!("{}: missing {file}", dir.display()));
                    None
                }
            }
            Repo::Hub { id, revision, offline } => match hub_fetch(id, revision, file, *offline) {
                Ok(p) => Some(p),
                Err(e) => {
                    why.push(format!("{id}@{revision}: {e}"));
                    None
                }
            },
        }
    }

    /// Like [`Repo::get`], but the file is required (the reason is the error).
    pub(crate) fn need(&self, file: &str) -> Result<PathBuf> {
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

/// The files of a transformers model: a local folder or a hub id's files in rust-bert's cache.
pub(crate) struct ModelFiles {
    /// Short name for signatures: the folder name or the hub id.
    pub name: String,
    pub config: PathBuf,
    files: BTreeMap<&'static str, PathBuf>,
    /// Where the files came from, for messages.
    origin: String,
    repo: Repo,
}

impl ModelFiles {
    /// Resolves a store name, folder or hub id and fetches config.json. Other files come from
    /// [`ModelFiles::fetch`].
    /// With `offline`, nothing is downloaded (nor when the environment says so, see
    /// [`offline_from_env`]).
    pub fn open_with(name_or_dir: &str, offline: bool) -> Result<ModelFiles> {
        match resolve(name_or_dir)? {
            ModelSource::Local(dir) => {
                let config = dir.join("config.json");
                if !config.is_file() {
                    return Err(Error::model(format!(
                        "{}: missing config.json (expected a transformers save_pretrained folder)",
                        dir.display()
                    )));
                }
                let name = dir
                    .canonicalize()
                    .unwrap_or(dir.clone())
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_else(|| name_or_dir.to_string());
                let mut files = BTreeMap::new();
                for f in KNOWN_FILES {
                    let p = dir.join(f);
                    if p.is_file() {
                        files.insert(*f, p);
                    }
                }
                let origin = dir.display().to_string();
                Ok(ModelFiles { name, config, files, origin, repo: Repo::Local(dir) })
            }
            ModelSource::Hub(id) => {
                let offline = offline || offline_from_env();
                let config = hub_fetch(&id, "main", "config.json", offline)
                    .map_err(|e| Error::model(format!("hub model '{id}': config.json: {e}")))?;
                Ok(ModelFiles {
                    name: id.clone(),
                    config,
                    files: BTreeMap::new(),
                    origin: format!("hub:{id}"),
                    repo: Repo::Hub { id, revision: "main".into(), offline },
                })
            }
        }
    }

    /// The path of one of the model's files, fetching it from the hub when needed; None when
    /// the model has no such file.
    pub fn fetch(&mut self, file: &'static str) -> Option<PathBuf> {
        if let Some(p) = self.files.get(file) {
            return Some(p.clone());
        }
        // A local folder's files were all listed at open.
        if matches!(self.repo, Repo::Local(_)) {
            return None;
        }
        let p = self.repo.get(file, &mut Vec::new())?;
        self.files.insert(file, p.clone());
        Some(p)
    }

    /// Like [`ModelFiles::fetch`], but the file is required.
    pub fn need(&mut self, file: &'static str) -> Result<PathBuf> {
        self.fetch(file).ok_or_else(|| Error::model(format!("{}: missing {file}", self.origin)))
    }

    /// The weights: model.safetensors or pytorch_model.bin (transformers) or rust_model.ot
    /// (rust-bert's own format).
    pub fn weights(&mut self) -> Result<PathBuf> {
        for f in ["model.safetensors", "pytorch_model.bin", "rust_model.ot"] {
            if let Some(p) = self.fetch(f) {
                return Ok(p);
            }
        }
        Err(Error::model(format!(
            "{}: no weights (model.safetensors, pytorch_model.bin or rust_model.ot)",
            self.origin
        )))
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }
}

const KNOWN_FILES: &[&str] = &[
    "config.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.json",
    "merges.txt",
    "vocab.txt",
    "spm.model",
    "model.safetensors",
    "rust_model.ot",
    "pytorch_model.bin",
];

/// `model_max_length` of tokenizer_config.json when it is a real limit (transformers writes
/// 1e30 for "none").
pub(crate) fn tokenizer_max_len(files: &mut ModelFiles) -> Option<usize> {
    let tc = read_json(&files.fetch("tokenizer_config.json")?).ok()?;
    let m = tc.get("model_max_length")?.as_f64()?;
    (1.0..1e7).contains(&m).then_some(m as usize)
}

pub(crate) fn tokenizer_flag(files: &mut ModelFiles, key: &str) -> Option<bool> {
    let tc = read_json(&files.fetch("tokenizer_config.json")?).ok()?;
    tc.get(key)?.as_bool()
}
