//! `compare`: paired bootstrap and randomization tests between systems of results files.
use super::*;

pub(super) fn cmd_compare(a: CompareArgs, quiet: bool) -> Result<i32> {
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
