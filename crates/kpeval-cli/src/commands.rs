//! The commands: validate raw args into typed configs, call the library, write results.
use super::args::*;
use crate::reporter::CliReporter;
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

fn score_config(o: &ScoreOpts) -> EvaluationConfig {
    EvaluationConfig {
        metrics: Some(metrics_config(o)),
        stats: stats_config(o),
        ..EvaluationConfig::default()
    }
}

fn cmd_run(a: RunArgs, backend: Option<&dyn Backend>, quiet: bool, offline: bool) -> Result<i32> {
    guard_output(&a.input.inputs, &a.output)?;
    let inputs = open_inputs(&a.input, quiet)?;
    let config = EvaluationConfig {
        systems: vec![generated_system(&a.gen, a.score.seed, &a.score.device, offline)?],
        sections: a.input.sections.clone(),
        batch_size: a.output.batch_size,
        shard: shard(&a.output)?,
        cache_summaries: !a.gen.no_cache,
        offline,
        ..score_config(&a.score)
    };
    let eval = Evaluation::new(config, backend)?;
    let mut outcome = run_evaluation(&eval, inputs, &a.output, quiet, "run")?;
    report_counts(&outcome.counts, quiet);
    report_generation(&eval, quiet);
    let acc = outcome.accumulator.take();
    let agg = finish(&a.output, acc, eval.signature().as_str(), &eval.config().stats, quiet)?;
    if !quiet && agg.records <= 5 {
        if let Some(p) = &a.output.output {
            print!("{}", article_views(p)?);
        }
    }
    Ok(exit_code(&outcome.counts, Some(&agg)))
}

/// The readable view of a few records (see [`kpeval::view`]).
fn article_views(records: &Path) -> Result<String> {
    let mut out = String::new();
    for item in RecordReader::open(records)? {
        out.push_str(&kpeval::view::article_view(&item?.record));
    }
    Ok(out)
}

fn cmd_summarize(
    a: SummarizeArgs,
    backend: Option<&dyn Backend>,
    quiet: bool,
    offline: bool,
) -> Result<i32> {
    if a.output.aggregate.is_some() || a.output.report.is_some() {
        return Err(Error::config("summarize writes records only: --aggregate and --report need scores (use `kpeval run`, or `kpeval score` on these records)"));
    }
    guard_output(&a.input.inputs, &a.output)?;
    let inputs = open_inputs(&a.input, quiet)?;
    let config = EvaluationConfig {
        systems: vec![generated_system(&a.gen, a.seed, &a.device, offline)?],
        metrics: None,
        sections: a.input.sections.clone(),
        batch_size: a.output.batch_size,
        shard: shard(&a.output)?,
        cache_summaries: !a.gen.no_cache,
        offline,
        ..EvaluationConfig::default()
    };
    let eval = Evaluation::new(config, backend)?;
    let outcome = run_evaluation(&eval, inputs, &a.output, quiet, "summarize")?;
    report_counts(&outcome.counts, quiet);
    report_generation(&eval, quiet);
    Ok(exit_code(&outcome.counts, None))
}

fn cmd_score(
    a: ScoreArgs,
    backend: Option<&dyn Backend>,
    quiet: bool,
    offline: bool,
) -> Result<i32> {
    if a.output.batch_size == 0 {
        return Err(Error::config("--batch-size must be positive"));
    }
    guard_output(&a.input.inputs, &a.output)?;
    let inputs = open_inputs(&a.input, quiet)?;
    let config = EvaluationConfig {
        systems: vec![SystemConfig::given(a.systems.clone())],
        sections: a.input.sections.clone(),
        batch_size: a.output.batch_size.max(256),
        shard: shard(&a.output)?,
        offline,
        ..score_config(&a.score)
    };
    let eval = Evaluation::new(config, backend)?;
    let mut outcome = run_evaluation(&eval, inputs, &a.output, quiet, "score")?;
    report_counts(&outcome.counts, quiet);
    let acc = outcome.accumulator.take();
    let agg = finish(&a.output, acc, eval.signature().as_str(), &eval.config().stats, quiet)?;
    Ok(exit_code(&outcome.counts, Some(&agg)))
}

