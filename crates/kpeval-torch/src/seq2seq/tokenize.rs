//! Text to token ids and back as transformers does it (sentencepiece normalization, Metaspace
//! decoding, clean-up), and BPE files from a fast tokenizer's tokenizer.json.
use super::model::Seq2SeqSummarizer;
use crate::files::hex_sha256;
use kpeval::error::{Error, Result};
use rust_bert::pipelines::common::TokenizerOption;
use rust_tokenizers::tokenizer::{Tokenizer, TruncationStrategy};
use serde_json::Value;
use std::path::{Path, PathBuf};

impl Seq2SeqSummarizer {
    /// Whitespace as sentencepiece's normalizer sees it (each run one space, ends trimmed),
    /// which rust_tokenizers' sentencepiece tokenizers do not do themselves. A run with a line
    /// break becomes one `\n` (tokenized like a space) so that paragraph ends still end sentences.
    pub fn normalize(&self, text: &str) -> String {
        if !self.arch.sentencepiece() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut run: Option<bool> = None; // in a whitespace run; whether it has a line break
        for c in text.trim().chars() {
            if c.is_whitespace() {
                let nl = matches!(c, '\n' | '\r');
                run = Some(run.unwrap_or(false) || nl);
            } else {
                if let Some(nl) = run.take() {
                    out.push(if nl { '\n' } else { ' ' });
                }
                out.push(c);
            }
        }
        out
    }

    pub(super) fn encode_with(tok: &TokenizerOption, text: &str) -> Vec<i64> {
        tok.encode_list(&[text], 1 << 30, &TruncationStrategy::DoNotTruncate, 0)
            .into_iter()
            .next()
            .map(|t| t.token_ids)
            .unwrap_or_default()
    }

    /// Token ids of a source as the model sees it (prefix and special tokens included).
    pub fn encode(&self, text: &str) -> Result<Vec<i64>> {
        let g = self.inner.lock().map_err(|_| Error::model("summarizer lock poisoned"))?;
        Ok(Self::encode_with(g.tokenizer(), &format!("{}{}", self.prefix, self.normalize(text))))
    }

    pub(super) fn decode_with(&self, tok: &TokenizerOption, ids: &[i64]) -> String {
        let text = match tok {
            TokenizerOption::Bart(t) => {
                let tokens = t.decode_to_vec(ids, true);
                t.convert_tokens_to_string(tokens)
            }
            TokenizerOption::T5(t) => metaspace_join(t.decode_to_vec(ids, true)),
            TokenizerOption::Pegasus(t) => metaspace_join(t.decode_to_vec(ids, true)),
            other => other.decode(ids, true, false),
        };
        if self.clean_up_spaces {
            hf_clean_up(&text)
        } else {
            text
        }
    }

    /// Text of generated ids, as transformers' `decode(skip_special_tokens=True)` gives it.
    pub fn decode(&self, ids: &[i64]) -> Result<String> {
        let g = self.inner.lock().map_err(|_| Error::model("summarizer lock poisoned"))?;
        Ok(self.decode_with(g.tokenizer(), ids))
    }
}

/// vocab.json and merges.txt (the slow BPE tokenizer's files, which rust-bert reads) written
/// from a fast tokenizer's tokenizer.json into a folder keyed by its digest.
pub(super) fn bpe_files_from_tokenizer_json(
    path: &Path,
) -> std::result::Result<(PathBuf, PathBuf), String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let v: Value = serde_json::from_slice(&bytes).map_err(|e| format!("not JSON: {e}"))?;
    let model = v.get("model").ok_or("no \"model\"")?;
    if model.get("type").and_then(|t| t.as_str()) != Some("BPE") {
        return Err(format!(
            "its model is {} , not BPE",
            model.get("type").map_or("missing".to_string(), |t| t.to_string())
        ));
    }
    let vocab = model.get("vocab").and_then(|x| x.as_object()).ok_or("no BPE vocab")?;
    let merges = model.get("merges").and_then(|x| x.as_array()).ok_or("no BPE merges")?;
    let mut lines = String::from("#version: 0.2\n");
    for m in merges {
        // "a b" (tokenizers < 0.20) or ["a", "b"]
        let line = match m {
            Value::String(s) => s.clone(),
            Value::Array(p) if p.len() == 2 => format!(
                "{} {}",
                p[0].as_str().ok_or("a merge that is not text")?,
                p[1].as_str().ok_or("a merge that is not text")?
            ),
            _ => return Err("a merge that is neither \"a b\" nor [a, b]".into()),
        };
        lines.push_str(&line);
        lines.push('\n');
    }
    let dir = std::env::temp_dir().join(format!("kpeval-bpe-{}", &hex_sha256(&bytes)[..16]));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let (vp, mp) = (dir.join("vocab.json"), dir.join("merges.txt"));
    let write = |p: &Path, data: &[u8]| -> std::result::Result<(), String> {
        let tmp = p.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, data)
            .and_then(|_| std::fs::rename(&tmp, p))
            .map_err(|e| format!("{}: {e}", p.display()))
    };
    write(&vp, serde_json::to_string(vocab).map_err(|e| e.to_string())?.as_bytes())?;
    write(&mp, lines.as_bytes())?;
    Ok((vp, mp))
}

/// Joins sentencepiece pieces as the `Metaspace` decoder of transformers' fast tokenizers does:
/// `▁` becomes a space, except in the first piece, where it is dropped.
fn metaspace_join(tokens: Vec<String>) -> String {
    tokens
        .iter()
        .enumerate()
        .map(|(i, t)| if i == 0 { t.replace('\u{2581}', "") } else { t.replace('\u{2581}', " ") })
        .collect()
}

/// transformers' `clean_up_tokenization` (rust_tokenizers' version also rewrites " do not").
fn hf_clean_up(s: &str) -> String {
    s.replace(" .", ".")
        .replace(" ?", "?")
        .replace(" !", "!")
        .replace(" ,", ",")
        .replace(" ' ", "'")
        .replace(" n't", "n't")
        .replace(" 'm", "'m")
        .replace(" 's", "'s")
        .replace(" 've", "'ve")
        .replace(" 're", "'re")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metaspace_and_cleanup() {
        assert_eq!(
            metaspace_join(vec!["\u{2581}The".into(), "\u{2581}cat".into(), "s".into()]),
            "The cats"
        );
        assert_eq!(hf_clean_up("I do not know , really ."), "I do not know, really.");
    }
}
