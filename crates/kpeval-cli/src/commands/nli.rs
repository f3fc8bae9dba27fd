//! `nli`: premise/hypothesis pairs in, label probabilities out; and the line reader `embed` shares.
use super::*;

/// `kpeval nli`: premise/hypothesis pairs in, probabilities out; bad lines are reported and skipped.
pub(super) fn cmd_nli(a: NliArgs, backend: Option<&dyn Backend>, quiet: bool) -> Result<i32> {
    use std::io::Write;
    let backend =
        backend.ok_or_else(|| Error::config("nli needs the model runtime (kpeval-torch)"))?;
    let model = backend.nli(&a.model, &a.device)?;
    report_models(Some(backend), quiet);
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
pub(super) fn for_each_line(
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
