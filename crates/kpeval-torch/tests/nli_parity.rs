//! NLI probabilities equal transformers' on tiny random-weight sequence classifiers of every
//! supported architecture (fixtures from eval/reference/gen_nli_fixtures.py); the label order
//! comes from config.json; faithfulness chunks long articles.
use kpeval::scoring::{Metric, ScoreInput};
use kpeval_torch::nli::{label_order, FaithfulnessMetric, NliMetrics, NliModel};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixtures() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/nli_expected.json")).unwrap(),
    )
    .unwrap()
}

fn model_dir(name: &str) -> PathBuf {
    root().join("tests/fixtures/models").join(name)
}

fn pairs(fx: &Value) -> Vec<(String, String)> {
    fx["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_str().unwrap().to_string(), p[1].as_str().unwrap().to_string()))
        .collect()
}

/// Loads the tiny model, checks token ids, truncation counts and probabilities for several batch
/// sizes; returns the max abs difference.
fn parity(name: &str) -> f64 {
    let fx = fixtures();
    let exp = &fx["models"][name];
    let results = exp["results"].as_array().unwrap();
    let pairs = pairs(&fx);
    let mut model = NliModel::load(model_dir(name).to_str().unwrap(), tch::Device::Cpu).unwrap();
    assert_eq!(model.max_len, fx["max_len"].as_u64().unwrap() as usize, "{name}: max length");
    // name@<first 12 hex digits of the weights' sha256>(<runtime>)
    let full = model.name();
    let rev = full.strip_prefix(&format!("{name}@")).map(|r| &r[..12.min(r.len())]).unwrap_or("");
    assert!(rev.len() == 12 && rev.bytes().all(|b| b.is_ascii_hexdigit()), "{name}: {full}");
    assert!(
        full.ends_with(&format!("@{rev}(torch-2.4.0/cpu/threads={})", tch::get_num_threads())),
        "{name}: {full}"
    );

    // Tokenization first, so that a mismatch is reported as such.
    let enc = model.encode(&pairs);
    let mut bad_ids = Vec::new();
    for (i, ((ids, cut), r)) in enc.iter().zip(results).enumerate() {
        let want: Vec<i64> =
            r["input_ids"].as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect();
        if *ids != want {
            bad_ids.push(format!("pair {i}:\n  got  {ids:?}\n  want {want:?}"));
        }
        assert_eq!(
            *cut as u64,
            r["truncated"].as_u64().unwrap(),
            "{name} pair {i}: truncated tokens"
        );
    }
    assert!(
        bad_ids.is_empty(),
        "{name}: token ids differ from transformers:\n{}",
        bad_ids.join("\n")
    );

    let mut max_diff = 0f64;
    for batch in [32usize, 1, 5] {
        model.batch_size = batch;
        let got = model.predict(&pairs).unwrap();
        assert_eq!(got.len(), results.len());
        let mut diff = 0f64;
        for (i, (g, r)) in got.iter().zip(results).enumerate() {
            let n = &r["named"];
            for (a, key) in [
                (g.entailment, "entailment"),
                (g.neutral, "neutral"),
                (g.contradiction, "contradiction"),
            ] {
                let d = (a - n[key].as_f64().unwrap()).abs();
                assert!(
                    d <= 1e-5,
                    "{name} batch {batch} pair {i} {key}: got {a}, transformers {}",
                    n[key]
                );
                diff = diff.max(d);
            }
            assert!((g.entailment + g.neutral + g.contradiction - 1.0).abs() < 1e-5);
            assert_eq!(g.truncated as u64, r["truncated"].as_u64().unwrap());
        }
        eprintln!(
            "{name} ({:?}): {} pairs, batch {batch}: max abs diff {diff:.3e}",
            model.arch,
            got.len()
        );
        max_diff = max_diff.max(diff);
    }
    max_diff
}

#[test]
fn roberta_matches_transformers() {
    parity("tiny-nli-roberta");
}

#[test]
fn bart_matches_transformers() {
    parity("tiny-nli-bart");
}

#[test]
fn deberta_v1_matches_transformers() {
    parity("tiny-nli-deberta");
}

#[test]
fn deberta_v2_matches_transformers() {
    parity("tiny-nli-deberta-v2");
}

#[test]
fn bert_cross_encoder_matches_transformers() {
    parity("tiny-nli-bert");
}

/// The BERT fixture's order is {0: contradiction, 1: entailment, 2: neutral}; rewriting id2label
/// (weights unchanged) must move the names with it.
#[test]
fn label_order_is_read_from_config() {
    let fx = fixtures();
    let exp = &fx["models"]["tiny-nli-bert"];
    assert_eq!(exp["id2label"]["0"], "contradiction");
    let pairs: Vec<(String, String)> = pairs(&fx).into_iter().take(6).collect();
    let orig =
        NliModel::load(model_dir("tiny-nli-bert").to_str().unwrap(), tch::Device::Cpu).unwrap();
    let a = orig.predict(&pairs).unwrap();
    for (g, r) in a.iter().zip(exp["results"].as_array().unwrap()) {
        let raw: Vec<f64> =
            r["probs"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
        assert!(
            (g.contradiction - raw[0]).abs() < 1e-5
                && (g.entailment - raw[1]).abs() < 1e-5
                && (g.neutral - raw[2]).abs() < 1e-5
        );
    }

    let tmp = std::env::temp_dir().join(format!("kpeval-nli-labels-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    for f in std::fs::read_dir(model_dir("tiny-nli-bert")).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, tmp.join(f.file_name().unwrap())).unwrap();
    }
    let mut cfg: Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.join("config.json")).unwrap()).unwrap();
    cfg["id2label"] = serde_json::json!({"0": "ENTAILMENT", "1": "Neutral", "2": "contradiction"});
    cfg["label2id"] = serde_json::json!({"ENTAILMENT": 0, "Neutral": 1, "contradiction": 2});
    std::fs::write(tmp.join("config.json"), serde_json::to_string_pretty(&cfg).unwrap()).unwrap();
    let permuted = NliModel::load(tmp.to_str().unwrap(), tch::Device::Cpu).unwrap();
    let b = permuted.predict(&pairs).unwrap();
    for (x, y) in a.iter().zip(&b) {
        // Logit 0 is now "entailment", 1 "neutral", 2 "contradiction".
        assert!((y.entailment - x.contradiction).abs() < 1e-9);
        assert!((y.neutral - x.entailment).abs() < 1e-9);
        assert!((y.contradiction - x.neutral).abs() < 1e-9);
    }
    // Unnamed or ambiguous labels are refused rather than guessed.
    cfg["id2label"] = serde_json::json!({"0": "LABEL_0", "1": "LABEL_1", "2": "LABEL_2"});
    std::fs::write(tmp.join("config.json"), serde_json::to_string_pretty(&cfg).unwrap()).unwrap();
    let err = NliModel::load(tmp.to_str().unwrap(), tch::Device::Cpu)
        .err()
        .expect("unnamed labels must be refused")
        .to_string();
    assert!(err.contains("label order unknown"), "{err}");
    std::fs::remove_dir_all(&tmp).unwrap();

    assert!(label_order(
        &serde_json::json!({"id2label": {"0": "entailment", "1": "not_entailment"}})
    )
    .is_err());
    assert_eq!(label_order(&serde_json::json!({"id2label": {"0": "Contradiction", "1": "Neutral", "2": "Entailment"}})).unwrap(), ([2, 1, 0], 3));
}

/// A long article is split into several chunks that fit; per_point has one entry per key point;
/// the kp_nli similarity is P(entailment | generated, reference).
#[test]
fn faithfulness_chunks_long_articles() {
    let model = Arc::new(
        NliModel::load(model_dir("tiny-nli-roberta").to_str().unwrap(), tch::Device::Cpu).unwrap(),
    );
    // An "article" of short sentences: the SNLI premises, one paragraph.
    let article = pairs(&fixtures())
        .iter()
        .take(20)
        .map(|(p, _)| p.trim().to_string())
        .collect::<Vec<_>>()
        .join(" ");
    let generated: Vec<String> = vec![
        "The talks on drug trafficking took place in Caracas.".into(),
        "Officials met again.".into(),
        "A third key point that says something else entirely about the talks.".into(),
    ];
    let references: Vec<String> =
        vec!["Talks were held.".into(), "No agreement was reached.".into()];
    let faith = FaithfulnessMetric::new(model.clone());
    let budget = faith.budget(&generated);
    assert!(budget < model.max_len && budget >= model.max_len / 4, "budget {budget}");
    let chunks = model.chunk_article(&article, budget);
    assert!(chunks.len() >= 3, "{} chunks", chunks.len());
    let sentences = kpeval::keypoints::split_sentences(&article);
    assert!(sentences.len() > chunks.len(), "chunks should group several sentences");
    // Chunks are consecutive sentences, in order, covering the article.
    assert_eq!(chunks.join(" "), sentences.join(" "));
    for c in &chunks {
        let n = model.count_tokens(c);
        let single = kpeval::keypoints::split_sentences(c).len() == 1;
        assert!(n <= budget || single, "chunk of {n} tokens > budget {budget}: {c}");
    }

    let input = ScoreInput {
        generated: &generated,
        summary: "",
        references: &references,
        article: &article,
    };
    let out = faith.score(&input).unwrap();
    assert_eq!(out[0].0, "faithfulness");
    let v = &out[0].1;
    let per_point = v["per_point"].as_array().unwrap();
    assert_eq!(per_point.len(), generated.len());
    assert_eq!(v["chunks"].as_u64().unwrap() as usize, chunks.len());
    // Truncation is reported: pairs whose chunk is a single sentence too long to sit beside
    // the key point within the model's 64 tokens.
    let all: Vec<(String, String)> =
        chunks.iter().flat_map(|c| generated.iter().map(move |g| (c.clone(), g.clone()))).collect();
    let cut = model.encode(&all).iter().filter(|(_, n)| *n > 0).count();
    assert_eq!(v["truncated"].as_u64().unwrap() as usize, cut);
    for (c, g) in &all {
        let n = model.count_tokens(c) + model.count_tokens(g) + model.pair_specials;
        assert!(
            n <= model.max_len || kpeval::keypoints::split_sentences(c).len() == 1,
            "a multi-sentence chunk was truncated"
        );
    }
    let mean = per_point.iter().map(|x| x.as_f64().unwrap()).sum::<f64>() / per_point.len() as f64;
    assert!((v["score"].as_f64().unwrap() - mean).abs() < 2e-6);
    // per_point = max over chunks of P(e) - P(c), computed directly.
    for (g, pp) in generated.iter().zip(per_point) {
        let pairs: Vec<(String, String)> = chunks.iter().map(|c| (c.clone(), g.clone())).collect();
        let best = model
            .predict(&pairs)
            .unwrap()
            .iter()
            .map(|p| p.entailment - p.contradiction)
            .fold(f64::NEG_INFINITY, f64::max);
        assert!((pp.as_f64().unwrap() - best).abs() < 1e-5, "{pp} vs {best}");
    }
    eprintln!(
        "faithfulness: {} sentences -> {} chunks (budget {budget} tokens): {v}",
        sentences.len(),
        chunks.len()
    );

    // No article: null score with a note, not an error.
    let empty =
        ScoreInput { generated: &generated, summary: "", references: &references, article: "" };
    let e = faith.score(&empty).unwrap();
    assert!(e[0].1["score"].is_null() && e[0].1["note"] == "no article text");

    // Both metrics together, batched over records.
    let nli = NliMetrics::new(model.clone());
    let res = nli.score_batch(&[input, empty]);
    let first = res[0].as_ref().unwrap();
    assert_eq!(
        first.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        ["faithfulness", "kp_nli"]
    );
    assert_eq!(first[0].1, *v);
    let kp = &first[1].1;
    let pairs: Vec<(String, String)> =
        generated.iter().map(|g| (g.clone(), references[0].clone())).collect();
    let direct = model.predict(&pairs).unwrap();
    let cov = kp["coverage"].as_f64().unwrap();
    let max_e = direct.iter().map(|p| p.entailment).fold(f64::NEG_INFINITY, f64::max);
    assert!((0.0..=1.0).contains(&cov));
    for a in kp["alignment"].as_array().unwrap() {
        if a["reference"] == 0 {
            let g = a["generated"].as_u64().unwrap() as usize;
            assert!((a["similarity"].as_f64().unwrap() - direct[g].entailment).abs() < 2e-6);
        }
    }
    assert!(max_e >= 0.0);
    assert!(
        nli.signature().contains("kp_nli:sim=nli-entail(tiny-nli-roberta@"),
        "{}",
        nli.signature()
    );
    // One verdict per Key Development: the best window of consecutive generated points (joined
    // with spaces) as premise, computed directly; evidence = that window's points.
    let verdicts = kp["key_points"].as_array().unwrap();
    assert_eq!(verdicts.len(), references.len());
    let windows = kpeval::judge::windows(generated.len());
    assert_eq!(windows.len(), 3 + 2 + 1);
    let mut covered = 0;
    for (k, v) in references.iter().zip(verdicts) {
        let pairs: Vec<(String, String)> =
            windows.iter().map(|w| (generated[w.clone()].join(" "), k.clone())).collect();
        let probs = model.predict(&pairs).unwrap();
        let (best, w) =
            probs.iter().zip(&windows).fold((f64::NEG_INFINITY, 0..0), |acc, (p, w)| {
                if p.entailment > acc.0 {
                    (p.entailment, w.clone())
                } else {
                    acc
                }
            });
        assert!((v["score"].as_f64().unwrap() - best).abs() < 2e-6, "{v} vs {best}");
        let ev: Vec<usize> = v["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(ev, w.collect::<Vec<_>>());
        assert_eq!(v["covered"].as_bool().unwrap(), v["score"].as_f64().unwrap() >= 0.5);
        covered += v["covered"].as_bool().unwrap() as usize;
    }
    assert!(
        (kp["coverage_at_t"].as_f64().unwrap() - covered as f64 / references.len() as f64).abs()
            < 1e-12
    );
}
