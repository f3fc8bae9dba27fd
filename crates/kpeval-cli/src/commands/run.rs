//! `run`, `summarize`, `score` and `experiment`: an EvaluationConfig from the flags, run by the library.
use super::*;

pub(super) fn score_config(o: &ScoreOpts) -> EvaluationConfig {
    EvaluationConfig {
        metrics: Some(metrics_config(o)),
        stats: stats_config(o),
        ..EvaluationConfig::default()
    }
}

pub(super) fn cmd_run(
    a: RunArgs,
    backend: Option<&dyn Backend>,
    quiet: bool,
    offline: bool,
) -> Result<i32> {
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
    report_models(backend, quiet);
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
pub(super) fn article_views(records: &Path) -> Result<String> {
    let mut out = String::new();
    for item in RecordReader::open(records)? {
        out.push_str(&kpeval::view::article_view(&item?.record));
    }
    Ok(out)
}

pub(super) fn cmd_summarize(
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
    report_models(backend, quiet);
    let outcome = run_evaluation(&eval, inputs, &a.output, quiet, "summarize")?;
    report_counts(&outcome.counts, quiet);
    report_generation(&eval, quiet);
    Ok(exit_code(&outcome.counts, None))
}

pub(super) fn cmd_score(
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
    report_models(backend, quiet);
    let mut outcome = run_evaluation(&eval, inputs, &a.output, quiet, "score")?;
    report_counts(&outcome.counts, quiet);
    let acc = outcome.accumulator.take();
    let agg = finish(&a.output, acc, eval.signature().as_str(), &eval.config().stats, quiet)?;
    Ok(exit_code(&outcome.counts, Some(&agg)))
}

pub(super) fn cmd_experiment(
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
    report_models(backend, quiet);
    reporter.finish();
    if !quiet {
        for (name, dir, _, md) in &outcome.datasets {
            println!("{md}");
            println!("Results for {name}: {}", dir.display());
        }
    }
    Ok(i32::from(outcome.errors > 0))
}
