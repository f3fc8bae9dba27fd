//! The commands: validate raw args into typed configs, call the library, write results. This
//! module holds what they share (inputs, sinks, sidecars, progress, logs); one file per command.
mod compare;
mod embed;
mod merge;
mod meta_eval;
mod nli;
mod run;

use crate::args::*;
use crate::reporter::CliReporter;
use compare::cmd_compare;
use embed::cmd_embed;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use kpeval::article::{expand_inputs, FieldMap, ReadLimits};
use kpeval::backend::{Backend, GenerationConfig};
use kpeval::error::{Error, Result};
use kpeval::evaluation::{Evaluation, EvaluationConfig, Input, Outcome, SystemConfig};
use kpeval::pipeline::{RunCounts, Shard};
use kpeval::records::{JsonlSink, RecordReader, RecordSink, ResultsFile};
use kpeval::report::{self, Aggregate};
use kpeval::scoring::MetricsConfig;
use kpeval::signature::Signature;
use kpeval::stats::StatsConfig;
use merge::cmd_merge;
use meta_eval::cmd_meta_eval;
use nli::{cmd_nli, for_each_line};
use run::{cmd_experiment, cmd_run, cmd_score, cmd_summarize};
use serde_json::Value;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// Runs the parsed command; returns the exit code.
pub fn dispatch(cli: Cli, backend: Option<&dyn Backend>) -> Result<i32> {
    let quiet = cli.quiet;
    let offline = cli.offline;
    match cli.command {
        Command::Run(a) => cmd_run(a, backend, quiet, offline),
        Command::Summarize(a) => cmd_summarize(a, backend, quiet, offline),
        Command::Score(a) => cmd_score(a, backend, quiet, offline),
        Command::Merge(a) => cmd_merge(a, quiet),
        Command::Embed(a) => cmd_embed(a, backend, quiet),
        Command::Compare(a) => cmd_compare(a, quiet),
        Command::Nli(a) => cmd_nli(a, backend, quiet),
        Command::MetaEval(a) => cmd_meta_eval(a, quiet),
        Command::Experiment(a) => cmd_experiment(a, backend, quiet, offline),
    }
}

fn field_map(a: &InputArgs) -> FieldMap {
    FieldMap {
        id: a.id_field.clone(),
        article: a.article_field.clone(),
        key_points: a.key_points_field.clone(),
        summary: a.summary_field.clone(),
        systems: a.systems_field.clone(),
        system: a.system_field.clone(),
    }
}

struct Inputs {
    input: Input,
    total: Option<u64>,
}

/// Refuses an output file (or its aggregate/report sidecars) that is also one of the inputs:
/// creating it would empty the input before it is read.
fn guard_output(inputs: &[String], o: &OutputArgs) -> Result<()> {
    let Some(out) = &o.output else { return Ok(()) };
    let mut targets: Vec<PathBuf> = vec![
        out.clone(),
        sidecar(out, "aggregate.json"),
        sidecar(out, "report.md"),
        sidecar(out, "report.html"),
    ];
    targets.extend(o.aggregate.iter().cloned());
    targets.extend(o.report.iter().cloned());
    let targets: Vec<PathBuf> =
        targets.iter().filter_map(|t| std::fs::canonicalize(t).ok()).collect();
    if targets.is_empty() {
        return Ok(());
    }
    for it in expand_inputs(inputs) {
        if let kpeval::article::InputItem::File(p) = it {
            if std::fs::canonicalize(&p).is_ok_and(|c| targets.contains(&c)) {
                return Err(Error::config(format!("{}: this input is also an output file of this run (-o and its sidecars); write the records elsewhere", p.display())));
            }
        }
    }
    Ok(())
}

