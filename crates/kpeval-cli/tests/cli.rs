//! End-to-end tests of the `kpeval` binary: the main job, batches with bad records, stdin,
//! resume, shards + merge, determinism. No model needed (lead-k / TextRank + overlap metrics).
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn kpeval() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kpeval"))
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures").join(name)
}

fn records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn run(args: &[&str]) -> Output {
    kpeval().args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// 3,200 records: the FRANK sample 400 times with distinct ids (long enough runs to kill or
/// race).
fn many_records(dir: &Path) -> PathBuf {
    let input = dir.join("many.jsonl");
    let sample = std::fs::read_to_string(fixture("frank-sample.jsonl")).unwrap();
    let mut big = String::new();
    for rep in 0..400 {
        for line in sample.lines() {
            let mut v: Value = serde_json::from_str(line).unwrap();
            v["id"] = Value::String(format!("{}-{rep}", v["id"].as_str().unwrap()));
            big.push_str(&serde_json::to_string(&v).unwrap());
            big.push('\n');
        }
    }
    std::fs::write(&input, big).unwrap();
    input
}

#[test]
fn run_on_example_article() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.jsonl");
    let o = run(&[
        "run",
        fixture("venezuela-drug-talks.txt").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let recs = records(&out);
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert_eq!(r["id"], "venezuela-drug-talks");
    assert_eq!(r["key_points"].as_array().unwrap().len(), 4);
    assert_eq!(r["summary"]["key_points"].as_array().unwrap().len(), 3);
    let r1 = r["scores"]["rouge1"]["f1"].as_f64().unwrap();
    assert!(r1 > 0.1 && r1 < 1.0, "{r1}");
    assert!(r["signature"].as_str().unwrap().starts_with("kpeval:"));
    // The readable report goes to stdout when records go to a file.
    let report = String::from_utf8_lossy(&o.stdout);
    assert!(report.contains("| lead-3 | 1 | 0 |"), "{report}");
    let agg: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("r.aggregate.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(agg["records"], 1);
    assert!(
        (agg["systems"]["lead-3"]["metrics"]["rouge1.f1"]["mean"].as_f64().unwrap() - r1).abs()
            < 1e-12
    );
    // The article view: each Key Development's verdict from the best coverage metric computed
    // (kp_cover when the model runtime is installed next to kpeval, else kp_rouge), with the
    // summary sentences that cover it.
    let field = kpeval::html::COVERAGE_FIELDS
        .into_iter()
        .find(|f| r["scores"][*f]["key_points"].is_array())
        .unwrap();
    assert!(field == "kp_cover" || field == "kp_rouge", "{field}");
    let verdicts = r["scores"][field]["key_points"].as_array().unwrap();
    assert_eq!(verdicts.len(), 4);
    let covered = verdicts.iter().filter(|v| v["covered"] == true).count();
    assert!(
        report.contains(&format!("Key Developments covered: {covered} of 4 ({field}):")),
        "{report}"
    );
    for (i, (v, kd)) in verdicts.iter().zip(r["key_points"].as_array().unwrap()).enumerate() {
        let mark = if v["covered"] == true { "covered" } else { "not covered" };
        let line = format!(
            "  {}. [{mark} {:.3}] {}",
            i + 1,
            v["score"].as_f64().unwrap(),
            kd.as_str().unwrap()
        );
        assert!(report.contains(&line), "missing {line:?} in\n{report}");
        let lead = if v["covered"] == true { "\u{21b3}" } else { "\u{b7} closest:" };
        for g in v["evidence"].as_array().unwrap() {
            let sentence =
                r["summary"]["key_points"][g.as_u64().unwrap() as usize].as_str().unwrap();
            assert!(
                report.contains(&format!("{lead} {sentence}")),
                "evidence {sentence:?} not shown"
            );
        }
    }
}

#[test]
fn records_to_stdout_and_progress_never_in_records() {
    let o = run(&["run", fixture("frank-sample.jsonl").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 8);
    for l in lines {
        let v: Value = serde_json::from_str(l).expect("every stdout line is a JSON record");
        assert!(
            v["id"].as_str().unwrap().starts_with("dm-test-")
                || v["id"].as_str().unwrap().starts_with("cnn-test-")
        );
    }
}

#[test]
fn stdin_text_and_jsonl() {
    let text = std::fs::read_to_string(fixture("venezuela-drug-talks.txt")).unwrap();
    for input in [text.clone(), std::fs::read_to_string(fixture("frank-sample.jsonl")).unwrap()] {
        let mut child = kpeval()
            .args(["run", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(String::from_utf8(o.stdout).unwrap().lines().count() >= 1);
    }
    // Regression (review of session 8): JSONL on stdin whose first line is broken was read as
    // one text article, and every record was lost.
    let jsonl = std::fs::read_to_string(fixture("frank-sample.jsonl")).unwrap();
    let mut child = kpeval()
        .args(["run", "-", "--metrics", "rouge"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(format!("oops\n{jsonl}").as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let recs: Vec<Value> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recs.len(), 1 + 8, "an error record for line 1, then the 8 articles");
    assert!(recs[0]["error"]["message"].as_str().unwrap().contains("-:1"), "{}", recs[0]);
    assert!(recs[1..].iter().all(|r| r["error"].is_null()));
}

/// Every malformed case becomes an error record naming the file/line and reason; the batch goes on.
#[test]
fn bad_inputs_become_error_records_and_the_batch_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = fixture("venezuela-drug-talks.txt");
    std::fs::write(
        d.join("no-kd.txt"),
        "Headline\nBody text. More text.\nFull Report\nReport text.\n",
    )
    .unwrap();
    std::fs::write(d.join("empty.txt"), "").unwrap();
    std::fs::write(
        d.join("bad-utf8.txt"),
        b"Headline\nBody \xff\xfe text.\nKey Developments\n- x\n",
    )
    .unwrap();
    let sample = std::fs::read_to_string(fixture("frank-sample.jsonl")).unwrap();
    let mut lines: Vec<String> = sample.lines().take(3).map(String::from).collect();
    lines.insert(1, "{\"id\": \"broken\", \"article\": \"unterminated".into());
    lines.push("[1, 2]".into());
    lines.push("{\"id\": \"no-kp\", \"article\": \"Some text. More.\"}".into());
    lines.push("{\"id\": \"empty-article\", \"article\": \"   \", \"key_points\": [\"a\"]}".into());
    lines.push("{\"id\": \"bad-kp\", \"article\": \"Text.\", \"key_points\": 5}".into());
    let mut jsonl = lines.join("\n").into_bytes();
    jsonl.extend_from_slice(b"\n{\"id\": \"bad-utf8\", \"article\": \"x\xff\"}\n");
    std::fs::write(d.join("batch.jsonl"), jsonl).unwrap();
    // A 50 MB article.
    let big = format!("Headline\n{}\nKey Developments\n- a\n", "word ".repeat(10 * 1024 * 1024));
    std::fs::write(d.join("big.txt"), big).unwrap();
    std::os::unix::fs::symlink(d.join("missing-target.txt"), d.join("dangling.txt")).unwrap();

    let out = d.join("out.jsonl");
    let o = run(&[
        "run",
        good.to_str().unwrap(),
        d.join("no-kd.txt").to_str().unwrap(),
        d.join("empty.txt").to_str().unwrap(),
        d.join("bad-utf8.txt").to_str().unwrap(),
        d.join("batch.jsonl").to_str().unwrap(),
        d.join("big.txt").to_str().unwrap(),
        d.join("dangling.txt").to_str().unwrap(),
        d.join("does-not-exist.jsonl").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "some records failed, so exit 1: {}", stderr(&o));
    let recs = records(&out);
    let by_id = |id: &str| {
        recs.iter().find(|r| r["id"] == id).unwrap_or_else(|| panic!("no record {id}: {recs:#?}"))
    };
    let err = |id: &str| -> (String, String) {
        let r = by_id(id);
        (
            r["error"]["kind"].as_str().unwrap().to_string(),
            r["error"]["message"].as_str().unwrap().to_string(),
        )
    };
    // Good records are all there and scored.
    assert!(by_id("venezuela-drug-talks")["scores"].is_object());
    let scored = recs.iter().filter(|r| r["scores"].is_object()).count();
    assert_eq!(scored, 4, "the good article and the 3 good JSONL lines");

    let (k, m) = err("no-kd");
    assert_eq!(k, "no_key_points");
    assert!(m.contains("no-kd.txt") && m.contains("Key Developments"), "{m}");
    let (k, m) = err("empty");
    assert_eq!(k, "empty_article");
    assert!(m.contains("empty.txt"), "{m}");
    let (k, m) = err("bad-utf8");
    assert_eq!(k, "utf8");
    assert!(m.contains("bad-utf8.txt") && m.contains("line 2"), "{m}");
    let (k, m) = err("broken");
    assert_eq!(k, "json");
    assert!(m.contains("batch.jsonl:2"), "{m}");
    let arr = recs
        .iter()
        .find(|r| {
            r["error"]["message"].as_str().is_some_and(|m| m.contains("expected a JSON object"))
        })
        .unwrap();
    assert_eq!(arr["source"]["line"], 5);
    let (k, m) = err("no-kp");
    assert_eq!(k, "no_key_points");
    assert!(m.contains("batch.jsonl:6"), "{m}");
    assert_eq!(err("empty-article").0, "empty_article");
    let (k, m) = err("bad-kp");
    assert_eq!(k, "field");
    assert!(m.contains("key_points"), "{m}");
    let (k, m) = err("bad-utf8");
    assert_eq!(k, "utf8");
    let _ = m;
    let bad_utf8_line = recs.iter().filter(|r| r["error"]["kind"] == "utf8").count();
    assert_eq!(bad_utf8_line, 2, "the text file and the JSONL line");
    let (k, m) = err("big");
    assert_eq!(k, "too_large");
    assert!(m.contains("big.txt") && m.contains("--max-article-bytes"), "{m}");
    let reads: Vec<&Value> = recs.iter().filter(|r| r["error"]["kind"] == "read").collect();
    assert_eq!(reads.len(), 2, "dangling link and missing file");
    assert!(reads
        .iter()
        .any(|r| r["error"]["message"].as_str().unwrap().contains("does-not-exist.jsonl")));
    // The aggregate counts the errors by kind.
    let agg: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("out.aggregate.json")).unwrap())
            .unwrap();
    assert_eq!(agg["records"].as_u64().unwrap() as usize, recs.len());
    assert_eq!(agg["error_kinds"]["utf8"], 2);
}

#[test]
fn large_jsonl_line_is_rejected_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.jsonl");
    let big = format!("{{\"id\": \"huge\", \"article\": \"{}\", \"key_points\": [\"a\"]}}\n{{\"id\": \"ok\", \"article\": \"Fine text here.\", \"key_points\": [\"fine\"]}}\n", "x".repeat(2_000_000));
    std::fs::write(&p, big).unwrap();
    let o = run(&["run", p.to_str().unwrap(), "--max-article-bytes", "1000000"]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8(o.stdout).unwrap();
    let recs: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0]["id"], "huge");
    assert_eq!(recs[0]["error"]["kind"], "too_large");
    assert!(recs[0]["error"]["message"].as_str().unwrap().contains("big.jsonl:1"));
    assert!(recs[1]["scores"].is_object());
}

#[test]
fn usage_errors_exit_2_with_a_message() {
    let o = run(&["run", "x.txt", "--shard", "4/4"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--shard"), "{}", stderr(&o));
    let o = run(&["run", "x.txt", "--sections", "key-developments"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("references"), "{}", stderr(&o));
    let o = run(&["score", "x.jsonl", "--metrics", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown metric"), "{}", stderr(&o));
    // Regressions (review of session 9): a model and a baseline named together, summarize asked
    // for files it never wrote, generation flags silently ignored by a baseline.
    let article = fixture("venezuela-drug-talks.txt");
    let a = article.to_str().unwrap();
    let o = run(&["summarize", a, "--model", "some/model", "--summarizer", "lead-3"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot be used with"), "{}", stderr(&o));
    let dir = tempfile::tempdir().unwrap();
    let agg = dir.path().join("a.json");
    let o = run(&[
        "summarize",
        a,
        "--aggregate",
        agg.to_str().unwrap(),
        "-o",
        dir.path().join("s.jsonl").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--aggregate and --report need scores"), "{}", stderr(&o));
    assert!(!agg.exists() && !dir.path().join("s.jsonl").exists());
    let o = run(&["summarize", a, "--summarizer", "lead-2", "--num-beams", "4", "--do-sample"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "--num-beams, --do-sample apply to model summarizers only; lead-2 ignores them"
        ),
        "{}",
        stderr(&o)
    );
    // Regressions (#19): resources a flag can blow up are bounded before any work, and
    // thresholds outside [0, 1] (NaN included) are refused; nothing is written.
    let out = dir.path().join("bounded.jsonl");
    for (args, needle) in [
        (
            vec!["summarize", a, "--model", "some/model", "--num-beams", "100000"],
            "--num-beams 100000: between 1 and 64",
        ),
        (
            vec!["run", a, "--metrics", "overlap", "--bootstrap", "100000000"],
            "--bootstrap 100000000: at most 100000",
        ),
        (
            vec!["run", a, "--metrics", "overlap", "--kp-rouge-threshold", "NaN"],
            "--kp-rouge-threshold NaN: a threshold must be a number within [0, 1]",
        ),
        (vec!["run", a, "--metrics", "overlap", "--kp-threshold", "1.5"], "--kp-threshold 1.5"),
    ] {
        let mut args = args.clone();
        args.extend(["-o", out.to_str().unwrap()]);
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
        assert!(!out.exists(), "{args:?} wrote its output");
    }
}

#[test]
fn every_help_ends_with_an_example() {
    let o = run(&["--help"]);
    assert!(String::from_utf8_lossy(&o.stdout)
        .trim_end()
        .lines()
        .rev()
        .take(4)
        .any(|l| l.contains("kpeval ")));
    for cmd in
        ["run", "summarize", "score", "embed", "nli", "compare", "meta-eval", "experiment", "merge"]
    {
        let o = run(&[cmd, "--help"]);
        let text = String::from_utf8_lossy(&o.stdout).to_string();
        let tail = &text[text.rfind("Example").unwrap_or_else(|| panic!("{cmd}: no example"))..];
        assert!(tail.contains(&format!("kpeval {cmd}")), "{cmd}: {tail}");
    }
}

#[test]
fn score_given_systems() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.jsonl");
    let o = run(&[
        "score",
        fixture("frank-sample.jsonl").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let recs = records(&out);
    assert_eq!(recs.len(), 8 * 5);
    let systems: std::collections::BTreeSet<&str> =
        recs.iter().map(|r| r["system"].as_str().unwrap()).collect();
    assert_eq!(
        systems.into_iter().collect::<Vec<_>>(),
        vec!["bart", "bert_sum", "bus", "pgn", "s2s"]
    );
    // Human judgments travel with the record for meta-evaluation.
    assert!(recs.iter().all(|r| r["meta"]["human_factuality"].is_number()));
}

#[test]
fn resume_completes_a_torn_file_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.jsonl");
    let full = dir.path().join("full.jsonl");
    let input = fixture("frank-sample.jsonl");
    let o = run(&["score", input.to_str().unwrap(), "-o", full.to_str().unwrap(), "--quiet"]);
    assert_eq!(o.status.code(), Some(0));
    // Simulate a kill: keep 13 whole lines and half of the 14th.
    let text = std::fs::read_to_string(&full).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut torn = lines[..13].join("\n");
    torn.push('\n');
    torn.push_str(&lines[13][..lines[13].len() / 2]);
    std::fs::write(&out, torn).unwrap();
    let o = run(&[
        "score",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--resume",
        "--quiet",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        text,
        "resumed file equals an uninterrupted run"
    );
    // A different configuration refuses to resume into the same file.
    let o = run(&[
        "score",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--resume",
        "--no-stemmer",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("another configuration"), "{}", stderr(&o));
}

#[test]
fn shards_and_merge_equal_one_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = fixture("frank-sample.jsonl");
    let one = d.join("one.jsonl");
    assert_eq!(
        run(&["score", input.to_str().unwrap(), "-o", one.to_str().unwrap(), "-q"]).status.code(),
        Some(0)
    );
    let mut total = 0;
    for i in 0..4 {
        let p = d.join(format!("shard-{i}.jsonl"));
        assert_eq!(
            run(&[
                "score",
                input.to_str().unwrap(),
                "-o",
                p.to_str().unwrap(),
                "--shard",
                &format!("{i}/4"),
                "-q"
            ])
            .status
            .code(),
            Some(0)
        );
        total += records(&p).len();
    }
    assert_eq!(total, 40);
    let merged = d.join("merged.jsonl");
    // `shard-*` also matches each shard's aggregate and report sidecars: skipped
    let o =
        run(&["merge", d.join("shard-*").to_str().unwrap(), "-o", merged.to_str().unwrap(), "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(records(&merged).len(), 40);
    let a = std::fs::read_to_string(d.join("one.aggregate.json")).unwrap();
    let b = std::fs::read_to_string(d.join("merged.aggregate.json")).unwrap();
    assert_eq!(a, b, "aggregates of 4 shards + merge are byte-identical to one run");
    // Regression (#19): `merge -o X` with X among the inputs truncated X before reading it.
    let shard0 = d.join("shard-0.jsonl");
    let before = std::fs::read(&shard0).unwrap();
    let o =
        run(&["merge", d.join("shard-*").to_str().unwrap(), "-o", shard0.to_str().unwrap(), "-q"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("also merge's output"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&shard0).unwrap(), before);
}

#[test]
fn deterministic_across_thread_counts() {
    let dir = tempfile::tempdir().unwrap();
    let input = fixture("frank-sample.jsonl");
    let mut outs = Vec::new();
    for t in ["1", "2", "4"] {
        let p = dir.path().join(format!("t{t}.jsonl"));
        assert_eq!(
            run(&[
                "score",
                input.to_str().unwrap(),
                "-o",
                p.to_str().unwrap(),
                "--threads",
                t,
                "-q",
                "--batch-size",
                "3"
            ])
            .status
            .code(),
            Some(0)
        );
        outs.push((
            std::fs::read(&p).unwrap(),
            std::fs::read(dir.path().join(format!("t{t}.aggregate.json"))).unwrap(),
        ));
    }
    assert!(outs.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn textrank_run() {
    let o = run(&[
        "run",
        fixture("venezuela-drug-talks.txt").to_str().unwrap(),
        "--summarizer",
        "textrank-3",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r: Value =
        serde_json::from_str(String::from_utf8(o.stdout).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(r["system"], "textrank-3");
    assert_eq!(r["summary"]["key_points"].as_array().unwrap().len(), 3);
}

#[test]
fn meta_eval_and_compare_on_human_judgments() {
    let dir = tempfile::tempdir().unwrap();
    let scored = dir.path().join("se.jsonl");
    let o = run(&[
        "score",
        fixture("summeval-sample.jsonl").to_str().unwrap(),
        "--id-field",
        "article_id",
        "--system-field",
        "summary_id",
        "--metrics",
        "rouge,bleu",
        "-o",
        scored.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let recs = records(&scored);
    assert_eq!(recs.len(), 48);
    assert!(recs
        .iter()
        .all(|r| r["meta"]["relevance"].is_string() || r["meta"]["relevance"].is_number()));
    let json = dir.path().join("meta.json");
    let o = run(&[
        "meta-eval",
        scored.to_str().unwrap(),
        "--human",
        "relevance",
        "--metrics",
        "rouge1.f1,rouge2.f1",
        "-o",
        json.to_str().unwrap(),
        "--bootstrap",
        "200",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("| relevance | rouge1.f1 |"), "{table}");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 2 * 3 * 3, "2 metrics x 3 levels x 3 correlations");
    for r in results {
        let x = r["value"]["mean"].as_f64().unwrap();
        assert!((-1.0..=1.0).contains(&x), "{r}");
        assert_eq!(r["documents"], 3);
    }
    // compare: 16 systems on 3 documents, corpus BLEU included.
    let cmp = dir.path().join("cmp.json");
    let o = run(&[
        "compare",
        scored.to_str().unwrap(),
        "--baseline",
        "S0",
        "--metrics",
        "rouge1.f1",
        "--ar-trials",
        "500",
        "-o",
        cmp.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let c: Value = serde_json::from_str(&std::fs::read_to_string(&cmp).unwrap()).unwrap();
    assert_eq!(c["baseline"], "S0");
    assert_eq!(c["paired_records"], 3);
    let t = &c["tests"]["rouge1.f1"]["S1"];
    assert!(t["p_ar"].as_f64().unwrap() > 0.0 && t["p_ar"].as_f64().unwrap() <= 1.0);
    assert!(c["scores"]["corpus_bleu"]["S0"]["mean"].as_f64().unwrap() >= 0.0);
}

/// A run killed with SIGKILL mid-way, then rerun with --resume, ends with every record exactly
/// once, no corrupt line, and the same file as an uninterrupted run.
#[test]
fn resume_after_kill_9() {
    use std::collections::HashSet;
    let dir = tempfile::tempdir().unwrap();
    let input = many_records(dir.path());
    let n_inputs = 400 * 8;
    let args = |out: &Path| -> Vec<String> {
        [
            "run",
            input.to_str().unwrap(),
            "--summarizer",
            "textrank-3",
            "--metrics",
            "rouge,bleu",
            "--batch-size",
            "2",
            "-q",
            "--resume",
            "-o",
            out.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let full = dir.path().join("full.jsonl");
    assert_eq!(kpeval().args(args(&full)).status().unwrap().code(), Some(0));
    let expected = std::fs::read_to_string(&full).unwrap();
    assert_eq!(expected.lines().count(), n_inputs);

    let out = dir.path().join("killed.jsonl");
    let mut child =
        kpeval().args(args(&out)).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    // Wait until part of the output is there, then SIGKILL.
    let t0 = std::time::Instant::now();
    loop {
        let len = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
        if len > (expected.len() / 10) as u64 || t0.elapsed().as_secs() > 60 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let partial = std::fs::read_to_string(&out).unwrap();
    let done = partial.lines().count();
    assert!(done > 0 && done < n_inputs, "the kill landed mid-run ({done} of {n_inputs} lines)");
    // Simulate the worst case too: a torn last line.
    let mut torn = partial.clone();
    if torn.ends_with('\n') {
        let last = expected.lines().nth(done).unwrap();
        torn.push_str(&last[..last.len() / 3]);
    }
    std::fs::write(&out, torn).unwrap();
    let o = kpeval().args(args(&out)).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let resumed = std::fs::read_to_string(&out).unwrap();
    let mut ids = HashSet::new();
    for line in resumed.lines() {
        let v: Value = serde_json::from_str(line).expect("no corrupt line");
        assert!(ids.insert(v["id"].as_str().unwrap().to_string()), "duplicate record {}", v["id"]);
    }
    assert_eq!(ids.len(), n_inputs, "every record exactly once");
    assert_eq!(resumed, expected, "resumed output equals an uninterrupted run");
}

/// Regression: per-summary judgments on a SummEval-style line belong to that line's summary,
/// never to a summary kpeval generates from the same article.
#[test]
fn generated_summaries_do_not_inherit_human_judgments() {
    let o = run(&[
        "run",
        fixture("summeval-sample.jsonl").to_str().unwrap(),
        "--id-field",
        "article_id",
        "--system-field",
        "summary_id",
        "--metrics",
        "rouge",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let recs: Vec<Value> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recs.len(), 3, "one lead-3 record per article (repeated lines summarized once)");
    for r in &recs {
        assert_eq!(r["system"], "lead-3");
        assert!(r["meta"].get("relevance").is_none(), "{}", r["meta"]);
    }
}

/// Scores the FRANK sample (8 articles x 5 systems) into `name` with extra flags.
fn score_sample(dir: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let o = kpeval()
        .arg("score")
        .arg(fixture("frank-sample.jsonl"))
        .args(["--metrics", "rouge", "-q", "-o"])
        .arg(&out)
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    out
}

/// Regression (review of session 8): a corrupt line in the middle of a file was skipped as a
/// "torn last line", and (id, system) repeated with different content kept whichever came first.
#[test]
fn merge_refuses_corrupt_middle_lines_and_conflicting_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let full = score_sample(d, "full.jsonl", &[]);
    let text = std::fs::read_to_string(&full).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    // torn line in the middle: refused with its line
    let mid = format!("{}\n{{\"broken\":\n{}\n", lines[..3].join("\n"), lines[3..].join("\n"));
    std::fs::write(d.join("mid.jsonl"), mid).unwrap();
    let o = run(&[
        "merge",
        d.join("mid.jsonl").to_str().unwrap(),
        "-o",
        d.join("m1.jsonl").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("mid.jsonl:4"), "{}", stderr(&o));
    // torn last line: still skipped with a warning
    let torn = format!("{}\n{}", lines[..39].join("\n"), &lines[39][..lines[39].len() / 2]);
    std::fs::write(d.join("torn.jsonl"), torn).unwrap();
    let o = run(&[
        "merge",
        d.join("torn.jsonl").to_str().unwrap(),
        "-o",
        d.join("m2.jsonl").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("torn last line"), "{}", stderr(&o));
    assert_eq!(records(&d.join("m2.jsonl")).len(), 39);
    // the same file twice: identical duplicates are dropped
    let o = run(&[
        "merge",
        full.to_str().unwrap(),
        full.to_str().unwrap(),
        "-o",
        d.join("m3.jsonl").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(records(&d.join("m3.jsonl")).len(), 40);
    assert!(stderr(&o).contains("40 duplicate(s) dropped"), "{}", stderr(&o));
    // the same (id, system) with other content: refused, naming both places
    let mut other: Value = serde_json::from_str(lines[0]).unwrap();
    other["summary"]["text"] = Value::from("A different summary.");
    std::fs::write(d.join("other.jsonl"), format!("{other}\n")).unwrap();
    let o = run(&[
        "merge",
        full.to_str().unwrap(),
        d.join("other.jsonl").to_str().unwrap(),
        "-o",
        d.join("m4.jsonl").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("other.jsonl:1") && stderr(&o).contains("full.jsonl:1"),
        "{}",
        stderr(&o)
    );
    // --seed other than the records' own: refused (the aggregate must equal the single run's)
    let o = run(&[
        "merge",
        full.to_str().unwrap(),
        "-o",
        d.join("m5.jsonl").to_str().unwrap(),
        "--seed",
        "7",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!d.join("m5.jsonl").exists());
}

/// Regression (review of session 8): compare mixed files scored with different metric
/// settings, let a repeated (id, system) overwrite another, and reported p = 0.001 on one record.
#[test]
fn compare_checks_settings_duplicates_and_paired_size() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let full = score_sample(d, "full.jsonl", &[]);
    let nostem = score_sample(d, "nostem.jsonl", &["--no-stemmer"]);
    let text = std::fs::read_to_string(&full).unwrap();
    let only = |sys: &str, name: &str| -> PathBuf {
        let p = d.join(name);
        let keep: Vec<&str> = text
            .lines()
            .filter(|l| serde_json::from_str::<Value>(l).unwrap()["system"] == sys)
            .collect();
        std::fs::write(&p, keep.join("\n") + "\n").unwrap();
        p
    };
    let bart = only("bart", "bart.jsonl");
    let pgn_nostem = {
        let p = d.join("pgn-nostem.jsonl");
        let t = std::fs::read_to_string(&nostem).unwrap();
        let keep: Vec<&str> = t
            .lines()
            .filter(|l| serde_json::from_str::<Value>(l).unwrap()["system"] == "pgn")
            .collect();
        std::fs::write(&p, keep.join("\n") + "\n").unwrap();
        p
    };
    let o = run(&[
        "compare",
        bart.to_str().unwrap(),
        pgn_nostem.to_str().unwrap(),
        "--metrics",
        "rouge1.f1",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("stem:"), "{}", stderr(&o));
    // the same system in two files
    let o =
        run(&["compare", full.to_str().unwrap(), bart.to_str().unwrap(), "--metrics", "rouge1.f1"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("more than once"), "{}", stderr(&o));
    // a system with one record: the paired set would be 1 record, refused
    let first: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let mut lone = first.clone();
    lone["system"] = Value::from("zz_new");
    std::fs::write(d.join("lone.jsonl"), format!("{lone}\n")).unwrap();
    let o = run(&[
        "compare",
        full.to_str().unwrap(),
        d.join("lone.jsonl").to_str().unwrap(),
        "--metrics",
        "rouge1.f1",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("at least 2"), "{}", stderr(&o));
    // records missing for one system are counted and reported
    let short = d.join("short.jsonl");
    let keep: Vec<&str> = text
        .lines()
        .filter(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["system"] != "bart" || v["id"] != first["id"]
        })
        .collect();
    std::fs::write(&short, keep.join("\n") + "\n").unwrap();
    let json = d.join("cmp.json");
    let o = run(&[
        "compare",
        short.to_str().unwrap(),
        "--metrics",
        "rouge1.f1",
        "--ar-trials",
        "200",
        "-o",
        json.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("1 record id(s) are not scored for every system"),
        "{}",
        stderr(&o)
    );
    let c: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(c["paired_records"], 7);
    assert_eq!(c["excluded_records"], 1);
    assert_eq!(c["records_per_system"]["bart"], 7);
    assert_eq!(c["records_per_system"]["pgn"], 8);
    assert!(
        c["signature"]
            .as_str()
            .unwrap()
            .ends_with("compare:bootstrap:1000|ar-trials:200|seed:12345"),
        "{}",
        c["signature"]
    );
    // unknown metric and zero resamples: refused
    let o = run(&["compare", full.to_str().unwrap(), "--metrics", "rouge9.f1"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("rouge9.f1"), "{}", stderr(&o));
    let o = run(&["compare", full.to_str().unwrap(), "--bootstrap", "0"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// Regression (review of session 8): `-o` naming an input emptied it; --resume into a file
/// that is not kpeval's cut it to nothing; a non-integer numeric id was rewritten.
#[test]
fn outputs_never_destroy_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = d.join("in.jsonl");
    std::fs::copy(fixture("frank-sample.jsonl"), &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    for cmd in ["score", "run"] {
        let o = run(&[
            cmd,
            input.to_str().unwrap(),
            "--metrics",
            "rouge",
            "-o",
            input.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2), "{cmd}: {}", stderr(&o));
        assert!(stderr(&o).contains("also an output"), "{}", stderr(&o));
        assert_eq!(std::fs::read(&input).unwrap(), before, "{cmd} left its input as it was");
    }
    // --resume into a file whose lines are not kpeval records
    let foreign = d.join("foreign.jsonl");
    std::fs::write(&foreign, "{\"hello\": 1}\n{\"id\": \"x\"}\n").unwrap();
    let o = run(&[
        "score",
        input.to_str().unwrap(),
        "--metrics",
        "rouge",
        "-o",
        foreign.to_str().unwrap(),
        "--resume",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("foreign.jsonl:1"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&foreign).unwrap(), "{\"hello\": 1}\n{\"id\": \"x\"}\n");
    // Regression (#19): a one-line file without a newline was taken for a torn line and cut to
    // nothing; a file without one whole kpeval record is refused and left as it is.
    let notes = d.join("notes.json");
    std::fs::write(&notes, "{\"important\":1}").unwrap();
    let o = run(&[
        "run",
        fixture("venezuela-drug-talks.txt").to_str().unwrap(),
        "--metrics",
        "overlap",
        "-o",
        notes.to_str().unwrap(),
        "--resume",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("no whole kpeval record"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "{\"important\":1}");
    // an empty file (a run killed before its first record) resumes
    let empty = d.join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let o = run(&[
        "run",
        fixture("venezuela-drug-talks.txt").to_str().unwrap(),
        "--metrics",
        "overlap",
        "-o",
        empty.to_str().unwrap(),
        "--resume",
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(records(&empty).len(), 1);
    // numeric ids: integers keep their digits, other numbers are refused
    let nums = d.join("nums.jsonl");
    std::fs::write(&nums, "{\"id\": 12345678901234567, \"article\": \"One. Two.\", \"key_points\": [\"One.\"]}\n{\"id\": 1e3, \"article\": \"One. Two.\", \"key_points\": [\"One.\"]}\n").unwrap();
    let out = d.join("nums-out.jsonl");
    let o = run(&[
        "run",
        nums.to_str().unwrap(),
        "--metrics",
        "rouge",
        "-o",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let recs = records(&out);
    assert!(
        recs.iter().any(|r| r["id"] == "12345678901234567" && r["error"].is_null()),
        "{recs:?}"
    );
    assert!(
        recs.iter().any(|r| r["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("1000.0") || m.contains("number"))),
        "{recs:?}"
    );
}

/// Regression (review of session 8): meta-eval with names that match nothing printed an empty
/// table and exited 0; its JSON had no signature.
#[test]
fn meta_eval_refuses_names_that_match_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let scored = dir.path().join("se.jsonl");
    let o = run(&[
        "score",
        fixture("summeval-sample.jsonl").to_str().unwrap(),
        "--id-field",
        "article_id",
        "--system-field",
        "summary_id",
        "--metrics",
        "rouge",
        "-o",
        scored.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(&["meta-eval", scored.to_str().unwrap(), "--human", "relevanc"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("relevanc"), "{}", stderr(&o));
    let json = dir.path().join("m.json");
    let o = run(&[
        "meta-eval",
        scored.to_str().unwrap(),
        "--human",
        "relevance",
        "--metrics",
        "rouge1.f1",
        "--bootstrap",
        "100",
        "-o",
        json.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert!(v["signature"].as_str().unwrap().contains("rouge:"), "{v}");
    assert!(v["kpeval"].is_string());
    // ids that name summaries, not documents: the document level is undefined, and said so
    let per_summary = dir.path().join("per-summary.jsonl");
    let o = run(&[
        "score",
        fixture("summeval-sample.jsonl").to_str().unwrap(),
        "--id-field",
        "article_id,summary_id",
        "--metrics",
        "rouge",
        "-o",
        per_summary.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(&[
        "meta-eval",
        per_summary.to_str().unwrap(),
        "--human",
        "relevance",
        "--metrics",
        "rouge1.f1",
        "--bootstrap",
        "100",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("every document id has a single summary"), "{}", stderr(&o));
}

/// Regression (review of session 8): two datasets of one name wrote to the same folder, the
/// second overwriting the first; a repeated system was scored twice.
#[test]
fn experiment_config_refuses_repeated_datasets_and_systems() {
    let dir = tempfile::tempdir().unwrap();
    let data = fixture("frank-sample.jsonl");
    let cfg = |datasets: &str, systems: &str| {
        let p = dir.path().join("exp.toml");
        std::fs::write(&p, format!("name = \"x\"\n{datasets}{systems}")).unwrap();
        p
    };
    let ds =
        |name: &str| format!("[[datasets]]\nname = \"{name}\"\npath = \"{}\"\n", data.display());
    let sys = |s: &str| format!("[[systems]]\nsummarizer = \"{s}\"\n");
    let out = dir.path().join("out");
    let o = run(&[
        "experiment",
        cfg(&(ds("d") + &ds("d")), &sys("lead-3")).to_str().unwrap(),
        "--output-dir",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("'d' is used twice"), "{}", stderr(&o));
    let o = run(&[
        "experiment",
        cfg(&ds("d"), &(sys("lead-3") + &sys("lead-3"))).to_str().unwrap(),
        "--output-dir",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("repeats systems[0]"), "{}", stderr(&o));
    assert!(!out.join("d").exists(), "nothing ran");
    // the valid config runs
    let o = run(&[
        "experiment",
        cfg(&ds("d"), &(sys("lead-3") + &sys("textrank-3"))).to_str().unwrap(),
        "--output-dir",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(records(&out.join("d/records.jsonl")).len(), 16);
}

/// Regression (review of session 8): an id used by two different articles kept the first and
/// dropped the second with only a count; `score` of a file given twice wrote every record twice.
#[test]
fn repeated_ids_are_processed_once_and_conflicting_ids_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = fixture("frank-sample.jsonl");
    let out = d.join("twice.jsonl");
    let o = run(&[
        "score",
        input.to_str().unwrap(),
        input.to_str().unwrap(),
        "--metrics",
        "rouge",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(records(&out).len(), 40, "the same file twice gives each record once");
    assert!(stderr(&o).contains("8 repeated input(s) processed once"), "{}", stderr(&o));
    // two text files with the same name in different folders, different articles
    let article = std::fs::read_to_string(fixture("venezuela-drug-talks.txt")).unwrap();
    for (sub, text) in [("a", article.clone()), ("b", article.replace("Maduro", "The president"))] {
        std::fs::create_dir_all(d.join(sub)).unwrap();
        std::fs::write(d.join(sub).join("story.txt"), text).unwrap();
    }
    let out = d.join("stories.jsonl");
    let o = run(&[
        "run",
        d.join("a/story.txt").to_str().unwrap(),
        d.join("b/story.txt").to_str().unwrap(),
        "--metrics",
        "rouge",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("b/story.txt")
            && err.contains("a/story.txt")
            && err.contains("already used by different content"),
        "{err}"
    );
    assert_eq!(records(&out).len(), 1);
}

/// Regression (#19): a symlink loop inside an input folder made the walk run for minutes with
/// memory growing past 2 GB; a FIFO with an input file's name blocked the run forever. Each
/// folder is walked once (by device and inode) and a FIFO is an error record; the batch goes on.
#[test]
fn folder_walk_survives_symlink_loops_and_fifos() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("d");
    std::fs::create_dir_all(d.join("sub")).unwrap();
    std::fs::copy(fixture("venezuela-drug-talks.txt"), d.join("a.txt")).unwrap();
    std::os::unix::fs::symlink(&d, d.join("self")).unwrap();
    std::os::unix::fs::symlink("../", d.join("sub/up")).unwrap();
    let fifo = d.join("pipe.jsonl");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let out = dir.path().join("o.jsonl");
    let mut child = kpeval()
        .args([
            "run",
            d.to_str().unwrap(),
            "--metrics",
            "overlap",
            "-q",
            "-o",
            out.to_str().unwrap(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // a hang guard, not a timing: the run takes well under a second
    let t0 = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t0.elapsed().as_secs() > 120 {
            child.kill().unwrap();
            panic!("kpeval run over a folder with a symlink loop and a FIFO did not finish");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(1), "one record failed (the FIFO)");
    let recs = records(&out);
    assert_eq!(recs.len(), 2, "{recs:?}");
    let ok: Vec<&Value> = recs.iter().filter(|r| r["error"].is_null()).collect();
    assert_eq!(ok.len(), 1, "the article once, not once per path through the loop");
    let err = recs.iter().find(|r| !r["error"].is_null()).unwrap();
    let msg = err["error"]["message"].as_str().unwrap();
    assert!(msg.contains("pipe.jsonl") && msg.contains("not a regular file"), "{msg}");
}

/// Regression (#19): two concurrent runs into one results file (a resume and another setting)
/// left an invalid line and both could exit 0. The first holds an exclusive lock on `-o` and its
/// sidecars; the second is refused with exit 2 naming the file, and the first ends intact.
#[test]
fn one_writer_per_results_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = many_records(dir.path());
    let out = dir.path().join("out.jsonl");
    let first = [
        "run",
        input.to_str().unwrap(),
        "--summarizer",
        "textrank-3",
        "--metrics",
        "rouge,bleu",
        "--batch-size",
        "2",
        "-q",
        "--resume",
        "-o",
        out.to_str().unwrap(),
    ];
    let mut child =
        kpeval().args(first).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let t0 = std::time::Instant::now();
    while std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0) == 0 && t0.elapsed().as_secs() < 60
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let second = run(&[
        "run",
        input.to_str().unwrap(),
        "--summarizer",
        "lead-2",
        "--metrics",
        "rouge",
        "-q",
        "--resume",
        "-o",
        out.to_str().unwrap(),
    ]);
    let finished_first = child.try_wait().unwrap().is_some();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    if !finished_first {
        assert_eq!(second.status.code(), Some(2), "{}", stderr(&second));
        assert!(
            stderr(&second).contains("out.jsonl: another kpeval run is writing this file"),
            "{}",
            stderr(&second)
        );
    }
    let recs = records(&out);
    assert_eq!(recs.len(), 3200);
    assert!(recs.iter().all(|r| r["summary"]["system"] == "textrank-3"));
}

/// Regression (#19): UTF-16 input gave one "invalid UTF-8" error per line (a JSONL file) or an
/// unnamed failure. A text article with a byte-order mark is decoded; without one, and any
/// UTF-16 JSON Lines file, gives one error record naming UTF-16.
#[test]
fn utf16_inputs_are_decoded_or_named() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text = std::fs::read_to_string(fixture("venezuela-drug-talks.txt")).unwrap();
    let le: Vec<u8> = text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    std::fs::write(d.join("bom.txt"), [&[0xFF, 0xFE][..], &le].concat()).unwrap();
    std::fs::write(d.join("nobom.txt"), &le).unwrap();
    let jsonl = std::fs::read_to_string(fixture("frank-sample.jsonl")).unwrap();
    std::fs::write(
        d.join("lines.jsonl"),
        [
            &[0xFF, 0xFE][..],
            &jsonl.encode_utf16().flat_map(|u| u.to_le_bytes()).collect::<Vec<u8>>(),
        ]
        .concat(),
    )
    .unwrap();
    let out = d.join("out.jsonl");
    let o = run(&[
        "run",
        d.join("bom.txt").to_str().unwrap(),
        d.join("nobom.txt").to_str().unwrap(),
        d.join("lines.jsonl").to_str().unwrap(),
        "--metrics",
        "overlap",
        "-q",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let recs = records(&out);
    assert_eq!(recs.len(), 3, "one record per input: {recs:?}");
    assert!(recs[0]["error"].is_null(), "{}", recs[0]);
    assert_eq!(recs[0]["key_points"].as_array().unwrap().len(), 4);
    for (r, name) in recs[1..].iter().zip(["nobom.txt", "lines.jsonl"]) {
        let msg = r["error"]["message"].as_str().unwrap();
        assert!(msg.contains(name) && msg.contains("UTF-16"), "{msg}");
    }
}

/// Regression (#19): key-point matching padded to a square, O(n³): 10,000 Key Developments did
/// not finish in 2 minutes. Now a rectangle (O(n²·m), n ≤ m), and bounded with a note beyond.
#[test]
fn ten_thousand_key_developments() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("many-kd.jsonl");
    let kds: Vec<String> = (0..10_000)
        .map(|i| format!("Development number {i} happened in city {}.", i % 97))
        .collect();
    let rec = serde_json::json!({"id": "big", "article": "Talks began in city 5. Development number 7 happened. Ministers left.", "key_points": kds, "summary": "Talks began in city 5.\nDevelopment number 7 happened.\nMinisters left."});
    std::fs::write(&input, format!("{rec}\n")).unwrap();
    let out = dir.path().join("o.jsonl");
    let o = run(&[
        "score",
        input.to_str().unwrap(),
        "--metrics",
        "kp-rouge",
        "-q",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = &records(&out)[0];
    assert_eq!(r["scores"]["kp_rouge"]["key_points"].as_array().unwrap().len(), 10_000);
    assert_eq!(r["scores"]["kp_rouge"]["alignment"].as_array().unwrap().len(), 3);
}
