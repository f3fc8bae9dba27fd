//! The model-files resolver: local folders and hub repositories (through rust-bert's download
//! cache, offline included), for every model kind.
use crate::files::{hex_sha256, read_json};
use kpeval::error::{Error, Result};
use kpeval::models::{resolve, ModelSource};
use rust_bert::resources::{RemoteResource, ResourceProvider};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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

    /// An optional file: Ok(None) when the folder or the repository has no such file (a hub
    /// 404, or not in the download cache while offline or the hub is unreachable); any other
    /// failure (a timeout, a refused connection, an interrupted download) is an error, never
    /// taken for an absent file.
    pub(crate) fn optional(&self, file: &str) -> Result<Option<PathBuf>> {
        match self {
            Repo::Local(dir) => Ok(Some(dir.join(file)).filter(|p| p.is_file())),
            Repo::Hub { id, revision, offline } => match hub_fetch(id, revision, file, *offline) {
                Ok(p) => Ok(Some(p)),
                Err(FetchError::NotFound(_) | FetchError::NotCached(_)) => Ok(None),
                Err(e) => Err(Error::model(format!("{id}@{revision}: {e}"))),
            },
        }
    }

    /// Like [`Repo::get`], but the file is required (the reason is the error).
    pub(crate) fn need(&self, file: &str) -> Result<PathBuf> {
        let mut why = Vec::new();
        self.get(file, &mut why).ok_or_else(|| Error::model(why.join("; ")))
    }
}

/// The hub's base URL: `HF_ENDPOINT` (the variable huggingface_hub reads, e.g. a mirror or a
/// local test server), default `https://huggingface.co`; a trailing `/` is dropped. Every hub
/// download of every model kind builds its URL from this ([`hub_url`]).
pub fn hub_endpoint() -> String {
    std::env::var("HF_ENDPOINT")
        .ok()
        .map(|v| v.trim().trim_end_matches('/').to_string())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "https://huggingface.co".to_string())
}

/// The URL of `file` of hub repository `id` at `revision` (a branch, tag or commit):
/// `<endpoint>/<id>/resolve/<revision>/<file>`, the layout huggingface_hub downloads from.
pub fn hub_url(id: &str, revision: &str, file: &str) -> String {
    format!("{}/{id}/resolve/{revision}/{file}", hub_endpoint())
}

/// Whether `revision` names a commit (40 hex digits): its files never change, so a cached copy
/// is used without asking the server.
pub fn is_commit(revision: &str) -> bool {
    revision.len() == 40 && revision.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A hub id with an optional `@revision` (`org/name@<commit>`): the id and the revision
/// (`main` when none is given).
pub fn split_revision(id: &str) -> (String, String) {
    match id.rsplit_once('@') {
        Some((i, r)) if !i.is_empty() && !r.is_empty() => (i.to_string(), r.to_string()),
        _ => (id.to_string(), "main".to_string()),
    }
}

/// Why a hub file could not be had.
#[derive(Debug, Clone)]
pub(crate) enum FetchError {
    /// The server answered 404: the repository has no such file at that revision.
    NotFound(String),
    /// Not in the download cache, and the server is not asked (offline) or could not be
    /// reached.
    NotCached(String),
    /// Anything else: a timeout, a refused connection, a download cut short, ...
    Failed(String),
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::NotFound(m) | FetchError::NotCached(m) | FetchError::Failed(m) => {
                f.write_str(m)
            }
        }
    }
}

/// One hub file asked for by this process: where from, and whether it was downloaded now or
/// already in the cache. Turned into log lines by [`take_notes`].
#[derive(Debug, Clone)]
pub(crate) struct Fetched {
    pub id: String,
    pub revision: String,
    pub file: String,
    pub path: PathBuf,
    pub downloaded: bool,
}

/// Set once the hub could not be reached while the cache held the file asked for.
static UNREACHABLE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static FETCHES: std::sync::Mutex<Vec<Fetched>> = std::sync::Mutex::new(Vec::new());
static NOTES: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Keeps a line for the caller's log (see [`take_notes`]); the library never prints.
pub(crate) fn push_note(line: String) {
    NOTES.lock().unwrap_or_else(|e| e.into_inner()).push(line);
}

/// The hub files fetched for repository `id` since the last call (removed from the log).
pub(crate) fn take_fetches(id: &str) -> Vec<Fetched> {
    let mut all = FETCHES.lock().unwrap_or_else(|e| e.into_inner());
    let (mine, rest): (Vec<Fetched>, Vec<Fetched>) = all.drain(..).partition(|f| f.id == id);
    *all = rest;
    mine
}

