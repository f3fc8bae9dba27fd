//! The [`Summarizer`] implementation: records planned into chunks, generated together, merged
//! (concatenated or summarized again, pass after pass), and the signature.
use super::model::{Seq2SeqSummarizer, MAX_PASSES};
use kpeval::backend::LongMerge;
use kpeval::error::{RecordError, Result};
use kpeval::summarize::{SourceText, Summarizer, Summary};

impl Seq2SeqSummarizer {
    /// The settings part of the signature.
    fn settings_signature(&self) -> String {
        let s = &self.settings;
        let mut parts = vec![
            format!("arch={}", self.arch.as_str()),
            format!("num_beams={}", s.num_beams),
            format!("min_length={}", s.min_length),
            format!("max_length={}", s.max_length),
            format!("length_penalty={}", s.length_penalty),
            format!("no_repeat_ngram_size={}", s.no_repeat_ngram_size),
            format!("early_stopping={}", s.early_stopping),
            format!("do_sample={}", s.do_sample),
        ];
        // only when set, so that the signatures of runs without them stay what they were
        if s.repetition_penalty != 1.0 {
            parts.push(format!("repetition_penalty={}", s.repetition_penalty));
        }
        if s.encoder_no_repeat_ngram_size > 0 {
            parts.push(format!("encoder_no_repeat_ngram_size={}", s.encoder_no_repeat_ngram_size));
        }
        if s.do_sample {
            parts.push(format!("seed={}", s.seed));
        }
        parts.push(format!("max_input={}", self.max_input_tokens));
        if !self.prefix.is_empty() {
            parts.push(format!("prefix={:?}", self.prefix));
        }
        parts.push(format!("long=sentence-chunks+overlap1+{}", s.long_merge.as_str()));
        parts.push(format!("runtime={}", crate::runtime::runtime_tag(self.device)));
        // decoder GEMMs on MKL-packed weights (vendored rust-bert patch 8): last-bit differences
        if self.device == tch::Device::Cpu && rust_bert::packed::available() {
            parts.push("gemm=mkl-packed".into());
        }
        parts.join(",")
    }
}

impl Summarizer for Seq2SeqSummarizer {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn signature(&self) -> String {
        format!("{}@{}({})", self.name, self.revision, self.settings_signature())
    }

    fn generation_stats(&self) -> Option<kpeval::summarize::GenerationStats> {
        self.stats.lock().ok().map(|s| *s)
    }

    fn summarize(&self, batch: &[SourceText]) -> Vec<Result<Summary, RecordError>> {
        let g = match self.inner.lock() {
            Ok(g) => g,
            Err(_) => {
                return batch
                    .iter()
                    .map(|_| Err(RecordError::new("summarize", "summarizer lock poisoned")))
                    .collect()
            }
        };
        let tok = g.tokenizer();
        let mut results: Vec<Option<Result<Summary, RecordError>>> =
            (0..batch.len()).map(|_| None).collect();
        let mut notes: Vec<Vec<String>> = vec![Vec::new(); batch.len()];
        // (record, text of this pass, tokens of the previous pass's text)
        let mut round: Vec<(usize, String, usize)> = Vec::new();
        for (i, s) in batch.iter().enumerate() {
            if s.text.trim().is_empty() {
                results[i] = Some(Err(RecordError::new(
                    "summarize",
                    format!("record '{}': the selected source text is empty", s.id),
                )));
            } else {
                round.push((i, s.text.clone(), usize::MAX));
            }
        }
        let second_pass = self.settings.long_merge == LongMerge::SecondPass;
        let mut pass = 0;
        while !round.is_empty() {
            pass += 1;
            // Plan every record of this pass, then generate all chunks together.
            let mut plans: Vec<(usize, usize, usize, bool, usize)> =
                Vec::with_capacity(round.len()); // record, start, chunks, last pass, tokens
            let mut inputs: Vec<Vec<i64>> = Vec::new();
            for (i, text, prev_tokens) in &round {
                let plan = self.plan(tok, text);
                if pass > 1 && plan.tokens >= *prev_tokens {
                    // Summarizing the summaries again would not shorten them: keep them as they are.
                    notes[*i].push(format!(
                        "pass {pass}: the chunk summaries ({} tokens) are not shorter than the text they summarize ({prev_tokens} tokens): concatenated",
                        plan.tokens
                    ));
                    results[*i] = Some(Ok(Summary::from_text(
                        &self.name,
                        text.clone(),
                        std::mem::take(&mut notes[*i]),
                    )));
                    continue;
                }
                let last = !second_pass || plan.ids.len() == 1 || pass == MAX_PASSES;
                notes[*i].extend(self.plan_notes(&plan, pass, last));
                if pass == MAX_PASSES && plan.ids.len() > 1 && second_pass {
                    notes[*i].push(format!("stopped after {MAX_PASSES} passes"));
                }
                plans.push((*i, inputs.len(), plan.ids.len(), last, plan.tokens));
                inputs.extend(plan.ids);
            }
            let mut outputs: Vec<std::result::Result<Vec<i64>, String>> =
                Vec::with_capacity(inputs.len());
            if !inputs.is_empty() && !self.warmed.swap(true, std::sync::atomic::Ordering::Relaxed) {
                self.warm_up(&g, &inputs[..inputs.len().min(self.batch_size.max(1))]);
            }
            let started = std::time::Instant::now();
            for chunk in inputs.chunks(self.batch_size.max(1)) {
                match self.generate_batch(&g, chunk, false, None) {
                    Ok(v) => outputs.extend(v.into_iter().map(|x| Ok(x.ids))),
                    Err(e) => outputs.extend(chunk.iter().map(|_| Err(e.clone()))),
                }
            }
            if let Ok(mut st) = self.stats.lock() {
                st.seconds += started.elapsed().as_secs_f64();
                st.sequences += inputs.len();
                st.tokens +=
                    outputs.iter().map(|o| o.as_ref().map_or(0, |ids| ids.len())).sum::<usize>();
            }
            let mut next = Vec::new();
            'records: for (i, start, n, last, tokens) in plans {
                let mut texts = Vec::with_capacity(n);
                for out in &outputs[start..start + n] {
                    match out {
                        Ok(ids) => texts.push(self.decode_with(tok, ids).trim().to_string()),
                        Err(e) => {
                            let s = &batch[i];
                            results[i] = Some(Err(RecordError::new(
                                "summarize",
                                format!(
                                    "record '{}': {} ({}): {e}",
                                    s.id,
                                    self.name,
                                    self.arch.as_str()
                                ),
                            )));
                            continue 'records;
                        }
                    }
                }
                let text = texts.join("\n");
                if last && text.trim().is_empty() {
                    notes[i].push(
                        "the model generated an empty summary (only special tokens)".to_string(),
                    );
                }
                if last {
                    results[i] = Some(Ok(Summary::from_text(
                        &self.name,
                        text,
                        std::mem::take(&mut notes[i]),
                    )));
                } else {
                    next.push((i, text, tokens));
                }
            }
            round = next;
        }
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(RecordError::new("summarize", "internal error: record left unsummarized"))
                })
            })
            .collect()
    }
}
