//! On-disk cache of generated summaries, keyed by the summarizer's signature (model, revision,
//! generation settings) and the source text's SHA-256: re-scoring never regenerates.
//! Layout: `<dir>/<sha256(signature)[..16]>/<sha256(text)[..2]>/<sha256(text)>.json`.
use super::{SourceText, Summarizer, Summary};
use crate::error::RecordError;
use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// Whether a failed cache write was reported (once per process).
static WRITE_WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// A model summarizer whose summaries are kept on disk.
pub struct CachedSummarizer {
    /// The summarizer that generates what is not cached.
    pub inner: Box<dyn Summarizer>,
    /// The cache folder.
    pub dir: PathBuf,
    /// Where a failed cache write is reported (once per process); the caller passes it on.
    pub warnings: Option<std::sync::Arc<std::sync::Mutex<Vec<String>>>>,
}

impl CachedSummarizer {
    /// Cache folder: `$KPEVAL_CACHE/summaries` (default `~/.cache/kpeval/summaries`).
    pub fn default_dir() -> Option<PathBuf> {
        std::env::var_os("KPEVAL_CACHE")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/kpeval")))
            .map(|d| d.join("summaries"))
    }

    fn path(&self, text: &str) -> PathBuf {
        let sig = hex::encode(Sha256::digest(self.inner.signature().as_bytes()));
        let h = hex::encode(Sha256::digest(text.as_bytes()));
        self.dir.join(&sig[..16]).join(&h[..2]).join(format!("{h}.json"))
    }
}

impl Summarizer for CachedSummarizer {
    fn name(&self) -> String {
        self.inner.name()
    }
    fn signature(&self) -> String {
        self.inner.signature()
    }
    fn generation_stats(&self) -> Option<super::GenerationStats> {
        self.inner.generation_stats()
    }
    fn summarize(&self, batch: &[SourceText]) -> Vec<Result<Summary, RecordError>> {
        let mut out: Vec<Option<Result<Summary, RecordError>>> = batch
            .iter()
            .map(|s| {
                std::fs::read(self.path(&s.text))
                    .ok()
                    .and_then(|b| serde_json::from_slice::<Summary>(&b).ok())
                    // key points are always the summary's sentences, whatever the entry says
                    .map(|c| Ok(Summary::from_text(&c.system, c.text, c.notes)))
            })
            .collect();
        let missing: Vec<usize> = (0..batch.len()).filter(|&i| out[i].is_none()).collect();
        if !missing.is_empty() {
            let todo: Vec<SourceText> = missing.iter().map(|&i| batch[i].clone()).collect();
            for (&i, res) in missing.iter().zip(self.inner.summarize(&todo)) {
                if let Ok(sum) = &res {
                    let p = self.path(&batch[i].text);
                    // Write then rename: a killed run never leaves a half-written entry.
                    if let Some(parent) = p.parent() {
                        let _ = std::fs::create_dir_all(parent);
                    }
                    let tmp = p.with_extension(format!("tmp{}", std::process::id()));
                    if let Ok(bytes) = serde_json::to_vec(sum) {
                        if let Err(e) =
                            std::fs::write(&tmp, bytes).and_then(|_| std::fs::rename(&tmp, &p))
                        {
                            let _ = std::fs::remove_file(&tmp);
                            if !WRITE_WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
                                if let Some(w) = &self.warnings {
                                    w.lock().unwrap_or_else(|e| e.into_inner()).push(format!(
                                        "summaries are not cached: cannot write {} ({e})",
                                        p.display()
                                    ));
                                }
                            }
                        }
                    }
                }
                out[i] = Some(res);
            }
        }
        out.into_iter().map(|r| r.expect("every slot filled")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    struct Counting(Arc<AtomicUsize>);
    impl Summarizer for Counting {
        fn name(&self) -> String {
            "count".into()
        }
        fn signature(&self) -> String {
            "count-v1".into()
        }
        fn summarize(&self, batch: &[SourceText]) -> Vec<Result<Summary, RecordError>> {
            self.0.fetch_add(batch.len(), Ordering::SeqCst);
            batch
                .iter()
                .map(|s| Ok(Summary::from_text("count", format!("Summary of {}.", s.id), vec![])))
                .collect()
        }
    }

    #[test]
    fn second_call_hits_the_cache() {
        let dir = tempfile::tempdir().unwrap();
        let calls = Arc::new(AtomicUsize::new(0));
        let c = CachedSummarizer {
            inner: Box::new(Counting(calls.clone())),
            dir: dir.path().to_path_buf(),
            warnings: None,
        };
        let batch = vec![
            SourceText { id: "a".into(), text: "Text A.".into() },
            SourceText { id: "b".into(), text: "Text B.".into() },
        ];
        let first: Vec<Summary> = c.summarize(&batch).into_iter().map(Result::unwrap).collect();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        let more = vec![batch[1].clone(), SourceText { id: "c".into(), text: "Text C.".into() }];
        let second: Vec<Summary> = c.summarize(&more).into_iter().map(Result::unwrap).collect();
        assert_eq!(second[0], first[1], "cached summary returned as generated");
        assert_eq!(calls.load(Ordering::SeqCst), 3, "only the new text was generated");
        // An entry edited by hand: its key points are the text's sentences again.
        let p = c.path("Text A.");
        std::fs::write(&p, r#"{"system":"count","text":"Edited. Second one.","key_points":["only one"],"notes":[]}"#).unwrap();
        let edited = c.summarize(&batch[..1]).remove(0).unwrap();
        assert_eq!(edited.key_points, vec!["Edited.".to_string(), "Second one.".to_string()]);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        // Another signature does not see these entries.
        struct Other(Arc<AtomicUsize>);
        impl Summarizer for Other {
            fn name(&self) -> String {
                "count".into()
            }
            fn signature(&self) -> String {
                "count-v2".into()
            }
            fn summarize(&self, batch: &[SourceText]) -> Vec<Result<Summary, RecordError>> {
                self.0.fetch_add(batch.len(), Ordering::SeqCst);
                batch.iter().map(|_| Ok(Summary::from_text("count", "x".into(), vec![]))).collect()
            }
        }
        let c2 = CachedSummarizer {
            inner: Box::new(Other(calls.clone())),
            dir: dir.path().to_path_buf(),
            warnings: None,
        };
        c2.summarize(&batch);
        assert_eq!(calls.load(Ordering::SeqCst), 5);
    }
}