/// One line saying which files of one repository were downloaded (from where, into which
/// folder) and which came from the cache.
pub(crate) fn describe_fetches(fetched: &[Fetched]) -> Option<String> {
    let first = fetched.first()?;
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let list = |dl: bool| -> (Vec<String>, u64) {
        let mut seen = std::collections::BTreeSet::new();
        let mut names = Vec::new();
        let mut bytes = 0;
        for f in fetched.iter().filter(|f| f.downloaded == dl) {
            if seen.insert(f.file.clone()) {
                names.push(f.file.clone());
                bytes += size(&f.path);
            }
        }
        (names, bytes)
    };
    let (down, down_bytes) = list(true);
    let (cached, _) = list(false);
    let dir = first.path.parent().map(|d| d.display().to_string()).unwrap_or_default();
    let mut line = format!("hub: {}@{}", first.id, first.revision);
    if !down.is_empty() {
        line.push_str(&format!(
            ": downloaded {} ({} file(s), {} bytes) from {} into {dir}",
            down.join(", "),
            down.len(),
            down_bytes,
            hub_endpoint()
        ));
    }
    if !cached.is_empty() {
        line.push_str(&format!(
            "{} {} from the cache ({dir})",
            if down.is_empty() { ":" } else { ";" },
            cached.join(", ")
        ));
    }
    Some(line)
}

/// The log lines of the models loaded since the last call: hub downloads (which files, from
/// where), and each summarizer's generation settings. For the caller to print (the CLI writes
/// them to stderr as `kpeval: …`).
pub fn take_notes() -> Vec<String> {
    let mut out: Vec<String> =
        std::mem::take(&mut *NOTES.lock().unwrap_or_else(|e| e.into_inner()));
    let rest: Vec<Fetched> =
        std::mem::take(&mut *FETCHES.lock().unwrap_or_else(|e| e.into_inner()));
    let mut ids: Vec<(String, String)> = Vec::new();
    for f in &rest {
        if !ids.iter().any(|(i, r)| i == &f.id && r == &f.revision) {
            ids.push((f.id.clone(), f.revision.clone()));
        }
    }
    for (id, rev) in ids {
        let mine: Vec<Fetched> =
            rest.iter().filter(|f| f.id == id && f.revision == rev).cloned().collect();
        out.extend(describe_fetches(&mine));
    }
    out
}