fn cmd_merge(a: MergeArgs, quiet: bool) -> Result<i32> {
    use std::io::Write;
    let items = expand_inputs(&a.inputs);
    let mut files = Vec::new();
    for it in items {
        match it {
            // a glob over a results folder also matches the aggregate/report sidecars
            kpeval::article::InputItem::File(p)
                if [".aggregate.json", ".report.md", ".report.html"]
                    .iter()
                    .any(|s| p.to_string_lossy().ends_with(s)) =>
            {
                if !quiet {
                    eprintln!(
                        "kpeval: {}: an aggregate/report file, not records; skipped",
                        p.display()
                    );
                }
            }
            kpeval::article::InputItem::File(p) => files.push(p),
            kpeval::article::InputItem::Missing(p, why) => {
                return Err(Error::input(format!("{p}: {why}")))
            }
            kpeval::article::InputItem::Stdin => {
                return Err(Error::input("merge reads files, not stdin"))
            }
        }
    }
    // The output (or its sidecars) named as an input would be truncated before it is read.
    let mut targets: Vec<PathBuf> = vec![
        a.output.clone(),
        sidecar(&a.output, "aggregate.json"),
        sidecar(&a.output, "report.md"),
        sidecar(&a.output, "report.html"),
    ];
    targets.extend(a.aggregate.iter().cloned());
    let targets: Vec<PathBuf> =
        targets.iter().filter_map(|t| std::fs::canonicalize(t).ok()).collect();
    if let Some(p) =
        files.iter().find(|p| std::fs::canonicalize(p).is_ok_and(|c| targets.contains(&c)))
    {
        return Err(Error::config(format!("{}: this input is also merge's output (-o or its sidecars); write the merged records elsewhere", p.display())));
    }
    // Read every record, keep one of each (id, system), sort by (id, system) for a stable file.
    // The same (id, system) twice is dropped when both records are identical (overlapping
    // shards, a file given twice) and refused when they differ: which one is right is unknown.
    let mut seen: std::collections::HashMap<(String, String), (String, Value)> =
        std::collections::HashMap::new();
    // a record's content, where it was read from aside
    let content = |line: &str| -> Value {
        let mut v: Value = serde_json::from_str(line).unwrap_or(Value::Null);
        if let Some(m) = v.as_object_mut() {
            m.remove("source");
        }
        v
    };
    let mut lines: Vec<((String, String), String)> = Vec::new();
    let mut sig: Option<String> = None;
    let mut dups = 0;
    for p in &files {
        let mut reader = RecordReader::open(p)?;
        for item in reader.by_ref() {
            let item = item?;
            let (r, line, i) = (item.record, item.text, item.line - 1);
            match &sig {
                None => sig = Some(r.signature.clone()),
                Some(s) if *s != r.signature => {
                    return Err(Error::input(format!(
                    "{}:{}: record was made with another configuration:\n  {}\nexpected:\n  {s}",
                    p.display(),
                    i + 1,
                    r.signature
                )))
                }
                _ => {}
            }
            let place = format!("{}:{}", p.display(), i + 1);
            match seen.get(&r.key()) {
                None => {
                    seen.insert(r.key(), (place, content(&line)));
                    lines.push((r.key(), line));
                }
                Some((_, first)) if *first == content(&line) => dups += 1,
                Some((first_place, _)) => {
                    let (id, system) = r.key();
                    return Err(Error::input(format!(
                        "{place}: record id '{id}'{} differs from the one with the same id and system at {first_place}; \
                         ids must be unique per system (with `score`, --id-field / --system-field pick the fields that make them unique)",
                        if system.is_empty() { String::new() } else { format!(" of system '{system}'") }
                    )));
                }
            }
        }
        if let Some(t) = reader.torn() {
            eprintln!("kpeval: warning: {t}; rerun that shard with --resume");
        }
    }
    lines.sort_by(|a, b| a.0.cmp(&b.0));
    let sig = sig.ok_or_else(|| Error::input("no records in the inputs"))?;
    let stats = Signature::parse(&sig)?.stats(StatsConfig::default());
    if a.bootstrap.is_some_and(|b| b != stats.bootstrap_samples)
        || a.seed.is_some_and(|x| x != stats.seed)
    {
        return Err(Error::config(format!(
            "merge recomputes the aggregate with the records' own settings (bootstrap:{} seed:{}); to change them, rescore",
            stats.bootstrap_samples, stats.seed
        )));
    }
    lock_output(&a.output)?;
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(&a.output).map_err(|e| Error::io(&a.output, e))?,
    );
    for (_, l) in &lines {
        writeln!(out, "{l}").map_err(|e| Error::io(&a.output, e))?;
    }
    out.flush().map_err(|e| Error::io(&a.output, e))?;
    drop(out);
    if !quiet {
        eprintln!(
            "kpeval: merged {} record(s) from {} file(s){}",
            lines.len(),
            files.len(),
            if dups > 0 { format!(", {dups} duplicate(s) dropped") } else { String::new() }
        );
    }
    let o = OutputArgs {
        output: Some(a.output.clone()),
        aggregate: a.aggregate,
        report: a.report,
        resume: false,
        shard: None,
        batch_size: 1,
    };
    let agg = finish(&o, None, &sig, &stats, quiet)?;
    Ok(i32::from(agg.errors > 0))
}

