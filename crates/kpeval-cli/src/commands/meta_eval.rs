//! `meta-eval`: correlations of metrics with human judgments in the records (and unit-level agreement).
use super::*;

pub(super) fn numeric(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|x| x.is_finite()),
        _ => None,
    }
}

pub(super) fn cmd_meta_eval(a: MetaEvalArgs, quiet: bool) -> Result<i32> {
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
