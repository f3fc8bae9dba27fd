//! End-to-end tests of `kpeval meta-eval --unit-labels`: per-Key-Development verdicts against
//! human unit labels, on a records file written here by hand, checked against statistics
//! computed independently (brute-force pair counts).
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kpeval")).args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// One unit as written: (score, covered, label as written).
struct Unit {
    score: f64,
    covered: bool,
    label: Value,
}

/// The label as the evaluation reads it: true/1 and soft labels ≥ 0.5 are positive.
fn positive(label: &Value) -> bool {
    match label {
        Value::Bool(b) => *b,
        v => v.as_f64().unwrap() >= 0.5,
    }
}

fn record(doc: &str, system: &str, units: &[Unit], labels: Vec<Value>, pyramid: f64) -> Value {
    let verdicts: Vec<Value> = units.iter().map(|u| json!({"score": u.score, "covered": u.covered, "evidence": if u.score > 0.0 { vec![0] } else { vec![] }})).collect();
    // kp_tok: a second key-point metric with its own verdicts (constant, so AUC 0.5).
    let tok: Vec<Value> =
        units.iter().map(|_| json!({"score": 0.4, "covered": false, "evidence": []})).collect();
    let coverage = units.iter().map(|u| u.score).sum::<f64>() / units.len() as f64;
    json!({
        "id": doc,
        "system": system,
        "source": {"file": "hand.jsonl"},
        "key_points": (0..units.len()).map(|i| format!("key development {i}")).collect::<Vec<_>>(),
        "scores": {
            "rouge1": {"recall": coverage / 2.0 + 0.1},
            "kp_cover": {"coverage": coverage, "key_points": verdicts},
            "kp_tok": {"coverage": 0.4, "key_points": tok},
        },
        "meta": {"scu_labels": labels, "human_pyramid": pyramid},
        "error": null,
        "signature": "kpeval:test|kp_cover:t=0.5",
    })
}

/// 6 documents × 3 systems, 3 to 5 Key Developments each, scores on a 0.1 grid (many ties
/// across labels), labels 1/0, true/false and soft; plus one failed record and one record
/// whose label list is one short. Returns the path and the units that count.
fn write_records(dir: &Path) -> (std::path::PathBuf, Vec<Unit>) {
    let mut s = 99u64;
    let mut r = move || {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (s >> 33) % 1000
    };
    let mut lines = Vec::new();
    let mut counted = Vec::new();
    for d in 0..6 {
        let n = 3 + d % 3;
        for sys in ["lead-3", "textrank-3", "oracle"] {
            let units: Vec<Unit> = (0..n)
                .map(|k| {
                    let score = (r() % 11) as f64 / 10.0;
                    // Labels agree with the score more often than not.
                    let p = (r() % 100) as f64 / 100.0;
                    let yes = p < 0.2 + 0.6 * score;
                    let label = match (d + k) % 4 {
                        0 => json!(yes),
                        1 => json!(if yes { 0.7 } else { 0.3 }),
                        _ => json!(if yes { 1 } else { 0 }),
                    };
                    Unit { score, covered: score >= 0.5, label }
                })
                .collect();
            let labels: Vec<Value> = units.iter().map(|u| u.label.clone()).collect();
            let pyramid = units.iter().filter(|u| positive(&u.label)).count() as f64 / n as f64;
            if d == 2 && sys == "oracle" {
                // One label missing: skipped and counted, never truncated.
                lines.push(record(
                    &format!("doc-{d}"),
                    sys,
                    &units,
                    labels[..n - 1].to_vec(),
                    pyramid,
                ));
                continue;
            }
            lines.push(record(&format!("doc-{d}"), sys, &units, labels, pyramid));
            counted.extend(units);
        }
    }
    lines.push(json!({
        "id": "doc-9", "system": "lead-3", "source": {"file": "hand.jsonl"}, "key_points": ["a"],
        "meta": {"scu_labels": [1], "human_pyramid": 1.0},
        "error": {"kind": "empty_article", "message": "doc-9: no text"}, "signature": "kpeval:test|kp_cover:t=0.5",
    }));
    let path = dir.join("records.jsonl");
    std::fs::write(&path, lines.iter().map(|l| l.to_string() + "\n").collect::<String>()).unwrap();
    (path, counted)
}

