//! A readable text view of records for people (what `kpeval run` prints for a few articles):
//! for each Key Development, covered or not, its score and the summary sentences that cover it.
use crate::record::Record;

/// A readable view of one record: sections found, for each Key Development the verdict of the
/// best coverage metric computed (kp_cover_nli, else kp_cover, kp_nli, kp_tok, kp, kp_rouge): covered or not,
/// its score, and the summary sentence(s) that cover it; then the notes.
pub fn article_view(r: &Record) -> String {
    let mut out = String::new();
    'record: {
        out.push_str(&format!("\n## {} ({})\n", r.title.as_deref().unwrap_or(&r.id), r.source));
        if let Some(e) = &r.error {
            out.push_str(&format!("error [{}]: {}\n", e.kind, e.message));
            break 'record;
        }
        let names: Vec<&str> = r.sections.iter().map(|s| s.name()).collect();
        out.push_str(&format!("sections: {}\n", names.join(", ")));
        let (Some(sum), Some(scores)) = (&r.summary, &r.scores) else { break 'record };
        let field = crate::html::COVERAGE_FIELDS
            .into_iter()
            .find(|f| scores.get(*f).is_some_and(|v| v["key_points"].is_array()));
        let verdicts =
            field.and_then(|f| scores[f]["key_points"].as_array().cloned()).unwrap_or_default();
        let covered = verdicts.iter().filter(|v| v["covered"] == true).count();
        out.push_str(&format!(
            "Key Developments covered: {covered} of {} ({}):\n",
            r.key_points.len(),
            field.unwrap_or("no coverage metric")
        ));
        for (i, kd) in r.key_points.iter().enumerate() {
            let Some(v) = verdicts.get(i) else {
                out.push_str(&format!("  {}. {kd}\n", i + 1));
                continue;
            };
            let mark = if v["covered"] == true { "covered" } else { "not covered" };
            out.push_str(&format!(
                "  {}. [{mark} {:.3}] {kd}\n",
                i + 1,
                v["score"].as_f64().unwrap_or(0.0)
            ));
            let evidence: Vec<usize> = v["evidence"]
                .as_array()
                .map(|a| a.iter().filter_map(|x| x.as_u64()).map(|x| x as usize).collect())
                .unwrap_or_default();
            // covered: the sentences that cover it; not covered: the closest, which are not enough
            let lead = if v["covered"] == true { "\u{21b3}" } else { "\u{b7} closest:" };
            for g in evidence {
                out.push_str(&format!(
                    "     {lead} {}\n",
                    sum.key_points.get(g).map(String::as_str).unwrap_or("?")
                ));
            }
        }
        for n in &sum.notes {
            out.push_str(&format!("note: {n}\n"));
        }
    }
    out
}