/// A file of a hub repository at a revision, through rust-bert's download cache
/// (`<cache>/kpeval/<owner--name>/<revision>/`, files named by the sha256 of their URL and ETag),
/// from [`hub_endpoint`], returned as its link under its own name in the repository's snapshot
/// folder (see [`snapshot_dir`]). Offline, only what that cache already holds; a commit
/// revision's cached file (or remembered 404) is used without asking the server, and so is a
/// cached file when the server cannot be reached (said in the log). Downloads go to a temporary file renamed into
/// place once complete (an interrupted download leaves nothing that a later run would load),
/// under a per-file lock (concurrent first runs download each file once). A stalled connection
/// fails after `KPEVAL_HUB_TIMEOUT` seconds (vendored rust-bert patch 11); 502/503/504 answers
/// are retried twice.
pub(crate) fn hub_fetch(
    id: &str,
    revision: &str,
    file: &str,
    offline: bool,
) -> std::result::Result<PathBuf, FetchError> {
    let url = hub_url(id, revision, file);
    let subdir = format!("kpeval/{}/{revision}", id.replace('/', "--"));
    let cached = cached_offline(&url, &subdir);
    let record = |path: &PathBuf, downloaded: bool| {
        FETCHES.lock().unwrap_or_else(|e| e.into_inner()).push(Fetched {
            id: id.to_string(),
            revision: revision.to_string(),
            file: file.to_string(),
            path: path.clone(),
            downloaded,
        });
    };
    // A commit's 404 is remembered (as huggingface_hub does): its files never change.
    let no_exist = rustbert_cache_dir().join(&subdir).join(".no_exist").join(file);
    if is_commit(revision) && cached.is_none() && no_exist.is_file() {
        return Err(FetchError::NotFound(format!(
            "{file}: not in {id} at revision {revision} (HTTP 404, remembered in {})",
            no_exist.display()
        )));
    }
    let unreachable = UNREACHABLE.load(std::sync::atomic::Ordering::Relaxed);
    if offline || ((is_commit(revision) || unreachable) && cached.is_some()) {
        return match cached {
            Some(blob) => {
                let p = snapshot_link(id, revision, file, &blob).map_err(FetchError::Failed)?;
                record(&p, false);
                Ok(p)
            }
            None => Err(FetchError::NotCached(format!(
                "{file} of {id}@{revision} is not in the download cache ({}) and downloads are off (--offline / KPEVAL_OFFLINE / HF_HUB_OFFLINE)",
                rustbert_cache_dir().join(&subdir).display()
            ))),
        };
    }
    if unreachable {
        return Err(FetchError::NotCached(format!(
            "{file} of {id}@{revision} is not in the download cache ({}) and {} could not be reached",
            rustbert_cache_dir().join(&subdir).display(),
            hub_endpoint()
        )));
    }
    let mut attempt = 0;
    loop {
        match RemoteResource::new(&url, &subdir).get_local_path() {
            Ok(blob) => {
                let p = snapshot_link(id, revision, file, &blob).map_err(FetchError::Failed)?;
                record(&p, cached.as_ref() != Some(&blob));
                return Ok(p);
            }
            Err(e) => {
                let msg = e.to_string();
                // cached-path's errors are reqwest's: the status is only in the message.
                if msg.contains("404 Not Found") {
                    if is_commit(revision) {
                        if let Some(d) = no_exist.parent() {
                            let _ = std::fs::create_dir_all(d)
                                .and_then(|_| std::fs::write(&no_exist, b""));
                        }
                    }
                    return Err(FetchError::NotFound(format!(
                        "{file}: not found at {url} (HTTP 404: no such file in {id} at revision {revision})"
                    )));
                }
                let transient =
                    ["502 Bad Gateway", "503 Service Unavailable", "504 Gateway Timeout"]
                        .iter()
                        .any(|s| msg.contains(s));
                if transient && attempt < 2 {
                    attempt += 1;
                    std::thread::sleep(std::time::Duration::from_millis(500 << attempt));
                    continue;
                }
                // The server cannot be reached (refused, reset, timed out) but the cache holds
                // the file: use it, as huggingface_hub does, and say so once. The rest of this
                // process's hub files then come from the cache without asking again.
                if let Some(blob) = &cached {
                    if !UNREACHABLE.swap(true, std::sync::atomic::Ordering::Relaxed) {
                        push_note(format!(
                            "hub: {} could not be reached ({msg}): using the files already in the download cache",
                            hub_endpoint()
                        ));
                    }
                    let p = snapshot_link(id, revision, file, blob).map_err(FetchError::Failed)?;
                    record(&p, false);
                    return Ok(p);
                }
                let secs = hub_timeout_secs();
                let hint = if msg.contains("timed out") {
                    format!(" (no answer within KPEVAL_HUB_TIMEOUT={secs} s)")
                } else if msg.contains("end of file before message length") {
                    " (the connection closed before the whole file arrived; nothing of it was kept: run again)".to_string()
                } else {
                    String::new()
                };
                return Err(FetchError::Failed(format!(
                    "could not fetch {file} ({url}): {msg}{hint}"
                )));
            }
        }
    }
}

/// The folder where a hub repository's files appear under their own names (symbolic links to
/// the download cache's content-named files, like huggingface_hub's snapshots):
/// `<cache>/kpeval/<owner--name>/<revision>/snapshot/<name>/`. Loaders that go by a file's
/// extension (safetensors, PyTorch zip, rust-bert .ot) read these names.
fn snapshot_dir(id: &str, revision: &str) -> PathBuf {
    let short = id.rsplit('/').next().unwrap_or(id);
    rustbert_cache_dir()
        .join(format!("kpeval/{}/{revision}/snapshot", id.replace('/', "--")))
        .join(short)
}

