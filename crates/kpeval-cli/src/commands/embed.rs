//! `embed`: texts in (lines, or JSONL `id`/`text`), vectors out.
use super::*;

/// `kpeval embed`: texts in (lines of text files, or JSONL `id`/`text`), vectors out.
pub(super) fn cmd_embed(a: EmbedArgs, backend: Option<&dyn Backend>, quiet: bool) -> Result<i32> {
    use std::io::Write;
    let backend =
        backend.ok_or_else(|| Error::config("embed needs the model runtime (kpeval-torch)"))?;
    let embedder = backend.embedder(&a.model, &a.device)?;
    report_models(Some(backend), quiet);
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
