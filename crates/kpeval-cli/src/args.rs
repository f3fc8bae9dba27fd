//! Raw command-line arguments (clap derive). Validation into typed configs is in `commands`.
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

const MAIN_EXAMPLE: &str = "Example:
  kpeval run eval/articles/venezuela-drug-talks.txt
  kpeval run ../shared/data/cnndm-frank-250.jsonl -o results/frank.jsonl
  kpeval score ../shared/data/summeval-1600.jsonl --id-field article_id,summary_id --system-field model_id";

#[derive(Debug, Parser)]
#[command(
    name = "kpeval",
    version,
    about = "Summarize news articles and score the generated key points against each article's Key Developments",
    after_help = MAIN_EXAMPLE
)]
/// The whole command line: a subcommand and the options global to every subcommand.
pub struct Cli {
    /// The subcommand to run, with its own arguments.
    #[command(subcommand)]
    pub command: Command,
    /// Worker threads for scoring (default: all cores). Results do not depend on it.
    #[arg(long, global = true)]
    pub threads: Option<usize>,
    /// Threads of each model's forward pass (libtorch intra-op threads; default: libtorch's own,
    /// one per physical core). Recorded in the signature, since other counts can change results
    /// in the last digits. Several model jobs on one machine: give each a share of the cores
    /// (libtorch's waiting threads spin, so oversubscribed jobs waste most of the CPU).
    #[arg(long, global = true, value_name = "N")]
    pub model_threads: Option<usize>,
    /// No progress bar or report on stderr.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Never download: models named by hub id or preset must already be in the local cache, and
    /// an error names the missing file (same as KPEVAL_OFFLINE=1 or HF_HUB_OFFLINE=1).
    #[arg(long, global = true)]
    pub offline: bool,
}

/// The subcommands of `kpeval`, each with its arguments.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The main job: summarize each article, split the summary into key points, score them against the Key Developments.
    #[command(after_help = "Example:
  kpeval run eval/articles/venezuela-drug-talks.txt
  kpeval run ../shared/data/cnndm-frank-250.jsonl --summarizer textrank-3 -o results/textrank.jsonl
  kpeval run articles/ --resume -o results/run.jsonl --shard 0/4")]
    Run(RunArgs),
    /// Summarize articles (no scoring): records with `summary` and `key_points` out.
    #[command(after_help = "Example:
  kpeval summarize eval/articles/venezuela-drug-talks.txt --summarizer lead-3
  cat articles.jsonl | kpeval summarize - -o summaries.jsonl")]
    Summarize(SummarizeArgs),
    /// Score summaries given in the input (`summary` or `systems`) against the key points; no model needed for overlap metrics.
    #[command(after_help = "Example:
  kpeval score ../shared/data/cnndm-frank-250.jsonl -o frank-scores.jsonl
  kpeval score ../shared/data/summeval-1600.jsonl --id-field article_id,summary_id --metrics rouge,bleu")]
    Score(ScoreArgs),
    /// Embed texts with a sentence-embedding model: one JSON line per text with its vector.
    #[command(after_help = "Example:
  kpeval embed texts.txt -o vectors.jsonl
  echo '{\"id\": \"a\", \"text\": \"The CIA conducted a drone strike.\"}' | kpeval embed -")]
    Embed(EmbedArgs),
    /// Natural language inference: premise/hypothesis pairs in, label probabilities out (labels from the model's id2label).
    #[command(after_help = "Example:
  kpeval nli ../shared/data/nli/snli_1.0_dev.jsonl --model tests/fixtures/models/tiny-nli-roberta --premise-field sentence1 --hypothesis-field sentence2 -o snli.jsonl
  echo '{\"id\": 1, \"premise\": \"A man sleeps.\", \"hypothesis\": \"A person rests.\"}' | kpeval nli - --model roberta-large-mnli")]
    Nli(NliArgs),
    /// Compare systems in results files: per metric, each system against a baseline with a paired bootstrap and approximate randomization test.
    #[command(after_help = "Example:
  kpeval score ../shared/data/cnndm-frank-250.jsonl -o frank.jsonl
  kpeval compare frank.jsonl --baseline pgn --metrics rouge1.f1,rouge2.f1,rougeLsum.f1")]
    Compare(CompareArgs),
    /// Correlate metrics with human judgments in results files (Pearson, Spearman, Kendall τ-b; summary-level, per-document, system-level; bootstrap CIs).
    #[command(
        name = "meta-eval",
        after_help = "Example:
  kpeval score ../shared/data/summeval-1600.jsonl --id-field article_id --system-field summary_id -o summeval.jsonl
  kpeval meta-eval summeval.jsonl --human relevance --metrics rouge1.f1,rouge2.f1,rougeL.f1"
    )]
    MetaEval(MetaEvalArgs),
    /// Run an experiment file (TOML: datasets, systems, metrics) into a results folder.
    #[command(after_help = "Example:
  kpeval experiment eval/experiments/frank-extractive.toml
  kpeval experiment eval/experiments/summeval.toml --output-dir results/summeval --resume")]
    Experiment(ExperimentArgs),
    /// Merge shard outputs (or any results files) into one records file and its aggregate.
    #[command(after_help = "Example:
  kpeval merge results/shard-*.jsonl -o results/all.jsonl")]
    Merge(MergeArgs),
}

