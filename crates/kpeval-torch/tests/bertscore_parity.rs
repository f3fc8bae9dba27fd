//! BERTScore equals bert-score 0.3.13 (fixtures from eval/reference/gen_bertscore_fixtures.py):
//! the model store's all-MiniLM-L6-v2 (layers 6 and 3, idf off/on, baseline rescaling) and the
//! tiny random RoBERTa of the NLI fixtures (layer 1, idf). Needs the model store (`make setup`).
use kpeval::scoring::ScoreInput;
use kpeval_torch::bertscore::{bertscore_metric, read_baseline, BertScorer};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixtures() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/bertscore_expected.json")).unwrap(),
    )
    .unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
}

fn check(run: &str) {
    let fx = fixtures();
    let r = &fx["runs"][run];
    let model = root().join(r["model"].as_str().unwrap());
    assert!(model.join("config.json").is_file(), "missing {}: run `make setup`", model.display());
    let baseline = r["baseline"].as_str().map(|b| root().join(b));
    let scorer = BertScorer::load(
        model.to_str().unwrap(),
        r["num_layers"].as_u64().unwrap() as usize,
        r["idf"].as_bool().unwrap(),
        baseline.as_deref(),
        tch::Device::Cpu,
    )
    .unwrap();
    let (cands, refs) = (strings(&fx["candidates"]), strings(&fx["references"]));
    let got = scorer.score_pairs(&cands, &refs).unwrap();
    let mut max = [0f64; 3];
    for (i, g) in got.iter().enumerate() {
        for (k, key) in ["precision", "recall", "f1"].iter().enumerate() {
            let want = r[key][i].as_f64().unwrap();
            let d = (g[k] - want).abs();
            assert!(d <= 1e-5, "{run} pair {i} {key}: got {}, bert-score {want}", g[k]);
            max[k] = max[k].max(d);
        }
    }
    eprintln!(
        "BERTScore {run} ({}): {} pairs, max abs diff P {:.2e} R {:.2e} F {:.2e}",
        scorer.signature(),
        got.len(),
        max[0],
        max[1],
        max[2]
    );
}

#[test]
fn minilm_layer6() {
    check("minilm_l6");
}

#[test]
fn minilm_layer6_idf() {
    check("minilm_l6_idf");
}

#[test]
fn minilm_layer6_rescaled() {
    check("minilm_l6_rescaled");
}

#[test]
fn minilm_layer3() {
    check("minilm_l3");
}

#[test]
fn tiny_roberta_layer1_idf() {
    check("tiny_roberta_l1_idf");
}

/// The metric scores the summary against the key points joined with spaces, batched.
#[test]
fn metric_output_shape() {
    let fx = fixtures();
    let r = &fx["runs"]["minilm_l6"];
    let m = bertscore_metric(
        &root().join("models/store/all-MiniLM-L6-v2"),
        6,
        false,
        None,
        tch::Device::Cpu,
    )
    .unwrap();
    let cands = strings(&fx["candidates"]);
    let refs = strings(&fx["references"]);
    // Reference i is already the joined key points; split it back into two "key points".
    let kps: Vec<Vec<String>> = refs
        .iter()
        .map(|s| {
            let w: Vec<&str> = s.splitn(2, " . ").collect();
            if w.len() == 2 {
                vec![format!("{} .", w[0]), w[1].to_string()]
            } else {
                vec![s.clone()]
            }
        })
        .collect();
    let inputs: Vec<ScoreInput> = (0..3)
        .map(|i| ScoreInput {
            generated: &[],
            summary: &cands[i],
            references: &kps[i],
            article: "",
        })
        .collect();
    let out = m.score_batch(&inputs);
    for (i, o) in out.iter().enumerate() {
        let o = o.as_ref().unwrap();
        assert_eq!(o[0].0, "bertscore");
        for key in ["precision", "recall", "f1"] {
            assert!(
                (o[0].1[key].as_f64().unwrap() - r[key][i].as_f64().unwrap()).abs() <= 1e-5,
                "{i} {key}"
            );
        }
    }
    assert!(m.signature().starts_with("bertscore:model=all-MiniLM-L6-v2@"), "{}", m.signature());
    assert_eq!(
        read_baseline(&root().join("tests/fixtures/bertscore_baseline.tsv"), 6).unwrap(),
        [0.56, 0.57, 0.565]
    );
}

/// A pair's scores do not depend on the pairs scored with it: the fixture's pairs scored all
/// together and one by one (by a scorer of its own, so every text's vectors were computed in
/// a pack of at most two texts) give the same bits.
#[test]
fn scores_do_not_depend_on_the_batch() {
    let fx = fixtures();
    let model = root().join("models/store/all-MiniLM-L6-v2");
    assert!(model.join("config.json").is_file(), "missing {}: run `make setup`", model.display());
    let load =
        || BertScorer::load(model.to_str().unwrap(), 6, false, None, tch::Device::Cpu).unwrap();
    let (cands, refs) = (strings(&fx["candidates"]), strings(&fx["references"]));
    let together = load().score_pairs(&cands, &refs).unwrap();
    let alone = load();
    for (i, want) in together.iter().enumerate() {
        let got = alone.score_pairs(&cands[i..=i], &refs[i..=i]).unwrap();
        assert!(
            got[0].iter().zip(want).all(|(a, b)| a.to_bits() == b.to_bits()),
            "pair {i}: {:?} alone, {want:?} in the batch",
            got[0]
        );
    }
}