/// `kpeval embed`: texts in (lines of text files, or JSONL `id`/`text`), vectors out.
fn cmd_embed(a: EmbedArgs, backend: Option<&dyn Backend>, quiet: bool) -> Result<i32> {
    use std::io::Write;
    let backend =
        backend.ok_or_else(|| Error::config("embed needs the model runtime (kpeval-torch)"))?;
    let embedder = backend.embedder(&a.model, &a.device)?;
    embedder.set_batch_size(a.batch_size);
    let mut out: Box<dyn Write> = match &a.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).map_err(|e| Error::io(p, e))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let sig = Signature::new().with_kv("embed", embedder.name()).to_string();
    let mut errors = 0usize;
    let mut count = 0usize;
    let mut truncated = 0usize;
    let mut busy = std::time::Duration::ZERO;
    let mut pending: Vec<(String, String)> = Vec::new();
    let mut flush = |pending: &mut Vec<(String, String)>, out: &mut Box<dyn Write>| -> Result<()> {
        if pending.is_empty() {
            return Ok(());
        }
        let texts: Vec<String> = pending.iter().map(|(_, t)| t.clone()).collect();
        let t0 = std::time::Instant::now();
        let vecs = embedder.embed(&texts)?;
        busy += t0.elapsed();
        count += texts.len();
        let (cut, max_len) = embedder.truncation(&texts)?;
        for (((id, text), v), cut) in pending.drain(..).zip(vecs).zip(cut) {
            let mut line =
                serde_json::json!({"id": id, "text": text, "embedding": v, "signature": sig});
            if cut > 0 {
                // never silent: the vector only covers the first `max_len` tokens
                line["truncated_tokens"] = Value::from(cut);
                line["max_tokens"] = Value::from(max_len);
                truncated += 1;
            }
            writeln!(out, "{line}").map_err(|e| Error::io("<output>", e))?;
        }
        Ok(())
    };
    errors += for_each_line(&a.inputs, |place, line| {
        let Ok(text) = String::from_utf8(line) else {
            eprintln!("kpeval: error: {place}: invalid UTF-8; line skipped");
            return Ok(false);
        };
        let text = text.trim_end_matches('\r');
        let text = text.strip_prefix('\u{feff}').unwrap_or(text); // a byte-order mark
        if text.trim().is_empty() {
            eprintln!("kpeval: error: {place}: empty text; line skipped");
            return Ok(false);
        }
        if text.trim_start().starts_with('{') {
            let v: Value = match serde_json::from_str(text) {
                Ok(v) => v,
                Err(e) => {
                    eprintln!("kpeval: error: {place}: broken JSON ({e}); line skipped");
                    return Ok(false);
                }
            };
            let Some(t) = v.get(&a.text_field).and_then(|t| t.as_str()) else {
                eprintln!(
                    "kpeval: error: {place}: no string field '{}'; line skipped",
                    a.text_field
                );
                return Ok(false);
            };
            let id = match v.get("id") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => place.to_string(),
            };
            pending.push((id, t.to_string()));
        } else {
            pending.push((place.to_string(), text.to_string()));
        }
        if pending.len() >= a.batch_size.max(1) * 16 {
            flush(&mut pending, &mut out)?;
        }
        Ok(true)
    })?;
    flush(&mut pending, &mut out)?;
    out.flush().map_err(|e| Error::io("<output>", e))?;
    if !quiet {
        eprintln!(
            "kpeval: embedded {count} text(s) in {:.3} s of model time ({:.1} texts/s)",
            busy.as_secs_f64(),
            count as f64 / busy.as_secs_f64().max(1e-9)
        );
    }
    if !quiet && truncated > 0 {
        eprintln!("kpeval: warning: {truncated} text(s) longer than the model's maximum length were truncated (their records say `truncated_tokens`)");
    }
    if !quiet && errors > 0 {
        eprintln!("kpeval: {errors} input line(s) failed");
    }
    Ok(i32::from(errors > 0))
}