/// Whether a command needs the model runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Runs without the runtime: no model summarizer and no model metric asked for.
    No,
    /// Only for some metrics: without the runtime they are reported as not computed.
    Optional,
    /// Cannot run without the runtime (a model summarizer); without kpeval-torch it is an error.
    Required,
}

impl Cli {
    /// Whether the command needs the model runtime (kpeval-torch).
    pub fn needs_models(&self) -> Need {
        let gen = |g: &GenArgs| g.summarizer_spec().map(|s| s.needs_models()).unwrap_or(false);
        let metrics =
            |o: &ScoreOpts| if o.metrics_need_models() { Need::Optional } else { Need::No };
        match &self.command {
            Command::Run(a) if gen(&a.gen) => Need::Required,
            Command::Run(a) => metrics(&a.score),
            Command::Summarize(a) if gen(&a.gen) => Need::Required,
            Command::Summarize(_) => Need::No,
            Command::Score(a) => metrics(&a.score),
            Command::Merge(_) | Command::Compare(_) | Command::MetaEval(_) => Need::No,
            Command::Embed(_) | Command::Nli(_) => Need::Required,
            Command::Experiment(a) => {
                match kpeval::experiment::ExperimentConfig::load(&a.file).map(|c| c.needs_models())
                {
                    Ok((true, _)) => Need::Required,
                    Ok((false, true)) => Need::Optional,
                    _ => Need::No,
                }
            }
        }
    }
}

/// Input reading options shared by batch commands.
#[derive(Debug, Args, Clone)]
pub struct InputArgs {
    /// Inputs: structured article text files, JSONL files (.jsonl, .jsonl.gz), directories, globs, or `-` for stdin.
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<String>,
    /// JSONL id field(s); several are joined with `/` (e.g. `article_id,summary_id`).
    #[arg(long, value_delimiter = ',', default_value = "id")]
    pub id_field: Vec<String>,
    /// JSONL article text field(s), first present wins (XSum: `document`).
    #[arg(long, value_delimiter = ',', default_value = "article,document,text")]
    pub article_field: Vec<String>,
    /// JSONL reference key points field(s): a list or newline-separated string (CNN/DM: `highlights`, XSum: `summary`).
    #[arg(long, value_delimiter = ',', default_value = "key_points,highlights")]
    pub key_points_field: Vec<String>,
    /// JSONL field holding one given summary (system name `given`).
    #[arg(long, value_delimiter = ',', default_value = "summary")]
    pub summary_field: Vec<String>,
    /// JSONL field holding several systems: `{name: {summary, sentences?}}`.
    #[arg(long, default_value = "systems")]
    pub systems_field: String,
    /// JSONL field naming the system of the `summary` field (default: the system is called `given`).
    #[arg(long)]
    pub system_field: Option<String>,
    /// Largest article accepted, in bytes; larger ones become error records.
    #[arg(long, default_value_t = 10 * 1024 * 1024)]
    pub max_article_bytes: usize,
    /// Sections that feed the summarizer: `default` (lead, full-report, context, other, body), `all`, or a list such as `default,why-it-matters`. Key Developments are never included.
    #[arg(long, default_value = "default")]
    pub sections: String,
}

