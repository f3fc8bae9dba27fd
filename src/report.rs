//! Reports: the aggregate (means with bootstrap CIs per system, counts, signature) computed from
//! records alone — so shards merged later give the same aggregate — and its Markdown/CSV forms.
pub use crate::accumulate::aggregate;
pub use crate::aggregate::{
    flatten_scores, headline_metric, intern, visit_score_leaves, AggRow, Aggregate, CorpusStat,
    Name, SystemAggregate,
};
use crate::error::Result;
use crate::stats::Estimate;
use std::collections::BTreeMap;
use std::path::Path;

/// Feeds every record of a records file to an accumulator.
pub fn accumulate_file(path: &Path, acc: &mut crate::accumulate::Accumulator) -> Result<()> {
    for item in crate::records::RecordReader::open(path)? {
        acc.add_record(&item?.record);
    }
    Ok(())
}

/// Whether a metric leaf is on a 0–1 scale (shown ×100 in tables).
fn unit_scale(name: &str) -> bool {
    !(name.starts_with("bleu") || name.starts_with("chrf") || name.starts_with("corpus_"))
}

fn fmt_est(name: &str, e: &Estimate) -> String {
    let s = if unit_scale(name) { 100.0 } else { 1.0 };
    format!("{:.2} [{:.2}, {:.2}]", e.mean * s, e.ci_low * s, e.ci_high * s)
}

/// Whether a leaf is a column of the summary tables (every leaf stays in JSON and CSV):
/// ROUGE F1, corpus BLEU/chrF, token F1, key-point coverage/precision/F1, faithfulness, BERTScore F1.
pub fn table_metric(name: &str) -> bool {
    (name.starts_with("rouge") && name.ends_with(".f1"))
        || name.starts_with("corpus_")
        || name == "token_f1.f1"
        || (name.starts_with("kp")
            && (name.ends_with(".coverage")
                || name.ends_with(".precision")
                || name.ends_with(".f1")))
        || name.starts_with("faithfulness")
        || name == "bertscore.f1"
}

/// The table columns of an aggregate, in reading order.
pub fn table_columns(agg: &Aggregate) -> Vec<String> {
    let mut cols: Vec<String> = Vec::new();
    for s in agg.systems.values() {
        for k in s.metrics.keys().chain(s.corpus.keys()).filter(|k| table_metric(k)) {
            if !cols.contains(k) {
                cols.push(k.clone());
            }
        }
    }
    cols.sort_by_key(|c| (column_rank(c), c.clone()));
    cols
}

/// Table order: ROUGE, BLEU/chrF, token F1, key-point metrics, then corpus scores.
fn column_rank(name: &str) -> u8 {
    match name.split('.').next().unwrap_or("") {
        n if n.starts_with("rouge") => 0,
        "bleu" | "chrf" | "chrf++" => 1,
        "token_f1" => 2,
        "kp" => 3,
        "kp_rouge" => 4,
        n if n.starts_with("corpus_") => 9,
        _ => 5,
    }
}

/// A Markdown table: one row per system, headline metrics with 95% CIs (×100 for 0–1 metrics).
pub fn markdown(agg: &Aggregate) -> String {
    let cols = table_columns(agg);
    let mut out = String::new();
    out.push_str(&format!("| system | n | errors | {} |\n", cols.join(" | ")));
    out.push_str(&format!("|---|---:|---:|{}\n", cols.iter().map(|_| "---:|").collect::<String>()));
    for (name, s) in &agg.systems {
        let cells: Vec<String> = cols
            .iter()
            .map(|c| {
                s.metrics
                    .get(c)
                    .or_else(|| s.corpus.get(c))
                    .map(|e| fmt_est(c, e))
                    .unwrap_or_else(|| "–".into())
            })
            .collect();
        out.push_str(&format!(
            "| {name} | {} | {} | {} |\n",
            s.scored,
            s.errors,
            cells.join(" | ")
        ));
    }
    out.push_str(&format!(
        "\nMeans with {:.0}% bootstrap CIs ({} resamples, seed {}); ROUGE, token F1 and key-point scores ×100; BLEU/chrF corpus-level.\n",
        agg.stats.confidence * 100.0,
        agg.stats.bootstrap_samples,
        agg.stats.seed
    ));
    let mut nc: BTreeMap<&String, &String> = BTreeMap::new();
    for s in agg.systems.values() {
        for (k, v) in &s.not_computed {
            nc.insert(k, v);
        }
    }
    for (k, v) in nc {
        out.push_str(&format!("Not computed: {k} ({v}).\n"));
    }
    out.push_str(&format!("Signature: {}\n", agg.signature));
    out
}

/// CSV: one row per system and metric.
pub fn csv(agg: &Aggregate) -> String {
    let mut out = String::from("system,metric,kind,mean,ci_low,ci_high,n\n");
    for (name, s) in &agg.systems {
        for (kind, map) in [("mean", &s.metrics), ("corpus", &s.corpus)] {
            for (k, e) in map {
                out.push_str(&format!(
                    "{},{},{},{},{},{},{}\n",
                    csv_cell(name),
                    csv_cell(k),
                    kind,
                    e.mean,
                    e.ci_low,
                    e.ci_high,
                    e.n
                ));
            }
        }
    }
    out
}

fn csv_cell(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
