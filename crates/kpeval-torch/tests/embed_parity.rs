//! Sentence embeddings equal sentence-transformers' on the real all-MiniLM-L6-v2 (fixtures from
//! eval/reference/gen_embedding_fixtures.py). Needs the model store (`make setup`).
use kpeval_torch::embed::SentenceEmbedder;
use std::path::Path;

#[test]
fn minilm_matches_sentence_transformers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let store = root.join("models/store/all-MiniLM-L6-v2");
    assert!(
        store.join("model.safetensors").is_file(),
        "model store missing: run `make setup` ({})",
        store.display()
    );
    let fx: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("tests/fixtures/minilm_embeddings.json")).unwrap(),
    )
    .unwrap();
    let texts: Vec<String> =
        fx["texts"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_string()).collect();
    let expected: Vec<Vec<f64>> = fx["embeddings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect())
        .collect();
    let emb = SentenceEmbedder::load(&store, tch::Device::Cpu).unwrap();
    assert_eq!(emb.max_len, fx["max_seq_length"].as_u64().unwrap() as usize);
    let mut first: Option<Vec<Vec<f32>>> = None;
    for batch in [1usize, 7, 64] {
        emb.set_batch_size(batch);
        let got = emb.embed(&texts).unwrap();
        // the same path with other texts beside each one: the same bits
        match &first {
            None => first = Some(got.clone()),
            Some(f) => assert!(
                f.iter()
                    .zip(&got)
                    .all(|(a, b)| a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())),
                "batch {batch}: vectors changed with the batch (packs: {})",
                emb.packs()
            ),
        }
        assert_eq!(got.len(), expected.len());
        let mut max_diff = 0f64;
        for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
            assert_eq!(g.len(), e.len(), "text {i}");
            for (a, b) in g.iter().zip(e) {
                max_diff = max_diff.max((*a as f64 - b).abs());
            }
        }
        eprintln!(
            "MiniLM parity, batch {batch}: {} texts x {} dims, max abs diff {max_diff:.3e}",
            got.len(),
            got[0].len()
        );
        assert!(max_diff <= 1e-5, "batch {batch}: max abs diff {max_diff}");
    }
}

/// `kp_tok`'s similarity equals bert-score 0.3.13 (MiniLM, layer 6, no idf) on every pair of
/// tests/fixtures/kp_tok_expected.json (eval/reference/gen_kp_tok_fixtures.py): rec = recall of
/// the reference key point, prec = precision of the generated point.
#[test]
fn kp_tok_matches_bert_score() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let store = root.join("models/store/all-MiniLM-L6-v2");
    assert!(
        store.join("model.safetensors").is_file(),
        "model store missing: run `make setup` ({})",
        store.display()
    );
    let fx: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("tests/fixtures/kp_tok_expected.json")).unwrap(),
    )
    .unwrap();
    let pairs = fx["pairs"].as_array().unwrap();
    assert!(pairs.len() >= 200);
    let emb = SentenceEmbedder::load(&store, tch::Device::Cpu).unwrap();
    let (mut max_r, mut max_p) = (0f64, 0f64);
    for (i, p) in pairs.iter().enumerate() {
        let k = p["reference"].as_str().unwrap().to_string();
        let g = p["generated"].as_str().unwrap().to_string();
        let v = emb.token_vectors(&[k, g]).unwrap();
        assert!(
            v[0].special[0] && *v[0].special.last().unwrap() && !v[0].special[1],
            "pair {i}: [CLS]/[SEP] flagged"
        );
        let (rec, prec) = kpeval::scoring::token_alignment(&v[0], &v[1]);
        max_r = max_r.max((rec - p["rec"].as_f64().unwrap()).abs());
        max_p = max_p.max((prec - p["prec"].as_f64().unwrap()).abs());
    }
    eprintln!(
        "kp_tok vs bert-score: {} pairs, max |diff| recall {max_r:.2e}, precision {max_p:.2e}",
        pairs.len()
    );
    assert!(max_r <= 2e-6 && max_p <= 2e-6, "recall diff {max_r}, precision diff {max_p}");
}
