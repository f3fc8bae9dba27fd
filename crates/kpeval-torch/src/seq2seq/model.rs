//! The summarizer's types: architectures, generators, settings, the summarizer itself.
use kpeval::backend::LongMerge;
use rust_bert::bart::BartGenerator;
use rust_bert::longt5::LongT5Generator;
use rust_bert::pegasus::PegasusConditionalGenerator;
use rust_bert::pipelines::common::{ModelType, TokenizerOption};
use rust_bert::pipelines::generation_utils::{
    GenerateOptions, GeneratedIndicesOutput, LanguageGenerator,
};
use rust_bert::t5::T5Generator;
use rust_bert::RustBertError;
use std::sync::Mutex;
use tch::{Device, Tensor};

// ---------------------------------------------------------------------------------------------
// Architectures

/// A summarizer's architecture (config.json `model_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    /// `bart` (BART, DistilBART).
    Bart,
    /// `t5`.
    T5,
    /// `pegasus`.
    Pegasus,
    /// `longt5`.
    LongT5,
}

impl Arch {
    pub(super) fn from_model_type(t: &str) -> Option<Arch> {
        match t {
            "bart" => Some(Arch::Bart),
            "t5" => Some(Arch::T5),
            "pegasus" => Some(Arch::Pegasus),
            "longt5" => Some(Arch::LongT5),
            _ => None,
        }
    }
    /// The config.json `model_type` of the architecture (`bart`, `t5`, `pegasus`, `longt5`).
    pub fn as_str(self) -> &'static str {
        match self {
            Arch::Bart => "bart",
            Arch::T5 => "t5",
            Arch::Pegasus => "pegasus",
            Arch::LongT5 => "longt5",
        }
    }
    pub(super) fn model_type(self) -> ModelType {
        match self {
            Arch::Bart => ModelType::Bart,
            Arch::T5 => ModelType::T5,
            Arch::Pegasus => ModelType::Pegasus,
            Arch::LongT5 => ModelType::LongT5,
        }
    }
    pub(super) fn sentencepiece(self) -> bool {
        !matches!(self, Arch::Bart)
    }
}

/// The generator, one per architecture.
pub(super) enum Gen {
    Bart(BartGenerator),
    T5(T5Generator),
    Pegasus(PegasusConditionalGenerator),
    LongT5(LongT5Generator),
}

impl Gen {
    pub(super) fn tokenizer(&self) -> &TokenizerOption {
        match self {
            Gen::Bart(g) => g.get_tokenizer(),
            Gen::T5(g) => g.get_tokenizer(),
            Gen::Pegasus(g) => g.get_tokenizer(),
            Gen::LongT5(g) => g.get_tokenizer(),
        }
    }
    pub(super) fn generate(
        &self,
        ids: Tensor,
        mask: Tensor,
        opts: GenerateOptions,
    ) -> std::result::Result<Vec<GeneratedIndicesOutput>, RustBertError> {
        match self {
            Gen::Bart(g) => g.generate_from_ids_and_past(ids, Some(mask), Some(opts)),
            Gen::T5(g) => g.generate_from_ids_and_past(ids, Some(mask), Some(opts)),
            Gen::Pegasus(g) => g.generate_from_ids_and_past(ids, Some(mask), Some(opts)),
            Gen::LongT5(g) => g.generate_from_ids_and_past(ids, Some(mask), Some(opts)),
        }
    }
}

/// Effective generation settings (transformers' names and meanings).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Beam width (1: no beam search).
    pub num_beams: usize,
    /// Fewest generated tokens before EOS is allowed.
    pub min_length: usize,
    /// Most generated tokens.
    pub max_length: usize,
    /// No n-gram of this size is generated twice (0: off).
    pub no_repeat_ngram_size: usize,
    /// Exponent of the length normalization of beam scores.
    pub length_penalty: f64,
    /// Whether beam search stops once `num_beams` hypotheses are finished.
    pub early_stopping: bool,
    /// transformers' `repetition_penalty`: the scores of tokens already in the output are
    /// divided (positive) or multiplied (negative) by it (1.0: off).
    pub repetition_penalty: f64,
    /// transformers' `encoder_no_repeat_ngram_size`: no n-gram of this size found in the
    /// source is generated (0: off).
    pub encoder_no_repeat_ngram_size: usize,
    /// Whether tokens are sampled (top-k 50, temperature 1) instead of chosen by search.
    pub do_sample: bool,
    /// `--seed`: hashed with each input's token ids into its sampling seed (used only when
    /// sampling).
    pub seed: u64,
    /// How a long source's chunk summaries become its summary.
    pub long_merge: LongMerge,
}

/// Most summarization passes over one source with `--long-merge second-pass` (each pass
/// summarizes the previous pass's chunk summaries; in practice two or three suffice).
pub(super) const MAX_PASSES: usize = 8;

/// Token ids of the model (after merging generation_config.json into config.json).
#[derive(Debug, Clone, Copy)]
pub(super) struct TokenIds {
    pub(super) eos: i64,
    pub(super) pad: i64,
    pub(super) forced_bos: Option<i64>,
    pub(super) forced_eos: Option<i64>,
}

/// A seq2seq summarizer. The generator is used behind a lock (tensors are not Sync).
pub struct Seq2SeqSummarizer {
    pub(super) inner: Mutex<Gen>,
    pub(super) name: String,
    pub(super) revision: String,
    /// The model's architecture.
    pub arch: Arch,
    /// The generation settings in effect (preset, model config and options merged).
    pub settings: Settings,
    /// Largest tokenized input (special tokens included) the model takes.
    pub max_input_tokens: usize,
    /// Prepended to every source (T5: `summarize: `).
    pub prefix: String,
    pub(super) device: Device,
    pub(super) ids: TokenIds,
    pub(super) vocab_size: i64,
    pub(super) clean_up_spaces: bool,
    /// Sequences generated together at most (a batch of records may have more chunks).
    pub batch_size: usize,
    pub(super) stats: Mutex<kpeval::summarize::GenerationStats>,
    /// Whether the warm-up before the first batch has run (see [`Self::warm_up`]).
    pub(super) warmed: std::sync::atomic::AtomicBool,
}

/// One generated sequence: ids without the decoder start token, cut after the first EOS, and
/// the beam score when asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    /// Token ids, ending with the EOS when one was generated.
    pub ids: Vec<i64>,
    /// The beam score (length-penalized log-probability); `None` with one beam or when not
    /// asked for.
    pub score: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presets::{find_preset, presets};

    #[test]
    fn presets_parse_and_cover_the_registry() {
        let p = presets().unwrap();
        for name in [
            "distilbart-cnn-12-6",
            "bart-large-cnn",
            "pegasus-cnn_dailymail",
            "t5-small",
            "t5-base",
            "flan-t5-base",
            "long-t5-tglobal-base-16384-book-summary",
        ] {
            let e = p.iter().find(|x| x.name == name).unwrap_or_else(|| panic!("preset {name}"));
            assert!(Arch::from_model_type(&e.architecture).is_some(), "{name}");
            assert!(e.hub_id.contains('/'), "{name}");
            assert!(!e.revision.is_empty() && !e.license.is_empty(), "{name}");
            assert!(
                e.generation.num_beams.is_some() && e.generation.max_length.is_some(),
                "{name}"
            );
        }
        assert_eq!(
            find_preset("sshleifer/distilbart-cnn-12-6").unwrap().unwrap().name,
            "distilbart-cnn-12-6"
        );
    }
}
