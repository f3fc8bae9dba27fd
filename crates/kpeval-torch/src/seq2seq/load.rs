//! Loading a summarizer: preset, local folder or hub id; config, generation settings,
//! tokenizer and weights.
use super::checkpoint::{map_checkpoint, FillResource};
use super::config::{opt_bool, opt_f64, opt_id, opt_usize, validate_config, write_config};
use super::model::{Arch, Gen, Seq2SeqSummarizer, Settings, TokenIds};
use super::tokenize::bpe_files_from_tokenizer_json;
use crate::files::{files_digest, read_json};
use crate::hub::Repo;
use crate::presets::{find_preset, presets, Preset};
use kpeval::backend::GenerationConfig;
use kpeval::error::{Error, Result};
use kpeval::models::{resolve, ModelSource};
use kpeval::summarize::Summarizer;
use rust_bert::bart::BartGenerator;
use rust_bert::longt5::LongT5Generator;
use rust_bert::pegasus::PegasusConditionalGenerator;
use rust_bert::pipelines::common::{ModelResource, ModelType, TokenizerOption};
use rust_bert::pipelines::generation_utils::GenerateConfig;
use rust_bert::resources::{LocalResource, ResourceProvider};
use rust_bert::t5::T5Generator;
use rust_bert::RustBertError;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tch::Device;

/// The generation keys kpeval reads from a model's configuration.
const GENERATION_KEYS: &[&str] = &[
    "num_beams",
    "min_length",
    "max_length",
    "no_repeat_ngram_size",
    "length_penalty",
    "early_stopping",
    "repetition_penalty",
    "encoder_no_repeat_ngram_size",
];

/// Builds a summarizer for a preset name, local folder or hub id.
pub fn load_summarizer(
    name: &str,
    gen: &GenerationConfig,
    offline: bool,
) -> Result<Box<dyn Summarizer>> {
    Ok(Box::new(Seq2SeqSummarizer::load(name, gen, offline)?))
}

impl Seq2SeqSummarizer {
    /// Loads a preset, local folder or hub id (see the module docs).
    pub fn load(name: &str, gen: &GenerationConfig, offline: bool) -> Result<Self> {
        let device = crate::runtime::device(&gen.device)?;
        let as_dir = Path::new(name);
        // `preset@revision` (or `hub-id@revision` of a preset): the preset pinned to another
        // revision, e.g. a commit.
        let mut preset = if as_dir.is_dir() {
            None
        } else {
            match find_preset(name)? {
                Some(p) => Some(p),
                None => match name.rsplit_once('@') {
                    Some((base, rev)) if !rev.is_empty() => find_preset(base)?.map(|mut p| {
                        p.revision = rev.to_string();
                        p
                    }),
                    _ => None,
                },
            }
        };
        let files = if as_dir.is_dir() {
            // A store folder named after a preset takes that preset's defaults.
            let dir_name =
                as_dir.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
            preset = presets()?.into_iter().find(|p| p.name == dir_name);
            Repo::Local(as_dir.to_path_buf())
        } else if let Some(p) = &preset {
            let short = p.hub_id.rsplit('/').next().unwrap_or(&p.hub_id).to_string();
            match [p.name.as_str(), short.as_str()].iter().find_map(|n| match resolve(n) {
                Ok(ModelSource::Local(d)) => Some(d),
                _ => None,
            }) {
                Some(d) => Repo::Local(d),
                None => Repo::Hub { id: p.hub_id.clone(), revision: p.revision.clone(), offline },
            }
        } else {
            match resolve(name)? {
                ModelSource::Local(d) => Repo::Local(d),
                ModelSource::Hub(id_rev) => {
                    let (id, revision) = crate::hub::split_revision(&id_rev);
                    Repo::Hub { id, revision, offline }
                }
            }
        };
        let display_name = match (&preset, &files) {
            (Some(p), _) => p.name.clone(),
            (None, Repo::Local(d)) => d
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_else(|| name.to_string()),
            (None, Repo::Hub { id, .. }) => id.rsplit('/').next().unwrap_or(id).to_string(),
        };
        let hub = matches!(files, Repo::Hub { .. }) && preset.is_none();
        Self::load_files(files, display_name, preset, gen, device).map_err(|e| match e {
            Error::Model(m) if hub => {
                Error::Model(format!("{m}{}", kpeval::models::path_hint(name)))
            }
            other => other,
        })
    }