fn brute_auc(units: &[Unit]) -> f64 {
    let (mut num, mut pairs) = (0.0, 0.0);
    for a in units.iter().filter(|u| positive(&u.label)) {
        for b in units.iter().filter(|u| !positive(&u.label)) {
            pairs += 1.0;
            num += if a.score > b.score {
                1.0
            } else if a.score == b.score {
                0.5
            } else {
                0.0
            };
        }
    }
    num / pairs
}

#[test]
fn unit_auc_accuracy_f1_match_brute_force_and_mismatches_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let (records, units) = write_records(dir.path());
    let out = dir.path().join("units.json");
    let o = run(&[
        "meta-eval",
        records.to_str().unwrap(),
        "--unit-labels",
        "scu_labels",
        "--metrics",
        "kp_cover",
        "--bootstrap",
        "300",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = read_json(&out);
    assert_eq!(v["results"], json!([]), "no --human: no correlations");
    let u = v["units"].as_array().unwrap();
    assert_eq!(u.len(), 1, "--metrics kp_cover selects one metric: {u:?}");
    let u = &u[0];
    assert_eq!(u["metric"], "kp_cover");
    assert_eq!(u["labels"], "scu_labels");
    assert_eq!(u["units"].as_u64().unwrap() as usize, units.len());
    assert_eq!(u["documents"], 6);
    assert_eq!(u["summaries"], 17);
    assert_eq!(u["skipped_records"], 2);
    assert_eq!(u["skipped"]["length_mismatch"], 1);
    assert_eq!(u["skipped"]["error"], 1);
    let err = stderr(&o);
    assert!(
        err.contains("doc-2") && err.contains("oracle") && err.contains("differ in length"),
        "{err}"
    );

    let auc = brute_auc(&units);
    assert!((0.55..1.0).contains(&auc), "the fixture should be informative but imperfect: {auc}");
    assert!((u["auc"]["mean"].as_f64().unwrap() - auc).abs() < 1e-12, "{} vs {auc}", u["auc"]);
    let correct = units.iter().filter(|x| x.covered == positive(&x.label)).count() as f64;
    assert!(
        (u["accuracy"]["mean"].as_f64().unwrap() - correct / units.len() as f64).abs() < 1e-12,
        "{}",
        u["accuracy"]
    );
    let tp = units.iter().filter(|x| x.covered && positive(&x.label)).count() as f64;
    let predicted = units.iter().filter(|x| x.covered).count() as f64;
    let actual = units.iter().filter(|x| positive(&x.label)).count() as f64;
    let f1 = 2.0 * (tp / predicted) * (tp / actual) / (tp / predicted + tp / actual);
    assert!((u["f1"]["mean"].as_f64().unwrap() - f1).abs() < 1e-12, "{} vs {f1}", u["f1"]);
    assert!((u["positive_rate"].as_f64().unwrap() - actual / units.len() as f64).abs() < 1e-12);
    for k in ["auc", "accuracy", "f1"] {
        let (lo, m, hi) = (
            u[k]["ci_low"].as_f64().unwrap(),
            u[k]["mean"].as_f64().unwrap(),
            u[k]["ci_high"].as_f64().unwrap(),
        );
        assert!(lo <= m && m <= hi && lo < hi, "{k}: {}", u[k]);
    }

    // Calibration: ten bins, counts add up, the 0.1-grid scores land in their bins (1.0 in the last).
    let bins = u["calibration"].as_array().unwrap();
    assert_eq!(bins.len(), 10);
    for (b, bin) in bins.iter().enumerate() {
        let inside: Vec<&Unit> =
            units.iter().filter(|x| ((x.score * 10.0).round() as usize).min(9) == b).collect();
        assert_eq!(bin["count"].as_u64().unwrap() as usize, inside.len(), "bin {b}");
        if inside.is_empty() {
            assert!(bin["mean_score"].is_null() && bin["observed"].is_null(), "{bin}");
        } else {
            let observed = inside
                .iter()
                .map(|x| {
                    if let Value::Bool(y) = x.label {
                        y as u8 as f64
                    } else {
                        x.label.as_f64().unwrap()
                    }
                })
                .sum::<f64>()
                / inside.len() as f64;
            assert!(
                (bin["observed"].as_f64().unwrap() - observed).abs() < 1e-12,
                "bin {b}: {bin} vs {observed}"
            );
        }
    }
    let ece = bins
        .iter()
        .filter(|b| b["count"].as_u64().unwrap() > 0)
        .map(|b| {
            b["count"].as_f64().unwrap()
                * (b["mean_score"].as_f64().unwrap() - b["observed"].as_f64().unwrap()).abs()
        })
        .sum::<f64>()
        / units.len() as f64;
    assert!((u["ece"].as_f64().unwrap() - ece).abs() < 1e-12);

    // The markdown table on stdout.
    let md = stdout(&o);
    assert!(md.contains("| metric | units | AUC [CI] | accuracy [CI] | F1 [CI] | ECE |"), "{md}");
    assert!(md.contains(&format!("| kp_cover | {} | {auc:.3} [", units.len())), "{md}");
    assert!(md.contains("| [0.9, 1.0] |"), "{md}");
}

#[test]
fn unit_metrics_are_selected_by_either_name_and_all_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let (records, _) = write_records(dir.path());
    let rec = records.to_str().unwrap();
    let metrics_of = |extra: &[&str]| {
        let out = dir.path().join("m.json");
        let mut args = vec![
            "meta-eval",
            rec,
            "--unit-labels",
            "scu_labels",
            "--bootstrap",
            "50",
            "-q",
            "-o",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let o = run(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let v = read_json(&out);
        v["units"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["metric"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(metrics_of(&[]), vec!["kp_cover", "kp_tok"]);
    assert_eq!(metrics_of(&["--metrics", "kp_tok.key_points"]), vec!["kp_tok"]);
    assert_eq!(metrics_of(&["--metrics", "kp_cover"]), vec!["kp_cover"]);
}

#[test]
fn human_correlations_run_as_before_next_to_the_unit_level() {
    let dir = tempfile::tempdir().unwrap();
    let (records, _) = write_records(dir.path());
    let rec = records.to_str().unwrap();
    let plain = dir.path().join("plain.json");
    let both = dir.path().join("both.json");
    let common = [
        "--human",
        "human_pyramid",
        "--metrics",
        "kp_cover.coverage,rouge1.recall",
        "--bootstrap",
        "200",
    ];
    let o1 = run(&[&["meta-eval", rec, "-o", plain.to_str().unwrap()][..], &common[..]].concat());
    assert_eq!(o1.status.code(), Some(0), "{}", stderr(&o1));
    let o2 = run(&[
        &["meta-eval", rec, "-o", both.to_str().unwrap(), "--unit-labels", "scu_labels"][..],
        &common[..],
    ]
    .concat());
    assert_eq!(o2.status.code(), Some(0), "{}", stderr(&o2));
    let (p, b) = (read_json(&plain), read_json(&both));
    // Without --unit-labels: the existing shape, no `units` key.
    assert_eq!(
        p.as_object().unwrap().keys().collect::<Vec<_>>(),
        vec!["results", "stats", "kpeval", "signature"]
    );
    assert_eq!(
        b.as_object().unwrap().keys().collect::<Vec<_>>(),
        vec!["results", "units", "stats", "kpeval", "signature"]
    );
    assert_eq!(p["results"], b["results"], "the correlations do not change");
    assert_eq!(p["results"].as_array().unwrap().len(), 2 * 3 * 3);
    // kp_cover.coverage names a leaf, not a verdict list: the unit level evaluates every metric.
    assert_eq!(b["units"].as_array().unwrap().len(), 2);
    let (s1, s2) = (stdout(&o1), stdout(&o2));
    let table = s1.split("\n\n").next().unwrap();
    assert!(s2.starts_with(table) && s2.contains("| kp_tok |"), "{s1}\n---\n{s2}");
}

#[test]
fn unit_labels_that_no_record_has_are_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (records, _) = write_records(dir.path());
    let o = run(&["meta-eval", records.to_str().unwrap(), "--unit-labels", "scu_lables"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("--unit-labels") && err.contains("'scu_lables'") && err.contains("scu_labels"),
        "{err}"
    );
    assert!(stdout(&o).is_empty());
    // A field that exists but holds no label lists: nothing to evaluate, also exit 2.
    let o = run(&["meta-eval", records.to_str().unwrap(), "--unit-labels", "human_pyramid"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("human_pyramid"), "{}", stderr(&o));
}