/// Links `file` in the repository's snapshot folder to the cached `blob` and returns the link.
/// Two processes may link the same file at once: each links under its own temporary name and
/// renames it over the final one (atomic).
fn snapshot_link(
    id: &str,
    revision: &str,
    file: &str,
    blob: &Path,
) -> std::result::Result<PathBuf, String> {
    let link = snapshot_dir(id, revision).join(file);
    if std::fs::read_link(&link).ok().as_deref() == Some(blob) {
        return Ok(link);
    }
    let parent = link.parent().ok_or_else(|| format!("{}: no parent folder", link.display()))?;
    std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    let name = link.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let tmp = parent.join(format!(".{name}.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(blob, &tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, &link).map_err(|e| format!("{}: {e}", link.display()))?;
    Ok(link)
}

/// Seconds a hub request may stall: `KPEVAL_HUB_TIMEOUT`, default 60 (what the vendored
/// rust-bert's download cache is built with).
fn hub_timeout_secs() -> u64 {
    std::env::var("KPEVAL_HUB_TIMEOUT")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|&s| s > 0)
        .unwrap_or(60)
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
/// with a `.meta` beside it) already holds, without any network access. A file is only there
/// once complete: downloads are renamed into place.
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

/// A sentence-transformers repository on the hub as a local folder: modules.json, config.json,
/// the tokenizer files, the weights, the pooling module's config (the folder modules.json names)
/// and sentence_bert_config.json are fetched through [`hub_fetch`], and linked under their own
/// names into `<cache>/kpeval/<owner--name>/<revision>/snapshot/<name>/`, which the embedder
/// then loads like a local folder.
pub(crate) fn sentence_transformers_folder(id_rev: &str, offline: bool) -> Result<PathBuf> {
    let (id, revision) = split_revision(id_rev);
    let offline = offline || offline_from_env();
    let err = |e: FetchError| Error::model(format!("embedding model '{id}@{revision}': {e}"));
    let modules = hub_fetch(&id, &revision, "modules.json", offline).map_err(|e| match e {
        FetchError::NotFound(m) => Error::model(format!(
            "embedding model '{id}@{revision}': {m}; not a sentence-transformers repository (no modules.json)"
        )),
        other => err(other),
    })?;
    let mut files: Vec<(String, PathBuf)> = vec![("modules.json".into(), modules.clone())];
    let required = |f: &str, files: &mut Vec<(String, PathBuf)>| -> Result<()> {
        let p = hub_fetch(&id, &revision, f, offline).map_err(err)?;
        files.push((f.to_string(), p));
        Ok(())
    };
    // Optional files: absent (404) is fine, any other failure is not.
    let optional = |f: &str, files: &mut Vec<(String, PathBuf)>| -> Result<bool> {
        match hub_fetch(&id, &revision, f, offline) {
            Ok(p) => {
                files.push((f.to_string(), p));
                Ok(true)
            }
            Err(FetchError::NotFound(_) | FetchError::NotCached(_)) => Ok(false),
            Err(e) => Err(err(e)),
        }
    };
    required("config.json", &mut files)?;
    required("vocab.txt", &mut files)?;
    for f in ["tokenizer_config.json", "special_tokens_map.json", "sentence_bert_config.json"] {
        optional(f, &mut files)?;
    }
    let pooling_dirs: Vec<String> = read_json(&modules)?
        .as_array()
        .map(|mods| {
            mods.iter()
                .filter(|m| {
                    m.get("type").and_then(|t| t.as_str()).is_some_and(|t| t.ends_with("Pooling"))
                })
                .filter_map(|m| m.get("path").and_then(|p| p.as_str()).map(String::from))
                .collect()
        })
        .unwrap_or_default();
    for d in pooling_dirs.iter().filter(|d| !d.is_empty() && !d.contains("..")) {
        optional(&format!("{d}/config.json"), &mut files)?;
    }
    let mut have_weights = false;
    for w in ["model.safetensors", "pytorch_model.bin", "rust_model.ot"] {
        if optional(w, &mut files)? {
            have_weights = true;
            break;
        }
    }
    if !have_weights {
        return Err(Error::model(format!(
            "embedding model '{id}@{revision}': no weights (model.safetensors, pytorch_model.bin or rust_model.ot){}",
            if offline { " in the download cache, and downloads are off" } else { "" }
        )));
    }
    // Every file fetched is linked under its own name in the snapshot folder.
    let _ = files;
    let dir = snapshot_dir(&id, &revision);
    Ok(dir)
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
            ModelSource::Hub(id_rev) => {
                let (id, revision) = split_revision(&id_rev);
                let offline = offline || offline_from_env();
                let config = hub_fetch(&id, &revision, "config.json", offline)
                    .map_err(|e| Error::model(format!("hub model '{id}@{revision}': {e}")))?;
                Ok(ModelFiles {
                    name: id.clone(),
                    config,
                    files: BTreeMap::new(),
                    origin: format!("hub:{id}@{revision}"),
                    repo: Repo::Hub { id, revision, offline },
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_and_commits() {
        assert_eq!(split_revision("org/name"), ("org/name".to_string(), "main".to_string()));
        assert_eq!(split_revision("org/name@v1.0"), ("org/name".to_string(), "v1.0".to_string()));
        let c = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(split_revision(&format!("org/name@{c}")).1, c);
        assert!(is_commit(c));
        assert!(!is_commit("main"));
        assert!(!is_commit(&c[1..]));
        assert!(!is_commit(&format!("{}g", &c[1..])));
    }

    #[test]
    fn urls_follow_the_hub_layout() {
        // HF_ENDPOINT is not set by any test of this crate.
        if std::env::var_os("HF_ENDPOINT").is_none() {
            assert_eq!(
                hub_url("google-t5/t5-small", "main", "config.json"),
                "https://huggingface.co/google-t5/t5-small/resolve/main/config.json"
            );
        }
        assert!(hub_url("a/b", "c", "1_Pooling/config.json")
            .ends_with("/a/b/resolve/c/1_Pooling/config.json"));
    }
}