fn open_inputs(a: &InputArgs, quiet: bool) -> Result<Inputs> {
    if a.max_article_bytes == 0 {
        return Err(Error::config("--max-article-bytes must be positive"));
    }
    let items = expand_inputs(&a.inputs);
    // Count records for the progress bar's ETA, only when a bar will be drawn.
    let total =
        if !quiet && std::io::stderr().is_terminal() { count_records(&items) } else { None };
    let input = Input::Paths {
        inputs: a.inputs.clone(),
        fields: field_map(a),
        limits: ReadLimits { max_article_bytes: a.max_article_bytes },
    };
    Ok(Inputs { input, total })
}

fn count_records(items: &[kpeval::article::InputItem]) -> Option<u64> {
    use kpeval::article::InputItem;
    use std::io::BufRead;
    let mut n = 0u64;
    for it in items {
        match it {
            InputItem::Stdin => return None,
            InputItem::Missing(..) => n += 1,
            InputItem::File(p) => {
                let name = p.to_string_lossy();
                if name.ends_with(".jsonl")
                    || name.ends_with(".json")
                    || name.ends_with(".ndjson")
                    || name.ends_with(".jsonl.gz")
                {
                    let f = std::fs::File::open(p).ok()?;
                    let r: Box<dyn BufRead> = if name.ends_with(".gz") {
                        Box::new(std::io::BufReader::new(flate2::read::MultiGzDecoder::new(f)))
                    } else {
                        Box::new(std::io::BufReader::new(f))
                    };
                    n += r
                        .split(b'\n')
                        .map_while(|l| l.ok())
                        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
                        .count() as u64;
                } else {
                    n += 1;
                }
            }
        }
    }
    Some(n)
}

fn progress(total: Option<u64>, quiet: bool, what: &str) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = match total {
        Some(t) => {
            let pb = ProgressBar::with_draw_target(Some(t), ProgressDrawTarget::stderr());
            pb.set_style(
                ProgressStyle::with_template(
                    "{msg} {bar:40} {pos}/{len} [{elapsed_precise} < {eta_precise}, {per_sec}]",
                )
                .unwrap(),
            );
            pb
        }
        None => {
            let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            pb.set_style(
                ProgressStyle::with_template(
                    "{msg} {spinner} {pos} records [{elapsed_precise}, {per_sec}]",
                )
                .unwrap(),
            );
            pb
        }
    };
    pb.set_message(what.to_string());
    pb
}

fn stats_config(o: &ScoreOpts) -> StatsConfig {
    StatsConfig { bootstrap_samples: o.bootstrap, seed: o.seed, ..StatsConfig::default() }
}

fn metrics_config(o: &ScoreOpts) -> MetricsConfig {
    MetricsConfig {
        metrics: o.metrics.clone(),
        rouge_types: o.rouge_types.clone(),
        stemmer: !o.no_stemmer,
        kp_rouge_threshold: o.kp_rouge_threshold,
        embedding_model: o.embedding_model.clone(),
        nli_model: o.nli_model.clone(),
        kp_threshold: o.kp_threshold,
        device: o.device.clone(),
        kp_cover_features: o.kp_cover_features,
        offline: false, // the evaluation config carries --offline
    }
}

fn shard(o: &OutputArgs) -> Result<Option<Shard>> {
    o.shard
        .as_deref()
        .map(|s| s.parse::<Shard>().map_err(|e| Error::config(format!("--shard {e}"))))
        .transpose()
}

/// The records' sink; with `stats`, it accumulates the aggregate as records are written.
/// Results files this process writes, each held under an exclusive advisory lock (flock) until
/// the process ends, so that its sidecars are covered too.
static OUTPUT_LOCKS: std::sync::Mutex<Vec<std::fs::File>> = std::sync::Mutex::new(Vec::new());

/// One writer per results file: takes an exclusive advisory lock on `path` (created when
/// missing, never truncated here) or refuses when another process holds it.
fn lock_output(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    match f.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            return Err(Error::config(format!(
                "{}: another kpeval run is writing this file (it holds its lock); wait for it to finish or write elsewhere",
                path.display()
            )))
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(path, e)),
    }
    OUTPUT_LOCKS.lock().map_err(|_| Error::config("output lock registry poisoned"))?.push(f);
    Ok(())
}

