//! Helpers shared by the BERT-family encoders (NLI, embeddings, BERTScore): LayerNorm eps
//! reparameterization, position checks and RoBERTa position ids.
use kpeval::error::{Error, Result};
use serde_json::Value;

/// The reparameterization that makes rust-bert's BERT/RoBERTa layers (LayerNorm eps fixed at
/// 1e-12) compute what transformers computes with `layer_norm_eps`: all hidden states carried
/// scaled by c = sqrt(1e-12 / eps). Returns None when eps is 1e-12 already.
pub(crate) fn bert_eps_scale(layer_norm_eps: f64) -> Option<impl Fn(&str) -> f64> {
    if (layer_norm_eps - 1e-12).abs() <= 1e-18 {
        return None;
    }
    let c = (1e-12 / layer_norm_eps).sqrt();
    Some(move |name: &str| -> f64 {
        let ends = |s: &str| name.ends_with(s);
        if ends("embeddings.word_embeddings.weight")
            || ends("embeddings.position_embeddings.weight")
            || ends("embeddings.token_type_embeddings.weight")
            || name.contains("LayerNorm.")
        {
            c
        } else if ends("attention.self.query.weight") || ends("attention.self.key.weight") {
            1.0 / c
        } else if ends("attention.self.value.bias") || ends("attention.output.dense.bias") {
            c
        } else if ends("attention.output.dense.weight") {
            1.0
        } else if ends("intermediate.dense.weight") {
            1.0 / c
        } else if name.contains(".layer.")
            && (ends("output.dense.weight") || ends("output.dense.bias"))
        {
            c
        } else if ends("pooler.dense.weight") || name == "classifier.dense.weight" {
            // Heads that read a hidden state: BERT's pooler, RoBERTa's classification head.
            1.0 / c
        } else {
            1.0
        }
    })
}

/// Layer-norm eps of a BERT-style config.json (transformers' default 1e-12).
pub(crate) fn config_eps(raw: &Value) -> f64 {
    raw.get("layer_norm_eps").and_then(|v| v.as_f64()).unwrap_or(1e-12)
}

/// rust-bert's BERT implements absolute positions only.
pub(crate) fn check_absolute_positions(raw: &Value, origin: &str) -> Result<()> {
    match raw.get("position_embedding_type").and_then(|v| v.as_str()) {
        None | Some("absolute") => Ok(()),
        Some(other) => Err(Error::model(format!("{origin}: position_embedding_type '{other}' is not supported by rust-bert (absolute only)"))),
    }
}

/// RoBERTa position ids as transformers computes them: pad positions get `pad`, others count
/// from `pad + 1`.
pub(crate) fn roberta_positions(ids: &[i64], pad: i64) -> Vec<i64> {
    let mut n = 0;
    ids.iter()
        .map(|&t| {
            if t == pad {
                pad
            } else {
                n += 1;
                n + pad
            }
        })
        .collect()
}