    fn load_files(
        files: Repo,
        name: String,
        preset: Option<Preset>,
        gen: &GenerationConfig,
        device: Device,
    ) -> Result<Self> {
        let folder = files.describe();
        let config_path = files.need("config.json")?;
        let mut config = read_json(&config_path)?;
        // Every file read besides the weights: their digest joins the revision in the signature
        // (and so the summary cache key), since each can change the output.
        let mut read_files: Vec<PathBuf> = vec![config_path.clone()];
        let gen_config_path = files.optional("generation_config.json")?;
        let tok_config_path = files.optional("tokenizer_config.json")?;
        read_files.extend(gen_config_path.iter().chain(tok_config_path.iter()).cloned());
        let gen_config = gen_config_path.map(|p| read_json(&p)).transpose()?;
        let tok_config = tok_config_path.map(|p| read_json(&p)).transpose()?;

        let model_type =
            config.get("model_type").and_then(|v| v.as_str()).unwrap_or("").to_string();
        let arch = Arch::from_model_type(&model_type)
            .or_else(|| preset.as_ref().and_then(|p| Arch::from_model_type(&p.architecture)))
            .ok_or_else(|| {
                Error::model(format!("{folder}/config.json: model_type '{model_type}' is not a supported summarizer (bart, t5, pegasus, longt5)"))
            })?;

        // Token ids: generation_config.json wins over config.json (as in transformers).
        if let (Some(gc), Some(obj)) = (&gen_config, config.as_object_mut()) {
            for k in [
                "bos_token_id",
                "eos_token_id",
                "pad_token_id",
                "decoder_start_token_id",
                "forced_bos_token_id",
                "forced_eos_token_id",
            ] {
                if let Some(v) = gc.get(k) {
                    obj.insert(k.to_string(), v.clone());
                }
            }
        }
        // rust-bert reads single ids.
        if let Some(obj) = config.as_object_mut() {
            for k in [
                "bos_token_id",
                "eos_token_id",
                "pad_token_id",
                "decoder_start_token_id",
                "forced_bos_token_id",
                "forced_eos_token_id",
            ] {
                if let Some(Value::Array(a)) = obj.get(k) {
                    let v = a.first().cloned().unwrap_or(Value::Null);
                    obj.insert(k.to_string(), v);
                }
            }
        }
        // What transformers' config classes do with keys a checkpoint leaves out or spells the
        // old way (configs saved before transformers 4.3, e.g. distilbart-cnn-12-6's): the
        // legacy `force_bos_token_to_be_generated: true` means forced_bos_token_id =
        // bos_token_id, and BartConfig / PegasusConfig default forced_eos_token_id to their EOS
        // (2 / 1). A key that is present (null included) is kept as it is.
        if let Some(obj) = config.as_object_mut() {
            let legacy_bos =
                obj.get("force_bos_token_to_be_generated").and_then(|v| v.as_bool()) == Some(true);
            let no_forced_bos = obj.get("forced_bos_token_id").is_none_or(|v| v.is_null());
            if legacy_bos && no_forced_bos {
                let bos = obj.get("bos_token_id").cloned().unwrap_or(Value::from(0));
                obj.insert("forced_bos_token_id".into(), bos);
            }
            if !obj.contains_key("forced_eos_token_id") {
                match arch {
                    Arch::Bart => {
                        obj.insert("forced_eos_token_id".into(), Value::from(2));
                    }
                    Arch::Pegasus => {
                        obj.insert("forced_eos_token_id".into(), Value::from(1));
                    }
                    _ => {}
                }
            }
        }
        let task = config.get("task_specific_params").and_then(|t| t.get("summarization")).cloned();
        let config = validate_config(arch, config, &folder)?;
        let rb_config_path = write_config(&config)?;

        let (def_eos, def_pad) = match arch {
            Arch::Bart => (2, 1),
            _ => (1, 0),
        };
        let ids = TokenIds {
            eos: opt_id(&config, "eos_token_id").unwrap_or(def_eos),
            pad: opt_id(&config, "pad_token_id").unwrap_or(def_pad),
            forced_bos: opt_id(&config, "forced_bos_token_id"),
            forced_eos: opt_id(&config, "forced_eos_token_id"),
        };
        let vocab_size = config.get("vocab_size").and_then(|v| v.as_i64()).unwrap_or(0);

        // Generation settings.
        let pg = preset.as_ref().map(|p| p.generation.clone()).unwrap_or_default();
        // generation_config.json's values, else config.json's: where generation_config.json was
        // made from the model config (`_from_model_config`), transformers' generate goes back to
        // the model config's generation keys (e.g. the LongT5 book-summary model's beams and
        // penalties live in its config.json only).
        let mut model_gen = gen_config.clone().unwrap_or_else(|| config.clone());
        if let (Some(g), Some(obj)) = (&gen_config, model_gen.as_object_mut()) {
            if opt_bool(g, "_from_model_config") == Some(true) {
                for key in GENERATION_KEYS {
                    if !obj.contains_key(*key) {
                        if let Some(v) = config.get(*key) {
                            obj.insert(key.to_string(), v.clone());
                        }
                    }
                }
            }
        }
        let empty = Value::Null;
        let task_v = task.as_ref().unwrap_or(&empty);
        let settings = Settings {
            num_beams: gen
                .num_beams
                .or(pg.num_beams)
                .or(opt_usize(task_v, "num_beams"))
                .or(opt_usize(&model_gen, "num_beams"))
                .unwrap_or(1),
            min_length: gen
                .min_length
                .or(pg.min_length)
                .or(opt_usize(task_v, "min_length"))
                .or(opt_usize(&model_gen, "min_length"))
                .unwrap_or(0),
            max_length: gen
                .max_length
                .or(pg.max_length)
                .or(opt_usize(task_v, "max_length"))
                .or(opt_usize(&model_gen, "max_length"))
                .unwrap_or(20),
            no_repeat_ngram_size: gen
                .no_repeat_ngram_size
                .or(pg.no_repeat_ngram_size)
                .or(opt_usize(task_v, "no_repeat_ngram_size"))
                .or(opt_usize(&model_gen, "no_repeat_ngram_size"))
                .unwrap_or(0),
            length_penalty: gen
                .length_penalty
                .or(pg.length_penalty)
                .or(opt_f64(task_v, "length_penalty"))
                .or(opt_f64(&model_gen, "length_penalty"))
                .unwrap_or(1.0),
            early_stopping: gen
                .early_stopping
                .or(pg.early_stopping)
                .or(opt_bool(task_v, "early_stopping"))
                .or(opt_bool(&model_gen, "early_stopping"))
                .unwrap_or(false),
            repetition_penalty: gen
                .repetition_penalty
                .or(pg.repetition_penalty)
                .or(opt_f64(task_v, "repetition_penalty"))
                .or(opt_f64(&model_gen, "repetition_penalty"))
                .unwrap_or(1.0),
            encoder_no_repeat_ngram_size: gen
                .encoder_no_repeat_ngram_size
                .or(pg.encoder_no_repeat_ngram_size)
                .or(opt_usize(task_v, "encoder_no_repeat_ngram_size"))
                .or(opt_usize(&model_gen, "encoder_no_repeat_ngram_size"))
                .unwrap_or(0),
            do_sample: gen.do_sample,
            seed: gen.seed,
            long_merge: gen.long_merge,
        };
        if settings.num_beams == 0 {
            return Err(Error::config("num_beams must be at least 1"));
        }
        if settings.length_penalty.is_nan() || settings.length_penalty <= 0.0 {
            return Err(Error::config(format!(
                "length_penalty {}: rust-bert's generation needs a positive length penalty",
                settings.length_penalty
            )));
        }
        if !(settings.repetition_penalty.is_finite() && settings.repetition_penalty >= 1.0) {
            return Err(Error::config(format!(
                "repetition_penalty {}: must be a finite number >= 1 (1 = off)",
                settings.repetition_penalty
            )));
        }
        if settings.max_length < 2 {
            return Err(Error::config(format!(
                "max_length {} leaves no room for a generated token",
                settings.max_length
            )));
        }
        if !settings.length_penalty.is_finite() {
            return Err(Error::config(format!(
                "length_penalty {} is not a finite number",
                settings.length_penalty
            )));
        }
        if settings.min_length > settings.max_length {
            let from = |cli: bool, flag: &str, key: &str| {
                if cli {
                    format!("--{flag}")
                } else {
                    format!("the preset's or model config's {key}")
                }
            };
            return Err(Error::config(format!(
                "{} {} exceeds {} {}: no summary can satisfy both (give --min-length and --max-length together)",
                from(gen.min_length.is_some(), "min-length", "min_length"),
                settings.min_length,
                from(gen.max_length.is_some(), "max-length", "max_length"),
                settings.max_length
            )));
        }
        // Regression (#19): a max_length beyond the decoder's learned/sinusoidal positions made
        // rust-bert panic on every record; refused at start-up instead.
        if let (Arch::Bart | Arch::Pegasus, Some(limit)) =
            (arch, opt_usize(&config, "max_position_embeddings"))
        {
            if settings.max_length > limit {
                let from = if gen.max_length.is_some() {
                    "--max-length".to_string()
                } else {
                    "the preset's or model config's max_length".to_string()
                };
                return Err(Error::config(format!(
                    "{from} {} exceeds the model's max_position_embeddings {limit}: its decoder has no positions beyond",
                    settings.max_length
                )));
            }
        }

        let prefix = match preset.as_ref().and_then(|p| p.prefix.clone()) {
            Some(p) => p,
            None => match task_v.get("prefix").and_then(|v| v.as_str()) {
                Some(p) => p.to_string(),
                None if arch == Arch::T5 => "summarize: ".to_string(),
                None => String::new(),
            },
        };
        let max_input_tokens = preset
            .as_ref()
            .and_then(|p| p.max_input_tokens)
            .or_else(|| match arch {
                Arch::Bart | Arch::Pegasus => opt_usize(&config, "max_position_embeddings"),
                Arch::T5 => opt_usize(&config, "n_positions").or(Some(512)),
                Arch::LongT5 => opt_usize(&config, "n_positions").or(Some(16384)),
            })
            .ok_or_else(|| {
                Error::model(format!("{folder}/config.json: no max_position_embeddings"))
            })?;
        let clean_up_spaces = tok_config
            .as_ref()
            .and_then(|t| opt_bool(t, "clean_up_tokenization_spaces"))
            .unwrap_or(false);

        // Tokenizer (rust-bert reads the slow tokenizer files, not tokenizer.json).
        let tokenizer = match arch {
            Arch::Bart => {
                let mut why_tok = Vec::new();
                let (vocab, merges) = match (
                    files.get("vocab.json", &mut why_tok),
                    files.get("merges.txt", &mut why_tok),
                ) {
                    (Some(v), Some(m)) => (v, m),
                    // Only the fast tokenizer's tokenizer.json: its BPE vocabulary and merges are
                    // the same data; written out as the files rust-bert reads.
                    _ => match files.get("tokenizer.json", &mut why_tok) {
                        Some(tj) => bpe_files_from_tokenizer_json(&tj).map_err(|e| {
                            Error::model(format!(
                                "{folder}: no vocab.json / merges.txt, and tokenizer.json: {e}"
                            ))
                        })?,
                        None => {
                            return Err(Error::model(format!(
                                "{folder}: tokenizer: {}",
                                why_tok.join("; ")
                            )))
                        }
                    },
                };
                read_files.extend([vocab.clone(), merges.clone()]);
                let add_prefix_space = tok_config
                    .as_ref()
                    .and_then(|t| opt_bool(t, "add_prefix_space"))
                    .unwrap_or(false);
                TokenizerOption::from_file(
                    ModelType::Bart,
                    &vocab.to_string_lossy(),
                    Some(&merges.to_string_lossy()),
                    false,
                    None::<bool>,
                    add_prefix_space,
                )
                .map_err(|e| {
                    Error::model(format!("{folder}: tokenizer (vocab.json, merges.txt): {e}"))
                })?
            }
            _ => {
                let spiece = files.need("spiece.model")?;
                read_files.push(spiece.clone());
                TokenizerOption::from_file(
                    arch.model_type(),
                    &spiece.to_string_lossy(),
                    None,
                    false,
                    None::<bool>,
                    None::<bool>,
                )
                .map_err(|e| Error::model(format!("{folder}: tokenizer (spiece.model): {e}")))?
            }
        };

        // Weights: rust_model.ot as is; safetensors and PyTorch checkpoints renamed in memory.
        // A preset's weights file is what its hub repository is fetched for; a local folder
        // (a store folder named after a preset included) is searched in the usual order.
        let wanted = match &files {
            Repo::Hub { .. } => preset.as_ref().and_then(|p| p.weights.clone()),
            Repo::Local(_) => None,
        };
        let mut why = Vec::new();
        let order: Vec<String> = match &wanted {
            Some(w) => vec![w.clone()],
            None => [
                "model.safetensors",
                "model.safetensors.index.json",
                "pytorch_model.bin",
                "pytorch_model.bin.index.json",
                "rust_model.ot",
            ]
            .map(String::from)
            .to_vec(),
        };
        let mut weights: Option<(String, Vec<PathBuf>)> = None;
        for w in &order {
            if let Some(p) = files.get(w, &mut why) {
                let list = if w.ends_with(".index.json") {
                    let idx = read_json(&p)?;
                    let mut shards: Vec<String> = idx
                        .get("weight_map")
                        .and_then(|m| m.as_object())
                        .map(|m| m.values().filter_map(|v| v.as_str().map(String::from)).collect())
                        .unwrap_or_default();
                    shards.sort();
                    shards.dedup();
                    shards.iter().map(|s| files.need(s)).collect::<Result<Vec<_>>>()?
                } else {
                    vec![p]
                };
                weights = Some((w.clone(), list));
                break;
            }
        }
        let (weights_kind, weight_files) = weights.ok_or_else(|| {
            Error::model(format!("{folder}: no weights ({}): {}", order.join(", "), why.join("; ")))
        })?;
        let revision = match &files {
            Repo::Hub { revision, .. } => revision.clone(),
            Repo::Local(_) => {
                format!("sha256:{}", crate::revision::weights_revision(&weight_files)?)
            }
        };
        let revision = format!("{revision}+files:{}", files_digest(&read_files)?);
        let model_resource: Box<dyn ResourceProvider + Send> = if weights_kind
            .starts_with("model.safetensors")
            || weights_kind.starts_with("pytorch_model.bin")
        {
            Box::new(FillResource::new(
                map_checkpoint(&weight_files, arch, &config, &folder)?,
                folder.clone(),
            ))
        } else {
            Box::new(LocalResource::from(weight_files[0].clone()))
        };

        let generate_config = GenerateConfig {
            model_type: arch.model_type(),
            model_resource: ModelResource::Torch(model_resource),
            config_resource: Box::new(LocalResource::from(rb_config_path.clone())),
            vocab_resource: Box::new(LocalResource::from(rb_config_path.clone())),
            merges_resource: None,
            min_length: settings.min_length as i64,
            max_length: Some(settings.max_length as i64),
            do_sample: settings.do_sample,
            early_stopping: settings.early_stopping,
            num_beams: settings.num_beams as i64,
            temperature: 1.0,
            top_k: 50,
            top_p: 1.0,
            repetition_penalty: settings.repetition_penalty,
            length_penalty: settings.length_penalty,
            no_repeat_ngram_size: settings.no_repeat_ngram_size as i64,
            num_return_sequences: 1,
            num_beam_groups: None,
            diversity_penalty: None,
            device,
            kind: None,
        };
        let load_err = |e: RustBertError| {
            let msg = e.to_string();
            Error::model(format!(
                "{folder}: loading the {} weights ({}): {msg}",
                arch.as_str(),
                weight_files[0].display()
            ))
        };
        // rust-bert panics on configs it cannot read; those were checked above, but keep a
        // panic from taking the process down.
        let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(
            || -> std::result::Result<Gen, RustBertError> {
                Ok(match arch {
                    Arch::Bart => {
                        Gen::Bart(BartGenerator::new_with_tokenizer(generate_config, tokenizer)?)
                    }
                    Arch::T5 => {
                        Gen::T5(T5Generator::new_with_tokenizer(generate_config, tokenizer)?)
                    }
                    Arch::Pegasus => Gen::Pegasus(PegasusConditionalGenerator::new_with_tokenizer(
                        generate_config,
                        tokenizer,
                    )?),
                    Arch::LongT5 => Gen::LongT5(LongT5Generator::new_with_tokenizer(
                        generate_config,
                        tokenizer,
                    )?),
                })
            },
        ))
        .map_err(|_| {
            Error::model(format!("{folder}: rust-bert could not build the {} model", arch.as_str()))
        })?
        .map_err(load_err)?;
        // The load's log line (printed by the CLI): where the files came from, and the
        // generation settings this model will run with.
        let source = match &files {
            Repo::Hub { id, .. } => crate::hub::describe_fetches(&crate::hub::take_fetches(id))
                .unwrap_or_else(|| format!("hub: {folder}")),
            Repo::Local(d) => format!("folder {}", d.display()),
        };
        crate::hub::push_note(format!(
            "model {name}: {source}; generation: num_beams={} min_length={} max_length={} no_repeat_ngram_size={} length_penalty={} early_stopping={} repetition_penalty={} encoder_no_repeat_ngram_size={} do_sample={} forced_bos_token_id={} forced_eos_token_id={} prefix={:?} max_input_tokens={max_input_tokens}",
            settings.num_beams,
            settings.min_length,
            settings.max_length,
            settings.no_repeat_ngram_size,
            settings.length_penalty,
            settings.early_stopping,
            settings.repetition_penalty,
            settings.encoder_no_repeat_ngram_size,
            settings.do_sample,
            ids.forced_bos.map_or("none".to_string(), |v| v.to_string()),
            ids.forced_eos.map_or("none".to_string(), |v| v.to_string()),
            prefix,
        ));
        Ok(Seq2SeqSummarizer {
            inner: Mutex::new(built),
            name,
            revision,
            arch,
            settings,
            max_input_tokens,
            prefix,
            device,
            ids,
            vocab_size,
            clean_up_spaces,
            batch_size: 8,
            stats: Mutex::new(Default::default()),
            warmed: std::sync::atomic::AtomicBool::new(false),
        })
    }
}
