//! `merge`: shards and partial runs into one results file (duplicates dropped, conflicts refused) and its aggregate.
use super::*;

pub(super) fn cmd_merge(a: MergeArgs, quiet: bool) -> Result<i32> {
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