/// Output options shared by batch commands.
#[derive(Debug, Args, Clone)]
pub struct OutputArgs {
    /// Records file (JSONL); stdout when absent.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Aggregate JSON (means, CIs, signature). Default with -o: `<output>.aggregate.json`.
    #[arg(long)]
    pub aggregate: Option<PathBuf>,
    /// Markdown report. Default with -o: `<output>.report.md`.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Keep records already in --output and process only the missing ones.
    #[arg(long, requires = "output")]
    pub resume: bool,
    /// Process only shard i of N (0-based, by a stable hash of the record id), for array jobs.
    #[arg(long, value_name = "i/N")]
    pub shard: Option<String>,
    /// Articles per batch.
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
}

/// Metric options.
#[derive(Debug, Args, Clone)]
pub struct ScoreOpts {
    /// Metrics: comma list of rouge, bleu, chrf, chrf++, token-f1, kp-rouge, kp, kp-tok, kp-cover, bertscore, nli; `overlap` = every metric without a model; `default` = overlap + kp + kp-tok + kp-cover; `all` = every one that can run.
    #[arg(long, default_value = "default")]
    pub metrics: String,
    /// Sentence-embedding model for kp and embedding metrics (store name, local folder or hub id).
    #[arg(long, default_value = "all-MiniLM-L6-v2")]
    pub embedding_model: String,
    /// NLI model for entailment metrics (hub id or local folder); without it NLI metrics are reported as not computed.
    #[arg(long)]
    pub nli_model: Option<String>,
    /// Cosine similarity above which a generated key point covers a Key Development (kp).
    #[arg(long, default_value_t = 0.6)]
    pub kp_threshold: f64,
    /// Device for models: cpu, cuda, cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// ROUGE types.
    #[arg(long, value_delimiter = ',', default_value = "rouge1,rouge2,rougeL,rougeLsum")]
    pub rouge_types: Vec<String>,
    /// Turn off ROUGE's Porter stemming (rouge-score `use_stemmer=False`).
    #[arg(long)]
    pub no_stemmer: bool,
    /// ROUGE-1 F threshold above which a generated key point counts as covering a Key Development (kp-rouge).
    #[arg(long, default_value_t = 0.3)]
    pub kp_rouge_threshold: f64,
    /// Write the coverage judge's inputs (`features`) into each kp-cover verdict: what
    /// eval/coverage/fit_kp_cover.py reads to refit the judge.
    #[arg(long)]
    pub kp_cover_features: bool,
    /// Bootstrap resamples for confidence intervals.
    #[arg(long, default_value_t = 1000)]
    pub bootstrap: usize,
    /// Seed of every random choice (bootstrap, sampling).
    #[arg(long, default_value_t = 12345)]
    pub seed: u64,
}

impl ScoreOpts {
    pub fn metrics_need_models(&self) -> bool {
        kpeval::scoring::parse_metrics(&self.metrics)
            .map(|m| m.iter().any(|k| k.needs_models()))
            .unwrap_or(false)
    }
}