/// The records' sink: the -o file (locked; resumed with --resume) or stdout.
fn sink(o: &OutputArgs, signature: &Signature) -> Result<Box<dyn RecordSink>> {
    match &o.output {
        Some(p) => {
            lock_output(p)?;
            Ok(Box::new(if o.resume {
                ResultsFile::resume(p, signature.as_str())?
            } else {
                ResultsFile::create(p)?
            }))
        }
        None => Ok(Box::new(JsonlSink::stdout())),
    }
}

fn sidecar(output: &Path, suffix: &str) -> PathBuf {
    let name = output.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    let stem = name.strip_suffix(".jsonl").or_else(|| name.strip_suffix(".json")).unwrap_or(&name);
    output.with_file_name(format!("{stem}.{suffix}"))
}

/// Writes the aggregate and report next to the records (or to stderr when records went to stdout).
fn finish(
    o: &OutputArgs,
    acc: Option<kpeval::accumulate::Accumulator>,
    sig: &str,
    stats: &StatsConfig,
    quiet: bool,
) -> Result<Aggregate> {
    let acc = match (acc, &o.output) {
        (Some(a), _) => a,
        (None, Some(p)) => {
            let mut a = kpeval::accumulate::Accumulator::new(stats);
            report::accumulate_file(p, &mut a)?;
            a
        }
        (None, None) => kpeval::accumulate::Accumulator::new(stats),
    };
    let mut acc = acc;
    let agg = acc.aggregate(sig, &kpeval::scoring::corpus_stats());
    let md = report::markdown(&agg);
    let json = serde_json::to_string_pretty(&agg)
        .map_err(|e| Error::Json { context: "aggregate".into(), source: e })?
        + "\n";
    let agg_path =
        o.aggregate.clone().or_else(|| o.output.as_ref().map(|p| sidecar(p, "aggregate.json")));
    let md_path = o.report.clone().or_else(|| o.output.as_ref().map(|p| sidecar(p, "report.md")));
    if let Some(p) = &agg_path {
        std::fs::write(p, &json).map_err(|e| Error::io(p, e))?;
    }
    if let Some(p) = &md_path {
        std::fs::write(p, &md).map_err(|e| Error::io(p, e))?;
    }
    if let Some(out) = &o.output {
        let html_path = sidecar(out, "report.html");
        let html = kpeval::html::render_file(
            out,
            &agg,
            &format!("kpeval — {}", out.display()),
            &acc.report_data(),
        )?;
        std::fs::write(&html_path, html).map_err(|e| Error::io(&html_path, e))?;
    }
    if !quiet {
        if o.output.is_some() {
            print!("{md}");
            if let Some(p) = &agg_path {
                println!("Aggregate: {}", p.display());
            }
        } else {
            eprint!("{md}");
        }
    }
    Ok(agg)
}

/// Logs what the backend says about the models it loaded (hub files downloaded or found in the
/// cache, from where; generation settings in effect), one `kpeval: …` line each on stderr; not
/// with -q.
pub(super) fn report_models(backend: Option<&dyn Backend>, quiet: bool) {
    let Some(b) = backend else { return };
    for line in b.take_notes() {
        if !quiet {
            eprintln!("kpeval: {line}");
        }
    }
}

/// Logs the time spent in model generation (stderr; not with -q).
fn report_generation(eval: &Evaluation, quiet: bool) {
    for st in eval.generation_stats().into_iter().filter(|st| st.sequences > 0 && !quiet) {
        eprintln!(
            "kpeval: generation: {} sequence(s), {} token(s) in {:.3} s ({:.1} tokens/s; model load, warm-up ({:.3} s), tokenization and decoding not included)",
            st.sequences,
            st.tokens,
            st.seconds,
            st.tokens as f64 / st.seconds.max(1e-9),
            st.warmup_seconds
        );
    }
}

