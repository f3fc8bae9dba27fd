//! Generation: padded batches through rust-bert's generator (forced EOS emulated, per-input
//! sampling seeds) and the warm-up step.
use super::model::{Arch, Gen, Generated, Seq2SeqSummarizer};
use kpeval::error::{Error, Result};
use rust_bert::pipelines::generation_utils::GenerateOptions;
use sha2::{Digest, Sha256};
use tch::Tensor;

impl Seq2SeqSummarizer {
    /// Generates for already tokenized inputs, `batch_size` sequences at a time.
    pub fn generate_ids(&self, inputs: &[Vec<i64>], with_scores: bool) -> Result<Vec<Generated>> {
        let g = self.inner.lock().map_err(|_| Error::model("summarizer lock poisoned"))?;
        let mut out = Vec::with_capacity(inputs.len());
        for chunk in inputs.chunks(self.batch_size.max(1)) {
            out.extend(self.generate_batch(&g, chunk, with_scores, None).map_err(Error::model)?);
        }
        Ok(out)
    }

    /// One decoding step on short copies of the first batch's inputs, as many rows as that
    /// batch: what the first step of a process does once (libtorch and MKL set-up, the decoder
    /// weights packed for this row count, the int8 LM-head copy of greedy search) is done here,
    /// outside the generation time, as a warm-up call does for transformers. Its output is
    /// discarded; it changes no result.
    pub(super) fn warm_up(&self, g: &Gen, first_batch: &[Vec<i64>]) {
        let probe: Vec<Vec<i64>> = first_batch
            .iter()
            .map(|ids| match ids.len() {
                0..=16 => ids.clone(),
                n => ids[..15].iter().chain(&ids[n - 1..]).copied().collect(),
            })
            .collect();
        let started = std::time::Instant::now();
        let _ = self.generate_batch(g, &probe, false, Some(2));
        if let Ok(mut st) = self.stats.lock() {
            st.warmup_seconds += started.elapsed().as_secs_f64();
        }
    }

    /// `max_length`: instead of the settings' (the warm-up), with min_length 0.
    pub(super) fn generate_batch(
        &self,
        g: &Gen,
        inputs: &[Vec<i64>],
        with_scores: bool,
        max_length: Option<i64>,
    ) -> std::result::Result<Vec<Generated>, String> {
        if inputs.is_empty() {
            return Ok(Vec::new());
        }
        if self.settings.do_sample && inputs.len() > 1 {
            // Each input sampled on its own, from a seed of its own (below): a sampled summary
            // must not depend on which inputs share its batch (batch size, shards, resume, cache).
            let mut out = Vec::with_capacity(inputs.len());
            for one in inputs {
                out.extend(self.generate_batch(
                    g,
                    std::slice::from_ref(one),
                    with_scores,
                    max_length,
                )?);
            }
            return Ok(out);
        }
        let width = inputs.iter().map(|v| v.len()).max().unwrap_or(0).max(1);
        let mut ids = vec![self.ids.pad; inputs.len() * width];
        let mut mask = vec![0i64; inputs.len() * width];
        for (r, row) in inputs.iter().enumerate() {
            for (c, &t) in row.iter().enumerate() {
                ids[r * width + c] = t;
                mask[r * width + c] = 1;
            }
        }
        let shape = [inputs.len() as i64, width as i64];
        let ids = Tensor::from_slice(&ids).view(shape).to(self.device);
        let mask = Tensor::from_slice(&mask).view(shape).to(self.device);
        // Forced EOS at the last step where the architecture's generator lacks it (Pegasus).
        let emulate_eos = match (self.arch, self.ids.forced_eos) {
            (Arch::Bart, _) | (_, None) => None,
            (_, Some(e)) => Some(e),
        };
        let all: Vec<i64> =
            if emulate_eos.is_some() { (0..self.vocab_size).collect() } else { Vec::new() };
        let last = self.settings.max_length as i64 - 1;
        let force = move |_batch: i64, prefix: &Tensor| -> Vec<i64> {
            match emulate_eos {
                Some(e) if prefix.size().first().copied() == Some(last) => vec![e],
                _ => all.clone(),
            }
        };
        let opts = GenerateOptions {
            forced_bos_token_id: if self.arch == Arch::Bart { None } else { self.ids.forced_bos },
            prefix_allowed_tokens_fn: if emulate_eos.is_some() { Some(&force) } else { None },
            // greedy scores are not kept; not asking for them lets greedy steps screen the LM
            // head (vendored rust-bert patch 10)
            output_scores: with_scores && self.settings.num_beams > 1,
            min_length: max_length.map(|_| 0),
            max_length,
            encoder_no_repeat_ngram_size: Some(self.settings.encoder_no_repeat_ngram_size as i64),
            ..Default::default()
        };
        if self.settings.do_sample {
            tch::manual_seed(sample_seed(self.settings.seed, &inputs[0]));
        }
        let res =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| g.generate(ids, mask, opts)))
                .map_err(|p| {
                    let msg = p
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    format!("generation failed (rust-bert panicked: {msg})")
                })?
                .map_err(|e| format!("generation failed: {e}"))?;
        if res.len() != inputs.len() {
            return Err(format!(
                "generation returned {} sequences for {} inputs",
                res.len(),
                inputs.len()
            ));
        }
        Ok(res
            .into_iter()
            .map(|o| {
                let mut v: Vec<i64> = o.indices.into_iter().skip(1).collect();
                if let Some(p) = v.iter().position(|&t| t == self.ids.eos) {
                    v.truncate(p + 1);
                }
                Generated {
                    ids: v,
                    score: if with_scores && self.settings.num_beams > 1 { o.score } else { None },
                }
            })
            .collect())
    }
}

/// The sampling seed of one input: `--seed` and the input's token ids, hashed.
fn sample_seed(seed: u64, ids: &[i64]) -> i64 {
    let mut h = Sha256::new();
    h.update(seed.to_le_bytes());
    for t in ids {
        h.update(t.to_le_bytes());
    }
    let d = h.finalize();
    (u64::from_le_bytes(d[..8].try_into().unwrap()) >> 1) as i64
}