/// Summarizer and generation options (transformers' names).
#[derive(Debug, Args, Clone)]
pub struct GenArgs {
    /// Summarizer: lead-K, textrank-K, mmr-K, or a model (preset name, hub id or local folder)
    /// [default: lead-3].
    #[arg(long, conflicts_with = "model")]
    pub summarizer: Option<String>,
    /// A seq2seq model (preset, hub id or local folder); like --summarizer MODEL, but never read
    /// as a baseline name.
    #[arg(long)]
    pub model: Option<String>,
    /// Beams of beam search (1 = greedy). Default: the preset's, else the model config's.
    #[arg(long)]
    pub num_beams: Option<usize>,
    /// Shortest summary in tokens, counted as transformers does (decoder start token included). Default: preset, else model config.
    #[arg(long)]
    pub min_length: Option<usize>,
    /// Longest summary in tokens, counted as transformers does (decoder start token included). Default: preset, else model config.
    #[arg(long)]
    pub max_length: Option<usize>,
    /// No n-gram of this size is generated twice (0 = off). Default: preset, else model config.
    #[arg(long)]
    pub no_repeat_ngram_size: Option<usize>,
    /// Exponent of the length normalization of beam scores (> 0). Default: preset, else model config.
    #[arg(long, allow_negative_numbers = true)]
    pub length_penalty: Option<f64>,
    /// Beam search stops when num_beams finished candidates exist (transformers' early_stopping=True).
    #[arg(long)]
    pub early_stopping: Option<bool>,
    /// Scores of tokens already generated are divided (positive) or multiplied (negative) by this
    /// (>= 1; 1 = off), as transformers does. Default: preset, else model config.
    #[arg(long)]
    pub repetition_penalty: Option<f64>,
    /// No n-gram of this size found in the source is generated (0 = off). Default: preset, else
    /// model config.
    #[arg(long)]
    pub encoder_no_repeat_ngram_size: Option<usize>,
    /// Sample instead of greedy/beam search: each input is sampled from a seed made of --seed and
    /// its tokens, so a summary does not depend on batching, shards or resume (deterministic).
    #[arg(long)]
    pub do_sample: bool,
    /// Do not read or write the summary cache ($KPEVAL_CACHE/summaries) for model summarizers.
    #[arg(long)]
    pub no_cache: bool,
    /// Articles longer than the model's context are split into sentence chunks (one sentence of
    /// overlap) and each chunk is summarized; `concat` joins the chunk summaries (one per line),
    /// `second-pass` summarizes them again, as many passes as they need to fit the context.
    #[arg(long, default_value = "concat", value_parser = clap::builder::TypedValueParser::map(clap::builder::PossibleValuesParser::new(["concat", "second-pass"]), |s| s.parse::<kpeval::backend::LongMerge>().expect("one of the possible values")))]
    pub long_merge: kpeval::backend::LongMerge,
}

impl GenArgs {
    pub fn summarizer_spec(&self) -> Result<kpeval::summarize::SummarizerSpec, String> {
        match &self.model {
            Some(m) => Ok(kpeval::summarize::SummarizerSpec::Model(m.clone())),
            None => kpeval::summarize::SummarizerSpec::parse(
                self.summarizer.as_deref().unwrap_or("lead-3"),
            ),
        }
    }
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub gen: GenArgs,
    #[command(flatten)]
    pub score: ScoreOpts,
}

impl RunArgs {
    pub fn summarizer_spec(&self) -> Result<kpeval::summarize::SummarizerSpec, String> {
        self.gen.summarizer_spec()
    }
}

#[derive(Debug, Args)]
pub struct SummarizeArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub gen: GenArgs,
    /// Device for the model: cpu, cuda, cuda:N.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Seed of sampling (--do-sample).
    #[arg(long, default_value_t = 12345)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct ScoreArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub score: ScoreOpts,
    /// Systems to score (default: every system in the input).
    #[arg(long, value_delimiter = ',')]
    pub systems: Option<Vec<String>>,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Results files (JSONL records) to merge; globs allowed.
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// Merged records file.
    #[arg(short, long, required = true)]
    pub output: PathBuf,
    #[arg(long)]
    pub aggregate: Option<PathBuf>,
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Bootstrap resamples of the aggregate: those recorded in the records' signature (a
    /// different value is refused: the merged aggregate must equal the single run's).
    #[arg(long)]
    pub bootstrap: Option<usize>,
    /// Seed of the aggregate's bootstrap: the one recorded in the records' signature (a different
    /// value is refused, as for --bootstrap).
    #[arg(long)]
    pub seed: Option<u64>,
}

