//! The HTML report: one self-contained file (no network): per-system table with CIs, metric
//! distributions as inline SVG, and a per-article view that shows each Key Development with its
//! coverage verdict (covered or not, score) beside the summary sentences that support it.
use crate::error::{Error, Result};
use crate::record::Record;
use crate::report::{flatten_scores, headline_metric, table_columns, Aggregate};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// Coverage metrics whose per-Key-Development verdicts the views show, best first.
pub const COVERAGE_FIELDS: [&str; 6] =
    ["kp_cover_nli", "kp_cover", "kp_nli", "kp_tok", "kp", "kp_rouge"];

/// Articles shown in the per-article view (the table and plots use every record).
const MAX_ARTICLES: usize = crate::accumulate::TRACKED_IDS;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

use crate::accumulate::{report_scale as scale, ReportData, HIST_BINS};

/// Histogram of one metric per system (20 bins over 0–100 on the report's scale, counted as
/// the records streamed by), as an inline SVG; the legend shows each system's mean.
fn histogram_svg(
    metric: &str,
    per_system: &BTreeMap<String, [u64; HIST_BINS]>,
    agg: &Aggregate,
) -> String {
    let colors = [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
        "#bcbd22", "#17becf",
    ];
    let k = scale(metric);
    let (w, h, max) = (420.0, 160.0, 100.0);
    let legend_rows = per_system.len().div_ceil(3) as f64;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{}" role="img" aria-label="distribution of {m}"><text x="4" y="14" font-size="12">{m}</text>"#,
        h + 28.0 + 13.0 * legend_rows,
        m = esc(metric)
    );
    let peak = per_system.values().flat_map(|c| c.iter().copied()).max().unwrap_or(1).max(1);
    for (si, (name, counts)) in per_system.iter().enumerate() {
        let c = colors[si % colors.len()];
        let mut pts = String::new();
        for (b, n) in counts.iter().enumerate() {
            let x = 10.0 + (b as f64 + 0.5) * (w - 20.0) / HIST_BINS as f64;
            let y = 20.0 + h - (*n as f64 / peak as f64) * (h - 10.0);
            pts.push_str(&format!("{x:.1},{y:.1} "));
        }
        svg.push_str(&format!(
            r#"<polyline fill="none" stroke="{c}" stroke-width="2" points="{pts}"/>"#
        ));
        let mean = agg
            .systems
            .get(name)
            .and_then(|s| s.metrics.get(metric))
            .map_or(f64::NAN, |e| e.mean * k);
        svg.push_str(&format!(
            r#"<text x="{}" y="{}" font-size="11" fill="{c}">{} (mean {mean:.1})</text>"#,
            10.0 + (si % 3) as f64 * 135.0,
            h + 34.0 + (si / 3) as f64 * 13.0,
            esc(name)
        ));
    }
    svg.push_str(&format!(r##"<line x1="10" y1="{y}" x2="{}" y2="{y}" stroke="#999"/><text x="10" y="{}" font-size="10">0</text><text x="{}" y="{}" font-size="10" text-anchor="end">{max:.0}</text></svg>"##, w - 10.0, h + 18.0, w - 10.0, h + 18.0, y = h + 20.0));
    svg
}

/// Renders the report from a records file, its aggregate and the accumulator's report data
/// (histograms, record counts of the first articles).
pub fn render_file(
    records: &Path,
    agg: &Aggregate,
    title: &str,
    data: &ReportData,
) -> Result<String> {
    let dist = &data.histograms;
    #[derive(serde::Deserialize)]
    struct Head<'a> {
        #[serde(borrow)]
        id: std::borrow::Cow<'a, str>,
    }
    // How many records each of the first articles has is known before reading, so reading
    // stops once the shown articles have all of theirs (for a large run, the first few hundred
    // lines instead of the whole file).
    let per_id: std::collections::HashMap<&str, usize> =
        data.id_counts.iter().map(|(id, n)| (id.as_str(), *n)).collect();
    let want_articles = per_id.len().min(MAX_ARTICLES);
    let mut pending = 0usize; // records of shown articles not read yet
    let mut early_stop = !per_id.is_empty();
    let mut reader = crate::records::RecordReader::open(records)?;
    let mut articles: BTreeMap<String, Value> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    while let Some(line) = reader.next_raw() {
        if early_stop && pending == 0 && articles.len() >= want_articles {
            break;
        }
        let line = line?;
        let context = || reader.place(line.line);
        // the id alone decides whether the record is shown: most records are not parsed whole
        let head: Head = serde_json::from_slice(&line.bytes)
            .map_err(|e| Error::Json { context: context(), source: e })?;
        if !articles.contains_key(&*head.id) && articles.len() >= MAX_ARTICLES {
            continue;
        }
        let r: Record = serde_json::from_slice(&line.bytes)
            .map_err(|e| Error::Json { context: context(), source: e })?;
        let system = r.system.clone().unwrap_or_else(|| "(none)".into());
        if !articles.contains_key(&r.id) {
            match per_id.get(r.id.as_str()) {
                Some(&n) => pending += n,
                None => early_stop = false, // counts and file disagree: read it all
            }
            order.push(r.id.clone());
            articles.insert(
                r.id.clone(),
                json!({"id": r.id, "title": r.title, "key_points": r.key_points, "systems": {}}),
            );
        }
        let cover_field = r.scores.as_ref().and_then(|s| {
            COVERAGE_FIELDS
                .into_iter()
                .find(|f| s.get(*f).is_some_and(|v| v["key_points"].is_array()))
        });
        let sys_view = json!({
            "key_points": r.summary.as_ref().map(|s| s.key_points.clone()).unwrap_or_default(),
            "notes": r.summary.as_ref().map(|s| s.notes.clone()).unwrap_or_default(),
            "verdicts_by": cover_field,
            "verdicts": cover_field.and_then(|f| r.scores.as_ref().unwrap()[f].get("key_points").cloned()),
            "scores": r.scores.as_ref().map(|s| flatten_scores(s).into_iter().filter(|(k, _)| headline_metric(k)).collect::<BTreeMap<_, _>>()),
            "error": r.error.as_ref().map(|e| e.message.clone()),
        });
        articles.get_mut(&r.id).unwrap()["systems"][system] = sys_view;
        pending = pending.saturating_sub(1);
    }
    let data: Vec<&Value> = order.iter().map(|id| &articles[id]).collect();
    let data_json = serde_json::to_string(&data)
        .map_err(|e| Error::Json { context: "report data".into(), source: e })?
        .replace("</", "<\\/");

    let cols = table_columns(agg);
    let mut table = format!(
        "<table><thead><tr><th>system</th><th>n</th><th>errors</th>{}</tr></thead><tbody>",
        cols.iter().map(|c| format!("<th>{}</th>", esc(c))).collect::<String>()
    );
    for (name, s) in &agg.systems {
        table.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td>",
            esc(name),
            s.scored,
            s.errors
        ));
        for c in &cols {
            let cell = s.metrics.get(c).or_else(|| s.corpus.get(c)).map(|e| {
                let k = scale(c);
                format!(
                    "{:.2}<br><small>[{:.2}, {:.2}]</small>",
                    e.mean * k,
                    e.ci_low * k,
                    e.ci_high * k
                )
            });
            table.push_str(&format!("<td>{}</td>", cell.unwrap_or_else(|| "–".into())));
        }
        table.push_str("</tr>");
    }
    table.push_str("</tbody></table>");
    let plots: String = dist
        .iter()
        .map(|(m, per)| format!("<figure>{}</figure>", histogram_svg(m, per, agg)))
        .collect();
    Ok(format!(
        r##"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body{{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;max-width:1400px}}
table{{border-collapse:collapse;font-size:13px;margin:8px 0}} th,td{{border:1px solid #ddd;padding:4px 8px;text-align:right;vertical-align:top}}
th:first-child,td:first-child{{text-align:left}} thead th{{background:#f3f3f3}}
figure{{display:inline-block;margin:6px;border:1px solid #eee}}
.sig{{font-family:monospace;font-size:11px;color:#555;word-break:break-all}}
.pair{{display:grid;grid-template-columns:1fr 90px 1fr;gap:6px;margin:3px 0}} .kd{{background:#eef5ff;padding:4px}} .gen{{background:#f4fff0;padding:4px}}
.sim{{text-align:center;font-weight:bold;padding:4px}} .miss{{background:#fff2f2;padding:4px;color:#900}} .muted{{color:#777}}
select{{font-size:14px;margin:4px 8px 4px 0}}
</style></head>
<body>
<h1>{title}</h1>
<p class="sig">{sig}</p>
<p>{records} records, {errors} with errors. Means with {conf}% bootstrap CIs ({samples} resamples, seed {seed}); ROUGE, token F1 and key-point scores ×100.</p>
<h2>Systems</h2>
{table}
<h2>Distributions</h2>
{plots}
<h2>Articles</h2>
<p>Article <select id="article"></select> system <select id="system"></select> <span class="muted" id="count"></span></p>
<div id="view"></div>
<script id="data" type="application/json">{data_json}</script>
<script>
"use strict";
const DATA = JSON.parse(document.getElementById("data").textContent);
const artSel = document.getElementById("article"), sysSel = document.getElementById("system"), view = document.getElementById("view");
function el(tag, cls, text) {{ const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; }}
DATA.forEach((a, i) => {{ const o = el("option", null, a.id + (a.title ? " — " + a.title.slice(0, 60) : "")); o.value = i; artSel.appendChild(o); }});
document.getElementById("count").textContent = DATA.length + " article(s) shown";
function fillSystems() {{
  const a = DATA[artSel.value]; const keep = sysSel.value; sysSel.innerHTML = "";
  Object.keys(a ? a.systems : {{}}).forEach(s => {{ const o = el("option", null, s); o.value = s; sysSel.appendChild(o); }});
  if (keep && a && a.systems[keep]) sysSel.value = keep;
}}
function render() {{
  view.innerHTML = "";
  const a = DATA[artSel.value]; if (!a) return;
  const s = a.systems[sysSel.value]; if (!s) return;
  if (s.error) {{ view.appendChild(el("p", "miss", "Error: " + s.error)); return; }}
  const vs = s.verdicts || [];
  const nCovered = vs.filter(v => v.covered).length;
  view.appendChild(el("h3", null, "Key Developments: " + (s.verdicts_by ? nCovered + " of " + a.key_points.length + " covered (" + s.verdicts_by + ")" : "no coverage metric computed")));
  const used = new Set();
  a.key_points.forEach((kd, i) => {{
    const v = vs[i];
    const row = el("div", "pair"); row.appendChild(el("div", "kd", kd));
    if (v) {{
      row.appendChild(el("div", "sim", (v.covered ? "covered " : "not covered ") + v.score.toFixed(3)));
      const ev = el("div", v.covered ? "gen" : "miss");
      if (!v.covered && (v.evidence || []).length) ev.appendChild(el("small", null, "closest, not enough:"));
      (v.evidence || []).forEach(g => {{ if (v.covered) used.add(g); ev.appendChild(el("div", null, s.key_points[g])); }});
      if (!(v.evidence || []).length) ev.textContent = "no supporting sentence";
      row.appendChild(ev);
    }} else {{ row.appendChild(el("div", "sim", "–")); row.appendChild(el("div", "miss", "not judged")); }}
    view.appendChild(row);
  }});
  const extra = s.key_points.filter((_, j) => !used.has(j));
  if (extra.length) {{ view.appendChild(el("h4", null, "Generated key points that support no Key Development")); extra.forEach(t => view.appendChild(el("div", "gen", t))); }}
  if (s.notes && s.notes.length) view.appendChild(el("p", "muted", "Notes: " + s.notes.join("; ")));
  const t = el("table"); const tb = el("tbody"); t.appendChild(tb);
  Object.entries(s.scores || {{}}).forEach(([k, v]) => {{ const tr = el("tr"); tr.appendChild(el("td", null, k)); tr.appendChild(el("td", null, v.toFixed(4))); tb.appendChild(tr); }});
  view.appendChild(el("h4", null, "Scores")); view.appendChild(t);
}}
artSel.addEventListener("change", () => {{ fillSystems(); render(); }});
sysSel.addEventListener("change", render);
fillSystems(); render();
document.body.dataset.rendered = "ok";
</script>
</body></html>
"##,
        title = esc(title),
        sig = esc(&agg.signature),
        records = agg.records,
        errors = agg.errors,
        conf = agg.stats.confidence * 100.0,
        samples = agg.stats.bootstrap_samples,
        seed = agg.stats.seed,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records of a file where each article's systems are far apart (system A for every article,
    /// then system B): the report must still show both systems of every article although it
    /// stops reading early, and equal the page built by reading the whole file.
    #[test]
    fn early_stop_keeps_every_record_of_shown_articles() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jsonl");
        let mut lines = String::new();
        let n_articles = MAX_ARTICLES + 20;
        for system in ["A", "B"] {
            for i in 0..n_articles {
                let rec = json!({
                    "id": format!("doc{i:04}"), "system": system,
                    "source": {"file": "in.jsonl", "line": i + 1},
                    "key_points": ["k"], "scores": {"rouge1": {"f1": (i % 10) as f64 / 10.0}},
                    "error": null, "signature": "sig",
                });
                lines.push_str(&rec.to_string());
                lines.push('\n');
            }
        }
        std::fs::write(&path, lines).unwrap();
        let mut acc = crate::accumulate::Accumulator::new(&crate::stats::StatsConfig {
            bootstrap_samples: 10,
            ..Default::default()
        });
        crate::report::accumulate_file(&path, &mut acc).unwrap();
        let agg = acc.aggregate("sig", &[]);
        let data = acc.report_data();
        assert_eq!(data.id_counts.len(), crate::accumulate::TRACKED_IDS.min(n_articles));
        let early = render_file(&path, &agg, "t", &data).unwrap();
        let whole = render_file(
            &path,
            &agg,
            "t",
            &ReportData { histograms: data.histograms.clone(), id_counts: Vec::new() },
        )
        .unwrap();
        // Distributions come from the rows, so compare the article data only.
        let data = |html: &str| {
            html.split(r#"<script id="data" type="application/json">"#)
                .nth(1)
                .map(|s| s.split("</script>").next().unwrap_or("").to_string())
        };
        let (e, w) = (data(&early), data(&whole));
        assert!(e.is_some(), "no data block found in the page");
        assert_eq!(e, w);
        let shown: Vec<Value> = serde_json::from_str(&e.unwrap().replace("<\\/", "</")).unwrap();
        assert_eq!(shown.len(), MAX_ARTICLES);
        assert!(
            shown.iter().all(|a| a["systems"].as_object().unwrap().len() == 2),
            "an article lost a system"
        );
    }
}
