//! Weights revisions for signatures: the first 12 hex digits of the sha256 of a model's weight
//! files (concatenated, in order). Hashing a 1.2 GB checkpoint takes longer than mapping it, so
//! digests are remembered in `$KPEVAL_CACHE/weights-sha256.jsonl` (default
//! `~/.cache/kpeval`), keyed by each file's canonical path, size, modification time and inode:
//! a file that changes in any of these is hashed again. The cache is an optimization only; when
//! it cannot be read or written the files are hashed every time.
use kpeval::error::{Error, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct FileStamp {
    path: String,
    size: u64,
    mtime_ns: i128,
    ino: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    files: Vec<FileStamp>,
    sha256: String,
}

fn stamp(path: &Path) -> Option<FileStamp> {
    use std::os::unix::fs::MetadataExt;
    let canon = std::fs::canonicalize(path).ok()?;
    let m = std::fs::metadata(&canon).ok()?;
    Some(FileStamp {
        path: canon.to_string_lossy().into_owned(),
        size: m.len(),
        mtime_ns: m.mtime() as i128 * 1_000_000_000 + m.mtime_nsec() as i128,
        ino: m.ino(),
    })
}

fn cache_file() -> Option<PathBuf> {
    std::env::var_os("KPEVAL_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/kpeval")))
        .map(|d| d.join("weights-sha256.jsonl"))
}

/// Full sha256 (hex) of the files' concatenated bytes, without a cache.
pub fn sha256_of(files: &[PathBuf]) -> Result<String> {
    let mut h = Sha256::new();
    for f in files {
        let mut r = std::fs::File::open(f).map_err(|e| Error::io(f, e))?;
        std::io::copy(&mut r, &mut h).map_err(|e| Error::io(f, e))?;
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// First 12 hex digits of the sha256 of the files, from the cache when their stamps match.
pub fn weights_revision(files: &[PathBuf]) -> Result<String> {
    let stamps: Option<Vec<FileStamp>> = files.iter().map(|f| stamp(f)).collect();
    let cache = cache_file();
    if let (Some(stamps), Some(cache)) = (&stamps, &cache) {
        if let Ok(text) = std::fs::read_to_string(cache) {
            // The last matching entry wins (a file rewritten in place within one mtime tick
            // keeps its stamp; that is the usual limit of stat-based caches, as in git).
            if let Some(e) = text
                .lines()
                .filter_map(|l| serde_json::from_str::<Entry>(l).ok())
                .rfind(|e| &e.files == stamps)
            {
                if e.sha256.len() == 64 {
                    return Ok(e.sha256[..12].to_string());
                }
            }
        }
    }
    let full = sha256_of(files)?;
    if let (Some(stamps), Some(cache)) = (stamps, cache) {
        if let Ok(line) = serde_json::to_string(&Entry { files: stamps, sha256: full.clone() }) {
            let _ = cache.parent().map(std::fs::create_dir_all);
            if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(&cache) {
                let _ = f.write_all(format!("{line}\n").as_bytes());
            }
        }
    }
    Ok(full[..12].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_revision_follows_file_changes() {
        let dir = std::env::temp_dir().join(format!("kpeval-rev-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::env::set_var("KPEVAL_CACHE", &dir);
        let w = dir.join("w.bin");
        std::fs::write(&w, b"abc").unwrap();
        // sha256("abc") = ba7816bf8f01cfea...
        assert_eq!(weights_revision(std::slice::from_ref(&w)).unwrap(), "ba7816bf8f01");
        assert!(std::fs::read_to_string(dir.join("weights-sha256.jsonl"))
            .unwrap()
            .contains("ba7816bf8f01cfea"));
        // Served from the cache (same stamp) ...
        assert_eq!(weights_revision(std::slice::from_ref(&w)).unwrap(), "ba7816bf8f01");
        // ... and recomputed when the file changes (size differs).
        std::fs::write(&w, b"abcd").unwrap();
        assert_eq!(
            weights_revision(std::slice::from_ref(&w)).unwrap(),
            sha256_of(std::slice::from_ref(&w)).unwrap()[..12]
        );
        assert_ne!(weights_revision(std::slice::from_ref(&w)).unwrap(), "ba7816bf8f01");
        // Two files: the digest of their concatenation.
        let v = dir.join("v.bin");
        std::fs::write(&v, b"bc").unwrap();
        std::fs::write(&w, b"a").unwrap();
        assert_eq!(weights_revision(&[w, v]).unwrap(), "ba7816bf8f01");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