fn cmd_compare(a: CompareArgs, quiet: bool) -> Result<i32> {
    if a.bootstrap == 0 || a.ar_trials == 0 {
        return Err(Error::config("--bootstrap and --ar-trials must be positive"));
    }
    let mut rows = Vec::new();
    let mut sigs: Vec<String> = Vec::new();
    let mut file_sigs: Vec<(String, Signature)> = Vec::new();
    for it in expand_inputs(&a.inputs) {
        match it {
            kpeval::article::InputItem::File(p) => {
                let mut file: Vec<String> = Vec::new();
                for item in RecordReader::open(&p)? {
                    let r = item?.record;
                    if !file.contains(&r.signature) {
                        file.push(r.signature.clone());
                    }
                    rows.push(kpeval::aggregate::AggRow::from_record(&r));
                }
                for x in file {
                    file_sigs.push((p.display().to_string(), Signature::parse(&x)?));
                    if !sigs.contains(&x) {
                        sigs.push(x);
                    }
                }
            }
            kpeval::article::InputItem::Missing(p, why) => {
                return Err(Error::input(format!("{p}: {why}")))
            }
            kpeval::article::InputItem::Stdin => {
                return Err(Error::input("compare reads results files, not stdin"))
            }
        }
    }
    let explicit_metrics = a.metrics.is_some();
    let metrics: Vec<String> = match a.metrics {
        Some(m) => m,
        None => {
            let mut m: Vec<String> = Vec::new();
            for r in &rows {
                for (k, _) in r.scores.iter().flatten() {
                    if report::headline_metric(k) && !m.iter().any(|x| x.as_str() == &**k) {
                        m.push(k.to_string());
                    }
                }
            }
            m
        }
    };
    if let Some(w) = Signature::check_metric_settings(&file_sigs)? {
        eprintln!("kpeval: warning: {w}");
    }
    if explicit_metrics {
        let corpus = kpeval::scoring::corpus_stats();
        let known = |m: &str| {
            corpus.iter().any(|c| c.name() == m)
                || rows.iter().any(|r| r.scores.iter().flatten().any(|(k, _)| &**k == m))
        };
        let unknown: Vec<&str> = metrics.iter().map(String::as_str).filter(|m| !known(m)).collect();
        if !unknown.is_empty() {
            return Err(Error::input(format!(
                "--metrics: no record has {} (score leaves look like rouge1.f1, bleu.score)",
                unknown.join(", ")
            )));
        }
    }
    let cfg = StatsConfig {
        bootstrap_samples: a.bootstrap,
        seed: a.seed,
        ar_trials: a.ar_trials,
        ..StatsConfig::default()
    };
    // the records' signatures, then compare's own settings (the records' seed is their aggregate's)
    let sig = format!(
        "{} || compare:bootstrap:{}|ar-trials:{}|seed:{}",
        sigs.join(" || "),
        cfg.bootstrap_samples,
        cfg.ar_trials,
        cfg.seed
    );
    let c = kpeval::compare::compare(
        &rows,
        a.baseline.as_deref(),
        &metrics,
        &kpeval::scoring::corpus_stats(),
        &cfg,
        &sig,
    )
    .map_err(Error::input)?;
    if c.excluded_records > 0 {
        eprintln!(
            "kpeval: warning: {} record id(s) are not scored for every system and are left out of the comparison ({})",
            c.excluded_records,
            c.records_per_system.iter().map(|(s, n)| format!("{s}: {n}")).collect::<Vec<_>>().join(", ")
        );
    }
    if c.paired_records < kpeval::compare::FEW_RECORDS {
        eprintln!("kpeval: warning: only {} paired records: with so few, bootstrap CIs and p-values are not reliable", c.paired_records);
    }
    if let Some(p) = &a.output {
        let json = serde_json::to_string_pretty(&c)
            .map_err(|e| Error::Json { context: "comparison".into(), source: e })?
            + "\n";
        std::fs::write(p, json).map_err(|e| Error::io(p, e))?;
    }
    if !quiet || a.output.is_none() {
        print!("{}", kpeval::compare::markdown(&c));
    }
    Ok(0)
}

