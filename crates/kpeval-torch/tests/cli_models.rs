//! The model commands end to end through the `kpeval-torch` binary (needs `make setup`):
//! default run with embedding key-point alignment, the MMR summarizer, `embed`.
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kpeval-torch"))
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn default_run_aligns_key_points_with_minilm() {
    let article = root().join("tests/fixtures/venezuela-drug-talks.txt");
    let o = bin().args(["run", article.to_str().unwrap(), "-q"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let r: Value =
        serde_json::from_str(String::from_utf8(o.stdout).unwrap().lines().next().unwrap()).unwrap();
    let kp = &r["scores"]["kp"];
    let align = kp["alignment"].as_array().unwrap();
    assert_eq!(
        align.len(),
        3,
        "3 generated points matched one-to-one to 3 of the 4 Key Developments"
    );
    // Key Development 0 (Maduro's readiness for talks) is the lead sentence's topic.
    let first = align.iter().find(|p| p["reference"] == 0).expect("KD 0 aligned");
    assert_eq!(first["generated"], 0);
    assert!(first["similarity"].as_f64().unwrap() > 0.7, "{first}");
    assert!(r["signature"].as_str().unwrap().contains("kp:sim=cosine(all-minilm-l6-v2"));
    assert!(r["not_computed"].as_object().is_none_or(|m| !m.contains_key("kp")));
    assert!(kp.get("truncated_points").is_none(), "short points are not cut");
}

/// Regression (review of session 8): a key point beyond the embedding model's maximum length
/// was cut silently by `kp` and `kp-tok`.
#[test]
fn kp_metrics_count_truncated_points() {
    let dir = tempfile::tempdir().unwrap();
    let inp = dir.path().join("a.jsonl");
    let long = "The ministers met again to discuss the budget and the schedule. ".repeat(40);
    let rec = serde_json::json!({"id": "long", "article": "The talks ended. Ministers will meet again.", "key_points": [long, "The talks ended."]});
    std::fs::write(&inp, format!("{rec}\n")).unwrap();
    let o = bin()
        .args(["run", inp.to_str().unwrap(), "--metrics", "kp,kp-tok,kp-cover", "-q"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let r: Value =
        serde_json::from_str(String::from_utf8(o.stdout).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(r["scores"]["kp"]["truncated_points"], 1, "{}", r["scores"]);
    assert_eq!(r["scores"]["kp_tok"]["truncated_points"], 1, "{}", r["scores"]);
    assert_eq!(r["scores"]["kp_cover"]["truncated_points"], 1, "{}", r["scores"]);
}

#[test]
fn model_threads_are_applied_and_recorded_with_the_model_revision() {
    // `--model-threads N` runs N packs of texts at once, each on one libtorch thread: the
    // signature names the embedding model's weights revision (first 12 hex digits of
    // model.safetensors' sha256) and that one-thread runtime, and the records do not change
    // with N.
    let article = root().join("tests/fixtures/venezuela-drug-talks.txt");
    let run = |extra: &[&str]| -> String {
        let o = bin().args(["run", article.to_str().unwrap(), "-q"]).args(extra).output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let one = run(&["--model-threads", "1"]);
    let r: Value = serde_json::from_str(one.lines().next().unwrap()).unwrap();
    let sig = r["signature"].as_str().unwrap();
    assert!(sig.contains("kp:sim=cosine(all-minilm-l6-v2@53aa51172d14(mean,normalize=true,max_len=256,torch-2.4.0/cpu/threads=1,pack="), "{sig}");
    assert_eq!(run(&["--model-threads", "2"]), one, "records changed with --model-threads");
    let o = bin()
        .args(["run", article.to_str().unwrap(), "-q", "--model-threads", "x"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "a bad count is a usage error");
}

#[test]
fn mmr_summarizer_picks_distinct_sentences() {
    let article = root().join("tests/fixtures/venezuela-drug-talks.txt");
    let o = bin()
        .args(["summarize", article.to_str().unwrap(), "--summarizer", "mmr-3", "-q"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let r: Value =
        serde_json::from_str(String::from_utf8(o.stdout).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(r["system"], "mmr-3");
    let kps: Vec<&str> = r["summary"]["key_points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(kps.len(), 3);
    assert!(kps.windows(2).all(|w| w[0] != w[1]));
    for kd in r["key_points"].as_array().unwrap() {
        assert!(!kps.contains(&kd.as_str().unwrap()), "a Key Development leaked into the summary");
    }
}

#[test]
fn embed_command_writes_unit_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let inp = dir.path().join("t.txt");
    std::fs::write(&inp, "The CIA conducted a drone strike.\nMaduro is open to talks.\n").unwrap();
    let out = dir.path().join("v.jsonl");
    let o =
        bin().args(["embed", inp.to_str().unwrap(), "-o", out.to_str().unwrap()]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let lines: Vec<Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    for l in &lines {
        let v: Vec<f64> =
            l["embedding"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
        assert_eq!(v.len(), 384);
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "normalized as the model's modules.json says: {norm}");
    }
    assert!(lines[0]["id"].as_str().unwrap().ends_with(":1"));
}

/// Regression (review of session 8): `embed` truncated long texts silently, embedded a
/// byte-order mark as text and could not read .jsonl.gz.
#[test]
fn embed_says_what_it_truncates_and_reads_gz() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let long = "word ".repeat(1000);
    let jsonl = format!("\u{feff}{{\"id\": \"bom\", \"text\": \"A short text.\"}}\n{{\"id\": \"long\", \"text\": \"{long}\"}}\n");
    let gz = dir.path().join("t.jsonl.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(jsonl.as_bytes()).unwrap();
    enc.finish().unwrap();
    let out = dir.path().join("v.jsonl");
    let o =
        bin().args(["embed", gz.to_str().unwrap(), "-o", out.to_str().unwrap()]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("1 text(s) longer than the model's maximum length were truncated"));
    let lines: Vec<Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["id"], "bom", "the BOM line is read as JSON");
    assert!(lines[0].get("truncated_tokens").is_none());
    assert_eq!(lines[1]["id"], "long");
    assert_eq!(lines[1]["max_tokens"], 256, "MiniLM's max_seq_length");
    // 1000 words + [CLS] + [SEP] into 256 tokens
    assert_eq!(lines[1]["truncated_tokens"], 1002 - 256);
}

/// `kpeval nli` on the fixture pairs gives transformers' probabilities, with the labels named
/// by the model's own (non-standard) id2label order.
#[test]
fn nli_command_matches_transformers() {
    let fx: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/nli_expected.json")).unwrap(),
    )
    .unwrap();
    let pairs = fx["pairs"].as_array().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let inp = dir.path().join("pairs.jsonl");
    let lines: Vec<String> = pairs
        .iter()
        .enumerate()
        .map(|(i, p)| serde_json::json!({"id": i, "premise": p[0], "hypothesis": p[1]}).to_string())
        .collect();
    std::fs::write(&inp, lines.join("\n") + "\n{broken\n").unwrap();
    let out = dir.path().join("nli.jsonl");
    let model = root().join("tests/fixtures/models/tiny-nli-bert");
    let o = bin()
        .args([
            "nli",
            inp.to_str().unwrap(),
            "--model",
            model.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "the broken line is reported: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("pairs.jsonl:")
            && String::from_utf8_lossy(&o.stderr).contains("broken JSON")
    );
    let recs: Vec<Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recs.len(), pairs.len());
    let expected = fx["models"]["tiny-nli-bert"]["results"].as_array().unwrap();
    let mut max = 0f64;
    for (r, e) in recs.iter().zip(expected) {
        for label in ["entailment", "neutral", "contradiction"] {
            max = max.max((r[label].as_f64().unwrap() - e["named"][label].as_f64().unwrap()).abs());
        }
        let sum: f64 = ["entailment", "neutral", "contradiction"]
            .iter()
            .map(|l| r[*l].as_f64().unwrap())
            .sum();
        assert!((sum - 1.0).abs() < 1e-5);
    }
    assert!(max < 1e-5, "max abs diff {max}");
}

/// Regressions (review of session 9): generation settings no summary can meet were accepted and
/// recorded; `--device cuda:N` without such a device panicked with a backtrace.
#[test]
fn impossible_generation_settings_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let inp = dir.path().join("a.jsonl");
    std::fs::write(
        &inp,
        "{\"id\": \"a\", \"article\": \"The talks ended. Ministers will meet again.\"}\n",
    )
    .unwrap();
    let model = root().join("tests/fixtures/models/tiny-t5");
    let n = if tch::Cuda::is_available() { tch::Cuda::device_count() } else { 0 };
    let cuda = format!("cuda:{n}");
    for (args, want) in [
        (
            vec!["--min-length", "30", "--max-length", "10"],
            "--min-length 30 exceeds --max-length 10",
        ),
        (vec!["--length-penalty", "inf"], "length_penalty inf is not a finite number"),
        (
            vec!["--device", cuda.as_str()],
            if n == 0 { "no CUDA device is available" } else { "CUDA device(s)" },
        ),
    ] {
        let o = bin()
            .args([
                "summarize",
                inp.to_str().unwrap(),
                "--model",
                model.to_str().unwrap(),
                "--no-cache",
                "-q",
            ])
            .args(&args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want) && !err.contains("panicked"), "{args:?}: {err}");
        assert!(o.stdout.is_empty());
    }
    // Regression (#19): --max-length beyond a BART decoder's positions panicked inside rust-bert
    // on every record; it is a start-up error.
    let bart = root().join("tests/fixtures/models/tiny-bart");
    let o = bin()
        .args([
            "summarize",
            inp.to_str().unwrap(),
            "--model",
            bart.to_str().unwrap(),
            "--no-cache",
            "-q",
            "--max-length",
            "100000",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--max-length 100000 exceeds the model's max_position_embeddings 128")
            && !err.contains("panicked"),
        "{err}"
    );
}
