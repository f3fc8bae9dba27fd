//! Reading model files: JSON and configs, and the digests that name them in signatures.
use kpeval::error::{Error, Result};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

pub(crate) fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text)
        .map_err(|e| Error::Json { context: path.display().to_string(), source: e })
}

pub(crate) fn parse_config<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| {
        Error::model(format!("{}: not a config rust-bert can read: {e}", path.display()))
    })
}

/// First 12 hex digits of the file's sha256 (the model revision in signatures).
pub(crate) fn short_sha256(path: &Path) -> Result<String> {
    crate::revision::weights_revision(&[path.to_path_buf()])
}

pub(crate) fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// First 12 hex digits of the sha256 of the files' names and contents, in order.
pub(crate) fn files_digest(paths: &[PathBuf]) -> Result<String> {
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