fn numeric(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|x| x.is_finite()),
        _ => None,
    }
}

fn cmd_meta_eval(a: MetaEvalArgs, quiet: bool) -> Result<i32> {
    use kpeval::metaeval::{
        collect_units, meta_evaluate, unit_evaluate, unit_metric_names, Corr, Level, Point,
        UnitLabels, UnitRecord,
    };
    let levels: Vec<Level> = a
        .levels
        .iter()
        .map(|l| match l.as_str() {
            "summary" => Ok(Level::Summary),
            "document" | "doc" => Ok(Level::Document),
            "system" => Ok(Level::System),
            o => Err(Error::config(format!(
                "--levels: unknown level '{o}' (summary, document, system)"
            ))),
        })
        .collect::<Result<_>>()?;
    let corrs: Vec<Corr> = a
        .correlations
        .iter()
        .map(|c| match c.as_str() {
            "pearson" => Ok(Corr::Pearson),
            "spearman" => Ok(Corr::Spearman),
            "kendall" | "kendall-tau-b" | "tau" => Ok(Corr::KendallTauB),
            o => Err(Error::config(format!(
                "--correlations: unknown '{o}' (pearson, spearman, kendall)"
            ))),
        })
        .collect::<Result<_>>()?;
    // (doc, system, leaves, humans) of every scored record.
    #[allow(clippy::type_complexity)] // one tuple per record, read right below
    let mut rows: Vec<(String, String, Vec<(String, f64)>, Vec<(String, f64)>)> = Vec::new();
    let mut sigs: Vec<String> = Vec::new();
    // Per-Key-Development verdicts and labels (--unit-labels), and the `meta` fields seen.
    let mut unit_rows: Vec<UnitRecord> = Vec::new();
    let mut meta_fields: Vec<String> = Vec::new();
    for it in expand_inputs(&a.inputs) {
        let p = match it {
            kpeval::article::InputItem::File(p) => p,
            kpeval::article::InputItem::Missing(p, why) => {
                return Err(Error::input(format!("{p}: {why}")))
            }
            kpeval::article::InputItem::Stdin => {
                return Err(Error::input("meta-eval reads results files, not stdin"))
            }
        };
        for item in RecordReader::open(&p)? {
            let r = item?.record;
            if !sigs.contains(&r.signature) {
                sigs.push(r.signature.clone());
            }
            if let Some(field) = &a.unit_labels {
                unit_rows.push(UnitRecord::from_record(&r, field));
                for k in r.meta.keys() {
                    if !meta_fields.contains(k) {
                        meta_fields.push(k.clone());
                    }
                }
            }
            let Some(scores) = &r.scores else { continue };
            let humans: Vec<(String, f64)> =
                r.meta.iter().filter_map(|(k, v)| numeric(v).map(|x| (k.clone(), x))).collect();
            rows.push((
                r.id.clone(),
                r.system.clone().unwrap_or_default(),
                report::flatten_scores(scores),
                humans,
            ));
        }
    }
    // With --unit-labels, --metrics names of key-point metrics (`kp_cover`, `kp_cover.key_points`)
    // select the unit level; the other names are leaves to correlate.
    let unit_names = unit_metric_names(&unit_rows);
    let mut unit_selected: Vec<String> = Vec::new();
    let mut leaf_metrics = a.metrics.clone();
    if let (Some(_), Some(ms)) = (&a.unit_labels, &a.metrics) {
        let mut leaves = Vec::new();
        for m in ms {
            match m.strip_suffix(".key_points") {
                Some(u) => unit_selected.push(u.to_string()),
                None if unit_names.contains(m) => unit_selected.push(m.clone()),
                None => leaves.push(m.clone()),
            }
        }
        leaf_metrics = if leaves.is_empty() { None } else { Some(leaves) };
    }
    // Correlations run unless only the unit level was asked for (--unit-labels without --human).
    let correlate = a.unit_labels.is_none() || a.human.is_some();
    let humans: Vec<String> = match a.human {
        Some(h) => h,
        None if !correlate => Vec::new(),
        None => {
            let mut h: Vec<String> = Vec::new();
            for (_, _, _, hs) in &rows {
                for (k, _) in hs {
                    if !h.contains(k) {
                        h.push(k.clone());
                    }
                }
            }
            h
        }
    };
    if correlate && humans.is_empty() {
        return Err(Error::input(
            "no human judgments found in the records' `meta` (use --human FIELD)",
        ));
    }
    let metrics: Vec<String> = match leaf_metrics {
        Some(m) => m,
        None => {
            let mut m: Vec<String> = Vec::new();
            for (_, _, leaves, _) in &rows {
                for (k, _) in leaves {
                    let rouge_recall = k.starts_with("rouge") && k.ends_with(".recall");
                    if (report::headline_metric(k) || rouge_recall) && !m.contains(k) {
                        m.push(k.clone());
                    }
                }
            }
            m.sort();
            m
        }
    };
    let cfg =
        StatsConfig { bootstrap_samples: a.bootstrap, seed: a.seed, ..StatsConfig::default() };
    let mut results = Vec::new();
    let mut multi_warned = false;
    for h in &humans {
        for m in &metrics {
            let points: Vec<Point> = rows
                .iter()
                .filter_map(|(doc, sys, leaves, hs)| {
                    // `a+b`: the sum of two or more score leaves (e.g. rouge1.recall+rouge2.recall)
                    let metric = m
                        .split('+')
                        .map(|part| leaves.iter().find(|(k, _)| k == part.trim()).map(|(_, v)| *v))
                        .sum::<Option<f64>>()?;
                    let human = hs.iter().find(|(k, _)| k == h)?.1;
                    Some(Point { doc: doc.clone(), system: sys.clone(), metric, human })
                })
                .collect();
            if points.is_empty() {
                if !quiet {
                    eprintln!("kpeval: warning: no record has both '{m}' and '{h}'");
                }
                continue;
            }
            if !quiet && !multi_warned && levels.contains(&Level::Document) {
                let mut per_doc: std::collections::HashMap<&str, usize> =
                    std::collections::HashMap::new();
                for p in &points {
                    *per_doc.entry(p.doc.as_str()).or_default() += 1;
                }
                if per_doc.values().all(|&n| n < 2) {
                    eprintln!(
                        "kpeval: warning: every document id has a single summary, so document-level correlations are undefined (NaN) \
                         and the bootstrap resamples summaries as documents: the records' ids should name the document \
                         (score --id-field DOC_FIELD --system-field SYSTEM_FIELD)"
                    );
                    multi_warned = true;
                }
            }
            results.extend(meta_evaluate(&points, m, h, &levels, &corrs, &cfg));
        }
    }
    if correlate && results.is_empty() {
        return Err(Error::input(format!(
            "no record has both a metric ({}) and a human judgment ({}); check --metrics / --human",
            if metrics.is_empty() { "none found".to_string() } else { metrics.join(", ") },
            humans.join(", ")
        )));
    }
    let mut units = Vec::new();
    if let Some(field) = &a.unit_labels {
        if unit_rows.iter().all(|u| u.labels == UnitLabels::Missing) {
            return Err(Error::input(format!(
                "--unit-labels: no record's `meta` has '{field}' (fields found: {})",
                if meta_fields.is_empty() { "none".to_string() } else { meta_fields.join(", ") }
            )));
        }
        if unit_names.is_empty() {
            return Err(Error::input(
                "--unit-labels: no record has per-Key-Development verdicts (`scores.<metric>.key_points`); score with a key-point metric such as kp-cover, kp-tok or kp",
            ));
        }
        let names =
            if unit_selected.is_empty() { unit_names.clone() } else { unit_selected.clone() };
        for m in &names {
            if !unit_names.contains(m) {
                if !quiet {
                    eprintln!("kpeval: warning: no record has verdicts of '{m}' (`scores.{m}.key_points`; found: {})", unit_names.join(", "));
                }
                continue;
            }
            let (points, skipped) = collect_units(&unit_rows, m);
            if !quiet {
                for (why, first) in &skipped.first {
                    let n = skipped.count(*why);
                    eprintln!(
                        "kpeval: warning: {m}: {n} record(s) skipped: {} (first: {first})",
                        why.describe()
                    );
                }
            }
            if points.is_empty() {
                if !quiet {
                    eprintln!("kpeval: warning: {m}: no units (every record skipped)");
                }
                continue;
            }
            units.push(unit_evaluate(&points, m, field, skipped, &cfg));
        }
        if units.is_empty() {
            return Err(Error::input(format!(
                "--unit-labels: no record has both verdicts of {} and valid '{field}' labels of the same length",
                names.join(", ")
            )));
        }
    }
    if let Some(p) = &a.output {
        let stats = serde_json::json!({"bootstrap_samples": cfg.bootstrap_samples, "seed": cfg.seed, "confidence": cfg.confidence});
        let doc = if a.unit_labels.is_some() {
            serde_json::json!({
                "results": results,
                "units": units,
                "stats": stats,
                "kpeval": kpeval::VERSION,
                "signature": sigs.join(" || "),
            })
        } else {
            serde_json::json!({
                "results": results,
                "stats": stats,
                "kpeval": kpeval::VERSION,
                "signature": sigs.join(" || "),
            })
        };
        let json = serde_json::to_string_pretty(&doc)
            .map_err(|e| Error::Json { context: "meta-eval".into(), source: e })?
            + "\n";
        std::fs::write(p, json).map_err(|e| Error::io(p, e))?;
    }
    if !results.is_empty() {
        print!("{}", kpeval::metaeval::markdown(&results));
    }
    if !units.is_empty() {
        if !results.is_empty() {
            println!();
        }
        print!("{}", kpeval::metaeval::unit_markdown(&units));
    }
    println!(
        "\n{} bootstrap resamples of documents, seed {}; 95% CIs.",
        cfg.bootstrap_samples, cfg.seed
    );
    Ok(0)
}