#[derive(Debug, Args)]
pub struct EmbedArgs {
    /// Inputs: text files (one text per line) or JSONL with `id` and `text` fields; `-` for stdin.
    #[arg(required = true)]
    pub inputs: Vec<String>,
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Sentence-embedding model (store name, local folder or hub id).
    #[arg(long, default_value = "all-MiniLM-L6-v2")]
    pub model: String,
    /// Field with the text in JSONL inputs.
    #[arg(long, default_value = "text")]
    pub text_field: String,
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// Texts per forward pass.
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Results files (JSONL records from run/score); globs allowed.
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// Baseline system (default: the first system by name).
    #[arg(long)]
    pub baseline: Option<String>,
    /// Score leaves to compare (default: every F1 / score / coverage leaf), plus corpus BLEU/chrF.
    #[arg(long, value_delimiter = ',')]
    pub metrics: Option<Vec<String>>,
    /// Comparison JSON.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    #[arg(long, default_value_t = 1000)]
    pub bootstrap: usize,
    /// Approximate randomization trials.
    #[arg(long, default_value_t = 10000)]
    pub ar_trials: usize,
    #[arg(long, default_value_t = 12345)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct MetaEvalArgs {
    /// Results files (JSONL records from run/score) whose `meta` holds human judgments.
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// Human judgment fields (default: every numeric field of the records' `meta`, unless
    /// --unit-labels is given: then correlations are computed only for the fields named here).
    #[arg(long, value_delimiter = ',')]
    pub human: Option<Vec<String>>,
    /// Score leaves to correlate (default: every F1 / score / coverage leaf plus ROUGE recalls);
    /// `a+b` correlates the sum of leaves (e.g. `rouge1.recall+rouge2.recall`).
    /// With --unit-labels, a key-point metric named as `kp_cover` or `kp_cover.key_points`
    /// selects it for the unit level (default: every metric with a verdict list); the other
    /// names are the leaves to correlate.
    #[arg(long, value_delimiter = ',')]
    pub metrics: Option<Vec<String>>,
    /// Unit-level meta-evaluation: the `meta` field holding one human label per Key Development
    /// (e.g. `scu_labels` = [0, 1, 1, 0]; 1/0, true/false, or a soft label in [0, 1]), compared
    /// with each metric's per-Key-Development verdicts (`scores.<metric>.key_points`): ROC-AUC of
    /// the score, accuracy and F1 of `covered` (a soft label counts as positive when ≥ 0.5),
    /// with document-bootstrap CIs, and a 10-bin calibration table with its ECE (observed = mean
    /// label). Records with an error, without the metric, or whose label list length differs
    /// from the verdict list are skipped and counted.
    #[arg(long, value_name = "FIELD")]
    pub unit_labels: Option<String>,
    /// Levels: summary (pooled), document (per-document averaged), system.
    #[arg(long, value_delimiter = ',', default_value = "summary,document,system")]
    pub levels: Vec<String>,
    /// Correlations: pearson, spearman, kendall.
    #[arg(long, value_delimiter = ',', default_value = "pearson,spearman,kendall")]
    pub correlations: Vec<String>,
    /// JSON output with every correlation and its CI.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Bootstrap resamples of documents.
    #[arg(long, default_value_t = 1000)]
    pub bootstrap: usize,
    #[arg(long, default_value_t = 12345)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct ExperimentArgs {
    /// Experiment file (TOML).
    pub file: PathBuf,
    /// Results folder (default: results/<experiment name>).
    #[arg(long)]
    pub output_dir: Option<PathBuf>,
    /// Keep records already in the results folder and compute only the missing ones.
    #[arg(long)]
    pub resume: bool,
}

#[derive(Debug, Args)]
pub struct NliArgs {
    /// JSONL inputs (one pair per line); `-` for stdin.
    #[arg(required = true)]
    pub inputs: Vec<String>,
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// NLI model: local folder (save_pretrained) or hub id.
    #[arg(long, required = true)]
    pub model: String,
    #[arg(long, default_value = "premise")]
    pub premise_field: String,
    #[arg(long, default_value = "hypothesis")]
    pub hypothesis_field: String,
    /// Field with the gold label, if any: accuracy is reported on stderr.
    #[arg(long)]
    pub label_field: Option<String>,
    #[arg(long, default_value = "cpu")]
    pub device: String,
}