fn report_counts(c: &RunCounts, quiet: bool) {
    if quiet {
        return;
    }
    let mut parts = vec![format!("{} record(s) written", c.written)];
    if c.errors > c.conflicting_ids {
        parts.push(format!("{} failed (see their `error` field)", c.errors - c.conflicting_ids));
    }
    if c.skipped_resume > 0 {
        parts.push(format!("{} already done (--resume)", c.skipped_resume));
    }
    if c.skipped_duplicate > 0 {
        parts.push(format!("{} repeated input(s) processed once", c.skipped_duplicate));
    }
    if c.conflicting_ids > 0 {
        parts.push(format!(
            "{} input(s) not processed: their id belongs to another article (see the errors above)",
            c.conflicting_ids
        ));
    }
    if c.skipped_shard > 0 {
        parts.push(format!("{} in other shards", c.skipped_shard));
    }
    eprintln!("kpeval: {}", parts.join(", "));
}

fn gen_config(g: &GenArgs, seed: u64, device: &str, offline: bool) -> GenerationConfig {
    GenerationConfig {
        num_beams: g.num_beams,
        min_length: g.min_length,
        max_length: g.max_length,
        no_repeat_ngram_size: g.no_repeat_ngram_size,
        length_penalty: g.length_penalty,
        early_stopping: g.early_stopping,
        repetition_penalty: g.repetition_penalty,
        encoder_no_repeat_ngram_size: g.encoder_no_repeat_ngram_size,
        do_sample: g.do_sample,
        seed,
        device: device.to_string(),
        long_merge: g.long_merge,
        offline,
    }
}

/// The generated system of `run` / `summarize`; warns about generation flags a plain
/// summarizer ignores.
fn generated_system(g: &GenArgs, seed: u64, device: &str, offline: bool) -> Result<SystemConfig> {
    let name = g.model.clone().or_else(|| g.summarizer.clone()).unwrap_or_else(|| "lead-3".into());
    let spec = g.summarizer_spec().map_err(|e| Error::config(format!("--summarizer {e}")))?;
    if !matches!(spec, kpeval::summarize::SummarizerSpec::Model(_)) {
        let given: Vec<&str> = [
            ("--num-beams", g.num_beams.is_some()),
            ("--min-length", g.min_length.is_some()),
            ("--max-length", g.max_length.is_some()),
            ("--no-repeat-ngram-size", g.no_repeat_ngram_size.is_some()),
            ("--length-penalty", g.length_penalty.is_some()),
            ("--early-stopping", g.early_stopping.is_some()),
            ("--repetition-penalty", g.repetition_penalty.is_some()),
            ("--encoder-no-repeat-ngram-size", g.encoder_no_repeat_ngram_size.is_some()),
            ("--do-sample", g.do_sample),
            ("--long-merge", g.long_merge != kpeval::backend::LongMerge::Concat),
        ]
        .iter()
        .filter(|(_, set)| *set)
        .map(|(f, _)| *f)
        .collect();
        if !given.is_empty() {
            eprintln!(
                "kpeval: warning: {} apply to model summarizers only; {} ignores them",
                given.join(", "),
                g.summarizer.as_deref().unwrap_or("lead-3")
            );
        }
    }
    Ok(SystemConfig {
        summarizer: Some(name),
        given: None,
        generation: Some(gen_config(g, seed, device, offline)),
    })
}

/// Runs an evaluation over the inputs into the -o sink, with the progress bar.
fn run_evaluation(
    eval: &Evaluation,
    inputs: Inputs,
    o: &OutputArgs,
    quiet: bool,
    what: &str,
) -> Result<Outcome> {
    let mut out = sink(o, eval.signature())?;
    let reporter = CliReporter::new(progress(inputs.total, quiet, what));
    let outcome = eval.run(inputs.input, out.as_mut(), &reporter)?;
    reporter.finish();
    Ok(outcome)
}

fn exit_code(c: &RunCounts, agg: Option<&Aggregate>) -> i32 {
    let failed = c.errors > 0 || agg.is_some_and(|a| a.errors > 0);
    i32::from(failed)
}