fn cmd_experiment(
    a: ExperimentArgs,
    backend: Option<&dyn Backend>,
    quiet: bool,
    offline: bool,
) -> Result<i32> {
    let cfg = kpeval::experiment::ExperimentConfig::load(&a.file)?;
    let base = a.file.parent().map(Path::to_path_buf).unwrap_or_default();
    let out = a.output_dir.clone().unwrap_or_else(|| PathBuf::from("results").join(&cfg.name));
    let reporter = CliReporter::new(progress(None, quiet, "experiment"));
    let outcome =
        kpeval::experiment::run(&cfg, &base, &out, backend, a.resume, offline, &reporter)?;
    reporter.finish();
    if !quiet {
        for (name, dir, _, md) in &outcome.datasets {
            println!("{md}");
            println!("Results for {name}: {}", dir.display());
        }
    }
    Ok(i32::from(outcome.errors > 0))
}

/// `kpeval nli`: premise/hypothesis pairs in, probabilities out; bad lines are reported and skipped.
fn cmd_nli(a: NliArgs, backend: Option<&dyn Backend>, quiet: bool) -> Result<i32> {
    use std::io::Write;
    let backend =
        backend.ok_or_else(|| Error::config("nli needs the model runtime (kpeval-torch)"))?;
    let model = backend.nli(&a.model, &a.device)?;
    let sig = Signature::new().with_kv("nli", model.name()).to_string();
    let mut out: Box<dyn Write> = match &a.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).map_err(|e| Error::io(p, e))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let (mut errors, mut total, mut correct, mut labelled) = (0usize, 0usize, 0usize, 0usize);
    let mut pending: Vec<(Value, String, String, Option<String>)> = Vec::new();
    let mut flush = |pending: &mut Vec<(Value, String, String, Option<String>)>,
                     out: &mut Box<dyn Write>|
     -> Result<()> {
        if pending.is_empty() {
            return Ok(());
        }
        let pairs: Vec<(String, String)> =
            pending.iter().map(|(_, p, h, _)| (p.clone(), h.clone())).collect();
        let probs = model.predict(&pairs)?;
        for ((id, p, h, gold), pr) in pending.drain(..).zip(probs) {
            let label = [
                ("entailment", pr.entailment),
                ("neutral", pr.neutral),
                ("contradiction", pr.contradiction),
            ]
            .into_iter()
            .fold(("", f64::NEG_INFINITY), |best, x| if x.1 > best.1 { x } else { best })
            .0;
            total += 1;
            if let Some(g) = &gold {
                labelled += 1;
                correct += usize::from(g.eq_ignore_ascii_case(label));
            }
            let rec = serde_json::json!({"id": id, "premise": p, "hypothesis": h, "entailment": pr.entailment, "neutral": pr.neutral,
                "contradiction": pr.contradiction, "label": label, "truncated": pr.truncated, "gold": gold, "signature": sig});
            writeln!(out, "{rec}").map_err(|e| Error::io("<output>", e))?;
        }
        Ok(())
    };
    errors += for_each_line(&a.inputs, |place, line| {
        let v: Value = match serde_json::from_slice(&line) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("kpeval: error: {place}: broken JSON ({e}); line skipped");
                return Ok(false);
            }
        };
        let field = |f: &str| v.get(f).and_then(|x| x.as_str()).map(str::to_string);
        let (Some(p), Some(h)) = (field(&a.premise_field), field(&a.hypothesis_field)) else {
            eprintln!(
                "kpeval: error: {place}: needs string fields '{}' and '{}'; line skipped",
                a.premise_field, a.hypothesis_field
            );
            return Ok(false);
        };
        let id = v
            .get("id")
            .or_else(|| v.get("pairID"))
            .cloned()
            .unwrap_or(Value::String(place.to_string()));
        let gold = a.label_field.as_deref().and_then(field).filter(|g| !g.is_empty() && g != "-");
        pending.push((id, p, h, gold));
        if pending.len() >= 256 {
            flush(&mut pending, &mut out)?;
        }
        Ok(true)
    })?;
    flush(&mut pending, &mut out)?;
    out.flush().map_err(|e| Error::io("<output>", e))?;
    if !quiet {
        eprintln!("kpeval: {total} pair(s) classified by {}", model.name());
        if labelled > 0 {
            eprintln!(
                "kpeval: accuracy against the gold labels: {:.4} ({correct}/{labelled})",
                correct as f64 / labelled as f64
            );
        }
        if errors > 0 {
            eprintln!("kpeval: {errors} input line(s) failed");
        }
    }
    Ok(i32::from(errors > 0))
}

/// Calls `f(place, line)` for every non-blank line of the inputs (files, globs, `-`), where
/// place is `file:line`; `f` returns whether the line was usable. Unreadable inputs are reported
/// on stderr. Returns the number of inputs and lines that failed.
fn for_each_line(
    inputs: &[String],
    mut f: impl FnMut(&str, Vec<u8>) -> Result<bool>,
) -> Result<usize> {
    use std::io::BufRead;
    let mut errors = 0;
    for item in expand_inputs(inputs) {
        let (name, reader): (String, Box<dyn BufRead>) = match item {
            kpeval::article::InputItem::Stdin => {
                ("-".into(), Box::new(std::io::BufReader::new(std::io::stdin())))
            }
            kpeval::article::InputItem::File(p) => match std::fs::File::open(&p) {
                Ok(file) if p.to_string_lossy().ends_with(".gz") => (
                    p.display().to_string(),
                    Box::new(std::io::BufReader::new(flate2::read::MultiGzDecoder::new(file))),
                ),
                Ok(file) => (p.display().to_string(), Box::new(std::io::BufReader::new(file))),
                Err(e) => {
                    eprintln!("kpeval: error: {}: {e}", p.display());
                    errors += 1;
                    continue;
                }
            },
            kpeval::article::InputItem::Missing(p, why) => {
                eprintln!("kpeval: error: {p}: {why}");
                errors += 1;
                continue;
            }
        };
        for (i, line) in reader.split(b'\n').enumerate() {
            let place = format!("{name}:{}", i + 1);
            let line = match line {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("kpeval: error: {place}: {e}");
                    errors += 1;
                    break;
                }
            };
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if !f(&place, line)? {
                errors += 1;
            }
        }
    }
    Ok(errors)
}
